"""The random search of banded ridge: every candidate band weighting, every fold, every alpha.

For a candidate weighting ``gamma`` (one weight per band), banded ridge is
ridge on the features of band b scaled by ``sqrt(gamma_b)``, whose kernel is
``K = sum_b gamma_b X_b X_b'``. One eigendecomposition per fold and candidate
(of the training block of ``K``, or of ``D X'X D`` with ``D`` the per-feature
``sqrt(gamma)`` when features are fewer than training samples) gives the
held-out predictions of every alpha and of every target:
``A diag(1 / (l + alpha)) R`` with ``A`` the held-out factor of the fold and
``R`` the targets projected on the eigenvectors. The targets are read in
chunks of columns against it; each target keeps the candidate and alpha of
its best mean score over folds, as himalaya's ``solve_group_ridge_random_search``
(a slope of ``1e-10 ln(alpha)`` breaks ties towards larger alphas, and a later
candidate must beat the best by more than the float epsilon).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
from sklearn.utils import Bunch

from ._prediction_scores import score_predictions
from ._ridge_factors import _held_out_predictions, _kernel_fold_blocks

__all__ = [
    "BandedDesign",
    "banded_design",
    "band_kernels",
    "feature_scales",
    "search_bands",
    "eigh_in_place",
]


def eigh_in_place(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (clipped at 0, ascending) and eigenvectors of a symmetric matrix it overwrites.

    Parameters
    ----------
    matrix : ndarray of shape (m, m)
        A symmetric float64 matrix that is not needed afterwards.

    Returns
    -------
    eigenvalues : ndarray of shape (m,)
        Clipped at 0 (rounding makes those of a semi-definite matrix slightly negative).
    eigenvectors : ndarray of shape (m, m)
        In columns.
    """
    eigenvalues, vectors = scipy.linalg.eigh(
        matrix, driver="evd", overwrite_a=True, check_finite=False
    )
    return np.clip(eigenvalues, 0.0, None), vectors


@dataclass(eq=False)
class BandedDesign:
    """The features of a banded ridge fit, with their bands side by side.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_used) or None
        The columns of the bands, band after band, divided by ``x_scale`` and
        centered on their mean with an intercept (None once a primal model
        no longer needs them).
    slices : list of slice
        The columns of each band in ``features``.
    columns : ndarray of shape (n_used,)
        The column of X of each column of ``features``.
    mean_x : ndarray of shape (n_used,) or None
        The mean the features were centered on (with an intercept).
    x_scale : float
        The power of two X was divided by.
    fit_intercept : bool
        Whether features and targets are centered (and each fold on its own).
    kernels : ndarray of shape (n_bands, n_samples, n_samples) or None
        ``X_b X_b'`` of each band, computed when a kernel form needs them.
    """

    features: np.ndarray | None
    slices: list[slice]
    columns: np.ndarray
    mean_x: np.ndarray | None
    x_scale: float
    fit_intercept: bool
    kernels: np.ndarray | None = field(default=None)


def banded_design(
    X: np.ndarray, bands: Sequence[np.ndarray], x_scale: float, fit_intercept: bool
) -> BandedDesign:
    """The features of the bands side by side, rescaled and centered.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Checked float64 features.
    bands : sequence of ndarray of int
        Checked, disjoint column indices of each band.
    x_scale : float
        Power of two to divide X by.
    fit_intercept : bool
        Center the features on their mean.

    Returns
    -------
    BandedDesign
        The design (without kernels).
    """
    columns = np.concatenate(list(bands))
    features = X[:, columns] / x_scale
    mean_x = None
    if fit_intercept:
        mean_x = features.mean(axis=0)
        features -= mean_x
    ends = np.cumsum([0] + [band.size for band in bands])
    slices = [slice(int(a), int(b)) for a, b in zip(ends[:-1], ends[1:], strict=True)]
    return BandedDesign(features, slices, columns, mean_x, x_scale, fit_intercept)


