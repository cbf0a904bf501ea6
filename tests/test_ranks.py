"""The fast exact rank helpers behind the RDM comparisons.

Every number is checked against a second implementation: scipy's
``rankdata`` / ``kendalltau`` / ``spearmanr``, ``np.argsort``, or Kendall's S
counted pair by pair.
"""

import numpy as np
import pytest
import scipy.stats

from skrep.functional import compare_rdms
from skrep.functional._ranks import (
    HAS_COMPILED_COUNT,
    average_ranks,
    category_codes,
    dense_ranks,
    few_categories,
    kendall_s,
    kendall_s_from_ranks,
    sort_order,
    sorted_ranks,
    tied_pairs,
)


def pairwise_s(x, y):
    """Kendall's S by its definition: the sum over all pairs of sign(dx) sign(dy)."""
    signs = np.sign(np.subtract.outer(x, x)) * np.sign(np.subtract.outer(y, y))
    return int(np.sum(signs[np.triu_indices(x.size, 1)]))


def vectors(rng, n):
    """Continuous, rounded (ties), few-valued, signed zeros, and values closer than 2^-30."""
    return {
        "continuous": rng.standard_normal(n),
        "rounded": np.round(rng.standard_normal(n), 2),
        "three values": rng.integers(0, 3, n).astype(float),
        "signed zeros": np.where(rng.random(n) < 0.5, -0.0, 0.0) + rng.integers(-2, 2, n),
        "packed": 1.0 + rng.random(n) * 1e-11,
        "negative": -np.abs(rng.standard_normal(n)),
    }


@pytest.mark.parametrize("n", [7, 300, 5000, 70_000])  # both sides of the argsort cut-off
def test_sort_order_and_ranks_match_numpy_and_scipy(rng, n):
    for name, values in vectors(rng, n).items():
        order, ties = sort_order(values)
        ordered = values[order]
        assert np.all(ordered[1:] >= ordered[:-1]), name
        np.testing.assert_array_equal(np.sort(order), np.arange(n))
        np.testing.assert_array_equal(ties, np.flatnonzero(ordered[1:] == ordered[:-1]))
        expected = scipy.stats.rankdata(values)
        np.testing.assert_array_equal(average_ranks(values), expected, err_msg=name)
        np.testing.assert_array_equal(average_ranks(values, centered=True), expected - (n + 1) / 2)
        np.testing.assert_array_equal(sorted_ranks(ties, n), np.sort(expected))
        _, counts = np.unique(values, return_counts=True)
        assert tied_pairs(ties, n) == np.sum(counts * (counts - 1) // 2)


def test_sort_order_repairs_values_that_share_their_leading_bits(rng):
    # 10^5 values within 1e-11 of each other: most share the packed prefix.
    values = 1.0 + rng.random(100_000) * 1e-11
    order, _ = sort_order(values)
    np.testing.assert_array_equal(values[order], np.sort(values))


@pytest.mark.parametrize("n", [2048, 3001, 20_000])
def test_sort_order_repairs_small_clusters_among_distinct_values(rng, n):
    # Mostly distinct values with clusters equal up to ~1e-14 (sharing the packed
    # leading bits), at the extremes and inside: the packed sort with run repairs.
    for _ in range(20):
        values = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4)
        for _ in range(int(rng.integers(1, 20))):
            size = int(rng.integers(2, 12))
            where = rng.choice(n, size, replace=False)
            center = rng.choice([values.max() * 1.01, values.min() * 1.01, values[0]])
            values[where] = center * (1 + 1e-14 * rng.integers(0, 4, size))
        order, ties = sort_order(values)
        expected = np.argsort(values, kind="stable")
        np.testing.assert_array_equal(order, expected)
        ordered = values[order]
        np.testing.assert_array_equal(ties, np.flatnonzero(ordered[1:] == ordered[:-1]))


def test_sort_order_carries_tags(rng):
    values, other = rng.standard_normal(50_000), rng.standard_normal(50_000)
    other_order = np.argsort(other)
    tags = np.empty(50_000, dtype=np.int64)
    tags[other_order] = np.arange(50_000)  # the rank of each element in `other`
    sorted_tags, _ = sort_order(values, tags, other_order)
    np.testing.assert_array_equal(sorted_tags, tags[np.argsort(values)])


@pytest.mark.parametrize("n", [40, 2100])
def test_kendall_s_matches_the_pairwise_count(rng, n):
    for k in (1, 2, 5):
        x = rng.integers(0, k, n).astype(float)
        codes = category_codes(x)
        for name, y in vectors(rng, n).items():
            assert kendall_s(codes, *sort_order(y)) == pairwise_s(x, y), (k, name)


def test_dense_ranks_match_scipy(rng):
    for name, values in vectors(rng, 3000).items():
        order, ties = sort_order(values)
        expected = scipy.stats.rankdata(values, method="dense")
        np.testing.assert_array_equal(dense_ranks(ties, values.size), np.sort(expected), name)


