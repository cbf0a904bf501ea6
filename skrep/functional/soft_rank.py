"""Soft ranks and a soft Spearman correlation, differentiable almost everywhere.

The soft rank of Blondel, Teboul, Berthet and Djolonga (ICML 2020, "Fast
Differentiable Sorting and Ranking") with the quadratic (L2) regulariser.
Ranks are ascending: the smallest of ``m`` values gets rank 1, the largest
rank ``m``, as ``scipy.stats.rankdata`` gives them.

The hard ranks of ``theta`` are the permutation of ``w = (1, 2, ..., m)``
that is ordered like ``theta``: the vertex of the permutahedron (the convex
hull of the ``m!`` permutations of ``w``) that maximises ``<y, theta>``. The
soft rank replaces this linear programme by the Euclidean projection of
``z = theta_scaled / eps`` on the permutahedron,

    r(theta) = argmin_{y in conv(permutations of w)} |y - z|^2.

The projection keeps the order of ``z``, and in sorted order it is found by
isotonic regression: sort ``z`` increasingly (``s = z[order]``), fit the
nondecreasing sequence ``v`` closest to ``s - w`` (pool adjacent violators:
scikit-learn's ``isotonic_regression``), and the soft ranks are
``r[order] = s - v``. Each run of equal fitted values (a block of pooled
entries) gets the mean of ``w`` over the block shifted by the values'
deviations from their block mean, so

- for small ``eps`` (sorted distinct ``z`` at least 1 apart, tie groups
  further apart by half the sum of their sizes) nothing but ties is pooled
  and ``r`` is the hard ranks exactly, tied values sharing their average
  rank (``rankdata(method="average")``);
- for large ``eps`` (sorted ``z`` less than 1 apart) everything is one block
  and ``r = z + (m + 1) / 2``: an increasing affine function of ``theta``,
  so the soft Spearman correlation is then Pearson's correlation.

Its Jacobian is ``I`` minus, in sorted order, the block averaging matrix
(the Jacobian of the isotonic fit): the gradient is the incoming one less
its block means.

Scale-free parametrisation (skrep's choice): ``eps`` is made unit-free by
standardising ``theta`` first,

    z = (theta - mean(theta)) / std(theta) * std(w) / regularization_strength,

with population standard deviations and ``std(w) = sqrt((m^2 - 1) / 12)``
the spread of the ranks ``1..m``. At ``regularization_strength=1`` the values
have the spread of the ranks; soft ranks do not change when ``theta`` is
shifted or multiplied by a positive number. Constant ``theta`` (no spread)
has every soft rank ``(m + 1) / 2`` and a zero gradient. Internally the
ranks are centred (``w - (m + 1) / 2``) so that the soft Spearman keeps its
digits at large ``regularization_strength``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from sklearn.isotonic import isotonic_regression

from .._array import is_torch_array
from .._parameters import check_regularization_strength
from .._typing import Array, ArrayLike
from .._validation import check_finite, check_real_array
from ._extreme_scales import power_of_two_above
from .rdm_compare import UndefinedComparisonError

__all__ = ["soft_rank", "soft_spearman"]

_EXPECTED = "a 1-d array of at least 2 finite real numbers, shape (m,)"


def _project(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Projection of float64 ``z`` on the permutahedron of the centred ranks ``w - (m + 1) / 2``.

    Returns the projection, the sort order of ``z`` and the block of each
    sorted entry (0, 1, ...: runs of equal isotonic fitted values).
    """
    m = z.shape[0]
    order = np.argsort(z, kind="stable")
    ranks = np.arange(1, m + 1, dtype=np.float64) - (m + 1) / 2
    fit = isotonic_regression(z[order] - ranks, increasing=True)
    projection = np.empty(m)
    projection[order] = z[order] - fit
    blocks = np.concatenate(([0], np.cumsum(fit[1:] != fit[:-1])))
    return projection, order, blocks


