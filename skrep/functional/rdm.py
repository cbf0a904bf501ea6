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

from .._array import get_namespace, is_torch_array, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_finite
from ..exceptions import InvalidParameterError
from ._rdm_autograd import detached, graph_precision, needs_graph, rdm_surrogate, with_gradient
from ._rdm_blocks import rdm_values
from ._rdm_input import check_square_rdms, checked_precision, real_array, refuse_unsupported
from ._rdm_pairs import n_conditions_of, upper_triangle

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


def condition_labels(
    conditions: ArrayLike | None,
    runs: ArrayLike | None,
    n_observations: int,
    name: str,
    shape: tuple[int, ...],
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, int]:
    """Checked condition and run labels of the observations, the conditions in order.

    Returns ``(conditions, runs, order, n_conditions)``: ``order`` is the
    sorted distinct conditions (None without labels: each observation is its
    own condition). Raises if there are fewer than two conditions, naming
    ``name`` (the data argument) and its ``shape``.
    """
    conditions = _labels(conditions, n_observations, "conditions")
    runs = _labels(runs, n_observations, "runs")
    order = None if conditions is None else np.unique(conditions)
    n_conditions = n_observations if order is None else order.size
    if n_conditions < 2:
        raise ValueError(
            f"An RDM needs at least 2 conditions; {name} has {n_conditions} (shape "
            f"{_shape_str(shape)})."
        )
    return conditions, runs, order, n_conditions


def compute_rdm(
    X: ArrayLike,
    method: str = "correlation",
    *,
    conditions: ArrayLike | None = None,
    runs: ArrayLike | None = None,
    precision: ArrayLike | None = None,
    per_channel: bool | None = None,
    square: bool = False,
    out: Array | None = None,
) -> Array:
    """RDMs of response patterns, one per data set, as rsatoolbox's ``calc_rdm``.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape ([n_datasets,] n_observations, n_channels)
        Responses: one row per observation (a stimulus presentation), one
        column per channel (unit, voxel). A 3-D array gives one RDM per data
        set (e.g. per subject, or per time point: MEG/EEG epochs of shape
        (n_trials, n_channels, n_times) as ``np.moveaxis(epochs, -1, 0)``, an
        RDM movie as rsatoolbox's ``calc_rdm_movie``), computed together.
        float64 and float32 are
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
        "crossnobis" (only); None is the identity. A 3-D X takes one
        precision for all its data sets or one per data set (per time point:
        :func:`skrep.functional.noise_precision_stack`). Symmetric positive
        semi-definite: from the residuals with
        :func:`skrep.functional.noise_precision` (rsatoolbox's estimators), or
        the inverse of a :mod:`sklearn.covariance` fit.
    per_channel : bool, default=None
        Divide by the number of channels; None does so for the squared
        distances, as rsatoolbox does.
    square : bool, default=False
        Return square matrices instead of condensed vectors.
    out : array of shape (n_pairs,) or (n_datasets, n_pairs), default=None
        Where to write the condensed RDMs, e.g. a :class:`numpy.memmap` for
        RDMs larger than memory: the shape compute_rdm returns, its dtype
        (float64, or float32 for float32 and float16 X), in X's namespace
        (a numpy array for numpy X, a tensor on X's device for torch X),
        writeable and not overlapping X. It is filled and returned. Not with
        ``square=True``, nor for tensors that require grad. On an error its
        contents are undefined.

    Returns
    -------
    array of shape (n_pairs,) or (n_datasets, n_pairs)
        Condensed RDMs (``n_pairs = n_conditions (n_conditions - 1) / 2``), or
        square ones with ``square=True``; in X's namespace, dtype and device.
        They are computed block by block (:mod:`._rdm_blocks`): a block of
        rows against all later rows as one matrix product, its upper triangle
        copied into the output, so that the n x n matrix is never formed and
        the memory beyond the output stays under the output's size. The
        blocks follow ``sklearn.get_config()["working_memory"]`` (as
        :func:`sklearn.metrics.pairwise_distances_chunked`), capped at a
        quarter of the output.
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
    conditions, runs, order, n_conditions = condition_labels(
        conditions, runs, n_observations, "X", X.shape
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
    target = None
    if out is not None:
        shape = (n_conditions * (n_conditions - 1) // 2,)
        target = _check_out(out, values, shape if single else (X.shape[0], *shape), square, graph)
    rdm = rdm_values(values, method, conditions, order, runs, P, p_scales, divide, target)
    if out is not None:
        return out
    if graph:
        P = graph_precision(precision, P, p_scales)
        surrogate = rdm_surrogate(X, method, conditions, order, runs, P, p_scales, divide)
        rdm = with_gradient(rdm, surrogate)
    if square:
        rdm = condensed_to_square(rdm)
    return rdm[0, ...] if single else rdm


def _check_out(out: object, X: Array, shape: tuple[int, ...], square: bool, graph: bool) -> Array:
    """``out`` as a (n_datasets, n_pairs) view, after checking it can hold compute_rdm's result.

    Parameters
    ----------
    out : object
        The ``out`` argument of compute_rdm (not None).
    X : array of shape (n_datasets, n_observations, n_channels)
        The validated responses: their namespace, dtype and device are the result's.
    shape : tuple of int
        The shape compute_rdm returns (condensed).
    square : bool
        compute_rdm's ``square``.
    graph : bool
        Whether the result carries gradients.

    Returns
    -------
    array of shape (n_datasets, n_pairs)
        A view of ``out`` (``out[None]`` for one data set).
    """
    if square:
        raise ValueError(
            "out is for condensed RDMs, but square=True was passed; leave out=None for square "
            "RDMs (they are n x n: twice the memory of the condensed ones, which is what out "
            "is for), or drop square=True and convert pieces with condensed_to_square."
        )
    if graph:
        raise ValueError(
            "out cannot hold RDMs that carry gradients (X or precision is a tensor that "
            "requires grad); leave out=None, or compute under torch.no_grad()."
        )
    if is_torch_array(X):
        if not is_torch_array(out) or out.device != X.device:
            raise TypeError(
                f"out must be a torch tensor on X's device ({X.device}) for torch X; got "
                f"{type(out).__name__}{' on ' + str(out.device) if is_torch_array(out) else ''}."
            )
        if out.requires_grad:
            raise ValueError("out requires grad; pass a tensor that does not (out.detach()).")
    elif not isinstance(X, np.ndarray):
        raise TypeError(
            f"out is for numpy and torch X (arrays that take assignments); X is a "
            f"{type(X).__name__}. Leave out=None."
        )
    elif not isinstance(out, np.ndarray):
        raise TypeError(
            f"out must be a numpy array (e.g. a numpy.memmap) for numpy X; got "
            f"{type(out).__name__}."
        )
    if tuple(out.shape) != tuple(shape):
        raise ValueError(
            f"out has shape {_shape_str(out.shape)}; expected {_shape_str(shape)}, the "
            "condensed RDM(s) compute_rdm returns for this X and conditions."
        )
    if out.dtype != X.dtype:
        raise TypeError(
            f"out has dtype {out.dtype}; expected {X.dtype}, the dtype compute_rdm computes "
            "X in (float64 for float64, integer and boolean X; float32 for float32 and float16)."
        )
    if isinstance(out, np.ndarray):
        if not out.flags.writeable:
            raise ValueError("out is read-only; expected a writeable array.")
        if np.may_share_memory(out, X):
            raise ValueError("out shares memory with X; expected a separate array.")
    return out[None, ...] if len(shape) == 1 else out
