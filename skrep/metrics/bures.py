"""BuresEstimator: the normalised Bures similarity between centred kernel matrices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.utils.validation import check_is_fitted

from .._typing import Array, ArrayLike, Device
from ..functional.bures import bures_similarity
from ..functional.gram import check_kernel_params
from ..functional.hsic import MIN_CKA_SAMPLES
from ._similarity import SimilarityEstimator

__all__ = ["BuresEstimator"]


class BuresEstimator(SimilarityEstimator):
    """Normalised Bures similarity (NBS) between the centred kernel matrices of X and Y.

    ``score(X, Y)`` is ``NBS = F(K_X, K_Y) / (tr K_X tr K_Y)^1/2`` with the
    fidelity ``F(A, B) = tr (A^1/2 B A^1/2)^1/2`` (Tang et al. 2020), in [0, 1];
    ``distance(X, Y)`` is the Bures angle ``arccos(NBS)``, a metric.

    With the linear kernel (computed in feature space, no ``n x n`` matrix)
    the two are the shape metric's, by the duality of Harvey, Larsen &
    Williams (2023): NBS is the cosine of the angular Procrustes distance, and
    ``distance`` equals ``LinearMetric(alpha=1).distance`` (fitted on the same
    data). Like CKA, NBS compares kernel matrices and learns nothing from the
    training stimuli, but it weighs the spectrum differently: CKA squares the
    alignment of the representations' principal directions and so favours
    their leading components; NBS takes the nuclear norm of ``X'Y`` and
    counts every shared dimension (see
    :func:`~skrep.functional.bures.procrustes_cka_bounds`). The Bures
    distance itself (not normalised) between the linear Gram matrices is
    ``LinearMetric(score_method="euclidean")``'s distance, and
    :func:`~skrep.functional.bures.bures_distance` computes it for any two
    PSD matrices.

    Parameters
    ----------
    kernel : {"linear", "rbf"} or callable, default="linear"
        As in :class:`CKAEstimator`; the kernel matrices are centred
        (``H K H``) before the comparison.
    sigma : float, default=None
        RBF bandwidth shared by both sides; None uses ``threshold`` times each
        representation's median distance.
    threshold : float, default=0.8
        Fraction of the median distance when ``sigma`` is None.
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
    feature_names_in_ : ndarray of str
        Column names of X, when X is a DataFrame with string column names.

    See Also
    --------
    CKAEstimator : Centred kernel alignment.
    LinearMetric : The Procrustes distance that NBS is the cosine of.

    References
    ----------
    S. E. Harvey, B. W. Larsen and A. H. Williams, "Duality of Bures and shape
    distances with implications for comparing neural representations",
    Proceedings of UniReps, PMLR 243, 2023. S. Tang, W. J. Maddox, C. Dickens,
    T. Diethe and A. Damianou, "Similarity of neural networks with gradients",
    arXiv:2003.11498, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import BuresEstimator, LinearMetric
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((50, 6)), rng.standard_normal((50, 4))
    >>> nbs = BuresEstimator().fit(X, Y)
    >>> bool(abs(nbs.distance(X, Y) - LinearMetric().fit(X, Y).distance(X, Y)) < 1e-12)
    True
    """

    pairwise_symmetric = True
    pairwise_min_samples = MIN_CKA_SAMPLES
    pairwise_min_test_samples = MIN_CKA_SAMPLES

    has_distance = True

    def __init__(
        self,
        kernel: str | Callable[[Array], ArrayLike] = "linear",
        *,
        sigma: float | None = None,
        threshold: float = 0.8,
        preprocessor: Any = None,
        device: Device = None,
    ):
        self.kernel = kernel
        self.sigma = sigma
        self.threshold = threshold
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_kernel_params(self.kernel, self.sigma, self.threshold, False, type(self).__name__)

    def _compare(self, X: Array, Y: Array) -> Any:
        return bures_similarity(
            X, Y, kernel=self.kernel, sigma=self.sigma, threshold=self.threshold
        )

    def _similarity(self, X: Array, Y: Array) -> float:
        return self._compare(X, Y).similarity

    def distance(self, X: ArrayLike, Y: ArrayLike) -> float:
        """The Bures angle ``arccos(NBS)``, in [0, pi/2], computed without arccos.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            0 for representations equal up to rotation and scale (linear
            kernel), exactly to rounding (the angle between the aligned
            square-root factors, not an arccos near 1).
        """
        check_is_fitted(self)
        X, Y = self._prepare_pair(X, Y, fitting=False)
        return self._compare(X, Y).angle
