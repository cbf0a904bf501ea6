"""Every estimator passes scikit-learn's estimator checks.

The expected failures below are listed with their reason; each comes from
scikit-learn assuming that ``y`` is a label or target vector, whereas skrep's
``Y`` is a second 2-D representation (named ``Y`` as in netrep, and accepted as
``y=`` too), or from netrep's own signatures in ``skrep.compat.netrep``.
"""

import pytest
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skrep.compat import netrep as compat
from skrep.metrics import (
    RSA,
    BuresEstimator,
    CCAEstimator,
    CKAEstimator,
    EncodingRegression,
    EncodingRSA,
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    GULPMetric,
    JaccardKNNEstimator,
    LinearMetric,
    LinearProbe,
    MutualKNNEstimator,
    PermutationMetric,
    PLSPredictivity,
    PWCCAEstimator,
    RegressionR2Estimator,
    SimilarityEstimator,
    SoftMatchingMetric,
    SubspaceOverlap,
    SVCCAEstimator,
)
from skrep.preprocessing import RelativeRepresentation

Y_IS_A_REPRESENTATION = (
    "the transformer checks fit with a 1-D y (a target vector); Y is a 2-D "
    "representation (n_samples, n_features_y) and a 1-D Y is rejected with a "
    "clear error, as in netrep"
)
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": Y_IS_A_REPRESENTATION,
    "check_transformer_data_not_an_array": Y_IS_A_REPRESENTATION,
    "check_transformer_preserve_dtypes": Y_IS_A_REPRESENTATION,
}

ESTIMATORS = [
    LinearMetric(),
    LinearMetric(device="cpu"),
    LinearMetric(preprocessor=StandardScaler()),
    LinearMetric(alpha=0.0),
    LinearMetric(alpha=0.5, score_method="euclidean", center_columns=False),
    PermutationMetric(),
    SoftMatchingMetric(),
    SoftMatchingMetric(solver="sinkhorn", center_columns=False),
    GULPMetric(),
    GULPMetric(lmbda=0.0, normalize=False),
    compat.LinearMetric(),
    compat.PermutationMetric(),
    GaussianStochasticMetric(),
    GaussianStochasticMetric(alpha=0.5, group="perm"),
    GaussianStochasticMetric(device="cpu"),
    EnergyStochasticMetric(),
    EnergyStochasticMetric(group="identity"),
    compat.GaussianStochasticMetric(),
    compat.EnergyStochasticMetric(),
    SubspaceOverlap(),
    SubspaceOverlap(n_components=1, device="cpu"),
    RelativeRepresentation(),
    RelativeRepresentation(anchors=3, random_state=0),
    CKAEstimator(),
    CKAEstimator("rbf", debiased=True),
    BuresEstimator(),
    BuresEstimator("rbf", device="cpu"),
    CKAEstimator(device="cpu", preprocessor=StandardScaler()),
    CCAEstimator(),
    CCAEstimator("r2"),
    SVCCAEstimator(),
    SVCCAEstimator(n_components=1),
    PWCCAEstimator(),
    MutualKNNEstimator(n_neighbors=3),
    JaccardKNNEstimator(n_neighbors=3),
    RegressionR2Estimator(),
    RSA(),
    RSA("euclidean", "tau-a"),
    EncodingRegression(),
    EncodingRegression(cv=3, scoring="r2", random_projection=2, random_state=0),
    EncodingRSA(rdm_method="euclidean"),
    EncodingRSA(),
    PLSPredictivity(),
    PLSPredictivity(n_components=2, ceiling=0.8),
    LinearProbe(),
    LinearProbe(C=0.5, standardize=False, cv=None),
    CKAEstimator("rbf", approximation="nystroem", n_components=5, random_state=0),
]


NETREP_PARTIAL_FIT_REASON = (
    "netrep's partial_fit(X) takes one representation and returns its "
    "per-network cache (centering, whitening); it is not incremental fitting, "
    "and skrep.compat.netrep keeps netrep's exact signature"
)
NETREP_PARTIAL_FIT = {
    "check_fit_score_takes_y": NETREP_PARTIAL_FIT_REASON,
    "check_n_features_in_after_fitting": NETREP_PARTIAL_FIT_REASON,
}


EXPLICIT_DEVICE = {
    "check_array_api_same_namespace": (
        "with an explicit device, the estimator moves inputs from any namespace to "
        "that device on purpose instead of requiring the namespace used in fit"
    ),
}


ITERATIVE_TRANSFORMERS = {
    "check_transformer_n_iter": Y_IS_A_REPRESENTATION,
}


# The checks pass a (n_samples, 1) y to every multi-output estimator, while
# SubspaceOverlap's Y must live in X's feature space (same units); fit rejects a
# Y of another width with a clear error. What these checks cover (clone, pickle,
# idempotent fit, sample order, float32, memmaps, n_features_in_) is tested with
# a Y of X's width in test_subspace.py::test_subspace_overlap_contract.
Y_IN_X_SPACE = (
    "Y must have X's features (the same units) and the checks pass a 1-column Y; "
    "covered with a proper Y in test_subspace.py::test_subspace_overlap_contract"
)
SUBSPACE_CHECKS = {
    name: Y_IN_X_SPACE
    for name in (
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_pipeline_consistency",
        "check_estimators_nan_inf",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit2d_predict1d",
        "check_array_api_input",
    )
}


