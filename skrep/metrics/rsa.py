"""RSA: classical representational similarity analysis as an estimator."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._deprecation import renamed_parameter_value
from .._typing import Array, Device
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
    compare_method : str, default="spearman"
        How they are compared (the ``method`` of
        :func:`skrep.functional.compare_rdms`): "spearman", "pearson",
        "cosine", "tau-a", "rho-a", "tau-b", "corr_cov" or "cosine_cov". The
        default is a rank correlation, as in Kriegeskorte et al. (2008): a
        model RDM usually predicts only the order of the dissimilarities, not
        their scale. (:class:`~skrep.EncodingRSA` defaults to "pearson", see
        there.)
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y.
    device : None, str or torch.device, default=None
        Where to compute the RDMs: None where the data is; "cpu" or "cuda".
    comparison : str, default="deprecated"
        The old name of ``compare_method``; it works, with a FutureWarning,
        until the next release.

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

    pairwise_symmetric = True

    def __init__(
        self,
        rdm_method: str = "correlation",
        compare_method: str = "spearman",
        *,
        preprocessor: Any = None,
        device: Device = None,
        comparison: str = "deprecated",
    ):
        self.rdm_method = rdm_method
        self.compare_method = compare_method
        self.preprocessor = preprocessor
        self.device = device
        self.comparison = comparison

    def _check_params(self) -> None:
        super()._check_params()
        check_pattern_rdm_method(self.rdm_method, "RSA")
        self._compare_method = renamed_parameter_value(
            self, "comparison", "compare_method", "spearman"
        )
        check_comparison(self._compare_method, "RSA", "compare_method")

    def _prepare_layer(self, A: Array, name: str) -> Array:
        if A.shape[0] < 3:
            raise ValueError(
                f"{name} has {A.shape[0]} rows (stimuli); RSA needs at least 3 to compare RDMs."
            )
        return compute_rdm(A, self.rdm_method)

    def _from_prepared(self, a: Array, b: Array) -> float:
        return float(np.asarray(compare_rdms(a, b, self._compare_method))[0, 0])

    def _similarity(self, X: Array, Y: Array) -> float:
        if X.shape[0] < 3:
            raise ValueError(
                f"X and Y have {X.shape[0]} rows (stimuli); RSA needs at least 3 to compare "
                "their RDMs."
            )
        rdm_x = compute_rdm(X, self.rdm_method)
        rdm_y = compute_rdm(Y, self.rdm_method)
        return float(np.asarray(compare_rdms(rdm_x, rdm_y, self._compare_method))[0, 0])
