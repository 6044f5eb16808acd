"""fit time of fastnn.sklearn.MLPClassifier against scikit-learn's MLPClassifier, in one process.

    python benchmarks/sklearn_speed.py [--rows 100000] [--features 20] [--hidden 10 32 100]
                                       [--epochs 10] [--batch 200] [--repeat 5]
                                       [--dtype float64] [--blas-threads N]

Both estimators get the same data, hidden size, activation ("logistic"),
solver, batch size and random_state, and run exactly `epochs` epochs
(tol=0 and n_iter_no_change above the epochs, so that neither stops early).
fastnn's kernels are compiled by a warm-up fit before the timing; every
figure is the median of `repeat` fits, ours and scikit-learn's in turn.
Prints the CPU, a table and the ratio.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP

from fastnn.__main__ import _cpu_name as cpu_name
from fastnn.sklearn import MLPClassifier as FastMLP


def median_fits(makers, X, y, repeat):
    """The median fit time of each estimator; the fits alternate, so that both see the same load on the machine."""
    times = [[] for _ in makers]
    for _ in range(repeat):
        for make, spent in zip(makers, times):
            est = make()
            start = time.perf_counter()
            est.fit(X, y)
            spent.append(time.perf_counter() - start)
            assert est.n_iter_ == est.max_iter, "the fit stopped early: the timing would not compare like with like"
    return [statistics.median(spent) for spent in times]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--hidden", type=int, nargs="+", default=[10])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--blas-threads", type=int, default=None,
        help="hold NumPy's BLAS (scikit-learn's products) to this many threads; default: the library's own",
    )
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features)).astype(args.dtype)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)
    print(f"CPU: {cpu_name()}")
    print(
        f"fit on {args.rows} x {args.features} ({args.dtype}), {args.epochs} epochs, batches of {args.batch}, "
        f"activation='logistic'; median of {args.repeat} fits, fastnn's compilation excluded"
    )
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
        print(f"NumPy's BLAS held to {args.blas_threads} thread(s)")
    print(f"{'hidden':>6}  {'solver':>6}  {'scikit-learn (s)':>16}  {'fastnn (s)':>10}  {'speed-up':>8}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    for hidden in args.hidden:
        for solver in ("sgd", "adam"):
            params = dict(
                hidden_layer_sizes=(hidden,), activation="logistic", solver=solver, batch_size=args.batch,
                max_iter=args.epochs, tol=0.0, n_iter_no_change=args.epochs + 1, random_state=0,
            )
            FastMLP(**params).fit(X[: 4 * args.batch], y[: 4 * args.batch])  # compiles the kernels
            ours, theirs = median_fits([lambda: FastMLP(**params), lambda: SklearnMLP(**params)], X, y, args.repeat)
            print(f"{hidden:>6}  {solver:>6}  {theirs:>16.3f}  {ours:>10.3f}  {theirs / ours:>7.1f}x", flush=True)


if __name__ == "__main__":
    main()
