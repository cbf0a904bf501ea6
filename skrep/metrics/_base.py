"""The estimator contract shared by skrep's distance metrics.

``fit(X, Y)`` learns from paired representations (row i of X and of Y are the
responses to the same stimulus), ``distance(X, Y)`` returns the distance,
``score(X, Y)`` its negative, so that higher is better as everywhere in
scikit-learn (``cross_validate`` and ``GridSearchCV`` without ``scoring=``
then prefer small distances). netrep's ``score`` returns the distance itself:
:mod:`skrep.compat.netrep` keeps that sign for drop-in use.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._array import (
    convert_like,
    floating_dtype,
    get_namespace,
    move_to_device,
)
from .._deprecation import keyword_only
from .._typing import Array, ArrayLike
from .._validation import (
    check_paired_samples,
)
from ..engine import compute_pairs
from ._paired import PairedEstimator

__all__ = ["BaseMetric"]


class BaseMetric(PairedEstimator):
    """Base class of skrep's distance metrics between paired representations.

    Subclasses implement ``_check_params``, ``_fit(X, Y)`` and
    ``_distance(X, Y)`` on validated arrays in the compute namespace, and name
    one fitted array in ``_reference_attribute`` (it tells where later calls
    compute: the namespace, device and dtype of the fit).

    Notes
    -----
    Every metric takes two parameters besides its own:

    - ``preprocessor`` (an estimator with ``fit`` and ``transform``, or None):
      applied to each representation before the metric, cloned and fitted once
      on X and once on Y during ``fit`` (attributes ``preprocessor_x_`` and
      ``preprocessor_y_``), then applied in ``transform``, ``distance`` and
      ``score``. Its parameters are searchable, e.g.
      ``{"preprocessor__n_components": [5, 10]}`` in ``GridSearchCV``.
    - ``device`` (None, a string or a ``torch.device``): where to compute. None
      computes where the data is (numpy stays numpy; a torch tensor X keeps its
      device and Y follows X). Anything else (``"cpu"``, ``"cuda"``) moves the
      data to a torch tensor on that device.
    """

    def _to_compute(self, A: Array) -> Array:
        """Move ``A`` to the compute device (if one is set) and the fitted dtype."""
        A = move_to_device(A, self.device)
        dtype = getattr(self, self._reference_attribute).dtype
        return get_namespace(A).astype(A, dtype, copy=False)

    def _prepare_one(self, A: ArrayLike, side: str, *, method: str) -> Array:
        """Validate, preprocess and place one side after fit (for ``transform``)."""
        A = self._validate_x(A, reset=False) if side == "x" else self._validate_y(A, reset=False)
        self._check_fitted_place(A, method, "X" if side == "x" else "Y")
        A = self._preprocess(A, side, fitting=False)
        self._check_preprocessed_width(A, side)
        return self._to_compute(A)

    def _prepare_pair(
        self, X: ArrayLike, Y: ArrayLike, *, fitting: bool, method: str = "fit"
    ) -> tuple[Array, Array]:
        """Validate, preprocess and place a pair: the shared path of every method."""
        X = self._validate_x(X, reset=fitting)
        Y = self._validate_y(Y, reset=fitting)
        check_paired_samples(X, Y)
        if self.device is None:
            Y = convert_like(Y, X)  # everything follows X
            if not fitting:
                self._check_fitted_place(X, method)
        X = self._preprocess(X, "x", fitting=fitting)
        Y = self._preprocess(Y, "y", fitting=fitting)
        if fitting:
            self._preprocessed_widths_ = (X.shape[1], Y.shape[1])
            X, Y = move_to_device(X, self.device), move_to_device(Y, self.device)
            xp = get_namespace(X, Y)
            dtype = floating_dtype(xp, X, Y)
            return xp.astype(X, dtype, copy=False), xp.astype(Y, dtype, copy=False)
        self._check_preprocessed_width(X, "x")
        self._check_preprocessed_width(Y, "y")
        return self._to_compute(X), self._to_compute(Y)

    # -- many networks ----------------------------------------------------------------
    pairwise_kind = "distance"
    # Not assumed: a metric whose fit is one-sided gets both triangles computed.
    # The symmetric ones (LinearMetric, PermutationMetric, the stochastic metrics)
    # say so and compute each unordered pair once.
    pairwise_symmetric = False

    def _pair_value(self, fitted: BaseMetric, A: Array, B: Array) -> float:
        return fitted.distance(A, B)

    def pairwise_distances(
        self,
        Xs: Sequence[ArrayLike] | Mapping[Hashable, ArrayLike] | Array,
        Xs_test: Sequence[ArrayLike] | Mapping[Hashable, ArrayLike] | Array | None = None,
        *args: Any,
        n_jobs: int | str | None = None,
        verbose: bool = False,
        cache_dir: str | os.PathLike | None = None,
        block_size: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Distances between all pairs of networks, on training and held-out data.

        Each pair ``(i, j)`` is fitted on ``Xs[i]`` and ``Xs[j]`` and scored on
        them; with ``Xs_test`` the fitted alignment is also scored on
        ``Xs_test[i]`` and ``Xs_test[j]``. Work that depends on one network
        only is done once per network. See :func:`skrep.pairwise_distances`
        for the details (parallelism, caching, memory).

        Parameters
        ----------
        Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
            One representation per network, rows paired across networks.
        Xs_test : sequence of arrays of shape (n_samples_test, n_features_k), default=None
            Held-out representations of the same networks, in the same order.
        *args
            Deprecated: ``n_jobs`` and ``verbose`` passed by position (a
            FutureWarning); pass them by keyword.
        n_jobs : int or "auto", default=None
            Number of joblib workers; None means 1 unless in a
            ``joblib.parallel_config`` context, -1 means all CPUs. "auto" uses
            all CPUs only when the job is long enough for a process pool to
            pay for its start-up (its first pair is timed), else runs
            serially.
        verbose : bool, default=False
            Show a progress bar (tqdm).
        cache_dir : str or path-like, default=None
            Directory where finished blocks of pairs are stored, so that an
            interrupted run resumes without recomputing them.
        block_size : int, default=None
            Networks per block of pairs; None sizes blocks from scikit-learn's
            ``working_memory`` setting.

        Returns
        -------
        D_train : ndarray of shape (n_networks, n_networks)
            Symmetric training distances, zero diagonal.
        D_test : ndarray of shape (n_networks, n_networks) or None
            Held-out distances (None without ``Xs_test``).
        """
        options = keyword_only(
            args,
            ("n_jobs", "verbose"),
            {"n_jobs": n_jobs, "verbose": verbose},
            f"{type(self).__name__}.pairwise_distances",
        )
        result = compute_pairs(
            self,
            Xs,
            None,
            Xs_test,
            cache_dir=cache_dir,
            block_size=block_size,
            kind="distance",
            **options,
        )
        return result.train, result.test

    # -- the contract -----------------------------------------------------------------
    def fit(self, X: ArrayLike, Y: ArrayLike) -> BaseMetric:
        """Fit the metric to paired representations.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation: one row per stimulus, one column per unit.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        self : object
            The fitted metric.
        """
        return self._fit_pair(X, Y)

    def distance(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Distance between X and Y under the fitted metric.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus; may be held-out
            stimuli (other than those seen in ``fit``).
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            The distance; 0 when the representations are equivalent.
        """
        check_is_fitted(self)
        X, Y = self._prepare_pair(X, Y, fitting=False, method="distance")
        return self._distance(X, Y)

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Negative distance: higher is better, as everywhere in scikit-learn.

        This is what ``cross_validate`` and ``GridSearchCV`` use when no
        ``scoring`` is given, so a search picks the smallest held-out distance.
        netrep's ``score`` returns the distance with the opposite sign; use
        :meth:`distance` for it, or :mod:`skrep.compat.netrep` for netrep's sign.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            ``-self.distance(X, Y)``.
        """
        return -self.distance(X, Y)

    def fit_score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Fit on (X, Y), then score the same data: ``fit(X, Y).score(X, Y)``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            The negative training distance (see :meth:`score`).
        """
        return self.fit(X, Y).score(X, Y)
