"""``python -m fastnn`` (or ``fastnn``): the demo, training on generated data, the benchmarks.

``demo`` (the default) runs the tutorial's example with the reference (plain
NumPy) and with fastnn, prints both predictions, both times and the speedup,
then does the same on a larger synthetic problem. ``train`` trains a network
on a generated dataset (or, with ``--data``, the ``X.npy`` and ``y.npy`` that
``generate`` wrote) with a progress bar, on a Dask cluster with
``--workers`` or ``--scheduler``. ``bench`` runs the benchmark
suite and prints its table. ``compile`` compiles every kernel ahead of first
use and reports the time each took.
"""

import argparse
import contextlib
import functools
import importlib.util
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import fastnn
from fastnn import reference
from fastnn._validation import EPOCHS_MAX, INT64_MAX, plural


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
        f"{_cpu_name()}, {plural(os.cpu_count() or 1, 'core')}; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, Numba {__import__('numba').__version__}"
    )
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    _compare("1. The tutorial's example: XOR, np.random.seed(0)", X, y, (2, 2, 1), 10_000, 0.1, repeats=7)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 20))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    _compare("2. A larger synthetic problem: y = [x0 * x1 > 0]", X, y, (20, 32, 1), 20, 1e-5, repeats=3)


def _kernel_stats():
    """{name: (cache hits, compilations)} of every fastnn kernel, as module.function."""
    import importlib

    from numba.core.registry import CPUDispatcher

    stats = {}
    for module in ("_math", "tiny", "packed", "stream", "rows"):
        for name, kernel in vars(importlib.import_module(f"fastnn._kernels.{module}")).items():
            if isinstance(kernel, CPUDispatcher) and kernel.py_func.__module__ == f"fastnn._kernels.{module}":
                counts = kernel.stats
                stats[f"{module}.{name}"] = (sum(counts.cache_hits.values()), sum(counts.cache_misses.values()))
    return stats


def compile_kernels():
    """Compile (or load from Numba's cache) every kernel, for float64 and float32; say which, and how long it took."""
    from fastnn import _config
    from fastnn._kernels import packed

    print(f"Numba's cache for fastnn: {packed.train.stats.cache_path}")
    X, y, y2 = np.array([[0.0, 1.0]]), np.array([[1.0]]), np.array([[1.0, 0.0]])
    # Chunks of two rows at least go to the compiled row kernel (a chunk of one stays in Python).
    Xs, ys = np.tile(X, (4, 1)), np.tile(y, (4, 1))
    # The settings that send this one row down each path (see _paths.plan).
    tiny, small, large = dict(BLAS_MIN_WORK=10**18), dict(BLAS_MIN_WORK=10**18, TINY_ROWS=0), dict(BLAS_MIN_WORK=0)
    few = dict(BLAS_MIN_WORK=10**18, FEW_ROWS=10**18, FEW_ROWS_HIDDEN=0)
    narrow = dict(STREAM_MIN_WORK=0, STREAM_MAX_WIDTH=10**18)
    for dtype in (np.float64, np.float32):
        net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0, dtype=dtype)
        net2 = fastnn.SimpleNeuralNetwork(2, 2, 2, seed=0, dtype=dtype)
        for what, settings, call in [  # predict_proba first: after full-batch training it uses training's kernel
            ("train, full batch, tiny network", tiny, lambda: net.train(X, y, 1, 0.1, verbose=False)),
            ("predict_proba, small data", small, lambda: net.predict_proba(X)),
            ("train, mini-batches", small, lambda: net.train(X, y, 1, 0.1, verbose=False, batch_size=1)),
            ("train, full batch, small data", small, lambda: net.train(X, y, 1, 0.1, verbose=False)),
            ("train, full batch, few rows", few, lambda: net.train(X, y, 1, 0.1, verbose=False)),
            ("backward", small, lambda: net.backward(X, y, 0.1)),
            ("train, full batch, narrow layers", narrow, lambda: net.train(X, y, 1, 0.1, verbose=False)),
            ("train, full batch, large data", large, lambda: net.train(X, y, 1, 0.1, verbose=False)),
            ("train, large data, 2 outputs", large, lambda: net2.train(X, y2, 1, 0.1, verbose=False)),
            ("train, large data, one call", large, lambda: net.train(Xs[:4], ys[:4], 1, 0.1, verbose=False)),
            ("train, large data, one call, 2 outputs", large,
             lambda: net2.train(Xs[:4], np.tile(y2, (4, 1)), 1, 0.1, verbose=False)),
            ("forward, large data", large, lambda: net.forward(X)),
            ("predict_proba, large data", large, lambda: net.predict_proba(X)),
        ]:
            before = _kernel_stats()
            with _config.override(**settings):
                start = time.perf_counter()
                call()
            seconds = time.perf_counter() - start
            done = [
                f"{name} {'compiled' if after[1] > before[name][1] else 'loaded'}"
                for name, after in _kernel_stats().items()
                if after != before[name]
            ]
            print(f"  {np.dtype(dtype).name} {what:38s} {seconds:6.2f} s  {', '.join(done) or 'nothing new'}")


