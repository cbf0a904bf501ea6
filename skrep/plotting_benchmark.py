"""Figures of a model benchmark: layer scores, best layers, training checkpoints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .plotting_base import annotate_cells, check_axes, import_pyplot, label_inches

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_layer_scores", "plot_best_layer_heatmap", "plot_checkpoint_scores"]


_LAYER_COLUMNS = ("model", "layer", "depth", "region", "metric", "split")
_BEST_COLUMNS = ("model", "region", "metric", "split", "best_on_train")


def _check_table(table: pd.DataFrame, required: Sequence[str], score: str) -> None:
    if not (hasattr(table, "columns") and hasattr(table, "groupby")):
        raise TypeError(
            "table must be a pandas DataFrame (the output of skrep.benchmark_models); "
            f"got {type(table).__name__}."
        )
    columns = list(table.columns)
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(f"table is missing the column(s) {missing}; it has {columns}.")
    if score not in columns:
        scores = [c for c in columns if str(c).endswith("_score")]
        raise ValueError(f"score={score!r} is not a column of table; available: {scores}.")
    if len(table) == 0:
        raise ValueError("table is empty.")


def _available(table: pd.DataFrame, column: str) -> list[Any]:
    """The distinct values of a column, in order of appearance."""
    return list(dict.fromkeys(table[column].tolist()))


def _select(table: pd.DataFrame, column: str, value: Any, where: str = "") -> pd.DataFrame:  # noqa: ANN401
    if value is None:
        return table
    available = _available(table, column)
    if value not in available:
        raise ValueError(f"{column}={value!r} is not in the table{where}; available: {available}.")
    return table[table[column] == value]


def _single_metric(table: pd.DataFrame, metric: str | None) -> tuple[pd.DataFrame, Any]:
    table = _select(table, "metric", metric)
    metrics = _available(table, "metric")
    if len(metrics) > 1:
        raise ValueError(f"the table holds several metrics; choose one with metric=: {metrics}.")
    return table, metrics[0]


def _best_layer_stats(table: pd.DataFrame, keys: list[str], score: str) -> pd.DataFrame:
    """Mean and std over splits of the score of the layer chosen on training stimuli."""
    chosen = table[table["best_on_train"].astype(bool)]
    if chosen.empty:
        raise ValueError("table has no row with best_on_train=True; no layer was chosen.")
    # ties (several chosen layers in one split) are averaged within the split first
    per_split = chosen.groupby([*keys, "split"], sort=False)[score].mean()
    return per_split.groupby(level=keys, sort=False).agg(["mean", "std"])


def _check_ceiling(ceiling: Any) -> None:  # noqa: ANN401
    for value in ceiling.values() if isinstance(ceiling, Mapping) else [ceiling]:
        bounds = np.asarray(0.0 if value is None else value, dtype=float)
        if bounds.ndim and not (bounds.shape == (2,) and bounds[0] <= bounds[1]):
            raise ValueError(
                "ceiling must be a scalar (a line), a (lower, upper) pair with lower <= upper "
                f"(a band) or a dict region -> either; got {value!r}."
            )


def _draw_ceiling(ax: Axes, ceiling: Any, color: Any = "0.5", label: str = "noise ceiling") -> None:  # noqa: ANN401
    if ceiling is not None and np.ndim(ceiling) == 0:
        ax.axhline(float(ceiling), color=color, linestyle="--", label=label)
    elif ceiling is not None:
        ax.axhspan(*(float(v) for v in ceiling), color=color, alpha=0.2, lw=0, label=label)


def plot_layer_scores(
    table: pd.DataFrame,
    *,
    metric: str | None = None,
    region: str | None = None,
    score: str = "test_score",
    ceiling: float | tuple[float, float] | Mapping[str, Any] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the score of every layer against its depth, one line per model.

    Each line is the mean over splits, with a band of one standard deviation
    across splits around it. The x axis is the layer depth, labelled with the
    layer names when the table holds one model; with several models it is the
    depth when they all have the same number of layers, and otherwise the
    relative depth ``depth / (n_layers - 1)`` in [0, 1] so that first and last
    layers line up. When the selection holds several (region, metric) pairs,
    one panel per pair is drawn in a grid (rows: regions, columns: metrics).

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`skrep.benchmark_models`: columns ``model``,
        ``layer``, ``depth``, ``region``, ``metric``, ``split`` and ``score``.
    metric : str, default=None
        Draw only this metric; None draws all.
    region : str, default=None
        Draw only this region; None draws all.
    score : str, default="test_score"
        The column drawn, e.g. "train_score" or "selection_score".
    ceiling : float, (lower, upper) pair or dict, default=None
        Noise ceiling: a scalar draws a dashed line, a pair (e.g. the lower and
        upper bounds of rsatoolbox's noise ceiling) a shaded band, and a dict
        maps each region to either (regions absent from it get no ceiling).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on when the selection is a single (region, metric) pair;
        None creates a figure.
    title : str, default=None
        Title of the panel (of the figure when there is a grid); None titles
        each panel with its region and metric.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; a model's line is ``ax.lines[k]`` in the table's model order.
    """
    plt = import_pyplot()
    check_axes(ax)
    _check_table(table, _LAYER_COLUMNS, score)
    _check_ceiling(ceiling)
    n_layers = table.groupby("model", sort=False)["depth"].max() + 1
    where = "" if metric is None else f" for metric={metric!r}"
    table = _select(_select(table, "metric", metric), "region", region, where)
    panels = list(dict.fromkeys(zip(table["region"], table["metric"], strict=True)))
    models = _available(table, "model")
    relative = n_layers[models].nunique() > 1
    regions = list(dict.fromkeys(r for r, _ in panels))
    metrics = list(dict.fromkeys(m for _, m in panels))
    if ax is not None:
        if len(panels) > 1:
            raise ValueError(
                f"ax holds one panel but the selection has {len(panels)} (region, metric) "
                f"pairs {panels}; choose region= and metric=, or pass ax=None for a grid."
            )
        fig, grid = ax.figure, {panels[0]: ax}
    else:
        size = (0.5 + 4.5 * len(metrics), 0.5 + 3.5 * len(regions))
        fig, axes = plt.subplots(
            len(regions), len(metrics), figsize=size, squeeze=False, layout="constrained"
        )
        grid = {(r, m): axes[i, j] for i, r in enumerate(regions) for j, m in enumerate(metrics)}
    keys = ["region", "metric", "model", "depth", "layer"]
    stats = table.groupby(keys, sort=False)[score].agg(["mean", "std"]).reset_index()
    stats = stats.sort_values("depth", kind="stable")
    for (panel_region, panel_metric), panel in grid.items():
        if (panel_region, panel_metric) not in panels:
            panel.set_axis_off()
            continue
        rows = stats[(stats["region"] == panel_region) & (stats["metric"] == panel_metric)]
        for model in models:
            model_rows = rows[rows["model"] == model]
            if model_rows.empty:
                continue
            x = model_rows["depth"].to_numpy(dtype=float)
            if relative:
                x = x / max(int(n_layers[model]) - 1, 1)
            y = model_rows["mean"].to_numpy(dtype=float)
            std = model_rows["std"].fillna(0.0).to_numpy(dtype=float)
            (line,) = panel.plot(x, y, marker="o", markersize=3, label=str(model))
            panel.fill_between(x, y - std, y + std, color=line.get_color(), alpha=0.2, lw=0)
        _draw_ceiling(panel, ceiling.get(panel_region) if isinstance(ceiling, Mapping) else ceiling)
        if len(models) == 1:
            ticks = rows.drop_duplicates("depth")
            panel.set_xticks(
                ticks["depth"],
                [str(n) for n in ticks["layer"]],
                rotation=45,
                ha="right",
                rotation_mode="anchor",
            )
            panel.tick_params(axis="x", labelsize="small")
        panel.set_xlabel("relative depth" if relative else "layer")
        panel.set_ylabel(score.replace("_", " "))
        panel.set_title(title if title and len(panels) == 1 else f"{panel_region}, {panel_metric}")
    first = grid[panels[0]]
    if first.get_legend_handles_labels()[0] and (len(models) > 1 or ceiling is not None):
        first.legend(fontsize="small", frameon=False)
    if ax is None and title and len(panels) > 1:
        fig.suptitle(title)
    return fig


