"""The shared machinery of batched distances between many networks: blocks of one Gram product.

Between two centered (and, for the linear metrics, partially whitened)
representations ``A`` and ``B``, the aligned distance needs only three numbers:
the squared norms ``|A|^2`` and ``|B|^2`` and the inner product of the aligned
pair. Stacking K prepared networks side by side, ``W = [A_1, ..., A_K]``,
every cross-product ``A.T @ B`` is one block of ``W.T @ W``: one large matrix
product (BLAS GEMM/SYRK, or one GPU kernel) replaces K(K-1)/2 small ones.
This module holds what the families share: the prepared network, the stacked
cross-products, the batched SVD, distances from inner products with the
refinement of near-zero distances, and block sizes. The linear and
permutation metrics' block functions live with their families
(:func:`skrep.functional.linear.linear_block_distances`,
:func:`skrep.functional.permutation.permutation_block_distances`).

It is written here rather than looping over single-pair fits because the
batching is the point: it is several times faster on a CPU and lets torch
batch the whole computation on a GPU. Near-zero distances are
ill-conditioned when computed from inner products (``1 - cos`` loses digits
as the angle goes to 0), so pairs closer than :data:`REFINE_ANGLE` are
recomputed directly from the data, exactly as a single-pair fit does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._array import convert_like, get_namespace, to_numpy, zero_pad_columns
from .._deprecation import renamed_attribute
from .._typing import Array
from .._validation import check_columns_match, check_matrix
from ._scaling import normalize_scale
from ._threaded_linalg import split_over_threads
from .centering import column_means
from .ground_metrics import GROUND_METRICS

__all__ = [
    "PreparedNetwork",
    "prepare_centered_network",
    "block_bytes",
    "gram_block_size",
    "REFINE_ANGLE",
]


#: Pairs whose angle (or relative Euclidean distance) is below this value are
#: recomputed from the data: from inner products the absolute error of an angle
#: ``t`` is about ``1e-16 / t``, so above it the batched value is exact to ~1e-14.
REFINE_ANGLE = 1e-2
#: The same for float32 data, whose inner products carry relative errors of about
#: 1e-7: above 0.1 the batched value is within about 1e-6 of a single-pair fit.
REFINE_ANGLE_FLOAT32 = 1e-1


class PreparedNetwork(NamedTuple):
    """One network, prepared once for all the pairs it takes part in.

    Parameters
    ----------
    train : array of shape (n_samples, n_features)
        Centered (and whitened, for the linear metrics) training data.
    test : array of shape (n_samples_test, n_features) or None
        Held-out data mapped with the training offset (and whitening).
    sq_norm, sq_norm_test : float or None
        Squared Frobenius norms of ``train`` and ``test``.
    total_eigval, total_variance : float or None
        Sums from the whitening, used to rescale it when the network is
        zero-padded to a wider partner (see
        :func:`~skrep.functional.padding_rescale`); None without whitening.
    eigval_floor, whitening_alpha : float or None
        The eigenvalue floor and the alpha of that whitening, in the units of
        ``train`` (see :func:`~skrep.functional.padding_rescale`); None
        without whitening.
    scale : float, default=1.0
        ``train`` and ``test`` are the network's data divided by ``scale``
        (a power of two, so that no product of them overflows or underflows).
    """

    train: object
    test: object
    sq_norm: float
    sq_norm_test: float
    total_eigval: float = None
    total_variance: float = None
    eigval_floor: float = None
    whitening_alpha: float = None
    scale: float = 1.0


def _sq_norm(A: Array | None) -> float | None:
    if A is None:
        return None
    xp = get_namespace(A)
    return float(xp.sum(A * A))


def _check_network(X: Array, X_test: Array | None) -> tuple[Array, Array | None]:
    """Validate a network and its held-out data (same width, same namespace)."""
    X = check_matrix(X, "X")
    if X_test is not None:
        X_test = convert_like(check_matrix(X_test, "X_test"), X)
        check_columns_match(X_test, X.shape[1], "X_test", "the training data X")
    return X, X_test


def prepare_centered_network(
    X: Array, X_test: Array | None = None, *, center_columns: bool = True, check_input: bool = True
) -> PreparedNetwork:
    """Center one network (training and held-out data with the training means).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Training data, validated.
    X_test : array of shape (n_samples_test, n_features), default=None
        Held-out data.
    center_columns : bool, default=True
        Subtract the column means of ``X``.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, equal widths). Callers that
        already did pass False.

    Returns
    -------
    PreparedNetwork
        Centered data divided by ``scale`` (a power of two), and squared norms.
    """
    if check_input:
        X, X_test = _check_network(X, X_test)
    mean = column_means(X, center_columns, check_input=False)
    train, scale = normalize_scale(X - mean, in_place=True)
    test = None if X_test is None else (X_test - mean) / scale
    return PreparedNetwork(train, test, _sq_norm(train), _sq_norm(test), scale=scale)


def _cross_products(
    nets_a: Sequence[PreparedNetwork],
    nets_b: Sequence[PreparedNetwork],
    pairs: Sequence[tuple[int, int]],
    width: int,
    same_block: bool,
    attribute: str = "train",
) -> Array:
    """Stack ``A.T @ B`` for each pair (a, b), zero-padded to ``width``.

    ``A`` and ``B`` are the ``attribute`` ("train" or "test") of ``nets_a[a]``
    and ``nets_b[b]``. One matrix product of the side-by-side stacks; the
    blocks are sliced out of it.
    """

    def stack(nets: Sequence[PreparedNetwork]) -> Array:
        mats = [zero_pad_columns(getattr(net, attribute), width) for net in nets]
        return get_namespace(mats[0]).concat(mats, axis=1)

    stack_a = stack(nets_a)
    stack_b = stack_a if same_block else stack(nets_b)
    # stack_a.T @ stack_a runs as one SYRK in numpy (half the flops of a GEMM).
    gram = stack_a.T @ stack_b
    xp = get_namespace(gram)
    return xp.stack(
        [gram[a * width : (a + 1) * width, b * width : (b + 1) * width] for a, b in pairs]
    )


def _batched_svd(stack: Array, *, compute_uv: bool) -> Array | tuple[Array, Array, Array]:
    """SVD of a stack of matrices; numpy stacks are split over the BLAS threads."""
    xp = get_namespace(stack)
    if compute_uv:
        return split_over_threads(lambda chunk: xp.linalg.svd(chunk, full_matrices=False), stack)
    return split_over_threads(xp.linalg.svdvals, stack)


def _distances_from_inner(
    inner: np.ndarray,
    sq_a: np.ndarray,
    sq_b: np.ndarray,
    factor_a: np.ndarray,
    factor_b: np.ndarray,
    score_method: str,
    refine_below: float = REFINE_ANGLE,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances between ``factor_a * A`` and ``factor_b * B`` from inner products and norms.

    ``inner`` is ``<A, B>``, ``sq_a`` and ``sq_b`` are ``|A|^2`` and ``|B|^2``:
    numpy float64 arrays, one entry per pair; the factors are positive.
    Returns the distances and whether each is accurate (else: refine it).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if score_method == "angular":
            # Positive factors do not change the angle.
            cos = inner / np.sqrt(sq_a * sq_b)
            distance = np.arccos(np.clip(cos, -1.0, 1.0))
            reliable = np.isfinite(cos) & (distance >= refine_below)
        else:
            # In units of the larger factor, so that nothing overflows.
            largest = np.maximum(factor_a, factor_b)
            ra, rb = factor_a / largest, factor_b / largest
            total = ra**2 * sq_a + rb**2 * sq_b
            squared = total - 2.0 * ra * rb * inner
            distance = largest * np.sqrt(np.maximum(squared, 0.0))
            reliable = np.isfinite(squared) & (squared >= refine_below**2 * total)
    return distance, reliable


def scaled_ground_distance(
    ground_metric: Callable[..., float], A: Array, B: Array, factor_a: float, factor_b: float
) -> float:
    """``ground_metric(factor_a * A, factor_b * B)`` without overflow (positive factors).

    Parameters
    ----------
    ground_metric : callable
        :func:`~skrep.functional.angular_distance` or
        :func:`~skrep.functional.euclidean_distance`.
    A, B : arrays of the same shape
        Aligned data, divided by their factors.
    factor_a, factor_b : float
        Positive factors.

    Returns
    -------
    float
        The distance.
    """
    # float(): the ground metrics give a 0-d tensor for torch input.
    if ground_metric is GROUND_METRICS["angular"]:
        return float(ground_metric(A, B, check_input=False))  # scale-free
    largest = max(factor_a, factor_b)
    scaled_a, scaled_b = A * (factor_a / largest), B * (factor_b / largest)
    distance = float(ground_metric(scaled_a, scaled_b, check_input=False))
    return _finite_distance(largest * distance)


def _finite_distance(distance: float) -> float:
    if not math.isfinite(distance):
        raise ValueError(
            "The euclidean distance overflowed in float64 (it exceeds about 1.8e308): "
            "the representations are too large; rescale the data."
        )
    return distance


def _distances_with_refinement(
    nets_a: Sequence[PreparedNetwork],
    nets_b: Sequence[PreparedNetwork],
    pairs: Sequence[tuple[int, int]],
    inner: Array,
    test_inner: Array | None,
    score_method: str,
    refine_pair: Callable[[int], tuple[float, float | None]],
    factor_a: np.ndarray,
    factor_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Distances from the aligned inner products; unreliable pairs recomputed.

    ``inner`` and ``test_inner`` (or None) hold one aligned inner product per
    pair of the prepared data; ``factor_a`` and ``factor_b`` multiply the two
    sides (each network's scale, times its zero-padding rescale).
    ``refine_pair(k)`` returns pair ``k``'s ``(train, test)`` distances
    computed from the data.
    """
    # Inner products of float32 data carry float32 rounding: refine a wider band.
    single = getattr(nets_a[0].train.dtype, "itemsize", 8) <= 4
    refine_below = REFINE_ANGLE_FLOAT32 if single else REFINE_ANGLE

    def as_float64(values: Array) -> np.ndarray:
        return np.asarray(to_numpy(values), dtype=np.float64)

    def squared_norms(attribute: str) -> tuple[np.ndarray, np.ndarray]:
        sq_a = np.array([getattr(nets_a[a], attribute) for a, _ in pairs], dtype=np.float64)
        sq_b = np.array([getattr(nets_b[b], attribute) for _, b in pairs], dtype=np.float64)
        return sq_a, sq_b

    factors = (np.asarray(factor_a, dtype=np.float64), np.asarray(factor_b, dtype=np.float64))
    train, reliable = _distances_from_inner(
        as_float64(inner), *squared_norms("sq_norm"), *factors, score_method, refine_below
    )
    test = None
    if test_inner is not None:
        test, test_reliable = _distances_from_inner(
            as_float64(test_inner),
            *squared_norms("sq_norm_test"),
            *factors,
            score_method,
            refine_below,
        )
        reliable &= test_reliable
    for k in np.flatnonzero(~reliable):
        train[k], refined_test = refine_pair(k)
        if test is not None:
            test[k] = refined_test
    for values in (train, test):
        if values is not None and not np.all(np.isfinite(values)):
            _finite_distance(float(values[~np.isfinite(values)][0]))
    return train, test


