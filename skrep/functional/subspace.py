"""Principal subspaces of two data sets: principal angles and PCA cross-variance.

The relation between the principal subspaces of two data sets in the same
feature space (two task conditions, two time windows of one network), after
the subspace-overlap analysis of Driscoll et al. (Nature Neuroscience 2024,
Fig. 6) as written in the subspace-analysis script: cumulative variance of a
target data set Y captured by the principal components of a basis data set
X, next to Y's own curve, the participation ratios, principal angles between
the top-k subspaces, and the same analysis run within each condition label
and averaged. The estimator is :class:`skrep.metrics.SubspaceOverlap`
(:mod:`skrep.metrics.subspace`), which uses the public helpers here.

Inputs are numpy arrays or torch tensors, handled as in
:mod:`skrep.functional.dimensionality`: the linear algebra runs in the
input's namespace and on its device, summaries come back as floats and numpy
arrays, and more than two axes, such as (trials, time, units), are flattened
into samples. Data with several feature axes (the script's "modulation"
matrices, (trials, time, N, N)) must be flattened to (..., N * N) first, e.g.
``M.reshape(*M.shape[:2], -1)``.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg
from sklearn.utils import Bunch

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array, ArrayLike, Namespace
from .._validation import _shape_str, check_positive_int
from ..exceptions import InvalidParameterError
from ._autograd import principal_angles_surrogate, torch_result
from ._extreme_scales import divide_by, range_scale
from ._subspace_inputs import (
    _as_nd,
    as_common_float,
    check_n_components,
    check_same_features,
    labels_for_message,
    split_group_labels,
    take_rows,
)
from .dimensionality import (
    _as_samples_by_features,
    _centered,
    _participation_ratio_of_centered,
)

__all__ = [
    "principal_components",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
    "check_n_components",
    "check_same_features",
    "as_common_float",
    "principal_components_of_validated",
    "split_group_labels",
    "labels_for_message",
    "take_rows",
    "captured_variance_fraction",
]


def _no_variance_error(name: str, X: Array) -> ValueError:
    return ValueError(
        f"{name} has no variance: every column is constant (shape {_shape_str(X.shape)}), "
        "so its principal components are undefined; expected data that varies across "
        "samples."
    )


# -- principal subspaces ------------------------------------------------------------------
def _pca(Xc: Array, xp: Namespace) -> tuple[Array, Array]:
    """Singular values and right singular vectors (principal axes) of centered data."""
    _, singular_values, axes = xp.linalg.svd(Xc, full_matrices=False)
    return singular_values, axes


def _n_kept(n_components: int | float | None, variance_ratio: Array, limit: int, name: str) -> int:
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


def principal_components(X: ArrayLike, n_components: int | float | None = None) -> Bunch:
    """Mean, top principal axes and explained-variance ratios of ``X``.

    Exact PCA through the SVD of the centered data, in ``X``'s namespace (so
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
    return principal_components_of_validated(X, n_components, "X")


def principal_components_of_validated(
    X: Array, n_components: int | float | None, name: str
) -> Bunch:
    """Principal components of validated data (:func:`principal_components` without input checks).

    Parameters
    ----------
    X : array or torch.Tensor of shape (n_samples, n_features)
        Validated 2-D data (e.g. from ``check_representation``), uncentered.
    n_components : int, float or None
        As in :func:`principal_components`; not checked here (see
        :func:`check_n_components`), but an int above ``min(n_samples,
        n_features)`` raises.
    name : str
        The name of X, for messages.

    Returns
    -------
    Bunch
        ``mean``, ``components`` and ``explained_variance_ratio``, as in
        :func:`principal_components`.

    Raises
    ------
    ValueError
        When X has no variance or ``n_components`` is too large.
    """
    xp = get_namespace(X)
    # Exact power-of-two rescaling keeps the squares in range (data near 1e300
    # or 1e-300); the axes and ratios do not depend on it, the mean is scaled back.
    scale = range_scale(X)
    mean = xp.mean(divide_by(X, scale), axis=0)
    Xc = divide_by(X, scale) - mean
    singular_values, axes = _pca(Xc, xp)
    squares = singular_values * singular_values
    total = xp.sum(squares)
    if float(total) == 0.0:
        raise _no_variance_error(name, X)
    ratio = squares / total
    k = _n_kept(n_components, ratio, min(X.shape), name)
    return Bunch(
        mean=mean if scale == 1.0 else mean * scale,
        components=axes[:k, :],
        explained_variance_ratio=to_numpy(ratio[:k]).astype(np.float64),
    )


