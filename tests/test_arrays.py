"""numpy, torch and other array-API inputs; the device parameter; float32."""

import numpy as np
import pytest

from skrep._array import convert_like, move_to_device, to_numpy, zero_pad_columns
from skrep.metrics import LinearMetric, PermutationMetric

torch = pytest.importorskip("torch")


@pytest.fixture
def pair(rng):
    latent = rng.standard_normal((150, 4))
    X = latent @ rng.standard_normal((4, 12)) + 0.5 * rng.standard_normal((150, 12))
    Y = latent @ rng.standard_normal((4, 9)) + 0.5 * rng.standard_normal((150, 9)) + 3.0
    return X, Y


def test_zero_pad_columns():
    x = np.arange(6.0).reshape(3, 2)
    padded = zero_pad_columns(x, 4)
    np.testing.assert_array_equal(padded, [[0, 1, 0, 0], [2, 3, 0, 0], [4, 5, 0, 0]])
    assert zero_pad_columns(x, 2) is x
    t = zero_pad_columns(torch.from_numpy(x), 3)
    assert isinstance(t, torch.Tensor) and t.shape == (3, 3) and t.dtype == torch.float64


def test_convert_like_and_move_to_device():
    x = np.ones((2, 2))
    t = move_to_device(x, "cpu")
    assert isinstance(t, torch.Tensor) and t.device.type == "cpu"
    assert move_to_device(x, None) is x
    assert isinstance(convert_like(t, x), np.ndarray)
    assert isinstance(convert_like(x, t), torch.Tensor)
    assert isinstance(convert_like(t, [[1.0]]), np.ndarray)  # lists count as numpy
    np.testing.assert_array_equal(to_numpy(t), x)


@pytest.mark.parametrize("Metric", [LinearMetric, PermutationMetric])
def test_device_cpu_computes_with_torch_and_returns_numpy(Metric, pair):
    X, Y = pair
    reference = Metric().fit(X, Y)
    metric = Metric(device="cpu").fit(X, Y)
    assert isinstance(metric.mx_, torch.Tensor)
    assert isinstance(metric.distance(X, Y), float)
    assert abs(metric.distance(X, Y) - reference.distance(X, Y)) < 1e-10
    tX, tY = metric.transform(X, Y)
    assert isinstance(tX, np.ndarray) and isinstance(tY, np.ndarray)
    rX, rY = reference.transform(X, Y)
    np.testing.assert_allclose(tX @ tY.T, rX @ rY.T, atol=1e-9)


@pytest.mark.parametrize("Metric", [LinearMetric, PermutationMetric])
def test_torch_in_torch_out(Metric, pair):
    X, Y = pair
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    metric = Metric().fit(Xt, Yt)
    assert isinstance(metric.mx_, torch.Tensor)
    tX, tY = metric.transform(Xt, Yt)
    assert isinstance(tX, torch.Tensor) and tX.dtype == torch.float64
    assert abs(metric.distance(Xt, Yt) - Metric().fit(X, Y).distance(X, Y)) < 1e-10


def test_y_follows_x(pair):
    X, Y = pair
    metric = LinearMetric(alpha=0.5).fit(torch.from_numpy(X), Y)
    assert isinstance(metric.Wy_, torch.Tensor)
    expected = LinearMetric(alpha=0.5).fit(X, Y).distance(X, Y)
    assert abs(metric.distance(torch.from_numpy(X), Y) - expected) < 1e-10
    numpy_fit = LinearMetric().fit(X, torch.from_numpy(Y))
    assert isinstance(numpy_fit.Wy_, np.ndarray)


