"""Time banded ridge (BandedEncodingRegression) against himalaya's BandedRidgeCV in one run.

Run by hand::

    python benchmarks/bench_banded.py [--himalaya-python /tmp/rsaenv/bin/python] [--small]

One banded problem (default: 2,000 training + 500 test samples, bands of 200,
600 and 1,000 features, 1,000 targets whose variance comes from the bands in
target-specific shares, 20 candidate weightings, 8 alphas, 5 folds, R^2
scoring) is fitted by skrep here and by himalaya 0.4.11 (numpy backend,
``BandedRidgeCV(solver="random_search")``, and for reference
``MultipleKernelRidgeCV`` on precomputed linear kernels, himalaya's advice
when features outnumber samples) in a subprocess of the reference
environment, with ``OMP_NUM_THREADS=1`` (and the other BLAS thread variables)
for both. Both draw the same candidates (same seed), so the chosen band
weights can be compared target by target; the held-out R^2 of both on the
test samples is reported, with the time ratio skrep / himalaya (target: at
most 1 with equal or better scores). skrep is timed before and after
himalaya (the machine may be shared); the smaller time is reported.
Results are printed and appended to ``benchmarks/results/bench_banded.txt``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SINGLE_THREAD = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}
os.environ.update(SINGLE_THREAD)  # before numpy is imported

import numpy as np  # noqa: E402

from skrep.functional.ridge import score_predictions  # noqa: E402
from skrep.metrics.banded import BandedEncodingRegression  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_banded.txt"
ALPHAS = np.logspace(-1, 6, 8)
SEED = 0

HIMALAYA_SCRIPT = r"""
import sys, time
import numpy as np
from himalaya.backend import set_backend
from himalaya.ridge import BandedRidgeCV
from himalaya.kernel_ridge import MultipleKernelRidgeCV
from himalaya.scoring import r2_score
set_backend("numpy")
data = np.load(sys.argv[1])
X, Y, X_test = data["X"], data["Y"], data["X_test"]
labels, alphas, n_iter = data["labels"], data["alphas"], int(data["n_iter"])
params = dict(n_iter=n_iter, alphas=alphas, score_func=r2_score, concentration=[0.1, 1.0],
              progress_bar=False)
out = {}
start = time.perf_counter()
model = BandedRidgeCV(groups=labels, solver_params=params, cv=5, random_state=0).fit(X, Y)
out["banded_time"] = time.perf_counter() - start
out["banded_predict"] = model.predict(X_test)
out["banded_gammas"] = np.exp(model.deltas_) * model.best_alphas_
if int(data["kernels"]):
    start = time.perf_counter()
    bands = [labels == u for u in np.unique(labels)]
    Ks = np.stack([X[:, b] @ X[:, b].T for b in bands])
    kernel_model = MultipleKernelRidgeCV(kernels="precomputed", solver_params=params, cv=5,
                                         random_state=0).fit(Ks, Y)
    out["kernel_time"] = time.perf_counter() - start
    Ks_test = np.stack([X_test[:, b] @ X[:, b].T for b in bands])
    out["kernel_predict"] = kernel_model.predict(Ks_test)
    out["kernel_gammas"] = np.exp(kernel_model.deltas_) / np.exp(kernel_model.deltas_).sum(0)
