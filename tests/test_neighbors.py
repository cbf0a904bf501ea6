"""Neighbour overlap: ``skrep.functional.neighbors`` (mutual kNN, Jaccard kNN).

Every number comes from the naive neighbour sets in ``similarity_reference.py``
or from an invariance (rotation and isotropic scaling keep every neighbour set).
The reference values of the kNN estimators (``skrep.metrics.neighbors``) are
checked with every other measure's in ``test_similarity.py``.
"""

import pytest
import similarity_reference as naive
from conftest import random_orthogonal

from skrep.functional import jaccard_knn, mutual_knn, nearest_neighbors


@pytest.mark.parametrize("k", [1, 5, 20])
def test_knn_measures_match_naive(rng, k):
    X = rng.standard_normal((90, 6))
    Y = X @ rng.standard_normal((6, 9)) + rng.standard_normal((90, 9))
    assert mutual_knn(X, Y, k) == pytest.approx(naive.mutual_knn(X, Y, k), abs=1e-14)
    assert jaccard_knn(X, Y, k) == pytest.approx(naive.jaccard_knn(X, Y, k), abs=1e-14)
    # Rotation and isotropic scaling keep every neighbour set.
    Q = random_orthogonal(rng, 6)
    assert mutual_knn(X, 3 * X @ Q, k) == 1.0
    assert jaccard_knn(X, 3 * X @ Q, k) == 1.0
    assert sorted(map(sorted, nearest_neighbors(X, k).tolist())) == sorted(
        sorted(s) for s in naive.neighbour_sets(X, k)
    )


def test_knn_errors(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="n_neighbors=10 but X has 10 samples"):
        mutual_knn(X, X, 10)
    Z = X.copy()
    Z[4] = 0.0
    with pytest.raises(ValueError, match="Row 4 of Y is all zeros"):
        jaccard_knn(X, Z, 3)
