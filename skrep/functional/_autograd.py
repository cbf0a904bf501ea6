"""Gradients for the functional measures on torch input.

For torch input the functional measures return a 0-d tensor instead of a
float. Its value is the one the measure's own (numerically careful) path
computes; when an input requires grad, the tensor also carries the gradient of
a plain differentiable torch expression of the same quantity (a "surrogate"):
``surrogate + (value - surrogate.detach())``. The forward value thus keeps
every guard of the main path (float64 accumulation, range scaling, exact
zeros) and autograd differentiates the formula. Written here rather than
taken from a library because the point is to keep skrep's validated values
and give them torch's gradients.

The surrogates below are written for torch only and run in float64 (float32
for float32 input); the result is cast to the dtype of the first tensor input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._array import is_torch_array
from ._extreme_scales import power_of_two_above
from ._spectral_autograd import kept_rank, partial_whitening_surrogate, spectral_function
from ._whitening import EIGVAL_TOL, effective_alpha

__all__ = [
    "torch_result",
    "with_graph",
    "angular_surrogate",
    "euclidean_surrogate",
    "hsic_surrogate",
    "cka_surrogate",
    "procrustes_surrogate",
    "participation_ratio_surrogate",
    "principal_angles_surrogate",
    "cca_surrogate",
]


def torch_result(value: float, inputs: tuple, surrogate: Callable[[], Any]) -> Any:
    """``value`` as a 0-d tensor (with the surrogate's gradient) for torch input, else the float.

    Parameters
    ----------
    value : float
        The measure's value.
    inputs : tuple
        The caller's arguments, as passed (before validation, so that they
        are still attached to the autograd graph).
    surrogate : callable
        Builds a differentiable torch expression of the same quantity; called
        only when an input requires grad and grad mode is on.

    Returns
    -------
    float or torch.Tensor
        A float for non-torch input; otherwise a 0-d tensor on the first
        tensor's device, in its floating dtype (float64 for integer tensors).
    """
    tensors = [a for a in inputs if is_torch_array(a)]
    if not tensors:
        return value
    import torch  # already imported: an input is a tensor

    like = tensors[0]
    dtype = like.dtype if like.is_floating_point() else torch.float64
    result = torch.as_tensor(value, dtype=torch.float64, device=like.device)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        approximation = surrogate()
        result = approximation + (result - approximation.detach())
    return result.to(dtype)


def with_graph(original: Any, validated: Any) -> Any:
    """``original`` in ``validated``'s dtype and device if it is a tensor that requires grad.

    Validation detaches tensors; a function whose result is an array computed
    by differentiable operations (a centring, a column order, a product with a
    fitted map) uses the caller's tensor instead, so that the result carries
    its gradient. Otherwise (numpy, no grad, or grad mode off) ``validated``.
    """
    if (
        is_torch_array(original)
        and original.requires_grad
        and is_torch_array(validated)
        and original.is_floating_point()
    ):
        import torch  # already imported: original is a tensor

        if torch.is_grad_enabled():
            return original.to(dtype=validated.dtype, device=validated.device)
    return validated


def _as_float64(A: Any, like: Any) -> Any:
    """``A`` on ``like``'s device, in float32 if ``like`` is float32 and float64 otherwise.

    The surrogate only supplies the gradient (the value is the main path's),
    so float32 input keeps float32 products: a gradient within about 1e-4 of
    float64's at twice the speed.
    """
    import torch

    dtype = torch.float32 if like.dtype == torch.float32 else torch.float64
    if is_torch_array(A):
        return A.to(dtype=dtype, device=like.device)
    return torch.as_tensor(A, dtype=dtype, device=like.device)


def hsic_surrogate(K: Any, L: Any, debiased: bool) -> Any:
    """HSIC of two Gram matrices as a torch expression (biased, or Song et al.'s U-statistic)."""
    import torch

    like = K if is_torch_array(K) else L
    K, L = _as_float64(K, like), _as_float64(L, like)
    n = K.shape[0]
    if debiased:
        K = K - torch.diag(torch.diagonal(K))
        L = L - torch.diag(torch.diagonal(L))
        row_k, row_l = K.sum(dim=1), L.sum(dim=1)
        value = (
            torch.sum(K * L)
            + row_k.sum() * row_l.sum() / ((n - 1) * (n - 2))
            - 2.0 * torch.dot(row_k, row_l) / (n - 2)
        )
        return value / (n * (n - 3))
    Kc = K - K.mean(dim=0, keepdim=True)
    Kc = Kc - Kc.mean(dim=1, keepdim=True)
    Lc = L - L.mean(dim=0, keepdim=True)
    Lc = Lc - Lc.mean(dim=1, keepdim=True)
    return torch.sum(Kc * Lc) / ((n - 1) ** 2)


def _gram(X: Any, kernel: Any, sigma: float | None, threshold: float) -> Any:
    import torch

    Xc = X - X.mean(dim=0, keepdim=True)
    if kernel == "linear":
        return Xc @ Xc.T
    if kernel == "rbf":
        norms = torch.sum(Xc * Xc, dim=1)
        distances = torch.clamp(norms[:, None] + norms[None, :] - 2.0 * (Xc @ Xc.T), min=0.0)
        eye = torch.eye(len(X), dtype=torch.bool, device=X.device)
        distances = torch.where(eye, torch.zeros_like(distances), distances)
        if sigma is None:
            # Kornblith's bandwidth: threshold x sqrt(median of all n^2 squared
            # distances), the median the mean of the middle two (numpy's).
            flat = distances.reshape(-1)
            m = flat.shape[0]
            low = torch.kthvalue(flat, (m - 1) // 2 + 1).values
            high = torch.kthvalue(flat, m // 2 + 1).values
            sigma2 = threshold * threshold * (low + high) / 2.0
        else:
            sigma2 = sigma * sigma
        return torch.exp(-distances / (2.0 * sigma2))
    K = kernel(X)
    if X.requires_grad and not (is_torch_array(K) and K.requires_grad):
        raise ValueError(
            "The kernel callable returned a Gram matrix without a gradient (it left torch, "
            "e.g. through numpy); for gradients pass a kernel written with torch operations."
        )
    return K.to(torch.float64)


def cka_surrogate(
    X: Any, Y: Any, kernel: Any, sigma: float | None, threshold: float, debiased: bool
) -> Any:
    """CKA as a torch expression (linear, RBF or a torch kernel callable)."""
    import torch

    like = X if is_torch_array(X) else Y
    X, Y = _as_float64(X, like), _as_float64(Y, like)
    n, p, q = X.shape[0], X.shape[1], Y.shape[1]
    if kernel == "linear" and not debiased and n > max(p, q):
        # Feature space: |Xc'Yc|_F^2 / (|Xc'Xc|_F |Yc'Yc|_F), no n x n matrix.
        Xc, Yc = X - X.mean(dim=0, keepdim=True), Y - Y.mean(dim=0, keepdim=True)
        cross = torch.sum((Xc.T @ Yc) ** 2)
        return cross / torch.sqrt(torch.sum((Xc.T @ Xc) ** 2) * torch.sum((Yc.T @ Yc) ** 2))
    K, L = _gram(X, kernel, sigma, threshold), _gram(Y, kernel, sigma, threshold)
    hsic_kl = hsic_surrogate(K, L, debiased)
    return hsic_kl / torch.sqrt(hsic_surrogate(K, K, debiased) * hsic_surrogate(L, L, debiased))


def _root_near_zero(value: Any, floor: Any) -> Any:
    """``sqrt(value)``, continued as ``value / sqrt(floor)`` below ``floor`` (finite at 0)."""
    import torch

    return value / torch.sqrt(torch.clamp(value, min=floor))


def procrustes_surrogate(
    X: Any, Y: Any, score_method: str, center_columns: bool, alpha: float = 1.0
) -> Any:
    """The shape metric distance (Procrustes after partial whitening) as a torch expression.

    ``d^2 = |X|^2 + |Y|^2 - 2 tr(Q' Y'X)`` with the optimal ``Q`` held fixed:
    at the optimum the distance is stationary in ``Q`` (Danskin's theorem),
    so this gives the exact gradient without differentiating an SVD (whose
    derivative is unstable at repeated singular values). ``Q = U_r V_r'``
    keeps only the nonzero singular values of ``Y'X``: where some vanish
    (rank-deficient layers) the nuclear norm has a kink, and this is its
    smallest subgradient, the one central differences see. Near distance 0
    the square root is continued linearly, so the gradient stays finite. For
    ``alpha < 1`` both sides are partially whitened first, differentiably
    (:mod:`._whitening_autograd`), in units where their larger entry is about 1.
    """
    import torch

    like = X if is_torch_array(X) else Y
    X, Y = _as_float64(X, like), _as_float64(Y, like)
    if center_columns:
        X = X - X.mean(dim=0, keepdim=True)
        Y = Y - Y.mean(dim=0, keepdim=True)
    width = max(X.shape[1], Y.shape[1])
    X = torch.nn.functional.pad(X, (0, width - X.shape[1]))
    Y = torch.nn.functional.pad(Y, (0, width - Y.shape[1]))
    if alpha <= 1.0 - EIGVAL_TOL:
        with torch.no_grad():
            scale = power_of_two_above(torch.maximum(X.abs().max(), Y.abs().max()))
        a = effective_alpha(alpha, scale)
        X = partial_whitening_surrogate(X / scale, a, EIGVAL_TOL) * scale
        Y = partial_whitening_surrogate(Y / scale, a, EIGVAL_TOL) * scale
    cross = Y.T @ X
    with torch.no_grad():
        U, singular, Vt = torch.linalg.svd(cross)
        tolerance = width * torch.finfo(X.dtype).eps * float(singular.max())
        rank = int((singular > tolerance).sum())
        Q = U[:, :rank] @ Vt[:rank]
    inner = torch.sum(Q * cross)  # tr(Q' Y'X): the nuclear norm at the optimum
    sq_x, sq_y = torch.sum(X * X), torch.sum(Y * Y)
    eps = float(torch.finfo(X.dtype).eps)
    if score_method == "euclidean":
        sq = sq_x + sq_y - 2.0 * inner
        return _root_near_zero(sq, eps * float((sq_x + sq_y).detach()))
    # theta = 2 asin(sqrt((1 - cos) / 2)), cos = inner / (|X| |Y|)
    half_gap = (1.0 - inner / torch.sqrt(sq_x * sq_y)) / 2.0
    return 2.0 * torch.asin(torch.clamp(_root_near_zero(half_gap, eps), max=1.0))


def angular_surrogate(A: Any, B: Any) -> Any:
    """The angle between ``A`` and ``B`` (Frobenius), finite in gradient at 0 and pi."""
    import torch

    like = A if is_torch_array(A) else B
    A, B = _as_float64(A, like), _as_float64(B, like)
    a = A / torch.linalg.vector_norm(A)
    b = B / torch.linalg.vector_norm(B)
    eps = float(torch.finfo(a.dtype).eps)
    gap = _root_near_zero(torch.sum((a - b) ** 2), eps)
    total = _root_near_zero(torch.sum((a + b) ** 2), eps)
    return 2.0 * torch.atan2(gap, total)


def euclidean_surrogate(A: Any, B: Any) -> Any:
    """``|A - B|_F``, continued linearly near 0 (a finite gradient there)."""
    import torch

    like = A if is_torch_array(A) else B
    A, B = _as_float64(A, like), _as_float64(B, like)
    sq = torch.sum((A - B) ** 2)
    floor = float(torch.finfo(A.dtype).eps) * float((torch.sum(A * A) + torch.sum(B * B)).detach())
    return _root_near_zero(sq, max(floor, float(torch.finfo(A.dtype).tiny)))


def participation_ratio_surrogate(X: Any, covariance: bool) -> Any:
    """``(sum l)^2 / sum l^2`` as a torch expression (data, or a covariance matrix)."""
    import torch

    X = _as_float64(X, X)
    if covariance:
        return torch.trace(X) ** 2 / torch.sum(X * X)
    X = X.reshape(-1, X.shape[-1])
    Xc = X - X.mean(dim=0, keepdim=True)
    gram = Xc.T @ Xc if Xc.shape[1] <= Xc.shape[0] else Xc @ Xc.T
    return torch.trace(gram) ** 2 / torch.sum(gram * gram)


def _centred_unit_scale(A: Any) -> Any:
    """Centred columns divided by their largest magnitude (detached): scale-free measures."""
    import torch

    Ac = A - A.mean(dim=0, keepdim=True)
    with torch.no_grad():
        largest = Ac.abs().max()
    return Ac / torch.where(largest > 0, largest, 1.0)


def cca_surrogate(
    X: Any, Y: Any, method: str, keep_x: int | None = None, keep_y: int | None = None
) -> Any:
    """Mean CCA (mean canonical correlation) or R2_CCA (mean square) as a torch expression.

    The canonical correlations are the singular values of
    ``Wx Xc.T Yc Wy``, with ``W = (Xc.T Xc)^(-1/2)`` on the top ``keep``
    eigenvalues (the numerical rank by default; SVCCA's kept components):
    a matrix function differentiated without dividing by eigenvalue gaps
    (:mod:`._spectral_autograd`), so repeated variances and rank-deficient
    layers keep finite gradients. Only the ``min(keep_x, keep_y)`` largest
    singular values are summed: the others vanish structurally.
    """
    import torch

    like = X if is_torch_array(X) else Y
    Xc = _centred_unit_scale(_as_float64(X, like))
    Yc = _centred_unit_scale(_as_float64(Y, like))
    keep_x = kept_rank(Xc) if keep_x is None else keep_x
    keep_y = kept_rank(Yc) if keep_y is None else keep_y
    Wx = spectral_function(Xc.T @ Xc, a=0.0, keep=keep_x)
    Wy = spectral_function(Yc.T @ Yc, a=0.0, keep=keep_y)
    M = Wx @ (Xc.T @ Yc) @ Wy
    k = min(keep_x, keep_y)
    if method == "r2":
        return torch.sum(M * M) / k  # sum of squared correlations: no SVD needed
    return torch.sum(torch.linalg.svdvals(M)[:k]) / k


def principal_angles_surrogate(X: Any, Y: Any, k: int) -> Any:
    """The ``k`` principal angles between the top-``k`` principal subspaces, ascending.

    The cosines are the ``k`` largest singular values of ``Px Py``, with
    ``P`` the projector on the top ``k`` principal axes: a matrix function of
    the covariance, differentiated without dividing by gaps between the kept
    variances (:mod:`._spectral_autograd`). The angle is
    ``2 asin(sqrt((1 - cos) / 2))``, its square root continued linearly near 0,
    so that a shared axis (angle 0) has a finite gradient.
    """
    import torch

    like = X if is_torch_array(X) else Y
    X = _as_float64(X, like).reshape(-1, X.shape[-1])
    Y = _as_float64(Y, like).reshape(-1, Y.shape[-1])
    Xc, Yc = _centred_unit_scale(X), _centred_unit_scale(Y)
    Px = spectral_function(Xc.T @ Xc, a=None, keep=k)
    Py = spectral_function(Yc.T @ Yc, a=None, keep=k)
    cosines = torch.linalg.svdvals(Px @ Py)[:k]
    half_gap = torch.clamp((1.0 - cosines) / 2.0, min=0.0)
    eps = float(torch.finfo(cosines.dtype).eps)
    return 2.0 * torch.asin(torch.clamp(_root_near_zero(half_gap, eps), max=1.0))
