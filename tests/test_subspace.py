"""Subspaces: ``skrep.functional.subspace`` (principal angles, cross-variance) and SubspaceOverlap.

Reference values come from the subspace-analysis script (transcribed in
``subspace_script_reference.py`` and run as the script runs, with
scikit-learn's randomized PCA), from closed forms (subspaces at known angles)
and from second implementations (eigendecomposition of the covariance,
scikit-learn's PCA).
"""

import pickle

import numpy as np
import pytest
import sklearn
import subspace_script_reference as script
from conftest import exact_latent
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GroupKFold, KFold, cross_validate

from skrep import (
    SubspaceOverlap,
    effective_rank,
    group_averaged_cross_variance,
    participation_ratio,
    pca_cross_variance,
    principal_angles,
)
from skrep.exceptions import InvalidParameterError
from skrep.functional import principal_components

torch = pytest.importorskip("torch")

TOL = 1e-10
SCRIPT_KEYS = (
    "evr_X",
    "cev_X",
    "evr_Y_self",
    "cev_Y_self",
    "evr_Y",
    "cev_Y",
    "PR_X",
    "PR_Y",
    "PR_Y_in_Xbasis",
)


def _low_rank(rng, n, basis, scales, noise=1e-3):
    """Data whose top principal axes are the rows of ``basis``, with a large spectral gap."""
    latent = rng.standard_normal((n, basis.shape[0])) * scales
    return latent @ basis + noise * rng.standard_normal((n, basis.shape[1]))


def _assert_matches_script(result, reference, keys=SCRIPT_KEYS):
    for key in keys:
        np.testing.assert_allclose(result[key], reference[key], rtol=0, atol=TOL, err_msg=key)


# -- parity with the subspace-analysis script ------------------------------------------------------
@pytest.mark.parametrize("shape_x, shape_y", [((200, 20), (150, 20)), ((40, 60), (70, 60))])
def test_cross_variance_matches_script_with_all_components(rng, shape_x, shape_y):
    # With every component kept, the script's randomized PCA is exact to rounding.
    X = rng.standard_normal(shape_x) @ rng.standard_normal((shape_x[1],) * 2)
    Y = rng.standard_normal(shape_y) + 3.0
    result = pca_cross_variance(X, Y)
    reference = script.pca_cross_variance(X, Y)
    keys = SCRIPT_KEYS
    if shape_x[0] <= shape_x[1]:
        # The last component of centered X lies outside its span (rank n - 1): any
        # unit direction orthogonal to the data is a valid choice, so the share of
        # Y's variance along it differs between implementations (documented).
        np.testing.assert_allclose(result.cev_Y[:-1], reference["cev_Y"][:-1], atol=TOL)
        keys = tuple(k for k in SCRIPT_KEYS if k not in ("evr_Y", "cev_Y", "PR_Y_in_Xbasis"))
    _assert_matches_script(result, reference, keys)


def test_cross_variance_matches_script_with_few_components(rng):
    basis_x = np.linalg.qr(rng.standard_normal((30, 30)))[0][:, :5].T
    basis_y = np.linalg.qr(basis_x.T + 0.5 * rng.standard_normal((30, 5)))[0].T
    scales = np.array([50.0, 40.0, 30.0, 20.0, 10.0])
    X = _low_rank(rng, 300, basis_x, scales)
    Y = _low_rank(rng, 250, basis_y, scales) + 5.0
    for k in (1, 3, 5):
        _assert_matches_script(pca_cross_variance(X, Y, k), script.pca_cross_variance(X, Y, k))
        np.testing.assert_allclose(
            principal_angles(X, Y, k), script.principal_angles(X, Y, k), atol=TOL
        )


def test_three_dimensional_input_is_flattened_like_the_script(rng):
    X = rng.standard_normal((12, 15, 8))  # trials, time, units
    Y = rng.standard_normal((9, 15, 8)) @ rng.standard_normal((8, 8))
    _assert_matches_script(pca_cross_variance(X, Y), script.pca_cross_variance(X, Y))
    np.testing.assert_allclose(participation_ratio(X), participation_ratio(X.reshape(-1, 8)))


