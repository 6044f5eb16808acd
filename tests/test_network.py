"""fastnn.SimpleNeuralNetwork against the reference (the tutorial) and against hand-worked math."""

import math

import numpy as np
import pytest
from naive import ACTIVATIONS, PARAMS, XOR_X, XOR_Y, parse_losses, reference_losses

import fastnn
from fastnn import _config, reference
from fastnn._kernels import packed, rows, stream, tiny

# Tolerances, one per situation.
ONE_STEP_RTOL = 1e-12  # one forward or backward: only summation order differs
XOR_RTOL = 1e-9  # the tutorial's example, 10,000 epochs
SMOOTH_RTOL = 1e-8  # 1,000 epochs on a well-conditioned problem
# float32 against the float64 reference, 1,000 epochs of the same problem:
# each parameter within 1e-5 of its largest magnitude (float32's epsilon is
# 1.2e-7; measured 1.2e-6), each loss within a relative 1e-6 (measured 1.1e-7).
FLOAT32_SCALED_TOL = 1e-5
FLOAT32_LOSS_RTOL = 1e-6


@pytest.fixture(autouse=True)
def both_paths(path):
    """Every test here runs on every full-batch route (see conftest.path)."""


def pair(*sizes, seed=0, **kwargs):
    """A reference network and a fastnn network starting from the same weights."""
    np.random.seed(seed)
    ref = reference.SimpleNeuralNetwork(*sizes)
    np.random.seed(seed)
    fast = fastnn.SimpleNeuralNetwork(*sizes, **kwargs)
    return ref, fast


def assert_params_close(ref, fast, rtol, atol=0.0):
    for name in PARAMS:
        np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 42])
def test_tutorial_example_matches_reference(seed, capsys):
    """Step 7 of the tutorial with only the import changed: same printed losses, same predictions."""
    ref, fast = pair(2, 2, 1, seed=seed)
    ref.train(XOR_X, XOR_Y, epochs=10000, learning_rate=0.1)
    ref_lines = capsys.readouterr().out
    losses = fast.train(XOR_X, XOR_Y, epochs=10000, learning_rate=0.1)
    fast_lines = capsys.readouterr().out

    ref_pairs, fast_pairs = parse_losses(ref_lines), parse_losses(fast_lines)
    assert [e for e, _ in fast_pairs] == list(range(0, 10000, 100))
    assert [e for e, _ in fast_pairs] == [e for e, _ in ref_pairs]
    np.testing.assert_allclose([l for _, l in fast_pairs], [l for _, l in ref_pairs], rtol=XOR_RTOL)
    # The returned history holds every epoch; the printed ones are its entries.
    assert losses.shape == (10000,)
    np.testing.assert_array_equal(losses[::100], [l for _, l in fast_pairs])
    # After training the attributes hold what the tutorial's would.
    for name in ACTIVATIONS:
        np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=XOR_RTOL, err_msg=name)
    np.testing.assert_allclose(fast.forward(XOR_X), ref.forward(XOR_X), rtol=XOR_RTOL)
    assert_params_close(ref, fast, XOR_RTOL)


def test_same_initial_weights_as_tutorial():
    ref, fast = pair(3, 5, 2, seed=7)
    for name in PARAMS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name))
    assert fast.hidden_input is None and fast.output is None


def test_one_forward_and_backward_step():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(37, 6))
    y = rng.uniform(size=(37, 3))  # soft targets exercise both loss terms
    ref, fast = pair(6, 9, 3, seed=1)
    np.testing.assert_allclose(fast.forward(X), ref.forward(X), rtol=ONE_STEP_RTOL)
    for name in ACTIVATIONS:
        np.testing.assert_allclose(getattr(fast, name), getattr(ref, name), rtol=ONE_STEP_RTOL, err_msg=name)
    ref.backward(X, y, 0.05)
    assert fast.backward(X, y, 0.05) is None
    assert_params_close(ref, fast, ONE_STEP_RTOL)


