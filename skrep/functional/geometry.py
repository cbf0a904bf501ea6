"""Representation geometry: dimensionality, principal angles and PCA cross-variance.

These are summaries of one representation (how many dimensions its variance
spreads over) or of the relation between the principal subspaces of two data
sets in the same feature space (two task conditions, two time windows of one
network). They follow three reference documents:

- the participation ratio (Gao et al. 2017), which DeepJuice calls effective
  dimensionality (Elmoznino and Bonner 2022): ``(sum l)^2 / sum l^2`` over the
  eigenvalues ``l`` of the covariance;
- the effective rank (Roy and Vetterli 2007): ``exp`` of the entropy of the
  normalised singular values;
- the subspace-overlap analysis of Driscoll et al. (Nature Neuroscience 2024,
  Fig. 6) as written in the subspace-analysis script: cumulative variance of a
  target data set Y captured by the principal components of a basis data set
  X, next to Y's own curve, the participation ratios, principal angles between
  the top-k subspaces, and the same analysis run within each condition label
  and averaged.

Inputs are numpy arrays or torch tensors (any array-API array); the heavy
linear algebra (centring, SVD, Gram products) runs in the input's namespace
and on its device, and the small summaries come back as Python floats and
numpy arrays. Arrays with more than two axes, such as (trials, time, units),
are read as samples by features: every axis but the last is flattened into
samples, as the script does for its "hidden" data. Data with several feature
axes (the script's "modulation" matrices, (trials, time, N, N)) must be
flattened to (..., N * N) first, e.g. ``M.reshape(*M.shape[:2], -1)``.
"""

from __future__ import annotations

import math
import numbers

import array_api_compat
import numpy as np
import scipy.linalg
from sklearn.utils import Bunch

from .._array import (
    convert_like,
    floating_dtype,
    get_namespace,
    is_foreign_array,
    matrix_transpose,
    to_numpy,
)
from .._validation import _shape_str, check_positive_int, check_representation
from ..exceptions import InvalidParameterError

__all__ = [
    "participation_ratio",
    "effective_dimensionality",
    "effective_rank",
    "principal_components",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
]


# -- input handling ---------------------------------------------------------------------
def _as_samples_by_features(X, name, *, min_samples=2):
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


def _common_float(X, Y):
    """X and Y in X's namespace and on its device, in one floating dtype."""
    Y = convert_like(Y, X)
    xp = get_namespace(X)
    dtype = floating_dtype(xp, X, Y)
    return xp.astype(X, dtype, copy=False), xp.astype(Y, dtype, copy=False)


def _check_same_features(X, Y, names=("X", "Y")):
    """Raise unless the last axes (the features) of X and Y have the same length."""
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"{names[0]} has {X.shape[-1]} features but {names[1]} has {Y.shape[-1]}; "
            "expected two data sets in the same feature space (the same units, in the "
            "same order): the principal subspaces of one are compared with the other."
        )


def check_n_components(n_components, owner):
    """Raise unless ``n_components`` is None, an int >= 1 or a float in (0, 1).

    Parameters
    ----------
    n_components : object
        The value to check.
    owner : str
        The function or estimator that received it, for the message.
    """
    if n_components is None:
        return
    if isinstance(n_components, (bool, np.bool_)):
        pass
    elif isinstance(n_components, numbers.Integral) and n_components >= 1:
        return
    elif (
        isinstance(n_components, numbers.Real)
        and not isinstance(n_components, numbers.Integral)
        and math.isfinite(n_components)
        and 0.0 < n_components < 1.0
    ):
        return
    raise InvalidParameterError(
        f"The 'n_components' parameter of {owner} must be None, an int >= 1 or a float "
        f"in (0, 1) (the fraction of variance to keep); got {n_components!r}."
    )


def _centred(X, xp):
    return X - xp.mean(X, axis=0, keepdims=True)


def _no_variance_error(name, X):
    return ValueError(
        f"{name} has no variance: every column is constant (shape {_shape_str(X.shape)}), "
        "so its principal components are undefined; expected data that varies across "
        "samples."
    )


