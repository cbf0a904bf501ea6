"""Exact rank statistics of long vectors: sort orders, average ranks, Kendall's S.

RDM comparisons rank vectors of n (n - 1) / 2 dissimilarities: 499 500 of
them at 1000 stimuli, for every RDM of a stack. These helpers give the same
numbers as ``np.argsort`` / ``scipy.stats.rankdata`` / ``scipy.stats.kendalltau``
in less time; that speed is the point of writing them here (issue 7's
benchmark), and each one says how it gets it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np


def _compiled_discordant_count() -> Callable[[np.ndarray, np.ndarray], int] | None:
    """The compiled Fenwick-tree count (scipy's) of discordant pairs, if it still works.

    It is the core of ``kendalltau`` (private, present since scipy 0.19; rsatoolbox
    imports it too). Called directly, each RDM is sorted once instead of twice
    per pair. It is checked on a small case so that a changed signature in a
    future scipy falls back to ``kendalltau`` rather than failing later.
    """
    try:
        from scipy.stats._stats import _kendall_dis

        x = np.array([1, 1, 2, 3], dtype=np.intp)
        y = np.array([2, 1, 3, 1], dtype=np.intp)
        # Discordant (x_i < x_j, y_i > y_j): (0, 3) and (2, 3).
        return _kendall_dis if int(_kendall_dis(x, y)) == 2 else None
    except Exception:  # pragma: no cover - depends on scipy's internals
        return None


_kendall_dis = _compiled_discordant_count()

#: Whether :func:`kendall_s_from_ranks` can run (scipy's compiled count found).
HAS_COMPILED_COUNT = _kendall_dis is not None

__all__ = [
    "average_ranks",
    "category_codes",
    "dense_ranks",
    "few_categories",
    "kendall_s",
    "kendall_s_from_ranks",
    "sort_order",
    "sorted_ranks",
    "tied_pairs",
]

# At most this many distinct values on one side of a Kendall comparison take
# the counting route of kendall_s (k cumulative sums); above it, scipy.
MAX_CATEGORIES = 64
_SIGN_OFF = np.int64(0x7FFF_FFFF_FFFF_FFFF)


@functools.lru_cache(maxsize=4)
def _positions(n: int, dtype: type[np.number], offset: float) -> np.ndarray:
    """``arange(n) + offset`` as a read-only array, shared by the rows of a stack."""
    positions = np.arange(n, dtype=dtype) + dtype(offset)
    positions.flags.writeable = False
    return positions


def sort_order(
    values: np.ndarray, tags: np.ndarray | None = None, tagged: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices that sort a finite float64 vector, and where its ties are.

    Why not ``np.argsort``: numpy sorts 64-bit integers with SIMD instructions
    about five times faster than it argsorts, so the value's leading bits (as
    an order-preserving integer) and its index are packed into one int64 and
    sorted. Only neighbours that share those leading bits can be out of order
    or tied: those few are looked up and their runs sorted by value, so the
    order is exact.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite float64 values.
    tags, tagged : ndarray of shape (n,), default=None
        A permutation of 0..n-1 to carry in place of the indices (e.g. the
        ranks of another vector), and its inverse (``tagged[tags[i]] == i``).
        The sort then returns ``tags[order]`` without a random-access gather.

    Returns
    -------
    order : ndarray of shape (n,)
        Indices (int64) with ``values[order]`` non-decreasing; ``tags[order]``
        when tags are given.
    ties : ndarray
        The positions t (in sorted order) with
        ``values[order[t]] == values[order[t + 1]]``, increasing.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    index_bits = max(1, (n - 1).bit_length())
    if n < 2048 or index_bits > 30:  # small (argsort is as fast) or no room for the index
        return _argsort_with_ties(values, tags)
    key = (values + 0.0).view(np.int64)  # + 0.0 makes -0.0 into 0.0 (and copies)
    if values.min() < 0:
        key ^= (key >> 63) & _SIGN_OFF  # negative floats: reverse their order
    index_mask = np.int64((1 << index_bits) - 1)
    key &= ~index_mask
    key |= _positions(n, np.int64, 0) if tags is None else tags
    key.sort()
    order = key & index_mask
    # Neighbours with the same leading bits: the only places where the packed
    # order may differ from the values' order, or where values may be equal.
    shared = np.flatnonzero((key[1:] ^ key[:-1]) <= index_mask)
    if shared.size > n // 16:  # many ties (e.g. a categorical RDM): look everything up
        return _argsort_with_ties(values, tags)

    def value_at(positions: np.ndarray) -> np.ndarray:
        return values[order[positions] if tags is None else tagged[order[positions]]]

    left, right = value_at(shared), value_at(shared + 1)
    misplaced = shared[right < left]
    if misplaced.size:
        # Runs of equal leading bits are the chains of consecutive positions in
        # ``shared`` (found from it alone: no pass over all n keys).
        breaks = np.flatnonzero(np.diff(shared) != 1)
        run_starts = shared[np.r_[0, breaks + 1]]
        run_ends = shared[np.r_[breaks, shared.size - 1]] + 2
        for run in np.unique(np.searchsorted(run_starts, misplaced, side="right") - 1):
            span = np.arange(run_starts[run], run_ends[run])
            order[span] = order[span][np.argsort(value_at(span), kind="stable")]
        left, right = value_at(shared), value_at(shared + 1)
    return order, shared[left == right]


def _argsort_with_ties(
    values: np.ndarray, tags: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    ties = np.flatnonzero(sorted_values[1:] == sorted_values[:-1])
    return (order if tags is None else tags[order]), ties


def _tie_run_starts(ties: np.ndarray, n: int) -> np.ndarray:
    """Start of each run of equal values in sorted order, from the tie positions."""
    if ties.size == 0:
        return np.arange(n)
    new_run = np.ones(n, dtype=bool)
    new_run[ties + 1] = False
    return np.flatnonzero(new_run)


def sorted_ranks(ties: np.ndarray, n: int, centered: bool = False) -> np.ndarray:
    """The average ranks of a sorted vector, position by position.

    Parameters
    ----------
    ties : ndarray
        Tie positions, as :func:`sort_order` returns them.
    n : int
        Length of the vector.
    centered : bool, default=False
        Subtract the ranks' mean, (n + 1) / 2 (exact: the ranks are halves).

    Returns
    -------
    ndarray of shape (n,)
        Rank of the t-th smallest value, ties given their mean rank (float64,
        read-only when there are no ties).
    """
    first = 1.0 - (n + 1) / 2.0 if centered else 1.0
    if ties.size == 0:
        return _positions(n, np.float64, first)
    starts = _tie_run_starts(ties, n)
    ends = np.r_[starts[1:], n]
    return np.repeat((starts + ends - 1) / 2.0 + first, ends - starts)


def average_ranks(
    values: np.ndarray, out: np.ndarray | None = None, centered: bool = False
) -> np.ndarray:
    """Ranks 1..n of a finite vector, ties given their mean rank.

    The same numbers as ``scipy.stats.rankdata(values)`` (method "average"),
    from :func:`sort_order`.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite values.
    out : ndarray of shape (n,), default=None
        Float64 array to write the ranks into.
    centered : bool, default=False
        Subtract the ranks' mean, (n + 1) / 2.

    Returns
    -------
    ndarray of shape (n,)
        The ranks, float64.
    """
    order, ties = sort_order(values)
    ranks = np.empty(order.size) if out is None else out
    ranks[order] = sorted_ranks(ties, order.size, centered)
    return ranks


def category_codes(values: np.ndarray) -> np.ndarray | None:
    """Codes 0..k-1 of a vector's distinct values in increasing order, or None if k is large.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite values.

    Returns
    -------
    ndarray of shape (n,) or None
        The uint8 codes, or None when there are more than ``MAX_CATEGORIES``
        distinct values.
    """
    distinct, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1).astype(np.uint8) if distinct.size <= MAX_CATEGORIES else None


def dense_ranks(ties: np.ndarray, n: int) -> np.ndarray:
    """Dense ranks 1..k of a sorted vector, position by position.

    Parameters
    ----------
    ties : ndarray
        Tie positions, as :func:`sort_order` returns them.
    n : int
        Length of the sorted vector.

    Returns
    -------
    ndarray of shape (n,)
        Non-decreasing ``intp`` ranks: 1 for the smallest value, one more for
        each larger distinct value.
    """
    new_value = np.ones(n, dtype=np.intp)
    new_value[ties + 1] = 0
    return np.cumsum(new_value, out=new_value)


def tied_pairs(ties: np.ndarray, n: int) -> int:
    """Number of tied pairs, from the tie positions of :func:`sort_order`.

    Parameters
    ----------
    ties : ndarray
        Tie positions, as :func:`sort_order` returns them.
    n : int
        Length of the sorted vector.

    Returns
    -------
    int
        The sum over runs of equal values of ``m (m - 1) / 2``.
    """
    if ties.size == 0:
        return 0
    lengths = np.diff(np.r_[_tie_run_starts(ties, n), n])
    return int(np.sum(lengths * (lengths - 1) // 2))


def few_categories(values: np.ndarray, sample: int = 4096) -> np.ndarray | None:
    """Category codes of a vector with few distinct values, else None, cheaply.

    Data RDMs have as many distinct values as pairs: a sample of them settles
    that before the full ``np.unique`` (a sort) is paid.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite values.
    sample : int, default=4096
        How many leading values to look at first.

    Returns
    -------
    ndarray of shape (n,) or None
        As :func:`category_codes`.
    """
    if np.unique(values[:sample]).size > MAX_CATEGORIES:
        return None
    return category_codes(values)


def kendall_s(codes: np.ndarray, order: np.ndarray, ties: np.ndarray) -> int:
    """Kendall's S = sum over pairs of sign(dx) sign(dy), for a categorical x.

    x is given by its category codes (few distinct values, as a categorical
    model RDM), y by its values. Once y is sorted, the pairs an element makes
    with smaller-y elements of lower categories are a cumulative count: O(n k)
    after one sort, where the general algorithm (scipy's ``kendalltau``) needs
    a lexicographic sort and a merge sort per pair. The count is exact
    (integers).

    Parameters
    ----------
    codes : ndarray of shape (n,)
        Category codes 0..k-1 of x (:func:`category_codes`), in the order of
        x's values.
    order, ties : ndarray
        :func:`sort_order` of y.

    Returns
    -------
    int
        S = (concordant pairs) - (discordant pairs).
    """
    n = order.size
    sorted_codes = codes[order]
    n_categories = int(sorted_codes.max()) + 1
    # S = sum over elements t (in y order) of 2 L_t + E_t - s_t, where s_t
    # elements have a smaller y, L_t of them a lower category, E_t the same.
    if ties.size == 0:  # s_t = t, and the E_t and s_t sums have closed forms
        sizes = np.bincount(sorted_codes, minlength=n_categories).astype(np.int64)
        total = int(np.sum(sizes * (sizes - 1) // 2)) - n * (n - 1) // 2
        for category in range(1, n_categories):
            lower_so_far = np.cumsum(sorted_codes < category, dtype=np.int64)
            total += 2 * int(lower_so_far[sorted_codes == category].sum())
        return total
    starts = _tie_run_starts(ties, n)
    smaller = np.repeat(starts, np.diff(np.r_[starts, n]))  # s_t
    total = -int(smaller.sum())
    counts = np.zeros(n + 1, dtype=np.int64)
    for category in range(n_categories):
        members = sorted_codes == category
        at = smaller[members]
        np.cumsum(members, out=counts[1:])  # same category, before each position
        total += int(counts[at].sum())
        if category:
            np.cumsum(sorted_codes < category, out=counts[1:])
            total += 2 * int(counts[at].sum())
    return total


def kendall_s_from_ranks(
    sorted_x_ranks: np.ndarray, y_ranks: np.ndarray, tied_x: int, tied_y: int
) -> int:
    """Kendall's S of two many-valued vectors, from their dense ranks.

    The general case (both sides with many distinct values, where
    :func:`kendall_s` does not apply): with x sorted, S follows from the number
    of discordant pairs, an inversion count of y. Each vector is ranked once
    (:func:`sort_order`, :func:`dense_ranks`) and every pair then costs one
    O(n log k) count in scipy's compiled Fenwick tree over y's k distinct
    values (cheaper, and cache-resident, when y is the side with fewer
    values), where ``scipy.stats.kendalltau`` would sort both vectors again.

    Parameters
    ----------
    sorted_x_ranks : ndarray of shape (n,)
        Dense ranks of x in increasing order (:func:`dense_ranks`), ``intp``.
    y_ranks : ndarray of shape (n,)
        Dense ranks (1..k, ``intp``) of y, in the same order as
        ``sorted_x_ranks``.
    tied_x, tied_y : int
        Tied pairs of x and of y (:func:`tied_pairs`).

    Returns
    -------
    int
        S = (concordant pairs) - (discordant pairs).

    Raises
    ------
    RuntimeError
        If this scipy lacks the compiled count (see ``HAS_COMPILED_COUNT``).
    """
    if _kendall_dis is None:  # pragma: no cover - depends on scipy's internals
        raise RuntimeError("This scipy has no scipy.stats._stats._kendall_dis.")
    n = sorted_x_ranks.size
    discordant = int(_kendall_dis(sorted_x_ranks, y_ranks))
    both_tied = 0
    if tied_x and tied_y:  # pairs tied on both sides are neither
        keys = sorted_x_ranks.astype(np.int64) * (int(y_ranks.max()) + 1) + y_ranks
        keys.sort()
        both_tied = tied_pairs(np.flatnonzero(keys[1:] == keys[:-1]), n)
    return n * (n - 1) // 2 - tied_x - tied_y + both_tied - 2 * discordant
