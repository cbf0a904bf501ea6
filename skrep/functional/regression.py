"""Linear predictivity: how much of one representation a linear map of the other explains."""

from __future__ import annotations

from .._array import get_namespace, matrix_transpose, to_numpy
from .cca import _column_basis, _validated_pair
from .centering import centre_and_scale

__all__ = ["linear_regression_r2"]


def linear_regression_r2(X, Y):
    """R^2 of the least-squares fit of X from Y (with intercept), pooled over X's units.

    ``1 - ||Xc - P_Y Xc||_F^2 / ||Xc||_F^2``, where ``P_Y`` projects onto the
    column space of the centred Y: the fraction of X's total variance a
    linear map of Y explains (Kornblith et al. 2019's "linear regression";
    ReSi's ``LinearRegression``). It is asymmetric: swap the arguments to fit
    Y from X.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        The representation to explain (the regression targets).
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        The predictors, rows paired with those of X.

    Returns
    -------
    float
        In [0, 1] on the fitted data (1 when X is a linear function of Y).
    """
    X, Y = _validated_pair(X, Y)
    return _explained_fraction(_prepare_regression(X, "X"), _prepare_regression(Y, "Y"))


def _prepare_regression(X, name):
    """(centred X, its total variance, orthonormal basis of its centred columns)."""
    xp = get_namespace(X)
    # R^2 does not change when either side is scaled; scaling keeps products in range.
    Xc = centre_and_scale(X, name, "the regression R^2")[0]
    return Xc, float(xp.sum(xp.astype(Xc, xp.float64) ** 2)), _column_basis(Xc)


def _explained_fraction(target, predictors):
    """Share of the target's variance in the column space of the predictors."""
    Xc, total, _ = target
    basis = predictors[2]
    xp = get_namespace(Xc)
    if basis.dtype != Xc.dtype:
        Xc, basis = xp.astype(Xc, xp.float64), xp.astype(basis, xp.float64)
    explained = xp.astype(matrix_transpose(basis, xp) @ Xc, xp.float64)
    return float(to_numpy(xp.sum(explained * explained))) / total
