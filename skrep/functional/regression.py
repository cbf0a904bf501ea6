"""Linear predictivity: how much of one representation a linear map of the other explains."""

from __future__ import annotations

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike
from .cca import _column_basis, _validated_pair
from .centering import center_and_scale

__all__ = ["linear_regression_r2", "prepare_regression", "explained_fraction"]


def linear_regression_r2(X: ArrayLike, Y: ArrayLike) -> float:
    """R^2 of the least-squares fit of X from Y (with intercept), pooled over X's units.

    ``1 - ||Xc - P_Y Xc||_F^2 / ||Xc||_F^2``, where ``P_Y`` projects onto the
    column space of the centered Y: the fraction of X's total variance a
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
    return explained_fraction(prepare_regression(X, "X"), prepare_regression(Y, "Y"))


def prepare_regression(X: Array, name: str) -> tuple[Array, float, Array]:
    """The per-representation step of the regression R^2, for validated X.

    Done once per layer by the many-networks engine: each layer serves as a
    target and as predictors.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A validated representation.
    name : str
        Its name in error messages (a constant X is an error).

    Returns
    -------
    tuple
        ``(Xc, total, basis)``: the centered (and scaled) X, its total
        variance, and an orthonormal basis of its centered columns.
    """
    xp = get_namespace(X)
    # R^2 does not change when either side is scaled; scaling keeps products in range.
    Xc = center_and_scale(X, name, "the regression R^2")[0]
    return Xc, float(xp.sum(xp.astype(Xc, xp.float64) ** 2)), _column_basis(Xc)


def explained_fraction(
    target: tuple[Array, float, Array], predictors: tuple[Array, float, Array]
) -> float:
    """Share of the target's variance in the column space of the predictors.

    Parameters
    ----------
    target, predictors : tuple
        Two results of :func:`prepare_regression`.

    Returns
    -------
    float
        The R^2 of the target from the predictors, in [0, 1].
    """
    Xc, total, _ = target
    basis = predictors[2]
    xp = get_namespace(Xc)
    if basis.dtype != Xc.dtype:
        Xc, basis = xp.astype(Xc, xp.float64), xp.astype(basis, xp.float64)
    explained = xp.astype(matrix_transpose(basis, xp) @ Xc, xp.float64)
    return float(to_numpy(xp.sum(explained * explained))) / total
