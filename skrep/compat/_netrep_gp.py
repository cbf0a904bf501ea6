"""netrep's ``GPStochasticMetric`` (``netrep.metrics.stochastic_process``), for the drop-in."""

from __future__ import annotations

import numbers

import numpy as np

from .._typing import RandomState
from ..exceptions import InvalidParameterError
from ..metrics.gp_stochastic import GPStochasticMetric as _NativeGP

__all__ = ["GPStochasticMetric"]


class GPStochasticMetric(_NativeGP):
    """2-Wasserstein distance between Gaussian processes (netrep's signature and sign).

    netrep's ``GPStochasticMetric``: ``fit`` and ``score`` take ``(means,
    covariance)`` tuples, means of length ``n_times * n_dims`` and a square
    covariance in the same order; ``score`` returns the distance. The fit is
    :class:`skrep.metrics.GPStochasticMetric`'s, whose distance is never above
    netrep's; unlike netrep, ``group="perm"`` works (netrep's fails there) and
    invalid parameters raise in ``fit``.

    Parameters
    ----------
    n_dims : int
        Units per time point.
    alpha : float in [0, 2], default=1.0
        Weight of the means; ``2 - alpha`` weighs the covariances.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched.
    init : {"means", "rand"}, default="means"
        Start of the fit.
    niter : int, default=1000
        Steps per start.
    tol : float, default=1e-8
        A start stops when a step lowers the squared distance by less than
        this fraction of it (netrep's tolerance is absolute, on its own loss).
    random_state : int, RandomState or None, default=None
        Seed of the random starts.
    n_restarts : int, default=1
        Starts of the fit.

    Attributes
    ----------
    T : ndarray of shape (n_dims, n_dims)
        The alignment (netrep's name; also ``T_``).
    loss_hist : list of float
        Squared distance after each step (netrep's name).
    """

    def __init__(
        self,
        n_dims: int,
        alpha: float = 1.0,
        group: str = "orth",
        init: str = "means",
        niter: int = 1000,
        tol: float = 1e-8,
        random_state: RandomState = None,
        n_restarts: int = 1,
    ):
        self.n_dims = n_dims
        self.alpha = alpha
        self.group = group
        self.init = init
        self.niter = niter
        self.tol = tol
        self.random_state = random_state
        self.n_restarts = n_restarts

    @property
    def max_iter(self) -> int:
        """Steps per start (netrep's ``niter``)."""
        return self.niter

    def fit(self, X: tuple, Y: tuple) -> GPStochasticMetric:
        """Fit the alignment of Y's process to X's.

        Parameters
        ----------
        X, Y : tuple of (means, covariance)
            Means of shape (n_times * n_dims,), covariance (n_times * n_dims) square.

        Returns
        -------
        self : GPStochasticMetric
            The fitted metric.
        """
        if isinstance(self.n_dims, bool) or not isinstance(self.n_dims, numbers.Integral):
            raise InvalidParameterError(
                f"The 'n_dims' parameter of GPStochasticMetric must be an int >= 1; "
                f"got {self.n_dims!r}."
            )
        super().fit(X, Y)
        self.T, self.loss_hist = self.T_, self.loss_history_
        return self

    def score(self, X: tuple, Y: tuple) -> float:
        """Distance between the aligned processes (netrep's sign: lower is more similar).

        Parameters
        ----------
        X, Y : tuple of (means, covariance)
            As in :meth:`fit`.

        Returns
        -------
        float
            The distance.
        """
        return self.distance(X, Y)

    def fit_score(self, X: tuple, Y: tuple) -> float:
        """Fit, then return the training distance (netrep's ``fit_score``).

        Parameters
        ----------
        X, Y : tuple of (means, covariance)
            As in :meth:`fit`.

        Returns
        -------
        float
            The distance.
        """
        return self.fit(X, Y).score(X, Y)

    def transform(self, X: tuple, Y: tuple) -> tuple[tuple, tuple]:
        """X unchanged and Y's process aligned to it (netrep's ``transform``).

        Parameters
        ----------
        X, Y : tuple of (means, covariance)
            As in :meth:`fit`.

        Returns
        -------
        X : tuple
            As given.
        Y_transformed : tuple of (means, covariance)
            ``(means_Y @ T).ravel()`` per time point and ``T_full' cov_Y T_full``.
        """
        means, covariance = (np.asarray(A, dtype=np.float64) for A in Y)
        n_times = means.size // self.T.shape[0]
        T_full = np.kron(np.eye(n_times), self.T)
        aligned = (means.reshape(n_times, -1) @ self.T).ravel()
        return X, (aligned, T_full.T @ covariance @ T_full)

    def pairwise_distances(
        self,
        train_data: list,
        test_data: list | None = None,
        eps: float = 1e-6,
        processes: int | None = None,
        verbose: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances between every pair of processes (netrep's method, computed serially).

        Parameters
        ----------
        train_data : list of tuple
            ``(means, covariance)`` of every network.
        test_data : list of tuple or None, default=None
            Held-out processes of the same networks; None gives a test matrix of inf.
        eps : float, default=1e-6
            Added to the covariances' diagonals, as netrep does.
        processes : int or None, default=None
            Kept for netrep's signature: the pairs run in this process, each
            network's process prepared once.
        verbose : bool, default=True
            Kept for netrep's signature; nothing is printed.

        Returns
        -------
        D_train, D_test : ndarray of shape (n_networks, n_networks)
            Training and held-out distances (inf off the diagonal without
            held-out data, as netrep).
        """

        def regularized(data: tuple) -> tuple:
            means, covariance = (np.asarray(A, dtype=np.float64) for A in data)
            return means, covariance + eps * np.eye(covariance.shape[0])

        # The engine prepares each network's process once (not once per pair).
        D_train, D_test = super().pairwise_distances(
            [regularized(data) for data in train_data],
            None if test_data is None else list(test_data),
        )
        if D_test is None:  # netrep's matrix without held-out data
            D_test = np.where(np.eye(len(train_data), dtype=bool), 0.0, np.inf)
        return D_train, D_test
