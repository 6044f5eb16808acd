"""fastnn.sklearn.MLPClassifier: scikit-learn's estimator checks, its API in use, its numbers against oracles."""

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import datasets  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnMLP  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import shuffle as sk_shuffle  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastnn._kernels import optim, stream  # noqa: E402
from fastnn.sklearn import MLPClassifier  # noqa: E402

# Tolerances, one per situation.
# The same arithmetic in another order (NumPy's BLAS against the kernels'
# vectorized sums, fastnn's exp within 1 ulp of libm), over a few epochs of
# a tiny well-conditioned problem: the differences stay near rounding.
ORACLE_RTOL, ORACLE_ATOL = 1e-10, 1e-12
# float32 kernels against the float64 oracle: float32 rounding, a few epochs.
ORACLE32_RTOL, ORACLE32_ATOL = 2e-4, 2e-5
# Test accuracy against scikit-learn's estimator, in accuracy points (issue 18).
ACCURACY_POINTS = 2.0

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPClassifier()])
def test_sklearn_estimator_checks(estimator, check):
    """scikit-learn's own checks, on the default estimator: none is expected to fail."""
    check(estimator)


def blobs(n=120, classes=2, seed=0):
    X, y = datasets.make_blobs(n_samples=n, centers=classes, n_features=4, cluster_std=2.0, random_state=seed)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------------ the API in use


def test_import_fastnn_does_not_import_sklearn():
    code = "import sys, fastnn; assert 'sklearn' not in sys.modules, 'import fastnn imported sklearn'"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_pipeline_with_scaler_in_grid_search():
    X, y = datasets.load_iris(return_X_y=True)
    mlp = MLPClassifier(max_iter=300, learning_rate_init=0.01, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
    grid = GridSearchCV(pipe, {"mlp__hidden_layer_sizes": [(5,), (20,)], "mlp__alpha": [1e-4, 1e-2]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"mlp__hidden_layer_sizes", "mlp__alpha"}
    assert grid.best_score_ > 0.9
    assert grid.best_estimator_.score(X, y) > 0.9
    assert grid.predict(X).shape == y.shape


def test_docstring_example():
    import doctest

    import fastnn.sklearn

    assert doctest.testmod(fastnn.sklearn).failed == 0


README_EXAMPLE = """
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn.sklearn import MLPClassifier

X, y = load_breast_cancer(return_X_y=True)
names = load_breast_cancer().target_names[y]  # "malignant", "benign": labels of any type
X_train, X_test, y_train, y_test = train_test_split(X, names, stratify=names, random_state=0)

pipe = make_pipeline(StandardScaler(), MLPClassifier(learning_rate_init=0.01, max_iter=500, random_state=0))
grid = {"mlpclassifier__hidden_layer_sizes": [(10,), (50,)], "mlpclassifier__alpha": [1e-4, 1e-2]}
search = GridSearchCV(pipe, grid, cv=5).fit(X_train, y_train)
print(search.best_params_)
print(search.score(X_test, y_test))
print(search.predict(X_test[:3]), search.predict_proba(X_test[:3]).round(3))
"""


def test_readme_example_runs_as_written():
    """The README's pipeline example, verbatim: it converges (no ConvergenceWarning) and learns."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        scope = {}
        exec(README_EXAMPLE, scope)
    assert scope["search"].score(scope["X_test"], scope["y_test"]) > 0.93
    assert set(scope["search"].predict(scope["X_test"])) == {"malignant", "benign"}


def test_cross_val_score_runs_and_learns():
    X, y = blobs(200, 3)
    scores = cross_val_score(MLPClassifier((10,), learning_rate_init=0.01, random_state=0), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_clone_gives_an_unfitted_copy_with_the_same_parameters():
    est = MLPClassifier((7,), solver="sgd", momentum=0.5, dtype="float32", random_state=3).fit(*blobs())
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "coefs_")
    X, y = blobs()
    np.testing.assert_array_equal(copy.fit(X, y).coefs_[0], est.coefs_[0])  # same seed, same fit


def test_pickle_round_trip_gives_identical_predictions_and_training():
    X, y = blobs(150, 3)
    est = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    # The optimizer state travels too: one more epoch is the same epoch.
    est.partial_fit(X, y)
    back.partial_fit(X, y)
    np.testing.assert_array_equal(back.coefs_[0], est.coefs_[0])
    assert back.loss_curve_ == est.loss_curve_


@pytest.mark.parametrize("classes", [["no", "yes"], ["cat", "dog", "emu"]])
def test_string_labels(classes):
    X, y = blobs(150, len(classes))
    labels = np.array(classes, dtype=object)[y]
    est = MLPClassifier((10,), learning_rate_init=0.01, random_state=0).fit(X, labels)
    assert list(est.classes_) == sorted(classes)
    pred = est.predict(X)
    assert set(pred) <= set(classes)
    assert np.mean(pred == labels) > 0.85
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), len(classes))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))
    assert est.n_outputs_ == (1 if len(classes) == 2 else len(classes))


def test_binary_predict_proba_is_one_minus_p_and_p():
    X, y = blobs()
    est = MLPClassifier((5,), max_iter=50, random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    np.testing.assert_array_equal(proba[:, 0], 1 - proba[:, 1])
    np.testing.assert_array_equal(est.predict(X), est.classes_[(proba[:, 1] > 0.5).astype(int)])


def test_partial_fit_epochs_equal_fit_epochs():
    """partial_fit keeps the weights and the optimizer between calls: n calls are fit's n epochs, bit for bit."""
    X, y = blobs(130, 3)
    settings = dict(hidden_layer_sizes=(6,), batch_size=32, shuffle=False, random_state=1, tol=0.0,
                    n_iter_no_change=100)
    for solver in ("adam", "sgd"):
        incremental = MLPClassifier(solver=solver, **settings)
        with pytest.warns(UserWarning, match="clipped"):  # 2 rows, batches of 32
            incremental.partial_fit(X[:2], y[:2], classes=np.unique(y))  # a first call seeing only some classes
        incremental.partial_fit(X[2:], y[2:])  # compatible: continues
        for _ in range(4):
            incremental.partial_fit(X, y)
        assert incremental.n_iter_ == 1 and len(incremental.loss_curve_) == 6
        assert incremental.t_ == 5 * len(X)
        whole = MLPClassifier(solver=solver, **settings)
        with pytest.warns(UserWarning, match="clipped"):
            whole.partial_fit(X[:2], y[:2], classes=np.unique(y))
        whole.partial_fit(X[2:], y[2:])
        whole.set_params(warm_start=True, max_iter=4)
        whole.fit(X, y)  # the same epochs, but with a new optimizer, as scikit-learn's warm start
        assert whole.n_iter_ == 4 and len(whole.loss_curve_) == 6
        assert not np.array_equal(whole.coefs_[0], incremental.coefs_[0])
        fresh = MLPClassifier(solver=solver, max_iter=4, **settings).fit(X, y)
        again = MLPClassifier(solver=solver, **settings)
        again.partial_fit(X, y, classes=np.unique(y))
        for _ in range(3):
            again.partial_fit(X, y)
        np.testing.assert_array_equal(again.coefs_[0], fresh.coefs_[0])
        np.testing.assert_array_equal(again.intercepts_[1], fresh.intercepts_[1])
        assert again.loss_curve_ == fresh.loss_curve_


def test_partial_fit_errors():
    X, y = blobs()
    est = MLPClassifier((4,))
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)
    est.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="classes not in"):
        est.partial_fit(X, y + 5)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])


