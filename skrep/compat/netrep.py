"""netrep drop-in: netrep's class signatures and its sign convention.

A script written for netrep runs unchanged after replacing
``from netrep.metrics import LinearMetric`` with
``from skrep.compat.netrep import LinearMetric``. Here, as in netrep,
``score(X, Y)`` returns the **distance** (lower is more similar).

The main API (:mod:`skrep.metrics`) differs in two ways: ``score`` returns the
*negative* distance (higher is better, so scikit-learn's model selection works
without a custom ``scoring``), with ``distance`` returning the distance; and
constructor arguments after ``alpha`` are keyword-only, with ``preprocessor``
and ``device`` added. The numbers are the same. One behaviour differs from
netrep on purpose: invalid parameters (``alpha`` outside [0, 1], an unknown
``score_method``) raise in ``fit``, not in the constructor, as scikit-learn
requires of estimators (so that ``clone`` and ``set_params`` work).

Note that with these classes ``GridSearchCV`` without ``scoring=`` would pick
the *largest* distance, exactly as it would with netrep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._typing import Array, ArrayLike, RandomState
from .._validation import check_paired_samples, check_representation
from ..engine import compute_pairs
from ..functional.centering import column_means
from ..functional.ground_metrics import angular_distance
from ..functional.linear import LinearFit, whiten_representation
from ..functional.permutation import fit_permutation_alignment
from ..metrics import linear as _linear
from ..metrics import permutation as _permutation
from ..metrics import stochastic as _stochastic
from ..metrics.stochastic_base import is_moments_tuple
from ._netrep_utils import whiten

__all__ = [
    "LinearMetric",
    "PermutationMetric",
    "GaussianStochasticMetric",
    "EnergyStochasticMetric",
    "whiten",
    "angular_distance",
]


class _NetrepConventions:
    """netrep's sign, no preprocessing, computation where the data is."""

    # netrep has neither option; class attributes (not parameters) keep
    # get_params equal to netrep's signature while the shared code reads them.
    preprocessor = None
    device = None

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Distance between X and Y in the aligned space (netrep's sign).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : ndarray of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            The distance, as netrep's ``score``; ``skrep.metrics`` returns its
            negative.
        """
        return self.distance(X, Y)

    def pairwise_distances(
        self,
        train_data: Sequence[ArrayLike],
        test_data: Sequence[ArrayLike] | None = None,
        processes: int | None = None,
        verbose: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances between all pairs of networks, as netrep computes them.

        Parameters
        ----------
        train_data : list of ndarray of shape (n_samples, n_features_k)
            One representation per network; each pair is fitted on these.
        test_data : list of ndarray, default=None
            Held-out representations (same order); each pair is scored on them
            with the alignment fitted on the training data.
        processes : int, default=None
            Number of worker processes. None (netrep's default, all CPUs) runs
            serially when the job is too short for a pool to pay (the first
            pairs are timed; see :mod:`skrep.engine.parallelism`), and follows
            a ``joblib.parallel_config`` in effect; an integer is used as given.
        verbose : bool, default=True
            Print how many distances are computed and show a progress bar.

        Returns
        -------
        D_train : ndarray of shape (n_networks, n_networks)
            Symmetric training distances, zero diagonal.
        D_test : ndarray of shape (n_networks, n_networks)
            Held-out distances; ``inf`` off the diagonal when ``test_data`` is None.
        """
        n_jobs = "auto" if processes is None else processes
        if verbose:
            n_networks = len(train_data)
            print(f"Computing {n_networks * (n_networks - 1) // 2} distances with n_jobs={n_jobs}.")
        result = compute_pairs(
            self,
            train_data,
            None,
            test_data,
            n_jobs=n_jobs,
            verbose=verbose,
            arg_names=("train_data", "Ys", "test_data", "Ys_test"),
            kind="distance",
        )
        D_train, D_test = result.train, result.test
        if D_test is None:
            D_test = np.full_like(D_train, np.inf)  # netrep's value without test data
            np.fill_diagonal(D_test, 0.0)
        return D_train, D_test

    def _start_split_fit(self, X: Array, Y: Array) -> None:
        """Checks and bookkeeping of ``finalize_fit`` (what ``fit`` does itself)."""
        self._clear_fitted_state()
        self._check_params()
        check_paired_samples(X, Y, names=("cache_X", "cache_Y"))
        if X.shape[1] != Y.shape[1]:
            raise ValueError(
                f"cache_X holds {X.shape[1]} features and cache_Y {Y.shape[1]}; "
                "finalize_fit expects partial_fit results of equally wide arrays "
                "(zero-pad the narrower array before partial_fit, as netrep's "
                "pairwise code does)."
            )
        self.n_features_in_ = X.shape[1]
        self.n_features_y_ = Y.shape[1]
        self._preprocessed_widths_ = (X.shape[1], Y.shape[1])

    def transform_X(self, X: ArrayLike) -> Array:
        """Transform X alone into the aligned space (netrep's ``transform_X``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_x)
            First representation.

        Returns
        -------
        ndarray of shape (n_samples, n_aligned)
            X in the aligned space.
        """
        return self._transform_one(X, "x")

    def transform_Y(self, Y: ArrayLike) -> Array:
        """Transform Y alone into the aligned space (netrep's ``transform_Y``).

        Parameters
        ----------
        Y : ndarray of shape (n_samples, n_features_y)
            Second representation.

        Returns
        -------
        ndarray of shape (n_samples, n_aligned)
            Y in the aligned space.
        """
        return self._transform_one(Y, "y")


class LinearMetric(_NetrepConventions, _linear.LinearMetric):
    """Generalized shape metric with netrep's signature and sign (``score`` = distance).

    netrep's numbers, signature and sign, with its absolute floor of 1e-7 on the
    eigenvalues of ``X.T @ X`` (:class:`skrep.metrics.LinearMetric` floors them
    relative to the data's scale). See :mod:`skrep.compat.netrep`.

    Parameters
    ----------
    alpha : float in [0, 1], default=1.0
        1 allows only rotations (Procrustes), 0 any invertible linear map.
    center_columns : bool, default=True
        Learn a mean-centering operation in addition to the alignment.
    zero_pad : bool, default=True
        Zero-pad the narrower representation; if False, different widths raise.
    score_method : {"angular", "euclidean"}, default="angular"
        Ground metric in the aligned space.

    Attributes
    ----------
    mx_, my_ : ndarray of shape (n_aligned,)
        Column means of X and Y.
    Wx_, Wy_ : ndarray of shape (n_aligned, n_aligned)
        Alignment maps: ``(X - mx_) @ Wx_``.
    """

    def __init__(
        self,
        alpha: float = 1.0,
        center_columns: bool = True,
        zero_pad: bool = True,
        score_method: str = "angular",
    ):
        self.alpha = alpha
        self.center_columns = center_columns
        self.zero_pad = zero_pad
        self.score_method = score_method

    _relative_eigval_tol = False  # netrep's absolute eigenvalue floor

    def partial_fit(self, X: ArrayLike) -> tuple[Array, Array, Array]:
        """Center and partially whiten one representation (the per-network step).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            One network's representation.

        Returns
        -------
        mx : ndarray of shape (n_features,)
            Column means (zeros if not ``center_columns``).
        Xw : ndarray of shape (n_samples, n_features)
            Centered, partially whitened data.
        Zx : ndarray of shape (n_features, n_features)
            Whitening matrix: ``Xw = (X - mx) @ Zx``.
        """
        self._check_params()
        X = check_representation(X, "X")
        whitened = whiten_representation(
            X, self.alpha, center_columns=self.center_columns, relative_tol=False, check_input=False
        )
        return tuple(whitened)

    def finalize_fit(
        self, cache_X: tuple[Array, Array, Array], cache_Y: tuple[Array, Array, Array]
    ) -> LinearMetric:
        """Finish a fit from two :meth:`partial_fit` results (the per-pair step).

        Parameters
        ----------
        cache_X, cache_Y : tuple
            ``(mx, Xw, Zx)`` and ``(my, Yw, Zy)`` from :meth:`partial_fit`.

        Returns
        -------
        self : LinearMetric
            The fitted metric.
        """
        self._start_split_fit(cache_X[1], cache_Y[1])
        (mx, Xw, Zx), (my, Yw, Zy) = cache_X, cache_Y
        self._set_linear_fit(LinearFit.from_whitened(mx, my, Xw, Yw, Zx, Zy))  # validates
        return self


class PermutationMetric(_NetrepConventions, _permutation.PermutationMetric):
    """Permutation metric with netrep's signature and sign (``score`` = distance).

    Parameters
    ----------
    center_columns : bool, default=True
        Learn a mean-centering operation in addition to the alignment.
    zero_pad : bool, default=True
        Zero-pad the narrower representation; if False, different widths raise.
    score_method : {"angular", "euclidean"}, default="angular"
        Ground metric in the aligned space.

    Attributes
    ----------
    mx_, my_ : ndarray of shape (n_aligned,)
        Column means of X and Y.
    Px_, Py_ : ndarray of int of shape (n_aligned,)
        Column orders of the aligned X and Y.
    """

    def __init__(
        self, center_columns: bool = True, zero_pad: bool = True, score_method: str = "angular"
    ):
        self.center_columns = center_columns
        self.zero_pad = zero_pad
        self.score_method = score_method

    def partial_fit(self, X: ArrayLike) -> tuple[Array, Array]:
        """Center one representation (the per-network step).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            One network's representation.

        Returns
        -------
        mx : ndarray of shape (n_features,)
            Column means (zeros if not ``center_columns``).
        Xphi : ndarray of shape (n_samples, n_features)
            ``X - mx``.
        """
        self._check_params()
        X = check_representation(X, "X")
        mx = column_means(X, self.center_columns, check_input=False)
        return mx, X - mx

    def finalize_fit(
        self, cache_X: tuple[Array, Array], cache_Y: tuple[Array, Array]
    ) -> PermutationMetric:
        """Match units from two :meth:`partial_fit` results (the per-pair step).

        Parameters
        ----------
        cache_X, cache_Y : tuple
            ``(mx, Xphi)`` and ``(my, Yphi)`` from :meth:`partial_fit`.

        Returns
        -------
        self : PermutationMetric
            The fitted metric.
        """
        self._start_split_fit(cache_X[1], cache_Y[1])
        (self.mx_, Xc), (self.my_, Yc) = cache_X, cache_Y
        _, _, self.Px_, self.Py_ = fit_permutation_alignment(Xc, Yc, center_columns=False)
        return self


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
