"""EnergyStochasticMetric: energy distance between response distributions, after alignment.

The estimator shell over :mod:`skrep.functional.energy_stochastic`; the input
handling shared with the Gaussian metric is in
:class:`skrep.metrics.stochastic_base.StochasticMetric`, and the input forms
are those of :mod:`skrep.metrics.stochastic` (repeated responses, or one
response per class).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._typing import Array, Device
from ..functional.energy_stochastic import (
    check_energy_estimate,
    energy_distance,
    energy_within_mean,
    fit_energy_alignments,
)
from ..functional.group_alignment import as_float64, working_scale
from .stochastic_base import StochasticMetric, _at_common_scale, _Scaled, _zero_pad

if TYPE_CHECKING:
    from ..functional.energy_stochastic import EnergyAlignment
    from .stochastic_base import _Responses

__all__ = ["EnergyStochasticMetric"]


def _rescale_responses(responses: Array, ratio: float) -> Array:
    return responses if ratio == 1.0 else responses * ratio


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
        return self._fit_many_scaled([x], [y])[0]

    def _fit_many_scaled(self, xs: list[_Scaled], ys: list[_Scaled]) -> list[tuple]:
        """:meth:`_fit_scaled` of many pairs, fitted together."""
        scaled = [_at_common_scale(x, y, _rescale_responses) for x, y in zip(xs, ys, strict=True)]
        results = fit_energy_alignments(
            [X for X, _, _ in scaled],
            [Y for _, Y, _ in scaled],
            group=self.group,
            max_iter=self.max_iter,
            tol=self.tol,
            check_input=False,
        )
        fits = []
        for result, (X, Y, scale) in zip(results, scaled, strict=True):
            if scale != 1.0:  # sqrt(scale) is exact for a power of four
                result = result._replace(
                    weights=result.weights / math.sqrt(scale),
                    loss_history=[value * scale for value in result.loss_history],
                )
            fits.append((result, X, Y, scale))
        return fits

    def _fit_summaries(self, x: _Scaled, y: _Scaled) -> tuple[Array, float, EnergyAlignment]:
        """Fit on two response stacks: (alignment, training distance, full result)."""
        return self._fit_many_summaries([x], [y])[0]

    @staticmethod
    def _pair_bytes(n_classes: int, n_repeats: int, width: int) -> int:
        # Residuals, weights and temporaries per pair of repeats; both stacks.
        return 8 * n_classes * (6 * n_repeats**2 + 4 * n_repeats * width)

    def _fit_many_summaries(self, xs: list[_Scaled], ys: list[_Scaled]) -> list[tuple]:
        """:meth:`_fit_summaries` of many pairs, fitted together.

        The energy distance is ``E|x - yQ| - (E|x - x'| + E|y - y'|) / 2``: the
        cross term is the fit's last loss (the mean distance between aligned
        repeats, at the returned ``Q``), and the within terms depend on one
        network each, so each network's is computed once, not once per pair.
        """
        within: dict[int, float] = {}

        def within_mean(responses: _Scaled) -> float:  # in the units of the responses
            key = id(responses.summary)
            if key not in within:
                A = responses.summary
                value = energy_within_mean(A, check_input=False) * responses.scale
                if self.estimate == "empirical":  # all pairs, a repeat with itself included
                    value *= (A.shape[1] - 1) / A.shape[1]
                within[key] = value
            return within[key]

        fits = []
        for x, y, (result, *_) in zip(xs, ys, self._fit_many_scaled(xs, ys), strict=True):
            energy = result.loss_history[-1] - (within_mean(x) + within_mean(y)) / 2
            fits.append((result.Q, math.sqrt(max(energy, 0.0)), result))
        return fits

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
