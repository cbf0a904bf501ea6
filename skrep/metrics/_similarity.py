"""The estimator contract shared by skrep's similarity measures.

A similarity estimator's ``score(X, Y)`` is the similarity itself (higher is
more similar, as scikit-learn expects of a score); those with a metric form
also have ``distance(X, Y)``. The measures here (CKA, the CCA family,
neighbour overlap, linear predictivity) are statistics of the pair they are
given: ``fit`` checks the inputs, records their widths and fits the optional
``preprocessor`` of each side, and ``score`` computes the measure on the data
it receives (held-out stimuli in ``cross_validate``). Nothing else learned in
``fit`` carries over; for alignments fitted on training stimuli and scored on
held-out ones, see :class:`~skrep.metrics.LinearMetric`.
"""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

from .._array import convert_like, floating_dtype, get_namespace, move_to_device
from .._validation import check_paired_samples
from ._base import PairedEstimator

__all__ = ["SimilarityEstimator"]


class SimilarityEstimator(PairedEstimator):
    """Base class of skrep's similarity estimators between paired representations.

    Subclasses implement ``_similarity(X, Y)`` on validated, preprocessed
    arrays in the compute namespace (and ``_check_params`` for their own
    parameters).

    Notes
    -----
    Every similarity estimator takes ``preprocessor`` (cloned and fitted once
    on X and once on Y in ``fit``, applied in ``score``) and ``device`` (None
    computes where the data is; ``"cpu"`` or ``"cuda"`` moves it to torch), as
    the distance metrics do.
    """

    _reference_attribute = "n_features_y_"

    def _prepare_pair(self, X, Y, *, fitting):
        X = self._validate_x(X, reset=fitting)
        Y = self._validate_y(Y, reset=fitting)
        check_paired_samples(X, Y)
        if self.device is None:
            Y = convert_like(Y, X)  # everything follows X
        X = self._preprocess(X, "x", fitting=fitting)
        Y = self._preprocess(Y, "y", fitting=fitting)
        if fitting:
            self._preprocessed_widths_ = (X.shape[1], Y.shape[1])
        else:
            self._check_preprocessed_width(X, "x")
            self._check_preprocessed_width(Y, "y")
        X, Y = move_to_device(X, self.device), move_to_device(Y, self.device)
        xp = get_namespace(X, Y)
        dtype = floating_dtype(xp, X, Y)
        return xp.astype(X, dtype, copy=False), xp.astype(Y, dtype, copy=False)

    def fit(self, X, Y):
        """Check paired representations and fit the preprocessor of each side.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation: one row per stimulus, one column per unit.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_pair(X, Y)

    def score(self, X, Y):
        """The similarity of X and Y: higher is more similar.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus (held-out stimuli in
            cross-validation).
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            The similarity.
        """
        check_is_fitted(self)
        X, Y = self._prepare_pair(X, Y, fitting=False)
        return self._similarity(X, Y)

    def fit_score(self, X, Y):
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
            The similarity.
        """
        return self.fit(X, Y).score(X, Y)
