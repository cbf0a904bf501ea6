"""The Procrustes barycentre (Frechet mean) of networks, and the tangent space at it.

For K representations ``X_k`` of the same stimuli (n_samples x n_features)
and a group G of alignments (rotations and reflections, permutations, or
the identity), the Frechet mean is the matrix ``M`` that minimizes

    F(M) = (1 / K) sum_k min_{T_k in G} |X_k T_k - M|_F^2,

the mean squared Procrustes distance of the aligned networks to it. The
iteration of generalized Procrustes analysis decreases ``F`` at every step:
align every network to the current mean (the best ``T_k`` for fixed ``M``),
then average the aligned networks (the best ``M`` for fixed ``T_k``).

netrep (``netrep.multiset.frechet_mean``) has two variants. ``"streaming"``
visits the networks in a random order and moves a running average towards
each aligned network; it is reproduced here step for step (the same random
draws for the same ``random_state``), then polished by full-batch
iterations, which can only lower ``F``, so its objective is never above
netrep's. ``"full_batch"`` is the iteration above; netrep's version writes
the running sum into one of the input networks (its starting point is a view
of the data), which corrupts both the input and the mean; here inputs are
never modified. The alignments of all networks to the mean are computed as
one batched SVD (rotations) or one linear assignment per network
(permutations).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array
from ._scaling import normalize_scale

__all__ = [
    "BARYCENTER_GROUPS",
    "Barycenter",
    "alignments_to",
    "procrustes_barycenter",
    "root_mean_square",
    "tangent_vectors",
]

#: The groups of alignments a barycentre can use.
BARYCENTER_GROUPS = ("orth", "perm", "identity")
#: Relative decrease of the objective below which full-batch polishing stops.
POLISH_RTOL = 1e-12


class Barycenter(NamedTuple):
    """The result of :func:`procrustes_barycenter`.

    Parameters
    ----------
    mean : array of shape (n_samples, n_features)
        The barycentre.
    alignments : array of shape (n_networks, n_features, n_features)
        ``T_k`` with ``X_k @ T_k`` aligned to ``mean``.
    objective : float
        Mean squared distance of the aligned networks to the mean.
    n_iter : int
        Passes over the networks (streaming passes plus full-batch iterations).
    """

    mean: object
    alignments: object
    objective: float
    n_iter: int


def alignments_to(stack: Array, target: Array, group: str) -> Array:
    """The alignments of every network to ``target``: ``stack[k] @ T[k]`` is nearest it.

    Parameters
    ----------
    stack : array of shape (n_networks, n_samples, n_features)
        Validated networks of one width.
    target : array of shape (n_samples, n_features)
        The point they are aligned to.
    group : {"orth", "perm", "identity"}
        Orthogonal maps (orthogonal Procrustes), permutations of the units
        (a linear assignment), or no alignment.

    Returns
    -------
    array of shape (n_networks, n_features, n_features)
        ``T[k]`` in the group; in the namespace, device and dtype of ``stack``.
    """
    xp = get_namespace(stack)
    n_networks, _, n_features = stack.shape
    device = getattr(stack, "device", None)
    if group == "identity":
        eye = xp.eye(n_features, dtype=stack.dtype, device=device)
        return xp.broadcast_to(eye, (n_networks, n_features, n_features))
    cross = matrix_transpose(stack, xp) @ target  # (K, p, p): X_k.T @ M
    if group == "orth":
        U, _, Vt = xp.linalg.svd(cross, full_matrices=False)
        return U @ Vt
    maps = np.zeros((n_networks, n_features, n_features))
    for k, scores in enumerate(to_numpy(cross)):
        rows, columns = linear_sum_assignment(scores, maximize=True)
        maps[k, rows, columns] = 1.0
    return xp.asarray(maps, dtype=stack.dtype, device=device)


def _objective(aligned: Array, mean: Array) -> float:
    xp = get_namespace(aligned)
    residual = aligned - mean[None, ...]
    return float(xp.sum(residual * residual)) / aligned.shape[0]


def _streaming(
    stack: Array,
    start: Array,
    group: str,
    order: np.ndarray,
    rng: np.random.RandomState,
    tol: float,
    max_iter: int,
) -> tuple[Array, int]:
    """Netrep's streaming average, pass by pass, with its random order of the networks."""
    mean, count, n_iter = start, 1, 0
    change = math.inf
    xp = get_namespace(stack)
    while change > tol and n_iter < max_iter:
        previous = mean
        for k in order:
            network = stack[int(k)]
            aligned = network @ alignments_to(network[None, ...], previous, group)[0]
            mean = (count / (count + 1)) * mean + (1 / (count + 1)) * aligned
            count += 1
        change = float(xp.linalg.vector_norm(mean - previous)) / math.sqrt(math.prod(mean.shape))
        rng.shuffle(order)
        n_iter += 1
    return mean, n_iter


