"""Variance partitioning: the explained variance unique to each feature band, and shared.

With bands A and B, fit banded ridge models on A, on B and on both, and
measure each one's held-out R^2. Read as the areas of a Venn diagram of
explained variance (de Heer et al. 2017, Lescroart et al. 2015; Net2Brain's
variance partitioning), inclusion-exclusion gives

- unique to A: ``R2(AB) - R2(B)``; unique to B: ``R2(AB) - R2(A)``;
- shared by A and B: ``R2(A) + R2(B) - R2(AB)``.

With three bands A, B, C (seven regions, from the seven models):

- unique to A: ``R2(ABC) - R2(BC)`` (and likewise for B and C);
- shared by A and B only: ``R2(AC) + R2(BC) - R2(C) - R2(ABC)`` (and likewise);
- shared by all three: ``R2(A) + R2(B) + R2(C) - R2(AB) - R2(AC) - R2(BC) + R2(ABC)``.

In general, the region shared by exactly the bands T (and by no other) is
``sum over S subset of T of (-1)**(|S| + 1) R2((bands not in T) + S)``, with
``R2() = 0``. The regions add up to the joint model's R^2. Held-out R^2
estimates are noisy and models are fitted separately, so a region can come
out negative (the literature reports such values as they are, or clips
them at zero; nothing is clipped here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
from sklearn.utils import Bunch

from .._typing import ArrayLike, RandomState
from .._validation import check_paired_samples, check_representation
from ..exceptions import InvalidParameterError
from ._banded_inputs import band_weight_candidates, check_bands, fold_splits
from ._prediction_scores import score_predictions
from .banded_ridge import DEFAULT_ALPHAS, banded_ridge_predict, fit_banded_ridge

__all__ = ["variance_partitioning", "partition_explained_variance", "band_subsets"]


def band_subsets(n_bands: int) -> list[tuple[int, ...]]:
    """Every non-empty subset of ``range(n_bands)``, by size, then in lexicographic order.

    Parameters
    ----------
    n_bands : int
        Number of bands.

    Returns
    -------
    list of tuple of int
        ``2**n_bands - 1`` subsets; the last is all bands.

    Examples
    --------
    >>> band_subsets(2)
    [(0,), (1,), (0, 1)]
    """
    return [c for size in range(1, n_bands + 1) for c in combinations(range(n_bands), size)]


def partition_explained_variance(
    r2: Mapping[tuple[int, ...], ArrayLike],
) -> dict[tuple[int, ...], np.ndarray]:
    """Split explained variance into the regions of a Venn diagram of bands.

    Parameters
    ----------
    r2 : mapping of tuple of int to array-like of shape (n_targets,) or float
        The held-out R^2 of the model on each non-empty subset of the bands
        ``0, ..., n_bands - 1`` (keys: sorted band indices, e.g. ``(0,)``,
        ``(1,)``, ``(0, 1)``).

    Returns
    -------
    dict of tuple of int to ndarray
        For every non-empty subset T, the variance explained by exactly the
        bands of T (unique to a band for a singleton, shared otherwise).
        The values add up to the joint model's R^2.

    Examples
    --------
    >>> parts = partition_explained_variance({(0,): 0.5, (1,): 0.4, (0, 1): 0.6})
    >>> {k: round(float(v), 3) for k, v in parts.items()}
    {(0,): 0.2, (1,): 0.1, (0, 1): 0.3}
    """
    keys = [tuple(sorted(int(b) for b in key)) for key in r2]
    n_bands = 1 + max(max(key) for key in keys) if keys else 0
    values = {
        key: np.asarray(value, dtype=np.float64)
        for key, value in zip(keys, r2.values(), strict=True)
    }
    missing = [s for s in band_subsets(n_bands) if s not in values]
    if n_bands < 2 or missing or len(values) != 2**n_bands - 1:
        raise ValueError(
            f"r2 has the subsets {sorted(values, key=lambda s: (len(s), s))}; expected the R^2 "
            f"of every non-empty subset of at least 2 bands numbered from 0"
            + (f" (missing {missing[:3]})." if missing else ".")
        )
    every = frozenset(range(n_bands))
    regions = {}
    for region in band_subsets(n_bands):
        outside = every - set(region)
        total = 0.0
        for size in range(len(region) + 1):
            for part in combinations(region, size):
                model = tuple(sorted(outside | set(part)))
                if model:
                    total = total + (-1.0) ** (size + 1) * values[model]
        regions[region] = np.asarray(total, dtype=np.float64)
    return regions


def _stacked(X: object, bands: Sequence[object] | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """X as one array and its bands' columns, from an array and bands or a list of arrays."""
    if bands is not None:
        X = check_representation(X, "X")
        return np.asarray(X, dtype=np.float64), check_bands(bands, X.shape[1])
    if isinstance(X, np.ndarray) or not isinstance(X, Sequence):
        raise InvalidParameterError(
            "bands is None, so X must be a list of 2-D arrays, one per band; got "
            f"{type(X).__name__}. Pass bands=[...] with a single 2-D X."
        )
    blocks = [np.asarray(check_representation(x, f"X[{k}]"), np.float64) for k, x in enumerate(X)]
    for k, block in enumerate(blocks[1:], start=1):
        check_paired_samples(blocks[0], block, names=("X[0]", f"X[{k}]"))
    ends = np.cumsum([0] + [b.shape[1] for b in blocks])
    return np.hstack(blocks), [np.arange(a, b) for a, b in zip(ends[:-1], ends[1:], strict=True)]


