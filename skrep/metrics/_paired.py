"""PairedEstimator: the input handling shared by every estimator of paired representations.

Validation of X and Y (rows paired), the ``preprocessor`` fitted once per
side, the ``device``, all-or-nothing fits, and the default implementation of
the many-networks engine's protocol (a copy fitted per pair). The distance
metrics (:class:`~skrep.metrics.BaseMetric`) and the similarity estimators
(:class:`~skrep.metrics.SimilarityEstimator`) build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np
import scipy.sparse
from sklearn import get_config
from sklearn.base import BaseEstimator, clone
from sklearn.utils import Tags
from sklearn.utils.validation import validate_data

from .._array import (
    convert_like,
    get_namespace,
    is_foreign_array,
    same_place,
    to_numpy,
)
from .._typing import Array, ArrayLike
from .._validation import (
    check_device,
    check_n_features,
    check_representation,
)
from ..engine import PairwiseMeasure, PreparedData, fit_each_pair
from ..exceptions import InvalidParameterError
from ._keyword_y import KeywordYMixin

__all__ = ["PairedEstimator"]


class PairedEstimator(KeywordYMixin, PairwiseMeasure, BaseEstimator):
    """Input handling shared by every estimator of paired representations.

    Validation of X and Y (rows paired), the ``preprocessor`` fitted once per
    side, the ``device`` parameter and the fitted-state bookkeeping; the
    distance metrics (:class:`BaseMetric`) and the similarity estimators
    (:class:`~skrep.metrics.SimilarityEstimator`) build on it.

    It is also a :class:`~skrep.engine.PairwiseMeasure`: the many-networks
    engine fits the ``preprocessor`` once per network and, by default, a
    copy of the estimator on each pair; estimators with a batched form
    override ``pairwise_prepare`` and ``pairwise_block``.
    """

    _reference_attribute = None

    # -- parameters -----------------------------------------------------------------
    def _check_common_params(self) -> None:
        name = type(self).__name__
        pre = self.preprocessor
        if pre is not None and (
            isinstance(pre, type) or not (hasattr(pre, "fit") and hasattr(pre, "transform"))
        ):
            hint = (
                f" (a class: pass an instance, {pre.__name__}())" if isinstance(pre, type) else ""
            )
            raise InvalidParameterError(
                f"The 'preprocessor' parameter of {name} must be None or an estimator "
                f"with fit and transform (e.g. StandardScaler(), PCA(10), a Pipeline); "
                f"got {pre!r}{hint}."
            )
        check_device(self.device, name)

    def _check_params(self) -> None:
        self._check_common_params()

    # -- fitted state -----------------------------------------------------------------
    def _fit(self, X: Array, Y: Array) -> None:
        """Learn from validated, preprocessed arrays (nothing by default)."""

    def _fit_pair(self, X: ArrayLike, Y: ArrayLike) -> PairedEstimator:
        """The shared fit: check parameters, prepare the pair, ``_fit``; all or nothing."""
        self._clear_fitted_state()
        try:
            self._check_params()
            X, Y = self._prepare_pair(X, Y, fitting=True)
            self._fit(X, Y)
        except BaseException:
            self._clear_fitted_state()  # a failed fit leaves the estimator unfitted
            raise
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, self._reference_attribute)

    def _clear_fitted_state(self) -> None:
        """Forget everything a previous fit learned (attributes ending in ``_``)."""
        for attribute in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attribute)

    # -- input handling ---------------------------------------------------------------
    def _validate_x(self, X: ArrayLike, *, reset: bool) -> Array:
        # fit needs two samples to center and align; held-out data may be one row.
        X_checked = check_representation(X, "X", min_samples=2 if reset else 1)
        # n_features_in_ and feature_names_in_ bookkeeping, scikit-learn's way.
        validate_data(self, X, reset=reset, skip_check_array=True)
        return X_checked

    def _validate_y(self, Y: ArrayLike | None, *, reset: bool) -> Array:
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: Y is the second representation, an array of shape "
                "(n_samples, n_features_y) whose rows are paired with the rows of X."
            )
        Y_checked = check_representation(Y, "Y", min_samples=2 if reset else 1)
        if reset:
            self.n_features_y_ = Y_checked.shape[1]
        else:
            check_n_features(Y_checked, self.n_features_y_, "Y", type(self).__name__)
        return Y_checked

    def _check_fitted_place(self, A: Array, method: str, name: str = "X") -> None:
        """With ``device=None``, inputs after fit must be where the fit ran.

        ``name`` is the argument ``A`` was passed as (the error names it).
        """
        if self.device is not None:
            return  # an explicit device moves the data on purpose
        reference = getattr(self, self._reference_attribute)
        if not same_place(A, reference):
            raise ValueError(
                f"{name} is {_describe_place(A)}, but fit saw "
                f"{_describe_place(reference, plural=True)}: inputs passed to "
                f"{type(self).__name__}.{method}() must use the same namespace and device "
                f"as those passed to fit() when device=None. Convert {name} (e.g. with "
                "np.asarray or torch.as_tensor), or set the device parameter to let the "
                "estimator move the data."
            )

    def _preprocess(self, A: Array, side: str, *, fitting: bool, name: str | None = None) -> Array:
        """Fit (when ``fitting``) and apply the preprocessor of one side.

        The output is returned in the namespace and on the device of ``A``.
        Without scikit-learn's array API dispatch, torch and other array-API
        inputs go through the preprocessor as numpy arrays (a host copy).
        """
        if self.preprocessor is None:
            return A
        name = name or ("X" if side == "x" else "Y")
        attribute = f"preprocessor_{side}_"
        data = A
        if is_foreign_array(A) and not get_config()["array_api_dispatch"]:
            data = to_numpy(A)
        try:
            if fitting:
                setattr(self, attribute, clone(self.preprocessor).fit(data))
            out = getattr(self, attribute).transform(data)
        except (ValueError, TypeError) as exc:
            # Say which side failed. Only plain ValueError/TypeError are rebuilt:
            # subclasses may need other constructor arguments, so they pass as is.
            if type(exc) not in (ValueError, TypeError):
                raise
            raise type(exc)(
                f"The preprocessor failed on {name} (shape {tuple(A.shape)}): {exc}"
            ) from exc
        if scipy.sparse.issparse(out):
            out = out.toarray()
        out = check_representation(out, f"the preprocessed {name}", min_samples=1)
        return convert_like(out, A)

    def _check_preprocessed_width(self, A: Array, side: str) -> None:
        expected = self._preprocessed_widths_[0 if side == "x" else 1]
        if A.shape[1] != expected:
            name = "X" if side == "x" else "Y"
            raise ValueError(
                f"The preprocessed {name} has {A.shape[1]} features, but the preprocessed "
                f"{name} had {expected} in fit; expected the preprocessor to give the "
                "same width on every call (e.g. no data-dependent column selection)."
            )

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # Y is the second representation
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.input_tags.allow_nan = False
        tags.array_api_support = True
        return tags

    # -- the many-networks engine (skrep.engine.PairwiseMeasure) -------------------------
    def _pair_value(self, fitted: PairedEstimator, A: Array, B: Array) -> float:
        """The value of a fitted copy on a pair (the score; metrics: the distance)."""
        return fitted.score(A, B)

    def pairwise_validate(
        self,
        Xs: Sequence[ArrayLike],
        Xs_test: Sequence[ArrayLike] | None,
        names: Sequence[str],
        test_names: Sequence[str],
    ) -> tuple[list[Array], list[Array | None]]:
        """Check the parameters, then validate and place every network.

        Parameters
        ----------
        Xs : sequence of arrays of shape (n_samples, n_features_k)
            Training data of every network in the job.
        Xs_test : sequence of arrays or None
            Their held-out data.
        names, test_names : sequence of str
            Names for messages.

        Returns
        -------
        trains, tests : lists of arrays
            In the compute namespace, on the device and in one dtype.
        """
        self._check_params()
        return super().pairwise_validate(Xs, Xs_test, names, test_names)

    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> PreparedData:
        """Per-network work: fit the ``preprocessor`` on the network and apply it.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Validated training data.
        X_test : array of shape (n_samples_test, n_features) or None
            Validated held-out data, transformed by the preprocessor fitted
            on ``X``.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        PreparedData
            The (preprocessed) data.
        """
        if self.preprocessor is not None:
            helper = clone(self)
            X = helper._preprocess(X, "x", fitting=True, name=name)
            if X_test is not None:
                X_test = helper._preprocess(X_test, "x", fitting=False, name=test_name)
        return PreparedData(X, X_test)

    def pairwise_block(
        self,
        nets_a: Sequence[PreparedData],
        nets_b: Sequence[PreparedData],
        pairs: Sequence[tuple[int, int]],
        *,
        same_block: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Values for a block of pairs: a copy of this estimator fitted per pair.

        The preprocessing was applied once per network, so the copies have
        none. Estimators with a batched form override this method.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Unused here.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Values on the training data.
        test : ndarray of shape (n_pairs,) or None
            Values on the held-out data.
        """
        return self.fit_pairs(nets_a, nets_b, pairs, self._pair_value)

    def fit_pairs(
        self,
        nets_a: Sequence[PreparedData],
        nets_b: Sequence[PreparedData],
        pairs: Sequence[tuple[int, int]],
        value: Any,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit a copy of this estimator (without its preprocessor) per pair and measure it.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block, already preprocessed.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        value : callable
            ``value(fitted, A, B) -> float``.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Values on the training data.
        test : ndarray of shape (n_pairs,) or None
            Values on the held-out data.
        """
        pair_estimator = clone(self)
        if "preprocessor" in pair_estimator.get_params(deep=False):
            pair_estimator.set_params(preprocessor=None)  # applied once per network already
        return fit_each_pair(pair_estimator, nets_a, nets_b, pairs, value)


def _describe_place(A: Array, *, plural: bool = False) -> str:
    """Words for the array type and device of ``A``: "a torch tensor on cuda:0"."""
    xp_name = get_namespace(A).__name__.rpartition(".")[2]
    kind = {"numpy": "numpy array", "torch": "torch tensor"}.get(xp_name, f"{xp_name} array")
    words = f"{kind}s" if plural else f"a {kind}"
    return f"{words} on {array_api_compat.device(A)}"
