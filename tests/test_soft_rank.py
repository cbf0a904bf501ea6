"""Soft ranks (Blondel et al. 2020) and the soft Spearman correlation.

Every expected number comes from elsewhere: scipy's rankdata and pearsonr,
a brute-force projection on the convex hull of all m! rank permutations
(scipy's nnls) with its optimality certificate, and finite differences
(torch.autograd.gradcheck).
"""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import nnls
from scipy.stats import pearsonr, rankdata, spearmanr

from skrep.exceptions import InvalidParameterError
from skrep.functional.rdm_compare import UndefinedComparisonError
from skrep.functional.soft_rank import _project, soft_rank, soft_spearman


def scaled(theta, eps):
    """The values the projection sees, written again from the definition."""
    m = theta.shape[0]
    return (theta - theta.mean()) / theta.std() * math.sqrt((m * m - 1) / 12) / eps


def brute_force_projection(z):
    """Euclidean projection of z on conv{permutations of (1..m)}, by nonnegative least squares."""
    m = z.shape[0]
    vertices = np.array(list(itertools.permutations(range(1, m + 1))), dtype=float)
    weight = 1e6  # a heavy row holding the convex weights' sum at 1
    A = np.vstack([vertices.T, weight * np.ones(len(vertices))])
    lam, _ = nnls(A, np.append(z, weight), maxiter=10_000)
    return vertices.T @ (lam / lam.sum()), vertices


def blocks(theta, eps):
    return _project(scaled(theta, eps))[2]


# 1. Small regularisation: the hard ranks.


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_eps_gives_rankdata(seed):
    theta = np.random.default_rng(seed).normal(size=12)
    np.testing.assert_allclose(soft_rank(theta, 1e-4), rankdata(theta), rtol=0, atol=1e-9)


def test_small_eps_with_ties_gives_average_ranks():
    theta = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0])
    expected = rankdata(theta, method="average")
    assert not np.allclose(expected, np.round(expected))  # ties: some half ranks
    np.testing.assert_allclose(soft_rank(theta, 1e-4), expected, rtol=0, atol=1e-9)
    assert spearmanr(theta, theta[::-1])[0] == pytest.approx(
        soft_spearman(theta, theta[::-1], 1e-4), abs=1e-12
    )


# 2. The projection on the permutahedron, against a brute-force one.


PROJECTION_CASES = [[0.0, 0.2, 0.3, 1.5], [1.0, 0.0, 0.1, 0.35, 2.5], [0.0, 0.05, 0.4, 0.5, 1.7]]


@pytest.mark.parametrize("theta", PROJECTION_CASES)
@pytest.mark.parametrize("eps", [0.05, 0.2, 0.3, 0.6, 1.0, 3.0, 20.0])
def test_projection_matches_brute_force(theta, eps):
    theta = np.array(theta)
    m = theta.shape[0]
    z = scaled(theta, eps)
    projection, vertices = brute_force_projection(z)
    soft = soft_rank(theta, eps)
    np.testing.assert_allclose(soft, projection, rtol=0, atol=1e-8)
    # Optimality certificate of the projection: <z - r, v - r> <= 0 at every vertex v.
    assert np.max((vertices - soft) @ (z - soft)) < 1e-10
    assert soft.sum() == pytest.approx(m * (m + 1) / 2, abs=1e-12)


def test_projection_cases_have_partial_blocks():
    # The cases above cover hard ranks, one block, and pooling in between.
    structures = {tuple(blocks(np.array(t), e)) for t in PROJECTION_CASES for e in (0.2, 0.3, 0.6)}
    assert sum(0 < b[-1] < len(b) - 1 for b in structures) >= 4


# 3. Large regularisation: Pearson's correlation of the values.


