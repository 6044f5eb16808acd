"""SimpleNeuralNetwork: the tutorial's network, running on fastnn's kernels.

The class checks its input once, at the public boundary, owns the weights and
calls the kernels of ``_kernels.py``; it has no numerical loops of its own.
"""

import contextlib
import itertools
import math
import numbers
import os
import signal
import tempfile
import threading
import time

import numpy as np
from numba.core import config as numba_config

from . import _kernels
from ._progress import Progress
from .functions import _clip_bounds

try:
    import _signal  # signal's C module: its functions without the enum conversions (9 us a call against 0.7 us)
except ImportError:  # another Python implementation
    _signal = signal

_DTYPES = {np.dtype(np.float32), np.dtype(np.float64)}
_GRADIENTS = ("tutorial", "exact")
_FORMAT, _FORMAT_VERSION = "fastnn.SimpleNeuralNetwork", 1
# train() returns to Python at least this often (seconds of compiled work), to
# print the tutorial's lines as training goes and to let Ctrl-C through.
_CHUNK_SECONDS = 0.1
_FIRST_CHUNK_WORK = 2_000_000


def _check_size(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_dtype(dtype):
    try:
        dt = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would be float64
    except (TypeError, ValueError):
        dt = None
    if dt not in _DTYPES:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    return dt


# Samples per block at most: a block's activations stay in cache, and the
# loops over a block are long enough to vectorize.
_MAX_BLOCK = 256


# Large data: from this many multiply-adds per epoch in the two dense layers
# (n_samples x hidden_size x (input_size + output_size)), full-batch training
# and forward make the products X W1 and X^T hd with NumPy's BLAS, on all
# cores, and run everything else in row kernels, a block of rows at a time.
_BLAS_MIN_WORK = 2_000_000
# Rows per block there: the block's two (rows x hidden) buffers stay near 16 MB.
_BLAS_BLOCK_ELEMENTS = 1 << 21


# Large data runs on all cores: each block of rows is cut into chunks of
# about this many elements of the (rows x hidden) activations (1 MB in
# float64: a chunk's work stays in cache), 16 chunks a full block. The chunks
# depend on the sizes alone, whatever the number of threads, and their sums
# are added in chunk order, so the result does not depend on the threads.
_CHUNK_ELEMENTS = 1 << 17


def _row_chunks(m, hidden_size):
    """[(first, stop)] of the chunks of m rows, of equal sizes, about _CHUNK_ELEMENTS // hidden_size rows each.

    An even number of them (unless one), so that two threads get equal
    shares. They depend on the sizes alone, never on the number of threads.
    """
    count = -(-m // max(1, _CHUNK_ELEMENTS // hidden_size))
    count += count % 2 if count > 1 else 0
    size = -(-m // count)
    return [(first, min(m, first + size)) for first in range(0, m, size)]


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
    wakes after the work is done. (A ThreadPoolExecutor took 110-200 us to run
    four empty chunks here, against about 20 us.) One call at a time: map
    returns None to a thread that finds them busy (another training), which
    then runs its chunks itself.
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


_helpers_lock = threading.Lock()
_helpers = None
_blas = {"controller": None, "limiter": None, "users": 0}


def _reset_after_fork():
    """A forked child has none of the parent's threads: it makes its own helpers when it needs them."""
    global _helpers_lock, _helpers
    _helpers_lock, _helpers = threading.Lock(), None
    _blas.update(controller=None, limiter=None, users=0)


os.register_at_fork(after_in_child=_reset_after_fork)


def _row_helpers():
    """The helper threads that run chunks of rows, or None for one thread.

    NUMBA_NUM_THREADS threads in all (all cores unless set), read when they
    are first needed.
    """
    global _helpers
    threads = numba_config.NUMBA_NUM_THREADS
    if threads < 2:
        return None
    with _helpers_lock:
        if _helpers is None:
            _helpers = _Helpers(threads - 1)
        return _helpers


def _map_chunks(work, bounds):
    """[work(c, first, stop) for chunk c of bounds], on all the threads when there are several chunks.

    Each chunk ignores floating-point errors, on whichever thread runs it
    (np.errstate is per thread): a product that overflows gives inf, and the
    sigmoid 0 or 1, as in the compiled kernels; train reports it as
    FloatingPointError.
    """

    def quiet(c, first, stop):
        with np.errstate(all="ignore"):
            return work(c, first, stop)

    helpers = _row_helpers()
    results = helpers.map(quiet, bounds) if helpers is not None and len(bounds) > 1 else None
    if results is None:
        results = [quiet(c, first, stop) for c, (first, stop) in enumerate(bounds)]
    return results


@contextlib.contextmanager
def _one_blas_thread():
    """NumPy's BLAS runs each product on one thread meanwhile (threadpoolctl).

    The limit is process-wide, as OpenBLAS's own, and trainings in several
    threads share it: the first to start sets it, the last to end restores
    what was there before. threadpoolctl (from 3.8) lets only one "controlling"
    thread change OpenBLAS's limit and silently ignores the others, so each
    change here first releases that control. (Where BLAS keeps a limit per
    thread, an OpenMP build, this one does not reach the helper threads.)
    """
    with _helpers_lock:
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
        with _helpers_lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                _release_blas_control()
                _blas["limiter"].restore_original_limits()
                _blas["limiter"] = None
                _release_blas_control()


def _release_blas_control():
    import threadpoolctl

    release = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if release is not None:  # threadpoolctl >= 3.8
        release(force=True)


def _rows(X):
    """The number of rows of X if it is a 2-D array (0 otherwise: the checks will say what is wrong)."""
    shape = getattr(X, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) == 2 else 0
    return len(X) if isinstance(X, list) else 0


def _blas_rows(n, hidden_size):
    return min(n, max(256, _BLAS_BLOCK_ELEMENTS // hidden_size))


def _forward_rows(X, W1, b1, W2, b2, activations=True):
    """The tutorial's forward pass over rows: (hidden_input, hidden_output, output_input, output).

    In chunks of rows on all cores, as training: the products by BLAS on one
    thread each, the biases and sigmoids by a row kernel. With
    activations=False only the output is returned, and the hidden layer is
    held a chunk at a time.
    """
    dtype = np.result_type(X, W1)
    n, h, o = X.shape[0], W1.shape[1], W2.shape[1]
    out = np.empty((n, o), dtype)
    hin, hout, oin = (np.empty((n, units), dtype) for units in (h, h, o)) if activations else (None, None, None)

    def chunk(c, first, stop):
        rows = slice(first, stop)
        if activations:
            np.matmul(X[rows], W1, out=hin[rows])
            _kernels._bias_sigmoid_rows(hin[rows], b1, hout[rows])
            np.matmul(hout[rows], W2, out=oin[rows])
            _kernels._bias_sigmoid_rows(oin[rows], b2, out[rows])
        else:  # each layer's output over its input
            H = np.matmul(X[rows], W1)
            _kernels._bias_sigmoid_in_place(H, b1)
            np.matmul(H, W2, out=out[rows])
            _kernels._bias_sigmoid_in_place(out[rows], b2)

    with _one_blas_thread():
        _map_chunks(chunk, _row_chunks(n, h))
    return (hin, hout, oin, out) if activations else out


def _activation_property(index, name):
    """An activation attribute; after large-data training it is computed when first read."""

    def fget(self):
        self._materialize()
        return self._acts[index]

    def fset(self, value):
        self._materialize()
        acts = list(self._acts)
        acts[index] = value
        self._acts = tuple(acts)

    return property(fget, fset, doc=f"{name} of the last forward pass (None before the first).")


def _blocks(n):
    """(n_blocks, width) for n samples: as few blocks as fit, of equal width, a multiple of 4.

    It depends on n only, so the order of every sum is fixed by the data.
    """
    n_blocks = -(-n // _MAX_BLOCK)
    width = -(-n // n_blocks)
    return n_blocks, -(-width // 4) * 4


def _pack(arrT, dtype):
    """(units, n) -> the kernels' (units, n_blocks, width) layout, zero-padded, as `dtype`."""
    units, n = arrT.shape
    n_blocks, width = _blocks(n)
    packed = np.zeros((units, n_blocks * width), dtype)
    if arrT.dtype.itemsize > dtype.itemsize:
        with np.errstate(over="ignore"):  # too large for float32: inf, reported by the caller
            packed[:, :n] = arrT
    else:
        packed[:, :n] = arrT
    return packed.reshape(units, n_blocks, width)


def _unpack(packed, n):
    """The kernels' layout -> a (n, units) view, as the tutorial's attributes are shaped."""
    return packed.reshape(packed.shape[0], -1)[:, :n].T


def _mask(n, dtype):
    """1.0 for the n real samples of the packed layout, 0.0 for the padding."""
    n_blocks, width = _blocks(n)
    mask = np.zeros(n_blocks * width, dtype)
    mask[:n] = 1
    return mask.reshape(1, n_blocks, width)


def _arena(shapes, dtype):
    """Zeroed buffers carved from one allocation, each starting on a 64-byte cache line.

    The kernels' small buffers are kept together this way: with an earlier
    layout of the kernels, scattered small allocations made the tutorial's
    epoch run at either 200 or 400 ns from one process to the next, depending
    on where the allocator put them.
    """
    per_line = 64 // dtype.itemsize
    sizes = [math.prod(shape) for shape in shapes]
    spans = [-(-size // per_line) * per_line for size in sizes]
    raw = np.zeros(sum(spans) + per_line, dtype)
    start = (-raw.__array_interface__["data"][0] % 64) // dtype.itemsize
    buffers = []
    for shape, size, span in zip(shapes, sizes, spans):
        buffers.append(raw[start : start + size].reshape(shape))
        start += span
    return buffers


def _real_array(name, value, expected):
    """value as an ndarray of bool, int or float; `expected` says what was asked for, if it is not an array."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be {expected}, got {type(value).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}")
    return arr


def _as_matrix(name, value, n_cols, cols_what, n_rows=None):
    """Validate a 2-D numeric array of n_cols columns (and n_rows rows, if given); return it as an ndarray."""
    arr = _real_array(name, value, "a 2-dimensional numeric array")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got an array of shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got an array of shape {arr.shape}")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows, one per row of X, got {arr.shape[0]}")
    if arr.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns ({cols_what}), got an array of shape {arr.shape}")
    return arr


def _check_finite(name, arr, converted, dtype):
    # Integers and bools are finite in float32 too; floats may not be.
    if arr.dtype.kind != "f":
        return
    flat = converted.reshape(-1)  # a view: the callers' arrays are contiguous
    # A slice at a time, so that checking large data needs little memory.
    step = 1 << 20
    if not all(np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step)):
        raise ValueError(f"{name} must be finite in {dtype}, got NaN or infinity")


def _check_matrix(name, value, n_cols, cols_what, dtype, n_rows=None):
    """Validate a 2-D numeric array and return it in the kernels' packed layout, as `dtype`, with its row count."""
    arr = _as_matrix(name, value, n_cols, cols_what, n_rows)
    out = _pack(arr.T, dtype)
    _check_finite(name, arr, out, dtype)
    return out, arr.shape[0]


def _check_rows(name, value, n_cols, cols_what, dtype, n_rows=None):
    """Validate a 2-D numeric array and return it as a C-ordered (n_rows, n_cols) array of `dtype`, a copy only if needed."""
    arr = _as_matrix(name, value, n_cols, cols_what, n_rows)
    with np.errstate(over="ignore"):  # too large for float32: inf, reported below
        out = np.ascontiguousarray(arr, dtype=dtype)
    _check_finite(name, arr, out, dtype)
    return out


def _check_targets(y, n_rows, output_size, dtype, packed=True):
    """Validate y; return it (packed, or C-ordered rows), and whether every target is exactly 0 or 1."""
    if packed:
        Y, _ = _check_matrix("y", y, output_size, "output_size", dtype, n_rows=n_rows)
    else:
        Y = _check_rows("y", y, output_size, "output_size", dtype, n_rows=n_rows)
    low, high = Y.min(), Y.max()
    if low < 0 or high > 1:
        raise ValueError(f"y must hold targets in [0, 1], got values from {low} to {high}")
    binary = np.asarray(y).dtype.kind in "biu" or bool(np.all((Y == 0) | (Y == 1)))
    return Y, binary


def _check_epochs(epochs):
    if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, numbers.Integral):
        raise TypeError(f"epochs must be a non-negative integer, got {epochs!r} of type {type(epochs).__name__}")
    if epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    return int(epochs)


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, (bool, np.bool_)) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(
            f"learning_rate must be a finite positive number, got {learning_rate!r} of type {type(learning_rate).__name__}"
        )
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite positive number, got {learning_rate!r}")
    return float(learning_rate)


def _resolve_seed(seed):
    """None (NumPy's global state), or the numpy.random.Generator that `seed` names."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)):
        if seed < 0:
            raise ValueError(f"seed must be None, a non-negative int or a numpy.random.Generator, got {seed!r}")
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {seed!r}")


def _check_batch_size(batch_size):
    if batch_size is None:
        return None
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be None or a positive integer, got {batch_size!r} of type {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be None or a positive integer, got {batch_size!r}")
    return int(batch_size)


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_verbose(verbose):
    if isinstance(verbose, (bool, np.bool_)) or (isinstance(verbose, str) and verbose == "progress"):
        return verbose if isinstance(verbose, str) else bool(verbose)
    raise ValueError(f"verbose must be True, False or 'progress', got {verbose!r}")


def _check_gradient(gradient):
    if not (isinstance(gradient, str) and gradient in _GRADIENTS):
        raise ValueError(f"gradient must be one of {', '.join(map(repr, _GRADIENTS))}, got {gradient!r}")
    return gradient


def _check_threshold(threshold):
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number in [0, 1], got {threshold!r} of type {type(threshold).__name__}")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return float(threshold)


def _check_param(name, value, shape, dtype):
    """value as a new C-ordered array of `dtype`, after checking that it is a finite real array of `shape`."""
    arr = _real_array(name, value, f"a numeric array of shape {shape}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    with np.errstate(over="ignore"):
        arr = np.array(arr, dtype=dtype, order="C")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite in {dtype}, got NaN or infinity")
    return arr


def _weight_property(attr, rows, cols):
    """A weight attribute. Training updates its array in place, as the tutorial's ``-=`` does.

    Assigning gives the network a new array of its own holding the values, as
    the tutorial's assignment rebinds the attribute: an array read from the
    attribute before keeps its values, so that swapping the weights of two
    networks works. (The tutorial's network would hold the assigned array
    itself; this one holds a copy, in its own dtype.)
    """

    def fget(self):
        return getattr(self, attr)

    def fset(self, value):
        shape = (getattr(self, rows) if isinstance(rows, str) else rows, getattr(self, cols))
        arr = _check_param(attr.lstrip("_"), value, shape, self.dtype)
        own = _arena([shape], self.dtype)[0]  # on cache lines of its own, as the arena's buffers
        own[...] = arr
        setattr(self, attr, own)

    return property(fget, fset)


class SimpleNeuralNetwork:
    """The tutorial's network: sigmoid hidden layer, sigmoid output, full-batch descent.

    A drop-in replacement for the tutorial's ``SimpleNeuralNetwork``: same
    constructor, methods and attributes, same numbers, compiled kernels.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Number of features, hidden units and outputs; positive integers.
    seed : None, int or numpy.random.Generator, keyword-only
        Where the initial weights come from. ``None`` (default) draws from
        NumPy's global state exactly as the tutorial does, so that after
        ``np.random.seed(s)`` both start from identical weights. An int seeds a
        new ``numpy.random.default_rng``; a Generator is drawn from directly.
    dtype : numpy.float64 (default) or numpy.float32, keyword-only
        Float type of the weights, activations and kernels.
    gradient : {"tutorial", "exact"}, keyword-only
        The output delta of ``backward`` and ``train``. ``"tutorial"`` (default)
        is the tutorial's ``(output - y) * output * (1 - output)``, the
        gradient of the squared error; ``"exact"`` is ``output - y``, the
        gradient of the summed binary cross-entropy that the loss reports.
        The same generator as ``seed`` shuffles mini-batches.

    Attributes
    ----------
    weights_input_hidden : ndarray of shape (input_size, hidden_size)
    weights_hidden_output : ndarray of shape (hidden_size, output_size)
    bias_hidden : ndarray of shape (1, hidden_size)
    bias_output : ndarray of shape (1, output_size)
        The parameters; assign new arrays to replace them.
    hidden_input, hidden_output : ndarray of shape (n_samples, hidden_size)
    output_input, output : ndarray of shape (n_samples, output_size)
        The activations of the last forward pass (None before the first).
        After full-batch training on large data (the BLAS path) they are
        computed from X and the weights of the last epoch when first read,
        so that training never holds them all; X must not be changed in
        place in between.
    loss_history : ndarray of shape (n_epochs,)
        The losses of the last ``train`` call, up to where it stopped.
    """

    weights_input_hidden = _weight_property("_weights_input_hidden", "input_size", "hidden_size")
    weights_hidden_output = _weight_property("_weights_hidden_output", "hidden_size", "output_size")
    bias_hidden = _weight_property("_bias_hidden", 1, "hidden_size")
    bias_output = _weight_property("_bias_output", 1, "output_size")
    hidden_input = _activation_property(0, "hidden_input")
    hidden_output = _activation_property(1, "hidden_output")
    output_input = _activation_property(2, "output_input")
    output = _activation_property(3, "output")

    def __init__(self, input_size, hidden_size, output_size, *, seed=None, dtype=np.float64, gradient="tutorial"):
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.output_size = _check_size("output_size", output_size)
        self.dtype = _check_dtype(dtype)
        self.gradient = _check_gradient(gradient)
        self._rng = _resolve_seed(seed)
        if self._rng is None:
            randn = np.random.randn  # NumPy's global state, as the tutorial
        else:
            randn = lambda *shape: self._rng.standard_normal(shape)  # noqa: E731
        f, h, o = self.input_size, self.hidden_size, self.output_size
        # The parameters, then their gradient sums, which are float64 whatever
        # the dtype: over many samples float32 sums would lose precision.
        shapes, sums = [(f, h), (1, h), (h, o), (1, o)], [(f, h), (h,), (h, o), (o,)]
        if self.dtype == np.float64:
            buffers = _arena(shapes + sums, self.dtype)
        else:
            buffers = _arena(shapes, self.dtype) + _arena(sums, np.dtype(np.float64))
        self._weights_input_hidden, self._bias_hidden, self._weights_hidden_output, self._bias_output = buffers[:4]
        self._workspace = buffers[4:]
        # The tutorial's draws, in the tutorial's order; the biases are zero from the arena.
        self._weights_input_hidden[...] = randn(self.input_size, self.hidden_size)
        self._weights_hidden_output[...] = randn(self.hidden_size, self.output_size)
        self._acts, self._pending = (None, None, None, None), None
        self.loss_history = np.empty(0)

    def __repr__(self):
        gradient = "" if self.gradient == "tutorial" else f", gradient={self.gradient!r}"
        return (
            f"SimpleNeuralNetwork({self.input_size}, {self.hidden_size}, {self.output_size}, "
            f"dtype=numpy.{self.dtype.name}{gradient})"
        )

    @property
    def _exact(self):
        return self.gradient == "exact"

    def _params(self):
        return self._weights_input_hidden, self._bias_hidden, self._weights_hidden_output, self._bias_output

    def _activations(self, n):
        """Packed buffers for hidden_input, hidden_output, output_input, output and the two deltas."""
        h, o, blocks = self.hidden_size, self.output_size, _blocks(n)
        return _arena([(h, *blocks), (h, *blocks), (o, *blocks), (o, *blocks), (h, *blocks), (o, *blocks)], self.dtype)

    def _set_activations(self, n, hin, hout, oin, out, *deltas):
        # The tutorial's (samples, units) attributes are views of the packed buffers.
        self._acts, self._pending = (_unpack(hin, n), _unpack(hout, n), _unpack(oin, n), _unpack(out, n)), None

    def _uses_blas(self, X):
        return _rows(X) * self.hidden_size * (self.input_size + self.output_size) >= _BLAS_MIN_WORK

    def _materialize(self):
        """Compute the activations left pending by large-data training."""
        if self._pending is not None:
            X, params = self._pending
            self._acts, self._pending = _forward_rows(X, *params), None

    def forward(self, X):
        """Forward pass; sets the activation attributes as the tutorial does.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)

        Returns
        -------
        output : ndarray of shape (n_samples, output_size)
        """
        if self._uses_blas(X):
            X = _check_rows("X", X, self.input_size, "input_size", self.dtype)
            self._acts, self._pending = _forward_rows(X, *self._params()), None
            return self.output
        X, n = _check_matrix("X", X, self.input_size, "input_size", self.dtype)
        acts = self._activations(n)
        # _train with no epoch: the forward pass, without a kernel of its own.
        # Its other arguments are unused; they only have _train's types.
        lo, hi = _clip_bounds(self.dtype)
        unused = np.empty(0)
        _kernels._train(
            X, acts[3], acts[3], *self._params(), 0.0, lo, hi, True, self._exact, unused, *acts, *self._workspace,
            unused, unused, unused,
        )
        self._set_activations(n, *acts)
        return self.output

    def backward(self, X, y, learning_rate):
        """One gradient step (the ``gradient`` rule, the tutorial's by default) from the last forward pass.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
            The input of the last ``forward`` call.
        y : array_like of shape (n_samples, output_size)
            Targets in [0, 1].
        learning_rate : float
            Finite and positive.
        """
        X, n = _check_matrix("X", X, self.input_size, "input_size", self.dtype)
        Y, _ = _check_targets(y, n, self.output_size, self.dtype)
        lr = _check_learning_rate(learning_rate)
        if self.output is None or self.hidden_output is None:
            raise RuntimeError("backward needs the activations of a forward pass: call forward(X) first")
        hout, _ = _check_matrix("hidden_output", self.hidden_output, self.hidden_size, "hidden_size", self.dtype, n)
        out, _ = _check_matrix("output", self.output, self.output_size, "output_size", self.dtype, n)
        blocks = _blocks(n)
        deltas = _arena([(self.hidden_size, *blocks), (self.output_size, *blocks)], self.dtype)
        saved = self._save_params()
        _kernels._backward(X, Y, _mask(n, self.dtype), *self._params(), lr, self._exact, hout, out, *deltas, *self._workspace)
        if not self._params_finite():
            self._restore_params(saved)
            raise FloatingPointError(
                f"backward: the update would make the weights NaN or infinite (learning_rate={lr!r} is "
                "probably too large); the weights are unchanged"
            )

    def train(self, X, y, epochs, learning_rate, verbose=True, *, batch_size=None, shuffle=True):
        """Gradient descent, the epoch loop in compiled code.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
        y : array_like of shape (n_samples, output_size)
            Targets in [0, 1].
        epochs : int
            Number of passes over the data, 0 or more.
        learning_rate : float
            Finite and positive. Each step subtracts ``learning_rate`` times
            the gradient summed (not averaged) over the samples of the batch.
        verbose : True (default), False or "progress"
            True prints the tutorial's ``Epoch {epoch}, Loss: {loss}`` every
            100 epochs, as training proceeds; "progress" draws a progress bar
            (epochs, loss, time spent and left) on stderr instead.
        batch_size : int or None, keyword-only
            None (default) is the tutorial's full batch: one step per epoch.
            An int makes a step after every `batch_size` samples. Mini-batch
            training reads X and y in place, block by block, and does not set
            the activation attributes (``hidden_input`` ... ``output``).
        shuffle : bool, keyword-only
            With `batch_size`, visit the samples in a new random order every
            epoch, drawn from the network's generator (``seed``), so that runs
            repeat exactly.

        Returns
        -------
        losses : ndarray of shape (epochs,)
            The loss of each epoch as the tutorial computes it. With the full
            batch, from the output of that epoch's forward pass, before its
            update; with mini-batches, the mean over the epoch of each batch's
            loss before its update. Also kept as ``loss_history``.

        Raises
        ------
        FloatingPointError
            If an epoch's loss, or the weights its update would give, are not
            finite (the learning rate is too large). The network keeps the
            weights that epoch started from; ``loss_history`` holds the
            losses of the epochs before it.
        KeyboardInterrupt
            On Ctrl-C, soon, with the network consistent: after a whole epoch
            (full batch on small data, within about 0.1 s), after the running
            block of rows, dropping the epoch it cuts short (full batch on
            large data), or after a whole batch (mini-batches, whose
            ``loss_history`` holds the whole epochs done). If the program's
            own SIGINT handler does not raise, train returns the losses of
            the epochs done.
        """
        epochs = _check_epochs(epochs)
        lr = _check_learning_rate(learning_rate)
        verbose = _check_verbose(verbose)
        batch_size = _check_batch_size(batch_size)
        shuffle = _check_flag("shuffle", shuffle)
        report = _Report(verbose, epochs)
        try:
            if batch_size is None:
                return self._train_full(X, y, epochs, lr, report)
            return self._train_batches(X, y, epochs, lr, batch_size, shuffle, report)
        finally:
            report.close(self.loss_history)  # also on an error or Ctrl-C: the bar's line is ended

    def _train_full(self, X, y, epochs, lr, report):
        if self._uses_blas(X):
            X = _check_rows("X", X, self.input_size, "input_size", self.dtype)
            n = X.shape[0]
            Y, binary = _check_targets(y, n, self.output_size, self.dtype, packed=False)
            run, set_activations = self._blas_epochs(X, Y, binary, lr)
        else:
            X, n = _check_matrix("X", X, self.input_size, "input_size", self.dtype)
            Y, binary = _check_targets(y, n, self.output_size, self.dtype)
            run, set_activations = self._block_epochs(X, Y, n, binary, lr)
        losses = np.empty(epochs)
        self.loss_history = losses[:0]
        if epochs == 0:
            return losses

        def run_losses(start, stop, interrupt=None):
            """Epochs [start, stop); returns where they stopped (earlier only if `interrupt` became pending)."""
            return start + run(losses[start:stop], interrupt)

        # The first chunk is sized from the work per epoch (about 1 ns per
        # multiply-add: a few milliseconds), later ones from measured time.
        work = n * self._work_per_sample()
        done, chunk = 0, max(1, _FIRST_CHUNK_WORK // work)
        with _DeferredInterrupt() as interrupt:
            while done < epochs and not interrupt.pending:
                stop = min(epochs, done + chunk)
                saved = self._save_params()
                start_time = time.perf_counter()
                stop = run_losses(done, stop, interrupt)
                elapsed = time.perf_counter() - start_time
                if stop == done:
                    break  # interrupted within its first epoch: nothing changed
                diverged = not (np.isfinite(losses[done:stop]).all() and self._params_finite())
                if diverged:
                    self._restore_params(saved)
                    stop = self._find_divergence(run_losses, losses, done, stop)
                report.epochs(done, stop, losses)
                set_activations()
                self.loss_history = losses[:stop]
                if diverged:
                    what = "loss" if not np.isfinite(losses[stop]) else "weights after the update"
                    self._diverged(stop, what, lr)
                chunk = _next_chunk(chunk, elapsed)
                done = stop
        return self.loss_history

    def _block_epochs(self, X, Y, n, binary, lr):
        """Full-batch epochs on packed data, all in one compiled call: run(losses), set_activations()."""
        lo, hi = _clip_bounds(self.dtype)
        acts = self._activations(n)
        mask = _mask(n, self.dtype)
        # The outputs of up to 256 epochs (at most 2**16 values) are kept and
        # their losses computed together (see _kernels._train).
        slots = max(1, min(256, (1 << 16) // Y.size))
        kept, ytile, mtile = np.empty((3, slots, Y.size))
        ytile[...] = Y.reshape(-1)
        mtile.reshape(slots * self.output_size, -1)[...] = mask.reshape(-1)
        kept, ytile, mtile = kept.reshape(-1), ytile.reshape(-1), mtile.reshape(-1)

        def run(losses, interrupt):  # one compiled call: no stop within it
            _kernels._train(
                X, Y, mask, *self._params(), lr, lo, hi, binary, self._exact, losses, *acts, *self._workspace,
                kept, ytile, mtile,
            )
            return losses.shape[0]

        return run, lambda: self._set_activations(n, *acts)

    def _blas_epochs(self, X, Y, binary, lr):
        """Full-batch epochs on rows, the products by BLAS: run(losses), set_activations().

        Each block of rows is cut into chunks (_row_chunks), which run on
        all cores (NUMBA_NUM_THREADS threads). A chunk is one thread's work:
        Z = X W1 (BLAS, one thread), then _hidden_rows does the rest of the
        forward pass, the loss, the deltas and the sums for W2, b2 and b1,
        then X^T HD (BLAS, one thread) gives its sum for W1. The chunks' sums
        are added in chunk order, so the result does not depend on the
        number of threads. BLAS is held to one thread meanwhile: its own
        threads would compete with these for the cores (OpenBLAS's spin after
        each product), and its float32 products are not bitwise the same
        with another thread count.
        """
        lo, hi = _clip_bounds(self.dtype)
        n, (f, h, o) = X.shape[0], (self.input_size, self.hidden_size, self.output_size)
        rows = _blas_rows(n, h)
        chunks = len(_row_chunks(rows, h)) + 1  # at most, for any block
        Z, HD, od = _arena([(rows, h), (rows, h), (rows, o)], self.dtype)
        # Each chunk's sums: for gW1 in the network's dtype (a BLAS product), for gW2, gb2 and gb1 in float64,
        # which _hidden_rows adds to from 0 (_add_chunk_sums sets them back to 0).
        (partial_W1,) = _arena([(chunks, f, h)], self.dtype)
        partials = (partial_W1, *_arena([(chunks, h, o), (chunks, o), (chunks, h)], np.dtype(np.float64)))
        W1, b1, W2, b2 = self._params()
        gW1, gb1, gW2, gb2 = self._workspace
        last = {}

        def chunk(start, c, first, stop):
            """Rows [start + first, start + stop) of X, chunk c of the block from `start`."""
            Xc, Zc, HDc = X[start + first : start + stop], Z[first:stop], HD[first:stop]
            gW1_c, gW2_c, gb2_c, gb1_c = (p[c] for p in partials)
            np.matmul(Xc, W1, out=Zc)
            loss = _kernels._hidden_rows(
                Zc, b1, W2, b2, Y[start + first : start + stop], HDc, od[first:stop], lo, hi, binary,
                self._exact, gW2_c, gb2_c, gb1_c,
            )
            np.matmul(Xc.T, HDc, out=gW1_c)
            return loss

        def block(start):
            """One block of rows from `start`: its chunks' sums added to the gradients in order; returns its loss."""
            bounds = _row_chunks(min(rows, n - start), h)
            losses = _map_chunks(lambda c, first, stop: chunk(start, c, first, stop), bounds)
            _kernels._add_chunk_sums(len(bounds), *partials, gW1, gW2, gb2, gb1)
            return sum(losses)  # in chunk order

        def run(losses, interrupt):
            with _one_blas_thread():  # overflow in the chunks is reported by train, as FloatingPointError
                return run_epochs(losses, interrupt)

        def run_epochs(losses, interrupt):
            for e in range(losses.shape[0]):
                start_params = self._save_params()  # the tutorial's attributes come from these weights
                total = 0.0
                for start in range(0, n, rows):
                    if interrupt is not None and interrupt.pending:
                        for g in (gW1, gb1, gW2, gb2):  # the weights change only at the epoch's end
                            g[...] = 0
                        return e
                    total += block(start)
                losses[e] = total / (n * o)
                _kernels._apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr)  # and the sums back to 0
                last["params"] = start_params
            return losses.shape[0]

        def set_activations():
            self._acts, self._pending = (None,) * 4, (X, last["params"])

        return run, set_activations

    def _train_batches(self, X, y, epochs, lr, batch, shuffle, report):
        X = _check_rows("X", X, self.input_size, "input_size", self.dtype)
        n = X.shape[0]
        Y, binary = _check_targets(y, n, self.output_size, self.dtype, packed=False)
        lo, hi = _clip_bounds(self.dtype)
        losses = np.empty(epochs)
        self.loss_history = losses[:0]
        f, h, o = self.input_size, self.hidden_size, self.output_size
        width = _blocks(min(batch, n))[1]
        shapes = [(f, 1, width), (o, 1, width), (1, 1, width)] + [(u, 1, width) for u in (h, h, o, o, h, o)]
        buffers = _arena(shapes, self.dtype)
        in_order, loss_sum = np.empty(0, np.int64), np.zeros(1)
        # Rows per call: whole batches, sized like the full batch's chunks.
        rows = max(1, _FIRST_CHUNK_WORK // self._work_per_sample() // batch) * batch
        epoch = 0
        with _DeferredInterrupt() as interrupt:
            while epoch < epochs and not interrupt.pending:
                order = self._permutation(n) if shuffle else in_order
                saved = self._save_params()
                loss_sum[0], done = 0.0, 0
                while done < n and not interrupt.pending:
                    stop = min(n, done + rows)
                    start_time = time.perf_counter()
                    _kernels._train_batches(
                        X, Y, order, done, stop, batch, *self._params(), lr, lo, hi, binary, self._exact, loss_sum,
                        *buffers, *self._workspace
                    )
                    elapsed = time.perf_counter() - start_time
                    total = loss_sum[0]
                    if not (math.isfinite(total) and self._params_finite()):
                        self._restore_params(saved)
                        self._diverged(epoch, "loss" if not math.isfinite(total) else "weights after an update", lr)
                    done = stop
                    rows = min(n + batch, max(batch, _next_chunk(rows, elapsed) // batch * batch))
                    report.partial(epoch + done / n, total / (done * o))
                if done < n:
                    break  # interrupted within the epoch: its loss is incomplete
                losses[epoch] = total / (n * o)
                epoch += 1
                self.loss_history = losses[:epoch]
                report.epochs(epoch - 1, epoch, losses)
        return self.loss_history

    def _work_per_sample(self):
        f, h, o = self.input_size, self.hidden_size, self.output_size
        return h * (f + o + 2) + o

    def _permutation(self, n):
        rng = np.random if self._rng is None else self._rng
        return rng.permutation(n).astype(np.int64, copy=False)

    def predict_proba(self, X):
        """The network's output for X, without changing any attribute of the network.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)

        Returns
        -------
        proba : ndarray of shape (n_samples, output_size), of the network's dtype
        """
        X = _check_rows("X", X, self.input_size, "input_size", self.dtype)
        n, f, h, o = X.shape[0], self.input_size, self.hidden_size, self.output_size
        W1, b1, W2, b2 = self._params()
        if self._uses_blas(X):
            return _forward_rows(X, W1, b1, W2, b2, activations=False)
        proba = np.empty((n, o), self.dtype)
        width = _blocks(n)[1]
        buffers = _arena([(f, 1, width), (h, 1, width), (h, 1, width), (o, 1, width), (o, 1, width)], self.dtype)
        _kernels._predict(X, W1, b1, W2, b2, proba, np.empty(0, np.int64), *buffers)
        return proba

    def predict(self, X, threshold=0.5):
        """Class labels: 1 where the output is above `threshold`, else 0.

        Returns
        -------
        labels : ndarray of int64, shape (n_samples, output_size)
        """
        threshold = _check_threshold(threshold)
        return (self.predict_proba(X) > threshold).astype(np.int64)

    def score(self, X, y):
        """Accuracy: the fraction of samples whose every output is on the right side of 0.5.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
        y : array_like of shape (n_samples, output_size)
            Labels, each 0 or 1.
        """
        Xc = _check_rows("X", X, self.input_size, "input_size", self.dtype)
        labels = _as_matrix("y", y, self.output_size, "output_size", n_rows=Xc.shape[0])
        if not np.all((labels == 0) | (labels == 1)):
            raise ValueError("y must hold labels 0 or 1 to be scored, got other values")
        return float(np.mean(np.all(self.predict(Xc) == labels, axis=1)))

    def save(self, path):
        """Write the network to `path` (an ``.npz`` file, the name used as given).

        The file holds a format version, the sizes, the dtype, the gradient
        rule and the four parameters. It is written to a temporary file in the
        same directory and renamed over `path`, so that a crash never leaves a
        partial file where a good one was.
        """
        path = os.fspath(path)
        arrays = dict(
            format=np.array(_FORMAT),
            format_version=np.array(_FORMAT_VERSION),
            sizes=np.array([self.input_size, self.hidden_size, self.output_size]),
            dtype=np.array(self.dtype.name),
            gradient=np.array(self.gradient),
            weights_input_hidden=self.weights_input_hidden,
            bias_hidden=self.bias_hidden,
            weights_hidden_output=self.weights_hidden_output,
            bias_output=self.bias_output,
        )
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".npz.tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _file_mode(path))  # mkstemp's file is private; a saved network need not be
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path, *, seed=None):
        """Read a network written by `save`.

        Parameters
        ----------
        path : str or path-like
        seed : None, int or numpy.random.Generator, keyword-only
            The generator for later mini-batch shuffling (the weights come
            from the file).

        Raises
        ------
        ValueError
            If the file is not a network saved by fastnn, is truncated or
            damaged, or its parts do not agree with each other.
        """
        path = os.fspath(path)
        rng = _resolve_seed(seed)  # a bad seed is the caller's error, not the file's
        with open(path, "rb") as file:  # a missing file, no permission, a directory: OSError, as the system says
            try:
                with np.load(file, allow_pickle=False) as data:
                    fields = {key: data[key] for key in data.files}
            except Exception as exc:  # zipfile, zlib, format and seek errors: not a readable .npz
                raise ValueError(f"{path} is not a readable fastnn network file ({type(exc).__name__}: {exc})") from None

        def bad(what):
            return ValueError(f"{path} is not a valid fastnn network file: {what}")

        def text(name):
            value = fields.get(name)
            if value is None or value.shape != () or value.dtype.kind != "U":
                raise bad(f"{name} must be a string, got {value!r}")
            return str(value)

        if "format" not in fields or text("format") != _FORMAT:
            raise ValueError(f"{path} is not a fastnn network file (no '{_FORMAT}' format mark)")
        version = fields.get("format_version")
        if version is None or version.shape != () or version.dtype.kind not in "iu":
            raise bad(f"format_version must be an integer, got {version!r}")
        if int(version) != _FORMAT_VERSION:
            raise ValueError(f"{path} has format version {int(version)}; this fastnn reads version {_FORMAT_VERSION}")
        names = ["sizes", "dtype", "gradient", "weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output"]
        missing = [name for name in names if name not in fields]
        if missing:
            raise ValueError(f"{path} is missing {', '.join(missing)}")
        sizes = fields["sizes"]
        if sizes.shape != (3,) or sizes.dtype.kind not in "iu" or sizes.min() < 1:
            raise bad(f"sizes must be 3 positive integers, got {sizes!r}")
        f, h, o = sizes.tolist()
        # Every stored shape agrees with the sizes before anything is allocated from them.
        for name, shape in zip(names[3:], [(f, h), (1, h), (h, o), (1, o)]):
            if fields[name].shape != shape:
                raise bad(f"{name} must have shape {shape}, got {fields[name].shape}")
        try:
            # Built from a private generator: the file's weights replace the draws, and
            # NumPy's global state stays as it was.
            net = cls(f, h, o, seed=0, dtype=text("dtype"), gradient=text("gradient"))
            for name in names[3:]:
                if fields[name].dtype != net.dtype:
                    raise ValueError(f"{name} is stored as {fields[name].dtype}, the file says {net.dtype}")
                # Into the new network's own arrays (nobody else holds them yet).
                getattr(net, "_" + name)[...] = _check_param(name, fields[name], fields[name].shape, net.dtype)
        except (TypeError, ValueError) as exc:
            raise bad(str(exc)) from None
        net._rng = rng
        return net

    def _save_params(self):
        return [p.copy() for p in self._params()]

    def _restore_params(self, saved):
        for p, q in zip(self._params(), saved):
            p[...] = q

    def _params_finite(self):
        return all(np.isfinite(p).all() for p in self._params())

    def _find_divergence(self, run, losses, start, stop):
        """The first epoch in [start, stop) whose loss or update is not finite, from the state at `start`.

        The kernels are deterministic, so the chunk that diverged is replayed in
        halves (about 2 log2(stop - start) calls). Leaves the weights that epoch
        started from and the activations of its forward pass.
        """
        while stop - start > 1:
            middle = (start + stop) // 2
            saved = self._save_params()
            run(start, middle)
            if np.isfinite(losses[start:middle]).all() and self._params_finite():
                start = middle
            else:
                self._restore_params(saved)
                stop = middle
        saved = self._save_params()
        run(start, start + 1)
        self._restore_params(saved)
        return start

    def _diverged(self, epoch, what, lr):
        raise FloatingPointError(
            f"training diverged at epoch {epoch}: the {what} would be NaN or infinite "
            f"(learning_rate={lr!r} is probably too large). The network keeps the weights "
            f"that epoch started from; loss_history holds the {epoch} finite losses before it."
        )


def _next_chunk(chunk, elapsed):
    """The next amount of work: about _CHUNK_SECONDS of it, growing at most 8-fold."""
    return max(1, int(chunk * min(8.0, _CHUNK_SECONDS / max(elapsed, 1e-9))))


class _Report:
    """What train shows as it goes: the tutorial's lines (verbose=True), a progress bar, or nothing."""

    def __init__(self, verbose, epochs):
        self.lines = verbose is True
        self.bar = Progress(epochs) if verbose == "progress" and epochs else None

    def epochs(self, start, stop, losses):
        """Epochs [start, stop) are done."""
        if self.lines:
            # The tutorial's lines for these epochs, in one write.
            first = -(-start // 100) * 100
            lines = [f"Epoch {e}, Loss: {loss}" for e, loss in zip(range(first, stop, 100), losses[first:stop:100].tolist())]
            if lines:
                print("\n".join(lines))
        if self.bar and stop:
            self.bar.update(stop, losses[stop - 1])

    def partial(self, done, loss):
        """`done` epochs (a fraction) are done; `loss` is the running loss of the current one."""
        if self.bar:
            self.bar.update(done, loss)

    def close(self, losses):
        """Training ended after len(losses) epochs (nothing is drawn if it never started)."""
        if self.bar and self.bar.last_draw is not None:
            self.bar.update(len(losses), losses[-1] if len(losses) else None, final=True)


def _file_mode(path):
    """The permissions for a file written to `path`: those of the file it replaces, else 0o666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        pass
    try:  # the umask without changing it (Linux), as os.umask would for an instant, for every thread
        with open("/proc/self/status") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = 0o022
    return 0o666 & ~umask


class _DeferredInterrupt:
    """Holds Ctrl-C (SIGINT) while compiled work runs; re-delivers it between chunks.

    A compiled loop cannot be interrupted, and a KeyboardInterrupt raised at an
    arbitrary point of the Python loop around it could leave the network's
    attributes half-set. Inside this context the first SIGINT only sets
    ``pending``; on exit, after the state is consistent, the previous handler
    is restored and called, which raises KeyboardInterrupt as usual. Only the
    main thread can handle signals: elsewhere this does nothing.
    """

    def __init__(self):
        self.pending = False
        self._previous = None

    def _handler(self, signum, frame):
        self.pending = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = _signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                _signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._previous is not None:
            _signal.signal(signal.SIGINT, self._previous)
            if self.pending and exc_type is None:
                self._previous(signal.SIGINT, None)
        return False