@functools.lru_cache(maxsize=1)
def _projection_function() -> Any:
    """The torch.autograd.Function of :func:`_project` (made once torch is imported)."""
    import torch

    class _PermutahedronProjection(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: Any) -> Any:
            projection, order, blocks = _project(z.detach().cpu().numpy().astype(np.float64))
            sizes = np.bincount(blocks)
            ctx.save_for_backward(
                torch.as_tensor(order, device=z.device),
                torch.as_tensor(blocks, device=z.device),
                torch.as_tensor(sizes, dtype=z.dtype, device=z.device),
            )
            return torch.as_tensor(projection, dtype=z.dtype, device=z.device)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            order, blocks, sizes = ctx.saved_tensors
            sums = grad.new_zeros(sizes.shape[0]).index_add(0, blocks, grad[order])
            means = (sums / sizes)[blocks]  # in sorted order
            return grad - torch.zeros_like(grad).index_copy(0, order, means)

    return _PermutahedronProjection


def _check_values(values: ArrayLike, name: str) -> Array:
    """``values`` as float64 numpy, or as a float32/float64 tensor keeping its graph."""
    if is_torch_array(values):
        import torch

        if values.layout != torch.strided:
            raise ValueError(
                f"{name} is a torch tensor with layout {values.layout}; expected {_EXPECTED} "
                f"in a dense tensor (use {name}.to_dense())."
            )
        if values.is_complex():
            raise ValueError(
                f"Complex data not supported: {name} has dtype {values.dtype}; expected "
                f"{_EXPECTED}."
            )
        if values.dtype not in (torch.float32, torch.float64):
            values = values.to(torch.float64)
    else:
        values = check_real_array(values, name, _EXPECTED)
    if values.ndim != 1 or values.shape[0] < 2:
        raise ValueError(f"{name} has shape {tuple(values.shape)}; expected {_EXPECTED}.")
    check_finite(values, name)
    return values


def _detached(x: Array) -> Array:
    return x.detach() if is_torch_array(x) else x


def _centred_soft_rank(values: Array, strength: float) -> Array:
    """Soft ranks minus ``(m + 1) / 2`` of checked ``values`` (see the module docstring)."""
    m = values.shape[0]
    plain = _detached(values)
    if float(plain.max()) == float(plain.min()):  # no spread: every rank is the middle one
        return values * 0.0
    u = values / power_of_two_above(plain)  # exact, so that no square overflows or underflows
    centred = u - u.mean()
    spread = ((centred * centred).mean()) ** 0.5
    z = centred * (math.sqrt((m * m - 1) / 12) / strength) / spread
    if is_torch_array(z):
        return _projection_function().apply(z)
    return _project(z)[0]


def soft_rank(values: ArrayLike, regularization_strength: float = 0.1) -> Array:
    """Differentiable soft ranks (Blondel et al. 2020, quadratic regularisation).

    The Euclidean projection of the standardised values on the permutahedron
    of the ranks ``(1, ..., m)`` (see the module docstring): the hard ranks
    (smallest value: 1, ties averaged) for small ``regularization_strength``,
    an increasing affine function of ``values`` for large ones.

    Parameters
    ----------
    values : array-like or torch.Tensor of shape (m,)
        At least 2 finite real numbers. A torch tensor keeps its autograd
        graph and its device (the isotonic regression itself runs on the CPU).
    regularization_strength : float, default=0.1
        Unit-free regularisation ``eps > 0``: the values are standardised to
        zero mean and the standard deviation of the ranks divided by ``eps``.
        The default keeps the soft Spearman correlation of typical RDMs
        (hundreds of entries) within about 1e-4 of Spearman's while every
        entry gets a gradient; much smaller values leave most entries
        unpooled, whose ranks then have zero gradient.

    Returns
    -------
    ndarray or torch.Tensor of shape (m,)
        Soft ranks, summing to ``m (m + 1) / 2`` and ordered like ``values``:
        float64 numpy for numpy input; for a tensor, a tensor of its dtype
        (float32 or float64; float64 for other dtypes) on its device, with
        gradients. Constant values give ``(m + 1) / 2`` everywhere.

    Raises
    ------
    ValueError
        ``values`` not 1-d, with fewer than 2 entries, NaN, infinite or complex.
    InvalidParameterError
        ``regularization_strength`` not a finite real number > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.soft_rank import soft_rank
    >>> soft_rank(np.array([0.3, -2.0, 5.0, 0.3]), regularization_strength=1e-3)
    array([2.5, 1. , 4. , 2.5])
    >>> r = soft_rank(np.array([0.3, -2.0, 5.0, 0.1]))
    >>> bool(np.all(np.argsort(r) == [1, 3, 0, 2])), float(r.sum())
    (True, 10.0)
    """
    strength = check_regularization_strength(regularization_strength, "soft_rank")
    values = _check_values(values, "values")
    return _centred_soft_rank(values, strength) + (values.shape[0] + 1) / 2


