"""LinearMetric: generalized shape metrics between CCA (alpha=0) and Procrustes (alpha=1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sklearn.utils.validation import check_is_fitted

from .._typing import Array, ArrayLike, Device
from .._validation import check_alpha
from ..functional.linear import (
    LinearFit,
    apply_alignment,
    fit_linear,
    linear_block_distances,
    prepare_linear_network,
)
from ..functional.network_blocks import PreparedNetwork
from ._training_inputs import TrainingInputs
from .alignment import AlignmentMetric

if TYPE_CHECKING:
    import numpy as np


__all__ = ["LinearMetric"]


class LinearMetric(AlignmentMetric):
    """Generalized shape metric with partial whitening (Williams et al. 2021).

    Both representations are centered, partially whitened with strength
    ``1 - alpha`` and rotated into a shared space by the Procrustes solution;
    the distance is measured there. ``alpha = 1`` is the Procrustes (rotation
    invariant) metric, ``alpha = 0`` is invariant to any invertible linear map
    (a function of the canonical correlations), values in between interpolate.
    With ``score_method="angular"`` the distance is a metric (it satisfies the
    triangle inequality) for every alpha (see Notes for the euclidean score).

    Results match netrep's ``LinearMetric`` to machine precision, except where
    eigenvalues reach the floor of the whitening, which follows the data's
    scale here (see Notes).

    .. important:: **Sign convention.** ``score`` returns the *negative*
       distance (higher is better, as everywhere in scikit-learn), so that
       ``cross_validate`` and ``GridSearchCV`` without ``scoring=`` work as
       expected. netrep's ``score`` returns the distance itself: use
       :meth:`distance` here, or :class:`skrep.compat.netrep.LinearMetric` for
       netrep's exact behaviour.

    Parameters
    ----------
    alpha : float in [0, 1], default=1.0
        Regularization of the alignment: 1 allows only rotations, 0 any
        invertible linear transformation. For 0 < alpha < 1 the distance
        depends on the global scale of the data and on n_samples, as in netrep
        (the whitening uses the raw Gram matrix ``X.T @ X``): ``c * X`` is
        whitened as ``X`` is with ``alpha * c / (alpha * c + 1 - alpha)``.
        Eigenvalues of ``X.T @ X`` are floored at ``1e-7`` times the mean
        variance of the (non-zero) columns, a floor relative to the data's
        scale, so that alpha=0 and alpha=1 give the same distance in any units
        (netrep's floor is an absolute ``1e-7``, see Notes).
    center_columns : bool, default=True
        Learn a mean-centering of each representation before aligning.
    zero_pad : bool, default=True
        If X and Y have different numbers of features, append zero columns to
        the narrower one. If False, different widths raise an error.
    score_method : {"angular", "euclidean"}, default="angular"
        Ground metric in the aligned space: the angle between the aligned
        matrices (Frobenius inner product), or the Frobenius norm of their
        difference (not divided by sqrt(n_samples)).
    preprocessor : estimator with fit and transform, default=None
        Applied to each side before the metric (cloned per side), e.g.
        ``make_pipeline(StandardScaler(), PCA(10))``. See
        :class:`~skrep.metrics.BaseMetric`.
    device : None, str or torch.device, default=None
        None computes where the data is; ``"cpu"`` or ``"cuda"`` compute with
        torch on that device.

    Attributes
    ----------
    mx_, my_ : array of shape (n_aligned,)
        Column means subtracted from X and Y (zeros if not ``center_columns``).
    Wx_, Wy_ : array of shape (n_aligned, n_aligned)
        Maps into the aligned space: ``(X - mx_) @ Wx_``.
    n_features_in_ : int
        Number of features of X seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a pandas DataFrame with string names.
    n_features_y_ : int
        Number of features of Y seen in ``fit``.
    preprocessor_x_, preprocessor_y_ : estimator
        Fitted clones of ``preprocessor`` (only when it is not None).

    Notes
    -----
    Scale. The distance at alpha=0 and alpha=1 does not change when either
    representation is multiplied by any positive number (from 1e-150 to 1e150
    and beyond), in the single fit and in :meth:`pairwise_distances` alike.
    netrep floors the eigenvalues of ``X.T @ X`` at an absolute ``1e-7``,
    which silently turns alpha=0 into Procrustes for data with standard
    deviations below about 1e-4 (volts, tesla); here the floor is ``1e-7``
    times the mean column variance, which equals netrep's for standardized
    data. The two differ only where eigenvalues reach the floor: data with
    (near-)dependent units, fewer samples than units, and zero padding, where
    the euclidean distance at alpha < 1 differs from netrep's by about 1e-8
    (relative) for data of unit variance.
    :class:`skrep.compat.netrep.LinearMetric` keeps netrep's absolute floor.

    Which settings are metrics. With ``score_method="angular"`` the distance
    satisfies the triangle inequality for every alpha and any widths. With
    ``"euclidean"`` it does for alpha=1, and for alpha < 1 among networks of
    the same width: zero padding rescales the whitened narrower network by a
    factor that depends on its partner's width (netrep's definition), so
    across mixed widths the triangle inequality can fail (by 28% in one
    example with alpha=0). Reduce the networks to one width first (e.g.
    ``preprocessor=PCA(k)``) when a euclidean metric is needed.

    Training distance. ``fit(X, Y).distance(X, Y)`` on the very arrays (same
    memory, unchanged contents) takes the distance from the singular values of the
    whitened cross-product, without mapping the data again; the alignment
    maps ``Wx_`` and ``Wy_`` (a full SVD) are computed when first used.

    Precision. The whitening eigendecomposes ``X.T @ X``, as netrep does; in
    float64 this is accurate well beyond any practical data. In float32 (when
    both inputs are float32) distances agree with float64 to about 1e-6
    (relative) on well-conditioned data and at ``alpha=1`` always, but at
    small ``alpha`` they degrade when units are nearly linear combinations of
    others (covariance eigenvalues below about 1e-7 of the largest are noise in
    float32 and get amplified by the whitening). Use float64 there, or reduce
    the representations first, e.g. ``preprocessor=PCA(k)``. Exactly constant
    ("dead") units and zero padding are handled exactly in both precisions.

    See Also
    --------
    PermutationMetric : Alignment by permuting units only.
    skrep.compat.netrep.LinearMetric : The same metric with netrep's signature and sign.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import LinearMetric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10))
    >>> Q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    >>> metric = LinearMetric(alpha=1.0).fit(X, X @ Q)
    >>> round(metric.distance(X, X @ Q), 12)
    0.0
    """

    pairwise_symmetric = True  # d(X, Y) = d(Y, X): each unordered pair once
    # The eigenvalue floor follows the data's scale (skrep.compat.netrep: netrep's absolute one).
    _relative_eigval_tol = True

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        center_columns: bool = True,
        zero_pad: bool = True,
        score_method: str = "angular",
        preprocessor: Any = None,
        device: Device = None,
    ):
        self.alpha = alpha
        self.center_columns = center_columns
        self.zero_pad = zero_pad
        self.score_method = score_method
        self.preprocessor = preprocessor
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_alpha(self.alpha, f"The 'alpha' parameter of {type(self).__name__}")

    def _fit(self, X: Array, Y: Array) -> None:
        self._set_linear_fit(
            fit_linear(
                X,
                Y,
                float(self.alpha),
                center_columns=bool(self.center_columns),
                relative_tol=self._relative_eigval_tol,
                check_input=False,
            )
        )

    def _set_linear_fit(self, linear_fit: LinearFit) -> None:
        self.mx_, self.my_ = linear_fit.mx, linear_fit.my
        self._linear_fit_ = linear_fit

    @property
    def Wx_(self) -> Array:  # noqa: N802 - scikit-learn's fitted-attribute name
        """Map of X into the aligned space, ``(X - mx_) @ Wx_`` (computed on first use)."""
        check_is_fitted(self)
        return self._linear_fit_.alignment().Wx

    @property
    def Wy_(self) -> Array:  # noqa: N802 - scikit-learn's fitted-attribute name
        """Map of Y into the aligned space, ``(Y - my_) @ Wy_`` (computed on first use)."""
        check_is_fitted(self)
        return self._linear_fit_.alignment().Wy

    def _align_x(self, X: Array) -> Array:
        return apply_alignment(X, self.mx_, self.Wx_, check_input=False)

    def _align_y(self, Y: Array) -> Array:
        return apply_alignment(Y, self.my_, self.Wy_, check_input=False)

    # -- the training distance without mapping the data again ----------------------------
    def fit(self, X: ArrayLike, Y: ArrayLike) -> LinearMetric:
        """Fit the metric to paired representations.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation: one row per stimulus, one column per unit.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        self : LinearMetric
            The fitted metric.
        """
        super().fit(X, Y)
        self._training_inputs_ = TrainingInputs(X, Y, self.get_params(deep=False))
        return self

    def distance(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Distance between X and Y under the fitted metric.

        On the very arrays passed to ``fit`` (the same objects, unchanged),
        the distance comes from the fit itself, without mapping the data.

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
        inputs = self.__dict__.get("_training_inputs_")
        if inputs is not None and inputs.match(X, Y, self.get_params(deep=False)):
            distance = self._linear_fit_.training_distance(self.score_method)
            if distance is not None:
                return distance
        return super().distance(X, Y)

    # -- many networks: whiten once per network, then one Gram product per block ------
    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> PreparedNetwork:
        """Per-network work: preprocess, center and partially whiten once.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Validated training data.
        X_test : array of shape (n_samples_test, n_features) or None
            Validated held-out data, mapped with the training mean and whitening.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        PreparedNetwork
            The prepared data and its squared norms.
        """
        net = super().pairwise_prepare(X, X_test, name, test_name)
        return prepare_linear_network(
            net.train,
            float(self.alpha),
            net.test,
            center_columns=bool(self.center_columns),
            relative_tol=self._relative_eigval_tol,
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
        """Distances of a block of pairs from one Gram product and a batched SVD.

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
        return linear_block_distances(
            nets_a,
            nets_b,
            pairs,
            alpha=float(self.alpha),
            score_method=self.score_method,
            same_block=same_block,
        )
