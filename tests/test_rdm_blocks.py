"""Big RDMs (issue "Scale"): compute_rdm block by block, compare_rdms by chunks.

compute_rdm: values, duplicates, ``out=``, memory. Blocks are made one row
each with a tiny ``working_memory``; the values are checked against scipy's
``pdist`` and, for crossnobis, against the in-memory square path
(``_rdm_pairs.crossnobis``, kept for the gradient) as a second implementation.

compare_rdms: doubled integer ranks against ``scipy.stats.rankdata``, every
comparison against scipy (``spearmanr``, ``pearsonr``, ``kendalltau``) or its
formula (the whitened ones through the explicit whitening matrix), one-chunk
against many-chunk results. The memory bounds are tracemalloc peaks, not timings.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.stats
import sklearn
from scipy.spatial.distance import pdist, squareform

from skrep.functional import compare_rdms, compute_rdm
from skrep.functional._rank_products import doubled_ranks
from skrep.functional._rdm_pairs import crossnobis
from skrep.functional.rdm import RDM_METHODS

ONE_ROW = 1e-6  # MiB of working memory: one row per block


def _precision(rng, channels):
    W = rng.standard_normal((channels, channels)) / np.sqrt(channels)
    return W @ W.T + np.eye(channels)


def _pdist_reference(X, method, P=None):
    """scipy's distances with compute_rdm's conventions (squared ones per channel)."""
    if method == "sqeuclidean":
        return pdist(X, "sqeuclidean") / X.shape[1]
    if method == "mahalanobis":
        return pdist(X, "mahalanobis", VI=P) ** 2 / X.shape[1]
    return pdist(X, method)


def _crossnobis_data(rng, n=23, runs=3, channels=6):
    X = rng.standard_normal((runs * n, channels)) + rng.standard_normal(channels)
    conditions = np.tile(rng.permutation(n), runs)
    run_labels = np.repeat(np.arange(runs), n)
    return X, conditions, run_labels


@pytest.mark.parametrize("method", ["correlation", "cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_row_blocks_match_pdist_and_the_default_blocks(rng, method, dtype):
    X = (rng.standard_normal((2, 41, 9)) + 3.0).astype(dtype)
    default = compute_rdm(X, method)
    with sklearn.config_context(working_memory=ONE_ROW):
        blocked = compute_rdm(X, method)
    assert blocked.dtype == default.dtype == dtype
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    expected = np.stack([_pdist_reference(x.astype(np.float64), method) for x in X])
    np.testing.assert_allclose(blocked, expected, atol=tolerance * np.abs(expected).max())
    np.testing.assert_allclose(default, blocked, atol=tolerance * np.abs(expected).max())


def test_mahalanobis_and_crossnobis_blocks_match_their_references(rng):
    X = rng.standard_normal((37, 8))
    P = _precision(rng, 8)
    with sklearn.config_context(working_memory=ONE_ROW):
        blocked = compute_rdm(X, "mahalanobis", precision=P)
    np.testing.assert_allclose(blocked, _pdist_reference(X, "mahalanobis", P), rtol=1e-11)
    Xr, conditions, runs = _crossnobis_data(rng)
    order = np.unique(conditions)
    for precision in (None, P[:6, :6]):
        in_memory = crossnobis(Xr[None], conditions, order, runs, precision, np) / Xr.shape[1]
        for memory in (ONE_ROW, 1e-3, 1024):
            with sklearn.config_context(working_memory=memory):
                got = compute_rdm(
                    Xr, "crossnobis", conditions=conditions, runs=runs, precision=precision
                )
            np.testing.assert_allclose(got, in_memory[0], atol=1e-13 * np.abs(got).max())


@pytest.mark.parametrize("method", ["correlation", "cosine", "euclidean", "sqeuclidean"])
def test_duplicates_share_their_distances_exactly_in_one_row_blocks(rng, method):
    X = rng.standard_normal((30, 5))
    X[[7, 19, 29]] = X[3]  # four copies, first of them inside
    X[11] = X[0]
    with sklearn.config_context(working_memory=ONE_ROW):
        square = squareform(compute_rdm(X, method), checks=False)
    for copies in ([3, 7, 19, 29], [0, 11]):
        others = np.setdiff1d(np.arange(30), copies)
        for c in copies[1:]:
            np.testing.assert_array_equal(square[copies[0], others], square[c, others])
            assert square[copies[0], c] == 0.0
    np.testing.assert_allclose(squareform(square), _pdist_reference(X, method), atol=1e-12)


@pytest.mark.parametrize("memory", [ONE_ROW, 1024])
def test_every_pair_is_written_when_the_last_pattern_repeats(rng, memory):
    # Two patterns only (e.g. class labels as responses): the last distinct
    # pattern has no block of its own, its copies' zeros must still be written.
    X = rng.integers(0, 2, (30, 1)).astype(float)
    X[[0, 1]] = [[0.0], [1.0]]
    for method in ("euclidean", "sqeuclidean", "cosine"):
        Xm = X + 1.0 if method == "cosine" else X
        out = np.full(435, np.nan)
        with sklearn.config_context(working_memory=memory):
            compute_rdm(Xm, method, out=out)
        np.testing.assert_array_equal(out, _pdist_reference(Xm, method))


def test_duplicate_conditions_and_datasets(rng):
    # Two data sets, condition means with a duplicate in both: the distinct patterns.
    X = rng.standard_normal((2, 40, 6))
    conditions = np.repeat(np.arange(20), 2)
    X[:, 10:12] = X[:, 2:4]  # condition 5 equals condition 1, in both data sets
    with sklearn.config_context(working_memory=ONE_ROW):
        got = compute_rdm(X, "euclidean", conditions=conditions)
    means = X.reshape(2, 20, 2, 6).mean(axis=2)
    expected = np.stack([pdist(m) for m in means])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    square = squareform(got[1], checks=False)
    np.testing.assert_array_equal(square[1], np.where(np.arange(20) == 5, 0.0, square[5]))


def test_extreme_scales_and_checks_are_kept_by_blocks(rng):
    X = rng.standard_normal((25, 4))
    with sklearn.config_context(working_memory=ONE_ROW):
        tiny = compute_rdm(X * 2.0**-700, "euclidean")
        np.testing.assert_allclose(tiny * 2.0**700, pdist(X), rtol=1e-12)
        with pytest.raises(ValueError, match="not positive semi-definite"):
            compute_rdm(X, "mahalanobis", precision=np.eye(4) + 3.0 * np.eye(4)[::-1])
        with pytest.raises(ValueError, match="overflow"):
            compute_rdm(X.astype(np.float32) * np.float32(1e30), "sqeuclidean")


@pytest.mark.parametrize("method", RDM_METHODS)
def test_out_is_filled_and_returned(rng, tmp_path, method):
    X, conditions, runs = _crossnobis_data(rng, n=31)
    kwargs = {"conditions": conditions}
    if method == "crossnobis":
        kwargs["runs"] = runs
    expected = compute_rdm(X, method, **kwargs)
    out = np.lib.format.open_memmap(tmp_path / "rdm.npy", "w+", np.float64, expected.shape)
    with sklearn.config_context(working_memory=1e-3):
        got = compute_rdm(X, method, out=out, **kwargs)
    assert got is out
    np.testing.assert_allclose(out, expected, atol=1e-13 * np.abs(expected).max())
    stack = np.full((2, expected.size), np.nan)
    assert compute_rdm(np.stack([X, 2 * X]), method, out=stack, **kwargs) is stack
    factor = {"correlation": 1, "cosine": 1, "euclidean": 2}.get(method, 4)  # RDM of 2 X
    np.testing.assert_allclose(stack[1], expected * factor, rtol=1e-12)


def test_out_is_refused_with_a_message(rng):
    X = rng.standard_normal((6, 3))
    for out, match in (
        (np.empty(14), r"out has shape \(14,\); expected \(15,\)"),
        (np.empty((1, 15)), r"expected \(15,\)"),
        (np.empty(15, dtype=np.float32), "out has dtype float32; expected float64"),
        ([0.0] * 15, "out must be a numpy array"),
        (X.reshape(-1)[:15], "shares memory with X"),
    ):
        with pytest.raises((TypeError, ValueError), match=match):
            compute_rdm(X, "euclidean", out=out)
    frozen = np.empty(15)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        compute_rdm(X, out=frozen)
    with pytest.raises(ValueError, match="square=True"):
        compute_rdm(X, out=np.empty(15), square=True)
    np.testing.assert_allclose(compute_rdm(X.astype(np.float32), out=np.empty(15, np.float32)),
                               pdist(X, "correlation"), atol=1e-6)  # fmt: skip


def test_torch_blocks_duplicates_and_out():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 26, 5))
    X[:, 9] = X[:, 2]
    T = torch.from_numpy(X)
    for method in ("correlation", "euclidean"):
        with sklearn.config_context(working_memory=ONE_ROW):
            got = compute_rdm(T, method)
        expected = np.stack([pdist(x, method) for x in X])
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)
        square = squareform(got[0].numpy(), checks=False)
        np.testing.assert_array_equal(np.delete(square[2], [2, 9]), np.delete(square[9], [2, 9]))
    out = torch.empty(2, 325, dtype=torch.float64)
    assert compute_rdm(T, "cosine", out=out) is out
    np.testing.assert_allclose(out.numpy(), np.stack([pdist(x, "cosine") for x in X]), atol=1e-12)
    with pytest.raises(TypeError, match="torch tensor"):
        compute_rdm(T, out=np.empty((2, 325)))
    with pytest.raises(ValueError, match="require grad|requires grad"):
        compute_rdm(T.clone().requires_grad_(True), out=out)
    with pytest.raises(ValueError, match="out requires grad"):
        compute_rdm(T, out=torch.zeros(2, 325, dtype=torch.float64, requires_grad=True))


def _peak_bytes(function):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("method", RDM_METHODS)
def test_peak_memory_stays_under_twice_the_condensed_rdm(method):
    rng = np.random.default_rng(0)
    n, channels = 1500, 40
    X = rng.standard_normal((2 * n if method == "crossnobis" else n, channels))
    kwargs = {}
    if method == "crossnobis":
        kwargs = {"conditions": np.tile(np.arange(n), 2), "runs": np.repeat([0, 1], n)}
    if method in ("mahalanobis", "crossnobis"):
        kwargs["precision"] = _precision(rng, channels)
    condensed = n * (n - 1) // 2 * 8
    peak = _peak_bytes(lambda: compute_rdm(X, method, **kwargs))
    assert peak < 2 * condensed + 2**20, (peak / condensed, method)


# -- compare_rdms in bounded memory: ranks once per RDM, products by chunks ---------------------
def _rdm_vectors(rng, n, count):
    """Data RDMs, a rounded one (many ties), a categorical one (three values)."""
    patterns = rng.standard_normal((n, 6))
    data = np.stack([pdist(patterns + rng.standard_normal((n, 6))) for _ in range(count)])
    labels = rng.integers(0, 3, n)
    models = np.stack(
        [np.round(data[0], 1), pdist(labels[:, None], "cityblock"), data[1] ** 3 - 2.0]
    )
    return models, data


@pytest.mark.parametrize("m", [7, 3000, 70_000])
def test_doubled_ranks_are_twice_scipys_average_ranks(rng, m):
    vectors = {
        "continuous": rng.standard_normal(m),
        "rounded": np.round(rng.standard_normal(m), 2),
        "three values": rng.integers(0, 3, m).astype(float),
        "signed zeros": np.where(rng.random(m) < 0.5, -0.0, 0.0) + rng.integers(-2, 2, m),
        "runs of 50": np.repeat(rng.random(m // 50 + 1), 50)[:m],
        "a few ties": np.r_[rng.random(m - m // 7), rng.random(1).repeat(m // 7)],
        "heavy tail": rng.standard_normal(m) ** 5,
        "constant": np.full(m, 3.0),
    }
    for name, values in vectors.items():
        expected = 2 * scipy.stats.rankdata(values)
        for chunk in (3, 1 << 18):  # runs of ties across chunks, and one chunk
            got = doubled_ranks(values, chunk=chunk)
            assert got.dtype == np.int32
            np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("n", [40, 700])  # 780 and 244 650 pairs
def test_comparisons_match_scipy(rng, n):
    models, data = _rdm_vectors(rng, n, 3)
    m = data.shape[1]
    ranked = [scipy.stats.rankdata(v) for v in (*models, *data)]
    for method, reference in (
        ("spearman", lambda i, j: scipy.stats.spearmanr(models[i], data[j]).statistic),
        ("pearson", lambda i, j: scipy.stats.pearsonr(models[i], data[j]).statistic),
        ("tau-b", lambda i, j: scipy.stats.kendalltau(models[i], data[j]).statistic),
        (
            "cosine",
            lambda i, j: models[i] @ data[j] / np.linalg.norm(models[i]) / np.linalg.norm(data[j]),
        ),
        ("rho-a", lambda i, j: 12 * ranked[i] @ ranked[3 + j] / (m**3 - m) - 3 * (m + 1) / (m - 1)),
    ):
        expected = np.array([[reference(i, j) for j in range(3)] for i in range(3)])
        got = compare_rdms(models, data, method)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=method)
        np.testing.assert_allclose(compare_rdms(models[0], data, method), got[:1], atol=1e-14)


def test_whitened_comparisons_match_the_whitening_matrix(rng):
    # V = (C C') o (C C') over the pairs (C: the pairwise contrasts), inverted directly.
    models, data = _rdm_vectors(rng, 9, 2)
    rows, columns = np.triu_indices(9, 1)
    C = np.zeros((rows.size, 9))
    C[np.arange(rows.size), rows], C[np.arange(rows.size), columns] = 1.0, -1.0
    V_inv = np.linalg.inv((C @ C.T) ** 2)
    for method in ("cosine_cov", "corr_cov"):
        a, b = models, data
        if method == "corr_cov":
            a = a - a.mean(axis=1, keepdims=True)
            b = b - b.mean(axis=1, keepdims=True)
        norms = np.outer(
            np.einsum("ij,jk,ik->i", a, V_inv, a), np.einsum("ij,jk,ik->i", b, V_inv, b)
        )
        expected = (a @ V_inv @ b.T) / np.sqrt(norms)
        for memory in (ONE_ROW, 1024):  # one condition row per chunk, and one chunk
            with sklearn.config_context(working_memory=memory):
                got = compare_rdms(models, data, method)
            np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=method)


def test_small_chunks_give_the_same_comparisons(rng):
    models, data = _rdm_vectors(rng, 400, 3)  # 79 800 pairs: 20 chunks of 4096
    for method in ("spearman", "rho-a", "pearson", "corr_cov", "cosine_cov"):
        default = compare_rdms(models, data, method)
        with sklearn.config_context(working_memory=ONE_ROW):
            chunked = compare_rdms(models, data, method)
        np.testing.assert_allclose(chunked, default, rtol=0, atol=1e-13, err_msg=method)


@pytest.mark.parametrize("method", ["spearman", "pearson", "corr_cov"])
def test_comparison_peak_memory_is_bounded_by_the_inputs(method):
    rng = np.random.default_rng(0)
    m = 1500 * 1499 // 2  # 1.1 million pairs, 9 MB per RDM
    a = rng.random(m)
    b = a + rng.random(m)
    with sklearn.config_context(working_memory=2):  # chunks of 2 MiB
        peak = _peak_bytes(lambda: compare_rdms(a, b, method))
    # Spearman: the two int32 rank vectors and one int64 sort key (16 bytes a pair,
    # as much as the inputs); the others only chunks (both sides', with their
    # pair indices). Before: 3.6x (Spearman) and 3.5x (corr_cov) the inputs.
    bound = 16 * m + 8 * 2**20 if method == "spearman" else 4 * m + 12 * 2**20
    assert peak < bound, (peak / (16 * m), method)
