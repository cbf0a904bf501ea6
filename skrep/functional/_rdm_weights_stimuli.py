"""Stimulus subsets of condensed RDMs, for the weighted RDM models.

A subset of the stimuli, in a given order, selects the dissimilarities of the
pairs it holds: the condensed form of ``D[index][:, index]``.
"""

from __future__ import annotations

import numpy as np

from .._validation import _shape_str

__all__ = ["check_indices", "check_stimuli", "pair_positions"]


def check_indices(
    values: object, n_items: int, name: str, what: str, *, minimum: int, distinct: bool
) -> np.ndarray:
    """Checked indices of ``n_items`` items (stimuli or subjects).

    Parameters
    ----------
    values : array-like of int or bool
        Integer indices (negative ones count from the end, as in numpy) or a
        boolean mask of length ``n_items``.
    n_items : int
        How many items there are.
    name : str
        The argument's name, for messages.
    what : str
        What the items are ("stimuli", "subject RDMs"), for messages.
    minimum : int
        The fewest items to select.
    distinct : bool
        Whether an item may be selected only once.

    Returns
    -------
    ndarray of shape (n_selected,)
        Indices in [0, n_items), in the order given.
    """
    expected = (
        f"a 1-D array of{' distinct' if distinct else ''} integer indices in [-{n_items}, "
        f"{n_items}) or a boolean mask of length {n_items} (the {what}), selecting at least "
        f"{minimum}"
    )
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} could not be read as an array; expected {expected}.") from None
    if array.dtype == np.bool_:
        if array.shape != (n_items,):
            raise ValueError(
                f"{name} is a boolean mask of shape {_shape_str(array.shape)}; expected {expected}."
            )
        index = np.flatnonzero(array)
    elif array.dtype.kind in "iu" and array.ndim == 1:
        outside = (array < -n_items) | (array >= n_items)
        if np.any(outside):
            raise ValueError(
                f"{name} holds the index {array[outside][0]}, outside the {n_items} {what}; "
                f"expected {expected}."
            )
        index = np.asarray(array, dtype=np.intp) % n_items
    else:
        raise TypeError(
            f"{name} has dtype {array.dtype} and shape {_shape_str(array.shape)}; expected "
            f"{expected}."
        )
    if distinct:
        unique, counts = np.unique(index, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(
                f"{name} selects item {unique[counts > 1][0]} of the {what} more than once; "
                f"expected {expected} (a repeated stimulus has no dissimilarity with itself to "
                "fit)."
            )
    if index.size < minimum:
        raise ValueError(
            f"{name} selects {index.size} of the {what}; expected {expected}"
            + (
                " (an RDM of fewer than 3 stimuli has no variation to fit or compare)."
                if minimum == 3
                else "."
            )
        )
    return index


def check_stimuli(stimuli: object, n_stimuli: int, name: str = "stimuli") -> np.ndarray:
    """The indices of a subset of at least 3 distinct stimuli, checked.

    Parameters
    ----------
    stimuli : array-like of int or bool
        Integer indices (negative ones count from the end, as in numpy) or a
        boolean mask of length ``n_stimuli``.
    n_stimuli : int
        How many stimuli there are.
    name : str, default="stimuli"
        The argument's name, for messages.

    Returns
    -------
    ndarray of shape (n_selected,)
        Distinct indices in [0, n_stimuli), in the order given; at least 3.
    """
    return check_indices(stimuli, n_stimuli, name, "stimuli", minimum=3, distinct=True)


def pair_positions(index: np.ndarray, n_stimuli: int) -> np.ndarray:
    """Where the pairs of the stimuli ``index`` sit in condensed RDMs of ``n_stimuli``.

    Parameters
    ----------
    index : ndarray of shape (n_selected,)
        Distinct stimulus indices in [0, n_stimuli).
    n_stimuli : int
        The number of stimuli of the condensed RDMs.

    Returns
    -------
    ndarray of shape (n_selected * (n_selected - 1) / 2,)
        Positions such that ``rdm[positions]`` is the condensed RDM of
        ``D[index][:, index]``.
    """
    a, b = np.triu_indices(index.size, 1)
    low = np.minimum(index[a], index[b])
    high = np.maximum(index[a], index[b])
    return low * n_stimuli - low * (low + 1) // 2 + (high - low - 1)
