"""skrep.pairwise_distances: equal to per-pair fits, parallel, resumable, bounded memory."""

import itertools
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc

import joblib
import numpy as np
import pytest
from conftest import load_reference
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skrep
from skrep import LinearMetric, PermutationMetric, pairwise_distances
from skrep.compat import netrep as compat
from skrep.exceptions import InvalidParameterError
from skrep.metrics._base import BaseMetric
from skrep.multiset import check_distance_matrix, cluster_order, embed_distances


def pair_loop(metric, Xs, Xs_test=None):
    """The definition: fit every pair separately (netrep's serial loop)."""
    n = len(Xs)
    D_train, D_test = np.zeros((n, n)), np.zeros((n, n))
    for i, j in itertools.combinations(range(n), 2):
        fitted = metric.fit(Xs[i], Xs[j])
        D_train[i, j] = D_train[j, i] = fitted.distance(Xs[i], Xs[j])
        if Xs_test is not None:
            D_test[i, j] = D_test[j, i] = fitted.distance(Xs_test[i], Xs_test[j])
    return D_train, D_test


def related_networks(rng, widths, n_samples=60, n_test=25, noise=0.5):
    """Networks sharing a latent signal (distances well below pi/2), plus held-out data."""
    latent = rng.standard_normal((n_samples + n_test, max(widths)))
    Xs = [
        latent[:, :w] @ rng.standard_normal((w, w)) + noise * rng.standard_normal((len(latent), w))
        for w in widths
    ]
    return [X[:n_samples] for X in Xs], [X[n_samples:] for X in Xs]


METRICS = [
    LinearMetric(alpha=1.0),
    LinearMetric(alpha=0.5),
    LinearMetric(alpha=0.0),
    LinearMetric(alpha=0.3, score_method="euclidean"),
    LinearMetric(alpha=1.0, score_method="euclidean", center_columns=False),
    PermutationMetric(),
    PermutationMetric(score_method="euclidean"),
]


@pytest.mark.parametrize("metric", METRICS, ids=repr)
@pytest.mark.parametrize("block_size", [None, 2, 3])
def test_equals_the_per_pair_fit(metric, block_size, rng):
    # Different widths (zero padding per pair), a duplicate network (distance 0,
    # recomputed from the data) and a narrower copy of another.
    Xs, Xs_test = related_networks(rng, [5, 8, 8, 6, 8, 3])
    Xs.append(Xs[2].copy())
    Xs_test.append(Xs_test[2].copy())
    D_train, D_test = pairwise_distances(metric, Xs, Xs_test, block_size=block_size)
    R_train, R_test = pair_loop(metric, Xs, Xs_test)
    np.testing.assert_allclose(D_train, R_train, rtol=0, atol=1e-10)
    np.testing.assert_allclose(D_test, R_test, rtol=0, atol=1e-10)
    assert np.array_equal(D_train, D_train.T) and np.all(np.diag(D_train) == 0)
    assert D_train[2, 6] == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize(
    "name", ["linear_a0p0_angular", "linear_a0p5_euclidean", "linear_a1p0_angular"]
)
def test_matches_netrep_reference_values(name):
    ref = load_reference("netrep", name)
    metric = LinearMetric(alpha=float(ref["alpha"]), score_method=str(ref["score_method"]))
    D, _ = pairwise_distances(metric, [ref["X"], ref["Y"]])
    assert D[0, 1] == pytest.approx(float(ref["dist_centered"]), abs=1e-10)
    uncentered = metric.set_params(center_columns=False)
    D, _ = pairwise_distances(uncentered, [ref["X"], ref["Y"]])
    assert D[0, 1] == pytest.approx(float(ref["dist_uncentered"]), abs=1e-10)


def test_matches_netrep_zero_padding_reference():
    ref = load_reference("netrep", "linear_zero_pad")
    for (a, alpha), (s, method) in itertools.product(
        enumerate([0.0, 0.5, 1.0]), enumerate(["angular", "euclidean"])
    ):
        exact = compat.LinearMetric(alpha=alpha, score_method=method)
        D, _ = exact.pairwise_distances([ref["X"], ref["Y"]])
        assert D[0, 1] == pytest.approx(ref["dist"][a, s], abs=1e-10), (alpha, method)
        # The native metrics floor the whitening eigenvalues relative to the data's
        # scale (netrep: an absolute 1e-7); on these rank-deficient, zero-padded
        # networks that moves the distances at alpha < 1 by up to ~1e-8 relative.
        D, _ = pairwise_distances(
            LinearMetric(alpha=alpha, score_method=method), [ref["X"], ref["Y"]]
        )
        assert D[0, 1] == pytest.approx(ref["dist"][a, s], rel=1e-6), (alpha, method)