DATASETS = ["moons", "circles", "xor", "parity", "blobs"]  # fastnn.datasets.make_<name>


TWO_FEATURES = ("moons", "circles")  # the generators without n_features
DEFAULT_FEATURES = 2


def _warm_row_kernels(dtype):
    """Compile (or load) the kernels a Dask worker runs, in this process: the workers then read them from the cache."""
    from fastnn import _config

    X = np.zeros((4, 2), dtype)
    for outputs in (1, 2):  # the output layer's products go to BLAS from 2 outputs (OUTPUTS_BLAS)
        net = fastnn.SimpleNeuralNetwork(2, 2, outputs, seed=0, dtype=dtype)
        y = np.zeros((4, outputs), dtype)
        # The chunks in Python (not ROWS_COMPILED): the workers' kernels.
        with _config.override(BLAS_MIN_WORK=0, STREAM_MIN_WORK=10**18, ROWS_COMPILED=False):
            net.train(X, y, 1, 0.1, verbose=False)
            net.predict_proba(X)
        net.predict_proba(X)


@contextlib.contextmanager
def _dask_client(args):
    """A distributed.Client: on a local cluster of --workers processes, or on the scheduler at --scheduler."""
    try:
        import distributed
    except ImportError:
        raise ValueError('--workers and --scheduler need Dask: pip install "fastnn[dask]"') from None
    with contextlib.ExitStack() as stack:
        if args.scheduler is not None:
            client = stack.enter_context(distributed.Client(args.scheduler, timeout="20s"))
            where = f"the scheduler at {args.scheduler}"
        else:
            _warm_row_kernels(np.dtype(args.dtype))
            # On loopback, the dashboard too, on a free port: nothing listens beyond this machine.
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            ))
            client = stack.enter_context(distributed.Client(cluster))
            where = f"a local cluster of {args.workers} worker processes"
        workers = len(client.scheduler_info()["workers"])
        print(f"Dask: {where}, {workers} worker{'s' if workers != 1 else ''}")
        yield client


def _with_data(command):
    """train's --data, --workers and --scheduler: open the files, start or join the cluster, then run the command."""

    @functools.wraps(command)
    def run(args):
        args.arrays = None
        on_dask = args.workers is not None or args.scheduler is not None
        if on_dask and args.batch_size != "full":
            raise ValueError(
                "--workers and --scheduler train the full batch: pass --batch-size full (each mini-batch needs "
                "the weights the previous one left, so batches cannot run on several machines at once)"
            )
        with contextlib.ExitStack() as stack:
            args.client = stack.enter_context(_dask_client(args)) if on_dask else None
            if args.data is not None:
                paths = [os.path.join(args.data, name) for name in ("X.npy", "y.npy")]
                for path in paths:
                    if not os.path.isfile(path):
                        raise OSError(f"--data {args.data}: no {os.path.basename(path)} there (fastnn generate --out writes one)")
                if on_dask:
                    from fastnn.dask import read_npy

                    args.arrays = tuple(read_npy(path, chunks=_DASK_CHUNK) for path in paths)
                else:
                    args.arrays = tuple(np.load(path, mmap_mode="r") for path in paths)
                args.n_samples = args.arrays[0].shape[0]
            return command(args)

    return run


_DASK_CHUNK = 1 << 20  # rows per chunk of the dask arrays the CLI makes


def _dataset(args, make, shape):
    """X, y and where they came from: the --data files, or the generator (on the workers with a Dask client)."""
    if args.arrays is not None:
        X, y = args.arrays
        return X, y, (os.path.join(args.data, "X.npy"), X.dtype, "read from the file")
    chunks = {} if args.client is None else {"chunks": _DASK_CHUNK}
    X, y = make(args.n_samples, **shape, noise=args.noise, seed=args.seed, dtype=args.dtype, **chunks)
    return X, y, (args.dataset, args.dtype, f"noise {args.noise}, generated{' on the workers' if chunks else ''}")


