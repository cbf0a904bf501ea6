"""Time skrep's RSA model fitting, cross-validation and bootstraps against rsatoolbox 0.3.2.

Run by hand from the repository root (``python benchmarks/bench_rsa_models.py``);
results are printed and appended to ``benchmarks/results/bench_rsa_models.txt``.

The data: the 92-image set shipped with skrep (8 model RDMs, 8 hIT RDMs of 4
subjects x 2 sessions, 4186 pairs), read by skrep with
``load_kriegeskorte92(condensed=True)`` and by the rsatoolbox side from the same
``kriegeskorte92_rdms.npz`` with numpy (upper triangles, float64). rsatoolbox
runs in ``/tmp/rsaenv/bin/python`` as a subprocess, first; skrep after it, in
this process. Both sides run single-threaded (``OMP_NUM_THREADS=1`` and
friends set before numpy is imported, and ``threadpoolctl.threadpool_limits(1)``).

1. ``fit_rdm_weights(components, rdms, method, nonnegative=...)`` against
   ``fit_regress_nn`` / ``fit_regress`` on a ``ModelWeighted`` (the model and
   ``RDMs`` objects are built outside the timing), for "cosine", "corr",
   "cosine_cov" and "corr_cov". rsatoolbox 0.3.2's NNLS can loop for ever (it
   stops when max(A'y - A'A x) <= 100 eps, an absolute threshold that rounding
   can stay above; it does on the 92-image data with "cosine"): each of its
   calls runs under a ``--hang`` second alarm and is reported as "did not
   return". Where it does not, the same call is timed on the components times
   2^-24 ("k92x2^-24": exact in floating point, the same work, the same
   normalised weights and scores; skrep gets the same scaled input), and all
   fits are also timed on a seeded simulation of the same size (8
   components, 8 subjects, 92 stimuli, correlation distances; seed
   ``SIM_SEED``, the first from 0 on which rsatoolbox's NNLS returns for all
   four methods: the hang comes and goes with rounding, and most seeds give
   at least one method that does not return).
2. ``crossvalidate_rdm_model`` against ``crossval`` with the folds of
   ``sets_k_fold(k_rdm=2, k_pattern=4, random=True)`` (numpy seed
   ``CV_SEED``), transferred to skrep as index arrays, for "corr" and
   "corr_cov", non-negative and unconstrained (8 folds; a hang handled as
   for the fits, on the components x 2^-24).
3. ``bootstrap_comparisons(models, data, method, n_bootstrap=1000, over=...,
   return_noise_ceiling=True, random_state=0)`` against
   ``eval_bootstrap_pattern`` / ``eval_bootstrap_rdm`` / ``eval_bootstrap`` /
   ``eval_dual_bootstrap`` (N=1000, the 8 model RDMs as ``ModelFixed``), for
   "corr" and "spearman". The resamples differ (different generators), so
   the check compares the mean over resamples of each model's evaluation (and
   of the noise ceiling bounds) to within Monte-Carlo error, and the ratio of
   their standard deviations; exact equality on shared resamples is tested in
   tests/test_rsa_bootstrap_modes.py.

skrep is timed best of ``--repeats`` (fewer when the runs add up to over
``--budget`` seconds: one run for the long bootstraps); rsatoolbox once for
the bootstraps and best of ``--repeats`` for the fits and cross-validations
(milliseconds each, where a single first call would mostly time warm-up).
Wall-clock and CPU (process) times are both reported: on a shared machine the
CPU time is the steadier measure.
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
from scipy.spatial.distance import pdist  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_linear import append_results, header_lines  # noqa: E402

from skrep.datasets import load_kriegeskorte92  # noqa: E402
from skrep.functional.rdm_weights import crossvalidate_rdm_model, fit_rdm_weights  # noqa: E402
from skrep.functional.rsa_inference import bootstrap_comparisons  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "bench_rsa_models.txt"
DATA = ROOT / "skrep" / "datasets" / "data" / "kriegeskorte92_rdms.npz"
WORK = Path("/tmp/skrep_bench_rsa_models")
RSAENV = Path("/tmp/rsaenv/bin/python")
FIT_METHODS = ("cosine", "corr", "cosine_cov", "corr_cov")
CV_METHODS = ("corr", "corr_cov")
BOOT_METHODS = ("corr", "spearman")
MODES = ("stimuli", "subjects", "both", "dual")
FITTERS = (("nn", True), ("ls", False))
SIM_SEED = 9
CV_SEED = 5
LABELS = {"k92": "k92", "k92s": "k92x2^-24", "sim": "sim"}

#: Run in the rsatoolbox environment; argv: work folder, data file, N, hang seconds,
#: repeats, budget, cv seed. Prints the timings as JSON, saves the results to rsatoolbox.npz.
RSATOOLBOX_SCRIPT = r"""
import contextlib, io, json, signal, sys, time, warnings
import numpy as np
from threadpoolctl import threadpool_limits
import rsatoolbox.inference.evaluate as evaluate
from rsatoolbox.inference import crossval, sets_k_fold
from rsatoolbox.model import ModelFixed, ModelWeighted, fit_regress, fit_regress_nn
from rsatoolbox.rdm import RDMs

