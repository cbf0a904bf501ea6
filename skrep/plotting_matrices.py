"""Matrix figures: distances between networks, and layer x layer similarity matrices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import ArrayLike, RandomState
from .engine import MeasureMatrix
from .multiset import check_distance_matrix, cluster_order, embed_distances
from .plotting_base import (
    annotate_cells,
    check_axes,
    check_labels,
    check_real_matrix,
    label_inches,
    new_figure,
    set_matrix_ticks,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = ["plot_distance_matrix", "plot_similarity_matrix"]

#: Networks beyond which the distance matrix and the embedding carry no names.
MAX_NAMED = 40


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


def _panel_axes(ax: Any, n_panels: int) -> list[Axes] | None:  # noqa: ANN401
    """The given axes, one per panel, or None to create a figure."""
    if ax is None:
        return None
    axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
    for k, one in enumerate(axes):
        check_axes(one, "ax" if len(axes) == 1 else f"ax[{k}]")
    if len(axes) != n_panels:
        needed = "one Axes (the matrix)" if n_panels == 1 else "two Axes (matrix, embedding)"
        raise ValueError(
            f"ax holds {len(axes)} Axes but this figure has {n_panels} panel(s): pass {needed}"
            + (", or embedding=None to draw the matrix alone." if n_panels == 2 else ".")
        )
    return axes


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
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Draw a distance matrix between networks and their 2-D embedding.

    Left: the matrix, rows and columns reordered so that similar networks sit
    together. Right (unless ``embedding=None``): the networks as points whose
    distances approximate ``D`` (metric MDS), coloured by ``groups``. A
    figure it creates has constrained layout and a size that leaves room for
    the labels, so that they are not cut off when it is saved.

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
        Title of the figure; with ``ax``, of the matrix panel.
    cmap : str, default="viridis"
        Colormap of the matrix.
    random_state : int, RandomState instance or None, default=None
        Seed of the MDS embedding (see :func:`skrep.multiset.embed_distances`).
    figsize : tuple of float, default=None
        Figure size in inches; None chooses one from the number of panels
        and the length of the labels. Ignored with ``ax``.
    ax : matplotlib.axes.Axes or pair of Axes, default=None
        Where to draw: one Axes for the matrix alone (with
        ``embedding=None``), or (matrix Axes, embedding Axes). None creates a
        figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig.axes[0]`` the matrix, ``fig.axes[-1]`` the embedding
        when drawn, for a figure created here).

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.plotting import plot_distance_matrix
    >>> D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.5], [2.0, 1.5, 0.0]])
    >>> fig = plot_distance_matrix(D, labels=["a", "b", "c"], groups=[0, 0, 1])
    >>> len(fig.axes)  # matrix, its colour bar, embedding
    3
    """
    D = check_distance_matrix(D)
    n = D.shape[0]
    labels = check_labels(labels, n, "labels", "networks in D") or [str(k) for k in range(n)]
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
    elif embedding is not None:
        embedding = np.asarray(embedding, dtype=float)
        if embedding.shape != (n, 2):
            raise ValueError(
                f"embedding has shape {embedding.shape}; expected ({n}, 2), one point per network."
            )
    n_panels = 1 if embedding is None or (isinstance(embedding, str) and n < 2) else 2
    axes = _panel_axes(ax, n_panels)
    if isinstance(embedding, str):
        embedding = embed_distances(D, 2, random_state=random_state) if n >= 2 else None

    named = n <= MAX_NAMED
    if axes is None:
        side = float(np.clip(0.3 * n, 3.5, 7.0))
        margin = label_inches(labels) if named else 0.0
        size = (side + margin + 1.4 + (side + 0.8 if n_panels == 2 else 0.0), side + margin + 1.0)
        fig, axes = new_figure(figsize or size, n_panels)
    fig = axes[0].figure
    matrix_ax = axes[0]
    image = matrix_ax.imshow(D[np.ix_(order, order)], cmap=cmap, interpolation="nearest")
    fig.colorbar(image, ax=matrix_ax, label="distance")
    ordered = [labels[k] for k in order]
    set_matrix_ticks(matrix_ax, *([ordered, ordered] if named else [None, None]))
    panel_title = "distances (clustered order)" if clustered else "distances"
    matrix_ax.set_title(title if title and ax is not None else panel_title)

    if embedding is not None:
        embedding_ax = axes[1]
        if groups is None:
            embedding_ax.scatter(embedding[:, 0], embedding[:, 1], s=30)
        else:
            for value in np.unique(groups):
                mask = groups == value
                embedding_ax.scatter(embedding[mask, 0], embedding[mask, 1], s=30, label=str(value))
            embedding_ax.legend(fontsize="small", frameon=False, loc="best")
        if named:
            for k in range(n):
                embedding_ax.annotate(labels[k], embedding[k], fontsize="x-small", alpha=0.7)
        embedding_ax.set_aspect("equal", adjustable="datalim")
        embedding_ax.set_title("2-D embedding (metric MDS)")
        embedding_ax.set_xlabel("MDS 1")
        embedding_ax.set_ylabel("MDS 2")
    if title and ax is None:
        fig.suptitle(title)
    return fig


def _is_data_frame(M: Any) -> bool:  # noqa: ANN401
    """Whether ``M`` looks like a pandas DataFrame (pandas itself is not imported)."""
    return all(hasattr(M, name) for name in ("index", "columns", "to_numpy", "iloc"))


