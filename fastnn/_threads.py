"""Threads: helpers that run chunks of rows beside the caller, BLAS held to one thread, one network's lock.

The chunks of one call are claimed in turn by the calling thread and
NUMBA_NUM_THREADS - 1 helper threads; each result is kept at its chunk's
index, so sums over chunks are added in chunk order whichever thread ran
them. Meanwhile NumPy's BLAS runs each product on one thread
(threadpoolctl): its own threads would compete with these for the cores.
"""

import contextlib
import functools
import itertools
import os
import threading

import numpy as np
from numba.core import config as numba_config


class _Job:
    """The chunks of one _map_chunks call, claimed in turn by whichever thread is free.

    Each result is kept at its chunk's index, whoever ran it. The first
    exception stops the claiming and is raised by the caller.
    """

    def __init__(self, work, bounds):
        self.work, self.bounds = work, bounds
        self.claim = itertools.count().__next__  # one C call: atomic under the GIL
        self.results = [None] * len(bounds)
        self.error = None
        self.helping = 0  # helper threads inside run()
        self.closed = False
        self.cond = threading.Condition()

    def run(self):
        while self.error is None:
            c = self.claim()
            if c >= len(self.bounds):
                return
            try:
                self.results[c] = self.work(c, *self.bounds[c])
            except BaseException as exc:
                self.error = self.error or exc
                return

    def help(self):
        """run() on a helper thread, unless the caller has already closed the job."""
        with self.cond:
            if self.closed:
                return
            self.helping += 1
        try:
            self.run()
        finally:
            with self.cond:
                self.helping -= 1
                self.cond.notify_all()

    def close(self):
        """No helper joins from now on; returns when those that did are done (their chunks write the caller's buffers).

        An exception while waiting (Ctrl-C) stops the claiming and is raised
        once the helpers are done, not before.
        """
        interrupted = None
        with self.cond:
            self.closed = True
            while self.helping:
                try:
                    self.cond.wait()
                except BaseException as exc:
                    self.error = self.error or exc
                    interrupted = interrupted or exc
        if interrupted is not None:
            raise interrupted


class _Helpers:
    """Threads that run chunks of rows beside the thread that asks for them.

    The asking thread runs chunks too, so with NUMBA_NUM_THREADS threads in
    all there are NUMBA_NUM_THREADS - 1 helpers. They sleep on a semaphore
    between calls: a call wakes them once and does not wait for a helper that
    wakes after the work is done (a thread pool's wake-up costs more: see
    docs/design.md). One call at a time: map returns None to a thread that
    finds them busy (another training), which then runs its chunks itself.
    """

    def __init__(self, count):
        self.count = count
        self.busy = threading.Lock()
        self.wake = threading.Semaphore(0)
        self.job = None
        for i in range(count):
            threading.Thread(target=self._serve, name=f"fastnn-{i}", daemon=True).start()

    def _serve(self):
        while True:
            self.wake.acquire()
            job = self.job
            if job is not None:
                job.help()

    def map(self, work, bounds):
        if not self.busy.acquire(blocking=False):
            return None
        try:
            job = self.job = _Job(work, bounds)
            for _ in range(min(self.count, len(bounds) - 1)):
                self.wake.release()
            try:
                job.run()
            except BaseException as exc:
                job.error = job.error or exc
                raise
            finally:
                job.close()
        finally:
            self.job = None
            self.busy.release()
        if job.error is not None:
            raise job.error
        return job.results


_lock = threading.Lock()
_helpers = None
_blas = {"controller": None, "limiter": None, "users": 0}


def _reset_after_fork():
    """A forked child has none of the parent's threads: it makes its own helpers when it needs them."""
    global _lock, _helpers
    _lock, _helpers = threading.Lock(), None
    _blas.update(controller=None, limiter=None, users=0)


os.register_at_fork(after_in_child=_reset_after_fork)


def helpers():
    """The helper threads that run chunks of rows, or None for one thread.

    NUMBA_NUM_THREADS threads in all (all cores unless set), read when they
    are first needed.
    """
    global _helpers
    threads = numba_config.NUMBA_NUM_THREADS
    if threads < 2:
        return None
    with _lock:
        if _helpers is None:
            _helpers = _Helpers(threads - 1)
        return _helpers


