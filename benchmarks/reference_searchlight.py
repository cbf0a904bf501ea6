"""Reference values of rsatoolbox's volume searchlight for tests/test_searchlight.py.

Run with the reference environment (rsatoolbox 0.3.2), from the repository root::

    /tmp/rsaenv/bin/python benchmarks/reference_searchlight.py

It writes ``tests/data/rsatoolbox_searchlight.npz`` (no pickles: ragged
neighbour lists are stored concatenated, with their lengths). What each key
holds, and the exact calls, are in ``tests/data/rsatoolbox_searchlight.md``.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
from rsatoolbox.data import Dataset
from rsatoolbox.data.noise import prec_from_residuals
from rsatoolbox.inference import eval_fixed
from rsatoolbox.model import ModelFixed
from rsatoolbox.rdm import calc_rdm
from rsatoolbox.util.searchlight import (
    evaluate_models_searchlight,
    get_searchlight_RDMs,
    get_volume_searchlight,
)

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "rsatoolbox_searchlight.npz"

#: (radius, threshold) of the centre/neighbour cases, on each mask.
VOLUME_CASES = [
    (1, 1.0),
    (1.5, 1.0),
    (1.5, 0.5),
    (2, 1.0),
    (2, 0.7),
    (2.5, 0.4),
    (3, 0.3),
    (3, 0.0),
]


def ellipsoid(shape, centre, radii):
    grid = np.indices(shape).astype(float)
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1.0


def masks(rng):
    """Two small masks: an off-centre ellipsoid cut by the volume's faces, and an irregular blob."""
    a = ellipsoid((9, 10, 8), (4.5, 5.0, 5.0), (4.6, 5.2, 4.0))
    a[2, 3, 4] = False  # a hole inside
    a[0, 0, 0] = True  # an isolated voxel in a corner
    noise = rng.standard_normal((7, 8, 6))
    # a crude smoothing: the mean of each voxel's face neighbours
    smooth = noise.copy()
    for axis in range(3):
        smooth += np.roll(noise, 1, axis) + np.roll(noise, -1, axis)
    b = smooth > -0.5
    return {"mask_a": a, "mask_b": b}


