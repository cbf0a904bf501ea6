"""The statistics of the model-comparison tests, on differences of evaluations.

Every test looks at differences ``d`` of shape (n_kinds, n_rows, n_tests):
a model's evaluation (against 0), its difference from the noise ceiling, or
the difference between two models. Their estimate is the mean over rows (and
over the three kinds of a dual bootstrap, as rsatoolbox averages them); the
variance of that estimate depends on where the rows came from:

- fixed evaluations (rows are subjects): ``var(d, ddof=1) / n_subjects``,
  the squared standard error of a paired or one-sample t-test;
- one bootstrap (rows are resamples): ``var(d, ddof=1) * n / (n - 1)`` with
  ``n`` the number of resampled units (stimuli, subjects, or the smaller of
  the two when both were resampled), rsatoolbox's small-sample correction;
- a dual bootstrap: rsatoolbox's combination of the three variances
  (Schütt et al. 2023, eLife, "Statistical inference on representational
  geometries"), which removes the double counting of the noise that both
  factors contribute to the resamples of both.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from ._model_tests_input import Evaluations

#: rsatoolbox's floor of a variance (it divides by its square root).
EPS = np.finfo(np.float64).eps


def estimate_and_variance(design: Evaluations, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``d`` over kinds and rows, and the variance of that mean.

    Parameters
    ----------
    design : Evaluations
        Where the rows came from.
    d : ndarray of shape (n_kinds, n_rows, m)
        Differences, best at unit scale (see :func:`run_test`).

    Returns
    -------
    estimate, variance : ndarray of shape (m,)
    """
    estimate = d.mean(axis=(0, 1))
    spread = d.var(axis=1, ddof=1)  # (n_kinds, m)
    if design.bootstrap is None:
        return estimate, spread[0] / design.n_rows
    if design.bootstrap != "dual":
        n = {
            "stimuli": design.n_stimuli,
            "subjects": design.n_subjects,
            "both": min(design.n_subjects or 0, design.n_stimuli or 0),
        }[design.bootstrap]
        return estimate, spread[0] * n / (n - 1)
    return estimate, dual_variance(spread, design.n_subjects, design.n_stimuli)


def dual_variance(spread: np.ndarray, n_subjects: int, n_stimuli: int) -> np.ndarray:
    """Variance of an evaluation from the three variances of a dual bootstrap.

    With ``v_both``, ``v_sub`` and ``v_stim`` the variances over resamples of
    both factors, of the subjects only and of the stimuli only,
    ``a = n_sub / (n_sub - 1)`` and ``b = n_stim / (n_stim - 1)``, the
    estimate is ``a v_sub + b v_stim - a b (v_both - v_sub - v_stim)``,
    kept between ``max(a v_sub, b v_stim)`` and ``v_both``.

    Parameters
    ----------
    spread : ndarray of shape (3, m)
        The variances over resamples of both, of subjects, of stimuli.
    n_subjects, n_stimuli : int
        The numbers of subjects and stimuli.

    Returns
    -------
    ndarray of shape (m,)
    """
    both, subjects, stimuli = spread
    a = n_subjects / (n_subjects - 1)
    b = n_stimuli / (n_stimuli - 1)
    variance = a * subjects + b * stimuli - a * b * (both - subjects - stimuli)
    variance = np.maximum(variance, np.maximum(a * subjects, b * stimuli))
    return np.minimum(variance, both)


def t_test(
    estimate: np.ndarray, variance: np.ndarray, dof: int, alternative: str
) -> tuple[np.ndarray, np.ndarray]:
    """The t statistics and p-values of estimates with the given variances.

    The variance is floored at machine epsilon as in rsatoolbox (here
    relative to the largest difference), so that identical models give t = 0
    (p = 1) rather than 0 / 0, and differences that do not vary a large t.
    """
    t = estimate / np.sqrt(np.maximum(variance, EPS))
    if alternative == "two-sided":
        p = 2.0 * scipy.stats.t.sf(np.abs(t), dof)
    elif alternative == "greater":
        p = scipy.stats.t.sf(t, dof)
    else:
        p = scipy.stats.t.cdf(t, dof)
    return t, np.minimum(p, 1.0)


def signed_rank_test(d: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Wilcoxon signed-rank tests (scipy's defaults) of each column of ``d`` (rows: subjects).

    A column of zeros (two identical models) gives statistic 0 and p = 1
    instead of scipy's warning.
    """
    statistic = np.zeros(d.shape[1])
    p = np.ones(d.shape[1])
    for k in range(d.shape[1]):
        if np.any(d[:, k] != 0):
            result = scipy.stats.wilcoxon(d[:, k], alternative=alternative)
            statistic[k], p[k] = result.statistic, result.pvalue
    return statistic, p


def bootstrap_test(d: np.ndarray, alternative: str) -> np.ndarray:
    """p-values from the resamples of differences ``d`` (n_rows, m), as rsatoolbox's.

    One-sided: the share of resamples on the side of the null,
    ``(#{d <= 0} + 1) / n`` against "greater" and ``(#{d >= 0} + 1) / n``
    against "less" (capped at 1). Two-sided: twice the smaller share of
    resamples on either side of 0 (ties left out), shrunk towards 1 by
    ``p (n - 1) / n + 1 / n``.
    """
    n = d.shape[0]
    if alternative == "greater":
        return np.minimum((np.sum(d <= 0, axis=0) + 1.0) / n, 1.0)
    if alternative == "less":
        return np.minimum((np.sum(d >= 0, axis=0) + 1.0) / n, 1.0)
    untied = n - np.sum(d == 0, axis=0)
    below = np.sum(d < 0, axis=0)
    share = np.divide(below, untied, out=np.full(d.shape[1], 0.5), where=untied > 0)
    p = 2.0 * np.minimum(share, 1.0 - share)
    return (n - 1.0) / n * p + 1.0 / n


def run_test(
    design: Evaluations, d: np.ndarray, test: str, alternative: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Statistic, p-value, estimate and standard error of each column of ``d``.

    The statistic is t for the t-test, scipy's W for the signed-rank test,
    and the estimate itself (the mean difference over resamples) for the
    bootstrap test.
    """
    # At unit scale (largest |d| of each column 1), so that evaluations near 1e-300
    # or 1e300 neither underflow nor overflow in the variance, and the floor of the
    # variance at machine epsilon is relative to the differences.
    scale = np.max(np.abs(d), axis=(0, 1))
    scale = np.where(scale > 0, scale, 1.0)
    unit_estimate, unit_variance = estimate_and_variance(design, d / scale)
    estimate = unit_estimate * scale
    standard_error = np.sqrt(np.maximum(unit_variance, 0.0)) * scale
    if test == "t-test":
        statistic, p = t_test(unit_estimate, unit_variance, design.dof, alternative)
    elif test == "signed-rank":
        statistic, p = signed_rank_test(d[0], alternative)
    else:
        statistic, p = estimate, bootstrap_test(d[0], alternative)
    return statistic, p, estimate, standard_error


def correct(p: np.ndarray, correction: str | None) -> np.ndarray:
    """p-values adjusted for a family of tests (a 1-D array).

    "fdr": Benjamini-Hochberg adjusted p-values (scipy's
    ``false_discovery_control``), "bonferroni": ``min(p m, 1)`` for ``m``
    tests, None: unchanged.
    """
    if correction is None or p.size == 0:
        return p.copy()
    if correction == "bonferroni":
        return np.minimum(p * p.size, 1.0)
    return scipy.stats.false_discovery_control(p, method="bh")
