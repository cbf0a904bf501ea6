"""Encoding models over targets in chunks: memmaps, dask arrays, joblib workers, a dask cluster.

Every target's ridge fit is independent of the others, so two independent
checks hold the chunked fit to account: the fit of all targets in one chunk
(the in-memory path), and the fit of each chunk's targets alone in a fresh
estimator. The memory bound is measured with tracemalloc.
"""

from __future__ import annotations

import tracemalloc

import joblib
import numpy as np
import pytest
import sklearn

from skrep import EncodingRegression, EncodingRSA
from skrep.exceptions import InvalidParameterError
from skrep.functional.ridge import ridge_cv_scores
from skrep.functional.ridge_model import target_chunks

# (n_stimuli, n_features, cv): the four solvers (primal / kernel, leave-one-out / folds),
# and folds in the kernel form with fewer features than stimuli.
SHAPES = [(60, 8, None), (30, 50, None), (60, 8, 4), (30, 50, 3), (40, 35, 4)]


def _responses(rng, n, p, t, X=None):
    X = rng.standard_normal((n, p)) if X is None else X
    W = rng.standard_normal((p, t)) * rng.uniform(0.05, 2.0, size=t)
    return X, X @ W + rng.standard_normal((n, t)) * rng.uniform(0.2, 3.0, size=t)


