"""The last silent cases of the robustness battery, each pinned by a direct test.

- netrep's absolute eigenvalue floor at 1e300 (it overflowed a Python float);
- the whitening and the Procrustes rotations of float32 data sitting at 1e4
  (the raw cross-product kept the offset and lost the spread);
- duplicated stimuli, whose RDM ties broke differently with the stimuli
  shuffled, moving a Spearman RSA score by 3e-4;
- principal components beyond the rank of two samples (arbitrary directions).
"""

import numpy as np
import pytest
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from skrep.compat import netrep as compat
from skrep.functional import (
    compute_rdm,
    partial_whitening_matrix,
    pca_cross_variance,
    rotations_between,
)
from skrep.metrics import RSA


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 6))
    Y = X @ rng.standard_normal((6, 6)) + 0.5 * rng.standard_normal((40, 6))
    return X, Y


# -- netrep's absolute floor at 1e300 -------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_compat_linear_metric_at_1e300_equals_unit_scale(pair, alpha):
    # At alpha 0 and 1, with every eigenvalue far above netrep's floor of 1e-7,
    # the angular distance does not depend on the scale (a closed-form invariance).
    X, Y = pair
    expected = compat.LinearMetric(alpha=alpha).fit(X, Y).score(X, Y)
    got = compat.LinearMetric(alpha=alpha).fit(1e300 * X, 1e300 * Y).score(1e300 * X, 1e300 * Y)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_compat_whiten_at_1e300_whitens(pair):
    X = pair[0] - pair[0].mean(axis=0)
    whitened, Z = compat.whiten(1e300 * X, alpha=0.0, preserve_variance=False)
    assert np.all(np.isfinite(Z)) and np.all(np.isfinite(whitened))
    # Fully whitened: the Gram matrix of the output is the identity.
    np.testing.assert_allclose(whitened.T @ whitened, np.eye(X.shape[1]), atol=1e-10)


# -- float32 far from zero --------------------------------------------------------------------
def test_partial_whitening_of_offset_float32_matches_float64(pair):
    X32 = (pair[0] + 1e4).astype(np.float32)
    got = partial_whitening_matrix(X32, 0.0)
    expected = partial_whitening_matrix(X32.astype(np.float64), 0.0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * np.abs(expected).max())


def test_rotations_of_offset_float32_match_float64(pair):
    X32, Y32 = (pair[0] + 1e4).astype(np.float32), (pair[1] + 1e4).astype(np.float32)
    U, V = rotations_between(X32, Y32)
    U64, V64 = rotations_between(X32.astype(np.float64), Y32.astype(np.float64))
    assert U.dtype == V.dtype == np.float32
    # Singular vectors up to sign: compare the rotation U V.T they define.
    np.testing.assert_allclose(U @ V.T, U64 @ V64.T, atol=1e-4)


def test_centred_float32_keeps_its_precision(pair):
    X32 = (pair[0] - pair[0].mean(axis=0)).astype(np.float32)
    assert partial_whitening_matrix(X32, 0.5).dtype == np.float32


# -- duplicated stimuli -------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["correlation", "cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("seed", range(6))
def test_duplicated_stimuli_have_identical_distances_in_any_order(method, seed):
    # Small RDMs, where BLAS's edge tiles broke these ties for most shuffles.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 7))
    X[1] = X[0]
    order = rng.permutation(X.shape[0])
    for data, (a, b) in ((X, (0, 1)), (X[order], tuple(np.argsort(order)[[0, 1]]))):
        square = squareform(compute_rdm(data, method), checks=False)
        assert square[a, b] == 0.0
        others = np.setdiff1d(np.arange(X.shape[0]), [a, b])
        np.testing.assert_array_equal(square[a, others], square[b, others])


def test_duplicated_stimuli_keep_the_other_distances():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 9))
    X[5] = X[2]
    got = compute_rdm(X, "correlation")
    expected = 1.0 - np.corrcoef(X)[np.triu_indices(30, 1)]
    np.testing.assert_allclose(got, expected, atol=1e-13)


@pytest.mark.parametrize("seed", [9, 12, 15, 16, 19])
def test_rsa_with_a_duplicated_stimulus_ignores_the_order(seed):
    # Seeds where the score moved by 3e-4 to 9e-4 with the stimuli shuffled.
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((12, 7)), rng.standard_normal((12, 5))
    X[1] = X[0]
    order = rng.permutation(12)
    score = RSA().fit(X, Y).score(X, Y)
    shuffled = RSA().fit(X[order], Y[order]).score(X[order], Y[order])
    assert score == pytest.approx(shuffled, abs=1e-12)
    # Spearman of the two RDMs with exact ties: a second implementation.
    reference = spearmanr(compute_rdm(X), compute_rdm(Y)).statistic
    assert score == pytest.approx(reference, abs=1e-12)


def test_duplicated_stimuli_in_torch_keep_the_graph():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((10, 4))
    X[4] = X[1]
    T = torch.tensor(X, requires_grad=True)
    rdm = compute_rdm(T, "euclidean")
    np.testing.assert_allclose(rdm.detach().numpy(), compute_rdm(X, "euclidean"), atol=1e-12)
    rdm.sum().backward()
    assert T.grad is not None and torch.all(torch.isfinite(T.grad))


# -- components beyond the rank ----------------------------------------------------------------
def test_cross_variance_refuses_components_beyond_the_rank():
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((2, 5)), rng.standard_normal((9, 5))
    with pytest.raises(ValueError, match=r"n_components=2 .* X has 2 samples .* rank at most 1"):
        pca_cross_variance(X, Y, 2)
    result = pca_cross_variance(X, Y, 1)
    # One component: X's only direction, which is (X[1] - X[0]) normalised.
    direction = (X[1] - X[0]) / np.linalg.norm(X[1] - X[0])
    Yc = Y - Y.mean(axis=0)
    expected = np.sum((Yc @ direction) ** 2) / np.sum(Yc**2)
    np.testing.assert_allclose(result.evr_Y, [expected], rtol=1e-12)
