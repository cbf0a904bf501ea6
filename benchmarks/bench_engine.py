"""Time the many-networks engine: layer matrices, and the cost of its cache.

Run by hand on a quiet machine (``python benchmarks/bench_engine.py`` or
``make bench``); results are printed and appended to
``benchmarks/results/bench_engine.txt``. It reports, in one run:

1. **Layer matrix of a distance metric.** ``layer_similarity(LinearMetric(), layers)``
   for 8 layers of 3000 x 512 (the case of the issue that made one engine:
   16.1 s before, when it refitted the metric per pair) against
   ``pairwise_distances`` (the same numbers) and against the pair loop a user
   would write otherwise (``LinearMetric().fit(a, b).distance(a, b)`` per pair,
   netrep's serial algorithm). Also a rectangular 8 x 8 matrix between two
   networks' layers.
2. **Layer matrices of similarities.** ``layer_similarity(name, layers)`` for
   the CCA family, PWCCA, the kNN measures and RSA against the loop of the
   pair functions, on 12 layers of 2000 x 256.
3. **Cache.** A per-pair metric (``GaussianStochasticMetric``, which fits an
   alignment per pair) on 24 networks of 300 x 40 with ``block_size=2`` (78
   blocks): the uncached run, the first run with a cache, a fully cached run,
   and three runs started together on one cache (blocks computed in all: 78
   is the least possible).
4. **Pool** (issue 22, item 6). netrep's drop-in
   ``skrep.compat.netrep.GaussianStochasticMetric().pairwise_distances`` on the
   issue's small job (5 networks of 10 Gaussians in 5 dimensions, 10 pairs),
   each setting in fresh interpreters (so a pool starts cold): the default
   ``processes=None`` (now ``n_jobs="auto"``: the first pair is timed and the
   job stays serial), ``processes=1``, ``processes=2`` (explicit: a loky pool,
   then a second call in the same interpreter that reuses it), and netrep's
   algorithm (a fresh ``multiprocessing.Pool`` of all CPUs, one fit and score
   per pair). Before the change the default was the explicit pool: 1.27 s on
   the issue's machine, for 0.09 s of work.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from bench_linear import append_results, header_lines

from skrep import LinearMetric, layer_similarity, pairwise_distances
from skrep.functional import jaccard_knn, mean_cca, mutual_knn, pwcca, svcca
from skrep.metrics import RSA, GaussianStochasticMetric

RESULTS = Path(__file__).parent / "results" / "bench_engine.txt"


def layers(n_layers, n_samples, width, seed=0):
    """Layers sharing a 30-dimensional latent signal through tanh maps, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, 30))
    return [
        np.tanh(latent @ rng.standard_normal((30, width)) / 5)
        + 0.3 * rng.standard_normal((n_samples, width))
        for _ in range(n_layers)
    ]


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def pair_loop(function, first, second=None):
    second = first if second is None else second
    return np.array([[function(a, b) for b in second] for a in first])


def distance_section(lines, quick):
    shape = (8, 1500, 256) if quick else (8, 3000, 512)
    Ls = layers(*shape)
    others = layers(*shape, seed=1)
    metric = LinearMetric()
    t_engine, D = timed(lambda: layer_similarity(metric, Ls))
    t_pairwise, (P, _) = timed(lambda: pairwise_distances(metric, Ls))
    loop = lambda a, b: metric.fit(a, b).distance(a, b)  # noqa: E731
    t_loop, expected = timed(lambda: pair_loop(loop, Ls))
    t_cross, C = timed(lambda: layer_similarity(metric, Ls, others))
    t_cross_loop, expected_cross = timed(lambda: pair_loop(loop, Ls, others))
    lines.append(
        f"layer_similarity(LinearMetric) {shape}: engine {t_engine:.2f} s, "
        f"pairwise_distances {t_pairwise:.2f} s, pair loop {t_loop:.2f} s "
        f"({t_loop / t_engine:.1f}x), max |diff| {np.max(np.abs(D - expected)):.1e}, "
        f"same as pairwise: {np.array_equal(np.asarray(D), P)}"
    )
    lines.append(
        f"layer_similarity(LinearMetric) 8 x 8 across two networks: engine {t_cross:.2f} s, "
        f"pair loop {t_cross_loop:.2f} s ({t_cross_loop / t_cross:.1f}x), "
        f"max |diff| {np.max(np.abs(C - expected_cross)):.1e}"
    )


def similarity_section(lines, quick):
    Ls = layers(12, 1000 if quick else 2000, 128 if quick else 256)
    cases = {
        "mean_cca": mean_cca,
        "svcca": svcca,
        "pwcca": pwcca,
        "mutual_knn": lambda a, b: mutual_knn(a, b, 10),
        "jaccard_knn": lambda a, b: jaccard_knn(a, b, 10),
        RSA(): lambda a, b: RSA().fit(a, b).score(a, b),
    }
    for measure, function in cases.items():
        label = measure if isinstance(measure, str) else "RSA()"
        t_engine, M = timed(lambda m=measure: layer_similarity(m, Ls))
        t_loop, expected = timed(lambda f=function: pair_loop(f, Ls))
        lines.append(
            f"layer_similarity({label}) 12 layers: engine {t_engine:.2f} s, pair loop "
            f"{t_loop:.2f} s ({t_loop / t_engine:.1f}x), max |diff| "
            f"{np.max(np.abs(M - expected)):.1e}"
        )


