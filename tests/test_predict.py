"""predict_proba, predict and score; save and load."""

import io
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest
from naive import PARAMS, XOR_X, XOR_Y, reference_forward

import fastnn
from fastnn import _config, _layout
from fastnn._kernels import rows



@pytest.fixture
def net():
    net = fastnn.SimpleNeuralNetwork(2, 4, 1, seed=0, gradient="exact")
    net.train(XOR_X, XOR_Y, 3000, 0.5, verbose=False)
    return net


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 4, 257, 1000])
def test_predict_proba_equals_forward_and_changes_nothing(dtype, n, path):
    net = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=1, dtype=dtype)
    X = np.random.default_rng(n).normal(size=(n, 3))
    proba = net.predict_proba(X)
    assert net.output is None and net.hidden_input is None  # no attribute set
    assert proba.shape == (n, 2) and proba.dtype == dtype
    np.testing.assert_allclose(proba, net.forward(X), rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_predict_proba_on_large_data_over_several_chunks_of_rows(monkeypatch):
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    monkeypatch.setattr(_config, "CHUNK_ELEMENTS", 300 * 5)  # 300 rows a chunk at most: 4 chunks of 250
    assert len(_layout.row_chunks(1000, 5, 3)) == 4
    net = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=1)
    X = np.random.default_rng(2).normal(size=(1000, 3))
    np.testing.assert_allclose(net.predict_proba(X), reference_forward(net, X), rtol=1e-14)


def test_a_block_of_enough_work_is_cut_in_two_chunks_at_least():
    """1,000 rows, 64 inputs, hidden 128 fit in one chunk of CHUNK_ELEMENTS activations, but are 8.2 million
    multiply-adds in the first layer: two chunks, one a thread. 64 rows of 1,000 inputs, hidden 64, are half
    that: one chunk."""
    assert 1000 * 128 <= _config.CHUNK_ELEMENTS and 1000 * 128 * 64 >= _config.SPLIT_WORK
    assert _layout.row_chunks(1000, 128, 64) == [(0, 500), (500, 1000)]
    assert 64 * 64 * 1000 < _config.SPLIT_WORK
    assert _layout.row_chunks(64, 64, 1000) == [(0, 64)]


def test_large_data_layers_write_their_sigmoids_to_another_array_or_in_place(monkeypatch):
    """bias_sigmoid_rows(Z, b, S) with S = Z runs LLVM's scalar loop, several times slower: forward and
    predict_proba call it with two arrays, or bias_sigmoid_in_place with one."""
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    shared, original = [], rows.bias_sigmoid_rows

    def checked(Z, b, S):
        shared.append(np.shares_memory(Z, S))
        return original(Z, b, S)

    monkeypatch.setattr(rows, "bias_sigmoid_rows", checked)
    net = fastnn.SimpleNeuralNetwork(3, 5, 2, seed=1)
    X = np.random.default_rng(2).normal(size=(1000, 3))
    np.testing.assert_array_equal(net.predict_proba(X), net.forward(X))
    assert shared and not any(shared)  # forward called it, for each layer, never over its input


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e300), (np.float32, 1e30)])
def test_overflowing_products_on_large_data_without_warnings_as_on_small_data(dtype, big, monkeypatch):
    """X W1 overflows to inf, whose sigmoid is 1: the same outputs on both paths, and no RuntimeWarning."""
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0, dtype=dtype)
    net.weights_input_hidden = np.full((2, 3), big)
    net.weights_hidden_output = np.ones((3, 1))
    X = np.full((5, 2), big)
    results = {}
    for path, work in [("blocks", 10**18), ("blas", 0)]:
        monkeypatch.setattr(_config, "BLAS_MIN_WORK", work)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results[path] = net.predict_proba(X), net.forward(X)
    expected = 1 / (1 + np.exp(-(3.0 + float(net.bias_output[0, 0]))))  # every hidden unit at exactly 1
    for path, (proba, forward) in results.items():
        np.testing.assert_allclose(proba, expected, rtol=1e-6, err_msg=path)
        np.testing.assert_array_equal(forward, proba, err_msg=path)


def test_predict_and_score(net):
    proba = net.predict_proba(XOR_X)
    np.testing.assert_array_equal(net.predict(XOR_X), (proba > 0.5).astype(np.int64))
    np.testing.assert_array_equal(net.predict(XOR_X), XOR_Y)  # this network has learned XOR
    assert net.score(XOR_X, XOR_Y) == 1.0
    assert net.score(XOR_X, 1 - XOR_Y) == 0.0
    assert net.score(XOR_X, [[0], [1], [1], [1]]) == 0.75
    np.testing.assert_array_equal(net.predict(XOR_X, threshold=1.0), np.zeros((4, 1)))
    np.testing.assert_array_equal(net.predict(XOR_X, threshold=0.0), np.ones((4, 1)))


