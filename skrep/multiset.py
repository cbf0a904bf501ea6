"""Many networks: pairwise distance matrices, and ways to look at them.

:func:`pairwise_distances` computes the K x K matrices of distances between K
networks under any skrep distance metric, on training data and on held-out
data (it is also a method of every metric). The work is done by the
many-networks engine, :mod:`skrep.engine`: each network is prepared once
(LinearMetric centers and partially whitens it), blocks of pairs come from one
matrix product and a batched SVD (LinearMetric, PermutationMetric) or a fit
per pair (other metrics), tasks run in parallel through joblib (dask
clusters included), and with ``cache_dir`` an interrupted run resumes.

:func:`embed_distances` (MDS), :func:`cluster_order` and
:func:`check_distance_matrix` look at the result.

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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from ._array import to_numpy
from ._deprecation import keyword_only
from ._typing import Array, ArrayLike, RandomState
from ._validation import check_representation, check_tolerance
from .engine import compute_pairs
from .functional._rdm_input import refuse_unsupported
from .metrics._distance_view import as_distance_measure

if TYPE_CHECKING:
    from .metrics import BaseMetric

__all__ = [
    "pairwise_distances",
    "cross_distances",
    "embed_distances",
    "cluster_order",
    "check_distance_matrix",
]

#: The collections of networks these functions take: a sequence, a mapping or a 3-D array.
Networks = Union[Sequence[ArrayLike], Mapping[Any, ArrayLike], Array]  # noqa: UP007 (3.10)


def pairwise_distances(
    metric: BaseMetric,
    Xs: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | Array,
    Xs_test: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | Array | None = None,
    *args: Any,
    n_jobs: int | None = None,
    verbose: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    block_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Distances between all pairs of K networks, on training and held-out data.

    Pair ``(i, j)`` is fitted on ``Xs[i]`` and ``Xs[j]`` and its training
    distance measured on them; with ``Xs_test`` the fitted alignment also gives
    the held-out distance between ``Xs_test[i]`` and ``Xs_test[j]``. Each entry
    equals ``metric.fit(Xs[i], Xs[j]).distance(...)`` (to ~1e-13 in float64),
    but the work that depends on one network is done once per network, and
    for LinearMetric and PermutationMetric the cross-products of a block of
    networks come from one matrix product (see :mod:`skrep.engine`).

    Parameters
    ----------
    metric : skrep distance metric
        E.g. ``LinearMetric(alpha=0.5)``; its parameters (including
        ``preprocessor`` and ``device``) apply to every pair. Not modified.
        A similarity estimator with a metric ``distance``
        (:class:`~skrep.metrics.BuresEstimator`'s Bures angle,
        :class:`~skrep.metrics.CKAEstimator`'s angular CKA) gives that
        distance, one fit per pair.
    Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        One representation per network, rows paired across networks. Widths
        may differ (narrower networks are zero-padded per pair when the metric
        has ``zero_pad=True``). A mapping's values are used in order.
    Xs_test : same kind as ``Xs``, default=None
        Held-out representations of the same networks (same widths), with
        ``n_samples_test`` rows each.
    *args
        Deprecated: ``n_jobs`` and ``verbose`` passed by position (a
        FutureWarning); pass them by keyword.
    n_jobs : int, default=None
        Number of joblib workers: None means 1 unless in a
        ``joblib.parallel_config`` context, -1 all CPUs. The backend (loky
        processes, threads, dask, ...) comes from ``joblib.parallel_config``.
    verbose : bool, default=False
        Show a tqdm progress bar over pairs.
    cache_dir : str or path-like, default=None
        Store each finished block of pairs here; running again with the same
        metric, data and ``block_size`` reads finished blocks back (each
        checked against its key, its place and a checksum) instead of
        recomputing them, so an interrupted run resumes, and runs sharing the
        directory share the work (a block is locked while it is computed).
        See :mod:`skrep.engine.cache`.
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
    With fewer training stimuli than units (after centering, rank below the
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
    options = keyword_only(
        args, ("n_jobs", "verbose"), {"n_jobs": n_jobs, "verbose": verbose}, "pairwise_distances"
    )
    result = compute_pairs(
        as_distance_measure(metric),
        Xs,
        None,
        Xs_test,
        cache_dir=cache_dir,
        block_size=block_size,
        kind="distance",
        **options,
    )
    return result.train, result.test


def cross_distances(
    metric: BaseMetric,
    Xs: Networks,
    Ys: Networks,
    Xs_test: Networks | None = None,
    Ys_test: Networks | None = None,
    *,
    n_jobs: int | None = None,
    verbose: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    block_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Distances between every network of one collection and every network of another.

    The rectangular counterpart of :func:`pairwise_distances` (netrep's
    ``cross_distances``, like ``scipy.spatial.distance.cdist`` beside
    ``pdist``): pair ``(i, j)`` is fitted on ``Xs[i]`` and ``Ys[j]``, and with
    held-out data the fitted alignment also gives the distance between
    ``Xs_test[i]`` and ``Ys_test[j]``. The same engine computes it (each
    network prepared once, blocks of pairs from one Gram product for
    LinearMetric and PermutationMetric, joblib, progress, cache).

    Parameters
    ----------
    metric : skrep distance metric
        E.g. ``LinearMetric(alpha=0.5)``, or a similarity estimator with a
        metric ``distance`` (as in :func:`pairwise_distances`). Not modified.
    Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        The networks of the rows.
    Ys : same kind as ``Xs``
        The networks of the columns, rows paired with those of ``Xs``.
    Xs_test, Ys_test : same kind as ``Xs``, default=None
        Held-out representations of the same networks (both or neither).
    n_jobs : int, default=None
        Number of joblib workers (see :func:`pairwise_distances`).
    verbose : bool, default=False
        Show a tqdm progress bar over pairs.
    cache_dir : str or path-like, default=None
        Store finished blocks here and resume from them.
    block_size : int, default=None
        Networks per block; None sizes blocks from ``working_memory``.

    Returns
    -------
    D_train : ndarray of shape (len(Xs), len(Ys))
        Training distances.
    D_test : ndarray of shape (len(Xs), len(Ys)) or None
        Held-out distances; None without held-out data.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import LinearMetric, cross_distances
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.standard_normal((50, 10)) for _ in range(3)]
    >>> Ys = [rng.standard_normal((50, 8)) for _ in range(2)]
    >>> cross_distances(LinearMetric(), Xs, Ys)[0].shape
    (3, 2)
    """
    result = compute_pairs(
        as_distance_measure(metric),
        Xs,
        Ys,
        Xs_test,
        Ys_test,
        n_jobs=n_jobs,
        verbose=verbose,
        cache_dir=cache_dir,
        block_size=block_size,
        kind="distance",
    )
    return result.train, result.test


