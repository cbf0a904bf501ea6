"""GULP distance (Boix-Adsera et al. 2022) against brute force and its closed form.

Independent values: scikit-learn's Ridge fitted on every basis target (its
predictions are the hat matrix), GULP's trace formula written from the
covariances (T1 + T2 - 2 T3), invariances and the metric properties.
"""

import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skrep import GULPMetric, layer_similarity, pairwise_distances
from skrep.exceptions import InvalidParameterError
from skrep.functional import gulp_distance


def prepared(A, normalize):
    Ac = A - A.mean(axis=0)
    return Ac * math.sqrt(len(A)) / np.linalg.norm(Ac) if normalize else Ac


def brute_force(X, Y, lmbda, normalize):
    """Ridge fitted on each of the n basis targets: its predictions are the hat matrix."""
    n = len(X)

    def hat(A):
        A = prepared(A, normalize)
        return (
            Ridge(alpha=n * lmbda, fit_intercept=False, solver="svd").fit(A, np.eye(n)).predict(A)
        )

    return np.linalg.norm(hat(X) - hat(Y))


def trace_formula(X, Y, lmbda, normalize):
    """GULP's T1 + T2 - 2 T3 from the covariances and their ridge inverses."""
    X, Y = prepared(X, normalize), prepared(Y, normalize)
    n = len(X)
    cx, cy, cxy = X.T @ X / n, Y.T @ Y / n, X.T @ Y / n
    ix = np.linalg.inv(cx + lmbda * np.eye(len(cx)))
    iy = np.linalg.inv(cy + lmbda * np.eye(len(cy)))
    t1 = np.trace(ix @ cx @ ix @ cx)
    t2 = np.trace(iy @ cy @ iy @ cy)
    t3 = np.trace(ix @ cxy @ iy @ cxy.T)
    return math.sqrt(max(t1 + t2 - 2 * t3, 0.0))


@pytest.mark.parametrize("lmbda", [1e-3, 0.01, 1.0, 100.0])
@pytest.mark.parametrize("normalize", [True, False])
def test_closed_form_matches_ridge_predictions_and_the_trace_formula(rng, lmbda, normalize):
    X = rng.standard_normal((30, 5)) * rng.uniform(0.5, 3, 5) + 2.0
    Y = X @ rng.standard_normal((5, 7)) + 0.5 * rng.standard_normal((30, 7))
    d = gulp_distance(X, Y, lmbda=lmbda, normalize=normalize)
    assert d == pytest.approx(brute_force(X, Y, lmbda, normalize), rel=1e-9)
    assert d == pytest.approx(trace_formula(X, Y, lmbda, normalize), rel=1e-6)
    assert GULPMetric(lmbda=lmbda, normalize=normalize).fit(X, Y).distance(X, Y) == pytest.approx(
        d, rel=1e-12
    )


def test_least_squares_limit_and_invariances(rng):
    X = rng.standard_normal((40, 6))
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    A = rng.standard_normal((6, 6))  # invertible (almost surely)
    assert gulp_distance(X, 3.0 * X @ Q + 1.0) <= 1e-12  # rotation, scale, offset
    assert gulp_distance(X, X @ A, lmbda=0.0) <= 1e-12  # any invertible map at lambda = 0
    assert gulp_distance(X, X @ A, lmbda=1.0) > 1e-3  # but not with a ridge penalty
    # lambda = 0: the projections on the column spans; 2 dims shared of 3 + 4:
    # |P_X - P_Y|_F^2 = rank X + rank Y - 2 |U_X' U_Y|_F^2.
    Z = np.linalg.qr(rng.standard_normal((40, 5)) - rng.standard_normal((40, 5)).mean(0))[0]
    B, C = Z[:, :3], Z[:, [0, 1, 3, 4]]
    B, C = B - B.mean(0), C - C.mean(0)
    UB, UC = np.linalg.svd(B, full_matrices=False)[0], np.linalg.svd(C, full_matrices=False)[0]
    expected = math.sqrt(3 + 4 - 2 * np.sum((UB.T @ UC) ** 2))
    assert gulp_distance(B, C, lmbda=0.0) == pytest.approx(expected, rel=1e-10)