def test_multilabel():
    X, Y = datasets.make_multilabel_classification(n_samples=200, n_features=6, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    est = MLPClassifier((16,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, Y)
    assert est.n_outputs_ == 4
    np.testing.assert_array_equal(est.classes_, np.arange(4))
    pred = est.predict(X)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    proba = est.predict_proba(X)
    assert proba.shape == Y.shape and ((proba > 0) & (proba < 1)).all()
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(pred.dtype))  # per-label sigmoids, not normalized
    assert np.mean(pred == Y) > 0.8


def test_warm_start_continues_and_checks_classes():
    X, y = blobs()
    est = MLPClassifier((5,), max_iter=3, warm_start=True, random_state=0).fit(X, y)
    first = est.coefs_[0].copy()
    est.fit(X, y)
    assert len(est.loss_curve_) == 6
    assert not np.array_equal(est.coefs_[0], first)
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X, y + 1)


def test_early_stopping_keeps_the_best_validation_weights():
    X, y = blobs(300, 3)
    est = MLPClassifier((10,), learning_rate_init=0.05, early_stopping=True, n_iter_no_change=3, random_state=0)
    est.fit(X, y)
    assert est.best_loss_ is None
    assert len(est.validation_scores_) == est.n_iter_ < est.max_iter
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.validation_scores_[-1] <= est.best_validation_score_


def test_stopping_on_tol_and_verbose(capsys):
    X, y = blobs()
    est = MLPClassifier((5,), tol=10.0, n_iter_no_change=2, verbose=True, random_state=0).fit(X, y)
    # The first epoch improves on best_loss_ = inf; the next three do not by 10: the count passes 2 after the fourth.
    assert est.n_iter_ == 4
    assert SklearnMLP((5,), activation="logistic", tol=10.0, n_iter_no_change=2, random_state=0).fit(X, y).n_iter_ == 4
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "did not improve more than tol=10" in out
    assert est.best_loss_ == min(est.loss_curve_)


