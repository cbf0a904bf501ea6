"""The least-squares problems behind the weighted RDM models (see ``rdm_weights``).

Each comparison method is a cosine in some coordinates of the RDM vectors:

- "cosine": the dissimilarities themselves;
- "pearson" (rsatoolbox's "corr"): the dissimilarities minus their mean;
- "cosine_cov" / "corr_cov": the (centred) dissimilarities whitened by the
  covariance ``V`` of distance estimates under i.i.d. noise, as
  ``rdm_compare`` whitens them (coordinates ``w`` with ``w_a . w_b =
  d_a' V^-1 d_b``).

In those coordinates the subjects' RDMs are pooled as rsatoolbox's
``pool_rdm`` pools them (each scaled to unit root mean square for cosine and
corr, to unit ``V^-1`` norm for the cov methods, then averaged), and the
weights are the (non-negative) least-squares coefficients of the pooled RDM
on the transformed components, as rsatoolbox's ``fit_regress`` and
``fit_regress_nn`` compute them.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.optimize

from .._typing import ArrayLike
from .._validation import _shape_str, check_tolerance
from ..exceptions import InvalidParameterError
from ._rank_products import whitened_chunks
from ._rdm_input import host_max, power_of_two_scales, real_numpy
from .rdm_compare import _centered, check_comparison, rdm_stack

__all__ = [
    "WEIGHT_METHODS",
    "check_weight_method",
    "check_ridge_weight",
    "read_components",
    "transformed",
    "pooled_target",
    "solve_weights",
    "finished_weights",
    "shown",
]

#: The comparison methods a weighted model can be fitted for (canonical names).
WEIGHT_METHODS = ("cosine", "pearson", "cosine_cov", "corr_cov")
_DESCRIBED = {
    "cosine": "all zero",
    "pearson": "constant (all zero once centred)",
    "cosine_cov": "all zero",
    "corr_cov": "constant (all zero once centred)",
}


def shown(method: str) -> str:
    """How messages name a canonical method: rsatoolbox's name, quoted."""
    return "'corr' (Pearson)" if method == "pearson" else repr(method)


def check_weight_method(method: object, owner: str) -> str:
    """The canonical name of a method a weighted model can be fitted for.

    Parameters
    ----------
    method : object
        "cosine", "corr" (or "pearson"), "cosine_cov" or "corr_cov".
    owner : str
        The function or estimator that received it, for the message.

    Returns
    -------
    str
        One of ``WEIGHT_METHODS``.
    """
    try:
        canonical = check_comparison(method, owner)
    except InvalidParameterError:
        canonical = None
    if canonical not in WEIGHT_METHODS:
        raise InvalidParameterError(
            f"The 'method' parameter of {owner} must be one of 'cosine', 'corr' (or 'pearson'), "
            f"'cosine_cov', 'corr_cov'; got {method!r}. The weights are least-squares "
            "coefficients, which only these inner-product comparisons have (not the rank-based "
            "ones)."
        )
    return canonical


def check_ridge_weight(ridge_weight: object, owner: str) -> float:
    """``ridge_weight`` as a float, or an InvalidParameterError naming it.

    Parameters
    ----------
    ridge_weight : object
        A finite number >= 0.
    owner : str
        The function or estimator that received it, for the message.

    Returns
    -------
    float
        The value.
    """
    check_tolerance(ridge_weight, "ridge_weight", owner)
    return float(ridge_weight)


def _condensed(array: np.ndarray) -> np.ndarray:
    """(n_rdms, n_pairs) from a checked (n_pairs,), (n_rdms, n_pairs) or (n_rdms, n, n) array."""
    if array.ndim == 1:
        return array[None, :]
    if array.ndim == 3:
        rows, columns = np.triu_indices(array.shape[1], 1)
        return array[:, rows, columns]
    return array


