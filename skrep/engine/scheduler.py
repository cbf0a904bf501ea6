"""The many-networks engine: one measure between many networks, in blocks of pairs.

:func:`compute_pairs` serves :func:`skrep.pairwise_distances`,
:meth:`BaseMetric.pairwise_distances <skrep.metrics.BaseMetric.pairwise_distances>`,
:func:`skrep.layer_similarity` and the ``skrep`` command. How it works:

1. **Inputs, once.** The collections are listed and named
   (:mod:`skrep.engine.networks`); the measure validates every network and
   brings all to one namespace, device and dtype (``pairwise_validate``).
2. **Layout.** Networks are split into blocks; a pair of blocks is a task.
   Block sizes come from the measure (``pairwise_block_size``, from
   scikit-learn's ``working_memory``) or from ``block_size``, and there are
   enough tasks to keep every worker busy. A K x K job of a symmetric measure
   computes each unordered pair once; a distance of a network to itself is 0
   without computation; a job of two collections computes every pair.
3. **Cache.** With ``cache_dir``, the job's key hashes the measure, its
   parameters, the data and the layout; blocks already stored under it are
   read back (and checked) first, and nothing else is done for them, so a
   fully cached job costs its validation, its hash and the reading of its
   files (see :mod:`skrep.engine.cache`).
4. **Per network, once.** Only the networks that a remaining task needs are
   prepared (``pairwise_prepare``: whitening, bases, Gram statistics...),
   then checked together (``pairwise_check``).
5. **Per block, in parallel.** Tasks run through joblib under ``n_jobs`` and
   the backend of ``joblib.parallel_config`` (loky processes, threads, or
   ``"dask"`` on a ``dask.distributed`` cluster). On dask, tasks go to the
   cluster's client directly: each block's networks are scattered once and
   reach a worker at most once, however many of its tasks need them
   (``skrep.engine._dask_tasks``). BLAS threads are limited
   (threadpoolctl) so that workers x threads does not exceed the cores. With a
   cache, a task claims its block first; a block claimed by another run
   sharing the cache is left to it and read back when it is finished.
   ``verbose`` shows a tqdm progress bar over pairs. With ``n_jobs="auto"``
   one pair runs first in the calling process, timed, and the rest go to a
   pool only if the job is long enough to pay for its start-up
   (:mod:`skrep.engine.parallelism`).

Memory: the validated and prepared networks (O(K n p)) plus, per worker, the
networks of the blocks it is working on (on dask: of the blocks its remaining
tasks need); nothing is copied K^2 times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import joblib
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import get_config
from sklearn.base import clone

from ..exceptions import InvalidParameterError
from ._dask_tasks import active_dask_backend, run_on_dask
from ._tasks import blas_limit, run_task
from .cache import BlockStore, BlockTask
from .keys import CACHE_LAYOUT_WORKERS, job_key
from .layout import layout_tasks
from .networks import network_list
from .parallelism import parallel_pays, plan_n_jobs
from .protocol import KINDS, PreparedData

__all__ = ["compute_pairs", "PairsResult", "check_measure", "check_block_size"]


class PairsResult(NamedTuple):
    """The matrices of one engine job and what their rows and columns are.

    Parameters
    ----------
    train : ndarray of shape (n_rows, n_columns)
        The measure on the training data (float64).
    test : ndarray of shape (n_rows, n_columns) or None
        The measure on the held-out data; None without held-out data.
    kind : {"distance", "similarity"}
        What the values are.
    row_keys, column_keys : list or None
        The keys of the collections when they were mappings.
    """

    train: np.ndarray
    test: np.ndarray | None
    kind: str
    row_keys: list | None
    column_keys: list | None


def check_measure(measure: Any, owner: str = "measure", *, kind: str | None = None) -> None:
    """Raise unless ``measure`` implements :class:`~skrep.engine.PairwiseMeasure`.

    Parameters
    ----------
    measure : object
        The measure.
    owner : str, default="measure"
        The argument that received it, for the message.
    kind : {"distance", "similarity"} or None, default=None
        The kind of values required (None accepts both).
    """
    if isinstance(measure, type):
        raise InvalidParameterError(
            f"{owner} must be an instance; got the class {measure.__name__} "
            f"(use {measure.__name__}())."
        )
    missing = [
        name
        for name in ("pairwise_validate", "pairwise_prepare", "pairwise_block")
        if not callable(getattr(measure, name, None))
    ]
    if kind == "distance" and (missing or measure.pairwise_kind != "distance"):
        raise InvalidParameterError(
            f"{owner} must be a skrep distance metric (e.g. LinearMetric(alpha=1.0)); got "
            f"{measure!r}."
        )
    if missing or getattr(measure, "pairwise_kind", None) not in KINDS:
        raise InvalidParameterError(
            f"{owner} must implement skrep.engine.PairwiseMeasure (every skrep estimator "
            f"does); got {measure!r}."
        )


def check_block_size(block_size: object) -> None:
    """Raise unless ``block_size`` is None or a positive integer.

    Parameters
    ----------
    block_size : object
        The value to check.
    """
    if block_size is None:
        return
    if (
        isinstance(block_size, (bool, np.bool_))
        or not isinstance(block_size, (int, np.integer))
        or block_size < 1
    ):
        raise InvalidParameterError(
            f"block_size must be None or a positive integer (networks per block); got "
            f"{block_size!r}."
        )


def _held_out(
    collection: Any, arg: str, keys: list | None, n_networks: int, reference_arg: str
) -> tuple[list, list[str]]:
    """The held-out networks, in the order of the training ones (by key for two mappings)."""
    tests, names, test_keys = network_list(collection, arg)
    if keys is not None and test_keys is not None:
        if set(test_keys) != set(keys) or len(test_keys) != len(keys):
            missing = [k for k in keys if k not in test_keys]
            extra = [k for k in test_keys if k not in keys]
            raise ValueError(
                f"{arg} and {reference_arg} name different networks (missing from {arg}: "
                f"{missing}; not in {reference_arg}: {extra}); expected the held-out data of "
                "the same networks, under the same keys."
            )
        order = [test_keys.index(k) for k in keys]
        return [tests[i] for i in order], [names[i] for i in order]
    if len(tests) != n_networks:
        raise ValueError(
            f"{arg} holds {len(tests)} networks but {reference_arg} holds {n_networks}; "
            "expected one held-out array per network, in the same order."
        )
    return tests, names


def compute_pairs(
    measure: Any,
    Xs: Any,
    Ys: Any = None,
    Xs_test: Any = None,
    Ys_test: Any = None,
    *,
    n_jobs: int | str | None = None,
    verbose: bool = False,
    cache_dir: str | os.PathLike | None = None,
    block_size: int | None = None,
    arg_names: Sequence[str] = ("Xs", "Ys", "Xs_test", "Ys_test"),
    kind: str | None = None,
) -> PairsResult:
    """One measure between every pair of networks of one collection, or of two.

    Parameters
    ----------
    measure : PairwiseMeasure
        The measure (every skrep estimator; wrap other estimators in
        :class:`~skrep.engine.EstimatorMeasure`). Not modified.
    Xs : sequence of arrays, mapping or array with networks on its first axis
        The networks of the rows (training data, rows paired across networks).
    Ys : same kinds as ``Xs``, default=None
        The networks of the columns; None compares ``Xs`` with itself (a
        K x K matrix).
    Xs_test, Ys_test : same kinds as ``Xs``, default=None
        Held-out data of the same networks (``Ys_test`` with ``Ys``; both or
        neither): each pair is fitted on the training data and measured on
        both.
    n_jobs : int or "auto", default=None
        Number of joblib workers; None means 1 unless in a ``joblib.parallel_config``
        context, -1 all CPUs. "auto": all CPUs when the job is long enough
        for a pool to pay (its first pair, computed here, is timed), else
        serial; a ``parallel_config`` in effect decides instead (see
        :mod:`skrep.engine.parallelism`).
    verbose : bool, default=False
        Show a tqdm progress bar over pairs.
    cache_dir : str or path-like, default=None
        Store each finished block here and read back those already stored
        (see :mod:`skrep.engine.cache`), so an interrupted job resumes and
        runs sharing the directory share the work.
    block_size : int, default=None
        Networks per block; None asks the measure (``working_memory``).
    arg_names : sequence of four str, default=("Xs", "Ys", "Xs_test", "Ys_test")
        Names of the four collections in messages.
    kind : {"distance", "similarity"} or None, default=None
        The kind of measure required (None accepts both).

    Returns
    -------
    PairsResult
        The training and held-out matrices and what they hold.
    """
    x_arg, y_arg, x_test_arg, y_test_arg = arg_names
    check_measure(measure, "metric" if kind == "distance" else "measure", kind=kind)
    check_block_size(block_size)
    square = Ys is None
    if square and Ys_test is not None:
        raise ValueError(f"{y_test_arg} was given without {y_arg}.")
    if not square and (Xs_test is None) != (Ys_test is None):
        given, missing = (x_test_arg, y_test_arg) if Ys_test is None else (y_test_arg, x_test_arg)
        raise ValueError(
            f"{given} was given without {missing}; expected held-out data for both "
            "collections, or for neither."
        )
    rows, row_names, row_keys = network_list(Xs, x_arg)
    columns, column_names, column_keys = ([], [], None) if square else network_list(Ys, y_arg)
    has_test = Xs_test is not None
    # Every network of the job in one list: the rows, then the columns.
    names = row_names + column_names
    test_names = [f"{n} (held out)" for n in names]
    held_out = None
    if has_test:
        held_out, test_names = _held_out(Xs_test, x_test_arg, row_keys, len(rows), x_arg)
        if not square:
            more, more_names = _held_out(Ys_test, y_test_arg, column_keys, len(columns), y_arg)
            held_out, test_names = held_out + more, test_names + more_names
    if hasattr(measure, "get_params"):
        measure = clone(measure)
    trains, tests = measure.pairwise_validate(rows + columns, held_out, names, test_names)
    kind = measure.pairwise_kind
    n_rows, n_columns = len(rows), (None if square else len(columns))
    shape = (n_rows, n_rows if square else n_columns)
    train = np.zeros(shape)
    test = np.zeros(shape) if has_test else None
    symmetric = square and bool(measure.pairwise_symmetric)
    diagonal = square and kind != "distance"

    plan = plan_n_jobs(n_jobs)
    n_workers = effective_n_jobs(plan.n_jobs)
    budget = int(get_config()["working_memory"] * 2**20)
    validated = [PreparedData(X, Xt) for X, Xt in zip(trains, tests, strict=True)]
    size = block_size or max(1, int(measure.pairwise_block_size(validated, budget)))
    layout_workers = n_workers if cache_dir is None else CACHE_LAYOUT_WORKERS
    tasks = layout_tasks(
        n_rows, n_columns, size, layout_workers, block_size is None, symmetric, diagonal
    )
    if not tasks:
        return PairsResult(train, test, kind, row_keys, column_keys)

    store = None
    key = None if cache_dir is None else job_key(measure, trains, tests, tasks, square)
    if key is not None:
        store = BlockStore(cache_dir, key)
    results, pending = [], tasks
    if store is not None:  # finished blocks are read here; only the others are computed
        pending = []
        for task in tasks:
            stored = store.load(task)
            (pending.append(task) if stored is None else results.append((task, stored)))

    networks = {}
    needed = sorted({i for task in pending for i in (*task.rows, *task.columns)})
    for i in needed:
        networks[i] = measure.pairwise_prepare(trains[i], tests[i], names[i], test_names[i])
    if needed:
        measure.pairwise_check([networks[i] for i in needed], [names[i] for i in needed])

    blas_threads = None  # the timed pair of an "auto" job runs here, with every BLAS thread

    def arguments(task: BlockTask) -> tuple:
        nets_a = [networks[i] for i in task.rows]
        nets_b = nets_a if task.same_block else [networks[i] for i in task.columns]
        return (task, measure, nets_a, nets_b, store, blas_threads, os.getpid())

    from tqdm.auto import tqdm  # third-party, imported only when a job runs

    deferred = []
    description = (
        f"{type(measure).__name__} {'distances' if kind == 'distance' else 'similarities'}"
    )
    with tqdm(
        total=sum(len(t.pairs) for t in tasks), disable=not verbose, desc=description, unit="pair"
    ) as progress:
        progress.update(sum(len(task.pairs) for task, _ in results))

        def collect(task: BlockTask, values: Any) -> None:
            if values is None:
                deferred.append(task)
                return
            results.append((task, values))
            progress.update(len(task.pairs))

        parallel_n_jobs = plan.n_jobs
        if plan.timed and n_workers > 1 and pending:
            # n_jobs="auto": one pair, computed here and timed, says whether a pool pays.
            probe, pending = _probe(pending, store is None)
            started = time.perf_counter()
            collect(*run_task(*arguments(probe)))
            seconds_per_pair = (time.perf_counter() - started) / len(probe.pairs)
            remaining = seconds_per_pair * sum(len(task.pairs) for task in pending)
            if not parallel_pays(remaining, n_workers):
                parallel_n_jobs, n_workers = 1, 1
        if n_workers > 1:
            blas_threads = max(1, joblib.cpu_count() // n_workers)
        on_dask = active_dask_backend()
        if pending:
            with blas_limit(blas_threads):
                if on_dask is not None:  # each block scattered once, tasks take futures
                    finished = run_on_dask(
                        on_dask, pending, networks, measure, store, blas_threads, os.getpid()
                    )
                else:
                    finished = _parallel(parallel_n_jobs)(
                        delayed(run_task)(*arguments(t)) for t in pending
                    )
                for task, values in finished:
                    collect(task, values)
        results.extend(_wait_for(deferred, store, arguments, progress))

    column_offset = 0 if square else n_rows
    for task, (block_train, block_test) in results:
        rows_index = np.array([task.rows[a] for a, _ in task.pairs])
        columns_index = np.array([task.columns[b] for _, b in task.pairs]) - column_offset
        for matrix, values in ((train, block_train), (test, block_test)):
            if matrix is not None:
                matrix[rows_index, columns_index] = values
                if symmetric:
                    matrix[columns_index, rows_index] = values
    _check_finite(train, names, column_offset)
    if test is not None:
        _check_finite(test, test_names, column_offset)
    return PairsResult(train, test, kind, row_keys, column_keys)


def _probe(pending: list[BlockTask], splittable: bool) -> tuple[BlockTask, list[BlockTask]]:
    """The task to time first, and the tasks left.

    The first pair of the first block, as a block of its own two networks
    (block measures compute all of a block's networks together, so a whole
    block could hold much of the job); the first block whole when blocks are
    stored under their layout (a cache) or hold one pair.
    """
    first = pending[0]
    if not splittable or len(first.pairs) == 1:
        return first, pending[1:]
    a, b = first.pairs[0]
    i, j = first.rows[a], first.columns[b]
    probe = BlockTask(first.position, (i,), (j,), ((0, 0),), i == j)
    return probe, [first._replace(pairs=first.pairs[1:]), *pending[1:]]


def _parallel(n_jobs: int | None) -> Parallel:
    """A joblib ``Parallel`` yielding results as they finish, made the same way on every call.

    The same arguments each time let loky reuse its worker processes from one
    job to the next.
    """
    try:
        return Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    except ValueError:  # a backend without generators (multiprocessing): a list
        return Parallel(n_jobs=n_jobs, return_as="list")


def _check_finite(matrix: np.ndarray, names: list[str], column_offset: int) -> None:
    """Raise, naming the pair, where the measure returned NaN or infinity (never silent)."""
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        i, j = (int(k) for k in bad[0])
        raise ValueError(
            f"The measure returned {float(matrix[i, j])!r} for {names[i]} and "
            f"{names[column_offset + j]}; expected a finite value."
        )


def _wait_for(deferred: list, store: BlockStore | None, arguments: Any, progress: Any) -> list:
    """Blocks claimed by other runs: read back when they finish, computed here if abandoned."""
    results, delay = [], 0.05
    while deferred:
        waiting = []
        for task in deferred:
            stored = store.load(task)
            if stored is None and not store.is_claimed(task):
                _, stored = run_task(*arguments(task))  # abandoned, or released unfinished
            if stored is None:
                waiting.append(task)
                continue
            results.append((task, stored))
            progress.update(len(task.pairs))
        deferred = waiting
        if deferred:
            time.sleep(delay)
            delay = min(2.0 * delay, 1.0)
    return results
