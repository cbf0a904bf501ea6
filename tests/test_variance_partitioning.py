"""Variance partitioning (issue 23, item 5): inclusion-exclusion closed forms and simulations."""

from itertools import combinations

import numpy as np
import pytest
from sklearn.model_selection import KFold

from skrep.exceptions import InvalidParameterError
from skrep.functional.banded_ridge import banded_ridge_predict, fit_banded_ridge
from skrep.functional.ridge import score_predictions
from skrep.functional.variance_partitioning import (
    band_subsets,
    partition_explained_variance,
    variance_partitioning,
)


def union_r2(regions, subset):
    """R^2 of a model on ``subset``: the regions of the Venn diagram it touches."""
    return sum(value for region, value in regions.items() if set(region) & set(subset))


@pytest.mark.parametrize("n_bands", [2, 3, 4])
def test_partition_recovers_known_regions(rng, n_bands):
    # Region values (some negative, as noisy estimates can be) -> R^2 of every model by
    # the set union -> back to the regions.
    regions = {region: rng.uniform(-0.05, 0.3, size=5) for region in band_subsets(n_bands)}
    r2 = {subset: union_r2(regions, subset) for subset in band_subsets(n_bands)}
    recovered = partition_explained_variance(r2)
    assert list(recovered) == band_subsets(n_bands)
    for region, value in regions.items():
        np.testing.assert_allclose(recovered[region], value, atol=1e-14)
    np.testing.assert_allclose(sum(recovered.values()), r2[tuple(range(n_bands))], atol=1e-14)


def test_partition_matches_the_written_formulas(rng):
    r = {s: rng.uniform(0, 1, 3) for s in band_subsets(3)}
    a, b, c, ab, ac, bc, abc = (r[s] for s in band_subsets(3))
    parts = partition_explained_variance(r)
    np.testing.assert_allclose(parts[(0,)], abc - bc)
    np.testing.assert_allclose(parts[(2,)], abc - ab)
    np.testing.assert_allclose(parts[(0, 1)], ac + bc - c - abc)
    np.testing.assert_allclose(parts[(1, 2)], ab + ac - a - abc)
    np.testing.assert_allclose(parts[(0, 1, 2)], a + b + c - ab - ac - bc + abc)
    two = partition_explained_variance({(0,): a, (1,): b, (0, 1): ab})
    np.testing.assert_allclose(two[(0,)], ab - b)
    np.testing.assert_allclose(two[(1,)], ab - a)
    np.testing.assert_allclose(two[(0, 1)], a + b - ab)
    # Keys in any order of their bands.
    np.testing.assert_allclose(
        partition_explained_variance({(0,): a, (1,): b, (1, 0): ab})[(0, 1)], a + b - ab
    )


def components(rng, n, variances):
    """Independent standardised sources, scaled to the given variances."""
    sources = rng.standard_normal((n, len(variances)))
    sources = (sources - sources.mean(0)) / sources.std(0)
    return sources * np.sqrt(variances)


def test_two_bands_with_known_unique_and_shared_variance(rng):
    # Sources: shared s (in both bands), a (in A only), b (in B only), noise.
    # Population R^2: A = .2 + .3, B = .2 + .1, AB = .6; so unique A = .3, unique B = .1,
    # shared = .2.
    n, n_targets = 3000, 4
    s, a, b = components(rng, n, [1.0, 1.0, 1.0]).T
    mix = rng.standard_normal((3, 3))
    X_A = np.column_stack([s, a, rng.standard_normal(n)]) @ mix  # s and a spread over 3 columns
    X_B = np.column_stack([s, b, rng.standard_normal(n)]) @ rng.standard_normal((3, 3))
    signal = np.sqrt(0.2) * s + np.sqrt(0.3) * a + np.sqrt(0.1) * b
    Y = signal[:, None] + np.sqrt(0.4) * rng.standard_normal((n, n_targets))
    parts = variance_partitioning(
        [X_A, X_B], Y, alphas=[1e-3, 1.0, 100.0], n_iter=10, random_state=0
    )
    assert parts.subsets == [(0,), (1,), (0, 1)]
    np.testing.assert_allclose(parts.unique.mean(axis=1), [0.3, 0.1], atol=0.03)
    np.testing.assert_allclose(parts.shared[(0, 1)].mean(), 0.2, atol=0.03)
    np.testing.assert_allclose(parts.joint.mean(), 0.6, atol=0.03)
    # Inclusion-exclusion on the fitted R^2, target by target.
    np.testing.assert_allclose(parts.unique[0] + parts.shared[(0, 1)], parts.r2[(0,)], atol=1e-14)
    np.testing.assert_allclose(parts.unique[1] + parts.shared[(0, 1)], parts.r2[(1,)], atol=1e-14)
    np.testing.assert_allclose(parts.unique.sum(0) + parts.shared[(0, 1)], parts.joint, atol=1e-14)


