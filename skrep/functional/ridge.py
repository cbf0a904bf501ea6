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

from collections.abc import Iterable, Sequence

import array_api_compat
import numpy as np

from .._array import convert_like, get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike, Namespace
from .._validation import check_paired_samples, check_representation
from ._extreme_scales import in_range, multiplied, scaled_alphas, unscaled
from ._prediction_scores import SCORINGS, check_scoring, score_predictions

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


def _symmetric_eigh(matrix: Array, xp: Namespace) -> tuple[Array, Array]:
    """Eigenvalues and eigenvectors of a symmetric matrix.

    For numpy arrays, scipy's divide-and-conquer driver ("evd"): about 1.5x
    faster than ``np.linalg.eigh`` on an 800 x 800 kernel here.
    """
    if array_api_compat.is_numpy_array(matrix):
        import scipy.linalg

        return scipy.linalg.eigh(matrix, driver="evd", check_finite=False)
    return xp.linalg.eigh(matrix)


def _fold_factors(
    X_train: Array, Y_train: Array, X_test: Array, xp: Namespace
) -> tuple[Array, Array, None, Array]:
    """Primal factors of one fold: ``A`` (n_test x p), eigenvalues ``l`` (p,), ``B`` (p x t).

    With ``X'X = V diag(l) V'``, the held-out predictions of alpha are
    ``X_test V diag(1 / (l + alpha)) V' X' Y``. (Folds with fewer training
    samples than features use :func:`_kernel_fold_factors`.)
    """
    eigenvalues, V = _symmetric_eigh(matrix_transpose(X_train, xp) @ X_train, xp)
    projected = matrix_transpose(V, xp) @ (matrix_transpose(X_train, xp) @ Y_train)
    return X_test @ V, eigenvalues, None, projected


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


def _eigh_of_blocks(blocks: Sequence[Array], xp: Namespace) -> list[tuple[Array, Array]]:
    """Eigendecompositions of the folds' training blocks, one after the other.

    (Two at a time in threads, each with one BLAS thread, was measured too:
    no faster in float64 and about 1.3x slower in float32 on two cores.)
    """
    return [_symmetric_eigh(block, xp) for block in blocks]


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
    xp = get_namespace(X, Y)
    total = np.zeros((alphas.size, Y.shape[1]))
    n_folds = 0
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    n_train_smallest = min(train.size for train, _ in splits) if splits else 0
    # Kernel (dual) form when features outnumber training samples: the kernel
    # of all samples is computed once and each fold takes (and centers) its blocks.
    if fit_intercept:
        # Each fold centers on its own training mean, which a common shift does
        # not change; removing the overall mean first keeps float32 kernels of
        # offset features from cancelling.
        X = X - xp.mean(X, axis=0, keepdims=True)
    kernel = X @ matrix_transpose(X, xp) if X.shape[1] > n_train_smallest else None
    device = array_api_compat.device(X)
    indices = [(xp.asarray(tr, device=device), xp.asarray(te, device=device)) for tr, te in splits]
    if kernel is not None:
        blocks = [_kernel_fold_blocks(kernel, tr, te, fit_intercept, xp) for tr, te in indices]
        full = [kernel] if return_kernel_eigh else []
        decompositions = _eigh_of_blocks(full + [train_block for train_block, _ in blocks], xp)
        kernel_eigh = decompositions.pop(0) if return_kernel_eigh else None
    else:
        kernel_eigh = None
    for fold, (train_index, test_index) in enumerate(indices):
        Y_train = xp.take(Y, train_index, axis=0)
        Y_test = xp.take(Y, test_index, axis=0)
        mean_y = xp.mean(Y_train, axis=0) if fit_intercept else None
        if fit_intercept:
            Y_train = Y_train - mean_y
        if kernel is not None:
            # Held-out predictions of alpha: (test_block U diag(1 / (l + alpha)) U') Y_train;
            # the bracket is n_test x n_train, cheaper than U' Y_train (n_train x t).
            eigenvalues, U = decompositions[fold]
            A, back, right = blocks[fold][1] @ U, matrix_transpose(U, xp), Y_train
        else:
            X_train = xp.take(X, train_index, axis=0)
            X_test = xp.take(X, test_index, axis=0)
            if fit_intercept:
                mean_x = xp.mean(X_train, axis=0)
                X_train, X_test = X_train - mean_x, X_test - mean_x
            A, eigenvalues, back, right = _fold_factors(X_train, Y_train, X_test, xp)
        eigenvalues = xp.clip(eigenvalues, min=0.0)  # rounding can leave tiny negatives
        # Alphas in runs whose stacked predictions stay within about 96 MiB.
        per_alpha = A.shape[0] * Y.shape[1] * Y.dtype.itemsize  # numpy and torch dtypes
        run = max(1, min(alphas.size, (96 << 20) // max(per_alpha, 1)))
        for first in range(0, alphas.size, run):
            chunk = alphas[first : first + run]
            predictions = _held_out_predictions(A, eigenvalues, back, right, chunk, xp)
            if fit_intercept:
                predictions += mean_y
            if scoring == "neg_mse":  # in place: no second block of this size
                predictions -= Y_test
                predictions *= predictions
                score = -xp.mean(predictions, axis=-2)
            else:
                score = score_predictions(Y_test, predictions, scoring, check_input=False)
            total[first : first + run] += to_numpy(xp.astype(score, xp.float64))
        n_folds += 1
    if n_folds == 0:
        raise ValueError("splits is empty; expected at least one (train, test) split.")
    if not return_kernel_eigh:
        return total / n_folds
    if kernel_eigh is not None and scale != 1.0:
        kernel_eigh = (multiplied(kernel_eigh[0], scale, scale), kernel_eigh[1])
    return total / n_folds, kernel_eigh


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
    eigenvalues, V = _symmetric_eigh(matrix_transpose(X, xp) @ X, xp)
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
        kernel_eigh = _symmetric_eigh(X @ matrix_transpose(X, xp), xp)
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
    xp = get_namespace(X, Y)
    n, p = X.shape
    kernel_eigh = None
    if n >= p:
        eigenvalues, V = _symmetric_eigh(matrix_transpose(X, xp) @ X, xp)
        A = X @ V  # H = A diag(1/(l+a)) A'
    else:
        kernel_eigh = eigenvalues, U = _symmetric_eigh(X @ matrix_transpose(X, xp), xp)
        A = U * xp.sqrt(xp.clip(eigenvalues, min=0.0))  # H = U diag(l/(l+a)) U'
    B = matrix_transpose(A, xp) @ Y
    eigenvalues = xp.clip(eigenvalues, min=0.0)
    squares = A * A
    scores = []
    for alpha in alphas:
        weights = 1.0 / (eigenvalues + float(alpha))
        fitted = (A * weights) @ B
        leverage = xp.sum(squares * weights, axis=1)[:, None]
        if intercept:
            leverage = leverage + 1.0 / n
        loo = Y - (Y - fitted) / (1.0 - leverage)
        score = score_predictions(Y, loo, scoring, check_input=False)
        scores.append(to_numpy(xp.astype(score, xp.float64)))
    if not return_kernel_eigh:
        return np.stack(scores)
    if kernel_eigh is not None and scale != 1.0:
        kernel_eigh = (multiplied(kernel_eigh[0], scale, scale), kernel_eigh[1])
    return np.stack(scores), kernel_eigh
