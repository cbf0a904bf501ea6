"""Ridge regression with a regularisation strength chosen per target by cross-validation.

One eigendecomposition per fold serves every alpha: with more training
samples than features, of ``X'X`` (the primal form); otherwise of the kernel
``XX'`` (the dual form, as himalaya's KernelRidgeCV), so the cost follows the
smaller of the two. For each alpha the held-out predictions are
``A diag(1 / (l + alpha)) B`` with ``A`` and ``B`` computed once per fold.
Alphas are chosen per target from the mean held-out score over folds, with
himalaya's tie-break towards larger alphas (a slope of ``1e-10 log10 alpha``).

Features near 1e300 or 1e-300, whose ``X'X`` would overflow or underflow, are
divided by a power of two and the alphas by its square (see
:func:`scaled_alphas`): the same ridge problem, whose scores, weights and
eigenvalues are given back in the units of the data.
"""

from __future__ import annotations

from collections.abc import Iterable

import array_api_compat
import numpy as np

from .._array import convert_like, get_namespace, matrix_transpose
from .._typing import Array, ArrayLike
from .._validation import check_paired_samples, check_representation
from ._extreme_scales import in_range, multiplied, scaled_alphas, unscaled
from ._prediction_scores import SCORINGS, check_scoring, score_predictions
from ._ridge_factors import cv_factors, cv_scores_of, loo_factors, loo_scores_of, symmetric_eigh

__all__ = [
    "ridge_cv_scores",
    "ridge_loo_scores",
    "ridge_coefficients",
    "ridge_dual_coefficients",
    "select_alphas",
    "score_predictions",
    "check_scoring",
    "scaled_alphas",
    "SCORINGS",
]


def _checked_pair(
    X: ArrayLike, Y: ArrayLike, names: tuple[str, str] = ("X", "Y")
) -> tuple[Array, Array]:
    """Validated features and 2-D targets, Y in X's namespace."""
    X = check_representation(X, names[0])
    Y = check_representation(Y, names[1])
    check_paired_samples(X, Y, names=names)
    return X, convert_like(Y, X)


def _checked_alphas(alphas: ArrayLike, name: str) -> np.ndarray:
    try:
        values = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.empty(0)
    valid = values.ndim == 1 and values.size > 0 and np.all(np.isfinite(values))
    if not valid or np.any(values <= 0):
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of positive finite numbers; got {alphas!r}."
        )
    return values


def _per_target_alphas(alphas_per_target: ArrayLike, Y: Array) -> np.ndarray:
    alphas = _checked_alphas(alphas_per_target, "alphas_per_target")
    if alphas.size != Y.shape[1]:
        raise ValueError(
            f"alphas_per_target has {alphas.size} values but Y has {Y.shape[1]} targets; "
            "expected one alpha per target."
        )
    return alphas


def ridge_cv_scores(
    X: Array,
    Y: Array,
    alphas: ArrayLike,
    splits: Iterable[tuple[ArrayLike, ArrayLike]],
    *,
    scoring: str = "pearson",
    fit_intercept: bool = False,
    return_kernel_eigh: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[Array, Array] | None]:
    """Mean held-out score of every alpha for every target.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features (numpy or torch).
    Y : array of shape (n_samples, n_targets)
        Targets.
    alphas : array-like of shape (n_alphas,)
        Positive regularisation strengths.
    splits : iterable of (train, test) index arrays
        Cross-validation splits.
    scoring : {"pearson", "r2", "neg_mse"}, default="pearson"
        How held-out predictions are scored (see :func:`score_predictions`);
        the default of :func:`ridge_loo_scores` and of the encoding models
        (it was "neg_mse" before version 0.2).
    fit_intercept : bool, default=False
        Center X and Y on each training fold's means.
    return_kernel_eigh : bool, default=False
        Also return the eigendecomposition of the kernel of all samples (of
        the features centered on their mean with ``fit_intercept``), for
        :func:`ridge_dual_coefficients`; it is computed beside the folds' own.
        None where the folds take the primal form.

    Returns
    -------
    scores : ndarray of shape (n_alphas, n_targets)
        Scores averaged over folds (float64 numpy).
    kernel_eigh : tuple (eigenvalues, eigenvectors) or None
        Only with ``return_kernel_eigh``.
    """
    check_scoring(scoring, "ridge_cv_scores")
    X, Y = _checked_pair(X, Y)
    X, alphas, scale = in_range(X, _checked_alphas(alphas, "alphas"))
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    if not splits:
        raise ValueError("splits is empty; expected at least one (train, test) split.")
    factors = cv_factors(X, splits, fit_intercept=fit_intercept, full_kernel=return_kernel_eigh)
    scores = cv_scores_of(factors, Y, alphas, scoring)
    if not return_kernel_eigh:
        return scores
    kernel_eigh = factors.kernel_eigh
    if kernel_eigh is not None and scale != 1.0:
        kernel_eigh = (multiplied(kernel_eigh[0], scale, scale), kernel_eigh[1])
    return scores, kernel_eigh


