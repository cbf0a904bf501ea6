"""Alignment groups shared by the stochastic shape metrics, and their input checks.

Both stochastic metrics (:mod:`skrep.functional.gaussian_stochastic` and
:mod:`skrep.functional.energy_stochastic`) align the second network to the
first with one transform ``T`` from a group shared by all stimulus classes:
rotations and reflections (``"orth"``), permutations of units (``"perm"``) or
no alignment (``"identity"``). This module holds the groups, the best group
element for a cross-product (:func:`align_to_group`), random group elements
for restarts, and the array checks both metrics share.
"""

from __future__ import annotations

import array_api_compat
import numpy as np
from scipy.optimize import linear_sum_assignment

from .._array import convert_like, get_namespace, is_foreign_array, to_numpy
from .._typing import Array, ArrayLike, Namespace, RandomState
from .._validation import (
    _as_float_array_api,
    _as_float_numpy,
    _shape_str,
    check_finite,
)
from ..exceptions import InvalidParameterError
from ._extreme_scales import largest_magnitude, power_of_four_above, within_band

__all__ = ["GROUPS", "check_group", "align_to_group", "align_many_to_group"]

#: Alignment groups: rotations and reflections, permutations, no alignment.
GROUPS = ("orth", "perm", "identity")


def check_group(group: object, owner: str = "group") -> None:
    """Raise an InvalidParameterError unless ``group`` is one of :data:`GROUPS`.

    Parameters
    ----------
    group : object
        The value to check.
    owner : str, default="group"
        The function or estimator whose parameter ``group`` is, named in the
        error message.

    Raises
    ------
    InvalidParameterError
        If ``group`` is not ``"orth"``, ``"perm"`` or ``"identity"``.
    """
    if not isinstance(group, str) or group not in GROUPS:
        raise InvalidParameterError(
            f"The 'group' parameter of {owner} must be 'orth' (rotations and "
            f"reflections), 'perm' (permutations of units) or 'identity' (no "
            f"alignment); got {group!r}."
        )


def _checked_array(A: ArrayLike, name: str, shape_text: str) -> Array:
    """A finite float array with as many axes as ``shape_text`` names, or a named error."""
    if A is None or isinstance(A, (str, bytes)) or np.isscalar(A):
        raise ValueError(f"{name} is {A!r}; expected an array of shape {shape_text}.")
    A = _as_float_array_api(A, name) if is_foreign_array(A) else _as_float_numpy(A, name)
    ndim = shape_text.count(",") + 1
    if A.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {shape_text}; got a {A.ndim}-D "
            f"array of shape {_shape_str(A.shape)}."
        )
    if 0 in A.shape:
        raise ValueError(f"{name} is empty (shape {_shape_str(A.shape)}); expected {shape_text}.")
    check_finite(A, name)
    return A


#: Responses whose largest magnitude lies in [2**-SAFE, 2**SAFE] are computed as
#: given (bit for bit netrep's numbers); others are first divided by a power of 4.
_SAFE_EXPONENT = 100


def working_scale(*arrays: Array) -> float:
    """The power of four to divide responses by before the math (1.0: none needed).

    Products of responses near 1e300 overflow and those near 1e-300
    underflow (to 0, or to subnormal numbers without their digits). The
    stochastic metrics are homogeneous in the responses, so they are computed
    on responses divided by an exact power of four, and the results scaled
    back. Responses of moderate size (largest magnitude within 2**+-100) are
    left as they are, so that their results keep every bit, and netrep's
    absolute constants (the energy fit's ``tol`` and weight floor) keep
    their meaning.

    Parameters
    ----------
    *arrays : arrays
        Finite responses (numpy or any array-API array), scaled together.

    Returns
    -------
    float
        1.0, or the power of four ``s`` with the largest magnitude of
        ``arrays`` in ``[s / 4, s)``
        (:func:`~skrep.functional._extreme_scales.power_of_four_above`).
    """
    scale = power_of_four_above(max((largest_magnitude(A) for A in arrays), default=0.0))
    return 1.0 if within_band(scale, _SAFE_EXPONENT) else scale


