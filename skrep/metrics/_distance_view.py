"""Similarity estimators with a metric ``distance``, seen as distance measures.

:class:`~skrep.metrics.BuresEstimator` (the Bures angle) and
:class:`~skrep.metrics.CKAEstimator` (the angular CKA distance) are
similarity estimators (``score`` is the similarity, ``layer_similarity`` and
the K x K similarity matrices use it) that also have a ``distance``. The view
here lets :func:`skrep.pairwise_distances` and :func:`skrep.cross_distances`
take them: every pair is fitted and measured with ``distance``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._typing import Array
from ..engine import PairwiseMeasure, PreparedData
from ._paired import PairedEstimator

__all__ = ["DistanceView", "as_distance_measure"]


class DistanceView(PairwiseMeasure, BaseEstimator):
    """The ``distance`` of a similarity estimator, as a distance measure for the engine.

    Parameters
    ----------
    estimator : SimilarityEstimator
        An estimator whose ``has_distance`` is True; cloned per pair.
    """

    pairwise_kind = "distance"

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    @property
    def pairwise_symmetric(self) -> bool:
        """Whether the estimator's values are symmetric in (X, Y)."""
        return bool(self.estimator.pairwise_symmetric)

    def pairwise_validate(self, *args: Any, **kwargs: Any) -> tuple[list, list]:
        """Validate the networks as the estimator does.

        Parameters
        ----------
        *args, **kwargs
            As :meth:`skrep.engine.PairwiseMeasure.pairwise_validate`.

        Returns
        -------
        trains, tests : lists
            The validated networks.
        """
        return self.estimator.pairwise_validate(*args, **kwargs)

    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> PreparedData:
        """Apply the estimator's preprocessor once per network (no batched form).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Validated training data.
        X_test : array of shape (n_samples_test, n_features) or None
            Validated held-out data.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        PreparedData
            The preprocessed data.
        """
        # The per-pair fit needs the data itself, not a similarity's batched summary.
        return PairedEstimator.pairwise_prepare(self.estimator, X, X_test, name, test_name)

    def pairwise_block(
        self,
        nets_a: Sequence[PreparedData],
        nets_b: Sequence[PreparedData],
        pairs: Sequence[tuple[int, int]],
        *,
        same_block: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The distances of a block of pairs, one fitted copy per pair.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Unused.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Distances on the training data.
        test : ndarray of shape (n_pairs,) or None
            Distances on the held-out data.
        """
        return self.estimator.fit_pairs(nets_a, nets_b, pairs, _distance)


def _distance(fitted: Any, A: Array, B: Array) -> float:
    return float(fitted.distance(A, B))


def as_distance_measure(measure: Any) -> Any:
    """``measure``, or a :class:`DistanceView` of it if it is a similarity with a distance.

    Parameters
    ----------
    measure : object
        What the caller passed as a metric.

    Returns
    -------
    object
        The view for a similarity estimator instance whose ``has_distance`` is
        True; ``measure`` itself otherwise (the engine then checks it).
    """
    if (
        not isinstance(measure, type)
        and getattr(measure, "pairwise_kind", None) == "similarity"
        and getattr(measure, "has_distance", False)
    ):
        return DistanceView(measure)
    return measure
