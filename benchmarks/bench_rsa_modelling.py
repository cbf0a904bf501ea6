"""Time RSA modelling (weighted models, cross-validation, bootstraps) against rsatoolbox 0.3.2.

Run by hand from the repository root (``python benchmarks/bench_rsa_modelling.py``);
results are printed and appended to ``benchmarks/results/bench_rsa_modelling.txt``.

The data: the 92-image set shipped with skrep (8 model RDMs, 8 hIT RDMs of 4
subjects x 2 sessions, 4186 pairs each). Both sides run single-threaded
(``OMP_NUM_THREADS=1`` and friends, set before numpy is imported); rsatoolbox
runs in ``/tmp/rsaenv/bin/python`` as a subprocess.

- weights: rsatoolbox's ``fit_regress_nn`` / ``fit_regress`` on a
  ``ModelWeighted`` of the 8 models against skrep's ``fit_rdm_weights``
  (nonnegative True / False), four methods, best of ``--repeats``.
  rsatoolbox's NNLS does not return on these components with "cosine" (its
  stopping rule is an absolute threshold that rounding keeps it above), so
  its non-negative fits are timed on the components times 2**-24, the same
  work; the weights, normalised, do not change.
- cross-validation: rsatoolbox's ``crossval`` over ``sets_k_fold(k_rdm=2,
  k_pattern=4)`` folds (seeded) with ``fit_regress``, against skrep's
  ``crossvalidate_rdm_model`` over the same folds (``nonnegative=False``).
- bootstraps: ``eval_bootstrap_pattern``, ``eval_bootstrap_rdm``,
  ``eval_bootstrap`` and ``eval_dual_bootstrap`` of the 8 fixed models
  (``--n-bootstrap`` resamples, "corr") against ``bootstrap_comparisons(...,
  over=...)`` with the noise ceilings (rsatoolbox computes them in every
  resample too), timed once each. The resamples differ (different random
  generators): the check column is the largest difference of the models' mean
  evaluations over resamples, against its Monte-Carlo standard error. Equality
  resample by resample is tested in ``tests/test_rsa_bootstrap_modes.py``.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_linear import append_results, header_lines  # noqa: E402

from skrep.datasets import load_kriegeskorte92  # noqa: E402
from skrep.functional import (  # noqa: E402
    bootstrap_comparisons,
    crossvalidate_rdm_model,
    fit_rdm_weights,
)

RESULTS = Path(__file__).parent / "results" / "bench_rsa_modelling.txt"
WORK = Path("/tmp/skrep_bench_rsa_modelling")
RSAENV = Path("/tmp/rsaenv/bin/python")
METHODS = ("cosine", "corr", "cosine_cov", "corr_cov")
CV_METHODS = ("corr", "corr_cov")
MODES = ("stimuli", "subjects", "both", "dual")

#: Run in the rsatoolbox environment; prints one JSON object of times and results.
RSATOOLBOX_SCRIPT = r"""
import contextlib, io, json, sys, time
import numpy as np
from rsatoolbox.inference import (crossval, eval_bootstrap, eval_bootstrap_pattern,
    eval_bootstrap_rdm, eval_dual_bootstrap, sets_k_fold)
from rsatoolbox.model import ModelFixed, ModelWeighted, fit_regress, fit_regress_nn
from rsatoolbox.rdm import RDMs

work, repeats, n_bootstrap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
methods, cv_methods, modes = json.loads(sys.argv[4])
inputs = np.load(work + "/inputs.npz")
models, brains = inputs["models"], inputs["brains"]
data = RDMs(brains)
out = {"times": {}, "results": {}}

def best(call):
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); value = call(); times.append(time.perf_counter() - start)
    return min(times), value

scaled = ModelWeighted("scaled", RDMs(models * 2.0 ** -24))
weighted = ModelWeighted("weighted", RDMs(models))
for method in methods:
    t, w = best(lambda: fit_regress_nn(scaled, data, method=method))
    out["times"]["weights nn " + method] = t
    out["results"]["weights nn " + method] = np.asarray(w).tolist()
    t, w = best(lambda: fit_regress(weighted, data, method=method))
    out["times"]["weights ls " + method] = t
    out["results"]["weights ls " + method] = np.asarray(w).tolist()

np.random.seed(5)
train_set, test_set, _ = sets_k_fold(data, k_rdm=2, k_pattern=4, random=True)
out["folds"] = [
    [np.asarray(tr[0].rdm_descriptors["index"]).tolist(), np.asarray(tr[1]).tolist(),
     np.asarray(te[0].rdm_descriptors["index"]).tolist(), np.asarray(te[1]).tolist()]
    for tr, te in zip(train_set, test_set)
]
for method in cv_methods:
    def call():
        return crossval(weighted, data, train_set, test_set, method=method, fitter=fit_regress,
                        calc_noise_ceil=False)
    t, result = best(call)
    out["times"]["crossval " + method] = t
    out["results"]["crossval " + method] = np.asarray(result.evaluations[0, 0]).tolist()