def procrustes_barycenter(
    stack: Array,
    group: str = "orth",
    *,
    method: str = "streaming",
    rng: np.random.RandomState,
    tol: float = 1e-3,
    max_iter: int = 100,
    warmstart: Array | None = None,
    streaming_tol: float | None = None,
) -> Barycenter:
    """The Frechet mean of validated networks under a group of alignments.

    Parameters
    ----------
    stack : array of shape (n_networks, n_samples, n_features)
        Validated, finite networks of one width.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments allowed (see :func:`alignments_to`).
    method : {"streaming", "full_batch"}, default="streaming"
        netrep's streaming average followed by full-batch polishing, or the
        full-batch iteration alone.
    rng : numpy.random.RandomState
        Draws the starting network and, for "streaming", the order of visits,
        as netrep does with its ``random_state``.
    tol : float, default=1e-3
        Stop the full-batch iterations when the root-mean-square change of
        the mean over one of them is below ``tol`` (netrep's rule, in the
        units of the data), or when the objective stops decreasing (by a
        relative :data:`POLISH_RTOL`).
    max_iter : int, default=100
        Most passes of each phase.
    warmstart : array of shape (n_samples, n_features) or None, default=None
        Starting mean instead of a network.
    streaming_tol : float or None, default=None
        The same rule for the streaming passes (None: ``tol``). The streaming
        average moves by steps that shrink as ``1 / visits``, so a tight
        tolerance costs many passes; the full-batch iterations after it
        converge much faster.

    Returns
    -------
    Barycenter
        The mean, the alignments to it, the objective and the passes made.
    """
    # Exact power-of-two rescaling: the alignments do not depend on a common
    # scale, and cross-products of data near 1e300 would overflow.
    normalized, scale = normalize_scale(stack)
    if scale != 1.0:
        result = procrustes_barycenter(
            normalized,
            group,
            method=method,
            rng=rng,
            tol=tol / scale,
            max_iter=max_iter,
            warmstart=None if warmstart is None else warmstart / scale,
            streaming_tol=None if streaming_tol is None else streaming_tol / scale,
        )
        return Barycenter(
            result.mean * scale, result.alignments, result.objective * scale * scale, result.n_iter
        )
    xp = get_namespace(stack)
    n_networks = stack.shape[0]
    if group == "identity" or n_networks == 1:
        mean = xp.mean(stack, axis=0)
        alignments = alignments_to(stack, mean, "identity")
        return Barycenter(mean, alignments, _objective(stack, mean), 0)
    if method == "streaming":
        order = rng.permutation(n_networks)
        start = stack[int(order[-1])] if warmstart is None else warmstart
        passes_tol = tol if streaming_tol is None else streaming_tol
        mean, n_iter = _streaming(stack, start, group, order, rng, passes_tol, max_iter)
    else:
        mean = stack[int(rng.randint(n_networks))] if warmstart is None else warmstart
        n_iter = 0
    # Full-batch iterations: each one lowers the objective (or leaves it), so the
    # result is never worse than where it started.
    alignments = alignments_to(stack, mean, group)
    aligned = stack @ alignments
    objective = _objective(aligned, mean)
    for _ in range(max_iter):
        candidate = xp.mean(aligned, axis=0)
        candidate_alignments = alignments_to(stack, candidate, group)
        candidate_aligned = stack @ candidate_alignments
        candidate_objective = _objective(candidate_aligned, candidate)
        n_iter += 1
        if not candidate_objective < objective:
            break
        change = float(xp.linalg.vector_norm(candidate - mean)) / math.sqrt(math.prod(mean.shape))
        decrease = objective - candidate_objective
        mean, alignments, aligned, objective = (
            candidate,
            candidate_alignments,
            candidate_aligned,
            candidate_objective,
        )
        if decrease <= POLISH_RTOL * objective or change <= tol:
            break
    return Barycenter(mean, alignments, objective, n_iter)


def root_mean_square(stack: Array) -> float:
    """The root-mean-square of the entries of ``stack``, without overflow at any scale.

    Parameters
    ----------
    stack : array
        Finite data.

    Returns
    -------
    float
        ``sqrt(mean(stack ** 2))``.
    """
    normalized, scale = normalize_scale(stack)
    xp = get_namespace(stack)
    return float(xp.linalg.vector_norm(normalized)) / math.sqrt(math.prod(stack.shape)) * scale


def tangent_vectors(stack: Array, mean: Array, group: str = "orth") -> Array:
    """``mean - X_k T_k`` for every network, each aligned to ``mean`` (netrep's convention).

    Parameters
    ----------
    stack : array of shape (n_networks, n_samples, n_features)
        Validated networks of one width.
    mean : array of shape (n_samples, n_features)
        The reference point, usually their barycentre.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments allowed.

    Returns
    -------
    array of shape (n_networks, n_samples, n_features)
        The residuals: Euclidean coordinates of the networks around ``mean``.
    """
    normalized, scale = normalize_scale(stack)  # exact; see procrustes_barycenter
    if scale != 1.0:
        return tangent_vectors(normalized, mean / scale, group) * scale
    return mean[None, ...] - stack @ alignments_to(stack, mean, group)
