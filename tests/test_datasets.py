"""fastnn.datasets: shapes, labels by their definitions, noise, seeds."""

import numpy as np
import pytest

from fastnn import datasets

TWO_D = {"make_moons": datasets.make_moons, "make_circles": datasets.make_circles}
ANY_D = {"make_xor": datasets.make_xor, "make_parity": datasets.make_parity, "make_blobs": datasets.make_blobs}


def generate(name, n, noise, seed, dtype=np.float64, n_features=3):
    if name in TWO_D:
        return TWO_D[name](n, noise=noise, seed=seed, dtype=dtype)
    return ANY_D[name](n, n_features, noise=noise, seed=seed, dtype=dtype)


ALL = list(TWO_D) + list(ANY_D)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_shapes_dtypes_balance_and_seeds(name, dtype):
    n = 200_000  # several chunks
    X, y = generate(name, n, 0.1, seed=3, dtype=dtype)
    assert X.shape == (n, 2 if name in TWO_D else 3) and y.shape == (n, 1)
    assert X.dtype == dtype and y.dtype == dtype and X.flags.c_contiguous
    assert set(np.unique(y)) == {0.0, 1.0}
    assert abs(y.mean() - 0.5) < 0.01
    X2, y2 = generate(name, n, 0.1, seed=3, dtype=dtype)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = generate(name, n, 0.1, seed=4, dtype=dtype)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("name", ALL)
def test_noise_is_gaussian_with_the_given_deviation(name):
    """The noise is drawn after the clean point from the same chunk generator:
    the same seed with and without noise differ by exactly the noise."""
    clean, y = generate(name, 100_000, 0.0, seed=5)
    noisy, y2 = generate(name, 100_000, 0.3, seed=5)
    np.testing.assert_array_equal(y, y2)
    diff = (noisy - clean).ravel()
    assert abs(diff.mean()) < 0.01
    assert diff.std() == pytest.approx(0.3, rel=0.01)


def test_same_data_on_one_core(monkeypatch):
    X, y = datasets.make_xor(300_000, 4, noise=0.2, seed=1)
    monkeypatch.setattr(datasets.os, "cpu_count", lambda: 1)
    X1, y1 = datasets.make_xor(300_000, 4, noise=0.2, seed=1)
    assert np.array_equal(X, X1) and np.array_equal(y, y1)


def test_labels_follow_their_definitions():
    X, y = datasets.make_xor(10_000, 2, seed=0)
    np.testing.assert_array_equal(y[:, 0], (X[:, 0] * X[:, 1] < 0))
    assert X.min() >= -1 and X.max() <= 1
    X, y = datasets.make_xor(10_000, 5, seed=0)
    np.testing.assert_array_equal(y[:, 0], np.count_nonzero(X < 0, axis=1) % 2)

    X, y = datasets.make_parity(10_000, 6, seed=0)
    assert set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(y[:, 0], X.sum(axis=1) % 2)

    X, y = datasets.make_moons(10_000, seed=0)
    zero, one = X[y[:, 0] == 0], X[y[:, 0] == 1]
    np.testing.assert_allclose(np.hypot(zero[:, 0], zero[:, 1]), 1.0, rtol=1e-12)  # the upper unit half circle
    assert zero[:, 1].min() >= 0
    np.testing.assert_allclose(np.hypot(1 - one[:, 0], 0.5 - one[:, 1]), 1.0, rtol=1e-12)
    assert one[:, 1].max() <= 0.5

    X, y = datasets.make_circles(10_000, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.where(y[:, 0] == 1, 0.3, 1.0), rtol=1e-12)

    X, y = datasets.make_blobs(10_000, 4, noise=0.5, seed=0)
    centers = np.array([X[y[:, 0] == c].mean(axis=0) for c in (0, 1)])
    assert np.all(np.abs(centers) <= 5.05)
    within = X - centers[y[:, 0].astype(int)]
    assert within.std() == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: datasets.make_moons(0), ValueError, "n_samples must be a positive integer, got 0"),
        (lambda: datasets.make_xor(10, 2.5), TypeError, "n_features must be a positive integer, got 2.5"),
        (lambda: datasets.make_parity(10, 3, noise=-1), ValueError, "noise must be a finite number >= 0, small enough for float64, got -1"),
        (lambda: datasets.make_moons(10, noise="0.1"), TypeError, "noise must be a finite number >= 0, small enough for float64, got '0.1' of type str"),
        (lambda: datasets.make_blobs(10, noise=np.nan), ValueError, "noise must be a finite number >= 0, small enough for float64, got nan"),
        (lambda: datasets.make_circles(10, factor=1.0), ValueError, r"factor must be a number in \(0, 1\), got 1.0"),
        (lambda: datasets.make_xor(10, seed="a"), TypeError, "seed must be None, an int or a numpy.random.Generator"),
        (lambda: datasets.make_moons(10, dtype=np.int32), TypeError, "dtype must be numpy.float32 or numpy.float64"),
        (lambda: datasets.make_moons(10, seed=-1), ValueError, "seed must be None, a non-negative int or a numpy.random.Generator, got -1"),
        (lambda: datasets.make_moons(10, noise=1e39, dtype=np.float32), ValueError, "noise must be .* small enough for float32, got 1e"),
        (lambda: datasets.make_circles(10, factor="0.5"), TypeError, r"factor must be a number in \(0, 1\), got '0.5'"),
        (lambda: datasets.make_blobs(0, seed=np.random.default_rng(0)), ValueError, "n_samples must be a positive integer"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
