"""CKA, the CCA family, neighbour overlap and linear predictivity (issue 6).

Every number comes from ``../shared/data/similarity`` (values computed with the
public implementations), from the naive second implementations in
``similarity_reference.py``, from a closed form or from an invariance.
"""

import math

import numpy as np
import pytest
import similarity_reference as naive
from conftest import load_reference, random_orthogonal
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.preprocessing import StandardScaler

import skrep
from skrep.exceptions import InvalidParameterError
from skrep.functional import (
    canonical_correlations,
    cka,
    cka_matrix,
    gram_matrix,
    hsic,
    jaccard_knn,
    linear_cka,
    linear_regression_r2,
    mean_cca,
    mutual_knn,
    nearest_neighbors,
    pwcca,
    r2_cca,
    rbf_bandwidth,
    rbf_cka,
    svcca,
)


@pytest.fixture(scope="module")
def dataset_a():
    """Dataset A (400 x 64 and 400 x 48) and the values of the public implementations."""
    inputs = load_reference("similarity", "inputs_A")
    values = load_reference("similarity", "values_A")
    reference = dict(zip(values["keys"].tolist(), values["vals"].tolist(), strict=True))
    return inputs["X"], inputs["Y"], reference


# -- the reference values ---------------------------------------------------------------------
REFERENCE_CASES = [
    # (what skrep computes, reference key, tolerance)
    (lambda X, Y: linear_cka(X, Y), "linear_cka|A|independent_numpy", 1e-9),
    (lambda X, Y: linear_cka(X, Y), "linear_cka|A|google_gram", 1e-9),
    (lambda X, Y: rbf_cka(X, Y, threshold=0.8), "rbf_cka_0.8|A|google", 1e-9),
    (lambda X, Y: linear_cka(X, Y, debiased=True), "debiased_linear_cka|A|google_gram", 1e-9),
    (lambda X, Y: mutual_knn(X, Y, 10), "mutual_knn_k10|A|independent_numpy", 1e-12),
    (lambda X, Y: jaccard_knn(X, Y, 10), "jaccard_k10|A|resi", 1e-12),
    (lambda X, Y: mean_cca(X, Y), "mean_cca|A|google_svcca_cca_core", 1e-9),
    (lambda X, Y: r2_cca(X, Y), "mean_sq_cca|A|google_cka_colab", 1e-9),
    (lambda X, Y: svcca(X, Y, 0.99), "svcca_var99|A|simrepo_svcca", 1e-9),
    (lambda X, Y: svcca(X, Y, 10), "svcca_dim10|A|simrepo_svcca", 1e-9),
    (lambda X, Y: pwcca(X, Y), "pwcca|A|google_fixed", 1e-9),
    (lambda X, Y: pwcca(Y, X), "pwcca|A|google_fixed_swapped", 1e-9),
    (lambda X, Y: linear_regression_r2(X, Y), "linear_regression_r2|A|resi", 1e-9),
    (lambda X, Y: mean_cca(X[:, :48], Y), "mean_cca_equal_dims|A|independent_numpy", 1e-9),
]


@pytest.mark.parametrize(
    "compute, key, tolerance", REFERENCE_CASES, ids=[c[1] for c in REFERENCE_CASES]
)
def test_functions_match_reference_values(dataset_a, compute, key, tolerance):
    X, Y, reference = dataset_a
    assert compute(X, Y) == pytest.approx(reference[key], abs=tolerance)


ESTIMATOR_CASES = [
    (skrep.CKAEstimator(), "linear_cka|A|google_feature_space"),
    (skrep.CKAEstimator("rbf", threshold=0.8), "rbf_cka_0.8|A|independent_numpy"),
    (skrep.CKAEstimator(debiased=True), "debiased_linear_cka|A|independent_numpy"),
    (skrep.CCAEstimator(), "mean_cca|A|independent_numpy"),
    (skrep.CCAEstimator("r2"), "mean_sq_cca|A|independent_numpy"),
    (skrep.SVCCAEstimator(), "svcca_var99|A|independent_numpy"),
    (skrep.PWCCAEstimator(), "pwcca|A|google_fixed"),
    (skrep.MutualKNNEstimator(), "mutual_knn_k10|A|independent_numpy"),
    (skrep.JaccardKNNEstimator(), "jaccard_k10|A|independent_numpy"),
    (skrep.RegressionR2Estimator(), "linear_regression_r2|A|resi"),
]


