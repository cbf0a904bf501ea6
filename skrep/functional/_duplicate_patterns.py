"""Identical patterns get identical dissimilarities, in any order of the stimuli.

BLAS computes an entry of ``A @ A.T`` a little differently depending on where
its row falls in the blocking (the diagonal tiles of SYRK, the edge tiles of
GEMM), so two identical patterns can end up with distances to a third that
differ in the last bit, and which one is larger depends on the order of the
stimuli. Rank-based comparisons (Spearman, Kendall) then break the ties one
way or the other: a duplicated stimulus moved the RSA score by 3e-4 when the
stimuli were shuffled. The RDMs are therefore computed over the distinct
patterns only and expanded: duplicates share every distance exactly, and are
at distance 0 from each other. Without duplicates nothing is copied.
"""

from __future__ import annotations

from collections.abc import Callable

import array_api_compat
import numpy as np

from .._array import get_namespace, is_torch_array, to_numpy
from .._typing import Array

__all__ = ["distinct_patterns"]


def _first_occurrences(rows: Array) -> tuple[np.ndarray, np.ndarray]:
    """The index of each distinct row's first occurrence, and each row's distinct index."""
    if is_torch_array(rows):
        _, inverse = rows.unique(dim=0, return_inverse=True)
        inverse = to_numpy(inverse)
    else:  # numpy, or any other array API array on the host
        rows = np.ascontiguousarray(to_numpy(rows))
        as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
        _, inverse = np.unique(as_bytes.ravel(), return_inverse=True)
        inverse = inverse.ravel()
    n_distinct = int(inverse.max()) + 1 if inverse.size else 0
    first = np.full(n_distinct, inverse.size)
    np.minimum.at(first, inverse, np.arange(inverse.size))
    # Renumber the distinct rows in order of first occurrence.
    order = np.argsort(first)
    renumber = np.empty_like(order)
    renumber[order] = np.arange(order.size)
    return first[order], renumber[inverse]


def _expansion(inverse: np.ndarray, n_distinct: int) -> np.ndarray:
    """Indices taking condensed distinct-pattern RDMs (plus a trailing 0) to all patterns."""
    rows, columns = np.triu_indices(inverse.size, 1)
    a = np.minimum(inverse[rows], inverse[columns])
    b = np.maximum(inverse[rows], inverse[columns])
    position = a * n_distinct - a * (a + 1) // 2 + (b - a - 1)
    zero = n_distinct * (n_distinct - 1) // 2  # the appended 0 of identical patterns
    return np.where(a == b, zero, position)


def distinct_patterns(patterns: Array) -> tuple[Array, Callable[[Array], Array] | None]:
    """The distinct conditions of ``patterns``, and how to expand their RDMs.

    Parameters
    ----------
    patterns : array of shape (n_datasets, n_conditions, n_channels)
        Condition patterns; a condition counts as a duplicate when its
        patterns are identical to another's in every data set.

    Returns
    -------
    distinct : array of shape (n_datasets, n_distinct, n_channels)
        ``patterns`` itself when there are no duplicates (or fewer than 2
        distinct conditions, whose RDMs are computed as they are).
    expand : callable or None
        Takes condensed RDMs of the distinct conditions, shape
        (n_datasets, n_distinct_pairs), to those of all conditions; None
        when ``distinct`` is ``patterns``.
    """
    xp = get_namespace(patterns)
    n_datasets, n_conditions, n_channels = patterns.shape
    if n_conditions < 3:
        return patterns, None
    rows = xp.reshape(xp.permute_dims(patterns, (1, 0, 2)), (n_conditions, -1))
    first, inverse = _first_occurrences(rows)
    if first.size == n_conditions or first.size < 2:
        return patterns, None
    device = array_api_compat.device(patterns)
    distinct = xp.take(patterns, xp.asarray(first, device=device), axis=1)
    indices = xp.asarray(_expansion(inverse, first.size), device=device)

    def expand(rdm: Array) -> Array:
        zeros = xp.zeros((*rdm.shape[:-1], 1), dtype=rdm.dtype, device=device)
        return xp.take(xp.concat([rdm, zeros], axis=-1), indices, axis=-1)

    return distinct, expand
