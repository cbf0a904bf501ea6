"""The stochastic-process shape metric (netrep's GPStochasticMetric), native and drop-in.

Checked against closed forms (block-rotated and block-permuted copies are at
distance 0; alpha = 2 is the Procrustes distance of the mean trajectories),
a second implementation (one time point is the Gaussian metric with one
class), and an independent transcription of netrep's iteration (from its
description), whose scored distance ours must never exceed.
"""

import numpy as np
import pytest
from scipy.linalg import sqrtm

from skrep.compat import netrep
from skrep.metrics import GaussianStochasticMetric, GPStochasticMetric


def process(rng, n_times=4, n_dims=3, rank=None):
    size = n_times * n_dims
    factor = rng.standard_normal((size, rank or size))
    return rng.standard_normal(size), factor @ factor.T / size + (0 if rank else 0.1 * np.eye(size))


def aligned_copy(means, covariance, T, n_times):
    full = np.kron(np.eye(n_times), T)
    return (means.reshape(n_times, -1) @ T).ravel(), full.T @ covariance @ full


def scored(X, Y, T, alpha, n_times):
    """netrep's score at T: alpha |mX - mY T|^2 + (2 - alpha) Bures^2(SX, T' SY T)."""
    mY, SY = aligned_copy(*Y, T, n_times)
    sX = np.real(sqrtm(X[1]))
    bures = np.trace(X[1]) + np.trace(SY) - 2 * np.linalg.svd(sX @ np.real(sqrtm(SY)),
                                                              compute_uv=False).sum()  # fmt: skip
    value = alpha * np.sum((X[0] - mY) ** 2) + (2 - alpha) * bures
    return np.sqrt(max(value, 0.0))


def netrep_iteration(X, Y, alpha, n_dims, n_iter=1000, tol=1e-8):
    """netrep's alignment steps for rotations (weights alpha^2 : (2 - alpha)^2), transcribed."""
    n_times = X[0].size // n_dims
    mX, mY = X[0].reshape(n_times, n_dims), Y[0].reshape(n_times, n_dims)
    sX, sY = np.real(sqrtm(X[1])), np.real(sqrtm(Y[1]))
    U, _, Vt = np.linalg.svd(mY.T @ mX)
    T, losses = U @ Vt, []
    for i in range(n_iter):
        M = np.kron(np.eye(n_times), T.T) @ sY
        Ue, _, Vte = np.linalg.svd(M.T @ sX)
        Qs = Ue @ Vte
        blocks = lambda A: A.reshape(n_times, n_dims, n_times, n_dims).transpose(0, 2, 1, 3)  # noqa: E731
        A = np.vstack([alpha * mX, blocks((2 - alpha) * sX).reshape(-1, n_dims)])
        B = np.vstack([alpha * mY, blocks(Qs.T @ ((2 - alpha) * sY)).reshape(-1, n_dims)])
        Ub, _, Vtb = np.linalg.svd(B.T @ A)
        T = Ub @ Vtb
        losses.append(np.linalg.norm(A - B @ T))
        if i >= 2 and losses[-2] - losses[-1] < tol:
            break
    return T


@pytest.mark.parametrize("group", ["orth", "perm"])
def test_aligned_copies_are_at_distance_zero(group):
    rng = np.random.default_rng(0)
    X = process(rng)
    if group == "orth":
        T = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    else:
        T = np.eye(3)[rng.permutation(3)]
    Y = aligned_copy(*X, T, 4)
    metric = GPStochasticMetric(n_dims=3, group=group).fit(X, Y)
    assert metric.distance(X, Y) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 1.5])
def test_one_time_point_is_the_gaussian_metric_with_one_class(alpha):
    rng = np.random.default_rng(1)
    X, Y = process(rng, n_times=1, n_dims=4), process(rng, n_times=1, n_dims=4)
    gp = GPStochasticMetric(alpha, n_dims=4).fit(X, Y).distance(X, Y)
    as_class = lambda P: (P[0][None, :], P[1][None, :, :])  # noqa: E731
    gaussian = GaussianStochasticMetric(alpha).fit(as_class(X), as_class(Y))
    assert gp == pytest.approx(gaussian.distance(as_class(X), as_class(Y)), rel=1e-8)


