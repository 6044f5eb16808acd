"""Rows of a memory-mapped file, read a block at a time and converted to the network's dtype as they are read.

A memory-mapped ``X`` or ``y`` (``np.memmap``, ``np.load(path,
mmap_mode="r")``, or a view of one) is never converted whole: the public
methods wrap it in ``FileRows``, and the paths read it through ``Blocks``,
which hands out C-ordered blocks of the network's dtype, the next one read
on a thread of its own while the kernels (which release the GIL) compute
the current one. The blocks are the ones the paths cut in memory, so the
numbers are bitwise the same as from the same rows in memory.

The file is checked (``os.stat``: size, modification time, inode) before
every block is read: a file truncated under a memory map kills the process
with SIGBUS when a page past its new end is touched, so a truncation must be
seen before the read. A change raises ``FileChangedError`` (an ``OSError``).
"""

import mmap
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _config


class FileChangedError(OSError):
    """The file behind a memory-mapped X or y was truncated or changed while fastnn read it."""


def mapped(arr):
    """The memory map behind arr (an np.memmap or mmap.mmap, arr itself or on its base chain), or None."""
    a = arr
    while a is not None:
        if isinstance(a, (np.memmap, mmap.mmap)):
            return a
        a = getattr(a, "base", None)
    return None


class FileRows:
    """Checked (n_rows, n_cols) rows held in a memory-mapped file, of any real dtype and layout.

    ``read(first, stop, out)`` converts rows [first, stop) into `out`
    (C-ordered, the network's dtype); ``take(index, out)`` the rows at the
    sorted `index`. Both check the file first.
    """

    def __init__(self, name, array, dtype):
        self.name, self.array, self.dtype = name, array, np.dtype(dtype)
        self.shape = array.shape
        self.came = array.dtype
        # Already C-ordered rows of the dtype: a block can be a view of the file.
        self.native = array.dtype == self.dtype and array.flags.c_contiguous
        m = mapped(array)
        self.path = getattr(m, "filename", None) if isinstance(m, np.memmap) else None
        self.stamp = self._stat()

    def __len__(self):
        return self.shape[0]

    def _stat(self):
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise FileChangedError(f"{self.name}: cannot read its file {self.path} any more ({exc})") from None
        return st.st_size, st.st_mtime_ns, st.st_ino

    def check(self):
        """Raise FileChangedError if the file is not the one that was opened (size, time or inode differ)."""
        if self.path is not None and self._stat() != self.stamp:
            size = os.stat(self.path).st_size
            raise FileChangedError(
                f"{self.name}: its file {self.path} was truncated or changed while fastnn read it "
                f"(size {self.stamp[0]:,} bytes when opened, now {size:,}); "
                "the network keeps the weights of the last whole epoch"
            )

    def empty(self, rows):
        return np.empty((rows, self.shape[1]), self.dtype)

    def read(self, first, stop, out=None):
        self.check()
        out = self.empty(stop - first) if out is None else out[: stop - first]
        with np.errstate(over="ignore", invalid="ignore"):  # too large for float32: inf, reported by the checks
            np.copyto(out, self.array[first:stop], casting="unsafe")
        return out

    def view(self, first, stop):
        """Rows [first, stop) as a read-only view of the mapping (native files only), its pages touched.

        Touching one value a page on the reader thread makes the kernel read
        the block from disk there, ahead of the products that use it; from
        the page cache it costs next to nothing. No copy: a copy took 40% of
        a full-batch epoch on two cores (docs/design.md).
        """
        self.check()
        block = np.asarray(self.array[first:stop])
        flat = block.reshape(-1)
        with np.errstate(all="ignore"):
            np.add.reduce(flat[:: max(1, 4096 // flat.itemsize)])
        return block

    def take(self, index, out=None):
        self.check()
        out = self.empty(len(index)) if out is None else out[: len(index)]
        with np.errstate(over="ignore", invalid="ignore"):
            np.copyto(out, np.take(self.array, index, axis=0), casting="unsafe")
        return out

    def whole(self):
        return self.read(0, self.shape[0])

    def spans(self):
        """[(first, stop)] of the blocks of about DISK_BLOCK_ELEMENTS values that the checks read."""
        step = max(1, _config.DISK_BLOCK_ELEMENTS // max(1, self.shape[1]))
        return [(first, min(self.shape[0], first + step)) for first in range(0, self.shape[0], step)]


def in_memory(X):
    """X as an ndarray: a FileRows read whole (for small data only), read-only as rows in memory reach the kernels."""
    return _read_only(X.whole()) if isinstance(X, FileRows) else X


def on_disk(*arrays):
    return any(isinstance(a, FileRows) for a in arrays)


class Gather:
    """A request for the rows order[first:stop] of an epoch's order: read sorted, with where[i] the buffer row of order[first + i]."""

    def __init__(self, order, first, stop):
        self.order, self.first, self.stop = order, first, stop

    def plan(self):
        part = self.order[self.first : self.stop]
        sort = np.argsort(part, kind="stable")
        where = np.empty_like(sort)
        where[sort] = np.arange(len(sort))
        return part[sort], where


class Blocks:
    """The blocks of `sources` (ndarrays or FileRows) named by `requests`, in turn; a context manager.

    A request is (first, stop), rows first to stop, or a Gather (the item
    then ends with its `where`, the positions that put the rows back in the
    order's order; the sorting is done on the reader thread too). Each
    item is a tuple, one array per source: a view of an ndarray, or the rows
    of a FileRows read into one of two buffers, the next request read on a
    reader thread while the caller uses the current one. An item is valid
    until the next one is asked for.
    """

    def __init__(self, sources, requests, views=()):
        self.sources, self.requests = sources, requests
        # The sources (by index) that only feed NumPy's products, which take a
        # read-only array: a native file is then viewed, not copied. (A
        # compiled kernel would be compiled again for a read-only type.)
        self.views = views
        self.disk = on_disk(*sources)
        self.buffers = [[None] * len(sources), [None] * len(sources)]
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="fastnn-reader") if self.disk else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return False

    def _read(self, request, slot):
        where = None
        if isinstance(request, Gather):
            request, where = request.plan()
        rows = request[1] - request[0] if isinstance(request, tuple) else len(request)
        out = []
        for i, source in enumerate(self.sources):
            if isinstance(source, FileRows):
                buffer = self.buffers[slot][i]
                viewed = isinstance(request, tuple) and i in self.views and source.native
                if not viewed and (buffer is None or buffer.shape[0] < rows):
                    buffer = self.buffers[slot][i] = source.empty(rows)
                if isinstance(request, tuple) and i in self.views and source.native:
                    out.append(source.view(*request))
                elif isinstance(request, tuple):
                    out.append(_read_only(source.read(*request, buffer)))
                else:
                    out.append(_read_only(source.take(request, buffer)))
            else:
                out.append(source[request[0] : request[1]] if isinstance(request, tuple) else source[request])
        return tuple(out) if where is None else (*out, where)

    def __iter__(self):
        if not self.disk:
            for request in self.requests:
                yield self._read(request, 0)
            return
        requests, slot = iter(self.requests), 0
        try:
            pending = self.pool.submit(self._read, next(requests), slot)
        except StopIteration:
            return
        for request in requests:
            current = pending.result()
            slot ^= 1  # the caller is done with the block before this one: its buffers are free
            pending = self.pool.submit(self._read, request, slot)
            yield current
        yield pending.result()


def _read_only(block):
    """A read-only view of a block read into a buffer: the type the kernels get for rows in memory (one variant)."""
    block = block.view()
    block.flags.writeable = False
    return block


def check_finite(X):
    """Whether every value of the FileRows X is finite in its dtype, read block by block."""
    if X.came.kind != "f":
        return True
    with Blocks((X,), X.spans()) as blocks:
        return all(np.isfinite(b).all() for (b,) in blocks)


def target_range(Y):
    """(min, max, every value 0 or 1) of the FileRows Y, read block by block."""
    low, high, binary = np.inf, -np.inf, True
    with Blocks((Y,), Y.spans()) as blocks:
        for (b,) in blocks:
            low, high = min(low, b.min()), max(high, b.max())
            binary = binary and bool(np.all((b == 0) | (b == 1)))
    return low, high, binary
