"""Neural predictivity (Brain-Score style): per-neuroid correlations and split-half ceilings.

A *neuroid* is one recorded channel (a neuron, a multi-unit site, a voxel).
A model's neural predictivity is the Pearson r, per neuroid, between the
responses a linear map of the model's features predicts for held-out stimuli
and the measured ones; the ceiling says how well the measurements predict
themselves: the split-half reliability of the trial-averaged responses,
corrected to the full number of trials by the Spearman-Brown formula.
"""

from __future__ import annotations

import numpy as np

from .._array import to_numpy
from .._typing import ArrayLike, RandomState
from .._validation import (
    _shape_str,
    check_finite,
    check_positive_int,
    check_real_array,
    check_representation,
)
from ._extreme_scales import divide_by, power_of_two_above, powers_of_two_above

__all__ = ["neuroid_correlations", "split_half_ceiling"]


def _constant_columns(A: np.ndarray) -> np.ndarray:
    """Indices of the columns of ``A`` whose values are all equal (up to rounding)."""
    A = _unit_columns(A)  # exact; the spread of data beyond 2**1023 would overflow
    spread = np.ptp(A, axis=0)
    scale = np.max(np.abs(A), axis=0)
    return np.flatnonzero(spread <= 8 * np.finfo(np.float64).eps * scale)


def _unit_columns(A: np.ndarray) -> np.ndarray:
    """``A`` with each column divided by the power of two nearest its largest magnitude.

    A division by a power of two is exact, and a Pearson r does not change
    when a column is scaled, so the r of data at 1e300 (whose products
    overflow) or 1e-300 (whose products underflow) are those of data at 1.
    """
    largest = np.max(np.abs(A), axis=0) if A.shape[0] else np.zeros(A.shape[1:])
    return A / powers_of_two_above(largest)


