"""Data at extreme scales (1e-300, 1e300): exact rescaling, or a clear error.

Sums of squares (Gram matrices, variances) of data around 1e200 overflow to
inf, and those of data around 1e-200 underflow to zero, which turns a
well-defined, scale-invariant answer into NaN or a false "no variance". The
measures of :mod:`skrep.functional.subspace`, :mod:`~skrep.functional.dimensionality`,
:mod:`~skrep.functional.ridge` and the encoding models divide such data by a
power of two first: an exact division (only the exponents change), after
which every later operation gives the digits of the unscaled computation.
Data already in a safe range are left alone, so the common case costs one
reduction and no copy.
"""

from __future__ import annotations

import math

import numpy as np

from .._array import get_namespace
from .._typing import Array, ArrayLike

__all__ = [
    "largest_magnitude",
    "powers_of_two_above",
    "power_of_two_above",
    "power_of_four_above",
    "within_band",
    "range_scale",
    "divide_by",
    "scaled_alphas",
    "in_range",
    "unscaled",
    "multiplied",
]

#: Bits kept free below the largest exponent for sums of up to 2**64 terms.
_HEADROOM_BITS = 64


def largest_magnitude(A: Array) -> float:
    """The largest ``|entry|`` of ``A`` (0.0 when it is empty).

    Parameters
    ----------
    A : array
        Floating-point data (numpy or any array-API array).

    Returns
    -------
    float
        From the maximum and the minimum: no temporary as large as the data.
    """
    if not math.prod(A.shape):
        return 0.0
    xp = get_namespace(A)
    return max(float(xp.max(A)), -float(xp.min(A)))


def powers_of_two_above(largest: ArrayLike, bound: int | None = None) -> np.ndarray:
    """Elementwise, the power of two ``s`` with ``largest / s`` in [0.5, 1).

    The helper behind every exact rescaling in skrep: a division by ``s`` only
    changes the exponents of the data.

    Parameters
    ----------
    largest : array-like
        Largest absolute values (>= 0), e.g. one per row or per data set.
    bound : int, optional
        Clip the exponents of ``s`` to ``[-bound, bound]`` (so that ``s`` and
        ``1 / s`` are normal numbers of a narrower type); by default they are
        only held at 1023 (2**1024 is not a float).

    Returns
    -------
    ndarray
        float64 powers of two, 1.0 where ``largest`` is 0 or not finite.

    Examples
    --------
    >>> powers_of_two_above([0.75, 1.0, 3.0, 0.0, 1e-300]) * [1, 1, 1, 1, 2.0**996]
    array([1., 2., 4., 1., 1.])
    """
    _, exponents = np.frexp(np.asarray(largest, dtype=np.float64))  # 0 for 0, inf and NaN
    low, high = (-bound, bound) if bound is not None else (None, 1023)
    return np.ldexp(1.0, np.clip(exponents, low, high))


def power_of_two_above(A: Array) -> float:
    """The power of two ``s`` with the largest ``|A| / s`` in [0.5, 1) (1.0 for zeros).

    Parameters
    ----------
    A : array
        Finite floating-point data (numpy or any array-API array).

    Returns
    -------
    float
        A power of two; 2**1023 for data beyond 2**1023 (2**1024 is not a float).
    """
    return float(powers_of_two_above(largest_magnitude(A)))


def power_of_four_above(largest: float) -> float:
    """The power of four ``s`` with ``largest`` in ``[s / 4, s)`` (1.0 for 0).

    Its square root is a power of two too: both divisions are exact.

    Parameters
    ----------
    largest : float
        A largest absolute value (>= 0).

    Returns
    -------
    float
        The power of four; 1.0 when ``largest`` is 0 or not finite, and
        2**1022 for ``largest`` beyond it (where ``largest / s`` is still
        far from overflowing).
    """
    scale = float(powers_of_two_above(largest, bound=1022))
    return scale * 2.0 if math.frexp(scale)[1] % 2 == 0 else scale  # 2**k, k odd -> 2**(k+1)


def within_band(scale: ArrayLike, band: float) -> np.ndarray:
    """Whether powers of two ``scale`` lie within ``[2**-band, 2**band]`` (elementwise).

    Data whose scale is within the band are used as they are: their
    products can neither overflow nor underflow.

    Parameters
    ----------
    scale : array-like
        Powers of two, from :func:`powers_of_two_above` or
        :func:`power_of_two_above`.
    band : float
        The largest exponent kept, e.g. 200 for float64 Gram matrices.

    Returns
    -------
    ndarray of bool
        ``|log2(scale)| <= band`` (a 0-d array for a scalar ``scale``).
    """
    return np.abs(np.log2(np.asarray(scale, dtype=np.float64))) <= band


