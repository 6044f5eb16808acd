"""Kernels over rows in C order, (rows, units): between the BLAS products of the large-data path, and a few rows' epochs.

X W1 and X^T HD are NumPy's BLAS products (see _paths.chunk_loss); these
kernels do the rest of a chunk of rows and add the chunks' sums in chunk
order. The sums over rows are made in the data's precision, where they
vectorize widest, 256 rows at a time, and each 256 rows' partial sum is
added to float64 sums. rows.train runs whole epochs of a few rows, the
products written here, vectorized over the hidden units.
"""

import numpy as np
from numba import types
from numba.extending import overload

from .._config import EXACT, INLINE, NJIT
from . import _atomic, jit
from ._blas import matmul
from .packed import _DONE, _FOREVER, _PATIENCE, _RETIRE, _RETIRED, _STARTED, _UPDATED, _claim
from ._math import _sigmoid, _sigmoid_derivative, _zero, add_sums, flush_subnormal, apply_gradients, loss_term, output_delta, zero_sums


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
    _, gb1, gW2, gb2 = sums
    # W2 and the partial sum of its gradient by output: the loops over the
    # hidden units are then unit-stride, which they were not over a column of W2.
    W2T = np.ascontiguousarray(W2.T)
    pb1, pW2T, pb2 = np.zeros(h, Z.dtype), np.zeros((o, h), Z.dtype), np.zeros(o, Z.dtype)
    total = 0.0
    for first in range(0, Z.shape[0], 256):
        last = min(Z.shape[0], first + 256)
        Zr, odr, HDr = Z[first:last], od[first:last], HD[first:last]
        _output_inputs(Zr, b1, W2T, b2, odr)
        total += _output_deltas(odr.reshape(-1), Y[first:last].reshape(-1), rule)
        _hidden_deltas(Zr, W2T, HDr, odr, (pb1, pW2T, pb2))
        for j in range(h):
            gb1[j] += pb1[j]
            pb1[j] = 0.0
        for k in range(o):
            gb2[k] += pb2[k]
            pb2[k] = 0.0
            for j in range(h):
                gW2[j, k] += pW2T[k, j]
                pW2T[k, j] = 0.0
    return -total


@jit(**NJIT)
def _output_inputs(Z, b1, W2T, b2, oin):
    """Z becomes hout = sigmoid(Z + b1), row by row; oin = hout W2 + b2 (W2T = W2^T, C-ordered)."""
    o, h = W2T.shape
    for i in range(Z.shape[0]):
        H = Z[i]
        for j in range(h):
            H[j] = _sigmoid(H[j] + b1[0, j])
        for k in range(o):
            s = _zero(H[0])  # the output layer in the network's precision, as forward computes it
            w = W2T[k]
            for j in range(h):
                s += H[j] * w[j]
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
def _hidden_deltas(H, W2T, HD, od, part):
    """HD = (od W2^T) H (1 - H), row by row; part = (gb1, gW2^T, gb2): gb1 += sum(HD), gW2^T += od^T H, gb2 += sum(od)."""
    bb1, bW2T, bb2 = part
    o, h = W2T.shape
    for i in range(H.shape[0]):
        Hi = H[i]
        hd = HD[i]
        for j in range(h):
            hd[j] = 0.0
        for k in range(o):
            d = od[i, k]
            bb2[k] += d
            g, w = bW2T[k], W2T[k]
            for j in range(h):
                g[j] += Hi[j] * d
                hd[j] += d * w[j]
        for j in range(h):
            hd[j] = flush_subnormal(hd[j] * _sigmoid_derivative(Hi[j]))
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


# Few rows: the whole epoch in compiled code, the products vectorized over
# the hidden units (a block of samples would be too narrow to vectorize).


@jit(**NJIT)
def _times_weights(X, W, Z):
    """Z = X W over rows: four rows of W at a time, applied to every row of Z before the next four.

    W is read once, however many rows: with many inputs it is most of the
    epoch's memory traffic. Each load and store of Z's row serves four
    multiply-adds.
    """
    K, J = W.shape
    K4 = K - K % 4
    for i in range(X.shape[0]):
        Zi = Z[i]
        for j in range(J):
            Zi[j] = 0.0
    for k in range(0, K4, 4):
        W0, W1, W2, W3 = W[k], W[k + 1], W[k + 2], W[k + 3]
        for i in range(X.shape[0]):
            Zi, Xi = Z[i], X[i]
            x0, x1, x2, x3 = Xi[k], Xi[k + 1], Xi[k + 2], Xi[k + 3]
            for j in range(J):
                Zi[j] += x0 * W0[j] + x1 * W1[j] + x2 * W2[j] + x3 * W3[j]
    for k in range(K4, K):
        Wk = W[k]
        for i in range(X.shape[0]):
            x, Zi = X[i, k], Z[i]
            for j in range(J):
                Zi[j] += x * Wk[j]


