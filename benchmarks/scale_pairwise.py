"""K x K distances on a dask cluster: time, data shipped and memory per worker (issue "Scale").

Imported by the driver ``benchmarks/bench_scale.py`` (``measure``), or run
alone: ``OMP_NUM_THREADS=1 python benchmarks/scale_pairwise.py [--quick]``.
Not pinned to one core: the 2-worker runs need both.

K networks of 200 stimuli x 50 units (float64, 80 kB each), Procrustes
(``LinearMetric(alpha=1)``) and linear CKA, every pair of the K x K matrix:

- serial, in this process, one BLAS thread: time, tracemalloc peak;
- loky, ``n_jobs=2``: time, each worker's ``VmHWM`` over its resident memory
  before the job (fresh workers, skrep imported);
- dask, a fresh ``LocalCluster`` of 2 worker processes of 1 thread per run:
  the engine now ("after": blocks scattered once, tasks take futures), and
  the same tasks through ``joblib.Parallel`` with the lists of networks in
  every task's arguments ("before": the engine before this change, run by
  switching the engine's dask detection off), and the code a user would
  write without the engine (one ``dask.delayed`` task per pair with its two
  arrays, on the first pairs only: per-pair figures scaled to the job).
  Bytes received per worker count every TCP frame it reads (scattered data,
  task specifications, transfers from other workers): the benchmark wraps
  ``distributed.comm.tcp.read_bytes_rw`` in the worker processes. Worker to
  worker transfers come from ``Worker.transfer_incoming_log``; memory is the
  peak of ``RssAnon`` sampled every 10 ms in each worker, over its value
  before the job (skrep imported).

Times are the best of two runs (the machine may be shared); bytes and memory
come from the first run on a fresh cluster.

Then a cost model fitted on the dask runs: time = a + b n_pairs / n_workers,
data shipped per worker and memory per worker from the networks a worker
holds, extrapolated to K = 1,000 and 10,000.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import joblib
import numpy as np
from threadpoolctl import threadpool_limits

import skrep.engine.scheduler as scheduler
from skrep.engine import compute_pairs
from skrep.metrics import CKAEstimator, LinearMetric

N_STIMULI, N_UNITS = 200, 50
NETWORK_BYTES = N_STIMULI * N_UNITS * 8
MB = 1e6
MIB = 2.0**20


# -- in the worker processes ---------------------------------------------------------------
def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class _AnonPeak(threading.Thread):
    """Samples this process's anonymous resident memory, and a worker's data, until stopped."""

    def __init__(self, worker_state=None):
        super().__init__(daemon=True)
        self.start_kib = self.peak = _status_kib("RssAnon")
        self.state, self.data_peak = worker_state, 0
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, _status_kib("RssAnon"))
            if self.state is not None:  # the bytes of the keys the worker holds
                self.data_peak = max(self.data_peak, self.state.nbytes)
            time.sleep(0.01)


def _start_counting(dask_worker=None) -> int:
    """Count the bytes of every TCP frame this process reads; start the memory sampler."""
    import distributed.comm.tcp as tcp

    if not hasattr(tcp, "_skrep_bench_bytes"):
        original = tcp.read_bytes_rw
        tcp._skrep_bench_bytes = [0]

        async def counted(stream, n):
            tcp._skrep_bench_bytes[0] += n
            return await original(stream, n)

        tcp.read_bytes_rw = counted
    import skrep.metrics  # noqa: F401  (imported before the baseline is read)

    gc.collect()
    tcp._skrep_bench_sampler = _AnonPeak(dask_worker.state)
    tcp._skrep_bench_sampler.start()
    tcp._skrep_bench_start = (tcp._skrep_bench_bytes[0], len(dask_worker.transfer_incoming_log))
    return tcp._skrep_bench_bytes[0]


def _stop_counting(dask_worker=None) -> dict:
    """What this worker received since :func:`_start_counting`, and its memory peak."""
    import distributed.comm.tcp as tcp

    sampler = tcp._skrep_bench_sampler
    sampler.running = False
    sampler.join()
    start_bytes, start_log = tcp._skrep_bench_start
    log = list(dask_worker.transfer_incoming_log)[start_log:]
    return {
        "received": tcp._skrep_bench_bytes[0] - start_bytes,
        "transfers": sum(entry["total"] for entry in log),
        "keys_fetched": sum(len(entry["keys"]) for entry in log),
        "anon_peak": (sampler.peak - sampler.start_kib) * 1024,
        "data_peak": sampler.data_peak,
    }


def _loky_memory(seconds: float = 0.3) -> tuple[int, int, int]:
    """(pid, VmHWM, VmRSS) of a loky worker, in bytes; sleeps so that every worker answers."""
    import skrep.metrics  # noqa: F401  (imported before the job, as on the dask workers)

    time.sleep(seconds)
    return os.getpid(), _status_kib("VmHWM") * 1024, _status_kib("VmRSS") * 1024


# -- the jobs --------------------------------------------------------------------------------
def _networks(k: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N_STIMULI, 10))
    return [
        latent @ rng.standard_normal((10, N_UNITS)) + rng.standard_normal((N_STIMULI, N_UNITS))
        for _ in range(k)
    ]


MEASURES = {"Procrustes": lambda: LinearMetric(alpha=1.0), "linear CKA": CKAEstimator}


def _pairs(name: str, k: int) -> int:
    return k * (k - 1) // 2 if name == "Procrustes" else k * (k + 1) // 2


def _serial(name: str, Xs: list, block_size: int | None) -> dict:
    measure = MEASURES[name]()
    with threadpool_limits(1, user_api="blas"):
        times = []
        for _ in range(2):  # the best of two: the machine is shared
            started = time.perf_counter()
            values = compute_pairs(measure, Xs, block_size=block_size).train
            times.append(time.perf_counter() - started)
        seconds = min(times)
        gc.collect()
        tracemalloc.start()
        compute_pairs(measure, Xs, block_size=block_size)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"seconds": seconds, "values": values, "peak": peak}


def _loky(name: str, Xs: list, block_size: int | None) -> dict:
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)  # fresh workers: their VmHWM is this job's
    with joblib.parallel_config("loky", n_jobs=2):
        before = dict(
            (pid, rss)
            for pid, _, rss in joblib.Parallel()(joblib.delayed(_loky_memory)() for _ in range(4))
        )
        times = []
        for _ in range(2):  # the best of two: the machine is shared
            started = time.perf_counter()
            values = compute_pairs(MEASURES[name](), Xs, block_size=block_size).train
            times.append(time.perf_counter() - started)
        seconds = min(times)
        after = joblib.Parallel()(joblib.delayed(_loky_memory)() for _ in range(4))
    peaks = [hwm - before[pid] for pid, hwm, _ in after if pid in before]
    return {"seconds": seconds, "values": values, "peak": max(peaks, default=float("nan"))}


def _naive(name: str, Xs: list, n_pairs: int) -> list:
    """What a user would write without the engine: one dask task per pair, arrays inside."""
    from dask import compute, delayed

    pairs = [(i, j) for i in range(len(Xs)) for j in range(i + 1, len(Xs))][:n_pairs]

    def one_pair(X, Y):
        if name == "Procrustes":
            return LinearMetric(alpha=1.0).fit(X, Y).distance(X, Y)
        return CKAEstimator().fit(X, Y).score(X, Y)

    return list(compute(*[delayed(one_pair)(Xs[i], Xs[j]) for i, j in pairs]))


def _on_cluster(name: str, Xs: list, block_size: int | None, how: str, n_workers: int = 2):
    """One job on a fresh LocalCluster: time, per-worker bytes and memory, the values."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        detect = scheduler.active_dask_backend
        times = []
        try:
            with joblib.parallel_config("dask"):
                if how == "before":  # the same tasks through joblib.Parallel, as before
                    scheduler.active_dask_backend = lambda: None
                # Bytes and memory on the first run; the time is the best of two (the
                # machine is shared), one for the naive job.
                for repeat in range(1 if how.startswith("naive") else 2):
                    if not repeat:
                        client.run(_start_counting)
                    started = time.perf_counter()
                    if how.startswith("naive"):
                        values = _naive(name, Xs, int(how.split()[1]))
                    else:
                        values = compute_pairs(MEASURES[name](), Xs, block_size=block_size).train
                    times.append(time.perf_counter() - started)
                    if not repeat:
                        per_worker = list(client.run(_stop_counting).values())
        finally:
            scheduler.active_dask_backend = detect
    return {
        "seconds": min(times),
        "values": values,
        "received": [w["received"] for w in per_worker],
        "transfers": [w["transfers"] for w in per_worker],
        "peak": [w["anon_peak"] for w in per_worker],
        "held": [w["data_peak"] for w in per_worker],
    }


