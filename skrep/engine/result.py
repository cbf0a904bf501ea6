"""A matrix of one measure between networks that says what it holds."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["MeasureMatrix"]


class MeasureMatrix(np.ndarray):
    """A numpy matrix of one measure between networks, with what it holds.

    It is an ``ndarray`` (index it, plot it, save it as usual); the extra
    attributes say whether its entries are distances (0 for equivalent
    networks, lower is more similar) or similarities (higher is more
    similar), of which measure, and which networks its rows and columns
    are. Arithmetic and reductions give plain ndarrays, since their results
    are no longer the measure. Slices, transposes and fancy indexing keep
    ``kind`` and ``measure`` but not the names, which may no longer describe
    their rows and columns (index ``row_names`` alongside, e.g. after
    reordering); copies and pickles keep everything.

    Parameters
    ----------
    values : array-like of shape (n_rows, n_columns)
        The entries (float64 unless they are floats of another precision).
    kind : {"distance", "similarity"}
        What the entries are.
    measure : str
        The measure (a name, or the estimator's or function's repr).
    row_names, column_names : list or None, default=None
        The networks of the rows and columns (the keys of mappings), or None.

    Attributes
    ----------
    kind : str
        "distance" or "similarity".
    measure : str
        The measure.
    row_names, column_names : list or None
        The networks of the rows and columns.
    """

    def __new__(
        cls,
        values: Any,
        kind: str,
        measure: str,
        row_names: list | None = None,
        column_names: list | None = None,
    ) -> MeasureMatrix:
        """Make the matrix (see the class docstring for the parameters)."""
        values = np.asarray(values)
        if not np.issubdtype(values.dtype, np.floating):
            values = values.astype(np.float64)
        matrix = values.view(cls)
        matrix.kind = kind
        matrix.measure = measure
        matrix.row_names = row_names
        matrix.column_names = column_names
        return matrix

    def __array_finalize__(self, obj: Any) -> None:
        """Carry what the entries are to views and copies, but not the names."""
        self.kind = getattr(obj, "kind", None)
        self.measure = getattr(obj, "measure", None)
        self.row_names = self.column_names = None

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        """Results of ufuncs and reductions are plain arrays (or scalars)."""
        plain = np.asarray(array).view(np.ndarray)
        if return_scalar or plain.ndim == 0:
            return plain[()]
        return plain

    def copy(self, order: str = "C") -> MeasureMatrix:
        """An exact copy, names included (see ``numpy.ndarray.copy``).

        Parameters
        ----------
        order : {"C", "F", "A", "K"}, default="C"
            Memory layout of the copy.

        Returns
        -------
        MeasureMatrix
            The copy.
        """
        values = np.asarray(self).copy(order=order)
        return MeasureMatrix(values, self.kind, self.measure, self.row_names, self.column_names)

    def __deepcopy__(self, memo: dict) -> MeasureMatrix:
        """An exact copy, names included."""
        names = copy.deepcopy((self.row_names, self.column_names), memo)
        return MeasureMatrix(np.array(self, copy=True), self.kind, self.measure, *names)

    def __reduce__(self) -> tuple:
        """Pickle the attributes with the values."""
        return (
            MeasureMatrix,
            (np.asarray(self), self.kind, self.measure, self.row_names, self.column_names),
        )

    def __repr__(self) -> str:
        """Say what the matrix holds before the numbers."""
        values = np.array2string(np.asarray(self), prefix="MeasureMatrix(")
        return f"MeasureMatrix({values}, kind={self.kind!r}, measure={self.measure!r})"
