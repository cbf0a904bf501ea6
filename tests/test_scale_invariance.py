"""The shape metrics at any scale of the data, from 1e-150 to 1e150 (issue 22, item 3).

A shape metric does not depend on the units of a representation. For
LinearMetric at alpha=0 and alpha=1 and for PermutationMetric the angular
distance is invariant to multiplying either representation by a positive
number and the euclidean distance is homogeneous; at 0 < alpha < 1 netrep's
definition makes ``c * X`` whiten as ``X`` does with
``alpha * c / (alpha * c + 1 - alpha)``, and that law holds at every scale.
The single-pair fit and the batched ``pairwise_distances`` agree with it.
"""

import numpy as np
import pytest

from skrep import pairwise_distances
from skrep.compat import netrep as compat
from skrep.metrics import LinearMetric, PermutationMetric

SCALES = [10.0**k for k in range(-150, 151, 10)]
EXTREME = [1e-300, 1e-200, 1e200, 1e300]
RTOL = 1e-10


@pytest.fixture(scope="module")
def pair():
    """X and a related Y with n = 30 stimuli, as in the issue."""
    rng = np.random.default_rng(22)
    X = rng.standard_normal((30, 8))
    Y = 0.4 * X @ rng.standard_normal((8, 8)) + rng.standard_normal((30, 8))
    return X, Y


def fit_distance(metric, X, Y):
    return metric.fit(X, Y).distance(X, Y)


def batched_distance(metric, X, Y):
    return pairwise_distances(metric, [X, Y])[0][0, 1]


def effective_alpha(alpha, c):
    """netrep's whitening of c * X is that of X with this alpha."""
    return alpha * c / (alpha * c + 1 - alpha)


def partial_whitened(X, alpha):
    """netrep's partial whitening of centered X (a second, direct implementation)."""
    Xc = X - X.mean(0)
    lam, V = np.linalg.eigh(Xc.T @ Xc)
    d = alpha + (1 - alpha) / np.sqrt(lam)
    d *= np.sqrt(lam.sum() / np.sum(d**2 * lam))
    return Xc @ (V * d) @ V.T


def procrustes_angle(A, B):
    """Angle between A and B after the best rotation: arccos(nuclear norm / norms)."""
    nuclear = np.linalg.svd(A.T @ B, compute_uv=False).sum()
    return np.arccos(nuclear / np.linalg.norm(A) / np.linalg.norm(B))


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("side", ["both", "X", "Y"])
def test_angular_distance_is_scale_invariant(pair, alpha, side):
    X, Y = pair
    metric = LinearMetric(alpha=alpha)
    expected = fit_distance(metric, X, Y)
    for c in SCALES:
        A = c * X if side in ("both", "X") else X
        B = c * Y if side in ("both", "Y") else Y
        assert fit_distance(metric, A, B) == pytest.approx(expected, rel=RTOL), c
        assert batched_distance(metric, A, B) == pytest.approx(expected, rel=RTOL), c


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_euclidean_distance_is_homogeneous(pair, alpha):
    X, Y = pair
    metric = LinearMetric(alpha=alpha, score_method="euclidean")
    expected = fit_distance(metric, X, Y)
    for c in SCALES + EXTREME:
        assert fit_distance(metric, c * X, c * Y) == pytest.approx(c * expected, rel=RTOL), c
        assert batched_distance(metric, c * X, c * Y) == pytest.approx(c * expected, rel=RTOL)


@pytest.mark.parametrize("method", ["angular", "euclidean"])
def test_intermediate_alpha_follows_the_scale_law(pair, method):
    X, Y = pair
    metric = LinearMetric(alpha=0.5, score_method=method)
    for c in SCALES:
        reference = LinearMetric(alpha=effective_alpha(0.5, c), score_method=method)
        expected = fit_distance(reference, X, Y) * (c if method == "euclidean" else 1.0)
        assert fit_distance(metric, c * X, c * Y) == pytest.approx(expected, rel=RTOL), c
        assert batched_distance(metric, c * X, c * Y) == pytest.approx(expected, rel=RTOL), c


def test_intermediate_alpha_with_one_side_scaled(pair):
    # Each side is whitened on its own: only X's effective alpha moves.
    X, Y = pair
    metric = LinearMetric(alpha=0.5)
    Yw = partial_whitened(Y, 0.5)
    for c in SCALES:
        expected = procrustes_angle(partial_whitened(X, effective_alpha(0.5, c)), Yw)
        assert fit_distance(metric, c * X, Y) == pytest.approx(expected, rel=1e-9), c
        assert batched_distance(metric, c * X, Y) == pytest.approx(expected, rel=1e-9), c


