"""skrep.functional.model_tests: pairwise, zero and noise-ceiling tests of model evaluations.

References: rsatoolbox 0.3.2 (tests/data/rsatoolbox_model_tests.npz, made by
benchmarks/reference_model_tests.py, described in tests/data/rsatoolbox_model_tests.md),
scipy's ttest_rel / ttest_1samp / wilcoxon, hand-computed corrections and closed forms.
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from skrep.exceptions import InvalidParameterError
from skrep.functional._model_tests_stats import dual_variance
from skrep.functional.model_tests import noise_ceiling_tests, pairwise_model_tests, zero_tests
from skrep.functional.rdm_compare import compare_rdms
from skrep.functional.rsa_inference import bootstrap_comparisons, noise_ceiling

REF = np.load(Path(__file__).parent / "data" / "rsatoolbox_model_tests.npz")
ROWS, COLUMNS = np.triu_indices(4, 1)  # rsatoolbox's order of the pairs
SIZES = {
    "stimuli": {"n_stimuli": 12},
    "subjects": {"n_subjects": 8},
    "both": {"n_subjects": 8, "n_stimuli": 12},
    "dual": {"n_subjects": 8, "n_stimuli": 12},
}
TOL = {"rtol": 1e-10, "atol": 1e-14}


def ref(key):
    return REF[key]


# -- rsatoolbox: fixed evaluations ---------------------------------------------------------


def test_fixed_t_tests_equal_rsatoolbox():
    evaluations = ref("fixed__evaluations")
    pairs = pairwise_model_tests(evaluations, correction=None)
    np.testing.assert_allclose(pairs.p_values, ref("fixed__p_pairs__ttest"), **TOL)
    np.testing.assert_allclose(pairs.statistic[ROWS, COLUMNS], ref("fixed__t_pairs"), **TOL)
    np.testing.assert_allclose(pairs.standard_error[ROWS, COLUMNS] ** 2, ref("fixed__diff_var"))
    assert pairs.dof == ref("fixed__dof") == 7
    zero = zero_tests(evaluations)
    np.testing.assert_allclose(zero.p_values, ref("fixed__p_zero__ttest"), **TOL)
    np.testing.assert_allclose(zero.statistic, ref("fixed__t_zero"), **TOL)
    np.testing.assert_allclose(zero.mean, ref("fixed__means"), **TOL)
    np.testing.assert_allclose(zero.standard_error, ref("fixed__sem"), **TOL)
    ceiling = noise_ceiling_tests(evaluations, ref("fixed__noise_ceiling"), alternative="two-sided")
    np.testing.assert_allclose(ceiling.p_values, ref("fixed__p_noise__ttest"), **TOL)
    np.testing.assert_allclose(ceiling.statistic, ref("fixed__t_noise"), **TOL)
    assert ceiling.noise_ceiling == tuple(ref("fixed__noise_ceiling"))


def test_skrep_gives_the_stored_fixed_evaluations():
    """compare_rdms and noise_ceiling feed these tests the inputs rsatoolbox evaluated."""
    evaluations = compare_rdms(ref("model_rdms"), ref("data_rdms"), "pearson")
    np.testing.assert_allclose(evaluations, ref("fixed__evaluations"), atol=1e-12)
    ceiling = noise_ceiling(ref("data_rdms"), "pearson")
    np.testing.assert_allclose(ceiling, ref("fixed__noise_ceiling"), atol=1e-12)


def test_fixed_signed_rank_equals_rsatoolbox_ranksum():
    """rsatoolbox's 'ranksum' tests are scipy's two-sided wilcoxon."""
    evaluations = ref("fixed__evaluations")
    pairs = pairwise_model_tests(evaluations, "signed-rank", correction=None)
    np.testing.assert_allclose(pairs.p_values, ref("fixed__p_pairs__ranksum"), **TOL)
    zero = zero_tests(evaluations, "signed-rank", alternative="two-sided")
    np.testing.assert_allclose(zero.p_values, ref("fixed__p_zero__ranksum"), **TOL)
    ceiling = noise_ceiling_tests(
        evaluations, ref("fixed__noise_ceiling"), "signed-rank", alternative="two-sided"
    )
    np.testing.assert_allclose(ceiling.p_values, ref("fixed__p_noise__ranksum"), **TOL)
    assert pairs.dof is None and np.allclose(pairs.statistic, pairs.statistic.T)


# -- rsatoolbox: bootstrap evaluations -----------------------------------------------------


@pytest.mark.parametrize("bootstrap", ["stimuli", "subjects", "both", "dual"])
def test_bootstrap_t_tests_equal_rsatoolbox(bootstrap):
    evaluations = ref(f"{bootstrap}__evaluations")
    sizes = SIZES[bootstrap]
    pairs = pairwise_model_tests(evaluations, bootstrap=bootstrap, correction=None, **sizes)
    np.testing.assert_allclose(pairs.p_values, ref(f"{bootstrap}__p_pairs__ttest"), **TOL)
    np.testing.assert_allclose(pairs.statistic[ROWS, COLUMNS], ref(f"{bootstrap}__t_pairs"), **TOL)
    assert pairs.dof == ref(f"{bootstrap}__dof") and pairs.n_bootstrap == 200
    zero = zero_tests(evaluations, bootstrap=bootstrap, **sizes)
    np.testing.assert_allclose(zero.p_values, ref(f"{bootstrap}__p_zero__ttest"), **TOL)
    np.testing.assert_allclose(zero.statistic, ref(f"{bootstrap}__t_zero"), **TOL)
    np.testing.assert_allclose(zero.mean, ref(f"{bootstrap}__means"), **TOL)
    np.testing.assert_allclose(zero.standard_error, ref(f"{bootstrap}__sem"), **TOL)
    ceiling = ref(f"{bootstrap}__noise_ceiling")
    if bootstrap == "subjects":
        # rsatoolbox's eval_bootstrap_rdm drops the ceiling's covariance: a fixed ceiling,
        # at its mean over resamples
        ceiling = ceiling.mean(axis=0)
    noise = noise_ceiling_tests(
        evaluations, ceiling, bootstrap=bootstrap, alternative="two-sided", **sizes
    )
    np.testing.assert_allclose(noise.p_values, ref(f"{bootstrap}__p_noise__ttest"), **TOL)
    np.testing.assert_allclose(noise.statistic, ref(f"{bootstrap}__t_noise"), **TOL)
    np.testing.assert_allclose(
        noise.standard_error**2, ref(f"{bootstrap}__noise_ceil_var")[:, 0], **TOL
    )


@pytest.mark.parametrize("bootstrap", ["stimuli", "subjects", "both"])
def test_bootstrap_tests_equal_rsatoolbox(bootstrap):
    evaluations = ref(f"{bootstrap}__evaluations")
    sizes = SIZES[bootstrap]
    pairs = pairwise_model_tests(
        evaluations, "bootstrap", bootstrap=bootstrap, correction=None, **sizes
    )
    np.testing.assert_allclose(pairs.p_values, ref(f"{bootstrap}__p_pairs__bootstrap"), **TOL)
    zero = zero_tests(evaluations, "bootstrap", bootstrap=bootstrap, **sizes)
    # rsatoolbox's (count + 1) / N can exceed 1; skrep caps it
    expected = np.minimum(ref(f"{bootstrap}__p_zero__bootstrap"), 1.0)
    np.testing.assert_allclose(zero.p_values, expected, **TOL)
    mean_ceiling = ref(f"{bootstrap}__noise_ceiling").mean(axis=0)
    noise = noise_ceiling_tests(
        evaluations, mean_ceiling, "bootstrap", bootstrap=bootstrap, **sizes
    )
    expected = np.minimum(ref(f"{bootstrap}__p_noise__bootstrap"), 1.0)
    np.testing.assert_allclose(noise.p_values, expected, **TOL)
    assert pairs.dof is None and zero.dof is None


def test_bootstrap_test_against_ceiling_per_resample_counts_resamples():
    """Closed form: (#{resamples where the model reaches that resample's lower bound} + 1) / N."""
    evaluations = ref("stimuli__evaluations")
    ceiling = ref("stimuli__noise_ceiling")
    result = noise_ceiling_tests(
        evaluations, ceiling, "bootstrap", bootstrap="stimuli", n_stimuli=12
    )
    reached = (evaluations >= ceiling[:, :1]).sum(axis=0)
    np.testing.assert_array_equal(result.p_values, np.minimum((reached + 1) / 200, 1.0))
    assert result.noise_ceiling == pytest.approx(tuple(ceiling.mean(axis=0)))


def test_dual_variance_equals_rsatoolbox_on_each_branch():
    variance = dual_variance(ref("dual_formula__spread"), n_subjects=8, n_stimuli=12)
    np.testing.assert_allclose(variance, ref("dual_formula__variance"), **TOL)


# -- scipy as a second implementation --------------------------------------------------------


@pytest.fixture
def fixed(rng):
    """Evaluations of 4 models for 9 subjects; models 0 and 1 are good, 3 is noise."""
    return np.array([[0.3], [0.25], [0.1], [0.0]]) + 0.08 * rng.standard_normal((4, 9))


def test_pairs_equal_scipy_ttest_rel(fixed):
    result = pairwise_model_tests(fixed, correction=None)
    for i, j in zip(ROWS, COLUMNS, strict=True):
        expected = scipy.stats.ttest_rel(fixed[i], fixed[j])
        assert result.statistic[i, j] == pytest.approx(expected.statistic, rel=1e-12)
        assert result.statistic[j, i] == pytest.approx(-expected.statistic, rel=1e-12)
        assert result.p_values[i, j] == result.p_values[j, i] == pytest.approx(expected.pvalue)
        assert result.difference[i, j] == pytest.approx(fixed[i].mean() - fixed[j].mean())
    assert result.dof == 8 and result.n_tests == 6 and result.n_bootstrap is None
    np.testing.assert_array_equal(np.diag(result.p_values), 1.0)
    np.testing.assert_array_equal(np.diag(result.significant), False)


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_zero_and_ceiling_equal_scipy(fixed, alternative):
    zero = zero_tests(fixed, alternative=alternative, correction=None)
    ceiling = noise_ceiling_tests(fixed, 0.2, alternative=alternative, correction=None)
    rank = zero_tests(fixed, "signed-rank", alternative=alternative, correction=None)
    for k in range(4):
        expected = scipy.stats.ttest_1samp(fixed[k], 0.0, alternative=alternative)
        assert zero.statistic[k] == pytest.approx(expected.statistic, rel=1e-12)
        assert zero.p_values[k] == pytest.approx(expected.pvalue, rel=1e-10)
        expected = scipy.stats.ttest_1samp(fixed[k], 0.2, alternative=alternative)
        assert ceiling.p_values[k] == pytest.approx(expected.pvalue, rel=1e-10)
        expected = scipy.stats.wilcoxon(fixed[k], alternative=alternative)
        assert rank.p_values[k] == pytest.approx(expected.pvalue, rel=1e-12)
    assert ceiling.noise_ceiling == (0.2, None)


def test_signed_rank_closed_form():
    """All 8 subjects above 0: the exact one-sided p-value is 2**-8; W = 36 = 8 * 9 / 2."""
    evaluations = np.array([np.linspace(0.1, 0.8, 8)])
    result = zero_tests(evaluations, "signed-rank")
    assert result.p_values[0] == pytest.approx(2.0**-8, rel=1e-12)
    assert result.statistic[0] == 36


def test_identical_models_give_p_one(fixed):
    evaluations = np.vstack([fixed[:1], fixed[:1]])
    for test in ("t-test", "signed-rank"):
        result = pairwise_model_tests(evaluations, test)
        assert result.p_values[0, 1] == 1.0 and result.statistic[0, 1] == 0.0
    resamples = np.repeat(fixed[:1].T, 2, axis=1)  # (9 resamples, 2 identical models)
    result = pairwise_model_tests(resamples, "bootstrap", bootstrap="stimuli", n_stimuli=5)
    assert result.p_values[0, 1] == 1.0


def test_swapping_models_permutes_results(fixed):
    order = [2, 0, 3, 1]
    result = pairwise_model_tests(fixed)
    swapped = pairwise_model_tests(fixed[order])
    grid = np.ix_(order, order)
    np.testing.assert_allclose(swapped.statistic, result.statistic[grid], rtol=1e-12)
    np.testing.assert_allclose(swapped.p_corrected, result.p_corrected[grid], rtol=1e-12)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_extreme_scales_change_only_the_units(fixed, scale):
    """t and p are scale-free; differences and standard errors scale, without over/underflow."""
    result = pairwise_model_tests(fixed)
    scaled = pairwise_model_tests(fixed * scale)
    np.testing.assert_allclose(scaled.statistic, result.statistic, rtol=1e-10)
    np.testing.assert_allclose(scaled.p_values, result.p_values, rtol=1e-10)
    np.testing.assert_allclose(scaled.standard_error, result.standard_error * scale, rtol=1e-10)
    zero = zero_tests(fixed * scale, "signed-rank")
    np.testing.assert_allclose(zero.p_values, zero_tests(fixed, "signed-rank").p_values)


def test_accepts_bootstrap_comparisons_output(rng):
    """bootstrap_comparisons' (n_bootstrap, n_models) samples go in as they are."""
    latent = rng.standard_normal((10, 3))
    subjects = [latent + 0.5 * rng.standard_normal((10, 3)) for _ in range(3)]
    rdm = lambda a: scipy.spatial.distance.pdist(a)  # noqa: E731
    models = np.stack([rdm(latent), rdm(rng.standard_normal((10, 3)))])
    data = np.stack([rdm(s) for s in subjects])
    samples = bootstrap_comparisons(models, data, "pearson", n_bootstrap=60, random_state=0)
    result = pairwise_model_tests(samples, bootstrap="stimuli", n_stimuli=10)
    d = samples[:, 0] - samples[:, 1]
    t = d.mean() / np.sqrt(d.var(ddof=1) * 10 / 9)  # rsatoolbox's n / (n - 1) correction
    assert result.statistic[0, 1] == pytest.approx(t, rel=1e-12)
    assert result.p_values[0, 1] == pytest.approx(2 * scipy.stats.t.sf(abs(t), 9), rel=1e-10)


def test_undefined_resamples_are_left_out():
    evaluations = ref("stimuli__evaluations").copy()
    spoiled = evaluations.copy()
    spoiled[[3, 50], 1] = np.nan
    kept = np.delete(evaluations, [3, 50], axis=0)
    result = pairwise_model_tests(spoiled, bootstrap="stimuli", n_stimuli=12)
    expected = pairwise_model_tests(kept, bootstrap="stimuli", n_stimuli=12)
    np.testing.assert_array_equal(result.p_values, expected.p_values)
    assert result.n_bootstrap == 198
    spoiled[:120, 0] = np.nan
    with pytest.raises(ValueError, match="NaN in 120 of 200 resamples"):
        zero_tests(spoiled, bootstrap="stimuli", n_stimuli=12)


# -- corrections -------------------------------------------------------------------------------


def benjamini_hochberg(p):
    """Step-up adjusted p-values, written out: min over k >= rank of p_(k) m / k."""
    m = p.size
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 1.0
    for position in range(m - 1, -1, -1):
        running = min(running, p[order[position]] * m / (position + 1))
        adjusted[order[position]] = running
    return adjusted


def test_fdr_of_a_hand_computed_case():
    """p = (.01, .04, .03, .20, .005, .5): sorted p * 6 / rank = .03 .03 .06 .06 .24 .5."""
    from skrep.functional._model_tests_stats import correct

    p = np.array([0.01, 0.04, 0.03, 0.20, 0.005, 0.5])
    np.testing.assert_allclose(correct(p, "fdr"), [0.03, 0.06, 0.06, 0.24, 0.03, 0.5])
    np.testing.assert_allclose(correct(p, "bonferroni"), [0.06, 0.24, 0.18, 1.0, 0.03, 1.0])


@pytest.mark.parametrize("correction", ["fdr", "bonferroni", None])
def test_corrections_over_the_pairs(fixed, correction):
    result = pairwise_model_tests(fixed, correction=correction, alpha=0.01)
    p = result.p_values[ROWS, COLUMNS]
    expected = {
        "fdr": benjamini_hochberg(p),
        "bonferroni": np.minimum(6 * p, 1.0),
        None: p,
    }[correction]
    np.testing.assert_allclose(result.p_corrected[ROWS, COLUMNS], expected, rtol=1e-12)
    np.testing.assert_array_equal(result.p_corrected, result.p_corrected.T)
    np.testing.assert_array_equal(result.significant[ROWS, COLUMNS], expected <= 0.01)
    assert result.correction == correction and result.alpha == 0.01


def test_zero_tests_bonferroni_over_models(fixed):
    raw = zero_tests(fixed, correction=None)
    result = zero_tests(fixed)  # Bonferroni by default, as rsatoolbox's plot
    np.testing.assert_allclose(result.p_corrected, np.minimum(4 * raw.p_values, 1.0))
    assert result.significant.tolist() == (result.p_corrected <= 0.05).tolist()
    assert result.significant[:2].all()  # models 0 and 1 are far above 0


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: zero_tests(np.ones(5)), ValueError, r"shape \(5,\).*n_models, n_subjects"),
        (lambda: zero_tests(np.ones((2, 3, 4))), ValueError, r"shape \(2, 3, 4\)"),
        (
            lambda: zero_tests(np.ones((4, 5, 2)), bootstrap="dual", n_subjects=3, n_stimuli=5),
            ValueError,
            r"shape \(4, 5, 2\).*\(3, n_bootstrap, n_models\)",
        ),
        (lambda: zero_tests(np.ones((3, 1))), ValueError, "1 subject"),
        (
            lambda: zero_tests(np.ones((1, 3)), bootstrap="stimuli", n_stimuli=5),
            ValueError,
            r"1 resample \(shape \(1, 3\)\)",
        ),
        (lambda: pairwise_model_tests(np.ones((1, 5))), ValueError, "at least 2 models"),
        (
            lambda: zero_tests(np.array([[0.1, np.nan, 0.2], [0.1, 0.2, 0.3]])),
            ValueError,
            "1 NaN value.*model 0 and subject 1",
        ),
        (lambda: zero_tests(np.array([[0.1, np.inf, 0.2]])), ValueError, "infinite"),
        (lambda: zero_tests(np.ones((3, 4)), "ranks"), InvalidParameterError, "'test'"),
        (
            lambda: zero_tests(np.ones((20, 3)), "signed-rank", bootstrap="stimuli", n_stimuli=9),
            InvalidParameterError,
            "signed-rank.*bootstrap=None",
        ),
        (lambda: zero_tests(np.ones((3, 4)), "bootstrap"), InvalidParameterError, "resamples"),
        (
            lambda: zero_tests(np.ones((3, 9, 2)), "bootstrap", bootstrap="dual"),
            InvalidParameterError,
            r"evaluations\[0\]",
        ),
        (
            lambda: zero_tests(np.ones((20, 3)), bootstrap="stimuli"),
            InvalidParameterError,
            "needs n_stimuli",
        ),
        (
            lambda: zero_tests(np.ones((20, 3)), bootstrap="subjects", n_subjects=1),
            InvalidParameterError,
            "'n_subjects'.*>= 2",
        ),
        (lambda: zero_tests(np.ones((3, 4)), n_subjects=5), ValueError, "holds 4 subjects"),
        (lambda: zero_tests(np.ones((3, 4)), bootstrap="rdm"), InvalidParameterError, "'rdm'"),
        (lambda: zero_tests(np.ones((3, 4)), correction="holm"), InvalidParameterError, "holm"),
        (lambda: zero_tests(np.ones((3, 4)), alpha=5), InvalidParameterError, "'alpha'"),
        (
            lambda: zero_tests(np.ones((3, 4)), alternative="above"),
            InvalidParameterError,
            "'alternative'",
        ),
        (lambda: noise_ceiling_tests(np.ones((3, 4)), None), ValueError, "noise_ceiling is None"),
        (
            lambda: noise_ceiling_tests(np.ones((3, 4)), np.ones(4)),
            ValueError,
            r"noise_ceiling has shape \(4,\)",
        ),
        (
            lambda: noise_ceiling_tests(np.ones((3, 4)), [0.2, np.nan]),
            ValueError,
            "finite bounds",
        ),
        (lambda: zero_tests([["a", "b"], ["c", "d"]]), ValueError, "evaluations holds strings"),
    ],
)
def test_named_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_resampled_ceiling_must_match_the_resamples():
    evaluations = ref("stimuli__evaluations")
    with pytest.raises(ValueError, match=r"\(200,\) or \(200, 2\)"):
        noise_ceiling_tests(evaluations, np.ones((199, 2)), bootstrap="stimuli", n_stimuli=12)