@pytest.mark.parametrize("targets", ["binary", "soft"])
def test_well_conditioned_training(targets):
    """1,000 x 10 inputs, hidden 16: a small step keeps training smooth, so rounding
    differences (summation order) stay at the level of a few ulps per epoch.
    Soft targets (in (0, 1)) take the loss's general path, binary ones its shortcut."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1000, 10))
    score = X[:, :1] * X[:, 1:2] + 0.3 * X[:, 2:3]
    y = (score > 0).astype(float) if targets == "binary" else 1 / (1 + np.exp(-2 * score))
    ref, fast = pair(10, 16, 1, seed=3)
    ref_out = reference_losses(ref, X, y, 1000, 1e-3)
    losses = fast.train(X, y, 1000, 1e-3, verbose=False)
    assert losses[-1] < losses[0] * 0.8  # it did learn
    np.testing.assert_allclose(losses, ref_out, rtol=SMOOTH_RTOL)
    assert_params_close(ref, fast, SMOOTH_RTOL)


def test_hand_worked_example():
    """One sample, one input, one hidden unit, one output; every value by hand.

    W1 = ln 3, b1 = 0, W2 = 2, b2 = -1.5, x = 1, y = 1, learning rate 1:
      hidden_input  = 1 * ln 3 + 0            = ln 3
      hidden_output = 1 / (1 + 1/3)           = 0.75
      output_input  = 0.75 * 2 - 1.5          = 0
      output        = 1 / (1 + 1)             = 0.5
      loss          = -log(0.5)               = ln 2
      output_delta  = (0.5 - 1) * 0.5 * 0.5   = -0.125
      hidden_error  = -0.125 * 2              = -0.25
      hidden_delta  = -0.25 * 0.75 * 0.25     = -0.046875
      W2 -= 0.75 * -0.125                     -> 2.09375
      b2 -= -0.125                            -> -1.375
      W1 -= 1 * -0.046875                     -> ln 3 + 0.046875
      b1 -= -0.046875                         -> 0.046875
    """
    net = fastnn.SimpleNeuralNetwork(1, 1, 1)
    net.weights_input_hidden = [[math.log(3)]]
    net.bias_hidden = [[0.0]]
    net.weights_hidden_output = [[2.0]]
    net.bias_output = [[-1.5]]
    X, y = [[1.0]], [[1.0]]

    out = net.forward(X)
    assert net.hidden_input[0, 0] == pytest.approx(math.log(3), rel=1e-15)
    assert net.hidden_output[0, 0] == pytest.approx(0.75, rel=1e-15)
    assert net.output_input[0, 0] == pytest.approx(0.0, abs=1e-15)
    assert out[0, 0] == pytest.approx(0.5, rel=1e-15)
    assert fastnn.binary_cross_entropy(y, out) == pytest.approx(math.log(2), rel=1e-15)

    net.backward(X, y, 1.0)
    assert net.weights_hidden_output[0, 0] == pytest.approx(2.09375, rel=1e-15)
    assert net.bias_output[0, 0] == pytest.approx(-1.375, rel=1e-15)
    assert net.weights_input_hidden[0, 0] == pytest.approx(math.log(3) + 0.046875, rel=1e-15)
    assert net.bias_hidden[0, 0] == pytest.approx(0.046875, rel=1e-15)

    # train() does the same epoch and reports the loss before the update.
    net2 = fastnn.SimpleNeuralNetwork(1, 1, 1)
    net2.weights_input_hidden = [[math.log(3)]]
    net2.bias_hidden = [[0.0]]
    net2.weights_hidden_output = [[2.0]]
    net2.bias_output = [[-1.5]]
    losses = net2.train(X, y, 1, 1.0, verbose=False)
    assert losses[0] == pytest.approx(math.log(2), rel=1e-15)
    for name in PARAMS:
        assert getattr(net2, name) == pytest.approx(getattr(net, name), rel=1e-15)


ENERGIES = {
    # The tutorial's rule is the gradient of the squared error, not of the loss it prints.
    "tutorial": lambda out, y: 0.5 * np.sum((out - y) ** 2),
    # The exact rule is the gradient of the summed binary cross-entropy.
    "exact": lambda out, y: -np.sum(y * np.log(out) + (1 - y) * np.log(1 - out)),
}


@pytest.mark.parametrize("gradient", list(ENERGIES))
def test_update_is_the_gradient_of_its_energy(gradient):
    """Independent check by central differences (eps 1e-5): one backward step moves
    every parameter by -learning_rate times the gradient of the rule's energy."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(7, 3))
    y = rng.uniform(size=(7, 2))
    net = fastnn.SimpleNeuralNetwork(3, 4, 2, seed=9, gradient=gradient)

    def energy():
        return ENERGIES[gradient](net.forward(X), y)

    eps, lr = 1e-5, 1e-3
    numeric = {}
    for name in PARAMS:
        w = getattr(net, name)
        grad = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            orig = w[idx]
            w[idx] = orig + eps
            plus = energy()
            w[idx] = orig - eps
            minus = energy()
            w[idx] = orig
            grad[idx] = (plus - minus) / (2 * eps)
        numeric[name] = grad
    before = {name: getattr(net, name).copy() for name in PARAMS}
    net.forward(X)
    net.backward(X, y, lr)
    for name in PARAMS:
        step = (before[name] - getattr(net, name)) / lr
        np.testing.assert_allclose(step, numeric[name], rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda a: a, id="int"),
        pytest.param(lambda a: a.tolist(), id="list"),
        pytest.param(lambda a: a.astype(np.float32), id="float32"),
        pytest.param(lambda a: a.astype(np.float64), id="float64"),
        pytest.param(lambda a: np.asfortranarray(a.astype(float)), id="fortran"),
        pytest.param(lambda a: np.repeat(a, 2, axis=1)[:, ::2], id="strided-view"),
        pytest.param(lambda a: a.astype(bool), id="bool"),
    ],
)
def test_accepted_input_forms_give_identical_results(convert):
    base = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=4)
    expected = base.train(XOR_X.astype(float), XOR_Y.astype(float), 500, 0.1, verbose=False)
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=4)
    losses = net.train(convert(XOR_X), convert(XOR_Y), 500, 0.1, verbose=False)
    np.testing.assert_array_equal(losses, expected)
    for name in PARAMS:
        np.testing.assert_array_equal(getattr(net, name), getattr(base, name))
    np.testing.assert_array_equal(net.forward(convert(XOR_X)), base.forward(XOR_X))


