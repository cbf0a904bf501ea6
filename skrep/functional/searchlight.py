"""Volume searchlights: an RDM in a small sphere around every voxel, and maps of their scores.

A searchlight analysis (Kriegeskorte et al. 2006) computes an RDM from the
voxels within a sphere around each voxel of a brain mask, compares it with
model RDMs, and maps the comparison back to the volume. The definitions are
rsatoolbox 0.3.2's (``rsatoolbox.util.searchlight``), with the same centres,
neighbours and RDMs:

- :func:`volume_searchlight` finds the centres and each one's neighbours,
  as flat (C-order) indices into the *whole volume* (not into the masked
  voxels), like ``get_volume_searchlight``;
- :func:`searchlight_rdms` computes every searchlight's RDM from data of shape
  (n_observations, n_voxels), the volume raveled in C order
  (``volumes.reshape(n, -1)``), like ``get_searchlight_RDMs``, in batched
  matrix products instead of one RDM at a time;
- :func:`evaluate_searchlight` compares each searchlight's RDM with model
  RDMs (:func:`skrep.functional.compare_rdms`);
- :func:`searchlight_map` puts one value per centre back into the volume.

Examples
--------
>>> import numpy as np
>>> mask = np.zeros((8, 8, 8), dtype=bool)
>>> mask[1:7, 1:7, 1:7] = True
>>> centers, neighbors = volume_searchlight(mask, radius=2)
>>> centers.size, neighbors[0].size
(64, 27)
>>> data = np.random.default_rng(0).standard_normal((6, mask.size))
>>> rdms = searchlight_rdms(data, centers, neighbors)
>>> rdms.shape
(64, 15)
>>> scores = evaluate_searchlight(rdms, np.arange(15.0))
>>> searchlight_map(scores, centers, mask.shape).shape
(8, 8, 8)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import array_api_compat
import numpy as np
from sklearn import get_config

from .._array import get_namespace, is_torch_array, move_to_device, to_numpy
from .._parameters import check_device
from .._typing import Array, ArrayLike, Device
from .._validation import _shape_str
from ..exceptions import InvalidParameterError
from ._rdm_input import numpy_float
from ._searchlight_inputs import (
    Neighbors,
    check_data,
    check_mask,
    check_neighbors,
    check_radius,
    check_threshold,
    prepare_table,
)
from ._searchlight_kernels import SearchlightProblem, Table, batch_rdms
from ._searchlight_noise import SearchlightNoise
from ._searchlight_volume import sphere_fractions, sphere_neighbors, sphere_offsets
from .rdm_compare import compare_named

__all__ = ["volume_searchlight", "searchlight_rdms", "evaluate_searchlight", "searchlight_map"]

_MIB = 2**20
#: Bytes of a batch's temporaries on the CPU (cache-sized; see _batch_size).
_CPU_BUDGET = 8 * _MIB


def volume_searchlight(
    mask: ArrayLike, radius: float, threshold: float = 1.0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Searchlight centres in a mask and the voxels of each one's sphere, as rsatoolbox.

    The same centres and neighbours, in the same order, as rsatoolbox 0.3.2's
    ``get_volume_searchlight(mask, radius, threshold)``, computed for all
    voxels at once (two correlations of the volume with the sphere).

    Parameters
    ----------
    mask : array-like of shape (nx, ny, nz)
        Brain mask: booleans, or numbers that are all 0 or 1.
    radius : float
        Radius of the spheres in voxels: a sphere holds the voxels of the
        volume at a Euclidean distance strictly below ``radius`` from its
        centre (radius 3: 93 voxels), cut by the faces of the volume, not by
        the mask.
    threshold : float, default=1.0
        Least fraction, in [0, 1], of a sphere's voxels that are in the mask
        for its centre (a mask voxel) to be kept; 1.0 keeps spheres entirely
        inside the mask. Below 1 the neighbours include the sphere's voxels
        outside the mask.

    Returns
    -------
    centers : ndarray of shape (n_centers,)
        Flat (C-order) indices of the centres into the whole volume
        (``np.ravel_multi_index(coordinates, mask.shape)``), increasing.
    neighbors : list of ndarray
        For each centre, the flat indices into the whole volume of its
        sphere's voxels, ordered as rsatoolbox orders them (by the second
        axis, then the first, then the third).

    Raises
    ------
    ValueError
        If no voxel qualifies (rsatoolbox fails there too), the mask is not
        3-D or not boolean.
    InvalidParameterError
        If ``radius`` is not a finite number > 0 or ``threshold`` is not in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.ones((5, 5, 5), dtype=bool)
    >>> centers, neighbors = volume_searchlight(mask, radius=1.5)
    >>> centers.size, [n.size for n in neighbors][:2]
    (125, [7, 10])
    """
    mask = check_mask(mask)
    radius = check_radius(radius)
    threshold = check_threshold(threshold)
    if not mask.any():
        raise ValueError("mask has no True voxel; expected a brain mask with at least one voxel.")
    offsets = sphere_offsets(radius)
    fractions = sphere_fractions(mask, offsets)
    centers = np.flatnonzero(mask & (fractions >= threshold))
    if centers.size == 0:
        raise ValueError(
            f"No voxel of mask has at least {threshold:g} of its sphere (radius {radius:g}, "
            f"{offsets.shape[0]} voxels) in the mask (the most is {fractions[mask].max():.3g}); "
            "lower threshold or radius."
        )
    return centers, sphere_neighbors(centers, offsets, mask.shape)


