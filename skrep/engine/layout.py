"""The layout of an engine job: networks in blocks, a pair of blocks per task.

A K x K job of a symmetric measure takes each unordered pair once, a distance
of a network to itself is 0 without computation (no diagonal), and a job
between two collections takes every pair. There are enough tasks to keep
every worker busy (twice as many as workers, when the block size is chosen
automatically).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .cache import BlockTask

__all__ = ["layout_tasks"]


def _split(indices: Sequence[int], size: int, n_blocks: int | None = None) -> list[tuple]:
    n_blocks = n_blocks or math.ceil(len(indices) / size)
    return [tuple(int(i) for i in part) for part in np.array_split(indices, n_blocks) if len(part)]


def layout_tasks(
    n_rows: int,
    n_columns: int | None,
    size: int,
    n_workers: int,
    auto: bool,
    symmetric: bool,
    diagonal: bool,
) -> list[BlockTask]:
    """The tasks of a job; ``n_columns`` None means the rows against themselves.

    Parameters
    ----------
    n_rows : int
        Networks of the rows (indices 0 to n_rows - 1).
    n_columns : int or None
        Networks of the columns (indices n_rows onwards), or None for a K x K job.
    size : int
        Networks per block.
    n_workers : int
        Workers to keep busy.
    auto : bool
        Whether the block size was chosen automatically (then blocks are made
        smaller until every worker has two tasks).
    symmetric : bool
        Whether the measure of (A, B) is that of (B, A) (K x K jobs).
    diagonal : bool
        Whether the pairs of a network with itself are computed (K x K jobs).

    Returns
    -------
    list of BlockTask
        Every needed pair exactly once.
    """
    square = n_columns is None
    n_blocks = math.ceil(n_rows / size)

    def count(blocks: int) -> int:
        if not square:
            return blocks * math.ceil(n_columns / size)
        return blocks * (blocks + 1) // 2 if symmetric else blocks * blocks

    if auto and n_workers > 1:
        # Enough tasks to keep every worker busy (twice as many as workers).
        while n_blocks < n_rows and count(n_blocks) < 2 * n_workers:
            n_blocks += 1
    row_blocks = _split(np.arange(n_rows), size, n_blocks)
    if square:
        column_blocks = row_blocks
    else:
        column_blocks = _split(np.arange(n_rows, n_rows + n_columns), size)
    tasks = []
    for i, rows in enumerate(row_blocks):
        for j, columns in enumerate(column_blocks):
            if square and symmetric and j < i:
                continue
            same = square and i == j
            pairs = []
            for a in range(len(rows)):
                for b in range(len(columns)):
                    if same and (a == b and not diagonal or symmetric and b < a):
                        continue
                    pairs.append((a, b))
            if pairs:
                tasks.append(BlockTask((i, j), rows, columns, tuple(pairs), same))
    return tasks
