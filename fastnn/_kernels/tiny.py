"""The tutorial's size of network: packed.train's epochs in one short kernel, which compiles in a fraction of its time.

For a few samples and layers of a few units each (``_paths.small_kernel``
decides). There the packed kernels' tiles never fill and their vectorized
exp and log have a handful of values to work on, while their code is most
of the first run's wait. Here every loop takes one unit at a time, the two
layers share one copy of the code (a loop over the layers: Numba types and
lowers each copy anew), exp and log are the C library's, each parameter is
updated as its gradient is summed (no gradient sums), and the arrays are the
packed layout's with its blocks side by side, ``(units, samples)``
(``flat``): one index less in every loop. Its flags are EXACT's: without
``reassoc`` LLVM vectorizes no sum, which for a handful of values only made
the code longer to compile (docs/design.md).
"""

from numba import types

from .._config import EXACT
from . import jit

# The C library's exp and log as plain external calls, not LLVM's intrinsics:
# LLVM cannot widen a call that may set errno, so it leaves these loops
# scalar instead of vectorizing them for a handful of values.
_exp = types.ExternalFunction("exp", types.float64(types.float64))
_log = types.ExternalFunction("log", types.float64(types.float64))


def flat(packed):
    """The packed layout's (units, n_blocks, width) array as (units, n_blocks * width): a view, no copy."""
    return packed.reshape(packed.shape[0], -1)


def epochs(X, Y, M, params, sums, acts, deltas, kept, losses, lr, rule):
    """packed.train's call, run by train: the arrays made flat; `sums` and `kept` are not used (train keeps no sums)."""
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
    Sums, biases, exp, log and the sigmoid are in float64 whatever the dtype
    (float32 products are widened as they are added), and results are
    stored in the data's dtype: in float32 the bits differ from
    packed.train's (and from forward + backward, which run the packed
    kernels) by rounding.
    """
    W1, b1, W2, b2 = params
    hin, hout, oin, out = acts
    hd, od = deltas
    lo, hi, binary, exact = rule
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
                    z = 0.0
                    for k in range(W.shape[0]):
                        z += A[k, i] * W[k, j]
                    z += b[0, j]
                    Z[j, i] = z
                    S[j, i] = 1.0 / (1.0 + _exp(-z))
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
                od[k, i] = ((p - t) if exact else (p - t) * (p * (1.0 - p))) * m
        for j in range(hd.shape[0]):
            for i in range(samples):
                d = 0.0
                for k in range(od.shape[0]):
                    d += od[k, i] * W2[j, k]
                a = hout[j, i]
                hd[j, i] = d * (a * (1.0 - a))
        for layer in range(2):
            A, D, W, b = (hout, od, W2, b2) if layer == 0 else (X, hd, W1, b1)
            for j in range(D.shape[0]):
                s = 0.0
                for i in range(samples):
                    s += D[j, i]
                b[0, j] -= s * lr
                for k in range(A.shape[0]):
                    s = 0.0
                    for i in range(samples):
                        s += A[k, i] * D[j, i]
                    W[k, j] -= s * lr
        losses[e] = -total * scale
