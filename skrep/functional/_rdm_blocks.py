"""The values of :func:`compute_rdm`, written into the condensed RDM block by block.

A square n x n matrix is never formed: the distances of a block of rows with
all later rows are one matrix product (``A[rows] @ B[later].T``), their upper
triangle is copied into its slice of the condensed output (the rows of a block
are contiguous there), and the block is dropped before the next one is made.
Blocks are sized as :func:`sklearn.metrics.pairwise_distances_chunked` sizes
its chunks, from ``sklearn.get_config()["working_memory"]``, and also at most a
quarter of the condensed output (at least 1 MiB): with the output itself, the
peak stays under twice the condensed RDM at any working memory. The last
blocks, with fewer later rows, take more rows each.

Identical patterns (:mod:`._duplicate_patterns`) must share every distance
bit for bit, and a matrix product need not give one pattern's products the
same last bits in two blocks. The distances are therefore computed once per
pair of *distinct* patterns, block by block over the distinct rows, and each
one is written to every pair of conditions it stands for (scattered: no
condensed RDM of the distinct patterns is kept), and the pairs of copies get 0.

Arrays other than numpy's and torch's (array_api_strict, immutable ones) need
not take assignments to slices: their blocks are concatenated instead (twice
the memory), and ``out=`` is refused for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import array_api_compat
import numpy as np
from sklearn import get_config

from .._array import get_namespace, is_torch_array, matrix_transpose, to_numpy
from .._typing import Array
from ._duplicate_patterns import _expansion, _first_occurrences
from ._rdm_input import (
    check_lowest_distances,
    host_max,
    numpy_float,
    power_of_two_scales,
    rescaled_distances,
    times_per_dataset,
)
from ._rdm_pairs import condition_means, fold_means, take

__all__ = ["rdm_values", "block_budget"]

_MIB = 2**20
#: Bytes per entry of a block, per data set and byte of the float: the product(s),
#: the squared distances, the upper triangle and its finished copy; plus the mask.
_BLOCK_COPIES = 4


def block_budget(out_bytes: int) -> int:
    """Bytes the temporaries of one block may take.

    sklearn's ``working_memory`` (MiB, as in ``pairwise_distances_chunked``),
    at most a quarter of the condensed output, but not below 1 MiB (nor the
    working memory): one row per block is the least, whatever the budget.

    Parameters
    ----------
    out_bytes : int
        Size of the condensed output in bytes.

    Returns
    -------
    int
        The budget in bytes.
    """
    working = int(get_config()["working_memory"] * _MIB)
    return max(1, min(working, max(out_bytes // 4, _MIB)))


def _mutable(A: object) -> bool:
    """Whether A takes assignments to slices and index arrays (numpy, torch): blocks go in place.

    Other array-API arrays (array_api_strict; immutable ones) get their blocks
    concatenated instead, at twice the memory.
    """
    return isinstance(A, np.ndarray) or is_torch_array(A)


def row_start(i: int, n: int) -> int:
    """Position of row i's first pair (i, i + 1) in a condensed RDM of n conditions."""
    return i * n - i * (i + 1) // 2


def _row_blocks(n: int, bytes_per_entry: int, budget: int) -> Iterator[tuple[int, int]]:
    """Blocks [r0, r1) of rows 0..n-2, each with its later rows within ``budget``."""
    # sklearn.utils.get_chunk_n_rows's rule, per block (the later rows shrink),
    # without its warning: one row is always the fallback.
    r0 = 0
    while r0 < n - 1:
        rows = budget // ((n - r0) * bytes_per_entry)
        r1 = r0 + max(1, min(n - 1 - r0, rows))
        yield r0, r1
        r0 = r1


def _upper_values(block: Array) -> Array:
    """The entries above the diagonal of (..., b, m) blocks whose columns start at their rows."""
    xp = get_namespace(block)
    b, m = block.shape[-2:]
    above = np.arange(m)[None, :] > np.arange(b)[:, None]
    if _mutable(block):
        return block[..., xp.asarray(above, device=array_api_compat.device(block))]
    # The array API takes a boolean index only as the sole index: integer positions.
    flat = xp.reshape(block, (*block.shape[:-2], b * m))
    return take(flat, np.flatnonzero(above), axis=-1)


def _distinct_rows(patterns: Array) -> tuple[Array, np.ndarray | None]:
    """The distinct conditions (as :func:`.distinct_patterns`) and each condition's index."""
    xp = get_namespace(patterns)
    n_conditions = patterns.shape[1]
    if n_conditions < 3:
        return patterns, None
    rows = xp.reshape(xp.permute_dims(patterns, (1, 0, 2)), (n_conditions, -1))
    first, inverse = _first_occurrences(rows)
    if first.size == n_conditions or first.size < 2:
        return patterns, None
    device = array_api_compat.device(patterns)
    return xp.take(patterns, xp.asarray(first, device=device), axis=1), inverse


