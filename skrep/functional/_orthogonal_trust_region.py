"""Riemannian trust-region Newton over the orthogonal group, for many problems in lockstep.

Written here rather than taken from a library: the Riemannian optimisation
packages (pymanopt, geoopt) are not dependencies, run one problem per Python
call, and need an autodiff backend for Hessians, while the objectives here
have closed-form Hessian-vector products that reuse the factorisations of the
gradient, and a K x K distance matrix is many small problems whose linear
algebra is worth batching (one stacked SVD per step for all of them). The
method is the trust-region algorithm of Absil, Baker and Gallivan (2007) with
the truncated conjugate-gradient inner solver of Steihaug and Toint,
preconditioned; every problem keeps its own radius, inner iterations and
stopping decisions, so each ends exactly where it would alone.

Tangent vectors at ``T`` are written ``T @ E`` with ``E`` skew-symmetric and
the metric is the Frobenius one, so the Riemannian gradient is
``skew(T' G)`` and the Riemannian Hessian is
``skew(T' D2f[T E]) - skew(E sym(T' G))`` for the Euclidean gradient ``G`` and
Hessian ``D2f``. The retraction is the Cayley transform.

The objective is a :class:`~skrep.functional._gaussian_objective.GaussianPairsObjective`
(``evaluate``, ``hessian_factors``, ``hessian``, ``descent_steps``). The
orthogonal group has two connected components (determinant +1 and -1) and a
retraction never leaves the one it starts in, so the minorise-maximise step
is tried whenever it lies in the other component, and taken when it lowers
the objective.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from .._array import matrix_transpose as _mT
from .._array import to_numpy
from .._typing import Array, Namespace
from ._gaussian_objective import Points, per_problem_sums
from ._rows import put_rows, take_rows

_ACCEPT = 0.1  # least ratio of actual to predicted decrease that accepts a step
_INITIAL_RADIUS = 0.3  # times sqrt(n), in the preconditioned norm
_MAX_CG_FRACTION = 0.1  # inner solve: relative residual at most 0.1 (and r0^2)


def _skew(A: Array, xp: Namespace) -> Array:
    return (A - _mT(A, xp)) / 2


def _sym(A: Array, xp: Namespace) -> Array:
    return (A + _mT(A, xp)) / 2


def _take(arrays: dict[str, Array], positions: np.ndarray, xp: Namespace) -> dict[str, Array]:
    return {name: take_rows(a, positions, xp) for name, a in arrays.items()}


class _Frames:
    """Riemannian quantities at one point per problem, in skew-symmetric coordinates."""

    def __init__(self, objective: Any, points: Points, T: Array) -> None:
        xp = objective.xp
        self.objective, self.xp = objective, xp
        projected = _mT(T, xp) @ points.gradients
        # Preconditioner: the curvature the orthogonality constraint adds,
        # E -> -skew(E S) with S = sym(T'G), in the eigenbasis of S (entry
        # (j, k) scales by -(s_j + s_k)/2). It is the part of the Hessian that
        # minorise-maximise steps model; magnitudes are floored and normalised
        # to mean one so that the trust radius stays in rotation units.
        symmetric_part = _sym(projected, xp)
        values, basis = xp.linalg.eigh(-symmetric_part)
        scale = xp.abs(values[..., :, None] + values[..., None, :]) / 2
        floor = 1e-3 * xp.max(xp.abs(values), axis=-1)[:, None, None] + 1e-300
        scale = xp.where(scale > floor, scale, floor * xp.ones_like(scale))
        scale = scale / xp.mean(scale, axis=(-2, -1), keepdims=True)
        self.arrays = {
            "T": T,
            "gradient": _skew(projected, xp),
            "symmetric_part": symmetric_part,
            "basis": basis,
            "scale": scale,
            **objective.hessian_factors(points),
        }

    def take(self, positions: np.ndarray) -> dict[str, Array]:
        return _take(self.arrays, positions, self.xp)

    def put(self, positions: np.ndarray, other: _Frames) -> None:
        for name, array in self.arrays.items():
            self.arrays[name] = put_rows(array, positions, other.arrays[name], self.xp)


def _hessian(objective: Any, frame: dict[str, Array], E: Array) -> Array:
    xp, T = objective.xp, frame["T"]
    ambient = objective.hessian(frame, T @ E)
    return _skew(_mT(T, xp) @ ambient, xp) - _skew(E @ frame["symmetric_part"], xp)


def _precondition(frame: dict[str, Array], R: Array, xp: Namespace) -> Array:
    W = frame["basis"]
    return W @ ((_mT(W, xp) @ R @ W) / frame["scale"]) @ _mT(W, xp)


def _truncated_cg(
    objective: Any, frame: dict[str, Array], radius: np.ndarray, max_inner: int
) -> tuple[Array, np.ndarray, np.ndarray]:
    """Steihaug-Toint truncated CG on every problem's trust-region model, preconditioned.

    Returns the steps, the decreases the quadratic models predict for them,
    and whether each step stopped at its trust-region boundary. Problems
    leave the inner loop on their own criteria; the others go on.
    """
    xp = objective.xp
    g = frame["gradient"]
    size = g.shape[0]
    eta = xp.zeros_like(g)
    residual = xp.asarray(g, copy=True)  # updated in place, problem by problem
    z = _precondition(frame, residual, xp)
    direction = -z
    r_norm0 = np.sqrt(per_problem_sums(g, g, xp))
    rz = per_problem_sums(residual, z, xp)
    at_boundary = np.zeros(size, dtype=bool)
    # A critical point has nothing to predict: its step stays 0.
    active = np.flatnonzero((r_norm0 > 0) & (rz > 0))
    # Norms in the preconditioner's metric, updated by recurrence.
    eta_eta, eta_dir, dir_dir = np.zeros(size), np.zeros(size), rz.copy()
    sub = frame if len(active) == size else _take(frame, active, xp)
    sub_positions = active
    for _ in range(max_inner):
        if len(active) == 0:
            break
        if len(sub_positions) != len(active):
            keep = np.flatnonzero(np.isin(sub_positions, active))
            sub, sub_positions = _take(sub, keep, xp), active
        d = take_rows(direction, active, xp)
        H_dir = _hessian(objective, sub, d)
        curvature = per_problem_sums(d, H_dir, xp)
        with np.errstate(divide="ignore"):
            step = np.where(
                curvature > 0, rz[active] / np.where(curvature > 0, curvature, 1), np.inf
            )
        e_e, e_d, d_d = eta_eta[active], eta_dir[active], dir_dir[active]
        with np.errstate(invalid="ignore", over="ignore"):
            next_eta_eta = e_e + 2 * step * e_d + step * step * d_d
        leaving = (curvature <= 0) | ~(next_eta_eta < radius[active] ** 2)
        # Leave along the direction to the trust-region boundary.
        with np.errstate(invalid="ignore"):
            tau = (-e_d + np.sqrt(e_d**2 + d_d * (radius[active] ** 2 - e_e))) / d_d
        coefficient = np.where(leaving, tau, step)
        eta = put_rows(eta, active, take_rows(eta, active, xp) + _column(coefficient, d) * d, xp)
        at_boundary[active[leaving]] = True
        stays = ~leaving
        eta_eta[active[stays]] = next_eta_eta[stays]
        new_residual = (
            take_rows(residual, active, xp) + _column(np.where(stays, step, 0.0), d) * H_dir
        )
        residual = put_rows(residual, active, new_residual, xp)
        r_norm = np.sqrt(per_problem_sums(new_residual, new_residual, xp))
        r0 = r_norm0[active]
        solved = stays & (r_norm <= r0 * np.minimum(r0, _MAX_CG_FRACTION))
        going = stays & ~solved
        if not going.any():
            active = active[:0]
            continue
        local = np.flatnonzero(going)
        r_going = take_rows(new_residual, local, xp)
        preconditioner = {name: take_rows(sub[name], local, xp) for name in ("basis", "scale")}
        z = _precondition(preconditioner, r_going, xp)
        rz_next = per_problem_sums(r_going, z, xp)
        positions = active[going]
        beta = rz_next / rz[positions]
        new_direction = -z + _column(beta, z) * take_rows(direction, positions, xp)
        direction = put_rows(direction, positions, new_direction, xp)
        rz[positions] = rz_next
        eta_dir[positions] = beta * (eta_dir[positions] + step[going] * dir_dir[positions])
        dir_dir[positions] = rz_next + beta * beta * dir_dir[positions]
        active = positions
    predicted = -(
        per_problem_sums(g, eta, xp)
        + per_problem_sums(eta, _hessian(objective, frame, eta), xp) / 2
    )
    return eta, predicted, at_boundary


def _column(values: np.ndarray, like: Array) -> Array:
    """Host per-problem scalars as an (A, 1, 1) array of ``like``'s kind."""
    values = np.asarray(values, dtype=np.float64)
    if isinstance(like, np.ndarray):
        return values.astype(like.dtype)[:, None, None]
    xp = array_api_compat.array_namespace(like)
    column = xp.asarray(values.tolist(), dtype=like.dtype, device=array_api_compat.device(like))
    return column[:, None, None]


