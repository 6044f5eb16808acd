"""fastnn's settings, in one place: sizes that choose a path and cut the work, and the compiler's options.

The engine reads these at call time (``_config.CHUNK_ELEMENTS``, never a
copy taken at import), so a test may patch them here; the compiler options
are read once, when the kernels are decorated. Why each value is what it is
is measured in docs/design.md.
"""

import contextlib

# Samples per block of the packed layout, at most: a block's activations stay
# in cache, and the loops over a block are long enough to vectorize.
MAX_BLOCK = 256

# From this many multiply-adds per epoch in the two dense layers
# (n_samples x hidden_size x (input_size + output_size)), full-batch training,
# forward and predict_proba work on rows, with NumPy's BLAS for the products.
# From LARGE_BLAS_MIN_WORK already where W1 has more than PACKED_MAX_WEIGHTS
# values: the packed kernels sum W1's gradient beside it, in cache. And at
# any work where the packed layout would hold more than PACKED_MAX_ELEMENTS
# values (32 MB in float64: its copy of X and Y, the mask, the activations
# and deltas, the kept outputs), which keeps its memory within the bound.
BLAS_MIN_WORK = 1 << 24
LARGE_BLAS_MIN_WORK = 2_000_000
# From these already (float64, float32) where NumPy's BLAS runs vectors as
# wide as the kernels' (_threads.narrow_blas is False), for layers wider
# than STREAM_MAX_WIDTH: the BLAS products then beat the packed blocks on
# less work, float32's most. On narrower layers BLAS is slow still.
EVEN_BLAS_MIN_WORK = 4_000_000
EVEN_BLAS_MIN_WORK_32 = 1_000_000
# And at any work for FEW_ROWS to SMALL_BLAS_ROWS samples whose layers are
# wider than SMALL_BLAS_MIN_WIDTH (hidden x (inputs + outputs)), where the
# row path's epochs run in one compiled call (_threads.gemm_address): one
# packed block of so few samples is too narrow for its vectorized loops.
SMALL_BLAS_ROWS = 128
SMALL_BLAS_MIN_WIDTH = 1024
PACKED_MAX_WEIGHTS = 1 << 15
PACKED_MAX_ELEMENTS = 1 << 22

# Below this many samples, with at least FEW_ROWS_HIDDEN hidden units, full-batch
# training loops over the hidden units (rows.train), not over the samples of a block.
FEW_ROWS = 16
FEW_ROWS_HIDDEN = 16

# Up to this many samples, with layers this narrow (hidden x (inputs + outputs)
# at most TINY_WIDTH), full-batch training and forward run tiny.train: the
# tutorial's XOR. It compiles in a fraction of packed.train's time.
TINY_ROWS = 8
TINY_WIDTH = 20

# From PACKED_SPLIT_WORK multiply-adds and sigmoids per epoch (n_samples x
# _paths.work_per_sample), packed.train's blocks, in chunks of about
# PACKED_CHUNK_WORK, are shared by the helper threads and the caller inside
# the compiled call: they wait for each other at each epoch's update,
# spinning a while before they yield the core, so no thread sleeps between
# epochs. A call of less than PACKED_TEAM_WORK in all runs on the caller's
# thread alone, with the same chunks: waking the helpers and joining them
# costs 0.3-0.8 ms a call.
PACKED_SPLIT_WORK = 40_000
PACKED_CHUNK_WORK = 250_000
PACKED_TEAM_WORK = 8_000_000

# Up to UNIT_SPLIT_MAX_BLOCKS blocks of samples with at least
# UNIT_SPLIT_MIN_FEATURES features, from UNIT_SPLIT_WORK per epoch: the
# epochs are shared by the threads across the units of the first layer
# (packed.train_units), three waits an epoch, instead of by chunks of
# blocks. Such data stays off the row path if it is one block, or under
# UNIT_SPLIT_MAX_WORK multiply-adds an epoch, or in float64 with at most
# UNIT_SPLIT_MAX_HIDDEN hidden units (docs/design.md, "The plan").
UNIT_SPLIT_WORK = 200_000
UNIT_SPLIT_MIN_FEATURES = 512
UNIT_SPLIT_MAX_BLOCKS = 4
UNIT_SPLIT_MAX_WORK = 12_000_000
UNIT_SPLIT_MAX_HIDDEN = 16

