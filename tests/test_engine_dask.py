"""The engine on a dask cluster: blocks scattered once per worker, results equal to a serial run.

Under ``joblib.parallel_config("dask")`` the engine submits its tasks through the
cluster's client (skrep.engine._dask_tasks). The reference values come from the
serial path in this process, with the BLAS thread count of a worker (same
blocks, same arithmetic: equal to the last bit), or from scipy.
"""

import sys
import threading
from collections import Counter

import joblib
import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from threadpoolctl import threadpool_limits

from skrep import pairwise_distances
from skrep.engine import BlockStore, BlockTask, PairwiseMeasure, compute_pairs
from skrep.engine._dask_tasks import active_dask_backend
from skrep.metrics import CKAEstimator, LinearMetric

distributed = pytest.importorskip("distributed")

#: (tag, network name) -> times this process unpickled that network.
ARRIVALS = Counter()


class Counted:
    """A prepared network that counts, in each process, how often it is unpickled."""

    def __init__(self, tag, name, X):
        self.tag, self.name, self.X = tag, name, X

    def __getstate__(self):
        return self.tag, self.name, self.X

    def __setstate__(self, state):
        self.tag, self.name, self.X = state
        ARRIVALS[(self.tag, self.name)] += 1


def arrivals(tag):
    """This process's count of arrivals of each network of the job ``tag``."""
    return {name: n for (t, name), n in ARRIVALS.items() if t == tag}


class FrobeniusDistance(PairwiseMeasure):
    """||X_i - X_j||_F between networks of one width, from Counted networks."""

    pairwise_kind = "distance"
    pairwise_symmetric = True

    def __init__(self, tag, fail_on=None):
        self.tag, self.fail_on = tag, fail_on

    def pairwise_prepare(self, X, X_test, name, test_name):
        return Counted(self.tag, name, np.asarray(X))

    def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
        if self.fail_on is not None and any(net.name == self.fail_on for net in nets_a):
            raise ValueError(f"bad block with {self.fail_on}")
        return np.array([np.linalg.norm(nets_a[a].X - nets_b[b].X) for a, b in pairs]), None


