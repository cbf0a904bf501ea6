"""Gradients of the shape metric distances for every ``alpha`` (partial whitening).

The whitening is differentiated as a matrix function of the Gram matrix
(Daleckii-Krein divided differences); these tests compare that gradient with
finite differences of skrep's own value (``LinearMetric``), at ordinary points
and where ``torch.linalg.eigh``'s backward breaks down: repeated eigenvalues,
rank-deficient layers, zero padding, a representation and itself.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skrep import LinearMetric  # noqa: E402
from skrep.losses import ShapeMetricLoss  # noqa: E402


def randn(*shape, seed=0, grad=True):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(grad)


def central_differences(function, X, step):
    """The gradient of ``function`` at ``X`` by central differences, entry by entry."""
    gradient = torch.zeros_like(X)
    for index in np.ndindex(*X.shape):
        up, down = X.clone(), X.clone()
        up[index] += step
        down[index] -= step
        gradient[index] = (function(up) - function(down)) / (2 * step)
    return gradient


@pytest.mark.parametrize("alpha", [0.0, 0.4, 0.9])
@pytest.mark.parametrize("score_method", ["angular", "euclidean"])
@pytest.mark.parametrize("widths", [(5, 7), (4, 4)])
def test_gradient_of_every_alpha_matches_finite_differences(alpha, score_method, widths):
    X, Y = randn(30, widths[0], seed=1), randn(30, widths[1], seed=2, grad=False)
    loss = ShapeMetricLoss(alpha, score_method=score_method)
    metric = LinearMetric(alpha, score_method=score_method)
    assert float(loss(X, Y).detach()) == metric.fit(X.detach(), Y).distance(X.detach(), Y)
    assert torch.autograd.gradcheck(lambda A: loss(A, Y), (X,))
    assert torch.autograd.gradcheck(lambda B: loss(Y, B), (X,))


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_gradient_is_finite_and_correct_at_repeated_eigenvalues(alpha):
    # Orthogonal centred columns of equal norm: X.T @ X = 9 I, every eigenvalue
    # repeated, where eigh's backward divides by zero.
    base = randn(25, 4, seed=3, grad=False)
    base = base - base.mean(dim=0)
    X = (3.0 * torch.linalg.qr(base)[0]).requires_grad_(True)
    gram = X.detach().T @ X.detach()
    assert torch.allclose(gram, 9.0 * torch.eye(4, dtype=torch.float64), atol=1e-12)
    Y = randn(25, 4, seed=4, grad=False)
    loss = ShapeMetricLoss(alpha)
    value = loss(X, Y)
    value.backward()
    assert torch.isfinite(X.grad).all()
    assert torch.autograd.gradcheck(lambda A: loss(A, Y), (X,))


@pytest.mark.parametrize("alpha", [0.2, 0.6])
def test_gradient_for_fewer_stimuli_than_units_matches_finite_differences(alpha):
    # Centred, X (6 x 9) has rank 5: four eigenvalues are clipped at the floor,
    # where the value itself is only good to about 1e-10 (the floor amplifies
    # rounding), so the differences take a step of 1e-3 and keep an error of
    # about 1e-4 of the largest entry (it falls as the step grows: noise).
    X, Y = randn(6, 9, seed=5), randn(6, 4, seed=6, grad=False)
    loss = ShapeMetricLoss(alpha)
    loss(X, Y).backward()

    def value(A):
        return LinearMetric(alpha).fit(A, Y).distance(A, Y)

    expected = central_differences(value, X.detach(), 1e-3)
    assert torch.isfinite(X.grad).all()
    np.testing.assert_allclose(
        X.grad.numpy(), expected.numpy(), atol=5e-4 * float(expected.abs().max())
    )


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_gradient_vanishes_for_a_representation_and_an_invertible_map_of_itself(alpha):
    Z = randn(20, 4, seed=7)
    Q = torch.linalg.qr(randn(4, 4, seed=8, grad=False))[0]
    M = Q if alpha > 0 else Q @ torch.diag(torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64))
    value = ShapeMetricLoss(alpha, squared=True)(Z, (Z @ M).detach())
    value.backward()
    assert float(value.detach()) <= 1e-20
    assert torch.isfinite(Z.grad).all() and float(Z.grad.abs().max()) < 1e-6


def test_float32_gradient_agrees_with_float64():
    X, Y = randn(40, 6, seed=9), randn(40, 5, seed=10, grad=False)
    X32 = X.detach().float().requires_grad_(True)
    ShapeMetricLoss(0.5)(X, Y).backward()
    ShapeMetricLoss(0.5)(X32, Y.float()).backward()
    assert X32.grad.dtype == torch.float32
    np.testing.assert_allclose(
        X32.grad.numpy(), X.grad.numpy(), atol=1e-4 * float(X.grad.abs().max())
    )


def test_gradient_does_not_depend_on_the_units():
    X, Y = randn(30, 5, seed=11, grad=False), randn(30, 5, seed=12, grad=False)
    gradients = []
    for scale in (1.0, 2.0**-300, 2.0**300):
        A = (X * scale).requires_grad_(True)
        ShapeMetricLoss(0.0)(A, Y).backward()
        gradients.append(A.grad * scale)  # the angle is scale-free: d/dA = (d/dX) / scale
    for other in gradients[1:]:
        np.testing.assert_allclose(other.numpy(), gradients[0].numpy(), rtol=1e-9, atol=1e-12)
