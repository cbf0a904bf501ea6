"""netrep's utility functions (``netrep.utils``), re-exported by :mod:`skrep.compat.netrep`."""

from __future__ import annotations

from .._typing import Array, ArrayLike
from .._validation import check_matrix
from ..functional.linear import partial_whitening_matrix

__all__ = ["whiten"]


def whiten(
    X: ArrayLike, alpha: float, preserve_variance: bool = True, eigval_tol: float = 1e-7
) -> tuple[Array, Array]:
    """Partially whiten ``X`` (netrep's ``netrep.utils.whiten``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data with centered columns.
    alpha : float in [0, 1]
        0 whitens fully, 1 returns X unchanged.
    preserve_variance : bool, default=True
        Keep ``trace(X.T @ X)``.
    eigval_tol : float, default=1e-7
        Floor on the eigenvalues of ``X.T @ X``.

    Returns
    -------
    X_whitened : ndarray of shape (n_samples, n_features)
        ``X @ Z``.
    Z : ndarray of shape (n_features, n_features)
        The whitening matrix.
    """
    X = check_matrix(X, "X")
    Z = partial_whitening_matrix(  # netrep's absolute eigenvalue floor
        X, alpha, preserve_variance=preserve_variance, eigval_tol=eigval_tol, relative_tol=False
    )
    return X @ Z, Z
