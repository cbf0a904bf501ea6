"""Sparsity and selectivity of one representation, unit by unit and stimulus by stimulus.

The same statistics for model layers and brain regions, so that their
distributions compare directly. ``X`` has shape (n_stimuli, n_units): one row
per stimulus, one column per unit (a model channel, a neuron, a voxel).

- :func:`l0_sparsity`: the fraction of (near-)zero responses;
- :func:`hoyer_sparsity`: Hoyer's (2004) normalised L1/L2 ratio;
- :func:`lifetime_sparseness`: Vinje and Gallant's (2000) sparseness of each
  unit over the stimuli;
- :func:`population_sparseness`: the same formula for each stimulus over the
  units (Willmore and Tolhurst 2001);
- :func:`selectivity_index`: how much each unit prefers its best stimulus, or
  its best category, over the others.

Conventions shared by the functions:

- the sparseness and selectivity measures read ``X`` as non-negative
  activities (firing rates, post-ReLU activations) and raise a ValueError on
  negative entries; rectify (``np.maximum(X, 0)``) or shift
  (``X - X.min(axis=0)``) signed data first, whichever suits it. The L0 and
  Hoyer measures take signed data as given, through ``|x|``;
- a vector with no activity at all (a unit silent on every stimulus, a
  stimulus that silences every unit) makes these ratios 0 / 0. It raises a
  ValueError that names the silent units, unless ``silent_value`` says which
  value to report for them (``np.nan`` to mark and drop them, ``1.0`` to count
  them as maximally sparse...);
- results are numpy float64 arrays (or a float for ``axis=None``), whatever
  the input's array type.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._array import to_numpy
from .._typing import ArrayLike
from .._validation import _shape_str, check_representation
from ..exceptions import InvalidParameterError

__all__ = [
    "l0_sparsity",
    "hoyer_sparsity",
    "lifetime_sparseness",
    "population_sparseness",
    "selectivity_index",
]

_AXIS_WORDS = {0: ("unit", "units"), 1: ("stimulus", "stimuli"), None: ("entry", "entries")}


# -- input handling -----------------------------------------------------------------------
def _representation(X: ArrayLike) -> np.ndarray:
    """``X`` validated as (n_stimuli, n_units) and brought to numpy float64."""
    X = check_representation(X, "X", min_samples=1)
    return np.asarray(to_numpy(X), dtype=np.float64)


def _check_axis(axis: object, owner: str) -> int | None:
    if axis is None:
        return None
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) and int(axis) in (0, 1):
        return int(axis)
    raise InvalidParameterError(
        f"The 'axis' parameter of {owner} must be 0 (one value per unit, over the stimuli), "
        f"1 (one value per stimulus, over the units) or None (one value overall); got {axis!r}."
    )


def _check_threshold(threshold: object, owner: str) -> float:
    if (
        isinstance(threshold, numbers.Real)
        and not isinstance(threshold, bool)
        and np.isfinite(threshold)
        and threshold >= 0
    ):
        return float(threshold)
    raise InvalidParameterError(
        f"The 'threshold' parameter of {owner} must be a finite real number >= 0; got "
        f"{threshold!r}."
    )


def _check_silent_value(silent_value: object, owner: str) -> float | None:
    if silent_value is None:
        return None
    if isinstance(silent_value, numbers.Real) and not isinstance(silent_value, bool):
        return float(silent_value)
    raise InvalidParameterError(
        f"The 'silent_value' parameter of {owner} must be None (raise on silent units) or a "
        f"number such as np.nan or 1.0; got {silent_value!r}."
    )


def _check_non_negative(X: np.ndarray, owner: str) -> None:
    negative = X < 0
    if negative.any():
        raise ValueError(
            f"X holds {int(negative.sum())} negative value(s) (smallest {X.min():.3g}, shape "
            f"{_shape_str(X.shape)}), but {owner} reads responses as non-negative activities. "
            "Rectify them (np.maximum(X, 0)) or shift each unit by its minimum "
            "(X - X.min(axis=0)) first, whichever suits the data."
        )


def _check_length(X: np.ndarray, axis: int | None, owner: str) -> None:
    """The ratios need at least two values in each vector they summarise."""
    n = X.size if axis is None else X.shape[axis]
    if n < 2:
        word = _AXIS_WORDS[1 - axis if axis is not None else None][1]
        raise ValueError(
            f"X has shape {_shape_str(X.shape)}: {owner} needs at least 2 {word} in each "
            f"vector it summarises; got {n}."
        )


def _fill_silent(
    values: np.ndarray, silent: np.ndarray, silent_value: float | None, axis: int | None, owner: str
) -> np.ndarray:
    """Put ``silent_value`` where the vector had no activity, or raise naming those vectors."""
    if not silent.any():
        return values
    if silent_value is None:
        word, words = _AXIS_WORDS[axis] if axis is not None else ("matrix", "matrices")
        where = np.flatnonzero(silent)
        shown = ", ".join(str(i) for i in where[:10]) + (", ..." if where.size > 10 else "")
        which = "X is all zeros" if axis is None else f"X has silent {words} [{shown}]"
        raise ValueError(
            f"{which}: {owner} is 0 / 0 for a {word} with no activity. Pass "
            "silent_value=np.nan to mark them (and drop them later), silent_value=1.0 to "
            "count them as maximally sparse, or remove them."
        )
    values = values.copy()
    values[silent] = silent_value
    return values


def _summary(values: np.ndarray, axis: int | None) -> np.ndarray | float:
    return float(values.reshape(())) if axis is None else values


# -- sparsity -------------------------------------------------------------------------------
def l0_sparsity(
    X: ArrayLike, *, threshold: float = 0.0, axis: int | None = 0
) -> np.ndarray | float:
    """L0 sparsity: the fraction of responses that are (close to) zero.

    ``l0 = #{i : |x_i| <= threshold} / n`` over the ``n`` responses of a
    vector, that is ``1 - ||x||_0 / n`` with the L0 "norm" counting the entries
    above the threshold. 1 means a vector that never responds, 0 one that
    responds everywhere.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_stimuli, n_units)
        Responses, one row per stimulus and one column per unit; signed values
        are compared through their absolute value.
    threshold : float, default=0.0
        Largest ``|x|`` counted as silent; 0 counts exact zeros (ReLU
        outputs), a small positive value also counts near-zero responses.
    axis : {0, 1, None}, default=0
        0: one value per unit, over the stimuli (lifetime L0 sparsity);
        1: one value per stimulus, over the units (population L0 sparsity);
        None: one value for the whole matrix.

    Returns
    -------
    ndarray of shape (n_units,) or (n_stimuli,), or float
        Fractions between 0 and 1; a float when ``axis`` is None.

    See Also
    --------
    hoyer_sparsity : A continuous, scale-free counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import l0_sparsity
    >>> X = np.array([[0.0, 1.0], [0.0, 2.0], [3.0, 0.0], [0.0, 4.0]])
    >>> l0_sparsity(X)
    array([0.75, 0.25])
    >>> l0_sparsity(X, axis=None)
    0.5
    """
    threshold = _check_threshold(threshold, "l0_sparsity")
    axis = _check_axis(axis, "l0_sparsity")
    X = _representation(X)
    return _summary(np.mean(np.abs(X) <= threshold, axis=axis), axis)


def hoyer_sparsity(
    X: ArrayLike, *, axis: int | None = 0, silent_value: float | None = None
) -> np.ndarray | float:
    """Hoyer's sparsity: the L1/L2 ratio of a vector, normalised to [0, 1].

    ``h = (sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1)`` over the ``n``
    responses of a vector (Hoyer 2004). It is 1 for a vector with a single
    nonzero entry and 0 for a vector whose entries all have the same absolute
    value; it does not depend on the vector's scale or sign.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_stimuli, n_units)
        Responses, one row per stimulus and one column per unit; signed values
        are taken as given (the norms use ``|x|``).
    axis : {0, 1, None}, default=0
        0: one value per unit, over the stimuli; 1: one value per stimulus,
        over the units; None: one value for the whole matrix.
    silent_value : float or None, default=None
        Value reported for an all-zero vector, where the ratio is 0 / 0; None
        raises a ValueError naming those vectors.

    Returns
    -------
    ndarray of shape (n_units,) or (n_stimuli,), or float
        Values between 0 and 1; a float when ``axis`` is None.

    See Also
    --------
    lifetime_sparseness : Vinje and Gallant's measure for non-negative rates.
    l0_sparsity : The fraction of zero responses.

    Notes
    -----
    Each vector is divided by its largest ``|x|`` first (the measure is
    scale-free), so that squares neither overflow nor underflow; rounding is
    clipped to [0, 1]. At least two responses per vector are needed.

    References
    ----------
    Hoyer, P. O. (2004). Non-negative matrix factorization with sparseness
    constraints. Journal of Machine Learning Research, 5, 1457-1469.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import hoyer_sparsity
    >>> X = np.array([[0.0, 1.0], [0.0, 1.0], [5.0, 1.0]])
    >>> hoyer_sparsity(X)
    array([1., 0.])
    """
    axis = _check_axis(axis, "hoyer_sparsity")
    silent_value = _check_silent_value(silent_value, "hoyer_sparsity")
    X = _representation(X)
    _check_length(X, axis, "hoyer_sparsity")
    A = np.abs(X)
    n = A.size if axis is None else A.shape[axis]
    largest = np.max(A, axis=axis, keepdims=True)
    silent = np.asarray(np.max(A, axis=axis) == 0)
    A = A / np.where(largest == 0, 1.0, largest)  # scale-free; keeps squares finite
    l1 = np.sum(A, axis=axis)
    l2 = np.sqrt(np.sum(A * A, axis=axis))
    ratio = l1 / np.where(silent, 1.0, l2)
    values = np.asarray(np.clip((np.sqrt(n) - ratio) / (np.sqrt(n) - 1.0), 0.0, 1.0))
    return _summary(_fill_silent(values, silent, silent_value, axis, "hoyer_sparsity"), axis)


# -- sparseness (Vinje and Gallant; Willmore and Tolhurst) --------------------------------
def _sparseness(X: ArrayLike, axis: int, silent_value: float | None, owner: str) -> np.ndarray:
    """``(1 - (sum r / n)^2 / (sum r^2 / n)) / (1 - 1/n)`` along ``axis``."""
    silent_value = _check_silent_value(silent_value, owner)
    R = _representation(X)
    _check_non_negative(R, owner)
    _check_length(R, axis, owner)
    n = R.shape[axis]
    largest = np.max(R, axis=axis, keepdims=True)
    silent = np.max(R, axis=axis) == 0
    R = R / np.where(largest == 0, 1.0, largest)  # scale-free; keeps squares finite
    mean = np.mean(R, axis=axis)
    mean_square = np.mean(R * R, axis=axis)
    activity_ratio = mean * mean / np.where(silent, 1.0, mean_square)
    values = np.clip((1.0 - activity_ratio) / (1.0 - 1.0 / n), 0.0, 1.0)
    return _fill_silent(values, silent, silent_value, axis, owner)


def lifetime_sparseness(X: ArrayLike, *, silent_value: float | None = None) -> np.ndarray:
    """Lifetime sparseness of each unit over the stimuli (Vinje and Gallant 2000).

    ``S = (1 - (sum_i r_i / n)^2 / (sum_i r_i^2 / n)) / (1 - 1/n)`` over the
    responses ``r_i`` of one unit to the ``n`` stimuli: one minus the
    Rolls-Tovee activity ratio, rescaled to [0, 1]. It is 1 for a unit that
    responds to a single stimulus and 0 for a unit that responds equally to
    all; it does not depend on the unit's scale.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_stimuli, n_units)
        Non-negative responses (firing rates, post-ReLU activations), one row
        per stimulus and one column per unit; at least 2 stimuli.
    silent_value : float or None, default=None
        Value reported for a unit silent on every stimulus, where ``S`` is
        0 / 0; None raises a ValueError naming those units.

    Returns
    -------
    ndarray of shape (n_units,)
        Sparseness of each unit, between 0 and 1.

    Raises
    ------
    ValueError
        Negative responses (rectify or shift them first), fewer than 2
        stimuli, NaN or infinite values, or silent units with
        ``silent_value=None``.

    See Also
    --------
    population_sparseness : The same formula per stimulus over the units.
    hoyer_sparsity : Hoyer's L1/L2 measure, for signed data too.

    Notes
    -----
    Each unit is divided by its largest response first (``S`` is
    scale-free), and rounding is clipped to [0, 1].

    References
    ----------
    Vinje, W. E. and Gallant, J. L. (2000). Sparse coding and decorrelation in
    primary visual cortex during natural vision. Science, 287, 1273-1276.

    Rolls, E. T. and Tovee, M. J. (1995). Sparseness of the neuronal
    representation of stimuli in the primate temporal visual cortex. Journal
    of Neurophysiology, 73, 713-726.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import lifetime_sparseness
    >>> X = np.array([[0.0, 2.0], [0.0, 2.0], [7.0, 2.0], [0.0, 2.0]])
    >>> lifetime_sparseness(X)
    array([1., 0.])
    """
    return _sparseness(X, 0, silent_value, "lifetime_sparseness")


def population_sparseness(X: ArrayLike, *, silent_value: float | None = None) -> np.ndarray:
    """Population sparseness of each stimulus over the units (Willmore and Tolhurst 2001).

    The formula of :func:`lifetime_sparseness` applied to each row:
    ``S = (1 - (sum_j r_j / m)^2 / (sum_j r_j^2 / m)) / (1 - 1/m)`` over the
    responses ``r_j`` of the ``m`` units to one stimulus. It is 1 when a
    single unit responds to the stimulus and 0 when all respond equally;
    ``population_sparseness(X)`` equals ``lifetime_sparseness(X.T)``.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_stimuli, n_units)
        Non-negative responses, one row per stimulus and one column per unit;
        at least 2 units.
    silent_value : float or None, default=None
        Value reported for a stimulus that silences every unit, where ``S``
        is 0 / 0; None raises a ValueError naming those stimuli.

    Returns
    -------
    ndarray of shape (n_stimuli,)
        Sparseness of the population response to each stimulus, between 0 and 1.

    Raises
    ------
    ValueError
        Negative responses, fewer than 2 units, NaN or infinite values, or
        silent stimuli with ``silent_value=None``.

    See Also
    --------
    lifetime_sparseness : The same formula per unit over the stimuli.

    References
    ----------
    Willmore, B. and Tolhurst, D. J. (2001). Characterizing the sparseness of
    neural codes. Network: Computation in Neural Systems, 12, 255-270.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import population_sparseness
    >>> X = np.array([[0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    >>> population_sparseness(X)
    array([1., 0.])
    """
    return _sparseness(X, 1, silent_value, "population_sparseness")


# -- selectivity ----------------------------------------------------------------------------
def _category_means(R: np.ndarray, labels: ArrayLike) -> np.ndarray:
    """Mean response of every unit to every category, shape (n_categories, n_units)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != R.shape[0]:
        raise ValueError(
            f"labels has shape {_shape_str(labels.shape)}; expected a 1-D array with one "
            f"category per stimulus, of shape ({R.shape[0]},) to match X's rows."
        )
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError(
            "labels contains NaN or infinite values; expected a category per stimulus."
        )
    categories, codes = np.unique(labels, return_inverse=True)
    if categories.size < 2:
        raise ValueError(
            f"labels has {categories.size} distinct category; expected at least 2, since the "
            "selectivity index compares the preferred category with the others."
        )
    sums = np.zeros((categories.size, R.shape[1]))
    np.add.at(sums, codes.reshape(-1), R)
    return sums / np.bincount(codes.reshape(-1))[:, None]


def selectivity_index(
    X: ArrayLike, labels: ArrayLike | None = None, *, silent_value: float | None = None
) -> np.ndarray:
    """Selectivity index of each unit: its preferred response against the others.

    With category ``labels``, the responses of each unit are averaged within
    each category, giving means ``m_1, ..., m_k``; then
    ``SI = (r_pref - r_rest) / (r_pref + r_rest)``, where ``r_pref = max_c m_c``
    is the mean response to the preferred category and ``r_rest`` the mean of
    the other ``k - 1`` category means. Without labels every stimulus is its
    own category: ``r_pref`` is the unit's largest response and ``r_rest``
    the mean of its responses to the other ``n - 1`` stimuli. For
    non-negative responses ``SI`` lies in [0, 1]: 0 for a unit that responds
    equally to every category, 1 for one that responds to its preferred
    category only. It does not depend on the unit's scale.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_stimuli, n_units)
        Non-negative responses, one row per stimulus and one column per unit;
        at least 2 stimuli.
    labels : array-like of shape (n_stimuli,), default=None
        Category of each stimulus (at least 2 categories), or None to treat
        each stimulus as its own category.
    silent_value : float or None, default=None
        Value reported for a unit silent on every stimulus, where ``SI`` is
        0 / 0; None raises a ValueError naming those units.

    Returns
    -------
    ndarray of shape (n_units,)
        Selectivity of each unit, between 0 and 1.

    Raises
    ------
    ValueError
        Negative responses, ``labels`` of the wrong shape or with a single
        category, NaN or infinite values, or silent units with
        ``silent_value=None``.

    See Also
    --------
    lifetime_sparseness : A selectivity measure that uses every response.

    Notes
    -----
    With two categories this is the contrast index used for category
    selectivity, e.g. the face-selectivity index ``(face - nonface) /
    (face + nonface)`` of Tsao et al. (2006); with more categories the
    non-preferred categories are pooled by averaging their means, each
    category counting once whatever its number of stimuli.

    References
    ----------
    Tsao, D. Y., Freiwald, W. A., Tootell, R. B. H. and Livingstone, M. S.
    (2006). A cortical region consisting entirely of face-selective cells.
    Science, 311, 670-674.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import selectivity_index
    >>> X = np.array([[4.0, 1.0], [2.0, 1.0], [0.0, 1.0], [2.0, 1.0]])
    >>> selectivity_index(X, labels=["face", "face", "house", "house"])
    array([0.5, 0. ])
    """
    silent_value = _check_silent_value(silent_value, "selectivity_index")
    R = _representation(X)
    _check_non_negative(R, "selectivity_index")
    _check_length(R, 0, "selectivity_index")
    means = R if labels is None else _category_means(R, labels)
    k = means.shape[0]
    largest = np.max(means, axis=0)
    silent = largest == 0
    means = means / np.where(silent, 1.0, largest)  # scale-free; the preferred mean is now 1
    rest = np.where(silent, 0.0, (np.sum(means, axis=0) - 1.0) / (k - 1))
    values = np.clip((1.0 - rest) / (1.0 + rest), 0.0, 1.0)
    return _fill_silent(values, silent, silent_value, 0, "selectivity_index")