def _batch_size(table: Table, k: int, with_noise: bool) -> int:
    """Searchlights per batch whose temporaries fit sklearn's ``working_memory``.

    On the CPU also at most ``_CPU_BUDGET``: small batches keep their
    temporaries in the processor's cache (measured on 10 592 searchlights of
    93 voxels x 92 conditions: batches of 16 (8 MiB) took 0.7-0.9 s, batches of
    1000 or more 1.3-1.8 s). On a GPU the whole working memory is used.
    """
    itemsize = np.dtype(numpy_float(table.values)).itemsize
    n, columns = table.n_conditions, table.values.shape[1]
    entries = 2 * k * columns + 3 * n * n + 6 * table.n_pairs
    if table.method == "crossnobis":
        entries += 4 * k * n
    if with_noise:
        entries += 3 * k * k + 2 * n * k
    budget = int(get_config()["working_memory"] * _MIB)
    values = table.values
    if isinstance(values, np.ndarray) or values.device.type == "cpu":
        budget = min(budget, _CPU_BUDGET)
    return max(1, budget // (itemsize * entries))


def _check_chunk(chunk: object) -> None:
    if chunk is not None and (
        isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1
    ):
        raise InvalidParameterError(
            f"chunk must be None (sized from sklearn's working_memory) or an integer >= 1 "
            f"(searchlights per batch); got {chunk!r}."
        )


def searchlight_rdms(
    data: ArrayLike,
    centers: ArrayLike,
    neighbors: Sequence[ArrayLike] | ArrayLike,
    conditions: ArrayLike | None = None,
    method: str = "correlation",
    *,
    runs: ArrayLike | None = None,
    noise: Sequence[ArrayLike] | ArrayLike | None = None,
    residuals: ArrayLike | None = None,
    chunk: int | None = None,
    device: Device = None,
) -> Array:
    """The RDM of every searchlight, as rsatoolbox's ``get_searchlight_RDMs``, in batches.

    Searchlights with the same number of voxels are computed together: their
    patterns are gathered into one (batch, n_voxels, n_conditions) stack and
    each RDM method is one batched matrix product. Condition means (and,
    for crossnobis, per-run sums) are taken once over the whole volume
    before the searchlights gather them.

    Parameters
    ----------
    data : array-like or torch.Tensor of shape (n_observations, n_voxels)
        Responses: one row per observation, one column per voxel of the
        volume raveled in C order (``volumes.reshape(n, -1)``), as
        rsatoolbox's ``data_2d``. A torch tensor is computed on its device,
        in its precision (float32 or float64).
    centers : array-like of shape (n_centers,)
        The centres (from :func:`volume_searchlight`); they order the output.
    neighbors : list of array-like, or array of shape (n_centers, k)
        Each centre's voxels: flat indices into the columns of ``data``.
    conditions : array-like of shape (n_observations,), default=None
        Condition of each observation (rsatoolbox's ``events``); observations
        are averaged per condition, and the conditions are sorted. None: each
        observation is a condition.
    method : str, default="correlation"
        A :func:`skrep.functional.compute_rdm` method: "correlation",
        "cosine", "euclidean", "sqeuclidean", "mahalanobis" or "crossnobis".
        rsatoolbox's "euclidean" (squared, divided by the number of voxels)
        is "sqeuclidean" here.
    runs : array-like of shape (n_observations,), default=None
        Run of each observation, for "crossnobis" (leave one run out, as
        ``compute_rdm``; rsatoolbox's ``get_searchlight_RDMs`` uses the k-th
        repetition of each condition as fold k, which is the runs when every
        run holds each condition once, in run order).
    noise : list of arrays, or array of shape (n_centers, k, k), default=None
        For "mahalanobis" and "crossnobis": one noise precision per
        searchlight, (k_i, k_i) for its k_i voxels in the order of its
        neighbours; None is the identity.
    residuals : array-like of shape (n_residuals, n_voxels), default=None
        For "mahalanobis" and "crossnobis", instead of ``noise``: residuals
        from which each searchlight's precision is estimated, batch by batch,
        with :func:`skrep.functional.noise_precision` ("shrinkage_diag",
        rsatoolbox's ``prec_from_residuals`` default).
    chunk : int, default=None
        Searchlights per batch. None sizes the batches so that their
        temporaries stay within ``sklearn.get_config()["working_memory"]``
        (MiB), and on the CPU within 8 MiB, which keeps them in the
        processor's cache (twice as fast as large batches). The result does
        not depend on it.
    device : None, str or torch.device, default=None
        Where to compute: None where ``data`` is (numpy stays numpy), or a
        torch device ("cpu", "cuda") that numpy data is moved to.

    Returns
    -------
    ndarray or torch.Tensor of shape (n_centers, n_pairs)
        Condensed RDMs (``n_pairs = n_conditions (n_conditions - 1) / 2``,
        the upper triangle row by row), in the order of ``centers``; in the
        data's namespace, dtype and device. For a tensor that requires grad
        they carry gradients, those of the formulas in the notes (equal to
        ``compute_rdm``'s away from zero distances, where "euclidean"'s square
        root has none).

    Raises
    ------
    ValueError
        Among others: an index of ``neighbors`` outside the columns of
        ``data``, labels of the wrong length, and a searchlight whose RDM is
        undefined (a constant pattern for "correlation", a precision that is
        not positive semi-definite), named by its position and centre.

    Notes
    -----
    Each batch's RDMs are computed with ``compute_rdm``'s formulas as whole
    n x n products (for many small RDMs that is about twice as fast as its
    blocks of rows): with ``A`` a searchlight's (k voxels, n conditions)
    patterns, "correlation" is ``1 - G_ij / sqrt(G_ii G_jj)`` with ``G = A'A``
    of the patterns centred across voxels ("cosine": not centred); the
    squared distances are ``K_ii + K_jj - K_ij - K_ji`` with ``K = A'PA``
    (crossnobis: ``A'PB`` of the other runs' and the held-out run's means,
    averaged over runs), divided by k. They agree with ``compute_rdm`` of each
    searchlight's columns to rounding (about 1e-15 relative). Conditions with
    identical patterns in a searchlight get distances at rounding level
    there, where ``compute_rdm`` gives exact zeros.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((6, 6, 6), dtype=bool)
    >>> mask[1:5, 1:5, 1:5] = True
    >>> centers, neighbors = volume_searchlight(mask, radius=2, threshold=1.0)
    >>> rng = np.random.default_rng(0)
    >>> data = rng.standard_normal((12, mask.size))
    >>> rdms = searchlight_rdms(
    ...     data, centers, neighbors, conditions=np.tile(np.arange(4), 3),
    ...     method="crossnobis", runs=np.repeat(np.arange(3), 4))
    >>> rdms.shape
    (8, 6)
    """
    check_device(device, "searchlight_rdms")
    _check_chunk(chunk)
    data = move_to_device(check_data(data), device)
    searchlights = check_neighbors(centers, neighbors, data.shape[1])
    table = prepare_table(data, method, conditions, runs)
    noise_source = SearchlightNoise(noise, residuals, method, searchlights, data.shape[1])
    with_noise = noise is not None or residuals is not None
    xp = get_namespace(table.values)
    device = array_api_compat.device(table.values)
    dtype = table.values.dtype
    out = xp.empty((len(searchlights), table.n_pairs), dtype=dtype, device=device)
    for k, positions in searchlights.groups():
        size = chunk or _batch_size(table, k, with_noise)
        for start in range(0, positions.size, size):
            batch = positions[start : start + size]
            _write(out, batch, _batch(table, searchlights, noise_source, batch, k))
    return out


def _batch(
    table: Table, searchlights: Neighbors, noise: SearchlightNoise, batch: np.ndarray, k: int
) -> Array:
    """The RDMs of one batch of searchlights of size k, with a named error if one is undefined."""
    xp = get_namespace(table.values)
    like = xp.zeros(
        (batch.size, 1, k), dtype=table.values.dtype, device=array_api_compat.device(table.values)
    )
    P, p_scales = noise.batch(batch, like)
    try:
        return batch_rdms(table, searchlights.indices(batch, k), P, p_scales)
    except SearchlightProblem as problem:
        i = int(batch[problem.position])
        raise ValueError(
            f"The RDM of searchlight {i} (centre {int(searchlights.centers[i])}, {k} voxels) of "
            f"data is undefined: {problem}"
        ) from None


def _write(out: Array, positions: np.ndarray, values: Array) -> None:
    if isinstance(out, np.ndarray):
        out[positions] = values
    else:
        out[get_namespace(out).asarray(positions, device=array_api_compat.device(out))] = values


def evaluate_searchlight(rdms: ArrayLike, model_rdms: ArrayLike, method: str = "spearman") -> Array:
    """Compare every searchlight's RDM with model RDMs.

    :func:`skrep.functional.compare_rdms` of the searchlight RDMs with the
    models, shaped for a map: the values rsatoolbox's
    ``evaluate_models_searchlight(sl_rdms, models, eval_fixed, method)``
    gives for fixed models (its ``evaluations[0, :, 0]`` per searchlight).

    Parameters
    ----------
    rdms : array-like or torch.Tensor of shape (n_centers, n_pairs)
        Searchlight RDMs, from :func:`searchlight_rdms`.
    model_rdms : array-like or torch.Tensor of shape (n_pairs,) or (n_models, n_pairs)
        One model RDM, or several (condensed, or square (n_models, n, n)).
    method : str, default="spearman"
        A comparison of :func:`~skrep.functional.compare_rdms` ("spearman",
        "pearson" (rsatoolbox's "corr"), "cosine", "tau-a", "rho-a", "tau-b",
        "corr_cov", "cosine_cov").

    Returns
    -------
    ndarray or torch.Tensor of shape (n_centers,) or (n_centers, n_models)
        The comparisons, float64: one column per model, none for a single
        1-D model RDM. A tensor when an input is one (as compare_rdms).

    Raises
    ------
    skrep.exceptions.UndefinedComparisonError
        If a searchlight's RDM (or a model's) is constant, named by its index.

    Examples
    --------
    >>> import numpy as np
    >>> rdms = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    >>> evaluate_searchlight(rdms, np.array([0.1, 0.2, 0.4]))
    array([ 1., -1.])
    """
    single = getattr(model_rdms, "ndim", np.ndim(model_rdms)) == 1
    result = compare_named(rdms, model_rdms, method, ("rdms", "model_rdms"), "evaluate_searchlight")
    return result[:, 0] if single else result


def _check_shape(shape: object) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not (
        isinstance(shape, Sequence)
        and len(shape) >= 1
        and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in shape
        )
    ):
        raise InvalidParameterError(
            f"shape must be a tuple of positive integers (the volume's shape, e.g. "
            f"mask.shape); got {shape!r}."
        )
    return tuple(int(s) for s in shape)


