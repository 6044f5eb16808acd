"""Two threads training two networks: the same bits as one after the other, and in parallel."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from numba.core import config as numba_config

import fastnn
from fastnn import _config, _threads


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, 12))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    return X, y


def _train(seed, out, epochs=150):
    X, y = _data(seed)
    net = fastnn.SimpleNeuralNetwork(12, 24, 1, seed=seed)
    losses = net.train(X, y, epochs, 1e-3, verbose=False)
    out[seed] = (losses, net.weights_input_hidden.copy(), net.weights_hidden_output.copy())


def test_two_threads_give_the_sequential_results_bitwise(path):
    _train(0, {}, epochs=1)  # compile outside the threads
    sequential, threaded = {}, {}
    for seed in (1, 2):
        _train(seed, sequential)
    threads = [threading.Thread(target=_train, args=(seed, threaded)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in (1, 2):
        for a, b in zip(sequential[seed], threaded[seed]):
            np.testing.assert_array_equal(a, b)


def test_training_releases_the_gil():
    """While one thread trains, another runs Python code: with the GIL held by the
    kernels it would stall for whole chunks. The counting thread's rate during
    training is compared with its rate alone, in the same run."""
    _train(0, {}, epochs=1)

    def count_for(seconds):
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            n += 1
        return n

    alone = count_for(0.3)
    result = {}
    trainer = threading.Thread(target=_train, args=(3, result, 400))
    trainer.start()
    start = time.perf_counter()
    during = 0
    while trainer.is_alive():
        during += count_for(0.01)
    elapsed = time.perf_counter() - start
    trainer.join()
    assert elapsed > 0.1, "training was too short to tell"
    rate_alone, rate_during = alone / 0.3, during / elapsed
    # Measured here: about 1.5 with the GIL released, 0.23 with it held.
    assert rate_during > 0.6 * rate_alone, (rate_alone, rate_during)


def _blas_threads():
    """The thread counts of NumPy's own BLAS (the one its products use)."""
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]