@pytest.mark.parametrize("targets", ["binary", "soft"])
def test_small_data_losses_every_epoch(targets):
    """37 samples (one block, with padding): the losses of 600 epochs, computed
    256 epochs at a time from kept outputs (and the last 88 on their own),
    equal the reference's epoch by epoch."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(37, 3))
    y = (rng.uniform(size=(37, 2)) < 0.5).astype(float) if targets == "binary" else rng.uniform(size=(37, 2))
    ref, fast = pair(3, 5, 2, seed=2)
    expected = reference_losses(ref, X, y, 600, 0.05)
    np.testing.assert_allclose(fast.train(X, y, 600, 0.05, verbose=False), expected, rtol=SMOOTH_RTOL)
    assert_params_close(ref, fast, SMOOTH_RTOL)


def test_float32_training_tracks_the_float64_reference():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1000, 10))
    y = (X[:, :1] * X[:, 1:2] + 0.3 * X[:, 2:3] > 0).astype(float)
    ref, fast = pair(10, 16, 1, seed=3, dtype=np.float32)
    ref_losses = reference_losses(ref, X, y, 1000, 1e-3)
    losses = fast.train(X, y, 1000, 1e-3, verbose=False)
    np.testing.assert_allclose(losses, ref_losses, rtol=FLOAT32_LOSS_RTOL)
    for name in PARAMS:
        expected = getattr(ref, name)
        assert getattr(fast, name).dtype == np.float32
        np.testing.assert_allclose(getattr(fast, name), expected, rtol=0, atol=FLOAT32_SCALED_TOL * np.abs(expected).max())


def test_float32_training_with_saturated_hidden_units_tracks_the_reference():
    # Inputs of scale 30 drive part of the hidden layer below -80, where
    # float32 sigmoid derivatives are subnormal and the kernels flush the
    # deltas to zero: the weights must not move off the reference's.
    rng = np.random.default_rng(12)
    X = 30 * rng.normal(size=(600, 12))
    y = (X[:, :1] + X[:, 1:2] > 0).astype(float)
    ref, fast = pair(12, 16, 1, seed=4, dtype=np.float32)
    pre = X @ ref.weights_input_hidden + ref.bias_hidden
    assert np.mean(pre < -80) > 0.01  # the regime of subnormal float32 deltas is reached
    ref_losses = reference_losses(ref, X, y, 200, 1e-3)
    losses = fast.train(X, y, 200, 1e-3, verbose=False)
    # Saturated probabilities round further in float32: measured 1.7e-6,
    # the same figures as with the subnormal deltas kept.
    np.testing.assert_allclose(losses, ref_losses, rtol=10 * FLOAT32_LOSS_RTOL)
    for name in PARAMS:
        expected = getattr(ref, name)
        np.testing.assert_allclose(getattr(fast, name), expected, rtol=0, atol=FLOAT32_SCALED_TOL * np.abs(expected).max())


def test_float32_gradient_sums_over_a_million_samples():
    """float32 networks sum their gradients in float64: one step on 1,000,000
    samples moves the output bias by the float64 network's step to 1e-6
    (summed in float32, row by row, it was off by 4e-4)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1_000_000, 2))
    y = (rng.random((1_000_000, 1)) < 0.7).astype(float)
    steps = []
    for dtype in (np.float64, np.float32):
        net = fastnn.SimpleNeuralNetwork(2, 16, 1, seed=1, dtype=dtype)
        before = net.bias_output.astype(float)
        net.train(X, y, 1, 1e-6, verbose=False)
        steps.append((before - net.bias_output) / 1e-6)
    np.testing.assert_allclose(steps[1], steps[0], rtol=1e-6)


