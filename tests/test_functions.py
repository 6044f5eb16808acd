import warnings

import numpy as np
import pytest

import fastnn
from fastnn import reference


def test_sigmoid_equals_tutorial_where_tutorial_is_finite():
    x = np.concatenate([np.linspace(-700, 700, 20001), np.random.default_rng(0).normal(scale=20, size=10000)])
    np.testing.assert_array_equal(fastnn.sigmoid(x), reference.sigmoid(x))
    x32 = x.astype(np.float32)[np.abs(x) < 80]
    np.testing.assert_array_equal(fastnn.sigmoid(x32), reference.sigmoid(x32))
    assert fastnn.sigmoid(x32).dtype == np.float32


def test_sigmoid_large_inputs_without_overflow_warning():
    x = np.array([-1e6, -1000.0, -745.0, -710.0, 0.0, 710.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = fastnn.sigmoid(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_array_equal(s[[0, 1, 4, 5, 6]], [0.0, 0.0, 0.5, 1.0, 1.0])
    # Where 1 + exp(x) == 1 the sigmoid is exp(x) itself: tiny but not zero.
    assert s[3] == np.exp(-710.0) > 0
    assert fastnn.sigmoid(-100.0) == pytest.approx(np.exp(-100.0), rel=1e-15)
    assert fastnn.sigmoid(np.float32(-100)) == np.float32(np.exp(np.float32(-100)))


def test_sigmoid_accepts_scalars_lists_and_ints():
    assert fastnn.sigmoid(0) == 0.5
    assert isinstance(fastnn.sigmoid(1.0), float)
    np.testing.assert_array_equal(fastnn.sigmoid([[0, 1]]), reference.sigmoid(np.array([[0, 1]])))


def test_sigmoid_derivative_is_tutorials():
    a = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(fastnn.sigmoid_derivative(a), reference.sigmoid_derivative(a))
    assert fastnn.sigmoid_derivative(0.5) == 0.25


def test_binary_cross_entropy_equals_tutorial_where_finite():
    rng = np.random.default_rng(1)
    y = (rng.uniform(size=(50, 3)) > 0.5).astype(float)
    p = rng.uniform(1e-12, 1 - 1e-12, size=(50, 3))
    assert fastnn.binary_cross_entropy(y, p) == reference.binary_cross_entropy(y, p)
    soft = rng.uniform(size=(50, 3))
    assert fastnn.binary_cross_entropy(soft, p) == reference.binary_cross_entropy(soft, p)


def test_binary_cross_entropy_finite_at_exact_zero_and_one():
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    p = np.array([[0.0], [1.0], [0.0], [1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        perfect = fastnn.binary_cross_entropy(y[:2], p[:2])
        wrong = fastnn.binary_cross_entropy(y, p)
    assert perfect == pytest.approx(0.0, abs=1e-15)
    assert np.isfinite(wrong) and wrong > 100
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(reference.binary_cross_entropy(y, p))
    # Hand-worked: one confident right answer at p = 0.75, y = 1 -> -log(0.75).
    assert fastnn.binary_cross_entropy([[1]], [[0.75]]) == pytest.approx(-np.log(0.75), rel=1e-15)