def test_dtype():
    X, y = blobs()
    assert MLPClassifier((3,), max_iter=2).fit(X, y).coefs_[0].dtype == np.float64
    assert MLPClassifier((3,), max_iter=2).fit(X.astype(np.float32), y).coefs_[0].dtype == np.float32
    est = MLPClassifier((3,), max_iter=2, dtype="float32").fit(X, y)
    assert est.coefs_[0].dtype == np.float32 and est.predict_proba(X).dtype == np.float32
    assert MLPClassifier((3,), max_iter=2, dtype=np.float64).fit(X.astype(np.float32), y).coefs_[1].dtype == np.float64


def test_one_compiled_variant_per_dtype():
    """Fortran order, read-only, integer and float32 input are converted at the boundary."""
    X, y = blobs()
    readonly = X.copy()
    readonly.setflags(write=False)
    for data in (np.asfortranarray(X), readonly, X[::1, :], (X * 10).astype(np.int64), X.tolist()):
        est = MLPClassifier((3,), max_iter=2, random_state=0).fit(data, y)
        est.predict_proba(data)
    MLPClassifier((3,), max_iter=2, dtype="float32").fit(X, y).predict(readonly)
    allowed = {"readonly array(float64, 2d, C)", "readonly array(float32, 2d, C)"}  # as the engine passes data
    for kernel in (optim._epoch, stream.predict):
        assert {str(sig[0]) for sig in kernel.signatures} <= allowed