def worker_blas_threads():
    """The BLAS threads the engine gives each of the 2 workers (one thread each)."""
    return max(1, joblib.cpu_count() // 2)


@pytest.fixture(scope="module")
def networks():
    rng = np.random.default_rng(20260917)
    latent = rng.standard_normal((50, 6))
    Xs = [latent @ rng.standard_normal((6, 6)) + rng.standard_normal((50, 6)) for _ in range(10)]
    return [X[:35] for X in Xs], [X[35:] for X in Xs]


@pytest.mark.parametrize("which", ["linear, held out", "cka", "two collections"])
def test_same_values_as_the_serial_run(networks, dask_client, which):
    Xs, Xs_test = networks

    def job():
        if which == "linear, held out":
            return compute_pairs(LinearMetric(alpha=0.5), Xs, None, Xs_test, block_size=3)
        if which == "cka":  # a similarity: the diagonal is computed too
            return compute_pairs(CKAEstimator(), Xs, block_size=3)
        return compute_pairs(LinearMetric(alpha=1.0), Xs[:4], Xs[4:], block_size=3)

    with threadpool_limits(worker_blas_threads(), user_api="blas"):
        serial = job()
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config("dask"):
        on_dask = job()
    assert any(task["key"].startswith("skrep-pairs") for task in stream.data)
    np.testing.assert_array_equal(on_dask.train, serial.train)
    if serial.test is not None:
        np.testing.assert_array_equal(on_dask.test, serial.test)
    assert on_dask.kind == serial.kind


def test_each_network_reaches_each_worker_at_most_once(networks, dask_client):
    Xs, _ = networks
    tag = "once per worker"
    with joblib.parallel_config("dask"):
        result = compute_pairs(FrobeniusDistance(tag), Xs, block_size=2)  # 15 tasks, 5 blocks
    expected = squareform(pdist(np.stack([X.ravel() for X in Xs])))
    np.testing.assert_allclose(result.train, expected, rtol=1e-12)
    per_worker = dask_client.run(arrivals, tag)
    names = {f"Xs[{k}]" for k in range(len(Xs))}
    # Through joblib's dask backend each task carried both its blocks (a network
    # arrived 5 times, once per task of its row and column of blocks).
    for counts in per_worker.values():
        assert set(counts) <= names
        assert max(counts.values(), default=0) <= 1, counts
    arrived = Counter(name for counts in per_worker.values() for name in counts)
    assert set(arrived) == names  # every network was shipped, none more than once per worker


def test_cache_dir_on_dask(networks, dask_client, tmp_path):
    Xs, Xs_test = networks
    metric = LinearMetric(alpha=0.5)
    with threadpool_limits(worker_blas_threads(), user_api="blas"):
        serial = pairwise_distances(metric, Xs, Xs_test, block_size=4)
    with joblib.parallel_config("dask"):
        first = pairwise_distances(metric, Xs, Xs_test, block_size=4, cache_dir=tmp_path)
    [job_dir] = tmp_path.iterdir()
    assert len(list(job_dir.glob("block-*.npz"))) == 6  # 3 blocks of 4, 4, 2 networks
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config("dask"):
        again = pairwise_distances(metric, Xs, Xs_test, block_size=4, cache_dir=tmp_path)
    assert not [task for task in stream.data if task["key"].startswith("skrep-pairs")]

    # A block held by another run: its task on the cluster leaves it, the run waits
    # for it and computes it here once the other run gives it up unfinished.
    (job_dir / "block-0-2.npz").unlink()
    store = BlockStore(tmp_path, job_dir.name)
    claim = store.claim(BlockTask((0, 2), (), (), (), False))
    threading.Timer(0.3, claim.release).start()
    with joblib.parallel_config("dask"):
        resumed = pairwise_distances(metric, Xs, Xs_test, block_size=4, cache_dir=tmp_path)
    assert (job_dir / "block-0-2.npz").exists()
    for values in (first, again, resumed):
        np.testing.assert_array_equal(values[0], serial[0])
        np.testing.assert_array_equal(values[1], serial[1])


def test_progress_bar_and_errors_on_dask(networks, dask_client, capsys):
    Xs, _ = networks
    with joblib.parallel_config("dask"):
        compute_pairs(FrobeniusDistance("progress"), Xs, block_size=3, verbose=True)
    assert "45/45" in capsys.readouterr().err
    with joblib.parallel_config("dask"), pytest.raises(ValueError, match=r"bad block with Xs\[7\]"):
        compute_pairs(FrobeniusDistance("error", fail_on="Xs[7]"), Xs, block_size=3)


def test_backend_options_reach_the_tasks_and_the_blocks(networks, dask_client):
    Xs, _ = networks
    first, other = sorted(dask_client.scheduler_info()["workers"])
    tag = "on one worker"
    with joblib.parallel_config("dask", workers=[first]):
        result = compute_pairs(FrobeniusDistance(tag), Xs, block_size=3)
    expected = squareform(pdist(np.stack([X.ravel() for X in Xs])))
    np.testing.assert_allclose(result.train, expected, rtol=1e-12)
    # Blocks scattered to the named worker only, and no task elsewhere fetched them.
    per_worker = dask_client.run(arrivals, tag)
    assert per_worker[other] == {} and len(per_worker[first]) == len(Xs)


def test_other_backends_do_not_need_dask(networks, monkeypatch):
    Xs, _ = networks
    monkeypatch.setitem(sys.modules, "distributed", None)  # importing it fails
    monkeypatch.setitem(sys.modules, "dask", None)
    with joblib.parallel_config("threading"):
        assert active_dask_backend() is None
        D, _ = pairwise_distances(LinearMetric(alpha=1.0), Xs, n_jobs=2, block_size=3)
    np.testing.assert_allclose(D, pairwise_distances(LinearMetric(alpha=1.0), Xs)[0], atol=1e-13)


#: network name -> live copies in this process; tag -> the most live at once.
LIVE, PEAK_LIVE = Counter(), Counter()


class Tracked:
    """A prepared network that counts its live copies in each process (unpickled, not yet freed)."""

    def __init__(self, tag, X):
        self.tag, self.X = tag, X

    def __getstate__(self):
        return self.tag, self.X

    def __setstate__(self, state):
        self.tag, self.X = state
        LIVE[self.tag] += 1
        PEAK_LIVE[self.tag] = max(PEAK_LIVE[self.tag], LIVE[self.tag])

    def __del__(self):
        if "X" in self.__dict__ and self.tag in LIVE:
            LIVE[self.tag] -= 1


class TrackedDistance(FrobeniusDistance):
    """:class:`FrobeniusDistance` over :class:`Tracked` networks."""

    def pairwise_prepare(self, X, X_test, name, test_name):
        return Tracked(self.tag, np.asarray(X))


def peak_live(tag):
    """The most copies of the job ``tag``'s networks this process held at once."""
    return PEAK_LIVE[tag]


def test_a_worker_holds_its_band_not_every_network(dask_client):
    # 40 networks in 20 blocks of 2: a worker runs the tasks of its bands of rows,
    # column block by column block, two submitted at a time, and drops a fetched
    # column block when its stretch of tasks is done. It holds its bands (about
    # half of the networks) and a few column blocks. When all 210 tasks were
    # submitted at once, each worker held nearly all 40 networks by the end.
    rng = np.random.default_rng(5)
    Xs = [rng.standard_normal((4, 3)) for _ in range(40)]
    tag = "bands"
    with joblib.parallel_config("dask"):
        result = compute_pairs(TrackedDistance(tag), Xs, block_size=2)
    expected = squareform(pdist(np.stack([X.ravel() for X in Xs])))
    np.testing.assert_allclose(result.train, expected, rtol=1e-12)
    peaks = dask_client.run(peak_live, tag)
    assert all(0 < peak <= 30 for peak in peaks.values()), peaks
