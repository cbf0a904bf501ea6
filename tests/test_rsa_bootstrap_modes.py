"""Bootstrap evaluations over stimuli, subjects, both, and the dual bootstrap.

rsatoolbox 0.3.2 draws its resamples from numpy's global generator, so the
tests against it feed skrep the indices rsatoolbox drew (stored in
tests/data/rsatoolbox_bootstrap_modes.npz; see the .md next to it).
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import pdist

from skrep.exceptions import InvalidParameterError
from skrep.functional._rsa_bootstrap import _models_and_data, evaluate_resamples, report_undefined
from skrep.functional.model_tests import noise_ceiling_tests, pairwise_model_tests, zero_tests
from skrep.functional.rdm import condensed_to_square
from skrep.functional.rdm_compare import compare_rdms
from skrep.functional.rsa_inference import bootstrap_comparisons, noise_ceiling

DATA = Path(__file__).parent / "data" / "rsatoolbox_bootstrap_modes.npz"
REFERENCE = dict(np.load(DATA))
CASES = sorted(key[: -len("__evaluations")] for key in REFERENCE if key.endswith("__evaluations"))
#: The one resample where rsatoolbox counts a comparison with a constant pool as 0 (see the .md).
KNOWN_NAN_CEILING = {("main__spearman__both", 13)}


def _reference_inputs(case):
    config, method, mode = case.split("__")
    method, models, data = _models_and_data(
        REFERENCE[f"{config}__model_rdms"], REFERENCE[f"{config}__data_rdms"], method, "test"
    )
    subjects = REFERENCE.get(f"{case}__subjects")
    stimuli = REFERENCE.get(f"{case}__stimuli")
    return models, data, method, subjects, stimuli, mode


def _simulation(seed, n_stimuli=20, noise=(1.0,) * 10, n_channels=10):
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((n_stimuli, n_channels))
    models = np.stack(
        [pdist(patterns), pdist(patterns + rng.standard_normal(patterns.shape))]
        + [pdist(rng.standard_normal(patterns.shape))]
    )
    data = np.stack([pdist(patterns + s * rng.standard_normal(patterns.shape)) for s in noise])
    return models, data


# -- rsatoolbox, resample by resample ---------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_resamples_equal_rsatoolbox(case):
    models, data, method, subjects, stimuli, mode = _reference_inputs(case)
    with np.errstate(all="raise"):
        samples, ceilings = evaluate_resamples(
            models, data, method, subjects, stimuli, dual=mode == "dual", noise_ceiling=True
        )
    expected = REFERENCE[f"{case}__evaluations"]
    np.testing.assert_allclose(samples, expected, rtol=0, atol=1e-12)  # NaN where rsatoolbox's
    expected_ceiling = REFERENCE[f"{case}__noise_ceiling"]
    known = np.isnan(ceilings) & ~np.isnan(expected_ceiling)
    assert {(case, int(b)) for b in np.argwhere(known.any(axis=(0, 2))).ravel()} <= (
        KNOWN_NAN_CEILING
    )
    np.testing.assert_allclose(
        np.where(known, np.nan, ceilings),
        np.where(known, np.nan, expected_ceiling),
        rtol=0,
        atol=1e-12,
    )


def test_reference_resamples_reach_the_special_cases():
    """The stored draws include one distinct subject and fewer than 3 distinct stimuli."""
    single = sum(
        int((np.ptp(REFERENCE[f"{case}__subjects"], axis=1) == 0).sum())
        for case in CASES
        if f"{case}__subjects" in REFERENCE
    )
    few = [
        b
        for b, index in enumerate(REFERENCE["small__corr__dual__stimuli"])
        if np.unique(index).size < 3
    ]
    assert single >= 20 and len(few) >= 2
    # rsatoolbox leaves those resamples out of all three sets of the dual bootstrap.
    assert np.isnan(REFERENCE["small__corr__dual__evaluations"][:, few]).all()
    # With one distinct subject, its lower bound is its upper bound (pooled and tested on itself).
    ceiling = REFERENCE["main__corr__subjects__noise_ceiling"][0]
    single_rows = np.ptp(REFERENCE["main__corr__subjects__subjects"], axis=1) == 0
    np.testing.assert_array_equal(ceiling[single_rows, 0], ceiling[single_rows, 1])
    assert KNOWN_NAN_CEILING <= {(c, 13) for c in CASES}


# -- second implementations and closed forms --------------------------------------------------
def test_subject_resamples_are_means_of_the_fixed_evaluations():
    models, data = _simulation(1, noise=(0.5, 1.0, 1.5, 2.0, 3.0))
    method, square_models, square_data = _models_and_data(models, data, "spearman", "test")
    subjects = np.random.default_rng(0).integers(0, 5, size=(40, 5))
    samples, _ = evaluate_resamples(square_models, square_data, method, subjects, None)
    fixed = compare_rdms(models, data, "spearman")  # (n_models, n_subjects)
    np.testing.assert_allclose(samples[0], fixed[:, subjects].mean(axis=2).T, atol=1e-14)


def test_subject_bootstrap_mean_and_variance_tend_to_their_closed_forms():
    # The mean of n draws with replacement has expectation the mean and variance
    # sigma^2 / n (sigma^2 the population variance over subjects).
    models, data = _simulation(2, noise=np.linspace(0.3, 3.0, 8))
    samples = bootstrap_comparisons(
        models, data, "pearson", n_bootstrap=4000, over="subjects", random_state=0
    )
    fixed = compare_rdms(models, data, "pearson")
    expected_variance = fixed.var(axis=1) / data.shape[0]
    np.testing.assert_allclose(
        samples.mean(axis=0), fixed.mean(axis=1), atol=4 * np.sqrt(expected_variance / 4000).max()
    )
    np.testing.assert_allclose(samples.var(axis=0), expected_variance, rtol=0.1)


def _by_hand_compare(a, b, method):
    if method == "pearson":
        return np.corrcoef(a, b)[0, 1]
    if method == "cosine":
        return a @ b / np.sqrt((a @ a) * (b @ b))
    return scipy.stats.spearmanr(a, b)[0]


def _by_hand_transform(vectors, method):
    """What a pool averages: z-scores, RMS-scaled RDMs or ranks."""
    if method == "pearson":
        return (vectors - vectors.mean(1, keepdims=True)) / vectors.std(1, keepdims=True)
    if method == "cosine":
        return vectors / np.sqrt(np.mean(vectors**2, axis=1, keepdims=True))
    return scipy.stats.rankdata(vectors, axis=1)


def _ceiling_by_hand(vectors, method):
    """Nili et al.'s bounds, each RDM once, with numpy and scipy."""
    transformed = _by_hand_transform(vectors, method)
    n = vectors.shape[0]
    everyone = transformed.mean(axis=0)
    others = [np.delete(transformed, k, axis=0).mean(axis=0) for k in range(n)]
    lower = np.mean([_by_hand_compare(others[k], vectors[k], method) for k in range(n)])
    return lower, np.mean([_by_hand_compare(everyone, vectors[k], method) for k in range(n)])


