"""Generalized shape metrics (Williams et al. 2021): partial whitening and alignment.

With ``alpha = 1`` the alignment is a rotation (Procrustes); with ``alpha = 0``
both representations are whitened first, so any invertible linear map is
factored out (the metric is then a function of the canonical correlations).
Values in between interpolate. All functions follow netrep's conventions so
that results match it to machine precision, and take numpy arrays or torch
tensors alike.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._array import get_namespace, zero_pad_columns
from .._typing import Array, Namespace
from .._validation import check_alpha, check_columns_match, check_matching_pair, check_matrix
from ._whitening import _partial_whitening
from .centering import column_means
from .ground_metrics import GROUND_METRICS
from .network_blocks import (
    PreparedNetwork,
    _batched_svd,
    _check_block,
    _check_network,
    _cross_products,
    _distances_with_refinement,
    _pair_widths,
    _sq_norm,
)

__all__ = [
    "partial_whitening_matrix",
    "padding_rescale",
    "WhitenedRepresentation",
    "whiten_representation",
    "rotations_between",
    "LinearAlignment",
    "fit_linear_alignment",
    "apply_alignment",
    "prepare_linear_network",
    "linear_block_distances",
]


def _largest(A: Array, xp: Namespace) -> Array:
    """Largest absolute entry of ``A``, or 1 for an all-zero array."""
    largest = xp.max(xp.abs(A))
    return largest if float(largest) > 0.0 else xp.ones_like(largest)


def partial_whitening_matrix(
    X: Array,
    alpha: float,
    *,
    preserve_variance: bool = True,
    eigval_tol: float = 1e-7,
    check_input: bool = True,
) -> Array:
    """Matrix ``Z`` such that ``X @ Z`` is partially whitened.

    With ``X.T @ X = V diag(lam) V.T`` (the raw Gram matrix, not divided by the
    number of samples), ``Z = V diag(d) V.T`` with
    ``d = alpha + (1 - alpha) / sqrt(lam)``. Eigenvalues are clipped below at
    ``eigval_tol``. This is netrep's ``whiten``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Data, normally with centered columns.
    alpha : float in [0, 1]
        0 whitens fully, 1 leaves the data unchanged (``Z`` is the identity).
    preserve_variance : bool, default=True
        Rescale ``d`` so that ``trace(Z.T X.T X Z) == trace(X.T X)``.
    eigval_tol : float, default=1e-7
        Floor on the eigenvalues of ``X.T @ X``. It is absolute, so for
        0 < alpha < 1 the result depends on the data's global scale.

    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    Z : array of shape (n_features, n_features)
        Symmetric whitening matrix, same namespace, device and dtype as ``X``.
    """
    if check_input:
        X = check_matrix(X, "X")
        alpha = check_alpha(alpha)
    Z, _, _ = _partial_whitening(
        X, alpha, preserve_variance=preserve_variance, eigval_tol=eigval_tol
    )
    return Z


def padding_rescale(
    total_eigval: float | None,
    total_variance: float | None,
    n_padded: int,
    alpha: float,
    *,
    eigval_tol: float = 1e-7,
) -> float:
    """Factor between the whitened data of ``X`` and of ``X`` zero-padded.

    Appending ``n_padded`` zero columns to ``X`` adds ``n_padded`` eigenvalues
    (clipped to ``eigval_tol``) to ``X.T @ X``. They leave the whitening of
    the original columns unchanged except through the ``preserve_variance``
    rescaling, which this factor corrects: the whitened padded data equals the
    whitened data times the factor, with zero columns appended.

    Parameters
    ----------
    total_eigval, total_variance : float or None
        The sums returned alongside the whitening of ``X`` (None when the
        whitening is the identity, i.e. ``alpha`` is 1).
    n_padded : int
        Number of zero columns appended.
    alpha : float in [0, 1]
        The regularization the whitening used.
    eigval_tol : float, default=1e-7
        The eigenvalue floor the whitening used.

    Returns
    -------
    float
        1.0 when nothing is padded or the whitening is the identity.
    """
    if isinstance(n_padded, bool) or not isinstance(n_padded, numbers.Integral) or n_padded < 0:
        raise ValueError(f"n_padded must be a non-negative integer; got {n_padded!r}.")
    alpha = check_alpha(alpha)
    if n_padded == 0 or total_eigval is None:
        return 1.0
    padded_variance = (
        alpha**2 * eigval_tol + 2 * alpha * (1 - alpha) * eigval_tol**0.5 + (1 - alpha) ** 2
    )
    padded = (total_eigval + n_padded * eigval_tol) / (total_variance + n_padded * padded_variance)
    return float((padded / (total_eigval / total_variance)) ** 0.5)


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
    X: Array, alpha: float, *, center_columns: bool = True, check_input: bool = True
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
    Z = partial_whitening_matrix(Xc, alpha, check_input=False)
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
    xp = get_namespace(Xw, Yw)
    # Singular vectors do not depend on positive scalings of Xw and Yw;
    # dividing each by its largest entry keeps the product from overflowing.
    cross = (Xw / _largest(Xw, xp)).T @ (Yw / _largest(Yw, xp))
    U, _, Vt = xp.linalg.svd(cross)
    return U, Vt.T


class LinearAlignment(NamedTuple):
    """Result of :func:`fit_linear_alignment`.

    Parameters
    ----------
    mx, my : arrays of shape (n_features,)
        Offsets subtracted from X and Y (zeros without centering).
    Wx, Wy : arrays of shape (n_features, n_features)
        Maps into the shared aligned space: ``(X - mx) @ Wx``.
    """

    mx: object
    my: object
    Wx: object
    Wy: object


def fit_linear_alignment(
    X: Array, Y: Array, alpha: float, *, center_columns: bool = True, check_input: bool = True
) -> LinearAlignment:
    """Fit the generalized shape metric alignment between ``X`` and ``Y``.

    Each representation is centered (optionally) and partially whitened with
    :func:`whiten_representation`; the whitened pair is then aligned by
    :func:`rotations_between`: ``Wx = Zx U``, ``Wy = Zy V``.

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

    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    LinearAlignment
        ``(mx, my, Wx, Wy)`` in the namespace and device of the inputs.
    """
    if check_input:
        X, Y = check_matching_pair(X, Y, ("X", "Y"))
        alpha = check_alpha(alpha)
    x = whiten_representation(X, alpha, center_columns=center_columns, check_input=False)
    y = whiten_representation(Y, alpha, center_columns=center_columns, check_input=False)
    U, V = rotations_between(x.whitened, y.whitened, check_input=False)
    return LinearAlignment(mx=x.mean, my=y.mean, Wx=x.whitening @ U, Wy=y.whitening @ V)


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
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    array of shape (n_samples, n_components)
        ``X`` in the aligned space.
    """
    if check_input:
        X = check_matrix(X, "X")
        for n_columns in (W.shape[0], offset.shape[0]):
            check_columns_match(
                X,
                n_columns,
                "X",
                "the alignment",
                f"offset of length {offset.shape[0]}, W of shape {tuple(W.shape)}",
            )
    return (X - offset) @ W


