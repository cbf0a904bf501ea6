"""A fitted ridge encoding model: alphas chosen per target, weights, predictions.

The computation behind :class:`skrep.EncodingRegression`, on validated
arrays: choose each target's alpha by (leave-one-out) cross-validation with
the solvers of :mod:`skrep.functional.ridge`, fit the weights, predict.

Features and responses at extreme scales (around 1e300 or 1e-300, where
``X'X`` overflows or underflows) are divided by powers of two first, and the
alphas by the square of the features' factor: ridge on ``X / s`` with
``alpha / s**2`` is exactly ridge on ``X`` with ``alpha`` (weights scaled by
``s``, the same predictions and scores), so the model is that of the
unscaled problem. The scales are kept, and the public weights, intercepts
and predictions are given in the units of the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import array_api_compat
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import get_config
from sklearn.utils import Bunch

from .._array import (
    convert_like,
    get_namespace,
    is_out_of_core,
    is_torch_array,
    matrix_transpose,
    to_numpy,
)
from .._typing import Array
from .._validation import check_finite
from ._extreme_scales import divide_by, multiplied, unscaled
from ._ridge_factors import PREDICTION_RUN_BYTES
from ._ridge_targets import RidgeDesign, chunk_targets, fit_target_chunk, ridge_design

__all__ = [
    "fit_ridge_model",
    "ridge_model_predict",
    "ridge_model_coefficients",
    "target_chunks",
    "read_targets",
    "predicted_chunks",
]


def target_chunks(
    n_samples: int,
    n_targets: int,
    itemsize: int,
    *,
    target_chunk: int | None = None,
    out_of_core_bytes: float | None = None,
) -> list[slice]:
    """The column slices a ridge fit processes targets in.

    Parameters
    ----------
    n_samples : int
        Training samples.
    n_targets : int
        Targets (columns).
    itemsize : int
        Bytes per value in the computation's dtype.
    target_chunk : int or None, default=None
        Targets per chunk; None sizes chunks from scikit-learn's
        ``working_memory`` (``sklearn.set_config`` / ``config_context``).
    out_of_core_bytes : float or None, default=None
        The size of targets that are read on demand (a memmap or a dask
        array); chunks then also stay within half of it, so that a fit never
        holds more memory than the targets take on disk.

    Returns
    -------
    list of slice
        Consecutive slices covering ``range(n_targets)``.

    Examples
    --------
    >>> target_chunks(100, 10, 8, target_chunk=4)
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    """
    if target_chunk is None:
        budget = get_config()["working_memory"] * 2.0**20
        if out_of_core_bytes is not None:
            budget = min(budget, out_of_core_bytes / 2.0)
        target_chunk = chunk_targets(n_samples, n_targets, itemsize, budget)
    step = max(1, int(target_chunk))
    return [slice(i, min(i + step, n_targets)) for i in range(0, n_targets, step)]


def read_targets(Y: object, columns: slice, like: Array, name: str = "Y") -> Array:
    """A chunk of target columns in the namespace, device and dtype of ``like``, checked.

    Parameters
    ----------
    Y : 2-D array
        A numpy (memmaps included), torch or dask array of targets.
    columns : slice
        The columns to read.
    like : array
        An array of the computation (its namespace, device and dtype).
    name : str, default="Y"
        Name of the targets in messages.

    Returns
    -------
    array of shape (n_samples, n_columns)
        The chunk, checked to be finite (the error names its columns).
    """
    block = Y[:, columns]
    if not array_api_compat.is_array_api_obj(block) or array_api_compat.is_dask_array(block):
        block = np.asarray(block)  # a dask array computes here, chunk by chunk
    block = convert_like(block, like)
    block = get_namespace(block).astype(block, like.dtype, copy=False)
    check_finite(block, f"{name}[:, {columns.start}:{columns.stop}]")
    return block


def _fitted_chunks(
    design: RidgeDesign, Y: object, slices: list[slice], n_jobs: int | None
) -> Iterator[Bunch]:
    """The fit of every chunk, in order: here, or over joblib workers."""
    like = design.features

    def chunk(columns: slice) -> Array:
        return read_targets(Y, columns, like)

    on_host = not is_torch_array(like) or like.device.type == "cpu"
    if len(slices) == 1 or not on_host or effective_n_jobs(n_jobs) == 1:
        for columns in slices:
            yield fit_target_chunk(design, chunk(columns))
        return
    # joblib reads the chunks here as its workers ask for them (two per worker
    # in flight), and sends the design once per worker: loky memory-maps its
    # arrays, dask scatters it (the dataclass is weak-referenceable).
    yield from Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(fit_target_chunk)(design, chunk(columns)) for columns in slices
    )


def fit_ridge_model(
    X: Array,
    Y: Array,
    alphas: np.ndarray,
    *,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    scoring: str = "pearson",
    fit_intercept: bool = True,
    target_chunk: int | None = None,
    n_jobs: int | None = None,
) -> Bunch:
    """Choose each target's alpha by cross-validation and fit the ridge weights.

    The features are decomposed once (:func:`~skrep.functional.ridge.ridge_cv_scores`'s
    folds or leave-one-out's eigendecomposition, and the one the weights are
    solved with); the targets are then fitted in chunks of columns against
    those decompositions, each chunk read, converted and fitted on its own,
    so memory grows with the chunk and not with the number of targets.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated features, in the namespace, device and floating dtype of the
        computation.
    Y : array of shape (n_samples, n_targets)
        Responses: validated, in X's namespace and dtype; or read on demand
        (a numpy memmap or a dask array, checked chunk by chunk).
    alphas : ndarray of shape (n_alphas,)
        Positive candidate alphas (checked).
    splits : list of (train, test) index arrays or None, default=None
        Cross-validation folds; None for efficient leave-one-out.
    scoring : {"pearson", "r2", "neg_mse"}, default="pearson"
        How held-out predictions are scored to choose alpha.
    fit_intercept : bool, default=True
        Center features and responses on their means.
    target_chunk : int or None, default=None
        Targets per chunk (see :func:`target_chunks`).
    n_jobs : int or None, default=None
        Number of joblib workers the chunks are spread over (None: one, unless a
        ``joblib.parallel_config`` says otherwise; a dask backend runs them on
        its cluster). Computations on a GPU stay in this process.

    Returns
    -------
    Bunch
        ``alpha`` (n_targets,) and ``cv_scores`` (n_alphas, n_targets), in
        the units of the data; ``intercept`` (n_targets,), also in those units;
        and the state :func:`ridge_model_predict` reads: ``x_scale`` and
        ``y_scale`` (the powers of two the data were divided by: 1.0 for data
        in range; an array of one per target when chunks differ), ``mean_x``
        (or None) and ``mean_y`` of the rescaled data, ``coef`` (primal
        weights of the rescaled problem, or None in the kernel form),
        ``dual_coef`` and ``features`` (the centered, rescaled training
        features, in the kernel form; else None).
    """
    design = ridge_design(
        X,
        alphas,
        splits=splits,
        scoring=scoring,
        fit_intercept=fit_intercept,
        run_bytes=PREDICTION_RUN_BYTES,
    )
    n, t = Y.shape
    itemsize = np.dtype(to_numpy(X[:1, :1]).dtype).itemsize
    out_of_core = float(np.prod(Y.shape)) * Y.dtype.itemsize if is_out_of_core(Y) else None
    slices = target_chunks(n, t, itemsize, target_chunk=target_chunk, out_of_core_bytes=out_of_core)
    if out_of_core is not None:
        # Stacked predictions of a run of alphas: no more than a chunk's share.
        design.run_bytes = int(min(PREDICTION_RUN_BYTES, out_of_core / 8.0))
    chunks = _fitted_chunks(design, Y, slices, n_jobs)
    if len(slices) == 1:
        fitted = next(chunks)
    else:
        fitted = _assembled(design, chunks, slices, t)
    return Bunch(
        alpha=fitted.alpha,
        cv_scores=fitted.cv_scores,
        intercept=fitted.intercept,
        x_scale=design.x_scale,
        y_scale=fitted.y_scale,
        mean_x=design.mean_x,
        mean_y=fitted.mean_y,
        coef=fitted.coef,
        dual_coef=fitted.dual_coef,
        features=design.features if design.kernel_form else None,
    )


def _assembled(
    design: RidgeDesign, chunks: Iterator[Bunch], slices: list[slice], n_targets: int
) -> Bunch:
    """The chunks' fits written into arrays over all targets."""
    xp = get_namespace(design.features)
    dtype, device = design.features.dtype, array_api_compat.device(design.features)
    rows = design.features.shape[0] if design.kernel_form else design.features.shape[1]
    weights = xp.empty((rows, n_targets), dtype=dtype, device=device)
    intercept = xp.empty((n_targets,), dtype=dtype, device=device)
    mean_y = xp.empty((n_targets,), dtype=dtype, device=device)
    cv_scores = np.empty((design.alphas.size, n_targets))
    alpha, y_scale = np.empty(n_targets), np.empty(n_targets)
    for columns, part in zip(slices, chunks, strict=True):
        weights[:, columns] = part.dual_coef if design.kernel_form else part.coef
        intercept[columns], mean_y[columns] = part.intercept, part.mean_y
        cv_scores[:, columns], alpha[columns] = part.cv_scores, part.alpha
        y_scale[columns] = part.y_scale
    same_scale = bool(np.all(y_scale == y_scale[0]))
    return Bunch(
        alpha=alpha,
        cv_scores=cv_scores,
        intercept=intercept,
        y_scale=float(y_scale[0]) if same_scale else y_scale,
        mean_y=mean_y,
        coef=None if design.kernel_form else weights,
        dual_coef=weights if design.kernel_form else None,
    )


