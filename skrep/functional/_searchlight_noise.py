"""Noise precisions of searchlights: given one per centre, or estimated from residuals per batch."""

from __future__ import annotations

from collections.abc import Sequence

import array_api_compat
import numpy as np

from .._array import get_namespace, is_torch_array, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_finite
from ._rdm_input import checked_precision, real_array
from ._searchlight_inputs import Neighbors
from .noise import noise_precision

__all__ = ["SearchlightNoise"]


class SearchlightNoise:
    """The noise precisions of batches of searchlights (or none).

    Parameters
    ----------
    noise : sequence of arrays, or array of shape (n_centers, k, k), or None
        One precision per searchlight, (k_i, k_i) for its k_i voxels.
    residuals : array of shape (n_residuals, n_voxels), or None
        Residuals, from which each searchlight's precision is estimated
        (:func:`skrep.functional.noise_precision`, "shrinkage_diag").
    method : str
        The RDM method.
    searchlights : Neighbors
        The validated searchlights.
    n_voxels : int
        The data's columns.
    """

    def __init__(
        self,
        noise: Sequence[ArrayLike] | ArrayLike | None,
        residuals: ArrayLike | None,
        method: str,
        searchlights: Neighbors,
        n_voxels: int,
    ) -> None:
        self.noise = None
        self.residuals = None
        self._voxels = searchlights.voxels
        if noise is None and residuals is None:
            return
        if method not in ("mahalanobis", "crossnobis"):
            given = "noise" if noise is not None else "residuals"
            raise ValueError(
                f"{given} is used by method='mahalanobis' and 'crossnobis' only; got "
                f"method={method!r}. Leave {given}=None, or choose one of those methods."
            )
        if noise is not None and residuals is not None:
            raise ValueError(
                "Pass noise (one precision per searchlight) or residuals (to estimate them "
                "from), not both."
            )
        if residuals is not None:
            R = real_array(residuals, "residuals", "an array of shape (n_residuals, n_voxels)")
            R = np.asarray(to_numpy(R), dtype=np.float64)
            if R.ndim != 2 or R.shape[1] != n_voxels:
                raise ValueError(
                    f"residuals has shape {_shape_str(R.shape)}; expected (n_residuals, "
                    f"{n_voxels}): one column per column of data."
                )
            check_finite(R, "residuals")
            self.residuals = R
            return
        if isinstance(noise, (str, bytes)) or not (
            isinstance(noise, Sequence) or hasattr(noise, "shape")
        ):
            raise TypeError(
                "noise must be a list of precision matrices (one per centre) or an array of "
                f"shape (n_centers, k, k); got {type(noise).__name__}."
            )
        if hasattr(noise, "shape") and len(noise.shape) != 3:
            raise ValueError(
                f"noise has shape {_shape_str(tuple(noise.shape))}; expected one precision "
                "per centre: a list of (k_i, k_i) arrays or an array of shape (n_centers, k, k). "
                "To estimate them from residuals of shape (n_residuals, n_voxels), pass "
                "residuals= instead."
            )
        if len(noise) != len(searchlights):
            raise ValueError(
                f"noise has {len(noise)} precision(s) but there are {len(searchlights)} "
                "centres; expected one per centre."
            )
        self.noise = noise

    def batch(self, positions: np.ndarray, like: Array) -> tuple[Array | None, np.ndarray | None]:
        """The checked (batch, k, k) precisions at unit scale and their scales, or (None, None).

        Parameters
        ----------
        positions : ndarray of shape (batch,)
            The searchlights (all of one size k).
        like : array of shape (batch, n, k)
            Any array of the batch's namespace, dtype, device and shape.
        """
        if self.noise is None and self.residuals is None:
            return None, None
        if self.residuals is not None:
            stack = self._estimated(positions)
        else:
            k = like.shape[-1]
            matrices = []
            for i in positions:
                matrix = self.noise[int(i)]
                shape = tuple(matrix.shape) if hasattr(matrix, "shape") else np.shape(matrix)
                if shape != (k, k):
                    raise ValueError(
                        f"noise[{int(i)}] has shape {_shape_str(shape)}; expected ({k}, {k}) "
                        f"for searchlight {int(i)}'s {k} voxels."
                    )
                matrices.append(to_numpy(matrix) if is_torch_array(matrix) else matrix)
            stack = np.stack([np.asarray(m) for m in matrices])
        xp = get_namespace(like)
        stack = xp.asarray(stack, device=array_api_compat.device(like))
        try:
            return checked_precision(stack, like, single=False)
        except ValueError:
            for j, i in enumerate(positions):  # name the first searchlight that fails
                try:
                    checked_precision(stack[j : j + 1], like[j : j + 1], single=False)
                except ValueError as error:
                    raise ValueError(
                        f"The noise precision of searchlight {int(i)} is unusable: {error}"
                    ) from None
            raise

    def _estimated(self, positions: np.ndarray) -> np.ndarray:
        voxels = [self.residuals[:, self._voxels(int(i))] for i in positions]
        try:
            return noise_precision(voxels)
        except ValueError:
            for i, block in zip(positions, voxels, strict=True):
                try:
                    noise_precision(block)
                except ValueError as error:
                    raise ValueError(
                        f"The noise precision of searchlight {int(i)} could not be estimated "
                        f"from residuals: {error}"
                    ) from None
            raise