def test_three_bands_with_known_regions(rng):
    # Sources by the bands that hold them: a, b, c alone; ab in A and B; abc in all three.
    n = 3000
    variances = {(0,): 0.15, (1,): 0.1, (2,): 0.05, (0, 1): 0.1, (0, 1, 2): 0.2}
    sources = dict(zip(variances, components(rng, n, [1.0] * 5).T, strict=True))
    bands = []
    for band in range(3):
        held = [sources[r] for r in variances if band in r]
        columns = np.column_stack(held + [rng.standard_normal(n)])
        bands.append(columns @ rng.standard_normal((columns.shape[1],) * 2))
    signal = sum(np.sqrt(v) * sources[r] for r, v in variances.items())
    Y = signal[:, None] + np.sqrt(0.4) * rng.standard_normal((n, 3))
    X = np.hstack(bands)
    edges = np.cumsum([0] + [b.shape[1] for b in bands])
    parts = variance_partitioning(
        X,
        Y,
        [np.arange(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)],
        alphas=[1e-3, 1.0, 100.0],
        n_iter=12,
        cv=3,
        random_state=0,
    )
    expected = {region: variances.get(region, 0.0) for region in band_subsets(3)}
    for region, value in expected.items():
        np.testing.assert_allclose(parts.partition[region].mean(), value, atol=0.03)
    np.testing.assert_allclose(sum(parts.partition.values()), parts.joint, atol=1e-14)
    for band in range(3):  # a model's R^2 is the sum of the regions it touches
        touched = [parts.partition[r] for r in band_subsets(3) if band in r]
        np.testing.assert_allclose(sum(touched), parts.r2[(band,)], atol=1e-14)


def test_r2_of_each_model_is_its_held_out_r2(rng):
    X = rng.standard_normal((90, 9))
    Y = X[:, :5] @ rng.standard_normal((5, 2)) + rng.standard_normal((90, 2))
    bands = [slice(0, 3), slice(3, 9)]
    gammas = np.array([[0.5, 0.5], [0.9, 0.1], [0.1, 0.9], [1.0, 0.0]])
    parts = variance_partitioning(
        X, Y, bands, alphas=[0.1, 10.0], n_iter=gammas, cv=KFold(3), inner_cv=4
    )
    for subset, columns in [((0,), [bands[0]]), ((0, 1), bands)]:
        expected = np.zeros(2)
        for train, test in KFold(3).split(X):
            weights = gammas[:, list(subset)]
            keep = weights.sum(1) > 0
            model = fit_banded_ridge(
                X[train], Y[train], columns, [0.1, 10.0],
                n_iter=weights[keep] / weights[keep].sum(1, keepdims=True), cv=4,
            )  # fmt: skip
            expected += score_predictions(Y[test], banded_ridge_predict(model, X[test]), "r2") / 3
        np.testing.assert_allclose(parts.r2[subset], expected, atol=1e-12)
    # One array and bands, or one array per band: the same partition.
    split = variance_partitioning(
        [X[:, :3], X[:, 3:]], Y, alphas=[0.1, 10.0], n_iter=gammas, cv=KFold(3), inner_cv=4
    )
    for region in parts.partition:
        np.testing.assert_allclose(split.partition[region], parts.partition[region])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, Y: variance_partitioning(X, Y, [slice(0, 6)]), "at least 2 bands"),
        (lambda X, Y: variance_partitioning(X, Y), "X must be a list of 2-D arrays"),
        (lambda X, Y: variance_partitioning([X[:, :3], X[:-1, 3:]], Y), "X\\[1\\]"),
        (
            lambda X, Y: variance_partitioning(X, Y, [[0, 1], [1, 2]]),
            r"Column 1 of X is in bands\[0\] and in bands\[1\]",
        ),
        (
            lambda X, Y: variance_partitioning(X, Y, [[0], [1]], n_iter=np.array([[1.0, 0.0]])),
            r"no positive weight to bands \(1,\)",
        ),
        (lambda X, Y: variance_partitioning(X, Y, [[0], [1]], concentration=-1), "concentration"),
        (lambda X, Y: variance_partitioning(X, Y[:-1], [[0], [1]]), "samples"),
        (
            lambda X, Y: partition_explained_variance({(0,): 0.1, (0, 1): 0.2}),
            r"missing \[\(1,\)\]",
        ),
        (lambda X, Y: partition_explained_variance({(0,): 0.1}), "at least 2 bands"),
    ],
)
def test_named_errors(rng, call, match):
    X = rng.standard_normal((30, 6))
    Y = rng.standard_normal((30, 2))
    with pytest.raises((ValueError, InvalidParameterError), match=match):
        call(X, Y)


def test_band_subsets_are_all_nonempty_subsets():
    subsets = band_subsets(4)
    assert len(subsets) == 15 == len(set(subsets))
    assert subsets[-1] == (0, 1, 2, 3)
    assert set(subsets) == {c for k in range(1, 5) for c in combinations(range(4), k)}
