"""Kernels that stream rows: X and Y stay as the caller holds them, (n_samples, units) in C order.

Each block of rows is gathered into one block of the packed layout
(n_blocks = 1) and run through the packed layout's block kernels, so memory
beyond the data is a block, not a copy: full-batch training of narrow
layers on many rows (a chunk of rows per thread), mini-batch training and
prediction.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import INLINE, NJIT
from . import jit
from ._math import apply_gradients, zero_sums
from .packed import forward_block, gradient_block, loss_block


# Rows gathered in a shuffled order are each a cache miss, which the CPU
# cannot foresee: the row this many ahead is asked for (prefetched) while
# one is copied.
_AHEAD = 16


@intrinsic
def _prefetch(typingctx, A, r, k):
    """Asks the CPU to bring A[r, k] (a 2-D array) into its caches: a hint, which can neither fault nor change a value."""

    def codegen(context, builder, sig, args):
        array = context.make_array(sig.args[0])(context, builder, args[0])
        address = cgutils.get_item_pointer(context, builder, sig.args[0], array, args[1:], wraparound=False)
        int32, pointer = ir.IntType(32), ir.IntType(8).as_pointer()
        signature = ir.FunctionType(ir.VoidType(), [pointer, int32, int32, int32])
        function = cgutils.get_or_insert_function(builder.module, signature, "llvm.prefetch.p0")
        address = builder.bitcast(address, pointer)
        builder.call(function, [address, int32(0), int32(3), int32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(A, r, k), codegen


@jit(**INLINE)
def gather(A, order, start, stop, B):
    """B[:, 0, i] = A[order[start + i]] for i < stop - start (A[start + i] if order is empty); zeros after."""
    count = stop - start
    for i in range(count):
        r = order[start + i] if order.shape[0] else start + i
        if order.shape[0] and i + _AHEAD < count:
            ahead = order[start + i + _AHEAD]
            for k in range(0, A.shape[1], 8):  # 8 values: a cache line of float64
                _prefetch(A, ahead, k)
            _prefetch(A, ahead, A.shape[1] - 1)
        for k in range(A.shape[1]):
            B[k, 0, i] = A[r, k]
    for k in range(A.shape[1]):
        for i in range(count, B.shape[2]):
            B[k, 0, i] = 0.0


@jit(**INLINE)
def gather_block(X, Y, order, start, stop, block):
    """block = (Xb, Yb, Mb) gets rows order[start:stop] of X and Y and the mask: 1.0 for each of them, 0.0 after."""
    Xb, Yb, Mb = block
    gather(X, order, start, stop, Xb)
    gather(Y, order, start, stop, Yb)
    for i in range(Xb.shape[2]):
        Mb[0, 0, i] = 1.0 if i < stop - start else 0.0


@jit(**NJIT)
def train_batches(X, Y, order, span, params, sums, block, acts, deltas, lr, rule, loss_sum, update):
    """Mini-batch steps on rows order[start:stop], span = (start, stop, batch); adds the loss of every block before its update to loss_sum[0].

    block = (Xb, Yb, Mb), one packed block. A batch wider than the block is
    run as several blocks whose gradients are summed in order before its one
    update. The loss is added block by block to loss_sum, so that its
    rounding does not depend on how an epoch is cut into calls.

    With `update` False the weights are left alone and the sums kept: one
    batch of all the rows is then one thread's share of a full-batch epoch
    over rows in place, whose chunks the caller adds in order. One kernel
    for both: each costs seconds to compile, and they differ by that test.
    """
    start, stop, batch = span
    Xb, Yb, Mb = block
    width = Xb.shape[2]
    zero_sums(sums)  # then apply_gradients sets them back to 0 after each batch
    for first in range(start, stop, batch):
        last = min(stop, first + batch)
        for s in range(first, last, width):
            gather_block(X, Y, order, s, min(last, s + width), block)
            forward_block(Xb, params, acts, 0)
            loss_sum[0] += loss_block(Yb, Mb, acts[3], rule, 0)
            gradient_block(Xb, Yb, Mb, params[2], acts[1], acts[3], deltas, sums, rule[3], 0)
        if update:
            apply_gradients(params, sums, lr)


@jit(**NJIT)
def predict(X, params, P, order, Xb, acts):
    """P = sigmoid(sigmoid(X W1 + b1) W2 + b2), row by row as (n_samples, output_size); order is empty."""
    width = Xb.shape[2]
    out = acts[3]
    for s in range(0, X.shape[0], width):
        e = min(X.shape[0], s + width)
        gather(X, order, s, e, Xb)
        forward_block(Xb, params, acts, 0)
        for i in range(e - s):
            for k in range(P.shape[1]):
                P[s + i, k] = out[k, 0, i]

