"""The engine's scheduling: layouts, the protocol, held-out data, parallel runs, progress."""

import os

import joblib
import numpy as np
import pytest

from skrep.engine import (
    EstimatorMeasure,
    FunctionMeasure,
    PairwiseMeasure,
    PreparedData,
    compute_pairs,
    pair_values,
    parallelism,
    scheduler,
)
from skrep.engine.parallelism import JobsPlan, parallel_pays, plan_n_jobs
from skrep.exceptions import InvalidParameterError
from skrep.metrics import CKAEstimator, LinearMetric


def gap(A, B):
    """A simple asymmetric measure: mean of A's column means minus B's."""
    return float(np.mean(A) - 2.0 * np.mean(B))


class MeanGap(PairwiseMeasure):
    """A measure written against the protocol alone, counting its calls."""

    calls = {"prepare": 0, "pairs": 0}

    def __init__(self, symmetric=False, kind="similarity"):
        self.pairwise_symmetric = symmetric
        self.pairwise_kind = kind

    def pairwise_prepare(self, X, X_test, name, test_name):
        MeanGap.calls["prepare"] += 1
        return PreparedData(X, X_test)

    def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
        MeanGap.calls["pairs"] += len(pairs)
        function = (lambda A, B: abs(gap(A, B) + gap(B, A))) if self.pairwise_symmetric else gap
        return pair_values(nets_a, nets_b, pairs, function)


@pytest.fixture(autouse=True)
def reset_counts():
    MeanGap.calls = {"prepare": 0, "pairs": 0}


def collection(rng, k, n=12, p=3):
    return [rng.standard_normal((n, p)) + i for i in range(k)]


@pytest.mark.parametrize("block_size", [None, 1, 2, 5])
def test_every_layout_computes_each_needed_pair_once(rng, block_size):
    Xs, Ys = collection(rng, 5), collection(rng, 3)
    # Asymmetric similarity, K x K: every ordered pair and the diagonal.
    result = compute_pairs(MeanGap(), Xs, block_size=block_size)
    np.testing.assert_allclose(result.train, [[gap(a, b) for b in Xs] for a in Xs], atol=1e-14)
    assert MeanGap.calls == {"prepare": 5, "pairs": 25}
    # Symmetric similarity: each unordered pair once, with the diagonal.
    MeanGap.calls = {"prepare": 0, "pairs": 0}
    result = compute_pairs(MeanGap(symmetric=True), Xs, block_size=block_size)
    assert MeanGap.calls["pairs"] == 15
    np.testing.assert_allclose(result.train, result.train.T)
    # Symmetric distance: no diagonal (a network is at distance 0 from itself).
    MeanGap.calls = {"prepare": 0, "pairs": 0}
    result = compute_pairs(MeanGap(True, "distance"), Xs, block_size=block_size)
    assert MeanGap.calls["pairs"] == 10 and np.all(np.diag(result.train) == 0)
    # Two collections: every pair, each network prepared once.
    MeanGap.calls = {"prepare": 0, "pairs": 0}
    result = compute_pairs(MeanGap(), Xs, Ys, block_size=block_size)
    np.testing.assert_allclose(result.train, [[gap(a, b) for b in Ys] for a in Xs], atol=1e-14)
    assert MeanGap.calls == {"prepare": 8, "pairs": 15}
    assert result.kind == "similarity" and result.test is None


def test_held_out_data_of_two_collections(rng):
    Xs, Ys = collection(rng, 3), collection(rng, 2)
    Xs_test, Ys_test = collection(rng, 3, n=5), collection(rng, 2, n=5)
    result = compute_pairs(MeanGap(), Xs, Ys, Xs_test, Ys_test)
    np.testing.assert_allclose(result.test, [[gap(a, b) for b in Ys_test] for a in Xs_test])
    with pytest.raises(ValueError, match="Xs_test was given without Ys_test"):
        compute_pairs(MeanGap(), Xs, Ys, Xs_test)
    with pytest.raises(ValueError, match="Ys_test holds 1 networks but Ys holds 2"):
        compute_pairs(MeanGap(), Xs, Ys, Xs_test, Ys_test[:1])


