"""Kernels of the packed layout: whole full-batch epochs of small data in one compiled call.

Data and activations are stored transposed and cut into blocks of samples:
``(units, n_blocks, width)``, one row per unit (feature, hidden unit or
output). Every loop over the samples of a block runs from 0 to ``width``
over unit-stride memory, so LLVM vectorizes it. Columns past ``n_samples``
are padding: zero input, masked out of the loss and the gradients by ``M``
(shape ``(1, n_blocks, width)``: 1.0 for a real sample, 0.0 for padding).

The unit of work is one block: its forward pass, its loss and its gradient
contributions are computed while the block is in cache. A full-batch epoch
runs the blocks in order, adds their contributions in that order, then
updates the weights once. The block helpers are inlined by Numba
(``inline="always"``), so the epoch loop of a tiny network is one function;
every inlined copy is typed and lowered again, which is most of the first
run's compile time, so each helper has one call site per kernel where it can.
"""

from .._config import EXACT, INLINE, NJIT
from . import _atomic, jit
from ._math import _sigmoid, _sigmoid_derivative, _zero, add_sums, flush_subnormal, apply_gradients, loss_term, output_delta, zero_sums


# _product and _row_products are the largest code of the block kernels and
# run twice in each: they are compiled once (per dtype) as functions of
# their own that every kernel calls, not inlined into each call site by
# Numba, which halved the first compile of the kernels that use them.
@jit(**NJIT)
def _product(A, W, Z, blk, j0, j1):
    """Z[j] = sum over k of A[k] W[k, j] for the units j0 <= j < j1, for the samples of block blk.

    Four of A's rows and two of Z's at a time: each pass then does eight
    multiply-adds per four loads of A and two loads and stores of Z. One
    row of A and one of Z at a time, it was bound by the stores; four and
    one, by the loads.
    """
    width, K = A.shape[2], A.shape[0]
    K4 = K - K % 4
    J2 = j1 - (j1 - j0) % 2
    for j in range(j0, J2, 2):
        for i in range(width):
            Z[j, blk, i] = 0.0
            Z[j + 1, blk, i] = 0.0
        for k in range(0, K4, 4):
            u0, u1, u2, u3 = W[k, j], W[k + 1, j], W[k + 2, j], W[k + 3, j]
            v0, v1, v2, v3 = W[k, j + 1], W[k + 1, j + 1], W[k + 2, j + 1], W[k + 3, j + 1]
            for i in range(width):
                a0, a1, a2, a3 = A[k, blk, i], A[k + 1, blk, i], A[k + 2, blk, i], A[k + 3, blk, i]
                Z[j, blk, i] += a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3
                Z[j + 1, blk, i] += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3
        for k in range(K4, K):
            u, v = W[k, j], W[k, j + 1]
            for i in range(width):
                a = A[k, blk, i]
                Z[j, blk, i] += a * u
                Z[j + 1, blk, i] += a * v
    for j in range(J2, j1):
        for i in range(width):
            Z[j, blk, i] = 0.0
        for k in range(0, K4, 4):
            w0, w1, w2, w3 = W[k, j], W[k + 1, j], W[k + 2, j], W[k + 3, j]
            for i in range(width):
                Z[j, blk, i] += A[k, blk, i] * w0 + A[k + 1, blk, i] * w1 + A[k + 2, blk, i] * w2 + A[k + 3, blk, i] * w3
        for k in range(K4, K):
            w = W[k, j]
            for i in range(width):
                Z[j, blk, i] += A[k, blk, i] * w


@jit(**INLINE)
def _dense_sigmoid(A, W, b, Z, S, blk, j0, j1):
    """Z = A W + b (the dot first, then the bias) and S = sigmoid(Z), for block blk and the units j0 <= j < j1."""
    # int(): the stream kernels' literal 0 would compile a variant of its own;
    # W[:, :], of layout "A" as is W2.T[:, :] in gradient_block: one variant for both.
    _product(A, W[:, :], Z, int(blk), j0, j1)
    for j in range(j0, j1):
        bj = b[0, j]
        for i in range(A.shape[2]):
            z = Z[j, blk, i] + bj
            Z[j, blk, i] = z
            S[j, blk, i] = _sigmoid(z)