def searchlight_map(
    values: ArrayLike, centers: ArrayLike, shape: Sequence[int], fill: float = np.nan
) -> Array:
    """Put one value per searchlight centre back into the volume.

    Parameters
    ----------
    values : array-like or torch.Tensor of shape (n_centers,) or (n_centers, n_maps)
        A value per centre (e.g. from :func:`evaluate_searchlight`), or
        several.
    centers : array-like of shape (n_centers,)
        The centres' flat (C-order) indices into the volume, distinct.
    shape : tuple of int
        The volume's shape (``mask.shape``).
    fill : float, default=nan
        The value of the voxels that are not centres. NaN marks them as
        "no searchlight here" for plotting and for nibabel images: this is a
        map, not a result to compute with.

    Returns
    -------
    ndarray or torch.Tensor of shape ``shape`` or ``(*shape, n_maps)``
        In the values' namespace and device; their floating dtype (float64
        for integers and booleans).

    Examples
    --------
    >>> import numpy as np
    >>> searchlight_map(np.array([0.5, 0.25]), np.array([0, 3]), (2, 2))
    array([[0.5 ,  nan],
           [ nan, 0.25]])
    """
    shape = _check_shape(shape)
    if isinstance(fill, bool) or not isinstance(fill, numbers.Real):
        raise InvalidParameterError(f"fill must be a number (NaN allowed); got {fill!r}.")
    centers = np.asarray(to_numpy(centers, "centers") if is_torch_array(centers) else centers)
    n_voxels = math.prod(shape)
    if centers.ndim != 1 or centers.dtype.kind not in "iu":
        raise ValueError(
            f"centers must be a 1-D array of integer voxel indices; got shape "
            f"{_shape_str(centers.shape)} and dtype {centers.dtype}."
        )
    if centers.size and (centers.min() < 0 or centers.max() >= n_voxels):
        raise ValueError(
            f"centers holds indices from {centers.min()} to {centers.max()}, outside the "
            f"{n_voxels} voxels of shape {shape}; expected flat indices into that volume."
        )
    if np.unique(centers).size != centers.size:
        raise ValueError("centers holds repeated indices; expected one value per voxel.")
    if not is_torch_array(values):
        values = np.asarray(values)
    if values.ndim not in (1, 2) or values.shape[0] != centers.size:
        raise ValueError(
            f"values has shape {_shape_str(tuple(values.shape))}; expected ({centers.size},) or "
            f"({centers.size}, n_maps): one value (or row) per centre."
        )
    xp = get_namespace(values)
    if not xp.isdtype(values.dtype, "real floating"):
        values = xp.astype(values, xp.float64)
    device = array_api_compat.device(values)
    volume = xp.full((n_voxels, *values.shape[1:]), fill, dtype=values.dtype, device=device)
    if isinstance(volume, np.ndarray):
        volume[centers] = values
    else:
        volume[xp.asarray(centers, device=device)] = values
    return xp.reshape(volume, (*shape, *values.shape[1:]))
