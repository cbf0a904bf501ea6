"""A ridge encoding fit in two halves: the features' design once, then targets chunk by chunk.

:func:`ridge_design` does everything that depends on the features only (the
exact rescaling of features at extreme scales, the centering, the
eigendecompositions of the folds or of leave-one-out, the decomposition the
weights are solved with). :func:`fit_target_chunk` then fits any block of
target columns against it: their scores for every alpha, each target's
alpha, weights and intercept. Every target is fitted independently of the
others, so fitting the targets in chunks gives the fit of all of them at
once, with memory that grows with the chunk, not with the targets.

The design is a plain dataclass of arrays, which joblib pickles once per
worker (memory-mapped for loky, scattered for dask), so chunks can also be
fitted in other processes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import array_api_compat
import numpy as np
from sklearn.utils import Bunch

from .._array import get_namespace, matrix_transpose
from .._typing import Array
from ._extreme_scales import divide_by, multiplied, range_scale, scaled_alphas
from ._ridge_factors import (
    PREDICTION_RUN_BYTES,
    CVFactors,
    LOOFactors,
    cv_factors,
    cv_scores_of,
    loo_factors,
    loo_scores_of,
    symmetric_eigh,
)
from .ridge import select_alphas

__all__ = ["RidgeDesign", "ridge_design", "fit_target_chunk", "chunk_targets"]

#: Copies of a chunk of targets that a fit holds at once (the chunk in the
#: computation's dtype, its centered copy, the folds' training and test rows,
#: the leave-one-out residuals and the scores' centered copies), measured with
#: tracemalloc; the chunk size divides the memory budget by it.
CHUNK_COPIES = 8


@dataclass(eq=False)
class RidgeDesign:
    """The features' half of a ridge encoding fit, shared by every chunk of targets.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
        The candidate alphas as given.
    fit_alphas : ndarray of shape (n_alphas,)
        The same alphas for the rescaled features.
    x_scale : float
        The power of two the features were divided by.
    mean_x : array of shape (n_features,) or None
        The rescaled features' mean (with an intercept).
    features : array of shape (n_samples, n_features)
        The rescaled, centered training features.
    kernel_form : bool
        Whether the weights are dual (features outnumber samples).
    scoring : str
        How alphas are chosen.
    fit_intercept : bool
        Whether the targets are centered.
    factors : CVFactors or LOOFactors
        The folds' (or leave-one-out's) decompositions.
    eigenvalues, vectors : array
        The decomposition of ``X'X`` (primal) or ``XX'`` (kernel form) that
        the weights are solved with; eigenvalues clipped at 0.
    shift_basis : array of shape (n_samples,) or None
        ``features @ mean_x`` in the kernel form with an intercept.
    run_bytes : int
        Bytes of stacked held-out predictions scored at once.
    """

    alphas: np.ndarray
    fit_alphas: np.ndarray
    x_scale: float
    mean_x: Array | None
    features: Array
    kernel_form: bool
    scoring: str
    fit_intercept: bool
    factors: CVFactors | LOOFactors
    eigenvalues: Array
    vectors: Array
    shift_basis: Array | None
    run_bytes: int


def ridge_design(
    X: Array,
    alphas: np.ndarray,
    *,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    scoring: str = "pearson",
    fit_intercept: bool = True,
    run_bytes: int = PREDICTION_RUN_BYTES,
) -> RidgeDesign:
    """Compute the features' half of a ridge encoding fit.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated features in the computation's namespace, device and dtype.
    alphas : ndarray of shape (n_alphas,)
        Positive candidate alphas (checked).
    splits : list of (train, test) index arrays or None, default=None
        Cross-validation folds; None for efficient leave-one-out.
    scoring : {"pearson", "r2", "neg_mse"}, default="pearson"
        How held-out predictions are scored to choose alpha.
    fit_intercept : bool, default=True
        Center features and targets on their means.
    run_bytes : int, default=PREDICTION_RUN_BYTES
        Bytes of stacked held-out predictions scored at once.

    Returns
    -------
    RidgeDesign
        What :func:`fit_target_chunk` needs.
    """
    xp = get_namespace(X)
    x_scale = range_scale(X)
    X = divide_by(X, x_scale)
    fit_alphas = scaled_alphas(alphas, x_scale, X)
    mean_x = xp.mean(X, axis=0) if fit_intercept else None
    Xc = X - mean_x if fit_intercept else X
    del X
    kernel_form = Xc.shape[1] > Xc.shape[0]
    if splits is None:
        factors = loo_factors(Xc, fit_alphas, intercept=fit_intercept)
        eigenvalues, vectors = factors.eigenvalues, factors.vectors
    else:
        factors = cv_factors(
            Xc, splits, fit_intercept=fit_intercept, full_kernel=kernel_form, centered=True
        )
        if kernel_form:
            eigenvalues, vectors = factors.kernel_eigh
        else:
            eigenvalues, vectors = symmetric_eigh(matrix_transpose(Xc, xp) @ Xc, xp)
        eigenvalues = xp.clip(eigenvalues, min=0.0)
    shift_basis = Xc @ mean_x if kernel_form and mean_x is not None else None
    return RidgeDesign(
        alphas=np.asarray(alphas, dtype=np.float64),
        fit_alphas=fit_alphas,
        x_scale=x_scale,
        mean_x=mean_x,
        features=Xc,
        kernel_form=kernel_form,
        scoring=scoring,
        fit_intercept=fit_intercept,
        factors=factors,
        eigenvalues=eigenvalues,
        vectors=vectors,
        shift_basis=shift_basis,
        run_bytes=run_bytes,
    )


def fit_target_chunk(design: RidgeDesign, Y: Array) -> Bunch:
    """Fit a block of target columns against a :class:`RidgeDesign`.

    Parameters
    ----------
    design : RidgeDesign
        From :func:`ridge_design`.
    Y : array of shape (n_samples, n_targets)
        Validated targets in the design's namespace, device and dtype.

    Returns
    -------
    Bunch
        ``alpha`` and ``cv_scores`` (numpy, in the units of the data),
        ``intercept`` (in the units of the data), ``y_scale`` (the power of
        two the chunk was divided by), ``mean_y`` (of the rescaled chunk) and
        the rescaled problem's ``coef`` (primal) or ``dual_coef`` (kernel form).
    """
    xp = get_namespace(Y)
    y_scale = range_scale(Y)
    Y = divide_by(Y, y_scale)
    factors = design.factors
    projected = None
    if isinstance(factors, CVFactors):
        cv_scores = cv_scores_of(
            factors, Y, design.fit_alphas, design.scoring, run_bytes=design.run_bytes
        )
    if design.fit_intercept:
        mean_y = xp.mean(Y, axis=0)
        Y = Y - mean_y
    else:
        mean_y = xp.zeros(Y.shape[1], dtype=Y.dtype, device=array_api_compat.device(Y))
    if isinstance(factors, LOOFactors):
        cv_scores, projected = loo_scores_of(factors, Y, design.fit_alphas, design.scoring)
    # The choice depends on the scores and on the order of the alphas only;
    # the given alphas break ties towards the larger one, as without rescaling.
    alpha = select_alphas(cv_scores, design.alphas)
    if design.scoring == "neg_mse":  # -inf where the true MSE exceeds the float range
        cv_scores = multiplied(cv_scores, y_scale, y_scale)
    target_alphas = xp.asarray(
        scaled_alphas(alpha, design.x_scale, design.features),
        dtype=Y.dtype,
        device=array_api_compat.device(Y),
    )
    V = design.vectors
    if projected is None:
        # V' X' Y (primal) or U' Y (kernel form); leave-one-out computed it already.
        right = Y if design.kernel_form else matrix_transpose(design.features, xp) @ Y
        projected = matrix_transpose(V, xp) @ right
        del right
    del Y
    weights = V @ (projected / (design.eigenvalues[:, None] + target_alphas[None, :]))
    if design.kernel_form:
        coef, dual_coef = None, weights
        # mean_x . coef = (Xc mean_x) . dual: no primal weights needed.
        shift = design.shift_basis @ dual_coef if design.shift_basis is not None else 0.0
    else:
        coef, dual_coef = weights, None
        shift = design.mean_x @ coef if design.mean_x is not None else 0.0
    return Bunch(
        alpha=alpha,
        cv_scores=cv_scores,
        intercept=multiplied(mean_y - shift, y_scale),
        y_scale=y_scale,
        mean_y=mean_y,
        coef=coef,
        dual_coef=dual_coef,
    )


def chunk_targets(n_samples: int, n_targets: int, itemsize: int, budget_bytes: float) -> int:
    """Targets per chunk so that a chunk's fit holds about ``budget_bytes``.

    Parameters
    ----------
    n_samples : int
        Training samples (rows of the targets).
    n_targets : int
        All targets.
    itemsize : int
        Bytes per value in the computation's dtype.
    budget_bytes : float
        Memory a chunk's fit may hold (e.g. scikit-learn's ``working_memory``).

    Returns
    -------
    int
        Between 1 and ``n_targets``.
    """
    per_target = CHUNK_COPIES * n_samples * itemsize
    return int(min(n_targets, max(1, math.floor(budget_bytes / per_target))))
