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
    "distinct_values",
    "packed_order",
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


#: Values per step of the passes over long vectors: a few MiB of temporaries.
CHUNK = 1 << 18


def _quantised_keys(
    values: np.ndarray, index_bits: int, tags: np.ndarray | None
) -> np.ndarray | None:
    """int64 keys: the value's place between min and max (leading bits), then its index or tag.

    ``floor((v / 2 - min / 2) * scale)`` is non-decreasing in v (each step
    rounds monotonically), so keys in increasing order put the values in
    order, except among neighbours that share the leading bits. Spreading the
    values' range over all of them (instead of taking a float's own bits, of
    which the exponent and sign are mostly the same for an RDM) leaves few
    such neighbours even at 10^8 values. Built a chunk at a time. None for a
    constant vector.
    """
    low, high = float(values.min()), float(values.max())
    half_span = high * 0.5 - low * 0.5  # no overflow at +-1e308
    if not half_span > 0.0:
        return None
    top = float(2 ** (62 - index_bits) - 1)  # keys stay below 2^63
    scale = top / half_span
    key = np.empty(values.size, dtype=np.int64)
    for c0 in range(0, values.size, CHUNK):
        c1 = min(c0 + CHUNK, values.size)
        place = values[c0:c1] * 0.5
        place -= low * 0.5
        place *= scale
        np.minimum(place, top, out=place)
        part = key[c0:c1]
        part[...] = place  # truncation: floor of values >= 0
        part <<= index_bits
        part |= np.arange(c0, c1, dtype=np.int64) if tags is None else tags[c0:c1]
    return key


def packed_order(
    values: np.ndarray,
    tags: np.ndarray | None = None,
    tagged: np.ndarray | None = None,
    max_shared: int | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The packed sort of :func:`sort_order`: (order, shared), or None where it does not pay.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite float64 values, n >= 2048 and n <= 2^30.
    tags, tagged : ndarray of shape (n,), default=None
        As in :func:`sort_order`.
    max_shared : int, default=n // 16
        Give up (None) when more neighbours than this share their leading
        bits (many ties): an argsort is then as fast.

    Returns
    -------
    (order, shared) or None
        ``order`` as in :func:`sort_order` (int64, tags when given); ``shared``
        the sorted positions t whose neighbour t + 1 shares t's leading bits
        (ties among them). None for a constant vector or too many shared.
    """
    n = values.size
    max_shared = n // 16 if max_shared is None else max_shared
    index_bits = max(1, (n - 1).bit_length())
    key = _quantised_keys(values, index_bits, tags)
    if key is None:
        return None
    key.sort()
    index_mask = np.int64((1 << index_bits) - 1)
    # Neighbours with the same leading bits: the only places where the packed
    # order may differ from the values' order, or where values may be equal.
    parts, found = [], 0
    for c0 in range(0, n - 1, CHUNK):
        c1 = min(c0 + CHUNK, n - 1)
        part = np.flatnonzero((key[c0 + 1 : c1 + 1] ^ key[c0:c1]) <= index_mask) + c0
        found += part.size
        if found > max_shared:  # many ties (e.g. a categorical RDM)
            return None
        parts.append(part)
    shared = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    key &= index_mask
    order = key

    def value_at(positions: np.ndarray) -> np.ndarray:
        return values[order[positions] if tags is None else tagged[order[positions]]]

    misplaced = shared[value_at(shared + 1) < value_at(shared)]
    if misplaced.size:
        # Runs of equal leading bits are the chains of consecutive positions in
        # ``shared`` (found from it alone: no pass over all n keys).
        breaks = np.flatnonzero(np.diff(shared) != 1)
        run_starts = shared[np.r_[0, breaks + 1]]
        run_ends = shared[np.r_[breaks, shared.size - 1]] + 2
        for run in np.unique(np.searchsorted(run_starts, misplaced, side="right") - 1):
            span = np.arange(run_starts[run], run_ends[run])
            order[span] = order[span][np.argsort(value_at(span), kind="stable")]
    return order, shared


def sort_order(
    values: np.ndarray, tags: np.ndarray | None = None, tagged: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices that sort a finite float64 vector, and where its ties are.

    Why not ``np.argsort``: numpy sorts 64-bit integers with SIMD instructions
    about three times faster than it argsorts, so each value's place between
    the minimum and the maximum (its leading bits, as an order-preserving
    integer) and its index are packed into one int64 and sorted
    (:func:`packed_order`). Only neighbours that share those leading bits can
    be out of order or tied: those few are looked up and their runs sorted by
    value, so the order is exact.

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
        Indices (int64) with ``values[order]`` non-decreasing, equal values in
        the order of their indices (as a stable argsort); ``tags[order]``
        when tags are given.
    ties : ndarray
        The positions t (in sorted order) with
        ``values[order[t]] == values[order[t + 1]]``, increasing.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    packed = None
    if 2048 <= n <= 2**30:  # small: argsort is as fast; large: no room for the index
        packed = packed_order(values, tags, tagged)
    if packed is None:
        return _argsort_with_ties(values, tags)
    order, shared = packed
    positions = order[shared] if tags is None else tagged[order[shared]]
    following = order[shared + 1] if tags is None else tagged[order[shared + 1]]
    return order, shared[values[positions] == values[following]]


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


def distinct_values(values: np.ndarray, most: int = MAX_CATEGORIES) -> np.ndarray | None:
    """The sorted distinct values of a vector, or None if there are more than ``most``.

    A chunk at a time, stopping at the first chunk that brings too many: no
    sorted copy of the whole vector (``np.unique``'s), which at 10^8 values
    is 800 MB.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Finite values.
    most : int, default=MAX_CATEGORIES
        The most distinct values wanted.

    Returns
    -------
    ndarray or None
        The distinct values, increasing.
    """
    distinct = np.unique(values[:CHUNK])
    for c0 in range(CHUNK, values.size, CHUNK):
        if distinct.size > most:
            return None
        chunk = values[c0 : c0 + CHUNK]
        found = distinct[np.minimum(np.searchsorted(distinct, chunk), distinct.size - 1)] == chunk
        if not np.all(found):
            distinct = np.union1d(distinct, chunk[~found])
    return None if distinct.size > most else distinct


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
    distinct = distinct_values(values)
    if distinct is None:
        return None
    codes = np.empty(values.size, dtype=np.uint8)
    for c0 in range(0, values.size, CHUNK):
        codes[c0 : c0 + CHUNK] = np.searchsorted(distinct, values[c0 : c0 + CHUNK])
    return codes


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
