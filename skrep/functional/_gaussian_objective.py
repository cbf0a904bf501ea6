"""The squared Gaussian stochastic distance as a function of the alignment.

Value, gradient and Hessian-vector products on the orthogonal group, from
one batched SVD per evaluation; used by
:func:`skrep.functional.gaussian_stochastic.fit_gaussian_alignment` (its
minorise-maximise steps and the trust-region Newton of
``_orthogonal_trust_region``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._array import matrix_transpose as _mT
from .._typing import Array, Namespace
from .group_alignment import align_to_group

if TYPE_CHECKING:
    from .gaussian_stochastic import GaussianStatistics


class _GaussianPoint:
    """The Gaussian objective at one alignment, with the SVDs its Hessian reuses."""

    def __init__(self, value: float, gradient: Array, U: Array, s: Array, Vt: Array) -> None:
        self.value, self.gradient = value, gradient
        self.U, self.s, self.Vt = U, s, Vt  # of M_i = sY_i T sX_i = U_i S_i V_i'
        self.hessian_factors = None  # built on the first Hessian product only


class _GaussianObjective:
    """Squared Gaussian distance as a function of an orthogonal ``T``.

    d^2(T) = c - (2 / C) [alpha <sum_i mY_i' mX_i, T> + (2 - alpha) sum_i |sY_i T sX_i|_*]
    with |.|_* the nuclear norm, so one batched SVD of the ``M_i = sY_i T sX_i``
    gives the value and the gradient, and the derivative of the polar factors
    ``U_i V_i'`` (entries ``(X_jk - X_kj) / (s_j + s_k)`` of ``X = U' dM V``) gives
    Hessian-vector products from a few batched matrix products.
    """

    def __init__(
        self,
        stats_x: GaussianStatistics,
        stats_y: GaussianStatistics,
        alpha: float,
        xp: Namespace,
    ) -> None:
        self.stats_x, self.stats_y, self.alpha, self.xp = stats_x, stats_y, alpha, xp
        self.n_classes, self.n_features = stats_x.means.shape
        self.cross_means = _mT(stats_y.means, xp) @ stats_x.means
        self.eps = float(xp.finfo(stats_x.means.dtype).eps)
        sizes = xp.sum(stats_x.means**2) + xp.sum(stats_y.means**2)
        traces = xp.sum(stats_x.traces) + xp.sum(stats_y.traces)
        self.constant = float(alpha * sizes + (2 - alpha) * traces) / self.n_classes
        #: Rounding level of the objective (it is a difference of terms this large).
        self.noise = 100 * self.eps * max(self.constant, 1e-300)

    def evaluate(self, T: Array) -> _GaussianPoint:
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self.stats_x.sqrt_covariances, self.stats_y.sqrt_covariances
        U, s, Vt = xp.linalg.svd(sy @ T @ sx, full_matrices=False)
        linear = float(xp.sum(self.cross_means * T))
        value = self.constant - 2 * (self.alpha * linear + (2 - self.alpha) * float(xp.sum(s))) / C
        left_columns = _side_by_side(sy @ U, xp)
        right = Vt @ sx
        # sum_i sY_i U_i V_i' sX_i as one product of side-by-side and stacked blocks.
        nuclear_gradient = left_columns @ xp.reshape(right, (C * n, n))
        gradient = -2 * (self.alpha * self.cross_means + (2 - self.alpha) * nuclear_gradient) / C
        return _GaussianPoint(max(value, 0.0), gradient, U, s, Vt)

    def _hessian_factors(self, point: _GaussianPoint) -> dict[str, Array]:
        """Blocks in the layouts the Hessian products use (minorise-maximise needs none)."""
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self.stats_x.sqrt_covariances, self.stats_y.sqrt_covariances
        s = point.s
        sums = s[:, :, None] + s[:, None, :]
        singular = sums <= n * self.eps * xp.max(s, axis=-1, keepdims=True)[:, :, None]
        safe = xp.where(singular, xp.ones_like(sums), sums)
        return {
            "left_rows": xp.reshape(_mT(point.U, xp) @ sy, (C * n, n)),  # U_i' sY_i stacked
            "left_columns": _side_by_side(sy @ point.U, xp),  # [sY_1 U_1 ... sY_C U_C]
            "right": point.Vt @ sx,  # V_i' sX_i
            "right_t": sx @ _mT(point.Vt, xp),  # sX_i V_i
            # 1 / (s_j + s_k), 0 where both singular values are numerically 0
            "inverse_sums": xp.where(singular, xp.zeros_like(sums), 1 / safe),
        }

    def descent_step(self, point: _GaussianPoint, group: str = "orth") -> Array:
        # Minorise-maximise: the nuclear norms are convex, so their linearisation
        # at the current T is a lower bound, maximised over the group.
        return align_to_group(-point.gradient, group, check_input=False)

    def hessian(self, point: _GaussianPoint, V: Array) -> Array:
        xp, C, n = self.xp, self.n_classes, self.n_features
        if point.hessian_factors is None:
            point.hessian_factors = self._hessian_factors(point)
        f = point.hessian_factors
        X = xp.reshape(f["left_rows"] @ V, (C, n, n)) @ f["right_t"]  # U' sY V sX V
        omega = (X - _mT(X, xp)) * f["inverse_sums"]
        product = f["left_columns"] @ xp.reshape(omega @ f["right"], (C * n, n))
        return -2 * (2 - self.alpha) * product / C


def _side_by_side(blocks: Array, xp: Namespace) -> Array:
    """(C, n, m) blocks as one (n, C * m) matrix [B_1 ... B_C]."""
    C, n, m = blocks.shape
    return xp.reshape(xp.permute_dims(blocks, (1, 0, 2)), (n, C * m))
