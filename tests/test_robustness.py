"""Edge cases found in review: failed fits, numpy scalars, preprocessors, scale, devices."""

import re
import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import FunctionTransformer, SplineTransformer, StandardScaler

from skrep.compat import netrep as compat
from skrep.exceptions import InvalidParameterError
from skrep.metrics import LinearMetric, PermutationMetric


@pytest.fixture
def pair(rng):
    X = rng.standard_normal((40, 4))
    return X, X @ rng.standard_normal((4, 3)) + 0.5 * rng.standard_normal((40, 3))


@pytest.mark.parametrize("Metric", [LinearMetric, PermutationMetric])
def test_failed_fit_leaves_the_estimator_unfitted(Metric, pair):
    X, Y = pair
    metric = Metric()
    with pytest.raises(ValueError):
        metric.fit(X, Y[:10])
    with pytest.raises(NotFittedError):
        metric.distance(X, Y)
    # a failed re-fit does not leave a half-updated estimator behind either
    metric.fit(X, Y)
    with pytest.raises(ValueError):
        metric.fit(np.hstack([X, X]), Y[:10])
    with pytest.raises(NotFittedError):
        metric.distance(X, Y)
    assert not hasattr(metric, "n_features_in_")


def test_numpy_booleans_are_parameters_too(pair):
    X, Y = pair
    expected = LinearMetric(center_columns=False).fit(X, Y).distance(X, Y)
    assert LinearMetric(center_columns=np.False_).fit(X, Y).distance(X, Y) == expected
    search = GridSearchCV(LinearMetric(), {"center_columns": np.array([True, False])}, cv=3)
    search.fit(X, Y)
    assert search.best_params_["center_columns"] in (True, False)


def test_bad_parameter_types_get_clear_errors(pair):
    with pytest.raises(InvalidParameterError, match=r"'score_method'.*got \['angular'\]"):
        LinearMetric(score_method=["angular"]).fit(*pair)
    with pytest.raises(InvalidParameterError, match=r"a class: pass an instance, PCA\(\)"):
        LinearMetric(preprocessor=PCA).fit(*pair)


def test_device_is_validated(pair):
    torch = pytest.importorskip("torch")
    with pytest.raises(InvalidParameterError, match=r"'device'.*torch device.*got 'gpu'"):
        LinearMetric(device="gpu").fit(*pair)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match=r"no CUDA device.*device='cpu'"):
            LinearMetric(device="cuda").fit(*pair)
    LinearMetric(device=torch.device("cpu")).fit(*pair)


def test_compat_split_fit_checks_parameters_and_widths(pair, rng):
    X, Y = pair
    metric = compat.LinearMetric(alpha=-1)
    with pytest.raises(InvalidParameterError, match=r"alpha=-1"):
        metric.partial_fit(X)
    metric = compat.LinearMetric()
    with pytest.raises(ValueError, match=r"cache_X holds 4 features and cache_Y 3"):
        metric.finalize_fit(metric.partial_fit(X), metric.partial_fit(Y))
    with pytest.raises(ValueError, match=r"cache_X has 40 samples.*cache_Y has 10"):
        metric.finalize_fit(metric.partial_fit(X), metric.partial_fit(X[:10]))
    with pytest.raises(NotFittedError):
        metric.score(X, X)


def test_preprocessed_width_must_not_change_after_fit(pair):
    X, Y = pair
    drop_constant = FunctionTransformer(lambda a: a[:, a.std(axis=0) > 0])
    metric = LinearMetric(preprocessor=drop_constant).fit(X, Y)
    X_test = X[:8].copy()
    X_test[:, 0] = 1.0
    with pytest.raises(
        ValueError, match=r"preprocessed X has 3 features, but the preprocessed X had 4"
    ):
        metric.distance(X_test, Y[:8])


def test_preprocessor_errors_name_the_side(pair):
    X, Y = pair
    with pytest.raises(ValueError, match=r"The preprocessor failed on Y \(shape \(40, 3\)\)"):
        LinearMetric(preprocessor=PCA(n_components=4)).fit(X, Y)


