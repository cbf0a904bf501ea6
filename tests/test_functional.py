"""The pure math in skrep.functional against closed forms."""

import numpy as np
import pytest
from conftest import random_orthogonal

from skrep.functional import (
    angular_distance,
    apply_alignment,
    euclidean_distance,
    fit_linear_alignment,
    fit_permutation_alignment,
    partial_whitening_matrix,
)
from skrep.metrics import LinearMetric


@pytest.fixture
def centered_pair(rng):
    X = rng.standard_normal((80, 6)) @ rng.standard_normal((6, 6))
    Y = rng.standard_normal((80, 6)) + 0.5 * X
    return X - X.mean(0), Y - Y.mean(0)


def test_full_whitening_gives_isotropic_data(centered_pair):
    X, _ = centered_pair
    Z = partial_whitening_matrix(X, 0.0)
    C = (X @ Z).T @ (X @ Z)
    # preserve_variance: X @ Z has orthogonal columns of equal norm, same total variance
    np.testing.assert_allclose(C, np.trace(X.T @ X) / 6 * np.eye(6), atol=1e-9 * np.trace(C))
    Z_raw = partial_whitening_matrix(X, 0.0, preserve_variance=False)
    np.testing.assert_allclose((X @ Z_raw).T @ (X @ Z_raw), np.eye(6), atol=1e-10)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
def test_partial_whitening_preserves_total_variance(centered_pair, alpha):
    X, _ = centered_pair
    Z = partial_whitening_matrix(X, alpha)
    np.testing.assert_allclose(np.sum((X @ Z) ** 2), np.sum(X**2), rtol=1e-12)
    np.testing.assert_allclose(Z, Z.T, atol=1e-14)


def test_no_whitening_at_alpha_one(centered_pair):
    X, _ = centered_pair
    np.testing.assert_array_equal(partial_whitening_matrix(X, 1.0), np.eye(6))


def test_alpha_zero_is_arccos_of_mean_canonical_correlation(centered_pair):
    X, Y = centered_pair
    Qx, _ = np.linalg.qr(X)
    Qy, _ = np.linalg.qr(Y)
    canonical_correlations = np.linalg.svd(Qx.T @ Qy, compute_uv=False)
    expected = np.arccos(np.mean(canonical_correlations))
    assert abs(LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y) - expected) < 1e-10


def test_procrustes_closed_forms(centered_pair):
    X, Y = centered_pair
    nuclear = np.linalg.svd(X.T @ Y, compute_uv=False).sum()
    nx, ny = np.linalg.norm(X), np.linalg.norm(Y)
    angular = LinearMetric(alpha=1.0).fit(X, Y).distance(X, Y)
    assert abs(angular - np.arccos(nuclear / (nx * ny))) < 1e-10
    euclid = LinearMetric(alpha=1.0, score_method="euclidean").fit(X, Y).distance(X, Y)
    assert abs(euclid - np.sqrt(nx**2 + ny**2 - 2 * nuclear)) < 1e-10 * euclid


def test_alignment_maps_are_rotations_at_alpha_one(centered_pair):
    X, Y = centered_pair
    mx, my, Wx, Wy = fit_linear_alignment(X, Y, 1.0)
    np.testing.assert_allclose(Wx.T @ Wx, np.eye(6), atol=1e-12)
    # the aligned cross-covariance is symmetric positive semi-definite
    C = apply_alignment(X, mx, Wx).T @ apply_alignment(Y, my, Wy)
    np.testing.assert_allclose(C, C.T, atol=1e-9 * np.abs(C).max())
    assert np.all(np.linalg.eigvalsh((C + C.T) / 2) > -1e-9 * np.abs(C).max())


def test_principal_angles_of_orthonormal_bases(rng):
    # netrep's own check: uncentered Procrustes between orthonormal bases is
    # the arccos of the mean cosine of their principal angles.
    X = random_orthogonal(rng, 30)[:, :5]
    Y = random_orthogonal(rng, 30)[:, :5]
    cosines = np.linalg.svd(X.T @ Y, compute_uv=False)
    d = LinearMetric(alpha=1.0, center_columns=False).fit(X, Y).distance(X, Y)
    assert abs(d - np.arccos(np.mean(cosines))) < 1e-10


def test_ground_metrics(rng):
    A = rng.standard_normal((10, 3))
    B = rng.standard_normal((10, 3))
    cosine = np.sum(A * B) / (np.linalg.norm(A) * np.linalg.norm(B))
    assert abs(angular_distance(A, B) - np.arccos(cosine)) < 1e-12
    assert angular_distance(A, 2.5 * A) < 1e-15
    assert abs(angular_distance(A, -A) - np.pi) < 1e-15
    assert euclidean_distance(A, B) == pytest.approx(np.sqrt(np.sum((A - B) ** 2)), rel=1e-14)
    with pytest.raises(ValueError, match="all zeros"):
        angular_distance(A, np.zeros_like(A))