def ridge_coefficients(X: Array, Y: Array, alphas_per_target: ArrayLike) -> Array:
    """Ridge weights with one alpha per target, from one decomposition.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features (center them first for an intercept).
    Y : array of shape (n_samples, n_targets)
        Targets.
    alphas_per_target : array-like of shape (n_targets,)
        The alpha of each target.

    Returns
    -------
    array of shape (n_features, n_targets)
        ``(X'X + alpha_t I)^-1 X' y_t`` for each target t, in X's namespace.
    """
    X, Y = _checked_pair(X, Y)
    X, alphas, scale = in_range(X, _per_target_alphas(alphas_per_target, Y))
    xp = get_namespace(X, Y)
    n, p = X.shape
    if n < p:
        coef = matrix_transpose(X, xp) @ ridge_dual_coefficients(X, Y, alphas)
        return unscaled(coef, scale)
    alphas = xp.asarray(alphas, dtype=X.dtype, device=array_api_compat.device(X))
    eigenvalues, V = symmetric_eigh(matrix_transpose(X, xp) @ X, xp)
    eigenvalues = xp.clip(eigenvalues, min=0.0)
    projected = matrix_transpose(V, xp) @ (matrix_transpose(X, xp) @ Y)
    return unscaled(V @ (projected / (eigenvalues[:, None] + alphas[None, :])), scale)


def ridge_dual_coefficients(
    X: Array,
    Y: Array,
    alphas_per_target: ArrayLike,
    *,
    kernel_eigh: tuple[Array, Array] | None = None,
) -> Array:
    """Dual ridge weights ``(XX' + alpha_t I)^-1 y_t``, one alpha per target.

    The primal weights are ``X' dual``; predictions for new features ``Z``
    are ``Z X' dual``, cheaper than forming the primal weights when
    features outnumber samples.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features (center them first for an intercept).
    Y : array of shape (n_samples, n_targets)
        Targets.
    alphas_per_target : array-like of shape (n_targets,)
        The alpha of each target.
    kernel_eigh : tuple (eigenvalues, eigenvectors), default=None
        The eigendecomposition of ``XX'`` if already computed (as
        :func:`ridge_cv_scores` returns it).

    Returns
    -------
    array of shape (n_samples, n_targets)
        In X's namespace.
    """
    X, Y = _checked_pair(X, Y)
    X, alphas, scale = in_range(X, _per_target_alphas(alphas_per_target, Y))
    xp = get_namespace(X, Y)
    alphas = xp.asarray(alphas, dtype=X.dtype, device=array_api_compat.device(X))
    if kernel_eigh is None:
        kernel_eigh = symmetric_eigh(X @ matrix_transpose(X, xp), xp)
    else:
        kernel_eigh = (unscaled(kernel_eigh[0], scale, scale), kernel_eigh[1])
    eigenvalues, U = kernel_eigh
    n = X.shape[0]
    if tuple(eigenvalues.shape) != (n,) or tuple(U.shape) != (n, n):
        raise ValueError(
            f"kernel_eigh holds eigenvalues of shape {tuple(eigenvalues.shape)} and eigenvectors "
            f"of shape {tuple(U.shape)}; expected ({n},) and ({n}, {n}), the eigendecomposition "
            "of X X' (as ridge_cv_scores(return_kernel_eigh=True) returns it)."
        )
    if not bool(xp.all(xp.isfinite(eigenvalues))):
        raise ValueError(
            "kernel_eigh holds infinite eigenvalues: X X' of features this large "
            f"(largest |X| is {float(xp.max(xp.abs(X))) * scale:.3g}) exceeds the float range; "
            "pass kernel_eigh=None to decompose the rescaled kernel instead."
        )
    eigenvalues = xp.clip(eigenvalues, min=0.0)
    dual = U @ ((matrix_transpose(U, xp) @ Y) / (eigenvalues[:, None] + alphas[None, :]))
    return unscaled(dual, scale, scale)