def test_sparse_preprocessor_output_is_densified(pair):
    X, Y = pair
    spline = SplineTransformer(n_knots=3, degree=1, sparse_output=True)
    sparse = LinearMetric(preprocessor=spline).fit(X, Y)
    dense = LinearMetric(preprocessor=SplineTransformer(n_knots=3, degree=1)).fit(X, Y)
    assert sparse.distance(X, Y) == pytest.approx(dense.distance(X, Y), abs=1e-12)


def test_torch_input_stays_torch_through_a_preprocessor(pair):
    torch = pytest.importorskip("torch")
    X, Y = pair
    metric = LinearMetric(preprocessor=StandardScaler()).fit(torch.from_numpy(X), Y)
    assert isinstance(metric.Wx_, torch.Tensor)
    expected = LinearMetric(preprocessor=StandardScaler()).fit(X, Y).distance(X, Y)
    assert abs(metric.distance(torch.from_numpy(X), Y) - expected) < 1e-10
    with pytest.raises(ValueError, match="must use the same namespace"):
        metric.distance(X, Y)


@pytest.mark.parametrize("scale", [1e170, 1e-200, 1e-300])
@pytest.mark.parametrize("method", ["angular", "euclidean"])
def test_procrustes_at_extreme_scales(pair, scale, method):
    X, Y = pair
    metric = LinearMetric(alpha=1.0, score_method=method)
    expected = metric.fit(X, Y).distance(X, Y)
    got = metric.fit(scale * X, scale * Y).distance(scale * X, scale * Y)
    if method == "angular":
        assert abs(got - expected) < 1e-12
    else:
        assert got == pytest.approx(scale * expected, rel=1e-12)


def _value_or_overflow_error(compute):
    """The value, or None after a ValueError that says what overflowed and what to do."""
    try:
        return compute()
    except ValueError as exc:
        assert re.search(r"overflowed in float(32|64).*(rescale|float64)", str(exc)), exc
        return None


def test_whitening_overflow_is_an_error_or_the_right_number(pair):
    X, Y = pair
    # alpha=0 whitens fully: the angular distance does not depend on the scale.
    expected = LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y)
    got = _value_or_overflow_error(
        lambda: LinearMetric(alpha=0.0).fit(1e160 * X, 1e160 * Y).distance(1e160 * X, 1e160 * Y)
    )
    assert got is None or got == pytest.approx(expected, abs=1e-10)
    # 0 < alpha < 1 mixes the identity into the covariance, which vanishes next to
    # a covariance of 1e300: the values at 1e150 and 1e160 agree (the limit).
    metric = LinearMetric(alpha=0.5)
    limit = metric.fit(1e150 * X, 1e150 * Y).distance(1e150 * X, 1e150 * Y)
    got = _value_or_overflow_error(
        lambda: metric.fit(1e160 * X, 1e160 * Y).distance(1e160 * X, 1e160 * Y)
    )
    assert got is None or got == pytest.approx(limit, abs=1e-10)
    X32, Y32 = (1e19 * X).astype(np.float32), (1e19 * Y).astype(np.float32)
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    expected = metric.fit(X64, Y64).distance(X64, Y64)
    got = _value_or_overflow_error(lambda: metric.fit(X32, Y32).distance(X32, Y32))
    assert got is None or got == pytest.approx(expected, rel=1e-4)


def test_requires_grad_inputs_are_detached(pair):
    torch = pytest.importorskip("torch")
    X, Y = pair
    Xt = torch.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric = LinearMetric().fit(Xt, torch.from_numpy(Y))
        metric.distance(Xt, torch.from_numpy(Y))
    assert metric.Wx_.grad_fn is None and not metric.mx_.requires_grad


def test_read_only_input_on_a_device(pair, tmp_path):
    pytest.importorskip("torch")
    X, Y = pair
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_mapped = np.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = LinearMetric(device="cpu").fit(X_mapped, Y).distance(X_mapped, Y)
    assert abs(d - LinearMetric().fit(X, Y).distance(X, Y)) < 1e-10
