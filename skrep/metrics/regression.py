"""RegressionR2Estimator: linear predictivity of one representation from the other."""

from __future__ import annotations

from typing import Any

from .._typing import Array, Device
from ..functional.regression import explained_fraction, linear_regression_r2, prepare_regression
from ._similarity import SimilarityEstimator

__all__ = ["RegressionR2Estimator"]


class RegressionR2Estimator(SimilarityEstimator):
    """R^2 of the least-squares fit of X from Y (Kornblith et al. 2019's linear regression).

    ``score(X, Y)`` is the fraction of X's total variance explained by a
    linear map (with intercept) of Y, on the data given. It is asymmetric:
    swap X and Y to explain Y from X.

    Parameters
    ----------
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y.
    device : None, str or torch.device, default=None
        Where to compute: None where the data is; "cpu" or "cuda" with torch.

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit.

    See Also
    --------
    skrep.functional.linear_regression_r2 : The function.

    Notes
    -----
    This is the in-sample fit of Kornblith et al.'s comparison table. For
    held-out predictivity with a regularised map fitted on training stimuli,
    use an encoding model.
    """

    def __init__(self, *, preprocessor: Any = None, device: Device = None):
        self.preprocessor = preprocessor
        self.device = device

    def _similarity(self, X: Array, Y: Array) -> float:
        return linear_regression_r2(X, Y)

    def _prepare_layer(self, A: Array, name: str) -> tuple[Array, float, Array]:
        return prepare_regression(A, name)

    def _from_prepared(self, a: tuple[Array, float, Array], b: tuple[Array, float, Array]) -> float:
        return explained_fraction(a, b)
