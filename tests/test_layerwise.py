"""layer_similarity (``skrep.layerwise``): measures, kinds, held-out layers, inputs, cache.

Every number comes from the pairwise functions and estimators applied layer
by layer (or from the many-networks engine's ``pairwise_distances``).
"""

import numpy as np
import pytest
from conftest import layers_of
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

import skrep
from skrep import LinearMetric, layer_similarity, pairwise_distances
from skrep.engine import MeasureMatrix
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
            assert test[i, j] == pytest.approx(fitted.distance(held_out[i], held_out[j]), abs=1e-12)
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


# -- every measure, layer by layer -----------------------------------------------------------------
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
    layers_a, layers_b = layers_of(rng), layers_of(rng, widths=(4, 9, 6))
    function = PAIR_FUNCTIONS[name]
    within = skrep.layer_similarity(name, layers_a)
    across = skrep.layer_similarity(name, layers_a, layers_b)
    expected_within = [[function(a, b) for b in layers_a] for a in layers_a]
    expected_across = [[function(a, b) for b in layers_b] for a in layers_a]
    np.testing.assert_allclose(within, expected_within, atol=1e-10)
    np.testing.assert_allclose(across, expected_across, atol=1e-10)
    assert across.shape == (4, 3)


def test_layer_similarity_measures_of_every_kind(rng):
    layers = layers_of(rng)
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


def test_layer_similarity_errors(rng):
    layers = layers_of(rng)
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


def test_layer_similarity_rejects_non_finite_values_and_single_arrays(rng):
    layers = layers_of(rng)
    with pytest.raises(ValueError, match=r"returned nan for layers_a\[0\] and layers_a\[0\]"):
        skrep.layer_similarity(lambda X, Y: float("nan"), layers)
    with pytest.raises(ValueError, match="layers_a is a 2-D array of shape"):
        skrep.layer_similarity("linear_cka", layers[0])


@pytest.mark.parametrize("scale", [1e-5, 1e5])
@pytest.mark.parametrize(
    "measure",
    ["linear_cka", "rbf_cka", "mean_cca", "svcca", "mutual_knn", "linear_regression", "pwcca"],
)
def test_batched_layers_are_scale_invariant_and_float32_safe(rng, measure, scale):
    # Every named measure is invariant to scaling a layer: at 1e-5 and 1e5 the
    # batched matrix equals that of the unscaled layers.
    layers = layers_of(rng, n=60, widths=(5, 8, 4))
    expected = layer_similarity(measure, layers)
    np.testing.assert_allclose(
        layer_similarity(measure, [scale * A for A in layers]), expected, atol=1e-9
    )
    # In float32 with an offset of 1e3 the batched matrix keeps float32 accuracy:
    # the same as float64 with the same offset (the measures that center first
    # do not see the offset at all; PWCCA adds the means back, as published).
    # kNN is left out: it ranks raw cosines, which the offset makes all near 1.
    if measure == "mutual_knn":
        return
    shifted = [A + 1e3 for A in layers]
    in_float64 = layer_similarity(measure, shifted)
    if measure != "pwcca":
        np.testing.assert_allclose(in_float64, expected, atol=1e-9)
    in_float32 = layer_similarity(measure, [A.astype(np.float32) for A in shifted])
    np.testing.assert_allclose(in_float32, in_float64, atol=2e-3)