# The checks' y is a column of class labels; label 0 makes all-zero rows, which
# have no direction, so the cosine neighbours of kNN measures reject them by name.
ZERO_ROWS_HAVE_NO_NEIGHBOURS = (
    "the checks pass a 1-column Y of class labels whose 0 rows have no direction; "
    "cosine nearest neighbours reject all-zero rows with a clear error"
)
KNN_CHECKS = {
    "check_fit_score_takes_y": ZERO_ROWS_HAVE_NO_NEIGHBOURS,
    "check_pipeline_consistency": ZERO_ROWS_HAVE_NO_NEIGHBOURS,
    "check_array_api_input": ZERO_ROWS_HAVE_NO_NEIGHBOURS,
    "check_array_api_mixed_inputs": ZERO_ROWS_HAVE_NO_NEIGHBOURS,
}


# A one-column Y has one channel: centered across channels it is all zeros, so its
# correlation RDM is undefined and RSA(rdm_method="correlation") says so by name.
ONE_CHANNEL_HAS_NO_CORRELATION = (
    "the checks pass a 1-column Y; a one-channel pattern is constant after centering, "
    "so its correlation RDM is undefined and RSA raises a clear error"
)
RSA_CORRELATION_CHECKS = {
    "check_fit_score_takes_y": ONE_CHANNEL_HAS_NO_CORRELATION,
    "check_pipeline_consistency": ONE_CHANNEL_HAS_NO_CORRELATION,
    "check_array_api_input": ONE_CHANNEL_HAS_NO_CORRELATION,
    "check_array_api_mixed_inputs": ONE_CHANNEL_HAS_NO_CORRELATION,
}


# skrep.benchmark_layers hands every metric its "responses" as 2-D arrays, so a
# probe's labels arrive as a one-column representation (n_stimuli, 1): LinearProbe
# reads such a column as the label vector without a DataConversionWarning.
LABELS_ARRIVE_AS_A_REPRESENTATION = (
    "Y is a representation in skrep.benchmark_layers, so labels arrive as a one-column "
    "2-D array (n_stimuli, 1), which LinearProbe reads as the label vector without a "
    "DataConversionWarning (predictions are the same; see test_probe.py)"
)


def _expected_failed_checks(estimator):
    if isinstance(estimator, RelativeRepresentation):
        return {}
    if isinstance(estimator, LinearProbe):
        return {"check_supervised_y_2d": LABELS_ARRIVE_AS_A_REPRESENTATION}
    if isinstance(estimator, (EncodingRegression, PLSPredictivity)):
        expected = {}
        if isinstance(estimator, EncodingRSA) and estimator.rdm_method == "correlation":
            expected.update(RSA_CORRELATION_CHECKS)
            expected["check_regressors_train"] = ONE_CHANNEL_HAS_NO_CORRELATION
        return expected
    if isinstance(estimator, SimilarityEstimator):
        expected = {}
        if isinstance(estimator, (MutualKNNEstimator, JaccardKNNEstimator)):
            expected.update(KNN_CHECKS)
        if isinstance(estimator, RSA) and estimator.rdm_method == "correlation":
            expected.update(RSA_CORRELATION_CHECKS)
        return expected
    if isinstance(estimator, SubspaceOverlap):
        return dict(SUBSPACE_CHECKS)
    expected = dict(EXPECTED_FAILED_CHECKS)
    if isinstance(
        estimator, (GaussianStochasticMetric, EnergyStochasticMetric, SoftMatchingMetric)
    ):
        expected.update(ITERATIVE_TRANSFORMERS)  # transformers with a max_iter
    elif type(estimator).__module__ == compat.__name__:
        expected.update(NETREP_PARTIAL_FIT)
    if getattr(estimator, "device", None) is not None:
        expected.update(EXPLICIT_DEVICE)
    return expected


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check_name", sorted(EXPECTED_FAILED_CHECKS))
def test_expected_failures_are_still_needed(check_name):
    """Each listed failure must really fail: drop it from the list once it passes."""
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(LinearMetric(), on_fail=None, expected_failed_checks={})
    statuses = {r["status"] for r in results if r["check_name"] == check_name}
    assert statuses == {"failed"}


@pytest.mark.parametrize(
    "estimator",
    [
        CKAEstimator(),
        CKAEstimator(debiased=True),
        CKAEstimator("rbf"),
        CKAEstimator("rbf", approximation="nystroem", n_components=5, random_state=0),
    ],
    ids=repr,
)
def test_partial_fit_checks(estimator):
    """scikit-learn yields its partial_fit check for classifiers, regressors and clusterers
    only; CKAEstimator.partial_fit must pass it too (a width change is a ValueError)."""
    from sklearn.utils.estimator_checks import check_estimators_partial_fit_n_features

    check_estimators_partial_fit_n_features(type(estimator).__name__, estimator)
