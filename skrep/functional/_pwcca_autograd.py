"""PWCCA's gradient for torch input: google's computation, written in torch.

PWCCA weights the canonical correlations by how much of the weighting side's
activity each canonical direction accounts for, so its gradient goes through
the canonical directions themselves (not only the correlations). Where the
correlations are distinct, those are the eigenvectors of ``M M.T``
(``M = Wx Xc.T Yc Wy``, the whitened cross-covariance) and ``eigh``'s
derivative is exact. Where they tie (several correlations of 1 whenever
``n_samples <= rank X + rank Y``), :func:`._pwcca_directions.pwcca_rotation`
replaces each tied group's directions by the principal axes of the activity
within their subspace, a choice independent of the basis ``eigh`` returns;
the derivative then leaves out the couplings inside each group
(:func:`._spectral_autograd.grouped_eigh`) and differentiates the principal
axes instead. The signs follow the value's directions (they are discrete:
held fixed), the whitening is a matrix function of the Gram matrix
(:func:`._spectral_autograd.spectral_function`).
"""

from __future__ import annotations

from typing import Any

from .._array import is_torch_array
from ._autograd import _as_float64
from ._spectral_autograd import grouped_eigh, spectral_function

__all__ = ["pwcca_surrogate"]


def _scaled_side(A: Any) -> tuple[Any, Any]:
    """Centred ``A`` and its means, both divided by the largest centred magnitude (detached)."""
    import torch

    mean = A.mean(dim=0, keepdim=True)
    centred = A - mean
    with torch.no_grad():
        largest = centred.abs().max()
        largest = torch.where(largest > 0, largest, 1.0)
    return centred / largest, mean / largest


def pwcca_surrogate(X: Any, Y: Any, directions: Any, rank_x: int, rank_y: int) -> Any:
    """PWCCA as a torch expression that follows the value's canonical directions.

    Parameters
    ----------
    X, Y : torch.Tensor or array
        The caller's inputs (a tensor keeps its graph).
    directions : PWCCARotation
        The value's directions, correlations, weighting side and tied groups
        (:func:`._pwcca_directions.pwcca_rotation`).
    rank_x, rank_y : int
        The numerical ranks the value kept.

    Returns
    -------
    torch.Tensor
        The PWCCA value as a differentiable expression.
    """
    import torch

    like = X if is_torch_array(X) else Y
    Xs, mx = _scaled_side(_as_float64(X, like))
    Ys, my = _scaled_side(_as_float64(Y, like))
    Wx = spectral_function(Xs.T @ Xs, a=0.0, keep=rank_x)
    Wy = spectral_function(Ys.T @ Ys, a=0.0, keep=rank_y)
    whitened = Wx @ (Xs.T @ Ys) @ Wy
    if directions.side == "X":
        square, centred, means = whitened @ whitened.T, Xs, mx
    else:
        square, centred, means = whitened.T @ whitened, Ys, my
    rank, width = directions.rotation.shape
    descending = torch.arange(width - 1, width - 1 - rank, -1, device=square.device)
    tied = torch.zeros(width, width, dtype=torch.bool, device=square.device)
    for group in directions.groups:
        index = descending[torch.as_tensor(group, device=square.device)]
        tied[index[:, None], index[None, :]] = True
    _, vectors = grouped_eigh(square, tied)
    rows = list(vectors[:, descending].T)
    for group in directions.groups:
        block = torch.stack([rows[i] for i in group])
        axes = torch.linalg.svd(centred @ block.T, full_matrices=False)[2]
        for i, row in zip(group, axes @ block, strict=True):
            rows[i] = row
    rotation = torch.stack(rows)
    reference = torch.as_tensor(directions.rotation, dtype=rotation.dtype, device=rotation.device)
    with torch.no_grad():
        signs = torch.where(torch.sum(rotation * reference, dim=1) < 0, -1.0, 1.0)
    rotation = rotation * signs[:, None]
    # As published: the unit means are added back to the rotated centred activity.
    basis = torch.linalg.qr(centred @ rotation.T + means[:, :rank])[0]
    weights = torch.sum(torch.abs(basis.T @ (centred + means)), dim=1)
    weights = weights / torch.sum(weights)
    rho = torch.clamp(torch.linalg.svdvals(whitened)[:rank], 0.0, 1.0)
    k = min(weights.shape[0], rank)
    return torch.sum(weights[:k] * rho[:k])
