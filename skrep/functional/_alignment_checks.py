"""Checks of the fitted pieces an alignment is applied with: offsets and column orders."""

from __future__ import annotations

import numbers

import numpy as np

from .._array import convert_like, to_numpy
from .._typing import Array, ArrayLike
from .._validation import check_matrix


def _describe(A: ArrayLike) -> str:
    shape = getattr(A, "shape", None)
    if shape is None:
        shape = np.shape(A)
    return f"a {len(shape)}-D array of shape {tuple(shape)}"


def check_offset(offset: ArrayLike, X: Array, name: str = "offset") -> Array:
    """``offset`` as a finite real 1-D array in the namespace of ``X``, or a ValueError."""
    ndim = len(getattr(offset, "shape", np.shape(offset)))
    if ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of shape (n_features,) (the column means "
            f"learned in the fit); got {_describe(offset)}."
        )
    checked = check_matrix(offset[None, :] if hasattr(offset, "shape") else [offset], name)
    return convert_like(checked[0, :], X)


def check_order(order: ArrayLike, X: Array, name: str = "order") -> Array:
    """``order`` as an integer 1-D permutation of ``range(n)`` in the namespace of ``X``."""
    values = np.asarray(to_numpy(order)) if hasattr(order, "shape") else np.asarray(order)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D integer array (a column order learned in the fit); "
            f"got {_describe(values)}."
        )
    if not (
        np.issubdtype(values.dtype, np.integer)
        or (values.size == 0 and np.issubdtype(values.dtype, np.number))
    ) or isinstance(order, numbers.Number):
        raise ValueError(f"{name} must hold integers (column indices); got dtype {values.dtype}.")
    if not np.array_equal(np.sort(values), np.arange(values.shape[0])):
        raise ValueError(
            f"{name} must be a permutation of 0..{values.shape[0] - 1} (each column "
            f"index once); got {values.tolist() if values.size <= 20 else values}."
        )
    return convert_like(values.astype(np.int64, copy=False), X)
