"""PermutationMetric: shape distance after the best one-to-one matching of units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._typing import Array, Device
from ..functional.network_blocks import PreparedNetwork, prepare_centered_network
from ..functional.permutation import (
    apply_permutation,
    fit_permutation_alignment,
    permutation_block_distances,
)
from .alignment import AlignmentMetric

if TYPE_CHECKING:
    import numpy as np


__all__ = ["PermutationMetric"]


class PermutationMetric(AlignmentMetric):
    """Distance between representations aligned by a permutation of their units.

    Units (columns) of Y are matched one to one with units of X so as to
    maximize their summed covariance (the Hungarian algorithm); the distance
    is then measured with ``score_method``. Invariant to permutations of the
    units (and, with ``center_columns``, to offsets), but not to rotations.
    Matches netrep's ``PermutationMetric``.

    .. important:: ``score`` returns the *negative* distance (higher is
       better); :meth:`distance` returns the distance, which is what netrep's
       ``score`` returns (see :mod:`skrep.compat.netrep`).

    Parameters
    ----------
    center_columns : bool, default=True
        Subtract column means before matching units.
    zero_pad : bool, default=True
        If X and Y have different numbers of features, append zero columns to
        the narrower one. If False, different widths raise an error.
    score_method : {"angular", "euclidean"}, default="angular"
        Ground metric in the aligned space.
    preprocessor : estimator with fit and transform, default=None
        Applied to each side before the metric (cloned per side).
    device : None, str or torch.device, default=None
        None computes where the data is; ``"cpu"`` or ``"cuda"`` compute with
        torch on that device (the assignment itself runs on the CPU).

    Attributes
    ----------
    mx_, my_ : array of shape (n_aligned,)
        Column means subtracted from X and Y (zeros if not ``center_columns``).
    Px_, Py_ : integer array of shape (n_aligned,)
        Column orders: aligned X is ``(X - mx_)[:, Px_]``, aligned Y is
        ``(Y - my_)[:, Py_]``.
    n_features_in_ : int
        Number of features of X seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a pandas DataFrame with string names.
    n_features_y_ : int
        Number of features of Y seen in ``fit``.
    preprocessor_x_, preprocessor_y_ : estimator
        Fitted clones of ``preprocessor`` (only when it is not None).

    See Also
    --------
    LinearMetric : Alignment by rotations or linear maps.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import PermutationMetric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 6))
    >>> Y = X[:, [3, 1, 0, 5, 2, 4]]
    >>> round(PermutationMetric().fit(X, Y).distance(X, Y), 12)
    0.0
    """

    pairwise_symmetric = True  # d(X, Y) = d(Y, X): each unordered pair once

    def __init__(
        self,
        *,
        center_columns: bool = True,
        zero_pad: bool = True,
        score_method: str = "angular",
        preprocessor: Any = None,
        device: Device = None,
    ):
        self.center_columns = center_columns
        self.zero_pad = zero_pad
        self.score_method = score_method
        self.preprocessor = preprocessor
        self.device = device

    def _fit(self, X: Array, Y: Array) -> None:
        self.mx_, self.my_, self.Px_, self.Py_ = fit_permutation_alignment(
            X, Y, center_columns=bool(self.center_columns), check_input=False
        )

    def _align_x(self, X: Array) -> Array:
        return apply_permutation(X, self.mx_, self.Px_, check_input=False)

    def _align_y(self, Y: Array) -> Array:
        return apply_permutation(Y, self.my_, self.Py_, check_input=False)

    # -- many networks: center once per network, cross-products from one Gram product --
    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> PreparedNetwork:
        """Per-network work: preprocess, center once.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Validated training data.
        X_test : array of shape (n_samples_test, n_features) or None
            Validated held-out data, mapped with the training mean.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        PreparedNetwork
            The prepared data and its squared norms.
        """
        net = super().pairwise_prepare(X, X_test, name, test_name)
        return prepare_centered_network(
            net.train,
            net.test,
            center_columns=bool(self.center_columns),
            check_input=False,
        )

    def pairwise_block(
        self,
        nets_a: Sequence[PreparedNetwork],
        nets_b: Sequence[PreparedNetwork],
        pairs: Sequence[tuple[int, int]],
        *,
        same_block: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Distances of a block of pairs from one Gram product and one assignment per pair.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedNetwork
            The networks of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Both sides are the same networks (one SYRK instead of a GEMM).

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Distances on the training data.
        test : ndarray of shape (n_pairs,) or None
            Distances on the held-out data.
        """
        return permutation_block_distances(
            nets_a, nets_b, pairs, score_method=self.score_method, same_block=same_block
        )