def test_metric_properties(rng):
    for seed in range(60):
        local = np.random.default_rng(seed)
        base = local.standard_normal((20, 4))
        A, B, C = (
            base @ local.standard_normal((4, w))
            + local.uniform(0, 1) * local.standard_normal((20, w))
            for w in local.integers(1, 8, size=3)
        )

        def d(P, Q):
            return GULPMetric(lmbda=0.05).fit(P, Q).distance(P, Q)

        ab, ba, bc, ac = d(A, B), d(B, A), d(B, C), d(A, C)
        assert abs(ab - ba) <= 1e-12 * max(1.0, ab)
        assert d(A, A) <= 1e-12
        assert ac <= ab + bc + 1e-12


def test_held_out_data_uses_the_fitted_centring_and_scale(rng):
    X, Y = rng.standard_normal((50, 4)), rng.standard_normal((50, 6))
    X_test, Y_test = rng.standard_normal((20, 4)) + 1.0, rng.standard_normal((20, 6))
    fitted = GULPMetric(lmbda=0.1).fit(X, Y)
    Xp = (X_test - X.mean(0)) * math.sqrt(50) / np.linalg.norm(X - X.mean(0))
    Yp = (Y_test - Y.mean(0)) * math.sqrt(50) / np.linalg.norm(Y - Y.mean(0))

    def hat(A):  # the ridge hat matrix of the data as given, n = 20 held-out rows
        return A @ np.linalg.solve(A.T @ A + 20 * 0.1 * np.eye(A.shape[1]), A.T)

    expected = np.linalg.norm(hat(Xp) - hat(Yp))
    assert fitted.distance(X_test, Y_test) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lmbda": -1.0}, "'lmbda' parameter of GULPMetric"),
        ({"lmbda": float("inf")}, "'lmbda' parameter"),
        ({"normalize": "yes"}, "'normalize' parameter"),
    ],
)
def test_bad_parameters_are_named(rng, params, message):
    X = rng.standard_normal((10, 3))
    with pytest.raises(InvalidParameterError, match=message):
        GULPMetric(**params).fit(X, X)


def test_bad_inputs_are_named(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="no variance"):
        GULPMetric().fit(X, np.ones((10, 2)))
    with pytest.raises(ValueError, match="samples"):
        gulp_distance(X, rng.standard_normal((9, 3)))


def test_float32_torch_pairwise_and_model_selection(rng):
    X, Y = rng.standard_normal((40, 5)), rng.standard_normal((40, 8))
    expected = gulp_distance(X, Y)
    X32, Y32 = X.astype(np.float32) + 1e3, Y.astype(np.float32)
    assert gulp_distance(X32, Y32) == pytest.approx(expected, rel=1e-4)
    layers = [X, Y, X[:, :3]]
    D = pairwise_distances(GULPMetric(), layers)[0]
    assert D[0, 1] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(layer_similarity(GULPMetric(), layers), D, atol=1e-12)
    scores = cross_validate(GULPMetric(), X, Y, cv=KFold(3))["test_score"]
    assert np.all(scores <= 0)
    # GridSearchCV runs; the distance shrinks to 0 as lmbda grows (both hat
    # matrices shrink), so it picks the larger penalty: not a choice of lmbda.
    search = GridSearchCV(GULPMetric(), {"lmbda": [0.01, 10.0]}, cv=KFold(3)).fit(X, Y)
    assert search.best_params_["lmbda"] == 10.0
    torch = pytest.importorskip("torch")
    on_torch = GULPMetric().fit(torch.from_numpy(X), torch.from_numpy(Y))
    assert on_torch.distance(torch.from_numpy(X), torch.from_numpy(Y)) == pytest.approx(
        expected, rel=1e-10
    )
    assert GULPMetric(device="cpu").fit(X, Y).distance(X, Y) == pytest.approx(expected, rel=1e-10)


@pytest.mark.slow
def test_metric_properties_on_2000_random_triples():
    for seed in range(2000):
        local = np.random.default_rng(20_000 + seed)
        scale = 10.0 ** local.uniform(-5, 5)
        base = local.standard_normal((20, 4))
        A, B, C = (
            scale
            * (
                base @ local.standard_normal((4, w))
                + local.uniform(0, 2) * local.standard_normal((20, w))
            )
            for w in local.integers(1, 8, size=3)
        )
        lmbda = float(10.0 ** local.uniform(-3, 1))

        def d(P, Q, lmbda=lmbda):
            return GULPMetric(lmbda=lmbda).fit(P, Q).distance(P, Q)

        ab, ba, bc, ac = d(A, B), d(B, A), d(B, C), d(A, C)
        assert abs(ab - ba) <= 1e-10 * max(1.0, ab), seed
        assert d(A, A) <= 1e-10, seed
        assert ac <= ab + bc + 1e-10, seed
