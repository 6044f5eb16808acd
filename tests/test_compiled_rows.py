"""The row path's epochs of one block in one compiled call (rows.train_blas), NumPy's BLAS called from compiled code.

They must give the bits of the same epochs in Python between NumPy's
products (ROWS_COMPILED False), on one thread or on the team.
"""

import numpy as np
import pytest
import threadpoolctl

from naive import ACTIVATIONS, PARAMS

import fastnn
from fastnn import _config, _paths, _threads
from fastnn._kernels import _blas, jit, rows

pytestmark = pytest.mark.skipif(not _threads.gemm_address(np.float64),
                                reason="NumPy's BLAS is not OpenBLAS with 64-bit integers: the row path stays in Python")


def test_numpy_wheels_openblas_gemm_is_found():
    blas = _threads.numpy_blas(threadpoolctl.threadpool_info(), _threads.numpy_build())
    assert blas.get("prefix") == "libscipy_openblas" and "openblas64_" in blas["filepath"]
    addresses = _threads.gemm_address(np.float32), _threads.gemm_address(np.float64)
    assert all(addresses) and addresses[0] != addresses[1]


@jit(nogil=True)
def _products(blas, A, B, D, out):
    """out = (A B, A^T D, D B^T): the three layouts the row path multiplies (C by C, transposed by C, C by transposed)."""
    AB, AtD, DBt = out
    _blas.matmul(blas, A, B, AB)
    _blas.matmul(blas, A.T, D, AtD)
    _blas.matmul(blas, D, B.T, DBt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(2, 2, 2), (7, 3, 5), (64, 100, 256), (300, 17, 4)])
def test_matmul_gives_numpys_bits(dtype, m, k, n):
    rng = np.random.default_rng(m * k * n)
    A, B = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    D = rng.standard_normal((m, n)).astype(dtype)
    out = np.full((m, n), np.nan, dtype), np.full((k, n), np.nan, dtype), np.full((m, k), np.nan, dtype)
    with _threads.one_blas_thread():
        _products(_threads.gemm_address(dtype), A, B, D, out)
        expected = A @ B, A.T @ D, D @ B.T
    for got, want in zip(out, expected):
        assert np.array_equal(got, want)
    np.testing.assert_allclose(out[0], A.astype(float) @ B.astype(float), rtol=1e-4, atol=1e-4)


def _train(monkeypatch, n, sizes, dtype, compiled, team=True, epochs=40, block=None):
    """Train on the row path; the calls of the compiled kernels' leaders and helpers (True, False) are returned."""
    if block is not None:
        monkeypatch.setattr(_config, "BLAS_BLOCK_ELEMENTS", block * sizes[1])  # blocks of `block` rows
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    monkeypatch.setattr(_config, "STREAM_MIN_WORK", 10**18)
    monkeypatch.setattr(_config, "UNIT_SPLIT_MIN_FEATURES", 10**18)  # many features stay on rows
    monkeypatch.setattr(_config, "CHUNK_ELEMENTS", 2048)  # several chunks of the tests' rows
    monkeypatch.setattr(_config, "PACKED_TEAM_WORK", 0 if team else 10**18)
    monkeypatch.setattr(_config, "ROWS_COMPILED", compiled)
    f, h, o = sizes
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, f)).astype(dtype)
    y = (rng.random((n, o)) < 0.5).astype(dtype)
    net = fastnn.SimpleNeuralNetwork(f, h, o, seed=3, dtype=dtype)
    calls = []
    real = rows.train_blas
    monkeypatch.setattr(rows, "train_blas", lambda *args: calls.append(args[-1][2]) or real(*args))
    losses = net.train(X, y, epochs, 0.5 / n, verbose=False)  # the gradients are sums over the rows
    assert _paths.plan(n, sizes, dtype) == "rows"
    assert bool(calls) == compiled
    assert _paths.RowEpochs(net, X, y, True, 0.1).columns == (sizes[0] >= 512)  # the shapes meant to take the columns
    return net, losses, calls


# (rows, sizes, rows a block): one block (whole epochs in a call of rows.train_blas) or several (a call each)
SHAPES = [(200, (8, 32, 1), None), (200, (8, 32, 3), None), (333, (20, 64, 2), None), (64, (100, 256, 1), None),
          (50, (3, 2, 2), None), (700, (8, 32, 1), 256), (600, (5, 16, 3), 256),
          (100, (600, 8, 1), None), (300, (1024, 6, 2), 256)]  # W1's gradient by columns of X (RowEpochs.columns)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, sizes, block", SHAPES)