def _target_scaled(A: Array, y_scale: float | np.ndarray, targets: slice) -> Array:
    """``A`` (targets in its last axis) times each target's power-of-two scale."""
    if np.ndim(y_scale) == 0:
        return multiplied(A, float(y_scale))
    xp = get_namespace(A)
    factors = xp.asarray(
        np.asarray(y_scale)[targets], dtype=A.dtype, device=array_api_compat.device(A)
    )
    with np.errstate(over="ignore", under="ignore"):
        return A * factors


def _prediction_factor(model: Bunch, X: Array) -> tuple[Array, Array]:
    """``(left, weights)`` with predictions ``left @ weights + mean_y`` (rescaled units)."""
    xp = get_namespace(X)
    X = divide_by(X, model.x_scale)
    if model.mean_x is not None:
        X = X - model.mean_x
    if model.dual_coef is not None:
        return X @ matrix_transpose(model.features, xp), model.dual_coef
    return X, model.coef


def ridge_model_predict(
    model: Bunch, X: Array, *, rescaled: bool = False, targets: slice | None = None
) -> Array:
    """Predictions of a model from :func:`fit_ridge_model`.

    Parameters
    ----------
    model : Bunch
        The fitted model.
    X : array of shape (n_samples, n_features)
        Features in the units of the training features, in the model's
        namespace, device and dtype.
    rescaled : bool, default=False
        Return the predictions divided by ``model.y_scale`` (the units the
        model computes in; scale-invariant scores read them so that responses
        around 1e300 stay in range).
    targets : slice or None, default=None
        Predict only these targets (columns); None predicts all.

    Returns
    -------
    array of shape (n_samples, n_targets)
        The predicted responses.
    """
    targets = slice(None) if targets is None else targets
    return next(predicted_chunks(model, X, [targets], rescaled=rescaled))


