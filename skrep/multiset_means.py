"""The average of many networks: the Procrustes barycentre, and the tangent space at it.

:func:`frechet_mean` finds the representation nearest, on average, to K
networks once each is aligned to it (rotations, permutations or none), and
:func:`euclidean_tangent_space` expresses every network as its residual
around that mean: K points of an ordinary Euclidean space, which PCA,
clustering or regression from scikit-learn take as they are. The math lives
in :mod:`skrep.functional.barycenter`.
"""

from __future__ import annotations

import numbers

from sklearn.utils import check_random_state

from ._typing import Array, ArrayLike, Device, RandomState
from .engine.networks import network_like, stacked_networks
from .exceptions import InvalidParameterError
from .functional.barycenter import (
    BARYCENTER_GROUPS,
    procrustes_barycenter,
    root_mean_square,
    tangent_vectors,
)
from .multiset import Networks

__all__ = ["frechet_mean", "euclidean_tangent_space"]

BARYCENTER_METHODS = ("streaming", "full_batch")
#: The streaming passes' tolerance, relative to the root-mean-square of the data.
STREAMING_TOL = 1e-3


def _check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if not (isinstance(value, str) and value in choices):
        raise InvalidParameterError(
            f"The {name!r} parameter must be one of {list(choices)}; got {value!r}."
        )
    return value


def frechet_mean(
    Xs: Networks,
    group: str = "orth",
    *,
    method: str = "streaming",
    random_state: RandomState = None,
    tol: float = 1e-6,
    max_iter: int = 100,
    warmstart: ArrayLike | None = None,
    return_aligned: bool = False,
    device: Device = None,
) -> Array | tuple[Array, Array]:
    """The Procrustes barycentre (Frechet mean) of networks of the same stimuli.

    The mean ``M`` minimizes the mean squared distance of the networks to it,
    each aligned by its best map in ``group``:
    ``(1 / K) sum_k min_T |X_k T - M|_F^2`` (netrep's ``frechet_mean``). The
    inputs are never modified.

    Parameters
    ----------
    Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        The networks, rows paired across them. Narrower networks are
        zero-padded to the widest (which does not change their geometry).
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments: rotations and reflections, permutations of the units, or
        none (the mean is then the plain average).
    method : {"streaming", "full_batch"}, default="streaming"
        netrep's two algorithms. "streaming" moves a running average towards
        each network in a random order (the same steps as netrep for the
        same ``random_state``), then polishes it with full-batch iterations;
        "full_batch" aligns all networks to the current mean and averages
        them until the mean settles. Every full-batch step lowers the
        objective, so "streaming" never ends above netrep's streaming result.
    random_state : None, int or numpy.random.RandomState, default=None
        Chooses the starting network and the streaming order. None is a fixed
        seed (0), so calls repeat; the global random state is never used.
    tol : float, default=1e-6
        Stop the full-batch iterations when the root-mean-square change of
        the mean is below ``tol`` times the root-mean-square of the data, or
        when the objective stops decreasing. The streaming passes stop at
        1e-3 times it (netrep's default tolerance, relative to the data):
        their steps shrink as ``1 / visits``, and the full-batch iterations
        that follow converge much faster.
    max_iter : int, default=100
        Most passes over the networks in each phase.
    warmstart : array-like of shape (n_samples, n_features), default=None
        Starting mean instead of a network.
    return_aligned : bool, default=False
        Also return the networks aligned to the mean.
    device : None, str or torch.device, default=None
        Where to compute (torch); None where the first network is.

    Returns
    -------
    mean : array of shape (n_samples, n_features)
        The barycentre, ``n_features`` the widest network's width.
    aligned : array of shape (n_networks, n_samples, n_features)
        Returned with ``return_aligned=True``: ``X_k @ T_k``.

    See Also
    --------
    euclidean_tangent_space : The networks as residuals around the mean.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skrep import frechet_mean
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((30, 4))
    >>> Xs = [base @ ortho_group.rvs(4, random_state=k) for k in range(5)]
    >>> mean, aligned = frechet_mean(Xs, return_aligned=True)
    >>> bool(np.allclose(aligned, aligned[0]))  # rotated copies: all aligned onto one
    True
    """
    group = _check_choice(group, "group", BARYCENTER_GROUPS)
    method = _check_choice(method, "method", BARYCENTER_METHODS)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise InvalidParameterError(f"The 'tol' parameter must be a number >= 0; got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise InvalidParameterError(
            f"The 'max_iter' parameter must be an int >= 1; got {max_iter!r}."
        )
    stack = stacked_networks(Xs, device=device)
    start = None if warmstart is None else network_like(warmstart, "warmstart", stack)
    rms = root_mean_square(stack)
    result = procrustes_barycenter(
        stack,
        group,
        method=method,
        rng=check_random_state(0 if random_state is None else random_state),
        tol=float(tol) * rms,
        max_iter=int(max_iter),
        warmstart=start,
        streaming_tol=STREAMING_TOL * rms,
    )
    if return_aligned:
        return result.mean, stack @ result.alignments
    return result.mean


def euclidean_tangent_space(Xs: Networks, mean: ArrayLike, group: str = "orth") -> Array:
    """The networks as residuals around a mean: a Euclidean embedding for ordinary tools.

    Each network is aligned to ``mean`` by its best map in ``group`` and
    replaced by ``mean - X_k T_k`` (netrep's ``euclidean_tangent_space``).
    Around the barycentre these residuals approximate the Procrustes
    geometry of the networks, so flattened to one row per network they can
    go to :class:`sklearn.decomposition.PCA`, clustering or regression.

    Parameters
    ----------
    Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        The networks (zero-padded to the widest, as in :func:`frechet_mean`).
    mean : array-like of shape (n_samples, n_features)
        The reference point, usually ``frechet_mean(Xs, group)``.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments allowed.

    Returns
    -------
    array of shape (n_networks, n_samples, n_features)
        The residuals; ``.reshape(len(Xs), -1)`` gives one row per network.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skrep import euclidean_tangent_space, frechet_mean
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.standard_normal((20, 3)) for _ in range(6)]
    >>> tangent = euclidean_tangent_space(Xs, frechet_mean(Xs))
    >>> PCA(2).fit_transform(tangent.reshape(len(Xs), -1)).shape
    (6, 2)
    """
    group = _check_choice(group, "group", BARYCENTER_GROUPS)
    stack = stacked_networks(Xs)
    return tangent_vectors(stack, network_like(mean, "mean", stack), group)