def test_score_counts_a_sample_right_only_if_every_output_is():
    net = fastnn.SimpleNeuralNetwork(2, 3, 2, seed=0)
    pred = net.predict(XOR_X)
    y = pred.copy()
    y[0, 1] = 1 - y[0, 1]
    assert net.score(XOR_X, y) == 0.75


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda n: n.predict(XOR_X, threshold=1.5), ValueError, r"threshold must be a number in \[0, 1\], got 1.5"),
        (lambda n: n.predict(XOR_X, threshold="0.5"), TypeError, "threshold must be a number"),
        (lambda n: n.score(XOR_X, [[0], [0.5], [1], [0]]), ValueError, "y must hold labels 0 or 1"),
        (lambda n: n.score(XOR_X, XOR_Y[:3]), ValueError, "y must have 4 rows"),
        (lambda n: n.predict_proba(np.zeros((4, 3))), ValueError, r"X must have 2 columns \(input_size\)"),
    ],
)
def test_bad_prediction_input(net, call, error, message):
    with pytest.raises(error, match=message):
        call(net)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_and_load_round_trip(net, tmp_path, dtype):
    net32 = fastnn.SimpleNeuralNetwork(2, 4, 1, seed=0, dtype=dtype, gradient="exact")
    for name in PARAMS:
        setattr(net32, name, getattr(net, name))
    path = tmp_path / "net.npz"
    net32.save(path)
    loaded = fastnn.SimpleNeuralNetwork.load(path)
    assert (loaded.input_size, loaded.hidden_size, loaded.output_size) == (2, 4, 1)
    assert loaded.dtype == dtype and loaded.gradient == "exact"
    for name in PARAMS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(net32, name), err_msg=name)
    np.testing.assert_array_equal(loaded.predict_proba(XOR_X), net32.predict_proba(XOR_X))
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary file left behind


def test_a_failed_save_leaves_the_old_file(net, tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    net.save(path)
    good = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    other = fastnn.SimpleNeuralNetwork(2, 4, 1, seed=1)
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["net.npz"]


def test_loading_bad_files_is_a_clear_error(net, tmp_path):
    good = tmp_path / "good.npz"
    net.save(good)
    data = good.read_bytes()

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.npz is not a readable fastnn network file"):
        fastnn.SimpleNeuralNetwork.load(truncated)

    # Damaged near the end, in the zip's directory: some bytes there made the
    # reader seek before the start of the file (an OSError, not a missing file).
    for position in range(len(data) - 8, len(data)):
        damaged = tmp_path / "damaged.npz"
        damaged.write_bytes(data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :])
        try:
            loaded = fastnn.SimpleNeuralNetwork.load(damaged)
        except ValueError as exc:
            assert "damaged.npz is not" in str(exc)
        else:  # a byte the reader does not use: the network is intact
            np.testing.assert_array_equal(loaded.weights_input_hidden, net.weights_input_hidden)

    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="is not a readable fastnn network file"):
        fastnn.SimpleNeuralNetwork.load(text)

    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ValueError, match="is not a fastnn network file"):
        fastnn.SimpleNeuralNetwork.load(foreign)

    with np.load(good) as f:
        fields = dict(f)
    for change, message in [
        (dict(format_version=np.array(2)), "has format version 2; this fastnn reads version 1"),
        (dict(weights_input_hidden=np.zeros((3, 4))), r"weights_input_hidden must have shape \(2, 4\), got \(3, 4\)"),
        (dict(weights_input_hidden=np.zeros((2, 4), np.float32)), "weights_input_hidden is stored as float32, the file says float64"),
        (dict(gradient=np.array("other")), "gradient must be one of"),
        (dict(sizes=np.array([2.0, 4.0, 1.0])), "sizes must be 3 positive integers"),
        (dict(sizes=np.array([2, 4 * 10**9, 1])), r"weights_input_hidden must have shape \(2, 4000000000\)"),  # checked before allocating
        (dict(format_version=np.array([1, 1])), "format_version must be an integer"),
        (dict(dtype=np.array(3)), "dtype must be a string"),
        (dict(bias_output=np.array([[np.nan]])), "bias_output must be finite"),
    ]:
        bad = tmp_path / "bad.npz"
        np.savez(bad, **{**fields, **change})
        with pytest.raises(ValueError, match=message):
            fastnn.SimpleNeuralNetwork.load(bad)

    with zipfile.ZipFile(good) as z, zipfile.ZipFile(tmp_path / "missing.npz", "w") as out:
        for name in z.namelist():
            if name != "bias_output.npy":
                out.writestr(name, z.read(name))
    with pytest.raises(ValueError, match="is missing bias_output"):
        fastnn.SimpleNeuralNetwork.load(tmp_path / "missing.npz")

    with pytest.raises(FileNotFoundError):
        fastnn.SimpleNeuralNetwork.load(tmp_path / "nothing-here.npz")
    with pytest.raises(IsADirectoryError):
        fastnn.SimpleNeuralNetwork.load(tmp_path)