@pytest.mark.parametrize("estimator, key", ESTIMATOR_CASES, ids=[c[1] for c in ESTIMATOR_CASES])
def test_estimators_score_the_reference_values(dataset_a, estimator, key):
    X, Y, reference = dataset_a
    assert estimator.fit(X, Y).score(X, Y) == pytest.approx(reference[key], abs=1e-9)


def test_documented_defects_of_public_code_are_not_reproduced(dataset_a):
    X, Y, reference = dataset_a
    # google's "mean" keeps only 98% of the coefficient mass; ReSi's SVCCA one PC;
    # repsim's "unbiased" CKA and the off-diagonal median are other estimators.
    assert mean_cca(X, Y) != pytest.approx(
        reference["mean_cca_truncated98|A|google_svcca_cca_core"], abs=1e-3
    )
    assert svcca(X, Y) != pytest.approx(reference["svcca_var99|A|resi"], abs=1e-3)
    assert linear_cka(X, Y, debiased=True) != pytest.approx(
        reference["lange_unbiased_cka|A|repsim_wrongu"], abs=1e-6
    )
    assert rbf_cka(X, Y) != pytest.approx(
        reference["rbf_cka_0.8|A|google_offdiag_median"], abs=1e-6
    )


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


# -- CKA against the naive implementation ---------------------------------------------------------
@pytest.mark.parametrize("n", [12, 60, 200])  # Gram route for n < p, feature route for n > p
@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_matches_naive(rng, n, debiased):
    X = rng.standard_normal((n, 40)) + 3.0
    Y = X[:, :25] @ rng.standard_normal((25, 30)) + rng.standard_normal((n, 30))
    expected = naive.cka_from_grams(
        naive.linear_gram(X - X.mean(0)), naive.linear_gram(Y - Y.mean(0)), debiased
    )
    assert linear_cka(X, Y, debiased=debiased) == pytest.approx(expected, abs=1e-12)
    # Debiased HSIC is the same with uncentred Grams (a U-statistic).
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


def test_callable_kernel_and_hsic(rng):
    from functools import partial

    from sklearn.metrics.pairwise import polynomial_kernel

    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 6))
    kernel = partial(polynomial_kernel, degree=2)
    K, L = kernel(X), kernel(Y)
    assert cka(X, Y, kernel=kernel) == pytest.approx(naive.cka_from_grams(K, L), abs=1e-12)
    assert cka(X, Y, kernel=kernel, debiased=True) == pytest.approx(
        naive.cka_from_grams(K, L, True), abs=1e-12
    )
    assert hsic(K, L) == pytest.approx(naive.hsic_biased(K, L), rel=1e-12)
    assert hsic(K, L, debiased=True) == pytest.approx(naive.hsic_unbiased(K, L), rel=1e-10)
    K_before = K.copy()
    hsic(K, L, debiased=True)
    np.testing.assert_array_equal(K, K_before)  # the caller's matrix is left alone


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


def test_gram_matrix(rng):
    X = rng.standard_normal((9, 3)) + 2.0
    Xc = X - X.mean(0)
    np.testing.assert_allclose(gram_matrix(X), Xc @ Xc.T, atol=1e-12)
    np.testing.assert_allclose(
        gram_matrix(X, "rbf", sigma=2.0), naive.rbf_gram(X, sigma=2.0), atol=1e-14
    )


# -- numerics ----------------------------------------------------------------------------------
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


@pytest.mark.parametrize(
    "function", [linear_cka, rbf_cka, lambda X, Y: linear_cka(X, Y, debiased=True)]
)
def test_cka_needs_four_samples(rng, function):
    with pytest.raises(ValueError, match=r"X has 3 samples.*at least 4"):
        function(rng.standard_normal((3, 5)), rng.standard_normal((3, 5)))