def _unit_vector(centred: Array, name: str) -> Array:
    scale = power_of_two_above(_detached(centred))
    if float(abs(_detached(centred)).max()) == 0.0:
        raise UndefinedComparisonError(
            f"{name} has no spread (all its {centred.shape[0]} values equal), so its soft "
            "ranks are constant and their correlation is undefined; expected values that vary."
        )
    scaled = centred / scale
    return scaled / ((scaled * scaled).sum() ** 0.5)


def soft_spearman(a: ArrayLike, b: ArrayLike, regularization_strength: float = 0.1) -> Any:
    """Soft Spearman correlation: Pearson's correlation of the soft ranks of ``a`` and ``b``.

    Parameters
    ----------
    a, b : array-like or torch.Tensor of shape (m,)
        Two vectors of the same length ``m >= 2``, finite real numbers, each
        with some spread. If either is a torch tensor, both are computed with
        torch (the other is moved to its device; ``a``'s if both are tensors).
    regularization_strength : float, default=0.1
        Unit-free regularisation of :func:`soft_rank`: small gives Spearman's
        correlation, large Pearson's correlation of ``a`` and ``b``.

    Returns
    -------
    float or torch.Tensor
        In [-1, 1]: a float for numpy input, a 0-d tensor with gradients
        for torch input.

    Raises
    ------
    ValueError
        Invalid ``a`` or ``b`` (as :func:`soft_rank` says), different lengths,
        or a constant vector (an :class:`UndefinedComparisonError`).
    InvalidParameterError
        ``regularization_strength`` not a finite real number > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.soft_rank import soft_spearman
    >>> a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 10.0])
    >>> round(soft_spearman(a, b, regularization_strength=1e-3), 6)  # Spearman's rho
    0.8
    >>> round(soft_spearman(a, b, regularization_strength=1e3), 6)  # Pearson's r
    0.822192
    """
    strength = check_regularization_strength(regularization_strength, "soft_spearman")
    a, b = _check_values(a, "a"), _check_values(b, "b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a and b must have the same length; got a of shape {tuple(a.shape)} and b of "
            f"shape {tuple(b.shape)}."
        )
    if is_torch_array(a) != is_torch_array(b):
        import torch

        tensor = a if is_torch_array(a) else b
        if is_torch_array(a):
            b = torch.as_tensor(b, device=tensor.device)
        else:
            a = torch.as_tensor(a, device=tensor.device)
    elif is_torch_array(a) and b.device != a.device:
        b = b.to(a.device)
    ra, rb = _centred_soft_rank(a, strength), _centred_soft_rank(b, strength)
    ua, ub = _unit_vector(ra - ra.mean(), "a"), _unit_vector(rb - rb.mean(), "b")
    rho = (ua * ub).sum()
    return rho if is_torch_array(rho) else float(rho)
