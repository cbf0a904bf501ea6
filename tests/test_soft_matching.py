"""Soft matching distance (Khosla & Williams 2023): optimal transport between units.

Independent values: scipy's LP solver (HiGHS) on the transportation polytope,
the permutation metric for equal widths (Birkhoff), invariances (unit order,
repeated units, per-unit offsets), the metric properties, and numpy/torch and
float32/float64 agreement.
"""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skrep import PermutationMetric, SoftMatchingMetric, pairwise_distances
from skrep.exceptions import InvalidParameterError
from skrep.functional.soft_matching import (
    fit_soft_matching,
    soft_matching_distance,
    transport_to_x,
)


def lp_sq_distance(X, Y):
    """min over transport plans of sum P_ij |x_i - y_j|^2, by scipy's LP solver."""
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    n_x, n_y = X.shape[1], Y.shape[1]
    cost = np.array([[np.sum((Xc[:, i] - Yc[:, j]) ** 2) for j in range(n_y)] for i in range(n_x)])
    rows = np.kron(np.eye(n_x), np.ones((1, n_y)))  # row sums
    cols = np.kron(np.ones((1, n_x)), np.eye(n_y))  # column sums
    result = linprog(
        cost.ravel(),
        A_eq=np.vstack([rows, cols]),
        b_eq=np.r_[np.full(n_x, 1 / n_x), np.full(n_y, 1 / n_y)],
        bounds=(0, None),
        method="highs",
    )
    assert result.success
    return result.fun


@pytest.mark.parametrize("widths", [(3, 5), (4, 4), (6, 2), (1, 3)])
def test_distance_is_the_optimal_transport_cost_of_a_linear_program(rng, widths):
    X = rng.standard_normal((20, widths[0]))
    Y = rng.standard_normal((20, widths[1]))
    d = SoftMatchingMetric().fit(X, Y).distance(X, Y)
    assert d**2 == pytest.approx(lp_sq_distance(X, Y), rel=1e-10)


@pytest.mark.parametrize("center_columns", [True, False])
def test_equal_widths_give_the_permutation_distance_over_sqrt_n(rng, center_columns):
    # Birkhoff: the optimal plans include a permutation / n, on training and held-out data.
    for _ in range(5):
        X, X_test = rng.standard_normal((40, 7)), rng.standard_normal((15, 7))
        Y, Y_test = (
            X[:, rng.permutation(7)] + 0.5 * rng.standard_normal((40, 7)),
            rng.standard_normal((15, 7)),
        )
        soft = SoftMatchingMetric(center_columns=center_columns).fit(X, Y)
        perm = PermutationMetric(score_method="euclidean", center_columns=center_columns).fit(X, Y)
        assert soft.distance(X, Y) == pytest.approx(perm.distance(X, Y) / math.sqrt(7), rel=1e-12)
        assert soft.distance(X_test, Y_test) == pytest.approx(
            perm.distance(X_test, Y_test) / math.sqrt(7), rel=1e-12
        )
        # and the plan is that permutation (divided by n)
        P = np.zeros((7, 7))
        P[perm.Px_, perm.Py_] = 1 / 7
        np.testing.assert_allclose(soft.plan_, P, atol=1e-15)


def test_invariances_unit_order_repeated_units_and_offsets(rng):
    X = rng.standard_normal((30, 5))
    Y = rng.standard_normal((30, 8))
    d = SoftMatchingMetric().fit(X, Y).distance(X, Y)
    shuffled = Y[:, rng.permutation(8)] + rng.standard_normal(8)  # unit order, per-unit offsets
    assert SoftMatchingMetric().fit(X, shuffled).distance(X, shuffled) == pytest.approx(
        d, rel=1e-12
    )
    # every unit of X twice: the same distribution of tuning curves (0 up to the
    # rounding of the column means)
    doubled = np.hstack([X, X])[:, rng.permutation(10)]
    assert SoftMatchingMetric().fit(X, doubled).distance(X, doubled) <= 1e-14
    assert SoftMatchingMetric().fit(X, X).distance(X, X) == 0.0
    # not invariant to rotations of the units
    Q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    assert SoftMatchingMetric().fit(X, X @ Q).distance(X, X @ Q) > 0.1


