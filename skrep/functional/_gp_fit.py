"""The stochastic-process fit of many pairs at once.

Every pair and every start of its fit is one problem, and all the problems of
a call step in lockstep: one batched SVD of the ``(n_times * n_dims)``-square
covariance products per step for all of them, each problem stopping on its
own rule. A problem takes the steps it would take alone (netrep's steps from
the means' alignment, then minorise-maximise steps on the scored objective;
see :mod:`skrep.functional.gp_stochastic`), so the fits are those of
:func:`~skrep.functional.gp_stochastic.fit_gp_alignment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import array_api_compat
import numpy as np

from .._array import matrix_transpose as _mT
from .._array import to_numpy
from .._typing import Array, Namespace, RandomState
from ._gaussian_fit import NEWTON_SWITCH, newton_by_promise
from ._gaussian_objective import Points
from ._gaussian_starts import canonical_key, reflected_polar
from ._rows import put_rows, take_rows
from ._square_svd import NEWTON_EIGENVALUE_RATIO, STEP_EIGENVALUE_RATIO, RememberedSquareSVD
from .group_alignment import _random_group_element, align_many_to_group

if TYPE_CHECKING:
    from .gp_stochastic import GPStatistics


# Starts whose fitted values lie within this many times a pair's rounding level
# of its best are compared on values from an SVD.
_SELECTION_MARGIN = 100


def _host(a: Array) -> np.ndarray:
    return np.asarray(to_numpy(a), dtype=np.float64)


class _Processes:
    """The pairs' statistics stacked, and the objective of problems on them."""

    def __init__(
        self, xs: Sequence[GPStatistics], ys: Sequence[GPStatistics], alpha: float, xp: Namespace
    ) -> None:
        self.xp, self.alpha = xp, alpha
        self.sx = xp.stack([x.sqrt_covariance for x in xs])
        self.sy = xp.stack([y.sqrt_covariance for y in ys])
        self.mx = xp.stack([x.means for x in xs])
        self.my = xp.stack([y.means for y in ys])
        self.traces = np.array([x.trace + y.trace for x, y in zip(xs, ys, strict=True)])
        self.n_times, self.n_dims = xs[0].means.shape
        eps = float(xp.finfo(self.sx.dtype).eps)
        # The covariance term is a difference of terms of the size of the traces:
        # below its rounding level the distance is 0.
        self.noise = 100 * eps * (2 - alpha) * self.traces
        self.sq_means_x = _host(xp.sum(self.mx**2, axis=(1, 2)))
        self._square_svds = {
            ratio: RememberedSquareSVD((len(xs),), ratio)
            for ratio in (STEP_EIGENVALUE_RATIO, NEWTON_EIGENVALUE_RATIO)
        }

    def _decompose(
        self, T: Array, pairs: np.ndarray, ratio: float | None
    ) -> tuple[np.ndarray, Array, Array, Array]:
        """(squared distances, U, s, Vt) of the problems at ``T``: the SVD of sX T_full' sY.

        An SVD with ``ratio`` None; otherwise an eigendecomposition of
        ``M' M`` where its eigenvalue ratio is at least ``ratio``
        (:mod:`~skrep.functional._square_svd`, about half the cost).
        """
        xp, alpha = self.xp, self.alpha
        sx, sy = take_rows(self.sx, pairs, xp), take_rows(self.sy, pairs, xp)
        M = self._times_full_t(sx, T) @ sy
        if ratio is None:
            U, s, Vt = xp.linalg.svd(M)
        else:
            U, s, Vt = self._square_svds[ratio](M, pairs, xp)
        nuclear = _host(xp.sum(s, axis=-1))
        residual = take_rows(self.mx, pairs, xp) - take_rows(self.my, pairs, xp) @ T
        sq_means = _host(xp.sum(residual * residual, axis=(1, 2)))
        values = alpha * sq_means + (2 - alpha) * (self.traces[pairs] - 2 * nuclear)
        return np.where(values > self.noise[pairs], values, 0.0), U, s, Vt

    def evaluate_polar(
        self, T: Array, pairs: np.ndarray, ratio: float | None = None
    ) -> tuple[np.ndarray, Array]:
        """(squared distances, polar factors) of the problems at ``T`` (see ``_decompose``)."""
        values, U, _, Vt = self._decompose(T, pairs, ratio)
        return values, U @ Vt

    # The alignment acts as I_{n_times} (x) T; products with it and the block
    # sums below use that structure, n_times times cheaper than dense products
    # of (n_times * n_dims)-square matrices.
    def _times_full_t(self, A: Array, T: Array) -> Array:
        """``A @ full(T)'`` for stacks ``A`` (P, m, n_times * n) and ``T`` (P, n, n)."""
        xp, n_times = self.xp, self.n_times
        P, m, size = A.shape
        n = size // n_times
        blocks = xp.reshape(A, (P, m, n_times, n)) @ _mT(T, xp)[:, None, ...]
        return xp.reshape(blocks, (P, m, size))

    def _diagonal_block_sum(self, A: Array, B: Array) -> Array:
        """The sum of the ``n_dims``-square diagonal blocks of ``A @ B`` (stacks of squares)."""
        xp, n_times = self.xp, self.n_times
        P, size, _ = A.shape
        n = size // n_times
        rows = xp.reshape(A, (P, n_times, n, size))  # the row blocks of A
        columns = xp.permute_dims(xp.reshape(B, (P, size, n_times, n)), (0, 2, 1, 3))
        return xp.sum(rows @ columns, axis=1)

    # The interface of the trust-region Newton (``_orthogonal_trust_region``):
    # d^2(T) = c - 2 [alpha <mY' mX, T> + (2 - alpha) |sX T_full' sY|_*] on the group.
    def evaluate(self, T: Array, pairs: np.ndarray) -> Points:
        """The objective of the problems at ``T``, with the SVDs its Hessian reuses."""
        alpha = self.alpha
        values, U, s, Vt = self._decompose(T, pairs, NEWTON_EIGENVALUE_RATIO)
        gradients = -2 * self.step_target(U @ Vt, pairs, (alpha, 2 - alpha))
        return Points(values, gradients, U, s, Vt, np.asarray(pairs))

    def hessian_factors(self, points: Points) -> dict[str, Array]:
        """``U' sX``, ``sY V`` and ``1 / (s_j + s_k)`` (0 where both are numerically 0)."""
        xp, s = self.xp, points.s
        sums = s[..., :, None] + s[..., None, :]
        size = s.shape[-1]
        singular = sums <= size * float(xp.finfo(s.dtype).eps) * xp.max(s, axis=-1)[:, None, None]
        safe = xp.where(singular, xp.ones_like(sums), sums)
        sx, sy = take_rows(self.sx, points.pairs, xp), take_rows(self.sy, points.pairs, xp)
        return {
            "process_left": _mT(points.U, xp) @ sx,  # U' sX
            "process_right": sy @ _mT(points.Vt, xp),  # sY V
            "process_inverse_sums": xp.where(singular, xp.zeros_like(sums), 1 / safe),
        }

    def hessian(self, factors: dict[str, Array], V: Array) -> Array:
        """Euclidean Hessians applied to ``V`` (A, n, n): the derivative of the polar factor.

        With ``dM = sX full(V)' sY`` and ``X = U' dM V = L full(V)' R`` (``L = U' sX``,
        ``R = sY V``), the polar factor changes by ``U Omega V'`` with
        ``Omega = (X - X') / (s_j + s_k)``, and the Hessian is the block sum of
        ``sY (U Omega V')' sX = R Omega' L``.
        """
        xp, f = self.xp, factors
        left, right = f["process_left"], f["process_right"]
        X = self._times_full_t(left, V) @ right
        omega = (X - _mT(X, xp)) * f["process_inverse_sums"]
        return -2 * (2 - self.alpha) * self._diagonal_block_sum(right, _mT(omega, xp) @ left)

    def descent_steps(self, gradients: Array, group: str) -> Array:
        """Minorise-maximise steps: the group elements best aligned with ``-gradients``."""
        return align_many_to_group(-gradients, group, self.xp)

    def step_target(self, polar: Array, pairs: np.ndarray, weights: tuple) -> Array:
        """The cross-product whose best group element is the step from ``polar``."""
        xp = self.xp
        sx, sy = take_rows(self.sx, pairs, xp), take_rows(self.sy, pairs, xp)
        linear = self._diagonal_block_sum(sy @ _mT(polar, xp), sx)
        means = _mT(take_rows(self.my, pairs, xp), xp) @ take_rows(self.mx, pairs, xp)
        return weights[0] * means + weights[1] * linear


