"""netrep's stochastic metrics, Gaussian and energy (re-exported by :mod:`skrep.compat.netrep`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._typing import Array, ArrayLike, RandomState
from ..metrics import stochastic as _stochastic
from ..metrics.stochastic_base import is_moments_tuple
from ._netrep_conventions import _NetrepConventions

__all__ = ["GaussianStochasticMetric", "EnergyStochasticMetric"]


class _NetrepStochastic(_NetrepConventions):
    """netrep's stochastic metrics: ``niter``, attributes without ``_``."""

    zero_pad = True  # netrep asserts equal shapes; narrower networks are zero-padded here
    covariance_estimator = None

    @property
    def max_iter(self) -> int:
        """The iterations: netrep's ``niter`` under skrep's name (read by the shared code)."""
        return self.niter

    @property
    def loss_hist(self) -> list[float]:
        """The loss after each iteration (netrep's ``loss_hist``)."""
        check_is_fitted(self)
        return self.loss_history_


class GaussianStochasticMetric(_NetrepStochastic, _stochastic.GaussianStochasticMetric):
    """Gaussian stochastic metric with netrep's signature and sign (``score`` = distance).

    The fit minimises the scored objective (netrep's differs when alpha is not
    0, 1 or 2), singular covariances work, and ``tol`` is relative (the fit
    stops when it predicts or makes a gain below ``tol`` times the squared
    distance; see
    :func:`skrep.functional.stochastic.fit_gaussian_alignment`). ``score`` is
    never negative (netrep returns ``sign(d2) sqrt(|d2|)``). See
    :class:`skrep.metrics.GaussianStochasticMetric`.

    Parameters
    ----------
    alpha : float in [0, 2], default=1.0
        Weight of the means; ``2 - alpha`` weighs the covariances.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched.
    init : {"means", "rand"}, default="means"
        First start of the fit.
    niter : int, default=1000
        Iterations per start.
    tol : float, default=1e-8
        Relative stopping tolerance.
    random_state : int, RandomState instance or None, default=None
        Seed of the random starts.
    n_restarts : int, default=1
        Number of starts.

    Attributes
    ----------
    T : ndarray of shape (n_features, n_features)
        The alignment (``means_Y @ T``), netrep's attribute; also ``T_``.
    loss_hist : list of float
        Squared distance after each iteration.
    """

    def __init__(
        self,
        alpha: float = 1.0,
        group: str = "orth",
        init: str = "means",
        niter: int = 1000,
        tol: float = 1e-8,
        random_state: RandomState = None,
        n_restarts: int = 1,
    ):
        self.alpha = alpha
        self.group = group
        self.init = init
        self.niter = niter
        self.tol = tol
        self.random_state = random_state
        self.n_restarts = n_restarts

    @property
    def T(self) -> Array:
        """The fitted alignment (netrep's attribute name)."""
        check_is_fitted(self)
        return self.T_

    def pairwise_distances(
        self,
        train_data: Sequence[tuple[ArrayLike, ArrayLike] | ArrayLike],
        test_data: Sequence[tuple[ArrayLike, ArrayLike] | ArrayLike] | None = None,
        eps: float = 1e-6,
        processes: int | None = None,
        verbose: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances between all pairs of networks, as netrep computes them.

        Parameters
        ----------
        train_data : list of (means, covariances) tuples
            One network per entry; arrays of responses are accepted too.
        test_data : list, default=None
            Held-out data of the same networks.
        eps : float, default=1e-6
            Added to the diagonal of every covariance (netrep's regularisation;
            skrep does not need it, ``eps=0`` works with singular covariances).
        processes : int, default=None
            Number of worker processes; None uses all CPUs when the job is
            long enough for a pool to pay, as in ``LinearMetric.pairwise_distances``.
        verbose : bool, default=True
            Print the number of distances and show a progress bar.

        Returns
        -------
        D_train : ndarray of shape (n_networks, n_networks)
            Symmetric training distances, zero diagonal.
        D_test : ndarray of shape (n_networks, n_networks)
            Held-out distances; ``inf`` off the diagonal when ``test_data`` is None.
        """

        def regularised(networks: list[Any] | None) -> list[Any] | None:
            if networks is None or not eps:
                return networks
            out = []
            for network in networks:
                if is_moments_tuple(network):
                    means, covariances = (np.asarray(a, dtype=float) for a in network)
                    network = (means, covariances + eps * np.eye(covariances.shape[-1]))
                out.append(network)
            return out

        return super().pairwise_distances(
            regularised(list(train_data)),
            regularised(None if test_data is None else list(test_data)),
            processes=processes,
            verbose=verbose,
        )


class EnergyStochasticMetric(_NetrepStochastic, _stochastic.EnergyStochasticMetric):
    """Energy stochastic metric with netrep's signature and sign (``score`` = distance).

    Same numbers as netrep, without materialising every pair of repeats. See
    :class:`skrep.metrics.EnergyStochasticMetric`.

    Parameters
    ----------
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched.
    niter : int, default=100
        Reweighting iterations.
    tol : float, default=1e-6
        Stop when the mean residual falls by less than ``tol``.

    Attributes
    ----------
    Q : ndarray of shape (n_features, n_features)
        The alignment (``Y @ Q``), netrep's attribute; also ``Q_``.
    w : ndarray of shape (n_classes * n_repeats_x * n_repeats_y,)
        Final weights of every pair of repeats, in netrep's order.
    loss_hist : list of float
        Mean residual before fitting and after each iteration.
    """

    def __init__(self, group: str = "orth", niter: int = 100, tol: float = 1e-6):
        self.group = group
        self.niter = niter
        self.tol = tol

    @property
    def Q(self) -> Array:
        """The fitted alignment (netrep's attribute name)."""
        check_is_fitted(self)
        return self.Q_

    @property
    def w(self) -> np.ndarray:
        """Final pair weights, flattened in netrep's order (class, repeat of X, repeat of Y)."""
        check_is_fitted(self)
        return np.reshape(np.asarray(self.weights_), (-1,))
