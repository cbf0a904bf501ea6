"""Full whitening (alpha = 0) from a Cholesky factor, when no eigenvalue reaches the floor.

netrep whitens through an eigendecomposition of the Gram matrix ``G``,
``Z = G^(-1/2)``; at ``alpha = 0`` the shape metric needs ``Z`` only up to a
rotation (the Procrustes step absorbs it), and ``L^(-T)`` with ``G = L L^T`` is
such a whitening: ``L^(-T) = G^(-1/2) R`` for an orthogonal ``R``. The
Cholesky factor and its inverse cost a fraction of a symmetric
eigendecomposition, which was the slowest step of a fit. We write this
ourselves because no library offers "whitening up to a rotation" as such; the
factorizations are LAPACK's (through numpy) or torch's.

The shortcut must not change a value, so it is taken only where netrep's
eigenvalue floor cannot bind: ``trace(G^-1) = |L^-1|_F^2 >= 1 / lambda_min``,
so ``|L^-1|_F^2 <= 1 / (2 floor)`` proves every eigenvalue at least twice the
floor (the factor 2 covers rounding). Otherwise (rank-deficient or
ill-conditioned data, zero padding) the caller falls back to the
eigendecomposition.
"""

from __future__ import annotations

import numpy as np

from .._array import get_namespace, import_torch, is_torch_array
from .._typing import Array

__all__ = ["cholesky_whitening"]


def _inverse_cholesky(gram: Array) -> Array | None:
    """``L^-1`` (lower triangular) with ``gram = L L^T``; None unless positive definite."""
    if is_torch_array(gram):
        torch = import_torch(gram.device)
        factor, info = torch.linalg.cholesky_ex(gram)
        if int(info) != 0:
            return None
        identity = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
        return torch.linalg.solve_triangular(factor, identity, upper=False)
    # The namespace's (numpy's own LAPACK), not scipy's triangular inverse: scipy
    # ships a second OpenBLAS, and handing the cores from one thread pool to the
    # other between calls cost more than the triangular inverse saves (a general
    # inverse is still far cheaper than an eigendecomposition).
    xp = get_namespace(gram)
    try:
        return xp.linalg.inv(xp.linalg.cholesky(gram))
    except np.linalg.LinAlgError:
        return None


def cholesky_whitening(gram: Array, floor: float) -> Array | None:
    """A full whitening ``W`` of ``gram`` (``W.T @ gram @ W = I``), or None.

    Parameters
    ----------
    gram : array of shape (p, p)
        Symmetric Gram matrix ``Xn.T @ Xn`` of normalized, centered data.
    floor : float
        The floor on its eigenvalues below which the eigendecomposition clips.

    Returns
    -------
    array of shape (p, p) or None
        ``L^-T``, or None when ``gram`` is not positive
        definite or an eigenvalue may be below ``2 * floor``.
    """
    xp = get_namespace(gram)
    inverse = _inverse_cholesky(gram)
    if inverse is None:
        return None
    flat = xp.reshape(inverse, (-1,))
    inverse_trace = float(flat @ flat)  # trace(gram^-1), at least 1 / lambda_min
    if not inverse_trace * floor <= 0.5:  # also refuses inf and NaN
        return None
    return inverse.T
