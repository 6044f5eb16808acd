"""fastnn's compiled code, one module per layout of the data.

- ``_math``: exp, log, the sigmoid, the loss and the output delta, the gradient sums;
- ``packed``: the packed layout (small data), whole epochs in one call;
- ``tiny``: the same for the tutorial's size of network, in one short kernel;
- ``stream``: rows gathered a block at a time (mini-batches, prediction);
- ``rows``: the rows between BLAS products (large data);
- ``_atomic``: atomic counters and waits, for threads inside one compiled call.

Kernels assume clean input: C-contiguous arrays of one float dtype, checked
by the public methods. Parameters travel as tuples, in one order
everywhere: ``params = (W1, b1, W2, b2)``, gradient sums
``(gW1, gb1, gW2, gb2)``, activations ``(hin, hout, oin, out)``, deltas
``(hd, od)``, and ``rule = (lo, hi, binary, exact)`` for the loss and the
output delta. Numba caches each kernel's machine code keyed on its own
file: after editing ``_math.py``, ``_atomic.py`` or ``packed.py`` (which the
others call), clear the cache (NUMBA_CACHE_DIR) before measuring.
"""

import contextlib
import logging
import threading

import llvmlite.binding
import numba
from numba import njit
from numba.core import event, registry


def prefer_wide_vectors(config=numba.config):
    """Let LLVM vectorize with 512-bit registers where the CPU has AVX-512; True if this call asked for them.

    LLVM's tuning for Intel's AVX-512 cores prefers 256-bit vectors (the
    wide ones once cost clock speed), and the kernels came out on ymm
    registers alone; with ``-prefer-256-bit`` they use zmm, which pays on
    most shapes (docs/design.md, "Vector width"). Numba reads the setting
    when it makes its code generator, at the first function decorated in
    the process: it then holds for all of the process's Numba code, and not
    at all if some was decorated before fastnn was imported. A CPU that
    Numba was told of (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES), or told to use
    no AVX (NUMBA_ENABLE_AVX=0), is left alone.
    """
    if config.CPU_NAME is not None or config.CPU_FEATURES is not None or not getattr(config, "ENABLE_AVX", True):
        return False
    if config is numba.config and "_toplevel_target_context" in vars(registry.cpu_target):
        return False  # the code generator is made already: the setting would change nothing
    features = llvmlite.binding.get_host_cpu_features()
    if not features.get("avx512f", False):
        return False
    config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"
    return True


prefer_wide_vectors()  # before the kernel modules decorate their functions

logger = logging.getLogger("fastnn")
COMPILING = "compiling fastnn's kernels for this machine (first run only, a few seconds)"


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


_streams = []  # where to say that compiling starts, besides the log (innermost last)
_lock = threading.Lock()


@contextlib.contextmanager
def announcing(stream):
    """Meanwhile, a compilation of a fastnn kernel is announced on `stream` (a file) before it starts."""
    with _lock:
        _streams.append(stream)
    try:
        yield
    finally:
        with _lock:
            _streams.remove(stream)


class _Announcer(event.Listener):
    """Says COMPILING when Numba starts compiling a fastnn kernel: never when the cache serves.

    Numba sends "numba:compile" only for a real compilation (after a cache
    miss), in whichever thread compiles; nested kernels (exp within train)
    are part of the outermost one's wait, which is announced once.
    """

    depth = 0

    def _ours(self, ev):
        func = getattr(ev.data.get("dispatcher"), "py_func", None)
        return getattr(func, "__module__", "").startswith("fastnn.")

    def on_start(self, ev):
        if self._ours(ev):
            with _lock:
                self.depth += 1
                stream = _streams[-1] if self.depth == 1 and _streams else None
                outermost = self.depth == 1
            if outermost:
                logger.info(COMPILING)
            if stream is not None:
                print(COMPILING, file=stream, flush=True)

    def on_end(self, ev):
        if self._ours(ev):
            with _lock:
                self.depth -= 1


event.register("numba:compile", _Announcer())
