"""Reference values of rsatoolbox's time-resolved RDMs for tests/test_rdm_movie.py.

Run with the reference environment (rsatoolbox 0.3.2), from the repository root::

    /tmp/rsaenv/bin/python benchmarks/reference_movie.py

It writes ``tests/data/rsatoolbox_movie.npz`` (inputs next to outputs, no
pickles). What each key holds, and the exact calls, are in
``tests/data/rsatoolbox_movie.md``.

rsatoolbox's ``calc_rdm_movie`` passes one ``noise`` to every time point of a
data set (a stack of precisions would be read by ``calc_rdm_crossnobis`` as one
per cross-validation fold), so the RDMs with a precision per time point are
``calc_rdm`` of each time point's data set, the loop ``calc_rdm_movie`` runs.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np
import scipy
from rsatoolbox.data import TemporalDataset
from rsatoolbox.data.noise import prec_from_residuals, prec_from_unbalanced
from rsatoolbox.rdm import calc_rdm, calc_rdm_movie

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "rsatoolbox_movie.npz"

N_CONDITIONS, N_RUNS, N_CHANNELS, N_TIMES, N_RESIDUALS = 6, 4, 10, 7, 40


def simulate(rng):
    """MEG-like trials: (n_obs, n_channels, n_times), noise whose scale and mixing vary in time."""
    conditions = np.concatenate([rng.permutation(N_CONDITIONS) for _ in range(N_RUNS)]) * 3 + 2
    runs = np.repeat(np.arange(N_RUNS), N_CONDITIONS) + 1
    patterns = rng.standard_normal((N_CONDITIONS, N_CHANNELS))
    gain = np.sin(np.linspace(0.0, np.pi, N_TIMES)) ** 2  # no signal at the first time point
    signal = patterns[(conditions - 2) // 3][:, :, None] * gain  # (n_obs, n_channels, n_times)
    channel_scales = rng.uniform(0.5, 4.0, N_CHANNELS)[:, None] * (1.0 + np.arange(N_TIMES) / 3)
    mixing = np.eye(N_CHANNELS) + 0.4 * rng.standard_normal((N_CHANNELS, N_CHANNELS))
    noise = np.einsum(
        "otc,dc->odt", rng.standard_normal((conditions.size, N_TIMES, N_CHANNELS)), mixing
    )
    measurements = signal + noise * channel_scales + 5.0  # an offset shared by all channels
    residuals = np.einsum(
        "trc,dc->trd", rng.standard_normal((N_TIMES, N_RESIDUALS, N_CHANNELS)), mixing
    )
    residuals = residuals * channel_scales.T[:, None, :]  # (n_times, n_residuals, n_channels)
    return measurements, conditions, runs, residuals


def main():
    rng = np.random.default_rng(20240701)
    measurements, conditions, runs, residuals = simulate(rng)
    times = np.arange(N_TIMES) * 0.01 - 0.02
    movie = TemporalDataset(
        measurements,
        descriptors={"subj": 0},
        obs_descriptors={"cond": conditions, "run": runs},
        time_descriptors={"time": times},
    )
    per_time = [d.time_as_observations("time") for d in movie.split_time("time")]
    shared = prec_from_residuals(residuals.reshape(-1, N_CHANNELS))  # shrinkage_diag
    from_residuals = np.stack(prec_from_residuals(residuals))  # a 3-D array: one per time point
    from_measurements = np.stack([prec_from_unbalanced(d, "cond") for d in per_time])
    crossnobis = {"descriptor": "cond", "cv_descriptor": "run"}
    out = {
        "measurements": measurements,
        "cond": conditions,
        "run": runs,
        "time": times,
        "residuals": residuals,
        "precision_shared": shared,
        "precision_residuals": from_residuals,
        "precision_measurements": from_measurements,
        "rdm_sqeuclidean": calc_rdm_movie(movie, "euclidean", descriptor="cond").dissimilarities,
        "rdm_crossnobis_identity": calc_rdm_movie(
            movie, "crossnobis", **crossnobis
        ).dissimilarities,
        "rdm_crossnobis_shared": calc_rdm_movie(
            movie, "crossnobis", noise=shared, **crossnobis
        ).dissimilarities,
        "rdm_mahalanobis_shared": calc_rdm_movie(
            movie, "mahalanobis", descriptor="cond", noise=shared
        ).dissimilarities,
        "rdm_crossnobis_per_time": np.concatenate(
            [
                calc_rdm(d, "crossnobis", noise=p, **crossnobis).dissimilarities
                for d, p in zip(per_time, from_measurements, strict=True)
            ]
        ),
        "rdm_mahalanobis_per_time": np.concatenate(
            [
                calc_rdm(d, "mahalanobis", descriptor="cond", noise=p).dissimilarities
                for d, p in zip(per_time, from_residuals, strict=True)
            ]
        ),
    }
    np.savez(OUT, **out)
    print(
        f"wrote {OUT} (rsatoolbox {version('rsatoolbox')}, numpy {np.__version__}, "
        f"scipy {scipy.__version__})"
    )
    for key, value in out.items():
        print(f"  {key}: {value.shape}")


if __name__ == "__main__":
    main()
