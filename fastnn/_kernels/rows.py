"""Kernels of the large-data path: everything between the two BLAS products, over rows in C order.

X W1 and X^T HD are NumPy's BLAS products (see _training.RowEpochs); these
kernels do the rest of a chunk of rows, (rows, units), and add the chunks'
sums in chunk order. The sums over rows are made in the data's precision,
where they vectorize widest, 256 rows at a time, and each 256 rows' partial
sum is added to float64 sums.
"""

import numpy as np

from .._config import NJIT
from . import jit
from ._math import _sigmoid, _sigmoid_derivative, _zero, add_sums, loss_term, output_delta, zero_sums


@jit(**NJIT)
def fold_chunk_sums(count, partials, sums, fresh):
    """sums += partials[c] for the chunks c < count, in chunk order; from 0 if `fresh` (an epoch's first block)."""
    if fresh:
        zero_sums(sums)
    PW1, Pb1, PW2, Pb2 = partials
    for c in range(count):
        add_sums(sums, (PW1[c], Pb1[c], PW2[c], Pb2[c]))


@jit(**NJIT)
def hidden_rows(Z, Y, params, HD, od, rule, sums):
    """The rest of a chunk's forward and backward pass, from Z = X W1 of its rows; returns its summed loss.

    Z becomes hout = sigmoid(Z + b1); out = sigmoid(hout W2 + b2); od and
    HD get the output and hidden deltas (HD = (od W2^T) hout (1 - hout));
    the sums (gW1, gb1, gW2, gb2) of the chunk start from 0 and get
    gb1 = sum(HD), gW2 = hout^T od, gb2 = sum(od); gW1 is left to the BLAS
    product X^T HD. The loss clips the probabilities to [lo, hi] as
    packed.loss_block does.

    256 rows at a time, in three passes, each its own compiled function:
    _output_inputs, _output_deltas (one loop over all the outputs, which
    vectorizes) and _hidden_deltas.
    """
    _, b1, W2, b2 = params
    h, o = W2.shape
    zero_sums(sums)
    part = (np.zeros((0, 0), Z.dtype), np.zeros(h, Z.dtype), np.zeros((h, o), Z.dtype), np.zeros(o, Z.dtype))
    total = 0.0
    for first in range(0, Z.shape[0], 256):
        last = min(Z.shape[0], first + 256)
        Zr, odr, HDr = Z[first:last], od[first:last], HD[first:last]
        _output_inputs(Zr, b1, W2, b2, odr)
        total += _output_deltas(odr.reshape(-1), Y[first:last].reshape(-1), rule)
        _hidden_deltas(Zr, W2, HDr, odr, part)
        add_sums(sums, part)
        zero_sums(part)
    return -total


@jit(**NJIT)
def _output_inputs(Z, b1, W2, b2, oin):
    """Z becomes hout = sigmoid(Z + b1), row by row; oin = hout W2 + b2."""
    h, o = W2.shape
    for i in range(Z.shape[0]):
        H = Z[i]
        for j in range(h):
            H[j] = _sigmoid(H[j] + b1[0, j])
        for k in range(o):
            s = _zero(H[0])  # the output layer in the network's precision, as forward computes it
            for j in range(h):
                s += H[j] * W2[j, k]
            oin[i, k] = s + b2[0, k]


@jit(**NJIT)
def _output_deltas(od, y, rule):
    """od (flat, holding the output's inputs) becomes the output deltas; returns the summed loss terms."""
    lo, hi, binary, exact = rule
    total = 0.0
    for m in range(od.shape[0]):
        p = _sigmoid(od[m])
        t = y[m]
        total += loss_term(p, t, lo, hi, binary)
        od[m] = output_delta(p, t, exact)
    return total


@jit(**NJIT)
def _hidden_deltas(H, W2, HD, od, part):
    """HD = (od W2^T) H (1 - H), row by row; part's gb1 += sum(HD), gW2 += H^T od, gb2 += sum(od)."""
    _, bb1, bW2, bb2 = part
    h, o = W2.shape
    for i in range(H.shape[0]):
        Hi = H[i]
        hd = HD[i]
        for j in range(h):
            hd[j] = 0.0
        for k in range(o):
            d = od[i, k]
            bb2[k] += d
            for j in range(h):
                bW2[j, k] += Hi[j] * d
                hd[j] += d * W2[j, k]
        for j in range(h):
            hd[j] *= _sigmoid_derivative(Hi[j])
            bb1[j] += hd[j]


@jit(**NJIT)
def bias_sigmoid_rows(Z, b, S):
    """Z += b, S = sigmoid(Z), over rows: the tutorial's dense layer after its BLAS product. S is not Z.

    (With S = Z, LLVM's check for overlap before the vectorized loop fails
    and its scalar version runs: see bias_sigmoid_in_place.)
    """
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[0, j]
            Z[i, j] = z
            S[i, j] = _sigmoid(z)


@jit(**NJIT)
def bias_sigmoid_in_place(Z, b):
    """Z = sigmoid(Z + b), over rows: the dense layer when its input is not kept; one array read and written."""
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] = _sigmoid(Z[i, j] + b[0, j])