def test_each_route_sends_the_million_samples_above_down_its_own_path(path):
    """The routes' settings hold past the plan's bounds on the work, on W1 and on memory."""
    from fastnn import _paths

    sizes = (2, 16, 1)
    expected = {"blocks": "packed", "units": "packed", "tiny": "packed", "few": "few", "stream": "stream", "blas": "rows",
                "blas-outputs": "rows", "blas-python": "rows"}
    assert _paths.plan(1_000_000, sizes, np.float32) == expected[path]
    assert (_paths.small_kernel(1_000_000, sizes) is tiny.epochs) == (path == "tiny")


def test_float32_network(capsys):
    """float32 weights and activations; close to the float64 reference at float32 precision."""
    ref, fast = pair(2, 2, 1, seed=0, dtype=np.float32)
    ref.train(XOR_X, XOR_Y, 2000, 0.1)
    capsys.readouterr()
    losses = fast.train(XOR_X, XOR_Y, 2000, 0.1, verbose=False)
    for name in PARAMS + ACTIVATIONS:
        assert getattr(fast, name).dtype == np.float32, name
    assert fast.forward(XOR_X).dtype == np.float32
    assert losses.dtype == np.float64
    np.testing.assert_allclose(fast.forward(XOR_X), ref.forward(XOR_X), rtol=1e-4)


