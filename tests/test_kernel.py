"""CKA: ``skrep.functional.kernel`` (cka, linear_cka, rbf_cka, cka_matrix) and CKAEstimator.

Every number comes from the naive second implementations in
``similarity_reference.py`` (explicit, centered Gram matrices), from
``tests/data/similarity`` (values computed with the public implementations),
from a closed form or from an invariance. The reference values of every measure
on dataset A are checked together in ``test_similarity.py``.
"""

import math

import numpy as np
import pytest
import similarity_reference as naive
from conftest import layers_of, random_orthogonal

import skrep
from skrep.functional import cka_matrix, linear_cka, rbf_cka


# -- CKA against the naive implementation ----------------------------------------------------------
@pytest.mark.parametrize("n", [12, 60, 200])  # Gram route for n < p, feature route for n > p
@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_matches_naive(rng, n, debiased):
    X = rng.standard_normal((n, 40)) + 3.0
    Y = X[:, :25] @ rng.standard_normal((25, 30)) + rng.standard_normal((n, 30))
    expected = naive.cka_from_grams(
        naive.linear_gram(X - X.mean(0)), naive.linear_gram(Y - Y.mean(0)), debiased
    )
    assert linear_cka(X, Y, debiased=debiased) == pytest.approx(expected, abs=1e-12)
    # Debiased HSIC is the same with uncentered Grams (a U-statistic).
    if debiased:
        assert naive.cka_from_grams(
            naive.linear_gram(X), naive.linear_gram(Y), True
        ) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("sigma", [None, 3.0])
def test_rbf_cka_matches_naive(rng, debiased, sigma):
    X = rng.standard_normal((70, 5))
    Y = np.tanh(X @ rng.standard_normal((5, 8))) + 0.3 * rng.standard_normal((70, 8))
    K = naive.rbf_gram(X, threshold=0.5, sigma=sigma)
    L = naive.rbf_gram(Y, threshold=0.5, sigma=sigma)
    got = rbf_cka(X, Y, sigma=sigma, threshold=0.5, debiased=debiased)
    assert got == pytest.approx(naive.cka_from_grams(K, L, debiased), abs=1e-12)


def test_cka_invariances_and_closed_forms(rng):
    X = rng.standard_normal((80, 12))
    Q = random_orthogonal(rng, 12)
    assert linear_cka(X, 5.0 * X @ Q + 7.0) == pytest.approx(1.0, abs=1e-12)
    assert rbf_cka(X, 5.0 * X @ Q + 7.0) == pytest.approx(1.0, abs=1e-12)  # median scales too
    assert linear_cka(X, X, debiased=True) == pytest.approx(1.0, abs=1e-12)
    Y = rng.standard_normal((80, 7))
    assert linear_cka(X, Y) == pytest.approx(linear_cka(Y, X), abs=1e-14)
    # Not invariant to an anisotropic scaling of the features.
    assert linear_cka(X, X * np.arange(1, 13)) < 0.99


@pytest.mark.parametrize("n", [15, 300])  # Gram route (n < total width) and feature route
def test_cka_matrix_routes_agree_with_naive(rng, n):
    layers = layers_of(rng, n=n, widths=(20, 30, 25))
    for debiased in (False, True):
        got = cka_matrix(layers, debiased=debiased)
        for i, a in enumerate(layers):
            for j, b in enumerate(layers):
                Ka, Kb = naive.linear_gram(a - a.mean(0)), naive.linear_gram(b - b.mean(0))
                assert got[i, j] == pytest.approx(naive.cka_from_grams(Ka, Kb, debiased), abs=1e-12)


# -- numerics --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1000, 40])
def test_float32_features_around_1000(rng, n):
    X = rng.standard_normal((n, 64))
    Y = X @ rng.standard_normal((64, 48)) + rng.standard_normal((n, 48))
    X, Y = X + 1000.0, Y + 1000.0
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    for debiased in (False, True):
        assert (
            abs(linear_cka(X32, Y32, debiased=debiased) - linear_cka(X, Y, debiased=debiased))
            < 1e-5
        )
    assert abs(rbf_cka(X32[:300], Y32[:300]) - rbf_cka(X[:300], Y[:300])) < 1e-5
    layers = cka_matrix([X32, Y32])
    assert abs(layers[0, 1] - linear_cka(X, Y)) < 1e-5


def test_debiased_cka_is_never_nan(rng):
    for _trial in range(200):
        n = int(rng.integers(4, 9))
        X = rng.standard_normal((n, int(rng.integers(1, 6))))
        Y = rng.standard_normal((n, int(rng.integers(1, 6))))
        try:
            value = linear_cka(X, Y, debiased=True)
        except ValueError as exc:
            assert "self-HSIC" in str(exc)
            continue
        assert math.isfinite(value) and value <= 1.0 + 1e-12
    # Negative values happen for unrelated data (documented).
    values = [
        linear_cka(rng.standard_normal((10, 3)), rng.standard_normal((10, 3)), debiased=True)
        for _ in range(50)
    ]
    assert min(values) < 0.0


def test_debiased_float32_gram_route_keeps_precision(rng):
    X = rng.standard_normal((60, 5000))
    Y = X[:, :2500] @ rng.standard_normal((2500, 1250)) / 30 + rng.standard_normal((60, 1250))
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    exact = linear_cka(X32.astype(np.float64), Y32.astype(np.float64), debiased=True)
    assert abs(linear_cka(X32, Y32, debiased=True) - exact) < 1e-6


@pytest.mark.parametrize(
    "function", [linear_cka, rbf_cka, lambda X, Y: linear_cka(X, Y, debiased=True)]
)
def test_cka_needs_four_samples(rng, function):
    with pytest.raises(ValueError, match=r"X has 3 samples.*at least 4"):
        function(rng.standard_normal((3, 5)), rng.standard_normal((3, 5)))


# -- CKAEstimator ----------------------------------------------------------------------------------
def test_estimator_device_moves_to_torch(rng, dataset_a):
    pytest.importorskip("torch")
    X, Y, reference = dataset_a
    estimator = skrep.CKAEstimator("rbf", device="cpu").fit(X, Y)
    assert estimator.score(X, Y) == pytest.approx(reference["rbf_cka_0.8|A|google"], abs=1e-9)