def test_metric_properties_on_random_triples(rng):
    failures = []
    for seed in range(150):
        local = np.random.default_rng(seed)
        widths = local.integers(1, 7, size=3)
        base = local.standard_normal((12, 6))
        A, B, C = (
            base[:, local.integers(0, 6, size=w)]
            + local.uniform(0, 1) * local.standard_normal((12, w))
            for w in widths
        )

        def d(P, Q):
            return SoftMatchingMetric().fit(P, Q).distance(P, Q)

        ab, ba, bc, ac = d(A, B), d(B, A), d(B, C), d(A, C)
        assert abs(ab - ba) <= 1e-12 * max(1.0, ab), seed
        assert d(A, A) == 0.0
        if ac > ab + bc + 1e-10 * max(1.0, ac):
            failures.append(seed)
    assert not failures


def test_sinkhorn_is_above_the_exact_distance_and_approaches_it(rng):
    X, Y = rng.standard_normal((50, 12)), rng.standard_normal((50, 17))
    exact = SoftMatchingMetric().fit(X, Y).distance(X, Y)
    previous = np.inf
    for reg in (0.1, 0.03, 0.01):
        entropic = SoftMatchingMetric(solver="sinkhorn", reg=reg).fit(X, Y)
        value = entropic.distance(X, Y)
        assert exact <= value < previous
        previous = value
        np.testing.assert_allclose(entropic.plan_.sum(axis=1), 1 / 12, atol=1e-6)
        np.testing.assert_allclose(entropic.plan_.sum(axis=0), 1 / 17, atol=1e-6)
    assert previous == pytest.approx(exact, rel=0.01)


def test_sinkhorn_stopped_early_warns(rng):
    X, Y = rng.standard_normal((20, 6)), rng.standard_normal((20, 6))
    with pytest.warns(RuntimeWarning, match="marginals off"):
        SoftMatchingMetric(solver="sinkhorn", reg=0.001, max_iter=2).fit(X, Y)


def test_transform_maps_y_onto_the_units_of_x(rng):
    X = rng.standard_normal((25, 4))
    Y = X[:, [2, 0, 3, 1]] + 1.0
    fitted = SoftMatchingMetric().fit(X, Y)
    X_c, Y_on_x = fitted.transform(X, Y)
    np.testing.assert_allclose(X_c, X - X.mean(0), atol=1e-12)
    np.testing.assert_allclose(Y_on_x, X - X.mean(0), atol=1e-12)  # each unit found its match
    # different widths: every column of the mapped Y is a weighted mean of Y's columns
    Z = rng.standard_normal((25, 7))
    fitted = SoftMatchingMetric().fit(X, Z)
    _, Z_on_x = fitted.transform(X, Z)
    assert Z_on_x.shape == (25, 4)
    weights = 4 * fitted.plan_
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(Z_on_x, (Z - Z.mean(0)) @ weights.T, atol=1e-12)
    np.testing.assert_allclose(fitted.transform(X), X - X.mean(0), atol=1e-12)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"solver": "lp"}, "'solver' parameter of SoftMatchingMetric"),
        ({"reg": 0.0}, "'reg' parameter"),
        ({"reg": float("nan")}, "'reg' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"center_columns": "yes"}, "center_columns"),
    ],
)
def test_bad_parameters_are_named(rng, params, message):
    X = rng.standard_normal((10, 3))
    with pytest.raises(InvalidParameterError, match=message):
        SoftMatchingMetric(**params).fit(X, X)


def test_bad_inputs_are_named(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="samples"):
        SoftMatchingMetric().fit(X, rng.standard_normal((9, 3)))
    fitted = SoftMatchingMetric().fit(X, rng.standard_normal((10, 5)))
    with pytest.raises(ValueError, match="5 features"):
        fitted.distance(X, rng.standard_normal((10, 4)))
    with pytest.raises(ValueError, match="NaN|nan|infinit"):
        SoftMatchingMetric().fit(X, np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="plan is 3 x 5"):
        soft_matching_distance(X, X, fit_soft_matching(X, rng.standard_normal((10, 5))))


