"""Bad input: a clear error naming the parameter, and the network exactly as it was."""

import re
import warnings

import numpy as np
import pytest
from naive import STATE, XOR_X, XOR_Y, assert_unchanged, snapshot

import fastnn

@pytest.fixture
def trained():
    """A network with every attribute set, so that any change would show."""
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    net.train(XOR_X, XOR_Y, 50, 0.1, verbose=False)
    return net


BAD_SIZES = [
    (0, ValueError),
    (-1, ValueError),
    (2.5, TypeError),
    (True, TypeError),
    ("3", TypeError),
    (None, TypeError),
    (np.float64(2.0), TypeError),
]


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("value,error", BAD_SIZES)
def test_constructor_rejects_bad_sizes(position, value, error):
    names = ["input_size", "hidden_size", "output_size"]
    sizes = [2, 2, 1]
    sizes[position] = value
    with pytest.raises(error, match=re.escape(f"{names[position]} must be a positive integer, got {value!r}")):
        fastnn.SimpleNeuralNetwork(*sizes)


def test_constructor_accepts_numpy_integers():
    net = fastnn.SimpleNeuralNetwork(np.int64(2), np.int32(3), np.uint8(1))
    assert net.weights_input_hidden.shape == (2, 3)


@pytest.mark.parametrize("dtype", [None, (np.float64, -1), np.int32, "float16", np.complex128, "banana",
                                   np.float128 if hasattr(np, "float128") else "U3"])
def test_constructor_rejects_bad_dtype(dtype):
    with pytest.raises(TypeError, match="dtype must be numpy.float32 or numpy.float64"):
        fastnn.SimpleNeuralNetwork(2, 2, 1, dtype=dtype)


@pytest.mark.parametrize("seed", ["7", 1.5, True, [1, 2]])
def test_constructor_rejects_bad_seed(seed):
    with pytest.raises(TypeError, match="seed must be None, an int or a numpy.random.Generator"):
        fastnn.SimpleNeuralNetwork(2, 2, 1, seed=seed)


BAD_X = [
    pytest.param(np.zeros(2), ValueError, "X must be 2-dimensional, got an array of shape \\(2,\\)", id="1-d"),
    pytest.param(np.zeros((4, 2, 1)), ValueError, "X must be 2-dimensional", id="3-d"),
    pytest.param(np.zeros((4, 3)), ValueError, "X must have 2 columns \\(input_size\\), got an array of shape \\(4, 3\\)", id="features"),
    pytest.param(np.zeros((0, 2)), ValueError, "X must have at least one row", id="empty"),
    pytest.param(np.array([[0, 0], [0, np.nan], [1, 0], [1, 1]]), ValueError, "X must be finite", id="nan"),
    pytest.param(np.array([[0, 0], [0, np.inf], [1, 0], [1, 1]]), ValueError, "X must be finite", id="inf"),
    pytest.param(np.array([[0, 0], [0, 1e300], [1, 0], [1, 1]]), ValueError, "X must be finite in float32", id="overflows-float32"),
    pytest.param([["a", "b"]] * 4, TypeError, "X must hold real numbers .* got dtype <U1", id="strings"),
    pytest.param(np.array([[0, 0]] * 4, dtype=object), TypeError, "X must hold real numbers .* got dtype object", id="objects"),
    pytest.param(np.zeros((4, 2), complex), TypeError, "X must hold real numbers .* got dtype complex128", id="complex"),
    pytest.param([[0, 0], [1]], ValueError, "X must be a 2-dimensional numeric array, got list", id="ragged"),
    pytest.param(None, TypeError, "X must hold real numbers .* got dtype object", id="none"),
]