def test_compiled_epochs_give_the_bits_of_the_epochs_in_python(monkeypatch, dtype, n, sizes, block):
    python, python_losses, _ = _train(monkeypatch, n, sizes, dtype, compiled=False, block=block)
    net, losses, calls = _train(monkeypatch, n, sizes, dtype, compiled=True, block=block)
    assert np.array_equal(losses, python_losses)
    for name in PARAMS + ACTIVATIONS:
        assert np.array_equal(getattr(net, name), getattr(python, name)), name
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


@pytest.mark.parametrize("block", [None, 256])
def test_the_team_and_one_thread_give_the_same_bits(monkeypatch, block):
    n, sizes = 600, (16, 64, 4)
    team, team_losses, calls = _train(monkeypatch, n, sizes, np.float32, compiled=True, team=True, block=block)
    assert False in calls or _threads.helpers() is None  # a helper's call beside the leader's, where there are helpers
    monkeypatch.setattr(_threads, "helpers", lambda: None)
    alone, alone_losses, calls = _train(monkeypatch, n, sizes, np.float32, compiled=True, team=False, block=block)
    assert calls and all(calls)  # the leader alone
    assert np.array_equal(team_losses, alone_losses)
    assert np.array_equal(team.weights_input_hidden, alone.weights_input_hidden)


def test_what_is_compiled(monkeypatch):
    """Chunks whose products np.matmul makes gemms of, from rows as they lie, and not those summed by columns."""
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    monkeypatch.setattr(_config, "STREAM_MIN_WORK", 10**18)
    net = fastnn.SimpleNeuralNetwork(4, 8, 2, seed=0)
    X, y = np.ones((300, 4)), np.ones((300, 2))
    assert _paths.RowEpochs(net, X, y, True, 0.1).blas == _threads.gemm_address(np.float64)
    assert _paths.RowEpochs(net, np.ones((300_000, 4)), np.ones((300_000, 2)), True, 0.1).blas  # several blocks too
    assert not _paths.RowEpochs._compiled_rows(np.asfortranarray(X), y)
    one = fastnn.SimpleNeuralNetwork(1, 8, 2, seed=0)  # np.matmul makes no gemm of one input
    assert _paths.RowEpochs(one, X[:, :1].copy(), y, True, 0.1).blas == 0
    wide = fastnn.SimpleNeuralNetwork(1000, 16, 1, seed=0)  # the W1 gradient summed by columns of X, compiled too
    epochs = _paths.RowEpochs(wide, np.ones((3000, 1000)), np.ones((3000, 1)), True, 0.1)
    assert epochs.columns and epochs.blas


def test_the_python_chunks_add_their_losses_as_the_kernel_does():
    """One after another: sum() adds floats with compensated summation from Python 3.12, which gives other bits."""
    assert _paths.added([1e16, 1.0, -1e16]) == 0.0  # 1e16 + 1 rounds to 1e16
    assert _paths.added([0.1, 0.2, 0.3]) == (0.1 + 0.2) + 0.3


def test_a_few_rows_of_a_file_are_read_whole_and_compiled(monkeypatch, tmp_path):
    monkeypatch.setattr(_threads, "narrow_blas", lambda: False)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 40)), (rng.random((64, 4)) < 0.5).astype(float)
    np.save(tmp_path / "X.npy", X)
    on_disk = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert _paths.plan(64, (40, 64, 4), np.float64) == "rows"  # the few-rows rule: width 2,816
    calls = []
    real = rows.train_blas
    monkeypatch.setattr(rows, "train_blas", lambda *args: calls.append(args[7].shape[0]) or real(*args))
    nets = [fastnn.SimpleNeuralNetwork(40, 64, 4, seed=0) for _ in range(2)]
    for net, data in zip(nets, (X, on_disk)):
        net.train(data, y, 30, 1e-3, verbose=False)
    assert calls and all(calls)  # whole epochs in each call, from the file's rows too
    assert np.array_equal(nets[0].loss_history, nets[1].loss_history)
    assert np.array_equal(nets[0].weights_input_hidden, nets[1].weights_input_hidden)
