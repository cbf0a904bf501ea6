"""Linear CKA of one pair at the cost of its matrix products.

:func:`pair_statistics` gives the HSIC statistics of one pair of
representations for the linear kernel, from one of two sides:

- more stimuli than features in either representation (``n > max(p, q)``):
  the feature products ``X'X`` and ``Y'Y`` (numpy hands a product of an
  array with its own transpose to BLAS SYRK, half the multiplications of a
  GEMM) and ``X'Y``, then ``T_ab = ||Xc_a' Xc_b||_F^2``;
- otherwise the two n x n Grams (SYRK again), whose inner products are
  summed over their upper triangles in float64. Each Gram is then no larger
  than the wider input.

**No centered copies on the feature side.** ``Xc'Yc = X'Y - n m_x m_y'``
with float64 column means ``m`` (for float32 data, sums over runs of 8 rows
in float32, then in float64: their rounding stays below that of the float32
products they correct). Subtracting the rank-one term cancels digits when a
column's mean dominates its spread, so the raw products are used only for
columns with ``n m_j^2 <= sum_i x_ij^2 / 2`` (mean at most the standard
deviation: at most one bit lost). A sample of about 128 rows predicts this
before the products, and the diagonal of ``X'X`` (the exact sums of squares)
confirms it after; a representation that fails is centered explicitly
(``X - m`` in its dtype, ``m`` accumulated in float64 throughout) and its
product recomputed, the remaining offset ``m - fl(m)`` still subtracted
exactly. So float32 features around 1000 lose nothing, and zero-mean-ish
features are never copied. The Gram side does the same with the whole
representation: a raw Gram ``X X'`` is centered slab by slab in float64
(``- u 1' - 1 u' + m'm`` with ``u = X m``) when ``n |m|^2`` is at most half
its trace, and the features are centered first otherwise.

**Checks from the products.** A representation without variance, or values
so large or small that float products overflow or underflow, shows in the
diagonal of its product (sums of squares of its centered values); then
:func:`pair_statistics` returns None and the caller takes the general path
(``center_and_scale``, which rescales and names a constant input).
"""

from __future__ import annotations

import math

import numpy as np

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array, Namespace
from ._linear_hsic import linear_corrections, row_norms, squared_norm, upper_inner_products

__all__ = ["pair_statistics"]

# Raw products serve a column when n * mean^2 <= _RAW_SHARE * sum of squares.
_RAW_SHARE = 0.5
# Rows sampled to predict whether raw products will serve, and their most entries.
_SAMPLE_ROWS = 128
_SAMPLE_ENTRIES = 1 << 16
# Largest magnitudes for which products and their squares need no rescaling,
# keyed by "is float32" (float32 products overflow near 2^128 and are squared
# in float64; float64 squares of products overflow near 2^1024).
_SAFE_RANGE = {True: (2.0**-40, 2.0**40), False: (2.0**-200, 2.0**200)}
# Centered float32 data are multiplied by this (see _centered): Euler's constant,
# whose float32 mantissa has no short repeating pattern of bits.
_SPREAD = 0.5772156649015329


