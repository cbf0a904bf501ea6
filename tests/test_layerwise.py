"""layer_similarity on the many-networks engine: kinds, held-out layers, inputs, cache, progress."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge

import skrep
from skrep import LinearMetric, layer_similarity, pairwise_distances
from skrep.engine import MeasureMatrix
from skrep.exceptions import InvalidParameterError
from skrep.functional import linear_cka, mean_cca


def layers_of(rng, n=40, widths=(5, 8, 3, 12)):
    base = rng.standard_normal((n, 6))
    return [
        np.tanh(base @ rng.standard_normal((6, w))) + 0.2 * rng.standard_normal((n, w))
        for w in widths
    ]


def test_a_distance_metric_gives_the_pairwise_distances(rng):
    layers = layers_of(rng, widths=(6, 6, 6, 6, 6))
    metric = LinearMetric(alpha=0.5)
    within = layer_similarity(metric, layers)
    assert isinstance(within, MeasureMatrix) and within.kind == "distance"
    np.testing.assert_array_equal(within, pairwise_distances(metric, layers)[0])
    assert np.all(np.diag(within) == 0)
    other = layers_of(rng, widths=(4, 6, 9))
    across = layer_similarity(metric, layers, other)
    expected = [[metric.fit(a, b).distance(a, b) for b in other] for a in layers]
    np.testing.assert_allclose(across, expected, atol=1e-12)


def test_held_out_layers(rng):
    layers, held_out = layers_of(rng), layers_of(rng, n=15)
    metric = LinearMetric(alpha=1.0)
    train, test = layer_similarity(metric, layers, layers_a_test=held_out)
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            fitted = metric.fit(layers[i], layers[j])
            assert train[i, j] == pytest.approx(fitted.distance(layers[i], layers[j]), abs=1e-12)
            assert test[i, j] == pytest.approx(
                fitted.distance(held_out[i], held_out[j]), abs=1e-12
            )
    # A similarity with a preprocessor fitted on the training layers only.
    cka = skrep.CKAEstimator(preprocessor=PCA(3))
    train, test = layer_similarity(cka, layers[:2], layers_a_test=held_out[:2])
    fitted = cka.fit(layers[0], layers[1])
    assert test[0, 1] == pytest.approx(fitted.score(held_out[0], held_out[1]), abs=1e-12)
    assert train.kind == test.kind == "similarity"


def test_mappings_name_rows_and_columns(rng):
    a, b = layers_of(rng, widths=(3, 4)), layers_of(rng, widths=(5,))
    result = layer_similarity("linear_cka", {"conv": a[0], "fc": a[1]}, {"v1": b[0]})
    assert result.row_names == ["conv", "fc"] and result.column_names == ["v1"]
    assert result.measure == "linear_cka"
    assert result[1, 0] == pytest.approx(linear_cka(a[1], b[0]), abs=1e-12)
    bad = {"conv": a[0], "fc": a[1][:-1]}
    with pytest.raises(ValueError, match=r"layers_a\['fc'\] has 39 samples"):
        layer_similarity("linear_cka", bad)


def test_estimators_callables_and_foreign_estimators(rng):
    layers = layers_of(rng)
    by_callable = layer_similarity(mean_cca, layers)
    np.testing.assert_allclose(by_callable, layer_similarity("mean_cca", layers), atol=1e-12)
    assert by_callable.measure == "mean_cca"

    class RidgeScore:
        """Not a skrep estimator: R^2 of a ridge map, via fit and score."""

        def __init__(self):
            self.model = Ridge(1.0)

        def get_params(self, deep=True):
            return {}

        def set_params(self, **params):
            return self

        def fit(self, X, Y):
            self.model.fit(X, Y)
            return self

        def score(self, X, Y):
            return self.model.score(X, Y)

    foreign = layer_similarity(RidgeScore(), layers[:2])
    assert foreign[0, 1] == pytest.approx(Ridge(1.0).fit(*layers[:2]).score(*layers[:2]))
    with pytest.raises(InvalidParameterError, match="got the class LinearMetric"):
        layer_similarity(LinearMetric, layers)
    with pytest.raises(InvalidParameterError, match="must be one of"):
        layer_similarity(3, layers)


def test_progress_and_cache(rng, tmp_path, capsys):
    layers = layers_of(rng)
    first = layer_similarity("svcca", layers, verbose=True, cache_dir=tmp_path)
    assert "10/10" in capsys.readouterr().err  # symmetric: 4 * 5 / 2 pairs with the diagonal
    assert list(tmp_path.rglob("block-*.npz"))
    again = layer_similarity("svcca", layers, cache_dir=tmp_path)
    np.testing.assert_array_equal(first, again)


def test_parallel_layers_equal_serial(rng):
    layers = layers_of(rng, widths=(5, 8, 3, 12, 7, 4))
    for measure in ("linear_cka", "pwcca", "jaccard_knn", LinearMetric()):
        serial = layer_similarity(measure, layers)
        parallel = layer_similarity(measure, layers, n_jobs=2, block_size=2)
        np.testing.assert_allclose(parallel, serial, atol=1e-12)