MEASURES = {
    "mutual_knn": lambda X, Y: mutual_knn(X, Y, 3),
    "linear_cka": linear_cka,
    "rbf_cka": rbf_cka,
    "debiased": lambda X, Y: linear_cka(X, Y, debiased=True),
    "mean_cca": mean_cca,
    "r2_cca": r2_cca,
    "svcca": svcca,
    "pwcca": pwcca,
    "regression": linear_regression_r2,
}


@pytest.mark.parametrize("name", sorted(MEASURES))
@pytest.mark.parametrize("constant", ["X", "Y"])
def test_constant_input_is_a_clear_error(rng, name, constant):
    X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 3))
    # 0.1 is not exactly representable: centring leaves rounding noise, not zeros.
    if constant == "X":
        X = np.full_like(X, 0.1)
    else:
        Y = np.tile(rng.random(3), (20, 1))  # each column constant
    with pytest.raises(ValueError, match=rf"{constant}.*(no variance|identical)"):
        MEASURES[name](X, Y)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_bad_input_names_the_argument(rng, name):
    X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 3))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains 1 NaN"):
        MEASURES[name](bad, Y)
    with pytest.raises(ValueError, match=r"X has 20 samples .* Y has 19"):
        MEASURES[name](X, Y[:19])
    with pytest.raises(ValueError, match=r"Y must be a 2-D array"):
        MEASURES[name](X, Y[:, 0])
    with pytest.raises(ValueError, match=r"X holds strings"):
        MEASURES[name](np.array([["a", "b"]] * 20), Y)


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


@pytest.mark.parametrize(
    "estimator, match",
    [
        (skrep.CKAEstimator("poly"), "'kernel' parameter of CKAEstimator"),
        (skrep.CKAEstimator("rbf", sigma=-1.0), "'sigma' parameter"),
        (skrep.CKAEstimator("rbf", threshold=0), "'threshold' parameter"),
        (skrep.CKAEstimator(debiased="yes"), "'debiased' parameter"),
        (skrep.CCAEstimator("max"), "'method' parameter of CCAEstimator"),
        (skrep.SVCCAEstimator(n_components=0), "'n_components' parameter of SVCCAEstimator"),
        (skrep.MutualKNNEstimator(n_neighbors=0), "'n_neighbors' parameter of MutualKNNEstimator"),
        (skrep.JaccardKNNEstimator(n_neighbors=2.5), "'n_neighbors' parameter"),
        (skrep.CKAEstimator(device="nonsense"), "'device' parameter"),
    ],
)
def test_bad_parameters_are_named(rng, estimator, match):
    X = rng.standard_normal((20, 3))
    with pytest.raises(InvalidParameterError, match=match):
        estimator.fit(X, X)


# -- CCA family ----------------------------------------------------------------------------------
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
    from sklearn.decomposition import PCA

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


# -- neighbours and regression ------------------------------------------------------------------
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


def test_linear_regression_r2(rng):
    X = rng.standard_normal((60, 5))
    Y = X[:, :3] @ rng.standard_normal((3, 4)) + rng.standard_normal((60, 4))
    assert linear_regression_r2(X, Y) == pytest.approx(naive.regression_r2(X, Y), abs=1e-12)
    assert linear_regression_r2(Y, X) == pytest.approx(naive.regression_r2(Y, X), abs=1e-12)
    assert linear_regression_r2(
        X, np.hstack([X @ rng.standard_normal((5, 5)), Y])
    ) == pytest.approx(1.0)


# -- torch ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MEASURES) + ["mutual_knn", "jaccard_knn"])
def test_torch_matches_numpy(rng, name):
    torch = pytest.importorskip("torch")
    function = {**MEASURES, "mutual_knn": mutual_knn, "jaccard_knn": jaccard_knn}[name]
    X = rng.standard_normal((50, 6))
    Y = X @ rng.standard_normal((6, 4)) + rng.standard_normal((50, 4))
    expected = function(X, Y)
    assert function(torch.from_numpy(X), torch.from_numpy(Y)) == pytest.approx(expected, abs=1e-10)
    got32 = function(torch.from_numpy(X).float(), torch.from_numpy(Y).float())
    assert got32 == pytest.approx(expected, abs=1e-4)


