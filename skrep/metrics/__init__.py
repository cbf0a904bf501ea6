"""Distance metrics between neural representations, as scikit-learn estimators.

``from skrep.metrics import LinearMetric`` works as in netrep, but note the
sign: ``score`` is the negative distance here (higher is better), and
``distance`` is the distance. :mod:`skrep.compat.netrep` keeps netrep's sign.
"""

from ._base import AlignmentMetric, BaseMetric
from .linear import LinearMetric
from .permutation import PermutationMetric
from .stochastic import EnergyStochasticMetric, GaussianStochasticMetric
from .subspace import SubspaceOverlap

__all__ = [
    "BaseMetric",
    "AlignmentMetric",
    "LinearMetric",
    "PermutationMetric",
    "GaussianStochasticMetric",
    "EnergyStochasticMetric",
    "SubspaceOverlap",
]
