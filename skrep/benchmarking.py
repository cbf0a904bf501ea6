"""From models to scores: extract every model's layers once, then score them against regions."""

from __future__ import annotations

import functools
import operator
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from joblib import Parallel, delayed

from .extraction import extract_activations, extraction_cache_key, stimuli_key
from .model_selection import (
    benchmark_layers,
    check_named_arrays,
    check_rdm_regions,
    named_metrics,
    stimulus_splits,
)

if TYPE_CHECKING:
    import pandas as pd
    import torch

__all__ = ["benchmark_models"]

#: Columns of the table, in order (``benchmark_layers`` gives the last five).
COLUMNS = (
    "model",
    "layer",
    "depth",
    "region",
    "metric",
    "split",
    "train_score",
    "test_score",
    "selection_score",
    "best_on_train",
)


def _named_models(models: Any) -> list[tuple[str, Any]]:
    """(name, model or loader) pairs; mappings other than dicts are read in the workers."""
    if isinstance(models, Mapping):
        if not models:
            raise ValueError("models is empty; expected at least one torch.nn.Module.")
        if isinstance(models, dict):
            return [(str(name), model) for name, model in models.items()]
        # Lazy mappings (skrep.extraction.Checkpoints): each worker loads its own model.
        return [(str(name), functools.partial(operator.getitem, models, name)) for name in models]
    if isinstance(models, (str, bytes)) or not isinstance(models, Sequence) or not models:
        raise TypeError(
            f"models must be a dict name -> torch.nn.Module, a list of modules, or "
            f"skrep.extraction.Checkpoints; got {type(models).__name__}."
        )
    counts: dict[str, int] = {}
    named = []
    for model in models:
        base = type(model).__name__
        counts[base] = counts.get(base, 0) + 1
        named.append((f"{base}_{counts[base] - 1}", model))
    if all(counts[type(m).__name__] == 1 for m in models):
        named = [(type(m).__name__, m) for m in models]
    return named


def _check_model(name: str, model: Any) -> None:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"models[{name!r}] is {type(model).__name__}; expected a torch.nn.Module.")


def _layers_of(layers: Any, name: str) -> Any:
    if isinstance(layers, Mapping):
        if name not in layers:
            raise ValueError(
                f"layers is a dict without an entry for model {name!r}; its keys are "
                f"{list(layers)}."
            )
        return layers[name]
    return layers


def _folder(cache_dir: Path, name: str, key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]
    return cache_dir / f"{safe}-{key[:20]}"


def _benchmark_one(
    name: str,
    source: Any,
    stimuli: Any,
    responses: dict[str, Any],
    metrics: Any,
    layers: Any,
    splits: list[tuple[np.ndarray, np.ndarray]],
    cache_dir: Path | None,
    options: dict[str, Any],
) -> pd.DataFrame:
    model = source() if callable(source) and not _is_module(source) else source
    _check_model(name, model)
    out_dir = None
    if cache_dir is not None:
        keyed = {k: v for k, v in options.items() if k not in ("batch_size", "device", "verbose")}
        out_dir = _folder(cache_dir, name, extraction_cache_key(model, stimuli, layers, **keyed))
    # the selection as given: patterns and groups keep their leniency (modules that give no
    # row per stimulus are dropped with a warning) and the depth is the extraction's order
    activations = extract_activations(model, stimuli, layers, out_dir=out_dir, **options)
    names = list(activations)
    table = benchmark_layers(activations, responses, metrics, cv=splits, n_jobs=1)
    depth = {layer: position for position, layer in enumerate(names)}
    table.insert(0, "model", name)
    table.insert(2, "depth", table["layer"].map(depth).astype(int))
    return table[list(COLUMNS)]


def _is_module(value: Any) -> bool:
    return hasattr(value, "named_modules") and hasattr(value, "forward")


def _check_stimuli(stimuli: Any, n_models: int) -> None:
    if n_models > 1 and isinstance(stimuli, Iterator):
        raise TypeError(
            "stimuli is a one-shot iterator (e.g. a generator), but benchmark_models runs it "
            "once per model; pass an array, tensor, Dataset, DataLoader or list of batches."
        )