class _Scatter:
    """Writes the condensed distances of distinct patterns to every pair they stand for."""

    def __init__(self, inverse: np.ndarray, out: Array) -> None:
        self.inverse = inverse.astype(np.int64)
        self.n = inverse.size
        self.n_distinct = int(inverse.max()) + 1
        members = np.argsort(self.inverse, kind="stable")
        sizes = np.bincount(self.inverse, minlength=self.n_distinct)
        self.members = np.split(members, np.cumsum(sizes)[:-1])
        self.starts = row_start(np.arange(self.n, dtype=np.int64), self.n)
        self.out = out
        self.xp = get_namespace(out)
        self.device = array_api_compat.device(out)

    def _put(
        self, positions: np.ndarray, values: Array | None = None, indices: np.ndarray | None = None
    ) -> None:
        """``out[..., positions] = values[..., indices]``, or 0 without values."""
        if positions.size == 0:
            return
        if isinstance(self.out, np.ndarray):
            self.out[..., positions] = 0.0 if values is None else values[..., indices]
            return
        positions = self.xp.asarray(positions, device=self.device)
        if values is None:
            self.out[..., positions] = 0.0
        else:
            indices = self.xp.asarray(indices, device=self.device)
            self.out[..., positions] = self.xp.take(values, indices, axis=-1)

    def zeros(self) -> None:
        """Write 0 to the pairs of identical patterns (the last distinct row has no block)."""
        for members in self.members:
            for k, i in enumerate(members[:-1]):
                self._put(self.starts[i] + members[k + 1 :] - i - 1)

    def __call__(self, values: Array, a0: int, a1: int) -> None:
        """Write ``values``, the pairs (a, b > a) of distinct rows a0..a1-1, condensed."""
        inverse, starts = self.inverse, self.starts
        base = row_start(a0, self.n_distinct)
        for a in range(a0, a1):
            offset = row_start(a, self.n_distinct) - base - a - 1  # of pair (a, b): offset + b
            for i in self.members[a]:
                later = inverse[i + 1 :]  # pairs (i, j > i), at starts[i] + j - i - 1
                above = np.flatnonzero(later > a)
                self._put(starts[i] + above, values, offset + later[above])
                earlier = np.flatnonzero(inverse[:i] > a)  # pairs (j < i, i), inverse[j] > a
                self._put(starts[earlier] + i - earlier - 1, values, offset + inverse[earlier])


