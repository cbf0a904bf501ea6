"""Time RDMs and RDM comparisons (issue 7's benchmark, RSA part).

Run by hand on a quiet machine (``python benchmarks/bench_rsa.py``); results
are printed and appended to ``benchmarks/results/bench_rsa.txt``.

Cases, as in the issue, with the figures of the public tools on a quiet
2-core machine:

- the correlation RDM of 1000 stimuli x 10 000 channels (rsatoolbox 4.2 s:
  its einsum does not use BLAS);
- Spearman comparison of 1 model RDM with 50 RDMs of 1000 stimuli
  (499 500 dissimilarities each; rsatoolbox 3.4 s) and Kendall's tau-a
  (rsatoolbox 6.4 s), with a two-category model (the case tau-a is for) and
  with a graded (many-valued) one;
- the encoding ridge 1000 x 4096 -> 10 000 targets, alphas logspace(-2, 7, 10),
  5-fold KFold, alpha per target (himalaya RidgeCV 18.4 s float64 / 11.8 s
  float32 and about 1 GB; himalaya's KernelRidgeCV 3.2 s float32; scikit-learn's
  RidgeCV, leave-one-out only, 13.7 s), with peak memory.

The local baseline is the public route written in plain numpy/scipy:
rsatoolbox's normalise-then-einsum correlation RDM, and scipy's
``spearmanr`` / ``kendalltau`` one pair at a time. Where rsatoolbox (and
himalaya) are installed (bench-only tools, not dependencies), they are also
timed in the same run, which holds on a noisy machine where the issue's
quiet-machine figures do not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.stats
from bench_linear import append_results, header_lines
from bench_stochastic import timed

from skrep.functional import compare_rdms, compute_rdm

RESULTS = Path(__file__).parent / "results" / "bench_rsa.txt"


def baseline_correlation_rdm(X):
    """rsatoolbox's route: center and normalise rows, then einsum (no BLAS)."""
    X = X - X.mean(axis=1, keepdims=True)
    X = X / np.sqrt(np.einsum("ij,ij->i", X, X))[:, None]
    square = 1 - np.einsum("ik,jk", X, X)
    return square[np.triu_indices(X.shape[0], 1)]


def baseline_tau_a(model, data):
    n = model.size
    pairs = n * (n - 1) / 2

    def ties(v):
        _, counts = np.unique(v, return_counts=True)
        return np.sum(counts * (counts - 1) / 2)

    out = []
    for v in data:
        tau_b = scipy.stats.kendalltau(model, v).statistic
        out.append(tau_b * np.sqrt((pairs - ties(model)) * (pairs - ties(v))) / pairs)
    return np.array(out)


