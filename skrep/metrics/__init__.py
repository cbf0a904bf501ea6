"""Distance metrics between neural representations, as scikit-learn estimators.

Distance metrics have ``distance(X, Y)`` and ``score = -distance``;
similarity estimators (CKA, the CCA family, neighbour overlap, linear
predictivity) have ``score`` = the similarity. ``PLSPredictivity`` (Brain-Score's
neural predictivity) and ``LinearProbe`` (a classifier's accuracy at reading
stimulus labels) score a model's features against brain responses or labels.

``from skrep.metrics import LinearMetric`` works as in netrep, but note the
sign: ``score`` is the negative distance here (higher is better), and
``distance`` is the distance. :mod:`skrep.compat.netrep` keeps netrep's sign.
"""

from ._base import BaseMetric
from ._paired import PairedEstimator
from ._similarity import SimilarityEstimator
from .alignment import AlignmentMetric
from .banded import BandedEncodingRegression
from .bures import BuresEstimator
from .cca import CCAEstimator, PWCCAEstimator, SVCCAEstimator
from .cka import CKAEstimator
from .data_rdms import DataRDMs
from .encoding import EncodingRegression, EncodingRSA
from .gp_stochastic import GPStochasticMetric
from .gulp import GULPMetric
from .linear import LinearMetric
from .neighbors import JaccardKNNEstimator, MutualKNNEstimator
from .permutation import PermutationMetric
from .predictivity import PLSPredictivity
from .probe import LinearProbe
from .rdm_model import WeightedRDMModel
from .regression import RegressionR2Estimator
from .rsa import RSA
from .soft_matching import SoftMatchingMetric
from .stochastic import EnergyStochasticMetric, GaussianStochasticMetric
from .subspace import SubspaceOverlap

__all__ = [
    "DataRDMs",
    "BaseMetric",
    "AlignmentMetric",
    "LinearMetric",
    "PermutationMetric",
    "SoftMatchingMetric",
    "GULPMetric",
    "GaussianStochasticMetric",
    "EnergyStochasticMetric",
    "GPStochasticMetric",
    "SubspaceOverlap",
    "PairedEstimator",
    "SimilarityEstimator",
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
    "PLSPredictivity",
    "LinearProbe",
]
