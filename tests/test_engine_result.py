"""MeasureMatrix: a numpy matrix that says what it holds."""

import copy
import pickle

import numpy as np

from skrep.engine import MeasureMatrix


def test_attributes_survive_slices_copies_and_pickling():
    M = MeasureMatrix(
        [[0.0, 1.5], [1.5, 0.0]], "distance", "LinearMetric()", ["a", "b"], ["c", "d"]
    )
    assert isinstance(M, np.ndarray) and M.dtype == np.float64
    for derived in (M[:1], M.T, M[[1, 0]][:, [1, 0]]):
        assert derived.kind == "distance" and derived.measure == "LinearMetric()"
        assert derived.row_names is None and derived.column_names is None  # may not fit
    for copied in (pickle.loads(pickle.dumps(M)), copy.deepcopy(M), M.copy()):
        assert copied.row_names == ["a", "b"] and copied.column_names == ["c", "d"]
        np.testing.assert_array_equal(copied, M)
    single = MeasureMatrix(np.eye(2, dtype=np.float32), "similarity", "f")
    assert pickle.loads(pickle.dumps(single)).dtype == np.float32
    lines = repr(M).splitlines()
    assert "kind='distance'" in lines[-1] and lines[1].index("[") == lines[0].index("[[") + 1


def test_arithmetic_and_reductions_give_plain_arrays():
    M = MeasureMatrix(np.eye(3), "similarity", "linear_cka")
    for result in (1.0 - M, M * 2, np.arccos(np.clip(M, -1, 1))):
        assert type(result) is np.ndarray
    assert type(M.sum()) is np.float64 and M.sum() == 3.0
    assert type(M.max(axis=0)) is np.ndarray
