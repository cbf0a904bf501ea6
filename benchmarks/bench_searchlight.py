"""Time a volume searchlight against rsatoolbox 0.3.2 (skrep issue 23, item 3).

Run by hand from the repository root (``python benchmarks/bench_searchlight.py``);
results are printed and appended to ``benchmarks/results/bench_searchlight.txt``.

The case: a brain-like mask in a 40 x 40 x 30 volume (an ellipsoid with two
"ventricles" cut out), radius 3 (93-voxel spheres), threshold 1.0, 92
conditions measured in 2 runs (184 observations, averaged per condition for
the non-cross-validated methods). Both sides run single-threaded
(``OMP_NUM_THREADS=1`` and friends, set before numpy is imported):

- rsatoolbox: ``get_volume_searchlight(mask, 3, 1.0)`` then
  ``get_searchlight_RDMs(data, centers, neighbors, events, method)``, in
  ``/tmp/rsaenv/bin/python`` as a subprocess on the same data saved to /tmp;
- skrep: :func:`volume_searchlight` then :func:`searchlight_rdms` (best of
  ``--repeats``).

Methods: "correlation", rsatoolbox's "euclidean" (skrep's "sqeuclidean") and
"crossnobis" (rsatoolbox's default folds, the k-th repetition of each
condition, are the runs here). If rsatoolbox would take over ``--limit``
seconds for a method (estimated from its first 300 searchlights), it is timed
on a random subset of ``--subset`` centres and extrapolated linearly; the
results file says so. Wall-clock and CPU (process) times are both reported:
on a shared machine the CPU time is the steadier measure.
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

from skrep.functional.searchlight import searchlight_rdms, volume_searchlight  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_searchlight.txt"
WORK = Path("/tmp/skrep_bench_searchlight")
RSAENV = Path("/tmp/rsaenv/bin/python")
METHODS = [
    ("correlation", "correlation"),
    ("sqeuclidean", "euclidean"),
    ("crossnobis", "crossnobis"),
]

#: Run in the rsatoolbox environment: time the volume search, then each method (or a subset).
RSATOOLBOX_SCRIPT = r"""
import contextlib, io, json, sys, time
import numpy as np
from rsatoolbox.util.searchlight import get_searchlight_RDMs, get_volume_searchlight

work, limit, subset = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
inputs = np.load(f"{work}/inputs.npz")
mask, data, events = inputs["mask"], inputs["data"], inputs["events"]
timings = {}
quiet = io.StringIO()

def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu

(centers, neighbors), wall, cpu = timed(get_volume_searchlight, mask, 3, 1.0)
timings["volume"] = {"wall": wall, "cpu": cpu, "n": len(centers)}
out = {"centers": np.asarray(centers), "neighbors": np.concatenate(neighbors),
       "counts": np.array([len(n) for n in neighbors])}
rng = np.random.default_rng(0)
for method in sys.argv[4:]:
    probe = np.arange(min(300, len(centers)))
    _, wall, cpu = timed(get_searchlight_RDMs, data, centers[probe],
                         [neighbors[i] for i in probe], events, method, False)
    estimate = wall * len(centers) / probe.size
    chosen = np.arange(len(centers))
    if estimate > limit:
        chosen = np.sort(rng.choice(len(centers), size=min(subset, len(centers)), replace=False))
    rdms, wall, cpu = timed(get_searchlight_RDMs, data, centers[chosen],
                            [neighbors[i] for i in chosen], events, method, False)
    scale = len(centers) / chosen.size
    timings[method] = {"wall": wall * scale, "cpu": cpu * scale, "n_timed": int(chosen.size),
                       "extrapolated": bool(chosen.size < len(centers))}
    out[f"rdms_{method}"] = rdms.dissimilarities
    out[f"index_{method}"] = chosen
