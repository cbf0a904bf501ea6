"""Where the Gaussian stochastic fit starts, and in which order it takes the pair.

The fit is local: minorise-maximise and trust-region Newton settle in the
basin they start in. These starts make the distance behave as a metric on the
inputs where it went wrong: the identity for a network and itself, the means'
alignment reflected for rotations (the other component of the orthogonal
group), and one canonical order of the pair so that d(X, Y) = d(Y, X).
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._array import to_numpy
from .._typing import Array, RandomState
from .._validation import check_gaussian_alpha, check_positive_int, check_tolerance
from ..exceptions import InvalidParameterError
from ._gaussian_objective import GaussianPairsObjective, Points
from .group_alignment import _eye_like, _random_group_element, align_many_to_group, check_group

__all__ = [
    "canonical_key",
    "canonically_swapped",
    "starting_alignments",
    "checked_fit_parameters",
    "reflected_polar",
]


def canonical_key(means: Array, total_variance: float) -> tuple[float, float, bytes]:
    """A network's place in the canonical order of a pair (its means, then its variance)."""
    means = to_numpy(means)
    return float(np.sum(means * means)), float(total_variance), means.tobytes()


def canonically_swapped(stats_x: object, stats_y: object) -> bool:
    """Whether the pair is fitted as (Y, X): an order that does not depend on the call's."""

    def key(stats: object) -> tuple[float, float, bytes]:
        return canonical_key(stats.means, float(np.sum(to_numpy(stats.traces))))

    return key(stats_x) > key(stats_y)


def checked_fit_parameters(
    alpha: object, group: object, init: object, n_restarts: object, max_iter: object,
    tol: object, owner: str,
) -> float:  # fmt: skip
    """Check the parameters shared by the Gaussian and process fits; return alpha as a float."""
    alpha = check_gaussian_alpha(alpha, "alpha")
    check_group(group, owner)
    if not isinstance(init, str) or init not in ("means", "rand"):
        raise InvalidParameterError(f"init must be 'means' or 'rand'; got {init!r}.")
    check_positive_int(n_restarts, "n_restarts", owner)
    check_positive_int(max_iter, "max_iter", owner)
    check_tolerance(tol, "tol", owner)
    return alpha


def reflected_polar(M: Array, xp: object) -> Array:
    """The orthogonal ``T`` nearest the polar factor of ``M`` with the opposite determinant.

    ``M`` of shape (..., n, n); the last singular direction is reflected.
    """
    U, _, Vt = xp.linalg.svd(M)
    flip = xp.ones(M.shape[-1], dtype=M.dtype, device=array_api_compat.device(M))
    flip = xp.concat([flip[:-1], -flip[-1:]])
    return (U * flip) @ Vt


def starting_alignments(
    objective: GaussianPairsObjective,
    group: str,
    init: str,
    n_restarts: int,
    random_state: RandomState,
) -> tuple[Array, Points]:
    """Every pair's starting alignments: the means' (netrep's), reflected, identity, random.

    For rotations the means' alignment is also tried in the other component
    of the orthogonal group (its last singular direction reflected): the fit
    stays in the component it starts in, and on chains of noisy copies the
    means picked the wrong one for about 1% of random triples, breaking the
    triangle inequality by up to 46%. The identity is a start when it is
    already at least as good as the means' alignment (a network and itself,
    or close copies: the means of fewer classes than units leave the
    alignment undetermined, and the fit from them settled far from 0 for 4 of
    10 random networks); starting there costs a fit only then.

    Returns the starts (N, n, n), pair by pair in that order, and the
    objective there (evaluated once, in one batch). Random starts are drawn
    pair by pair from ``check_random_state(random_state)``, as one fit per
    pair would draw them.
    """
    from sklearn.utils import check_random_state

    xp = objective.xp
    n_pairs, n = objective.cross_means.shape[0], objective.n_features
    template = objective.cross_means
    means_starts = align_many_to_group(objective.cross_means, group, xp)
    reflected = None
    if init == "means" and group == "orth" and n > 1:
        # The means' alignment in the other component of the orthogonal group:
        # the fit stays in the component it starts in (Newton's steps keep the
        # sign of the determinant), and the means often pick the wrong one.
        reflected = reflected_polar(objective.cross_means, xp)
    identity = _eye_like(n, template, xp)
    random_starts = n_restarts - 1 if init == "means" else n_restarts
    starts, pairs, identity_entry, means_entry = [], [], [], []
    for k in range(n_pairs):
        if init == "means":
            means_entry.append(len(starts))
            starts.append(means_starts[k, ...])
            if reflected is not None:
                starts.append(reflected[k, ...])
            if group != "identity":
                identity_entry.append(len(starts))
                starts.append(identity)
        if random_starts:
            rng = check_random_state(random_state)
            starts += [_random_group_element(n, group, rng, template) for _ in range(random_starts)]
        pairs += [k] * (len(starts) - len(pairs))
    pairs = np.asarray(pairs, dtype=np.int64)
    points = objective.evaluate(xp.stack(starts), pairs)
    keep = np.ones(len(starts), dtype=bool)
    if identity_entry:
        # The identity is kept where it is at least as close as the means' start.
        identity_entry = np.asarray(identity_entry)
        keep[identity_entry] = points.values[identity_entry] <= points.values[means_entry]
    kept = np.flatnonzero(keep)
    return xp.stack([starts[i] for i in kept]), points.take(kept, xp)
