"""LinearMetric and PermutationMetric against values computed with netrep @ 0186b8a.

See tests/data/netrep/README.md for the exact calls. Distances must agree to
1e-10. Alignment matrices are compared through products that do not depend on
the signs of singular vectors (``Wx @ Wy.T``, ``tX @ tY.T``); means directly.
"""

import numpy as np
import pytest
from conftest import load_reference

from skrep.compat import netrep as compat
from skrep.metrics import LinearMetric, PermutationMetric

TOL = 1e-10

LINEAR_FILES = [
    (alpha, method) for alpha in ("0p0", "0p5", "1p0") for method in ("angular", "euclidean")
]


def _rel_close(actual, expected, rtol=TOL):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("alpha_tag, method", LINEAR_FILES)
@pytest.mark.parametrize("key, center", [("centered", True), ("uncentered", False)])
def test_linear_metric_matches_netrep(alpha_tag, method, key, center):
    ref = load_reference("netrep", f"linear_a{alpha_tag}_{method}")
    X, Y = ref["X"], ref["Y"]
    alpha = float(ref["alpha"])
    metric = LinearMetric(alpha=alpha, center_columns=center, score_method=method).fit(X, Y)

    assert abs(metric.distance(X, Y) - ref[f"dist_{key}"]) < TOL
    assert abs(metric.score(X, Y) + ref[f"dist_{key}"]) < TOL

    _rel_close(metric.mx_, ref[f"mx_{key}"])
    _rel_close(metric.my_, ref[f"my_{key}"])
    _rel_close(metric.Wx_ @ metric.Wy_.T, ref[f"Wx_{key}"] @ ref[f"Wy_{key}"].T)
    tX, tY = metric.transform(X, Y)
    _rel_close(tX @ tY.T, ref[f"tX_{key}"] @ ref[f"tY_{key}"].T)
    _rel_close(tX @ tX.T, ref[f"tX_{key}"] @ ref[f"tX_{key}"].T)
    _rel_close(tY @ tY.T, ref[f"tY_{key}"] @ ref[f"tY_{key}"].T)

    swapped = LinearMetric(alpha=alpha, center_columns=center, score_method=method)
    assert abs(swapped.fit(Y, X).distance(Y, X) - ref[f"dist_swapped_{key}"]) < TOL


@pytest.mark.parametrize("alpha_tag, method", LINEAR_FILES)
def test_compat_linear_metric_returns_netrep_score(alpha_tag, method):
    ref = load_reference("netrep", f"linear_a{alpha_tag}_{method}")
    X, Y = ref["X"], ref["Y"]
    metric = compat.LinearMetric(float(ref["alpha"]), True, True, method)
    assert abs(metric.fit(X, Y).score(X, Y) - ref["dist_centered"]) < TOL
    assert abs(metric.fit_score(X, Y) - ref["dist_centered"]) < TOL
    # netrep's split fit: per-network partial_fit, then the per-pair step.
    split = compat.LinearMetric(float(ref["alpha"]), score_method=method)
    split.finalize_fit(split.partial_fit(X), split.partial_fit(Y))
    assert abs(split.score(X, Y) - ref["dist_centered"]) < TOL
    _rel_close(
        split.transform_X(X) @ split.transform_Y(Y).T, ref["tX_centered"] @ ref["tY_centered"].T
    )


def test_zero_padding_matches_netrep():
    ref = load_reference("netrep", "linear_zero_pad")
    X, Y = ref["X"], ref["Y"]
    assert X.shape[1] != Y.shape[1]
    for row, alpha in enumerate(ref["alphas"]):
        for col, method in enumerate(ref["score_methods"]):
            expected = ref["dist"][row, col]
            netrep_like = compat.LinearMetric(float(alpha), True, True, str(method))
            assert abs(netrep_like.fit_score(X, Y) - expected) < TOL
            metric = LinearMetric(alpha=float(alpha), zero_pad=True, score_method=str(method))
            got = metric.fit(X, Y).distance(X, Y)
            if method == "euclidean" and alpha < 1:
                # The padded columns' eigenvalues sit on the floor, which is relative
                # to the data's scale in skrep.metrics (1e-7 times the mean column
                # variance, 0.87 and 0.60 here) and netrep's absolute 1e-7 in
                # compat: the rescaling of the padded side differs by about 1e-8.
                assert got == pytest.approx(expected, rel=1e-6, abs=0)
            else:
                assert abs(got - expected) < TOL
    metric = compat.LinearMetric(alpha=0.5).fit(X, Y)
    tX, tY = metric.transform(X, Y)
    assert tX.shape == tY.shape == ref["tX_alpha0p5"].shape
    _rel_close(tX @ tY.T, ref["tX_alpha0p5"] @ ref["tY_alpha0p5"].T)
    # Wx @ Wy.T pairs the null spaces of the padded cross-product arbitrarily
    # (singular value 0, LAPACK's choice); mapped from the data it is determined.
    _rel_close(tX @ metric.Wy_.T, ref["tX_alpha0p5"] @ ref["Wy_alpha0p5"].T)
    # The main class aligns the same way: only the scale of the padded side differs
    # (aligned data are compared through products free of the singular vectors' signs).
    native_X, native_Y = LinearMetric(alpha=0.5).fit(X, Y).transform(X, Y)
    factor = np.linalg.norm(native_X) / np.linalg.norm(tX)
    assert factor == pytest.approx(1.0, abs=1e-6)
    _rel_close(native_Y @ native_Y.T, tY @ tY.T)
    _rel_close(native_X @ native_Y.T, factor * (tX @ tY.T))
    _rel_close(native_X @ native_X.T, factor**2 * (tX @ tX.T))


def test_permutation_metric_matches_netrep():
    ref = load_reference("netrep", "extras")
    X, Y = ref["perm_X"], ref["perm_Y"]
    for method in ("angular", "euclidean"):
        expected = ref[f"perm_dist_{method}"]
        assert abs(PermutationMetric(score_method=method).fit(X, Y).distance(X, Y) - expected) < TOL
        assert abs(compat.PermutationMetric(score_method=method).fit_score(X, Y) - expected) < TOL


@pytest.mark.parametrize("alpha_tag", ["0p0", "0p25", "0p5", "1p0"])
@pytest.mark.parametrize("preserve_variance", [True, False])
def test_whitening_matrix_matches_netrep(alpha_tag, preserve_variance):
    ref = load_reference("netrep", "extras")
    alpha = float(alpha_tag.replace("p", "."))
    Xw, Z = compat.whiten(ref["whiten_X"], alpha, preserve_variance=preserve_variance)
    expected = ref[f"Z_a{alpha_tag}_pv{int(preserve_variance)}"]
    _rel_close(Z, expected)
    _rel_close(Xw, ref["whiten_X"] @ expected)


def test_raw_angular_distance_matches_netrep():
    ref = load_reference("netrep", "extras")
    assert (
        abs(compat.angular_distance(ref["perm_X"], ref["perm_Y"]) - ref["angular_distance_raw"])
        < TOL
    )
