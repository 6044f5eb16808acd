"""The Dask path: full-batch training and prediction on ``dask.array`` arrays, on the workers where the chunks live.

Full-batch gradient descent is a sum over rows, so it distributes exactly,
as dask-glm's gradient descent does it: ``X`` and ``y`` are converted to
the network's dtype and persisted on the workers once; every epoch sends
the weights with one task per row chunk (``chunk_sums``: the chunk's loss
and gradient sums, computed by fastnn's row kernels on the worker), brings
back the sums, adds them in chunk order on the client and updates there.
The order of the chunks, not the number of workers or the order tasks end
in, fixes every sum, so the weights are the same for any number of workers
and from run to run; they equal training on the same rows in memory to
about 1e-10 (the sums are cut at other places). The tasks are pure: a
worker that dies is replaced, its chunks recomputed, and the weights are
the same.

Dask is optional (``pip install "fastnn[dask]"``): this module imports it
when a function here is called, and ``import fastnn`` never imports it.
The current ``distributed.Client`` is used if there is one, else Dask's
default scheduler.

Mini-batches are not distributed: each batch needs the weights the
previous one left, so the batches of an epoch cannot run side by side.
"""

import numpy as np

from . import _paths, _threads
from . import _validation as check
from ._kernels import _math, rows
from ._layout import block_rows, row_chunks

__all__ = ["chunk_sums", "read_npy"]

MINIBATCH_ERROR = (
    "batch_size must be None (full batch) for dask arrays: each mini-batch needs the weights the previous one "
    "left, so batches cannot run side by side on the workers, and every batch would be a round trip to the "
    "cluster. Train the full batch on the dask arrays, or write the data to a .npy file on one machine "
    "(fastnn.datasets.make_*(..., out=DIR)) and train mini-batches from np.load(path, mmap_mode='r')"
)


def _as_rows(block, dtype):
    with np.errstate(over="ignore"):  # too large for float32: inf, reported by the check
        return np.ascontiguousarray(block, dtype=dtype)


def _checked(name, value, n_cols, cols_what, dtype, chunks=None):
    """value (a dask array, or an array to cut into `chunks`) as a dask array of `dtype`, rows whole in each chunk."""
    import dask.array as da

    if not check.is_dask_array(value):
        value = check.matrix(name, value, n_cols, cols_what)
        value = da.from_array(np.asarray(value), chunks=(chunks, -1))
    if value.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got a dask array of shape {value.shape}")
    if np.isnan(value.shape[0]):
        raise ValueError(f"{name} must have a known number of rows; call {name}.compute_chunk_sizes() first")
    if value.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got a dask array of shape {value.shape}")
    if value.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns ({cols_what}), got a dask array of shape {value.shape}")
    if np.dtype(value.dtype).kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {value.dtype}")
    if chunks is not None and value.chunks[0] != chunks:
        value = value.rechunk({0: chunks})
    if len(value.chunks[1]) > 1:
        value = value.rechunk({1: -1})
    return value.map_blocks(_as_rows, dtype, dtype=dtype)


def chunk_sums(X, Y, params, rule):
    """(loss, (gW1, gb1, gW2, gb2)) of the rows X, Y: the summed loss and the float64 gradient sums, for the weights params.

    The row path's blocks and chunks (RowEpochs; with many inputs RowEpochs
    sums the W1 gradient by columns instead, equal to rounding), on the calling thread,
    BLAS on one thread: what a worker computes for one chunk of a dask
    array, from the weights sent with the task.
    """
    W1, _, W2, _ = params
    (f, h), o = W1.shape, W2.shape[1]
    if Y.flags.writeable:  # read-only, as the network passes its rows: the kernel type warmed in memory
        Y = Y.view()
        Y.flags.writeable = False
    n, step = X.shape[0], block_rows(X.shape[0], h)
    buffers, partials = _paths.row_buffers(step, (f, h, o), W1.dtype)
    sums = tuple(np.zeros(shape) for shape in [(f, h), (h,), (h, o), (o,)])
    total = 0.0
    with _threads.one_blas_thread(), np.errstate(all="ignore"):
        for start in range(0, n, step):
            Xb, Yb = X[start : start + step], Y[start : start + step]
            bounds = row_chunks(Xb.shape[0], h, f)
            for c, (first, stop) in enumerate(bounds):
                total += _paths.chunk_loss(Xb[first:stop], Yb[first:stop], params, buffers, partials, c, first, rule)
            rows.fold_chunk_sums(len(bounds), partials, sums, start == 0)
    return total, sums


