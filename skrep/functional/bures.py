"""The Bures distance and normalised Bures similarity, and their duality with shape distances.

For positive semidefinite ``A`` and ``B`` (kernel matrices over the same
stimuli), the fidelity is ``F(A, B) = tr (A^1/2 B A^1/2)^1/2``, the Bures
distance ``d_B(A, B) = (tr A + tr B - 2 F)^1/2`` and the normalised Bures
similarity (Tang et al. 2020) ``NBS = F / (tr A tr B)^1/2``, in [0, 1].

Duality (Harvey, Larsen & Williams 2023): for centred representations X and Y
with Gram matrices ``X X'`` and ``Y Y'``, ``F = |X'Y|_*``, so the Bures
distance between the Gram matrices is the Procrustes distance
``min_Q |X - Y Q|_F`` (LinearMetric with ``alpha=1`` and
``score_method="euclidean"``), and ``arccos(NBS)`` is the angular Procrustes
(Riemannian shape) distance. Both are computed here the same way: from square
root factors ``R`` (``A = R R'``; ``X`` itself for a linear kernel), as the
Procrustes problem between the factors, so the distance and the angle are
exact near zero instead of the square root of a cancellation.

:func:`procrustes_cka_bounds` brackets linear CKA by the angular Procrustes
distance. With ``M = X'Y``, ``PR`` the participation ratio of a
representation and ``r`` the rank of ``M``,
``CKA = |M|_F^2 (PR_X PR_Y)^1/2 / (|X|_F^2 |Y|_F^2)`` exactly, and
``|M|_F <= |M|_* <= r^1/2 |M|_F``, so
``cos^2(theta) (PR_X PR_Y)^1/2 / r <= CKA <= cos^2(theta) (PR_X PR_Y)^1/2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import array_api_compat
import numpy as np

from .._array import convert_like, get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_matrix, check_paired_samples, check_representation
from ._extreme_scales import divide_by, power_of_two_above
from .centering import center_and_scale
from .dimensionality import _participation_ratio_of_centered
from .gram import check_kernel_params, gram_matrix
from .kernel import linear_cka

__all__ = [
    "bures_distance",
    "normalized_bures_similarity",
    "bures_similarity",
    "BuresComparison",
    "CKABounds",
    "procrustes_cka_bounds",
]


class BuresComparison(NamedTuple):
    """Fidelity, Bures distance and angle of two PSD matrices (or representations).

    Parameters
    ----------
    distance : float
        The Bures distance ``(tr A + tr B - 2 F)^1/2``.
    similarity : float
        The normalised Bures similarity ``F / (tr A tr B)^1/2``.
    angle : float
        The Bures angle ``arccos(similarity)``, in [0, pi/2].
    """

    distance: float
    similarity: float
    angle: float


def _compare_factors(RA: Array, RB: Array) -> BuresComparison:
    """Bures quantities of ``A = RA RA'`` and ``B = RB RB'`` (factors with the same rows)."""
    xp = get_namespace(RA, RB)
    width = max(RA.shape[1], RB.shape[1])
    pad = [
        xp.zeros((R.shape[0], width - R.shape[1]), dtype=R.dtype, device=array_api_compat.device(R))
        for R in (RA, RB)
    ]
    RA, RB = xp.concat([RA, pad[0]], axis=1), xp.concat([RB, pad[1]], axis=1)
    # Powers of two: exact divisions that keep every product in range.
    scale = max(power_of_two_above(RA), power_of_two_above(RB))
    RA, RB = divide_by(RA, scale), divide_by(RB, scale)
    U, _, Vt = xp.linalg.svd(matrix_transpose(RB, xp) @ RA)
    aligned = RB @ (U @ Vt)  # RB Q at the optimal orthogonal Q
    norm_a = float(xp.linalg.vector_norm(RA))
    norm_b = float(xp.linalg.vector_norm(RB))
    if norm_a == 0.0 or norm_b == 0.0:
        raise ValueError(
            "A kernel matrix is zero (a representation without variance), so the "
            "normalised Bures similarity is undefined; expected nonzero matrices."
        )
    distance = float(xp.linalg.vector_norm(RA - aligned)) * scale
    # Kahan's angle between the unit factors: accurate near 0, unlike arccos of
    # sum(s) / (|RA| |RB|); the similarity is its cosine (exactly 1 for a
    # representation and itself).
    a, b = RA / norm_a, aligned / norm_b
    angle = 2.0 * math.atan2(
        float(xp.linalg.vector_norm(a - b)), float(xp.linalg.vector_norm(a + b))
    )
    return BuresComparison(distance=distance, similarity=math.cos(angle), angle=angle)


def _psd_root(A: Array, name: str) -> Array:
    """The symmetric square root of a PSD matrix, after checking it is one."""
    xp = get_namespace(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"{name} must be a square PSD matrix of shape (n, n); got shape {_shape_str(A.shape)}."
        )
    scale = float(xp.max(xp.abs(A)))
    if scale == 0.0:
        return A
    asymmetry = float(xp.max(xp.abs(A - matrix_transpose(A, xp))))
    if asymmetry > 1e-8 * scale:
        raise ValueError(
            f"{name} is not symmetric (largest |{name} - {name}.T| is {asymmetry:.3g}, largest "
            f"|{name}| is {scale:.3g}); expected a PSD kernel matrix."
        )
    values, vectors = xp.linalg.eigh(A / scale)
    # Rounding leaves a PSD matrix's zero eigenvalues slightly negative, by up to
    # float32 rounding for kernel matrices computed in float32 and cast up.
    tolerance = (
        100 * A.shape[0] * max(float(xp.finfo(A.dtype).eps), float(np.finfo(np.float32).eps))
    )
    if float(xp.min(values)) < -tolerance:
        raise ValueError(
            f"{name} is not positive semidefinite (smallest eigenvalue "
            f"{float(xp.min(values)) * scale:.3g}); expected a PSD kernel matrix."
        )
    # Eigenvalues within rounding of zero are zero: their square roots (about
    # 1e-8 of the largest) would otherwise add up in the fidelity.
    floor = A.shape[0] * float(xp.finfo(A.dtype).eps) * float(xp.max(values))
    roots = xp.sqrt(xp.where(values > floor, values, xp.zeros_like(values)))
    return (vectors * roots[None, :]) @ matrix_transpose(vectors, xp) * math.sqrt(scale)


def _check_psd_pair(A: ArrayLike, B: ArrayLike) -> tuple[Array, Array]:
    A = check_matrix(A, "A")
    B = convert_like(check_matrix(B, "B"), A)
    for M, name in ((A, "A"), (B, "B")):
        if M.shape[0] != M.shape[1]:
            raise ValueError(
                f"{name} must be a square PSD matrix of shape (n, n); got shape "
                f"{_shape_str(M.shape)}."
            )
    if A.shape != B.shape:
        raise ValueError(
            f"A has shape {_shape_str(A.shape)} but B has shape {_shape_str(B.shape)}; "
            "expected two kernel matrices over the same stimuli."
        )
    return A, B


def bures_distance(A: ArrayLike, B: ArrayLike) -> float:
    """Bures distance between two positive semidefinite matrices.

    ``(tr A + tr B - 2 tr (A^1/2 B A^1/2)^1/2)^1/2``, computed as
    ``min_Q |A^1/2 - B^1/2 Q|_F`` over orthogonal ``Q`` (exact near zero).
    Between the centred Gram matrices ``X X'`` and ``Y Y'`` of two
    representations it equals their Procrustes distance (Harvey et al. 2023).

    Parameters
    ----------
    A, B : array-like or torch.Tensor of shape (n, n)
        Symmetric positive semidefinite matrices (e.g. kernel matrices over
        the same stimuli).

    Returns
    -------
    float
        The distance (0 or more).
    """
    A, B = _check_psd_pair(A, B)
    return _compare_factors(_psd_root(A, "A"), _psd_root(B, "B")).distance


def normalized_bures_similarity(A: ArrayLike, B: ArrayLike) -> float:
    """Normalised Bures similarity (Tang et al. 2020) of two PSD matrices.

    ``tr (A^1/2 B A^1/2)^1/2 / (tr A tr B)^1/2``, in [0, 1]; 1 when ``B`` is a
    positive multiple of ``A``. Its arccos is the Bures angle.

    Parameters
    ----------
    A, B : array-like or torch.Tensor of shape (n, n)
        Symmetric positive semidefinite matrices, neither zero.

    Returns
    -------
    float
        The similarity.
    """
    A, B = _check_psd_pair(A, B)
    return _compare_factors(_psd_root(A, "A"), _psd_root(B, "B")).similarity


def _centered_root(X: Array, kernel: object, sigma: float | None, threshold: float) -> Array:
    """A factor R with R R' the centred kernel matrix of X (X centred for the linear kernel)."""
    if kernel == "linear":
        # Centred (the mean in float64), or an error naming a constant representation.
        scaled, _, scale = center_and_scale(X, "X", "the normalised Bures similarity")
        return scaled * scale
    K = gram_matrix(X, kernel, sigma=sigma, threshold=threshold)
    xp = get_namespace(K)
    K = K - xp.mean(K, axis=0, keepdims=True)
    K = K - xp.mean(K, axis=1, keepdims=True)  # H K H
    K = (K + matrix_transpose(K, xp)) / 2
    return _psd_root(K, "the centred kernel matrix")


