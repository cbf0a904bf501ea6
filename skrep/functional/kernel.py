"""Centred kernel alignment (CKA) and the Hilbert-Schmidt independence criterion (HSIC).

CKA (Kornblith et al. 2019) compares two representations through their
kernel (Gram) matrices ``K`` and ``L`` over the same n stimuli::

    CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))

with the biased HSIC ``tr(K H L H) / (n - 1)^2`` (``H`` the centring matrix),
or, with ``debiased=True``, the unbiased U-statistic of Song et al. (2012).

Every HSIC here is written through three statistics of each Gram matrix:
``T = tr(K_a K_b)`` (the inner product of the vectorised Grams), the row
sums ``r = K 1`` and the total ``s = 1' K 1``, each minus the diagonal for
the debiased form. With them one product of vectorised Grams gives the HSIC of
every pair of layers at once (:func:`cka_matrix`), and linear CKA needs no
Gram matrix at all when there are more stimuli than features:
``tr(K_a K_b) = ||X_a' X_b||_F^2`` for centred features, and the diagonal of
``X X'`` is the squared row norms.

Numerics: features are centred about a mean accumulated in float64 before any
product, so float32 data whose features sit around 1000 loses nothing to
cancellation (public code that centres the Gram matrix instead is off by up
to 1 there); the RBF kernel's distances, exponentials and sums are float64.
"""

from __future__ import annotations

import math
import numbers

import array_api_compat
import numpy as np

from .._array import convert_like, floating_dtype, get_namespace, matrix_transpose, to_numpy
from .._validation import _shape_str, check_paired_samples, check_representation
from ..exceptions import InvalidParameterError
from .centering import centre_and_scale, centred_features

__all__ = [
    "rbf_bandwidth",
    "gram_matrix",
    "hsic",
    "cka",
    "linear_cka",
    "rbf_cka",
    "cka_matrix",
]

# Fewest stimuli CKA accepts: the debiased HSIC divides by n (n - 3).
MIN_CKA_SAMPLES = 4


# -- parameters and inputs ------------------------------------------------------------------
def check_kernel_params(kernel, sigma, threshold, debiased, owner):
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


# -- kernels --------------------------------------------------------------------------------
def _squared_distances(Xc, xp):
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


def _median(values, xp):
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


def rbf_bandwidth(X, threshold=0.8):
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
    return _bandwidth(_squared_distances(centred_features(X), xp), threshold, xp, "X")


def _bandwidth(distances, threshold, xp, name):
    median = _median(distances, xp)
    if median <= 0.0:
        raise ValueError(
            f"The median squared distance between the rows of {name} is 0 (at least half "
            "of all pairs of rows are identical), so the RBF bandwidth 'threshold x median "
            "distance' is 0; expected rows that mostly differ, or pass sigma explicitly."
        )
    return threshold * math.sqrt(median)