@pytest.mark.skipif(not HAS_COMPILED_COUNT, reason="this scipy has no compiled count")
@pytest.mark.parametrize("n", [50, 2500])
def test_kendall_s_from_ranks_matches_the_pairwise_count(rng, n):
    # Many-valued pairs, with and without ties on either side and on both at once.
    cases = vectors(rng, n)
    cases["rounded coarse"] = np.round(rng.standard_normal(n), 1)
    for x_name, x in cases.items():
        x_order, x_ties = sort_order(x)
        x_ranks = dense_ranks(x_ties, n)
        for y_name, y in cases.items():
            y_order, y_ties = sort_order(y)
            y_ranks = np.empty(n, dtype=np.intp)
            y_ranks[y_order] = dense_ranks(y_ties, n)
            s = kendall_s_from_ranks(
                x_ranks, y_ranks[x_order], tied_pairs(x_ties, n), tied_pairs(y_ties, n)
            )
            assert s == pairwise_s(x, y), (x_name, y_name)


def test_few_categories(rng):
    assert few_categories(rng.standard_normal(10_000)) is None
    x = rng.integers(0, 4, 10_000) * 0.5
    np.testing.assert_array_equal(few_categories(x), (x * 2).astype(int))
    assert few_categories(np.arange(100.0)) is None  # more than 64 values


def test_one_against_many_spearman_and_rho_a_match_the_rank_matrices(rng):
    # 100 conditions -> 4950 pairs: the packed sort, with ties in the models.
    patterns = rng.standard_normal((100, 8))
    data = np.stack([scipy.spatial.distance.pdist(patterns + rng.standard_normal((100, 8)))
                     for _ in range(4)])  # fmt: skip
    models = np.stack([data[0] + rng.standard_normal(4950), np.round(data[1], 1)])
    for model in models:
        expected = [scipy.stats.spearmanr(model, row).statistic for row in data]
        one_against_many = compare_rdms(model, data, "spearman")
        np.testing.assert_allclose(one_against_many[0], expected, atol=1e-14)
        np.testing.assert_allclose(compare_rdms(data, model, "spearman").T, one_against_many)
    np.testing.assert_allclose(
        compare_rdms(models, data, "rho-a"),
        np.stack([compare_rdms(model, data, "rho-a")[0] for model in models]),
        atol=1e-14,
    )


def test_kendall_routes_agree_with_scipy(rng):
    patterns = rng.standard_normal((70, 6))  # 2415 pairs: the packed sort
    data = np.stack([scipy.spatial.distance.pdist(patterns + rng.standard_normal((70, 6)))
                     for _ in range(3)])  # fmt: skip
    labels = rng.integers(0, 3, 70)
    categorical = scipy.spatial.distance.pdist(labels[:, None], "hamming")  # 0 / 1
    graded = scipy.spatial.distance.pdist(labels[:, None], "cityblock")  # 0 / 1 / 2
    rdms = np.stack([categorical, graded, data[0]])  # two categorical routes, one scipy route
    n_pairs = data.shape[1] * (data.shape[1] - 1) / 2
    for a, b in ((rdms, data), (data, rdms), (rdms, rdms)):
        tau_b = np.array([[scipy.stats.kendalltau(u, v).statistic for v in b] for u in a])
        np.testing.assert_allclose(compare_rdms(a, b, "tau-b"), tau_b, atol=1e-14)
        tau_a = np.array([[pairwise_s(u, v) / n_pairs for v in b] for u in a])
        np.testing.assert_array_equal(compare_rdms(a, b, "tau-a"), tau_a)


def test_kendall_without_the_compiled_count_falls_back_to_scipy(rng, monkeypatch):
    from skrep.functional import rdm_compare

    patterns = rng.standard_normal((80, 5))
    data = np.round(
        np.stack([scipy.spatial.distance.pdist(patterns + rng.standard_normal((80, 5)))
                  for _ in range(3)]), 2)  # fmt: skip
    with_count = compare_rdms(data, data, "tau-b")
    monkeypatch.setattr(rdm_compare, "HAS_COMPILED_COUNT", False)
    np.testing.assert_allclose(compare_rdms(data, data, "tau-b"), with_count, atol=1e-15)
    n_pairs = data.shape[1] * (data.shape[1] - 1) / 2
    expected = np.array([[pairwise_s(u, v) / n_pairs for v in data] for u in data])
    np.testing.assert_array_equal(compare_rdms(data, data, "tau-a"), expected)


def test_kendall_of_many_valued_rdms_with_ties_agrees_with_scipy(rng):
    # Rounded distances: many distinct values and many ties on both sides.
    patterns = rng.standard_normal((90, 5))
    data = np.round(
        np.stack([scipy.spatial.distance.pdist(patterns + rng.standard_normal((90, 5)))
                  for _ in range(3)]), 1)  # fmt: skip
    assert all(few_categories(row) is None for row in data)  # the many-valued route
    tau_b = np.array([[scipy.stats.kendalltau(u, v).statistic for v in data] for u in data])
    np.testing.assert_allclose(compare_rdms(data, data, "tau-b"), tau_b, atol=1e-14)
    n_pairs = data.shape[1] * (data.shape[1] - 1) / 2
    tau_a = np.array([[pairwise_s(u, v) / n_pairs for v in data[1:]] for u in data[:1]])
    np.testing.assert_array_equal(compare_rdms(data[:1], data[1:], "tau-a"), tau_a)
