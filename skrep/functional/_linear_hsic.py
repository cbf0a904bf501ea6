"""HSIC statistics of the linear kernel, from centered features.

These are the numbers behind linear CKA (:mod:`skrep.functional.kernel`):
``T_ab = tr(K_a K_b)`` for the linear Grams ``K = Xc Xc'`` of centered
features, and, for the debiased estimator, the squared row norms of ``Xc``
(the diagonal that the U-statistic leaves out). The feature side
(:func:`linear_statistics`, ``T_ab = ||Xc_a' Xc_b||_F^2``) serves narrow
representations, the Gram side (:func:`gram_traces`, slab by slab, or
:func:`upper_inner_products` of whole Grams) wide ones. One pair of
representations has its own lean path in :mod:`skrep.functional._linear_pair`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._array import matrix_transpose, to_numpy
from .._typing import Array, Namespace

__all__ = [
    "squared_norm",
    "row_norms",
    "upper_inner_products",
    "linear_statistics",
    "linear_corrections",
    "gram_traces",
]

# Entries of 256k float64 (2 MiB) per slab of a Gram matrix: slabs stay in cache.
SLAB_ENTRIES = 1 << 18


def squared_norm(P: Array, xp: Namespace) -> float:
    """``sum(P**2)`` accumulated in float64.

    Parameters
    ----------
    P : array
        Any shape, numpy or another array-API namespace.
    xp : namespace
        Its namespace.

    Returns
    -------
    float
        The sum of the squared entries.
    """
    P = xp.astype(P, xp.float64, copy=False)
    if isinstance(P, np.ndarray):
        return float(np.vdot(P, P))  # BLAS dot: no temporary
    return float(xp.sum(P * P))


def row_norms(X: Array, xp: Namespace) -> np.ndarray:
    """Squared row norms of ``X``, accumulated in float64, a few rows at a time.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Centered features.
    xp : namespace
        Its namespace.

    Returns
    -------
    ndarray of shape (n_samples,)
        float64 numpy.
    """
    if isinstance(X, np.ndarray):
        norms = np.empty(X.shape[0])
        rows = max(1, SLAB_ENTRIES // max(1, X.shape[1]))
        for start in range(0, X.shape[0], rows):
            block = X[start : start + rows].astype(np.float64)
            np.einsum("ij,ij->i", block, block, out=norms[start : start + rows])
        return norms
    return to_numpy(xp.sum(xp.astype(X, xp.float64) ** 2, axis=1))


def upper_inner_products(
    grams: Sequence[Array],
    xp: Namespace,
    *,
    zero_diagonal: bool = False,
    centerings: Sequence[tuple[np.ndarray, float] | None] | None = None,
) -> np.ndarray:
    """``sum(K_a * K_b)`` for symmetric Grams, in float64, from their upper triangles.

    Rows are taken in slabs; within a slab of rows ``I``, the columns from
    ``I``'s first row on hold the diagonal block and the part right of it.
    The inner product of the slabs counts the part right of the block once
    (twice with the symmetric part below the diagonal) and the block whole,
    so ``2 <slab_a, slab_b> - <block_a, block_b>`` is the slab's share.
    With ``zero_diagonal`` the diagonals are set to zero in the float64
    copies first (the debiased statistic), never subtracted afterwards.
    ``centerings`` turns Grams of raw features ``X X'`` into those of
    centered ones, ``X X' - u 1' - 1 u' + c`` with ``u = X m`` and
    ``c = m'm``, slab by slab in float64.

    Parameters
    ----------
    grams : sequence of arrays of shape (n_samples, n_samples)
        Symmetric matrices in one namespace.
    xp : namespace
        Their namespace.
    zero_diagonal : bool, default=False
        Leave the diagonals out.
    centerings : sequence of (ndarray of shape (n_samples,), float) or None, default=None
        Per Gram, ``(u, c)`` to center it (numpy Grams only), or None.

    Returns
    -------
    ndarray of shape (k, k)
        float64 numpy.
    """
    k, n = len(grams), grams[0].shape[0]
    traces = np.zeros((k, k))
    height = max(1, SLAB_ENTRIES // n)
    for start in range(0, n, height):
        stop = min(n, start + height)
        slabs = [xp.astype(K[start:stop, start:], xp.float64) for K in grams]
        for slab, centering in zip(slabs, centerings or [None] * k, strict=True):
            if centering is not None:
                u, c = centering
                slab -= u[start:stop, None]
                slab -= u[None, start:]
                slab += c
        if zero_diagonal:
            inside = np.arange(stop - start)
            for slab in slabs:
                slab[inside, inside] = 0.0
        for a in range(k):
            for b in range(a, k):
                block = _inner(slabs[a][:, : stop - start], slabs[b][:, : stop - start], xp)
                value = 2.0 * _inner(slabs[a], slabs[b], xp) - block
                traces[a, b] += value
        del slabs
    return np.triu(traces) + np.triu(traces, 1).T


def _inner(A: Array, B: Array, xp: Namespace) -> float:
    """Inner product of two float64 matrices (BLAS dot for contiguous numpy arrays)."""
    if isinstance(A, np.ndarray):
        if A.flags.c_contiguous and B.flags.c_contiguous:
            return float(np.vdot(A, B))
        return float(np.einsum("ij,ij->", A, B))
    return float(xp.sum(A * B))


def linear_statistics(
    Xs: Sequence[Array], debiased: bool, xp: Namespace
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, r.r, s) for the linear kernel from centered features, no Gram matrix.

    ``T_ab = ||X_a' X_b||_F^2``; with centered features every row sum of
    ``X X'`` is 0, and removing the diagonal (the squared row norms ``d``)
    turns ``T`` into ``T - d_a . d_b``, the row sums into ``-d`` and the total
    into ``-sum d``.

    Parameters
    ----------
    Xs : sequence of arrays of shape (n_samples, p_k)
        Centered representations in one namespace.
    debiased : bool
        Statistics of the Grams with a zero diagonal.
    xp : namespace
        Their array namespace.

    Returns
    -------
    traces, row_dots, totals : ndarray
        float64 numpy arrays of shapes (k, k), (k, k) and (k,).
    """
    k = len(Xs)
    traces = np.zeros((k, k))
    for a in range(k):
        for b in range(a, k):
            product = matrix_transpose(Xs[a], xp) @ Xs[b]
            traces[a, b] = traces[b, a] = squared_norm(product, xp)
    return linear_corrections(traces, Xs, debiased, xp)