threadpool_limits(1)
warnings.simplefilter("ignore")
work, path = sys.argv[1], sys.argv[2]
n_bootstrap, hang, repeats = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
budget, cv_seed = float(sys.argv[6]), int(sys.argv[7])
with np.load(path) as raw:
    rows, columns = np.triu_indices(raw["model_rdms"].shape[-1], 1)
    data_sets = {
        "k92": tuple(np.ascontiguousarray(raw[key][:, rows, columns], dtype=np.float64)
                     for key in ("model_rdms", "brain_rdms"))
    }
with np.load(f"{work}/inputs.npz") as inputs:
    data_sets["sim"] = (inputs["sim_components"], inputs["sim_subjects"])
timings, out, quiet = {}, {}, io.StringIO()


class Hang(Exception):
    pass


def alarm(signum, frame):
    raise Hang


signal.signal(signal.SIGALRM, alarm)


def timed(key, function, n_repeats):
    best, result, total, runs = None, None, 0.0, 0
    while runs < n_repeats and (runs == 0 or total < budget):
        wall, cpu = time.perf_counter(), time.process_time()
        signal.alarm(hang)
        try:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                result = function()
        except Hang:
            timings[key] = {"hang": hang}
            return None
        finally:
            signal.alarm(0)
        times = (time.perf_counter() - wall, time.process_time() - cpu)
        total += times[0]
        runs += 1
        best = times if best is None or times[0] < best[0] else best
    timings[key] = {"wall": best[0], "cpu": best[1], "runs": runs}
    return result


fitters = {"nn": fit_regress_nn, "ls": fit_regress}
# Where rsatoolbox hangs on the 92-image data, the same call on its components x 2^-24
# ("k92s": exact, the same work, and fitted weights and scores that do not change).
data_sets["k92s"] = (data_sets["k92"][0] * 2.0**-24, data_sets["k92"][1])
for name in ("k92", "sim"):
    for method in ("cosine", "corr", "cosine_cov", "corr_cov"):
        for fitter in ("nn", "ls"):
            key = f"fit__{name}__{fitter}__{method}"
            names = [name] + (["k92s"] if name == "k92" else [])
            for used in names:
                if used == "k92s" and "hang" not in timings[key]:
                    continue
                components, subjects = data_sets[used]
                model, data = ModelWeighted("weighted", RDMs(components)), RDMs(subjects)
                theta = timed(f"fit__{used}__{fitter}__{method}",
                              lambda: fitters[fitter](model, data, method=method), repeats)
                if theta is not None:
                    out[f"fit__{used}__{fitter}__{method}"] = theta