def test_mappings_name_the_networks(rng):
    layers = {"conv1": rng.standard_normal((10, 3)), "fc": rng.standard_normal((10, 4))}
    result = compute_pairs(MeanGap(), layers)
    assert result.row_keys == ["conv1", "fc"]
    layers["fc"] = layers["fc"][:9]
    with pytest.raises(ValueError, match=r"Xs\['fc'\] has 9 samples .* Xs\['conv1'\] has 10"):
        compute_pairs(MeanGap(), layers)


def test_wrappers_of_estimators_and_functions(rng):
    Xs = collection(rng, 3, n=20)
    by_function = compute_pairs(FunctionMeasure(gap), Xs)
    np.testing.assert_allclose(by_function.train, [[gap(a, b) for b in Xs] for a in Xs])
    cka = CKAEstimator()
    by_estimator = compute_pairs(EstimatorMeasure(cka), Xs, Xs_test=Xs)
    expected = [[cka.fit(a, b).score(a, b) for b in Xs] for a in Xs]
    np.testing.assert_allclose(by_estimator.train, expected, atol=1e-12)
    np.testing.assert_allclose(by_estimator.test, expected, atol=1e-12)


def test_bad_measures_and_block_sizes(rng):
    Xs = collection(rng, 2)
    with pytest.raises(InvalidParameterError, match="must implement skrep.engine.PairwiseMeasure"):
        compute_pairs(object(), Xs)
    with pytest.raises(InvalidParameterError, match="got the class LinearMetric"):
        compute_pairs(LinearMetric, Xs)
    with pytest.raises(InvalidParameterError, match="must be a skrep distance metric"):
        compute_pairs(CKAEstimator(), Xs, kind="distance")
    with pytest.raises(InvalidParameterError, match="block_size must be None or a positive"):
        compute_pairs(MeanGap(), Xs, block_size=True)
    with pytest.raises(ValueError, match="Ys_test was given without Ys"):
        compute_pairs(MeanGap(), Xs, None, Xs, Xs)


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_parallel_runs_equal_the_serial_run(rng, backend):
    Xs, Ys = collection(rng, 5, n=30), collection(rng, 4, n=30)
    metric = LinearMetric(alpha=0.5)
    serial = compute_pairs(metric, Xs, Ys, Xs, Ys)
    with joblib.parallel_config(backend=backend):
        parallel = compute_pairs(metric, Xs, Ys, Xs, Ys, n_jobs=2)
    np.testing.assert_allclose(parallel.train, serial.train, atol=1e-13)
    np.testing.assert_allclose(parallel.test, serial.test, atol=1e-13)
    pair_loop = [[metric.fit(a, b).distance(a, b) for b in Ys] for a in Xs]
    np.testing.assert_allclose(serial.train, pair_loop, atol=1e-12)


def test_progress_counts_pairs(rng, capsys):
    compute_pairs(MeanGap(symmetric=True), collection(rng, 4), verbose=True)
    err = capsys.readouterr().err
    assert "10/10" in err and "MeanGap similarities" in err


def test_held_out_mappings_are_matched_by_key(rng):
    train = {name: rng.standard_normal((20, 3)) + i for i, name in enumerate("abc")}
    test = {name: rng.standard_normal((8, 3)) + i for i, name in enumerate("abc")}
    shuffled = {name: test[name] for name in "cab"}
    in_order = compute_pairs(MeanGap(), train, Xs_test=test)
    np.testing.assert_array_equal(
        compute_pairs(MeanGap(), train, Xs_test=shuffled).test, in_order.test
    )
    np.testing.assert_allclose(in_order.test[0, 1], gap(test["a"], test["b"]))
    with pytest.raises(ValueError, match=r"missing from Xs_test: \['c'\]; not in Xs: \['d'\]"):
        compute_pairs(MeanGap(), train, Xs_test={"a": test["a"], "b": test["b"], "d": test["c"]})


