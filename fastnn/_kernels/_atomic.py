"""Atomic operations on an int64 array, for threads that work together inside compiled code (packed.train).

Numba has no atomics on the CPU: these emit LLVM's, sequentially consistent,
so that what one thread wrote before an atomic write is seen by another
thread once it has read that write.
"""

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _pointer(context, builder, array_type, array, index):
    array = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, array, [index])


@intrinsic
def fetch_add(typingctx, counters, i, value):
    """counters[i] += value, atomically; returns the value before."""

    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _pointer(context, builder, sig.args[0], args[0], args[1]), args[2], "seq_cst")

    return types.int64(counters, i, value), codegen


@intrinsic
def load(typingctx, counters, i):
    """counters[i], read atomically: a loop reading it sees another thread's writes."""

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_pointer(context, builder, sig.args[0], args[0], args[1]), "seq_cst", 8)

    return types.int64(counters, i), codegen


@intrinsic
def compare_exchange(typingctx, counters, i, expected, value):
    """counters[i] = value if it is `expected`, atomically; whether it was."""

    def codegen(context, builder, sig, args):
        pointer = _pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.extract_value(builder.cmpxchg(pointer, args[2], args[3], "seq_cst", "seq_cst"), 1)

    return types.boolean(counters, i, expected, value), codegen
