"""Numba kernels of fastnn: every compiled function lives here.

Kernels assume clean input: C-contiguous arrays of one float dtype, checked
by the public wrapper in ``network.py``. Data and activations are stored
transposed and packed, one row per unit and the samples in groups of
``LANES``: ``(units, n_groups, LANES)``, so that the loops over samples are
unit-stride and vectorize even for the tutorial's four samples.

The unit of work is a block of sample groups ``[g0, g1)``: its forward pass,
its loss and its gradient contributions are computed while the block is in
cache. A full-batch epoch runs the blocks in order, sums their partial
gradients in that order, then updates the weights once. With the block size
fixed, the result does not depend on how the blocks are scheduled.

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

The small kernels are inlined into their callers (``inline="always"``), so the
epoch loop of a tiny network is one compiled function with no calls in it.
"""

import numpy as np
from numba import njit

_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_NJIT = dict(nogil=True, cache=True, error_model="numpy", fastmath=_FASTMATH)
_INLINE = dict(_NJIT, inline="always")

# Samples are packed in groups of LANES: an activation array has shape
# (units, n_groups, LANES), and every loop over the samples of a group has
# this constant trip count, which LLVM turns into one vector instruction.
# Columns past n_samples are padding: zero input, masked out of the loss and
# the gradients by M, shape (1, n_groups, LANES): 1.0 for a real sample, 0.0
# for padding.
LANES = 4
# Groups per block: enough to amortize the loops, few enough that a block's
# activations stay in cache (64 groups = 256 samples).
BLOCK = 64


@njit(**_INLINE)
def _sigmoid(z):
    """1 / (1 + exp(-z)); exp overflows to inf, giving exactly 0 as in NumPy."""
    return 1.0 / (1.0 + np.exp(-z))


@njit(**_INLINE)
def _sigmoid_derivative(a):
    """a (1 - a): the derivative of the sigmoid written from its output a."""
    return a * (1.0 - a)


@njit(**_INLINE)
def _dense_sigmoid(A, W, b, Z, S, g0, g1):
    """Z = A W + b (the dot first, then the bias) and S = sigmoid(Z), for groups g0..g1."""
    for j in range(W.shape[1]):
        bj = b[0, j]
        for g in range(g0, g1):
            for l in range(LANES):
                Z[j, g, l] = 0.0
            for k in range(W.shape[0]):
                w = W[k, j]
                for l in range(LANES):
                    Z[j, g, l] += A[k, g, l] * w
            for l in range(LANES):
                z = Z[j, g, l] + bj
                Z[j, g, l] = z
                S[j, g, l] = _sigmoid(z)


@njit(**_INLINE)
def _forward_block(X, W1, b1, W2, b2, hin, hout, oin, out, g0, g1):
    """The forward pass of groups g0..g1: hidden = sigmoid(X W1 + b1), output = sigmoid(hidden W2 + b2)."""
    _dense_sigmoid(X, W1, b1, hin, hout, g0, g1)
    _dense_sigmoid(hout, W2, b2, oin, out, g0, g1)


@njit(**_INLINE)
def _loss_block(Y, M, out, lo, hi, g0, g1):
    """-sum(y log p + (1 - y) log(1 - p)) over the samples of groups g0..g1, p clipped to [lo, hi].

    A term whose weight y or 1 - y is exactly zero is skipped, which gives the
    same value as computing it whenever that value is finite.
    """
    total = 0.0
    for k in range(out.shape[0]):
        for g in range(g0, g1):
            for l in range(LANES):
                if M[0, g, l] != 0.0:
                    t = Y[k, g, l]
                    p = min(max(out[k, g, l], lo), hi)
                    if t != 0.0:
                        total += t * np.log(p)
                    if t != 1.0:
                        total += (1.0 - t) * np.log(1.0 - p)
    return -total


@njit(**_INLINE)
def _dot_samples(A, a, B, b, acc, g0, g1):
    """sum over the samples of groups g0..g1 of A[a] * B[b], in LANES partial sums held in acc."""
    for l in range(LANES):
        acc[l] = 0.0
    for g in range(g0, g1):
        for l in range(LANES):
            acc[l] += A[a, g, l] * B[b, g, l]
    return (acc[0] + acc[1]) + (acc[2] + acc[3])


