"""Reference weights of rsatoolbox's weighted RDM models, for tests/test_rdm_weights.py.

Run with the reference environment (rsatoolbox 0.3.2), from the repository root::

    /tmp/rsaenv/bin/python benchmarks/reference_rdm_weights.py

It writes ``tests/data/rsatoolbox_weights.npz`` (the calls are described in
``tests/data/rsatoolbox_weights.md``) and then times rsatoolbox's
``fit_regress_nn`` / ``fit_regress`` against skrep's ``fit_rdm_weights`` on the
92-image data. skrep is timed in a second process, with the Python of
``SKREP_PYTHON`` (default ``.venv/bin/python``), because the reference
environment does not have skrep's dependencies. ``--no-timing`` skips the
timing, ``--timing-only`` the references; ``--time-skrep`` is that second process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "rsatoolbox_weights.npz"
DATA = ROOT / "skrep" / "datasets" / "data" / "kriegeskorte92_rdms.npz"
METHODS = ("cosine", "corr", "cosine_cov", "corr_cov")
N_REPEATS = 5
#: rsatoolbox 0.3.2's _nn_least_squares stops when max(w) <= 100 eps, an absolute
#: threshold that rounding in w = A'y - A'A x can stay above for ever when A'y is
#: large (it does on the 92-image data with "cosine"). A fit that has not returned
#: after HANG_SECONDS is rerun with the components times RESCALE (a power of two:
#: exact), and its weights multiplied by RESCALE (w(cA) = w(A) / c without ridge).
HANG_SECONDS = 10
RESCALE = 2.0**-24
RESCALED: list[str] = []


class Hang(Exception):
    """A fit that did not return in time."""


def _alarm(signum, frame):
    raise Hang


def terminating(fitter, label: str):
    """``fitter``, rerun on rescaled components if rsatoolbox's NNLS does not return."""
    from rsatoolbox.model import ModelWeighted, fit_regress_nn
    from rsatoolbox.rdm import RDMs

    if fitter is not fit_regress_nn:
        return fitter

    def call(model, data, **kwargs):
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_SECONDS)
        try:
            return fitter(model, data, **kwargs)
        except Hang:
            RESCALED.append(label)
            if kwargs.get("ridge_weight", 0):
                return None  # rescaling would change the ridge problem: no reference
            scaled = ModelWeighted("scaled", RDMs(model.rdm_obj.get_vectors() * RESCALE))
            theta = fitter(scaled, data, **kwargs)
            return theta if kwargs.get("normalize", True) else theta * RESCALE
        finally:
            signal.alarm(0)

    return call


def condensed(square: np.ndarray) -> np.ndarray:
    """Upper triangles, row by row, of a stack of square RDMs."""
    rows, columns = np.triu_indices(square.shape[-1], 1)
    return np.ascontiguousarray(square[:, rows, columns], dtype=np.float64)


def load_92() -> tuple[np.ndarray, np.ndarray]:
    """The 8 model RDMs and the 8 hIT RDMs of the 92-image data, condensed, float64."""
    with np.load(DATA, allow_pickle=False) as data:
        return condensed(data["model_rdms"]), condensed(data["brain_rdms"])


def simulate() -> tuple[np.ndarray, np.ndarray]:
    """3 components and 6 subject RDMs over 12 stimuli (see the README)."""
    rng = np.random.default_rng(20250611)
    n, n_channels = 12, 10
    rows, columns = np.triu_indices(n, 1)

    def distances(patterns: np.ndarray) -> np.ndarray:
        return np.sum((patterns[rows] - patterns[columns]) ** 2, axis=1)

    a = rng.standard_normal((n, n_channels))
    b = rng.standard_normal((n, n_channels))
    c = rng.standard_normal((n, n_channels))
    anti = distances(a).max() - distances(a) + 0.5 * distances(c)  # anti-correlated with a's
    components = np.stack([distances(a), distances(b), anti])
    subjects = np.stack(
        [
            distances(np.concatenate([a, 0.6 * b], axis=1) + 0.7 * rng.standard_normal((n, 20)))
            for _ in range(6)
        ]
    )
    return components, subjects