def gram_matrix(X, kernel="linear", *, sigma=None, threshold=0.8):
    """Kernel (Gram) matrix of the rows of ``X``.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        The representation.
    kernel : {"linear", "rbf"} or callable, default="linear"
        "linear" gives ``Xc Xc'`` of the centred features; "rbf" gives
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
    return _gram(X, kernel, sigma, threshold, "X")


def _gram(X, kernel, sigma, threshold, name):
    xp = get_namespace(X)
    if kernel == "linear":
        Xc = centred_features(X)
        return Xc @ matrix_transpose(Xc, xp)
    if kernel == "rbf":
        distances = _squared_distances(centred_features(X), xp)
        if sigma is None:
            sigma = _bandwidth(distances, threshold, xp, name)
        if isinstance(distances, np.ndarray):
            distances *= -1.0 / (2.0 * sigma * sigma)
            return np.exp(distances, out=distances)
        return xp.exp(distances * (-1.0 / (2.0 * sigma * sigma)))
    return _call_kernel(kernel, X, name)


def _call_kernel(kernel, X, name):
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


def _check_symmetric(G, label, symbol):
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


# -- HSIC from Gram statistics --------------------------------------------------------------
def _hsic_from_statistics(traces, row_dots, totals, n, debiased):
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


def _normalise(hsic_ab, hsic_aa, hsic_bb, names_a, names_b):
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
                "variance around its centre (constant rows, or constant features for the "
                "linear kernel; for the debiased estimator too few varying samples), so CKA "
                "is undefined; expected a representation that varies across samples."
            )
    return hsic_ab / np.sqrt(np.outer(hsic_aa, hsic_bb))


def _linear_statistics(Xs, debiased, xp):
    """(T, r.r, s) for the linear kernel from centred features, no Gram matrix.

    ``T_ab = ||X_a' X_b||_F^2``; with centred features every row sum of
    ``X X'`` is 0, and removing the diagonal (the squared row norms ``d``)
    turns ``T`` into ``T - d_a . d_b``, the row sums into ``-d`` and the total
    into ``-sum d``.
    """
    k = len(Xs)
    traces = np.zeros((k, k))
    for a in range(k):
        for b in range(a, k):
            product = xp.astype(matrix_transpose(Xs[a], xp) @ Xs[b], xp.float64)
            traces[a, b] = traces[b, a] = float(xp.sum(product * product))
    return _linear_corrections(traces, Xs, debiased, xp)


def _linear_corrections(traces, Xs, debiased, xp, *, diagonal_in_traces=True):
    k = len(Xs)
    if not debiased:
        return traces, np.zeros((k, k)), np.zeros(k)
    norms = np.stack(
        [to_numpy(xp.sum(xp.astype(X, xp.float64) ** 2, axis=1)) for X in Xs]
    )  # (k, n)
    diagonal_dots = norms @ norms.T
    if diagonal_in_traces:
        traces = traces - diagonal_dots
    return traces, diagonal_dots, -norms.sum(axis=1)


def _gram_statistics(grams, debiased, xp, *, owned=False):
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


def _inner(a, b, xp):
    """Inner product of two vectors (BLAS dot for numpy: no n^2 temporary)."""
    if isinstance(a, np.ndarray):
        return float(np.dot(a, b))
    return float(xp.sum(a * b))


def hsic(K, L, *, debiased=False):
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
    float
        The HSIC estimate.
    """
    check_kernel_params("linear", None, 1.0, debiased, "hsic")
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
    traces, row_dots, totals = _gram_statistics([K, L], debiased, xp)
    return float(_hsic_from_statistics(traces, row_dots, totals, K.shape[0], debiased)[0, 1])


# -- CKA -------------------------------------------------------------------------------------
def _statistics(Xs, names, kernel, sigma, threshold, debiased):
    """Gram statistics of validated representations sharing n and a namespace."""
    xp = get_namespace(*Xs)
    n = Xs[0].shape[0]
    if kernel == "linear":
        dtype = floating_dtype(xp, *Xs)
        # CKA does not change when one representation is scaled, so each is
        # divided by its largest centred value: no float32 overflow or underflow.
        centred = [
            centre_and_scale(xp.astype(X, dtype, copy=False), name, "CKA")[0]
            for X, name in zip(Xs, names, strict=True)
        ]
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
            return _linear_statistics(centred, debiased, xp)
        traces = _gram_traces(centred, xp, zero_diagonal=debiased)
        return _linear_corrections(traces, centred, debiased, xp, diagonal_in_traces=False)
    for X, name in zip(Xs, names, strict=True):
        centre_and_scale(X, name, "CKA")  # a constant representation is an error
    grams = [_gram(X, kernel, sigma, threshold, name) for X, name in zip(Xs, names, strict=True)]
    return _gram_statistics(grams, debiased, xp, owned=not callable(kernel))


