"""Weighted RDM models: fit_rdm_weights, crossvalidate_rdm_model, rdm_model_folds, WeightedRDMModel.

Reference values: rsatoolbox 0.3.2's fit_regress_nn / fit_regress / crossval /
sets_k_fold (tests/data/rsatoolbox_weights.npz, benchmarks/reference_rdm_weights.py,
described in tests/data/rsatoolbox_weights.md); closed forms with the dense RDM
covariance V; simulations with known weights.
"""

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, cross_validate

from skrep.datasets import load_kriegeskorte92
from skrep.exceptions import InvalidParameterError
from skrep.functional.rdm import condensed_to_square
from skrep.functional.rdm_compare import compare_rdms
from skrep.functional.rdm_weights import (
    crossvalidate_rdm_model,
    fit_rdm_weights,
    rdm_model_folds,
)
from skrep.metrics.data_rdms import DataRDMs
from skrep.metrics.rdm_model import WeightedRDMModel

REFERENCE = np.load(Path(__file__).parent / "data" / "rsatoolbox_weights.npz")
METHODS = ("cosine", "corr", "cosine_cov", "corr_cov")
FOLD_PARTS = ("train_subjects", "train_stimuli", "test_subjects", "test_stimuli")
WEIGHT_KEYS = sorted(
    key for key in REFERENCE.files if key.split("__")[0] in ("k92", "sim") and key.count("__") == 3
)


def _data(dataset):
    if dataset == "k92":
        data = load_kriegeskorte92(condensed=True)
        return data.model_rdms, data.brain_rdms
    return REFERENCE["sim__components"], REFERENCE["sim__subjects"]


def _folds(prefix):
    n = int(REFERENCE[f"{prefix}__n_folds"])
    return [tuple(REFERENCE[f"{prefix}__fold{i}__{part}"] for part in FOLD_PARTS) for i in range(n)]


def _square(vectors):
    return np.stack([condensed_to_square(v) for v in vectors])


def _contrast_cov(n):
    """The dense covariance V = (C C') o (C C') of distance estimates under i.i.d. noise."""
    rows, columns = np.triu_indices(n, 1)
    contrasts = np.zeros((rows.size, n))
    contrasts[np.arange(rows.size), rows] = 1.0
    contrasts[np.arange(rows.size), columns] = -1.0
    xi = contrasts @ contrasts.T
    return xi * xi


def _simulation(n=10, n_components=3, seed=0):
    rng = np.random.default_rng(seed)
    m = n * (n - 1) // 2
    return rng.random((n_components, m)) + 0.1, rng


# --- rsatoolbox's weights -----------------------------------------------------------------


def test_reference_has_active_constraints():
    # The references exercise the constraint: rsatoolbox's unconstrained fit has a
    # negative weight where its non-negative one is 0.
    assert np.any(REFERENCE["sim__ls__corr__raw"] < 0)
    assert np.any(REFERENCE["sim__nn__corr__raw"] == 0)
    assert np.any(REFERENCE["k92__ls__cosine__raw"] < 0)


@pytest.mark.parametrize("key", WEIGHT_KEYS)
def test_weights_equal_rsatoolbox(key):
    dataset, fitter, method, tag = key.split("__")
    components, rdms = _data(dataset)
    options = {"nonnegative": fitter == "nn", "normalize": tag == "norm"}
    if tag == "ridge":
        options["ridge_weight"] = 0.5
    if tag == "stimuli":
        options["stimuli"] = REFERENCE["sim__stimuli"]
    if tag == "one":
        rdms = rdms[:1]
    weights = fit_rdm_weights(components, rdms, method, **options)
    expected = REFERENCE[key]
    np.testing.assert_allclose(weights, expected, rtol=1e-9, atol=1e-11 * np.abs(expected).max())


@pytest.mark.parametrize("prefix", ["cv_sim", "cv_92"])
def test_crossvalidation_equals_rsatoolbox(prefix):
    components, rdms = _data("sim" if prefix == "cv_sim" else "k92")
    folds = _folds(prefix)
    keys = [k for k in REFERENCE.files if k.startswith(prefix) and k.count("__") == 2]
    keys = [k for k in keys if k.split("__")[1] in ("nn", "ls")]
    assert keys
    for key in keys:
        _, fitter, method = key.split("__")
        scores = crossvalidate_rdm_model(components, rdms, folds, method, fitter == "nn")
        np.testing.assert_allclose(scores, REFERENCE[key], rtol=0, atol=1e-12)


