"""Silent failures of the estimators (issue 22, items 4 and 12), and a bad-input battery.

The first part pins each defect the issue reported (each test failed before
its fix). The second runs every estimator and function of the subspace,
encoding/ridge, regression, dimensionality, neighbour and relative-
representation modules over the issue's kinds of bad input, and asks for one
of two outcomes: a finite value equal to the value of a second route (the
float64 copy, the exactly rescaled problem, the data without a column that
cannot matter, the columns in reverse order), or a ValueError/TypeError whose
message names the argument.
"""

import re

import numpy as np
import pytest
import scipy.sparse
from scipy.stats import pearsonr
from sklearn.base import is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, cross_validate
from sklearn.utils.estimator_checks import (
    check_regressor_data_not_an_array,
    check_regressor_multioutput,
    check_regressors_int,
    check_regressors_no_decision_function,
    check_supervised_y_2d,
    check_supervised_y_no_nan,
)
from sklearn.utils.validation import check_is_fitted

from skrep import (
    EncodingRegression,
    EncodingRSA,
    RelativeRepresentation,
    SubspaceOverlap,
)
from skrep.functional import (
    effective_rank,
    group_averaged_cross_variance,
    jaccard_knn,
    mutual_knn,
    nearest_neighbors,
    participation_ratio,
    pca_cross_variance,
    principal_angles,
    principal_components,
)
from skrep.functional.regression import linear_regression_r2
from skrep.functional.ridge import (
    ridge_coefficients,
    ridge_cv_scores,
    ridge_dual_coefficients,
    ridge_loo_scores,
    score_predictions,
)
from skrep.metrics import JaccardKNNEstimator, MutualKNNEstimator, RegressionR2Estimator

BIG, SMALL = 2.0**996, 2.0**-996  # about 6.7e299 and 1.5e-300; powers of two: exact
# Features times 2**510 overflow X'X (about 2**1020 times n); alphas of order 1
# times 2**1020 are still floats, so the rescaled problem can be written down.
RIDGE_SCALES = [2.0**510, 2.0**-510]
RIDGE_ALPHAS = np.array([0.3, 1.0, 3.0])


def _pair(rng, n=40, p=5, t=3, noise=0.5):
    X = rng.standard_normal((n, p))
    return X, X @ rng.standard_normal((p, t)) + noise * rng.standard_normal((n, t))


# -- SubspaceOverlap -------------------------------------------------------------------------
def test_subspace_overlap_refuses_rows_that_do_not_pair(rng):
    X, Y = rng.standard_normal((60, 5)), rng.standard_normal((59, 5))
    with pytest.raises(ValueError, match=r"X has 60 samples .* Y has 59.*paired=False"):
        SubspaceOverlap().fit(X, Y)
    fitted = SubspaceOverlap(2).fit(X[:59], Y)
    with pytest.raises(ValueError, match=r"X has 60 samples .* Y has 59"):
        fitted.score(X, Y)
    # Two data sets of different lengths, on purpose:
    unpaired = SubspaceOverlap(2, paired=False).fit(X, Y).score(X, Y)
    assert unpaired == pytest.approx(pca_cross_variance(X, Y, 2).cev_Y[-1], rel=1e-12)


@pytest.mark.parametrize("scale", [BIG, SMALL])
def test_subspace_measures_at_extreme_scales(rng, scale):
    X, Y = rng.standard_normal((60, 5)), rng.standard_normal((60, 5))
    expected = SubspaceOverlap(3).fit(X, Y).score(X, Y)
    got = SubspaceOverlap(3).fit(X * scale, Y * scale).score(X * scale, Y * scale)
    assert got == pytest.approx(expected, rel=1e-12)  # was NaN (1e300) or "no variance"
    pca = principal_components(X * scale, 3)
    np.testing.assert_allclose(pca.mean, principal_components(X, 3).mean * scale, rtol=1e-12)
    curves = pca_cross_variance(X * scale, Y * scale, 3)
    for key, value in pca_cross_variance(X, Y, 3).items():
        np.testing.assert_allclose(curves[key], value, rtol=1e-10, err_msg=key)


