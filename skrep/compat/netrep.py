"""netrep drop-in: netrep's class signatures and its sign convention.

A script written for netrep runs unchanged after pointing its imports here:
``from netrep.metrics import LinearMetric, LinearCKA``,
``from netrep.multiset import pairwise_distances, cross_distances, frechet_mean,
euclidean_tangent_space`` and ``from netrep.utils import align, whiten`` all
become ``from skrep.compat.netrep import ...``. Here, as in netrep,
``score(X, Y)`` returns the **distance** (lower is more similar).

The main API (:mod:`skrep.metrics`) differs in two ways: ``score`` returns the
*negative* distance (higher is better, so scikit-learn's model selection works
without a custom ``scoring``), with ``distance`` returning the distance; and
constructor arguments after ``alpha`` are keyword-only, with ``preprocessor``
and ``device`` added. The numbers are the same. One behaviour differs from
netrep on purpose: invalid parameters (``alpha`` outside [0, 1], an unknown
``score_method``) raise in ``fit``, not in the constructor, as scikit-learn
requires of estimators (so that ``clone`` and ``set_params`` work).

Note that with these classes ``GridSearchCV`` without ``scoring=`` would pick
the *largest* distance, exactly as it would with netrep.
"""

from __future__ import annotations

from ..functional.ground_metrics import angular_distance
from ._netrep_cka import LinearCKA
from ._netrep_conv import convolve_metric
from ._netrep_gp import GPStochasticMetric
from ._netrep_linear import LinearMetric, PermutationMetric
from ._netrep_multiset import (
    cross_distances,
    euclidean_tangent_space,
    frechet_mean,
    pairwise_distances,
)
from ._netrep_stochastic import EnergyStochasticMetric, GaussianStochasticMetric
from ._netrep_utils import align, whiten

__all__ = [
    "LinearMetric",
    "PermutationMetric",
    "GaussianStochasticMetric",
    "EnergyStochasticMetric",
    "GPStochasticMetric",
    "LinearCKA",
    "pairwise_distances",
    "cross_distances",
    "frechet_mean",
    "euclidean_tangent_space",
    "align",
    "whiten",
    "angular_distance",
    "convolve_metric",
]

# The classes are defined in private modules; they belong to this public one (their
# repr, pickles and documentation name skrep.compat.netrep, as before the split).
for _public in (
    LinearMetric,
    PermutationMetric,
    GaussianStochasticMetric,
    EnergyStochasticMetric,
    GPStochasticMetric,
    LinearCKA,
    pairwise_distances,
    cross_distances,
    frechet_mean,
    euclidean_tangent_space,
    align,
    whiten,
):
    _public.__module__ = __name__
del _public
