"""Input handling of the subspace analyses: paired data sets and condition labels.

Checks and conversions shared by :mod:`skrep.functional.subspace` (which
re-exports the public ones), :mod:`skrep.functional.cca` and, through
:mod:`skrep.functional.subspace`, the estimator
:class:`skrep.metrics.SubspaceOverlap`: two data sets in one feature space
and one floating dtype, the ``n_components`` parameter of a PCA, and the
condition labels along the first axis of each data set.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import array_api_compat
import numpy as np

from .._array import convert_like, floating_dtype, get_namespace, is_foreign_array, to_numpy
from .._typing import Array, ArrayLike, Namespace
from .._validation import _shape_str, check_representation
from ..exceptions import InvalidParameterError

__all__ = [
    "as_common_float",
    "check_same_features",
    "check_n_components",
    "split_group_labels",
    "labels_for_message",
    "take_rows",
]


# -- two data sets in one feature space ---------------------------------------------------
def as_common_float(X: Array, Y: Array) -> tuple[Array, Array]:
    """Put X and Y in X's namespace and on its device, in one floating dtype.

    Parameters
    ----------
    X : array or torch.Tensor
        Validated data; its namespace and device are kept.
    Y : array or torch.Tensor
        Validated data, converted to X's namespace and device.

    Returns
    -------
    X, Y : arrays
        Both in X's namespace, in the floating dtype that holds both.
    """
    Y = convert_like(Y, X)
    xp = get_namespace(X)
    dtype = floating_dtype(xp, X, Y)
    return xp.astype(X, dtype, copy=False), xp.astype(Y, dtype, copy=False)


def check_same_features(X: Array, Y: Array, names: tuple[str, str] = ("X", "Y")) -> None:
    """Raise unless the last axes (the features) of X and Y have the same length.

    Parameters
    ----------
    X, Y : arrays
        The two data sets; only the length of their last axis is read.
    names : tuple of two str, default=("X", "Y")
        Their names, for the message.

    Raises
    ------
    ValueError
        When the feature counts differ.
    """
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"{names[0]} has {X.shape[-1]} features but {names[1]} has {Y.shape[-1]}; "
            "expected two data sets in the same feature space (the same units, in the "
            "same order): the principal subspaces of one are compared with the other."
        )


def check_n_components(n_components: object, owner: str) -> None:
    """Raise unless ``n_components`` is None, an int >= 1 or a float in (0, 1).

    Parameters
    ----------
    n_components : object
        The value to check.
    owner : str
        The function or estimator that received it, for the message.
    """
    if n_components is None:
        return
    if isinstance(n_components, (bool, np.bool_)):
        pass
    elif isinstance(n_components, numbers.Integral) and n_components >= 1:
        return
    elif (
        isinstance(n_components, numbers.Real)
        and not isinstance(n_components, numbers.Integral)
        and math.isfinite(n_components)
        and 0.0 < n_components < 1.0
    ):
        return
    raise InvalidParameterError(
        f"The 'n_components' parameter of {owner} must be None, an int >= 1 or a float "
        f"in (0, 1) (the fraction of variance to keep); got {n_components!r}."
    )


# -- condition labels ------------------------------------------------------------------------
def _label_array(groups: ArrayLike, n_rows: int, name: str, data_name: str) -> np.ndarray:
    labels = to_numpy(groups) if is_foreign_array(groups) else np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(
            f"{name} must be a 1-D array with one label per entry of {data_name}'s first "
            f"axis ({n_rows} entries); got shape {_shape_str(labels.shape)}."
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(
            f"{name} contains {int(np.isnan(labels).sum())} NaN label(s); expected a "
            f"condition label for every entry of {data_name}'s first axis."
        )
    try:
        np.unique(labels)
    except TypeError as exc:
        raise ValueError(
            f"{name} mixes labels that cannot be sorted together ({exc}); expected labels "
            "of one kind, e.g. all integers or all strings."
        ) from exc
    return labels


def labels_for_message(labels: ArrayLike) -> list[Any]:
    """The first ten labels as plain Python values, for messages (no ``np.int64(0)``).

    Parameters
    ----------
    labels : array-like of shape (n_labels,)
        Condition labels.

    Returns
    -------
    list
        Up to ten labels, as Python ints, floats or strings.
    """
    return np.asarray(labels)[:10].tolist()


def split_group_labels(
    groups: ArrayLike | tuple[ArrayLike, ArrayLike], n_x: int, n_y: int
) -> tuple[np.ndarray, np.ndarray]:
    """Check condition labels and return those of X and those of Y.

    Parameters
    ----------
    groups : array-like of shape (n_x,), or a pair (groups_x, groups_y)
        One label array shared by X and Y (then ``n_x == n_y``), or a tuple
        of two 1-D label arrays, one per data set.
    n_x, n_y : int
        Lengths of the first axes of X and of Y.

    Returns
    -------
    groups_x : ndarray of shape (n_x,)
        Label of each entry of X's first axis (numpy).
    groups_y : ndarray of shape (n_y,)
        Label of each entry of Y's first axis (the same array as ``groups_x``
        when one array was given).

    Raises
    ------
    ValueError
        For None, a label array of the wrong shape, NaN labels or labels that
        cannot be sorted together.
    """
    if groups is None:
        raise ValueError(
            "groups is None; expected condition labels: one array for the first axis of "
            "both X and Y, or a pair (groups_x, groups_y)."
        )
    if (
        isinstance(groups, tuple)
        and len(groups) == 2
        and all(np.ndim(part) == 1 for part in groups)
    ):
        return (
            _label_array(groups[0], n_x, "groups[0] (the labels of X)", "X"),
            _label_array(groups[1], n_y, "groups[1] (the labels of Y)", "Y"),
        )
    if n_x != n_y:
        raise ValueError(
            f"groups is one label array, but X has {n_x} entries along its first axis and "
            f"Y has {n_y}; pass a pair (groups_x, groups_y) with one label array each."
        )
    labels = _label_array(groups, n_x, "groups", "X")
    return labels, labels


def _as_nd(X: ArrayLike, name: str) -> Array:
    """Validate an array of 2 or more axes whose last axis holds the features."""
    if not (isinstance(X, np.ndarray) or is_foreign_array(X)):
        if getattr(X, "ndim", None) == 2:
            # 2-D array-likes without reshape (pandas DataFrames): validated as they are.
            return check_representation(X, name, min_samples=1)
        X = np.asarray(X)
    if getattr(X, "ndim", 0) < 2:
        shape = _shape_str(np.shape(X))
        raise ValueError(
            f"{name} must have at least 2 axes, e.g. (n_samples, n_features) or "
            f"(n_trials, n_timepoints, n_features); got shape {shape}."
        )
    if X.shape[-1] == 0:
        raise ValueError(
            f"{name} has shape {_shape_str(X.shape)}: its last axis (the features) is empty; "
            "expected at least one feature."
        )
    # Validate a flattened view: type, dtype and finiteness are those of X.
    flat = check_representation(X.reshape(-1, X.shape[-1]), name, min_samples=1)
    return flat.reshape(tuple(X.shape))


def take_rows(A: Array, mask: np.ndarray, xp: Namespace) -> Array:
    """Rows of ``A`` where ``mask`` (numpy) holds, flattened to (n_rows, n_features).

    Parameters
    ----------
    A : array or torch.Tensor of shape (n, ..., n_features)
        Data whose first axis ``mask`` selects from.
    mask : ndarray of bool of shape (n,)
        Which entries of the first axis to keep (a numpy array, whatever ``A`` is).
    xp : module
        The array namespace of ``A``.

    Returns
    -------
    array of shape (n_rows, n_features)
        The kept entries, further axes flattened into rows, in ``A``'s
        namespace and on its device.
    """
    indices = xp.asarray(np.flatnonzero(mask), device=array_api_compat.device(A))
    taken = xp.take(A, indices, axis=0)
    return xp.reshape(taken, (-1, A.shape[-1]))
