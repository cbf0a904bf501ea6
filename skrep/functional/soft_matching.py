"""Soft matching: optimal transport between the units of two representations.

Khosla & Williams (2023) compare two representations unit by unit: each unit
(a column, its responses to the stimuli: a tuning curve) is a point, each
representation the uniform distribution over its units, and the distance is
the 2-Wasserstein distance between the two distributions,

    d(X, Y)^2 = min_P sum_ij P_ij |x_i - y_j|^2,

over the transport plans ``P`` (``n_x x n_y``, nonnegative, rows summing to
``1 / n_x``, columns to ``1 / n_y``). A plan is a "soft" matching of the units:
networks of different widths compare, and for equal widths the optimal plans
include a permutation divided by ``n`` (Birkhoff), so the distance is the
permutation metric's Euclidean distance divided by ``sqrt(n)``: the root mean
square distance between matched tuning curves. It is a metric on
representations up to permutations of their units (and up to repeating every
unit the same number of times), not rotations.

The plan is found by POT (``ot.emd``, the exact network simplex, or
``ot.sinkhorn``, entropic regularisation, where the data is); the distance is
then computed from the units themselves over the plan's support, so that it
is exact near zero.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import array_api_compat
import numpy as np

from .._array import convert_like, get_namespace, is_torch_array, to_numpy
from .._typing import Array
from .._validation import check_matrix, check_paired_samples
from ..exceptions import InvalidParameterError
from ._extreme_scales import power_of_two_above
from .centering import column_means

__all__ = [
    "SoftMatching",
    "fit_soft_matching",
    "soft_matching_distance",
    "transport_to_x",
    "SOFT_MATCHING_SOLVERS",
    "check_soft_matching_parameters",
]

#: Solvers of the transport problem.
SOFT_MATCHING_SOLVERS = ("emd", "sinkhorn")

# Sinkhorn stops when its plan's marginals (each summing to 1) are this close
# to the uniform ones: the distance is then within about that much (relative)
# of the entropic plan's, far below the entropic bias itself (the distance is
# 0.1-0.5% above the exact one at reg 0.01 on random layers, 1-5% at 0.05).
# Near a permutation (units matched one to one) it converges slowly; stopped by
# max_iter, it warns only when the marginals are still off by more than
# _SINKHORN_WARN.
_SINKHORN_MARGINAL_ERROR = 1e-6
_SINKHORN_WARN = 1e-4


class SoftMatching(NamedTuple):
    """Result of :func:`fit_soft_matching`.

    Parameters
    ----------
    mx, my : arrays of shape (n_features_x,), (n_features_y,)
        Column means subtracted from X and Y (zeros without centering).
    plan : array of shape (n_features_x, n_features_y)
        The transport plan: nonnegative, rows summing to ``1 / n_features_x``,
        columns to ``1 / n_features_y``.
    """

    mx: object
    my: object
    plan: object


def _squared_column_distances(X: Array, Y: Array, scale: float) -> Array:
    """``|x_i - y_j|^2 / scale^2`` for every column ``i`` of X and ``j`` of Y (clipped at 0).

    In units of ``scale^2`` so that data near the ends of the float range
    neither overflows nor underflows; one matrix product, whose relative
    rounding of the small entries does not move the plan (the distance itself
    is recomputed from the units on the plan's support).
    """
    xp = get_namespace(X, Y)
    Xs, Ys = X / scale, Y / scale
    cost = xp.sum(Xs * Xs, axis=0)[:, None] + xp.sum(Ys * Ys, axis=0)[None, :] - 2 * (Xs.T @ Ys)
    return xp.clip(cost, 0.0, None)


def check_soft_matching_parameters(
    solver: object, reg: object, max_iter: object, owner: str = "fit_soft_matching"
) -> None:
    """Raise an InvalidParameterError naming the parameter unless the solver settings are valid.

    Parameters
    ----------
    solver, reg, max_iter : object
        As :func:`fit_soft_matching` takes them (``max_iter`` may be None).
    owner : str, default="fit_soft_matching"
        Who takes them, for the message.
    """
    if not isinstance(solver, str) or solver not in SOFT_MATCHING_SOLVERS:
        raise InvalidParameterError(
            f"The 'solver' parameter of {owner} must be one of {SOFT_MATCHING_SOLVERS} "
            f"('emd': exact; 'sinkhorn': entropic); got {solver!r}."
        )
    if (
        isinstance(reg, bool)
        or not isinstance(reg, (int, float, np.floating, np.integer))
        or not math.isfinite(reg)
        or reg <= 0
    ):
        raise InvalidParameterError(
            f"The 'reg' parameter of {owner} must be a finite number > 0 (the entropic "
            f"regularisation of 'sinkhorn', relative to the mean cost); got {reg!r}."
        )
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1
    ):
        raise InvalidParameterError(
            f"The 'max_iter' parameter of {owner} must be None or an integer >= 1; "
            f"got {max_iter!r}."
        )


def fit_soft_matching(
    X: Array,
    Y: Array,
    *,
    center_columns: bool = True,
    solver: str = "emd",
    reg: float = 0.01,
    max_iter: int | None = None,
    check_input: bool = True,
) -> SoftMatching:
    """Find the optimal transport plan between the units of ``X`` and ``Y``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features_x)
        First representation: one row per stimulus, one column per unit.
    Y : array of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X; any width.
    center_columns : bool, default=True
        Subtract column means first (each unit's mean response), as the
        permutation metric does.
    solver : {"emd", "sinkhorn"}, default="emd"
        ``"emd"``: POT's exact network simplex (``ot.emd``), a plan with at
        most ``n_x + n_y - 1`` nonzero entries. ``"sinkhorn"``: POT's entropic
        solver (``ot.sinkhorn``), run where the data is (on the GPU for CUDA
        tensors); its plan is dense and its distance is above the exact one by
        an amount that shrinks with ``reg``. On the CPU the exact solver was
        the faster at 1,000 stimuli x 512 vs 768 units (0.06-0.08 s against
        0.5-3.6 s, ``benchmarks/bench_soft_matching.py``).
    reg : float, default=0.01
        Entropic regularisation of ``"sinkhorn"``, relative to the mean cost
        (so that the plan does not depend on the data's units).
    max_iter : int, default=None
        Most iterations of the solver; None: ``max(100000, 50 * n_x * n_y)``
        for ``"emd"``, 10000 for ``"sinkhorn"``. ``"emd"`` stopped before the
        optimum raises a ``RuntimeWarning``; ``"sinkhorn"`` stops when the
        plan's marginals are within 1e-6 of uniform, and warns if they are
        still off by more than 1e-4 after ``max_iter`` iterations.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, the same number of rows).

    Returns
    -------
    SoftMatching
        ``(mx, my, plan)``, in the namespace and on the device of X.
    """
    if check_input:
        X, Y = check_matrix(X, "X"), check_matrix(Y, "Y")
        Y = convert_like(Y, X)  # Y follows X, as everywhere in skrep
        check_paired_samples(X, Y)
    check_soft_matching_parameters(solver, reg, max_iter)
    n_x, n_y = X.shape[1], Y.shape[1]
    if max_iter is None:
        max_iter = max(100_000, 50 * n_x * n_y) if solver == "emd" else 10_000
    import ot  # POT imports its backends (torch among them): a second or two

    xp = get_namespace(X, Y)
    mx = column_means(X, center_columns, check_input=False)
    my = column_means(Y, center_columns, check_input=False)
    Xc, Yc = X - mx, Y - my
    cost = _squared_column_distances(Xc, Yc, max(power_of_two_above(Xc), power_of_two_above(Yc)))
    if solver == "emd":
        # The network simplex runs on the CPU in float64.
        host = np.asarray(to_numpy(cost), dtype=np.float64)
        a, b = np.full(n_x, 1.0 / n_x), np.full(n_y, 1.0 / n_y)
        plan, log = ot.emd(a, b, host, numItermax=int(max_iter), log=True)
        if log.get("warning"):
            warnings.warn(
                f"The transport solver stopped before the optimum ({log['warning']}); "
                f"the plan between {n_x} and {n_y} units may not be optimal. Raise max_iter.",
                RuntimeWarning,
                stacklevel=2,
            )
        plan = xp.asarray(plan, dtype=X.dtype, device=array_api_compat.device(X))
    else:
        plan = _sinkhorn_plan(ot, cost, float(reg), int(max_iter), xp)
    return SoftMatching(mx=mx, my=my, plan=plan)


def _sinkhorn_plan(ot: object, cost: Array, reg: float, max_iter: int, xp: object) -> Array:
    """POT's log-domain Sinkhorn on ``cost / mean(cost)`` where the cost lives (numpy, torch)."""
    n_x, n_y = cost.shape
    native = isinstance(cost, np.ndarray) or is_torch_array(cost)
    work = cost if native else np.asarray(to_numpy(cost), dtype=np.float64)
    wxp = xp if native else np
    device = array_api_compat.device(work)
    a = wxp.full((n_x,), 1.0 / n_x, dtype=work.dtype, device=device)
    b = wxp.full((n_y,), 1.0 / n_y, dtype=work.dtype, device=device)
    mean_cost = float(wxp.mean(work)) or 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # POT's own warning; ours below says more
        plan, log = ot.sinkhorn(
            a, b, work / mean_cost, reg, method="sinkhorn_log", numItermax=max_iter,
            stopThr=_SINKHORN_MARGINAL_ERROR, log=True,
        )  # fmt: skip
    if float(log["err"][-1]) > _SINKHORN_WARN:
        warnings.warn(
            f"Sinkhorn stopped after max_iter={max_iter} iterations with its marginals off "
            f"by {float(log['err'][-1]):.1e} (expected at most {_SINKHORN_WARN:.0e}); raise "
            "max_iter or reg.",
            RuntimeWarning,
            stacklevel=3,
        )
    if native:
        return plan
    return xp.asarray(plan, dtype=cost.dtype, device=array_api_compat.device(cost))


def soft_matching_distance(
    X: Array, Y: Array, matching: SoftMatching, *, check_input: bool = True
) -> float:
    """Soft matching distance of ``X`` and ``Y`` under a fitted transport plan.

    ``sqrt(sum_ij P_ij |x_i - y_j|^2)`` with the columns centred by the fitted
    means; on the data the plan was fitted on, this is the 2-Wasserstein
    distance between the two sets of units. The squared distances are
    computed from the units on the plan's support (not from a
    norms-minus-products expansion), so a representation and a permutation of
    itself are at distance exactly 0.

    Parameters
    ----------
    X : array of shape (n_samples, n_features_x)
        First representation (the stimuli may be held out).
    Y : array of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    matching : SoftMatching
        The result of :func:`fit_soft_matching`.
    check_input : bool, default=True
        Validate the arrays and their widths against the plan.

    Returns
    -------
    float
        The distance (0 or more).
    """
    plan = matching.plan
    if check_input:
        X, Y = check_matrix(X, "X"), check_matrix(Y, "Y")
        Y = convert_like(Y, X)
        check_paired_samples(X, Y)
        if (X.shape[1], Y.shape[1]) != tuple(plan.shape):
            raise ValueError(
                f"X has {X.shape[1]} columns and Y {Y.shape[1]}, but the plan is "
                f"{plan.shape[0]} x {plan.shape[1]}; expected the widths it was fitted on."
            )
    xp = get_namespace(X, Y)
    Xc, Yc = X - matching.mx, Y - matching.my
    scale = max(
        power_of_two_above(Xc), power_of_two_above(Yc)
    )  # sums in units of scale^2: no overflow or underflow
    weights = np.asarray(to_numpy(plan), dtype=np.float64)
    rows, cols = np.nonzero(weights > 0)
    if len(rows) > 4 * sum(weights.shape):
        # A dense (entropic) plan: the cost matrix, one product.
        cost = np.asarray(to_numpy(_squared_column_distances(Xc, Yc, scale)), dtype=np.float64)
        return math.sqrt(max(float(np.sum(weights * cost)), 0.0)) * scale
    device = array_api_compat.device(X)
    total = 0.0
    # A sparse (exact) plan, at most n_x + n_y - 1 entries: the distances of
    # the matched units themselves, in chunks of about a million numbers.
    step = max(1, 2**20 // max(1, X.shape[0]))
    for start in range(0, len(rows), step):
        r, c = rows[start : start + step], cols[start : start + step]
        i, j = (xp.asarray(k, device=device) for k in (r, c))
        difference = (xp.take(Xc, i, axis=1) - xp.take(Yc, j, axis=1)) / scale
        sq = np.asarray(to_numpy(xp.sum(difference * difference, axis=0)), dtype=np.float64)
        total += float(np.dot(weights[r, c], sq))
    return math.sqrt(max(total, 0.0)) * scale


def transport_to_x(Y: Array, matching: SoftMatching) -> Array:
    """Y mapped onto X's units: ``(Y - my) @ (n_x * P).T`` (the barycentric projection).

    Unit ``i`` of the result is the plan-weighted mean of the units of Y
    matched to unit ``i`` of X (the weights sum to 1); for equal widths and a
    permutation plan it is Y's matched unit.

    Parameters
    ----------
    Y : array of shape (n_samples, n_features_y)
        Second representation (already validated).
    matching : SoftMatching
        The result of :func:`fit_soft_matching`.

    Returns
    -------
    array of shape (n_samples, n_features_x)
        Y on X's units, centred with the fitted means.
    """
    plan = matching.plan
    return (Y - matching.my) @ (plan.shape[0] * plan).T
