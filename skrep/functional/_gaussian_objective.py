"""The squared Gaussian stochastic distance of many pairs, as a function of their alignments.

Value, gradient and Hessian-vector products on the orthogonal group for a
batch of fits at once: the fits of many pairs of networks, and several
starts per pair, share one batched SVD per evaluation (an ``(A, C, n, n)``
stack for ``A`` fits of ``C`` classes). Batching is the point of this module:
the per-fit arithmetic is a few small matrix products and one SVD per class,
so fitting pairs one by one spends most of its time in Python and in the
per-call overhead of LAPACK wrappers; a K x K matrix fits all its pairs in
lockstep. Used by :mod:`skrep.functional._gaussian_fit` (minorise-maximise
steps and the trust-region Newton of ``_orthogonal_trust_region``).

Every fit in a batch is one "problem" that refers to a pair by index; the
pairs' statistics are stacked once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._array import matrix_transpose as _mT
from .._array import to_numpy
from .._typing import Array, Namespace
from ._rows import put_rows, take_rows
from ._square_svd import NEWTON_EIGENVALUE_RATIO, STEP_EIGENVALUE_RATIO, RememberedSquareSVD
from .group_alignment import align_many_to_group

if TYPE_CHECKING:
    from .gaussian_stochastic import GaussianStatistics


def per_problem_sums(A: Array, B: Array, xp: Namespace) -> np.ndarray:
    """``sum(A_k * B_k)`` for every problem ``k`` (leading axis), on the host."""
    return np.asarray(to_numpy(xp.sum(A * B, axis=(-2, -1))), dtype=np.float64)


class Points:
    """The objective at one alignment per problem, with the SVDs its Hessian reuses.

    Parameters
    ----------
    values : ndarray of shape (A,)
        Squared distances (host).
    gradients : array of shape (A, n, n)
        Euclidean gradients.
    U, s, Vt : arrays of shapes (A, C, n, n), (A, C, n), (A, C, n, n)
        SVDs of ``M_i = sY_i T sX_i`` for every problem and class.
    pairs : ndarray of shape (A,)
        The pair of each problem (host integers).
    """

    def __init__(
        self, values: np.ndarray, gradients: Array, U: Array, s: Array, Vt: Array,
        pairs: np.ndarray,
    ) -> None:  # fmt: skip
        self.values, self.gradients = values, gradients
        self.U, self.s, self.Vt, self.pairs = U, s, Vt, pairs

    def take(self, positions: np.ndarray, xp: Namespace) -> Points:
        """The points of the problems at ``positions`` (host integers)."""
        return Points(
            self.values[positions],
            take_rows(self.gradients, positions, xp),
            take_rows(self.U, positions, xp),
            take_rows(self.s, positions, xp),
            take_rows(self.Vt, positions, xp),
            self.pairs[positions],
        )

    def put(self, positions: np.ndarray, other: Points, xp: Namespace) -> None:
        """Overwrite the problems at ``positions`` with ``other`` (in place)."""
        if len(positions) == 0:
            return
        self.values[positions] = other.values
        for name in ("gradients", "U", "s", "Vt"):
            setattr(self, name, put_rows(getattr(self, name), positions, getattr(other, name), xp))


class GaussianPairsObjective:
    """Squared Gaussian distances of many pairs as functions of orthogonal alignments.

    d^2(T) = c - (2 / C) [alpha <sum_i mY_i' mX_i, T> + (2 - alpha) sum_i |sY_i T sX_i|_*]
    with |.|_* the nuclear norm, so one batched SVD of the ``M_i = sY_i T sX_i``
    gives the values and gradients, and the derivative of the polar factors
    ``U_i V_i'`` (entries ``(X_jk - X_kj) / (s_j + s_k)`` of ``X = U' dM V``) gives
    Hessian-vector products from a few batched matrix products.

    Parameters
    ----------
    stats_x, stats_y : sequences of GaussianStatistics
        The pairs (same numbers of classes and units throughout).
    alpha : float
        Weight of the means.
    xp : namespace
        Array namespace of the statistics.
    """

    def __init__(
        self,
        stats_x: Sequence[GaussianStatistics],
        stats_y: Sequence[GaussianStatistics],
        alpha: float,
        xp: Namespace,
    ) -> None:
        self.alpha, self.xp = alpha, xp
        self.sx = xp.stack([s.sqrt_covariances for s in stats_x])
        self.sy = xp.stack([s.sqrt_covariances for s in stats_y])
        means_x = xp.stack([s.means for s in stats_x])
        means_y = xp.stack([s.means for s in stats_y])
        _, self.n_classes, self.n_features = means_x.shape
        self.cross_means = _mT(means_y, xp) @ means_x
        self.eps = float(xp.finfo(means_x.dtype).eps)
        sizes = to_numpy(xp.sum(means_x**2, axis=(1, 2)) + xp.sum(means_y**2, axis=(1, 2)))
        traces = np.array(
            [
                float(xp.sum(x.traces) + xp.sum(y.traces))
                for x, y in zip(stats_x, stats_y, strict=True)
            ]
        )
        self.constants = (alpha * sizes + (2 - alpha) * traces) / self.n_classes
        #: Rounding level of each pair's objective (a difference of terms this large).
        self.noise = 100 * self.eps * np.maximum(self.constants, 1e-300)
        shape = (len(stats_x), self.n_classes)
        self._newton_svd = RememberedSquareSVD(shape, NEWTON_EIGENVALUE_RATIO)
        self._step_svd = RememberedSquareSVD(shape, STEP_EIGENVALUE_RATIO)

    def _stats(self, pairs: np.ndarray) -> tuple[Array, Array]:
        return take_rows(self.sx, pairs, self.xp), take_rows(self.sy, pairs, self.xp)

    def evaluate(self, T: Array, pairs: np.ndarray) -> Points:
        """The objective of the problems on ``pairs`` at the alignments ``T`` (A, n, n).

        The singular values and vectors come from eigendecompositions of
        ``M_i' M_i`` (:mod:`~skrep.functional._square_svd`) for condition
        numbers up to 1e4 (values to about ``1e4 * eps`` of the largest
        singular value, polar factors to about ``1e8 * eps``: well within
        what Newton's model and its acceptance test resolve), from an SVD
        otherwise; a class found too ill-conditioned once gets the SVD from
        then on.
        """
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self._stats(pairs)
        U, s, Vt = self._newton_svd(sy @ T[:, None, ...] @ sx, pairs, xp)
        # sum_i sY_i U_i V_i' sX_i as one product of side-by-side and stacked blocks.
        nuclear_gradient = _side_by_side(sy @ U, xp) @ xp.reshape(Vt @ sx, (-1, C * n, n))
        values, gradients = self._values_and_gradients(T, pairs, s, nuclear_gradient)
        return Points(values, gradients, U, s, Vt, np.asarray(pairs))

    def _values_and_gradients(
        self, T: Array, pairs: np.ndarray, s: Array, nuclear_gradient: Array
    ) -> tuple[np.ndarray, Array]:
        """d^2 and its gradient from the singular values and sum_i sY_i Q_i sX_i."""
        xp, C = self.xp, self.n_classes
        cross_means = take_rows(self.cross_means, pairs, xp)
        linear = per_problem_sums(cross_means, T, xp)
        nuclear = np.asarray(to_numpy(xp.sum(s, axis=(1, 2))), dtype=np.float64)
        values = self.constants[pairs] - 2 * (self.alpha * linear + (2 - self.alpha) * nuclear) / C
        gradients = -2 * (self.alpha * cross_means + (2 - self.alpha) * nuclear_gradient) / C
        return np.maximum(values, 0.0), gradients

    def evaluate_steps(self, T: Array, pairs: np.ndarray) -> tuple[np.ndarray, Array]:
        """Values and gradients only, for minorise-maximise steps (cheaper).

        The singular values and polar factors come from eigendecompositions
        of ``M_i' M_i`` for condition numbers up to 1e6 (the square loses
        smaller singular values), and from an SVD otherwise. The nuclear norms are then
        accurate to about ``eps * s_max``, so the values to about 1e-10 of
        the objective's scale, and the polar factors to ``eps * cond^2``:
        good enough to take minorise-maximise steps (each accepted only if it
        lowers the value) and to decide when to hand over to Newton's method,
        which then runs on :meth:`evaluate`.
        """
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self._stats(pairs)
        U, s, Vt = self._step_svd(sy @ T[:, None, ...] @ sx, pairs, xp)
        nuclear_gradient = _side_by_side(sy @ (U @ Vt), xp) @ xp.reshape(sx, (-1, C * n, n))
        return self._values_and_gradients(T, pairs, s, nuclear_gradient)

    def hessian_factors(self, points: Points) -> dict[str, Array]:
        """Blocks in the layouts the Hessian products use (minorise-maximise needs none)."""
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self._stats(points.pairs)
        s = points.s
        sums = s[..., :, None] + s[..., None, :]
        largest = xp.max(s, axis=-1, keepdims=True)[..., None]
        singular = sums <= n * self.eps * largest
        safe = xp.where(singular, xp.ones_like(sums), sums)
        return {
            "left_rows": xp.reshape(_mT(points.U, xp) @ sy, (-1, C * n, n)),  # U_i' sY_i stacked
            "left_columns": _side_by_side(sy @ points.U, xp),  # [sY_1 U_1 ... sY_C U_C]
            "right": points.Vt @ sx,  # V_i' sX_i
            "right_t": sx @ _mT(points.Vt, xp),  # sX_i V_i
            # 1 / (s_j + s_k), 0 where both singular values are numerically 0
            "inverse_sums": xp.where(singular, xp.zeros_like(sums), 1 / safe),
        }

    def hessian(self, factors: dict[str, Array], V: Array) -> Array:
        """Euclidean Hessians (from :meth:`hessian_factors`) applied to ``V`` (A, n, n)."""
        xp, C, n = self.xp, self.n_classes, self.n_features
        f = factors
        X = xp.reshape(f["left_rows"] @ V, (-1, C, n, n)) @ f["right_t"]  # U' sY V sX V
        omega = (X - _mT(X, xp)) * f["inverse_sums"]
        product = f["left_columns"] @ xp.reshape(omega @ f["right"], (-1, C * n, n))
        return -2 * (2 - self.alpha) * product / C

    def descent_steps(self, gradients: Array, group: str) -> Array:
        """Minorise-maximise steps: the group elements best aligned with ``-gradients``.

        The nuclear norms are convex, so their linearisation at the current T
        bounds them from below; maximising it over the group gives a step that
        never raises d^2.
        """
        return align_many_to_group(-gradients, group, self.xp)


def sq_distance_terms(
    means_x: Array, roots_x: Array, means_y: Array, roots_y: Array, T: Array, alpha: float,
    xp: Namespace,
) -> Array:  # fmt: skip
    """Per-class terms of squared Gaussian distances, with any leading batch axes.

    ``means`` of shape (..., C, n), covariance square roots (..., C, n, n) and
    alignments ``T`` (..., n, n); returns (..., C) terms
    ``alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)``, with
    ``Bures^2 = min_Q |sX - T' sY Q|^2`` evaluated as that norm at the optimal
    ``Q`` (no cancellation between traces and nuclear norm: exact near zero).
    """
    residual = means_x - means_y @ T
    mean_terms = xp.sum(residual * residual, axis=-1)
    aligned_roots = _mT(T, xp)[..., None, :, :] @ roots_y
    U, _, Vt = xp.linalg.svd(_mT(aligned_roots, xp) @ roots_x, full_matrices=False)
    difference = roots_x - aligned_roots @ (U @ Vt)
    bures = xp.sum(difference * difference, axis=(-2, -1))
    return alpha * mean_terms + (2 - alpha) * bures


def _side_by_side(blocks: Array, xp: Namespace) -> Array:
    """(A, C, n, m) blocks as (A, n, C * m) matrices [B_1 ... B_C]."""
    A, C, n, m = blocks.shape
    return xp.reshape(xp.permute_dims(blocks, (0, 2, 1, 3)), (A, n, C * m))