def bures_similarity(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    kernel: str | Callable[[Array], ArrayLike] = "linear",
    sigma: float | None = None,
    threshold: float = 0.8,
) -> BuresComparison:
    """Normalised Bures similarity and angle between the centred kernel matrices of X and Y.

    With the linear kernel this is computed in feature space, through
    ``|X'Y|_*`` for centred X and Y (no ``n x n`` matrix): the similarity is
    the cosine of the angular Procrustes distance, and the angle that
    distance. Other kernels form the centred ``n x n`` kernel matrices and
    their square roots.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    kernel : {"linear", "rbf"} or callable, default="linear"
        As in :func:`gram_matrix`.
    sigma : float, default=None
        RBF bandwidth; None uses ``threshold`` times the median distance.
    threshold : float, default=0.8
        Fraction of the median distance when ``sigma`` is None.

    Returns
    -------
    BuresComparison
        ``(distance, similarity, angle)``: the Bures distance between the
        centred kernel matrices (for the linear kernel, the Procrustes
        distance of X and Y), their normalised Bures similarity and the
        Bures angle.
    """
    check_kernel_params(kernel, sigma, threshold, False, "bures_similarity")
    X = check_representation(X, "X")
    Y = convert_like(check_representation(Y, "Y"), X)
    check_paired_samples(X, Y)
    return _compare_factors(
        _centered_root(X, kernel, sigma, threshold), _centered_root(Y, kernel, sigma, threshold)
    )