BAD_Y = [
    pytest.param(np.zeros(4), ValueError, "y must be 2-dimensional", id="1-d"),
    pytest.param(np.zeros((3, 1)), ValueError, "y must have 4 rows, one per row of X, got 3", id="rows"),
    pytest.param(np.zeros((4, 2)), ValueError, "y must have 1 column \\(output_size\\)", id="outputs"),
    pytest.param(np.array([[0], [np.nan], [1], [0]]), ValueError, "y must be finite", id="nan"),
    pytest.param(np.array([[0], [1.5], [1], [0]]), ValueError, "y must hold targets in \\[0, 1\\], got values from 0.0 to 1.5", id="above-1"),
    pytest.param(np.array([[0], [-1], [1], [0]]), ValueError, "y must hold targets in \\[0, 1\\]", id="negative"),
    pytest.param([["x"]] * 4, TypeError, "y must hold real numbers", id="strings"),
]

BAD_EPOCHS = [(-1, ValueError), (2.5, TypeError), ("10", TypeError), (None, TypeError), (True, TypeError), (np.float64(3), TypeError)]
BAD_RATES = [(0, ValueError), (-0.1, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("0.1", TypeError), (None, TypeError), (True, TypeError), (1j, TypeError)]


def call(net, method, X=XOR_X, y=XOR_Y, epochs=10, learning_rate=0.1):
    if method == "forward":
        return net.forward(X)
    if method == "backward":
        return net.backward(X, y, learning_rate)
    if method == "minibatch":
        return net.train(X, y, epochs, learning_rate, verbose=False, batch_size=2)
    if method == "predict":
        return net.predict_proba(X)
    return net.train(X, y, epochs, learning_rate, verbose=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["forward", "backward", "train", "minibatch", "predict"])
@pytest.mark.parametrize("X,error,message", BAD_X)
def test_bad_X_is_rejected_and_nothing_changes(method, X, error, message, dtype, path):
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0, dtype=dtype)
    net.train(XOR_X, XOR_Y, 50, 0.1, verbose=False)
    if "float32" in message and dtype == np.float64:
        call(net, method, X)  # 1e300 is a fine float64
        return
    before = snapshot(net)
    with pytest.raises(error, match=message):
        call(net, method, X)
    assert_unchanged(net, before)


@pytest.mark.parametrize("method", ["backward", "train", "minibatch"])
@pytest.mark.parametrize("y,error,message", BAD_Y)
def test_bad_y_is_rejected_and_nothing_changes(trained, method, y, error, message):
    before = snapshot(trained)
    with pytest.raises(error, match=message):
        call(trained, method, y=y)
    assert_unchanged(trained, before)


@pytest.mark.parametrize(
    "keywords,error,message",
    [
        (dict(batch_size=0), ValueError, "batch_size must be None or a positive integer, got 0"),
        (dict(batch_size=2.0), TypeError, "batch_size must be None or a positive integer, got 2.0 of type float"),
        (dict(batch_size=True), TypeError, "batch_size must be None or a positive integer, got True"),
        (dict(batch_size=2, shuffle="yes"), TypeError, "shuffle must be True or False, got 'yes'"),
        (dict(verbose="bar"), ValueError, "verbose must be True, False or 'progress', got 'bar'"),
        (dict(verbose=None), ValueError, "verbose must be True, False or 'progress', got None"),
    ],
)
def test_bad_training_options_are_rejected_and_nothing_changes(trained, keywords, error, message):
    before = snapshot(trained)
    with pytest.raises(error, match=re.escape(message)):
        trained.train(XOR_X, XOR_Y, 10, 0.1, **{"verbose": False, **keywords})
    assert_unchanged(trained, before)


@pytest.mark.parametrize("gradient", ["Exact", None, 1, "squared"])
def test_constructor_rejects_bad_gradient(gradient):
    with pytest.raises(ValueError, match=re.escape(f"gradient must be one of 'tutorial', 'exact', got {gradient!r}")):
        fastnn.SimpleNeuralNetwork(2, 2, 1, gradient=gradient)