def test_alpha_2_is_the_procrustes_distance_of_the_mean_trajectories():
    rng = np.random.default_rng(2)
    X, Y = process(rng), process(rng)
    mX, mY = X[0].reshape(4, 3), Y[0].reshape(4, 3)
    squared = np.sum(mX**2) + np.sum(mY**2) - 2 * np.linalg.svd(mY.T @ mX, compute_uv=False).sum()
    got = GPStochasticMetric(2.0, n_dims=3).fit(X, Y).distance(X, Y)
    assert got == pytest.approx(np.sqrt(2 * squared), rel=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("seed", range(4))
def test_never_above_netreps_distance(alpha, seed):
    rng = np.random.default_rng(10 + seed)
    X, Y = process(rng), process(rng)
    theirs = scored(X, Y, netrep_iteration(X, Y, alpha, 3), alpha, 4)
    metric = GPStochasticMetric(alpha, n_dims=3).fit(X, Y)
    ours = metric.distance(X, Y)
    assert ours <= theirs + 1e-8
    assert ours == pytest.approx(scored(X, Y, metric.T_, alpha, 4), rel=1e-8)


@pytest.mark.parametrize("group", ["orth", "perm"])
def test_symmetric_zero_on_itself_and_rank_deficient(group):
    rng = np.random.default_rng(3)
    X, Y = process(rng, rank=3), process(rng, rank=5)  # singular covariances
    d = lambda A, B: GPStochasticMetric(n_dims=3, group=group).fit(A, B).distance(A, B)  # noqa: E731
    assert d(X, X) == pytest.approx(0.0, abs=1e-6)
    assert d(X, Y) == pytest.approx(d(Y, X), rel=1e-10)
    assert d(X, Y) > 0


def test_raw_trials_equal_their_moments():
    rng = np.random.default_rng(4)
    trials_x, trials_y = rng.standard_normal((50, 4, 3)), rng.standard_normal((60, 4, 3))
    moments = lambda R: (R.reshape(len(R), -1).mean(axis=0), np.cov(R.reshape(len(R), -1).T))  # noqa: E731
    raw = GPStochasticMetric().fit(trials_x, trials_y).distance(trials_x, trials_y)
    tuples = GPStochasticMetric(n_dims=3).fit(moments(trials_x), moments(trials_y))
    assert raw == pytest.approx(tuples.distance(moments(trials_x), moments(trials_y)), rel=1e-10)


def test_netrep_drop_in():
    rng = np.random.default_rng(5)
    nets = [process(rng) for _ in range(3)]
    metric = netrep.GPStochasticMetric(n_dims=3, alpha=1.0)
    distance = metric.fit(nets[0], nets[1]).score(nets[0], nets[1])
    assert distance == pytest.approx(metric.fit_score(nets[0], nets[1]))
    assert distance == pytest.approx(scored(nets[0], nets[1], metric.T, 1.0, 4), rel=1e-8)
    _, (aligned_means, aligned_cov) = metric.transform(nets[0], nets[1])
    np.testing.assert_allclose(aligned_cov, aligned_cov.T, atol=1e-12)
    D_train, D_test = metric.pairwise_distances(nets, verbose=False)
    np.testing.assert_allclose(D_train, D_train.T)
    assert np.all(np.diag(D_train) == 0) and np.all(np.isinf(D_test[np.triu_indices(3, 1)]))


@pytest.mark.parametrize(
    "X, match",
    [
        ((np.zeros(12),), "tuple of 1 arrays"),
        ((np.zeros(12), np.eye(11)), r"covariance\) has shape \(11, 11\)"),
        ((np.zeros(12), np.triu(np.ones((12, 12)))), "not symmetric"),
        ((np.zeros(12), -np.eye(12)), "negative eigenvalue"),
        (np.zeros((5, 12)), r"X has shape \(5, 12\)"),
        ((np.full(12, np.nan), np.eye(12)), "NaN"),
    ],
)
def test_bad_inputs_are_named(X, match):
    Y = (np.zeros(12), np.eye(12))
    with pytest.raises(ValueError, match=match):
        GPStochasticMetric(n_dims=3).fit(X, Y)


def test_pairwise_distances_equal_one_fit_per_pair():
    from skrep import pairwise_distances

    rng = np.random.default_rng(6)
    trains = [rng.standard_normal((25, 4, 3)) for _ in range(4)]
    tests = [rng.standard_normal((15, 4, 3)) for _ in range(4)]
    D_train, D_test = pairwise_distances(GPStochasticMetric(), trains, tests)
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            fitted = GPStochasticMetric().fit(trains[i], trains[j])
            assert D_train[i, j] == pytest.approx(fitted.distance(trains[i], trains[j]), abs=1e-12)
            assert D_test[i, j] == pytest.approx(fitted.distance(tests[i], tests[j]), abs=1e-12)
    with pytest.raises(ValueError, match=r"Xs\[1\] has 4 time points of 2 units"):
        pairwise_distances(GPStochasticMetric(), [trains[0], trains[1][..., :2]])