def test_estimator_device_moves_to_torch(rng, dataset_a):
    pytest.importorskip("torch")
    X, Y, reference = dataset_a
    estimator = skrep.CKAEstimator("rbf", device="cpu").fit(X, Y)
    assert estimator.score(X, Y) == pytest.approx(reference["rbf_cka_0.8|A|google"], abs=1e-9)


# -- layer_similarity ---------------------------------------------------------------------
def _layers(rng, n=40, widths=(5, 8, 3, 12)):
    base = rng.standard_normal((n, 6))
    return [
        np.tanh(base @ rng.standard_normal((6, w))) + 0.2 * rng.standard_normal((n, w))
        for w in widths
    ]


PAIR_FUNCTIONS = {
    "linear_cka": linear_cka,
    "debiased_linear_cka": lambda X, Y: linear_cka(X, Y, debiased=True),
    "rbf_cka": rbf_cka,
    "mean_cca": mean_cca,
    "r2_cca": r2_cca,
    "svcca": svcca,
    "pwcca": pwcca,
    "mutual_knn": lambda X, Y: mutual_knn(X, Y, 10),
    "jaccard_knn": lambda X, Y: jaccard_knn(X, Y, 10),
    "linear_regression": linear_regression_r2,
}


@pytest.mark.parametrize("name", sorted(PAIR_FUNCTIONS))
def test_layer_similarity_matches_pairwise_function(rng, name):
    layers_a, layers_b = _layers(rng), _layers(rng, widths=(4, 9, 6))
    function = PAIR_FUNCTIONS[name]
    within = skrep.layer_similarity(name, layers_a)
    across = skrep.layer_similarity(name, layers_a, layers_b)
    expected_within = [[function(a, b) for b in layers_a] for a in layers_a]
    expected_across = [[function(a, b) for b in layers_b] for a in layers_a]
    np.testing.assert_allclose(within, expected_within, atol=1e-10)
    np.testing.assert_allclose(across, expected_across, atol=1e-10)
    assert across.shape == (4, 3)


@pytest.mark.parametrize("n", [15, 300])  # Gram route (n < total width) and feature route
def test_cka_matrix_routes_agree_with_naive(rng, n):
    layers = _layers(rng, n=n, widths=(20, 30, 25))
    for debiased in (False, True):
        got = cka_matrix(layers, debiased=debiased)
        for i, a in enumerate(layers):
            for j, b in enumerate(layers):
                Ka, Kb = naive.linear_gram(a - a.mean(0)), naive.linear_gram(b - b.mean(0))
                assert got[i, j] == pytest.approx(naive.cka_from_grams(Ka, Kb, debiased), abs=1e-12)


def test_layer_similarity_measures_of_every_kind(rng):
    layers = _layers(rng)
    by_name = skrep.layer_similarity("linear_cka", layers)
    by_estimator = skrep.layer_similarity(skrep.CKAEstimator(), layers)
    by_slow_path = skrep.layer_similarity(skrep.CKAEstimator(preprocessor=StandardScaler()), layers)
    by_callable = skrep.layer_similarity(lambda X, Y: linear_cka(X, Y), layers, n_jobs=2)
    np.testing.assert_allclose(by_estimator, by_name, atol=1e-14)
    np.testing.assert_allclose(by_callable, by_name, atol=1e-12)
    scaled = [StandardScaler().fit_transform(A) for A in layers]
    np.testing.assert_allclose(
        by_slow_path, skrep.layer_similarity("linear_cka", scaled), atol=1e-12
    )
    # A distance metric gives distances, and the result says so.
    metric = skrep.LinearMetric(alpha=1.0, zero_pad=True)
    expected = metric.fit(layers[0], layers[1]).distance(layers[0], layers[1])
    distances = skrep.layer_similarity(metric, layers)
    assert distances[0, 1] == pytest.approx(expected, abs=1e-12)
    assert distances.kind == "distance" and by_name.kind == "similarity"
    np.testing.assert_allclose(np.diag(by_name), 1.0, atol=1e-12)
    np.testing.assert_allclose(by_name, by_name.T, atol=1e-14)
    stacked = np.stack([A[:, :3] for A in layers])  # a 3-D array of equal-width layers
    np.testing.assert_allclose(
        skrep.layer_similarity("linear_cka", stacked),
        skrep.layer_similarity("linear_cka", list(stacked)),
    )


