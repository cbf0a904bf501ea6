"""Permutation alignment: match units of two representations one to one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import array_api_compat
import numpy as np
from scipy.optimize import linear_sum_assignment

from .._array import get_namespace, to_numpy, zero_pad_columns
from .._typing import Array
from .._validation import check_columns_match, check_matching_pair, check_matrix
from ._alignment_checks import check_offset, check_order
from ._autograd import with_graph
from ._whitening import scaled_cross
from .centering import column_means
from .ground_metrics import GROUND_METRICS
from .network_blocks import (
    PreparedNetwork,
    _check_block,
    _cross_products,
    _distances_with_refinement,
    _pair_widths,
    scaled_ground_distance,
)

__all__ = [
    "PermutationAlignment",
    "fit_permutation_alignment",
    "apply_permutation",
    "permutation_block_distances",
]


class PermutationAlignment(NamedTuple):
    """Result of :func:`fit_permutation_alignment`.

    Parameters
    ----------
    mx, my : arrays of shape (n_features,)
        Offsets subtracted from X and Y (zeros without centering).
    Px, Py : int arrays of shape (n_features,)
        Column orders: column k of the aligned X is column ``Px[k]`` of X,
        matched with column ``Py[k]`` of Y.
    """

    mx: object
    my: object
    Px: object
    Py: object


def fit_permutation_alignment(
    X: Array, Y: Array, *, center_columns: bool = True, check_input: bool = True
) -> PermutationAlignment:
    """Find the one-to-one matching of units that best aligns ``X`` with ``Y``.

    Maximizes ``trace(P.T Xc.T Yc)`` over permutation matrices ``P`` with
    scipy's Hungarian solver; since permutations preserve norms, the same ``P``
    minimizes both the Frobenius distance and the angle. The assignment runs on the CPU;
    the cross-product ``Xc.T @ Yc`` is computed where the data lives.

    Parameters
    ----------
    X, Y : arrays of shape (n_samples, n_features)
        Paired representations of the same width.
    center_columns : bool, default=True
        Subtract column means first.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    PermutationAlignment
        ``(mx, my, Px, Py)``, index arrays in the namespace and device of X.
    """
    if check_input:
        X, Y = check_matching_pair(X, Y, ("X", "Y"))
    xp = get_namespace(X, Y)
    mx = column_means(X, center_columns, check_input=False)
    my = column_means(Y, center_columns, check_input=False)
    # Positive scalings do not change the matching; powers of two keep the
    # product finite (and exact) at any scale of the data.
    cross, _, _ = scaled_cross(X - mx, Y - my)
    rows, cols = linear_sum_assignment(to_numpy(cross), maximize=True)
    device = array_api_compat.device(X)
    return PermutationAlignment(
        mx=mx,
        my=my,
        Px=xp.asarray(rows, dtype=xp.int64, device=device),
        Py=xp.asarray(cols, dtype=xp.int64, device=device),
    )


def apply_permutation(X: Array, offset: Array, order: Array, *, check_input: bool = True) -> Array:
    """Center ``X`` with ``offset`` and reorder its columns: ``(X - offset)[:, order]``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Representation to reorder.
    offset : array of shape (n_features,)
        Column means learned in the fit.
    order : int array of shape (n_features,)
        Column order learned in the fit: a permutation of ``0..n_features-1``.
    check_input : bool, default=True
        Validate the arrays: ``X`` 2-D, finite and real, ``offset`` 1-D,
        finite and real, ``order`` a permutation, with matching sizes.
        Callers that already did, such as the estimators, pass False.

    Returns
    -------
    array of shape (n_samples, n_features)
        ``X`` centered and reordered; for a tensor ``X`` that requires grad,
        a tensor that carries its gradient (the order held fixed: with
        :func:`fit_permutation_alignment` and a ground metric, the gradient of
        the permutation distance through the matched pairs).
    """
    original = X
    if check_input:
        X = check_matrix(X, "X")
        X = with_graph(original, X)
        offset = check_offset(offset, X)
        order = check_order(order, X)
        for n_columns in (offset.shape[0], order.shape[0]):
            check_columns_match(
                X,
                n_columns,
                "X",
                "the alignment",
                f"offset of length {offset.shape[0]}, order of length {order.shape[0]}",
            )
    xp = get_namespace(X)
    return xp.take(X - offset, order, axis=1)


# -- many networks: cross-products from one Gram product -------------------------------------
def permutation_block_distances(
    nets_a: Sequence[PreparedNetwork],
    nets_b: Sequence[PreparedNetwork],
    pairs: Sequence[tuple[int, int]],
    *,
    score_method: str = "angular",
    same_block: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Permutation metric distances for many pairs of centered networks.

    The cross-products come from one matrix product; the optimal one-to-one
    matching of units is then solved per pair by scipy's Hungarian solver.

    Parameters
    ----------
    nets_a, nets_b : sequences of PreparedNetwork
        Networks prepared by :func:`prepare_centered_network` (all with
        held-out data, or none).
    pairs : sequence of (int, int)
        Index into ``nets_a`` and into ``nets_b`` of each pair to compute.
    score_method : {"angular", "euclidean"}, default="angular"
        Ground metric between the matched representations.
    same_block : bool, default=False
        ``nets_a`` and ``nets_b`` are the same networks.

    Returns
    -------
    train : ndarray of shape (n_pairs,)
        Distances on the training data, equal to a PermutationMetric fit on each pair.
    test : ndarray of shape (n_pairs,) or None
        Distances on the held-out data with the training matching.
    """
    _check_block(nets_a, nets_b, pairs)
    if not pairs:
        return np.zeros(0), None if nets_a[0].test is None else np.zeros(0)
    has_test = nets_a[0].test is not None
    width = max(net.train.shape[1] for net in (*nets_a, *nets_b))
    widths = _pair_widths(nets_a, nets_b, pairs)

    # The assignment runs in scipy, on host float64 copies of the cross-products.
    def on_host(side: str) -> np.ndarray:
        products = _cross_products(nets_a, nets_b, pairs, width, same_block, side)
        return np.asarray(to_numpy(products), dtype=np.float64)

    cross = on_host("train")
    held_out = on_host("test") if has_test else None
    inner = np.empty(len(pairs))
    test_inner = np.empty(len(pairs))
    for k, q in enumerate(widths):
        # Solve on the pair's own padded width, as a single-pair fit does.
        rows, cols = linear_sum_assignment(cross[k, :q, :q], maximize=True)
        inner[k] = cross[k, rows, cols].sum()
        if has_test:
            test_inner[k] = held_out[k, rows, cols].sum()
    factor_a = np.array([nets_a[a].scale for a, _ in pairs], dtype=np.float64)
    factor_b = np.array([nets_b[b].scale for _, b in pairs], dtype=np.float64)
    return _distances_with_refinement(
        nets_a,
        nets_b,
        pairs,
        inner,
        test_inner if has_test else None,
        score_method,
        lambda k: _refine_permutation_pair(
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


def _refine_permutation_pair(
    net_a: PreparedNetwork,
    net_b: PreparedNetwork,
    width: int,
    factor_a: float,
    factor_b: float,
    score_method: str,
) -> tuple[float, float | None]:
    """One pair computed from the data, as ``PermutationMetric.fit`` + ``distance`` do."""
    ground_metric = GROUND_METRICS[score_method]
    A = zero_pad_columns(net_a.train, width)
    B = zero_pad_columns(net_b.train, width)
    xp = get_namespace(A)
    rows, cols = linear_sum_assignment(to_numpy(A.T @ B), maximize=True)
    rows, cols = (xp.asarray(i, device=array_api_compat.device(A)) for i in (rows, cols))

    def matched(P: Array, Q: Array) -> float:
        P, Q = xp.take(P, rows, axis=1), xp.take(Q, cols, axis=1)
        return scaled_ground_distance(ground_metric, P, Q, factor_a, factor_b)

    train = matched(A, B)
    if net_a.test is None:
        return train, None
    return train, matched(zero_pad_columns(net_a.test, width), zero_pad_columns(net_b.test, width))
