"""Ridge encoding models (issue 7): himalaya's reference values, scikit-learn, closed forms."""

import numpy as np
import pytest
from conftest import load_reference
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold, LeaveOneOut, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.random_projection import SparseRandomProjection

import skrep
from skrep.exceptions import InvalidParameterError
from skrep.functional import compare_rdms, compute_rdm
from skrep.functional.ridge import (
    ridge_coefficients,
    ridge_cv_scores,
    ridge_dual_coefficients,
    ridge_loo_scores,
)


@pytest.fixture(scope="module")
def himalaya():
    return load_reference("rsatoolbox", "himalaya_reference")


@pytest.mark.parametrize(
    "scoring, prefix", [("neg_mse", "ridgecv"), ("pearson", "ridgecv_corrscore")]
)
def test_matches_himalaya_ridgecv(himalaya, scoring, prefix):
    model = skrep.EncodingRegression(
        himalaya["alphas"], cv=5, scoring=scoring, fit_intercept=False
    ).fit(himalaya["X_train"], himalaya["Y_train"])
    np.testing.assert_allclose(model.alpha_, himalaya[f"{prefix}_numpy__best_alphas"], rtol=1e-12)
    r = model.score_targets(himalaya["X_test"], himalaya["Y_test"])
    np.testing.assert_allclose(r, himalaya[f"{prefix}_numpy__test_correlation"], atol=1e-12)
    if scoring == "neg_mse":
        np.testing.assert_allclose(model.coef_, himalaya["ridgecv_numpy__coef"], atol=1e-12)
        np.testing.assert_allclose(
            model.cv_scores_.max(axis=0), himalaya["ridgecv_numpy__cv_scores"], atol=1e-12
        )
    assert model.score(himalaya["X_test"], himalaya["Y_test"]) == pytest.approx(r.mean())


@pytest.mark.parametrize("p", [8, 60])  # primal and dual (kernel) forms
def test_coefficients_match_scikit_learn_ridge(rng, p):
    X = rng.standard_normal((40, p))
    Y = X[:, :4] @ rng.standard_normal((4, 3)) + rng.standard_normal((40, 3))
    alphas = np.array([0.5, 5.0, 50.0])
    coef = ridge_coefficients(X, Y, alphas)
    for t, alpha in enumerate(alphas):
        expected = Ridge(alpha=alpha, fit_intercept=False).fit(X, Y[:, t]).coef_
        np.testing.assert_allclose(coef[:, t], expected, atol=1e-10)
    # With an intercept, the fitted model predicts as scikit-learn's Ridge.
    model = skrep.EncodingRegression([5.0], cv=3).fit(X, Y)
    reference = Ridge(alpha=5.0).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), atol=1e-10)
    np.testing.assert_allclose(model.coef_, reference.coef_.T, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-10)
    np.testing.assert_allclose(X @ model.coef_ + model.intercept_, model.predict(X), atol=1e-10)


@pytest.mark.parametrize("p", [8, 60])
def test_leave_one_out_scores_are_explicit_leave_one_out(rng, p):
    X = rng.standard_normal((30, p))
    Y = X[:, :3] @ rng.standard_normal((3, 4)) + rng.standard_normal((30, 4))
    alphas = [0.1, 3.0, 100.0]
    explicit = ridge_cv_scores(X, Y, alphas, LeaveOneOut().split(X), scoring="neg_mse")
    np.testing.assert_allclose(
        ridge_loo_scores(X, Y, alphas, scoring="neg_mse"), explicit, atol=1e-10
    )
    # scikit-learn's RidgeCV (efficient LOO, MSE, alpha per target) picks the same alphas.
    sk = RidgeCV(alphas=alphas, fit_intercept=False, alpha_per_target=True).fit(X, Y)
    ours = skrep.EncodingRegression(alphas, scoring="neg_mse", fit_intercept=False).fit(X, Y)
    np.testing.assert_allclose(ours.alpha_, sk.alpha_)


