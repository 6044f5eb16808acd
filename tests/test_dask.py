"""Dask arrays: full-batch training on a LocalCluster of 2 worker processes, prediction on the workers, faults."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import fastnn
from fastnn import _config, datasets

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
import dask  # noqa: E402

# After 20 epochs on a well-conditioned problem, the chunks' sums (cut at
# other rows than in memory) leave the weights within this of in-memory training.
TOLERANCE = 1e-10


def _warm():
    """Compile the row kernels in this process first, so that the workers read them from the cache, not both compile into it."""
    X, y = datasets.make_xor(600, 4, seed=0)
    with _config.override(BLAS_MIN_WORK=0):
        for dtype in (np.float64, np.float32):
            net = fastnn.SimpleNeuralNetwork(4, 8, 1, seed=0, dtype=dtype)
            net.train(X, y, 1, 1e-3, verbose=False)
    for dtype in (np.float64, np.float32):
        fastnn.SimpleNeuralNetwork(4, 8, 1, seed=0, dtype=dtype).predict_proba(X)


@pytest.fixture(scope="module")
def client():
    _warm()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1"
    ) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        yield client


def trained(X, y, epochs=20, dtype=np.float64, **kwargs):
    net = fastnn.SimpleNeuralNetwork(X.shape[1], 8, 1, seed=0, dtype=dtype)
    net.train(X, y, epochs, 1e-4, verbose=False, **kwargs)
    return net


def test_import_fastnn_does_not_import_dask():
    code = "import sys, fastnn, fastnn.datasets; print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_on_the_cluster_equals_training_in_memory(client, dtype):
    X, y = datasets.make_moons(40_000, noise=0.2, seed=1, dtype=dtype)
    Xd, yd = da.from_array(X, chunks=(7_000, -1)), da.from_array(y, chunks=(7_000, -1))
    here, there = trained(X, y, dtype=dtype), trained(Xd, yd, dtype=dtype)
    tol = TOLERANCE if dtype == np.float64 else 1e-5  # float32 weights: the products round to float32
    for p, q in zip(here._params(), there._params()):
        np.testing.assert_allclose(q, p, rtol=0, atol=tol)
    np.testing.assert_allclose(there.loss_history, here.loss_history, rtol=tol)
    assert there.output is None  # no activation attribute from the workers


def test_the_same_weights_on_two_workers_and_on_one_thread(client):
    Xd, yd = datasets.make_xor(30_000, 4, noise=0.1, seed=2, chunks=4_000)
    two = trained(Xd, yd)
    with dask.config.set(scheduler="synchronous"):
        one = trained(Xd, yd)
    again = trained(Xd, yd)
    for a, b, c in zip(two._params(), one._params(), again._params()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(two.loss_history, one.loss_history)


def test_data_generated_on_the_workers_equals_the_in_memory_call(client):
    Xd, yd = datasets.make_blobs(150_000, 3, seed=4, chunks=50_001)
    X, y = datasets.make_blobs(150_000, 3, seed=4)
    np.testing.assert_array_equal(Xd.compute(), X)
    np.testing.assert_array_equal(yd.compute(), y)
    assert Xd.chunks[0] == (50_001, 50_001, 49_998)


def test_predict_proba_predict_and_score_of_a_dask_array_run_on_the_workers(client):
    Xd, yd = datasets.make_moons(20_000, noise=0.2, seed=5, chunks=6_000)
    X, y = Xd.compute(), yd.compute()
    net = trained(X, y, epochs=5)
    proba = net.predict_proba(Xd)
    assert isinstance(proba, da.Array) and proba.chunks == (Xd.chunks[0], (1,))
    np.testing.assert_allclose(proba.compute(), net.predict_proba(X), rtol=1e-12)
    labels = net.predict(Xd)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), net.predict(X))
    assert net.score(Xd, yd) == pytest.approx(net.score(X, y))


def test_mini_batches_on_a_dask_array_say_why_not_and_what_to_do(client):
    Xd, yd = datasets.make_moons(1_000, seed=0, chunks=500)
    net = fastnn.SimpleNeuralNetwork(2, 4, 1, seed=0)
    before = [p.copy() for p in net._params()]
    with pytest.raises(ValueError, match=r"batch_size must be None \(full batch\).*previous one.*mmap_mode"):
        net.train(Xd, yd, 1, 0.1, verbose=False, batch_size=32)
    for p, q in zip(net._params(), before):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(TypeError, match="predict_proba"):
        net.forward(Xd)


def test_bad_dask_data_is_refused_before_training(client):
    Xd, yd = datasets.make_moons(1_000, seed=0, chunks=500)
    net = fastnn.SimpleNeuralNetwork(2, 4, 1, seed=0)
    with pytest.raises(ValueError, match="X must be finite"):
        net.train(da.where(Xd > 0.9, np.nan, Xd), yd, 1, 0.1, verbose=False)
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        net.train(Xd, yd * 2, 1, 0.1, verbose=False)
    with pytest.raises(ValueError, match="3 columns"):
        fastnn.SimpleNeuralNetwork(3, 4, 1).train(Xd, yd, 1, 0.1, verbose=False)


def rss_anon():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024


def test_an_array_generated_on_the_workers_never_comes_to_the_client(client):
    """640 MB of float32 (20 million rows of 8 features) made on the workers;
    the client's anonymous memory grows by less than 150 MB."""
    before = rss_anon()
    Xd, yd = datasets.make_parity(20_000_000, 8, noise=0.1, seed=6, chunks=1 << 21, dtype=np.float32)
    assert Xd.nbytes == 640_000_000
    net = fastnn.SimpleNeuralNetwork(8, 4, 1, seed=0, dtype=np.float32)
    net.train(Xd, yd, 2, 1e-7, verbose=False)
    assert np.isfinite(net.loss_history).all() and len(net.loss_history) == 2
    grown = rss_anon() - before
    print(f"client RssAnon grew by {grown / 1e6:.0f} MB for {Xd.nbytes / 1e6:.0f} MB on the workers")
    assert grown < 150e6, f"the client grew by {grown / 1e6:.0f} MB"


