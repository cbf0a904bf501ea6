"""Centered kernel alignment (CKA) and the Hilbert-Schmidt independence criterion (HSIC).

CKA (Kornblith et al. 2019) compares two representations through their
kernel (Gram) matrices ``K`` and ``L`` over the same n stimuli::

    CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))

with the biased HSIC ``tr(K H L H) / (n - 1)^2`` (``H`` the centering matrix),
or, with ``debiased=True``, the unbiased U-statistic of Song et al. (2012).

Every HSIC here is written through three statistics of each Gram matrix:
``T = tr(K_a K_b)`` (the inner product of the vectorised Grams), the row
sums ``r = K 1`` and the total ``s = 1' K 1``, each minus the diagonal for
the debiased form. With them one product of vectorised Grams gives the HSIC of
every pair of layers at once (:func:`cka_matrix`), and linear CKA needs no
Gram matrix at all when there are more stimuli than features:
``tr(K_a K_b) = ||X_a' X_b||_F^2`` for centered features, and the diagonal of
``X X'`` is the squared row norms.

Numerics: features whose mean is not small against their spread are centered
about a mean accumulated in float64 before any product, so float32 data whose
features sit around 1000 loses nothing to cancellation (public code that
centers the Gram matrix instead is off by up to 1 there); the others enter the
products as they are, and their means are taken out of the float64 products
(:mod:`skrep.functional._linear_pair`, one pair at the cost of its products).
The RBF kernel's distances, exponentials and sums are float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._array import convert_like, floating_dtype, get_namespace
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_paired_samples, check_representation
from ._autograd import cka_surrogate, torch_result
from ._extreme_scales import divide_by, range_scale
from ._linear_hsic import gram_traces, linear_corrections, linear_statistics
from ._linear_pair import pair_statistics
from .centering import center_and_scale
from .gram import _gram, check_kernel_params, gram_matrix, rbf_bandwidth, warn_kernel_memory
from .hsic import MIN_CKA_SAMPLES, _gram_statistics, _hsic_from_statistics, hsic

__all__ = [
    "rbf_bandwidth",
    "gram_matrix",
    "hsic",
    "cka",
    "linear_cka",
    "rbf_cka",
    "cka_matrix",
    "cka_between",
]


# -- CKA from HSIC statistics -----------------------------------------------------------------
def _normalise(
    hsic_ab: np.ndarray,
    hsic_aa: np.ndarray,
    hsic_bb: np.ndarray,
    names_a: Sequence[str],
    names_b: Sequence[str],
) -> np.ndarray:
    """CKA from HSIC values; a non-positive self-HSIC is an error naming the input."""
    if not (np.all(np.isfinite(hsic_ab)) and np.all(np.isfinite(hsic_aa))):
        raise FloatingPointError(
            "An HSIC value overflowed (it is not finite); rescale the inputs or pass float64."
        )
    for values, names in ((hsic_aa, names_a), (hsic_bb, names_b)):
        bad = np.flatnonzero(~(values > 0.0))
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"{names[k]} has a self-HSIC of {values[k]:.3g}: its Gram matrix has no "
                "variance around its center (constant rows, or constant features for the "
                "linear kernel; for the debiased estimator too few varying samples), so CKA "
                "is undefined; expected a representation that varies across samples."
            )
    return hsic_ab / np.sqrt(np.outer(hsic_aa, hsic_bb))


def _statistics(
    Xs: Sequence[Array],
    names: Sequence[str],
    kernel: str | Callable[[Array], ArrayLike],
    sigma: float | None,
    threshold: float,
    debiased: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gram statistics of validated representations sharing n and a namespace."""
    xp = get_namespace(*Xs)
    n = Xs[0].shape[0]
    if kernel == "linear":
        dtype = floating_dtype(xp, *Xs)
        Xs = [xp.astype(X, dtype, copy=False) for X in Xs]
        if len(Xs) == 2:  # one pair: the lean path, unless the data need rescaling
            statistics = pair_statistics(Xs[0], Xs[1], debiased)
            if statistics is not None:
                return statistics
        # CKA does not change when one representation is scaled, so each is
        # divided by its largest centered value: no float32 overflow or underflow.
        centered = [center_and_scale(X, name, "CKA")[0] for X, name in zip(Xs, names, strict=True)]
        widths = [X.shape[1] for X in Xs]
        if len(Xs) == 2:
            use_features = n > max(widths)  # one pair: features when n > p
        else:
            # Feature route: one p_a x p_b product per pair; Gram route: one n x n
            # product per representation, then n^2 per pair. Take the cheaper.
            feature_cost = sum(a * b for i, a in enumerate(widths) for b in widths[i:]) * n
            gram_cost = sum(widths) * n * n + len(Xs) * (len(Xs) + 1) // 2 * n * n
            use_features = feature_cost <= gram_cost
        if use_features:
            return linear_statistics(centered, debiased, xp)
        traces = gram_traces(centered, xp, zero_diagonal=debiased)
        return linear_corrections(traces, centered, debiased, xp, diagonal_in_traces=False)
    for X, name in zip(Xs, names, strict=True):
        center_and_scale(X, name, "CKA")  # a constant representation is an error
    # Callable kernels are called on the data as given: no median copy here.
    warn_kernel_memory(n, len(Xs), kernel == "rbf" and sigma is None)
    if kernel == "rbf" and sigma is None:
        # The median bandwidth scales with the data, so the kernel does not
        # change when X is divided by a power of two (exact): squared distances
        # of data near 1e300 or 1e-300 stay in range.
        Xs = [divide_by(X, range_scale(X, 2)) for X in Xs]
    grams = [_gram(X, kernel, sigma, threshold, name) for X, name in zip(Xs, names, strict=True)]
    return _gram_statistics(grams, debiased, xp, owned=not callable(kernel))


