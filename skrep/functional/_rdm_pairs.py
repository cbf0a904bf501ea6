"""The pair computations of :func:`skrep.functional.compute_rdm`, shared with its gradient.

Condition means, the (cross-)products of pattern differences over all pairs
and the condensed upper triangles, in the input's namespace and on its
device: plain array operations, so that the torch path of
:mod:`._rdm_autograd` differentiates the same formulas the value is computed
with.
"""

from __future__ import annotations

from collections.abc import Iterator

import array_api_compat
import numpy as np

from .._array import get_namespace, matrix_transpose
from .._typing import Array, Namespace

__all__ = [
    "n_conditions_of",
    "condition_rows",
    "check_crossnobis_labels",
    "fold_means",
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


def condition_rows(conditions: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
    """The rows of each condition of ``order`` (the sorted distinct labels), in increasing order.

    One stable sort of the labels, where comparing every label with every
    condition would cost n_observations x n_conditions.
    """
    codes = np.searchsorted(order, conditions)
    rows = np.argsort(codes, kind="stable")
    return np.split(rows, np.cumsum(np.bincount(codes, minlength=order.size))[:-1])


def _means(X: Array, groups: list[np.ndarray], xp: Namespace) -> Array:
    if isinstance(X, np.ndarray):  # written in place: no list of rows to stack
        means = np.empty((X.shape[0], len(groups), X.shape[2]), dtype=X.dtype)
        for k, rows in enumerate(groups):
            np.mean(X[:, rows, :], axis=1, out=means[:, k, :])
        return means
    return xp.stack([xp.mean(take(X, rows, axis=1), axis=1) for rows in groups], axis=1)


def condition_means(
    X: Array, conditions: np.ndarray | None, order: np.ndarray | None, xp: Namespace
) -> Array:
    """(n_datasets, n_conditions, n_channels) means over each condition's rows."""
    if conditions is None:
        return X
    return _means(X, condition_rows(conditions, order), xp)


def check_crossnobis_labels(
    conditions: np.ndarray | None, order: np.ndarray | None, runs: np.ndarray
) -> np.ndarray:
    """The distinct runs, after checking that every condition is in every run and outside it.

    Parameters
    ----------
    conditions, order : ndarray or None
        The condition labels and their sorted distinct values.
    runs : ndarray
        The run labels.

    Returns
    -------
    ndarray
        The sorted distinct runs.
    """
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
    counts = np.zeros((run_values.size, order.size), dtype=np.int64)
    np.add.at(counts, (np.searchsorted(run_values, runs), np.searchsorted(order, conditions)), 1)
    # (run, condition, held-out part first): the first pair without an observation.
    missing = np.stack([counts == 0, counts.sum(axis=0) - counts == 0], axis=-1)
    if np.any(missing):
        r, c, other = np.unravel_index(int(np.argmax(missing)), missing.shape)
        run, label = run_values[r].item(), order[c].item()  # plain Python values in messages
        where = f"the runs other than {run!r}" if other else f"run {run!r}"
        raise ValueError(
            f"Condition {label!r} has no observation in {where}; crossnobis needs every "
            "condition in every run."
        )
    return run_values


def fold_means(
    X: Array, conditions: np.ndarray, order: np.ndarray, runs: np.ndarray, xp: Namespace
) -> Iterator[tuple[Array, Array]]:
    """For each run, the condition means of the other runs and of that run.

    Checked by :func:`check_crossnobis_labels`; the means are those of
    :func:`condition_means` of the rows outside and inside the run (the same
    rows in the same order), without copying those rows first.
    """
    run_values = check_crossnobis_labels(conditions, order, runs)
    groups = condition_rows(conditions, order)
    for run in run_values:
        held_out = runs == run
        # Yielded without a name here: the caller's del frees them.
        yield (
            _means(X, [rows[~held_out[rows]] for rows in groups], xp),
            _means(X, [rows[held_out[rows]] for rows in groups], xp),
        )


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
    folds = [
        pairwise(train, test, P, xp) for train, test in fold_means(X, conditions, order, runs, xp)
    ]
    return sum(folds) / len(folds)
