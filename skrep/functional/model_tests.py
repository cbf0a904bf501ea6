"""Model comparison tests for RSA: models against each other, against 0, against the noise ceiling.

The tests take the evaluations of several models (e.g. the RSA correlation
of each model RDM with each subject's data RDM) and ask which models differ,
which perform above chance, and which fall short of the noise ceiling, in
the manner of rsatoolbox 0.3.2 (``Result.test_pairwise``, ``test_zero`` and
``test_noise``; Schütt et al. 2023, eLife, "Statistical inference on
representational geometries"). The evaluations come in one of two forms:

- **fixed** (``bootstrap=None``): shape (n_models, n_subjects), one
  evaluation per model and subject, as :func:`compare_rdms` returns them for
  model RDMs against data RDMs. Subjects are the random effect: a t-test
  with ``n_subjects - 1`` degrees of freedom (paired between models), or a
  Wilcoxon signed-rank test (``test="signed-rank"``).
- **bootstrap** resamples: shape (n_bootstrap, n_models), the mean
  evaluation of each model in each resample, as
  :func:`bootstrap_comparisons` returns it, with ``bootstrap`` naming what was
  resampled: ``"stimuli"``, ``"subjects"`` or ``"both"``. The t-test then
  divides the mean over resamples by the bootstrap standard deviation
  (corrected by ``n / (n - 1)`` for ``n`` resampled units), with ``n - 1``
  degrees of freedom; ``test="bootstrap"`` reads the p-value from the share of
  resamples on the side of the null. ``bootstrap="dual"`` takes shape
  (3, n_bootstrap, n_models): the same resamples applied to both factors, to
  the subjects only and to the stimuli only, whose variances combine into
  rsatoolbox's dual-bootstrap estimate.

Note the layouts: models are the first axis of fixed evaluations and the
last axis of resamples, as the functions that make them return them.

Pairwise tests are two-sided. Tests against 0 are one-sided by default
(``alternative="greater"``: is the model above 0?) and so is the test
against the lower bound of the noise ceiling (``alternative="less"``: does
the model fall short of it?); rsatoolbox's test against the noise ceiling
is two-sided (``alternative="two-sided"`` gives its p-values). p-values are
adjusted over the family of tests (the pairs, or the models) with
``correction="fdr"`` (Benjamini-Hochberg) or ``"bonferroni"``.

As in rsatoolbox, a variance of zero is floored at machine epsilon (here
relative to the largest difference) rather than divided by: two identical
models get t = 0 and p = 1, a difference that is the same in every subject a
large t.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from .._typing import ArrayLike
from ._model_tests_input import (
    ALTERNATIVES,
    CORRECTIONS,
    Evaluations,
    check_alpha_level,
    check_choice,
    check_evaluations,
)
from ._model_tests_stats import correct, run_test

__all__ = ["pairwise_model_tests", "zero_tests", "noise_ceiling_tests"]


def _common(design: Evaluations, test: str, correction: str | None, alpha: float) -> dict:
    return {
        "dof": design.dof if test == "t-test" else None,
        "test": test,
        "bootstrap": design.bootstrap,
        "n_bootstrap": None if design.bootstrap is None else design.n_rows,
        "correction": correction,
        "alpha": alpha,
    }


def _check_options(
    owner: str, correction: object, alpha: object, alternative: object = "two-sided"
) -> float:
    check_choice(correction, "correction", owner, CORRECTIONS)
    check_choice(alternative, "alternative", owner, ALTERNATIVES)
    return check_alpha_level(alpha, owner)


def pairwise_model_tests(
    evaluations: ArrayLike,
    test: str = "t-test",
    *,
    bootstrap: str | None = None,
    n_subjects: int | None = None,
    n_stimuli: int | None = None,
    correction: str | None = "fdr",
    alpha: float = 0.05,
) -> Bunch:
    """Two-sided tests of the difference between every pair of models.

    Parameters
    ----------
    evaluations : array-like of shape (n_models, n_subjects), (n_bootstrap, n_models) \
