"""Seeded synthetic binary-classification datasets, float32 or float64, at any size.

Every generator returns ``(X, y)``: ``X`` of shape (n_samples, n_features) and
``y`` of shape (n_samples, 1) holding 0.0 or 1.0, both of ``dtype``, ready for
``SimpleNeuralNetwork.train``. Labels are drawn with probability 1/2 each.
The rows are written a chunk at a time straight into the output arrays, on
all cores, so ten million rows take a few seconds and little memory beyond
the result. Every chunk draws from its own generator, seeded from ``seed``
and the chunk's index, so the same ``seed`` gives the same data whatever the
number of cores. ``seed`` may be None (fresh entropy), an int or a
``numpy.random.Generator``.

Every generator also takes ``chunks`` (an int: rows per chunk), to return
dask arrays whose chunks are generated on the workers that compute them,
from the same per-chunk seeds, so with the values of the in-memory call;
and ``out`` (a directory), to write ``X.npy`` and ``y.npy`` there a block
of rows at a time and return them opened with ``mmap_mode="r"``.

>>> from fastnn.datasets import make_moons
>>> X, y = make_moons(1000, noise=0.2, seed=0)
>>> X.shape, y.shape
((1000, 2), (1000, 1))
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._validation import check_array_bytes, check_dtype, check_number, check_size, resolve_seed

__all__ = ["make_blobs", "make_circles", "make_moons", "make_parity", "make_xor"]

_CHUNK = 1 << 16  # rows generated at a time


def _check_noise(noise, dtype):
    # Gaussian draws stay below 10 standard deviations; beyond the dtype's range X would hold inf.
    what = f"a finite number >= 0, small enough for {dtype}"
    return check_number("noise", noise, what, low=0, high=float(np.finfo(dtype).max) / 10)


def _check_shape(n_samples, n_features, dtype):
    """The checked sizes and dtype; X of (n_samples, n_features) and y of (n_samples, 1) must fit in arrays."""
    n_samples, n_features = check_size("n_samples", n_samples), check_size("n_features", n_features)
    dtype = check_dtype(dtype)
    check_array_bytes(("n_samples", "n_features"), (n_samples, n_features), [(n_samples, n_features + 1)],
                      dtype.itemsize)
    return n_samples, n_features, dtype


def _generator(seed):
    """The generator `seed` names; None gives fresh entropy (NumPy's global state is never used)."""
    return resolve_seed(seed) or np.random.default_rng()


def _generate(n_samples, n_features, noise, seed, dtype, fill, chunks=None, out=None):
    """Allocate X and y, then fill(rng, X[chunk], y[chunk]) and add the noise, chunk by chunk, in threads.

    NumPy's generators and ufuncs release the GIL on arrays of this size, so
    the threads run in parallel. With `chunks`, dask arrays whose chunks of
    rows are generated where they are computed; with `out`, a directory,
    the rows are written to X.npy and y.npy there and the files come back
    memory-mapped. Either way the values are those of the in-memory call.
    """
    n_samples, n_features, dtype = _check_shape(n_samples, n_features, dtype)
    noise = _check_noise(noise, dtype)
    if chunks is not None:
        chunks = check_size("chunks", chunks)
        if out is not None:
            raise ValueError("chunks (dask arrays) and out (.npy files) cannot be given together")
    rng = _generator(seed)
    root = int(rng.integers(2**63))
    if chunks is not None:
        return _dask_arrays(n_samples, n_features, noise, dtype, root, fill, chunks)
    if out is not None:
        return _files(n_samples, n_features, noise, dtype, root, fill, out)
    X = np.empty((n_samples, n_features), dtype)
    y = np.empty((n_samples, 1), dtype)
    _fill_pieces(X, y, 0, n_samples, noise, root, fill)
    return X, y


def _piece(index, Xc, yc, noise, root, fill):
    """Rows [index * _CHUNK, ...) of a dataset, into Xc and yc, from their own generator [root, index]."""
    dtype = Xc.dtype
    chunk_rng = np.random.default_rng([root, index])
    chunk_rng.random(out=yc, dtype=dtype)
    np.less(yc, 0.5, out=yc, casting="unsafe")  # 1.0 with probability 1/2
    fill(chunk_rng, Xc, yc[:, 0])
    if noise:
        Xc += dtype.type(noise) * chunk_rng.standard_normal(Xc.shape, dtype=dtype)


def _fill_pieces(X, y, first, n_samples, noise, root, fill):
    """X and y get rows [first, first + len(X)) of the dataset of n_samples rows, piece by piece, in threads."""
    stop = first + len(X)
    indices = range(first // _CHUNK, -(-stop // _CHUNK))

    def piece(index):
        start, end = index * _CHUNK, min(n_samples, (index + 1) * _CHUNK)
        if first <= start and end <= stop:  # whole here: straight into X and y
            _piece(index, X[start - first : end - first], y[start - first : end - first], noise, root, fill)
        else:  # a piece cut by the chunk's ends: made whole, the rows needed copied
            Xp, yp = np.empty((end - start, X.shape[1]), X.dtype), np.empty((end - start, 1), X.dtype)
            _piece(index, Xp, yp, noise, root, fill)
            lo, hi = max(first, start), min(stop, end)
            X[lo - first : hi - first], y[lo - first : hi - first] = Xp[lo - start : hi - start], yp[lo - start : hi - start]

    with ThreadPoolExecutor(min(len(indices), os.cpu_count() or 1)) as pool:
        for _ in pool.map(piece, indices):
            pass  # re-raises any error of a piece


def _rows(first, stop, n_samples, n_features, noise, dtype, root, fill):
    """Rows [first, stop) of the dataset: a dask chunk's task."""
    X, y = np.empty((stop - first, n_features), dtype), np.empty((stop - first, 1), dtype)
    _fill_pieces(X, y, first, n_samples, noise, root, fill)
    return X, y


def _dask_arrays(n_samples, n_features, noise, dtype, root, fill, chunks):
    import dask
    import dask.array as da

    Xs, ys = [], []
    for first in range(0, n_samples, chunks):
        stop = min(n_samples, first + chunks)
        X, y = dask.delayed(_rows, nout=2, pure=True)(first, stop, n_samples, n_features, noise, dtype, root, fill)
        Xs.append(da.from_delayed(X, (stop - first, n_features), dtype))
        ys.append(da.from_delayed(y, (stop - first, 1), dtype))
    return da.concatenate(Xs), da.concatenate(ys)


def _files(n_samples, n_features, noise, dtype, root, fill, out):
    """X.npy and y.npy in the directory `out`, written a block of rows at a time; returned memory-mapped."""
    out = os.fspath(out)
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, name) for name in ("X.npy", "y.npy")]
    partial = [path + ".partial" for path in paths]
    X = np.lib.format.open_memmap(partial[0], mode="w+", dtype=dtype, shape=(n_samples, n_features))
    y = np.lib.format.open_memmap(partial[1], mode="w+", dtype=dtype, shape=(n_samples, 1))
    step = _CHUNK * 16  # 2**20 rows a block: the dirty pages are written back as they go
    for first in range(0, n_samples, step):
        _fill_pieces(X[first : first + step], y[first : first + step], first, n_samples, noise, root, fill)
    X.flush()
    y.flush()
    del X, y
    for p, q in zip(partial, paths):
        os.replace(p, q)  # whole files only, under the final names
    return tuple(np.load(path, mmap_mode="r") for path in paths)