@pytest.mark.parametrize("layout", ["6_12_2_3", "7_13_3_4", "5_9_1_2"])
def test_folds_equal_rsatoolbox_sets_k_fold(layout):
    n_subjects, n_stimuli, k_subjects, k_stimuli = map(int, layout.split("_"))
    folds = rdm_model_folds(n_subjects, n_stimuli, k_subjects, k_stimuli, shuffle=False)
    expected = _folds(f"layout_{layout}")
    assert len(folds) == len(expected)
    for fold, reference in zip(folds, expected, strict=True):
        for got, want in zip(fold, reference, strict=True):
            np.testing.assert_array_equal(got, np.sort(want))


# --- closed forms and simulations ---------------------------------------------------------


@pytest.mark.parametrize("method", ["cosine_cov", "corr_cov"])
def test_cov_methods_equal_dense_generalised_least_squares(method):
    components, rng = _simulation(n=8)
    rdms = components.T @ [1.0, 0.5, 0.2] + 0.5 * rng.random((4, components.shape[1]))
    v_inv = np.linalg.inv(_contrast_cov(8))
    a, d = components, rdms
    if method == "corr_cov":
        a = a - a.mean(axis=1, keepdims=True)
        d = d - d.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,jk,ik->i", d, v_inv, d))
    y = (d / norms[:, None]).mean(axis=0)
    expected = np.linalg.solve(a @ v_inv @ a.T, a @ v_inv @ y)
    got = fit_rdm_weights(components, rdms, method, nonnegative=False, normalize=False)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_ridge_equals_normal_equations():
    components, rng = _simulation()
    rdms = components.T @ [1.0, 0.5, 0.2] + rng.random((3, components.shape[1]))
    m = components.shape[1]
    y = (rdms / np.linalg.norm(rdms, axis=1, keepdims=True)).mean(axis=0) * np.sqrt(m)
    for ridge in (0.0, 0.3, 30.0):
        expected = np.linalg.solve(components @ components.T + ridge * np.eye(3), components @ y)
        got = fit_rdm_weights(
            components, rdms, nonnegative=False, normalize=False, ridge_weight=ridge
        )
        np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_known_nonnegative_weights_are_recovered(method):
    components, rng = _simulation(n=12, n_components=4)
    truth = np.array([2.0, 0.0, 1.0, 0.5])
    # Subjects differ by a positive factor (and an offset, which corr ignores).
    factors = np.array([0.5, 1.0, 3.0])[:, None]
    offsets = np.array([0.0, 0.2, 1.0])[:, None] if method in ("corr", "corr_cov") else 0.0
    rdms = factors * (truth @ components) + offsets
    for nonnegative in (True, False):
        weights = fit_rdm_weights(components, rdms, method, nonnegative=nonnegative)
        np.testing.assert_allclose(weights, truth / np.linalg.norm(truth), atol=1e-12)
    # The unnormalised weights are in the units of the pooled RDM: for cosine, the
    # mean of the RDMs divided by their root mean square.
    if method == "cosine":
        model = truth @ components
        scale = np.sqrt(model.size) / np.linalg.norm(model)
        raw = fit_rdm_weights(components, rdms, method, normalize=False)
        np.testing.assert_allclose(raw, truth * scale, rtol=1e-12, atol=1e-14)


def test_noisy_simulation_recovers_the_weights():
    components, rng = _simulation(n=20, n_components=3)
    truth = np.array([1.0, 0.0, 0.6])
    rdms = truth @ components + 0.3 * rng.standard_normal((30, components.shape[1]))
    weights = fit_rdm_weights(components, rdms, "corr")
    assert np.all(weights >= 0)
    assert weights @ truth / np.linalg.norm(truth) > 0.995


@pytest.mark.parametrize("method", METHODS)
def test_normalised_weights_are_the_raw_ones_at_unit_norm(method):
    components, rng = _simulation()
    rdms = components.T @ [1.0, 0.3, 0.0] + rng.random((5, components.shape[1]))
    raw = fit_rdm_weights(components, rdms, method, normalize=False)
    unit = fit_rdm_weights(components, rdms, method)
    np.testing.assert_allclose(unit, raw / np.linalg.norm(raw), rtol=1e-13)
    assert np.linalg.norm(unit) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_stimuli_select_the_sub_rdms(method):
    components, rng = _simulation(n=10)
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((4, components.shape[1]))
    index = np.array([7, 1, 4, 0, 9, 5])
    sub = np.ix_(np.arange(3), index, index)
    expected = fit_rdm_weights(
        _square(components)[sub],
        _square(rdms)[np.ix_(np.arange(4), index, index)],
        method,
        normalize=False,
    )
    got = fit_rdm_weights(components, rdms, method, normalize=False, stimuli=index)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # Order does not matter, a mask is the same selection, negative indices count from the end.
    mask = np.zeros(10, bool)
    mask[index] = True
    for stimuli in (np.sort(index), mask, index - 10):
        np.testing.assert_allclose(
            fit_rdm_weights(components, rdms, method, normalize=False, stimuli=stimuli),
            expected,
            rtol=1e-12,
        )