def test_trainings_in_two_threads_share_the_blas_limit_and_restore_it(monkeypatch):
    """Large data holds BLAS to one thread while it trains: with two trainings
    overlapping, the limit holds until the last one ends, then BLAS gets back
    the threads it had."""
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 0)
    _train(0, {}, epochs=1)  # compiles, which may load another BLAS library (SciPy's, for Numba)
    before = _blas_threads()
    _train(0, {}, epochs=1)
    assert _blas_threads() == before
    seen, results = [], {}

    def train_and_look(seed, epochs):
        _train(seed, results, epochs)
        seen.append(_blas_threads())

    # The short training ends while the long one runs: the limit must still hold then.
    threads = [threading.Thread(target=train_and_look, args=args) for args in ((1, 100), (2, 2000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _blas_threads() == before
    assert len(results) == 2
    if not any(count > 1 for count in before):
        pytest.skip("NumPy's BLAS runs on one thread here anyway, or was not found: nothing to see")
    assert seen[0] == [1] * len(before), (seen, before)


FORK = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from fastnn import SimpleNeuralNetwork, _config
    _config.BLAS_MIN_WORK = 0
    _config.CHUNK_ELEMENTS = 16 * 8  # 8 rows a chunk: the helper threads run some of them
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, :1] > 0).astype(float)
    before = SimpleNeuralNetwork(3, 16, 1, seed=0).train(X, y, 3, 0.01, verbose=False)
    pid = os.fork()
    if pid == 0:  # the child trains with its own threads; the parent's are not there
        after = SimpleNeuralNetwork(3, 16, 1, seed=0).train(X, y, 3, 0.01, verbose=False)
        os._exit(0 if np.array_equal(before, after) else 3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_trains_on_large_data():
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", FORK], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


needs_threads = pytest.mark.skipif(
    numba_config.NUMBA_NUM_THREADS < 2, reason="NUMBA_NUM_THREADS is 1: no helper threads"
)


def _chunks(n):
    return [(c, c + 1) for c in range(n)]


@needs_threads
def test_chunks_run_on_several_threads_and_come_back_in_order():
    def work(c, first, stop):
        time.sleep(0.01)  # releases the GIL, as the kernels do
        return c, threading.get_ident()

    results = _threads.map_chunks(work, _chunks(8))
    assert [c for c, _ in results] == list(range(8))
    assert len({ident for _, ident in results}) > 1


@needs_threads
def test_an_error_in_a_chunk_reaches_the_caller_once_the_other_chunks_have_stopped():
    caller, running = threading.get_ident(), []

    def work(c, first, stop):
        if threading.get_ident() == caller:
            time.sleep(0.02)  # meanwhile a helper takes the next chunk
            raise ValueError(f"chunk {c}")
        running.append(c)
        time.sleep(0.1)
        running.remove(c)
        return c

    with pytest.raises(ValueError, match="chunk"):
        _threads.map_chunks(work, _chunks(2))
    assert running == []  # no chunk still writes into the caller's buffers
    assert _threads.map_chunks(lambda c, first, stop: c, _chunks(5)) == list(range(5))  # the helpers still serve


@needs_threads
def test_callers_in_two_threads_each_get_their_own_results():
    out = {}

    def call(key):
        out[key] = _threads.map_chunks(lambda c, first, stop: (time.sleep(0.002), key * 100 + c)[1], _chunks(20))

    threads = [threading.Thread(target=call, args=(key,)) for key in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {key: [key * 100 + c for c in range(20)] for key in (1, 2, 3)}


@needs_threads
def test_ctrl_c_while_waiting_for_the_helpers_is_raised_once_they_are_done():
    """forward and predict_proba on large data do not defer Ctrl-C: it may come while the
    calling thread waits for a helper's chunk, which writes into the caller's buffers."""
    import signal

    caller, running = threading.get_ident(), []

    def work(c, first, stop):
        if threading.get_ident() == caller:
            time.sleep(0.02)  # meanwhile a helper takes the next chunk
            signal.setitimer(signal.ITIMER_REAL, 0.05)  # Ctrl-C while the caller waits for it
            return c
        running.append(c)
        time.sleep(0.3)
        running.remove(c)
        return c

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            _threads.map_chunks(work, _chunks(2))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert running == []
    assert _threads.map_chunks(lambda c, first, stop: c, _chunks(3)) == [0, 1, 2]  # not stuck on one thread
    helpers = _threads.helpers()
    assert helpers.busy.acquire(blocking=False)
    helpers.busy.release()


def test_save_during_training_writes_whole_epochs_and_copies_keep_working(tmp_path):
    """save from another thread while train runs writes the weights of a whole epoch (the copy train
    publishes between its compiled calls); the per-network lock does not stop copy and pickle."""
    import copy
    import pickle

    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 8))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    names = ["weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output"]

    def params(net):
        return tuple(getattr(net, name).tobytes() for name in names)

    epochs = 6000
    twin = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
    whole = {params(twin)}
    for _ in range(epochs):
        twin.train(X, y, 1, 0.01, verbose=False)
        whole.add(params(twin))
    net = fastnn.SimpleNeuralNetwork(8, 16, 1, seed=0)
    trainer = threading.Thread(target=lambda: net.train(X, y, epochs, 0.01, verbose=False))
    trainer.start()
    saved = []
    while trainer.is_alive():
        path = tmp_path / f"{len(saved)}.npz"
        net.save(path)
        saved.append(params(fastnn.SimpleNeuralNetwork.load(path)))
    trainer.join()
    mixed = [s for s in saved if s not in whole]
    assert saved and not mixed, f"{len(mixed)} of {len(saved)} saves mixed epochs"
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.weights_input_hidden.tobytes() == net.weights_input_hidden.tobytes()
        clone.train(X, y, 2, 0.01, verbose=False)  # a lock of its own


def _atomics():
    """The atomic operations, which compiled code alone can call, as compiled functions."""
    from numba import njit

    from fastnn._kernels import _atomic

    return (njit(lambda c, i, v: _atomic.fetch_add(c, i, v)), njit(lambda c, i, e, v: _atomic.compare_exchange(c, i, e, v)),
            njit(lambda c, i: _atomic.load(c, i)))


def test_atomic_counters_and_a_wait_that_gives_up_after_its_patience():
    from fastnn._kernels import _atomic

    fetch_add, compare_exchange, load = _atomics()
    counters = np.zeros(3, np.int64)
    assert fetch_add(counters, 1, 5) == 0 and counters[1] == 5
    assert compare_exchange(counters, 1, 5, 7) and counters[1] == 7
    assert not compare_exchange(counters, 1, 5, 9) and counters[1] == 7
    assert load(counters, 1) == 7
    assert _atomic.wait_for(counters, 1, 7, 0)  # reached already
    began = time.perf_counter()
    assert not _atomic.wait_for(counters, 2, 1, 5_000_000)  # nobody counts: gives up after 5 ms
    assert 0.004 < time.perf_counter() - began < 2.0


def test_a_wait_sees_a_count_from_another_thread():
    from fastnn._kernels import _atomic

    fetch_add = _atomics()[0]
    counters = np.zeros(1, np.int64)
    fetch_add(counters, 0, 0)  # compiled before the timer starts
    later = threading.Timer(0.05, lambda: fetch_add(counters, 0, 1))
    later.start()
    assert _atomic.wait_for(counters, 0, 1, 10_000_000_000)  # no limit in practice: 10 s
    later.join()


def test_alongside_runs_lead_once_even_when_the_helpers_took_every_share(monkeypatch):
    """Helpers that give up waiting for the leader (it came late) may take
    every share of the job: the caller then runs lead() after them."""

    class Helpers:  # every share taken by another thread before the caller claims one
        count = 3

        def map(self, work, bounds):
            results = []
            other = threading.Thread(target=lambda: results.extend(work(c, *b) for c, b in enumerate(bounds)))
            other.start()
            other.join()
            return results

    monkeypatch.setattr(_threads, "helpers", lambda: Helpers())
    calls = []
    assert _threads.alongside(lambda: calls.append("lead") or 7, lambda: calls.append("help"), 2) == 7
    assert calls == ["help"] * 3 + ["lead"]  # 2 helpers at most: 3 shares, then lead on the caller


def test_alongside_runs_lead_on_the_caller_and_help_on_at_most_most_helpers():
    caller, where = threading.get_ident(), []
    for most in (0, 1, 5):
        where.clear()
        result = _threads.alongside(lambda: where.append("lead") or threading.get_ident(),
                                    lambda: where.append("help"), most)
        assert result == caller and where.count("lead") == 1
        assert where.count("help") <= min(most, max(0, numba_config.NUMBA_NUM_THREADS - 1))
