"""skrep.plotting: the distance-matrix figure and the plots of a model benchmark."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skrep.plotting import plot_distance_matrix  # noqa: E402


@pytest.fixture
def distances(rng):
    points = np.concatenate([rng.normal(0, 0.1, (3, 2)), rng.normal(5, 0.1, (3, 2))])
    perm = rng.permutation(6)
    return np.linalg.norm(points[perm, None] - points[None, perm], axis=-1), perm < 3


def test_matrix_is_drawn_in_cluster_order(distances):
    D, first_cluster = distances
    fig = plot_distance_matrix(D, [f"n{k}" for k in range(6)], groups=first_cluster)
    matrix_ax, embedding_ax = fig.axes[0], fig.axes[-1]
    shown = matrix_ax.images[0].get_array()
    order = [int(t.get_text()[1:]) for t in matrix_ax.get_yticklabels()]
    np.testing.assert_allclose(shown, D[np.ix_(order, order)])
    assert np.count_nonzero(np.diff(first_cluster[order])) == 1  # clusters contiguous
    assert len(embedding_ax.collections) == 2  # one scatter per group
    plt.close(fig)


def test_given_order_and_embedding_and_no_embedding(distances):
    D, _ = distances
    fig = plot_distance_matrix(D, order=None, embedding=np.zeros((6, 2)))
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), D)
    plt.close(fig)
    fig = plot_distance_matrix(D, embedding=None, title="t")
    assert len(fig.axes) == 2  # matrix and colour bar only
    plt.close(fig)


def test_errors(distances):
    D, _ = distances
    with pytest.raises(ValueError, match="labels has 2 entries but there are 6 networks in D"):
        plot_distance_matrix(D, ["a", "b"])
    with pytest.raises(ValueError, match="permutation of range"):
        plot_distance_matrix(D, order=[0, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"embedding has shape \(6, 3\)"):
        plot_distance_matrix(D, embedding=np.zeros((6, 3)))
    with pytest.raises(ValueError, match="not symmetric"):
        plot_distance_matrix(D + np.triu(np.ones((6, 6)), 1))


# --- plots of a model-benchmark table ------------------------------------------------

from skrep.plotting import (  # noqa: E402
    plot_best_layer_heatmap,
    plot_checkpoint_scores,
    plot_layer_scores,
)

LAYERS = {"a": ["conv1", "conv2", "fc"], "b": ["l0", "l1"]}


def benchmark_table(rng, layers=LAYERS, regions=("V1", "IT"), metrics=("cka", "rsa"), splits=2):
    """One row per (model, layer, region, metric, split), as skrep.benchmark_models gives."""
    pd = pytest.importorskip("pandas")
    rows = [
        {
            "model": model,
            "layer": layer,
            "depth": depth,
            "region": region,
            "metric": metric,
            "split": split,
            "train_score": rng.uniform(),
            "test_score": rng.uniform(),
            "selection_score": rng.uniform(),
        }
        for model, names in layers.items()
        for depth, layer in enumerate(names)
        for region in regions
        for metric in metrics
        for split in range(splits)
    ]
    table = pd.DataFrame(rows)
    best = table.groupby(["model", "split", "region", "metric"])["train_score"].idxmax()
    table["best_on_train"] = table.index.isin(best)
    return table


def rows_of(table, **where):
    mask = np.ones(len(table), dtype=bool)
    for column, value in where.items():
        mask &= (table[column] == value).to_numpy()
    return table[mask]


def best_mean(table, model, region, metric="cka", score="test_score"):
    """Hand-computed mean over splits of the chosen layer's score."""
    chosen = rows_of(table, model=model, region=region, metric=metric, best_on_train=True)
    assert len(chosen) == chosen["split"].nunique()  # one chosen layer per split
    return chosen[score].mean()


def band_y(patch):
    """The data y range of an axhspan patch (a Rectangle or, before matplotlib 3.9, a Polygon)."""
    y = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 1]
    return y.min(), y.max()


@pytest.fixture
def table(rng):
    return benchmark_table(rng)


