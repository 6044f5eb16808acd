"""The paths through the data: which one a shape takes, a runner for each way of training, the forward passes.

Every path gets X (and Y) already checked: C-ordered rows of the network's
dtype, or a _disk.FileRows (a memory-mapped file) that the path reads a
block at a time through _disk.Blocks, in the same blocks as in memory. A runner lays them out for its kernels once, then ``run(losses,
start, stop, interrupt)`` trains epochs [start, stop) into ``losses`` and
returns the epoch it stopped at (``stop``, or earlier if ``interrupt``
became pending), and ``keep_activations()`` gives the network the
activation attributes of its last epoch. The driver in ``_training.py``
decides how many epochs each call runs.

- PackedEpochs: full batch on small data, packed layout, the epochs of a
  call in one compiled call (tiny.train for the tutorial's size of
  network, packed.train otherwise);
- FewRowsEpochs: full batch on a few rows, the same, vectorized over the
  hidden units;
- StreamEpochs: full batch of narrow layers on many rows, gathered a block
  at a time through the block kernels, chunks of rows on all cores;
- RowEpochs: full batch on large data, blocks of rows cut into chunks on
  all cores, the products by BLAS;
- BatchEpochs: mini-batches, rows gathered a block at a time.
"""

import math
import queue
import time

import numba
import numpy as np

from . import _config, _disk, _threads
from ._kernels import _math, packed, rows, stream, tiny
from ._layout import arena, block_buffers, block_rows, blocks, even_chunks, mask, pack, row_chunks, unpack
from .functions import _clip_bounds


def uses_rows(n, sizes, dtype):
    """Whether n samples of dtype take the row path: from BLAS_MIN_WORK multiply-adds per epoch in the two dense layers.

    From EVEN_BLAS_MIN_WORK (float64) or EVEN_BLAS_MIN_WORK_32 (float32)
    already for layers wider than STREAM_MAX_WIDTH (hidden x (inputs +
    outputs)) where NumPy's BLAS is not narrower than the kernels (only then
    is threadpoolctl asked: the tutorial's small data never needs it); at
    any work for FEW_ROWS to SMALL_BLAS_ROWS samples of layers wider than
    SMALL_BLAS_MIN_WIDTH there, where rows.train_blas can call the BLAS. From
    LARGE_BLAS_MIN_WORK where W1 is large: the packed blocks sum W1's
    gradient in float64 beside W1, which then no longer stays in the core's
    cache. And whatever the work where the packed layout would hold more
    than PACKED_MAX_ELEMENTS values (packed_values): the memory bound.
    Not for the few blocks of many features that unit_slices cuts across
    the units (up to UNIT_SPLIT_MAX_BLOCKS): one block at any work, more
    under UNIT_SPLIT_MAX_WORK, or with UNIT_SPLIT_MAX_HIDDEN hidden units
    or fewer in float64, where the BLAS products on one thread a chunk
    were slower.
    """
    f, h, o = sizes
    if packed_values(n, sizes) > _config.PACKED_MAX_ELEMENTS:
        return True
    work = n * h * (f + o)
    if unit_slices(n, sizes) is not None:  # packed.train_units: both cores on a few blocks of many features
        narrow_double = h <= _config.UNIT_SPLIT_MAX_HIDDEN and np.dtype(dtype) == np.float64  # BLAS is slowest there
        if blocks(n)[0] == 1 or work < _config.UNIT_SPLIT_MAX_WORK or narrow_double:
            return False
    bound = _config.BLAS_MIN_WORK
    if f * h > _config.PACKED_MAX_WEIGHTS:
        bound = min(bound, _config.LARGE_BLAS_MIN_WORK)
    even = _config.EVEN_BLAS_MIN_WORK_32 if np.dtype(dtype) == np.float32 else _config.EVEN_BLAS_MIN_WORK
    wide = h * (f + o) > _config.STREAM_MAX_WIDTH  # narrower layers are slow in BLAS, whatever its width
    if wide and even <= work < bound and not _threads.narrow_blas():
        return True
    few = _config.FEW_ROWS <= n <= _config.SMALL_BLAS_ROWS and h * (f + o) > _config.SMALL_BLAS_MIN_WIDTH
    if few and work < bound and not _threads.narrow_blas() and compiled_rows(n, sizes, dtype):
        return True  # one block, its epochs in rows.train_blas
    return work >= bound


def compiled_rows(n, sizes, dtype):
    """The address of NumPy's gemm where the row path's chunks of n samples can run in compiled code (rows.train_blas), else 0.

    Where every product is a gemm in np.matmul too (no side of one below
    2), so that the calls and the bits are those of the chunks in Python.
    """
    f, h, o = sizes
    if not _config.ROWS_COMPILED:
        return 0
    rows = block_rows(n, h)
    blocks = {min(n - first, rows) for first in range(0, n, rows)}  # a whole block's rows and the last's
    shortest = min(stop - first for m in blocks for first, stop in block_chunks(m, sizes, by_columns(rows, sizes))[0])
    if min(f, h, shortest, o if o >= _config.OUTPUTS_BLAS else 2) < 2:
        return 0  # np.matmul makes no gemm of a side of 1
    return _threads.gemm_address(dtype)


