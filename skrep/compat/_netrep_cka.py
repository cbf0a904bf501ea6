"""netrep's ``LinearCKA`` (re-exported by :mod:`skrep.compat.netrep`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from .._array import get_namespace, matrix_transpose
from .._typing import Array, ArrayLike
from ..engine import fit_each_pair
from ..exceptions import InvalidParameterError
from ..metrics import cka as _cka

__all__ = ["LinearCKA"]


def _angles(values: np.ndarray | None) -> np.ndarray | None:
    """``arccos`` of CKA values (clipped to [-1, 1], as netrep does)."""
    return None if values is None else np.arccos(np.clip(values, -1.0, 1.0))


def _netrep_score(fitted: LinearCKA, A: Array, B: Array) -> float:
    return fitted.score(A, B)


def _uncentered_alignment(X: Array, Y: Array) -> float:
    """``<X X', Y Y'> / (||X X'|| ||Y Y'||)`` from feature-space products (no n x n Gram)."""
    xp = get_namespace(X, Y)
    scaled = []
    for A, name in ((X, "X"), (Y, "Y")):
        largest = float(xp.max(xp.abs(A)))
        if not largest > 0.0:
            raise ValueError(
                f"{name} is all zeros (shape {tuple(A.shape)}); LinearCKA(center_columns=False) "
                "needs a representation with a nonzero Gram matrix."
            )
        scaled.append(A / largest)  # the ratio does not depend on a positive scale
    X, Y = scaled
    Xt, Yt = matrix_transpose(X, xp), matrix_transpose(Y, xp)
    cross = float(xp.sum((Xt @ Y) ** 2))
    norm_x = float(xp.linalg.vector_norm(Xt @ X))
    norm_y = float(xp.linalg.vector_norm(Yt @ Y))
    return cross / (norm_x * norm_y)


class LinearCKA(_cka.CKAEstimator):
    """Angular linear CKA with netrep's signature and sign (``score`` = distance).

    ``score(X, Y)`` is ``arccos(CKA)``, the angle between the Gram matrices
    ``X X'`` and ``Y Y'`` of the (centered) representations: a metric, as in
    netrep (whose ``LinearCKA`` differs from Kornblith et al. 2019 by this
    ``arccos``). As in netrep, ``fit`` learns nothing and ``score`` may be
    called without it, on any pair of paired representations. Unlike netrep,
    ``fit`` returns the estimator, inputs are validated (at least 4 stimuli;
    a constant representation raises instead of giving NaN), and the linear
    products are formed in feature space when there are more stimuli than
    units. For the similarity itself, see :class:`skrep.metrics.CKAEstimator`.

    Parameters
    ----------
    center_columns : bool, default=True
        Center the columns of X and Y first (CKA); False compares the
        uncentered Gram matrices.

    See Also
    --------
    skrep.metrics.CKAEstimator : CKA as a similarity (``score``) and a distance.
    skrep.functional.linear_cka : The function.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.compat.netrep import LinearCKA
    >>> X = np.random.default_rng(0).standard_normal((50, 5))
    >>> metric = LinearCKA()
    >>> metric.fit(X, 2 * X)
    LinearCKA()
    >>> round(metric.score(X, 2 * X), 6)
    0.0
    """

    def __init__(self, center_columns: bool = True):
        self.center_columns = center_columns

    # netrep has none of CKAEstimator's other parameters; class attributes (not
    # parameters) keep get_params equal to netrep's signature.
    kernel = "linear"
    sigma = None
    threshold = 0.8
    debiased = False
    preprocessor = None
    device = None
    approximation = None
    n_components = 100
    random_state = None

    pairwise_kind = "distance"

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.center_columns, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The 'center_columns' parameter of LinearCKA must be a bool; got "
                f"{self.center_columns!r}."
            )

    def _similarity(self, X: Array, Y: Array) -> float:
        if self.center_columns:
            return super()._similarity(X, Y)
        return _uncentered_alignment(X, Y)

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Angular CKA distance between X and Y (netrep's sign: lower is more similar).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : ndarray of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            ``arccos`` of linear CKA, in [0, pi/2].
        """
        checked = clone(self)  # CKA learns nothing: fitted or not, score these two
        checked._check_params()
        X, Y = checked._prepare_pair(X, Y, fitting=True)
        return math.acos(min(1.0, max(-1.0, checked._similarity(X, Y))))

    def distance(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Angular CKA distance between X and Y (the same as :meth:`score`).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : ndarray of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            ``arccos`` of linear CKA, in [0, pi/2].
        """
        return self.score(X, Y)

    def pairwise_validate(
        self,
        Xs: Sequence,
        Xs_test: Sequence | None,
        names: Sequence[str],
        test_names: Sequence[str],
    ) -> tuple[list, list]:
        """Check the parameters, then validate every network (see the engine's protocol).

        Parameters
        ----------
        Xs : sequence
            The training data of every network in the job.
        Xs_test : sequence or None
            Their held-out data, in the same order, or None.
        names, test_names : sequence of str
            Names of the networks and of their held-out data, for messages.

        Returns
        -------
        trains, tests : lists
            The validated inputs.
        """
        self._check_params()
        return super().pairwise_validate(Xs, Xs_test, names, test_names)

    def pairwise_block(
        self, nets_a: Sequence[Any], nets_b: Sequence[Any], pairs: Sequence, *, same_block: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Angular CKA distances of a block of pairs.

        Parameters
        ----------
        nets_a, nets_b : sequence of prepared layers
            The layers of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Both sides are the same layers.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Distances on the training data.
        test : ndarray of shape (n_pairs,) or None
            Distances on the held-out data.
        """
        if not self.center_columns:
            return fit_each_pair(self, nets_a, nets_b, pairs, _netrep_score)
        train, test = super().pairwise_block(nets_a, nets_b, pairs, same_block=same_block)
        return _angles(train), _angles(test)
