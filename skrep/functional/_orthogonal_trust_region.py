"""Riemannian trust-region Newton minimisation over the orthogonal group.

Written here rather than taken from a library: the Riemannian optimisation
packages (pymanopt, geoopt) are not dependencies, run one problem per Python
call without batching over classes, and need an autodiff backend for
Hessians, while the objectives here have closed-form Hessian-vector products
that reuse the factorisations of the gradient (a few batched matrix products
each). The method is the trust-region algorithm of Absil, Baker and Gallivan
(2007) with the truncated conjugate-gradient inner solver of Steihaug and
Toint, preconditioned.

Tangent vectors at ``T`` are written ``T @ E`` with ``E`` skew-symmetric and
the metric is the Frobenius one, so the Riemannian gradient is
``skew(T' G)`` and the Riemannian Hessian is
``skew(T' D2f[T E]) - skew(E sym(T' G))`` for the Euclidean gradient ``G`` and
Hessian ``D2f``. The retraction is the Cayley transform.

The objective is an object with two methods:

- ``evaluate(T)`` returns a point with attributes ``value`` (float) and
  ``gradient`` (the Euclidean gradient, an array like ``T``), plus whatever
  the Hessian needs;
- ``hessian(point, V)`` applies the Euclidean Hessian at ``point`` to the
  ambient direction ``V``;
- ``descent_step(point)`` returns an orthogonal matrix at which the objective
  is no higher (a minorise-maximise step, say). The orthogonal group has two
  connected components (determinant +1 and -1) and a retraction never leaves
  the one it starts in, so this step is tried whenever it lies in the other
  component, and taken when it lowers the objective.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat

from .._array import matrix_transpose as _mT
from .._typing import Array, Namespace

_ACCEPT = 0.1  # least ratio of actual to predicted decrease that accepts a step
_INITIAL_RADIUS = 0.3  # times sqrt(n), in the preconditioned norm
_MAX_CG_FRACTION = 0.1  # inner solve: relative residual at most 0.1 (and r0^2)


def _skew(A: Array, xp: Namespace) -> Array:
    return (A - _mT(A, xp)) / 2


def _sym(A: Array, xp: Namespace) -> Array:
    return (A + _mT(A, xp)) / 2


def _inner(A: Array, B: Array, xp: Namespace) -> float:
    return float(xp.sum(A * B))


class _Frame:
    """Riemannian quantities at one point, in skew-symmetric coordinates."""

    def __init__(self, objective: Any, point: Any, T: Array, xp: Namespace) -> None:
        self.objective, self.point, self.T, self.xp = objective, point, T, xp
        projected = _mT(T, xp) @ point.gradient
        self.gradient = _skew(projected, xp)
        self.symmetric_part = _sym(projected, xp)
        # Preconditioner: the curvature the orthogonality constraint adds,
        # E -> -skew(E S) with S = sym(T'G), in the eigenbasis of S (entry
        # (j, k) scales by -(s_j + s_k)/2). It is the part of the Hessian that
        # minorise-maximise steps model; magnitudes are floored and normalised
        # to mean one so that the trust radius stays in rotation units.
        values, self.basis = xp.linalg.eigh(-self.symmetric_part)
        scale = xp.abs(values[:, None] + values[None, :]) / 2
        floor = 1e-3 * float(xp.max(xp.abs(values))) + 1e-300
        scale = xp.where(scale > floor, scale, xp.full_like(scale, floor))
        self.scale = scale / xp.mean(scale)

    def hessian(self, E: Array) -> Array:
        xp = self.xp
        ambient = self.objective.hessian(self.point, self.T @ E)
        return _skew(_mT(self.T, xp) @ ambient, xp) - _skew(E @ self.symmetric_part, xp)

    def precondition(self, R: Array) -> Array:
        xp, W = self.xp, self.basis
        return W @ ((_mT(W, xp) @ R @ W) / self.scale) @ _mT(W, xp)


def _truncated_cg(frame: _Frame, radius: float, max_inner: int) -> tuple[Array, float, bool]:
    """Steihaug-Toint truncated CG on the trust-region model, preconditioned.

    Returns the step, the decrease the quadratic model predicts for it, and
    whether the step stopped at the trust-region boundary.
    """
    xp = frame.xp
    g = frame.gradient
    eta = xp.zeros_like(g)
    residual = g
    z = frame.precondition(residual)
    direction = -z
    r_norm0 = math.sqrt(_inner(g, g, xp))
    rz = _inner(residual, z, xp)
    if r_norm0 == 0 or rz <= 0:  # a critical point: nothing to predict
        return eta, 0.0, False
    # Norms in the preconditioner's metric, updated by recurrence.
    eta_eta, eta_dir, dir_dir = 0.0, 0.0, rz
    at_boundary = False
    for _ in range(max_inner):
        H_dir = frame.hessian(direction)
        curvature = _inner(direction, H_dir, xp)
        step = rz / curvature if curvature > 0 else math.inf
        next_eta_eta = eta_eta + 2 * step * eta_dir + step * step * dir_dir
        if curvature <= 0 or next_eta_eta >= radius**2:
            # Leave along the direction to the trust-region boundary.
            tau = (-eta_dir + math.sqrt(eta_dir**2 + dir_dir * (radius**2 - eta_eta))) / dir_dir
            eta = eta + tau * direction
            at_boundary = True
            break
        eta = eta + step * direction
        eta_eta = next_eta_eta
        residual = residual + step * H_dir
        r_norm = math.sqrt(_inner(residual, residual, xp))
        if r_norm <= r_norm0 * min(r_norm0, _MAX_CG_FRACTION):
            break
        z = frame.precondition(residual)
        rz_next = _inner(residual, z, xp)
        beta = rz_next / rz
        direction = -z + beta * direction
        rz = rz_next
        eta_dir = beta * (eta_dir + step * dir_dir)
        dir_dir = rz + beta * beta * dir_dir
    predicted = -(_inner(g, eta, xp) + _inner(eta, frame.hessian(eta), xp) / 2)
    return eta, predicted, at_boundary


def _cayley(T: Array, E: Array, xp: Namespace) -> Array:
    identity = xp.eye(T.shape[0], dtype=T.dtype, device=array_api_compat.device(T))
    return T @ xp.linalg.solve(identity - E / 2, identity + E / 2)


def minimise_on_orthogonal_group(
    objective: Any,
    T: Array,
    *,
    max_iter: int,
    tol: float,
    noise: float,
    xp: Namespace,
    start: Any = None,
) -> tuple[Array, float, list[float], int, bool]:
    """Minimise ``objective`` over orthogonal matrices from the start ``T``.

    Parameters
    ----------
    objective : object
        With ``evaluate(T)`` and ``hessian(point, V)`` as in the module notes.
    T : array of shape (n, n)
        Orthogonal starting point.
    max_iter : int
        Most outer iterations (objective evaluations after the first).
    tol : float
        Stop when the model predicts a decrease below ``tol`` times the
        objective's magnitude (after taking that last step if it lowers the
        objective), or when two accepted steps in a row each lower it by less
        than that.
    noise : float
        Rounding level of the objective: the magnitude used by ``tol`` is at
        least this, so that a run whose objective reaches zero stops.
    xp : namespace
        Array namespace of ``T``.
    start : point or None, default=None
        ``objective.evaluate(T)`` when the caller already has it.

    Returns
    -------
    T : array of shape (n, n)
        The best point found.
    value : float
        The objective there.
    history : list of float
        The objective at the start and after each accepted step.
    n_iter : int
        Outer iterations run.
    converged : bool
        Whether a stopping rule other than ``max_iter`` (or a collapsed trust
        region, which means rounding noise swamps the model) ended the run.
    """
    n = T.shape[0]
    point = objective.evaluate(T) if start is None else start
    history = [point.value]
    if n < 2:  # O(1) = {1, -1} has no tangent directions
        return T, point.value, history, 0, True
    frame = _Frame(objective, point, T, xp)
    max_inner = n * (n - 1) // 2
    radius = _INITIAL_RADIUS * math.sqrt(n)
    max_radius = math.pi * math.sqrt(n)
    eps = float(xp.finfo(T.dtype).eps)
    converged, n_small, n_iter, moved = False, 0, 0, True
    while n_iter < max_iter:
        scale = max(abs(point.value), noise)
        if moved:
            moved = False
            jump = objective.descent_step(point)
            if float(xp.linalg.det(jump)) * float(xp.linalg.det(frame.T)) < 0:
                n_iter += 1
                trial = objective.evaluate(jump)
                if point.value - trial.value > tol * scale:
                    point, frame, moved = trial, _Frame(objective, trial, jump, xp), True
                    history.append(point.value)
                    n_small = 0
                    continue
        eta, predicted, at_boundary = _truncated_cg(frame, radius, max_inner)
        last = predicted <= tol * scale
        if last and predicted <= noise:
            converged = True
            break
        n_iter += 1
        candidate = _cayley(frame.T, eta, xp)
        trial = objective.evaluate(candidate)
        actual = point.value - trial.value
        if last:
            # The model predicts less than tol: take this last Newton step when
            # it helps (near a minimum it roughly squares the remaining error).
            if actual > 0:
                point, frame = trial, _Frame(objective, trial, candidate, xp)
                history.append(point.value)
            converged = True
            break
        ratio = actual / predicted
        if ratio < 0.25:
            radius /= 4
        elif ratio > 0.75 and at_boundary:
            radius = min(2 * radius, max_radius)
        if ratio > _ACCEPT and actual >= 0:
            point, frame, moved = trial, _Frame(objective, trial, candidate, xp), True
            history.append(point.value)
            n_small = n_small + 1 if actual <= tol * scale else 0
            if n_small == 2:
                converged = True
                break
        if radius < math.sqrt(eps) * 1e-3:
            break
    return frame.T, point.value, history, n_iter, converged