def test_participation_ratio_at_extreme_scales(rng):
    X = rng.standard_normal((50, 6)) * [3.0, 2.0, 1.0, 1.0, 0.5, 0.1]
    expected = participation_ratio(X)
    # Closed form: (sum l)^2 / sum l^2 over the eigenvalues of the covariance.
    eigenvalues = np.linalg.eigvalsh(np.cov(X.T))
    assert expected == pytest.approx(eigenvalues.sum() ** 2 / (eigenvalues**2).sum(), rel=1e-12)
    for scale in (BIG, SMALL, 1e300, 1e-300):
        assert participation_ratio(X * scale) == pytest.approx(expected, rel=1e-10)
    assert participation_ratio((X * 1e9).astype(np.float32)) == pytest.approx(expected, rel=1e-5)


def test_participation_ratio_of_constant_data_is_zero_not_rounding():
    X = np.full((10, 3), 0.1)  # the mean of ten 0.1 is not exactly 0.1
    assert participation_ratio(X) == 0.0


def test_group_averaged_cross_variance_takes_dataframes(rng):
    pd = pytest.importorskip("pandas")
    X, Y = rng.standard_normal((60, 5)), rng.standard_normal((60, 5))
    labels = np.arange(60) % 3
    expected = group_averaged_cross_variance(X, Y, labels, 2)
    got = group_averaged_cross_variance(pd.DataFrame(X), pd.DataFrame(Y), labels, 2)
    np.testing.assert_array_equal(got.cev_Y_mean, expected.cev_Y_mean)


# -- encoding models and ridge ----------------------------------------------------------------
@pytest.mark.parametrize("estimator", [EncodingRegression, EncodingRSA])
@pytest.mark.parametrize("scale", RIDGE_SCALES)
def test_encoding_models_at_extreme_feature_scales(rng, estimator, scale):
    """Features times s with alphas times s**2 are the same ridge problem (was LinAlgError)."""
    X, Y = _pair(rng)
    train, test = slice(0, 30), slice(30, 40)
    alphas = RIDGE_ALPHAS
    expected = estimator(alphas).fit(X[train], Y[train])
    model = estimator(alphas * scale**2).fit(X[train] * scale, Y[train])
    np.testing.assert_array_equal(model.alpha_, expected.alpha_ * scale**2)
    np.testing.assert_allclose(model.predict(X[test] * scale), expected.predict(X[test]), rtol=1e-9)
    assert model.score(X[test] * scale, Y[test]) == pytest.approx(
        expected.score(X[test], Y[test]), rel=1e-9
    )
    np.testing.assert_allclose(model.coef_ * scale, expected.coef_, rtol=1e-9)


def test_encoding_model_at_1e300_with_default_alphas_is_least_squares(rng):
    """Beside X'X near 1e600 every default alpha is 0: the fit is ordinary least squares."""
    X, Y = _pair(rng)
    model = EncodingRegression().fit(X[:30] * 1e300, Y[:30])
    reference = LinearRegression().fit(X[:30], Y[:30])
    np.testing.assert_allclose(model.predict(X[30:] * 1e300), reference.predict(X[30:]), rtol=1e-8)
    expected = np.mean(
        [pearsonr(p, y)[0] for p, y in zip(reference.predict(X[30:]).T, Y[30:].T, strict=True)]
    )
    assert model.score(X[30:] * 1e300, Y[30:]) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("scale", [BIG, SMALL])
def test_encoding_model_at_extreme_response_scales(rng, scale):
    X, Y = _pair(rng)
    expected = EncodingRegression().fit(X[:30], Y[:30])
    model = EncodingRegression().fit(X[:30], Y[:30] * scale)  # was NaN for 1e300
    np.testing.assert_array_equal(model.alpha_, expected.alpha_)
    assert model.score(X[30:], Y[30:] * scale) == pytest.approx(
        expected.score(X[30:], Y[30:]), rel=1e-10
    )
    np.testing.assert_allclose(model.predict(X[30:]), expected.predict(X[30:]) * scale, rtol=1e-10)


