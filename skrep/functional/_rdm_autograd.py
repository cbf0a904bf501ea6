"""Gradients of :func:`compute_rdm` and :func:`compare_rdms` on torch input.

The value of an RDM (or of a comparison) is the one the main path computes,
with its guards: identical patterns share every distance exactly (so that
rank comparisons do not break ties by rounding), distances are clipped at 0,
data far from unit scale are rescaled by powers of two. Those guards are not
what the gradient should follow: the distances of a duplicated pattern are
copied from its first occurrence (autograd would credit that one with both
patterns' gradients), and ``sqrt`` has an infinite derivative at a zero
euclidean distance. When a tensor requires grad, the value is therefore
computed without a graph and given the gradient of a plain differentiable
expression of the same RDM (the "surrogate", every pattern its own rows, the
square root continued linearly below ``eps`` of the largest squared distance:
:func:`._autograd._root_near_zero`'s finite subgradient, 0 between identical
patterns). ``value + (surrogate - surrogate.detach())`` keeps the value bit
for bit: the difference is exactly 0.

Comparisons: "pearson", "cosine", "corr_cov" and "cosine_cov" are normalised
inner products of (centred, whitened) RDM vectors, differentiated in float64;
the rank methods have no gradient.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .._array import get_namespace, is_torch_array, matrix_transpose
from .._typing import Array, ArrayLike
from ._autograd import _root_near_zero
from ._rdm_input import host_max, numpy_float, power_of_two_scales, real_numpy, times_per_dataset
from ._rdm_pairs import condition_means, crossnobis, n_conditions_of, pairwise, upper_triangle

__all__ = [
    "needs_graph",
    "detached",
    "with_gradient",
    "graph_precision",
    "rdm_surrogate",
    "DIFFERENTIABLE_COMPARISONS",
    "comparison_result",
]

#: The comparisons that carry gradients on torch input (the others are ranks).
DIFFERENTIABLE_COMPARISONS = ("pearson", "cosine", "corr_cov", "cosine_cov")


def needs_graph(*arrays: Any) -> bool:
    """Whether one of ``arrays`` is a tensor that requires grad, with grad mode on."""
    if not any(is_torch_array(a) and a.requires_grad for a in arrays):
        return False
    import torch  # already imported: an argument is a tensor

    return torch.is_grad_enabled()


def detached(A: Any) -> Any:
    """``A`` without its autograd graph if it is a tensor, else ``A``."""
    return A.detach() if is_torch_array(A) else A


def with_gradient(value: Array, surrogate: Array) -> Array:
    """``value`` (exactly) with the gradient of ``surrogate``, of the same shape and dtype."""
    return value + (surrogate - surrogate.detach())


def graph_precision(precision: Any, P: Array | None, scales: np.ndarray) -> Array | None:
    """The validated precision ``P``, on the caller's graph if ``precision`` requires grad.

    Parameters
    ----------
    precision : array-like, torch.Tensor or None
        The ``precision`` argument as the caller passed it.
    P : array or None
        The checked precision, times ``scales`` (no graph).
    scales : ndarray
        The powers of two ``P`` was multiplied by (one, or one per data set).

    Returns
    -------
    array or None
        ``precision * scales`` in P's dtype and device when ``precision``
        requires grad, else ``P``.
    """
    if not (is_torch_array(precision) and precision.requires_grad and is_torch_array(P)):
        return P
    graph = precision.to(dtype=P.dtype, device=P.device)
    if np.all(scales == 1.0):
        return graph
    if graph.ndim == 3:
        return times_per_dataset(graph, scales)
    return graph * float(scales[0])


def _root_per_rdm(sq: Array) -> Array:
    """``sqrt(sq)``, continued linearly below ``eps * max(sq)`` of each RDM (finite at 0)."""
    import torch

    with torch.no_grad():
        largest = torch.amax(sq, dim=-1, keepdim=True)
        floor = torch.where(largest > 0, torch.finfo(sq.dtype).eps * largest, 1.0)
    return _root_near_zero(sq, floor)


def rdm_surrogate(
    X: Array,
    method: str,
    conditions: np.ndarray | None,
    order: np.ndarray | None,
    runs: np.ndarray | None,
    P: Array | None,
    p_scales: np.ndarray,
    divide: bool,
) -> Array:
    """The condensed RDMs of ``X`` as a differentiable torch expression.

    Parameters
    ----------
    X : torch.Tensor of shape (n_datasets, n_observations, n_channels)
        The validated responses, on the caller's graph.
    method : str
        The RDM method.
    conditions, order, runs : ndarray or None
        The validated labels, the sorted distinct conditions, the runs.
    P : torch.Tensor or None
        The precision at unit scale (on the caller's graph if it requires grad).
    p_scales : ndarray
        The powers of two P was multiplied by.
    divide : bool
        Whether the distances are divided by the number of channels.

    Returns
    -------
    torch.Tensor of shape (n_datasets, n_pairs)
        Every distance of the main path, up to rounding (exactly 0 for
        identical patterns is not kept: the value is taken from the main path).
    """
    import torch

    xp = get_namespace(X)
    device = array_api_compat.device(X)
    n_channels = X.shape[-1]
    if method in ("correlation", "cosine"):
        patterns = condition_means(X, conditions, order, xp)
        scales = power_of_two_scales(host_max(patterns, 1), numpy_float(patterns))
        patterns = patterns * torch.as_tensor(scales[..., None], dtype=X.dtype, device=device)
        if method == "correlation":
            patterns = patterns - torch.mean(patterns, dim=-1, keepdim=True)
        unit = patterns / torch.linalg.vector_norm(patterns, dim=-1, keepdim=True)
        rdm = 1.0 - upper_triangle(unit @ matrix_transpose(unit, xp))
        return rdm / n_channels if divide else rdm
    x_scales = power_of_two_scales(host_max(X, 2), numpy_float(X))
    X = times_per_dataset(X, x_scales)
    if method == "crossnobis":
        rdm = crossnobis(X, conditions, order, runs, P, xp)
    else:
        patterns = condition_means(X, conditions, order, xp)
        rdm = pairwise(patterns, patterns, P, xp)
        if method == "euclidean":
            rdm = _root_per_rdm(rdm)
    if divide:
        rdm = rdm / n_channels
    power = 1 if method == "euclidean" else 2
    for factor in [1.0 / x_scales] * power + [1.0 / p_scales]:
        rdm = times_per_dataset(rdm, np.broadcast_to(factor, (rdm.shape[0],)).copy())
    return rdm


def _vectors(rdms: ArrayLike, name: str, like: Any) -> Any:
    """Condensed float64 RDM vectors (n_rdms, n_pairs) at unit scale, on ``like``'s device.

    A tensor keeps its graph; anything else is read as :func:`rdm_stack` reads
    it. Each row is multiplied by the power of two that rdm_stack applies.
    """
    import torch

    if is_torch_array(rdms):
        v = rdms.to(dtype=torch.float64, device=like.device)
    else:
        v = torch.as_tensor(real_numpy(rdms, name, "RDMs"), device=like.device)
    if v.ndim == 1:
        v = v[None, :]
    elif v.ndim == 3:
        rows, columns = np.triu_indices(v.shape[-1], 1)
        v = v[:, torch.as_tensor(rows, device=v.device), torch.as_tensor(columns, device=v.device)]
    scales = power_of_two_scales(host_max(v, 1))
    return v * torch.as_tensor(scales[:, None], dtype=v.dtype, device=v.device)


def _whitened(v: Any) -> Any:
    """rdm_compare's whitening coordinates (doubly centred G, upper triangle and diagonal)."""
    import torch

    n = n_conditions_of(v.shape[1])
    rows, columns = (torch.as_tensor(i, device=v.device) for i in np.triu_indices(n, 1))
    sums = torch.zeros(v.shape[0], n, dtype=v.dtype, device=v.device)
    row_means = (sums.index_add(1, rows, v).index_add(1, columns, v)) / n
    grand_mean = torch.sum(row_means, dim=1, keepdim=True) / n
    upper = v - row_means[:, rows] - row_means[:, columns] + grand_mean
    return torch.cat([-0.5 * np.sqrt(2.0) * upper, -0.5 * (grand_mean - 2.0 * row_means)], dim=1)


def _comparison_surrogate(a: Any, b: Any, method: str) -> Any:
    """The (n_a, n_b) comparisons of RDM vectors as a torch expression (differentiable methods)."""
    import torch

    if method in ("pearson", "corr_cov"):
        a = a - torch.mean(a, dim=1, keepdim=True)
        b = b - torch.mean(b, dim=1, keepdim=True)
    if method in ("corr_cov", "cosine_cov"):
        a, b = _whitened(a), _whitened(b)
    norms = torch.outer(torch.linalg.vector_norm(a, dim=1), torch.linalg.vector_norm(b, dim=1))
    return (a @ b.T) / norms


def comparison_result(value: np.ndarray, rdms_a: ArrayLike, rdms_b: ArrayLike, method: str) -> Any:
    """compare_rdms' result: ``value`` as it is, or a tensor (with gradients) for torch input.

    Parameters
    ----------
    value : ndarray of shape (n_a, n_b)
        The comparisons, float64.
    rdms_a, rdms_b : array-like or torch.Tensor
        compare_rdms' arguments, as passed.
    method : str
        The canonical comparison method.

    Returns
    -------
    ndarray or torch.Tensor of shape (n_a, n_b)
        ``value`` when neither argument is a tensor; otherwise a float64
        tensor on the first tensor's device, carrying the gradient for the
        methods in ``DIFFERENTIABLE_COMPARISONS`` when an argument requires
        grad (the rank methods: none, ``requires_grad`` False).
    """
    tensors = [r for r in (rdms_a, rdms_b) if is_torch_array(r)]
    if not tensors:
        return value
    import torch  # already imported: an argument is a tensor

    result = torch.as_tensor(value, dtype=torch.float64, device=tensors[0].device)
    if method not in DIFFERENTIABLE_COMPARISONS or not needs_graph(rdms_a, rdms_b):
        return result
    a = _vectors(rdms_a, "rdms_a", result)
    b = _vectors(rdms_b, "rdms_b", result)
    return with_gradient(result, _comparison_surrogate(a, b, method))
