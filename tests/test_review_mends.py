"""Review findings of issue 22 that were left unmended: one power-of-two helper, one
reader of numeric input, one square-RDM check, the exception classes, PWCCA's ties,
a cheaper finiteness check and the netrep drop-in split by job."""

import math
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

import skrep
from skrep.functional import compute_rdm, noise_precision, pwcca

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


# -- 4. exceptions and warnings in skrep.exceptions ----------------------------------------------
def test_singular_covariance_error_lives_in_exceptions_and_the_old_place():
    from skrep.exceptions import SingularCovarianceError
    from skrep.functional.noise import SingularCovarianceError as old_place

    assert old_place is SingularCovarianceError
    assert issubclass(SingularCovarianceError, np.linalg.LinAlgError)
    assert issubclass(SingularCovarianceError, ValueError)
    residuals = np.random.default_rng(0).standard_normal((3, 5))  # rank 2 < 5 channels
    with pytest.raises(SingularCovarianceError, match=r"full noise covariance .* singular"):
        noise_precision(residuals, "full")


def test_rsa_warns_with_rdm_target_warning_a_user_warning():
    from skrep.exceptions import RDMTargetWarning

    assert issubclass(RDMTargetWarning, UserWarning)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 5))
    rdm = squareform(pdist(rng.standard_normal((12, 4))))  # square, symmetric, zero diagonal
    with pytest.warns(RDMTargetWarning, match="square, symmetric and zero on the diagonal"):
        skrep.RSA().fit(X, rdm)
    with pytest.warns(RDMTargetWarning, match="looks like rows of an RDM"):
        skrep.RSA().fit(X[:8], rdm[:8])
    # Filters on UserWarning still apply, and so do filters on the new class.
    for category in (UserWarning, RDMTargetWarning):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", category)
            skrep.RSA().fit(X, rdm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skrep.RSA(target="responses").fit(X, rdm)


# -- 3. skrep.rdm reads square RDMs with the family's check ------------------------------------
def _asymmetric_rdm(scale):
    rdm = squareform(pdist(np.random.default_rng(2).standard_normal((5, 3))))
    rdm[0, 1] *= 3.0  # far from symmetric, at any scale
    return rdm * scale


@pytest.mark.parametrize("scale", [1e-9, 1.0, 1e9])
def test_square_rdms_are_checked_relative_to_their_scale(scale):
    from skrep.rdm import _square_stack

    rdm = _asymmetric_rdm(scale)
    # An absolute tolerance of 1e-8 let the RDM at 1e-9 through as it was.
    with pytest.raises(ValueError, match=r"read as one square RDM.*not symmetric"):
        _square_stack(rdm)
    with pytest.raises(ValueError, match=r"rdms holds square RDMs that are not symmetric"):
        _square_stack(np.stack([rdm.T, rdm]))


def test_square_rdms_with_rounding_on_the_diagonal_are_accepted():
    from skrep.rdm import _square_stack

    rdm = squareform(pdist(np.random.default_rng(3).standard_normal((6, 4)))) * 1e12
    rdm[np.diag_indices(6)] = 1e-3  # rounding of a computation at 1e12: 1e-15 of the scale
    np.testing.assert_array_equal(_square_stack(rdm), rdm)
    np.testing.assert_array_equal(_square_stack(rdm[None]), rdm[None])


def test_to_rsatoolbox_refuses_an_asymmetric_rdm_at_a_small_scale():
    pytest.importorskip("rsatoolbox")
    from skrep.rdm import to_rsatoolbox

    with pytest.raises(ValueError, match="not symmetric"):
        to_rsatoolbox(_asymmetric_rdm(1e-9))


# -- 1. one power-of-two helper -----------------------------------------------------------------
def test_powers_of_two_above_bring_values_to_half_one():
    from skrep.functional._extreme_scales import (
        power_of_four_above,
        powers_of_two_above,
        within_band,
    )

    values = np.array([1e-310, 3e-300, 0.3, 0.5, 1.0, 7.0, 1e300, 2.0**1023])
    scales = powers_of_two_above(values)
    for value, scale in zip(values, scales, strict=True):
        assert math.frexp(scale)[0] == 0.5  # a power of two
        if value < 2.0**1023:
            assert 0.5 <= value / scale < 1.0
    assert scales[-1] == 2.0**1023  # 2**1024 is not a float: held
    np.testing.assert_array_equal(powers_of_two_above([0.0, np.inf, np.nan]), 1.0)
    np.testing.assert_array_equal(
        powers_of_two_above([1e300, 1e-300], bound=100), [2.0**100, 2.0**-100]
    )
    np.testing.assert_array_equal(within_band([2.0**-200, 2.0**200, 2.0**201], 200), [1, 1, 0])
    for value in (0.3, 1.0, 3.0, 1e-300, 1e300):
        four = power_of_four_above(value)
        assert math.log(four, 4) == pytest.approx(round(math.log(four, 4)), abs=1e-12)
        assert four / 4 <= value < four
    assert power_of_four_above(1.5e308) == 2.0**1022  # no OverflowError past 2**1023


def test_rdm_rescaling_factors_are_exact_reciprocal_powers_of_two():
    from skrep.functional._rdm_input import power_of_two_scales

    largest = np.array([0.0, 1.0, 1e-100, 1e100, 1e-300, 1e300])
    factors = power_of_two_scales(largest)
    np.testing.assert_array_equal(factors[:2], 1.0)  # within 2**+-255: used as they are
    scaled = largest[2:] * factors[2:]
    assert np.all((scaled >= 0.5) & (scaled < 1.0))
    # float32: only values within 2**+-32 of 1 are left as they are.
    largest32 = np.array([1e-20, 1e20, 1e5])
    scaled32 = largest32 * power_of_two_scales(largest32, np.float32)
    assert np.all((scaled32[:2] >= 0.5) & (scaled32[:2] < 1.0)) and scaled32[2] == 1e5


@pytest.mark.parametrize("metric", ["gaussian", "energy"])
def test_stochastic_metrics_at_the_top_of_the_float_range(metric):
    # The power of four above data beyond 2**1023 was 2**1024: an OverflowError.
    from skrep.metrics import EnergyStochasticMetric, GaussianStochasticMetric

    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((6, 5, 3)), rng.standard_normal((6, 5, 3)) + 0.5
    X, Y = X / np.abs(X).max(), Y / np.abs(Y).max()
    # (metric, degree of homogeneity, tolerance): the energy distance is the square root
    # of a mean distance, and its fit stops at netrep's absolute tol (a 1e-5 difference).
    make, degree, rel = {
        "gaussian": (lambda: GaussianStochasticMetric(alpha=1.0), 1.0, 1e-12),
        "energy": (EnergyStochasticMetric, 0.5, 1e-4),
    }[metric]
    unit = make().fit(X, Y).distance(X, Y)
    s = 2.0**1023
    assert make().fit(X * s, Y * s).distance(X * s, Y * s) / s**degree == pytest.approx(
        unit, rel=rel
    )


# -- 2. one reader of numeric input -----------------------------------------------------------
def test_real_numpy_reads_as_check_real_array_does():
    from skrep._validation import check_real_array
    from skrep.functional._rdm_input import real_numpy

    A = np.arange(12.0).reshape(3, 4)
    for form in (
        A.tolist(),
        np.asfortranarray(A),
        A.astype(np.int32),
        A.astype(np.float16),
        A.astype(bool),
    ):
        ours = real_numpy(form, "rdms", "an array")
        assert ours.dtype == np.float64
        np.testing.assert_array_equal(ours, check_real_array(form, "rdms"))
    if torch is not None:
        tensor = torch.arange(6.0, requires_grad=True)
        out = real_numpy(tensor, "rdms", "an array")
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
        np.testing.assert_array_equal(out, np.arange(6.0))
    with pytest.raises(TypeError, match=r"rdms holds complex numbers .* Pass rdms.real"):
        real_numpy(A + 1j, "rdms", "an array")


def test_negative_precision_message_names_noise_precision():
    X = np.random.default_rng(5).standard_normal((5, 4))
    with pytest.raises(
        ValueError, match=r"negative diagonal.*skrep\.functional\.noise_precision\(residuals\)"
    ):
        compute_rdm(X, "mahalanobis", precision=-np.eye(4))


# -- 6. check_finite: one dot product for finite data --------------------------------------
def test_check_finite_needs_no_elementwise_pass_for_finite_data(monkeypatch):
    import skrep._validation_finite as finite

    def elementwise(*args, **kwargs):
        raise AssertionError("finite data took the elementwise check")

    monkeypatch.setattr(finite, "get_namespace", elementwise)
    A = np.random.default_rng(6).standard_normal((500, 64))
    for array in (A, A.astype(np.float32), np.asfortranarray(A), np.empty((0, 3))):
        finite.check_finite(array, "X")
    if torch is not None:
        finite.check_finite(torch.from_numpy(A), "X")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_finite_still_finds_every_nan_and_inf(dtype):
    from skrep._validation import check_finite

    A = np.ones((40, 7), dtype=dtype)
    huge = A * np.finfo(dtype).max / 2  # squares overflow: the elementwise check decides
    check_finite(huge, "X")
    check_finite(huge[:, ::2], "X")  # not contiguous
    for bad, counts in ((np.nan, "1 NaN and 0"), (np.inf, "0 NaN and 1"), (-np.inf, "0 NaN and 1")):
        for base in (A, huge):
            B = base.copy()
            B[3, 5] = bad
            for form in (B, np.asfortranarray(B), B[::-1]):  # C, F, strided
                with pytest.raises(ValueError, match=rf"X contains {counts} infinite"):
                    check_finite(form, "X")
            if torch is not None:
                with pytest.raises(ValueError, match=rf"X contains {counts} infinite"):
                    check_finite(torch.from_numpy(B), "X")


# -- 5. PWCCA with tied canonical correlations -----------------------------------------------
def _tied_pair(n, px, py, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, px)) + 1.0  # the means matter: PWCCA adds them back
    Y = X[:, :10] @ rng.standard_normal((10, py)) + rng.standard_normal((n, py)) + 0.5
    return X, Y