def fit(fitter, components, subjects, method, stimuli=None, label="", **kwargs) -> np.ndarray:
    """``fitter(ModelWeighted(components), RDMs(subjects)[stimuli], method, ...)``."""
    from rsatoolbox.model import ModelWeighted
    from rsatoolbox.rdm import RDMs

    fitter = terminating(fitter, label)
    model = ModelWeighted("weighted", RDMs(components))
    data = RDMs(subjects)
    if stimuli is None:
        return fitter(model, data, method=method, **kwargs)
    data = data.subset_pattern("index", stimuli)
    return fitter(
        model, data, method=method, pattern_idx=stimuli, pattern_descriptor="index", **kwargs
    )


def crossvalidation(components, subjects, prefix, out, seed, k_rdm, k_pattern, methods):
    """rsatoolbox's crossval over sets_k_fold folds; the folds and evaluations are stored."""
    from rsatoolbox.inference import crossval, sets_k_fold
    from rsatoolbox.model import ModelWeighted, fit_regress, fit_regress_nn
    from rsatoolbox.rdm import RDMs

    data = RDMs(subjects)
    np.random.seed(seed)  # noqa: NPY002 (sets_k_fold shuffles with the global generator)
    train_set, test_set, _ = sets_k_fold(data, k_rdm=k_rdm, k_pattern=k_pattern, random=True)
    out[f"{prefix}__n_folds"] = np.array(len(train_set))
    for i, (train, test) in enumerate(zip(train_set, test_set, strict=True)):
        out[f"{prefix}__fold{i}__train_subjects"] = np.asarray(train[0].rdm_descriptors["index"])
        out[f"{prefix}__fold{i}__train_stimuli"] = np.asarray(train[1])
        out[f"{prefix}__fold{i}__test_subjects"] = np.asarray(test[0].rdm_descriptors["index"])
        out[f"{prefix}__fold{i}__test_stimuli"] = np.asarray(test[1])
    for method in methods:
        for name, fitter in (("nn", fit_regress_nn), ("ls", fit_regress)):
            model = ModelWeighted("weighted", RDMs(components))
            result = crossval(
                model,
                data,
                train_set,
                test_set,
                method=method,
                fitter=terminating(fitter, f"{prefix}__{name}__{method}"),
                calc_noise_ceil=False,
            )
            out[f"{prefix}__{name}__{method}"] = result.evaluations[0, 0]


