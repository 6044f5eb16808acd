"""The shape sweep: fastnn, the reference, PyTorch and JAX per epoch over a grid of shapes, in one run.

    python benchmarks/sweep.py [--quick] [--only POINT ...] [--out benchmarks/results/sweep]

Each point of the grid is a shape (rows, features, hidden units, outputs)
and a dtype. Every implementation does the tutorial's whole epoch there
(forward, the loss of every epoch, the deltas, the update) from the same
weights, and is timed for a few calls of enough epochs to last about
``--seconds`` / 4, the implementations taking turns; the median per epoch
is kept. ``--only`` runs some points of the grid again. The reference is the tutorial's
float64 code, whatever the point's dtype. Writes a JSON file of the figures,
a Markdown table, and a heatmap PNG of fastnn's time over the best peer's
and over the reference's across the grid (``--out`` without a suffix).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import PEERS  # noqa: E402
from report import _seconds, machine  # noqa: E402

import fastnn  # noqa: E402
from fastnn import reference  # noqa: E402
from fastnn.__main__ import _cpu_name as cpu_name  # noqa: E402

# (features, hidden, outputs) down the columns, rows down the lines: every
# layer's width from 2 to 2,000 features, 512 hidden units and 16 outputs
# appears with every number of rows. A point with more than MAX_WORK
# multiply-adds per epoch is left out (the named workloads time those).
SHAPES = [(2, 2, 1), (20, 32, 1), (100, 256, 1), (1000, 64, 1), (2000, 16, 1), (8, 512, 1), (16, 16, 10), (64, 128, 4), (32, 32, 16)]
ROWS = [4, 64, 1_000, 20_000, 200_000, 2_000_000]
DTYPES = ["float64", "float32"]
MAX_WORK = 600_000_000
QUICK = dict(shapes=SHAPES[:2] + [(16, 16, 10)], rows=[4, 1_000], dtypes=["float32"])


def work(n, f, h, o):
    """Multiply-adds of one epoch's four products."""
    return 2 * n * h * (f + o)


def points(shapes=SHAPES, rows=ROWS, dtypes=DTYPES):
    return [(n, f, h, o, d) for d in dtypes for (f, h, o) in shapes for n in rows if work(n, f, h, o) <= MAX_WORK]


def data(n, f, o, dtype):
    """A seeded problem whose outputs are products of signs of the first features."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, f)).astype(dtype)
    signs = np.sign(X[:, : min(f, 2)])
    Y = np.stack([(signs[:, 0] * np.roll(signs, k, axis=1)[:, -1] > 0) for k in range(o)], axis=1).astype(dtype)
    return X, Y


def weights(f, h, o, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((f, h)), np.zeros((1, h)), rng.standard_normal((h, o)), np.zeros((1, o))]


class Fastnn:
    name = "fastnn"

    def __init__(self, dtype):
        self.dtype = dtype

    def prepare(self, X, Y, params):
        net = fastnn.SimpleNeuralNetwork(params[0].shape[0], params[0].shape[1], params[2].shape[1], dtype=self.dtype)
        for name, value in zip(("weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output"), params):
            getattr(net, name)[...] = value
        return net, X, Y

    def train(self, net, X, Y, epochs, lr):
        return net.train(X, Y, epochs, lr, verbose=False)


class Reference:
    name = "reference"

    def __init__(self, dtype):
        pass  # the tutorial's float64

    def prepare(self, X, Y, params):
        np.random.seed(0)
        net = reference.SimpleNeuralNetwork(params[0].shape[0], params[0].shape[1], params[2].shape[1])
        net.weights_input_hidden, net.bias_hidden, net.weights_hidden_output, net.bias_output = (p.copy() for p in params)
        return net, X.astype(np.float64), Y.astype(np.float64)

    def train(self, net, X, Y, epochs, lr):
        losses = np.empty(epochs)
        with np.errstate(all="ignore"):
            for e in range(epochs):  # the tutorial's loop, without its printing
                out = net.forward(X)
                losses[e] = -np.mean(Y * np.log(out) + (1 - Y) * np.log(1 - out))
                net.backward(X, Y, lr)
        return losses


def implementations(dtype, peers=True):
    impls = [Fastnn(dtype), Reference(dtype)]
    for name, cls in PEERS.items() if peers else ():
        try:
            impls.append(cls(np.dtype(dtype).type))
        except ImportError:
            print(f"{name} is not installed: left out", file=sys.stderr)
    return impls


def calibrated(impl, X, Y, params, seconds):
    """Epochs per timed call of impl on X, Y: about `seconds` of work (compiling and warming up first)."""
    lr, epochs = 1e-6, 1
    impl.train(*impl.prepare(X, Y, params), 1, lr)  # compile (fastnn, JAX) and warm up
    while True:
        elapsed = timed(impl, X, Y, params, epochs)
        if elapsed >= seconds / 4 or epochs >= 1 << 20:
            return epochs
        epochs = min(1 << 20, max(2 * epochs, int(epochs * seconds / 4 / max(elapsed, 1e-7))))
        if impl.name == "jax":
            impl.train(*impl.prepare(X, Y, params), epochs, lr)  # the new length compiles: not timed


def timed(impl, X, Y, params, epochs):
    """Seconds of one call of `epochs` epochs of impl, from a fresh copy of the weights."""
    state = impl.prepare(X, Y, params)
    began = time.perf_counter()
    impl.train(*state, epochs, 1e-6)
    return time.perf_counter() - began


def per_epoch(impls, point, seconds, repeats):
    """{name: median seconds per epoch} of every implementation at point.

    The timed calls take turns (each implementation once per round), so
    that a slow minute of the machine, or a peer's threads still spinning
    after its call, falls on all of them alike.
    """
    n, f, h, o, dtype = point
    X, Y = data(n, f, o, dtype)
    params = weights(f, h, o)
    epochs = {impl.name: calibrated(impl, X, Y, params, seconds) for impl in impls}
    times = {impl.name: [] for impl in impls}
    for _ in range(repeats):
        for impl in impls:
            times[impl.name].append(timed(impl, X, Y, params, epochs[impl.name]) / epochs[impl.name])
    return {name: statistics.median(t) for name, t in times.items()}


def cpu():
    """The CPU's model name, LLVM's name for it (what Numba compiles for) and NumPy's BLAS kernels."""
    return {"model": cpu_name(), "cores": os.cpu_count(), **machine()}