or (3, n_bootstrap, n_models)
        Evaluations of at least 2 models: fixed, or bootstrap resamples (see
        ``bootstrap``).
    test : {"t-test", "signed-rank", "bootstrap"}, default="t-test"
        "t-test": rsatoolbox's t-test of the mean difference (for fixed
        evaluations, scipy's ``ttest_rel``); "signed-rank": scipy's
        ``wilcoxon`` of the per-subject differences (fixed evaluations only);
        "bootstrap": rsatoolbox's bootstrap test, twice the smaller share of
        resamples in which either model wins, shrunk by
        ``p (n - 1) / n + 1 / n`` (bootstrap resamples only).
    bootstrap : {None, "stimuli", "subjects", "both", "dual"}, default=None
        What ``evaluations`` hold: None for fixed evaluations of shape
        (n_models, n_subjects); otherwise the resamples of a bootstrap over
        stimuli, subjects or both, of shape (n_bootstrap, n_models), or of a
        dual bootstrap, of shape (3, n_bootstrap, n_models) (resamples of
        both, of the subjects only, of the stimuli only). Resamples in which
        a model is NaN are left out.
    n_subjects : int, optional
        The number of subjects, needed when subjects were resampled
        ("subjects", "both", "dual"); fixed evaluations give it by their shape.
    n_stimuli : int, optional
        The number of stimuli, needed when stimuli were resampled
        ("stimuli", "both", "dual").
    correction : {"fdr", "bonferroni", None}, default="fdr"
        Adjustment of the p-values for the family of tests: "fdr"
        (Benjamini-Hochberg adjusted p-values), "bonferroni" or None.
    alpha : float, default=0.05
        Significance level applied to the adjusted p-values.

    Returns
    -------
    Bunch
        With (n_models, n_models) arrays whose entry ``[i, j]`` compares model
        ``i`` with model ``j`` (the diagonal compares a model with itself:
        statistic 0, p-value 1, not significant):

        - ``statistic``: t of model i minus model j (antisymmetric), scipy's
          signed-rank statistic (symmetric) or, for the bootstrap test, the
          mean difference over resamples;
        - ``p_values``: the p-values (symmetric);
        - ``p_corrected``: adjusted over the ``n_models (n_models - 1) / 2``
          pairs;
        - ``significant``: ``p_corrected <= alpha``;
        - ``difference``: mean evaluation of model i minus model j;
        - ``standard_error``: the standard error of that difference;

        and ``dof`` (the t-test's degrees of freedom, else None), ``n_tests``,
        ``test``, ``bootstrap``, ``n_bootstrap`` (resamples used, None for
        fixed evaluations), ``correction`` and ``alpha``.

    Raises
    ------
    ValueError
        Evaluations of the wrong shape, with fewer than 2 models or subjects,
        non-finite fixed evaluations, or too many undefined resamples.
    InvalidParameterError
        An unknown ``test``, ``bootstrap`` or ``correction``, a test that
        does not apply to the kind of evaluations, or a missing
        ``n_subjects`` / ``n_stimuli``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.model_tests import pairwise_model_tests
    >>> evaluations = np.array([[0.30, 0.25, 0.35, 0.28, 0.32],
    ...                         [0.10, 0.12, 0.05, 0.15, 0.08]])
    >>> result = pairwise_model_tests(evaluations)
    >>> round(float(result.statistic[0, 1]), 2), result.dof
    (6.11, 4)
    >>> bool(result.significant[0, 1])
    True
    """
    owner = "pairwise_model_tests"
    alpha = _check_options(owner, correction, alpha)
    design = check_evaluations(
        evaluations, bootstrap, n_subjects, n_stimuli, test, owner, min_models=2
    )
    n = design.n_models
    rows, columns = np.triu_indices(n, 1)
    d = design.values[:, :, rows] - design.values[:, :, columns]
    statistic, p, difference, standard_error = run_test(design, d, test, "two-sided")
    p_corrected = correct(p, correction)
    sign = 1.0 if test == "signed-rank" else -1.0
    return Bunch(
        statistic=_square(statistic, n, 0.0, sign),
        p_values=_square(p, n, 1.0),
        p_corrected=_square(p_corrected, n, 1.0),
        significant=_square(p_corrected <= alpha, n, False),
        difference=_square(difference, n, 0.0, -1.0),
        standard_error=_square(standard_error, n, 0.0),
        n_tests=rows.size,
        **_common(design, test, correction, alpha),
    )


def _square(values: np.ndarray, n: int, diagonal: object, sign: float = 1.0) -> np.ndarray:
    """An (n, n) matrix from its upper triangle: symmetric, or antisymmetric (sign -1)."""
    rows, columns = np.triu_indices(n, 1)
    out = np.full((n, n), diagonal, dtype=values.dtype)
    out[rows, columns] = values
    out[columns, rows] = values if sign == 1.0 else sign * values
    return out


def zero_tests(
    evaluations: ArrayLike,
    test: str = "t-test",
    *,
    alternative: str = "greater",
    bootstrap: str | None = None,
    n_subjects: int | None = None,
    n_stimuli: int | None = None,
    correction: str | None = "bonferroni",
    alpha: float = 0.05,
) -> Bunch:
    """Test whether each model performs above 0 (chance for a correlation).

    Parameters
    ----------
    evaluations : array-like of shape (n_models, n_subjects), (n_bootstrap, n_models) \
or (3, n_bootstrap, n_models)
        Evaluations: fixed, or bootstrap resamples (see ``bootstrap``).
    test : {"t-test", "signed-rank", "bootstrap"}, default="t-test"
        "t-test": rsatoolbox's t-test (for fixed evaluations, scipy's
        ``ttest_1samp``); "signed-rank": scipy's ``wilcoxon`` (fixed
        evaluations only); "bootstrap": the share of resamples at or below 0,
        ``(#{e <= 0} + 1) / n_bootstrap`` (capped at 1), as rsatoolbox.
    alternative : {"greater", "two-sided", "less"}, default="greater"
        The alternative hypothesis: a model above 0 (rsatoolbox's t-test and
        bootstrap test), different from 0 (rsatoolbox's signed-rank test), or
        below 0.
    bootstrap : {None, "stimuli", "subjects", "both", "dual"}, default=None
        What ``evaluations`` hold: None for fixed evaluations of shape
        (n_models, n_subjects); otherwise the resamples of a bootstrap over
        stimuli, subjects or both, of shape (n_bootstrap, n_models), or of a
        dual bootstrap, of shape (3, n_bootstrap, n_models) (resamples of
        both, of the subjects only, of the stimuli only). Resamples in which
        a model is NaN are left out.
    n_subjects : int, optional
        The number of subjects, needed when subjects were resampled
        ("subjects", "both", "dual"); fixed evaluations give it by their shape.
    n_stimuli : int, optional
        The number of stimuli, needed when stimuli were resampled
        ("stimuli", "both", "dual").
    correction : {"fdr", "bonferroni", None}, default="bonferroni"
        Adjustment of the p-values for the family of tests: "fdr"
        (Benjamini-Hochberg adjusted p-values), "bonferroni" or None.
    alpha : float, default=0.05
        Significance level applied to the adjusted p-values.

    Returns
    -------
    Bunch
        With arrays of shape (n_models,): ``statistic`` (t, scipy's
        signed-rank statistic, or for the bootstrap test the mean over
        resamples), ``p_values``, ``p_corrected`` (adjusted over the models),
        ``significant`` (``p_corrected <= alpha``), ``mean`` (the mean
        evaluation: over subjects, or over resamples) and ``standard_error``
        (its standard error, rsatoolbox's SEM); and ``dof``, ``n_tests``,
        ``alternative``, ``test``, ``bootstrap``, ``n_bootstrap``,
        ``correction`` and ``alpha``.

    Raises
    ------
    ValueError
        Evaluations of the wrong shape, with fewer than 2 subjects,
        non-finite fixed evaluations, or too many undefined resamples.
    InvalidParameterError
        An unknown option, or a test that does not apply.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.model_tests import zero_tests
    >>> evaluations = np.array([[0.30, 0.25, 0.35, 0.28, 0.32],
    ...                         [0.01, -0.02, 0.03, -0.01, 0.00]])
    >>> result = zero_tests(evaluations)
    >>> result.significant.tolist()
    [True, False]
    """
    owner = "zero_tests"
    alpha = _check_options(owner, correction, alpha, alternative)
    design = check_evaluations(evaluations, bootstrap, n_subjects, n_stimuli, test, owner)
    statistic, p, mean, standard_error = run_test(design, design.values, test, alternative)
    p_corrected = correct(p, correction)
    return Bunch(
        statistic=statistic,
        p_values=p,
        p_corrected=p_corrected,
        significant=p_corrected <= alpha,
        mean=mean,
        standard_error=standard_error,
        n_tests=design.n_models,
        alternative=alternative,
        **_common(design, test, correction, alpha),
    )


def noise_ceiling_tests(
    evaluations: ArrayLike,
    noise_ceiling: ArrayLike | float,
    test: str = "t-test",
    *,
    alternative: str = "less",
    bootstrap: str | None = None,
    n_subjects: int | None = None,
    n_stimuli: int | None = None,
    correction: str | None = "bonferroni",
    alpha: float = 0.05,
) -> Bunch:
    """Test whether each model falls short of the lower bound of the noise ceiling.

    A model significantly below the lower bound leaves part of the
    explainable structure of the data unexplained; one that is not is as
    good as the data allow us to tell (Nili et al. 2014).

    Parameters
    ----------
    evaluations : array-like of shape (n_models, n_subjects), (n_bootstrap, n_models) \
or (3, n_bootstrap, n_models)
        Evaluations: fixed, or bootstrap resamples (see ``bootstrap``).
    noise_ceiling : float, array-like of shape (2,), or of shape \
(n_bootstrap,), (n_bootstrap, 2), (3, n_bootstrap) or (3, n_bootstrap, 2)
        The lower bound of the noise ceiling, or the (lower, upper) pair that
        :func:`noise_ceiling` returns; for bootstrap evaluations, also the
        bounds in each resample (the same resamples as ``evaluations``), so
        that the test accounts for the ceiling's own sampling variance (a 1-D
        array of 2 values is always a (lower, upper) pair). A fixed ceiling is
        compared with the mean evaluation, a resampled one resample by
        resample.
    test : {"t-test", "signed-rank", "bootstrap"}, default="t-test"
        "t-test": rsatoolbox's ``t_test_nc``: the mean difference between
        the model and the lower bound over its standard error (for fixed
        evaluations, scipy's ``ttest_1samp`` against the lower bound);
        "signed-rank": scipy's ``wilcoxon`` of each subject's evaluation
        minus the lower bound (fixed evaluations only); "bootstrap": the share
        of resamples in which the model reaches the lower bound,
        ``(#{e >= lower} + 1) / n_bootstrap`` (capped at 1), as rsatoolbox.
    alternative : {"less", "two-sided", "greater"}, default="less"
        The alternative hypothesis: the model below the lower bound, different
        from it (rsatoolbox's t-test and signed-rank test; its bootstrap
        test is "less"), or above it.
    bootstrap : {None, "stimuli", "subjects", "both", "dual"}, default=None
        What ``evaluations`` hold: None for fixed evaluations of shape
        (n_models, n_subjects); otherwise the resamples of a bootstrap over
        stimuli, subjects or both, of shape (n_bootstrap, n_models), or of a
        dual bootstrap, of shape (3, n_bootstrap, n_models) (resamples of
        both, of the subjects only, of the stimuli only). Resamples in which
        a model is NaN are left out.
    n_subjects : int, optional
        The number of subjects, needed when subjects were resampled
        ("subjects", "both", "dual"); fixed evaluations give it by their shape.
    n_stimuli : int, optional
        The number of stimuli, needed when stimuli were resampled
        ("stimuli", "both", "dual").
    correction : {"fdr", "bonferroni", None}, default="bonferroni"
        Adjustment of the p-values for the family of tests: "fdr"
        (Benjamini-Hochberg adjusted p-values), "bonferroni" or None.
    alpha : float, default=0.05
        Significance level applied to the adjusted p-values.

    Returns
    -------
    Bunch
        With arrays of shape (n_models,): ``statistic`` (t, scipy's
        signed-rank statistic, or for the bootstrap test the mean difference
        over resamples), ``p_values``, ``p_corrected``, ``significant``,
        ``difference`` (mean evaluation minus mean lower bound), ``mean``
        (mean evaluation) and ``standard_error`` (of the difference); and
        ``noise_ceiling``, the mean (lower, upper) bounds (upper None when
        only the lower bound was given), ``dof``, ``n_tests``,
        ``alternative``, ``test``, ``bootstrap``, ``n_bootstrap``,
        ``correction`` and ``alpha``.

    Raises
    ------
    ValueError
        Evaluations or a noise ceiling of the wrong shape, fewer than 2
        subjects, non-finite values, or too many undefined resamples.
    InvalidParameterError
        An unknown option, or a test that does not apply.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.model_tests import noise_ceiling_tests
    >>> evaluations = np.array([[0.30, 0.25, 0.35, 0.28, 0.32],
    ...                         [0.01, -0.02, 0.03, -0.01, 0.00]])
    >>> noise_ceiling_tests(evaluations, (0.28, 0.40)).significant.tolist()
    [False, True]
    """
    owner = "noise_ceiling_tests"
    alpha = _check_options(owner, correction, alpha, alternative)
    if noise_ceiling is None:
        raise ValueError(
            "noise_ceiling is None; expected its lower bound, a (lower, upper) pair as "
            "noise_ceiling() returns, or the bounds in each resample."
        )
    design = check_evaluations(
        evaluations, bootstrap, n_subjects, n_stimuli, test, owner, noise_ceiling=noise_ceiling
    )
    lower = design.ceiling
    d = design.values - (lower[..., None] if isinstance(lower, np.ndarray) else lower)
    statistic, p, difference, standard_error = run_test(design, d, test, alternative)
    p_corrected = correct(p, correction)
    mean_lower = float(np.mean(lower))
    return Bunch(
        statistic=statistic,
        p_values=p,
        p_corrected=p_corrected,
        significant=p_corrected <= alpha,
        difference=difference,
        mean=design.values.mean(axis=(0, 1)),
        standard_error=standard_error,
        noise_ceiling=(mean_lower, design.upper),
        n_tests=design.n_models,
        alternative=alternative,
        **_common(design, test, correction, alpha),
    )
