"""GaussianStochasticMetric and EnergyStochasticMetric: references, closed forms, invariances."""

import itertools
import tracemalloc

import numpy as np
import ot
import pytest
from conftest import load_reference, random_orthogonal
from netrep_gaussian_reference import netrep_gaussian_fit, scored_sq_distance
from scipy.spatial.distance import cdist, pdist
from sklearn.covariance import LedoitWolf
from sklearn.model_selection import KFold, cross_validate

from skrep import EnergyStochasticMetric, GaussianStochasticMetric, LinearMetric, pairwise_distances
from skrep.exceptions import InvalidParameterError
from skrep.functional._gaussian_objective import GaussianPairsObjective
from skrep.functional._square_svd import RememberedSquareSVD, square_svd
from skrep.functional.stochastic import (
    class_statistics,
    energy_distance,
    fit_gaussian_alignment,
    gaussian_statistics,
    sq_bures_distances,
)


def random_gaussians(rng, n_classes=6, n_features=4, rank=None, scale=1.0):
    rank = n_features if rank is None else rank
    means = scale * rng.standard_normal((n_classes, n_features))
    factors = rng.standard_normal((n_classes, n_features, rank)) / np.sqrt(rank)
    return means, scale**2 * factors @ factors.transpose(0, 2, 1)


# -- netrep reference values ---------------------------------------------------------------
@pytest.fixture(scope="module")
def gaussian_ref():
    return load_reference("netrep", "gaussian_a1p0")


@pytest.fixture(scope="module")
def energy_ref():
    return load_reference("netrep", "energy")


def test_gaussian_matches_netrep_reference(gaussian_ref):
    ref = gaussian_ref
    X, Y = (ref["means_X"], ref["covs_X"]), (ref["means_Y"], ref["covs_Y"])
    metric = GaussianStochasticMetric(alpha=1.0).fit(X, Y)
    distance = metric.distance(X, Y)
    assert distance == pytest.approx(float(ref["dist_means_init"]), abs=1e-8)
    assert distance <= float(ref["dist_means_init"]) + 1e-12  # converged at least as far
    assert metric.score(X, Y) == -distance
    # netrep stopped a little earlier (absolute tolerance on its loss), so T agrees to ~1e-5.
    np.testing.assert_allclose(metric.T_, ref["T_means_init"], atol=1e-4)
    _, (means, covs) = metric.transform(X, Y)
    np.testing.assert_allclose(means, ref["transformed_means_Y"], atol=1e-4)
    np.testing.assert_allclose(covs, ref["transformed_covs_Y"], atol=1e-4)
    swapped = GaussianStochasticMetric().fit(Y, X).distance(Y, X)
    assert swapped == pytest.approx(float(ref["dist_swapped_means_init"]), abs=1e-8)
    rotated = (ref["means_Y_rot"], ref["covs_Y_rot"])
    assert GaussianStochasticMetric().fit(X, rotated).distance(X, rotated) < 1e-7
    # Random starts in either component of O(4): the best optimum is reached
    # only by crossing between rotations and reflections.
    restarts = GaussianStochasticMetric(init="rand", n_restarts=5, random_state=0).fit(X, Y)
    assert restarts.distance(X, Y) <= float(ref["dist_rand_init_5restarts_rs0"]) + 1e-8
    bures = sq_bures_distances(ref["covs_X"][:1], ref["covs_Y"][:1])
    assert bures[0] == pytest.approx(float(ref["sq_bures_class0"]), abs=1e-10)


def test_netrep_loop_reproduces_netrep_history(gaussian_ref):
    """The second implementation used below is netrep's algorithm (checked on its output)."""
    ref = gaussian_ref
    T, history = netrep_gaussian_fit(
        ref["means_X"], ref["covs_X"], ref["means_Y"], ref["covs_Y"], alpha=1.0
    )
    np.testing.assert_allclose(history, ref["loss_hist_means_init"], rtol=1e-10)
    np.testing.assert_allclose(T, ref["T_means_init"], atol=1e-10)