# -- dimensionality -----------------------------------------------------------------------
def _participation_ratio_of_centred(Xc, xp):
    """(sum l)^2 / sum l^2 from centred data, through the smaller Gram matrix.

    The covariance X'X/n and the kernel XX'/n share their nonzero eigenvalues,
    and sum l = trace and sum l^2 = squared Frobenius norm of either, so no
    eigendecomposition is needed; the smaller product is the cheaper one (n
    samples x 40 000 features costs an n x n product, not 40 000 x 40 000).
    """
    n, p = Xc.shape
    if Xc.dtype == xp.float32:
        # The ratio does not depend on scale; dividing by the largest entry first
        # keeps float32 products from overflowing (data around 1e9) or underflowing.
        largest = float(xp.max(xp.abs(Xc)))
        if largest == 0.0:
            return 0.0
        Xc = Xc / largest
    gram = matrix_transpose(Xc, xp) @ Xc if p <= n else Xc @ matrix_transpose(Xc, xp)
    total = float(xp.linalg.trace(gram))
    squared = float(xp.sum(gram * gram))
    if total == 0.0 or squared == 0.0:
        return 0.0
    return total * total / squared


def _participation_ratio_of_covariance(C, name):
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


def participation_ratio(X, *, covariance=False):
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
    float
        The participation ratio, between 1 and ``min(n_samples - 1, n_features)``;
        0.0 for data with no variance (or an all-zero covariance), as in the
        subspace-analysis script.

    See Also
    --------
    effective_dimensionality : The same quantity under DeepJuice's name.
    effective_rank : Entropy-based count of dimensions from the singular values.

    Notes
    -----
    From data, the columns are centred and the value is computed from the
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
    if covariance:
        C = check_representation(X, "X", min_samples=1)
        return _participation_ratio_of_covariance(C, "X")
    X = _as_samples_by_features(X, "X")
    xp = get_namespace(X)
    return _participation_ratio_of_centred(_centred(X, xp), xp)


def effective_dimensionality(X, *, covariance=False):
    """Effective dimensionality of a representation: its participation ratio.

    This is the name used by DeepJuice and Elmoznino and Bonner (2022) for
    ``(sum l)^2 / sum l^2`` over the covariance eigenvalues; see
    :func:`participation_ratio`, which it calls.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features) or (n_features, n_features)
        Data, one row per sample, or a covariance matrix with ``covariance=True``.
    covariance : bool, default=False
        Whether ``X`` is a covariance matrix rather than data.

    Returns
    -------
    float
        The effective dimensionality (0.0 for data with no variance).
    """
    return participation_ratio(X, covariance=covariance)


