"""Shape distances between convolutional layers at every circular spatial shift.

netrep's ``convolve_metric(metric, X, Y)`` treats each image position of a
convolutional layer's activations (images, height, width, channels) as a
sample, shifts ``X`` circularly by every offset in the image plane and fits the
metric once per offset. :func:`shift_distances` gives the same map. For
:class:`~skrep.metrics.LinearMetric` it fits once: a shift permutes the rows of
``X`` and leaves its means and whitening unchanged, so only the cross-products
with ``Y`` differ, and :func:`skrep.functional.shifts.shifted_cross_products`
computes them for all shifts together by FFT; the training distances then
come from one batched set of singular values. Other metrics are fitted once
per shift.
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch

from .._typing import ArrayLike
from .._validation import check_finite, check_real_array
from ..functional.linear_fit import LinearFit, fit_linear
from ..functional.shifts import shifted_cross_products
from .linear import LinearMetric

__all__ = ["shift_distances"]

_EXPECTED = "activations of shape (n_images, height, width, n_channels)"


def _activations(A: ArrayLike, name: str) -> np.ndarray:
    A = check_real_array(A, name, _EXPECTED)
    if A.ndim != 4:
        raise ValueError(f"{name} has shape {A.shape}; expected {_EXPECTED}.")
    if min(A.shape) == 0:
        raise ValueError(f"{name} has shape {A.shape}, with an empty axis; expected {_EXPECTED}.")
    check_finite(A, name)
    return A


def _shifted(X: np.ndarray, i: int, j: int) -> np.ndarray:
    """X rolled to the shift of map entry (i, j), one row per image and position."""
    height, width = X.shape[1], X.shape[2]
    return np.roll(X, (i - height // 2, j - width // 2), axis=(1, 2)).reshape(-1, X.shape[3])


def _fitted_distance(metric: object, X: np.ndarray, Y: np.ndarray) -> float:
    """The training distance of a fresh copy of ``metric`` (netrep-style objects too)."""
    try:
        fitted = clone(metric)
    except TypeError:  # not a scikit-learn estimator: a netrep-style metric
        fitted = copy.deepcopy(metric)
    fitted.fit(X, Y)
    if hasattr(fitted, "distance"):
        return float(fitted.distance(X, Y))
    return float(fitted.score(X, Y))  # netrep's convention: score is the distance


def _linear_map(metric: LinearMetric, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Every shift's training distance of a LinearMetric from one fit (see the module notes)."""
    height, width, n_channels = X.shape[1], X.shape[2], X.shape[3]
    Xf, Yf = X.reshape(-1, n_channels), Y.reshape(-1, n_channels)
    base = fit_linear(
        Xf,
        Yf,
        float(metric.alpha),
        center_columns=bool(metric.center_columns),
        relative_tol=metric._relative_eigval_tol,
        check_input=False,
    )
    # Centered and normalized exactly as the fit's data, then all cross-products.
    Xn = (X - base.mx) / base.scale_x
    Yn = (Y - base.my) / base.scale_y
    cross = shifted_cross_products(Xn, Yn)
    if base.basis_x is not None:
        cross = base.basis_x.T @ cross
    if base.basis_y is not None:
        cross = cross @ base.basis_y
    nuclear = np.linalg.svd(cross, compute_uv=False).sum(axis=-1)
    distances = np.empty((height, width))
    for i in range(height):
        for j in range(width):
            fit = LinearFit(
                base.mx, base.my, base.basis_x, base.basis_y, cross[i, j],
                base.norm_x, base.norm_y, base.scale_x, base.scale_y,
                nuclear_norm=float(nuclear[i, j]),
            )  # fmt: skip
            value = fit.training_distance(metric.score_method)
            # Near zero the formula loses digits: that shift is fitted as it is.
            if value is None:
                value = _fitted_distance(metric, _shifted(X, i, j), Yf)
            distances[i, j] = value
    return distances


def shift_distances(metric: object, X: ArrayLike, Y: ArrayLike) -> Bunch:
    """Distances between two convolutional layers at every circular spatial shift.

    Each image position is a sample: ``X`` rolled by ``(di, dj)`` in the image
    plane and flattened to (images x height x width, channels) is compared
    with ``Y`` flattened, for every offset (netrep's ``convolve_metric``). The
    minimum over offsets is a shift-invariant distance between the layers.

    Parameters
    ----------
    metric : skrep distance metric
        E.g. ``LinearMetric(alpha=1)`` (one fit for all shifts) or any metric
        with ``fit`` and ``distance`` (one fit per shift; a netrep-style
        metric's ``score``, which is its distance, also works). Not modified.
    X, Y : array-like of shape (n_images, height, width, n_channels)
        Activations of the two layers to the same images, with the same
        spatial size; the channels may differ (the metric's ``zero_pad``
        decides).

    Returns
    -------
    Bunch
        ``distances``: array of shape (height, width), entry ``[i, j]`` for the
        offset ``(i - height // 2, j - width // 2)`` (netrep's layout: no shift
        at the centre); ``min_distance``; ``best_shift``, the offset
        ``(di, dj)`` that reaches it.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import LinearMetric, shift_distances
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 6, 6, 4))
    >>> Y = np.roll(X, (1, 2), axis=(1, 2))  # the same layer, moved
    >>> result = shift_distances(LinearMetric(alpha=1.0), X, Y)
    >>> result.best_shift, round(result.min_distance, 12)
    ((1, 2), 0.0)
    """
    X, Y = _activations(X, "X"), _activations(Y, "Y")
    if X.shape[:3] != Y.shape[:3]:
        raise ValueError(
            f"X has shape {X.shape} and Y {Y.shape}; expected the same images and spatial "
            "size (n_images, height, width) in both."
        )
    if X.shape[3] != Y.shape[3]:
        if not getattr(metric, "zero_pad", True):
            raise ValueError(
                f"X has {X.shape[3]} channels and Y {Y.shape[3]}, but the metric has "
                "zero_pad=False; expected the same number of channels."
            )
        width = max(X.shape[3], Y.shape[3])
        pad = [(0, 0)] * 3
        X = np.pad(X, [*pad, (0, width - X.shape[3])])
        Y = np.pad(Y, [*pad, (0, width - Y.shape[3])])
    if isinstance(metric, LinearMetric) and metric.preprocessor is None:
        clone(metric)._check_params()
        distances = _linear_map(metric, X, Y)
    else:
        height, width = X.shape[1], X.shape[2]
        Yf = Y.reshape(-1, Y.shape[3])
        distances = np.array(
            [[_fitted_distance(metric, _shifted(X, i, j), Yf) for j in range(width)]
             for i in range(height)]
        )  # fmt: skip
    best = np.unravel_index(int(np.argmin(distances)), distances.shape)
    height, width = distances.shape
    return Bunch(
        distances=distances,
        min_distance=float(distances[best]),
        best_shift=(int(best[0]) - height // 2, int(best[1]) - width // 2),
    )
