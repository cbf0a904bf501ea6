"""LinearProbe: logistic-regression probing accuracy, with an inner stratified cross-validation.

Every expected number comes from scikit-learn's own pipeline, fitted here.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skrep
from skrep.exceptions import InvalidParameterError
from skrep.metrics import LinearProbe


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.repeat([0, 1, 2], 30))
    X = rng.standard_normal((90, 15)) + 1.2 * np.eye(15)[labels] * 3
    return X, labels


def test_accuracy_matches_sklearn_pipeline(data):
    X, labels = data
    probe = LinearProbe().fit(X[:60], labels[:60])
    direct = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    direct.fit(X[:60], labels[:60])
    assert probe.score(X[60:], labels[60:]) == direct.score(X[60:], labels[60:])
    np.testing.assert_array_equal(probe.predict(X[60:]), direct.predict(X[60:]))
    np.testing.assert_allclose(probe.predict_proba(X[60:]), direct.predict_proba(X[60:]))
    np.testing.assert_array_equal(probe.classes_, [0, 1, 2])


def test_without_standardisation_and_other_c(data):
    X, labels = data
    probe = LinearProbe(C=0.05, standardize=False, max_iter=500).fit(X[:60], labels[:60])
    direct = LogisticRegression(C=0.05, max_iter=500).fit(X[:60], labels[:60])
    assert probe.score(X[60:], labels[60:]) == direct.score(X[60:], labels[60:])
    np.testing.assert_allclose(probe.predict_proba(X), direct.predict_proba(X))


def test_cv_scores_are_the_inner_stratified_accuracies(data):
    X, labels = data
    probe = LinearProbe(cv=4).fit(X, labels)
    expected = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        .fit(X[train], labels[train])
        .score(X[test], labels[test])
        for train, test in StratifiedKFold(4).split(X, labels)
    ]
    assert probe.cv_scores_.shape == (1, 4)
    np.testing.assert_allclose(probe.cv_scores_[0], expected)
    # what benchmark_layers reads as the selection score: the mean inner accuracy
    assert np.mean(np.max(probe.cv_scores_, axis=0)) == pytest.approx(np.mean(expected))


def test_folds_shrink_to_the_smallest_class(data):
    X, labels = data
    keep = np.concatenate([np.flatnonzero(labels != 2), np.flatnonzero(labels == 2)[:3]])
    probe = LinearProbe().fit(X[keep], labels[keep])
    assert probe.cv_scores_.shape == (1, 3)
    single = np.concatenate([np.flatnonzero(labels != 2), np.flatnonzero(labels == 2)[:1]])
    with pytest.raises(ValueError, match=r"y: class np.int64\(2\) has a single .* cv=None"):
        LinearProbe().fit(X[single], labels[single])
    probe = LinearProbe(cv=None).fit(X[single], labels[single])
    assert not hasattr(probe, "cv_scores_")


def test_label_forms(data):
    X, labels = data
    reference = LinearProbe().fit(X[:60], labels[:60])
    column = LinearProbe().fit(X[:60], labels[:60, None].astype(float))
    np.testing.assert_array_equal(column.predict(X[60:]), reference.predict(X[60:]))
    assert column.score(X[60:], labels[60:, None].astype(float)) == reference.score(
        X[60:], labels[60:]
    )
    words = np.array(["cat", "dog", "car"])
    named = LinearProbe().fit(X[:60], words[labels[:60]])
    np.testing.assert_array_equal(named.predict(X[60:]), words[reference.predict(X[60:])])
    np.testing.assert_allclose(named.cv_scores_, reference.cv_scores_)


def test_wide_noise_layer_fits_the_training_stimuli_but_not_held_out_ones():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 20)
    noise = rng.standard_normal((40, 200))
    probe = LinearProbe().fit(noise, labels)
    assert probe.score(noise, labels) == 1.0
    assert np.mean(probe.cv_scores_) < 0.8


def test_in_benchmark_layers(data):
    pytest.importorskip("pandas")
    X, labels = data
    rng = np.random.default_rng(2)
    layers = {"informative": X, "noise": rng.standard_normal((90, 40))}
    responses = {"labels": labels[:, None]}
    table = skrep.benchmark_layers(layers, responses, {"probe": LinearProbe()}, cv=3)
    assert set(table.loc[table["best_on_train"], "layer"]) == {"informative"}
    test = np.arange(30)  # the first KFold split
    train = np.arange(30, 90)
    row = table[(table["split"] == 0) & (table["layer"] == "noise")].iloc[0]
    direct = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    direct.fit(layers["noise"][train], labels[train])
    assert row["test_score"] == direct.score(layers["noise"][test], labels[test])
    assert row["train_score"] == direct.score(layers["noise"][train], labels[train])
    inner = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        .fit(layers["noise"][train][a], labels[train][a])
        .score(layers["noise"][train][b], labels[train][b])
        for a, b in StratifiedKFold(5).split(train, labels[train])
    ]
    assert row["selection_score"] == pytest.approx(np.mean(inner))
    best = skrep.best_layer_scores(table)
    assert best.loc[0, "test_score"] > 0.9


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"C": 0}, "'C'"),
        ({"C": np.inf}, "'C'"),
        ({"standardize": "yes"}, "'standardize'"),
        ({"max_iter": 0}, "'max_iter'"),
        ({"cv": 1}, "'cv'"),
        ({"cv": 2.5}, "'cv'"),
    ],
)
def test_bad_parameters(data, params, match):
    X, labels = data
    with pytest.raises(InvalidParameterError, match=match):
        LinearProbe(**params).fit(X, labels)


def test_bad_labels(data):
    X, labels = data
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LinearProbe().fit(X, labels + 0.5 * np.random.default_rng(3).random(90))
    with pytest.raises(ValueError, match=r"y must hold one label per stimulus.* \(90, 2\)"):
        LinearProbe().fit(X, np.stack([labels, labels], axis=1))
    with pytest.raises(ValueError, match="y has a single class"):
        LinearProbe().fit(X, np.zeros(90))
    with pytest.raises(ValueError, match="X has 90 samples .* but y has 89"):
        LinearProbe().fit(X, labels[:89])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        LinearProbe().fit(X, np.where(labels == 0, np.nan, labels))
    with pytest.raises(ValueError, match="requires y to be passed"):
        LinearProbe().fit(X, None)
    probe = LinearProbe(cv=None).fit(X, labels)
    with pytest.raises(ValueError, match="X has 14 features, but LinearProbe is expecting 15"):
        probe.score(X[:, :14], labels)


@pytest.mark.parametrize("transform", ["1e-5", "1e5", "float32+1e3"])
def test_probe_is_invariant_to_scale_and_offset(transform):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    labels = (X[:, 0] + 0.3 * rng.standard_normal(60) > 0).astype(int)
    base = LinearProbe(cv=None).fit(X[:40], labels[:40]).score(X[40:], labels[40:])
    Z = {"1e-5": 1e-5 * X, "1e5": 1e5 * X, "float32+1e3": (X + 1e3).astype(np.float32)}[transform]
    assert LinearProbe(cv=None).fit(Z[:40], labels[:40]).score(Z[40:], labels[40:]) == base