def test_center_on_does_not_change_the_results(rng):
    X, Y = rng.standard_normal((50, 6)), rng.standard_normal((40, 6)) + 10.0
    on_x, on_y = pca_cross_variance(X, Y, center_on="X"), pca_cross_variance(X, Y, center_on="Y")
    _assert_matches_script(on_x, on_y)
    _assert_matches_script(on_y, script.pca_cross_variance(X, Y, center_on="Y"))


def test_group_averaged_cross_variance_matches_script(rng):
    n_units = 10
    X = rng.standard_normal((48, 6, n_units))
    Y = rng.standard_normal((40, 6, n_units)) @ rng.standard_normal((n_units, n_units))
    directions_x = rng.integers(0, 8, size=48)
    directions_y = rng.integers(0, 8, size=40)
    directions_y[directions_y == 3] = 4  # one direction missing on Y's side
    result = group_averaged_cross_variance(X, Y, (directions_x, directions_y), n_units)
    reference = script.direction_averaged_cve(X, Y, directions_x, directions_y, n_units)
    np.testing.assert_allclose(result.cev_Y_mean, reference["cev_Y_mean"], atol=TOL)
    np.testing.assert_allclose(result.cev_Y_self_mean, reference["cev_Y_self_mean"], atol=TOL)
    assert result.n_groups_used == result.n_dirs_used == reference["n_dirs_used"] == 7
    assert 3 not in result.groups_used


def test_group_averaged_cross_variance_with_shared_labels(rng):
    # One label array for both sides: the same as passing it twice.
    X, Y = rng.standard_normal((60, 5)), rng.standard_normal((60, 5))
    labels = np.repeat(["a", "b", "c"], 20)
    shared = group_averaged_cross_variance(X, Y, labels, 3)
    paired = group_averaged_cross_variance(X, Y, (labels, labels), 3)
    np.testing.assert_array_equal(shared.cev_Y_mean, paired.cev_Y_mean)
    manual = np.mean(
        [pca_cross_variance(X[labels == g], Y[labels == g], 3).cev_Y for g in "abc"], axis=0
    )
    np.testing.assert_allclose(shared.cev_Y_mean, manual, atol=1e-14)


# -- closed forms and second implementations -------------------------------------------------------
def test_principal_angles_at_known_angles(rng):
    theta = 0.3
    e = np.eye(5)
    basis_x = np.stack([e[0], e[1]])
    basis_y = np.stack([e[1], np.cos(theta) * e[0] + np.sin(theta) * e[2]])
    X = exact_latent(rng, 60, [3.0, 1.0]) @ basis_x
    Y = exact_latent(rng, 50, [2.0, 1.0]) @ basis_y
    np.testing.assert_allclose(principal_angles(X, Y, 2), [0.0, theta], atol=1e-12)
    # The first component of each: e0 against e1 is orthogonal.
    np.testing.assert_allclose(principal_angles(X, Y, 1), [np.pi / 2], atol=1e-12)


