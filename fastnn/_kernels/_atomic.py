"""Atomic operations on an int64 array, for threads that work together inside compiled code (packed.train).

Numba has no atomics on the CPU: these emit LLVM's, sequentially consistent,
so that what one thread wrote before an atomic write is seen by another
thread once it has read that write.
"""

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import NJIT
from . import jit

# The C library's: the core goes to another thread that is ready to run;
# the monotonic clock, in (seconds, nanoseconds) written to an int64 pair.
_sched_yield = types.ExternalFunction("sched_yield", types.int32())
_clock_gettime = types.ExternalFunction("clock_gettime", types.int32(types.int32, types.intp))
_CLOCK_MONOTONIC = 1

# Reads of a counter, about 40 us here, before a waiting thread yields its
# core between reads: spinning on a core that another thread needs (the one
# waited for, when there are more threads ready than cores) held an epoch
# of 150 us up to 1.7 ms.
_SPIN = 50_000


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


@jit(**NJIT)
def nanoseconds(clock):
    """The monotonic clock, in ns; `clock` is an int64 pair to write it to."""
    _clock_gettime(_CLOCK_MONOTONIC, clock.ctypes.data)
    return clock[0] * 1_000_000_000 + clock[1]


@jit(**NJIT)
def wait_for(counters, i, value, patience):
    """Until counters[i] >= value: spinning a while, then yielding the core between reads. False after `patience` ns (-1: none)."""
    # The clock's pair is this thread's own, made once: an array assigned
    # in the loop would be reference-counted at every read (300 against 40 us).
    reads, clock, start = 0, np.empty(2, np.int64), 0
    while load(counters, i) < value:
        reads += 1
        if reads == _SPIN and patience >= 0:
            start = nanoseconds(clock)
        elif reads > _SPIN:
            if patience >= 0 and nanoseconds(clock) - start > patience:
                return False
            _sched_yield()
    return True
