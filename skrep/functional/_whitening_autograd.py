"""Gradient of the partial whitening, for the shape metrics' torch path (``alpha < 1``).

The whitening matrix is a function of the Gram matrix ``G = X.T @ X`` applied
to its eigenvalues, ``Z = V diag(h(lam)) V.T`` with
``h(lam) = a + (1 - a) / sqrt(max(lam, floor))`` (see
:func:`~skrep.functional.partial_whitening_matrix`). Differentiating it
through ``torch.linalg.eigh`` divides by differences of eigenvalues, which is
infinite at repeated eigenvalues (a representation with two units of equal
variance, or any zero-padded or rank-deficient one) although ``Z`` is smooth
there. The derivative of such a matrix function is (Daleckii and Krein)
``dZ = V (K * (V.T dG V)) V.T`` with the divided differences
``K_ij = (h(lam_i) - h(lam_j)) / (lam_i - lam_j)``, which for the inverse
square root has the closed form ``-(1 - a) / (r_i r_j (r_i + r_j))``
(``r = sqrt(lam)``): no difference is divided, so equal eigenvalues cost
nothing. That backward is written here because torch's ``eigh`` backward
cannot be told that the function of the eigenvectors it serves is spectral.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["partial_whitening_surrogate"]


@functools.cache
def _inverse_root_function() -> Any:
    """The ``torch.autograd.Function`` for ``Z(G, floor)`` (built on first use: torch is lazy)."""
    import torch

    class InverseRoot(torch.autograd.Function):
        """``V diag(h(lam)) V.T``, h the partial whitening's, with a divided-difference backward."""

        @staticmethod
        def forward(ctx: Any, gram: Any, floor: Any, a: float) -> Any:
            lam, V = torch.linalg.eigh(gram)
            h = a + (1.0 - a) * torch.rsqrt(torch.clamp(lam, min=floor))
            ctx.save_for_backward(lam, V, floor)
            ctx.a = a
            return (V * h[None, :]) @ V.T

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, Any, None]:
            lam, V, floor = ctx.saved_tensors
            a = ctx.a
            mu = torch.clamp(lam, min=floor)
            root = torch.sqrt(mu)
            inner = V.T @ ((grad + grad.T) / 2.0) @ V
            clipped = lam < floor
            # (mu_i - mu_j) / (lam_i - lam_j): 1 where neither eigenvalue is clipped
            # (h then has the closed-form divided difference), 0 where both are (h is
            # constant there), the ratio where one is (then lam_i != lam_j).
            free = ~clipped
            gap = lam[:, None] - lam[None, :]
            mixed = torch.where(
                gap == 0, 0.0, (mu[:, None] - mu[None, :]) / torch.where(gap == 0, 1.0, gap)
            )
            ratio = torch.where(free[:, None] & free[None, :], 1.0, mixed)
            divided = (
                -(1.0 - a)
                * ratio
                / (root[:, None] * root[None, :] * (root[:, None] + root[None, :]))
            )
            grad_gram = V @ (divided * inner) @ V.T
            # Clipped eigenvalues follow the floor: dh/dfloor = -(1 - a) / (2 floor^1.5).
            slope = -(1.0 - a) / 2.0 * floor**-1.5
            grad_floor = slope * torch.sum(torch.diagonal(inner)[clipped])
            return grad_gram, grad_floor, None

    return InverseRoot


def partial_whitening_surrogate(A: Any, a: float, eigval_tol: float) -> Any:
    """``A @ Z`` with the variance-preserving rescaling, differentiable in ``A`` (torch).

    Parameters
    ----------
    A : torch.Tensor of shape (n_samples, n_features)
        Data in normalized units (centred if the metric centres, zero-padded
        to the common width).
    a : float
        The effective alpha in those units, in ``[0, 1)``.
    eigval_tol : float
        The floor on the eigenvalues, relative to the mean variance of the
        columns that are not all zero (skrep's default floor).

    Returns
    -------
    torch.Tensor
        The whitened data, ``A @ Z * sqrt(total_eigval / total_variance)``.
    """
    import torch

    gram = A.T @ A
    diagonal = torch.diagonal(gram)
    n_nonzero = max(int((diagonal > 0).sum()), 1)
    floor = eigval_tol * torch.sum(diagonal) / (A.shape[0] * n_nonzero)
    Z = _inverse_root_function().apply(gram, floor, float(a))
    mu = torch.clamp(torch.linalg.eigvalsh(gram), min=floor)
    total_variance = torch.sum((a * torch.sqrt(mu) + (1.0 - a)) ** 2)
    return (A @ Z) * torch.sqrt(torch.sum(mu) / total_variance)