def map_chunks(work, bounds):
    """[work(c, first, stop) for chunk c of bounds], on all the threads when there are several chunks.

    Each chunk ignores floating-point errors, on whichever thread runs it
    (np.errstate is per thread): a product that overflows gives inf, and the
    sigmoid 0 or 1, as in the compiled kernels; train reports it as
    FloatingPointError.
    """

    def quiet(c, first, stop):
        with np.errstate(all="ignore"):
            return work(c, first, stop)

    pool = helpers()
    results = pool.map(quiet, bounds) if pool is not None and len(bounds) > 1 else None
    if results is None:
        results = [quiet(c, first, stop) for c, (first, stop) in enumerate(bounds)]
    return results


def alongside(lead, help, most):
    """lead() on this thread, and help() meanwhile on at most `most` helper threads if they are free; lead()'s result.

    Returns once every helper that started help() has returned: help()
    must return soon after lead() does (it may start late, or not at all,
    and may give up before lead() starts: then lead() runs after them).
    """
    pool = helpers()
    if pool is None or most < 1:
        return lead()
    caller, led = threading.get_ident(), []

    def work(c, first, stop):
        if threading.get_ident() != caller:
            return help()
        if not led:  # the caller may take another share once lead() is done: nothing is left for it
            led.append(lead())
        return None

    if pool.map(work, [(0, 0)] * (min(pool.count, most) + 1)) is None:  # the helpers are busy (another training)
        return lead()
    return led[0] if led else lead()  # the helpers took every share, having waited for lead() in vain