np.savez(sys.argv[2], **out)
"""


def make_problem(n_train, n_test, sizes, n_targets, seed=SEED):
    """Bands of correlated features; each target draws its variance from the bands in its shares."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    blocks = []
    for size in sizes:
        latent = rng.standard_normal((n, size // 4))
        blocks.append(latent @ rng.standard_normal((size // 4, size)) / np.sqrt(size // 4))
        blocks[-1] += 0.5 * rng.standard_normal((n, size))
    X = np.hstack(blocks)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    shares = rng.dirichlet(np.full(len(sizes), 0.3), n_targets).T  # (n_bands, n_targets)
    signal = np.zeros((n, n_targets))
    for b, block in enumerate(blocks):
        weights = rng.standard_normal((block.shape[1], n_targets)) / np.sqrt(block.shape[1])
        part = block @ weights
        signal += part / part.std(axis=0) * np.sqrt(shares[b])
    Y = signal + rng.standard_normal((n, n_targets))
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], labels


def run_himalaya(python, X, Y, X_test, labels, n_iter, kernels):
    with tempfile.TemporaryDirectory() as folder:
        data, out = Path(folder) / "data.npz", Path(folder) / "out.npz"
        np.savez(data, X=X, Y=Y, X_test=X_test, labels=labels, alphas=ALPHAS, n_iter=n_iter,
                 kernels=int(kernels))  # fmt: skip
        env = {**os.environ, **SINGLE_THREAD}
        subprocess.run(
            [python, "-W", "ignore", "-c", HIMALAYA_SCRIPT, str(data), str(out)],
            check=True,
            env=env,
        )
        with np.load(out) as result:
            return {key: result[key] for key in result.files}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--himalaya-python", default="/tmp/rsaenv/bin/python")
    parser.add_argument("--small", action="store_true", help="a quick run (400 samples)")
    parser.add_argument("--no-kernel", action="store_true", help="skip MultipleKernelRidgeCV")
    args = parser.parse_args()
    if args.small:
        n_train, n_test, sizes, n_targets, n_iter = 400, 100, (40, 120, 200), 200, 10
    else:
        n_train, n_test, sizes, n_targets, n_iter = 2000, 500, (200, 600, 1000), 1000, 20
    X, Y, X_test, Y_test, labels = make_problem(n_train, n_test, sizes, n_targets)
    bands = [np.flatnonzero(labels == u) for u in np.unique(labels)]

    def fit_skrep():
        start = time.perf_counter()
        model = BandedEncodingRegression(bands, ALPHAS, n_iter=n_iter, cv=5, random_state=0)
        return model.fit(X, Y), time.perf_counter() - start

    # skrep is timed before and after himalaya, to bracket changes in the machine's load.
    model, before = fit_skrep()
    skrep_r2 = model.score_targets(X_test, Y_test)
    reference = run_himalaya(args.himalaya_python, X, Y, X_test, labels, n_iter, not args.no_kernel)
    _, after = fit_skrep()
    skrep_time = min(before, after)
    lines = [
        f"# {datetime.datetime.now().isoformat(timespec='seconds')}  banded ridge, "
        f"{n_train} train + {n_test} test samples, bands {sizes}, {n_targets} targets, "
        f"{n_iter} candidates, {ALPHAS.size} alphas, 5 folds, r2; OMP_NUM_THREADS=1",
        f"# python {platform.python_version()}; numpy {np.__version__}; cpus {os.cpu_count()}; "
        "himalaya 0.4.11 numpy backend in a subprocess; load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; skrep timed before and after "
        f"himalaya: {before:.1f} s and {after:.1f} s (the smaller is reported)",
        f"{'solver':34s} {'time_s':>8s} {'ratio':>7s} {'mean_R2':>9s} {'med_dR2':>9s} "
        f"{'same_w':>7s} {'max_dw':>9s}",
    ]
    lines.append(
        f"{'skrep BandedEncodingRegression':34s} {skrep_time:8.1f} {1.0:7.2f} "
        f"{skrep_r2.mean():9.5f} {0.0:9.2e} {1.0:7.3f} {0.0:9.2e}"
    )
    for key, name in (
        ("banded", "himalaya BandedRidgeCV"),
        ("kernel", "himalaya MultipleKernelRidgeCV"),
    ):
        if f"{key}_time" not in reference:
            continue
        r2 = np.asarray(score_predictions(Y_test, reference[f"{key}_predict"], "r2"))
        gap = np.abs(reference[f"{key}_gammas"] - model.band_weights_).max(axis=0)
        lines.append(
            f"{name:34s} {float(reference[f'{key}_time']):8.1f} "
            f"{skrep_time / float(reference[f'{key}_time']):7.2f} {r2.mean():9.5f} "
            f"{np.median(skrep_r2 - r2):9.2e} {np.mean(gap < 1e-8):7.3f} {gap.max():9.2e}"
        )
    lines.append(
        "# ratio: skrep time / this solver's time; med_dR2: median over targets of skrep's "
        "held-out R^2 minus this solver's; same_w: fraction of targets with the same chosen "
        "band weights; max_dw: largest difference of a chosen band weight"
    )
    text = "\n".join(lines)
    print(text)
    if not args.small:
        with RESULTS.open("a") as handle:
            handle.write(text + "\n\n")


if __name__ == "__main__":
    sys.exit(main())
