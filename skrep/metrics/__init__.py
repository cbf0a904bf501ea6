"""Distance metrics between neural representations, as scikit-learn estimators.

Distance metrics have ``distance(X, Y)`` and ``score = -distance``;
similarity estimators (CKA, the CCA family, neighbour overlap, linear
predictivity) have ``score`` = the similarity.

``from skrep.metrics import LinearMetric`` works as in netrep, but note the
sign: ``score`` is the negative distance here (higher is better), and
``distance`` is the distance. :mod:`skrep.compat.netrep` keeps netrep's sign.
"""

from ._base import BaseMetric
from ._paired import PairedEstimator
from ._similarity import SimilarityEstimator
from .alignment import AlignmentMetric
from .cca import CCAEstimator, PWCCAEstimator, SVCCAEstimator
from .cka import CKAEstimator
from .encoding import EncodingRegression, EncodingRSA
from .linear import LinearMetric
from .neighbors import JaccardKNNEstimator, MutualKNNEstimator
from .permutation import PermutationMetric
from .regression import RegressionR2Estimator
from .rsa import RSA
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
    "PairedEstimator",
    "SimilarityEstimator",
    "CKAEstimator",
    "CCAEstimator",
    "SVCCAEstimator",
    "PWCCAEstimator",
    "MutualKNNEstimator",
    "JaccardKNNEstimator",
    "RegressionR2Estimator",
    "RSA",
    "EncodingRegression",
    "EncodingRSA",
]
