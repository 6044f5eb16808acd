"""The kernels' own exp and log against NumPy's (the C library's), in ulps."""

import warnings

import numpy as np
import pytest
from numba import njit

from fastnn._kernels import _math, packed, rows, stream, tiny


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


# Every kernel that makes deltas, driven into float32's subnormal range: a
# saturated output (its input -88.5) and hidden outputs near 1e-36, so that
# those deltas computed without the flush would be subnormal; the other
# half of the rows is not saturated and gives normal deltas.
_F32, _TINY32 = np.float32, np.finfo(np.float32).tiny
_N, _F, _H, _O = 8, 3, 4, 2
_RULE = (float(_TINY32) * 1e-7, float(np.nextafter(_F32(1), _F32(0))), True, True)  # the exact delta, p - t


def _subnormals(a):
    a = np.abs(np.asarray(a))
    return int(np.sum((a > 0) & (a < _TINY32)))


def _saturated_params():
    """Hidden pre-activations of -86 (outputs near 4e-38) and one output's input at -88.5 (about 3.6e-39)."""
    return (np.full((_F, _H), -86 / 3, _F32), np.zeros((1, _H), _F32), np.full((_H, _O), 1e-3, _F32),
            np.array([[-88.5, 0.0]], _F32))


def _empty_sums():
    return (np.zeros((_F, _H)), np.zeros(_H), np.zeros((_H, _O)), np.zeros(_O))


def _packed(a):
    return np.ascontiguousarray(a.reshape(a.shape[0], 1, -1))


def _row_output_deltas():
    od = np.full(_N * _O, -88.5, _F32)
    od[::2] = 0.0
    rows._output_deltas(od, np.zeros(_N * _O, _F32), _RULE)
    return (od,)


def _hidden_outputs():
    H = np.full((_N, _H), 1e-36, _F32)
    H[::2] = 0.5
    return H


def _row_hidden_deltas():
    H, HD = _hidden_outputs(), np.zeros((_N, _H), _F32)
    part = (np.zeros(_H, _F32), np.zeros((_O, _H), _F32), np.zeros(_O, _F32))  # gb1, gW2^T, gb2
    rows._hidden_deltas(H, np.ones((_O, _H), _F32), HD, np.full((_N, _O), 5e-4, _F32), part)  # W2^T
    return (HD,)


def _hidden_delta_rows():
    HD = np.full((_N, _H), 1e-3, _F32)
    rows.hidden_delta_rows(_hidden_outputs(), HD, np.zeros((_H, _O), _F32), _empty_sums())
    return (HD,)


def _inputs():
    """(features, samples) of ones, every other sample zero (its hidden units at 0.5)."""
    X = np.ones((_F, _N), _F32)
    X[:, ::2] = 0.0
    return X


def _tiny_train():
    acts = tuple(np.zeros((u, _N), _F32) for u in (_H, _H, _O, _O))
    deltas = (np.zeros((_H, _N), _F32), np.zeros((_O, _N), _F32))
    tiny.train(_inputs(), np.zeros((_O, _N), _F32), np.ones((1, _N), _F32), _saturated_params(),
               acts, deltas, np.zeros(1), 0.0, _RULE)
    return deltas


def _gradient_block():
    out = np.vstack([np.full(_N, 3.6e-39, _F32), np.full(_N, 0.5, _F32)])
    deltas = (_packed(np.zeros((_H, _N), _F32)), _packed(np.zeros((_O, _N), _F32)))
    packed.gradient_block(_packed(_inputs()), _packed(np.zeros((_O, _N), _F32)),
                          _packed(np.ones((1, _N), _F32)), np.full((_H, _O), 1e-3, _F32),
                          _packed(np.ascontiguousarray(_hidden_outputs().T)), _packed(out), deltas, _empty_sums(), True, 0)
    return deltas


def _train_batches():  # mini-batches and scikit-learn's solvers make their deltas here
    block = (np.zeros((_F, 1, _N), _F32), np.zeros((_O, 1, _N), _F32), np.zeros((1, 1, _N), _F32))
    acts = tuple(np.zeros((u, 1, _N), _F32) for u in (_H, _H, _O, _O))
    deltas = (np.zeros((_H, 1, _N), _F32), np.zeros((_O, 1, _N), _F32))
    stream.train_batches(np.ascontiguousarray(_inputs().T), np.zeros((_N, _O), _F32), np.empty(0, np.int64), (0, _N, _N),
                         _saturated_params(), _empty_sums(), block, acts, deltas, 0.0, _RULE, np.zeros(1), False)
    return deltas


@pytest.mark.parametrize("site", [_row_output_deltas, _row_hidden_deltas, _hidden_delta_rows, _tiny_train,
                                  _gradient_block, _train_batches], ids=lambda f: f.__name__.strip("_"))
def test_every_delta_site_leaves_no_subnormal_float32_delta(site):
    deltas = site()
    assert all(d.dtype == _F32 for d in deltas)
    assert [_subnormals(d) for d in deltas] == [0] * len(deltas)
    assert all(np.count_nonzero(d) for d in deltas)  # the unsaturated rows' deltas are kept
