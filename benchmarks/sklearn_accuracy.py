"""Test accuracy of fastnn.sklearn.MLPClassifier against scikit-learn's MLPClassifier on scikit-learn's data sets.

    python benchmarks/sklearn_accuracy.py [--datasets breast_cancer digits wine iris] [--hidden 10 100]
                                          [--solver adam sgd] [--max-iter 200] [--learning-rate-init 0.01]
                                          [--folds 5]

Each data set (breast cancer, digits, wine, iris) is standardized inside
the pipeline; both estimators get the same hidden size, activation
("logistic"), solver, max_iter, learning rate and random_state, and are
scored by the same stratified folds. Multi-class data sets (digits, wine,
iris) are where the two models differ: one sigmoid output per class here,
a softmax in scikit-learn.
"""

import argparse
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fastnn.sklearn import MLPClassifier as FastMLP

DATASETS = ["breast_cancer", "digits", "wine", "iris"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=DATASETS)
    parser.add_argument("--hidden", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--solver", nargs="+", choices=["adam", "sgd"], default=["adam", "sgd"])
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--learning-rate-init", type=float, default=0.01)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{args.folds}-fold accuracy (%), max_iter={args.max_iter}, learning_rate_init={args.learning_rate_init}")
    print(f"{'data set':>14}  {'hidden':>6}  {'solver':>6}  {'scikit-learn':>12}  {'fastnn':>6}  {'difference':>10}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name in args.datasets:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
        for hidden in args.hidden:
            for solver in args.solver:
                settings = dict(hidden_layer_sizes=(hidden,), activation="logistic", solver=solver,
                                learning_rate_init=args.learning_rate_init, max_iter=args.max_iter, random_state=0)
                scores = []
                for estimator in (SklearnMLP, FastMLP):
                    with threadpool_limits(1):  # scikit-learn's small products run best on one thread
                        pipeline = make_pipeline(StandardScaler(), estimator(**settings))
                        scores.append(100 * cross_val_score(pipeline, X, y, cv=folds).mean())
                theirs, ours = scores
                print(f"{name:>14}  {hidden:>6}  {solver:>6}  {theirs:>12.1f}  {ours:>6.1f}  {ours - theirs:>+10.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
