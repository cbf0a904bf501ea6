"""Permutation alignment: match units of two representations one to one."""

from __future__ import annotations

from typing import NamedTuple

import array_api_compat
from scipy.optimize import linear_sum_assignment

from .._array import get_namespace, to_numpy
from .._validation import check_columns_match, check_matching_pair, check_matrix
from .centering import column_means

__all__ = ["PermutationAlignment", "fit_permutation_alignment", "apply_permutation"]


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


def fit_permutation_alignment(X, Y, *, center_columns=True, check_input=True):
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
    cross = to_numpy((X - mx).T @ (Y - my))
    rows, cols = linear_sum_assignment(cross, maximize=True)
    device = array_api_compat.device(X)
    return PermutationAlignment(
        mx=mx,
        my=my,
        Px=xp.asarray(rows, dtype=xp.int64, device=device),
        Py=xp.asarray(cols, dtype=xp.int64, device=device),
    )


def apply_permutation(X, offset, order, *, check_input=True):
    """Centre ``X`` with ``offset`` and reorder its columns: ``(X - offset)[:, order]``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Representation to reorder.
    offset : array of shape (n_features,)
        Column means learned in the fit.
    order : int array of shape (n_features,)
        Column order learned in the fit.

    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    array of shape (n_samples, n_features)
        ``X`` centred and reordered.
    """
    if check_input:
        X = check_matrix(X, "X")
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
