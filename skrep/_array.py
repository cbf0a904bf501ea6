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
    "is_out_of_core",
    "import_torch",
    "move_to_device",
    "to_numpy",
    "check_not_masked",
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


def is_out_of_core(x: Any) -> bool:
    """Whether ``x`` is an array whose values are read on demand: a numpy memmap or a dask array.

    Such arrays are read in chunks (e.g. the targets of the encoding models)
    rather than validated and converted whole.
    """
    return isinstance(x, np.memmap) or type(x).__module__.split(".")[0] == "dask"


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
            "installed; install a pinned torch first, e.g. `pip install torch==2.13.0` "
            "(from a skrep checkout: `pip install -c constraints.txt 'skrep[torch]'`; "
            "an unpinned torch requirement downloads gigabytes of CUDA packages), or "
            "leave device=None to compute with numpy."
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


def check_not_masked(x: Any, name: str | None = None) -> None:
    """Refuse a numpy masked array, whose mask every conversion would drop.

    ``np.asarray`` (and so scikit-learn's ``check_array``) returns the data
    under a mask, masked values included, as if there were no mask: a silent
    wrong result. skrep has no notion of missing values, so masked arrays are
    refused, with a message that says how to remove the masked entries.

    Parameters
    ----------
    x : object
        Input to check.
    name : str or None, default=None
        Argument name used in the message (None: "The input").

    Raises
    ------
    TypeError
        ``x`` is a :class:`numpy.ma.MaskedArray`.
    """
    if not isinstance(x, np.ma.MaskedArray):
        return
    label = name or "The input"
    var = name if name and name.isidentifier() else "x"  # for the code in the message
    n_masked = int(np.ma.count_masked(x))
    raise TypeError(
        f"{label} is a numpy masked array ({n_masked} of {x.size} value(s) masked); skrep "
        "does not honour masks, and converting it would silently use the values under "
        f"the mask. Fill or compress it first, e.g. keep the complete rows with "
        f"{var}[~np.ma.getmaskarray({var}).any(axis=1)].data, or impute the masked values; "
        f"note that {var}.filled(np.nan) is refused too since NaN is not allowed."
    )


def to_numpy(x: ArrayLike, name: str | None = None) -> np.ndarray:
    """Return ``x`` as a numpy array (copying from a GPU when needed).

    Torch tensors are detached from their autograd graph first. Numpy masked
    arrays are refused (the mask would be dropped silently), and so are
    complex arrays, whose imaginary part any later cast to float would drop.

    Parameters
    ----------
    x : array-like, torch.Tensor or array-API array
        Array to convert.
    name : str or None, default=None
        Argument name used in error messages.

    Returns
    -------
    ndarray
        ``x`` on the host; numpy input is returned as it is (no copy).

    Raises
    ------
    TypeError
        ``x`` is a numpy masked array.
    ValueError
        ``x`` holds complex numbers.
    """
    check_not_masked(x, name)
    if is_torch_array(x):
        out = x.detach().cpu().numpy()
    elif is_foreign_array(x):
        # DLPack reaches host memory from any device that allows it (cupy,
        # array_api_strict's simulated devices), without a namespace-specific path.
        out = np.from_dlpack(x, device="cpu", copy=True)
    else:
        out = np.asarray(x)
    if np.iscomplexobj(out):
        raise ValueError(
            f"Complex data not supported: {name or 'the input'} has dtype {out.dtype}; "
            "expected real numbers (take .real or abs() first if that is what you mean)."
        )
    return out


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
