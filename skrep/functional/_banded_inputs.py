"""Checks of the inputs of banded ridge: feature bands and candidate band weights.

A band is a set of feature columns (a slice, a sequence of column indices or
a boolean mask); the bands of a model are disjoint. The candidate band
weights of the random search are rows of non-negative numbers, one per band,
either given or drawn from a Dirichlet distribution as himalaya draws them
(``himalaya.kernel_ridge.generate_dirichlet_samples``), so that a seed gives
the candidates himalaya's ``BandedRidgeCV`` searches.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

from .._typing import RandomState
from ..exceptions import InvalidParameterError

__all__ = ["check_bands", "check_concentration", "band_weight_candidates", "fold_splits"]


def _band_indices(band: object, k: int, n_features: int) -> np.ndarray:
    """The column indices of band ``k`` (unchecked for overlaps)."""
    if isinstance(band, slice):
        return np.arange(n_features)[band]
    if isinstance(band, (str, bytes)) or np.ndim(band) != 1:
        raise InvalidParameterError(
            f"bands[{k}] is {band!r}; expected a slice, a 1-D sequence of column indices or "
            "a 1-D boolean mask over the columns of X."
        )
    values = np.asarray(band)
    if values.dtype == np.bool_:
        if values.size != n_features:
            raise ValueError(
                f"bands[{k}] is a boolean mask of length {values.size}; X has {n_features} "
                "columns, expected one entry per column."
            )
        return np.flatnonzero(values)
    if values.size and not np.issubdtype(values.dtype, np.integer):
        raise InvalidParameterError(
            f"bands[{k}] holds values of dtype {values.dtype}; expected integer column indices."
        )
    values = values.astype(np.int64)
    outside = values[(values < 0) | (values >= n_features)]
    if outside.size:
        raise ValueError(
            f"bands[{k}] holds column index {int(outside[0])}, outside the {n_features} "
            f"columns of X; expected indices in [0, {n_features - 1}]."
        )
    if np.unique(values).size != values.size:
        raise ValueError(f"bands[{k}] lists a column more than once; expected distinct columns.")
    return values


def check_bands(bands: object, n_features: int) -> list[np.ndarray]:
    """The column indices of every feature band, checked to be non-empty and disjoint.

    Parameters
    ----------
    bands : sequence of (slice, sequence of int or bool mask)
        One entry per band.
    n_features : int
        Columns of X.

    Returns
    -------
    list of ndarray of int
        The columns of each band, in the order given within each band.

    Examples
    --------
    >>> [b.tolist() for b in check_bands([slice(0, 2), [4, 2]], 5)]
    [[0, 1], [4, 2]]
    """
    if isinstance(bands, (str, bytes, slice, np.ndarray)) or not isinstance(bands, Sequence):
        raise InvalidParameterError(
            f"bands must be a list of bands (slices, index lists or boolean masks); got {bands!r}."
        )
    if len(bands) == 0:
        raise InvalidParameterError("bands is empty; expected at least one band of columns.")
    indices = [_band_indices(band, k, n_features) for k, band in enumerate(bands)]
    owner = np.full(n_features, -1)
    for k, columns in enumerate(indices):
        if columns.size == 0:
            raise ValueError(
                f"bands[{k}] ({bands[k]!r}) selects no column of X ({n_features} columns); "
                "expected at least one column per band."
            )
        taken = columns[owner[columns] >= 0]
        if taken.size:
            raise ValueError(
                f"Column {int(taken[0])} of X is in bands[{int(owner[taken[0]])}] and in "
                f"bands[{k}]; expected disjoint bands (each column in at most one band)."
            )
        owner[columns] = k
    return indices


def check_concentration(concentration: object) -> np.ndarray:
    """Dirichlet concentrations as a 1-D float array of positive values (inf allowed).

    Parameters
    ----------
    concentration : float or sequence of float
        One concentration, or several that the draws cycle through.

    Returns
    -------
    ndarray of shape (n_concentrations,)
        The concentrations.
    """
    try:
        values = np.atleast_1d(np.asarray(concentration, dtype=np.float64))
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.ndim != 1 or values.size == 0 or np.any(np.isnan(values)) or np.any(values <= 0):
        raise InvalidParameterError(
            "concentration must be a positive number or a non-empty sequence of positive "
            f"numbers (inf for equal weights); got {concentration!r}."
        )
    return values


def _dirichlet_draws(
    n_draws: int, n_bands: int, concentration: np.ndarray, random_state: RandomState
) -> np.ndarray:
    """Draws cycling through the concentrations: c0, c1, c0, c1, ..."""
    generator = check_random_state(random_state)
    per_concentration = math.ceil(n_draws / concentration.size)
    blocks = []
    for value in concentration:
        if np.isinf(value):
            blocks.append(np.full((per_concentration, n_bands), 1.0 / n_bands))
        else:
            blocks.append(generator.dirichlet(np.full(n_bands, value), per_concentration))
    # (n_concentrations, per, n_bands) -> rows alternating between concentrations
    interleaved = np.stack(blocks).transpose(1, 0, 2).reshape(-1, n_bands)
    return interleaved[:n_draws]


def band_weight_candidates(
    n_bands: int,
    n_iter: int | object = 100,
    concentration: float | Sequence[float] = (0.1, 1.0),
    random_state: RandomState = None,
) -> np.ndarray:
    """The band weightings a banded ridge random search tries.

    With an int ``n_iter``, the first candidate weighs the bands equally and
    the others are drawn from a symmetric Dirichlet distribution on the
    simplex, cycling through the concentrations (small ones favour weights
    near a corner, one band dominating; 1 is uniform on the simplex; inf
    gives equal weights): the draws of himalaya 0.4.11's random search for
    the same seed. An array is taken as the candidates themselves.

    Parameters
    ----------
    n_bands : int
        Number of bands.
    n_iter : int or array-like of shape (n_candidates, n_bands), default=100
        Number of candidates to draw, or the candidates (non-negative, finite,
        each row with a positive sum; not normalised).
    concentration : float or sequence of float, default=(0.1, 1.0)
        Dirichlet concentrations (unused when ``n_iter`` is an array).
    random_state : int, RandomState or None, default=None
        Seed of the draws (``numpy.random.RandomState``, as himalaya).

    Returns
    -------
    ndarray of shape (n_candidates, n_bands)
        The candidates (float64).

    Examples
    --------
    >>> band_weight_candidates(2, 3, random_state=0).shape
    (3, 2)
    >>> band_weight_candidates(2, 3, random_state=0)[0]
    array([0.5, 0.5])
    """
    if isinstance(n_iter, numbers.Integral) and not isinstance(n_iter, bool):
        if n_iter < 1:
            raise InvalidParameterError(
                f"n_iter must be an int >= 1 or an array of candidate band weights; got {n_iter!r}."
            )
        concentration = check_concentration(concentration)
        if n_bands == 1:  # the only weighting (numpy's draws can round it to 1 - 1e-16)
            return np.ones((int(n_iter), 1))
        candidates = _dirichlet_draws(int(n_iter), n_bands, concentration, random_state)
        candidates[0] = 1.0 / n_bands
        return candidates
    try:
        candidates = np.array(n_iter, dtype=np.float64)
    except (TypeError, ValueError):
        candidates = np.empty(0)
    if candidates.ndim != 2 or candidates.shape[0] == 0 or candidates.shape[1] != n_bands:
        raise InvalidParameterError(
            f"n_iter must be an int >= 1 or an array of candidate band weights of shape "
            f"(n_candidates, {n_bands}), one column per band; got {n_iter!r}."
        )
    if not np.all(np.isfinite(candidates)) or np.any(candidates < 0):
        raise InvalidParameterError(
            f"The candidate band weights (n_iter) must be finite and non-negative; got {n_iter!r}."
        )
    empty = np.flatnonzero(candidates.sum(axis=1) <= 0)
    if empty.size:
        raise InvalidParameterError(
            f"Candidate {int(empty[0])} of the band weights (n_iter) is all zeros; expected "
            "each candidate to weigh at least one band."
        )
    return candidates


def fold_splits(cv: object, n_samples: int, scoring: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of ``cv``, checked.

    Parameters
    ----------
    cv : int, splitter or iterable of (train, test)
        An int k is k contiguous folds without shuffling (scikit-learn's and
        himalaya's ``KFold(k)``); an object with ``split`` is asked for its
        folds of the samples; an iterable gives them.
    n_samples : int
        Number of samples.
    scoring : str
        How held-out predictions are scored ("r2" and "pearson" need two
        test samples per fold).

    Returns
    -------
    list of (ndarray, ndarray)
        Integer index arrays.
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if not 2 <= cv <= n_samples:
            raise InvalidParameterError(
                f"cv={cv!r} folds for {n_samples} samples; expected an int in [2, {n_samples}]."
            )
        folds = np.array_split(np.arange(n_samples), int(cv))
        splits = [
            (np.concatenate(folds[:k] + folds[k + 1 :]), test) for k, test in enumerate(folds)
        ]
    elif isinstance(cv, (str, bytes)) or not hasattr(cv, "__iter__") and not hasattr(cv, "split"):
        raise InvalidParameterError(
            f"cv must be an int, a cross-validation splitter or an iterable of (train, test) "
            f"index arrays; got {cv!r}."
        )
    elif hasattr(cv, "split"):
        splits = list(cv.split(np.zeros((n_samples, 1))))
    else:
        splits = list(cv)
    if not splits:
        raise ValueError(f"cv={cv!r} gives no split; expected at least one (train, test) pair.")
    checked = []
    for k, (train, test) in enumerate(splits):
        train, test = np.asarray(train).ravel(), np.asarray(test).ravel()
        if train.dtype == np.bool_:
            train = np.flatnonzero(train)
        if test.dtype == np.bool_:
            test = np.flatnonzero(test)
        every = np.concatenate([train, test])
        if every.size and (
            not np.issubdtype(every.dtype, np.integer)
            or every.min() < 0
            or every.max() >= n_samples
        ):
            raise ValueError(
                f"Split {k} of cv holds indices outside [0, {n_samples - 1}]; expected integer "
                f"indices of the {n_samples} samples."
            )
        least = 1 if scoring == "neg_mse" else 2
        if train.size == 0 or test.size < least:
            raise ValueError(
                f"Split {k} of cv has {train.size} training and {test.size} test samples; "
                f"expected at least 1 and {least} (the {scoring!r} score of fewer is undefined)."
            )
        checked.append((train.astype(np.intp), test.astype(np.intp)))
    return checked
