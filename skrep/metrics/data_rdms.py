"""Precomputed data RDMs as a target that cross-validation can split by stimuli."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import ArrayLike
from ..functional.rdm import square_to_condensed

__all__ = ["DataRDMs"]


class DataRDMs:
    """Square RDMs of one region (one per subject or session), indexed by stimuli.

    When a region's data exist only as RDMs (the human IT RDMs of
    Kriegeskorte et al. 2008, for example), wrap them in ``DataRDMs`` and
    pass them where responses go: as ``Y`` of :class:`~skrep.RSA`, or as a
    region of :func:`skrep.benchmark_layers` and :func:`skrep.benchmark_models`.
    Selecting stimuli, ``rdms[indices]``, selects them on both axes, so a
    cross-validation split of the stimuli gives the RDMs of those stimuli.
    :class:`~skrep.RSA` compares a layer's RDM with each subject's and
    returns the mean (rsatoolbox's fixed-effects evaluation).

    Parameters
    ----------
    rdms : array-like of shape (n_stimuli, n_stimuli) or (n_subjects, n_stimuli, n_stimuli)
        Symmetric dissimilarity matrices with a zero diagonal.

    Attributes
    ----------
    rdms : ndarray of shape (n_subjects, n_stimuli, n_stimuli)
        The RDMs, float64.
    shape : tuple of int
        ``(n_stimuli, n_stimuli)``, so that code that checks rows of responses
        finds the stimuli along the first axis.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import DataRDMs
    >>> rdm = np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]])
    >>> DataRDMs(rdm)[[0, 2]].rdms[0]
    array([[0., 2.],
           [2., 0.]])
    """

    def __init__(self, rdms: ArrayLike) -> None:
        array = np.asarray(rdms)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"rdms must be a numeric array; got dtype {array.dtype}.")
        array = array.astype(np.float64)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[1] != array.shape[2]:
            raise ValueError(
                f"rdms must have shape (n_stimuli, n_stimuli) or (n_subjects, n_stimuli, "
                f"n_stimuli); got {array.shape}."
            )
        if array.shape[0] == 0 or array.shape[1] < 3:
            raise ValueError(
                f"rdms has shape {array.shape}; expected at least one RDM of 3 or more stimuli."
            )
        if not np.isfinite(array).all():
            raise ValueError("rdms contains NaN or inf; expected finite dissimilarities.")
        if not np.allclose(array, array.transpose(0, 2, 1)):
            raise ValueError("rdms are not symmetric; expected symmetric dissimilarity matrices.")
        if np.abs(np.diagonal(array, axis1=1, axis2=2)).max() > 1e-12:
            raise ValueError("rdms have a nonzero diagonal; expected zeros on the diagonal.")
        self.rdms = array

    @property
    def shape(self) -> tuple[int, int]:
        """The stimuli, as ``(n_stimuli, n_stimuli)``."""
        return (self.rdms.shape[1], self.rdms.shape[2])

    @property
    def ndim(self) -> int:
        """Two: stimuli by stimuli."""
        return 2

    def __len__(self) -> int:
        """Return the number of stimuli."""
        return self.rdms.shape[1]

    def __getitem__(self, indices: Any) -> DataRDMs:
        """The RDMs of the selected stimuli (selected on both axes).

        Parameters
        ----------
        indices : slice, integer array or boolean mask
            The stimuli to keep, in order.

        Returns
        -------
        DataRDMs
            Their RDMs.
        """
        index = np.arange(self.rdms.shape[1])[indices]
        subset = object.__new__(DataRDMs)  # checked already: symmetric, zero diagonal
        subset.rdms = self.rdms[:, index][:, :, index]
        return subset

    def condensed(self) -> np.ndarray:
        """The RDMs as condensed vectors.

        Returns
        -------
        ndarray of shape (n_subjects, n_pairs)
            Upper triangles, row by row (the order of
            :func:`scipy.spatial.distance.squareform`).
        """
        return np.asarray(square_to_condensed(self.rdms))

    def __repr__(self) -> str:
        """Describe the RDMs by their number and size."""
        return f"DataRDMs({self.rdms.shape[0]} RDMs of {self.rdms.shape[1]} stimuli)"
