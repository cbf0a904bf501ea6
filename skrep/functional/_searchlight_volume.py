"""Spheres of a volume searchlight: offsets, the fraction of each sphere in the mask, neighbours.

rsatoolbox 0.3.2's definitions (``rsatoolbox.util.searchlight.
get_volume_searchlight``), computed for all centres at once:

- a sphere holds the voxels of the volume whose Euclidean distance to the
  centre (in voxels) is *strictly* below ``radius``; spheres are cut by the
  faces of the volume (never by the mask);
- a mask voxel is a centre when the fraction of its sphere's voxels that are
  in the mask is at least ``threshold``;
- a sphere's voxels are listed in the order of rsatoolbox's
  ``np.meshgrid(x, y, z)`` ("xy" indexing): by the second axis, then the
  first, then the third.

The fractions are two correlations of the volume with the sphere
(:func:`scipy.ndimage.correlate`): the number of mask voxels in each sphere
and the number of the volume's voxels in it.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

__all__ = ["sphere_offsets", "sphere_fractions", "sphere_neighbors"]

#: Centres whose neighbours are built together (bounds the temporaries).
_CENTRE_BLOCK = 1 << 15


def sphere_offsets(radius: float) -> np.ndarray:
    """The (m, 3) integer offsets of a sphere's voxels from its centre, in rsatoolbox's order.

    Parameters
    ----------
    radius : float
        Positive radius in voxels; offsets at a distance strictly below it.

    Returns
    -------
    ndarray of shape (m, 3)
        int64 offsets, sorted by the second, the first, then the third axis.
    """
    reach = int(np.ceil(radius)) - 1  # the largest integer strictly below radius
    steps = np.arange(-reach, reach + 1)
    # axis order (second, first, third), as rsatoolbox's meshgrid ravels them
    second, first, third = np.meshgrid(steps, steps, steps, indexing="ij")
    offsets = np.stack([first.ravel(), second.ravel(), third.ravel()], axis=1)
    # cdist's distance: the square root of an exact integer sum of squares
    inside = np.sqrt(np.sum(offsets.astype(np.float64) ** 2, axis=1)) < radius
    return offsets[inside]


def _kernel(offsets: np.ndarray) -> np.ndarray:
    reach = int(np.abs(offsets).max(initial=0))
    kernel = np.zeros((2 * reach + 1,) * 3, dtype=np.int32)
    kernel[tuple((offsets + reach).T)] = 1
    return kernel


def sphere_fractions(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """For every voxel, the fraction of its sphere's voxels (in the volume) that are in ``mask``.

    Parameters
    ----------
    mask : ndarray of shape (nx, ny, nz), bool
        The mask.
    offsets : ndarray of shape (m, 3)
        The sphere, from :func:`sphere_offsets`.

    Returns
    -------
    ndarray of shape (nx, ny, nz)
        float64 fractions, as rsatoolbox's ``mask[neighbors].mean()``.
    """
    kernel = _kernel(offsets)  # symmetric: correlation and convolution agree
    inside = scipy.ndimage.correlate(mask.astype(np.int32), kernel, mode="constant", cval=0)
    in_volume = scipy.ndimage.correlate(
        np.ones(mask.shape, dtype=np.int32), kernel, mode="constant", cval=0
    )
    return inside.astype(np.float64) / in_volume


def sphere_neighbors(
    centers: np.ndarray, offsets: np.ndarray, shape: tuple[int, int, int]
) -> list[np.ndarray]:
    """The flat indices of each centre's sphere, cut by the faces of the volume.

    Parameters
    ----------
    centers : ndarray of shape (n_centers,)
        Flat (C-order) indices of the centres in a volume of ``shape``.
    offsets : ndarray of shape (m, 3)
        The sphere, from :func:`sphere_offsets`.
    shape : tuple of 3 int
        The volume's shape.

    Returns
    -------
    list of ndarray
        One intp array per centre, the flat indices of its sphere's voxels in
        the volume, in the order of ``offsets``.
    """
    strides = np.array([shape[1] * shape[2], shape[2], 1], dtype=np.intp)
    flat_offsets = offsets.astype(np.intp) @ strides
    neighbors: list[np.ndarray] = []
    for start in range(0, centers.size, _CENTRE_BLOCK):
        block = centers[start : start + _CENTRE_BLOCK].astype(np.intp)
        coordinates = np.stack(np.unravel_index(block, shape), axis=1)
        inside = np.ones((block.size, offsets.shape[0]), dtype=bool)
        for axis in range(3):
            moved = coordinates[:, axis, None] + offsets[None, :, axis]
            inside &= (moved >= 0) & (moved < shape[axis])
        flat = block[:, None] + flat_offsets[None, :]
        if inside.all():
            neighbors.extend(flat)
            continue
        counts = inside.sum(axis=1)
        neighbors.extend(np.split(flat[inside], np.cumsum(counts)[:-1]))
    return neighbors
