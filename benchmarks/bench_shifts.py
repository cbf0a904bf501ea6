"""shift_distances against netrep's convolve_metric, side by side in one run.

Run by hand: ``python benchmarks/bench_shifts.py --netrep-path SITE_PACKAGES``
(see ``bench_linear.py`` for making a netrep virtual environment; netrep is
never a dependency, its folder is appended to ``sys.path``).

Two convolutional layers (images, height, width, channels), one a rolled and
rotated noisy copy of the other; both libraries compute the map of
``LinearMetric`` distances over every circular shift. The table gives the
time (minimum over ``--repeats``), the ratio skrep/netrep and the largest
difference between the maps. Results are appended to
``benchmarks/results/bench_shifts.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import platform
import sys
import time
from pathlib import Path

import numpy as np

from skrep import shift_distances
from skrep.compat import netrep as compat

RESULTS = Path(__file__).parent / "results" / "bench_shifts.txt"


def make_layers(n_images, height, width, channels, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_images, height, width, channels))
    rotation = np.linalg.qr(rng.standard_normal((channels, channels)))[0]
    Y = np.roll(X, (1, -2), axis=(1, 2)) @ rotation
    return X, Y + 0.5 * rng.standard_normal(Y.shape)


def timed(call, repeats):
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netrep-path", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    netrep_convolve = netrep_metric = None
    if args.netrep_path is not None:
        sys.path.append(str(args.netrep_path))
        from netrep.conv_layers import convolve_metric as netrep_convolve
        from netrep.metrics import LinearMetric as netrep_metric
    lines = [
        f"# {datetime.datetime.now().isoformat(timespec='seconds')}  LinearMetric over every "
        f"circular shift (s, min of {args.repeats}); ratio = skrep / netrep time",
        f"# python {platform.python_version()}; numpy {np.__version__}",
        "layers (images x h x w x c)  alpha  skrep_s  netrep_s  ratio   max|diff|",
    ]
    for shape in ((50, 8, 8, 16), (100, 12, 12, 32)):
        X, Y = make_layers(*shape)
        for alpha in (0.0, 1.0):
            skrep_s, ours = timed(
                lambda a=alpha, X=X, Y=Y: shift_distances(compat.LinearMetric(alpha=a), X, Y),
                args.repeats,
            )
            netrep_s, diff = np.nan, np.nan
            if netrep_convolve is not None:
                with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
                    netrep_s, theirs = timed(
                        lambda a=alpha, X=X, Y=Y: netrep_convolve(netrep_metric(alpha=a), X, Y),
                        1,
                    )
                diff = float(np.max(np.abs(ours.distances - theirs)))
            label = "x".join(str(v) for v in shape)
            lines.append(
                f"{label:<28} {alpha:5.1f} {skrep_s:8.3f} {netrep_s:9.3f} "
                f"{skrep_s / netrep_s:6.3f}  {diff:9.1e}"
            )
            print(lines[-1], flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a") as handle:
        handle.write("\n".join(lines) + "\n\n")
    print(f"appended to {args.output}")


if __name__ == "__main__":
    main()
