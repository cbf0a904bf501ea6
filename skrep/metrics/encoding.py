"""Encoding models: ridge regression from model features to brain responses (eReg, eRSA)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import convert_like, get_namespace, is_out_of_core, move_to_device, to_numpy
from .._deprecation import renamed_parameter_value
from .._typing import Array, ArrayLike, Device, RandomState
from .._validation import check_n_features, check_paired_samples, check_representation
from ..functional.rdm import check_pattern_rdm_method, compute_rdm
from ..functional.rdm_compare import check_comparison
from ..functional.ridge import score_predictions
from ..functional.ridge_model import (
    fit_ridge_model,
    predicted_chunks,
    read_targets,
    ridge_model_coefficients,
    ridge_model_predict,
    target_chunks,
)
from ._encoding_inputs import (
    as_columns,
    check_encoding_parameters,
    check_out_of_core_targets,
    compared_rdms,
    cv_splits,
    fitted_projection,
)
from ._keyword_y import KeywordYMixin

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["EncodingRegression", "EncodingRSA"]

DEEPJUICE_ALPHAS = tuple(float(a) for a in np.logspace(-1, 5, 7))


class EncodingRegression(KeywordYMixin, BaseEstimator):
    """Ridge encoding model whose ``score`` is the mean Pearson r over targets, not R^2.

    ``score(X, Y)`` is the mean over targets (voxels, neurons) of the Pearson
    correlation between predicted and measured responses, the convention of
    encoding models in neuroscience (DeepJuice's eReg); ``score_targets``
    gives each target's r. It is not a scikit-learn regressor, whose
    ``score`` is R^2 (``is_regressor`` is False): for R^2, use
    ``cross_validate(model, X, Y, scoring="r2")``, which scores ``predict``.

    ``fit(X, Y)`` maps model features X to responses Y by ridge regression,
    choosing each target's alpha by cross-validation on the training
    stimuli, from one eigendecomposition per fold (the kernel form when
    features outnumber samples).

    The defaults follow DeepJuice's published eReg: alphas
    ``logspace(-1, 5, 7)``, each alpha chosen per target by the Pearson r of
    the leave-one-out predictions, and optionally a sparse random projection
    of the features to ``johnson_lindenstrauss_min_dim(n_stimuli, eps=0.1)``
    dimensions.

    Parameters
    ----------
    alphas : sequence of float, default=logspace(-1, 5, 7)
        Candidate regularisation strengths.
    cv : None, int, cross-validation splitter or iterable, default=None
        None: efficient leave-one-out. Otherwise the folds of the training
        stimuli (an int is KFold without shuffling, as himalaya).
    scoring : {"pearson", "r2", "neg_mse"}, default="pearson"
        How held-out predictions are scored to choose alpha (on the training
        stimuli); ``score`` is the mean Pearson r whatever it is.
    fit_intercept : bool, default=True
        Centre features and responses on the training means.
    random_projection : None, "auto" or int, default=None
        Project the features with :class:`sklearn.random_projection.SparseRandomProjection`
        first: "auto" to the Johnson-Lindenstrauss dimension for the number
        of training stimuli (eps=0.1), an int to that many dimensions;
        skipped when that is not fewer than the features.
    random_state : int or None, default=None
        Seed of the random projection.
    device : None, str or torch.device, default=None
        Where to compute: None where the data is; "cpu" or "cuda" with torch.
    target_chunk : int or None, default=None
        Targets fitted (and scored) at once. None sizes chunks from
        scikit-learn's ``working_memory`` (``sklearn.config_context``), and
        for targets read on demand (a ``numpy.memmap`` or a dask array) also
        within half of their size. The decompositions of X are shared by all
        chunks, and the result does not depend on the chunk size.
    n_jobs : int or None, default=None
        Number of joblib workers the chunks of targets are fitted in (None: one, unless a
        ``joblib.parallel_config`` says otherwise; under
        ``parallel_config(backend="dask")`` the chunks run on the dask
        cluster). GPU computations stay in this process.

    Attributes
    ----------
    alpha_ : ndarray of shape (n_targets,)
        The chosen alpha of each target.
    cv_scores_ : ndarray of shape (n_alphas, n_targets)
        Mean held-out score of every alpha for every target.
    coef_ : array of shape (n_features_used, n_targets)
        Ridge weights (on the projected features when projecting).
    intercept_ : array of shape (n_targets,)
        Intercepts: predictions are ``X @ coef_ + intercept_``.
    dual_coef_ : array of shape (n_stimuli, n_targets) or None
        Dual weights when features outnumber training stimuli (kernel form).
    projection_ : SparseRandomProjection or None
        The fitted projection.
    n_features_in_ : int
        Width of X seen in fit.
    n_targets_ : int
        Number of targets (columns of Y) seen in fit.

    Notes
    -----
    Features or responses at extreme scales (around 1e300 or 1e-300, where
    ``X'X`` would overflow or underflow) are divided by a power of two, and the
    alphas by its square, before fitting: ridge on ``X / s`` with
    ``alpha / s**2`` is ridge on ``X`` with ``alpha`` (the division is exact),
    so the model, its predictions and ``alpha_`` are those of the data as
    given (see :func:`skrep.functional.ridge.scaled_alphas` for alphas that
    the rescaling takes beyond the float range).

    A ``fit`` that raises leaves the estimator unfitted: the model of an
    earlier ``fit`` is forgotten, not kept.
    """

    def __init__(
        self,
        alphas: Sequence[float] = DEEPJUICE_ALPHAS,
        *,
        cv: Any = None,
        scoring: str = "pearson",
        fit_intercept: bool = True,
        random_projection: str | int | None = None,
        random_state: RandomState = None,
        device: Device = None,
        target_chunk: int | None = None,
        n_jobs: int | None = None,
    ):
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.random_projection = random_projection
        self.random_state = random_state
        self.device = device
        self.target_chunk = target_chunk
        self.n_jobs = n_jobs

    # -- parameters and inputs ---------------------------------------------------------
    def _check_params(self) -> np.ndarray:
        return check_encoding_parameters(self)

    def _targets(self, Y: ArrayLike | None, *, reset: bool) -> Array:
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: y "
                "holds the responses to predict, shape (n_stimuli, n_targets) or (n_stimuli,)."
            )
        if is_out_of_core(Y):  # a memmap or dask array: read chunk by chunk, not here
            one_target = len(Y.shape) == 1
            Y = check_out_of_core_targets(Y, "Y", min_samples=2 if reset else 1)
        else:
            Y, one_target = as_columns(Y)
            Y = check_representation(Y, "Y", min_samples=2 if reset else 1)
        if reset:
            self._one_target = one_target
            self.n_targets_ = Y.shape[1]
        else:
            check_n_features(Y, self.n_targets_, "Y", type(self).__name__)
        return Y

    def _features(self, X: ArrayLike, *, reset: bool) -> Array:
        X_checked = check_representation(X, "X", min_samples=2 if reset else 1)
        validate_data(self, X, reset=reset, skip_check_array=True)
        if self.projection_ is not None:
            X_checked = convert_like(
                self.projection_.transform(to_numpy(X_checked)).astype(
                    to_numpy(X_checked[:1]).dtype, copy=False
                ),
                X_checked,
            )
        X_checked = move_to_device(X_checked, self.device)
        return X_checked

    # -- fit / predict ---------------------------------------------------------------------
    def fit(self, X: ArrayLike, Y: ArrayLike) -> EncodingRegression:
        """Choose each target's alpha on the training stimuli and fit the ridge weights.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
            Responses (voxels, neurons).

        Returns
        -------
        self : object
            The fitted model.
        """
        self._clear_fitted_state()
        try:
            self._fit(X, Y)
        except BaseException:
            self._clear_fitted_state()  # a failed fit leaves the estimator unfitted
            raise
        return self

    def _clear_fitted_state(self) -> None:
        """Forget what a previous fit learned (attributes ending in ``_``, and the model)."""
        for attribute in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attribute)
        for attribute in ("_model", "_coef", "_one_target"):
            self.__dict__.pop(attribute, None)

    def _fit(self, X: ArrayLike, Y: ArrayLike) -> None:
        alphas = self._check_params()
        X_checked = check_representation(X, "X")
        Y = self._targets(Y, reset=True)
        check_paired_samples(X_checked, Y)
        self.projection_ = fitted_projection(X_checked, self.random_projection, self.random_state)
        X = self._features(X, reset=True)
        xp = get_namespace(X)
        # float32 only when both are; Y is converted chunk by chunk as the fit reads it.
        both_float32 = X.dtype == xp.float32 and str(Y.dtype).endswith("float32")
        X = xp.astype(X, xp.float32 if both_float32 else xp.float64, copy=False)
        model = fit_ridge_model(
            X,
            Y,
            alphas,
            splits=cv_splits(self.cv, X, self.scoring),
            scoring=self.scoring,
            fit_intercept=bool(self.fit_intercept),
            target_chunk=self.target_chunk,
            n_jobs=self.n_jobs,
        )
        self._model, self._coef = model, None
        self.cv_scores_ = model.cv_scores
        self.dual_coef_ = ridge_model_coefficients(model, dual=True)
        self.intercept_ = model.intercept
        self.alpha_ = model.alpha

    @property
    def coef_(self) -> Array:
        """Ridge weights, shape (n_features_used, n_targets) (formed on first use)."""
        if not hasattr(self, "alpha_"):
            raise AttributeError("coef_ exists after fit")
        if self._coef is None:
            self._coef = ridge_model_coefficients(self._model)
        return self._coef

    def predict(self, X: ArrayLike) -> Array:
        """Predicted responses.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features.

        Returns
        -------
        array of shape (n_stimuli, n_targets), or (n_stimuli,) for a 1-D Y in fit
            In X's array type.
        """
        prediction = self._prediction(X, rescaled=False)
        return convert_like(prediction, X) if hasattr(X, "shape") else to_numpy(prediction)

    def _prediction(self, X: ArrayLike, *, rescaled: bool) -> Array:
        """Predictions in the fitted namespace (divided by the responses' scale if rescaled)."""
        features = self._fitted_features(X)
        prediction = ridge_model_predict(self._model, features, rescaled=rescaled)
        return prediction[:, 0] if self._one_target else prediction

    def _fitted_features(self, X: ArrayLike) -> Array:
        """X checked, projected, in the fitted namespace, device and dtype."""
        check_is_fitted(self, "alpha_")
        X = self._features(X, reset=False)
        reference = self.intercept_
        X = convert_like(X, reference)  # the fitted namespace and device first
        return get_namespace(X).astype(X, reference.dtype, copy=False)

    def score_targets(self, X: ArrayLike, Y: ArrayLike) -> np.ndarray:
        """Pearson r between predicted and measured responses, per target.

        Targets are predicted and scored in chunks (``target_chunk``), so Y
        may be a ``numpy.memmap`` or a dask array larger than memory.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features of held-out stimuli.
        Y : array-like, torch.Tensor, numpy.memmap or dask array of shape (n_stimuli, n_targets)
            Their measured responses ((n_stimuli,) for a model fitted on one target).

        Returns
        -------
        ndarray of shape (n_targets,)
            One r per target (0 where a target or its prediction is constant).
        """
        check_is_fitted(self, "alpha_")
        Y = self._targets(Y, reset=False)
        features = self._fitted_features(X)
        check_paired_samples(features, Y, names=("X", "Y"))
        n, t = Y.shape
        if n < 2:
            raise ValueError(
                f"Y has {n} stimulus; a Pearson r between predicted and measured "
                "responses needs at least 2 stimuli."
            )
        out_of_core = float(n) * t * np.dtype(Y.dtype).itemsize if is_out_of_core(Y) else None
        slices = target_chunks(
            n, t, 8, target_chunk=self.target_chunk, out_of_core_bytes=out_of_core
        )
        scores = np.empty(t)
        predictions = predicted_chunks(self._model, features, slices, rescaled=True)
        for columns, prediction in zip(slices, predictions, strict=True):
            measured = self._measured(Y, columns)
            scores[columns] = score_predictions(
                measured, to_numpy(prediction).astype(np.float64), "pearson"
            )
        return scores

    def _measured(self, Y: Array, columns: slice) -> np.ndarray:
        """Responses of some targets, float64 numpy, divided by their training scale (exact)."""
        measured = read_targets(Y, columns, np.empty(0))
        y_scale = self._model.y_scale
        return measured / (y_scale if np.ndim(y_scale) == 0 else y_scale[columns])

    def _predicted_and_measured(self, X: ArrayLike, Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Predictions for X and the checked responses Y, both (n, n_targets) float64 numpy."""
        check_is_fitted(self, "alpha_")
        Y = self._targets(Y, reset=False)
        # Both divided by the training responses' power-of-two scale (exact):
        # the scores are scale-invariant, and responses near 1e300 stay in range.
        features = self._fitted_features(X)
        check_paired_samples(features, Y, names=("X", "Y"))
        prediction = ridge_model_predict(self._model, features, rescaled=True)
        return to_numpy(prediction).astype(np.float64), self._measured(Y, slice(0, Y.shape[1]))

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Mean Pearson r over targets on (held-out) stimuli (not R^2).

        The default score of ``cross_validate`` and ``GridSearchCV``; pass
        ``scoring="r2"`` to them for scikit-learn's R^2 of the predictions.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
            Measured responses.

        Returns
        -------
        float
            The mean over targets of ``score_targets(X, Y)``.
        """
        return float(np.mean(self.score_targets(X, Y)))

    def __sklearn_tags__(self) -> Tags:
        """Tags: Y (the responses) is required and multi-output; not a regressor (see score)."""
        tags = super().__sklearn_tags__()
        tags.estimator_type = None  # score is a mean Pearson r, not a regressor's R^2
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags


class EncodingRSA(EncodingRegression):
    """Encoding RSA: the RDM of the encoding model's predictions vs the measured RDM.

    Fits the ridge encoding model of :class:`EncodingRegression` on the
    training stimuli; ``score(X, Y)`` compares the RDM of the predicted
    responses to held-out stimuli with the RDM of their measured responses
    (DeepJuice's eRSA).

    Parameters
    ----------
    alphas : sequence of float, default=logspace(-1, 5, 7)
        Candidate regularisation strengths.
    cv : None, int, cross-validation splitter or iterable, default=None
        Folds for choosing alpha (None: leave-one-out).
    scoring : {"pearson", "r2", "neg_mse"}, default="pearson"
        How alpha is chosen.
    fit_intercept : bool, default=True
        Centre features and responses on the training means.
    random_projection : None, "auto" or int, default=None
        Sparse random projection of the features first.
    random_state : int or None, default=None
        Seed of the random projection.
    device : None, str or torch.device, default=None
        Where to compute.
    target_chunk : int or None, default=None
        Targets fitted at once (see :class:`EncodingRegression`).
    n_jobs : int or None, default=None
        Number of joblib workers the chunks of targets are fitted in.
    rdm_method : str, default="correlation"
        RDM of the predicted and measured responses.
    compare_method : str, default="pearson"
        How the two RDMs are compared (the ``method`` of
        :func:`skrep.functional.compare_rdms`). Pearson, as DeepJuice's eRSA
        does: the predicted responses are a linear fit to the measured ones,
        so their RDMs share a scale, which a rank correlation would discard
        (:class:`~skrep.RSA`, which compares RDMs of unrelated spaces,
        defaults to "spearman").
    comparison : str, default="deprecated"
        The old name of ``compare_method``; it works, with a FutureWarning,
        until the next release.

    Attributes
    ----------
    alpha_ : ndarray of shape (n_targets,)
        The chosen alpha of each target.
    coef_ : array of shape (n_features_used, n_targets)
        Ridge weights.
    """

    def __init__(
        self,
        alphas: Sequence[float] = DEEPJUICE_ALPHAS,
        *,
        cv: Any = None,
        scoring: str = "pearson",
        fit_intercept: bool = True,
        random_projection: str | int | None = None,
        random_state: RandomState = None,
        device: Device = None,
        target_chunk: int | None = None,
        n_jobs: int | None = None,
        rdm_method: str = "correlation",
        compare_method: str = "pearson",
        comparison: str = "deprecated",
    ):
        super().__init__(
            alphas,
            cv=cv,
            scoring=scoring,
            fit_intercept=fit_intercept,
            random_projection=random_projection,
            random_state=random_state,
            device=device,
            target_chunk=target_chunk,
            n_jobs=n_jobs,
        )
        self.rdm_method = rdm_method
        self.compare_method = compare_method
        self.comparison = comparison

    def _check_params(self) -> np.ndarray:
        self._compare_method = renamed_parameter_value(
            self, "comparison", "compare_method", "pearson"
        )
        check_comparison(self._compare_method, type(self).__name__, "compare_method")
        check_pattern_rdm_method(self.rdm_method, type(self).__name__)
        return super()._check_params()

    def _rdm(self, responses: np.ndarray, what: str) -> np.ndarray:
        """The RDM of responses, with errors that say whose RDM it is."""
        try:
            return compute_rdm(responses, self.rdm_method)
        except ValueError as exc:
            raise ValueError(f"The {self.rdm_method!r} RDM of {what} is undefined: {exc}") from exc

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Comparison of the RDMs of predicted and measured responses.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features of (held-out) stimuli, at least 3.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets)
            Their measured responses.

        Returns
        -------
        float
            E.g. the Pearson correlation of the two RDMs.
        """
        prediction, Y = self._predicted_and_measured(X, Y)
        if Y.shape[0] < 3:
            noun = "stimulus" if Y.shape[0] == 1 else "stimuli"
            raise ValueError(
                f"Y has {Y.shape[0]} {noun}; an RDM comparison needs at least 3 stimuli (2 "
                "give a single dissimilarity, which has no pattern to compare)."
            )
        measured = self._rdm(Y, "Y (the measured responses)")  # Y's errors first
        predicted = self._rdm(prediction, "the responses predicted from X")
        return compared_rdms(predicted, measured, self._compare_method, self.rdm_method)