def _gram_traces(centred, xp, slab_rows=256, *, zero_diagonal=False):
    """``tr(K_a K_b)`` for the linear Grams ``K = Xc Xc'`` of centred features.

    The Gram matrices are never stored whole. For each slab of rows I, every
    representation's block ``X_I X_{I:}'`` (the rows I against all rows from
    I on: the upper triangle, slab by slab) is computed, the entries of its
    diagonal square are scaled by 1/sqrt(2), and twice the inner products of
    the vectorised blocks are accumulated, so each off-diagonal pair of
    stimuli counts twice and each diagonal one once. That is about half the
    multiplications of full Gram products, and memory holds one slab per
    representation. It is our own code because no library computes the
    inner products of many Gram matrices. With ``zero_diagonal`` the
    diagonals of the Grams are left out (the debiased statistic), instead of
    being subtracted afterwards, which would cancel most of a float32 sum.
    """
    k, n = len(centred), centred[0].shape[0]
    traces = np.zeros((k, k))
    half = math.sqrt(0.5)
    for start in range(0, n, slab_rows):
        height, width = min(slab_rows, n - start), n - start
        if isinstance(centred[0], np.ndarray):
            slab = np.empty((k, height, width), dtype=centred[0].dtype)
            for a, X in enumerate(centred):
                np.matmul(X[start : start + height], X[start:].T, out=slab[a])
        else:
            slab = xp.stack(
                [X[start : start + height, :] @ matrix_transpose(X[start:, :], xp) for X in centred]
            )
        slab[:, :, :height] *= half
        if zero_diagonal:
            inside = np.arange(height)
            slab[:, inside, inside] = 0.0
        flat = xp.reshape(slab, (k, height * width))
        traces += 2.0 * to_numpy(xp.astype(flat @ matrix_transpose(flat, xp), xp.float64))
    return traces


def _validated_layers(layers, label):
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
    layers_a, layers_b=None, *, kernel="linear", sigma=None, threshold=0.8, debiased=False
):
    """CKA between every pair of representations, from one set of Gram statistics.

    Each representation's kernel statistics are computed once, then the HSIC
    of all pairs comes from their inner products (for the linear kernel,
    blockwise products of centred Gram blocks, never the whole Gram matrix,
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
    traces, row_dots, totals = _statistics(everything, names, kernel, sigma, threshold, debiased)
    values = _hsic_from_statistics(traces, row_dots, totals, everything[0].shape[0], debiased)
    self_hsic = np.diag(values).copy()
    k = len(first)
    if layers_b is None:
        return _normalise(values, self_hsic, self_hsic, names, names)
    return _normalise(values[:k, k:], self_hsic[:k], self_hsic[k:], names[:k], names[k:])


def cka(X, Y, *, kernel="linear", sigma=None, threshold=0.8, debiased=False):
    """Centred kernel alignment between two representations (Kornblith et al. 2019).

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
    float
        CKA: 1 for representations equal up to rotation and isotropic scaling
        (linear kernel), near 0 for unrelated ones.

    Raises
    ------
    ValueError
        Fewer than 4 samples, NaN or inf, mismatched rows, or a representation
        without variance (its self-HSIC is not positive).
    """
    check_kernel_params(kernel, sigma, threshold, debiased, "cka")
    return _pair_cka(X, Y, kernel, sigma, threshold, debiased)


def _pair_cka(X, Y, kernel, sigma, threshold, debiased):
    X = check_representation(X, "X", min_samples=MIN_CKA_SAMPLES)
    Y = check_representation(Y, "Y", min_samples=MIN_CKA_SAMPLES)
    check_paired_samples(X, Y)
    Y = convert_like(Y, X)
    traces, row_dots, totals = _statistics([X, Y], ["X", "Y"], kernel, sigma, threshold, debiased)
    values = _hsic_from_statistics(traces, row_dots, totals, X.shape[0], debiased)
    result = _normalise(values[:1, 1:], values[:1, 0], values[1:, 1], ["X"], ["Y"])
    return float(result[0, 0])


def linear_cka(X, Y, *, debiased=False):
    """Linear CKA: ``||X'Y||_F^2 / (||X'X||_F ||Y'Y||_F)`` for centred X and Y.

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
    float
        Linear CKA, in [0, 1] (debiased: at most 1, possibly negative).
    """
    return cka(X, Y, kernel="linear", debiased=debiased)


def rbf_cka(X, Y, *, sigma=None, threshold=0.8, debiased=False):
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
    float
        RBF CKA.
    """
    return cka(X, Y, kernel="rbf", sigma=sigma, threshold=threshold, debiased=debiased)