def _netrep_steps(
    processes: _Processes, T: Array, pairs: np.ndarray, group: str, max_iter: int
) -> Array:
    """Netrep's iteration (weights alpha^2 : (2 - alpha)^2) with its stopping rule."""
    xp, alpha = processes.xp, processes.alpha
    weights = (alpha * alpha, (2 - alpha) ** 2)
    size_x = weights[0] * processes.sq_means_x + weights[1] * _host(
        xp.sum(processes.sx**2, axis=(1, 2))
    )
    size_y = weights[0] * _host(xp.sum(processes.my**2, axis=(1, 2))) + weights[1] * _host(
        xp.sum(processes.sy**2, axis=(1, 2))
    )
    sizes = size_x + size_y
    losses = [[] for _ in pairs]
    running = np.arange(len(pairs))
    for i in range(max_iter):
        _, polar = processes.evaluate_polar(
            take_rows(T, running, xp), pairs[running], STEP_EIGENVALUE_RATIO
        )
        target = processes.step_target(polar, pairs[running], weights)
        steps = align_many_to_group(target, group, xp)
        T = put_rows(T, running, steps, xp)
        # |A - B T|^2 of netrep's stacked blocks, from the same products.
        inner = _host(xp.sum(steps * target, axis=(1, 2)))
        stop = np.zeros(len(running), dtype=bool)
        for j, k in enumerate(running):
            losses[k].append(max(sizes[pairs[k]] - 2 * inner[j], 0.0) ** 0.5)
            stop[j] = i >= 2 and losses[k][-2] - losses[k][-1] < 1e-8
        running = running[~stop]
        if len(running) == 0:
            break
    return T


