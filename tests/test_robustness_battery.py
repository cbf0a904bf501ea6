"""Every public entry on every kind of bad input: a correct value or a clear error.

The battery (``robustness_battery.py``) spoils the arguments of each public
entry (``robustness_entries.py``) with NaN, inf, 0/1/2 rows, 0/1 columns,
mismatched rows, 1-D and 3-D arrays, strings, objects, complex, bool, int,
float16, 1e+-300, constant and all-zero columns, duplicated rows, rank
deficiency, n < p, lists, DataFrames, Fortran order, read-only memory,
sparse and masked arrays, float32 with an offset of 1e4, torch tensors that
require grad and numpy/torch mixes. A case passes with a value equal to an
independent second route or with a clear error naming the argument. The
default run takes a fixed sample of the cases (every entry and every kind
appear in it); ``-m slow`` runs all of them.
"""

import collections
import importlib

import pytest
from robustness_battery import KINDS, SILENT, cases, judge
from robustness_entries import ENTRIES

ALL_CASES = cases(ENTRIES)
SAMPLE_EVERY = 6


def _sample():
    """A fixed 1-in-6 sample, topped up so that every entry and every kind appear."""
    chosen = [case for case in ALL_CASES if case.in_sample(SAMPLE_EVERY)]
    seen_entries = {case.entry.name for case in chosen}
    seen_kinds = {case.kind.name for case in chosen}
    for case in ALL_CASES:
        if case.entry.name not in seen_entries or case.kind.name not in seen_kinds:
            chosen.append(case)
            seen_entries.add(case.entry.name)
            seen_kinds.add(case.kind.name)
    return chosen


SAMPLE = _sample()


def _report(chosen):
    counts = collections.Counter()
    silent = []
    for case in chosen:
        verdict, detail = judge(case)
        counts[verdict] += 1
        if verdict in SILENT:
            silent.append(f"{case.id}: {verdict}: {detail[:300]}")
    entries = len({case.entry.name for case in chosen})
    summary = f"{len(chosen)} cases over {entries} public entries: " + ", ".join(
        f"{k}={v}" for k, v in sorted(counts.items())
    )
    print(summary)
    return summary, silent


#: Where the battery looks for public names.
NAMESPACES = [
    "skrep",
    "skrep.metrics",
    "skrep.functional",
    "skrep.functional.stochastic",
    "skrep.rdm",
    "skrep.multiset",
    "skrep.compat.netrep",
    "skrep.sparsity",
    "skrep.preprocessing",
    "skrep.layerwise",
    "skrep.model_selection",
]
#: Public callables the battery leaves out, and why.
NOT_ARRAY_ENTRIES = {
    "benchmark_models": "takes torch models and stimuli (tests/test_benchmarking.py)",
    "best_layer_scores": "takes a benchmark_layers table, not arrays",
    "stimulus_splits": "takes a splitter and a number of stimuli",
    "from_rsatoolbox": "takes an rsatoolbox RDMs object",
    "padding_rescale": "takes scalars",
    "band_weight_candidates": "takes a number of bands and Dirichlet parameters "
    "(tests/test_banded_ridge.py)",
    "banded_ridge_coefficients": "takes a fitted banded ridge model (tests/test_banded_ridge.py)",
    "partition_explained_variance": "takes a dict of R^2 per subset of bands "
    "(tests/test_variance_partitioning.py)",
    "rdm_model_folds": "takes numbers of subjects and stimuli (tests/test_rdm_weights.py)",
    "volume_searchlight": "takes a boolean mask and a radius (tests/test_searchlight.py)",
    "searchlight_map": "takes values per centre and the centres' indices "
    "(tests/test_searchlight.py)",
    "activation_batches": "slices rows of a mapping of layers; the values are checked by "
    "streaming_layer_similarity, which reads the batches (tests/test_cka_streaming.py)",
    "soft_rank": "takes one 1-d vector, a role the battery has not (tests/test_soft_rank.py)",
    "soft_spearman": "takes two 1-d vectors, a role the battery has not (tests/test_soft_rank.py)",
    "shift_distances": "takes 4-D convolutional activations (tests/test_shift_distances.py)",
    "GPStochasticMetric": "takes (n_trials, n_times, n_units) processes or (means, covariance) "
    "tuples (tests/test_gp_stochastic.py)",
    "convolve_metric": "takes 4-D convolutional activations (tests/test_shift_distances.py)",
    "BaseMetric": "abstract base class",
    "AlignmentMetric": "abstract base class",
    "PairedEstimator": "abstract base class",
    "SimilarityEstimator": "abstract base class",
    "WhitenedRepresentation": "a result container",
    "LinearAlignment": "a result container",
    "PermutationAlignment": "a result container",
    "SoftMatching": "a result container",
    "BuresComparison": "a result container",
    "CKABounds": "a result container",
    "GaussianStatistics": "a result container",
    "GaussianAlignment": "a result container",
    "EnergyAlignment": "a result container",
    "gaussian_sq_distances": "takes GaussianStatistics, whose inputs gaussian_statistics checks",
    "fit_gaussian_alignment": "takes GaussianStatistics, whose inputs gaussian_statistics checks",
    "fit_gaussian_alignments": "takes GaussianStatistics, whose inputs gaussian_statistics checks",
    "fit_energy_alignments": "takes sequences of pairs, each checked as fit_energy_alignment "
    "checks X and Y (named Xs[k] and Ys[k]); tested in test_stochastic_batched",
}


