"""Every public name has a numpydoc docstring with its parameters and returns described."""

import importlib
import inspect
import pkgutil

import pytest

validate = pytest.importorskip("numpydoc.validate").validate


def _public_modules():
    """Every module of the package whose name has no leading underscore (and _ranks)."""
    import skrep

    names = ["skrep", "skrep.functional._ranks"]
    for info in pkgutil.walk_packages(skrep.__path__, "skrep."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


PUBLIC_MODULES = _public_modules()
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
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not callable(obj):
                continue  # modules, constants and mappings: no signature to check
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