def _matrix_and_names(
    M: Any,
) -> tuple[np.ndarray, list | None, list | None, str | None, str | None]:  # noqa: ANN401
    """The values of ``M``, its row and column names, kind and measure when it knows them."""
    if isinstance(M, tuple) and len(M) == 2 and all(isinstance(m, MeasureMatrix) for m in M):
        raise TypeError(
            "M is a (train, test) pair of matrices, as layer_similarity returns with held-out "
            "layers; draw one of them: M[0] (training stimuli) or M[1] (held-out stimuli)."
        )
    if _is_data_frame(M):
        values = M.to_numpy()
        if values.dtype.kind not in "biuf":
            dtypes = sorted({str(dtype) for dtype in M.dtypes})
            raise TypeError(
                f"M is a DataFrame with non-numeric columns (dtypes {dtypes}); expected "
                "numbers only, rows and columns named by its index and columns."
            )
        return check_real_matrix(values, "M"), list(M.index), list(M.columns), None, None
    if isinstance(M, MeasureMatrix):
        return check_real_matrix(np.asarray(M), "M"), M.row_names, M.column_names, M.kind, M.measure
    return check_real_matrix(M, "M"), None, None, None, None


def plot_similarity_matrix(
    M: ArrayLike,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    *,
    kind: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str | Colormap = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    annotate: bool = False,
) -> Figure:
    """Draw a (possibly rectangular) matrix of similarities or distances between layers.

    Row ``i``, column ``j`` is the cell of ``M[i, j]``, rows top to bottom in
    the given order, so that the matrix reads as it prints. It is the figure
    of :func:`skrep.layer_similarity`: its result is drawn with its layer
    names, and its ``kind`` (similarity or distance) and measure label the
    colour bar. Column labels are rotated, and a figure created here has
    constrained layout and room for long labels.

    Parameters
    ----------
    M : array-like of shape (n_rows, n_columns), MeasureMatrix or pandas.DataFrame
        The matrix, e.g. ``layer_similarity("linear_cka", layers_a, layers_b)``
        (its ``row_names``, ``column_names``, ``kind`` and ``measure`` are
        used), a DataFrame (its index and columns label the rows and
        columns) or any array. A similarity matrix may have any diagonal.
    row_labels : sequence of str, default=None
        One label per row; None takes the names M carries, if any.
    col_labels : sequence of str, default=None
        One label per column; None takes the names M carries, if any.
    kind : {"similarity", "distance"}, default=None
        What the entries are (the colour bar's label); None takes
        ``M.kind`` from a MeasureMatrix and "similarity" otherwise.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None creates a figure.
    title : str, default=None
        Title of the axes.
    cmap : str or Colormap, default="viridis"
        Colormap (with "viridis", bright is more similar for similarities and
        less similar for distances, as in :func:`plot_distance_matrix`).
    vmin, vmax : float, default=None
        Limits of the colour scale; None takes the smallest (largest) entry.
        Pass ``vmin=0, vmax=1`` to compare matrices of CKA, for example.
    colorbar : bool, default=True
        Draw a colour bar.
    annotate : bool, default=False
        Write each entry's value (two decimals) in its cell.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``ax.images[0].get_array()`` holds the matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import layer_similarity
    >>> from skrep.plotting import plot_similarity_matrix
    >>> rng = np.random.default_rng(0)
    >>> a = {"conv1": rng.standard_normal((40, 6)), "fc": rng.standard_normal((40, 3))}
    >>> b = {"block1": a["conv1"] @ rng.standard_normal((6, 6)), "head": a["fc"]}
    >>> fig = plot_similarity_matrix(layer_similarity("linear_cka", a, b), vmin=0, vmax=1)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['block1', 'head']
    """
    values, row_names, column_names, own_kind, measure = _matrix_and_names(M)
    if kind is None:
        kind = own_kind or "similarity"
    if kind not in ("similarity", "distance"):
        raise ValueError(f"kind must be 'similarity' or 'distance'; got {kind!r}.")
    if own_kind is not None and kind != own_kind:
        raise ValueError(
            f"M holds {own_kind}s (M.kind == {own_kind!r}, measure {measure}) but kind={kind!r}; "
            "leave kind=None, or pass np.asarray(M) to draw the numbers under another name."
        )
    n_rows, n_columns = values.shape
    rows = check_labels(row_labels, n_rows, "row_labels", "rows of M")
    columns = check_labels(col_labels, n_columns, "col_labels", "columns of M")
    rows = rows or [str(name) for name in (row_names or range(n_rows))]
    columns = columns or [str(name) for name in (column_names or range(n_columns))]
    for name, limit in (("vmin", vmin), ("vmax", vmax)):
        if limit is not None and not np.isfinite(limit):
            raise ValueError(f"{name} must be a finite number or None; got {limit!r}.")
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"vmin must be smaller than vmax; got vmin={vmin!r}, vmax={vmax!r}.")
    check_axes(ax)

    if ax is None:
        longest = max(n_rows, n_columns)
        cell = float(np.clip(0.15 * longest, 3.0, 10.0)) / longest  # the longer side: 3 to 10 in
        width = cell * n_columns + label_inches(rows) + (1.6 if colorbar else 0.4)
        height = cell * n_rows + label_inches(columns) + (0.9 if title else 0.5)
        fig, (ax,) = new_figure((max(width, 3.0), max(height, 2.5)))
    fig = ax.figure
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    set_matrix_ticks(ax, rows, columns)
    if colorbar:
        label = kind if measure is None else f"{kind} ({measure})"
        fig.colorbar(image, ax=ax, label=label)
    if annotate:
        annotate_cells(ax, image, values)
    if title:
        ax.set_title(title)
    return fig
