"""netrep's linear and permutation metrics (re-exported by :mod:`skrep.compat.netrep`)."""

from __future__ import annotations

from .._typing import Array, ArrayLike
from .._validation import check_representation
from ..functional.centering import column_means
from ..functional.linear import LinearFit, whiten_representation
from ..functional.permutation import fit_permutation_alignment
from ..metrics import linear as _linear
from ..metrics import permutation as _permutation
from ._netrep_conventions import _NetrepConventions

__all__ = ["LinearMetric", "PermutationMetric"]


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
