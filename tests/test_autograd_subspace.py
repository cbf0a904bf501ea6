"""Gradients of SVCCA, the CCA family at hard points, principal angles, the ground metrics
and the permutation distance (through the matched pairs).

Each gradient is compared with finite differences of skrep's own value
(``torch.autograd.gradcheck`` in float64), at ordinary points and where an
eigen- or singular value decomposition's derivative divides by zero: repeated
variances, rank-deficient layers, a representation and itself.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skrep import PermutationMetric  # noqa: E402
from skrep.functional import (  # noqa: E402
    angular_distance,
    apply_alignment,
    apply_permutation,
    euclidean_distance,
    fit_linear_alignment,
    fit_permutation_alignment,
    mean_cca,
    principal_angles,
    r2_cca,
    svcca,
)


def randn(*shape, seed=0, grad=True):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(grad)


def latent_pair(n=40, p=8, q=6, seed=0):
    """Two representations of one 3-d latent, plus noise (a few large variances each)."""
    L = randn(n, 3, seed=seed, grad=False)
    X = L @ randn(3, p, seed=seed + 1, grad=False) + 0.3 * randn(n, p, seed=seed + 2, grad=False)
    Y = L @ randn(3, q, seed=seed + 3, grad=False) + 0.3 * randn(n, q, seed=seed + 4, grad=False)
    return X.requires_grad_(True), Y


@pytest.mark.parametrize("n_components", [0.9, 0.99, 3, None])
def test_svcca_gradcheck(n_components):
    X, Y = latent_pair()
    value = svcca(X, Y, n_components)
    assert isinstance(value, torch.Tensor) and value.requires_grad
    assert float(value.detach()) == pytest.approx(
        svcca(X.detach().numpy(), Y.numpy(), n_components), rel=1e-12
    )
    assert torch.autograd.gradcheck(lambda A: svcca(A, Y, n_components), (X,))
    assert torch.autograd.gradcheck(lambda B: svcca(Y, B, n_components), (X,))


def orthogonal_columns(n, p, norm, seed):
    """Centred, mutually orthogonal columns of equal norm: every variance repeated."""
    base = randn(n, p, seed=seed, grad=False)
    base = base - base.mean(dim=0)
    return (norm * torch.linalg.qr(base)[0]).requires_grad_(True)


@pytest.mark.parametrize("measure", [mean_cca, r2_cca, lambda A, B: svcca(A, B, None)])
def test_cca_gradients_at_repeated_variances_and_rank_deficiency(measure):
    X = orthogonal_columns(30, 4, 2.0, seed=5)
    Y = randn(30, 5, seed=6, grad=False)
    assert torch.autograd.gradcheck(lambda A: measure(A, Y), (X,))
    # rank 2 in 5 columns (an SVD-based basis divided by zero gaps here). The
    # measure jumps where the rank changes, so the differences move along the
    # rank-2 layers: through the factor.
    factor, mixing = randn(30, 2, seed=7), randn(2, 5, seed=8, grad=False)
    assert torch.autograd.gradcheck(lambda F: measure(F @ mixing, Y), (factor,))


@pytest.mark.parametrize("measure", [mean_cca, svcca])
def test_cca_of_a_representation_and_an_invertible_map_of_itself_has_zero_gradient(measure):
    X = randn(25, 4, seed=9)
    M = randn(4, 4, seed=10, grad=False) + 3.0 * torch.eye(4, dtype=torch.float64)
    value = measure(X, (X @ M).detach())
    value.backward()
    assert float(value.detach()) == pytest.approx(1.0, abs=1e-12)
    assert torch.isfinite(X.grad).all() and float(X.grad.abs().max()) < 1e-8


def test_principal_angles_gradcheck_and_values():
    X, Y = randn(30, 6, seed=11), randn(25, 6, seed=12, grad=False)
    angles = principal_angles(X, Y, 3)
    assert isinstance(angles, torch.Tensor) and angles.shape == (3,)
    np.testing.assert_allclose(
        angles.detach().numpy(), principal_angles(X.detach().numpy(), Y.numpy(), 3), rtol=1e-12
    )
    assert torch.autograd.gradcheck(lambda A: principal_angles(A, Y, 3), (X,))
    # every angle on its own (a vector output: gradcheck checks the full Jacobian)
    assert torch.autograd.gradcheck(lambda B: principal_angles(Y, B, 2), (X,))


def test_principal_angles_at_a_shared_subspace_have_a_finite_gradient():
    X = randn(30, 6, seed=13)
    rows = torch.randperm(30, generator=torch.Generator().manual_seed(14))
    angles = principal_angles(X, (2.0 * X[rows] + 1.0).detach(), 3)  # the same axes: angles 0
    angles.sum().backward()
    assert float(angles.detach().max()) < 1e-6
    assert torch.isfinite(X.grad).all()


@pytest.mark.parametrize("ground_metric", [angular_distance, euclidean_distance])
def test_ground_metrics_gradcheck_and_finite_at_zero(ground_metric):
    A, B = randn(10, 3, seed=15), randn(10, 3, seed=16, grad=False)
    assert float(ground_metric(A, B).detach()) == pytest.approx(
        ground_metric(A.detach().numpy(), B.numpy()), rel=1e-12
    )
    assert torch.autograd.gradcheck(lambda P: ground_metric(P, B), (A,))
    C = B.clone().requires_grad_(True)
    value = ground_metric(C, B)
    value.backward()
    assert float(value.detach()) == 0.0 and torch.isfinite(C.grad).all()


@pytest.mark.parametrize("score_method", ["angular", "euclidean"])
def test_permutation_distance_gradient_through_the_matched_pairs(score_method):
    X, Y = randn(20, 5, seed=17), randn(20, 5, seed=18, grad=False)
    ground = angular_distance if score_method == "angular" else euclidean_distance

    def distance(A):
        fit = fit_permutation_alignment(A, Y)  # the matching: discrete, held fixed
        return ground(apply_permutation(A, fit.mx, fit.Px), apply_permutation(Y, fit.my, fit.Py))

    expected = PermutationMetric(score_method=score_method).fit(X.detach(), Y)
    assert float(distance(X).detach()) == pytest.approx(expected.distance(X.detach(), Y), rel=1e-12)
    assert torch.autograd.gradcheck(distance, (X,))


def test_procrustes_distance_through_the_fitted_rotation_is_danskin_exact():
    X, Y = randn(20, 4, seed=19), randn(20, 4, seed=20, grad=False)

    def distance(A):
        fit = fit_linear_alignment(A, Y, 1.0)
        return angular_distance(
            apply_alignment(A, fit.mx, fit.Wx), apply_alignment(Y, fit.my, fit.Wy)
        )

    assert torch.autograd.gradcheck(distance, (X,))
