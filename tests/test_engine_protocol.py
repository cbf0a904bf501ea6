"""The PairwiseMeasure protocol: its defaults, and the wrappers of estimators and functions."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from skrep.engine import (
    DEFAULT_BLOCK_SIZE,
    EstimatorMeasure,
    FunctionMeasure,
    PairwiseMeasure,
    PreparedData,
    fit_each_pair,
    pair_values,
)
from skrep.metrics import CKAEstimator, LinearMetric


def test_defaults_of_the_protocol(rng):
    measure = PairwiseMeasure()
    assert measure.pairwise_kind == "similarity" and not measure.pairwise_symmetric
    X = rng.standard_normal((6, 2)).astype(np.float32)
    trains, tests = measure.pairwise_validate([X, X * 2.0], None, ["a", "b"], ["a*", "b*"])
    assert trains[0].dtype == np.float32 and tests == [None, None]
    assert measure.pairwise_block_size([], 10**9) == DEFAULT_BLOCK_SIZE
    assert measure.pairwise_check([], []) is None
    with pytest.raises(NotImplementedError, match="pairwise_prepare"):
        measure.pairwise_prepare(X, None, "a", "a*")
    with pytest.raises(NotImplementedError, match="pairwise_block"):
        measure.pairwise_block([], [], [], same_block=False)


def test_every_skrep_estimator_is_a_pairwise_measure():
    for estimator in (LinearMetric(), CKAEstimator()):
        assert isinstance(estimator, PairwiseMeasure)
    assert LinearMetric.pairwise_kind == "distance" and LinearMetric.pairwise_symmetric
    assert CKAEstimator.pairwise_kind == "similarity" and CKAEstimator.pairwise_symmetric


def test_pair_values_and_fit_each_pair(rng):
    nets = [
        PreparedData(rng.standard_normal((8, 3)), rng.standard_normal((4, 3))) for _ in range(3)
    ]
    pairs = [(0, 1), (2, 0)]
    train, test = pair_values(nets, nets, pairs, lambda a, b: float(np.sum(a) - np.sum(b)))
    np.testing.assert_allclose(
        train,
        [nets[0].train.sum() - nets[1].train.sum(), nets[2].train.sum() - nets[0].train.sum()],
    )
    np.testing.assert_allclose(test[1], nets[2].test.sum() - nets[0].test.sum())
    no_test = [PreparedData(net.train, None) for net in nets]
    assert pair_values(no_test, no_test, pairs, lambda a, b: 0.0)[1] is None

    ridge = Ridge(alpha=1.0)
    train, test = fit_each_pair(ridge, nets, nets, pairs, lambda f, A, B: f.score(A, B))
    fitted = Ridge(alpha=1.0).fit(nets[2].train, nets[0].train)
    assert test[1] == pytest.approx(fitted.score(nets[2].test, nets[0].test))
    assert not hasattr(ridge, "coef_")  # the estimator given is never fitted


def test_wrappers_keep_data_and_device(rng):
    X = rng.standard_normal((10, 3))
    for wrapper in (EstimatorMeasure(StandardScaler(), device=None), FunctionMeasure(np.dot)):
        prepared = wrapper.pairwise_prepare(X, None, "X", "X*")
        assert prepared.train is X and prepared.test is None
    assert FunctionMeasure(np.dot, symmetric=True).pairwise_symmetric
    assert EstimatorMeasure(Ridge(), device="cpu").device == "cpu"
