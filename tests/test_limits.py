"""Issue 20: range limits, damaged files, one network in several threads, killed saves, late divergence.

Only the public API is used (and, where a network was built from an int seed,
the state of its shuffling generator ``net._rng``, compared before and after),
so that these tests outlive a redesign of the internals. Each error test asks
for the documented exception and for the argument's name in its message,
nothing more of the wording.
"""

import copy
import io
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile

import numpy as np
import pytest
from naive import PARAMS, XOR_X, XOR_Y, assert_unchanged, snapshot

import fastnn
from fastnn import datasets
from fastnn.__main__ import main


INT64_MAX = 2**63 - 1

# Integers beyond int64, as Python ints and as NumPy scalars.
BEYOND_INT64 = [
    pytest.param(2**63, id="2**63"),
    pytest.param(2**64 - 1, id="2**64-1"),
    pytest.param(np.uint64(2**63), id="uint64(2**63)"),
    pytest.param(np.uint64(2**64 - 1), id="uint64(2**64-1)"),
    pytest.param(10**30, id="10**30"),
]


def trained(seed=0):
    """A network with every attribute set and a used generator, so that any change would show."""
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=seed)
    net.train(XOR_X, XOR_Y, 5, 0.1, verbose=False, batch_size=2)
    net.train(XOR_X, XOR_Y, 5, 0.1, verbose=False)
    return net


def assert_same_future(net, seed=0):
    """Purely public: the network trains on (shuffled mini-batches) exactly as an untouched twin does."""
    twin = trained(seed)
    a = net.train(XOR_X, XOR_Y, 3, 0.1, verbose=False, batch_size=1)
    b = twin.train(XOR_X, XOR_Y, 3, 0.1, verbose=False, batch_size=1)
    assert a.tobytes() == b.tobytes()
    for name in PARAMS:
        assert getattr(net, name).tobytes() == getattr(twin, name).tobytes(), name


def params_bytes(net):
    return tuple(getattr(net, name).tobytes() for name in PARAMS)


# 1. Integers and numbers beyond what the kernels and NumPy can take.


SIZE_NAMES = ["input_size", "hidden_size", "output_size"]


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("value", BEYOND_INT64)
def test_constructor_refuses_sizes_beyond_int64(position, value):
    sizes = [2, 3, 1]
    sizes[position] = value
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    with pytest.raises(ValueError, match=SIZE_NAMES[position]):
        fastnn.SimpleNeuralNetwork(*sizes)  # seed=None: NumPy's global state must not be drawn from either
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(
    "sizes",
    [
        pytest.param((2**31, 2**31, 1), id="input*hidden"),
        pytest.param((1, 2**31, 2**31), id="hidden*output"),
        pytest.param((2**62, 1, 1), id="input"),
        pytest.param((1, 2**61, 1), id="hidden"),
    ],
)
def test_constructor_refuses_sizes_whose_weights_exceed_the_largest_array(sizes):
    """Each size fits in int64, but a weight array of them would exceed the largest array NumPy can make."""
    with pytest.raises(ValueError, match="input_size|hidden_size|output_size"):
        fastnn.SimpleNeuralNetwork(*sizes, seed=0)


EPOCHS_TOO_LARGE = BEYOND_INT64 + [pytest.param(2**62, id="2**62-losses-exceed-largest-array")]


@pytest.mark.parametrize("batch_size", [None, 2], ids=["full", "minibatch"])
@pytest.mark.parametrize("epochs", EPOCHS_TOO_LARGE)
def test_train_refuses_epochs_beyond_the_limit(epochs, batch_size):
    net = trained()
    before = snapshot(net)
    with pytest.raises(ValueError, match="epochs"):
        net.train(XOR_X, XOR_Y, epochs, 0.1, verbose=False, batch_size=batch_size)
    assert_unchanged(net, before)
    assert_same_future(net)


