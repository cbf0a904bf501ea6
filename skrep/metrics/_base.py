"""The estimator contract shared by skrep's distance metrics.

``fit(X, Y)`` learns from paired representations (row i of X and of Y are the
responses to the same stimulus), ``distance(X, Y)`` returns the distance,
``score(X, Y)`` its negative, so that higher is better as everywhere in
scikit-learn (``cross_validate`` and ``GridSearchCV`` without ``scoring=``
then prefer small distances). netrep's ``score`` returns the distance itself:
:mod:`skrep.compat.netrep` keeps that sign for drop-in use.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import array_api_compat
import numpy as np
import scipy.sparse
from sklearn import get_config
from sklearn.base import BaseEstimator, clone
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import (
    convert_like,
    floating_dtype,
    get_namespace,
    is_foreign_array,
    move_to_device,
    same_place,
    to_numpy,
)
from .._deprecation import keyword_only
from .._typing import Array, ArrayLike
from .._validation import (
    check_device,
    check_n_features,
    check_paired_samples,
    check_representation,
)
from ..engine import PairwiseMeasure, PreparedData, compute_pairs, fit_each_pair
from ..exceptions import InvalidParameterError

__all__ = ["PairedEstimator", "BaseMetric"]


class PairedEstimator(PairwiseMeasure, BaseEstimator):
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

    def _check_fitted_place(self, A: Array, method: str) -> None:
        """With ``device=None``, inputs after fit must be where the fit ran."""
        if self.device is not None:
            return  # an explicit device moves the data on purpose
        reference = getattr(self, self._reference_attribute)
        if not same_place(A, reference):
            xp_ref, xp_in = get_namespace(reference), get_namespace(A)
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the same "
                f"namespace and device as those passed to fit(): fit used "
                f"{xp_ref.__name__} on {array_api_compat.device(reference)}, got "
                f"{xp_in.__name__} on {array_api_compat.device(A)}. Convert the input, "
                "or set the device parameter to let the estimator move the data."
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
        pair_estimator = clone(self)
        if "preprocessor" in pair_estimator.get_params(deep=False):
            pair_estimator.set_params(preprocessor=None)  # applied once per network already
        return fit_each_pair(pair_estimator, nets_a, nets_b, pairs, self._pair_value)


class BaseMetric(PairedEstimator):
    """Base class of skrep's distance metrics between paired representations.

    Subclasses implement ``_check_params``, ``_fit(X, Y)`` and
    ``_distance(X, Y)`` on validated arrays in the compute namespace, and name
    one fitted array in ``_reference_attribute`` (it tells where later calls
    compute: the namespace, device and dtype of the fit).

    Notes
    -----
    Every metric takes two parameters besides its own:

    - ``preprocessor`` (an estimator with ``fit`` and ``transform``, or None):
      applied to each representation before the metric, cloned and fitted once
      on X and once on Y during ``fit`` (attributes ``preprocessor_x_`` and
      ``preprocessor_y_``), then applied in ``transform``, ``distance`` and
      ``score``. Its parameters are searchable, e.g.
      ``{"preprocessor__n_components": [5, 10]}`` in ``GridSearchCV``.
    - ``device`` (None, a string or a ``torch.device``): where to compute. None
      computes where the data is (numpy stays numpy; a torch tensor X keeps its
      device and Y follows X). Anything else (``"cpu"``, ``"cuda"``) moves the
      data to a torch tensor on that device.
    """

    def _to_compute(self, A: Array) -> Array:
        """Move ``A`` to the compute device (if one is set) and the fitted dtype."""
        A = move_to_device(A, self.device)
        dtype = getattr(self, self._reference_attribute).dtype
        return get_namespace(A).astype(A, dtype, copy=False)

    def _prepare_one(self, A: ArrayLike, side: str, *, method: str) -> Array:
        """Validate, preprocess and place one side after fit (for ``transform``)."""
        A = self._validate_x(A, reset=False) if side == "x" else self._validate_y(A, reset=False)
        self._check_fitted_place(A, method)
        A = self._preprocess(A, side, fitting=False)
        self._check_preprocessed_width(A, side)
        return self._to_compute(A)

    def _prepare_pair(
        self, X: ArrayLike, Y: ArrayLike, *, fitting: bool, method: str = "fit"
    ) -> tuple[Array, Array]:
        """Validate, preprocess and place a pair: the shared path of every method."""
        X = self._validate_x(X, reset=fitting)
        Y = self._validate_y(Y, reset=fitting)
        check_paired_samples(X, Y)
        if self.device is None:
            Y = convert_like(Y, X)  # everything follows X
            if not fitting:
                self._check_fitted_place(X, method)
        X = self._preprocess(X, "x", fitting=fitting)
        Y = self._preprocess(Y, "y", fitting=fitting)
        if fitting:
            self._preprocessed_widths_ = (X.shape[1], Y.shape[1])
            X, Y = move_to_device(X, self.device), move_to_device(Y, self.device)
            xp = get_namespace(X, Y)
            dtype = floating_dtype(xp, X, Y)
            return xp.astype(X, dtype, copy=False), xp.astype(Y, dtype, copy=False)
        self._check_preprocessed_width(X, "x")
        self._check_preprocessed_width(Y, "y")
        return self._to_compute(X), self._to_compute(Y)

    # -- many networks ----------------------------------------------------------------
    pairwise_kind = "distance"
    pairwise_symmetric = True

    def _pair_value(self, fitted: BaseMetric, A: Array, B: Array) -> float:
        return fitted.distance(A, B)

    def pairwise_distances(
        self,
        Xs: Sequence[ArrayLike] | Mapping[Hashable, ArrayLike] | Array,
        Xs_test: Sequence[ArrayLike] | Mapping[Hashable, ArrayLike] | Array | None = None,
        *args: Any,
        n_jobs: int | None = None,
        verbose: bool = False,
        cache_dir: str | os.PathLike | None = None,
        block_size: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Distances between all pairs of networks, on training and held-out data.

        Each pair ``(i, j)`` is fitted on ``Xs[i]`` and ``Xs[j]`` and scored on
        them; with ``Xs_test`` the fitted alignment is also scored on
        ``Xs_test[i]`` and ``Xs_test[j]``. Work that depends on one network
        only is done once per network. See :func:`skrep.pairwise_distances`
        for the details (parallelism, caching, memory).

        Parameters
        ----------
        Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
            One representation per network, rows paired across networks.
        Xs_test : sequence of arrays of shape (n_samples_test, n_features_k), default=None
            Held-out representations of the same networks, in the same order.
        *args
            Deprecated: ``n_jobs`` and ``verbose`` passed by position (a
            FutureWarning); pass them by keyword.
        n_jobs : int, default=None
            Number of joblib workers; None means 1 unless in a
            ``joblib.parallel_config`` context, -1 means all CPUs.
        verbose : bool, default=False
            Show a progress bar (tqdm).
        cache_dir : str or path-like, default=None
            Directory where finished blocks of pairs are stored, so that an
            interrupted run resumes without recomputing them.
        block_size : int, default=None
            Networks per block of pairs; None sizes blocks from scikit-learn's
            ``working_memory`` setting.

        Returns
        -------
        D_train : ndarray of shape (n_networks, n_networks)
            Symmetric training distances, zero diagonal.
        D_test : ndarray of shape (n_networks, n_networks) or None
            Held-out distances (None without ``Xs_test``).
        """
        options = keyword_only(
            args,
            ("n_jobs", "verbose"),
            {"n_jobs": n_jobs, "verbose": verbose},
            f"{type(self).__name__}.pairwise_distances",
        )
        result = compute_pairs(
            self,
            Xs,
            None,
            Xs_test,
            cache_dir=cache_dir,
            block_size=block_size,
            kind="distance",
            **options,
        )
        return result.train, result.test

    # -- the contract -----------------------------------------------------------------
    def fit(self, X: ArrayLike, Y: ArrayLike) -> BaseMetric:
        """Fit the metric to paired representations.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation: one row per stimulus, one column per unit.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        self : object
            The fitted metric.
        """
        return self._fit_pair(X, Y)

    def distance(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Distance between X and Y under the fitted metric.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus; may be held-out
            stimuli (other than those seen in ``fit``).
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            The distance; 0 when the representations are equivalent.
        """
        check_is_fitted(self)
        X, Y = self._prepare_pair(X, Y, fitting=False, method="distance")
        return self._distance(X, Y)

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Negative distance: higher is better, as everywhere in scikit-learn.

        This is what ``cross_validate`` and ``GridSearchCV`` use when no
        ``scoring`` is given, so a search picks the smallest held-out distance.
        netrep's ``score`` returns the distance with the opposite sign; use
        :meth:`distance` for it, or :mod:`skrep.compat.netrep` for netrep's sign.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            ``-self.distance(X, Y)``.
        """
        return -self.distance(X, Y)

    def fit_score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Fit on (X, Y), then score the same data: ``fit(X, Y).score(X, Y)``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
            Second representation, rows paired with those of X.

        Returns
        -------
        float
            The negative training distance (see :meth:`score`).
        """
        return self.fit(X, Y).score(X, Y)
