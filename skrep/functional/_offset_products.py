"""Cross-products of low-precision data far from zero, without losing its variance.

``A.T @ B`` of float32 columns that sit at 1e4 with a spread of 1 holds the
spread in its last digit or two: the Gram matrix is dominated by the rank-one
term of the means, and the eigenvalues or singular values that carry the
data's own structure come out wrong by tens of percent. The whitening and the
Procrustes rotations take this product raw (netrep's definition), so for
float32 (and narrower) data visibly away from zero it is formed in float64
around the column means, ``A.T @ B = Ac.T @ Bc + n mean(A) mean(B).T``, and
the caller continues in float64. Centred data, as the estimators pass, take
the plain product in their own precision: the check costs one reduction.
"""

from __future__ import annotations

from .._array import get_namespace
from .._typing import Array

__all__ = ["cross_product"]

#: Share of the raw second moment held by the column means above which
#: low-precision data count as offset.
OFFSET_SHARE = 1e-3


def _offset(A: Array) -> bool:
    xp = get_namespace(A)
    if A.shape[0] == 0:
        return False
    means = xp.mean(A, axis=0)
    second_moment = float(xp.linalg.vector_norm(A)) ** 2  # no temporary copy of A
    return bool(A.shape[0] * float(xp.sum(means * means)) > OFFSET_SHARE * second_moment)


def cross_product(A: Array, B: Array | None = None) -> Array:
    """``A.T @ B`` (``A.T @ A`` when ``B`` is None), in float64 for offset float32 data.

    Parameters
    ----------
    A, B : arrays of shape (n_samples, p) and (n_samples, q)
        Finite data, already brought near unit scale.

    Returns
    -------
    array of shape (p, q)
        In the dtype of the inputs, or float64 when they are narrower than
        float64 and their column means hold more than :data:`OFFSET_SHARE`
        of their raw second moment.
    """
    xp = get_namespace(A)
    same = B is None
    B = A if same else B
    low_precision = A.dtype != xp.float64 or B.dtype != xp.float64
    if not low_precision or not (_offset(A) or (not same and _offset(B))):
        return A.T @ B
    A = xp.astype(A, xp.float64)
    mean_a = xp.mean(A, axis=0)
    A = A - mean_a
    if same:
        B, mean_b = A, mean_a
    else:
        B = xp.astype(B, xp.float64)
        mean_b = xp.mean(B, axis=0)
        B = B - mean_b
    return A.T @ B + A.shape[0] * (mean_a[:, None] * mean_b[None, :])
