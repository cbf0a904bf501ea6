"""`import skrep` stays light: optional heavy libraries load only where used."""

import subprocess
import sys

OPTIONAL = ("torch", "pandas", "matplotlib", "dask", "ot", "tqdm")


def _loaded_after(statement):
    code = f"import sys; {statement}; print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(eval(out.stdout))


def test_import_does_not_load_optional_libraries():
    # scikit-learn itself imports pandas when it is installed; skrep must add nothing.
    baseline = _loaded_after("import sklearn.base, sklearn.model_selection, scipy.optimize")
    loaded = _loaded_after(
        "import skrep, skrep.metrics, skrep.compat.netrep, skrep.functional, skrep.multiset, "
        "skrep.cli"
    )
    assert loaded <= baseline
    assert "torch" not in loaded and "matplotlib" not in loaded and "dask" not in loaded


def test_public_names():
    import skrep
    from skrep.metrics import LinearMetric, PermutationMetric

    assert skrep.LinearMetric is LinearMetric
    assert skrep.PermutationMetric is PermutationMetric
    assert callable(skrep.pairwise_distances)
    assert isinstance(skrep.__version__, str)


def test_submodules_are_reachable_from_import_skrep_lazily():
    loaded = _loaded_after(
        "import skrep; skrep.datasets.load_kriegeskorte92(); skrep.plotting.plot_distance_matrix; "
        "skrep.compat.netrep.LinearMetric; skrep.sparsity.sparsity_table; "
        "skrep.model_selection.stimulus_splits"
    )
    baseline = _loaded_after("import sklearn.base, sklearn.model_selection, scipy.optimize")
    assert "torch" not in loaded and "matplotlib" not in loaded and "dask" not in loaded
    assert loaded <= baseline


def test_unknown_attributes_still_raise():
    import pytest

    import skrep

    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        skrep.nonexistent  # noqa: B018
    assert {"datasets", "plotting", "compat"} <= set(dir(skrep))