@pytest.mark.parametrize("p", [4, 60])  # primal and kernel forms
def test_ridge_functions_at_extreme_feature_scales(rng, p):
    X = rng.standard_normal((30, p))
    Y = X[:, :3] @ rng.standard_normal((3, 3)) + rng.standard_normal((30, 3))
    alphas = RIDGE_ALPHAS  # one per target for the weights
    for scale in RIDGE_SCALES:
        big = scale**2 * alphas
        np.testing.assert_allclose(
            ridge_loo_scores(X * scale, Y, big), ridge_loo_scores(X, Y, alphas), rtol=1e-9
        )
        splits = list(KFold(3).split(X))
        np.testing.assert_allclose(
            ridge_cv_scores(X * scale, Y, big, splits),
            ridge_cv_scores(X, Y, alphas, splits),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            ridge_coefficients(X * scale, Y, big) * scale,
            ridge_coefficients(X, Y, alphas),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            ridge_dual_coefficients(X * scale, Y, big) * scale**2,
            ridge_dual_coefficients(X, Y, alphas),
            rtol=1e-9,
        )


def test_score_predictions_at_extreme_scales(rng):
    Y = rng.standard_normal((30, 3))
    P = Y + rng.standard_normal((30, 3))
    expected = [pearsonr(p, y)[0] for p, y in zip(P.T, Y.T, strict=True)]
    for scale in (1e300, 1e-300):
        np.testing.assert_allclose(score_predictions(Y * scale, P * scale), expected, rtol=1e-12)
        np.testing.assert_allclose(
            score_predictions(Y * scale, P * scale, "r2"),
            r2_score(Y, P, multioutput="raw_values"),
            rtol=1e-10,
        )
    # A constant prediction (whose mean is a few ulps off) has r = 0, not noise.
    assert score_predictions(Y[:, :1], np.full((30, 1), 0.1))[0] == 0.0


