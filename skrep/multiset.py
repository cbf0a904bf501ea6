"""Many networks: pairwise distance matrices, and ways to look at them.

:func:`pairwise_distances` computes the K x K matrices of distances between K
networks under any skrep distance metric, on training data and on held-out
data. It is a capability of every metric (``metric.pairwise_distances``).

How the work is organised
-------------------------
1. **Per network, once.** Each network is validated, moved to the metric's
   device, preprocessed (the metric's ``preprocessor`` is fitted on it) and
   prepared by the metric: LinearMetric centres and partially whitens it,
   PermutationMetric centres it. This is K pieces of work, not K(K-1).
2. **Per block of pairs.** Networks are split into blocks; each pair of blocks
   is one task. For LinearMetric and PermutationMetric a task is one matrix
   product of the stacked networks (every cross-product of the block at once)
   followed by a batched SVD (or one assignment problem per pair); other
   metrics fit a copy of themselves on each pair of the block.
3. **In parallel through joblib.** Tasks run under ``n_jobs`` and whatever
   backend ``joblib.parallel_config`` selects, including ``"dask"`` for a
   ``dask.distributed`` cluster. When several workers share a machine, BLAS
   threads are limited (threadpoolctl) so that workers x threads does not
   exceed the cores.
4. **Resumable.** With ``cache_dir``, each finished task is stored on disk by
   ``joblib.Memory``, keyed by the metric's parameters, a hash of the data and
   the block layout; a run that was interrupted (Ctrl-C, or the process
   killed) computes only the tasks that had not finished.

Memory
------
The prepared networks take O(K n p) (one copy of the data, plus the held-out
data). A Gram task holds the cross-products of one block, about
``2 * b**2 * p**2`` numbers (``6 * b**2 * p**2`` with held-out data, for the
singular vectors), for ``b`` networks per block and ``p`` the widest network;
``b`` is chosen so that this fits scikit-learn's ``working_memory`` setting
(1024 MiB by default; change it with ``sklearn.config_context``) or set by
``block_size``. Per-pair tasks hold one pair at a time. Each worker holds the
networks of the blocks it is working on; nothing is ever copied K^2 times.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping
from contextlib import nullcontext

import numpy as np
from joblib import Memory, Parallel, delayed, effective_n_jobs
from joblib import cpu_count as joblib_cpu_count
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from sklearn import get_config
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from ._array import (
    convert_like,
    floating_dtype,
    get_namespace,
    is_foreign_array,
    move_to_device,
    to_numpy,
)
from ._validation import check_representation
from .exceptions import InvalidParameterError

__all__ = ["pairwise_distances", "embed_distances", "cluster_order", "check_distance_matrix"]


# -- inputs -------------------------------------------------------------------------------
def _as_network_list(Xs, name):
    """A list of per-network arrays from a sequence, a mapping or a 3-D array."""
    if Xs is None or isinstance(Xs, (str, bytes)):
        raise ValueError(
            f"{name} must be a sequence of 2-D arrays (one per network) or a 3-D array "
            f"of shape (n_networks, n_samples, n_features); got {Xs!r}."
        )
    if isinstance(Xs, Mapping):
        return list(Xs.values())
    if is_foreign_array(Xs) or isinstance(Xs, np.ndarray):
        if Xs.ndim < 3:
            raise ValueError(
                f"{name} is a {Xs.ndim}-D array of shape {tuple(Xs.shape)}; expected a "
                "sequence of 2-D arrays (one per network) or a 3-D array of shape "
                "(n_networks, n_samples, n_features) (4-D for stochastic responses)."
            )
        return [Xs[k] for k in range(Xs.shape[0])]
    try:
        networks = list(Xs)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of 2-D arrays (one per network); got an object "
            f"of type {type(Xs).__name__}."
        ) from None
    return networks


def _check_metric(metric):
    if isinstance(metric, type):
        raise InvalidParameterError(
            f"metric must be a skrep metric instance; got the class {metric.__name__} "
            f"(use {metric.__name__}())."
        )
    if not hasattr(metric, "pairwise_block"):
        raise InvalidParameterError(
            "metric must be a skrep distance metric (e.g. LinearMetric(alpha=1.0)); got "
            f"{metric!r}."
        )


def _check_block_size(block_size):
    if block_size is None:
        return
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)):
        raise InvalidParameterError(
            f"block_size must be None or a positive integer (networks per block); got "
            f"{block_size!r}."
        )
    if block_size < 1:
        raise InvalidParameterError(
            f"block_size must be None or a positive integer (networks per block); got {block_size}."
        )


def _validate_networks(metric, Xs, Xs_test, names, test_names):
    """Validate every network; bring all to the compute namespace, device and one dtype.

    The common dtype is float32 only if every array is float32 (as in a
    single-pair fit), and it is applied before any per-network work.
    """
    trains = [check_representation(X, name) for X, name in zip(Xs, names, strict=True)]
    tests = [None] * len(Xs)
    if Xs_test is not None:
        tests = [
            check_representation(X, name, min_samples=1)
            for X, name in zip(Xs_test, test_names, strict=True)
        ]
    for group, labels in ((trains, names), (tests if Xs_test is not None else [], test_names)):
        for X, label in zip(group, labels, strict=False):
            if X.shape[0] != group[0].shape[0]:
                raise ValueError(
                    f"{label} has {X.shape[0]} samples (rows) but {labels[0]} has "
                    f"{group[0].shape[0]}; expected every network's responses to the same "
                    "stimuli, one row per stimulus in the same order."
                )
    for X, Xt, name, test_name in zip(trains, tests, names, test_names, strict=True):
        if Xt is not None and Xt.shape[1] != X.shape[1]:
            raise ValueError(
                f"{test_name} has {Xt.shape[1]} features but {name} has {X.shape[1]}; "
                "expected the held-out data of each network to have its training width."
            )
    # Everything goes where the first network computes (as Y follows X in fit).
    reference = move_to_device(trains[0], metric.device)
    trains = [convert_like(move_to_device(X, metric.device), reference) for X in trains]
    tests = [
        None if X is None else convert_like(move_to_device(X, metric.device), reference)
        for X in tests
    ]
    present = [X for X in (*trains, *tests) if X is not None]
    xp = get_namespace(reference)
    dtype = floating_dtype(xp, *present)
    trains = [xp.astype(X, dtype, copy=False) for X in trains]
    tests = [None if X is None else xp.astype(X, dtype, copy=False) for X in tests]
    return trains, tests


# -- tasks ----------------------------------------------------------------------------------
def _split_blocks(n_networks, block_size, n_workers, auto):
    n_blocks = math.ceil(n_networks / block_size)
    if auto and n_workers > 1:
        # Enough tasks to keep every worker busy: n_blocks (n_blocks + 1) / 2 >= 2 workers.
        while n_blocks < n_networks and n_blocks * (n_blocks + 1) // 2 < 2 * n_workers:
            n_blocks += 1
    return [list(block) for block in np.array_split(np.arange(n_networks), n_blocks) if len(block)]


def _tasks(blocks):
    for i, block_a in enumerate(blocks):
        for j in range(i, len(blocks)):
            block_b = blocks[j]
            if i == j:
                pairs = [(a, b) for a in range(len(block_a)) for b in range(a + 1, len(block_a))]
            else:
                pairs = [(a, b) for a in range(len(block_a)) for b in range(len(block_b))]
            if pairs:
                yield tuple(block_a), tuple(block_b), pairs


def _compute_block(key, block_a, block_b, metric, nets_a, nets_b, pairs, blas_threads, parent_pid):
    """One task: the distances of ``pairs`` between two blocks of networks.

    ``key`` (the metric, data and layout fingerprint), ``block_a``, ``block_b``
    and ``pairs`` identify the result in the cache; the other arguments are
    ignored by ``joblib.Memory``.
    """
    in_worker_process = os.getpid() != parent_pid and blas_threads is not None
    # In a worker process (loky, dask): keep workers x BLAS threads <= cores.
    with _blas_limit(blas_threads if in_worker_process else None):
        train, test = metric.pairwise_block(nets_a, nets_b, pairs, same_block=block_a == block_b)
    return block_a, block_b, np.asarray(train, dtype=np.float64), test


_IGNORED_IN_CACHE = ["metric", "nets_a", "nets_b", "blas_threads", "parent_pid"]


def _fingerprint(metric, trains, tests, blocks):
    """What a cached block depends on: metric, parameters, data, layout."""
    from joblib import hash as joblib_hash

    params = metric.get_params(deep=False)
    return joblib_hash(
        (
            type(metric).__module__,
            type(metric).__qualname__,
            sorted((k, repr(v)) for k, v in params.items()),
            [_on_host(X) for X in trains],
            [_on_host(X) for X in tests],
            [tuple(int(i) for i in block) for block in blocks],
        )
    )


def _on_host(data):
    """numpy copies of an input (an array, or a tuple of arrays) for hashing."""
    if data is None:
        return None
    if isinstance(data, tuple):
        return tuple(_on_host(part) for part in data)
    return to_numpy(data)


def _blas_limit(threads):
    """threadpoolctl's BLAS limit as a context manager, or nothing when ``threads`` is None."""
    if threads is None:
        return nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def pairwise_distances(
    metric, Xs, Xs_test=None, n_jobs=None, verbose=False, *, cache_dir=None, block_size=None
):
    """Distances between all pairs of K networks, on training and held-out data.

    Pair ``(i, j)`` is fitted on ``Xs[i]`` and ``Xs[j]`` and its training
    distance measured on them; with ``Xs_test`` the fitted alignment also gives
    the held-out distance between ``Xs_test[i]`` and ``Xs_test[j]``. Each entry
    equals ``metric.fit(Xs[i], Xs[j]).distance(...)`` (to ~1e-13 in float64),
    but the work that depends on one network is done once per network, and
    for LinearMetric and PermutationMetric the cross-products of a block of
    networks come from one matrix product (see :mod:`skrep.multiset`).

    Parameters
    ----------
    metric : skrep distance metric
        E.g. ``LinearMetric(alpha=0.5)``; its parameters (including
        ``preprocessor`` and ``device``) apply to every pair. Not modified.
    Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        One representation per network, rows paired across networks. Widths
        may differ (narrower networks are zero-padded per pair when the metric
        has ``zero_pad=True``). A mapping's values are used in order.
    Xs_test : same kind as ``Xs``, default=None
        Held-out representations of the same networks (same widths), with
        ``n_samples_test`` rows each.
    n_jobs : int, default=None
        Number of joblib workers: None means 1 unless in a
        ``joblib.parallel_config`` context, -1 all CPUs. The backend (loky
        processes, threads, dask, ...) comes from ``joblib.parallel_config``.
    verbose : bool, default=False
        Show a tqdm progress bar over pairs.
    cache_dir : str or path-like, default=None
        Store each finished block of pairs here (``joblib.Memory``); running
        again with the same metric, data and ``block_size`` loads finished
        blocks instead of recomputing them, so an interrupted run resumes.
    block_size : int, default=None
        Networks per block (a block pair is one task and one matrix product).
        None: as large as scikit-learn's ``working_memory`` allows for the
        Gram path, 4 for per-pair metrics, and small enough that every worker
        gets work. Smaller blocks resume at a finer grain.

    Returns
    -------
    D_train : ndarray of shape (n_networks, n_networks)
        Symmetric float64 matrix of training distances, zero diagonal.
    D_test : ndarray of shape (n_networks, n_networks) or None
        Held-out distances; None when ``Xs_test`` is None.

    Notes
    -----
    With fewer training stimuli than units (after centring, rank below the
    width), the training data leave part of each alignment undetermined: the
    rotation of the directions that no training stimulus spans is arbitrary
    (here, in a single-pair fit and in netrep alike). Training distances are
    unaffected, but held-out distances then depend on that arbitrary choice
    and may differ from a single-pair fit. Reduce such networks first, e.g.
    ``preprocessor=PCA(k)`` with ``k`` below the number of training stimuli.

    See Also
    --------
    embed_distances : 2-D embedding of the distance matrix (MDS).
    cluster_order : An order of the networks that groups similar ones.
    skrep.plotting.plot_distance_matrix : Draw the matrix and its embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import LinearMetric, pairwise_distances
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.standard_normal((50, 10)) for _ in range(4)]
    >>> D, _ = pairwise_distances(LinearMetric(alpha=1.0), Xs)
    >>> D.shape
    (4, 4)
    >>> bool(np.allclose(D, D.T))
    True
    """
    return _pairwise_distances(
        metric,
        Xs,
        Xs_test,
        n_jobs=n_jobs,
        verbose=verbose,
        cache_dir=cache_dir,
        block_size=block_size,
    )


