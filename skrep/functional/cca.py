"""Canonical correlation analysis (CCA) similarities: mean CCA, R2_CCA, SVCCA and PWCCA.

All start from the canonical correlations ``rho_1 >= rho_2 >= ...`` of the
centered representations: the singular values of ``Qx' Qy``, where ``Qx`` and
``Qy`` are orthonormal bases of the column spaces of X and Y (directions of
numerically zero variance dropped), so there are ``min(rank X, rank Y)`` of
them.

- mean CCA: the mean of all of them (google's ``get_cca_similarity()["mean"]``
  averages only the leading coefficients that hold 98% of their sum);
- R2_CCA (Kornblith et al. 2019): the mean of their squares;
- SVCCA (Raghu et al. 2017): mean CCA after keeping each representation's
  top principal components (99% of the variance by default);
- PWCCA (Morcos et al. 2018): a weighted mean, weights from how much of the
  narrower representation's activity each canonical direction accounts for.
"""

from __future__ import annotations

import numpy as np

from .._array import convert_like, get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike
from .._validation import check_paired_samples, check_representation
from ..exceptions import InvalidParameterError
from ._autograd import cca_surrogate, torch_result
from ._pwcca_autograd import pwcca_surrogate
from ._pwcca_directions import pwcca_rotation
from .centering import center_and_scale
from .subspace import check_n_components, principal_components_of_validated

__all__ = [
    "canonical_correlations",
    "mean_cca",
    "r2_cca",
    "svcca",
    "pwcca",
    "cca_summary",
    "centered_basis",
    "basis_correlations",
    "svcca_basis",
    "prepare_pwcca",
    "pwcca_from_prepared",
    "check_cca_method",
]


def _validated_pair(X: ArrayLike, Y: ArrayLike) -> tuple[Array, Array]:
    """Validated X and Y in X's namespace, each in its own dtype.

    Each side keeps its dtype so that its numerical rank is judged with its
    own precision (a float32 side promoted to float64 would count its
    rounding noise as extra directions); products promote where they meet.
    """
    X = check_representation(X, "X")
    Y = check_representation(Y, "Y")
    check_paired_samples(X, Y)
    return X, convert_like(Y, X)


def _ranked_svd(A: Array) -> tuple[Array, Array]:
    """Thin SVD of centered, scaled data, cut to its numerical rank.

    The rank uses numpy.linalg.matrix_rank's tolerance, in the data's own
    precision; at least one direction is kept.
    """
    xp = get_namespace(A)
    U, s, Vt = xp.linalg.svd(A, full_matrices=False)
    s_host = to_numpy(s)
    tolerance = s_host[0] * max(A.shape) * np.finfo(s_host.dtype).eps
    rank = max(int(np.sum(s_host > tolerance)), 1)
    return U[:, :rank], Vt[:rank, :]


def _column_basis(Xc: Array) -> Array:
    """Orthonormal basis of the column space of centered, scaled data (rank-revealing SVD)."""
    return _ranked_svd(Xc)[0]


def centered_basis(X: Array, name: str) -> Array:
    """Orthonormal basis of the centered columns of validated X (once per representation).

    The per-representation step of mean CCA and R2_CCA: the canonical
    correlations of two representations are the singular values of the
    product of their bases (:func:`basis_correlations`).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A validated representation (numpy or torch).
    name : str
        Its name in error messages (a constant X is an error).

    Returns
    -------
    array of shape (n_samples, rank)
        Orthonormal columns spanning the centered columns of X, in X's
        namespace and dtype (directions of numerically zero variance dropped).
    """
    return _column_basis(center_and_scale(X, name, "its canonical correlations")[0])


def basis_correlations(Qx: Array, Qy: Array) -> np.ndarray:
    """Canonical correlations from two orthonormal bases: the singular values of Qx'Qy.

    Parameters
    ----------
    Qx, Qy : arrays of shape (n_samples, rank_x) and (n_samples, rank_y)
        Orthonormal bases (:func:`centered_basis`, :func:`svcca_basis`), in
        one namespace; products promote to float64 when their dtypes differ.

    Returns
    -------
    ndarray of shape (min(rank_x, rank_y),)
        The correlations, in [0, 1], as float64 numpy.
    """
    xp = get_namespace(Qx)
    if Qx.dtype != Qy.dtype:
        Qx, Qy = xp.astype(Qx, xp.float64), xp.astype(Qy, xp.float64)
    rho = xp.linalg.svdvals(matrix_transpose(Qx, xp) @ Qy)
    # Rounding can push a correlation of 1 slightly above it.
    return np.clip(to_numpy(rho).astype(np.float64), 0.0, 1.0)


def _correlations(X: Array, Y: Array) -> np.ndarray:
    """Canonical correlations of validated X and Y (same namespace and dtype)."""
    return basis_correlations(centered_basis(X, "X"), centered_basis(Y, "Y"))


