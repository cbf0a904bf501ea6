"""Partial whitening of one representation, the first step of the generalized shape metrics.

The private half of :mod:`skrep.functional.linear`: the whitening matrix and
the two sums that :func:`~skrep.functional.padding_rescale` needs to whiten a
zero-padded copy without recomputing anything.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._array import get_namespace
from .._typing import Array


def _check_finite_gram(gram: Array, X: Array) -> None:
    """Raise instead of eigendecomposing a Gram matrix that overflowed."""
    xp = get_namespace(gram)
    if not bool(xp.all(xp.isfinite(gram))):
        hint = " or compute in float64" if X.dtype == xp.float32 else ""
        raise ValueError(
            f"X.T @ X overflowed in {X.dtype} (largest |value| in the data is "
            f"{float(xp.max(xp.abs(X))):.3g}), so the whitening (alpha < 1) cannot be "
            f"computed; rescale the representations (e.g. standardize them){hint}."
        )


def _partial_whitening(
    X: Array, alpha: float, *, preserve_variance: bool = True, eigval_tol: float = 1e-7
) -> tuple[Array, float | None, float | None]:
    """The partial whitening matrix and the two sums behind its rescaling.

    Returns ``(Z, total_eigval, total_variance)``: ``Z`` as
    :func:`~skrep.functional.partial_whitening_matrix` computes it, the sum of
    the clipped eigenvalues of ``X.T @ X`` and the total variance of ``X @ Z``
    before the ``preserve_variance`` rescaling (both None when ``Z`` is the
    identity). :func:`~skrep.functional.padding_rescale` uses them to whiten a
    zero-padded copy of ``X`` without recomputing anything.
    """
    xp = get_namespace(X)
    n_features = X.shape[1]
    if alpha > 1 - eigval_tol:
        return xp.eye(n_features, dtype=X.dtype, device=array_api_compat.device(X)), None, None
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        gram = X.T @ X
    _check_finite_gram(gram, X)
    lam, V = xp.linalg.eigh(gram)
    lam = xp.clip(lam, min=eigval_tol)
    d = alpha + (1 - alpha) * lam**-0.5
    total_eigval = xp.sum(lam)
    # Total variance of X @ Z before rescaling: sum of (d * sqrt(lam))^2.
    total_variance = xp.sum(
        alpha**2 * lam + 2 * alpha * (1 - alpha) * xp.sqrt(lam) + (1 - alpha) ** 2
    )
    if preserve_variance:
        d = d * xp.sqrt(total_eigval / total_variance)
    return (V * d[None, :]) @ V.T, float(total_eigval), float(total_variance)
