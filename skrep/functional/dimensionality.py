"""Dimensionality of one representation: how many dimensions its variance spreads over.

Two reference measures:

- the participation ratio (Gao et al. 2017), which DeepJuice calls effective
  dimensionality (Elmoznino and Bonner 2022): ``(sum l)^2 / sum l^2`` over the
  eigenvalues ``l`` of the covariance;
- the effective rank (Roy and Vetterli 2007): ``exp`` of the entropy of the
  normalised singular values.

Inputs are numpy arrays or torch tensors (any array-API array); the heavy
linear algebra (centering, SVD, Gram products) runs in the input's namespace
and on its device, and the summaries come back as Python floats. Arrays with
more than two axes, such as (trials, time, units), are read as samples by
features: every axis but the last is flattened into samples. Data with
several feature axes must be flattened to (..., n_features) first.

The principal subspaces of two data sets (principal angles, PCA
cross-variance) are in :mod:`skrep.functional.subspace`, which uses the
helpers here.
"""

from __future__ import annotations

import numpy as np

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike, Namespace
from .._validation import _shape_str, check_representation
from ..exceptions import InvalidParameterError
from ._autograd import participation_ratio_surrogate, torch_result
from ._extreme_scales import divide_by, power_of_two_above, range_scale

__all__ = [
    "participation_ratio",
    "effective_dimensionality",
    "effective_rank",
]


# -- input handling ---------------------------------------------------------------------
def _as_samples_by_features(X: ArrayLike, name: str, *, min_samples: int = 2) -> Array:
    """Validate ``X`` as (n_samples, n_features); more axes are flattened into samples."""
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if getattr(X, "ndim", 0) > 2 and getattr(X, "dtype", None) is not None:
        if X.shape[-1] == 0:
            raise ValueError(
                f"{name} has shape {_shape_str(X.shape)}: its last axis (the features) is "
                "empty; expected at least one feature."
            )
        shape = _shape_str(X.shape)
        try:
            return check_representation(X.reshape(-1, X.shape[-1]), name, min_samples=min_samples)
        except ValueError as exc:
            raise ValueError(f"{exc} ({name} was flattened from shape {shape}.)") from exc
    return check_representation(X, name, min_samples=min_samples)


def _centered(X: Array, xp: Namespace) -> Array:
    return X - xp.mean(X, axis=0, keepdims=True)


# -- dimensionality -----------------------------------------------------------------------
def _participation_ratio_of_centered(Xc: Array, xp: Namespace) -> float:
    """(sum l)^2 / sum l^2 from centered data, through the smaller Gram matrix.

    The covariance X'X/n and the kernel XX'/n share their nonzero eigenvalues,
    and sum l = trace and sum l^2 = squared Frobenius norm of either, so no
    eigendecomposition is needed; the smaller product is the cheaper one (n
    samples x 40 000 features costs an n x n product, not 40 000 x 40 000).
    """
    n, p = Xc.shape
    # The ratio does not depend on scale: an exact division by a power of two
    # that brings the largest entry to [0.5, 1) keeps the sums of fourth powers
    # in range (data near 1e300 or 1e-300, or float32 data near 1e9).
    Xc = divide_by(Xc, power_of_two_above(Xc))
    gram = matrix_transpose(Xc, xp) @ Xc if p <= n else Xc @ matrix_transpose(Xc, xp)
    total = float(xp.linalg.trace(gram))
    squared = float(xp.sum(gram * gram))
    if total == 0.0 or squared == 0.0:
        return 0.0
    return total * total / squared


def _participation_ratio_of_covariance(C: Array, name: str) -> float:
    xp = get_namespace(C)
    if C.shape[0] != C.shape[1]:
        raise ValueError(
            f"{name} must be a square covariance matrix of shape (n_features, n_features) "
            f"when covariance=True; got shape {_shape_str(C.shape)}."
        )
    asymmetry = float(xp.max(xp.abs(C - matrix_transpose(C, xp))))
    scale = float(xp.max(xp.abs(C)))
    if asymmetry > 1e-8 * max(scale, 1e-300):
        raise ValueError(
            f"{name} is not symmetric (largest |C - C.T| is {asymmetry:.3g}, largest "
            f"|C| is {scale:.3g}); expected a covariance matrix when covariance=True."
        )
    if scale == 0.0:
        return 0.0
    eigenvalues = xp.linalg.eigvalsh(C / scale)
    smallest, largest = float(xp.min(eigenvalues)), float(xp.max(eigenvalues))
    # Rounding leaves eigenvalues of a PSD matrix within ~n eps of zero from below.
    tolerance = 100 * C.shape[0] * float(xp.finfo(C.dtype).eps) * max(largest, 1.0)
    if smallest < -tolerance:
        raise ValueError(
            f"{name} is not positive semidefinite (smallest eigenvalue {smallest * scale:.3g}); "
            "expected a covariance matrix when covariance=True."
        )
    eigenvalues = xp.clip(eigenvalues, min=0.0)  # rounding can make some slightly < 0
    total = float(xp.sum(eigenvalues))
    squared = float(xp.sum(eigenvalues * eigenvalues))
    if total == 0.0 or squared == 0.0:
        return 0.0
    return total * total / squared