def _public_callables():
    found = {}
    for module_name in NAMESPACES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):
                found.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return found.values()


def _exercised(entry_name):
    """The public object an entry calls: "CKAEstimator_rbf.score" -> CKAEstimator."""
    name = entry_name.removesuffix(".score")
    if name.startswith("netrep."):
        return getattr(importlib.import_module("skrep.compat.netrep"), name.removeprefix("netrep."))
    while True:
        for module_name in NAMESPACES:
            module = importlib.import_module(module_name)
            if name in module.__all__:
                return getattr(module, name)
        name, _, variant = name.rpartition("_")  # a variant: "compute_rdm_euclidean"
        assert name, f"no public name behind the entry {entry_name!r}"


def test_the_catalogue_covers_every_public_entry():
    exercised = {id(_exercised(entry.name)) for entry in ENTRIES}
    missing = [
        qualified
        for qualified, obj in _public_callables()
        if id(obj) not in exercised and qualified.rpartition(".")[2] not in NOT_ARRAY_ENTRIES
    ]
    assert not missing, f"add these to tests/robustness_entries.py: {missing}"


def test_the_sample_covers_every_entry_and_kind():
    assert {case.kind.name for case in SAMPLE} == {kind.name for kind in KINDS}
    assert {case.entry.name for case in SAMPLE} == {entry.name for entry in ENTRIES}
    assert len(ALL_CASES) > 4000


#: Silent cases known and not fixed yet (issue 22's closing note), with the reason.
#: Like scikit-learn's expected failed checks, each must still be silent: the full
#: run fails when one is fixed, so that it leaves this list.
KNOWN_SILENT: dict[str, str] = {}


def _unknown(silent):
    return [line for line in silent if line.split(":", 1)[0] not in KNOWN_SILENT]


def test_sample_of_the_battery():
    summary, silent = _report(SAMPLE)
    assert not _unknown(silent), summary + "\n" + "\n".join(_unknown(silent))


@pytest.mark.slow
def test_full_battery():
    summary, silent = _report(ALL_CASES)
    assert not _unknown(silent), summary + "\n" + "\n".join(_unknown(silent))
    still_silent = {line.split(":", 1)[0] for line in silent}
    fixed = sorted(set(KNOWN_SILENT) - still_silent)
    assert not fixed, f"fixed: drop these from KNOWN_SILENT: {fixed}"