def test_energy_matches_netrep_reference(energy_ref):
    ref = energy_ref
    metric = EnergyStochasticMetric().fit(ref["X"], ref["Y"])
    assert metric.distance(ref["X"], ref["Y"]) == pytest.approx(float(ref["dist"]), abs=1e-10)
    np.testing.assert_allclose(metric.Q_, ref["Q"], atol=1e-10)
    np.testing.assert_allclose(metric.loss_history_, ref["loss_hist"], rtol=1e-10)
    _, aligned = metric.transform(ref["X"], ref["Y"])
    np.testing.assert_allclose(aligned, ref["Y_aligned"], atol=1e-10)
    swapped = EnergyStochasticMetric().fit(ref["Y"], ref["X"]).distance(ref["Y"], ref["X"])
    assert swapped == pytest.approx(float(ref["dist_swapped"]), abs=1e-10)


# -- closed forms and second implementations ---------------------------------------------------
def test_identity_group_alpha_one_is_mean_squared_wasserstein(rng):
    """POT's Bures-Wasserstein distance between each pair of class Gaussians."""
    X, Y = random_gaussians(rng), random_gaussians(rng)
    metric = GaussianStochasticMetric(group="identity").fit(X, Y)
    w2 = [
        ot.gaussian.bures_wasserstein_distance(mx, my, cx, cy) ** 2
        for mx, my, cx, cy in zip(X[0], Y[0], X[1], Y[1], strict=True)
    ]
    assert metric.distance(X, Y) == pytest.approx(np.sqrt(np.mean(w2)), abs=1e-10)
    np.testing.assert_array_equal(metric.T_, np.eye(4))


