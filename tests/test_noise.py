"""Noise covariance and precision estimates (rsatoolbox's estimators).

Checked against rsatoolbox's stored precision (``precision_shrinkdiag`` in the
shared reference data), numpy's sample covariance and variances, and
scikit-learn's Ledoit-Wolf estimator.
"""

import numpy as np
import pytest
from conftest import load_reference
from sklearn.covariance import LedoitWolf

from skrep.exceptions import InvalidParameterError
from skrep.functional import compute_rdm
from skrep.rdm import noise_covariance, noise_precision


@pytest.fixture(scope="module")
def rsatoolbox_reference():
    return load_reference("rsatoolbox", "rsatoolbox_reference")


@pytest.fixture
def residuals(rng):
    return rng.standard_normal((30, 12)) @ rng.standard_normal((12, 12)) + 3.0


def condition_residuals(measurements, conditions):
    labels, index = np.unique(conditions, return_inverse=True)
    means = np.stack([measurements[conditions == label].mean(axis=0) for label in labels])
    return measurements - means[index], labels.size


def test_shrinkage_diag_matches_rsatoolbox_precision(rsatoolbox_reference):
    # rsatoolbox's prec_from_measurements(ds, "cond", method="shrinkage_diag"):
    # condition-mean residuals with dof = (n_conditions - 1) * n_repeats.
    measurements, conditions = rsatoolbox_reference["measurements"], rsatoolbox_reference["cond"]
    expected = rsatoolbox_reference["precision_shrinkdiag"]
    stacked, dofs = [], []
    for subject, X in enumerate(measurements):
        R, n_conditions = condition_residuals(X, conditions)
        dof = (n_conditions - 1) * (X.shape[0] // n_conditions)
        precision = noise_precision(R, "shrinkage_diag", dof=dof)
        np.testing.assert_allclose(precision, expected[subject], rtol=1e-10, atol=1e-12)
        stacked.append(R)
        dofs.append(dof)
    np.testing.assert_allclose(noise_precision(stacked, dof=dofs), expected, rtol=1e-10)


def test_shrinkage_diag_precision_gives_rsatoolbox_mahalanobis_rdms(rsatoolbox_reference):
    measurements, conditions = rsatoolbox_reference["measurements"], rsatoolbox_reference["cond"]
    residuals = [condition_residuals(X, conditions)[0] for X in measurements]
    n_conditions = np.unique(conditions).size
    dof = (n_conditions - 1) * (conditions.size // n_conditions)  # rsatoolbox's, as above
    precision = noise_precision(residuals, dof=[dof] * len(residuals))
    rdms = compute_rdm(measurements, "mahalanobis", conditions=conditions, precision=precision)
    expected = rsatoolbox_reference["rdm_mahalanobis_shrinkdiag"]
    np.testing.assert_allclose(rdms, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("dof", [None, 20])
def test_full_and_diag_are_the_sample_covariance_and_variances(residuals, dof):
    n = residuals.shape[0]
    scale = (n - 1) / (dof or n - 1)
    full = np.cov(residuals, rowvar=False) * scale
    np.testing.assert_allclose(noise_covariance(residuals, "full", dof), full, rtol=1e-12)
    np.testing.assert_allclose(
        noise_covariance(residuals, "diag", dof), np.diag(np.diag(full)), rtol=1e-12
    )
    np.testing.assert_allclose(
        noise_precision(residuals, "full", dof), np.linalg.inv(full), rtol=1e-9
    )


@pytest.mark.parametrize("shape", [(30, 12), (8, 40)])  # fewer residuals than channels too
def test_shrinkage_eye_is_ledoit_wolf_rescaled_to_dof(rng, shape):
    R = rng.standard_normal(shape) * rng.uniform(0.5, 3.0, shape[1])
    centered = R - R.mean(axis=0)
    ledoit_wolf = LedoitWolf(assume_centered=True).fit(centered).covariance_
    expected = ledoit_wolf * shape[0] / (shape[0] - 1)
    np.testing.assert_allclose(noise_covariance(R, "shrinkage_eye"), expected, rtol=1e-10)


def test_shrinkage_diag_keeps_variances_and_shrinks_correlations(rng):
    R = rng.standard_normal((10, 40))  # more channels than residuals: singular sample covariance
    sample = np.cov(R, rowvar=False)
    shrunk = noise_covariance(R, "shrinkage_diag")
    np.testing.assert_allclose(np.diag(shrunk), np.diag(sample), rtol=1e-12)
    off = ~np.eye(40, dtype=bool)
    ratios = shrunk[off] / sample[off]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-10)  # one common factor 1 - lambda
    assert 0 < ratios[0] < 1  # shrunk, but the correlations are not all dropped
    assert np.linalg.eigvalsh(shrunk).min() > 0  # invertible where the sample one is not
    precision = noise_precision(R, "shrinkage_diag")
    np.testing.assert_allclose(precision @ shrunk, np.eye(40), atol=1e-8)


def test_estimates_do_not_depend_on_the_residuals_mean_or_order(residuals, rng):
    shifted = residuals[rng.permutation(residuals.shape[0])] + 10.0
    for method in ("shrinkage_diag", "shrinkage_eye", "diag", "full"):
        np.testing.assert_allclose(
            noise_covariance(shifted, method), noise_covariance(residuals, method), rtol=1e-9
        )


def test_nested_lists_are_one_data_set_and_lists_of_arrays_several(residuals):
    as_lists = residuals.tolist()
    np.testing.assert_allclose(noise_covariance(as_lists), noise_covariance(residuals))
    both = noise_covariance([residuals, as_lists], dof=[10, None])
    np.testing.assert_allclose(both[0], noise_covariance(residuals, dof=10))
    np.testing.assert_allclose(both[1], noise_covariance(residuals))


def test_bad_input_is_named(residuals):
    with pytest.raises(InvalidParameterError, match="method"):
        noise_covariance(residuals, "ledoit")
    with pytest.raises(ValueError, match=r"residuals has shape \(2, 3, 4\)"):
        noise_covariance(np.zeros((2, 3, 4)))
    with pytest.raises(
        ValueError, match=r"residuals has 1 residual\(s\) \(rows\); expected at least 2"
    ):
        noise_covariance(residuals[:1])
    bad = residuals.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="residuals.*(NaN|nan|finite)"):
        noise_covariance(bad)
    with pytest.raises(InvalidParameterError, match="dof"):
        noise_covariance(residuals, dof=0)
    with pytest.raises(ValueError, match="dof has 1 entries for 2 data sets"):
        noise_covariance([residuals, residuals], dof=[5])
    constant = residuals.copy()
    constant[:, 2] = 0.1  # centering leaves rounding, not an exact zero
    for method in ("shrinkage_diag", "diag", "full"):
        with pytest.raises(ValueError, match="no variance in channel 2"):
            noise_covariance(constant, method)
    assert np.all(np.isfinite(noise_precision(constant, "shrinkage_eye")))
    with pytest.raises(np.linalg.LinAlgError, match="full noise covariance of residuals"):
        noise_precision(residuals[:5], "full")
    square = residuals[:12]  # 12 residuals, 12 channels: rank 11 after centering
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        noise_precision(square, "full")
    with pytest.raises(np.linalg.LinAlgError, match="data set 1"):
        noise_precision([residuals, residuals[:5]], "full")
    with pytest.raises(ValueError, match=r"data sets with \[12, 5\] channels"):
        noise_covariance([residuals, residuals[:, :5]])
    with pytest.raises(InvalidParameterError, match=r"dof\[1\] must be a positive number"):
        noise_covariance([residuals, residuals], dof=[5, -1])
    with pytest.raises(ValueError, match="empty list"):
        noise_covariance([], dof=[5])
    with pytest.raises(TypeError, match="numeric"):
        noise_covariance([["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match="complex"):
        noise_covariance(residuals.astype(complex))