class DaskEpochs:
    """Full-batch epochs on persisted dask arrays: one chunk_sums task per row chunk, the sums added in chunk order here."""

    def __init__(self, net, X, Y, binary, lr):
        self.net, self.lr, self.rule, self.n = net, lr, _paths._rule(net, binary), X.shape[0]
        self.client = _client()
        if self.client is not None:
            # The persisted chunks' futures, in chunk order: one submit per
            # chunk an epoch, without building and optimizing a graph (which
            # took 10 times the chunks' own time on small chunks).
            from distributed import futures_of

            def chunk_futures(A):
                futures = {f.key: f for f in futures_of(A)}
                return [futures[row[0]] for row in A.__dask_keys__()]

            self.parts = list(zip(chunk_futures(X), chunk_futures(Y)))
        else:
            self.parts = list(zip(X.to_delayed().ravel(), Y.to_delayed().ravel()))

    def _sums(self, weights):
        """Every chunk's (loss, sums) for the weights, in chunk order."""
        if self.client is not None:
            futures = [self.client.submit(chunk_sums, x, y, weights, self.rule, pure=False) for x, y in self.parts]
            return self.client.gather(futures)
        import dask

        return dask.compute(*[dask.delayed(chunk_sums, pure=True)(x, y, weights, self.rule) for x, y in self.parts])

    def run(self, losses, start, stop, interrupt):
        net, o = self.net, self.net.output_size
        params, sums = net._params(), net._sums
        for e in range(start, stop):
            if interrupt is not None and interrupt.pending:
                return e
            weights = tuple(p.copy() for p in params)  # what the tasks get: not changed under them
            results = self._sums(weights)
            total = 0.0
            for s in sums:
                s[...] = 0
            for loss, part in results:  # in chunk order
                total += loss
                for s, p in zip(sums, part):
                    s += p
            losses[e] = total / (self.n * o)
            _math.apply_gradients(params, sums, self.lr)
        return stop

    def keep_activations(self):
        self.net._keep((None,) * 4)  # on the workers: no activation attribute is set


def _client():
    """The distributed.Client that dask.compute would use now, or None (no distributed, no client, or another scheduler set)."""
    import dask

    if dask.config.get("scheduler", None) not in (None, "dask.distributed", "distributed"):
        return None
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def runner(net, X, y, lr, batch_size):
    """The runner of net.train on dask arrays (the scalars checked): full batch on the workers."""
    import dask
    import dask.array as da

    if batch_size is not None:
        raise ValueError(MINIBATCH_ERROR)
    X = _checked("X", X, net.input_size, "input_size", net.dtype)
    Y = _checked("y", y, net.output_size, "output_size", net.dtype, chunks=X.chunks[0])
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} rows, one per row of X, got {Y.shape[0]}")
    X, Y = dask.persist(X, Y)  # converted once, kept on the workers for every epoch
    finite, low, high, binary = dask.compute(
        da.isfinite(X).all(), Y.min(), Y.max(), ((Y == 0) | (Y == 1)).all()
    )
    if not finite:
        raise ValueError(f"X must be finite in {net.dtype}, got NaN or infinity")
    if not np.isfinite(low + high):
        raise ValueError(f"y must be finite in {net.dtype}, got NaN or infinity")
    if low < 0 or high > 1:
        raise ValueError(f"y must hold targets in [0, 1], got values from {low} to {high}")
    return DaskEpochs(net, X, Y, bool(binary), lr)


def _predict_chunk(X, params):
    X = _as_rows(X, params[0].dtype).view()
    X.flags.writeable = False  # as the network passes its rows: one compiled variant
    return _paths.predict(X, params)


def predict_proba(net, X):
    """The network's output for the dask array X: a dask array, computed chunk by chunk where X's chunks are."""
    X = _checked("X", X, net.input_size, "input_size", net.dtype)
    with _threads.whole_epochs(net) as params:  # not the live arrays of a training in another thread
        params = tuple(p.copy() for p in params)
    return X.map_blocks(_predict_chunk, params, dtype=net.dtype, chunks=(X.chunks[0], (net.output_size,)))


def score(net, X, y):
    """Accuracy on dask arrays, computed on the workers."""
    import dask.array as da

    proba = predict_proba(net, X)
    if not check.is_dask_array(y):
        y = da.from_array(np.asarray(check.matrix("y", y, net.output_size, "output_size", X.shape[0])),
                          chunks=(proba.chunks[0], -1))
    right, labels = da.all((proba > 0.5) == y, axis=1).mean(), da.all((y == 0) | (y == 1))
    right, labels = da.compute(right, labels)
    if not labels:
        raise ValueError("y must hold labels 0 or 1 to be scored, got other values")
    return float(right)


def _read_rows(path, first, stop):
    return np.array(np.load(path, mmap_mode="r")[first:stop])


def read_npy(path, chunks=1 << 18):
    """A .npy file as a dask array of `chunks` rows a chunk, each read by the worker that uses it (from a file all workers see).

    Parameters
    ----------
    path : str or path-like
    chunks : int
        Rows per chunk.
    """
    import os

    import dask
    import dask.array as da

    path = os.path.abspath(path)
    head = np.load(path, mmap_mode="r")
    chunks = check.check_size("chunks", chunks)
    n, rest = head.shape[0], head.shape[1:]
    parts = [
        da.from_delayed(dask.delayed(_read_rows, pure=True)(path, first, min(n, first + chunks)),
                        (min(n, first + chunks) - first, *rest), head.dtype)
        for first in range(0, n, chunks)
    ]
    return da.concatenate(parts, axis=0)