def test_matches_netrep_permutation_reference():
    ref = load_reference("netrep", "extras")
    for method in ("angular", "euclidean"):
        D, _ = pairwise_distances(
            PermutationMetric(score_method=method), [ref["perm_X"], ref["perm_Y"]]
        )
        assert D[0, 1] == pytest.approx(float(ref[f"perm_dist_{method}"]), abs=1e-10)


def test_preprocessor_is_fitted_once_per_network_and_equals_per_pair(rng):
    Xs, Xs_test = related_networks(rng, [8, 8, 7, 8])
    metric = LinearMetric(alpha=0.5, preprocessor=make_pipeline(StandardScaler(), PCA(4)))
    D_train, D_test = pairwise_distances(metric, Xs, Xs_test)
    assert not hasattr(metric, "mx_")  # the metric passed in is left unfitted
    R_train, R_test = pair_loop(metric, Xs, Xs_test)
    np.testing.assert_allclose(D_train, R_train, atol=1e-10)
    np.testing.assert_allclose(D_test, R_test, atol=1e-10)


class ShiftMetric(BaseMetric):
    """A metric with no batched form: exercises the generic per-pair path.

    Distance between the column-mean vectors after sorting them.
    """

    _reference_attribute = "offset_"

    def __init__(self, *, preprocessor=None, device=None):
        self.preprocessor = preprocessor
        self.device = device

    def _fit(self, X, Y):
        self.offset_ = np.sort(X.mean(axis=0))[:3] - np.sort(Y.mean(axis=0))[:3]

    def _distance(self, X, Y):
        diff = np.sort(X.mean(axis=0))[:3] - np.sort(Y.mean(axis=0))[:3] - self.offset_
        return float(np.linalg.norm(diff)) + float(np.linalg.norm(self.offset_))


def test_every_metric_gets_pairwise_distances_from_the_base_class(rng):
    Xs, Xs_test = related_networks(rng, [4, 4, 4, 4, 4])
    metric = ShiftMetric(preprocessor=StandardScaler(with_std=False))
    D_train, D_test = metric.pairwise_distances(Xs, Xs_test, block_size=2)
    R_train, R_test = pair_loop(metric, Xs, Xs_test)
    np.testing.assert_allclose(D_train, R_train, atol=1e-12)
    np.testing.assert_allclose(D_test, R_test, atol=1e-12)


def test_generic_path_equals_batched_path(rng):
    Xs, Xs_test = related_networks(rng, [6, 5, 6, 4])
    metric = LinearMetric(alpha=0.25)
    D_batched, T_batched = pairwise_distances(metric, Xs, Xs_test)

    class Unbatched(LinearMetric):
        pairwise_prepare = BaseMetric.pairwise_prepare
        pairwise_block = BaseMetric.pairwise_block

    D_generic, T_generic = pairwise_distances(Unbatched(alpha=0.25), Xs, Xs_test)
    np.testing.assert_allclose(D_batched, D_generic, atol=1e-10)
    np.testing.assert_allclose(T_batched, T_generic, atol=1e-10)


def test_method_function_and_input_forms_agree(rng):
    Xs, _ = related_networks(rng, [5, 5, 5, 5])
    metric = LinearMetric(alpha=0.5)
    D, none = metric.pairwise_distances(Xs)
    assert none is None
    np.testing.assert_array_equal(D, pairwise_distances(metric, np.stack(Xs))[0])
    np.testing.assert_array_equal(D, pairwise_distances(metric, tuple(Xs))[0])
    np.testing.assert_array_equal(
        D, pairwise_distances(metric, {f"net{k}": X for k, X in enumerate(Xs)})[0]
    )
    assert skrep.pairwise_distances is pairwise_distances


def test_one_network_gives_a_zero_matrix(rng):
    D, T = pairwise_distances(LinearMetric(), [rng.standard_normal((10, 3))], [np.ones((2, 3))])
    assert D.shape == T.shape == (1, 1) and D[0, 0] == 0


