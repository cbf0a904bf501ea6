"""Partial whitening of one representation, the first step of the generalized shape metrics.

The private half of :mod:`skrep.functional.linear`: the whitening matrix, the
numbers that :func:`~skrep.functional.padding_rescale` needs to whiten a
zero-padded copy without recomputing anything, and the Procrustes rotations.

Scale. ``X`` is first divided by the power of two nearest its largest entry
(an exact operation), so ``X.T @ X`` neither overflows nor underflows at any
scale. Multiplying ``X`` by ``c`` multiplies the eigenvalues ``lam`` of
``X.T @ X`` by ``c**2``, and netrep's ``d = alpha + (1 - alpha) / sqrt(lam)``
becomes, up to a positive factor, ``alpha_eff + (1 - alpha_eff) / sqrt(lam)``
with ``alpha_eff = alpha c / (alpha c + 1 - alpha)``: the whitening of the
normalized data with this *effective* alpha is the whitening of ``X`` (the
factor cancels in the variance-preserving rescaling). Everything here is
computed in these normalized units.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import array_api_compat
import numpy as np

from .._array import get_namespace
from .._typing import Array
from ._offset_products import cross_product
from ._scaling import normalize_scale

#: netrep's floor on the eigenvalues of ``X.T @ X``.
EIGVAL_TOL = 1e-7


class Whitening(NamedTuple):
    """A partial whitening ``Z = basis @ eigenvectors.T`` and what zero padding needs.

    ``basis`` is ``V * d`` (the eigenvectors of the Gram matrix, each scaled by
    its factor): ``X @ basis`` is the whitened data in the eigenbasis, a
    rotation of ``X @ Z`` that has the same norms and cross-products' singular
    values, at a fraction of the cost. ``basis`` and ``eigenvectors`` are None
    for the identity. ``total_eigval``, ``total_variance``, ``eigval_floor``
    and ``alpha`` are in the units of the normalized data (see the module
    docstring); None for the identity. ``norm`` is the Frobenius norm of
    ``Xn @ basis`` (the normalized data, whitened), from the eigenvalues; None
    for the identity.
    """

    basis: object
    eigenvectors: object
    total_eigval: float | None
    total_variance: float | None
    eigval_floor: float | None
    alpha: float | None
    norm: float | None = None

    def matrix(self, like: Array) -> Array:
        """The whitening matrix ``Z`` (the identity in the namespace of ``like``)."""
        if self.basis is None:
            xp = get_namespace(like)
            n = like.shape[1]
            return xp.eye(n, dtype=like.dtype, device=array_api_compat.device(like))
        return self.basis @ self.eigenvectors.T


def check_eigval_tol(eigval_tol: object, name: str = "eigval_tol") -> float:
    """``eigval_tol`` as a float, or a ValueError unless it is a finite number > 0."""
    if (
        isinstance(eigval_tol, (bool, np.bool_))
        or not isinstance(eigval_tol, numbers.Real)
        or not math.isfinite(eigval_tol)
        or eigval_tol <= 0
    ):
        raise ValueError(
            f"{name} must be a finite number > 0 (the floor on the eigenvalues of "
            f"X.T @ X); got {name}={eigval_tol!r}."
        )
    return float(eigval_tol)


def effective_alpha(alpha: float, scale: float) -> float:
    """The alpha that whitens ``X / scale`` as ``alpha`` whitens ``X``."""
    if alpha <= 0.0 or alpha >= 1.0:
        return alpha
    # alpha * scale / (alpha * scale + 1 - alpha), without overflow at any scale.
    return 1.0 / (1.0 + (1.0 - alpha) / (alpha * scale))


def eigenvalue_floor(
    gram: Array, n_samples: int, eigval_tol: float, scale: float, relative: bool
) -> float:
    """The floor on the eigenvalues of the normalized Gram matrix."""
    if not relative:
        # netrep's absolute floor on X.T @ X, in the units of (X / scale).T @ (X / scale);
        # past about 1e300 it clips every eigenvalue, as any value that large would.
        # Divided twice, not by scale**2, which overflows a Python float past 1e154;
        # at least the smallest normal number, so that no eigenvalue is clipped to 0.
        if scale <= 1e-150:
            return 1e300
        tiny = float(get_namespace(gram).finfo(gram.dtype).smallest_normal)
        return max(min(eigval_tol / scale / scale, 1e300), tiny)
    xp = get_namespace(gram)
    diagonal = xp.linalg.diagonal(gram)
    n_nonzero = int(xp.sum(xp.astype(diagonal > 0, xp.int64)))
    if n_nonzero == 0:
        return eigval_tol  # all-zero data: any positive floor gives the identity
    # eigval_tol times the mean variance of the columns that are not all zero.
    return eigval_tol * float(xp.sum(diagonal)) / (n_samples * n_nonzero)


def partial_whitening(
    X: Array,
    alpha: float,
    *,
    preserve_variance: bool = True,
    eigval_tol: float = EIGVAL_TOL,
    relative_tol: bool = True,
) -> Whitening:
    """The partial whitening of validated ``X`` (see ``partial_whitening_matrix``)."""
    Xn, scale = normalize_scale(X)
    return whitening_of_normalized(
        Xn,
        scale,
        alpha,
        preserve_variance=preserve_variance,
        eigval_tol=eigval_tol,
        relative_tol=relative_tol,
    )


def gram_of_normalized(Xn: Array, centered: bool) -> Array:
    """``Xn.T @ Xn``; float64 for float32 data far from zero, unless ``centered``."""
    return Xn.T @ Xn if centered else cross_product(Xn)


def whitening_of_normalized(
    Xn: Array,
    scale: float,
    alpha: float,
    *,
    preserve_variance: bool = True,
    eigval_tol: float = EIGVAL_TOL,
    relative_tol: bool = True,
    centered: bool = False,
    gram: Array | None = None,
) -> Whitening:
    """The partial whitening of ``X = Xn * scale`` from ``Xn`` (``scale`` a power of 2).

    ``centered=True`` says that ``Xn`` has centered columns: its Gram matrix is
    formed in its own precision without looking for an offset. ``gram``, when
    given, is that Gram matrix (see :func:`gram_of_normalized`).
    """
    xp = get_namespace(Xn)
    if alpha > 1 - eigval_tol:
        return Whitening(None, None, None, None, None, None)
    if gram is None:
        gram = gram_of_normalized(Xn, centered)
    floor = eigenvalue_floor(gram, Xn.shape[0], eigval_tol, scale, relative_tol)
    measured, V = xp.linalg.eigh(gram)
    lam = xp.clip(measured, min=floor)
    a = effective_alpha(alpha, scale)
    d = a + (1 - a) * lam**-0.5
    total_eigval = xp.sum(lam)
    # Total variance of Xn @ Z before rescaling: the sum of (d * sqrt(lam))^2.
    total_variance = xp.sum((a * xp.sqrt(lam) + (1 - a)) ** 2)
    if preserve_variance:
        d = d * xp.sqrt(total_eigval / total_variance)
    else:
        d = d * (alpha + (1 - alpha) / scale)  # netrep's d for X itself
    # |Xn V d|^2 = sum(d^2 lam) over the measured (unclipped) eigenvalues: the
    # whitened data's norm without forming it.
    norm = float(xp.sum(d * d * xp.clip(measured, min=0.0))) ** 0.5
    basis, V = xp.astype(V * d[None, :], Xn.dtype), xp.astype(V, Xn.dtype)
    return Whitening(basis, V, float(total_eigval), float(total_variance), floor, a, norm)


def padding_factor(
    total_eigval: float, total_variance: float, n_padded: int, alpha: float, eigval_floor: float
) -> float:
    """Factor between the whitened data of ``X`` and of ``X`` zero-padded (validated input)."""
    padded_variance = (alpha * eigval_floor**0.5 + (1 - alpha)) ** 2
    padded = (total_eigval + n_padded * eigval_floor) / (
        total_variance + n_padded * padded_variance
    )
    return float((padded / (total_eigval / total_variance)) ** 0.5)


def procrustes_rotations(cross: Array) -> tuple[Array, Array, Array]:
    """``(U, s, V)`` with ``cross = U diag(s) V.T`` (a full SVD)."""
    xp = get_namespace(cross)
    U, singular, Vt = xp.linalg.svd(cross)
    return U, singular, Vt.T


def scaled_cross(Xw: Array, Yw: Array) -> tuple[Array, float, float]:
    """``((Xw / sx).T @ (Yw / sy), sx, sy)`` with powers of two that keep it finite.

    The product is float64 for float32 data far from zero (see ``cross_product``).
    """
    Xn, sx = normalize_scale(Xw)
    Yn, sy = normalize_scale(Yw)
    return cross_product(Xn, Yn), sx, sy
