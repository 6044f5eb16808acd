"""fastnn's compiled code, one module per layout of the data.

- ``_math``: exp, log, the sigmoid, the loss and the output delta, the gradient sums;
- ``packed``: the packed layout (small data), whole epochs in one call;
- ``stream``: rows gathered a block at a time (mini-batches, prediction);
- ``rows``: the rows between BLAS products (large data).

Kernels assume clean input: C-contiguous arrays of one float dtype, checked
by the public methods. Parameters travel as tuples, in one order
everywhere: ``params = (W1, b1, W2, b2)``, gradient sums
``(gW1, gb1, gW2, gb2)``, activations ``(hin, hout, oin, out)``, deltas
``(hd, od)``, and ``rule = (lo, hi, binary, exact)`` for the loss and the
output delta. Numba caches each kernel's machine code keyed on its own
file: after editing ``_math.py`` or ``packed.py`` (which the others call),
clear the cache (NUMBA_CACHE_DIR) before measuring.
"""

from numba import njit


def jit(**options):
    """numba.njit(**options), without the on-disk cache where none can be written.

    Numba looks for a cache directory (NUMBA_CACHE_DIR, then __pycache__ beside
    this file, then the user's cache directory) when a function is decorated,
    and raises RuntimeError if none is writable: a read-only installation
    without a writable home. fastnn then compiles in memory, every process.
    """

    def decorate(func):
        try:
            return njit(**options)(func)
        except RuntimeError as exc:
            if "no locator available" not in str(exc):
                raise
            return njit(**dict(options, cache=False))(func)

    return decorate
