"""The torch path on a CUDA device gives the numpy path's numbers.

Skipped where PyTorch sees no CUDA device (CI and most laptops); run on a GPU
machine with ``pytest tests/test_gpu.py``. The reference is always the numpy
computation on the same data (a second implementation of the same math).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

from skrep import (  # noqa: E402
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    LinearMetric,
    PermutationMetric,
    RelativeRepresentation,
    SubspaceOverlap,
    effective_rank,
    group_averaged_cross_variance,
    pairwise_distances,
    participation_ratio,
    pca_cross_variance,
    principal_angles,
)


@pytest.fixture
def pair(rng):
    X = rng.standard_normal((300, 40))
    Y = X @ rng.standard_normal((40, 30)) + 0.5 * rng.standard_normal((300, 30))
    return X, Y


@pytest.mark.parametrize(
    "metric",
    [LinearMetric(alpha=a) for a in (1.0, 0.0, 0.5)] + [PermutationMetric()],
    ids=["procrustes", "cca", "alpha0.5", "permutation"],
)
def test_alignment_metrics_on_cuda_match_numpy(metric, pair):
    X, Y = pair
    expected = metric.fit(X, Y).distance(X, Y)
    on_gpu = metric.set_params(device="cuda").fit(X, Y)
    assert on_gpu.mx_.device.type == "cuda"
    assert on_gpu.distance(X, Y) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    X_aligned, _ = on_gpu.transform(X, Y)
    assert isinstance(X_aligned, np.ndarray)  # numpy in, numpy out


def test_cuda_tensors_in_cuda_tensors_out(pair):
    X, Y = pair
    tX, tY = torch.from_numpy(X).cuda(), torch.from_numpy(Y).cuda()
    metric = LinearMetric().fit(tX, tY)
    X_aligned, Y_aligned = metric.transform(tX, tY)
    assert X_aligned.device.type == "cuda" and Y_aligned.device.type == "cuda"
    assert metric.distance(tX, tY) == pytest.approx(LinearMetric().fit(X, Y).distance(X, Y))


def test_float32_on_cuda(pair):
    X, Y = pair
    tX = torch.from_numpy(X).float().cuda()
    tY = torch.from_numpy(Y).float().cuda()
    expected = LinearMetric().fit(X, Y).distance(X, Y)
    assert LinearMetric().fit(tX, tY).distance(tX, tY) == pytest.approx(expected, abs=1e-4)


def test_pairwise_distances_on_cuda(rng):
    networks = [rng.standard_normal((100, 20)) for _ in range(6)]
    tests = [rng.standard_normal((50, 20)) for _ in range(6)]
    expected = pairwise_distances(LinearMetric(alpha=0.5), networks, tests)
    on_gpu = pairwise_distances(LinearMetric(alpha=0.5, device="cuda"), networks, tests)
    for a, b in zip(on_gpu, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_stochastic_metrics_on_cuda(rng):
    X = rng.standard_normal((8, 30, 6))
    Y = X @ np.linalg.qr(rng.standard_normal((6, 6)))[0] + 0.3 * rng.standard_normal((8, 30, 6))
    for Metric in (GaussianStochasticMetric, EnergyStochasticMetric):
        expected = Metric().fit(X, Y).distance(X, Y)
        on_gpu = Metric(device="cuda").fit(X, Y).distance(X, Y)
        assert on_gpu == pytest.approx(expected, rel=1e-6, abs=1e-9), Metric.__name__


def test_geometry_on_cuda(rng):
    X = rng.standard_normal((200, 25)) @ rng.standard_normal((25, 25))
    Y = rng.standard_normal((150, 25)) @ rng.standard_normal((25, 25))
    tX, tY = torch.from_numpy(X).cuda(), torch.from_numpy(Y).cuda()
    assert participation_ratio(tX) == pytest.approx(participation_ratio(X), rel=1e-10)
    assert effective_rank(tX) == pytest.approx(effective_rank(X), rel=1e-10)
    np.testing.assert_allclose(principal_angles(tX, tY, 5), principal_angles(X, Y, 5), atol=1e-9)
    on_gpu, expected = pca_cross_variance(tX, tY, 10), pca_cross_variance(X, Y, 10)
    for key, value in expected.items():
        np.testing.assert_allclose(on_gpu[key], value, atol=1e-10, err_msg=key)
    labels_x, labels_y = np.arange(200) % 3, np.arange(150) % 3
    np.testing.assert_allclose(
        group_averaged_cross_variance(tX, tY, (labels_x, labels_y), 4).cev_Y_mean,
        group_averaged_cross_variance(X, Y, (labels_x, labels_y), 4).cev_Y_mean,
        atol=1e-10,
    )
    cuda_labels = torch.arange(200, device="cuda") % 3  # labels on the GPU too
    np.testing.assert_allclose(
        group_averaged_cross_variance(tX, tX, cuda_labels, 4).cev_Y_mean,
        group_averaged_cross_variance(X, X, labels_x, 4).cev_Y_mean,
        atol=1e-10,
    )
    fitted = SubspaceOverlap(3).fit(tX, tX, groups=cuda_labels)
    assert fitted.score(X, X, groups=labels_x) == pytest.approx(
        SubspaceOverlap(3).fit(X, X, groups=labels_x).score(X, X, groups=labels_x)
    )
    overlap = SubspaceOverlap(5, device="cuda", paired=False).fit(X, X[:150] + Y)
    assert overlap.components_.device.type == "cuda"
    assert overlap.score(X, Y) == pytest.approx(
        SubspaceOverlap(5, paired=False).fit(X, Y).score(X, Y)
    )
    relative = RelativeRepresentation(anchors=10, random_state=0).fit(tX).transform(tX)
    assert relative.device.type == "cuda"
    np.testing.assert_allclose(
        relative.cpu().numpy(),
        RelativeRepresentation(anchors=10, random_state=0).fit(X).transform(X),
        atol=1e-12,
    )


SIMILARITY_ESTIMATORS = [
    "CKAEstimator()",
    "CKAEstimator('rbf')",
    "CKAEstimator(debiased=True)",
    "CCAEstimator()",
    "CCAEstimator('r2')",
    "SVCCAEstimator()",
    "PWCCAEstimator()",
    "MutualKNNEstimator()",
    "JaccardKNNEstimator()",
    "RegressionR2Estimator()",
]


@pytest.mark.parametrize("expression", SIMILARITY_ESTIMATORS)
def test_similarity_estimators_on_cuda(expression, pair):
    import skrep

    X, Y = pair
    estimator = eval(expression, vars(skrep))  # noqa: S307 (a fixed list above)
    expected = estimator.fit(X, Y).score(X, Y)
    on_device = estimator.set_params(device="cuda").fit(X, Y).score(X, Y)
    assert on_device == pytest.approx(expected, abs=1e-9)
    tensors = torch.from_numpy(X).cuda(), torch.from_numpy(Y).cuda()
    assert estimator.set_params(device=None).fit(*tensors).score(*tensors) == pytest.approx(
        expected, abs=1e-9
    )


@pytest.mark.parametrize("measure", ["linear_cka", "debiased_linear_cka", "rbf_cka", "svcca"])
def test_layer_similarity_on_cuda(rng, measure):
    from skrep import layer_similarity

    layers = [rng.standard_normal((600, w)) for w in (30, 50, 700)]  # feature and Gram routes
    expected = layer_similarity(measure, layers)
    on_device = layer_similarity(measure, layers, device="cuda")
    np.testing.assert_allclose(on_device, expected, atol=1e-9)
    float32 = [torch.from_numpy(A).float().cuda() for A in layers]
    np.testing.assert_allclose(layer_similarity(measure, float32), expected, atol=1e-4)


@pytest.mark.parametrize(
    "method", ["correlation", "cosine", "euclidean", "sqeuclidean", "mahalanobis", "crossnobis"]
)
def test_rdms_on_cuda_match_numpy(rng, method):
    from skrep.rdm import compute_rdm

    X = rng.standard_normal((2, 60, 25)) + 3.0  # two data sets, an offset
    noise = rng.standard_normal((25, 25))
    options = {}
    if method in ("mahalanobis", "crossnobis"):
        options["precision"] = np.linalg.inv(noise @ noise.T / 25 + np.eye(25))
    if method == "crossnobis":
        options["conditions"] = np.tile(np.arange(20), 3)
        options["runs"] = np.repeat(np.arange(3), 20)
    expected = compute_rdm(X, method, **options)
    on_device = compute_rdm(torch.from_numpy(X).cuda(), method, **options)
    assert on_device.is_cuda
    np.testing.assert_allclose(on_device.cpu().numpy(), expected, atol=1e-10)
    float32 = compute_rdm(torch.from_numpy(X).float().cuda(), method, **options)
    np.testing.assert_allclose(float32.cpu().numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("features", [20, 400], ids=["primal", "kernel"])
@pytest.mark.parametrize("cv", [None, 4], ids=["leave-one-out", "4-fold"])
def test_encoding_models_on_cuda_match_numpy(rng, features, cv):
    from skrep import RSA, EncodingRegression, EncodingRSA
    from skrep._array import to_numpy

    X = rng.standard_normal((120, features))
    Y = X[:, :15] @ rng.standard_normal((15, 30)) + rng.standard_normal((120, 30))
    train, test = slice(0, 90), slice(90, None)
    for estimator in (EncodingRegression(cv=cv), EncodingRSA(cv=cv)):
        expected = estimator.fit(X[train], Y[train])
        alphas = to_numpy(expected.alpha_).copy()
        score = expected.score(X[test], Y[test])
        on_device = estimator.set_params(device="cuda").fit(X[train], Y[train])
        np.testing.assert_array_equal(to_numpy(on_device.alpha_), alphas)
        assert on_device.score(X[test], Y[test]) == pytest.approx(score, abs=1e-8)
    rsa = RSA()
    expected = rsa.fit(X, Y).score(X, Y)
    assert rsa.set_params(device="cuda").fit(X, Y).score(X, Y) == pytest.approx(expected, abs=1e-9)


# -- the many-networks engine on CUDA ----------------------------------------------------------
ENGINE_MEASURES = [
    "linear_cka",
    "rbf_cka",
    "mean_cca",
    "r2_cca",  # not PWCCA: its weights follow the SVD's sign convention, which torch's differs in
    "mutual_knn",
    "linear_regression",
    "LinearMetric(alpha=0.5)",
    "PermutationMetric()",
    "RSA()",
]


@pytest.mark.parametrize("measure", ENGINE_MEASURES)
def test_engine_layer_matrices_on_cuda(rng, measure):
    import skrep

    if measure[0].isupper():
        measure = eval(measure, vars(skrep))  # noqa: S307 (a fixed list above)
    latent = rng.standard_normal((260, 12))
    layers = {f"l{w}": np.tanh(latent @ rng.standard_normal((12, w))) for w in (20, 35, 50)}
    train = {k: v[:200] for k, v in layers.items()}
    test = {k: v[200:] for k, v in layers.items()}
    expected = skrep.layer_similarity(measure, train, layers_a_test=test)
    on_device = skrep.layer_similarity(measure, train, layers_a_test=test, device="cuda")
    for got, want in zip(on_device, expected, strict=True):
        assert isinstance(got, np.ndarray) and got.row_names == list(layers)
        np.testing.assert_allclose(got, want, atol=1e-8)
    tensors = [torch.from_numpy(A).cuda() for A in train.values()]
    np.testing.assert_allclose(skrep.layer_similarity(measure, tensors), expected[0], atol=1e-8)


def test_engine_cache_on_cuda(rng, tmp_path):
    Xs = [torch.from_numpy(rng.standard_normal((80, 16))).cuda() for _ in range(6)]
    metric = LinearMetric(alpha=0.5)
    expected, _ = pairwise_distances(metric, [X.cpu().numpy() for X in Xs])
    first, _ = pairwise_distances(metric, Xs, cache_dir=tmp_path, block_size=2)
    again, _ = pairwise_distances(metric, Xs, cache_dir=tmp_path, block_size=2)
    np.testing.assert_allclose(first, expected, atol=1e-10)
    np.testing.assert_array_equal(again, first)
