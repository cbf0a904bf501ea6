"""Brain-Score-style neural predictivity: per-neuroid r, split-half ceilings, PLSPredictivity.

Every expected number is computed independently here, with scikit-learn's
PLSRegression, np.corrcoef and np.median, or from a closed form.
"""

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, cross_val_score

from skrep.exceptions import InvalidParameterError
from skrep.functional import neuroid_correlations, split_half_ceiling
from skrep.metrics import PLSPredictivity


def _column_r(A, B):
    return np.array([np.corrcoef(A[:, j], B[:, j])[0, 1] for j in range(A.shape[1])])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 12))
    W = rng.standard_normal((12, 5))
    Y = X @ W + rng.standard_normal((80, 5)) * np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    return X, Y


# -- neuroid_correlations -------------------------------------------------------------


def test_neuroid_correlations_match_corrcoef(data):
    X, Y = data
    P = X[:, :5] + 0.3 * Y
    np.testing.assert_allclose(neuroid_correlations(P, Y), _column_r(P, Y), atol=1e-12)


def test_neuroid_correlations_sign_and_scale():
    Y = np.array([[1.0, 4.0], [2.0, 1.0], [4.0, 0.0]])
    np.testing.assert_allclose(neuroid_correlations(-3 * Y + 7, Y), [-1.0, -1.0])


@pytest.mark.parametrize("name", ["Y_pred", "Y"])
def test_neuroid_correlations_constant_column_is_an_error(name):
    Y = np.arange(12.0).reshape(4, 3)
    C = Y.copy()
    C[:, 2] = 0.1  # constant (a mean of 0.1s is not exactly 0.1)
    args = (C, Y) if name == "Y_pred" else (Y, C)
    with pytest.raises(ValueError, match=rf"{name} has a constant column 2"):
        neuroid_correlations(*args)


def test_neuroid_correlations_bad_inputs():
    Y = np.arange(12.0).reshape(4, 3)
    with pytest.raises(ValueError, match=r"Y_pred has shape \(4, 2\) but Y has shape \(4, 3\)"):
        neuroid_correlations(Y[:, :2], Y)
    with pytest.raises(ValueError, match="Y_pred must be a 2-D array"):
        neuroid_correlations(Y[:, 0], Y)
    with pytest.raises(ValueError, match="Y_pred has 1 sample"):
        neuroid_correlations(Y[:1], Y[:1])
    bad = Y.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Y contains 1 NaN"):
        neuroid_correlations(Y, bad)


# -- split_half_ceiling ---------------------------------------------------------------