def canonical_correlations(X: ArrayLike, Y: ArrayLike) -> np.ndarray:
    """Canonical correlations between two representations, in decreasing order.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation, one row per stimulus.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.

    Returns
    -------
    ndarray of shape (min(rank X, rank Y),)
        The correlations, in [0, 1], as float64 numpy.
    """
    X, Y = _validated_pair(X, Y)
    return _correlations(X, Y)


def mean_cca(X: ArrayLike, Y: ArrayLike) -> float | Array:
    """Mean of all canonical correlations (Raghu et al. 2017's mean CCA similarity).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.

    Returns
    -------
    float or torch.Tensor
        In [0, 1]; for torch input a 0-d tensor that carries gradients when
        an input requires grad (see :func:`skrep.functional.cka`).
    """
    value = cca_summary(canonical_correlations(X, Y), "mean")
    return torch_result(value, (X, Y), lambda: cca_surrogate(X, Y, "mean"))


def r2_cca(X: ArrayLike, Y: ArrayLike) -> float | Array:
    """Mean squared canonical correlation, R2_CCA (Kornblith et al. 2019).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.

    Returns
    -------
    float or torch.Tensor
        In [0, 1]; a 0-d tensor that carries gradients for torch input.
    """
    value = cca_summary(canonical_correlations(X, Y), "r2")
    return torch_result(value, (X, Y), lambda: cca_surrogate(X, Y, "r2"))


def _reduced(X: Array, n_components: float | int | None, name: str) -> Array:
    pcs = principal_components_of_validated(X, n_components, name)
    xp = get_namespace(X)
    return (X - pcs.mean) @ matrix_transpose(pcs.components, xp)


def svcca_basis(X: Array, n_components: float | int | None, name: str) -> Array:
    """Orthonormal basis of the top principal components of validated X (SVCCA's step).

    The principal-component scores of centered data are centered already, so
    their basis needs no second centering.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A validated representation.
    n_components : float, int or None
        Components kept (see :func:`svcca`).
    name : str
        Its name in error messages.

    Returns
    -------
    array of shape (n_samples, n_kept)
        Orthonormal columns spanning the kept principal-component scores.
    """
    scaled = center_and_scale(X, name, "SVCCA")[0]
    return _column_basis(_reduced(scaled, n_components, name))


def svcca(X: ArrayLike, Y: ArrayLike, n_components: float | int | None = 0.99) -> float | Array:
    """SVCCA (Raghu et al. 2017): mean CCA of the top principal components.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.
    n_components : float, int or None, default=0.99
        Components kept on each side: a float in (0, 1) keeps the fewest
        whose cumulative explained variance (squared singular values) exceeds
        it, as in :class:`sklearn.decomposition.PCA`; an int keeps that many;
        None keeps all (plain mean CCA). (ReSi's SVCCA keeps a single
        component by mistake.)

    Returns
    -------
    float or torch.Tensor
        In [0, 1]; for torch input a 0-d tensor that carries gradients when
        an input requires grad: those of the mean CCA of the kept components
        (their number held at the value's), finite where variances repeat.
    """
    check_n_components(n_components, "svcca")
    A, B = _validated_pair(X, Y)
    basis_x = svcca_basis(A, n_components, "X")
    basis_y = svcca_basis(B, n_components, "Y")
    value = float(np.mean(basis_correlations(basis_x, basis_y)))
    kept = (basis_x.shape[1], basis_y.shape[1])
    return torch_result(value, (X, Y), lambda: cca_surrogate(X, Y, "mean", *kept))


def _whitening_factors(Ac: Array) -> tuple[Array, np.ndarray]:
    """Left singular vectors (in A's namespace) and right ones (float64 numpy) of the kept rank."""
    xp = get_namespace(Ac)
    U, Vt = _ranked_svd(Ac)
    return U, to_numpy(xp.astype(Vt, xp.float64)).T


def pwcca(X: ArrayLike, Y: ArrayLike) -> float | Array:
    """Projection-weighted CCA (Morcos et al. 2018), as google/svcca computes it.

    The canonical correlations are weighted by how much of the narrower
    representation's activity (X when they are equally wide) each canonical
    direction accounts for: ``alpha_i = sum_j |<h_i, z_j>|`` over that
    representation's units ``z_j``, normalised to sum to 1, where ``h_i`` are
    orthonormalised canonical directions in sample space.

    It follows the published ``compute_pwcca`` (including its covariance
    scaling and the unit means it adds back to the directions), with its
    crash fixed: when X is wider than Y, google's code indexes X with Y's
    units and raises IndexError; here Y's own activity is used. Because the
    means are added back, the weights depend on the sign convention of the
    SVD, so ``pwcca(X, Y)`` and ``pwcca(Y, X)`` differ slightly (by 5e-5 on
    the reference data); the values agree with the published code.

    Tied canonical correlations leave the published value undefined: when
    ``n_samples <= rank X + rank Y`` the two column spaces intersect, several
    correlations equal 1, and the SVD may return any basis of their common
    subspace (numpy and torch, or two runs of different BLAS, differed by
    up to 1e-2; a tie also changes the signs LAPACK gives the other
    directions). When correlations tie (within rounding, ``32 sqrt(rank)
    eps``), the directions of each tie here are the principal axes of the
    weighting side's activity in their subspace, and every direction is
    signed so that its largest coefficient is positive: the value depends on
    the data alone (numpy and torch agree). Where the correlations are
    distinct, the directions and signs are the SVD's, and the value is the
    published one.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features_x)
        First representation.
    Y : array-like or torch.Tensor of shape (n_samples, n_features_y)
        Second representation, rows paired with those of X.

    Returns
    -------
    float or torch.Tensor
        In [0, 1]; for torch input a 0-d tensor that carries gradients when
        an input requires grad: through the canonical directions and their
        weights as well as the correlations, exact where the correlations are
        distinct and, where they tie, for the tie rule above (the signs and
        the grouping held fixed).
    """
    inputs = (X, Y)
    X, Y = _validated_pair(X, Y)
    x, y = prepare_pwcca(X, "X"), prepare_pwcca(Y, "Y")
    value = pwcca_from_prepared(x, y)
    return torch_result(
        value,
        inputs,
        lambda: pwcca_surrogate(*inputs, pwcca_rotation(x, y), x["U"].shape[1], y["U"].shape[1]),
    )