def _parity_bits(rng, B, y):
    """B gets bits 0.0 or 1.0, each 1 with probability 1/2 but the last, set so that a row has an odd number of ones where y is 1."""
    rng.random(out=B, dtype=B.dtype)
    np.less(B, 0.5, out=B, casting="unsafe")
    B[:, -1] = (np.count_nonzero(B[:, :-1], axis=1) % 2) != y


def make_moons(n_samples=1000, *, noise=0.0, seed=None, dtype=np.float64, chunks=None, out=None):
    """Two interleaving half circles in 2 dimensions.

    Class 0 lies on (cos t, sin t), class 1 on (1 - cos t, 1/2 - sin t), for t
    uniform in [0, pi]; then Gaussian noise of standard deviation `noise` is
    added to every coordinate.

    Parameters
    ----------
    n_samples : int
    noise : float, default 0.0
    seed : None, int or numpy.random.Generator
    dtype : numpy.float64 (default) or numpy.float32

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples, 1)
    """

    def fill(rng, X, y):
        t = rng.random(len(X), dtype=X.dtype) * X.dtype.type(np.pi)
        X[:, 0] = np.cos(t)
        X[:, 1] = np.sin(t)
        X[:, 0] += y * (1 - 2 * X[:, 0])  # class 1: 1 - cos t
        X[:, 1] += y * (X.dtype.type(0.5) - 2 * X[:, 1])  # class 1: 1/2 - sin t

    return _generate(n_samples, 2, noise, seed, dtype, fill, chunks, out)


