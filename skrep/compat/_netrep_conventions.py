"""What the netrep drop-ins share: netrep's sign, pairwise driver and split fit.

The classes of :mod:`skrep.compat.netrep` mix :class:`_NetrepConventions`
into the estimators of :mod:`skrep.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._typing import Array, ArrayLike
from .._validation import check_paired_samples
from ..engine import compute_pairs

__all__: list[str] = []


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