def _check_block(
    nets_a: Sequence[PreparedNetwork],
    nets_b: Sequence[PreparedNetwork],
    pairs: Sequence[tuple[int, int]],
) -> None:
    """Pairs must index the two sequences; all networks with held-out data, or none."""
    networks = (*nets_a, *nets_b)
    if not all(isinstance(net, PreparedNetwork) for net in networks):
        raise TypeError(
            "nets_a and nets_b must hold PreparedNetwork objects (from "
            "prepare_linear_network or prepare_centered_network)."
        )
    if len({net.test is None for net in networks}) > 1:
        raise ValueError(
            "Some networks were prepared with held-out data and some without; expected "
            "all of them with X_test, or none."
        )
    for a, b in pairs:
        if not (0 <= a < len(nets_a) and 0 <= b < len(nets_b)):
            raise ValueError(
                f"pairs holds ({a}, {b}), but nets_a has {len(nets_a)} networks and nets_b "
                f"{len(nets_b)}; expected indices into both."
            )


def _pair_widths(
    nets_a: Sequence[PreparedNetwork],
    nets_b: Sequence[PreparedNetwork],
    pairs: Sequence[tuple[int, int]],
) -> list[int]:
    return [max(nets_a[a].train.shape[1], nets_b[b].train.shape[1]) for a, b in pairs]