def plot_best_layer_heatmap(
    table: pd.DataFrame,
    *,
    metric: str | None = None,
    score: str = "test_score",
    ax: Axes | None = None,
    cmap: str = "viridis",
    annotate: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw a model x region heat map of best-layer scores.

    A cell is the mean over splits of the ``score`` of the layer chosen on
    the training stimuli (``best_on_train``) for that model, region and split;
    a cell without a chosen layer is left blank. Rows (models) and columns
    (regions) follow the table's order of appearance.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`skrep.benchmark_models`: columns ``model``,
        ``region``, ``metric``, ``split``, ``best_on_train`` and ``score``.
    metric : str, default=None
        The metric drawn; required when the table holds several.
    score : str, default="test_score"
        The column averaged over splits (the held-out score by default).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None creates a figure.
    cmap : str, default="viridis"
        Colormap of the cells.
    annotate : bool, default=True
        Write each cell's value in it.
    title : str, default=None
        Title of the axes; None says the metric and how the layer was chosen.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``ax.images[0].get_array()`` holds the (models, regions) values.
    """
    plt = import_pyplot()
    check_axes(ax)
    _check_table(table, _BEST_COLUMNS, score)
    table, metric = _single_metric(table, metric)
    means = _best_layer_stats(table, ["model", "region"], score)["mean"]
    models, regions = _available(table, "model"), _available(table, "region")
    values = np.full((len(models), len(regions)), np.nan)
    for (model, region), value in means.items():
        values[models.index(model), regions.index(region)] = value
    names = [str(m) for m in models], [str(r) for r in regions]
    width = 2.5 + 1.1 * len(regions) + label_inches(names[0])
    figsize = (width, 1.8 + 0.45 * len(models) + 0.7 * label_inches(names[1]))
    fig, ax = plt.subplots(figsize=figsize, layout="constrained") if ax is None else (ax.figure, ax)
    image = ax.imshow(values, cmap=cmap, aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax, label=score.replace("_", " "))
    ax.set_xticks(
        np.arange(len(regions)), names[1], rotation=45, ha="right", rotation_mode="anchor"
    )
    ax.set_yticks(np.arange(len(models)), names[0])
    if annotate:
        annotate_cells(ax, image, values)
    ax.set_title(title or f"{metric}: best layer (chosen on training stimuli)")
    return fig


def _checkpoint_axis(
    table: pd.DataFrame, checkpoints: Sequence[Any] | Mapping[Any, float] | None
) -> tuple[list[Any], np.ndarray, bool]:
    """Checkpoint names in drawing order, their x values, and whether x is a step."""
    available = _available(table, "model")
    if checkpoints is None:
        return available, np.arange(len(available), dtype=float), False
    names = [checkpoints] if isinstance(checkpoints, str) else list(checkpoints)
    unknown = [name for name in names if name not in available]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"checkpoints must name distinct checkpoints of the table's model column; got "
            f"{checkpoints!r} (unknown: {unknown}); available: {available}."
        )
    if isinstance(checkpoints, Mapping):
        steps = np.asarray([checkpoints[name] for name in names], dtype=float)
        order = np.argsort(steps, kind="stable")
        return [names[k] for k in order], steps[order], True
    return names, np.arange(len(names), dtype=float), False


def plot_checkpoint_scores(
    table: pd.DataFrame,
    *,
    metric: str | None = None,
    checkpoints: Sequence[Any] | Mapping[Any, float] | None = None,
    ax: Axes | None = None,
    ceiling: float | tuple[float, float] | Mapping[str, Any] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw each region's best-layer score across training checkpoints.

    The ``model`` column holds checkpoint names. A point is the mean over
    splits of the held-out score of the layer chosen on the training stimuli,
    with a band of one standard deviation across splits; one line per region.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`skrep.benchmark_models` run on the checkpoints of
        one network: columns ``model``, ``region``, ``metric``, ``split``,
        ``best_on_train`` and ``test_score``.
    metric : str, default=None
        The metric drawn; required when the table holds several.
    checkpoints : list of str or dict, default=None
        The checkpoints drawn and their order: a list of names (evenly spaced,
        in that order), or a dict name -> training step (x is the step). None
        draws every checkpoint in the table's order of appearance.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None creates a figure.
    ceiling : float, (lower, upper) pair or dict, default=None
        Noise ceiling: a scalar draws a dashed line, a pair a shaded band, and
        a dict maps each region to either, drawn in the region's colour.
    title : str, default=None
        Title of the axes; None names the metric.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; a region's line is ``ax.lines[k]`` in the table's region order.
    """
    plt = import_pyplot()
    check_axes(ax)
    _check_table(table, _BEST_COLUMNS, "test_score")
    _check_ceiling(ceiling)
    table, metric = _single_metric(table, metric)
    names, x, is_step = _checkpoint_axis(table, checkpoints)
    table = table[table["model"].isin(names)]
    stats = _best_layer_stats(table, ["region", "model"], "test_score")
    own = (ax.figure, ax) if ax is not None else None
    fig, ax = own or plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    for region in _available(table, "region"):
        mean = np.array([stats["mean"].get((region, name), np.nan) for name in names])
        std = np.nan_to_num([stats["std"].get((region, name), np.nan) for name in names])
        (line,) = ax.plot(x, mean, marker="o", markersize=3, label=str(region))
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
        if isinstance(ceiling, Mapping) and region in ceiling:
            _draw_ceiling(ax, ceiling[region], line.get_color(), f"{region} noise ceiling")
    if not isinstance(ceiling, Mapping):
        _draw_ceiling(ax, ceiling)
    if not is_step:
        ax.set_xticks(
            x, [str(name) for name in names], rotation=45, ha="right", rotation_mode="anchor"
        )
    ax.set_xlabel("training step" if is_step else "checkpoint")
    ax.set_ylabel("best-layer test score")
    ax.set_title(title or str(metric))
    ax.legend(fontsize="small", frameon=False)
    return fig