def test_large_eps_gives_pearson():
    rng = np.random.default_rng(3)
    a = rng.normal(size=30)
    b = a + rng.normal(size=30) + 0.3 * a**3
    r = pearsonr(a, b)[0]
    errors = [abs(soft_spearman(a, b, eps) - r) for eps in (0.1, 1.0, 1.5)]
    assert errors[0] > 0.05 and errors[1] < 0.02 and errors[2] < 0.003
    assert soft_spearman(a, b, 1e3) == pytest.approx(r, abs=1e-12)
    # There the soft ranks are (m + 1) / 2 + z: one block.
    np.testing.assert_allclose(soft_rank(a, 1e3), 15.5 + scaled(a, 1e3), rtol=0, atol=1e-12)
    assert soft_spearman(a, b, 1e-5) == pytest.approx(spearmanr(a, b)[0], abs=1e-12)


# 4. Gradients, and torch against numpy.


def test_gradcheck_soft_rank():
    torch = pytest.importorskip("torch")
    theta = np.random.default_rng(4).normal(size=9)
    weights = torch.as_tensor(np.random.default_rng(5).normal(size=9))
    for eps in (0.2, 0.5, 1.0):
        n_blocks = blocks(theta, eps)[-1] + 1
        assert 1 < n_blocks < 9  # some entries pooled, not all
        x = torch.tensor(theta, requires_grad=True)
        assert torch.autograd.gradcheck(lambda t, eps=eps: soft_rank(t, eps) @ weights, (x,))
        assert torch.autograd.gradcheck(lambda t, eps=eps: soft_rank(t, eps), (x,))
        np.testing.assert_allclose(
            soft_rank(x, eps).detach().numpy(), soft_rank(theta, eps), rtol=0, atol=1e-12
        )


def test_gradcheck_soft_spearman():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = torch.tensor(rng.normal(size=10), requires_grad=True)
    b = torch.tensor(rng.normal(size=10), requires_grad=True)
    for eps in (0.3, 0.5, 1.0):
        assert 1 < blocks(a.detach().numpy(), eps)[-1] + 1 < 10
        assert torch.autograd.gradcheck(lambda s, t, eps=eps: soft_spearman(s, t, eps), (a, b))
        value = soft_spearman(a, b, eps)
        assert value.ndim == 0 and value.dtype == torch.float64
        expected = soft_spearman(a.detach().numpy(), b.detach().numpy(), eps)
        assert float(value.detach()) == pytest.approx(expected, abs=1e-12)
        # numpy for one argument: computed with torch, gradient for the other
        mixed = soft_spearman(a, b.detach().numpy(), eps)
        assert mixed.requires_grad and float(mixed.detach()) == pytest.approx(expected, abs=1e-12)


def test_constant_values():
    r = soft_rank(np.full(5, 2.5), 0.1)
    np.testing.assert_array_equal(r, np.full(5, 3.0))
    torch = pytest.importorskip("torch")
    x = torch.full((5,), 1e-300, dtype=torch.float64, requires_grad=True)
    soft_rank(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5))
    with pytest.raises(UndefinedComparisonError, match="b has no spread"):
        soft_spearman(np.arange(5.0), np.ones(5))


# 5. Invariances.


@pytest.mark.parametrize("eps", [0.2, 1.0, 5.0])
def test_shift_and_scale_invariance(eps):
    theta = np.random.default_rng(7).normal(size=15)
    r = soft_rank(theta, eps)
    for shifted in (theta + 10.0, 3.7 * theta, 1e-200 * theta, 1e200 * theta - 5e199):
        np.testing.assert_allclose(soft_rank(shifted, eps), r, rtol=0, atol=1e-9)
    assert r.sum() == pytest.approx(15 * 16 / 2, abs=1e-10)
    assert np.all(np.diff(r[np.argsort(theta)]) >= 0)  # ordered like theta
    permutation = np.random.default_rng(8).permutation(15)
    np.testing.assert_allclose(soft_rank(theta[permutation], eps), r[permutation], atol=1e-12)
    tied = soft_rank(np.array([0.5, 2.0, 0.5, -1.0, 2.0, 0.5]), eps)  # ties: equal soft ranks
    assert tied[0] == tied[2] == tied[5] and tied[1] == tied[4]


