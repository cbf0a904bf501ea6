"""Every similarity measure at once: reference values, bad input, torch, scikit-learn (issue 6).

Cross-family tests of CKA, the CCA family, neighbour overlap and linear
predictivity, and of their estimators' shared behaviour
(``skrep.metrics._similarity``). Each family's own tests are in
``test_kernel.py``, ``test_gram.py``, ``test_hsic.py``, ``test_cca.py``,
``test_neighbors.py`` and ``test_regression.py``; ``layer_similarity``'s in
``test_layerwise.py``.

Every number comes from ``tests/data/similarity`` (values computed with the
public implementations, netrep's Procrustes distances among them, checked here
through LinearMetric), from the functions computed a second way (numpy against
torch, per fold) or from scikit-learn.
"""

import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.preprocessing import StandardScaler

import skrep
from skrep.exceptions import InvalidParameterError
from skrep.functional import (
    jaccard_knn,
    linear_cka,
    linear_regression_r2,
    mean_cca,
    mutual_knn,
    pwcca,
    r2_cca,
    rbf_cka,
    svcca,
)

# -- the reference values --------------------------------------------------------------------------
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
    # Ding et al. (2021): Procrustes between centered, Frobenius-normalised inputs.
    Xn, Yn = X - X.mean(0), Y - Y.mean(0)
    Xn, Yn = Xn / np.linalg.norm(Xn), Yn / np.linalg.norm(Yn)
    assert euclidean.fit(Xn, Yn).distance(Xn, Yn) == pytest.approx(
        reference["procrustes_centered_normalized|A|independent_numpy"], abs=1e-12
    )


# -- bad input -------------------------------------------------------------------------------------
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
    # 0.1 is not exactly representable: centering leaves rounding noise, not zeros.
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


# -- numerics and torch ----------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e9, 1e-12])
def test_float32_extreme_scales(rng, scale):
    X = rng.standard_normal((30, 200))  # Gram route (n < p)
    Y = X @ rng.standard_normal((200, 200)) + rng.standard_normal((30, 200))
    X32, Y32 = (X * scale).astype(np.float32), (Y * scale).astype(np.float32)
    assert abs(linear_cka(X32, Y32) - linear_cka(X, Y)) < 1e-5
    assert abs(linear_cka(X32, Y32, debiased=True) - linear_cka(X, Y, debiased=True)) < 1e-5
    for function in (mean_cca, linear_regression_r2, lambda A, B: mutual_knn(A, B, 3)):
        assert abs(function(X32[:, :20], Y32[:, :10]) - function(X[:, :20], Y[:, :10])) < 1e-4


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


# -- scikit-learn workflows ------------------------------------------------------------------------
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
    with pytest.raises(NotFittedError):
        skrep.CKAEstimator().score(X, X)
