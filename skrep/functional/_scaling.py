"""Exact rescaling by powers of two, so that products of the data never overflow or underflow.

Dividing an array by a power of two only changes the exponents of its
entries: it is exact (away from the subnormal range) and every later floating
point operation gives the same digits, scaled. The shape metrics divide each
representation by the power of two nearest its largest entry before forming
Gram or cross-products, so that data at 1e-150 or 1e150 give the digits of
data at 1.
"""

from __future__ import annotations

from .._typing import Array
from ._extreme_scales import power_of_two_above, within_band

__all__ = ["power_of_two_scale", "normalize_scale"]


#: The power of two ``s`` with ``max|A| / s`` in ``[0.5, 1)`` (1.0 for an all-zero array):
#: one helper for the whole package, from :mod:`._extreme_scales`.
power_of_two_scale = power_of_two_above


def normalize_scale(A: Array, *, in_place: bool = False) -> tuple[Array, float]:
    """``(A / s, s)`` with ``s`` a power of two (an exact division), 1 near unit scale.

    Parameters
    ----------
    A : array
        Finite data.
    in_place : bool, default=False
        Divide ``A`` itself (for a temporary array the caller owns: no copy).

    Returns
    -------
    normalized : array
        ``A / s``, largest absolute entry in ``[0.5, 1)``; ``A`` itself, with
        ``s = 1``, when its largest entry is within ``2**±200`` of 1 (``2**±20`` in
        float32), where no product of it overflows or underflows; ``A`` itself
        when ``in_place``.
    scale : float
        The power of two ``s``.
    """
    scale = power_of_two_scale(A)
    # Inside a wide band around 1 the products of A cannot overflow or underflow:
    # keep A as it is (no pass over the data), with scale 1.
    band = 20 if getattr(A.dtype, "itemsize", 8) <= 4 else 200
    if within_band(scale, band):
        return A, 1.0
    if in_place:
        A /= scale
        return A, scale
    return A / scale, scale
