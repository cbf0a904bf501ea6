"""Scale: big stimulus sets, wide layers and many voxels in bounded memory, and on dask.

Run by hand on a quiet machine::

    python benchmarks/bench_scale.py [--quick] [--part encoding rdm cka pairwise]
        [--before PATH]

Each part lives in its own module beside this script and returns its lines:

- ``scale_encoding``: ridge encoding from a memory-mapped float32 target file
  (2,000 x 500 -> 20,000 before and after chunking; 10,000 x 4,096 -> 100,000),
  with himalaya's ``KernelRidgeCV`` on the largest size it holds in memory;
- ``scale_rdm``: condensed RDMs written block by block (peak memory against
  the output, per method) and Spearman comparisons of RDMs with 10^8 pairs;
- ``scale_cka``: streaming linear CKA over 100,000 x 2,048 in batches of 1,000
  against the machine's GEMM rate, and the minibatch RBF CKA estimator;
- ``scale_pairwise``: K x K distances on a 2-worker ``LocalCluster`` (networks
  scattered once per worker), and the cost model extrapolated to K = 1,000
  and 10,000.

``--before PATH`` runs the "before" measurements with the skrep checkout at
PATH (``git worktree add PATH <commit>``). Results are appended to
``benchmarks/results/bench_scale.txt``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_linear import append_results, header_lines  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_scale.txt"
PARTS = ("encoding", "rdm", "cka", "pairwise")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--part", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--before", help="a checkout of skrep before the change")
    args = parser.parse_args()
    lines = header_lines(
        "Scale: memory-bounded encoding, RDMs, streaming CKA, K x K on dask"
        + (" (quick)" if args.quick else ""),
        "parts: " + ", ".join(args.part),
    )
    for part in args.part:
        module = importlib.import_module(f"scale_{part}")
        options = {"quick": args.quick}
        if "before" in inspect.signature(module.measure).parameters:
            options["before"] = args.before
        part_lines = module.measure(**options)
        print("\n".join(part_lines), flush=True)
        lines.extend(part_lines)
    append_results(lines, RESULTS)


if __name__ == "__main__":
    main()
