"""Every public name has a numpydoc docstring with its parameters and returns described."""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate").validate

PUBLIC_MODULES = [
    "skrep.metrics",
    "skrep.compat.netrep",
    "skrep.functional",
    "skrep.functional.batched",
    "skrep.functional.stochastic",
    "skrep.functional.geometry",
    "skrep.functional.kernel",
    "skrep.functional.cca",
    "skrep.functional.neighbors",
    "skrep.functional.regression",
    "skrep.functional.rdm",
    "skrep.functional.noise",
    "skrep.functional.rdm_compare",
    "skrep.functional._ranks",
    "skrep.functional.rsa_inference",
    "skrep.functional.ridge",
    "skrep.layerwise",
    "skrep.model_selection",
    "skrep.rdm",
    "skrep.preprocessing",
    "skrep.multiset",
    "skrep.plotting",
    "skrep.cli",
    "skrep.datasets",
    "skrep.exceptions",
    "skrep.demo",
]
# Checks we do not enforce: examples / see-also / extended summary on every
# name, and style details of summaries.
IGNORED = {
    "GL01",
    "GL02",
    "GL07",
    "GL08",
    "SA01",
    "EX01",
    "ES01",
    "RT02",
    "RT05",
    "SS05",
    "SS06",
    "PR09",
    "YD01",
}


def _public_names():
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            names.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("skrep"):
                        continue
                    for attr, value in vars(klass).items():
                        if callable(value) and not attr.startswith("_"):
                            names.append(f"{module_name}.{name}.{attr}")
    return sorted(set(names))


@pytest.mark.parametrize("name", _public_names())
def test_numpydoc(name):
    errors = [(code, msg) for code, msg in validate(name)["errors"] if code not in IGNORED]
    assert not errors, f"{name}: {errors}"