@contextlib.contextmanager
def one_blas_thread():
    """NumPy's BLAS runs each product on one thread meanwhile (threadpoolctl).

    The limit is process-wide, as OpenBLAS's own, and trainings in several
    threads share it: the first to start sets it, the last to end restores
    what was there before. threadpoolctl (from 3.8) lets only one "controlling"
    thread change OpenBLAS's limit and silently ignores the others, so each
    change here first releases that control. (Where BLAS keeps a limit per
    thread, an OpenMP build, this one does not reach the helper threads.)
    """
    with _lock:
        if _blas["users"] == 0:
            if _blas["controller"] is None:
                from threadpoolctl import ThreadpoolController  # here: the tutorial's small data never needs it

                _blas["controller"] = ThreadpoolController()  # finds the BLAS libraries once
            _release_blas_control()
            _blas["limiter"] = _blas["controller"].limit(limits=1, user_api="blas")
        _blas["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                _release_blas_control()
                _blas["limiter"].restore_original_limits()
                _blas["limiter"] = None
                _release_blas_control()


# OpenBLAS's kernels for AVX-512 (threadpoolctl's "architecture", lower case).
_WIDE_BLAS = ("skylakex", "cooperlake", "sapphirerapids")


def narrow_blas():
    """Whether NumPy's BLAS runs narrower vectors than fastnn's kernels: OpenBLAS's AVX2 kernels on an AVX-512 CPU.

    As where OPENBLAS_CORETYPE=Haswell is set on one: its products are then
    1.3-1.8x slower than its AVX-512 kernels', and the packed blocks win
    up to BLAS_MIN_WORK (docs/design.md, "The plan"). A BLAS that names no
    kernels (MKL) counts as wide. Found once per process; the kernels are
    chosen when NumPy loads its BLAS.
    """
    with _lock:
        if "narrow" not in _blas:
            import llvmlite.binding
            from threadpoolctl import threadpool_info

            blas = numpy_blas(threadpool_info(), numpy_build())
            kernels = blas.get("architecture", "").lower() if blas.get("internal_api") == "openblas" else ""
            features = numba_config.CPU_FEATURES  # what the kernels compile for, where Numba was told a CPU
            if features is None:
                avx512 = numba_config.CPU_NAME is None and llvmlite.binding.get_host_cpu_features().get("avx512f", False)
            else:
                avx512 = "+avx512f" in features.split(",")
            _blas["narrow"] = bool(avx512 and kernels and kernels not in _WIDE_BLAS)
        return _blas["narrow"]


def gemm_address(dtype):
    """The address of NumPy's own BLAS's cblas_sgemm or cblas_dgemm (by `dtype`), for compiled code to call; 0 if unknown.

    Only OpenBLAS built with 64-bit integers, as NumPy's wheels ship it
    (scipy-openblas64), whose symbols and integer width are known: the
    compiled call (_kernels/_blas.py) passes 64-bit integers. Elsewhere
    the row path stays in Python between NumPy's products, with the same
    bits. Found once per process.
    """
    with _lock:
        if "gemm" not in _blas:
            _blas["gemm"] = _find_gemm()
        return _blas["gemm"].get(np.dtype(dtype).char, 0)


def _find_gemm():
    """{'f': address, 'd': address} of the cblas gemms of NumPy's OpenBLAS if it has 64-bit integers, else {}."""
    import ctypes

    from threadpoolctl import threadpool_info

    # Not the first library found as a last resort: another library's products could differ from np.matmul's.
    blas = numpy_blas(threadpool_info(), numpy_build(), surely=True)
    if blas.get("internal_api") != "openblas" or not blas.get("filepath"):
        return {}
    prefix = "scipy_" if blas.get("prefix", "").startswith("libscipy_openblas") else ""
    try:
        library = ctypes.CDLL(blas["filepath"])
    except OSError:
        return {}
    for suffix in ("64_", ""):
        config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
        if config is None:
            continue
        config.restype = ctypes.c_char_p
        if b"USE64BITINT" not in (config() or b""):
            return {}
        names = {"f": f"{prefix}cblas_sgemm{suffix}", "d": f"{prefix}cblas_dgemm{suffix}"}
        found = {char: getattr(library, name, None) for char, name in names.items()}
        if None in found.values():
            return {}
        if not all(_same_as_matmul(f, char) for char, f in found.items()):
            return {}
        return {char: ctypes.cast(f, ctypes.c_void_p).value for char, f in found.items()}
    return {}


def _same_as_matmul(gemm, char):
    """Whether the cblas gemm `gemm` (ctypes) gives np.matmul's bits on a small product of dtype `char`: the library NumPy calls."""
    import ctypes

    real = ctypes.c_float if char == "f" else ctypes.c_double
    size, pointer = ctypes.c_int64, ctypes.c_void_p
    gemm.restype = None
    gemm.argtypes = [ctypes.c_int] * 3 + [size] * 3 + [real, pointer, size, pointer, size, real, pointer, size]
    A = (np.arange(35.0).reshape(5, 7) / 7.0).astype(char)
    B = (np.arange(21.0).reshape(7, 3) / 3.0 - 1.0).astype(char)
    C = np.full((5, 3), np.nan, char)
    gemm(101, 111, 111, 5, 3, 7, 1.0, A.ctypes.data, 7, B.ctypes.data, 3, 0.0, C.ctypes.data, 3)  # row-major, no transpose
    return np.array_equal(C, A @ B)  # (so small a product runs on one thread either way)


def numpy_blas(libraries, build, surely=False):
    """NumPy's BLAS among threadpoolctl's `libraries` (SciPy's or a peer's may be loaded too); {} if none.

    The one inside NumPy's package, else the one NumPy's build
    configuration (numpy_build) names, a system or conda library, else the
    first (unless `surely`).
    """
    found = [i for i in libraries if i.get("user_api") == "blas"]
    name = build.get("Build Dependencies", {}).get("blas", {}).get("name", "").replace("-", "_")
    inside = (i for i in found if "numpy" in i.get("filepath", ""))
    named = (i for i in found if name and i.get("prefix", "").startswith("lib" + name))
    return next(inside, None) or next(named, None) or (found[0] if found and not surely else {})


def numpy_build():
    """NumPy's build configuration as a dict ({} before NumPy 1.26)."""
    try:
        return np.show_config(mode="dicts")
    except TypeError:
        return {}


def _release_blas_control():
    import threadpoolctl

    release = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if release is not None:  # threadpoolctl >= 3.8
        release(force=True)


def exclusive(method):
    """The method holds its network's lock: a call from another thread meanwhile waits its turn."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


@contextlib.contextmanager
def whole_epochs(net):
    """The parameters of `net` as whole epochs left them, for a reader (predict_proba, save).

    The live arrays, with the lock held; or, while train holds the lock in
    another thread, the copy it published at its last return to Python
    (train updates the live arrays in place, many epochs in one compiled
    call). A reader never waits for a training to end.
    """
    while True:
        if net._lock.acquire(timeout=0.005):
            try:
                yield net._params()
            finally:
                net._lock.release()
            return
        published = net._published
        if published is not None:
            yield published
            return