def prepare_pwcca(X: Array, name: str) -> dict[str, Array]:
    """Per-representation part of PWCCA: raw and centered activity, means, whitening factors.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        A validated representation.
    name : str
        Its name in error messages.

    Returns
    -------
    dict
        What :func:`pwcca_from_prepared` needs of this representation.
    """
    xp = get_namespace(X)
    # PWCCA does not change when a representation is scaled; scaling keeps
    # float32 products in range.
    centered, means, scale = center_and_scale(X, name, "PWCCA")
    means = means / scale
    # google whitens with pinv(cov)^(1/2), which squares the condition number:
    # near-dependent units (dead ReLUs, collinear features) then give
    # correlations above 1 or an SVD that does not converge. The same matrix,
    # Sxx^(-1/2) Sxy Syy^(-1/2) = Vx (Ux' Uy) Vy' from the thin SVDs Xc = Ux Sx Vx',
    # is formed in pwcca_from_prepared from the data, with numpy's rank tolerance.
    U, V = _whitening_factors(centered)
    as_host = lambda A: to_numpy(xp.astype(A, xp.float64))  # noqa: E731
    return {
        "U": U,
        "V": V,
        "raw": as_host(centered) + as_host(means),
        "centered": as_host(centered),
        "means": as_host(means),
    }


def pwcca_from_prepared(x: dict[str, Array], y: dict[str, Array]) -> float:
    """PWCCA of two representations prepared by :func:`prepare_pwcca`.

    Parameters
    ----------
    x, y : dict
        Results of :func:`prepare_pwcca` for X and Y.

    Returns
    -------
    float
        ``pwcca(X, Y)``.
    """
    rotation, rho, side, _ = pwcca_rotation(x, y)
    prepared = x if side == "X" else y
    rank = rotation.shape[0]
    # As published: the unit means are added back to the rotated centered activity.
    directions = prepared["centered"] @ rotation.T + prepared["means"][:, :rank]
    basis, _ = np.linalg.qr(directions)
    weights = np.sum(np.abs(basis.T @ prepared["raw"]), axis=1)
    weights = weights / np.sum(weights)
    k = min(weights.size, rank)  # fewer directions than units when n < width
    return float(np.sum(weights[:k] * np.clip(rho[:k], 0.0, 1.0)))


#: The summaries of the canonical correlations: their mean, or the mean of their squares.
CCA_METHODS = ("mean", "r2")


def cca_summary(correlations: np.ndarray, method: str = "mean") -> float:
    """Summarise canonical correlations: their mean ("mean") or mean square ("r2").

    Parameters
    ----------
    correlations : ndarray of shape (n_correlations,)
        Canonical correlations (:func:`canonical_correlations`).
    method : {"mean", "r2"}, default="mean"
        Mean CCA, or R2_CCA (the mean of the squares).

    Returns
    -------
    float
        The summary, in [0, 1].
    """
    rho = np.asarray(correlations, dtype=np.float64)
    return float(np.mean(rho * rho)) if method == "r2" else float(np.mean(rho))


def check_cca_method(method: object, owner: str, parameter: str = "method") -> None:
    """Raise unless ``method`` is "mean" or "r2".

    Parameters
    ----------
    method : object
        The value to check.
    owner : str
        The estimator that received it, for the message.
    parameter : str, default="method"
        The parameter's name, for the message.
    """
    if not (isinstance(method, str) and method in CCA_METHODS):
        raise InvalidParameterError(
            f"The {parameter!r} parameter of {owner} must be 'mean' (mean canonical "
            f"correlation) or 'r2' (mean squared canonical correlation); got {method!r}."
        )


def check_cca_statistic(statistic: object, owner: str) -> None:
    """Raise unless ``statistic`` is "mean" or "r2" (the old name of :func:`check_cca_method`).

    Parameters
    ----------
    statistic : object
        The value to check.
    owner : str
        The estimator that received it, for the message.
    """
    check_cca_method(statistic, owner, "statistic")
