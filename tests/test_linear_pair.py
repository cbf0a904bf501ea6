"""The one-pair path of linear CKA (``skrep.functional._linear_pair``) and its helpers.

Every value is checked against the naive implementation (explicit centered
Gram matrices, ``similarity_reference.py``), against float64 for float32
input, or against the general many-layer path (``cka_matrix``, a second
implementation: features centered and scaled first, then its own products).
"""

import tracemalloc

import array_api_compat.numpy as xp
import numpy as np
import pytest
import similarity_reference as naive

from skrep.functional import _linear_hsic, _linear_pair, cka_matrix, linear_cka
from skrep.functional._linear_hsic import upper_inner_products
from skrep.functional._linear_pair import _offsets_look_small, _side, column_means

# (n, p, q): feature side (n >= p + q) and Gram side, narrow and wide.
SHAPES = [(300, 40, 30), (200, 150, 60), (40, 64, 300), (12, 40, 30)]


def pair(rng, n, p, q, offset=0.0):
    X = rng.standard_normal((n, p))
    Y = X[:, : min(p, q)] @ rng.standard_normal((min(p, q), q)) + rng.standard_normal((n, q))
    return X + offset, Y - offset


@pytest.mark.parametrize(("n", "p", "q"), SHAPES)
@pytest.mark.parametrize("offset", [0.0, 0.3, 50.0])  # raw products, raw, centered copies
@pytest.mark.parametrize("debiased", [False, True])
def test_pair_path_matches_naive_and_the_general_path(rng, n, p, q, offset, debiased):
    X, Y = pair(rng, n, p, q, offset)
    Kc, Lc = naive.linear_gram(X - X.mean(0)), naive.linear_gram(Y - Y.mean(0))
    expected = naive.cka_from_grams(Kc, Lc, debiased)
    got = linear_cka(X, Y, debiased=debiased)
    assert got == pytest.approx(expected, abs=1e-11)
    general = cka_matrix([X, Y, X[:, :3]], debiased=debiased)[0, 1]  # three layers: general path
    assert got == pytest.approx(general, abs=1e-11)


@pytest.mark.parametrize(("n", "p", "q"), SHAPES[:3])
@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_float32_pairs_keep_float64_accuracy(rng, n, p, q, offset):
    X, Y = pair(rng, n, p, q, offset)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    # The float64 CKA of the float32-rounded data: only the arithmetic differs.
    for debiased in (False, True):
        exact = linear_cka(X32.astype(np.float64), Y32.astype(np.float64), debiased=debiased)
        assert abs(linear_cka(X32, Y32, debiased=debiased) - exact) < 2e-6


