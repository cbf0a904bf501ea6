"""Distances between two aligned representations of the same shape.

These are netrep's "score methods": the angle between the two matrices seen as
vectors (Frobenius inner product), and the Frobenius norm of their difference.
"""

from __future__ import annotations

from .._array import get_namespace

__all__ = ["angular_distance", "euclidean_distance", "GROUND_METRICS"]


def angular_distance(A, B):
    """Angle between ``A`` and ``B`` under the Frobenius inner product.

    Equal to ``arccos(<A, B>_F / (|A|_F |B|_F))``, computed as
    ``2 * atan2(|a - b|, |a + b|)`` with ``a = A / |A|_F``, ``b = B / |B|_F``
    (Kahan's formula). The arccos form loses half the digits near 0 and pi
    (an error of 1e-16 in the cosine is an error of 1e-8 in the angle); this one
    stays accurate to machine precision everywhere.

    Parameters
    ----------
    A, B : arrays of the same shape
        Aligned representations, e.g. ``(n_samples, n_features)``.

    Returns
    -------
    float
        Angle in ``[0, pi]``.

    Raises
    ------
    ValueError
        If either matrix is all zeros (e.g. constant columns that centering
        removed): the angle is then undefined.
    """
    xp = get_namespace(A, B)
    norm_a = xp.linalg.vector_norm(A)
    norm_b = xp.linalg.vector_norm(B)
    for name, norm in (("X", norm_a), ("Y", norm_b)):
        if not float(norm) > 0.0:
            raise ValueError(
                f"The aligned {name} is all zeros (for example, every column of {name} "
                "is constant and center_columns=True removed it), so the angular "
                "distance is undefined; expected a representation with nonzero "
                "variance. Use score_method='euclidean' or check the input."
            )
    a = A / norm_a
    b = B / norm_b
    return float(2.0 * xp.atan2(xp.linalg.vector_norm(a - b), xp.linalg.vector_norm(a + b)))


def euclidean_distance(A, B):
    """Frobenius norm of ``A - B`` (netrep's euclidean score, not divided by sqrt(n)).

    Parameters
    ----------
    A, B : arrays of the same shape
        Aligned representations.

    Returns
    -------
    float
        ``|A - B|_F``.
    """
    xp = get_namespace(A, B)
    return float(xp.linalg.vector_norm(A - B))


GROUND_METRICS = {"angular": angular_distance, "euclidean": euclidean_distance}
"""Ground metric of each ``score_method`` name."""
