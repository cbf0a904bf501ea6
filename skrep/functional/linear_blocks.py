"""Generalized shape metrics between many networks: whiten once per network, one product per block.

The batched form of :mod:`skrep.functional.linear` (see
:mod:`skrep.functional.network_blocks` for the shared machinery). Each network
is centered, divided by the power of two nearest its largest entry (exact, so
no product overflows at any scale) and partially whitened once; every pair's
cross-product is then a block of one matrix product, and its distance follows
from a batched SVD.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._array import get_namespace, zero_pad_columns
from .._validation import check_alpha
from ._scaling import normalize_scale
from ._whitening import padding_factor, procrustes_rotations, whitening_of_normalized
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
    scaled_ground_distance,
)

__all__ = ["prepare_linear_network", "linear_block_distances"]


def prepare_linear_network(
    X: object,
    alpha: float,
    X_test: object | None = None,
    *,
    center_columns: bool = True,
    relative_tol: bool = True,
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
    relative_tol : bool, default=True
        Floor the eigenvalues relative to the data's scale (False: netrep's
        absolute floor), see :func:`~skrep.functional.partial_whitening_matrix`.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, equal widths) and ``alpha``.
        Callers that already did pass False.

    Returns
    -------
    PreparedNetwork
        Whitened data divided by ``scale``, squared norms and the numbers
        needed for zero padding.
    """
    if check_input:
        X, X_test = _check_network(X, X_test)
        alpha = check_alpha(alpha)
    mean = column_means(X, center_columns, check_input=False)
    Xn, scale = normalize_scale(X - mean, in_place=True)
    whitening = whitening_of_normalized(Xn, scale, alpha, relative_tol=bool(relative_tol))
    # In the eigenbasis of the whitening (a rotation: the distances are the same).
    basis = whitening.basis
    train = Xn if basis is None else Xn @ basis
    test = None
    if X_test is not None:
        test = (X_test - mean) / scale
        test = test if basis is None else test @ basis
    return PreparedNetwork(
        train,
        test,
        _sq_norm(train),
        _sq_norm(test),
        whitening.total_eigval,
        whitening.total_variance,
        whitening.eigval_floor,
        whitening.alpha,
        scale,
    )


def _pair_factors(
    networks: Sequence[PreparedNetwork], indices: Sequence[int], widths: Sequence[int]
) -> np.ndarray:
    """Each network's factor in each pair: its scale times its zero-padding rescale."""
    factors = []
    for i, width in zip(indices, widths, strict=True):
        net = networks[i]
        n_padded = width - net.train.shape[1]
        padding = 1.0
        if n_padded and net.total_eigval is not None:
            padding = padding_factor(
                net.total_eigval,
                net.total_variance,
                n_padded,
                net.whitening_alpha,
                net.eigval_floor,
            )
        factors.append(padding * net.scale)
    return np.array(factors)


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
        The regularization used to prepare the networks (each network
        carries what its zero padding needs, so this is only checked).
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
    check_alpha(alpha)
    if not pairs:
        return np.zeros(0), None if nets_a[0].test is None else np.zeros(0)
    xp = get_namespace(nets_a[0].train)
    has_test = nets_a[0].test is not None
    width = max(net.train.shape[1] for net in (*nets_a, *nets_b))
    # Each side's factor in each pair: its scale and its zero-padding rescale.
    widths = _pair_widths(nets_a, nets_b, pairs)
    factor_a = _pair_factors(nets_a, [a for a, _ in pairs], widths)
    factor_b = _pair_factors(nets_b, [b for _, b in pairs], widths)
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
            factor_a[k],
            factor_b[k],
            score_method,
        ),
        factor_a,
        factor_b,
    )


def _refine_linear_pair(
    net_a: PreparedNetwork,
    net_b: PreparedNetwork,
    width: int,
    factor_a: float,
    factor_b: float,
    score_method: str,
) -> tuple[float, float | None]:
    """One pair computed from the data, as ``LinearMetric.fit`` + ``distance`` do."""
    ground_metric = GROUND_METRICS[score_method]
    A = zero_pad_columns(net_a.train, width)
    B = zero_pad_columns(net_b.train, width)
    # Positive factors change neither the rotations nor the angle.
    U, _, V = procrustes_rotations(A.T @ B)
    train = scaled_ground_distance(ground_metric, A @ U, B @ V, factor_a, factor_b)
    if net_a.test is None:
        return train, None
    At = zero_pad_columns(net_a.test, width)
    Bt = zero_pad_columns(net_b.test, width)
    return train, scaled_ground_distance(ground_metric, At @ U, Bt @ V, factor_a, factor_b)
