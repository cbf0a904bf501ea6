"""MeasureMatrix: a numpy matrix that says what it holds."""

import pickle

import numpy as np

from skrep.engine import MeasureMatrix


def test_attributes_survive_slices_copies_and_pickling():
    M = MeasureMatrix(
        [[0.0, 1.5], [1.5, 0.0]], "distance", "LinearMetric()", ["a", "b"], ["a", "b"]
    )
    assert isinstance(M, np.ndarray) and M.dtype == np.float64
    for view in (M[:1], M.copy(), pickle.loads(pickle.dumps(M))):
        assert view.kind == "distance" and view.measure == "LinearMetric()"
        assert view.row_names == ["a", "b"]
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(M)), M)
    assert "kind='distance'" in repr(M)


def test_arithmetic_and_reductions_give_plain_arrays():
    M = MeasureMatrix(np.eye(3), "similarity", "linear_cka")
    for result in (1.0 - M, M * 2, np.arccos(np.clip(M, -1, 1))):
        assert type(result) is np.ndarray
    assert type(M.sum()) is np.float64 and M.sum() == 3.0
    assert type(M.max(axis=0)) is np.ndarray