def _validated_layers(layers: Sequence[ArrayLike] | Array, label: str) -> list[Array]:
    """Validate a sequence of representations; all share X's namespace, n and dtype rules."""
    if hasattr(layers, "ndim") and getattr(layers, "ndim", 0) == 3:
        layers = [layers[i] for i in range(layers.shape[0])]
    elif hasattr(layers, "ndim") and hasattr(layers, "shape"):
        raise ValueError(
            f"{label} is a {layers.ndim}-D array of shape {_shape_str(layers.shape)}; expected "
            "a list of 2-D arrays (one (n_samples, n_features) array per layer) or a 3-D "
            "array (n_layers, n_samples, n_features). Wrap a single layer in a list."
        )
    if isinstance(layers, dict):
        raise TypeError(
            f"{label} is a dict; pass a list of arrays (e.g. list(d.values())) so that the "
            "order of the rows and columns of the result is explicit."
        )
    try:
        layers = list(layers)
    except TypeError as exc:
        raise TypeError(
            f"{label} must be a sequence of arrays of shape (n_samples, n_features); got "
            f"{type(layers).__name__}."
        ) from exc
    if not layers:
        raise ValueError(f"{label} is empty; expected at least one representation.")
    checked = [
        check_representation(A, f"{label}[{i}]", min_samples=MIN_CKA_SAMPLES)
        for i, A in enumerate(layers)
    ]
    return checked


