"""The plan of a K x K job on a cluster: one owner per band of rows, column blocks in runs.

Checked on the layouts the engine makes (skrep.engine.layout) by counting:
every task planned once, a band's tasks on its owner, bands balanced to within
the largest band, each worker's column blocks contiguous.
"""

from collections import Counter

import pytest

from skrep.engine._dask_bands import plan_bands
from skrep.engine.cache import BlockTask


def upper_triangle(n_blocks, size):
    """The tasks of a symmetric K x K job in blocks of ``size`` networks (diagonal blocks too)."""
    blocks = [tuple(range(b * size, (b + 1) * size)) for b in range(n_blocks)]
    tasks = []
    for r in range(n_blocks):
        for c in range(r, n_blocks):
            same = r == c
            pairs = tuple((i, j) for i in range(size) for j in range(size) if not same or i < j)
            tasks.append(BlockTask((r, c), blocks[r], blocks[c], pairs, same))
    return tasks


def cross(n_rows, n_columns, size):
    """The tasks of a job between two collections: every row block against every column block."""
    rows = [tuple(range(b * size, (b + 1) * size)) for b in range(n_rows)]
    columns = [tuple(range(1000 + b * size, 1000 + (b + 1) * size)) for b in range(n_columns)]
    pairs = tuple((i, j) for i in range(size) for j in range(size))
    return [
        BlockTask((r, c), rows[r], columns[c], pairs, False)
        for r in range(n_rows)
        for c in range(n_columns)
    ]


@pytest.mark.parametrize("n_workers", [1, 2, 3, 7])
@pytest.mark.parametrize("tasks", [upper_triangle(12, 3), cross(5, 4, 2)], ids=["square", "cross"])
def test_the_plan_runs_every_task_once_by_bands(tasks, n_workers):
    workers = [f"tcp://w{k}" for k in range(n_workers)]
    plan = plan_bands(tasks, workers)
    planned = sorted(i for queue in plan.queues.values() for i in queue)
    assert planned == list(range(len(tasks)))
    owner = {tasks[i].rows: w for w, queue in plan.queues.items() for i in queue}
    assert owner == plan.owner
    for w, queue in plan.queues.items():
        assert all(owner[tasks[i].rows] == w for i in queue)  # a band is on one worker
        runs = [tasks[i].columns for i in queue]
        changes = [a for a, b in zip(runs, runs[1:], strict=False) if a != b]
        assert len(changes) + 1 == len(set(runs)) or not runs  # each column block in one run
    band_pairs = Counter()
    for t in tasks:
        band_pairs[t.rows] += len(t.pairs)
    load = Counter()
    for band, w in owner.items():
        load[w] += band_pairs[band]
    busy = [load[w] for w in workers]
    if len(band_pairs) >= n_workers:
        assert max(busy) - min(busy) <= max(band_pairs.values())


def test_the_plan_needs_a_worker():
    with pytest.raises(ValueError, match="at least one worker"):
        plan_bands(upper_triangle(2, 2), [])
