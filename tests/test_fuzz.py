"""Fuzzing every public entry point (issue 20): each call works or raises a documented error, and then
the network is bitwise as it was.

Hypothesis draws Python ints and NumPy scalars at and beyond the int64 limits, negative and zero
values, floats with NaN, infinity and huge magnitudes, bools, strings, None, complex numbers, arrays
of float16, complex, object, bool and integer dtypes and of wrong shapes, random keyword
combinations, and damaged ``.npz`` files. Derandomized (the same examples on every run, so CI is
reproducible) and bounded: the whole file takes well under a minute once the kernels are compiled.

Values that are valid but would allocate or run without end (a hidden size of 2**40, 2**40 epochs)
are never drawn: sizes and epochs are either small and valid, invalid, or beyond int64 / the largest
array, where the documented error must come before any allocation.

Run with ``-s`` to see how many examples each test ran, or ``--hypothesis-show-statistics`` for the
outcomes (the ``event`` lines).
"""

import collections
import copy
import io
import re
import zipfile

import numpy as np
import pytest
from naive import PARAMS, XOR_X, XOR_Y, assert_unchanged, snapshot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import fastnn
from fastnn import datasets

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

COUNTS = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    total = sum(COUNTS.values())
    print(f"\nfuzz examples run: {total} ({', '.join(f'{k} {v}' for k, v in sorted(COUNTS.items()))})")


def record(test, outcome):
    COUNTS[test] += 1
    event(f"{test}: {outcome}")


# Values.

EDGE_INTS = [0, 1, -1, 2, 3, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64,
             10**30, 10**400, -(2**63), -(2**63) - 1, -(10**30)]
INT_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.intp]


def numpy_int(value):
    """value as each NumPy integer type that holds it (else None)."""
    candidates = []
    for t in INT_TYPES:
        info = np.iinfo(t)
        if info.min <= value <= info.max:
            candidates.append(t(value))
    return candidates


@st.composite
def integers(draw, small=st.integers(-3, 6)):
    """Python ints and NumPy integer scalars: small ones and ones at and beyond the int64 limits."""
    value = draw(st.one_of(small, st.sampled_from(EDGE_INTS)))
    as_numpy = numpy_int(value)
    if as_numpy and draw(st.booleans()):
        return draw(st.sampled_from(as_numpy))
    return value


def safe_integers(upper):
    """Integers that, if valid, are at most `upper` (no huge allocation or endless run): small ones, and
    ones beyond int64 or whose arrays would exceed the largest NumPy array."""
    return integers().filter(lambda v: not (upper < int(v) < 2**62))


FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, 1e-320, 0.1, 0.5, 1.0, 1.5, 1e38, 1e300, 1e308, float("nan"), float("inf"), -1.0]),
).flatmap(lambda x: st.sampled_from([x, np.float64(x), np.float32(x) if abs(x) < 3e38 or not np.isfinite(x) else x,
                                     np.float16(x) if abs(x) < 6e4 or not np.isfinite(x) else x]))

OTHERS = st.sampled_from([None, True, False, np.bool_(True), "3", "", "progress", "tutorial", 1j, np.complex128(1),
                          [1, 2], (), object(), b"1", 10**400])


def mostly(valid, fuzzed):
    """The valid value about 2 times in 3 (so that one or two fuzzed arguments reach the code behind the
    checks of the others), else a fuzzed one."""
    return st.integers(0, 2).flatmap(lambda i: valid if i < 2 else fuzzed)


def anything(ints=None):
    return st.one_of(ints if ints is not None else integers(), FLOATS, OTHERS)


ARRAY_DTYPES = [np.float16, np.float32, np.float64, np.complex64, np.complex128, object, np.bool_, np.int8,
                np.int64, np.uint64, "U2"]


