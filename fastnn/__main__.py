"""``python -m fastnn`` (or ``fastnn``): the demo, reference against fastnn.

``demo`` (the default) runs the tutorial's example with the reference (plain
NumPy) and with fastnn, prints both predictions, both times and the speedup,
then does the same on a larger synthetic problem. ``compile`` compiles every
kernel ahead of first use and reports the time each took.
"""

import argparse
import contextlib
import io
import os
import platform
import sys
import time

import numpy as np

import fastnn
from fastnn import reference


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _run(cls, X, y, sizes, epochs, learning_rate, **kwargs):
    """Train a network drawn after np.random.seed(0); return it and the seconds taken."""
    np.random.seed(0)
    net = cls(*sizes)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the tutorial's 'Epoch' lines
        net.train(X, y, epochs, learning_rate, **kwargs)
    return net, time.perf_counter() - start


def _compare(title, X, y, sizes, epochs, learning_rate, repeats):
    print(f"\n{title}")
    print(f"  {X.shape[0]:,} x {X.shape[1]} inputs, hidden {sizes[1]}, {epochs:,} epochs, learning rate {learning_rate}")
    ref, ref_time = _run(reference.SimpleNeuralNetwork, X, y, sizes, epochs, learning_rate)
    _, first_time = _run(fastnn.SimpleNeuralNetwork, X, y, sizes, epochs, learning_rate)
    runs = [_run(fastnn.SimpleNeuralNetwork, X, y, sizes, epochs, learning_rate) for _ in range(repeats)]
    fast, fast_time = runs[0][0], float(np.median([t for _, t in runs]))
    ref_pred, fast_pred = ref.forward(X), fast.forward(X)
    show = slice(None) if len(X) <= 8 else slice(0, 4)
    with np.printoptions(precision=6, suppress=True):
        print(f"  reference predictions{' (first 4)' if len(X) > 8 else ''}: {ref_pred[show].ravel()}")
        print(f"  fastnn    predictions{' (first 4)' if len(X) > 8 else ''}: {fast_pred[show].ravel()}")
    print(f"  largest difference in predictions: {np.max(np.abs(ref_pred - fast_pred)):.1e}")
    print(f"  reference training: {ref_time * 1e3:10.1f} ms")
    print(f"  fastnn    training: {fast_time * 1e3:10.1f} ms  (median of {repeats})")
    print(f"  fastnn    first call: {first_time:.2f} s, compiling the kernels or loading them from the cache")
    print(f"  speedup: {ref_time / fast_time:.0f}x")


def demo():
    print(f"fastnn {fastnn.__version__}: the tutorial's network, NumPy reference against fastnn")
    print(
        f"{_cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, Numba {__import__('numba').__version__}"
    )
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    _compare("1. The tutorial's example: XOR, np.random.seed(0)", X, y, (2, 2, 1), 10_000, 0.1, repeats=7)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 20))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    _compare("2. A larger synthetic problem: y = [x0 * x1 > 0]", X, y, (20, 32, 1), 20, 1e-5, repeats=3)


def compile_kernels():
    """Compile (or load from Numba's cache) every kernel, for float64 and float32, and say how long it took."""
    from numba.core.config import CACHE_DIR

    print(f"Numba cache directory: {CACHE_DIR or 'beside the package, else the user cache directory'}")
    X, y = np.array([[0.0, 1.0]]), np.array([[1.0]])
    for dtype in (np.float64, np.float32):
        net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0, dtype=dtype)
        for name, call in [
            ("_train", lambda: net.train(X, y, 1, 0.1, verbose=False)),
            ("_forward", lambda: net.forward(X)),
            ("_backward", lambda: net.backward(X, y, 0.1)),
        ]:
            start = time.perf_counter()
            call()
            print(f"  {name:10s} {np.dtype(dtype).name:8s} {time.perf_counter() - start:6.2f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastnn", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        nargs="?",
        default="demo",
        choices=["demo", "compile"],
        help="demo: the reference against fastnn (default); compile: compile every kernel ahead of first use",
    )
    args = parser.parse_args(argv)
    if args.command == "compile":
        compile_kernels()
    else:
        demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