def participation_ratio(X: ArrayLike, *, covariance: bool = False) -> float | Array:
    """Participation ratio: how many dimensions the variance spreads over.

    ``PR = (sum_i l_i)^2 / sum_i l_i^2`` over the eigenvalues ``l_i`` of the
    covariance. It is 1 when all the variance lies along one axis and ``d``
    when it is spread evenly over ``d`` axes (Gao et al. 2017).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features) or (n_features, n_features)
        Data, one row per sample (arrays with more axes are flattened into
        samples, e.g. (trials, time, units)); or, with ``covariance=True``, a
        covariance matrix.
    covariance : bool, default=False
        Whether ``X`` is a covariance matrix rather than data.

    Returns
    -------
    float or torch.Tensor
        The participation ratio, between 1 and ``min(n_samples - 1, n_features)``;
        0.0 for data with no variance (or an all-zero covariance), as in the
        subspace-analysis script. For torch input a 0-d tensor that carries
        gradients when X requires grad.

    See Also
    --------
    effective_dimensionality : The same quantity under DeepJuice's name.
    effective_rank : Entropy-based count of dimensions from the singular values.

    Notes
    -----
    From data, the columns are centered and the value is computed from the
    smaller of the covariance and the Gram (kernel) matrix, which share their
    nonzero eigenvalues: ``PR = ||Xc||_F^4 / ||Xc' Xc||_F^2``. This is exact and
    needs no eigendecomposition. A covariance matrix goes through its
    eigenvalues, with rounding negatives clipped to zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import participation_ratio
    >>> X = np.random.default_rng(0).standard_normal((2000, 5)) * [1, 1, 1, 1, 0]
    >>> round(participation_ratio(X), 1)
    4.0
    """
    if not isinstance(covariance, (bool, np.bool_)):
        raise InvalidParameterError(
            "The 'covariance' parameter of participation_ratio must be True or False; got "
            f"{covariance!r}."
        )
    original = X
    value = _participation_ratio(X, covariance)
    return torch_result(
        value, (original,), lambda: participation_ratio_surrogate(original, covariance)
    )


def _participation_ratio(X: ArrayLike, covariance: bool) -> float:
    if covariance:
        C = check_representation(X, "X", min_samples=1)
        return _participation_ratio_of_covariance(C, "X")
    X = _as_samples_by_features(X, "X")
    xp = get_namespace(X)
    X = divide_by(X, range_scale(X))  # the mean of data near 1e308 stays in range
    Xc = _centered(X, xp)
    # Centering a constant column leaves at most a few ulps of the constant:
    # rounding errors, not variance.
    largest, magnitude = float(xp.max(xp.abs(Xc))), float(xp.max(xp.abs(X)))
    if not largest > 8.0 * float(xp.finfo(X.dtype).eps) * magnitude:
        return 0.0
    return _participation_ratio_of_centered(Xc, xp)


def effective_dimensionality(X: ArrayLike, *, covariance: bool = False) -> float | Array:
    """Effective dimensionality of a representation: its participation ratio.

    This is the name used by DeepJuice and Elmoznino and Bonner (2022) for
    ``(sum l)^2 / sum l^2`` over the covariance eigenvalues; see
    :func:`participation_ratio`, which it calls.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features) or (n_features, n_features)
        Data, one row per sample (arrays with more axes are flattened into
        samples, as in :func:`participation_ratio`), or a covariance matrix
        with ``covariance=True``.
    covariance : bool, default=False
        Whether ``X`` is a covariance matrix rather than data.

    Returns
    -------
    float or torch.Tensor
        The effective dimensionality (0.0 for data with no variance); for
        torch input a 0-d tensor, as :func:`participation_ratio` gives.
    """
    return participation_ratio(X, covariance=covariance)


def effective_rank(X: ArrayLike, *, center: bool = False) -> float:
    """Effective rank of a matrix (Roy and Vetterli 2007).

    With singular values ``s_i`` and ``p_i = s_i / sum_j s_j``, the effective
    rank is ``exp(-sum_i p_i log p_i)``: the exponential of the Shannon entropy
    of the normalised singular values. It lies between 1 and the rank, and
    equals ``k`` when ``k`` singular values are equal and the rest are zero.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_rows, n_columns)
        The matrix (arrays with more axes are flattened into rows).
    center : bool, default=False
        Subtract the column means first. Roy and Vetterli define the
        effective rank of the matrix itself, hence the default; center to
        measure the spread of a representation around its mean.

    Returns
    -------
    float
        The effective rank; 0.0 for a matrix of zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional import effective_rank
    >>> round(effective_rank(np.diag([2.0, 2.0, 2.0, 0.0])), 6)
    3.0
    """
    if not isinstance(center, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'center' parameter of effective_rank must be True or False; got {center!r}."
        )
    X = _as_samples_by_features(X, "X", min_samples=1)
    xp = get_namespace(X)
    if center:
        X = _centered(X, xp)
    singular_values = to_numpy(xp.linalg.svdvals(X)).astype(np.float64)
    total = singular_values.sum()
    if total == 0.0:
        return 0.0
    p = singular_values[singular_values > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))