@njit(**_INLINE)
def _gradient_block(X, Y, M, W2, hout, out, hd, od, acc, gW1, gb1, gW2, gb2, g0, g1):
    """Add the tutorial's gradient contributions of groups g0..g1 to gW1, gb1, gW2, gb2.

    od = (out - y) out (1 - out), hd = (W2 od) hout (1 - hout);
    gW2 += hout od^T, gb2 += sum(od), gW1 += X^T hd^T, gb1 += sum(hd).
    Padding samples get zero deltas (od is multiplied by the mask M), so they
    add nothing; gb sums the deltas as their dot product with M.
    """
    f, h, o = X.shape[0], W2.shape[0], W2.shape[1]
    for k in range(o):
        for g in range(g0, g1):
            for l in range(LANES):
                p = out[k, g, l]
                od[k, g, l] = (p - Y[k, g, l]) * _sigmoid_derivative(p) * M[0, g, l]
    for j in range(h):
        for g in range(g0, g1):
            for l in range(LANES):
                hd[j, g, l] = 0.0
            for k in range(o):
                w = W2[j, k]
                for l in range(LANES):
                    hd[j, g, l] += od[k, g, l] * w
            for l in range(LANES):
                hd[j, g, l] *= _sigmoid_derivative(hout[j, g, l])
    for k in range(o):
        gb2[k] += _dot_samples(od, k, M, 0, acc, g0, g1)
        for j in range(h):
            gW2[j, k] += _dot_samples(hout, j, od, k, acc, g0, g1)
    for j in range(h):
        gb1[j] += _dot_samples(hd, j, M, 0, acc, g0, g1)
        for k in range(f):
            gW1[k, j] += _dot_samples(X, k, hd, j, acc, g0, g1)


@njit(**_INLINE)
def _zero_gradients(gW1, gb1, gW2, gb2):
    for k in range(gW1.shape[0]):
        for j in range(gW1.shape[1]):
            gW1[k, j] = 0.0
    for j in range(gW2.shape[0]):
        gb1[j] = 0.0
        for k in range(gW2.shape[1]):
            gW2[j, k] = 0.0
    for k in range(gW2.shape[1]):
        gb2[k] = 0.0


@njit(**_INLINE)
def _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr):
    """W -= g lr for every parameter, in the tutorial's order."""
    for j in range(W2.shape[0]):
        for k in range(W2.shape[1]):
            W2[j, k] -= gW2[j, k] * lr
    for k in range(W2.shape[1]):
        b2[0, k] -= gb2[k] * lr
    for k in range(W1.shape[0]):
        for j in range(W1.shape[1]):
            W1[k, j] -= gW1[k, j] * lr
    for j in range(W1.shape[1]):
        b1[0, j] -= gb1[j] * lr


@njit(**_NJIT)
def _forward(X, W1, b1, W2, b2, hin, hout, oin, out):
    """The forward pass of every group of X."""
    n_groups = X.shape[1]
    for g0 in range(0, n_groups, BLOCK):
        _forward_block(X, W1, b1, W2, b2, hin, hout, oin, out, g0, min(n_groups, g0 + BLOCK))


@njit(**_NJIT)
def _backward(X, Y, M, W1, b1, W2, b2, lr, hout, out, hd, od, acc, gW1, gb1, gW2, gb2):
    """One step of the tutorial's rule from stored activations; deltas use the weights before the update."""
    n_groups = X.shape[1]
    _zero_gradients(gW1, gb1, gW2, gb2)
    for g0 in range(0, n_groups, BLOCK):
        g1 = min(n_groups, g0 + BLOCK)
        _gradient_block(X, Y, M, W2, hout, out, hd, od, acc, gW1, gb1, gW2, gb2, g0, g1)
    _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr)


@njit(**_NJIT)
def _train(X, Y, M, W1, b1, W2, b2, lr, lo, hi, losses, hin, hout, oin, out, hd, od, acc, gW1, gb1, gW2, gb2):
    """len(losses) full-batch epochs; losses[e] is the mean loss before epoch e's update."""
    n_groups = X.shape[1]
    scale = 1.0 / (M.sum() * out.shape[0])
    for e in range(losses.shape[0]):
        _zero_gradients(gW1, gb1, gW2, gb2)
        total = 0.0
        for g0 in range(0, n_groups, BLOCK):
            g1 = min(n_groups, g0 + BLOCK)
            _forward_block(X, W1, b1, W2, b2, hin, hout, oin, out, g0, g1)
            total += _loss_block(Y, M, out, lo, hi, g0, g1)
            _gradient_block(X, Y, M, W2, hout, out, hd, od, acc, gW1, gb1, gW2, gb2, g0, g1)
        losses[e] = total * scale
        _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr)
