"""The kernels' own exp and log against NumPy's (the C library's), in ulps."""

import warnings

import numpy as np
from numba import njit

from fastnn._kernels import _math


@njit
def _apply(f, x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = f(x[i])
    return out


def ulps(a, b):
    """Distance in units in the last place between float64 arrays of one sign."""
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_exp_within_one_ulp_over_its_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-745, 709.78, 200_000), rng.normal(scale=5, size=200_000), np.linspace(-745, 709.78, 20_001)])
    np.testing.assert_array_less(ulps(_apply(_math._exp, x), np.exp(x)), 2)


def test_exp_overflow_and_underflow_like_the_c_library():
    x = np.array([709.78, 709.79, 710.0, 1e6, np.inf, -745.1, -745.2, -1e6, -np.inf, 0.0, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.exp(x)
    np.testing.assert_array_equal(_apply(_math._exp, x), expected)  # NaN == NaN here


def test_log_within_two_ulps_normal_and_subnormal():
    rng = np.random.default_rng(1)
    x = np.concatenate(
        [rng.uniform(0, 1, 200_000), np.exp(rng.uniform(-744, 709, 200_000)), [5e-324, 1e-310, 2.2250738585072014e-308, 1.0, np.nextafter(1, 0)]]
    )
    np.testing.assert_array_less(ulps(np.abs(_apply(_math._log, x)), np.abs(np.log(x))), 3)
    assert _math._log(1.0) == 0.0


def test_log_special_values_like_the_c_library():
    x = np.array([0.0, np.inf, -1.0, np.nan, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.log(x)
    np.testing.assert_array_equal(_apply(_math._log, x), expected)


def test_float32_exp_within_one_ulp_of_the_correctly_rounded_value():
    """Normal results: within 1 ulp of exp computed in float64 and rounded to float32."""
    x = np.linspace(-87.3, 88.7, 1_000_001, dtype=np.float32)
    got = _apply(_math._exp32, x)
    assert got.dtype == np.float32
    expected = np.exp(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_less(np.abs(got.view(np.int32).astype(np.int64) - expected.view(np.int32)), 2)


def test_float32_exp_subnormals_overflow_and_special_values():
    x = np.linspace(-103.9, -87.4, 100_001, dtype=np.float32)  # subnormal results
    got = _apply(_math._exp32, x)
    expected = np.exp(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_less(np.abs(got.view(np.int32).astype(np.int64) - expected.view(np.int32)), 3)
    special = np.array([88.73, 100.0, np.inf, -104.0, -1e6, -np.inf, 0.0, np.nan], np.float32)
    np.testing.assert_array_equal(_apply(_math._exp32, special), [np.inf, np.inf, np.inf, 0, 0, 0, 1, np.nan])


@njit
def _flush(x):  # flush_subnormal is an overload: callable from compiled code only
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = _math.flush_subnormal(x[i])
    return out


def test_flush_subnormal_zeroes_exactly_the_subnormals_in_either_precision():
    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).tiny
        x = np.array([tiny, -tiny, tiny * 0.5, -tiny * 0.5, np.nextafter(tiny, 0), 0.0, -0.0, 1.0, -3.5, np.inf, -np.inf, np.nan], dtype)
        out = _flush(x)
        assert out.dtype == dtype
        expected = np.array([tiny, -tiny, 0, 0, 0, 0, 0, 1.0, -3.5, np.inf, -np.inf, np.nan], dtype)
        np.testing.assert_array_equal(out, expected)  # NaN == NaN here: a NaN is not hidden