@_with_data
def train(args):
    """Generate a dataset, train on all but its last --test-fraction of rows, report loss, accuracy and time."""
    from fastnn import datasets

    make = getattr(datasets, f"make_{args.dataset}")
    n_features = getattr(args, "n_features", DEFAULT_FEATURES)
    shape = {} if args.dataset in TWO_FEATURES else {"n_features": n_features}
    n_test = int(round(args.n_samples * args.test_fraction))
    n_train = args.n_samples - n_test
    if n_train < 1:
        raise ValueError(f"--test-fraction {args.test_fraction} of {plural(args.n_samples, 'row')} leaves no row to train on")
    start = time.perf_counter()
    X, y, (name, dtype, how) = _dataset(args, make, shape)
    print(
        f"{name}: {args.n_samples:,} x {X.shape[1]} {dtype} ({X.nbytes / 1e6:,.0f} MB), "
        f"{how} in {time.perf_counter() - start:.2f} s; "
        f"{plural(n_train, 'row')} to train on, {n_test:,} held out"
    )
    net = fastnn.SimpleNeuralNetwork(
        X.shape[1], args.hidden, 1, seed=args.seed, dtype=args.dtype, gradient=args.gradient
    )
    batch = None if args.batch_size == "full" else int(args.batch_size)
    print(
        f"{net!r}: {plural(args.epochs, 'epoch')}, learning rate {args.learning_rate}, "
        f"{'full batch' if batch is None else f'batches of {batch:,}'}"
    )
    start = time.perf_counter()
    try:
        losses = net.train(
            X[:n_train], y[:n_train], args.epochs, args.learning_rate,
            verbose="progress" if args.progress else False, batch_size=batch,
        )
    except KeyboardInterrupt:
        # train stopped at a consistent point: a whole epoch, a block of rows or a batch.
        done = len(net.loss_history)
        loss = f" (loss {net.loss_history[-1]:.6g})" if done else ""
        print(f"interrupted after epoch {done:,} of {args.epochs:,}{loss}", file=sys.stderr)
        if args.save is not None:
            net.save(args.save)
            print(f"saved to {args.save}", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    print(f"final loss {losses[-1]:.6g}" if len(losses) else "no epochs run")
    print(f"training took {seconds:.2f} s ({seconds / max(1, args.epochs) * 1e3:.1f} ms per epoch, compilation included)")
    if args.save is not None:  # before the scores: a Ctrl-C while they are computed loses no training
        net.save(args.save)
        print(f"saved to {args.save}")
    try:
        print(f"training accuracy {net.score(X[:n_train], y[:n_train]):.4f}", end="")
        print(f", held-out accuracy {net.score(X[n_train:], y[n_train:]):.4f}" if n_test else "")
    except KeyboardInterrupt:
        print("\ninterrupted while scoring, after training", file=sys.stderr)
        return 130
    return 0


def generate(args):
    """Write a generated dataset to --out as X.npy and y.npy, a block of rows at a time."""
    from fastnn import datasets

    make = getattr(datasets, f"make_{args.dataset}")
    shape = {} if args.dataset in TWO_FEATURES else {"n_features": getattr(args, "n_features", DEFAULT_FEATURES)}
    start = time.perf_counter()
    X, y = make(args.n_samples, **shape, noise=args.noise, seed=args.seed, dtype=args.dtype, out=args.out)
    print(
        f"{args.dataset}: {X.shape[0]:,} x {X.shape[1]} {X.dtype} ({(X.nbytes + y.nbytes) / 1e6:,.0f} MB), "
        f"noise {args.noise}, seed {args.seed}, written to {os.path.join(args.out, 'X.npy')} and y.npy "
        f"in {time.perf_counter() - start:.2f} s"
    )


def _out_dir(text):
    """--out: a directory that exists and is writable, or that can be made in one that does."""
    path = os.path.abspath(text)
    parent = path if os.path.isdir(path) else os.path.dirname(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"expected a directory, got the file {text!r}")
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write to {text!r}: {parent} is not a writable directory")
    return text


def bench(args):
    """Run the benchmark suite of a source checkout and print its table (benchmarks/report.py)."""
    suite = Path(__file__).resolve().parent.parent / "benchmarks"
    if not (suite / "report.py").is_file():
        print(f"fastnn bench needs the benchmarks/ directory of a source checkout; none at {suite}", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("fastnn_benchmark_report", suite / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    if args.chart:
        try:
            import matplotlib  # noqa: F401  (before the long run, not after it)
        except ImportError:
            print('fastnn bench --chart needs matplotlib: pip install -e ".[chart]"', file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(args.json) if args.json else Path(tmp) / "benchmarks.json"
        results.unlink(missing_ok=True)  # a table from an earlier run must not pass for this one's
        command = [sys.executable, "-m", "pytest", str(suite), "--benchmark-only", f"--benchmark-json={results}", "-q"]
        command += ["-k", args.k] if args.k else []
        print(" ".join(command[2:]), flush=True)
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as run:
            for line in run.stdout:
                if not line.startswith("Wrote benchmark data in:"):  # said below, where the file is kept
                    print(line, end="", flush=True)
        code = run.returncode
        if not results.exists():
            return code or 1
        if args.json:
            print(f"benchmark data written to {results}")
        data = json.loads(results.read_text())
        print(report.markdown(data))
        if args.chart:
            report.chart(data, args.chart)
            print(f"chart written to {args.chart}")
        return code


def _option(convert, expected, accept, high=None):
    """An argparse type: convert(text), where accept(value) and value <= high, else an error saying what was expected.

    Checked while the command line is parsed, before any data is generated.
    `high` is the library's own limit (fastnn._validation), said in the
    message only to the value beyond it.
    """

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        if high is not None and not isinstance(value, str) and value > high:
            raise argparse.ArgumentTypeError(f"expected {expected} at most {high}, got {text!r}")
        return value

    return parse


_positive_int = _option(int, "a positive integer", lambda v: v >= 1, high=INT64_MAX)
_epochs = _option(int, "a non-negative integer", lambda v: v >= 0, high=EPOCHS_MAX)
_count = _option(int, "a non-negative integer", lambda v: v >= 0)  # --seed: NumPy takes any size
_learning_rate = _option(float, "a finite positive number", lambda v: math.isfinite(v) and v > 0)
_noise = _option(float, "a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)  # its bound for the dtype: by the generator
_test_fraction = _option(float, "a number in [0, 1)", lambda v: 0 <= v < 1)
_batch_size = _option(lambda t: t if t == "full" else int(t), "a positive integer or 'full'", lambda v: v == "full" or v >= 1,
                      high=INT64_MAX)


def _save_path(text):
    """--save: a file path whose directory exists and is writable (found before training, not after)."""
    directory = os.path.dirname(os.path.abspath(text))
    if os.path.basename(text) in ("", ".", "..") or os.path.isdir(text):  # "", "dir/", "x/." name no file
        raise argparse.ArgumentTypeError(f"expected a file path, got {text!r}")
    if not os.path.isdir(directory):
        raise argparse.ArgumentTypeError(f"the directory {directory} of {text!r} does not exist")
    if not os.access(directory, os.W_OK):
        raise argparse.ArgumentTypeError(f"the directory {directory} of {text!r} is not writable")
    return text


def _dataset_options(command, rows):
    """The generator's options, for train and generate: --dataset, --n-samples (`rows` says what), --n-features, --noise."""
    command.add_argument("--dataset", choices=DATASETS, default="moons", help="which generator of fastnn.datasets")
    command.add_argument("--n-samples", type=_positive_int, default=10_000, help=rows)
    command.add_argument(
        "--n-features", type=_positive_int, default=argparse.SUPPRESS,  # absent unless given: moons and circles refuse it
        help=f"features, for xor, parity and blobs; moons and circles have 2 (default: {DEFAULT_FEATURES})",
    )
    command.add_argument("--noise", type=_noise, default=0.2, help="standard deviation of the Gaussian noise added to X")


def _parser():
    parser = argparse.ArgumentParser(prog="fastnn", description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--version", action="version", version=f"fastnn {fastnn.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{demo,train,generate,bench,compile}")
    commands.add_parser("demo", help="the reference against fastnn on the tutorial's example and a 100,000-row problem (default)")
    commands.add_parser("compile", help="compile every kernel ahead of first use and report the time each took")

    t = commands.add_parser(
        "train",
        help="train on a generated dataset, with a progress bar",
        description="Generate a dataset with fastnn.datasets, train a network on all but its last rows, "
        "and report the final loss, the training and held-out accuracy and the time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _dataset_options(t, "rows to generate, held-out ones included")
    t.add_argument("--test-fraction", type=_test_fraction, default=0.2, help="fraction of the rows held out for the accuracy")
    t.add_argument("--hidden", type=_positive_int, default=16, help="hidden units")
    t.add_argument("--epochs", type=_epochs, default=50, help="passes over the training rows")
    t.add_argument("--learning-rate", type=_learning_rate, default=0.05, help="step size; gradients are summed over a batch")
    t.add_argument("--batch-size", type=_batch_size, default=64, help="rows per step, or 'full' for the tutorial's full batch")
    t.add_argument("--dtype", choices=["float32", "float64"], default="float64", help="float type of data and weights")
    t.add_argument(
        "--gradient", choices=["tutorial", "exact"], default="exact",
        help="output delta: the tutorial's (squared-error) rule or the exact cross-entropy gradient",
    )
    t.add_argument("--seed", type=_count, default=0, help="seeds the data, the initial weights and the shuffles")
    t.add_argument("--save", metavar="PATH", type=_save_path, help="save the trained network to this .npz file")
    t.add_argument("--data", metavar="DIR", help="train on DIR/X.npy and DIR/y.npy (from fastnn generate), read "
                   "from the files block by block, instead of generating; --dataset, --n-samples, --n-features, "
                   "--noise are then unused")
    where = t.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, metavar="N", help="train the full batch on a local Dask "
                       "cluster of N worker processes (needs fastnn[dask] and --batch-size full)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="train the full batch on the running Dask cluster "
                       "whose scheduler is at ADDRESS (tcp://host:8786); needs --batch-size full")
    parser.subcommands = {"train": t}  # for errors found after parsing, with the command's usage line
    t.set_defaults(progress=True)
    t.add_argument(
        "--no-progress", dest="progress", action="store_false", default=argparse.SUPPRESS,
        help="no progress bar (one is drawn on stderr by default)",
    )

    g = commands.add_parser(
        "generate",
        help="write a generated dataset to DIR/X.npy and DIR/y.npy, block by block",
        description="Generate a dataset with fastnn.datasets and write it as X.npy and y.npy, a block of rows at "
        "a time, for fastnn train --data DIR (or np.load(path, mmap_mode='r')).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _dataset_options(g, "rows to generate")
    parser.subcommands["generate"] = g
    g.add_argument("--dtype", choices=["float32", "float64"], default="float64", help="float type of the files")
    g.add_argument("--seed", type=_count, default=0, help="seeds the data")
    g.add_argument("--out", metavar="DIR", type=_out_dir, required=True, help="directory for X.npy and y.npy (made if missing)")

    b = commands.add_parser(
        "bench",
        help="run the benchmark suite (from a source checkout) and print its table",
        description="Run pytest-benchmark on benchmarks/ and print the median time per epoch and the speedups.",
    )
    b.add_argument("-k", metavar="EXPRESSION", help="only the benchmarks matching this pytest -k expression (default: all)")
    b.add_argument("--json", metavar="PATH", help="write pytest-benchmark's JSON results to this file (default: none kept)")
    b.add_argument("--chart", metavar="PATH", help="also draw the speedups as a PNG chart; needs matplotlib (default: no chart)")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in parser.subcommands and args.dataset in TWO_FEATURES and hasattr(args, "n_features"):
        parser.subcommands[args.command].error(f"argument --n-features: --dataset {args.dataset} has 2 features; "
                                    "--n-features applies to xor, parity and blobs")
    if args.command in (None, "demo", "train"):  # a first run says why it waits
        from fastnn import _kernels

        with _kernels.announcing(sys.stderr):
            return _dispatch(args)
    return _dispatch(args)


def _dispatch(args):
    if args.command == "compile":
        compile_kernels()
    elif args.command == "train":
        try:
            return train(args)
        except (TypeError, ValueError, FloatingPointError, OSError) as exc:
            print(f"fastnn train: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # before training started: nothing to save
            print("interrupted before training", file=sys.stderr)
            return 130
    elif args.command == "generate":
        try:
            generate(args)
        except (TypeError, ValueError, OSError) as exc:
            print(f"fastnn generate: {exc}", file=sys.stderr)
            return 2
    elif args.command == "bench":
        return bench(args)
    else:
        demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
