"""benchmark_layers: the tidy layers x regions x metrics x splits table (issue 7)."""

import numpy as np
import pytest
from sklearn.model_selection import KFold

import skrep
from skrep import benchmark_layers, best_layer_scores

pytest.importorskip("pandas")


@pytest.fixture
def layers_and_regions(rng):
    stimuli = rng.standard_normal((48, 6))
    layers = {
        f"layer{k}": np.tanh(stimuli @ rng.standard_normal((6, 12)) * (k + 1)) for k in range(3)
    }
    responses = {
        "IT": stimuli @ rng.standard_normal((6, 10)) + rng.standard_normal((48, 10)),
        "V1": rng.standard_normal((48, 7)),
    }
    return layers, responses


def test_table_holds_every_score_and_the_layer_chosen_on_training_data(layers_and_regions):
    layers, responses = layers_and_regions
    metrics = {"RSA": skrep.RSA(), "CKA": skrep.CKAEstimator()}
    cv = KFold(3, shuffle=True, random_state=0)
    table = benchmark_layers(layers, responses, metrics, cv=cv)
    assert len(table) == 3 * 2 * 2 * 3
    assert list(table.columns) == [
        "split", "region", "metric", "layer", "train_score", "test_score", "selection_score",
        "best_on_train",
    ]  # fmt: skip
    np.testing.assert_array_equal(table.selection_score, table.train_score)
    for s, (train, test) in enumerate(cv.split(layers["layer0"])):
        for region, Y in responses.items():
            for name, metric in metrics.items():
                rows = table[(table.split == s) & (table.region == region) & (table.metric == name)]
                for layer, X in layers.items():
                    row = rows[rows.layer == layer].iloc[0]
                    fitted = metric.fit(X[train], Y[train])
                    train_score = fitted.score(X[train], Y[train])
                    assert row.train_score == pytest.approx(train_score, abs=1e-12)
                    test_score = fitted.score(X[test], Y[test])
                    assert row.test_score == pytest.approx(test_score, abs=1e-12)
                assert rows.best_on_train.sum() == 1
                assert rows[rows.best_on_train].train_score.iloc[0] == rows.train_score.max()
    summary = best_layer_scores(table)
    assert len(summary) == 4
    chosen = table[table.best_on_train]
    expected = chosen[(chosen.region == "IT") & (chosen.metric == "RSA")].sort_values("split")
    row = summary[(summary.region == "IT") & (summary.metric == "RSA")].iloc[0]
    assert row.test_score == pytest.approx(expected.test_score.mean())
    assert row.layers == expected.layer.tolist()
    # The related region scores above the unrelated one.
    it = summary[(summary.region == "IT") & (summary.metric == "CKA")].test_score.iloc[0]
    v1 = summary[(summary.region == "V1") & (summary.metric == "CKA")].test_score.iloc[0]
    assert it > v1


def test_parallel_and_list_of_metrics(layers_and_regions):
    layers, responses = layers_and_regions
    serial = benchmark_layers(layers, responses, [skrep.RSA()], cv=2)
    parallel = benchmark_layers(layers, responses, [skrep.RSA()], cv=2, n_jobs=2)
    np.testing.assert_allclose(serial.test_score, parallel.test_score)
    assert set(serial.metric) == {"RSA"}


def test_benchmark_errors(layers_and_regions):
    layers, responses = layers_and_regions
    with pytest.raises(TypeError, match="layers must be a non-empty dict"):
        benchmark_layers(list(layers.values()), responses, [skrep.RSA()])
    bad = dict(responses, IT=responses["IT"][:40])
    match = r"layers\['layer0'\] has 48 samples .* responses\['IT'\] has 40"
    with pytest.raises(ValueError, match=match):
        benchmark_layers(layers, bad, [skrep.RSA()])
    with pytest.raises(ValueError, match="repeated names"):
        benchmark_layers(layers, responses, [skrep.RSA(), skrep.RSA("cosine")])
    with pytest.raises(TypeError, match=r"metrics\['x'\] is 3"):
        benchmark_layers(layers, responses, {"x": 3})
    with pytest.raises(ValueError, match="cv=100 splits but there are only 48 stimuli"):
        benchmark_layers(layers, responses, [skrep.RSA()], cv=100)


def test_encoding_models_are_selected_by_their_inner_cross_validation(rng):
    stimuli = rng.standard_normal((40, 5))
    layers = {
        "narrow": stimuli @ rng.standard_normal((5, 5)),
        "wide": rng.standard_normal((40, 300)),  # fits anything in sample, predicts nothing
    }
    responses = {"IT": stimuli @ rng.standard_normal((5, 6)) + 0.3 * rng.standard_normal((40, 6))}
    table = benchmark_layers(layers, responses, {"eReg": skrep.EncodingRegression()}, cv=2)
    chosen = table[table.best_on_train]
    assert set(chosen.layer) == {"narrow"}
    wide = table[table.layer == "wide"]
    assert np.all(wide.train_score > wide.selection_score)
