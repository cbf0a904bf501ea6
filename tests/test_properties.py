"""Metric axioms and invariances, on data drawn by hypothesis.

Each property is a closed-form fact about generalized shape metrics
(Williams et al. 2021): identity, symmetry and the triangle inequality of the
angular metric, and the invariances each alpha promises.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skrep import pairwise_distances
from skrep.metrics import LinearMetric, PermutationMetric

ALPHAS = [0.0, 0.5, 1.0]
TOL = 1e-10

PROPERTY_SETTINGS = settings()  # example counts come from the profile (tests/conftest.py)

# The whitening floors the eigenvalues of X.T @ X at 1e-7 times the mean column
# variance (netrep: an absolute 1e-7); invariances that hold for the exact
# whitening need data whose eigenvalues stay well above that floor.
EIGENVALUE_FLOOR = 1e-7


def above_floor(*arrays):
    """Whether every centered array's Gram eigenvalues exceed the floor 1000-fold."""
    for A in arrays:
        Ac = A - A.mean(0)
        floor = EIGENVALUE_FLOOR * np.sum(Ac**2) / Ac.size
        if np.linalg.eigvalsh(Ac.T @ Ac).min() <= 1e3 * floor:
            return False
    return True


@st.composite
def representations(draw, count=2):
    """``count`` random representations with the same rows, well conditioned."""
    n_features = draw(st.integers(1, 6))
    n_samples = draw(st.integers(2 * n_features + 2, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    log_scale = draw(st.floats(-2, 2))
    rng = np.random.default_rng(seed)
    return [
        10.0**log_scale * rng.standard_normal((n_samples, n_features))
        + rng.standard_normal(n_features)
        for _ in range(count)
    ], rng


def fit_distance(metric, X, Y):
    return metric.fit(X, Y).distance(X, Y)


@PROPERTY_SETTINGS
@given(
    data=representations(count=1),
    alpha=st.sampled_from(ALPHAS),
    method=st.sampled_from(["angular", "euclidean"]),
)
def test_distance_to_itself_is_zero(data, alpha, method):
    (X,), _ = data
    scale = 1.0 if method == "angular" else np.linalg.norm(X)
    assert fit_distance(LinearMetric(alpha=alpha, score_method=method), X, X) <= TOL * scale


@PROPERTY_SETTINGS
@given(data=representations(count=2), alpha=st.sampled_from(ALPHAS))
def test_symmetry(data, alpha):
    (X, Y), _ = data
    d_xy = fit_distance(LinearMetric(alpha=alpha), X, Y)
    d_yx = fit_distance(LinearMetric(alpha=alpha), Y, X)
    assert abs(d_xy - d_yx) <= TOL
    assert 0.0 <= d_xy <= np.pi


@PROPERTY_SETTINGS
@given(data=representations(count=3), alpha=st.sampled_from(ALPHAS))
def test_triangle_inequality_angular(data, alpha):
    (X, Y, M), _ = data
    metric = LinearMetric(alpha=alpha)
    assert (
        fit_distance(metric, X, Y) <= fit_distance(metric, X, M) + fit_distance(metric, M, Y) + TOL
    )


@PROPERTY_SETTINGS
@given(data=representations(count=2), method=st.sampled_from(["angular", "euclidean"]))
def test_procrustes_invariant_to_orthogonal_maps(data, method):
    (X, Y), rng = data
    p = Y.shape[1]
    Q, R = np.linalg.qr(rng.standard_normal((p, p)))
    Q = Q * np.sign(np.diag(R))
    metric = LinearMetric(alpha=1.0, score_method=method)
    scale = 1.0 if method == "angular" else np.linalg.norm(Y)
    assert abs(fit_distance(metric, X, Y @ Q) - fit_distance(metric, X, Y)) <= TOL * scale
    assert fit_distance(metric, Y, Y @ Q) <= TOL * scale


@PROPERTY_SETTINGS
@given(data=representations(count=2))
def test_alpha_zero_invariant_to_invertible_linear_maps(data):
    (X, Y), rng = data
    p = Y.shape[1]
    # a random invertible map with bounded condition number
    U, _ = np.linalg.qr(rng.standard_normal((p, p)))
    V, _ = np.linalg.qr(rng.standard_normal((p, p)))
    A = U @ np.diag(rng.uniform(0.2, 5.0, p)) @ V.T
    offset = rng.standard_normal(p)
    assume(above_floor(X, Y, Y @ A))
    metric = LinearMetric(alpha=0.0)
    assert abs(fit_distance(metric, X, Y @ A + offset) - fit_distance(metric, X, Y)) <= 1e-9
    assert fit_distance(metric, Y, Y @ A + offset) <= 1e-9


@PROPERTY_SETTINGS
@given(
    data=representations(count=2),
    alpha=st.sampled_from([0.0, 1.0]),
    log_c=st.floats(-150, 150),
    side=st.sampled_from(["X", "Y", "both"]),
)
def test_angular_invariant_to_scaling_from_1e_minus_150_to_1e150(data, alpha, log_c, side):
    # The eigenvalue floor is relative to the data's scale, so no scale turns the
    # whitening off (netrep's absolute floor did, below a standard deviation of 1e-4).
    (X, Y), _ = data
    metric = LinearMetric(alpha=alpha)
    c = 10.0**log_c
    A = c * X if side in ("X", "both") else X
    B = c * Y if side in ("Y", "both") else Y
    expected = fit_distance(metric, X, Y)
    assert abs(fit_distance(metric, A, B) - expected) <= TOL
    assert abs(pairwise_distances(metric, [A, B])[0][0, 1] - expected) <= TOL


@PROPERTY_SETTINGS
@given(data=representations(count=2), log_c=st.floats(-150, 150))
def test_intermediate_alpha_scale_law(data, log_c):
    # netrep's definition at 0 < alpha < 1: c * X whitens as X does with
    # alpha * c / (alpha * c + 1 - alpha); both representations scaled alike.
    (X, Y), _ = data
    c = 10.0**log_c
    effective = 0.5 * c / (0.5 * c + 0.5)
    expected = fit_distance(LinearMetric(alpha=effective), X, Y)
    metric = LinearMetric(alpha=0.5)
    assert abs(fit_distance(metric, c * X, c * Y) - expected) <= 1e-9
    assert abs(pairwise_distances(metric, [c * X, c * Y])[0][0, 1] - expected) <= 1e-9


@st.composite
def mixed_widths(draw, count=3):
    """``count`` random representations with the same rows and different widths."""
    widths = [draw(st.integers(1, 6)) for _ in range(count)]
    n_samples = draw(st.integers(2 * max(widths) + 2, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return [rng.standard_normal((n_samples, p)) for p in widths]


@PROPERTY_SETTINGS
@given(networks=mixed_widths(), alpha=st.sampled_from(ALPHAS))
def test_triangle_inequality_angular_across_widths(networks, alpha):
    # Zero padding rescales a whitened network by a factor that depends on its
    # partner; the angle ignores it, so the angular distance stays a metric.
    X, Y, M = networks
    metric = LinearMetric(alpha=alpha)
    assert (
        fit_distance(metric, X, Y) <= fit_distance(metric, X, M) + fit_distance(metric, M, Y) + TOL
    )


@PROPERTY_SETTINGS
@given(data=representations(count=3), alpha=st.sampled_from(ALPHAS))
def test_triangle_inequality_euclidean_equal_widths(data, alpha):
    # With equal widths each network's whitened data is fixed: the distance is the
    # Procrustes distance between fixed points, a metric (documented in LinearMetric).
    (X, Y, M), _ = data
    metric = LinearMetric(alpha=alpha, score_method="euclidean")
    d_xy = fit_distance(metric, X, Y)
    assert d_xy <= fit_distance(metric, X, M) + fit_distance(metric, M, Y) + TOL * (1 + d_xy)


@PROPERTY_SETTINGS
@given(
    data=representations(count=2),
    method=st.sampled_from(["angular", "euclidean"]),
    center=st.booleans(),
)
def test_permutation_metric_invariant_to_permutations(data, method, center):
    (X, Y), rng = data
    order = rng.permutation(Y.shape[1])
    metric = PermutationMetric(score_method=method, center_columns=center)
    scale = 1.0 if method == "angular" else np.linalg.norm(Y)
    assert fit_distance(metric, Y, Y[:, order]) <= TOL * scale
    assert abs(fit_distance(metric, X, Y[:, order]) - fit_distance(metric, X, Y)) <= TOL * scale


@PROPERTY_SETTINGS
@given(
    data=representations(count=2),
    alpha=st.sampled_from(ALPHAS),
    method=st.sampled_from(["angular", "euclidean"]),
)
def test_numpy_and_torch_agree_in_float64(data, alpha, method):
    torch = pytest.importorskip("torch")
    (X, Y), _ = data
    expected = fit_distance(LinearMetric(alpha=alpha, score_method=method), X, Y)
    scale = 1.0 if method == "angular" else max(1.0, expected)
    on_device = fit_distance(LinearMetric(alpha=alpha, score_method=method, device="cpu"), X, Y)
    tensors = fit_distance(
        LinearMetric(alpha=alpha, score_method=method), torch.from_numpy(X), torch.from_numpy(Y)
    )
    assert abs(on_device - expected) <= TOL * scale
    assert abs(tensors - expected) <= TOL * scale