def range_scale(A: Array, power: int = 2) -> float:
    """The power of two to divide ``A`` by so that its ``power``-th powers stay in range.

    Parameters
    ----------
    A : array
        Finite floating-point data (numpy or any array-API array).
    power : int, default=2
        The highest power of the entries that the computation forms: 2 for
        Gram matrices and variances, 4 for sums of squared Gram entries.

    Returns
    -------
    float
        1.0 when products of ``power`` entries (summed over up to 2**64 terms)
        can neither overflow nor underflow in ``A``'s dtype; otherwise
        :func:`power_of_two_above` of ``A``.
    """
    scale = power_of_two_above(A)
    limit = (math.log2(float(get_namespace(A).finfo(A.dtype).max)) - _HEADROOM_BITS) / power
    return 1.0 if within_band(scale, limit) else scale


def divide_by(A: Array, scale: float) -> Array:
    """``A / scale``, or ``A`` itself when the scale is 1 (no copy).

    Parameters
    ----------
    A : array
        Data.
    scale : float
        A power of two from :func:`range_scale`.

    Returns
    -------
    array
        The exactly rescaled data.
    """
    return A if scale == 1.0 else A / scale


# -- ridge: features and alphas rescaled together ------------------------------------------
def scaled_alphas(alphas: ArrayLike, scale: float, like: Array) -> np.ndarray:
    """The alphas of features divided by ``scale``: the same ridge problem.

    Ridge on ``X / s`` with ``alpha / s**2`` has ``s`` times the weights of
    ridge on ``X`` with ``alpha``, the same predictions and the same held-out
    scores: the division by a power of two is exact. Scaled alphas beyond
    the eigenvalues' resolution are held at its edges, where the problem no
    longer changes: the rescaled data have their largest entry in [0.5, 1),
    so their largest eigenvalue is at least 1/4 and rounding blurs
    eigenvalues below ``eps / 4``; alphas below that act as 0 (they are held
    at ``eps / 4``, which also keeps directions without variance from being
    divided by nearly 0), and alphas above ``sqrt(max float)`` act as
    infinity beside eigenvalues of at most ``n_samples * n_features`` (they
    are held there, where the shrunken predictions stay within the float range).

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Positive regularisation strengths of the unscaled problem (checked).
    scale : float
        The power of two the features are divided by.
    like : array
        An array of the computation's dtype (numpy or torch).

    Returns
    -------
    ndarray of shape (n_alphas,)
        ``alphas / scale**2`` (float64), within those limits; the alphas
        themselves when ``scale`` is 1.
    """
    values = np.asarray(alphas, dtype=np.float64)
    if scale == 1.0:
        return values
    finfo = get_namespace(like).finfo(like.dtype)
    with np.errstate(over="ignore", under="ignore"):
        scaled = values / scale / scale  # inf or 0 when out of range: held below
    return np.clip(scaled, float(finfo.eps) / 4.0, math.sqrt(float(finfo.max)))


def in_range(X: Array, alphas: np.ndarray) -> tuple[Array, np.ndarray, float]:
    """``(X / s, alphas / s**2, s)``: the same ridge problem with ``X'X`` in range.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated features.
    alphas : ndarray
        Checked positive alphas.

    Returns
    -------
    X : array
        The features divided by ``s`` (X itself when ``s`` is 1).
    alphas : ndarray
        :func:`scaled_alphas` of the alphas.
    scale : float
        ``s`` from :func:`range_scale`: 1 for features whose squares stay
        in range, a power of two for features near 1e300 or 1e-300.
    """
    scale = range_scale(X)
    if scale == 1.0:
        return X, alphas, scale
    return divide_by(X, scale), scaled_alphas(alphas, scale, X), scale


def unscaled(A: Array, *divisors: float) -> Array:
    """``A`` divided by each of ``divisors`` in turn (inf past the float range).

    Parameters
    ----------
    A : array
        Weights of a rescaled problem.
    *divisors : float
        Powers of two.

    Returns
    -------
    array
        The weights in the units of the data; A itself when every divisor is 1.
    """
    with np.errstate(over="ignore", under="ignore"):
        for divisor in divisors:
            A = divide_by(A, divisor)
    return A


def multiplied(A: Array, *factors: float) -> Array:
    """``A`` multiplied by each of ``factors`` in turn (inf past the float range).

    Parameters
    ----------
    A : array
        E.g. eigenvalues of a rescaled kernel.
    *factors : float
        Powers of two.

    Returns
    -------
    array
        The values in the units of the data; A itself when every factor is 1.
    """
    with np.errstate(over="ignore", under="ignore"):
        for factor in factors:
            A = A if factor == 1.0 else A * factor
    return A