def effective_rank(X, *, center=False):
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
        effective rank of the matrix itself, hence the default; centre to
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
        X = _centred(X, xp)
    singular_values = to_numpy(xp.linalg.svdvals(X)).astype(np.float64)
    total = singular_values.sum()
    if total == 0.0:
        return 0.0
    p = singular_values[singular_values > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


# -- principal subspaces ------------------------------------------------------------------
def _pca(Xc, xp):
    """Singular values and right singular vectors (principal axes) of centred data."""
    _, singular_values, axes = xp.linalg.svd(Xc, full_matrices=False)
    return singular_values, axes


def _n_kept(n_components, variance_ratio, limit, name):
    """How many components to keep: an int (checked against ``limit``) or a variance fraction."""
    if n_components is None:
        return limit
    if isinstance(n_components, numbers.Integral):
        if n_components > limit:
            raise ValueError(
                f"n_components={n_components} is larger than {name} supports: at most "
                f"{limit} principal components (min(n_samples, n_features) of {name}); "
                "expected a smaller n_components."
            )
        return int(n_components)
    cumulative = np.cumsum(to_numpy(variance_ratio))
    return int(min(np.searchsorted(cumulative, n_components, side="right") + 1, limit))


def principal_components(X, n_components=None):
    """Mean, top principal axes and explained-variance ratios of ``X``.

    Exact PCA through the SVD of the centred data, in ``X``'s namespace (so
    on a GPU for CUDA tensors), with scikit-learn's conventions.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        Data, one row per sample (more axes are flattened into samples).
    n_components : int, float or None, default=None
        Components to keep: an int, a float in (0, 1) for the fewest
        components whose cumulative explained variance exceeds it (as in
        :class:`sklearn.decomposition.PCA`), or None for
        ``min(n_samples, n_features)``.

    Returns
    -------
    Bunch
        ``mean`` (n_features,), ``components`` (n_components, n_features),
        rows are orthonormal principal axes (arrays in ``X``'s namespace), and
        ``explained_variance_ratio`` (n_components,) as a numpy array: each
        component's share of the total variance.
    """
    check_n_components(n_components, "principal_components")
    X = _as_samples_by_features(X, "X")
    return _principal_components(X, n_components, "X")


def _principal_components(X, n_components, name):
    xp = get_namespace(X)
    mean = xp.mean(X, axis=0)
    Xc = X - mean
    singular_values, axes = _pca(Xc, xp)
    squares = singular_values * singular_values
    total = xp.sum(squares)
    if float(total) == 0.0:
        raise _no_variance_error(name, X)
    ratio = squares / total
    k = _n_kept(n_components, ratio, min(X.shape), name)
    return Bunch(
        mean=mean,
        components=axes[:k, :],
        explained_variance_ratio=to_numpy(ratio[:k]).astype(np.float64),
    )


def _n_angles(n_components, X, Y):
    return min(n_components, min(X.shape) - 1, min(Y.shape) - 1)


def principal_angles(X, Y, n_components):
    """Principal angles between the top principal subspaces of X and of Y.

    Asks how aligned the ``n_components`` dominant directions of X are with
    those of Y: 0 means a shared axis, pi/2 an orthogonal one. It complements
    :func:`pca_cross_variance`, which weighs directions by Y's variance.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples_x, n_features)
        First data set (more axes are flattened into samples).
    Y : array-like or torch.Tensor of shape (n_samples_y, n_features)
        Second data set, in the same feature space; the rows need not be
        paired with those of X.
    n_components : int
        Dimension ``k`` of each principal subspace. As in the script, it is
        reduced to ``min(n_samples - 1, n_features - 1)`` of either data set
        when larger.

    Returns
    -------
    ndarray of shape (k,)
        Angles in radians, in ascending order (the most aligned direction
        first; scipy's :func:`~scipy.linalg.subspace_angles` returns them in
        descending order).

    Notes
    -----
    The principal axes come from an exact SVD of each centred data set (the
    script uses scikit-learn's randomized PCA, which approximates them); the
    angles from :func:`scipy.linalg.subspace_angles`, which stays accurate for
    small angles.
    """
    check_positive_int(n_components, "n_components", "principal_angles")
    X = _as_samples_by_features(X, "X")
    Y = _as_samples_by_features(Y, "Y")
    _check_same_features(X, Y)
    k = _n_angles(n_components, X, Y)
    if k < 1:
        raise ValueError(
            f"X has shape {_shape_str(X.shape)} and Y has shape {_shape_str(Y.shape)}: "
            "principal angles need at least 2 features and 2 samples in each "
            "(the subspaces have min(n_samples, n_features) - 1 dimensions at most)."
        )
    basis_x = _principal_components(X, k, "X").components
    basis_y = _principal_components(Y, k, "Y").components
    angles = scipy.linalg.subspace_angles(to_numpy(basis_x).T, to_numpy(basis_y).T)
    return np.ascontiguousarray(angles[::-1], dtype=np.float64)


# -- cross-variance ------------------------------------------------------------------------
def _check_center_on(center_on):
    if center_on not in ("X", "Y"):
        raise InvalidParameterError(
            f"The 'center_on' parameter of pca_cross_variance must be 'X' or 'Y'; got "
            f"{center_on!r}."
        )


def _cross_variance(X, Y, n_components):
    """The analysis on validated 2-D arrays of one namespace (see pca_cross_variance)."""
    xp = get_namespace(X, Y)
    pca_x = _principal_components(X, n_components, "X")
    pca_y = _principal_components(Y, n_components, "Y")
    # Y in X's principal basis. Variances are taken about Y's own mean (as the
    # script's np.var does), so Y is centred on its own mean once, whatever
    # center_on says: centring before or after the projection is the same.
    Y_centred = _centred(Y, xp)
    Y_projected = Y_centred @ matrix_transpose(pca_x.components, xp)
    total_y = float(xp.sum(Y_centred * Y_centred))
    explained_y = to_numpy(xp.sum(Y_projected**2, axis=0)).astype(np.float64) / total_y
    return Bunch(
        evr_X=pca_x.explained_variance_ratio,
        cev_X=np.cumsum(pca_x.explained_variance_ratio),
        evr_Y_self=pca_y.explained_variance_ratio,
        cev_Y_self=np.cumsum(pca_y.explained_variance_ratio),
        evr_Y=explained_y,
        cev_Y=np.cumsum(explained_y),
        PR_X=_participation_ratio_of_centred(X - pca_x.mean, xp),
        PR_Y=_participation_ratio_of_centred(Y_centred, xp),
        PR_Y_in_Xbasis=_participation_ratio_of_centred(Y_projected, xp),
    )


def pca_cross_variance(X, Y, n_components=None, center_on="X"):
    """How much of Y's variance lies in X's principal subspace (Driscoll et al. 2024).

    X is the basis data set (e.g. a pretraining task) whose principal
    components define the reference subspace; Y is the target (e.g. a new
    task) whose variance is measured in that basis and in its own. This is
    the subspace-overlap analysis of the subspace-analysis script
    (``pca_cross_variance``), computed with an exact PCA.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples_x, n_features)
        Basis data, one row per sample; arrays with more axes, such as
        (trials, time, units), are flattened into samples.
    Y : array-like or torch.Tensor of shape (n_samples_y, n_features)
        Target data in the same feature space; rows need not be paired with X.
    n_components : int, float or None, default=None
        Principal components of each data set: an int, a float in (0, 1) (the
        fewest components explaining that fraction of the variance), or None
        for ``min(n_samples, n_features)`` of each.
    center_on : {"X", "Y"}, default="X"
        Where Y is centred before projection, as in the script. Because the
        variances are taken about Y's own mean (the script's ``np.var``), both
        choices give the same values; the argument is kept for compatibility.

    Returns
    -------
    Bunch
        With the script's keys, numpy arrays and floats:

        - ``evr_X``, ``cev_X``: X's explained-variance ratios in its own
          principal components and their cumulative sum;
        - ``evr_Y_self``, ``cev_Y_self``: the same for Y in its own components
          (Driscoll's black curve, reaching 1);
        - ``evr_Y``, ``cev_Y``: the fraction of Y's total variance along each
          of X's components and the cumulative curve (Driscoll's purple curve):
          high when the two share their geometry, low when orthogonal;
        - ``PR_X``, ``PR_Y``: participation ratios (:func:`participation_ratio`);
        - ``PR_Y_in_Xbasis``: participation ratio of Y projected on X's
          components, lower than ``PR_Y`` when the shared subspace is narrower
          than Y's own representation.

    Raises
    ------
    ValueError
        Mismatched feature counts, fewer than 2 samples, NaN or inf, X or Y
        without variance (their principal components are undefined), or an
        ``n_components`` larger than ``min(n_samples, n_features)``.

    See Also
    --------
    group_averaged_cross_variance : The same analysis within each condition, averaged.

    Notes
    -----
    Components beyond the rank of centred X (at most ``n_samples_x - 1``) are
    arbitrary unit directions orthogonal to X's data, in any implementation;
    ``cev_Y`` after them depends on that choice.
    """
    check_n_components(n_components, "pca_cross_variance")
    _check_center_on(center_on)
    X = _as_samples_by_features(X, "X")
    Y = _as_samples_by_features(Y, "Y")
    _check_same_features(X, Y)
    return _cross_variance(*_common_float(X, Y), n_components)


def _label_array(groups, n_rows, name, data_name):
    labels = to_numpy(groups) if is_foreign_array(groups) else np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(
            f"{name} must be a 1-D array with one label per entry of {data_name}'s first "
            f"axis ({n_rows} entries); got shape {_shape_str(labels.shape)}."
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(
            f"{name} contains {int(np.isnan(labels).sum())} NaN label(s); expected a "
            f"condition label for every entry of {data_name}'s first axis."
        )
    try:
        np.unique(labels)
    except TypeError as exc:
        raise ValueError(
            f"{name} mixes labels that cannot be sorted together ({exc}); expected labels "
            "of one kind, e.g. all integers or all strings."
        ) from exc
    return labels


def _label_text(labels):
    """Labels as plain Python values for messages (no ``np.int64(0)``)."""
    return np.asarray(labels)[:10].tolist()


def _split_groups(groups, n_x, n_y):
    """``groups`` is one label array shared by X and Y, or a pair (groups_x, groups_y)."""
    if groups is None:
        raise ValueError(
            "groups is None; expected condition labels: one array for the first axis of "
            "both X and Y, or a pair (groups_x, groups_y)."
        )
    if (
        isinstance(groups, tuple)
        and len(groups) == 2
        and all(np.ndim(part) == 1 for part in groups)
    ):
        return (
            _label_array(groups[0], n_x, "groups[0] (the labels of X)", "X"),
            _label_array(groups[1], n_y, "groups[1] (the labels of Y)", "Y"),
        )
    if n_x != n_y:
        raise ValueError(
            f"groups is one label array, but X has {n_x} entries along its first axis and "
            f"Y has {n_y}; pass a pair (groups_x, groups_y) with one label array each."
        )
    labels = _label_array(groups, n_x, "groups", "X")
    return labels, labels


def _as_nd(X, name):
    """Validate an array of 2 or more axes whose last axis holds the features."""
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if getattr(X, "ndim", 0) < 2:
        shape = _shape_str(np.shape(X))
        raise ValueError(
            f"{name} must have at least 2 axes, e.g. (n_samples, n_features) or "
            f"(n_trials, n_timepoints, n_features); got shape {shape}."
        )
    # Validate a flattened view: type, dtype and finiteness are those of X.
    flat = check_representation(X.reshape(-1, X.shape[-1]), name, min_samples=1)
    return flat.reshape(tuple(X.shape))


def group_averaged_cross_variance(X, Y, groups, n_components=None):
    """PCA cross-variance within each condition, averaged over conditions.

    The stratified ("direction-averaged") variant of the subspace-analysis
    script: pooling all conditions before PCA can hide a geometry that the two
    data sets share within each condition (e.g. a ring of states rotated with
    the stimulus direction). This runs :func:`pca_cross_variance` on the
    samples of each label present in both X and Y, then averages the curves.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_x, ..., n_features)
        Basis data. ``groups`` labels its first axis: with (trials, time,
        units) arrays, every time point of a trial belongs to the trial's
        condition, as in the script.
    Y : array-like or torch.Tensor of shape (n_y, ..., n_features)
        Target data in the same feature space.
    groups : array-like of shape (n_x,), or a pair (groups_x, groups_y)
        Condition label of each entry of X's (and Y's) first axis: one array
        when X and Y share their labels, or a tuple of two arrays.
    n_components : int or None, default=None
        Components per condition. Within each condition it is reduced to
        ``min(n_components, n_x_g - 1, n_y_g - 1, n_features)`` (rows of that
        condition), as the script does; conditions with a single row on either
        side are skipped.

    Returns
    -------
    Bunch
        ``cev_Y_mean`` and ``cev_Y_self_mean``: the condition-averaged
        cumulative curves (Y in X's basis, and Y in its own), truncated to the
        shortest condition's length; ``n_groups_used`` (also under the script's
        name ``n_dirs_used``) and ``groups_used``, the labels averaged over.

    Raises
    ------
    ValueError
        When no label has at least 2 rows in both X and Y, or a condition has
        no variance, besides the checks of :func:`pca_cross_variance`.
    """
    if n_components is not None:
        check_positive_int(n_components, "n_components", "group_averaged_cross_variance")
    X = _as_nd(X, "X")
    Y = _as_nd(Y, "Y")
    _check_same_features(X, Y)
    X, Y = _common_float(X, Y)
    xp = get_namespace(X)
    groups_x, groups_y = _split_groups(groups, X.shape[0], Y.shape[0])
    n_features = X.shape[-1]
    curves, self_curves, used = [], [], []
    for label in np.intersect1d(groups_x, groups_y):
        X_g = _rows(X, groups_x == label, xp)
        Y_g = _rows(Y, groups_y == label, xp)
        k = min(n_components or n_features, X_g.shape[0] - 1, Y_g.shape[0] - 1, n_features)
        if k < 1:
            continue
        try:
            result = _cross_variance(X_g, Y_g, k)
        except ValueError as exc:
            raise ValueError(f"In the condition labelled {label.item()!r}: {exc}") from exc
        curves.append(result.cev_Y)
        self_curves.append(result.cev_Y_self)
        used.append(label)
    if not curves:
        raise ValueError(
            "No condition label has at least 2 rows in both X and Y (labels of X: "
            f"{_label_text(np.unique(groups_x))}, labels of Y: "
            f"{_label_text(np.unique(groups_y))}); expected shared labels."
        )
    length = min(len(c) for c in curves)
    return Bunch(
        cev_Y_mean=np.mean([c[:length] for c in curves], axis=0),
        cev_Y_self_mean=np.mean([c[:length] for c in self_curves], axis=0),
        n_groups_used=len(used),
        n_dirs_used=len(used),
        groups_used=np.asarray(used),
    )


def _rows(A, mask, xp):
    """Rows of ``A`` where ``mask`` (numpy) holds, flattened to (n_rows, n_features)."""
    indices = xp.asarray(np.flatnonzero(mask), device=array_api_compat.device(A))
    taken = xp.take(A, indices, axis=0)
    return xp.reshape(taken, (-1, A.shape[-1]))