def test_load_checks_its_seed_first_and_leaves_numpy_global_state_alone(net, tmp_path):
    path = tmp_path / "net.npz"
    net.save(path)
    with pytest.raises(TypeError, match="seed must be None, an int or a numpy.random.Generator, got 'abc'"):
        fastnn.SimpleNeuralNetwork.load(path, seed="abc")
    with pytest.raises(ValueError, match="seed must be None, a non-negative int or a numpy.random.Generator, got -1"):
        fastnn.SimpleNeuralNetwork.load(path, seed=-1)
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    fastnn.SimpleNeuralNetwork.load(path)
    assert np.random.rand() == expected
    # The seed drives later shuffles: two loads with one seed train alike.
    a, b = fastnn.SimpleNeuralNetwork.load(path, seed=5), fastnn.SimpleNeuralNetwork.load(path, seed=5)
    for m in (a, b):
        m.train(np.tile(XOR_X, (8, 1)), np.tile(XOR_Y, (8, 1)), 3, 0.1, verbose=False, batch_size=4)
    np.testing.assert_array_equal(a.weights_input_hidden, b.weights_input_hidden)


def test_save_keeps_the_permissions_of_the_file_it_replaces(net, tmp_path):
    path = tmp_path / "net.npz"
    net.save(path)
    os.chmod(path, 0o600)
    net.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_loading_what_save_never_writes_says_so_in_plain_words(net, tmp_path):
    """Issue 19: a .npy, a pickle or an .npz with an object member: what the file is not, without NumPy's
    pickle advice or internal exception text."""
    npy = tmp_path / "weights.npy"
    np.save(npy, np.zeros(3))
    pickled = tmp_path / "net.pkl"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2]}))
    good = tmp_path / "good.npz"
    net.save(good)
    objects = tmp_path / "objects.npz"
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(objects, "w") as out:
        for name in z.namelist():
            if name == "sizes.npy":
                buffer = io.BytesIO()
                np.save(buffer, np.array([2, 4, None], dtype=object), allow_pickle=True)
                out.writestr(name, buffer.getvalue())
            else:
                out.writestr(name, z.read(name))
    for path, words in [
        (npy, "it holds a single NumPy array (.npy), not the .npz archive"),
        (pickled, "it is not an .npz archive"),
        (objects, "its member 'sizes' holds Python objects (pickled data), which a fastnn file never does"),
    ]:
        with pytest.raises(ValueError) as info:
            fastnn.SimpleNeuralNetwork.load(path)
        message = str(info.value)
        assert message.startswith(str(path)) and words in message, message
        for internal in ["allow_pickle", "context manager", "Error:", "pickled (object) data"]:
            assert internal not in message, message


@pytest.mark.parametrize("where", ["missing", "not-a-directory"])
def test_save_into_a_missing_directory_names_the_directory(net, tmp_path, where):
    """Issue 19: the error names the directory the caller chose, not the temporary file's name."""
    if where == "missing":
        directory = tmp_path / "no" / "such"
    else:
        directory = tmp_path / "file.txt"
        directory.write_text("a file")
    with pytest.raises(OSError) as info:
        net.save(directory / "net.npz")
    assert info.value.filename == str(directory)
    assert str(directory) in str(info.value) and ".fastnn-" not in str(info.value)


@pytest.mark.parametrize("tmpfile", [True, False], ids=["O_TMPFILE", "named"])
def test_save_removes_what_killed_saves_left_and_leaves_saves_in_progress(net, tmp_path, monkeypatch, tmpfile):
    """Issue 20: a temporary file of this target that no process holds locked is removed by the next save;
    one a save is writing (locked), and those of other targets, are left alone."""
    import fcntl

    from fastnn import _io

    if tmpfile and not _io._TMPFILE:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(_io, "_TMPFILE", tmpfile)
    target = tmp_path / "net.npz"
    prefix = _io._prefix(str(target))
    left = tmp_path / f"{prefix}dead.npz.tmp"
    left.write_bytes(b"PK half a file")
    writing = tmp_path / f"{prefix}live.npz.tmp"
    writing.write_bytes(b"PK")
    other = tmp_path / f"{_io._prefix(str(tmp_path / 'other.npz'))}dead.npz.tmp"
    other.write_bytes(b"PK")
    with open(writing, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        net.save(target)
        assert sorted(os.listdir(tmp_path)) == sorted(["net.npz", writing.name, other.name])
    np.testing.assert_array_equal(fastnn.SimpleNeuralNetwork.load(target).weights_input_hidden,
                                  net.weights_input_hidden)
    os.chmod(target, 0o640)
    net.save(target)  # the mode of the file it replaces, on either path
    assert os.stat(target).st_mode & 0o777 == 0o640


def test_narrow_layers_on_many_rows_keep_forwards_bits_at_the_default_thresholds():
    """The stream route can serve a shape whose forward pass stays on the packed kernels: the activation
    attributes after training must still be the bits forward gives for the last epoch's weights."""
    from fastnn import _paths

    n, sizes = 122_000, (1, 8, 1)
    assert _paths.plan(n, sizes, np.float64) == "stream" and not _paths.uses_rows(n, sizes, np.float64)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 1))
    y = (X > 0).astype(float)
    a, b = (fastnn.SimpleNeuralNetwork(*sizes, seed=0) for _ in range(2))
    a.train(X, y, 2, 1e-4, verbose=False)
    b.train(X, y, 1, 1e-4, verbose=False)  # b now has the weights a's last epoch started from
    np.testing.assert_array_equal(a.output, b.forward(X))
