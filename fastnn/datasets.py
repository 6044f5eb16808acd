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


def _generate(n_samples, n_features, noise, seed, dtype, fill):
    """Allocate X and y, then fill(rng, X[chunk], y[chunk]) and add the noise, chunk by chunk, in threads.

    NumPy's generators and ufuncs release the GIL on arrays of this size, so
    the threads run in parallel.
    """
    n_samples, n_features, dtype = _check_shape(n_samples, n_features, dtype)
    noise = _check_noise(noise, dtype)
    rng = _generator(seed)
    X = np.empty((n_samples, n_features), dtype)
    y = np.empty((n_samples, 1), dtype)
    root = int(rng.integers(2**63))

    def chunk(index):
        start = index * _CHUNK
        Xc, yc = X[start : start + _CHUNK], y[start : start + _CHUNK]
        chunk_rng = np.random.default_rng([root, index])
        chunk_rng.random(out=yc, dtype=dtype)
        np.less(yc, 0.5, out=yc, casting="unsafe")  # 1.0 with probability 1/2
        fill(chunk_rng, Xc, yc[:, 0])
        if noise:
            Xc += dtype.type(noise) * chunk_rng.standard_normal(Xc.shape, dtype=dtype)

    n_chunks = -(-n_samples // _CHUNK)
    with ThreadPoolExecutor(min(n_chunks, os.cpu_count() or 1)) as pool:
        for _ in pool.map(chunk, range(n_chunks)):
            pass  # re-raises any error of a chunk
    return X, y


def _parity_bits(rng, B, y):
    """B gets bits 0.0 or 1.0, each 1 with probability 1/2 but the last, set so that a row has an odd number of ones where y is 1."""
    rng.random(out=B, dtype=B.dtype)
    np.less(B, 0.5, out=B, casting="unsafe")
    B[:, -1] = (np.count_nonzero(B[:, :-1], axis=1) % 2) != y


def make_moons(n_samples=1000, *, noise=0.0, seed=None, dtype=np.float64):
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

    return _generate(n_samples, 2, noise, seed, dtype, fill)


def make_circles(n_samples=1000, *, noise=0.0, factor=0.5, seed=None, dtype=np.float64):
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

    return _generate(n_samples, 2, noise, seed, dtype, fill)


def make_xor(n_samples=1000, n_features=2, *, noise=0.0, seed=None, dtype=np.float64):
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

    return _generate(n_samples, n_features, noise, seed, dtype, fill)


def make_parity(n_samples=1000, n_features=2, *, noise=0.0, seed=None, dtype=np.float64):
    """The parity problem: X of bits 0 or 1, y = 1 where the number of ones is odd.

    The label is drawn first and the last bit set to match it; then Gaussian
    noise of standard deviation `noise` is added to every coordinate.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, 1)
    """

    return _generate(n_samples, n_features, noise, seed, dtype, _parity_bits)


def make_blobs(n_samples=1000, n_features=2, *, noise=1.0, seed=None, dtype=np.float64):
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
    rng = _generator(seed)
    centers = rng.uniform(-5, 5, size=(2, n_features))

    def fill(rng, X, y):
        X[...] = centers[0]
        X += y[:, None] * (centers[1] - centers[0]).astype(X.dtype)

    return _generate(n_samples, n_features, noise, rng, dtype, fill)
