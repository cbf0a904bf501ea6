"""K x K stochastic distance matrices: skrep's drop-in against netrep, side by side.

Run by hand: ``python benchmarks/bench_stochastic_pairwise.py --netrep-path SITE_PACKAGES``
(see ``bench_linear.py`` for making a netrep virtual environment; netrep is
never a dependency, its folder is appended to ``sys.path``).

``--metric gaussian`` (the default), ``energy`` or ``gp``. Gaussian: K networks
given as netrep's ``(means, covariances)`` tuples: 6 networks of
12 classes x 10 neurons (``--case 6,12,10``, the default) and 20 networks of 20
classes x 50 neurons (``--case 20,20,50``; netrep needs about 8 minutes for it on
one core). Both libraries' ``pairwise_distances`` run serially
(``processes=1``) and with their defaults (``processes=None``;
``--serial-only`` leaves these out, e.g. for a run pinned to one core with
``taskset -c 1``); the table gives the times (one cold run each, or with
``--repeat N`` the fastest of N runs after a warm-up, for both libraries
alike), the ratios netrep/skrep and the largest
amount by which a skrep distance exceeds netrep's (negative: never above).
Energy: K networks of (classes, 20 repeats, neurons); gp: K processes of
(time points x dimensions). Results are appended to
``benchmarks/results/bench_stochastic_pairwise.txt``.
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

from skrep.compat import netrep as compat

RESULTS = Path(__file__).parent / "results" / "bench_stochastic_pairwise.txt"


def make_networks(n_networks, n_classes, n_neurons, seed=0):
    """Related networks: one shared set of class means and covariances, rotated, plus noise."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, n_neurons))
    factors = rng.standard_normal((n_classes, n_neurons, n_neurons)) / np.sqrt(n_neurons)
    networks = []
    for _ in range(n_networks):
        Q = np.linalg.qr(rng.standard_normal((n_neurons, n_neurons)))[0]
        noise = 0.3 * rng.standard_normal((n_classes, n_neurons, n_neurons)) / np.sqrt(n_neurons)
        F = (factors + noise) @ Q
        networks.append(
            (means @ Q + 0.3 * rng.standard_normal(means.shape), F.transpose(0, 2, 1) @ F)
        )
    return networks


def make_repeats(n_networks, n_classes, n_neurons, n_repeats=20, seed=0):
    """Energy metric input: rotated copies of shared repeated responses, plus noise."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_classes, n_repeats, n_neurons))
    return [
        base @ np.linalg.qr(rng.standard_normal((n_neurons, n_neurons)))[0]
        + 0.3 * rng.standard_normal(base.shape)
        for _ in range(n_networks)
    ]


def make_processes(n_networks, n_times, n_dims, seed=0):
    """Process metric input: one shared process, every time block rotated, plus noise."""
    rng = np.random.default_rng(seed)
    size = n_times * n_dims
    means = rng.standard_normal((n_times, n_dims))
    factor = rng.standard_normal((size, size)) / np.sqrt(size)
    networks = []
    for _ in range(n_networks):
        Q = np.linalg.qr(rng.standard_normal((n_dims, n_dims)))[0]
        full = np.kron(np.eye(n_times), Q)
        noise = 0.3 * rng.standard_normal((size, size)) / np.sqrt(size)
        covariance = full.T @ factor @ factor.T @ full + noise @ noise.T
        networks.append(((means @ Q).ravel() + 0.1 * rng.standard_normal(size), covariance))
    return networks


#: Per metric: the input of a case (K, second, third), skrep's and netrep's estimators.
METRICS = {
    "gaussian": (
        make_networks,
        lambda case: compat.GaussianStochasticMetric(),
        lambda module, case: module.GaussianStochasticMetric(alpha=1.0),
    ),
    "energy": (
        make_repeats,
        lambda case: compat.EnergyStochasticMetric(),
        lambda module, case: module.EnergyStochasticMetric(),
    ),
    "gp": (
        make_processes,
        lambda case: compat.GPStochasticMetric(n_dims=case[2]),
        lambda module, case: module.GPStochasticMetric(n_dims=case[2]),
    ),
}


def timed(call, repeat=1):
    """(seconds, result): one run, or the fastest of ``repeat`` runs after a warm-up."""
    if repeat > 1:
        call()
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netrep-path", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--case",
        action="append",
        default=None,
        help="n_networks,n_classes,n_neurons (gp: n_networks,n_times,n_dims; repeatable; "
        "default 6,12,10)",
    )
    parser.add_argument("--metric", choices=sorted(METRICS), default="gaussian")
    parser.add_argument("--serial-only", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time each call this many times after a warm-up run and keep the fastest "
        "(both libraries; default 1: one cold run each)",
    )
    args = parser.parse_args()
    cases = [tuple(int(v) for v in case.split(",")) for case in (args.case or ["6,12,10"])]
    make, ours, theirs = METRICS[args.metric]
    netrep_module = None
    if args.netrep_path is not None:
        sys.path.append(str(args.netrep_path))
        import netrep.metrics as netrep_module
    lines = [
        f"# {datetime.datetime.now().isoformat(timespec='seconds')}  {args.metric} stochastic "
        f"K x K{'' if args.metric == 'energy' else ' (alpha=1)'}, skrep.compat.netrep vs netrep "
        f"(s, {'one run each' if args.repeat == 1 else f'best of {args.repeat} after a warm-up'}); "
        "speedup = netrep / "
        f"skrep{'; serial only' if args.serial_only else ''}",
        f"# python {platform.python_version()}; numpy {np.__version__}",
        "case              skrep_serial  skrep_default  netrep_serial  netrep_default  "
        "speedup_serial  speedup_default  max(skrep - netrep)",
    ]
    for case in cases:
        n_networks, n_classes, n_neurons = case
        networks = make(*case)
        ours_serial, (D_ours, _) = timed(
            lambda nets=networks, case=case: ours(case).pairwise_distances(
                nets, processes=1, verbose=False
            ),
            args.repeat,
        )
        ours_default = np.nan
        if not args.serial_only:
            ours_default, _ = timed(
                lambda nets=networks, case=case: ours(case).pairwise_distances(nets, verbose=False),
                args.repeat,
            )
        theirs_serial = theirs_default = excess = np.nan
        if netrep_module is not None:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                theirs_serial, (D_theirs, _) = timed(
                    lambda nets=networks, case=case: theirs(netrep_module, case).pairwise_distances(
                        nets, processes=1, verbose=False
                    ),
                    args.repeat,
                )
                if not args.serial_only:
                    theirs_default, _ = timed(
                        lambda nets=networks, case=case: theirs(
                            netrep_module, case
                        ).pairwise_distances(nets, verbose=False),
                        args.repeat,
                    )
            excess = float(np.max(D_ours - D_theirs))
        label = f"{n_networks}x({n_classes}x{n_neurons})"
        lines.append(
            f"{label:<17} {ours_serial:12.2f} {ours_default:14.2f} {theirs_serial:14.2f} "
            f"{theirs_default:15.2f} {theirs_serial / ours_serial:15.1f} "
            f"{theirs_default / ours_default:16.1f}  {excess:19.1e}"
        )
        print(lines[-1], flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a") as handle:
        handle.write("\n".join(lines) + "\n\n")
    print(f"appended to {args.output}")


if __name__ == "__main__":
    main()
