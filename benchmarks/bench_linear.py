"""Time LinearMetric fit + training distance against netrep, side by side in one run.

Run by hand: ``python benchmarks/bench_linear.py --netrep-path SITE_PACKAGES``
(or ``make bench``), where ``SITE_PACKAGES`` is the ``site-packages`` folder of
a separate virtual environment with netrep installed, e.g.::

    git clone https://github.com/ahwillia/netrep /tmp/netrep-src
    python3 -m venv /tmp/netrep-venv
    /tmp/netrep-venv/bin/pip install numpy scipy scikit-learn tqdm /tmp/netrep-src
    python benchmarks/bench_linear.py \\
        --netrep-path /tmp/netrep-venv/lib/python3.11/site-packages

netrep is never a dependency of skrep: its folder is appended to ``sys.path``
(after skrep's own packages, so numpy and scipy are skrep's). Without the
option the netrep columns read ``-`` and a note says why.

The timed call is the most common one, ``LinearMetric(alpha).fit(X, Y)``
followed by the distance on the same data: skrep's ``distance(X, Y)`` (the
distance itself; ``score`` is its negative) against netrep's
``score(X, Y)``. skrep and netrep alternate within each repeat, so both see
the same machine load; the minimum over ``--repeats`` is reported, with the
ratio skrep/netrep (below 1: skrep faster; the target is at most 0.67) and
the largest difference between their distances. ``--large`` also times one
fit on 20,000 x 2,000 arrays (in a subprocess per library, with its peak
memory above the data). Results are printed and appended to
``benchmarks/results/bench_linear.txt``. On a shared machine the minimum is
still noisy: rerun on an idle one before quoting the numbers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from skrep.metrics import LinearMetric

RESULTS = Path(__file__).parent / "results" / "bench_linear.txt"
ALPHAS = (0.0, 0.5, 1.0)


def make_pair(n_samples, n_features, seed=0, dtype=np.float64):
    """Two related representations: a shared latent plus independent noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, 20))
    X = latent @ rng.standard_normal((20, n_features)) + rng.standard_normal(
        (n_samples, n_features)
    )
    Y = latent @ rng.standard_normal((20, n_features)) + rng.standard_normal(
        (n_samples, n_features)
    )
    return X.astype(dtype, copy=False), Y.astype(dtype, copy=False)


def import_netrep(path):
    """netrep's LinearMetric from the site-packages folder ``path``, or None and why."""
    if path is None:
        return None, "netrep columns skipped: pass --netrep-path (see the module docstring)"
    sys.path.append(str(path))
    try:
        from netrep.metrics import LinearMetric as NetrepLinearMetric
    except ImportError as exc:
        return None, f"netrep columns skipped: cannot import netrep from {path} ({exc})"
    return NetrepLinearMetric, None


def skrep_call(alpha, device=None):
    metric = LinearMetric(alpha=alpha, device=device)
    return lambda X, Y: metric.fit(X, Y).distance(X, Y)


def netrep_call(cls, alpha):
    metric = cls(alpha=alpha)
    return lambda X, Y: metric.fit(X, Y).score(X, Y)


def time_side_by_side(calls, X, Y, repeats):
    """Minimum wall time (s) of each call, alternating them in every repeat."""
    values = [call(X, Y) for call in calls]  # warm-up
    best = [float("inf")] * len(calls)
    for _ in range(repeats):
        for k, call in enumerate(calls):
            start = time.perf_counter()
            call(X, Y)
            best[k] = min(best[k], time.perf_counter() - start)
    return best, values