def quiet(function, *args, **kwargs):
    """Call rsatoolbox without its progress bars and prints."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return function(*args, **kwargs)


def volume_reference(out, rng):
    cases = []
    for name, mask in masks(rng).items():
        out[name] = mask
        for radius, threshold in VOLUME_CASES:
            try:
                centers, neighbors = quiet(get_volume_searchlight, mask, radius, threshold)
            except Exception as error:  # rsatoolbox fails when no voxel qualifies
                print(f"{name} radius={radius} threshold={threshold}: rsatoolbox raised {error!r}")
                continue
            key = f"{name}__r{radius}__t{threshold}"
            out[f"{key}__centers"] = np.asarray(centers, dtype=np.int64)
            out[f"{key}__neighbors"] = np.concatenate(neighbors).astype(np.int64)
            out[f"{key}__counts"] = np.array([len(n) for n in neighbors], dtype=np.int64)
            cases.append(key)
            print(f"{key}: {len(centers)} centres")
    out["volume_cases"] = np.array(cases)


def rdm_reference(out, rng):
    """Searchlight RDMs of a small volume: 10 conditions x 3 runs, radius 2, threshold 0.5."""
    shape = (7, 8, 6)
    mask = ellipsoid(shape, (3.0, 3.5, 2.0), (3.6, 4.2, 3.3))
    n_conditions, n_runs = 10, 3
    labels = np.array([30, 10, 90, 50, 20, 80, 40, 70, 60, 100])  # sorted order differs
    # Run-major order, conditions shuffled within each run: rsatoolbox's default
    # crossnobis folds (the k-th occurrence of each condition) are then the runs.
    events = np.concatenate([rng.permutation(labels) for _ in range(n_runs)])
    runs = np.repeat(np.arange(n_runs), n_conditions)
    n_voxels = int(np.prod(shape))
    signal = rng.standard_normal((n_conditions, n_voxels))
    data = signal[np.searchsorted(np.sort(labels), events)] + 0.8 * rng.standard_normal(
        (events.size, n_voxels)
    )
    data += 3.0  # a common offset, as raw BOLD has
    residuals = rng.standard_normal((40, n_voxels))
    centers, neighbors = quiet(get_volume_searchlight, mask, 2, 0.5)
    out.update(
        rdm_mask=mask,
        rdm_data=data,
        rdm_events=events,
        rdm_runs=runs,
        rdm_residuals=residuals,
        rdm_centers=np.asarray(centers, dtype=np.int64),
        rdm_neighbors=np.concatenate(neighbors).astype(np.int64),
        rdm_counts=np.array([len(n) for n in neighbors], dtype=np.int64),
    )
    for method in ("correlation", "euclidean"):
        rdms = quiet(get_searchlight_RDMs, data, centers, neighbors, events, method, verbose=False)
        out[f"rdm_{method}"] = rdms.dissimilarities
    # get_searchlight_RDMs fails for crossnobis when searchlights differ in size (from_partials
    # compares the identity "noise" descriptors of different shapes): it is called on the
    # searchlights of the most common size, and all of them go through calc_rdm one at a time,
    # on the datasets get_searchlight_RDMs builds (default folds: the k-th repeat = run k).
    counts = np.array([len(nb) for nb in neighbors])
    same = np.flatnonzero(counts == np.bincount(counts).argmax())
    rdms = quiet(
        get_searchlight_RDMs,
        data,
        np.asarray(centers)[same],
        [neighbors[i] for i in same],
        events,
        "crossnobis",
        verbose=False,
    )
    out["rdm_crossnobis_same_size"] = rdms.dissimilarities
    out["rdm_crossnobis_same_size_index"] = same
    datasets = [
        Dataset(data[:, nb], obs_descriptors={"events": events, "runs": runs}) for nb in neighbors
    ]

    def one_by_one(method, noise=None, **options):
        return np.concatenate(
            [
                quiet(
                    calc_rdm,
                    ds,
                    method=method,
                    descriptor="events",
                    noise=None if noise is None else noise[i],
                    **options,
                ).dissimilarities
                for i, ds in enumerate(datasets)
            ]
        )

    out["rdm_crossnobis"] = one_by_one("crossnobis")
    # Per-searchlight noise precisions (prec_from_residuals, shrinkage_diag).
    noise = [prec_from_residuals(residuals[:, nb]) for nb in neighbors]
    out["rdm_mahalanobis_noise"] = one_by_one("mahalanobis", noise)
    out["rdm_crossnobis_noise"] = one_by_one("crossnobis", noise, cv_descriptor="runs")
    # Model evaluation per searchlight
    n_pairs = n_conditions * (n_conditions - 1) // 2
    model_rdms = np.stack(
        [
            rng.random(n_pairs),
            np.abs(np.subtract.outer(np.arange(10), np.arange(10)))[np.triu_indices(10, 1)] // 3,
        ]
    ).astype(float)
    out["model_rdms"] = model_rdms
    models = [ModelFixed(f"m{i}", rdm) for i, rdm in enumerate(model_rdms)]
    sl_rdms = quiet(get_searchlight_RDMs, data, centers, neighbors, events, "correlation")
    for method in ("spearman", "corr", "tau-a"):
        results = quiet(evaluate_models_searchlight, sl_rdms, models, eval_fixed, method=method)
        out[f"evaluation_{method}"] = np.array([r.evaluations[0, :, 0] for r in results])


def main():
    rng = np.random.default_rng(20240623)
    out = {}
    volume_reference(out, rng)
    rdm_reference(out, rng)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({len(out)} arrays)")


if __name__ == "__main__":
    main()