def test_float32_and_torch_agree_with_float64(rng):
    X, Y = rng.standard_normal((40, 6)), rng.standard_normal((40, 9))
    expected = SoftMatchingMetric().fit(X, Y).distance(X, Y)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    assert SoftMatchingMetric().fit(X32, Y32).distance(X32, Y32) == pytest.approx(
        expected, rel=1e-5
    )
    torch = pytest.importorskip("torch")
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    fitted = SoftMatchingMetric().fit(tX, tY)
    assert isinstance(fitted.plan_, torch.Tensor)
    assert fitted.distance(tX, tY) == pytest.approx(expected, rel=1e-12)
    assert SoftMatchingMetric(device="cpu").fit(X, Y).distance(X, Y) == pytest.approx(
        expected, rel=1e-12
    )
    entropic = SoftMatchingMetric(solver="sinkhorn").fit(X, Y).distance(X, Y)
    on_torch = SoftMatchingMetric(solver="sinkhorn").fit(tX, tY).distance(tX, tY)
    assert on_torch == pytest.approx(entropic, rel=1e-9)
    mapped = SoftMatchingMetric().fit(tX, tY).transform(tX, tY)[1]
    assert isinstance(mapped, torch.Tensor) and tuple(mapped.shape) == (40, 6)


def test_pairwise_distances_of_layers_of_different_widths(rng):
    layers = [rng.standard_normal((30, w)) for w in (3, 5, 8, 5)]
    tests = [rng.standard_normal((10, w)) for w in (3, 5, 8, 5)]
    D, D_test = pairwise_distances(SoftMatchingMetric(), layers, tests)
    for i, j in itertools.product(range(4), repeat=2):
        fitted = SoftMatchingMetric().fit(layers[i], layers[j])
        assert D[i, j] == pytest.approx(fitted.distance(layers[i], layers[j]), abs=1e-12)
        assert D_test[i, j] == pytest.approx(fitted.distance(tests[i], tests[j]), abs=1e-12)
    np.testing.assert_allclose(D, D.T, atol=1e-12)
    assert np.all(np.diag(D) == 0)


def test_cross_validate_and_grid_search(rng):
    X = rng.standard_normal((60, 5))
    Y = np.hstack([X, X[:, :2]]) + 0.3 * rng.standard_normal((60, 7))
    scores = cross_validate(SoftMatchingMetric(), X, Y, cv=KFold(3))["test_score"]
    assert scores.shape == (3,) and np.all(scores <= 0)
    search = GridSearchCV(
        SoftMatchingMetric(solver="sinkhorn"), {"reg": [0.01, 0.1]}, cv=KFold(3)
    ).fit(X, Y)
    assert search.best_params_["reg"] == 0.01  # less entropic bias, smaller held-out distance


def test_functional_transport_to_x_of_a_permutation_plan(rng):
    X = rng.standard_normal((20, 3))
    Y = X[:, [1, 2, 0]]
    matching = fit_soft_matching(X, Y)
    np.testing.assert_allclose(transport_to_x(Y, matching), X - X.mean(0), atol=1e-12)


@pytest.mark.slow
def test_metric_properties_on_2000_random_triples():
    failures = []
    for seed in range(2000):
        local = np.random.default_rng(10_000 + seed)
        widths = local.integers(1, 9, size=3)
        scale = 10.0 ** local.uniform(-5, 5)
        A, B, C = (scale * local.standard_normal((15, w)) for w in widths)

        def d(P, Q):
            return SoftMatchingMetric().fit(P, Q).distance(P, Q)

        ab, ba, bc, ac = d(A, B), d(B, A), d(B, C), d(A, C)
        assert abs(ab - ba) <= 1e-12 * max(scale, ab), seed
        assert d(A, A) <= 1e-12 * scale, seed
        if ac > ab + bc + 1e-10 * max(scale, ac):
            failures.append(seed)
    assert not failures