def test_cross_variance_against_covariance_eigenvectors(rng):
    # Independent route: eigenvectors of X's covariance, variances of Y along them.
    X = rng.standard_normal((120, 8)) @ np.diag([5, 4, 3, 2, 1, 0.5, 0.3, 0.1])
    Y = rng.standard_normal((90, 8)) @ rng.standard_normal((8, 8))
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(X, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    axes = eigenvectors[:, order[:3]]
    share = np.var(Y @ axes, axis=0) / np.var(Y, axis=0).sum()
    result = pca_cross_variance(X, Y, 3)
    np.testing.assert_allclose(result.evr_Y, share, atol=1e-12)
    np.testing.assert_allclose(result.evr_X, eigenvalues[order[:3]] / eigenvalues.sum(), atol=1e-12)
    # Y inside X's top subspace: everything captured; orthogonal to it: nothing.
    inside = rng.standard_normal((40, 3)) @ axes.T
    outside = rng.standard_normal((40, 5)) @ eigenvectors[:, order[3:]].T
    assert pca_cross_variance(X, inside, 3).cev_Y[-1] == pytest.approx(1.0, abs=1e-12)
    assert pca_cross_variance(X, outside, 3).cev_Y[-1] == pytest.approx(0.0, abs=1e-12)


def test_principal_components_float_n_components_like_sklearn(rng):
    X = rng.standard_normal((100, 10)) @ rng.standard_normal((10, 10))
    ours = principal_components(X, 0.9)
    theirs = PCA(0.9, svd_solver="full").fit(X)
    assert ours.components.shape == theirs.components_.shape
    np.testing.assert_allclose(ours.explained_variance_ratio, theirs.explained_variance_ratio_)
    np.testing.assert_allclose(
        np.abs(ours.components @ theirs.components_.T), np.eye(len(ours.components)), atol=1e-8
    )


def test_torch_input_matches_numpy(rng):
    X = rng.standard_normal((60, 9))
    Y = rng.standard_normal((50, 9)) @ rng.standard_normal((9, 9))
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    _assert_matches_script(pca_cross_variance(tX, tY, 4), pca_cross_variance(X, Y, 4))
    np.testing.assert_allclose(principal_angles(tX, tY, 4), principal_angles(X, Y, 4), atol=1e-12)
    assert participation_ratio(tX) == pytest.approx(participation_ratio(X), rel=1e-12)
    assert effective_rank(tX) == pytest.approx(effective_rank(X), rel=1e-12)
    labels = np.repeat([0, 1], [30, 30])
    labels_y = np.repeat([0, 1], [25, 25])
    torch_groups = group_averaged_cross_variance(tX, tY, (labels, labels_y), 3)
    numpy_groups = group_averaged_cross_variance(X, Y, (labels, labels_y), 3)
    np.testing.assert_allclose(torch_groups.cev_Y_mean, numpy_groups.cev_Y_mean, atol=1e-12)


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, Y: pca_cross_variance(X, Y[:, :3]), "X has 5 features but Y has 3"),
        (lambda X, Y: pca_cross_variance(X[:1], Y), "X has 1 sample"),
        (lambda X, Y: pca_cross_variance(X[:, 0], Y), "2-D array"),
        (lambda X, Y: pca_cross_variance(np.ones((5, 5)), Y), "X has no variance"),
        (lambda X, Y: pca_cross_variance(X, np.ones((5, 5))), "Y has no variance"),
        (lambda X, Y: pca_cross_variance(X, Y, 7), "n_components=7 is larger"),
        (lambda X, Y: principal_angles(X, Y[:, :2], 1), "same feature space"),
        (lambda X, Y: group_averaged_cross_variance(X, Y, np.zeros(3)), "one label per entry"),
        (
            lambda X, Y: group_averaged_cross_variance(X, Y, (np.zeros(20), np.ones(20))),
            "No condition label",
        ),
    ],
)
def test_bad_input_is_named(rng, call, match):
    X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 5))
    with pytest.raises(ValueError, match=match):
        call(X, Y)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_bad_n_components(rng, bad):
    X = rng.standard_normal((20, 5))
    with pytest.raises(InvalidParameterError, match="n_components"):
        principal_angles(X, X, bad)
    if not isinstance(bad, float):
        with pytest.raises(InvalidParameterError, match="n_components"):
            pca_cross_variance(X, X, bad)
    with pytest.raises(InvalidParameterError, match="center_on"):
        pca_cross_variance(X, X, center_on="Z")


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([np.nan, 1.0] * 4), "NaN label"),
        (np.array([None, 1] * 4, dtype=object), "cannot be sorted"),
    ],
)
def test_bad_labels_are_named(rng, labels, match):
    X, Y = rng.standard_normal((8, 5, 4)), rng.standard_normal((8, 5, 4))
    with pytest.raises(ValueError, match=match):
        group_averaged_cross_variance(X, Y, labels)


# -- SubspaceOverlap -------------------------------------------------------------------------------
def _sklearn_fraction(X_train, Y_test, k):
    pca = PCA(k, svd_solver="full").fit(X_train)
    Yc = Y_test - Y_test.mean(axis=0)
    return np.sum((Yc @ pca.components_.T) ** 2) / np.sum(Yc**2)