@jit(**INLINE)
def forward_block(X, params, acts, blk):
    """The forward pass of block blk: hidden = sigmoid(X W1 + b1), output = sigmoid(hidden W2 + b2)."""
    W1, b1, W2, b2 = params
    hin, hout, oin, out = acts
    _dense_sigmoid(X, W1, b1, hin, hout, blk, int(0), W1.shape[1])
    _dense_sigmoid(hout, W2, b2, oin, out, blk, int(0), W2.shape[1])


@jit(**INLINE)
def loss_block(Y, M, out, rule, blk):
    """-sum of the loss terms over the samples of block blk."""
    lo, hi, binary, _ = rule
    total = 0.0
    for k in range(out.shape[0]):
        for i in range(out.shape[2]):
            total += M[0, blk, i] * loss_term(out[k, blk, i], Y[k, blk, i], lo, hi, binary)
    return -total


@jit(**INLINE)
def gradient_block(X, Y, M, W2, hout, out, deltas, sums, exact, blk):
    """Add the gradient contributions of block blk to the sums (gW1, gb1, gW2, gb2).

    output_gradient_block for all but gW1, then gW1 += X^T hd^T.
    """
    output_gradient_block(Y, M, W2, hout, out, deltas, sums, exact, blk)
    _row_products(X, deltas[0], sums[0], int(blk), int(0), X.shape[0])


@jit(**INLINE)
def output_gradient_block(Y, M, W2, hout, out, deltas, sums, exact, blk):
    """The deltas of block blk and its contributions to the sums but gW1's.

    od = output_delta(out, y) (masked: padding samples add nothing);
    hd = (W2 od) hout (1 - hout);
    gW2 += hout od^T, gb2 += sum(od), gb1 += sum(hd).
    The sums over samples are written out rather than calls to an inlined
    helper: every inlined copy costs compile time.
    """
    hd, od = deltas
    _, gb1, gW2, gb2 = sums
    h, o, width = W2.shape[0], W2.shape[1], hout.shape[2]
    for k in range(o):
        if exact:  # the test outside the loop, which then vectorizes
            for i in range(width):
                od[k, blk, i] = output_delta(out[k, blk, i], Y[k, blk, i], True) * M[0, blk, i]
        else:
            for i in range(width):
                od[k, blk, i] = output_delta(out[k, blk, i], Y[k, blk, i], False) * M[0, blk, i]
    _product(od, W2.T[:, :], hd, int(blk), int(0), h)  # hd = W2 od: the dense pass's product, W2's rows being hd's
    for j in range(h):
        for i in range(width):
            hd[j, blk, i] = flush_subnormal(hd[j, blk, i] * _sigmoid_derivative(hout[j, blk, i]))
    _row_products(hout, od, gW2, int(blk), int(0), h)  # int(): as in _dense_sigmoid, 0 too
    for k in range(o):
        s = _zero(od[0, blk, 0])
        for i in range(width):
            s += od[k, blk, i]
        gb2[k] += s
    for j in range(h):
        s = _zero(hd[0, blk, 0])
        for i in range(width):
            s += hd[j, blk, i]
        gb1[j] += s