def _descend(
    processes: _Processes, T: Array, pairs: np.ndarray, group: str, max_iter: int, tol: float
) -> tuple[Array, np.ndarray, list, np.ndarray]:
    """Minorise-maximise steps on the scored objective until each gains less than ``tol``."""
    xp, alpha = processes.xp, processes.alpha
    values, polar = processes.evaluate_polar(T, pairs, STEP_EIGENVALUE_RATIO)
    histories = [[float(v)] for v in values]
    weights = (alpha, 2 - alpha)
    floors = 1e-14 * (alpha * processes.sq_means_x[pairs] + (2 - alpha) * processes.traces[pairs])
    n_iter = np.full(len(pairs), max_iter, dtype=np.int64)
    converged = np.zeros(len(pairs), dtype=bool)
    running = np.arange(len(pairs))
    for step in range(1, max_iter + 1):
        target = processes.step_target(take_rows(polar, running, xp), pairs[running], weights)
        candidates = align_many_to_group(target, group, xp)
        trial_values, trial_polar = processes.evaluate_polar(
            candidates, pairs[running], STEP_EIGENVALUE_RATIO
        )
        gains = values[running] - trial_values
        better = np.flatnonzero(gains >= 0)
        taken = running[better]
        T = put_rows(T, taken, take_rows(candidates, better, xp), xp)
        polar = put_rows(polar, taken, take_rows(trial_polar, better, xp), xp)
        values[taken] = trial_values[better]
        for k in taken:
            histories[k].append(float(values[k]))
        stop = gains <= tol * np.maximum(values[running], floors[running])
        n_iter[running[stop]] = step
        converged[running[stop]] = True
        running = running[~stop]
        if len(running) == 0:
            break
    return T, values, histories, n_iter, converged


def _fit_from(
    processes: _Processes, T: Array, pairs: np.ndarray, group: str, max_iter: int, tol: float
) -> tuple[Array, np.ndarray, list, np.ndarray]:
    """Minorise-maximise steps, then (rotations) trust-region Newton; as the Gaussian fit.

    Minorise-maximise converges linearly and, from a start in the wrong
    component of the group, crawls for hundreds of steps; once a step gains
    less than 1e-3 of the distance, Newton's method converges in a few.
    """
    switch = max(tol, NEWTON_SWITCH) if group == "orth" else tol
    T, values, histories, n_iter, converged = _descend(processes, T, pairs, group, max_iter, switch)
    if group != "orth" or T.shape[-1] < 2:
        return T, values, histories, n_iter
    newton = np.flatnonzero((n_iter < max_iter) & ~(converged & (tol >= NEWTON_SWITCH)))
    if len(newton):
        points = processes.evaluate(T, pairs)
        T, _ = newton_by_promise(
            processes, points, T, histories, n_iter, converged, newton, max_iter, tol
        )
        values = points.values
    return T, values, histories, n_iter


