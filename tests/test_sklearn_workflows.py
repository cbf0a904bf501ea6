"""LinearMetric inside scikit-learn's model selection tools.

Every number is checked against a hand-written loop over the same folds: the
tools must split X and Y together, fit on training rows only, and (for
GridSearchCV without ``scoring``) pick the smallest held-out distance.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrep.metrics import LinearMetric, PermutationMetric

ALPHAS = [0.0, 0.25, 0.5, 0.75, 1.0]


@pytest.fixture
def related_pair(rng):
    """Two noisy views of a shared 3-D latent, with different widths and scales."""
    latent = rng.standard_normal((120, 3))
    X = latent @ rng.standard_normal((3, 8)) + 0.3 * rng.standard_normal((120, 8))
    Y = 5.0 * latent @ rng.standard_normal((3, 6)) + 0.5 * rng.standard_normal((120, 6)) + 2.0
    return X, Y


def heldout_distances(make_metric, X, Y, cv, prepare=None):
    """Distances on each test fold, by hand."""
    out = []
    for train, test in cv.split(X):
        Xtr, Ytr, Xte, Yte = X[train], Y[train], X[test], Y[test]
        if prepare is not None:
            px, py = clone(prepare).fit(Xtr), clone(prepare).fit(Ytr)
            Xtr, Xte, Ytr, Yte = (
                px.transform(Xtr),
                px.transform(Xte),
                py.transform(Ytr),
                py.transform(Yte),
            )
        metric = make_metric().fit(Xtr, Ytr)
        out.append(metric.distance(Xte, Yte))
    return np.array(out)


def test_cross_validate_splits_both_sides(related_pair):
    X, Y = related_pair
    result = cross_validate(LinearMetric(), X, Y, cv=5, return_train_score=True)
    expected = heldout_distances(LinearMetric, X, Y, KFold(5))
    np.testing.assert_allclose(-result["test_score"], expected, rtol=1e-12)
    assert np.all(result["train_score"] <= 0)


def test_grid_search_over_alpha_picks_smallest_heldout_distance(related_pair):
    X, Y = related_pair
    search = GridSearchCV(LinearMetric(), {"alpha": ALPHAS}).fit(X, Y)
    mean_distance = {
        alpha: heldout_distances(lambda a=alpha: LinearMetric(alpha=a), X, Y, KFold(5)).mean()
        for alpha in ALPHAS
    }
    best = min(mean_distance, key=mean_distance.get)
    # the choice is not a tie, so the test can tell a wrong sign from a right one
    gaps = sorted(mean_distance.values())
    assert gaps[1] - gaps[0] > 1e-3
    assert search.best_params_ == {"alpha": best}
    assert np.isclose(search.best_score_, -mean_distance[best], rtol=1e-12)
    worst = max(mean_distance, key=mean_distance.get)
    assert worst != best
    # refit on all data with the chosen alpha
    assert search.best_estimator_.alpha == best
    assert np.isclose(
        search.best_estimator_.distance(X, Y), LinearMetric(alpha=best).fit(X, Y).distance(X, Y)
    )


def test_preprocessor_is_fitted_per_side_inside_cross_validation(related_pair):
    X, Y = related_pair
    prep = make_pipeline(StandardScaler(), PCA(n_components=3))
    result = cross_validate(LinearMetric(alpha=0.5, preprocessor=prep), X, Y, cv=5)
    expected = heldout_distances(lambda: LinearMetric(alpha=0.5), X, Y, KFold(5), prepare=prep)
    np.testing.assert_allclose(-result["test_score"], expected, rtol=1e-10)

    fitted = LinearMetric(preprocessor=prep).fit(X, Y)
    assert fitted.preprocessor_x_ is not fitted.preprocessor_y_
    assert fitted.preprocessor_x_[0].n_features_in_ == 8
    assert fitted.preprocessor_y_[0].n_features_in_ == 6
    assert fitted.preprocessor is prep  # the parameter itself is untouched
    assert not hasattr(prep[0], "mean_")


def test_grid_search_over_preprocessing_and_alpha(related_pair):
    X, Y = related_pair
    metric = LinearMetric(preprocessor=make_pipeline(StandardScaler(), PCA()))
    grid = {"preprocessor__pca__n_components": [1, 3, 6], "alpha": [0.0, 1.0]}
    search = GridSearchCV(metric, grid, cv=KFold(4)).fit(X, Y)
    candidates = {}
    for k in grid["preprocessor__pca__n_components"]:
        for alpha in grid["alpha"]:
            prep = make_pipeline(StandardScaler(), PCA(n_components=k))
            candidates[(k, alpha)] = heldout_distances(
                lambda a=alpha: LinearMetric(alpha=a), X, Y, KFold(4), prepare=prep
            ).mean()
    k_best, alpha_best = min(candidates, key=candidates.get)
    assert search.best_params_ == {"preprocessor__pca__n_components": k_best, "alpha": alpha_best}
    assert search.best_estimator_.preprocessor_x_[-1].n_components_ == k_best


def test_pipeline_preprocesses_x_only(related_pair):
    X, Y = related_pair
    pipe = make_pipeline(StandardScaler(), LinearMetric(alpha=0.0))
    result = cross_validate(pipe, X, Y, cv=3)
    expected = []
    for train, test in KFold(3).split(X):
        scaler = StandardScaler().fit(X[train])
        metric = LinearMetric(alpha=0.0).fit(scaler.transform(X[train]), Y[train])
        expected.append(-metric.distance(scaler.transform(X[test]), Y[test]))
    np.testing.assert_allclose(result["test_score"], expected, rtol=1e-10)


@pytest.mark.parametrize("metric", [LinearMetric(alpha=0.5), PermutationMetric()])
def test_clone_and_pickle_roundtrip(metric, related_pair):
    X, Y = related_pair
    fitted = clone(metric).fit(X, Y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.distance(X, Y) == fitted.distance(X, Y)
    assert clone(fitted).get_params() == metric.get_params()
    assert not hasattr(clone(fitted), "mx_")


def test_transform_x_alone_equals_first_of_pair(related_pair):
    X, Y = related_pair
    metric = LinearMetric(alpha=0.5).fit(X, Y)
    tX, tY = metric.transform(X, Y)
    np.testing.assert_array_equal(metric.transform(X), tX)
    fX, fY = LinearMetric(alpha=0.5).fit_transform(X, Y)
    np.testing.assert_allclose(fX, tX, rtol=1e-12, atol=1e-12)
    assert metric.fit_score(X, Y) == -metric.distance(X, Y)


def test_pandas_feature_names(related_pair):
    pd = pytest.importorskip("pandas")
    X, Y = related_pair
    frame = pd.DataFrame(X, columns=[f"unit{k}" for k in range(X.shape[1])])
    metric = LinearMetric().fit(frame, Y)
    assert list(metric.feature_names_in_) == list(frame.columns)
    assert np.isclose(
        metric.distance(frame, Y), LinearMetric().fit(X, Y).distance(X, Y), rtol=1e-12
    )
