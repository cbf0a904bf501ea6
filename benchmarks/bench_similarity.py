"""Time CKA and the layer-by-layer CKA matrix (issue 6's benchmark).

Run by hand on a quiet machine (``python benchmarks/bench_similarity.py``);
results are printed and appended to ``benchmarks/results/bench_similarity.txt``.

Cases, as in the issue:

- linear and RBF CKA (0.8 of the median distance) at 5000 x 512, float32 and
  float64, one pair;
- the 20 x 20 linear-CKA matrix of 20 layers of 2000 x 512.

The baseline is the way public code computes the same numbers, written here
in plain numpy: linear CKA through the centered feature products of each pair
(the fastest public route), RBF CKA through explicit n x n Gram matrices
centered by their row and column means, and the layer matrix as one such pair
at a time. The issue's figures for the fastest public code on 2 cores are
235 ms (linear, float32), 400 ms (linear, float64), 3.4 s (RBF, float32) and
2.3 s for the 20-layer matrix. Peak memory is traced with tracemalloc.

``--floor`` runs only the section of issue 22 (item 5), "linear CKA at the
floor": ``linear_cka`` against, in the same run and interleaved,

- ``textbook``: center, then ``X'Y``, ``X'X``, ``Y'Y`` in numpy (numpy's
  matmul already hands ``X.T @ X`` to BLAS SYRK: same buffer on both sides);
  for the wide case the Gram side, ``Xc Xc'`` and ``Yc Yc'``;
- ``GEMMs``: the same with the symmetric products forced through GEMM
  (the route as the issue describes it, "center, then three GEMMs");
- ``floor``: the bare products on data centered beforehand, no checks: one
  ``X'Y`` GEMM plus two SYRKs for 5000 x 512; for the wide case (n < p), the
  two n x n SYRKs ``Xc Xc'`` and ``Yc Yc'`` plus their inner product;

at 5000 x 512 and 2000 x 4096, float32 and float64: the minimum over
``--repeats`` interleaved rounds (the machine is shared: rerun on an idle one),
written as ratios.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from bench_linear import append_results, header_lines
from bench_stochastic import timed
from threadpoolctl import threadpool_limits

from skrep import layer_similarity
from skrep.functional import linear_cka, rbf_cka

RESULTS = __import__("pathlib").Path(__file__).parent / "results" / "bench_similarity.txt"


def baseline_linear_cka(X, Y):
    """Feature-space linear CKA of one pair, in the input dtype."""
    X = X - X.mean(axis=0)
    Y = Y - Y.mean(axis=0)
    cross = np.linalg.norm(X.T @ Y) ** 2
    return cross / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))


def baseline_rbf_cka(X, Y, threshold=0.8):
    """RBF CKA through explicit Gram matrices centered by row and column means."""

    def gram(A):
        dots = A @ A.T
        norms = np.diag(dots)
        distances = norms[:, None] + norms[None, :] - 2 * dots
        return np.exp(-distances / (2 * threshold**2 * np.median(distances)))

    def center(K):
        K = K - K.mean(axis=0, keepdims=True)
        return K - K.mean(axis=1, keepdims=True)

    K, L = center(gram(X)), center(gram(Y))
    return np.sum(K * L) / (np.linalg.norm(K) * np.linalg.norm(L))


def baseline_layer_matrix(layers):
    k = len(layers)
    result = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            result[i, j] = result[j, i] = baseline_linear_cka(layers[i], layers[j])
    return result


def peak_mib(function):
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def textbook_linear_cka(X, Y, symmetric=True):
    """Center, then the products of the cheaper side, in numpy.

    More stimuli than features: ``X'Y``, ``X'X``, ``Y'Y`` (numpy gives ``X.T @ X``
    to SYRK); otherwise the two Grams ``Xc Xc'`` and ``Yc Yc'``. With
    ``symmetric=False`` the second operand of each symmetric product is a copy,
    so that it runs as a GEMM (the route "center, then three GEMMs").
    """
    X = X - X.mean(axis=0)
    Y = Y - Y.mean(axis=0)
    X2, Y2 = (X, Y) if symmetric else (X.copy(), Y.copy())
    if X.shape[0] >= X.shape[1] + Y.shape[1]:
        return np.linalg.norm(X.T @ Y) ** 2 / (np.linalg.norm(X.T @ X2) * np.linalg.norm(Y.T @ Y2))
    K, L = X @ X2.T, Y @ Y2.T
    return np.vdot(K, L) / (np.linalg.norm(K) * np.linalg.norm(L))


def floor_products(Xc, Yc):
    """The products linear CKA cannot avoid, on data centered beforehand."""
    if Xc.shape[0] >= Xc.shape[1] + Yc.shape[1]:
        return Xc.T @ Yc, Xc.T @ Xc, Yc.T @ Yc  # one GEMM, two SYRKs
    K, L = Xc @ Xc.T, Yc @ Yc.T  # two SYRKs (n x n)
    return np.vdot(K, L)


def interleaved_minimum(functions, repeats, clock=time.perf_counter):
    """Minimum time (s) of each function on ``clock``, the functions taking turns each round."""
    times = {name: [] for name in functions}
    for function in functions.values():
        function()  # warm-up
    for _ in range(repeats):
        for name, function in functions.items():
            start = clock()
            function()
            times[name].append(clock() - start)
    return {name: min(values) for name, values in times.items()}


def floor_section(repeats, threads=None):
    """Issue 22, item 5: linear_cka against the textbook route and the floor, as ratios.

    With one BLAS thread the clock is the process's CPU time, which time spent
    waiting for a core that other programs hold does not inflate.
    """
    clock, clock_name = (
        (time.process_time, "CPU time") if threads == 1 else (time.perf_counter, "wall time")
    )
    lines = header_lines(
        f"linear CKA at the floor (issue 22 item 5), minimum of {repeats} interleaved rounds "
        f"(ms, {clock_name}), BLAS threads: {threads or 'all'}",
        "case                       textbook    GEMMs    floor    skrep  textbook/skrep  "
        "  GEMMs/skrep  skrep/floor  |skrep-float64|",
    )
    rng = np.random.default_rng(0)
    for n, p in ((5000, 512), (2000, 4096)):
        X64 = rng.standard_normal((n, p))
        Y64 = np.tanh(X64[:, :512] @ rng.standard_normal((512, p)) / 20)
        Y64 += 0.1 * rng.standard_normal((n, p))
        exact = linear_cka(X64, Y64)
        for dtype in (np.float32, np.float64):
            X, Y = X64.astype(dtype), Y64.astype(dtype)
            Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
            best = interleaved_minimum(
                {
                    "textbook": lambda X=X, Y=Y: textbook_linear_cka(X, Y),
                    "gemms": lambda X=X, Y=Y: textbook_linear_cka(X, Y, symmetric=False),
                    "floor": lambda Xc=Xc, Yc=Yc: floor_products(Xc, Yc),
                    "skrep": lambda X=X, Y=Y: linear_cka(X, Y),
                },
                repeats,
                clock,
            )
            ms = {name: 1e3 * value for name, value in best.items()}
            label = f"{n}x{p} {np.dtype(dtype).name}"
            lines.append(
                f"{label:<26} {ms['textbook']:8.1f} {ms['gemms']:8.1f} {ms['floor']:8.1f} "
                f"{ms['skrep']:8.1f} {ms['textbook'] / ms['skrep']:14.2f}x "
                f"{ms['gemms'] / ms['skrep']:13.2f}x {ms['skrep'] / ms['floor']:11.2f}x  "
                f"{abs(linear_cka(X, Y) - exact):.1e}"
            )
            print(lines[-1], flush=True)
    # float32 features around 1000: the centered route must keep the accuracy.
    X = rng.standard_normal((5000, 512))
    Y = np.tanh(X @ rng.standard_normal((512, 512)) / 20) + 0.1 * rng.standard_normal((5000, 512))
    X, Y = X + 1000.0, Y + 1000.0
    error = abs(linear_cka(X.astype(np.float32), Y.astype(np.float32)) - linear_cka(X, Y))
    textbook_error = abs(
        textbook_linear_cka(X.astype(np.float32), Y.astype(np.float32)) - linear_cka(X, Y)
    )
    lines.append(
        f"float32, 5000x512 around 1000: |skrep - float64| {error:.1e}, "
        f"|textbook (float32 mean) - float64| {textbook_error:.1e}"
    )
    print(lines[-1])
    append_results(lines, RESULTS)


def main(repeats=3):
    rng = np.random.default_rng(0)
    lines = header_lines(
        "CKA, baseline = public code's route in numpy (seconds, median; peak MiB)",
        "case                               baseline_s  skrep_s  speed-up  baseline_MiB  "
        "skrep_MiB  |difference|",
    )
    X64 = rng.standard_normal((5000, 512))
    Y64 = np.tanh(X64 @ rng.standard_normal((512, 512)) / 20) + 0.1 * rng.standard_normal(
        (5000, 512)
    )
    layers64 = [rng.standard_normal((2000, 512)) for _ in range(20)]
    cases = []
    for dtype in (np.float32, np.float64):
        X, Y = X64.astype(dtype), Y64.astype(dtype)
        layers = [A.astype(dtype) for A in layers64]
        name = np.dtype(dtype).name
        cases += [
            (f"linear CKA 5000x512 {name}", lambda X=X, Y=Y: baseline_linear_cka(X, Y),
             lambda X=X, Y=Y: linear_cka(X, Y)),
            (f"RBF CKA 5000x512 {name}", lambda X=X, Y=Y: baseline_rbf_cka(X, Y),
             lambda X=X, Y=Y: rbf_cka(X, Y)),
            (f"20x20 layers 2000x512 {name}", lambda L=layers: baseline_layer_matrix(L),
             lambda L=layers: layer_similarity("linear_cka", L)),
        ]  # fmt: skip
    for label, baseline, ours in cases:
        t_base, reference = timed(baseline, repeats)
        t_ours, result = timed(ours, repeats)
        difference = float(np.max(np.abs(np.asarray(result) - np.asarray(reference))))
        lines.append(
            f"{label:<34} {t_base:10.3f} {t_ours:8.3f} {t_base / t_ours:8.1f}x "
            f"{peak_mib(baseline):12.0f} {peak_mib(ours):10.0f}  {difference:.1e}"
        )
        print(lines[-1])

    # Numerics: float32 features whose means are around 1000.
    X = rng.standard_normal((5000, 64))
    Y = X @ rng.standard_normal((64, 48)) + rng.standard_normal((5000, 48))
    X, Y = X + 1000.0, Y + 1000.0
    exact = linear_cka(X, Y)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    K, L = X32 @ X32.T, Y32 @ Y32.T  # Gram route without centering the features first
    n = K.shape[0]
    H = np.eye(n, dtype=np.float32) - np.float32(1.0 / n)
    Kc, Lc = H @ K @ H, H @ L @ H
    gram_route = float(np.sum(Kc * Lc) / (np.linalg.norm(Kc) * np.linalg.norm(Lc)))
    lines.append(
        f"float32, features around 1000 (5000x64 vs 5000x48): |error| of skrep "
        f"{abs(linear_cka(X32, Y32) - exact):.1e}, of centering the float32 Gram matrices "
        f"{abs(gram_route - exact):.1e}"
    )
    print("\n".join(lines))
    append_results(lines, RESULTS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--floor", action="store_true", help="only the floor section")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--threads", type=int, default=None, help="BLAS threads (default: all; 1 on a busy machine)"
    )
    args = parser.parse_args()
    with threadpool_limits(limits=args.threads, user_api="blas"):
        if args.floor:
            floor_section(args.repeats or 30, args.threads)
        else:
            main(args.repeats or 3)
