import numpy as np

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
