"""Distances between two aligned representations of the same shape.

These are netrep's "score methods": the angle between the two matrices seen as
vectors (Frobenius inner product), and the Frobenius norm of their difference.
"""

from __future__ import annotations

from .._array import get_namespace
from .._typing import Array, Namespace
from .._validation import check_matching_pair
from ._autograd import angular_surrogate, euclidean_surrogate, torch_result

__all__ = ["angular_distance", "euclidean_distance", "GROUND_METRICS"]


def _unit(A: Array, xp: Namespace, name: str) -> Array:
    """``A / |A|_F``, computed without overflow or underflow in the norm."""
    # vector_norm squares the entries: 1e170 (float64) or 1e19 (float32)
    # overflows. Dividing by the largest entry first keeps it in range.
    largest = xp.max(xp.abs(A))
    if not float(largest) > 0.0:
        raise ValueError(
            f"The aligned {name} is all zeros (for example, every column of {name} "
            "is constant and center_columns=True removed it), so the angular "
            "distance is undefined; expected a representation with nonzero "
            "variance. Use score_method='euclidean' or check the input."
        )
    scaled = A / largest
    return scaled / xp.linalg.vector_norm(scaled)


def _safe_norm(A: Array, xp: Namespace) -> Array:
    """Frobenius norm of ``A`` without overflow in the squares."""
    largest = xp.max(xp.abs(A))
    if not float(largest) > 0.0:
        return largest
    return xp.linalg.vector_norm(A / largest) * largest


def angular_distance(A: Array, B: Array, *, check_input: bool = True) -> float | Array:
    """Angle between ``A`` and ``B`` under the Frobenius inner product.

    Equal to ``arccos(<A, B>_F / (|A|_F |B|_F))``, computed as
    ``2 * atan2(|a - b|, |a + b|)`` with ``a = A / |A|_F``, ``b = B / |B|_F``
    (Kahan's formula). The arccos form loses half the digits near 0 and pi
    (an error of 1e-16 in the cosine is an error of 1e-8 in the angle); this one
    stays accurate to machine precision everywhere, and at any scale of the data.

    Parameters
    ----------
    A, B : arrays of the same shape
        Aligned representations, 2-D, e.g. ``(n_samples, n_features)``.

    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    float or torch.Tensor
        Angle in ``[0, pi]``; for torch input a 0-d tensor that carries
        gradients when an input requires grad (finite at 0 and pi).

    Raises
    ------
    ValueError
        If either matrix is all zeros (e.g. constant columns that centering
        removed): the angle is then undefined.
    """
    inputs = (A, B)
    if check_input:
        A, B = check_matching_pair(A, B, ("A", "B"))
    xp = get_namespace(A, B)
    a = _unit(A, xp, "X")
    b = _unit(B, xp, "Y")
    value = float(2.0 * xp.atan2(xp.linalg.vector_norm(a - b), xp.linalg.vector_norm(a + b)))
    return torch_result(value, inputs, lambda: angular_surrogate(*inputs))


def euclidean_distance(A: Array, B: Array, *, check_input: bool = True) -> float | Array:
    """Frobenius norm of ``A - B`` (netrep's euclidean score, not divided by sqrt(n)).

    Parameters
    ----------
    A, B : arrays of the same shape
        Aligned representations.

    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    float or torch.Tensor
        ``|A - B|_F``; for torch input a 0-d tensor that carries gradients
        when an input requires grad (finite at 0).

    Raises
    ------
    ValueError
        If the difference overflows (values near the largest float).
    """
    inputs = (A, B)
    if check_input:
        A, B = check_matching_pair(A, B, ("A", "B"))
    xp = get_namespace(A, B)
    distance = float(_safe_norm(A - B, xp))
    if distance == float("inf"):
        raise ValueError(
            f"The euclidean distance overflowed in {A.dtype}: the aligned "
            "representations are too large to subtract; rescale the data."
        )
    return torch_result(distance, inputs, lambda: euclidean_surrogate(*inputs))


GROUND_METRICS = {"angular": angular_distance, "euclidean": euclidean_distance}
"""Ground metric of each ``score_method`` name."""
