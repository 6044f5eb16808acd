"""The tutorial's size of network: packed.train's epochs in one short kernel, which compiles in a fraction of its time.

For a few samples and layers of a few units each (``_paths.small_kernel``
decides). There the packed kernels' tiles never fill and their vectorized
exp and log have a handful of values to work on, while their code is most
of the first run's wait. Here every loop takes one unit at a time, the two
layers share one copy of the code (a loop over the layers: Numba types and
lowers each copy anew), exp (expf in float32) and log are the C library's,
each parameter is updated as its gradient is summed (no gradient sums), and
the arrays are the packed layout's with its blocks side by side, ``(units,
samples)`` (``flat``): one index less in every loop. Its flags are EXACT's: without
``reassoc`` LLVM vectorizes no sum, which for a handful of values only made
the code longer to compile (docs/design.md).
"""

import numpy as np
from numba import types
from numba.extending import overload

from .._config import EXACT
from . import jit
from ._math import flush_subnormal

# The C library's exp and log as plain external calls, not LLVM's intrinsics:
# LLVM cannot widen a call that may set errno, so it leaves these loops
# scalar instead of vectorizing them for a handful of values.
_exp64 = types.ExternalFunction("exp", types.float64(types.float64))
_exp32 = types.ExternalFunction("expf", types.float32(types.float32))
_log = types.ExternalFunction("log", types.float64(types.float64))


# float32 networks run their forward pass and deltas in float32, expf
# included: every widening and narrowing lay on the epoch's chain of
# dependent operations (docs/design.md). The gradient sums over the samples
# stay in float64, as in every kernel.


def _exp(x):
    """exp(x) in the precision of x: the C library's exp or expf."""


def _like(x, v):
    """v in the precision of x: the constants of float32 arithmetic."""


_OPTIONS = dict(jit_options=dict(fastmath={"contract"}, error_model="numpy"))


@overload(_exp, **_OPTIONS)
def _exp_typed(x):
    return (lambda x: _exp32(x)) if x == types.float32 else (lambda x: _exp64(x))


@overload(_like, **_OPTIONS)
def _like_typed(x, v):
    return (lambda x, v: np.float32(v)) if x == types.float32 else (lambda x, v: np.float64(v))


def flat(packed):
    """The packed layout's (units, n_blocks, width) array as (units, n_blocks * width): a view, no copy."""
    return packed.reshape(packed.shape[0], -1)


def epochs(X, Y, M, params, parts, acts, deltas, kept, losses, lr, rule, team):
    """packed.train's call, run by train on this thread: the arrays made flat; `parts`, `kept` and `team` are not used (train keeps no sums)."""
    train(flat(X), flat(Y), flat(M), params, tuple(map(flat, acts)), tuple(map(flat, deltas)), losses, lr, rule)


@jit(**EXACT)
def train(X, Y, M, params, acts, deltas, losses, lr, rule):
    """len(losses) full-batch epochs, and with none the forward pass alone; every array flat (units, samples).

    Each epoch: the forward pass (the dot, then the bias, then the sigmoid);
    the loss; od = output delta, masked by M; hd = (W2 od) hout (1 - hout);
    then each layer's gradient, W2's and b2's first, and each parameter
    updated by it as soon as it is summed: W -= lr hout od^T and b -= lr
    sum(od), then the same for W1 and b1 with X and hd. The deltas are all
    made before any update, so the order of the updates changes nothing.
    The forward pass and the deltas are computed in the data's precision;
    the loss (its clipping and log) and the gradient sums over the samples
    in float64, as the other kernels compute them, float32 products widened
    as they are added: in float32 the bits differ from packed.train's and
    from forward + backward (the packed kernels) by rounding.
    """
    W1, b1, W2, b2 = params
    hin, hout, oin, out = acts
    hd, od = deltas
    lo, hi, binary, exact = rule
    zero, one = _like(W1[0, 0], 0.0), _like(W1[0, 0], 1.0)
    epochs, samples = losses.shape[0], X.shape[1]
    count = 0.0
    for i in range(samples):
        count += M[0, i]
    scale = 1.0 / (count * out.shape[0]) if epochs > 0 else 0.0
    for e in range(max(epochs, 1)):
        for layer in range(2):
            A, W, b, Z, S = (X, W1, b1, hin, hout) if layer == 0 else (hout, W2, b2, oin, out)
            for j in range(W.shape[1]):
                for i in range(samples):
                    z = zero
                    for k in range(W.shape[0]):
                        z += A[k, i] * W[k, j]
                    z += b[0, j]
                    Z[j, i] = z
                    S[j, i] = one / (one + _exp(-z))
        if epochs == 0:
            return
        total = 0.0
        for k in range(out.shape[0]):
            for i in range(samples):
                p, t, m = out[k, i], Y[k, i], M[0, i]
                q = float(p)
                q = lo if q < lo else (hi if q > hi else q)  # a NaN stays NaN
                if binary:
                    total += m * _log(q if t == 1.0 else 1.0 - q)
                else:
                    total += m * (t * _log(q) + (1.0 - t) * _log(1.0 - q))
                od[k, i] = flush_subnormal((p - t) if exact else (p - t) * (p * (one - p))) * m
        for j in range(hd.shape[0]):
            for i in range(samples):
                d = zero
                for k in range(od.shape[0]):
                    d += od[k, i] * W2[j, k]
                a = hout[j, i]
                hd[j, i] = flush_subnormal(d * (a * (one - a)))
        for layer in range(2):
            A, D, W, b = (hout, od, W2, b2) if layer == 0 else (X, hd, W1, b1)
            for j in range(D.shape[0]):
                s = 0.0  # sums over the samples in float64, as in every kernel
                for i in range(samples):
                    s += D[j, i]
                b[0, j] -= s * lr
                for k in range(A.shape[0]):
                    s = 0.0
                    for i in range(samples):
                        s += A[k, i] * D[j, i]
                    W[k, j] -= s * lr
        losses[e] = -total * scale