def test_random_projection_and_pipeline(rng):
    X = rng.standard_normal((60, 500))
    Y = X[:, :5] @ rng.standard_normal((5, 6)) + 0.5 * rng.standard_normal((60, 6))
    model = skrep.EncodingRegression(random_projection="auto", random_state=0).fit(X, Y)
    assert model.projection_ is None  # JL dimension for 60 stimuli exceeds 500 features
    projected = skrep.EncodingRegression(random_projection=50, random_state=0).fit(X, Y)
    assert projected.coef_.shape == (50, 6)
    manual = SparseRandomProjection(50, random_state=0).fit(X)
    by_hand = skrep.EncodingRegression().fit(manual.transform(X), Y)
    np.testing.assert_allclose(
        projected.predict(X), by_hand.predict(manual.transform(X)), atol=1e-10
    )
    pipeline = make_pipeline(SparseRandomProjection(50, random_state=0), skrep.EncodingRSA())
    scores = cross_validate(pipeline, X, Y, cv=KFold(3))["test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores <= 1.0)


def test_encoding_rsa_compares_predicted_and_measured_rdms(rng):
    X = rng.standard_normal((50, 10))
    Y = X @ rng.standard_normal((10, 8)) + 0.3 * rng.standard_normal((50, 8))
    model = skrep.EncodingRSA(compare_method="spearman").fit(X[:35], Y[:35])
    expected = compare_rdms(compute_rdm(model.predict(X[35:])), compute_rdm(Y[35:]), "spearman")[
        0, 0
    ]
    assert model.score(X[35:], Y[35:]) == pytest.approx(expected, abs=1e-14)
    assert expected > 0.5


def test_cross_validate_and_one_target(rng):
    X = rng.standard_normal((45, 6))
    y = X @ rng.standard_normal(6) + 0.2 * rng.standard_normal(45)
    model = skrep.EncodingRegression(cv=3).fit(X, y)
    assert model.predict(X).shape == (45,)
    scores = cross_validate(skrep.EncodingRegression(), X, y, cv=KFold(3))["test_score"]
    assert np.all(scores > 0.9)


def test_torch_matches_numpy(himalaya):
    torch = pytest.importorskip("torch")
    X, Y = himalaya["X_train"], himalaya["Y_train"]
    ours = skrep.EncodingRegression(cv=5).fit(X, Y)
    tensors = skrep.EncodingRegression(cv=5).fit(torch.from_numpy(X), torch.from_numpy(Y))
    np.testing.assert_allclose(tensors.alpha_, ours.alpha_)
    predicted = tensors.predict(torch.from_numpy(himalaya["X_test"]))
    assert isinstance(predicted, torch.Tensor)
    np.testing.assert_allclose(predicted.numpy(), ours.predict(himalaya["X_test"]), atol=1e-10)


@pytest.mark.parametrize(
    "model, match",
    [
        (skrep.EncodingRegression(alphas=[-1.0]), "'alphas' parameter"),
        (skrep.EncodingRegression(alphas=[]), "'alphas' parameter"),
        (skrep.EncodingRegression(scoring="mae"), "'scoring' parameter"),
        (skrep.EncodingRegression(random_projection=0), "'random_projection' parameter"),
        (skrep.EncodingRSA(compare_method="dcor"), "'compare_method' parameter of EncodingRSA"),
    ],
)
def test_bad_parameters(rng, model, match):
    X = rng.standard_normal((20, 3))
    with pytest.raises(InvalidParameterError, match=match):
        model.fit(X, X)


def test_bad_input(rng):
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    with pytest.raises(ValueError, match="X has 20 samples .* Y has 19"):
        skrep.EncodingRegression().fit(X, Y[:19])
    model = skrep.EncodingRegression().fit(X, Y)
    with pytest.raises(ValueError, match="X has 4 features, but EncodingRegression is expecting 3"):
        model.predict(rng.standard_normal((5, 4)))
    with pytest.raises(ValueError, match="requires y"):
        skrep.EncodingRegression().fit(X, None)


# -- review mends -------------------------------------------------------------------------------
@pytest.mark.parametrize("n, p", [(40, 200), (60, 50)])
def test_leave_one_out_with_an_intercept_matches_scikit_learn(rng, n, p):
    X = rng.standard_normal((n, p)) + 5.0
    Y = X @ rng.standard_normal((p, 3)) + 2.0 * rng.standard_normal((n, 3)) * [1, 30, 100] + 3.0
    alphas = np.logspace(-1, 5, 7)
    reference = RidgeCV(alphas=alphas, alpha_per_target=True).fit(X, Y)
    ours = skrep.EncodingRegression(alphas, scoring="neg_mse").fit(X, Y)
    np.testing.assert_allclose(ours.alpha_, reference.alpha_)


def test_float32_kernel_folds_with_offset_features(rng):
    X = rng.standard_normal((60, 400)) + 30.0
    Y = (X - 30.0)[:, :10] @ rng.standard_normal((10, 5)) + rng.standard_normal((60, 5))
    alphas = np.logspace(-1, 5, 7)
    exact = skrep.EncodingRegression(alphas, cv=5).fit(X, Y)
    single = skrep.EncodingRegression(alphas, cv=5).fit(X.astype(np.float32), Y.astype(np.float32))
    np.testing.assert_allclose(single.cv_scores_, exact.cv_scores_, atol=1e-3)


def test_predict_across_array_types(rng):
    torch = pytest.importorskip("torch")
    X, Y = rng.standard_normal((30, 5)), rng.standard_normal((30, 2))
    model = skrep.EncodingRegression().fit(X, Y)
    got = model.predict(torch.from_numpy(X).float())
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), model.predict(X), atol=1e-5)
    tensors = torch.from_numpy(X).float(), torch.from_numpy(Y).float()
    on_torch = skrep.EncodingRegression().fit(*tensors)
    np.testing.assert_allclose(on_torch.predict(X), model.predict(X), atol=1e-4)


