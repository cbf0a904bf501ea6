"""Checks of constructor parameters, with messages that name the parameter and its owner.

Raised as :class:`~skrep.exceptions.InvalidParameterError` (a ValueError and
a TypeError, like scikit-learn's). :mod:`skrep._validation` re-exports them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._array import import_torch
from ._typing import Device
from .exceptions import InvalidParameterError

__all__ = [
    "check_alpha",
    "check_gaussian_alpha",
    "check_positive_int",
    "check_tolerance",
    "check_bool",
    "check_device",
]


def _is_real_between(value: object, low: float, high: float = math.inf) -> bool:
    """Whether ``value`` is a finite real number (not a bool) in [low, high]."""
    return (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and low <= value <= high
    )


def check_alpha(alpha: Any, owner: str = "alpha") -> float:
    """Validate the regularization ``alpha`` of the linear shape metrics.

    Parameters
    ----------
    alpha : object
        Value to check: a real number in [0, 1].
    owner : str, default="alpha"
        How the message names the parameter, e.g.
        "The 'alpha' parameter of LinearMetric".

    Returns
    -------
    float
        ``alpha`` as a Python float.

    Raises
    ------
    InvalidParameterError
        Not a real number, not finite, or outside [0, 1].
    """
    if not _is_real_between(alpha, 0.0, 1.0):
        raise InvalidParameterError(
            f"{owner} must be a number in [0, 1] (0: any invertible linear map, "
            f"CCA-like; 1: rotations only, Procrustes); got alpha={alpha!r}."
        )
    return float(alpha)


def check_gaussian_alpha(alpha: Any, owner: str) -> float:
    """Validate ``alpha`` of the Gaussian stochastic metric: a real number in [0, 2].

    Parameters
    ----------
    alpha : object
        Value to check.
    owner : str
        How the message names the parameter.

    Returns
    -------
    float
        ``alpha`` as a Python float.
    """
    if not _is_real_between(alpha, 0.0, 2.0):
        raise InvalidParameterError(
            f"{owner} must be a number in [0, 2] (0: covariances only, 1: 2-Wasserstein, "
            f"2: means only); got {alpha!r}."
        )
    return float(alpha)


def check_positive_int(value: object, name: str, owner: str) -> None:
    """Raise an InvalidParameterError unless ``value`` is an integer >= 1.

    Parameters
    ----------
    value : object
        Value to check.
    name, owner : str
        The parameter and who takes it, for the message.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be an integer >= 1; got {value!r}."
        )


def check_tolerance(value: object, name: str, owner: str) -> None:
    """Raise an InvalidParameterError unless ``value`` is a finite number >= 0.

    Parameters
    ----------
    value : object
        Value to check.
    name, owner : str
        The parameter and who takes it, for the message.
    """
    if not _is_real_between(value, 0.0):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a finite number >= 0; got {value!r}."
        )


def check_regularization_strength(value: object, owner: str) -> float:
    """Validate the unit-free ``regularization_strength`` of the soft ranks.

    Parameters
    ----------
    value : object
        Value to check: a finite real number > 0 (not a bool).
    owner : str
        Who takes it (a function or class name), for the message.

    Returns
    -------
    float
        ``value`` as a Python float.

    Raises
    ------
    InvalidParameterError
        Not a finite real number > 0.
    """
    if not _is_real_between(value, 0.0) or value == 0:
        raise InvalidParameterError(
            f"The 'regularization_strength' parameter of {owner} must be a finite real "
            f"number > 0 (small: close to the hard ranks; large: close to an affine function "
            f"of the values); got {value!r}."
        )
    return float(value)


def check_bool(value: object, name: str, estimator_name: str) -> None:
    """Raise InvalidParameterError unless ``value`` is True or False (or 1 or 0).

    Parameters
    ----------
    value : object
        The parameter's value.
    name : str
        The parameter's name.
    estimator_name : str
        The estimator that received it, for the message.
    """
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, numbers.Integral) and value in (0, 1)
    ):
        return
    raise InvalidParameterError(
        f"The {name!r} parameter of {estimator_name} must be True or False; got {value!r}."
    )


def check_device(device: Device, estimator_name: str) -> None:
    """Parse ``device`` with torch; raise InvalidParameterError naming it if unusable.

    Parameters
    ----------
    device : object
        None, a string such as "cpu" or "cuda", or a torch.device.
    estimator_name : str
        The estimator that received it, for the message.
    """
    if device is None:
        return
    if not (isinstance(device, str) or type(device).__name__ == "device"):
        raise InvalidParameterError(
            f"The 'device' parameter of {estimator_name} must be None, a string such as "
            f"'cpu' or 'cuda', or a torch.device; got {device!r}."
        )
    torch = import_torch(device)
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'device' parameter of {estimator_name} must name a torch device such "
            f"as 'cpu', 'cuda' or 'cuda:1'; got {device!r} ({exc})."
        ) from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(
            f"The 'device' parameter of {estimator_name} is {device!r}, but PyTorch sees "
            "no CUDA device here (torch.cuda.is_available() is False); use device='cpu' "
            "to compute with torch on the CPU, or device=None to compute with numpy."
        )