@pytest.mark.parametrize("batch_size", BEYOND_INT64)
def test_train_refuses_batch_size_beyond_int64(batch_size):
    net = trained()
    before = snapshot(net)
    with pytest.raises(ValueError, match="batch_size"):
        net.train(XOR_X, XOR_Y, 2, 0.1, verbose=False, batch_size=batch_size)
    assert_unchanged(net, before)
    assert_same_future(net)


@pytest.mark.parametrize("batch_size", [INT64_MAX, np.int64(INT64_MAX), 2**40], ids=["int64max", "np.int64max", "2**40"])
def test_batch_size_larger_than_the_data_is_one_batch_or_refused(batch_size):
    """Within int64 a batch larger than the data is either one batch of all rows or a ValueError naming
    batch_size (if the implementation caps it); never a silent no-op or a kernel error."""
    net, twin = trained(), trained()
    before = snapshot(net)
    try:
        losses = net.train(XOR_X, XOR_Y, 3, 0.1, verbose=False, batch_size=batch_size)
    except ValueError as exc:
        assert "batch_size" in str(exc)
        assert_unchanged(net, before)
        return
    expected = twin.train(XOR_X, XOR_Y, 3, 0.1, verbose=False, batch_size=len(XOR_X))
    assert losses.tobytes() == expected.tobytes()
    assert params_bytes(net) == params_bytes(twin)


HUGE_RATES = [
    pytest.param(10**400, id="10**400"),
    pytest.param(10**309, id="10**309"),
    pytest.param(2**1024, id="2**1024"),
    pytest.param(-(10**400), id="-10**400"),
]


@pytest.mark.parametrize("method", ["train", "minibatch", "backward"])
@pytest.mark.parametrize("rate", HUGE_RATES)
def test_learning_rate_beyond_float_range_is_a_value_error(method, rate):
    net = trained()
    before = snapshot(net)
    with pytest.raises(ValueError, match="learning_rate"):
        if method == "backward":
            net.backward(XOR_X, XOR_Y, rate)
        else:
            net.train(XOR_X, XOR_Y, 2, rate, verbose=False, batch_size=2 if method == "minibatch" else None)
    assert_unchanged(net, before)


@pytest.mark.parametrize("rate", [np.float64(1e300), 2**63, np.uint64(2**64 - 1), np.int64(INT64_MAX), 1e308])
def test_large_finite_learning_rate_trains_or_diverges_cleanly(rate):
    """A finite learning rate is valid, however large: one epoch either runs or is refused whole."""
    net = trained()
    before = snapshot(net)
    try:
        losses = net.train(XOR_X, XOR_Y, 1, rate, verbose=False)
    except FloatingPointError:
        for name in PARAMS:
            assert getattr(net, name).tobytes() == before[name].tobytes(), name
        assert net.loss_history.shape == (0,)
    else:
        assert losses.shape == (1,) and np.isfinite(losses).all()
        for name in PARAMS:
            assert np.isfinite(getattr(net, name)).all(), name


BIG_SEEDS = BEYOND_INT64 + [pytest.param(2**200, id="2**200")]


@pytest.mark.parametrize("seed", BIG_SEEDS)
def test_large_seeds_are_reproducible_or_refused(seed, tmp_path):
    """NumPy takes seeds of any size; an implementation may cap them. Either a clean ValueError naming
    seed, or the same weights and shuffles from the same seed every time."""
    try:
        a = fastnn.SimpleNeuralNetwork(3, 4, 1, seed=seed)
    except ValueError as exc:
        assert "seed" in str(exc)
        return
    b = fastnn.SimpleNeuralNetwork(3, 4, 1, seed=seed)
    assert params_bytes(a) == params_bytes(b)
    X, y = np.tile(XOR_X, (4, 1)), np.tile(XOR_Y, (4, 1))
    X = np.hstack([X, X[:, :1]])
    assert a.train(X, y, 3, 0.1, verbose=False, batch_size=3).tobytes() == b.train(X, y, 3, 0.1, verbose=False, batch_size=3).tobytes()
    a.save(tmp_path / "a.npz")
    c = fastnn.SimpleNeuralNetwork.load(tmp_path / "a.npz", seed=seed)
    d = fastnn.SimpleNeuralNetwork.load(tmp_path / "a.npz", seed=seed)
    assert c.train(X, y, 2, 0.1, verbose=False, batch_size=3).tobytes() == d.train(X, y, 2, 0.1, verbose=False, batch_size=3).tobytes()
    X1, y1 = datasets.make_moons(50, seed=seed)
    X2, y2 = datasets.make_moons(50, seed=seed)
    assert X1.tobytes() == X2.tobytes() and y1.tobytes() == y2.tobytes()


