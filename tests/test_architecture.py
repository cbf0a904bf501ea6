"""The house rules of the package, read from its source (see doc/architecture.rst).

- imports run downhill: a module imports only modules of a lower layer (or
  its own package), never one above it;
- no ``_name`` is imported from a module of another package, except from
  ``skrep._validation`` and ``skrep._array``;
- no skrep module is imported inside a function;
- every module is under 500 lines.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skrep"

#: The layers, lowest first. A module belongs to the first entry its name starts with,
#: followed by "." or "_": ``skrep.plotting_rdm`` is in the layer of ``skrep.plotting``,
#: and a family of such modules (``skrep.cli``, ``skrep.cli_files``) may import each other.
LAYERS = [
    ("skrep.exceptions", "skrep._version", "skrep._typing"),
    ("skrep._array",),
    ("skrep._parameters",),
    ("skrep._validation",),
    ("skrep._deprecation",),
    ("skrep.functional", "skrep.engine"),
    ("skrep.extraction",),
    ("skrep.metrics",),
    ("skrep.rdm", "skrep.datasets", "skrep.preprocessing"),
    (
        "skrep.multiset",
        "skrep.layerwise",
        "skrep.model_selection",
        "skrep.compat",
        "skrep.sparsity",
    ),
    ("skrep.benchmarking",),
    ("skrep.plotting",),
    ("skrep.cli", "skrep.demo"),
    ("skrep.__main__",),
    ("skrep",),
]
#: Packages whose sibling modules may import each other freely (one room each).
PACKAGES = (
    "skrep.functional",
    "skrep.engine",
    "skrep.extraction",
    "skrep.metrics",
    "skrep.datasets",
    "skrep.compat",
)
#: The two modules of skrep.functional and skrep.engine must not see each other.
SEPARATE = ("skrep.functional", "skrep.engine")


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _in_family(name, prefix):
    return (
        name == prefix
        or name.startswith(prefix + ".")
        or (prefix != "skrep" and name.startswith(prefix + "_"))
    )


def layer(name):
    for rank, prefixes in enumerate(LAYERS):
        if any(_in_family(name, p) for p in prefixes):
            return rank
    raise AssertionError(f"{name} is in no layer; add it to LAYERS")


def family(name):
    """The LAYERS entry a top-level module belongs to (``skrep.cli_files`` -> ``skrep.cli``)."""
    prefixes = [p for entry in LAYERS for p in entry if p != "skrep"]
    return next((p for p in prefixes if name == p or name.startswith(p + "_")), name)


def package_of(name):
    return next((p for p in PACKAGES if name == p or name.startswith(p + ".")), name)


def resolve(name, node):
    """The absolute module named by an ImportFrom node in module ``name``."""
    path = MODULES[name]
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def skrep_imports(name):
    """(line, imported module, imported names, inside a function) of every skrep import."""
    tree = ast.parse(MODULES[name].read_text())
    in_function = set()
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(node) for node in ast.walk(function))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = resolve(name, node)
            if target.startswith("skrep"):
                # "from . import rdm" imports the module skrep.rdm
                imported = [a.name for a in node.names]
                submodules = [f"{target}.{a}" for a in imported if f"{target}.{a}" in MODULES]
                for module in submodules or [target]:
                    yield node.lineno, module, imported, id(node) in in_function
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("skrep"):
                    yield node.lineno, alias.name, [], id(node) in in_function


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_downhill(name):
    for line, target, _, _ in skrep_imports(name):
        if package_of(target) == package_of(name) and package_of(name) in PACKAGES:
            continue  # rooms of one package
        if name.startswith(target + ".") or name == target:
            continue  # a module of a package reading its own package's __init__
        if family(target) == family(name):
            continue  # modules of one family, e.g. skrep.plotting and skrep.plotting_rdm
        assert layer(target) < layer(name) or (name == "skrep"), (
            f"{name}:{line} imports {target}, which is not below it"
        )
        for a, b in (SEPARATE, SEPARATE[::-1]):
            assert not (package_of(name) == a and package_of(target) == b), (
                f"{name}:{line} imports {target}: {a} and {b} do not know each other"
            )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_names_across_packages(name):
    for line, target, imported, _ in skrep_imports(name):
        if package_of(target) == package_of(name) or target in (
            "skrep._validation",
            "skrep._array",
        ):
            continue
        private = [
            n
            for n in imported
            if n.startswith("_") and not n.endswith("__") and f"{target}.{n}" not in MODULES
        ]
        assert not private, f"{name}:{line} imports private {private} from {target}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_function_level_imports_of_skrep(name):
    for line, target, _, in_function in skrep_imports(name):
        assert not in_function, f"{name}:{line} imports {target} inside a function"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_under_500_lines(name):
    n_lines = len(MODULES[name].read_text().splitlines())
    assert n_lines < 500, f"{name} has {n_lines} lines"
