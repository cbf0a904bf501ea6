"""skrep.plotting_models.plot_model_comparison: bars, error bars, noise ceiling, brackets."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import scipy.stats  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from plotting_checks import labels_outside, long_names  # noqa: E402

from skrep.exceptions import InvalidParameterError  # noqa: E402
from skrep.plotting_models import plot_model_comparison  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def evaluations(rng):
    """4 models x 10 subjects: 0 and 1 alike and good, 2 weaker, 3 at chance.

    Significant pairs (two-sided paired t-tests, FDR at 0.05), by construction and checked
    with scipy below: (0, 2), (0, 3), (1, 2), (1, 3), (2, 3); not (0, 1).
    """
    means = np.array([[0.40], [0.39], [0.20], [0.0]])
    return means + 0.03 * rng.standard_normal((4, 10))


def brackets(ax):
    return [line for line in ax.get_lines() if line.get_gid() == "significance-bracket"]


def significant_pairs(evaluations, alpha=0.05):
    """Pairs significant under scipy's ttest_rel with Benjamini-Hochberg (scipy's)."""
    rows, columns = np.triu_indices(len(evaluations), 1)
    p = [
        scipy.stats.ttest_rel(evaluations[i], evaluations[j]).pvalue
        for i, j in zip(rows, columns, strict=True)
    ]
    keep = scipy.stats.false_discovery_control(p) <= alpha
    return {(int(i), int(j)) for i, j, k in zip(rows, columns, keep, strict=True) if k}


def test_bars_error_bars_ceiling_and_brackets(evaluations):
    fig = plot_model_comparison(evaluations, ["a", "b", "c", "d"], noise_ceiling=(0.42, 0.5))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 1 and len(bars[0]) == 4
    heights = [patch.get_height() for patch in bars[0]]
    np.testing.assert_allclose(heights, evaluations.mean(axis=1))
    errors = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errors) == 1
    segments = errors[0].lines[2][0].get_segments()
    sem = scipy.stats.sem(evaluations, axis=1)
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segments], 2 * sem, rtol=1e-12)
    (band,) = [p for p in ax.patches if p.get_gid() == "noise-ceiling"]
    assert isinstance(band, Rectangle)
    assert band.get_y() == pytest.approx(0.42) and band.get_height() == pytest.approx(0.08)
    assert band.get_x() == -0.5 and band.get_width() == 4
    expected = significant_pairs(evaluations)
    assert expected == {(0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}
    drawn = {(int(line.get_xdata()[0]), int(line.get_xdata()[-1])) for line in brackets(ax)}
    assert drawn == expected
    top = max(0.5, (evaluations.mean(axis=1) + sem).max())
    for line in brackets(ax):
        assert min(line.get_ydata()) > top  # above the bars and the ceiling
        assert max(line.get_ydata()) < ax.get_ylim()[1]  # inside the view
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert max(ax.get_yticks()) <= top + 1e-12  # no value ticks beside the brackets


def test_brackets_on_one_level_do_not_overlap(evaluations):
    ax = plot_model_comparison(evaluations).axes[0]
    spans = [
        (min(line.get_xdata()), max(line.get_xdata()), line.get_ydata()[1]) for line in brackets(ax)
    ]
    for k, (a0, a1, ya) in enumerate(spans):
        for b0, b1, yb in spans[k + 1 :]:
            if ya == yb:
                assert a1 < b0 or b1 < a0


def test_no_significant_pair_draws_no_bracket(rng):
    evaluations = 0.3 + 0.05 * rng.standard_normal((3, 6))
    assert not significant_pairs(evaluations)
    ax = plot_model_comparison(evaluations).axes[0]
    assert brackets(ax) == []


def test_bonferroni_and_alpha_change_the_brackets(evaluations):
    loose = plot_model_comparison(evaluations, correction=None, alpha=0.5).axes[0]
    rows, columns = np.triu_indices(4, 1)
    p = [
        scipy.stats.ttest_rel(evaluations[i], evaluations[j]).pvalue
        for i, j in zip(rows, columns, strict=True)
    ]
    assert len(brackets(loose)) == int(np.sum(np.array(p) <= 0.5))


def test_confidence_intervals_are_t_based(evaluations):
    ax = plot_model_comparison(evaluations, error_bars="ci90").axes[0]
    (errors,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = errors.lines[2][0].get_segments()
    half = scipy.stats.sem(evaluations, axis=1) * scipy.stats.t.ppf(0.95, 9)
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segments], 2 * half, rtol=1e-12)


def test_bootstrap_percentile_intervals(rng):
    samples = np.array([0.3, 0.1]) + 0.05 * rng.standard_normal((500, 2))
    ax = plot_model_comparison(
        samples, test="bootstrap", bootstrap="stimuli", n_stimuli=20, error_bars="ci"
    ).axes[0]
    (errors,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    ends = np.array([[s[0, 1], s[1, 1]] for s in errors.lines[2][0].get_segments()])
    np.testing.assert_allclose(ends, np.percentile(samples, [2.5, 97.5], axis=0).T, rtol=1e-12)
    assert len(brackets(ax)) == 1


def test_lower_bound_alone_is_a_line_and_no_error_bars(evaluations):
    ax = plot_model_comparison(evaluations, noise_ceiling=0.42, error_bars=None).axes[0]
    (line,) = [line for line in ax.get_lines() if line.get_gid() == "noise-ceiling"]
    assert line.get_ydata()[0] == pytest.approx(0.42)
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_draws_into_given_axes_and_keeps_long_names_inside(evaluations):
    fig, (ax, other) = plt.subplots(1, 2, layout="constrained")
    names = long_names("layer", 4, 30)
    assert plot_model_comparison(evaluations, names, ax=ax, title="IT cortex") is fig
    assert ax.get_title() == "IT cortex"
    assert len(ax.containers[0]) == 4 and not other.containers  # drawn into ax only
    assert labels_outside(fig) == []
    fig = plot_model_comparison(evaluations, names)
    assert labels_outside(fig) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"names": ["a", "b"]}, ValueError, "names has 2 entries but there are 4 models"),
        ({"ax": "axes"}, TypeError, "matplotlib Axes"),
        ({"error_bars": "std"}, InvalidParameterError, "'error_bars'"),
        ({"correction": "holm"}, InvalidParameterError, "'correction'"),
        ({"noise_ceiling": np.ones(3)}, ValueError, "noise_ceiling has shape"),
    ],
)
def test_errors(evaluations, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_model_comparison(evaluations, **kwargs)


def test_draws_a_dual_bootstrap_with_its_ceiling_per_resample(rng):
    from scipy.spatial.distance import pdist

    from skrep.functional.rsa_inference import bootstrap_comparisons

    patterns = rng.standard_normal((12, 8))
    models = np.stack([pdist(patterns), pdist(rng.standard_normal((12, 8)))])
    data = np.stack([pdist(patterns + rng.standard_normal((12, 8))) for _ in range(5)])
    samples, ceiling = bootstrap_comparisons(
        models,
        data,
        "pearson",
        n_bootstrap=60,
        over="dual",
        return_noise_ceiling=True,
        random_state=0,
    )
    kept = ~(np.isnan(samples).any(axis=(0, 2)) | np.isnan(ceiling).any(axis=(0, 2)))
    fig = plot_model_comparison(
        samples, noise_ceiling=ceiling, bootstrap="dual", n_subjects=5, n_stimuli=12
    )
    ax = fig.axes[0]
    heights = [patch.get_height() for patch in ax.containers[0]]
    np.testing.assert_allclose(heights, samples[:, kept].mean(axis=(0, 1)), rtol=1e-12)
    (band,) = [p for p in ax.patches if p.get_gid() == "noise-ceiling"]
    lower, upper = ceiling[:, kept].mean(axis=(0, 1))
    assert band.get_y() == pytest.approx(lower) and band.get_height() == pytest.approx(
        upper - lower
    )