def _pairwise_distances(
    metric,
    Xs,
    Xs_test=None,
    *,
    n_jobs=None,
    verbose=False,
    cache_dir=None,
    block_size=None,
    arg_names=("Xs", "Xs_test"),
    network_names=None,
):
    """:func:`pairwise_distances`, with the names used in error messages.

    ``arg_names`` name the two arguments; ``network_names`` (one per network,
    e.g. file names) replace ``Xs[k]`` when given.
    """
    train_arg, test_arg = arg_names
    _check_metric(metric)
    _check_block_size(block_size)
    Xs = _as_network_list(Xs, train_arg)
    if not Xs:
        raise ValueError(f"{train_arg} holds no networks; expected at least one representation.")
    if Xs_test is not None:
        Xs_test = _as_network_list(Xs_test, test_arg)
        if len(Xs_test) != len(Xs):
            raise ValueError(
                f"{test_arg} holds {len(Xs_test)} networks but {train_arg} holds {len(Xs)}; "
                "expected one held-out array per network, in the same order."
            )
    metric = clone(metric)
    metric._check_params()
    if network_names is None:
        names = [f"{train_arg}[{k}]" for k in range(len(Xs))]
        test_names = [f"{test_arg}[{k}]" for k in range(len(Xs))]
    else:
        names = list(network_names)
        test_names = [f"{name} (held out)" for name in names]
    trains, tests = metric.pairwise_validate(Xs, Xs_test, names, test_names)
    networks = [
        metric.pairwise_prepare(X, Xt, name, test_name)
        for X, Xt, name, test_name in zip(trains, tests, names, test_names, strict=True)
    ]
    metric.pairwise_check(networks, names)

    n_networks = len(networks)
    D_train = np.zeros((n_networks, n_networks))
    D_test = None if Xs_test is None else np.zeros((n_networks, n_networks))
    if n_networks == 1:
        return D_train, D_test

    n_workers = effective_n_jobs(n_jobs)
    budget = int(get_config()["working_memory"] * 2**20)
    size = block_size or metric.pairwise_block_size(networks, budget)
    blocks = _split_blocks(n_networks, size, n_workers, auto=block_size is None)
    tasks = list(_tasks(blocks))
    blas_threads = max(1, joblib_cpu_count() // n_workers) if n_workers > 1 else None

    compute, key = _compute_block, None
    if cache_dir is not None:
        memory = Memory(os.fspath(cache_dir), verbose=0)
        compute = memory.cache(_compute_block, ignore=_IGNORED_IN_CACHE)
        key = _fingerprint(metric, trains, tests, blocks)

    def arguments(task):
        block_a, block_b, pairs = task
        nets_a = [networks[i] for i in block_a]
        nets_b = nets_a if block_a == block_b else [networks[i] for i in block_b]
        return (key, block_a, block_b, metric, nets_a, nets_b, pairs, blas_threads, os.getpid())

    results = []
    pending = tasks
    if cache_dir is not None:
        # Finished blocks are loaded here; only the others go to the workers.
        pending = []
        for task in tasks:
            args = arguments(task)
            if compute.check_call_in_cache(*args):
                results.append(compute(*args))
            else:
                pending.append(task)

    from tqdm.auto import tqdm

    n_pairs = n_networks * (n_networks - 1) // 2
    with tqdm(
        total=n_pairs,
        disable=not verbose,
        desc=f"{type(metric).__name__} distances",
        unit="pair",
    ) as progress:
        progress.update(sum(_n_pairs(r) for r in results))
        with _blas_limit(blas_threads):
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            for result in parallel(delayed(compute)(*arguments(task)) for task in pending):
                results.append(result)
                progress.update(_n_pairs(result))

    layout = {(task[0], task[1]): task[2] for task in tasks}
    for block_a, block_b, train, test in results:
        pairs = layout[(tuple(block_a), tuple(block_b))]
        rows = np.array([block_a[a] for a, _ in pairs])
        cols = np.array([block_b[b] for _, b in pairs])
        D_train[rows, cols] = D_train[cols, rows] = train
        if D_test is not None:
            D_test[rows, cols] = D_test[cols, rows] = test
    return D_train, D_test


def _n_pairs(result):
    return len(result[2])


# -- looking at the result ------------------------------------------------------------------
def check_distance_matrix(D, name="D", *, atol=1e-8):
    """Validate a square, symmetric, finite, non-negative distance matrix.

    Parameters
    ----------
    D : array-like of shape (n, n)
        Distances, e.g. from :func:`pairwise_distances`.
    name : str, default="D"
        Name used in error messages.
    atol : float, default=1e-8
        Tolerance of the symmetry and zero-diagonal checks.

    Returns
    -------
    ndarray of shape (n, n)
        ``D`` as float64, symmetrized exactly.
    """
    D = np.asarray(to_numpy(check_representation(D, name, min_samples=1)), dtype=np.float64)
    if D.shape[0] != D.shape[1]:
        raise ValueError(f"{name} must be a square distance matrix; got shape {D.shape}.")
    if np.any(D < -atol):
        raise ValueError(
            f"{name} has negative entries (smallest {D.min():.3g}); expected distances >= 0."
        )
    asymmetry = np.max(np.abs(D - D.T)) if D.size else 0.0
    if asymmetry > atol * max(1.0, np.max(np.abs(D))):
        raise ValueError(
            f"{name} is not symmetric (largest |D - D.T| is {asymmetry:.3g}); expected a "
            "symmetric distance matrix."
        )
    if np.any(np.abs(np.diag(D)) > atol):
        raise ValueError(
            f"{name} has a non-zero diagonal (largest {np.max(np.abs(np.diag(D))):.3g}); "
            "expected the distance of each network to itself, 0."
        )
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0.0)
    return np.maximum(D, 0.0)


