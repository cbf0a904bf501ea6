"""Energy stochastic shape metric: energy distance after alignment (Duong et al., 2023).

The energy distance between the two networks' empirical response
distributions, ``E|x - yT| - (E|x - x'| + E|y - y'|) / 2`` averaged over
stimulus classes, after aligning the second network to the first with one
transform ``T`` from a group (see :mod:`skrep.functional.group_alignment`),
with netrep's estimator (within-network expectations over distinct pairs of
repeats). The alignment (:func:`fit_energy_alignment`) minimises the mean
distance between aligned repeats by netrep's iteratively reweighted least
squares.

Everything is batched over classes and written against the array API, so
torch tensors compute on their device. Permutation assignments run on the
host.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._array import convert_like, get_namespace
from .._array import matrix_transpose as _mT
from .._typing import Array, ArrayLike, Namespace
from .._validation import check_positive_int, check_tolerance
from ..exceptions import InvalidParameterError
from ._rows import put_rows, take_rows
from .group_alignment import (
    _check_same_classes_and_units,
    _checked_array,
    _eye_like,
    align_many_to_group,
    as_float64,
    check_group,
    working_scale,
)

__all__ = [
    "energy_cross_distances",
    "energy_within_mean",
    "energy_distance",
    "EnergyAlignment",
    "fit_energy_alignment",
    "fit_energy_alignments",
]


def _check_responses_pair(
    X: ArrayLike, Y: ArrayLike, names: tuple[str, str]
) -> tuple[Array, Array]:
    shape = "(n_classes, n_repeats, n_features)"
    X = _checked_array(X, names[0], shape)
    Y = convert_like(_checked_array(Y, names[1], shape), X)
    _check_same_classes_and_units(X, Y, names)
    return X, Y


# -- energy distance -------------------------------------------------------------------
def _pairwise_norms(A: Array, B: Array, xp: Namespace) -> Array:
    """Euclidean distances between the rows of A and B, per class: (..., C, Ra, Rb).

    The Gram-matrix route (one batched product), after subtracting A's class
    mean from both so that the cancellation in ``|a|^2 + |b|^2 - 2 a.b`` is
    relative to the spread of the responses, not their offset.
    """
    center = xp.mean(A, axis=-2, keepdims=True)
    A, B = A - center, B - center
    sq = (
        xp.sum(A * A, axis=-1)[..., :, None]
        + xp.sum(B * B, axis=-1)[..., None, :]
        - 2 * (A @ _mT(B, xp))
    )
    return xp.sqrt(xp.clip(sq, 0.0, None))


def energy_cross_distances(X: Array, Y: Array, *, check_input: bool = True) -> Array:
    """Distances between every repeat of X and every repeat of Y, per class.

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats_x, n_features)
        Responses of the first network.
    Y : array of shape (n_classes, n_repeats_y, n_features)
        Responses of the second network (already aligned).
    check_input : bool, default=True
        Check shapes (same classes and units) and finiteness.

    Returns
    -------
    array of shape (n_classes, n_repeats_x, n_repeats_y)
        ``|X[i, a] - Y[i, b]|`` for every class and pair of repeats.
    """
    if check_input:
        X, Y = _check_responses_pair(X, Y, ("X", "Y"))
    scale = working_scale(X, Y)  # distances are homogeneous: computed at unit scale
    if scale == 1.0:
        return _pairwise_norms(X, Y, get_namespace(X, Y))
    return _pairwise_norms(X / scale, Y / scale, get_namespace(X, Y)) * scale


def energy_within_mean(X: Array, *, check_input: bool = True) -> float:
    """Mean distance between distinct repeats of the same class, averaged over classes.

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats, n_features)
        At least two repeats (one repeat gives 0: a point mass).
    check_input : bool, default=True
        Check the shape and finiteness of ``X``.

    Returns
    -------
    float
        ``mean_i E|x - x'|`` over distinct repeats ``x, x'`` of class ``i``.
    """
    if check_input:
        X = _checked_array(X, "X", "(n_classes, n_repeats, n_features)")
    xp = get_namespace(X)
    n_repeats = X.shape[1]
    if n_repeats < 2:
        return 0.0
    scale = working_scale(X)  # homogeneous: computed at unit scale
    if scale != 1.0:
        X = X / scale
    distances = _pairwise_norms(X, X, xp)
    # The diagonal is zero up to rounding; the mean over distinct pairs excludes it.
    off_diagonal = xp.sum(distances, axis=(1, 2)) - xp.sum(xp.linalg.diagonal(distances), axis=1)
    return float(xp.mean(off_diagonal / (n_repeats * (n_repeats - 1)))) * scale


def energy_distance(
    X: Array, Y_aligned: Array, *, check_input: bool = True, estimate: str = "unbiased"
) -> float:
    """Energy stochastic distance between X and aligned Y.

    ``sqrt(max(0, mean_i E|x - y| - (mean_i E|x - x'| + mean_i E|y - y'|) / 2))``.
    With ``estimate="unbiased"`` (netrep's estimator) the within-network
    expectations run over distinct pairs of repeats: unbiased, but the
    difference can be negative (then clipped at 0), so it is not a metric on
    finite samples. With ``"empirical"`` they run over all pairs, a repeat
    with itself included: the energy distance between the two empirical
    distributions, never negative, whose square root is a metric between
    them (biased upwards by the within terms' ``1 / n_repeats``).

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats_x, n_features)
        Responses of the first network.
    Y_aligned : array of shape (n_classes, n_repeats_y, n_features)
        Responses of the second network, already aligned to the first.
    check_input : bool, default=True
        Check shapes (same classes and units) and finiteness.
    estimate : {"unbiased", "empirical"}, default="unbiased"
        The within-network expectations over distinct pairs of repeats
        (netrep's) or over all pairs (the empirical distributions').

    Returns
    -------
    float
        The distance (zero when the unbiased energy estimate is negative).
    """
    check_energy_estimate(estimate, "energy_distance")
    if check_input:
        X, Y_aligned = _check_responses_pair(X, Y_aligned, ("X", "Y_aligned"))
    xp = get_namespace(X, Y_aligned)
    # The energy is homogeneous of degree 1 (the distance of degree 1/2): it is
    # computed at unit scale, and sqrt(scale) is exact for a power of four.
    scale = working_scale(X, Y_aligned)
    if scale != 1.0:
        X, Y_aligned = X / scale, Y_aligned / scale
    cross = float(xp.mean(_pairwise_norms(X, Y_aligned, xp)))
    within_x = energy_within_mean(X, check_input=False)
    within_y = energy_within_mean(Y_aligned, check_input=False)
    if estimate == "empirical":  # all pairs: the zero distance of a repeat to itself counts
        within_x *= (X.shape[1] - 1) / X.shape[1]
        within_y *= (Y_aligned.shape[1] - 1) / Y_aligned.shape[1]
    within = (within_x + within_y) / 2
    return math.sqrt(max(0.0, cross - within)) * math.sqrt(scale)


ENERGY_ESTIMATES = ("unbiased", "empirical")


def check_energy_estimate(estimate: object, owner: str) -> None:
    """Raise unless ``estimate`` is "unbiased" or "empirical".

    Parameters
    ----------
    estimate : object
        The value to check.
    owner : str
        The function or estimator that received it, for the message.
    """
    if not (isinstance(estimate, str) and estimate in ENERGY_ESTIMATES):
        raise InvalidParameterError(
            f"The 'estimate' parameter of {owner} must be 'unbiased' (netrep's estimator) or "
            f"'empirical' (the energy distance of the empirical distributions, a metric); "
            f"got {estimate!r}."
        )


class EnergyAlignment(NamedTuple):
    """Result of :func:`fit_energy_alignment`.

    Parameters
    ----------
    Q : array of shape (n_features, n_features)
        The alignment; Y's responses are aligned as ``y @ Q``.
    weights : array of shape (n_classes, n_repeats_x, n_repeats_y)
        Last iteratively reweighted least-squares weights per pair of repeats.
    loss_history : list of float
        Mean distance between aligned pairs of repeats, before fitting and
        after each iteration.
    n_iter : int
        Iterations run.
    """

    Q: object
    weights: object
    loss_history: list
    n_iter: int


def fit_energy_alignment(
    X: Array,
    Y: Array,
    *,
    group: str = "orth",
    max_iter: int = 100,
    tol: float = 1e-6,
    check_input: bool = True,
) -> EnergyAlignment:
    """Fit the alignment minimising the mean distance between repeats of X and Y.

    The same iteratively reweighted least squares as netrep (weights
    ``1 / max(sqrt(r), 1e-6)`` on the residual ``r`` of every pair of repeats,
    stop when the mean residual falls by less than ``tol``), but every pair is
    handled through per-class products: memory O(n_classes r^2), not
    O(n_classes r^2 n_features). The fit runs in float64 whatever the input
    dtype (float32 cross-products of responses far from zero lose the digits
    that orient ``Q``). Responses whose largest magnitude is beyond 2**100
    or below 2**-100 are first divided by a power of four (exact), so that
    their products neither overflow nor underflow; ``tol`` and the weight
    floor then apply to the rescaled responses, and the loss history and
    weights are given back in the units of the input.

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats_x, n_features)
        Responses of the first network (the reference).
    Y : array of shape (n_classes, n_repeats_y, n_features)
        Responses of the second network, aligned as ``Y @ Q``.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched.
    max_iter : int, default=100
        Reweighting iterations.
    tol : float, default=1e-6
        Stop when the mean residual falls by less than ``tol``.
    check_input : bool, default=True
        Check the responses and the parameters.

    Returns
    -------
    EnergyAlignment
        The alignment, the final weights (both in the dtype of ``X``) and the
        loss history.
    """
    if check_input:
        X, Y = _check_responses_pair(X, Y, ("X", "Y"))
        check_group(group, "fit_energy_alignment")
        check_positive_int(max_iter, "max_iter", "fit_energy_alignment")
        check_tolerance(tol, "tol", "fit_energy_alignment")
    (result,) = _fit_energy_pairs([X], [Y], group, max_iter, tol)
    return result


def fit_energy_alignments(
    Xs: Sequence[Array],
    Ys: Sequence[Array],
    *,
    group: str = "orth",
    max_iter: int = 100,
    tol: float = 1e-6,
    check_input: bool = True,
) -> list[EnergyAlignment]:
    """Fit the alignments of many pairs at once (:func:`fit_energy_alignment` of each).

    Pairs whose responses have the same shapes iterate in lockstep, each
    stopping on its own tolerance: one batched product and one batched
    Procrustes SVD per iteration for all of them, where fitting pair by pair
    spends most of its time in Python. Each pair's fit is the one
    :func:`fit_energy_alignment` computes.

    Parameters
    ----------
    Xs, Ys : sequences of arrays of shape (n_classes, n_repeats, n_features)
        The pairs ``(Xs[k], Ys[k])``, of equal lengths.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched.
    max_iter : int, default=100
        Reweighting iterations per pair.
    tol : float, default=1e-6
        A pair stops when its mean residual falls by less than ``tol``.
    check_input : bool, default=True
        Check the responses and the parameters.

    Returns
    -------
    list of EnergyAlignment
        One per pair, in order.
    """
    Xs, Ys = list(Xs), list(Ys)
    if len(Xs) != len(Ys):
        raise ValueError(f"Xs has {len(Xs)} entries and Ys {len(Ys)}; expected one pair per index.")
    if check_input:
        pairs = [
            _check_responses_pair(X, Y, (f"Xs[{k}]", f"Ys[{k}]"))
            for k, (X, Y) in enumerate(zip(Xs, Ys, strict=True))
        ]
        Xs, Ys = [X for X, _ in pairs], [Y for _, Y in pairs]
        check_group(group, "fit_energy_alignments")
        check_positive_int(max_iter, "max_iter", "fit_energy_alignments")
        check_tolerance(tol, "tol", "fit_energy_alignments")
    return _fit_energy_pairs(Xs, Ys, group, max_iter, tol)


def _fit_energy_pairs(
    Xs: list[Array], Ys: list[Array], group: str, max_iter: int, tol: float
) -> list[EnergyAlignment]:
    """Fit every pair; pairs of the same shapes in one lockstep batch."""
    results: list = [None] * len(Xs)
    by_shape: dict = {}
    for k, (X, Y) in enumerate(zip(Xs, Ys, strict=True)):
        by_shape.setdefault((tuple(X.shape), tuple(Y.shape)), []).append(k)
    for ks in by_shape.values():
        for k, result in zip(ks, _fit_same_shapes([Xs[k] for k in ks], [Ys[k] for k in ks], group,
                                                  max_iter, tol), strict=True):  # fmt: skip
            results[k] = result
    return results


def _fit_same_shapes(
    Xs: list[Array], Ys: list[Array], group: str, max_iter: int, tol: float
) -> list[EnergyAlignment]:
    """Iteratively reweighted least squares of many pairs of one shape, in lockstep."""
    xp = get_namespace(*Xs, *Ys)
    dtypes = [X.dtype for X in Xs]
    # float32 cross-products of responses far from zero (an offset of 1e4) keep
    # none of the digits that orient Q: the fit runs in float64. Products of
    # responses near 1e+-300 overflow or underflow: those pairs are divided
    # by a power of four first.
    Xs, Ys = [as_float64(X) for X in Xs], [as_float64(Y) for Y in Ys]
    scales = [working_scale(X, Y) for X, Y in zip(Xs, Ys, strict=True)]
    X = xp.stack([X / s if s != 1.0 else X for X, s in zip(Xs, scales, strict=True)])
    Y = xp.stack([Y / s if s != 1.0 else Y for Y, s in zip(Ys, scales, strict=True)])
    n_pairs, n_features = X.shape[0], X.shape[-1]
    Q = xp.asarray(
        xp.broadcast_to(_eye_like(n_features, X, xp), (n_pairs, n_features, n_features)), copy=True
    )
    residuals = _pairwise_norms(X, Y, xp)
    losses = xp.mean(residuals, axis=(1, 2, 3))
    histories = [[float(v)] for v in losses]
    weights = xp.ones_like(residuals)
    n_iter = np.zeros(n_pairs, dtype=np.int64)
    running = np.arange(n_pairs)
    while len(running) and n_iter[running[0]] < max_iter:
        n_iter[running] += 1
        Xa, Ya = take_rows(X, running, xp), take_rows(Y, running, xp)
        w = take_rows(weights, running, xp)
        # sum over classes and pairs (a, b) of w_ab^2 y_b' x_a
        cross = xp.sum(_mT(Ya, xp) @ (_mT(w * w, xp) @ Xa), axis=1)
        Qa = align_many_to_group(cross, group, xp)
        r = _pairwise_norms(Xa, Ya @ Qa[:, None, ...], xp)
        Q = put_rows(Q, running, Qa, xp)
        weights = put_rows(weights, running, 1.0 / xp.clip(xp.sqrt(r), 1e-6, None), xp)
        stop = np.zeros(len(running), dtype=bool)
        for j, (k, value) in enumerate(zip(running, xp.mean(r, axis=(1, 2, 3)), strict=True)):
            histories[k].append(float(value))
            stop[j] = histories[k][-2] - histories[k][-1] < tol
        running = running[~stop]
    results = []
    for k, (scale, dtype) in enumerate(zip(scales, dtypes, strict=True)):
        history, w = histories[k], weights[k, ...]
        if scale != 1.0:  # back to the units of the responses (sqrt(scale) is exact)
            history = [value * scale for value in history]
            w = w / math.sqrt(scale)
        results.append(
            EnergyAlignment(
                xp.astype(Q[k, ...], dtype), xp.astype(w, dtype), history, int(n_iter[k])
            )
        )
    return results