def test_angular_distance_is_accurate_near_zero(rng):
    A = rng.standard_normal((50, 4))
    E = rng.standard_normal((50, 4))
    eps = 1e-9
    # exact angle between A and A + eps*E to first order: eps*|E_perp|/|A|
    E_perp = E - np.sum(A * E) / np.sum(A * A) * A
    expected = eps * np.linalg.norm(E_perp) / np.linalg.norm(A)
    assert abs(angular_distance(A, A + eps * E) - expected) < 1e-6 * expected


def test_permutation_alignment_recovers_the_permutation(rng):
    X = rng.standard_normal((40, 7))
    order = rng.permutation(7)
    _, _, Px, Py = fit_permutation_alignment(X, X[:, order])
    np.testing.assert_array_equal(Px, np.arange(7))
    np.testing.assert_array_equal(order[Py], np.arange(7))


@pytest.mark.parametrize(
    "call",
    [
        lambda X, Y: partial_whitening_matrix(X, 0.5),
        lambda X, Y: fit_linear_alignment(X, Y, 0.5),
        lambda X, Y: fit_permutation_alignment(X, Y),
        lambda X, Y: angular_distance(X, Y),
        lambda X, Y: euclidean_distance(X, Y),
    ],
)
def test_public_functions_reject_bad_input(call, rng):
    X = rng.standard_normal((10, 3))
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"contains 1 NaN.*expected finite"):
        call(bad, X)
    with pytest.raises(ValueError, match=r"must be a 2-D array.*1-D array of shape \(10,\)"):
        call(X[:, 0], X)
    with pytest.raises(ValueError, match=r"holds strings"):
        call([["a", "b"]] * 10, X[:, :2])


def test_pair_functions_reject_mismatched_shapes(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match=r"X has 3 columns but Y has 2; expected the same width"):
        fit_linear_alignment(X, X[:, :2], 1.0)
    with pytest.raises(ValueError, match=r"A has 10 samples \(rows\) but B has 4"):
        angular_distance(X, X[:4])
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\].*alpha=1.5"):
        fit_linear_alignment(X, X, 1.5)
    with pytest.raises(ValueError, match=r"X has 3 columns, but the alignment expects 4"):
        apply_alignment(X, np.zeros(4), np.eye(4))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 1.0])
def test_padding_rescale_equals_whitening_the_padded_data(alpha, rng):
    from skrep.functional import padding_rescale, partial_whitening_matrix
    from skrep.functional.linear import _partial_whitening

    X = rng.standard_normal((30, 4)) * [1.0, 2.0, 0.5, 3.0]
    padded = np.hstack([X, np.zeros((30, 3))])
    Z, total_eigval, total_variance = _partial_whitening(X, alpha)
    factor = padding_rescale(total_eigval, total_variance, 3, alpha)
    expected = padded @ partial_whitening_matrix(padded, alpha)
    np.testing.assert_allclose(expected[:, :4], factor * (X @ Z), atol=1e-10)
    np.testing.assert_allclose(expected[:, 4:], 0.0, atol=1e-10)
    assert padding_rescale(total_eigval, total_variance, 0, alpha) == 1.0


def test_batched_functions_reject_bad_input(rng):
    from skrep.exceptions import InvalidParameterError
    from skrep.functional import padding_rescale
    from skrep.functional.batched import (
        linear_block_distances,
        permutation_block_distances,
        prepare_centered_network,
        prepare_linear_network,
    )

    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        prepare_linear_network(np.where(X == X[0, 0], np.nan, X), 0.5)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        prepare_centered_network(X[0])
    with pytest.raises(ValueError, match="X_test has 2 columns, but the training data X expects 3"):
        prepare_centered_network(X, X[:, :2])
    with pytest.raises(InvalidParameterError, match=r"alpha=2"):
        prepare_linear_network(X, 2)
    with pytest.raises(ValueError, match="n_padded must be a non-negative integer; got -1"):
        padding_rescale(1.0, 1.0, -1, 0.5)
    nets = [prepare_centered_network(X), prepare_centered_network(X, X)]
    with pytest.raises(ValueError, match="held-out data and some without"):
        permutation_block_distances(nets, nets, [(0, 1)])
    with pytest.raises(ValueError, match=r"pairs holds \(0, 5\), but nets_a has 2"):
        permutation_block_distances(nets[:1] * 2, nets[:1] * 2, [(0, 5)])
    with pytest.raises(TypeError, match="PreparedNetwork objects"):
        linear_block_distances([X, X], [X, X], [(0, 1)], alpha=1.0)


def test_batched_functions_equal_a_single_fit(rng):
    from skrep.functional.batched import linear_block_distances, prepare_linear_network

    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 6))
    nets = [prepare_linear_network(A, 0.5) for A in (X, Y)]
    train, test = linear_block_distances(nets, nets, [(0, 1)], alpha=0.5, same_block=True)
    assert test is None
    assert train[0] == pytest.approx(LinearMetric(alpha=0.5).fit(X, Y).distance(X, Y), abs=1e-12)
