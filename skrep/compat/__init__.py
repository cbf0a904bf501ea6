"""Drop-in replacements for other libraries' APIs (see :mod:`skrep.compat.netrep`)."""

from __future__ import annotations

import importlib
from types import ModuleType

#: The compatibility modules, imported on first access (``skrep.compat.netrep``).
SUBMODULES = ("netrep",)


def __getattr__(name: str) -> ModuleType:
    """Import a compatibility module on first access.

    Parameters
    ----------
    name : str
        The attribute asked for.

    Returns
    -------
    module
        The module.
    """
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'skrep.compat' has no attribute {name!r}")