@jit(**NJIT)
def _descend_transposed_product(X, D, W, acc, lr):
    """W -= lr X^T D: each row of X^T D summed over the rows in the data's precision in acc, four rows per pass.

    The update of W's row follows its sum at once, so that a gradient the
    size of W is never written and read back: the same bits as summing
    into a zeroed gW1 and then updating.
    """
    n, J = D.shape
    n4 = n - n % 4
    for k in range(X.shape[1]):
        Wk = W[k]
        if n == 4:  # one pass for the sum and the update: 0.6-0.7 of the time at 4 x 1,000-2,000 (see docs/design.md)
            x0, x1, x2, x3 = X[0, k], X[1, k], X[2, k], X[3, k]
            D0, D1, D2, D3 = D[0], D[1], D[2], D[3]
            for j in range(J):
                Wk[j] -= (x0 * D0[j] + x1 * D1[j] + x2 * D2[j] + x3 * D3[j]) * lr
            continue
        for j in range(J):
            acc[j] = 0.0
        for i in range(0, n4, 4):
            x0, x1, x2, x3 = X[i, k], X[i + 1, k], X[i + 2, k], X[i + 3, k]
            D0, D1, D2, D3 = D[i], D[i + 1], D[i + 2], D[i + 3]
            for j in range(J):
                acc[j] += x0 * D0[j] + x1 * D1[j] + x2 * D2[j] + x3 * D3[j]
        for i in range(n4, n):
            x, Di = X[i, k], D[i]
            for j in range(J):
                acc[j] += x * Di[j]
        for j in range(J):
            Wk[j] -= acc[j] * lr


@jit(**INLINE)
def _copy_params(params, last):
    """last[k][...] = params[k] for the four parameters: the ones an epoch starts from, for its activations."""
    for k in range(4):  # loops, not last[k][:] = params[k]: that slice assignment took 4 s to compile
        src, dst = params[k], last[k]
        for i in range(src.shape[0]):
            for j in range(src.shape[1]):
                dst[i, j] = src[i, j]


@jit(**NJIT)
def train(X, Y, params, sums, buffers, losses, lr, rule, last):
    """len(losses) full-batch epochs on a few rows; losses[e] is the mean loss before epoch e's update.

    buffers = (Z, HD, od, acc, G1): (n, hidden), (n, hidden), (n, outputs),
    (hidden,) and (0, 0), in the data's dtype. Each epoch: Z = X
    W1, hidden_rows for the rest of the forward pass, the loss, the deltas
    and the sums of b1, W2 and b2, then W1 -= lr X^T HD row by row, then
    the other updates (the four are independent: their order does not
    change a bit). `last` gets a copy of the parameters the last epoch
    starts from. hidden_rows is given the empty G1 for gW1, so that its
    sums are of the row path's types and one compiled variant serves both,
    and it zeroes no gradient the size of W1.
    """
    Z, HD, od, acc, G1 = buffers
    W1 = params[0]
    chunk_sums = (G1, sums[1], sums[2], sums[3])
    no_W1 = W1[:0]  # apply_gradients' loops over W1 run zero times: W1 is updated with its sum
    rest, rest_sums = (no_W1, params[1], params[2], params[3]), (no_W1, sums[1], sums[2], sums[3])
    zero_sums(sums)  # hidden_rows starts the others from 0; an interrupted training may have left gW1
    scale = 1.0 / (X.shape[0] * od.shape[1])
    for e in range(losses.shape[0]):
        if e == losses.shape[0] - 1:
            _copy_params(params, last)
        _times_weights(X, W1, Z)
        losses[e] = hidden_rows(Z, Y, params, HD, od, rule, chunk_sums) * scale
        _descend_transposed_product(X, HD, W1, acc, lr)
        apply_gradients(rest, rest_sums, lr)


# Several outputs: the output layer's three products (hout W2, od W2^T,
# hout^T od) go to BLAS as well, and these kernels do what lies between.


