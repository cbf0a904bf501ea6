"""The Frechet mean against netrep's: objective and time, side by side in one run.

Run by hand: ``python benchmarks/bench_barycenter.py --netrep-path SITE_PACKAGES``
(see ``bench_linear.py`` for making a netrep virtual environment; netrep is
never a dependency, its folder is appended to ``sys.path``).

For K noisy rotated (or permuted) copies of one network, both libraries
compute the barycentre with each method from the same ``random_state``; the
table gives the objective (mean squared distance of the aligned networks to
the mean, computed here the same way for both), the time (minimum over
``--repeats``) and whether netrep changed its input (its "full_batch" writes
into one of the networks). Results are printed and appended to
``benchmarks/results/bench_barycenter.txt``.
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
from scipy.linalg import orthogonal_procrustes
from scipy.optimize import linear_sum_assignment
from scipy.stats import ortho_group

from skrep import frechet_mean

RESULTS = Path(__file__).parent / "results" / "bench_barycenter.txt"


def make_networks(n_networks, n_samples, n_features, group, noise, seed=0):
    """Noisy copies of one network, each rotated (orth) or with its units shuffled (perm)."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_samples, n_features))
    networks = []
    for k in range(n_networks):
        if group == "orth":
            copy = base @ ortho_group.rvs(n_features, random_state=seed * 1000 + k)
        else:
            copy = base[:, rng.permutation(n_features)]
        networks.append(copy + noise * rng.standard_normal((n_samples, n_features)))
    return np.stack(networks)


def objective(Xs, mean, group):
    """Mean squared distance of the networks, each best aligned, to ``mean``."""
    total = 0.0
    for X in Xs:
        if group == "orth":
            aligned = X @ orthogonal_procrustes(X, mean)[0]
        else:
            rows, columns = linear_sum_assignment(X.T @ mean, maximize=True)
            aligned = np.empty_like(X)
            aligned[:, columns] = X[:, rows]
        total += float(np.sum((aligned - mean) ** 2))
    return total / len(Xs)


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
    netrep_mean = None
    if args.netrep_path is not None:
        sys.path.append(str(args.netrep_path))
        from netrep.multiset import frechet_mean as netrep_mean
    cases = [
        (10, 100, 20, "orth", 0.5),
        (20, 200, 50, "orth", 1.0),
        (10, 100, 20, "perm", 0.5),
        (20, 200, 30, "perm", 1.0),
    ]
    lines = [
        f"# {datetime.datetime.now().isoformat(timespec='seconds')}  Frechet mean, skrep vs "
        "netrep, same random_state (0); objective = mean squared distance of the aligned "
        f"networks to the mean; time = min of {args.repeats} (s)",
        f"# python {platform.python_version()}; numpy {np.__version__}; netrep "
        f"{'from ' + str(args.netrep_path) if netrep_mean else 'not given'}",
        "case                       method      skrep_obj   netrep_obj  skrep_s  netrep_s  "
        "netrep_changed_input",
    ]
    for n_networks, n_samples, n_features, group, noise in cases:
        Xs = make_networks(n_networks, n_samples, n_features, group, noise)
        label = f"{n_networks}x{n_samples}x{n_features} {group}"
        for method in ("streaming", "full_batch"):
            skrep_s, mean = timed(
                lambda Xs=Xs, g=group, m=method: frechet_mean(Xs, g, method=m, random_state=0),
                args.repeats,
            )
            ours = objective(Xs, mean, group)
            theirs, netrep_s, changed = np.nan, np.nan, "-"
            if netrep_mean is not None:
                data = Xs.copy()
                # netrep's full_batch draws its start from the global RNG.
                np.random.seed(0)  # noqa: NPY002
                with contextlib.redirect_stdout(io.StringIO()):  # it prints a shape
                    netrep_s, their_mean = timed(
                        lambda d=data, g=group, m=method: netrep_mean(
                            d.copy(), g, random_state=0, method=m
                        ),
                        args.repeats,
                    )
                    changed_one = data.copy()
                    netrep_mean(changed_one, group, random_state=0, method=method)
                theirs = objective(Xs, their_mean, group)
                changed = "yes" if not np.array_equal(changed_one, data) else "no"
            lines.append(
                f"{label:<26} {method:<10} {ours:11.6f} {theirs:11.6f} {skrep_s:8.3f} "
                f"{netrep_s:8.3f}  {changed}"
            )
            print(lines[-1], flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a") as handle:
        handle.write("\n".join(lines) + "\n\n")
    print(f"appended to {args.output}")


if __name__ == "__main__":
    main()