def as_float64(A: Array) -> Array:
    """``A`` in float64, in its namespace and on its device.

    float32 cross-products of responses far from zero (an offset of 1e4)
    keep none of the digits of their spread, so the stochastic metrics
    compute in float64 whatever the input dtype.

    Parameters
    ----------
    A : array
        Floating-point array.

    Returns
    -------
    array
        ``A`` itself when it is float64, else a float64 copy.
    """
    xp = get_namespace(A)
    return A if A.dtype == xp.float64 else xp.astype(A, xp.float64)


def _check_square(M: ArrayLike, name: str, width: int | None = None) -> Array:
    M = _checked_array(M, name, "(n_features, n_features)")
    if M.shape[0] != M.shape[1] or (width is not None and M.shape[0] != width):
        expected = "a square matrix" if width is None else f"shape ({width}, {width})"
        raise ValueError(f"{name} has shape {_shape_str(M.shape)}; expected {expected}.")
    return M


def _check_same_classes_and_units(A: Array, B: Array, names: tuple[str, str]) -> None:
    if A.shape[0] != B.shape[0] or A.shape[-1] != B.shape[-1]:
        raise ValueError(
            f"{names[0]} has shape {_shape_str(A.shape)} and {names[1]} has shape "
            f"{_shape_str(B.shape)}; expected the same number of classes (first axis) "
            "and units (last axis)."
        )


def _eye_like(n: int, A: Array, xp: Namespace) -> Array:
    return xp.eye(n, dtype=A.dtype, device=array_api_compat.device(A))


def align_to_group(M: Array, group: str, *, check_input: bool = True) -> Array:
    """The group element ``T`` maximising ``trace(T.T @ M)``.

    Parameters
    ----------
    M : array of shape (n_features, n_features)
        Cross-product, e.g. ``Y.T @ X`` to align ``Y @ T`` to ``X``.
    group : {"orth", "perm", "identity"}
        ``"orth"``: the polar factor ``U V'`` of ``M = U S V'`` (Procrustes);
        ``"perm"``: the optimal assignment (Hungarian algorithm, on the host);
        ``"identity"``: the identity matrix.
    check_input : bool, default=True
        Check ``M`` (a finite square matrix) and ``group``.

    Returns
    -------
    T : array of shape (n_features, n_features)
        A dense matrix in the namespace and on the device of ``M``.
    """
    if check_input:
        check_group(group, "align_to_group")
        M = _check_square(M, "M")
    return align_many_to_group(M[None, ...], group, get_namespace(M))[0, ...]


def align_many_to_group(M: Array, group: str, xp: Namespace) -> Array:
    """:func:`align_to_group` of every matrix of a stack, in one batched SVD for rotations.

    Parameters
    ----------
    M : array of shape (n_matrices, n_features, n_features)
        Cross-products.
    group : {"orth", "perm", "identity"}
        As in :func:`align_to_group` (checked by the callers).
    xp : namespace
        Array namespace of ``M``.

    Returns
    -------
    array of shape (n_matrices, n_features, n_features)
        ``argmax_T trace(T' M[k])`` over the group, for every ``k``.
    """
    if group == "orth":
        U, _, Vt = xp.linalg.svd(M, full_matrices=False)
        return U @ Vt
    n = M.shape[-1]
    host = to_numpy(M)
    out = np.zeros(host.shape)
    if group == "perm":
        for k, matrix in enumerate(host):
            rows, cols = linear_sum_assignment(matrix, maximize=True)
            out[k, rows, cols] = 1.0
    else:
        out[:] = np.eye(n)
    return xp.astype(xp.asarray(out, device=array_api_compat.device(M)), M.dtype)


def _random_group_element(n: int, group: str, random_state: RandomState, template: Array) -> Array:
    from scipy.stats import ortho_group
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    if group == "orth":
        T = ortho_group.rvs(n, random_state=rng) if n > 1 else np.array([[rng.choice([-1.0, 1.0])]])
    elif group == "perm":
        T = np.eye(n)[rng.permutation(n)]
    else:
        T = np.eye(n)
    xp = get_namespace(template)
    return xp.astype(convert_like(np.asarray(T, dtype=np.float64), template), template.dtype)
