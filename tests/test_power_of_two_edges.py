"""Exact power-of-two rescaling beyond 2**1023, where 2**1024 is not a float.

Data whose largest magnitude is at least 2**1023 (about 9e307) are divided by
2**1023 (the largest power of two), not by an overflowing 2**1024; every
measure here is scale-invariant (or scale-equivariant), so its value there is
its value at 1.
"""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from skrep.functional import neuroid_correlations, split_half_ceiling
from skrep.metrics import LinearProbe
from skrep.multiset import cluster_order, embed_distances

HUGE = 2.0**1020  # times entries of up to 16: largest magnitudes beyond 2**1023


def _huge(A):
    """``A`` rescaled exactly so that its largest magnitude is in [2**1023, 2**1024)."""
    exponent = np.frexp(np.max(np.abs(A)))[1]
    return np.ldexp(A, 1024 - exponent)


def test_neuroid_correlations_beyond_2_1023(rng):
    Y = rng.standard_normal((30, 3))
    P = Y + 0.5 * rng.standard_normal((30, 3))
    expected = neuroid_correlations(P, Y)
    np.testing.assert_allclose(neuroid_correlations(_huge(P), Y), expected, rtol=1e-14)
    np.testing.assert_allclose(neuroid_correlations(P, _huge(Y)), expected, rtol=1e-14)


def test_split_half_ceiling_beyond_2_1023(rng):
    trials = rng.standard_normal((4, 20, 3)) + rng.standard_normal((20, 3))
    expected = split_half_ceiling(trials, random_state=0)
    np.testing.assert_allclose(
        split_half_ceiling(_huge(trials), random_state=0), expected, rtol=1e-14
    )


def test_linear_probe_beyond_2_1023(rng):
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + 0.3 * rng.standard_normal(60) > 0).astype(int)
    probe = LinearProbe(cv=None).fit(X, y)
    huge = LinearProbe(cv=None).fit(_huge(X), y)
    np.testing.assert_array_equal(huge.predict(_huge(X)), probe.predict(X))
    assert huge.score(_huge(X), y) == pytest.approx(probe.score(X, y))


def test_distance_matrix_views_beyond_2_1023():
    D = np.array([[0, 9, 1, 9], [9, 0, 9, 1], [1, 9, 0, 9], [9, 1, 9, 0.0]])
    np.testing.assert_array_equal(cluster_order(D * HUGE), cluster_order(D))
    embedding = embed_distances(D * HUGE, random_state=0)
    assert np.isfinite(embedding).all()
    reference = pdist(embed_distances(D, random_state=0))
    np.testing.assert_allclose(pdist(embedding / HUGE), reference, rtol=1e-4)  # SMACOF tolerance