@needs_torch
@pytest.mark.parametrize("shape", [(50, 30, 30), (40, 20, 25), (60, 40, 30)])
def test_pwcca_numpy_and_torch_agree_when_correlations_tie(shape):
    X, Y = _tied_pair(*shape)  # n < p_x + p_y: several canonical correlations equal 1
    expected = pwcca(X, Y)
    assert pwcca(torch.from_numpy(X), torch.from_numpy(Y)) == pytest.approx(expected, abs=1e-10)
    assert pwcca(torch.from_numpy(Y), torch.from_numpy(X)) == pytest.approx(pwcca(Y, X), abs=1e-10)


def _another_valid_svd(svd, seed):
    """An SVD that returns other valid singular vectors: random signs, and a random
    basis within each block of tied singular values."""
    rng = np.random.default_rng(seed)

    def rotated(a, *args, **kwargs):
        u, s, vt = svd(a, *args, **kwargs)
        u, vt = u.copy(), vt.copy()
        start = 0
        for stop in range(1, s.size + 1):
            if stop < s.size and s[stop - 1] - s[stop] <= 1e-12 * max(s[0], 1e-300):
                continue
            size = stop - start
            R, _ = np.linalg.qr(rng.standard_normal((size, size)))
            R = R * rng.choice([-1.0, 1.0], size)  # a sign flip alone when size is 1
            u[..., :, start:stop] = u[..., :, start:stop] @ R
            vt[..., start:stop, :] = R.T @ vt[..., start:stop, :]
            start = stop
        return u, s, vt

    return rotated


