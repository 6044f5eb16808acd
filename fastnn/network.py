"""SimpleNeuralNetwork: the tutorial's network, running on fastnn's kernels.

The class checks its input once, at the public boundary, owns the weights and
calls the kernels of ``_kernels.py``; it has no numerical loops of its own.
"""

import math
import numbers
import signal
import threading
import time

import numpy as np

from . import _kernels
from .functions import _clip_bounds

_DTYPES = {np.dtype(np.float32), np.dtype(np.float64)}
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
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in _DTYPES:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    return dt


# Samples per block at most: a block's activations stay in cache, and the
# loops over a block are long enough to vectorize.
_MAX_BLOCK = 256


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


def _check_matrix(name, value, n_cols, cols_what, dtype, n_rows=None):
    """Validate a 2-D numeric array and return it in the kernels' packed layout, as `dtype`."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a 2-dimensional numeric array, got {type(value).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got an array of shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got an array of shape {arr.shape}")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows, one per row of X, got {arr.shape[0]}")
    if arr.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns ({cols_what}), got an array of shape {arr.shape}")
    out = _pack(arr.T, dtype)
    # Integers and bools are finite in float32 too; floats may not be.
    if arr.dtype.kind == "f" and not np.isfinite(out).all():
        raise ValueError(f"{name} must be finite in {dtype}, got NaN or infinity")
    return out, arr.shape[0]


def _check_targets(y, n_rows, output_size, dtype):
    """Validate y; return it packed, and whether every target is exactly 0 or 1."""
    Y, _ = _check_matrix("y", y, output_size, "output_size", dtype, n_rows=n_rows)
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


def _weight_property(attr, rows, cols):
    """A weight attribute: assigning copies the values into the network's own array."""

    def fget(self):
        return getattr(self, attr)

    def fset(self, value):
        name = attr.lstrip("_")
        shape = (getattr(self, rows) if isinstance(rows, str) else rows, getattr(self, cols))
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} must be a numeric array of shape {shape}, got {type(value).__name__} ({exc})") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        with np.errstate(over="ignore"):
            arr = np.array(arr, dtype=self.dtype, order="C")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite in {self.dtype}, got NaN or infinity")
        # In place: the parameters live in the network's arena.
        getattr(self, attr)[...] = arr

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
    loss_history : ndarray of shape (n_epochs,)
        The losses of the last ``train`` call, up to where it stopped.
    """

    weights_input_hidden = _weight_property("_weights_input_hidden", "input_size", "hidden_size")
    weights_hidden_output = _weight_property("_weights_hidden_output", "hidden_size", "output_size")
    bias_hidden = _weight_property("_bias_hidden", 1, "hidden_size")
    bias_output = _weight_property("_bias_output", 1, "output_size")

    def __init__(self, input_size, hidden_size, output_size, *, seed=None, dtype=np.float64):
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.output_size = _check_size("output_size", output_size)
        self.dtype = _check_dtype(dtype)
        if seed is None:
            randn = np.random.randn
        elif isinstance(seed, np.random.Generator):
            randn = lambda *shape: seed.standard_normal(shape)  # noqa: E731
        elif isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)):
            rng = np.random.default_rng(seed)
            randn = lambda *shape: rng.standard_normal(shape)  # noqa: E731
        else:
            raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {seed!r}")
        f, h, o = self.input_size, self.hidden_size, self.output_size
        # The parameters and their gradient sums.
        shapes = [(f, h), (1, h), (h, o), (1, o), (f, h), (h,), (h, o), (o,)]
        (self._weights_input_hidden, self._bias_hidden, self._weights_hidden_output, self._bias_output,
         *self._workspace) = _arena(shapes, self.dtype)
        # The tutorial's draws, in the tutorial's order.
        self.weights_input_hidden = randn(self.input_size, self.hidden_size)
        self.weights_hidden_output = randn(self.hidden_size, self.output_size)
        self.bias_hidden = np.zeros((1, self.hidden_size))
        self.bias_output = np.zeros((1, self.output_size))
        self.hidden_input = self.hidden_output = self.output_input = self.output = None
        self.loss_history = np.empty(0)

    def __repr__(self):
        return (
            f"SimpleNeuralNetwork({self.input_size}, {self.hidden_size}, {self.output_size}, "
            f"dtype=numpy.{self.dtype.name})"
        )

    def _params(self):
        return self._weights_input_hidden, self._bias_hidden, self._weights_hidden_output, self._bias_output

    def _activations(self, n):
        """Packed buffers for hidden_input, hidden_output, output_input, output and the two deltas."""
        h, o, blocks = self.hidden_size, self.output_size, _blocks(n)
        return _arena([(h, *blocks), (h, *blocks), (o, *blocks), (o, *blocks), (h, *blocks), (o, *blocks)], self.dtype)

    def _set_activations(self, n, hin, hout, oin, out, *deltas):
        # The tutorial's (samples, units) attributes are views of the packed buffers.
        self.hidden_input, self.hidden_output = _unpack(hin, n), _unpack(hout, n)
        self.output_input, self.output = _unpack(oin, n), _unpack(out, n)

    def forward(self, X):
        """Forward pass; sets the activation attributes as the tutorial does.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)

        Returns
        -------
        output : ndarray of shape (n_samples, output_size)
        """
        X, n = _check_matrix("X", X, self.input_size, "input_size", self.dtype)
        acts = self._activations(n)
        _kernels._forward(X, *self._params(), *acts[:4])
        self._set_activations(n, *acts)
        return self.output

    def backward(self, X, y, learning_rate):
        """One gradient step with the tutorial's rule, from the last forward pass.

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
        _kernels._backward(X, Y, _mask(n, self.dtype), *self._params(), lr, hout, out, *deltas, *self._workspace)
        if not self._params_finite():
            self._restore_params(saved)
            raise FloatingPointError(
                f"backward: the update would make the weights NaN or infinite (learning_rate={lr!r} is "
                "probably too large); the weights are unchanged"
            )

    def train(self, X, y, epochs, learning_rate, verbose=True):
        """Full-batch gradient descent, the epoch loop in compiled code.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
        y : array_like of shape (n_samples, output_size)
            Targets in [0, 1].
        epochs : int
            Number of full-batch steps, 0 or more.
        learning_rate : float
            Finite and positive.
        verbose : bool, default True
            Print the tutorial's ``Epoch {epoch}, Loss: {loss}`` every 100
            epochs, as training proceeds.

        Returns
        -------
        losses : ndarray of shape (epochs,)
            The loss of each epoch, computed as the tutorial does from the
            output of that epoch's forward pass, before its update. Also kept
            as ``loss_history``.

        Raises
        ------
        FloatingPointError
            If an epoch's loss, or the weights its update would give, are not
            finite (the learning rate is too large). The network keeps the
            weights that epoch started from; ``loss_history`` holds the
            losses of the epochs before it.
        KeyboardInterrupt
            On Ctrl-C, within about 0.1 s, after a whole epoch: the weights,
            the activations and ``loss_history`` are those of the epochs done.
        """
        X, n = _check_matrix("X", X, self.input_size, "input_size", self.dtype)
        Y, binary = _check_targets(y, n, self.output_size, self.dtype)
        epochs = _check_epochs(epochs)
        lr = _check_learning_rate(learning_rate)
        lo, hi = _clip_bounds(self.dtype)
        losses = np.empty(epochs)
        if epochs == 0:
            self.loss_history = losses
            return losses
        acts = self._activations(n)
        mask = _mask(n, self.dtype)

        def run(start, stop):
            _kernels._train(X, Y, mask, *self._params(), lr, lo, hi, binary, losses[start:stop], *acts, *self._workspace)

        # The first chunk is sized from the work per epoch (about 1 ns per
        # multiply-add: a few milliseconds), later ones from measured time.
        work = X.shape[1] * X.shape[2] * (self.hidden_size * (self.input_size + self.output_size + 2) + self.output_size)
        done, chunk = 0, max(1, _FIRST_CHUNK_WORK // work)
        with _DeferredInterrupt() as interrupt:
            while done < epochs and not interrupt.pending:
                stop = min(epochs, done + chunk)
                saved = self._save_params()
                start_time = time.perf_counter()
                run(done, stop)
                elapsed = time.perf_counter() - start_time
                diverged = not (np.isfinite(losses[done:stop]).all() and self._params_finite())
                if diverged:
                    self._restore_params(saved)
                    stop = self._find_divergence(run, losses, done, stop)
                if verbose:
                    # The tutorial's lines for this chunk, in one write.
                    first = -(-done // 100) * 100
                    lines = [f"Epoch {e}, Loss: {loss}" for e, loss in zip(range(first, stop, 100), losses[first:stop:100].tolist())]
                    if lines:
                        print("\n".join(lines))
                self._set_activations(n, *acts)
                self.loss_history = losses[:stop]
                if diverged:
                    self._diverged(stop, losses, lr)
                # Next chunk: about _CHUNK_SECONDS of work, growing at most 8-fold.
                chunk = max(1, int(chunk * min(8.0, _CHUNK_SECONDS / max(elapsed, 1e-9))))
                done = stop
        return losses

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

    def _diverged(self, epoch, losses, lr):
        what = "loss" if not np.isfinite(losses[epoch]) else "weights after the update"
        raise FloatingPointError(
            f"training diverged at epoch {epoch}: the {what} would be NaN or infinite "
            f"(learning_rate={lr!r} is probably too large). The network keeps the weights "
            f"that epoch started from; loss_history holds the {epoch} finite losses before it."
        )


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
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            if self.pending and exc_type is None:
                self._previous(signal.SIGINT, None)
        return False