def column_means(X: Array, xp: Namespace, *, exact: bool = True) -> tuple[Array, bool]:
    """Column means of ``X``, shape (1, p), float64; and whether they are exact.

    Exact means are accumulated in float64 (no float64 copy of X). With
    ``exact=False``, float32 numpy data are summed in runs of 8 rows in
    float32 first (each run rounded by at most 7 ulps of its terms), then in
    float64: three times faster, and accurate enough to correct raw float32
    products, whose own rounding is larger. Centering needs exact means.
    """
    n, p = X.shape
    quick = isinstance(X, np.ndarray) and X.dtype == np.float32 and X.flags.c_contiguous
    if exact or not quick or n < 16:
        return xp.sum(X, axis=0, keepdims=True, dtype=xp.float64) / n, True
    whole = n - n % 8
    sums = X[:whole].reshape(whole // 8, 8, p).sum(axis=1).sum(axis=0, dtype=np.float64)
    if whole < n:
        sums += X[whole:].sum(axis=0, dtype=np.float64)
    return (sums / n)[None, :], False


def _offsets_look_small(X: Array, mean: np.ndarray, xp: Namespace, axis: int = 0) -> bool:
    """Whether a sample of rows shows the means below 0.7 of the spread.

    ``axis=0`` asks it of every column; ``axis=1`` of the rows' squared
    norms (the sum of the squared means against the total variance).
    """
    n, p = X.shape
    # About 128 rows, fewer for wide data (at least 16; 64k entries when wider).
    rows = min(_SAMPLE_ROWS, max(16, _SAMPLE_ENTRIES // p))
    step = max(1, n // rows)
    rows = to_numpy(xp.astype(X[::step, :], xp.float64)) - mean
    variances = np.mean(rows * rows, axis=0)
    squares = mean[0] * mean[0]
    if axis == 1:
        return bool(2.0 * np.sum(squares) <= np.sum(variances))
    return bool(np.all(2.0 * squares <= variances))


def _range_is_safe(
    centered_sums: np.ndarray, raw_sums: np.ndarray, terms: int, mean_bound: float, single: bool
) -> bool:
    """Whether sums of squares show variance, and magnitudes that products hold.

    ``centered_sums`` holds, per column (or row), the sum of ``terms``
    squared centered values, so the largest centered magnitude lies between
    ``sqrt(max / terms)`` and ``sqrt(max)``; ``raw_sums`` the same for the
    values multiplied. The representation surely varies when that lower
    bound exceeds 8 ulps of the largest value (the test of
    ``center_and_scale``).
    """
    largest, largest_raw = float(np.max(centered_sums)), float(np.max(raw_sums))
    if not (math.isfinite(largest) and math.isfinite(largest_raw) and largest > 0.0):
        return False
    lower = math.sqrt(largest / terms)
    low, high = _SAFE_RANGE[single]
    eps = float(np.finfo(np.float32 if single else np.float64).eps)
    magnitude = mean_bound + math.sqrt(largest)
    return low <= lower and math.sqrt(largest_raw) <= high and lower > 8.0 * eps * magnitude


def pair_statistics(
    X: Array, Y: Array, debiased: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(T, r.r, s) of the linear kernel for one validated pair, or None.

    Parameters
    ----------
    X, Y : arrays of shape (n_samples, p) and (n_samples, q)
        Validated representations, one namespace, one floating dtype.
    debiased : bool
        Statistics of the Grams with a zero diagonal (Song et al. 2012).

    Returns
    -------
    tuple of ndarray or None
        As ``linear_statistics`` for ``[X, Y]``; None when the data need
        the general path (no variance, or magnitudes that float products
        cannot hold without rescaling).
    """
    xp = get_namespace(X, Y)
    # Overflow and underflow are found in the results and sent to the general path.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if X.shape[0] > max(X.shape[1], Y.shape[1]):
            return _feature_pair(X, Y, debiased, xp)
        return _gram_pair(X, Y, debiased, xp)


def _side(
    A: Array, mean: Array, raw: bool, xp: Namespace
) -> tuple[Array, Array, np.ndarray, np.ndarray] | None:
    """One representation's product, raw or after centering.

    Returns the array multiplied, its remaining column offset (float64), its
    float64 product minus ``n offset' offset`` (the centered product) and the
    sums of squares of the values multiplied; None when raw products were
    asked for but the exact sums of squares show a dominant mean.
    """
    n = A.shape[0]
    if raw:
        shifted, offset = A, mean
    else:
        shifted, offset = _centered(A, mean, xp)
    product = xp.astype(matrix_transpose(shifted, xp) @ shifted, xp.float64, copy=False)  # SYRK
    raw_sums = to_numpy(xp.linalg.diagonal(product))
    offset_squares = n * to_numpy(offset)[0] ** 2
    if raw and not np.all(offset_squares <= _RAW_SHARE * raw_sums):
        return None
    return shifted, offset, _minus_outer(product, n, offset, offset, xp), raw_sums


def _centered(A: Array, mean: Array, xp: Namespace) -> tuple[Array, Array]:
    """``A`` minus its rounded means, and the offset left (float64), float32 data rescaled.

    The differences are exact, so float32 data far from zero become multiples
    of one ulp of their mean: squares of such values have skewed low bits,
    and summing them in float32 rounds with a bias (2e-7 of a Gram's norm at
    an offset of 1000). Multiplying by a factor without a bit pattern of its
    own spreads the low bits again (a tenth of that; a factor such as 1/3 or
    1/sqrt(2) keeps a pattern, and most of the bias). CKA does not change
    when a representation is scaled.
    """
    rounded = xp.astype(mean, A.dtype)
    shifted, offset = A - rounded, mean - xp.astype(rounded, xp.float64)
    if A.dtype != xp.float32:
        return shifted, offset
    factor = np.float32(_SPREAD)
    if isinstance(shifted, np.ndarray):
        shifted *= factor  # in place: a new array
    else:
        shifted = shifted * float(factor)
    return shifted, offset * float(factor)


def _minus_outer(product: Array, n: int, a: Array, b: Array, xp: Namespace) -> Array:
    """``product - n a' b`` for float64 row vectors a and b (in place for numpy)."""
    correction = matrix_transpose(n * a, xp) @ b
    if isinstance(product, np.ndarray):
        product -= correction
        return product
    return product - correction


def _feature_pair(
    X: Array, Y: Array, debiased: bool, xp: Namespace
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    n = X.shape[0]
    single = X.dtype == xp.float32
    traces = np.zeros((2, 2))
    multiplied, offsets = [], []
    for a, A in enumerate((X, Y)):
        # The debiased statistic needs the centered rows' norms: center explicitly.
        mean, exact = column_means(A, xp, exact=debiased)
        raw = not debiased and _offsets_look_small(A, to_numpy(mean), xp)
        side = _side(A, mean, raw, xp) if raw else None
        if side is None:
            if not exact:
                mean, exact = column_means(A, xp)
            side = _side(A, mean, False, xp)
        mean_np = to_numpy(mean)
        shifted, offset, product, raw_sums = side
        centered_sums = to_numpy(xp.linalg.diagonal(product))
        if not _range_is_safe(centered_sums, raw_sums, n, float(np.max(np.abs(mean_np))), single):
            return None
        traces[a, a] = squared_norm(product, xp)
        multiplied.append(shifted)
        offsets.append(offset)
    cross = xp.astype(matrix_transpose(multiplied[0], xp) @ multiplied[1], xp.float64, copy=False)
    cross = _minus_outer(cross, n, offsets[0], offsets[1], xp)
    traces[0, 1] = traces[1, 0] = squared_norm(cross, xp)
    if not np.all(np.isfinite(traces)):
        return None
    return linear_corrections(traces, multiplied, debiased, xp)


def _gram_pair(
    X: Array, Y: Array, debiased: bool, xp: Namespace
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    grams, centerings, norms = [], [], []
    single = X.dtype == xp.float32
    for A in (X, Y):
        gram = centering = None
        mean, exact = column_means(A, xp, exact=debiased)
        mean_np = to_numpy(mean)
        if not debiased and isinstance(A, np.ndarray) and _offsets_look_small(A, mean_np, xp, 1):
            # Raw Gram, centered slab by slab: K - u 1' - 1 u' + c.
            gram = A @ A.T  # SYRK
            raw_sums = np.diag(gram).astype(np.float64)
            c = float(mean_np[0] @ mean_np[0])
            if A.shape[0] * c <= _RAW_SHARE * float(np.sum(raw_sums)):
                u = (A @ mean_np[0].astype(A.dtype)).astype(np.float64)
                centering = (u, c)
                sums = raw_sums - 2.0 * u + c  # squared norms of the centered rows
            else:
                gram = None
        if gram is None:
            if not exact:
                mean, exact = column_means(A, xp)
                mean_np = to_numpy(mean)
            centered = _centered(A, mean, xp)[0]  # the offset left adds 1e-9: dropped
            gram = centered @ matrix_transpose(centered, xp)  # n x n, SYRK in numpy
            raw_sums = sums = to_numpy(xp.astype(xp.linalg.diagonal(gram), xp.float64))
            if debiased:
                norms.append(row_norms(centered, xp))
            del centered  # one centered copy at a time
        bound = float(np.max(np.abs(mean_np)))
        if not _range_is_safe(sums, raw_sums, A.shape[1], bound, single):
            return None
        grams.append(gram)
        centerings.append(centering)
    traces = upper_inner_products(grams, xp, zero_diagonal=debiased, centerings=centerings)
    if not np.all(np.isfinite(traces)):
        return None
    if not debiased:
        return traces, np.zeros((2, 2)), np.zeros(2)
    norms = np.stack(norms)
    return traces, norms @ norms.T, -norms.sum(axis=1)