def _cayley(T: Array, E: Array, xp: Namespace) -> Array:
    identity = xp.eye(T.shape[-1], dtype=T.dtype, device=array_api_compat.device(T))
    return T @ xp.linalg.solve(identity - E / 2, identity + E / 2)


def _determinant_signs(T: Array, xp: Namespace) -> np.ndarray:
    return np.sign(np.asarray(to_numpy(xp.linalg.det(T)), dtype=np.float64))


class TrustRegionRun:
    """Per-problem results of :func:`minimise_on_orthogonal_group`.

    Parameters
    ----------
    T : array of shape (A, n, n)
        The best point of each problem.
    values : ndarray of shape (A,)
        The objective there.
    histories : list of lists of float
        The objective at the start and after each accepted step, per problem.
    n_iter : ndarray of shape (A,)
        Outer iterations run (objective evaluations after the first).
    converged : ndarray of shape (A,)
        Whether a stopping rule other than ``max_iter`` (or a collapsed trust
        region, which means rounding noise swamps the model) ended the run.
    """

    def __init__(
        self, T: Array, values: np.ndarray, histories: list, n_iter: np.ndarray,
        converged: np.ndarray,
    ) -> None:  # fmt: skip
        self.T, self.values, self.histories = T, values, histories
        self.n_iter, self.converged = n_iter, converged
        self.points = None  # the objective at T (set by minimise_on_orthogonal_group)


