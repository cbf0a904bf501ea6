"""Representational dissimilarity matrices (RDMs), as rsatoolbox computes them.

An RDM holds the dissimilarity of the response patterns to every pair of
conditions (stimuli). RDMs are returned condensed by default: the upper
triangle, row by row, as :func:`scipy.spatial.distance.squareform` orders it
(rsatoolbox's order too), or square with ``square=True``.

Methods (``x_i`` is the mean pattern of condition i over its observations):

- ``"correlation"``: ``1 - Pearson r`` of the patterns (centered across channels);
- ``"cosine"``: ``1 - cosine similarity``;
- ``"euclidean"``: ``|x_i - x_j|``;
- ``"sqeuclidean"``: ``|x_i - x_j|^2``;
- ``"mahalanobis"``: ``(x_i - x_j) P (x_i - x_j)'`` for a noise precision P;
- ``"crossnobis"``: the cross-validated Mahalanobis distance: for each run r,
  ``(a_i - a_j) P (b_i - b_j)'`` with ``a`` the condition means of the other runs
  and ``b`` those of run r, averaged over runs; unbiased, so it can be negative.

As in rsatoolbox, the squared distances (sqeuclidean, mahalanobis,
crossnobis) are divided by the number of channels (``per_channel=None``);
rsatoolbox's "euclidean" is this package's ``"sqeuclidean"``.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._array import get_namespace, is_torch_array, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_finite
from ..exceptions import InvalidParameterError
from ._duplicate_patterns import distinct_patterns
from ._rdm_autograd import detached, graph_precision, needs_graph, rdm_surrogate, with_gradient
from ._rdm_input import (
    check_positive_distances,
    check_square_rdms,
    checked_precision,
    host_max,
    numpy_float,
    power_of_two_scales,
    real_array,
    refuse_unsupported,
    rescaled_distances,
    times_per_dataset,
)
from ._rdm_pairs import (
    condition_means,
    crossnobis,
    n_conditions_of,
    pairwise,
    upper_triangle,
)

__all__ = ["compute_rdm", "condensed_to_square", "square_to_condensed"]

RDM_METHODS = ("correlation", "cosine", "euclidean", "sqeuclidean", "mahalanobis", "crossnobis")
_SQUARED = ("sqeuclidean", "mahalanobis", "crossnobis")
#: The methods that need nothing but the patterns (no runs, no noise precision).
PATTERN_RDM_METHODS = ("correlation", "cosine", "euclidean", "sqeuclidean")


def check_pattern_rdm_method(method: object, owner: str) -> None:
    """Raise unless ``method`` is an RDM method that needs only the patterns.

    Parameters
    ----------
    method : object
        The value of an estimator's ``rdm_method`` parameter.
    owner : str
        The estimator that received it, for the message.
    """
    if not (isinstance(method, str) and method in PATTERN_RDM_METHODS):
        raise InvalidParameterError(
            f"The 'rdm_method' parameter of {owner} must be one of {list(PATTERN_RDM_METHODS)}; "
            f"got {method!r}. For Mahalanobis or crossnobis RDMs (which need runs and a noise "
            "precision), compute them with skrep.functional.compute_rdm."
        )


def square_to_condensed(rdms: ArrayLike) -> Array:
    """Upper triangles (row by row, diagonal excluded) of square RDMs.

    Parameters
    ----------
    rdms : array-like or torch.Tensor of shape (..., n_conditions, n_conditions)
        Square RDMs: finite, symmetric, zero on the diagonal (up to rounding:
        ``sqrt(eps)`` of each RDM's largest entry), since what is dropped must
        be what the triangle says.

    Returns
    -------
    array of shape (..., n_conditions * (n_conditions - 1) / 2)
        In the input's namespace; float64 for integer or boolean input,
        float32 for float16.
    """
    rdms = real_array(rdms, "rdms", "square RDMs of shape (..., n_conditions, n_conditions)")
    if rdms.ndim < 2 or rdms.shape[-1] != rdms.shape[-2]:
        raise ValueError(
            f"rdms has shape {_shape_str(rdms.shape)}; expected square RDMs of shape "
            "(..., n_conditions, n_conditions)."
        )
    check_square_rdms(rdms, "rdms")
    return upper_triangle(rdms)


def condensed_to_square(vectors: ArrayLike) -> Array:
    """Square, symmetric, zero-diagonal RDMs from condensed ones.

    Parameters
    ----------
    vectors : array-like or torch.Tensor of shape (..., n_pairs)
        Condensed RDMs (upper triangle, row by row), finite.

    Returns
    -------
    array of shape (..., n_conditions, n_conditions)
        In the input's namespace; float64 for integer or boolean input,
        float32 for float16.
    """
    vectors = real_array(vectors, "vectors", "condensed RDMs of shape (..., n_pairs)")
    if vectors.ndim < 1:
        raise ValueError("vectors is a scalar; expected condensed RDMs of shape (..., n_pairs).")
    check_finite(vectors, "vectors")
    xp = get_namespace(vectors)
    n_pairs = vectors.shape[-1]
    n = n_conditions_of(n_pairs)
    if n is None or n < 2:
        raise ValueError(
            f"vectors has shape {_shape_str(vectors.shape)}, but a condensed RDM has "
            f"n (n - 1) / 2 entries for n >= 2 conditions (1, 3, 6, 10, ...); {n_pairs} is not "
            "such a number."
        )
    rows, columns = np.triu_indices(n, 1)
    batch = vectors.shape[:-1]
    square = xp.zeros((*batch, n * n), dtype=vectors.dtype, device=array_api_compat.device(vectors))
    if isinstance(square, np.ndarray):
        square[..., rows * n + columns] = vectors
        square[..., columns * n + rows] = vectors
        return square.reshape(*batch, n, n)
    index_upper = xp.asarray(rows * n + columns, device=array_api_compat.device(vectors))
    index_lower = xp.asarray(columns * n + rows, device=array_api_compat.device(vectors))
    square[..., index_upper] = vectors
    square[..., index_lower] = vectors
    return xp.reshape(square, (*batch, n, n))


def _check_method(method: object, per_channel: object) -> None:
    if not (isinstance(method, str) and method in RDM_METHODS):
        raise InvalidParameterError(
            f"The 'method' parameter of compute_rdm must be one of {list(RDM_METHODS)}; "
            f"got {method!r}."
        )
    if per_channel is not None and not isinstance(per_channel, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'per_channel' parameter of compute_rdm must be None, True or False; got "
            f"{per_channel!r}."
        )


def _as_batch(X: ArrayLike) -> tuple[Array, bool]:
    """(n_datasets, n_observations, n_channels) float array, and whether X was 2-D."""
    X = real_array(
        X,
        "X",
        "a numeric array of shape (n_observations, n_channels) or (n_datasets, "
        "n_observations, n_channels)",
    )
    if X.ndim not in (2, 3):
        raise ValueError(
            f"X must have shape (n_observations, n_channels) or (n_datasets, "
            f"n_observations, n_channels); got a {X.ndim}-D array of shape "
            f"{_shape_str(X.shape)}."
        )
    if X.shape[-1] < 1:
        raise ValueError(
            f"X has 0 channels (shape {_shape_str(X.shape)}); expected at least one column "
            "(unit, voxel) to compare the patterns on."
        )
    check_finite(X, "X")
    return (X[None, ...] if X.ndim == 2 else X), X.ndim == 2


def _labels(labels: ArrayLike | None, n: int, name: str) -> np.ndarray | None:
    if labels is None:
        return None
    refuse_unsupported(labels, name, f"one label per observation, shape ({n},)")
    labels = np.asarray(to_numpy(labels) if hasattr(labels, "__dlpack__") else labels)
    if labels.shape != (n,):
        raise ValueError(
            f"{name} must have one label per observation, shape ({n},); got shape "
            f"{_shape_str(labels.shape)}."
        )
    if labels.dtype.kind == "f" and np.any(np.isnan(labels)):
        raise ValueError(
            f"{name} contains {int(np.sum(np.isnan(labels)))} NaN label(s); expected a label "
            "for every observation."
        )
    return labels


def compute_rdm(
    X: ArrayLike,
    method: str = "correlation",
    *,
    conditions: ArrayLike | None = None,
    runs: ArrayLike | None = None,
    precision: ArrayLike | None = None,
    per_channel: bool | None = None,
    square: bool = False,
) -> Array:
    """RDMs of response patterns, one per data set, as rsatoolbox's ``calc_rdm``.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape ([n_datasets,] n_observations, n_channels)
        Responses: one row per observation (a stimulus presentation), one
        column per channel (unit, voxel). A 3-D array gives one RDM per data
        set (e.g. per subject), computed together. float64 and float32 are
        computed in their own precision, float16 in float32, integers and
        booleans in float64.
    method : str, default="correlation"
        One of "correlation", "cosine", "euclidean", "sqeuclidean",
        "mahalanobis", "crossnobis" (see the module notes).
    conditions : array-like of shape (n_observations,), default=None
        Condition label of each observation; patterns are averaged per
        condition (conditions in sorted order). None: each row is a condition.
    runs : array-like of shape (n_observations,), default=None
        Run (or session) of each observation; required by "crossnobis", which
        leaves one run out at a time.
    precision : array of shape ([n_datasets,] n_channels, n_channels), default=None
        Noise precision (inverse noise covariance) for "mahalanobis" and
        "crossnobis" (only); None is the identity. Symmetric positive
        semi-definite: from the residuals with
        :func:`skrep.functional.noise_precision` (rsatoolbox's estimators), or
        the inverse of a :mod:`sklearn.covariance` fit.
    per_channel : bool, default=None
        Divide by the number of channels; None does so for the squared
        distances, as rsatoolbox does.
    square : bool, default=False
        Return square matrices instead of condensed vectors.

    Returns
    -------
    array of shape (n_pairs,) or (n_datasets, n_pairs)
        Condensed RDMs (``n_pairs = n_conditions (n_conditions - 1) / 2``), or
        square ones with ``square=True``; in X's namespace, dtype and device.
        For a torch X (or a torch ``precision``, with torch X) that requires
        grad, the RDMs carry gradients: the values are those computed without
        grad (bit for bit), the gradient that of the same distances computed
        pattern by pattern (:mod:`._rdm_autograd`). It is finite everywhere
        the value is defined: between identical patterns the euclidean
        distance's square root, whose derivative is infinite at 0, is
        continued linearly below ``eps`` times the largest squared distance
        (the subgradient 0 there, as central differences see it).

    Raises
    ------
    ValueError
        Among others: a correlation or cosine distance of a constant pattern
        (undefined), a precision that is not symmetric or has a negative
        diagonal (or, for "mahalanobis", gives a negative squared distance),
        and distances that overflow or underflow X's floating type (data at
        1e+-300 is fine for the correlation and cosine distances, which do not
        depend on scale).
    """
    _check_method(method, per_channel)
    X, single = _as_batch(X)
    n_observations = X.shape[1]
    conditions = _labels(conditions, n_observations, "conditions")
    runs = _labels(runs, n_observations, "runs")
    order = None if conditions is None else np.unique(conditions)
    n_conditions = n_observations if order is None else order.size
    if n_conditions < 2:
        raise ValueError(
            f"An RDM needs at least 2 conditions; X has {n_conditions} (shape "
            f"{_shape_str(X.shape)})."
        )
    if precision is not None and method not in ("mahalanobis", "crossnobis"):
        raise ValueError(
            f"precision is used by method='mahalanobis' and 'crossnobis' only; got "
            f"method={method!r}. Leave precision=None, or choose one of those methods."
        )
    if method == "crossnobis" and runs is None:
        raise ValueError(
            "method='crossnobis' needs runs: the run of each observation, so that "
            "each run's condition means can be compared with those of the others."
        )
    divide = bool(per_channel or (per_channel is None and method in _SQUARED))
    # A tensor that requires grad: the value without a graph, the gradient a surrogate's.
    graph = is_torch_array(X) and needs_graph(X, precision)
    values = X.detach() if graph else X
    P, p_scales = (
        (None, np.ones(1))
        if precision is None
        else checked_precision(detached(precision), values, single)
    )
    rdm = _distances(values, method, conditions, order, runs, P, p_scales, divide)
    if graph:
        P = graph_precision(precision, P, p_scales)
        surrogate = rdm_surrogate(X, method, conditions, order, runs, P, p_scales, divide)
        rdm = with_gradient(rdm, surrogate)
    if square:
        rdm = condensed_to_square(rdm)
    return rdm[0, ...] if single else rdm


def _distances(
    X: Array,
    method: str,
    conditions: np.ndarray | None,
    order: np.ndarray | None,
    runs: np.ndarray | None,
    P: Array | None,
    p_scales: np.ndarray,
    divide: bool,
) -> Array:
    """The condensed RDMs of validated (n_datasets, n_observations, n_channels) X (the value)."""
    xp = get_namespace(X)
    n_channels = X.shape[-1]
    if method in ("correlation", "cosine"):
        patterns, expand = distinct_patterns(condition_means(X, conditions, order, xp))
        rdm = _angular(patterns, method)
        if expand is not None:
            rdm = expand(rdm)
        return rdm / n_channels if divide else rdm
    # Exact rescaling by powers of two (see _rdm_input): squares of data at
    # 1e+-200 would overflow or underflow, their distances need not.
    x_scales = power_of_two_scales(host_max(X, 2), numpy_float(X))
    if not np.all(x_scales == 1.0):
        X = times_per_dataset(X, x_scales)
    if method == "crossnobis":
        rdm = crossnobis(X, conditions, order, runs, P, xp)
    else:
        patterns, expand = distinct_patterns(condition_means(X, conditions, order, xp))
        rdm = pairwise(patterns, patterns, P, xp)
        if method == "mahalanobis":
            check_positive_distances(rdm)
        rdm = xp.clip(rdm, min=0.0)
        if method == "euclidean":
            rdm = xp.sqrt(rdm)
        if expand is not None:
            rdm = expand(rdm)
    if divide:
        rdm = rdm / n_channels
    power = 1 if method == "euclidean" else 2
    return rescaled_distances(rdm, [1.0 / x_scales] * power + [1.0 / p_scales], method)


def _angular(patterns: Array, method: str) -> Array:
    """Correlation or cosine distances of (n_datasets, n_conditions, n_channels) patterns."""
    xp = get_namespace(patterns)
    if method == "correlation" and patterns.shape[-1] < 2:
        raise ValueError(
            f"method='correlation' needs at least 2 channels (1 - Pearson r of one value per "
            f"pattern is undefined); X has {patterns.shape[-1]}."
        )
    largest = host_max(patterns, 1)
    if method == "correlation":
        constant = to_numpy(xp.max(patterns, axis=-1) == xp.min(patterns, axis=-1))
    else:
        constant = largest == 0.0
    flat = np.flatnonzero(np.asarray(constant).ravel())
    if flat.size:
        raise ValueError(
            f"Condition {int(flat[0] % patterns.shape[1])} has a constant pattern in X "
            f"({'all its values equal' if method == 'correlation' else 'all zero'}), so its "
            f"{method} distance is undefined; expected patterns that vary across channels."
        )
    # Scale-free distances: patterns far from unit scale are brought to it
    # (exactly), so that their sums of squares neither overflow nor underflow.
    scales = power_of_two_scales(largest, numpy_float(patterns))
    if not np.all(scales == 1.0):
        patterns = patterns * xp.asarray(
            scales[..., None], dtype=patterns.dtype, device=array_api_compat.device(patterns)
        )
    if method == "correlation":
        patterns = patterns - xp.mean(patterns, axis=-1, keepdims=True)
    norms = xp.sqrt(xp.sum(patterns * patterns, axis=-1, keepdims=True))
    unit = patterns / norms
    return xp.clip(1.0 - upper_triangle(unit @ matrix_transpose(unit, xp)), min=0.0, max=2.0)
