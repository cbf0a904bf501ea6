"""netrep's convolutional metric (``netrep.conv_layers``), for :mod:`skrep.compat.netrep`."""

from __future__ import annotations

import numpy as np

from .._typing import ArrayLike
from ..metrics.shifts import shift_distances

__all__ = ["convolve_metric"]


def convolve_metric(metric: object, X: ArrayLike, Y: ArrayLike) -> np.ndarray:
    """The metric between two convolutional layers at every circular spatial shift.

    netrep's ``convolve_metric``: each image position is a sample, ``X`` is
    rolled by every offset in the image plane, and the metric is fitted and
    scored against ``Y``. Computed by :func:`skrep.shift_distances` (one fit
    for all shifts with a ``LinearMetric``); no progress bar is printed.

    Parameters
    ----------
    metric : metric
        E.g. ``skrep.compat.netrep.LinearMetric(alpha=1.0)``; not modified (netrep
        leaves it fitted to the last shift).
    X, Y : ndarray of shape (n_images, height, width, n_channels)
        Activations of the two layers to the same images.

    Returns
    -------
    ndarray of shape (height, width)
        The distance (netrep's ``score``) for the offset
        ``(i - height // 2, j - width // 2)`` at ``[i, j]``.
    """
    return shift_distances(metric, X, Y).distances
