"""What the RDM functions take: real arrays, square RDMs that are RDMs, and exact rescaling.

The RDM family (:func:`compute_rdm`, the conversions, the comparisons, the
inference and the noise estimates) refuses, naming the argument, input whose
conversion would lose something without a word: masked arrays (the mask),
complex numbers (the imaginary part), strings and other non-numbers, sparse
matrices, None. Square RDMs must be symmetric with a zero diagonal, up to
rounding relative to their own scale.

Scale: the comparisons and the correlation and cosine distances do not change
when an RDM or a pattern is multiplied by a positive number, and the other
distances change by a known power of it. Multiplying by a power of two is exact
(only the exponent changes), so the functions bring every input to unit scale
that way first: 1e-300 and 1e+300 give the same numbers as 1, where squares and
sums of squares would underflow or overflow.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import array_api_compat
import numpy as np
import scipy.sparse

from .._array import get_namespace, is_foreign_array, is_torch_array, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_finite, check_real_array
from ._extreme_scales import powers_of_two_above, within_band

__all__ = [
    "refuse_unsupported",
    "real_array",
    "real_numpy",
    "check_square_rdms",
    "power_of_two_scales",
]

_NON_NUMERIC = {
    "U": "strings",
    "S": "bytes",
    "M": "datetimes",
    "m": "timedeltas",
    "V": "raw (void) records",
}


def refuse_unsupported(x: Any, name: str, expected: str) -> None:
    """Raise a TypeError for None, masked arrays and sparse matrices.

    Parameters
    ----------
    x : object
        The argument.
    name : str
        Its name, for the message.
    expected : str
        What it should be, e.g. "a numeric array of shape (n_rdms, n_pairs)".
    """
    if x is None:
        raise TypeError(f"{name} is None; expected {expected}.")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array, whose mask would be ignored here; expected {expected}. "
            f"Fill the masked entries first ({name}.filled(value)), or leave them out "
            f"({name}.compressed(), np.ma.compress_rows) if the result keeps its meaning."
        )
    if scipy.sparse.issparse(x) or (is_torch_array(x) and "strided" not in str(x.layout)):
        raise TypeError(
            f"{name} is a sparse matrix ({type(x).__name__}); expected {expected}, dense. "
            f"Convert it with {name}.toarray() (scipy) or {name}.to_dense() (torch)."
        )


def _refuse_dtype(x: np.ndarray, name: str, expected: str) -> np.ndarray:
    """Numeric numpy ``x`` (object arrays of real numbers converted), or a TypeError."""
    kind = x.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{name} holds complex numbers (dtype {x.dtype}); expected {expected} of real "
            f"numbers. Pass {name}.real (or np.abs({name})) if that is what you mean."
        )
    if kind in _NON_NUMERIC:
        raise TypeError(
            f"{name} holds {_NON_NUMERIC[kind]} (dtype {x.dtype}); expected {expected} of "
            "real numbers. Convert it to numbers first."
        )
    if kind == "O":
        for value in x.flat:
            if not isinstance(value, numbers.Real) or isinstance(value, (str, bytes)):
                kind_name = "complex numbers" if isinstance(value, complex) else "Python objects"
                raise TypeError(
                    f"{name} holds {kind_name} such as {value!r} (dtype object); expected "
                    f"{expected} of real numbers."
                )
        return x.astype(np.float64)
    return x


def real_array(x: ArrayLike, name: str, expected: str) -> Array:
    """A real floating array, numpy or the caller's array-API array (torch stays torch).

    Integers and booleans become float64; float16 (and torch's bfloat16)
    become float32, the least precision computed in; float32 and float64 are
    kept. Torch tensors keep their device and their autograd graph.

    Parameters
    ----------
    x : array-like or array-API array
        The argument.
    name : str
        Its name, for messages.
    expected : str
        What it should be, for messages.

    Returns
    -------
    ndarray or array-API array
        Real floating-point values, float32 or float64.
    """
    refuse_unsupported(x, name, expected)
    if is_foreign_array(x):
        xp = get_namespace(x)
        if xp.isdtype(x.dtype, "complex floating"):
            raise TypeError(
                f"{name} holds complex numbers (dtype {x.dtype}); expected {expected} of real "
                "numbers."
            )
        if not xp.isdtype(x.dtype, "real floating"):
            return xp.astype(x, xp.float64)
        if x.dtype not in (xp.float32, xp.float64):  # float16, bfloat16
            return xp.astype(x, xp.float32)
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:  # ragged lists, objects numpy cannot read
        raise TypeError(
            f"{name} could not be read as an array ({error}); expected {expected}."
        ) from None
    array = _refuse_dtype(array, name, expected)
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.itemsize < 4:
        return array.astype(np.float32)
    return array


def real_numpy(x: ArrayLike, name: str, expected: str) -> np.ndarray:
    """A float64 numpy array, after the refusals of :func:`real_array`.

    The refusals (a TypeError naming ``name``) are those of the RDM family;
    the conversion is :func:`skrep._validation.check_real_array`'s, so there
    is one reader of numeric input. Torch tensors are detached and brought to
    the host: the functions that call this return numbers, not graphs.

    Parameters
    ----------
    x : array-like or array-API array
        The argument.
    name : str
        Its name, for messages.
    expected : str
        What it should be, for messages.

    Returns
    -------
    ndarray
        float64 values.
    """
    return check_real_array(real_array(x, name, expected), name, expected)


def check_square_rdms(rdms: Array, name: str) -> None:
    """Raise unless square RDMs are finite, symmetric and zero on the diagonal.

    Symmetry and the diagonal are checked up to ``sqrt(eps)`` (1.5e-8 in
    float64, 3.5e-4 in float32) times each RDM's largest absolute entry:
    rounding in whatever computed them passes, a wrong matrix does not.

    Parameters
    ----------
    rdms : array of shape (..., n, n)
        Real floating-point square matrices (numpy or array-API).
    name : str
        The argument's name, for messages.
    """
    if is_torch_array(rdms):
        rdms = rdms.detach()
    check_finite(rdms, name)
    if math.prod(rdms.shape) == 0:
        return
    xp = get_namespace(rdms)
    magnitude = xp.abs(rdms)
    scale = xp.max(xp.max(magnitude, axis=-1), axis=-1)  # one per RDM
    tolerance = math.sqrt(xp.finfo(rdms.dtype).eps) * scale
    asymmetry = xp.max(xp.max(xp.abs(rdms - matrix_transpose(rdms, xp)), axis=-1), axis=-1)
    diagonal = xp.max(xp.abs(xp.linalg.diagonal(rdms)), axis=-1)
    for values, problem, wanted in (
        (asymmetry, "that are not symmetric (largest |D - D.T|", "symmetric"),
        (diagonal, "with a non-zero diagonal (largest |D[i, i]|", "zero on the diagonal"),
    ):
        bad = np.flatnonzero(to_numpy(values > tolerance).reshape(-1))
        if bad.size:
            first = int(bad[0])
            value = float(to_numpy(values).reshape(-1)[first])
            largest = float(to_numpy(scale).reshape(-1)[first])
            raise ValueError(
                f"{name} holds square RDMs {problem} is {value:.3g} in RDM {first}, whose "
                f"largest |entry| is {largest:.3g}; shape {_shape_str(rdms.shape)}); expected "
                f"dissimilarity matrices, {wanted} up to rounding (sqrt(eps) of their scale)."
            )


def power_of_two_scales(largest: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """Powers of two that bring ``largest`` to [0.5, 1), where it needs it: exact factors.

    Values within ``2**(+-maxexp / 4)`` of 1 (1e+-77 in float64, 1e+-9 in
    float32) get 1: products of two of them, summed over millions of terms,
    stay normal numbers, so the data are used as they are (and give the same
    digits as ever). Others get ``2**-e`` with ``largest * 2**-e`` in
    [0.5, 1).

    Parameters
    ----------
    largest : ndarray
        Largest absolute values (>= 0) of the things to rescale.
    dtype : numpy dtype, default=float64
        The floating type the factors are for; they stay normal numbers of it.

    Returns
    -------
    ndarray
        The factors, 1 where no rescaling is needed (and where ``largest`` is 0).
    """
    maxexp = np.finfo(dtype).maxexp
    scales = powers_of_two_above(largest, bound=maxexp - 8)
    return np.where(within_band(scales, maxexp // 4), 1.0, 1.0 / scales)  # exact reciprocals


def host_max(A: Array, axes: int) -> np.ndarray:
    """Largest |A| over the last ``axes`` axes, as a numpy array.

    From the maximum and the minimum (no copy of |A|); NaN where A holds NaN.

    Parameters
    ----------
    A : array
        numpy or array-API array.
    axes : int
        How many trailing axes to reduce.

    Returns
    -------
    ndarray
        float64, of shape ``A.shape[:-axes]``.
    """
    xp = get_namespace(A)
    high, low = A, A
    for _ in range(axes):
        high, low = xp.max(high, axis=-1), xp.min(low, axis=-1)
    high = np.asarray(to_numpy(high), dtype=np.float64)
    return np.maximum(high, -np.asarray(to_numpy(low), dtype=np.float64))


def numpy_float(X: Array) -> type[np.floating]:
    """The numpy floating type of a float32 or float64 array of any namespace.

    Parameters
    ----------
    X : array
        float32 or float64 values.

    Returns
    -------
    type
        ``np.float32`` or ``np.float64``.
    """
    return np.float32 if X.dtype == get_namespace(X).float32 else np.float64


def times_per_dataset(A: Array, factors: np.ndarray) -> Array:
    """``A * factors`` with one factor per leading entry of A (exact for powers of two).

    Parameters
    ----------
    A : array of shape (k, ...)
        numpy or array-API array.
    factors : ndarray of shape (k,)
        Factors, numpy.

    Returns
    -------
    array
        In A's namespace, dtype and device.
    """
    xp = get_namespace(A)
    shape = (-1,) + (1,) * (A.ndim - 1)
    return A * xp.asarray(factors.reshape(shape), dtype=A.dtype, device=array_api_compat.device(A))


def checked_precision(precision: ArrayLike, X: Array, single: bool) -> tuple[Array, np.ndarray]:
    """The checked precision at unit scale, in X's namespace, and its scales (powers of two).

    Parameters
    ----------
    precision : array-like
        The ``precision`` argument of compute_rdm.
    X : array of shape (n_datasets, n_observations, n_channels)
        The checked responses.
    single : bool
        Whether X was one data set (2-D).

    Returns
    -------
    P : array of shape (n_channels, n_channels) or (n_datasets, n_channels, n_channels)
        ``precision * scales``, in X's namespace, dtype and device.
    scales : ndarray
        The power of two of each precision matrix.
    """
    xp = get_namespace(X)
    P = real_array(precision, "precision", "a noise precision of shape (n_channels, n_channels)")
    if get_namespace(P) is not xp:
        P = to_numpy(P)  # e.g. a tensor with numpy X: numbers, not a graph
    P = xp.asarray(P, dtype=X.dtype, device=array_api_compat.device(X))
    check_finite(P, "precision")
    per_dataset = P.ndim == 3 and (single or P.shape[0] != X.shape[0])
    if P.ndim not in (2, 3) or per_dataset or tuple(P.shape[-2:]) != (X.shape[-1], X.shape[-1]):
        raise ValueError(
            f"precision has shape {_shape_str(P.shape)}; expected ({X.shape[-1]}, "
            f"{X.shape[-1]}) or ({X.shape[0]}, {X.shape[-1]}, {X.shape[-1]}) for X with "
            f"{X.shape[-1]} channels."
        )
    largest = host_max(P, 2).reshape(-1)
    tolerance = np.sqrt(np.finfo(numpy_float(X)).eps) * largest
    asymmetry = host_max(P - matrix_transpose(P, xp), 2).reshape(-1)
    if np.any(asymmetry > tolerance):
        raise ValueError(
            f"precision is not symmetric (largest |P - P.T| is {asymmetry.max():.3g}, largest "
            f"|P| {largest.max():.3g}); expected a symmetric positive semi-definite noise "
            "precision, e.g. from skrep.functional.noise_precision."
        )
    diagonal = np.asarray(to_numpy(xp.linalg.diagonal(P)), dtype=np.float64).reshape(-1)
    if np.any(diagonal < -tolerance.max()):
        raise ValueError(
            f"precision has a negative diagonal entry ({diagonal.min():.3g}); a noise "
            "precision (inverse covariance) is positive semi-definite, so its diagonal is >= 0. "
            "Expected e.g. skrep.functional.noise_precision(residuals)."
        )
    scales = power_of_two_scales(largest, numpy_float(X))
    if np.all(scales == 1.0):
        return P, scales
    return times_per_dataset(P, scales) if P.ndim == 3 else P * float(scales[0]), scales


def check_positive_distances(rdm: Array) -> None:
    """Raise if a squared Mahalanobis distance is negative beyond rounding.

    Parameters
    ----------
    rdm : array of shape (n_datasets, n_pairs)
        Squared distances before clipping.
    """
    xp = get_namespace(rdm)
    lowest = np.asarray(to_numpy(xp.min(rdm, axis=-1)), dtype=np.float64)
    check_lowest_distances(lowest, host_max(rdm, 1), rdm.shape[-1], float(xp.finfo(rdm.dtype).eps))


def check_lowest_distances(
    lowest: np.ndarray, largest: np.ndarray, n_pairs: int, eps: float
) -> None:
    """:func:`check_positive_distances` from each RDM's extremes (e.g. gathered block by block).

    Parameters
    ----------
    lowest, largest : ndarray of shape (n_datasets,)
        The smallest squared distance and the largest absolute one of each RDM.
    n_pairs : int
        The number of distances of each RDM.
    eps : float
        The machine epsilon of their floating type.
    """
    if np.any(lowest < -64 * eps * n_pairs**0.5 * largest):
        k = int(np.argmin(lowest / np.maximum(largest, np.finfo(np.float64).tiny)))
        raise ValueError(
            f"precision is not positive semi-definite: a squared Mahalanobis distance of "
            f"data set {k} is negative ({lowest[k] / largest[k]:.3g} times its largest "
            "distance); expected a symmetric positive semi-definite noise precision, e.g. "
            "from skrep.functional.noise_precision."
        )


def rescaled_distances(rdm: Array, factors: list[np.ndarray], method: str) -> Array:
    """``rdm`` times per-dataset factors, raising if the result overflows or underflows.

    Parameters
    ----------
    rdm : array of shape (n_datasets, n_pairs)
        Distances of the rescaled data.
    factors : list of ndarray
        Factors applied one after the other (each a normal number of the
        dtype, so that no single factor overflows).
    method : str
        The RDM method, for the message.

    Returns
    -------
    array
        The distances at the data's scale.
    """
    xp = get_namespace(rdm)
    if all(np.all(factor == 1.0) for factor in factors):
        return rdm  # data at a safe scale: used as they are
    scaled = rdm
    with np.errstate(over="ignore", under="ignore"):  # found below, with a message
        for factor in factors:
            rdm = times_per_dataset(rdm, np.broadcast_to(factor, (rdm.shape[0],)).copy())
    tiny = float(xp.finfo(rdm.dtype).smallest_normal)
    for problem, bad in (
        ("overflow", xp.isinf(rdm)),
        ("underflow", (scaled != 0.0) & (xp.abs(rdm) < tiny)),
    ):
        if bool(xp.any(bad)):
            raise ValueError(
                f"The {method} distances of X {problem} {rdm.dtype} (X's largest |value| "
                f"sets their scale); rescale X (the RDM of c * X is |c| or c**2 times that of "
                f"X), or pass float64."
            )
    return rdm
