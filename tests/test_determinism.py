"""The same inputs give bitwise the same weights and outputs with one or two threads, run after run.

Block kernels run on one thread each. On large data the rows are cut into
chunks whose sums are added in chunk order, whatever the number of threads
(NUMBA_NUM_THREADS) that run them, and NumPy's BLAS runs on one thread inside
each chunk: its float32 products, seen here, were not bitwise the same with
1 and 2 OpenBLAS threads.
"""

import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import hashlib
    import numpy as np
    import fastnn
    from fastnn import _config, _paths
    # The shapes below that are meant for the row path and the stream path take them.
    assert [_paths.plan(n, sizes, d) for n, sizes, d in [(7000, (40, 64, 1), np.float64), (7000, (40, 64, 3), np.float32),
                                                          (2000, (600, 16, 1), np.float32)]] == ["rows"] * 3
    assert _paths.plan(100_000, (5, 8, 1), np.float32) == "stream"
    assert _paths.plan(64, (600, 16, 1), np.float64) == "packed" and _paths.unit_slices(64, (600, 16, 1)) is not None
    _config.BLAS_BLOCK_ELEMENTS = 64 * 1000  # 1,000 rows a block below: seven blocks of rows
    _config.CHUNK_ELEMENTS = 64 * 250  # 250 rows a chunk at hidden 64: four chunks a block, over the threads
    digest = hashlib.sha256()
    rng = np.random.default_rng(0)
    _config.STREAM_CHUNK_WORK = 20_000  # at 100,000 x 5, hidden 8: a block of rows a chunk, 391 chunks
    _config.PACKED_TEAM_WORK = 0  # the helpers join the packed path's calls of a few epochs too
    for n, f, h, o, dtype, kwargs in [
        (300, 5, 8, 1, np.float64, {}),                      # block kernels
        (1000, 20, 32, 1, np.float64, {}),                   # block kernels, two chunks of blocks on the threads
        (2000, 16, 16, 10, np.float32, {}),
        (8, 5, 32, 1, np.float32, {}),                       # a few rows
        (64, 600, 16, 1, np.float64, {}),                    # one block of many inputs, cut across the units
        (7000, 40, 64, 1, np.float64, {}),                   # BLAS products, seven blocks of rows, in chunks
        (7000, 40, 64, 1, np.float32, {"gradient": "exact"}),
        (7000, 40, 64, 3, np.float32, {}),                   # the output layer's products by BLAS too
        (2000, 600, 16, 1, np.float32, {}),                  # many inputs: X^T HD by columns of X, in chunks
        (100_000, 5, 8, 1, np.float32, {}),                  # rows streamed through the block kernels, in chunks
        (1000, 5, 8, 1, np.float32, {"batch_size": 32}),     # mini-batches
    ]:
        X = rng.standard_normal((n, f))
        y = (X[:, :o] * X[:, 1:o + 1] > 0).astype(float)
        gradient = kwargs.pop("gradient", "tutorial")
        net = fastnn.SimpleNeuralNetwork(f, h, o, seed=1, dtype=dtype, gradient=gradient)
        losses = net.train(X, y, 5, 1e-3, verbose=False, **kwargs)
        outputs = [net.predict_proba(X)] + ([] if "batch_size" in kwargs else [net.hidden_output, net.output])
        for a in [losses, net.weights_input_hidden, net.bias_hidden, net.weights_hidden_output, net.bias_output, *outputs]:
            digest.update(np.ascontiguousarray(a).tobytes())
    print(digest.hexdigest())
    """
)


def run(threads, cache):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), NUMBA_CACHE_DIR=str(cache))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to compare one thread with two")
def test_one_thread_and_two_threads_give_the_same_bits(tmp_path):
    """The first run compiles into an empty cache, the others load from it: the
    first is also the one whose work is cut differently into compiled chunks
    (their size follows the time they take). An earlier version summed the
    mini-batch losses chunk by chunk and failed here in the last bit."""
    cold, one, two = run(1, tmp_path), run(1, tmp_path), run(2, tmp_path)
    assert len(cold) == 64
    assert cold == one == two
