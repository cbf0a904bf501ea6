"""Old names and old call forms that keep working for one release, with a FutureWarning."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "keyword_only",
    "renamed_parameter_value",
    "renamed_attribute",
]


def keyword_only(
    args: Sequence[Any], names: Sequence[str], values: Mapping[str, Any], owner: str
) -> dict[str, Any]:
    """Accept arguments that became keyword-only when they are passed by position.

    Parameters
    ----------
    args : sequence
        The extra positional arguments received (``*args``).
    names : sequence of str
        The parameters they stand for, in their old positional order.
    values : mapping
        The keyword values received for those parameters.
    owner : str
        The function, for the messages.

    Returns
    -------
    dict
        ``values`` with the positional arguments filled in.

    Raises
    ------
    TypeError
        More positional arguments than ``names``, or a parameter given both
        ways.
    """
    values = dict(values)
    if not args:
        return values
    if len(args) > len(names):
        raise TypeError(
            f"{owner}() takes at most {len(names)} extra positional arguments "
            f"({', '.join(names)}), and those are keyword-only now; got {len(args)}."
        )
    given = list(names[: len(args)])
    warnings.warn(
        f"Passing {', '.join(given)} to {owner}() by position is deprecated and will be an "
        f"error in the next release; pass {', '.join(f'{n}=...' for n in given)} by keyword.",
        FutureWarning,
        stacklevel=3,
    )
    for name, value in zip(given, args, strict=True):
        if values.get(name) is not None and values[name] is not False:
            raise TypeError(f"{owner}() got {name!r} both by position and by keyword.")
        values[name] = value
    return values


def renamed_parameter_value(
    estimator: Any, old: str, new: str, default: Any, sentinel: Any = "deprecated"
) -> Any:
    """An estimator parameter's value when it was renamed (old name kept for one release).

    Parameters
    ----------
    estimator : estimator
        Whose parameters ``old`` (default ``sentinel``) and ``new`` are read.
    old, new : str
        The old and new parameter names.
    default : object
        The new parameter's default.
    sentinel : object, default="deprecated"
        The old parameter's default, meaning "not set".

    Returns
    -------
    object
        The value of ``new``, or of ``old`` (with a FutureWarning) when only
        the old name was set.

    Raises
    ------
    TypeError
        Both names set.
    """
    old_value, new_value = getattr(estimator, old), getattr(estimator, new)
    if isinstance(old_value, str) and old_value == sentinel:
        return new_value
    owner = type(estimator).__name__
    warnings.warn(
        f"The {old!r} parameter of {owner} was renamed {new!r}; {old!r} is deprecated and "
        "will be removed in the next release.",
        FutureWarning,
        stacklevel=4,
    )
    if not (isinstance(new_value, str) and new_value == default):
        raise TypeError(f"{owner} got both {old!r} and its new name {new!r}; set only {new!r}.")
    return old_value


def renamed_attribute(module_name: str, renamed: Mapping[str, tuple[str, Any]], name: str) -> Any:
    """A module attribute under its old name, with a FutureWarning (a module ``__getattr__``).

    Parameters
    ----------
    module_name : str
        The module, for the messages (its ``__name__``).
    renamed : mapping
        Old name to ``(new name, object)``.
    name : str
        The attribute asked for.

    Returns
    -------
    object
        The object now called ``renamed[name][0]``.

    Raises
    ------
    AttributeError
        For a name that was not renamed.
    """
    if name not in renamed:
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
    new_name, value = renamed[name]
    warnings.warn(
        f"{module_name}.{name} was renamed {new_name}; the old name is deprecated and will "
        "be removed in the next release.",
        FutureWarning,
        stacklevel=3,
    )
    return value