np.savez(f"{work}/rsatoolbox.npz", **out)
print(json.dumps(timings))
"""


def brain_mask(shape=(40, 40, 30)):
    """An ellipsoid filling most of the volume, with two ellipsoidal 'ventricles' cut out."""
    grid = np.indices(shape).astype(float)
    middle = [(s - 1) / 2 for s in shape]

    def ellipsoid(centre, radii):
        return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1

    mask = ellipsoid(middle, (19.0, 19.0, 14.0))
    for side in (-5.0, 5.0):
        mask &= ~ellipsoid((middle[0] + side, middle[1] + 3, middle[2] + 2), (2.5, 7.0, 3.0))
    return mask


def make_data(mask, n_conditions=92, n_runs=2, seed=0):
    """Smooth-ish signal per condition plus noise per observation, over the whole volume."""
    rng = np.random.default_rng(seed)
    n_voxels = mask.size
    signal = rng.standard_normal((n_conditions, n_voxels))
    events = np.concatenate([rng.permutation(n_conditions) for _ in range(n_runs)])
    runs = np.repeat(np.arange(n_runs), n_conditions)
    data = 100.0 + signal[events] + rng.standard_normal((events.size, n_voxels))
    return data, events, runs


def run_rsatoolbox(mask, data, events, methods, limit, subset):
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(WORK / "inputs.npz", mask=mask, data=data, events=events)
    script = WORK / "rsatoolbox_side.py"
    script.write_text(RSATOOLBOX_SCRIPT)
    command = [str(RSAENV), str(script), str(WORK), str(limit), str(subset), *methods]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    timings = json.loads(completed.stdout.strip().splitlines()[-1])
    with np.load(WORK / "rsatoolbox.npz") as reference:
        return timings, {key: reference[key] for key in reference.files}


def best_of(function, repeats):
    best = None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        times = (time.perf_counter() - wall, time.process_time() - cpu)
        best = times if best is None or times[0] < best[0] else best
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=float, default=600.0, help="rsatoolbox seconds per method")
    parser.add_argument("--subset", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    mask = brain_mask()
    data, events, runs = make_data(mask)
    print(f"mask {mask.shape}, {int(mask.sum())} voxels; data {data.shape}")
    timings, reference = run_rsatoolbox(
        mask, data, events, [name for _, name in METHODS], args.limit, args.subset
    )
    (volume_wall, volume_cpu), (centers, neighbors) = best_of(
        lambda: volume_searchlight(mask, 3, 1.0), args.repeats
    )
    same_searchlights = (
        np.array_equal(centers, reference["centers"])
        and np.array_equal([len(n) for n in neighbors], reference["counts"])
        and np.array_equal(np.concatenate(neighbors), reference["neighbors"])
    )
    lines = header_lines(
        f"Volume searchlight, mask of {int(mask.sum())} voxels in {mask.shape}, radius 3, "
        f"threshold 1.0: {centers.size} centres x 93 voxels, 92 conditions x 2 runs; "
        "OMP_NUM_THREADS=1 (seconds; skrep best of "
        f"{args.repeats}; rsatoolbox 0.3.2 once)",
        "step                           rsatoolbox_wall  skrep_wall  ratio_wall  "
        "rsatoolbox_cpu  skrep_cpu  ratio_cpu  max|difference|",
    )
    rsa_volume = timings["volume"]
    lines.append(
        f"{'volume_searchlight':30s} {rsa_volume['wall']:15.2f} {volume_wall:11.3f} "
        f"{rsa_volume['wall'] / volume_wall:10.0f}x {rsa_volume['cpu']:15.2f} "
        f"{volume_cpu:10.3f} {rsa_volume['cpu'] / volume_cpu:9.0f}x  "
        f"{'identical' if same_searchlights else 'DIFFERENT'} centres and neighbours"
    )
    totals = []
    notes = []
    for ours, theirs in METHODS:
        options = {"runs": runs} if ours == "crossnobis" else {}

        def call(ours=ours, options=options):
            return searchlight_rdms(data, centers, neighbors, events, ours, **options)

        (wall, cpu), rdms = best_of(call, args.repeats)
        index = reference[f"index_{theirs}"]
        difference = float(np.max(np.abs(rdms[index] - reference[f"rdms_{theirs}"])))
        largest = float(np.max(np.abs(reference[f"rdms_{theirs}"])))
        rsa = timings[theirs]
        label = f"searchlight_rdms {ours}"
        lines.append(
            f"{label:30s} {rsa['wall']:15.2f} {wall:11.3f} {rsa['wall'] / wall:10.1f}x "
            f"{rsa['cpu']:15.2f} {cpu:10.3f} {rsa['cpu'] / cpu:9.1f}x  {difference:.1e} "
            f"(largest |value| {largest:.2g})"
        )
        total_rsa = (rsa_volume["wall"] + rsa["wall"], rsa_volume["cpu"] + rsa["cpu"])
        totals.append((ours, total_rsa, (volume_wall + wall, volume_cpu + cpu)))
        if rsa["extrapolated"]:
            notes.append(
                f"rsatoolbox {theirs}: timed on {rsa['n_timed']} random centres, extrapolated "
                f"linearly to {centers.size}; difference over those centres"
            )
    for ours, (rsa_wall, rsa_cpu), (wall, cpu) in totals:
        label = f"total {ours}"
        lines.append(
            f"{label:30s} {rsa_wall:15.2f} {wall:11.3f} {rsa_wall / wall:10.1f}x "
            f"{rsa_cpu:15.2f} {cpu:10.3f} {rsa_cpu / cpu:9.1f}x"
        )
    lines.extend(f"note: {note}" for note in notes)
    print("\n".join(lines))
    if not args.no_write:
        append_results(lines, RESULTS)


if __name__ == "__main__":
    main()