def test_torch_and_numpy_agree(rng):
    torch = pytest.importorskip("torch")
    Xs, Xs_test = related_networks(rng, [6, 6, 5, 6])
    for metric in (LinearMetric(alpha=0.5), PermutationMetric()):
        expected = pairwise_distances(metric, Xs, Xs_test)
        on_torch = pairwise_distances(
            metric, [torch.from_numpy(X) for X in Xs], [torch.from_numpy(X) for X in Xs_test]
        )
        moved = pairwise_distances(metric.set_params(device="cpu"), Xs, Xs_test)
        for got in (on_torch, moved):
            assert isinstance(got[0], np.ndarray)
            np.testing.assert_allclose(got[0], expected[0], atol=1e-10)
            np.testing.assert_allclose(got[1], expected[1], atol=1e-10)


def test_float32_is_close_to_float64(rng):
    Xs, _ = related_networks(rng, [10, 10, 10])
    D64, _ = pairwise_distances(LinearMetric(alpha=1.0), Xs)
    D32, _ = pairwise_distances(LinearMetric(alpha=1.0), [X.astype(np.float32) for X in Xs])
    np.testing.assert_allclose(D32, D64, atol=1e-5)
    # Mixed precisions compute in float64, like a fit on a float32/float64 pair.
    mixed = [Xs[0].astype(np.float32), Xs[1], Xs[2]]
    np.testing.assert_allclose(pairwise_distances(LinearMetric(), mixed)[0], D64, atol=1e-12)


# -- errors ------------------------------------------------------------------------------
def test_clear_errors(rng):
    X = rng.standard_normal((20, 4))
    metric = LinearMetric()
    with pytest.raises(ValueError, match=r"Xs\[2\] has 19 samples .* Xs\[0\] has 20"):
        pairwise_distances(metric, [X, X, X[:-1]])
    with pytest.raises(ValueError, match=r"Xs\[1\] contains 9 NaN"):
        pairwise_distances(metric, [X, np.where(X > 1, np.nan, X)])
    with pytest.raises(ValueError, match=r"Xs_test holds 1 networks but Xs holds 2"):
        pairwise_distances(metric, [X, X], [X])
    with pytest.raises(ValueError, match=r"Xs_test\[1\] has 3 features but Xs\[1\] has 4"):
        pairwise_distances(metric, [X, X], [X, X[:, :3]])
    with pytest.raises(ValueError, match=r"Xs_test\[1\] has 5 samples .* Xs_test\[0\] has 20"):
        pairwise_distances(metric, [X, X], [X, X[:5]])
    with pytest.raises(ValueError, match="holds no networks"):
        pairwise_distances(metric, [])
    with pytest.raises(ValueError, match=r"Xs is a 2-D array of shape \(20, 4\)"):
        pairwise_distances(metric, X)
    with pytest.raises(ValueError, match=r"Xs\[0\] must be a 2-D array"):
        pairwise_distances(metric, [X[0], X[0]])
    with pytest.raises(ValueError, match=r"Xs\[1\] has 3 features .* zero_pad=False"):
        pairwise_distances(LinearMetric(zero_pad=False), [X, X[:, :3]])
    with pytest.raises(ValueError, match=r"Xs\[1\] is all zeros after centering"):
        pairwise_distances(PermutationMetric(), [X, np.ones_like(X), X])
    with pytest.raises(InvalidParameterError, match="block_size must be None or a positive"):
        pairwise_distances(metric, [X, X], block_size=0)
    with pytest.raises(InvalidParameterError, match="got the class LinearMetric"):
        pairwise_distances(LinearMetric, [X, X])
    with pytest.raises(InvalidParameterError, match="must be a skrep distance metric"):
        pairwise_distances(PCA(), [X, X])
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        pairwise_distances(LinearMetric(alpha=2.0), [X, X])


