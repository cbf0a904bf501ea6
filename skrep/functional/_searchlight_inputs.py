"""Checks of the searchlight functions' arguments, and the data every searchlight reads."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import array_api_compat
import numpy as np

from .._array import get_namespace, is_torch_array, to_numpy
from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_finite
from ..exceptions import InvalidParameterError
from ._rdm_input import host_max, numpy_float, power_of_two_scales, real_array
from ._rdm_pairs import check_crossnobis_labels, condition_means
from ._searchlight_kernels import Table
from .rdm import RDM_METHODS, condition_labels

__all__ = [
    "check_mask",
    "check_radius",
    "check_threshold",
    "Neighbors",
    "check_neighbors",
    "check_data",
    "prepare_table",
]


def check_mask(mask: ArrayLike) -> np.ndarray:
    """``mask`` as a 3-D boolean numpy array: booleans, or numbers that are all 0 or 1."""
    if mask is None or isinstance(mask, (str, bytes)):
        raise TypeError(f"mask must be a 3-D boolean array; got {mask!r}.")
    try:
        array = to_numpy(mask, "mask") if hasattr(mask, "__dlpack__") else np.asarray(mask)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"mask could not be read as an array ({error}); expected a 3-D boolean array."
        ) from None
    if array.ndim != 3:
        raise ValueError(
            f"mask must be a 3-D boolean array (a brain mask of shape (nx, ny, nz)); got a "
            f"{array.ndim}-D array of shape {_shape_str(array.shape)}."
        )
    if array.dtype == bool:
        return array
    if array.dtype.kind not in "iuf" or not np.all((array == 0) | (array == 1)):
        raise ValueError(
            f"mask must be boolean (or numbers that are all 0 or 1); got dtype {array.dtype}"
            + (
                ""
                if array.dtype.kind not in "iuf"
                else f" with values other than 0 and 1 "
                f"(e.g. {array[(array != 0) & (array != 1)].flat[0]!r})"
            )
            + ". Threshold it first, e.g. mask > 0."
        )
    return array == 1


def check_radius(radius: object) -> float:
    """``radius`` as a float > 0 (voxels)."""
    if (
        isinstance(radius, bool)
        or not isinstance(radius, numbers.Real)
        or not np.isfinite(radius)
        or radius <= 0
    ):
        raise InvalidParameterError(
            f"radius must be a finite number > 0 (in voxels); got {radius!r}."
        )
    return float(radius)


def check_threshold(threshold: object) -> float:
    """``threshold`` as a float in [0, 1]."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not 0.0 <= threshold <= 1.0
    ):
        raise InvalidParameterError(
            "threshold must be a number in [0, 1] (the least fraction of a sphere's voxels "
            f"that must be in the mask); got {threshold!r}."
        )
    return float(threshold)


class Neighbors:
    """Validated searchlights: the centres, and the voxels of each, grouped by size.

    Attributes
    ----------
    centers : ndarray of shape (n_centers,)
        The centres, as given (int64).
    sizes : ndarray of shape (n_centers,)
        The number of voxels of each searchlight.
    """

    def __init__(self, centers: np.ndarray, flat: np.ndarray, sizes: np.ndarray) -> None:
        self.centers = centers
        self.sizes = sizes
        self._flat = flat
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)

    def __len__(self) -> int:
        return self.sizes.size

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """(size, positions) of the searchlights of each size, smallest first."""
        return [(int(k), np.flatnonzero(self.sizes == k)) for k in np.unique(self.sizes)]

    def indices(self, positions: np.ndarray, k: int) -> np.ndarray:
        """The (len(positions), k) voxels of searchlights of size k."""
        return self._flat[self._starts[positions, None] + np.arange(k)]

    def voxels(self, position: int) -> np.ndarray:
        """The voxels of one searchlight."""
        start = self._starts[position]
        return self._flat[start : start + self.sizes[position]]


def _integer_array(x: object, name: str) -> np.ndarray:
    array = np.asarray(to_numpy(x, name) if hasattr(x, "__dlpack__") else x)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{name} must hold integer voxel indices; got dtype {array.dtype}.")
    return array.astype(np.int64)