def fold_layout(out):
    """sets_k_fold(random=False) folds, for the fold maker (6 subjects, 12 stimuli)."""
    from rsatoolbox.inference import sets_k_fold
    from rsatoolbox.rdm import RDMs

    for n_subjects, n_stimuli, k_rdm, k_pattern in ((6, 12, 2, 3), (7, 13, 3, 4), (5, 9, 1, 2)):
        data = RDMs(np.ones((n_subjects, n_stimuli * (n_stimuli - 1) // 2)))
        train_set, test_set, _ = sets_k_fold(data, k_rdm=k_rdm, k_pattern=k_pattern, random=False)
        prefix = f"layout_{n_subjects}_{n_stimuli}_{k_rdm}_{k_pattern}"
        out[f"{prefix}__n_folds"] = np.array(len(train_set))
        for i, (train, test) in enumerate(zip(train_set, test_set, strict=True)):
            out[f"{prefix}__fold{i}__train_subjects"] = np.asarray(
                train[0].rdm_descriptors["index"]
            )
            out[f"{prefix}__fold{i}__train_stimuli"] = np.asarray(train[1])
            out[f"{prefix}__fold{i}__test_subjects"] = np.asarray(test[0].rdm_descriptors["index"])
            out[f"{prefix}__fold{i}__test_stimuli"] = np.asarray(test[1])


def references() -> None:
    from rsatoolbox.model import fit_regress, fit_regress_nn

    out: dict[str, np.ndarray] = {}
    models, brains = load_92()
    components, subjects = simulate()
    out["sim__components"], out["sim__subjects"] = components, subjects
    stimuli = np.array([0, 2, 3, 5, 6, 7, 9, 11])
    out["sim__stimuli"] = stimuli
    fitters = (("nn", fit_regress_nn), ("ls", fit_regress))
    for method in METHODS:
        for name, fitter in fitters:
            for normalize in (True, False):
                tag = "norm" if normalize else "raw"
                for key, (a, d) in (("k92", (models, brains)), ("sim", (components, subjects))):
                    label = f"{key}__{name}__{method}__{tag}"
                    out[label] = fit(fitter, a, d, method, label=label, normalize=normalize)
            for tag, kwargs in (
                ("ridge", {"ridge_weight": 0.5}),
                ("stimuli", {"stimuli": stimuli}),
            ):
                label = f"sim__{name}__{method}__{tag}"
                theta = fit(
                    fitter, components, subjects, method, label=label, normalize=False, **kwargs
                )
                if theta is not None:
                    out[label] = theta
            label = f"sim__{name}__{method}__one"
            out[label] = fit(fitter, components, subjects[:1], method, label=label, normalize=False)
    crossvalidation(components, subjects, "cv_sim", out, 3, 2, 3, METHODS)
    crossvalidation(models, brains, "cv_92", out, 5, 2, 4, ("cosine", "corr_cov"))
    fold_layout(out)
    out["rescaled"] = np.array(sorted(set(RESCALED)), dtype=str)
    print("rsatoolbox's NNLS did not return (rerun rescaled):", sorted(set(RESCALED)))
    np.savez_compressed(OUT, **out)
    print(
        f"wrote {OUT.relative_to(ROOT)} ({len(out)} arrays); rsatoolbox "
        f"{version('rsatoolbox')}, numpy {np.__version__}, scipy {version('scipy')}"
    )


def best_time(call) -> float:
    call()  # warm up
    times = []
    for _ in range(N_REPEATS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def time_rsatoolbox() -> dict[str, float]:
    from rsatoolbox.model import ModelWeighted, fit_regress, fit_regress_nn
    from rsatoolbox.rdm import RDMs

    models, brains = load_92()
    data = RDMs(brains)
    # fit_regress_nn does not return on these components with "cosine" (see HANG_SECONDS):
    # it is timed on the components times RESCALE, the same work, for every method.
    nn_model = ModelWeighted("scaled", RDMs(models * RESCALE))
    model = ModelWeighted("weighted", RDMs(models))
    times = {}
    for method in METHODS:
        times[f"nn__{method}"] = best_time(
            lambda method=method: fit_regress_nn(nn_model, data, method=method)
        )
        times[f"ls__{method}"] = best_time(
            lambda method=method: fit_regress(model, data, method=method)
        )
    return times


def time_skrep() -> dict[str, float]:
    from skrep.functional.rdm_weights import fit_rdm_weights

    models, brains = load_92()
    times = {}
    for method in METHODS:
        for name, nonnegative in (("nn", True), ("ls", False)):
            times[f"{name}__{method}"] = best_time(
                lambda method=method, nonnegative=nonnegative: fit_rdm_weights(
                    models, brains, method, nonnegative=nonnegative
                )
            )
    return times


def timing() -> None:
    python = os.environ.get("SKREP_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    theirs = time_rsatoolbox()
    ours = json.loads(
        subprocess.run(
            [python, __file__, "--time-skrep"], check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout
    )
    print(f"92-image data: 8 components, 8 subject RDMs, 4186 pairs; best of {N_REPEATS}")
    print(f"{'fit':<18}{'rsatoolbox (ms)':>16}{'skrep (ms)':>12}{'ratio':>8}")
    for key, seconds in theirs.items():
        print(f"{key:<18}{1e3 * seconds:>16.2f}{1e3 * ours[key]:>12.2f}{seconds / ours[key]:>8.1f}")


if __name__ == "__main__":
    if "--time-skrep" in sys.argv:
        print(json.dumps(time_skrep()))
    else:
        if "--timing-only" not in sys.argv:
            references()
        if "--no-timing" not in sys.argv:
            timing()
