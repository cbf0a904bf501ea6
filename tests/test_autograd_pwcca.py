"""PWCCA's gradient for torch input, against finite differences of its value.

PWCCA's gradient goes through the canonical directions (its weights), whose
derivative divides by gaps between canonical correlations; these tests check
it where the correlations are distinct, where several tie at 1 (fewer
stimuli than the two ranks together), when X is the wider side, for a
representation and an invertible map of itself, and in float32.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skrep.functional import pwcca  # noqa: E402
from skrep.functional._pwcca_directions import pwcca_rotation  # noqa: E402
from skrep.functional.cca import prepare_pwcca  # noqa: E402


def randn(*shape, seed=0, grad=False):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(grad)


def latent_pair(n, p, q, seed):
    L = randn(n, 3, seed=seed)
    X = L @ randn(3, p, seed=seed + 1) + 0.3 * randn(n, p, seed=seed + 2)
    Y = L @ randn(3, q, seed=seed + 3) + 0.3 * randn(n, q, seed=seed + 4)
    return X.requires_grad_(True), Y


@pytest.mark.parametrize(
    "widths", [(5, 7), (7, 5), (4, 4)], ids=["X narrower", "Y narrower", "equal"]
)
def test_pwcca_gradcheck_with_distinct_correlations(widths):
    X, Y = latent_pair(40, *widths, seed=1)
    value = pwcca(X, Y)
    assert float(value.detach()) == pytest.approx(pwcca(X.detach().numpy(), Y.numpy()), rel=1e-12)
    assert torch.autograd.gradcheck(lambda A: pwcca(A, Y), (X,))
    assert torch.autograd.gradcheck(
        lambda B: pwcca(X.detach(), B), (Y.clone().requires_grad_(True),)
    )


def test_pwcca_gradcheck_where_correlations_tie_at_one():
    X, Y = randn(8, 4, seed=10, grad=True), randn(8, 5, seed=11)
    groups = pwcca_rotation(prepare_pwcca(X.detach(), "X"), prepare_pwcca(Y, "Y")).groups
    assert groups and len(groups[0]) >= 2  # the column spaces intersect: a tie
    assert torch.autograd.gradcheck(lambda A: pwcca(A, Y), (X,))


def test_pwcca_of_a_representation_and_an_invertible_map_of_itself_has_zero_gradient():
    Z = randn(20, 4, seed=12, grad=True)
    M = randn(4, 4, seed=13) + 3.0 * torch.eye(4, dtype=torch.float64)
    value = pwcca(Z, (Z @ M).detach())
    value.backward()
    assert float(value.detach()) == pytest.approx(1.0, abs=1e-12)
    assert torch.isfinite(Z.grad).all() and float(Z.grad.abs().max()) < 1e-8


def test_pwcca_float32_gradient_agrees_with_float64():
    X, Y = latent_pair(60, 5, 6, seed=14)
    X32 = X.detach().float().requires_grad_(True)
    pwcca(X, Y).backward()
    pwcca(X32, Y.float()).backward()
    assert X32.grad.dtype == torch.float32
    np.testing.assert_allclose(
        X32.grad.numpy(), X.grad.numpy(), atol=1e-3 * float(X.grad.abs().max())
    )