@pytest.mark.parametrize(
    "threshold",
    [10**400, -(10**400), 2**63, np.uint64(2**63), np.uint64(2**64 - 1), np.float64(1e300), -np.float64(1e300)],
    ids=["10**400", "-10**400", "2**63", "uint64(2**63)", "uint64max", "1e300", "-1e300"],
)
def test_threshold_beyond_range_is_a_value_error(threshold):
    net = trained()
    before = snapshot(net)
    with pytest.raises(ValueError, match="threshold"):
        net.predict(XOR_X, threshold)
    assert_unchanged(net, before)


GENERATORS = [
    ("make_moons", False),
    ("make_circles", False),
    ("make_xor", True),
    ("make_parity", True),
    ("make_blobs", True),
]


@pytest.mark.parametrize("name,has_features", GENERATORS, ids=[g for g, _ in GENERATORS])
@pytest.mark.parametrize("value", BEYOND_INT64)
@pytest.mark.parametrize("argument", ["n_samples", "n_features"])
def test_generators_refuse_sizes_beyond_int64(name, has_features, value, argument):
    if argument == "n_features" and not has_features:
        pytest.skip("moons and circles have 2 features")
    make = getattr(datasets, name)
    rng = np.random.default_rng(3)
    before = copy.deepcopy(rng.bit_generator.state)
    with pytest.raises(ValueError, match=argument):
        make(**{"n_samples": 10, argument: value}, seed=rng)
    assert rng.bit_generator.state == before, "the caller's generator was drawn from"


@pytest.mark.parametrize("name", ["make_xor", "make_parity", "make_blobs"])
@pytest.mark.parametrize("shape", [(2**61, 8), (8, 2**61), (2**62, 1)], ids=["rows", "features", "rows-alone"])
def test_generators_refuse_shapes_beyond_the_largest_array(name, shape):
    """Each size within int64, X (or blobs' centres) beyond the largest array. (Shapes chosen so that
    nothing of them can be allocated: no test here may try to fill gigabytes.)"""
    with pytest.raises(ValueError, match="n_samples|n_features"):
        getattr(datasets, name)(*shape, seed=0)


@pytest.mark.parametrize("option", ["--n-samples", "--n-features", "--hidden", "--epochs", "--batch-size"])
@pytest.mark.parametrize("value", [2**63, 2**64 - 1, 10**30], ids=["2**63", "2**64-1", "10**30"])
def test_cli_refuses_integers_beyond_int64_before_generating_data(option, value, capsys):
    argv = ["train", "--dataset", "xor", "--n-samples", "200", "--epochs", "1", "--no-progress", option, str(value)]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert re.search(option.lstrip("-").replace("-", "[-_]"), err), err
    assert out == "", "data was generated or a network trained before the option was refused"


@pytest.mark.parametrize("value", [2**63, 2**64 - 1, 10**30], ids=["2**63", "2**64-1", "10**30"])
def test_cli_seed_beyond_int64_works_or_is_refused(value, capsys):
    argv = ["train", "--n-samples", "200", "--epochs", "1", "--no-progress", "--seed", str(value)]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    if code == 0:
        assert "final loss" in out
    else:
        assert code == 2 and "seed" in err and out == ""


