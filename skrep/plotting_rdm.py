"""The RDM figure: a square dissimilarity matrix with its conditions and their groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import rankdata

from ._typing import ArrayLike
from .functional.rdm import condensed_to_square, n_conditions_of
from .plotting_base import (
    TICK_POINTS,
    check_axes,
    check_labels,
    check_real_matrix,
    import_pyplot,
    label_inches,
    new_figure,
    set_matrix_ticks,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = ["plot_rdm"]


def _square_rdm(rdm: ArrayLike) -> np.ndarray:
    """A square, symmetric RDM with a zero diagonal from a square or condensed one."""
    values = check_real_matrix(rdm, "rdm", ndim=(1, 2))
    if values.ndim == 1:
        if n_conditions_of(values.size) is None:
            raise ValueError(
                f"rdm is a vector of {values.size} entries, which is not a condensed RDM "
                "(n (n - 1) / 2 entries: 1, 3, 6, 10, ...); expected a square RDM or its "
                "upper triangle."
            )
        return condensed_to_square(values)
    n_rows, n_columns = values.shape
    if n_rows != n_columns:
        raise ValueError(
            f"rdm has shape {values.shape}; expected a square RDM (n_conditions, n_conditions) "
            "or a condensed one. plot_similarity_matrix draws rectangular matrices."
        )
    scale = max(1.0, float(np.max(np.abs(values))))
    asymmetry = float(np.max(np.abs(values - values.T)))
    if asymmetry > 1e-8 * scale:
        raise ValueError(
            f"rdm is not symmetric (largest |rdm - rdm.T| is {asymmetry:.3g}); expected an RDM. "
            "plot_similarity_matrix draws any matrix."
        )
    diagonal = float(np.max(np.abs(np.diag(values))))
    if diagonal > 1e-8 * scale:
        raise ValueError(
            f"rdm has a non-zero diagonal (largest |entry| {diagonal:.3g}); an RDM's diagonal is "
            "the dissimilarity of a condition to itself, 0. For a similarity matrix use "
            "plot_similarity_matrix."
        )
    return (values + values.T) / 2


def _rank_scaled(square: np.ndarray) -> np.ndarray:
    """Off-diagonal entries replaced by their ranks, scaled to [0, 1] (ties share a rank)."""
    n = square.shape[0]
    rows, columns = np.triu_indices(n, 1)
    if rows.size < 2:
        scaled = np.full(rows.size, 0.5)
    else:
        scaled = (rankdata(square[rows, columns]) - 1) / (rows.size - 1)
    ranked = np.zeros_like(square)
    ranked[rows, columns] = ranked[columns, rows] = scaled
    return ranked


def _group_blocks(groups: Sequence[Any]) -> list[tuple[Any, int, int]]:
    """Runs of consecutive conditions in the same group.

    Parameters
    ----------
    groups : sequence
        The group of each condition, in the order drawn.

    Returns
    -------
    list of (group, start, stop)
        One entry per run: conditions ``start`` to ``stop - 1`` are in
        ``group``.
    """
    blocks = []
    for k, group in enumerate(groups):
        if blocks and blocks[-1][0] == group:
            blocks[-1][2] = k + 1
        else:
            blocks.append([group, k, k + 1])
    return [tuple(block) for block in blocks]


def _group_colors(groups: list[Any]) -> dict[Any, Any]:
    """A colour per distinct group, in order of first appearance."""
    plt = import_pyplot()
    distinct = list(dict.fromkeys(groups))
    if len(distinct) <= 10:
        palette = plt.get_cmap("tab10").colors
    elif len(distinct) <= 20:
        palette = plt.get_cmap("tab20").colors
    else:
        palette = plt.get_cmap("turbo")(np.linspace(0.05, 0.95, len(distinct)))
    return {group: palette[k] for k, group in enumerate(distinct)}


def _draw_groups(ax: Axes, groups: list[Any], n: int, label_left: bool) -> None:
    """Colour strips along the left and top edges, separators, group names on top."""
    from matplotlib.patches import Rectangle

    colors = _group_colors(groups)
    blocks = _group_blocks(groups)
    width = max(0.04 * n, 0.5)
    edge = -0.5 - width
    for group, start, stop in blocks:
        size = stop - start
        color = colors[group]
        ax.add_patch(Rectangle((edge, start - 0.5), width, size, color=color, clip_on=False))
        ax.add_patch(Rectangle((start - 0.5, edge), size, width, color=color, clip_on=False))
    boundaries = [start - 0.5 for _, start, _ in blocks[1:]]
    if boundaries:
        ax.hlines(boundaries, edge, n - 0.5, colors="white", linewidth=1.0, gid="group separators")
        ax.vlines(boundaries, edge, n - 0.5, colors="white", linewidth=1.0, gid="group separators")
    ax.set_xlim(edge, n - 0.5)
    ax.set_ylim(n - 0.5, edge)
    centres = [(start + stop - 1) / 2 for _, start, stop in blocks]
    names = [str(group) for group, _, _ in blocks]
    top = ax.secondary_xaxis("top")
    rotation = 90 if max(len(name) for name in names) > 4 else 0
    top.set_xticks(centres, names, fontsize=TICK_POINTS, rotation=rotation)
    top.tick_params(length=0)
    if label_left:
        ax.set_yticks(centres, names, fontsize=TICK_POINTS)
        ax.tick_params(axis="y", length=0)


def plot_rdm(
    rdm: ArrayLike,
    conditions: Sequence[str] | None = None,
    *,
    groups: Sequence[Any] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str | Colormap = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    rank_transform: bool = False,
    colorbar: bool = True,
) -> Figure:
    """Draw a representational dissimilarity matrix, its conditions grouped.

    The RDM is drawn as a square image with its diagonal left blank (a
    condition's dissimilarity to itself says nothing), as rsatoolbox shows
    RDMs. With ``groups``, a colour strip along the left and top edges marks
    each condition's group, white lines separate consecutive groups, and the
    group names label the top edge (and the left edge when no
    ``conditions`` are given). Conditions are drawn in the given order; a
    group whose conditions are not consecutive appears as several blocks, so
    sort the conditions by group first.

    Parameters
    ----------
    rdm : array-like of shape (n_conditions, n_conditions) or (n_pairs,)
        A square RDM (symmetric, zero diagonal) or a condensed one, its upper
        triangle row by row (:func:`skrep.rdm.square_to_condensed`), e.g.
        from :func:`skrep.rdm.compute_rdm`. Negative dissimilarities
        (crossnobis) are drawn as they are.
    conditions : sequence of str, default=None
        A label per condition (tick labels; every k-th beyond 50 conditions).
    groups : sequence, default=None
        A group per condition (e.g. "animate", "inanimate").
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None creates a figure.
    title : str, default=None
        Title of the axes.
    cmap : str or Colormap, default="viridis"
        Colormap (dark: similar conditions).
    vmin, vmax : float, default=None
        Limits of the colour scale; None takes the range of the off-diagonal
        entries (0 and 1 with ``rank_transform``).
    rank_transform : bool, default=False
        Draw each dissimilarity's rank among the ``n_pairs`` entries,
        scaled to [0, 1] (ties share their mean rank), so that the colours
        use the whole scale whatever the distribution of the values; RDMs
        compared by rank correlation (Spearman) are best seen this way.
    colorbar : bool, default=True
        Draw a colour bar.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``ax.images[0].get_array()`` is the square RDM (ranks
        with ``rank_transform``), its diagonal masked.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.plotting import plot_rdm
    >>> from skrep.rdm import compute_rdm
    >>> rng = np.random.default_rng(0)
    >>> patterns = np.repeat(rng.standard_normal((2, 20)), 3, axis=0)
    >>> patterns += 0.5 * rng.standard_normal((6, 20))
    >>> rdm = compute_rdm(patterns, "correlation")
    >>> fig = plot_rdm(rdm, groups=["faces"] * 3 + ["houses"] * 3)
    >>> fig.axes[0].images[0].get_array().shape
    (6, 6)
    """
    square = _square_rdm(rdm)
    n = square.shape[0]
    conditions = check_labels(conditions, n, "conditions", "conditions in rdm")
    if groups is not None:
        groups = check_labels(groups, n, "groups", "conditions in rdm")
    for name, limit in (("vmin", vmin), ("vmax", vmax)):
        if limit is not None and not np.isfinite(limit):
            raise ValueError(f"{name} must be a finite number or None; got {limit!r}.")
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"vmin must be smaller than vmax; got vmin={vmin!r}, vmax={vmax!r}.")
    check_axes(ax)

    shown = _rank_scaled(square) if rank_transform else square
    if rank_transform:
        vmin = 0.0 if vmin is None else vmin
        vmax = 1.0 if vmax is None else vmax
    masked = np.ma.masked_array(shown, mask=np.eye(n, dtype=bool))
    if ax is None:
        side = float(np.clip(0.3 * n, 3.5, 6.5))
        margin = label_inches(conditions) + (label_inches(groups) if groups else 0.0)
        size = (side + margin + (1.6 if colorbar else 0.4), side + margin + (0.9 if title else 0.5))
        fig, (ax,) = new_figure(size)
    fig = ax.figure
    image = ax.imshow(masked, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    set_matrix_ticks(ax, conditions, conditions)
    if groups is not None:
        _draw_groups(ax, groups, n, label_left=conditions is None)
    if colorbar:
        label = "dissimilarity (rank, scaled to [0, 1])" if rank_transform else "dissimilarity"
        fig.colorbar(image, ax=ax, label=label)
    if title:
        ax.set_title(title)
    return fig
