"""Encoding models on targets larger than memory: time and peak memory, and himalaya beside.

A part of ``bench_scale.py`` (``measure``), or run alone for one case in a
fresh process: ``python benchmarks/scale_encoding.py --case N P T CV PATH``.
Each case runs in its own process, so its peak memory is its own:

- tracemalloc's peak (numpy's allocations: what the fit itself holds);
- the peak of anonymous resident memory (``RssAnon`` sampled every 20 ms),
  which leaves out the memory-mapped targets' pages (those belong to the page
  cache and are dropped under pressure);
- the process's ``VmHWM`` (everything, mapped pages included).

``before=PATH`` runs the same case with the skrep found at PATH too (a
checkout of the code before the change, e.g. ``git worktree add``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

ALPHAS = np.logspace(-2, 7, 10)
DATA = Path(os.environ.get("SKREP_BENCH_DATA", "/tmp/skrep_bench_scale"))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class _AnonPeak(threading.Thread):
    """Samples the process's anonymous resident memory until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = _status_kib("RssAnon"), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, _status_kib("RssAnon"))
            time.sleep(0.02)


def make_targets(n: int, p: int, t: int, path: Path, seed: int = 0) -> tuple[Path, Path]:
    """Features (n x p, float32, .npy) and targets (n x t float32 memmap) written to disk once."""
    x_path, y_path = path / f"X_{n}x{p}.npy", path / f"Y_{n}x{p}x{t}.npy"
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if not x_path.exists():
        np.save(x_path, rng.standard_normal((n, p), dtype=np.float32))
    if not y_path.exists():
        X = np.load(x_path)
        partial = y_path.with_suffix(".partial")
        Y = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(n, t))
        for start in range(0, t, 5000):
            stop = min(start + 5000, t)
            W = rng.standard_normal((64, stop - start), dtype=np.float32)
            noise = rng.standard_normal((n, stop - start), dtype=np.float32)
            Y[:, start:stop] = X[:, :64] @ W * 0.1 + noise * rng.uniform(0.5, 3.0, stop - start)
        Y.flush()
        del Y
        partial.rename(y_path)
    return x_path, y_path


def run_case(n: int, p: int, t: int, cv: int, path: Path, tool: str = "skrep") -> dict:
    """Fit one case here and return its figures (called in a fresh process)."""
    from sklearn.model_selection import KFold

    x_path, y_path = make_targets(n, p, t, path)
    X = np.load(x_path)
    Y = np.load(y_path, mmap_mode="r")
    if tool == "himalaya":  # the largest size it fits: the targets in memory
        Y = np.ascontiguousarray(Y)
    sampler = _AnonPeak()
    base_anon = sampler.peak
    sampler.start()
    tracemalloc.start()
    started = time.perf_counter()
    if tool == "himalaya":
        from himalaya.backend import set_backend
        from himalaya.kernel_ridge import KernelRidgeCV

        set_backend("numpy")
        model = KernelRidgeCV(alphas=ALPHAS, kernel="linear", cv=KFold(cv)).fit(X, Y)
        best = np.asarray(model.best_alphas_, dtype=np.float64)
    else:
        import skrep
        from skrep import EncodingRegression

        assert skrep.__file__.startswith(os.environ.get("SKREP_BENCH_BEFORE", ""))
        # himalaya's conventions: alphas chosen by R^2, no intercept.
        model = EncodingRegression(ALPHAS, cv=KFold(cv), scoring="r2", fit_intercept=False)
        model.fit(X, Y)
        best = model.alpha_
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    sampler.running = False
    sampler.join()
    np.save(path / f"alphas_{tool}_{n}x{p}x{t}.npy", best)
    return {
        "tool": tool,
        "seconds": seconds,
        "traced_mib": traced / 2**20,
        "anon_peak_mib": (sampler.peak - base_anon) / 1024,
        "hwm_mib": _status_kib("VmHWM") / 1024,
        "y_mib": n * t * 4 / 2**20,
    }


def _in_process(args: list[str], before: str | None = None) -> dict:
    env = dict(os.environ)
    if before:
        env["SKREP_BENCH_BEFORE"] = before
    out = subprocess.run(
        [sys.executable, __file__, "--case", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _line(label: str, r: dict) -> str:
    return (
        f"{label:44s} {r['seconds']:8.1f} s  traced {r['traced_mib']:7.0f} MiB "
        f"({r['traced_mib'] / r['y_mib']:.2f}x Y)  anon {r['anon_peak_mib']:7.0f} MiB "
        f"({r['anon_peak_mib'] / r['y_mib']:.2f}x Y)  Y {r['y_mib']:.0f} MiB"
    )


def measure(quick: bool = False, before: str | None = None) -> list[str]:
    """The encoding part of the scale benchmark: result lines.

    Parameters
    ----------
    quick : bool, default=False
        10,000 targets instead of 100,000 for the large case.
    before : str, optional
        Path of a checkout of skrep before the chunked fit, run beside.

    Returns
    -------
    list of str
        One line per measurement.
    """
    lines = [
        "encoding: ridge, alphas logspace(-2, 7, 10), KFold(5), chosen by R^2 without an "
        "intercept (himalaya's defaults), float32 memmap targets"
    ]
    small = ["2000", "500", "20000", "5", str(DATA)]
    if before:
        lines.append(_line("2000 x 500 -> 20,000, before", _in_process(small, before)))
    lines.append(_line("2000 x 500 -> 20,000, after", _in_process(small)))
    n_targets = "10000" if quick else "100000"
    large = ["10000", "4096", n_targets, "5", str(DATA)]
    ours = _in_process(large)
    lines.append(_line(f"10,000 x 4,096 -> {int(n_targets):,}, skrep", ours))
    if not quick:
        # himalaya holds the targets in memory: compared on the first 10,000.
        large = ["10000", "4096", "10000", "5", str(DATA)]
        ours = _in_process(large)
        lines.append(_line("10,000 x 4,096 -> 10,000, skrep", ours))
    try:
        theirs = _in_process([*large, "himalaya"])
    except subprocess.CalledProcessError as exc:
        lines.append(f"himalaya KernelRidgeCV not run here: {exc.stderr.strip()[-200:]}")
        return lines
    lines.append(_line("10,000 x 4,096 -> 10,000, himalaya KRCV", theirs))
    n, p, t = (int(v) for v in large[:3])
    a = np.load(DATA / f"alphas_skrep_{n}x{p}x{t}.npy")
    b = np.load(DATA / f"alphas_himalaya_{n}x{p}x{t}.npy")
    same = np.mean(np.isclose(a, b, rtol=1e-5))
    lines.append(
        f"  himalaya / skrep time {theirs['seconds'] / ours['seconds']:.2f}x, anon memory "
        f"{theirs['anon_peak_mib'] / max(ours['anon_peak_mib'], 1):.2f}x; same best alpha for "
        f"{same:.2%} of targets"
    )
    return lines


if __name__ == "__main__":
    if os.environ.get("SKREP_BENCH_BEFORE"):
        # An editable install puts a finder on sys.meta_path that wins over
        # sys.path (and PYTHONPATH): drop it so that the checkout is imported.
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
        sys.path.insert(0, os.environ["SKREP_BENCH_BEFORE"])
    if len(sys.argv) > 1 and sys.argv[1] == "--case":
        n, p, t, cv, path, *tool = sys.argv[2:]
        figures = run_case(int(n), int(p), int(t), int(cv), Path(path), *tool)
        print(json.dumps(figures))
    else:
        print("\n".join(measure(quick="--quick" in sys.argv)))
