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
@pytest.mark.parametrize("relative_tol", [True, False])
def test_padding_rescale_equals_whitening_the_padded_data(alpha, relative_tol, rng):
    from skrep.functional import padding_rescale, partial_whitening_matrix
    from skrep.functional._whitening import partial_whitening

    X = rng.standard_normal((30, 4)) * [1.0, 2.0, 0.5, 3.0]
    padded = np.hstack([X, np.zeros((30, 3))])
    # In the units of the normalized data, with the effective alpha and floor it used.
    w = partial_whitening(X, alpha, relative_tol=relative_tol)
    if w.total_eigval is None:
        factor = padding_rescale(None, None, 3, alpha)
    else:
        factor = padding_rescale(
            w.total_eigval, w.total_variance, 3, w.alpha, eigval_tol=w.eigval_floor
        )
    expected = padded @ partial_whitening_matrix(padded, alpha, relative_tol=relative_tol)
    np.testing.assert_allclose(expected[:, :4], factor * (X @ w.matrix(X)), atol=1e-10)
    np.testing.assert_allclose(expected[:, 4:], 0.0, atol=1e-10)
    assert padding_rescale(w.total_eigval, w.total_variance, 0, alpha) == 1.0


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


def test_apply_alignment_rejects_bad_offsets_and_maps(rng):
    X = rng.standard_normal((10, 3))
    W = np.eye(3)
    with pytest.raises(ValueError, match=r"offset contains 1 NaN"):
        apply_alignment(X, np.array([0.0, np.nan, 0.0]), W)
    with pytest.raises(
        ValueError, match=r"offset must be a 1-D array.*3-D array of shape \(1, 1, 3\)"
    ):
        apply_alignment(X, np.zeros((1, 1, 3)), W)
    with pytest.raises(ValueError, match=r"[Cc]omplex"):
        apply_alignment(X, np.zeros(3) + 1j, W)
    bad_W = np.eye(3)
    bad_W[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"W contains 1 NaN"):
        apply_alignment(X, np.zeros(3), bad_W)
    with pytest.raises(ValueError, match=r"W must be a 2-D array.*1-D array of shape \(3,\)"):
        apply_alignment(X, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"X has 3 columns, but the alignment expects 2"):
        apply_alignment(X, np.zeros(2), np.eye(2))


def test_apply_permutation_rejects_bad_orders_and_offsets(rng):
    from skrep.functional import apply_permutation

    X = rng.standard_normal((10, 3))
    np.testing.assert_array_equal(
        apply_permutation(X, np.zeros(3), np.array([2, 0, 1])), X[:, [2, 0, 1]]
    )
    with pytest.raises(ValueError, match=r"order must be a permutation of 0\.\.2.*\[0, 0, 1\]"):
        apply_permutation(X, np.zeros(3), np.array([0, 0, 1]))
    with pytest.raises(ValueError, match=r"order must be a permutation of 0\.\.2.*\[0, 1, 5\]"):
        apply_permutation(X, np.zeros(3), np.array([0, 1, 5]))
    with pytest.raises(ValueError, match=r"order must hold integers.*float64"):
        apply_permutation(X, np.zeros(3), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"order must be a 1-D integer array.*2-D array"):
        apply_permutation(X, np.zeros(3), np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"offset contains 1 NaN"):
        apply_permutation(X, np.array([np.nan, 0.0, 0.0]), np.arange(3))
    with pytest.raises(ValueError, match=r"offset must be a 1-D array"):
        apply_permutation(X, np.zeros((3, 1)), np.arange(3))


@pytest.mark.parametrize("eigval_tol", [np.nan, np.inf, 0.0, -1e-7, "1e-7", True])
def test_eigval_tol_must_be_a_positive_number(eigval_tol, rng):
    from skrep.functional import padding_rescale

    X = rng.standard_normal((10, 3))
    with pytest.raises(
        ValueError, match=r"eigval_tol must be a finite number > 0.*got eigval_tol="
    ):
        partial_whitening_matrix(X, 0.5, eigval_tol=eigval_tol)
    with pytest.raises(ValueError, match=r"eigval_tol must be a finite number > 0"):
        padding_rescale(10.0, 5.0, 2, 0.5, eigval_tol=eigval_tol)