def read_components(components: ArrayLike, name: str = "components") -> tuple[np.ndarray, ...]:
    """Checked components at unit scale, their scales, and whether they were square.

    Parameters
    ----------
    components : array-like of shape (n_pairs,), (n_components, n_pairs) or (n_components, n, n)
        Condensed or square component RDMs.
    name : str, default="components"
        The argument's name, for messages.

    Returns
    -------
    scaled : ndarray of shape (n_components, n_pairs)
        ``components * scales[:, None]`` (exact: powers of two), condensed.
    scales : ndarray of shape (n_components,)
        The power of two applied to each component (1 for most data).
    square : bool
        Whether ``components`` was a stack of square RDMs.
    """
    scaled, square = rdm_stack(components, name)
    original = _condensed(real_numpy(components, name, "condensed or square component RDMs"))
    scales = power_of_two_scales(host_max(original, 1))
    return scaled, scales, square


def transformed(vectors: np.ndarray, method: str) -> np.ndarray:
    """The coordinates in which ``method`` is a cosine (see the module notes).

    Parameters
    ----------
    vectors : ndarray of shape (n_rdms, n_pairs)
        Condensed RDMs, float64.
    method : str
        One of ``WEIGHT_METHODS``.

    Returns
    -------
    ndarray of shape (n_rdms, n_pairs) or (n_rdms, n_pairs + n)
        The transformed RDMs (a new array, except for "cosine").
    """
    if method == "cosine":
        return vectors
    if method == "pearson":
        return _centered(vectors)
    chunks = whitened_chunks(vectors, method == "corr_cov", vectors.shape[0])
    return np.concatenate(list(chunks), axis=1)