def test_a_one_sided_metric_gets_both_triangles(rng):
    from skrep.metrics import BaseMetric

    class OneSided(BaseMetric):
        """Residual of the least-squares map from X to Y: not symmetric."""

        _reference_attribute = "coef_"

        def __init__(self, *, preprocessor=None, device=None):
            self.preprocessor = preprocessor
            self.device = device

        def _fit(self, X, Y):
            self.coef_ = np.linalg.lstsq(X, Y, rcond=None)[0]

        def _distance(self, X, Y):
            return float(np.linalg.norm(Y - X @ self.coef_))

    Xs = [rng.standard_normal((30, 3)) for _ in range(3)]
    D = compute_pairs(OneSided(), Xs, kind="distance").train
    for i in range(3):
        for j in range(3):
            if i != j:
                fitted = OneSided().fit(Xs[i], Xs[j])
                assert D[i, j] == pytest.approx(fitted.distance(Xs[i], Xs[j]))
    assert not np.allclose(D, D.T)


def test_backends_without_generators(rng):
    Xs = collection(rng, 4, n=20)
    with joblib.parallel_config(backend="multiprocessing"):
        result = compute_pairs(LinearMetric(), Xs, n_jobs=2)
    np.testing.assert_allclose(result.train, compute_pairs(LinearMetric(), Xs).train, atol=1e-13)


def test_held_out_data_needs_the_measures_minimum_of_rows(rng):
    layers = collection(rng, 2, n=20)
    with pytest.raises(ValueError, match="at least 4"):
        compute_pairs(CKAEstimator(), layers, Xs_test=[A[:2] for A in layers])


def test_non_finite_values_are_an_error_naming_the_pair(rng):
    Xs = collection(rng, 3)
    Xs_test = collection(rng, 3, n=5)
    nan_on_test = FunctionMeasure(lambda A, B: np.nan if len(A) == 5 else 1.0)
    with pytest.raises(ValueError, match=r"returned nan for Xs_test\[0\] and Xs_test\[0\]"):
        compute_pairs(nan_on_test, Xs, Xs_test=Xs_test)
    inf_across = FunctionMeasure(lambda A, B: np.inf if A.shape != B.shape else 1.0)
    with pytest.raises(ValueError, match=r"returned inf for Xs\[0\] and Ys\[1\]"):
        compute_pairs(inf_across, Xs, [Xs[0], Xs[0][:, :2]])


# -- parallel only when it pays (issue 22, item 6) -------------------------------------------------
def worker_pids(result):
    """The process ids that the pid-returning measure left in the matrix."""
    return set(np.unique(result.train).astype(int).tolist())


def pid_measure():
    # A lambda (pickled by value) whose value is the id of the process computing the pair.
    return FunctionMeasure(lambda A, B: float(__import__("os").getpid()))


def test_plan_keeps_explicit_settings_and_reads_the_context():
    assert plan_n_jobs(None) == JobsPlan(None, False)
    assert plan_n_jobs(2) == JobsPlan(2, False)
    assert plan_n_jobs(-1) == JobsPlan(-1, False)
    assert plan_n_jobs(np.int64(3)) == JobsPlan(3, False)
    assert plan_n_jobs("auto") == JobsPlan(-1, True)  # all CPUs, unless the job is short
    with joblib.parallel_config(n_jobs=3):
        assert plan_n_jobs("auto") == JobsPlan(None, False)  # the context's n_jobs
        assert plan_n_jobs(1) == JobsPlan(1, False)
    with joblib.parallel_config(backend="threading"):
        assert plan_n_jobs("auto") == JobsPlan(-1, False)  # every worker of its backend
    for bad in (0, 1.5, "all", True, "-1"):
        with pytest.raises(InvalidParameterError, match=r"n_jobs must be None, 'auto' or a"):
            plan_n_jobs(bad)
    with pytest.raises(InvalidParameterError, match=r"got 'all'"):
        compute_pairs(MeanGap(), [np.ones((4, 2)), np.eye(4, 2)], n_jobs="all")


