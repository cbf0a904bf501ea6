"""Scores of predictions per target: negative MSE, R^2 and Pearson r.

Used by the cross-validated ridge of :mod:`skrep.functional.ridge` (which
re-exports them) to choose alphas, and by the encoding models to score
held-out predictions.
"""

from __future__ import annotations

import math

from .._array import get_namespace
from .._typing import Array, Namespace
from .._validation import check_finite
from ..exceptions import InvalidParameterError
from ._extreme_scales import _HEADROOM_BITS, powers_of_two_above, within_band

__all__ = ["SCORINGS", "check_scoring", "score_predictions"]

SCORINGS = ("neg_mse", "r2", "pearson")


def check_scoring(scoring: object, owner: str) -> None:
    """Raise unless ``scoring`` is "neg_mse", "r2" or "pearson".

    Parameters
    ----------
    scoring : object
        The value to check.
    owner : str
        The function or estimator that received it, for the message.
    """
    if not (isinstance(scoring, str) and scoring in SCORINGS):
        raise InvalidParameterError(
            f"The 'scoring' parameter of {owner} must be one of {list(SCORINGS)}; got {scoring!r}."
        )


def _centered_columns(A: Array, xp: Namespace) -> tuple[Array, Array, Array | None]:
    """Columns centered, which of them vary, and the scale to divide them by (or None).

    A column whose centered values are all within rounding of zero (a
    constant, up to the few ulps of its mean that centering leaves) does not
    vary. The scale (each column's largest centered magnitude, 1 where it
    does not vary) is None when every column's squares stay within the float
    range, so that data near 1 are not divided at all.
    """
    mean = xp.mean(A, axis=-2, keepdims=True)
    centered = A - mean
    largest = xp.max(xp.abs(centered), axis=-2, keepdims=True)
    finfo = xp.finfo(A.dtype)
    varies = (largest > 8.0 * float(finfo.eps) * xp.abs(mean)) & (largest > 0)
    scale = xp.where(varies, largest, xp.ones_like(largest))
    # Sums of up to 2**64 squares of entries within 2**(+-band) stay finite and normal.
    band = (math.log2(float(finfo.max)) - _HEADROOM_BITS) / 2
    extremes = powers_of_two_above([float(xp.max(scale)), float(xp.min(scale))])
    in_range = bool(within_band(extremes, band).all())
    return centered, varies[..., 0, :], None if in_range else scale


def score_predictions(
    Y: Array, P: Array, scoring: str = "pearson", *, check_input: bool = True
) -> Array:
    """Score predictions per target (column).

    Parameters
    ----------
    Y : array of shape (n_samples, n_targets) or (..., n_samples, n_targets)
        Measured responses.
    P : array of the same shape
        Predictions.
    scoring : {"neg_mse", "r2", "pearson"}, default="pearson"
        Negative mean squared error, coefficient of determination, or Pearson
        correlation. A target (or prediction) without variance (constant up
        to rounding) has r = 0 and, for R^2, a constant target scores 0.
    check_input : bool, default=True
        Check the scoring name, the shapes and that P is finite; the loops
        over alphas, which made P themselves, pass False.

    Returns
    -------
    array of shape (n_targets,) or (..., n_targets)
        In the inputs' namespace.

    Notes
    -----
    R^2 and Pearson r do not depend on the scale of a target, so the sums of
    squares of targets (and predictions) around 1e300 or 1e-300 are formed
    after dividing each by its largest centered magnitude: they give the
    scores of responses around 1 instead of NaN or 0.
    """
    xp = get_namespace(Y, P)
    if check_input:
        check_scoring(scoring, "score_predictions")
        if tuple(Y.shape) != tuple(P.shape) or Y.ndim < 2:
            raise ValueError(
                f"Y has shape {tuple(Y.shape)} and P has shape {tuple(P.shape)}; expected "
                "predictions of the same shape, (n_samples, n_targets)."
            )
        check_finite(Y, "Y")
        check_finite(P, "P")
    if scoring == "neg_mse":
        return -xp.mean((Y - P) ** 2, axis=-2)
    centered_y, y_varies, scale_y = _centered_columns(Y, xp)
    if scoring == "r2":
        residual = Y - P
        if scale_y is not None:
            residual, centered_y = residual / scale_y, centered_y / scale_y
        total = xp.sum(centered_y**2, axis=-2)
        safe = xp.where(y_varies, total, xp.ones_like(total))
        return xp.where(y_varies, 1.0 - xp.sum(residual**2, axis=-2) / safe, xp.zeros_like(total))
    centered_p, p_varies, scale_p = _centered_columns(P, xp)
    if scale_y is not None or scale_p is not None:
        centered_y = centered_y / _column_largest(centered_y, xp)
        centered_p = centered_p / _column_largest(centered_p, xp)
    product = xp.sum(centered_y * centered_p, axis=-2)
    norms = xp.sqrt(xp.sum(centered_y**2, axis=-2) * xp.sum(centered_p**2, axis=-2))
    both = y_varies & p_varies
    safe = xp.where(both & (norms > 0), norms, xp.ones_like(norms))
    return xp.where(both & (norms > 0), product / safe, xp.zeros_like(norms))


def _column_largest(A: Array, xp: Namespace) -> Array:
    largest = xp.max(xp.abs(A), axis=-2, keepdims=True)
    return xp.where(largest > 0, largest, xp.ones_like(largest))