def block_chunks(m, sizes, columns):
    """The chunks of rows of a block of m rows, and its chunks of columns if by columns (else None)."""
    f, h, _ = sizes
    return wide_chunks(m, sizes) if columns else (row_chunks(m, h, f), None)


def packed_values(n, sizes):
    """The values the packed layout holds for n samples, past a small constant, counted as float64.

    Per sample: its copy of X (f) and Y (o) and the mask (1); the
    activations and deltas (hin, hout, hd; oin, out, od); and, once the
    outputs of an epoch pass 2**16 values, the three float64 copies of
    them that the loss is computed from (PackedEpochs.kept); padding
    included.
    """
    f, h, o = sizes
    n_blocks, width = blocks(n)
    return n_blocks * width * (f + 1 + 3 * h + 7 * o)


def small_kernel(n, sizes):
    """The packed layout's epoch kernel for n samples: tiny.epochs for a few samples and narrow layers, else packed.train.

    Training and forward choose it by the same rule, so that forward(X)
    after train(X) runs training's kernel.
    """
    f, h, o = sizes
    return tiny.epochs if n <= _config.TINY_ROWS and h * (f + o) <= _config.TINY_WIDTH else packed.train


def plan(n, sizes, dtype):
    """Full-batch training's path for n samples of dtype: "stream", "rows" (BLAS), "few" (rows, vectorized over hidden units) or "packed".

    A block of the packed layout vectorizes over its samples: with fewer
    than FEW_ROWS of them its loops are too short, and with at least
    FEW_ROWS_HIDDEN hidden units the loops over units pay instead. Narrow
    layers with few inputs on many rows take "stream": BLAS is slow on
    them, and the block kernels, gathering the rows a block at a time, are
    not. Gathering costs by the input, the products by the unit: many
    inputs to a few hidden units stay on rows.
    """
    f, h, o = sizes
    narrow = h * (f + o) <= _config.STREAM_MAX_WIDTH
    few_inputs = f <= min(_config.STREAM_MAX_INPUTS, _config.STREAM_INPUTS_PER_HIDDEN * h)
    if n * work_per_sample(sizes) >= _config.STREAM_MIN_WORK and narrow and few_inputs:
        return "stream"
    if uses_rows(n, sizes, dtype):
        return "rows"
    if n < _config.FEW_ROWS and h >= _config.FEW_ROWS_HIDDEN:
        return "few"
    return "packed"


def added(values):
    """The values added one after another, from 0.0: the chunks' losses in chunk order, as the compiled kernels add them.

    Not sum(): from Python 3.12 it adds floats with compensated summation,
    which gives other bits than the kernels' plain additions.
    """
    total = 0.0
    for v in values:
        total += v
    return total


def work_per_sample(sizes):
    """Multiply-adds and sigmoids of one sample's epoch, about: what sizes the first call of training."""
    f, h, o = sizes
    return h * (f + o + 2) + o


def next_chunk(chunk, elapsed):
    """The next amount of work: about CHUNK_SECONDS of it, growing at most 8-fold."""
    return max(1, int(chunk * min(8.0, _config.CHUNK_SECONDS / max(elapsed, 1e-9))))


def _rule(net, binary):
    """The loss's and the output delta's settings: (lo, hi, binary, exact)."""
    lo, hi = _clip_bounds(net.dtype)
    return lo, hi, binary, net.gradient == "exact"


def _packed_buffers(params, n):
    """Packed buffers for the activations (hin, hout, oin, out) and the deltas (hd, od) of n samples."""
    (h, o), shape, dtype = params[2].shape, blocks(n), params[0].dtype
    buffers = arena([(h, *shape), (h, *shape), (o, *shape), (o, *shape), (h, *shape), (o, *shape)], dtype)
    return tuple(buffers[:4]), tuple(buffers[4:])


# Small data: the packed layout.


