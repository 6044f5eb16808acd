"""A scikit-learn estimator on fastnn's kernels: ``from fastnn.sklearn import MLPClassifier``.

The network is fastnn's (one sigmoid hidden layer, sigmoid outputs, binary
cross-entropy); the parameters, the optimizers and the fitted attributes are
those of scikit-learn's ``MLPClassifier(activation="logistic")``. Each epoch
runs in a few compiled calls (``_kernels.optim._epoch``), many batches
each; the Python code here checks the input once, keeps the attributes and
decides when to stop, as scikit-learn's ``_fit_stochastic`` does.

``import fastnn`` does not import this module, nor scikit-learn.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._config import MAX_BLOCK
from ._kernels import optim as _k
from ._kernels import stream
from ._layout import arena, block_buffers, blocks

__all__ = ["MLPClassifier"]

# Multiply-adds per compiled call at most (a few tens of milliseconds): the
# epoch returns to Python this often, to check for divergence and let Ctrl-C in.
_CALL_WORK = 50_000_000
_DTYPES = {"float32": np.float32, "float64": np.float64}


def _width(rows):
    """Block width for batches of `rows` rows: the engine's packed layout."""
    return blocks(rows)[1]


def _zeros(shapes, dtype):
    """Zeroed arrays, each on cache lines of its own: the engine's arena."""
    return arena(shapes, np.dtype(dtype))


def _data(arr, dtype):
    """Data as the engine passes it: a read-only view of C-ordered rows of dtype, copied only if needed.

    The kernels only read it, and one array type means one compiled variant.
    """
    arr = np.ascontiguousarray(arr, dtype=dtype).view()
    arr.flags.writeable = False
    return arr