def test_seed_keyword_repeats_and_leaves_global_state_alone():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    a = fastnn.SimpleNeuralNetwork(4, 5, 2, seed=8)
    b = fastnn.SimpleNeuralNetwork(4, 5, 2, seed=np.random.default_rng(8))
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    for name in PARAMS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    rng = np.random.default_rng(8)
    np.testing.assert_array_equal(a.weights_input_hidden, rng.standard_normal((4, 5)))
    np.testing.assert_array_equal(a.weights_hidden_output, rng.standard_normal((5, 2)))


def test_assigned_weights_take_effect():
    ref, fast = pair(2, 3, 1, seed=0)
    new = np.arange(6, dtype=float).reshape(2, 3) / 10
    ref.weights_input_hidden = new.copy()
    fast.weights_input_hidden = new
    ref.bias_output = np.array([[0.3]])
    fast.bias_output = [[0.3]]
    np.testing.assert_allclose(fast.forward(XOR_X), ref.forward(XOR_X), rtol=ONE_STEP_RTOL)
    # In-place edits of the returned arrays take effect too.
    fast.weights_hidden_output[0, 0] = 5.0
    ref.weights_hidden_output[0, 0] = 5.0
    np.testing.assert_allclose(fast.forward(XOR_X), ref.forward(XOR_X), rtol=ONE_STEP_RTOL)


def test_assignment_rebinds_as_the_tutorials_does():
    # Arrays read from the attributes keep their values when new ones are assigned,
    # so that swapping two networks' weights swaps them, as with the tutorial's class.
    for cls in (reference.SimpleNeuralNetwork, fastnn.SimpleNeuralNetwork):
        np.random.seed(0)
        a, b = cls(2, 2, 1), cls(2, 2, 1)
        wa, wb = a.weights_input_hidden.copy(), b.weights_input_hidden.copy()
        assert not np.array_equal(wa, wb)
        a.weights_input_hidden, b.weights_input_hidden = b.weights_input_hidden, a.weights_input_hidden
        np.testing.assert_array_equal(a.weights_input_hidden, wb, err_msg=cls.__module__)
        np.testing.assert_array_equal(b.weights_input_hidden, wa, err_msg=cls.__module__)
        old = a.bias_hidden
        a.bias_hidden = np.ones((1, 2))
        np.testing.assert_array_equal(old, 0.0, err_msg=cls.__module__)
        # Training updates the network's current arrays in place, as the tutorial's -= does.
        current = a.weights_hidden_output
        before = current.copy()
        a.train(XOR_X, XOR_Y, 1, 0.1)
        assert a.weights_hidden_output is current and not np.array_equal(current, before), cls.__module__


def test_verbose_false_prints_nothing_and_epochs_zero(capsys):
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    before = net.weights_input_hidden.copy()
    assert net.train(XOR_X, XOR_Y, 0, 0.1).shape == (0,)
    np.testing.assert_array_equal(net.weights_input_hidden, before)
    assert net.output is None
    net.train(XOR_X, XOR_Y, 250, 0.1, verbose=False)
    assert capsys.readouterr().out == ""
    net.train(XOR_X, XOR_Y, 250, 0.1)
    assert [e for e, _ in parse_losses(capsys.readouterr().out)] == [0, 100, 200]