# -- many networks: one Gram product per block ---------------------------------------------
def prepare_linear_network(
    X: Array,
    alpha: float,
    X_test: Array | None = None,
    *,
    center_columns: bool = True,
    check_input: bool = True,
) -> PreparedNetwork:
    """Center and partially whiten one network, as a LinearMetric fit would.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Training data, validated.
    alpha : float in [0, 1]
        Regularization of the whitening (see
        :func:`~skrep.functional.partial_whitening_matrix`).
    X_test : array of shape (n_samples_test, n_features), default=None
        Held-out data, mapped with the training mean and whitening.
    center_columns : bool, default=True
        Subtract the column means of ``X``.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, equal widths) and ``alpha``.
        Callers that already did pass False.

    Returns
    -------
    PreparedNetwork
        Whitened data, squared norms and the sums needed for zero padding.
    """
    if check_input:
        X, X_test = _check_network(X, X_test)
        alpha = check_alpha(alpha)
    mean = column_means(X, center_columns, check_input=False)
    Xc = X - mean
    Z, total_eigval, total_variance = _partial_whitening(Xc, alpha)
    train = Xc @ Z
    test = None if X_test is None else (X_test - mean) @ Z
    return PreparedNetwork(
        train, test, _sq_norm(train), _sq_norm(test), total_eigval, total_variance
    )