fixed = [ModelFixed(f"m{k}", RDMs(models[k][None])) for k in range(len(models))]
functions = {"stimuli": eval_bootstrap_pattern, "subjects": eval_bootstrap_rdm,
             "both": eval_bootstrap}
for mode in modes:
    np.random.seed(0)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        if mode == "dual":
            result = eval_dual_bootstrap(fixed, data, method="corr", N=n_bootstrap)
            evaluations = result.evaluations[:, :, 0, 0, 0]
        else:
            result = functions[mode](fixed, data, method="corr", N=n_bootstrap)
            evaluations = result.evaluations
    out["times"]["bootstrap " + mode] = time.perf_counter() - start
    out["results"]["bootstrap " + mode] = [
        np.nanmean(evaluations, axis=0).tolist(), np.nanstd(evaluations, axis=0).tolist()]
print(json.dumps(out))
"""


def best_time(call, repeats):
    """Best wall time of ``repeats`` calls after one warm-up, and the last value."""
    value = call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = call()
        times.append(time.perf_counter() - start)
    return min(times), value


def run_rsatoolbox(models, brains, repeats, n_bootstrap):
    """Times and results of the rsatoolbox side, from its own environment."""
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(WORK / "inputs.npz", models=models, brains=brains)
    script = WORK / "rsatoolbox_side.py"
    script.write_text(RSATOOLBOX_SCRIPT)
    completed = subprocess.run(
        [
            str(RSAENV),
            str(script),
            str(WORK),
            str(repeats),
            str(n_bootstrap),
            json.dumps([METHODS, CV_METHODS, MODES]),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def skrep_side(models, brains, folds, repeats, n_bootstrap):
    """Times and results of skrep, keyed as the rsatoolbox side."""
    times, results = {}, {}
    for method in METHODS:
        for name, nonnegative in (("nn", True), ("ls", False)):
            key = f"weights {name} {method}"
            times[key], results[key] = best_time(
                lambda m=method, n=nonnegative: fit_rdm_weights(models, brains, m, nonnegative=n),
                repeats,
            )
    for method in CV_METHODS:
        key = f"crossval {method}"
        times[key], results[key] = best_time(
            lambda m=method: crossvalidate_rdm_model(models, brains, folds, m, nonnegative=False),
            repeats,
        )
    for mode in MODES:
        start = time.perf_counter()
        samples, _ = bootstrap_comparisons(
            models,
            brains,
            "corr",
            n_bootstrap=n_bootstrap,
            over=mode,
            return_noise_ceiling=True,
            random_state=0,
        )
        times[f"bootstrap {mode}"] = time.perf_counter() - start
        both = samples[0] if mode == "dual" else samples
        results[f"bootstrap {mode}"] = [np.nanmean(both, axis=0), np.nanstd(both, axis=0)]
    return times, results


def check(key, ours, theirs, n_bootstrap):
    """The agreement of the two sides' results, in words."""
    if key.startswith("bootstrap"):
        mean_ours, std_ours = (np.asarray(v) for v in ours)
        mean_theirs, std_theirs = (np.asarray(v) for v in theirs)
        error = np.sqrt((std_ours**2 + std_theirs**2) / n_bootstrap)
        worst = np.abs(mean_ours - mean_theirs) / error
        return (
            f"means differ by {np.abs(mean_ours - mean_theirs).max():.1e} "
            f"(at most {worst.max():.1f} Monte-Carlo s.e.)"
        )
    difference = np.abs(np.asarray(ours) - np.ravel(theirs)).max()
    return f"max|difference| {difference:.1e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    data = load_kriegeskorte92(condensed=True)
    models = np.asarray(data.model_rdms, dtype=np.float64)
    brains = np.asarray(data.brain_rdms, dtype=np.float64)
    theirs = run_rsatoolbox(models, brains, args.repeats, args.n_bootstrap)
    folds = [tuple(np.asarray(part) for part in fold) for fold in theirs["folds"]]
    times, results = skrep_side(models, brains, folds, args.repeats, args.n_bootstrap)

    title = (
        "RSA modelling on the 92-image data (8 model RDMs, 8 hIT RDMs, 4186 pairs); "
        f"OMP_NUM_THREADS=1; weights and crossval best of {args.repeats}, bootstraps once "
        f"with N = {args.n_bootstrap} ('corr', noise ceilings included); rsatoolbox 0.3.2"
    )
    columns = f"{'step':<26}{'rsatoolbox_s':>14}{'skrep_s':>10}{'ratio':>9}  check"
    lines = header_lines(title, columns)
    for key, seconds in theirs["times"].items():
        agreement = check(key, results[key], theirs["results"][key], args.n_bootstrap)
        ratio = seconds / times[key]
        lines.append(f"{key:<26}{seconds:>14.4f}{times[key]:>10.4f}{ratio:>8.1f}x  {agreement}")
    lines.append(
        "# weights nn: rsatoolbox timed on the components x 2**-24 (its NNLS does not return on "
        "them as given with 'cosine'); crossval: the same sets_k_fold folds on both sides"
    )
    print("\n".join(lines))
    if not args.no_write:
        append_results(lines, RESULTS)


if __name__ == "__main__":
    main()