@pytest.mark.parametrize("shape", [(50, 30, 30), (40, 25, 20), (60, 40, 30)])
def test_pwcca_does_not_depend_on_the_svd_when_correlations_tie(monkeypatch, shape):
    X, Y = _tied_pair(*shape)
    expected = (pwcca(X, Y), pwcca(Y, X))
    svd = np.linalg.svd
    for seed in range(3):
        monkeypatch.setattr(np.linalg, "svd", _another_valid_svd(svd, seed))
        assert pwcca(X, Y) == pytest.approx(expected[0], abs=1e-10)
        assert pwcca(Y, X) == pytest.approx(expected[1], abs=1e-10)


def test_pwcca_is_one_when_one_side_spans_the_other():
    # Every correlation ties at 1, whatever the weights: PWCCA is 1 (closed form).
    X, _ = _tied_pair(30, 40, 10)
    Y = X[:, :12] @ np.random.default_rng(9).standard_normal((12, 8))
    assert pwcca(X, Y) == pytest.approx(1.0, abs=1e-12)
    assert pwcca(Y, X) == pytest.approx(1.0, abs=1e-12)


# -- 7. the netrep drop-in, split by job -------------------------------------------------------
def test_netrep_names_are_importable_from_the_drop_in():
    import skrep.compat.netrep as netrep
    from skrep.functional import angular_distance

    assert set(netrep.__all__) >= {
        "LinearMetric",
        "PermutationMetric",
        "GaussianStochasticMetric",
        "EnergyStochasticMetric",
        "whiten",
        "angular_distance",
    }
    assert netrep.angular_distance is angular_distance
    X = np.random.default_rng(8).standard_normal((30, 4))
    for name in ("LinearMetric", "PermutationMetric"):
        metric = getattr(netrep, name)()
        assert metric.fit(X, X).score(X, X) == pytest.approx(0.0, abs=1e-6)
