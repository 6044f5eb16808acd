import pytest

from fastnn import _config

# Off the row path whatever the shape and the BLAS: no work bound, no W1 or memory bound.
NO_ROWS = dict(BLAS_MIN_WORK=10**18, LARGE_BLAS_MIN_WORK=10**18, EVEN_BLAS_MIN_WORK=10**18, EVEN_BLAS_MIN_WORK_32=10**18,
               PACKED_MAX_ELEMENTS=10**18, SMALL_BLAS_ROWS=0)

# Each full-batch route, by the settings that force it on the tests' small data.
ROUTES = {
    # the packed block kernels (small data), in blocks of 8 samples cut into two chunks on all cores
    "blocks": dict(NO_ROWS, FEW_ROWS=0, STREAM_MIN_WORK=10**18, TINY_ROWS=0, MAX_BLOCK=8,
               PACKED_SPLIT_WORK=0, PACKED_TEAM_WORK=0),
    # a few blocks (up to UNIT_SPLIT_MAX_BLOCKS, else packed.train), their epochs cut across the units of the first
    # layer on all cores (packed.train_units)
    "units": dict(NO_ROWS, FEW_ROWS=0, STREAM_MIN_WORK=10**18, TINY_ROWS=0, UNIT_SPLIT_MIN_FEATURES=0, UNIT_SPLIT_WORK=0,
                  PACKED_TEAM_WORK=0),
    # the tutorial's size of network: tiny.train, one unit at a time (here at every size)
    "tiny": dict(NO_ROWS, FEW_ROWS=0, STREAM_MIN_WORK=10**18, TINY_ROWS=10**18, TINY_WIDTH=10**18),
    # a few rows: rows.train, vectorized over the hidden units
    "few": dict(NO_ROWS, FEW_ROWS=10**18, FEW_ROWS_HIDDEN=0, STREAM_MIN_WORK=10**18),
    # rows in place through the block kernels on all cores (many rows, narrow layers)
    # (forward stays on the packed kernels, as it does for such narrow layers at their default threshold)
    "stream": dict(NO_ROWS, STREAM_MIN_WORK=0, STREAM_MAX_WIDTH=10**18, STREAM_MAX_INPUTS=10**18,
               STREAM_INPUTS_PER_HIDDEN=10**18, STREAM_CHUNK_WORK=1, MAX_BLOCK=8),
    # BLAS products with a row kernel between them (large data, one output)
    "blas": dict(BLAS_MIN_WORK=0, OUTPUTS_BLAS=10**18, STREAM_MIN_WORK=10**18),
    # BLAS products for the output layer too (large data, several outputs)
    "blas-outputs": dict(BLAS_MIN_WORK=0, OUTPUTS_BLAS=1, STREAM_MIN_WORK=10**18),
    # the row path's epochs in Python between NumPy's products (one block is otherwise one compiled call)
    "blas-python": dict(BLAS_MIN_WORK=0, OUTPUTS_BLAS=10**18, STREAM_MIN_WORK=10**18, ROWS_COMPILED=False),
}


@pytest.fixture(params=list(ROUTES))
def path(request, monkeypatch):
    """Run a test on every full-batch route; on the row ones, rows are cut
    into chunks of a few rows here, so that the tests' small data takes
    several chunks and threads."""
    for name, value in ROUTES[request.param].items():
        monkeypatch.setattr(_config, name, value)
    monkeypatch.setattr(_config, "CHUNK_ELEMENTS", 256)  # 256 // max(hidden_size, input_size) rows a chunk
    return request.param
