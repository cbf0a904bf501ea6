"""Encoding models: ridge regression from model features to brain responses (eReg, eRSA)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import (
    convert_like,
    get_namespace,
    is_foreign_array,
    matrix_transpose,
    move_to_device,
    to_numpy,
)
from .._deprecation import renamed_parameter_value
from .._typing import Array, ArrayLike, Device, RandomState
from .._validation import check_device, check_n_features, check_paired_samples, check_representation
from ..exceptions import InvalidParameterError
from ..functional.rdm import check_pattern_rdm_method, compute_rdm
from ..functional.rdm_compare import check_comparison, compare_rdms
from ..functional.ridge import (
    check_scoring,
    ridge_coefficients,
    ridge_cv_scores,
    ridge_dual_coefficients,
    ridge_loo_scores,
    score_predictions,
    select_alphas,
)

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["EncodingRegression", "EncodingRSA"]

DEEPJUICE_ALPHAS = tuple(float(a) for a in np.logspace(-1, 5, 7))


class EncodingRegression(RegressorMixin, BaseEstimator):
    """Ridge encoding model with the regularisation chosen per target (voxel, neuron).

    ``fit(X, Y)`` maps model features X to responses Y by ridge regression,
    choosing each target's alpha by cross-validation on the training
    stimuli, from one eigendecomposition per fold (the kernel form when
    features outnumber samples); ``score(X, Y)`` is the mean Pearson r over
    targets between the predictions and held-out responses.
    ``score_targets`` gives each target's r.

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
        How held-out predictions are scored to choose alpha.
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
    ):
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.random_projection = random_projection
        self.random_state = random_state
        self.device = device

    # -- parameters and inputs ---------------------------------------------------------
    def _check_params(self) -> np.ndarray:
        name = type(self).__name__
        try:
            alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            alphas = np.empty(0)
        if (
            np.ndim(self.alphas) != 1
            or alphas.size == 0
            or not np.all(np.isfinite(alphas))
            or np.any(alphas <= 0)
        ):
            raise InvalidParameterError(
                f"The 'alphas' parameter of {name} must be a non-empty sequence of positive "
                f"numbers; got {self.alphas!r}."
            )
        check_scoring(self.scoring, name)
        rp = self.random_projection
        if not (
            rp is None
            or rp == "auto"
            or (isinstance(rp, numbers.Integral) and not isinstance(rp, bool) and rp >= 1)
        ):
            raise InvalidParameterError(
                f"The 'random_projection' parameter of {name} must be None, 'auto' or an int "
                f">= 1; got {rp!r}."
            )
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The 'fit_intercept' parameter of {name} must be True or False; got "
                f"{self.fit_intercept!r}."
            )
        check_device(self.device, name)
        return alphas

    def _targets(self, Y: ArrayLike | None, *, reset: bool) -> Array:
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: y "
                "holds the responses to predict, shape (n_stimuli, n_targets) or (n_stimuli,)."
            )
        if not is_foreign_array(Y):
            Y = np.asarray(Y)  # lists and other array-likes
        one_target = Y.ndim == 1
        if one_target:
            Y = Y[:, None]
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
        alphas = self._check_params()
        X_checked = check_representation(X, "X")
        Y = self._targets(Y, reset=True)
        check_paired_samples(X_checked, Y)
        self.projection_ = None
        n, p = X_checked.shape
        target_dim = self.random_projection
        if target_dim == "auto":
            from sklearn.random_projection import johnson_lindenstrauss_min_dim

            target_dim = int(johnson_lindenstrauss_min_dim(n, eps=0.1))
        if target_dim is not None and target_dim < p:
            from sklearn.random_projection import SparseRandomProjection

            self.projection_ = SparseRandomProjection(
                n_components=target_dim, random_state=self.random_state
            ).fit(to_numpy(X_checked))
        X = self._features(X, reset=True)
        Y = move_to_device(convert_like(Y, X), self.device) if self.device else convert_like(Y, X)
        xp = get_namespace(X)
        dtype = xp.float32 if X.dtype == Y.dtype == xp.float32 else xp.float64
        X, Y = xp.astype(X, dtype, copy=False), xp.astype(Y, dtype, copy=False)
        if self.fit_intercept:
            self._mean_x, mean_y = xp.mean(X, axis=0), xp.mean(Y, axis=0)
            Xc, Yc = X - self._mean_x, Y - mean_y
        else:
            self._mean_x, mean_y = None, xp.zeros(Y.shape[1], dtype=dtype)
            Xc, Yc = X, Y
        kernel_form = Xc.shape[1] > Xc.shape[0]  # the refit reuses the kernel's eigh
        if self.cv is None:
            self.cv_scores_, kernel_eigh = ridge_loo_scores(
                Xc,
                Yc,
                alphas,
                scoring=self.scoring,
                intercept=bool(self.fit_intercept),
                return_kernel_eigh=True,
            )
        else:
            splits = list(check_cv(self.cv).split(to_numpy(X)))
            smallest = min(len(test) for _, test in splits)
            if smallest < 2 and self.scoring != "neg_mse":
                raise ValueError(
                    f"cv={self.cv!r} has test folds of {smallest} stimulus, on which the "
                    f"{self.scoring!r} score is undefined; use cv=None (efficient "
                    "leave-one-out, scored over all held-out predictions together) or "
                    "scoring='neg_mse'."
                )
            scores = ridge_cv_scores(
                X,
                Y,
                alphas,
                splits,
                scoring=self.scoring,
                fit_intercept=self.fit_intercept,
                return_kernel_eigh=kernel_form,
            )
            self.cv_scores_, kernel_eigh = scores if kernel_form else (scores, None)
        self.alpha_ = select_alphas(self.cv_scores_, alphas)
        if kernel_form:
            # Kernel form: keep the dual weights; the primal ones (features x
            # targets, the costliest product) are formed only if coef_ is read.
            self.dual_coef_ = ridge_dual_coefficients(Xc, Yc, self.alpha_, kernel_eigh=kernel_eigh)
            self._fit_features = Xc
            self._coef = None
            # mean_x . coef = (Xc mean_x) . dual: no primal weights needed.
            shift = (Xc @ self._mean_x) @ self.dual_coef_ if self._mean_x is not None else 0.0
        else:
            self.dual_coef_ = None
            self._coef = ridge_coefficients(Xc, Yc, self.alpha_)
            shift = self._mean_x @ self._coef if self._mean_x is not None else 0.0
        self._mean_y = mean_y
        self.intercept_ = mean_y - shift
        return self

    @property
    def coef_(self) -> Array:
        """Ridge weights, shape (n_features_used, n_targets) (formed on first use)."""
        if not hasattr(self, "alpha_"):
            raise AttributeError("coef_ exists after fit")
        if self._coef is None:
            xp = get_namespace(self._fit_features)
            self._coef = matrix_transpose(self._fit_features, xp) @ self.dual_coef_
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
        check_is_fitted(self, "alpha_")
        X_in = X
        X = self._features(X, reset=False)
        reference = self.intercept_
        X = convert_like(X, reference)  # the fitted namespace and device first
        X = get_namespace(X).astype(X, reference.dtype, copy=False)
        if self._mean_x is not None:
            X = X - self._mean_x
        if self.dual_coef_ is not None:
            xp = get_namespace(X)
            kernel = X @ matrix_transpose(self._fit_features, xp)
            prediction = kernel @ self.dual_coef_ + self._mean_y
        else:
            prediction = X @ self._coef + self._mean_y
        if self._one_target:
            prediction = prediction[:, 0]
        return convert_like(prediction, X_in) if hasattr(X_in, "shape") else to_numpy(prediction)

    def score_targets(self, X: ArrayLike, Y: ArrayLike) -> np.ndarray:
        """Pearson r between predicted and measured responses, per target.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_stimuli, n_features)
            Model features of held-out stimuli.
        Y : array-like or torch.Tensor of shape (n_stimuli, n_targets) or (n_stimuli,)
            Their measured responses.

        Returns
        -------
        ndarray of shape (n_targets,)
            One r per target (0 where a target or its prediction is constant).
        """
        prediction, Y = self._predicted_and_measured(X, Y)
        if Y.shape[0] < 2:
            raise ValueError(
                f"Y has {Y.shape[0]} stimulus; a Pearson r between predicted and measured "
                "responses needs at least 2 stimuli."
            )
        return score_predictions(Y, prediction, "pearson")

    def _predicted_and_measured(self, X: ArrayLike, Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Predictions for X and the checked responses Y, both (n, n_targets) float64 numpy."""
        check_is_fitted(self, "alpha_")
        Y = self._targets(Y, reset=False)
        prediction = self.predict(X)
        prediction = prediction[:, None] if self._one_target else prediction
        check_paired_samples(prediction, Y, names=("X", "Y"))
        return to_numpy(prediction).astype(np.float64), to_numpy(Y).astype(np.float64)

    def score(self, X: ArrayLike, Y: ArrayLike) -> float:
        """Mean Pearson r over targets on (held-out) stimuli.

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
        """Tags: Y (the responses) is required and multi-output."""
        tags = super().__sklearn_tags__()
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
        predicted = compute_rdm(prediction, self.rdm_method)
        measured = compute_rdm(Y, self.rdm_method)
        return float(compare_rdms(predicted, measured, self._compare_method)[0, 0])