def linear_corrections(
    traces: np.ndarray,
    Xs: Sequence[Array],
    debiased: bool,
    xp: Namespace,
    *,
    diagonal_in_traces: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-sum statistics of centered linear Grams, and the debiased traces.

    Parameters
    ----------
    traces : ndarray of shape (k, k)
        ``tr(K_a K_b)``.
    Xs : sequence of arrays of shape (n_samples, p_k)
        The centered representations.
    debiased : bool
        Statistics of the Grams with a zero diagonal.
    xp : namespace
        Their array namespace.
    diagonal_in_traces : bool, default=True
        Whether ``traces`` still include the diagonals (then subtracted).

    Returns
    -------
    traces, row_dots, totals : ndarray
        float64 numpy arrays of shapes (k, k), (k, k) and (k,).
    """
    k = len(Xs)
    if not debiased:
        return traces, np.zeros((k, k)), np.zeros(k)
    norms = np.stack([row_norms(X, xp) for X in Xs])  # (k, n)
    diagonal_dots = norms @ norms.T
    if diagonal_in_traces:
        traces = traces - diagonal_dots
    return traces, diagonal_dots, -norms.sum(axis=1)


def gram_traces(
    centered: Sequence[Array], xp: Namespace, slab_rows: int = 256, *, zero_diagonal: bool = False
) -> np.ndarray:
    """``tr(K_a K_b)`` for the linear Grams ``K = Xc Xc'`` of centered features.

    The Gram matrices are never stored whole. For each slab of rows I, every
    representation's block ``X_I X_{I:}'`` (the rows I against all rows from
    I on: the upper triangle, slab by slab) is computed, the entries of its
    diagonal square are scaled by 1/sqrt(2), and twice the inner products of
    the vectorised blocks are accumulated, so each off-diagonal pair of
    stimuli counts twice and each diagonal one once. That is about half the
    multiplications of full Gram products, and memory holds one slab per
    representation. It is our own code because no library computes the
    inner products of many Gram matrices. With ``zero_diagonal`` the
    diagonals of the Grams are left out (the debiased statistic), instead of
    being subtracted afterwards, which would cancel most of a float32 sum.

    Parameters
    ----------
    centered : sequence of arrays of shape (n_samples, p_k)
        Centered representations in one namespace.
    xp : namespace
        Their array namespace.
    slab_rows : int, default=256
        Rows per slab.
    zero_diagonal : bool, default=False
        Leave the diagonals of the Grams out.

    Returns
    -------
    ndarray of shape (k, k)
        float64.
    """
    k, n = len(centered), centered[0].shape[0]
    traces = np.zeros((k, k))
    half = math.sqrt(0.5)
    for start in range(0, n, slab_rows):
        height, width = min(slab_rows, n - start), n - start
        if isinstance(centered[0], np.ndarray):
            slab = np.empty((k, height, width), dtype=centered[0].dtype)
            for a, X in enumerate(centered):
                np.matmul(X[start : start + height], X[start:].T, out=slab[a])
        else:
            slab = xp.stack(
                [
                    X[start : start + height, :] @ matrix_transpose(X[start:, :], xp)
                    for X in centered
                ]
            )
        slab[:, :, :height] *= half
        if zero_diagonal:
            inside = np.arange(height)
            slab[:, inside, inside] = 0.0
        flat = xp.reshape(slab, (k, height * width))
        traces += 2.0 * to_numpy(xp.astype(flat @ matrix_transpose(flat, xp), xp.float64))
    return traces
