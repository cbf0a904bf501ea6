"""skrep.plotting.plot_rdm: square or condensed RDMs, condition groups, rank transform."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from plotting_checks import labels_outside, long_names, symmetric_distances  # noqa: E402
from scipy.spatial.distance import squareform  # noqa: E402

from skrep.datasets import load_kriegeskorte92  # noqa: E402
from skrep.plotting import plot_rdm  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(labels):
    return [label.get_text() for label in labels]


def off_diagonal(n):
    return ~np.eye(n, dtype=bool)


def test_square_rdm_drawn_with_blank_diagonal(rng):
    rdm = symmetric_distances(rng, 5)
    fig = plot_rdm(rdm, list("abcde"), title="hIT")
    ax, bar = fig.axes
    shown = ax.images[0].get_array()
    assert shown.shape == (5, 5)
    np.testing.assert_array_equal(shown.mask, np.eye(5, dtype=bool))
    np.testing.assert_array_equal(shown.data[off_diagonal(5)], rdm[off_diagonal(5)])
    # the colour scale spans the off-diagonal entries, not the zeros of the diagonal
    assert ax.images[0].get_clim() == (rdm[off_diagonal(5)].min(), rdm.max())
    assert texts(ax.get_xticklabels()) == list("abcde") == texts(ax.get_yticklabels())
    assert ax.get_title() == "hIT" and bar.get_ylabel() == "dissimilarity"
    assert not ax.patches and not ax.collections  # no groups, no strips or separators


def test_condensed_rdm_equals_square(rng):
    rdm = symmetric_distances(rng, 6)
    condensed = squareform(rdm, checks=False)  # scipy's conversion, independent of skrep's
    shown = plot_rdm(condensed).axes[0].images[0].get_array()
    np.testing.assert_allclose(shown.data[off_diagonal(6)], rdm[off_diagonal(6)])
    # crossnobis RDMs have negative entries: drawn as they are
    plot_rdm(condensed - 1.0, vmin=-1, vmax=1)


def test_groups_strips_separators_and_names(rng):
    groups = ["face"] * 3 + ["body"] * 2 + ["object"] * 4
    fig = plot_rdm(symmetric_distances(rng, 9), groups=groups)
    ax = fig.axes[0]
    # separators between consecutive groups, across the matrix, both directions
    horizontal, vertical = ax.collections
    for lines, axis in ((horizontal, 1), (vertical, 0)):
        positions = sorted({segment[0, axis] for segment in lines.get_segments()})
        assert positions == [2.5, 4.5]
        assert lines.get_gid() == "group separators"
    # a colour strip along the left edge and one along the top, a block per group
    left = [p for p in ax.patches if p.get_width() < p.get_height()]
    top = [p for p in ax.patches if p.get_width() > p.get_height()]
    spans = [(p.get_y() + 0.5, p.get_y() + p.get_height() + 0.5) for p in left]
    assert spans == [(0, 3), (3, 5), (5, 9)]
    assert [(p.get_x() + 0.5, p.get_x() + p.get_width() + 0.5) for p in top] == spans
    colours = [p.get_facecolor() for p in left]
    assert colours == [p.get_facecolor() for p in top]
    assert colours == [to_rgba(c) for c in ("tab:blue", "tab:orange", "tab:green")]
    assert all(p.get_x() + p.get_width() <= -0.5 for p in left)  # outside the matrix
    # group names at the centre of their blocks, on top and (no conditions) on the left
    (top_axis,) = ax.child_axes
    np.testing.assert_allclose(top_axis.get_xticks(), [1, 3.5, 6.5])
    assert texts(top_axis.get_xticklabels()) == ["face", "body", "object"]
    np.testing.assert_allclose(ax.get_yticks(), [1, 3.5, 6.5])
    assert texts(ax.get_yticklabels()) == ["face", "body", "object"]
    # the image is still the RDM, and the view holds the matrix and the strips
    assert ax.images[0].get_array().shape == (9, 9)
    assert ax.get_xlim()[1] == 8.5 and ax.get_ylim()[0] == 8.5


def test_groups_with_conditions_and_repeated_groups(rng):
    groups = ["a", "a", "b", "a"]
    fig = plot_rdm(symmetric_distances(rng, 4), ["c0", "c1", "c2", "c3"], groups=groups)
    ax = fig.axes[0]
    assert texts(ax.get_yticklabels()) == ["c0", "c1", "c2", "c3"]  # conditions win the left
    assert texts(ax.child_axes[0].get_xticklabels()) == ["a", "b", "a"]  # a block per run
    left = [p for p in ax.patches if p.get_width() < p.get_height()]
    assert left[0].get_facecolor() == left[-1].get_facecolor()  # one colour per group


def test_rank_transform_hand_values_and_invariance(rng):
    # condensed (0.3, 0.1, 0.2): ranks 3, 1, 2 -> (r - 1) / (3 - 1)
    shown = plot_rdm([0.3, 0.1, 0.2], rank_transform=True).axes[0].images[0].get_array()
    np.testing.assert_allclose(squareform(shown.filled(0.0)), [1.0, 0.0, 0.5])
    # ties share their mean rank: 1.5, 1.5, 3
    shown = plot_rdm([0.2, 0.2, 0.5], rank_transform=True).axes[0].images[0].get_array()
    np.testing.assert_allclose(squareform(shown.filled(0.0)), [0.25, 0.25, 1.0])
    # two conditions: one pair, the middle of the scale
    fig = plot_rdm(np.array([[0.0, 2.0], [2.0, 0.0]]), rank_transform=True)
    assert fig.axes[0].images[0].get_array()[0, 1] == 0.5
    # ranks do not change under a monotonic transform of the dissimilarities
    rdm = symmetric_distances(rng, 7)
    a = plot_rdm(rdm, rank_transform=True).axes[0].images[0]
    b = plot_rdm(np.expm1(rdm) ** 2, rank_transform=True).axes[0].images[0]
    np.testing.assert_allclose(a.get_array(), b.get_array())
    assert a.get_clim() == (0.0, 1.0)
    assert plot_rdm(rdm, rank_transform=True).axes[1].get_ylabel().startswith("dissimilarity (rank")


def test_draws_into_given_axes(rng):
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_rdm(symmetric_distances(rng, 4), ax=left, colorbar=False) is fig
    assert len(left.images) == 1 and not right.images and len(fig.axes) == 2


def test_kriegeskorte_categories_and_labels_inside_saved_figure():
    data = load_kriegeskorte92(condensed=True)
    categories = data.category_vectors.astype(bool)
    animate = np.where(categories[:, 0], "animate", "inanimate")
    fig = plot_rdm(data.brain_rdms.mean(axis=0), groups=animate, title="hIT", rank_transform=True)
    ax = fig.axes[0]
    positions = sorted({s[0, 1] for s in ax.collections[0].get_segments()})
    assert positions == [categories[:, 0].sum() - 0.5]  # 48 animate images, then inanimate
    assert labels_outside(fig) == []


@pytest.mark.parametrize("n", [5, 20, 60])
def test_long_labels_inside_saved_figure(rng, n):
    groups = sorted(long_names("category ", 3, 20) * (n // 3 + 1))[:n]
    fig = plot_rdm(
        symmetric_distances(rng, n), long_names("image ", n, 35), groups=groups, title="t"
    )
    assert labels_outside(fig) == []


def test_plot_rdm_errors(rng):
    rdm = symmetric_distances(rng, 4)
    with pytest.raises(ValueError, match=r"rdm has shape \(4, 3\); expected a square RDM"):
        plot_rdm(rdm[:, :3])
    with pytest.raises(ValueError, match=r"rdm is not symmetric \(largest \|rdm - rdm.T\| is 1"):
        plot_rdm(rdm + np.triu(np.ones((4, 4)), 1))
    with pytest.raises(ValueError, match="non-zero diagonal .* use plot_similarity_matrix"):
        plot_rdm(np.corrcoef(rng.normal(size=(4, 8))))
    with pytest.raises(ValueError, match="vector of 4 entries, which is not a condensed RDM"):
        plot_rdm(np.ones(4))
    bad = rdm.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"rdm has 1 NaN and 0 infinite .* index \(0, 1\)"):
        plot_rdm(bad)
    with pytest.raises(ValueError, match=r"rdm must be a 1-D or 2-D array; got shape \(2, 4, 4\)"):
        plot_rdm(np.stack([rdm, rdm]))
    with pytest.raises(ValueError, match="conditions has 3 entries but there are 4 conditions"):
        plot_rdm(rdm, ["a", "b", "c"])
    with pytest.raises(ValueError, match="groups has 5 entries but there are 4 conditions"):
        plot_rdm(rdm, groups=[0, 0, 1, 1, 1])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes .* got list"):
        plot_rdm(rdm, ax=[1])
    with pytest.raises(ValueError, match="vmin must be smaller than vmax"):
        plot_rdm(rdm, vmin=2.0, vmax=2.0)
