"""Similarity measures as PyTorch training losses.

Each loss is a ``torch.nn.Module`` whose ``forward(X, Y)`` takes two batches
of representations (rows paired: the same stimuli) and returns a 0-d tensor
to minimise, built on the differentiable torch path of
:mod:`skrep.functional` (the values are skrep's, the gradients autograd's).
Use it to align a student's layer to a teacher's or to brain responses, or to
keep a layer near a target geometry::

    loss = CKALoss()(student_layer(x), teacher_features)
    loss.backward()

Importing this module imports torch (``import skrep`` does not).
"""

from __future__ import annotations

import torch

from ._parameters import check_alpha, check_bool, check_regularization_strength
from ._typing import Array
from .exceptions import InvalidParameterError
from .functional._autograd import procrustes_surrogate, torch_result
from .functional.gram import check_kernel_params
from .functional.kernel import cka
from .functional.rdm import compute_rdm
from .functional.rdm_compare import compare_rdms
from .functional.soft_rank import soft_spearman
from .metrics.linear import LinearMetric

__all__ = ["CKALoss", "ShapeMetricLoss", "RSALoss"]

#: RDM methods and comparisons with a gradient.
RSA_LOSS_RDM_METHODS = ("correlation", "cosine", "euclidean", "sqeuclidean")
RSA_LOSS_COMPARISONS = ("pearson", "cosine", "soft_spearman")


class _SimilarityLoss(torch.nn.Module):
    """What the losses share: the batch check and ``extra_repr`` from ``_shown``."""

    _shown: tuple[str, ...] = ()

    @staticmethod
    def _detached(X: Array, Y: Array) -> tuple[Array, Array]:
        """The batches without their graphs (for the value), after checking X is a tensor."""
        if not isinstance(X, torch.Tensor):
            raise TypeError(
                f"X must be a torch.Tensor (the loss is for training); got {type(X).__name__}."
            )
        return X.detach(), Y.detach() if isinstance(Y, torch.Tensor) else Y

    def extra_repr(self) -> str:
        """The settings, for ``print(loss)``.

        Returns
        -------
        str
            The loss's parameters and their values.
        """
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)


class CKALoss(_SimilarityLoss):
    """``1 - CKA(X, Y)``: zero when the two batches agree up to rotation and scale.

    Parameters
    ----------
    kernel : {"linear", "rbf"} or callable, default="linear"
        As in :func:`skrep.functional.cka`; a callable must be written with
        torch operations for gradients to flow.
    sigma : float, default=None
        RBF bandwidth; None uses ``threshold`` times each batch's median
        distance (differentiated too: it is a median of distances).
    threshold : float, default=0.8
        Fraction of the median distance when ``sigma`` is None.
    debiased : bool, default=False
        Use the unbiased HSIC (Song et al. 2012); its CKA can be negative, so
        the loss can exceed 1.

    Notes
    -----
    Batches need at least 4 rows (CKA's minimum) and no constant
    representation. The value is skrep's CKA (float64 accumulation, range
    scaling) and the gradient that of the same formula in float64 torch
    operations; the result has the dtype of ``X`` and lives on its device.

    Examples
    --------
    >>> import torch
    >>> from skrep.losses import CKALoss
    >>> X = torch.randn(32, 8, dtype=torch.float64, requires_grad=True)
    >>> loss = CKALoss()(X, 2.0 * X.detach())
    >>> bool(loss.detach().abs() < 1e-12)
    True
    >>> loss.backward()
    >>> X.grad.shape
    torch.Size([32, 8])
    """

    def __init__(
        self,
        kernel: str = "linear",
        *,
        sigma: float | None = None,
        threshold: float = 0.8,
        debiased: bool = False,
    ) -> None:
        super().__init__()
        check_kernel_params(kernel, sigma, threshold, debiased, type(self).__name__)
        self.kernel, self.sigma, self.threshold, self.debiased = kernel, sigma, threshold, debiased
        self._shown = ("kernel", "sigma", "threshold", "debiased")

    def forward(self, X: Array, Y: Array) -> Array:
        """``1 - CKA(X, Y)`` as a 0-d tensor that carries gradients.

        Parameters
        ----------
        X : torch.Tensor of shape (batch_size, n_features_x)
            One batch of representations (e.g. a student's layer).
        Y : torch.Tensor of shape (batch_size, n_features_y)
            The paired batch (e.g. a teacher's features or brain responses).

        Returns
        -------
        torch.Tensor
            The loss, a 0-d tensor.
        """
        self._detached(X, Y)  # the check; cka itself keeps the graph
        similarity = cka(
            X,
            Y,
            kernel=self.kernel,
            sigma=self.sigma,
            threshold=self.threshold,
            debiased=self.debiased,
        )
        return 1.0 - similarity


