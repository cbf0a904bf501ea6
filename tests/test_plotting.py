"""skrep.plotting: the distance-matrix figure."""

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
    with pytest.raises(ValueError, match="labels has 2 entries but D has 6"):
        plot_distance_matrix(D, ["a", "b"])
    with pytest.raises(ValueError, match="permutation of range"):
        plot_distance_matrix(D, order=[0, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"embedding has shape \(6, 3\)"):
        plot_distance_matrix(D, embedding=np.zeros((6, 3)))
    with pytest.raises(ValueError, match="not symmetric"):
        plot_distance_matrix(D + np.triu(np.ones((6, 6)), 1))
