"""Gathering and overwriting rows (leading-axis entries) of batched arrays.

The batched fits (:mod:`skrep.functional._gaussian_fit`,
:mod:`skrep.functional.energy_stochastic`) keep one entry per problem along
the leading axis and update the entries of the problems still running.
numpy and torch index by host integer arrays, in place; other array-API
namespaces (the standard has ``take`` but no indexed assignment) get the same
results from ``take`` over the array and the new rows side by side.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._array import is_torch_array
from .._typing import Array, Namespace

__all__ = ["take_rows", "put_rows"]


def _indexes_in_place(A: Array) -> bool:
    return isinstance(A, np.ndarray) or is_torch_array(A)


def take_rows(A: Array, positions: np.ndarray, xp: Namespace) -> Array:
    """``A[positions]`` for host integer ``positions`` (a new array)."""
    positions = np.asarray(positions, dtype=np.int64)
    if _indexes_in_place(A):
        return A[positions]
    index = xp.asarray(positions.tolist(), dtype=xp.int64, device=array_api_compat.device(A))
    return xp.take(A, index, axis=0)


def put_rows(A: Array, positions: np.ndarray, values: Array, xp: Namespace) -> Array:
    """``A`` with its rows at ``positions`` replaced by ``values``.

    In place (and returned) for numpy and torch; a new array otherwise.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) == 0:
        return A
    if _indexes_in_place(A):
        A[positions] = values
        return A
    source = np.arange(A.shape[0])
    source[positions] = A.shape[0] + np.arange(len(positions))
    return take_rows(xp.concat([A, values], axis=0), source, xp)
