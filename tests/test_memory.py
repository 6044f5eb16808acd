"""Training on large data holds no (n_samples x hidden) array: measured with tracemalloc."""

import numpy as np
import pytest
from naive import traced_peak

import fastnn


def test_large_full_batch_training_stays_within_half_of_X_plus_64_MB():
    """100,000 x 10 float64 (8 MB) with 256 hidden units: one (n x hidden)
    array would be 205 MB. Memory beyond X and y stays under 0.5 X + 64 MB
    (the bound 1.5 X + 64 MB of the speed issue, X itself not counted)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 10))
    y = (X[:, :1] > 0).astype(float)
    net = fastnn.SimpleNeuralNetwork(10, 256, 1, seed=0)
    net.train(X, y, 1, 1e-5, verbose=False)  # compile outside the measurement
    peak = traced_peak(lambda: net.train(X, y, 2, 1e-5, verbose=False))
    assert peak < 0.5 * X.nbytes + 64e6, f"peak {peak / 1e6:.0f} MB"
    # The tutorial's attributes are still there, computed when read.
    assert net.hidden_output.shape == (100_000, 256)


def test_narrow_layers_on_many_rows_keep_a_block_per_thread_not_per_chunk():
    """400,000 x 1, hidden 100 streams its rows in 174 chunks: with a block
    of buffers (about 600 kB) for each chunk the peak was 110 MB;
    with one for each thread it is a few MB, within 0.5 X + 64 MB."""
    from fastnn import _paths

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400_000, 1))
    y = (X > 0).astype(float)
    assert _paths.plan(len(X), (1, 100, 1), X.dtype) == "stream" and len(_paths.stream_chunks(len(X), (1, 100, 1))) > 100
    net = fastnn.SimpleNeuralNetwork(1, 100, 1, seed=0)
    net.train(X[:100_000], y[:100_000], 1, 1e-5, verbose=False)  # compile outside the measurement
    peak = traced_peak(lambda: net.train(X, y, 2, 1e-5, verbose=False))
    assert peak < 0.5 * X.nbytes + 64e6, f"peak {peak / 1e6:.0f} MB"


# Where this bound comes before the work's: wide hidden layers, and one
# hidden unit with many outputs, whose work stays under 2 million.
@pytest.mark.parametrize("sizes", [(2, 256, 1), (8, 512, 1), (33, 1, 64)])
def test_the_packed_path_at_its_bound_stays_within_half_of_X_plus_64_MB(sizes):
    """The packed path copies X and Y and keeps the activations, deltas and
    outputs of every sample: the plan sends it at most PACKED_MAX_ELEMENTS
    values of them (32 MB in float64), whatever the work. At 2 inputs and
    hidden 256 that is about 5,100 rows, where the work bound alone (16.8
    million) would let 21,800 rows take it (20,000 rows held 123 MB, for
    0.3 MB of X).
    At 33 inputs, hidden 1 and 64 outputs, 20,000 rows (work 1.9 million)
    held 78 MB for 5.3 MB of X when only the work decided."""
    from fastnn import _config, _paths

    f, h, o = sizes
    n = _config.PACKED_MAX_ELEMENTS // (f + 1 + 3 * h + 7 * o) - _config.MAX_BLOCK
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, f))
    y = np.repeat((X[:, :1] > 0).astype(float), o, axis=1)
    net = fastnn.SimpleNeuralNetwork(f, h, o, seed=0)
    # The work bound of a BLAS narrower than the kernels, the highest: the
    # memory bound decides here on any machine.
    with _config.override(EVEN_BLAS_MIN_WORK=_config.BLAS_MIN_WORK):
        assert _paths.plan(n, sizes, X.dtype) == "packed" and _paths.plan(n + 2 * _config.MAX_BLOCK, sizes, X.dtype) != "packed"
        net.train(X, y, 1, 1e-5, verbose=False)  # compile outside the measurement
        peak = traced_peak(lambda: net.train(X, y, 2, 1e-5, verbose=False))
    assert peak < 0.5 * X.nbytes + 64e6, f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize("n", [1_000, 250_000, 4_000_000, 400_000_000])
@pytest.mark.parametrize("sizes", [(1, 256, 1), (1, 1, 511)])  # the widest layers the plan streams
def test_the_stream_paths_chunks_keep_small_sums_and_stay_short(n, sizes):
    """Each chunk of the stream path keeps float64 gradient sums the size of
    the parameters until the epoch's end, and Ctrl-C waits for the chunks
    running. At one input and hidden 256, chunks of 1 million multiply-adds
    kept sums as large as X (4,000,000 rows: 5,209 chunks, a traced peak of
    36 MB for 32 MB of X); 256 chunks of an epoch of 100,000,000 rows took
    0.2 s each. The chunks still cover the rows in whole blocks."""
    from fastnn import _config, _paths

    f, h, o = sizes
    assert _paths.plan(max(n, 100_000), sizes, np.float64) == "stream"
    chunks = _paths.stream_chunks(n, sizes)
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    assert all(stop == first for (_, stop), (first, _) in zip(chunks, chunks[1:]))
    assert all(first % _config.MAX_BLOCK == 0 for first, _ in chunks)
    work = _paths.work_per_sample(sizes)
    assert max(stop - first for first, stop in chunks) * work <= _config.STREAM_MAX_CHUNK_WORK
    sums = len(chunks) * (f * h + h + h * o + o) * 8
    assert sums <= 0.3 * n * f * 4 or sums < 3e6  # float32 X: 4 bytes a value


def test_minibatch_training_and_prediction_read_X_in_place():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 20)).astype(np.float32)  # 16 MB
    y = (X[:, :1] > 0).astype(np.float32)
    net = fastnn.SimpleNeuralNetwork(20, 16, 1, seed=0, dtype=np.float32)
    net.train(X[:1000], y[:1000], 1, 1e-3, verbose=False, batch_size=64)
    peak = traced_peak(lambda: net.train(X, y, 1, 1e-3, verbose=False, batch_size=64))
    # The shuffle order (8 bytes a row) and block buffers; no copy of X.
    assert peak < 0.2 * X.nbytes + 2 * 8 * len(X), f"peak {peak / 1e6:.1f} MB"
    peak = traced_peak(lambda: net.predict_proba(X))
    # The output, and one block of hidden values (at most 2**21 of them): no copy of X.
    assert peak < len(X) * 4 + 2**21 * 4 + 1e6 < X.nbytes, f"peak {peak / 1e6:.1f} MB"


def test_checking_wide_targets_holds_no_array_their_size():
    """Whether 100,000 x 64 targets (51 MB) are all 0 or 1 was one test over
    the whole of them: two boolean arrays of 6.4 MB and their union, a peak
    of 12.8 MB (at 4,000,000 rows and 511 outputs, 4 GB). Checked a slice of
    rows at a time, for train and for score alike, it stays near 2 MB."""
    from fastnn import _validation as check

    Y = (np.random.default_rng(0).random((100_000, 64)) > 0.5).astype(np.float64)
    float64 = np.dtype(np.float64)
    for call in (lambda: check.targets(Y, len(Y), 64, float64), lambda: check.labels(Y, len(Y), 64)):
        peak = traced_peak(call)
        assert peak < 3e6, f"peak {peak / 1e6:.1f} MB"
    assert check.targets(Y, len(Y), 64, float64)[1]  # all 0 or 1: binary
    Y[-1, -1] = 0.5  # in the last slice
    assert not check.targets(Y, len(Y), 64, float64)[1]
    with pytest.raises(ValueError, match="labels 0 or 1"):
        check.labels(Y, len(Y), 64)