# From this many outputs the row path's output layer is BLAS products as well.
OUTPUTS_BLAS = 2

# The row path's epochs on one block of rows in memory run in one compiled
# call (rows.train_blas) where NumPy's BLAS can be called from compiled
# code; False keeps them in Python between NumPy's products, with the same
# bits (the tests run both).
ROWS_COMPILED = True

# Full-batch epochs of at least this many multiply-adds whose layers are
# narrow (hidden x (inputs + outputs) at most STREAM_MAX_WIDTH) and whose
# inputs are few (at most STREAM_MAX_INPUTS, and STREAM_INPUTS_PER_HIDDEN
# per hidden unit) stream the rows through the block kernels on all cores,
# in chunks of at least about STREAM_CHUNK_WORK multiply-adds. With
# more inputs, gathering the rows and the block kernels' products cost
# more than BLAS's on rows.
STREAM_MIN_WORK = 4_000_000
STREAM_MAX_WIDTH = 512
STREAM_MAX_INPUTS = 96
STREAM_INPUTS_PER_HIDDEN = 32
STREAM_CHUNK_WORK = 1_000_000
# On more rows, chunks of the epoch's work over STREAM_MAX_CHUNKS, up to
# STREAM_MAX_CHUNK_WORK: each chunk is a dispatch from Python and keeps its
# gradient sums (the size of the parameters) until the epoch's end, and
# Ctrl-C waits for the chunks running (about 10 ms at the most here).
STREAM_MAX_CHUNKS = 256
STREAM_MAX_CHUNK_WORK = 8_000_000

# Rows per block there: the block's two (rows x hidden) buffers stay near 16 MB.
BLAS_BLOCK_ELEMENTS = 1 << 21

# Values per block read from a memory-mapped file by mini-batch training
# (whole batches of rows, about 16 MB in float32); the full batch reads the
# row path's blocks of BLAS_BLOCK_ELEMENTS // hidden_size rows.
DISK_BLOCK_ELEMENTS = 1 << 22

# From this many inputs (and more inputs than hidden units), a block of rows
# whose X has at most WIDE_MAX_ELEMENTS values (so that it stays in the
# cache for a second read) sums the W1 gradient by columns of X
# (_paths.by_columns).
WIDE_INPUTS = 512
WIDE_MAX_ELEMENTS = 1 << 22

# Each block of rows is cut into chunks of about this many hidden activations
# or inputs (the wider), one thread's work; a chunk's work stays in cache.
CHUNK_ELEMENTS = 1 << 17

# A block of rows with at least this many multiply-adds in its first layer
# (rows x inputs x hidden) is cut into two chunks at least, even if it fits
# in one of CHUNK_ELEMENTS: a second thread takes 100-250 us to start here.
SPLIT_WORK = 8_000_000

# train() returns to Python at least this often (seconds of compiled work), to
# print the tutorial's lines as training goes and to let Ctrl-C through. The
# first call is sized from the work instead (about 1 ns a multiply-add).
CHUNK_SECONDS = 0.1
FIRST_CHUNK_WORK = 2_000_000

# Numba's options for every kernel. fastmath is an explicit subset: "nnan" and
# "ninf" would let LLVM assume no value is NaN or infinite, and divergence
# could no longer be seen. exp and log get "contract" alone: "reassoc" would
# let LLVM fold away their range reduction.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
NJIT = dict(nogil=True, cache=True, error_model="numpy", fastmath=FASTMATH)
INLINE = dict(NJIT, inline="always")
EXACT = dict(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})


@contextlib.contextmanager
def override(**settings):
    """Set some of these settings meanwhile (``override(BLAS_MIN_WORK=0)``), then restore them."""
    module = globals()
    unknown = [name for name in settings if name not in module or not name.isupper()]
    if unknown:
        raise KeyError(f"no fastnn setting named {', '.join(unknown)}")
    saved = {name: module[name] for name in settings}
    module.update(settings)
    try:
        yield
    finally:
        module.update(saved)