# -- looking at the result ------------------------------------------------------------------
def check_distance_matrix(D: ArrayLike, name: str = "D", *, atol: float = 1e-8) -> np.ndarray:
    """Validate a square, symmetric, finite, non-negative distance matrix.

    Parameters
    ----------
    D : array-like of shape (n, n)
        Distances, e.g. from :func:`pairwise_distances`.
    name : str, default="D"
        Name used in error messages.
    atol : float, default=1e-8
        Tolerance of the symmetry and zero-diagonal checks: a finite number
        >= 0.

    Returns
    -------
    ndarray of shape (n, n)
        ``D`` as float64, symmetrized exactly.
    """
    check_tolerance(atol, "atol", "check_distance_matrix")
    refuse_unsupported(D, name, "a square distance matrix of shape (n, n)")
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
    D = D + (D.T - D) / 2  # the mean of D and D.T, without overflow at 1e308
    np.fill_diagonal(D, 0.0)
    return np.maximum(D, 0.0)


def embed_distances(
    D: ArrayLike,
    n_components: int = 2,
    *,
    n_init: int = 4,
    max_iter: int = 1000,
    eps: float = 1e-9,
    random_state: RandomState = None,
) -> np.ndarray:
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
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisations (scikit-learn before 1.8); pass an
        int for a reproducible embedding there. From 1.8 on the start is
        classical MDS and the result does not depend on it.

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
    # MDS is scale-equivariant; its stress (squared distances) overflows near
    # 1e154 and underflows near 1e-154: embed at unit scale, scale back exactly.
    D, scale = _at_unit_scale(D)
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
    return MDS(**kwargs).fit_transform(D) * scale


def _at_unit_scale(D: np.ndarray) -> tuple[np.ndarray, float]:
    """``(D / s, s)`` for the power of two ``s`` with ``max|D| / s`` in ``[0.5, 1)``.

    Dividing by a power of two is exact: only the exponents change. Beyond
    2**1023, ``s`` is 2**1023 (2**1024 is not a float) and ``max|D| / s`` in
    ``[1, 2)``.
    """
    largest = float(np.max(np.abs(D), initial=0.0))
    if not (largest > 0.0 and np.isfinite(largest)):
        return D, 1.0
    # skrep.functional._extreme_scales.power_of_two_above, which this layer cannot import
    scale = math.ldexp(1.0, min(math.frexp(largest)[1], 1023))
    return D / scale, scale


def cluster_order(D: ArrayLike, *, method: str = "average") -> np.ndarray:
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
    # The tree and its leaf order depend on D only up to scale, but scipy's
    # optimal ordering loses ties and digits far from 1: order D at unit scale.
    D, _ = _at_unit_scale(D)
    tree = linkage(squareform(D, checks=False), method=method, optimal_ordering=True)
    return leaves_list(tree)