def embed_distances(D, n_components=2, *, n_init=4, max_iter=1000, eps=1e-9, random_state=0):
    """Embed networks in ``n_components`` dimensions so that distances are kept.

    Metric multidimensional scaling (``sklearn.manifold.MDS`` on the
    precomputed distances, SMACOF), as in Williams et al. 2021. With
    scikit-learn 1.8 or later SMACOF starts from classical MDS (Torgerson), so
    distances that are exactly Euclidean in ``n_components`` dimensions are
    recovered; earlier versions start from ``n_init`` random configurations.

    Parameters
    ----------
    D : array-like of shape (n_networks, n_networks)
        Symmetric distance matrix with zero diagonal.
    n_components : int, default=2
        Dimensions of the embedding.
    n_init : int, default=4
        Random initialisations of SMACOF, the best (lowest stress) kept; unused
        when starting from classical MDS.
    max_iter : int, default=1000
        Most SMACOF iterations per run.
    eps : float, default=1e-9
        Convergence tolerance of SMACOF (relative change of the stress).
    random_state : int, RandomState instance or None, default=0
        Seed of the initialisations.

    Returns
    -------
    ndarray of shape (n_networks, n_components)
        Coordinates of the networks.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.multiset import embed_distances
    >>> points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    >>> D = np.linalg.norm(points[:, None] - points[None], axis=-1)
    >>> Y = embed_distances(D)
    >>> bool(np.allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-3))
    True
    """
    from sklearn.manifold import MDS

    D = check_distance_matrix(D)
    if D.shape[0] < 2:
        raise ValueError(f"D has {D.shape[0]} network(s); expected at least 2 to embed.")
    kwargs = {
        "n_components": n_components,
        "n_init": n_init,
        "random_state": random_state,
        "max_iter": max_iter,
        "eps": eps,
    }
    parameters = inspect.signature(MDS).parameters
    if "metric_mds" in parameters:  # scikit-learn >= 1.8: start SMACOF from classical MDS
        kwargs.update(metric="precomputed", metric_mds=True, init="classical_mds", n_init=1)
    else:
        kwargs.update(dissimilarity="precomputed", metric=True)
    if "normalized_stress" in parameters:
        kwargs["normalized_stress"] = False
    return MDS(**kwargs).fit_transform(D)


def cluster_order(D, *, method="average"):
    """Order networks so that similar ones sit together (for plotting the matrix).

    Hierarchical clustering of the distance matrix (``scipy.cluster.hierarchy``)
    with the optimal leaf ordering of Bar-Joseph et al. 2001.

    Parameters
    ----------
    D : array-like of shape (n_networks, n_networks)
        Symmetric distance matrix with zero diagonal.
    method : str, default="average"
        Linkage method (``"average"``, ``"complete"``, ``"single"``, ...;
        ``"ward"`` assumes Euclidean distances).

    Returns
    -------
    ndarray of shape (n_networks,)
        A permutation of ``range(n_networks)``: ``D[order][:, order]`` is the
        reordered matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.multiset import cluster_order
    >>> D = np.array([[0, 9, 1, 9], [9, 0, 9, 1], [1, 9, 0, 9], [9, 1, 9, 0.0]])
    >>> order = cluster_order(D)
    >>> sorted(map(int, order[:2])) in ([0, 2], [1, 3])
    True
    """
    D = check_distance_matrix(D)
    if D.shape[0] < 3:
        return np.arange(D.shape[0])
    tree = linkage(squareform(D, checks=False), method=method, optimal_ordering=True)
    return leaves_list(tree)
