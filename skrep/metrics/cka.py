"""CKAEstimator: centered kernel alignment (Kornblith et al. 2019) as an estimator."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .._typing import Array, ArrayLike, Device
from ..exceptions import InvalidParameterError
from ..functional._kernel_approximation import APPROXIMATIONS, fit_rbf_map
from ..functional._streaming_hsic import LinearHSICStream, MinibatchHSIC, ratio_standard_error
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
        :meth:`partial_fit` accumulates on the host in float64.
    approximation : {None, "nystroem", "rbf_sampler"}, default=None
        With ``kernel="rbf"``: linear CKA of approximate RBF feature maps of
        X and Y (scikit-learn's :class:`~sklearn.kernel_approximation.Nystroem`
        or :class:`~sklearn.kernel_approximation.RBFSampler`), ``O(n m^2)``
        time and no n x n matrix. The bandwidth (``sigma=None``) is
        ``threshold`` times the median distance among at most 2,000 rows.
        Measured against exact RBF CKA at n = 2,000 (tests): Nystroem with
        m = 500 is within 0.01 (see Notes).
    n_components : int, default=100
        Columns of the approximate feature map (Nystroem: landmark stimuli).
    random_state : int, RandomState or None, default=None
        Seeds the approximate feature maps (and the rows of the bandwidth).

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit.
    feature_names_in_ : ndarray of str
        Column names of X, when X is a DataFrame with string column names.
    n_samples_seen_ : int
        Stimuli accumulated by :meth:`partial_fit` (since the last ``fit``).
    similarity_ : float
        CKA over every stimulus passed to :meth:`partial_fit` so far: exact
        for the linear kernel (and the approximate feature maps), the
        minibatch estimate otherwise (see :meth:`partial_fit`).
    similarity_se_ : float
        Standard error of ``similarity_``: 0 for the exact accumulation; for
        the minibatch estimator the delta-method error of the ratio of means
        of the per-batch HSIC values (NaN for one batch).
    batch_hsic_ : ndarray of shape (n_batches, 3)
        Minibatch estimator only: each batch's unbiased HSIC(K, L),
        HSIC(K, K) and HSIC(L, L).
    bandwidths_ : tuple of float
        RBF kernels in :meth:`partial_fit`: the bandwidths of X and Y (fixed
        at the first batch when ``sigma`` is None).

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

    Stimuli that do not fit in memory go through :meth:`partial_fit`, batch
    by batch. RBF CKA forms two n x n float64 kernels and warns
    (:class:`~skrep.exceptions.KernelMemoryWarning`) before it forms more than
    scikit-learn's ``working_memory`` (or half the available memory). The
    Nystroem approximation's error against exact RBF CKA on 2,000 stimuli of
    a 5-dimensional latent (30 and 20 units, tests/test_cka_streaming.py) is
    below 0.01 with 500 components; random Fourier features
    (``"rbf_sampler"``) need many more components for the same error.

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
        approximation: str | None = None,
        n_components: int = 100,
        random_state: Any = None,
    ):
        self.kernel = kernel
        self.sigma = sigma
        self.threshold = threshold
        self.debiased = debiased
        self.preprocessor = preprocessor
        self.device = device
        self.approximation = approximation
        self.n_components = n_components
        self.random_state = random_state

    pairwise_symmetric = True
    pairwise_min_samples = MIN_CKA_SAMPLES
    pairwise_min_test_samples = MIN_CKA_SAMPLES  # CKA is computed on the held-out rows too

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        check_kernel_params(self.kernel, self.sigma, self.threshold, self.debiased, name)
        if self.approximation is not None and self.approximation not in APPROXIMATIONS:
            raise InvalidParameterError(
                f"The 'approximation' parameter of {name} must be None, 'nystroem' or "
                f"'rbf_sampler'; got {self.approximation!r}."
            )
        if self.approximation is not None and self.kernel != "rbf":
            raise InvalidParameterError(
                f"The 'approximation' parameter of {name} approximates the RBF kernel; got "
                f"approximation={self.approximation!r} with kernel={self.kernel!r}. Use "
                "kernel='rbf', or approximation=None."
            )
        n = self.n_components
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise InvalidParameterError(
                f"The 'n_components' parameter of {name} must be a positive integer; got {n!r}."
            )

    def _approximate(self, X: Array, Y: Array) -> tuple[Any, Any]:
        """Approximate RBF feature maps fitted on X and on Y."""
        return tuple(
            fit_rbf_map(
                A, self.approximation, self.n_components, self.sigma, self.threshold,
                self.random_state, label,
            )
            for A, label in ((X, "X"), (Y, "Y"))
        )  # fmt: skip

    def _similarity(self, X: Array, Y: Array) -> float:
        if self.approximation is not None:
            map_x, map_y = self._approximate(X, Y)
            return cka(map_x.transform(X), map_y.transform(Y), debiased=self.debiased)
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
        if self.approximation is not None:  # a copy fitted per pair
            return super(SimilarityEstimator, self).pairwise_block(
                nets_a, nets_b, pairs, same_block=same_block
            )
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

    # -- stimuli in batches -------------------------------------------------------------------
    def partial_fit(self, X: ArrayLike, Y: ArrayLike) -> CKAEstimator:
        """Accumulate CKA over one more batch of stimuli (rows of X and Y, paired).

        The first call (or the first after ``fit``) starts the accumulation:
        on an unfitted estimator it validates and fits like ``fit`` (the
        preprocessors are fitted on the first batch; call ``fit`` on a
        representative sample first to fit them there instead); ``fit``
        resets it. Every batch must keep the widths of the first (a
        ValueError naming X or Y otherwise). ``similarity_`` is then CKA over
        every stimulus seen, ``n_samples_seen_`` their number. ``score`` is
        unchanged: CKA of the data it receives.

        - ``kernel="linear"`` (and ``approximation``, linear CKA of the
          feature maps fitted on the first batch): exact, the value
          :func:`skrep.functional.cka` gives on all stimuli at once (to
          rounding, also for data far from zero), biased or ``debiased``.
          Memory: ``p_x^2 + p_y^2 + p_x p_y`` float64 (plus ``O(p_x + p_y)``
          when debiased), whatever the number of stimuli.
        - other kernels: the minibatch estimator of Nguyen, Raghu & Kornblith
          (2021): the unbiased HSIC (Song et al. 2012) of each batch,
          averaged over batches, and ``mean HSIC(K, L) / sqrt(mean HSIC(K, K)
          mean HSIC(L, L))``. Each batch needs at least 4 stimuli; the value
          depends on the batch size and estimates population CKA (with
          ``debiased`` either way); ``batch_hsic_`` and ``similarity_se_``
          give its spread. The RBF bandwidth (``sigma=None``) is set from the
          first batch of each side and kept.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_batch, n_features_x)
            A batch of the first representation.
        Y : array-like or torch.Tensor of shape (n_batch, n_features_y)
            The same stimuli in the second representation.

        Returns
        -------
        self : object
            The estimator, with ``similarity_`` updated.
        """
        starting = not hasattr(self, "_stream_")
        fitting = starting and not self.__sklearn_is_fitted__()
        if fitting:
            self._clear_fitted_state()
        try:
            if starting:
                self._check_params()
            X, Y = self._prepare_pair(X, Y, fitting=fitting)
            if starting:
                self._stream_ = self._start_stream(X, Y)
                self.n_samples_seen_ = 0
            stream = self._stream_
            if isinstance(stream, MinibatchHSIC):
                if X.shape[0] < MIN_CKA_SAMPLES:
                    raise ValueError(
                        f"X and Y have {X.shape[0]} rows; the minibatch estimator of "
                        f"{self.kernel!r} CKA needs batches of at least {MIN_CKA_SAMPLES} "
                        "stimuli (the unbiased HSIC of each batch)."
                    )
                stream.update(X, Y)
            else:
                maps = getattr(self, "_feature_maps_", None)
                if maps is not None:
                    X, Y = maps[0].transform(X), maps[1].transform(Y)
                stream.update([X, Y])
        except BaseException:
            if fitting:
                self._clear_fitted_state()
            elif starting:
                for attribute in ("_stream_", "_feature_maps_", "n_samples_seen_"):
                    self.__dict__.pop(attribute, None)
            raise
        self.n_samples_seen_ += X.shape[0]
        return self

    def _start_stream(self, X: Array, Y: Array) -> LinearHSICStream | MinibatchHSIC:
        widths = (X.shape[1], Y.shape[1])
        if self.approximation is not None:
            self._feature_maps_ = self._approximate(X, Y)
            widths = tuple(
                m.transform(A[:1]).shape[1]
                for m, A in zip(self._feature_maps_, (X, Y), strict=True)
            )
        elif self.kernel != "linear":
            return MinibatchHSIC(self.kernel, self.sigma, self.threshold)
        return LinearHSICStream(widths, [(0, 1)], self.debiased, ["X", "Y"])

    def _fitted_stream(self, attribute: str) -> LinearHSICStream | MinibatchHSIC:
        stream = self.__dict__.get("_stream_")
        if stream is None:
            raise AttributeError(
                f"{type(self).__name__} has no {attribute} before partial_fit (fit resets it)."
            )
        return stream

    @property
    def similarity_(self) -> float:
        """CKA over the stimuli passed to :meth:`partial_fit` so far."""
        stream = self._fitted_stream("similarity_")
        if isinstance(stream, MinibatchHSIC):
            a, b, c = np.mean(stream.values, axis=0)
        else:
            values = stream.hsic()
            a, b, c = values[0, 1], values[0, 0], values[1, 1]
        for value, name in ((b, "X"), (c, "Y")):
            if not value > 0:
                raise ValueError(
                    f"{name} has a self-HSIC of {value:.3g} over the {self.n_samples_seen_} "
                    "stimuli seen so far: no variance around its center (or, for the "
                    "unbiased estimators, too few varying stimuli), so CKA is undefined yet; "
                    "expected a representation that varies across stimuli."
                )
        return float(a / math.sqrt(b * c))

    @property
    def similarity_se_(self) -> float:
        """Standard error of ``similarity_`` (0 when exact)."""
        stream = self._fitted_stream("similarity_se_")
        if isinstance(stream, MinibatchHSIC):
            return ratio_standard_error(np.asarray(stream.values))
        return 0.0

    @property
    def batch_hsic_(self) -> np.ndarray:
        """Per-batch unbiased HSIC(K, L), HSIC(K, K), HSIC(L, L) of the minibatch estimator."""
        stream = self._fitted_stream("batch_hsic_")
        if not isinstance(stream, MinibatchHSIC):
            raise AttributeError(
                "batch_hsic_ belongs to the minibatch estimator (kernels other than linear, "
                "without approximation); the linear accumulation is exact."
            )
        return np.asarray(stream.values).reshape(-1, 3)

    @property
    def bandwidths_(self) -> tuple[float, float]:
        """RBF bandwidths of X and Y used by :meth:`partial_fit`."""
        stream = self._fitted_stream("bandwidths_")
        if self.kernel != "rbf":
            raise AttributeError("bandwidths_ exists for kernel='rbf' only.")
        if isinstance(stream, MinibatchHSIC):
            return tuple(stream.sigmas)
        return tuple(m.sigma for m in self._feature_maps_)
