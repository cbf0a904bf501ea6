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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sklearn.utils.validation import check_is_fitted

from .._array import convert_like, floating_dtype, get_namespace, move_to_device
from .._typing import Array, ArrayLike
from .._validation import check_paired_samples
from ..engine import PreparedData, pair_values
from ._paired import PairedEstimator

if TYPE_CHECKING:
    import numpy as np

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
    #: Whether ``distance(X, Y)`` exists (a metric form of the similarity); if so,
    #: :func:`skrep.pairwise_distances` takes the estimator and gives that distance.
    has_distance = False

    # The batched path of the many-networks engine: subclasses that define
    # _prepare_layer(A, name) (once per layer) and _from_prepared(a, b) (per
    # pair) get it; the others fit a copy per pair.
    _prepare_layer = None
    # Each layer keeps its own precision, as in the functions: its numerical
    # rank is judged in its dtype, and products promote where layers meet.
    pairwise_common_dtype = False

    def _from_prepared(self, a: Any, b: Any) -> float:
        raise NotImplementedError

    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> PreparedData:
        """Per-layer work: the preprocessor, then the measure's own per-layer step.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Validated training data.
        X_test : array of shape (n_samples_test, n_features) or None
            Validated held-out data.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        PreparedData
            What the measure's pairs need of this layer (e.g. an orthonormal
            basis, the neighbour sets).
        """
        data = super().pairwise_prepare(X, X_test, name, test_name)
        if self._prepare_layer is None:
            return data
        test = None if data.test is None else self._prepare_layer(data.test, test_name)
        return PreparedData(self._prepare_layer(data.train, name), test)

    def pairwise_block(
        self,
        nets_a: Sequence[PreparedData],
        nets_b: Sequence[PreparedData],
        pairs: Sequence[tuple[int, int]],
        *,
        same_block: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Similarities of a block of pairs, from the prepared layers.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The layers of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Both sides are the same layers.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Similarities on the training data.
        test : ndarray of shape (n_pairs,) or None
            Similarities on the held-out data.
        """
        if self._prepare_layer is None:
            return super().pairwise_block(nets_a, nets_b, pairs, same_block=same_block)
        return pair_values(nets_a, nets_b, pairs, self._from_prepared)

    def _prepare_pair(self, X: ArrayLike, Y: ArrayLike, *, fitting: bool) -> tuple[Array, Array]:
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

    def fit(self, X: ArrayLike, Y: ArrayLike) -> SimilarityEstimator:
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

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
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
        return float(self._similarity(X, Y))  # a float, also for torch input

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
            The similarity.
        """
        return self.fit(X, Y).score(X, Y)
