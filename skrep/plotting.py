"""Plots of distance matrices between networks (matplotlib, an optional dependency)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import ArrayLike, RandomState
from .multiset import check_distance_matrix, cluster_order, embed_distances

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_distance_matrix"]


def _import_pyplot() -> ModuleType:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skrep.plotting needs matplotlib, which is not installed; install it with "
            "`pip install matplotlib` (or `pip install skrep[plot]`)."
        ) from exc
    return plt


def _resolve_order(order: str | ArrayLike | None, D: np.ndarray) -> np.ndarray:
    n = D.shape[0]
    if order is None:
        return np.arange(n)
    if isinstance(order, str):
        if order != "cluster":
            raise ValueError(f"order must be 'cluster', None or a permutation; got {order!r}.")
        return cluster_order(D)
    order = np.asarray(order)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(
            f"order must be a permutation of range({n}) (one entry per network); got {order!r}."
        )
    return order


def plot_distance_matrix(
    D: ArrayLike,
    labels: Sequence[str] | None = None,
    *,
    groups: Sequence[Any] | None = None,
    order: str | ArrayLike | None = "cluster",
    embedding: str | ArrayLike | None = "mds",
    title: str | None = None,
    cmap: str = "viridis",
    random_state: RandomState = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw a distance matrix between networks and their 2-D embedding.

    Left: the matrix, rows and columns reordered so that similar networks sit
    together. Right (unless ``embedding=None``): the networks as points whose
    distances approximate ``D`` (metric MDS), coloured by ``groups``.

    Parameters
    ----------
    D : array-like of shape (n_networks, n_networks)
        Symmetric distances with zero diagonal, e.g. from
        :func:`skrep.pairwise_distances`.
    labels : sequence of str, default=None
        Name of each network (tick labels of the matrix, annotations of the
        embedding when there are at most 40 networks).
    groups : sequence, default=None
        A group per network (e.g. layer, architecture); colours the points.
    order : "cluster", None or array of int, default="cluster"
        Order of the matrix rows: hierarchical clustering
        (:func:`skrep.multiset.cluster_order`), the given order, or a permutation.
    embedding : "mds", None or array of shape (n_networks, 2), default="mds"
        Coordinates for the right panel: computed by
        :func:`skrep.multiset.embed_distances`, given, or no panel.
    title : str, default=None
        Figure title.
    cmap : str, default="viridis"
        Colormap of the matrix.
    random_state : int, RandomState instance or None, default=None
        Seed of the MDS embedding (see :func:`skrep.multiset.embed_distances`).
    figsize : tuple of float, default=None
        Figure size in inches; None chooses one from the number of panels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig.axes[0]`` the matrix, ``fig.axes[-1]`` the embedding
        when drawn).

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.plotting import plot_distance_matrix
    >>> D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.5], [2.0, 1.5, 0.0]])
    >>> fig = plot_distance_matrix(D, labels=["a", "b", "c"], groups=[0, 0, 1])
    >>> len(fig.axes)  # matrix, its colour bar, embedding
    3
    """
    plt = _import_pyplot()
    D = check_distance_matrix(D)
    n = D.shape[0]
    labels = [str(k) for k in range(n)] if labels is None else [str(label) for label in labels]
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but D has {n} networks.")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(
                f"groups has shape {groups.shape}; expected one entry per network ({n})."
            )
    clustered = isinstance(order, str)
    order = _resolve_order(order, D)
    if isinstance(embedding, str):
        if embedding != "mds":
            raise ValueError(f"embedding must be 'mds', None or an array; got {embedding!r}.")
        embedding = embed_distances(D, 2, random_state=random_state) if n >= 2 else None
    elif embedding is not None:
        embedding = np.asarray(embedding, dtype=float)
        if embedding.shape != (n, 2):
            raise ValueError(
                f"embedding has shape {embedding.shape}; expected ({n}, 2), one point per network."
            )

    n_panels = 1 if embedding is None else 2
    fig, axes = plt.subplots(1, n_panels, figsize=figsize or (5.5 * n_panels, 4.8), squeeze=False)
    ax = axes[0, 0]
    image = ax.imshow(D[np.ix_(order, order)], cmap=cmap, interpolation="nearest")
    fig.colorbar(image, ax=ax, label="distance")
    if n <= 40:
        ticks = np.arange(n)
        ax.set_xticks(ticks, [labels[k] for k in order], rotation=90, fontsize="small")
        ax.set_yticks(ticks, [labels[k] for k in order], fontsize="small")
    ax.set_title("distances (clustered order)" if clustered else "distances")

    if embedding is not None:
        ax = axes[0, 1]
        if groups is None:
            ax.scatter(embedding[:, 0], embedding[:, 1], s=30)
        else:
            for value in np.unique(groups):
                mask = groups == value
                ax.scatter(embedding[mask, 0], embedding[mask, 1], s=30, label=str(value))
            ax.legend(fontsize="small", frameon=False, loc="best")
        if n <= 40:
            for k in range(n):
                ax.annotate(labels[k], embedding[k], fontsize="x-small", alpha=0.7)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title("2-D embedding (metric MDS)")
        ax.set_xlabel("MDS 1")
        ax.set_ylabel("MDS 2")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
