"""train(..., batch_size=, shuffle=) and gradient="exact" in training, against plain NumPy."""

import re
import time

import numpy as np
import pytest
from naive import PARAMS, XOR_X, XOR_Y, numpy_minibatch

import fastnn
from fastnn import datasets

MINIBATCH_RTOL = 1e-10  # 10 epochs of small batches: only summation order differs


def data(n=103, f=3, o=2, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    y = (rng.uniform(size=(n, o)) < 0.5).astype(float)
    return X, y


@pytest.mark.parametrize("gradient", ["tutorial", "exact"])
@pytest.mark.parametrize("batch,shuffle", [(16, True), (16, False), (1, True), (300, True), (103, False)])
def test_minibatch_matches_numpy(gradient, batch, shuffle):
    """Batches of 16 (the last one of 7 rows), single rows, one batch wider than a
    block; the shuffles come from the network's own generator, epoch by epoch."""
    X, y = data()
    epochs, lr = 10, 0.05
    net = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=np.random.default_rng(11), gradient=gradient)
    twin = np.random.default_rng(11)  # the same stream: weights first, then one permutation per epoch
    W1, W2 = twin.standard_normal((3, 5)), twin.standard_normal((5, 2))
    b1, b2 = np.zeros((1, 5)), np.zeros((1, 2))
    losses = net.train(X, y, epochs, lr, verbose=False, batch_size=batch, shuffle=shuffle)
    orders = [twin.permutation(103) if shuffle else np.arange(103) for _ in range(epochs)]
    expected = numpy_minibatch(X, y, W1, b1, W2, b2, orders, batch, lr, gradient == "exact")
    np.testing.assert_allclose(losses, expected, rtol=MINIBATCH_RTOL)
    for name, value in zip(PARAMS, [W1, b1, W2, b2]):
        np.testing.assert_allclose(getattr(net, name), value, rtol=MINIBATCH_RTOL, err_msg=name)
    np.testing.assert_array_equal(net.loss_history, losses)


@pytest.mark.parametrize("gradient", ["tutorial", "exact"])
def test_one_batch_of_everything_is_the_full_batch(gradient):
    """batch_size = n_samples without shuffling is the tutorial's full-batch descent:
    the same blocks summed in the same order, so the same weights bit for bit."""
    X, y = data(n=600)
    full = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=3, gradient=gradient)
    batched = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=3, gradient=gradient)
    full_losses = full.train(X, y, 30, 0.01, verbose=False)
    batched_losses = batched.train(X, y, 30, 0.01, verbose=False, batch_size=600, shuffle=False)
    for name in PARAMS:
        np.testing.assert_array_equal(getattr(batched, name), getattr(full, name), err_msg=name)
    np.testing.assert_allclose(batched_losses, full_losses, rtol=1e-15)


def test_shuffled_runs_repeat_exactly_from_the_seed():
    X, y = data()
    runs = []
    for seed in [4, 4, 5]:
        net = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=seed)
        # Same initial weights for all three, so that only the shuffles differ.
        net.weights_input_hidden = np.full((3, 5), 0.1)
        net.weights_hidden_output = np.full((5, 2), -0.2)
        net.train(X, y, 5, 0.05, verbose=False, batch_size=10)
        runs.append(net.weights_input_hidden.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_without_seed_shuffles_follow_numpy_global_state():
    X, y = data()
    results = []
    for _ in range(2):
        np.random.seed(8)
        net = fastnn.SimpleNeuralNetwork(3, 5, 2)
        net.train(X, y, 3, 0.05, verbose=False, batch_size=10)
        results.append(net.weights_input_hidden.copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_minibatch_leaves_activations_of_the_last_forward():
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    out = net.forward(XOR_X).copy()
    net.train(XOR_X, XOR_Y, 5, 0.1, verbose=False, batch_size=2)
    np.testing.assert_array_equal(net.output, out)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatch_divergence_keeps_the_epoch_start(dtype):
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0, dtype=dtype)
    before = [getattr(net, name).copy() for name in PARAMS]
    X, y = np.tile(XOR_X, (1000, 1)), np.ones((4000, 1))  # gradient sums in the hundreds
    with pytest.raises(FloatingPointError, match=re.escape("training diverged at epoch 0")):
        net.train(X, y, 3, 1e308 if dtype == np.float64 else 1e37, verbose=False, batch_size=1000)
    for name, value in zip(PARAMS, before):
        np.testing.assert_array_equal(getattr(net, name), value, err_msg=name)
    assert net.loss_history.shape == (0,)


def test_exact_gradient_learns_xor_faster_than_the_tutorial_rule():
    """The exact gradient does not vanish when the output saturates: the same
    10,000 epochs reach a much lower loss from the same start."""
    losses = {}
    for gradient in ["tutorial", "exact"]:
        net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0, gradient=gradient)
        losses[gradient] = net.train(XOR_X, XOR_Y, 10_000, 0.1, verbose=False)[-1]
    assert losses["exact"] < losses["tutorial"] / 2


def test_progress_bar_goes_to_stderr_and_ends_complete(capsys):
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    full_losses = net.train(XOR_X, XOR_Y, 500, 0.1, verbose="progress")
    batch_losses = net.train(XOR_X, XOR_Y, 7, 0.1, verbose="progress", batch_size=2)
    captured = capsys.readouterr()
    assert captured.out == ""  # no tutorial lines
    lines = captured.err.splitlines()  # tqdm's redraws end in carriage returns
    for epochs, losses in [(500, full_losses), (7, batch_losses)]:
        last = [line for line in lines if f"/{epochs} epochs" in line][-1]
        assert last.startswith(f"{epochs}.0/{epochs} epochs |") and "100%" not in last
        assert float(last.split("loss ")[1].split()[0]) == pytest.approx(losses[-1], rel=1e-3)


def test_progress_estimate_leaves_out_the_first_call(capsys):
    """The first call of training also compiles or loads the kernels: the bar starts
    after it, so the time left is measured from the calls after it."""
    from fastnn import _training

    report = _training.Report("progress", 100)
    time.sleep(0.3)  # as a first call that compiles would take
    report.partial(1, 0.5)
    report.partial(2, 0.4)
    bar = report.bar.format_dict
    assert bar["initial"] == 1 and bar["n"] == 2
    assert bar["elapsed"] < 0.3  # the bar's clock started after the first call
    report.close()
    assert "2.0/100 epochs" in capsys.readouterr().err


def test_moons_with_exact_gradient_and_batches_of_64_reach_96_percent_held_out():
    """The use the mini-batches are for: 10,000 noisy moons (noise 0.2), hidden 16,
    trained on 8,000, scored on the 2,000 others."""
    X, y = datasets.make_moons(10_000, noise=0.2, seed=0)
    net = fastnn.SimpleNeuralNetwork(2, 16, 1, seed=0, gradient="exact")
    net.train(X[:8000], y[:8000], 50, 0.05, verbose=False, batch_size=64)
    assert net.score(X[8000:], y[8000:]) >= 0.96
