"""Every estimator passes scikit-learn's estimator checks.

The expected failures below are listed with their reason; each comes from
scikit-learn assuming that ``y`` is a label or target vector, whereas skrep's
``Y`` is a second 2-D representation (named ``Y`` as in netrep).
"""

import pytest
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skrep.compat import netrep as compat
from skrep.metrics import (
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    LinearMetric,
    PermutationMetric,
)

Y_IS_A_REPRESENTATION = (
    "the transformer checks fit with a 1-D y (a target vector); Y is a 2-D "
    "representation (n_samples, n_features_y) and a 1-D Y is rejected with a "
    "clear error, as in netrep"
)
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": Y_IS_A_REPRESENTATION,
    "check_transformer_data_not_an_array": Y_IS_A_REPRESENTATION,
    "check_transformer_preserve_dtypes": Y_IS_A_REPRESENTATION,
    "check_n_features_in_after_fitting": (
        "calls score(X, y=y) by keyword; the second argument is named Y as in "
        "netrep (positional calls, as made by cross_validate and GridSearchCV, work "
        "and the n_features_in_ check itself is tested in test_validation.py)"
    ),
}

ESTIMATORS = [
    LinearMetric(),
    LinearMetric(device="cpu"),
    LinearMetric(preprocessor=StandardScaler()),
    LinearMetric(alpha=0.0),
    LinearMetric(alpha=0.5, score_method="euclidean", center_columns=False),
    PermutationMetric(),
    compat.LinearMetric(),
    compat.PermutationMetric(),
    GaussianStochasticMetric(),
    GaussianStochasticMetric(alpha=0.5, group="perm"),
    GaussianStochasticMetric(device="cpu"),
    EnergyStochasticMetric(),
    EnergyStochasticMetric(group="identity"),
    compat.GaussianStochasticMetric(),
    compat.EnergyStochasticMetric(),
]


NETREP_PARTIAL_FIT = {
    "check_fit_score_takes_y": (
        "netrep's partial_fit(X) takes one representation and returns its "
        "per-network cache (centering, whitening); it is not incremental fitting, "
        "and skrep.compat.netrep keeps netrep's exact signature"
    ),
}


EXPLICIT_DEVICE = {
    "check_array_api_same_namespace": (
        "with an explicit device, the estimator moves inputs from any namespace to "
        "that device on purpose instead of requiring the namespace used in fit"
    ),
}


STOCHASTIC_TRANSFORM = {
    "check_transformer_n_iter": Y_IS_A_REPRESENTATION,
}


def _expected_failed_checks(estimator):
    expected = dict(EXPECTED_FAILED_CHECKS)
    if isinstance(estimator, (GaussianStochasticMetric, EnergyStochasticMetric)):
        expected.update(STOCHASTIC_TRANSFORM)
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