def _column_correlations(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``A`` with the same column of ``B`` (no constant column)."""
    A, B = _unit_columns(A), _unit_columns(B)
    A = A - A.mean(axis=0)
    B = B - B.mean(axis=0)
    r = np.sum(A * B, axis=0) / np.sqrt(np.sum(A * A, axis=0) * np.sum(B * B, axis=0))
    return np.clip(r, -1.0, 1.0)


def neuroid_correlations(Y_pred: ArrayLike, Y: ArrayLike) -> np.ndarray:
    """Pearson r between predicted and measured responses, per neuroid (column).

    Parameters
    ----------
    Y_pred : array-like or torch.Tensor of shape (n_stimuli, n_neuroids)
        Predicted responses, e.g. of a linear map from model features.
    Y : array-like or torch.Tensor of shape (n_stimuli, n_neuroids)
        Measured responses to the same stimuli (at least 2).

    Returns
    -------
    ndarray of shape (n_neuroids,)
        One float64 r per neuroid, in [-1, 1].

    Raises
    ------
    ValueError
        Shapes that differ, fewer than 2 stimuli, NaN or inf, or a constant
        column in either argument (its r is undefined; the message names the
        argument and the column instead of returning NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import neuroid_correlations
    >>> Y = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> neuroid_correlations(2 * Y + 1, Y)
    array([1., 1.])
    """
    P = to_numpy(check_representation(Y_pred, "Y_pred"), "Y_pred").astype(np.float64)
    M = to_numpy(check_representation(Y, "Y"), "Y").astype(np.float64)
    if P.shape != M.shape:
        raise ValueError(
            f"Y_pred has shape {_shape_str(P.shape)} but Y has shape {_shape_str(M.shape)}; "
            "expected one prediction per stimulus (row) and neuroid (column)."
        )
    # The measured responses first: a constant neuroid in Y makes any fitted
    # prediction of it constant too, and Y is the argument to fix.
    for name, A in (("Y", M), ("Y_pred", P)):
        constant = _constant_columns(A)
        if constant.size:
            j = int(constant[0])
            raise ValueError(
                f"{name} has a constant column {j} (all {A.shape[0]} values equal "
                f"{A[0, j]!r}"
                + (f"; {constant.size} constant columns in all" if constant.size > 1 else "")
                + "), so its Pearson r is undefined; expected every neuroid to vary "
                "across stimuli. Drop the constant neuroids first."
            )
    return _column_correlations(P, M)


def _check_trials(trials: ArrayLike) -> np.ndarray:
    """Validate repeated measurements: a finite 3-D array with at least 2 trials and stimuli."""
    if trials is None:
        raise ValueError(
            "trials is None; expected a 3-D array of shape (n_trials, n_stimuli, n_neuroids)."
        )
    expected = "a 3-D array of real numbers of shape (n_trials, n_stimuli, n_neuroids)"
    A = check_real_array(trials, "trials", expected)
    if A.ndim != 3:
        raise ValueError(
            f"trials must be a 3-D array of shape (n_trials, n_stimuli, n_neuroids); got a "
            f"{A.ndim}-D array of shape {_shape_str(A.shape)}."
        )
    n_trials, n_stimuli, n_neuroids = A.shape
    if n_trials < 2:
        raise ValueError(
            f"trials has {n_trials} trial(s) (shape {_shape_str(A.shape)}); a split-half "
            "reliability needs at least 2 repetitions of each stimulus (axis 0)."
        )
    if n_stimuli < 2:
        raise ValueError(
            f"trials has {n_stimuli} stimulus (shape {_shape_str(A.shape)}); a correlation "
            "across stimuli needs at least 2 (axis 1)."
        )
    if n_neuroids < 1:
        raise ValueError(
            f"trials has no neuroid (shape {_shape_str(A.shape)}); expected at least one "
            "column (axis 2)."
        )
    check_finite(A, "trials")
    return A


def split_half_ceiling(
    trials: ArrayLike, *, n_splits: int = 10, random_state: RandomState = None
) -> np.ndarray:
    """Split-half reliability of each neuroid, Spearman-Brown corrected (the noise ceiling).

    For each of ``n_splits`` random halvings of the trials, the responses are
    averaged over each half (``n_trials // 2`` trials each; with an odd number
    of trials one trial is left out of that split) and, per neuroid, the
    Pearson r across stimuli between the two half means is computed. The r
    are averaged over splits, then corrected to the full number of trials n
    by the Spearman-Brown formula ``rho = k r / (1 + (k - 1) r)`` with
    ``k = n / (n // 2)``: ``2 r / (1 + r)`` for an even number of trials, as
    Brain-Score's internal-consistency ceiling does (with an odd number, the
    halves hold ``n // 2`` trials, and ``k`` scales them up to all ``n``).

    Parameters
    ----------
    trials : array-like of shape (n_trials, n_stimuli, n_neuroids)
        Repeated measurements: ``trials[t, i, j]`` is neuroid j's response to
        stimulus i on repetition t (at least 2 trials and 2 stimuli).
    n_splits : int, default=10
        Number of random halvings averaged.
    random_state : int, numpy Generator or None, default=None
        Seed of the halvings, passed to :func:`numpy.random.default_rng` (a
        Generator is used as it is, so repeated calls continue its stream).

    Returns
    -------
    ndarray of shape (n_neuroids,)
        The reliability of each neuroid's trial-averaged response, at most 1;
        negative when the halves disagree more than chance (and ``-inf`` for
        a mean r of exactly -1).

    Raises
    ------
    ValueError
        Fewer than 2 trials or stimuli, NaN or inf, or a neuroid whose
        half-mean is constant across stimuli in some split (its r is
        undefined).

    See Also
    --------
    neuroid_correlations : The per-neuroid Pearson r of a model's predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import split_half_ceiling
    >>> signal = np.random.default_rng(0).standard_normal((20, 3))
    >>> split_half_ceiling(np.stack([signal] * 4), random_state=0)
    array([1., 1., 1.])
    """
    check_positive_int(n_splits, "n_splits", "split_half_ceiling")
    A = _check_trials(trials)
    # Exact rescaling by a power of two (r is scale-invariant): half means of
    # data near the float64 limits neither overflow nor lose their digits.
    A = divide_by(A, power_of_two_above(A))
    rng = np.random.default_rng(random_state)
    half = A.shape[0] // 2
    total = np.zeros(A.shape[2])
    for split in range(n_splits):
        order = rng.permutation(A.shape[0])
        first = A[order[:half]].mean(axis=0)
        second = A[order[half : 2 * half]].mean(axis=0)
        constant = np.union1d(_constant_columns(first), _constant_columns(second))
        if constant.size:
            raise ValueError(
                f"trials: in split {split}, the half-mean response of neuroid "
                f"{int(constant[0])} is constant across stimuli, so its split-half "
                "correlation is undefined; expected every neuroid to vary across stimuli. "
                "Drop the constant neuroids first."
            )
        total += _column_correlations(first, second)
    r = total / n_splits
    k = A.shape[0] / half  # from the trials in a half to all of them
    with np.errstate(divide="ignore"):
        return k * r / (1 + (k - 1) * r)
