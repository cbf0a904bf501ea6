"""netrep's many-network functions (``netrep.multiset``), re-exported by :mod:`skrep.compat.netrep`.

The distances come from skrep's many-networks engine (:mod:`skrep.engine`,
the engine of :func:`skrep.pairwise_distances` and
:func:`skrep.cross_distances`), the means from
:func:`skrep.functional.barycenter.procrustes_barycenter` (the math of
:func:`skrep.frechet_mean`), with netrep's signatures and return values.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .._typing import Array, ArrayLike, RandomState
from ..engine import EstimatorMeasure, compute_pairs, network_like, stacked_networks
from ..exceptions import InvalidParameterError
from ..functional.barycenter import BARYCENTER_GROUPS, procrustes_barycenter, tangent_vectors

__all__ = ["pairwise_distances", "cross_distances", "frechet_mean", "euclidean_tangent_space"]

#: netrep's two barycentre algorithms.
METHODS = ("streaming", "full_batch")


class _NetrepStyleMetric(EstimatorMeasure):
    """Any object with netrep's ``fit(X, Y)`` and ``score(X, Y) -> distance``, for the engine.

    Each pair is scored by a deep copy of the metric (``fit`` may return None,
    as netrep's ``LinearCKA.fit`` does); pairs are symmetric and the diagonal
    is zero, as in netrep's loop.
    """

    pairwise_kind = "distance"
    pairwise_symmetric = True

    def pairwise_block(
        self, nets_a: Sequence, nets_b: Sequence, pairs: Sequence, *, same_block: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The metric's ``score`` on each pair, fitted on the pair's training data.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and into ``nets_b`` of each pair.
        same_block : bool
            Unused.

        Returns
        -------
        train, test : ndarray or None
            The distances on the training and held-out data.
        """
        has_test = bool(nets_a) and nets_a[0].test is not None
        train, test = np.zeros(len(pairs)), np.zeros(len(pairs))
        for k, (a, b) in enumerate(pairs):
            metric = copy.deepcopy(self.estimator)
            metric.fit(nets_a[a].train, nets_b[b].train)
            train[k] = float(metric.score(nets_a[a].train, nets_b[b].train))
            if has_test:
                test[k] = float(metric.score(nets_a[a].test, nets_b[b].test))
        return train, (test if has_test else None)


def _as_measure(metric: Any) -> Any:
    """A skrep distance metric as it is; any other netrep-style metric wrapped for the engine."""
    if isinstance(metric, type):
        raise InvalidParameterError(
            f"metric must be an instance; got the class {metric.__name__} "
            f"(use {metric.__name__}())."
        )
    kind = getattr(metric, "pairwise_kind", None)
    if kind == "distance" and callable(getattr(metric, "pairwise_block", None)):
        return metric
    if kind is not None:
        raise InvalidParameterError(
            f"metric must be a distance metric; got {metric!r}, whose score is a "
            f"{kind} (use e.g. skrep.compat.netrep.LinearCKA for CKA as a distance)."
        )
    if not (callable(getattr(metric, "fit", None)) and callable(getattr(metric, "score", None))):
        raise InvalidParameterError(
            f"metric must have fit(X, Y) and score(X, Y) methods, as netrep's metrics do; "
            f"got {metric!r} of type {type(metric).__name__}."
        )
    return _NetrepStyleMetric(metric)


def _check_verbose(verbose: object) -> bool:
    if not isinstance(verbose, (bool, np.bool_)):
        raise InvalidParameterError(f"The 'verbose' parameter must be a bool; got {verbose!r}.")
    return bool(verbose)


def pairwise_distances(
    metric: Any,
    traindata: Sequence[ArrayLike],
    testdata: Sequence[ArrayLike] | None = None,
    verbose: bool = True,
    enable_caching: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Distances between all pairs of networks (netrep's ``netrep.multiset.pairwise_distances``).

    Pair ``(i, j)`` is fitted on ``traindata[i]`` and ``traindata[j]`` and
    scored on them and, with ``testdata``, on ``testdata[i]`` and
    ``testdata[j]``. Computed by skrep's engine (each network prepared once,
    blocks of pairs for LinearMetric and PermutationMetric; see
    :func:`skrep.pairwise_distances`), serially unless a
    ``joblib.parallel_config`` asks for workers.

    Parameters
    ----------
    metric : metric
        A distance metric of :mod:`skrep.compat.netrep` or :mod:`skrep.metrics`
        (their distances are used; the values are netrep's ``score``), or
        any object with netrep's ``fit(X, Y)`` and ``score(X, Y)`` returning
        a distance (fitted on a copy per pair). Not modified.
    traindata : list of K arrays of shape (n_samples, n_features_k)
        One representation per network, rows paired across networks.
    testdata : list of K arrays of shape (n_samples_test, n_features_k), default=None
        Held-out representations of the same networks.
    verbose : bool, default=True
        Show a progress bar over pairs.
    enable_caching : bool, default=False
        Accepted for netrep's signature; skrep's engine always prepares each
        network once (netrep's caching), with the same numbers.

    Returns
    -------
    train_dists : ndarray of shape (K, K)
        Symmetric training distances, zero diagonal.
    test_dists : ndarray of shape (K, K)
        Held-out distances; returned (as ``(train_dists, test_dists)``) only
        when ``testdata`` is given, as in netrep.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.compat.netrep import LinearMetric, pairwise_distances
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.standard_normal((40, 5)) for _ in range(3)]
    >>> pairwise_distances(LinearMetric(), Xs, verbose=False).shape
    (3, 3)
    """
    measure = _as_measure(metric)
    _check_verbose(verbose)
    _check_verbose(enable_caching)  # a bool as well, though it changes nothing
    result = compute_pairs(
        measure,
        traindata,
        None,
        testdata,
        verbose=bool(verbose),
        arg_names=("traindata", "Ys", "testdata", "Ys_test"),
        kind="distance",
    )
    return result.train if testdata is None else (result.train, result.test)


def cross_distances(
    metric: Any,
    Xs: Sequence[ArrayLike],
    Ys: Sequence[ArrayLike],
    Xs_test: Sequence[ArrayLike] | None = None,
    Ys_test: Sequence[ArrayLike] | None = None,
    verbose: bool = True,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Distances between every network of ``Xs`` and every one of ``Ys`` (netrep's function).

    Pair ``(i, j)`` is fitted on ``Xs[i]`` and ``Ys[j]`` and scored on them
    and, with held-out data, on ``Xs_test[i]`` and ``Ys_test[j]``. Computed by
    skrep's engine, as :func:`skrep.cross_distances`.

    Parameters
    ----------
    metric : metric
        As in :func:`pairwise_distances`. Not modified.
    Xs : list of Nx arrays of shape (n_samples, n_features_i)
        The networks of the rows.
    Ys : list of Ny arrays of shape (n_samples, n_features_j)
        The networks of the columns, rows paired with those of ``Xs``.
    Xs_test, Ys_test : lists of arrays of shape (n_samples_test, n_features), default=None
        Held-out data of the same networks (both or neither; one alone raises).
    verbose : bool, default=True
        Show a progress bar over pairs.

    Returns
    -------
    train_dists : ndarray of shape (Nx, Ny)
        Training distances.
    test_dists : ndarray of shape (Nx, Ny)
        Held-out distances; returned (as ``(train_dists, test_dists)``) only
        with held-out data, as in netrep.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.compat.netrep import LinearMetric, cross_distances
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.standard_normal((40, 5)) for _ in range(3)]
    >>> Ys = [rng.standard_normal((40, 4)) for _ in range(2)]
    >>> cross_distances(LinearMetric(), Xs, Ys, verbose=False).shape
    (3, 2)
    """
    measure = _as_measure(metric)
    _check_verbose(verbose)
    result = compute_pairs(
        measure, Xs, Ys, Xs_test, Ys_test, verbose=bool(verbose), kind="distance"
    )
    return result.train if Xs_test is None else (result.train, result.test)


def _check_group(group: object) -> str:
    if not (isinstance(group, str) and group in BARYCENTER_GROUPS):
        raise InvalidParameterError(
            f"The 'group' parameter must be one of {list(BARYCENTER_GROUPS)}; got {group!r}."
        )
    return group


def frechet_mean(
    Xs: Sequence[ArrayLike],
    group: str = "orth",
    random_state: RandomState = None,
    tol: float = 1e-3,
    max_iter: int = 100,
    warmstart: ArrayLike | None = None,
    verbose: bool = False,
    method: str = "streaming",
    return_aligned_Xs: bool = False,
) -> Array | tuple[Array, list[Array]]:
    """The Procrustes barycentre of networks (netrep's ``netrep.multiset.frechet_mean``).

    The mean ``M`` minimizes ``(1 / K) sum_k min_T ||X_k T - M||_F^2`` over
    alignments ``T`` in ``group``. "streaming" takes netrep's steps (the same
    random draws for the same ``random_state``) and then full-batch
    iterations, which only lower that objective; see
    :func:`skrep.frechet_mean` (whose ``tol`` is relative to the data).
    The inputs are never modified.

    Parameters
    ----------
    Xs : list of K arrays of shape (n_samples, n_features_k)
        The networks, rows paired; narrower ones are zero-padded.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments allowed ("identity": the plain average).
    random_state : None, int or numpy.random.RandomState, default=None
        The starting network and streaming order. None is a fixed seed (0),
        so calls repeat; netrep uses the global random state there, skrep
        never does.
    tol : float, default=1e-3
        Stop when the root-mean-square change of the mean over a pass is at
        most ``tol``, in the units of the data (netrep's rule), for the
        streaming passes and the full-batch iterations alike.
    max_iter : int, default=100
        Most passes of each phase.
    warmstart : array-like of shape (n_samples, n_features), default=None
        Starting mean instead of a network.
    verbose : bool, default=False
        Print the passes made and the final objective.
    method : {"streaming", "full_batch"}, default="streaming"
        netrep's two algorithms.
    return_aligned_Xs : bool, default=False
        Also return the networks aligned to the mean.

    Returns
    -------
    Xbar : ndarray of shape (n_samples, n_features)
        The barycentre.
    aligned_Xs : list of K ndarrays of shape (n_samples, n_features)
        ``X_k @ T_k``; returned (as ``(Xbar, aligned_Xs)``) only with
        ``return_aligned_Xs=True``, as in netrep.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skrep.compat.netrep import frechet_mean
    >>> base = np.random.default_rng(0).standard_normal((30, 4))
    >>> Xs = [base @ ortho_group.rvs(4, random_state=k) for k in range(4)]
    >>> Xbar, aligned = frechet_mean(Xs, return_aligned_Xs=True)
    >>> bool(np.allclose(aligned[1], aligned[0]))
    True
    """
    group = _check_group(group)
    if not (isinstance(method, str) and method in METHODS):
        raise InvalidParameterError(
            f"The 'method' parameter must be one of {list(METHODS)}; got {method!r}."
        )
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise InvalidParameterError(f"The 'tol' parameter must be a number >= 0; got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise InvalidParameterError(
            f"The 'max_iter' parameter must be an int >= 1; got {max_iter!r}."
        )
    verbose = _check_verbose(verbose)
    stack = stacked_networks(Xs)
    start = None if warmstart is None else network_like(warmstart, "warmstart", stack)
    result = procrustes_barycenter(
        stack,
        group,
        method=method,
        rng=check_random_state(0 if random_state is None else random_state),
        tol=float(tol),
        max_iter=int(max_iter),
        warmstart=start,
        streaming_tol=float(tol),
    )
    if verbose:
        print(f"Frechet mean: {result.n_iter} passes, objective {result.objective:.6g}.")
    if not return_aligned_Xs:
        return result.mean
    aligned = stack @ result.alignments
    return result.mean, [aligned[k] for k in range(aligned.shape[0])]


def euclidean_tangent_space(Xs: Sequence[ArrayLike], Xbar: ArrayLike, group: str = "orth") -> Array:
    """The networks as residuals around ``Xbar`` (netrep's ``euclidean_tangent_space``).

    Each network is aligned to ``Xbar`` by its best map in ``group`` and
    replaced by ``Xbar - X_k T_k``; see :func:`skrep.euclidean_tangent_space`.

    Parameters
    ----------
    Xs : list of K arrays of shape (n_samples, n_features_k)
        The networks (zero-padded to the widest).
    Xbar : array-like of shape (n_samples, n_features)
        The reference point, usually ``frechet_mean(Xs, group)``.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments allowed.

    Returns
    -------
    ndarray of shape (K, n_samples, n_features)
        The residuals.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.compat.netrep import euclidean_tangent_space, frechet_mean
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.standard_normal((20, 3)) for _ in range(5)]
    >>> euclidean_tangent_space(Xs, frechet_mean(Xs)).shape
    (5, 20, 3)
    """
    group = _check_group(group)
    stack = stacked_networks(Xs)
    return tangent_vectors(stack, network_like(Xbar, "Xbar", stack), group)