def _direct_ceiling(trials, n_splits, seed):
    rng = np.random.default_rng(seed)
    n = trials.shape[0]
    rs = []
    for _ in range(n_splits):
        order = rng.permutation(n)
        a = trials[order[: n // 2]].mean(axis=0)
        b = trials[order[n // 2 : 2 * (n // 2)]].mean(axis=0)
        rs.append(_column_r(a, b))
    r = np.mean(rs, axis=0)
    k = n / (n // 2)  # Spearman-Brown from a half's trials to all n
    return k * r / (1 + (k - 1) * r)


@pytest.mark.parametrize("n_trials", [2, 5, 6])
def test_split_half_ceiling_matches_a_direct_loop(n_trials):
    rng = np.random.default_rng(1)
    trials = rng.standard_normal((1, 30, 4)) + rng.standard_normal((n_trials, 30, 4))
    expected = _direct_ceiling(trials, 7, seed=3)
    np.testing.assert_allclose(
        split_half_ceiling(trials, n_splits=7, random_state=3), expected, rtol=1e-12
    )


def test_split_half_ceiling_of_identical_trials_is_one():
    signal = np.random.default_rng(2).standard_normal((15, 6))
    np.testing.assert_allclose(split_half_ceiling(np.stack([signal] * 3)), 1.0)


@pytest.mark.parametrize(("n_trials", "expected"), [(8, 2 / 3), (5, 5 / 9)])
def test_split_half_ceiling_of_signal_plus_noise(n_trials, expected):
    # Signal variance 1, noise variance 4: the mean of m trials has reliability
    # 1 / (1 + 4 / m); halves of n // 2 trials, corrected to all n trials.
    rng = np.random.default_rng(3)
    signal = rng.standard_normal((4000, 3))
    trials = signal + 2.0 * rng.standard_normal((n_trials, 4000, 3))
    assert expected == pytest.approx(1 / (1 + 4 / n_trials))
    np.testing.assert_allclose(split_half_ceiling(trials, random_state=0), expected, atol=0.03)


def test_split_half_ceiling_random_state():
    trials = np.random.default_rng(4).standard_normal((6, 20, 2))
    first = split_half_ceiling(trials, random_state=5)
    np.testing.assert_array_equal(first, split_half_ceiling(trials, random_state=5))
    generator = np.random.default_rng(5)
    np.testing.assert_array_equal(first, split_half_ceiling(trials, random_state=generator))


def test_split_half_ceiling_bad_inputs():
    trials = np.random.default_rng(5).standard_normal((4, 10, 3))
    with pytest.raises(ValueError, match="trials has 1 trial"):
        split_half_ceiling(trials[:1])
    with pytest.raises(ValueError, match="trials must be a 3-D array"):
        split_half_ceiling(trials[0])
    with pytest.raises(ValueError, match="trials has 1 stimulus"):
        split_half_ceiling(trials[:, :1])
    with pytest.raises(InvalidParameterError, match="'n_splits'"):
        split_half_ceiling(trials, n_splits=0)
    bad = trials.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="trials contains 0 NaN and 1 infinite"):
        split_half_ceiling(bad)
    flat = trials.copy()
    flat[:, :, 1] = 2.0
    with pytest.raises(ValueError, match="neuroid 1 is constant"):
        split_half_ceiling(flat)


# -- PLSPredictivity ------------------------------------------------------------------


def _direct_r(X_train, Y_train, X_test, Y_test, n_components):
    pls = PLSRegression(n_components=n_components, scale=False).fit(X_train, Y_train)
    return _column_r(pls.predict(X_test), Y_test)


def test_pls_predictivity_is_the_median_held_out_r(data):
    X, Y = data
    model = PLSPredictivity(n_components=4).fit(X[:60], Y[:60])
    r = _direct_r(X[:60], Y[:60], X[60:], Y[60:], 4)
    assert model.n_components_ == 4
    np.testing.assert_allclose(model.neuroid_scores(X[60:], Y[60:]), r, atol=1e-10)
    assert model.score(X[60:], Y[60:]) == pytest.approx(np.median(r), abs=1e-10)


@pytest.mark.parametrize(("n_samples", "n_features", "cap"), [(40, 6, 6), (5, 8, 4), (30, 12, 12)])
def test_pls_predictivity_caps_the_components(n_samples, n_features, cap):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((n_samples, n_features))
    Y = X[:, :2] + rng.standard_normal((n_samples, 2))
    model = PLSPredictivity().fit(X, Y)  # 25 components asked
    assert model.n_components_ == cap
    direct = PLSRegression(n_components=cap, scale=False).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), direct.predict(X), atol=1e-10)


def test_pls_predictivity_ceiled_score(data):
    X, Y = data
    ceiling = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    r = _direct_r(X[:60], Y[:60], X[60:], Y[60:], 3)
    model = PLSPredictivity(n_components=3, ceiling=ceiling).fit(X[:60], Y[:60])
    assert model.score(X[60:], Y[60:]) == pytest.approx(np.median(r**2 / ceiling), abs=1e-10)
    model.set_params(ceiling=0.5)
    assert model.score(X[60:], Y[60:]) == pytest.approx(np.median(r**2 / 0.5), abs=1e-10)
    # the raw per-neuroid r keep their sign and ignore the ceiling
    np.testing.assert_allclose(model.neuroid_scores(X[60:], Y[60:]), r, atol=1e-10)


def test_pls_predictivity_with_split_half_ceiling():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((120, 10))
    signal = X @ rng.standard_normal((10, 4))
    trials = signal + 3.0 * rng.standard_normal((6, 120, 4))
    Y = trials.mean(axis=0)
    ceiling = split_half_ceiling(trials[:, :80], random_state=0)
    model = PLSPredictivity(n_components=10, ceiling=ceiling).fit(X[:80], Y[:80])
    r = _direct_r(X[:80], Y[:80], X[80:], Y[80:], 10)
    score = model.score(X[80:], Y[80:])
    assert score == pytest.approx(np.median(r**2 / ceiling), abs=1e-10)
    assert 0.7 < score < 1.3  # a correct linear model explains about what is explainable


def test_pls_predictivity_one_neuroid(data):
    X, Y = data
    model = PLSPredictivity(n_components=2).fit(X[:60], Y[:60, 0])
    assert model.predict(X[60:]).shape == (20,)
    r = _direct_r(X[:60], Y[:60, :1], X[60:], Y[60:, :1], 2)
    assert model.score(X[60:], Y[60:, 0]) == pytest.approx(r[0], abs=1e-10)


def test_pls_predictivity_in_cross_validation(data):
    X, Y = data
    scores = cross_val_score(PLSPredictivity(n_components=3), X, Y, cv=4)
    expected = [
        np.median(_direct_r(X[train], Y[train], X[test], Y[test], 3))
        for train, test in KFold(4).split(X)
    ]
    np.testing.assert_allclose(scores, expected, atol=1e-10)


def test_pls_predictivity_bad_inputs(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"'ceiling' parameter .* shape \(3,\) but Y has 5"):
        PLSPredictivity(ceiling=[0.5, 0.5, 0.5]).fit(X, Y)
    with pytest.raises(InvalidParameterError, match=r"'ceiling' .* got -0\.1 for neuroid 2"):
        PLSPredictivity(ceiling=[0.5, 0.5, -0.1, 0.5, 0.5]).fit(X, Y)
    with pytest.raises(InvalidParameterError, match="'n_components'"):
        PLSPredictivity(n_components=0).fit(X, Y)
    model = PLSPredictivity(n_components=2).fit(X, Y)
    with pytest.raises(ValueError, match="Y has 4 features, but PLSPredictivity is expecting 5"):
        model.score(X, Y[:, :4])
    with pytest.raises(ValueError, match="X has 80 samples .* but Y has 79"):
        model.score(X, Y[:79])
    flat = Y.copy()
    flat[:, 3] = 1.0
    with pytest.raises(ValueError, match="Y has a constant column 3"):
        model.score(X, flat)
    with pytest.raises(ValueError, match="requires y to be passed"):
        PLSPredictivity().fit(X, None)
    # a neuroid constant on the training stimuli is predicted by a constant
    model = PLSPredictivity(n_components=2).fit(X, flat)
    with pytest.raises(ValueError, match="predictions from X .* Y_pred has a constant column 3"):
        model.score(X, Y)


def test_inner_cv_scores_are_held_out_fold_scores():
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import KFold

    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 6))
    Y = X[:, :2] @ rng.standard_normal((2, 4)) + 0.5 * rng.standard_normal((50, 4))
    model = PLSPredictivity(n_components=3, cv=5).fit(X, Y)
    expected = []
    for train, test in KFold(5).split(X):
        prediction = PLSRegression(3, scale=False).fit(X[train], Y[train]).predict(X[test])
        r = [np.corrcoef(prediction[:, j], Y[test, j])[0, 1] for j in range(4)]
        expected.append(np.median(r))
    np.testing.assert_allclose(model.cv_scores_, [expected], rtol=1e-10)
    # the score itself is unchanged by the inner cross-validation
    plain = PLSPredictivity(n_components=3).fit(X, Y)
    assert not hasattr(plain, "cv_scores_")
    assert model.score(X, Y) == pytest.approx(plain.score(X, Y), rel=1e-12)