def _subset_candidates(n_iter: object, subset: tuple[int, ...]) -> object:
    """The candidates of a sub-model: the given weights of its bands, rows rescaled to sum 1."""
    if isinstance(n_iter, (int, np.integer)):
        return n_iter
    weights = np.asarray(n_iter, dtype=np.float64)[:, list(subset)]
    sums = weights.sum(axis=1)
    if not np.any(sums > 0):
        raise InvalidParameterError(
            f"The candidate band weights (n_iter) give no positive weight to bands {subset}; "
            "expected each band to be weighted by at least one candidate."
        )
    return weights[sums > 0] / sums[sums > 0, None]


def variance_partitioning(
    X: object,
    Y: ArrayLike,
    bands: Sequence[object] | None = None,
    *,
    alphas: ArrayLike = DEFAULT_ALPHAS,
    n_iter: int | ArrayLike = 100,
    concentration: float | Sequence[float] = (0.1, 1.0),
    cv: object = 5,
    inner_cv: object = 5,
    scoring: str = "r2",
    fit_intercept: bool = False,
    random_state: RandomState = None,
    target_chunk: int | None = None,
) -> Bunch:
    """Held-out R^2 of the joint and sub-models of feature bands, and its partition.

    For each outer fold of ``cv``, a banded ridge model
    (:func:`~skrep.functional.banded_ridge.fit_banded_ridge`, with its own
    inner cross-validation ``inner_cv``) is fitted on the training samples
    for every non-empty subset of the bands, and scored by R^2 on the held-out
    samples; the R^2 are averaged over outer folds and partitioned by
    :func:`partition_explained_variance` (formulas in the module docstring).

    Parameters
    ----------
    X : array of shape (n_samples, n_features), or list of arrays (n_samples, n_features_b)
        Features with ``bands``, or one array per band (``bands=None``).
    Y : array-like of shape (n_samples, n_targets)
        Responses.
    bands : sequence of (slice, sequence of int or bool mask) or None, default=None
        The disjoint columns of each band of a 2-D X (2 or 3 bands are
        usual: ``2**n_bands - 1`` models are fitted).
    alphas : float or array-like of shape (n_alphas,), default=logspace(-1, 5, 7)
        Candidate ridge strengths.
    n_iter : int or array-like of shape (n_candidates, n_bands), default=100
        Candidate band weightings of the joint model, or their number. The
        sub-models draw as many (one band: plain ridge), or take the given
        weights of their bands, each row rescaled to sum 1.
    concentration : float or sequence of float, default=(0.1, 1.0)
        Dirichlet concentrations of the draws.
    cv : int, splitter or iterable of (train, test), default=5
        Outer folds, on which R^2 is measured (one (train, test) pair for a
        single held-out set).
    inner_cv : int, splitter or iterable of (train, test), default=5
        Folds of each outer training set choosing the band weights and alphas.
    scoring : {"r2", "pearson", "neg_mse"}, default="r2"
        How the inner cross-validation scores held-out predictions.
    fit_intercept : bool, default=False
        Centre features and responses on the training means.
    random_state : int, RandomState or None, default=None
        Seed of the Dirichlet draws.
    target_chunk : int or None, default=None
        Targets processed at once.

    Returns
    -------
    Bunch
        ``subsets`` (the band subsets, joint model last); ``r2`` (dict:
        subset -> held-out R^2 per target); ``joint`` (the joint model's R^2);
        ``unique`` (n_bands, n_targets): variance explained by each band
        alone; ``shared`` (dict: subset of 2 or more bands -> the variance
        shared by exactly those bands); ``partition`` (dict of every region).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A, B = rng.standard_normal((200, 3)), rng.standard_normal((200, 3))
    >>> Y = A @ np.ones((3, 2)) + rng.standard_normal((200, 2))
    >>> parts = variance_partitioning([A, B], Y, alphas=[1.0, 10.0], n_iter=5, random_state=0)
    >>> bool(np.all(parts.unique[0] > 0.5)), bool(np.all(np.abs(parts.unique[1]) < 0.05))
    (True, True)
    """
    X, band_columns = _stacked(X, bands)
    Y = check_representation(Y, "Y")
    check_paired_samples(X, Y)
    Y = np.asarray(Y, dtype=np.float64)
    n_bands = len(band_columns)
    if n_bands < 2:
        raise ValueError(f"Got {n_bands} band; variance partitioning needs at least 2 bands.")
    band_weight_candidates(n_bands, n_iter, concentration, random_state)  # checked up front
    subsets = band_subsets(n_bands)
    outer = fold_splits(cv, X.shape[0], "r2")
    totals = np.zeros((len(subsets), Y.shape[1]))
    for train, test in outer:
        for s, subset in enumerate(subsets):
            model = fit_banded_ridge(
                X[train],
                Y[train],
                [band_columns[b] for b in subset],
                alphas,
                n_iter=_subset_candidates(n_iter, subset),
                concentration=concentration,
                cv=inner_cv,
                scoring=scoring,
                fit_intercept=fit_intercept,
                random_state=random_state,
                target_chunk=target_chunk,
            )
            prediction = banded_ridge_predict(model, X[test])
            totals[s] += score_predictions(Y[test], prediction, "r2")
    r2 = {subset: totals[s] / len(outer) for s, subset in enumerate(subsets)}
    partition = partition_explained_variance(r2)
    return Bunch(
        subsets=subsets,
        r2=r2,
        joint=r2[subsets[-1]],
        unique=np.stack([partition[(b,)] for b in range(n_bands)]),
        shared={key: value for key, value in partition.items() if len(key) > 1},
        partition=partition,
    )
