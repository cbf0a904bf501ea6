"""Stochastic-process shape metric: Gaussian processes over time, aligned (Duong et al., 2023).

A network's responses over ``n_times`` time points of ``n_dims`` units form one
Gaussian: a mean of length ``n_times * n_dims`` and a full covariance across
time and units. One ``n_dims x n_dims`` alignment ``T`` acts on every time block
(``T_full = I (x) T``), and the squared distance is netrep's
``GPStochasticMetric`` score::

    alpha * |mX - mY T|^2 + (2 - alpha) * Bures^2(SX, T_full' SY T_full)

(the means as ``(n_times, n_dims)`` matrices). With ``Bures^2(A, B) = tr A + tr
B - 2 |A^1/2 B^1/2|_*`` the fit maximises ``alpha tr(T' mY' mX) + (2 - alpha)
|sX T_full' sY|_*``, a convex function of ``T``: linearising the nuclear norm
at the current ``T`` (its polar factor ``Q``) leaves ``tr(T' G)`` with ``G``
the sum of the diagonal blocks of ``sY Q' sX``, a Procrustes (or assignment)
problem whose solution never increases the distance. netrep iterates the same
step with the two terms weighted ``alpha^2 : (2 - alpha)^2`` (its scored
objective only at alpha 0, 1, 2); :func:`fit_gp_alignment` first takes
netrep's steps from netrep's start, then continues on the scored objective,
so its distance is never above netrep's, and tries the identity and, for
rotations, the reflected start too (as the Gaussian metric does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from .._array import get_namespace
from .._array import matrix_transpose as _mT
from .._typing import Array, RandomState
from ._gaussian_starts import checked_fit_parameters
from ._gp_fit import fit_gp_pairs
from .gaussian_stochastic import _gaussian_statistics

__all__ = [
    "GPStatistics",
    "gp_statistics",
    "gp_sq_distance",
    "GPAlignment",
    "fit_gp_alignment",
    "fit_gp_alignments",
]


class GPStatistics(NamedTuple):
    """A network's Gaussian process, prepared for alignment.

    Parameters
    ----------
    means : array of shape (n_times, n_dims)
        Mean response at each time point.
    sqrt_covariance : array of shape (n_times * n_dims, n_times * n_dims)
        Symmetric positive semi-definite square root of the covariance
        (negative eigenvalues from rounding clipped to zero).
    trace : float
        Trace of the covariance.
    """

    means: object
    sqrt_covariance: object
    trace: float


def gp_statistics(means: Array, covariance: Array, n_dims: int) -> GPStatistics:
    """Means per time point, covariance square root and trace (one eigendecomposition).

    Parameters
    ----------
    means : array of shape (n_times * n_dims,) or (n_times, n_dims)
        Mean responses, time-major (time point 0's units first), finite.
    covariance : array of shape (n_times * n_dims, n_times * n_dims)
        Symmetric positive semi-definite covariance, in the same order.
    n_dims : int
        Units per time point.

    Returns
    -------
    GPStatistics
        The means as (n_times, n_dims), the covariance's square root and trace.
    """
    xp = get_namespace(means, covariance)
    size = covariance.shape[-1]
    n_means = math.prod(means.shape)  # (torch tensors have no .size attribute)
    if size % n_dims or n_means != size:
        raise ValueError(
            f"means has {n_means} entries and the covariance is {size} x {size}; "
            f"expected both to hold n_times * n_dims entries with n_dims={n_dims}."
        )
    # The square root, its checks (symmetric, positive semi-definite) and the trace
    # are the Gaussian metric's, for one "class": the whole process.
    stats = _gaussian_statistics(
        xp.reshape(means, (1, size)), covariance[None, ...], True, "covariance"
    )
    root, trace = stats.sqrt_covariances[0], float(stats.traces[0])
    return GPStatistics(xp.reshape(means, (size // n_dims, n_dims)), root, trace)


def _full(T: Array, n_times: int) -> Array:
    """``I_{n_times} (x) T``: the alignment applied to every time block."""
    xp = get_namespace(T)
    eye = xp.eye(n_times, dtype=T.dtype, device=getattr(T, "device", None))
    n = T.shape[0]
    return xp.reshape(eye[:, None, :, None] * T[None, :, None, :], (n_times * n, n_times * n))


class _Evaluation(NamedTuple):
    value: float  # the squared distance
    nuclear: float
    polar: Array  # polar factor of sX T_full' sY


def _evaluate(x: GPStatistics, y: GPStatistics, T: Array, alpha: float) -> _Evaluation:
    xp = get_namespace(T)
    n_times = x.means.shape[0]
    cross = x.sqrt_covariance @ _mT(_full(T, n_times), xp) @ y.sqrt_covariance
    U, s, Vt = xp.linalg.svd(cross)
    nuclear = float(xp.sum(s))
    residual = x.means - y.means @ T
    value = alpha * float(xp.sum(residual * residual)) + (2 - alpha) * (
        x.trace + y.trace - 2 * nuclear
    )
    # The covariance term is a difference of terms of the size of the traces:
    # below its rounding level the distance is 0 (a process and itself gave 1e-7).
    noise = 100 * float(xp.finfo(cross.dtype).eps) * (2 - alpha) * (x.trace + y.trace)
    return _Evaluation(value if value > noise else 0.0, nuclear, U @ Vt)


def gp_sq_distance(x: GPStatistics, y: GPStatistics, T: Array, alpha: float) -> float:
    """The squared stochastic-process distance at the alignment ``T`` (never negative).

    Parameters
    ----------
    x, y : GPStatistics
        From :func:`gp_statistics`, same shapes.
    T : array of shape (n_dims, n_dims)
        Alignment applied to every time block of Y.
    alpha : float in [0, 2]
        Weight of the means (``2 - alpha`` for the covariances).

    Returns
    -------
    float
        ``alpha |mX - mY T|^2 + (2 - alpha) Bures^2(SX, T_full' SY T_full)``, at least 0.
    """
    return _evaluate(x, y, T, alpha).value


class GPAlignment(NamedTuple):
    """Result of :func:`fit_gp_alignment`.

    Parameters
    ----------
    T : array of shape (n_dims, n_dims)
        The best alignment found.
    sq_distance : float
        The squared distance at ``T``.
    loss_history : list of float
        Squared distance after each step of the winning start.
    n_iter : int
        Steps of the winning start.
    """

    T: object
    sq_distance: float
    loss_history: list
    n_iter: int


def fit_gp_alignment(
    x: GPStatistics,
    y: GPStatistics,
    *,
    alpha: float = 1.0,
    group: str = "orth",
    init: str = "means",
    n_restarts: int = 1,
    max_iter: int = 1000,
    tol: float = 1e-10,
    random_state: RandomState = None,
) -> GPAlignment:
    """Fit the alignment ``T`` minimising the squared stochastic-process distance.

    Parameters
    ----------
    x, y : GPStatistics
        From :func:`gp_statistics`, same shapes.
    alpha : float in [0, 2], default=1.0
        Weight of the means; ``2 - alpha`` weighs the covariances.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched over.
    init : {"means", "rand"}, default="means"
        netrep's start (the alignment of the means, followed by netrep's own
        steps, then steps on the scored objective; for rotations also its
        reflection, and the identity where it is as close), or random starts.
    n_restarts : int, default=1
        One more than the random starts added (``"means"``), or the number of
        random starts (``"rand"``).
    max_iter : int, default=1000
        Steps per start (each one SVD of the full covariance product).
    tol : float, default=1e-10
        Stop when a step lowers the squared distance by less than this
        fraction of it.
    random_state : int, RandomState or None, default=None
        Seed of the random starts.

    Returns
    -------
    GPAlignment
        The best alignment (for Y), its squared distance and the loss history.
    """
    (result,) = fit_gp_alignments(
        [x], [y], alpha=alpha, group=group, init=init, n_restarts=n_restarts,
        max_iter=max_iter, tol=tol, random_state=random_state,
    )  # fmt: skip
    return result


def fit_gp_alignments(
    xs: Sequence[GPStatistics],
    ys: Sequence[GPStatistics],
    *,
    alpha: float = 1.0,
    group: str = "orth",
    init: str = "means",
    n_restarts: int = 1,
    max_iter: int = 1000,
    tol: float = 1e-10,
    random_state: RandomState = None,
) -> list[GPAlignment]:
    """Fit the alignments of many pairs at once (:func:`fit_gp_alignment` of each).

    Every pair and start is one problem; the problems step in lockstep (one
    batched SVD per step for all of them) and each stops on its own rule, so
    each pair's fit is the one :func:`fit_gp_alignment` computes.

    Parameters
    ----------
    xs, ys : sequences of GPStatistics
        The pairs ``(xs[k], ys[k])``, of equal lengths, all of the same shapes.
    alpha : float in [0, 2], default=1.0
        Weight of the means; ``2 - alpha`` weighs the covariances.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched over.
    init : {"means", "rand"}, default="means"
        Starts, as in :func:`fit_gp_alignment`.
    n_restarts : int, default=1
        Random starts, as in :func:`fit_gp_alignment`.
    max_iter : int, default=1000
        Steps per start.
    tol : float, default=1e-10
        Relative tolerance of each start's last step.
    random_state : int, RandomState or None, default=None
        Seed of the random starts, drawn pair by pair from
        ``check_random_state(random_state)`` as one call per pair would draw them.

    Returns
    -------
    list of GPAlignment
        One per pair, in order.
    """
    xs, ys = list(xs), list(ys)
    if len(xs) != len(ys):
        raise ValueError(f"xs has {len(xs)} entries and ys {len(ys)}; expected one pair per index.")
    alpha = checked_fit_parameters(
        alpha, group, init, n_restarts, max_iter, tol, "fit_gp_alignments"
    )
    if not xs:
        return []
    shape = tuple(xs[0].means.shape)
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if tuple(x.means.shape) != shape or tuple(y.means.shape) != shape:
            raise ValueError(
                f"The processes of pair {k} have means of shape {tuple(x.means.shape)} and "
                f"{tuple(y.means.shape)}; expected the same time points and units as the "
                f"first pair's {shape}."
            )
    xp = get_namespace(*[x.means for x in xs + ys])
    fits = fit_gp_pairs(
        xs, ys, alpha=alpha, group=group, init=init, n_restarts=n_restarts,
        max_iter=max_iter, tol=tol, random_state=random_state, xp=xp,
    )  # fmt: skip
    return [
        GPAlignment(T, gp_sq_distance(x, y, T, alpha), history, n_iter)
        for (T, history, n_iter), x, y in zip(fits, xs, ys, strict=True)
    ]
