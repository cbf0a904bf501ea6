"""Nearest-neighbour similarities: mutual kNN and Jaccard kNN.

Both ask whether a stimulus has the same nearest neighbours in the two
representations, so they are local and invariant to any transformation that
keeps each row's neighbour ranking (rotations, isotropic scaling):

- mutual kNN (Huh et al. 2024, platonic-rep): rows are L2-normalised and
  neighbours ranked by inner product; the score is the mean over stimuli of
  ``|N_X(i) & N_Y(i)| / k``;
- Jaccard kNN (ReSi, Klabunde et al.): neighbours by cosine similarity; the
  mean of ``|N_X(i) & N_Y(i)| / |N_X(i) | N_Y(i)|``.

A stimulus is never its own neighbour. Ties (equal similarities) are broken
arbitrarily, and not the same way by numpy and torch. Similarities are
computed in float64 whatever the input's dtype, so float32 data have the
neighbours of their float64 copy.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._array import convert_like, get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _plural, _shape_str, check_paired_samples, check_representation
from ..exceptions import InvalidParameterError
from .centering import center_and_scale

__all__ = [
    "nearest_neighbors",
    "mutual_knn",
    "jaccard_knn",
    "neighbor_indices",
    "shared_neighbor_counts",
    "mutual_knn_from_counts",
    "jaccard_knn_from_counts",
]


def check_n_neighbors(n_neighbors: object, owner: str) -> None:
    """Raise unless ``n_neighbors`` is an int >= 1.

    Parameters
    ----------
    n_neighbors : object
        The value to check.
    owner : str
        The function or estimator that received it, for the message.
    """
    if isinstance(n_neighbors, (bool, np.bool_)) or not (
        isinstance(n_neighbors, numbers.Integral) and n_neighbors >= 1
    ):
        raise InvalidParameterError(
            f"The 'n_neighbors' parameter of {owner} must be an int >= 1; got {n_neighbors!r}."
        )


def _normalised_rows(X: Array, name: str) -> Array:
    xp = get_namespace(X)
    norms = xp.sqrt(xp.sum(X * X, axis=1, keepdims=True))
    zero = np.flatnonzero(to_numpy(norms[:, 0]) == 0.0)
    if zero.size:
        raise ValueError(
            f"Row {int(zero[0])} of {name} is all zeros ({_plural(zero.size, 'such row')}), so "
            "its cosine "
            "similarity to other rows is undefined; expected rows with a nonzero norm."
        )
    return X / norms


def neighbor_indices(X: Array, n_neighbors: int, name: str) -> np.ndarray:
    """Indices of each row's k most cosine-similar other rows, for validated X.

    The per-representation step of the kNN similarities (done once per
    layer by the many-networks engine); :func:`nearest_neighbors` is its
    checked form.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A validated representation (numpy or torch).
    n_neighbors : int
        Neighbours per row, at most n_samples - 1.
    name : str
        The name of X in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_neighbors)
        Row indices (int), in no particular order within a row.
    """
    xp = get_namespace(X)
    n = X.shape[0]
    if n_neighbors > n - 1:
        raise ValueError(
            f"n_neighbors={n_neighbors} but {name} has {n} samples (shape "
            f"{_shape_str(X.shape)}), so each sample has only {_plural(n - 1, 'other sample')}; "
            f"expected n_neighbors <= {n - 1}."
        )
    center_and_scale(X, name, "its nearest neighbours")  # identical rows: an error
    # Similarities in float64 whatever X's dtype: neighbours of float32 data
    # far from the origin (an offset of 1e4) differ by less than float32's
    # rounding of the cosines, so float32 products would pick others.
    X = xp.astype(X, xp.float64, copy=False)
    # Neighbours do not change when a row is scaled; dividing each row by its
    # largest entry keeps the norms in range (rows near 1e300 or 1e-300).
    largest = xp.max(xp.abs(X), axis=1, keepdims=True)
    Xn = _normalised_rows(X / xp.where(largest > 0, largest, xp.ones_like(largest)), name)
    similarity = Xn @ matrix_transpose(Xn, xp)
    if hasattr(similarity, "topk"):  # torch: selection on the device
        similarity.fill_diagonal_(-float("inf"))  # a stimulus is never its own neighbour
        return to_numpy(similarity.topk(n_neighbors, dim=1).indices)
    similarity = np.array(to_numpy(similarity), copy=True)
    np.fill_diagonal(similarity, -np.inf)
    # argpartition selects the k largest in O(n) per row; their order is irrelevant.
    return np.argpartition(-similarity, n_neighbors - 1, axis=1)[:, :n_neighbors]


def nearest_neighbors(X: ArrayLike, n_neighbors: int = 10) -> np.ndarray:
    """Each row's nearest neighbours by cosine similarity (itself excluded).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        The representation.
    n_neighbors : int, default=10
        Neighbours per row, at most n_samples - 1.

    Returns
    -------
    ndarray of shape (n_samples, n_neighbors)
        Row indices (int), in no particular order within a row.
    """
    check_n_neighbors(n_neighbors, "nearest_neighbors")
    X = check_representation(X, "X")
    return neighbor_indices(X, n_neighbors, "X")


def _overlaps(X: ArrayLike, Y: ArrayLike, n_neighbors: int, owner: str) -> np.ndarray:
    check_n_neighbors(n_neighbors, owner)
    X = check_representation(X, "X")
    Y = check_representation(Y, "Y")
    check_paired_samples(X, Y)
    Y = convert_like(Y, X)
    return shared_neighbor_counts(
        neighbor_indices(X, n_neighbors, "X"), neighbor_indices(Y, n_neighbors, "Y")
    )


def shared_neighbor_counts(neighbors_x: np.ndarray, neighbors_y: np.ndarray) -> np.ndarray:
    """How many neighbours each row shares, from two neighbour index arrays.

    Parameters
    ----------
    neighbors_x, neighbors_y : ndarray of shape (n_samples, n_neighbors)
        Each row's neighbours in two representations (from
        :func:`neighbor_indices`).

    Returns
    -------
    ndarray of shape (n_samples,)
        The number of shared neighbours of each row.
    """
    n = neighbors_x.shape[0]
    member = np.zeros((n, n), dtype=bool)
    np.put_along_axis(member, neighbors_x, True, axis=1)
    return np.take_along_axis(member, neighbors_y, axis=1).sum(axis=1)


def mutual_knn_from_counts(shared: np.ndarray, n_neighbors: int) -> float:
    """Mutual kNN from the shared-neighbour counts: the mean fraction shared.

    Parameters
    ----------
    shared : ndarray of shape (n_samples,)
        Shared neighbours of each stimulus (:func:`shared_neighbor_counts`).
    n_neighbors : int
        Neighbours per stimulus (k).

    Returns
    -------
    float
        ``mean(shared / k)``, in [0, 1].
    """
    return float(np.mean(shared / n_neighbors))


def jaccard_knn_from_counts(shared: np.ndarray, n_neighbors: int) -> float:
    """Jaccard kNN from the shared-neighbour counts: the mean ``|shared| / |union|``.

    Parameters
    ----------
    shared : ndarray of shape (n_samples,)
        Shared neighbours of each stimulus (:func:`shared_neighbor_counts`).
    n_neighbors : int
        Neighbours per stimulus (k).

    Returns
    -------
    float
        ``mean(shared / (2k - shared))``, in [0, 1].
    """
    return float(np.mean(shared / (2 * n_neighbors - shared)))


def mutual_knn(X: ArrayLike, Y: ArrayLike, n_neighbors: int = 10) -> float:
    """Mutual k-nearest-neighbour alignment (platonic-rep's ``mutual_knn``).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    n_neighbors : int, default=10
        Neighbours per stimulus (k).

    Returns
    -------
    float
        Mean over stimuli of the fraction of shared neighbours, in [0, 1].
    """
    return mutual_knn_from_counts(_overlaps(X, Y, n_neighbors, "mutual_knn"), n_neighbors)


def jaccard_knn(X: ArrayLike, Y: ArrayLike, n_neighbors: int = 10) -> float:
    """Jaccard similarity of the k-nearest-neighbour sets (ReSi's ``JaccardSimilarity``).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    n_neighbors : int, default=10
        Neighbours per stimulus (k).

    Returns
    -------
    float
        Mean over stimuli of ``|shared| / |union|``, in [0, 1].
    """
    return jaccard_knn_from_counts(_overlaps(X, Y, n_neighbors, "jaccard_knn"), n_neighbors)
