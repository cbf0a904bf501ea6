"""Stochastic shape metrics: GaussianStochasticMetric and EnergyStochasticMetric.

Both compare two networks' *distributions* of responses to each stimulus
class (Duong et al., ICLR 2023), after aligning the second network to the
first with one transform shared by all classes. The math lives in
:mod:`skrep.functional.stochastic`; these classes validate inputs, keep the
fitted alignment and follow the estimator contract of :mod:`skrep.metrics`
(``score`` is the negative distance).

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
from typing import NamedTuple

import array_api_compat
import numpy as np
from sklearn.utils import TransformerTags
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import convert_like, floating_dtype, get_namespace, move_to_device
from .._validation import (
    check_gaussian_alpha,
    check_positive_int,
    check_responses,
    check_tolerance,
    check_width,
)
from ..exceptions import InvalidParameterError
from ..functional.batched import PreparedNetwork
from ..functional.stochastic import (
    GaussianStatistics,
    check_group,
    class_statistics,
    energy_distance,
    fit_energy_alignment,
    fit_gaussian_alignment,
    gaussian_sq_distances,
    gaussian_statistics,
)
from ._base import BaseMetric, _check_bool, _check_device

__all__ = ["GaussianStochasticMetric", "EnergyStochasticMetric"]


class _Responses(NamedTuple):
    """A validated input: its form and its arrays.

    ``kind`` is "moments" (arrays = means, covariances), "repeats" (arrays =
    one (n_classes, n_repeats, n_features) array) or "points" (one
    (n_classes, n_features) array).
    """

    kind: str
    arrays: tuple

    @property
    def n_classes(self):
        return self.arrays[0].shape[0]

    @property
    def n_features(self):
        return self.arrays[0].shape[-1]

    def map(self, function):
        return _Responses(self.kind, tuple(function(a) for a in self.arrays))

    def padded(self, width):
        """The same responses with zero units appended up to ``width``."""
        if self.kind == "moments":
            means, covariances = self.arrays
            return _Responses(
                "moments", (_zero_pad(means, width), _zero_pad(covariances, width, axes=(-1, -2)))
            )
        return self.map(lambda a: _zero_pad(a, width))


def _zero_pad(a, width, axes=(-1,)):
    """Append zeros along ``axes`` (units) so that each has length ``width``."""
    missing = width - a.shape[axes[0]]
    if missing <= 0:
        return a
    xp = get_namespace(a)
    for axis in axes:
        shape = list(a.shape)
        shape[axis] = missing
        zeros = xp.zeros(tuple(shape), dtype=a.dtype, device=array_api_compat.device(a))
        a = xp.concat([a, zeros], axis=axis)
    return a


def _is_moments_tuple(data):
    return isinstance(data, (tuple, list)) and len(data) == 2 and not np.isscalar(data[0])


class _StochasticMetric(BaseMetric):
    """Shared input handling of the stochastic metrics (no preprocessor)."""

    _accepts_moments = False
    preprocessor = None  # not a parameter: the stochastic metrics take none

    # -- parameters ------------------------------------------------------------------
    def _check_params(self):
        name = type(self).__name__
        check_group(self.group, name)
        check_positive_int(self.max_iter, "max_iter", name)
        check_tolerance(self.tol, "tol", name)
        _check_bool(self.zero_pad, "zero_pad", name)
        _check_device(self.device, name)

    # -- inputs ----------------------------------------------------------------------
    def _read(self, data, name):
        """Validate one network's input and say which form it has."""
        if data is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                f"{name} is the second network's responses, of the same form as X."
            )
        if self._accepts_moments and _is_moments_tuple(data):
            means = check_responses(data[0], f"{name}[0] (the class means)", allow_repeats=False)
            covariances = check_responses(data[1], f"{name}[1] (the class covariances)")
            covariances = convert_like(covariances, means)
            if covariances.ndim != 3 or tuple(covariances.shape) != (
                means.shape[0],
                means.shape[1],
                means.shape[1],
            ):
                raise ValueError(
                    f"{name}[1] (the class covariances) has shape {tuple(covariances.shape)} "
                    f"but {name}[0] (the class means) has shape {tuple(means.shape)}; "
                    f"expected covariances of shape ({means.shape[0]}, {means.shape[1]}, "
                    f"{means.shape[1]})."
                )
            xp = get_namespace(means)
            dtype = floating_dtype(xp, means, covariances)
            return _Responses("moments", (xp.astype(means, dtype), xp.astype(covariances, dtype)))
        if isinstance(data, tuple):
            raise ValueError(
                f"{name} is a tuple of {len(data)} items; expected "
                + (
                    "netrep's (means, covariances) pair or an array of responses."
                    if self._accepts_moments
                    else "an array of responses."
                )
            )
        A = check_responses(data, name)
        if A.ndim == 3 and A.shape[1] < 2:
            raise ValueError(
                f"{name} has 1 repeat per class (shape {tuple(A.shape)}); "
                f"{type(self).__name__} needs at least 2 repeats per class to estimate "
                "the spread of the responses. For deterministic responses pass a 2-D "
                "array of shape (n_classes, n_features)."
            )
        return _Responses("repeats" if A.ndim == 3 else "points", (A,))

    def _bookkeep_features(self, data, responses, name, *, reset):
        if name == "X":
            if responses.kind == "points" and not isinstance(data, (tuple, list)):
                validate_data(self, data, reset=reset, skip_check_array=True)
            elif reset:
                self.n_features_in_ = responses.n_features
            else:
                check_width(responses.n_features, self.n_features_in_, "X", type(self).__name__)
        elif reset:
            self.n_features_y_ = responses.n_features
        else:
            check_width(responses.n_features, self.n_features_y_, "Y", type(self).__name__)

    def _check_pair(self, x, y, names=("X", "Y")):
        if x.n_classes != y.n_classes:
            raise ValueError(
                f"{names[0]} has {x.n_classes} classes but {names[1]} has {y.n_classes}; "
                "expected the responses of both networks to the same stimulus classes, "
                "in the same order (the first axis)."
            )
        if x.n_features != y.n_features and not self.zero_pad:
            raise ValueError(
                f"{names[0]} has {x.n_features} features (units) but {names[1]} has "
                f"{y.n_features}, and zero_pad=False in {type(self).__name__}; expected "
                "equally wide networks, or zero_pad=True to append zero units to the "
                "narrower one."
            )

    def _prepare_pair(self, X, Y, *, fitting, method="fit"):
        x = self._read(X, "X")
        y = self._read(Y, "Y")
        self._bookkeep_features(X, x, "X", reset=fitting)
        self._bookkeep_features(Y, y, "Y", reset=fitting)
        self._check_pair(x, y)
        width = max(x.n_features, y.n_features)
        if not fitting:
            width = self._alignment().shape[0]  # held-out data: the fitted width
        x, y = x.padded(width), y.padded(width)
        if fitting:
            x = x.map(lambda a: move_to_device(a, self.device))
            reference = x.arrays[0]
            y = y.map(lambda a: convert_like(move_to_device(a, self.device), reference))
            xp = get_namespace(reference)
            dtype = floating_dtype(xp, *x.arrays, *y.arrays)
            return x.map(lambda a: xp.astype(a, dtype)), y.map(lambda a: xp.astype(a, dtype))
        if self.device is None:
            self._check_fitted_place(x.arrays[0], method)
            y = y.map(lambda a: convert_like(a, x.arrays[0]))
        return x.map(self._to_compute), y.map(self._to_compute)

    # -- transform -------------------------------------------------------------------
    def transform(self, X, Y=None):
        """Align Y's responses to X's (X is the reference and is returned as is).

        Parameters
        ----------
        X : array or (means, covariances) tuple
            First network's responses, in any accepted form.
        Y : same forms as X, default=None
            Second network's responses. If None, only X is returned.

        Returns
        -------
        X : same form as the input
            Validated X (zero-padded to the fitted width), in the array type
            of the input.
        Y_aligned : same form as the input Y
            Y mapped by the fitted alignment: responses ``y @ T``; for a
            (means, covariances) tuple, ``(means @ T, T.T @ covariances @ T)``.
            Only when Y is given.
        """
        check_is_fitted(self)
        if Y is None:
            x = self._read(X, "X")
            self._bookkeep_features(X, x, "X", reset=False)
            if self.device is None:
                self._check_fitted_place(x.arrays[0], "transform")
            return self._output(x.padded(self._alignment().shape[0]), X)
        x, y = self._prepare_pair(X, Y, fitting=False, method="transform")
        T = self._alignment()
        xp = get_namespace(T)
        if y.kind == "moments":
            means, covariances = y.arrays
            aligned = _Responses(
                "moments", (means @ T, xp.linalg.matrix_transpose(T) @ covariances @ T)
            )
        else:
            aligned = y.map(lambda a: a @ T)
        return self._output(x, X), self._output(aligned, X)

    @staticmethod
    def _output(responses, template):
        template = template[0] if _is_moments_tuple(template) else template
        arrays = tuple(convert_like(a, template) for a in responses.arrays)
        return arrays if responses.kind == "moments" else arrays[0]

    def fit_transform(self, X, Y):
        """Fit, then align: ``fit(X, Y).transform(X, Y)``.

        Parameters
        ----------
        X : array or (means, covariances) tuple
            First network's responses.
        Y : same forms as X
            Second network's responses.

        Returns
        -------
        X, Y_aligned
            See :meth:`transform`.
        """
        return self.fit(X, Y).transform(X, Y)

    # -- many networks ---------------------------------------------------------------
    def pairwise_validate(self, Xs, Xs_test, names, test_names):
        trains = [self._read(X, name) for X, name in zip(Xs, names, strict=True)]
        tests = [None] * len(trains)
        if Xs_test is not None:
            tests = [self._read(X, name) for X, name in zip(Xs_test, test_names, strict=True)]
        for group, labels in ((trains, names), (tests if Xs_test is not None else [], test_names)):
            for responses, label in zip(group, labels, strict=False):
                if responses.n_classes != group[0].n_classes:
                    raise ValueError(
                        f"{label} has {responses.n_classes} classes but {labels[0]} has "
                        f"{group[0].n_classes}; expected every network's responses to the "
                        "same stimulus classes, in the same order."
                    )
        for responses, held_out, name, test_name in zip(
            trains, tests, names, test_names, strict=True
        ):
            if held_out is not None and held_out.n_features != responses.n_features:
                raise ValueError(
                    f"{test_name} has {held_out.n_features} features but {name} has "
                    f"{responses.n_features}; expected the held-out responses of each "
                    "network to have its training width."
                )
        reference = move_to_device(trains[0].arrays[0], self.device)
        xp = get_namespace(reference)
        placed = [
            None
            if r is None
            else r.map(lambda a: convert_like(move_to_device(a, self.device), reference))
            for r in (*trains, *tests)
        ]
        dtype = floating_dtype(xp, *[a for r in placed if r is not None for a in r.arrays])
        placed = [None if r is None else r.map(lambda a: xp.astype(a, dtype)) for r in placed]
        return placed[: len(trains)], placed[len(trains) :]

    def pairwise_prepare(self, X, X_test, name, test_name):
        # Per network, once: class statistics (Gaussian) or the response stack
        # (energy). Zero padding to a wider partner is applied to these per pair.
        return PreparedNetwork(
            self._summarise(X), None if X_test is None else self._summarise(X_test), None, None
        )

    def pairwise_block(self, nets_a, nets_b, pairs, *, same_block):
        has_test = nets_a[0].test is not None
        train, test = np.zeros(len(pairs)), np.zeros(len(pairs))
        for k, (a, b) in enumerate(pairs):
            net_a, net_b = nets_a[a], nets_b[b]
            width = max(self._summary_width(net_a.train), self._summary_width(net_b.train))
            x, y = self._pad_summary(net_a.train, width), self._pad_summary(net_b.train, width)
            alignment, train[k], _ = self._fit_summaries(x, y)
            if has_test:
                test[k] = self._distance_summaries(
                    self._pad_summary(net_a.test, width),
                    self._pad_summary(net_b.test, width),
                    alignment,
                )
        return train, (test if has_test else None)

    def pairwise_check(self, networks, names):
        widths = [self._summary_width(net.train) for net in networks]
        if len(set(widths)) > 1 and not self.zero_pad:
            first = widths[0]
            k = next(i for i, width in enumerate(widths) if width != first)
            raise ValueError(
                f"{names[k]} has {widths[k]} features but {names[0]} has "
                f"{first}, and zero_pad=False in {type(self).__name__}; expected networks "
                "of equal width, or zero_pad=True."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # transform(X) returns X (the reference); transform(X, Y) the aligned pair.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
        tags.non_deterministic = getattr(self, "init", "means") == "rand"
        return tags


class GaussianStochasticMetric(_StochasticMetric):
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
        First start: the alignment of the class means, or a random group
        element.
    n_restarts : int, default=1
        Starts of the fit (after the first, random ones); the lowest
        distance wins.
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
        The alignment: Y's responses are aligned as ``y @ T_``.
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
        alpha=1.0,
        *,
        group="orth",
        init="means",
        n_restarts=1,
        max_iter=1000,
        tol=1e-10,
        random_state=None,
        covariance_estimator=None,
        zero_pad=True,
        device=None,
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

    def _check_params(self):
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

    def _summarise(self, responses):
        """Means, covariance square roots and traces of one validated input."""
        xp = get_namespace(responses.arrays[0])
        if responses.kind == "moments":
            means, covariances = responses.arrays
        elif responses.kind == "repeats":
            means, covariances = class_statistics(responses.arrays[0], self.covariance_estimator)
        else:
            means = responses.arrays[0]
            n_classes, n_features = means.shape
            covariances = xp.zeros(
                (n_classes, n_features, n_features),
                dtype=means.dtype,
                device=array_api_compat.device(means),
            )
        return gaussian_statistics(means, covariances)

    @staticmethod
    def _summary_width(stats):
        return stats.means.shape[1]

    @staticmethod
    def _pad_summary(stats, width):
        # Zero units have zero mean and variance: padding the square roots is exact.
        return GaussianStatistics(
            _zero_pad(stats.means, width),
            _zero_pad(stats.sqrt_covariances, width, axes=(-1, -2)),
            stats.traces,
        )

    def _fit_summaries(self, stats_x, stats_y):
        """Fit on two summaries: (alignment, training distance, full result)."""
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
        return result.T, math.sqrt(result.sq_distance), result

    def _distance_summaries(self, stats_x, stats_y, T):
        xp = get_namespace(T)
        terms = gaussian_sq_distances(stats_x, stats_y, T, float(self.alpha), check_input=False)
        return math.sqrt(max(float(xp.mean(terms)), 0.0))

    def _fit(self, x, y):
        self.T_, _, result = self._fit_summaries(self._summarise(x), self._summarise(y))
        self.loss_history_ = list(result.loss_history)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged

    def _alignment(self):
        return self.T_

    def _distance(self, x, y):
        return self._distance_summaries(self._summarise(x), self._summarise(y), self.T_)


class EnergyStochasticMetric(_StochasticMetric):
    """Energy distance between networks' response distributions, after alignment.

    For each stimulus class, the energy distance between the two networks'
    empirical response distributions, ``E|x - yQ| - (E|x - x'| + E|y - y'|) / 2``,
    averaged over classes; the distance is its square root (zero when
    negative). The alignment ``Q`` minimises the mean distance between
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
        The alignment: Y's responses are aligned as ``y @ Q_``.
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

    def __init__(self, *, group="orth", max_iter=100, tol=1e-6, zero_pad=True, device=None):
        self.group = group
        self.max_iter = max_iter
        self.tol = tol
        self.zero_pad = zero_pad
        self.device = device

    @staticmethod
    def _summarise(responses):
        A = responses.arrays[0]
        return A if A.ndim == 3 else A[:, None, :]

    @staticmethod
    def _summary_width(responses):
        return responses.shape[-1]

    @staticmethod
    def _pad_summary(responses, width):
        return _zero_pad(responses, width)

    def _fit_result(self, X, Y):
        return fit_energy_alignment(
            X, Y, group=self.group, max_iter=self.max_iter, tol=self.tol, check_input=False
        )

    def _fit_summaries(self, X, Y):
        """Fit on two response stacks: (alignment, training distance, full result)."""
        result = self._fit_result(X, Y)
        return result.Q, self._distance_summaries(X, Y, result.Q), result

    @staticmethod
    def _distance_summaries(X, Y, Q):
        return energy_distance(X, Y @ Q, check_input=False)

    def _fit(self, x, y):
        result = self._fit_result(self._summarise(x), self._summarise(y))
        self.Q_ = result.Q
        self.weights_ = result.weights
        self.loss_history_ = list(result.loss_history)
        self.n_iter_ = result.n_iter

    def _alignment(self):
        return self.Q_

    def _distance(self, x, y):
        return self._distance_summaries(self._summarise(x), self._summarise(y), self.Q_)
