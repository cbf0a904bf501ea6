"""Time the stochastic shape metrics against netrep's algorithms.

Run by hand on a quiet machine (``python benchmarks/bench_stochastic.py``);
results are printed and appended to ``benchmarks/results/bench_stochastic.txt``.

Gaussian, 20 classes x 50 neurons, alpha = 1, for a *related* pair (Y is a
rotation of X plus noise in the means and covariances) and an *unrelated* pair
(independent draws):

- ``netrep_1thr`` / ``netrep_default``: netrep's fit (one Procrustes problem
  per class and iteration, its stopping rule, at most 1000 iterations), run
  from the transcription in ``tests/netrep_gaussian_reference.py`` (checked
  there against netrep's own loss history), with BLAS limited to one thread
  (netrep's advice, ``OMP_NUM_THREADS=1``) and with the default threads;
- ``skrep``: ``GaussianStochasticMetric().fit(X, Y)`` with its defaults;
- the distances each reaches and the iterations each takes.

Energy, 20 classes x 20 repeats x 30 neurons and 20 x 100 x 100: time and peak
traced memory (tracemalloc) of ``EnergyStochasticMetric().fit(X, Y).distance(X, Y)``;
for the small size also netrep's algorithm, which stacks all r^2 pairs of
repeats as rows (netrep measured 914 MiB and 29.5 s at 20 x 100 x 100).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from bench_linear import append_results, header_lines
from scipy.linalg import orthogonal_procrustes
from scipy.stats import ortho_group
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from netrep_gaussian_reference import netrep_gaussian_fit, scored_sq_distance  # noqa: E402

from skrep import EnergyStochasticMetric, GaussianStochasticMetric  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_stochastic.txt"


def gaussian_pair(related, n_classes=20, n_features=50, seed=0):
    """Class means and covariances of two networks."""
    rng = np.random.default_rng(seed)

    def covariances():
        factors = rng.standard_normal((n_classes, n_features, n_features)) / np.sqrt(n_features)
        return factors @ factors.transpose(0, 2, 1) * rng.gamma(1.0, 1.0, (n_classes, 1, 1))

    means_x, covs_x = rng.standard_normal((n_classes, n_features)), covariances()
    if not related:
        return (means_x, covs_x), (rng.standard_normal((n_classes, n_features)), covariances())
    rotation = ortho_group.rvs(n_features, random_state=seed)
    noise = 0.3 * rng.standard_normal((n_classes, n_features, n_features)) / np.sqrt(n_features)
    means_y = means_x @ rotation + 0.3 * rng.standard_normal((n_classes, n_features))
    covs_y = rotation.T @ covs_x @ rotation + noise @ noise.transpose(0, 2, 1)
    return (means_x, covs_x), (means_y, covs_y)


def timed(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_gaussian(repeats, netrep_repeats):
    lines = header_lines(
        "Gaussian stochastic metric, 20 classes x 50 neurons, alpha=1 (seconds, median)",
        "pair       netrep_1thr  netrep_default  skrep   speedup_1thr  speedup_default  "
        "netrep_iter  skrep_iter  netrep_dist        skrep_dist",
    )
    for related in (True, False):
        X, Y = gaussian_pair(related)

        def netrep(X=X, Y=Y):
            T, history = netrep_gaussian_fit(*X, *Y, alpha=1.0)
            return np.sqrt(scored_sq_distance(*X, *Y, T, 1.0)), len(history)

        with threadpool_limits(1):
            t_one, (d_netrep, it_netrep) = timed(netrep, netrep_repeats)
        t_default, _ = timed(netrep, netrep_repeats)

        def skrep(X=X, Y=Y):
            metric = GaussianStochasticMetric().fit(X, Y)
            return metric.distance(X, Y), metric.n_iter_

        t_skrep, (d_skrep, it_skrep) = timed(skrep, repeats)
        name = "related" if related else "unrelated"
        line = (
            f"{name:10s} {t_one:11.3f}  {t_default:14.3f}  {t_skrep:6.3f}  "
            f"{t_one / t_skrep:12.1f}  {t_default / t_skrep:15.1f}  {it_netrep:11d}  "
            f"{it_skrep:10d}  {d_netrep:.12f}  {d_skrep:.12f}"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def netrep_energy_fit(X, Y, niter=100, tol=1e-6):
    """netrep's energy fit: every pair of repeats stacked as a row."""
    r = X.shape[1]
    pairs = np.array(list(itertools.product(range(r), range(r))))
    Xp = np.vstack([x[pairs[:, 0]] for x in X])
    Yp = np.vstack([y[pairs[:, 1]] for y in Y])
    w = np.ones(Xp.shape[0])
    history = [np.mean(np.linalg.norm(Xp - Yp, axis=-1))]
    for _ in range(niter):
        Q = orthogonal_procrustes(w[:, None] * Yp, w[:, None] * Xp)[0]
        residual = np.linalg.norm(Xp - Yp @ Q, axis=-1)
        history.append(np.mean(residual))
        w = 1 / np.maximum(np.sqrt(residual), 1e-6)
        if history[-2] - history[-1] < tol:
            break
    return Q


def peak_mib(function):
    tracemalloc.start()
    try:
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 2**20, result


def bench_energy(repeats):
    lines = header_lines(
        "Energy stochastic metric: fit + distance (seconds, median; peak traced MiB)",
        "shape          data_MiB  skrep_s  skrep_peak_MiB  netrep_s  netrep_peak_MiB  |Q diff|",
    )
    rng = np.random.default_rng(1)
    for shape in ((20, 20, 30), (20, 100, 100)):
        X = rng.standard_normal(shape)
        Y = X @ ortho_group.rvs(shape[2], random_state=2) + 0.5 * rng.standard_normal(shape)

        def skrep(X=X, Y=Y):
            metric = EnergyStochasticMetric().fit(X, Y)
            metric.distance(X, Y)
            return metric.Q_

        t_skrep, _ = timed(skrep, repeats)
        peak_skrep, Q_skrep = peak_mib(skrep)
        netrep_cols = "       -                -         -"
        if shape[1] <= 20:
            t_netrep, _ = timed(lambda X=X, Y=Y: netrep_energy_fit(X, Y), repeats)
            peak_netrep, Q_netrep = peak_mib(lambda X=X, Y=Y: netrep_energy_fit(X, Y))
            diff = np.abs(Q_netrep - Q_skrep).max()
            netrep_cols = f"{t_netrep:8.3f}  {peak_netrep:15.1f}  {diff:8.1e}"
        data = 2 * X.nbytes / 2**20
        line = (
            f"{'x'.join(map(str, shape)):13s}  {data:8.1f}  {t_skrep:7.3f}  {peak_skrep:14.1f}  "
            f"{netrep_cols}"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--netrep-repeats", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    lines = bench_gaussian(args.repeats, args.netrep_repeats)
    lines += [""] + bench_energy(args.repeats)
    append_results(lines, args.output)


if __name__ == "__main__":
    main()