def test_a_mean_the_sample_misses_sends_the_column_to_centering(rng):
    # Every 20th row spreads by +-3000 around 1000, the others sit at 1000; the
    # prediction samples every 40th row: the sample promises a small offset,
    # the exact sums of squares refuse it (n m^2 is 0.69 of them), and the
    # representation is centered before its product.
    n, p = 40 * _linear_pair._SAMPLE_ROWS, 6
    X = 1000.0 + 0.01 * rng.standard_normal((n, p))
    X[::20] += 3000.0 * rng.choice([-1.0, 1.0], size=(n // 20, p))
    Y = X[:, :4] @ rng.standard_normal((4, 5)) + rng.standard_normal((n, 5))
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    mean = column_means(X32, xp)[0]
    assert _offsets_look_small(X32, mean, xp)
    assert _side(X32, mean, True, xp) is None and _side(X32, mean, False, xp) is not None
    # float32 products of these spikes carry 1e-6 to 3e-5 of rounding on any route.
    exact = linear_cka(X32.astype(np.float64), Y32.astype(np.float64))
    general = cka_matrix([X32, Y32, X32[:, :2]])[0, 1]
    assert abs(linear_cka(X32, Y32) - exact) < max(3e-5, 3.0 * abs(general - exact))
    assert linear_cka(X, Y) == pytest.approx(cka_matrix([X, Y, X[:, :2]])[0, 1], abs=1e-11)


@pytest.mark.parametrize(("n", "p", "q"), SHAPES[:3])
@pytest.mark.parametrize("scale", [1e25, 1e-30])  # float32 products overflow, or underflow
def test_extreme_float32_scales_take_the_rescaling_path(rng, n, p, q, scale):
    X, Y = pair(rng, n, p, q)
    X32, Y32 = (scale * X).astype(np.float32), (scale * Y).astype(np.float32)
    assert abs(linear_cka(X32, Y32) - linear_cka(X, Y)) < 1e-5
    assert abs(linear_cka(X32, Y32, debiased=True) - linear_cka(X, Y, debiased=True)) < 1e-5


@pytest.mark.parametrize(("n", "p"), [(50, 3), (10, 30)])  # feature side, Gram side
@pytest.mark.parametrize("value", [0.0, 0.1, 1000.0])
def test_constant_representations_are_named(rng, n, p, value):
    constant = np.full((n, p), value)
    other = rng.standard_normal((n, 4))
    with pytest.raises(ValueError, match=r"X has no variance: every column is constant"):
        linear_cka(constant, other)
    with pytest.raises(ValueError, match=r"Y has no variance"):
        linear_cka(other, constant.astype(np.float32))


@pytest.mark.parametrize(("n", "p", "q"), [(20000, 40, 30), (200, 5000, 4000)])
def test_pairs_are_never_copied(rng, n, p, q):
    # Zero-mean-ish features: the products read the arrays as given (before,
    # both representations were centered into new arrays first).
    X, Y = pair(rng, n, p, q, offset=0.2)
    linear_cka(X, Y)  # imports and caches outside the trace
    tracemalloc.start()
    linear_cka(X, Y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.5 * X.nbytes


def test_upper_inner_products_match_full_sums(rng, monkeypatch):
    A, B = rng.standard_normal((37, 5)), rng.standard_normal((37, 8))
    K, L = A @ A.T, B @ B.T
    monkeypatch.setattr(_linear_hsic, "SLAB_ENTRIES", 37 * 5)  # slabs of 5 rows, the last of 2
    got = upper_inner_products([K, L], xp)
    expected = [[np.sum(M * N) for N in (K, L)] for M in (K, L)]
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    K0, L0 = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
    got = upper_inner_products([K.astype(np.float32), L], xp, zero_diagonal=True)
    assert got[0, 1] == pytest.approx(np.sum(K.astype(np.float32).astype(float) * L0), rel=1e-13)
    assert got[1, 1] == pytest.approx(np.sum(L0 * L0), rel=1e-13)
    assert np.diag(K).sum() > 0 and np.sum(K0 * K0) < np.sum(K * K)
    # Raw Grams centered slab by slab: the Grams of the centered features.
    m = A.mean(axis=0)
    centered = [(A - m) @ (A - m).T, L]
    got = upper_inner_products([K, L], xp, centerings=[(A @ m, float(m @ m)), None])
    expected = [[np.sum(M * N) for N in centered] for M in centered]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("n", [7, 16, 1003])
def test_column_means(rng, n):
    X = (1000.0 + rng.standard_normal((n, 6))).astype(np.float32)
    exact = X.astype(np.float64).mean(axis=0)
    for array in (X, np.asfortranarray(X)):
        means, is_exact = column_means(array, xp)
        assert is_exact and means.shape == (1, 6) and means.dtype == np.float64
        np.testing.assert_allclose(means[0], exact, rtol=1e-15)
    # Runs of 8 rows summed in float32: at most 7 ulps of the terms per run.
    quick, is_exact = column_means(X, xp, exact=False)
    assert is_exact == (n < 16)
    bound = 7 * np.finfo(np.float32).eps * np.abs(X).max(axis=0)
    assert np.all(np.abs(quick[0] - exact) <= bound)
