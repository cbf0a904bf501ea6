"""Gram matrices and the RBF bandwidth: ``skrep.functional.gram``.

The bandwidth is checked against ``tests/data/similarity`` (Kornblith et al.'s
median convention, as computed by the public implementations) and the Gram
matrices against the naive second implementations in ``similarity_reference.py``.
"""

import math

import numpy as np
import pytest
import similarity_reference as naive

from skrep.functional import cka, gram_matrix, rbf_bandwidth, rbf_cka


def test_rbf_bandwidth_is_kornblith_median(dataset_a):
    X, Y, reference = dataset_a
    assert rbf_bandwidth(X, 0.8) == pytest.approx(reference["sigma_fullmedian_x|A|info"], rel=1e-12)
    assert rbf_bandwidth(Y, 0.8) == pytest.approx(reference["sigma_fullmedian_y|A|info"], rel=1e-12)
    sigma = rbf_bandwidth(X, 0.8)
    # The same number as an explicit bandwidth: only X's side uses its own median.
    K = naive.rbf_gram(X, sigma=sigma)
    L = naive.rbf_gram(Y, threshold=0.8)
    assert cka(
        X,
        Y,
        kernel=lambda A: (
            gram_matrix(A, "rbf", sigma=sigma) if A.shape[1] == 64 else gram_matrix(A, "rbf")
        ),
    ) == pytest.approx(naive.cka_from_grams(K, L), abs=1e-12)


def test_gram_matrix(rng):
    X = rng.standard_normal((9, 3)) + 2.0
    Xc = X - X.mean(0)
    np.testing.assert_allclose(gram_matrix(X), Xc @ Xc.T, atol=1e-12)
    np.testing.assert_allclose(
        gram_matrix(X, "rbf", sigma=2.0), naive.rbf_gram(X, sigma=2.0), atol=1e-14
    )


def test_rbf_bandwidth_zero_and_kernel_errors(rng):
    X = np.zeros((10, 2))
    X[0] = 1.0  # 9 identical rows: the median distance is 0
    with pytest.raises(ValueError, match="median squared distance .* X is 0.*pass sigma"):
        rbf_cka(X, rng.standard_normal((10, 2)))
    assert math.isfinite(rbf_cka(X, rng.standard_normal((10, 2)), sigma=1.0))
    with pytest.raises(ValueError, match=r"kernel callable returned an array of shape \(10, 3\)"):
        cka(X, X, kernel=lambda A: np.ones((10, 3)))
    with pytest.raises(ValueError, match="not symmetric"):
        cka(rng.standard_normal((10, 2)), X, kernel=lambda A: np.triu(np.ones((10, 10))))
