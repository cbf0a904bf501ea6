"""Time skrep.pairwise_distances for K networks of 1000 x 100 (LinearMetric).

Run by hand on a quiet machine (``python benchmarks/bench_pairwise.py`` or
``make bench``); results are printed and appended to
``benchmarks/results/bench_pairwise.txt``. For K in {20, 40, 100} and alpha in
{0.5, 1} it reports:

- ``skrep``: ``pairwise_distances(LinearMetric(alpha), Xs)`` (training matrix,
  n_jobs=None: BLAS threads for the Gram product, the SVD stack split over
  them), and ``skrep+test`` with 200 held-out stimuli per network;
- ``floor``: the bare computation it cannot beat by much, one Gram product of
  the stacked (unwhitened) networks plus numpy's batched singular values;
- ``gram_gflops``: GFLOP/s of that Gram step, counted as a GEMM (2 n (Kp)^2);
- ``peak_MiB``: peak memory allocated during ``skrep`` (tracemalloc; the
  networks themselves take K * 0.76 MiB);
- ``pair_loop``: netrep's serial algorithm, a LinearMetric fit and score per
  pair (skipped for K=100 unless ``--pair-loop-all``);
- ``torch``: ``LinearMetric(alpha, device="cpu")``.

netrep's own figures on a 2-core machine (from the issue): K=40 took 12 to
124 s with its default ``pairwise_distances`` (one process per pair) and 2.3
to 3.9 s with its serial loop.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
from bench_linear import append_results, header_lines

from skrep import LinearMetric, pairwise_distances

RESULTS = Path(__file__).parent / "results" / "bench_pairwise.txt"


def make_networks(n_networks, n_samples, n_features, seed=0):
    """Networks sharing a 20-dimensional latent signal, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, 20))
    return [
        latent @ rng.standard_normal((20, n_features))
        + rng.standard_normal((n_samples, n_features))
        for _ in range(n_networks)
    ]


def best_of(function, repeats):
    """Median and minimum wall time (s) of ``function()`` after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def floor(Xs):
    """One Gram product and batched singular values of the K(K-1)/2 blocks."""
    p = Xs[0].shape[1]
    W = np.concatenate(Xs, axis=1)
    G = W.T @ W
    pairs = itertools.combinations(range(len(Xs)), 2)
    blocks = np.stack([G[i * p : (i + 1) * p, j * p : (j + 1) * p] for i, j in pairs])
    return np.linalg.svd(blocks, compute_uv=False).sum(axis=-1)


def gram_gflops(Xs, repeats):
    W = np.concatenate(Xs, axis=1)
    median, _ = best_of(partial(np.matmul, W.T, W), repeats)
    n, width = W.shape
    return 2.0 * n * width**2 / median / 1e9


def pair_loop(metric, Xs):
    """netrep's serial algorithm: fit and score every pair."""
    for i, j in itertools.combinations(range(len(Xs)), 2):
        metric.fit(Xs[i], Xs[j]).distance(Xs[i], Xs[j])


def peak_mib(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, nargs="+", default=[20, 40, 100])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--test-samples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pair-loop-all", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401

        has_torch = True
    except ImportError:
        has_torch = False

    lines = header_lines(
        f"pairwise_distances(LinearMetric), networks {args.samples}x{args.features}, "
        f"held-out {args.test_samples} rows, median of {args.repeats} (s)",
        f"{'K':>4} {'alpha':>5} {'skrep':>7} {'+test':>7} {'floor':>7} {'ratio':>6} "
        f"{'gram_gflops':>11} {'peak_MiB':>8} {'pair_loop':>9} {'torch':>7}",
    )
    print("\n".join(lines))
    for n_networks in args.networks:
        Xs = make_networks(n_networks, args.samples, args.features)
        tests = make_networks(n_networks, args.test_samples, args.features, seed=1)
        gflops = gram_gflops(Xs, args.repeats)
        floor_time, _ = best_of(partial(floor, Xs), args.repeats)
        for alpha in args.alphas:
            metric = LinearMetric(alpha=alpha)
            skrep_time, _ = best_of(partial(pairwise_distances, metric, Xs), args.repeats)
            test_time, _ = best_of(partial(pairwise_distances, metric, Xs, tests), args.repeats)
            peak = peak_mib(partial(pairwise_distances, metric, Xs))
            loop = "-"
            if n_networks <= 40 or args.pair_loop_all:
                loop = f"{best_of(partial(pair_loop, metric, Xs), 1)[0]:.2f}"
            torch_time = "-"
            if has_torch:
                on_torch = LinearMetric(alpha=alpha, device="cpu")
                on_torch_run = partial(pairwise_distances, on_torch, Xs)
                torch_time = f"{best_of(on_torch_run, args.repeats)[0]:.2f}"
            line = (
                f"{n_networks:>4} {alpha:>5.2f} {skrep_time:>7.2f} {test_time:>7.2f} "
                f"{floor_time:>7.2f} {skrep_time / floor_time:>6.2f} {gflops:>11.1f} "
                f"{peak:>8.0f} {loop:>9} {torch_time:>7}"
            )
            print(line, flush=True)
            lines.append(line)
    append_results(lines, args.output)


if __name__ == "__main__":
    main()
