"""Blocks of pairs on a dask cluster: each block's networks scattered once, tasks take futures.

Under ``joblib.parallel_config(backend="dask")`` the engine submits its tasks
through the dask client itself rather than through ``joblib.Parallel``.
joblib's dask backend scatters only the arguments that can be weakly
referenced and exceed 1 kB; a task's networks are lists, which cannot, so
through ``joblib.Parallel`` every task carried the pickled networks of both
its blocks: a block crossed the network once per task that needed it, through
the scheduler, and a K x K job shipped its data about as many times as it has
blocks.

Here the client scatters each block's prepared networks itself
(``client.scatter(..., hash=False, workers=[worker])``) to each worker that
needs it, and that worker's tasks take the future. Which worker runs which
task comes from :func:`skrep.engine._dask_bands.plan_bands`: each band of rows
belongs to one worker (a loose restriction: another worker takes over if it
is lost), which runs the band's tasks column block by column block, with only
a few of them submitted at a time (two per thread). A block is scattered to a
worker just before its first task there and its future dropped after its last
one, so dask frees that copy at once. A block thus reaches a worker at most
once (again only if dask's work stealing moved a task elsewhere, which the
tests and ``benchmarks/scale_pairwise.py`` have not seen), and a worker holds
its own bands (about K / n_workers networks) and the column blocks of its few
submitted tasks, not all the networks its tasks will ever need. The copies are
the engine's own futures, one per worker and block, rather than replicas of
one future: dask's active memory manager drops surplus replicas of a key
without knowing which worker will need it again, which sent blocks to a
worker twice.

Options given to the backend (``parallel_config("dask", resources=...,
retries=...)``) are passed to ``client.submit`` as joblib would; a ``workers``
restriction chooses the workers the bands are given to. Waiting for the
results uses the backend's ``retrieval_context`` (it secedes from a worker's
thread pool when the job itself runs in a dask task).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import uuid4

from joblib.parallel import BACKENDS, get_active_backend

from ._dask_bands import plan_bands
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
        if name not in ("key", "pure", "workers", "allow_other_workers")
    }
    running = client.scheduler_info()["workers"]
    named = getattr(backend, "submit_kwargs", {}).get("workers")
    pool = _worker_pool(running, named)
    queues = {worker: deque(queue) for worker, queue in plan_bands(tasks, pool).queues.items()}
    # The blocks (tuples of global indices) each worker holds: scattered to it at
    # its first task that needs them, dropped after its last one.
    local: dict[tuple[str, tuple], Any] = {}
    uses = Counter(
        (worker, block)
        for worker, queue in queues.items()
        for index in queue
        for block in {tasks[index].rows, tasks[index].columns}
    )
    [measure_future] = client.scatter([measure], hash=False, broadcast=True, workers=pool)
    job = uuid4().hex
    window = {worker: 2 * max(1, running[worker].get("nthreads", 1)) for worker in pool}
    waiting = {}
    finished = as_completed()

    def on(worker: str, block: tuple) -> Any:
        if (worker, block) not in local:
            [local[worker, block]] = client.scatter(
                [[networks[i] for i in block]], hash=False, workers=[worker]
            )
        return local[worker, block]

    def submit_next(worker: str) -> None:
        index = queues[worker].popleft()
        task = tasks[index]
        future = client.submit(
            _run_block,
            task,
            measure_future,
            on(worker, task.rows),
            None if task.same_block else on(worker, task.columns),
            store,
            blas_threads,
            parent_pid,
            key=f"skrep-pairs-{job}-{index}",
            pure=False,
            # Loose: preferred, but another worker takes over if this one is lost.
            workers=[worker],
            allow_other_workers=True,
            **options,
        )
        waiting[future] = (worker, task)
        finished.add(future)

    for worker in pool:
        for _ in range(min(window[worker], len(queues[worker]))):
            submit_next(worker)
    try:
        with backend.retrieval_context():
            for future in finished:
                worker, task = waiting.pop(future)
                result = future.result()  # re-raises a task's error here
                for block in {task.rows, task.columns}:
                    uses[worker, block] -= 1
                    if not uses[worker, block]:  # its last task here is done: dask frees it
                        del local[worker, block]
                if queues[worker]:
                    submit_next(worker)
                yield result
    finally:
        if waiting:  # an error, or the caller stopped early: nothing left runs for nothing
            client.cancel(list(waiting))


def _worker_pool(running: dict, named: object) -> list[str]:
    """The workers the job may use: all running ones, or those named in ``parallel_config``."""
    if named is None:
        pool = sorted(running)
    else:
        names = [named] if isinstance(named, str) else list(named)
        pool = sorted(
            address for address in running if address in names or _alias(running, address) in names
        )
    if not pool:
        raise ValueError(
            f"No running dask worker matches workers={named!r} given to parallel_config; "
            f"running workers: {sorted(running)}."
        )
    return pool


def _alias(running: dict, address: str) -> object:
    """The name a worker was given (``Worker(name=...)``), which dask also accepts."""
    return running[address].get("name")
