"""SoftMatchingMetric against the same computation written directly with POT.

Run by hand: ``python benchmarks/bench_soft_matching.py [--repeats 3] [--device cuda]``.

No other library offers the soft matching distance; what a user would write
instead is POT itself: ``ot.dist`` (squared Euclidean) between the units,
then ``ot.emd2`` (exact) or ``ot.sinkhorn2`` (entropic) with uniform weights.
Two layers of 1,000 stimuli x 512 and x 768 units, "related" (the second a
noisy copy of the first, widened by duplicated units: a plan close to a
matching, easy for the simplex and slow for Sinkhorn) or "unrelated"
(independent draws: the other way round); the table gives the time of
``fit`` + ``distance`` (minimum over ``--repeats``), the time of the direct POT
code, their ratio and the two distances. Every timing runs in a fresh Python
process: POT's network simplex leaves the process in a state that made a
later Sinkhorn run 3x faster or 1.4x slower depending on the code, so timings
within one process depended on their order. Results are appended to
``benchmarks/results/bench_soft_matching.txt``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import ot

from skrep import SoftMatchingMetric

RESULTS = Path(__file__).parent / "results" / "bench_soft_matching.txt"


def make_layers(related, n_stimuli=1000, width_x=512, width_y=768, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_stimuli, width_x))
    if not related:
        return X, rng.standard_normal((n_stimuli, width_y))
    columns = np.concatenate([np.arange(width_x), rng.integers(0, width_x, width_y - width_x)])
    Y = X[:, rng.permutation(columns)] + 0.5 * rng.standard_normal((n_stimuli, width_y))
    return X, Y


def timed(call, repeats):
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def direct_pot(X, Y, solver, reg):
    """What a POT user writes: centre, squared distances between units, uniform weights."""
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    cost = ot.dist(Xc.T, Yc.T)  # squared Euclidean
    a, b = ot.unif(X.shape[1]), ot.unif(Y.shape[1])
    if solver == "emd":
        return float(np.sqrt(ot.emd2(a, b, cost, numItermax=10_000_000)))
    mean = cost.mean()
    plan = ot.sinkhorn(a, b, cost / mean, reg, method="sinkhorn_log", stopThr=1e-6)
    return float(np.sqrt(np.sum(plan * cost)))


def measure(related, solver, library, repeats, device):
    """(seconds, distance) of one library on one case, in this process."""
    X, Y = make_layers(related)
    reg = 0.01
    if library == "skrep":
        params = {"solver": solver} if solver == "emd" else {"solver": solver, "reg": reg}
        metric = SoftMatchingMetric(device=device, **params)
        metric.fit(X[:, :8], Y[:, :8])  # POT's import, outside the timing
        return timed(lambda: metric.fit(X, Y).distance(X, Y), repeats)
    direct_pot(X[:, :8], Y[:, :8], solver, reg)
    return timed(lambda: direct_pot(X, Y, solver, reg), repeats)


def in_fresh_process(related, solver, library, repeats, device):
    command = [
        sys.executable, __file__, "--one", json.dumps([related, solver, library]),
        "--repeats", str(repeats),
    ]  # fmt: skip
    if device is not None:
        command += ["--device", device]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:  # a child process: one measurement
        related, solver, library = json.loads(args.one)
        print(json.dumps(measure(related, solver, library, args.repeats, args.device)))
        return
    lines = [
        f"# {datetime.datetime.now().isoformat(timespec='seconds')}  soft matching, "
        f"1000 stimuli x 512 vs 768 units; best of {args.repeats} (s), each in a fresh "
        f"process; device={args.device}; sinkhorn reg=0.01",
        f"# python {platform.python_version()}; numpy {np.__version__}; POT {ot.__version__}",
        "layers     solver      skrep    direct_pot  skrep/pot  skrep_distance  pot_distance",
    ]
    for related, solver in itertools.product((True, False), ("emd", "sinkhorn")):
        ours, d_ours = in_fresh_process(related, solver, "skrep", args.repeats, args.device)
        theirs, d_theirs = in_fresh_process(related, solver, "pot", args.repeats, args.device)
        label = "related" if related else "unrelated"
        lines.append(
            f"{label:<10} {solver:<9} {ours:8.2f} {theirs:12.2f} {ours / theirs:10.2f} "
            f"{d_ours:15.6f} {d_theirs:13.6f}"
        )
        print(lines[-1], flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a") as handle:
        handle.write("\n".join(lines) + "\n\n")
    print(f"appended to {args.output}")


if __name__ == "__main__":
    main()
