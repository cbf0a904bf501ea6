"""Banded ridge (issue 23, item 5): himalaya's BandedRidgeCV, plain ridge, simulations."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from skrep.exceptions import InvalidParameterError
from skrep.functional.banded_ridge import (
    band_weight_candidates,
    banded_ridge_coefficients,
    banded_ridge_predict,
    fit_banded_ridge,
)
from skrep.functional.ridge import score_predictions
from skrep.metrics.banded import BandedEncodingRegression
from skrep.metrics.encoding import EncodingRegression

DATA = Path(__file__).parent / "data" / "himalaya_banded.npz"

# (himalaya case, data, fit_intercept, scoring, n_iter: "gammas" or an int)
CASES = [
    ("primal_r2", "primal", False, "r2", "gammas"),
    ("primal_neg_mse", "primal", True, "neg_mse", "gammas"),
    ("dirichlet", "primal", False, "r2", 15),
    ("kernel_r2", "kernel", True, "r2", "gammas"),
]


@pytest.fixture(scope="module")
def himalaya():
    with np.load(DATA, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def bands_of(labels):
    return [np.flatnonzero(labels == u) for u in np.unique(labels)]


def fitted(himalaya, case, data, fit_intercept, scoring, n_iter, **params):
    X, Y, labels = (himalaya[f"{data}__{k}"] for k in ("X", "Y", "labels"))
    model = BandedEncodingRegression(
        bands_of(labels),
        himalaya["alphas"],
        n_iter=himalaya["gammas"] if n_iter == "gammas" else n_iter,
        concentration=(0.1, 1.0),
        cv=5,
        scoring=scoring,
        fit_intercept=fit_intercept,
        random_state=7,
        **params,
    )
    return model.fit(X, Y)


@pytest.mark.parametrize("case, data, fit_intercept, scoring, n_iter", CASES)
def test_matches_himalaya_banded_ridge_cv(himalaya, case, data, fit_intercept, scoring, n_iter):
    model = fitted(himalaya, case, data, fit_intercept, scoring, n_iter)
    X_test, Y_test = himalaya[f"{data}__X_test"], himalaya[f"{data}__Y_test"]
    np.testing.assert_allclose(model.deltas_, himalaya[f"{case}__deltas"], rtol=1e-12)
    # himalaya's best_alphas_ is 1 / sum(exp(deltas_)): the chosen alpha up to rounding.
    np.testing.assert_allclose(model.alpha_, himalaya[f"{case}__best_alphas"], rtol=1e-14)
    assert set(model.alpha_) <= set(himalaya["alphas"])
    np.testing.assert_allclose(model.coef_, himalaya[f"{case}__coef"], atol=1e-11)
    np.testing.assert_allclose(model.predict(X_test), himalaya[f"{case}__predict"], atol=1e-11)
    # himalaya's cv_scores_ include its tie-break slope of 1e-10 ln(alpha).
    np.testing.assert_allclose(model.cv_scores_, himalaya[f"{case}__cv_scores"], atol=2e-9)
    r2 = score_predictions(Y_test, model.predict(X_test), "r2")
    np.testing.assert_allclose(r2, himalaya[f"{case}__score"], atol=1e-11)
    if scoring == "r2":
        np.testing.assert_allclose(model.score_targets(X_test, Y_test), r2, atol=1e-14)
        assert model.score(X_test, Y_test) == pytest.approx(r2.mean())
    if fit_intercept:
        np.testing.assert_allclose(model.intercept_, himalaya[f"{case}__intercept"], atol=1e-11)
    else:
        np.testing.assert_array_equal(model.intercept_, 0.0)
    # The chosen band weights are candidates, and the deltas their log over alpha.
    weights = np.exp(himalaya[f"{case}__deltas"]) * himalaya[f"{case}__best_alphas"]
    np.testing.assert_allclose(model.band_weights_, weights, rtol=1e-12)


def test_dirichlet_candidates_are_himalayas(himalaya):
    drawn = band_weight_candidates(3, 15, (0.1, 1.0), random_state=7)
    np.testing.assert_array_equal(drawn, himalaya["dirichlet__gammas"])
    model = fitted(himalaya, "dirichlet", "primal", False, "r2", 15)
    np.testing.assert_array_equal(model.candidate_weights_, drawn)
    # Rows alternate between the concentrations; the first weighs the bands equally.
    np.testing.assert_array_equal(drawn[0], 1 / 3)
    np.testing.assert_allclose(drawn.sum(axis=1), 1.0)
    equal = band_weight_candidates(4, 5, concentration=np.inf)
    np.testing.assert_array_equal(equal, 0.25)


@pytest.mark.parametrize("data, fit_intercept", [("primal", False), ("kernel", True)])
def test_target_chunks_do_not_change_the_fit(himalaya, data, fit_intercept):
    whole = fitted(himalaya, "", data, fit_intercept, "r2", 6)
    chunked = fitted(himalaya, "", data, fit_intercept, "r2", 6, target_chunk=2)
    np.testing.assert_array_equal(chunked.band_weights_, whole.band_weights_)
    np.testing.assert_array_equal(chunked.alpha_, whole.alpha_)
    np.testing.assert_allclose(chunked.cv_scores_, whole.cv_scores_, atol=1e-13)
    np.testing.assert_allclose(chunked.coef_, whole.coef_, atol=1e-12)


@pytest.mark.parametrize("p", [12, 90])  # primal and kernel forms
@pytest.mark.parametrize("bands", [None, [slice(None)]])
def test_one_band_is_plain_encoding_regression(rng, p, bands):
    X = rng.standard_normal((70, p)) + 1.0
    Y = X[:, :5] @ rng.standard_normal((5, 4)) + 2.0 * rng.standard_normal((70, 4)) - 3.0
    alphas = np.logspace(-1, 4, 6)
    banded = BandedEncodingRegression(bands, alphas, n_iter=3, fit_intercept=True).fit(X, Y)
    plain = EncodingRegression(alphas, cv=5, scoring="r2", fit_intercept=True).fit(X, Y)
    np.testing.assert_array_equal(banded.alpha_, plain.alpha_)
    np.testing.assert_array_equal(banded.band_weights_, 1.0)
    np.testing.assert_allclose(banded.coef_, plain.coef_, atol=1e-10)
    np.testing.assert_allclose(banded.intercept_, plain.intercept_, atol=1e-10)
    np.testing.assert_allclose(banded.predict(X[:9]), plain.predict(X[:9]), atol=1e-10)
    # One candidate weighting (three times the same): its scores are the best alpha's.
    np.testing.assert_allclose(banded.cv_scores_, np.tile(plain.cv_scores_.max(axis=0), (3, 1)))


def three_bands(rng, n=120, sizes=(8, 10, 12)):
    X = rng.standard_normal((n, sum(sizes)))
    edges = np.cumsum((0,) + sizes)
    return X, [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def test_the_band_that_drives_the_targets_takes_the_weight(rng):
    X, bands = three_bands(rng)
    Y = X[:, bands[1]] @ rng.standard_normal((10, 8)) + 0.5 * rng.standard_normal((120, 8))
    model = BandedEncodingRegression(bands, np.logspace(-2, 4, 7), n_iter=40, random_state=0)
    model.fit(X, Y)
    assert np.median(model.band_weights_[1]) > 0.95
    assert np.all(model.band_weights_[1] > 0.8)
    np.testing.assert_allclose(model.band_weights_.sum(axis=0), 1.0)
    # Explicit one-hot candidates (zero weights, which himalaya's BandedRidgeCV turns into
    # NaN): band 1 alone wins, and the other bands get exactly zero weights.
    one_hot = BandedEncodingRegression(bands, np.logspace(-2, 4, 7), n_iter=np.eye(3)).fit(X, Y)
    np.testing.assert_array_equal(one_hot.band_weights_, np.eye(3)[:, [1] * 8])
    assert np.all(one_hot.coef_[bands[0]] == 0) and np.all(one_hot.coef_[bands[2]] == 0)
    assert np.all(np.isneginf(one_hot.deltas_[[0, 2]]))
    single = EncodingRegression(np.logspace(-2, 4, 7), cv=5, scoring="r2", fit_intercept=False)
    single.fit(X[:, bands[1]], Y)
    np.testing.assert_allclose(one_hot.coef_[bands[1]], single.coef_, atol=1e-10)


def test_bands_in_any_column_order_and_unused_columns(rng):
    X, _ = three_bands(rng)
    Y = X[:, :6] @ rng.standard_normal((6, 3)) + rng.standard_normal((120, 3))
    order = rng.permutation(30)
    bands = [order[:8], order[8:18], order[18:26]]  # 4 columns in no band
    model = BandedEncodingRegression(bands, [0.1, 10.0], n_iter=8, random_state=1).fit(X, Y)
    # The same problem with the columns of the bands moved side by side.
    moved = BandedEncodingRegression(
        [slice(0, 8), slice(8, 18), slice(18, 26)], [0.1, 10.0], n_iter=8, random_state=1
    ).fit(X[:, order[:26]], Y)
    np.testing.assert_array_equal(model.band_weights_, moved.band_weights_)
    np.testing.assert_allclose(model.coef_[order[:26]], moved.coef_, atol=1e-12)
    np.testing.assert_array_equal(model.coef_[order[26:]], 0.0)
    changed = X.copy()
    changed[:, order[26:]] = 1e3
    np.testing.assert_allclose(model.predict(changed), model.predict(X), atol=1e-12)
    assert [b.tolist() for b in model.bands_] == [b.tolist() for b in bands]
    assert np.allclose(X @ model.coef_ + model.intercept_, model.predict(X))
    # Boolean masks name the same bands.
    masks = [np.isin(np.arange(30), b) for b in bands]
    by_mask = BandedEncodingRegression(masks, [0.1, 10.0], n_iter=8, random_state=1).fit(X, Y)
    np.testing.assert_array_equal(by_mask.band_weights_.shape, model.band_weights_.shape)


def test_rescaled_data_give_the_same_model(rng):
    X, bands = three_bands(rng, n=60, sizes=(20, 30, 40))  # kernel form
    Y = X[:, :12] @ rng.standard_normal((12, 3)) + rng.standard_normal((60, 3))
    alphas = np.logspace(-1, 3, 5)
    model = fit_banded_ridge(X, Y, bands, alphas, n_iter=6, random_state=0)
    # X'X beyond 1e300 and responses near 1e-100: exact rescaling, then the same problem.
    scale = 2.0**500
    big = fit_banded_ridge(
        X * scale, Y * 1e-100, bands, alphas * scale**2, n_iter=6, random_state=0
    )
    np.testing.assert_array_equal(big.band_weights, model.band_weights)
    np.testing.assert_allclose(big.alpha, model.alpha * scale**2)
    np.testing.assert_allclose(big.cv_scores, model.cv_scores, atol=1e-12)
    prediction = banded_ridge_predict(big, X[:5] * scale)
    np.testing.assert_allclose(prediction * 1e100, banded_ridge_predict(model, X[:5]), rtol=1e-9)
    np.testing.assert_allclose(
        banded_ridge_coefficients(big) * scale * 1e100, banded_ridge_coefficients(model), rtol=1e-9
    )


def test_one_target_and_keyword_y(rng):
    X, bands = three_bands(rng)
    y = X[:, 0] - X[:, 20] + 0.1 * rng.standard_normal(120)
    model = BandedEncodingRegression(bands, [0.1, 1.0], n_iter=5, random_state=0).fit(X, y=y)
    assert model.predict(X).shape == (120,)
    assert model.band_weights_.shape == (3, 1)
    assert model.score(X, y=y) == pytest.approx(
        float(score_predictions(y[:, None], model.predict(X)[:, None], "r2")[0])
    )


def test_torch_tensors_in_and_out(rng):
    torch = pytest.importorskip("torch")
    X, bands = three_bands(rng)
    Y = X[:, :4] @ rng.standard_normal((4, 2))
    model = BandedEncodingRegression(bands, [1.0], n_iter=3, random_state=0)
    model.fit(torch.from_numpy(X), torch.from_numpy(Y))
    prediction = model.predict(torch.from_numpy(X))
    assert isinstance(prediction, torch.Tensor)
    reference = clone(model).fit(X, Y).predict(X)
    np.testing.assert_allclose(prediction.numpy(), reference)


def test_clone_grid_search_and_cross_validate(rng):
    X, bands = three_bands(rng)
    Y = X[:, bands[2]] @ rng.standard_normal((12, 3)) + rng.standard_normal((120, 3))
    model = BandedEncodingRegression(bands, [0.1, 1.0], n_iter=np.eye(3), cv=KFold(4))
    copy = clone(model)
    assert copy.get_params()["bands"] is not None and copy.get_params()["cv"].n_splits == 4
    search = GridSearchCV(model, {"alphas": [[1e4], [0.1, 1.0, 10.0]]}, cv=3).fit(X, Y)
    assert search.best_params_["alphas"] == [0.1, 1.0, 10.0]  # the strong penalty underfits
    np.testing.assert_array_equal(search.best_estimator_.band_weights_, np.eye(3)[:, [2] * 3])
    scores = cross_validate(model, X, Y, cv=3)["test_score"]
    expected = [
        clone(model).fit(X[train], Y[train]).score(X[test], Y[test])
        for train, test in KFold(3).split(X)
    ]
    np.testing.assert_allclose(scores, expected)
    pearson = clone(model).set_params(scoring="pearson").fit(X, Y)
    r = [np.corrcoef(pearson.predict(X)[:, t], Y[:, t])[0, 1] for t in range(3)]
    np.testing.assert_allclose(pearson.score_targets(X, Y), r)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bands": [slice(0, 5), [5, 40]]}, r"bands\[1\] holds column index 40, outside the 30"),
        ({"bands": [slice(0, 5), slice(30, 40)]}, r"bands\[1\] .* selects no column"),
        ({"bands": [slice(0, 5), []]}, r"bands\[1\] .* selects no column"),
        ({"bands": [slice(0, 6), [5, 6]]}, r"Column 5 of X is in bands\[0\] and in bands\[1\]"),
        ({"bands": [[1, 1, 2]]}, r"bands\[0\] lists a column more than once"),
        ({"bands": [[0.5, 2.0]]}, r"bands\[0\] holds values of dtype float64"),
        ({"bands": [np.ones(4, bool)]}, r"boolean mask of length 4; X has 30 columns"),
        ({"bands": []}, "bands is empty"),
        ({"bands": slice(0, 3)}, "bands must be a list of bands"),
        ({"bands": ["abc"]}, r"bands\[0\] is 'abc'"),
        ({"concentration": 0.0}, "concentration must be a positive number"),
        ({"concentration": [1.0, -1.0]}, "concentration must be a positive number"),
        ({"concentration": []}, "concentration must be a positive number"),
        ({"concentration": np.nan}, "concentration must be a positive number"),
        ({"n_iter": 0}, "n_iter must be an int >= 1"),
        ({"n_iter": True}, "n_iter must be an int >= 1"),
        ({"n_iter": np.ones((4, 2))}, r"shape \(n_candidates, 3\)"),
        ({"n_iter": -np.eye(3)}, "finite and non-negative"),
        ({"n_iter": np.zeros((2, 3))}, "Candidate 0 of the band weights"),
        ({"alphas": [1.0, 0.0]}, "'alphas' parameter of BandedEncodingRegression"),
        ({"scoring": "accuracy"}, "'scoring' parameter of BandedEncodingRegression"),
        ({"fit_intercept": "yes"}, "'fit_intercept' parameter"),
        ({"target_chunk": 0}, "'target_chunk' parameter"),
        ({"cv": 1}, r"cv=1 folds for 40 samples"),
        ({"cv": [(np.arange(39), np.array([39]))]}, "1 test samples; expected at least 1 and 2"),
        ({"cv": "five"}, "cv must be an int, a cross-validation splitter"),
    ],
)
def test_named_errors(rng, params, match):
    X = rng.standard_normal((40, 30))
    Y = rng.standard_normal((40, 2))
    settings = {"bands": [slice(0, 10), slice(10, 20), slice(20, 30)], "n_iter": 3, **params}
    model = BandedEncodingRegression(**settings)
    with pytest.raises((ValueError, InvalidParameterError), match=match):
        model.fit(X, Y)
    assert not hasattr(model, "alpha_")  # a failed fit leaves the estimator unfitted


def test_input_errors(rng):
    X, bands = three_bands(rng)
    model = BandedEncodingRegression(bands, n_iter=2)
    with pytest.raises(ValueError, match="requires y to be passed"):
        model.fit(X, None)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.where(X > 2, np.nan, X), X[:, :2])
    model.fit(X, X[:, :2])
    with pytest.raises(ValueError, match="30 features"):
        model.predict(X[:, :20])
    with pytest.raises(ValueError, match="at least 2 stimuli"):
        model.score(X[:1], X[:1, :2])
    refit = model.fit(X, X[:, :2])
    assert refit is model and hasattr(model, "alpha_")


TWO_BANDS = BandedEncodingRegression([[0], [1]], n_iter=3, cv=3, fit_intercept=True)


@parametrize_with_checks(
    [BandedEncodingRegression(n_iter=3, cv=3), TWO_BANDS],
    expected_failed_checks=lambda estimator: (
        {"check_fit2d_1feature": "bands [[0], [1]] name a second column, which 1-column X lacks"}
        if estimator is TWO_BANDS
        else {}
    ),
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
