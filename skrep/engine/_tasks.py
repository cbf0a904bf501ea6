"""One task of the engine: a block of pairs computed, read from the cache, or left to another run.

The same function runs a task wherever it runs: in the calling process,
in a joblib worker (loky processes, threads) or on a dask worker
(:mod:`skrep.engine._dask_tasks`), so every backend computes a block the
same way.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .._array import to_numpy
from .cache import BlockStore, BlockTask

__all__ = ["blas_limit", "run_task"]


def blas_limit(threads: int | None) -> Any:
    """A BLAS thread limit (threadpoolctl); nothing when ``threads`` is None.

    Parameters
    ----------
    threads : int or None
        Most BLAS threads.

    Returns
    -------
    context manager
        The limit, entered with ``with``.
    """
    if threads is None:
        return nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _compute(measure: Any, task: BlockTask, nets_a: list, nets_b: list) -> tuple:
    train, test = measure.pairwise_block(
        nets_a, nets_b, list(task.pairs), same_block=task.same_block
    )
    train = np.asarray(to_numpy(train), dtype=np.float64).reshape(-1)
    if test is not None:
        test = np.asarray(to_numpy(test), dtype=np.float64).reshape(-1)
    return train, test


def run_task(
    task: BlockTask,
    measure: Any,
    nets_a: list,
    nets_b: list,
    store: BlockStore | None,
    blas_threads: int | None,
    parent_pid: int,
) -> tuple[BlockTask, Any]:
    """One task: the block's values, read from the cache, computed, or deferred (None).

    A block that another run has claimed is deferred: its values are None and
    the caller waits for them.

    Parameters
    ----------
    task : BlockTask
        The block.
    measure : PairwiseMeasure
        The measure.
    nets_a, nets_b : list
        The prepared networks of the block's rows and columns.
    store : BlockStore or None
        The cache of the job.
    blas_threads : int or None
        BLAS threads allowed in a worker process (not in the calling one).
    parent_pid : int
        The process id of the caller.

    Returns
    -------
    task : BlockTask
        The block.
    values : tuple of (ndarray, ndarray or None) or None
        Its training and held-out values; None when deferred.
    """
    in_worker_process = os.getpid() != parent_pid and blas_threads is not None
    threads = blas_threads if in_worker_process else None  # the limit is entered only to compute
    if store is None:
        with blas_limit(threads):
            return task, _compute(measure, task, nets_a, nets_b)
    stored = store.load(task)  # another run may have finished it meanwhile
    if stored is not None:
        return task, stored
    claim = store.claim(task)
    if claim is None:
        return task, None
    try:
        # Another run may have finished and released it between the read and the claim.
        stored = store.load(task)
        if stored is not None:
            return task, stored
        with blas_limit(threads):
            values = _compute(measure, task, nets_a, nets_b)
        store.save(task, *values)
    finally:
        claim.release()
    return task, values