def test_lines_are_printed_as_training_goes(monkeypatch, capsys, path):
    """With a tiny time budget per compiled chunk, lines come out between chunks."""

    monkeypatch.setattr(_config, "CHUNK_SECONDS", 1e-9)
    monkeypatch.setattr(_config, "FIRST_CHUNK_WORK", 1)
    calls = []
    # once per call of compiled epochs, or per chunk of rows
    module, kernel = {"blocks": (packed, "train"), "units": (packed, "train_units"), "tiny": (tiny, "train"), "few": (rows, "train"),
                      "blas": (rows, "train_blas"), "stream": (stream, "train_batches"), "blas-outputs": (rows, "output_rows"),
                      "blas-python": (rows, "hidden_rows")}[path]  # blas-outputs: with one output np.matmul makes a gemv, kept in Python
    real = getattr(module, kernel)

    def spy(*args):
        if kernel not in ("train_units", "train_blas") or args[-1][2]:  # not a helper's call beside the leader's
            calls.append(capsys.readouterr().out.count("Epoch"))
        return real(*args)

    monkeypatch.setattr(module, kernel, spy)
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    net.train(XOR_X, XOR_Y, 1000, 0.1)
    assert len(calls) > 2
    assert calls[1] >= 1  # the first chunk's line was out before the second chunk ran


def test_backward_before_forward_is_a_clear_error():
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    with pytest.raises(RuntimeError, match="call forward"):
        net.backward(XOR_X, XOR_Y, 0.1)


def test_every_route_starts_its_gradient_sums_from_zero(path):
    """A training cut short between blocks of rows (Ctrl-C, a changed file) can leave partial sums behind;
    the next training on any route must not add them (the few-rows kernel once did)."""
    ref, fast = pair(3, 16, 1, seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 3)), np.array([[0.0], [1.0], [1.0], [0.0]])
    for s in fast._sums:
        s[...] = 1.0  # what an interrupted training may leave
    fast.train(X, y, 1, 0.1, verbose=False)
    ref.forward(X)
    ref.backward(X, y, 0.1)
    assert_params_close(ref, fast, rtol=1e-12, atol=1e-14)



@pytest.mark.parametrize("outputs", [1, 3])
def test_many_inputs_sum_the_input_gradient_by_columns(monkeypatch, outputs):
    """With many more inputs than hidden units the row path sums X^T HD over each block's rows, cut by
    columns of X (_paths.by_columns); here in three blocks of rows, each in several chunks of rows and
    columns, from stale gradient sums. The same training as the reference's, and as the chunks of rows'
    own sums, to rounding. (It runs on every route of this module; the routes differ here only in the
    output layer's products.)"""
    from fastnn import _paths

    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    monkeypatch.setattr(_config, "STREAM_MIN_WORK", 10**18)
    monkeypatch.setattr(_config, "BLAS_BLOCK_ELEMENTS", 8 * 256)  # 256 rows a block at hidden 8
    monkeypatch.setattr(_config, "CHUNK_ELEMENTS", 600 * 16)  # chunks of 16 rows (64 with no gradient product)
    n, f, h = 700, 600, 8
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, f)) / np.sqrt(f)
    y = (X[:, :outputs] * X[:, 1 : outputs + 1] > 0).astype(float)
    assert _paths.by_columns(_paths.block_rows(n, h), (f, h, outputs))
    rows, columns = _paths.wide_chunks(256, (f, h, outputs))
    assert len(rows) > 1 and len(columns) > 1
    ref, fast = pair(f, h, outputs, seed=2)
    by_rows = fastnn.SimpleNeuralNetwork(f, h, outputs)
    for name in PARAMS:
        getattr(by_rows, name)[...] = getattr(fast, name)
    for s in fast._sums:
        s[...] = 1.0  # what an interrupted training may leave: the first block's fold starts the sums from 0
    expected = reference_losses(ref, X, y, 20, 0.5)
    losses = fast.train(X, y, 20, 0.5, verbose=False)
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    assert_params_close(ref, fast, rtol=1e-11, atol=1e-14)
    with _config.override(WIDE_INPUTS=10**9):  # the chunks of rows' own X^T HD
        assert not _paths.by_columns(256, (f, h, outputs))
        np.testing.assert_allclose(by_rows.train(X, y, 20, 0.5, verbose=False), losses, rtol=1e-12)
    for name in PARAMS:
        np.testing.assert_allclose(getattr(by_rows, name), getattr(fast, name), rtol=1e-11, atol=1e-14)
