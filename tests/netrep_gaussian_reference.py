"""netrep's Gaussian fit, written as a plain per-class loop (a second implementation).

netrep alternates one Procrustes problem per class (the rotation inside each
Bures term) with one Procrustes problem for the shared alignment, stacking the
means weighted by ``alpha`` and the covariance square roots weighted by
``2 - alpha``; it stops when the Frobenius loss falls by less than ``tol``.
This transcription of that algorithm is checked against netrep's own loss
history in ``tests/data/netrep/gaussian_a1p0.npz`` and then used to produce
netrep's distance on inputs for which no stored value exists.
"""

import numpy as np
from scipy.linalg import orthogonal_procrustes


def psd_sqrt(covariance):
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def netrep_gaussian_fit(means_x, covs_x, means_y, covs_y, alpha, niter=1000, tol=1e-8):
    """Return (T, loss_history) of netrep's Gaussian fit with init='means'."""
    roots_x = [psd_sqrt(c) for c in covs_x]
    roots_y = [psd_sqrt(c) for c in covs_y]
    T = orthogonal_procrustes(means_y, means_x)[0]
    history = []
    for iteration in range(niter):
        pairs = zip(roots_x, roots_y, strict=True)
        rotations = [orthogonal_procrustes(T.T @ ry, rx)[0] for rx, ry in pairs]
        A = np.vstack([alpha * means_x] + [(2 - alpha) * rx for rx in roots_x])
        B = np.vstack(
            [alpha * means_y]
            + [Q.T @ ((2 - alpha) * ry) for Q, ry in zip(rotations, roots_y, strict=True)]
        )
        T = orthogonal_procrustes(B, A)[0]
        history.append(np.linalg.norm(A - B @ T))
        if iteration >= 2 and history[-2] - history[-1] < tol:
            break
    return T, history


def scored_sq_distance(means_x, covs_x, means_y, covs_y, T, alpha):
    """netrep's score (squared) at alignment T: per-class loop, eigendecomposition form."""
    total = 0.0
    for mx, my, cx, cy in zip(means_x, means_y, covs_x, covs_y, strict=True):
        aligned = T.T @ cy @ T
        root = psd_sqrt(cx)
        cross = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root @ aligned @ root), 0, None)))
        bures = np.trace(cx) + np.trace(aligned) - 2 * cross
        total += alpha * np.sum((mx - my @ T) ** 2) + (2 - alpha) * bures
    return total / len(means_x)
