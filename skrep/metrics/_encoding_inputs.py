"""Parameter and input checks of the encoding models (:mod:`skrep.metrics.encoding`)."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import check_cv

from .._array import is_foreign_array, to_numpy
from .._typing import Array, ArrayLike, RandomState
from .._validation import check_device
from ..exceptions import InvalidParameterError
from ..functional.rdm_compare import UndefinedComparisonError, compare_rdms
from ..functional.ridge import check_scoring

if TYPE_CHECKING:
    from sklearn.random_projection import SparseRandomProjection

    from .encoding import EncodingRegression

__all__ = [
    "check_ridge_parameters",
    "check_encoding_parameters",
    "as_columns",
    "check_out_of_core_targets",
    "fitted_projection",
    "cv_splits",
    "compared_rdms",
]


def check_ridge_parameters(estimator: object) -> np.ndarray:
    """Check the parameters every ridge encoding model has; return its alphas as float64.

    Parameters
    ----------
    estimator : EncodingRegression or BandedEncodingRegression
        The estimator whose ``alphas``, ``scoring``, ``fit_intercept`` and, where it
        has them, ``target_chunk`` and ``n_jobs`` are checked.

    Returns
    -------
    ndarray of shape (n_alphas,)
        The alphas.
    """
    name = type(estimator).__name__
    try:
        alphas = np.asarray(estimator.alphas, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        alphas = np.empty(0)
    if (
        np.ndim(estimator.alphas) != 1
        or alphas.size == 0
        or not np.all(np.isfinite(alphas))
        or np.any(alphas <= 0)
    ):
        raise InvalidParameterError(
            f"The 'alphas' parameter of {name} must be a non-empty sequence of positive "
            f"numbers; got {estimator.alphas!r}."
        )
    check_scoring(estimator.scoring, name)
    if not isinstance(estimator.fit_intercept, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'fit_intercept' parameter of {name} must be True or False; got "
            f"{estimator.fit_intercept!r}."
        )
    for parameter, least in (("target_chunk", 1), ("n_jobs", None)):
        value = getattr(estimator, parameter, None)
        if value is None:
            continue
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if not integral or (least is not None and value < least) or value == 0:
            expected = "an int >= 1" if least else "a nonzero int (-1 for all CPUs)"
            raise InvalidParameterError(
                f"The {parameter!r} parameter of {name} must be None or {expected}; got {value!r}."
            )
    return alphas


def check_encoding_parameters(estimator: EncodingRegression) -> np.ndarray:
    """Check an encoding model's parameters; return its alphas as a float64 array.

    Parameters
    ----------
    estimator : EncodingRegression
        The estimator whose parameters (those of :func:`check_ridge_parameters`,
        random_projection, device) are checked.

    Returns
    -------
    ndarray of shape (n_alphas,)
        The alphas.
    """
    alphas = check_ridge_parameters(estimator)
    name = type(estimator).__name__
    rp = estimator.random_projection
    if not (
        rp is None
        or rp == "auto"
        or (isinstance(rp, numbers.Integral) and not isinstance(rp, bool) and rp >= 1)
    ):
        raise InvalidParameterError(
            f"The 'random_projection' parameter of {name} must be None, 'auto' or an int "
            f">= 1; got {rp!r}."
        )
    check_device(estimator.device, name)
    return alphas


def as_columns(Y: ArrayLike) -> tuple[ArrayLike, bool]:
    """Responses as (n_stimuli, n_targets), and whether they came as one 1-D target.

    Parameters
    ----------
    Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
        Responses, not yet validated.

    Returns
    -------
    Y : array-like
        A 1-D Y as one column (lists become numpy arrays; masked arrays keep
        their mask, for the validation to refuse them); anything else unchanged.
    one_target : bool
        Whether Y was 1-D.
    """
    if getattr(Y, "ndim", None) is None:  # lists, and array-likes without ndim
        try:
            Y = np.asarray(Y)
        except ValueError:  # ragged lists: the validation names them
            return Y, False
    one_target = Y.ndim == 1
    if one_target:
        keep = is_foreign_array(Y) or isinstance(Y, np.ma.MaskedArray)
        Y = (Y if keep else np.asarray(Y))[:, None]
    return Y, one_target


def check_out_of_core_targets(Y: object, name: str, *, min_samples: int) -> object:
    """Check the shape and dtype of targets read on demand (a memmap or a dask array).

    Their values are checked chunk by chunk as the fit reads them (see
    :func:`skrep.functional.ridge_model.read_targets`); nothing is loaded here.

    Parameters
    ----------
    Y : numpy.memmap or dask array of shape (n_stimuli, n_targets) or (n_stimuli,)
        The targets.
    name : str
        Argument name used in messages.
    min_samples : int
        Fewest rows accepted.

    Returns
    -------
    numpy.memmap or dask array of shape (n_stimuli, n_targets)
        ``Y``, a 1-D one as a column (a view; nothing is read).
    """
    shape = tuple(Y.shape)
    if any(not np.isfinite(size) for size in shape):
        raise ValueError(
            f"{name} is a dask array of unknown shape {shape}; expected known chunk sizes "
            f"(call {name}.compute_chunk_sizes() first)."
        )
    dtype = np.dtype(Y.dtype)
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_) or np.issubdtype(
        dtype, np.complexfloating
    ):
        raise ValueError(f"{name} has dtype {dtype}; expected real numbers (float, int or bool).")
    if len(shape) == 1:
        Y, shape = Y[:, None], (shape[0], 1)
    if len(shape) != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_stimuli, n_targets); got a "
            f"{len(shape)}-D array of shape {shape}."
        )
    if shape[0] < min_samples or shape[1] < 1:
        raise ValueError(
            f"{name} has shape {shape}; expected at least {min_samples} stimuli (rows) and "
            "one target (column)."
        )
    return Y


def fitted_projection(
    X: Array, random_projection: str | int | None, random_state: RandomState
) -> SparseRandomProjection | None:
    """The sparse random projection of the features an encoding model asks for, fitted on X.

    Parameters
    ----------
    X : array of shape (n_stimuli, n_features)
        Validated training features.
    random_projection : None, "auto" or int
        The estimator's parameter: "auto" projects to the Johnson-Lindenstrauss
        dimension of the number of stimuli (eps=0.1).
    random_state : int, RandomState or None
        Seed of the projection.

    Returns
    -------
    SparseRandomProjection or None
        None when no projection is asked for, or when it would not reduce the
        number of features.
    """
    from sklearn.random_projection import SparseRandomProjection, johnson_lindenstrauss_min_dim

    n, p = X.shape
    target_dim = random_projection
    if target_dim == "auto":
        target_dim = int(johnson_lindenstrauss_min_dim(n, eps=0.1))
    if target_dim is None or target_dim >= p:
        return None
    return SparseRandomProjection(n_components=target_dim, random_state=random_state).fit(
        to_numpy(X)
    )


def cv_splits(cv: object, X: Array, scoring: str) -> list | None:
    """The folds of an encoding model's ``cv``, checked to be scorable.

    Parameters
    ----------
    cv : None, int, splitter or iterable
        The estimator's parameter (None: efficient leave-one-out).
    X : array of shape (n_stimuli, n_features)
        The training features.
    scoring : str
        How held-out predictions are scored.

    Returns
    -------
    list of (train, test) or None
        The folds; None for leave-one-out.
    """
    if cv is None:
        return None
    splits = list(check_cv(cv).split(to_numpy(X)))
    smallest = min(len(test) for _, test in splits)
    if smallest < 2 and scoring != "neg_mse":
        raise ValueError(
            f"cv={cv!r} has test folds of {smallest} stimulus, on which the "
            f"{scoring!r} score is undefined; use cv=None (efficient "
            "leave-one-out, scored over all held-out predictions together) or "
            "scoring='neg_mse'."
        )
    return splits


def compared_rdms(
    predicted: np.ndarray, measured: np.ndarray, method: str, rdm_method: str
) -> float:
    """The comparison of an encoding model's predicted and measured RDMs, or a clear error.

    Parameters
    ----------
    predicted, measured : ndarray of shape (n_pairs,)
        Condensed RDMs of the predicted and of the measured responses.
    method : str
        The comparison (a method of :func:`skrep.functional.compare_rdms`).
    rdm_method : str
        How the RDMs were computed, for messages.

    Returns
    -------
    float
        The comparison.
    """
    try:
        return float(compare_rdms(predicted, measured, method)[0, 0])
    except UndefinedComparisonError as exc:
        predicted_is_flat = "rdms_a" in str(exc)
        which = "responses predicted from X" if predicted_is_flat else "measured Y"
        why = (
            " (the predictions are all equal when the alphas shrink the weights to zero)"
            if predicted_is_flat
            else ""
        )
        raise ValueError(
            f"The {rdm_method!r} RDM of the {which} does not vary across pairs of "
            f"stimuli{why}, so its {method!r} comparison is undefined; "
            f"expected responses that differ between stimuli. ({exc})"
        ) from exc
