"""Batched linear algebra of numpy stacks, split over the threads BLAS may use.

numpy's batched decompositions (``svd``, ``eigh``) and stacked products run
LAPACK or BLAS once per matrix, single-threaded in effect for small matrices,
and release the GIL. Running chunks of a stack in as many threads as BLAS is
allowed here (each chunk with one BLAS thread) keeps the cores busy without
oversubscribing them: nearly 2x faster on 2 cores. A process pool's workers
are given fewer BLAS threads by the engine, so they split their stacks less.
Other namespaces (torch) parallelise batched linear algebra themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["blas_threads", "split_over_threads"]

#: Fewest matrices per thread worth a chunk of their own.
_MIN_CHUNK = 8


def blas_threads() -> int:
    """Threads the BLAS library may use here (after any threadpoolctl limit)."""
    from threadpoolctl import threadpool_info  # imported when first needed: keeps import fast

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts, default=1)


def split_over_threads(function: Callable[..., Any], *stacks: Any) -> Any:
    """``function(*stacks)``, computed on chunks of the leading axis in threads.

    Parameters
    ----------
    function : callable
        Takes the stacks (same leading length) and returns an array or a tuple
        of arrays with that leading axis.
    *stacks : arrays
        numpy arrays are split; any other input runs ``function`` as is.

    Returns
    -------
    array or tuple of arrays
        The chunks' results concatenated along the leading axis.
    """
    if not all(isinstance(stack, np.ndarray) for stack in stacks):
        return function(*stacks)
    n_threads = min(blas_threads(), stacks[0].shape[0] // _MIN_CHUNK)
    if n_threads < 2:
        return function(*stacks)
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    bounds = np.linspace(0, stacks[0].shape[0], n_threads + 1).astype(int)
    chunks = [
        tuple(stack[begin:end] for stack in stacks)
        for begin, end in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
        parts = list(pool.map(lambda chunk: function(*chunk), chunks))
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate([part[k] for part in parts]) for k in range(len(parts[0])))
    return np.concatenate(parts)