data = RDMs(data_sets["k92"][1])
np.random.seed(cv_seed)  # sets_k_fold shuffles with numpy's global generator
train_set, test_set, _ = sets_k_fold(data, k_rdm=2, k_pattern=4, random=True)
for i, (train, test) in enumerate(zip(train_set, test_set)):
    out[f"folds__{i}__train_subjects"] = np.asarray(train[0].rdm_descriptors["index"])
    out[f"folds__{i}__train_stimuli"] = np.asarray(train[1])
    out[f"folds__{i}__test_subjects"] = np.asarray(test[0].rdm_descriptors["index"])
    out[f"folds__{i}__test_stimuli"] = np.asarray(test[1])
out["folds__n"] = np.array(len(train_set))
for method in ("corr", "corr_cov"):
    for fitter in ("nn", "ls"):
        for used in ("k92", "k92s"):
            if used == "k92s" and "hang" not in timings[f"cv__k92__{fitter}__{method}"]:
                continue
            key = f"cv__{used}__{fitter}__{method}"
            model = ModelWeighted("weighted", RDMs(data_sets[used][0]))
            result = timed(key, lambda: crossval(
                model, data, train_set, test_set, method=method, fitter=fitters[fitter],
                calc_noise_ceil=False), repeats)
            if result is not None:
                out[key] = np.asarray(result.evaluations).reshape(-1)

components, subjects = data_sets["k92"]
models = [ModelFixed(f"model{k}", RDMs(rdm[None])) for k, rdm in enumerate(components)]
data = RDMs(subjects)
functions = {"stimuli": evaluate.eval_bootstrap_pattern, "subjects": evaluate.eval_bootstrap_rdm,
             "both": evaluate.eval_bootstrap}
hang, budget = 10**6, 0.0  # no alarm, one run
for method in ("corr", "spearman"):
    for mode in ("stimuli", "subjects", "both", "dual"):
        key = f"boot__{method}__{mode}"
        np.random.seed(0)
        if mode == "dual":
            result = timed(key, lambda: evaluate.eval_dual_bootstrap(
                models, data, method=method, N=n_bootstrap, use_correction=False), 1)
            out[f"{key}__evaluations"] = result.evaluations[:, :, 0, 0, :].transpose(2, 0, 1)
            out[f"{key}__ceiling"] = result.noise_ceiling[:, :, 0, :].transpose(2, 1, 0)
        else:
            result = timed(key, lambda: functions[mode](models, data, method=method,
                                                        N=n_bootstrap), 1)
            out[f"{key}__evaluations"] = result.evaluations[None]
            out[f"{key}__ceiling"] = result.noise_ceiling.T[None]
