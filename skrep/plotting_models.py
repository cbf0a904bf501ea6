"""The model-comparison figure: performance, noise ceiling and significant differences.

In the style of rsatoolbox's ``plot_model_comparison``: one bar per model
(its mean evaluation) with error bars, the noise ceiling as a grey band
between its lower and upper bounds, and above the bars one bracket for each
pair of models whose difference is significant after the correction for
multiple comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.stats

from ._typing import ArrayLike
from ._validation import check_real_array
from .exceptions import InvalidParameterError
from .functional.model_tests import noise_ceiling_tests, pairwise_model_tests, zero_tests
from .plotting_base import TICK_POINTS, check_axes, check_labels, label_inches, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_model_comparison"]

#: rsatoolbox's bar blue, and the grey of its noise ceiling.
BAR_COLOR = (0.0, 0.4, 0.9)
CEILING_COLOR = (0.5, 0.5, 0.5, 0.3)


def _confidence(error_bars: object) -> float | None:
    """None for standard errors, else the confidence level of "ci" (95 %) or "ciXX"."""
    if isinstance(error_bars, str):
        text = error_bars.lower()
        if text == "sem":
            return None
        if text.startswith("ci"):
            try:
                level = 95.0 if text == "ci" else float(text[2:])
            except ValueError:
                level = -1.0
            if 0.0 < level < 100.0:
                return level / 100.0
    raise InvalidParameterError(
        "The 'error_bars' parameter of plot_model_comparison must be 'sem', 'ci' (95 %), "
        f"'ciXX' with XX a percentage (e.g. 'ci90'), or None; got {error_bars!r}."
    )


def _error_bars(
    evaluations: ArrayLike,
    result: Any,
    error_bars: object,
    test: str,  # noqa: ANN401
) -> np.ndarray | None:
    """(2, n_models) distances below and above the means, or None for no error bars."""
    if error_bars is None:
        return None
    level = _confidence(error_bars)
    se = result.standard_error
    if level is None:
        return np.stack([se, se])
    if test == "bootstrap":  # percentiles of the resamples used by the tests
        samples = check_real_array(evaluations, "evaluations")
        samples = samples[~np.isnan(samples).any(axis=1)]
        low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return np.maximum(np.stack([result.mean - low, high - result.mean]), 0.0)
    # t-based; the signed-rank test (fixed evaluations only) has n_subjects - 1 dof too
    dof = result.dof if result.dof is not None else np.shape(evaluations)[-1] - 1
    half = se * scipy.stats.t.ppf((1 + level) / 2, dof)
    return np.stack([half, half])


def _levels(pairs: list[tuple[int, int]]) -> list[int]:
    """A level for each bracket (shortest first) so that brackets on one level do not touch."""
    taken: list[list[tuple[int, int]]] = []
    levels = []
    for i, j in pairs:
        for level, spans in enumerate(taken):
            if all(j < a or b < i for a, b in spans):
                spans.append((i, j))
                levels.append(level)
                break
        else:
            taken.append([(i, j)])
            levels.append(len(taken) - 1)
    return levels


def _draw_brackets(
    ax: Axes, significant: np.ndarray, names: list[str], base: float, step: float
) -> float:
    """One bracket per significant pair, stacked on levels above ``base``; the top level."""
    rows, columns = np.nonzero(np.triu(significant, 1))
    pairs = sorted(
        zip(rows.tolist(), columns.tolist(), strict=True), key=lambda p: (p[1] - p[0], p[0])
    )
    levels = _levels(pairs)
    for (i, j), level in zip(pairs, levels, strict=True):
        y = base + level * step
        ax.plot(
            [i, i, j, j],
            [y - 0.3 * step, y, y, y - 0.3 * step],
            color="k",
            linewidth=1.0,
            gid="significance-bracket",
            label=f"_{names[i]} vs {names[j]}",
            clip_on=False,
        )
    return base + (max(levels) if levels else -1) * step


def plot_model_comparison(
    evaluations: ArrayLike,
    names: Sequence[Any] | None = None,
    noise_ceiling: ArrayLike | float | None = None,
    test: str = "t-test",
    correction: str | None = "fdr",
    *,
    bootstrap: str | None = None,
    n_subjects: int | None = None,
    n_stimuli: int | None = None,
    alpha: float = 0.05,
    error_bars: str | None = "sem",
    color: Any = None,  # noqa: ANN401
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bars of model performance, the noise ceiling, and brackets over significant differences.

    Parameters
    ----------
    evaluations : array-like of shape (n_models, n_subjects), (n_bootstrap, n_models) \
or (3, n_bootstrap, n_models)
        Evaluations of the models: fixed, or bootstrap resamples, as for
        :func:`~skrep.functional.model_tests.pairwise_model_tests` (see
        ``bootstrap``).
    names : sequence of str, optional
        One name per model, under its bar (default: 0, 1, ...).
    noise_ceiling : float or array-like, optional
        The noise ceiling: a (lower, upper) pair (as
        :func:`~skrep.functional.noise_ceiling` returns it), drawn as a grey
        band; a lower bound alone, drawn as a dashed line; or the bounds in
        each resample (see
        :func:`~skrep.functional.model_tests.noise_ceiling_tests`), drawn at
        their means.
    test : {"t-test", "signed-rank", "bootstrap"}, default="t-test"
        The pairwise test (see
        :func:`~skrep.functional.model_tests.pairwise_model_tests`).
    correction : {"fdr", "bonferroni", None}, default="fdr"
        Correction of the pairwise tests for multiple comparisons.
    bootstrap : {None, "stimuli", "subjects", "both", "dual"}, default=None
        What ``evaluations`` hold (None: fixed evaluations).
    n_subjects, n_stimuli : int, optional
        The numbers of subjects and stimuli, where they were resampled.
    alpha : float, default=0.05
        Significance level of the corrected pairwise tests.
    error_bars : {"sem", "ci", "ciXX"} or None, default="sem"
        Standard errors of the mean evaluations (rsatoolbox's SEM, from the
        same variance estimates as the tests), confidence intervals (95 %, or
        XX %: t-based, or percentiles of the resamples for
        ``test="bootstrap"``), or none.
    color : matplotlib color or sequence of colors, optional
        Colour of the bars (default: rsatoolbox's blue).
    title : str, optional
        Title of the axes (default: the test, the correction and alpha).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (that of ``ax`` when given), as every function of
        :mod:`skrep.plotting` returns. In its axes (``ax``, or
        ``fig.axes[0]``), the bars are ``ax.containers[0]``, the error bars
        an ``ErrorbarContainer`` in ``ax.containers``, the noise ceiling the
        artist with gid "noise-ceiling", and each significant pair a line
        with gid "significance-bracket".

    Raises
    ------
    ValueError, InvalidParameterError
        Invalid evaluations or options (see
        :func:`~skrep.functional.model_tests.pairwise_model_tests`), names of
        the wrong length.
    TypeError
        ``ax`` is not a matplotlib Axes.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.plotting_models import plot_model_comparison
    >>> rng = np.random.default_rng(0)
    >>> evaluations = np.array([[0.4], [0.2], [0.0]]) + 0.05 * rng.standard_normal((3, 10))
    >>> fig = plot_model_comparison(evaluations, ["deep", "shallow", "pixels"], (0.45, 0.6))
    >>> ax = fig.axes[0]
    >>> len(ax.containers[0]), len(ax.get_lines())
    (3, 3)
    """
    check_axes(ax)
    options = {"bootstrap": bootstrap, "n_subjects": n_subjects, "n_stimuli": n_stimuli}
    result = zero_tests(evaluations, test, alpha=alpha, **options)
    n_models = result.mean.size
    names = check_labels(names, n_models, "names", "models") or [str(k) for k in range(n_models)]
    limits = _error_bars(evaluations, result, error_bars, test)
    significant = np.zeros((n_models, n_models), dtype=bool)
    if n_models > 1:
        pairs = pairwise_model_tests(
            evaluations, test, correction=correction, alpha=alpha, **options
        )
        significant = pairs.significant
    ceiling = None
    if noise_ceiling is not None:
        ceiling = noise_ceiling_tests(evaluations, noise_ceiling, test, **options).noise_ceiling

    if ax is None:
        rotate = max(len(name) for name in names) > 6
        height = 3.5 + (0.7 * label_inches(names) if rotate else 0.0)
        _, (ax,) = new_figure((max(3.5, 1.5 + 0.7 * n_models), height))
    else:
        rotate = max(len(name) for name in names) > 6
    x = np.arange(n_models)
    ax.bar(x, result.mean, color=BAR_COLOR if color is None else color, zorder=2)
    low, high = result.mean.copy(), result.mean.copy()
    if limits is not None:
        ax.errorbar(x, result.mean, yerr=limits, fmt="none", ecolor="k", linewidth=2, zorder=3)
        low, high = result.mean - limits[0], result.mean + limits[1]
    top, bottom = max(float(high.max()), 0.0), min(float(low.min()), 0.0)
    if ceiling is not None:
        lower, upper = ceiling
        if upper is None:
            ax.axhline(lower, color="0.4", linestyle="--", zorder=4, gid="noise-ceiling")
            top = max(top, lower)
        else:
            from matplotlib.patches import Rectangle

            band = Rectangle(
                (-0.5, lower), n_models, upper - lower, facecolor=CEILING_COLOR, linewidth=0
            )
            band.set_gid("noise-ceiling")
            band.set_zorder(4)
            ax.add_patch(band)
            top = max(top, upper, lower)
            bottom = min(bottom, lower)
    step = 0.07 * (top - bottom) if top > bottom else 0.1
    highest = _draw_brackets(ax, significant, names, top + step, step)
    ax.set_xlim(-0.5, n_models - 0.5)
    ax.set_ylim(bottom - (0.5 * step if bottom < 0 else 0.0), max(highest, top) + step)
    ax.set_xticks(
        x,
        names,
        fontsize=TICK_POINTS,
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
    )
    # The value axis stops at the top of the data: the brackets above it are not values.
    low_limit = ax.get_ylim()[0]
    ax.set_yticks([t for t in ax.get_yticks() if low_limit - 1e-12 <= t <= top + 1e-12])
    ax.spines["left"].set_bounds(low_limit, top)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel("evaluation")
    described = {None: "uncorrected", "fdr": "FDR", "bonferroni": "Bonferroni"}.get(
        correction, str(correction)
    )
    if title is None:
        ax.set_title(f"{test}, {described}, alpha = {alpha:g}", fontsize=TICK_POINTS)
    else:
        ax.set_title(title)
    return ax.figure