def captured_variance_fraction(Y: Array, components: Array, name: str = "Y") -> float:
    """Share of Y's variance (about Y's own mean) along the rows of ``components``.

    Parameters
    ----------
    Y : array of shape (n_samples, n_features)
        Validated data, in the namespace and dtype of ``components``.
    components : array of shape (n_components, n_features)
        Orthonormal axes, e.g. the principal axes of another data set.
    name : str, default="Y"
        The name of Y, for messages.

    Returns
    -------
    float
        Between 0 and 1. Y is divided by a power of two first when its squares
        would leave the float range (the fraction does not depend on its scale).

    Raises
    ------
    ValueError
        When Y has no variance.
    """
    xp = get_namespace(Y)
    Y = divide_by(Y, range_scale(Y))
    Yc = Y - xp.mean(Y, axis=0, keepdims=True)
    total = float(xp.sum(Yc * Yc))
    if total == 0.0:
        raise ValueError(
            f"{name} has no variance: every column is constant (shape "
            f"{_shape_str(Y.shape)}), so the fraction of its variance captured by X's "
            "components is undefined; expected data that varies across samples."
        )
    projected = Yc @ matrix_transpose(components, xp)
    return float(xp.sum(projected * projected)) / total


def _n_angles(n_components: int, X: Array, Y: Array) -> int:
    return min(n_components, min(X.shape) - 1, min(Y.shape) - 1)


