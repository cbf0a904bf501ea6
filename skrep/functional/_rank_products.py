"""The RDM comparisons over long vectors in bounded memory: compact ranks, chunked products.

At 14 000 conditions an RDM has 10^8 pairs, 800 MB in float64. The
comparisons are normalised inner products of a per-RDM transform (centred
values, centred ranks, whitened values), so the transform is never kept
whole: it is made a chunk of pairs at a time, for every RDM of both stacks,
and the products of the chunks are accumulated in float64 (the sums of
squares too). What must be computed over the whole vector first is small and
made once per RDM:

- ranks (Spearman, rho-a): twice the average rank, an integer, in int32
  (int64 beyond 2^30 pairs) -- exact, where float32 ranks are exact only up
  to 2^24 values (2^23 with the half-integers of ties); 4 bytes per pair;
- the row means of the condition x condition matrix (the whitened methods):
  n numbers per RDM.

Ranking a vector takes one sort of int64 keys (:func:`._ranks.packed_order`;
8 bytes per pair while it runs), then one pass of chunks that reads the
values in sorted order, finds the runs of ties (a run may span chunks) and
writes each position's doubled average rank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from sklearn import get_config

from ._ranks import CHUNK, few_categories, packed_order
from ._rdm_pairs import n_conditions_of

__all__ = [
    "in_threads",
    "rank_dtype",
    "doubled_ranks",
    "rank_rows",
    "products",
    "centred_rank_chunks",
    "value_chunks",
    "whitened_chunks",
]

# Fewest values (items x values per item) worth a thread pool: starting one
# costs milliseconds, which small RDMs (bootstrap and permutation loops over
# 100 stimuli) would pay on every call.
_THREADED_VALUES = 1 << 20
#: Bytes of float64 chunks (all RDMs of both sides together) per product step.
_CHUNK_BYTES = 1 << 23


def _working_bytes() -> int:
    return int(get_config()["working_memory"] * 2**20)


def in_threads(
    function: Callable[[Any], Any],
    items: Iterable[Any],
    values_per_item: int,
    bytes_per_item: int = 0,
) -> list[Any]:
    """``[function(item) for item in items]``, on all cores when the work is large.

    The rank helpers spend their time in numpy sorts and ufuncs, which release
    the GIL, so threads share the rows without copying them. BLAS is held to
    one thread meanwhile: its own threads, started from each of ours, would
    fight for the same cores (twice as slow on two cores). Items that take
    ``bytes_per_item`` of temporaries run at most as many at once as
    sklearn's ``working_memory`` holds.
    """
    items = list(items)
    if len(items) < 2 or len(items) * values_per_item < _THREADED_VALUES:
        return [function(item) for item in items]
    from joblib import Parallel, delayed, effective_n_jobs
    from threadpoolctl import threadpool_limits

    jobs = min(len(items), effective_n_jobs(-1))
    if bytes_per_item:
        jobs = min(jobs, _working_bytes() // bytes_per_item)
    if jobs < 2:
        return [function(item) for item in items]
    with threadpool_limits(1, user_api="blas"):
        return Parallel(n_jobs=jobs, prefer="threads")(delayed(function)(item) for item in items)


def rank_dtype(m: int) -> type[np.signedinteger]:
    """The integer type of the doubled ranks (up to 2 m) of m values."""
    return np.int32 if 2 * m < 2**31 else np.int64


def _run_end(values: np.ndarray, order: np.ndarray, t: int, value: float) -> int:
    """One past the last sorted position >= t that holds ``value`` (a run of ties)."""
    step = 64
    while t < values.size:
        window = values[order[t : t + step]]
        unequal = np.flatnonzero(window != value)
        if unequal.size:
            return t + int(unequal[0])
        t += window.size
        step *= 2
    return values.size


def _doubled_from_order(values: np.ndarray, order: np.ndarray, out: np.ndarray, chunk: int) -> None:
    """``out[order[t]] = first(t) + end(t) + 1``: ranks first+1..end of t's run of ties, doubled."""
    m = values.size
    run_start, known = 0, (-1, 0)  # start of the current run; (start, end) of a run looked ahead
    previous = None
    for t0 in range(0, m, chunk):
        t1 = min(t0 + chunk, m)
        index = order[t0:t1]
        ordered = values[index]
        new = np.empty(t1 - t0, dtype=bool)
        new[0] = previous is None or ordered[0] != previous
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        positions = np.arange(t0, t1, dtype=np.int64)
        first = np.where(new, positions, 0)
        first[0] = t0 if new[0] else run_start
        np.maximum.accumulate(first, out=first)
        run_start, previous = int(first[-1]), ordered[-1]
        if known[0] != run_start:  # the last run of this chunk: where does it end?
            known = (run_start, _run_end(values, order, t1, previous))
        end = np.full(t1 - t0, known[1], dtype=np.int64)
        end[:-1] = np.where(new[1:], positions[:-1] + 1, known[1])
        end = np.minimum.accumulate(end[::-1])[::-1]
        first += end
        first += 1
        out[index] = first


