"""SVDs of stacks of small square matrices from eigendecompositions of ``M' M``.

The batched stochastic fits decompose one small square matrix per class (or
one per process) at every step. ``M' M = V S^2 V'`` and ``U = M V S^-1`` give
the SVD from an eigendecomposition and two products, at about half the cost
of LAPACK's SVD for these sizes, but the square loses the singular values
below ``sqrt(ratio)`` of the largest: such matrices get an SVD instead.
Written here rather than taken from a library because the choice is made per
matrix inside one batched call, and remembered: a fit decomposes the same
pair's matrices at every step, so a matrix found too ill-conditioned once
goes straight to the SVD afterwards instead of paying for both.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._array import matrix_transpose as _mT
from .._array import to_numpy
from .._typing import Array, Namespace
from ._rows import put_rows, take_rows

__all__ = [
    "NEWTON_EIGENVALUE_RATIO",
    "STEP_EIGENVALUE_RATIO",
    "RememberedSquareSVD",
    "square_svd",
]

#: Least ratio of the extreme eigenvalues of ``M' M`` (cond(M) <= 1e6) for the
#: square to serve minorise-maximise steps: singular values to about
#: ``eps * cond * s_max``, polar factors to about ``eps * cond^2``.
STEP_EIGENVALUE_RATIO = 1e-12
#: The same for the points Newton's method uses (cond(M) <= 1e4): values to
#: about 1e4 eps of the largest singular value, polar factors to about 1e8 eps.
NEWTON_EIGENVALUE_RATIO = 1e-8


def square_svd(
    M: Array, ratio: float, xp: Namespace, attempt: np.ndarray | None = None
) -> tuple[Array, Array, Array, np.ndarray]:
    """SVDs of a stack ``M`` (..., n, n) of square matrices.

    Parameters
    ----------
    M : array of shape (..., n, n)
        The matrices.
    ratio : float
        Least ratio of the smallest to the largest eigenvalue of ``M' M`` for
        which the eigendecomposition is used; below it, an SVD.
    xp : namespace
        Array namespace of ``M``.
    attempt : ndarray of bool, optional
        One flag per matrix (in the flattened leading axes): False sends it
        to the SVD without trying the square. Default: try every matrix.

    Returns
    -------
    U, s, Vt : arrays of shapes (..., n, n), (..., n), (..., n, n)
        ``M = U diag(s) Vt``; singular values in ascending order where the
        square was used, descending where the SVD was.
    failed : ndarray of int
        Flat indices of the matrices tried on the square and found too
        ill-conditioned for it.
    """
    n = M.shape[-1]
    flat = xp.reshape(M, (-1, n, n))
    count = flat.shape[0]
    tried = np.arange(count) if attempt is None else np.flatnonzero(attempt)
    failed = tried[:0]
    exact = np.setdiff1d(np.arange(count), tried)
    if len(tried):
        sub = flat if len(tried) == count else take_rows(flat, tried, xp)
        squares, V = xp.linalg.eigh(_mT(sub, xp) @ sub)
        host = np.asarray(to_numpy(squares), dtype=np.float64)
        usable = host[:, 0] > ratio * host[:, -1]
        failed = tried[~usable]
        exact = np.union1d(exact, failed)
        s_sub = xp.sqrt(xp.clip(squares, 0.0, None))
        if len(failed):
            s_sub = xp.where(s_sub > 0, s_sub, xp.ones_like(s_sub))  # replaced below
        U_sub, Vt_sub = sub @ V / s_sub[..., None, :], _mT(V, xp)
        if len(tried) == count:
            U, s, Vt = U_sub, s_sub, Vt_sub
        else:
            U, s, Vt = _empty_factors(flat, xp)
            U, s, Vt = (put_rows(A, tried, B, xp) for A, B in
                        ((U, U_sub), (s, s_sub), (Vt, Vt_sub)))  # fmt: skip
    else:
        U, s, Vt = _empty_factors(flat, xp)
    if len(exact):
        factors = xp.linalg.svd(take_rows(flat, exact, xp), full_matrices=False)
        U, s, Vt = (put_rows(A, exact, B, xp) for A, B in zip((U, s, Vt), factors, strict=True))
    return (xp.reshape(U, M.shape), xp.reshape(s, M.shape[:-1]), xp.reshape(Vt, M.shape), failed)


def _empty_factors(flat: Array, xp: Namespace) -> tuple[Array, Array, Array]:
    device = array_api_compat.device(flat)
    count, n, _ = flat.shape
    return (
        xp.zeros(flat.shape, dtype=flat.dtype, device=device),
        xp.zeros((count, n), dtype=flat.dtype, device=device),
        xp.zeros(flat.shape, dtype=flat.dtype, device=device),
    )


class RememberedSquareSVD:
    """:func:`square_svd` for a fit's matrices, remembering which need an SVD.

    Parameters
    ----------
    shape : tuple of int
        One entry per pair and per matrix of a pair: ``(n_pairs,)`` for one
        matrix per pair, ``(n_pairs, n_classes)`` for one per class.
    ratio : float
        Least eigenvalue ratio for the square (see :func:`square_svd`).
    """

    def __init__(self, shape: tuple[int, ...], ratio: float) -> None:
        self.ratio = ratio
        #: False for the matrices found too ill-conditioned for the square.
        self.squarable = np.ones(shape, dtype=bool)

    def __call__(self, M: Array, pairs: np.ndarray, xp: Namespace) -> tuple[Array, Array, Array]:
        """SVDs of ``M`` (A, ..., n, n), whose leading entries belong to ``pairs``."""
        flags = self.squarable[pairs]
        U, s, Vt, failed = square_svd(M, self.ratio, xp, flags.reshape(-1))
        if len(failed):
            index = np.unravel_index(failed, flags.shape)
            self.squarable[(pairs[index[0]],) + index[1:]] = False
        return U, s, Vt
