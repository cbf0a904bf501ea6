"""Representational similarity analysis: RDMs, their comparison and inference.

The RSA toolkit in one namespace (``import skrep.rdm``), with rsatoolbox's
definitions and numbers. The functions live in :mod:`skrep.functional`; see
:func:`compute_rdm`, :func:`compare_rdms`, :func:`noise_ceiling`,
:func:`bootstrap_comparisons`, :func:`permutation_test` and
:func:`noise_precision` (for Mahalanobis and crossnobis RDMs), the model
tests (:func:`pairwise_model_tests`, :func:`zero_tests`,
:func:`noise_ceiling_tests`), weighted models (:func:`fit_rdm_weights`,
:func:`crossvalidate_rdm_model`), the searchlight (:func:`volume_searchlight`,
:func:`searchlight_rdms`, :func:`evaluate_searchlight`, :func:`searchlight_map`),
and :class:`skrep.RSA` and :class:`skrep.WeightedRDMModel` for the estimators.

:func:`to_rsatoolbox` and :func:`from_rsatoolbox` move RDMs, with their
descriptors, to and from rsatoolbox's ``RDMs`` objects (rsatoolbox is an
optional dependency: ``pip install 'skrep[rsatoolbox]'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from ._typing import ArrayLike
from ._validation import check_finite, check_real_array
from .functional._rdm_input import check_square_rdms
from .functional.model_tests import noise_ceiling_tests, pairwise_model_tests, zero_tests
from .functional.noise import noise_covariance, noise_precision, noise_precision_stack
from .functional.rdm import (
    compute_rdm,
    condensed_to_square,
    n_conditions_of,
    square_to_condensed,
)
from .functional.rdm_compare import compare_rdms
from .functional.rdm_weights import crossvalidate_rdm_model, fit_rdm_weights, rdm_model_folds
from .functional.rsa_inference import (
    bootstrap_comparisons,
    noise_ceiling,
    permutation_test,
    pool_rdms,
)
from .functional.searchlight import (
    evaluate_searchlight,
    searchlight_map,
    searchlight_rdms,
    volume_searchlight,
)
from .metrics import DataRDMs

__all__ = [
    "compute_rdm",
    "noise_covariance",
    "noise_precision",
    "noise_precision_stack",
    "square_to_condensed",
    "condensed_to_square",
    "compare_rdms",
    "pool_rdms",
    "noise_ceiling",
    "bootstrap_comparisons",
    "permutation_test",
    "pairwise_model_tests",
    "zero_tests",
    "noise_ceiling_tests",
    "fit_rdm_weights",
    "crossvalidate_rdm_model",
    "rdm_model_folds",
    "volume_searchlight",
    "searchlight_rdms",
    "evaluate_searchlight",
    "searchlight_map",
    "to_rsatoolbox",
    "from_rsatoolbox",
]


def _import_rsatoolbox() -> ModuleType:
    """Import rsatoolbox, or explain how to install it."""
    try:
        import rsatoolbox.rdm
    except ImportError as exc:
        raise ImportError(
            "Moving RDMs to and from rsatoolbox needs rsatoolbox, which is not installed; "
            "install it with `pip install 'skrep[rsatoolbox]'`."
        ) from exc
    return rsatoolbox


def _square_stack(rdms: ArrayLike) -> np.ndarray:
    """RDMs given as condensed vectors or square matrices, as a stack of square ones."""
    dtype = getattr(rdms, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "USMm":  # as before: a TypeError
        raise TypeError(f"rdms must be a numeric array or DataRDMs; got dtype {dtype}.")
    array = check_real_array(
        rdms, "rdms", "condensed or square RDMs of real numbers, or a skrep.metrics.DataRDMs"
    )
    if array.size == 0 or (array.ndim in (1, 2) and 0 < array.shape[-1] < 3):
        raise ValueError(
            f"rdms has shape {array.shape}; expected at least one RDM of 3 or more stimuli "
            "(a condensed RDM of 3 or more pairs, or a square one of 3 rows or more)."
        )
    if array.ndim == 2 and array.shape[0] == array.shape[1]:
        try:
            check_square_rdms(array, "rdms")
        except ValueError as error:
            n = n_conditions_of(array.shape[1])
            stack = (
                ""
                if n is None
                else (
                    f" For a stack of {array.shape[0]} condensed RDMs of {n} stimuli, pass "
                    "skrep.metrics.DataRDMs(condensed_to_square(rdms))."
                )
            )
            raise ValueError(
                f"rdms has shape {array.shape}, which is read as one square RDM, but it is not "
                f"finite, symmetric and zero on the diagonal: {error}{stack}"
            ) from error
        return array
    if array.ndim == 3:
        check_square_rdms(array, "rdms")
        return array
    if array.ndim in (1, 2) and n_conditions_of(array.shape[-1]) is not None:
        check_finite(array, "rdms")
        return condensed_to_square(array)
    raise ValueError(
        f"rdms has shape {array.shape}; expected condensed RDMs of shape (n_pairs,) or "
        "(n_rdms, n_pairs) with n_pairs = n (n - 1) / 2 for n stimuli, square ones of shape "
        "(n, n) or (n_rdms, n, n), or a skrep.metrics.DataRDMs."
    )


def to_rsatoolbox(
    rdms: ArrayLike | DataRDMs,
    *,
    dissimilarity_measure: str | None = None,
    descriptors: Mapping[str, Any] | None = None,
    rdm_descriptors: Mapping[str, Any] | None = None,
    pattern_descriptors: Mapping[str, Any] | None = None,
) -> Any:  # noqa: ANN401 - rsatoolbox.rdm.RDMs, an optional dependency
    """RDMs as an ``rsatoolbox.rdm.RDMs`` object, for rsatoolbox's analyses and plots.

    Parameters
    ----------
    rdms : DataRDMs or array-like
        The RDMs: a :class:`~skrep.metrics.DataRDMs` (its descriptors come
        along), condensed vectors of shape (n_pairs,) or (n_rdms, n_pairs)
        (the output of :func:`compute_rdm`), or square matrices of shape
        (n_stimuli, n_stimuli) or (n_rdms, n_stimuli, n_stimuli). A 2-D
        array is one square RDM when it is square, otherwise a stack of
        condensed ones. Square RDMs must be symmetric with a zero diagonal.
    dissimilarity_measure : str, default=None
        How the dissimilarities were computed (e.g. ``"correlation"``);
        replaces that of a DataRDMs.
    descriptors : dict, default=None
        Descriptors of the whole set (e.g. ``{"region": "hIT"}``).
    rdm_descriptors : dict of str -> list or array, default=None
        One value per RDM (e.g. ``{"subject": [...]}``).
    pattern_descriptors : dict of str -> list or array, default=None
        One value per stimulus (rsatoolbox's patterns or conditions, e.g.
        ``{"category": [...]}``).

    Returns
    -------
    rsatoolbox.rdm.RDMs
        The same dissimilarities (condensed, in the order of
        :func:`scipy.spatial.distance.squareform`, which rsatoolbox shares)
        and descriptors. The dicts given update those of a DataRDMs. As
        rsatoolbox does, ``rdm_descriptors`` and ``pattern_descriptors``
        gain an ``"index"`` entry (0, 1, ...) unless they have one.

    See Also
    --------
    from_rsatoolbox : The way back.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.rdm import compute_rdm, to_rsatoolbox
    >>> rng = np.random.default_rng(0)
    >>> rdm = compute_rdm(rng.standard_normal((4, 10)))  # 4 stimuli, 6 pairs
    >>> rdms = to_rsatoolbox(  # doctest: +SKIP
    ...     rdm, dissimilarity_measure="correlation",
    ...     pattern_descriptors={"stimulus": ["a", "b", "c", "d"]},
    ... )
    >>> rdms.n_rdm, rdms.n_cond, rdms.pattern_descriptors["stimulus"]  # doctest: +SKIP
    (1, 4, ['a', 'b', 'c', 'd'])
    """
    rsatoolbox = _import_rsatoolbox()
    data = rdms if isinstance(rdms, DataRDMs) else DataRDMs(_square_stack(rdms))
    data = DataRDMs(
        data.rdms,
        dissimilarity_measure=(
            data.dissimilarity_measure if dissimilarity_measure is None else dissimilarity_measure
        ),
        descriptors={**data.descriptors, **(descriptors or {})},
        rdm_descriptors={**data.rdm_descriptors, **(rdm_descriptors or {})},
        pattern_descriptors={**data.pattern_descriptors, **(pattern_descriptors or {})},
    )  # checks the descriptors, and copies them (rsatoolbox adds to the dicts it is given)
    return rsatoolbox.rdm.RDMs(
        data.condensed(),
        dissimilarity_measure=data.dissimilarity_measure,
        descriptors=data.descriptors,
        rdm_descriptors=data.rdm_descriptors,
        pattern_descriptors=data.pattern_descriptors,
    )


def _without_default_index(descriptors: Mapping[str, Any], length: int) -> dict[str, Any]:
    """A copy of ``descriptors`` without the ``"index"`` 0, 1, ... that rsatoolbox adds."""
    copy = dict(descriptors)
    index = copy.get("index")
    if index is not None and np.array_equal(np.asarray(index), np.arange(length)):
        del copy["index"]
    return copy


def from_rsatoolbox(rdms_obj: Any) -> DataRDMs:  # noqa: ANN401 - rsatoolbox.rdm.RDMs
    """The RDMs of an ``rsatoolbox.rdm.RDMs`` object as a :class:`~skrep.metrics.DataRDMs`.

    The result is a target that :class:`skrep.RSA`, ``cross_validate`` and
    :func:`skrep.benchmark_models` split by stimuli on both axes;
    ``.condensed()`` gives the vectors that the functions of this module
    take.

    Parameters
    ----------
    rdms_obj : rsatoolbox.rdm.RDMs
        RDMs of at least 3 patterns, with no missing (NaN) dissimilarities.

    Returns
    -------
    DataRDMs
        The RDMs (float64, square) with the object's
        ``dissimilarity_measure``, ``descriptors``, ``rdm_descriptors`` and
        ``pattern_descriptors`` (copied; the ``"index"`` entries that
        rsatoolbox adds are dropped when they are 0, 1, ..., so that
        :func:`to_rsatoolbox` adds them back).

    See Also
    --------
    to_rsatoolbox : The way there.

    Examples
    --------
    >>> import numpy as np
    >>> from rsatoolbox.rdm import RDMs  # doctest: +SKIP
    >>> from skrep.rdm import from_rsatoolbox
    >>> vector = np.array([[1.0, 2.0, 3.0]])  # 3 stimuli
    >>> rdms = RDMs(vector, rdm_descriptors={"subject": ["s1"]})  # doctest: +SKIP
    >>> data = from_rsatoolbox(rdms)  # doctest: +SKIP
    >>> data.rdms[0], data.rdm_descriptors  # doctest: +SKIP
    (array([[0., 1., 2.],
           [1., 0., 3.],
           [2., 3., 0.]]), {'subject': ['s1']})
    """
    rsatoolbox = _import_rsatoolbox()
    if not isinstance(rdms_obj, rsatoolbox.rdm.RDMs):
        raise TypeError(
            f"rdms_obj must be an rsatoolbox.rdm.RDMs; got {type(rdms_obj).__name__}. "
            "For arrays, use skrep.metrics.DataRDMs."
        )
    vectors = np.asarray(rdms_obj.dissimilarities, dtype=np.float64)
    if vectors.ndim != 2 or n_conditions_of(vectors.shape[1]) is None:
        raise ValueError(
            f"rdms_obj.dissimilarities has shape {vectors.shape}; expected (n_rdms, n_pairs) "
            "with n_pairs = n (n - 1) / 2."
        )
    if not np.isfinite(vectors).all():
        raise ValueError(
            f"rdms_obj holds {int(np.sum(~np.isfinite(vectors)))} NaN or infinite "
            "dissimilarities (rsatoolbox marks pairs of repeated or missing patterns with "
            "NaN); skrep needs complete RDMs: select patterns without repeats first, e.g. "
            "with rdms_obj.subset_pattern()."
        )
    n_rdms, n_stimuli = vectors.shape[0], n_conditions_of(vectors.shape[1])
    measure = rdms_obj.dissimilarity_measure
    return DataRDMs(
        condensed_to_square(vectors),
        dissimilarity_measure=None if measure is None else str(measure),
        descriptors=rdms_obj.descriptors,
        rdm_descriptors=_without_default_index(rdms_obj.rdm_descriptors, n_rdms),
        pattern_descriptors=_without_default_index(rdms_obj.pattern_descriptors, n_stimuli),
    )