def test_layer_scores_single_model_mean_std_and_names(table):
    fig = plot_layer_scores(
        table[table["model"] == "a"], metric="cka", region="IT", ceiling=(0.4, 0.7)
    )
    (ax,) = fig.axes
    (line,) = ax.lines
    expected = [rows_of(table, model="a", region="IT", metric="cka", depth=d) for d in range(3)]
    np.testing.assert_allclose(line.get_xdata(), [0, 1, 2])
    np.testing.assert_allclose(line.get_ydata(), [r["test_score"].mean() for r in expected])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]  # the std band around the line
    std = np.array([r["test_score"].std() for r in expected])
    np.testing.assert_allclose(band.max(), (line.get_ydata() + std).max())
    np.testing.assert_allclose(band.min(), (line.get_ydata() - std).min())
    assert [t.get_text() for t in ax.get_xticklabels()] == LAYERS["a"]
    (ceiling,) = ax.patches
    np.testing.assert_allclose(band_y(ceiling), (0.4, 0.7))
    assert ax.get_title() == "IT, cka"
    plt.close(fig)


def test_layer_scores_relative_depth_grid_and_ceilings(table):
    fig = plot_layer_scores(table, score="train_score", ceiling={"V1": 0.8}, title="t")
    assert len(fig.axes) == 4  # regions x metrics
    assert fig._suptitle.get_text() == "t"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["V1, cka", "V1, rsa", "IT, cka", "IT, rsa"]
    ax = fig.axes[3]
    line_a, line_b = ax.lines[:2]
    np.testing.assert_allclose(line_a.get_xdata(), [0, 0.5, 1])  # 3 layers
    np.testing.assert_allclose(line_b.get_xdata(), [0, 1])  # 2 layers
    expected = [rows_of(table, model="b", region="IT", metric="rsa", depth=d) for d in (0, 1)]
    np.testing.assert_allclose(line_b.get_ydata(), [r["train_score"].mean() for r in expected])
    assert ax.get_xlabel() == "relative depth"
    # the dict ceiling: a line in the V1 panels, nothing in the IT ones
    np.testing.assert_allclose(fig.axes[0].lines[-1].get_ydata(), [0.8, 0.8])
    assert len(ax.lines) == 2 and not ax.patches
    plt.close(fig)


def test_layer_scores_same_depths_and_given_ax(rng):
    table = benchmark_table(rng, layers={"a": ["x", "y"], "b": ["p", "q"]}, splits=1)
    fig, ax = plt.subplots()
    assert plot_layer_scores(table, metric="rsa", region="V1", ax=ax, title="mine") is fig
    assert [list(line.get_xdata()) for line in ax.lines] == [[0, 1], [0, 1]]
    expected = rows_of(table, model="b", region="V1", metric="rsa")["test_score"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), expected)  # one split: no std
    assert ax.get_xlabel() == "layer" and ax.get_title() == "mine"
    plt.close(fig)


def test_best_layer_heatmap_values(table):
    fig = plot_best_layer_heatmap(table, metric="rsa")
    ax = fig.axes[0]
    expected = [[best_mean(table, m, r, "rsa") for r in ("V1", "IT")] for m in ("a", "b")]
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["V1", "IT"]
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in np.ravel(expected))
    plt.close(fig)
    fig = plot_best_layer_heatmap(table[table["metric"] == "cka"], annotate=False)
    assert not fig.axes[0].texts
    plt.close(fig)


def test_best_layer_heatmap_averages_ties_within_a_split(rng):
    table = benchmark_table(rng, regions=("V1",), metrics=("cka",), splits=1)
    table["best_on_train"] = table["model"] == "b"  # both layers of b chosen, none of a
    fig = plot_best_layer_heatmap(table)
    values = fig.axes[0].images[0].get_array()
    assert np.ma.is_masked(values[0, 0]) or np.isnan(values[0, 0])
    np.testing.assert_allclose(values[1, 0], rows_of(table, model="b")["test_score"].mean())
    plt.close(fig)


