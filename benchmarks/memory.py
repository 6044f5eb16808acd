"""Peak memory of fastnn's training on the benchmark workloads, against the bound 1.5 X + 64 MB.

Run: ``python benchmarks/memory.py [workload ...]`` (default: large large32 scale).
tracemalloc counts every NumPy allocation made while training, after a
warm-up call has compiled the kernels; X and y, made before, are counted once
as their own size.
"""

import sys
import tracemalloc

import numpy as np
from workloads import WORKLOADS

import fastnn


def measure(w):
    X, y = w.data()
    net = fastnn.SimpleNeuralNetwork(w.n_features, w.hidden, 1, seed=0, dtype=w.dtype)
    net.train(X[:5000], y[:5000], 1, w.learning_rate, verbose=False)  # compile first
    tracemalloc.start()
    net.train(X, y, w.epochs, w.learning_rate, verbose=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    total = X.nbytes + y.nbytes + peak
    bound = 1.5 * X.nbytes + 64e6
    print(
        f"{w.name}: X {X.nbytes / 1e6:.0f} MB, y {y.nbytes / 1e6:.1f} MB, allocated while training {peak / 1e6:.1f} MB; "
        f"total {total / 1e6:.0f} MB against the bound 1.5 X + 64 MB = {bound / 1e6:.0f} MB: {'within' if total <= bound else 'OVER'}"
    )
    return total <= bound


if __name__ == "__main__":
    names = sys.argv[1:] or ["large", "large32", "scale"]
    sys.exit(0 if all([measure(WORKLOADS[name]) for name in names]) else 1)