@pytest.mark.parametrize("epochs,error", BAD_EPOCHS)
def test_bad_epochs_are_rejected_and_nothing_changes(trained, epochs, error):
    before = snapshot(trained)
    with pytest.raises(error, match=re.escape(f"epochs must be a non-negative integer, got {epochs!r}")):
        call(trained, "train", epochs=epochs)
    assert_unchanged(trained, before)


@pytest.mark.parametrize("method", ["backward", "train"])
@pytest.mark.parametrize("rate,error", BAD_RATES)
def test_bad_learning_rate_is_rejected_and_nothing_changes(trained, method, rate, error):
    before = snapshot(trained)
    with pytest.raises(error, match="learning_rate must be a finite positive number"):
        call(trained, method, learning_rate=rate)
    assert_unchanged(trained, before)


@pytest.mark.parametrize(
    "name,value,error,message",
    [
        ("weights_input_hidden", np.zeros((3, 2)), ValueError, "must have shape \\(2, 3\\), got \\(3, 2\\)"),
        ("weights_hidden_output", [[np.nan], [0], [0]], ValueError, "must be finite"),
        ("bias_hidden", np.zeros(3), ValueError, "must have shape \\(1, 3\\)"),
        ("bias_output", [["a"]], TypeError, "must hold real numbers"),
    ],
)
def test_bad_weight_assignment_is_rejected_and_nothing_changes(trained, name, value, error, message):
    before = snapshot(trained)
    with pytest.raises(error, match=f"{name} {message}"):
        setattr(trained, name, value)
    assert_unchanged(trained, before)


def test_backward_checks_stored_activations_against_X(trained):
    before = snapshot(trained)
    with pytest.raises(ValueError, match="hidden_output must have 3 rows"):
        trained.backward(XOR_X[:3], XOR_Y[:3], 0.1)
    assert_unchanged(trained, before)


# What is valid keeps working.


def test_float32_data_for_float64_network_and_the_reverse():
    for net_dtype, data_dtype in [(np.float64, np.float32), (np.float32, np.float64)]:
        a = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=1, dtype=net_dtype)
        b = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=1, dtype=net_dtype)
        la = a.train(XOR_X.astype(data_dtype), XOR_Y.astype(data_dtype), 200, 0.1, verbose=False)
        lb = b.train(XOR_X, XOR_Y, 200, 0.1, verbose=False)
        np.testing.assert_array_equal(la, lb)
        assert a.forward(XOR_X.astype(data_dtype)).dtype == net_dtype