def _row_norms(t: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", t, t))


def pooled_target(data: np.ndarray, method: str, name: str = "rdms") -> np.ndarray:
    """The subjects' RDMs pooled for ``method``, in its coordinates (rsatoolbox's pool_rdm).

    Each transformed RDM is divided by its root mean square over the pairs
    (cosine, pearson: rsatoolbox divides by the RMS and by the standard
    deviation) or by its ``V^-1`` norm (cov methods), then they are averaged.

    Parameters
    ----------
    data : ndarray of shape (n_subjects, n_pairs)
        Condensed data RDMs.
    method : str
        One of ``WEIGHT_METHODS``.
    name : str, default="rdms"
        The argument's name, for messages.

    Returns
    -------
    ndarray of shape (n_coordinates,)
        The pooled RDM, transformed.
    """
    t = transformed(data, method)
    norms = _row_norms(t)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise ValueError(
            f"RDM {int(zero[0])} of {name} is {_DESCRIBED[method]} on the stimuli fitted, so it "
            f"cannot be pooled for the {shown(method)} comparison; expected data RDMs whose "
            "dissimilarities vary."
        )
    pooled = (t / norms[:, None]).mean(axis=0)
    if method in ("cosine", "pearson"):
        pooled *= np.sqrt(data.shape[1])  # rsatoolbox's RMS and standard deviation
    return pooled


def _check_zero_components(design: np.ndarray, method: str, name: str) -> None:
    """Raise if a transformed component is all zero (its weight means nothing)."""
    zero = np.flatnonzero(_row_norms(design) == 0.0)
    if zero.size:
        raise ValueError(
            f"Component {int(zero[0])} of {name} is {_DESCRIBED[method]} on the stimuli "
            f"fitted, so its weight under the {shown(method)} comparison is undefined; expected "
            "components whose dissimilarities vary (or pass ridge_weight > 0)."
        )


def _check_rank(diagonal: np.ndarray, shape: tuple[int, int], method: str, name: str) -> None:
    """Raise unless the pivoted R factor of the transformed components has full rank."""
    tolerance = diagonal[0] * max(shape) * np.finfo(np.float64).eps
    rank = int(np.sum(diagonal > tolerance))
    if shape[0] > shape[1] or rank < shape[0]:
        raise ValueError(
            f"The {shape[0]} components of {name} (shape {_shape_str(shape)} after the "
            f"{shown(method)} transform) are linearly dependent (rank {rank}), so their weights "
            "are not determined; expected linearly independent component RDMs (drop the "
            "redundant ones, or pass ridge_weight > 0)."
        )


def solve_weights(
    design: np.ndarray,
    target: np.ndarray,
    scales: np.ndarray,
    *,
    method: str,
    nonnegative: bool,
    ridge_weight: float,
    name: str = "components",
) -> np.ndarray:
    """Least-squares weights of ``target`` on the rows of ``design``, in their own units.

    Minimises ``||target - design' w||^2 + ridge_weight ||scales * w||^2``
    (the ridge penalty on the weights of the unscaled components), with
    ``w >= 0`` when ``nonnegative`` (scipy's NNLS).

    Parameters
    ----------
    design : ndarray of shape (n_components, n_coordinates)
        The transformed components at unit scale.
    target : ndarray of shape (n_coordinates,)
        The pooled, transformed data RDM.
    scales : ndarray of shape (n_components,)
        The factors of the components (see :func:`read_components`).
    method : str
        The method, for messages.
    nonnegative : bool
        Constrain the weights to be >= 0.
    ridge_weight : float
        The ridge penalty, >= 0.
    name : str, default="components"
        The components' argument name, for messages.

    Returns
    -------
    ndarray of shape (n_components,)
        The weights of the scaled components (times ``scales``: those of the
        components as given).
    """
    if ridge_weight == 0.0:
        _check_zero_components(design, method, name)
        matrix, vector = design.T, target
    else:
        matrix = np.vstack([design.T, np.diag(np.sqrt(ridge_weight) * scales)])
        vector = np.concatenate([target, np.zeros(design.shape[0])])
        if not np.all(np.isfinite(matrix)):
            raise ValueError(
                f"ridge_weight={ridge_weight!r} overflows float64 for components of scale "
                f"{1.0 / scales.min():.3g}; expected a smaller ridge_weight or rescaled components."
            )
    # One pivoted QR: matrix[:, order] = Q R. The loss is ||Q'vector - R w[order]||^2
    # plus a constant, a problem of n_components unknowns and equations.
    q, r, order = scipy.linalg.qr(matrix, mode="economic", pivoting=True, check_finite=False)
    if ridge_weight == 0.0:
        _check_rank(np.abs(np.diagonal(r)), design.shape, method, name)
    projected = q.T @ vector
    weights = np.empty(design.shape[0])
    if nonnegative:
        weights[order] = scipy.optimize.nnls(r, projected)[0]
    else:
        weights[order] = scipy.linalg.solve_triangular(r, projected, check_finite=False)
    return weights


def finished_weights(
    weights: np.ndarray, scales: np.ndarray, normalize: bool, name: str = "components"
) -> np.ndarray:
    """The weights of the components as given: unit norm, or as fitted.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
        The weights of the scaled components (:func:`solve_weights`).
    scales : ndarray of shape (n_components,)
        The factors of the components.
    normalize : bool
        Return the weights divided by their Euclidean norm (zeros stay zeros).
    name : str, default="components"
        The components' argument name, for messages.

    Returns
    -------
    ndarray of shape (n_components,)
        float64 weights.
    """
    if not np.any(weights):
        warnings.warn(
            "Every fitted weight is 0: no non-negative combination of the components "
            "correlates positively with the pooled data RDM, so the model RDM is all zero and "
            "its comparisons are undefined.",
            UserWarning,
            stacklevel=3,
        )
        return np.zeros_like(weights)
    if normalize:
        relative = weights * (scales / scales.max())  # no overflow: factors <= 1
        relative /= np.max(np.abs(relative))
        return relative / np.sqrt(relative @ relative)
    with np.errstate(over="ignore"):
        result = weights * scales
    if not np.all(np.isfinite(result)):
        raise ValueError(
            f"The weights of {name} overflow float64 (the components are of order "
            f"{1.0 / scales.max():.3g}); pass normalize=True, or rescale the components."
        )
    return result
