"""The refit of banded ridge on all training samples, and its predictions.

Targets that chose the same band weighting share one eigendecomposition of
the weighted problem on all samples (of ``K = sum_b gamma_b X_b X_b'`` when
features outnumber samples, else of ``D X'X D``), each with its own alpha.
In the kernel form the model keeps the dual weights ``(K + alpha I)^-1 y``
and each target's band weights: the weights of band b's features are
``gamma_b X_b' dual``, formed only when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._banded_search import BandedDesign, band_kernels, eigh_in_place, feature_scales

__all__ = ["refit_bands", "design_predict", "design_coefficients", "design_shift"]


def refit_bands(
    design: BandedDesign,
    Y: np.ndarray,
    weights: np.ndarray,
    candidate: np.ndarray,
    fit_alphas: np.ndarray,
    chunks: Sequence[slice],
) -> tuple[np.ndarray, bool]:
    """Ridge weights of every target with its chosen band weighting and alpha.

    Parameters
    ----------
    design : BandedDesign
        The features.
    Y : ndarray of shape (n_samples, n_targets)
        Targets centered on their mean (with an intercept), rescaled.
    weights : ndarray of shape (n_candidates, n_bands)
        The candidate band weightings.
    candidate : ndarray of int, shape (n_targets,)
        The chosen candidate of each target.
    fit_alphas : ndarray of shape (n_targets,)
        The chosen alpha of each target (of the rescaled problem).
    chunks : sequence of slice
        Bounds on the targets solved at once.

    Returns
    -------
    coef : ndarray
        Dual weights (n_samples, n_targets) in the kernel form, else primal
        weights (n_used, n_targets) on the unscaled design features.
    kernel : bool
        Whether the weights are dual.
    """
    n, p = design.features.shape
    kernel = p > n
    coef = np.empty((n if kernel else p, Y.shape[1]))
    step = max(c.stop - c.start for c in chunks)
    gram = None if kernel else design.features.T @ design.features
    for index in np.unique(candidate):
        gamma = weights[index]
        targets = np.flatnonzero(candidate == index)
        if kernel:
            eigenvalues, vectors = eigh_in_place(np.tensordot(gamma, band_kernels(design), axes=1))
        else:
            scales = feature_scales(design, gamma)
            eigenvalues, vectors = eigh_in_place(scales[:, None] * gram * scales)
        for first in range(0, targets.size, step):
            chosen = targets[first : first + step]
            block = np.asarray(Y[:, chosen])
            if not kernel:
                block = scales[:, None] * (design.features.T @ block)
            projected = vectors.T @ block
            projected /= eigenvalues[:, None] + fit_alphas[chosen]
            solved = vectors @ projected
            # Weights on the scaled features sqrt(gamma_b) X_b act on X_b times sqrt(gamma_b).
            coef[:, chosen] = solved if kernel else scales[:, None] * solved
    return coef, kernel


def design_coefficients(
    design: BandedDesign, coef: np.ndarray, kernel: bool, band_weights: np.ndarray
) -> np.ndarray:
    """Primal weights (n_used, n_targets) of the rescaled problem.

    Parameters
    ----------
    design : BandedDesign
        The features.
    coef : ndarray
        From :func:`refit_bands`.
    kernel : bool
        Whether ``coef`` holds dual weights.
    band_weights : ndarray of shape (n_bands, n_targets)
        Each target's band weighting.

    Returns
    -------
    ndarray of shape (n_used, n_targets)
        ``gamma_b X_b' dual`` in the kernel form; ``coef`` otherwise.
    """
    if not kernel:
        return coef
    primal = np.empty((design.features.shape[1], coef.shape[1]))
    for b, s in enumerate(design.slices):
        primal[s] = design.features[:, s].T @ (coef * band_weights[b])
    return primal


def design_shift(
    design: BandedDesign, coef: np.ndarray, kernel: bool, band_weights: np.ndarray
) -> np.ndarray | float:
    """``mean_x . w`` of every target (what the intercept subtracts), rescaled units.

    Parameters
    ----------
    design : BandedDesign
        The features.
    coef : ndarray
        From :func:`refit_bands`.
    kernel : bool
        Whether ``coef`` holds dual weights.
    band_weights : ndarray of shape (n_bands, n_targets)
        Each target's band weighting.

    Returns
    -------
    ndarray of shape (n_targets,) or 0.0
        0.0 without an intercept.
    """
    if design.mean_x is None:
        return 0.0
    if not kernel:
        return design.mean_x @ coef
    shift = np.zeros(coef.shape[1])
    for b, s in enumerate(design.slices):
        basis = design.features[:, s] @ design.mean_x[s]
        shift += band_weights[b] * (basis @ coef)
    return shift


def design_predict(
    design: BandedDesign, coef: np.ndarray, kernel: bool, band_weights: np.ndarray, X: np.ndarray
) -> np.ndarray:
    """Predictions of the rescaled, centered targets for new features.

    Parameters
    ----------
    design : BandedDesign
        The features.
    coef : ndarray
        From :func:`refit_bands`.
    kernel : bool
        Whether ``coef`` holds dual weights.
    band_weights : ndarray of shape (n_bands, n_targets)
        Each target's band weighting.
    X : ndarray of shape (n_new, n_features)
        New features in the units of the training X.

    Returns
    -------
    ndarray of shape (n_new, n_targets)
        ``(X - mean_x) w`` for the rescaled problem (add the targets' mean).
    """
    features = X[:, design.columns] / design.x_scale
    if design.mean_x is not None:
        features -= design.mean_x
    if not kernel:
        return features @ coef
    prediction = np.zeros((X.shape[0], coef.shape[1]))
    for b, s in enumerate(design.slices):
        cross = features[:, s] @ design.features[:, s].T
        prediction += cross @ (coef * band_weights[b])
    return prediction
