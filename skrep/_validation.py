"""Input checks with messages that name the argument, what it got and what was expected."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.utils.validation import check_array

from ._array import (
    check_not_masked,
    convert_like,
    get_namespace,
    is_foreign_array,
    is_torch_array,
    to_numpy,
    zero_pad_columns,
)

# Parameter checks live in their own room; they are imported from here too.
from ._parameters import (  # noqa: F401
    check_alpha,
    check_bool,
    check_device,
    check_gaussian_alpha,
    check_positive_int,
    check_tolerance,
)
from ._typing import Array, ArrayLike
from ._validation_finite import check_finite
from ._validation_finite import shape_str as _shape_str

__all__ = [
    "check_representation",
    "check_real_array",
    "check_paired_samples",
    "check_n_features",
    "match_widths",
    "check_finite",
    "check_matrix",
    "check_matching_pair",
    "check_alpha",
]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _as_float_array_api(X: Array, name: str) -> Array:
    """Float dtype for torch tensors and other array-API arrays, left on their device."""
    if is_torch_array(X):
        import torch  # already imported: X is a tensor

        if X.layout != torch.strided:
            raise ValueError(
                f"Sparse data not supported: {name} is a torch tensor with layout "
                f"{X.layout}; expected a dense tensor (use {name}.to_dense())."
            )
        # Distances are reported as floats, not differentiated: drop the graph.
        X = X.detach()
    xp = get_namespace(X)
    if xp.isdtype(X.dtype, "complex floating"):
        raise ValueError(
            f"Complex data not supported: {name} has dtype {X.dtype}; expected real numbers."
        )
    if X.dtype not in (xp.float32, xp.float64):
        X = xp.astype(X, xp.float64)
    return X


_EXPECTED_2D = "a 2-D numeric array of shape (n_samples, n_features)"
_NON_NUMERIC_KINDS = {"U": "strings", "S": "bytes", "M": "datetimes", "m": "timedeltas"}


def _reject_non_numeric_dtypes(X: ArrayLike, name: str, expected: str = _EXPECTED_2D) -> None:
    """Strings and dates would be converted to floats silently by check_array."""
    dtypes = getattr(X, "dtypes", None)  # pandas DataFrame
    if dtypes is not None and not isinstance(dtypes, np.dtype):
        kinds = {np.dtype(d).kind for d in dtypes if isinstance(d, np.dtype)}
    elif hasattr(X, "dtype"):
        kinds = {np.dtype(X.dtype).kind} if isinstance(X.dtype, np.dtype) else set()
    elif isinstance(X, (list, tuple)):
        try:
            kinds = {np.asarray(X).dtype.kind}
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise type(exc)(
                f"{name} could not be read as an array of real numbers: {exc} Expected {expected}."
            ) from exc
    else:
        kinds = set()
    for kind in kinds & set(_NON_NUMERIC_KINDS):
        raise ValueError(
            f"{name} holds {_NON_NUMERIC_KINDS[kind]}; expected {expected}. "
            "Convert it to numbers first."
        )


def _as_float_numpy(X: ArrayLike, name: str, expected: str = _EXPECTED_2D) -> np.ndarray:
    """Convert array-likes (lists, pandas, memmaps) with scikit-learn's check_array.

    bool and integer data become float64, and so does float16 (float32 stays
    float32); masked arrays, complex numbers, strings, dates and sparse
    matrices are refused with an error that names ``name``.
    """
    check_not_masked(X, name)
    _reject_non_numeric_dtypes(X, name, expected)
    try:
        return check_array(
            X,
            dtype=[np.float64, np.float32],
            ensure_2d=False,
            allow_nd=True,
            ensure_all_finite=False,
            ensure_min_samples=0,
            ensure_min_features=0,
            input_name=name,
        )
    except (TypeError, ValueError) as exc:
        # Keep the exception type (scikit-learn's conventions rely on it) and
        # the original text, and say what the argument should have been.
        raise type(exc)(
            f"{name} could not be read as an array of real numbers: {exc} Expected {expected}."
        ) from exc


def check_real_array(X: ArrayLike, name: str, expected: str = "a numeric array") -> np.ndarray:
    """Read any numeric input as a float64 numpy array of any shape, or say why not.

    The numpy-only counterpart of :func:`check_representation` for inputs
    that are not one representation (stacks of RDMs, residuals, trials):
    lists, pandas frames, read-only or Fortran-ordered arrays, bool, int and
    float16 data are accepted; torch tensors are detached and copied to the
    host. Shape and finiteness are left to the caller (see
    :func:`check_finite`).

    Parameters
    ----------
    X : array-like, torch.Tensor or array-API array
        Input to read.
    name : str
        Argument name used in error messages.
    expected : str, default="a numeric array"
        What the argument should be, for the messages, e.g.
        ``"condensed RDMs of shape (n_rdms, n_pairs)"``.

    Returns
    -------
    ndarray
        float64, in host memory.

    Raises
    ------
    TypeError
        A numpy masked array (its mask would be dropped), a sparse matrix, or
        objects that are not numbers.
    ValueError
        None, complex numbers, strings or dates.

    Examples
    --------
    >>> from skrep._validation import check_real_array
    >>> check_real_array([[1, 2], [3, 4]], "rdms")
    array([[1., 2.],
           [3., 4.]])
    """
    if X is None:
        raise ValueError(f"{name} is None; expected {expected}.")
    if is_foreign_array(X):
        X = to_numpy(_as_float_array_api(X, name), name)
    return np.asarray(_as_float_numpy(X, name, expected), dtype=np.float64)


def check_representation(X: ArrayLike, name: str, *, min_samples: int = 2) -> Array:
    """Validate one representation: a 2-D finite array of real numbers.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        Activations, one row per stimulus (sample), one column per unit.
    name : str
        Argument name used in error messages (``"X"`` or ``"Y"``).
    min_samples : int, default=2
        Fewest rows accepted.

    Returns
    -------
    ndarray or torch.Tensor
        float64, or float32 when the input was float32. numpy array-likes
        (lists, pandas frames) become numpy arrays; torch tensors stay on their
        device.

    Raises
    ------
    ValueError
        Wrong number of dimensions, too few samples, no features, NaN or inf,
        complex values or strings that are not numbers.
    TypeError
        Objects that are not numbers at all (e.g. dicts).
    """
    if X is None:
        raise ValueError(f"{name} is None; expected a 2-D array of shape (n_samples, n_features).")
    if isinstance(X, (str, bytes)) or isinstance(X, numbers.Number):
        raise ValueError(
            f"{name} is a scalar {type(X).__name__} ({X!r}); expected a 2-D array of "
            "shape (n_samples, n_features)."
        )
    X = _as_float_array_api(X, name) if is_foreign_array(X) else _as_float_numpy(X, name)

    if X.ndim != 2:
        hint = (
            f" Reshape your data with {name}.reshape(-1, 1) if it holds a single "
            f"feature, or {name}.reshape(1, -1) if it holds a single sample."
            if X.ndim == 1
            else ""
        )
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got a "
            f"{X.ndim}-D array of shape {_shape_str(X.shape)}.{hint}"
        )
    n_samples, n_features = X.shape
    if n_samples < min_samples:
        raise ValueError(
            f"{name} has {_plural(n_samples, 'sample')} (shape {_shape_str(X.shape)}); "
            f"expected at least {min_samples} samples (rows) to compare representations."
        )
    if n_features < 1:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={_shape_str(X.shape)}) while a minimum of 1 "
            "is required; expected at least one column (unit)."
        )
    check_finite(X, name)
    return X


def check_paired_samples(X: Array, Y: Array, names: tuple[str, str] = ("X", "Y")) -> None:
    """Raise unless ``X`` and ``Y`` have the same number of rows.

    Parameters
    ----------
    X, Y : arrays of shape (n_samples, ...)
    names : tuple of str
        Argument names used in the message.
    """
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"{names[0]} has {X.shape[0]} samples (rows) but {names[1]} has "
            f"{Y.shape[0]}; expected the same number of rows, since row i of both "
            "must hold the responses to the same stimulus."
        )


def check_n_features(X: Array, expected: int, name: str, estimator_name: str) -> None:
    """Raise unless ``X`` has the width seen during ``fit``.

    The message follows scikit-learn's wording for ``n_features_in_``.
    """
    check_width(X.shape[1], expected, name, estimator_name)


def check_width(n_features: int, expected: int, name: str, estimator_name: str) -> None:
    """Raise unless ``n_features`` (the units of any input form) is the fitted width.

    Parameters
    ----------
    n_features : int
        Units of the input (the last axis of stochastic responses).
    expected : int
        Units seen in ``fit``.
    name, estimator_name : str
        Used in scikit-learn's wording for ``n_features_in_``.
    """
    if n_features != expected:
        raise ValueError(
            f"{name} has {n_features} features, but {estimator_name} is expecting "
            f"{expected} features as input."
        )


def match_widths(X: Array, Y: Array, *, zero_pad: bool, estimator_name: str) -> tuple[Array, Array]:
    """Give ``X`` and ``Y`` the same number of columns.

    Parameters
    ----------
    X, Y : arrays of shape (n_samples, n_features_x) and (n_samples, n_features_y)
    zero_pad : bool
        If True, the narrower array gets zero columns appended (netrep's
        behaviour; it embeds the data in a higher dimension without changing
        its geometry). If False, different widths are an error.
    estimator_name : str
        Used in the message.

    Returns
    -------
    X, Y : arrays with the same number of columns
    """
    n_x, n_y = X.shape[1], Y.shape[1]
    if n_x == n_y:
        return X, Y
    if not zero_pad:
        raise ValueError(
            f"X has {n_x} features and Y has {n_y}, but {estimator_name}(zero_pad=False) "
            "expected the same number of features in both. Set zero_pad=True to "
            "append zero columns to the narrower one, or reduce both to the same "
            "width (e.g. preprocessor=PCA(n_components=k))."
        )
    width = max(n_x, n_y)
    return zero_pad_columns(X, width), zero_pad_columns(Y, width)


def check_matrix(A: ArrayLike, name: str) -> Array:
    """Validate a 2-D finite real array of any size (one row is enough).

    Used by the public functions of :mod:`skrep.functional`.

    Parameters
    ----------
    A : array-like or array-API array of shape (n_rows, n_columns)
        Array to check.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray or array-API array
        ``A`` as a float64 (or float32) array in its own namespace.
    """
    return check_representation(A, name, min_samples=1)


def check_matching_pair(A: ArrayLike, B: ArrayLike, names: tuple[str, str]) -> tuple[Array, Array]:
    """Validate two 2-D finite arrays of the same shape.

    Parameters
    ----------
    A, B : arrays of shape (n_rows, n_columns)
        Arrays to check.
    names : tuple of str
        Argument names used in error messages.

    Returns
    -------
    A, B : arrays
        Validated, in the namespace of ``A`` (B follows A).
    """
    A = check_matrix(A, names[0])
    B = convert_like(check_matrix(B, names[1]), A)
    check_paired_samples(A, B, names)
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{names[0]} has {A.shape[1]} columns but {names[1]} has {B.shape[1]}; "
            "expected the same width (zero-pad the narrower one first, or reduce "
            "both to the same number of columns)."
        )
    return A, B


def check_columns_match(
    X: Array, n_columns: int, name: str, expected: str, detail: str = ""
) -> None:
    """Raise unless ``X`` has ``n_columns`` columns.

    Parameters
    ----------
    X : array of shape (n_rows, n_columns_x)
        Validated array.
    n_columns : int
        Expected number of columns.
    name : str
        Argument name used in the message.
    expected : str
        What fixes the width, e.g. "the alignment".
    detail : str, default=""
        Added in parentheses after the expected width.
    """
    if X.shape[1] != n_columns:
        detail = f" ({detail})" if detail else ""
        raise ValueError(
            f"{name} has {X.shape[1]} columns, but {expected} expects {n_columns}{detail}."
        )


def check_responses(X: ArrayLike, name: str, *, allow_repeats: bool = True) -> Array:
    """Validate stochastic responses: (n_classes, n_repeats, n_features) or (n_classes, n_features).

    Parameters
    ----------
    X : array-like or array-API array
        Responses to repeated presentations of each stimulus class (3-D), or
        one deterministic response per class (2-D).
    name : str
        Argument name used in error messages.
    allow_repeats : bool, default=True
        Accept 3-D arrays.

    Returns
    -------
    ndarray or array-API array
        float64 (float32 stays float32), finite, in its own namespace.
    """
    expected = (
        "a 3-D array of shape (n_classes, n_repeats, n_features) or a 2-D array of "
        "shape (n_classes, n_features)"
        if allow_repeats
        else "a 2-D array of shape (n_classes, n_features)"
    )
    if X is None or isinstance(X, (str, bytes)) or isinstance(X, numbers.Number):
        raise ValueError(f"{name} is {X!r}; expected {expected}.")
    X = _as_float_array_api(X, name) if is_foreign_array(X) else _as_float_numpy(X, name)
    if X.ndim not in ((2, 3) if allow_repeats else (2,)):
        hint = (
            f" Reshape your data with {name}.reshape(1, -1) if it holds one class."
            if X.ndim == 1
            else ""
        )
        raise ValueError(
            f"{name} must be {expected}; got a {X.ndim}-D array of shape "
            f"{_shape_str(X.shape)}.{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{name} has 0 classes (shape {_shape_str(X.shape)}); expected at least one "
            "class (0 sample(s), a minimum of 1 is required)."
        )
    if X.shape[-1] == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={_shape_str(X.shape)}) while a minimum of 1 "
            "is required; expected at least one unit."
        )
    if X.ndim == 3 and X.shape[1] == 0:
        raise ValueError(
            f"{name} has 0 repeats (shape {_shape_str(X.shape)}); expected responses to "
            "at least one presentation of each class."
        )
    check_finite(X, name)
    return X


def check_equal_widths(widths: Sequence[int], names: Sequence[str], owner: str) -> None:
    """Raise unless every network has the first one's width (for ``zero_pad=False``).

    Parameters
    ----------
    widths : sequence of int
        The number of features (units) of each network, after any preprocessing.
    names : sequence of str
        The networks' names, for the message.
    owner : str
        The estimator whose ``zero_pad`` is False, for the message.
    """
    for width, name in zip(widths, names, strict=True):
        if width != widths[0]:
            raise ValueError(
                f"{name} has {width} features (after any preprocessing) but {names[0]} has "
                f"{widths[0]}, and zero_pad=False in {owner}; expected networks of equal "
                "width, or zero_pad=True to append zero columns to the narrower ones."
            )
