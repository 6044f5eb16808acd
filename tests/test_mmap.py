"""Memory-mapped X and y: read a block at a time, converted block by block, bitwise the results of the same rows in memory."""

import os
import threading

import numpy as np
import pytest
from naive import traced_peak

import fastnn
from fastnn import _config, _disk


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few hundred rows, so that the tests' small files take many blocks and reads."""
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    monkeypatch.setattr(_config, "BLAS_BLOCK_ELEMENTS", 4096)  # 256 rows a block with 16 hidden units
    monkeypatch.setattr(_config, "CHUNK_ELEMENTS", 1024)  # 64 rows a chunk
    monkeypatch.setattr(_config, "DISK_BLOCK_ELEMENTS", 2048)


def data(n=3000, f=5, dtype=np.float32):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, f)).astype(dtype)
    y = (X[:, :1] * X[:, 1:2] > 0).astype(dtype)
    return X, y


def on_disk(tmp_path, X, y, order="C"):
    np.save(tmp_path / "X.npy", np.asarray(X, order=order))
    np.save(tmp_path / "y.npy", y)
    return np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")


def trained(X, y, dtype=np.float32, epochs=5, **kwargs):
    net = fastnn.SimpleNeuralNetwork(X.shape[1], 16, 1, seed=0, dtype=dtype)
    net.train(X, y, epochs, 1e-3, verbose=False, **kwargs)
    return net


def same(a, b):
    for p, q in zip(a._params(), b._params()):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 32}, {"batch_size": 50, "shuffle": False}])
def test_a_file_trains_bitwise_as_the_same_rows_in_memory(tmp_path, small_blocks, kwargs):
    X, y = data()
    Xm, ym = on_disk(tmp_path, X, y)
    assert isinstance(Xm, np.memmap)
    same(trained(Xm, ym, **kwargs), trained(X, y, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 32}])
def test_a_float64_fortran_file_for_a_float32_network_is_converted_block_by_block(tmp_path, small_blocks, kwargs):
    X, y = data(dtype=np.float64)
    Xm, ym = on_disk(tmp_path, X, y, order="F")
    assert Xm.flags.f_contiguous and Xm.dtype == np.float64
    same(trained(Xm, ym, **kwargs), trained(X.astype(np.float32), y.astype(np.float32), **kwargs))


def test_small_data_from_a_file_and_a_view_of_a_memmap(tmp_path):
    X, y = data(200)
    Xm, ym = on_disk(tmp_path, X.astype(np.float64), y)
    # A view (the CLI's held-out split) is still read from its file; small data takes the packed path.
    same(trained(Xm[:150], ym[:150]), trained(X[:150], y[:150]))


def test_forward_predict_and_score_read_the_file_in_blocks(tmp_path, small_blocks):
    X, y = data()
    Xm, ym = on_disk(tmp_path, X.astype(np.float64), y)
    net = trained(X, y)
    np.testing.assert_array_equal(net.predict_proba(Xm), net.predict_proba(X))
    np.testing.assert_array_equal(net.predict(Xm), net.predict(X))
    assert net.score(Xm, ym) == net.score(X, y)
    out = net.forward(Xm).copy()
    hidden = net.hidden_output.copy()
    np.testing.assert_array_equal(out, net.forward(X))
    np.testing.assert_array_equal(hidden, net.hidden_output)
    # After training from the file, the activations are computed from it when read.
    net = trained(Xm, ym)
    np.testing.assert_array_equal(net.output, trained(X, y).output)


def test_a_file_with_nan_or_bad_targets_is_refused_block_by_block(tmp_path, small_blocks):
    X, y = data()
    X[2500, 3] = np.nan
    Xm, ym = on_disk(tmp_path, X, y)
    with pytest.raises(ValueError, match="X must be finite"):
        trained(Xm, ym)
    X, y = data()
    y[2999] = 2
    Xm, ym = on_disk(tmp_path, X, y)
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        trained(Xm, ym)