def _padding_scales(
    networks: Sequence[PreparedNetwork], indices: Sequence[int], widths: Sequence[int], alpha: float
) -> np.ndarray:
    """Factor of each network's whitened data when zero-padded to each pair's width."""
    return np.array(
        [
            padding_rescale(
                networks[i].total_eigval,
                networks[i].total_variance,
                width - networks[i].train.shape[1],
                alpha,
            )
            for i, width in zip(indices, widths, strict=True)
        ]
    )


def linear_block_distances(
    nets_a: Sequence[PreparedNetwork],
    nets_b: Sequence[PreparedNetwork],
    pairs: Sequence[tuple[int, int]],
    *,
    alpha: float,
    score_method: str = "angular",
    same_block: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Generalized shape metric distances for many pairs of prepared networks.

    Parameters
    ----------
    nets_a, nets_b : sequences of PreparedNetwork
        Networks prepared by :func:`prepare_linear_network` with the same
        ``alpha`` (all with held-out data, or none).
    pairs : sequence of (int, int)
        Index into ``nets_a`` and into ``nets_b`` of each pair to compute.
    alpha : float in [0, 1]
        The regularization used to prepare the networks.
    score_method : {"angular", "euclidean"}, default="angular"
        Ground metric in the aligned space.
    same_block : bool, default=False
        ``nets_a`` and ``nets_b`` are the same networks (one SYRK instead of a GEMM).

    Returns
    -------
    train : ndarray of shape (n_pairs,)
        Distances on the training data, equal to a LinearMetric fit on each pair.
    test : ndarray of shape (n_pairs,) or None
        Distances on the held-out data with the training alignment.
    """
    _check_block(nets_a, nets_b, pairs)
    if not pairs:
        return np.zeros(0), None if nets_a[0].test is None else np.zeros(0)
    xp = get_namespace(nets_a[0].train)
    has_test = nets_a[0].test is not None
    width = max(net.train.shape[1] for net in (*nets_a, *nets_b))
    # Rescale factors of each side for the zero padding of each pair (1 when equal widths).
    widths = _pair_widths(nets_a, nets_b, pairs)
    scale_a = _padding_scales(nets_a, [a for a, _ in pairs], widths, alpha)
    scale_b = _padding_scales(nets_b, [b for _, b in pairs], widths, alpha)
    cross = _cross_products(nets_a, nets_b, pairs, width, same_block)
    test_inner = None
    if has_test:
        U, singular, Vt = _batched_svd(cross, compute_uv=True)
        held_out = _cross_products(nets_a, nets_b, pairs, width, same_block, "test")
        # trace(U.T H V) for each pair, batched.
        test_inner = xp.sum(U * (held_out @ xp.matrix_transpose(Vt)), axis=(-2, -1))
    else:
        singular = _batched_svd(cross, compute_uv=False)
    return _distances_with_refinement(
        nets_a,
        nets_b,
        pairs,
        xp.sum(singular, axis=-1),
        test_inner,
        score_method,
        lambda k: _refine_linear_pair(
            nets_a[pairs[k][0]],
            nets_b[pairs[k][1]],
            widths[k],
            scale_a[k],
            scale_b[k],
            score_method,
        ),
        scale_a,
        scale_b,
    )


def _refine_linear_pair(
    net_a: PreparedNetwork,
    net_b: PreparedNetwork,
    width: int,
    scale_a: float,
    scale_b: float,
    score_method: str,
) -> tuple[float, float | None]:
    """One pair computed from the data, as ``LinearMetric.fit`` + ``distance`` do."""
    ground_metric = GROUND_METRICS[score_method]
    A = zero_pad_columns(net_a.train * scale_a, width)
    B = zero_pad_columns(net_b.train * scale_b, width)
    U, V = rotations_between(A, B, check_input=False)
    train = ground_metric(A @ U, B @ V, check_input=False)
    if net_a.test is None:
        return train, None
    At = zero_pad_columns(net_a.test * scale_a, width)
    Bt = zero_pad_columns(net_b.test * scale_b, width)
    return train, ground_metric(At @ U, Bt @ V, check_input=False)
