"""Blocks of pairs on a dask cluster: each block's networks scattered once, tasks take futures.

Under ``joblib.parallel_config(backend="dask")`` the engine submits its tasks
through the dask client itself rather than through ``joblib.Parallel``.
joblib's dask backend scatters only the arguments that can be weakly
referenced and exceed 1 kB; a task's networks are lists, which cannot, so
through ``joblib.Parallel`` every task carried the pickled networks of both
its blocks: a block crossed the network once per task that needed it, through
the scheduler, and a K x K job shipped its data about as many times as it has
blocks.

Here each block's prepared networks are scattered once, as one future
(``client.scatter(..., hash=False)``; blocks are spread over the workers), and
every task that needs the block takes that future. dask then moves a block to
a worker only when a task placed there needs it, and keeps it there for the
worker's later tasks: the scheduler places each task where most of its input
already is, and its active memory manager keeps a replica while tasks on that
worker still wait for it (all tasks are submitted at once, so each has its
worker from the start). Once a block's last task has finished, the engine drops
its future and dask frees the block on every worker. A block thus reaches a
worker at most once (again only if dask's work stealing moved a task to a
worker whose copy its memory manager had already dropped, which the tests and
``benchmarks/scale_pairwise.py`` have not seen); a task's own working memory
is that of its block (the block size comes from ``working_memory``), and a
worker holds the blocks of the tasks it still has.

Options given to the backend (``parallel_config("dask", resources=...,
retries=...)``) are passed to ``client.submit`` as joblib would, and a
``workers`` restriction applies to the scattered blocks too. Waiting for the
results uses the backend's ``retrieval_context`` (it secedes from a worker's
thread pool when the job itself runs in a dask task).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import uuid4

from joblib.parallel import BACKENDS, get_active_backend

from ._tasks import run_task
from .cache import BlockStore, BlockTask

__all__ = ["active_dask_backend", "run_on_dask"]


def active_dask_backend() -> Any | None:
    """The active joblib backend when it runs on a dask cluster, else None.

    joblib registers its dask backend (``BACKENDS["dask"]``) only when it is
    asked for, so neither dask nor distributed is imported here.

    Returns
    -------
    joblib DaskDistributedBackend or None
        The backend of the ``joblib.parallel_config`` in effect (it holds the
        ``distributed.Client``), or None for any other backend.
    """
    backend, _ = get_active_backend()
    dask_backend = BACKENDS.get("dask")
    if dask_backend is None or not isinstance(backend, dask_backend):
        return None
    return backend


def _run_block(
    task: BlockTask,
    measure: Any,
    nets_a: list,
    nets_b: list | None,
    store: BlockStore | None,
    blas_threads: int | None,
    parent_pid: int,
) -> tuple[BlockTask, Any]:
    """:func:`run_task` on a dask worker; a block against itself arrives once (``nets_b`` None)."""
    nets_b = nets_a if nets_b is None else nets_b
    return run_task(task, measure, nets_a, nets_b, store, blas_threads, parent_pid)


def run_on_dask(
    backend: Any,
    tasks: Sequence[BlockTask],
    networks: dict,
    measure: Any,
    store: BlockStore | None,
    blas_threads: int | None,
    parent_pid: int,
) -> Iterator[tuple[BlockTask, Any]]:
    """Run the tasks on the backend's dask cluster; yield ``(task, values)`` as they finish.

    Parameters
    ----------
    backend : joblib DaskDistributedBackend
        The active backend (:func:`active_dask_backend`).
    tasks : sequence of BlockTask
        The tasks to run.
    networks : dict
        Prepared network of every global index the tasks name.
    measure : PairwiseMeasure
        The measure (scattered once too).
    store : BlockStore or None
        The cache of the job; tasks claim their blocks on the workers.
    blas_threads : int or None
        BLAS threads allowed per worker process.
    parent_pid : int
        The process id of the caller.

    Yields
    ------
    task : BlockTask
        A finished task.
    values : tuple or None
        What :func:`run_task` returned for it (None: claimed by another run).
    """
    from distributed import as_completed  # third-party, needed only with a dask backend

    client = backend.client
    options = {
        name: value
        for name, value in getattr(backend, "submit_kwargs", {}).items()
        if name not in ("key", "pure")
    }
    # The block (a tuple of global indices) is what moves between machines, once per worker.
    blocks = list(dict.fromkeys(block for task in tasks for block in (task.rows, task.columns)))
    uses = Counter(block for task in tasks for block in {task.rows, task.columns})
    where = options.get("workers")
    scattered = client.scatter(
        [[networks[i] for i in block] for block in blocks], hash=False, workers=where
    )
    held = dict(zip(blocks, scattered, strict=True))
    [measure_future] = client.scatter([measure], hash=False, workers=where)
    job = uuid4().hex
    waiting = {}
    for index, task in enumerate(tasks):
        future = client.submit(
            _run_block,
            task,
            measure_future,
            held[task.rows],
            None if task.same_block else held[task.columns],
            store,
            blas_threads,
            parent_pid,
            key=f"skrep-pairs-{job}-{index}",
            pure=False,
            **options,
        )
        waiting[future] = task
    del scattered, measure_future  # the tasks hold them now
    try:
        with backend.retrieval_context():
            for future in as_completed(list(waiting)):
                task = waiting.pop(future)
                result = future.result()  # re-raises a task's error here
                for block in {task.rows, task.columns}:
                    uses[block] -= 1
                    if not uses[block]:
                        del held[block]  # its last task is done: dask frees it everywhere
                yield result
    finally:
        if waiting:  # an error, or the caller stopped early: nothing left runs for nothing
            client.cancel(list(waiting))
