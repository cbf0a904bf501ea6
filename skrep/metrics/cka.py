"""CKAEstimator: centered kernel alignment (Kornblith et al. 2019) as an estimator."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .._typing import Array, ArrayLike, Device
from ..functional.hsic import MIN_CKA_SAMPLES
from ..functional.kernel import check_kernel_params, cka, cka_between
from ._similarity import SimilarityEstimator

if TYPE_CHECKING:
    from ..engine import PreparedData

__all__ = ["CKAEstimator"]


class _NamedLayer(NamedTuple):
    """A layer prepared for CKA blocks: its (preprocessed) data and names for messages."""

    train: object
    test: object
    name: str
    test_name: str


class CKAEstimator(SimilarityEstimator):
    """Centered kernel alignment between two representations.

    ``score(X, Y)`` is CKA (Kornblith et al. 2019), a similarity in [0, 1]
    (1 for representations equal up to rotation and isotropic scaling with
    the linear kernel); ``distance(X, Y)`` is ``arccos(CKA)``, the angle
    between the centered Gram matrices, a metric (Williams et al. 2021).

    Parameters
    ----------
    kernel : {"linear", "rbf"} or callable, default="linear"
        "linear" (computed through the feature space when there are more
        stimuli than features, through Gram matrices otherwise), "rbf"
        (Gaussian, in float64), or a callable mapping one representation to
        its (n_samples, n_samples) Gram matrix, e.g.
        ``functools.partial(sklearn.metrics.pairwise.polynomial_kernel, degree=2)``.
    sigma : float, default=None
        RBF bandwidth shared by both sides; None uses ``threshold`` times each
        representation's median distance.
    threshold : float, default=0.8
        Fraction of the median distance (over all n^2 pairs, the zero
        diagonal included, as in Kornblith et al.'s code) when ``sigma`` is
        None.
    debiased : bool, default=False
        Use the unbiased HSIC U-statistic of Song et al. (2012). Debiased CKA
        is less biased upwards for few stimuli and many units, and can be
        negative for unrelated representations.
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y (e.g. ``PCA(50)``).
    device : None, str or torch.device, default=None
        Where to compute: None where the data is; "cpu" or "cuda" with torch.

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit.
    feature_names_in_ : ndarray of str
        Column names of X, when X is a DataFrame with string column names.

    See Also
    --------
    skrep.functional.cka : The function.
    skrep.layer_similarity : CKA of every pair of layers at once.

    Notes
    -----
    CKA learns nothing from the training stimuli: ``fit`` checks the inputs
    and fits the preprocessors, and ``score`` computes CKA on the data it is
    given, so ``cross_validate`` reports CKA on each held-out fold. It needs
    at least 4 stimuli, and raises for a representation without variance.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import CKAEstimator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10))
    >>> Q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    >>> round(CKAEstimator().fit(X, 3 * X @ Q).score(X, 3 * X @ Q), 6)
    1.0
    """

    has_distance = True

    def __init__(
        self,
        kernel: str | Callable[[Array], ArrayLike] = "linear",
        *,
        sigma: float | None = None,
        threshold: float = 0.8,
        debiased: bool = False,
        preprocessor: Any = None,
        device: Device = None,
    ):
        self.kernel = kernel
        self.sigma = sigma
        self.threshold = threshold
        self.debiased = debiased
        self.preprocessor = preprocessor
        self.device = device

    pairwise_symmetric = True
    pairwise_min_samples = MIN_CKA_SAMPLES
    pairwise_min_test_samples = MIN_CKA_SAMPLES  # CKA is computed on the held-out rows too

    def _check_params(self) -> None:
        super()._check_params()
        check_kernel_params(
            self.kernel, self.sigma, self.threshold, self.debiased, type(self).__name__
        )

    def _similarity(self, X: Array, Y: Array) -> float:
        return cka(
            X,
            Y,
            kernel=self.kernel,
            sigma=self.sigma,
            threshold=self.threshold,
            debiased=self.debiased,
        )

    # -- many layers: the Gram statistics of a block of layers at once -------------------
    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> _NamedLayer:
        """Per-layer work: the preprocessor; the layer keeps its names for messages.

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
        tuple
            The (preprocessed) data and the names, for :meth:`pairwise_block`.
        """
        # No centering here: the block's Gram statistics center each layer (and
        # reject a constant one by these names), once per block.
        data = super().pairwise_prepare(X, X_test, name, test_name)
        return _NamedLayer(data.train, data.test, name, test_name)

    def pairwise_block(
        self,
        nets_a: Sequence[_NamedLayer],
        nets_b: Sequence[_NamedLayer],
        pairs: Sequence[tuple[int, int]],
        *,
        same_block: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """CKA of a block of pairs, from one set of Gram statistics of the block's layers.

        Parameters
        ----------
        nets_a, nets_b : sequence of prepared layers
            The layers of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Both sides are the same layers (their statistics are computed once).

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            CKA on the training data.
        test : ndarray of shape (n_pairs,) or None
            CKA on the held-out data.
        """
        options = {
            "kernel": self.kernel,
            "sigma": self.sigma,
            "threshold": self.threshold,
            "debiased": self.debiased,
        }
        rows, columns = np.array(pairs).T

        def values(side: str, names: str) -> np.ndarray:
            first = [getattr(net, side) for net in nets_a]
            second = None if same_block else [getattr(net, side) for net in nets_b]
            matrix = cka_between(
                first,
                second,
                names_a=[getattr(net, names) for net in nets_a],
                names_b=None if same_block else [getattr(net, names) for net in nets_b],
                **options,
            )
            return matrix[rows, columns]

        has_test = nets_a[0].test is not None
        return values("train", "name"), (values("test", "test_name") if has_test else None)

    def pairwise_block_size(self, networks: Sequence[PreparedData], budget_bytes: int) -> int:
        """Most layers per block whose Gram statistics fit ``budget_bytes``.

        Linear kernels hold, per layer, a slab of 256 rows of its Gram matrix
        and its centered features; other kernels hold the whole ``n x n`` Gram
        matrix in float64. A block holds the layers of two groups.

        Parameters
        ----------
        networks : sequence of PreparedData
            The validated layers.
        budget_bytes : int
            Working memory per task.

        Returns
        -------
        int
            Layers per group.
        """
        n = networks[0].train.shape[0]
        if self.kernel == "linear":
            itemsize = networks[0].train.dtype.itemsize
            width = max(net.train.shape[1] for net in networks)
            per_layer = (min(n, 256) * n + n * width) * itemsize
        else:
            per_layer = 2 * n * n * 8  # the Gram matrix and its squared distances
        return max(1, int(budget_bytes // (2 * per_layer)))

    def distance(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Angular CKA distance ``arccos(CKA)``, in [0, pi].

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            0 for representations CKA cannot tell apart.
        """
        return math.acos(min(1.0, max(-1.0, self.score(X, Y))))
