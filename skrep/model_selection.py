"""Scoring many layers against many brain regions: the tidy table of a model benchmark."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import check_cv

from ._typing import Array, ArrayLike
from ._validation import check_paired_samples, check_representation
from .metrics import RSA, DataRDMs

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["benchmark_layers", "best_layer_scores", "stimulus_splits"]


def check_named_arrays(mapping: Mapping[str, Any], label: str) -> dict[str, Any]:
    """Check a dict name -> array (n_stimuli, n_features); DataRDMs pass as they are.

    Parameters
    ----------
    mapping : dict of str -> array-like or DataRDMs
        Layers or regions.
    label : str
        The argument's name, for error messages.

    Returns
    -------
    dict of str -> array or DataRDMs
        The checked arrays, keyed by string names.
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise TypeError(
            f"{label} must be a non-empty dict of name -> array of shape (n_stimuli, "
            f"n_features); got {type(mapping).__name__}."
        )
    return {
        str(k): v if isinstance(v, DataRDMs) else check_representation(v, f"{label}[{k!r}]")
        for k, v in mapping.items()
    }


def _check_same_stimuli(first_name: str, first: Array, label: str, name: str, array: Any) -> None:
    names = (f"layers[{first_name!r}]", f"{label}[{name!r}]")
    if isinstance(array, DataRDMs):
        if len(array) != first.shape[0]:
            raise ValueError(
                f"{names[1]} holds RDMs of {len(array)} stimuli but {names[0]} has "
                f"{first.shape[0]} rows; expected the same stimuli."
            )
        return
    check_paired_samples(first, array, names=names)


def named_metrics(metrics: dict[str, Any] | Sequence[Any]) -> list[tuple[str, Any]]:
    """Check metrics and name them: a dict as given, a list by class.

    Parameters
    ----------
    metrics : dict of str -> estimator, or list of estimators
        Estimators with ``fit`` and ``score``.

    Returns
    -------
    list of (str, estimator)
        The named metrics.
    """
    if isinstance(metrics, dict):
        items = list(metrics.items())
    else:
        items = [(type(m).__name__, m) for m in metrics]
    if not items:
        raise ValueError("metrics is empty; expected at least one estimator with fit and score.")
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(
            f"metrics has repeated names {names}; pass a dict name -> estimator to tell "
            "estimators of the same class apart."
        )
    for name, metric in items:
        if not (hasattr(metric, "fit") and hasattr(metric, "score")):
            raise TypeError(
                f"metrics[{name!r}] is {metric!r}; expected an estimator with fit(X, Y) and "
                "score(X, Y) (e.g. skrep.RSA(), skrep.CKAEstimator())."
            )
    return items


def _score_task(
    metric: Any, X: Array, Y: Array, train: np.ndarray, test: np.ndarray
) -> tuple[float, float, float]:
    fitted = clone(metric).fit(X[train], Y[train])
    train_score = float(fitted.score(X[train], Y[train]))
    # Models that choose hyperparameters by an inner cross-validation (the
    # encoding models' cv_scores_) are selected by that held-out score: their
    # in-sample fit would favour the widest layer.
    inner = getattr(fitted, "cv_scores_", None)
    selection = float(np.mean(np.max(inner, axis=0))) if inner is not None else train_score
    return train_score, float(fitted.score(X[test], Y[test])), selection