np.savez(f"{work}/rsatoolbox.npz", **out)
print(json.dumps(timings))
"""


def simulate(seed: int = SIM_SEED, n: int = 92, n_components: int = 8, n_subjects: int = 8):
    """Components: correlation distances of random patterns; subjects: their mixture plus noise."""
    rng = np.random.default_rng(seed)
    patterns = [rng.standard_normal((n, 20)) for _ in range(n_components)]
    components = np.stack([pdist(p, "correlation") for p in patterns])
    weights = rng.uniform(0, 1, n_components) * (rng.random(n_components) < 0.7)
    mixed = np.concatenate([np.sqrt(w) * p for w, p in zip(weights, patterns, strict=True)], 1)
    subjects = np.stack(
        [
            pdist(np.concatenate([mixed, 1.5 * rng.standard_normal((n, 40))], 1), "correlation")
            for _ in range(n_subjects)
        ]
    )
    return components, subjects


def run_rsatoolbox(sim, args):
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(WORK / "inputs.npz", sim_components=sim[0], sim_subjects=sim[1])
    script = WORK / "rsatoolbox_side.py"
    script.write_text(RSATOOLBOX_SCRIPT)
    command = [
        str(RSAENV),
        str(script),
        str(WORK),
        str(DATA),
        str(args.n_bootstrap),
        str(args.hang),
        str(args.repeats),
        str(args.budget),
        str(CV_SEED),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    timings = json.loads(completed.stdout.strip().splitlines()[-1])
    with np.load(WORK / "rsatoolbox.npz") as reference:
        return timings, {key: reference[key] for key in reference.files}


def timed(function, repeats, budget):
    """Best (wall, cpu) of up to ``repeats`` runs, stopping once they add up to ``budget`` s."""
    best, result, total, runs = None, None, 0.0, 0
    while runs < repeats and (runs == 0 or total < budget):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        times = (time.perf_counter() - wall, time.process_time() - cpu)
        total += times[0]
        runs += 1
        best = times if best is None or times[0] < best[0] else best
    return best, runs, result


def row(label, rsa, ours, runs, check):
    """One line of the table; ``rsa`` is rsatoolbox's timing (or its hang)."""
    wall, cpu = ours
    if "hang" in rsa:
        text = f"did not return in {rsa['hang']} s"
        return (
            f"{label:32s} {text:>26s} {wall:10.3g} {'':11s} {'':14s} {cpu:10.3g} {'':10s} "
            f"{runs}/-  {check}"
        )
    return (
        f"{label:32s} {rsa['wall']:15.3g} {wall:10.3g} {rsa['wall'] / wall:10.1f}x "
        f"{rsa['cpu']:14.3g} {cpu:10.3g} {rsa['cpu'] / cpu:9.1f}x {runs}/{rsa['runs']}  {check}"
    )


def fold_list(reference):
    """rsatoolbox's sets_k_fold folds, as (train_subjects, train_stimuli, test_subjects,
    test_stimuli) tuples of indices."""
    parts = ("train_subjects", "train_stimuli", "test_subjects", "test_stimuli")
    n = int(reference["folds__n"])
    return [tuple(reference[f"folds__{i}__{part}"] for part in parts) for i in range(n)]


