"""The finiteness check of every input, and the shape text of the input checks' messages.

Re-exported by :mod:`skrep._validation`, where the other checks live.
"""

from __future__ import annotations

import numpy as np

from ._array import get_namespace, is_torch_array
from ._typing import Array

__all__ = ["check_finite", "shape_str"]


def shape_str(shape: tuple[int, ...]) -> str:
    """A shape as Python writes a tuple of ints: ``(3, 4)``, ``(5,)``.

    Parameters
    ----------
    shape : tuple of int
        A shape (numpy's, torch's ``torch.Size`` or any sequence of ints).

    Returns
    -------
    str
        The shape's text.
    """
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _finite_by_sum_of_squares(X: Array) -> bool:
    """Whether float32/float64 numpy or torch ``X`` has a finite sum of squares (one dot product).

    A NaN or inf makes the sum NaN or inf, so True proves every entry finite (scikit-learn's
    ``_assert_all_finite`` checks a sum first too); on False (also for squares beyond the
    float range, or other arrays) the elementwise check decides.
    """
    if is_torch_array(X):
        dense = str(X.layout) == "torch.strided" and X.is_contiguous()
        if not dense or str(X.dtype) not in ("torch.float32", "torch.float64"):
            return False
        vector = X.detach().reshape(-1)
        return bool(vector.dot(vector).isfinite())
    if not isinstance(X, np.ndarray) or isinstance(X, np.ma.MaskedArray):
        return False
    if X.dtype not in (np.float32, np.float64) or not (
        X.flags.c_contiguous or X.flags.f_contiguous
    ):
        return False
    vector = np.asarray(X).ravel(order="K")  # a view of contiguous data
    with np.errstate(all="ignore"):
        return bool(np.isfinite(vector @ vector))


def check_finite(X: Array, name: str) -> None:
    """Raise a ValueError naming ``name`` if ``X`` holds NaN or infinity.

    Contiguous float32 and float64 arrays (numpy or torch) cost one dot
    product (0.2 ms for 5000 x 512 float64, against 0.8 ms for the
    elementwise ``isfinite``); other arrays, and those whose sum of squares
    is not finite, get the elementwise check.

    Parameters
    ----------
    X : ndarray or torch.Tensor
        Floating-point array.
    name : str
        Argument name used in the message.
    """
    if _finite_by_sum_of_squares(X):
        return
    xp = get_namespace(X)
    if bool(xp.all(xp.isfinite(X))):
        return
    n_nan = int(xp.sum(xp.astype(xp.isnan(X), xp.int64)))
    n_inf = int(xp.sum(xp.astype(xp.isinf(X), xp.int64)))
    raise ValueError(
        f"{name} contains {n_nan} NaN and {n_inf} infinite value(s) "
        f"(shape {shape_str(X.shape)}); expected finite numbers only. "
        "Remove or impute them before computing a distance."
    )