def benchmark_models(
    models: Mapping[str, torch.nn.Module] | Sequence[torch.nn.Module],
    stimuli: Any,
    responses: Mapping[str, Any],
    metrics: Mapping[str, Any] | Sequence[Any],
    *,
    layers: str | Sequence[str] | Mapping[str, str | Sequence[str]],
    cv: Any = 5,
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    cv_labels: Any = None,
    **extraction_options: Any,
) -> pd.DataFrame:
    """Score many models, every layer, against brain regions: one tidy table.

    Each model's layers are extracted once with
    :func:`skrep.extraction.extract_activations`, then every layer is scored
    against every region with every metric by :func:`benchmark_layers`, on
    the same cross-validation splits of the stimuli for every model. Reduce
    the table with :func:`best_layer_scores` (the layer is chosen on training
    stimuli only) and draw it with :func:`skrep.plotting.plot_layer_scores`,
    :func:`~skrep.plotting.plot_best_layer_heatmap` or
    :func:`~skrep.plotting.plot_checkpoint_scores`.

    Parameters
    ----------
    models : dict of str -> torch.nn.Module, list of modules, or Checkpoints
        The models. A list is named by class (with an index when a class
        repeats). A :class:`skrep.extraction.Checkpoints` (the checkpoints of
        one architecture, e.g. over training) is read lazily: each worker
        loads its own checkpoint.
    stimuli : array, tensor, Dataset, DataLoader or list of batches
        The stimuli, in the order of the responses' rows (see
        :func:`~skrep.extraction.extract_activations`; a one-shot generator is
        refused since it is read once per model).
    responses : dict of str -> array of shape (n_stimuli, n_channels) or DataRDMs
        Brain responses per region, a region's RDMs
        (:class:`~skrep.metrics.DataRDMs`, for :class:`~skrep.RSA`), or
        labels as an (n_stimuli, 1) column for a decoding metric
        (:class:`skrep.metrics.LinearProbe`).
    metrics : dict of str -> estimator, or list of estimators
        Estimators with ``fit(X, Y)`` and ``score(X, Y)``, higher is better.
    layers : str, list of str, or dict of str -> layers
        The layers of every model (names, glob patterns, ``"leaves"``,
        ``"all"``), or one selection per model name.
    cv : int, splitter or iterable, default=5
        Splits of the stimuli, made once and used for every model.
    n_jobs : int, optional
        Number of joblib workers over models (any :func:`joblib.parallel_config`
        backend, dask included: each worker extracts its own model). Layers
        are scored serially within a model.
    cache_dir : path, optional
        Keep extracted features between runs: each model's layers go to a
        folder named by the model and a key of its parameters, the stimuli and
        the extraction options (:func:`~skrep.extraction.extraction_cache_key`),
        and a later run with the same ones reads them instead of extracting.
    cv_labels : array-like of shape (n_stimuli,), optional
        Labels for the splitter (see :func:`skrep.model_selection.stimulus_splits`):
        with an int ``cv`` the folds are stratified by them, as a decoding
        metric (:class:`~skrep.metrics.LinearProbe`) needs.
    **extraction_options
        Passed to :func:`~skrep.extraction.extract_activations`: ``pool``,
        ``channel_axis``, ``max_features``, ``random_state``, ``batch_size``,
        ``device``, ``transform``, ``select``, ``verbose``.

    Returns
    -------
    pandas.DataFrame
        One row per model, layer, region, metric and split, with columns
        ``model``, ``layer``, ``depth`` (the layer's position in the model's
        selection), ``region``, ``metric``, ``split``, ``train_score``,
        ``test_score``, ``selection_score`` and ``best_on_train`` (see
        :func:`benchmark_layers`).
    """
    import pandas as pd

    if "out_dir" in extraction_options:
        raise TypeError("benchmark_models keeps features in cache_dir=, not out_dir=.")
    allowed = {
        "pool",
        "channel_axis",
        "max_features",
        "random_state",
        "batch_size",
        "device",
        "transform",
        "select",
        "verbose",
    }
    unknown = sorted(set(extraction_options) - allowed)
    if unknown:
        raise TypeError(
            f"benchmark_models got unknown options {unknown}; the extraction options are "
            f"{sorted(allowed)}."
        )
    named = _named_models(models)
    _check_stimuli(stimuli, len(named))
    checked = check_named_arrays(responses, "responses")
    first = next(iter(checked.values()))
    check_rdm_regions(checked, named_metrics(metrics))  # before any model is extracted
    splits = stimulus_splits(cv, len(first), cv_labels)
    folder = Path(cache_dir).absolute() if cache_dir is not None else None
    options = dict(extraction_options)
    if folder is not None:
        # Keyed here, once: workers may see the stimuli as a temporary memory-mapped copy
        # (joblib's), whose file would give another key on every run.
        options["stimuli_key"] = stimuli_key(stimuli)
    run: Callable[..., pd.DataFrame] = delayed(_benchmark_one)
    tables = Parallel(n_jobs=n_jobs)(
        run(
            name,
            source,
            stimuli,
            checked,
            metrics,
            _layers_of(layers, name),
            splits,
            folder,
            options,
        )
        for name, source in named
    )
    return pd.concat(tables, ignore_index=True)
