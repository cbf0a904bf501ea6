"""Precomputed data RDMs as a target that cross-validation can split by stimuli."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._array import to_numpy
from .._typing import Array, ArrayLike
from .._validation import check_real_array
from ..functional._rdm_input import check_square_rdms
from ..functional.rdm import square_to_condensed

__all__ = ["DataRDMs"]


def _check_square_rdms(rdms: ArrayLike, name: str = "rdms") -> np.ndarray:
    """Check square RDMs and return them as a float64 stack.

    Parameters
    ----------
    rdms : array-like of shape (n_stimuli, n_stimuli) or (n_rdms, n_stimuli, n_stimuli)
        Symmetric dissimilarity matrices with a zero diagonal (numpy arrays,
        torch tensors or nested lists).
    name : str, default="rdms"
        The argument's name, for the messages.

    Returns
    -------
    ndarray of shape (n_rdms, n_stimuli, n_stimuli)
        A float64 copy (one RDM has ``n_rdms = 1``).
    """
    array = check_real_array(
        rdms, name, "square RDMs of shape (n_stimuli, n_stimuli) or (n_rdms, n_stimuli, n_stimuli)"
    )
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1] != array.shape[2]:
        raise ValueError(
            f"{name} must have shape (n_stimuli, n_stimuli) or (n_rdms, n_stimuli, "
            f"n_stimuli); got {array.shape}."
        )
    if array.shape[0] == 0 or array.shape[1] < 3:
        raise ValueError(
            f"{name} has shape {array.shape}; expected at least one RDM of 3 or more stimuli."
        )
    # finite, symmetric and zero on the diagonal up to rounding, relative to each RDM's scale
    check_square_rdms(array, name)
    return array


def _check_descriptors(
    descriptors: Mapping[str, Any] | None, name: str, length: int | None, axis: str
) -> dict[str, Any]:
    """A copy of a descriptor dict; with ``length``, each value has one entry per item."""
    if descriptors is None:
        return {}
    if not isinstance(descriptors, Mapping):
        raise TypeError(f"{name} must be a dict or None; got {type(descriptors).__name__}.")
    checked = {}
    for key, values in descriptors.items():
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings; got {key!r}.")
        if length is None:
            checked[key] = values
            continue
        if isinstance(values, np.ndarray):
            size = values.shape[0] if values.ndim else None
            values = values.copy()
        elif isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
            size = len(values)
            values = list(values)
        else:
            size = None
        if size != length:
            got = f"length {size}" if size is not None else f"a {type(values).__name__}"
            raise ValueError(
                f"{name}[{key!r}] must be a list or array with one value per {axis} "
                f"({length}); got {got}."
            )
        checked[key] = values
    return checked


def _take_values(values: Any, index: np.ndarray) -> Any:  # noqa: ANN401
    """The entries ``index`` of a descriptor's values, in the values' own container."""
    if isinstance(values, np.ndarray):
        return values[index]
    return [values[i] for i in index]


class DataRDMs:
    """Square RDMs of one region (one per subject or session), indexed by stimuli.

    When a region's data exist only as RDMs (the human IT RDMs of
    Kriegeskorte et al. 2008, for example), wrap them in ``DataRDMs`` and
    pass them where responses go: as ``Y`` of :class:`~skrep.RSA`, or as a
    region of :func:`skrep.benchmark_layers` and :func:`skrep.benchmark_models`.
    Selecting stimuli, ``rdms[indices]``, selects them on both axes (and
    the entries of ``pattern_descriptors``), so a cross-validation split of
    the stimuli gives the RDMs of those stimuli: ``cross_validate(RSA(), X,
    DataRDMs(rdms))`` scores each held-out set of stimuli against the RDMs of
    those stimuli. :class:`~skrep.RSA` compares a layer's RDM with each
    subject's and returns the mean (rsatoolbox's fixed-effects evaluation).

    The descriptors follow rsatoolbox's ``RDMs`` (see
    :func:`skrep.rdm.to_rsatoolbox` and :func:`skrep.rdm.from_rsatoolbox`).

    Parameters
    ----------
    rdms : array-like of shape (n_stimuli, n_stimuli) or (n_subjects, n_stimuli, n_stimuli)
        Symmetric dissimilarity matrices with a zero diagonal.
    dissimilarity_measure : str, default=None
        How the dissimilarities were computed (e.g. ``"correlation"``).
    descriptors : dict, default=None
        Descriptors of the whole set (e.g. ``{"region": "hIT"}``).
    rdm_descriptors : dict of str -> list or array, default=None
        One value per RDM (e.g. ``{"subject": [...]}``).
    pattern_descriptors : dict of str -> list or array, default=None
        One value per stimulus (e.g. ``{"category": [...]}``).

    Attributes
    ----------
    rdms : ndarray of shape (n_subjects, n_stimuli, n_stimuli)
        The RDMs, float64.
    dissimilarity_measure : str or None
        As given.
    descriptors, rdm_descriptors, pattern_descriptors : dict
        Copies of the dicts given (empty when None).
    shape : tuple of int
        ``(n_stimuli, n_stimuli)``, so that code that checks rows of responses
        finds the stimuli along the first axis.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import DataRDMs
    >>> rdm = np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]])
    >>> subset = DataRDMs(rdm, pattern_descriptors={"name": ["a", "b", "c"]})[[0, 2]]
    >>> subset.rdms[0]
    array([[0., 2.],
           [2., 0.]])
    >>> subset.pattern_descriptors
    {'name': ['a', 'c']}
    """

    def __init__(
        self,
        rdms: ArrayLike,
        *,
        dissimilarity_measure: str | None = None,
        descriptors: Mapping[str, Any] | None = None,
        rdm_descriptors: Mapping[str, Any] | None = None,
        pattern_descriptors: Mapping[str, Any] | None = None,
    ) -> None:
        array = _check_square_rdms(rdms, "rdms")
        if dissimilarity_measure is not None and not isinstance(dissimilarity_measure, str):
            raise TypeError(
                "dissimilarity_measure must be a string or None; got "
                f"{type(dissimilarity_measure).__name__}."
            )
        self.rdms = array
        self.dissimilarity_measure = dissimilarity_measure
        self.descriptors = _check_descriptors(descriptors, "descriptors", None, "")
        self.rdm_descriptors = _check_descriptors(
            rdm_descriptors, "rdm_descriptors", array.shape[0], "RDM"
        )
        self.pattern_descriptors = _check_descriptors(
            pattern_descriptors, "pattern_descriptors", array.shape[1], "stimulus"
        )

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

    def __getitem__(self, indices: Any) -> DataRDMs:  # noqa: ANN401
        """The RDMs of the selected stimuli (selected on both axes).

        Parameters
        ----------
        indices : slice, integer array or boolean mask
            The stimuli to keep, in order.

        Returns
        -------
        DataRDMs
            Their RDMs, with the descriptors of those stimuli.
        """
        index = np.arange(self.rdms.shape[1])[indices]
        subset = object.__new__(DataRDMs)  # checked already: symmetric, zero diagonal
        subset.rdms = self.rdms[:, index][:, :, index]
        subset.dissimilarity_measure = self.dissimilarity_measure
        subset.descriptors = dict(self.descriptors)
        subset.rdm_descriptors = dict(self.rdm_descriptors)
        subset.pattern_descriptors = {
            key: _take_values(values, index) for key, values in self.pattern_descriptors.items()
        }
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


def _rdm_likeness(Y: Array) -> str | None:
    """Whether responses ``Y`` look like an RDM: ``"square"``, ``"rows"`` (of one) or None.

    ``"square"``: Y is square, symmetric and zero on the diagonal. ``"rows"``:
    each row of Y is zero at exactly one column, a different one for each row,
    and those columns of Y form a symmetric matrix, as the rows of an RDM
    selected by a cross-validation split do. Responses almost never pass
    either test; RDMs of categorical models (many zeros per row) pass only the
    first, when square.
    """
    n_rows, n_columns = Y.shape
    if n_rows < 3 or n_rows > n_columns:
        return None
    # The first rows decide for almost all responses, at the cost of reading 3 rows.
    head = np.abs(to_numpy(Y[:3], "Y"))
    head_zeros = head <= 1e-12 * head.max(axis=1, keepdims=True)
    maybe_square = n_rows == n_columns and bool(head_zeros[[0, 1, 2], [0, 1, 2]].all())
    if not (maybe_square or (head_zeros.sum(axis=1) == 1).all()):
        return None
    values = to_numpy(Y, "Y")
    scale = float(np.abs(values).max())
    if scale == 0.0:
        return None
    zeros = np.abs(values) <= 1e-12 * scale

    def symmetric(A: np.ndarray) -> bool:
        return bool(np.allclose(A, A.T, rtol=1e-6, atol=1e-9 * scale))

    if n_rows == n_columns and zeros.diagonal().all() and symmetric(values):
        return "square"
    if not (zeros.sum(axis=1) == 1).all():
        return None
    columns = zeros.argmax(axis=1)
    if np.unique(columns).size == n_rows and symmetric(values[:, columns]):
        return "rows"
    return None