def fit_gp_pairs(
    xs: Sequence[GPStatistics],
    ys: Sequence[GPStatistics],
    *,
    alpha: float,
    group: str,
    init: str,
    n_restarts: int,
    max_iter: int,
    tol: float,
    random_state: RandomState,
    xp: Namespace,
) -> list[tuple]:
    """Fit every pair ``(xs[k], ys[k])`` (parameters checked by the caller).

    Returns one ``(T, loss_history, n_iter)`` tuple per pair, ``T`` for the
    pair in the caller's order; the caller evaluates the distance there.
    """
    from sklearn.utils import check_random_state

    swaps = [canonical_key(x.means, x.trace) > canonical_key(y.means, y.trace) for x, y in
             zip(xs, ys, strict=True)]  # fmt: skip
    firsts = [y if swap else x for x, y, swap in zip(xs, ys, swaps, strict=True)]
    seconds = [x if swap else y for x, y, swap in zip(xs, ys, swaps, strict=True)]
    processes = _Processes(firsts, seconds, alpha, xp)
    n_pairs, n_dims = len(xs), processes.n_dims
    every_pair = np.arange(n_pairs)
    starts: list[list[Array]] = [[] for _ in every_pair]
    if init == "means":
        cross_means = _mT(processes.my, xp) @ processes.mx
        means_starts = align_many_to_group(cross_means, group, xp)
        netrep_starts = None
        if group != "identity":
            netrep_starts = _netrep_steps(
                processes, xp.asarray(means_starts, copy=True), every_pair, group, max_iter
            )
            identity = xp.eye(
                n_dims, dtype=cross_means.dtype, device=array_api_compat.device(cross_means)
            )
            identities = xp.stack([identity] * n_pairs)
            at_identity, _ = processes.evaluate_polar(identities, every_pair)
            at_means, _ = processes.evaluate_polar(means_starts, every_pair)
        reflected = None
        if group == "orth" and n_dims > 1:
            reflected = reflected_polar(cross_means, xp)
        for k in every_pair:
            if netrep_starts is not None:
                starts[k].append(netrep_starts[k, ...])
            starts[k].append(means_starts[k, ...])
            if group != "identity" and at_identity[k] <= at_means[k]:
                starts[k].append(identities[k, ...])
            if reflected is not None:
                starts[k].append(reflected[k, ...])
    random_starts = n_restarts - 1 if init == "means" else n_restarts
    for k in every_pair:
        rng = check_random_state(random_state)
        starts[k] += [
            _random_group_element(n_dims, group, rng, firsts[k].means) for _ in range(random_starts)
        ]
        if group == "identity":
            starts[k] = starts[k][:1]
    pairs = np.concatenate([np.full(len(s), k) for k, s in enumerate(starts)])
    T = xp.stack([T for s in starts for T in s])
    if group == "identity":
        values, _ = processes.evaluate_polar(T, pairs)
        histories = [[float(v)] for v in values]
        n_iter = np.zeros(len(pairs), dtype=np.int64)
    else:
        T, values, histories, n_iter = _fit_from(processes, T, pairs, group, max_iter, tol)
    # The starts within rounding of each pair's best (Newton's values carry about
    # 1e4 eps of the traces) are told apart by values from an SVD.
    best_values = np.full(n_pairs, np.inf)
    np.minimum.at(best_values, pairs, values)
    margins = _SELECTION_MARGIN * processes.noise[pairs]
    close = np.flatnonzero(values <= best_values[pairs] + margins)
    exact = np.full(len(pairs), np.inf)
    exact[close], _ = processes.evaluate_polar(take_rows(T, close, xp), pairs[close])
    results = []
    for k in every_pair:
        candidates = np.flatnonzero(pairs == k)
        best = candidates[np.argmin(exact[candidates])]  # the first on ties
        T_best = T[int(best), ...]
        results.append(
            (_mT(T_best, xp) if swaps[k] else T_best, histories[best], int(n_iter[best]))
        )
    return results