def test_alpha_two_is_procrustes_on_means(rng):
    X, Y = random_gaussians(rng, n_classes=10), random_gaussians(rng, n_classes=10)
    gaussian = GaussianStochasticMetric(alpha=2.0).fit(X, Y).distance(X, Y)
    linear = LinearMetric(alpha=1.0, center_columns=False, score_method="euclidean")
    procrustes = linear.fit(X[0], Y[0]).distance(X[0], Y[0])
    assert gaussian == pytest.approx(np.sqrt(2 / 10) * procrustes, abs=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("seed", range(4))
def test_distance_at_most_netreps(alpha, seed):
    """Both minimise over rotations; skrep minimises the scored objective itself."""
    rng = np.random.default_rng(seed)
    X = random_gaussians(rng, n_classes=8, n_features=5)
    Y = random_gaussians(rng, n_classes=8, n_features=5)
    T, _ = netrep_gaussian_fit(*X, *Y, alpha=alpha)
    netrep_sq = scored_sq_distance(*X, *Y, T, alpha)
    ours = GaussianStochasticMetric(alpha=alpha).fit(X, Y).distance(X, Y)
    assert ours <= np.sqrt(max(netrep_sq, 0)) + 1e-8
    # and the reported distance is the scored objective at the returned T
    fitted = GaussianStochasticMetric(alpha=alpha).fit(X, Y)
    assert fitted.distance(X, Y) ** 2 == pytest.approx(
        scored_sq_distance(*X, *Y, fitted.T_, alpha), abs=1e-10
    )


# -- the fit: trust-region Newton after minorise-maximise ---------------------------------
@pytest.mark.parametrize("rank", [4, 2])
def test_gaussian_hessian_matches_finite_differences(rng, rank):
    """The closed-form Hessian-vector product against central differences of the gradient."""
    X = gaussian_statistics(*random_gaussians(rng, n_classes=5, n_features=4, rank=rank))
    Y = gaussian_statistics(*random_gaussians(rng, n_classes=5, n_features=4, rank=4))
    objective = GaussianPairsObjective([X], [Y], 0.7, np)
    pair = np.zeros(1, dtype=int)

    def evaluate(A):
        return objective.evaluate(A[None], pair)

    T = random_orthogonal(rng, 4)
    V = rng.standard_normal((4, 4))
    h = 1e-6
    difference = (evaluate(T + h * V).gradients[0] - evaluate(T - h * V).gradients[0]) / (2 * h)
    factors = objective.hessian_factors(evaluate(T))
    np.testing.assert_allclose(objective.hessian(factors, V[None])[0], difference, atol=1e-6)
    # and the gradient against central differences of the value
    value = lambda A: evaluate(A).values[0]  # noqa: E731
    directional = (value(T + h * V) - value(T - h * V)) / (2 * h)
    assert np.sum(evaluate(T).gradients[0] * V) == pytest.approx(directional, abs=1e-7)


@pytest.mark.parametrize("ratio", [1e-8, 1e-12])
def testsquare_svd_matches_an_svd_and_falls_back_when_ill_conditioned(rng, ratio):
    """SVDs from eigendecompositions of M'M: exact enough where well conditioned, else an SVD."""
    n = 6
    U0 = np.stack([random_orthogonal(rng, n) for _ in range(12)])
    V0 = np.stack([random_orthogonal(rng, n) for _ in range(12)])
    # condition numbers from 1 to 1e9, and an exactly singular matrix
    conditions = np.logspace(0, 9, 11).tolist() + [np.inf]
    s0 = np.stack(
        [
            np.geomspace(1.0, 1 / c, n) if np.isfinite(c) else np.r_[np.ones(n - 1), 0.0]
            for c in conditions
        ]
    )
    M = (U0 * s0[:, None, :]) @ V0.transpose(0, 2, 1)
    U, s, Vt, failed = square_svd(M.reshape(3, 4, n, n), ratio, np)
    U, s, Vt = U.reshape(-1, n, n), s.reshape(-1, n), Vt.reshape(-1, n, n)
    # singular values to about eps * cond * s_max (the square's rounding, cond^2 <= 1 / ratio)
    atol = 4 * np.finfo(float).eps / np.sqrt(ratio)
    np.testing.assert_allclose(np.sort(s, axis=-1), np.sort(s0, axis=-1), rtol=0, atol=atol)
    np.testing.assert_allclose((U * s[:, None, :]) @ Vt, M, atol=1e-12)
    eye = np.broadcast_to(np.eye(n), U.shape)
    np.testing.assert_allclose(Vt @ Vt.transpose(0, 2, 1), eye, atol=1e-12)
    # U is orthonormal to about eps * cond^2 where the square is used (cond^2 <= 1 / ratio),
    # to rounding where the SVD is (the singular matrix, and cond^2 above 1 / ratio)
    well = np.array(conditions) ** 2 <= 1 / ratio
    assert well.sum() < len(conditions) - 1
    error = np.abs(U.transpose(0, 2, 1) @ U - eye).max(axis=(1, 2))
    assert np.all(error[well] <= 1e3 * np.finfo(float).eps / ratio)
    assert np.all(error[~well] <= 1e-12)
    np.testing.assert_array_equal(failed, np.flatnonzero(~well))
    # remembered per matrix: the failures go straight to the SVD next time, same factors
    remembered = RememberedSquareSVD((3, 4), ratio)
    first = remembered(M.reshape(3, 4, n, n), np.arange(3), np)
    np.testing.assert_array_equal(remembered.squarable.reshape(-1), well)
    second = remembered(M.reshape(3, 4, n, n), np.arange(3), np)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    # and a matrix not tried on the square gets an SVD (descending singular values)
    _, s_svd, _, none_failed = square_svd(M[:1], ratio, np, attempt=np.zeros(1, dtype=bool))
    assert len(none_failed) == 0
    np.testing.assert_allclose(s_svd[0], s0[0], atol=1e-14)


def test_gaussian_points_match_an_exact_evaluation(rng):
    """Values and gradients from the cheaper decomposition agree with scored terms and an SVD."""
    x_moments = random_gaussians(rng, n_classes=5, n_features=4, rank=4)
    y_moments = random_gaussians(rng, n_classes=5, n_features=4, rank=4)
    X, Y = gaussian_statistics(*x_moments), gaussian_statistics(*y_moments)
    objective = GaussianPairsObjective([X], [Y], 0.7, np)
    T = np.stack([random_orthogonal(rng, 4) for _ in range(3)])
    points = objective.evaluate(T, np.zeros(3, dtype=int))
    for k in range(3):
        # netrep's scoring formula at Y aligned by T
        expected = scored_sq_distance(*x_moments, *y_moments, T[k], 0.7)
        assert points.values[k] == pytest.approx(expected, rel=1e-12, abs=1e-14)
    # the gradient: the polar factors of M_i = sY_i T sX_i from numpy's SVD
    M = Y.sqrt_covariances[None] @ T[:, None] @ X.sqrt_covariances[None]
    u, _, vt = np.linalg.svd(M)
    polar_sum = np.sum(Y.sqrt_covariances[None] @ (u @ vt) @ X.sqrt_covariances[None], axis=1)
    cross = Y.means.T @ X.means
    expected_gradients = -2 * (0.7 * cross + 1.3 * polar_sum) / 5
    np.testing.assert_allclose(points.gradients, expected_gradients, rtol=1e-10, atol=1e-12)


def test_gaussian_fit_reaches_a_critical_point_in_few_iterations():
    """Newton's method ends where minorise-maximise would stay, in far fewer iterations."""
    rng = np.random.default_rng(3)
    n = 12
    means_x = rng.standard_normal((10, n))
    factors = rng.standard_normal((10, n, n)) / np.sqrt(n)
    covs_x = factors @ factors.transpose(0, 2, 1)
    rotation = random_orthogonal(rng, n)
    noise = 0.3 * rng.standard_normal((10, n, n)) / np.sqrt(n)
    X = (means_x, covs_x)
    Y = (means_x @ rotation + 0.3 * rng.standard_normal((10, n)), rotation.T @ covs_x @ rotation)
    Y = (Y[0], Y[1] + noise @ noise.transpose(0, 2, 1))
    stats_x, stats_y = gaussian_statistics(*X), gaussian_statistics(*Y)
    result = fit_gaussian_alignment(stats_x, stats_y)
    netrep_T, netrep_history = netrep_gaussian_fit(*X, *Y, alpha=1.0, tol=1e-12)
    assert result.converged
    assert result.n_iter < len(netrep_history) / 2
    assert result.sq_distance <= scored_sq_distance(*X, *Y, netrep_T, 1.0) + 1e-12
    # First-order optimality on O(n): T' G is symmetric at a critical point.
    objective = GaussianPairsObjective([stats_x], [stats_y], 1.0, np)
    gradient = objective.evaluate(result.T[None], np.zeros(1, dtype=int)).gradients
    projected = result.T.T @ gradient[0]
    np.testing.assert_allclose(projected, projected.T, atol=1e-7)
    # and the minorise-maximise step from there goes nowhere.
    step = objective.descent_steps(gradient, "orth")[0]
    np.testing.assert_allclose(step, result.T, atol=1e-6)


def test_rank_deficient_covariances(rng):
    """netrep's sqrt of negative rounding eigenvalues gives NaN; here they are clipped."""
    X = random_gaussians(rng, n_classes=5, n_features=6, rank=2)
    Y = random_gaussians(rng, n_classes=5, n_features=6, rank=1)
    metric = GaussianStochasticMetric().fit(X, Y)
    distance = metric.distance(X, Y)
    assert np.isfinite(distance) and distance > 0
    # The loop takes square roots of eigenvalues that are zero up to rounding
    # (an error of ~sqrt(1e-16) each); skrep's Frobenius form has no such loss.
    assert distance**2 == pytest.approx(scored_sq_distance(*X, *Y, metric.T_, 1.0), abs=1e-6)
    identity = GaussianStochasticMetric(group="identity").fit(X, Y).distance(X, Y)
    assert distance <= identity + 1e-12


def test_distance_invariant_to_rotations_and_zero_for_copies(rng):
    X = random_gaussians(rng)
    Q = random_orthogonal(rng, 4)
    rotated = (X[0] @ Q, Q.T @ X[1] @ Q)
    assert GaussianStochasticMetric().fit(X, rotated).distance(X, rotated) < 1e-9
    Y = random_gaussians(rng)
    d = GaussianStochasticMetric().fit(X, Y).distance(X, Y)
    Y_rot = (Y[0] @ Q, Q.T @ Y[1] @ Q)
    assert GaussianStochasticMetric().fit(X, Y_rot).distance(X, Y_rot) == pytest.approx(d, abs=1e-7)


def test_perm_group_recovers_permutation_and_brute_force(rng):
    X = random_gaussians(rng, n_features=3)
    order = np.array([2, 0, 1])
    permuted = (X[0][:, order], X[1][:, order][:, :, order])
    metric = GaussianStochasticMetric(group="perm").fit(X, permuted)
    assert metric.distance(X, permuted) < 1e-9
    np.testing.assert_allclose(permuted[0] @ metric.T_, X[0], atol=1e-12)
    Y = random_gaussians(rng, n_features=3)
    fitted = GaussianStochasticMetric(group="perm", n_restarts=4, random_state=0).fit(X, Y)
    brute = min(
        scored_sq_distance(*X, *Y, np.eye(3)[list(p)], 1.0)
        for p in itertools.permutations(range(3))
    )
    assert fitted.distance(X, Y) == pytest.approx(np.sqrt(brute), abs=1e-10)
    assert set(np.unique(fitted.T_)) <= {0.0, 1.0}


def test_raw_responses_equal_tuple_of_moments(rng):
    responses_x = rng.standard_normal((5, 20, 3))
    responses_y = rng.standard_normal((5, 15, 3)) @ random_orthogonal(rng, 3) + 0.1
    moments = [
        (r.mean(axis=1), np.stack([np.cov(c.T) for c in r])) for r in (responses_x, responses_y)
    ]
    raw = (
        GaussianStochasticMetric().fit(responses_x, responses_y).distance(responses_x, responses_y)
    )
    tup = GaussianStochasticMetric().fit(*moments).distance(*moments)
    assert raw == pytest.approx(tup, abs=1e-12)
    shrunk = [
        (r.mean(axis=1), np.stack([LedoitWolf().fit(c).covariance_ for c in r]))
        for r in (responses_x, responses_y)
    ]
    metric = GaussianStochasticMetric(covariance_estimator=LedoitWolf())
    assert metric.fit(responses_x, responses_y).distance(responses_x, responses_y) == pytest.approx(
        GaussianStochasticMetric().fit(*shrunk).distance(*shrunk), abs=1e-12
    )
    means, covariances = class_statistics(responses_x)
    np.testing.assert_allclose(covariances[2], np.cov(responses_x[2].T), atol=1e-14)


def test_deterministic_responses_are_point_masses(rng):
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    zero = np.zeros((6, 3, 3))
    points = GaussianStochasticMetric().fit(X, Y).distance(X, Y)
    assert points == pytest.approx(
        GaussianStochasticMetric().fit((X, zero), (Y, zero)).distance((X, zero), (Y, zero)),
        abs=1e-12,
    )
    energy = EnergyStochasticMetric(group="identity").fit(X, Y).distance(X, Y)
    assert energy == pytest.approx(np.sqrt(np.mean(np.linalg.norm(X - Y, axis=1))), abs=1e-12)


def test_cross_validate_over_classes(rng):
    X = rng.standard_normal((12, 10, 3))
    Y = X @ random_orthogonal(rng, 3) + 0.05 * rng.standard_normal((12, 10, 3))
    for metric in (GaussianStochasticMetric(), EnergyStochasticMetric()):
        scores = cross_validate(metric, X, Y, cv=KFold(3))["test_score"]
        assert scores.shape == (3,) and np.all(scores <= 0) and np.all(np.isfinite(scores))


# -- energy ------------------------------------------------------------------------------------
def energy_by_loops(X, Y):
    """netrep's estimator with scipy's cdist/pdist, class by class."""
    cross = np.mean([cdist(x, y).mean() for x, y in zip(X, Y, strict=True)])
    within_x = np.mean([pdist(x).mean() for x in X])
    within_y = np.mean([pdist(y).mean() for y in Y])
    return np.sqrt(max(0.0, cross - (within_x + within_y) / 2))


def test_energy_distance_matches_loops_with_unequal_repeats(rng):
    X = rng.standard_normal((4, 7, 3)) + 100.0  # an offset must not cost digits
    Y = rng.standard_normal((4, 9, 3)) * 2 + 100.0
    assert energy_distance(X, Y) == pytest.approx(energy_by_loops(X, Y), abs=1e-10)
    metric = EnergyStochasticMetric().fit(X, Y)
    _, aligned = metric.transform(X, Y)
    assert metric.distance(X, Y) == pytest.approx(energy_by_loops(X, aligned), abs=1e-10)


def test_energy_groups(rng):
    X = rng.standard_normal((5, 8, 4))
    order = np.array([3, 1, 0, 2])
    permuted = X[:, :, order]
    perm = EnergyStochasticMetric(group="perm").fit(X, permuted)
    assert perm.distance(X, permuted) < 1e-6
    np.testing.assert_allclose(permuted @ perm.Q_, X, atol=1e-12)
    identity = EnergyStochasticMetric(group="identity").fit(X, permuted)
    np.testing.assert_array_equal(identity.Q_, np.eye(4))
    assert identity.distance(X, permuted) == pytest.approx(energy_by_loops(X, permuted), abs=1e-10)


def test_energy_memory_does_not_grow_with_pairs_times_features(rng):
    X = rng.standard_normal((20, 60, 60))
    Y = rng.standard_normal((20, 60, 60))
    tracemalloc.start()
    EnergyStochasticMetric(max_iter=3).fit(X, Y).distance(X, Y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    all_pairs = 20 * 60 * 60 * 60 * 8 * 2  # netrep's two stacked pair arrays
    assert peak < all_pairs / 4


# -- many networks -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["gaussian", "energy"])
def test_pairwise_equals_pair_fits(rng, kind):
    widths = [3, 3, 4]
    nets = [rng.standard_normal((6, 10, w)) for w in widths]
    tests = [rng.standard_normal((6, 5, w)) for w in widths]
    metric = GaussianStochasticMetric() if kind == "gaussian" else EnergyStochasticMetric()
    D, D_test = pairwise_distances(metric, nets, tests)
    for i, j in itertools.combinations(range(3), 2):
        fitted = metric.fit(nets[i], nets[j])
        assert D[i, j] == pytest.approx(fitted.distance(nets[i], nets[j]), abs=1e-10)
        assert D_test[i, j] == pytest.approx(fitted.distance(tests[i], tests[j]), abs=1e-10)
    assert np.allclose(D, D.T)


def test_pairwise_takes_moment_tuples(rng):
    nets = [random_gaussians(rng) for _ in range(3)]
    D, _ = GaussianStochasticMetric().pairwise_distances(nets)
    assert D[0, 2] == pytest.approx(
        GaussianStochasticMetric().fit(nets[0], nets[2]).distance(nets[0], nets[2]), abs=1e-12
    )
    with pytest.raises(ValueError, match=r"Xs\[1\] has 5 classes but Xs\[0\] has 6"):
        pairwise_distances(EnergyStochasticMetric(), [np.ones((6, 2, 2)), np.ones((5, 2, 2))])


def test_torch_cpu_matches_numpy(rng):
    pytest.importorskip("torch")
    X = rng.standard_normal((5, 12, 3))
    Y = X @ random_orthogonal(rng, 3) + 0.3 * rng.standard_normal((5, 12, 3))
    for metric_class in (GaussianStochasticMetric, EnergyStochasticMetric):
        expected = metric_class().fit(X, Y).distance(X, Y)
        got = metric_class(device="cpu").fit(X, Y).distance(X, Y)
        assert got == pytest.approx(expected, abs=1e-10)


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("X", "Y", "message"),
    [
        (np.ones((4, 1, 3)), np.ones((4, 1, 3)), "1 repeat per class"),
        (np.ones((4, 5, 3)), np.ones((3, 5, 3)), "X has 4 classes but Y has 3"),
        (np.full((4, 5, 3), np.nan), np.ones((4, 5, 3)), "X contains 60 NaN"),
        (np.ones(4), np.ones(4), "got a 1-D array"),
        (np.ones((2, 2, 2, 2)), np.ones((2, 2, 2, 2)), "got a 4-D array"),
        (np.array([["a", "b"]]), np.ones((1, 2)), "strings"),
    ],
)
@pytest.mark.parametrize("metric_class", [GaussianStochasticMetric, EnergyStochasticMetric])
def test_bad_input_is_named(metric_class, X, Y, message):
    with pytest.raises(ValueError, match=message):
        metric_class().fit(X, Y)


def test_bad_moments_are_named(rng):
    means, covs = random_gaussians(rng)
    with pytest.raises(ValueError, match=r"Y\[1\] \(the class covariances\) has shape \(6, 3, 3\)"):
        GaussianStochasticMetric().fit((means, covs), (means, covs[:, :3, :3]))
    negative = covs.copy()
    negative[2] = -np.eye(4)
    with pytest.raises(ValueError, match=r"covariances\[2\] has a negative eigenvalue"):
        GaussianStochasticMetric().fit((means, covs), (means, negative))
    with pytest.raises(ValueError, match="zero_pad=False"):
        GaussianStochasticMetric(zero_pad=False).fit((means, covs), (means[:, :3], covs[:, :3, :3]))


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (GaussianStochasticMetric(alpha=2.5), "'alpha' parameter .* in \\[0, 2\\]"),
        (GaussianStochasticMetric(group="rotation"), "'group' parameter"),
        (GaussianStochasticMetric(init="zeros"), "'init' parameter"),
        (GaussianStochasticMetric(n_restarts=0), "'n_restarts' parameter"),
        (GaussianStochasticMetric(covariance_estimator=LedoitWolf), "covariance_estimator"),
        (EnergyStochasticMetric(max_iter=0), "'max_iter' parameter"),
        (EnergyStochasticMetric(tol=-1), "'tol' parameter"),
    ],
)
def test_bad_parameters_are_named(metric, message):
    with pytest.raises(InvalidParameterError, match=message):
        metric.fit(np.ones((3, 4, 2)), np.ones((3, 4, 2)))