def _written(
    out: Array | None,
    values: Callable[[int, int], Array],
    n: int,
    like: Array,
    inverse: np.ndarray | None = None,
    add: bool = False,
) -> Array:
    """``values(r0, r1)`` of the row blocks of n (distinct) rows, written (or added) into ``out``.

    ``out`` None (namespaces other than numpy and torch): the blocks
    concatenated, expanded to duplicated conditions by one ``take``.
    """
    itemsize = np.dtype(numpy_float(like)).itemsize
    n_all = n if inverse is None else inverse.size
    bytes_per_entry = _BLOCK_COPIES * itemsize * like.shape[0] + 1
    budget = block_budget(itemsize * like.shape[0] * n_all * (n_all - 1) // 2)
    blocks = _row_blocks(n, bytes_per_entry, budget)
    if out is None:
        xp = get_namespace(like)
        rdm = xp.concat([values(r0, r1) for r0, r1 in blocks], axis=-1)
        if inverse is None:
            return rdm
        zero = xp.zeros((*rdm.shape[:-1], 1), dtype=rdm.dtype, device=array_api_compat.device(rdm))
        return take(xp.concat([rdm, zero], axis=-1), _expansion(inverse, n), axis=-1)
    scatter = None if inverse is None else _Scatter(inverse, out)
    for r0, r1 in blocks:
        block = values(r0, r1)
        if scatter is not None:
            scatter(block, r0, r1)
        elif add:
            out[..., row_start(r0, n) : row_start(r1, n)] += block
        else:
            out[..., row_start(r0, n) : row_start(r1, n)] = block
        del block
    if scatter is not None:
        scatter.zeros()
    return out


def _squared_block(AP: Array, B: Array, diagonal: Array, r0: int, r1: int, same: bool) -> Array:
    """``(a_i - a_j) P (b_i - b_j)'`` for rows i in [r0, r1), columns j >= r0 (as pairwise)."""
    xp = get_namespace(AP)
    kernel = AP[:, r0:r1, :] @ matrix_transpose(B[:, r0:, :], xp)
    square = diagonal[:, r0:r1, None] + diagonal[:, None, r0:]
    square -= kernel
    if same:  # A B' symmetric: its transpose is itself
        square -= kernel
        return square
    del kernel
    square -= matrix_transpose(AP[:, r0:, :] @ matrix_transpose(B[:, r0:r1, :], xp), xp)
    return square


def _diagonal(AP: Array, B: Array, step: int = 256) -> Array:
    """``sum_k AP[..., i, k] B[..., i, k]``: the diagonal of ``AP @ B.T``, by small matrix products.

    Products of the same kind as the blocks' off-diagonal entries (the
    in-memory path took the diagonal of its one product), so that the
    cancellation in ``d_i + d_j - 2 k_ij`` between nearly identical patterns
    behaves as it did.
    """
    xp = get_namespace(AP)
    n = AP.shape[1]
    parts = []
    for i0 in range(0, n, step):
        i1 = min(i0 + step, n)  # the array API leaves out-of-bounds slices unspecified
        products = AP[:, i0:i1, :] @ matrix_transpose(B[:, i0:i1, :], xp)
        parts.append(xp.linalg.diagonal(products))
    return xp.concat(parts, axis=-1)


def _centered(A: Array, owned: bool) -> Array:
    """A minus its mean pattern (as pairwise), in place when A is ours (``owned``)."""
    xp = get_namespace(A)
    # The distances do not change when all patterns move together; centering
    # them first keeps float32 from cancelling when responses share an offset.
    mean = xp.mean(A, axis=-2, keepdims=True)
    if not owned:
        return A - mean
    A -= mean
    return A


def unit_patterns(patterns: Array, method: str) -> Array:
    """Patterns (centred for "correlation") of unit norm, after checking they have a direction.

    Parameters
    ----------
    patterns : array of shape (n_datasets, n_conditions, n_channels)
        Condition patterns.
    method : str
        "correlation" or "cosine".

    Returns
    -------
    array
        The unit vectors, in the patterns' namespace and dtype.
    """
    xp = get_namespace(patterns)
    if method == "correlation" and patterns.shape[-1] < 2:
        raise ValueError(
            f"method='correlation' needs at least 2 channels (1 - Pearson r of one value per "
            f"pattern is undefined); X has {patterns.shape[-1]}."
        )
    largest = host_max(patterns, 1)
    if method == "correlation":
        constant = to_numpy(xp.max(patterns, axis=-1) == xp.min(patterns, axis=-1))
    else:
        constant = largest == 0.0
    flat = np.flatnonzero(np.asarray(constant).ravel())
    if flat.size:
        raise ValueError(
            f"Condition {int(flat[0] % patterns.shape[1])} has a constant pattern in X "
            f"({'all its values equal' if method == 'correlation' else 'all zero'}), so its "
            f"{method} distance is undefined; expected patterns that vary across channels."
        )
    # Scale-free distances: patterns far from unit scale are brought to it
    # (exactly), so that their sums of squares neither overflow nor underflow.
    scales = power_of_two_scales(largest, numpy_float(patterns))
    if not np.all(scales == 1.0):
        patterns = patterns * xp.asarray(
            scales[..., None], dtype=patterns.dtype, device=array_api_compat.device(patterns)
        )
    if method == "correlation":
        patterns = patterns - xp.mean(patterns, axis=-1, keepdims=True)
    norms = xp.sqrt(xp.sum(patterns * patterns, axis=-1, keepdims=True))
    return patterns / norms


def _empty(X: Array, n: int) -> Array:
    xp = get_namespace(X)
    shape = (X.shape[0], n * (n - 1) // 2)
    return xp.empty(shape, dtype=X.dtype, device=array_api_compat.device(X))


def rdm_values(
    X: Array,
    method: str,
    conditions: np.ndarray | None,
    order: np.ndarray | None,
    runs: np.ndarray | None,
    P: Array | None,
    p_scales: np.ndarray,
    divide: bool,
    out: Array | None = None,
) -> Array:
    """The condensed RDMs of validated (n_datasets, n_observations, n_channels) X, by blocks.

    Parameters
    ----------
    X : array of shape (n_datasets, n_observations, n_channels)
        The validated responses (no graph).
    method : str
        The RDM method.
    conditions, order, runs : ndarray or None
        The validated labels, the sorted distinct conditions, the runs.
    P : array or None
        The checked precision at unit scale.
    p_scales : ndarray
        The powers of two P was multiplied by.
    divide : bool
        Whether the distances are divided by the number of channels.
    out : array of shape (n_datasets, n_pairs), default=None
        Where to write them (checked by :func:`check_out`); None allocates.

    Returns
    -------
    array of shape (n_datasets, n_pairs)
        ``out``, filled.
    """
    xp = get_namespace(X)
    n_channels = X.shape[-1]
    n = X.shape[1] if order is None else order.size
    if method in ("correlation", "cosine"):
        patterns, inverse = _distinct_rows(condition_means(X, conditions, order, xp))
        unit = unit_patterns(patterns, method)
        del patterns
        out = _empty(X, n) if out is None and _mutable(X) else out

        def angular(r0: int, r1: int) -> Array:
            products = unit[:, r0:r1, :] @ matrix_transpose(unit[:, r0:, :], xp)
            values = xp.clip(1.0 - _upper_values(products), min=0.0, max=2.0)
            return values / n_channels if divide else values

        return _written(out, angular, unit.shape[1], X, inverse)
    # Exact rescaling by powers of two (see _rdm_input): squares of data at
    # 1e+-200 would overflow or underflow, their distances need not.
    x_scales = power_of_two_scales(host_max(X, 2), numpy_float(X))
    if not np.all(x_scales == 1.0):
        X = times_per_dataset(X, x_scales)
    factors = [1.0 / x_scales] * (1 if method == "euclidean" else 2) + [1.0 / p_scales]
    if method == "crossnobis":
        out = _empty(X, n) if out is None and _mutable(X) else out
        n_folds, rdm = _crossnobis(out, X, conditions, order, runs, P, n)
        return _finish_crossnobis(rdm, n_folds, n_channels if divide else 1, factors)
    patterns, inverse = _distinct_rows(condition_means(X, conditions, order, xp))
    A = _centered(patterns, owned=patterns is not X)
    del patterns
    AP = A if P is None else A @ P
    diagonal = _diagonal(AP, A)
    out = _empty(X, n) if out is None and _mutable(X) else out
    extremes = []

    def squared(r0: int, r1: int) -> Array:
        values = _upper_values(_squared_block(AP, A, diagonal, r0, r1, P is None))
        if method == "mahalanobis":
            low = np.asarray(to_numpy(xp.min(values, axis=-1)), dtype=np.float64)
            extremes.append((low, host_max(values, 1)))
        values = xp.clip(values, min=0.0)
        if method == "euclidean":
            values = xp.sqrt(values)
        if divide:
            values = values / n_channels
        return rescaled_distances(values, factors, method)

    out = _written(out, squared, A.shape[1], X, inverse)
    if extremes:
        lowest = np.min(np.stack([low for low, _ in extremes]), axis=0)
        largest = np.max(np.stack([high for _, high in extremes]), axis=0)
        eps = float(xp.finfo(X.dtype).eps)
        check_lowest_distances(lowest, largest, A.shape[1] * (A.shape[1] - 1) // 2, eps)
    return out


def _crossnobis(
    out: Array | None,
    X: Array,
    conditions: np.ndarray | None,
    order: np.ndarray | None,
    runs: np.ndarray,
    P: Array | None,
    n: int,
) -> tuple[int, Array]:
    """The number of folds and the sum over them of the cross-products (in ``out`` if given)."""
    xp = get_namespace(X)
    total = None
    for fold, (train, test) in enumerate(fold_means(X, conditions, order, runs, xp)):
        A, B = _centered(train, owned=True), _centered(test, owned=True)
        del train, test
        AP = A if P is None else A @ P
        del A
        diagonal = _diagonal(AP, B)

        def cross(r0: int, r1: int, AP: Array = AP, B: Array = B, d: Array = diagonal) -> Array:
            return _upper_values(_squared_block(AP, B, d, r0, r1, False))

        part = _written(out, cross, n, X, add=fold > 0)
        total = part if total is None or out is not None else total + part
        del AP, B, diagonal, cross, part
    return fold + 1, total


def _finish_crossnobis(out: Array, n_folds: int, divisor: int, factors: list[np.ndarray]) -> Array:
    """Average over the folds, divide, rescale: in place, a slice at a time (numpy, torch)."""
    if not _mutable(out):
        out = out / n_folds
        out = out / divisor if divisor != 1 else out
        return rescaled_distances(out, factors, "crossnobis")
    itemsize = np.dtype(numpy_float(out)).itemsize
    n_pairs = out.shape[-1]
    step = max(1, block_budget(itemsize * out.shape[0] * n_pairs) // (3 * itemsize * out.shape[0]))
    for c0 in range(0, n_pairs, step):
        values = out[..., c0 : c0 + step] / n_folds
        if divisor != 1:
            values = values / divisor
        out[..., c0 : c0 + step] = rescaled_distances(values, factors, "crossnobis")
    return out
