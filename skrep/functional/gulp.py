"""GULP: how differently ridge regressions on two representations predict.

Boix-Adsera, Lawrence, Stepaniants and Rigollet (NeurIPS 2022) compare two
representations by what a linear readout can do with them: for a target
drawn at random (isotropic over the stimuli), fit a ridge regression on each
representation and compare the two predictions. With ``X`` (n x p) centred,
the ridge predictions of every target are the hat matrix
``H_X = X (X'X + n lambda I)^-1 X'`` applied to it, so the expected squared
difference is the closed form

    d_lambda(X, Y)^2 = |H_X - H_Y|_F^2
                     = tr(S_X^2) + tr(S_Y^2) - 2 tr(S_X S_Y),

with ``S`` the hat matrices (GULP's ``T1 + T2 - 2 T3``, written with the
covariances ``X'X / n`` and their ridge inverses). It is a metric between the
hat matrices: symmetric, with the triangle inequality, 0 when one
representation is an orthogonal transform of the other (any invertible linear
map at ``lambda = 0``, where ``H`` is the projection on the columns' span). As
``lambda`` grows it weighs the leading principal components more and moves
from a CCA-like comparison (``lambda -> 0``) towards a CKA-like one. GULP's
reference code centres each representation and scales it to unit total
variance (``|X|_F^2 = n``) first; ``normalize`` does the same.
"""

from __future__ import annotations

import math

import array_api_compat
import numpy as np

from .._array import convert_like, get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike, Namespace
from .._validation import check_paired_samples, check_representation
from ..exceptions import InvalidParameterError
from ._extreme_scales import divide_by, power_of_two_above
from .centering import center_and_scale

__all__ = ["gulp_distance", "gulp_of_prepared", "gulp_centring", "check_gulp_parameters"]


def check_gulp_parameters(lmbda: object, normalize: object, owner: str = "gulp_distance") -> None:
    """Raise an InvalidParameterError naming the parameter unless GULP's settings are valid.

    Parameters
    ----------
    lmbda, normalize : object
        As :func:`gulp_distance` takes them.
    owner : str, default="gulp_distance"
        Who takes them, for the message.
    """
    if (
        isinstance(lmbda, bool)
        or not isinstance(lmbda, (int, float, np.integer, np.floating))
        or not math.isfinite(lmbda)
        or lmbda < 0
    ):
        raise InvalidParameterError(
            f"The 'lmbda' parameter of {owner} must be a finite number >= 0 (the ridge "
            f"penalty on the covariance; 0: least squares); got {lmbda!r}."
        )
    if not isinstance(normalize, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'normalize' parameter of {owner} must be True or False; got {normalize!r}."
        )


def _hat_factors(Xc: Array, lmbda: float, n: int, xp: Namespace) -> tuple[Array, Array]:
    """``(U, h)`` with ``H = U diag(h) U'``: the ridge hat matrix of centred ``Xc``."""
    U, s, _ = xp.linalg.svd(Xc, full_matrices=False)
    s = np.asarray(to_numpy(s), dtype=np.float64)
    keep = s > max(Xc.shape) * np.finfo(np.float64).eps * max(float(s.max(initial=0.0)), 1e-300)
    squares = s[keep] ** 2
    # s^2 / (s^2 + n lambda): the shrinkage of each principal direction (1 at lambda = 0).
    h = squares / (squares + n * lmbda)
    columns = xp.asarray(np.flatnonzero(keep), device=array_api_compat.device(U))
    return xp.take(U, columns, axis=1), h


def gulp_centring(A: Array, normalize: bool, name: str) -> tuple[Array, float]:
    """Column means of ``A`` and the factor that gives the centred ``A`` unit total variance.

    Parameters
    ----------
    A : array of shape (n_samples, n_features)
        A validated representation.
    normalize : bool
        If False, the factor is 1.0.
    name : str
        Its name, for the message about a representation without variance.

    Returns
    -------
    mean : array of shape (n_features,)
        The column means.
    factor : float
        ``sqrt(n) / |A - mean|_F`` (computed without overflow), or 1.0.
    """
    xp = get_namespace(A)
    mean = xp.mean(A, axis=0)
    if not normalize:
        return mean, 1.0
    centered = A - mean
    power = power_of_two_above(centered)  # |.|_F of the scaled array cannot overflow
    norm = float(xp.linalg.vector_norm(divide_by(centered, power)))
    if norm == 0.0:
        raise ValueError(
            f"{name} has no variance (every column is constant), so it cannot be scaled "
            "to unit total variance; expected a representation that varies, or "
            "normalize=False."
        )
    return mean, math.sqrt(A.shape[0]) / norm / power