def test_subspace_overlap_is_the_last_point_of_the_curve(rng):
    X = rng.standard_normal((80, 10)) @ rng.standard_normal((10, 10))
    Y = rng.standard_normal((80, 10)) @ rng.standard_normal((10, 10))
    for k in (1, 4, 9):
        overlap = SubspaceOverlap(k).fit(X, Y)
        assert overlap.score(X, Y) == pytest.approx(pca_cross_variance(X, Y, k).cev_Y[-1])
        assert overlap.n_components_ == k
        np.testing.assert_allclose(
            overlap.explained_variance_ratio_, pca_cross_variance(X, Y, k).evr_X
        )


def test_subspace_overlap_cross_validates_like_sklearn_pca(rng):
    basis = rng.standard_normal((4, 12))
    X = _low_rank(rng, 100, basis, [4, 3, 2, 1], noise=0.5)
    Y = _low_rank(rng, 100, basis + 0.3 * rng.standard_normal((4, 12)), [4, 3, 2, 1], noise=0.5)
    cv = KFold(5, shuffle=True, random_state=0)
    scores = cross_validate(SubspaceOverlap(4), X, Y, cv=cv)["test_score"]
    expected = [_sklearn_fraction(X[train], Y[test], 4) for train, test in cv.split(X)]
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    assert 0.5 < scores.mean() < 1.0


def test_subspace_overlap_float_and_default_components(rng):
    X = rng.standard_normal((30, 6)) @ np.diag([10, 5, 1, 0.5, 0.1, 0.01])
    assert SubspaceOverlap(0.95).fit(X, X).n_components_ == PCA(0.95).fit(X).n_components_
    assert SubspaceOverlap().fit(X, X).n_components_ == 6
    assert SubspaceOverlap().fit(X[:4], X[:4]).n_components_ == 3  # rank of centered X
    assert SubspaceOverlap().fit(X, X).score(X, X) == pytest.approx(1.0)


def test_subspace_overlap_with_groups(rng):
    X, Y = rng.standard_normal((90, 6)), rng.standard_normal((90, 6)) @ rng.standard_normal((6, 6))
    labels = np.repeat([0, 1, 2], 30)
    overlap = SubspaceOverlap(2).fit(X, Y, groups=labels)
    expected = np.mean([_sklearn_fraction(X[labels == g], Y[labels == g], 2) for g in range(3)])
    assert overlap.score(X, Y, groups=labels) == pytest.approx(expected, rel=1e-10)
    curve = group_averaged_cross_variance(X, Y, labels, 2).cev_Y_mean
    assert overlap.score(X, Y, groups=labels) == pytest.approx(curve[-1], rel=1e-10)
    np.testing.assert_array_equal(overlap.groups_, [0, 1, 2])
    with pytest.raises(ValueError, match="fitted with groups"):
        overlap.score(X, Y)
    with pytest.raises(ValueError, match="fitted without groups"):
        SubspaceOverlap(2).fit(X, Y).score(X, Y, groups=labels)


def test_subspace_overlap_groups_route_through_cross_validate(rng):
    X, Y = rng.standard_normal((120, 6)), rng.standard_normal((120, 6))
    labels = np.tile(np.repeat([0, 1], 10), 6)
    cv = KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        overlap = SubspaceOverlap(2).set_fit_request(groups=True).set_score_request(groups=True)
        scores = cross_validate(overlap, X, Y, cv=cv, params={"groups": labels})["test_score"]
    for score, (train, test) in zip(scores, cv.split(X), strict=True):
        expected = np.mean(
            [
                _sklearn_fraction(X[train][labels[train] == g], Y[test][labels[test] == g], 2)
                for g in (0, 1)
            ]
        )
        assert score == pytest.approx(expected, rel=1e-10)
    # Groups as the splitter's groups, without routing: held-out whole conditions.
    plain = cross_validate(SubspaceOverlap(2), X, Y, cv=GroupKFold(2), groups=labels)
    assert np.all((plain["test_score"] > 0) & (plain["test_score"] < 1))