def principal_angles(X: ArrayLike, Y: ArrayLike, n_components: int) -> np.ndarray:
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
    ndarray or torch.Tensor of shape (k,)
        Angles in radians, in ascending order (the most aligned direction
        first; scipy's :func:`~scipy.linalg.subspace_angles` returns them in
        descending order). For torch input a tensor that carries gradients
        when an input requires grad (finite at a shared axis, angle 0).

    Notes
    -----
    The principal axes come from an exact SVD of each centered data set (the
    script uses scikit-learn's randomized PCA, which approximates them); the
    angles from :func:`scipy.linalg.subspace_angles`, which stays accurate for
    small angles.
    """
    check_positive_int(n_components, "n_components", "principal_angles")
    inputs = (X, Y)
    X = _as_samples_by_features(X, "X")
    Y = _as_samples_by_features(Y, "Y")
    check_same_features(X, Y)
    k = _n_angles(n_components, X, Y)
    if k < 1:
        raise ValueError(
            f"X has shape {_shape_str(X.shape)} and Y has shape {_shape_str(Y.shape)}: "
            "principal angles need at least 2 features and 2 samples in each "
            "(the subspaces have min(n_samples, n_features) - 1 dimensions at most)."
        )
    basis_x = principal_components_of_validated(X, k, "X").components
    basis_y = principal_components_of_validated(Y, k, "Y").components
    angles = scipy.linalg.subspace_angles(to_numpy(basis_x).T, to_numpy(basis_y).T)
    angles = np.ascontiguousarray(angles[::-1], dtype=np.float64)
    return torch_result(angles, inputs, lambda: principal_angles_surrogate(*inputs, k))


# -- cross-variance ------------------------------------------------------------------------
def _check_center_on(center_on: object) -> None:
    if center_on not in ("X", "Y"):
        raise InvalidParameterError(
            f"The 'center_on' parameter of pca_cross_variance must be 'X' or 'Y'; got "
            f"{center_on!r}."
        )


def _within_rank(n_components: int | float | None, X: Array, name: str) -> int | float | None:
    """``n_components``, refused when an int asks for more than centered X determines."""
    limit = min(X.shape[0] - 1, X.shape[1])
    if isinstance(n_components, numbers.Integral) and n_components > limit:
        raise ValueError(
            f"n_components={n_components} is larger than {name} supports: {name} has "
            f"{X.shape[0]} samples and {X.shape[1]} features, so its centered data have "
            f"rank at most {limit}, and components beyond it would be arbitrary directions; "
            f"expected n_components <= {limit}."
        )
    return n_components


def _cross_variance(X: Array, Y: Array, n_components: int | float | None) -> Bunch:
    """The analysis on validated 2-D arrays of one namespace (see pca_cross_variance)."""
    xp = get_namespace(X, Y)
    # Every output is a ratio that does not depend on the scale of X or of Y:
    # exact power-of-two rescaling keeps data near 1e300 or 1e-300 in range.
    X, Y = divide_by(X, range_scale(X)), divide_by(Y, range_scale(Y))
    pca_x = principal_components_of_validated(X, _within_rank(n_components, X, "X"), "X")
    pca_y = principal_components_of_validated(Y, _within_rank(n_components, Y, "Y"), "Y")
    # Y in X's principal basis. Variances are taken about Y's own mean (as the
    # script's np.var does), so Y is centered on its own mean once, whatever
    # center_on says: centering before or after the projection is the same.
    Y_centered = _centered(Y, xp)
    Y_projected = Y_centered @ matrix_transpose(pca_x.components, xp)
    total_y = float(xp.sum(Y_centered * Y_centered))
    explained_y = to_numpy(xp.sum(Y_projected**2, axis=0)).astype(np.float64) / total_y
    return Bunch(
        evr_X=pca_x.explained_variance_ratio,
        cev_X=np.cumsum(pca_x.explained_variance_ratio),
        evr_Y_self=pca_y.explained_variance_ratio,
        cev_Y_self=np.cumsum(pca_y.explained_variance_ratio),
        evr_Y=explained_y,
        cev_Y=np.cumsum(explained_y),
        PR_X=_participation_ratio_of_centered(X - pca_x.mean, xp),
        PR_Y=_participation_ratio_of_centered(Y_centered, xp),
        PR_Y_in_Xbasis=_participation_ratio_of_centered(Y_projected, xp),
    )


def pca_cross_variance(
    X: ArrayLike,
    Y: ArrayLike,
    n_components: int | float | None = None,
    center_on: str = "X",
) -> Bunch:
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
        for ``min(n_samples, n_features)`` of each, as the script. An int
        above ``n_samples - 1``, the rank that centered data can have, is an
        error (see Notes).
    center_on : {"X", "Y"}, default="X"
        Where Y is centered before projection, as in the script. Because the
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
    Components beyond the rank of centered X (at most ``n_samples_x - 1``)
    are arbitrary unit directions orthogonal to X's data, in any
    implementation, and ``evr_Y`` along them depends on that choice (on the
    order of the samples, for one). An int ``n_components`` that asks for
    them is refused; with None, kept for parity with the script, the last
    ``evr_Y`` entry is arbitrary when ``n_samples_x <= n_features``.
    """
    check_n_components(n_components, "pca_cross_variance")
    _check_center_on(center_on)
    X = _as_samples_by_features(X, "X")
    Y = _as_samples_by_features(Y, "Y")
    check_same_features(X, Y)
    return _cross_variance(*as_common_float(X, Y), n_components)


def group_averaged_cross_variance(
    X: ArrayLike,
    Y: ArrayLike,
    groups: ArrayLike | tuple[ArrayLike, ArrayLike],
    n_components: int | None = None,
) -> Bunch:
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
    check_same_features(X, Y)
    X, Y = as_common_float(X, Y)
    xp = get_namespace(X)
    groups_x, groups_y = split_group_labels(groups, X.shape[0], Y.shape[0])
    n_features = X.shape[-1]
    curves, self_curves, used = [], [], []
    for label in np.intersect1d(groups_x, groups_y):
        X_g = take_rows(X, groups_x == label, xp)
        Y_g = take_rows(Y, groups_y == label, xp)
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
            f"{labels_for_message(np.unique(groups_x))}, labels of Y: "
            f"{labels_for_message(np.unique(groups_y))}); expected shared labels."
        )
    length = min(len(c) for c in curves)
    return Bunch(
        cev_Y_mean=np.mean([c[:length] for c in curves], axis=0),
        cev_Y_self_mean=np.mean([c[:length] for c in self_curves], axis=0),
        n_groups_used=len(used),
        n_dirs_used=len(used),
        groups_used=np.asarray(used),
    )
