"""Time the many-networks engine on a CUDA GPU against the same jobs with numpy on the CPU.

Run by hand on a machine with a CUDA device (``python benchmarks/bench_engine_gpu.py``);
results are printed and appended to ``benchmarks/results/bench_engine_gpu.txt``. Each job is
run once to warm up and then timed (median of 3): ``device=None`` with numpy arrays (all
CPU cores through BLAS) against ``device="cuda"`` (torch on the GPU, the data moved there
by the engine), with the largest difference between the two matrices.

- ``pairwise_distances(LinearMetric(alpha))`` for K networks of n x p;
- ``layer_similarity(LinearMetric())`` for layers of one network;
- ``layer_similarity("linear_cka")`` and ``("mean_cca")``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from bench_linear import append_results, header_lines

from skrep import LinearMetric, layer_similarity, pairwise_distances

RESULTS = Path(__file__).parent / "results" / "bench_engine_gpu.txt"


def networks(k, n, p, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 32))
    return [latent @ rng.standard_normal((32, p)) + rng.standard_normal((n, p)) for _ in range(k)]


def timed(function, repeats=3):
    value = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), np.asarray(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the sizes")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    s = args.scale
    jobs = []
    Xs = networks(64, int(2000 * s), 256)
    for alpha in (1.0, 0.5):
        jobs.append(
            (
                f"pairwise_distances LinearMetric(alpha={alpha}) 64 x ({len(Xs[0])}, 256)",
                lambda dev, a=alpha: pairwise_distances(LinearMetric(alpha=a, device=dev), Xs)[0],
            )
        )
    layers = networks(16, int(5000 * s), 1024, seed=1)
    jobs.append(
        (
            f"layer_similarity LinearMetric 16 x ({len(layers[0])}, 1024)",
            lambda dev: layer_similarity(LinearMetric(), layers, device=dev),
        )
    )
    for name in ("linear_cka", "mean_cca"):
        jobs.append(
            (
                f"layer_similarity {name} 16 x ({len(layers[0])}, 1024)",
                lambda dev, m=name: layer_similarity(m, layers, device=dev),
            )
        )
    lines = header_lines(
        f"bench_engine_gpu ({torch.cuda.get_device_name(0)})",
        "# job | numpy CPU s | CUDA s | speed-up | max |diff|",
    )
    for label, job in jobs:
        t_cpu, cpu = timed(lambda j=job: j(None))
        t_gpu, gpu = timed(lambda j=job: j("cuda"))
        lines.append(
            f"{label} | {t_cpu:.3f} | {t_gpu:.3f} | {t_cpu / t_gpu:.1f}x | "
            f"{np.max(np.abs(cpu - gpu)):.1e}"
        )
        print(lines[-1], flush=True)
    append_results(lines, args.output)


if __name__ == "__main__":
    main()
