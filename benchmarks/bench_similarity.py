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
"""

from __future__ import annotations

import tracemalloc

import numpy as np
from bench_linear import append_results, header_lines
from bench_stochastic import timed

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
    main()