def cka_matrix(
    layers_a: Sequence[ArrayLike] | Array,
    layers_b: Sequence[ArrayLike] | Array | None = None,
    *,
    kernel: str | Callable[[Array], ArrayLike] = "linear",
    sigma: float | None = None,
    threshold: float = 0.8,
    debiased: bool = False,
) -> np.ndarray:
    """CKA between every pair of representations, from one set of Gram statistics.

    Each representation's kernel statistics are computed once, then the HSIC
    of all pairs comes from their inner products (for the linear kernel,
    blockwise products of centered Gram blocks, never the whole Gram matrix,
    or the feature products when the representations are narrow).

    Parameters
    ----------
    layers_a : sequence of arrays of shape (n_samples, n_features_k)
        Representations (e.g. the layers of one network), rows paired.
    layers_b : sequence of arrays of shape (n_samples, n_features_k), default=None
        Second set; None compares ``layers_a`` with itself.
    kernel : {"linear", "rbf"} or callable, default="linear"
        As in :func:`cka`.
    sigma : float, default=None
        RBF bandwidth; None uses ``threshold`` times each representation's
        median distance.
    threshold : float, default=0.8
        Fraction of the median distance when ``sigma`` is None.
    debiased : bool, default=False
        Use the unbiased HSIC (Song et al. 2012).

    Returns
    -------
    ndarray of shape (len(layers_a), len(layers_b))
        ``CKA(layers_a[i], layers_b[j])``.
    """
    check_kernel_params(kernel, sigma, threshold, debiased, "cka_matrix")
    first = _validated_layers(layers_a, "layers_a")
    second = [] if layers_b is None else _validated_layers(layers_b, "layers_b")
    names = [f"layers_a[{i}]" for i in range(len(first))]
    names += [f"layers_b[{j}]" for j in range(len(second))]
    everything = first + second
    everything = [everything[0]] + [convert_like(A, everything[0]) for A in everything[1:]]
    for A, name in zip(everything[1:], names[1:], strict=True):
        check_paired_samples(everything[0], A, names=(names[0], name))
    first, second = everything[: len(first)], everything[len(first) :]
    return cka_between(
        first,
        None if layers_b is None else second,
        kernel=kernel,
        sigma=sigma,
        threshold=threshold,
        debiased=debiased,
        names_a=names[: len(first)],
        names_b=None if layers_b is None else names[len(first) :],
    )


def cka_between(
    layers_a: Sequence[Array],
    layers_b: Sequence[Array] | None = None,
    *,
    kernel: str | Callable[[Array], ArrayLike] = "linear",
    sigma: float | None = None,
    threshold: float = 0.8,
    debiased: bool = False,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
) -> np.ndarray:
    """CKA between validated representations: the batched step of :func:`cka_matrix`.

    No input checks: the representations must be validated 2-D arrays with
    the same rows, in one namespace and on one device (the many-networks
    engine, :mod:`skrep.engine`, has done that before it calls this for a
    block of layers). Each representation's kernel statistics are computed
    once and the HSIC of all pairs comes from their inner products.

    Parameters
    ----------
    layers_a : list of arrays of shape (n_samples, n_features_k)
        Representations, rows paired.
    layers_b : list of arrays of shape (n_samples, n_features_k), default=None
        Second set; None compares ``layers_a`` with itself.
    kernel : {"linear", "rbf"} or callable, default="linear"
        As in :func:`cka`.
    sigma : float, default=None
        RBF bandwidth; None uses ``threshold`` times each representation's
        median distance.
    threshold : float, default=0.8
        Fraction of the median distance when ``sigma`` is None.
    debiased : bool, default=False
        Use the unbiased HSIC (Song et al. 2012).
    names_a, names_b : list of str, default=None
        Names of the representations in error messages (default
        ``layers_a[i]`` and ``layers_b[j]``).

    Returns
    -------
    ndarray of shape (len(layers_a), len(layers_b))
        ``CKA(layers_a[i], layers_b[j])`` (``layers_b = layers_a`` when None).
    """
    layers_a = list(layers_a)
    layers_b = None if layers_b is None else list(layers_b)
    names_a = names_a or [f"layers_a[{i}]" for i in range(len(layers_a))]
    second = layers_b or []
    names_b = names_b or [f"layers_b[{j}]" for j in range(len(second))]
    everything, names = layers_a + second, list(names_a) + list(names_b)
    traces, row_dots, totals = _statistics(everything, names, kernel, sigma, threshold, debiased)
    values = _hsic_from_statistics(traces, row_dots, totals, everything[0].shape[0], debiased)
    self_hsic = np.diag(values).copy()
    k = len(layers_a)
    if layers_b is None:
        return _normalise(values, self_hsic, self_hsic, names, names)
    return _normalise(values[:k, k:], self_hsic[:k], self_hsic[k:], names[:k], names[k:])


