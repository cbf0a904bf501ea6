"""CCA-family similarity estimators: mean CCA / R2_CCA, SVCCA and PWCCA."""

from __future__ import annotations

from typing import Any

from .._deprecation import renamed_parameter_value
from .._typing import Array, Device
from ..functional.cca import (
    basis_correlations,
    canonical_correlations,
    cca_summary,
    centered_basis,
    check_cca_method,
    prepare_pwcca,
    pwcca,
    pwcca_from_prepared,
    svcca,
    svcca_basis,
)
from ..functional.subspace import check_n_components
from ._similarity import SimilarityEstimator

__all__ = ["CCAEstimator", "SVCCAEstimator", "PWCCAEstimator"]


class CCAEstimator(SimilarityEstimator):
    """Mean canonical correlation, or its square (R2_CCA), between two representations.

    ``score(X, Y)`` is the mean of all ``min(rank X, rank Y)`` canonical
    correlations (``method="mean"``), or the mean of their squares
    (``method="r2"``, Kornblith et al. 2019's R2_CCA), on the data given.

    Parameters
    ----------
    method : {"mean", "r2"}, default="mean"
        Which summary of the canonical correlations.
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y (e.g. ``StandardScaler()``).
    device : None, str or torch.device, default=None
        Where to compute: None where the data is; "cpu" or "cuda" with torch.
    statistic : {"mean", "r2"}, default="deprecated"
        The old name of ``method``; it works, with a FutureWarning, until the
        next release.

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit.

    See Also
    --------
    skrep.functional.canonical_correlations : The correlations themselves.
    skrep.LinearMetric : ``alpha=0`` gives the CCA distance with the canonical
        directions fitted on training stimuli and applied to held-out ones.

    Notes
    -----
    google's ``get_cca_similarity()["mean"]`` averages only the leading
    coefficients that hold 98% of their sum, which overstates mean CCA; here
    every coefficient counts. The statistic is computed on the data passed to
    ``score`` (see :class:`SimilarityEstimator`).
    """

    pairwise_symmetric = True

    def __init__(
        self,
        method: str = "mean",
        *,
        preprocessor: Any = None,
        device: Device = None,
        statistic: str = "deprecated",
    ):
        self.method = method
        self.preprocessor = preprocessor
        self.device = device
        self.statistic = statistic

    def _check_params(self) -> None:
        super()._check_params()
        self._method = renamed_parameter_value(self, "statistic", "method", "mean")
        check_cca_method(self._method, type(self).__name__)

    def _similarity(self, X: Array, Y: Array) -> float:
        return cca_summary(canonical_correlations(X, Y), self._method)

    def _prepare_layer(self, A: Array, name: str) -> Array:
        return centered_basis(A, name)

    def _from_prepared(self, a: Array, b: Array) -> float:
        return cca_summary(basis_correlations(a, b), self._method)


class SVCCAEstimator(SimilarityEstimator):
    """SVCCA (Raghu et al. 2017): mean CCA of each side's top principal components.

    Parameters
    ----------
    n_components : float, int or None, default=0.99
        Components kept on each side: a float in (0, 1) keeps the fewest
        whose cumulative explained variance exceeds it (as in scikit-learn's
        PCA), an int keeps that many, None keeps all.
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
    skrep.functional.svcca : The function.

    Notes
    -----
    The principal components are those of the data passed to ``score``.
    """

    pairwise_symmetric = True

    def __init__(
        self,
        n_components: float | int | None = 0.99,
        *,
        preprocessor: Any = None,
        device: Device = None,
    ):
        self.n_components = n_components
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_n_components(self.n_components, type(self).__name__)

    def _similarity(self, X: Array, Y: Array) -> float:
        return svcca(X, Y, self.n_components)

    def _prepare_layer(self, A: Array, name: str) -> Array:
        return svcca_basis(A, self.n_components, name)

    def _from_prepared(self, a: Array, b: Array) -> float:
        return cca_summary(basis_correlations(a, b), "mean")


class PWCCAEstimator(SimilarityEstimator):
    """Projection-weighted CCA (Morcos et al. 2018), google/svcca's values.

    The canonical correlations weighted by how much of the narrower
    representation's activity each canonical direction accounts for. It is
    asymmetric: ``score(X, Y)`` and ``score(Y, X)`` differ slightly (see
    :func:`skrep.functional.pwcca`). X may be wider than Y (google's code
    raises IndexError there).

    Parameters
    ----------
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y.
    device : None, str or torch.device, default=None
        Where to compute the covariances: None where the data is; "cpu" or
        "cuda" with torch. The small matrices are handled on the host in
        float64.

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit.

    See Also
    --------
    skrep.functional.pwcca : The function.
    """

    def __init__(self, *, preprocessor: Any = None, device: Device = None):
        self.preprocessor = preprocessor
        self.device = device

    def _similarity(self, X: Array, Y: Array) -> float:
        return pwcca(X, Y)

    def _prepare_layer(self, A: Array, name: str) -> dict[str, Any]:
        return prepare_pwcca(A, name)

    def _from_prepared(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        return pwcca_from_prepared(a, b)
