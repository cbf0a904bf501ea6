"""Reference values of rsatoolbox's bootstraps over stimuli, subjects, both, and the dual bootstrap.

Run with the reference environment (rsatoolbox 0.3.2), from the repository root::

    /tmp/rsaenv/bin/python benchmarks/reference_bootstrap_modes.py

It writes ``tests/data/rsatoolbox_bootstrap_modes.npz`` for
``tests/test_rsa_bootstrap_modes.py``; the calls are described in
``tests/data/rsatoolbox_bootstrap_modes.md``. rsatoolbox draws its resamples
from numpy's global generator; the indices it draws are recorded (by wrapping
its samplers, which are then called as they are) and stored next to its
evaluations and noise ceilings, so that skrep is fed the same resamples and
nothing depends on the generators agreeing.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import rsatoolbox.inference.evaluate as evaluate
from rsatoolbox.model import ModelFixed
from rsatoolbox.rdm import RDMs
from scipy.spatial.distance import pdist

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "rsatoolbox_bootstrap_modes.npz"
#: name: (n_stimuli, n_subjects, methods, modes, n_bootstrap)
CONFIGS = {
    # 3 subjects: about one resample in 9 draws a single distinct subject.
    "main": (9, 3, ("corr", "cosine", "spearman", "rho-a", "tau-a", "kendall"), None, 30),
    # 5 stimuli: about one resample in 10 draws fewer than 3 distinct stimuli (left out).
    "small": (5, 4, ("corr",), ("both", "dual"), 40),
}
MODES = ("stimuli", "subjects", "both", "dual")
_RECORD: list[dict[str, np.ndarray]] = []


def _recording(sampler, names):
    """``sampler`` as it is, recording the indices it returns (by their names)."""

    def wrapped(*args, **kwargs):
        result = sampler(*args, **kwargs)
        _RECORD.append(
            {name: np.asarray(value) for name, value in zip(names, result[1:], strict=True)}
        )
        return result

    return wrapped


# The evaluation functions look their samplers up in their module: record what they draw.
evaluate.bootstrap_sample = _recording(evaluate.bootstrap_sample, ("subjects", "stimuli"))
evaluate.bootstrap_sample_rdm = _recording(evaluate.bootstrap_sample_rdm, ("subjects",))
evaluate.bootstrap_sample_pattern = _recording(evaluate.bootstrap_sample_pattern, ("stimuli",))


def simulate(n_stimuli: int, n_subjects: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Model RDMs (true, noisy, random patterns) and subject RDMs, correlation distances."""
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((n_stimuli, 6))
    models = np.stack(
        [
            pdist(patterns, "correlation"),
            pdist(patterns + 0.8 * rng.standard_normal(patterns.shape), "correlation"),
            pdist(rng.standard_normal(patterns.shape), "correlation"),
        ]
    )
    subjects = np.stack(
        [
            pdist(patterns + 1.0 * rng.standard_normal(patterns.shape), "correlation")
            for _ in range(n_subjects)
        ]
    )
    return models, subjects


def run(mode: str, models, data, method: str, n_bootstrap: int):
    """rsatoolbox's evaluations (n_sets, N, n_models) and noise ceilings (n_sets, N, 2)."""
    if mode == "dual":
        result = evaluate.eval_dual_bootstrap(
            models, data, method=method, N=n_bootstrap, use_correction=False
        )
        evaluations = result.evaluations[:, :, 0, 0, :].transpose(2, 0, 1)
        ceiling = result.noise_ceiling[:, :, 0, :].transpose(2, 1, 0)
        return evaluations, ceiling
    function = {
        "stimuli": evaluate.eval_bootstrap_pattern,
        "subjects": evaluate.eval_bootstrap_rdm,
        "both": evaluate.eval_bootstrap,
    }[mode]
    result = function(models, data, method=method, N=n_bootstrap)
    return result.evaluations[None], result.noise_ceiling.T[None]


def main() -> None:
    out: dict[str, np.ndarray] = {}
    for seed, (config, (n_stimuli, n_subjects, methods, modes, n_bootstrap)) in enumerate(
        CONFIGS.items()
    ):
        model_rdms, data_rdms = simulate(n_stimuli, n_subjects, 20250200 + seed)
        out[f"{config}__model_rdms"], out[f"{config}__data_rdms"] = model_rdms, data_rdms
        models = [ModelFixed(f"model{k}", RDMs(rdm[None])) for k, rdm in enumerate(model_rdms)]
        data = RDMs(data_rdms)
        for i, method in enumerate(methods):
            for j, mode in enumerate(modes or MODES):
                np.random.seed(1000 * seed + 10 * i + j)  # noqa: NPY002 (rsatoolbox's generator)
                _RECORD.clear()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # tau's pooled ranks, NaN resamples
                    evaluations, ceiling = run(mode, models, data, method, n_bootstrap)
                key = f"{config}__{method}__{mode}"
                out[f"{key}__evaluations"] = evaluations
                out[f"{key}__noise_ceiling"] = ceiling
                for name in _RECORD[0]:
                    out[f"{key}__{name}"] = np.stack([draw[name] for draw in _RECORD])
                assert len(_RECORD) == n_bootstrap, key
    out["versions"] = np.array(["rsatoolbox " + version("rsatoolbox"), f"numpy {np.__version__}"])
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({len(out)} arrays)")


if __name__ == "__main__":
    main()
