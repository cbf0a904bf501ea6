"""Which worker computes which blocks of pairs, and in what order (the plan, without dask).

A K x K job on a cluster would otherwise let every worker end up holding
every network: its tasks need all the column blocks, and dask keeps a block on
a worker while any task there still waits for it. The plan bounds that:

- each row block (a band of the layout) has one owner, the worker that runs
  all of its tasks; bands go to the least loaded worker, largest first, so
  that the workers get about the same number of pairs;
- a worker runs its tasks column block by column block, and the caller keeps
  only a few tasks per worker submitted at a time, so that a column block
  is needed on a worker for one short stretch of tasks and can then be
  dropped there, never to be sent again.

A worker thus holds its own bands (about K / n_workers networks) and the
column blocks of its few submitted tasks, rather than up to all K networks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .cache import BlockTask

__all__ = ["BandPlan", "plan_bands"]


class BandPlan(NamedTuple):
    """Who runs each band of rows, and the tasks of each worker in the order they run.

    Parameters
    ----------
    owner : dict
        Band (the rows of a block, a tuple of global indices) -> the worker
        that runs all of its tasks.
    queues : dict
        Worker -> its tasks (indices into the task list), column block by
        column block.
    """

    owner: dict
    queues: dict


def plan_bands(tasks: Sequence[BlockTask], workers: Sequence[str]) -> BandPlan:
    """Give each band of rows to one worker, and each worker its tasks in column runs.

    Parameters
    ----------
    tasks : sequence of BlockTask
        The tasks of the job.
    workers : sequence of str
        Addresses of the workers that may run them (at least one).

    Returns
    -------
    BandPlan
        The owner of every band and the ordered tasks of every worker (a
        worker without a band has an empty queue).
    """
    if not workers:
        raise ValueError("plan_bands needs at least one worker; got none.")
    pairs_of_band: dict[tuple, int] = {}
    for task in tasks:
        pairs_of_band[task.rows] = pairs_of_band.get(task.rows, 0) + len(task.pairs)
    load = {worker: 0 for worker in workers}
    owner = {}
    # Largest band first, each to the least loaded worker (ties: the order given).
    for band in sorted(pairs_of_band, key=lambda band: -pairs_of_band[band]):
        worker = min(load, key=load.__getitem__)
        owner[band] = worker
        load[worker] += pairs_of_band[band]
    first_seen = {}
    for task in tasks:
        first_seen.setdefault(task.columns, len(first_seen))
    queues: dict[str, list[int]] = {worker: [] for worker in workers}
    for index, task in enumerate(tasks):
        queues[owner[task.rows]].append(index)
    for queue in queues.values():
        # Stable: within a column block the tasks keep the order they were given.
        queue.sort(key=lambda index: first_seen[tasks[index].columns])
    return BandPlan(owner, queues)