def _own(arr, dtype):
    """arr as a C-ordered, writable array of dtype: the one array type the kernels are compiled for."""
    arr = np.ascontiguousarray(arr, dtype=dtype)
    return arr if arr.flags.writeable else arr.copy()


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn's ``MLPClassifier`` for one logistic hidden layer, on fastnn's compiled kernels.

    A drop-in for ``sklearn.neural_network.MLPClassifier(hidden_layer_sizes=(h,),
    activation="logistic")`` with the "sgd" or "adam" solver: the same
    parameters, meanings, initialization, batches, loss, stopping rules and
    fitted attributes. Every epoch runs in compiled code, a few calls per
    epoch however small the batches.

    Multi-class targets are trained differently from scikit-learn:
    scikit-learn puts a softmax on its outputs and minimizes the categorical
    cross-entropy; this network has one sigmoid output per class, trained
    one-vs-rest with the binary cross-entropy summed over the outputs and
    averaged over the samples. ``predict_proba`` divides each row by its sum,
    so that the rows sum to 1; ``predict`` takes the largest output. The
    loss (``loss_``, ``loss_curve_``, and so what `tol` compares) is then
    that sum of K binary losses, not comparable with scikit-learn's
    categorical loss. Binary and multi-label targets are trained as
    scikit-learn trains them: the same seed gives the same fit, up to
    rounding.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of one int, default=(100,)
        The size of the one hidden layer.
    activation : {"logistic"}, default="logistic"
        The hidden layer's activation. Only "logistic" (the sigmoid) is
        supported; scikit-learn's other names raise a ValueError. (The default
        differs from scikit-learn's "relu".)
    solver : {"adam", "sgd"}, default="adam"
        "sgd": stochastic gradient descent with `momentum` and
        `nesterovs_momentum`; "adam": Kingma and Ba's Adam with `beta_1`,
        `beta_2`, `epsilon`. scikit-learn's "lbfgs" is not supported.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * sum(W**2) / n_batch``,
        on the weights, not the biases.
    batch_size : int or "auto", default="auto"
        Rows per step; "auto" is ``min(200, n_samples)``. Larger than the
        number of samples: a warning, and clipped.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the step size, used by "sgd" only: "invscaling" sets it to
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch (t: the
        samples seen); "adaptive" divides it by 5 when `n_iter_no_change`
        epochs do not improve by `tol`.
    learning_rate_init : float, default=0.001
        The step size (adam's before its bias correction).
    power_t : float, default=0.5
        The exponent of "invscaling".
    max_iter : int, default=200
        Epochs at most (passes over the data).
    shuffle : bool, default=True
        Visit the samples in a new random order every epoch.
    random_state : int, RandomState instance or None, default=None
        The initial weights, the validation split and the shuffling, drawn in
        scikit-learn's order: the same seed gives the same initial weights
        and batches as scikit-learn's estimator.
    tol : float, default=1e-4
        Training stops (or "adaptive" slows down) when the loss (or the
        validation score, with `early_stopping`) has not improved by `tol`
        for `n_iter_no_change` consecutive epochs.
    verbose : bool, default=False
        Print the loss of every epoch.
    warm_start : bool, default=False
        Start `fit` from the weights of the previous fit (with a new
        optimizer state, as scikit-learn).
    momentum : float, default=0.9
        Momentum of "sgd", in [0, 1].
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for "sgd".
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training data (stratified for
        binary targets), stop when its accuracy stops improving, and keep
        the weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the data held out with `early_stopping`, in [0, 1).
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of adam's first and second moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's term for numerical stability.
    n_iter_no_change : int or np.inf, default=10
        Epochs without improvement by `tol` before stopping.
    dtype : None, "float32", "float64", np.float32 or np.float64, default=None
        Float type of the weights and of the compiled code. None: float32
        for float32 input, float64 otherwise (as scikit-learn keeps the
        input's precision). `warm_start` and `partial_fit` keep the type of
        the first fit.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (for multi-label targets, ``arange(n_labels)``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X has string column names.
    n_outputs_ : int
        Number of outputs: 1 for binary targets, else one per class or label.
    n_layers_ : int
        3: input, hidden and output.
    out_activation_ : str
        "logistic".
    coefs_ : list of 2 ndarrays
        Weights, of shape (n_features_in_, hidden) and (hidden, n_outputs_).
    intercepts_ : list of 2 ndarrays
        Biases, of shape (hidden,) and (n_outputs_,).
    loss_ : float
        The last epoch's loss: the mean over its batches (weighted by their
        rows) of each batch's loss before its step.
    loss_curve_ : list of float
        The loss of every epoch, across `partial_fit` calls.
    best_loss_ : float or None
        The lowest loss so far (None with `early_stopping`).
    validation_scores_ : list of float or None
        Accuracy on the held-out data after each epoch, with `early_stopping`.
    best_validation_score_ : float or None
        The best of `validation_scores_`.
    n_iter_ : int
        Epochs run by the last call.
    t_ : int
        Samples seen by the optimizer, in all.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : the estimator this one follows.
    fastnn.SimpleNeuralNetwork : the tutorial's API of the same network.

    Notes
    -----
    Not supported: sparse input, ``sample_weight``, more than one hidden
    layer, activations other than "logistic", the "lbfgs" solver (and its
    `max_fun`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastnn.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier((10,), learning_rate_init=0.01, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        # scikit-learn's names: a name that is not one of them gets scikit-learn's message, the other three
        # fastnn's, in fit.
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "dtype": [None, StrOptions(set(_DTYPES)), Options(type, {np.float32, np.float64})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="logistic",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ----------------------------------------------------------------- fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to X and y, for at most `max_iter` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data (dense).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels of any type, or a multi-label indicator matrix.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For an unsupported `activation` or more than one hidden layer,
            and if training diverges (a NaN or infinite loss or weight):
            the estimator then keeps the weights and optimizer state from
            the start of the epoch that diverged.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch over X and y, from the current weights and optimizer state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            Every class of all the calls; required on the first call (unless
            y is a multi-label indicator matrix), ignored after.

        Returns
        -------
        self : MLPClassifier
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, incremental=True)

    def _hidden_size(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if len(sizes) != 1:
            raise ValueError(
                "hidden_layer_sizes must give one hidden layer (fastnn's network has one), "
                f"got {self.hidden_layer_sizes!r}"
            )
        size = sizes[0]
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral) or size < 1:
            raise ValueError(f"hidden_layer_sizes must be a positive integer, got {self.hidden_layer_sizes!r}")
        return int(size)

    def _check_settings(self):
        if self.activation != "logistic":
            raise ValueError(
                f"activation={self.activation!r} is not supported: fastnn's network has a sigmoid hidden "
                "layer, so only activation='logistic' is supported"
            )
        return self._hidden_size()

    def _fit_dtype(self, X, first_pass):
        if not first_pass:
            return self.coefs_[0].dtype
        if self.dtype is None:
            return np.dtype(np.float32) if getattr(X, "dtype", None) == np.float32 else np.dtype(np.float64)
        return np.dtype(_DTYPES.get(self.dtype, self.dtype))

    def _validate_input(self, X, y, incremental, reset):
        """X as the kernels' C-ordered array of the network's dtype; y binarized (as scikit-learn's _validate_input)."""
        dtype = self._fit_dtype(X, reset)
        X, y = validate_data(self, X, y, multi_output=True, dtype=dtype, order="C", reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the previous call to "
                        f"fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        Y = self._label_binarizer.transform(y)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        return _data(X, dtype), _data(Y, dtype)

    def _fit(self, X, y, incremental):
        hidden = self._check_settings()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        n_features, n_outputs = X.shape[1], Y.shape[1]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(n_features, hidden, n_outputs, X.dtype)
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y must have {self.n_outputs_} outputs, as in the previous fit, got {Y.shape[1]}")
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._new_optimizer(X.dtype)
        self._fit_stochastic(X, Y, incremental)
        return self

    def _initialize(self, n_features, hidden, n_outputs, dtype):
        """Glorot-uniform weights and biases in scikit-learn's order of draws (bound sqrt(2 / (fan_in + fan_out)))."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = n_outputs
        self.n_layers_ = 3
        self.out_activation_ = "logistic"
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in ((n_features, hidden), (hidden, n_outputs)):
            bound = np.sqrt(2.0 / (fan_in + fan_out))  # scikit-learn's factor 2 for the logistic activation
            coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = self._random_state.uniform(-bound, bound, fan_out)
            self.coefs_.append(coef.astype(dtype))
            self.intercepts_.append(intercept.astype(dtype))
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _new_optimizer(self, dtype):
        """The optimizer: its settings, moments (float64, one set per parameter, twice), steps and learning rate.

        The settings are read once, here: as scikit-learn's optimizer object,
        it keeps them through partial_fit calls whatever set_params changes.
        """
        shapes = [c.shape for c in self.coefs_]
        sizes = [shapes[0], (shapes[0][1],), shapes[1], (shapes[1][1],)]
        return {
            "hyper": self._hyper(dtype),
            "moments": tuple(_zeros(sizes + sizes, np.float64)),
            "steps": 0,
            "lr": float(self.learning_rate_init),
            "lr_init": float(self.learning_rate_init),
            "power_t": float(self.power_t),
            "schedule": self.learning_rate if self.solver == "sgd" else "constant",  # adam has no schedule
        }

    def _params(self):
        """(W1, b1, W2, b2) for the kernels, sharing memory with coefs_ and intercepts_ (biases as (1, units))."""
        dtype = self.coefs_[0].dtype
        self.coefs_ = [_own(c, dtype) for c in self.coefs_]
        self.intercepts_ = [_own(b, dtype) for b in self.intercepts_]
        return self.coefs_[0], self.intercepts_[0].reshape(1, -1), self.coefs_[1], self.intercepts_[1].reshape(1, -1)

    def _hyper(self, dtype):
        eps = np.finfo(dtype).eps  # scikit-learn clips probabilities to [eps, 1 - eps] in the loss
        hyper = np.zeros(_k._N_HYPER)
        hyper[_k._SOLVER] = _k._ADAM if self.solver == "adam" else _k._SGD
        hyper[_k._BETA_1], hyper[_k._BETA_2], hyper[_k._EPSILON] = self.beta_1, self.beta_2, self.epsilon
        hyper[_k._MOMENTUM], hyper[_k._NESTEROV] = self.momentum, float(self.nesterovs_momentum)
        hyper[_k._LO], hyper[_k._HI] = float(eps), float(dtype.type(1) - eps)
        return hyper

    def _fit_stochastic(self, X, Y, incremental):
        """scikit-learn's epoch loop; each epoch's batches in a few compiled calls."""
        if self.early_stopping:
            stratify = Y if self.n_outputs_ == 1 else None
            X, X_val, Y, Y_val = train_test_split(
                X, Y, random_state=self._random_state, test_size=self.validation_fraction, stratify=stratify
            )
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
                )
            X, Y, X_val = _data(X, X.dtype), _data(Y, Y.dtype), _data(X_val, X.dtype)
            y_val = self._label_binarizer.inverse_transform(Y_val if self.n_outputs_ > 1 else Y_val.ravel())
        n = X.shape[0]
        if self.batch_size == "auto":
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
            batch = int(np.clip(self.batch_size, 1, n))
        dtype, (f, h), o = X.dtype, self.coefs_[0].shape, self.n_outputs_
        # Xb, Yb, Mb, then hin, hout, oin, out, hd, od: one block of the engine's packed layout.
        buffers = sum(block_buffers((f, h, o), _width(batch), dtype), ())  # one flat tuple: the kernel's argument
        grads = tuple(_zeros([(f, h), (h,), (h, o), (o,)], np.float64))
        moments = self._optimizer["moments"]
        totals = np.zeros(2)
        rows = max(1, _CALL_WORK // (h * (f + o + 2) + o) // batch) * batch  # whole batches per call
        sample_idx = np.arange(n, dtype=np.int64)
        in_order = np.empty(0, np.int64)
        params = self._params()
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    # The draws of scikit-learn's sklearn.utils.shuffle(sample_idx, random_state=...), without
                    # its checks and copies: the same seed visits the samples in the same order.
                    permutation = np.arange(n)
                    self._random_state.shuffle(permutation)
                    sample_idx = sample_idx[permutation]
                order = sample_idx if self.shuffle else in_order
                hyper = self._optimizer["hyper"]
                hyper[_k._LR] = self._optimizer["lr"]
                hyper[_k._ALPHA] = self.alpha  # part of the loss, not of the optimizer: read afresh, as scikit-learn
                saved = [p.copy() for p in params] + [m.copy() for m in moments]
                steps = self._optimizer["steps"]
                totals[:] = 0.0, steps
                for start in range(0, n, rows):
                    stop = min(n, start + rows)
                    _k._epoch(X, Y, order, start, stop, batch, params, grads, moments, hyper, buffers, totals)
                    if not (math.isfinite(totals[_k._LOSS]) and all(np.isfinite(p).all() for p in params)):
                        for p, q in zip(params + moments, saved):
                            p[...] = q
                        self._optimizer["steps"] = steps
                        raise ValueError(
                            f"Training diverged in epoch {self.n_iter_ + 1}: the loss or the weights became NaN or "
                            f"infinite (learning_rate_init={self.learning_rate_init!r} may be too large, or the input "
                            "needs scaling). The estimator keeps the weights from the start of that epoch."
                        )
                    self._optimizer["steps"] = int(totals[_k._STEPS])
                self.n_iter_ += 1
                self.loss_ = float(totals[_k._LOSS] / n)
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                if self.early_stopping:
                    self._update_no_improvement_count(X_val, y_val)
                else:
                    self._update_no_improvement_count(None, None)
                if self._optimizer["schedule"] == "invscaling":
                    self._optimizer["lr"] = self._optimizer["lr_init"] / (self.t_ + 1) ** self._optimizer["power_t"]
                if self._no_improvement_count > self.n_iter_no_change:
                    if self.early_stopping:
                        msg = (
                            f"Validation score did not improve more than tol={self.tol:f} for "
                            f"{self.n_iter_no_change} consecutive epochs."
                        )
                    else:
                        msg = (
                            f"Training loss did not improve more than tol={self.tol:f} for "
                            f"{self.n_iter_no_change} consecutive epochs."
                        )
                    if self._trigger_stopping(msg):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization "
                        "hasn't converged yet.",
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        if self.early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _trigger_stopping(self, msg):
        """True to stop; "adaptive" sgd divides its learning rate by 5 instead, down to 1e-6 (scikit-learn's rule)."""
        if self._optimizer["schedule"] != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if self._optimizer["lr"] <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._optimizer["lr"] /= 5.0
        if self.verbose:
            print(msg + " Setting learning rate to %f" % self._optimizer["lr"])
        return False

    def _update_no_improvement_count(self, X_val, y_val):
        if self.early_stopping:
            y_pred = self._predict_labels(self._forward(X_val))
            self.validation_scores_.append(float(accuracy_score(y_val, y_pred)))
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            score = self.validation_scores_[-1]
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # ------------------------------------------------------------- predict

    def _forward(self, X):
        """The network's outputs for X (checked, C-ordered, of the network's dtype): (n_samples, n_outputs_)."""
        dtype = self.coefs_[0].dtype
        params = (
            _own(self.coefs_[0], dtype),
            _own(self.intercepts_[0], dtype).reshape(1, -1),
            _own(self.coefs_[1], dtype),
            _own(self.intercepts_[1], dtype).reshape(1, -1),
        )
        (f, h), o = self.coefs_[0].shape, self.coefs_[1].shape[1]
        width = _width(min(X.shape[0], MAX_BLOCK))
        buffers = tuple(_zeros([(f, 1, width), (h, 1, width), (h, 1, width), (o, 1, width), (o, 1, width)], dtype))
        P = np.empty((X.shape[0], o), dtype)
        stream.predict(X, params, P, np.empty(0, np.int64), buffers[0], buffers[1:])
        return P

    def _check_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=self.coefs_[0].dtype, order="C", reset=False)
        return _data(X, self.coefs_[0].dtype)

    def _predict_labels(self, P):
        return self._label_binarizer.inverse_transform(P.ravel() if self.n_outputs_ == 1 else P)

    def predict(self, X):
        """The predicted class of each sample (the labels of each, for multi-label targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Binary: the positive class where its output is above 0.5;
            multi-class: the class of the largest output; multi-label: every
            label whose output is above 0.5.
        """
        return self._predict_labels(self._forward(self._check_X(X)))

    def predict_proba(self, X):
        """Probability estimates, the columns in the order of `classes_`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Binary: ``[1 - p, p]`` with p the sigmoid output. Multi-class:
            the sigmoid outputs (one per class, trained one-vs-rest) divided
            by their sum, so that each row sums to 1 (scikit-learn's
            estimator has a softmax there). Multi-label: each label's
            sigmoid output, as scikit-learn.
        """
        P = self._forward(self._check_X(X))
        if self.n_outputs_ == 1:
            p = P.ravel()
            return np.vstack([1 - p, p]).T
        if self._label_binarizer.y_type_ == "multiclass":
            total = P.sum(axis=1, keepdims=True)
            P[total[:, 0] == 0] = 1  # every output underflowed to 0: no class is preferred
            P /= np.where(total == 0, P.shape[1], total)
        return P

    def predict_log_proba(self, X):
        """The log of `predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)
