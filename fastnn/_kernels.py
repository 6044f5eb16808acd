"""Numba kernels of fastnn: every compiled function lives here.

Kernels assume clean input: C-contiguous arrays of one float dtype, checked
by the public wrapper in ``network.py``. Activations are stored transposed,
one row per unit and one column per sample, ``(units, n_samples)``, so that
the loops over samples are unit-stride and every reduction over samples is a
register accumulation.

All kernels share ``_NJIT``:

- ``cache=True``: compiled code is reused across processes;
- ``nogil=True``: threads training different networks run in parallel;
- ``error_model="numpy"``: a division by zero gives inf like NumPy, with no
  Python exception check inside the loops;
- ``fastmath`` with an explicit subset of flags. ``nnan`` and ``ninf`` are left
  out on purpose: with them LLVM may assume that no value is NaN or infinite,
  and overflow in ``exp`` or a diverging loss could no longer be seen.
  ``reassoc`` lets the sums over samples vectorize, which changes their
  rounding in the last bits compared with NumPy; the tests bound the effect.
"""

import numpy as np
from numba import njit

_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_NJIT = dict(nogil=True, cache=True, error_model="numpy", fastmath=_FASTMATH)


@njit(inline='always', **_NJIT)
def _sigmoid(z):
    """1 / (1 + exp(-z)); exp overflows to inf, giving exactly 0 as in NumPy."""
    return 1.0 / (1.0 + np.exp(-z))


@njit(inline='always', **_NJIT)
def _sigmoid_derivative(a):
    """a (1 - a): the derivative of the sigmoid written from its output a."""
    return a * (1.0 - a)


@njit(inline='always', **_NJIT)
def _forward(XT, W1, b1, W2, b2, hin, hout, oin, out):
    """hin = (X W1 + b1)^T, hout = sigmoid(hin), oin = (hout^T W2 + b2)^T, out = sigmoid(oin)."""
    f, n = XT.shape
    h = W1.shape[1]
    o = W2.shape[1]
    for j in range(h):
        b = b1[0, j]
        for i in range(n):
            z = 0.0
            for k in range(f):
                z += XT[k, i] * W1[k, j]
            z += b
            hin[j, i] = z
            hout[j, i] = _sigmoid(z)
    for k in range(o):
        b = b2[0, k]
        for i in range(n):
            z = 0.0
            for j in range(h):
                z += hout[j, i] * W2[j, k]
            z += b
            oin[k, i] = z
            out[k, i] = _sigmoid(z)


@njit(inline='always', **_NJIT)
def _loss(yT, out, lo, hi):
    """Mean binary cross-entropy, -mean(y log p + (1 - y) log(1 - p)), p clipped to [lo, hi].

    A term whose weight y or 1 - y is exactly zero is skipped, which gives the
    same value as computing it whenever that value is finite.
    """
    o, n = out.shape
    total = 0.0
    for k in range(o):
        for i in range(n):
            t = yT[k, i]
            p = min(max(out[k, i], lo), hi)
            if t != 0.0:
                total += t * np.log(p)
            if t != 1.0:
                total += (1.0 - t) * np.log(1.0 - p)
    return -total / (n * o)


@njit(inline='always', **_NJIT)
def _backward(XT, yT, W1, b1, W2, b2, lr, hout, out, hd, od):
    """The tutorial's update: od = (out - y) out (1 - out), hd = (W2 od) hout (1 - hout),
    W2 -= hout od^T lr, b2 -= sum(od) lr, W1 -= X^T hd^T lr, b1 -= sum(hd) lr.

    Both deltas use the weights from before the update, as the tutorial does.
    """
    f, n = XT.shape
    h = W1.shape[1]
    o = W2.shape[1]
    for k in range(o):
        for i in range(n):
            p = out[k, i]
            od[k, i] = (p - yT[k, i]) * _sigmoid_derivative(p)
    for j in range(h):
        for i in range(n):
            s = 0.0
            for k in range(o):
                s += od[k, i] * W2[j, k]
            hd[j, i] = s * _sigmoid_derivative(hout[j, i])
    for j in range(h):
        for k in range(o):
            s = 0.0
            for i in range(n):
                s += hout[j, i] * od[k, i]
            W2[j, k] -= s * lr
    for k in range(o):
        s = 0.0
        for i in range(n):
            s += od[k, i]
        b2[0, k] -= s * lr
    for k in range(f):
        for j in range(h):
            s = 0.0
            for i in range(n):
                s += XT[k, i] * hd[j, i]
            W1[k, j] -= s * lr
    for j in range(h):
        s = 0.0
        for i in range(n):
            s += hd[j, i]
        b1[0, j] -= s * lr


@njit(**_NJIT)
def _train(XT, yT, W1, b1, W2, b2, lr, lo, hi, losses, hin, hout, oin, out, hd, od):
    """len(losses) full-batch epochs of forward, loss (before the update) and backward."""
    for e in range(losses.shape[0]):
        _forward(XT, W1, b1, W2, b2, hin, hout, oin, out)
        losses[e] = _loss(yT, out, lo, hi)
        _backward(XT, yT, W1, b1, W2, b2, lr, hout, out, hd, od)