def test_the_reader_reads_on_its_own_thread(tmp_path, small_blocks, monkeypatch):
    X, y = data()
    Xm, ym = on_disk(tmp_path, X, y)
    threads = set()
    read = _disk.FileRows.read

    def spy(self, *args):
        threads.add(threading.current_thread().name)
        return read(self, *args)

    monkeypatch.setattr(_disk.FileRows, "read", spy)
    trained(Xm, ym, epochs=1)
    assert any(name.startswith("fastnn-reader") for name in threads)


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 32}])
@pytest.mark.parametrize("change", ["truncate", "rewrite"])
def test_a_file_changed_while_training_raises_and_keeps_the_last_whole_epoch(tmp_path, small_blocks, kwargs, change):
    X, y = data()
    Xm, ym = on_disk(tmp_path, X, y)
    reads, epochs_before = [0], 3
    per_epoch = -(-3000 // 256) if not kwargs else -(-3000 // (2048 // 5 // 32 * 32))
    read, take, view = _disk.FileRows.read, _disk.FileRows.take, _disk.FileRows.view

    def changing(method):
        def spy(self, *args):
            if self.name == "X":
                reads[0] += 1
                if reads[0] == epochs_before * per_epoch + 3:  # within epoch 3
                    path = tmp_path / "X.npy"
                    if change == "truncate":
                        os.truncate(path, os.path.getsize(path) // 2)
                    else:
                        os.utime(path, ns=(0, 0))
            return method(self, *args)

        return spy

    monkeypatch = pytest.MonkeyPatch()
    check = _disk.check_finite

    def counted_from_training(X):  # the reads of the finite check are not counted
        result = check(X)
        reads[0] = 0
        return result

    monkeypatch.setattr(_disk, "check_finite", counted_from_training)
    monkeypatch.setattr(_disk.FileRows, "read", changing(read))
    monkeypatch.setattr(_disk.FileRows, "take", changing(take))
    monkeypatch.setattr(_disk.FileRows, "view", changing(view))
    monkeypatch.setattr(_config, "CHUNK_SECONDS", 1e-9)  # many calls of few epochs
    net = fastnn.SimpleNeuralNetwork(5, 16, 1, seed=0, dtype=np.float32)
    try:
        with pytest.raises(OSError, match="truncated or changed while fastnn read it"):
            net.train(Xm, ym, 10, 1e-3, verbose=False, **kwargs)
    finally:
        monkeypatch.undo()
    reference = trained(X, y, epochs=len(net.loss_history), **kwargs)
    assert len(net.loss_history) == epochs_before
    same(net, reference)


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 64}])
def test_memory_stays_a_few_blocks_whatever_the_file(tmp_path, monkeypatch, kwargs):
    """A 40 MB float64 file for a float32 network (converted whole: 20 MB) and
    blocks of 2**16 values: the buffers, the reads and the shuffle's order
    (8 bytes a row) stay far below one conversion of the file."""
    monkeypatch.setattr(_config, "BLAS_BLOCK_ELEMENTS", 1 << 16)
    monkeypatch.setattr(_config, "DISK_BLOCK_ELEMENTS", 1 << 16)
    n, f = 500_000, 10
    rng = np.random.default_rng(0)
    Xm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=(n, f))
    for first in range(0, n, 100_000):
        Xm[first : first + 100_000] = rng.standard_normal((100_000, f))
    np.save(tmp_path / "y.npy", (rng.random((n, 1)) < 0.5).astype(np.float32))
    del Xm
    Xm, ym = np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    net = fastnn.SimpleNeuralNetwork(f, 16, 1, seed=0, dtype=np.float32)
    net.train(Xm[:5000], ym[:5000], 1, 1e-4, verbose=False, **kwargs)  # compile outside the measurement
    peak = traced_peak(lambda: net.train(Xm, ym, 2, 1e-5, verbose=False, **kwargs))
    order = 8 * n if kwargs else 0
    assert peak < order + 6e6 < Xm.nbytes / 2, f"peak {peak / 1e6:.1f} MB"
    peak = traced_peak(lambda: net.predict_proba(Xm))
    assert peak < 4 * n + 6e6, f"peak {peak / 1e6:.1f} MB"  # the output (4 bytes a row) and a few blocks