def band_kernels(design: BandedDesign) -> np.ndarray:
    """``X_b X_b'`` of every band (computed once, kept on the design).

    Parameters
    ----------
    design : BandedDesign
        The design.

    Returns
    -------
    ndarray of shape (n_bands, n_samples, n_samples)
        The linear kernels of the centered, rescaled bands.
    """
    if design.kernels is None:
        design.kernels = np.stack(
            [design.features[:, s] @ design.features[:, s].T for s in design.slices]
        )
    return design.kernels


def feature_scales(design: BandedDesign, gamma: np.ndarray) -> np.ndarray:
    """``sqrt(gamma_b)`` for every column of the design.

    Parameters
    ----------
    design : BandedDesign
        The design.
    gamma : ndarray of shape (n_bands,)
        Band weights.

    Returns
    -------
    ndarray of shape (n_used,)
        The scale of each feature.
    """
    sizes = [s.stop - s.start for s in design.slices]
    return np.repeat(np.sqrt(gamma), sizes)


@dataclass(eq=False)
class _PrimalFold:
    """A fold's features in the primal form: what every candidate weighting reuses."""

    train: np.ndarray
    test: np.ndarray
    mean: np.ndarray | None
    gram: np.ndarray
    test_features: np.ndarray
    projected: dict = field(default_factory=dict)

    def train_features(self, design: BandedDesign) -> np.ndarray:
        block = design.features[self.train]
        return block - self.mean if self.mean is not None else block


def _primal_folds(design: BandedDesign, splits: Sequence) -> list[_PrimalFold]:
    folds = []
    for train, test in splits:
        block = design.features[train]
        mean = block.mean(axis=0) if design.fit_intercept else None
        if mean is not None:
            block = block - mean
        test_block = design.features[test]
        if mean is not None:
            test_block = test_block - mean
        folds.append(_PrimalFold(train, test, mean, block.T @ block, test_block))
    return folds


