"""Whether ``distance(X, Y)`` is called on the very arrays that ``fit(X, Y)`` saw, unchanged.

The training distance of a shape metric is known at the end of its fit, so
``fit(X, Y).distance(X, Y)`` (scikit-learn's ``fit`` + ``score``, netrep's
``fit_score``) need not map the data again. Arrays are mutable, so "the very
arrays" means: the same memory (address, shape, strides and dtype; the
metric keeps no reference to the data) holding the same values of a random
probe ``u.T @ A @ v``, recomputed on each call. The probe reads the data once
(as validation would) and changes with any change of the data other than one
below rounding (relative size 1e-15 in float64) or one constructed against
``u`` and ``v``; torch tensors are also checked by their in-place version
counter. Should other data ever match, it holds the same values, and the
distance is the same.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._array import get_namespace, is_torch_array
from .._typing import ArrayLike

__all__ = ["TrainingInputs"]

_FLOATS = ("float32", "float64")


@functools.lru_cache(maxsize=8)
def _probe_vector(length: int, seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(length)
    vector.flags.writeable = False
    return vector


def _key(A: Any) -> tuple | None:  # noqa: ANN401
    """Shape, strides, dtype, memory address and probe of ``A``; None if not supported."""
    if isinstance(A, np.ndarray):
        if isinstance(A, np.ma.MaskedArray):
            return None  # refused by name when validated
        if A.ndim != 2 or A.dtype.name not in _FLOATS or A.size == 0:
            return None
        u = _probe_vector(A.shape[0], 0).astype(A.dtype, copy=False)
        v = _probe_vector(A.shape[1], 1).astype(A.dtype, copy=False)
        with np.errstate(all="ignore"):
            probe = float(u @ (A @ v))
        return ("numpy", A.shape, A.strides, A.dtype.name, A.ctypes.data, probe)
    if is_torch_array(A):
        if A.ndim != 2 or str(A.dtype).rsplit(".", 1)[-1] not in _FLOATS or A.numel() == 0:
            return None
        xp = get_namespace(A)
        data = A.detach()
        u = xp.asarray(_probe_vector(A.shape[0], 0).copy(), dtype=A.dtype, device=A.device)
        v = xp.asarray(_probe_vector(A.shape[1], 1).copy(), dtype=A.dtype, device=A.device)
        probe = float(u @ (data @ v))
        return ("torch", tuple(A.shape), A.stride(), str(A.dtype), str(A.device),
                A.data_ptr(), A._version, probe)  # fmt: skip
    return None


def _same_value(a: object, b: object) -> bool:
    return a is b or (type(a) is type(b) and isinstance(a, _PLAIN) and a == b)


_PLAIN = (bool, int, float, str, type(None))


class TrainingInputs:
    """The identity and contents of the arrays passed to ``fit``.

    Parameters
    ----------
    X, Y : array-like
        The inputs of ``fit`` as the caller passed them.
    params : dict
        The estimator's parameters at fit time; a later ``set_params`` voids
        the match.
    """

    def __init__(self, X: ArrayLike, Y: ArrayLike, params: dict):
        keys = (_key(X), _key(Y))
        self._keys = None if None in keys else keys
        self._params = params

    def match(self, X: ArrayLike, Y: ArrayLike, params: dict) -> bool:
        """Whether ``(X, Y)`` are the fit's arrays, unchanged, under the same parameters.

        Parameters
        ----------
        X, Y : array-like
            The inputs of the later call.
        params : dict
            The estimator's parameters now.

        Returns
        -------
        bool
            True only if every check passes.
        """
        if self._keys is None or params.keys() != self._params.keys():
            return False
        if not all(_same_value(params[name], self._params[name]) for name in params):
            return False
        return (_key(X), _key(Y)) == self._keys
