import numpy as np
import pytest

# The tutorial's own data: integer arrays, as in its Step 7.
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])


@pytest.fixture
def xor():
    return XOR_X.copy(), XOR_Y.copy()


def parse_losses(text):
    """The (epoch, loss) pairs of the tutorial's printed lines."""
    pairs = []
    for line in text.splitlines():
        head, loss = line.split(", Loss: ")
        assert head.startswith("Epoch ")
        pairs.append((int(head[len("Epoch "):]), float(loss)))
    return pairs
