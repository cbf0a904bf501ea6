"""PLSPredictivity: Brain-Score's neural predictivity of a model's features, optionally ceiled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import check_not_masked, is_foreign_array, to_numpy
from .._typing import ArrayLike
from .._validation import (
    check_n_features,
    check_paired_samples,
    check_positive_int,
    check_representation,
)
from ..exceptions import InvalidParameterError
from ..functional.predictivity import neuroid_correlations
from ._keyword_y import KeywordYMixin

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["PLSPredictivity"]


def _check_ceiling(ceiling: Any, n_neuroids: int, owner: str) -> np.ndarray | None:
    """The ceiling as a float64 array of shape (n_neuroids,), or None; errors name it."""
    if ceiling is None:
        return None
    try:
        values = np.asarray(ceiling, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.full(1, np.nan)
    if values.ndim > 1 or (values.ndim == 1 and values.size != n_neuroids):
        raise ValueError(
            f"The 'ceiling' parameter of {owner} has shape {np.shape(ceiling)} but Y has "
            f"{n_neuroids} neuroid(s) (columns); expected a scalar or one reliability per "
            "neuroid, shape (n_neuroids,), as returned by skrep.functional.split_half_ceiling."
        )
    values = np.broadcast_to(values, (n_neuroids,))
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0) & (values <= 1)))
    if bad.size:
        j = int(bad[0])
        raise InvalidParameterError(
            f"The 'ceiling' parameter of {owner} must hold reliabilities in (0, 1]; got "
            f"{float(values[j])!r} for neuroid {j}"
            + (f" ({bad.size} such neuroids)" if bad.size > 1 else "")
            + ". Drop the neuroids without a positive reliability before ceiling the score."
        )
    return values


class PLSPredictivity(KeywordYMixin, BaseEstimator):
    """Neural predictivity: how well a PLS regression of model features predicts neuroids.

    Its ``score`` is the median Pearson r over neuroids (Brain-Score's
    convention), not a regressor's R^2: the class is not a scikit-learn
    regressor, and ``cross_validate(model, X, Y, scoring="r2")`` gives R^2 of
    ``predict`` where that is wanted.

    ``fit(X, Y)`` fits a partial least squares regression
    (:class:`sklearn.cross_decomposition.PLSRegression`, unscaled) from model
    features X to the responses Y of each neuroid (neuron, site, voxel) on
    the training stimuli; ``score(X, Y)`` is the median over neuroids of the
    Pearson r between predicted and measured responses, on the stimuli given
    (held out in cross-validation): Brain-Score's neural predictivity. With
    a ``ceiling``, the score is instead the median over neuroids of
    ``r**2 / ceiling``, the explained variance as a fraction of the variance
    the measurements can explain of themselves.

    Parameters
    ----------
    n_components : int, default=25
        Number of PLS components (Brain-Score's default). It is capped at
        ``min(n_components, n_samples - 1, n_varying_features)`` of the
        training data: centred data have rank at most ``n_samples - 1``, and
        PLS has at most as many components as features that vary (constant
        ones, e.g. dead units, carry none); the number used is
        ``n_components_``.
    ceiling : None, float or array-like of shape (n_neuroids,), default=None
        The reliability of each neuroid, in (0, 1], e.g. from
        :func:`skrep.functional.split_half_ceiling`; a scalar is shared by
        every neuroid. None: the score is the raw median r.
    cv : None, int or cross-validation splitter, default=None
        An inner cross-validation on the training stimuli, run in ``fit``: the
        held-out scores of its folds are kept in ``cv_scores_``, which
        :func:`skrep.benchmark_layers` and :func:`skrep.benchmark_models` use
        to choose the best layer (the in-sample r of a PLS fit favours the
        widest layer). None skips it (Brain-Score's fit and score only); set
        it, e.g. ``cv=5``, when layers are chosen. It costs one more fit per
        fold and does not change ``score``.

    Attributes
    ----------
    pls_ : PLSRegression
        The fitted regression.
    n_components_ : int
        The number of components used (after the cap).
    n_neuroids_ : int
        Columns of Y seen in fit.
    cv_scores_ : ndarray of shape (1, n_folds)
        The inner folds' held-out scores (only when ``cv`` is set).
    n_features_in_ : int
        Width of X seen in fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the columns of X, when X was a DataFrame with string column names.

    See Also
    --------
    skrep.functional.neuroid_correlations : The per-neuroid r.
    skrep.functional.split_half_ceiling : The ceiling.
    EncodingRegression : Ridge encoding model with per-target regularisation.

    Notes
    -----
    The ceiled score squares r, so a neuroid predicted with a negative r
    counts as much as one with the same positive r; ``neuroid_scores`` gives
    the signed r. Inputs are computed on as numpy float64 arrays (torch
    tensors are copied to the host).

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import PLSPredictivity
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 8))
    >>> Y = X[:, :3] + 0.1 * rng.standard_normal((60, 3))
    >>> model = PLSPredictivity(n_components=5).fit(X[:40], Y[:40])
    >>> bool(model.score(X[40:], Y[40:]) > 0.9)
    True
    """

    def __init__(self, n_components: int = 25, ceiling: Any = None, cv: Any = None):
        self.n_components = n_components
        self.ceiling = ceiling
        self.cv = cv

    def _neuroids(self, Y: ArrayLike | None, *, reset: bool) -> np.ndarray:
        """Check Y: (n_stimuli, n_neuroids), or (n_stimuli,) for one neuroid."""
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: Y "
                "holds the neuroids' responses, shape (n_stimuli, n_neuroids) or (n_stimuli,)."
            )
        if not is_foreign_array(Y):
            check_not_masked(Y, "Y")  # np.asarray would drop the mask
            Y = np.asarray(Y)
        one_neuroid = Y.ndim == 1
        Y = check_representation(Y[:, None] if one_neuroid else Y, "Y", min_samples=1)
        if reset:
            self._one_neuroid = one_neuroid
            self.n_neuroids_ = Y.shape[1]
        else:
            check_n_features(Y, self.n_neuroids_, "Y", type(self).__name__)
        return to_numpy(Y, "Y").astype(np.float64)

    def _features(self, X: ArrayLike, *, reset: bool) -> np.ndarray:
        X_checked = check_representation(X, "X", min_samples=2 if reset else 1)
        validate_data(self, X, reset=reset, skip_check_array=True)
        return to_numpy(X_checked, "X").astype(np.float64)

    def fit(self, X: ArrayLike, Y: ArrayLike) -> PLSPredictivity:
        """Fit the PLS regression from features to neuroid responses.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features_x)
            Model features of the training stimuli.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_neuroids) or (n_stimuli,)
            Measured responses to the same stimuli, one column per neuroid.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        name = type(self).__name__
        check_positive_int(self.n_components, "n_components", name)
        X = self._features(X, reset=True)
        Y = self._neuroids(Y, reset=True)
        check_paired_samples(X, Y)
        _check_ceiling(self.ceiling, Y.shape[1], name)
        varying = int(np.count_nonzero(np.ptp(X, axis=0) > 0))  # dead units carry no component
        if varying == 0:
            raise ValueError(
                f"X has {X.shape[1]} columns, all constant over the {X.shape[0]} stimuli; "
                f"{name} needs features that vary (a layer of dead units predicts nothing)."
            )
        self.n_components_ = int(min(self.n_components, X.shape[0] - 1, varying))
        try:
            self.pls_ = PLSRegression(n_components=self.n_components_, scale=False).fit(X, Y)
        except ValueError as exc:  # scipy's "A has a NaN entry" past X's rank
            raise ValueError(
                f"{name}: the PLS regression with {self.n_components_} components failed on X "
                f"({exc}); X's rank is likely below n_components: lower n_components."
            ) from exc
        if hasattr(self, "cv_scores_"):
            del self.cv_scores_
        if self.cv is not None:
            self.cv_scores_ = self._inner_scores(X, Y)
        return self

    def _inner_scores(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Held-out scores of an inner cross-validation on the training stimuli."""
        scores = []
        for train, test in check_cv(self.cv).split(X):
            inner = clone(self).set_params(cv=None)
            inner.fit(X[train], Y[train] if not self._one_neuroid else Y[train, 0])
            scores.append(inner.score(X[test], Y[test] if not self._one_neuroid else Y[test, 0]))
        return np.asarray(scores, dtype=np.float64)[None, :]

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted neuroid responses.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features_x)
            Model features.

        Returns
        -------
        ndarray of shape (n_stimuli, n_neuroids), or (n_stimuli,) for a 1-D Y in fit
            The PLS predictions (float64).
        """
        check_is_fitted(self, "pls_")
        prediction = self.pls_.predict(self._features(X, reset=False))
        prediction = np.reshape(prediction, (prediction.shape[0], -1))
        return prediction[:, 0] if self._one_neuroid else prediction

    def neuroid_scores(self, X: ArrayLike, Y: ArrayLike) -> np.ndarray:
        """Pearson r between predicted and measured responses, per neuroid.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features_x)
            Model features (held-out stimuli in cross-validation).
        Y : array-like or torch.Tensor of shape (n_stimuli, n_neuroids) or (n_stimuli,)
            Measured responses to the same stimuli (at least 2).

        Returns
        -------
        ndarray of shape (n_neuroids,)
            The signed r of each neuroid.

        Raises
        ------
        ValueError
            A neuroid whose measured or predicted response is constant over
            the stimuli given (its r is undefined).
        """
        check_is_fitted(self, "pls_")
        Y = self._neuroids(Y, reset=False)
        prediction = self.predict(X)
        prediction = prediction[:, None] if self._one_neuroid else prediction
        check_paired_samples(prediction, Y, names=("X", "Y"))
        try:
            return neuroid_correlations(prediction, Y)
        except ValueError as exc:
            if not str(exc).startswith("Y_pred"):
                raise
            raise ValueError(f"The predictions from X are degenerate: {exc}") from exc

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Median neural predictivity over neuroids (ceiled when ``ceiling`` is set).

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features_x)
            Model features (held-out stimuli in cross-validation).
        Y : array-like or torch.Tensor of shape (n_stimuli, n_neuroids) or (n_stimuli,)
            Measured responses to the same stimuli (at least 2).

        Returns
        -------
        float
            ``median(r)`` over neuroids, or ``median(r**2 / ceiling)`` with a
            ceiling; higher is better.
        """
        r = self.neuroid_scores(X, Y)
        ceiling = _check_ceiling(self.ceiling, r.shape[0], type(self).__name__)
        return float(np.median(r if ceiling is None else r**2 / ceiling))

    def __sklearn_tags__(self) -> Tags:
        """Tags: Y (the neuroids' responses) is required and multi-output; not a regressor."""
        tags = super().__sklearn_tags__()
        tags.estimator_type = None  # score is a median Pearson r, not a regressor's R^2
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags
