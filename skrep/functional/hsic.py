"""The Hilbert-Schmidt independence criterion (HSIC) from Gram statistics.

Every HSIC here is written through three statistics of each Gram matrix:
``T = tr(K_a K_b)`` (the inner product of the vectorised Grams), the row
sums ``r = K 1`` and the total ``s = 1' K 1``, each minus the diagonal for
the debiased form (Song et al. 2012). With them one product of vectorised
Grams gives the HSIC of every pair of representations at once, which is how
CKA (:mod:`skrep.functional.kernel`) computes many layers together.
"""

from __future__ import annotations

from collections.abc import Sequence

import array_api_compat
import numpy as np

from .._array import convert_like, get_namespace, to_numpy
from .._typing import Array, ArrayLike, Namespace
from .._validation import _shape_str, check_paired_samples, check_representation
from ._autograd import hsic_surrogate, torch_result
from ._extreme_scales import divide_by, range_scale
from .gram import _check_symmetric, check_kernel_params

__all__ = ["hsic", "MIN_CKA_SAMPLES"]

# Fewest stimuli CKA accepts: the debiased HSIC divides by n (n - 3).
MIN_CKA_SAMPLES = 4


def _hsic_from_statistics(
    traces: np.ndarray, row_dots: np.ndarray, totals: np.ndarray, n: int, debiased: bool
) -> np.ndarray:
    """HSIC of every pair from ``T_ab``, ``r_a . r_b`` and ``s_a`` (float64 numpy).

    For ``debiased`` the statistics must be those of the Grams with a zero
    diagonal. The biased value is ``tr(K_a H K_b H) / (n - 1)^2``; the
    debiased one is Song et al.'s (2012) eq. 5.
    """
    outer_totals = np.outer(totals, totals)
    if debiased:
        value = traces + outer_totals / ((n - 1) * (n - 2)) - 2.0 * row_dots / (n - 2)
        return value / (n * (n - 3))
    return (traces - 2.0 * row_dots / n + outer_totals / (n * n)) / ((n - 1) ** 2)


def _gram_statistics(
    grams: Sequence[Array], debiased: bool, xp: Namespace, *, owned: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, r.r, s) from explicit Gram matrices (any kernel).

    ``owned`` says the Grams were made here and may be changed in place
    (otherwise the caller's matrices are copied before the diagonal is zeroed).
    """
    prepared, rows, totals = [], [], []
    for K in grams:
        K = xp.astype(K, xp.float64, copy=not owned)
        if debiased and isinstance(K, np.ndarray):
            np.fill_diagonal(K, 0.0)
        elif debiased:
            eye = xp.eye(K.shape[0], dtype=xp.bool, device=array_api_compat.device(K))
            K = xp.where(eye, xp.zeros_like(K), K)
        row = xp.sum(K, axis=1)
        prepared.append(xp.reshape(K, (-1,)))
        rows.append(to_numpy(row))
        totals.append(float(xp.sum(row)))
    k = len(grams)
    traces = np.zeros((k, k))
    for a in range(k):
        for b in range(a, k):
            traces[a, b] = traces[b, a] = _inner(prepared[a], prepared[b], xp)
    rows = np.stack(rows)
    return traces, rows @ rows.T, np.asarray(totals)


def _inner(a: Array, b: Array, xp: Namespace) -> float:
    """Inner product of two vectors (BLAS dot for numpy: no n^2 temporary)."""
    if isinstance(a, np.ndarray):
        return float(np.dot(a, b))
    return float(xp.sum(a * b))


def hsic(K: ArrayLike, L: ArrayLike, *, debiased: bool = False) -> float | Array:
    """Hilbert-Schmidt independence criterion between two Gram matrices.

    Parameters
    ----------
    K, L : array-like or torch.Tensor of shape (n_samples, n_samples)
        Symmetric kernel matrices over the same samples.
    debiased : bool, default=False
        False gives the biased ``tr(K H L H) / (n - 1)^2``; True the unbiased
        U-statistic of Song et al. (2012), which needs n >= 4 and may be
        negative.

    Returns
    -------
    float or torch.Tensor
        The HSIC estimate; for torch input a 0-d tensor that carries
        gradients when K or L requires grad.
    """
    check_kernel_params("linear", None, 1.0, debiased, "hsic")
    inputs = (K, L)
    K = check_representation(K, "K", min_samples=MIN_CKA_SAMPLES if debiased else 2)
    L = check_representation(L, "L", min_samples=MIN_CKA_SAMPLES if debiased else 2)
    for name, G in (("K", K), ("L", L)):
        if G.shape[0] != G.shape[1]:
            raise ValueError(
                f"{name} must be a square Gram matrix of shape (n_samples, n_samples); got "
                f"shape {_shape_str(G.shape)}."
            )
    check_paired_samples(K, L, names=("K", "L"))
    L = convert_like(L, K)
    for name, G in (("K", K), ("L", get_namespace(K).astype(L, K.dtype))):
        _check_symmetric(G, name, name)
    xp = get_namespace(K)
    # HSIC is bilinear in (K, L): each is divided by a power of two (exact) so
    # that products of Gram entries stay in range, and the value scaled back.
    scale_k, scale_l = range_scale(K, 2), range_scale(L, 2)
    K, L = divide_by(K, scale_k), divide_by(L, scale_l)
    traces, row_dots, totals = _gram_statistics([K, L], debiased, xp)
    value = float(_hsic_from_statistics(traces, row_dots, totals, K.shape[0], debiased)[0, 1])
    value = value * scale_k * scale_l if np.isfinite(value) else value
    if not np.isfinite(value):
        raise ValueError(
            f"The HSIC of K and L is beyond the float64 range (K's entries reach about "
            f"{scale_k:.3g}, L's about {scale_l:.3g}); rescale K or L."
        )
    return torch_result(value, inputs, lambda: hsic_surrogate(*inputs, debiased))
