"""Bures distance, normalised Bures similarity, the shape-metric duality and the CKA bounds.

Independent values: the definition through scipy's matrix square roots, the
Procrustes distances of LinearMetric (the duality of Harvey et al. 2023),
closed forms (commuting matrices, multiples), linear CKA computed by
``linear_cka``, and brute-force checks of when the bounds are attained.
"""

import math

import numpy as np
import pytest
from scipy.linalg import sqrtm
from sklearn.model_selection import KFold, cross_validate

from skrep import BuresEstimator, LinearMetric, layer_similarity
from skrep.exceptions import InvalidParameterError
from skrep.functional import (
    bures_distance,
    bures_similarity,
    linear_cka,
    normalized_bures_similarity,
    procrustes_cka_bounds,
)


def random_psd(rng, n, rank=None):
    F = rng.standard_normal((n, rank or n))
    return F @ F.T


def definition(A, B):
    """Fidelity from scipy's sqrtm: tr (A^1/2 B A^1/2)^1/2."""
    root = np.real(sqrtm(A))
    return float(np.trace(np.real(sqrtm(root @ B @ root))))


def test_bures_distance_and_similarity_match_their_definition(rng):
    for _ in range(5):
        A, B = random_psd(rng, 6), random_psd(rng, 6)
        F = definition(A, B)
        expected = math.sqrt(np.trace(A) + np.trace(B) - 2 * F)
        assert bures_distance(A, B) == pytest.approx(expected, rel=1e-9)
        nbs = normalized_bures_similarity(A, B)
        assert nbs == pytest.approx(F / math.sqrt(np.trace(A) * np.trace(B)), rel=1e-9)


def test_closed_forms_commuting_matrices_and_multiples(rng):
    # Diagonal (commuting) matrices: F = sum sqrt(a_i b_i).
    a, b = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    expected = math.sqrt(a.sum() + b.sum() - 2 * np.sum(np.sqrt(a * b)))
    assert bures_distance(np.diag(a), np.diag(b)) == pytest.approx(expected, rel=1e-12)
    # A multiple: NBS 1, distance |1 - sqrt(c)| sqrt(tr A); a matrix and itself: exactly 0.
    A = random_psd(rng, 7, rank=3)
    assert normalized_bures_similarity(A, 4.0 * A) == pytest.approx(1.0, abs=1e-12)
    assert bures_distance(A, 4.0 * A) == pytest.approx(math.sqrt(np.trace(A)), rel=1e-10)
    assert bures_distance(A, A) <= 1e-12 * math.sqrt(np.trace(A))


@pytest.mark.parametrize("widths", [(5, 8), (40, 30), (3, 3)])
def test_duality_procrustes_distance_is_the_bures_distance_of_the_gram_matrices(rng, widths):
    X = rng.standard_normal((30, widths[0])) + 3.0
    Y = rng.standard_normal((30, widths[1])) - 1.0
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    procrustes = LinearMetric(score_method="euclidean").fit(X, Y).distance(X, Y)
    assert bures_distance(Xc @ Xc.T, Yc @ Yc.T) == pytest.approx(procrustes, rel=1e-12)
    # and the cosine of the angular Procrustes distance is NBS
    angular = LinearMetric().fit(X, Y).distance(X, Y)
    nbs = normalized_bures_similarity(Xc @ Xc.T, Yc @ Yc.T)
    assert math.cos(angular) == pytest.approx(nbs, rel=1e-12)
    comparison = bures_similarity(X, Y)  # the same, in feature space
    assert comparison.distance == pytest.approx(procrustes, rel=1e-12)
    assert comparison.angle == pytest.approx(angular, rel=1e-12)
    assert BuresEstimator().fit(X, Y).distance(X, Y) == pytest.approx(angular, rel=1e-12)
    assert BuresEstimator().fit(X, Y).score(X, Y) == pytest.approx(nbs, rel=1e-12)


def test_invariances_and_exact_zero(rng):
    X = rng.standard_normal((40, 6))
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    nbs = BuresEstimator().fit(X, X)
    assert nbs.distance(X, 3.0 * X @ Q + 5.0) <= 1e-14  # rotation, scale, offset: exactly 0
    assert nbs.score(X, 3.0 * X @ Q + 5.0) == pytest.approx(1.0, abs=1e-14)
    Y = rng.standard_normal((40, 4))
    forward = BuresEstimator().fit(X, Y).score(X, Y)
    assert forward == pytest.approx(BuresEstimator().fit(Y, X).score(Y, X), rel=1e-13)


def test_rbf_kernel_against_its_centred_kernel_matrices(rng):
    X, Y = rng.standard_normal((25, 4)), rng.standard_normal((25, 3))

    def centred_rbf(A, sigma):
        d = np.sum((A[:, None] - A[None]) ** 2, axis=-1)
        K = np.exp(-d / (2 * sigma**2))
        H = np.eye(len(A)) - 1 / len(A)
        return H @ K @ H

    nbs = BuresEstimator("rbf", sigma=1.5).fit(X, Y).score(X, Y)
    expected = normalized_bures_similarity(centred_rbf(X, 1.5), centred_rbf(Y, 1.5))
    assert nbs == pytest.approx(expected, rel=1e-9)
    assert nbs == pytest.approx(
        definition(centred_rbf(X, 1.5), centred_rbf(Y, 1.5))
        / math.sqrt(np.trace(centred_rbf(X, 1.5)) * np.trace(centred_rbf(Y, 1.5))),
        rel=1e-7,
    )