@pytest.mark.parametrize(
    "sums, message",
    [
        (
            (-1.0, 5.0),
            r"total_eigval must be None or a finite number > 0 .*; got total_eigval=-1.0",
        ),
        (
            (10.0, np.nan),
            r"total_variance must be None or a finite number > 0 .*; got total_variance=nan",
        ),
        ((10.0, 0.0), r"total_variance must be None or a finite number > 0"),
        ((None, 5.0), r"must both be None \(no whitening\) or both numbers"),
    ],
)
def test_padding_rescale_rejects_bad_sums(sums, message):
    from skrep.functional import padding_rescale

    with pytest.raises(ValueError, match=message):
        padding_rescale(*sums, 2, 0.5)


def test_relative_floor_follows_the_data_and_absolute_floor_is_netreps(centered_pair):
    X, _ = centered_pair
    # Relative floor (default): the full whitening does not depend on the units.
    for c in (1e-5, 1e-150, 1e150):
        np.testing.assert_allclose(
            partial_whitening_matrix(c * X, 0.0), partial_whitening_matrix(X, 0.0), atol=1e-12
        )
    # netrep's absolute floor: at 1e-6 every eigenvalue of X.T @ X is below 1e-7 and
    # clipped to it, so the whitening is the identity.
    assert np.linalg.eigvalsh((1e-6 * X).T @ (1e-6 * X)).max() < 1e-7
    Z = partial_whitening_matrix(1e-6 * X, 0.0, relative_tol=False)
    np.testing.assert_allclose(Z, np.eye(6), atol=1e-12)
    # Where no eigenvalue reaches either floor, the two agree.
    np.testing.assert_allclose(
        partial_whitening_matrix(X, 0.3, relative_tol=False),
        partial_whitening_matrix(X, 0.3),
        atol=1e-14,
    )


def test_partial_whitening_scale_law_for_intermediate_alpha(centered_pair):
    # c * X is whitened as X is with alpha * c / (alpha * c + 1 - alpha) (netrep's
    # definition: the two terms of d scale differently), at any scale.
    X, _ = centered_pair
    for c in (1e-3, 10.0, 1e-120, 1e120):
        effective = 0.5 * c / (0.5 * c + 0.5)
        np.testing.assert_allclose(
            partial_whitening_matrix(c * X, 0.5),
            partial_whitening_matrix(X, effective),
            atol=1e-12,
        )


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("method", ["angular", "euclidean"])
def test_training_distance_from_singular_values_equals_the_aligned_data(alpha, method, rng):
    from skrep.functional import ground_metrics
    from skrep.functional.linear import fit_linear

    X = rng.standard_normal((40, 5)) @ rng.standard_normal((5, 5))
    Y = X @ rng.standard_normal((5, 5)) + rng.standard_normal((40, 5))
    fit = fit_linear(X, Y, alpha)
    # Before the rotations are computed (netrep's route: map the data, then measure).
    training = fit.training_distance(method)
    mx, my, Wx, Wy = fit.alignment()
    mapped = ground_metrics.GROUND_METRICS[method]((X - mx) @ Wx, (Y - my) @ Wy)
    assert training == pytest.approx(mapped, rel=1e-12, abs=0)
    assert fit.training_distance(method) == training  # also after the rotations
    np.testing.assert_allclose(Wx, fit_linear_alignment(X, Y, alpha).Wx, atol=1e-12)
    # Near zero the formula cancels: it declines, and the data decide.
    assert fit_linear(X, X, alpha).training_distance(method) is None
    with pytest.raises(ValueError, match="score_method must be 'angular' or 'euclidean'"):
        fit.training_distance("cosine")
