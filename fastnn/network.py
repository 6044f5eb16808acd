"""SimpleNeuralNetwork: the tutorial's network, its attributes and public methods.

Each method checks its arguments first (``_validation``), so that a bad one
leaves the network as it was; then picks the path from the checked shape
and runs it (``_paths``, driven by ``_training`` for train); then sets the
attributes. The numbers are computed by the kernels of ``_kernels``.
"""

import contextlib
import sys
import threading

import numpy as np

from . import _disk, _io, _kernels, _paths, _training
from . import _validation as check
from ._layout import arena
from ._threads import exclusive, whole_epochs


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

    @exclusive
    def fset(self, value):
        shape = (getattr(self, rows) if isinstance(rows, str) else rows, getattr(self, cols))
        arr = check.param(attr.lstrip("_"), value, shape, self.dtype)
        own = arena([shape], self.dtype)[0]  # on cache lines of its own, as the arena's buffers
        own[...] = arr
        setattr(self, attr, own)

    return property(fget, fset)


def _activation_property(index, name):
    """An activation attribute; after large-data training it is computed when first read."""

    def fget(self):
        if self._pending is not None:
            with self._lock:
                self._materialize()
        return self._acts[index]

    @exclusive
    def fset(self, value):
        self._materialize()
        acts = list(self._acts)
        acts[index] = value
        self._acts = tuple(acts)

    return property(fget, fset, doc=f"{name} of the last forward pass (None before the first).")


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
        self._lock = threading.RLock()  # held by every call that changes the network (see _exclusive)
        self._published = None  # while train runs: a copy of the parameters of whole epochs (see whole_epochs)
        self.input_size = check.check_size("input_size", input_size)
        self.hidden_size = check.check_size("hidden_size", hidden_size)
        self.output_size = check.check_size("output_size", output_size)
        self.dtype = check.check_dtype(dtype)
        check.check_network_arrays(self._sizes(), self.dtype)  # before anything is allocated or drawn
        self.gradient = check.check_choice("gradient", gradient, check.GRADIENTS)
        self._rng = check.resolve_seed(seed)
        if self._rng is None:
            randn = np.random.randn  # NumPy's global state, as the tutorial
        else:
            randn = lambda *shape: self._rng.standard_normal(shape)  # noqa: E731
        f, h, o = self._sizes()
        # The parameters, then their gradient sums, which are float64 whatever
        # the dtype: over many samples float32 sums would lose precision.
        shapes, sums = [(f, h), (1, h), (h, o), (1, o)], [(f, h), (h,), (h, o), (o,)]
        if self.dtype == np.float64:
            buffers = arena(shapes + sums, self.dtype)
        else:
            buffers = arena(shapes, self.dtype) + arena(sums, np.dtype(np.float64))
        self._weights_input_hidden, self._bias_hidden, self._weights_hidden_output, self._bias_output = buffers[:4]
        self._sums = tuple(buffers[4:])
        # The tutorial's draws, in the tutorial's order; the biases are zero from the arena.
        self._weights_input_hidden[...] = randn(f, h)
        self._weights_hidden_output[...] = randn(h, o)
        self._acts, self._pending = (None, None, None, None), None
        self.loss_history = np.empty(0)

    def __repr__(self):
        gradient = "" if self.gradient == "tutorial" else f", gradient={self.gradient!r}"
        return (
            f"SimpleNeuralNetwork({self.input_size}, {self.hidden_size}, {self.output_size}, "
            f"dtype=numpy.{self.dtype.name}{gradient})"
        )

    def __getstate__(self):  # copy, deepcopy, pickle: without the lock (a new one on the copy)
        state = dict(self.__dict__, _published=None)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # The engine's view of the network.

    def _sizes(self):
        return self.input_size, self.hidden_size, self.output_size

    def _params(self):
        return self._weights_input_hidden, self._bias_hidden, self._weights_hidden_output, self._bias_output

    def _keep(self, acts, pending=None):
        """Set the activation attributes, or leave them to be computed from pending = (X, params) when read."""
        self._acts, self._pending = acts, pending

    def _materialize(self):
        if self._pending is not None:
            X, params = self._pending
            # By forward's own kernel for X, so that forward(X) gives the same bits.
            self._keep(_paths.forward_rows(X, params) if self._uses_rows(X) else _paths.forward_packed(X, params))

    def _rows(self, X):
        return check.data("X", X, self.input_size, "input_size", self.dtype)

    def _no_dask(self, method, X):
        if check.is_dask_array(X):
            raise TypeError(
                f"{method} sets the activation attributes, in-memory arrays of n_samples rows: it takes no dask "
                "array; use predict_proba (a dask array, computed on the workers) or compute X first"
            )

    def _uses_rows(self, X):
        return _paths.uses_rows(X.shape[0], self._sizes(), self.dtype)

    # The tutorial's methods.

    @exclusive
    def forward(self, X):
        """Forward pass; sets the activation attributes as the tutorial does.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)

        Returns
        -------
        output : ndarray of shape (n_samples, output_size)
        """
        self._no_dask("forward", X)
        X = self._rows(X)
        params = self._params()
        self._keep(_paths.forward_rows(X, params) if self._uses_rows(X) else _paths.forward_packed(X, params))
        return self.output

    @exclusive
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
        self._no_dask("backward", X)
        X = _disk.in_memory(self._rows(X))  # its activations are in memory: so is X
        n = X.shape[0]
        Y, _ = check.targets(y, n, self.output_size, self.dtype)
        Y = _disk.in_memory(Y)
        lr = check.check_learning_rate(learning_rate)
        if self.output is None or self.hidden_output is None:
            raise RuntimeError("backward needs the activations of a forward pass: call forward(X) first")
        hout = check.rows("hidden_output", self.hidden_output, self.hidden_size, "hidden_size", self.dtype, n)
        out = check.rows("output", self.output, self.output_size, "output_size", self.dtype, n)
        saved = [p.copy() for p in self._params()]
        _paths.backward_packed(self, X, Y, hout, out, lr)
        if not all(np.isfinite(p).all() for p in self._params()):
            for p, q in zip(self._params(), saved):
                p[...] = q
            raise FloatingPointError(
                f"backward: the update would make the weights NaN or infinite (learning_rate={lr!r} is "
                "probably too large); the weights are unchanged"
            )

    @exclusive
    def train(self, X, y, epochs, learning_rate, verbose=True, *, batch_size=None, shuffle=True):
        """Gradient descent, the epoch loop in compiled code.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
            A memory-mapped array (``np.memmap``, ``np.load(path,
            mmap_mode="r")`` or a view of one), of any real dtype and
            layout, is read from its file a block of rows at a time and
            converted block by block, never whole, with the same results
            as the same rows in memory.
        y : array_like of shape (n_samples, output_size)
            Targets in [0, 1]; memory-mapped as X may be.

            Or X and y as ``dask.array`` arrays (their row chunks aligned):
            the full-batch epochs then run on the cluster (the current
            ``distributed.Client``, else Dask's default scheduler), each
            chunk's loss and gradient sums where the chunk lives, added in
            chunk order; the weights equal in-memory training to about
            1e-10 for any number of workers, and no activation attribute is
            set. Mini-batches on dask arrays raise ValueError.
        epochs : int
            Number of passes over the data, 0 or more (at most 2**60 - 1 on a
            64-bit system: the losses are kept in one float64 array).
        learning_rate : float
            Finite and positive. Each step subtracts ``learning_rate`` times
            the gradient summed (not averaged) over the samples of the batch.
        verbose : True (default), False or "progress"
            True prints the tutorial's ``Epoch {epoch}, Loss: {loss}`` every
            100 epochs, as training proceeds; "progress" draws a progress bar
            (epochs, loss, time spent and left) on stderr instead.
        batch_size : int or None, keyword-only
            None (default) is the tutorial's full batch: one step per epoch.
            An int makes a step after every `batch_size` samples (at most
            2**63 - 1; more than n_samples is one batch of all). Mini-batch
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
        OSError
            If the file of a memory-mapped X or y is truncated or changed
            while training reads it (checked before every block is read).
            The network keeps the weights of the last whole epoch and
            ``loss_history`` its losses.
        KeyboardInterrupt
            On Ctrl-C, soon, with the network consistent: after a whole epoch
            (full batch on small data, within about 0.1 s), after the running
            block of rows, dropping the epoch it cuts short (full batch on
            large data), or after a whole batch (mini-batches, whose
            ``loss_history`` holds the whole epochs done). If the program's
            own SIGINT handler does not raise, train returns the losses of
            the epochs done.
        """
        epochs = check.check_epochs(epochs)
        lr = check.check_learning_rate(learning_rate)
        verbose = check.check_verbose(verbose)
        batch_size = check.check_batch_size(batch_size)
        shuffle = check.check_flag("shuffle", shuffle)
        report = _training.Report(verbose, epochs)
        runner = self._runner(X, y, lr, batch_size, shuffle, report)
        # With a progress bar the wait for a first compilation is announced on stderr too.
        told = _kernels.announcing(sys.stderr) if verbose == "progress" else contextlib.nullcontext()
        try:
            with told:
                return _training.train(self, runner, epochs, lr, report)
        finally:
            report.close()  # also on an error or Ctrl-C

    def _runner(self, X, y, lr, batch_size, shuffle, report):
        """The runner of train's path, with X and y checked and laid out for it."""
        if check.is_dask_array(X) or check.is_dask_array(y):
            from . import dask as _dask

            return _dask.runner(self, X, y, lr, batch_size)
        X = self._rows(X)
        Y, binary = check.targets(y, X.shape[0], self.output_size, self.dtype)
        if batch_size is not None:
            batch = min(batch_size, X.shape[0])  # one batch of every row (the kernels add it to row indices)
            return _paths.BatchEpochs(self, X, Y, binary, lr, batch, shuffle, report)
        path = _paths.plan(X.shape[0], self._sizes(), self.dtype)
        if path == "stream" and _disk.on_disk(X, Y):
            path = "rows"  # read from the file a block at a time
        runner = {"rows": _paths.RowEpochs, "stream": _paths.StreamEpochs, "few": _paths.FewRowsEpochs,
                  "packed": _paths.PackedEpochs}
        return runner[path](self, X, Y, binary, lr)

    # Beyond the tutorial.

    def predict_proba(self, X):
        """The network's output for X, without changing any attribute of the network.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
            A memory-mapped array is read from its file block by block; a
            dask array gives a dask array, computed chunk by chunk on the
            workers.

        Returns
        -------
        proba : ndarray of shape (n_samples, output_size), of the network's dtype
        """
        if check.is_dask_array(X):
            from . import dask as _dask

            return _dask.predict_proba(self, X)
        X = self._rows(X)
        with whole_epochs(self) as params:
            return _paths.predict(X, tuple(params))

    def predict(self, X, threshold=0.5):
        """Class labels: 1 where the output is above `threshold`, else 0.

        Returns
        -------
        labels : ndarray of int64, shape (n_samples, output_size)
        """
        threshold = check.check_threshold(threshold)
        return (self.predict_proba(X) > threshold).astype(np.int64)

    def score(self, X, y):
        """Accuracy: the fraction of samples whose every output is on the right side of 0.5.

        Parameters
        ----------
        X : array_like of shape (n_samples, input_size)
        y : array_like of shape (n_samples, output_size)
            Labels, each 0 or 1.
        """
        if check.is_dask_array(X):
            from . import dask as _dask

            return _dask.score(self, X, y)
        X = self._rows(X)
        labels = check.labels(y, X.shape[0], self.output_size)
        return float(np.mean(np.all(self.predict(X) == labels, axis=1)))

    def save(self, path):
        """Write the network to `path` (an ``.npz`` file, the name used as given).

        The file holds a format version, the sizes, the dtype, the gradient
        rule and the four parameters. It is written to a temporary file in the
        same directory and renamed over `path`, so that a crash never leaves a
        partial file where a good one was. On Linux the temporary file is
        unnamed (O_TMPFILE) until it is whole, so a killed save leaves nothing;
        elsewhere the next save of `path` removes what killed saves left. A
        replaced file keeps its permissions.

        Raises
        ------
        OSError
            If the directory is missing or cannot be written (the error names
            the directory), or `path` is a directory.
        """
        with whole_epochs(self) as params:
            _io.save(self, path, params)

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
            damaged (the message names the file and the damaged member), or
            its parts do not agree with each other. Nothing is unpickled.
        OSError
            If `path` cannot be read: missing, a directory, no permission.
        """
        return _io.load(cls, path, seed)
