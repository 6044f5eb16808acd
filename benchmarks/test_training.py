"""fastnn against the reference (the tutorial's NumPy network), timed in the same run.

Run with ``pytest benchmarks/ --benchmark-only``. Every round trains a fresh
network from the same seed; fastnn's kernels are compiled by a warm-up call
before any timing. The ``matmul`` group times NumPy's own products of an
epoch at the large workloads' shape (X W1 and X^T D), the machine's
throughput the report compares with; the same products are also timed
before every round of the other workloads (outside the timing), so that each
is compared with the throughput of its own minutes on a shared machine.
"""

import functools
import time

import numpy as np
import pytest
from peers import PEERS, initial_weights
from workloads import WORKLOADS

import fastnn
from fastnn import reference

IMPLEMENTATIONS = {"reference": reference.SimpleNeuralNetwork, "fastnn": fastnn.SimpleNeuralNetwork}
# Rounds per implementation: the reference is slow, and its spread is small
# next to the gap being measured.
ROUNDS = {
    "xor": {"reference": 10, "fastnn": 50},
    "medium": {"reference": 10, "fastnn": 30},
    "large": {"reference": 3, "fastnn": 5},
    "large32": {"reference": 3, "fastnn": 5},
    "scale": {"reference": 1, "fastnn": 3},
}



@functools.lru_cache
def matmul_operands(dtype):
    """X, W1 and a D of the large workloads' shape, in `dtype`, and the outputs of X @ W1 and X^T @ D."""
    w = WORKLOADS["large"]
    X, _ = w.data(dtype)
    rng = np.random.default_rng(1)
    W = rng.standard_normal((w.n_features, w.hidden)).astype(dtype)
    D = rng.standard_normal((w.n_samples, w.hidden)).astype(dtype)
    return X, W, D, np.empty((w.n_samples, w.hidden), dtype), np.empty((w.n_features, w.hidden), dtype)


def epoch_products(X, W, D, Z, G):
    """NumPy's two big products of an epoch, on its own BLAS threads: Z = X W1 (forward), G = X^T D (W1's gradient)."""
    np.matmul(X, W, out=Z)
    np.matmul(X.T, D, out=G)


def matmul_seconds(dtype):
    """epoch_products at the large workloads' shape, in `dtype`: what the machine's BLAS does with an epoch's products."""
    operands = matmul_operands(dtype)
    start = time.perf_counter()
    epoch_products(*operands)
    return time.perf_counter() - start


def beside_each_round(benchmark, w, setup):
    """setup, also timing the epoch's two products (matmul_seconds) before each round; their median goes in extra_info.

    This machine is shared: its throughput changes for minutes at a time, so
    the report compares each workload with the products measured in the same
    minutes ("matmul_gflops"), not only with the matmul group of the run. The
    product is in the dtype the benchmark computes in (extra_info["dtype"]):
    float64 for the reference, whatever the workload's.
    """
    if w.name == "xor":
        return setup
    dtype = benchmark.extra_info["dtype"]
    seconds = []

    def setup_and_matmul():
        seconds.append(matmul_seconds(dtype))
        benchmark.extra_info["matmul_gflops"] = MATMUL_FLOPS / float(np.median(seconds)) / 1e9
        return setup()

    return setup_and_matmul


MATMUL_FLOPS = 4 * WORKLOADS["large"].n_samples * WORKLOADS["large"].n_features * WORKLOADS["large"].hidden  # two products


@pytest.mark.parametrize("impl", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_train(benchmark, workload, impl):
    w = WORKLOADS[workload]
    # The reference is the tutorial's float64 code, whatever the workload's dtype.
    X, y = w.data(np.float64 if impl == "reference" else None)
    cls = IMPLEMENTATIONS[impl]
    kwargs = {} if impl == "reference" else {"dtype": w.dtype}

    def fresh():
        np.random.seed(0)
        return (cls(w.n_features, w.hidden, 1, **kwargs),), {}

    def train(net):
        # As the tutorial calls it; the printed lines go to pytest's capture.
        with np.errstate(all="ignore"):  # the reference's log(0) on saturated outputs
            net.train(X, y, w.epochs, w.learning_rate)
        return net

    if impl == "fastnn":
        train(*fresh()[0])  # compile (or load from cache) outside the timing
    benchmark.group = workload
    dtype = "float64" if impl == "reference" else np.dtype(w.dtype).name
    benchmark.extra_info.update(epochs=w.epochs, workload=workload, impl=impl, flops_per_epoch=w.flops, dtype=dtype)
    net = benchmark.pedantic(train, setup=beside_each_round(benchmark, w, fresh), rounds=ROUNDS[workload][impl], iterations=1)
    assert np.all(np.isfinite(net.weights_input_hidden))


@pytest.mark.peers
@pytest.mark.parametrize("peer", list(PEERS))
@pytest.mark.parametrize("workload", [name for name in WORKLOADS if name != "scale"])
def test_peer(benchmark, workload, peer):
    """PyTorch and JAX with the tutorial's math, in the workload's group; skipped where not installed
    (``pip install -e ".[peers]"``)."""
    w = WORKLOADS[workload]
    try:
        impl = PEERS[peer](w.dtype)
    except ImportError:
        pytest.skip(f"{peer} is not installed")
    X, y = w.data()
    weights = initial_weights(w.n_features, w.hidden)

    def fresh():
        return tuple(impl.prepare(X, y, weights)), {}

    def train(*arrays):
        return impl.train(*arrays, w.epochs, w.learning_rate)

    train(*fresh()[0])  # compile (JAX) and warm up outside the timing
    benchmark.group = workload
    benchmark.extra_info.update(
        epochs=w.epochs, workload=workload, impl=peer, flops_per_epoch=w.flops, dtype=np.dtype(w.dtype).name
    )
    _, losses = benchmark.pedantic(
        train, setup=beside_each_round(benchmark, w, fresh), rounds=ROUNDS[workload]["reference"], iterations=1
    )
    assert len(losses) == w.epochs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matmul(benchmark, dtype):
    """NumPy's X @ W1 and X^T @ D at the large workloads' shape: the machine's matrix-product throughput.

    The report's "of matmul" for large and large32 is then fastnn's epoch
    against the two products that are most of its work, done by BLAS alone.
    """
    benchmark.group = "matmul"
    benchmark.extra_info.update(impl=f"numpy {dtype}", flops=MATMUL_FLOPS, dtype=dtype)
    benchmark.pedantic(epoch_products, args=matmul_operands(dtype), rounds=20, iterations=1, warmup_rounds=2)
