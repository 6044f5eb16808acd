"""Compiled kernels of ``fastnn.sklearn``: scikit-learn's optimizers on the engine's block kernels.

The forward pass, the loss and the gradient of a block of rows are the
packed layout's (``forward_block``, ``loss_block``, ``gradient_block`` with
the cross-entropy delta ``out - y``) on rows gathered by ``stream.gather``,
inlined here; this module adds
what scikit-learn's ``MLPClassifier`` does with them: the gradients averaged
over the batch, the L2 term, and the "sgd" (momentum, Nesterov) and "adam"
updates, with their state in arrays that live between calls. One call runs
many batches, so that small batches cost no Python call each.

Data are (n_samples, units) C-ordered arrays of one float dtype, as
``fastnn.sklearn`` converts them once; the parameters are ``params = (W1, b1,
W2, b2)`` of that dtype (biases of shape (1, units)); gradient sums and the
optimizers' state are float64.

Prediction is ``stream.predict``. (Numba keys the on-disk cache of these
kernels on this file alone: see ``_kernels/__init__.py``.)
"""

import math

from .._config import NJIT
from . import jit
from .packed import forward_block, gradient_block, loss_block
from .stream import gather_block

# Positions in `hyper`, the float64 array of the optimizer's settings: one
# array rather than a flag per setting, so that every setting has one type
# and each dtype compiles a single variant.
_SOLVER, _LR, _BETA_1, _BETA_2, _EPSILON, _MOMENTUM, _NESTEROV, _ALPHA, _LO, _HI = range(10)
_N_HYPER = 10
_SGD, _ADAM = 0.0, 1.0
# Positions in `totals`, the float64 array that the epoch kernel adds to.
_LOSS, _STEPS = 0, 1


@jit(**NJIT)
def _step(p, g, m, v, count, decay, hyper, t):
    """One update of the flat parameter p from its gradient sum g over `count` rows; returns sum(p**2) after it.

    grad = (g + decay p) / count, decay being alpha for the weights and 0 for
    the biases (scikit-learn's ``_compute_loss_grad``). sgd:
    m = momentum m - lr grad, then p += m, or p += momentum m - lr grad with
    Nesterov's momentum. adam, at step t: m = b1 m + (1 - b1) grad,
    v = b2 v + (1 - b2) grad**2, p -= lr sqrt(1 - b2**t) / (1 - b1**t) m / (sqrt(v) + eps).
    g is set back to 0 for the next batch's sum.
    """
    lr = hyper[_LR]
    total = 0.0
    if hyper[_SOLVER] == _ADAM:
        b1, b2, eps = hyper[_BETA_1], hyper[_BETA_2], hyper[_EPSILON]
        lr_t = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        for i in range(p.shape[0]):
            grad = (g[i] + decay * p[i]) / count
            mi = b1 * m[i] + (1.0 - b1) * grad
            vi = b2 * v[i] + (1.0 - b2) * (grad * grad)
            m[i] = mi
            v[i] = vi
            p[i] = p[i] - lr_t * mi / (math.sqrt(vi) + eps)
            g[i] = 0.0
            total += p[i] * p[i]
    else:
        momentum = hyper[_MOMENTUM]
        nesterov = hyper[_NESTEROV] != 0.0
        for i in range(p.shape[0]):
            grad = (g[i] + decay * p[i]) / count
            velocity = momentum * m[i] - lr * grad
            m[i] = velocity
            p[i] = p[i] + (momentum * velocity - lr * grad if nesterov else velocity)
            g[i] = 0.0
            total += p[i] * p[i]
    return total


@jit(**NJIT)
def _epoch(X, Y, order, start, stop, batch, params, grads, moments, hyper, buffers, totals):
    """Mini-batch steps on rows order[start:stop] (rows start:stop if order is empty), `batch` rows per step.

    Each batch's loss before its step, times its rows, is added to
    totals[_LOSS]: -sum of the log-likelihood terms (over its rows and the
    outputs, probabilities clipped to [lo, hi]) + 0.5 alpha sum(W1**2 + W2**2),
    as scikit-learn's ``accumulated_loss``. totals[_STEPS] counts the steps
    (adam's t). A batch wider than the block is run as several blocks whose
    gradient sums add up before its one step. grads = (gW1, gb1, gW2, gb2)
    are float64 sums, zero on entry and on return; moments = (mW1, mb1, mW2,
    mb2, vW1, vb1, vW2, vb2): sgd's velocities are the m, adam's moments m and v.
    """
    W1, b1, W2, b2 = params
    gW1, gb1, gW2, gb2 = grads
    mW1, mb1, mW2, mb2, vW1, vb1, vW2, vb2 = moments
    Xb, Yb, Mb, hin, hout, oin, out, hd, od = buffers
    alpha, lo, hi = hyper[_ALPHA], hyper[_LO], hyper[_HI]
    width = Xb.shape[2]
    squares = 0.0  # sum(W1**2 + W2**2), for the L2 term
    if alpha != 0.0:
        for k in range(W1.shape[0]):
            for j in range(W1.shape[1]):
                squares += W1[k, j] * W1[k, j]
        for j in range(W2.shape[0]):
            for k in range(W2.shape[1]):
                squares += W2[j, k] * W2[j, k]
    for first in range(start, stop, batch):
        last = min(stop, first + batch)
        loss = 0.0
        for s in range(first, last, width):
            gather_block(X, Y, order, s, min(last, s + width), (Xb, Yb, Mb))
            forward_block(Xb, params, (hin, hout, oin, out), 0)
            loss += loss_block(Yb, Mb, out, (lo, hi, True, True), 0)
            gradient_block(Xb, Yb, Mb, W2, hout, out, (hd, od), grads, True, 0)
        totals[_LOSS] += loss + 0.5 * alpha * squares
        totals[_STEPS] += 1.0
        t, count = totals[_STEPS], float(last - first)
        squares = _step(W1.reshape(-1), gW1.reshape(-1), mW1.reshape(-1), vW1.reshape(-1), count, alpha, hyper, t)
        squares += _step(W2.reshape(-1), gW2.reshape(-1), mW2.reshape(-1), vW2.reshape(-1), count, alpha, hyper, t)
        _step(b1.reshape(-1), gb1, mb1, vb1, count, 0.0, hyper, t)
        _step(b2.reshape(-1), gb2, mb2, vb2, count, 0.0, hyper, t)