@pytest.mark.parametrize("estimator", [EncodingRegression, EncodingRSA])
def test_encoding_model_forgets_the_old_model_when_a_refit_fails(rng, estimator):
    X, Y = _pair(rng)
    model = estimator().fit(X, Y)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        model.fit(bad, Y)
    for attribute in ("alpha_", "coef_", "intercept_", "n_features_in_", "projection_"):
        assert not hasattr(model, attribute), attribute
    with pytest.raises(NotFittedError):
        model.predict(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert model.fit(X, Y).score(X, Y) == pytest.approx(estimator().fit(X, Y).score(X, Y))


def test_subspace_overlap_and_relative_representation_forget_a_failed_refit(rng):
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    overlap = SubspaceOverlap(2).fit(X, Y)
    with pytest.raises(ValueError, match="requires y"):
        overlap.fit(X, None)
    with pytest.raises(NotFittedError):
        check_is_fitted(overlap)
    relative = RelativeRepresentation(anchors=X[:3]).fit(X)
    with pytest.raises(ValueError, match="all zeros"):
        relative.set_params(anchors=np.zeros((2, 4))).fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(relative)


def test_encoding_models_keep_the_mask_of_one_target_for_its_refusal(rng):
    """A 1-D masked Y was turned into a plain array (its mask dropped) before the checks."""
    X, Y = _pair(rng)
    masked = np.ma.masked_greater(Y[:, 0], 1.0)
    with pytest.raises(TypeError, match="Y is a numpy masked array"):
        EncodingRegression().fit(X, masked)
    with pytest.raises(TypeError, match="Y is a numpy masked array"):
        EncodingRegression().fit(X, Y[:, 0]).score(X, masked)


def test_encoding_rsa_says_whose_rdm_is_undefined(rng):
    X, Y = _pair(rng)
    binary = 1.0 * (Y > 0)  # some stimuli have the same response in every target
    with pytest.raises(ValueError, match=r"RDM of Y \(the measured responses\) is undefined"):
        EncodingRSA().fit(X, binary).score(X, binary)
    with pytest.raises(ValueError, match="Y has 2 stimuli; an RDM comparison needs at least 3"):
        EncodingRSA().fit(X, Y).score(X[:2], Y[:2])


# -- score semantics (item 12) -----------------------------------------------------------------
def test_encoding_regression_score_is_mean_pearson_not_r2(rng):
    X, Y = _pair(rng)
    model = EncodingRegression()
    assert not is_regressor(model)  # a regressor's score is R^2; this one's is not
    assert not is_regressor(EncodingRSA())
    assert "Pearson r" in EncodingRegression.__doc__.splitlines()[0]
    assert "not R^2" in EncodingRegression.__doc__.splitlines()[0]
    folds = list(KFold(4).split(X))
    default = cross_validate(model, X, Y, cv=folds)["test_score"]
    r2 = cross_validate(model, X, Y, cv=folds, scoring="r2")["test_score"]
    for (train, test), got, got_r2 in zip(folds, default, r2, strict=True):
        prediction = EncodingRegression().fit(X[train], Y[train]).predict(X[test])
        pearson = np.mean([pearsonr(p, y)[0] for p, y in zip(prediction.T, Y[test].T, strict=True)])
        assert got == pytest.approx(pearson, rel=1e-12)
        assert got_r2 == pytest.approx(r2_score(Y[test], prediction), rel=1e-12)


@pytest.mark.parametrize(
    "check",
    [
        check_regressor_data_not_an_array,
        check_regressor_multioutput,
        check_regressors_no_decision_function,
        check_supervised_y_2d,
        check_supervised_y_no_nan,
        check_regressors_int,
    ],
)
def test_encoding_models_still_predict_as_regressors_do(check):
    """scikit-learn's checks for regressors' predict (they no longer run by tag)."""
    for estimator in (EncodingRegression(), EncodingRSA(rdm_method="euclidean")):
        check(type(estimator).__name__, estimator)


# -- relative representations and neighbours ---------------------------------------------------
def test_relative_representation_refuses_zero_anchors(rng):
    X = rng.standard_normal((20, 4))
    anchors = np.vstack([X[:2], np.zeros((1, 4))])
    with pytest.raises(ValueError, match=r"row 2 of anchors\) is all zeros"):
        RelativeRepresentation(anchors=anchors).fit(X)
    with pytest.raises(ValueError, match=r"row 0 of X\) are all zeros"):
        RelativeRepresentation().fit(np.zeros((5, 4)))
    # Drawn anchors come from the rows with a direction; a zero sample maps to zeros.
    with_zero = np.vstack([np.zeros((3, 4)), X])
    fitted = RelativeRepresentation(anchors=20, random_state=0).fit(with_zero)
    assert set(fitted.anchor_indices_) == set(range(3, 23))
    with pytest.raises(ValueError, match="only 20 of its 23 rows have a nonzero norm"):
        RelativeRepresentation(anchors=21).fit(with_zero)
    np.testing.assert_array_equal(fitted.transform(with_zero[:1]), np.zeros((1, 20)))


def test_relative_representation_at_extreme_scales(rng):
    X, anchors = rng.standard_normal((20, 4)), rng.standard_normal((3, 4))
    expected = RelativeRepresentation(anchors=anchors).fit(X).transform(X)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    unit_anchors = anchors / np.linalg.norm(anchors, axis=1, keepdims=True)
    np.testing.assert_allclose(expected, unit @ unit_anchors.T, atol=1e-15)
    for scale in (1e300, 1e-300):  # were all zeros (the norms overflowed or underflowed)
        got = RelativeRepresentation(anchors=anchors * scale).fit(X).transform(X * scale)
        np.testing.assert_allclose(got, expected, atol=1e-15)


@pytest.mark.parametrize(
    "measure",
    [mutual_knn, jaccard_knn, MutualKNNEstimator(5).fit_score, JaccardKNNEstimator(5).fit_score],
)
def test_knn_of_float32_with_an_offset_has_the_float64_neighbours(rng, measure):
    X = rng.standard_normal((100, 20))
    Y = X + 0.5 * rng.standard_normal((100, 20))
    X32, Y32 = (X + 1e4).astype(np.float32), (Y + 1e4).astype(np.float32)
    args = (5,) if measure in (mutual_knn, jaccard_knn) else ()
    expected = measure(X32.astype(np.float64), Y32.astype(np.float64), *args)
    assert measure(X32, Y32, *args) == expected  # was 0.176 against 0.42
    np.testing.assert_array_equal(
        np.sort(nearest_neighbors(X32, 5), axis=1),
        np.sort(nearest_neighbors(X32.astype(np.float64), 5), axis=1),
    )


# -- the battery ---------------------------------------------------------------------------------
# Every measure is f(X, Y, a): a scales the alphas of the ridge measures (ignored by
# the others), so that features times s with alphas times s**2 can be checked as
# the same problem as the features with the alphas.
BATTERY_ALPHAS = np.array([0.1, 10.0, 1000.0])


def _labels(X):
    """Two conditions: trials alternate in a 3-D array, pairs of rows in a 2-D one."""
    shape = X.shape if hasattr(X, "shape") else np.shape(X)
    return np.arange(shape[0]) % 2 if len(shape) == 3 else (np.arange(shape[0]) // 2) % 2


def _cross_variance_values(result):
    return np.concatenate([result.cev_Y, [result.PR_X, result.PR_Y, result.PR_Y_in_Xbasis]])


MEASURES = {
    "SubspaceOverlap": lambda X, Y, a: SubspaceOverlap(2).fit(X, Y).score(X, Y),
    "principal_components": lambda X, Y, a: principal_components(X, 2).explained_variance_ratio,
    "principal_angles": lambda X, Y, a: principal_angles(X, Y, 2),
    "pca_cross_variance": lambda X, Y, a: _cross_variance_values(pca_cross_variance(X, Y, 0.9)),
    "group_averaged_cross_variance": lambda X, Y, a: (
        group_averaged_cross_variance(X, Y, _labels(X), 1).cev_Y_mean
    ),
    "participation_ratio": lambda X, Y, a: participation_ratio(X),
    "effective_rank": lambda X, Y, a: effective_rank(X),
    "EncodingRegression": lambda X, Y, a: (
        EncodingRegression(BATTERY_ALPHAS * a).fit(X, Y).score(X, Y)
    ),
    "EncodingRSA": lambda X, Y, a: (
        EncodingRSA(BATTERY_ALPHAS * a, rdm_method="euclidean").fit(X, Y).score(X, Y)
    ),
    "ridge_loo_scores": lambda X, Y, a: ridge_loo_scores(X, Y, BATTERY_ALPHAS * a),
    "linear_regression_r2": lambda X, Y, a: linear_regression_r2(X, Y),
    "RegressionR2Estimator": lambda X, Y, a: RegressionR2Estimator().fit(X, Y).score(X, Y),
    "RelativeRepresentation": lambda X, Y, a: RelativeRepresentation().fit(X).transform(Y),
    "nearest_neighbors": lambda X, Y, a: np.sort(nearest_neighbors(X, 3), axis=1),
    "mutual_knn": lambda X, Y, a: mutual_knn(X, Y, 3),
    "jaccard_knn": lambda X, Y, a: jaccard_knn(X, Y, 3),
    "MutualKNNEstimator": lambda X, Y, a: MutualKNNEstimator(3).fit(X, Y).score(X, Y),
}
#: Measures of X alone: kinds that change only Y leave their value unchanged.
SINGLE = {"principal_components", "participation_ratio", "effective_rank", "nearest_neighbors"}
#: Measures of X and Y in one feature space: column changes apply to both.
SAME_SPACE = {
    "SubspaceOverlap",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
    "RelativeRepresentation",
}
#: Measures of two data sets whose rows need not pair.
UNPAIRED = {"principal_angles", "pca_cross_variance", "RelativeRepresentation"}
#: Measures that do not center: a constant column changes them.
UNCENTERED = {
    "effective_rank",
    "ridge_loo_scores",  # no intercept: a constant column acts as one
    "RelativeRepresentation",
    "nearest_neighbors",
    "mutual_knn",
    "jaccard_knn",
    "MutualKNNEstimator",
}


def _battery_data():
    rng = np.random.default_rng(2222)
    X = rng.standard_normal((20, 4))
    Y = X @ rng.standard_normal((4, 4)) + 0.5 * rng.standard_normal((20, 4))
    return X, Y, rng.standard_normal((6, 9)), rng.standard_normal((6, 9))


X_B, Y_B, X_WIDE, Y_WIDE = _battery_data()


def _set(A, index, value):
    A = A.copy()
    A[index] = value
    return A


def _read_only(A):
    A = A.copy()
    A.flags.writeable = False
    return A


def _torch(A, grad=False):
    torch = pytest.importorskip("torch")
    return torch.tensor(A, requires_grad=grad)


def _frame(A):
    return pytest.importorskip("pandas").DataFrame(A)


def _with_column(A, value):
    return np.hstack([A, np.full((A.shape[0], 1), value)])


DUPLICATES = np.r_[np.arange(20), [0, 1, 2]]
F32 = np.float32


def _columns(f, *, reverse=False):
    """A kind (or route) that changes the columns of X, and of Y for measures in one space."""

    def make(X, Y, both):
        X, Y = f(X), (f(Y) if both else Y)
        return (X[:, ::-1], Y[:, ::-1] if both else Y, 1.0) if reverse else (X, Y, 1.0)

    return make


def _same(X, Y, both):
    return X, Y, 1.0


def _both(f, a=1.0):
    """A kind (or route) applying f to both X and Y."""
    return lambda X, Y, both: (f(X), f(Y), a)


def _reversed_rows(rows):
    return lambda X, Y, both: (X[rows][:, ::-1], Y[rows][:, ::-1] if both else Y[rows], 1.0)


def _float64(A):
    return np.asarray(A, dtype=np.float64)


ALL = slice(None)
CONSTANT = _columns(lambda A: _with_column(A, 3.0))
ZERO = _columns(lambda A: _with_column(A, 0.0))
DEFICIENT = _columns(lambda A: A[:, [0, 1, 0, 1]])
# name: (the input, the second route or None (an error is expected), mode, rtol).
# Inputs and routes are f(X, Y, both) -> (X, Y, alpha factor); ``both`` says that
# the measure compares X and Y in one feature space, so column changes apply to both.
# "same": both give equal finite values, or both raise (this one naming its
# argument); "either": a value equal to the route's, or an error naming the argument.
KINDS = {
    "NaN": (lambda X, Y, both: (_set(X, (3, 1), np.nan), Y, 1.0), None, "same", 0),
    "inf": (lambda X, Y, both: (X, _set(Y, (2, 0), np.inf), 1.0), None, "same", 0),
    "0 rows": (_both(lambda A: A[:0]), None, "same", 0),
    "1 row": (_both(lambda A: A[:1]), _reversed_rows(slice(0, 1)), "same", 1e-12),
    "2 rows": (_both(lambda A: A[:2]), _reversed_rows(slice(0, 2)), "same", 1e-12),
    "0 columns": (_columns(lambda A: A[:, :0]), None, "same", 0),
    "1 column": (_columns(lambda A: A[:, :1]), _columns(lambda A: A[:, :1]), "same", 0),
    "mismatched rows": (lambda X, Y, both: (X, Y[:-1], 1.0), None, "same", 0),
    "1-D": (_both(lambda A: A[:, 0]), None, "same", 0),
    "3-D": (_both(lambda A: A.reshape(10, 2, -1)), _same, "either", 1e-12),
    "strings": (_both(lambda A: A.astype(str)), None, "same", 0),
    "object": (_both(lambda A: A.astype(object)), _same, "same", 1e-12),
    "complex": (_both(lambda A: A + 1e-3j), None, "same", 0),
    "bool": (_both(lambda A: A > 0), _both(lambda A: 1.0 * (A > 0)), "same", 1e-12),
    "int": (
        _both(lambda A: np.round(3 * A).astype(np.int64)),
        _both(lambda A: np.round(3 * A)),
        "same",
        1e-12,
    ),
    "float16": (
        _both(lambda A: A.astype(np.float16)),
        _both(lambda A: _float64(A.astype(np.float16))),
        "same",
        1e-12,
    ),
    "1e+300": (_both(lambda A: A * BIG, BIG), _both(lambda A: A, SMALL), "same", 1e-9),
    "1e-300": (_both(lambda A: A * SMALL, SMALL), _both(lambda A: A, BIG), "same", 1e-9),
    "constant column": (CONSTANT, _same, "same", 1e-9),  # reversed, for UNCENTERED
    "all-zero column": (ZERO, _same, "same", 1e-9),
    "duplicated rows": (_both(lambda A: A[DUPLICATES]), _reversed_rows(DUPLICATES), "same", 1e-9),
    "rank-deficient": (
        DEFICIENT,
        _columns(lambda A: A[:, [0, 1, 0, 1]], reverse=True),
        "same",
        1e-9,
    ),
    "wide n<p": (
        lambda X, Y, both: (X_WIDE, Y_WIDE, 1.0),
        lambda X, Y, both: (X_WIDE[:, ::-1], Y_WIDE[:, ::-1] if both else Y_WIDE, 1.0),
        "same",
        1e-9,
    ),
    "lists": (_both(lambda A: A.tolist()), _same, "same", 1e-12),
    "DataFrames": (_both(_frame), _same, "same", 1e-12),
    "Fortran order": (_both(np.asfortranarray), _same, "same", 1e-12),
    "read-only": (_both(_read_only), _same, "same", 1e-12),
    "sparse": (_both(scipy.sparse.csr_matrix), None, "same", 0),
    "masked": (_both(lambda A: np.ma.masked_greater(A, 1.0)), None, "same", 0),
    "float32 offset 1e4": (
        _both(lambda A: (A + 1e4).astype(F32)),
        _both(lambda A: _float64((A + 1e4).astype(F32))),
        "same",
        None,  # per measure, below
    ),
    "torch requiring grad": (_both(lambda A: _torch(A, grad=True)), _same, "same", 1e-10),
    "mixed numpy/torch": (lambda X, Y, both: (X, _torch(Y), 1.0), _same, "same", 1e-10),
}

#: Kinds that change Y only: the measures of X alone must give their clean value.
Y_ONLY = {"inf", "mismatched rows", "mixed numpy/torch"}
#: float32 with an offset of 1e4: the computation in float32 of centered measures
#: keeps about eps32 * 1e4 / spread of the float64 copy's digits (documented accuracy);
#: neighbours are computed in float64 and equal the copy's exactly.
F32_TOLERANCE = {"nearest_neighbors": 0, "mutual_knn": 0, "jaccard_knn": 0, "MutualKNNEstimator": 0}
#: Documented limits of accuracy, where a finite value is all that is asked for.
KNOWN_LIMITS = {
    # Uncentered features 1e4 from the origin make X'X ill-conditioned far beyond
    # float32's 7 digits; ridge_loo_scores asks for centered features (as the
    # encoding models pass them), whose float32 scores match: see
    # test_ridge_scores_of_centered_float32_features.
    ("ridge_loo_scores", "float32 offset 1e4"),
}
ARGUMENT = r"\b(X|Y|groups|anchors)\b"


def _value(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=np.float64)
    assert np.all(np.isfinite(value)), value
    return value


def _outcome(measure, X, Y, a):
    try:
        return _value(MEASURES[measure](X, Y, a)), None
    except (ValueError, TypeError) as exc:
        return None, exc


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("measure", list(MEASURES))
def test_bad_input_battery(measure, kind):
    make, route, mode, rtol = KINDS[kind]
    both = measure in SAME_SPACE
    got, error = _outcome(measure, *make(X_B, Y_B, both))
    if measure in SINGLE and kind in Y_ONLY:
        route = _same
    if kind == "mismatched rows" and measure in UNPAIRED:
        route, rtol = (lambda X, Y, both: (X[:, ::-1], Y[:-1, ::-1], 1.0)), 1e-12
    if kind == "constant column" and measure in UNCENTERED:
        route = _columns(lambda A: _with_column(A, 3.0), reverse=True)
    if (measure, kind) in KNOWN_LIMITS:
        assert error is None  # a finite value (checked by _value); its accuracy is limited
        return
    if rtol is None:
        rtol = F32_TOLERANCE.get(measure, 2e-3)
    expected, route_error = (
        (None, "none") if route is None else _outcome(measure, *route(X_B, Y_B, both))
    )
    if error is not None:
        assert re.search(ARGUMENT, str(error)), f"{type(error).__name__}: {error}"
        assert mode == "either" or route_error is not None, f"refused: {error}"
        return
    assert route_error is None, f"accepted, but the route gives: {route_error}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def test_ridge_scores_of_centered_float32_features():
    X, Y = (X_B + 1e4).astype(F32), (Y_B + 1e4).astype(F32)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    expected = ridge_loo_scores(_float64(Xc), _float64(Yc), BATTERY_ALPHAS, intercept=True)
    got = ridge_loo_scores(Xc, Yc, BATTERY_ALPHAS, intercept=True)
    np.testing.assert_allclose(got, expected, atol=2e-3)
