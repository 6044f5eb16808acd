"""fastnn against the reference (the tutorial's NumPy network), timed in the same run.

Run with ``pytest benchmarks/ --benchmark-only``. Every round trains a fresh
network from the same seed; fastnn's kernels are compiled by a warm-up call
before any timing.
"""

import numpy as np
import pytest
from workloads import WORKLOADS

import fastnn
from fastnn import reference

IMPLEMENTATIONS = {"reference": reference.SimpleNeuralNetwork, "fastnn": fastnn.SimpleNeuralNetwork}
# Rounds per implementation: the reference is slow, and its spread is small
# next to the gap being measured.
ROUNDS = {"reference": 10, "fastnn": 50}


@pytest.mark.parametrize("impl", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_train(benchmark, workload, impl):
    w = WORKLOADS[workload]
    X, y = w.data()
    cls = IMPLEMENTATIONS[impl]

    def fresh():
        np.random.seed(0)
        return (cls(w.n_features, w.hidden, 1),), {}

    def train(net):
        # As the tutorial calls it; the printed lines go to pytest's capture.
        net.train(X, y, w.epochs, w.learning_rate)
        return net

    if impl == "fastnn":
        train(*fresh()[0])  # compile (or load from cache) outside the timing
    benchmark.group = workload
    benchmark.extra_info.update(epochs=w.epochs, workload=workload, impl=impl)
    net = benchmark.pedantic(train, setup=fresh, rounds=ROUNDS[impl], iterations=1)
    assert np.all(np.isfinite(net.forward(X)))
