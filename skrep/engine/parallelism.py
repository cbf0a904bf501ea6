"""When a pool of workers pays: explicit settings first, otherwise the job's own first pair.

A process pool costs about a second to start (loky starts fresh interpreters
that import numpy, scipy and skrep), while many pairwise jobs finish in a
fraction of that serially. ``n_jobs="auto"`` (the default of netrep's
``processes=None`` in :mod:`skrep.compat.netrep`) therefore computes one
pair in the calling process, times it, and starts workers only when the
estimated serial time of the remaining pairs, less what the workers would
still take, exceeds :data:`POOL_STARTUP_SECONDS`. Timing the job itself needs
no cost model per measure, and the timed pair is never computed twice.

Explicit choices mean what they say: an integer ``n_jobs`` (``-1`` included),
and a ``joblib.parallel_config`` in effect. A context that sets ``n_jobs``
decides the number of workers; one that sets only a backend (threads, dask)
gets all of its workers, as netrep's ``processes=None`` asks. ``n_jobs=None``
keeps joblib's meaning: one worker unless a context says otherwise.

joblib's loky backend keeps its worker processes alive between calls (for
``idle_worker_timeout``, 300 s) and reuses them whenever a call asks for the
same number of workers with the same settings; the engine creates its
``Parallel`` objects with the same arguments on every call, so a second job
does not pay the start-up again.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from joblib.parallel import BACKENDS, DEFAULT_BACKEND, get_active_backend

from ..exceptions import InvalidParameterError

__all__ = ["POOL_STARTUP_SECONDS", "JobsPlan", "check_n_jobs", "plan_n_jobs", "parallel_pays"]

#: Seconds a fresh process pool takes to start and receive its first task
#: (loky on a 2-core machine: about 1 s; a reused pool costs far less). Below
#: this much saved time, ``n_jobs="auto"`` stays serial.
POOL_STARTUP_SECONDS = 1.0


class JobsPlan(NamedTuple):
    """How a job will run: the ``n_jobs`` given to joblib, and who decides.

    Parameters
    ----------
    n_jobs : int or None
        Passed to ``joblib.Parallel`` (None: the active ``parallel_config``).
    timed : bool
        True when the first pair's time still decides between this and a
        serial run (``n_jobs="auto"`` outside any ``parallel_config``).
    """

    n_jobs: int | None
    timed: bool


def check_n_jobs(n_jobs: object) -> None:
    """Raise unless ``n_jobs`` is None, "auto" or a nonzero integer.

    Parameters
    ----------
    n_jobs : object
        The value to check.
    """
    if n_jobs is None or (isinstance(n_jobs, str) and n_jobs == "auto"):
        return
    if (
        isinstance(n_jobs, (bool, np.bool_))
        or not isinstance(n_jobs, numbers.Integral)
        or int(n_jobs) == 0
    ):
        raise InvalidParameterError(
            f"n_jobs must be None, 'auto' or a nonzero integer (-1 for all CPUs); got {n_jobs!r}."
        )


def _context_settings() -> tuple[bool, bool]:
    """Whether a ``joblib.parallel_config`` in effect sets n_jobs, and whether it sets a backend.

    A context that asks for loky, joblib's default backend, without ``n_jobs``
    is indistinguishable from no context, and treated as none.
    """
    backend, context_n_jobs = get_active_backend()
    return context_n_jobs is not None, type(backend) is not BACKENDS[DEFAULT_BACKEND]


def plan_n_jobs(n_jobs: int | str | None) -> JobsPlan:
    """The joblib ``n_jobs`` for a job, and whether its first pair's time may still choose serial.

    Parameters
    ----------
    n_jobs : int, "auto" or None
        The caller's setting. Integers and None go to joblib unchanged.
        "auto": the active ``parallel_config``'s ``n_jobs`` if it sets one;
        all workers of its backend if it sets only a backend; otherwise all
        CPUs, unless the first pair shows that the job is too short for a
        pool (see :func:`parallel_pays`).

    Returns
    -------
    JobsPlan
        ``(n_jobs, timed)``.

    Examples
    --------
    >>> from joblib import parallel_config
    >>> plan_n_jobs(2)
    JobsPlan(n_jobs=2, timed=False)
    >>> plan_n_jobs("auto")
    JobsPlan(n_jobs=-1, timed=True)
    >>> with parallel_config(n_jobs=3):
    ...     plan_n_jobs("auto")
    JobsPlan(n_jobs=None, timed=False)
    """
    check_n_jobs(n_jobs)
    if not (isinstance(n_jobs, str) and n_jobs == "auto"):
        return JobsPlan(n_jobs, False)
    sets_n_jobs, sets_backend = _context_settings()
    if sets_n_jobs:
        return JobsPlan(None, False)
    return JobsPlan(-1, not sets_backend)


def parallel_pays(
    serial_seconds: float, n_workers: int, startup_seconds: float | None = None
) -> bool:
    """Whether ``n_workers`` save more than a pool's start-up on ``serial_seconds`` of work.

    Parameters
    ----------
    serial_seconds : float
        Estimated time of the remaining work in one process.
    n_workers : int
        Workers the pool would have.
    startup_seconds : float, default=None
        What starting the pool costs; None reads :data:`POOL_STARTUP_SECONDS`.

    Returns
    -------
    bool
        True when ``serial_seconds * (1 - 1 / n_workers) > startup_seconds``.

    Examples
    --------
    >>> parallel_pays(0.09, n_workers=2)
    False
    >>> parallel_pays(30.0, n_workers=2)
    True
    """
    if n_workers <= 1:
        return False
    if startup_seconds is None:
        startup_seconds = POOL_STARTUP_SECONDS
    return serial_seconds * (1.0 - 1.0 / n_workers) > startup_seconds
