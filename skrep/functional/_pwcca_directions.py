"""The canonical directions PWCCA weights, with tied correlations resolved.

The private half of PWCCA (:func:`skrep.functional.pwcca`): the SVD of the
whitened cross-covariance gives the canonical directions of the weighting
side; where correlations tie, their directions are any basis of a subspace,
and :func:`pwcca_rotation` picks one from the data alone. Kept apart so that
the torch gradient (:mod:`._pwcca_autograd`) follows the same directions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array

__all__ = ["PWCCARotation", "pwcca_rotation"]


def canonical_ties(
    rotation: np.ndarray, rho: np.ndarray, centered: np.ndarray, tolerance: float
) -> np.ndarray:
    """``rotation`` chosen independently of the SVD when correlations tie.

    Correlations tied within ``tolerance`` (several equal to 1 whenever
    ``n_samples <= rank X + rank Y``, as the column spaces then intersect)
    share a singular subspace in which the SVD returns any orthonormal basis,
    and the tie also changes which signs LAPACK gives the other directions;
    PWCCA's weights depend on both. So, when there is a tie, the basis of each
    tie becomes the principal axes of the weighting side's activity within
    the subspace (the right singular vectors of ``centered @ rows.T``), and
    every row is signed so that its largest entry is positive: a function of
    the data alone. Without ties the rows are returned as the SVD gave them
    (google's values).
    """
    rotation = rotation.copy()
    start, tied = 0, False
    for stop in range(1, rho.size + 1):
        if stop < rho.size and rho[stop - 1] - rho[stop] <= tolerance:
            continue  # the tie goes on
        if stop - start > 1:
            tied = True
            _, _, axes = np.linalg.svd(centered @ rotation[start:stop].T, full_matrices=False)
            rotation[start:stop] = axes @ rotation[start:stop]
        start = stop
    if tied:
        largest = rotation[np.arange(rotation.shape[0]), np.argmax(np.abs(rotation), axis=1)]
        rotation *= np.where(largest < 0, -1.0, 1.0)[:, None]
    return rotation


class PWCCARotation(NamedTuple):
    """The canonical directions PWCCA weights (see :func:`pwcca_rotation`).

    Parameters
    ----------
    rotation : ndarray of shape (rank, n_features_side)
        The canonical directions of the weighting side, in its unit space.
    rho : ndarray of shape (rank,)
        The canonical correlations, descending.
    side : str
        "X" or "Y": the weighting side.
    groups : list of ndarray
        Indices of the correlations tied within rounding (each of size > 1).
    """

    rotation: np.ndarray
    rho: np.ndarray
    side: str
    groups: list


def pwcca_rotation(x: dict[str, Array], y: dict[str, Array]) -> PWCCARotation:
    """The canonical directions and correlations of PWCCA, ties resolved and signed.

    Parameters
    ----------
    x, y : dict
        Results of :func:`prepare_pwcca` for X and Y.

    Returns
    -------
    PWCCARotation
        The directions of the weighting side, the correlations, which side
        weights, and the tied groups.
    """
    xp = get_namespace(x["U"])
    Ux, Uy = x["U"], y["U"]
    single = xp.float32 in (Ux.dtype, Uy.dtype)
    numpy_dtype = np.float32 if single else np.float64
    if Ux.dtype != Uy.dtype:
        Ux, Uy = xp.astype(Ux, xp.float64), xp.astype(Uy, xp.float64)
    cross = to_numpy(xp.astype(matrix_transpose(Ux, xp) @ Uy, xp.float64))
    whitened = x["V"] @ cross @ y["V"].T
    u, rho, vt = np.linalg.svd(whitened)
    # The side of lower rank (X on a tie) weights the correlations; for inputs
    # of full column rank that is google's narrower side. Only the rank's worth
    # of canonical directions exists: beyond it the SVD returns zero
    # correlations along arbitrary directions, which must not get weights.
    rank_x, rank_y = Ux.shape[1], Uy.shape[1]
    rank = min(rank_x, rank_y)
    rotation, side = (u.T, "X") if rank_x <= rank_y else (vt, "Y")
    # Ties: correlations closer than rounding of the less precise side separates them.
    tolerance = 32.0 * np.sqrt(rank) * float(np.finfo(numpy_dtype).eps)
    centered = (x if side == "X" else y)["centered"]
    rotation = canonical_ties(rotation[:rank], rho[:rank], centered, tolerance)
    runs = np.split(np.arange(rank), np.flatnonzero(np.diff(rho[:rank]) < -tolerance) + 1)
    return PWCCARotation(rotation, rho[:rank], side, [g for g in runs if g.size > 1])
