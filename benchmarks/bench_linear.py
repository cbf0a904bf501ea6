"""Time LinearMetric fit + score on 1000 x 200 representations.

Run by hand (``python benchmarks/bench_linear.py`` or ``make bench``); results
are printed and appended to ``benchmarks/results/bench_linear.txt``. Each case
is timed ``--repeats`` times after one warm-up run; the median and the minimum
are reported. Backends: numpy (device=None) and torch on the CPU
(device="cpu"), float64, plus float32 for reference.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from skrep.metrics import LinearMetric

RESULTS = Path(__file__).parent / "results" / "bench_linear.txt"


def make_pair(n_samples, n_features, seed=0):
    """Two related representations: a shared latent plus independent noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, 20))
    X = latent @ rng.standard_normal((20, n_features)) + rng.standard_normal(
        (n_samples, n_features)
    )
    Y = latent @ rng.standard_normal((20, n_features)) + rng.standard_normal(
        (n_samples, n_features)
    )
    return X, Y


def time_fit_score(metric, X, Y, repeats):
    """Median and minimum wall time (s) of ``metric.fit(X, Y).score(X, Y)``."""
    metric.fit(X, Y).score(X, Y)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        metric.fit(X, Y).score(X, Y)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def environment():
    """One line describing the machine and libraries."""
    parts = [
        f"python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"cpus {os.cpu_count()}",
        f"machine {platform.machine()}",
    ]
    try:
        import torch

        parts.append(f"torch {torch.__version__} (threads {torch.get_num_threads()})")
    except ImportError:
        parts.append("torch not installed")
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i['internal_api']}x{i['num_threads']}" for i in threadpool_info()]
        parts.append("blas " + ",".join(blas))
    except ImportError:
        pass
    return "; ".join(parts)


def header_lines(title, columns):
    """The first lines of a result block: time stamp and title, machine, column names."""
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    return [f"# {stamp}  {title}", f"# {environment()}", columns]


def append_results(lines, path):
    """Append a block of result lines (and a blank line) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n\n")
    print(f"appended to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    X, Y = make_pair(args.samples, args.features)
    try:
        import torch  # noqa: F401

        backends = [("numpy", None), ("torch-cpu", "cpu")]
    except ImportError:
        backends = [("numpy", None)]

    lines = header_lines(
        f"LinearMetric fit+score, X and Y {args.samples}x{args.features}, "
        f"median/min of {args.repeats}",
        f"{'backend':<10} {'dtype':<8} {'alpha':>5} {'median_ms':>10} {'min_ms':>8} "
        f"{'distance':>10}",
    )
    print("\n".join(lines))
    for dtype in (np.float64, np.float32):
        Xd, Yd = X.astype(dtype), Y.astype(dtype)
        for name, device in backends:
            for alpha in (0.0, 0.5, 1.0):
                metric = LinearMetric(alpha=alpha, device=device)
                median, best = time_fit_score(metric, Xd, Yd, args.repeats)
                line = (
                    f"{name:<10} {np.dtype(dtype).name:<8} {alpha:>5.2f} "
                    f"{1e3 * median:>10.2f} {1e3 * best:>8.2f} {metric.distance(Xd, Yd):>10.6f}"
                )
                print(line)
                lines.append(line)
    append_results(lines, args.output)


if __name__ == "__main__":
    main()