def test_the_cli_generates_files_and_trains_from_them(tmp_path, capsys):
    from fastnn.__main__ import main

    out = tmp_path / "data"
    assert main(["generate", "--dataset", "xor", "--n-features", "3", "--n-samples", "5000", "--dtype", "float32",
                 "--seed", "3", "--out", str(out)]) == 0
    X, y = np.load(out / "X.npy"), np.load(out / "y.npy")
    Xm, ym = fastnn.datasets.make_xor(5000, 3, noise=0.2, seed=3, dtype=np.float32)
    np.testing.assert_array_equal(X, Xm)
    np.testing.assert_array_equal(y, ym)
    assert not list(out.glob("*.partial"))
    capsys.readouterr()
    assert main(["train", "--data", str(out), "--epochs", "2", "--no-progress", "--dtype", "float64"]) == 0
    text = capsys.readouterr().out
    assert "X.npy: 5,000 x 3 float32 (0 MB), read from the file in" in text and "4,000 rows to train on" in text
    assert "held-out accuracy" in text
    assert main(["train", "--data", str(tmp_path / "none"), "--no-progress"]) == 2
    assert "no X.npy there" in capsys.readouterr().err


@pytest.mark.parametrize("batch_size", [None, 8], ids=["full", "minibatch"])
def test_blocks_read_from_a_file_reach_the_kernels_as_rows_in_memory_do(tmp_path, monkeypatch, batch_size):
    """Read-only, as _validation.rows hands out rows in memory: a writable buffer is another argument
    type, and training from a file compiled (a few seconds, announced) a second variant of its kernel."""
    from fastnn._kernels import rows, stream

    module, name = (rows, "hidden_rows") if batch_size is None else (stream, "train_batches")
    real, seen = getattr(module, name), []

    def spy(*args):
        seen.append(tuple(a.flags.writeable for a in args[:2]))
        return real(*args)

    monkeypatch.setattr(module, name, spy)
    X = np.random.default_rng(0).normal(size=(64, 2))
    y = (X[:, :1] > 0).astype(np.float32)  # another dtype than the network's: converted block by block
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    Xm, ym = np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    # The chunks in Python (not ROWS_COMPILED): compiled, they call hidden_rows from compiled code, which this spy is not.
    with _config.override(BLAS_MIN_WORK=0, ROWS_COMPILED=False):
        fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0).train(X, y, 1, 0.1, verbose=False, batch_size=batch_size)
        in_memory, seen[:] = set(seen), []
        fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0).train(Xm, ym, 1, 0.1, verbose=False, batch_size=batch_size)
    assert set(seen) == in_memory


def test_a_file_reaches_the_compiled_row_kernel_as_rows_in_memory_do(tmp_path, monkeypatch):
    """The same argument types from a file as from memory: no second variant of rows.train_blas to compile."""
    from fastnn import _paths
    from fastnn._kernels import rows

    if not _paths.compiled_rows(600, (2, 2, 1), np.float64):
        pytest.skip("the row path's chunks are not compiled here")
    real, seen = rows.train_blas, []

    def spy(*args):
        seen.append(tuple((a.dtype, a.flags.writeable, a.flags.c_contiguous) for a in args[1:3]))
        return real(*args)

    monkeypatch.setattr(rows, "train_blas", spy)
    for n in (64, 600):  # read whole, and a block at a time
        X = np.random.default_rng(0).normal(size=(n, 2))
        y = (X[:, :1] > 0).astype(np.float32)
        np.save(tmp_path / "X.npy", X)
        np.save(tmp_path / "y.npy", y)
        Xm, ym = np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
        with _config.override(BLAS_MIN_WORK=0, BLAS_BLOCK_ELEMENTS=512):  # blocks of 256 rows
            fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0).train(X, y, 1, 0.1, verbose=False)
            in_memory, seen[:] = set(seen), []
            fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0).train(Xm, ym, 1, 0.1, verbose=False)
        assert in_memory and set(seen) == in_memory, n
        seen.clear()