def test_square_and_condensed_inputs_agree():
    components, rng = _simulation()
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((4, components.shape[1]))
    for method in METHODS:
        np.testing.assert_allclose(
            fit_rdm_weights(_square(components), _square(rdms), method),
            fit_rdm_weights(components, rdms, method),
            rtol=1e-13,
        )
    # One condensed RDM is one component / one subject.
    one = fit_rdm_weights(components[0], rdms[0], normalize=False)
    assert one.shape == (1,)


@pytest.mark.parametrize("scale", [2.0**-1000, 1e-300, 1e300])
def test_extreme_scales(scale):
    components, rng = _simulation()
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((4, components.shape[1]))
    for method in METHODS:
        np.testing.assert_allclose(
            fit_rdm_weights(components * scale, rdms * scale, method),
            fit_rdm_weights(components, rdms, method),
            rtol=1e-12,
        )
    raw = fit_rdm_weights(components * scale, rdms, normalize=False)
    np.testing.assert_allclose(
        raw * scale, fit_rdm_weights(components, rdms, normalize=False), rtol=1e-12
    )


def test_all_zero_weights_warn():
    components, rng = _simulation()
    rdms = 5.0 - components.T @ [1.0, 1.0, 1.0] + 0.01 * rng.random((3, components.shape[1]))
    with pytest.warns(UserWarning, match="Every fitted weight is 0"):
        weights = fit_rdm_weights(components, rdms, "corr")
    np.testing.assert_array_equal(weights, 0.0)
    assert np.all(fit_rdm_weights(components, rdms, "corr", nonnegative=False) < 0)


def test_torch_input():
    torch = pytest.importorskip("torch")
    components, rng = _simulation()
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((4, components.shape[1]))
    np.testing.assert_allclose(
        fit_rdm_weights(torch.from_numpy(components), torch.from_numpy(rdms), "corr_cov"),
        fit_rdm_weights(components, rdms, "corr_cov"),
        rtol=1e-13,
    )


# --- cross-validation -----------------------------------------------------------------------


def test_crossvalidation_is_fit_then_compare():
    components, rng = _simulation(n=12)
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((6, components.shape[1]))
    folds = rdm_model_folds(6, 12, 2, 3, random_state=0)
    scores, weights = crossvalidate_rdm_model(components, rdms, folds, "corr", return_weights=True)
    square_c, square_r = _square(components), _square(rdms)
    for i, (tr_subj, tr_stim, te_subj, te_stim) in enumerate(folds):
        expected_w = fit_rdm_weights(
            square_c[:, tr_stim][:, :, tr_stim],
            square_r[tr_subj][:, tr_stim][:, :, tr_stim],
            "corr",
        )
        np.testing.assert_allclose(weights[i], expected_w, rtol=1e-12)
        model = np.tensordot(expected_w, square_c[:, te_stim][:, :, te_stim], axes=1)
        expected = compare_rdms(
            model[None], square_r[te_subj][:, te_stim][:, :, te_stim], "corr"
        ).mean()
        assert scores[i] == pytest.approx(expected, abs=1e-13)


def test_folds_partition_subjects_and_stimuli():
    folds = rdm_model_folds(7, 14, 3, 4, random_state=3)
    assert len(folds) == 12
    again = rdm_model_folds(7, 14, 3, 4, random_state=3)
    assert all(
        np.array_equal(a, b)
        for f, g in zip(folds, again, strict=True)
        for a, b in zip(f, g, strict=True)
    )
    other = rdm_model_folds(7, 14, 3, 4, random_state=4)
    assert not all(
        np.array_equal(a, b)
        for f, g in zip(folds, other, strict=True)
        for a, b in zip(f, g, strict=True)
    )
    test_subjects = np.concatenate([f[2] for f in folds[::4]])
    np.testing.assert_array_equal(np.sort(test_subjects), np.arange(7))
    for group in range(3):
        block = folds[4 * group : 4 * group + 4]
        np.testing.assert_array_equal(np.sort(np.concatenate([f[3] for f in block])), np.arange(14))
        for train_subjects, train_stimuli, test_subjects, test_stimuli in block:
            assert not set(train_subjects) & set(test_subjects)
            assert set(train_stimuli) | set(test_stimuli) == set(range(14))
            assert not set(train_stimuli) & set(test_stimuli)
    # Defaults as rsatoolbox's: 2 folds of subjects below 6, 5 folds of stimuli from 40.
    assert len(rdm_model_folds(4, 40, random_state=0)) == 10


