import numpy as np
import pytest

from fastnn import network

# The tutorial's own data: integer arrays, as in its Step 7.
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])


def parse_losses(text):
    """The (epoch, loss) pairs of the tutorial's printed lines."""
    pairs = []
    for line in text.splitlines():
        head, loss = line.split(", Loss: ")
        assert head.startswith("Epoch ")
        pairs.append((int(head[len("Epoch "):]), float(loss)))
    return pairs


@pytest.fixture(params=["blocks", "blas"])
def path(request, monkeypatch):
    """Run a test on both full-batch paths: the packed block kernels (small
    data) and the BLAS products with row kernels (large data), whose rows are
    cut into chunks of a few rows here, so that the tests' small data takes
    several chunks and threads."""
    monkeypatch.setattr(network, "_BLAS_MIN_WORK", 10**18 if request.param == "blocks" else 0)
    monkeypatch.setattr(network, "_CHUNK_ELEMENTS", 256)  # 256 // hidden_size rows a chunk
    return request.param
