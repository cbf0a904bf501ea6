"""RBF CKA through approximate feature maps (scikit-learn's Nystroem or RBFSampler).

The RBF Gram matrix ``K`` of n stimuli takes ``n^2`` floats. A feature map
``phi`` with ``phi(X) phi(X)' ~ K`` and m columns turns RBF CKA into linear
CKA of the (n, m) features, computed through the feature space in
``O(n m^2)`` time and ``O(n m)`` memory: Nystroem (Williams & Seeger 2001,
landmarks drawn from the stimuli) or random Fourier features (Rahimi & Recht
2007). Both come from scikit-learn (:mod:`sklearn.kernel_approximation`).

The bandwidth is Kornblith et al.'s (``threshold`` times the median distance,
over all pairs of at most :data:`BANDWIDTH_ROWS` rows drawn with
``random_state``; all pairs, hence the exact bandwidth, for fewer stimuli).
"""

from __future__ import annotations

import numpy as np
from sklearn.kernel_approximation import Nystroem, RBFSampler
from sklearn.utils import check_random_state

from .._array import to_numpy
from .._typing import Array
from ._extreme_scales import range_scale
from .gram import _bandwidth, _squared_distances

__all__ = ["APPROXIMATIONS", "BANDWIDTH_ROWS", "RBFMap", "fit_rbf_map", "subsample_bandwidth"]

#: Feature maps by name.
APPROXIMATIONS = {"nystroem": Nystroem, "rbf_sampler": RBFSampler}
#: Rows whose pairwise distances give the median bandwidth.
BANDWIDTH_ROWS = 2000


def subsample_bandwidth(X: np.ndarray, threshold: float, random_state: object, name: str) -> float:
    """``threshold`` times the median distance among at most BANDWIDTH_ROWS rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64 rows.
    threshold : float
        Fraction of the median distance.
    random_state : int, RandomState or None
        Draws the rows when there are more than BANDWIDTH_ROWS.
    name : str
        The representation, for messages.

    Returns
    -------
    float
        The bandwidth.
    """
    if X.shape[0] > BANDWIDTH_ROWS:
        rows = check_random_state(random_state).choice(X.shape[0], BANDWIDTH_ROWS, replace=False)
        X = X[np.sort(rows)]
    scale = range_scale(X, 2)
    X = X / scale - (X / scale).mean(axis=0)
    return scale * _bandwidth(_squared_distances(X, np), threshold, np, name)


class RBFMap:
    """A fitted approximate RBF feature map: the scikit-learn map and the offset it uses.

    Parameters
    ----------
    mapper : Nystroem or RBFSampler
        Fitted on ``X - offset``.
    offset : ndarray of shape (n_features,)
        Subtracted from every row first (the RBF kernel is translation
        invariant; the offset keeps the map's arithmetic near zero).
    sigma : float
        The bandwidth.
    """

    def __init__(self, mapper: object, offset: np.ndarray, sigma: float):
        self.mapper, self.offset, self.sigma = mapper, offset, sigma

    def transform(self, X: Array) -> np.ndarray:
        """Features of the rows of ``X``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Validated rows.

        Returns
        -------
        ndarray of shape (n_samples, m)
            ``features @ features.T`` approximates the RBF Gram matrix.
        """
        return self.mapper.transform(np.asarray(to_numpy(X), dtype=np.float64) - self.offset)


def fit_rbf_map(
    X: Array,
    method: str,
    n_components: int,
    sigma: float | None,
    threshold: float,
    random_state: object,
    name: str,
) -> RBFMap:
    """Fit an approximate RBF feature map on the rows of ``X``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated rows.
    method : {"nystroem", "rbf_sampler"}
        The feature map.
    n_components : int
        Columns of the map (Nystroem: landmarks, at most n_samples).
    sigma : float or None
        Bandwidth; None: :func:`subsample_bandwidth`.
    threshold : float
        Fraction of the median distance when ``sigma`` is None.
    random_state : int, RandomState or None
        Seeds the landmarks or the random frequencies (and the bandwidth rows).
    name : str
        The representation, for messages.

    Returns
    -------
    RBFMap
        The fitted map.
    """
    X = np.asarray(to_numpy(X), dtype=np.float64)
    if sigma is None:
        sigma = subsample_bandwidth(X, threshold, random_state, name)
    gamma = 1.0 / (2.0 * sigma * sigma)
    components = min(n_components, X.shape[0]) if method == "nystroem" else n_components
    mapper = APPROXIMATIONS[method](gamma=gamma, n_components=components, random_state=random_state)
    offset = X.mean(axis=0)
    mapper.fit(X - offset)
    return RBFMap(mapper, offset, sigma)
