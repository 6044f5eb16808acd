"""The tests' oracles and shared data: the tutorial's XOR, plain-NumPy training, state snapshots.

fastnn.reference is the tutorial's own network; the functions here extend
it to what the tutorial does not do (mini-batches, the exact gradient) in
the same plain NumPy, and read the state of a network for comparisons.
"""

import copy
import tracemalloc

import numpy as np

from fastnn import reference

# The tutorial's own data: integer arrays, as in its Step 7.
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])

PARAMS = ["weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output"]  # (W1, b1, W2, b2)
ACTIVATIONS = ["hidden_input", "hidden_output", "output_input", "output"]
STATE = PARAMS + ACTIVATIONS + ["loss_history"]


def parse_losses(text):
    """The (epoch, loss) pairs of the tutorial's printed lines."""
    pairs = []
    for line in text.splitlines():
        head, loss = line.split(", Loss: ")
        assert head.startswith("Epoch ")
        pairs.append((int(head[len("Epoch "):]), float(loss)))
    return pairs


def reference_losses(ref, X, y, epochs, learning_rate):
    """The reference's forward and backward, epoch by epoch, and the loss of each epoch's forward pass."""
    losses = []
    for _ in range(epochs):
        ref.forward(X)
        ref.backward(X, y, learning_rate)
        losses.append(reference.binary_cross_entropy(y, ref.output))
    return losses


def reference_forward(net, X):
    """The reference's forward pass with the weights of `net`."""
    ref = reference.SimpleNeuralNetwork(net.input_size, net.hidden_size, net.output_size)
    for name in PARAMS:
        setattr(ref, name, getattr(net, name).copy())
    return ref.forward(X)


def numpy_minibatch(X, y, W1, b1, W2, b2, orders, batch, lr, exact):
    """The tutorial's backward, one batch at a time, in plain NumPy; returns the epoch losses."""
    n, o = y.shape
    losses = []
    for order in orders:
        total = 0.0
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            xb, yb = X[rows], y[rows]
            h = 1 / (1 + np.exp(-(xb @ W1 + b1)))
            p = 1 / (1 + np.exp(-(h @ W2 + b2)))
            total -= np.sum(yb * np.log(p) + (1 - yb) * np.log(1 - p))
            od = (p - yb) if exact else (p - yb) * p * (1 - p)
            hd = od @ W2.T * h * (1 - h)
            W2 -= h.T @ od * lr
            b2 -= od.sum(axis=0, keepdims=True) * lr
            W1 -= xb.T @ hd * lr
            b1 -= hd.sum(axis=0, keepdims=True) * lr
        losses.append(total / (n * o))
    return np.array(losses)


def rng_state(net):
    """The state of the network's own shuffling generator (None for NumPy's global one)."""
    rng = getattr(net, "_rng", None)
    return None if rng is None else copy.deepcopy(rng.bit_generator.state)


def snapshot(net):
    """Copies of every attribute of `net` that a call could change, its generator's state included."""
    state = {name: None if getattr(net, name) is None else np.array(getattr(net, name), copy=True) for name in STATE}
    state["_rng"] = rng_state(net)
    return state


def assert_unchanged(net, before, what=""):
    """Every attribute of `net` bitwise as in `before` (NaN included), and its generator where it was."""
    for name, value in before.items():
        if name == "_rng":
            assert rng_state(net) == value, f"{what}: the shuffling generator was advanced"
            continue
        now = getattr(net, name)
        if value is None:
            assert now is None, f"{what}: {name}"
        else:
            assert now.shape == value.shape and now.dtype == value.dtype, f"{what}: {name}"
            assert now.tobytes() == value.tobytes(), f"{what}: {name} changed"


def traced_peak(call):
    """The peak of the memory NumPy and Python allocate during call() (tracemalloc), in bytes."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
