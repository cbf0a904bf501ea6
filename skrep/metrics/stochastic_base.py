"""Shared base of the stochastic shape metrics: input forms, zero padding, alignment.

:class:`StochasticMetric` validates the inputs of
:class:`~skrep.metrics.GaussianStochasticMetric` and
:class:`~skrep.metrics.EnergyStochasticMetric` (the forms listed in
:mod:`skrep.metrics.stochastic`), zero-pads the narrower network, places the
data on the compute device, applies the fitted alignment in ``transform``
and implements the many-networks protocol on per-network summaries. The
subclasses supply the summaries (class statistics or response stacks), the
fit and the distance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import array_api_compat
import numpy as np
from sklearn.utils import TransformerTags
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import convert_like, floating_dtype, get_namespace, move_to_device
from .._typing import Array, ArrayLike
from .._validation import (
    check_bool,
    check_device,
    check_positive_int,
    check_responses,
    check_tolerance,
    check_width,
)
from ..functional.group_alignment import check_group
from ._base import BaseMetric
from .stochastic_pairs import StochasticPairwise

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["StochasticMetric", "is_moments_tuple"]


class _Responses(NamedTuple):
    """A validated input: its form and its arrays.

    ``kind`` is "moments" (arrays = means, covariances), "repeats" (arrays =
    one (n_classes, n_repeats, n_features) array) or "points" (one
    (n_classes, n_features) array).
    """

    kind: str
    arrays: tuple

    @property
    def n_classes(self) -> int:
        return self.arrays[0].shape[0]

    @property
    def n_features(self) -> int:
        return self.arrays[0].shape[-1]

    def map(self, function: Callable[[Array], Array]) -> _Responses:
        return _Responses(self.kind, tuple(function(a) for a in self.arrays))

    def padded(self, width: int) -> _Responses:
        """The same responses with zero units appended up to ``width``."""
        if self.kind == "moments":
            means, covariances = self.arrays
            return _Responses(
                "moments", (_zero_pad(means, width), _zero_pad(covariances, width, axes=(-1, -2)))
            )
        return self.map(lambda a: _zero_pad(a, width))


class _Scaled(NamedTuple):
    """A per-network summary computed on float64 responses divided by ``scale``.

    ``scale`` is a power of four (1.0 for responses of moderate size; see
    :func:`skrep.functional.group_alignment._working_scale`): summaries of two
    networks are brought to a common scale per pair, exactly.
    """

    summary: Any
    scale: float


def _zero_pad(a: Array, width: int, axes: tuple[int, ...] = (-1,)) -> Array:
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


def is_moments_tuple(data: object) -> bool:
    """Whether ``data`` is netrep's ``(means, covariances)`` pair rather than responses.

    Parameters
    ----------
    data : object
        One network's input to a stochastic metric.

    Returns
    -------
    bool
        True for a tuple or list of two items whose first item is not a
        scalar; False otherwise (e.g. an array of responses).
    """
    return isinstance(data, (tuple, list)) and len(data) == 2 and not np.isscalar(data[0])


class StochasticMetric(StochasticPairwise, BaseMetric):
    """Shared input handling of the stochastic metrics (no preprocessor).

    Subclasses set the parameters (at least ``group``, ``max_iter``, ``tol``,
    ``zero_pad`` and ``device``) and supply per-network summaries
    (``_summarise``, ``_summary_width``, ``_pad_summary``), the fit
    (``_fit``, ``_fit_summaries``, ``_alignment``) and the distance
    (``_distance``, ``_distance_summaries``). ``_accepts_moments`` says
    whether netrep's ``(means, covariances)`` tuples are accepted.
    """

    _accepts_moments = False
    preprocessor = None  # not a parameter: the stochastic metrics take none

    # -- parameters ------------------------------------------------------------------
    def _check_params(self) -> None:
        name = type(self).__name__
        check_group(self.group, name)
        check_positive_int(self.max_iter, "max_iter", name)
        check_tolerance(self.tol, "tol", name)
        check_bool(self.zero_pad, "zero_pad", name)
        check_device(self.device, name)

    # -- inputs ----------------------------------------------------------------------
    def _to_compute(self, A: Array) -> Array:
        """Move ``A`` to the compute device; float32 stays float32 (the math is float64)."""
        A = move_to_device(A, self.device)
        xp = get_namespace(A)
        return xp.astype(A, floating_dtype(xp, A), copy=False)

    def _read(self, data: ArrayLike | tuple[ArrayLike, ArrayLike] | None, name: str) -> _Responses:
        """Validate one network's input and say which form it has."""
        if data is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                f"{name} is the second network's responses, of the same form as X."
            )
        if self._accepts_moments and is_moments_tuple(data):
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

    def _bookkeep_features(
        self,
        data: ArrayLike | tuple[ArrayLike, ArrayLike],
        responses: _Responses,
        name: str,
        *,
        reset: bool,
    ) -> None:
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

    def _check_pair(
        self, x: _Responses, y: _Responses, names: tuple[str, str] = ("X", "Y")
    ) -> None:
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

    def _prepare_pair(
        self,
        X: ArrayLike | tuple[ArrayLike, ArrayLike],
        Y: ArrayLike | tuple[ArrayLike, ArrayLike],
        *,
        fitting: bool,
        method: str = "fit",
    ) -> tuple[_Responses, _Responses]:
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
    def transform(
        self,
        X: ArrayLike | tuple[ArrayLike, ArrayLike],
        Y: ArrayLike | tuple[ArrayLike, ArrayLike] | None = None,
    ) -> Any:
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
        T = xp.astype(T, y.arrays[0].dtype)  # float32 responses stay float32
        if y.kind == "moments":
            means, covariances = y.arrays
            aligned = _Responses(
                "moments", (means @ T, xp.linalg.matrix_transpose(T) @ covariances @ T)
            )
        else:
            aligned = y.map(lambda a: a @ T)
        return self._output(x, X), self._output(aligned, X)

    @staticmethod
    def _output(
        responses: _Responses, template: ArrayLike | tuple[ArrayLike, ArrayLike]
    ) -> Array | tuple[Array, Array]:
        template = template[0] if is_moments_tuple(template) else template
        arrays = tuple(convert_like(a, template) for a in responses.arrays)
        return arrays if responses.kind == "moments" else arrays[0]

    def fit_transform(
        self, X: ArrayLike | tuple[ArrayLike, ArrayLike], Y: ArrayLike | tuple[ArrayLike, ArrayLike]
    ) -> tuple[Any, Any]:
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

    def __sklearn_tags__(self) -> Tags:
        """Tags: 3-D input, a transformer that keeps float32 and float64."""
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # transform(X) returns X (the reference); transform(X, Y) the aligned pair.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
        tags.non_deterministic = getattr(self, "init", "means") == "rand"
        return tags


def _at_common_scale(
    x: _Scaled, y: _Scaled, rescale: Callable[[Any, float], Any]
) -> tuple[Any, Any, float]:
    """Two summaries brought to the larger of their scales: ``(x, y, scale)``.

    The ratio of two powers of four is one too, so the rescaling is exact.
    """
    scale = max(x.scale, y.scale)
    return rescale(x.summary, x.scale / scale), rescale(y.summary, y.scale / scale), scale