def doubled_ranks(
    values: np.ndarray, out: np.ndarray | None = None, chunk: int = CHUNK
) -> np.ndarray:
    """Twice the average ranks (1..m, ties their mean) of a finite vector, as integers.

    ``scipy.stats.rankdata(values) * 2``, exactly, in :func:`rank_dtype`.
    A vector of few distinct values (a categorical model RDM) is ranked by
    counting; any other by one sort (:func:`._ranks.packed_order`, or
    ``np.argsort`` where that does not pay) and one pass over it in chunks.

    Parameters
    ----------
    values : ndarray of shape (m,)
        Finite float64 values.
    out : ndarray of shape (m,), default=None
        Where to write them (of :func:`rank_dtype`).
    chunk : int, default=CHUNK
        Values per step of the pass.

    Returns
    -------
    ndarray of shape (m,)
        The doubled ranks.
    """
    m = values.size
    out = np.empty(m, dtype=rank_dtype(m)) if out is None else out
    codes = few_categories(values)
    if codes is not None:
        counts = np.bincount(codes)
        table = (2 * (np.cumsum(counts) - counts) + counts + 1).astype(out.dtype)
        np.take(table, codes, out=out)
        return out
    packed = packed_order(values) if 2048 <= m <= 2**30 else None
    if packed is None:  # small, or many ties: argsort (ties in any order), then the pass
        _doubled_from_order(values, np.argsort(values), out, chunk)
        return out
    # Few ties (at most the positions that share their leading bits): the
    # t-th smallest has doubled rank 2 t + 2, except in the runs of ties.
    order, shared = packed
    ties = shared[values[order[shared]] == values[order[shared + 1]]]
    for c0 in range(0, m, chunk):
        c1 = min(c0 + chunk, m)
        doubled = np.arange(2 * c0 + 2, 2 * c1 + 2, 2, dtype=out.dtype)
        out[order[c0:c1]] = doubled
    if ties.size:
        breaks = np.flatnonzero(np.diff(ties) != 1)
        starts = ties[np.r_[0, breaks + 1]]
        ends = ties[np.r_[breaks, ties.size - 1]] + 2  # one past each run
        lengths = ends - starts
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions += np.arange(positions.size)
        out[order[positions]] = np.repeat(starts + ends + 1, lengths)
    return out


def rank_rows(v: np.ndarray) -> np.ndarray:
    """:func:`doubled_ranks` of each row of a (n_rdms, m) stack, once per RDM.

    Parameters
    ----------
    v : ndarray of shape (n_rdms, m)
        Finite float64 RDM vectors.

    Returns
    -------
    ndarray of shape (n_rdms, m)
        The doubled ranks of each row (:func:`rank_dtype`).
    """
    ranks = np.empty(v.shape, dtype=rank_dtype(v.shape[1]))

    def rank_row(i: int) -> None:
        doubled_ranks(v[i], out=ranks[i])

    in_threads(rank_row, range(v.shape[0]), v.shape[1], bytes_per_item=8 * v.shape[1])
    return ranks