def environment():
    """One line describing the machine and libraries."""
    parts = [
        f"python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"cpus {os.cpu_count()}",
        f"load {os.getloadavg()[0]:.1f}",
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


def small_table(args, netrep_cls):
    """Rows of the side-by-side table at --samples x --features."""
    rows = []
    backends = [("numpy", None)]
    try:
        import torch  # noqa: F401

        backends.append(("torch-cpu", "cpu"))
    except ImportError:
        pass
    for dtype in (np.float64, np.float32):
        X, Y = make_pair(args.samples, args.features, dtype=dtype)
        for name, device in backends:
            for alpha in ALPHAS:
                calls = [skrep_call(alpha, device)]
                if netrep_cls is not None and device is None:
                    calls.append(netrep_call(netrep_cls, alpha))
                best, values = time_side_by_side(calls, X, Y, args.repeats)
                if len(calls) == 2:
                    ratio = f"{best[0] / best[1]:>7.2f}"
                    netrep_ms = f"{1e3 * best[1]:>10.2f}"
                    diff = f"{abs(values[0] - values[1]):>9.1e}"
                else:
                    ratio, netrep_ms, diff = f"{'-':>7}", f"{'-':>10}", f"{'-':>9}"
                rows.append(
                    f"{name:<10} {np.dtype(dtype).name:<8} {alpha:>5.2f} {1e3 * best[0]:>9.2f} "
                    f"{netrep_ms} {ratio} {values[0]:>10.6f} {diff}"
                )
                print(rows[-1])
    return rows


def rss_bytes():
    """Resident memory of this process now (Linux), in bytes."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Highest resident memory seen while the block runs (sampled every 5 ms), in bytes."""

    def __enter__(self):
        self.peak, self._stop = rss_bytes(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def child(args):
    """One large fit + distance in this process: print seconds, peak MB above data, value."""
    X, Y = make_pair(args.large_samples, args.large_features)
    if args.child == "netrep":
        cls, why = import_netrep(args.netrep_path)
        if cls is None:
            raise SystemExit(why)
        call = netrep_call(cls, args.alpha)
    else:
        call = skrep_call(args.alpha)
    call(X[:100, :50], Y[:100, :50])  # warm-up: BLAS's thread buffers count before the base
    base = rss_bytes()
    with PeakRSS() as memory:
        start = time.perf_counter()
        value = call(X, Y)
        seconds = time.perf_counter() - start
    print(f"{seconds:.3f} {(memory.peak - base) / 2**20:.0f} {float(value)!r}")


def large_rows(args, has_netrep):
    """One fit at --large-samples x --large-features per library, in subprocesses."""
    rows = []
    data_mb = 2 * args.large_samples * args.large_features * 8 / 2**20
    libraries = ["skrep"] + (["netrep"] if has_netrep else [])
    for alpha in args.large_alphas:
        results = {}
        for library in libraries:
            command = [
                sys.executable,
                __file__,
                "--child",
                library,
                "--alpha",
                str(alpha),
                "--large-samples",
                str(args.large_samples),
                "--large-features",
                str(args.large_features),
            ]
            if args.netrep_path:
                command += ["--netrep-path", str(args.netrep_path)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            seconds, peak_mb, value = out.split()[-3:]
            results[library] = (float(seconds), float(peak_mb), float(value))
        s_sec, s_mb, s_val = results["skrep"]
        line = f"large {alpha:>4.2f}  skrep {s_sec:8.1f} s {s_mb:7.0f} MB"
        if "netrep" in results:
            n_sec, n_mb, n_val = results["netrep"]
            line += (
                f"  netrep {n_sec:8.1f} s {n_mb:7.0f} MB  ratio {s_sec / n_sec:5.2f}"
                f"  |diff| {abs(s_val - n_val):.1e}"
            )
        rows.append(line + f"  (data {data_mb:.0f} MB; MB = peak RSS above the data)")
        print(rows[-1])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--netrep-path", type=Path, default=None)
    parser.add_argument("--large", action="store_true", help="also time 20,000 x 2,000")
    parser.add_argument("--large-samples", type=int, default=20_000)
    parser.add_argument("--large-features", type=int, default=2_000)
    parser.add_argument("--large-alphas", type=float, nargs="+", default=[0.0, 1.0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=["skrep", "netrep"], help=argparse.SUPPRESS)
    parser.add_argument("--alpha", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    netrep_cls, note = import_netrep(args.netrep_path)
    lines = header_lines(
        f"LinearMetric(alpha).fit(X, Y) + distance on the same X, Y "
        f"({args.samples}x{args.features}), min of {args.repeats}, skrep vs netrep "
        "alternating; ratio = skrep / netrep time (target <= 0.67)",
        f"{'backend':<10} {'dtype':<8} {'alpha':>5} {'skrep_ms':>9} {'netrep_ms':>10} "
        f"{'ratio':>7} {'distance':>10} {'|diff|':>9}",
    )
    if note:
        lines.insert(2, f"# {note}")
    print("\n".join(lines))
    lines += small_table(args, netrep_cls)
    if args.large:
        lines += large_rows(args, netrep_cls is not None)
    lines.append("# shared machine: the lead should rerun on an idle one before quoting")
    append_results(lines, args.output)
    return None


if __name__ == "__main__":
    main()
