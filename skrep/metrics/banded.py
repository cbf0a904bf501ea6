"""Banded ridge encoding model: one ridge penalty per feature band and per target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import convert_like, to_numpy
from .._typing import Array, ArrayLike, RandomState
from .._validation import check_n_features, check_paired_samples, check_representation
from ..functional.banded_ridge import (
    banded_ridge_coefficients,
    banded_ridge_predict,
    fit_banded_ridge,
)
from ..functional.ridge import score_predictions
from ._encoding_inputs import as_columns, check_ridge_parameters
from ._keyword_y import KeywordYMixin
from .encoding import DEEPJUICE_ALPHAS

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["BandedEncodingRegression"]


class BandedEncodingRegression(KeywordYMixin, BaseEstimator):
    """Banded ridge encoding model: a ridge penalty per feature band and per target.

    The features are split into bands (e.g. the layers of a network, or
    low- and high-level features) and the weights of band b for target t are
    penalised by ``alpha_t / gamma_bt``: the model is ridge regression on the
    bands scaled by ``sqrt(gamma_bt)``, i.e. kernel ridge with kernel
    ``sum_b gamma_bt X_b X_b'``. Each target's band weights ``gamma`` and
    ``alpha`` are chosen by cross-validation on the training stimuli, by a
    random search over candidate weightings drawn from a Dirichlet
    distribution (or given), as himalaya 0.4.11's ``BandedRidgeCV`` with its
    ``random_search`` solver; one eigendecomposition per fold and candidate
    serves every alpha and every target.

    ``score(X, Y)`` is the mean over targets of the held-out score named by
    ``scoring`` (R^2 by default, himalaya's ``BandedRidgeCV.score``;
    "pearson" gives the mean Pearson r of :class:`EncodingRegression`);
    ``score_targets`` gives each target's.

    Parameters
    ----------
    bands : sequence of (slice, sequence of int or bool mask) or None, default=None
        The disjoint columns of X of each band; columns in no band are not
        used (zero weights). None is one band of all columns (plain ridge
        with alphas chosen per target).
    alphas : sequence of float, default=logspace(-1, 5, 7)
        Candidate ridge strengths (those of :class:`EncodingRegression`).
    n_iter : int or array-like of shape (n_candidates, n_bands), default=100
        Number of candidate band weightings (the first weighs the bands
        equally, the others are Dirichlet draws), or the candidates
        themselves (non-negative rows, not normalised; a zero weight leaves
        a band out).
    concentration : float or sequence of float, default=(0.1, 1.0)
        Dirichlet concentrations the draws cycle through (small: one band
        dominates; 1: uniform on the simplex; inf: equal weights).
    cv : int, cross-validation splitter or iterable, default=5
        Folds of the training stimuli (an int is KFold without shuffling, as
        himalaya).
    scoring : {"r2", "pearson", "neg_mse"}, default="r2"
        How held-out predictions are scored, to choose the band weights and
        alphas (mean over folds) and in ``score``.
    fit_intercept : bool, default=False
        Centre features and responses on the training means (himalaya's
        default is False: centre the data first, or pass True).
    random_state : int, RandomState or None, default=None
        Seed of the Dirichlet draws (``numpy.random.RandomState``; the same
        seed draws himalaya's candidates).
    target_chunk : int or None, default=None
        Targets scored and solved at once; None sizes chunks from
        scikit-learn's ``working_memory``. The result does not depend on it.

    Attributes
    ----------
    band_weights_ : ndarray of shape (n_bands, n_targets)
        The chosen band weighting ``gamma`` of each target.
    alpha_ : ndarray of shape (n_targets,)
        The chosen alpha of each target.
    deltas_ : ndarray of shape (n_bands, n_targets)
        ``log(band_weights_ / alpha_)``, himalaya's ``deltas_`` (-inf for a
        zero weight).
    cv_scores_ : ndarray of shape (n_candidates, n_targets)
        Mean held-out score over folds of each candidate weighting at its
        best alpha, himalaya's ``cv_scores_`` (without its 1e-10 tie-break slope).
    candidate_weights_ : ndarray of shape (n_candidates, n_bands)
        The candidate weightings searched.
    bands_ : list of ndarray of int
        The columns of each band.
    coef_ : ndarray of shape (n_features, n_targets)
        Ridge weights on X (formed on first use): predictions are
        ``X @ coef_ + intercept_``.
    intercept_ : ndarray of shape (n_targets,)
        Intercepts (zeros without ``fit_intercept``).
    n_features_in_ : int
        Width of X seen in fit.
    n_targets_ : int
        Number of targets seen in fit.

    Notes
    -----
    Computed in float64 numpy (torch tensors are accepted and predictions
    returned as tensors). Unlike himalaya's ``BandedRidgeCV``, a candidate
    weight of exactly zero is allowed (that band is left out).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = X[:, 3:] @ rng.standard_normal((3, 4)) + 0.1 * rng.standard_normal((80, 4))
    >>> model = BandedEncodingRegression([slice(0, 3), slice(3, 6)], n_iter=20,
    ...                                  random_state=0).fit(X, Y)
    >>> bool(np.all(model.band_weights_[1] > 0.9))
    True
    """

    def __init__(
        self,
        bands: Sequence[Any] | None = None,
        alphas: Sequence[float] = DEEPJUICE_ALPHAS,
        *,
        n_iter: int | ArrayLike = 100,
        concentration: float | Sequence[float] = (0.1, 1.0),
        cv: Any = 5,
        scoring: str = "r2",
        fit_intercept: bool = False,
        random_state: RandomState = None,
        target_chunk: int | None = None,
    ):
        self.bands = bands
        self.alphas = alphas
        self.n_iter = n_iter
        self.concentration = concentration
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.random_state = random_state
        self.target_chunk = target_chunk

    def _check_params(self) -> np.ndarray:
        return check_ridge_parameters(self)

    def _targets(self, Y: ArrayLike | None, *, reset: bool) -> np.ndarray:
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: y "
                "holds the responses to predict, shape (n_stimuli, n_targets) or (n_stimuli,)."
            )
        Y, one_target = as_columns(Y)
        Y = check_representation(Y, "Y", min_samples=2 if reset else 1)
        if reset:
            self._one_target = one_target
            self.n_targets_ = Y.shape[1]
        else:
            check_n_features(Y, self.n_targets_, "Y", type(self).__name__)
        return Y

    def fit(self, X: ArrayLike, Y: ArrayLike) -> BandedEncodingRegression:
        """Choose each target's band weights and alpha on the training stimuli, and refit.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
            Responses (voxels, neurons).

        Returns
        -------
        self : object
            The fitted model.
        """
        for attribute in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attribute)
        self.__dict__.pop("_model", None)
        try:
            self._fit(X, Y)
        except BaseException:
            self.__dict__.pop("_model", None)
            for attribute in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
                delattr(self, attribute)
            raise
        return self

    def _fit(self, X: ArrayLike, Y: ArrayLike) -> None:
        alphas = self._check_params()
        X_checked = check_representation(X, "X")
        Y = self._targets(Y, reset=True)
        check_paired_samples(X_checked, Y)
        validate_data(self, X, reset=True, skip_check_array=True)
        X_numpy = to_numpy(X_checked).astype(np.float64, copy=False)
        bands = [slice(None)] if self.bands is None else self.bands
        model = fit_banded_ridge(
            X_numpy,
            to_numpy(Y).astype(np.float64, copy=False),
            bands,
            alphas,
            n_iter=self.n_iter,
            concentration=self.concentration,
            cv=self.cv,
            scoring=self.scoring,
            fit_intercept=bool(self.fit_intercept),
            random_state=self.random_state,
            target_chunk=self.target_chunk,
        )
        self._model, self._coef = model, None
        self.band_weights_ = model.band_weights
        self.alpha_ = model.alpha
        self.deltas_ = model.deltas
        self.cv_scores_ = model.cv_scores
        self.candidate_weights_ = model.candidates
        design = model.design
        ends = np.cumsum([0] + [s.stop - s.start for s in design.slices])
        self.bands_ = [design.columns[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]
        self.intercept_ = model.intercept

    @property
    def coef_(self) -> np.ndarray:
        """Ridge weights, shape (n_features, n_targets) (formed on first use)."""
        if not hasattr(self, "alpha_"):
            raise AttributeError("coef_ exists after fit")
        if self._coef is None:
            self._coef = banded_ridge_coefficients(self._model)
        return self._coef

    def _prediction(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "alpha_")
        X_checked = check_representation(X, "X", min_samples=1)
        validate_data(self, X, reset=False, skip_check_array=True)
        return banded_ridge_predict(self._model, to_numpy(X_checked).astype(np.float64, copy=False))

    def predict(self, X: ArrayLike) -> Array:
        """Predicted responses.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features.

        Returns
        -------
        array of shape (n_stimuli, n_targets), or (n_stimuli,) for a 1-D Y in fit
            In X's array type (float64).
        """
        prediction = self._prediction(X)
        prediction = prediction[:, 0] if self._one_target else prediction
        return convert_like(prediction, X) if hasattr(X, "shape") else prediction

    def score_targets(self, X: ArrayLike, Y: ArrayLike) -> np.ndarray:
        """Held-out score of each target (R^2 by default; see ``scoring``).

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features of held-out stimuli.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
            Their measured responses.

        Returns
        -------
        ndarray of shape (n_targets,)
            One score per target (R^2 and r are 0 for a constant target).
        """
        check_is_fitted(self, "alpha_")
        Y = self._targets(Y, reset=False)
        prediction = self._prediction(X)
        check_paired_samples(prediction, Y, names=("X", "Y"))
        if Y.shape[0] < 2 and self.scoring != "neg_mse":
            raise ValueError(
                f"Y has {Y.shape[0]} stimulus; the {self.scoring!r} score of predicted and "
                "measured responses needs at least 2 stimuli."
            )
        measured = to_numpy(Y).astype(np.float64, copy=False)
        return np.asarray(score_predictions(measured, prediction, self.scoring))

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Mean over targets of the held-out score (R^2 by default; see ``scoring``).

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
            Measured responses.

        Returns
        -------
        float
            The mean of ``score_targets(X, Y)``.
        """
        return float(np.mean(self.score_targets(X, Y)))

    def __sklearn_tags__(self) -> Tags:
        """Tags: Y (the responses) is required and multi-output; not a regressor."""
        tags = super().__sklearn_tags__()
        tags.estimator_type = None  # score follows `scoring`, not always a regressor's R^2
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags
