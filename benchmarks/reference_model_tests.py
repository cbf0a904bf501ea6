"""Reference values of rsatoolbox's model-comparison tests, for tests/test_model_tests.py.

Run with the reference environment (rsatoolbox 0.3.2), from the repository root::

    /tmp/rsaenv/bin/python benchmarks/reference_model_tests.py

It writes ``tests/data/rsatoolbox_model_tests.npz``; the calls are described in
``tests/data/rsatoolbox_model_tests.md``. Every evaluation array that the
tests feed to skrep is stored next to rsatoolbox's results, so that the tests
do not depend on the random number generators agreeing.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np
from rsatoolbox.inference import (
    eval_bootstrap,
    eval_bootstrap_pattern,
    eval_bootstrap_rdm,
    eval_dual_bootstrap,
    eval_fixed,
)
from rsatoolbox.model import ModelFixed
from rsatoolbox.rdm import RDMs
from rsatoolbox.util.inference_util import _dual_bootstrap, nc_tests
from rsatoolbox.util.matrix import pairwise_contrast
from scipy.spatial.distance import pdist

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "rsatoolbox_model_tests.npz"
N_CONDITIONS, N_SUBJECTS, N_CHANNELS, N_BOOTSTRAP = 12, 8, 20, 200
METHOD = "corr"
NAMES = ("true", "noisy", "categorical", "random")


def simulate() -> tuple[np.ndarray, np.ndarray]:
    """Model RDMs (4, 66) and subject RDMs (8, 66), correlation distances."""
    rng = np.random.default_rng(20250123)
    patterns = rng.standard_normal((N_CONDITIONS, N_CHANNELS))
    category = np.repeat(np.arange(3), N_CONDITIONS // 3)
    models = np.stack(
        [
            pdist(patterns, "correlation"),
            pdist(patterns + 1.0 * rng.standard_normal(patterns.shape), "correlation"),
            pdist(category[:, None], lambda a, b: float(a[0] != b[0])),
            pdist(rng.standard_normal(patterns.shape), "correlation"),
        ]
    )
    subjects = np.stack(
        [
            pdist(patterns + 1.5 * rng.standard_normal(patterns.shape), "correlation")
            for _ in range(N_SUBJECTS)
        ]
    )
    return models, subjects


def t_statistics(result, means: np.ndarray, nc_lower: float) -> dict[str, np.ndarray]:
    """t values from rsatoolbox's own variance estimates (Result.model_var & co)."""
    contrast = pairwise_contrast(np.arange(len(means)))
    eps = np.finfo(float).eps
    return {
        "t_pairs": contrast @ means / np.sqrt(np.maximum(result.diff_var, eps)),
        "t_zero": means / np.sqrt(np.maximum(result.model_var, eps)),
        "t_noise": (means - nc_lower) / np.sqrt(np.maximum(result.noise_ceil_var[:, 0], eps)),
    }


def store(out: dict, prefix: str, result, test_types: tuple[str, ...]) -> None:
    """p-values of rsatoolbox's Result tests, its variances and dof, under ``prefix``."""
    for test_type in test_types:
        key = test_type.replace("-", "")
        out[f"{prefix}__p_pairs__{key}"] = result.test_pairwise(test_type=test_type)
        out[f"{prefix}__p_zero__{key}"] = result.test_zero(test_type=test_type)
        if test_type == "bootstrap" and result.noise_ceiling.ndim > 1:
            # rsatoolbox 0.3.2 fails on a noise ceiling per resample here (it reshapes
            # (2, n_bootstrap) to (2, 1)); its test of a fixed ceiling, the mean bounds:
            ceiling = result.noise_ceiling.mean(axis=1)
            p_noise = nc_tests(result.evaluations, ceiling, test_type="bootstrap")
        else:
            p_noise = result.test_noise(test_type=test_type)
        out[f"{prefix}__p_noise__{key}"] = p_noise
    out[f"{prefix}__model_var"] = result.model_var
    out[f"{prefix}__diff_var"] = result.diff_var
    out[f"{prefix}__noise_ceil_var"] = result.noise_ceil_var
    out[f"{prefix}__dof"] = np.asarray(result.dof)
    out[f"{prefix}__means"] = result.get_means()
    out[f"{prefix}__sem"] = result.get_sem()


