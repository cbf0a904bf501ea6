"""Class means and covariances of repeated responses: the Gaussian stochastic metric's input.

The responses of a network to ``n_repeats`` presentations of each stimulus
class are summarised by the mean and covariance of each class
(:func:`class_statistics`), which :func:`~skrep.functional.stochastic.gaussian_statistics`
prepares for the alignment (:mod:`skrep.functional.gaussian_stochastic`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._array import convert_like, get_namespace, to_numpy
from .._array import matrix_transpose as _mT
from .._typing import Array
from .group_alignment import _checked_array, working_scale

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = ["class_statistics"]


def class_statistics(
    responses: Array, covariance_estimator: BaseEstimator | None = None
) -> tuple[Array, Array]:
    """Class means and covariances from repeated responses.

    Parameters
    ----------
    responses : array of shape (n_classes, n_repeats, n_features)
        Responses to ``n_repeats`` presentations of each of ``n_classes``
        stimulus classes (numpy or torch).
    covariance_estimator : estimator from ``sklearn.covariance``, default=None
        None: the unbiased sample covariance (``ddof=1``, as ``np.cov``).
        Otherwise an unfitted estimator with a ``covariance_`` attribute after
        ``fit`` (e.g. ``LedoitWolf()``, ``OAS()``, ``ShrunkCovariance(0.1)``),
        cloned and fitted on each class's repeats (on the host).

    Returns
    -------
    means : array of shape (n_classes, n_features)
        Mean response to each class.
    covariances : array of shape (n_classes, n_features, n_features)
        Covariance of the responses to each class, in the namespace, device
        and dtype of ``responses``.

    Raises
    ------
    ValueError
        Fewer than 2 repeats, NaN or inf, or responses so large (about
        1e154 or more) that their covariances exceed the float64 range.

    Notes
    -----
    Responses beyond 2**100 or below 2**-100 in magnitude are divided by a
    power of four first (exact) and the results scaled back, so that their
    products neither overflow nor underflow.
    """
    responses = _checked_array(responses, "responses", "(n_classes, n_repeats, n_features)")
    xp = get_namespace(responses)
    n_repeats = responses.shape[1]
    if n_repeats < 2:
        raise ValueError(
            f"responses has {n_repeats} repeat per class (shape {tuple(responses.shape)}); "
            "expected at least 2 repeats to estimate a covariance. For deterministic "
            "responses pass a 2-D array of shape (n_classes, n_features)."
        )
    # Means and covariances are homogeneous (of degree 1 and 2): responses near
    # 1e+-300 are divided by a power of four first, whose products neither
    # overflow nor underflow, and the results scaled back.
    scale = working_scale(responses)
    if scale != 1.0:
        responses = responses / scale
    means = xp.mean(responses, axis=1)
    if covariance_estimator is None:
        centered = responses - means[:, None, :]
        covariances = _mT(centered, xp) @ centered / (n_repeats - 1)
    else:
        from sklearn.base import clone

        host = to_numpy(responses)
        covariances = np.stack(
            [clone(covariance_estimator).fit(block).covariance_ for block in host]
        )
        covariances = xp.astype(convert_like(covariances, responses), responses.dtype)
    covariances = (covariances + _mT(covariances, xp)) / 2
    if scale != 1.0:
        with np.errstate(over="ignore"):  # told below, with the argument's name
            means, covariances = means * scale, covariances * scale * scale
        if not bool(xp.all(xp.isfinite(covariances))):
            raise ValueError(
                f"responses has values up to {float(xp.max(xp.abs(responses))) * scale:.3g}, "
                "whose covariances exceed the float64 range (about 1.8e308); rescale "
                "responses (e.g. divide by their largest magnitude) first, or compare the "
                "networks with GaussianStochasticMetric, which rescales them itself."
            )
    return means, covariances