def test_cka_bounds_bracket_cka_on_random_representations(rng):
    for seed in range(200):
        local = np.random.default_rng(seed)
        n = int(local.integers(6, 40))
        p, q = (int(v) for v in local.integers(1, 12, size=2))
        X = local.standard_normal((n, p)) * local.uniform(0.1, 3, p)
        Y = X[:, local.integers(0, p, q)] * local.uniform(-1, 1) + local.uniform(
            0, 2
        ) * local.standard_normal((n, q))
        bounds = procrustes_cka_bounds(X, Y)
        assert bounds.cka == pytest.approx(linear_cka(X, Y), rel=1e-12)
        assert bounds.cka_lower <= bounds.cka * (1 + 1e-9) + 1e-12, seed
        assert bounds.cka <= bounds.cka_upper * (1 + 1e-9) + 1e-12, seed
        assert bounds.angle_lower <= bounds.angle + 1e-7, seed
        assert bounds.angle <= bounds.angle_upper + 1e-7, seed


def test_cka_bounds_are_attained(rng):
    # Rank-one cross-product X'Y: the upper bound is CKA itself.
    x = rng.standard_normal((30, 1))
    xc = x - x.mean()
    W = rng.standard_normal((30, 2))
    W -= W.mean(0)
    W -= xc @ (xc.T @ W) / float(np.sum(xc * xc))  # centred and orthogonal to x
    bounds = procrustes_cka_bounds(x, np.hstack([2 * x, W]))
    assert bounds.rank == 1
    assert bounds.cka == pytest.approx(bounds.cka_upper, rel=1e-10)
    # Equal nonzero singular values of X'Y: the lower bound is attained.
    Z = rng.standard_normal((30, 4))
    Z = np.linalg.qr(Z - Z.mean(0))[0]  # centred orthonormal columns
    bounds = procrustes_cka_bounds(Z, Z[:, :2])
    assert bounds.rank == 2
    assert bounds.cka == pytest.approx(1 / math.sqrt(2), rel=1e-10)
    assert bounds.cka == pytest.approx(bounds.cka_lower, rel=1e-10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones((3, 4)), np.eye(3)), "square PSD"),
        ((np.array([[1.0, 2.0], [0.0, 1.0]]), np.eye(2)), "not symmetric"),
        ((np.array([[1.0, 0.0], [0.0, -1.0]]), np.eye(2)), "not positive semidefinite"),
        ((np.eye(3), np.eye(4)), "same stimuli"),
    ],
)
def test_bad_matrices_are_named(args, message):
    with pytest.raises(ValueError, match=message):
        bures_distance(*args)


def test_bad_estimator_inputs_are_named(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="no variance"):
        BuresEstimator().fit(X, np.ones((10, 2))).score(X, np.ones((10, 2)))
    with pytest.raises(InvalidParameterError, match="kernel"):
        BuresEstimator(kernel="poly").fit(X, X)
    with pytest.raises(ValueError, match="samples"):
        BuresEstimator().fit(X, rng.standard_normal((9, 3)))


def test_float32_torch_and_device(rng):
    X, Y = rng.standard_normal((40, 6)), rng.standard_normal((40, 9))
    expected = BuresEstimator().fit(X, Y).score(X, Y)
    X32, Y32 = X.astype(np.float32) + 1e3, Y.astype(np.float32) - 1e3
    assert BuresEstimator().fit(X32, Y32).score(X32, Y32) == pytest.approx(expected, rel=1e-5)
    torch = pytest.importorskip("torch")
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    assert BuresEstimator().fit(tX, tY).score(tX, tY) == pytest.approx(expected, rel=1e-12)
    assert BuresEstimator(device="cpu").fit(X, Y).score(X, Y) == pytest.approx(expected, rel=1e-12)
    T = torch.from_numpy(random_psd(rng, 5))
    assert bures_distance(T, T.clone()) <= 1e-6


def test_layer_similarity_and_cross_validate(rng):
    layers = [rng.standard_normal((30, w)) for w in (3, 6, 4)]
    S = layer_similarity(BuresEstimator(), layers)
    for i in range(3):
        for j in range(3):
            expected = BuresEstimator().fit(layers[i], layers[j]).score(layers[i], layers[j])
            assert S[i, j] == pytest.approx(expected, abs=1e-12)
    scores = cross_validate(BuresEstimator(), layers[0], layers[1], cv=KFold(3))["test_score"]
    assert np.all((scores >= 0) & (scores <= 1))


def test_cka_bounds_are_floats_for_torch_input(rng):
    torch = pytest.importorskip("torch")
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 5))
    bounds = procrustes_cka_bounds(torch.from_numpy(X), torch.from_numpy(Y))
    assert isinstance(bounds.cka, float)
    assert bounds.cka == pytest.approx(procrustes_cka_bounds(X, Y).cka, rel=1e-12)
