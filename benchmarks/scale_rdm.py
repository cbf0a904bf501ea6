"""Big RDMs: memory and time of compute_rdm and compare_rdms at scale (issue "Scale").

Imported by the driver ``benchmarks/bench_scale.py`` (``import scale_rdm`` with
benchmarks/ on sys.path), which writes the lines :func:`measure` returns.
Run by hand, one thread (``OMP_NUM_THREADS=1 taskset -c 1``); ``before=PATH``
measures a checkout of the code before the change too. Memory is the
tracemalloc peak of the call (numpy reports its buffers to tracemalloc), the
inputs allocated before tracing starts; times are separate untraced calls.

- compute_rdm of 6000 conditions x 500 channels (crossnobis: 4 runs of them)
  for every method: peak / size of the condensed RDM it returns, and time;
- scipy.spatial.distance.pdist (what users would otherwise call) for
  euclidean, correlation and cosine: skrep's time and peak as ratios of it;
- compare_rdms(..., "spearman") of two RDMs of 5000 conditions and of 14 000
  (10^8 pairs): time and peak MiB.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.spatial.distance import pdist

from skrep.functional import compare_rdms, compute_rdm

MIB = 2.0**20


def _traced(function):
    """(result, peak traced bytes) of ``function()``."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def _timed(function):
    """(result, seconds) of one untraced call of ``function()``."""
    gc.collect()
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def _rdm_cases(n, channels, runs, rng):
    """(method, function) pairs over one data set of n conditions."""
    X = rng.standard_normal((n, channels))
    W = rng.standard_normal((channels, channels)) / np.sqrt(channels)
    precision = W @ W.T + np.eye(channels)
    repeated = X[None] + 0.5 * rng.standard_normal((runs, n, channels))
    X_runs = repeated.reshape(runs * n, channels)
    conditions = np.tile(np.arange(n), runs)
    run_labels = np.repeat(np.arange(runs), n)
    cases = [
        (method, lambda m=method: compute_rdm(X, m))
        for method in ("correlation", "cosine", "euclidean", "sqeuclidean")
    ]
    cases.append(("mahalanobis", lambda: compute_rdm(X, "mahalanobis", precision=precision)))
    cases.append(
        (
            f"crossnobis ({runs} runs)",
            lambda: compute_rdm(
                X_runs,
                "crossnobis",
                conditions=conditions,
                runs=run_labels,
                precision=precision,
            ),
        )
    )
    return X, cases


def _rdm_lines(n, channels, runs, rng):
    X, cases = _rdm_cases(n, channels, runs, rng)
    condensed_mib = n * (n - 1) // 2 * 8 / MIB
    lines = [
        f"compute_rdm, {n} conditions x {channels} channels: condensed RDM {condensed_mib:.1f} "
        "MiB (float64)",
        "| method | time s | peak traced MiB | peak / condensed |",
        "|---|---|---|---|",
    ]
    results = {}
    for method, function in cases:
        rdm, seconds = _timed(function)
        results[method] = rdm
        del rdm
        _, peak = _traced(function)
        lines.append(
            f"| {method} | {seconds:.2f} | {peak / MIB:.0f} | {peak / MIB / condensed_mib:.2f}x |"
        )
    lines += [
        "",
        f"against scipy.spatial.distance.pdist, same {n} x {channels} data (ratios skrep / pdist)",
        "| metric | pdist s | pdist peak / condensed | time ratio | peak ratio | max abs diff |",
        "|---|---|---|---|---|---|",
    ]
    for method in ("euclidean", "correlation", "cosine"):
        reference, seconds = _timed(lambda m=method: pdist(X, m))
        _, peak = _traced(lambda m=method: pdist(X, m))
        ours, ours_seconds = _timed(lambda m=method: compute_rdm(X, m))
        _, ours_peak = _traced(lambda m=method: compute_rdm(X, m))
        difference = float(np.max(np.abs(ours - reference)))
        del ours, reference
        lines.append(
            f"| {method} | {seconds:.2f} | {peak / MIB / condensed_mib:.2f}x | "
            f"{ours_seconds / seconds:.2f} | {ours_peak / peak:.2f} | {difference:.1e} |"
        )
    return lines


def _spearman_line(n, rng):
    m = n * (n - 1) // 2
    a = rng.random(m)
    b = a + rng.random(m)  # correlated, about 0.45
    value, seconds = _timed(lambda: compare_rdms(a, b, "spearman"))
    _, peak = _traced(lambda: compare_rdms(a, b, "spearman"))
    input_mib = 2 * m * 8 / MIB
    return (
        f"| {n} | {m:.3g} | {seconds:.1f} | {peak / MIB:.0f} | {peak / (2 * m * 8):.2f}x | "
        f"{float(np.asarray(value).ravel()[0]):.6f} |  (inputs {input_mib:.0f} MiB)"
    )


# Run in a fresh interpreter with the skrep at PATH first on sys.path. An editable
# install of skrep puts a finder on sys.meta_path that wins over sys.path (and
# PYTHONPATH): it is dropped, so that the checkout is what gets imported.
_BEFORE = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
sys.path[:0] = [{path!r}, {here!r}]
import skrep, scale_rdm
assert skrep.__file__.startswith({path!r}), skrep.__file__
print("\\n".join(scale_rdm.measure(quick={quick!r})))
"""


def _before_lines(path: str, quick: bool) -> list[str]:
    path = str(Path(path).resolve())
    code = _BEFORE.format(path=path, here=str(Path(__file__).resolve().parent), quick=quick)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def measure(quick: bool = False, before: str | None = None) -> list[str]:
    """Result lines (markdown tables) for the current skrep, and for ``before``'s.

    Parameters
    ----------
    quick : bool, default=False
        Smaller sizes (1500 x 200 RDMs, Spearman at 1500 and 3000
        conditions), for a check that the script runs.
    before : str, optional
        Path of a checkout of skrep before the change (``git worktree add``):
        the same measurements with it, in a fresh interpreter, after ours.

    Returns
    -------
    list of str
        The lines, to be written by the driver.
    """
    rng = np.random.default_rng(0)
    n, channels = (1500, 200) if quick else (6000, 500)
    lines = ["-- big RDMs (scale_rdm), this checkout", *_rdm_lines(n, channels, 4, rng)]
    lines += [
        "",
        "compare_rdms(a, b, 'spearman') of two condensed RDMs (float64 inputs, not counted)",
        "| conditions | pairs | time s | peak traced MiB | peak / inputs | rho |",
        "|---|---|---|---|---|---|",
    ]
    for size in (1500, 3000) if quick else (5000, 14000):
        lines.append(_spearman_line(size, rng))
    if before:
        gc.collect()
        lines += ["", f"-- big RDMs (scale_rdm), before: skrep from {before}"]
        lines += _before_lines(before, quick)[1:]
    return lines


if __name__ == "__main__":
    print("\n".join(measure(quick=True, before=sys.argv[1] if len(sys.argv) > 1 else None)))
