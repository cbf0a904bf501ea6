"""LinearMetric: generalized shape metrics between CCA (alpha=0) and Procrustes (alpha=1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._typing import Array, Device
from .._validation import check_alpha
from ..functional.linear import (
    apply_alignment,
    fit_linear_alignment,
    linear_block_distances,
    prepare_linear_network,
)
from ..functional.network_blocks import PreparedNetwork
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
    triangle inequality) for every alpha.

    Results match netrep's ``LinearMetric`` to machine precision.

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
        (the whitening uses the raw Gram matrix ``X.T @ X``).
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
        self.mx_, self.my_, self.Wx_, self.Wy_ = fit_linear_alignment(
            X, Y, float(self.alpha), center_columns=bool(self.center_columns), check_input=False
        )

    def _align_x(self, X: Array) -> Array:
        return apply_alignment(X, self.mx_, self.Wx_, check_input=False)

    def _align_y(self, Y: Array) -> Array:
        return apply_alignment(Y, self.my_, self.Wy_, check_input=False)

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