@jit(**NJIT)
def _row_products(A, D, G, blk, k0, k1):
    """G[k, j] += sum over the samples of block blk of A[k] D[j], for k0 <= k < k1: a block's X^T hd (or hout^T od).

    Two of A's rows by four of D's at a time: eight sums in registers, each
    load serving two or four of them (one row of A by four of D was bound
    by the loads). Each sum is made in the data's precision over the block
    (at most MAX_BLOCK samples), where it vectorizes widest, then added to
    G (float64).
    """
    width, J = A.shape[2], D.shape[0]
    J4 = J - J % 4
    K2 = k1 - (k1 - k0) % 2
    zero = _zero(A[0, blk, 0])
    for k in range(k0, K2, 2):
        for j in range(0, J4, 4):
            s0, s1, s2, s3 = zero, zero, zero, zero
            t0, t1, t2, t3 = zero, zero, zero, zero
            for i in range(width):
                a, b = A[k, blk, i], A[k + 1, blk, i]
                d0, d1, d2, d3 = D[j, blk, i], D[j + 1, blk, i], D[j + 2, blk, i], D[j + 3, blk, i]
                s0 += a * d0
                s1 += a * d1
                s2 += a * d2
                s3 += a * d3
                t0 += b * d0
                t1 += b * d1
                t2 += b * d2
                t3 += b * d3
            G[k, j] += s0
            G[k, j + 1] += s1
            G[k, j + 2] += s2
            G[k, j + 3] += s3
            G[k + 1, j] += t0
            G[k + 1, j + 1] += t1
            G[k + 1, j + 2] += t2
            G[k + 1, j + 3] += t3
        for j in range(J4, J):
            s, t = zero, zero
            for i in range(width):
                s += A[k, blk, i] * D[j, blk, i]
                t += A[k + 1, blk, i] * D[j, blk, i]
            G[k, j] += s
            G[k + 1, j] += t
    for k in range(K2, k1):
        for j in range(0, J4, 4):
            s0, s1, s2, s3 = zero, zero, zero, zero
            for i in range(width):
                a = A[k, blk, i]
                s0 += a * D[j, blk, i]
                s1 += a * D[j + 1, blk, i]
                s2 += a * D[j + 2, blk, i]
                s3 += a * D[j + 3, blk, i]
            G[k, j] += s0
            G[k, j + 1] += s1
            G[k, j + 2] += s2
            G[k, j + 3] += s3
        for j in range(J4, J):
            s = zero
            for i in range(width):
                s += A[k, blk, i] * D[j, blk, i]
            G[k, j] += s


@jit(**NJIT)
def backward(X, Y, M, params, sums, hout, out, deltas, lr, exact):
    """One gradient step from stored activations; deltas use the weights before the update."""
    zero_sums(sums)
    for blk in range(X.shape[1]):
        gradient_block(X, Y, M, params[2], hout, out, deltas, sums, exact, blk)
    apply_gradients(params, sums, lr)


@jit(**NJIT)
def _kept_losses(kept, count, per, rule, scale, losses, first):
    """losses[first + s] for the `count` epochs whose outputs are in kept[0] (`per` values each).

    One long loop over all of them, which vectorizes, where a loop per epoch
    over a few samples would not: the same terms as loss_block, summed per
    epoch. kept = (outputs, y, mask), y and the mask repeated in the
    outputs' layout.
    """
    outputs, ytile, mtile = kept
    lo, hi, binary, _ = rule
    if binary:  # two loops, so that each is free of the test
        for j in range(count * per):
            outputs[j] = mtile[j] * loss_term(outputs[j], ytile[j], lo, hi, True)
    else:
        for j in range(count * per):
            outputs[j] = mtile[j] * loss_term(outputs[j], ytile[j], lo, hi, False)
    _epoch_sums(outputs, count, per, scale, losses, first)


