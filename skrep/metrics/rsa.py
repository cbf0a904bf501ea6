"""RSA: classical representational similarity analysis as an estimator."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._array import to_numpy
from .._deprecation import renamed_parameter_value
from .._typing import Array, ArrayLike, Device
from ..functional.rdm import check_pattern_rdm_method, compute_rdm
from ..functional.rdm_compare import check_comparison, compare_rdms
from ._similarity import SimilarityEstimator
from .data_rdms import DataRDMs

__all__ = ["RSA"]


class RSA(SimilarityEstimator):
    """Classical RSA: the comparison of the RDMs of X and of Y.

    ``score(X, Y)`` computes one RDM over the rows (stimuli) of X (e.g. a
    model layer) and one over the rows of Y (e.g. brain responses), with
    :func:`skrep.functional.compute_rdm`, and compares them with
    :func:`skrep.functional.compare_rdms`. In ``cross_validate`` over
    stimuli it is the RSA of each held-out set of stimuli.

    Y may also be a :class:`~skrep.metrics.DataRDMs`: a region known only by
    its RDMs (one per subject). Then X's RDM is compared with each of them
    and ``score`` is their mean (rsatoolbox's fixed-effects evaluation).

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
        Width of Y seen in fit (the number of stimuli when Y is DataRDMs).

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

    def _prepare_x_for_rdms(self, X: ArrayLike, Y: DataRDMs, *, fitting: bool) -> Array:
        if len(Y) < 3:
            raise ValueError(
                f"Y holds RDMs of {len(Y)} stimuli; RSA needs at least 3 stimuli to compare "
                "RDMs (a cross-validation fold this small has no RDM to score)."
            )
        X = self._validate_x(X, reset=fitting)
        if X.shape[0] != len(Y):
            raise ValueError(
                f"X has {X.shape[0]} rows (stimuli) but Y holds RDMs of {len(Y)} stimuli; "
                "expected the same stimuli in the same order."
            )
        X = self._preprocess(X, "x", fitting=fitting)
        if fitting:
            self.n_features_y_ = len(Y)
            self._preprocessed_widths_ = (X.shape[1], len(Y))
        else:
            self._check_preprocessed_width(X, "x")
        return X

    def fit(self, X: ArrayLike, Y: ArrayLike | DataRDMs) -> RSA:
        """Check paired representations (or X against data RDMs) and fit the preprocessors.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation: one row per stimulus, one column per unit.
        Y : array-like of shape (n_samples, n_features_y), or DataRDMs
            Second representation, rows paired with those of X, or the RDMs
            of the same stimuli.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if not isinstance(Y, DataRDMs):
            return super().fit(X, Y)
        self._clear_fitted_state()
        try:
            self._check_params()
            self._prepare_x_for_rdms(X, Y, fitting=True)
        except BaseException:
            self._clear_fitted_state()  # a failed fit leaves the estimator unfitted
            raise
        return self

    def score(self, X: ArrayLike, Y: ArrayLike | DataRDMs) -> float:
        """The comparison of the RDMs of X and Y: higher is more similar.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like of shape (n_samples, n_features_y), or DataRDMs
            Second representation, or the RDMs of the same stimuli (the score
            is then the mean comparison over them).

        Returns
        -------
        float
            The comparison.
        """
        if not isinstance(Y, DataRDMs):
            return super().score(X, Y)
        check_is_fitted(self)
        X = self._prepare_x_for_rdms(X, Y, fitting=False)
        rdm_x = np.asarray(to_numpy(compute_rdm(X, self.rdm_method)))
        return float(np.mean(compare_rdms(rdm_x, Y.condensed(), self._compare_method)))