@st.composite
def matrices(draw, rows, cols):
    """Mostly the right shape with arbitrary dtypes and values, sometimes a wrong shape."""
    shape = draw(st.sampled_from([(rows, cols)] * 4 + [(rows, cols + 1), (rows + 1, cols), (rows,), (0, cols),
                                                       (rows, cols, 1), (1, cols)]))
    dtype = draw(st.sampled_from(ARRAY_DTYPES + [np.float64] * 4))
    values = draw(st.lists(st.one_of(st.sampled_from([0, 1, 0.5, -1, 2, 1e6, 1e300, np.nan, np.inf]),
                                     st.floats(-10, 10)),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    with np.errstate(all="ignore"):
        try:
            arr = np.array(values, dtype=np.float64).reshape(shape)
            if np.dtype(dtype).kind in "biu":
                arr = np.nan_to_num(arr, nan=0, posinf=1, neginf=-1)
                arr = np.clip(arr, 0 if np.dtype(dtype).kind in "bu" else -100, 100)
            arr = arr.astype(dtype)
        except (ValueError, OverflowError, TypeError):
            arr = np.zeros(shape, dtype)
    form = draw(st.sampled_from(["array", "array", "list", "fortran", "strided"]))
    if form == "list":
        return arr.tolist()
    if form == "fortran":
        return np.asfortranarray(arr)
    if form == "strided" and arr.ndim == 2:
        return np.repeat(arr, 2, axis=1)[:, ::2]
    return arr


def data_X(draw, rows=4):
    return draw(mostly(st.sampled_from([XOR_X, XOR_X.astype(np.float32)]), st.one_of(matrices(rows, 2), anything())))


def data_y(draw, rows=4):
    return draw(mostly(st.sampled_from([XOR_Y, XOR_Y.astype(bool)]), st.one_of(matrices(rows, 1), anything())))


# The network and its state.


@st.composite
def networks(draw):
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    gradient = draw(st.sampled_from(["tutorial", "exact"]))
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=draw(st.integers(0, 3)), dtype=dtype, gradient=gradient)
    net.train(XOR_X, XOR_Y, 3, 0.1, verbose=False, batch_size=2)
    net.train(XOR_X, XOR_Y, 3, 0.1, verbose=False)
    return net


def assert_names_an_argument(exc, names, what):
    """A TypeError or ValueError names the argument (one of `names`), as the README promises."""
    if isinstance(exc, (TypeError, ValueError)):
        assert re.search(r"\b(%s)\b" % "|".join(names), str(exc)), f"{what}: {type(exc).__name__} names no argument: {exc}"


def check_call(test, net, call, documented, what, names):
    """call(); on a documented error the network is as it was; any other exception fails the test."""
    before = snapshot(net)
    try:
        result = call()
    except documented as exc:
        assert_names_an_argument(exc, names, what)
        if isinstance(exc, FloatingPointError):
            # Divergence: the epochs before it are kept, so only finiteness is promised.
            for name in PARAMS:
                assert np.isfinite(getattr(net, name)).all(), f"{what}: {name} not finite after divergence"
            assert np.isfinite(net.loss_history).all()
            if len(net.loss_history) == 0:
                for name in PARAMS:
                    assert getattr(net, name).tobytes() == before[name].tobytes(), f"{what}: {name}"
        else:
            assert_unchanged(net, before, what)
        record(test, type(exc).__name__)
        return None, exc
    record(test, "ok")
    return result, None


@SETTINGS
@given(st.data())
def test_fuzz_constructor(data):
    sizes = [data.draw(mostly(st.integers(1, 4), st.one_of(safe_integers(8), anything(st.nothing()))), label=n)
             for n in ("input_size", "hidden_size", "output_size")]
    keywords = {}
    if data.draw(st.booleans()):
        keywords["seed"] = data.draw(mostly(st.one_of(st.none(), st.integers(0, 9)),
                                            st.one_of(anything(), st.builds(np.random.default_rng, st.integers(0, 9)))),
                                     label="seed")
    if data.draw(st.booleans()):
        keywords["dtype"] = data.draw(mostly(st.sampled_from([np.float32, np.float64, "float32"]),
                                             st.one_of(st.sampled_from([np.float16, np.int64, complex, None]), OTHERS)),
                                      label="dtype")
    if data.draw(st.booleans()):
        keywords["gradient"] = data.draw(mostly(st.sampled_from(["tutorial", "exact"]), anything()), label="gradient")
    np.random.seed(11)
    global_before = np.random.get_state()[1].copy()
    seed = keywords.get("seed")
    rng_before = copy.deepcopy(seed.bit_generator.state) if isinstance(seed, np.random.Generator) else None
    try:
        net = fastnn.SimpleNeuralNetwork(*sizes, **keywords)
    except (TypeError, ValueError) as exc:
        assert_names_an_argument(exc, ["input_size", "hidden_size", "output_size", "seed", "dtype", "gradient"], "constructor")
        assert np.array_equal(np.random.get_state()[1], global_before), "a refused constructor drew from NumPy's global state"
        if rng_before is not None:
            assert seed.bit_generator.state == rng_before, "a refused constructor drew from the caller's generator"
        record("constructor", "refused")
        return
    record("constructor", "ok")
    assert net.weights_input_hidden.shape == (int(sizes[0]), int(sizes[1]))
    assert all(np.isfinite(getattr(net, name)).all() for name in PARAMS)


TRAIN_ARGUMENTS = ["X", "y", "epochs", "learning_rate", "verbose", "batch_size", "shuffle"]


@settings(SETTINGS, max_examples=600)
@given(networks(), st.data())
def test_fuzz_train(net, data):
    """One or two arguments fuzzed, the others valid: each fuzzed value reaches its own check."""
    fuzzed = data.draw(st.sets(st.sampled_from(TRAIN_ARGUMENTS), max_size=2), label="fuzzed")
    valid = {
        "X": st.sampled_from([XOR_X, XOR_X.astype(np.float32), XOR_X.astype(bool)]),
        "y": st.sampled_from([XOR_Y, XOR_Y.astype(np.float32), XOR_Y.astype(bool)]),
        "epochs": st.integers(1, 4),
        "learning_rate": st.sampled_from([0.1, 1.0, 1e3, np.float32(0.5)]),
        "verbose": st.sampled_from([False, np.bool_(False)]),
        "batch_size": st.one_of(st.none(), st.integers(1, 5)),
        "shuffle": st.sampled_from([True, False, np.bool_(True)]),
    }
    fuzz = {
        "X": st.one_of(matrices(4, 2), anything()),
        "y": st.one_of(matrices(4, 1), anything()),
        "epochs": st.one_of(safe_integers(5), anything(st.nothing())),
        "learning_rate": st.one_of(safe_integers(10**400), FLOATS, OTHERS),
        "verbose": st.one_of(st.just("progress"), anything()),
        "batch_size": st.one_of(integers(), st.sampled_from(EDGE_INTS), anything()),
        "shuffle": anything(),
    }
    args = {name: data.draw(fuzz[name] if name in fuzzed else valid[name], label=name) for name in TRAIN_ARGUMENTS}
    X, y, epochs, rate = args["X"], args["y"], args["epochs"], args["learning_rate"]
    keywords = {"verbose": args["verbose"]}
    for name in ("batch_size", "shuffle"):
        if name in fuzzed or data.draw(st.booleans(), label=f"pass {name}"):
            keywords[name] = args[name]
    if keywords["verbose"] is True:
        keywords["verbose"] = False  # the tutorial's lines only clutter the output
    result, exc = check_call("train", net, lambda: net.train(X, y, epochs, rate, **keywords),
                             (TypeError, ValueError, FloatingPointError), f"train({epochs!r}, {rate!r}, {keywords!r})",
                             ["X", "y", "epochs", "learning_rate", "verbose", "batch_size", "shuffle"])
    if exc is None:
        assert result.shape == (int(epochs),) and np.isfinite(result).all()
        # A real epoch's cross-entropy is never 0 (the predictions are clipped inside (0, 1)): 0.0 is an epoch not run.
        assert (result > 0).all(), f"train{(epochs, rate, keywords)!r} returned losses {result!r}"
        assert np.array_equal(result, net.loss_history)


@SETTINGS
@given(networks(), st.data())
def test_fuzz_forward_backward(net, data):
    X = data_X(data.draw)
    if data.draw(st.booleans(), label="forward"):
        result, exc = check_call("forward", net, lambda: net.forward(X), (TypeError, ValueError), "forward", ["X"])
        if exc is None:
            assert result.dtype == net.dtype and np.isfinite(result).all()
    y = data_y(data.draw)
    rate = data.draw(mostly(st.just(0.1), st.one_of(safe_integers(10**400), FLOATS, OTHERS)), label="learning_rate")
    check_call("backward", net, lambda: net.backward(X, y, rate),
               (TypeError, ValueError, FloatingPointError, RuntimeError), f"backward(lr={rate!r})",
               ["X", "y", "learning_rate", "hidden_output", "output"])


@SETTINGS
@given(networks(), st.data())
def test_fuzz_predict_and_score(net, data):
    X = data_X(data.draw)
    which = data.draw(st.sampled_from(["predict_proba", "predict", "score"]), label="method")
    if which == "predict_proba":
        result, exc = check_call(which, net, lambda: net.predict_proba(X), (TypeError, ValueError), which, ["X"])
        if exc is None:
            assert result.shape == (np.asarray(X).shape[0], 1) and result.dtype == net.dtype
    elif which == "predict":
        args = () if data.draw(st.booleans()) else (data.draw(st.one_of(FLOATS, safe_integers(10**400), OTHERS)),)
        result, exc = check_call(which, net, lambda: net.predict(X, *args), (TypeError, ValueError), f"predict{args!r}",
                                 ["X", "threshold"])
        if exc is None:
            assert set(np.unique(result)) <= {0, 1}
    else:
        y = data_y(data.draw)
        result, exc = check_call(which, net, lambda: net.score(X, y), (TypeError, ValueError), which, ["X", "y"])
        if exc is None:
            assert 0.0 <= result <= 1.0


SHAPES = {"weights_input_hidden": (2, 3), "weights_hidden_output": (3, 1), "bias_hidden": (1, 3), "bias_output": (1, 1)}


@SETTINGS
@given(networks(), st.data())
def test_fuzz_weight_assignment(net, data):
    name = data.draw(st.sampled_from(sorted(SHAPES)), label="attribute")
    rows, cols = SHAPES[name]
    value = data.draw(st.one_of(matrices(rows, cols), anything()), label="value")
    _, exc = check_call("assign", net, lambda: setattr(net, name, value), (TypeError, ValueError), f"{name} = ...", [name])
    if exc is None:
        assert getattr(net, name).shape == (rows, cols) and np.isfinite(getattr(net, name)).all()
        assert getattr(net, name).dtype == net.dtype


@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "net.npz"
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    net.train(XOR_X, XOR_Y, 3, 0.1, verbose=False)
    net.save(path)
    return path.read_bytes()


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


@st.composite
def damaged_files(draw, original):
    kind = draw(st.sampled_from(["truncate", "flip", "member", "drop", "extra", "junk"]))
    if kind == "truncate":
        return kind, original[: draw(st.integers(0, len(original) - 1))]
    if kind == "flip":
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
        return kind, bytes(data)
    if kind == "junk":
        return kind, draw(st.binary(max_size=200))
    with zipfile.ZipFile(io.BytesIO(original)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    name = draw(st.sampled_from(sorted(members)))
    if kind == "drop":
        del members[name]
    elif kind == "extra":
        members["extra.npy"] = npy(np.zeros(3))
    else:
        members[name] = draw(st.one_of(
            st.binary(max_size=64),
            st.sampled_from([npy(np.array([1, "a"], dtype=object)), npy(np.array(2**63, np.uint64)),
                             npy(np.array([2**63, 1, 1], np.uint64)), npy(np.array([-1, 3, 1])),
                             npy(np.array([2, 3, 1], np.float64)), npy(np.array("fastnn.SimpleNeuralNetwork")),
                             npy(np.array("float16")), npy(np.array(["exact"])), npy(np.full((2, 3), np.nan)),
                             npy(np.zeros((2, 3), np.float16)), npy(np.zeros((3, 2))), npy(np.array(b"x")),
                             npy(np.zeros((1, 1), complex)), npy(np.array(1.0)), npy(np.array(2))]),
            matrices(2, 3).map(lambda a: npy(np.asarray(a))),
        ))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for member, content in members.items():
            z.writestr(member, content)
    return kind, buffer.getvalue()


@SETTINGS
@given(st.data())
def test_fuzz_load_damaged_files(saved_bytes, tmp_path_factory, data):
    kind, content = data.draw(damaged_files(saved_bytes), label="damage")
    path = tmp_path_factory.mktemp("damaged", numbered=True) / "net.npz"
    path.write_bytes(content)
    seed = data.draw(st.one_of(st.none(), st.integers(0, 5)), label="seed")
    try:
        net = fastnn.SimpleNeuralNetwork.load(path, seed=seed)
    except ValueError as exc:
        assert str(path) in str(exc), f"{kind}: the file is not named: {exc}"
        record("load", f"{kind}: ValueError")
        return
    record("load", f"{kind}: ok")
    for name in PARAMS:
        assert np.isfinite(getattr(net, name)).all() and getattr(net, name).dtype == net.dtype
    net.predict_proba(np.zeros((1, net.input_size)))


@pytest.mark.parametrize("make", ["directory", "missing"])
def test_load_unreadable_path_is_an_os_error(tmp_path, make):
    path = tmp_path if make == "directory" else tmp_path / "missing.npz"
    with pytest.raises(OSError):
        fastnn.SimpleNeuralNetwork.load(path)


GENERATORS = ["make_moons", "make_circles", "make_xor", "make_parity", "make_blobs"]


@SETTINGS
@given(st.data())
def test_fuzz_datasets(data):
    name = data.draw(st.sampled_from(GENERATORS), label="generator")
    make = getattr(datasets, name)
    keywords = {"n_samples": data.draw(mostly(st.integers(1, 64), st.one_of(safe_integers(64), anything(st.nothing()))),
                                       label="n_samples")}
    if name in ("make_xor", "make_parity", "make_blobs") and data.draw(st.booleans()):
        keywords["n_features"] = data.draw(mostly(st.integers(1, 8), st.one_of(safe_integers(8), anything(st.nothing()))),
                                           label="n_features")
    if data.draw(st.booleans()):
        keywords["noise"] = data.draw(st.one_of(FLOATS, safe_integers(10**400), OTHERS), label="noise")
    if name == "make_circles" and data.draw(st.booleans()):
        keywords["factor"] = data.draw(st.one_of(FLOATS, OTHERS), label="factor")
    if data.draw(st.booleans()):
        keywords["dtype"] = data.draw(st.sampled_from([np.float32, np.float64, np.float16, None, "float32", int]))
    seed = data.draw(st.one_of(st.integers(0, 5), integers(), st.builds(np.random.default_rng, st.integers(0, 5)), OTHERS),
                     label="seed")
    rng_before = copy.deepcopy(seed.bit_generator.state) if isinstance(seed, np.random.Generator) else None
    try:
        X, y = make(**keywords, seed=seed)
    except (TypeError, ValueError) as exc:
        assert_names_an_argument(exc, ["n_samples", "n_features", "noise", "factor", "dtype", "seed"], name)
        if rng_before is not None:
            assert seed.bit_generator.state == rng_before, "a refused generator call drew from the caller's generator"
        record("datasets", "refused")
        return
    record("datasets", "ok")
    n = int(keywords["n_samples"])
    assert X.shape[0] == n and y.shape == (n, 1) and X.dtype == y.dtype
    assert np.isfinite(X).all() and set(np.unique(y)) <= {0.0, 1.0}
