"""Dimensionality: ``skrep.functional.dimensionality`` (participation ratio, effective rank).

Reference values come from the subspace-analysis script (transcribed in
``subspace_script_reference.py`` and run as the script runs), from closed forms
(data with known covariance spectra) and from second implementations
(eigendecomposition of the covariance, scipy's entropy).
"""

import numpy as np
import pytest
import scipy.stats
import subspace_script_reference as script
from conftest import exact_latent, random_orthogonal

from skrep import effective_dimensionality, effective_rank, participation_ratio, pca_cross_variance
from skrep.exceptions import InvalidParameterError

TOL = 1e-10


# -- parity with the subspace-analysis script ------------------------------------------------------
@pytest.mark.parametrize("shape", [(300, 20), (30, 200)])
def test_participation_ratio_matches_script(rng, shape):
    X = rng.standard_normal(shape) @ np.diag(np.linspace(0.1, 3.0, shape[1])) + 2.0
    Xc = X - X.mean(axis=0)
    expected = script.participation_ratio_from_data(Xc)
    assert participation_ratio(X) == pytest.approx(expected, rel=TOL)
    covariance = np.cov(X, rowvar=False)
    assert participation_ratio(covariance, covariance=True) == pytest.approx(expected, rel=TOL)
    assert effective_dimensionality(X) == participation_ratio(X)


# -- closed forms and second implementations -------------------------------------------------------
def test_participation_ratio_closed_form(rng):
    # Centered orthonormal columns times s: covariance eigenvalues are exactly s^2 / n.
    s = np.array([3.0, 2.0, 1.0, 0.5])
    X = exact_latent(rng, 100, s) @ random_orthogonal(rng, 4) + 2.0
    expected = np.sum(s**2) ** 2 / np.sum(s**4)
    assert participation_ratio(X) == pytest.approx(expected, rel=1e-12)
    assert participation_ratio(np.outer(rng.standard_normal(50), rng.standard_normal(7))) == (
        pytest.approx(1.0, rel=1e-12)
    )
    isotropic = np.kron(np.eye(6), np.ones((2, 1))) * np.array([1, -1] * 6)[:, None]
    assert participation_ratio(isotropic) == pytest.approx(6.0, rel=1e-12)


def test_participation_ratio_invariances(rng):
    X = rng.standard_normal((80, 12)) @ rng.standard_normal((12, 12))
    reference = participation_ratio(X)
    Q = random_orthogonal(rng, 12)
    assert participation_ratio(3.0 * X @ Q + 7.0) == pytest.approx(reference, rel=1e-12)
    assert participation_ratio(X[rng.permutation(80)]) == pytest.approx(reference, rel=1e-12)


def test_participation_ratio_of_constant_data_is_zero():
    assert participation_ratio(np.ones((10, 3))) == 0.0
    assert participation_ratio(np.zeros((3, 3)), covariance=True) == 0.0


def test_effective_rank_closed_forms_and_scipy(rng):
    assert effective_rank(np.diag([2.0, 2.0, 2.0, 0.0])) == pytest.approx(3.0, rel=1e-14)
    assert effective_rank(np.outer(np.ones(5), np.arange(1.0, 4.0))) == pytest.approx(1.0)
    X = rng.standard_normal((40, 15)) + 1.0
    s = np.linalg.svd(X, compute_uv=False)
    assert effective_rank(X) == pytest.approx(np.exp(scipy.stats.entropy(s)), rel=1e-12)
    s_centered = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    assert effective_rank(X, center=True) == pytest.approx(
        np.exp(scipy.stats.entropy(s_centered)), rel=1e-12
    )
    assert effective_rank(5.0 * X @ random_orthogonal(rng, 15)) == pytest.approx(
        effective_rank(X), rel=1e-12
    )
    assert effective_rank(np.zeros((4, 3))) == 0.0


@pytest.mark.parametrize("scale", [1e9, 1e-12])
def test_participation_ratio_float32_at_extreme_scales(rng, scale):
    X = rng.standard_normal((200, 10)) @ np.diag(np.linspace(0.2, 2.0, 10))
    expected = participation_ratio(X)
    assert participation_ratio((X * scale).astype(np.float32)) == pytest.approx(expected, rel=1e-4)
    C = np.cov(X, rowvar=False) * scale
    assert participation_ratio(C.astype(np.float32), covariance=True) == pytest.approx(
        expected, rel=1e-4
    )


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, Y: participation_ratio(X, covariance=True), "square covariance"),
        (lambda X, Y: participation_ratio(X[:5] + np.triu(X[:5]), covariance=True), "symmetric"),
        (lambda X, Y: participation_ratio([["a", "b"], ["c", "d"]]), "strings"),
    ],
)
def test_bad_input_is_named(rng, call, match):
    X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 5))
    with pytest.raises(ValueError, match=match):
        call(X, Y)


def test_nan_input_is_named(rng):
    X = rng.standard_normal((20, 5))
    X[3, 2] = np.nan
    for function in (participation_ratio, effective_rank):
        with pytest.raises(ValueError, match="X contains 1 NaN"):
            function(X)
    with pytest.raises(ValueError, match="Y contains 1 NaN"):
        pca_cross_variance(rng.standard_normal((20, 5)), X)


def test_flattened_input_errors_name_the_original_shape(rng):
    X = rng.standard_normal((4, 2, 6))
    X[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"flattened from shape \(4, 2, 6\)"):
        participation_ratio(X)
    with pytest.raises(ValueError, match="last axis"):
        participation_ratio(np.zeros((2, 3, 0)))


def test_covariance_argument_checks():
    with pytest.raises(InvalidParameterError, match="'covariance'"):
        participation_ratio(np.eye(3), covariance="no")
    with pytest.raises(ValueError, match="not positive semidefinite"):
        participation_ratio(-np.eye(3), covariance=True)