@jit(**NJIT)
def output_rows(O, Y, b2, rule, sums):
    """O (a chunk's hout W2) becomes the output deltas, from sigmoid(O + b2); returns the summed loss.

    The chunk's sums start from 0, and gb2 gets the sum of the deltas, made
    256 rows at a time in the data's precision.
    """
    zero_sums(sums)
    gb2 = sums[3]
    acc = np.zeros(O.shape[1], O.dtype)
    total = 0.0
    for first in range(0, O.shape[0], 256):
        last = min(O.shape[0], first + 256)
        Ob = O[first:last]
        for i in range(Ob.shape[0]):
            for k in range(Ob.shape[1]):
                Ob[i, k] += b2[0, k]
        total += _output_deltas(Ob.reshape(-1), Y[first:last].reshape(-1), rule)
        for i in range(Ob.shape[0]):
            for k in range(Ob.shape[1]):
                acc[k] += Ob[i, k]
        for k in range(acc.shape[0]):
            gb2[k] += acc[k]
            acc[k] = 0.0
    return -total


@jit(**NJIT)
def hidden_delta_rows(H, HD, G2, sums):
    """HD (a chunk's od W2^T) becomes the hidden deltas, HD H (1 - H); gb1 gets their sum and gW2 gets G2 = H^T od."""
    _, gb1, gW2, _ = sums
    acc = np.zeros(H.shape[1], H.dtype)
    for first in range(0, H.shape[0], 256):
        for i in range(first, min(H.shape[0], first + 256)):
            Hi, HDi = H[i], HD[i]
            for j in range(Hi.shape[0]):
                d = flush_subnormal(HDi[j] * _sigmoid_derivative(Hi[j]))
                HDi[j] = d
                acc[j] += d
        for j in range(acc.shape[0]):
            gb1[j] += acc[j]
            acc[j] = 0.0
    for j in range(G2.shape[0]):
        for k in range(G2.shape[1]):
            gW2[j, k] += G2[j, k]


# The row path's chunks in compiled code, NumPy's BLAS called from here
# (_blas.matmul): the same calls and the same bits as _paths.chunk_loss and
# RowEpochs. From Python, each chunk paid 15-30 us besides its products (the
# calls of each kernel and of np.matmul, the thread pool, the GIL between
# the threads), and each epoch of one block a copy of the parameters.


def _rest_of_chunk(blas, Z, Y, params, HD, od, rule, sums, G2s, c):
    """The chunk's work between X W1 (in Z) and X^T HD, as _paths.chunk_loss does it: returns its loss.

    With G2s None (fewer than OUTPUTS_BLAS outputs) hidden_rows; else the
    output layer's three BLAS products, G2s[c] getting hout^T od, with
    output_rows and hidden_delta_rows between them. Chosen by the type of
    G2s when compiling, so that only the code of one is compiled.
    """


@overload(_rest_of_chunk, jit_options=dict(NJIT, cache=False), inline="always")
def _rest_of_chunk_typed(blas, Z, Y, params, HD, od, rule, sums, G2s, c):
    if isinstance(G2s, types.NoneType):
        return lambda blas, Z, Y, params, HD, od, rule, sums, G2s, c: hidden_rows(Z, Y, params, HD, od, rule, sums)

    def outputs_by_blas(blas, Z, Y, params, HD, od, rule, sums, G2s, c):
        _, b1, W2, b2 = params
        bias_sigmoid_in_place(Z, b1)
        matmul(blas, Z, W2, od)
        loss = output_rows(od, Y, b2, rule, sums)
        matmul(blas, od, W2.T, HD)
        matmul(blas, Z.T, od, G2s[c])
        hidden_delta_rows(Z, HD, G2s[c], sums)
        return loss

    return outputs_by_blas


@jit(**INLINE)
def _blas_chunk(blas, X, Y, params, buffers, partials, rule, bounds, c, G2s, columns):
    """_paths.chunk_loss for chunk c, rows bounds[c] to bounds[c + 1] of the block X, Y, compiled: returns its loss."""
    first, stop = bounds[c], bounds[c + 1]
    Xc = X[first:stop]
    Z, HD, od = buffers[0][first:stop], buffers[1][first:stop], buffers[2][first:stop]
    sums = (partials[0][c], partials[1][c], partials[2][c], partials[3][c])
    matmul(blas, Xc, params[0], Z)
    loss = _rest_of_chunk(blas, Z, Y[first:stop], params, HD, od, rule, sums, G2s, c)
    if columns[0].shape[0] == 1:  # else W1's gradient by columns, after all the chunks
        matmul(blas, Xc.T, HD, sums[0])
    return loss