# 6. float32.


def test_float32_and_integer_tensors():
    torch = pytest.importorskip("torch")
    theta = np.random.default_rng(9).normal(size=20)
    r32 = soft_rank(torch.tensor(theta, dtype=torch.float32), 0.7)
    assert r32.dtype == torch.float32
    np.testing.assert_allclose(r32.numpy(), soft_rank(theta, 0.7), rtol=0, atol=1e-4)
    integers = torch.tensor([3, 1, 2, 5])
    assert soft_rank(integers).dtype == torch.float64
    assert soft_rank([3, 1, 2, 5]).dtype == np.float64  # array-likes are numpy


# 7. Errors.


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.ones((3, 2)), r"values has shape \(3, 2\); expected a 1-d array"),
        (np.float64(1.0), r"values has shape \(\); expected a 1-d array"),
        (np.array([1.0]), r"values has shape \(1,\); expected a 1-d array of at least 2"),
        (np.array([1.0, np.nan, 2.0]), "values contains 1 NaN"),
        (np.array([1.0, np.inf, 2.0]), "values contains 0 NaN and 1 infinite"),
        (np.array([1.0, 2.0j]), "values could not be read as an array of real numbers: Complex"),
    ],
)
def test_bad_values(values, match):
    with pytest.raises(ValueError, match=match):
        soft_rank(values)


def test_bad_tensors():
    torch = pytest.importorskip("torch")
    with pytest.raises(
        ValueError, match="Complex data not supported: values has dtype torch.complex"
    ):
        soft_rank(torch.tensor([1.0, 2.0j]))
    with pytest.raises(ValueError, match=r"values has shape \(2, 2\)"):
        soft_rank(torch.ones(2, 2))
    with pytest.raises(ValueError, match="values contains 1 NaN"):
        soft_rank(torch.tensor([1.0, float("nan")]))


@pytest.mark.parametrize("strength", [0, -1.0, math.inf, math.nan, True, "1", None])
def test_bad_regularization_strength(strength):
    with pytest.raises(InvalidParameterError, match="'regularization_strength' parameter of soft"):
        soft_rank(np.arange(3.0), strength)
    with pytest.raises(InvalidParameterError, match="must be a finite real number > 0"):
        soft_spearman(np.arange(3.0), np.arange(3.0), strength)


def test_bad_pairs():
    with pytest.raises(ValueError, match=r"same length; got a of shape \(3,\) and b of shape"):
        soft_spearman(np.arange(3.0), np.arange(4.0))
    with pytest.raises(ValueError, match=r"b has shape \(1,\)"):
        soft_spearman(np.arange(3.0), np.arange(1.0))
    with pytest.raises(ValueError, match="a contains 1 NaN"):
        soft_spearman(np.array([1.0, np.nan]), np.arange(2.0))


# 8. CUDA.


def test_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    theta = np.random.default_rng(10).normal(size=50)
    x = torch.tensor(theta, device="cuda", requires_grad=True)
    r = soft_rank(x, 0.5)
    assert r.device == x.device
    np.testing.assert_allclose(r.detach().cpu().numpy(), soft_rank(theta, 0.5), atol=1e-10)
    weights = torch.linspace(-1.0, 1.0, 50, dtype=torch.float64)
    (r @ weights.cuda()).backward()
    x_cpu = torch.tensor(theta, requires_grad=True)
    (soft_rank(x_cpu, 0.5) @ weights).backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), x_cpu.grad.numpy(), atol=1e-10)
    rho = soft_spearman(x, torch.tensor(theta[::-1].copy(), device="cuda"), 0.5)
    assert rho.device == x.device and -1.0 <= float(rho.detach()) <= 1.0