def stimulus_splits(
    cv: Any, n_stimuli: int, cv_labels: ArrayLike | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-validation splits of the stimuli, made once for every layer and model.

    Parameters
    ----------
    cv : int, cross-validation splitter or iterable
        As in :func:`sklearn.model_selection.cross_validate`: an int is a
        :class:`~sklearn.model_selection.KFold` (unshuffled, so stimuli sorted
        by category need a shuffled splitter), or a
        :class:`~sklearn.model_selection.StratifiedKFold` with ``cv_labels``.
    n_stimuli : int
        Number of stimuli.
    cv_labels : array-like of shape (n_stimuli,), optional
        Labels handed to the splitter (``split(X, y=cv_labels)``), for
        stratified or grouped splitters, e.g. the classes a
        :class:`~skrep.metrics.LinearProbe` decodes.

    Returns
    -------
    list of (ndarray, ndarray)
        Training and held-out indices of each split.
    """
    if isinstance(cv, numbers.Integral) and cv > n_stimuli:
        raise ValueError(
            f"cv={cv} splits but there are only {n_stimuli} stimuli; expected cv <= "
            "the number of stimuli."
        )
    labels = None
    if cv_labels is not None:
        labels = np.asarray(cv_labels)
        labels = labels.ravel() if labels.ndim == 2 and labels.shape[1] == 1 else labels
        if labels.shape != (n_stimuli,):
            raise ValueError(
                f"cv_labels has shape {np.shape(cv_labels)}; expected one label per stimulus, "
                f"({n_stimuli},)."
            )
    rows = np.zeros((n_stimuli, 1))  # splitters read only the number of stimuli
    splitter = check_cv(cv, labels, classifier=labels is not None)
    try:
        return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(rows, labels)]
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"cv={cv!r} cannot split the {n_stimuli} stimuli ({exc}); a splitter that needs "
            "labels (StratifiedKFold, GroupKFold, ...) takes them from cv_labels=."
        ) from exc


def check_rdm_regions(responses: dict[str, Any], items: list[tuple[str, Any]]) -> None:
    """Check that regions given as RDMs are scored by RSA only.

    Parameters
    ----------
    responses : dict of str -> array or DataRDMs
        The regions.
    items : list of (str, estimator)
        The named metrics (:func:`named_metrics`).
    """
    for region, values in responses.items():
        if not isinstance(values, DataRDMs):
            continue
        for name, metric in items:
            if not isinstance(metric, RSA):
                raise TypeError(
                    f"responses[{region!r}] holds RDMs (DataRDMs), which only RSA compares, but "
                    f"metrics[{name!r}] is {type(metric).__name__}; score RDM regions with "
                    "RSA, or run them in a separate call."
                )


def benchmark_layers(
    layers: dict[str, ArrayLike],
    responses: dict[str, ArrayLike],
    metrics: dict[str, Any] | Sequence[Any],
    cv: Any = 5,
    *,
    n_jobs: int | None = None,
    cv_labels: ArrayLike | None = None,
) -> pd.DataFrame:
    """Score every layer against every region with every metric, split by split.

    For each cross-validation split of the stimuli, each metric is fitted on
    the training stimuli of a (layer, region) pair and scored on both the
    training and the held-out stimuli. :func:`best_layer_scores` then picks,
    per split, the layer with the best *training* score and reports its
    held-out score, so the choice of layer never sees the test stimuli
    (DeepJuice's max over layers).

    Parameters
    ----------
    layers : dict of str -> array of shape (n_stimuli, n_features)
        Model features, e.g. ``{"conv1": ..., "fc7": ...}``; rows are stimuli.
    responses : dict of str -> array of shape (n_stimuli, n_channels) or DataRDMs
        Brain responses per region (voxels, neurons), the same stimuli; a
        region known only by its RDMs as :class:`~skrep.metrics.DataRDMs`
        (for :class:`~skrep.RSA`), split by stimuli on both axes.
    metrics : dict of str -> estimator, or list of estimators
        Estimators with ``fit(X, Y)`` and ``score(X, Y)`` (higher is better),
        e.g. ``{"cRSA": RSA(), "CKA": CKAEstimator()}``; a list is named by
        class.
    cv : int, cross-validation splitter or iterable, default=5
        Splits of the stimuli, as in :func:`sklearn.model_selection.cross_validate`.
    n_jobs : int, default=None
        Number of joblib workers over (split, layer, region, metric).
    cv_labels : array-like of shape (n_stimuli,), optional
        Labels for the splitter (see :func:`stimulus_splits`): with an int
        ``cv``, the folds are stratified by them.

    Returns
    -------
    pandas.DataFrame
        (pandas is an optional dependency: ``pip install "skrep[table]"``.)
        One row per split, region, metric and layer, with columns ``split``,
        ``region``, ``metric``, ``layer``, ``train_score`` (the score on the
        training stimuli), ``test_score``, ``selection_score`` and
        ``best_on_train`` (whether this layer has the best selection score of
        its split, region and metric). The selection score is the training
        score, except for models with an inner cross-validation (``cv_scores_``,
        as :class:`~skrep.EncodingRegression`): there it is their mean
        held-out score within the training stimuli, since an in-sample fit
        would favour the widest layer.
    """
    import pandas as pd

    layers = check_named_arrays(layers, "layers")
    responses = check_named_arrays(responses, "responses")
    items = named_metrics(metrics)
    first_name, first = next(iter(layers.items()))
    if isinstance(first, DataRDMs):
        raise TypeError(f"layers[{first_name!r}] is DataRDMs; layers must be arrays.")
    for label, mapping in (("layers", layers), ("responses", responses)):
        for name, array in mapping.items():
            _check_same_stimuli(first_name, first, label, name, array)
    check_rdm_regions(responses, items)
    splits = stimulus_splits(cv, first.shape[0], cv_labels)
    tasks = [
        (s, region, metric_name, layer, metric, train, test)
        for s, (train, test) in enumerate(splits)
        for region in responses
        for metric_name, metric in items
        for layer in layers
    ]
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_score_task)(metric, layers[layer], responses[region], train, test)
        for _, region, _, layer, metric, train, test in tasks
    )
    table = pd.DataFrame(
        [
            {
                "split": s,
                "region": region,
                "metric": metric_name,
                "layer": layer,
                "train_score": train_score,
                "test_score": test_score,
                "selection_score": selection,
            }
            for (s, region, metric_name, layer, *_), (train_score, test_score, selection) in zip(
                tasks, scores, strict=True
            )
        ]
    )
    keys = ["split", "region", "metric"]
    best = table.groupby(keys, sort=False)["selection_score"].transform("max")
    is_best = table["selection_score"] == best
    first_best = table.assign(_is=is_best).groupby(keys, sort=False)["_is"].cumsum() == 1
    table["best_on_train"] = is_best & first_best
    return table


def best_layer_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Held-out score of the layer chosen on the training stimuli, per region and metric.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`benchmark_layers` or :func:`skrep.benchmark_models`.

    Returns
    -------
    pandas.DataFrame
        One row per region and metric (per model, region and metric for a
        table with a ``model`` column): ``test_score`` (mean over splits of
        the held-out score of each split's chosen layer), ``test_score_std``
        and ``layers`` (the chosen layer of each split, in split order).
    """
    keys = [key for key in ("model", "region", "metric") if key in table.columns]
    chosen = table[table["best_on_train"]].sort_values("split", kind="stable")
    grouped = chosen.groupby(keys, sort=False)
    result = grouped["test_score"].agg(test_score="mean", test_score_std="std")
    result["layers"] = grouped["layer"].agg(list)
    return result.reset_index()