SHARED_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    from skrep.metrics import GaussianStochasticMetric
    from skrep import pairwise_distances

    class Logged(GaussianStochasticMetric):
        def pairwise_block(self, *args, **kwargs):
            with open(sys.argv[2], "a") as log:
                log.write("block\\n")
            return super().pairwise_block(*args, **kwargs)

    data = np.load(sys.argv[1])
    pairwise_distances(Logged(), list(data), cache_dir=sys.argv[3], block_size=2)
    """
)


def cache_section(lines, quick):
    k, n, p = (12, 200, 20) if quick else (24, 300, 40)
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((n, 10))
    nets = [latent @ rng.standard_normal((10, p)) + rng.standard_normal((n, p)) for _ in range(k)]
    metric = GaussianStochasticMetric()
    n_blocks = len(list(itertools.combinations_with_replacement(range(k // 2), 2)))
    with tempfile.TemporaryDirectory() as folder:
        t_plain, (D, _) = timed(lambda: pairwise_distances(metric, nets, block_size=2))
        cache = Path(folder) / "cache"
        t_first, _ = timed(lambda: pairwise_distances(metric, nets, cache_dir=cache, block_size=2))
        t_cached, (C, _) = timed(
            lambda: pairwise_distances(metric, nets, cache_dir=cache, block_size=2)
        )
        lines.append(
            f"cache, GaussianStochasticMetric, {k} networks of {n} x {p}, {n_blocks} blocks: "
            f"uncached {t_plain:.2f} s, first run with cache {t_first:.2f} s, fully cached "
            f"{t_cached:.3f} s ({t_cached / t_plain:.1%} of the uncached run), same values: "
            f"{np.array_equal(D, C)}"
        )
        data, log, shared = Path(folder) / "nets.npy", Path(folder) / "log", Path(folder) / "s"
        np.save(data, np.stack(nets))
        start = time.perf_counter()
        # One BLAS thread per run: three runs on a small machine would otherwise
        # oversubscribe its cores (OpenBLAS threads spin), which is not the cache's cost.
        environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", SHARED_RUN, str(data), str(log), str(shared)],
                env=environment,
            )
            for _ in range(3)
        ]
        for run in runs:
            run.wait()
        t_shared = time.perf_counter() - start
        computed = log.read_text().count("block")
        lines.append(
            f"three runs started together on one cache (one BLAS thread each): {computed} "
            f"blocks computed ({n_blocks} needed), {t_shared:.2f} s for all three"
        )


POOL_RUN = textwrap.dedent(
    """
    import itertools, multiprocessing, os, sys, time
    import numpy as np
    from skrep.compat.netrep import GaussianStochasticMetric

    rng = np.random.default_rng(0)
    nets = []
    for _ in range(5):
        means = rng.standard_normal((10, 5))
        roots = rng.standard_normal((10, 5, 5))
        nets.append((means, roots @ np.transpose(roots, (0, 2, 1)) / 5 + 1e-6 * np.eye(5)))

    def pair(i, j):
        metric = GaussianStochasticMetric()
        return metric.fit(nets[i], nets[j]).score(nets[i], nets[j])

    def netrep_algorithm():
        # A fresh pool of all CPUs per call, one fit and score per pair.
        pairs = list(itertools.combinations(range(len(nets)), 2))
        with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
            return pool.starmap(pair, pairs)

    setting = sys.argv[1]
    def run():
        if setting == "netrep":
            return netrep_algorithm()
        processes = None if setting == "default" else int(setting)
        return GaussianStochasticMetric().pairwise_distances(
            nets, processes=processes, verbose=False
        )
    times = []
    for _ in range(2):  # the second call finds a loky pool warm
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(*times)
    """
)


def pool_section(lines, quick):
    fresh = 3 if quick else 7
    results = {}
    for setting in ("1", "default", "2", "netrep"):
        firsts, seconds = [], []
        for _ in range(fresh):
            output = subprocess.run(
                [sys.executable, "-c", POOL_RUN, setting],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            firsts.append(float(output[0]))
            seconds.append(float(output[1]))
        results[setting] = (np.median(firsts), np.median(seconds))
    names = {
        "1": "processes=1",
        "default": "default (processes=None)",
        "2": "processes=2",
        "netrep": "netrep's algorithm (fresh Pool)",
    }
    serial = results["1"][0]
    lines.append(
        f"pool, compat GaussianStochasticMetric().pairwise_distances, 5 networks of 10 "
        f"Gaussians in 5-D (10 pairs), median of {fresh} fresh interpreters, first call / "
        f"second call in the same interpreter (s): "
        + "; ".join(
            f"{names[k]} {first:.3f} / {second:.3f} ({first / serial:.1f}x serial)"
            for k, (first, second) in results.items()
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["distance", "similarity", "cache", "pool"],
        help="what to run",
    )
    args = parser.parse_args(argv)
    lines = header_lines("bench_engine", "# measurement")
    sections = {
        "distance": distance_section,
        "similarity": similarity_section,
        "cache": cache_section,
        "pool": pool_section,
    }
    for name in args.sections:
        sections[name](lines, args.quick)
        print(lines[-1])
    print("\n".join(lines))
    append_results(lines, args.output)


if __name__ == "__main__":
    main()
