"""Gaussian stochastic shape metric: class-conditional Gaussians, aligned (Duong et al., 2023).

The responses of each network to stimulus class ``i`` are summarised by a
mean ``m_i`` and covariance ``S_i`` (:func:`class_statistics`,
:func:`gaussian_statistics`); after aligning the second network to the first
with one transform ``T`` from a group (see
:mod:`skrep.functional.group_alignment`), the squared distance is
``mean_i[alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)]``.
``alpha = 1`` is the 2-Wasserstein distance between the Gaussians, ``alpha = 2``
compares means only, ``alpha = 0`` covariances only.

The Gaussian fit minimises exactly the scored objective. With
``Bures^2(A, B) = tr A + tr B - 2 ||A^1/2 B^1/2||_*`` the problem is to maximise
``alpha tr(T' mY' mX) + (2 - alpha) sum_i ||sY_i T sX_i||_*`` (``s`` = matrix
square root), a convex function of ``T``: the minorise-maximise step replaces
every nuclear norm by its tangent ``tr(Q_i' sY_i T sX_i)`` (``Q_i`` the polar
factor at the current ``T``) and solves the resulting Procrustes (or
assignment) problem. That step never increases the distance. netrep runs the
same iteration but weights means and covariances ``alpha^2 : (2 - alpha)^2``,
which is the scored objective only at ``alpha`` in {0, 1, 2}. For rotations,
once a step gains less than 1e-3 of the distance (so that the fit has
settled in the basin netrep's iteration reaches), Riemannian trust-region
Newton takes over (``_orthogonal_trust_region``): minorise-maximise converges
linearly and slowly there, Newton quadratically. Switching earlier saves
evaluations but was measured to end in a different local minimum, sometimes
higher than netrep's, on a few percent of random inputs.

Everything is batched over classes (one stacked SVD per iteration instead of
one Python-level Procrustes call per class) and written against the array
API, so torch tensors compute on their device. Assignments run on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import array_api_compat

from .._array import convert_like, get_namespace
from .._array import matrix_transpose as _mT
from .._typing import Array, RandomState
from .._validation import (
    _shape_str,
    check_gaussian_alpha,
)
from ._gaussian_fit import fit_pairs
from ._gaussian_objective import sq_distance_terms
from ._gaussian_starts import checked_fit_parameters
from .class_moments import class_statistics  # re-exported: part of this family
from .group_alignment import (
    _check_same_classes_and_units,
    _check_square,
    _checked_array,
    _eye_like,
)

__all__ = [
    "GaussianStatistics",
    "class_statistics",
    "gaussian_statistics",
    "sq_bures_distances",
    "gaussian_sq_distances",
    "GaussianAlignment",
    "fit_gaussian_alignment",
    "fit_gaussian_alignments",
]


def _check_statistics_pair(stats_x: GaussianStatistics, stats_y: GaussianStatistics) -> None:
    for stats, name in ((stats_x, "stats_x"), (stats_y, "stats_y")):
        if not isinstance(stats, GaussianStatistics):
            raise TypeError(
                f"{name} must be a GaussianStatistics (from gaussian_statistics); got "
                f"{type(stats).__name__}."
            )
    _check_same_classes_and_units(
        stats_x.sqrt_covariances,
        stats_y.sqrt_covariances,
        ("stats_x.sqrt_covariances", "stats_y.sqrt_covariances"),
    )


# -- Gaussian statistics ---------------------------------------------------------------
class GaussianStatistics(NamedTuple):
    """A network's class-conditional Gaussians, prepared for alignment.

    Parameters
    ----------
    means : array of shape (n_classes, n_features)
        Class means.
    sqrt_covariances : array of shape (n_classes, n_features, n_features)
        Symmetric positive semi-definite square roots of the covariances
        (negative eigenvalues from rounding are clipped to zero).
    traces : array of shape (n_classes,)
        Traces of the covariances.
    """

    means: object
    sqrt_covariances: object
    traces: object


def gaussian_statistics(
    means: Array, covariances: Array, *, check_input: bool = True
) -> GaussianStatistics:
    """Square roots and traces of class covariances (one eigendecomposition each).

    Parameters
    ----------
    means : array of shape (n_classes, n_features)
        Class means.
    covariances : array of shape (n_classes, n_features, n_features)
        Symmetric positive semi-definite matrices; singular ones are fine.
    check_input : bool, default=True
        Check shapes, finiteness, symmetry and positive semi-definiteness.

    Returns
    -------
    GaussianStatistics
        Means, covariance square roots and traces.
    """
    return _gaussian_statistics(means, covariances, check_input, "covariances")


def _gaussian_statistics(
    means: Array, covariances: Array, check_input: bool, name: str
) -> GaussianStatistics:
    """:func:`gaussian_statistics`, its messages naming the covariances ``name``."""
    if check_input:
        means = _checked_array(means, "means", "(n_classes, n_features)")
        covariances = convert_like(
            _checked_array(covariances, name, "(n_classes, n_features, n_features)"),
            means,
        )
        n_classes, n_features = means.shape
        if tuple(covariances.shape) != (n_classes, n_features, n_features):
            raise ValueError(
                f"{name} has shape {tuple(covariances.shape)} but means has shape "
                f"{tuple(means.shape)}; expected covariances of shape "
                f"({n_classes}, {n_features}, {n_features}), one per class."
            )
    xp = get_namespace(means, covariances)
    scale = float(xp.max(xp.abs(covariances))) if covariances.shape[0] else 0.0
    asymmetry = float(xp.max(xp.abs(covariances - _mT(covariances, xp)))) if scale else 0.0
    if check_input and asymmetry > 1e-8 * max(scale, 1e-300):
        raise ValueError(
            f"{name} are not symmetric (largest |S - S.T| = {asymmetry:.3g}, largest "
            f"|S| = {scale:.3g}); expected symmetric positive semi-definite matrices."
        )
    eigenvalues, eigenvectors = xp.linalg.eigh((covariances + _mT(covariances, xp)) / 2)
    if check_input and eigenvalues.shape[0]:
        lowest = float(xp.min(eigenvalues))
        tolerance = 1e-8 * max(float(xp.max(xp.abs(eigenvalues))), 1e-300)
        if lowest < -tolerance:
            index = int(xp.argmin(xp.min(eigenvalues, axis=1)))
            raise ValueError(
                f"{name}[{index}] has a negative eigenvalue ({lowest:.3g}); expected "
                "positive semi-definite matrices (a covariance estimate)."
            )
    roots = xp.sqrt(xp.clip(eigenvalues, 0.0, None))
    sqrt_covariances = (eigenvectors * roots[:, None, :]) @ _mT(eigenvectors, xp)
    traces = xp.sum(xp.clip(eigenvalues, 0.0, None), axis=1)
    return GaussianStatistics(means, (sqrt_covariances + _mT(sqrt_covariances, xp)) / 2, traces)


def sq_bures_distances(covariances_a: Array, covariances_b: Array) -> Array:
    """Squared Bures distances between two stacks of covariance matrices.

    ``Bures^2(A, B) = tr A + tr B - 2 tr (A^1/2 B A^1/2)^1/2``, computed as
    ``min_Q |A^1/2 - B^1/2 Q|_F^2`` at the optimal rotation ``Q`` (never
    negative, and exact near zero).

    Parameters
    ----------
    covariances_a, covariances_b : arrays of shape (n_classes, n_features, n_features)
        Symmetric positive semi-definite matrices, compared pairwise.

    Returns
    -------
    array of shape (n_classes,)
        ``Bures^2(covariances_a[i], covariances_b[i])``.
    """
    shape = "(n_classes, n_features, n_features)"
    covariances_a = _checked_array(covariances_a, "covariances_a", shape)
    covariances_b = convert_like(
        _checked_array(covariances_b, "covariances_b", shape), covariances_a
    )
    if covariances_a.shape != covariances_b.shape:
        raise ValueError(
            f"covariances_a has shape {_shape_str(covariances_a.shape)} and covariances_b "
            f"{_shape_str(covariances_b.shape)}; expected stacks of the same shape."
        )
    xp = get_namespace(covariances_a)
    empty = xp.zeros(
        covariances_a.shape[:2],
        dtype=covariances_a.dtype,
        device=array_api_compat.device(covariances_a),
    )
    a = _gaussian_statistics(empty, covariances_a, True, "covariances_a")
    b = _gaussian_statistics(empty, covariances_b, True, "covariances_b")
    identity = _eye_like(covariances_a.shape[-1], covariances_a, xp)
    return gaussian_sq_distances(a, b, identity, 0.0, check_input=False) / 2


def gaussian_sq_distances(
    stats_x: GaussianStatistics,
    stats_y: GaussianStatistics,
    T: Array,
    alpha: float,
    *,
    check_input: bool = True,
) -> Array:
    """Per-class terms of the squared Gaussian distance after aligning Y by ``T``.

    Parameters
    ----------
    stats_x, stats_y : GaussianStatistics
        The two networks' class statistics (same shapes).
    T : array of shape (n_features, n_features)
        Orthogonal alignment, applied to Y's responses as ``y @ T``.
    alpha : float in [0, 2]
        Weight of the means; ``2 - alpha`` weighs the covariances.
    check_input : bool, default=True
        Check the statistics, ``T`` and ``alpha``.

    Returns
    -------
    array of shape (n_classes,)
        ``alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)``; the
        squared distance is their mean.
    """
    if check_input:
        _check_statistics_pair(stats_x, stats_y)
        alpha = check_gaussian_alpha(alpha, "alpha")
        T = convert_like(_check_square(T, "T", stats_x.means.shape[1]), stats_x.means)
    xp = get_namespace(stats_x.means, T)
    return sq_distance_terms(
        stats_x.means, stats_x.sqrt_covariances, stats_y.means, stats_y.sqrt_covariances, T,
        alpha, xp,
    )  # fmt: skip


# -- Gaussian fit ----------------------------------------------------------------------
class GaussianAlignment(NamedTuple):
    """Result of :func:`fit_gaussian_alignment`.

    Parameters
    ----------
    T : array of shape (n_features, n_features)
        Best alignment found; Y's responses are aligned as ``y @ T``.
    sq_distance : float
        The squared distance at ``T`` (mean over classes).
    loss_history : list of float
        Squared distance after each iteration of the best restart.
    n_iter : int
        Iterations of the best restart.
    converged : bool
        Whether the best restart met the tolerance before ``max_iter``.
    """

    T: object
    sq_distance: float
    loss_history: list
    n_iter: int
    converged: bool


def fit_gaussian_alignment(
    stats_x: GaussianStatistics,
    stats_y: GaussianStatistics,
    *,
    alpha: float = 1.0,
    group: str = "orth",
    init: str = "means",
    n_restarts: int = 1,
    max_iter: int = 1000,
    tol: float = 1e-10,
    random_state: RandomState = None,
) -> GaussianAlignment:
    """Fit the alignment ``T`` minimising the squared Gaussian stochastic distance.

    Parameters
    ----------
    stats_x, stats_y : GaussianStatistics
        From :func:`gaussian_statistics`, same shapes.
    alpha : float in [0, 2], default=1.0
        Weight of the means (``2 - alpha`` for the covariances).
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched over.
    init : {"means", "rand"}, default="means"
        Start from the alignment of the class means (netrep's start; for
        rotations also from its reflection, and from the identity when that
        is at least as close), or from random group elements only. With
        ``"means"`` and ``n_restarts > 1``, ``n_restarts - 1`` random starts
        are added.
    n_restarts : int, default=1
        Number of random starts (``"rand"``), or one more than the random
        starts added to the deterministic ones (``"means"``); the lowest
        distance wins. The pair is fitted in one canonical order, so the
        distance is symmetric.
    max_iter : int, default=1000
        Iterations per start (objective evaluations, one batched SVD each).
    tol : float, default=1e-10
        Relative tolerance on the squared distance. Minorise-maximise steps
        (netrep's scheme, on the scored objective) run while each gains more
        than ``max(tol, 1e-3)`` of it; for rotations, Riemannian trust-region
        Newton then runs until it predicts a gain below ``tol`` times the
        squared distance (taking that last step), and for permutations the
        minorise-maximise steps go on until one gains less than ``tol``.
    random_state : int, RandomState or None, default=None
        Seed of the random starts.

    Returns
    -------
    GaussianAlignment
        The best alignment, its squared distance and the loss history.

    Notes
    -----
    The objective is ``c - (2 / C) [alpha <sum_i mY_i' mX_i, T> + (2 - alpha)
    sum_i |sY_i T sX_i|_*]`` with ``|.|_*`` the nuclear norm and ``s`` the
    covariance square roots. Minorise-maximise converges linearly and slowly
    when the classes pull the alignment different ways (hundreds of
    iterations for unrelated networks); Newton's method, with Hessian-vector
    products from the same SVDs, converges quadratically, in a few tens of
    iterations. The rotation fit also takes a minorise-maximise step whenever
    that step changes the sign of the determinant, since Newton's steps stay
    among rotations or among reflections.
    """
    _check_statistics_pair(stats_x, stats_y)
    alpha = checked_fit_parameters(
        alpha, group, init, n_restarts, max_iter, tol, "fit_gaussian_alignment"
    )
    xp = get_namespace(stats_x.means, stats_y.means)
    (fit,) = fit_pairs(
        [stats_x], [stats_y], alpha=alpha, group=group, init=init, n_restarts=n_restarts,
        max_iter=max_iter, tol=tol, random_state=random_state, xp=xp,
    )  # fmt: skip
    return GaussianAlignment(*fit)


def fit_gaussian_alignments(
    stats_x: Sequence[GaussianStatistics],
    stats_y: Sequence[GaussianStatistics],
    *,
    alpha: float = 1.0,
    group: str = "orth",
    init: str = "means",
    n_restarts: int = 1,
    max_iter: int = 1000,
    tol: float = 1e-10,
    random_state: RandomState = None,
) -> list[GaussianAlignment]:
    """Fit the alignments of many pairs at once (one batched SVD per step for all of them).

    The same fits as :func:`fit_gaussian_alignment` on each pair
    ``(stats_x[k], stats_y[k])``, to rounding: every pair and every start is
    one problem, the problems step in lockstep and each stops on its own
    tolerance. A K x K distance matrix of small networks fits many times
    faster this way than pair by pair, whose time goes to Python and to the
    per-call overhead of small SVDs.

    Parameters
    ----------
    stats_x, stats_y : sequences of GaussianStatistics
        The pairs, of equal lengths; every statistics has the same numbers of
        classes and units.
    alpha : float in [0, 2], default=1.0
        Weight of the means (``2 - alpha`` for the covariances).
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched over.
    init : {"means", "rand"}, default="means"
        Starts, as in :func:`fit_gaussian_alignment`.
    n_restarts : int, default=1
        Random starts, as in :func:`fit_gaussian_alignment`.
    max_iter : int, default=1000
        Iterations per start.
    tol : float, default=1e-10
        Relative tolerance on each pair's squared distance.
    random_state : int, RandomState or None, default=None
        Seed of the random starts, drawn pair by pair from
        ``check_random_state(random_state)`` as one call per pair would draw
        them.

    Returns
    -------
    list of GaussianAlignment
        One per pair, in order.
    """
    stats_x, stats_y = list(stats_x), list(stats_y)
    if len(stats_x) != len(stats_y):
        raise ValueError(
            f"stats_x has {len(stats_x)} entries and stats_y {len(stats_y)}; expected one "
            "pair per index."
        )
    for x, y in zip(stats_x, stats_y, strict=True):
        _check_statistics_pair(x, y)
        _check_same_classes_and_units(
            stats_x[0].sqrt_covariances, x.sqrt_covariances,
            ("stats_x[0].sqrt_covariances", "every sqrt_covariances"),
        )  # fmt: skip
    alpha = checked_fit_parameters(
        alpha, group, init, n_restarts, max_iter, tol, "fit_gaussian_alignments"
    )
    if not stats_x:
        return []
    xp = get_namespace(*[s.means for s in stats_x + stats_y])
    fits = fit_pairs(
        stats_x, stats_y, alpha=alpha, group=group, init=init, n_restarts=n_restarts,
        max_iter=max_iter, tol=tol, random_state=random_state, xp=xp,
    )  # fmt: skip
    return [GaussianAlignment(*fit) for fit in fits]