def cka(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    kernel: str | Callable[[Array], ArrayLike] = "linear",
    sigma: float | None = None,
    threshold: float = 0.8,
    debiased: bool = False,
) -> float | Array:
    """Centered kernel alignment between two representations (Kornblith et al. 2019).

    Linear CKA goes through the feature space (``||X'Y||_F^2``) when there
    are more stimuli than features, and through the Gram matrices otherwise.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation, one row per stimulus (n_samples >= 4).
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    kernel : {"linear", "rbf"} or callable, default="linear"
        The kernel; a callable receives one representation and returns its
        (n_samples, n_samples) Gram matrix.
    sigma : float, default=None
        RBF bandwidth, the same for X and Y; None uses ``threshold`` times
        each representation's median distance (Kornblith et al.).
    threshold : float, default=0.8
        Fraction of the median distance (over all n^2 pairs, the zero
        diagonal included) when ``sigma`` is None.
    debiased : bool, default=False
        Use the unbiased HSIC U-statistic (Song et al. 2012). Debiased CKA
        can be negative for unrelated representations.

    Returns
    -------
    float or torch.Tensor
        CKA: 1 for representations equal up to rotation and isotropic scaling
        (linear kernel), near 0 for unrelated ones. For torch input a 0-d
        tensor (X's device and floating dtype) that carries gradients when an
        input requires grad; the RBF bandwidth from ``threshold`` is then
        differentiated too (it is a median of distances), and a kernel
        callable must be written with torch operations.

    Raises
    ------
    ValueError
        Fewer than 4 samples, NaN or inf, mismatched rows, or a representation
        without variance (its self-HSIC is not positive).
    """
    check_kernel_params(kernel, sigma, threshold, debiased, "cka")
    value = _pair_cka(X, Y, kernel, sigma, threshold, debiased)
    return torch_result(
        value, (X, Y), lambda: cka_surrogate(X, Y, kernel, sigma, threshold, debiased)
    )


def _pair_cka(
    X: ArrayLike,
    Y: ArrayLike,
    kernel: str | Callable[[Array], ArrayLike],
    sigma: float | None,
    threshold: float,
    debiased: bool,
) -> float:
    X = check_representation(X, "X", min_samples=MIN_CKA_SAMPLES)
    Y = check_representation(Y, "Y", min_samples=MIN_CKA_SAMPLES)
    check_paired_samples(X, Y)
    Y = convert_like(Y, X)
    traces, row_dots, totals = _statistics([X, Y], ["X", "Y"], kernel, sigma, threshold, debiased)
    values = _hsic_from_statistics(traces, row_dots, totals, X.shape[0], debiased)
    result = _normalise(values[:1, 1:], values[:1, 0], values[1:, 1], ["X"], ["Y"])
    return float(result[0, 0])


def linear_cka(X: ArrayLike, Y: ArrayLike, *, debiased: bool = False) -> float | Array:
    """Linear CKA: ``||X'Y||_F^2 / (||X'X||_F ||Y'Y||_F)`` for centered X and Y.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation (n_samples >= 4).
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    debiased : bool, default=False
        Use the unbiased HSIC (Song et al. 2012).

    Returns
    -------
    float or torch.Tensor
        Linear CKA, in [0, 1] (debiased: at most 1, possibly negative); a 0-d
        tensor carrying gradients for torch input (see :func:`cka`).
    """
    return cka(X, Y, kernel="linear", debiased=debiased)


def rbf_cka(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    sigma: float | None = None,
    threshold: float = 0.8,
    debiased: bool = False,
) -> float | Array:
    """CKA with Gaussian (RBF) kernels, computed in float64.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation (n_samples >= 4).
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    sigma : float, default=None
        Bandwidth shared by both kernels; None uses ``threshold`` times each
        representation's median distance.
    threshold : float, default=0.8
        Fraction of the median distance when ``sigma`` is None.
    debiased : bool, default=False
        Use the unbiased HSIC (Song et al. 2012).

    Returns
    -------
    float or torch.Tensor
        RBF CKA; a 0-d tensor carrying gradients for torch input (see :func:`cka`).
    """
    return cka(X, Y, kernel="rbf", sigma=sigma, threshold=threshold, debiased=debiased)