def test_single_stimulus_folds_and_scores_are_errors(rng):
    X, Y = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    with pytest.raises(ValueError, match="test folds of 1 stimulus"):
        skrep.EncodingRegression(cv=LeaveOneOut()).fit(X, Y)
    model = skrep.EncodingRegression().fit(X, Y)
    with pytest.raises(ValueError, match="needs at least 2 stimuli"):
        model.score(X[:1], Y[:1])


def test_ridge_functions_name_bad_input(rng):
    from skrep.functional.ridge import score_predictions, select_alphas

    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    with pytest.raises(ValueError, match="X has 10 samples .* Y has 9"):
        ridge_cv_scores(X, Y[:9], [1.0], KFold(2).split(X))
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D sequence of positive"):
        ridge_loo_scores(X, Y, [0.0, 1.0])
    with pytest.raises(ValueError, match="alphas_per_target has 3 values but Y has 2 targets"):
        ridge_coefficients(X, Y, [1.0, 1.0, 1.0])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        ridge_coefficients(bad, Y, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"P has shape \(10, 3\)"):
        score_predictions(Y, X)
    with pytest.raises(InvalidParameterError, match="'scoring' parameter"):
        score_predictions(Y, Y, "mae")
    with pytest.raises(ValueError, match=r"scores has shape \(2, 2\)"):
        select_alphas(np.zeros((2, 2)), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("features", [12, 300], ids=["primal", "kernel"])
@pytest.mark.parametrize("scoring", ["neg_mse", "r2", "pearson"])
def test_stacked_alphas_score_as_one_alpha_at_a_time(rng, features, scoring):
    X = rng.standard_normal((90, features))
    Y = X[:, :5] @ rng.standard_normal((5, 7)) + rng.standard_normal((90, 7))
    splits = list(KFold(3).split(X))
    alphas = np.logspace(-2, 4, 5)
    together = ridge_cv_scores(X, Y, alphas, splits, scoring=scoring, fit_intercept=True)
    one_by_one = np.concatenate(
        [ridge_cv_scores(X, Y, [a], splits, scoring=scoring, fit_intercept=True) for a in alphas]
    )
    np.testing.assert_allclose(together, one_by_one, rtol=1e-10, atol=1e-12)


def test_kernel_eigendecomposition_returned_for_the_refit(rng):
    X = rng.standard_normal((60, 200)) + 2.0
    Y = rng.standard_normal((60, 4))
    splits = list(KFold(4).split(X))
    scores, (eigenvalues, U) = ridge_cv_scores(
        X, Y, [1.0, 10.0], splits, fit_intercept=True, return_kernel_eigh=True
    )
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(eigenvalues, np.linalg.eigvalsh(Xc @ Xc.T), atol=1e-8)
    alone = ridge_cv_scores(X, Y, [1.0, 10.0], splits, fit_intercept=True)
    np.testing.assert_allclose(scores, alone)
    alphas = np.array([1.0, 10.0, 10.0, 1.0])
    np.testing.assert_allclose(
        ridge_dual_coefficients(Xc, Y, alphas, kernel_eigh=(eigenvalues, U)),
        ridge_dual_coefficients(Xc, Y, alphas),
        atol=1e-10,
    )
    # Primal folds (more samples than features) have no kernel to return.
    _, nothing = ridge_cv_scores(X[:, :5], Y, [1.0], splits, return_kernel_eigh=True)
    assert nothing is None


def test_leave_one_out_returns_the_kernel_eigendecomposition_too(rng):
    X = rng.standard_normal((40, 120))
    Y = rng.standard_normal((40, 3))
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    scores, (eigenvalues, U) = ridge_loo_scores(
        Xc, Yc, [1.0, 100.0], intercept=True, return_kernel_eigh=True
    )
    np.testing.assert_allclose(scores, ridge_loo_scores(Xc, Yc, [1.0, 100.0], intercept=True))
    np.testing.assert_allclose((U * eigenvalues) @ U.T, Xc @ Xc.T, atol=1e-9)
    alphas = np.array([1.0, 100.0, 1.0])
    np.testing.assert_allclose(
        ridge_dual_coefficients(Xc, Yc, alphas, kernel_eigh=(eigenvalues, U)),
        ridge_dual_coefficients(Xc, Yc, alphas),
        atol=1e-10,
    )
    _, nothing = ridge_loo_scores(Xc[:, :5], Yc, [1.0], return_kernel_eigh=True)
    assert nothing is None  # primal form: no kernel


def test_kernel_eigh_of_the_wrong_size_is_named(rng):
    X, Y = rng.standard_normal((20, 50)), rng.standard_normal((20, 2))
    with pytest.raises(ValueError, match="kernel_eigh"):
        ridge_dual_coefficients(X, Y, [1.0, 1.0], kernel_eigh=(np.ones(19), np.eye(19)))
