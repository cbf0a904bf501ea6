"""The key of an engine job in the cache: what its values depend on.

The measure's class and parameters (functions by their code, defaults and
closures, not by their names; the globals a function reads are not part of
it), skrep's version, the validated data and the block layout. The layout is
made as if for :data:`CACHE_LAYOUT_WORKERS` workers whatever ``n_jobs`` is, so
a rerun with other workers finds the same blocks (it depends on
``working_memory`` through the block size, unless ``block_size`` is given).
"""

from __future__ import annotations

import functools
import types
import warnings
from typing import Any

import joblib

from .._array import to_numpy
from .._version import __version__
from ..exceptions import CacheWarning

__all__ = ["job_key", "fingerprint", "CACHE_LAYOUT_WORKERS"]


#: With a cache, blocks are laid out as if for this many workers, whatever ``n_jobs`` is:
#: the layout is part of the key, so a rerun with other workers finds the same blocks.
CACHE_LAYOUT_WORKERS = 8


def _code_fingerprint(code: types.CodeType) -> tuple:
    """A function's code: its bytecode, constants (nested code too) and names."""
    constants = tuple(
        _code_fingerprint(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts
    )
    return (code.co_code, constants, code.co_names, code.co_varnames)


def fingerprint(value: Any) -> Any:
    """What a parameter's value is, for the key: functions by their code, not their name.

    joblib hashes a module-level function by its name, so editing it would
    leave its old results in the cache; lambdas and closures it cannot hash.
    Here a function stands for its code, defaults and closure (not the
    globals it reads, which are documented as not part of the key).

    Parameters
    ----------
    value : object
        A parameter: a dict, list, tuple, function, :func:`functools.partial`,
        estimator (by its class and ``get_params``) or any hashable value.

    Returns
    -------
    object
        A nested tuple that :func:`joblib.hash` turns into a key.
    """
    if isinstance(value, dict):
        return tuple(sorted((str(k), fingerprint(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(fingerprint(v) for v in value)
    if isinstance(value, functools.partial):
        return (
            "partial",
            fingerprint(value.func),
            fingerprint(value.args),
            fingerprint(value.keywords),
        )
    if isinstance(value, types.FunctionType):
        cells = tuple(fingerprint(cell.cell_contents) for cell in value.__closure__ or ())
        return (
            "function",
            value.__module__,
            value.__qualname__,
            _code_fingerprint(value.__code__),
            fingerprint(value.__defaults__ or ()),
            fingerprint(value.__kwdefaults__ or {}),
            cells,
        )
    if hasattr(value, "get_params") and not isinstance(value, type):
        return (
            type(value).__module__,
            type(value).__qualname__,
            fingerprint(value.get_params(deep=False)),
        )
    return value


def _parameters(measure: Any) -> Any:
    if hasattr(measure, "get_params"):
        return fingerprint(measure)
    return (type(measure).__qualname__, fingerprint(vars(measure)))


def _host(data: Any) -> Any:
    """Host (numpy) copies of an input (an array, a tuple of arrays, or an object of them)."""
    if data is None:
        return None
    if isinstance(data, tuple):
        return tuple(_host(part) for part in data)
    if hasattr(data, "arrays"):  # stochastic responses: their form and arrays
        return (getattr(data, "kind", None), _host(tuple(data.arrays)))
    return to_numpy(data)


def job_key(measure: Any, trains: list, tests: list, tasks: list, square: bool) -> str | None:
    """What a job's values depend on: the measure, its parameters, the data, the layout.

    Parameters
    ----------
    measure : PairwiseMeasure
        The measure.
    trains, tests : lists
        The validated training and held-out data (None entries without).
    tasks : list of BlockTask
        The layout.
    square : bool
        Whether the job is K x K.

    Returns
    -------
    str or None
        The key (hexadecimal); None, with a CacheWarning, when the parameters
        cannot be hashed: the job then runs without the cache rather than
        storing blocks that no run could find.
    """
    try:
        parameters = joblib.hash(_parameters(measure))
    except Exception as exc:  # noqa: BLE001 - whatever pickling raises
        warnings.warn(
            f"The parameters of {type(measure).__name__} cannot be hashed "
            f"({type(exc).__name__}: {exc}), so the job runs without its cache_dir.",
            CacheWarning,
            stacklevel=4,
        )
        return None
    identity = (
        __version__,
        type(measure).__module__,
        type(measure).__qualname__,
        parameters,
        square,
        [(task.position, task.rows, task.columns, task.pairs) for task in tasks],
    )
    return joblib.hash((identity, [_host(X) for X in trains], [_host(X) for X in tests]))
