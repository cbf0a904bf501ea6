"""Gradients of the RDMs (compute_rdm) and of their comparisons (compare_rdms) on torch input.

The values on torch input are those computed without grad, bit for bit; the
gradients are checked with ``torch.autograd.gradcheck`` in float64 for every
RDM method and differentiable comparison, at ordinary and at hard points
(duplicated patterns, a zero euclidean distance, constant columns, float32),
and against central differences where the function has a kink.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skrep.functional import (  # noqa: E402
    compare_rdms,
    compute_rdm,
    condensed_to_square,
    soft_spearman,
)

PATTERN_METHODS = ["correlation", "cosine", "euclidean", "sqeuclidean"]
DIFFERENTIABLE = ["pearson", "cosine", "corr_cov", "cosine_cov"]
RANKS = ["spearman", "rho-a", "tau-a", "tau-b"]


def randn(*shape, seed=0, grad=True):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(grad)


def precision_of(seed, p=5):
    A = randn(p, p, seed=seed, grad=False)
    return A @ A.T / p + torch.eye(p, dtype=torch.float64)


def crossnobis_labels():
    conditions = np.tile(np.arange(4), 3)  # 4 conditions in each of 3 runs
    return {"conditions": conditions, "runs": np.repeat(np.arange(3), 4)}


# -- compute_rdm ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", PATTERN_METHODS + ["mahalanobis"])
@pytest.mark.parametrize("options", [{}, {"per_channel": True}, {"square": True}])
def test_compute_rdm_gradcheck(method, options):
    X = randn(6, 5, seed=1)
    assert torch.autograd.gradcheck(lambda A: compute_rdm(A, method, **options), (X,))


@pytest.mark.parametrize("method", PATTERN_METHODS)
def test_compute_rdm_gradcheck_with_conditions_and_data_sets(method):
    X = randn(2, 8, 4, seed=2)  # two data sets, 4 conditions of 2 observations
    conditions = np.repeat(np.arange(4), 2)
    assert torch.autograd.gradcheck(lambda A: compute_rdm(A, method, conditions=conditions), (X,))


def test_mahalanobis_and_crossnobis_gradcheck_in_the_data_and_the_precision():
    X, P = randn(6, 5, seed=3), precision_of(4).requires_grad_(True)
    for method, options, data in (
        ("mahalanobis", {}, X),
        ("crossnobis", crossnobis_labels(), randn(12, 5, seed=5)),
    ):
        # symmetrised inside, so that the finite differences stay on precisions
        assert torch.autograd.gradcheck(
            lambda A, B, m=method, o=options: compute_rdm(A, m, precision=(B + B.T) / 2, **o),
            (data, P),
        )
    labels = crossnobis_labels()
    assert torch.autograd.gradcheck(
        lambda A: compute_rdm(A, "crossnobis", **labels), (randn(12, 5, seed=6),)
    )


@pytest.mark.parametrize("method", PATTERN_METHODS + ["mahalanobis", "crossnobis"])
def test_compute_rdm_values_on_a_grad_tensor_are_those_without_grad(method):
    data = randn(12, 5, seed=7)
    options = crossnobis_labels() if method == "crossnobis" else {}
    if method in ("mahalanobis", "crossnobis"):
        options["precision"] = precision_of(8).requires_grad_(True)
    with_grad = compute_rdm(data, method, **options)
    assert with_grad.requires_grad and with_grad.dtype == torch.float64
    with torch.no_grad():
        without = compute_rdm(data, method, **options)
    assert not without.requires_grad
    assert torch.equal(with_grad.detach(), without)
    numpy_options = {k: v.detach().numpy() if torch.is_tensor(v) else v for k, v in options.items()}
    expected = compute_rdm(data.detach().numpy(), method, **numpy_options)
    np.testing.assert_allclose(with_grad.detach().numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method", ["correlation", "cosine", "sqeuclidean", "mahalanobis"])
def test_duplicated_patterns_give_each_copy_its_own_gradient(method):
    # The value copies a duplicate's distances from its first occurrence (exact
    # ties for rank comparisons); the gradient must still reach both copies.
    X = randn(6, 5, seed=9, grad=False).clone()
    X[4] = X[1]
    X.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda A: compute_rdm(A, method), (X,))
    rdm = compute_rdm(X, method)
    assert float(rdm[[i for i in range(15) if i != 7]].detach().min()) > 0  # only (1, 4) is 0
    assert float(rdm[7].detach()) == 0.0  # pair (1, 4): exactly 0, as without grad


def test_identical_patterns_have_a_finite_euclidean_gradient():
    X = randn(6, 5, seed=10, grad=False).clone()
    X[4] = X[1]
    X.requires_grad_(True)
    zero = 7  # the pair (1, 4) in the condensed order
    others = [i for i in range(15) if i != zero]
    # every other distance is smooth there: gradcheck
    assert torch.autograd.gradcheck(lambda A: compute_rdm(A, "euclidean")[others], (X,))
    # the zero distance: |x_1 - x_4| has a kink; its gradient is the subgradient 0,
    # the one central differences see (|h| - |-h|) / 2h = 0
    (gradient,) = torch.autograd.grad(compute_rdm(X, "euclidean")[zero], X)
    assert torch.all(gradient == 0.0)
    h, base = 1e-3, X.detach()
    for index in [(1, 0), (4, 3), (1, 2)]:
        step = torch.zeros_like(base)
        step[index] = h
        central = (
            compute_rdm(base + step, "euclidean")[zero]
            - compute_rdm(base - step, "euclidean")[zero]
        ) / (2 * h)
        assert abs(float(central)) < 1e-9
    # patterns 1e-12 apart (a distance the kernel trick rounds to 0): finite
    Z = X.detach().clone()
    Z[4] += 1e-12
    Z.requires_grad_(True)
    compute_rdm(Z, "euclidean").sum().backward()
    assert torch.isfinite(Z.grad).all()
    # every pattern the same: all distances 0, gradient 0
    W = randn(1, 3, seed=11, grad=False).repeat(5, 1).requires_grad_(True)
    compute_rdm(W, "euclidean").sum().backward()
    assert torch.isfinite(W.grad).all() and float(W.grad.abs().max()) < 1e-6


@pytest.mark.parametrize("method", PATTERN_METHODS + ["mahalanobis"])
def test_a_constant_column_keeps_the_gradient_correct(method):
    X = randn(7, 4, seed=12, grad=False).clone()
    X[:, 2] = 3.0
    X.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda A: compute_rdm(A, method), (X,))


def test_a_constant_pattern_is_refused_for_correlation_as_without_grad():
    X = randn(6, 4, seed=13, grad=False).clone()
    X[2] = 1.5  # a constant row: its correlation distance is undefined
    with pytest.raises(ValueError, match="constant pattern"):
        compute_rdm(X.requires_grad_(True), "correlation")
    # cosine is defined for it (not zero), and differentiable
    assert torch.autograd.gradcheck(lambda A: compute_rdm(A, "cosine"), (X,))


@pytest.mark.parametrize("scale", [2.0**-400, 2.0**400], ids=["1e-120", "1e+120"])
@pytest.mark.parametrize("method", ["correlation", "euclidean", "sqeuclidean"])
def test_extreme_scales_keep_the_gradient(method, scale):
    X = randn(6, 4, seed=14)
    weights = randn(15, seed=15, grad=False)
    (unit,) = torch.autograd.grad((compute_rdm(X, method) * weights).sum(), X)
    scaled = (X.detach() * scale).requires_grad_(True)
    (gradient,) = torch.autograd.grad((compute_rdm(scaled, method) * weights).sum(), scaled)
    power = {"correlation": -1.0, "euclidean": 0.0, "sqeuclidean": 1.0}[method]
    torch.testing.assert_close(gradient, unit * scale**power, rtol=1e-10, atol=0)


@pytest.mark.parametrize("method", PATTERN_METHODS)
def test_float32_values_and_gradients_match_float64(method):
    X = randn(10, 6, seed=16, grad=False) + 2.0  # an offset
    weights = randn(45, seed=17, grad=False)
    gradients = []
    for dtype in (torch.float64, torch.float32):
        A = X.detach().to(dtype).requires_grad_(True)
        rdm = compute_rdm(A, method)
        assert rdm.dtype == dtype
        (rdm * weights.to(dtype)).sum().backward()
        gradients.append(A.grad.double())
        if dtype == torch.float32:
            np.testing.assert_allclose(
                rdm.detach().double().numpy(), compute_rdm(X, method).numpy(), rtol=2e-5, atol=1e-6
            )
    error = (gradients[1] - gradients[0]).abs().max() / gradients[0].abs().max()
    assert float(error) < 1e-4


def test_no_grad_mode_and_tensors_without_grad_build_no_graph():
    X = randn(6, 3, seed=18)
    with torch.no_grad():
        assert compute_rdm(X).grad_fn is None
    assert compute_rdm(X.detach()).grad_fn is None
    assert isinstance(compute_rdm(X.detach().numpy()), np.ndarray)


# -- compare_rdms --------------------------------------------------------------------------


def rdm_stacks(seed):
    # positive, varied "dissimilarities" over 6 conditions (15 pairs)
    generator = torch.Generator().manual_seed(seed)
    a = torch.rand(2, 15, dtype=torch.float64, generator=generator) + 0.1
    b = torch.rand(3, 15, dtype=torch.float64, generator=generator) + 0.1
    return a.requires_grad_(True), b.requires_grad_(True)


@pytest.mark.parametrize("method", DIFFERENTIABLE)
def test_compare_rdms_gradcheck_in_both_stacks(method):
    a, b = rdm_stacks(19)
    result = compare_rdms(a, b, method)
    assert result.shape == (2, 3) and result.dtype == torch.float64 and result.requires_grad
    assert torch.autograd.gradcheck(lambda u, v: compare_rdms(u, v, method), (a, b))
    # one side numpy: the gradient of the other
    fixed = b.detach().numpy()
    assert torch.autograd.gradcheck(lambda u: compare_rdms(u, fixed, method), (a,))
    # a single RDM on one side, a stack of square ones on the other
    assert torch.autograd.gradcheck(
        lambda u, v: compare_rdms(u[0], condensed_to_square(v), method), (a, b)
    )


@pytest.mark.parametrize("method", DIFFERENTIABLE + RANKS)
def test_compare_rdms_values_on_tensors_equal_the_numpy_values(method):
    a, b = rdm_stacks(20)
    expected = compare_rdms(a.detach().numpy(), b.detach().numpy(), method)
    assert isinstance(expected, np.ndarray)
    for left, right in ((a, b), (a.detach(), b.detach()), (a, b.detach().numpy())):
        result = compare_rdms(left, right, method)
        assert torch.is_tensor(result) and result.dtype == torch.float64
        np.testing.assert_array_equal(result.detach().numpy(), expected)


@pytest.mark.parametrize("method", RANKS)
def test_rank_comparisons_of_grad_tensors_carry_no_gradient(method):
    a, b = rdm_stacks(21)
    result = compare_rdms(a, b, method)
    assert not result.requires_grad and result.grad_fn is None
    with pytest.raises(RuntimeError):
        result.sum().backward()  # explicit, not a silent zero gradient
    # soft_spearman is the differentiable stand-in
    assert soft_spearman(a[0], b[0], 1e-3).requires_grad


@pytest.mark.parametrize("rdm_method", PATTERN_METHODS)
@pytest.mark.parametrize("comparison", ["pearson", "cosine"])
def test_compare_of_compute_rdm_gradcheck(rdm_method, comparison):
    X, Y = randn(7, 4, seed=22), randn(7, 6, seed=23, grad=False)

    def similarity(A):
        return compare_rdms(compute_rdm(A, rdm_method), compute_rdm(Y, rdm_method), comparison)

    assert torch.autograd.gradcheck(similarity, (X,))
    expected = compare_rdms(
        compute_rdm(X.detach().numpy(), rdm_method),
        compute_rdm(Y.numpy(), rdm_method),
        comparison,
    )
    np.testing.assert_allclose(similarity(X).detach().numpy(), expected, rtol=1e-12)


def test_compare_of_compute_rdm_at_hard_points():
    # a constant column and duplicated patterns in X
    X = randn(8, 4, seed=24, grad=False).clone()
    X[:, 1] = -2.0
    X[5] = X[2]
    X.requires_grad_(True)
    Y = randn(8, 5, seed=25, grad=False)
    for rdm_method in PATTERN_METHODS:
        assert torch.autograd.gradcheck(
            lambda A, m=rdm_method: compare_rdms(compute_rdm(A, m), compute_rdm(Y, m), "pearson"),
            (X,),
        )


def test_compare_float32_input_matches_float64():
    X, Y = randn(9, 5, seed=26, grad=False), randn(9, 4, seed=27, grad=False)
    gradients, values = [], []
    for dtype in (torch.float64, torch.float32):
        A = X.detach().to(dtype).requires_grad_(True)
        value = compare_rdms(compute_rdm(A), compute_rdm(Y.to(dtype)), "pearson")
        assert value.dtype == torch.float64  # comparisons are float64 for every input
        value.sum().backward()
        assert A.grad.dtype == dtype
        gradients.append(A.grad.double())
        values.append(value.detach())
    torch.testing.assert_close(values[1], values[0], rtol=1e-5, atol=1e-6)
    error = (gradients[1] - gradients[0]).abs().max() / gradients[0].abs().max()
    assert float(error) < 1e-4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_values_and_gradients_match_the_cpu():
    X, Y = randn(9, 5, seed=28), randn(9, 4, seed=29, grad=False)
    results = []
    for device in ("cpu", "cuda"):
        A = X.detach().to(device).requires_grad_(True)
        rdm_a = compute_rdm(A, "euclidean")
        assert rdm_a.device.type == device
        value = compare_rdms(rdm_a, compute_rdm(Y.to(device), "euclidean"), "pearson")
        assert value.device.type == device and value.requires_grad
        value.sum().backward()
        spearman = compare_rdms(rdm_a, compute_rdm(Y.to(device), "euclidean"))
        assert spearman.device.type == device and not spearman.requires_grad
        results.append((value.detach().cpu(), A.grad.cpu()))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-8, atol=1e-10)