def check_neighbors(centers: ArrayLike, neighbors: object, n_voxels: int) -> Neighbors:
    """Check the searchlights against the data's ``n_voxels`` columns."""
    centers = _integer_array(centers, "centers")
    if centers.ndim != 1 or centers.size == 0:
        raise ValueError(
            f"centers must be a non-empty 1-D array of voxel indices; got shape "
            f"{_shape_str(centers.shape)}."
        )
    if hasattr(neighbors, "__dlpack__") and not isinstance(neighbors, np.ndarray):
        neighbors = to_numpy(neighbors, "neighbors")  # e.g. a tensor
    if isinstance(neighbors, np.ndarray) and neighbors.ndim == 2:
        rows = [_integer_array(neighbors, "neighbors")]
        sizes = np.full(neighbors.shape[0], neighbors.shape[1], dtype=np.int64)
    elif isinstance(neighbors, (Sequence, np.ndarray)) and not isinstance(neighbors, (str, bytes)):
        rows = list(neighbors)
        if not all(type(nb) is np.ndarray and nb.dtype.kind in "iu" for nb in rows):
            rows = [_integer_array(nb, f"neighbors[{i}]") for i, nb in enumerate(rows)]
        for i, row in enumerate(rows):
            if row.ndim != 1:
                raise ValueError(
                    f"neighbors[{i}] has shape {_shape_str(row.shape)}; expected a 1-D array "
                    "of voxel indices."
                )
        sizes = np.array([row.size for row in rows], dtype=np.int64)
    else:
        raise TypeError(
            "neighbors must be a list of 1-D integer arrays (one per centre, as "
            f"volume_searchlight returns) or a 2-D integer array; got {type(neighbors).__name__}."
        )
    if sizes.size != centers.size:
        raise ValueError(
            f"centers has {centers.size} entries but neighbors has {sizes.size}; expected one "
            "set of neighbours per centre."
        )
    if np.any(sizes == 0):
        raise ValueError(
            f"neighbors[{int(np.argmin(sizes))}] is empty; every searchlight needs at least "
            "one voxel."
        )
    flat = np.concatenate([row.reshape(-1) for row in rows])
    bad = (flat < 0) | (flat >= n_voxels)
    if bad.any():
        where = int(np.searchsorted(np.cumsum(sizes), int(np.argmax(bad)), side="right"))
        raise ValueError(
            f"neighbors[{where}] holds voxel index {int(flat[np.argmax(bad)])}, outside the "
            f"data's {n_voxels} columns (0 to {n_voxels - 1}); expected flat indices into the "
            "columns of data (data of shape (n_observations, n_voxels), the volume raveled in "
            "C order, as volume_searchlight's indices are)."
        )
    return Neighbors(centers, flat.astype(np.intp), sizes)


def check_data(data: ArrayLike) -> Array:
    """``data`` as a real (n_observations, n_voxels) float array, finite, numpy or torch."""
    expected = "a numeric array of shape (n_observations, n_voxels)"
    data = real_array(data, "data", expected)
    if not (isinstance(data, np.ndarray) or is_torch_array(data)):
        raise TypeError(
            f"data must be a numpy array or a torch tensor; got {type(data).__name__}. "
            "Convert it with np.asarray first."
        )
    if data.ndim != 2:
        raise ValueError(
            f"data must have shape (n_observations, n_voxels); got a {data.ndim}-D array of "
            f"shape {_shape_str(data.shape)}. For a 4-D series of volumes (n, nx, ny, nz) "
            "pass data.reshape(n, -1)."
        )
    check_finite(data, "data")
    return data


def _transposed(means: Array) -> Array:
    """(n_voxels, n_columns) contiguous copy of (n_columns, n_voxels) ``means``."""
    if isinstance(means, np.ndarray):
        return np.ascontiguousarray(means.T)
    return means.T.contiguous()


def _cell_sums(data: Array, codes: np.ndarray, n_cells: int) -> Array:
    """(n_cells, n_voxels) sums of the rows of each code."""
    if isinstance(data, np.ndarray):
        order = np.argsort(codes, kind="stable")
        starts = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_cells))[:-1]])
        return np.add.reduceat(data[order], starts, axis=0)
    xp = get_namespace(data)
    device = array_api_compat.device(data)
    sums = xp.zeros((n_cells, data.shape[1]), dtype=data.dtype, device=device)
    return sums.index_add_(0, xp.asarray(codes, device=device), data)


def prepare_table(
    data: Array, method: str, conditions: ArrayLike | None, runs: ArrayLike | None
) -> Table:
    """The per-voxel table every searchlight gathers from (see :class:`Table`)."""
    if not (isinstance(method, str) and method in RDM_METHODS):
        raise InvalidParameterError(f"method must be one of {list(RDM_METHODS)}; got {method!r}.")
    n_observations = data.shape[0]
    conditions, runs, order, n_conditions = condition_labels(
        conditions, runs, n_observations, "data", data.shape
    )
    xp = get_namespace(data)
    counts = None
    if method == "crossnobis":
        if runs is None:
            raise ValueError(
                "method='crossnobis' needs runs: the run of each observation, so that each "
                "run's condition means can be compared with those of the others."
            )
        run_values = check_crossnobis_labels(conditions, order, runs)
        codes = np.searchsorted(run_values, runs) * n_conditions + np.searchsorted(
            order, conditions
        )
        n_cells = run_values.size * n_conditions
        counts = np.bincount(codes, minlength=n_cells).reshape(run_values.size, n_conditions)
        # run-major columns: (run, condition) of column j is divmod(j, n_conditions)
        values = _transposed(_cell_sums(data, codes, n_cells))
        counts = xp.asarray(counts, dtype=data.dtype, device=array_api_compat.device(data))
    else:
        if runs is not None:
            raise ValueError(
                f"runs is used by method='crossnobis' only; got method={method!r}. Leave "
                "runs=None, or choose crossnobis."
            )
        values = _transposed(condition_means(data[None, ...], conditions, order, xp)[0, ...])
    scale = float(power_of_two_scales(host_max(values, 2), numpy_float(values)))
    if scale != 1.0:
        values = values * scale
    return Table(values, method, n_conditions, scale, counts, order)