def test_a_pool_pays_only_above_its_start_up():
    # serial * (1 - 1 / workers) against the start-up cost.
    assert not parallel_pays(0.09, 2)  # the job: 0.09 s serially
    assert not parallel_pays(1.9, 2, startup_seconds=1.0)  # saves 0.95 s
    assert parallel_pays(2.1, 2, startup_seconds=1.0)  # saves 1.05 s
    assert parallel_pays(1.2, 16, startup_seconds=1.0)  # saves 1.125 s
    assert not parallel_pays(100.0, 1)
    assert parallel_pays(0.5, 2) == (0.25 > parallelism.POOL_STARTUP_SECONDS)


@pytest.mark.skipif(joblib.cpu_count() < 2, reason="'auto' considers a pool only with 2 CPUs")
def test_auto_runs_short_jobs_here_and_long_ones_in_a_pool(rng, monkeypatch, tmp_path):
    Xs = collection(rng, 6)
    here = compute_pairs(pid_measure(), Xs, n_jobs="auto")
    assert worker_pids(here) == {os.getpid()}  # 36 tiny pairs: no pool
    monkeypatch.setattr(parallelism, "POOL_STARTUP_SECONDS", -1.0)  # as if any work paid
    pooled = compute_pairs(pid_measure(), Xs, n_jobs="auto")
    assert np.sum(pooled.train == os.getpid()) == 1  # the timed pair ran here, alone
    assert len(worker_pids(pooled)) > 1  # the others in workers
    # Same numbers both ways, for a block measure and a per-pair one, K x K and rectangular.
    for metric in (LinearMetric(alpha=0.5), MeanGap()):
        for Ys in (None, Xs[:4]):
            serial = compute_pairs(metric, Xs, Ys, Xs, Ys, n_jobs=1)
            pooled = compute_pairs(metric, Xs, Ys, Xs, Ys, n_jobs="auto")
            np.testing.assert_allclose(pooled.train, serial.train, atol=1e-13)
            np.testing.assert_allclose(pooled.test, serial.test, atol=1e-13)
    # With a cache the timed block is a stored block: the first one, whole.
    cached = compute_pairs(MeanGap(), Xs, n_jobs="auto", cache_dir=tmp_path)
    np.testing.assert_allclose(cached.train, compute_pairs(MeanGap(), Xs).train, atol=1e-13)
    monkeypatch.setattr(parallelism, "POOL_STARTUP_SECONDS", 1e9)  # never pays
    result = compute_pairs(metric, Xs, Xs_test=Xs, n_jobs="auto")
    np.testing.assert_allclose(result.train, compute_pairs(metric, Xs, Xs_test=Xs).train)


@pytest.mark.skipif(joblib.cpu_count() < 2, reason="needs 2 CPUs")
def test_explicit_settings_are_kept_for_short_jobs(rng):
    Xs = collection(rng, 6)
    pooled = compute_pairs(pid_measure(), Xs, n_jobs=2)  # explicit: a pool, however short
    assert os.getpid() not in worker_pids(pooled)
    with joblib.parallel_config(n_jobs=2):
        assert os.getpid() not in worker_pids(compute_pairs(pid_measure(), Xs, n_jobs="auto"))
    with joblib.parallel_config(n_jobs=1):
        assert worker_pids(compute_pairs(pid_measure(), Xs, n_jobs="auto")) == {os.getpid()}


def test_netrep_default_processes_run_a_small_job_serially(rng, monkeypatch):
    from skrep.compat import netrep

    asked = []

    class Spy(joblib.Parallel):
        def __init__(self, n_jobs=None, **kwargs):
            asked.append(n_jobs)
            super().__init__(n_jobs=n_jobs, **kwargs)

    monkeypatch.setattr(scheduler, "Parallel", Spy)
    nets = []
    for _ in range(5):
        means = rng.standard_normal((10, 5))
        roots = rng.standard_normal((10, 5, 5))
        nets.append((means, roots @ np.transpose(roots, (0, 2, 1)) / 5))
    metric = netrep.GaussianStochasticMetric()
    D_default, _ = metric.pairwise_distances(nets, verbose=False)
    assert joblib.cpu_count() < 2 or asked == [1]  # timed first pair: no pool for 0.1 s of work
    asked.clear()
    D_serial, _ = metric.pairwise_distances(nets, processes=1, verbose=False)
    assert asked == [1]
    np.testing.assert_allclose(D_default, D_serial, atol=1e-12)