def make_circles(n_samples=1000, *, noise=0.0, factor=0.5, seed=None, dtype=np.float64, chunks=None, out=None):
    """Two concentric circles in 2 dimensions: class 0 of radius 1, class 1 of radius `factor`.

    The angle is uniform; then Gaussian noise of standard deviation `noise`
    is added to every coordinate. `factor` must lie in (0, 1).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples, 1)
    """
    factor = check_number("factor", factor, "a number in (0, 1)", low=0, high=1, open_low=True, open_high=True)

    def fill(rng, X, y):
        angle = rng.random(len(X), dtype=X.dtype) * X.dtype.type(2 * np.pi)
        radius = 1 - y * X.dtype.type(1 - factor)
        X[:, 0] = radius * np.cos(angle)
        X[:, 1] = radius * np.sin(angle)

    return _generate(n_samples, 2, noise, seed, dtype, fill, chunks, out)


def make_xor(n_samples=1000, n_features=2, *, noise=0.0, seed=None, dtype=np.float64, chunks=None, out=None):
    """XOR of signs: X uniform in [-1, 1]^n_features (0 excluded), y = 1 where an odd number of coordinates is negative.

    With 2 features, y = 1 where x0 x1 < 0: the tutorial's XOR spread over
    the square. The label is drawn first and the last coordinate's sign set to
    match it, so both classes have probability 1/2; then Gaussian noise of
    standard deviation `noise` is added to every coordinate.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, 1)
    """

    def fill(rng, X, y):
        _parity_bits(rng, X, y)  # 1 marks a negative coordinate
        X *= -2
        X += 1  # the signs
        magnitude = rng.random(X.shape, dtype=X.dtype)
        np.subtract(1, magnitude, out=magnitude)  # in (0, 1]: never 0, which has no sign
        X *= magnitude

    return _generate(n_samples, n_features, noise, seed, dtype, fill, chunks, out)


def make_parity(n_samples=1000, n_features=2, *, noise=0.0, seed=None, dtype=np.float64, chunks=None, out=None):
    """The parity problem: X of bits 0 or 1, y = 1 where the number of ones is odd.

    The label is drawn first and the last bit set to match it; then Gaussian
    noise of standard deviation `noise` is added to every coordinate.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, 1)
    """

    return _generate(n_samples, n_features, noise, seed, dtype, _parity_bits, chunks, out)


def make_blobs(n_samples=1000, n_features=2, *, noise=1.0, seed=None, dtype=np.float64, chunks=None, out=None):
    """Two Gaussian blobs, one per class, of standard deviation `noise` (default 1.0).

    Their centres are drawn uniformly from [-5, 5]^n_features, first, from the
    same seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, 1)
    """
    # Everything is checked before the centres are drawn from the caller's generator.
    _, n_features, checked = _check_shape(n_samples, n_features, dtype)
    _check_noise(noise, checked)
    check_array_bytes(("n_features",), (n_features,), [(2, n_features)], 8)  # the float64 centres
    if chunks is not None:
        check_size("chunks", chunks)
    rng = _generator(seed)
    centers = rng.uniform(-5, 5, size=(2, n_features))

    def fill(rng, X, y):
        X[...] = centers[0]
        X += y[:, None] * (centers[1] - centers[0]).astype(X.dtype)

    return _generate(n_samples, n_features, noise, rng, dtype, fill, chunks, out)