def test_statistics_reject_asymmetric_covariances():
    with pytest.raises(ValueError, match="not symmetric"):
        gaussian_statistics(np.zeros((1, 2)), np.array([[[1.0, 0.5], [0.0, 1.0]]]))


# -- netrep drop-in ----------------------------------------------------------------------------
def test_compat_signatures_attributes_and_sign(gaussian_ref, energy_ref):
    import inspect

    from skrep.compat import netrep

    assert list(inspect.signature(netrep.GaussianStochasticMetric).parameters) == [
        "alpha", "group", "init", "niter", "tol", "random_state", "n_restarts"
    ]  # fmt: skip
    assert list(inspect.signature(netrep.EnergyStochasticMetric).parameters) == [
        "group", "niter", "tol"
    ]  # fmt: skip
    ref = gaussian_ref
    X, Y = (ref["means_X"], ref["covs_X"]), (ref["means_Y"], ref["covs_Y"])
    gaussian = netrep.GaussianStochasticMetric().fit(X, Y)
    assert gaussian.score(X, Y) == pytest.approx(float(ref["dist_means_init"]), abs=1e-8)
    assert gaussian.T.shape == (4, 4) and len(gaussian.loss_hist) == gaussian.n_iter_ + 1
    energy = netrep.EnergyStochasticMetric().fit(energy_ref["X"], energy_ref["Y"])
    assert energy.score(energy_ref["X"], energy_ref["Y"]) == pytest.approx(
        float(energy_ref["dist"]), abs=1e-10
    )
    np.testing.assert_allclose(energy.w, energy_ref["w"], rtol=1e-10)
    np.testing.assert_allclose(energy.Q, energy_ref["Q"], atol=1e-10)


