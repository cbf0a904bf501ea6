"""Gradients of symmetric matrix functions ``V diag(h(lam)) V.T``, finite where eigenvalues repeat.

Several measures are functions of a Gram matrix ``G = X.T @ X`` through its
eigendecomposition: the partial whitening of the shape metrics
(``h(lam) = a + (1 - a) / sqrt(max(lam, floor))``), the whitening of CCA and
SVCCA restricted to the top ``k`` eigenvalues (a pseudo-inverse square root),
and the projector on a principal subspace (``h = 1`` on the top ``k``, ``0``
below). Differentiating them through ``torch.linalg.eigh`` divides by
differences of eigenvalues, which is infinite at repeated eigenvalues (two
units of equal variance, any zero-padded or rank-deficient layer) although
the matrix function is smooth there. Its derivative is (Daleckii and Krein)
``dF = V (K * (V.T dG V)) V.T`` with the divided differences
``K_ij = (h(lam_i) - h(lam_j)) / (lam_i - lam_j)``, which here have closed
forms (``-(1 - a) / (r_i r_j (r_i + r_j))`` for the inverse square root,
``r = sqrt(lam)``; 0 for a constant): no difference is divided where the
eigenvalues can tie. That backward is written here because torch's ``eigh``
backward cannot be told that the function of the eigenvectors it serves is
spectral.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["partial_whitening_surrogate", "spectral_function", "kept_rank", "grouped_eigh"]


def _inverse_root(lam: Any, floor: Any, a: float) -> tuple[Any, Any, Any]:
    """``h = a + (1 - a) / sqrt(max(lam, floor))``, its divided differences, ``dh/dfloor``."""
    import torch

    mu = torch.clamp(lam, min=floor)
    root = torch.sqrt(mu)
    h = a + (1.0 - a) / root
    clipped = lam < floor
    # (mu_i - mu_j) / (lam_i - lam_j): 1 where neither eigenvalue is clipped (the
    # closed form applies), 0 where both are (h is constant there), the ratio where
    # one is (then lam_i != lam_j).
    free = ~clipped
    gap = lam[:, None] - lam[None, :]
    safe_gap = torch.where(gap == 0, 1.0, gap)
    mixed = torch.where(gap == 0, 0.0, (mu[:, None] - mu[None, :]) / safe_gap)
    ratio = torch.where(free[:, None] & free[None, :], 1.0, mixed)
    outer = root[:, None] * root[None, :] * (root[:, None] + root[None, :])
    divided = -(1.0 - a) * ratio / outer
    slope = torch.where(clipped, -(1.0 - a) / 2.0 * floor**-1.5, 0.0)
    return h, divided, slope


def _indicator(lam: Any) -> tuple[Any, Any, Any]:
    """``h = 1``: constant, so its divided differences and floor slope vanish."""
    import torch

    zeros = torch.zeros_like(lam)
    return torch.ones_like(lam), zeros[:, None] * zeros[None, :], zeros


@functools.cache
def _spectral_class() -> Any:
    """The ``torch.autograd.Function`` (built on first use: torch is imported lazily)."""
    import torch

    class SpectralFunction(torch.autograd.Function):
        """``V diag(h(lam)) V.T`` on the top ``keep`` eigenvalues, a divided-difference backward."""

        @staticmethod
        def forward(ctx: Any, gram: Any, floor: Any, a: float | None, keep: int) -> Any:
            lam, V = torch.linalg.eigh(gram)  # ascending: the top `keep` are the last
            kept = torch.arange(lam.shape[0], device=lam.device) >= lam.shape[0] - keep
            h, _, _ = _indicator(lam) if a is None else _inverse_root(lam, floor, a)
            h = torch.where(kept, h, 0.0)
            ctx.save_for_backward(lam, V, floor, kept)
            ctx.a = a
            return (V * h[None, :]) @ V.T

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, Any, None, None]:
            lam, V, floor, kept = ctx.saved_tensors
            a = ctx.a
            h, divided, slope = _indicator(lam) if a is None else _inverse_root(lam, floor, a)
            h = torch.where(kept, h, 0.0)
            # Between a kept and a dropped eigenvalue h jumps to 0: the plain divided
            # difference (infinite only if they tie, where the subspace is undefined;
            # 0 is taken there).
            gap = lam[:, None] - lam[None, :]
            across = torch.where(
                gap == 0, 0.0, (h[:, None] - h[None, :]) / torch.where(gap == 0, 1.0, gap)
            )
            both = kept[:, None] & kept[None, :]
            divided = torch.where(
                both, divided, torch.where(kept[:, None] ^ kept[None, :], across, 0.0)
            )
            inner = V.T @ ((grad + grad.T) / 2.0) @ V
            grad_gram = V @ (divided * inner) @ V.T
            grad_floor = torch.sum(torch.where(kept, slope, 0.0) * torch.diagonal(inner))
            return grad_gram, grad_floor, None, None

    return SpectralFunction


def spectral_function(gram: Any, *, a: float | None, keep: int, floor: Any = 0.0) -> Any:
    """``V diag(h(lam)) V.T`` over the top ``keep`` eigenvalues of symmetric ``gram`` (0 below).

    Parameters
    ----------
    gram : torch.Tensor of shape (p, p)
        Symmetric positive semi-definite.
    a : float or None
        ``h = a + (1 - a) / sqrt(max(lam, floor))``; None for ``h = 1`` (a
        projector on the top eigenvectors).
    keep : int
        How many of the largest eigenvalues ``h`` is applied to.
    floor : torch.Tensor or float, default=0.0
        The floor on the eigenvalues (a tensor carries its gradient).

    Returns
    -------
    torch.Tensor of shape (p, p)
        The matrix function, differentiable in ``gram`` (and ``floor``).
    """
    import torch

    floor = torch.as_tensor(floor, dtype=gram.dtype, device=gram.device)
    return _spectral_class().apply(gram, floor, a, int(keep))


def kept_rank(A: Any) -> int:
    """The numerical rank of ``A`` (numpy's tolerance), at least 1."""
    import torch

    with torch.no_grad():
        s = torch.linalg.svdvals(A)
        if not s.numel() or float(s[0]) == 0.0:
            return 1
        tolerance = float(s[0]) * max(A.shape) * torch.finfo(A.dtype).eps
        return max(int((s > tolerance).sum()), 1)


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
    Z = spectral_function(gram, a=float(a), keep=gram.shape[0], floor=floor)
    mu = torch.clamp(torch.linalg.eigvalsh(gram), min=floor)
    total_variance = torch.sum((a * torch.sqrt(mu) + (1.0 - a)) ** 2)
    return (A @ Z) * torch.sqrt(torch.sum(mu) / total_variance)


@functools.cache
def _grouped_eigh_class() -> Any:
    """The ``torch.autograd.Function`` of :func:`grouped_eigh` (built on first use)."""
    import torch

    class GroupedEigh(torch.autograd.Function):
        """``eigh`` whose backward leaves out the couplings inside groups of tied eigenvalues."""

        @staticmethod
        def forward(ctx: Any, A: Any, tied: Any) -> tuple[Any, Any]:
            lam, V = torch.linalg.eigh(A)
            ctx.save_for_backward(lam, V, tied)
            return lam, V

        @staticmethod
        def backward(ctx: Any, grad_lam: Any, grad_V: Any) -> tuple[Any, None]:
            lam, V, tied = ctx.saved_tensors
            inner = torch.zeros_like(V) if grad_V is None else V.T @ grad_V
            gap = lam[None, :] - lam[:, None]  # lam_j - lam_i
            dropped = tied | (gap == 0)
            coupling = torch.where(dropped, 0.0, 1.0 / torch.where(dropped, 1.0, gap))
            middle = coupling * inner
            if grad_lam is not None:
                middle = middle + torch.diag(grad_lam)
            grad_A = V @ middle @ V.T
            return (grad_A + grad_A.T) / 2.0, None

    return GroupedEigh


def grouped_eigh(A: Any, tied: Any) -> tuple[Any, Any]:
    """``torch.linalg.eigh(A)`` whose gradient ignores rotations within tied groups.

    Within a group of equal eigenvalues the eigenvectors are any basis of
    their subspace, and ``eigh``'s backward divides by the zero gaps between
    them. A computation that does not depend on that basis (it picks its own
    within the subspace, as PWCCA's tie rule does) has a gradient without
    those terms: this backward leaves them out, and keeps every coupling
    between different groups (what moves the subspaces).

    Parameters
    ----------
    A : torch.Tensor of shape (p, p)
        Symmetric.
    tied : torch.Tensor of bool, shape (p, p)
        True for the pairs of eigenvalue indices (ascending order, as
        ``eigh`` returns them) in one tied group.

    Returns
    -------
    eigenvalues : torch.Tensor of shape (p,)
        Ascending.
    eigenvectors : torch.Tensor of shape (p, p)
        In the columns.
    """
    return _grouped_eigh_class().apply(A, tied)