@pytest.mark.parametrize("method", ["pearson", "spearman", "cosine"])
def test_stimulus_resample_ceilings_equal_a_second_implementation(method):
    models, data = _simulation(3, n_stimuli=12, noise=(0.8, 1.0, 1.2, 1.5))
    _, square_models, square_data = _models_and_data(models, data, method, "test")
    stimuli = np.array([[0, 0, 1, 2, 3, 3, 5, 7, 8, 8, 10, 11]])
    # Each subject once, the pairs of distinct stimuli drawn (self-pairs dropped).
    first, second = np.triu_indices(12, 1)
    keep = stimuli[0][first] != stimuli[0][second]
    vectors = square_data[:, stimuli[0][first][keep], stimuli[0][second][keep]]
    assert vectors.shape == (4, 66 - 3)
    _, ceiling = evaluate_resamples(
        square_models, square_data, method, None, stimuli, noise_ceiling=True
    )
    np.testing.assert_allclose(ceiling[0, 0], _ceiling_by_hand(vectors, method), atol=1e-13)


@pytest.mark.parametrize("method", ["pearson", "spearman", "cosine", "tau-a"])
def test_subject_resample_ceilings(method):
    models, data = _simulation(3, n_stimuli=12, noise=(0.8, 1.0, 1.2, 1.5))
    _, square_models, square_data = _models_and_data(models, data, method, "test")
    # A permutation of the subjects leaves the ceiling of all the data unchanged.
    _, ceiling = evaluate_resamples(
        square_models, square_data, method, np.array([[3, 1, 0, 2]]), None, noise_ceiling=True
    )
    np.testing.assert_allclose(ceiling[0, 0], noise_ceiling(data, method), atol=1e-13)
    # Two distinct subjects, one drawn three times: the lower bound compares the two,
    # whatever the copies; the upper bound pools the copies, weighted.
    _, ceiling = evaluate_resamples(
        square_models, square_data, method, np.array([[2, 0, 2, 2]]), None, noise_ceiling=True
    )
    pair = compare_rdms(data[0], data[2], method)[0, 0]
    assert ceiling[0, 0, 0] == pytest.approx(pair, abs=1e-13)
    if method != "tau-a":
        # The pool of the 4 drawn, compared with each distinct subject once.
        pooled = _by_hand_transform(data[[2, 0, 2, 2]], method).mean(axis=0)
        upper = np.mean([_by_hand_compare(pooled, data[k], method) for k in (0, 2)])
        assert ceiling[0, 0, 1] == pytest.approx(upper, abs=1e-13)


