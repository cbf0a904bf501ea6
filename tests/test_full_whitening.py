"""Full whitening (alpha = 0) from a Cholesky factor, and when it steps aside.

``LinearMetric(alpha=0)`` whitens through a Cholesky factor where the
eigenvalue floor provably cannot bind, and through netrep's
eigendecomposition otherwise. Both must give netrep's distances: checked
against the symmetric whitening of :func:`partial_whitening_matrix` (the
eigendecomposition, a second route) and against canonical correlations.
"""

import numpy as np
import pytest

from skrep.functional import partial_whitening_matrix
from skrep.functional._full_whitening import cholesky_whitening
from skrep.metrics import LinearMetric


def symmetric_route(X, Y, relative_tol=True):
    """The angular distance through netrep's symmetric whitening matrices."""
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    Xw = Xc @ partial_whitening_matrix(Xc, 0.0, relative_tol=relative_tol)
    Yw = Yc @ partial_whitening_matrix(Yc, 0.0, relative_tol=relative_tol)
    nuclear = np.linalg.svd(Xw.T @ Yw, compute_uv=False).sum()
    return np.arccos(min(1.0, nuclear / (np.linalg.norm(Xw) * np.linalg.norm(Yw))))


def test_cholesky_whitening_whitens():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 12)) @ rng.standard_normal((12, 12))
    gram = X.T @ X
    W = cholesky_whitening(gram, 1e-7 * np.trace(gram) / 12 / 200)
    np.testing.assert_allclose(W.T @ gram @ W, np.eye(12), atol=1e-10)


def test_cholesky_whitening_steps_aside_where_the_floor_may_bind():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 6))
    gram = X.T @ X
    smallest = np.linalg.eigvalsh(gram)[0]
    assert cholesky_whitening(gram, smallest / 10) is not None
    assert cholesky_whitening(gram, smallest) is None  # 2 * floor above lambda_min
    singular = np.hstack([X, X[:, :1]])  # a repeated column: not positive definite
    assert cholesky_whitening(singular.T @ singular, 1e-30) is None


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("seed", range(5))
def test_alpha_0_equals_the_symmetric_whitening(seed, dtype, rtol):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((80, 10)) @ rng.standard_normal((10, 10))
    Y = 0.3 * X @ rng.standard_normal((10, 10)) + rng.standard_normal((80, 10))
    expected = symmetric_route(X, Y)
    X, Y = X.astype(dtype), Y.astype(dtype)
    assert LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y) == pytest.approx(expected, rel=rtol)


@pytest.mark.parametrize("relative_tol", [True, False])
def test_alpha_0_where_the_floor_binds(relative_tol):
    # A column 1e-5 times the others: its variance is below netrep's floor, so the
    # eigendecomposition clips it and the Cholesky route must not be taken.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 5))
    X[:, 4] = 1e-5 * rng.standard_normal(60)
    Y = X @ rng.standard_normal((5, 5)) + 0.5 * rng.standard_normal((60, 5))
    if relative_tol:
        got = LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y)
    else:  # netrep's absolute floor, through the compat class
        from skrep.compat import netrep

        got = netrep.LinearMetric(alpha=0.0).fit(X, Y).score(X, Y)
    assert got == pytest.approx(symmetric_route(X, Y, relative_tol), rel=1e-12)
    # The clipped whitening differs from whitening the small column fully.
    unclipped = symmetric_route(np.delete(X, 4, axis=1), Y)
    assert abs(got - unclipped) > 1e-6


def test_alpha_0_with_zero_padding():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((70, 8)), rng.standard_normal((70, 5))
    Ypad = np.hstack([Y, np.zeros((70, 3))])
    got = LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y)
    assert got == pytest.approx(symmetric_route(X, Ypad), rel=1e-12)


def test_alpha_0_in_torch_equals_numpy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 7))
    Y = X @ rng.standard_normal((7, 7)) + rng.standard_normal((90, 7))
    expected = LinearMetric(alpha=0.0).fit(X, Y).distance(X, Y)
    tX, tY = torch.tensor(X), torch.tensor(Y)
    got = LinearMetric(alpha=0.0).fit(tX, tY).distance(tX, tY)
    assert float(got) == pytest.approx(expected, rel=1e-12)
