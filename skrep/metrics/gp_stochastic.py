"""The stochastic-process shape metric as an estimator (netrep's ``GPStochasticMetric``)."""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._typing import ArrayLike, RandomState
from .._validation import check_finite, check_real_array
from ..engine import PairwiseMeasure, PreparedData, compute_pairs
from ..exceptions import InvalidParameterError
from ..functional.class_moments import class_statistics
from ..functional.gp_stochastic import (
    GPStatistics,
    fit_gp_alignment,
    fit_gp_alignments,
    gp_sq_distance,
    gp_statistics,
)
from ._keyword_y import KeywordYMixin

__all__ = ["GPStochasticMetric"]

_EXPECTED = (
    "responses of shape (n_trials, n_times, n_units), or a (means, covariance) tuple with "
    "means of shape (n_times * n_units,) or (n_times, n_units) and a square covariance"
)


class GPStochasticMetric(KeywordYMixin, BaseEstimator, PairwiseMeasure):
    """Distance between networks whose responses over time are Gaussian processes.

    A network's responses over ``n_times`` time points of ``n_units`` units
    are one Gaussian: a mean of length ``n_times * n_units`` and a covariance
    across time and units. One alignment ``T`` of the units is applied at every
    time point, and the squared distance is::

        alpha |mX - mY T|^2 + (2 - alpha) Bures^2(SX, T_full' SY T_full)

    with ``T_full`` the alignment applied to every time block (netrep's
    ``GPStochasticMetric``; ``alpha = 1`` is the 2-Wasserstein distance between
    the processes, ``alpha = 2`` compares the mean trajectories only,
    ``alpha = 0`` the covariances only). The fit takes netrep's steps from
    netrep's start and then minimises the scored objective itself, so the
    distance is never above netrep's; it is never negative, symmetric, and 0
    for a network and itself, and rank-deficient covariances are fine.

    .. important:: ``score`` returns the *negative* distance (higher is
       better); :meth:`distance` returns the distance, netrep's ``score``.

    Parameters
    ----------
    alpha : float in [0, 2], default=1.0
        Weight of the means; ``2 - alpha`` weighs the covariances.
    n_dims : int or None, default=None
        Units per time point, needed only for a ``(means, covariance)`` tuple
        with flat means (netrep's input); None reads it from the data.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched: rotations and reflections, permutations of
        units, or none.
    init : {"means", "rand"}, default="means"
        Start from netrep's start (see
        :func:`~skrep.functional.gp_stochastic.fit_gp_alignment`), or from random
        group elements only.
    n_restarts : int, default=1
        One more than the random starts added (``"means"``), or the number of
        random starts (``"rand"``).
    max_iter : int, default=1000
        Steps per start.
    tol : float, default=1e-10
        Relative gain per step below which a start stops.
    random_state : int, RandomState or None, default=None
        Seed of the random starts.

    Attributes
    ----------
    T_ : ndarray of shape (n_units, n_units)
        The alignment: Y's responses at each time point are aligned as ``y @ T_``.
    n_dims_ : int
        Units per time point.
    loss_history_ : list of float
        Squared distance after each step of the winning start.
    n_iter_ : int
        Steps of the winning start.

    See Also
    --------
    GaussianStochasticMetric : Independent Gaussians per stimulus class.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import GPStochasticMetric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 5, 3))  # 40 trials x 5 time points x 3 units
    >>> rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    >>> metric = GPStochasticMetric().fit(X, X @ rotation)
    >>> round(metric.distance(X, X @ rotation), 8)
    0.0
    """

    pairwise_kind = "distance"
    pairwise_symmetric = True  # the pair is fitted in one canonical order

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        n_dims: int | None = None,
        group: str = "orth",
        init: str = "means",
        n_restarts: int = 1,
        max_iter: int = 1000,
        tol: float = 1e-10,
        random_state: RandomState = None,
    ):
        self.alpha = alpha
        self.n_dims = n_dims
        self.group = group
        self.init = init
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _statistics(self, data: object, name: str) -> GPStatistics:
        """The process of one input: raw responses or a (means, covariance) tuple."""
        if isinstance(data, tuple):
            if len(data) != 2:
                raise ValueError(f"{name} is a tuple of {len(data)} arrays; expected {_EXPECTED}.")
            means = check_real_array(data[0], f"{name}[0] (means)", _EXPECTED)
            covariance = check_real_array(data[1], f"{name}[1] (covariance)", _EXPECTED)
            check_finite(means, f"{name}[0] (means)")
            check_finite(covariance, f"{name}[1] (covariance)")
            n_dims = self.n_dims if means.ndim == 1 else means.shape[-1]
            if means.ndim not in (1, 2) or n_dims is None:
                raise ValueError(
                    f"{name}[0] (means) has shape {means.shape}; expected (n_times, n_units), "
                    "or flat means with n_dims given."
                )
            size = means.size
            if covariance.shape != (size, size):
                raise ValueError(
                    f"{name}[1] (covariance) has shape {covariance.shape}; expected "
                    f"({size}, {size}), one row per entry of the means."
                )
            scale = float(np.max(np.abs(covariance), initial=0.0))
            if np.max(np.abs(covariance - covariance.T), initial=0.0) > 1e-8 * max(scale, 1e-300):
                raise ValueError(f"{name}[1] (covariance) is not symmetric.")
            return gp_statistics(means.reshape(-1), covariance, int(n_dims))
        responses = check_real_array(data, name, _EXPECTED)
        check_finite(responses, name)
        if responses.ndim != 3 or responses.shape[0] < 2 or min(responses.shape) == 0:
            raise ValueError(f"{name} has shape {responses.shape}; expected {_EXPECTED}.")
        n_trials, n_times, n_units = responses.shape
        means, covariances = class_statistics(responses.reshape(1, n_trials, n_times * n_units))
        return gp_statistics(means[0], covariances[0], n_units)

    def _check_params(self) -> None:
        n_dims = self.n_dims
        if n_dims is not None and (
            isinstance(n_dims, bool) or not isinstance(n_dims, numbers.Integral) or n_dims < 1
        ):
            raise InvalidParameterError(
                f"The 'n_dims' parameter of GPStochasticMetric must be None or an int >= 1; "
                f"got {n_dims!r}."
            )

    def fit(self, X: object, Y: object) -> GPStochasticMetric:
        """Fit the alignment of Y's process to X's.

        Parameters
        ----------
        X, Y : array-like of shape (n_trials, n_times, n_units), or tuple
            Responses (trials need not be paired across X and Y), or netrep's
            ``(means, covariance)`` tuples.

        Returns
        -------
        self : GPStochasticMetric
            The fitted metric.
        """
        self._check_params()
        x, y = self._statistics(X, "X"), self._statistics(Y, "Y")
        self._check_same_shape(x, y)
        result = fit_gp_alignment(
            x,
            y,
            alpha=self.alpha,
            group=self.group,
            init=self.init,
            n_restarts=self.n_restarts,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
        )
        self.T_, self.n_dims_ = np.asarray(result.T), x.means.shape[1]
        self.loss_history_, self.n_iter_ = result.loss_history, result.n_iter
        return self

    @staticmethod
    def _check_same_shape(x: GPStatistics, y: GPStatistics) -> None:
        if x.means.shape != y.means.shape:
            raise ValueError(
                f"X has {x.means.shape[0]} time points of {x.means.shape[1]} units and Y "
                f"{y.means.shape[0]} of {y.means.shape[1]}; expected the same in both."
            )

    def distance(self, X: object, Y: object) -> float:
        """Distance between X's and Y's processes after the fitted alignment.

        Parameters
        ----------
        X, Y : array-like of shape (n_trials, n_times, n_units), or tuple
            As in :meth:`fit` (e.g. held-out trials).

        Returns
        -------
        float
            The distance (netrep's ``score``), never negative.
        """
        check_is_fitted(self, "T_")
        x, y = self._statistics(X, "X"), self._statistics(Y, "Y")
        self._check_same_shape(x, y)
        if x.means.shape[1] != self.n_dims_:
            raise ValueError(
                f"X has {x.means.shape[1]} units per time point; the metric was fitted on "
                f"{self.n_dims_}."
            )
        return math.sqrt(gp_sq_distance(x, y, self.T_, float(self.alpha)))

    def score(self, X: object, Y: object) -> float:
        """Negative distance (higher is better, scikit-learn's convention).

        Parameters
        ----------
        X, Y : array-like of shape (n_trials, n_times, n_units), or tuple
            As in :meth:`fit`.

        Returns
        -------
        float
            ``-distance(X, Y)``.
        """
        return -self.distance(X, Y)

    def fit_score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Fit, then return the negative training distance.

        Parameters
        ----------
        X, Y : array-like of shape (n_trials, n_times, n_units), or tuple
            As in :meth:`fit`.

        Returns
        -------
        float
            ``-distance(X, Y)`` after fitting on them.
        """
        return self.fit(X, Y).score(X, Y)

    # -- many networks (the engine's protocol, see skrep.engine.PairwiseMeasure) --------
    def pairwise_validate(
        self, Xs: list, Xs_test: list | None, names: list, test_names: list
    ) -> tuple[list, list]:
        """Every network's process, checked (see the engine's protocol).

        Parameters
        ----------
        Xs : sequence
            Each network's responses or ``(means, covariance)`` tuple.
        Xs_test : sequence or None
            Held-out data of the same networks, or None.
        names, test_names : sequence of str
            Their names in messages.

        Returns
        -------
        trains, tests : lists
            The processes' statistics (``tests`` holds None without held-out data).
        """
        self._check_params()
        trains = [self._statistics(X, name) for X, name in zip(Xs, names, strict=True)]
        tests = [None] * len(trains)
        if Xs_test is not None:
            tests = [self._statistics(X, n) for X, n in zip(Xs_test, test_names, strict=True)]
        for stats, name in zip([*trains, *tests], [*names, *test_names], strict=False):
            if stats is not None and stats.means.shape != trains[0].means.shape:
                raise ValueError(
                    f"{name} has {stats.means.shape[0]} time points of {stats.means.shape[1]} "
                    f"units and {names[0]} {trains[0].means.shape[0]} of "
                    f"{trains[0].means.shape[1]}; expected the same in every network."
                )
        return trains, tests

    def pairwise_block_size(self, networks: list, budget_bytes: int) -> int:
        """Most networks per block whose pairs' fits run together within ``budget_bytes``.

        The pairs of a block are fitted in lockstep; each fit holds about six
        ``(n_times * n_dims)``-square arrays per start (four starts).

        Parameters
        ----------
        networks : sequence of PreparedData
            The validated networks (their processes' statistics).
        budget_bytes : int
            Working memory per task.

        Returns
        -------
        int
            Networks per block (at least 4).
        """
        size = networks[0].train.sqrt_covariance.shape[-1]
        pairs = budget_bytes // (4 * 6 * 8 * size * size)
        return max(4, math.isqrt(2 * pairs))

    def pairwise_prepare(
        self, X: GPStatistics, X_test: GPStatistics | None, name: str, test_name: str
    ) -> PreparedData:
        """Keep a network's statistics (see the engine's protocol).

        Parameters
        ----------
        X, X_test : GPStatistics or None
            From :meth:`pairwise_validate`.
        name, test_name : str
            Unused.

        Returns
        -------
        PreparedData
            The statistics.
        """
        return PreparedData(X, X_test)

    def pairwise_block(
        self, nets_a: list, nets_b: list, pairs: list, *, same_block: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Distances of a block of pairs, one fit each (see the engine's protocol).

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block.
        pairs : sequence of (int, int)
            The pairs to compute.
        same_block : bool
            Unused.

        Returns
        -------
        train, test : ndarray or None
            Training and held-out distances.
        """
        has_test = bool(nets_a) and nets_a[0].test is not None
        train, test = np.zeros(len(pairs)), np.zeros(len(pairs))
        # All the pairs of the block fitted together (one batched SVD per step).
        results = fit_gp_alignments(
            [nets_a[a].train for a, _ in pairs],
            [nets_b[b].train for _, b in pairs],
            alpha=self.alpha,
            group=self.group,
            init=self.init,
            n_restarts=self.n_restarts,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
        )
        for k, ((a, b), result) in enumerate(zip(pairs, results, strict=True)):
            train[k] = math.sqrt(result.sq_distance)
            if has_test:
                test[k] = math.sqrt(
                    gp_sq_distance(nets_a[a].test, nets_b[b].test, result.T, float(self.alpha))
                )
        return train, (test if has_test else None)

    def pairwise_distances(
        self,
        Xs: object,
        Xs_test: object | None = None,
        *,
        n_jobs: int | str | None = None,
        verbose: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Distances between all pairs of networks, on training and held-out data.

        Parameters
        ----------
        Xs : sequence of arrays or tuples, mapping, or 4-D array
            One process per network: responses of shape (n_trials, n_times,
            n_units) or a ``(means, covariance)`` tuple.
        Xs_test : same kind as ``Xs``, default=None
            Held-out data of the same networks.
        n_jobs : int or "auto", default=None
            Number of joblib workers (see :func:`skrep.pairwise_distances`).
        verbose : bool, default=False
            Show a progress bar.

        Returns
        -------
        D_train : ndarray of shape (n_networks, n_networks)
            Symmetric training distances, zero diagonal.
        D_test : ndarray of shape (n_networks, n_networks) or None
            Held-out distances (None without ``Xs_test``).
        """
        result = compute_pairs(self, Xs, None, Xs_test, None, n_jobs=n_jobs, verbose=verbose,
                               kind="distance")  # fmt: skip
        return result.train, result.test