def summary_check(ours, theirs, ceiling_ours, ceiling_theirs):
    """Means over resamples, skrep against rsatoolbox, with their Monte-Carlo standard errors."""

    def moments(values):
        n = np.sum(~np.isnan(values), axis=-2)
        return np.nanmean(values, axis=-2), np.nanvar(values, axis=-2, ddof=1), n

    def compare(a, b):
        (mean_a, var_a, n_a), (mean_b, var_b, n_b) = moments(a), moments(b)
        difference = np.abs(mean_a - mean_b)
        error = np.sqrt(var_a / n_a + var_b / n_b)
        worst = np.unravel_index(np.argmax(difference), difference.shape)
        return difference[worst], error[worst], np.max(difference / error), np.sqrt(var_a / var_b)

    difference, error, z, sd_ratio = compare(ours, theirs)
    ceiling_difference, _, ceiling_z, _ = compare(ceiling_ours, ceiling_theirs)
    return (
        f"max|dmean| {difference:.1e} (se {error:.1e}), max|z| {z:.1f}; sd ratio "
        f"{sd_ratio.min():.2f}-{sd_ratio.max():.2f}; ceiling max|dmean| "
        f"{ceiling_difference:.1e}, max|z| {ceiling_z:.1f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds of repeats per case")
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--hang", type=int, default=10, help="seconds before a fit is given up")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    threadpool_limits(1)
    load_start = os.getloadavg()
    started = time.perf_counter()
    k92 = load_kriegeskorte92(condensed=True)
    data_sets = {
        "k92": (k92.model_rdms, k92.brain_rdms),
        "k92s": (k92.model_rdms * 2.0**-24, k92.brain_rdms),
        "sim": simulate(),
    }
    timings, reference = run_rsatoolbox(data_sets["sim"], args)
    rsatoolbox_seconds = time.perf_counter() - started
    lines = []
    notes = []
    folds = fold_list(reference)

    def skrep_time(function):
        return timed(function, args.repeats, args.budget)

    for key in timings:
        kind, name, fitter, method = (key.split("__") + ["", "", ""])[:4]
        if kind not in ("fit", "cv"):
            continue
        components, subjects = data_sets[name]
        nonnegative = fitter == "nn"
        if kind == "fit":
            times, runs, result = skrep_time(
                lambda a=components, d=subjects, m=method, nn=nonnegative: fit_rdm_weights(
                    a, d, m, nonnegative=nn
                )
            )
            what, label = "w", f"fit_rdm_weights {LABELS[name]} {fitter} {method}"
        else:
            times, runs, result = skrep_time(
                lambda a=components, d=subjects, m=method, nn=nonnegative: crossvalidate_rdm_model(
                    a, d, folds, m, nn
                )
            )
            what, label = "score", f"crossvalidate {LABELS[name]} {fitter} {method}"
        scaled = key.replace("__k92__", "__k92s__")
        if key in reference:
            check = f"max|d{what}| {np.max(np.abs(result - reference[key])):.1e}"
        elif scaled in reference:
            difference = np.max(np.abs(result - reference[scaled]))
            check = f"max|d{what}| {difference:.1e} against rsatoolbox's x2^-24 result"
        else:
            check = "(no rsatoolbox result to compare)"
        lines.append(row(label, timings[key], times, runs, check))
    models, subjects = data_sets["k92"]
    for method in BOOT_METHODS:
        for mode in MODES:
            key = f"boot__{method}__{mode}"
            times, runs, (samples, ceiling) = skrep_time(
                lambda method=method, mode=mode: bootstrap_comparisons(
                    models,
                    subjects,
                    method,
                    n_bootstrap=args.n_bootstrap,
                    over=mode,
                    return_noise_ceiling=True,
                    random_state=0,
                )
            )
            if mode != "dual":
                samples, ceiling = samples[None], ceiling[None]
            check = summary_check(
                samples, reference[f"{key}__evaluations"], ceiling, reference[f"{key}__ceiling"]
            )
            lines.append(row(f"bootstrap {method} {mode}", timings[key], times, runs, check))
    hung = [key for key, value in timings.items() if "hang" in value]
    notes.append(
        "rsatoolbox did not return (NNLS loop, alarm after "
        f"{args.hang} s): {', '.join(hung) if hung else 'none'}"
    )
    load_end = os.getloadavg()
    total = time.perf_counter() - started
    header = header_lines(
        "RSA models on the 92-image data (8 model RDMs, 8 hIT RDMs, 4186 pairs) and a seeded "
        f"simulation of its size (sim, seed {SIM_SEED}); fit_rdm_weights, "
        f"crossvalidate_rdm_model (sets_k_fold k_rdm=2, k_pattern=4, seed {CV_SEED}), "
        f"bootstrap_comparisons N={args.n_bootstrap} with noise ceilings; OMP_NUM_THREADS=1 and "
        f"threadpool_limits(1) on both sides (seconds; skrep best of {args.repeats} or fewer "
        f"past {args.budget:g} s; rsatoolbox 0.3.2 best of {args.repeats} for fits and "
        "cross-validations, once for bootstraps; runs = skrep/rsatoolbox)",
        "step                             rsatoolbox_wall skrep_wall ratio_wall "
        "rsatoolbox_cpu  skrep_cpu ratio_cpu runs check",
    )
    header.insert(
        2,
        "# load average (1/5/15 min) at start {:.2f}/{:.2f}/{:.2f}, at end {:.2f}/{:.2f}/{:.2f}; "
        "script {:.0f} s (rsatoolbox side {:.0f} s)".format(
            *load_start, *load_end, total, rsatoolbox_seconds
        ),
    )
    lines = header + lines + [f"note: {note}" for note in notes]
    print("\n".join(lines))
    if not args.no_write:
        append_results(lines, RESULTS)


if __name__ == "__main__":
    main()
