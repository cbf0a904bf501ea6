"""RDMs, RDM comparisons and the noise ceiling against rsatoolbox's values (issue 7).

The reference values in ``data/rsatoolbox`` were computed with rsatoolbox 0.3.2
on the inputs stored next to them; other checks use scipy's ``pdist``,
``kendalltau`` and closed forms.
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from conftest import load_reference
from scipy.spatial.distance import pdist, squareform

from skrep.exceptions import InvalidParameterError
from skrep.functional.rdm import compute_rdm, condensed_to_square, square_to_condensed
from skrep.functional.rdm_compare import COMPARISON_METHODS, compare_rdms
from skrep.functional.rsa_inference import noise_ceiling, pool_rdms


@pytest.fixture(scope="module")
def reference():
    return load_reference("rsatoolbox", "rsatoolbox_reference")


RDM_CASES = [
    ("correlation", {}, "rdm_correlation"),
    ("sqeuclidean", {}, "rdm_euclidean"),
    ("crossnobis", {"runs": True}, "rdm_crossnobis_identity"),
    ("crossnobis", {"runs": True, "precision": True}, "rdm_crossnobis_shrinkdiag"),
    ("mahalanobis", {"precision": True}, "rdm_mahalanobis_shrinkdiag"),
]


@pytest.mark.parametrize("method, options, key", RDM_CASES, ids=[c[2] for c in RDM_CASES])
def test_rdms_match_rsatoolbox(reference, method, options, key):
    kwargs = {"conditions": reference["cond"]}
    if options.get("runs"):
        kwargs["runs"] = reference["run"]
    if options.get("precision"):
        kwargs["precision"] = reference["precision_shrinkdiag"]
    many = compute_rdm(reference["measurements"], method, **kwargs)  # 5 subjects at once
    np.testing.assert_allclose(many, reference[key], rtol=0, atol=1e-12)
    if "precision" in kwargs:
        kwargs["precision"] = kwargs["precision"][2]
    one = compute_rdm(reference["measurements"][2], method, **kwargs)
    np.testing.assert_allclose(one, reference[key][2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["correlation", "cosine", "euclidean", "sqeuclidean"])
def test_rdms_match_scipy_pdist(rng, method):
    X = rng.standard_normal((15, 7))
    expected = pdist(X, method)
    np.testing.assert_allclose(compute_rdm(X, method, per_channel=False), expected, atol=1e-12)
    square = compute_rdm(X, method, per_channel=False, square=True)
    np.testing.assert_allclose(square, squareform(expected), atol=1e-12)
    np.testing.assert_allclose(square_to_condensed(square), expected, atol=1e-12)
    np.testing.assert_allclose(condensed_to_square(expected), squareform(expected), atol=0)


def test_mahalanobis_with_identity_is_squared_euclidean_and_torch(rng):
    X = rng.standard_normal((12, 6))
    np.testing.assert_allclose(
        compute_rdm(X, "mahalanobis"), compute_rdm(X, "sqeuclidean"), atol=1e-12
    )
    torch = pytest.importorskip("torch")
    for method in ("correlation", "cosine", "euclidean", "mahalanobis"):
        got = compute_rdm(torch.from_numpy(X), method)
        np.testing.assert_allclose(got.numpy(), compute_rdm(X, method), atol=1e-12)


def test_crossnobis_is_unbiased(rng):
    # Identical true patterns in every condition: the expected distance is 0,
    # while the plain squared distance of noisy means is biased upwards.
    true = np.tile(rng.standard_normal(30), (6, 1))
    conditions = np.tile(np.arange(6), 40)
    runs = np.repeat(np.arange(40), 6)
    X = true[conditions] + rng.standard_normal((240, 30))
    crossnobis = compute_rdm(X, "crossnobis", conditions=conditions, runs=runs)
    plain = compute_rdm(X, "sqeuclidean", conditions=conditions)
    assert abs(crossnobis.mean()) < 3 * crossnobis.std() / np.sqrt(crossnobis.size)
    assert plain.mean() > 10 * abs(crossnobis.mean())


def test_rdm_errors_name_the_argument(rng):
    X = rng.standard_normal((8, 4))
    with pytest.raises(InvalidParameterError, match="'method' parameter of compute_rdm"):
        compute_rdm(X, "manhattan")
    with pytest.raises(ValueError, match="crossnobis' needs runs"):
        compute_rdm(X, "crossnobis", conditions=np.arange(8) % 4)
    with pytest.raises(ValueError, match=r"conditions must have one label per observation"):
        compute_rdm(X, conditions=np.arange(7))
    with pytest.raises(ValueError, match=r"precision has shape \(3, 3\)"):
        compute_rdm(X, "mahalanobis", precision=np.eye(3))
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="X contains 0 NaN and 1 infinite"):
        compute_rdm(bad)
    with pytest.raises(ValueError, match="X must have shape"):
        compute_rdm(X[0])
    constant = X.copy()
    constant[3] = 2.0
    with pytest.raises(ValueError, match="Condition 3 has a constant pattern"):
        compute_rdm(constant, "correlation")
    with pytest.raises(ValueError, match="Condition 1 has no observation in the runs other than 0"):
        compute_rdm(X, "crossnobis", conditions=[0, 1, 0, 1, 0, 0, 0, 0], runs=[0] * 4 + [1] * 4)


COMPARISONS = ["spearman", "corr", "cosine", "tau-a", "rho-a", "kendall", "corr_cov", "cosine_cov"]


@pytest.mark.parametrize("model", ["true", "categorical"])
@pytest.mark.parametrize("data", ["correlation", "crossnobis"])
@pytest.mark.parametrize("method", COMPARISONS)
def test_comparisons_match_rsatoolbox(reference, model, data, method):
    model_rdm = reference["model_true_correlation" if model == "true" else "model_categorical"]
    data_rdms = reference[
        "rdm_correlation" if data == "correlation" else "rdm_crossnobis_shrinkdiag"
    ]
    expected = reference[f"compare__{model}__vs__{data}__{method}"]
    tolerance = 0.0 if method == "tau-a" and model == "categorical" else 1e-12
    np.testing.assert_allclose(
        compare_rdms(model_rdm, data_rdms, method), expected, atol=max(tolerance, 1e-15)
    )


def test_comparisons_match_scipy(rng):
    a, b = rng.standard_normal((3, 45)), rng.standard_normal((2, 45))
    a[0, :10] = 1.0  # ties
    got = {m: compare_rdms(a, b, m) for m in COMPARISON_METHODS}
    for i in range(3):
        for j in range(2):
            assert got["pearson"][i, j] == pytest.approx(scipy.stats.pearsonr(a[i], b[j])[0])
            assert got["spearman"][i, j] == pytest.approx(scipy.stats.spearmanr(a[i], b[j])[0])
            assert got["tau-b"][i, j] == pytest.approx(scipy.stats.kendalltau(a[i], b[j])[0])
            # tau-a by counting pairs directly.
            sign = np.sign(np.subtract.outer(a[i], a[i])) * np.sign(np.subtract.outer(b[j], b[j]))
            assert got["tau-a"][i, j] == pytest.approx(sign[np.triu_indices(45, 1)].mean())
    # Without ties rho-a is Spearman's rho.
    np.testing.assert_allclose(got["rho-a"][1:], got["spearman"][1:], atol=1e-12)


def test_comparison_errors(rng):
    with pytest.raises(InvalidParameterError, match="'method' parameter of compare_rdms"):
        compare_rdms(np.ones(10), np.ones(10), "dcor")
    with pytest.raises(ValueError, match="rdms_a has 10 dissimilarities per RDM but rdms_b has 15"):
        compare_rdms(rng.random(10), rng.random(15))
    with pytest.raises(ValueError, match="RDM 0 of rdms_b is constant"):
        compare_rdms(rng.random(10), np.full(10, 0.5), "pearson")


@pytest.mark.parametrize("data", ["correlation", "crossnobis"])
@pytest.mark.parametrize("method", ["spearman", "corr", "cosine", "tau-a", "rho-a"])
def test_noise_ceiling_matches_rsatoolbox(reference, data, method):
    rdms = reference["rdm_correlation" if data == "correlation" else "rdm_crossnobis_shrinkdiag"]
    lower, upper = noise_ceiling(rdms, method)
    expected = reference[f"noise_ceiling__{data}__{method}"]
    assert lower == pytest.approx(expected[0], abs=1e-12)
    assert upper == pytest.approx(expected[1], abs=1e-12)
    assert lower <= upper


def test_pooling_and_ceiling_errors(rng):
    rdms = rng.random((4, 10))
    np.testing.assert_allclose(
        pool_rdms(rdms, "cosine"), (rdms / np.sqrt((rdms**2).mean(1, keepdims=True))).mean(0)
    )
    with pytest.raises(ValueError, match="at least 2 data RDMs"):
        noise_ceiling(rdms[:1])


# -- inference -------------------------------------------------------------------------------
def test_bootstrap_comparisons(rng):
    from skrep.functional import bootstrap_comparisons

    patterns = rng.standard_normal((25, 10))
    model = compute_rdm(patterns)
    data = np.stack([compute_rdm(patterns + 0.8 * rng.standard_normal((25, 10))) for _ in range(4)])
    noise_model = compute_rdm(rng.standard_normal((25, 10)))
    samples = bootstrap_comparisons(
        np.stack([model, noise_model]), data, "pearson", n_bootstrap=200, random_state=0
    )
    assert samples.shape == (200, 2)
    observed = compare_rdms(np.stack([model, noise_model]), data, "pearson").mean(axis=1)
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    assert np.all(low <= observed + 0.05) and np.all(observed - 0.05 <= high)
    assert low[0] > high[1]  # the true model beats the unrelated one
    again = bootstrap_comparisons(
        np.stack([model, noise_model]), data, "pearson", n_bootstrap=200, random_state=0
    )
    np.testing.assert_array_equal(samples, again)  # seeded
    # A resample that draws every stimulus once is the plain comparison.
    from skrep.functional.rsa_inference import _subsampled_vectors

    square = condensed_to_square(np.stack([model]))
    np.testing.assert_allclose(_subsampled_vectors(square, np.arange(25))[0], model)
    # Repeated stimuli: pairs of a stimulus with its copy are dropped.
    index = np.array([0, 0, 1, 2])
    assert _subsampled_vectors(square, index).shape == (1, 5)


def test_permutation_test(rng):
    from skrep.functional import permutation_test

    patterns = rng.standard_normal((20, 10))
    data = np.stack([compute_rdm(patterns + 0.5 * rng.standard_normal((20, 10))) for _ in range(3)])
    models = np.stack([compute_rdm(patterns), compute_rdm(rng.standard_normal((20, 10)))])
    observed, p_values = permutation_test(
        models, data, "spearman", n_permutations=199, random_state=1
    )
    np.testing.assert_allclose(observed, compare_rdms(models, data, "spearman").mean(axis=1))
    assert p_values[0] == pytest.approx(1 / 200)  # nothing beats the true model
    assert p_values[1] > 0.05
    with pytest.raises(ValueError, match="model_rdms are over 20 stimuli but data_rdms over 19"):
        permutation_test(condensed_to_square(models), condensed_to_square(data)[:, :19, :19])


@pytest.mark.parametrize("method", ["spearman", "pearson", "cosine", "rho-a"])
def test_permutation_test_transforms_once_with_the_generic_results(rng, method, monkeypatch):
    from skrep.functional import permutation_test, rsa_inference

    patterns = rng.standard_normal((25, 6))
    data = np.stack([compute_rdm(patterns + rng.standard_normal((25, 6))) for _ in range(3)])
    # A model that sets stimulus 0 apart: the 1 in 25 relabellings that keep
    # stimulus 0 leave it unchanged, so the null ties the observed value
    # exactly and must count as reaching it.
    labels = (np.arange(25) < 1).astype(float)[:, None]
    models = np.stack([compute_rdm(patterns), compute_rdm(labels, "euclidean")])
    fast = permutation_test(models, data, method, n_permutations=200, random_state=2)
    monkeypatch.setattr(rsa_inference, "DOT_FORM_METHODS", ())
    generic = permutation_test(models, data, method, n_permutations=200, random_state=2)
    np.testing.assert_allclose(fast[0], generic[0], atol=1e-14)
    np.testing.assert_array_equal(fast[1], generic[1])
    np.testing.assert_allclose(fast[0], compare_rdms(models, data, method).mean(axis=1))


def test_n_conditions_of_condensed_sizes():
    from skrep.functional.rdm import n_conditions_of

    assert [n_conditions_of(n * (n - 1) // 2) for n in (2, 3, 92, 1000)] == [2, 3, 92, 1000]
    assert n_conditions_of(4) is None and n_conditions_of(4186 + 1) is None


def test_kriegeskorte92_dataset():
    from skrep.datasets import load_kriegeskorte92

    data = load_kriegeskorte92()
    assert data.brain_rdms.shape == (8, 92, 92) and data.model_rdms.shape == (8, 92, 92)
    assert data.behaviour_rdms.shape == (16, 92, 92)
    assert "Neuron" in data.CITATION and list(data.model_names[:3]) == [
        "animacy",
        "FaceBodyManmadeNatobj",
        "monkeyIT",
    ]
    np.testing.assert_array_equal(data.brain_rdms, np.transpose(data.brain_rdms, (0, 2, 1)))
    condensed = load_kriegeskorte92(condensed=True)
    np.testing.assert_array_equal(condensed.brain_rdms, square_to_condensed(data.brain_rdms))
    # Human IT RDMs agree with each other better than any model (noise ceiling above models).
    lower, upper = noise_ceiling(condensed.brain_rdms, "spearman")
    models = compare_rdms(condensed.model_rdms, condensed.brain_rdms, "spearman").mean(axis=1)
    assert models.max() < upper and 0.0 < lower < upper
    # Monkey IT and human IT Figure 1 RDMs are related (the paper's main finding).
    monkey, human = condensed.fig1_rdm_vectors
    assert compare_rdms(monkey, human, "spearman")[0, 0] > 0.2


def test_rsa_estimator(rng):
    from sklearn.model_selection import KFold, cross_validate

    import skrep

    X = rng.standard_normal((40, 12))
    Y = np.tanh(X @ rng.standard_normal((12, 8))) + 0.3 * rng.standard_normal((40, 8))
    expected = compare_rdms(compute_rdm(X), compute_rdm(Y), "spearman")[0, 0]
    assert skrep.RSA().fit(X, Y).score(X, Y) == pytest.approx(expected, abs=1e-14)
    tau = skrep.RSA("euclidean", "tau-a").fit(X, Y).score(X, Y)
    assert tau == pytest.approx(compare_rdms(pdist(X), pdist(Y), "tau-a")[0, 0], abs=1e-14)
    cv = KFold(4, shuffle=True, random_state=0)
    scores = cross_validate(skrep.RSA(compare_method="pearson"), X, Y, cv=cv)["test_score"]
    held_out = [
        compare_rdms(compute_rdm(X[test]), compute_rdm(Y[test]), "pearson")[0, 0]
        for _, test in cv.split(X)
    ]
    np.testing.assert_allclose(scores, held_out, atol=1e-14)
    with pytest.raises(InvalidParameterError, match="'rdm_method' parameter of RSA"):
        skrep.RSA("crossnobis").fit(X, Y)
    with pytest.raises(InvalidParameterError, match="'compare_method' parameter of RSA"):
        skrep.RSA(compare_method="dcor").fit(X, Y)


# -- review mends -------------------------------------------------------------------------------
def test_two_dimensional_input_is_a_stack_of_condensed_rdms(rng):
    from skrep.functional import bootstrap_comparisons, permutation_test

    models, data = rng.random((10, 10)), rng.random((10, 10))  # 10 RDMs over 5 stimuli each
    observed, p_values = permutation_test(models, data, n_permutations=5, random_state=0)
    assert observed.shape == (10,) and p_values.shape == (10,)
    with pytest.warns(RuntimeWarning, match="fewer than 3 distinct stimuli"):  # 5 stimuli
        assert bootstrap_comparisons(models, data, n_bootstrap=3, random_state=0).shape == (3, 10)
    square = condensed_to_square(rng.random(4186))
    with pytest.raises(ValueError, match=r"shape \(92, 92\).*looks like a square RDM"):
        compare_rdms(square, square)
    with pytest.raises(ValueError, match="not symmetric"):
        permutation_test(square[None] + np.triu(np.ones((92, 92)), 1)[None], square[None])


def test_float32_squared_distances_with_an_offset(rng):
    X = 100.0 + 0.01 * rng.standard_normal((20, 500))
    expected = pdist(X, "sqeuclidean")
    got = compute_rdm(X.astype(np.float32), "sqeuclidean", per_channel=False)
    np.testing.assert_allclose(got, expected, rtol=2e-3)
    np.testing.assert_allclose(compute_rdm(X.astype(np.float32), "euclidean"), pdist(X), rtol=2e-3)


def test_degenerate_comparisons_are_named_errors(rng):
    a = rng.random(10)
    for method in ("tau-b", "pearson", "spearman", "cosine"):
        with pytest.raises(ValueError, match="(no variation|constant)"):
            compare_rdms(a, np.full(10, 0.0 if method == "cosine" else 1.0), method)
    with pytest.raises(ValueError, match="not n \\(n - 1\\) / 2"):
        compare_rdms([0.3], [0.5], "rho-a")
    rdms = rng.random((3, 10))
    rdms[1] = 0.7
    with pytest.raises(ValueError, match="RDM 1 of rdms has no variation"):
        noise_ceiling(rdms, "pearson")


def test_degenerate_bootstrap_resamples_are_nan_with_a_warning():
    from skrep.functional import bootstrap_comparisons

    categories = np.array([0, 0, 0, 1, 1, 1])
    model = squareform_condensed = pdist(categories[:, None], "hamming")  # categorical model
    data = np.stack([model + 0.1 * np.arange(model.size) / model.size] * 2)
    with pytest.warns(RuntimeWarning, match="bootstrap resamples gave an RDM without variation"):
        samples = bootstrap_comparisons(
            squareform_condensed, data, "spearman", n_bootstrap=200, random_state=0
        )
    assert np.isnan(samples).any() and np.isfinite(samples).any()


def test_rdm_input_checks(rng):
    X = rng.standard_normal((8, 4))
    with pytest.raises(ValueError, match="conditions contains 1 NaN"):
        compute_rdm(X, conditions=[0, 1, 2, 3, 0, 1, 2, np.nan])
    with pytest.raises(ValueError, match="precision contains 1 NaN"):
        bad = np.eye(4)
        bad[0, 1] = np.nan
        compute_rdm(X, "mahalanobis", precision=bad)
    with pytest.raises(ValueError, match=r"precision has shape \(2, 4, 4\)"):
        compute_rdm(X, "mahalanobis", precision=np.stack([np.eye(4)] * 2))
    with pytest.raises(ValueError, match=r"precision has shape \(2, 4, 4\)"):
        compute_rdm(np.stack([X] * 3), "mahalanobis", precision=np.stack([np.eye(4)] * 2))


def test_skrep_rdm_namespace(reference):
    import skrep

    rdms = skrep.rdm.compute_rdm(reference["measurements"], conditions=reference["cond"])
    np.testing.assert_allclose(rdms, reference["rdm_correlation"], atol=1e-12)
    np.testing.assert_allclose(
        skrep.rdm.compare_rdms(reference["model_true_correlation"], rdms, "spearman"),
        reference["compare__true__vs__correlation__spearman"],
        atol=1e-12,
    )
    assert skrep.rdm.noise_ceiling is noise_ceiling


def test_square_and_condensed_conversions_name_bad_shapes():
    with pytest.raises(ValueError, match=r"rdms has shape \(3, 4\); expected square RDMs"):
        square_to_condensed(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="not such a number"):
        condensed_to_square(np.zeros(4))


def _whitened_by_cholesky(v):
    """Second implementation: whiten by the Cholesky factor of V = (CC') o (CC') itself."""
    n_pairs = v.shape[1]
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    rows, columns = np.triu_indices(n, 1)
    contrast = np.zeros((n_pairs, n))
    contrast[np.arange(n_pairs), rows] = 1.0
    contrast[np.arange(n_pairs), columns] = -1.0
    shared = contrast @ contrast.T
    factor = np.linalg.cholesky(shared * shared)
    return scipy.linalg.solve_triangular(factor, v.T, lower=True).T


def test_whitened_comparisons_equal_the_explicit_whitening(rng):
    for n in (4, 12, 30):
        a = np.stack([pdist(rng.standard_normal((n, 5))) for _ in range(3)])
        b = np.stack([pdist(rng.standard_normal((n, 5))) for _ in range(2)])
        for method, prepare in (("cosine_cov", lambda v: v), ("corr_cov", _centered_rows)):
            wa, wb = _whitened_by_cholesky(prepare(a)), _whitened_by_cholesky(prepare(b))
            norms = np.outer(np.linalg.norm(wa, axis=1), np.linalg.norm(wb, axis=1))
            expected = (wa @ wb.T) / norms
            np.testing.assert_allclose(compare_rdms(a, b, method), expected, atol=1e-12)


def _centered_rows(v):
    return v - v.mean(axis=1, keepdims=True)


def test_whitened_comparisons_at_a_thousand_conditions(rng):
    patterns = rng.standard_normal((1000, 20))
    model = pdist(patterns)
    data = np.stack([pdist(patterns + rng.standard_normal((1000, 20))) for _ in range(2)])
    result = compare_rdms(model, data, "corr_cov")
    assert result.shape == (1, 2) and np.all((result > 0.3) & (result < 1.0))
    # Scale invariance of a cosine: doubling an RDM changes nothing.
    np.testing.assert_allclose(compare_rdms(2 * model, data, "corr_cov"), result, atol=1e-14)
