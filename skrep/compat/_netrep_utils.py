"""netrep's utility functions (``netrep.utils``), re-exported by :mod:`skrep.compat.netrep`."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from .._array import to_numpy
from .._typing import Array, ArrayLike
from .._validation import check_matching_pair, check_matrix
from ..exceptions import InvalidParameterError
from ..functional.barycenter import BARYCENTER_GROUPS, alignments_to
from ..functional.linear import partial_whitening_matrix

__all__ = ["whiten", "align"]


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


def _unit_scale(A: np.ndarray) -> np.ndarray:
    """``A`` divided by its largest magnitude (alignments do not depend on a positive scale)."""
    largest = float(np.max(np.abs(A), initial=0.0))
    return A / largest if largest > 0.0 else A


def align(
    X: ArrayLike, Y: ArrayLike, group: str = "orth"
) -> np.ndarray | scipy.sparse.csr_matrix | scipy.sparse.dia_matrix:
    """The map ``T`` in ``group`` that best aligns ``X @ T`` to ``Y`` (netrep's ``align``).

    ``T`` minimizes ``||X @ T - Y||_F`` over the group, which also makes
    ``Y @ T.T`` the best alignment of ``Y`` to ``X``. Returned as netrep does:
    a dense array for "orth", scipy sparse matrices for "perm" (CSR) and
    "identity" (``scipy.sparse.eye``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The representation that is transformed.
    Y : array-like of shape (n_samples, n_features)
        The fixed representation, rows paired with those of X.
    group : {"orth", "perm", "identity"}, default="orth"
        Orthogonal maps (orthogonal Procrustes), permutations of the units
        (a linear assignment on ``X.T @ Y``), or the identity.

    Returns
    -------
    T : ndarray or scipy.sparse matrix of shape (n_features, n_features)
        ``X @ T`` is optimally aligned to ``Y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.compat.netrep import align
    >>> X = np.random.default_rng(0).standard_normal((10, 3))
    >>> T = align(X, X[:, [2, 0, 1]], group="perm")
    >>> bool(np.allclose(X @ T, X[:, [2, 0, 1]]))
    True
    """
    if not (isinstance(group, str) and group in BARYCENTER_GROUPS):
        raise InvalidParameterError(
            f"The 'group' parameter must be one of {list(BARYCENTER_GROUPS)}; got {group!r}."
        )
    X, Y = check_matching_pair(X, Y, ("X", "Y"))
    # float64: the cross-product of float32 data far from zero loses the alignment
    X, Y = to_numpy(X, "X").astype(np.float64), to_numpy(Y, "Y").astype(np.float64)
    n_features = X.shape[1]
    if group == "identity":
        return scipy.sparse.eye(n_features)
    T = alignments_to(_unit_scale(X)[None, ...], _unit_scale(Y), group)[0]
    if group == "orth":
        return T
    rows, columns = np.nonzero(T)
    values = np.ones(n_features)
    return scipy.sparse.csr_matrix((values, (rows, columns)), shape=(n_features, n_features))