def test_none_in_a_fold_means_all():
    components, rng = _simulation(n=9)
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((4, components.shape[1]))
    all_in = crossvalidate_rdm_model(components, rdms, [(None, None, None, None)])
    explicit = crossvalidate_rdm_model(components, rdms, [(range(4), range(9)) * 2])
    weights = fit_rdm_weights(components, rdms)
    expected = compare_rdms(weights @ components, rdms, "cosine").mean()
    np.testing.assert_allclose(all_in, [expected], rtol=1e-13)
    np.testing.assert_allclose(explicit, all_in, rtol=1e-13)


# --- the estimator --------------------------------------------------------------------------


def test_estimator_fit_predict_score():
    components, rng = _simulation(n=12)
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((6, components.shape[1]))
    model = WeightedRDMModel("corr_cov").fit(components, rdms[:4])
    np.testing.assert_allclose(model.weights_, fit_rdm_weights(components, rdms[:4], "corr_cov"))
    np.testing.assert_allclose(model.predict(), model.weights_ @ components)
    expected = compare_rdms(model.weights_ @ components, rdms[4:], "corr_cov").mean()
    assert model.score(components, rdms[4:]) == pytest.approx(expected, abs=1e-14)
    assert model.score(None, _square(rdms[4:])) == pytest.approx(expected, abs=1e-14)
    # held-out stimuli: the fold of crossvalidate_rdm_model
    train, test = np.arange(0, 12, 2), np.arange(1, 12, 2)
    model = WeightedRDMModel("corr_cov").fit(components, rdms[:4], stimuli=train)
    fold = [(np.arange(4), train, np.arange(4, 6), test)]
    assert model.score(components, rdms[4:], stimuli=test) == pytest.approx(
        crossvalidate_rdm_model(components, rdms, fold, "corr_cov")[0], abs=1e-14
    )
    assert model.n_components_ == 3 and model.n_stimuli_ == 12
    assert model.predict(stimuli=test).shape == (15,)


def test_estimator_with_sklearn_cross_validate_over_stimuli():
    components, rng = _simulation(n=12)
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((5, components.shape[1]))
    splitter = KFold(3, shuffle=True, random_state=0)
    result = cross_validate(
        WeightedRDMModel("corr"),
        DataRDMs(_square(components)),
        DataRDMs(_square(rdms)),
        cv=splitter,
    )
    folds = [(None, train, None, test) for train, test in splitter.split(np.arange(12))]
    expected = crossvalidate_rdm_model(components, rdms, folds, "corr")
    np.testing.assert_allclose(result["test_score"], expected, rtol=1e-12)


def test_estimator_clone_and_params():
    model = WeightedRDMModel("corr", nonnegative=False, normalize=False, ridge_weight=0.1)
    copy = clone(model)
    assert copy.get_params() == {
        "method": "corr",
        "nonnegative": False,
        "normalize": False,
        "ridge_weight": 0.1,
    }
    copy.set_params(method="cosine_cov")
    assert copy.method == "cosine_cov" and model.method == "corr"
    assert not hasattr(copy, "weights_")


def test_estimator_errors():
    components, rng = _simulation()
    rdms = components.T @ [1.0, 0.5, 0.1] + rng.random((3, components.shape[1]))
    with pytest.raises(NotFittedError):
        WeightedRDMModel().predict()
    with pytest.raises(InvalidParameterError, match="'method' parameter of WeightedRDMModel"):
        WeightedRDMModel("spearman").fit(components, rdms)
    with pytest.raises(InvalidParameterError, match="'normalize' parameter of WeightedRDMModel"):
        WeightedRDMModel(normalize="yes").fit(components, rdms)
    model = WeightedRDMModel().fit(components, rdms)
    with pytest.raises(ValueError, match="components holds 2 component RDMs.*fitted with 3"):
        model.predict(components[:2])
    with pytest.raises(ValueError, match="rdms are RDMs of 9 stimuli but the components of 10"):
        model.score(components, rdms[:, :36])


