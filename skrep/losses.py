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

from ._typing import Array
from .functional.gram import check_kernel_params
from .functional.kernel import cka

__all__ = ["CKALoss"]


class CKALoss(torch.nn.Module):
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
    >>> round(float(loss), 12)
    0.0
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
        if not isinstance(X, torch.Tensor):
            raise TypeError(
                f"X must be a torch.Tensor (the loss is for training); got {type(X).__name__}."
            )
        similarity = cka(
            X,
            Y,
            kernel=self.kernel,
            sigma=self.sigma,
            threshold=self.threshold,
            debiased=self.debiased,
        )
        return 1.0 - similarity

    def extra_repr(self) -> str:
        """The settings, for ``print(loss)``.

        Returns
        -------
        str
            The kernel and whether HSIC is debiased.
        """
        return f"kernel={self.kernel!r}, debiased={self.debiased}"
