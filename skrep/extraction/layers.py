"""Which modules of a model to record: exact names, glob patterns, ``"leaves"`` or ``"all"``."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["resolve_layers", "resolve_layer_selection", "module_names"]

#: Layer selections that name groups of modules rather than one module.
GROUPS = ("leaves", "all")
_GLOB_CHARACTERS = "*?["


def module_names(model: torch.nn.Module) -> list[str]:
    """The names of a model's submodules, in ``named_modules`` order (the root excluded).

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    list of str
        Every submodule's dotted name, e.g. ``["features", "features.0", ...]``.
    """
    return [name for name, _ in model.named_modules() if name]


def _leaf_names(model: torch.nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if name and not any(module.children())]


def _runs_itself(module: torch.nn.Module) -> bool:
    """Whether a module has a forward of its own (ModuleList and ModuleDict do not)."""
    import torch

    return type(module).forward is not torch.nn.Module.forward


def _unknown(name: str, available: list[str], label: str) -> ValueError:
    close = difflib.get_close_matches(name, available, n=len(available), cutoff=0.0)
    shown = close[:30]
    more = f" and {len(available) - len(shown)} more" if len(available) > len(shown) else ""
    return ValueError(
        f"{label} names {name!r}, which is not a module of the model. Available names, "
        f"closest first: {', '.join(shown)}{more} (or a glob pattern such as 'features.*', "
        "or 'leaves' / 'all')."
    )


def resolve_layers(model: torch.nn.Module, layers: str | Sequence[str]) -> list[str]:
    """Expand a layer selection into module names, in the order given.

    Parameters
    ----------
    model : torch.nn.Module
        The model whose ``named_modules`` are searched.
    layers : str or sequence of str
        Module names (``"features.3"``), glob patterns (``"features.*"``,
        ``"layer?"``, matched with :func:`fnmatch.fnmatchcase` against the
        dotted names), ``"leaves"`` (modules without children) or ``"all"``
        (every submodule). A pattern expands in ``named_modules`` order; a
        name selected twice is kept once, at its first place. Patterns and
        groups skip containers without a forward of their own
        (``ModuleList``, ``ModuleDict``).

    Returns
    -------
    list of str
        The selected module names.

    Raises
    ------
    ValueError
        For a name that is not a module of the model (the message lists the
        available names, closest matches first), a pattern that matches none,
        or an empty selection.
    TypeError
        If ``layers`` is not a string or a sequence of strings.
    """
    return resolve_layer_selection(model, layers)[0]


def resolve_layer_selection(
    model: torch.nn.Module, layers: str | Sequence[str]
) -> tuple[list[str], set[str]]:
    """Expand a layer selection, telling the modules named one by one from the others.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    layers : str or sequence of str
        As in :func:`resolve_layers`.

    Returns
    -------
    names : list of str
        The selected module names (:func:`resolve_layers`).
    optional : set of str
        Those selected only by a pattern, ``"leaves"`` or ``"all"``: an
        extraction drops them, with a warning, when they do not run in the
        forward pass or give no row per stimulus (a never-called
        ``out_proj`` of attention, a position embedding of shape (1, T, D)),
        where a module named explicitly is an error.
    """
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, Sequence) or not all(isinstance(n, str) for n in layers):
        raise TypeError(
            f"layers must be a module name, a glob pattern, 'leaves', 'all', or a list of "
            f"them; got {layers!r}."
        )
    if not layers:
        raise ValueError("layers is empty; expected at least one module name or pattern.")
    modules = dict(model.named_modules())
    available = module_names(model)
    if not available:
        raise ValueError(
            f"the model ({type(model).__name__}) has no submodules to record; wrap it, e.g. "
            "torch.nn.Sequential(model), to record its output."
        )
    selected: dict[str, None] = {}
    explicit: set[str] = set()
    for entry in layers:
        if entry == "all":
            matches = available
        elif entry == "leaves":
            matches = _leaf_names(model)
        elif any(character in entry for character in _GLOB_CHARACTERS):
            matches = [name for name in available if fnmatch.fnmatchcase(name, entry)]
            if not matches:
                raise _unknown(entry, available, "the pattern in layers")
        elif entry in available:
            matches = [entry]
            explicit.add(entry)
        else:
            raise _unknown(entry, available, "layers")
        runs = [m for m in matches if m in explicit or _runs_itself(modules[m])]
        selected.update(dict.fromkeys(runs))
    if not selected:
        raise ValueError(f"layers={list(layers)!r} selects no module that runs a forward pass.")
    names = list(selected)
    return names, {name for name in names if name not in explicit}