def test_compat_pairwise_regularises_like_netrep(rng):
    from skrep.compat import netrep

    nets = [random_gaussians(rng, n_classes=4, n_features=3) for _ in range(3)]
    D_train, D_test = netrep.GaussianStochasticMetric().pairwise_distances(
        nets, processes=1, verbose=False
    )
    eps = 1e-6
    i, j = 0, 2
    regularised = [(m, c + eps * np.eye(3)) for m, c in (nets[i], nets[j])]
    expected = GaussianStochasticMetric(tol=1e-8).fit(*regularised).distance(*regularised)
    assert D_train[i, j] == pytest.approx(expected, abs=1e-8)
    assert np.isinf(D_test[i, j]) and D_test[i, i] == 0


def test_functions_name_bad_input(rng):
    from skrep.functional.stochastic import (
        align_to_group,
        energy_cross_distances,
        energy_within_mean,
        fit_energy_alignment,
        fit_gaussian_alignment,
        gaussian_sq_distances,
    )

    good = rng.standard_normal((3, 4, 2))
    nan = good.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="responses contains 1 NaN"):
        class_statistics(nan)
    with pytest.raises(ValueError, match=r"responses must be a 3-D array .* got a 2-D"):
        class_statistics(good[0])
    with pytest.raises(ValueError, match=r"means must be a 2-D array"):
        gaussian_statistics(np.ones(3), np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match=r"covariances_a .* and covariances_b \(2, 2, 2\)"):
        sq_bures_distances(np.ones((3, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"M has shape \(2, 3\); expected a square matrix"):
        align_to_group(np.ones((2, 3)), "orth")
    with pytest.raises(InvalidParameterError, match="'group' parameter of align_to_group"):
        align_to_group(np.eye(2), "rotations")
    stats = gaussian_statistics(*random_gaussians(rng, n_features=2))
    with pytest.raises(TypeError, match="stats_y must be a GaussianStatistics"):
        fit_gaussian_alignment(stats, (stats.means, stats.sqrt_covariances))
    with pytest.raises(ValueError, match=r"T has shape \(3, 3\); expected shape \(2, 2\)"):
        gaussian_sq_distances(stats, stats, np.eye(3), 1.0)
    with pytest.raises(InvalidParameterError, match=r"alpha must be a number in \[0, 2\]"):
        gaussian_sq_distances(stats, stats, np.eye(2), -1.0)
    with pytest.raises(InvalidParameterError, match="init must be 'means' or 'rand'"):
        fit_gaussian_alignment(stats, stats, init="zeros")
    with pytest.raises(ValueError, match=r"X has shape \(3, 4, 2\) and Y has shape \(3, 4, 3\)"):
        energy_cross_distances(good, np.ones((3, 4, 3)))
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        energy_within_mean(nan)
    with pytest.raises(ValueError, match="Y_aligned is None"):
        energy_distance(good, None)
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter of fit_energy"):
        fit_energy_alignment(good, good, max_iter=0)