def _assert_same_fit(a, b, X_test, Y_test, rtol=1e-9):
    np.testing.assert_array_equal(a.alpha_, b.alpha_)
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(a.predict(X_test), b.predict(X_test), rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(
        a.score_targets(X_test, Y_test), b.score_targets(X_test, Y_test), rtol=rtol, atol=1e-12
    )


@pytest.mark.parametrize("n, p, cv", SHAPES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_chunks_equal_one_fit(rng, n, p, cv, fit_intercept):
    X, Y = _responses(rng, n + 10, p, 13)
    whole = EncodingRegression(cv=cv, fit_intercept=fit_intercept).fit(X[:n], Y[:n])
    for chunk in (1, 4, 12):
        chunked = EncodingRegression(cv=cv, fit_intercept=fit_intercept, target_chunk=chunk)
        chunked.fit(X[:n], Y[:n])
        _assert_same_fit(chunked, whole, X[n:], Y[n:])


@pytest.mark.parametrize("n, p, cv", SHAPES)
def test_each_chunk_is_the_fit_of_its_targets_alone(rng, n, p, cv):
    X, Y = _responses(rng, n, p, 10)
    chunked = EncodingRegression(cv=cv, target_chunk=3, scoring="r2").fit(X, Y)
    for columns in target_chunks(n, 10, 8, target_chunk=3):
        alone = EncodingRegression(cv=cv, scoring="r2").fit(X, Y[:, columns])
        np.testing.assert_array_equal(chunked.alpha_[columns], alone.alpha_)
        np.testing.assert_allclose(chunked.coef_[:, columns], alone.coef_, rtol=1e-9, atol=1e-12)


def test_chunk_scores_equal_ridge_cv_scores(rng):
    # An independent path: the public cross-validated scores of every alpha.
    X, Y = _responses(rng, 50, 6, 9)
    splits = list(sklearn.model_selection.KFold(5).split(X))
    model = EncodingRegression(cv=splits, target_chunk=2).fit(X, Y)
    expected = ridge_cv_scores(X, Y, model.alphas, splits, fit_intercept=True)
    np.testing.assert_allclose(model.cv_scores_, expected, rtol=1e-10, atol=1e-12)


def test_working_memory_sizes_the_chunks(rng):
    X, Y = _responses(rng, 40, 5, 30)
    whole = EncodingRegression(cv=4).fit(X, Y)
    # 40 stimuli x 8 copies x 8 bytes = 2.5 kB per target: a 0.01 MiB budget holds 4.
    assert len(target_chunks(40, 30, 8)) == 1
    with sklearn.config_context(working_memory=0.01):
        assert [c.stop - c.start for c in target_chunks(40, 30, 8)][:1] == [4]
        small = EncodingRegression(cv=4).fit(X, Y)
    _assert_same_fit(small, whole, X[:10], Y[:10])


def _memmap(tmp_path, array, name="Y.npy"):
    path = tmp_path / name
    stored = np.lib.format.open_memmap(path, mode="w+", dtype=array.dtype, shape=array.shape)
    stored[:] = array
    stored.flush()
    del stored
    return np.load(path, mmap_mode="r")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cv", [None, 3])
def test_memmap_targets(rng, tmp_path, dtype, cv):
    X, Y = _responses(rng, 36, 7, 25)
    X, Y = X.astype(dtype), Y.astype(dtype)
    whole = EncodingRegression(cv=cv).fit(X[:30], Y[:30])
    Y_map = _memmap(tmp_path, Y)
    model = EncodingRegression(cv=cv, target_chunk=6).fit(X[:30], Y_map[:30])
    assert model.coef_.dtype == dtype
    _assert_same_fit(model, whole, X[30:], Y[30:], rtol=1e-4 if dtype == np.float32 else 1e-9)
    # held-out responses read from the memmap too, chunk by chunk
    np.testing.assert_allclose(
        model.score_targets(X[30:], Y_map[30:]), whole.score_targets(X[30:], Y[30:]), rtol=1e-5
    )


def test_float32_memmap_with_float64_features_fits_in_float64(rng, tmp_path):
    X, Y = _responses(rng, 30, 4, 8)
    Y32 = Y.astype(np.float32)
    model = EncodingRegression(target_chunk=3).fit(X, _memmap(tmp_path, Y32))
    assert model.coef_.dtype == np.float64
    _assert_same_fit(model, EncodingRegression().fit(X, Y32), X, Y32)


def test_memmap_fit_peak_memory_stays_below_the_targets(rng, tmp_path):
    n, p, t = 300, 20, 4000
    X = rng.standard_normal((n, p)).astype(np.float32)
    Y = _memmap(tmp_path, _responses(rng, n, p, t, X)[1].astype(np.float32))
    tracemalloc.start()
    try:
        model = EncodingRegression(cv=5).fit(X, Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    coefficients = model.coef_.nbytes + model.cv_scores_.nbytes + model.intercept_.nbytes
    assert peak - coefficients <= Y.nbytes, (peak, coefficients, Y.nbytes)


def test_one_dimensional_memmap(rng, tmp_path):
    X, Y = _responses(rng, 25, 3, 1)
    model = EncodingRegression().fit(X, _memmap(tmp_path, Y[:, 0]))
    assert model.predict(X).shape == (25,)
    np.testing.assert_allclose(model.predict(X), EncodingRegression().fit(X, Y[:, 0]).predict(X))


def test_dask_array_targets(rng):
    da = pytest.importorskip("dask.array")
    X, Y = _responses(rng, 40, 6, 21)
    lazy = da.from_array(Y, chunks=(40, 5))
    whole = EncodingRegression(cv=4).fit(X, Y)
    model = EncodingRegression(cv=4, target_chunk=8).fit(X, lazy)
    _assert_same_fit(model, whole, X, Y)
    np.testing.assert_allclose(model.score_targets(X, lazy), whole.score_targets(X, Y))


def test_encoding_rsa_takes_chunked_targets(rng, tmp_path):
    X, Y = _responses(rng, 40, 6, 12)
    whole = EncodingRSA(cv=4).fit(X[:30], Y[:30])
    model = EncodingRSA(cv=4, target_chunk=5).fit(X[:30], _memmap(tmp_path, Y)[:30])
    assert model.score(X[30:], Y[30:]) == pytest.approx(whole.score(X[30:], Y[30:]), rel=1e-10)


def test_extreme_scale_chunk_beside_ordinary_ones(rng):
    # Each chunk is rescaled by its own power of two: one at 1e300 beside ones near 1.
    X, Y = _responses(rng, 40, 5, 9)
    Y[:, 3:6] *= 1e300
    model = EncodingRegression(cv=4, target_chunk=3).fit(X, Y)
    assert np.ndim(model._model.y_scale) == 1
    for columns in (slice(0, 3), slice(3, 6), slice(6, 9)):
        alone = EncodingRegression(cv=4).fit(X, Y[:, columns])
        np.testing.assert_array_equal(model.alpha_[columns], alone.alpha_)
        np.testing.assert_allclose(model.predict(X)[:, columns], alone.predict(X), rtol=1e-9)
        np.testing.assert_allclose(model.intercept_[columns], alone.intercept_, rtol=1e-9)
    scores = model.score_targets(X, Y)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("n_jobs", [2])
def test_chunks_over_loky_workers(rng, n_jobs):
    X, Y = _responses(rng, 40, 6, 20)
    serial = EncodingRegression(cv=4, target_chunk=5).fit(X, Y)
    parallel = EncodingRegression(cv=4, target_chunk=5, n_jobs=n_jobs).fit(X, Y)
    _assert_same_fit(parallel, serial, X, Y, rtol=1e-12)


def test_chunks_on_a_dask_cluster(rng, tmp_path, dask_client):
    distributed = pytest.importorskip("distributed")
    X, Y = _responses(rng, 40, 30, 24)
    Y_map = _memmap(tmp_path, Y)
    serial = EncodingRegression(cv=4, target_chunk=6).fit(X, Y)
    workers = set(dask_client.scheduler_info()["workers"])
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config("dask"):
        on_dask = EncodingRegression(cv=4, target_chunk=6).fit(X, Y_map)
    ran_on = {task["worker"] for task in stream.data}
    assert stream.data, "no task ran on the cluster"
    assert ran_on <= workers
    _assert_same_fit(on_dask, serial, X, Y, rtol=1e-12)


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4"])
def test_bad_target_chunk(rng, bad):
    X, Y = _responses(rng, 20, 3, 4)
    with pytest.raises(InvalidParameterError, match="'target_chunk' parameter of EncodingRegr"):
        EncodingRegression(target_chunk=bad).fit(X, Y)


@pytest.mark.parametrize("bad", [0, 1.5, "2"])
def test_bad_n_jobs(rng, bad):
    X, Y = _responses(rng, 20, 3, 4)
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter of EncodingRSA"):
        EncodingRSA(n_jobs=bad).fit(X, Y)


def test_nan_in_a_memmap_chunk_is_named(rng, tmp_path):
    X, Y = _responses(rng, 20, 3, 10)
    Y[4, 7] = np.nan
    model = EncodingRegression(target_chunk=3)
    with pytest.raises(ValueError, match=r"Y\[:, 6:9\] contains 1 NaN"):
        model.fit(X, _memmap(tmp_path, Y))
    assert not hasattr(model, "alpha_")  # no half-written model


def test_out_of_core_targets_of_the_wrong_kind(rng, tmp_path):
    X, Y = _responses(rng, 20, 3, 4)
    with pytest.raises(ValueError, match="Y has dtype complex128; expected real numbers"):
        EncodingRegression().fit(X, _memmap(tmp_path, Y.astype(complex)))
    with pytest.raises(ValueError, match="Y must be a 2-D array .* got a 3-D array"):
        EncodingRegression().fit(X, _memmap(tmp_path, Y[:, :, None], "Y3.npy"))
    with pytest.raises(ValueError, match="X has 20 samples .* Y has 19"):
        EncodingRegression().fit(X, _memmap(tmp_path, Y[:19], "Y19.npy"))
    da = pytest.importorskip("dask.array")
    unknown = da.from_array(Y, chunks=(10, 4))
    unknown = unknown[unknown[:, 0] > -np.inf]
    with pytest.raises(ValueError, match="Y is a dask array of unknown shape"):
        EncodingRegression().fit(X, unknown)


@pytest.mark.parametrize("cv", [None, 3])
def test_torch_targets_in_chunks(rng, cv):
    torch = pytest.importorskip("torch")
    X, Y = _responses(rng, 30, 40, 11)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    whole = EncodingRegression(cv=cv).fit(Xt, Yt)
    chunked = EncodingRegression(cv=cv, target_chunk=4).fit(Xt, Yt)
    assert isinstance(chunked.coef_, torch.Tensor)
    np.testing.assert_array_equal(chunked.alpha_, whole.alpha_)
    np.testing.assert_allclose(chunked.coef_.numpy(), whole.coef_.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        chunked.score_targets(Xt, Yt), EncodingRegression(cv=cv).fit(X, Y).score_targets(X, Y)
    )
