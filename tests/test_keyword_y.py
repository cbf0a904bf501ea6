"""``y=`` is an alias of ``Y`` in every estimator's pair methods (issue 22, item 2)."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone

from skrep.compat import netrep as compat
from skrep.metrics import (
    RSA,
    CCAEstimator,
    CKAEstimator,
    EncodingRegression,
    EncodingRSA,
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    JaccardKNNEstimator,
    LinearMetric,
    MutualKNNEstimator,
    PermutationMetric,
    PLSPredictivity,
    PWCCAEstimator,
    RegressionR2Estimator,
    SubspaceOverlap,
    SVCCAEstimator,
)
from skrep.metrics._keyword_y import PAIR_METHODS

PAIRED = [
    LinearMetric(),
    LinearMetric(alpha=0.0),
    PermutationMetric(),
    compat.LinearMetric(),
    compat.PermutationMetric(),
    CKAEstimator(),
    CCAEstimator(),
    SVCCAEstimator(n_components=2),
    PWCCAEstimator(),
    MutualKNNEstimator(n_neighbors=3),
    JaccardKNNEstimator(n_neighbors=3),
    RegressionR2Estimator(),
    RSA(),
    EncodingRegression(cv=3),
    EncodingRSA(cv=3, rdm_method="euclidean"),
    PLSPredictivity(n_components=2),
    SubspaceOverlap(n_components=2),
]
STOCHASTIC = [
    GaussianStochasticMetric(max_iter=5),
    EnergyStochasticMetric(max_iter=5),
    compat.GaussianStochasticMetric(niter=5),
    compat.EnergyStochasticMetric(niter=5),
]


def _name(estimator):
    return f"{type(estimator).__module__.rsplit('.', 1)[-1]}.{type(estimator).__name__}"


@pytest.fixture
def pair(rng):
    X = rng.standard_normal((40, 5))
    Y = X @ rng.standard_normal((5, 5)) + 0.3 * rng.standard_normal((40, 5))
    return X, Y


@pytest.fixture
def noisy_pair(rng):
    X = rng.standard_normal((6, 4, 3))
    return X, X + 0.2 * rng.standard_normal(X.shape)


def _same_answers(estimator, X, Y):
    by_position = clone(estimator).fit(X, Y)
    by_keyword = clone(estimator).fit(X, y=Y)
    for method in ("score", "distance"):
        if hasattr(by_position, method):
            expected = getattr(by_position, method)(X, Y)
            assert getattr(by_keyword, method)(X, y=Y) == pytest.approx(expected, rel=1e-12)
            assert getattr(by_keyword, method)(X=X, y=Y) == pytest.approx(expected, rel=1e-12)
    if (
        hasattr(by_position, "transform")
        and "Y" in inspect.signature(by_position.transform).parameters
    ):
        expected = by_position.transform(X, Y)
        got = by_keyword.transform(X, y=Y)
        for a, b in zip(expected, got, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("estimator", PAIRED, ids=_name)
def test_y_keyword_means_Y(estimator, pair):
    _same_answers(estimator, *pair)


@pytest.mark.parametrize("estimator", STOCHASTIC, ids=_name)
def test_y_keyword_means_Y_for_noisy_responses(estimator, noisy_pair):
    _same_answers(estimator, *noisy_pair)


@pytest.mark.parametrize("estimator", PAIRED + STOCHASTIC, ids=_name)
def test_Y_and_y_together_are_refused(estimator, pair):
    X, Y = pair
    with pytest.raises(TypeError, match=r"twice, as Y and as y"):
        clone(estimator).fit(X, Y, y=Y)


@pytest.mark.parametrize("estimator", PAIRED + STOCHASTIC, ids=_name)
def test_every_pair_method_accepts_y(estimator):
    """No method taking the second representation as ``Y`` is left without the alias."""
    for name in PAIR_METHODS:
        method = getattr(type(estimator), name, None)
        if method is None:
            continue
        parameters = list(inspect.signature(method).parameters)
        if len(parameters) >= 3 and parameters[2] == "Y":
            assert getattr(method, "accepts_y_keyword", False), f"{_name(estimator)}.{name}"


def test_fit_score_and_fit_transform_accept_y(pair):
    X, Y = pair
    metric = LinearMetric()
    assert metric.fit_score(X, y=Y) == pytest.approx(LinearMetric().fit_score(X, Y), rel=1e-12)
    Xa, Ya = metric.fit_transform(X, y=Y)
    np.testing.assert_allclose(Ya, LinearMetric().fit_transform(X, Y)[1], rtol=1e-12)