def predicted_chunks(
    model: Bunch, X: Array, slices: Sequence[slice], *, rescaled: bool = False
) -> Iterator[Array]:
    """Predictions of a model from :func:`fit_ridge_model`, one chunk of targets at a time.

    The features' side of the prediction (in the kernel form, their kernel
    with the training features) is computed once for all chunks.

    Parameters
    ----------
    model : Bunch
        The fitted model.
    X : array of shape (n_samples, n_features)
        Features in the units of the training features, in the model's
        namespace, device and dtype.
    slices : sequence of slice
        The chunks of targets (columns).
    rescaled : bool, default=False
        Predictions divided by ``model.y_scale`` (see :func:`ridge_model_predict`).

    Yields
    ------
    array of shape (n_samples, n_chunk_targets)
        The predictions of each chunk, in order.
    """
    left, weights = _prediction_factor(model, X)
    for targets in slices:
        prediction = left @ weights[:, targets] + model.mean_y[targets]
        yield prediction if rescaled else _target_scaled(prediction, model.y_scale, targets)


def ridge_model_coefficients(model: Bunch, *, dual: bool = False) -> Array:
    """The ridge weights of a model from :func:`fit_ridge_model`, in the units of the data.

    Parameters
    ----------
    model : Bunch
        The fitted model.
    dual : bool, default=False
        Return the dual weights ``(XX' + alpha I)^-1 Y`` (None outside the
        kernel form) instead of the primal weights.

    Returns
    -------
    array or None
        Primal weights of shape (n_features, n_targets), or dual weights of
        shape (n_samples, n_targets). Formed from the rescaled problem's
        weights by powers of two; weights of data at extreme scales can
        themselves exceed the float range (then inf).
    """
    every = slice(None)
    if dual:
        if model.dual_coef is None:
            return None
        dual_coef = _target_scaled(model.dual_coef, model.y_scale, every)
        return unscaled(dual_coef, model.x_scale, model.x_scale)
    coef = model.coef
    if coef is None:
        xp = get_namespace(model.features)
        coef = matrix_transpose(model.features, xp) @ model.dual_coef
    return unscaled(_target_scaled(coef, model.y_scale, every), model.x_scale)