def select_alphas(scores: np.ndarray, alphas: ArrayLike) -> np.ndarray:
    """Best alpha per target, ties broken towards larger alphas (as himalaya).

    Parameters
    ----------
    scores : ndarray of shape (n_alphas, n_targets)
        Mean held-out scores.
    alphas : array-like of shape (n_alphas,)
        The alphas.

    Returns
    -------
    ndarray of shape (n_targets,)
        The chosen alpha of each target.
    """
    alphas = _checked_alphas(alphas, "alphas")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != alphas.size:
        raise ValueError(
            f"scores has shape {scores.shape}; expected (n_alphas, n_targets) with "
            f"n_alphas = {alphas.size}."
        )
    return alphas[np.argmax(scores + 1e-10 * np.log10(alphas)[:, None], axis=0)]


def ridge_loo_scores(
    X: Array,
    Y: Array,
    alphas: ArrayLike,
    *,
    scoring: str = "pearson",
    intercept: bool = False,
    return_kernel_eigh: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[Array, Array] | None]:
    """Score of the leave-one-out predictions of every alpha for every target.

    From one eigendecomposition (of ``X'X`` or of ``XX'``, whichever is
    smaller): the hat matrix of alpha is ``H = X (X'X + alpha I)^-1 X'`` and
    the leave-one-out prediction of sample i is
    ``y_i - (y_i - (HY)_i) / (1 - H_ii)``. For a model with an intercept,
    pass X and Y centered and ``intercept=True``: the unpenalised intercept
    adds ``1/n`` to every leverage (as in scikit-learn's RidgeCV), so the
    held-out sample does not leak in through the means.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features (numpy or torch).
    Y : array of shape (n_samples, n_targets)
        Targets.
    alphas : array-like of shape (n_alphas,)
        Positive regularisation strengths.
    scoring : {"neg_mse", "r2", "pearson"}, default="pearson"
        How the leave-one-out predictions are scored.
    intercept : bool, default=False
        Whether X and Y were centered for an intercept.
    return_kernel_eigh : bool, default=False
        Also return the eigendecomposition of ``XX'`` that the kernel form
        computes (None in the primal form), for :func:`ridge_dual_coefficients`.

    Returns
    -------
    scores : ndarray of shape (n_alphas, n_targets)
        Scores (float64 numpy).
    kernel_eigh : tuple (eigenvalues, eigenvectors) or None
        Only with ``return_kernel_eigh``.
    """
    check_scoring(scoring, "ridge_loo_scores")
    X, Y = _checked_pair(X, Y)
    X, alphas, scale = in_range(X, _checked_alphas(alphas, "alphas"))
    factors = loo_factors(X, alphas, intercept=intercept)
    scores, _ = loo_scores_of(factors, Y, alphas, scoring)
    if not return_kernel_eigh:
        return scores
    kernel_eigh = factors.kernel_eigh
    if kernel_eigh is not None and scale != 1.0:
        kernel_eigh = (multiplied(kernel_eigh[0], scale, scale), kernel_eigh[1])
    return scores, kernel_eigh
