"""skrep: scikit-learn estimators that measure how similar neural representations are.

Every measure is an estimator with ``fit(X, Y)``, ``score(X, Y)`` (higher is
better: the negative distance for distance metrics) and, where it aligns,
``transform(X, Y)``. See :mod:`skrep.metrics`.
"""

from .metrics import (
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    LinearMetric,
    PermutationMetric,
)
from .multiset import pairwise_distances

__version__ = "0.1.0"

__all__ = [
    "LinearMetric",
    "PermutationMetric",
    "GaussianStochasticMetric",
    "EnergyStochasticMetric",
    "pairwise_distances",
    "__version__",
]
