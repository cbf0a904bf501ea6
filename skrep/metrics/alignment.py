"""AlignmentMetric: the shape metrics that map both representations into one aligned space.

The base of :class:`~skrep.metrics.LinearMetric` and
:class:`~skrep.metrics.PermutationMetric`: the distance is a ground metric
(``score_method``) between the aligned representations, narrower inputs are
zero-padded, and ``transform`` returns the aligned pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sklearn.utils import TransformerTags
from sklearn.utils.validation import check_is_fitted

from .._array import convert_like, zero_pad_columns
from .._typing import Array, ArrayLike
from .._validation import check_bool, check_equal_widths, match_widths
from ..exceptions import InvalidParameterError
from ..functional.ground_metrics import GROUND_METRICS
from ..functional.network_blocks import gram_block_size
from ._base import BaseMetric

if TYPE_CHECKING:
    from sklearn.utils import Tags

    from ..engine import PreparedData
    from ..functional.network_blocks import PreparedNetwork

__all__ = ["AlignmentMetric"]


class AlignmentMetric(BaseMetric):
    """A metric that maps both representations into a shared aligned space.

    Subclasses implement ``_fit(X, Y)``, ``_align_x(X)`` and ``_align_y(Y)``;
    the distance is the ground metric named by ``score_method`` between the
    aligned representations. Narrower inputs are zero-padded when ``zero_pad``.
    """

    _reference_attribute = "mx_"

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        if not isinstance(self.score_method, str) or self.score_method not in GROUND_METRICS:
            raise InvalidParameterError(
                f"The 'score_method' parameter of {name} must be 'angular' or "
                f"'euclidean'; got {self.score_method!r}."
            )
        check_bool(self.center_columns, "center_columns", name)
        check_bool(self.zero_pad, "zero_pad", name)

    def _prepare_pair(
        self, X: ArrayLike, Y: ArrayLike, *, fitting: bool, method: str = "fit"
    ) -> tuple[Array, Array]:
        X, Y = super()._prepare_pair(X, Y, fitting=fitting, method=method)
        X, Y = match_widths(X, Y, zero_pad=self.zero_pad, estimator_name=type(self).__name__)
        if not fitting:
            # Held-out data is padded to the width seen in fit.
            X, Y = self._pad_to_fitted(X), self._pad_to_fitted(Y)
        return X, Y

    def pairwise_check(self, networks: Sequence[PreparedNetwork], names: Sequence[str]) -> None:
        """Reject networks that cannot be paired: all-zero ones (angular), unequal widths.

        Parameters
        ----------
        networks : sequence of PreparedNetwork
            The prepared networks.
        names : sequence of str
            Their names, for messages.
        """
        if self.score_method == "angular":
            for net, name in zip(networks, names, strict=True):
                if getattr(net, "sq_norm", None) == 0.0:
                    raise ValueError(
                        f"{name} is all zeros after centering (every column is constant), so "
                        "its angular distance to any network is undefined; expected a "
                        "representation with nonzero variance, or score_method='euclidean'."
                    )
        if not self.zero_pad:
            widths = [net.train.shape[1] for net in networks]
            check_equal_widths(widths, names, type(self).__name__)

    def pairwise_block_size(self, networks: Sequence[PreparedData], budget_bytes: int) -> int:
        """Most networks per block whose Gram product fits ``budget_bytes``.

        Parameters
        ----------
        networks : sequence of PreparedData
            The validated networks.
        budget_bytes : int
            Working memory per task.

        Returns
        -------
        int
            Networks per block.
        """
        return gram_block_size(networks, budget_bytes)

    def _pad_to_fitted(self, A: Array) -> Array:
        # The width check against n_features_in_ already ran, so A is at most
        # as wide as the fitted (padded) width.
        return zero_pad_columns(A, self.mx_.shape[0])

    def __sklearn_tags__(self) -> Tags:
        """Tags: a transformer that keeps float32 and float64."""
        tags = super().__sklearn_tags__()
        # transform(X) maps X alone into the aligned space; transform(X, Y)
        # returns the aligned pair.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
        return tags

    def _distance(self, X: Array, Y: Array) -> float:
        ground_metric = GROUND_METRICS[self.score_method]
        # float(): the functional ground metrics give a 0-d tensor for torch input.
        return float(ground_metric(self._align_x(X), self._align_y(Y), check_input=False))

    def transform(self, X: ArrayLike, Y: ArrayLike | None = None) -> Array | tuple[Array, Array]:
        """Map representations into the aligned space.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y), default=None
            Second representation. If given, both are transformed and returned
            as a pair (as in scikit-learn's cross-decomposition estimators and
            netrep).

        Returns
        -------
        X_aligned : array of shape (n_samples, n_aligned)
            In the array type of the input (numpy in, numpy out; torch in, torch
            on the same device out).
        Y_aligned : array of shape (n_samples, n_aligned)
            Only when Y is given.
        """
        check_is_fitted(self)
        if Y is None:
            return self._transform_one(X, "x")
        A, B = self._prepare_pair(X, Y, fitting=False, method="transform")
        return convert_like(self._align_x(A), X), convert_like(self._align_y(B), X)

    def _transform_one(self, A: ArrayLike, side: str) -> Array:
        """Map one representation (``side`` "x" or "y") into the aligned space."""
        check_is_fitted(self)
        B = self._pad_to_fitted(self._prepare_one(A, side, method="transform"))
        aligned = self._align_x(B) if side == "x" else self._align_y(B)
        return convert_like(aligned, A)

    def fit_transform(self, X: ArrayLike, Y: ArrayLike) -> tuple[Array, Array]:
        """Fit on (X, Y) and return the aligned pair: ``fit(X, Y).transform(X, Y)``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        X_aligned : array of shape (n_samples, n_aligned)
            X in the aligned space, in the array type of the input.
        Y_aligned : array of shape (n_samples, n_aligned)
            Y in the aligned space.
        """
        return self.fit(X, Y).transform(X, Y)
