"""Hashes of what fastnn computes on a fixed set of cases, one line per case.

Run it on two commits and diff the output: a change that means to leave the
numbers alone (a refactoring) must print the same lines. Only the public API
is used, and the sizes are chosen so that every path is taken by the data
alone (no private setting is patched), so the script runs on any version:

    python benchmarks/fingerprint.py > after.txt

Each case hashes the bytes of the weights, the losses, the activation
attributes, the returned arrays and the printed lines.
"""

import contextlib
import hashlib
import io
import os
import sys
import tempfile

import numpy as np

from fastnn import SimpleNeuralNetwork

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])


def data(n, f, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, f)).astype(dtype)
    y = (X[:, :1] * X[:, 1:2] > 0).astype(dtype)
    return X, y


def digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            h.update(part.encode())
        elif part is None:
            h.update(b"None")
        else:
            a = np.ascontiguousarray(part)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()[:16]


def state(net):
    """The weights, the losses and the activation attributes of a network."""
    return [
        net.weights_input_hidden, net.bias_hidden, net.weights_hidden_output, net.bias_output, net.loss_history,
        net.hidden_input, net.hidden_output, net.output_input, net.output,
    ]


def train(net, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        losses = net.train(*args, **kwargs)
    return [losses, out.getvalue()]


def cases():
    # The tutorial's script: np.random.seed(0), integer arrays, 10,000 epochs, its printed lines.
    np.random.seed(0)
    net = SimpleNeuralNetwork(2, 2, 1)
    printed = train(net, XOR_X, XOR_Y, 10_000, 0.1)
    yield "xor tutorial", printed + state(net) + [net.forward(XOR_X), net.predict_proba(XOR_X)] + state(net)

    for gradient in ("tutorial", "exact"):
        for dtype in (np.float64, np.float32):
            # Small data: the packed block kernels (two blocks of samples).
            X, y = data(300, 5, dtype)
            net = SimpleNeuralNetwork(5, 8, 1, seed=1, dtype=dtype, gradient=gradient)
            got = train(net, X, y, 50, 0.01, verbose=False)
            yield f"small {gradient} {np.dtype(dtype).name}", got + state(net) + [net.predict_proba(X)]

            # Several outputs.
            Y = np.hstack([y, 1 - y, (X[:, 2:3] > 0).astype(dtype)])
            net = SimpleNeuralNetwork(5, 8, 3, seed=2, dtype=dtype, gradient=gradient)
            got = train(net, X, Y, 20, 0.01, verbose=False)
            yield f"small 3 outputs {gradient} {np.dtype(dtype).name}", got + state(net)

            # Small data whose blocks the threads share (four blocks, two chunks).
            X4, y4 = data(1000, 20, dtype)
            net = SimpleNeuralNetwork(20, 32, 1, seed=2, dtype=dtype, gradient=gradient)
            got = train(net, X4, y4, 20, 0.01, verbose=False)
            yield f"small shared {gradient} {np.dtype(dtype).name}", got + state(net) + [net.predict_proba(X4)]

            # Large data: BLAS products and row kernels, blocks of rows, many chunks
            # (hidden 64: layers too wide for the stream path).
            X, y = data(150_000, 10, dtype)
            net = SimpleNeuralNetwork(10, 64, 1, seed=3, dtype=dtype, gradient=gradient)
            got = train(net, X, y, 3, 1e-5, verbose=False)
            yield f"large {gradient} {np.dtype(dtype).name}", got + state(net) + [net.predict_proba(X)]

            # Narrow layers on many rows: the stream path.
            net = SimpleNeuralNetwork(10, 32, 1, seed=3, dtype=dtype, gradient=gradient)
            got = train(net, X, y, 3, 1e-5, verbose=False)
            yield f"narrow {gradient} {np.dtype(dtype).name}", got + state(net) + [net.predict_proba(X)]

            Y = np.hstack([y, 1 - y])
            net = SimpleNeuralNetwork(10, 64, 2, seed=4, dtype=dtype, gradient=gradient)
            got = train(net, X[:40_000], Y[:40_000], 2, 1e-5, verbose=False)
            yield f"large 2 outputs {gradient} {np.dtype(dtype).name}", got + state(net)

            # Mini-batches, shuffled and in order, batches narrower and wider than a block.
            X, y = data(1000, 4, dtype)
            for batch, shuffle in ((32, True), (32, False), (300, True), (1, False)):
                net = SimpleNeuralNetwork(4, 8, 1, seed=5, dtype=dtype, gradient=gradient)
                got = train(net, X, y, 3, 0.05, verbose=False, batch_size=batch, shuffle=shuffle)
                yield f"batches {batch} {shuffle} {gradient} {np.dtype(dtype).name}", got + state(net)

    for dtype in (np.float64, np.float32):
        # forward, then backward, on small and large data.
        for n, f in ((300, 5), (20_000, 20)):
            X, y = data(n, f, dtype)
            net = SimpleNeuralNetwork(f, 16, 1, seed=6, dtype=dtype)
            out = net.forward(X)
            acts = state(net)
            net.backward(X, y, 0.01)
            yield f"forward backward {n} {np.dtype(dtype).name}", [out] + acts + state(net) + [net.predict_proba(X)]

        # Divergence: the error, the kept weights and the losses before it.
        X, y = data(300, 5, dtype)
        for lr in (1e300, 1e30):
            net = SimpleNeuralNetwork(5, 8, 1, seed=7, dtype=dtype)
            try:
                net.train(X, y, 200, lr, verbose=False)
                message = "no error"
            except FloatingPointError as exc:
                message = str(exc)
            yield f"divergence {lr} {np.dtype(dtype).name}", [message] + state(net)

        # save, then load.
        net = SimpleNeuralNetwork(5, 8, 1, seed=8, dtype=dtype, gradient="exact")
        train(net, X, y, 10, 0.01, verbose=False)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "net.npz")
            net.save(path)
            loaded = SimpleNeuralNetwork.load(path)
        yield f"save load {np.dtype(dtype).name}", [repr(loaded)] + state(loaded)[:4] + [loaded.predict_proba(X)]


def main():
    lines = [f"{name:40s} {digest(*parts)}" for name, parts in cases()]
    print("\n".join(lines))
    print(f"{'all':40s} {digest(*lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
