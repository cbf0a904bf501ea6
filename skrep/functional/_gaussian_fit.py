"""The Gaussian stochastic fit of many pairs at once.

Every pair of networks and every start of its fit is one problem; all the
problems of a call run in lockstep on one
:class:`~skrep.functional._gaussian_objective.GaussianPairsObjective`, so
each iteration is one batched SVD over every problem's classes, and each
problem stops on its own tolerance. A problem's steps are those it would take
alone: minorise-maximise (netrep's scheme, on the scored objective) while
each step gains more than 1e-3 of the distance, then, for rotations,
trust-region Newton (``_orthogonal_trust_region``). Switching earlier saves
evaluations but was measured to end in a different local minimum, sometimes
higher than netrep's, on a few percent of random inputs. Newton's method runs
each pair's most promising start to the tolerance and its other starts first
to 1e-6, refining only those that come within 1e-4 of the pair's best: on
2,100 test fits this changed no distance by more than rounding, and it saves
about a sixth of a wide layer's matrix (20 classes x 50 units).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn import get_config

from .._array import matrix_transpose as _mT
from .._array import to_numpy
from .._typing import Array, Namespace, RandomState
from ._gaussian_objective import GaussianPairsObjective, Points, sq_distance_terms
from ._gaussian_starts import canonically_swapped, starting_alignments
from ._orthogonal_trust_region import minimise_on_orthogonal_group
from ._rows import put_rows, take_rows

if TYPE_CHECKING:
    from .gaussian_stochastic import GaussianStatistics

# Relative gain per minorise-maximise step below which the rotation fit turns
# to trust-region Newton.
NEWTON_SWITCH = 1e-3

# Tolerance of the starts other than a pair's most promising one, and how close
# to the pair's best distance (relative) such a start must come to be refined.
_LOOSE_TOL = 1e-6
_CONTENDER = 1e-4

# Arrays of one problem's size (n_classes x n_features^2 floats) held at once
# while fitting: the SVD factors, the Hessian blocks and temporaries.
_ARRAYS_PER_PROBLEM = 16

# Starts whose fitted values lie within this many times a pair's rounding level
# (``objective.noise``) of its best are compared on exact values.
_SELECTION_MARGIN = 100


def minorise_maximise(
    objective: GaussianPairsObjective,
    points: Points,
    T: Array,
    group: str,
    max_iter: int,
    tol: float,
    *,
    approximate: bool = False,
) -> tuple[Array, Points, list, np.ndarray, np.ndarray]:
    """Minorise-maximise steps until each problem's step lowers d^2 by less than ``tol``.

    The nuclear norms are convex, so their linearisation at ``T`` bounds them
    from below; maximising it over the group (a polar factor for "orth", an
    assignment for "perm") gives a step that never raises d^2. With
    ``approximate``, the steps are judged on
    :meth:`~skrep.functional._gaussian_objective.GaussianPairsObjective.evaluate_steps`
    (values to about 1e-8, for a hand-over to Newton's method) and the
    objective is evaluated exactly once more at the end. Returns ``T``, the
    objective there, the histories, iteration counts and convergence flags.
    """
    xp = objective.xp
    size = T.shape[0]
    values, gradients = points.values.copy(), points.gradients
    histories = [[float(v)] for v in values]
    n_iter = np.zeros(size, dtype=np.int64)
    converged = np.zeros(size, dtype=bool)
    noise = objective.noise[points.pairs]
    running = np.flatnonzero(np.ones(size, dtype=bool))
    while len(running):
        n_iter[running] += 1
        candidates = objective.descent_steps(take_rows(gradients, running, xp), group)
        if approximate:
            trial_values, trial_gradients = objective.evaluate_steps(
                candidates, points.pairs[running]
            )
        else:
            trial = objective.evaluate(candidates, points.pairs[running])
            trial_values, trial_gradients = trial.values, trial.gradients
        gains = values[running] - trial_values
        better = np.flatnonzero(gains >= 0)
        if len(better):
            taken = running[better]
            values[taken] = trial_values[better]
            gradients = put_rows(gradients, taken, take_rows(trial_gradients, better, xp), xp)
            if not approximate:
                points.put(taken, trial.take(better, xp), xp)
            T = put_rows(T, taken, take_rows(candidates, better, xp), xp)
            for k in taken:
                histories[k].append(float(values[k]))
        stop = gains <= tol * np.maximum(values[running], noise[running])
        converged[running[stop]] = True
        running = running[~stop & (n_iter[running] < max_iter)]
    if approximate:
        points = objective.evaluate(T, points.pairs)
    return T, points, histories, n_iter, converged


def _fit_problems(
    objective: GaussianPairsObjective, T: Array, points: Points, group: str, max_iter: int,
    tol: float,
) -> tuple[Array, np.ndarray, list, np.ndarray, np.ndarray]:  # fmt: skip
    """Fit every problem from its start ``T`` (objective ``points`` there).

    Returns (T, values, histories, n_iter, converged).
    """
    xp = objective.xp
    if group == "identity":
        size = len(points.values)
        histories = [[float(v)] for v in points.values]
        return T, points.values, histories, np.zeros(size, np.int64), np.ones(size, bool)
    T = xp.asarray(T, copy=True)
    # Rotations: minorise-maximise while it makes fast progress (as netrep's
    # iteration does, so both settle in the same basin), then trust-region
    # Newton, which converges quadratically where minorise-maximise crawls.
    switch = max(tol, NEWTON_SWITCH) if group == "orth" else tol
    # Steps judged on cheaper evaluations where Newton's method follows on exact ones.
    approximate = group == "orth" and tol < NEWTON_SWITCH
    T, points, histories, n_iter, converged = minorise_maximise(
        objective, points, T, group, max_iter, switch, approximate=approximate
    )
    if group != "orth":
        return T, points.values, histories, n_iter, converged
    newton = np.flatnonzero((n_iter < max_iter) & ~(converged & (tol >= NEWTON_SWITCH)))
    if len(newton) == 0:
        return T, points.values, histories, n_iter, converged
    T, converged = newton_by_promise(
        objective, points, T, histories, n_iter, converged, newton, max_iter, tol
    )
    return T, points.values, histories, n_iter, converged


def newton_by_promise(
    objective: object, points: Points, T: Array, histories: list, n_iter: np.ndarray,
    converged: np.ndarray, newton: np.ndarray, max_iter: int, tol: float,
) -> tuple[Array, np.ndarray]:  # fmt: skip
    """Trust-region Newton on the problems ``newton``, each pair's best start first.

    Each pair's most promising start (the lowest value after minorise-maximise)
    runs to ``tol``; its other starts, which usually settle in the other
    component of the group at a clearly larger distance, first run to a looser
    tolerance (1e-6), and go on to ``tol`` only where they come within 1e-4
    of the pair's best (the looser stop leaves about 1e-6 of the distance to
    gain). ``points``, ``histories``, ``n_iter`` and ``converged`` are updated
    in place; returns ``T`` and ``converged``. Used by the Gaussian and the
    process fits (any objective with the trust region's interface).
    """
    pairs = points.pairs
    leaders = np.zeros(len(pairs), dtype=bool)
    for k in np.unique(pairs):
        candidates = np.flatnonzero(pairs == k)
        leaders[candidates[np.argmin(points.values[candidates])]] = True
    tols = np.where(leaders[newton], tol, max(tol, _LOOSE_TOL))
    T, converged = _newton(
        objective, points, T, histories, n_iter, converged, newton, max_iter, tols
    )
    best = np.full(int(pairs.max()) + 1, np.inf)
    np.minimum.at(best, pairs, points.values)
    contenders = newton[
        ~leaders[newton]
        & (n_iter[newton] < max_iter)
        & (points.values[newton] <= best[pairs[newton]] * (1 + _CONTENDER))
    ]
    if tol < _LOOSE_TOL and len(contenders):
        T, converged = _newton(
            objective, points, T, histories, n_iter, converged, contenders, max_iter, tol
        )
    return T, converged


def _newton(
    objective: object, points: Points, T: Array, histories: list,
    n_iter: np.ndarray, converged: np.ndarray, rows: np.ndarray, max_iter: int,
    tol: float | np.ndarray,
) -> tuple[Array, np.ndarray]:  # fmt: skip
    """Trust-region Newton on the problems ``rows``; their state is updated in place."""
    xp = objective.xp
    run = minimise_on_orthogonal_group(
        objective,
        points.take(rows, xp),
        take_rows(T, rows, xp),
        max_iter=max_iter - n_iter[rows],
        tol=tol,
    )
    T = put_rows(T, rows, run.T, xp)
    points.put(rows, run.points, xp)
    for j, k in enumerate(rows):
        histories[k] = histories[k] + run.histories[j][1:]
    n_iter[rows] += run.n_iter
    converged[rows] = run.converged
    return T, converged


def _pairs_per_chunk(stats: GaussianStatistics, problems_per_pair: int) -> int:
    """Pairs fitted together within scikit-learn's ``working_memory``."""
    n_classes, n_features = stats.means.shape
    per_problem = _ARRAYS_PER_PROBLEM * n_classes * n_features**2 * 8
    budget = get_config()["working_memory"] * 2**20
    return max(1, int(budget // (per_problem * problems_per_pair)))


def fit_pairs(
    stats_x: Sequence[GaussianStatistics],
    stats_y: Sequence[GaussianStatistics],
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
    """Fit every pair ``(stats_x[k], stats_y[k])`` (parameters checked by the caller).

    Each pair is fitted in one canonical order (so d(X, Y) and d(Y, X) are the
    same computation), from every start of :func:`starting_alignments`. The
    starts within rounding of the lowest fitted value are evaluated once more
    exactly (in the canonical order, so d(X, Y) and d(Y, X) are one number);
    the lowest exact value wins (the first start on ties) and is the reported
    squared distance. Returns one ``(T, sq_distance, loss_history, n_iter,
    converged)`` tuple per pair.
    """
    results: list[tuple] = []
    starts_per_pair = (3 if group == "orth" else 2) + n_restarts
    chunk = _pairs_per_chunk(stats_x[0], starts_per_pair)
    for begin in range(0, len(stats_x), chunk):
        results += _fit_chunk(
            stats_x[begin : begin + chunk], stats_y[begin : begin + chunk], alpha, group, init,
            n_restarts, max_iter, tol, random_state, xp,
        )  # fmt: skip
    return results


def _fit_chunk(
    stats_x: Sequence[GaussianStatistics], stats_y: Sequence[GaussianStatistics], alpha: float,
    group: str, init: str, n_restarts: int, max_iter: int, tol: float,
    random_state: RandomState, xp: Namespace,
) -> list[tuple]:  # fmt: skip
    swaps = [canonically_swapped(x, y) for x, y in zip(stats_x, stats_y, strict=True)]
    firsts = [y if swap else x for x, y, swap in zip(stats_x, stats_y, swaps, strict=True)]
    seconds = [x if swap else y for x, y, swap in zip(stats_x, stats_y, swaps, strict=True)]
    objective = GaussianPairsObjective(firsts, seconds, alpha, xp)
    starts, points = starting_alignments(objective, group, init, n_restarts, random_state)
    pairs = points.pairs
    T, values, histories, n_iter, converged = _fit_problems(
        objective, starts, points, group, max_iter, tol
    )
    # The starts within rounding of each pair's best (the fits' values carry
    # about 1e4 eps of the objective's scale) are told apart by exact values.
    margin = _SELECTION_MARGIN * objective.noise[pairs]
    best_values = np.full(len(stats_x), np.inf)
    np.minimum.at(best_values, pairs, values)
    candidates = np.flatnonzero(values <= best_values[pairs] + margin)
    # Exact values in the canonical order, so that d(X, Y) and d(Y, X) are one number.
    T_candidates = take_rows(T, candidates, xp)
    sq = _exact_sq_distances(firsts, seconds, pairs[candidates], T_candidates, alpha, xp)
    best, sq_distances = np.zeros(len(stats_x), dtype=np.int64), np.zeros(len(stats_x))
    for k in range(len(stats_x)):
        mine = np.flatnonzero(pairs[candidates] == k)
        chosen = mine[np.argmin(sq[mine])]  # the first on ties
        best[k], sq_distances[k] = chosen, sq[chosen]
    T = take_rows(T_candidates, best, xp)
    flip = np.flatnonzero(swaps)
    T = put_rows(T, flip, _mT(take_rows(T, flip, xp), xp), xp)  # in the caller's order
    best = candidates[best]
    return [
        (
            T[k, ...],
            max(float(sq_distances[k]), 0.0),
            histories[b],
            int(n_iter[b]),
            bool(converged[b]),
        )
        for k, b in enumerate(best)
    ]


def _exact_sq_distances(
    stats_x: Sequence[GaussianStatistics], stats_y: Sequence[GaussianStatistics],
    pairs: np.ndarray, T: Array, alpha: float, xp: Namespace,
) -> np.ndarray:  # fmt: skip
    """Squared distances of the pairs ``pairs`` (indices into the stats) at ``T``, exactly."""
    index = {}
    for k in pairs:
        index.setdefault(int(k), len(index))
    stacked = {
        name: take_rows(
            xp.stack([getattr(stats[k], field) for k in index]),
            np.array([index[int(k)] for k in pairs]),
            xp,
        )
        for name, stats, field in (
            ("means_x", stats_x, "means"),
            ("roots_x", stats_x, "sqrt_covariances"),
            ("means_y", stats_y, "means"),
            ("roots_y", stats_y, "sqrt_covariances"),
        )
    }
    terms = sq_distance_terms(
        stacked["means_x"], stacked["roots_x"], stacked["means_y"], stacked["roots_y"], T,
        alpha, xp,
    )  # fmt: skip
    return np.asarray(to_numpy(xp.mean(terms, axis=-1)), dtype=np.float64)
