"""The CCA family: ``skrep.functional.cca`` (canonical correlations, mean, R^2, SVCCA, PWCCA).

Every number comes from the naive canonical correlations in
``similarity_reference.py``, from ``tests/data/similarity`` (values computed with
the public implementations), from scikit-learn's PCA, from a closed form or from
an invariance. The reference values of the CCA estimators
(``skrep.metrics.cca``) are checked with every other measure's in
``test_similarity.py``.
"""

import numpy as np
import pytest
import similarity_reference as naive
from sklearn.decomposition import PCA

import skrep
from skrep.functional import canonical_correlations, mean_cca, pwcca, r2_cca, svcca


def test_canonical_correlations_match_naive_and_invariances(rng):
    X = rng.standard_normal((100, 6))
    Y = X[:, :3] @ rng.standard_normal((3, 5)) + rng.standard_normal((100, 5))
    rho = canonical_correlations(X, Y)
    np.testing.assert_allclose(rho, naive.canonical_correlations(X, Y), atol=1e-12)
    # Invariant to any invertible linear map and shift of either side.
    A = rng.standard_normal((6, 6)) + 3 * np.eye(6)
    np.testing.assert_allclose(canonical_correlations(X @ A + 4.0, Y), rho, atol=1e-10)
    assert mean_cca(X, Y) == pytest.approx(rho.mean(), abs=1e-14)
    assert r2_cca(X, Y) == pytest.approx(np.mean(rho**2), abs=1e-14)
    # Y a linear function of X: every correlation is 1.
    np.testing.assert_allclose(
        canonical_correlations(X, X @ rng.standard_normal((6, 4))), 1.0, atol=1e-12
    )


def test_rank_deficient_input_has_fewer_correlations(rng):
    X = rng.standard_normal((50, 4))
    X = np.hstack([X, X[:, :2] + X[:, 2:3]])  # 6 columns, rank 4
    Y = rng.standard_normal((50, 5))
    rho = canonical_correlations(X, Y)
    assert rho.shape == (4,)
    np.testing.assert_allclose(rho, naive.canonical_correlations(X[:, :4], Y), atol=1e-10)


def test_svcca_variants(rng, dataset_a):
    X, Y, reference = dataset_a
    assert svcca(X, Y, None) == pytest.approx(mean_cca(X, Y), abs=1e-12)
    # The 99% threshold keeps 51 components of X (the reference's count).
    assert PCA(0.99).fit(X).n_components_ == int(reference["correct_k_99pct|A|diag"])
    reduced_x, reduced_y = PCA(0.99).fit_transform(X), PCA(0.99).fit_transform(Y)
    assert svcca(X, Y) == pytest.approx(
        np.mean(naive.canonical_correlations(reduced_x, reduced_y)), abs=1e-10
    )
    with pytest.raises(ValueError, match="n_components=500 is larger"):
        svcca(X, Y, 500)


def test_pwcca_directions_and_widths(rng):
    X = rng.standard_normal((120, 12))
    Y = X[:, :5] @ rng.standard_normal((5, 7)) + 0.5 * rng.standard_normal((120, 7))
    for a, b in ((X, Y), (Y, X)):  # either side may be the wider one
        value = pwcca(a, b)
        assert 0.0 <= value <= 1.0
        assert value >= canonical_correlations(a, b).min()
    # Identical representations: every correlation is 1, so PWCCA is 1.
    assert pwcca(X, X) == pytest.approx(1.0, abs=1e-10)


def test_pwcca_survives_dead_and_collinear_units(rng):
    # Dead ReLU units and near-duplicate units make google's covariance whitening
    # give correlations above 1 or an SVD that does not converge.
    base = rng.standard_normal((300, 20))
    X = np.maximum(base @ rng.standard_normal((20, 40)), 0.0)
    X[:, :8] = 0.0  # dead units
    X[:, 8] = X[:, 9] + 1e-9 * rng.standard_normal(300)  # a nearly duplicated unit
    Y = np.maximum(base @ rng.standard_normal((20, 30)), 0.0)
    for a, b in ((X, Y), (Y, X)):
        value = pwcca(a, b)
        assert 0.0 <= value <= 1.0
    np.testing.assert_array_less(canonical_correlations(X, Y), 1.0 + 1e-12)


def test_pwcca_of_a_rank_deficient_representation_with_itself_is_one(rng):
    wide = rng.standard_normal((20, 50))  # n < p
    base = rng.standard_normal((200, 10))
    dead = np.hstack([base, np.zeros((200, 1))])
    duplicated = np.hstack([base, base[:, :1]])
    for A in (wide, dead, duplicated):
        assert pwcca(A, A) == pytest.approx(1.0, abs=1e-10)
        assert pwcca(A, np.asfortranarray(A)) == pytest.approx(1.0, abs=1e-10)
        assert skrep.layer_similarity("pwcca", [A, A])[0, 1] == pytest.approx(1.0, abs=1e-10)
