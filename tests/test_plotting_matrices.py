"""skrep.plotting: the layer x layer matrix, the distance matrix in given axes, and labels
that stay inside saved figures."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from plotting_checks import labels_outside, long_names, symmetric_distances  # noqa: E402

from skrep import LinearMetric, layer_similarity  # noqa: E402
from skrep.engine import MeasureMatrix  # noqa: E402
from skrep.plotting import (  # noqa: E402
    plot_best_layer_heatmap,
    plot_distance_matrix,
    plot_similarity_matrix,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(labels):
    return [label.get_text() for label in labels]


# --- plot_similarity_matrix -----------------------------------------------------------


def test_rectangular_matrix_is_drawn_as_given(rng):
    M = rng.uniform(-0.2, 0.9, size=(3, 5))
    rows, columns = ["a", "b", "c"], [f"layer{k}" for k in range(5)]
    fig = plot_similarity_matrix(M, rows, columns, title="CKA")
    ax, bar = fig.axes
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), M)
    assert image.get_clim() == (M.min(), M.max())
    assert texts(ax.get_yticklabels()) == rows
    assert texts(ax.get_xticklabels()) == columns
    assert all(label.get_rotation() == 90 for label in ax.get_xticklabels())
    assert ax.get_title() == "CKA"
    assert bar.get_ylabel() == "similarity"
    assert not ax.texts  # annotate=False


def test_similarity_matrix_with_its_diagonal_and_colour_limits(rng):
    # what plot_distance_matrix refuses: ones on the diagonal, a square similarity matrix
    X = rng.normal(size=(4, 6))
    M = np.corrcoef(X)
    fig = plot_similarity_matrix(M, vmin=-1, vmax=1, colorbar=False, annotate=True)
    (ax,) = fig.axes  # no colour bar
    assert ax.images[0].get_clim() == (-1, 1)
    assert texts(ax.get_xticklabels()) == ["0", "1", "2", "3"]
    assert all(label.get_rotation() == 0 for label in ax.get_xticklabels())  # short: upright
    written = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert written == {((j, i), f"{M[i, j]:.2f}") for i in range(4) for j in range(4)}
    # white on the dark end of viridis, black on the bright end
    colours = {t.get_position(): t.get_color() for t in ax.texts}
    i, j = np.unravel_index(np.argmin(M), M.shape)
    assert colours[(j, i)] == "white" and colours[(0, 0)] == "black"


def test_layer_similarity_results_bring_their_names_and_kind(rng):
    a = {"conv1": rng.normal(size=(30, 5)), "conv2": rng.normal(size=(30, 4))}
    b = {"block1": rng.normal(size=(30, 6)), "block2": rng.normal(size=(30, 3)), "head": a["conv2"]}
    cka = layer_similarity("linear_cka", a, b)
    fig = plot_similarity_matrix(cka)
    ax, bar = fig.axes
    np.testing.assert_allclose(ax.images[0].get_array(), np.asarray(cka))
    assert texts(ax.get_yticklabels()) == ["conv1", "conv2"]
    assert texts(ax.get_xticklabels()) == ["block1", "block2", "head"]
    assert bar.get_ylabel() == "similarity (linear_cka)"
    # given labels win over the names
    fig = plot_similarity_matrix(cka, ["A", "B"], ["x", "y", "z"])
    assert texts(fig.axes[0].get_xticklabels()) == ["x", "y", "z"]
    # a distance metric gives distances, and the colour bar says so
    distances = layer_similarity(LinearMetric(alpha=1.0), a)
    fig = plot_similarity_matrix(distances)
    assert fig.axes[1].get_ylabel() == "distance (LinearMetric())"
    assert texts(fig.axes[0].get_yticklabels()) == ["conv1", "conv2"]
    # a plain list of layers has no names: rows and columns are numbered
    fig = plot_similarity_matrix(layer_similarity("linear_cka", list(a.values())))
    assert texts(fig.axes[0].get_yticklabels()) == ["0", "1"]


def test_data_frame(rng):
    pd = pytest.importorskip("pandas")
    values = rng.uniform(size=(2, 3))
    frame = pd.DataFrame(values, index=["r1", "r2"], columns=["c1", "c2", "c3"])
    fig = plot_similarity_matrix(frame, kind="distance")
    ax, bar = fig.axes
    np.testing.assert_array_equal(ax.images[0].get_array(), values)
    assert texts(ax.get_yticklabels()) == ["r1", "r2"]
    assert texts(ax.get_xticklabels()) == ["c1", "c2", "c3"]
    assert bar.get_ylabel() == "distance"
    with pytest.raises(TypeError, match="non-numeric columns"):
        plot_similarity_matrix(frame.assign(c2=["x", "y"]))


def test_draws_into_given_axes(rng):
    fig, (left, right) = plt.subplots(1, 2)
    M = rng.uniform(size=(2, 4))
    assert plot_similarity_matrix(M, ax=right, title="right") is fig
    assert not left.images and len(right.images) == 1
    assert right.get_title() == "right"
    assert len(fig.axes) == 3  # two panels and the colour bar


def test_many_rows_label_every_kth(rng):
    M = rng.uniform(size=(120, 7))
    fig = plot_similarity_matrix(M, [f"r{k}" for k in range(120)])
    labels = texts(fig.axes[0].get_yticklabels())
    assert labels == [f"r{k}" for k in range(0, 120, 3)]  # at most 50 labels


def test_similarity_matrix_errors(rng):
    M = rng.uniform(size=(3, 4))
    with pytest.raises(
        ValueError, match=r"M has 1 NaN and 0 infinite .*shape \(3, 4\), first at index \(1, 2\)"
    ):
        plot_similarity_matrix(np.where(np.arange(12).reshape(3, 4) == 6, np.nan, M))
    with pytest.raises(ValueError, match="0 NaN and 1 infinite"):
        plot_similarity_matrix(np.where(M > M.max() - 1e-12, np.inf, M))
    with pytest.raises(ValueError, match=r"M must be a 2-D array; got shape \(2, 3, 4\)"):
        plot_similarity_matrix(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="M must hold real numbers"):
        plot_similarity_matrix(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="row_labels has 2 entries but there are 3 rows of M"):
        plot_similarity_matrix(M, ["a", "b"])
    with pytest.raises(ValueError, match="col_labels has 5 entries but there are 4 columns"):
        plot_similarity_matrix(M, None, list("abcde"))
    with pytest.raises(TypeError, match="col_labels must be a sequence of labels"):
        plot_similarity_matrix(M, None, "abcd")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes .* got Figure"):
        plot_similarity_matrix(M, ax=plt.figure())
    with pytest.raises(ValueError, match="kind must be 'similarity' or 'distance'; got 'cka'"):
        plot_similarity_matrix(M, kind="cka")
    with pytest.raises(ValueError, match="vmin must be smaller than vmax; got vmin=1, vmax=0"):
        plot_similarity_matrix(M, vmin=1, vmax=0)
    with pytest.raises(ValueError, match="vmax must be a finite number"):
        plot_similarity_matrix(M, vmax=np.nan)
    distances = MeasureMatrix(M, "distance", "LinearMetric()")
    with pytest.raises(ValueError, match="M holds distances .* but kind='similarity'"):
        plot_similarity_matrix(distances, kind="similarity")
    with pytest.raises(TypeError, match=r"\(train, test\) pair .* M\[1\] \(held-out stimuli\)"):
        plot_similarity_matrix((distances, distances))


# --- plot_distance_matrix with ax= ----------------------------------------------------


def test_distance_matrix_into_one_axes(rng):
    D = symmetric_distances(rng, 5)
    fig, (other, ax) = plt.subplots(1, 2)
    returned = plot_distance_matrix(D, list("abcde"), order=None, embedding=None, ax=ax, title="t")
    assert returned is fig
    np.testing.assert_array_equal(ax.images[0].get_array(), D)
    assert ax.get_title() == "t" and fig._suptitle is None  # the panel's title, not the figure's
    assert not other.images and len(fig.axes) == 3


def test_distance_matrix_into_two_axes(rng):
    D = symmetric_distances(rng, 4)
    fig, (matrix_ax, embedding_ax) = plt.subplots(1, 2)
    plot_distance_matrix(
        D, embedding=np.eye(4, 2), groups=[0, 0, 1, 1], ax=(matrix_ax, embedding_ax)
    )
    assert len(matrix_ax.images) == 1
    assert len(embedding_ax.collections) == 2  # one scatter per group
    assert matrix_ax.get_title() == "distances (clustered order)"


def test_distance_matrix_axes_errors(rng):
    D = symmetric_distances(rng, 4)
    _, ax = plt.subplots()
    with pytest.raises(
        ValueError, match=r"ax holds 1 Axes but this figure has 2 panel\(s\).*embedding=None"
    ):
        plot_distance_matrix(D, ax=ax)
    with pytest.raises(TypeError, match=r"ax\[1\] must be a matplotlib Axes .* got str"):
        plot_distance_matrix(D, ax=(ax, "right"))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_distance_matrix(D, embedding=None, ax=np.zeros(2))


# --- long labels stay inside saved figures ----------------------------------------------


@pytest.mark.parametrize("n", [4, 12, 30])
def test_distance_matrix_labels_inside_saved_figure(rng, n):
    # fails with tight_layout, which ignores the colour bar and cut the rotated labels
    D = symmetric_distances(rng, n)
    fig = plot_distance_matrix(
        D, long_names("net", n), title="LinearMetric(alpha=1.0): held-out distances"
    )
    assert labels_outside(fig) == []


@pytest.mark.parametrize("shape", [(3, 9), (12, 12), (40, 6)])
def test_similarity_matrix_labels_inside_saved_figure(rng, shape):
    M = rng.uniform(size=shape)
    fig = plot_similarity_matrix(
        M, long_names("a", shape[0], 60), long_names("b", shape[1], 30), title="t"
    )
    assert labels_outside(fig) == []


def test_best_layer_heatmap_labels_inside_saved_figure(rng):
    pd = pytest.importorskip("pandas")
    rows = [
        {
            "model": model,
            "region": region,
            "metric": "RSA",
            "split": split,
            "best_on_train": True,
            "test_score": rng.uniform(),
        }
        for model in long_names("torchvision.models.", 4, 30)
        for region in long_names("region ", 3, 25)
        for split in range(2)
    ]
    fig = plot_best_layer_heatmap(pd.DataFrame(rows), title="best layers")
    assert fig.axes[0].get_title() == "best layers"
    assert labels_outside(fig) == []