def _prepared(X: Array, normalize: bool, name: str) -> Array:
    scaled, _, scale = center_and_scale(X, name, "GULP")
    if normalize:  # unit total variance: |Xc|_F^2 = n
        xp = get_namespace(scaled)
        return scaled * (math.sqrt(X.shape[0]) / float(xp.linalg.vector_norm(scaled)))
    return scaled * scale


def gulp_distance(
    X: ArrayLike, Y: ArrayLike, *, lmbda: float = 0.01, normalize: bool = True
) -> float:
    """GULP distance: how differently ridge regressions on X and on Y predict.

    ``|H_X - H_Y|_F`` for the ridge hat matrices
    ``H_X = Xc (Xc'Xc + n lambda I)^-1 Xc'`` of the centred representations
    (see :mod:`skrep.functional.gulp`). The difference lies in the span of
    the two representations' principal directions, so it is computed there
    (an orthonormal basis of at most ``p + q`` columns), exactly near zero and
    without forming ``n x n`` matrices.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    lmbda : float, default=0.01
        Ridge penalty ``lambda`` on the covariance ``X'X / n`` (scikit-learn's
        ``Ridge(alpha=n * lmbda)`` on the centred data); 0 is least squares
        (the hat matrices are the projections on the columns' spans).
    normalize : bool, default=True
        Scale each centred representation to unit total variance first, as
        GULP's reference code does, so that ``lmbda`` has one meaning for
        every layer.

    Returns
    -------
    float
        The distance, in ``[0, sqrt(rank X + rank Y)]``. GULP's reference
        code reports its square.
    """
    check_gulp_parameters(lmbda, normalize)
    X = check_representation(X, "X")
    Y = convert_like(check_representation(Y, "Y"), X)
    check_paired_samples(X, Y)
    return gulp_of_prepared(
        _prepared(X, bool(normalize), "X"), _prepared(Y, bool(normalize), "Y"), float(lmbda)
    )


def gulp_of_prepared(Xc: Array, Yc: Array, lmbda: float) -> float:
    """:func:`gulp_distance` of representations already centred (and scaled).

    Parameters
    ----------
    Xc, Yc : arrays of shape (n_samples, n_features_x), (n_samples, n_features_y)
        Centred representations in one namespace.
    lmbda : float
        Ridge penalty on the covariance.

    Returns
    -------
    float
        The distance.
    """
    xp = get_namespace(Xc, Yc)
    n = Xc.shape[0]
    # The hat matrices do not change when a representation is rescaled at
    # lambda = 0; for lambda > 0, n lambda is measured against s^2, so the
    # division by a power of two (exact, for range) is undone in lambda.
    scale = max(power_of_two_above(Xc), power_of_two_above(Yc))
    Xc, Yc = divide_by(Xc, scale), divide_by(Yc, scale)
    penalty = lmbda / (scale * scale)
    UX, hX = _hat_factors(Xc, penalty, n, xp)
    UY, hY = _hat_factors(Yc, penalty, n, xp)
    Q, _ = xp.linalg.qr(xp.concat([UX, UY], axis=1))
    CX, CY = matrix_transpose(Q, xp) @ UX, matrix_transpose(Q, xp) @ UY
    dtype = CX.dtype

    def weighted(C: Array, h: np.ndarray) -> Array:
        weights = xp.asarray(h, dtype=dtype, device=array_api_compat.device(C))
        return (C * weights[None, :]) @ matrix_transpose(C, xp)

    difference = weighted(CX, hX) - weighted(CY, hY)
    return float(xp.linalg.vector_norm(difference))
