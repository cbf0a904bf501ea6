"""A fitted ridge encoding model: alphas chosen per target, weights, predictions.

The computation behind :class:`skrep.EncodingRegression`, on validated
arrays: choose each target's alpha by (leave-one-out) cross-validation with
the solvers of :mod:`skrep.functional.ridge`, fit the weights, predict.

Features and responses at extreme scales (around 1e300 or 1e-300, where
``X'X`` overflows or underflows) are divided by powers of two first, and the
alphas by the square of the features' factor: ridge on ``X / s`` with
``alpha / s**2`` is exactly ridge on ``X`` with ``alpha`` (weights scaled by
``s``, the same predictions and scores), so the model is that of the
unscaled problem. The scales are kept, and the public weights, intercepts
and predictions are given in the units of the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import Bunch

from .._array import get_namespace, matrix_transpose
from .._typing import Array
from ._extreme_scales import divide_by, multiplied, range_scale, scaled_alphas, unscaled
from .ridge import (
    ridge_coefficients,
    ridge_cv_scores,
    ridge_dual_coefficients,
    ridge_loo_scores,
    select_alphas,
)

__all__ = ["fit_ridge_model", "ridge_model_predict", "ridge_model_coefficients"]


def fit_ridge_model(
    X: Array,
    Y: Array,
    alphas: np.ndarray,
    *,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    scoring: str = "pearson",
    fit_intercept: bool = True,
) -> Bunch:
    """Choose each target's alpha by cross-validation and fit the ridge weights.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated features, in the namespace, device and floating dtype of the
        computation.
    Y : array of shape (n_samples, n_targets)
        Validated responses, in X's namespace and dtype.
    alphas : ndarray of shape (n_alphas,)
        Positive candidate alphas (checked).
    splits : list of (train, test) index arrays or None, default=None
        Cross-validation folds; None for efficient leave-one-out.
    scoring : {"pearson", "r2", "neg_mse"}, default="pearson"
        How held-out predictions are scored to choose alpha.
    fit_intercept : bool, default=True
        Center features and responses on their means.

    Returns
    -------
    Bunch
        ``alpha`` (n_targets,) and ``cv_scores`` (n_alphas, n_targets), in
        the units of the data; ``intercept`` (n_targets,), also in those units;
        and the state :func:`ridge_model_predict` reads: ``x_scale`` and
        ``y_scale`` (the powers of two the data were divided by, 1.0 for data
        in range), ``mean_x`` (or None) and ``mean_y`` of the rescaled data,
        ``coef`` (primal weights of the rescaled problem, or None in the kernel
        form), ``dual_coef`` and ``features`` (the centered, rescaled training
        features, in the kernel form; else None).
    """
    xp = get_namespace(X)
    x_scale, y_scale = range_scale(X), range_scale(Y)
    X, Y = divide_by(X, x_scale), divide_by(Y, y_scale)
    fit_alphas = scaled_alphas(alphas, x_scale, X)
    if fit_intercept:
        mean_x, mean_y = xp.mean(X, axis=0), xp.mean(Y, axis=0)
        Xc, Yc = X - mean_x, Y - mean_y
    else:
        mean_x, mean_y = None, xp.zeros(Y.shape[1], dtype=Y.dtype)
        Xc, Yc = X, Y
    kernel_form = Xc.shape[1] > Xc.shape[0]  # the refit reuses the kernel's eigh
    if splits is None:
        cv_scores, kernel_eigh = ridge_loo_scores(
            Xc, Yc, fit_alphas, scoring=scoring, intercept=fit_intercept, return_kernel_eigh=True
        )
    else:
        scores = ridge_cv_scores(
            X,
            Y,
            fit_alphas,
            splits,
            scoring=scoring,
            fit_intercept=fit_intercept,
            return_kernel_eigh=kernel_form,
        )
        cv_scores, kernel_eigh = scores if kernel_form else (scores, None)
    # The choice depends on the scores and on the order of the alphas only;
    # the given alphas break ties towards the larger one, as without rescaling.
    alpha = select_alphas(cv_scores, alphas)
    target_alphas = scaled_alphas(alpha, x_scale, X)
    if scoring == "neg_mse":  # -inf where the true MSE exceeds the float range
        cv_scores = multiplied(cv_scores, y_scale, y_scale)
    if kernel_form:
        # Keep the dual weights; the primal ones (features x targets, the
        # costliest product) are formed only if they are asked for.
        dual_coef = ridge_dual_coefficients(Xc, Yc, target_alphas, kernel_eigh=kernel_eigh)
        coef, features = None, Xc
        # mean_x . coef = (Xc mean_x) . dual: no primal weights needed.
        shift = (Xc @ mean_x) @ dual_coef if mean_x is not None else 0.0
    else:
        dual_coef, features = None, None
        coef = ridge_coefficients(Xc, Yc, target_alphas)
        shift = mean_x @ coef if mean_x is not None else 0.0
    return Bunch(
        alpha=alpha,
        cv_scores=cv_scores,
        intercept=multiplied(mean_y - shift, y_scale),
        x_scale=x_scale,
        y_scale=y_scale,
        mean_x=mean_x,
        mean_y=mean_y,
        coef=coef,
        dual_coef=dual_coef,
        features=features,
    )


def ridge_model_predict(model: Bunch, X: Array, *, rescaled: bool = False) -> Array:
    """Predictions of a model from :func:`fit_ridge_model`.

    Parameters
    ----------
    model : Bunch
        The fitted model.
    X : array of shape (n_samples, n_features)
        Features in the units of the training features, in the model's
        namespace, device and dtype.
    rescaled : bool, default=False
        Return the predictions divided by ``model.y_scale`` (the units the
        model computes in; scale-invariant scores read them so that responses
        around 1e300 stay in range).

    Returns
    -------
    array of shape (n_samples, n_targets)
        The predicted responses.
    """
    xp = get_namespace(X)
    X = divide_by(X, model.x_scale)
    if model.mean_x is not None:
        X = X - model.mean_x
    if model.dual_coef is not None:
        prediction = (X @ matrix_transpose(model.features, xp)) @ model.dual_coef
    else:
        prediction = X @ model.coef
    prediction = prediction + model.mean_y
    return prediction if rescaled else multiplied(prediction, model.y_scale)


def ridge_model_coefficients(model: Bunch, *, dual: bool = False) -> Array:
    """The ridge weights of a model from :func:`fit_ridge_model`, in the units of the data.

    Parameters
    ----------
    model : Bunch
        The fitted model.
    dual : bool, default=False
        Return the dual weights ``(XX' + alpha I)^-1 Y`` (None outside the
        kernel form) instead of the primal weights.

    Returns
    -------
    array or None
        Primal weights of shape (n_features, n_targets), or dual weights of
        shape (n_samples, n_targets). Formed from the rescaled problem's
        weights by powers of two; weights of data at extreme scales can
        themselves exceed the float range (then inf).
    """
    if dual:
        if model.dual_coef is None:
            return None
        return unscaled(multiplied(model.dual_coef, model.y_scale), model.x_scale, model.x_scale)
    coef = model.coef
    if coef is None:
        xp = get_namespace(model.features)
        coef = matrix_transpose(model.features, xp) @ model.dual_coef
    return unscaled(multiplied(coef, model.y_scale), model.x_scale)
