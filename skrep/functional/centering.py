"""Column centering shared by the alignment metrics."""

from __future__ import annotations

import array_api_compat

from .._array import get_namespace
from .._validation import check_matrix

__all__ = ["column_means"]


def column_means(X, center_columns=True, *, check_input=True):
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
