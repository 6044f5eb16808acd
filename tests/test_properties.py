"""Property-based: random shapes, dtypes and values at every public entry point.

Each call either works or raises one of the documented errors; after a
TypeError, ValueError or RuntimeError the network is bitwise as it was.
"""

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_errors import STATE, assert_unchanged, snapshot

import fastnn

DOCUMENTED = (TypeError, ValueError, FloatingPointError, RuntimeError)
UNCHANGED_AFTER = (TypeError, ValueError, RuntimeError)
EXAMPLES = 250

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples in every run: CI cannot flake
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, 0.5, -1.0, 1e6, -1e6, 1e300, 5e-324]),
)
DTYPES = [np.bool_, np.int8, np.int64, np.uint8, np.float16, np.float32, np.float64, np.complex128]


@st.composite
def array_like(draw, rows=None, cols=None):
    """Arrays of many dtypes and shapes (often the right one), as arrays or lists."""
    if rows is not None and draw(st.integers(0, 3)) > 0:
        shape = (rows, cols)
    else:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    kind = draw(st.sampled_from(["valid", "valid", "numeric", "numeric", "object", "text"]))
    if kind == "valid":  # values in [0, 1]: good data, and good targets
        dtype = np.dtype(draw(st.sampled_from([np.bool_, np.int64, np.float32, np.float64])))
        arr = draw(hnp.arrays(dtype, shape, elements=st.floats(0, 1, width=32) if dtype.kind == "f" else None))
        if dtype.kind == "i":
            arr = np.clip(arr, 0, 1)
    elif kind == "object":
        arr = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            arr[index] = draw(st.one_of(st.none(), st.integers(0, 1), st.text(max_size=2)))
    elif kind == "text":
        arr = draw(hnp.arrays(np.dtype("U2"), shape))
    else:
        dtype = np.dtype(draw(st.sampled_from(DTYPES)))
        if dtype.kind == "f":
            elements = FLOATS.map(lambda v: float(np.clip(v, -6e4, 6e4)) if dtype.itemsize == 2 and np.isfinite(v) else v)
            elements = st.one_of(elements, st.integers(0, 1).map(float))
        elif dtype.kind == "c":
            elements = st.complex_numbers(max_magnitude=10)
        else:
            elements = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = draw(hnp.arrays(dtype, shape, elements=elements))
    if draw(st.booleans()) and arr.ndim > 0:
        return arr.tolist()
    if arr.ndim == 2 and draw(st.booleans()):
        return np.asfortranarray(arr)
    return arr


SCALARS = st.one_of(
    st.integers(-3, 40),
    FLOATS,
    st.none(),
    st.text(max_size=3),
    st.booleans(),
    st.complex_numbers(max_magnitude=2),
)

EPOCHS = st.one_of(st.integers(0, 30), st.integers(0, 30), SCALARS)
RATES = st.one_of(st.floats(1e-6, 10), st.floats(1e-6, 10), st.sampled_from([1e308, 1e-300]), SCALARS)

NETWORKS = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.sampled_from([np.float64, np.float32]))


def _network(sizes):
    f, h, o, dtype = sizes
    net = fastnn.SimpleNeuralNetwork(f, h, o, seed=0, dtype=dtype)
    X = np.random.default_rng(0).normal(size=(5, f))
    net.train(X, np.full((5, o), 0.5), 3, 0.1, verbose=False)
    return net


def _check(net, call):
    before = snapshot(net)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray RuntimeWarning either
        try:
            result = call()
        except DOCUMENTED as exc:
            event(f"raised {type(exc).__name__}")
            if isinstance(exc, UNCHANGED_AFTER):
                assert_unchanged(net, before)
            for name in STATE[:4]:
                assert np.all(np.isfinite(getattr(net, name))), name
            return None
    event("worked")
    for name in STATE[:4]:
        assert np.all(np.isfinite(getattr(net, name))), name
    return result


@SETTINGS
@given(sizes=st.tuples(SCALARS, SCALARS, SCALARS), dtype=st.sampled_from([np.float64, np.float32, np.int32, "float16", "x", None]))
def test_constructor(sizes, dtype):
    try:
        net = fastnn.SimpleNeuralNetwork(*sizes, dtype=dtype)
    except (TypeError, ValueError):
        return
    assert all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in sizes)
    assert net.weights_input_hidden.shape == (sizes[0], sizes[1])


@SETTINGS
@given(sizes=NETWORKS, data=st.data())
def test_forward(sizes, data):
    net = _network(sizes)
    X = data.draw(array_like(rows=4, cols=sizes[0]))
    out = _check(net, lambda: net.forward(X))
    if out is not None:
        assert out.shape == (np.shape(X)[0], sizes[2])
        assert np.all((out >= 0) & (out <= 1))


@SETTINGS
@given(sizes=NETWORKS, data=st.data())
def test_backward(sizes, data):
    net = _network(sizes)
    X = data.draw(array_like(rows=5, cols=sizes[0]))
    y = data.draw(array_like(rows=5, cols=sizes[2]))
    lr = data.draw(RATES)
    _check(net, lambda: net.backward(X, y, lr))


@SETTINGS
@given(sizes=NETWORKS, data=st.data())
def test_train(sizes, data):
    net = _network(sizes)
    X = data.draw(array_like(rows=4, cols=sizes[0]))
    y = data.draw(array_like(rows=4, cols=sizes[2]))
    epochs = data.draw(EPOCHS)
    lr = data.draw(RATES)
    losses = _check(net, lambda: net.train(X, y, epochs, lr, verbose=False))
    if losses is not None:
        assert losses.shape == (epochs,) and np.all(np.isfinite(losses))


@SETTINGS
@given(sizes=NETWORKS, data=st.data())
def test_weight_assignment(sizes, data):
    net = _network(sizes)
    name = data.draw(st.sampled_from(STATE[:4]))
    shape = getattr(net, name).shape
    value = data.draw(array_like(rows=shape[0], cols=shape[1]))
    _check(net, lambda: setattr(net, name, value))