class CKABounds(NamedTuple):
    """Linear CKA and the angular Procrustes distance, with the bounds that link them.

    Parameters
    ----------
    angle : float
        Angular Procrustes distance ``theta = arccos(NBS)``.
    cka : float
        Linear CKA.
    cka_lower, cka_upper : float
        ``cos^2(theta) (PR_X PR_Y)^1/2 / r`` and
        ``min(1, cos^2(theta) (PR_X PR_Y)^1/2)``: CKA lies between them.
    angle_lower, angle_upper : float
        The same inequalities solved for ``theta`` given CKA.
    rank : int
        ``r``, the numerical rank of ``X'Y``.
    participation_ratios : tuple of float
        ``(PR_X, PR_Y)``.
    """

    angle: float
    cka: float
    cka_lower: float
    cka_upper: float
    angle_lower: float
    angle_upper: float
    rank: int
    participation_ratios: tuple


def procrustes_cka_bounds(X: ArrayLike, Y: ArrayLike) -> CKABounds:
    """Linear CKA bracketed by the angular Procrustes distance (and back).

    For centred X and Y with ``M = X'Y`` of rank ``r``, linear CKA is
    ``|M|_F^2 (PR_X PR_Y)^1/2 / (|X|_F^2 |Y|_F^2)`` (``PR`` the participation
    ratio), while ``cos(theta) = |M|_* / (|X|_F |Y|_F)``; since
    ``|M|_F <= |M|_* <= r^1/2 |M|_F``,
    ``cos^2(theta) (PR_X PR_Y)^1/2 / r <= CKA <= cos^2(theta) (PR_X PR_Y)^1/2``.
    The upper bound is attained when ``M`` has rank one, the lower one when
    its nonzero singular values are equal. High-dimensional representations
    (large participation ratios) can thus have a high CKA and a large shape
    distance, or the reverse, which is how the two measures disagree
    (Harvey, Larsen & Williams 2023).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation (n_samples >= 4, as CKA needs).
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.

    Returns
    -------
    CKABounds
        The angle, CKA (computed by :func:`linear_cka`, independently of the
        bounds), the bounds either way, ``r`` and the participation ratios.
    """
    X = check_representation(X, "X")
    Y = convert_like(check_representation(Y, "Y"), X)
    check_paired_samples(X, Y)
    xp = get_namespace(X, Y)
    Xc, _, _ = center_and_scale(X, "X", "the angular Procrustes distance")
    Yc, _, _ = center_and_scale(Y, "Y", "the angular Procrustes distance")
    angle = _compare_factors(Xc, Yc).angle
    cka = float(linear_cka(X, Y))  # a float, also for torch input
    singular = np.asarray(
        to_numpy(xp.linalg.svdvals(matrix_transpose(Xc, xp) @ Yc)), dtype=np.float64
    )
    tolerance = max(Xc.shape[0], *singular.shape, 1) * np.finfo(np.float64).eps
    rank = int(np.sum(singular > tolerance * max(float(singular.max(initial=0.0)), 1e-300)))
    ratios = (_participation_ratio_of_centered(Xc, xp), _participation_ratio_of_centered(Yc, xp))
    spread = math.sqrt(ratios[0] * ratios[1])
    cos2 = math.cos(angle) ** 2
    rank = max(rank, 1)
    # theta from CKA: cos^2 >= CKA / spread (upper bound) and <= r CKA / spread (lower).
    angle_upper = math.acos(min(1.0, math.sqrt(max(cka, 0.0) / spread)))
    angle_lower = math.acos(min(1.0, math.sqrt(max(cka, 0.0) * rank / spread)))
    return CKABounds(
        angle=angle,
        cka=cka,
        cka_lower=cos2 * spread / rank,
        cka_upper=min(1.0, cos2 * spread),
        angle_lower=angle_lower,
        angle_upper=angle_upper,
        rank=rank,
        participation_ratios=ratios,
    )
