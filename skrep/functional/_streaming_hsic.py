"""CKA over stimuli that arrive in batches: exact linear statistics, and minibatch HSIC.

:class:`LinearHSICStream` accumulates, for several representations (layers),
the feature-space statistics of the linear kernel, from which linear CKA
(biased, and debiased) over every stimulus seen so far is exact:

- ``C_ab = sum_i (x_ai - m_a)(x_bi - m_b)'``, the centered cross-products
  about the running means ``m`` (``||C_ab||_F^2 = tr(K_a H K_b H)``);
- for the debiased HSIC (Song et al. 2012), which leaves the Gram diagonals
  ``d_ai = ||x_ai - m_a||^2`` out, also ``t_a = sum_i d_ai`` (the trace of
  ``C_aa``), ``q_ab = sum_i d_ai d_bi`` and ``g_ab = sum_i d_ai (x_bi - m_b)``.
  With centered features the row sums of the Grams vanish, so
  ``tr(K~_a K~_b) = ||C_ab||^2 - q_ab``, ``1'K~_a K~_b 1 = q_ab`` and
  ``1'K~_a 1 = -t_a``: the U-statistic needs no per-stimulus memory.

Numerics: each batch is centered on its own mean (float64) and merged with
Chan et al.'s (1979) pairwise update ``C = C_A + C_B + (n_A n_B / n) D_a D_b'``
(``D`` the difference of the two means), folded into the batch's product as
one extra row; ``g`` and ``q`` of the accumulated part are moved to the new
mean by the exact shift formulas (the third and fourth moments' analogue of
Chan's update, Pebay 2008). No raw sum of squares is ever formed, so data far
from zero (offsets of 1e4 in float32) lose nothing to cancellation. Each layer
is divided by a power of two fixed at the first batch (exact), so that
fourth powers of data near 1e300 or 1e-300 stay in range.

Memory: ``p_a p_b`` float64 per tracked pair (``p_x^2 + p_y^2 + p_x p_y``
for one pair of representations), plus ``O(k sum p)`` for the debiased terms.
Our own code: no library accumulates cross-covariances with fourth-moment
terms (``sklearn.decomposition.IncrementalPCA`` keeps one representation's
variance only).

:class:`MinibatchHSIC` is the estimator of Nguyen, Raghu & Kornblith (2021):
the unbiased HSIC of each minibatch, averaged over minibatches, for any kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.linalg import blas

from .._array import to_numpy
from .._typing import Array, ArrayLike
from ._extreme_scales import range_scale
from .gram import _bandwidth, _gram, _squared_distances
from .hsic import MIN_CKA_SAMPLES, _gram_statistics, _hsic_from_statistics

__all__ = ["LinearHSICStream", "MinibatchHSIC", "ratio_standard_error"]


def _not_enough(n: int, what: str) -> ValueError:
    return ValueError(
        f"{what} needs at least {MIN_CKA_SAMPLES} stimuli; {n} seen so far. Feed more batches."
    )


class LinearHSICStream:
    """Exact linear-kernel HSIC statistics of k representations, batch by batch.

    Parameters
    ----------
    widths : sequence of int
        Features of each representation.
    pairs : sequence of (int, int)
        Pairs ``(a, b)`` with ``a < b`` whose cross-products are kept (every
        representation's own block is always kept).
    debiased : bool
        Also keep the terms of the unbiased HSIC.
    names : sequence of str
        Names of the representations, for messages.
    """

    def __init__(
        self,
        widths: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        debiased: bool,
        names: Sequence[str],
    ):
        self.widths = [int(p) for p in widths]
        self.pairs = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
        self.debiased = debiased
        self.names = list(names)
        self.n = 0
        k = len(self.widths)
        self.tracked = [(a, a) for a in range(k)] + self.pairs
        self.means: list[np.ndarray] = []
        self.scales: list[float] = []
        # Fortran order: the BLAS updates below write into the blocks in place.
        self.blocks = {ab: np.zeros((self.widths[ab[0]], self.widths[ab[1]]), order="F")
                       for ab in self.tracked}  # fmt: skip
        self.q = np.zeros((k, k))
        self.g = {}
        if debiased:
            for a, b in self.tracked:
                self.g[a, b] = np.zeros(self.widths[b])
                self.g[b, a] = np.zeros(self.widths[a])

    @property
    def nbytes(self) -> int:
        """Bytes of the accumulated statistics."""
        return sum(block.nbytes for block in self.blocks.values()) + sum(
            v.nbytes for v in self.g.values()
        )

    def update(self, batch: Sequence[ArrayLike]) -> None:
        """Merge one batch: ``batch[a]`` is representation a's (b, p_a) rows, paired.

        Parameters
        ----------
        batch : sequence of arrays of shape (n_batch, p_a)
            Validated, finite rows of each representation.
        """
        data = [np.asarray(to_numpy(A), dtype=np.float64) for A in batch]
        if not self.scales:
            self.scales = [range_scale(A, 4) for A in data]
        data = [A / s if s != 1.0 else A for A, s in zip(data, self.scales, strict=True)]
        b = data[0].shape[0]
        n_old, n_new = self.n, self.n + b
        batch_means = [A.mean(axis=0) for A in data]
        if n_old == 0:
            self.means = [np.zeros_like(m) for m in batch_means]
        steps = [mb - m for mb, m in zip(batch_means, self.means, strict=True)]
        # Centered rows, plus Chan's correction as one extra row: U'U = C_B + w D D'.
        weight = math.sqrt(n_old * b / n_new)
        extended = []
        for A, mean, step in zip(data, batch_means, steps, strict=True):
            U = np.empty((b + 1, A.shape[1]))
            np.subtract(A, mean, out=U[:b])
            U[b] = weight * step
            extended.append(U)
        if self.debiased:
            self._update_debiased(extended, steps, n_old, n_new, b)
        for (a, c), block in self.blocks.items():
            Ua, Uc = extended[a], extended[c]
            if a == c:  # the upper triangle only: half the multiplications
                blas.dsyrk(1.0, Ua.T, beta=1.0, c=block, trans=0, lower=0, overwrite_c=1)
            else:
                blas.dgemm(1.0, Ua.T, Uc.T, beta=1.0, c=block, trans_b=1, overwrite_c=1)
        self.means = [m + (b / n_new) * step for m, step in zip(self.means, steps, strict=True)]
        self.n = n_new
        if not all(np.all(np.isfinite(block)) for block in self.blocks.values()):
            raise FloatingPointError(
                "The accumulated cross-products overflowed (a batch is far larger than the "
                "first one, which set the scale of each representation); rescale the inputs."
            )

    def _matvec(self, a: int, c: int, v: np.ndarray, transpose: bool) -> np.ndarray:
        """``C_ac v`` (or ``C_ac' v``) from the stored block (upper triangle when a == c)."""
        if a == c:
            return blas.dsymv(1.0, self.blocks[a, a], v, lower=0)
        if (a, c) in self.blocks:
            block = self.blocks[a, c]
            return block.T @ v if transpose else block @ v
        block = self.blocks[c, a]
        return block @ v if transpose else block.T @ v

    def _update_debiased(
        self, extended: list[np.ndarray], steps: list[np.ndarray], n_old: int, n_new: int, b: int
    ) -> None:
        """Move g and q to the new means (the old part by shift formulas), add the batch's."""
        k = len(self.widths)
        old_shift = [-(b / n_new) * step for step in steps]  # old mean - new mean
        new_shift = [(n_old / n_new) * step for step in steps]  # batch mean - new mean
        traces = [self._trace(a) for a in range(k)]
        sq = [float(s @ s) for s in old_shift]
        if n_old:
            g_old = {key: value.copy() for key, value in self.g.items()}
            for a, c in self.g:
                # sum d'_a (u_c + s_c) with d'_a = d_a + 2 u_a.s_a + |s_a|^2 (sum u = 0)
                self.g[a, c] += (
                    traces[a] * old_shift[c]
                    + 2.0 * self._matvec(a, c, old_shift[a], transpose=True)
                    + n_old * sq[a] * old_shift[c]
                )
            for a, c in self.tracked:
                self.q[a, c] += (
                    2.0 * old_shift[c] @ g_old[a, c]
                    + 2.0 * old_shift[a] @ g_old[c, a]
                    + sq[c] * traces[a]
                    + sq[a] * traces[c]
                    + 4.0 * old_shift[a] @ self._matvec(a, c, old_shift[c], transpose=False)
                    + n_old * sq[a] * sq[c]
                )
        # The batch about the new means: rows u + s, whose squared norms are d.
        rows = [U[:b] for U in extended]
        norms = []
        for U, s in zip(rows, new_shift, strict=True):
            d = np.einsum("ij,ij->i", U, U)
            d += 2.0 * (U @ s)
            d += s @ s
            norms.append(d)
        for a, c in self.g:
            self.g[a, c] += rows[c].T @ norms[a] + norms[a].sum() * new_shift[c]
        for a, c in self.tracked:
            self.q[a, c] += norms[a] @ norms[c]

    def _trace(self, a: int) -> float:
        return float(np.trace(self.blocks[a, a]))

    def _frobenius(self, a: int, c: int) -> float:
        block = self.blocks[a, c]
        if a != c:
            return float(np.vdot(block, block))
        upper = np.triu(block)
        diagonal = np.diagonal(block)
        return 2.0 * float(np.vdot(upper, upper)) - float(diagonal @ diagonal)

    def hsic(self) -> np.ndarray:
        """HSIC of every tracked pair (NaN for the others), of the stimuli seen so far.

        Returns
        -------
        ndarray of shape (k, k)
            Symmetric, float64.
        """
        if self.n < MIN_CKA_SAMPLES:
            raise _not_enough(self.n, "CKA of " + ", ".join(self.names))
        k = len(self.widths)
        # CKA does not change when a representation is scaled: each Gram is divided
        # by its mean diagonal, so that HSIC values are of order one.
        norm = [self._trace(a) / self.n for a in range(k)]
        norm = [value if value > 0 else 1.0 for value in norm]  # constant: no variance
        traces = np.full((k, k), np.nan)
        q = np.full((k, k), np.nan)
        for a, c in self.tracked:
            factor = norm[a] * norm[c]
            traces[a, c] = traces[c, a] = self._frobenius(a, c) / factor
            q[a, c] = q[c, a] = self.q[a, c] / factor
        if not self.debiased:
            return _hsic_from_statistics(traces, np.zeros((k, k)), np.zeros(k), self.n, False)
        totals = -np.array([self._trace(a) / norm[a] for a in range(k)])
        return _hsic_from_statistics(traces - q, q, totals, self.n, True)

    def cka(self, rows: Sequence[int], columns: Sequence[int]) -> np.ndarray:
        """CKA between representations ``rows`` and ``columns`` (tracked pairs).

        Parameters
        ----------
        rows, columns : sequence of int
            Representations of the rows and the columns of the result.

        Returns
        -------
        ndarray of shape (len(rows), len(columns))
            CKA over every stimulus seen so far.
        """
        values = self.hsic()
        own = np.diag(values)
        for a in sorted(set(rows) | set(columns)):
            if not own[a] > 0:
                raise ValueError(
                    f"{self.names[a]} has a self-HSIC of {own[a]:.3g} over the {self.n} "
                    "stimuli seen: no variance around its center (for the debiased "
                    "estimator, too few varying stimuli), so CKA is undefined; expected a "
                    "representation that varies across stimuli."
                )
        rows, columns = list(rows), list(columns)
        return values[np.ix_(rows, columns)] / np.sqrt(np.outer(own[rows], own[columns]))


def ratio_standard_error(values: np.ndarray) -> float:
    """Delta-method standard error of ``mean(a) / sqrt(mean(b) mean(c))``.

    Parameters
    ----------
    values : ndarray of shape (n_batches, 3)
        Per-batch ``(a, b, c)``: HSIC(K, L), HSIC(K, K), HSIC(L, L).

    Returns
    -------
    float
        NaN for fewer than two batches.
    """
    m = values.shape[0]
    if m < 2:
        return math.nan
    a, b, c = values.mean(axis=0)
    if not (b > 0 and c > 0):
        return math.nan
    ratio = a / math.sqrt(b * c)
    gradient = np.array([1.0 / math.sqrt(b * c), -ratio / (2 * b), -ratio / (2 * c)])
    covariance = np.cov(values, rowvar=False)
    return float(math.sqrt(max(gradient @ covariance @ gradient, 0.0) / m))


class MinibatchHSIC:
    """Unbiased HSIC per minibatch, averaged (Nguyen, Raghu & Kornblith 2021).

    Parameters
    ----------
    kernel : {"linear", "rbf"} or callable
        The kernel of both representations.
    sigma : float or None
        RBF bandwidth; None sets each side's from its first batch
        (``threshold`` times the median distance) and keeps it.
    threshold : float
        Fraction of the median distance when ``sigma`` is None.
    """

    def __init__(self, kernel: str | Callable[[Array], ArrayLike], sigma: float | None,
                 threshold: float):  # fmt: skip
        self.kernel, self.sigma, self.threshold = kernel, sigma, threshold
        self.sigmas: list[float | None] = [sigma, sigma]
        self.values: list[tuple[float, float, float]] = []
        self.n = 0

    def update(self, X: Array, Y: Array) -> tuple[float, float, float]:
        """Add one minibatch of paired rows (at least 4).

        Parameters
        ----------
        X, Y : array of shape (n_batch, p)
            Validated rows of each representation.

        Returns
        -------
        tuple of float
            The batch's unbiased ``HSIC(K, L)``, ``HSIC(K, K)``, ``HSIC(L, L)``.
        """
        grams = []
        for side, (A, name) in enumerate(((X, "X"), (Y, "Y"))):
            A = np.asarray(to_numpy(A), dtype=np.float64)
            if self.kernel == "rbf" and self.sigmas[side] is None:
                distances = _squared_distances(A - A.mean(axis=0), np)
                self.sigmas[side] = _bandwidth(distances, self.threshold, np, name)
            grams.append(_gram(A, self.kernel, self.sigmas[side], self.threshold, name))
        traces, row_dots, totals = _gram_statistics(grams, True, np, owned=True)
        values = _hsic_from_statistics(traces, row_dots, totals, X.shape[0], True)
        triple = (float(values[0, 1]), float(values[0, 0]), float(values[1, 1]))
        self.values.append(triple)
        self.n += X.shape[0]
        return triple
