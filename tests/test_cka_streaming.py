"""CKA over stimuli in batches: CKAEstimator.partial_fit, the minibatch estimator,
the kernel memory warning, the Nystroem approximation, streaming_layer_similarity."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.decomposition import PCA
from sklearn.kernel_approximation import Nystroem

import skrep
from skrep import CKAEstimator, layer_similarity, streaming_layer_similarity
from skrep.exceptions import KernelMemoryWarning
from skrep.functional import cka, gram_matrix, hsic, rbf_bandwidth, rbf_cka


def _pair(n, seed=0, offset=0.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 5))
    X = latent @ rng.standard_normal((5, 30)) + rng.standard_normal((n, 30))
    Y = np.tanh(latent @ rng.standard_normal((5, 20))) + 0.5 * rng.standard_normal((n, 20))
    return (X + offset).astype(dtype), (Y - 3 * offset).astype(dtype)


def _splits(n, seed=1):
    """Uneven batch boundaries, a batch of one row among them."""
    cuts = np.random.default_rng(seed).choice(np.arange(2, n - 2, 2), 8, replace=False)
    return np.split(np.arange(n), np.sort(np.r_[cuts, cuts[0] + 1]))


# -- exact linear accumulation ---------------------------------------------------------------
@pytest.mark.parametrize("debiased", [False, True])
def test_partial_fit_equals_full_cka_far_from_zero_float32(debiased):
    X, Y = _pair(1500, offset=1e4, dtype=np.float32)
    estimator = CKAEstimator(debiased=debiased)
    for rows in _splits(1500):
        estimator.partial_fit(X[rows], Y[rows])
    # The reference: the in-memory path on the same (float32) values in float64.
    expected = cka(X.astype(np.float64), Y.astype(np.float64), debiased=debiased)
    assert estimator.n_samples_seen_ == 1500
    assert estimator.similarity_ == pytest.approx(expected, abs=1e-10)
    assert estimator.similarity_se_ == 0.0


def test_batch_order_does_not_matter():
    X, Y = _pair(600, seed=3, offset=50.0)
    batches = _splits(600, seed=4)
    values = []
    for order in (range(len(batches)), reversed(range(len(batches)))):
        estimator = CKAEstimator(debiased=True)
        for i in order:
            estimator.partial_fit(X[batches[i]], Y[batches[i]])
        values.append(estimator.similarity_)
    assert values[0] == pytest.approx(values[1], abs=1e-12)


def test_partial_fit_conventions():
    X, Y = _pair(200)
    estimator = CKAEstimator().partial_fit(X[:100], Y[:100])
    assert estimator.n_features_in_ == 30 and estimator.n_features_y_ == 20
    # score keeps its meaning: CKA of the data it is given
    assert estimator.score(X[100:], Y[100:]) == pytest.approx(cka(X[100:], Y[100:]), abs=1e-12)
    with pytest.raises(ValueError, match="X has 29 features"):
        estimator.partial_fit(X[100:, :-1], Y[100:])
    with pytest.raises(ValueError, match="Y"):
        estimator.partial_fit(X[100:], Y[100:, :-1])
    with pytest.raises(ValueError, match="X.*Y|Y.*X"):
        estimator.partial_fit(X[100:150], Y[100:149])
    assert estimator.n_samples_seen_ == 100  # the failed batches left no trace
    estimator.fit(X, Y)  # fit resets the accumulation
    assert not hasattr(estimator, "similarity_") and not hasattr(estimator, "n_samples_seen_")
    estimator.partial_fit(X[:3], Y[:3])
    with pytest.raises(ValueError, match="at least 4 stimuli"):
        _ = estimator.similarity_


def test_partial_fit_after_fit_uses_the_fitted_preprocessor():
    X, Y = _pair(300, seed=5)
    estimator = CKAEstimator(preprocessor=PCA(4)).fit(X[:100], Y[:100])
    for start in range(0, 300, 75):
        estimator.partial_fit(X[start : start + 75], Y[start : start + 75])
    pca_x, pca_y = PCA(4).fit(X[:100]), PCA(4).fit(Y[:100])
    assert estimator.similarity_ == pytest.approx(
        cka(pca_x.transform(X), pca_y.transform(Y)), abs=1e-10
    )


def test_constant_stream_is_named():
    X, Y = _pair(50)
    estimator = CKAEstimator().partial_fit(np.ones((50, 3)), Y)
    with pytest.raises(ValueError, match="X has a self-HSIC"):
        _ = estimator.similarity_


# -- minibatch estimator -------------------------------------------------------------------
def test_minibatch_estimator_is_the_mean_of_per_batch_unbiased_hsic():
    X, Y = _pair(400, seed=6)
    estimator = CKAEstimator("rbf")
    batches = np.array_split(np.arange(400), 8)
    for rows in batches:
        estimator.partial_fit(X[rows], Y[rows])
    sigma_x, sigma_y = estimator.bandwidths_
    assert sigma_x == pytest.approx(rbf_bandwidth(X[batches[0]]), rel=1e-12)
    triples = []
    for rows in batches:
        K = gram_matrix(X[rows], "rbf", sigma=sigma_x)
        L = gram_matrix(Y[rows], "rbf", sigma=sigma_y)
        triples.append([hsic(K, L, debiased=True), hsic(K, K, debiased=True),
                        hsic(L, L, debiased=True)])  # fmt: skip
    triples = np.array(triples)
    np.testing.assert_allclose(estimator.batch_hsic_, triples, rtol=1e-10)
    a, b, c = triples.mean(axis=0)
    assert estimator.similarity_ == pytest.approx(a / np.sqrt(b * c), rel=1e-10)


def test_minibatch_standard_error_matches_the_spread_over_streams():
    weights = np.random.default_rng(0).standard_normal((2, 5, 20))
    values, errors = [], []
    for seed in range(30):  # 30 streams of 10 batches from one population
        latent = np.random.default_rng(100 + seed).standard_normal((400, 5))
        X, Y = latent @ weights[0], np.tanh(latent @ weights[1])
        estimator = CKAEstimator("rbf", sigma=4.0)
        for rows in np.array_split(np.arange(400), 10):
            estimator.partial_fit(X[rows], Y[rows])
        values.append(estimator.similarity_)
        errors.append(estimator.similarity_se_)
    assert 0.5 < np.median(errors) / np.std(values, ddof=1) < 2.0
    one = CKAEstimator("rbf").partial_fit(*_pair(20))
    assert np.isnan(one.similarity_se_)


def test_minibatch_rejects_tiny_batches():
    X, Y = _pair(20)
    estimator = CKAEstimator("rbf").partial_fit(X[:10], Y[:10])
    with pytest.raises(ValueError, match="at least 4"):
        estimator.partial_fit(X[10:13], Y[10:13])
    assert estimator.n_samples_seen_ == 10
    with pytest.raises(AttributeError, match="batch_hsic_"):
        _ = CKAEstimator().partial_fit(X, Y).batch_hsic_


# -- memory warning and approximation ------------------------------------------------------
def test_rbf_cka_warns_before_kernels_beyond_working_memory():
    X, Y = _pair(500)
    with sklearn.config_context(working_memory=1):  # 1 MiB: 500^2 doubles are 2 MB
        with pytest.warns(KernelMemoryWarning, match="partial_fit") as record:
            rbf_cka(X, Y)
        assert record[0].filename == __file__  # points at the caller
        with pytest.warns(KernelMemoryWarning, match="nystroem"):
            CKAEstimator("rbf").fit(X, Y).score(X, Y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", KernelMemoryWarning)
            cka(X, Y)  # the linear kernel forms no n x n matrix
            CKAEstimator("rbf", approximation="nystroem").fit(X, Y).score(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", KernelMemoryWarning)
        rbf_cka(X, Y)


def test_nystroem_error_against_exact_rbf_cka():
    X, Y = _pair(2000, seed=8)
    exact = rbf_cka(X, Y)
    estimate = (
        CKAEstimator("rbf", approximation="nystroem", n_components=500, random_state=0)
        .fit(X, Y)
        .score(X, Y)
    )
    assert abs(estimate - exact) < 0.005  # 9e-5 measured; documented as below 0.01


def test_approximate_partial_fit_is_exact_linear_cka_of_the_maps():
    X, Y = _pair(300, seed=9)
    options = {"approximation": "nystroem", "n_components": 60, "random_state": 0}
    one_batch = CKAEstimator("rbf", **options).partial_fit(X, Y).similarity_
    assert one_batch == pytest.approx(CKAEstimator("rbf", **options).fit(X, Y).score(X, Y))
    streamed = CKAEstimator("rbf", **options)
    streamed.partial_fit(X[:100], Y[:100]).partial_fit(X[100:], Y[100:])
    # The same maps built with scikit-learn: fitted on the first batch, centered there.
    features = []
    for A, sigma in zip((X, Y), streamed.bandwidths_, strict=True):
        assert sigma == pytest.approx(rbf_bandwidth(A[:100]), rel=1e-12)
        offset = A[:100].mean(axis=0)
        mapper = Nystroem(gamma=0.5 / sigma**2, n_components=60, random_state=0)
        features.append(mapper.fit(A[:100] - offset).transform(A - offset))
    assert streamed.similarity_ == pytest.approx(cka(*features), abs=1e-10)


def test_bad_approximation_parameters():
    X, Y = _pair(20)
    for estimator, match in [
        (CKAEstimator(approximation="nystroem"), "kernel='rbf'"),
        (CKAEstimator("rbf", approximation="pca"), "'approximation'"),
        (CKAEstimator("rbf", approximation="nystroem", n_components=0), "'n_components'"),
    ]:
        with pytest.raises(ValueError, match=match):
            estimator.fit(X, Y)
        with pytest.raises(ValueError, match=match):
            estimator.partial_fit(X, Y)


# -- streaming layer similarity ------------------------------------------------------------
def _layers(n, seed=10):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 6))
    return {
        "conv1": latent @ rng.standard_normal((6, 12)) + 1e3,
        "conv2": np.maximum(latent @ rng.standard_normal((6, 9)), 0),
        "fc": np.tanh(latent @ rng.standard_normal((6, 7))) - 5.0,
        "logits": rng.standard_normal((n, 3)),
    }


@pytest.mark.parametrize("measure", ["linear_cka", "debiased_linear_cka"])
def test_streaming_layer_similarity_equals_in_memory(measure):
    full = _layers(900)
    splits = _splits(900, seed=11)
    result = streaming_layer_similarity(
        ({k: v[r] for k, v in full.items()} for r in splits), measure
    )
    expected = layer_similarity(measure, full)
    np.testing.assert_allclose(result, expected, atol=1e-10, rtol=0)
    assert result.kind == "similarity" and result.row_names == list(full)
    part = streaming_layer_similarity(
        ([v[r] for v in full.values()] for r in splits), measure, rows=[0, 3], columns=[1, 2]
    )
    np.testing.assert_allclose(part, np.asarray(expected)[np.ix_([0, 3], [1, 2])], atol=1e-10)
    assert part.row_names is None


def test_streaming_layer_similarity_of_two_networks():
    full = _layers(700, seed=12)
    other = {"conv1": full["conv1"][:, :5] ** 2, "head": np.tanh(full["fc"]) + 3.0}
    splits = _splits(700, seed=13)
    expected = layer_similarity("debiased_linear_cka", full, other)
    result = streaming_layer_similarity(
        (({k: v[r] for k, v in full.items()}, {k: v[r] for k, v in other.items()}) for r in splits),
        "debiased_linear_cka",
    )
    np.testing.assert_allclose(result, expected, atol=1e-10, rtol=0)
    assert result.row_names == list(full) and result.column_names == list(other)
    lists = streaming_layer_similarity(
        (([v[r] for v in full.values()], [v[r] for v in other.values()]) for r in splits),
        "debiased_linear_cka",
        rows=[2],
        columns=[0, 1],
    )
    np.testing.assert_allclose(lists, np.asarray(expected)[[2]], atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match=r"batches\[1\] has the layers \['conv1'"):
        streaming_layer_similarity([(full, other), full])
    with pytest.raises(ValueError, match=r"batches\[0\]\[1\] has no layers"):
        streaming_layer_similarity([(full, {})])


def test_streaming_layer_similarity_errors():
    full = _layers(40)
    good = {k: v[:20] for k, v in full.items()}
    with pytest.raises(ValueError, match="different numbers of rows"):
        streaming_layer_similarity([good, {**good, "fc": full["fc"][:19]}])
    with pytest.raises(ValueError, match=r"batches\[1\]\['conv2'\] has 8 features"):
        streaming_layer_similarity([good, {**good, "conv2": full["conv2"][:20, :8]}])
    with pytest.raises(ValueError, match="same layers"):
        streaming_layer_similarity([good, {k: good[k] for k in ("conv1", "fc")}])
    with pytest.raises(ValueError, match="no batch"):
        streaming_layer_similarity(iter([]))
    with pytest.raises(ValueError, match="at least 4 stimuli"):
        streaming_layer_similarity([{k: v[:3] for k, v in good.items()}])
    with pytest.raises(ValueError, match="'measure'"):
        streaming_layer_similarity([good], "rbf_cka")
    with pytest.raises(ValueError, match="rows names"):
        streaming_layer_similarity([good], rows=["conv3"])
    with pytest.raises(ValueError, match="NaN|nan|finite"):
        streaming_layer_similarity([good, {**good, "fc": np.full((20, 7), np.nan)}])
    with pytest.raises(TypeError, match="batches"):
        streaming_layer_similarity([full["fc"]])


def test_activation_batches_feed_streaming_from_memmapped_layers(tmp_path):
    # The files skrep.extraction writes with out_dir are read-only memmaps of each layer.
    rng = np.random.default_rng(3)
    layers = {"a": rng.standard_normal((1030, 7)) + 50.0, "b": rng.standard_normal((1030, 4))}
    stored = {}
    for name, array in layers.items():
        np.save(tmp_path / f"{name}.npy", array)
        stored[name] = np.load(tmp_path / f"{name}.npy", mmap_mode="r")
    batches = list(skrep.activation_batches(stored, batch_size=250))
    assert [len(batch["a"]) for batch in batches] == [250, 250, 250, 250, 30]
    assert all(type(batch["b"]) is np.ndarray for batch in batches)
    streamed = skrep.streaming_layer_similarity(skrep.activation_batches(stored, 250))
    np.testing.assert_allclose(streamed, skrep.layer_similarity("linear_cka", layers), atol=1e-12)


def test_activation_batches_bad_input():
    good = {"a": np.zeros((5, 2)), "b": np.zeros((5, 3))}
    with pytest.raises(ValueError, match="batch_size must be an int >= 1; got 0"):
        next(skrep.activation_batches(good, 0))
    with pytest.raises(ValueError, match=r"different numbers of stimuli \{'a': 5, 'b': 4\}"):
        next(skrep.activation_batches({"a": np.zeros((5, 2)), "b": np.zeros((4, 2))}))
    with pytest.raises(ValueError, match="non-empty mapping"):
        next(skrep.activation_batches([np.zeros((5, 2))]))