def _chunk_size(n_rows: int) -> int:
    budget = min(_CHUNK_BYTES, _working_bytes())
    return max(4096, budget // (8 * n_rows))


def products(
    chunks_a: Iterator[np.ndarray], chunks_b: Iterator[np.ndarray], n_a: int, n_b: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inner products of the rows of two transforms given in matching chunks, in float64.

    Parameters
    ----------
    chunks_a, chunks_b : iterator of ndarray
        The chunks (n_a, k) and (n_b, k) of the same pairs, in the same order.
    n_a, n_b : int
        The number of RDMs on each side.

    Returns
    -------
    dots : ndarray of shape (n_a, n_b)
        Sums over the chunks of ``A @ B.T``.
    squares_a, squares_b : ndarray of shape (n_a,) and (n_b,)
        Each row's sum of squares (one BLAS dot per row and chunk: blocked
        sums, where einsum's running sum loses digits over 10^5 terms).
    """
    dots = np.zeros((n_a, n_b))
    squares_a, squares_b = np.zeros(n_a), np.zeros(n_b)
    for A, B in zip(chunks_a, chunks_b, strict=True):
        dots += A @ B.T
        squares_a += [row @ row for row in A]
        squares_b += [row @ row for row in B]
    return dots, squares_a, squares_b


def centred_rank_chunks(ranks: np.ndarray, n_rows: int) -> Iterator[np.ndarray]:
    """Chunks of the centred ranks ``r - (m + 1) / 2`` (half-integers, exact in float64).

    Parameters
    ----------
    ranks : ndarray of shape (n_rdms, m)
        Doubled ranks (:func:`rank_rows`).
    n_rows : int
        The number of RDMs of both sides (sets the chunk size).

    Yields
    ------
    ndarray of shape (n_rdms, k)
        float64.
    """
    m = ranks.shape[1]
    step = _chunk_size(n_rows)
    for c0 in range(0, m, step):
        chunk = ranks[:, c0 : c0 + step].astype(np.float64)
        chunk -= m + 1
        chunk *= 0.5
        yield chunk


def value_chunks(
    v: np.ndarray, centred: bool, n_rows: int, ranges: Iterable[tuple[int, int]] | None = None
) -> Iterator[np.ndarray]:
    """Chunks of the RDM vectors, centred (a constant one to exact zeros) or not.

    Parameters
    ----------
    v : ndarray of shape (n_rdms, m)
        The RDM vectors.
    centred : bool
        Subtract each row's mean (as ``rdm_compare._centered``).
    n_rows : int
        The number of RDMs of both sides (sets the chunk size).
    ranges : iterable of (int, int), default=None
        The pair ranges [p0, p1) of the chunks; None: equal chunks.

    Yields
    ------
    ndarray of shape (n_rdms, k)
        float64 copies.
    """
    if ranges is None:
        step = _chunk_size(n_rows)
        ranges = ((c0, c0 + step) for c0 in range(0, v.shape[1], step))
    if centred:
        means = v.mean(axis=1, keepdims=True)
        constant = np.max(v, axis=1) == np.min(v, axis=1)
    for p0, p1 in ranges:
        chunk = v[:, p0:p1] - means if centred else v[:, p0:p1].copy()
        if centred:
            chunk[constant] = 0.0
        yield chunk


def _condition_blocks(n: int, step: int) -> list[tuple[int, int, int, int]]:
    """Blocks [i0, i1) of whole condition rows, about ``step`` pairs each, and their pairs."""
    blocks, i0, p0 = [], 0, 0
    while i0 < n - 1:
        i1, p1 = i0 + 1, p0 + n - 1 - i0
        while i1 < n - 1 and p1 - p0 + n - 1 - i1 <= step:
            p1 += n - 1 - i1
            i1 += 1
        blocks.append((i0, i1, p0, p1))
        i0, p0 = i1, p1
    return blocks


def _conditions_of_pairs(n: int, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
    """The two conditions of each pair of condition rows i0..i1-1, condensed order."""
    lengths = n - 1 - np.arange(i0, i1)
    rows = np.repeat(np.arange(i0, i1), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows, np.arange(rows.size) - starts + rows + 1


def whitened_chunks(v: np.ndarray, centred: bool, n_rows: int) -> Iterator[np.ndarray]:
    """Chunks of the whitened coordinates of ``rdm_compare``'s cov methods (see its notes).

    The double-centred ``G = -1/2 H D H``: its upper triangle times sqrt(2),
    then its diagonal (the last chunk). The row means of D are summed a block
    of condition rows at a time first (one pass), then the coordinates made
    chunk by chunk (a second pass).

    Parameters
    ----------
    v : ndarray of shape (n_rdms, m)
        The RDM vectors.
    centred : bool
        Whiten the centred vectors (corr_cov) instead of the raw ones.
    n_rows : int
        The number of RDMs of both sides (sets the chunk size).

    Yields
    ------
    ndarray
        float64 chunks (n_rdms, k), then the diagonal part (n_rdms, n).
    """
    n = n_conditions_of(v.shape[1])
    blocks = _condition_blocks(n, _chunk_size(n_rows))
    ranges = [(p0, p1) for _, _, p0, p1 in blocks]
    sums = np.zeros((v.shape[0], n))
    chunks = value_chunks(v, centred, n_rows, ranges)
    for (i0, i1, _, _), chunk in zip(blocks, chunks, strict=True):
        rows, columns = _conditions_of_pairs(n, i0, i1)
        for k, row in enumerate(chunk):
            sums[k] += np.bincount(rows, row, n) + np.bincount(columns, row, n)
    row_means = sums / n
    grand_mean = row_means.sum(axis=1, keepdims=True) / n
    chunks = value_chunks(v, centred, n_rows, ranges)
    for (i0, i1, _, _), chunk in zip(blocks, chunks, strict=True):
        rows, columns = _conditions_of_pairs(n, i0, i1)
        chunk -= row_means[:, rows]
        chunk -= row_means[:, columns]
        chunk += grand_mean
        chunk *= -0.5 * np.sqrt(2.0)
        yield chunk
    yield -0.5 * (grand_mean - 2.0 * row_means)