@pytest.mark.parametrize("n_trials", [3, 5])
def test_split_half_ceiling_with_an_odd_number_of_trials(n_trials):
    # signal variance 1, noise variance 2.25 per trial: the mean of n trials has
    # reliability 1 / (1 + 2.25 / n) (the squared correlation of the mean with the signal)
    rng = np.random.default_rng(0)
    signal = rng.standard_normal((4000, 3))
    trials = np.stack([signal + 1.5 * rng.standard_normal((4000, 3)) for _ in range(n_trials)])
    expected = 1 / (1 + 2.25 / n_trials)
    got = split_half_ceiling(trials, n_splits=20, random_state=0)
    np.testing.assert_allclose(got, expected, atol=0.03)
    # the formula itself, from the mean split-half r of the same halvings
    r = 0.0
    order_rng = np.random.default_rng(0)
    half = n_trials // 2
    for _ in range(20):
        order = order_rng.permutation(n_trials)
        a, b = trials[order[:half]].mean(0), trials[order[half : 2 * half]].mean(0)
        r = r + np.array([np.corrcoef(a[:, j], b[:, j])[0, 1] for j in range(3)])
    r = r / 20
    k = n_trials / half
    np.testing.assert_allclose(got, k * r / (1 + (k - 1) * r), rtol=1e-10)


def test_dead_units_do_not_count_as_components():
    rng = np.random.default_rng(0)
    X = np.zeros((50, 100))
    X[:, :2] = rng.standard_normal((50, 2))  # 98 dead units
    Y = X[:, :1] + 0.1 * rng.standard_normal((50, 3))
    model = PLSPredictivity().fit(X, Y)
    assert model.n_components_ == 2
    direct = PLSRegression(2, scale=False).fit(X[:, :2], Y).predict(X[:, :2])
    r = [np.corrcoef(direct[:, j], Y[:, j])[0, 1] for j in range(3)]
    assert model.score(X, Y) == pytest.approx(np.median(r), rel=1e-10)
    with pytest.raises(ValueError, match="all constant"):
        PLSPredictivity().fit(np.ones((20, 5)), Y[:20])


@pytest.mark.parametrize("transform", ["1e-5", "1e5", "float32+1e3"])
def test_predictivity_is_invariant_to_scale_and_offset(transform):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    Y = X[:, :3] @ rng.standard_normal((3, 4)) + 0.5 * rng.standard_normal((60, 4))
    base = PLSPredictivity(n_components=5).fit(X[:40], Y[:40]).score(X[40:], Y[40:])
    Z = {"1e-5": 1e-5 * X, "1e5": 1e5 * X, "float32+1e3": (X + 1e3).astype(np.float32)}[transform]
    got = PLSPredictivity(n_components=5).fit(Z[:40], Y[:40]).score(Z[40:], Y[40:])
    assert got == pytest.approx(base, abs=1e-5)