# --- errors -----------------------------------------------------------------------------------


def _inputs():
    components, rng = _simulation()
    return components, components.T @ [1.0, 0.5, 0.1] + rng.random((3, components.shape[1]))


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"components": np.ones((3, 44))}, ValueError, "components has shape \\(3, 44\\)"),
        ({"components": np.ones((2, 3, 4, 5))}, ValueError, "components must hold"),
        (
            {"rdms": np.ones((3, 36))},
            ValueError,
            "components are RDMs of 10 stimuli.*rdms are RDMs of 9 stimuli",
        ),
        ({"method": "spearman"}, InvalidParameterError, "'method' parameter of fit_rdm_weights"),
        ({"method": "euclid"}, InvalidParameterError, "'method' parameter"),
        ({"nonnegative": "yes"}, InvalidParameterError, "'nonnegative' parameter"),
        ({"normalize": None}, InvalidParameterError, "'normalize' parameter"),
        ({"ridge_weight": -1.0}, InvalidParameterError, "'ridge_weight' parameter"),
        ({"ridge_weight": np.nan}, InvalidParameterError, "'ridge_weight' parameter"),
        ({"stimuli": [0, 1, 1, 2]}, ValueError, "stimuli selects item 1 .* more than once"),
        ({"stimuli": [0, 1]}, ValueError, "stimuli selects 2 of the stimuli"),
        ({"stimuli": [0, 1, 10]}, ValueError, "stimuli holds the index 10, outside the 10"),
        ({"stimuli": [0.0, 1.0, 2.0]}, TypeError, "stimuli has dtype float64"),
        ({"stimuli": np.ones(9, bool)}, ValueError, "stimuli is a boolean mask of shape \\(9,\\)"),
    ],
)
def test_named_errors(change, error, match):
    components, rdms = _inputs()
    arguments = {"components": components, "rdms": rdms, "method": "cosine"}
    arguments.update(change)
    with pytest.raises(error, match=match):
        fit_rdm_weights(**arguments)


def test_degenerate_inputs_are_refused():
    components, rdms = _inputs()
    with pytest.raises(ValueError, match="rdms contains 3 NaN"):
        fit_rdm_weights(components, np.where(np.arange(45) == 3, np.nan, rdms))
    with pytest.raises(ValueError, match="RDM 1 of rdms is constant .*'corr'"):
        fit_rdm_weights(components, np.stack([rdms[0], np.ones(45)]), "corr")
    with pytest.raises(ValueError, match="RDM 0 of rdms is all zero"):
        fit_rdm_weights(components, np.zeros(45), "cosine_cov")
    with pytest.raises(ValueError, match="Component 2 of components is constant"):
        fit_rdm_weights(np.vstack([components[:2], np.ones(45)]), rdms, "corr_cov")
    dependent = np.vstack([components, components[0] + 2.0 * components[1]])
    with pytest.raises(ValueError, match="linearly dependent \\(rank 3\\)"):
        fit_rdm_weights(dependent, rdms, nonnegative=False)
    # With a ridge penalty the weights are determined.
    assert np.all(np.isfinite(fit_rdm_weights(dependent, rdms, ridge_weight=1.0)))


def test_fold_errors():
    components, rdms = _inputs()
    with pytest.raises(ValueError, match="folds must be a non-empty sequence"):
        crossvalidate_rdm_model(components, rdms, [])
    with pytest.raises(ValueError, match="folds\\[0\\] is list"):
        crossvalidate_rdm_model(components, rdms, [[np.arange(3)]])
    with pytest.raises(ValueError, match="folds\\[1\\] test_stimuli selects 2"):
        crossvalidate_rdm_model(components, rdms, [(None,) * 4, (None, None, None, [0, 1])])
    with pytest.raises(ValueError, match="folds\\[0\\] train_subjects holds the index 3"):
        crossvalidate_rdm_model(components, rdms, [([3], None, None, None)])
    with pytest.raises(ValueError, match="k_stimuli=4 splits 10 stimuli"):
        rdm_model_folds(3, 10, 1, 4)
    with pytest.raises(ValueError, match="k_subjects=4 exceeds the 3 subjects"):
        rdm_model_folds(3, 10, 4, 2)
    with pytest.raises(InvalidParameterError, match="'k_stimuli' parameter of rdm_model_folds"):
        rdm_model_folds(3, 10, 1, 0)