class ShapeMetricLoss(_SimilarityLoss):
    """The shape metric distance between two batches, as a loss.

    ``forward(X, Y)`` equals ``LinearMetric(alpha, score_method=...).fit(X,
    Y).distance(X, Y)`` (skrep's value, for the batch) and carries its
    gradient: the optimal rotation is held fixed while differentiating, which
    is exact at the optimum (Danskin's theorem) and needs no SVD derivative,
    so the gradient stays finite where singular values repeat or vanish (a
    representation and itself, rank-deficient layers; 0 at distance 0).

    Parameters
    ----------
    alpha : float in [0, 1], default=1.0
        The shape metric's regularisation: 1 aligns by rotations only
        (Procrustes), 0 by any invertible linear map (both batches whitened:
        a function of the canonical correlations), values in between
        partially whiten. The whitening is differentiated as a matrix
        function of the Gram matrix (Daleckii-Krein divided differences),
        finite where eigenvalues repeat.
    score_method : {"angular", "euclidean"}, default="angular"
        The ground metric, as in :class:`~skrep.metrics.LinearMetric`.
    center_columns : bool, default=True
        Subtract column means first.
    squared : bool, default=False
        Return the squared distance. A distance is not differentiable where
        it is 0 (like a norm): there its gradient is a unit vector made of
        rounding. The square is smooth at its minimum (gradient 0 there).

    Examples
    --------
    >>> import torch
    >>> from skrep.losses import ShapeMetricLoss
    >>> X = torch.randn(32, 6, dtype=torch.float64, requires_grad=True)
    >>> Q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))
    >>> loss = ShapeMetricLoss()(X, X.detach() @ Q)
    >>> bool(loss.detach().abs() < 1e-6)
    True
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        score_method: str = "angular",
        center_columns: bool = True,
        squared: bool = False,
    ) -> None:
        super().__init__()
        alpha = check_alpha(alpha, f"The 'alpha' parameter of {type(self).__name__}")
        if score_method not in ("angular", "euclidean"):
            raise InvalidParameterError(
                f"The 'score_method' parameter of {type(self).__name__} must be 'angular' or "
                f"'euclidean'; got {score_method!r}."
            )
        check_bool(center_columns, "center_columns", type(self).__name__)
        check_bool(squared, "squared", type(self).__name__)
        self.alpha, self.score_method, self.center_columns = alpha, score_method, center_columns
        self.squared = squared
        self._shown = ("alpha", "score_method", "center_columns", "squared")

    def forward(self, X: Array, Y: Array) -> Array:
        """The distance between the batches, a 0-d tensor that carries gradients.

        Parameters
        ----------
        X : torch.Tensor of shape (batch_size, n_features_x)
            One batch of representations.
        Y : torch.Tensor of shape (batch_size, n_features_y)
            The paired batch (widths may differ: the narrower is zero-padded).

        Returns
        -------
        torch.Tensor
            The distance (or its square), a 0-d tensor.
        """
        plain_x, plain_y = self._detached(X, Y)
        metric = LinearMetric(
            self.alpha, score_method=self.score_method, center_columns=self.center_columns
        )
        value = metric.fit(plain_x, plain_y).distance(plain_x, plain_y)
        distance = torch_result(
            value,
            (X, Y),
            lambda: procrustes_surrogate(X, Y, self.score_method, self.center_columns, self.alpha),
        )
        return distance * distance if self.squared else distance


class RSALoss(_SimilarityLoss):
    """``1 - comparison(RDM(X), RDM(Y))``: representational similarity analysis as a loss.

    The rows of each batch are conditions (stimuli) and the columns channels
    (units); the RDMs are :func:`skrep.functional.compute_rdm`'s (condensed)
    and they are compared by :func:`skrep.functional.compare_rdms`, whose
    values the loss takes, with the gradient of the same formulas written in
    torch.

    Parameters
    ----------
    rdm_method : {"correlation", "cosine", "euclidean", "sqeuclidean"}, default="correlation"
        How the RDMs are computed (``"sqeuclidean"`` divided by the number of
        channels, as rsatoolbox does).
    comparison : {"pearson", "cosine", "soft_spearman"}, default="pearson"
        How the RDMs are compared. Hard ranks have no gradient, so Spearman's
        correlation is offered as ``"soft_spearman"``: Pearson's correlation
        of the soft ranks of Blondel et al. (2020), see
        :func:`skrep.functional.soft_spearman`. Its value is the soft one
        (within about 1e-4 of Spearman's on typical RDMs at the default
        strength, equal to it as the strength goes to 0). Kendall's tau is
        refused.
    regularization_strength : float, default=0.1
        The soft ranks' unit-free regularisation (``"soft_spearman"`` only):
        smaller is closer to Spearman's correlation, larger to Pearson's.

    Examples
    --------
    >>> import torch
    >>> from skrep.losses import RSALoss
    >>> X = torch.randn(20, 6, dtype=torch.float64, requires_grad=True)
    >>> loss = RSALoss()(X, 3.0 * X.detach() + 1.0)
    >>> bool(loss.detach().abs() < 1e-12)
    True
    """

    def __init__(
        self,
        rdm_method: str = "correlation",
        *,
        comparison: str = "pearson",
        regularization_strength: float = 0.1,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if rdm_method not in RSA_LOSS_RDM_METHODS:
            raise InvalidParameterError(
                f"The 'rdm_method' parameter of {name} must be one of {RSA_LOSS_RDM_METHODS}; "
                f"got {rdm_method!r}."
            )
        if comparison not in RSA_LOSS_COMPARISONS:
            raise InvalidParameterError(
                f"The 'comparison' parameter of {name} must be one of {RSA_LOSS_COMPARISONS} "
                f"(hard ranks have no gradient: use 'soft_spearman'); got {comparison!r}."
            )
        self.rdm_method, self.comparison = rdm_method, comparison
        self.regularization_strength = check_regularization_strength(regularization_strength, name)
        self._shown = ("rdm_method", "comparison")
        if comparison == "soft_spearman":
            self._shown += ("regularization_strength",)

    def forward(self, X: Array, Y: Array) -> Array:
        """``1 -`` the comparison of the two batches' RDMs, a 0-d tensor that carries gradients.

        Parameters
        ----------
        X : torch.Tensor of shape (n_conditions, n_channels_x)
            One batch: a row per condition.
        Y : torch.Tensor of shape (n_conditions, n_channels_y)
            The paired batch (the same conditions, any channels).

        Returns
        -------
        torch.Tensor
            The loss, a 0-d tensor.
        """
        self._detached(X, Y)  # the check; compute_rdm and the comparisons keep the graph
        like = X.dtype if X.is_floating_point() else torch.float64
        rdms = [compute_rdm(torch.as_tensor(A, device=X.device), self.rdm_method) for A in (X, Y)]
        if self.comparison == "soft_spearman":
            similarity = soft_spearman(
                rdms[0].reshape(-1).to(like),
                rdms[1].reshape(-1).to(like),
                self.regularization_strength,
            )
        else:
            similarity = compare_rdms(*rdms, self.comparison)[0, 0]
        return (1.0 - similarity).to(like)
