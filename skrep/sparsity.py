"""Sparsity and selectivity of model layers and brain regions, in one tidy table.

:func:`sparsity_table` computes the statistics of
:mod:`skrep.functional.sparsity` the same way for every representation it is
given (model layers and brain regions alike), so that their distributions
compare side by side::

    table = sparsity_table({"model/conv1": A1, "model/fc7": A7, "brain/IT": R})
    seaborn.violinplot(table, x="statistic", y="value", hue="representation")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._typing import ArrayLike
from .exceptions import InvalidParameterError
from .functional import (
    hoyer_sparsity,
    l0_sparsity,
    lifetime_sparseness,
    population_sparseness,
    selectivity_index,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["sparsity_table", "STATISTICS"]

#: The statistics :func:`sparsity_table` knows, and what one of their values describes.
STATISTICS = {
    "l0_sparsity": "unit",
    "hoyer_sparsity": "unit",
    "lifetime_sparseness": "unit",
    "selectivity_index": "unit",
    "population_sparseness": "stimulus",
}


def _check_statistics(statistics: str | Sequence[str] | None) -> list[str]:
    if statistics is None:
        return list(STATISTICS)
    names = [statistics] if isinstance(statistics, str) else list(statistics)
    unknown = [name for name in names if name not in STATISTICS]
    if unknown or not names or len(set(names)) != len(names):
        raise InvalidParameterError(
            "The 'statistics' parameter of sparsity_table must be None (all of them) or "
            f"distinct names among {list(STATISTICS)}; got {statistics!r}."
        )
    return names


def _computations(
    labels: ArrayLike | None, threshold: float, silent_value: float | None
) -> dict[str, Callable[[ArrayLike], np.ndarray]]:
    """Each statistic as a function of one representation, with the table's settings."""
    return {
        "l0_sparsity": lambda X: l0_sparsity(X, threshold=threshold, axis=0),
        "hoyer_sparsity": lambda X: hoyer_sparsity(X, axis=0, silent_value=silent_value),
        "lifetime_sparseness": lambda X: lifetime_sparseness(X, silent_value=silent_value),
        "selectivity_index": lambda X: selectivity_index(X, labels, silent_value=silent_value),
        "population_sparseness": lambda X: population_sparseness(X, silent_value=silent_value),
    }


def sparsity_table(
    representations: dict[str, ArrayLike],
    *,
    labels: ArrayLike | None = None,
    threshold: float = 0.0,
    statistics: str | Sequence[str] | None = None,
    silent_value: float | None = None,
) -> pd.DataFrame:
    """Sparsity and selectivity of several representations, as one long table.

    Every statistic is computed the same way for every representation, so
    that the distributions of model layers and brain regions compare directly
    (one row per value, the long format seaborn plots from).

    Parameters
    ----------
    representations : dict of str to array-like of shape (n_stimuli, n_units)
        Name -> responses, one row per stimulus and one column per unit, e.g.
        ``{"model/conv1": A, "brain/IT": R}``. The sparseness and selectivity
        statistics need non-negative responses (firing rates, post-ReLU
        activations): rectify or shift signed data first, or ask only for
        ``l0_sparsity`` and ``hoyer_sparsity``. The representations may have
        different numbers of units, and of stimuli unless ``labels`` is given.
    labels : array-like of shape (n_stimuli,), default=None
        Category of each stimulus for :func:`~skrep.functional.selectivity_index`
        (then every representation must have these ``n_stimuli`` rows); None
        makes each stimulus its own category.
    threshold : float, default=0.0
        Largest ``|x|`` counted as silent by :func:`~skrep.functional.l0_sparsity`.
    statistics : str or sequence of str, default=None
        The statistics to compute, among ``"l0_sparsity"``,
        ``"hoyer_sparsity"``, ``"lifetime_sparseness"``,
        ``"selectivity_index"`` (one value per unit) and
        ``"population_sparseness"`` (one value per stimulus); None computes
        them all, in this order.
    silent_value : float or None, default=None
        Value reported for a unit (or stimulus) without any activity, where
        the ratios are 0 / 0; None raises a ValueError naming the
        representation and those units. ``np.nan`` keeps them as missing
        values, which seaborn and pandas summaries leave out.

    Returns
    -------
    pandas.DataFrame
        (pandas is an optional dependency: ``pip install "skrep[table]"``.)
        One row per representation, statistic and unit (or stimulus, for
        ``population_sparseness``), in the order of ``representations`` and
        ``statistics``, with columns ``representation`` (the dict key),
        ``statistic`` (the function's name), ``per`` (``"unit"`` or
        ``"stimulus"``: what the row describes), ``index`` (the column or row
        of the representation) and ``value``.

    Raises
    ------
    ValueError
        A representation that the statistic does not accept (negative
        responses, NaN, wrong dimensions, silent units...): the message names
        the representation.
    TypeError
        ``representations`` is not a non-empty dict.

    See Also
    --------
    skrep.functional.lifetime_sparseness : One of the statistics, for one array.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.sparsity import sparsity_table
    >>> rng = np.random.default_rng(0)
    >>> table = sparsity_table(
    ...     {"model/relu1": np.maximum(rng.standard_normal((50, 8)), 0) + 0.1,
    ...      "brain/V1": rng.exponential(size=(50, 5))}
    ... )
    >>> table.columns.tolist()
    ['representation', 'statistic', 'per', 'index', 'value']
    >>> table.groupby(["representation", "statistic"], sort=False).size().tolist()
    [8, 8, 8, 8, 50, 5, 5, 5, 5, 50]
    """
    import pandas as pd

    if not isinstance(representations, dict) or not representations:
        raise TypeError(
            "representations must be a non-empty dict of name -> array of shape (n_stimuli, "
            f"n_units); got {type(representations).__name__}."
        )
    names = _check_statistics(statistics)
    compute = _computations(labels, threshold, silent_value)
    columns: dict[str, list[np.ndarray]] = {
        "representation": [],
        "statistic": [],
        "per": [],
        "index": [],
        "value": [],
    }
    for key, X in representations.items():
        for statistic in names:
            try:
                values = np.asarray(compute[statistic](X), dtype=np.float64)
            except ValueError as exc:
                # InvalidParameterError (a bad setting) is about no one representation.
                if isinstance(exc, InvalidParameterError):
                    raise
                raise type(exc)(f"representations[{key!r}]: {exc}") from exc
            n = values.shape[0]
            columns["representation"].append(np.full(n, str(key), dtype=object))
            columns["statistic"].append(np.full(n, statistic, dtype=object))
            columns["per"].append(np.full(n, STATISTICS[statistic], dtype=object))
            columns["index"].append(np.arange(n))
            columns["value"].append(values)
    return pd.DataFrame({column: np.concatenate(parts) for column, parts in columns.items()})