def test_checkpoint_scores_order_and_ceiling(rng):
    layers = {f"step{k}": ["l0", "l1"] for k in (1000, 10, 100)}
    table = benchmark_table(rng, layers=layers, metrics=("cka",))
    fig = plot_checkpoint_scores(table)  # order of appearance
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == list(layers)
    plt.close(fig)
    steps = {"step10": 10, "step1000": 1000, "step100": 100}
    fig = plot_checkpoint_scores(table, checkpoints=steps, ceiling={"IT": (0.5, 0.9)})
    ax = fig.axes[0]
    v1, it = ax.lines
    np.testing.assert_allclose(it.get_xdata(), [10, 100, 1000])
    expected = [best_mean(table, f"step{k}", "IT") for k in (10, 100, 1000)]
    np.testing.assert_allclose(it.get_ydata(), expected)
    (band,) = ax.patches
    np.testing.assert_allclose(band_y(band), (0.5, 0.9))
    assert band.get_facecolor()[:3] == matplotlib.colors.to_rgb(it.get_color())
    assert ax.get_xlabel() == "training step"
    plt.close(fig)
    fig = plot_checkpoint_scores(table, checkpoints=["step100", "step10"], ceiling=0.95)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["step100", "step10"]
    expected = [best_mean(table, f"step{k}", "V1") for k in (100, 10)]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), [0.95, 0.95])
    plt.close(fig)


def test_checkpoint_scores_and_heatmap_in_given_axes_with_titles(rng):
    layers = {f"step{k}": ["l0", "l1"] for k in (10, 100)}
    table = benchmark_table(rng, layers=layers, metrics=("cka",))
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_checkpoint_scores(table, ax=left, title="training") is fig
    assert plot_best_layer_heatmap(table, ax=right, title="best layers") is fig
    assert left.get_title() == "training" and len(left.lines) == 2
    assert right.get_title() == "best layers" and len(right.images) == 1
    plt.close(fig)
    assert plot_checkpoint_scores(table).axes[0].get_title() == "cka"  # default: the metric
    plt.close("all")


def test_benchmark_plot_errors(table):
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['depth'\]"):
        plot_layer_scores(table.drop(columns="depth"))
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['best_on_train'\]"):
        plot_best_layer_heatmap(table.drop(columns="best_on_train"), metric="cka")
    with pytest.raises(ValueError, match=r"score='loss' is not a column.*'test_score'"):
        plot_layer_scores(table, score="loss")
    with pytest.raises(ValueError, match=r"metric='cca' is not in the table.*\['cka', 'rsa'\]"):
        plot_layer_scores(table, metric="cca")
    with pytest.raises(ValueError, match=r"region='V4' is not in the table.*\['V1', 'IT'\]"):
        plot_layer_scores(table, region="V4")
    match = r"region='IT' is not in the table for metric='rsa'; available: \['V1'\]"
    with pytest.raises(ValueError, match=match):
        plot_layer_scores(
            table[~((table["region"] == "IT") & (table["metric"] == "rsa"))],
            region="IT",
            metric="rsa",
        )
    with pytest.raises(ValueError, match=r"several metrics; choose one with metric=.*'rsa'"):
        plot_best_layer_heatmap(table)
    with pytest.raises(ValueError, match=r"several metrics"):
        plot_checkpoint_scores(table)
    with pytest.raises(ValueError, match=r"checkpoints .*unknown: \['c'\].*\['a', 'b'\]"):
        plot_checkpoint_scores(table, metric="cka", checkpoints=["a", "c"])
    with pytest.raises(ValueError, match="no row with best_on_train=True"):
        plot_best_layer_heatmap(table.assign(best_on_train=False), metric="cka")
    with pytest.raises(ValueError, match=r"ceiling must be .*lower <= upper"):
        plot_layer_scores(table, ceiling=(0.9, 0.1))
    with pytest.raises(ValueError, match="choose region= and metric=, or pass ax=None"):
        plot_layer_scores(table, metric="cka", ax=plt.subplots()[1])
    for plot in (plot_layer_scores, plot_best_layer_heatmap, plot_checkpoint_scores):
        with pytest.raises(TypeError, match="ax must be a matplotlib Axes .* got object"):
            plot(table, metric="cka", ax=object())
    with pytest.raises(TypeError, match="pandas DataFrame"):
        plot_best_layer_heatmap({"model": ["a"]})
    with pytest.raises(ValueError, match="table is empty"):
        plot_best_layer_heatmap(table.iloc[:0])
    plt.close("all")