def test_small_units_no_longer_turn_cca_into_procrustes(pair):
    # The case: data with standard deviations of 1e-5 (volts, tesla).
    X, Y = pair
    cca_like = fit_distance(LinearMetric(alpha=0.0), X, Y)
    procrustes = fit_distance(LinearMetric(alpha=1.0), X, Y)
    assert abs(cca_like - procrustes) > 0.05
    assert fit_distance(LinearMetric(alpha=0.0), 1e-5 * X, 1e-5 * Y) == pytest.approx(
        cca_like, rel=RTOL
    )
    # skrep.compat.netrep keeps netrep's absolute floor of 1e-7 on the eigenvalues of
    # X.T @ X: here all of them are below it, no whitening is left, and netrep's
    # value is the Procrustes distance.
    small_X, small_Y = 1e-5 * (X - X.mean(0)), 1e-5 * (Y - Y.mean(0))
    assert np.linalg.eigvalsh(small_X.T @ small_X).max() < 1e-7
    assert np.linalg.eigvalsh(small_Y.T @ small_Y).max() < 1e-7
    netrep_like = compat.LinearMetric(0.0).fit_score(1e-5 * X, 1e-5 * Y)
    assert netrep_like == pytest.approx(procrustes, rel=RTOL)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_batched_path_with_a_huge_network_and_zero_padding(pair, alpha):
    # The batched path returned pi/2 for a network scaled by 1e155 or more.
    X, Y = pair
    W = Y[:, :5]  # a narrower network, zero-padded against the others
    metric = LinearMetric(alpha=alpha)
    for c in (1e155, 1e300, 1e-300):
        D, _ = pairwise_distances(metric, [c * X, Y, W])
        if alpha == 0.5:  # X's effective alpha moves, Y's does not
            A, B = partial_whitened(X, effective_alpha(0.5, c)), partial_whitened(Y, 0.5)
            assert D[0, 1] == pytest.approx(procrustes_angle(A, B), rel=1e-9), c
        else:
            assert D[0, 1] == pytest.approx(fit_distance(metric, X, Y), rel=RTOL), c
            assert D[0, 2] == pytest.approx(fit_distance(metric, X, W), rel=RTOL), c
        # The single-pair fit, a separate computation, agrees at every scale.
        assert D[0, 2] == pytest.approx(fit_distance(metric, c * X, W), rel=RTOL), c
        assert D[1, 2] == pytest.approx(fit_distance(metric, Y, W), rel=RTOL)


@pytest.mark.parametrize("method", ["angular", "euclidean"])
@pytest.mark.parametrize("center", [True, False])
def test_permutation_metric_at_extreme_scales(pair, method, center):
    X, Y = pair
    metric = PermutationMetric(score_method=method, center_columns=center)
    expected = fit_distance(metric, X, Y)
    for c in SCALES + EXTREME:
        factor = c if method == "euclidean" else 1.0
        got = fit_distance(metric, c * X, c * Y)
        assert got == pytest.approx(factor * expected, rel=RTOL), c
        assert batched_distance(metric, c * X, c * Y) == pytest.approx(got, rel=RTOL), c
        if method == "angular":
            assert fit_distance(metric, c * X, Y) == pytest.approx(expected, rel=RTOL), c
            assert batched_distance(metric, X, c * Y) == pytest.approx(expected, rel=RTOL), c


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_float32_far_from_one(pair, alpha):
    # X.T @ X of float32 data overflows at 1e19 and underflows at 1e-19; the data
    # are divided by a power of two first, and float32 keeps its usual accuracy.
    X, Y = pair
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    for c in (1e-19, 1e19):
        reference = LinearMetric(alpha=effective_alpha(alpha, c) if 0 < alpha < 1 else alpha)
        expected = fit_distance(reference, X32.astype(float), Y32.astype(float))
        got = fit_distance(LinearMetric(alpha=alpha), np.float32(c) * X32, np.float32(c) * Y32)
        assert got == pytest.approx(expected, rel=1e-5), c


def test_torch_at_extreme_scales(pair):
    torch = pytest.importorskip("torch")
    X, Y = pair
    expected = fit_distance(LinearMetric(alpha=0.0), X, Y)
    for c in (1e-200, 1e200):
        tX, tY = torch.from_numpy(c * X), torch.from_numpy(c * Y)
        assert fit_distance(LinearMetric(alpha=0.0), tX, tY) == pytest.approx(expected, rel=RTOL)