# 2. load: every malformed member is a ValueError naming the file and the member.


MEMBERS = ["format", "format_version", "sizes", "dtype", "gradient",
           "weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output"]


def _npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _damaged(kind, original):
    if kind == "junk":
        return b"this is not an npy file \x00\xff" * 3
    if kind == "empty":
        return b""
    if kind == "object":
        return _npy_bytes(np.array([1, "a", None], dtype=object), allow_pickle=True)
    if kind == "truncated":  # a valid header, too few data bytes
        return original[: len(original) - 3] if len(original) > 140 else original[:-1]
    if kind == "bad-header":
        return b"\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'  }\n"
    if kind == "complex":
        return _npy_bytes(np.ones((1, 1), complex))
    raise AssertionError(kind)


def _replace_member(source, target, member, data):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == member + ".npy" else zin.read(info.filename))


@pytest.fixture(scope="module")
def saved_network(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "net.npz"
    trained().save(path)
    with zipfile.ZipFile(path) as z:
        assert sorted(n[:-4] for n in z.namelist()) == sorted(MEMBERS), "the test's list of members is stale"
    return path


@pytest.mark.parametrize("kind", ["junk", "empty", "object", "truncated", "bad-header", "complex"])
@pytest.mark.parametrize("member", MEMBERS)
def test_load_damaged_member_is_a_value_error_naming_file_and_member(saved_network, tmp_path, member, kind):
    path = tmp_path / "damaged.npz"
    with zipfile.ZipFile(saved_network) as z:
        original = z.read(member + ".npy")
    _replace_member(saved_network, path, member, _damaged(kind, original))
    np.random.seed(1)
    global_before = np.random.get_state()[1].copy()
    with pytest.raises(ValueError) as info:
        fastnn.SimpleNeuralNetwork.load(path)
    message = str(info.value)
    assert str(path) in message
    assert member in message
    assert np.array_equal(np.random.get_state()[1], global_before)


def test_load_hand_made_zip_with_junk_format_member(tmp_path):
    path = tmp_path / "junk.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("format.npy", b"\x00\x01junk bytes, not an array")
    with pytest.raises(ValueError) as info:
        fastnn.SimpleNeuralNetwork.load(path)
    assert str(path) in str(info.value) and "format" in str(info.value)


# 3. One network, several threads: a serialization or a RuntimeError, never a mix.


def _problem(n, features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    return X, y


def _run_in_threads(*calls):
    """Run the calls together (a Barrier starts them at once); [(result, exception)] in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def target(i, call):
        barrier.wait()
        try:
            results[i] = (call(), None)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[i] = (None, exc)

    threads = [threading.Thread(target=target, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a call never returned (deadlock?)"
    return results


@pytest.mark.parametrize(
    "n,features,hidden,epochs,rates",
    [
        pytest.param(20_000, 20, 32, 8, (5e-5, 1e-4), id="large-data"),
        pytest.param(256, 8, 16, 3000, (0.01, 0.02), id="small-data"),
    ],
)
def test_two_trainings_of_one_network_are_serialized_or_refused(n, features, hidden, epochs, rates):
    X, y = _problem(n, features)
    rate_a, rate_b = rates

    def fresh():
        return fastnn.SimpleNeuralNetwork(features, hidden, 1, seed=0)

    def reference(*order):
        net, losses = fresh(), []
        for rate in order:
            losses.append(net.train(X, y, epochs, rate, verbose=False))
        return params_bytes(net), [l.tobytes() for l in losses]

    ab, ba = reference(rate_a, rate_b), reference(rate_b, rate_a)
    only_a, only_b = reference(rate_a), reference(rate_b)
    assert len({ab[0], ba[0], only_a[0], only_b[0]}) == 4  # the outcomes can be told apart
    for attempt in range(3):
        net = fresh()
        (la, ea), (lb, eb) = _run_in_threads(
            lambda: net.train(X, y, epochs, rate_a, verbose=False),
            lambda: net.train(X, y, epochs, rate_b, verbose=False),
        )
        for exc in (ea, eb):
            assert exc is None or isinstance(exc, RuntimeError), repr(exc)
        assert not (ea and eb), "both trainings were refused"
        final = params_bytes(net)
        if ea is None and eb is None:
            got = [la.tobytes(), lb.tobytes()]
            assert (final, got) == ab or (final, got[::-1]) == ba, f"attempt {attempt}: a mixed result"
        elif ea is not None:
            assert (final, [lb.tobytes()]) == only_b, f"attempt {attempt}: the refused training changed the network"
        else:
            assert (final, [la.tobytes()]) == only_a, f"attempt {attempt}: the refused training changed the network"


def _calibrated_epochs(X, y, hidden, seconds):
    """Epochs of full-batch training on X that take about `seconds` here (compiles the kernels too)."""
    net = fastnn.SimpleNeuralNetwork(X.shape[1], hidden, 1, seed=0)
    net.train(X, y, 10, 0.01, verbose=False)
    start = time.perf_counter()
    net.train(X, y, 1000, 0.01, verbose=False)
    per_epoch = (time.perf_counter() - start) / 1000
    return max(2000, int(seconds / per_epoch))


@pytest.mark.parametrize("change", ["assign", "backward", "forward"])
def test_changing_a_network_while_it_trains_waits_or_is_refused(change):
    """A change from a second thread while train runs (it was started 0.1 s before, and runs about
    0.8 s): the network ends as if the two calls ran one after the other, in either order, or the
    change raised RuntimeError and the training alone happened."""
    X, y = _problem(256, 8)
    epochs = _calibrated_epochs(X, y, 16, 0.8)
    rate, new_W1 = 0.01, np.full((8, 16), 0.05)

    def fresh():
        net = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
        net.forward(X)  # activations for backward
        return net

    def do_change(net):
        if change == "assign":
            net.weights_input_hidden = new_W1
        elif change == "backward":
            net.backward(X, y, 0.05)
        else:
            return net.forward(X).tobytes()

    def outcome(net, losses, change_result):
        return params_bytes(net), losses.tobytes(), change_result

    twin = fresh()
    change_first = (do_change(twin), twin.train(X, y, epochs, rate, verbose=False))
    change_first = outcome(twin, change_first[1], change_first[0])
    twin = fresh()
    losses = twin.train(X, y, epochs, rate, verbose=False)
    train_only = outcome(twin, losses, None)
    change_result = do_change(twin)
    change_after = outcome(twin, losses, change_result)
    allowed_if_done = {change_first, change_after}

    net = fresh()
    result = {}
    trainer = threading.Thread(target=lambda: result.update(losses=net.train(X, y, epochs, rate, verbose=False)))
    trainer.start()
    time.sleep(0.1)
    try:
        change_result, refused = do_change(net), None
    except RuntimeError as exc:
        change_result, refused = None, exc
    trainer.join(120)
    assert "losses" in result, "the training did not finish"
    got = outcome(net, result["losses"], change_result)
    if refused is not None:
        assert got == train_only, "a refused change still changed the network"
    else:
        assert got in allowed_if_done, f"{change} during training gave a mixed result"


def test_predict_proba_during_training_sees_whole_epochs():
    """predict_proba from a second thread while one trains returns exactly the output of the weights of
    some whole epoch (a twin trained epoch by epoch gives them all)."""
    X, y = _problem(256, 8)
    epochs = _calibrated_epochs(X, y, 16, 0.4)
    rate, Xq = 0.01, X[:16]
    twin = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
    whole = {twin.predict_proba(Xq).tobytes(): 0}
    for epoch in range(1, epochs + 1):
        twin.train(X, y, 1, rate, verbose=False)
        whole.setdefault(twin.predict_proba(Xq).tobytes(), epoch)

    net = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
    done = threading.Event()
    reads = []

    def reader():
        while not done.is_set():
            reads.append(net.predict_proba(Xq).tobytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        losses = net.train(X, y, epochs, rate, verbose=False)
    finally:
        done.set()
        thread.join(60)
    assert params_bytes(net) == params_bytes(twin) and losses.shape == (epochs,)
    assert reads, "no read happened"
    mixed = [r for r in reads if r not in whole]
    assert not mixed, f"{len(mixed)} of {len(reads)} reads saw half-updated weights"


# 4. A save killed mid-write leaves nothing behind the next save does not clean up.


CHILD = textwrap.dedent(
    """
    import sys
    import fastnn
    net = fastnn.SimpleNeuralNetwork(2000, 2000, 10, seed=0)  # 32 MB of weights: a save takes a while
    print("ready", flush=True)
    while True:
        net.save(sys.argv[1])
    """
)


def test_killed_save_leaves_no_debris(tmp_path):
    target = tmp_path / "net.npz"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(fastnn.__file__)), env.get("PYTHONPATH", "")])
    chooser = random.Random(20)
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE, env=env)
        try:
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(0.3 + chooser.random() * 0.4)  # a few saves in: somewhere in one of them
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            child.stdout.close()
    # Whatever was killed, the file at the target is a whole one.
    if target.exists():
        assert fastnn.SimpleNeuralNetwork.load(target).hidden_size == 2000
    small = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    small.save(target)
    assert sorted(os.listdir(tmp_path)) == ["net.npz"], "a killed save left files behind"
    assert params_bytes(fastnn.SimpleNeuralNetwork.load(target)) == params_bytes(small)


# 5. Divergence at a later epoch keeps the weights that epoch started from.


def _late_divergence(batch_size):
    """(X, y, lr, k) for which float32 training with the exact gradient diverges at epoch k > 0,
    found by a search of learning rates (deterministic: the kernels are)."""
    for scale in (1e3, 1e6, 1.0):
        for seed in range(4):
            rng = np.random.default_rng(seed)
            X = rng.normal(size=(64, 3)) * scale
            y = (rng.random((64, 1)) < 0.5).astype(float)
            for lr in np.logspace(0, 38, 60):
                net = fastnn.SimpleNeuralNetwork(3, 4, 1, seed=seed, dtype=np.float32, gradient="exact")
                try:
                    net.train(X, y, 40, float(lr), verbose=False, batch_size=batch_size)
                except FloatingPointError as exc:
                    k = len(net.loss_history)
                    if k > 0:
                        return seed, X, y, float(lr), k, net, exc
    pytest.fail("no learning rate diverges at a later epoch: the search needs widening")


@pytest.mark.parametrize("batch_size", [None, 16], ids=["full", "minibatch"])
def test_divergence_at_a_later_epoch_keeps_the_weights_that_epoch_started_from(batch_size):
    seed, X, y, lr, k, net, exc = _late_divergence(batch_size)
    assert re.search(rf"\b{k}\b", str(exc)), "the error names the epoch"
    assert np.isfinite(net.loss_history).all()
    replay = fastnn.SimpleNeuralNetwork(3, 4, 1, seed=seed, dtype=np.float32, gradient="exact")
    losses = replay.train(X, y, k, lr, verbose=False, batch_size=batch_size)
    assert losses.tobytes() == net.loss_history.tobytes()
    for name in PARAMS:
        assert getattr(net, name).tobytes() == getattr(replay, name).tobytes(), name
    # The refused epoch really diverges from there, and refusing it again changes nothing.
    # (The replay has drawn k shuffles, as the network had when epoch k began: the same order again.)
    before = {name: getattr(replay, name).tobytes() for name in PARAMS}
    with pytest.raises(FloatingPointError):
        replay.train(X, y, 1, lr, verbose=False, batch_size=batch_size)
    assert {name: getattr(replay, name).tobytes() for name in PARAMS} == before