def test_a_worker_killed_mid_training_is_replaced_and_the_weights_are_the_same(client):
    Xd, yd = datasets.make_xor(20_000, 4, noise=0.1, seed=7, chunks=2_500)
    expected = trained(Xd, yd, epochs=40)
    pids = list(client.run(os.getpid).values())
    net = fastnn.SimpleNeuralNetwork(4, 8, 1, seed=0)
    killed = []

    def kill_one():
        deadline = time.monotonic() + 60
        while len(net.loss_history) < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(pids[0], signal.SIGKILL)
        killed.append(len(net.loss_history))

    killer = threading.Thread(target=kill_one)
    killer.start()
    net.train(Xd, yd, 40, 1e-4, verbose=False)
    killer.join()
    assert killed and killed[0] < 40, "the worker was killed after training ended"
    client.wait_for_workers(2, timeout=60)  # the nanny starts another
    assert pids[0] not in client.run(os.getpid).values()
    for p, q in zip(net._params(), expected._params()):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(net.loss_history, expected.loss_history)


def test_the_cli_trains_on_a_running_cluster_and_on_a_local_one(client, tmp_path, capsys):
    from fastnn.__main__ import main

    out = str(tmp_path)
    assert main(["generate", "--dataset", "moons", "--n-samples", "20000", "--out", out]) == 0
    common = ["--epochs", "3", "--batch-size", "full", "--learning-rate", "1e-4", "--no-progress", "--seed", "1"]
    assert main(["train", "--data", out, "--scheduler", client.scheduler.address, *common]) == 0
    on_cluster = capsys.readouterr().out
    assert f"Dask: the scheduler at {client.scheduler.address}, 2 workers" in on_cluster
    assert main(["train", "--data", out, *common]) == 0
    in_memory = capsys.readouterr().out
    loss = [line for line in in_memory.splitlines() if line.startswith("final loss")]
    assert loss and loss[0] in on_cluster  # 6 digits of the same loss
    assert main(["train", "--workers", "1", "--n-samples", "5000", *common]) == 0
    assert "a local cluster of 1 worker processes, 1 worker" in capsys.readouterr().out
    assert main(["train", "--workers", "2", "--epochs", "1", "--no-progress"]) == 2
    assert "pass --batch-size full" in capsys.readouterr().err


def test_predict_proba_of_a_dask_array_during_training_uses_the_weights_of_whole_epochs():
    """As predict_proba of an ndarray: the copy train publishes, never live arrays changing mid-epoch."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 8))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    probe = rng.normal(size=(8, 8))
    epochs = 6000
    twin = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
    whole = {twin.predict_proba(probe).tobytes()}
    for _ in range(epochs):
        twin.train(X, y, 1, 0.01, verbose=False)
        whole.add(twin.predict_proba(probe).tobytes())
    net = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
    trainer = threading.Thread(target=lambda: net.train(X, y, epochs, 0.01, verbose=False))
    lazy = da.from_array(probe, chunks=(8, 8))
    seen = []
    with dask.config.set(scheduler="synchronous"):
        net.predict_proba(lazy).compute()  # dask's first call imports and compiles: not during training
        trainer.start()
        while trainer.is_alive():
            seen.append(net.predict_proba(lazy).compute().tobytes())
    trainer.join()
    mixed = [s for s in seen if s not in whole]
    assert seen and not mixed, f"{len(mixed)} of {len(seen)} predictions mixed epochs"



@pytest.mark.parametrize("writeable", [True, False])
def test_chunk_sums_gives_the_row_kernel_the_target_type_of_training_in_memory(monkeypatch, writeable):
    """The CLI warms the workers' kernels by training in memory (_warm_row_kernels), whose targets are
    read-only rows: a worker's chunk_sums must pass the kernel that same type, or every worker compiles
    (into the shared cache, all at once) another variant for writable targets."""
    from fastnn import _paths
    from fastnn import dask as fdask
    from fastnn._kernels import rows

    real, seen = rows.hidden_rows, []

    def spy(Z, Y, *args):
        seen.append(Y.flags.writeable)
        return real(Z, Y, *args)

    monkeypatch.setattr(rows, "hidden_rows", spy)
    X = np.random.default_rng(0).normal(size=(64, 2))
    y = (X[:, :1] > 0).astype(float)
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    with _config.override(BLAS_MIN_WORK=0, ROWS_COMPILED=False):  # as _warm_row_kernels trains
        net.train(X, y, 1, 0.1, verbose=False)
    in_memory, seen[:] = set(seen), []
    y.flags.writeable = writeable
    fdask.chunk_sums(X, y, net._params(), _paths._rule(net, True))
    assert in_memory == set(seen) == {False}
