import pytest

from fastnn import _config


@pytest.fixture(params=["blocks", "blas"])
def path(request, monkeypatch):
    """Run a test on both full-batch paths: the packed block kernels (small
    data) and the BLAS products with row kernels (large data), whose rows are
    cut into chunks of a few rows here, so that the tests' small data takes
    several chunks and threads."""
    monkeypatch.setattr(_config, "BLAS_MIN_WORK", 10**18 if request.param == "blocks" else 0)
    monkeypatch.setattr(_config, "CHUNK_ELEMENTS", 256)  # 256 // hidden_size rows a chunk
    return request.param