def test_dual_sets_are_the_three_bootstraps_of_the_same_draws():
    models, data = _simulation(4, n_stimuli=10, noise=(1.0,) * 5)
    method, square_models, square_data = _models_and_data(models, data, "pearson", "test")
    rng = np.random.default_rng(1)
    subjects, stimuli = rng.integers(0, 5, size=(25, 5)), rng.integers(0, 10, size=(25, 10))
    dual, dual_ceiling = evaluate_resamples(
        square_models, square_data, method, subjects, stimuli, dual=True, noise_ceiling=True
    )
    for k, (by_subjects, by_stimuli) in enumerate(
        [(subjects, stimuli), (subjects, None), (None, stimuli)]
    ):
        samples, ceiling = evaluate_resamples(
            square_models, square_data, method, by_subjects, by_stimuli, noise_ceiling=True
        )
        np.testing.assert_array_equal(dual[k], samples[0])
        np.testing.assert_array_equal(dual_ceiling[k], ceiling[0])
    # The public function: the dual's first set is over="both" with the same seed.
    both, both_ceiling = bootstrap_comparisons(
        models,
        data,
        "pearson",
        n_bootstrap=30,
        over="both",
        return_noise_ceiling=True,
        random_state=7,
    )
    dual, dual_ceiling = bootstrap_comparisons(
        models,
        data,
        "pearson",
        n_bootstrap=30,
        over="dual",
        return_noise_ceiling=True,
        random_state=7,
    )
    assert dual.shape == (3, 30, 3) and dual_ceiling.shape == (3, 30, 2)
    assert both.shape == (30, 3) and both_ceiling.shape == (30, 2)
    np.testing.assert_array_equal(dual[0], both)
    np.testing.assert_array_equal(dual_ceiling[0], both_ceiling)


def test_stimuli_mode_is_the_default_and_draws_as_before():
    models, data = _simulation(5, n_stimuli=12, noise=(1.0, 1.5, 2.0))
    samples = bootstrap_comparisons(models, data, "spearman", n_bootstrap=20, random_state=3)
    again, ceiling = bootstrap_comparisons(
        models,
        data,
        "spearman",
        n_bootstrap=20,
        over="stimuli",
        return_noise_ceiling=True,
        random_state=3,
    )
    np.testing.assert_array_equal(samples, again)
    # One resample per draw of rng.integers(0, n, size=n), in order.
    generator = np.random.default_rng(3)
    stimuli = np.stack([generator.integers(0, 12, size=12) for _ in range(20)])
    method, square_models, square_data = _models_and_data(models, data, "spearman", "test")
    expected, expected_ceiling = evaluate_resamples(
        square_models, square_data, method, None, stimuli, noise_ceiling=True
    )
    np.testing.assert_array_equal(samples, expected[0])
    np.testing.assert_array_equal(ceiling, expected_ceiling[0])


def test_identical_subjects_leave_no_subject_variance():
    # Every subject has the same RDM: resampling subjects changes nothing, so the
    # subjects-only set is the fixed evaluation, and "both" is the stimuli-only set.
    models, data = _simulation(6, n_stimuli=15, noise=(1.0,))
    data = np.repeat(data, 4, axis=0)
    samples = bootstrap_comparisons(
        models, data, "pearson", n_bootstrap=40, over="dual", random_state=0
    )
    fixed = compare_rdms(models, data[:1], "pearson")[:, 0]
    np.testing.assert_allclose(samples[1], np.broadcast_to(fixed, (40, 3)), atol=1e-14)
    np.testing.assert_allclose(samples[0], samples[2], atol=1e-14)


# -- the dual bootstrap on simulations ----------------------------------------------------------
@pytest.mark.parametrize(
    "design, noise, larger",
    [
        ("homogeneous subjects", (1.0,) * 16, "stimuli"),
        ("two kinds of subject", (0.3, 0.3, 0.3, 3.0, 3.0, 3.0), "subjects"),
    ],
)
def test_dual_variances_follow_the_design(design, noise, larger):
    models, data = _simulation(7, n_stimuli=20 if larger == "stimuli" else 40, noise=noise)
    samples = bootstrap_comparisons(
        models[:2], data, "pearson", n_bootstrap=300, over="dual", random_state=1
    )
    both, subjects, stimuli = np.var(samples, axis=1, ddof=1)
    # Resampling both factors adds the two variances (and their interaction).
    assert np.all(both > np.maximum(subjects, stimuli)), design
    assert np.all((0.85 < both / (subjects + stimuli)) & (both / (subjects + stimuli) < 1.6))
    if larger == "stimuli":
        assert np.all(stimuli > 2 * subjects), design
    else:
        assert subjects[0] > 5 * stimuli[0], design