def _mb(values) -> str:
    return "/".join(f"{v / MB:.1f}" for v in values)


def _fit_time(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares of seconds = a + b * (pairs per worker)."""
    x, y = np.array(points).T
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def _blocks(k: int, block_size: int) -> int:
    return -(-k // block_size)


def measure(quick: bool = False) -> list[str]:
    """The pairwise part of the scale benchmark: result lines.

    Parameters
    ----------
    quick : bool, default=False
        K = 60 (naive: 200 pairs) instead of K = 200 (naive: 1,000 pairs).

    Returns
    -------
    list of str
        One line per measurement, then the cost model and its extrapolation.
    """
    k = 60 if quick else 200
    naive_pairs = 200 if quick else 1000
    small_block = 10
    Xs = _networks(k)
    data = k * NETWORK_BYTES
    lines = [
        f"pairwise: K = {k} networks of {N_STIMULI} x {N_UNITS} float64 ({data / MB:.1f} MB in "
        f"all), every pair; dask = LocalCluster(2 worker processes x 1 thread), fresh per run; "
        f"{joblib.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
        "'received' = every TCP frame a worker read"
    ]
    held, overhead = [], []
    for name in MEASURES:
        n_pairs = _pairs(name, k)
        serial = _serial(name, Xs, None)
        loky = _loky(name, Xs, None)
        after = _on_cluster(name, Xs, None, "after")
        before = _on_cluster(name, Xs, None, "before")
        naive = _on_cluster(name, Xs, None, f"naive {naive_pairs}")
        for other in (loky, after, before):
            np.testing.assert_allclose(other["values"], serial["values"], atol=1e-12)
        scale = n_pairs / naive_pairs
        naive_total = sum(naive["received"]) * scale
        lines += [
            f"{name}: {n_pairs:,} pairs, automatic blocks",
            f"  serial, 1 thread: {serial['seconds']:.2f} s "
            f"({serial['seconds'] / n_pairs * 1e6:.0f} us/pair), traced peak "
            f"{serial['peak'] / MIB:.1f} MiB",
            f"  loky n_jobs=2:    {loky['seconds']:.2f} s "
            f"({loky['seconds'] / n_pairs * 1e6:.0f} us/pair), worker VmHWM over RSS "
            f"{loky['peak'] / MIB:.1f} MiB",
            f"  dask, after:      {after['seconds']:.2f} s "
            f"({after['seconds'] / n_pairs * 1e6:.0f} us/pair); received per worker "
            f"{_mb(after['received'])} MB (from the other worker {_mb(after['transfers'])}); "
            f"RssAnon peak per worker {_mb(after['peak'])} MB",
            f"  dask, before:     {before['seconds']:.2f} s; received per worker "
            f"{_mb(before['received'])} MB; RssAnon peak per worker {_mb(before['peak'])} MB",
            f"  dask, naive (a delayed task per pair; first {naive_pairs:,} pairs): "
            f"{naive['seconds']:.2f} s, {sum(naive['received']) / naive_pairs / 1e3:.0f} kB "
            f"received per pair -> whole job ~{naive['seconds'] * scale:.0f} s, "
            f"~{naive_total / MB:,.0f} MB (scaled)",
            f"  ratios: time after/serial {after['seconds'] / serial['seconds']:.2f}, "
            f"after/loky {after['seconds'] / loky['seconds']:.2f}; data shipped before/after "
            f"{sum(before['received']) / sum(after['received']):.2f}, naive/after "
            f"{naive_total / sum(after['received']):.0f}",
        ]
        held.append(max(after["received"]) / data)
        overhead.append(max(after["peak"]) - max(after["received"]))
    # Many blocks (what a cluster of many workers gets): before ships ~ blocks x K networks.
    name = "Procrustes"
    after = _on_cluster(name, Xs, small_block, "after")
    before = _on_cluster(name, Xs, small_block, "before")
    n_blocks = _blocks(k, small_block)
    n_tasks = n_blocks * (n_blocks + 1) // 2
    lines += [
        f"{name}, block_size={small_block} ({n_blocks} blocks, {n_tasks} tasks):",
        f"  after:  {after['seconds']:.2f} s; received per worker {_mb(after['received'])} MB "
        f"({max(after['received']) / data:.2f} x the data); held at once (peak of the "
        f"worker's data) {_mb(after['held'])} MB ({max(after['held']) / data:.2f} x the data); "
        f"RssAnon peak {_mb(after['peak'])} MB",
        f"  before: {before['seconds']:.2f} s; received per worker {_mb(before['received'])} MB "
        f"({sum(before['received']) / data:.1f} x the data in all, blocks = {n_blocks}); "
        f"RssAnon peak {_mb(before['peak'])} MB; before/after "
        f"{sum(before['received']) / sum(after['received']):.1f}",
    ]
    held.append(max(after["received"]) / data)
    overhead.append(max(after["peak"]) - max(after["received"]))
    held_at_once = max(after["held"]) / data
    # The time model: the Procrustes job at three sizes on 2 workers.
    points = []
    for size in (k // 4, k // 2, k):
        run = _on_cluster(name, Xs[:size], None, "after")
        points.append((_pairs(name, size) / 2, run["seconds"]))
    a, b = _fit_time(points)
    held_factor = max(held)
    lines += [
        f"model ({name}, 2 workers): time = {a:.2f} s + {b * 1e6:.0f} us x pairs / workers "
        f"(least squares on K = {k // 4}, {k // 2}, {k}: "
        + ", ".join(f"{p * 2:,.0f} pairs {s:.2f} s" for p, s in points)
        + ")",
        f"  shipped per worker (after) = {held_factor:.2f} x the K networks at most (a block "
        f"reaches a worker once); before ~ blocks x K networks in all; naive 2 networks a pair",
        f"  memory per worker = the networks it holds at once: its bands of rows (K / workers) "
        f"+ the blocks of its 2 submitted tasks per thread ({held_at_once:.2f} x the K networks "
        f"here, block_size={small_block}, 2 workers) + working set and dask's own (RssAnon peak "
        f"less data received: {max(overhead) / MB:.0f} MB at most here)",
    ]
    for big in (1000, 10000):
        pairs = _pairs(name, big)
        for workers in (2, 32):
            # Bands of K / workers networks, and 2 tasks' blocks of ~working_memory each.
            gib = (big / workers + 4 * small_block) * NETWORK_BYTES / 2**30
            lines.append(
                f"  extrapolated, K = {big:,}, {workers} workers: {a + b * pairs / workers:,.0f} s;"
                f" shipped per worker <= {big * NETWORK_BYTES * held_factor / 2**30:.2f} GiB, "
                f"held at once ~{gib:.2f} GiB (block_size={small_block}), + a block's working set"
            )
    return lines


if __name__ == "__main__":
    print("\n".join(measure(quick="--quick" in sys.argv)))
