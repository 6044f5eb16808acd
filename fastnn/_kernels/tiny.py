"""The tutorial's size of network: packed.train's epochs in one short kernel, which compiles in a fraction of its time.

The same layout, arguments and results as ``packed.train``, for a few
samples and layers of a few units each (``_paths.small_kernel`` decides).
There the packed kernels' tiles never fill and their vectorized exp and log
have a handful of values to work on, while their code is most of the first
run's wait. Here every loop takes one unit at a time, the two layers share
one copy of the code (a loop over the layers: Numba types and lowers each
copy anew), and exp and log are the C library's.
"""

import math

from .._config import NJIT
from . import jit
from ._math import apply_gradients


@jit(**NJIT)
def train(X, Y, M, params, sums, acts, deltas, kept, losses, lr, rule):
    """packed.train's epochs, and with no epoch its forward pass, for a few samples and units; `kept` is not used.

    Each epoch: the forward pass (the dot, then the bias, then the sigmoid);
    the loss; od = output delta, masked; hd = (W2 od) hout (1 - hout); the
    sums gW2 = hout od^T, gb2 = sum(od), gW1 = X^T hd^T, gb1 = sum(hd); then
    W -= lr g in the tutorial's order (W2, b2, W1, b1). Sums, biases, exp,
    log and the sigmoid are in float64 whatever the dtype (float32 products
    are widened as they are added), and results are stored in the data's
    dtype: in float32 the bits differ from packed.train's (and from
    forward + backward, which run the packed kernels) by rounding.
    """
    W1, b1, W2, b2 = params
    gW1, gb1, gW2, gb2 = sums
    hin, hout, oin, out = acts
    hd, od = deltas
    lo, hi, binary, exact = rule
    epochs, width = losses.shape[0], X.shape[2]
    count = 0.0
    for blk in range(M.shape[1]):
        for i in range(width):
            count += M[0, blk, i]
    scale = 1.0 / (count * out.shape[0]) if epochs > 0 else 0.0
    for layer in range(2 if epochs > 0 else 0):  # the sums from 0; each epoch's update sets them back to 0
        G, g = (gW2, gb2) if layer == 0 else (gW1, gb1)
        G[...] = 0.0
        g[...] = 0.0
    for e in range(max(epochs, 1)):
        total = 0.0
        for blk in range(X.shape[1]):
            for layer in range(2):
                A, W, b, Z, S = (X, W1, b1, hin, hout) if layer == 0 else (hout, W2, b2, oin, out)
                for j in range(W.shape[1]):
                    for i in range(width):
                        z = 0.0
                        for k in range(W.shape[0]):
                            z += A[k, blk, i] * W[k, j]
                        z += b[0, j]
                        Z[j, blk, i] = z
                        S[j, blk, i] = 1.0 / (1.0 + math.exp(-z))
            if epochs == 0:
                continue
            for k in range(out.shape[0]):
                for i in range(width):
                    p, t, m = out[k, blk, i], Y[k, blk, i], M[0, blk, i]
                    q = float(p)
                    q = lo if q < lo else (hi if q > hi else q)  # a NaN stays NaN
                    if binary:
                        total += m * math.log(q if t == 1.0 else 1.0 - q)
                    else:
                        total += m * (t * math.log(q) + (1.0 - t) * math.log(1.0 - q))
                    od[k, blk, i] = ((p - t) if exact else (p - t) * (p * (1.0 - p))) * m
            for j in range(hd.shape[0]):
                for i in range(width):
                    d = 0.0
                    for k in range(od.shape[0]):
                        d += od[k, blk, i] * W2[j, k]
                    a = hout[j, blk, i]
                    hd[j, blk, i] = d * (a * (1.0 - a))
            for layer in range(2):
                A, D, G, g = (hout, od, gW2, gb2) if layer == 0 else (X, hd, gW1, gb1)
                for j in range(D.shape[0]):
                    s = 0.0
                    for i in range(width):
                        s += D[j, blk, i]
                    g[j] += s
                    for k in range(A.shape[0]):
                        s = 0.0
                        for i in range(width):
                            s += A[k, blk, i] * D[j, blk, i]
                        G[k, j] += s
        if epochs == 0:
            return
        losses[e] = -total * scale
        apply_gradients(params, sums, lr)  # and each sum back to 0 for the next epoch
