"""Time the geometry functions against the subspace-analysis script's implementation.

Run by hand on a quiet machine (``python benchmarks/bench_geometry.py``);
results are printed and appended to ``benchmarks/results/bench_geometry.txt``.

Two shapes from the script's use:

- "hidden": 128 trials x 40 time points x 300 units (5120 x 300), the
  cross-variance analysis with all 300 components (the script's N);
- "modulation": 2000 samples x 40 000 features (a flattened 200 x 200 plastic
  weight matrix per sample), the participation ratio of the data.

The script's functions run from their transcription in
``tests/subspace_script_reference.py`` (scikit-learn's randomized PCA, numpy's
eigvalsh of the smaller Gram matrix); skrep's from :mod:`skrep.functional`. The
largest difference between the two results is printed next to the times.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from bench_linear import append_results, header_lines
from bench_stochastic import timed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import subspace_script_reference as script  # noqa: E402

from skrep import participation_ratio, pca_cross_variance  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_geometry.txt"


def main():
    rng = np.random.default_rng(0)
    lines = header_lines(
        "geometry vs the subspace-analysis script",
        "case                              script_s  skrep_s  speed-up  max|difference|",
    )

    mixing = rng.standard_normal((300, 300)) / np.sqrt(300)
    X = rng.standard_normal((128, 40, 300)) @ mixing
    Y = rng.standard_normal((128, 40, 300)) @ (mixing + 0.5 * rng.standard_normal((300, 300)) / 17)
    t_script, reference = timed(lambda: script.pca_cross_variance(X, Y, 300), 3)
    t_skrep, ours = timed(lambda: pca_cross_variance(X, Y, 300), 3)
    difference = max(np.max(np.abs(np.asarray(ours[k]) - reference[k])) for k in reference)
    lines.append(
        f"cross-variance 5120x300, k=300    {t_script:8.3f} {t_skrep:8.3f} "
        f"{t_script / t_skrep:8.1f}x  {difference:.1e}"
    )

    M = rng.standard_normal((2000, 40_000))
    t_script, reference = timed(lambda: script.participation_ratio_from_data(M - M.mean(axis=0)), 3)
    t_skrep, ours = timed(lambda: participation_ratio(M), 3)
    lines.append(
        f"participation ratio 2000x40000    {t_script:8.3f} {t_skrep:8.3f} "
        f"{t_script / t_skrep:8.1f}x  {abs(ours - reference) / reference:.1e} (relative)"
    )
    print("\n".join(lines))
    append_results(lines, RESULTS)


if __name__ == "__main__":
    main()
