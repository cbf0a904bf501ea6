"""``LinearMetric.fit(X, Y).distance(X, Y)``: the training distance without mapping the data.

On the very arrays of the fit, unchanged, the distance comes from the singular
values of the whitened cross-product and two norms (issue 22, item 5); the
alignment maps (a full SVD) are computed when first used. The values are those
of mapping the data (the slow path, forced here by passing copies) to 1e-12.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

import skrep.functional.linear_fit
from skrep.compat import netrep as compat
from skrep.functional import fit_linear_alignment
from skrep.metrics import LinearMetric

CASES = [
    (alpha, method, widths, center)
    for alpha in (0.0, 0.3, 1.0)
    for method in ("angular", "euclidean")
    for widths, center in (((6, 6), True), ((6, 4), True), ((5, 5), False))
]


@pytest.fixture
def related(rng):
    X = rng.standard_normal((50, 6)) @ rng.standard_normal((6, 6))
    Y = 0.5 * X @ rng.standard_normal((6, 6)) + rng.standard_normal((50, 6))
    return X, Y


def slow(metric, X, Y):
    """The distance from mapping the data: copies are never the fit's arrays."""
    return metric.distance(X.copy(), Y.copy())


@pytest.mark.parametrize("alpha, method, widths, center", CASES)
def test_training_distance_equals_mapping_the_data(related, alpha, method, widths, center):
    X, Y = related[0][:, : widths[0]], related[1][:, : widths[1]]
    metric = LinearMetric(alpha=alpha, score_method=method, center_columns=center).fit(X, Y)
    fast = metric.distance(X, Y)
    # The fast path takes the whitened norms from the eigenvalues: on this
    # ill-conditioned X the two routes' rounding differs in the 12th digit.
    assert fast == pytest.approx(slow(metric, X, Y), rel=1e-11, abs=0)
    assert metric.score(X, Y) == -fast
    assert metric.fit_score(X, Y) == -fast


@pytest.mark.parametrize("seed", range(20))
def test_training_distance_at_alpha_0_equals_mean_canonical_correlation(seed):
    # Fully whitened, the angular distance is arccos of the mean canonical
    # correlation; computed here from orthonormal bases by QR (a second route).
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, 6)) @ rng.standard_normal((6, 6))
    Y = 0.5 * X @ rng.standard_normal((6, 6)) + rng.standard_normal((50, 6))
    Qx, Qy = np.linalg.qr(X - X.mean(axis=0))[0], np.linalg.qr(Y - Y.mean(axis=0))[0]
    expected = np.arccos(np.linalg.svd(Qx.T @ Qy, compute_uv=False).mean())
    assert LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y) == pytest.approx(expected, rel=1e-11)


def test_fit_and_training_distance_skip_the_full_svd(related, monkeypatch):
    X, Y = related
    expected = LinearMetric(alpha=0.5).fit(X, Y).distance(X.copy(), Y)

    def no_svd(cross):
        raise AssertionError("the full SVD ran")

    monkeypatch.setattr(skrep.functional.linear_fit, "procrustes_rotations", no_svd)
    metric = LinearMetric(alpha=0.5).fit(X, Y)
    assert metric.distance(X, Y) == pytest.approx(expected, rel=1e-12)
    assert compat.LinearMetric(0.5).fit_score(X, Y) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(AssertionError, match="the full SVD ran"):
        metric.Wx_  # noqa: B018 - the maps are computed on first use


def test_alignment_maps_are_those_of_the_fit(related):
    X, Y = related
    metric = LinearMetric(alpha=0.3).fit(X, Y)
    mx, my, Wx, Wy = fit_linear_alignment(X, Y, 0.3)
    np.testing.assert_allclose(metric.Wx_, Wx, atol=1e-12)
    np.testing.assert_allclose(metric.Wy_, Wy, atol=1e-12)
    assert metric.Wx_ is metric.Wx_  # computed once
    assert not hasattr(LinearMetric(), "Wx_")
    assert not hasattr(clone(metric), "Wy_")
    restored = pickle.loads(pickle.dumps(metric))
    np.testing.assert_array_equal(restored.Wx_, metric.Wx_)
    assert restored.distance(X, Y) == metric.distance(X, Y)


@pytest.mark.parametrize(
    "change",
    [
        lambda X, Y: X.__imul__(2.0),
        lambda X, Y: X.__setitem__((3, 1), X[3, 1] + 1e-3),
        lambda X, Y: X.__setitem__(slice(None), X[::-1].copy()),  # rows reordered
        lambda X, Y: Y.__setitem__(slice(None), np.cos(Y)),
        lambda X, Y: X.__setitem__((0, 0), X[0, 0] * (1 + 1e-12)),
    ],
)
def test_arrays_changed_in_place_are_measured_again(related, change):
    X, Y = (A.copy() for A in related)
    metric = LinearMetric(alpha=0.3).fit(X, Y)
    before = metric.distance(X, Y)
    change(X, Y)
    assert metric.distance(X, Y) == pytest.approx(slow(metric, X, Y), rel=1e-12, abs=0)
    assert metric.distance(X, Y) != before


def test_nan_written_after_fit_is_an_error(related):
    X, Y = (A.copy() for A in related)
    metric = LinearMetric().fit(X, Y)
    X[2, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        metric.distance(X, Y)


def test_set_params_after_fit_is_honoured(related):
    X, Y = related
    metric = LinearMetric(alpha=0.3).fit(X, Y)
    angular = metric.distance(X, Y)
    metric.set_params(score_method="euclidean")
    assert metric.distance(X, Y) == pytest.approx(slow(metric, X, Y), rel=1e-12)
    assert metric.distance(X, Y) > 1.0 > angular


def test_preprocessor_and_float32(related):
    X, Y = related
    metric = LinearMetric(alpha=0.0, preprocessor=StandardScaler()).fit(X, Y)
    assert metric.distance(X, Y) == pytest.approx(slow(metric, X, Y), rel=1e-11)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    metric = LinearMetric(alpha=0.3).fit(X32, Y32)
    assert metric.distance(X32, Y32) == pytest.approx(slow(metric, X32, Y32), rel=1e-5)


def test_torch_tensors(related):
    torch = pytest.importorskip("torch")
    X, Y = (torch.from_numpy(A.copy()) for A in related)
    metric = LinearMetric(alpha=0.3).fit(X, Y)
    assert metric.distance(X, Y) == pytest.approx(metric.distance(X.clone(), Y.clone()), rel=1e-12)
    X.mul_(3.0)  # in place, through torch
    assert metric.distance(X, Y) == pytest.approx(metric.distance(X.clone(), Y), rel=1e-12)
    X.numpy()[4, 1] += 1.0  # in place, behind torch's back
    assert metric.distance(X, Y) == pytest.approx(metric.distance(X.clone(), Y), rel=1e-12)


def test_near_zero_distances_are_computed_from_the_data(related):
    X, _ = related
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    for alpha in (0.0, 0.5, 1.0):
        assert LinearMetric(alpha=alpha).fit(X, X @ Q).distance(X, X @ Q) < 1e-10
