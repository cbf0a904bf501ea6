"""Stochastic shape metrics: GaussianStochasticMetric and EnergyStochasticMetric.

Both compare two networks' *distributions* of responses to each stimulus
class (Duong et al., ICLR 2023), after aligning the second network to the
first with one transform shared by all classes. The math lives in
:mod:`skrep.functional.stochastic` (``gaussian_stochastic`` and
``energy_stochastic`` there); the input handling shared by both classes in
:class:`skrep.metrics.stochastic_base.StochasticMetric`. These classes
validate inputs, keep the fitted alignment and follow the estimator contract
of :mod:`skrep.metrics` (``score`` is the negative distance).

Input forms
-----------
- ``(n_classes, n_repeats, n_features)`` arrays: repeated responses. They can
  be split by class, so ``cross_validate(metric, X, Y, cv=...)`` holds out
  whole stimulus classes.
- ``(n_classes, n_features)`` arrays: one deterministic response per class
  (a point mass: zero covariance, no spread).
- For the Gaussian metric, netrep's ``(means, covariances)`` tuple, with
  shapes ``(n_classes, n_features)`` and ``(n_classes, n_features, n_features)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import array_api_compat

from .._array import get_namespace
from .._typing import Array, Device, RandomState
from .._validation import check_gaussian_alpha, check_positive_int
from ..exceptions import InvalidParameterError
from ..functional.energy_stochastic import (
    check_energy_estimate,
    energy_distance,
    fit_energy_alignment,
)
from ..functional.gaussian_stochastic import (
    GaussianStatistics,
    class_statistics,
    fit_gaussian_alignment,
    gaussian_sq_distances,
    gaussian_statistics,
)
from ..functional.group_alignment import as_float64, working_scale
from .stochastic_base import StochasticMetric, _Scaled, _zero_pad

if TYPE_CHECKING:
    from ..functional.energy_stochastic import EnergyAlignment
    from ..functional.gaussian_stochastic import GaussianAlignment
    from .stochastic_base import _Responses

__all__ = ["GaussianStochasticMetric", "EnergyStochasticMetric"]


def _at_common_scale(
    x: _Scaled, y: _Scaled, rescale: Callable[[Any, float], Any]
) -> tuple[Any, Any, float]:
    """Two summaries brought to the larger of their scales: ``(x, y, scale)``.

    The ratio of two powers of four is one too, so the rescaling is exact.
    """
    scale = max(x.scale, y.scale)
    return rescale(x.summary, x.scale / scale), rescale(y.summary, y.scale / scale), scale


def _rescale_statistics(stats: GaussianStatistics, ratio: float) -> GaussianStatistics:
    if ratio == 1.0:
        return stats
    return GaussianStatistics(
        stats.means * ratio, stats.sqrt_covariances * ratio, stats.traces * (ratio * ratio)
    )


def _rescale_responses(responses: Array, ratio: float) -> Array:
    return responses if ratio == 1.0 else responses * ratio


class GaussianStochasticMetric(StochasticMetric):
    """Distance between networks whose responses to each class are Gaussian.

    For stimulus classes ``i`` with response means ``m_i`` and covariances
    ``S_i``, the squared distance is::

        mean_i [alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)]

    minimised over alignments ``T`` of the ``group``. ``alpha = 1`` gives the
    2-Wasserstein distance between the class-conditional Gaussians, ``alpha = 2``
    compares means only (``sqrt(2 / n_classes)`` times the Procrustes
    Euclidean distance of the means), ``alpha = 0`` covariances only. The fit
    minimises this objective itself (netrep weights the two terms
    ``alpha^2 : (2 - alpha)^2``, which differs from its score unless alpha is
    0, 1 or 2), and singular covariances are fine.

    A metric: for every alpha in [0, 2] the distance at the optimal alignment
    is a metric between networks (up to the group). The fit is local, so
    the guarantees are: a network's distance to itself is 0 and ``d(X, Y) ==
    d(Y, X)`` to rounding, on every input (the pair is fitted in one canonical
    order); the triangle inequality held on 2,000 random triples of rotations
    with ``n_restarts=5`` (about 1 in 1,000 breaks it with the default single
    start), while the assignment search of ``group="perm"`` missed it on 5 of
    2,000 even then.

    .. important:: ``score`` returns the *negative* distance (higher is
       better); :meth:`distance` returns the distance, netrep's ``score``.

    Parameters
    ----------
    alpha : float in [0, 2], default=1.0
        Weight of the means; ``2 - alpha`` weighs the covariances.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched: rotations and reflections, permutations of
        units, or none.
    init : {"means", "rand"}, default="means"
        Start from the alignment of the class means (netrep's start; for
        rotations also from its reflection, and from the identity where that
        is already as close), or from random group elements only.
    n_restarts : int, default=1
        One more than the random starts added (``"means"``), or the number of
        random starts (``"rand"``); the lowest distance wins.
    max_iter : int, default=1000
        Iterations per start (each evaluates the objective once).
    tol : float, default=1e-10
        Relative tolerance on the squared distance: the fit stops when the
        trust-region Newton model (rotations) or a minorise-maximise step
        (permutations) gains less than ``tol`` times it. See
        :func:`skrep.functional.stochastic.fit_gaussian_alignment`.
    random_state : int, RandomState instance or None, default=None
        Seed of the random starts.
    covariance_estimator : estimator from ``sklearn.covariance``, default=None
        For (n_classes, n_repeats, n_features) input: how each class's
        covariance is estimated. None is the unbiased sample covariance
        (``np.cov``); e.g. ``LedoitWolf()`` or ``OAS()`` shrink it (useful
        with few repeats).
    zero_pad : bool, default=True
        If the networks have different numbers of units, append zero units
        to the narrower one (the alignment then has the larger width). If
        False, different widths raise an error.
    device : None, str or torch.device, default=None
        None computes where the data is; ``"cpu"`` or ``"cuda"`` compute with
        torch on that device.

    Attributes
    ----------
    T_ : array of shape (n_features, n_features)
        The alignment: Y's responses are aligned as ``y @ T_``. float64
        whatever the input dtype: float32 responses are computed in float64,
        since float32 cross-products of responses far from zero lose their
        digits (``transform`` returns float32 for float32 input).
    loss_history_ : list of float
        Squared distance after each iteration of the best start.
    n_iter_ : int
        Iterations of the best start.
    converged_ : bool
        Whether the best start met ``tol`` within ``max_iter``.
    n_features_in_ : int
        Number of units of X.
    n_features_y_ : int
        Number of units of Y.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a 2-D pandas DataFrame with string names.

    See Also
    --------
    EnergyStochasticMetric : A distribution-free stochastic metric.
    skrep.metrics.LinearMetric : The deterministic shape metrics.

    References
    ----------
    L. Duong, J. Zhou, J. Nassar, J. Berman, J. Olieslagers and A. H. Williams,
    "Representational dissimilarity metric spaces for stochastic neural
    networks", ICLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import GaussianStochasticMetric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 30, 3))  # 8 classes x 30 repeats x 3 units
    >>> rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    >>> metric = GaussianStochasticMetric().fit(X, X @ rotation)
    >>> round(metric.distance(X, X @ rotation), 6)
    0.0
    """

    _reference_attribute = "T_"
    _accepts_moments = True

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        group: str = "orth",
        init: str = "means",
        n_restarts: int = 1,
        max_iter: int = 1000,
        tol: float = 1e-10,
        random_state: RandomState = None,
        covariance_estimator: Any = None,
        zero_pad: bool = True,
        device: Device = None,
    ):
        self.alpha = alpha
        self.group = group
        self.init = init
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.covariance_estimator = covariance_estimator
        self.zero_pad = zero_pad
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        check_gaussian_alpha(self.alpha, f"The 'alpha' parameter of {name}")
        if not isinstance(self.init, str) or self.init not in ("means", "rand"):
            raise InvalidParameterError(
                f"The 'init' parameter of {name} must be 'means' (align the class means "
                f"first) or 'rand' (random starts); got {self.init!r}."
            )
        check_positive_int(self.n_restarts, "n_restarts", name)
        estimator = self.covariance_estimator
        if estimator is not None and (isinstance(estimator, type) or not hasattr(estimator, "fit")):
            raise InvalidParameterError(
                f"The 'covariance_estimator' parameter of {name} must be None or an "
                "estimator from sklearn.covariance such as LedoitWolf(); got "
                f"{estimator!r}."
            )

    def _summarise(self, responses: _Responses) -> _Scaled:
        """Means, covariance square roots and traces of one validated input.

        Computed in float64 (float32 cross-products of responses far from
        zero lose their digits), on the responses divided by a power of four
        when their products would overflow or underflow.
        """
        arrays = tuple(as_float64(a) for a in responses.arrays)
        xp = get_namespace(arrays[0])
        if responses.kind == "moments":
            means, covariances = arrays
            scale = working_scale(means, xp.sqrt(xp.abs(covariances)))
            if scale != 1.0:
                means, covariances = means / scale, covariances / scale / scale
        elif responses.kind == "repeats":
            scale = working_scale(arrays[0])
            responses_at_scale = arrays[0] / scale if scale != 1.0 else arrays[0]
            means, covariances = class_statistics(responses_at_scale, self.covariance_estimator)
        else:
            scale = working_scale(arrays[0])
            means = arrays[0] / scale if scale != 1.0 else arrays[0]
            n_classes, n_features = means.shape
            covariances = xp.zeros(
                (n_classes, n_features, n_features),
                dtype=means.dtype,
                device=array_api_compat.device(means),
            )
        return _Scaled(gaussian_statistics(means, covariances), scale)

    @staticmethod
    def _summary_width(stats: _Scaled) -> int:
        return stats.summary.means.shape[1]

    @staticmethod
    def _pad_summary(stats: _Scaled, width: int) -> _Scaled:
        # Zero units have zero mean and variance: padding the square roots is exact.
        summary = stats.summary
        padded = GaussianStatistics(
            _zero_pad(summary.means, width),
            _zero_pad(summary.sqrt_covariances, width, axes=(-1, -2)),
            summary.traces,
        )
        return _Scaled(padded, stats.scale)

    def _fit_summaries(self, x: _Scaled, y: _Scaled) -> tuple[Array, float, GaussianAlignment]:
        """Fit on two summaries: (alignment, training distance, full result).

        The result's squared distances are in the units of the responses
        (``inf`` beyond the float64 range: responses near 1e154 or more).
        """
        stats_x, stats_y, scale = _at_common_scale(x, y, _rescale_statistics)
        result = fit_gaussian_alignment(
            stats_x,
            stats_y,
            alpha=float(self.alpha),
            group=self.group,
            init=self.init,
            n_restarts=self.n_restarts,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
        )
        distance = math.sqrt(result.sq_distance) * scale
        if scale != 1.0:
            result = result._replace(
                sq_distance=result.sq_distance * scale * scale,
                loss_history=[value * scale * scale for value in result.loss_history],
            )
        return result.T, distance, result

    def _distance_summaries(self, x: _Scaled, y: _Scaled, T: Array) -> float:
        stats_x, stats_y, scale = _at_common_scale(x, y, _rescale_statistics)
        xp = get_namespace(T)
        terms = gaussian_sq_distances(stats_x, stats_y, T, float(self.alpha), check_input=False)
        return math.sqrt(max(float(xp.mean(terms)), 0.0)) * scale

    def _fit(self, x: _Responses, y: _Responses) -> None:
        self.T_, _, result = self._fit_summaries(self._summarise(x), self._summarise(y))
        self.loss_history_ = list(result.loss_history)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged

    def _alignment(self) -> Array:
        return self.T_

    def _distance(self, x: _Responses, y: _Responses) -> float:
        return self._distance_summaries(self._summarise(x), self._summarise(y), self.T_)


class EnergyStochasticMetric(StochasticMetric):
    """Energy distance between networks' response distributions, after alignment.

    For each stimulus class, the energy distance between the two networks'
    empirical response distributions, ``E|x - yQ| - (E|x - x'| + E|y - y'|) / 2``,
    averaged over classes; the distance is its square root (zero when
    negative). Not a metric on finite samples: netrep's estimate takes the
    within-network expectations over distinct pairs of repeats (unbiased),
    so it can be negative and is clipped at 0, and the triangle inequality
    fails on small samples (by up to 100% of the distance on 4 classes x 10
    repeats x 3 units); a network's distance to itself is 0 and the
    distance is symmetric. The alignment ``Q`` minimises the mean distance between
    aligned repeats, by netrep's iteratively reweighted least squares.
    Matches netrep's ``EnergyStochasticMetric`` (within-network expectations
    over distinct pairs of repeats), without forming all pairs of repeats
    as rows: memory grows with ``n_classes * n_repeats**2``, not times
    ``n_features``.

    .. important:: ``score`` returns the *negative* distance (higher is
       better); :meth:`distance` returns the distance, netrep's ``score``.

    Parameters
    ----------
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched: rotations and reflections, permutations of
        units, or none.
    max_iter : int, default=100
        Reweighting iterations.
    tol : float, default=1e-6
        Stop when the mean distance between aligned repeats falls by less
        than ``tol`` (netrep's rule).
    estimate : {"unbiased", "empirical"}, default="unbiased"
        The within-network expectations over distinct pairs of repeats
        (netrep's unbiased estimate, clipped at 0: not a metric on finite
        samples), or over all pairs: the energy distance between the
        empirical distributions, never negative, whose square root is a
        metric between them (the triangle inequality held on 2,000 random
        triples of rotations, and on all but 1 with permutations, a local
        assignment; the unbiased estimate broke it by up to 100%).
    zero_pad : bool, default=True
        If the networks have different numbers of units, append zero units
        to the narrower one (the alignment then has the larger width). If
        False, different widths raise an error.
    device : None, str or torch.device, default=None
        None computes where the data is; ``"cpu"`` or ``"cuda"`` compute with
        torch on that device.

    Attributes
    ----------
    Q_ : array of shape (n_features, n_features)
        The alignment: Y's responses are aligned as ``y @ Q_``. float64
        whatever the input dtype, as for
        :class:`GaussianStochasticMetric` (``transform`` returns float32 for
        float32 input).
    weights_ : array of shape (n_classes, n_repeats_x, n_repeats_y)
        Final weights of every pair of repeats.
    loss_history_ : list of float
        Mean distance between aligned repeats, before fitting and after each
        iteration.
    n_iter_ : int
        Iterations run.
    n_features_in_ : int
        Number of units of X.
    n_features_y_ : int
        Number of units of Y.
    feature_names_in_ : ndarray of str
        Column names of X, when X was a 2-D pandas DataFrame with string names.

    See Also
    --------
    GaussianStochasticMetric : Compares class means and covariances.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics import EnergyStochasticMetric
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((6, 10, 3))  # 6 classes x 10 repeats x 3 units
    >>> rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    >>> metric = EnergyStochasticMetric().fit(X, X @ rotation)
    >>> metric.distance(X, X @ rotation) < 1e-6
    True
    """

    _reference_attribute = "Q_"

    #: netrep's estimate unless set (the drop-in's signature has no ``estimate``).
    estimate = "unbiased"

    def __init__(
        self,
        *,
        group: str = "orth",
        max_iter: int = 100,
        tol: float = 1e-6,
        estimate: str = "unbiased",
        zero_pad: bool = True,
        device: Device = None,
    ):
        self.group = group
        self.max_iter = max_iter
        self.tol = tol
        self.estimate = estimate
        self.zero_pad = zero_pad
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_energy_estimate(self.estimate, type(self).__name__)

    @staticmethod
    def _summarise(responses: _Responses) -> _Scaled:
        """The responses as a float64 stack, divided by a power of four at extreme scales."""
        A = as_float64(responses.arrays[0])
        A = A if A.ndim == 3 else A[:, None, :]
        scale = working_scale(A)
        return _Scaled(A / scale if scale != 1.0 else A, scale)

    @staticmethod
    def _summary_width(responses: _Scaled) -> int:
        return responses.summary.shape[-1]

    @staticmethod
    def _pad_summary(responses: _Scaled, width: int) -> _Scaled:
        return _Scaled(_zero_pad(responses.summary, width), responses.scale)

    def _fit_scaled(self, x: _Scaled, y: _Scaled) -> tuple[EnergyAlignment, Array, Array, float]:
        """The fit on two summaries at their common scale: (result, X, Y, scale).

        The result's loss history and weights are in the units of the responses.
        """
        X, Y, scale = _at_common_scale(x, y, _rescale_responses)
        result = fit_energy_alignment(
            X, Y, group=self.group, max_iter=self.max_iter, tol=self.tol, check_input=False
        )
        if scale != 1.0:  # sqrt(scale) is exact for a power of four
            result = result._replace(
                weights=result.weights / math.sqrt(scale),
                loss_history=[value * scale for value in result.loss_history],
            )
        return result, X, Y, scale

    def _fit_summaries(self, x: _Scaled, y: _Scaled) -> tuple[Array, float, EnergyAlignment]:
        """Fit on two response stacks: (alignment, training distance, full result)."""
        result, X, Y, scale = self._fit_scaled(x, y)
        distance = energy_distance(
            X, Y @ result.Q, check_input=False, estimate=self.estimate
        ) * math.sqrt(scale)
        return result.Q, distance, result

    def _distance_summaries(self, x: _Scaled, y: _Scaled, Q: Array) -> float:
        X, Y, scale = _at_common_scale(x, y, _rescale_responses)
        return energy_distance(X, Y @ Q, check_input=False, estimate=self.estimate) * math.sqrt(
            scale
        )

    def _fit(self, x: _Responses, y: _Responses) -> None:
        result, *_ = self._fit_scaled(self._summarise(x), self._summarise(y))
        self.Q_ = result.Q
        self.weights_ = result.weights
        self.loss_history_ = list(result.loss_history)
        self.n_iter_ = result.n_iter

    def _alignment(self) -> Array:
        return self.Q_

    def _distance(self, x: _Responses, y: _Responses) -> float:
        return self._distance_summaries(self._summarise(x), self._summarise(y), self.Q_)