def main() -> None:
    model_rdms, subject_rdms = simulate()
    models = [
        ModelFixed(name, RDMs(rdm[None])) for name, rdm in zip(NAMES, model_rdms, strict=True)
    ]
    data = RDMs(subject_rdms)
    out: dict[str, np.ndarray] = {"model_rdms": model_rdms, "data_rdms": subject_rdms}

    # Fixed: one evaluation per model and subject.
    fixed = eval_fixed(models, data, method=METHOD)
    out["fixed__evaluations"] = fixed.evaluations[0]  # (n_models, n_subjects)
    out["fixed__noise_ceiling"] = fixed.noise_ceiling  # (lower, upper)
    store(out, "fixed", fixed, ("t-test", "ranksum"))
    means = np.mean(fixed.evaluations[0], axis=1)
    for name, value in t_statistics(fixed, means, fixed.noise_ceiling[0]).items():
        out[f"fixed__{name}"] = value

    # Bootstraps over stimuli, subjects and both, each with its noise ceiling per resample.
    for prefix, evaluate in (
        ("stimuli", eval_bootstrap_pattern),
        ("subjects", eval_bootstrap_rdm),
        ("both", eval_bootstrap),
    ):
        np.random.seed({"stimuli": 1, "subjects": 2, "both": 3}[prefix])  # noqa: NPY002 (rsatoolbox)
        result = evaluate(models, data, method=METHOD, N=N_BOOTSTRAP)
        assert np.isfinite(result.evaluations).all(), prefix  # no resample left out
        out[f"{prefix}__evaluations"] = result.evaluations  # (n_bootstrap, n_models)
        out[f"{prefix}__noise_ceiling"] = result.noise_ceiling.T  # (n_bootstrap, 2)
        store(out, prefix, result, ("t-test", "bootstrap"))
        means = np.mean(result.evaluations, axis=0)
        nc_lower = np.mean(result.noise_ceiling[0])
        for name, value in t_statistics(result, means, nc_lower).items():
            out[f"{prefix}__{name}"] = value

    # Dual bootstrap: the same resamples over both, over subjects only, over stimuli only.
    np.random.seed(4)  # noqa: NPY002 (rsatoolbox draws from the global generator)
    dual = eval_dual_bootstrap(models, data, method=METHOD, N=N_BOOTSTRAP, use_correction=False)
    evaluations = dual.evaluations[:, :, 0, 0, :]  # (n_bootstrap, n_models, 3)
    assert np.isfinite(evaluations).all()
    out["dual__evaluations"] = evaluations.transpose(2, 0, 1)  # (3, n_bootstrap, n_models)
    out["dual__noise_ceiling"] = dual.noise_ceiling[:, :, 0, :].transpose(2, 1, 0)  # (3, n_b, 2)
    out["dual__variances"] = dual.variances  # (3, n_models + 2, n_models + 2)
    store(out, "dual", dual, ("t-test",))
    means = np.mean(evaluations, axis=(0, 2))
    nc_lower = np.mean(dual.noise_ceiling[0])
    for name, value in t_statistics(dual, means, nc_lower).items():
        out[f"dual__{name}"] = value

    # The dual-bootstrap combination on variances that reach each of its three branches:
    # (v_both, v_subjects, v_stimuli) per column; 8 subjects, 12 stimuli.
    spread = np.array([[1.0, 1.0, 0.2, 1.0], [0.3, 0.9, 0.05, 0.4], [0.4, 0.05, 0.1, 0.5]])
    out["dual_formula__spread"] = spread
    out["dual_formula__variance"] = _dual_bootstrap(
        spread, n_rdm=N_SUBJECTS, n_pattern=N_CONDITIONS
    )

    out["versions"] = np.array(["rsatoolbox " + version("rsatoolbox"), f"numpy {np.__version__}"])
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({len(out)} arrays)")


if __name__ == "__main__":
    main()