def test_layer_similarity_errors(rng):
    layers = _layers(rng)
    with pytest.raises(InvalidParameterError, match="Unknown measure 'cka'"):
        skrep.layer_similarity("cka", layers)
    for name in ("linear_cka", "mean_cca", "pwcca"):
        match = r"layers_b\[1\] has 39 samples .* layers_a\[0\] has 40"
        with pytest.raises(ValueError, match=match):
            skrep.layer_similarity(name, layers, [layers[0], layers[1][:39]])
        match = r"layers_a\[2\] has 39 samples .* layers_a\[0\] has 40"
        with pytest.raises(ValueError, match=match):
            skrep.layer_similarity(name, [layers[0], layers[1], layers[2][:39]])
    with pytest.raises(ValueError, match=r"layers_a\[2\] contains 1 NaN"):
        bad = [A.copy() for A in layers]
        bad[2][0, 0] = np.nan
        skrep.layer_similarity("mean_cca", bad)
    with pytest.raises(ValueError, match="layers_b is empty"):
        skrep.layer_similarity("linear_cka", layers, [])


# -- scikit-learn workflows ---------------------------------------------------------------------
def test_cross_validate_scores_each_held_out_fold(rng):
    X = rng.standard_normal((90, 6))
    Y = X @ rng.standard_normal((6, 5)) + rng.standard_normal((90, 5))
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_validate(skrep.CKAEstimator(), X, Y, cv=cv)["test_score"]
    expected = [linear_cka(X[test], Y[test]) for _, test in cv.split(X)]
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_grid_search_and_preprocessor(rng):
    X = rng.standard_normal((80, 10))
    Y = X[:, :4] @ rng.standard_normal((4, 6)) + 0.5 * rng.standard_normal((80, 6))
    search = GridSearchCV(skrep.SVCCAEstimator(), {"n_components": [1, 3, 0.99]}, cv=2).fit(X, Y)
    assert search.best_params_["n_components"] in (1, 3, 0.99)
    estimator = skrep.CKAEstimator(preprocessor=StandardScaler()).fit(X, Y)
    expected = linear_cka(StandardScaler().fit_transform(X), StandardScaler().fit_transform(Y))
    assert estimator.score(X, Y) == pytest.approx(expected, abs=1e-12)
    assert estimator.distance(X, Y) == pytest.approx(math.acos(expected), abs=1e-12)


def test_score_checks_widths_and_fit(rng):
    X = rng.standard_normal((30, 4))
    estimator = skrep.CCAEstimator().fit(X, X[:, :3])
    with pytest.raises(ValueError, match="Y has 2 features, but CCAEstimator is expecting 3"):
        estimator.score(X, X[:, :2])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        skrep.CKAEstimator().score(X, X)


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


def test_procrustes_reference_values_through_linear_metric(dataset_a):
    X, Y, reference = dataset_a
    euclidean = skrep.LinearMetric(alpha=1.0, score_method="euclidean")
    assert euclidean.fit(X, Y).distance(X, Y) == pytest.approx(
        reference["procrustes_euclid_centered|A|netrep"], abs=1e-9
    )
    angular = skrep.LinearMetric(alpha=1.0)
    assert angular.fit(X, Y).distance(X, Y) == pytest.approx(
        reference["procrustes_angular|A|netrep"], abs=1e-12
    )
    # Ding et al. (2021): Procrustes between centred, Frobenius-normalised inputs.
    Xn, Yn = X - X.mean(0), Y - Y.mean(0)
    Xn, Yn = Xn / np.linalg.norm(Xn), Yn / np.linalg.norm(Yn)
    assert euclidean.fit(Xn, Yn).distance(Xn, Yn) == pytest.approx(
        reference["procrustes_centered_normalized|A|independent_numpy"], abs=1e-12
    )


