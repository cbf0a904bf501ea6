"""HSIC and RBF CKA at extreme scales (issue 22, item 4): exact rescaling, or a named error."""

import numpy as np
import pytest

from skrep import CKAEstimator
from skrep.functional import gram_matrix, hsic, rbf_bandwidth, rbf_cka


@pytest.fixture
def grams(rng):
    X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 3))
    return X, Y, X @ X.T, Y @ Y.T


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("exponent", [-900, -400, 400, 900])
def test_hsic_is_bilinear_at_extreme_scales(grams, debiased, exponent):
    """hsic(a K, L / a) = hsic(K, L) for a power of two a (an exact identity)."""
    *_, K, L = grams
    a = 2.0**exponent
    expected = hsic(K, L, debiased=debiased)
    assert hsic(K * a, L / a, debiased=debiased) == pytest.approx(expected, rel=1e-13)


def test_hsic_beyond_float64_is_a_named_error(grams):
    *_, K, L = grams
    with pytest.raises(ValueError, match=r"HSIC of K and L is beyond the float64 range"):
        hsic(K * 1e300, L * 1e300)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_rbf_cka_with_the_median_bandwidth_ignores_scale(grams, scale):
    X, Y, *_ = grams
    expected = rbf_cka(X, Y)
    assert rbf_cka(X * scale, Y) == pytest.approx(expected, rel=1e-12)
    assert CKAEstimator("rbf").fit(X * scale, Y * scale).score(X * scale, Y * scale) == (
        pytest.approx(expected, rel=1e-12)
    )


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_rbf_bandwidth_and_gram_follow_the_data_scale(grams, scale):
    X, *_ = grams
    assert rbf_bandwidth(X * scale) == pytest.approx(rbf_bandwidth(X) * scale, rel=1e-13)
    np.testing.assert_allclose(gram_matrix(X * scale, "rbf"), gram_matrix(X, "rbf"), atol=1e-14)


def test_a_linear_gram_beyond_float64_is_a_named_error(grams):
    X, *_ = grams
    with pytest.raises(ValueError, match=r"linear Gram matrix of X is beyond the range"):
        gram_matrix(X * 1e300)