@jit(**INLINE)
def _take_chunks(blas, X, Y, params, buffers, partials, rule, team, first_ticket):
    """Run the tasks of tickets from first_ticket that nobody has taken (a helper: until retired): the chunks, then the columns.

    A column's task, G1's columns of X^T HD, waits for every chunk's hidden deltas.
    """
    bounds, state, leader, chunk_losses, G2s, columns = team[0], team[1], team[2], team[3], team[4], team[6]
    count, (edges, G1), HD = bounds.shape[0] - 1, columns, buffers[1][: X.shape[0]]
    while leader or _atomic.load(state, _RETIRED) == 0:
        ticket = _claim(state, first_ticket + _tasks(team))
        if ticket < 0:
            return
        c = ticket - first_ticket
        if c < count:
            chunk_losses[c] = _blas_chunk(blas, X, Y, params, buffers, partials, rule, bounds, c, G2s, columns)
        else:
            _atomic.wait_for(state, _DONE, first_ticket + count, _FOREVER)
            first, stop = edges[c - count], edges[c - count + 1]
            matmul(blas, X[:, first:stop].T, HD, G1[first:stop])
        _atomic.fetch_add(state, _DONE, 1)


@jit(**INLINE)
def _tasks(team):
    """The tickets of one pass over the block: its chunks, then its columns."""
    return team[0].shape[0] - 1 + team[6][0].shape[0] - 1


@jit(**EXACT)
def _chunks_loss(chunk_losses, count, scale):
    """The chunks' losses added in chunk order, over `scale`: RowEpochs' sum and division, which fastmath would reorder."""
    total = 0.0
    for c in range(count):
        total += chunk_losses[c]
    return total / scale


@jit(**NJIT)
def train_blas(blas, X, Y, params, sums, buffers, partials, losses, lr, rule, last, team):
    """RowEpochs' epochs on one block, X and Y whole: len(losses) of them; `last` gets the parameters the last one starts from.

    team = (bounds, state, leader, chunk_losses, G2s, fresh, columns): the
    chunks' first rows (and the block's length), the counters of
    packed.train, whether this thread leads, each chunk's loss, the
    chunks' hout^T od where the output layer's products are BLAS ones
    (else None), (below) whether the sums start from 0, and (edges, G1):
    where W1's gradient is summed by columns of X, the columns' bounds
    and the block's G1, else [0] and an empty G1. Helpers take the chunks of the epoch under way as
    in packed.train; the leader adds the chunks' sums and losses in chunk
    order and updates the weights.

    With no epochs (len(losses) == 0), the block X, Y of data of several
    blocks once: its chunks' sums added to `sums` in chunk order (from 0
    if `fresh`), and its loss returned; RowEpochs updates the weights
    after the last block. One kernel for both, which compiles once.
    """
    bounds, state, leader, fresh, columns = team[0], team[1], team[2], team[5], team[6]
    epochs, count = losses.shape[0], bounds.shape[0] - 1
    tasks = _tasks(team)
    if not leader:
        if not _atomic.wait_for(state, _STARTED, 1, _PATIENCE):
            return 0.0
        while _atomic.load(state, _RETIRED) == 0:
            e = _atomic.load(state, _UPDATED)
            if e >= max(epochs, 1):
                break
            _take_chunks(blas, X, Y, params, buffers, partials, rule, team, e * tasks)
            _atomic.wait_for(state, _UPDATED, e + 1, _FOREVER)
        return 0.0
    scale = float(X.shape[0] * Y.shape[1]) if epochs > 0 else 1.0  # RowEpochs divides by n * o
    _atomic.fetch_add(state, _STARTED, 1)
    loss = 0.0
    for e in range(max(epochs, 1)):
        if e == epochs - 1:
            _copy_params(params, last)
        _take_chunks(blas, X, Y, params, buffers, partials, rule, team, e * tasks)
        if not _atomic.wait_for(state, _DONE, (e + 1) * tasks, _RETIRE):
            _atomic.fetch_add(state, _RETIRED, 1)
            _atomic.wait_for(state, _DONE, (e + 1) * tasks, _FOREVER)
        fold_chunk_sums(count, partials, sums, fresh)
        gW1, G1 = sums[0], columns[1]
        for k in range(G1.shape[0]):  # gW1 += G1 by columns, as np.add does it; G1 is empty else
            for j in range(G1.shape[1]):
                gW1[k, j] += G1[k, j]
        loss = _chunks_loss(team[3], count, scale)
        if epochs > 0:
            losses[e] = loss
            apply_gradients(params, sums, lr)
        _atomic.fetch_add(state, _UPDATED, 1)
    return loss
