"""GULPMetric: the GULP distance (Boix-Adsera et al. 2022) as an estimator."""

from __future__ import annotations

from typing import Any

from .._typing import Array, Device
from ..functional.gulp import check_gulp_parameters, gulp_centring, gulp_of_prepared
from ._base import BaseMetric

__all__ = ["GULPMetric"]


class GULPMetric(BaseMetric):
    """GULP distance: how differently ridge regressions on X and on Y predict.

    For a target drawn at random over the stimuli, fit a ridge regression on
    each representation; the squared GULP distance is the expected squared
    difference of the two predictions, ``|H_X - H_Y|_F^2`` for the ridge hat
    matrices ``H_X = Xc (Xc'Xc + n lmbda I)^-1 Xc'`` (Boix-Adsera, Lawrence,
    Stepaniants & Rigollet 2022). It is a metric, invariant to orthogonal
    transforms of either representation (and to every invertible linear map
    at ``lmbda=0``); small ``lmbda`` behaves like CCA, large ``lmbda`` like CKA
    (it then weighs the leading principal components).

    ``fit`` learns each side's column means and, with ``normalize``, the
    factor that gives it unit total variance (``|Xc|_F^2 = n``, as GULP's
    reference code does); ``distance`` applies them to the data it is given
    and computes the closed form there (on the training data, exactly
    :func:`~skrep.functional.gulp.gulp_distance`). GULP's reference code
    reports the squared distance.

    Parameters
    ----------
    lmbda : float, default=0.01
        Ridge penalty on the covariance ``Xc'Xc / n`` (scikit-learn's
        ``Ridge(alpha=n * lmbda)``); 0 is least squares. The distance shrinks
        to 0 as ``lmbda`` grows (both hat matrices shrink), so do not choose
        it by minimising held-out distances.
    normalize : bool, default=True
        Scale each representation to unit total variance (learned in fit).
    preprocessor : estimator with fit and transform, default=None
        Applied to each side before the metric (cloned per side).
    device : None, str or torch.device, default=None
        None computes where the data is; ``"cpu"`` or ``"cuda"`` compute with
        torch on that device.

    Attributes
    ----------
    mx_, my_ : arrays of shape (n_features_x,), (n_features_y,)
        Column means of the training X and Y.
    scale_x_, scale_y_ : float
        Factors applied to the centred X and Y (1.0 without ``normalize``).
    n_features_in_ : int
        Number of features of X seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a pandas DataFrame with string names.
    n_features_y_ : int
        Number of features of Y seen in ``fit``.
    preprocessor_x_, preprocessor_y_ : estimator
        Fitted clones of ``preprocessor`` (only when it is not None).

    See Also
    --------
    skrep.functional.gulp.gulp_distance : The function.
    LinearMetric : Alignment-based shape metrics.

    References
    ----------
    E. Boix-Adsera, H. Lawrence, G. Stepaniants and P. Rigollet, "GULP: a
    prediction-based metric between representations", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import GULPMetric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    >>> round(GULPMetric().fit(X, X @ Q).distance(X, X @ Q), 12)
    0.0
    """

    _reference_attribute = "mx_"
    pairwise_symmetric = True  # d(X, Y) = d(Y, X): each unordered pair once

    def __init__(
        self,
        *,
        lmbda: float = 0.01,
        normalize: bool = True,
        preprocessor: Any = None,
        device: Device = None,
    ):
        self.lmbda = lmbda
        self.normalize = normalize
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_gulp_parameters(self.lmbda, self.normalize, type(self).__name__)

    def _fit(self, X: Array, Y: Array) -> None:
        self.mx_, self.scale_x_ = gulp_centring(X, bool(self.normalize), "X")
        self.my_, self.scale_y_ = gulp_centring(Y, bool(self.normalize), "Y")

    def _distance(self, X: Array, Y: Array) -> float:
        return gulp_of_prepared(
            (X - self.mx_) * self.scale_x_, (Y - self.my_) * self.scale_y_, float(self.lmbda)
        )