def test_other_namespace_after_fit_is_an_error(pair):
    X, Y = pair
    metric = LinearMetric().fit(X, Y)
    with pytest.raises(ValueError, match=r"LinearMetric.transform\(\) must use the same namespace"):
        metric.transform(torch.from_numpy(X))
    with pytest.raises(ValueError, match=r"LinearMetric.distance\(\) must use the same namespace"):
        metric.distance(torch.from_numpy(X), torch.from_numpy(Y))
    # with an explicit device, the estimator moves the data itself
    moved = LinearMetric(device="cpu").fit(X, Y)
    assert abs(moved.distance(torch.from_numpy(X), Y) - metric.distance(X, Y)) < 1e-10


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("method", ["angular", "euclidean"])
@pytest.mark.parametrize("to_array", [np.float32, "torch"])
def test_float32_accuracy(pair, alpha, method, to_array):
    """float32 stays float32, and distances are within 1e-5 (relative) of float64."""
    X, Y = pair
    if to_array == "torch":
        X32, Y32 = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    else:
        X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    metric = LinearMetric(alpha=alpha, score_method=method).fit(X32, Y32)
    tX, _ = metric.transform(X32, Y32)
    assert str(tX.dtype).endswith("float32")
    d64 = LinearMetric(alpha=alpha, score_method=method).fit(X, Y).distance(X, Y)
    d32 = metric.distance(X32, Y32)
    assert abs(d32 - d64) <= 1e-5 * d64


def test_mixed_precision_promotes_to_float64(pair):
    X, Y = pair
    metric = LinearMetric().fit(X.astype(np.float32), Y)
    assert metric.Wx_.dtype == np.float64


def test_array_api_strict_input_matches_numpy(pair):
    xp = pytest.importorskip("array_api_strict")
    X, Y = pair
    Xs, Ys = xp.asarray(X), xp.asarray(Y)
    for Metric in (LinearMetric, PermutationMetric):
        metric = Metric().fit(Xs, Ys)
        assert abs(metric.distance(Xs, Ys) - Metric().fit(X, Y).distance(X, Y)) < 1e-10
        tX = metric.transform(Xs)
        assert type(tX) is type(Xs)


def test_to_numpy_refuses_masked_and_complex_arrays():
    # np.asarray would drop the mask, and a later float cast the imaginary part.
    masked = np.ma.masked_array(np.ones((2, 2)), mask=[[True, False], [False, False]])
    with pytest.raises(TypeError, match=r"rdms is a numpy masked array \(1 of 4 value"):
        to_numpy(masked, "rdms")
    with pytest.raises(TypeError, match=r"The input is a numpy masked array"):
        to_numpy(masked)
    with pytest.raises(ValueError, match=r"Complex data not supported: rdms has dtype complex"):
        to_numpy(np.ones(3) + 1j, "rdms")
    with pytest.raises(ValueError, match=r"Complex data not supported: the input"):
        to_numpy(torch.ones(3, dtype=torch.complex64))


def test_to_numpy_detaches_tensors_that_require_grad():
    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    out = to_numpy(2 * x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [2.0, 2.0, 2.0])
    plain = np.arange(3.0)
    assert to_numpy(plain) is plain  # numpy input: no copy


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.bool, torch.int32])
def test_torch_inputs_of_other_dtypes_are_read_as_float64(pair, dtype):
    X, Y = pair
    Xt = torch.from_numpy(X > 0 if dtype == torch.bool else np.round(3 * X)).to(dtype)
    expected = LinearMetric().fit(Xt.double().numpy(), Y).distance(Xt.double().numpy(), Y)
    metric = LinearMetric().fit(Xt, torch.from_numpy(Y))
    assert metric.mx_.dtype == torch.float64
    assert abs(metric.distance(Xt, torch.from_numpy(Y)) - expected) < 1e-10


def test_mixed_numpy_and_torch_pairs_follow_x(pair):
    # the estimator contract: Y follows X (numpy X, torch Y computes in numpy)
    X, Y = pair
    expected = LinearMetric().fit(X, Y).distance(X, Y)
    Yt = torch.tensor(Y, requires_grad=True)
    metric = LinearMetric().fit(X, Yt)
    assert isinstance(metric.Wy_, np.ndarray)
    assert abs(metric.distance(X, Yt) - expected) < 1e-10
