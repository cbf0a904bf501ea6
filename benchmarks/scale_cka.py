"""Streaming CKA: linear CKA over 100,000 x 2,048 in batches, minibatch RBF CKA (issue "Scale").

Imported by the driver ``benchmarks/bench_scale.py`` (``import scale_cka`` with
benchmarks/ on sys.path), which writes the lines :func:`measure` returns. Run
by hand, one thread (``OMP_NUM_THREADS=1 taskset -c 1``).

- ``CKAEstimator().partial_fit`` over 100,000 stimuli x 2,048 units on both
  sides (quick: 20,000), batches of 1,000 drawn on the fly from a seeded rng
  (never all held): time, stimuli/s, and the achieved GFLOP/s of the
  products (two symmetric rank-k updates ``b p^2`` each and one ``2 b p^2``
  product per batch) against the machine's float64 GEMM rate, timed on a
  (2048 x 1000) @ (1000 x 2048) product;
- RBF CKA: the minibatch estimator (batches of 1,000) on 20,000 stimuli
  against the in-memory computation on 5,000 (quick: 8,000 and 2,000):
  time and tracemalloc peak.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import numpy as np

from skrep import CKAEstimator
from skrep.functional import rbf_cka

MIB = 2.0**20
BATCH = 1000
WIDTH = 2048


def _gemm_rate(width: int = WIDTH, batch: int = BATCH, repeats: int = 3) -> float:
    """Best float64 GFLOP/s of a (width x batch) @ (batch x width) product."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((width, batch)), rng.standard_normal((batch, width))
    A @ B  # warm up
    best = min(_timed(lambda: A @ B)[1] for _ in range(repeats))
    return 2.0 * width * batch * width / best / 1e9


def _timed(function):
    gc.collect()
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def _traced(function):
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def _batches(n: int, width: int, seed: int = 0):
    """Paired batches of a 64-dimensional latent, made on the fly (offset 100)."""
    rng = np.random.default_rng(seed)
    mix_x = rng.standard_normal((64, width)) / 8.0
    mix_y = rng.standard_normal((64, width)) / 8.0
    for start in range(0, n, BATCH):
        latent = rng.standard_normal((min(BATCH, n - start), 64))
        X = latent @ mix_x + rng.standard_normal((latent.shape[0], width)) + 100.0
        Y = np.tanh(latent @ mix_y) + 0.5 * rng.standard_normal((latent.shape[0], width))
        yield X, Y


def _stream(estimator, n, width):
    """(similarity, seconds in partial_fit, seconds making batches)."""
    spent = 0.0
    start = time.perf_counter()
    for X, Y in _batches(n, width):
        tick = time.perf_counter()
        estimator.partial_fit(X, Y)
        spent += time.perf_counter() - tick
    return estimator.similarity_, spent, time.perf_counter() - start - spent


def _rbf_data(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 8))
    X = latent @ rng.standard_normal((8, 100)) + rng.standard_normal((n, 100))
    Y = np.tanh(latent @ rng.standard_normal((8, 50))) + 0.5 * rng.standard_normal((n, 50))
    return X, Y


def _minibatch(X, Y):
    estimator = CKAEstimator("rbf")
    for start in range(0, X.shape[0], BATCH):
        estimator.partial_fit(X[start : start + BATCH], Y[start : start + BATCH])
    return estimator


def measure(quick: bool = False) -> list[str]:
    """Result lines of the streaming-CKA part of the scale benchmark.

    Parameters
    ----------
    quick : bool, default=False
        Smaller sizes (20,000 streamed stimuli; RBF on 8,000 and 2,000).

    Returns
    -------
    list of str
        One line per measurement.
    """
    n = 20_000 if quick else 100_000
    lines = ["-- streaming CKA (scale_cka)"]
    gemm = _gemm_rate()
    lines.append(f"float64 GEMM ({WIDTH}x{BATCH})@({BATCH}x{WIDTH}): {gemm:.1f} GFLOP/s")
    value, spent, making = _stream(CKAEstimator(), n, WIDTH)
    flops = (n // BATCH) * 4.0 * BATCH * WIDTH * WIDTH  # 2 syrk (b p^2) + 1 gemm (2 b p^2)
    lines.append(
        f"linear CKA partial_fit, {n} x {WIDTH} both sides, batches of {BATCH}: "
        f"{spent:.1f} s ({n / spent:,.0f} stimuli/s; {flops / spent / 1e9:.1f} GFLOP/s = "
        f"{flops / spent / 1e9 / gemm:.0%} of GEMM; making the batches {making:.1f} s "
        f"more), CKA = {value:.4f}, state {3 * WIDTH * WIDTH * 8 / MIB:.0f} MiB"
    )
    # Exactness at a size held in memory (the first 5,000 stimuli of the stream).
    X, Y = map(np.concatenate, zip(*_batches(5000, 256), strict=True))
    streamed = _stream(CKAEstimator(), 5000, 256)[0]
    lines.append(f"  check at 5000 x 256: |streamed - in-memory cka| = "
                 f"{abs(streamed - CKAEstimator().fit(X, Y).score(X, Y)):.1e}")  # fmt: skip
    big, small = (8000, 2000) if quick else (20_000, 5000)
    X, Y = _rbf_data(big)
    estimator, seconds = _timed(lambda: _minibatch(X, Y))
    peak = _traced(lambda: _minibatch(X, Y))[1]
    lines.append(
        f"RBF CKA minibatch (batches of {BATCH}), n = {big}: {seconds:.2f} s, peak "
        f"{peak / MIB:.0f} MiB, CKA = {estimator.similarity_:.4f} +- "
        f"{estimator.similarity_se_:.4f}"
    )
    value, seconds = _timed(lambda: rbf_cka(X[:small], Y[:small]))
    peak = _traced(lambda: rbf_cka(X[:small], Y[:small]))[1]
    debiased = rbf_cka(X[:small], Y[:small], debiased=True)
    lines.append(
        f"RBF CKA in memory, n = {small}: {seconds:.2f} s, peak {peak / MIB:.0f} MiB, "
        f"CKA = {value:.4f} (debiased {debiased:.4f}); minibatch on the same {small}: "
        f"{_minibatch(X[:small], Y[:small]).similarity_:.4f}"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(measure(quick=True)))