def _fold_targets(
    Y: np.ndarray, train: np.ndarray, test: np.ndarray, columns: slice, center: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Training targets (centered), test targets and the training mean of a chunk."""
    chunk = np.asarray(Y[:, columns])
    Y_train, Y_test = chunk[train], chunk[test]
    mean = Y_train.mean(axis=0) if center else None
    if mean is not None:
        Y_train = Y_train - mean
    return Y_train, Y_test, mean


def _chunk_scores(
    A: np.ndarray,
    eigenvalues: np.ndarray,
    back: np.ndarray | None,
    right: np.ndarray,
    Y_test: np.ndarray,
    mean: np.ndarray | None,
    alphas: np.ndarray,
    scoring: str,
    run_bytes: int,
) -> np.ndarray:
    """Held-out scores of every alpha, (n_alphas, n_targets), in runs of alphas."""
    per_alpha = A.shape[0] * right.shape[1] * 8
    run = max(1, min(alphas.size, run_bytes // max(per_alpha, 1)))
    scores = np.empty((alphas.size, right.shape[1]))
    for first in range(0, alphas.size, run):
        predictions = _held_out_predictions(
            A, eigenvalues, back, right, alphas[first : first + run], np
        )
        if mean is not None:
            predictions += mean
        scores[first : first + run] = score_predictions(
            Y_test, predictions, scoring, check_input=False
        )
    return scores


def _candidate_scores(
    design: BandedDesign,
    gamma: np.ndarray,
    folds: list,
    Y: np.ndarray,
    chunks: list[slice],
    alphas: np.ndarray,
    scoring: str,
    run_bytes: int,
) -> np.ndarray:
    """Mean held-out score over folds of every alpha for every target, for one weighting."""
    total = np.zeros((alphas.size, Y.shape[1]))
    kernel = isinstance(folds[0], tuple)
    if kernel:
        K = np.tensordot(gamma, band_kernels(design), axes=1)
    else:
        scales = feature_scales(design, gamma)
    for fold in folds:
        if kernel:
            train, test = fold
            train_block, test_block = _kernel_fold_blocks(K, train, test, design.fit_intercept, np)
            eigenvalues, vectors = eigh_in_place(train_block)
            del train_block
            A = test_block @ vectors
        else:
            train, test = fold.train, fold.test
            eigenvalues, vectors = eigh_in_place(scales[:, None] * fold.gram * scales)
            A = (fold.test_features * scales) @ vectors
        for c, columns in enumerate(chunks):
            Y_train, Y_test, mean = _fold_targets(Y, train, test, columns, design.fit_intercept)
            back = None
            if kernel and Y_train.shape[1] > alphas.size * test.size:
                # (A diag U') Y_train costs less than A diag (U' Y_train) for many targets
                back, right = vectors.T, Y_train
            elif kernel:
                right = vectors.T @ Y_train
            else:
                projected = fold.projected.get(c)
                if projected is None:
                    projected = fold.train_features(design).T @ Y_train
                    if len(chunks) == 1:  # one chunk: reused by every weighting
                        fold.projected[c] = projected
                right = vectors.T @ (scales[:, None] * projected)
            del Y_train
            total[:, columns] += _chunk_scores(
                A, eigenvalues, back, right, Y_test, mean, alphas, scoring, run_bytes
            )
    return total / len(folds)


def search_bands(
    design: BandedDesign,
    Y: np.ndarray,
    candidates: np.ndarray,
    fit_alphas: np.ndarray,
    alphas: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    scoring: str,
    chunks: list[slice],
    run_bytes: int,
) -> Bunch:
    """Each target's best candidate weighting and alpha by cross-validation.

    Parameters
    ----------
    design : BandedDesign
        The features.
    Y : ndarray of shape (n_samples, n_targets)
        Targets, divided by their power-of-two scale (not centered).
    candidates : ndarray of shape (n_candidates, n_bands)
        Candidate band weightings.
    fit_alphas : ndarray of shape (n_alphas,)
        Alphas of the rescaled problem.
    alphas : ndarray of shape (n_alphas,)
        The alphas as given (their order and logarithm break ties).
    splits : sequence of (train, test)
        Checked folds.
    scoring : {"r2", "pearson", "neg_mse"}
        How held-out predictions are scored.
    chunks : list of slice
        Targets scored at once.
    run_bytes : int
        Bytes of stacked held-out predictions scored at once.

    Returns
    -------
    Bunch
        ``candidate`` and ``alpha_index`` (n_targets,) of the choice, and
        ``cv_scores`` (n_candidates, n_targets): each candidate's best mean
        score over alphas (of the rescaled targets).
    """
    n_train_smallest = min(train.size for train, _ in splits)
    kernel = design.features.shape[1] > n_train_smallest
    folds = list(splits) if kernel else _primal_folds(design, splits)
    n_targets = Y.shape[1]
    cv_scores = np.empty((candidates.shape[0], n_targets))
    best = np.full(n_targets, -np.inf)
    candidate = np.zeros(n_targets, dtype=np.intp)
    alpha_index = np.zeros(n_targets, dtype=np.intp)
    slope = 1e-10 * np.log(alphas)[:, None]
    eps = np.finfo(np.float64).eps
    rows = np.arange(n_targets)
    # Repeated candidates score alike and never beat their first occurrence.
    _, first, inverse = np.unique(candidates, axis=0, return_index=True, return_inverse=True)
    for i in np.sort(first):
        scores = _candidate_scores(
            design, candidates[i], folds, Y, chunks, fit_alphas, scoring, run_bytes
        )
        ranked = scores + slope
        top = np.argmax(ranked, axis=0)
        cv_scores[i] = scores[top, rows]
        better = ranked[top, rows] > best + eps
        best[better] = ranked[top, rows][better]
        candidate[better], alpha_index[better] = i, top[better]
    cv_scores = cv_scores[first[np.ravel(inverse)]]
    return Bunch(candidate=candidate, alpha_index=alpha_index, cv_scores=cv_scores)