def gram_block_size(networks: Sequence[PreparedNetwork], budget_bytes: int) -> int:
    """Most networks per block whose working memory fits ``budget_bytes``.

    Parameters
    ----------
    networks : sequence of PreparedNetwork
        All the networks (the widest sets the block's width).
    budget_bytes : int
        Working memory allowed for one block (see :func:`block_bytes`).

    Returns
    -------
    int
        At least 1, at most ``len(networks)``.
    """
    width = max(net.train.shape[1] for net in networks)
    itemsize = networks[0].train.dtype.itemsize
    with_test = networks[0].test is not None
    size = 1
    while size < len(networks) and (
        block_bytes(size + 1, width, itemsize, with_test=with_test) <= budget_bytes
    ):
        size += 1
    return size


def block_bytes(n_networks: int, width: int, itemsize: int, *, with_test: bool) -> int:
    """Working memory of one block of ``n_networks x n_networks`` pairs, in bytes.

    Parameters
    ----------
    n_networks : int
        Networks per block (each side).
    width : int
        Widest network (after zero padding).
    itemsize : int
        Bytes per element (8 in float64).
    with_test : bool
        Held-out data too (singular vectors and a second product).

    Returns
    -------
    int
        The Gram block plus the stacked cross-products (and, with held-out
        data, the second product and the singular vectors).
    """
    per_pair = width * width * itemsize
    copies = 2 if not with_test else 6
    return int(math.ceil(copies * n_networks**2 * per_pair))


def __getattr__(name: str) -> Any:
    """The spelling of 0.1 ("prepare_centred_network"), for one release, with a FutureWarning."""
    renamed = {"prepare_centred_network": ("prepare_centered_network", prepare_centered_network)}
    return renamed_attribute(__name__, renamed, name)
