"""The tutorial's activation and loss functions, made numerically stable.

Each returns exactly the tutorial's value wherever the tutorial's computation
neither overflows nor takes the log of zero, and a finite, correct value
where it would.
"""

import functools

import numpy as np


def _as_float_array(x):
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    return x


@functools.lru_cache(maxsize=None)
def _clip_bounds(dtype):
    """(smallest positive value, largest value below 1) of a float dtype."""
    dtype = np.dtype(dtype)
    return np.finfo(dtype).smallest_subnormal, np.nextafter(dtype.type(1), dtype.type(0))


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` without overflow.

    Parameters
    ----------
    x : array_like
        Integer input is computed in float64.

    Returns
    -------
    ndarray or scalar of the same shape as `x`
        Bitwise equal to the tutorial's ``1 / (1 + np.exp(-x))`` wherever
        ``exp(-x)`` is finite. Below that, where the tutorial overflows (with a
        warning) to 0, the result is ``exp(x)``, the correctly rounded limit.
    """
    x = _as_float_array(x)
    # exp(-x) overflows exactly when -x > log(max); there 1 + exp(x) == 1.
    overflows = x < -np.log(np.finfo(x.dtype).max)
    safe = np.where(overflows, 0, x)
    result = np.where(overflows, np.exp(np.minimum(x, 0)), 1 / (1 + np.exp(-safe)))
    return result[()] if result.ndim == 0 else result


def sigmoid_derivative(x):
    """Derivative of the sigmoid written from its output: ``x * (1 - x)``.

    Parameters
    ----------
    x : array_like
        Sigmoid outputs, as in the tutorial.
    """
    x = _as_float_array(x)
    return x * (1 - x)


def binary_cross_entropy(y_true, y_pred):
    """Mean binary cross-entropy, finite for predictions of exactly 0 or 1.

    ``-mean(y_true * log(p) + (1 - y_true) * log(1 - p))`` with ``p`` clipped
    to ``[smallest subnormal, largest float below 1]`` of its dtype. The clip
    moves only predictions of exactly 0 or 1, so the result equals the
    tutorial's wherever the tutorial's is finite. A term whose weight is zero
    contributes zero (the tutorial gets ``0 * -inf = nan`` there).

    Parameters
    ----------
    y_true : array_like
        Targets in [0, 1].
    y_pred : array_like of the same shape
        Predicted probabilities.

    Returns
    -------
    float
    """
    y_true = _as_float_array(y_true)
    y_pred = _as_float_array(y_pred)
    lo, hi = _clip_bounds(y_pred.dtype)
    p = np.clip(y_pred, lo, hi)
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
