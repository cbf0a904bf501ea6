"""Parameter and input checks of the encoding models (:mod:`skrep.metrics.encoding`)."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .._array import is_foreign_array
from .._typing import ArrayLike
from .._validation import check_device
from ..exceptions import InvalidParameterError
from ..functional.ridge import check_scoring

if TYPE_CHECKING:
    from .encoding import EncodingRegression

__all__ = ["check_encoding_parameters", "as_columns"]


def check_encoding_parameters(estimator: EncodingRegression) -> np.ndarray:
    """Check an encoding model's parameters; return its alphas as a float64 array.

    Parameters
    ----------
    estimator : EncodingRegression
        The estimator whose parameters (alphas, scoring, random_projection,
        fit_intercept, device) are checked.

    Returns
    -------
    ndarray of shape (n_alphas,)
        The alphas.
    """
    name = type(estimator).__name__
    try:
        alphas = np.asarray(estimator.alphas, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        alphas = np.empty(0)
    if (
        np.ndim(estimator.alphas) != 1
        or alphas.size == 0
        or not np.all(np.isfinite(alphas))
        or np.any(alphas <= 0)
    ):
        raise InvalidParameterError(
            f"The 'alphas' parameter of {name} must be a non-empty sequence of positive "
            f"numbers; got {estimator.alphas!r}."
        )
    check_scoring(estimator.scoring, name)
    rp = estimator.random_projection
    if not (
        rp is None
        or rp == "auto"
        or (isinstance(rp, numbers.Integral) and not isinstance(rp, bool) and rp >= 1)
    ):
        raise InvalidParameterError(
            f"The 'random_projection' parameter of {name} must be None, 'auto' or an int "
            f">= 1; got {rp!r}."
        )
    if not isinstance(estimator.fit_intercept, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'fit_intercept' parameter of {name} must be True or False; got "
            f"{estimator.fit_intercept!r}."
        )
    check_device(estimator.device, name)
    return alphas


def as_columns(Y: ArrayLike) -> tuple[ArrayLike, bool]:
    """Responses as (n_stimuli, n_targets), and whether they came as one 1-D target.

    Parameters
    ----------
    Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
        Responses, not yet validated.

    Returns
    -------
    Y : array-like
        A 1-D Y as one column (lists become numpy arrays; masked arrays keep
        their mask, for the validation to refuse them); anything else unchanged.
    one_target : bool
        Whether Y was 1-D.
    """
    if getattr(Y, "ndim", None) is None:  # lists, and array-likes without ndim
        try:
            Y = np.asarray(Y)
        except ValueError:  # ragged lists: the validation names them
            return Y, False
    one_target = Y.ndim == 1
    if one_target:
        keep = is_foreign_array(Y) or isinstance(Y, np.ma.MaskedArray)
        Y = (Y if keep else np.asarray(Y))[:, None]
    return Y, one_target