class PackedEpochs:
    """Full-batch epochs on small data, all the epochs of a call in one compiled call (no stop within it)."""

    def __init__(self, net, X, Y, binary, lr):
        self.net, self.n, self.lr, self.rule = net, X.shape[0], lr, _rule(net, binary)
        self.kernel = small_kernel(self.n, net._sizes())
        X, Y = _disk.in_memory(X), _disk.in_memory(Y)  # small data: read whole
        self.X, self.Y, self.M = pack(X), pack(Y), mask(self.n, net.dtype)
        self.acts, self.deltas = _packed_buffers(net._params(), self.n)
        self.kept = None  # tiny.epochs keeps no outputs
        self.chunks = packed_chunks(self.n, net._sizes()) if self.kernel is packed.train else whole_blocks(self.n)
        self.units = unit_slices(self.n, net._sizes()) if self.kernel is packed.train else None
        if self.units is not None:  # calls too short for the team run packed.train: in train_units' order, one chunk
            self.chunks = whole_blocks(self.n)
        count = len(self.chunks) - 1
        sums = net._sums
        # Chunk c's gradient contributions: parts[c] (the sums themselves for one chunk).
        self.parts = tuple(s[None] for s in sums) if count == 1 else tuple(
            arena([(count, *s.shape) for s in sums], np.dtype(np.float64)))
        if self.kernel is packed.train:
            # The outputs of up to 256 epochs (at most 2**16 values) are kept and
            # their losses computed together (see packed.train).
            size = self.Y.size
            slots = max(1, min(256, (1 << 16) // size))
            kept, ytile, mtile = np.empty((3, slots, size))
            ytile[...] = self.Y.reshape(-1)
            mtile.reshape(slots * net.output_size, -1)[...] = self.M.reshape(-1)
            self.kept = (kept.reshape(-1), ytile.reshape(-1), mtile.reshape(-1))

    def run(self, losses, start, stop, interrupt):
        args = (self.X, self.Y, self.M, self.net._params(), self.parts, self.acts, self.deltas, self.kept,
                losses[start:stop], self.lr, self.rule)
        work = (stop - start) * self.n * work_per_sample(self.net._sizes())
        if work >= _config.PACKED_TEAM_WORK and self.units is not None:  # one chunk, cut across the hidden units
            state, sums = np.zeros(packed.STATE, np.int64), self.net._sums
            args = args[:4] + (sums,) + args[5:]
            _threads.alongside(lambda: packed.train_units(*args, (self.units, state, True)),
                               lambda: packed.train_units(*args, (self.units, state, False)), 1)
        elif len(self.chunks) == 2 or work < _config.PACKED_TEAM_WORK:  # waking the helpers costs 0.3-0.8 ms
            self.kernel(*args, (self.chunks, np.zeros(packed.STATE, np.int64), True))
        else:  # the helpers take chunks beside this thread, inside the compiled call
            state = np.zeros(packed.STATE, np.int64)
            _threads.alongside(lambda: self.kernel(*args, (self.chunks, state, True)),
                               lambda: self.kernel(*args, (self.chunks, state, False)), len(self.chunks) - 2)
        return stop

    def keep_activations(self):
        self.net._keep(tuple(unpack(a, self.n) for a in self.acts))


class FewRowsEpochs:
    """Full-batch epochs on a few rows, all the epochs of a call in one compiled call (rows.train).

    The rows stay as the caller holds them; the products are vectorized
    over the hidden units.
    """

    def __init__(self, net, X, Y, binary, lr):
        self.net, self.lr, self.rule = net, lr, _rule(net, binary)
        self.X, self.Y = _disk.in_memory(X), _disk.in_memory(Y)
        self.n, (_, h, o) = X.shape[0], net._sizes()
        n = self.n
        self.buffers = tuple(arena([(n, h), (n, h), (n, o), (h,), (0, 0)], net.dtype))  # see rows.train
        self.last_params = tuple(np.empty_like(p) for p in net._params())  # the last epoch's, for its activations

    def run(self, losses, start, stop, interrupt):
        rows.train(
            self.X, self.Y, self.net._params(), self.net._sums, self.buffers, losses[start:stop], self.lr, self.rule,
            self.last_params,
        )
        return stop

    def keep_activations(self):
        # By forward's own kernel for these rows, so that forward(X) gives the same bits.
        self.net._keep(forward_packed(self.X, self.last_params))


def whole_blocks(n):
    """packed.train's chunks for n samples as one: block bounds [0, n_blocks]."""
    return np.array([0, blocks(n)[0]], np.int64)


def packed_chunks(n, sizes):
    """packed.train's chunks for n samples, as block bounds: one chunk under PACKED_SPLIT_WORK, else chunks of about PACKED_CHUNK_WORK.

    Small chunks, so that the threads stay even and a thread held up holds
    little of an epoch, cut as even_chunks cuts rows (an even number of
    equal chunks, for two cores). They depend on the shape alone, never on
    the number of threads, and the leader alone gives the same bits.
    """
    n_blocks, work = blocks(n)[0], n * work_per_sample(sizes)
    if work < _config.PACKED_SPLIT_WORK or n_blocks < 2:
        return whole_blocks(n)
    per = min(-(-n_blocks // 2), -(-n_blocks * _config.PACKED_CHUNK_WORK // work))  # blocks a chunk: two chunks at least
    return np.array([0] + [stop for _, stop in even_chunks(n_blocks, per)], np.int64)


def unit_slices(n, sizes):
    """packed.train_units' slices (hidden units, features) for n samples, as bounds; None where it is not used.

    For up to UNIT_SPLIT_MAX_BLOCKS blocks of samples (one block,
    packed_chunks cannot cut) with at least UNIT_SPLIT_MIN_FEATURES
    features, whose epoch does at least UNIT_SPLIT_WORK: the output layer's
    task runs alone, so the features' products must outweigh it; and
    across the units, no chunk holds a gradient of W1 of its own. Up to
    four slices of each, of an even size (_product's and _row_products'
    pairs) but the last: the tasks are claimed in turn, so a thread held
    up holds up a part of a phase.
    """
    f, h, o = sizes
    if blocks(n)[0] > _config.UNIT_SPLIT_MAX_BLOCKS or f < _config.UNIT_SPLIT_MIN_FEATURES:
        return None
    if n * work_per_sample(sizes) < _config.UNIT_SPLIT_WORK:
        return None
    return tuple(np.array(list(range(0, m, 2 * -(-m // 8))) + [m], np.int64) for m in (h, f))


def forward_packed(X, params):
    """The activations (hin, hout, oin, out) of rows X for `params`, by training's kernel (small_kernel) with no epoch."""
    n, X = X.shape[0], _disk.in_memory(X)
    acts, deltas = _packed_buffers(params, n)
    # Only X, the weights and the activations are used; the other arguments
    # are empty, of the types of training's, so that no other variant is compiled.
    unused = np.empty(0)
    parts = (np.empty((1, 0, 0)), np.empty((1, 0)), np.empty((1, 0, 0)), np.empty((1, 0)))
    lo, hi = _clip_bounds(params[0].dtype)
    small_kernel(n, (params[0].shape[0], *params[2].shape))(
        pack(X), acts[3], acts[3], params, parts, acts, deltas, (unused,) * 3, unused, 0.0, (lo, hi, True, False),
        (whole_blocks(n), np.zeros(packed.STATE, np.int64), True),
    )
    return tuple(unpack(a, n) for a in acts)


def backward_packed(net, X, Y, hout, out, lr):
    """One gradient step from the activations hout and out (rows) of X."""
    n = X.shape[0]
    deltas = arena([(net.hidden_size, *blocks(n)), (net.output_size, *blocks(n))], net.dtype)
    packed.backward(
        pack(X), pack(Y), mask(n, net.dtype), net._params(), net._sums, pack(hout), pack(out), tuple(deltas), lr,
        net.gradient == "exact",
    )


def predict(X, params):
    """The network's output for rows X and parameters `params` (W1, b1, W2, b2).

    Small data: by training's own kernel (small_kernel) if it is tiny's,
    which compiles fastest, or if this process has it for the dtype already;
    else by stream.predict, which compiles in a fraction of packed.train's
    time and gives packed.train's numbers (the same block kernels; no sum
    crosses samples). tiny.train's differ from those in the last bits, so a
    row's output can depend on whether it came with at most TINY_ROWS rows.
    """
    (f, h), o, dtype = params[0].shape, params[2].shape[1], params[0].dtype
    if uses_rows(X.shape[0], (f, h, o), dtype):
        return forward_rows(X, params, activations=False)
    kernel = small_kernel(X.shape[0], (f, h, o))
    if kernel is tiny.epochs or any(signature[0].dtype == numba.from_dtype(dtype) for signature in kernel.signatures):
        return np.ascontiguousarray(forward_packed(X, params)[3])
    n, X = X.shape[0], _disk.in_memory(X)
    width = blocks(n)[1]
    proba = np.empty((n, o), dtype)
    Xb, *acts = arena([(f, 1, width), (h, 1, width), (h, 1, width), (o, 1, width), (o, 1, width)], dtype)
    stream.predict(X, tuple(params), proba, np.empty(0, np.int64), Xb, tuple(acts))
    return proba


# Large data: rows, cut into blocks and chunks.


def forward_rows(X, params, activations=True):
    """The forward pass over rows: (hidden_input, hidden_output, output_input, output), or the output alone.

    In chunks of rows on all cores, as training: the products by BLAS on one
    thread each, the biases and sigmoids by a row kernel. With
    activations=False the hidden layer is held a chunk at a time.
    """
    W1, b1, W2, b2 = params
    n, h, o = X.shape[0], W1.shape[1], W2.shape[1]
    out = np.empty((n, o), W1.dtype)
    hin, hout, oin = (np.empty((n, units), W1.dtype) for units in (h, h, o)) if activations else (None,) * 3

    def chunk(Xb, at, first, stop):  # rows [first, stop) of X, Xb holding X's rows from `at`
        part, mine = slice(first, stop), Xb[first - at : stop - at]
        if activations:
            np.matmul(mine, W1, out=hin[part])
            rows.bias_sigmoid_rows(hin[part], b1, hout[part])
            np.matmul(hout[part], W2, out=oin[part])
            rows.bias_sigmoid_rows(oin[part], b2, out[part])
        else:  # each layer's output over its input
            H = np.matmul(mine, W1)
            rows.bias_sigmoid_in_place(H, b1)
            np.matmul(H, W2, out=out[part])
            rows.bias_sigmoid_in_place(out[part], b2)

    bounds = row_chunks(n, h, X.shape[1])
    with _threads.one_blas_thread():
        if not isinstance(X, _disk.FileRows):
            _threads.map_chunks(lambda c, first, stop: chunk(X, 0, first, stop), bounds)
        else:  # the same chunks, whole ones read together, about a block of rows at a time
            per = max(1, block_rows(n, h) // max(1, bounds[0][1] - bounds[0][0]))
            groups = [bounds[i : i + per] for i in range(0, len(bounds), per)]
            with _disk.Blocks((X,), [(g[0][0], g[-1][1]) for g in groups], views=(0,)) as read:
                for group, (Xb,) in zip(groups, read):
                    at = group[0][0]
                    _threads.map_chunks(lambda c, first, stop: chunk(Xb, at, first, stop), group)
    return (hin, hout, oin, out) if activations else out


def by_columns(m, sizes):
    """Whether blocks of m rows sum the W1 gradient by columns of X (wide_chunks) rather than by chunks of rows.

    With many inputs a chunk of rows is short (CHUNK_ELEMENTS // inputs
    rows), and each chunk's X^T HD is a product over those few rows into a
    gradient the size of W1, added up afterwards. Split by columns, each
    product runs over all the block's rows into its own columns, and
    nothing is added up; X is read again, from the cache while the block's
    X fits in WIDE_MAX_ELEMENTS.
    """
    f, h, _ = sizes
    several = len(wide_chunks(m, sizes)[0]) > 1  # at 64 rows one thread's chunk of rows was faster
    return f >= _config.WIDE_INPUTS and f > h and several and m * f <= _config.WIDE_MAX_ELEMENTS


def wide_chunks(m, sizes):
    """(rows, columns): the chunks of a block of m rows (forward and deltas) and of the columns of X (the W1 gradient), when by_columns.

    Each chunk of rows holds about 4 CHUNK_ELEMENTS inputs (it does no
    gradient product, and longer products are faster); each chunk of
    columns at least 512 and 8 x hidden of them, so that the deltas are not
    packed again for every few columns.
    """
    f, h, _ = sizes
    return even_chunks(m, max(1, 4 * _config.CHUNK_ELEMENTS // f)), even_chunks(f, max(512, 8 * h))


def row_buffers(m, sizes, dtype, columns=False):
    """Buffers for blocks of up to m rows: (Z, HD, od, G2), and each chunk's sums (gW1, gb1, gW2, gb2).

    gW1 and G2 (the output layer's hout^T od) are BLAS products in the
    network's dtype; the other sums are float64. With `columns`
    (by_columns) the chunks have no gW1 of their own: a (0, 0) one.
    """
    f, h, o = sizes
    chunks = len(wide_chunks(m, sizes)[0] if columns else row_chunks(m, h, f)) + 1  # at most, for any block
    Z, HD, od = arena([(m, h), (m, h), (m, o)], dtype)
    PW1, G2 = arena([(chunks, 0, 0) if columns else (chunks, f, h), (chunks, h, o)], dtype)
    partials = (PW1, *arena([(chunks, h), (chunks, h, o), (chunks, o)], np.dtype(np.float64)))
    return (Z, HD, od, G2), partials


def chunk_loss(X, Y, params, buffers, partials, c, first, rule, gradient=True):
    """Chunk c, rows X and Y (the block's from `first`): forward and backward pass, sums in partials[c]; returns its loss.

    Z = X W1 and gW1 = X^T HD by BLAS (gW1 unless not `gradient`: then
    the caller makes it from the block's HD). With one output (or few) a
    row kernel does all between them; with OUTPUTS_BLAS outputs or more
    the output layer's products are BLAS ones too, and two row kernels do
    the rest.
    """
    W1, b1, W2, b2 = params
    mine = slice(first, first + X.shape[0])
    Z, HD, od, G2 = buffers[0][mine], buffers[1][mine], buffers[2][mine], buffers[3][c]
    sums = tuple(p[c] for p in partials)
    np.matmul(X, W1, out=Z)
    if W2.shape[1] < _config.OUTPUTS_BLAS:
        loss = rows.hidden_rows(Z, Y, params, HD, od, rule, sums)
    else:
        rows.bias_sigmoid_in_place(Z, b1)
        np.matmul(Z, W2, out=od)
        loss = rows.output_rows(od, Y, b2, rule, sums)
        np.matmul(od, W2.T, out=HD)
        np.matmul(Z.T, od, out=G2)
        rows.hidden_delta_rows(Z, HD, G2, sums)
    if gradient:
        np.matmul(X.T, HD, out=sums[0])
    return loss


class RowEpochs:
    """Full-batch epochs on rows, the products by BLAS; returns to Python between blocks of rows.

    A chunk is one thread's work: Z = X W1 (BLAS, one thread), then
    rows.hidden_rows does the rest of the forward pass, the loss, the deltas
    and the sums for b1, W2 and b2, then X^T HD (BLAS, one thread) gives its
    sum for W1. With many inputs (by_columns) the chunks of rows stop
    before that product, and X^T HD over the whole block is cut by columns
    of X instead, one thread's share each. The chunks' sums are added in
    chunk order, so the result does not depend on the number of threads.
    BLAS is held to one thread
    meanwhile: its own threads would compete with these for the cores, and
    its float32 products are not bitwise the same with another thread count.
    """

    def __init__(self, net, X, Y, binary, lr):
        if X.shape[0] <= _config.SMALL_BLAS_ROWS:  # a few rows of a file: read whole, for rows.train_blas
            X, Y = _disk.in_memory(X), _disk.in_memory(Y)
        self.net, self.X, self.Y, self.lr, self.rule = net, X, Y, lr, _rule(net, binary)
        self.n, (f, h, o) = X.shape[0], net._sizes()
        n = self.n
        self.rows = block_rows(n, h)
        self.columns = by_columns(self.rows, (f, h, o))
        self.buffers, self.partials = row_buffers(self.rows, (f, h, o), net.dtype, self.columns)
        self.G1 = np.empty((f, h) if self.columns else (0, 0), net.dtype)  # the block's W1 gradient, by columns
        self.last_params = None
        self.blas = compiled_rows(n, (f, h, o), net.dtype)

    @staticmethod
    def _compiled_rows(*arrays):
        """Whether compiled code can read these rows as they lie: NumPy would copy another array before its products."""
        return all(type(a) is np.ndarray and a.flags.c_contiguous and a.flags.aligned for a in arrays)

    def _team(self, m, fresh=True):
        """rows.train_blas's team for a block of m rows, but for the counters: (state, leader) -> a thread's team."""
        chunks, columns = block_chunks(m, self.net._sizes(), self.columns)
        bounds = np.array([first for first, _ in chunks] + [m], np.int64)
        # Without columns: none (edges [0]) and the empty G1, of the same types (one variant compiled).
        edges = [first for first, _ in columns] + [self.net.input_size] if columns else [0]
        columns = (np.array(edges, np.int64), self.G1)
        chunk_losses = np.zeros(len(bounds) - 1)
        G2s = self.buffers[3] if self.net.output_size >= _config.OUTPUTS_BLAS else None
        tasks = len(bounds) + len(columns[0]) - 2
        return tasks, (lambda state, leader: (bounds, state, leader, chunk_losses, G2s, fresh, columns))

    def _on_team(self, tasks, call, team, work):
        """call(team) on this thread, and beside it on the helpers where there are tasks and work enough for them."""
        state = np.zeros(packed.STATE, np.int64)
        if tasks == 1 or work < _config.PACKED_TEAM_WORK:
            return call(team(state, True))
        return _threads.alongside(lambda: call(team(state, True)), lambda: call(team(state, False)), tasks - 1)

    def _run_compiled(self, losses, start, stop):
        """Epochs start to stop of one block in rows.train_blas, on the team of packed.train where a call is long enough."""
        if stop == start:
            return stop  # no epochs would be train_blas's one pass over a block
        tasks, team = self._team(self.n)
        last = tuple(np.empty_like(p) for p in self.net._params())
        args = (self.blas, self.X, self.Y, self.net._params(), self.net._sums, self.buffers, self.partials,
                losses[start:stop], self.lr, self.rule, last)
        work = (stop - start) * self.n * work_per_sample(self.net._sizes())
        with _threads.one_blas_thread():
            self._on_team(tasks, lambda team: rows.train_blas(*args, team), team, work)
        self.last_params = last
        return stop

    def _compiled_block(self, start, Xb, Yb):
        """_block in rows.train_blas (no epochs: one block's chunks), on the team where the block has several chunks."""
        tasks, team = self._team(Xb.shape[0], fresh=start == 0)
        params = self.net._params()
        args = (self.blas, Xb, Yb, params, self.net._sums, self.buffers, self.partials, np.empty(0), 0.0, self.rule,
                params)  # `last` is written in the last epoch only, of which there is none
        return self._on_team(tasks, lambda team: rows.train_blas(*args, team), team, _config.PACKED_TEAM_WORK)

    def _chunk(self, Xb, Yb, c, first, stop):
        """Rows [first, stop) of the block Xb, Yb, its chunk c; returns its loss."""
        return chunk_loss(Xb[first:stop], Yb[first:stop], self.net._params(), self.buffers, self.partials, c, first,
                          self.rule, gradient=not self.columns)

    def _block(self, start, Xb, Yb):
        """The block of rows Xb, Yb (X's from `start`): its chunks' sums added to the gradient sums in order; returns its loss."""
        if self.blas and self._compiled_rows(Xb, Yb):
            return self._compiled_block(start, Xb, Yb)
        sums, m = self.net._sums, Xb.shape[0]
        bounds, columns = block_chunks(m, self.net._sizes(), self.columns)
        losses = _threads.map_chunks(lambda c, first, stop: self._chunk(Xb, Yb, c, first, stop), bounds)
        rows.fold_chunk_sums(len(bounds), self.partials, sums, start == 0)
        if self.columns:
            HD, G1 = self.buffers[1][:m], self.G1
            _threads.map_chunks(lambda c, first, stop: np.matmul(Xb[:, first:stop].T, HD, out=G1[first:stop]), columns)
            np.add(sums[0], G1, out=sums[0])
        return added(losses)

    def run(self, losses, start, stop, interrupt):
        if self.blas and self.n <= self.rows and self._compiled_rows(self.X, self.Y):  # one block: whole epochs
            return self._run_compiled(losses, start, stop)
        n, o = self.X.shape[0], self.net.output_size
        spans = [(first, min(n, first + self.rows)) for first in range(0, n, self.rows)]
        requests = (span for _ in range(start, stop) for span in spans)
        e = start
        try:
            with _threads.one_blas_thread(), _disk.Blocks((self.X, self.Y), requests, views=(0,)) as read:
                read = iter(read)
                for e in range(start, stop):
                    before = tuple(p.copy() for p in self.net._params())  # the activation attributes come from these
                    total = 0.0
                    for first, _ in spans:
                        if interrupt is not None and interrupt.pending:
                            return e  # the weights change only at the epoch's end
                        total += self._block(first, *next(read))
                    losses[e] = total / (n * o)
                    _math.apply_gradients(self.net._params(), self.net._sums, self.lr)
                    self.last_params = before
        except _disk.FileChangedError as exc:
            exc.epoch = e  # epoch e's update was not made: the weights are those of e whole epochs
            raise
        return stop

    def keep_activations(self):
        # Computed from X when first read, so that training never holds them all.
        self.net._keep((None,) * 4, pending=(self.X, self.last_params))


class StreamEpochs:
    """Full-batch epochs on rows in place, gathered a block at a time by the block kernels, on all cores.

    The rows are cut into chunks (stream_chunks), one thread's work each;
    each epoch adds the chunks' sums in chunk order, then updates the
    weights, so the result does not depend on the number of threads. No
    chunk starts once Ctrl-C is pending, and that epoch is dropped whole.
    Memory beyond the data is a block of buffers per thread and each chunk's
    gradient sums (float64, the size of the parameters).
    """

    def __init__(self, net, X, Y, binary, lr):
        self.net, self.X, self.Y, self.lr, self.rule = net, X, Y, lr, _rule(net, binary)
        self.n, (f, h, o) = X.shape[0], net._sizes()
        self.bounds = stream_chunks(self.n, (f, h, o))
        count, width = len(self.bounds), blocks(min(self.n, _config.MAX_BLOCK))[1]
        # A block of buffers (and the loss's accumulator) for each thread
        # running a chunk at once, not one for each chunk: the number of
        # chunks grows with the rows.
        self.block = lambda: (*block_buffers((f, h, o), width, net.dtype), np.zeros(1))
        self.free = queue.SimpleQueue()
        self.partials = tuple(arena([(count, f, h), (count, h), (count, h, o), (count, o)], np.dtype(np.float64)))
        self.in_order = np.empty(0, np.int64)
        self.last_params = None

    def _chunk(self, c, first, stop, interrupt):
        if interrupt is not None and interrupt.pending:
            return None  # no chunk starts after Ctrl-C: the epoch is dropped
        try:
            buffers = self.free.get_nowait()
        except queue.Empty:  # one more thread than so far runs a chunk at once
            buffers = self.block()
        try:
            (block, acts, deltas, loss), params = buffers, self.net._params()
            sums = tuple(p[c] for p in self.partials)
            loss[0] = 0.0
            span = (first, stop, max(1, stop - first))  # one batch of the chunk's rows, not applied: its sums
            stream.train_batches(self.X, self.Y, self.in_order, span, params, sums, block, acts, deltas, 0.0, self.rule, loss,
                                 False)
            return loss[0]
        finally:
            self.free.put(buffers)

    def run(self, losses, start, stop, interrupt):
        params, scale = self.net._params(), 1.0 / (self.n * self.net.output_size)
        for e in range(start, stop):
            before = tuple(p.copy() for p in params)  # for the activation attributes
            chunk_losses = _threads.map_chunks(lambda c, first, stop: self._chunk(c, first, stop, interrupt), self.bounds)
            if None in chunk_losses:
                return e  # Ctrl-C: the weights change only at an epoch's end
            total = added(chunk_losses)
            rows.fold_chunk_sums(len(self.bounds), self.partials, self.net._sums, True)
            losses[e] = total * scale
            _math.apply_gradients(params, self.net._sums, self.lr)
            self.last_params = before
        return stop

    def keep_activations(self):
        self.net._keep((None,) * 4, pending=(self.X, self.last_params))


def stream_chunks(n, sizes):
    """[(first, stop)] of the chunks of n rows for StreamEpochs: whole blocks of MAX_BLOCK rows.

    Each of about the epoch's work over STREAM_MAX_CHUNKS multiply-adds, but
    about STREAM_CHUNK_WORK at least and STREAM_MAX_CHUNK_WORK at most: every
    chunk costs a dispatch from Python and keeps gradient sums the size of
    the parameters until the epoch's end, and Ctrl-C waits for the chunks
    running.
    """
    block, work = _config.MAX_BLOCK, work_per_sample(sizes)
    target = min(max(_config.STREAM_CHUNK_WORK, n * work // _config.STREAM_MAX_CHUNKS), _config.STREAM_MAX_CHUNK_WORK)
    per = max(1, target // (block * work)) * block
    return even_chunks(n, per, block)


# Mini-batches.


class BatchEpochs:
    """Mini-batch epochs on rows, gathered a block at a time; returns to Python every CHUNK_SECONDS or so.

    The epochs' orders are drawn from the network's generator as each epoch
    starts, and kept while the driver may replay them (a divergence search).
    Sets no activation attribute.
    """

    def __init__(self, net, X, Y, binary, lr, batch, shuffle, report):
        self.net, self.X, self.Y, self.lr, self.rule = net, X, Y, lr, _rule(net, binary)
        self.batch, self.shuffle, self.report = batch, shuffle, report
        self.n, (f, h, o) = X.shape[0], net._sizes()
        self.block, self.acts, self.deltas = block_buffers((f, h, o), blocks(min(batch, self.n))[1], net.dtype)
        self.orders, self.in_order, self.loss_sum = {}, np.empty(0, np.int64), np.zeros(1)
        # Rows per call: whole batches, sized like the full batch's first call.
        self.rows = max(1, _config.FIRST_CHUNK_WORK // work_per_sample(net._sizes()) // batch) * batch
        # From a file: a fixed number of whole batches per read, so that the
        # next read is known (and prefetched) while this one trains.
        self.disk = _disk.on_disk(X, Y)
        if self.disk:
            self.rows = max(1, _config.DISK_BLOCK_ELEMENTS // max(f, o) // batch) * batch

    def _order(self, e, start):
        """Epoch e's order of the rows: drawn when it first runs, kept while a replay from `start` may need it."""
        if e not in self.orders:
            self.orders = {k: v for k, v in self.orders.items() if k >= start}
            rng = np.random if self.net._rng is None else self.net._rng  # None: NumPy's global state
            self.orders[e] = rng.permutation(self.X.shape[0]).astype(np.int64, copy=False) if self.shuffle else self.in_order
        return self.orders[e]

    def run(self, losses, start, stop, interrupt):
        """Epochs [start, stop); one that diverges ends the call, its loss or weights not finite, for the driver to find."""
        if self.disk:
            return self._run_disk(losses, start, stop, interrupt)
        n, o, batch = self.X.shape[0], self.net.output_size, self.batch
        params = self.net._params()
        for e in range(start, stop):
            if interrupt is not None and interrupt.pending:
                return e  # before drawing the order of an epoch that will not run
            order = self._order(e, start)
            self.loss_sum[0], done = 0.0, 0
            while done < n:
                if interrupt is not None and interrupt.pending:
                    return e  # within the epoch: its loss is incomplete
                last = min(n, done + self.rows)
                began = time.perf_counter()
                stream.train_batches(
                    self.X, self.Y, order, (done, last, batch), params, self.net._sums, self.block, self.acts,
                    self.deltas, self.lr, self.rule, self.loss_sum, True,
                )
                elapsed = time.perf_counter() - began
                total, done = self.loss_sum[0], last
                if not (math.isfinite(total) and all(np.isfinite(p).all() for p in params)):
                    losses[e] = total / (done * o)  # the driver tells a loss from an update that diverged
                    return e + 1
                self.rows = min(n + batch, max(batch, next_chunk(self.rows, elapsed) // batch * batch))
                self.report.partial(e + done / n, total / (done * o))
            losses[e] = total / (n * o)
        return stop

    def _run_disk(self, losses, start, stop, interrupt):
        """run, reading the rows of each slice of the epoch's order from the file, sorted, into a buffer.

        The stream kernel then visits the buffer in the order that puts the
        rows back as the epoch's order has them: the same rows, batches and
        sums as in memory. A change of the file restores the weights the
        epoch started from.
        """
        n, o, batch = self.X.shape[0], self.net.output_size, self.batch
        params = self.net._params()
        spans = [(first, min(n, first + self.rows)) for first in range(0, n, self.rows)]
        for e in range(start, stop):
            if interrupt is not None and interrupt.pending:
                return e  # before drawing the order of an epoch that will not run
            order = self._order(e, start)
            saved = [p.copy() for p in params]
            shuffled = order.shape[0] > 0
            requests = [_disk.Gather(order, *span) if shuffled else span for span in spans]
            self.loss_sum[0] = 0.0
            try:
                with _disk.Blocks((self.X, self.Y), requests) as read:
                    for (first, last), (Xb, Yb, *where) in zip(spans, read):
                        where = where[0] if shuffled else self.in_order
                        if interrupt is not None and interrupt.pending:
                            return e  # within the epoch: its loss is incomplete
                        stream.train_batches(
                            Xb, Yb, where, (0, last - first, batch), params, self.net._sums, self.block, self.acts,
                            self.deltas, self.lr, self.rule, self.loss_sum, True,
                        )
                        total = self.loss_sum[0]
                        if not (math.isfinite(total) and all(np.isfinite(p).all() for p in params)):
                            losses[e] = total / (last * o)
                            return e + 1
                        self.report.partial(e + last / n, total / (last * o))
            except _disk.FileChangedError as exc:
                for p, q in zip(params, saved):
                    p[...] = q
                exc.epoch = e
                raise
            losses[e] = total / (n * o)
        return stop

    def keep_activations(self):
        pass
