"""The many-networks engine: one measure between many networks, in blocks of pairs.

One engine computes every K x K matrix and every matrix between two
collections in skrep: :func:`skrep.pairwise_distances`, the
``pairwise_distances`` method of every metric, :func:`skrep.layer_similarity`
and the ``skrep`` command. It sits below the estimators (it never imports
them) and talks to a measure only through the :class:`PairwiseMeasure`
protocol: prepare one network, compute one block of pairs.

- :func:`compute_pairs`: the engine itself (blocks, validation, device moves,
  joblib and dask, progress, cache);
- :class:`PairwiseMeasure`: the protocol, with defaults; every skrep
  estimator implements it;
- :class:`EstimatorMeasure`, :class:`FunctionMeasure`: any estimator with
  ``fit`` and ``score``, or any function ``f(X, Y)``, as a measure;
- :mod:`skrep.engine.cache`: the store of finished blocks;
- :mod:`skrep.engine.parallelism`: when a pool of workers pays (``n_jobs="auto"``).
"""

from .cache import BlockStore, BlockTask
from .networks import (
    check_same_samples,
    network_like,
    network_list,
    stacked_networks,
    validate_networks,
)
from .parallelism import JobsPlan, parallel_pays, plan_n_jobs
from .protocol import (
    DEFAULT_BLOCK_SIZE,
    EstimatorMeasure,
    FunctionMeasure,
    PairwiseMeasure,
    PreparedData,
    fit_each_pair,
    pair_values,
)
from .result import MeasureMatrix
from .scheduler import PairsResult, check_block_size, check_measure, compute_pairs

__all__ = [
    "compute_pairs",
    "PairsResult",
    "MeasureMatrix",
    "PairwiseMeasure",
    "PreparedData",
    "EstimatorMeasure",
    "FunctionMeasure",
    "fit_each_pair",
    "pair_values",
    "DEFAULT_BLOCK_SIZE",
    "check_measure",
    "check_block_size",
    "network_list",
    "validate_networks",
    "check_same_samples",
    "stacked_networks",
    "network_like",
    "plan_n_jobs",
    "parallel_pays",
    "JobsPlan",
    "BlockStore",
    "BlockTask",
]