def rsatoolbox_comparison(X, model_rdms, data, skrep_times, repeats):
    """Time rsatoolbox itself here, beside skrep, if installed.

    ``model_rdms`` maps a label to a condensed model RDM; ``skrep_times`` maps
    "correlation", "spearman" and each "tau-a <label>" to skrep's time.
    """
    try:
        from rsatoolbox.data import Dataset
        from rsatoolbox.rdm import RDMs, calc_rdm, compare
    except ImportError:
        return ["rsatoolbox not installed: no same-run comparison (pip install rsatoolbox)"]
    import warnings

    lines = []

    def add(case, function, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_theirs, _ = timed(function, repeats)
        lines.append(
            f"  same run: rsatoolbox {case}: {t_theirs:.3f} s, skrep {ours:.3f} s: "
            f"{t_theirs / ours:.1f}x faster"
        )
        print(lines[-1])

    add(
        "correlation RDM",
        lambda: calc_rdm(Dataset(X), method="correlation"),
        skrep_times["correlation"],
    )
    data_rdms = RDMs(data)
    add(
        "spearman (graded model)",
        lambda: compare(RDMs(model_rdms["graded"][None]), data_rdms, method="spearman"),
        skrep_times["spearman"],
    )
    for label, rdm in model_rdms.items():
        add(
            f"tau-a, {label} model",
            lambda rdm=rdm: compare(RDMs(rdm[None]), data_rdms, method="tau-a"),
            skrep_times[f"tau-a {label}"],
        )
    return lines


def himalaya_comparison(X, Y, alphas, fitted, t_ours, peak_ours, repeats):
    """Time himalaya's KernelRidgeCV (numpy backend) here, beside skrep, if installed.

    A same-run comparison holds on a noisy machine where the issue's quiet-
    machine figures do not; the best alphas are compared target by target
    (himalaya stores them in float32, hence the relative tolerance).
    """
    try:
        from himalaya.backend import set_backend
        from himalaya.kernel_ridge import KernelRidgeCV
    except ImportError:
        return ["himalaya not installed: no same-run comparison (pip install himalaya)"]
    import tracemalloc

    from sklearn.model_selection import KFold

    set_backend("numpy")
    reference = KernelRidgeCV(alphas=alphas, kernel="linear", cv=KFold(5))
    t_him, _ = timed(lambda: reference.fit(X, Y), repeats)
    tracemalloc.start()
    reference.fit(X, Y)
    peak_him = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    same = np.isclose(np.asarray(reference.best_alphas_), fitted.alpha_, rtol=1e-5)
    line = (
        f"  same run: himalaya KernelRidgeCV f32 {t_him:.3f} s, peak {peak_him:.0f} MiB; "
        f"skrep {t_ours:.3f} s, {peak_ours:.0f} MiB: {t_him / t_ours:.2f}x faster; same best "
        f"alpha for {same.mean():.2%} of targets"
    )
    print(line)
    return [line]


def main(repeats=3):
    rng = np.random.default_rng(0)
    lines = header_lines(
        "RSA: RDMs and comparisons (seconds, median); public-tool figures from the issue",
        "case                                      baseline_s  skrep_s  speed-up  public_s  "
        "|difference|",
    )
    X = rng.standard_normal((1000, 10_000))
    t_base, reference = timed(lambda: baseline_correlation_rdm(X), repeats)
    t_ours, ours = timed(lambda: compute_rdm(X, "correlation"), repeats)
    skrep_times = {"correlation": t_ours}
    lines.append(
        f"correlation RDM 1000 x 10000               {t_base:10.3f} {t_ours:8.3f} "
        f"{t_base / t_ours:8.1f}x  {4.2:8.1f}  {np.max(np.abs(ours - reference)):.1e}"
    )
    print(lines[-1])

    patterns = rng.standard_normal((1000, 50))
    model = compute_rdm(patterns)
    data = np.stack([compute_rdm(patterns + rng.standard_normal((1000, 50))) for _ in range(50)])
    t_base, reference = timed(
        lambda: np.array([scipy.stats.spearmanr(model, v).statistic for v in data]), repeats
    )
    t_ours, ours = timed(lambda: compare_rdms(model, data, "spearman")[0], repeats)
    skrep_times["spearman"] = t_ours
    lines.append(
        f"spearman, 1 model vs 50 RDMs of 1000       {t_base:10.3f} {t_ours:8.3f} "
        f"{t_base / t_ours:8.1f}x  {3.4:8.1f}  {np.max(np.abs(ours - reference)):.1e}"
    )
    print(lines[-1])
    # tau-a is the comparison for categorical models (Nili et al. 2014): a
    # two-category model (0 within, 1 across the halves), and a graded one.
    halves = (np.arange(1000) < 500).astype(float)[:, None]
    categorical = compute_rdm(halves, "euclidean")
    tau_models = {"categorical": categorical, "graded": model}
    for label, tau_model in tau_models.items():
        t_base, reference = timed(lambda m=tau_model: baseline_tau_a(m, data), 1)
        t_ours, ours = timed(lambda m=tau_model: compare_rdms(m, data, "tau-a")[0], repeats)
        skrep_times[f"tau-a {label}"] = t_ours
        lines.append(
            f"tau-a, {label:11s} model vs 50 RDMs     {t_base:10.3f} {t_ours:8.3f} "
            f"{t_base / t_ours:8.1f}x  {6.4:8.1f}  {np.max(np.abs(ours - reference)):.1e}"
        )
        print(lines[-1])
    lines += rsatoolbox_comparison(X, tau_models, data, skrep_times, repeats=1)

    import tracemalloc

    from sklearn.model_selection import KFold

    from skrep import EncodingRegression

    X = rng.standard_normal((1000, 4096))
    Y = 0.3 * X @ (rng.standard_normal((4096, 10_000)) / 64) + rng.standard_normal((1000, 10_000))
    alphas = np.logspace(-2, 7, 10)
    public_figures = ((np.float32, "3.2 (KernelRidgeCV f32)"), (np.float64, "18.4 (RidgeCV f64)"))
    for dtype, public in public_figures:
        Xd, Yd = X.astype(dtype), Y.astype(dtype)
        model = EncodingRegression(alphas, cv=KFold(5), scoring="neg_mse", fit_intercept=False)
        t_ours, _ = timed(lambda m=model, Xd=Xd, Yd=Yd: m.fit(Xd, Yd), repeats)
        tracemalloc.start()
        model.fit(Xd, Yd)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        lines.append(
            f"encoding ridge 5-fold {np.dtype(dtype).name}: {t_ours:.3f} s, peak {peak:.0f} MiB "
            f"above the inputs; public {public} s"
        )
        print(lines[-1])
        if dtype is np.float32:
            lines.extend(himalaya_comparison(Xd, Yd, alphas, model, t_ours, peak, repeats))
    loo = EncodingRegression(alphas, scoring="neg_mse", fit_intercept=False)
    t_loo, _ = timed(lambda: loo.fit(X, Y), repeats)
    lines.append(
        f"encoding ridge leave-one-out float64: {t_loo:.3f} s; scikit-learn RidgeCV 13.7 s"
    )
    print("\n".join(lines))
    append_results(lines, RESULTS)


if __name__ == "__main__":
    main()