def test_pwcca_of_a_rank_deficient_representation_with_itself_is_one(rng):
    wide = rng.standard_normal((20, 50))  # n < p
    base = rng.standard_normal((200, 10))
    dead = np.hstack([base, np.zeros((200, 1))])
    duplicated = np.hstack([base, base[:, :1]])
    for A in (wide, dead, duplicated):
        assert pwcca(A, A) == pytest.approx(1.0, abs=1e-10)
        assert pwcca(A, np.asfortranarray(A)) == pytest.approx(1.0, abs=1e-10)
        assert skrep.layer_similarity("pwcca", [A, A])[0, 1] == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("scale", [1e9, 1e-12])
def test_float32_extreme_scales(rng, scale):
    X = rng.standard_normal((30, 200))  # Gram route (n < p)
    Y = X @ rng.standard_normal((200, 200)) + rng.standard_normal((30, 200))
    X32, Y32 = (X * scale).astype(np.float32), (Y * scale).astype(np.float32)
    assert abs(linear_cka(X32, Y32) - linear_cka(X, Y)) < 1e-5
    assert abs(linear_cka(X32, Y32, debiased=True) - linear_cka(X, Y, debiased=True)) < 1e-5
    for function in (mean_cca, linear_regression_r2, lambda A, B: mutual_knn(A, B, 3)):
        assert abs(function(X32[:, :20], Y32[:, :10]) - function(X[:, :20], Y[:, :10])) < 1e-4


def test_debiased_float32_gram_route_keeps_precision(rng):
    X = rng.standard_normal((60, 5000))
    Y = X[:, :2500] @ rng.standard_normal((2500, 1250)) / 30 + rng.standard_normal((60, 1250))
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    exact = linear_cka(X32.astype(np.float64), Y32.astype(np.float64), debiased=True)
    assert abs(linear_cka(X32, Y32, debiased=True) - exact) < 1e-6


def test_mixed_precision_layers_match_the_functions(rng):
    Z = rng.standard_normal((60, 8))
    low_rank32 = (Z @ rng.standard_normal((8, 20)) + 3.0).astype(np.float32)  # rank 8
    other = Z @ rng.standard_normal((8, 15)) + 0.3 * rng.standard_normal((60, 15))
    for name in ("mean_cca", "r2_cca", "pwcca", "linear_regression", "svcca"):
        function = PAIR_FUNCTIONS[name]
        value = skrep.layer_similarity(name, [low_rank32], [other])[0, 0]
        assert value == pytest.approx(function(low_rank32, other), abs=1e-12)
        # The float32 side's rank is judged in float32: 8 correlations, not 15.
        assert function(low_rank32, other) == pytest.approx(
            function(low_rank32, other.astype(np.float32)), abs=1e-3
        )


def test_float32_callable_kernel_and_asymmetric_hsic(rng):
    torch = pytest.importorskip("torch")
    X = torch.from_numpy(rng.standard_normal((30, 5))).float()
    Y = torch.from_numpy(rng.standard_normal((30, 4))).float()
    value = cka(X, Y, kernel=lambda M: torch.exp(-(torch.cdist(M, M) ** 2) / 5))
    K = naive.rbf_gram(X.double().numpy(), sigma=np.sqrt(2.5))
    L = naive.rbf_gram(Y.double().numpy(), sigma=np.sqrt(2.5))
    assert value == pytest.approx(naive.cka_from_grams(K, L), abs=1e-5)
    with pytest.raises(ValueError, match="K is not symmetric"):
        hsic(np.triu(K), L)


def test_layer_similarity_rejects_non_finite_values_and_single_arrays(rng):
    layers = _layers(rng)
    with pytest.raises(ValueError, match=r"returned nan for layers_a\[0\] and layers_a\[0\]"):
        skrep.layer_similarity(lambda X, Y: float("nan"), layers)
    with pytest.raises(ValueError, match="layers_a is a 2-D array of shape"):
        skrep.layer_similarity("linear_cka", layers[0])