def minimise_on_orthogonal_group(
    objective: Any,
    points: Points,
    T: Array,
    *,
    max_iter: np.ndarray,
    tol: float | np.ndarray,
) -> TrustRegionRun:
    """Minimise every problem's objective over orthogonal matrices from its start.

    Parameters
    ----------
    objective : GaussianPairsObjective
        The objective (its ``noise`` is each pair's rounding level: the
        magnitude ``tol`` refers to is at least that, so that a run whose
        objective reaches zero stops).
    points : Points
        The objective at the starts ``T``.
    T : array of shape (A, n, n)
        Orthogonal starting points.
    max_iter : ndarray of shape (A,)
        Most outer iterations per problem (objective evaluations after the first).
    tol : float or ndarray of shape (A,)
        A problem stops when its model predicts a decrease below ``tol`` times
        its objective's magnitude (after taking that last step if it lowers
        the objective), or when two accepted steps in a row each lower it by
        less than that.

    Returns
    -------
    TrustRegionRun
        The best point, value, history, iteration count and convergence flag
        of every problem.
    """
    xp = objective.xp
    size, n = T.shape[0], T.shape[-1]
    histories = [[float(v)] for v in points.values]
    n_iter = np.zeros(size, dtype=np.int64)
    converged = np.zeros(size, dtype=bool)
    if n < 2:  # O(1) = {1, -1} has no tangent directions
        run = TrustRegionRun(T, points.values.copy(), histories, n_iter, np.ones(size, bool))
        run.points = points
        return run
    noise = objective.noise[points.pairs]
    frames = _Frames(objective, points, xp.asarray(T, copy=True))
    max_inner = n * (n - 1) // 2
    radius = np.full(size, _INITIAL_RADIUS * math.sqrt(n))
    max_radius = math.pi * math.sqrt(n)
    eps = float(xp.finfo(T.dtype).eps)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), (size,))
    n_small = np.zeros(size, dtype=np.int64)
    moved = np.ones(size, dtype=bool)
    running = np.ones(size, dtype=bool) & (max_iter > 0)

    def accept(positions: np.ndarray, trial: Points, candidates: Array) -> None:
        points.put(positions, trial, xp)
        frames.put(positions, _Frames(objective, trial, candidates))
        for k, value in zip(positions, trial.values, strict=True):
            histories[k].append(float(value))

    while running.any():
        scale = np.maximum(np.abs(points.values), noise)
        # Minorise-maximise steps into the other component of the group.
        jumping = np.flatnonzero(running & moved)
        moved[jumping] = False
        jumped = np.zeros(size, dtype=bool)
        if len(jumping):
            jumps = objective.descent_steps(take_rows(points.gradients, jumping, xp), "orth")
            here = take_rows(frames.arrays["T"], jumping, xp)
            flips = _determinant_signs(jumps, xp) * _determinant_signs(here, xp) < 0
            if flips.any():
                tried = jumping[flips]
                n_iter[tried] += 1
                jumps = take_rows(jumps, np.flatnonzero(flips), xp)
                trial = objective.evaluate(jumps, points.pairs[tried])
                better = points.values[tried] - trial.values > tol[tried] * scale[tried]
                taken = tried[better]
                keep = np.flatnonzero(better)
                accept(taken, trial.take(keep, xp), take_rows(jumps, keep, xp))
                moved[taken] = True
                n_small[taken] = 0
                jumped[taken] = True
                running[taken] &= n_iter[taken] < max_iter[taken]
        stepping = np.flatnonzero(running & ~jumped)
        if len(stepping) == 0:
            continue
        frame = frames.take(stepping)
        eta, predicted, at_boundary = _truncated_cg(objective, frame, radius[stepping], max_inner)
        last = predicted <= tol[stepping] * scale[stepping]
        done_now = last & (predicted <= noise[stepping])
        converged[stepping[done_now]] = True
        running[stepping[done_now]] = False
        go = ~done_now
        if not go.any():
            continue
        positions = stepping[go]
        local = np.flatnonzero(go)
        n_iter[positions] += 1
        candidates = _cayley(take_rows(frame["T"], local, xp), take_rows(eta, local, xp), xp)
        trial = objective.evaluate(candidates, points.pairs[positions])
        actual = points.values[positions] - trial.values
        is_last = last[go]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = actual / predicted[go]
        # A last step (the model predicts less than tol) is taken when it helps:
        # near a minimum it roughly squares the remaining error.
        shrink = ~is_last & (ratio < 0.25)
        grow = ~is_last & (ratio > 0.75) & at_boundary[go]
        radius[positions[shrink]] /= 4
        radius[positions[grow]] = np.minimum(2 * radius[positions[grow]], max_radius)
        taken = np.where(is_last, actual > 0, (ratio > _ACCEPT) & (actual >= 0))
        keep = np.flatnonzero(taken)
        accept(
            positions[keep],
            trial.take(keep, xp),
            take_rows(candidates, keep, xp),
        )
        stepped = ~is_last & taken
        moved[positions[stepped]] = True
        small = actual <= tol[positions] * scale[positions]
        n_small[positions[stepped]] = np.where(small[stepped], n_small[positions[stepped]] + 1, 0)
        finished = is_last | (stepped & (n_small[positions] == 2))
        converged[positions[finished]] = True
        collapsed = ~finished & (radius[positions] < math.sqrt(eps) * 1e-3)
        running[positions[finished | collapsed]] = False
        running &= n_iter < max_iter
    run = TrustRegionRun(frames.arrays["T"], points.values.copy(), histories, n_iter, converged)
    run.points = points
    return run