def run(grid, seconds=0.2, repeats=5, peers=True, log=sys.stderr):
    results = []
    by_dtype = {}
    for point in grid:
        impls = by_dtype.setdefault(point[4], implementations(point[4], peers))
        times = per_epoch(impls, point, seconds, repeats)
        results.append({"point": list(point), "seconds": times})
        print(f"{point}: " + ", ".join(f"{k} {v * 1e6:.3g} us" for k, v in times.items()), file=log, flush=True)
    return {"cpu": cpu(), "numpy": np.__version__, "fastnn": fastnn.__version__, "results": results}


def table(report):
    """The Markdown table: time per epoch of each implementation, and the fastest other's over fastnn's."""
    names = list(report["results"][0]["seconds"])
    lines = [
        "| rows | features | hidden | outputs | dtype | " + " | ".join(names) + " | fastest other / fastnn |",
        "|" + "---|" * (len(names) + 6),
    ]
    for r in report["results"]:
        s = r["seconds"]
        best = min(v for k, v in s.items() if k != "fastnn")
        cells = [f"{v:,}" if isinstance(v, int) else str(v) for v in r["point"]]
        lines.append("| " + " | ".join(cells) + " | " + " | ".join(_seconds(s[k]) for k in names) + f" | {best / s['fastnn']:.2f} |")
    return "\n".join(lines)


def heatmap(report, path):
    """fastnn's time over the best peer's (left) and over the reference's (right), per dtype."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    results = report["results"]
    dtypes = sorted({r["point"][4] for r in results}, reverse=True)
    shapes = list(dict.fromkeys(tuple(r["point"][1:4]) for r in results))
    rows = sorted({r["point"][0] for r in results})
    fig, axes = plt.subplots(len(dtypes), 2, figsize=(13, 3.2 * len(dtypes) + 1), squeeze=False)
    for d, dtype in enumerate(dtypes):
        for c, (title, against) in enumerate([("best peer", "peers"), ("reference", "reference")]):
            grid = np.full((len(rows), len(shapes)), np.nan)
            for r in results:
                n, f, h, o, dt = r["point"]
                if dt != dtype:
                    continue
                s = r["seconds"]
                other = min(v for k, v in s.items() if k not in ("fastnn", "reference")) if against == "peers" and len(s) > 2 else s["reference"]
                grid[rows.index(n), shapes.index((f, h, o))] = s["fastnn"] / other
            ax = axes[d][c]
            image = ax.imshow(grid, cmap="RdYlGn_r", norm=LogNorm(vmin=1 / 64 if c else 1 / 4, vmax=4), aspect="auto")
            for i, j in np.ndindex(grid.shape):
                if math.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2g}", ha="center", va="center", fontsize=7)
            ax.set_xticks(range(len(shapes)), [f"{f}-{h}-{o}" for f, h, o in shapes], rotation=45, ha="right", fontsize=8)
            ax.set_yticks(range(len(rows)), [f"{n:,}" for n in rows], fontsize=8)
            ax.set_xlabel("features-hidden-outputs")
            ax.set_ylabel("rows")
            ax.set_title(f"fastnn / {title}, {dtype} (below 1: fastnn faster)", fontsize=9)
            fig.colorbar(image, ax=ax)
    c = report["cpu"]
    blas = f"; BLAS {c['blas']}" if "blas" in c else ""
    fig.suptitle(f"time per epoch, {c['model']} ({c['llvm']}, {c['cores']} cores{blas})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few small points only (a smoke test)")
    parser.add_argument("--no-peers", action="store_true", help="fastnn and the reference only")
    parser.add_argument("--seconds", type=float, default=0.2, help="about 4 times how long each timed call lasts")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls of each implementation at each point")
    parser.add_argument("--only", nargs="+", metavar="POINT", default=None,
                        help="points of the grid to run, as rows,features,hidden,outputs,dtype (1000,1000,64,1,float32)")
    parser.add_argument("--out", default=None, help="write OUT.json, OUT.md and OUT.png")
    args = parser.parse_args(argv)
    grid = points(**QUICK) if args.quick else points()
    if args.only:
        names = {",".join(map(str, p)) for p in grid}
        unknown = [p for p in args.only if p not in names]
        if unknown:
            parser.error(f"--only: no point of the grid is {', '.join(unknown)}")
        grid = [p for p in grid if ",".join(map(str, p)) in args.only]
    report = run(grid, args.seconds, args.repeats, peers=not args.no_peers)
    text = table(report)
    c = report["cpu"]
    print(f"CPU: {c['model']}, LLVM {c['llvm']}, {c['cores']} cores; NumPy {report['numpy']} (BLAS {c['blas']}); "
          f"fastnn {report['fastnn']}")
    print(text)
    if args.out:
        with open(args.out + ".json", "w") as f:
            json.dump(report, f, indent=1)
        with open(args.out + ".md", "w") as f:
            f.write(text + "\n")
        heatmap(report, args.out + ".png")
    return report


if __name__ == "__main__":
    main()
