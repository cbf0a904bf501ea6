"""RSA: classical representational similarity analysis as an estimator."""

from __future__ import annotations

import numpy as np

from ..functional.rdm import check_pattern_rdm_method, compute_rdm
from ..functional.rdm_compare import check_comparison, compare_rdms
from ._similarity import SimilarityEstimator

__all__ = ["RSA"]


class RSA(SimilarityEstimator):
    """Classical RSA: the comparison of the RDMs of X and of Y.

    ``score(X, Y)`` computes one RDM over the rows (stimuli) of X (e.g. a
    model layer) and one over the rows of Y (e.g. brain responses), with
    :func:`skrep.functional.compute_rdm`, and compares them with
    :func:`skrep.functional.compare_rdms`. In ``cross_validate`` over
    stimuli it is the RSA of each held-out set of stimuli.

    Parameters
    ----------
    rdm_method : str, default="correlation"
        How the RDMs are computed: "correlation" (1 - Pearson r),
        "cosine", "euclidean" or "sqeuclidean".
    comparison : str, default="spearman"
        How they are compared: "spearman", "pearson", "cosine", "tau-a",
        "rho-a", "tau-b", "corr_cov" or "cosine_cov".
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y.
    device : None, str or torch.device, default=None
        Where to compute the RDMs: None where the data is; "cpu" or "cuda".

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit.

    See Also
    --------
    skrep.functional.compute_rdm : RDMs, including Mahalanobis and crossnobis.
    skrep.functional.noise_ceiling : The bounds for a group of data RDMs.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import RSA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 20))
    >>> round(RSA().fit(X, 2 * X).score(X, 2 * X), 6)
    1.0
    """

    def __init__(
        self, rdm_method="correlation", comparison="spearman", *, preprocessor=None, device=None
    ):
        self.rdm_method = rdm_method
        self.comparison = comparison
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self):
        super()._check_params()
        check_pattern_rdm_method(self.rdm_method, "RSA")
        check_comparison(self.comparison, "RSA")

    def _similarity(self, X, Y):
        if X.shape[0] < 3:
            raise ValueError(
                f"X and Y have {X.shape[0]} rows (stimuli); RSA needs at least 3 to compare "
                "their RDMs."
            )
        rdm_x = compute_rdm(X, self.rdm_method)
        rdm_y = compute_rdm(Y, self.rdm_method)
        return float(np.asarray(compare_rdms(rdm_x, rdm_y, self.comparison))[0, 0])
