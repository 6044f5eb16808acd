"""How rows are cut and laid out for the kernels: blocks of samples, chunks of rows, aligned buffers.

Two layouts. The packed one (small data) stores every array transposed and
cut into blocks of samples, ``(units, n_blocks, width)``, so that each loop
over a block's samples runs over unit-stride memory and vectorizes; padding
columns past n_samples are zero and masked out. The row one (large data,
mini-batches, prediction) keeps the caller's C-ordered ``(n_samples, units)``
rows and cuts them into blocks of rows, and each block into chunks, one
thread's work. Every cut depends on the sizes alone, never on the number of
threads, so every sum is added in the same order whatever runs it.
"""

import math

import numpy as np

from . import _config


def blocks(n):
    """(n_blocks, width) for n samples: as few blocks as fit, of equal width, a multiple of 4."""
    n_blocks = -(-n // _config.MAX_BLOCK)
    width = -(-n // n_blocks)
    return n_blocks, -(-width // 4) * 4


def pack(rows):
    """(n, units) rows -> the kernels' (units, n_blocks, width) layout, zero-padded, in the same dtype."""
    n, units = rows.shape
    n_blocks, width = blocks(n)
    packed = np.zeros((units, n_blocks * width), rows.dtype)
    packed[:, :n] = rows.T
    return packed.reshape(units, n_blocks, width)


def unpack(packed, n):
    """The kernels' layout -> a (n, units) view, as the tutorial's attributes are shaped."""
    return packed.reshape(packed.shape[0], -1)[:, :n].T


def mask(n, dtype):
    """1.0 for the n real samples of the packed layout, 0.0 for the padding."""
    n_blocks, width = blocks(n)
    m = np.zeros(n_blocks * width, dtype)
    m[:n] = 1
    return m.reshape(1, n_blocks, width)


def block_rows(n, hidden_size):
    """Rows per block of the row layout: the block's (rows x hidden) buffers stay near BLAS_BLOCK_ELEMENTS."""
    return min(n, max(256, _config.BLAS_BLOCK_ELEMENTS // hidden_size))


def row_chunks(m, hidden_size, input_size):
    """[(first, stop)] of the chunks of m rows, of equal sizes, each with about CHUNK_ELEMENTS inputs or hidden activations.

    Sized by the wider of the two layers: with many features and few hidden
    units a chunk sized by the hidden layer alone held a whole block, and
    one core did all the work. A block of at least SPLIT_WORK
    multiply-adds in the first layer is cut into two chunks at least, so
    that a second thread pays for its wake-up.
    """
    per = max(1, _config.CHUNK_ELEMENTS // max(hidden_size, input_size))
    if m * hidden_size * input_size >= _config.SPLIT_WORK:
        per = min(per, -(-m // 2))
    return even_chunks(m, per)


def even_chunks(m, per, multiple=1):
    """[(first, stop)] of m rows cut into chunks of about `per` rows, of equal sizes rounded up to a multiple of `multiple`.

    An even number of chunks of equal size (unless one), so that two threads
    get equal shares, before the size is rounded up to `multiple`: then the
    last chunk is shorter and the count can come out odd. The cut depends on
    the sizes alone, never on the number of threads.
    """
    count = -(-m // per)
    count += count % 2 if count > 1 else 0
    size = -(-(-(-m // count)) // multiple) * multiple
    return [(first, min(m, first + size)) for first in range(0, m, size)]


def block_buffers(sizes, width, dtype):
    """Zeroed buffers of one packed block of `width` samples: (Xb, Yb, Mb), (hin, hout, oin, out), (hd, od)."""
    f, h, o = sizes
    shapes = [(f, 1, width), (o, 1, width), (1, 1, width)] + [(u, 1, width) for u in (h, h, o, o, h, o)]
    buffers = arena(shapes, np.dtype(dtype))
    return tuple(buffers[:3]), tuple(buffers[3:7]), tuple(buffers[7:])


def arena(shapes, dtype):
    """Zeroed buffers carved from one allocation, each starting on a 64-byte cache line.

    The kernels' small buffers are kept together this way: scattered small
    allocations made the tutorial's epoch time depend on where the allocator
    put them (docs/design.md).
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