def test_single_row():
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    losses = net.train([[0.5, -1.0]], [[1]], 20, 0.5, verbose=False)
    assert losses[-1] < losses[0]
    assert net.forward([[0.5, -1.0]]).shape == (1, 1)
    assert net.hidden_output.shape == (1, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_finite_inputs_train_without_warnings_or_nan(dtype):
    X = np.array([[1e6, -1e6], [-1e6, 1e6], [1e6, 1e6], [0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = fastnn.SimpleNeuralNetwork(2, 4, 1, seed=0, dtype=dtype)
        losses = net.train(X, XOR_Y, 100, 0.1, verbose=False)
        out = net.forward(X)
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(out))
    for name in STATE[:4]:
        assert np.all(np.isfinite(getattr(net, name))), name


# Divergence: stop with FloatingPointError, keep the last finite weights.


@pytest.mark.parametrize("dtype,rate", [(np.float64, 1e308), (np.float32, 1e37)])
def test_overflowing_update_is_refused_whole(dtype, rate, path):
    """A learning rate so large that the first step overflows: no weight moves.
    For float32 the step is finite in float64 but not once stored (found by the
    property tests)."""
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0, dtype=dtype)
    before = snapshot(net)
    X, y = np.tile(XOR_X, (1000, 1)), np.ones((4000, 1))  # all deltas of one sign: gradient sums in the hundreds
    message = f"diverged at epoch 0: the weights after the update would be NaN or infinite (learning_rate={rate!r}"
    with pytest.raises(FloatingPointError, match=re.escape(message)):
        net.train(X, y, 10, rate, verbose=False)
    for name in STATE[:4]:
        np.testing.assert_array_equal(getattr(net, name), before[name])
    np.testing.assert_array_equal(net.output, net.forward(X))  # activations match the kept weights
    assert net.loss_history.shape == (0,)

    before = snapshot(net)
    with pytest.raises(FloatingPointError, match="backward: the update would make the weights NaN or infinite"):
        net.backward(X, y, rate)
    assert_unchanged(net, before)


def test_divergence_after_some_epochs_keeps_those_epochs(monkeypatch):
    """With the tutorial's rule a diverging step saturates the sigmoids, whose
    derivative then stops all further change, so in practice only an epoch's
    first step can overflow. The search for the epoch, across the compiled
    chunks, is checked by making the kernel turn the loss NaN at epoch 1234
    (and everything after it): the network must be exactly what 1234 epochs give."""
    from fastnn import _config, _paths

    real = _paths.PackedEpochs.run

    def nan_from_1234(self, losses, start, stop, interrupt):
        stop = real(self, losses, start, stop, interrupt)
        for e in range(max(start, 1234), stop):
            losses[e] = np.nan
        return stop

    monkeypatch.setattr(_config, "FIRST_CHUNK_WORK", 1000)  # several chunks before epoch 1234
    monkeypatch.setattr(_paths.PackedEpochs, "run", nan_from_1234)
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 1234: the loss would be NaN or infinite"):
        net.train(XOR_X, XOR_Y, 10_000, 0.1, verbose=False)
    monkeypatch.undo()
    assert net.loss_history.shape == (1234,)
    replay = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    np.testing.assert_array_equal(replay.train(XOR_X, XOR_Y, 1234, 0.1, verbose=False), net.loss_history)
    for name in STATE[:4]:
        np.testing.assert_array_equal(getattr(net, name), getattr(replay, name))


# Issue 19, item 5: errors that help.


@pytest.mark.parametrize("method", ["backward", "train", "minibatch", "score"])
def test_1d_y_for_one_output_says_how_to_make_it_a_column(trained, method):
    """The tutorial's API is 2-D: a 1-D y is refused (not taken as a column), and the error says the reshape."""
    before = snapshot(trained)
    with pytest.raises(ValueError, match=re.escape("y must be 2-dimensional, got an array of shape (4,)") + ".*"
                       + re.escape("pass y.reshape(-1, 1)")):
        if method == "score":
            trained.score(XOR_X, XOR_Y.ravel())
        else:
            call(trained, method, y=XOR_Y.ravel())
    assert_unchanged(trained, before)


def test_1d_X_of_one_sample_says_how_to_make_it_a_row(trained):
    with pytest.raises(ValueError, match=re.escape("pass X.reshape(1, -1)")):
        trained.predict_proba(np.array([0.0, 1.0]))


def test_counts_of_one_are_singular(trained):
    with pytest.raises(ValueError, match=re.escape("y must have 1 row, one per row of X, got 2")):
        trained.train(XOR_X[:1], XOR_Y[:2], 1, 0.1, verbose=False)
    with pytest.raises(ValueError, match=re.escape("y must have 1 column (output_size)")):
        trained.train(XOR_X, np.zeros((4, 2)), 1, 0.1, verbose=False)


def test_divergence_at_epoch_1_says_one_finite_loss(monkeypatch):
    from fastnn import _paths

    real = _paths.PackedEpochs.run

    def nan_from_1(self, losses, start, stop, interrupt):
        stop = real(self, losses, start, stop, interrupt)
        losses[max(start, 1) : stop] = np.nan
        return stop

    monkeypatch.setattr(_paths.PackedEpochs, "run", nan_from_1)
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    with pytest.raises(FloatingPointError, match="loss_history holds the 1 finite loss before it"):
        net.train(XOR_X, XOR_Y, 10, 0.1, verbose=False)
