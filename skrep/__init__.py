"""skrep: scikit-learn estimators that measure how similar neural representations are.

Every measure is an estimator with ``fit(X, Y)``, ``score(X, Y)`` (higher is
better: the negative distance for distance metrics) and, where it aligns,
``transform(X, Y)``. See :mod:`skrep.metrics`.
"""

import importlib
from types import ModuleType

from . import extraction, rdm
from ._version import __version__
from .benchmarking import benchmark_models
from .functional.dimensionality import (
    effective_dimensionality,
    effective_rank,
    participation_ratio,
)
from .functional.subspace import (
    group_averaged_cross_variance,
    pca_cross_variance,
    principal_angles,
)
from .functional.variance_partitioning import variance_partitioning
from .layerwise import activation_batches, layer_similarity, streaming_layer_similarity
from .metrics import (
    RSA,
    BandedEncodingRegression,
    BuresEstimator,
    CCAEstimator,
    CKAEstimator,
    EncodingRegression,
    EncodingRSA,
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    GPStochasticMetric,
    GULPMetric,
    JaccardKNNEstimator,
    LinearMetric,
    LinearProbe,
    MutualKNNEstimator,
    PermutationMetric,
    PLSPredictivity,
    PWCCAEstimator,
    RegressionR2Estimator,
    SoftMatchingMetric,
    SubspaceOverlap,
    SVCCAEstimator,
    WeightedRDMModel,
)
from .metrics.shifts import shift_distances
from .model_selection import benchmark_layers, best_layer_scores
from .multiset import cross_distances, pairwise_distances
from .multiset_means import euclidean_tangent_space, frechet_mean
from .preprocessing import RelativeRepresentation

__all__ = [
    "LinearMetric",
    "PermutationMetric",
    "SoftMatchingMetric",
    "GULPMetric",
    "GaussianStochasticMetric",
    "EnergyStochasticMetric",
    "GPStochasticMetric",
    "SubspaceOverlap",
    "CKAEstimator",
    "BuresEstimator",
    "CCAEstimator",
    "SVCCAEstimator",
    "PWCCAEstimator",
    "MutualKNNEstimator",
    "JaccardKNNEstimator",
    "RegressionR2Estimator",
    "RSA",
    "WeightedRDMModel",
    "EncodingRegression",
    "EncodingRSA",
    "BandedEncodingRegression",
    "variance_partitioning",
    "PLSPredictivity",
    "LinearProbe",
    "layer_similarity",
    "streaming_layer_similarity",
    "activation_batches",
    "benchmark_models",
    "benchmark_layers",
    "best_layer_scores",
    "RelativeRepresentation",
    "pairwise_distances",
    "cross_distances",
    "frechet_mean",
    "euclidean_tangent_space",
    "shift_distances",
    "participation_ratio",
    "effective_dimensionality",
    "effective_rank",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
    "rdm",
    "extraction",
    "__version__",
]

#: Public submodules reachable as attributes of ``skrep`` (imported on first use, as
#: scikit-learn does), so ``import skrep; skrep.datasets...`` works without loading
#: torch, matplotlib or dask up front.
SUBMODULES = (
    "benchmarking",
    "cli",
    "compat",
    "datasets",
    "demo",
    "engine",
    "exceptions",
    "extraction",
    "functional",
    "layerwise",
    "losses",
    "metrics",
    "model_selection",
    "multiset",
    "plotting",
    "preprocessing",
    "rdm",
    "sparsity",
)


def __getattr__(name: str) -> ModuleType:
    """Import a public submodule on first access (``skrep.datasets``, ``skrep.plotting``, ...).

    Parameters
    ----------
    name : str
        The attribute asked for.

    Returns
    -------
    module
        The submodule.
    """
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'skrep' has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the public names and the submodules.

    Returns
    -------
    list of str
        The names.
    """
    return sorted(set(globals()) | set(SUBMODULES))
