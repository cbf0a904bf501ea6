"""Column centering shared by the alignment metrics and the similarity measures."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .._array import get_namespace
from .._deprecation import renamed_attribute
from .._typing import Array
from .._validation import _shape_str, check_matrix

__all__ = ["column_means", "centered_features", "center_and_scale"]


def column_means(X: Array, center_columns: bool = True, *, check_input: bool = True) -> Array:
    """Column means of ``X``, or zeros when ``center_columns`` is False.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        One representation.
    center_columns : bool, default=True
        If False, return zeros (no centering).

    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    array of shape (n_features,)
        The offset that the alignment subtracts from every row.
    """
    if check_input:
        X = check_matrix(X, "X")
    xp = get_namespace(X)
    if center_columns:
        return xp.mean(X, axis=0)
    return xp.zeros(X.shape[1], dtype=X.dtype, device=array_api_compat.device(X))


def centered_features(X: Array, *, mean: Array | None = None) -> Array:
    """Subtract the column means, accumulated in float64, keeping X's dtype.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A numpy array or torch tensor.
    mean : array of shape (1, n_features), default=None
        The float64 column means, when the caller has them already.

    Returns
    -------
    array of shape (n_samples, n_features)
        ``X - mean(X, axis=0)`` in X's namespace, device and dtype.
    """
    xp = get_namespace(X)
    if mean is None:
        # The float64 sum needs no float64 copy of X.
        mean = xp.sum(X, axis=0, keepdims=True, dtype=xp.float64) / X.shape[0]
    # Subtracting the rounded mean leaves each column off by at most half an
    # ulp of its mean, negligible against its spread.
    return X - xp.astype(mean, X.dtype)


def center_and_scale(X: Array, name: str, what: str = "the measure") -> tuple[Array, Array, float]:
    """Centered columns of ``X`` divided by their largest magnitude, or a no-variance error.

    Scale-invariant measures (CKA, CCA, neighbours, regression R^2) use it so
    that float32 products neither overflow (data around 1e9) nor underflow
    (around 1e-12). Data whose centered values are all within rounding of zero
    (a constant representation, whatever the constant) is rejected by name,
    instead of giving a number made of rounding errors.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A validated floating-point representation (numpy or torch).
    name : str
        Argument name for the message.
    what : str, default="the measure"
        What is undefined without variance, for the message.

    Returns
    -------
    scaled : array of shape (n_samples, n_features)
        ``(X - mean) / scale`` in X's namespace and dtype; the mean is
        accumulated in float64.
    mean : array of shape (1, n_features)
        The column means (float64, X's namespace).
    scale : float
        ``max|X - mean|``.
    """
    xp = get_namespace(X)
    mean = xp.sum(X, axis=0, keepdims=True, dtype=xp.float64) / X.shape[0]
    centered = centered_features(X, mean=mean)
    # Largest magnitudes from min and max: two reductions, no |X| temporary.
    largest = max(-float(xp.min(centered)), float(xp.max(centered)))
    magnitude = max(-float(xp.min(X)), float(xp.max(X)))
    eps = float(xp.finfo(X.dtype).eps)
    # Centering a constant column leaves at most a few ulps of the constant.
    if not largest > 8.0 * eps * magnitude or largest == 0.0:
        raise ValueError(
            f"{name} has no variance: every column is constant (shape {_shape_str(X.shape)}), "
            f"so {what} is undefined; expected a representation that varies across samples."
        )
    if isinstance(centered, np.ndarray):
        centered *= 1.0 / largest  # in place: centered is a new array
        return centered, mean, largest
    return centered / largest, mean, largest


def __getattr__(name: str) -> Any:
    """The spellings of 0.1 ("centre"), for one release, with a FutureWarning."""
    renamed = {
        "centre_and_scale": ("center_and_scale", center_and_scale),
        "centred_features": ("centered_features", centered_features),
    }
    return renamed_attribute(__name__, renamed, name)
