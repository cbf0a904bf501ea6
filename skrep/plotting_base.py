"""What skrep's figures share: matplotlib on first use, checks of matrices, labels and axes.

The plotting functions live in :mod:`skrep.plotting`; this module holds the
pieces they share. Every figure skrep creates uses matplotlib's constrained
layout and a size chosen from its labels, so that long layer names are not
cut off when the figure is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ._array import to_numpy
from ._typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

__all__ = [
    "import_pyplot",
    "check_axes",
    "new_figure",
    "check_labels",
    "check_real_matrix",
    "label_inches",
    "set_matrix_ticks",
    "annotate_cells",
]

#: Tick labels of matrices: matplotlib's "small" at the default font size, in points.
TICK_POINTS = 8.5
#: At most this many labelled rows (or columns) on a matrix; beyond, every k-th is labelled.
MAX_TICKS = 50


def import_pyplot() -> ModuleType:
    """Import ``matplotlib.pyplot``, saying how to install it when it is missing.

    Returns
    -------
    module
        ``matplotlib.pyplot``.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skrep.plotting needs matplotlib, which is not installed; install it with "
            "`pip install matplotlib` (or `pip install skrep[plot]`)."
        ) from exc
    return plt


def check_axes(ax: Any, name: str = "ax") -> None:  # noqa: ANN401
    """Raise a TypeError unless ``ax`` is None or a matplotlib Axes.

    Parameters
    ----------
    ax : object
        The argument to check.
    name : str, default="ax"
        Its name in the message.
    """
    if ax is None:
        return
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(
            f"{name} must be a matplotlib Axes (e.g. from `fig, ax = plt.subplots()`) or None; "
            f"got {type(ax).__name__} {ax!r:.80}."
        )


def new_figure(figsize: tuple[float, float], n_panels: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure with constrained layout and ``n_panels`` axes side by side.

    Parameters
    ----------
    figsize : tuple of float
        Width and height in inches.
    n_panels : int, default=1
        Number of axes, in one row.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    axes : list of matplotlib.axes.Axes
        Its axes, left to right.
    """
    plt = import_pyplot()
    fig, axes = plt.subplots(1, n_panels, figsize=figsize, squeeze=False, layout="compressed")
    return fig, list(axes[0])


def check_labels(labels: Sequence[Any] | None, n: int, name: str, what: str) -> list[str] | None:
    """Labels as strings, checked to give one per row (or column, condition...).

    Parameters
    ----------
    labels : sequence or None
        The labels.
    n : int
        How many are expected.
    name : str
        The argument's name in the message.
    what : str
        What each label names, e.g. "rows of M", in the message.

    Returns
    -------
    list of str or None
        The labels as strings (None for None).
    """
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise TypeError(
            f"{name} must be a sequence of labels, one per {what}; got {type(labels).__name__} "
            f"{labels!r:.80}."
        )
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise ValueError(
            f"{name} has {len(labels)} entries but there are {n} {what}; give one label each."
        )
    return labels


def check_real_matrix(values: ArrayLike, name: str, *, ndim: tuple[int, ...] = (2,)) -> np.ndarray:
    """A finite float64 numpy array of the given number of dimensions.

    Parameters
    ----------
    values : array-like
        Numbers (numpy array, torch tensor, nested lists...).
    name : str
        The argument's name in messages.
    ndim : tuple of int, default=(2,)
        The numbers of dimensions accepted.

    Returns
    -------
    ndarray
        The values, float64.
    """
    array = to_numpy(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {array.dtype}.")
    if array.ndim not in ndim:
        expected = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be a {expected} array; got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); nothing to draw.")
    array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} has {np.count_nonzero(np.isnan(array))} NaN and "
            f"{np.count_nonzero(np.isinf(array))} infinite value(s) (shape {array.shape}, "
            f"first at index {where}); expected finite numbers only."
        )
    return array


def label_inches(labels: Sequence[str] | None, points: float = TICK_POINTS) -> float:
    """Rough width of the longest label in inches (0 without labels).

    Parameters
    ----------
    labels : sequence of str or None
        The labels.
    points : float, default=TICK_POINTS
        Font size in points.

    Returns
    -------
    float
        0.6 font sizes per character, the width of an average sans-serif glyph.
    """
    if not labels:
        return 0.0
    return 0.6 * points / 72 * max(len(label) for label in labels)


def _tick_step(n: int) -> int:
    return max(1, -(-n // MAX_TICKS))


def set_matrix_ticks(
    ax: Axes, row_labels: Sequence[str] | None, column_labels: Sequence[str] | None
) -> None:
    """Label the rows and columns of a matrix image, column labels rotated.

    Column labels longer than four characters are rotated by 90 degrees so
    that long names stay apart; beyond :data:`MAX_TICKS` rows (or columns)
    every k-th is labelled. None leaves an axis without ticks.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes of the image.
    row_labels, column_labels : sequence of str or None
        One label per row, per column.
    """
    if row_labels is None:
        ax.set_yticks([])
    else:
        ticks = np.arange(0, len(row_labels), _tick_step(len(row_labels)))
        ax.set_yticks(ticks, [row_labels[k] for k in ticks], fontsize=TICK_POINTS)
    if column_labels is None:
        ax.set_xticks([])
    else:
        ticks = np.arange(0, len(column_labels), _tick_step(len(column_labels)))
        shown = [column_labels[k] for k in ticks]
        rotation = 90 if max(len(label) for label in shown) > 4 else 0
        ax.set_xticks(ticks, shown, fontsize=TICK_POINTS, rotation=rotation)


def annotate_cells(ax: Axes, image: AxesImage, values: np.ndarray, fmt: str = ".2f") -> None:
    """Write each finite value in its cell, in black or white against the cell's colour.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes of the image.
    image : matplotlib.image.AxesImage
        The image drawn from ``values`` (its colormap and norm colour the cells).
    values : ndarray of shape (n_rows, n_columns)
        The values.
    fmt : str, default=".2f"
        Format specification of the numbers.
    """
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            luminance = np.dot(image.cmap(image.norm(value))[:3], [0.299, 0.587, 0.114])
            color = "white" if luminance < 0.5 else "black"
            ax.text(j, i, format(value, fmt), ha="center", va="center", color=color)
