"""The pair computations of :func:`skrep.functional.compute_rdm`, shared with its gradient.

Condition means, the (cross-)products of pattern differences over all pairs
and the condensed upper triangles, in the input's namespace and on its
device: plain array operations, so that the torch path of
:mod:`._rdm_autograd` differentiates the same formulas the value is computed
with.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._array import get_namespace, matrix_transpose
from .._typing import Array, Namespace

__all__ = [
    "n_conditions_of",
    "upper_triangle",
    "take",
    "condition_means",
    "pairwise",
    "crossnobis",
]


def n_conditions_of(n_pairs: int) -> int | None:
    """The number of conditions n of a condensed RDM of ``n_pairs = n (n - 1) / 2`` entries.

    Parameters
    ----------
    n_pairs : int
        Length of the condensed RDM.

    Returns
    -------
    int or None
        n, or None when ``n_pairs`` is not of that form.
    """
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    return n if n * (n - 1) // 2 == n_pairs else None


def upper_triangle(square: Array) -> Array:
    """The upper triangles of (..., n, n) matrices, unchecked (cross-products are not symmetric)."""
    xp = get_namespace(square)
    n = square.shape[-1]
    rows, columns = np.triu_indices(n, 1)
    flat = xp.reshape(square, (*square.shape[:-2], n * n))
    return take(flat, rows * n + columns, axis=-1)


def take(A: Array, indices: np.ndarray, axis: int) -> Array:
    """``A`` at numpy ``indices`` along ``axis``, in A's namespace and on its device."""
    xp = get_namespace(A)
    return xp.take(A, xp.asarray(indices, device=array_api_compat.device(A)), axis=axis)


def condition_means(
    X: Array, conditions: np.ndarray | None, order: np.ndarray | None, xp: Namespace
) -> Array:
    """(n_datasets, n_conditions, n_channels) means over each condition's rows."""
    if conditions is None:
        return X
    means = []
    for value in order:
        rows = np.flatnonzero(conditions == value)
        means.append(xp.mean(take(X, rows, axis=1), axis=1))
    return xp.stack(means, axis=1)


def pairwise(A: Array, B: Array, P: Array | None, xp: Namespace) -> Array:
    """``(a_i - a_j) P (b_i - b_j)'`` for all pairs, condensed."""
    # The distances do not change when all patterns move together; centering
    # them first keeps float32 from cancelling when responses share an offset.
    A = A - xp.mean(A, axis=-2, keepdims=True)
    B = B - xp.mean(B, axis=-2, keepdims=True)
    kernel = A @ P @ matrix_transpose(B, xp) if P is not None else A @ matrix_transpose(B, xp)
    diagonal = xp.linalg.diagonal(kernel)
    square = diagonal[..., :, None] + diagonal[..., None, :] - kernel - matrix_transpose(kernel, xp)
    return upper_triangle(square)


def crossnobis(
    X: Array,
    conditions: np.ndarray | None,
    order: np.ndarray | None,
    runs: np.ndarray,
    P: Array | None,
    xp: Namespace,
) -> Array:
    """The cross-validated Mahalanobis distances, averaged over the runs left out."""
    run_values = np.unique(runs)
    if run_values.size < 2:
        raise ValueError(
            f"method='crossnobis' needs at least 2 runs; runs holds {run_values.size} "
            f"distinct value ({run_values.tolist()})."
        )
    if conditions is None:
        raise ValueError(
            "method='crossnobis' needs conditions: the condition of each observation, "
            "repeated in every run."
        )
    folds = []
    for run in run_values:
        held_out = runs == run
        for value in order:
            label, run_label = value.item(), run.item()  # plain Python values in messages
            for part, where in (
                (held_out, f"run {run_label!r}"),
                (~held_out, f"the runs other than {run_label!r}"),
            ):
                if not np.any(part & (conditions == value)):
                    raise ValueError(
                        f"Condition {label!r} has no observation in {where}; crossnobis "
                        "needs every condition in every run."
                    )
        train = condition_means(
            take(X, np.flatnonzero(~held_out), axis=1),
            conditions[~held_out],
            order,
            xp,
        )
        test = condition_means(
            take(X, np.flatnonzero(held_out), axis=1),
            conditions[held_out],
            order,
            xp,
        )
        folds.append(pairwise(train, test, P, xp))
    return sum(folds) / len(folds)
