"""Banded ridge regression: one penalty per feature band and per target, by random search.

The features are split into bands (e.g. the layers of a network, or visual
and semantic features), and the ridge penalty of band b for target t is
``alpha_t / gamma_bt``: the model is ridge on the features of band b scaled
by ``sqrt(gamma_bt)``, with kernel ``K_t = sum_b gamma_bt X_b X_b'`` and
strength ``alpha_t``. This is himalaya's ``BandedRidgeCV`` (and
``MultipleKernelRidgeCV`` with linear kernels), parametrised by the log band
weights ``deltas_bt = log(gamma_bt / alpha_t)``.

Each target's band weights and alpha are chosen by cross-validation over
candidate weightings ``gamma`` (drawn from a Dirichlet distribution on the
simplex, or given) and candidate alphas, as himalaya's random search: for
each candidate, the mean held-out score over folds of the best alpha; a
target keeps the first candidate whose score is the highest. One
eigendecomposition per fold and candidate serves every alpha and every
target (see :mod:`skrep.functional._banded_search`), and the targets that
chose the same weighting share one decomposition in the refit on all
samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import Bunch

from .._array import to_numpy
from .._typing import ArrayLike, RandomState
from .._validation import check_paired_samples, check_representation
from ._banded_inputs import band_weight_candidates, check_bands, check_concentration, fold_splits
from ._banded_refit import design_coefficients, design_predict, design_shift, refit_bands
from ._banded_search import banded_design, search_bands
from ._extreme_scales import multiplied, range_scale, scaled_alphas, unscaled
from ._prediction_scores import check_scoring
from ._ridge_factors import PREDICTION_RUN_BYTES
from .ridge_model import target_chunks

__all__ = [
    "DEFAULT_ALPHAS",
    "fit_banded_ridge",
    "banded_ridge_predict",
    "banded_ridge_coefficients",
    "band_weight_candidates",
    "check_bands",
    "check_concentration",
]


#: The candidate alphas by default: those of :class:`skrep.EncodingRegression`.
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-1, 5, 7))


def _checked_alphas(alphas: ArrayLike) -> np.ndarray:
    try:
        values = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    except (TypeError, ValueError):
        values = np.empty(0)
    if (
        values.ndim != 1
        or values.size == 0
        or not np.all(np.isfinite(values))
        or np.any(values <= 0)
    ):
        raise ValueError(
            f"alphas must be a positive number or a non-empty 1-D sequence of positive finite "
            f"numbers; got {alphas!r}."
        )
    return values


def fit_banded_ridge(
    X: np.ndarray,
    Y: np.ndarray,
    bands: Sequence[object],
    alphas: ArrayLike = DEFAULT_ALPHAS,
    *,
    n_iter: int | ArrayLike = 100,
    concentration: float | Sequence[float] = (0.1, 1.0),
    cv: object = 5,
    scoring: str = "r2",
    fit_intercept: bool = False,
    random_state: RandomState = None,
    target_chunk: int | None = None,
) -> Bunch:
    """Choose each target's band weights and alpha by cross-validation, and refit.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features; columns in no band are not used.
    Y : array-like of shape (n_samples, n_targets)
        Targets.
    bands : sequence of (slice, sequence of int or bool mask)
        The disjoint columns of each band.
    alphas : float or array-like of shape (n_alphas,), default=logspace(-1, 5, 7)
        Candidate ridge strengths (himalaya's default is the single alpha 1).
    n_iter : int or array-like of shape (n_candidates, n_bands), default=100
        Number of candidate band weightings, the first equal and the others
        drawn from a Dirichlet distribution; or the candidates themselves
        (see :func:`band_weight_candidates`).
    concentration : float or sequence of float, default=(0.1, 1.0)
        Dirichlet concentrations the draws cycle through.
    cv : int, splitter or iterable of (train, test), default=5
        Folds of the samples (an int is that many contiguous folds, as
        himalaya's ``KFold`` without shuffling).
    scoring : {"r2", "pearson", "neg_mse"}, default="r2"
        Score of the held-out predictions of each fold, averaged over folds.
    fit_intercept : bool, default=False
        Center features and targets on their training means (each fold on
        its own).
    random_state : int, RandomState or None, default=None
        Seed of the Dirichlet draws.
    target_chunk : int or None, default=None
        Targets scored and solved at once (None: from scikit-learn's
        ``working_memory``); the result does not depend on it.

    Returns
    -------
    Bunch
        ``alpha`` (n_targets,), ``band_weights`` (n_bands, n_targets) (the
        chosen candidate), ``deltas`` = ``log(band_weights / alpha)``
        (-inf for a zero weight), ``cv_scores`` (n_candidates, n_targets)
        (each candidate's mean held-out score over folds, at its best
        alpha), ``candidates`` (n_candidates, n_bands), ``intercept``
        (n_targets,), and the state :func:`banded_ridge_predict` reads.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> Y = X[:, :2] @ rng.standard_normal((2, 3))
    >>> model = fit_banded_ridge(X, Y, [slice(0, 2), slice(2, 5)], [0.1, 1.0], n_iter=5,
    ...                          random_state=0)
    >>> model.band_weights.shape, bool(np.all(model.band_weights[0] > 0.5))
    ((2, 3), True)
    """
    check_scoring(scoring, "fit_banded_ridge")
    X = np.asarray(check_representation(X, "X"), dtype=np.float64)
    Y = np.asarray(check_representation(Y, "Y"), dtype=np.float64)
    check_paired_samples(X, Y)
    given_alphas = _checked_alphas(alphas)
    band_columns = check_bands(bands, X.shape[1])
    candidates = band_weight_candidates(len(band_columns), n_iter, concentration, random_state)
    splits = fold_splits(cv, X.shape[0], scoring)
    x_scale, y_scale = range_scale(X), range_scale(Y)
    design = banded_design(X, band_columns, x_scale, fit_intercept)
    fit_alphas = scaled_alphas(given_alphas, x_scale, X)
    Y = Y / y_scale if y_scale != 1.0 else Y
    n, t = Y.shape
    chunks = target_chunks(n, t, 8, target_chunk=target_chunk)
    search = search_bands(
        design, Y, candidates, fit_alphas, given_alphas, splits, scoring, chunks,
        PREDICTION_RUN_BYTES,
    )  # fmt: skip
    mean_y = Y.mean(axis=0) if fit_intercept else np.zeros(t)
    centered = Y - mean_y if fit_intercept else Y
    coef, kernel = refit_bands(
        design, centered, candidates, search.candidate, fit_alphas[search.alpha_index], chunks
    )
    del centered
    design.kernels = None  # predictions form the kernels they need with new samples
    if not kernel:
        design.features = None  # primal weights predict alone
    band_weights = candidates[search.candidate].T
    alpha = given_alphas[search.alpha_index]
    with np.errstate(divide="ignore"):  # a band of weight 0 has delta -inf
        deltas = np.log(band_weights / alpha)
    cv_scores = search.cv_scores
    if scoring == "neg_mse":
        cv_scores = multiplied(cv_scores, y_scale, y_scale)
    shift = design_shift(design, coef, kernel, band_weights)
    return Bunch(
        alpha=alpha,
        band_weights=band_weights,
        deltas=deltas,
        cv_scores=cv_scores,
        candidates=candidates,
        best_candidate=search.candidate,
        intercept=multiplied(mean_y - shift, y_scale),
        design=design,
        coef=coef,
        kernel=kernel,
        mean_y=mean_y,
        y_scale=y_scale,
        n_features_in=X.shape[1],
    )


def banded_ridge_predict(model: Bunch, X: ArrayLike) -> np.ndarray:
    """Predictions of a model from :func:`fit_banded_ridge`.

    Parameters
    ----------
    model : Bunch
        The fitted model.
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        Features with the columns of the training features.

    Returns
    -------
    ndarray of shape (n_samples, n_targets)
        Predicted targets (numpy, float64).
    """
    X = to_numpy(check_representation(X, "X", min_samples=1), "X").astype(np.float64, copy=False)
    if X.shape[1] != model.n_features_in:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted on "
            f"{model.n_features_in}; expected X with the training features' columns."
        )
    centered = design_predict(model.design, model.coef, model.kernel, model.band_weights, X)
    return multiplied(centered + model.mean_y, model.y_scale)


def banded_ridge_coefficients(model: Bunch) -> np.ndarray:
    """The ridge weights of a model from :func:`fit_banded_ridge`, one row per column of X.

    Parameters
    ----------
    model : Bunch
        The fitted model.

    Returns
    -------
    ndarray of shape (n_features, n_targets)
        Predictions are ``X @ coef + intercept``; columns of X in no band
        have zero weights.
    """
    design = model.design
    used = design_coefficients(design, model.coef, model.kernel, model.band_weights)
    coef = np.zeros((model.n_features_in, used.shape[1]))
    coef[design.columns] = unscaled(multiplied(used, model.y_scale), design.x_scale)
    return coef