def test_an_epoch_cut_into_many_calls_gives_the_same_fit(monkeypatch):
    """Big data runs an epoch in several compiled calls (to check for divergence and let Ctrl-C in): same numbers."""
    import fastnn.sklearn as fsk

    X, y = blobs(301, 3)
    settings = dict(hidden_layer_sizes=(5,), batch_size=20, max_iter=3, random_state=0, alpha=0.01)
    whole = MLPClassifier(**settings).fit(X, y)
    monkeypatch.setattr(fsk, "_CALL_WORK", 1)  # one batch per call
    cut = MLPClassifier(**settings).fit(X, y)
    assert cut.loss_curve_ == whole.loss_curve_
    for a, b in zip(cut.coefs_ + cut.intercepts_, whole.coefs_ + whole.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = blobs()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = MLPClassifier((3,), max_iter=5, random_state=0).fit(frame, y)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"] and est.n_features_in_ == 4
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(est.predict_proba(frame), est.predict_proba(X))
    with pytest.raises(ValueError, match="feature names"):
        est.predict(frame.rename(columns={"a": "z"}))


def test_bad_parameters_name_themselves():
    X, y = blobs()
    with pytest.raises(ValueError, match="only activation='logistic' is supported"):
        MLPClassifier(activation="relu").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'activation' parameter"):
        MLPClassifier(activation="sigmoid").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'solver' parameter"):
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="one hidden layer"):
        MLPClassifier(hidden_layer_sizes=(5, 5)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'dtype' parameter"):
        MLPClassifier(dtype="float16").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'momentum' parameter"):
        MLPClassifier(momentum=1.5).fit(X, y)
    with pytest.warns(UserWarning, match="clipped"):
        MLPClassifier((3,), batch_size=10_000, max_iter=1).fit(X, y)


def test_divergence_raises_and_keeps_the_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    est = MLPClassifier((4,), solver="sgd", batch_size=10, max_iter=2, warm_start=True, random_state=0).fit(X, y)
    saved = [p.copy() for p in est.coefs_ + est.intercepts_]
    curve = list(est.loss_curve_)
    est.set_params(learning_rate_init=1e308)
    with pytest.raises(ValueError, match="diverged in epoch 1"):
        est.fit(X * 1e3, y)
    for p, q in zip(est.coefs_ + est.intercepts_, saved):
        np.testing.assert_array_equal(p, q)
    assert est.loss_curve_ == curve
    assert np.isfinite(est.predict_proba(X)).all()


# ------------------------------------------------------------------ the numbers


def oracle_fit(X, Y, hidden, solver, epochs, batch, seed, alpha=1e-4, lr=1e-3, momentum=0.9, nesterov=True,
               beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """scikit-learn's MLPClassifier steps for one logistic layer and sigmoid outputs, in plain NumPy float64.

    Y is the (n, outputs) 0/1 matrix. Returns ((W1, b1, W2, b2), losses).
    """
    rs = np.random.RandomState(seed)
    n, f, o = X.shape[0], X.shape[1], Y.shape[1]
    params = []
    for fan_in, fan_out in ((f, hidden), (hidden, o)):
        bound = np.sqrt(2.0 / (fan_in + fan_out))
        params.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        params.append(rs.uniform(-bound, bound, fan_out))
    W1, b1, W2, b2 = params
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    eps = np.finfo(np.float64).eps
    idx, t, losses = np.arange(n), 0, []
    for _ in range(epochs):
        idx = sk_shuffle(idx, random_state=rs)
        total = 0.0
        for s in range(0, n, batch):
            rows = idx[s : s + batch]
            x, y, m = X[rows], Y[rows], len(rows)
            H = 1 / (1 + np.exp(-(x @ W1 + b1)))
            P = 1 / (1 + np.exp(-(H @ W2 + b2)))
            Pc = np.clip(P, eps, 1 - eps)
            loss = -np.sum(y * np.log(Pc) + (1 - y) * np.log(1 - Pc)) / m
            loss += 0.5 * alpha * (np.sum(W1**2) + np.sum(W2**2)) / m
            total += loss * m
            D2 = P - y
            D1 = (D2 @ W2.T) * H * (1 - H)
            grads = [(x.T @ D1 + alpha * W1) / m, D1.sum(0) / m, (H.T @ D2 + alpha * W2) / m, D2.sum(0) / m]
            t += 1
            for i, (p, g) in enumerate(zip(params, grads)):
                if solver == "adam":
                    first[i] = beta_1 * first[i] + (1 - beta_1) * g
                    second[i] = beta_2 * second[i] + (1 - beta_2) * g**2
                    lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
                    p += -lr_t * first[i] / (np.sqrt(second[i]) + epsilon)
                else:
                    first[i] = momentum * first[i] - lr * g
                    p += momentum * first[i] - lr * g if nesterov else first[i]
        losses.append(total / n)
    return params, losses


@pytest.mark.parametrize(
    "solver, extra",
    [
        ("adam", dict()),
        ("adam", dict(beta_1=0.5, beta_2=0.9, epsilon=1e-6, alpha=0.1)),
        ("sgd", dict(lr=0.1, nesterov=True)),
        ("sgd", dict(lr=0.1, nesterov=False, momentum=0.5, alpha=0.05)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_equals_numpy_oracle(solver, extra, dtype):
    """Loss curve and weights of a fit equal the NumPy steps: 3 classes (3 sigmoid outputs), 23 rows in batches of 5."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((23, 3))
    y = rng.integers(0, 3, 23)
    Y = (y[:, None] == np.arange(3)).astype(float)
    (W1, b1, W2, b2), losses = oracle_fit(X, Y, 4, solver, epochs=4, batch=5, seed=7, **extra)
    names = dict(lr="learning_rate_init", nesterov="nesterovs_momentum")
    est = MLPClassifier(
        (4,), solver=solver, batch_size=5, max_iter=4, random_state=7, tol=0.0, dtype=dtype,
        **{names.get(k, k): v for k, v in extra.items()},
    ).fit(X.astype(dtype), y)
    rtol, atol = (ORACLE_RTOL, ORACLE_ATOL) if dtype == np.float64 else (ORACLE32_RTOL, ORACLE32_ATOL)
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=rtol, atol=atol)
    for ours, theirs in zip(est.coefs_ + est.intercepts_, [W1, W2, b1, b2]):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    assert est.loss_ == est.loss_curve_[-1] and est.n_iter_ == 4 and est.t_ == 4 * 23


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("target", ["binary", "multilabel"])
def test_fit_equals_sklearn_where_the_network_is_the_same(solver, target):
    """Binary and multi-label targets have sigmoid outputs in scikit-learn too: the same seed gives the same fit."""
    if target == "binary":
        X, y = datasets.load_breast_cancer(return_X_y=True)
    else:
        X, y = datasets.make_multilabel_classification(n_samples=150, n_features=8, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    settings = dict(hidden_layer_sizes=(8,), solver=solver, batch_size=50, max_iter=5, random_state=0, alpha=1e-3)
    ours = MLPClassifier(**settings).fit(X, y)
    theirs = SklearnMLP(activation="logistic", **settings).fit(X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=ORACLE_RTOL, atol=ORACLE_ATOL)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=ORACLE_RTOL, atol=ORACLE_ATOL)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("name", ["iris", "breast_cancer", "wine"])
def test_accuracy_within_two_points_of_sklearn(name):
    """5-fold cross-validated accuracy, standardized, same hidden size, activation, solver, max_iter, seed."""
    from threadpoolctl import threadpool_limits

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    settings = dict(hidden_layer_sizes=(10,), activation="logistic", solver="adam", learning_rate_init=0.01,
                    max_iter=200, random_state=0)
    with threadpool_limits(1), warnings.catch_warnings():  # scikit-learn's small products run best on one thread
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**settings)), X, y, cv=cv).mean()
        theirs = cross_val_score(make_pipeline(StandardScaler(), SklearnMLP(**settings)), X, y, cv=cv).mean()
    assert abs(ours - theirs) * 100 <= ACCURACY_POINTS, (ours, theirs)
    assert ours > 0.9
