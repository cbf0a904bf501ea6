"""Distances between convolutional layers at every circular shift (netrep's convolve_metric).

The batched LinearMetric path (one fit, all cross-products by FFT) is checked
against a second implementation, the fit of every shifted pair in a loop, as
netrep's function does; a rolled copy of a layer is at distance 0 at its
shift (closed form); the FFT cross-products against direct products.
"""

import numpy as np
import pytest

from skrep import shift_distances
from skrep.compat import netrep
from skrep.functional.shifts import shifted_cross_products
from skrep.metrics import LinearMetric, PermutationMetric


def layers(seed=0, shape=(12, 5, 6, 3), channels_y=None, shift=(1, 2), noise=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    Y = np.roll(X, shift, axis=(1, 2)) @ np.linalg.qr(rng.standard_normal((shape[3],) * 2))[0]
    Y = Y + noise * rng.standard_normal(Y.shape)
    if channels_y is not None:
        Y = Y[..., :channels_y]
    return X, Y


def loop_map(metric, X, Y, score=False):
    """netrep's procedure: roll X, flatten, fit and score the metric, for every offset."""
    _, h, w, c = X.shape
    Yf = Y.reshape(-1, Y.shape[3])
    out = np.empty((h, w))
    for i in range(h):
        for j in range(w):
            Xf = np.roll(X, (i - h // 2, j - w // 2), axis=(1, 2)).reshape(-1, c)
            metric.fit(Xf, Yf)
            out[i, j] = metric.score(Xf, Yf) if score else metric.distance(Xf, Yf)
    return out


def test_fft_cross_products_equal_direct_products():
    X, Y = layers(shape=(4, 5, 6, 3))
    C = shifted_cross_products(X, Y)
    expected = np.stack(
        [
            np.stack(
                [
                    np.roll(X, (i - 2, j - 3), axis=(1, 2)).reshape(-1, 3).T @ Y.reshape(-1, 3)
                    for j in range(6)
                ]
            )
            for i in range(5)
        ]
    )
    np.testing.assert_allclose(C, expected, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("score_method", ["angular", "euclidean"])
def test_linear_metric_map_equals_one_fit_per_shift(alpha, score_method):
    X, Y = layers()
    metric = LinearMetric(alpha=alpha, score_method=score_method)
    result = shift_distances(metric, X, Y)
    np.testing.assert_allclose(result.distances, loop_map(metric, X, Y), rtol=1e-10, atol=1e-12)
    assert result.best_shift == (1, 2)
    assert result.min_distance == result.distances.min()


def test_a_rolled_copy_is_at_distance_zero_at_its_shift():
    X, _ = layers(shape=(10, 6, 6, 4))
    result = shift_distances(LinearMetric(alpha=1.0), X, np.roll(X, (-2, 1), axis=(1, 2)))
    assert result.best_shift == (-2, 1)
    assert result.min_distance == pytest.approx(0.0, abs=1e-7)
    assert np.sum(result.distances < 1e-6) == 1


def test_other_metrics_are_fitted_per_shift():
    X, Y = layers(seed=1)
    metric = PermutationMetric()
    np.testing.assert_allclose(
        shift_distances(metric, X, Y).distances, loop_map(metric, X, Y), atol=1e-12
    )


def test_channels_are_zero_padded():
    X, Y = layers(seed=2, channels_y=2)
    Ypad = np.concatenate([Y, np.zeros((*Y.shape[:3], 1))], axis=3)
    np.testing.assert_allclose(
        shift_distances(LinearMetric(), X, Y).distances,
        shift_distances(LinearMetric(), X, Ypad).distances,
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="zero_pad=False"):
        shift_distances(LinearMetric(zero_pad=False), X, Y)


def test_netrep_convolve_metric():
    X, Y = layers(seed=3)
    metric = netrep.LinearMetric(alpha=0.5)
    expected = loop_map(netrep.LinearMetric(alpha=0.5), X, Y, score=True)
    np.testing.assert_allclose(netrep.convolve_metric(metric, X, Y), expected, rtol=1e-10)


def test_the_metric_is_not_modified():
    X, Y = layers(seed=4)
    metric = LinearMetric()
    shift_distances(metric, X, Y)
    assert not hasattr(metric, "mx_")


@pytest.mark.parametrize(
    "X, Y, match",
    [
        (np.zeros((3, 4, 4)), np.zeros((3, 4, 4)), r"X has shape \(3, 4, 4\)"),
        (np.ones((3, 4, 4, 2)), np.ones((3, 4, 5, 2)), "same images and spatial size"),
        (np.full((3, 4, 4, 2), np.nan), np.ones((3, 4, 4, 2)), "X contains"),
        (np.ones((3, 4, 4, 2)), np.ones((3, 4, 0, 2)), "Y has shape"),
    ],
)
def test_bad_inputs_are_named(X, Y, match):
    with pytest.raises(ValueError, match=match):
        shift_distances(LinearMetric(), X, Y)
