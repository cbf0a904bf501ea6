"""CKAEstimator: centred kernel alignment (Kornblith et al. 2019) as an estimator."""

from __future__ import annotations

import math

from ..functional.kernel import check_kernel_params, cka
from ._similarity import SimilarityEstimator

__all__ = ["CKAEstimator"]


class CKAEstimator(SimilarityEstimator):
    """Centred kernel alignment between two representations.

    ``score(X, Y)`` is CKA (Kornblith et al. 2019), a similarity in [0, 1]
    (1 for representations equal up to rotation and isotropic scaling with
    the linear kernel); ``distance(X, Y)`` is ``arccos(CKA)``, the angle
    between the centred Gram matrices, a metric (Williams et al. 2021).

    Parameters
    ----------
    kernel : {"linear", "rbf"} or callable, default="linear"
        "linear" (computed through the feature space when there are more
        stimuli than features, through Gram matrices otherwise), "rbf"
        (Gaussian, in float64), or a callable mapping one representation to
        its (n_samples, n_samples) Gram matrix, e.g.
        ``functools.partial(sklearn.metrics.pairwise.polynomial_kernel, degree=2)``.
    sigma : float, default=None
        RBF bandwidth shared by both sides; None uses ``threshold`` times each
        representation's median distance.
    threshold : float, default=0.8
        Fraction of the median distance (over all n^2 pairs, the zero
        diagonal included, as in Kornblith et al.'s code) when ``sigma`` is
        None.
    debiased : bool, default=False
        Use the unbiased HSIC U-statistic of Song et al. (2012). Debiased CKA
        is less biased upwards for few stimuli and many units, and can be
        negative for unrelated representations.
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y (e.g. ``PCA(50)``).
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
    skrep.functional.cka : The function.
    skrep.layer_similarity : CKA of every pair of layers at once.

    Notes
    -----
    CKA learns nothing from the training stimuli: ``fit`` checks the inputs
    and fits the preprocessors, and ``score`` computes CKA on the data it is
    given, so ``cross_validate`` reports CKA on each held-out fold. It needs
    at least 4 stimuli, and raises for a representation without variance.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import CKAEstimator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10))
    >>> Q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    >>> round(CKAEstimator().fit(X, 3 * X @ Q).score(X, 3 * X @ Q), 6)
    1.0
    """

    def __init__(
        self,
        kernel="linear",
        *,
        sigma=None,
        threshold=0.8,
        debiased=False,
        preprocessor=None,
        device=None,
    ):
        self.kernel = kernel
        self.sigma = sigma
        self.threshold = threshold
        self.debiased = debiased
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self):
        super()._check_params()
        check_kernel_params(
            self.kernel, self.sigma, self.threshold, self.debiased, type(self).__name__
        )

    def _similarity(self, X, Y):
        return cka(
            X,
            Y,
            kernel=self.kernel,
            sigma=self.sigma,
            threshold=self.threshold,
            debiased=self.debiased,
        )

    def distance(self, X, Y):
        """Angular CKA distance ``arccos(CKA)``, in [0, pi].

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            0 for representations CKA cannot tell apart.
        """
        return math.acos(min(1.0, max(-1.0, self.score(X, Y))))
