"""What a cross-validated ridge fit computes from the features alone, shared by every target.

A ridge fit with alphas chosen per target splits in two halves:

- the features' half: one eigendecomposition per fold (of ``X'X``, or of the
  kernel ``XX'`` when features outnumber training samples), the held-out
  factors ``A`` of each fold and, for efficient leave-one-out, the
  leverages of every alpha. It costs O(n p min(n, p)) and does not depend on
  the targets;
- the targets' half: products of those factors with the targets, then the
  held-out predictions of every alpha and their scores, column by column.

The first half is computed once (:func:`cv_factors`, :func:`loo_factors`);
the second (:func:`cv_scores_of`, :func:`loo_scores_of`) takes any block of
target columns, so that targets too many to hold at once (100,000 voxels)
are scored chunk by chunk against the same decompositions, or in several
processes. Every target's score depends only on its own column, so the
scores of a chunk are those of the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import array_api_compat
import numpy as np

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array, Namespace
from ._prediction_scores import score_predictions

__all__ = [
    "FoldFactors",
    "CVFactors",
    "LOOFactors",
    "cv_factors",
    "cv_scores_of",
    "loo_factors",
    "loo_scores_of",
    "symmetric_eigh",
    "PREDICTION_RUN_BYTES",
]

#: Bytes of stacked held-out predictions scored at once (a run of alphas).
PREDICTION_RUN_BYTES = 96 << 20


def symmetric_eigh(matrix: Array, xp: Namespace) -> tuple[Array, Array]:
    """Eigenvalues and eigenvectors of a symmetric matrix.

    For numpy arrays, scipy's divide-and-conquer driver ("evd"): about 1.5x
    faster than ``np.linalg.eigh`` on an 800 x 800 kernel here.

    Parameters
    ----------
    matrix : array of shape (m, m)
        Symmetric matrix (numpy or torch).
    xp : namespace
        Its array namespace.

    Returns
    -------
    eigenvalues : array of shape (m,)
        Ascending.
    eigenvectors : array of shape (m, m)
        In columns.
    """
    if array_api_compat.is_numpy_array(matrix):
        import scipy.linalg

        return scipy.linalg.eigh(matrix, driver="evd", check_finite=False)
    return xp.linalg.eigh(matrix)


def _kernel_fold_blocks(
    kernel: Array, train: Array, test: Array, center: bool, xp: Namespace
) -> tuple[Array, Array]:
    """The (train, train) and (test, train) blocks of the kernel of all samples.

    Centering the features on the training mean ``m`` turns the blocks into
    ``(x_i - m).(x_j - m) = K_ij - K_i. m - m.K_.j + m.m``, all means of
    kernel blocks, so the features are not needed again.
    """
    train_block = xp.take(xp.take(kernel, train, axis=0), train, axis=1)
    test_block = xp.take(xp.take(kernel, test, axis=0), train, axis=1)
    if center:
        column_means = xp.mean(train_block, axis=0)
        grand_mean = xp.mean(column_means)
        train_block = train_block - column_means[None, :] - column_means[:, None] + grand_mean
        row_means = xp.mean(test_block, axis=1)
        test_block = test_block - row_means[:, None] - column_means[None, :] + grand_mean
    return train_block, test_block


def _held_out_predictions(
    A: Array,
    eigenvalues: Array,
    back: Array | None,
    right: Array,
    alphas: np.ndarray,
    xp: Namespace,
) -> Array:
    """Held-out predictions of a run of alphas, shape (n_alphas, n_test, n_targets).

    ``A diag(1 / (l + alpha)) [back]`` for every alpha, stacked into one tall
    matrix, times ``right``: one matrix product for the run, which BLAS runs
    about 1.6x faster than one product per alpha (taller blocks).
    """
    left = xp.concat([A / (eigenvalues + float(alpha)) for alpha in alphas], axis=0)
    if back is not None:
        left = left @ back
    return xp.reshape(left @ right, (len(alphas), A.shape[0], right.shape[1]))


@dataclass(eq=False)
class FoldFactors:
    """The features' factors of one cross-validation fold.

    Parameters
    ----------
    train, test : array of int
        Sample indices, in the features' namespace and device.
    A : array of shape (n_test, r)
        Held-out factor: ``X_test V`` (primal) or ``K_test,train U`` (kernel).
    eigenvalues : array of shape (r,)
        Of the fold's ``X'X`` or training kernel, clipped at 0.
    vectors : array
        ``V`` (p x p, primal) or ``U`` (n_train x n_train, kernel).
    kernel : bool
        Whether the fold takes the kernel form.
    mean_x : array of shape (n_features,) or None
        The training mean of a primal fold with an intercept.
    """

    train: Array
    test: Array
    A: Array
    eigenvalues: Array
    vectors: Array
    kernel: bool
    mean_x: Array | None


@dataclass(eq=False)
class CVFactors:
    """The features' half of a cross-validated ridge: one :class:`FoldFactors` per fold.

    Parameters
    ----------
    features : array of shape (n_samples, n_features)
        The features (centered on their mean with an intercept).
    folds : list of FoldFactors
        The folds.
    fit_intercept : bool
        Whether each fold centers on its training means.
    kernel_eigh : tuple (eigenvalues, eigenvectors) or None
        Eigendecomposition of the kernel of all samples, when asked for and
        the folds take the kernel form.
    """

    features: Array
    folds: list[FoldFactors]
    fit_intercept: bool
    kernel_eigh: tuple[Array, Array] | None


def cv_factors(
    X: Array,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    fit_intercept: bool,
    full_kernel: bool = False,
    centered: bool = False,
) -> CVFactors:
    """Decompose the features of every fold once.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features in range (see :func:`~skrep.functional.ridge.scaled_alphas`).
    splits : sequence of (train, test) index arrays
        Non-empty.
    fit_intercept : bool
        Center each fold on its training mean.
    full_kernel : bool, default=False
        Also decompose the kernel of all samples (for the dual weights), when
        the folds take the kernel form.
    centered : bool, default=False
        Whether X is already centered on its mean (no centered copy is made).

    Returns
    -------
    CVFactors
        The folds' factors.
    """
    xp = get_namespace(X)
    n_train_smallest = min(train.size for train, _ in splits)
    if fit_intercept and not centered:
        # Each fold centers on its own training mean, which a common shift does
        # not change; removing the overall mean first keeps float32 kernels of
        # offset features from cancelling.
        X = X - xp.mean(X, axis=0, keepdims=True)
    device = array_api_compat.device(X)
    indices = [(xp.asarray(tr, device=device), xp.asarray(te, device=device)) for tr, te in splits]
    folds, kernel_eigh = [], None
    # Kernel (dual) form when features outnumber training samples: the kernel
    # of all samples is computed once and each fold takes (and centers) its blocks.
    if X.shape[1] > n_train_smallest:
        kernel = X @ matrix_transpose(X, xp)
        if full_kernel:
            kernel_eigh = symmetric_eigh(kernel, xp)
        for train, test in indices:
            train_block, test_block = _kernel_fold_blocks(kernel, train, test, fit_intercept, xp)
            eigenvalues, U = symmetric_eigh(train_block, xp)
            del train_block
            folds.append(
                FoldFactors(
                    train, test, test_block @ U, xp.clip(eigenvalues, min=0.0), U, True, None
                )
            )
        return CVFactors(X, folds, fit_intercept, kernel_eigh)
    for train, test in indices:
        X_train, X_test = xp.take(X, train, axis=0), xp.take(X, test, axis=0)
        mean_x = None
        if fit_intercept:
            mean_x = xp.mean(X_train, axis=0)
            X_train, X_test = X_train - mean_x, X_test - mean_x
        # With X'X = V diag(l) V', the held-out predictions of alpha are
        # X_test V diag(1 / (l + alpha)) V' X' Y.
        eigenvalues, V = symmetric_eigh(matrix_transpose(X_train, xp) @ X_train, xp)
        folds.append(
            FoldFactors(train, test, X_test @ V, xp.clip(eigenvalues, min=0.0), V, False, mean_x)
        )
    return CVFactors(X, folds, fit_intercept, None)


def cv_scores_of(
    factors: CVFactors,
    Y: Array,
    alphas: np.ndarray,
    scoring: str,
    *,
    run_bytes: int = PREDICTION_RUN_BYTES,
) -> np.ndarray:
    """Mean held-out score over folds of every alpha for a block of targets.

    Parameters
    ----------
    factors : CVFactors
        From :func:`cv_factors`.
    Y : array of shape (n_samples, n_targets)
        Targets (any block of columns), in the features' namespace and dtype.
    alphas : ndarray of shape (n_alphas,)
        Alphas of the (rescaled) problem.
    scoring : {"pearson", "r2", "neg_mse"}
        Checked scoring.
    run_bytes : int, default=PREDICTION_RUN_BYTES
        Bytes of stacked predictions (a run of alphas) scored at once.

    Returns
    -------
    ndarray of shape (n_alphas, n_targets)
        float64.
    """
    xp = get_namespace(Y)
    total = np.zeros((alphas.size, Y.shape[1]))
    for fold in factors.folds:
        Y_train = xp.take(Y, fold.train, axis=0)
        Y_test = xp.take(Y, fold.test, axis=0)
        mean_y = xp.mean(Y_train, axis=0) if factors.fit_intercept else None
        if factors.fit_intercept:
            Y_train = Y_train - mean_y
        if fold.kernel:
            # Held-out predictions of alpha: (test_block U diag(1 / (l + alpha)) U') Y_train;
            # the bracket is n_test x n_train, cheaper than U' Y_train (n_train x t).
            back, right = matrix_transpose(fold.vectors, xp), Y_train
        else:
            X_train = xp.take(factors.features, fold.train, axis=0)
            if fold.mean_x is not None:
                X_train = X_train - fold.mean_x
            back = None
            right = matrix_transpose(fold.vectors, xp) @ (matrix_transpose(X_train, xp) @ Y_train)
            del X_train
        del Y_train
        # Alphas in runs whose stacked predictions stay within run_bytes.
        per_alpha = fold.A.shape[0] * Y.shape[1] * Y.dtype.itemsize  # numpy and torch dtypes
        run = max(1, min(alphas.size, run_bytes // max(per_alpha, 1)))
        for first in range(0, alphas.size, run):
            chunk = alphas[first : first + run]
            predictions = _held_out_predictions(fold.A, fold.eigenvalues, back, right, chunk, xp)
            if factors.fit_intercept:
                predictions += mean_y
            if scoring == "neg_mse":  # in place: no second block of this size
                predictions -= Y_test
                predictions *= predictions
                score = -xp.mean(predictions, axis=-2)
            else:
                score = score_predictions(Y_test, predictions, scoring, check_input=False)
            del predictions
            total[first : first + run] += to_numpy(xp.astype(score, xp.float64))
    return total / len(factors.folds)


@dataclass(eq=False)
class LOOFactors:
    """The features' half of efficient leave-one-out ridge.

    Parameters
    ----------
    A : array of shape (n_samples, r)
        ``X V`` (primal) or ``U diag(sqrt(l))`` (kernel): the hat matrix of
        alpha is ``A diag(1 / (l + alpha)) A'``.
    eigenvalues : array of shape (r,)
        Of ``X'X`` or ``XX'``, clipped at 0.
    vectors : array
        ``V`` (p x p) or ``U`` (n x n).
    kernel : bool
        Whether the kernel ``XX'`` was decomposed (fewer samples than features).
    leverages : array of shape (n_alphas, n_samples)
        The diagonal of each alpha's hat matrix (plus ``1/n`` with an intercept).
    kernel_eigh : tuple (eigenvalues, eigenvectors) or None
        The kernel's eigendecomposition as computed (eigenvalues not clipped),
        in the kernel form.
    """

    A: Array
    eigenvalues: Array
    vectors: Array
    kernel: bool
    leverages: Array
    kernel_eigh: tuple[Array, Array] | None


def loo_factors(X: Array, alphas: np.ndarray, *, intercept: bool) -> LOOFactors:
    """Decompose the features once for leave-one-out scores of every alpha.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Features in range (centered for an intercept).
    alphas : ndarray of shape (n_alphas,)
        Alphas of the (rescaled) problem.
    intercept : bool
        Whether X was centered for an unpenalised intercept (adds ``1/n`` to
        every leverage, as scikit-learn's RidgeCV).

    Returns
    -------
    LOOFactors
        The factors.
    """
    xp = get_namespace(X)
    n, p = X.shape
    kernel_eigh = None
    if n >= p:
        eigenvalues, vectors = symmetric_eigh(matrix_transpose(X, xp) @ X, xp)
        A = X @ vectors
    else:
        kernel_eigh = eigenvalues, vectors = symmetric_eigh(X @ matrix_transpose(X, xp), xp)
        A = vectors * xp.sqrt(xp.clip(eigenvalues, min=0.0))
    eigenvalues = xp.clip(eigenvalues, min=0.0)
    squares = A * A
    leverages = xp.stack(
        [xp.sum(squares * (1.0 / (eigenvalues + float(alpha))), axis=1) for alpha in alphas]
    )
    if intercept:
        leverages = leverages + 1.0 / n
    return LOOFactors(A, eigenvalues, vectors, n < p, leverages, kernel_eigh)


def loo_scores_of(
    factors: LOOFactors, Y: Array, alphas: np.ndarray, scoring: str
) -> tuple[np.ndarray, Array]:
    """Leave-one-out score of every alpha for a block of targets.

    Parameters
    ----------
    factors : LOOFactors
        From :func:`loo_factors` with the same alphas.
    Y : array of shape (n_samples, n_targets)
        Targets (centered for an intercept), in the features' namespace and dtype.
    alphas : ndarray of shape (n_alphas,)
        The alphas of :func:`loo_factors`.
    scoring : {"pearson", "r2", "neg_mse"}
        Checked scoring.

    Returns
    -------
    scores : ndarray of shape (n_alphas, n_targets)
        float64.
    projected : array of shape (r, n_targets)
        ``V' X' Y`` (primal) or ``U' Y`` (kernel), which the weights reuse.
    """
    xp = get_namespace(Y)
    projected = matrix_transpose(factors.vectors if factors.kernel else factors.A, xp) @ Y
    if factors.kernel:  # A' Y = diag(sqrt(l)) U' Y: one product serves both
        B = projected * xp.sqrt(factors.eigenvalues)[:, None]
    else:
        B = projected
    scores = []
    for i, alpha in enumerate(alphas):
        weights = 1.0 / (factors.eigenvalues + float(alpha))
        residual = Y - (factors.A * weights) @ B
        residual /= 1.0 - factors.leverages[i][:, None]
        loo = Y - residual
        del residual
        score = score_predictions(Y, loo, scoring, check_input=False)
        scores.append(to_numpy(xp.astype(score, xp.float64)))
    return np.stack(scores), projected