def test_dual_bootstrap_feeds_the_model_tests():
    models, data = _simulation(8, n_stimuli=20, noise=(1.0,) * 8)
    samples, ceiling = bootstrap_comparisons(
        models,
        data,
        "pearson",
        n_bootstrap=200,
        over="dual",
        return_noise_ceiling=True,
        random_state=0,
    )
    sizes = {"n_subjects": 8, "n_stimuli": 20}
    pairs = pairwise_model_tests(samples, bootstrap="dual", **sizes)
    assert pairs.dof == 7 and pairs.n_bootstrap == 200
    # The true model beats the noisy one and random patterns.
    assert pairs.significant[0, 1] and pairs.significant[0, 2]
    assert pairs.difference[0, 2] > 0.3
    zero = zero_tests(samples, bootstrap="dual", **sizes)
    assert zero.significant[0] and not zero.significant[2]
    below = noise_ceiling_tests(samples, ceiling, bootstrap="dual", **sizes)
    assert below.significant[2] and not below.significant[0]
    lower, upper = noise_ceiling(data, "pearson")
    assert below.noise_ceiling[0] == pytest.approx(lower, abs=0.05)
    assert below.noise_ceiling[1] == pytest.approx(upper, abs=0.05)
    # The other modes go in as they are.
    for over in ("subjects", "both"):
        samples, ceiling = bootstrap_comparisons(
            models,
            data,
            "pearson",
            n_bootstrap=100,
            over=over,
            return_noise_ceiling=True,
            random_state=0,
        )
        pairs = pairwise_model_tests(samples, bootstrap=over, **sizes)
        assert pairs.significant[0, 2], over
        noise_ceiling_tests(samples, ceiling, "bootstrap", bootstrap=over, **sizes)


def test_corr_cov_is_accepted_over_subjects_only():
    models, data = _simulation(9, n_stimuli=8, noise=(1.0, 1.5, 2.0))
    samples = bootstrap_comparisons(
        models, data, "corr_cov", n_bootstrap=30, over="subjects", random_state=0
    )
    generator = np.random.default_rng(0)
    subjects = np.stack([generator.integers(0, 3, size=3) for _ in range(30)])
    fixed = compare_rdms(models, data, "corr_cov")
    np.testing.assert_allclose(samples, fixed[:, subjects].mean(axis=2).T, atol=1e-13)
    for over in ("stimuli", "both", "dual"):
        with pytest.raises(ValueError, match=rf"whitens.*over='{over}'; over='subjects'"):
            bootstrap_comparisons(models, data, "corr_cov", n_bootstrap=5, over=over)


# -- named errors ---------------------------------------------------------------------------------
def test_named_errors():
    models, data = _simulation(10, n_stimuli=8, noise=(1.0, 1.5))
    with pytest.raises(InvalidParameterError, match=r"'over' parameter of bootstrap_comparisons"):
        bootstrap_comparisons(models, data, over="conditions")
    with pytest.raises(InvalidParameterError, match="'return_noise_ceiling'.*must be a bool"):
        bootstrap_comparisons(models, data, return_noise_ceiling="yes")
    for over in ("subjects", "both", "dual"):
        with pytest.raises(
            ValueError,
            match=rf"over='{over}' resamples the subjects.*holds 1 RDM \(shape \(28,\)\)",
        ):
            bootstrap_comparisons(models, data[0], over=over, n_bootstrap=5)
    with pytest.raises(ValueError, match=r"return_noise_ceiling=True needs.*at least 2 data RDMs"):
        bootstrap_comparisons(models, data[:1], n_bootstrap=5, return_noise_ceiling=True)
    constant = np.ones_like(models[:1])
    with pytest.raises(
        ValueError, match=r"undefined in 20 of 20 resamples \(a model or data RDM without"
    ):
        bootstrap_comparisons(constant, data, "pearson", n_bootstrap=20, over="subjects")
    square = condensed_to_square(data)
    with pytest.raises(ValueError, match="model_rdms are over 8 stimuli but data_rdms over 7"):
        bootstrap_comparisons(models, square[:, :7, :7], over="dual")


def test_undefined_ceilings_are_counted_in_a_warning():
    samples = np.zeros((1, 4, 2))
    ceilings = np.zeros((1, 4, 2))
    ceilings[0, 1] = np.nan
    with pytest.warns(RuntimeWarning, match=r"noise ceiling is undefined \(NaN\) in 1 of 4"):
        report_undefined(samples, ceilings, "both", stacklevel=2)
    # The known resample of the reference data, through the public function's path.
    models, data, method, subjects, stimuli, _ = _reference_inputs("main__spearman__both")
    _, ceiling = evaluate_resamples(
        models, data, method, subjects[13:14], stimuli[13:14], noise_ceiling=True
    )
    assert np.isnan(ceiling).all()
