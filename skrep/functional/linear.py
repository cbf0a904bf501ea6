"""Generalized shape metrics (Williams et al. 2021): partial whitening and alignment.

With ``alpha = 1`` the alignment is a rotation (Procrustes); with ``alpha = 0``
both representations are whitened first, so any invertible linear map is
factored out (the metric is then a function of the canonical correlations).
Values in between interpolate. The functions follow netrep's conventions, with
one difference: the floor on the eigenvalues of ``X.T @ X`` is relative to the
scale of the data (``relative_tol=True``, the default), so that ``alpha=0`` and
``alpha=1`` give the same distance in any units; ``relative_tol=False`` is
netrep's absolute floor. They take numpy arrays or torch tensors alike, and
compute at any scale (the data are divided by a power of two first, exactly).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

from .._array import get_namespace, is_foreign_array
from .._typing import Array
from .._validation import check_alpha, check_columns_match, check_matching_pair, check_matrix
from ._alignment_checks import check_offset
from ._autograd import with_graph
from ._whitening import (
    EIGVAL_TOL,
    check_eigval_tol,
    padding_factor,
    partial_whitening,
    procrustes_rotations,
    scaled_cross,
)
from .centering import column_means
from .linear_blocks import linear_block_distances, prepare_linear_network
from .linear_fit import LinearAlignment, LinearFit, fit_linear

__all__ = [
    "partial_whitening_matrix",
    "padding_rescale",
    "WhitenedRepresentation",
    "whiten_representation",
    "rotations_between",
    "LinearAlignment",
    "LinearFit",
    "fit_linear",
    "fit_linear_alignment",
    "apply_alignment",
    "prepare_linear_network",
    "linear_block_distances",
]


def partial_whitening_matrix(
    X: Array,
    alpha: float,
    *,
    preserve_variance: bool = True,
    eigval_tol: float = EIGVAL_TOL,
    relative_tol: bool = True,
    check_input: bool = True,
) -> Array:
    """Matrix ``Z`` such that ``X @ Z`` is partially whitened.

    With ``X.T @ X = V diag(lam) V.T`` (the raw Gram matrix, not divided by the
    number of samples), ``Z = V diag(d) V.T`` with
    ``d = alpha + (1 - alpha) / sqrt(lam)``. Eigenvalues are clipped below at a
    floor set by ``eigval_tol``. This is netrep's ``whiten`` (with
    ``relative_tol=False``, exactly).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Data, normally with centered columns.
    alpha : float in [0, 1]
        0 whitens fully, 1 leaves the data unchanged (``Z`` is the identity).
    preserve_variance : bool, default=True
        Rescale ``d`` so that ``trace(Z.T X.T X Z) == trace(X.T X)``.
    eigval_tol : float, default=1e-7
        Sets the floor on the eigenvalues of ``X.T @ X``; a finite number > 0.
    relative_tol : bool, default=True
        If True, the floor is ``eigval_tol`` times the mean variance of the
        columns of ``X`` that are not all zero,
        ``trace(X.T @ X) / (n_samples * n_nonzero_columns)``: it follows the
        units of ``X``, so ``Z`` is the same for ``X`` and ``c * X`` at
        ``alpha=0`` (and for data with unit mean variance it is netrep's
        floor). If False, the floor is ``eigval_tol`` itself, netrep's
        absolute floor: directions with less variance than that are not
        whitened, so very small data are not whitened at all.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    Z : array of shape (n_features, n_features)
        Symmetric whitening matrix, same namespace, device and dtype as ``X``.

    Notes
    -----
    For ``0 < alpha < 1`` the whitening depends on the scale of ``X`` by
    definition: the two terms of ``d`` scale differently, and ``c * X`` is
    whitened as ``X`` is with ``alpha * c / (alpha * c + 1 - alpha)``.
    """
    if check_input:
        X = check_matrix(X, "X")
        alpha = check_alpha(alpha)
        eigval_tol = check_eigval_tol(eigval_tol)
    whitening = partial_whitening(
        X,
        alpha,
        preserve_variance=preserve_variance,
        eigval_tol=eigval_tol,
        relative_tol=bool(relative_tol),
    )
    return whitening.matrix(X)


def _check_sum(value: object, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(
            f"{name} must be None or a finite number > 0 (a sum of eigenvalues of "
            f"X.T @ X); got {name}={value!r}."
        )
    return float(value)


def padding_rescale(
    total_eigval: float | None,
    total_variance: float | None,
    n_padded: int,
    alpha: float,
    *,
    eigval_tol: float = EIGVAL_TOL,
) -> float:
    """Factor between the whitened data of ``X`` and of ``X`` zero-padded.

    Appending ``n_padded`` zero columns to ``X`` adds ``n_padded`` eigenvalues
    (clipped to the floor ``eigval_tol``) to ``X.T @ X``. They leave the
    whitening of the original columns unchanged except through the
    ``preserve_variance`` rescaling, which this factor corrects: the whitened
    padded data equals the whitened data times the factor, with zero columns
    appended.

    Parameters
    ----------
    total_eigval, total_variance : float or None
        The sum of the clipped eigenvalues of ``X.T @ X`` and the total
        variance of the whitened data before the rescaling, both > 0 (both
        None when the whitening is the identity, i.e. ``alpha`` is 1).
    n_padded : int
        Number of zero columns appended.
    alpha : float in [0, 1]
        The regularization the whitening used.
    eigval_tol : float, default=1e-7
        The floor the whitening clipped the eigenvalues at, in the units of
        ``total_eigval`` (the absolute floor; with ``relative_tol`` the floor
        is ``eigval_tol`` times the mean column variance, see
        :func:`partial_whitening_matrix`).

    Returns
    -------
    float
        1.0 when nothing is padded or the whitening is the identity.
    """
    if isinstance(n_padded, bool) or not isinstance(n_padded, numbers.Integral) or n_padded < 0:
        raise ValueError(f"n_padded must be a non-negative integer; got {n_padded!r}.")
    alpha = check_alpha(alpha)
    eigval_tol = check_eigval_tol(eigval_tol)
    if (total_eigval is None) != (total_variance is None):
        raise ValueError(
            "total_eigval and total_variance must both be None (no whitening) or both "
            f"numbers; got total_eigval={total_eigval!r}, total_variance={total_variance!r}."
        )
    if total_eigval is None:
        return 1.0
    total_eigval = _check_sum(total_eigval, "total_eigval")
    total_variance = _check_sum(total_variance, "total_variance")
    if n_padded == 0:
        return 1.0
    return padding_factor(total_eigval, total_variance, n_padded, alpha, eigval_tol)


class WhitenedRepresentation(NamedTuple):
    """Result of :func:`whiten_representation`, the per-network half of a fit.

    Parameters
    ----------
    mean : array of shape (n_features,)
        Offset subtracted from the data (zeros without centering).
    whitened : array of shape (n_samples, n_features)
        ``(X - mean) @ whitening``.
    whitening : array of shape (n_features, n_features)
        The partial whitening matrix.
    """

    mean: object
    whitened: object
    whitening: object


def whiten_representation(
    X: Array,
    alpha: float,
    *,
    center_columns: bool = True,
    relative_tol: bool = True,
    check_input: bool = True,
) -> WhitenedRepresentation:
    """Center (optionally) and partially whiten one representation.

    This is the part of a :class:`~skrep.metrics.LinearMetric` fit that depends
    on one network only (netrep's ``partial_fit``).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        One representation, one row per stimulus.
    alpha : float in [0, 1]
        Regularization, see :func:`partial_whitening_matrix`.
    center_columns : bool, default=True
        Subtract column means first.
    relative_tol : bool, default=True
        Floor the eigenvalues relative to the data's scale (False: netrep's
        absolute floor), see :func:`partial_whitening_matrix`.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    WhitenedRepresentation
        ``(mean, whitened, whitening)``.
    """
    if check_input:
        X = check_matrix(X, "X")
        alpha = check_alpha(alpha)
    mean = column_means(X, center_columns, check_input=False)
    Xc = X - mean
    Z = partial_whitening(Xc, alpha, relative_tol=bool(relative_tol)).matrix(Xc)
    return WhitenedRepresentation(mean=mean, whitened=Xc @ Z, whitening=Z)


def rotations_between(Xw: Array, Yw: Array, *, check_input: bool = True) -> tuple[Array, Array]:
    """Orthogonal maps that align two whitened representations.

    With ``Xw.T @ Yw = U S V.T``, returns ``(U, V)``: ``Xw @ U`` and ``Yw @ V``
    are the closest pair of rotated copies (the Procrustes solution split
    symmetrically between the two sides).

    Parameters
    ----------
    Xw, Yw : arrays of shape (n_samples, n_features)
        Whitened (or any) paired representations of the same width.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    U, V : arrays of shape (n_features, n_features)
        Orthogonal matrices, ``Xw.T @ Yw = U diag(s) V.T``.
    """
    if check_input:
        Xw, Yw = check_matching_pair(Xw, Yw, ("Xw", "Yw"))
    # Singular vectors do not depend on positive scalings of Xw and Yw;
    # dividing each by a power of two keeps the product from overflowing.
    cross, _, _ = scaled_cross(Xw, Yw)
    U, _, V = procrustes_rotations(cross)
    xp = get_namespace(Xw)
    return xp.astype(U, Xw.dtype), xp.astype(V, Xw.dtype)


def fit_linear_alignment(
    X: Array,
    Y: Array,
    alpha: float,
    *,
    center_columns: bool = True,
    relative_tol: bool = True,
    check_input: bool = True,
) -> LinearAlignment:
    """Fit the generalized shape metric alignment between ``X`` and ``Y``.

    Each representation is centered (optionally) and partially whitened as
    :func:`whiten_representation` does; the whitened pair is then aligned as
    :func:`rotations_between` does: ``Wx = Zx U``, ``Wy = Zy V``.

    Parameters
    ----------
    X, Y : arrays of shape (n_samples, n_features)
        Paired representations of the same width (zero-pad the narrower one
        first if needed).
    alpha : float in [0, 1]
        Regularization: 0 allows any invertible linear map (CCA-like), 1 only
        rotations (Procrustes).
    center_columns : bool, default=True
        Subtract column means before whitening and aligning.
    relative_tol : bool, default=True
        Floor the eigenvalues relative to the data's scale (False: netrep's
        absolute floor), see :func:`partial_whitening_matrix`.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    LinearAlignment
        ``(mx, my, Wx, Wy)`` in the namespace and device of the inputs.
    """
    fit = fit_linear(
        X,
        Y,
        alpha,
        center_columns=center_columns,
        relative_tol=relative_tol,
        check_input=check_input,
    )
    return fit.alignment()


def apply_alignment(X: Array, offset: Array, W: Array, *, check_input: bool = True) -> Array:
    """Map ``X`` into the aligned space: ``(X - offset) @ W``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Representation to map.
    offset : array of shape (n_features,)
        Column means learned in the fit.
    W : array of shape (n_features, n_components)
        Alignment map learned in the fit.
    check_input : bool, default=True
        Validate the arrays: ``X`` and ``W`` 2-D, ``offset`` 1-D, all finite
        and real, with matching sizes. Callers that already did, such as the
        estimators, pass False.

    Returns
    -------
    array of shape (n_samples, n_components)
        ``X`` in the aligned space; for a tensor ``X`` that requires grad, a
        tensor that carries its gradient with ``W`` held fixed (with
        ``alpha=1`` and a ground metric, the exact gradient of the distance at
        the fitted rotation, by Danskin's theorem; for ``alpha < 1`` ``W``
        depends on ``X`` through the whitening: use
        :class:`skrep.losses.ShapeMetricLoss`).
    """
    original = X
    if check_input:
        X = with_graph(original, check_matrix(X, "X"))
        W = check_matrix(W, "W")
        if is_foreign_array(X) != is_foreign_array(W):
            raise TypeError(
                f"X is a {type(X).__module__.split('.')[0]} array and W a "
                f"{type(W).__module__.split('.')[0]} array; pass both as numpy arrays or "
                "both as tensors of one library."
            )
        offset = check_offset(offset, X)
        detail = f"offset of length {offset.shape[0]}, W of shape {tuple(W.shape)}"
        for n_columns in (W.shape[0], offset.shape[0]):
            check_columns_match(X, n_columns, "X", "the alignment", detail)
    return (X - offset) @ W
