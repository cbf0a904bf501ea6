"""LinearProbe: how well a linear classifier reads stimulus labels out of a representation."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import to_numpy
from .._typing import ArrayLike
from .._validation import (
    check_bool,
    check_paired_samples,
    check_positive_int,
    check_representation,
)
from ..exceptions import InvalidParameterError

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["LinearProbe"]


def _input_scale(X: np.ndarray, *, standardize: bool) -> float:
    """The power of two that brings the training features near 1 (1.0 without standardising).

    Standardising removes the scale of each unit, but scikit-learn's
    StandardScaler takes a standard deviation below ``10 * eps`` (features
    near 1e-300) for zero and leaves such units unscaled, and the variance of
    features near 1e300 overflows. Dividing by a power of two first is exact
    and fixed at fit (``predict`` divides by the same number), so the
    standardised features, and the probe, are those of features near 1.
    """
    largest = float(np.max(np.abs(X), initial=0.0))
    if not standardize or not (largest > 0.0 and np.isfinite(largest)):
        return 1.0
    # skrep.functional._extreme_scales.power_of_two_above, which metrics cannot import;
    # held at 2**1023 (2**1024 is not a float)
    return float(np.ldexp(1.0, min(int(np.frexp(largest)[1]), 1023)))


class LinearProbe(ClassifierMixin, BaseEstimator):
    """Linear probe: logistic regression from a representation to stimulus labels.

    ``fit(X, y)`` trains a multinomial logistic regression (after
    standardising each unit, by default) to predict each stimulus's label
    from its representation, and measures its accuracy on the training
    stimuli by an inner stratified cross-validation; ``score(X, y)`` is the
    accuracy on the stimuli given (held out in cross-validation). This is
    the probing task of NeuronMap and of linear-probe benchmarks.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength of
        :class:`sklearn.linear_model.LogisticRegression`.
    standardize : bool, default=True
        Standardise each unit on the training stimuli first (a
        :class:`sklearn.preprocessing.StandardScaler` in a pipeline).
    max_iter : int, default=1000
        Most iterations of the solver.
    cv : int or None, default=5
        Folds of the inner stratified cross-validation on the training
        stimuli (:class:`sklearn.model_selection.StratifiedKFold`, without
        shuffling), whose held-out accuracies are ``cv_scores_``. The number
        of folds is reduced to the size of the smallest class when that is
        smaller; a class with a single training stimulus is an error. None
        skips the inner cross-validation (no ``cv_scores_``).

    Attributes
    ----------
    estimator_ : LogisticRegression or Pipeline
        The fitted classifier (a pipeline of a StandardScaler and the
        logistic regression when ``standardize``).
    classes_ : ndarray of shape (n_classes,)
        The labels seen in fit.
    cv_scores_ : ndarray of shape (1, n_folds)
        Held-out accuracy of each inner fold (absent when ``cv=None``).
        :func:`skrep.benchmark_layers` selects layers by their mean, since
        the training accuracy of a wide layer is often 1.
    n_iter_ : ndarray of shape (1,)
        Iterations of the solver in the final fit.
    n_features_in_ : int
        Width of X seen in fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the columns of X, when X was a DataFrame with string column names.

    Notes
    -----
    The labels may be any discrete values, as a vector or as a one-column
    array (the form :func:`skrep.benchmark_layers` passes its 2-D
    "responses" in); a float column of whole numbers is read as class
    labels, without a warning. Continuous values are rejected.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import LinearProbe
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1, 2], 20)
    >>> X = rng.standard_normal((60, 10)) + 3 * np.eye(10)[labels]
    >>> probe = LinearProbe().fit(X, labels)
    >>> probe.cv_scores_.shape
    (1, 5)
    >>> probe.score(X, labels)
    1.0
    """

    def __init__(
        self,
        C: float = 1.0,
        standardize: bool = True,
        max_iter: int = 1000,
        cv: int | None = 5,
    ):
        self.C = C
        self.standardize = standardize
        self.max_iter = max_iter
        self.cv = cv

    def _check_params(self) -> None:
        name = type(self).__name__
        C = self.C
        if (
            isinstance(C, bool)
            or not isinstance(C, numbers.Real)
            or not np.isfinite(C)
            or not C > 0
        ):
            raise InvalidParameterError(
                f"The 'C' parameter of {name} must be a finite number > 0; got {C!r}."
            )
        check_bool(self.standardize, "standardize", name)
        check_positive_int(self.max_iter, "max_iter", name)
        cv = self.cv
        if cv is not None and (
            isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2
        ):
            raise InvalidParameterError(
                f"The 'cv' parameter of {name} must be None or an integer >= 2 (the inner "
                f"folds); got {cv!r}."
            )

    def _features(self, X: ArrayLike, *, reset: bool) -> np.ndarray:
        X_checked = to_numpy(check_representation(X, "X", min_samples=2 if reset else 1), "X")
        validate_data(self, X, reset=reset, skip_check_array=True)
        if reset:
            self._input_scale = _input_scale(X_checked, standardize=self.standardize)
        scale = getattr(self, "_input_scale", 1.0)
        return X_checked / scale if scale != 1.0 else X_checked

    def _labels(self, y: ArrayLike | None) -> np.ndarray:
        """Labels as a vector: (n_stimuli,) or a one-column (n_stimuli, 1) array."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: y "
                "holds the stimulus labels, shape (n_stimuli,) or (n_stimuli, 1)."
            )
        y = to_numpy(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"y must hold one label per stimulus, shape (n_stimuli,) or (n_stimuli, 1); "
                f"got shape {y.shape}."
            )
        return check_array(y, ensure_2d=False, dtype=None, ensure_min_samples=0, input_name="y")

    def _make_estimator(self) -> Any:
        classifier = LogisticRegression(C=float(self.C), max_iter=int(self.max_iter))
        return make_pipeline(StandardScaler(), classifier) if self.standardize else classifier

    def _inner_scores(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Held-out accuracies of the inner stratified folds, shape (1, n_folds)."""
        labels, counts = np.unique(y, return_counts=True)
        n_folds = int(min(self.cv, counts.min()))
        if n_folds < 2:
            raise ValueError(
                f"y: class {labels[np.argmin(counts)]!r} has a single training stimulus, but "
                f"the inner stratified cross-validation (cv={self.cv}) needs at least 2 of "
                "each class. Drop that class, or pass cv=None to skip the inner "
                "cross-validation."
            )
        scores = [
            clone(self.estimator_).fit(X[train], y[train]).score(X[test], y[test])
            for train, test in StratifiedKFold(n_folds).split(X, y)
        ]
        return np.asarray(scores, dtype=np.float64)[None, :]

    def fit(self, X: ArrayLike, y: ArrayLike) -> LinearProbe:
        """Train the probe on labelled stimuli, with the inner cross-validation.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Representation of the training stimuli.
        y : array-like of shape (n_stimuli,) or (n_stimuli, 1)
            Their labels (any discrete values; at least 2 classes).

        Returns
        -------
        self : object
            The fitted probe.
        """
        self._check_params()
        X = self._features(X, reset=True)
        y = self._labels(y)
        check_paired_samples(X, y, names=("X", "y"))
        check_classification_targets(y)
        if np.unique(y).size < 2:
            raise ValueError(
                f"y has a single class ({y[0]!r}); a probe needs at least 2 classes to tell apart."
            )
        self.estimator_ = self._make_estimator().fit(X, y)
        classifier = self.estimator_
        if isinstance(classifier, Pipeline):
            classifier = classifier[-1]
        self.classes_ = classifier.classes_
        self.n_iter_ = classifier.n_iter_
        if self.cv is not None:
            self.cv_scores_ = self._inner_scores(X, y)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted label of each stimulus.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Representation of the stimuli.

        Returns
        -------
        ndarray of shape (n_stimuli,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(self._features(X, reset=False))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Probability of each class for each stimulus.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Representation of the stimuli.

        Returns
        -------
        ndarray of shape (n_stimuli, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(self._features(X, reset=False))

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy of the probe: the fraction of stimuli whose label it predicts.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Representation of the stimuli (held out in cross-validation).
        y : array-like of shape (n_stimuli,) or (n_stimuli, 1)
            Their labels.

        Returns
        -------
        float
            The accuracy, in [0, 1].
        """
        prediction = self.predict(X)
        y = self._labels(y)
        check_paired_samples(prediction, y, names=("X", "y"))
        return float(np.mean(prediction == y))

    def __sklearn_tags__(self) -> Tags:
        """Tags: the labels y are required; no NaN."""
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        return tags