@jit(**EXACT)
def _epoch_sums(terms, count, per, scale, losses, first):
    """losses[first + s] = -scale times the sum of epoch s's `per` terms, in an order of its own.

    Without fastmath's reassociation: how LLVM vectorized this sum
    depended on what else the cache had compiled, and the losses of one
    process differed from another's in the last bit. Eight sums of every
    eighth term, added in a fixed tree, keep it as fast as it was.
    """
    for s in range(count):
        first_term = s * per
        end = first_term + per - per % 8
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        for j in range(first_term, end, 8):
            a0 += terms[j]
            a1 += terms[j + 1]
            a2 += terms[j + 2]
            a3 += terms[j + 3]
            a4 += terms[j + 4]
            a5 += terms[j + 5]
            a6 += terms[j + 6]
            a7 += terms[j + 7]
        rest = 0.0
        for j in range(end, first_term + per):
            rest += terms[j]
        losses[first + s] = -((((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) + rest) * scale


# The counters of a call of train on several threads (its team's `state`):
# tickets taken (ticket t is chunk t % count of epoch t // count), chunks
# done, epochs whose update is made, whether the leader has started, whether
# the helpers are to stop.
# A helper waits at most _PATIENCE ns for the leader to start: it never does
# if anything raises before its call. The leader stops the helpers once it
# has waited _RETIRE ns for one of their chunks (tens of a small chunk's
# time, a few of the largest's): that helper is held up (more threads busy
# than cores), and would hold up every epoch.
_TAKEN, _DONE, _UPDATED, _STARTED, _RETIRED = 0, 1, 2, 3, 4
STATE = 5
_PATIENCE = 50_000_000
_RETIRE = 2_000_000
_FOREVER = -1  # no limit: what is waited for is under way


@jit(**INLINE)
def _claim(state, stop):
    """A ticket below `stop` (the end of an epoch's or a phase's) that nobody has taken, or -1 if none is left."""
    while True:
        taken = _atomic.load(state, _TAKEN)
        if taken >= stop:
            return -1
        if _atomic.compare_exchange(state, _TAKEN, taken, taken + 1):
            return taken


@jit(**NJIT)
def _chunk(X, Y, M, params, parts, acts, deltas, rule, chunks, c, backward):
    """The blocks of chunk c: their forward pass, and with `backward` their gradient contributions to parts[c].

    parts[0] starts each epoch at 0 (apply_gradients leaves it so), the
    other chunks' parts are set to 0 here. A function of its own, not
    inlined: train calls it from three places, and the block helpers are
    then compiled once.
    """
    sums = (parts[0][c], parts[1][c], parts[2][c], parts[3][c])
    if backward and c > 0:
        zero_sums(sums)
    for blk in range(chunks[c], chunks[c + 1]):
        forward_block(X, params, acts, blk)
        if backward:
            gradient_block(X, Y, M, params[2], acts[1], acts[3], deltas, sums, rule[3], blk)


@jit(**NJIT)
def train(X, Y, M, params, parts, acts, deltas, kept, losses, lr, rule, team):
    """len(losses) full-batch epochs; losses[e] is the mean loss before epoch e's update.

    The blocks are cut into chunks (team = (chunks, state, leader): chunk c
    is blocks chunks[c] to chunks[c + 1]), whose gradient contributions go
    to parts[c], added in chunk order into parts[0] at the epoch's end, then
    applied. One thread, the leader, runs every call; other threads may run
    it beside it with leader False and the same arguments, and take chunks
    too (_helpers). The chunks depend on the shape alone, so the result is
    the same with any number of threads.

    With no epoch (len(losses) == 0), only the forward pass: this is what
    forward() runs, so that the tutorial's script (train, then forward)
    compiles and loads a single kernel. Only X and the weights are read
    then, and the activations written; nothing else is touched.

    Each epoch's output is copied into kept[0]; once it holds the outputs of
    as many epochs as fit (at least one), _kept_losses computes their losses
    together, in one long loop that vectorizes, off the epochs' own chain of
    work.

    Nothing here checks for NaN or overflow: the caller checks the losses and
    the weights after each call, which costs nothing per epoch. (Checking here
    would also need care: under FASTMATH, "nsz" with "reassoc" lets LLVM
    rewrite np.isfinite(w - g * lr) to True.)
    """
    chunks, state, leader = team
    epochs, count = losses.shape[0], chunks.shape[0] - 1
    if not leader:
        _helpers(X, Y, M, params, parts, acts, deltas, rule, chunks, state, epochs)
        return
    if epochs == 0:
        for c in range(count):
            _chunk(X, Y, M, params, parts, acts, deltas, rule, chunks, c, False)
        return
    out = acts[3]
    samples = 0.0  # M.sum(), written out: the array method costs compile time
    for blk in range(M.shape[1]):
        for i in range(M.shape[2]):
            samples += M[0, blk, i]
    scale = 1.0 / (samples * out.shape[0])
    flat = out.reshape(-1)
    per = flat.shape[0]
    slots = kept[0].shape[0] // per
    first = 0
    sums = (parts[0][0], parts[1][0], parts[2][0], parts[3][0])
    zero_sums(sums)  # then apply_gradients sets them back to 0 after each epoch
    _atomic.fetch_add(state, _STARTED, 1)
    for e in range(epochs):
        end = (e + 1) * count
        while True:  # this epoch's tickets that no helper has taken
            ticket = _claim(state, (e + 1) * count)
            if ticket < 0:
                break
            _chunk(X, Y, M, params, parts, acts, deltas, rule, chunks, ticket - e * count, True)
            _atomic.fetch_add(state, _DONE, 1)
        if not _atomic.wait_for(state, _DONE, end, _RETIRE):  # the chunks a helper is running
            _atomic.fetch_add(state, _RETIRED, 1)
            _atomic.wait_for(state, _DONE, end, _FOREVER)
        for c in range(1, count):
            add_sums(sums, (parts[0][c], parts[1][c], parts[2][c], parts[3][c]))
        base = (e - first) * per
        for j in range(per):
            kept[0][base + j] = flat[j]
        apply_gradients(params, sums, lr)
        if e - first == slots - 1 or e == epochs - 1:
            _kept_losses(kept, e - first + 1, per, rule, scale, losses, first)
            first = e + 1
        _atomic.fetch_add(state, _UPDATED, 1)  # epoch e + 1's chunks may start


@jit(**INLINE)
def _helpers(X, Y, M, params, parts, acts, deltas, rule, chunks, state, epochs):
    """A helper's share of train: the chunks of the epoch under way that nobody has taken, until the last epoch or until stopped.

    Tickets are taken for the epoch under way only, by the leader and the
    helpers alike, so every chunk taken is run at once. A helper takes none
    before the leader has started, which then finishes the call.
    """
    count = chunks.shape[0] - 1
    if not _atomic.wait_for(state, _STARTED, 1, _PATIENCE):
        return
    while _atomic.load(state, _RETIRED) == 0:
        e = _atomic.load(state, _UPDATED)
        if e >= epochs:
            return
        ticket = _claim(state, (e + 1) * count)
        if ticket < 0:  # the others have this epoch's chunks in hand: wait for its update
            _atomic.wait_for(state, _UPDATED, e + 1, _FOREVER)
        else:
            _chunk(X, Y, M, params, parts, acts, deltas, rule, chunks, ticket - e * count, True)
            _atomic.fetch_add(state, _DONE, 1)


# A few blocks of wide layers: each epoch's work cut across the units of
# the first layer instead of the blocks, on the team of packed.train. An
# epoch runs in three phases, each waiting for the one before: the hidden
# layer of slices of the hidden units (U tasks, U = len(units) - 1), the
# output layer (one task: every hidden unit's activation is needed), and
# W1's gradient and update for slices of the features (F tasks, F =
# len(features) - 1), that is of W1's rows: slices of its columns would
# share cache lines at their edges, written by two cores at once. _TAKEN
# and _DONE count the tickets as in train.


@jit(**NJIT)
def _unit_task(X, Y, M, params, sums, acts, deltas, kept, losses, lr, rule, slices, task, e, slots, scale):
    """Task `task` of epoch e of train_units (slices = (units, features))."""
    W1, b1, W2, b2 = params
    gW1, gb1, gW2, gb2 = sums
    hin, hout, oin, out = acts
    hd, od = deltas
    units, features = slices
    U, n_blocks = units.shape[0] - 1, X.shape[1]
    if task < U:  # the hidden layer of units [j0, j1)
        j0, j1 = units[task], units[task + 1]
        for blk in range(n_blocks):
            _dense_sigmoid(X, W1, b1, hin, hout, blk, j0, j1)
    elif task == U:  # the output layer, the deltas, the sums but gW1's; W2, b2 and b1 updated
        for blk in range(n_blocks):
            _dense_sigmoid(hout, W2, b2, oin, out, blk, int(0), W2.shape[1])
            output_gradient_block(Y, M, W2, hout, out, deltas, sums, rule[3], blk)
        no_W1 = W1[:0]  # apply_gradients' loops over W1 run zero times: the last phase updates it
        apply_gradients((no_W1, b1, W2, b2), (gW1[:0], gb1, gW2, gb2), lr)
        flat = out.reshape(-1)
        per = flat.shape[0]
        first = e - e % slots
        base = (e - first) * per
        for j in range(per):
            kept[0][base + j] = flat[j]
        if e - first == slots - 1 or e == losses.shape[0] - 1:
            _kept_losses(kept, e - first + 1, per, rule, scale, losses, first)
    else:  # W1's gradient and update for features [k0, k1)
        k0, k1 = features[task - U - 1], features[task - U]
        for blk in range(n_blocks):
            _row_products(X, hd, gW1, int(blk), k0, k1)
        for k in range(k0, k1):
            for j in range(W1.shape[1]):
                W1[k, j] -= gW1[k, j] * lr
                gW1[k, j] = 0.0


@jit(**NJIT)
def train_units(X, Y, M, params, sums, acts, deltas, kept, losses, lr, rule, team):
    """train's epochs (losses[e] the mean loss before epoch e's update), each epoch cut across the units of the first layer.

    team = (slices, state, leader): slices = (units, features), the bounds
    of the slices of the hidden units (multiples of 2, _product's pairs) and
    of the features (multiples of 2, _row_products' pairs), so that each
    slice is computed as in the whole range; state and leader as in train.
    Every sum over samples and blocks is made in train's order, that of
    one chunk of all the blocks, and every update of an element follows
    its own sum: the same bits as train with one chunk, whatever thread
    runs a task. The sums start at 0 and are left at 0.
    """
    slices, state, leader = team
    epochs, U, F = losses.shape[0], slices[0].shape[0] - 1, slices[1].shape[0] - 1
    per_epoch = U + 1 + F
    edges = (0, U, U + 1, per_epoch)  # the phases' tickets within an epoch
    samples = 0.0
    for blk in range(M.shape[1]):
        for i in range(M.shape[2]):
            samples += M[0, blk, i]
    scale = 1.0 / (samples * acts[3].shape[0])
    slots = kept[0].shape[0] // acts[3].reshape(-1).shape[0]
    if leader:
        zero_sums(sums)  # an interrupted training may have left some
        _atomic.fetch_add(state, _STARTED, 1)
    elif not _atomic.wait_for(state, _STARTED, 1, _PATIENCE):
        return
    for e in range(epochs):
        for phase in range(3):
            start, stop = e * per_epoch + edges[phase], e * per_epoch + edges[phase + 1]
            if leader:
                if not _atomic.wait_for(state, _DONE, start, _RETIRE):  # a task a helper is running
                    _atomic.fetch_add(state, _RETIRED, 1)
                    _atomic.wait_for(state, _DONE, start, _FOREVER)
            elif _atomic.load(state, _RETIRED) != 0:  # the leader runs whatever is left
                return
            else:
                _atomic.wait_for(state, _DONE, start, _FOREVER)
            while leader or _atomic.load(state, _RETIRED) == 0:
                ticket = _claim(state, stop)
                if ticket < 0:
                    break
                _unit_task(X, Y, M, params, sums, acts, deltas, kept, losses, lr, rule, slices, ticket - e * per_epoch,
                           e, slots, scale)
                _atomic.fetch_add(state, _DONE, 1)
    if leader:
        _atomic.wait_for(state, _DONE, epochs * per_epoch, _FOREVER)
