"""Kernel (Gram) matrices of representations: linear, RBF, or any callable.

The linear kernel is ``Xc Xc'`` of the centered features; the RBF kernel
``exp(-|x_i - x_j|^2 / (2 sigma^2))`` is computed in float64, with
Kornblith et al.'s bandwidth (a fraction of the median distance) by default.
These are the kernels of :func:`skrep.functional.hsic` and of CKA
(:mod:`skrep.functional.kernel`).
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import array_api_compat
import numpy as np
from sklearn import get_config

from .._array import convert_like, get_namespace, matrix_transpose
from .._typing import Array, ArrayLike, Namespace
from .._validation import _shape_str, check_representation
from ..exceptions import InvalidParameterError, KernelMemoryWarning
from ._extreme_scales import divide_by, range_scale
from .centering import centered_features

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])

__all__ = [
    "check_kernel_params",
    "rbf_bandwidth",
    "gram_matrix",
    "kernel_memory_limit",
    "warn_kernel_memory",
]


# -- parameters -------------------------------------------------------------------------------
def check_kernel_params(
    kernel: object, sigma: object, threshold: object, debiased: object, owner: str
) -> None:
    """Raise InvalidParameterError naming the bad CKA parameter.

    Parameters
    ----------
    kernel : object
        "linear", "rbf" or a callable returning a Gram matrix.
    sigma : object
        None or a positive bandwidth.
    threshold : object
        Positive fraction of the median distance (used when sigma is None).
    debiased : object
        True or False.
    owner : str
        The function or estimator that received them, for the message.
    """
    if not (callable(kernel) or (isinstance(kernel, str) and kernel in ("linear", "rbf"))):
        raise InvalidParameterError(
            f"The 'kernel' parameter of {owner} must be 'linear', 'rbf' or a callable "
            f"returning the (n_samples, n_samples) Gram matrix of its input; got {kernel!r}."
        )
    for name, value in (("sigma", sigma), ("threshold", threshold)):
        if value is None and name == "sigma":
            continue
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value <= 0
        ):
            allowed = "None or a positive number" if name == "sigma" else "a positive number"
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be {allowed}; got {value!r}."
            )
    if not isinstance(debiased, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'debiased' parameter of {owner} must be True or False; got {debiased!r}."
        )


# -- memory ---------------------------------------------------------------------------------
def kernel_memory_limit() -> int:
    """Bytes that CKA's n x n kernels may take before :class:`KernelMemoryWarning`.

    The smaller of scikit-learn's ``working_memory`` (MiB; 1024 by default,
    set with ``sklearn.config_context(working_memory=...)``) and half the
    physical memory available now (Linux ``sysconf``; ignored where unknown).

    Returns
    -------
    int
        The limit in bytes.
    """
    limit = int(get_config()["working_memory"] * 2**20)
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX, or unknown
        available = 0
    return min(limit, available // 2) if available > 0 else limit


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside skrep (as skrep.metrics.rsa finds it)."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        level, frame = level + 1, frame.f_back
    return level


def warn_kernel_memory(n: int, n_kernels: int, median: bool) -> None:
    """Warn when ``n_kernels`` float64 n x n kernels exceed :func:`kernel_memory_limit`.

    Parameters
    ----------
    n : int
        Stimuli.
    n_kernels : int
        Kernel matrices held at once.
    median : bool
        The median bandwidth is computed (one more n x n copy, for the selection).
    """
    needed = (n_kernels + int(median)) * n * n * 8
    limit = kernel_memory_limit()
    if needed > limit:
        warnings.warn(
            f"Kernel CKA of {n} stimuli forms {n_kernels} n x n float64 kernel matrices "
            f"({needed / 2**30:.3g} GiB with the median's copy), more than the limit of "
            f"{limit / 2**30:.3g} GiB (scikit-learn's working_memory, or half the available "
            "memory). Consider CKAEstimator(kernel='rbf').partial_fit over minibatches of "
            "stimuli (the minibatch estimator of Nguyen et al. 2021), or "
            "CKAEstimator(kernel='rbf', approximation='nystroem', n_components=...) (linear "
            "CKA of Nystroem features); raise sklearn's working_memory to silence this.",
            KernelMemoryWarning,
            stacklevel=_caller_stacklevel(),
        )


# -- kernels --------------------------------------------------------------------------------
def _squared_distances(Xc: Array, xp: Namespace) -> Array:
    """Pairwise squared euclidean distances in float64, exact zeros on the diagonal."""
    gram = xp.astype(Xc @ matrix_transpose(Xc, xp), xp.float64)
    norms = xp.asarray(xp.linalg.diagonal(gram), copy=True)  # not a view: gram changes below
    if isinstance(gram, np.ndarray):
        # In place: at 5000 stimuli each n x n temporary is 200 MB.
        gram *= -2.0
        gram += norms[:, None]
        gram += norms[None, :]
        np.maximum(gram, 0.0, out=gram)  # rounding can make close pairs slightly < 0
        np.fill_diagonal(gram, 0.0)
        return gram
    distances = norms[:, None] + norms[None, :] - 2.0 * gram
    distances = xp.clip(distances, min=0.0)
    eye = xp.eye(distances.shape[0], dtype=xp.bool, device=array_api_compat.device(Xc))
    return xp.where(eye, xp.zeros_like(distances), distances)


def _median(values: Array, xp: Namespace) -> float:
    """Median of all entries (numpy's convention: the mean of the middle two)."""
    flat = xp.reshape(values, (-1,))
    m = flat.shape[0]
    middle = [(m - 1) // 2, m // 2]
    if isinstance(flat, np.ndarray):
        # np.partition is O(m); the matrices here reach 25 million entries.
        low, high = np.partition(flat, middle)[middle]
        return (float(low) + float(high)) / 2.0
    if hasattr(flat, "kthvalue"):  # torch: selection without a full sort
        low, high = (float(flat.kthvalue(k + 1).values) for k in middle)
        return (low + high) / 2.0
    ordered = xp.sort(flat)
    return (float(ordered[middle[0]]) + float(ordered[middle[1]])) / 2.0


def rbf_bandwidth(X: ArrayLike, threshold: float = 0.8) -> float:
    """Kornblith et al.'s RBF bandwidth: ``threshold`` times the median distance.

    The median is taken over all n^2 squared distances, the zeros of the
    diagonal included, as in Kornblith et al.'s code (the off-diagonal median
    differs slightly).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        The representation.
    threshold : float, default=0.8
        Fraction of the median distance.

    Returns
    -------
    float
        ``sigma = threshold * sqrt(median squared distance)``.
    """
    check_kernel_params("rbf", None, threshold, False, "rbf_bandwidth")
    X = check_representation(X, "X")
    xp = get_namespace(X)
    # The bandwidth scales with X: divide by a power of two (exact) so that
    # squared distances of data near 1e300 or 1e-300 stay in range.
    scale = range_scale(X, 2)
    X = divide_by(X, scale)
    return scale * _bandwidth(_squared_distances(centered_features(X), xp), threshold, xp, "X")


def _bandwidth(distances: Array, threshold: float, xp: Namespace, name: str) -> float:
    median = _median(distances, xp)
    if median <= 0.0:
        raise ValueError(
            f"The median squared distance between the rows of {name} is 0 (at least half "
            "of all pairs of rows are identical), so the RBF bandwidth 'threshold x median "
            "distance' is 0; expected rows that mostly differ, or pass sigma explicitly."
        )
    return threshold * math.sqrt(median)


def gram_matrix(
    X: ArrayLike,
    kernel: str | Callable[[Array], ArrayLike] = "linear",
    *,
    sigma: float | None = None,
    threshold: float = 0.8,
) -> Array:
    """Kernel (Gram) matrix of the rows of ``X``.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        The representation.
    kernel : {"linear", "rbf"} or callable, default="linear"
        "linear" gives ``Xc Xc'`` of the centered features; "rbf" gives
        ``exp(-|x_i - x_j|^2 / (2 sigma^2))`` in float64; a callable receives
        X and must return its Gram matrix (e.g.
        ``sklearn.metrics.pairwise.polynomial_kernel``).
    sigma : float, default=None
        RBF bandwidth; None uses :func:`rbf_bandwidth` with ``threshold``.
    threshold : float, default=0.8
        Fraction of the median distance used when ``sigma`` is None.

    Returns
    -------
    array of shape (n_samples, n_samples)
        In X's namespace and on its device.
    """
    check_kernel_params(kernel, sigma, threshold, False, "gram_matrix")
    X = check_representation(X, "X")
    if kernel == "rbf" and sigma is None:
        X = divide_by(X, range_scale(X, 2))  # the median bandwidth scales with X
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        K = _gram(X, kernel, sigma, threshold, "X")
    xp = get_namespace(K)
    if not bool(xp.all(xp.isfinite(K))):
        raise ValueError(
            f"The {kernel if isinstance(kernel, str) else 'custom'} Gram matrix of X is "
            "beyond the range of its dtype (X's entries are too large); rescale X."
        )
    return K


def _gram(
    X: Array,
    kernel: str | Callable[[Array], ArrayLike],
    sigma: float | None,
    threshold: float,
    name: str,
) -> Array:
    xp = get_namespace(X)
    if kernel == "linear":
        Xc = centered_features(X)
        return Xc @ matrix_transpose(Xc, xp)
    if kernel == "rbf":
        distances = _squared_distances(centered_features(X), xp)
        if sigma is None:
            sigma = _bandwidth(distances, threshold, xp, name)
        if isinstance(distances, np.ndarray):
            distances *= -1.0 / (2.0 * sigma * sigma)
            return np.exp(distances, out=distances)
        return xp.exp(distances * (-1.0 / (2.0 * sigma * sigma)))
    return _call_kernel(kernel, X, name)


def _call_kernel(kernel: Callable[[Array], ArrayLike], X: Array, name: str) -> Array:
    xp = get_namespace(X)
    K = kernel(X)
    if getattr(K, "shape", None) is None:
        K = np.asarray(K)
    K = check_representation(K, f"the Gram matrix the kernel returned for {name}")
    n = X.shape[0]
    if tuple(K.shape) != (n, n):
        raise ValueError(
            f"The kernel callable returned an array of shape {_shape_str(K.shape)} for {name} "
            f"of shape {_shape_str(X.shape)}; expected its ({n}, {n}) Gram matrix."
        )
    _check_symmetric(K, f"The Gram matrix the kernel returned for {name}", "K")
    xp_k = get_namespace(K)
    K = xp_k.astype(K, xp_k.float64)
    return K if xp_k is xp else convert_like(K, X)


def _check_symmetric(G: Array, label: str, symbol: str) -> None:
    """Raise unless G is symmetric up to rounding of its own dtype.

    ``label`` names G in the message and ``symbol`` is its letter in ``|G - G.T|``.
    """
    xp = get_namespace(G)
    asymmetry = float(xp.max(xp.abs(G - matrix_transpose(G, xp))))
    scale = float(xp.max(xp.abs(G)))
    if asymmetry > 1e3 * float(xp.finfo(G.dtype).eps) * max(scale, 1e-300):
        raise ValueError(
            f"{label} is not symmetric (largest |{symbol} - {symbol}.T| is {asymmetry:.3g}); "
            "expected a symmetric kernel (Gram) matrix."
        )
