"""Array-namespace helpers: numpy, torch or any array-API library, through array-api-compat.

The math in :mod:`skrep.functional` is written once against the array API
standard; these helpers find the namespace of the inputs, move numpy input to
torch when a ``device`` is requested, and bring results back to the caller's
array type. Nothing here keeps global state: the namespace always comes from
the arrays themselves.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

from ._typing import Array, ArrayLike, Device, Namespace

__all__ = [
    "get_namespace",
    "is_torch_array",
    "is_foreign_array",
    "import_torch",
    "move_to_device",
    "to_numpy",
    "same_place",
    "convert_like",
    "floating_dtype",
    "zero_pad_columns",
]


def matrix_transpose(A: Array, xp: Namespace) -> Array:
    """Transpose of the last two axes of ``A`` in the namespace ``xp``."""
    return xp.linalg.matrix_transpose(A)


def get_namespace(*arrays: Array | None) -> Namespace:
    """Return the array-api-compat namespace shared by ``arrays``.

    Parameters
    ----------
    *arrays : array-like
        numpy arrays or torch tensors (``None`` entries are ignored).

    Returns
    -------
    xp : module
        ``array_api_compat.numpy`` or ``array_api_compat.torch``.
    """
    return array_api_compat.array_namespace(*[a for a in arrays if a is not None])


def is_torch_array(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch)."""
    return array_api_compat.is_torch_array(x)


def is_foreign_array(x: Any) -> bool:
    """Whether ``x`` is an array-API array other than numpy (torch, array_api_strict, ...)."""
    return array_api_compat.is_array_api_obj(x) and not array_api_compat.is_numpy_array(x)


def import_torch(device: Device) -> ModuleType:
    """Import torch, or explain how to install it for ``device``."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"device={device!r} runs the computation with PyTorch, which is not "
            "installed; install it with `pip install 'skrep[torch]'` (on a machine "
            "without a GPU, `pip install torch` first with a CPU build) or leave "
            "device=None to compute with numpy."
        ) from exc
    return torch


def move_to_device(x: Array, device: Device) -> Array:
    """Move ``x`` to a torch ``device``; ``device=None`` leaves ``x`` as it is.

    Parameters
    ----------
    x : ndarray or array-API array
        Validated floating-point array.
    device : None, str or torch.device
        ``None`` keeps the array where it is (numpy stays numpy). Anything else
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``) returns a torch
        tensor on that device; numpy input on ``"cpu"`` shares its memory.

    Returns
    -------
    ndarray or torch.Tensor
    """
    if device is None:
        return x
    torch = import_torch(device)
    if is_torch_array(x):
        return x.to(device)
    # torch wants writeable, C-ordered memory (read-only memmaps are copied).
    return torch.as_tensor(np.require(to_numpy(x), requirements=["C", "W"]), device=device)


def to_numpy(x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a numpy array (copying from a GPU when needed)."""
    if is_torch_array(x):
        return x.detach().cpu().numpy()
    if is_foreign_array(x):
        # DLPack reaches host memory from any device that allows it (cupy,
        # array_api_strict's simulated devices), without a namespace-specific path.
        return np.from_dlpack(x, device="cpu", copy=True)
    return np.asarray(x)


def same_place(a: Array, b: Array) -> bool:
    """Whether two arrays share a namespace and a device."""
    return get_namespace(a) is get_namespace(b) and array_api_compat.device(
        a
    ) == array_api_compat.device(b)


def convert_like(x: Array, template: ArrayLike) -> Array:
    """Return ``x`` in the namespace and on the device of ``template``.

    Used so that outputs come back in the caller's array type (numpy in,
    numpy out; a torch tensor in, a torch tensor on the same device out) and so
    that Y follows X. Non-array templates (lists, pandas) count as numpy.
    """
    if not is_foreign_array(template):
        return to_numpy(x)
    if is_torch_array(template):
        return move_to_device(x, template.device)
    xp = get_namespace(template)
    device = array_api_compat.device(template)
    if get_namespace(x) is xp:
        return array_api_compat.to_device(x, device)
    return xp.asarray(to_numpy(x), device=device)


def floating_dtype(xp: Namespace, *arrays: Array) -> Any:
    """Common floating dtype of ``arrays``: float32 only if all are float32."""
    if all(a.dtype == xp.float32 for a in arrays):
        return xp.float32
    return xp.float64


def zero_pad_columns(x: Array, n_columns: int) -> Array:
    """Append zero columns to ``x`` so that it has ``n_columns`` columns.

    Parameters
    ----------
    x : array of shape (n_samples, n_features)
    n_columns : int
        Target width, at least ``n_features``.

    Returns
    -------
    array of shape (n_samples, n_columns)
        ``x`` itself when it is already that wide.
    """
    n_missing = n_columns - x.shape[1]
    if n_missing == 0:
        return x
    xp = get_namespace(x)
    zeros = xp.zeros((x.shape[0], n_missing), dtype=x.dtype, device=array_api_compat.device(x))
    return xp.concat([x, zeros], axis=1)