# -- parallel execution ------------------------------------------------------------------
class BlasThreadsMetric(LinearMetric):
    """Reports, as its 'distance', the BLAS threads available where a task ran."""

    def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
        from threadpoolctl import threadpool_info

        threads = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return np.full(len(pairs), float(threads)), None


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_parallel_backends_equal_serial(backend, rng):
    Xs, Xs_test = related_networks(rng, [6, 6, 6, 6, 6, 6, 6])
    metric = LinearMetric(alpha=0.5)
    serial = pairwise_distances(metric, Xs, Xs_test)
    with joblib.parallel_config(backend=backend):
        parallel = pairwise_distances(metric, Xs, Xs_test, n_jobs=2)
    np.testing.assert_allclose(parallel[0], serial[0], atol=1e-13)
    np.testing.assert_allclose(parallel[1], serial[1], atol=1e-13)


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_blas_threads_are_shared_between_workers(backend, rng):
    Xs = [rng.standard_normal((20, 3)) for _ in range(6)]
    n_cpus = joblib.cpu_count()
    with joblib.parallel_config(backend=backend):
        D, _ = pairwise_distances(BlasThreadsMetric(), Xs, n_jobs=2)
    off_diagonal = D[~np.eye(6, dtype=bool)]
    assert np.all(off_diagonal <= max(1, n_cpus // 2))


def test_runs_on_a_dask_cluster(rng, dask_client):
    distributed = pytest.importorskip("distributed")
    Xs, Xs_test = related_networks(rng, [5, 5, 5, 5, 5, 5])
    metric = LinearMetric(alpha=0.5)
    serial = pairwise_distances(metric, Xs, Xs_test)
    workers = set(dask_client.scheduler_info()["workers"])
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config("dask"):
        on_dask = pairwise_distances(metric, Xs, Xs_test, n_jobs=2)
    ran_on = {task["worker"] for task in stream.data}
    np.testing.assert_allclose(on_dask[0], serial[0], atol=1e-13)
    np.testing.assert_allclose(on_dask[1], serial[1], atol=1e-13)
    assert stream.data, "no task ran on the cluster"
    assert ran_on <= workers


# -- long jobs ---------------------------------------------------------------------------
def test_progress_bar(rng, capsys):
    Xs = [rng.standard_normal((20, 3)) for _ in range(4)]
    pairwise_distances(LinearMetric(), Xs, verbose=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "pair" in err
    pairwise_distances(LinearMetric(), Xs)
    assert capsys.readouterr().err == ""


class CountingMetric(LinearMetric):
    """Counts the pairs it computes; raises KeyboardInterrupt after ``stop_after`` blocks."""

    computed = []
    stop_after = None

    def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
        if self.stop_after is not None and len(CountingMetric.computed) >= self.stop_after:
            raise KeyboardInterrupt
        CountingMetric.computed.append(len(pairs))
        return super().pairwise_block(nets_a, nets_b, pairs, same_block=same_block)


def test_interrupted_run_resumes_without_recomputing_finished_pairs(rng, tmp_path):
    Xs, Xs_test = related_networks(rng, [5] * 8)
    expected = pairwise_distances(LinearMetric(alpha=0.5), Xs, Xs_test)
    total_pairs = 8 * 7 // 2
    CountingMetric.computed = []
    CountingMetric.stop_after = 3
    with pytest.raises(KeyboardInterrupt):
        pairwise_distances(CountingMetric(alpha=0.5), Xs, Xs_test, cache_dir=tmp_path, block_size=2)
    finished = sum(CountingMetric.computed)
    assert len(CountingMetric.computed) == 3 and 0 < finished < total_pairs

    CountingMetric.computed = []
    CountingMetric.stop_after = None
    resumed = pairwise_distances(
        CountingMetric(alpha=0.5), Xs, Xs_test, cache_dir=tmp_path, block_size=2
    )
    assert sum(CountingMetric.computed) == total_pairs - finished
    np.testing.assert_allclose(resumed[0], expected[0], atol=1e-13)
    np.testing.assert_allclose(resumed[1], expected[1], atol=1e-13)

    # A third run loads everything; other data or parameters are not mixed up.
    CountingMetric.computed = []
    pairwise_distances(CountingMetric(alpha=0.5), Xs, Xs_test, cache_dir=tmp_path, block_size=2)
    assert CountingMetric.computed == []
    other = pairwise_distances(
        CountingMetric(alpha=0.25), Xs, Xs_test, cache_dir=tmp_path, block_size=2
    )
    assert sum(CountingMetric.computed) == total_pairs
    np.testing.assert_allclose(
        other[0], pairwise_distances(LinearMetric(alpha=0.25), Xs)[0], atol=1e-13
    )


def test_killed_run_resumes(tmp_path):
    """A process killed mid-run leaves finished blocks that the next run reuses."""
    data = tmp_path / "networks.npy"
    cache = tmp_path / "cache"
    np.save(data, np.random.default_rng(1).standard_normal((10, 30, 4)))
    script = textwrap.dedent(
        f"""
        import time
        import numpy as np
        from skrep import LinearMetric, pairwise_distances

        class Slow(LinearMetric):
            def pairwise_block(self, *args, **kwargs):
                print("computed", flush=True)
                time.sleep(0.25)
                return super().pairwise_block(*args, **kwargs)

        D, _ = pairwise_distances(
            Slow(), np.load({str(data)!r}), cache_dir={str(cache)!r}, block_size=2
        )
        print("checksum", repr(float(D.sum())))
        """
    )
    n_tasks = 15  # 5 blocks of 2 networks: 5 * 6 / 2 pairs of blocks
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list(cache.rglob("block-*.npz"))) < 3:
            assert time.monotonic() < deadline, "the run wrote no finished block in time"
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = len(list(cache.rglob("block-*.npz")))
    assert 3 <= finished < n_tasks

    rerun = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.count("computed") == n_tasks - finished
    checksum = float(rerun.stdout.split("checksum")[1])
    expected, _ = pairwise_distances(LinearMetric(), np.load(data))
    assert checksum == pytest.approx(expected.sum(), abs=1e-10)


def test_memory_stays_linear_in_the_number_of_networks(rng):
    n_networks, n_samples, width = 40, 1000, 10
    Xs = [rng.standard_normal((n_samples, width)) for _ in range(n_networks)]
    data_bytes = n_networks * n_samples * width * 8
    tracemalloc.start()
    try:
        pairwise_distances(LinearMetric(alpha=0.5), Xs, Xs, block_size=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Prepared train + held-out copies (2 x data) and one block; K^2 copies would be 40x.
    assert peak < 3.5 * data_bytes


# -- looking at the result -----------------------------------------------------------------
def test_embedding_recovers_euclidean_distances(rng):
    points = rng.standard_normal((8, 2))
    D = np.linalg.norm(points[:, None] - points[None], axis=-1)
    embedded = embed_distances(D)
    assert embedded.shape == (8, 2)
    recovered = np.linalg.norm(embedded[:, None] - embedded[None], axis=-1)
    np.testing.assert_allclose(recovered, D, atol=1e-3)


def test_cluster_order_groups_clusters(rng):
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    labels = np.repeat([0, 1, 2], 4)
    perm = rng.permutation(12)
    points = centers[labels[perm]] + 0.1 * rng.standard_normal((12, 2))
    D = np.linalg.norm(points[:, None] - points[None], axis=-1)
    order = cluster_order(D)
    assert sorted(order) == list(range(12))
    ordered_labels = labels[perm][order]
    assert np.count_nonzero(np.diff(ordered_labels)) == 2  # each cluster is contiguous


def test_check_distance_matrix_errors():
    with pytest.raises(ValueError, match="square"):
        check_distance_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not symmetric"):
        check_distance_matrix(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="non-zero diagonal"):
        check_distance_matrix(np.array([[1.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="negative"):
        check_distance_matrix(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(ValueError, match="NaN"):
        check_distance_matrix(np.array([[0.0, np.nan], [np.nan, 0.0]]))


def test_positional_arguments_follow_netreps_order_with_a_future_warning(rng):
    # n_jobs and verbose are keyword-only now; by position they work for one release.
    Xs = [rng.standard_normal((15, 3)) for _ in range(3)]
    metric = LinearMetric()
    expected = pairwise_distances(metric, Xs, Xs)
    with pytest.warns(FutureWarning, match="n_jobs, verbose to pairwise_distances"):
        by_function = pairwise_distances(metric, Xs, Xs, 1, False)
    with pytest.warns(FutureWarning, match=r"n_jobs to LinearMetric.pairwise_distances\(\)"):
        by_method = metric.pairwise_distances(Xs, Xs, 1)
    for got in (by_function, by_method):
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    with pytest.raises(TypeError, match="at most 2 extra positional"):
        pairwise_distances(metric, Xs, Xs, 1, False, 3)


def test_fewer_samples_than_units_keeps_training_distances_exact(rng):
    # The held-out alignment is then not unique (documented); training distances are.
    Xs = [rng.standard_normal((30, 50)) for _ in range(4)]
    for alpha in (0.0, 0.5, 1.0):
        metric = LinearMetric(alpha=alpha)
        D, _ = pairwise_distances(metric, Xs)
        np.testing.assert_allclose(D, pair_loop(metric, Xs)[0], atol=1e-10)
    # With a PCA below the number of samples the held-out distances are determined again.
    Xs_test = [rng.standard_normal((10, 50)) for _ in range(4)]
    reduced = LinearMetric(alpha=1.0, preprocessor=PCA(20))
    D, T = pairwise_distances(reduced, Xs, Xs_test)
    R, R_test = pair_loop(reduced, Xs, Xs_test)
    np.testing.assert_allclose(D, R, atol=1e-10)
    np.testing.assert_allclose(T, R_test, atol=1e-10)


def test_cross_distances_between_two_collections(rng):
    Xs, Xs_test = related_networks(rng, [5, 6, 4])
    Ys, Ys_test = related_networks(rng, [6, 3])
    metric = LinearMetric(alpha=0.5)
    D_train, D_test = skrep.cross_distances(metric, Xs, Ys, Xs_test, Ys_test, block_size=1)
    assert D_train.shape == D_test.shape == (3, 2)
    for i, j in np.ndindex(3, 2):
        fitted = metric.fit(Xs[i], Ys[j])
        assert D_train[i, j] == pytest.approx(fitted.distance(Xs[i], Ys[j]), abs=1e-12)
        assert D_test[i, j] == pytest.approx(fitted.distance(Xs_test[i], Ys_test[j]), abs=1e-12)
    # Against itself, the cross matrix is the pairwise one.
    np.testing.assert_allclose(
        skrep.cross_distances(metric, Xs, Xs)[0], pairwise_distances(metric, Xs)[0], atol=1e-12
    )
    with pytest.raises(ValueError, match="Xs_test was given without Ys_test"):
        skrep.cross_distances(metric, Xs, Ys, Xs_test)


@pytest.mark.parametrize(
    "metric", [LinearMetric(alpha=1.0), LinearMetric(alpha=0.0), PermutationMetric()]
)
def test_float32_close_pairs_match_single_fits(rng, metric):
    # Distances of 0.01 to 0.1: from float32 inner products they lose digits, so
    # the batched path recomputes them from the data, as a float32 single fit does.
    base = rng.standard_normal((200, 20))
    Xs = [
        (base + noise * rng.standard_normal((200, 20))).astype(np.float32)
        for noise in (0.01, 0.02, 0.05)
    ]
    D, _ = pairwise_distances(metric, Xs)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        single = metric.fit(Xs[i], Xs[j]).distance(Xs[i], Xs[j])
        assert 0.005 < single < 0.2
        assert D[i, j] == pytest.approx(single, rel=2e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "metric", [LinearMetric(alpha=1.0), LinearMetric(alpha=0.5), PermutationMetric()]
)
def test_batched_matrices_are_metrics_on_random_collections(metric, dtype):
    # 150 random collections of 6 networks (some pairs near each other, where the
    # batched path refines from the data): 20 triples each, 3000 triangles in all.
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    rng = np.random.default_rng(7)
    for _ in range(150):
        base = rng.standard_normal((25, 4))
        noise = rng.choice([0.005, 0.05, 0.5, 3.0], size=6)
        Xs = [(base + s * rng.standard_normal((25, 4))).astype(dtype) for s in noise]
        D, _ = pairwise_distances(metric, Xs)
        assert np.all(np.diag(D) == 0) and np.array_equal(D, D.T) and np.all(D >= 0)
        for i, j, k in itertools.combinations(range(6), 3):
            for a, b, c in ((i, j, k), (j, k, i), (k, i, j)):
                assert D[a, c] <= D[a, b] + D[b, c] + tolerance


def test_similarity_estimators_with_a_distance_give_it_to_pairwise_distances():
    from skrep import BuresEstimator, CCAEstimator, CKAEstimator, cross_distances
    from skrep.exceptions import InvalidParameterError

    rng = np.random.default_rng(3)
    Xs = [rng.standard_normal((30, 4 + k)) for k in range(3)]
    tests = [rng.standard_normal((12, 4 + k)) for k in range(3)]
    for estimator in (BuresEstimator(), CKAEstimator()):
        D, D_test = pairwise_distances(estimator, Xs, tests)
        C, _ = cross_distances(estimator, Xs[:2], Xs)
        for i in range(3):
            for j in range(3):
                fitted = estimator.fit(Xs[i], Xs[j])
                expected = 0.0 if i == j else fitted.distance(Xs[i], Xs[j])
                assert D[i, j] == pytest.approx(expected, abs=1e-12)
                if i != j:
                    held_out = fitted.distance(tests[i], tests[j])
                    assert D_test[i, j] == pytest.approx(held_out, abs=1e-12)
                if i < 2:
                    assert C[i, j] == pytest.approx(fitted.distance(Xs[i], Xs[j]), abs=1e-12)
    with pytest.raises(InvalidParameterError, match="must be a skrep distance metric"):
        pairwise_distances(CCAEstimator(), Xs)