def test_subspace_overlap_contract(rng):
    """What the estimator checks cover, with a Y in X's feature space."""
    X, Y = rng.standard_normal((40, 5)), rng.standard_normal((40, 5))
    overlap = SubspaceOverlap(3)
    assert clone(overlap).get_params() == {"n_components": 3, "device": None, "paired": True}
    fitted = clone(overlap).fit(X, Y)
    assert overlap.get_params()["n_components"] == 3 and not hasattr(overlap, "components_")
    again = pickle.loads(pickle.dumps(fitted))
    assert again.score(X, Y) == fitted.score(X, Y)
    np.testing.assert_array_equal(clone(overlap).fit(X, Y).components_, fitted.components_)
    order = rng.permutation(40)
    assert fitted.score(X[order], Y[order]) == pytest.approx(fitted.score(X, Y), rel=1e-12)
    as32 = clone(overlap).fit(X.astype(np.float32), Y.astype(np.float32))
    assert as32.components_.dtype == np.float32
    assert as32.score(X, Y) == pytest.approx(fitted.score(X, Y), rel=1e-5)
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    assert clone(overlap).fit(tX, tY).score(tX, tY) == pytest.approx(fitted.score(X, Y))
    on_cpu = SubspaceOverlap(3, device="cpu").fit(X, Y)
    assert torch.is_tensor(on_cpu.components_)
    assert on_cpu.score(X, Y) == pytest.approx(fitted.score(X, Y))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, Y: SubspaceOverlap(6).fit(X, Y), "n_components=6 is larger"),
        (lambda X, Y: SubspaceOverlap(0).fit(X, Y), "n_components"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y[:, :3]), "same feature space"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, None), "requires y"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y).score(X[:, :4], Y[:, :4]), "features"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y).score(X[:5], np.ones((5, 5))), "no variance"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y[:19]), "X has 20 samples .* Y has 19"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y).score(X, Y[:9]), "paired=False"),
        (lambda X, Y: SubspaceOverlap(2, paired=1).fit(X, Y), "'paired' parameter"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y, groups=np.zeros(3)), "one label per entry"),
        (lambda X, Y: SubspaceOverlap(2).fit(X, Y, groups=np.arange(20)), "no condition"),
    ],
)
def test_subspace_overlap_bad_input(rng, make, match):
    X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 5))
    with pytest.raises(ValueError, match=match):
        make(X, Y)


def test_mixed_namespaces_and_dtypes(rng):
    X, Y = rng.standard_normal((60, 8)), rng.standard_normal((60, 8))
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    expected = SubspaceOverlap(2).fit(X, Y).score(X, Y)
    assert SubspaceOverlap(2).fit(tX, tY).score(X, Y) == pytest.approx(expected)
    assert SubspaceOverlap(2).fit(X, Y).score(tX, tY) == pytest.approx(expected)
    mixed = SubspaceOverlap(2).fit(tX.float(), tY).score(tX.float(), tY)
    assert mixed == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(
        pca_cross_variance(tX.float(), Y, 2).cev_Y, pca_cross_variance(X, Y, 2).cev_Y, atol=1e-6
    )
    labels = torch.arange(60) % 3  # labels as a tensor too
    np.testing.assert_allclose(
        group_averaged_cross_variance(tX.float(), Y, labels, 2).cev_Y_mean,
        group_averaged_cross_variance(X, Y, labels.numpy(), 2).cev_Y_mean,
        atol=1e-6,
    )


def test_refit_forgets_the_previous_fit(rng):
    X, Y = rng.standard_normal((60, 6)), rng.standard_normal((60, 6))
    overlap = SubspaceOverlap(2).fit(X, Y).fit(X, Y, groups=np.arange(60) % 3)
    assert not hasattr(overlap, "components_") and len(overlap.group_components_) == 3
    overlap.fit(X, Y)
    assert overlap.groups_ is None and not hasattr(overlap, "group_components_")


def test_subspace_overlap_unpaired_data_sets(rng):
    """paired=False: two data sets of different lengths, as pca_cross_variance takes them."""
    X, Y = rng.standard_normal((40, 6)), rng.standard_normal((30, 6))
    overlap = SubspaceOverlap(3, paired=False).fit(X, Y)
    expected = pca_cross_variance(X, Y, 3).cev_Y[-1]
    assert overlap.score(X, Y) == pytest.approx(expected, rel=1e-12)
    labels_x, labels_y = np.arange(40) % 2, np.arange(30) % 2
    grouped = SubspaceOverlap(2, paired=False).fit(X, Y, groups=(labels_x, labels_y))
    assert 0.0 < grouped.score(X, Y, groups=(labels_x, labels_y)) < 1.0
