"""Neighbour-overlap similarity estimators: mutual kNN and Jaccard kNN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._typing import Array, Device
from ..functional.neighbors import (
    check_n_neighbors,
    jaccard_knn,
    jaccard_knn_from_counts,
    mutual_knn,
    mutual_knn_from_counts,
    neighbor_indices,
    shared_neighbor_counts,
)
from ._similarity import SimilarityEstimator

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MutualKNNEstimator", "JaccardKNNEstimator"]


class _KNNEstimator(SimilarityEstimator):
    _measure = None
    _from_counts = None
    pairwise_symmetric = True

    def __init__(self, n_neighbors: int = 10, *, preprocessor: Any = None, device: Device = None):
        self.n_neighbors = n_neighbors
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_n_neighbors(self.n_neighbors, type(self).__name__)

    def _similarity(self, X: Array, Y: Array) -> float:
        return type(self)._measure(X, Y, self.n_neighbors)

    def _prepare_layer(self, A: Array, name: str) -> np.ndarray:
        return neighbor_indices(A, self.n_neighbors, name)

    def _from_prepared(self, a: np.ndarray, b: np.ndarray) -> float:
        return type(self)._from_counts(shared_neighbor_counts(a, b), self.n_neighbors)


class MutualKNNEstimator(_KNNEstimator):
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024, platonic-rep).

    ``score(X, Y)`` is the mean over stimuli of the fraction of each
    stimulus's k nearest neighbours (L2-normalised rows, inner product,
    itself excluded) that the two representations share.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours per stimulus (k), at most n_samples - 1.
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
    skrep.functional.mutual_knn : The function.
    """

    _measure = staticmethod(mutual_knn)
    _from_counts = staticmethod(mutual_knn_from_counts)


class JaccardKNNEstimator(_KNNEstimator):
    """Jaccard similarity of the k-nearest-neighbour sets (ReSi).

    ``score(X, Y)`` is the mean over stimuli of ``|shared| / |union|`` of
    the k cosine-nearest neighbours in the two representations.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours per stimulus (k), at most n_samples - 1.
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
    skrep.functional.jaccard_knn : The function.
    """

    _measure = staticmethod(jaccard_knn)
    _from_counts = staticmethod(jaccard_knn_from_counts)
