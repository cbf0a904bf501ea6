"""Stochastic shape metrics: distances between noisy responses (Duong et al., ICLR 2023).

Each network gives, for every stimulus class ``i``, a distribution of
responses. Both metrics align the second network to the first with one
transform ``T`` from a group (rotations ``"orth"``, permutations ``"perm"`` or
nothing ``"identity"``) shared by all classes:

- **Gaussian** (:func:`fit_gaussian_alignment`): the responses to class ``i``
  are summarised by a mean ``m_i`` and covariance ``S_i``; the squared distance
  is ``mean_i[alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)]``.
  ``alpha = 1`` is the 2-Wasserstein distance between the Gaussians, ``alpha = 2``
  compares means only, ``alpha = 0`` covariances only.
- **Energy** (:func:`fit_energy_alignment`): the energy distance between the
  empirical response distributions, ``E|x - yT| - (E|x - x'| + E|y - y'|) / 2``
  averaged over classes, with netrep's estimator (within-network expectations
  over distinct pairs of repeats).

The Gaussian fit minimises exactly the scored objective. With
``Bures^2(A, B) = tr A + tr B - 2 ||A^1/2 B^1/2||_*`` the problem is to maximise
``alpha tr(T' mY' mX) + (2 - alpha) sum_i ||sY_i T sX_i||_*`` (``s`` = matrix
square root), a convex function of ``T``: the minorise-maximise step replaces
every nuclear norm by its tangent ``tr(Q_i' sY_i T sX_i)`` (``Q_i`` the polar
factor at the current ``T``) and solves the resulting Procrustes (or
assignment) problem. That step never increases the distance. netrep runs the
same iteration but weights means and covariances ``alpha^2 : (2 - alpha)^2``,
which is the scored objective only at ``alpha`` in {0, 1, 2}. For rotations,
once a step gains less than 1e-3 of the distance (so that the fit has
settled in the basin netrep's iteration reaches), Riemannian trust-region
Newton takes over (``_orthogonal_trust_region``): minorise-maximise converges
linearly and slowly there, Newton quadratically. Switching earlier saves
evaluations but was measured to end in a different local minimum, sometimes
higher than netrep's, on a few percent of random inputs.

Everything is batched over classes (one stacked SVD per iteration instead of
one Python-level Procrustes call per class) and written against the array
API, so torch tensors compute on their device. Assignments run on the host.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import array_api_compat
import numpy as np
from scipy.optimize import linear_sum_assignment

from .._array import convert_like, get_namespace, is_foreign_array, to_numpy
from .._array import matrix_transpose as _mT
from .._validation import (
    _as_float_array_api,
    _as_float_numpy,
    _shape_str,
    check_finite,
    check_gaussian_alpha,
    check_positive_int,
    check_tolerance,
)
from ..exceptions import InvalidParameterError
from ._orthogonal_trust_region import minimise_on_orthogonal_group

__all__ = [
    "GaussianStatistics",
    "class_statistics",
    "gaussian_statistics",
    "sq_bures_distances",
    "gaussian_sq_distances",
    "GaussianAlignment",
    "fit_gaussian_alignment",
    "align_to_group",
    "energy_cross_distances",
    "energy_within_mean",
    "energy_distance",
    "EnergyAlignment",
    "fit_energy_alignment",
]

#: Alignment groups: rotations and reflections, permutations, no alignment.
GROUPS = ("orth", "perm", "identity")

# Relative gain per minorise-maximise step below which the rotation fit turns
# to trust-region Newton.
_NEWTON_SWITCH = 1e-3


def check_group(group, owner="group"):
    """Raise an InvalidParameterError unless ``group`` is one of :data:`GROUPS`."""
    if not isinstance(group, str) or group not in GROUPS:
        raise InvalidParameterError(
            f"The 'group' parameter of {owner} must be 'orth' (rotations and "
            f"reflections), 'perm' (permutations of units) or 'identity' (no "
            f"alignment); got {group!r}."
        )


def _checked_array(A, name, shape_text):
    """A finite float array with as many axes as ``shape_text`` names, or a named error."""
    if A is None or isinstance(A, (str, bytes)) or np.isscalar(A):
        raise ValueError(f"{name} is {A!r}; expected an array of shape {shape_text}.")
    A = _as_float_array_api(A, name) if is_foreign_array(A) else _as_float_numpy(A, name)
    ndim = shape_text.count(",") + 1
    if A.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {shape_text}; got a {A.ndim}-D "
            f"array of shape {_shape_str(A.shape)}."
        )
    if 0 in A.shape:
        raise ValueError(f"{name} is empty (shape {_shape_str(A.shape)}); expected {shape_text}.")
    check_finite(A, name)
    return A


def _check_square(M, name, width=None):
    M = _checked_array(M, name, "(n_features, n_features)")
    if M.shape[0] != M.shape[1] or (width is not None and M.shape[0] != width):
        expected = "a square matrix" if width is None else f"shape ({width}, {width})"
        raise ValueError(f"{name} has shape {_shape_str(M.shape)}; expected {expected}.")
    return M


def _check_same_classes_and_units(A, B, names):
    if A.shape[0] != B.shape[0] or A.shape[-1] != B.shape[-1]:
        raise ValueError(
            f"{names[0]} has shape {_shape_str(A.shape)} and {names[1]} has shape "
            f"{_shape_str(B.shape)}; expected the same number of classes (first axis) "
            "and units (last axis)."
        )


def _check_responses_pair(X, Y, names):
    shape = "(n_classes, n_repeats, n_features)"
    X = _checked_array(X, names[0], shape)
    Y = convert_like(_checked_array(Y, names[1], shape), X)
    _check_same_classes_and_units(X, Y, names)
    return X, Y


def _check_statistics_pair(stats_x, stats_y):
    for stats, name in ((stats_x, "stats_x"), (stats_y, "stats_y")):
        if not isinstance(stats, GaussianStatistics):
            raise TypeError(
                f"{name} must be a GaussianStatistics (from gaussian_statistics); got "
                f"{type(stats).__name__}."
            )
    _check_same_classes_and_units(
        stats_x.sqrt_covariances,
        stats_y.sqrt_covariances,
        ("stats_x.sqrt_covariances", "stats_y.sqrt_covariances"),
    )


def _eye_like(n, A, xp):
    return xp.eye(n, dtype=A.dtype, device=array_api_compat.device(A))


# -- Gaussian statistics ---------------------------------------------------------------
def class_statistics(responses, covariance_estimator=None):
    """Class means and covariances from repeated responses.

    Parameters
    ----------
    responses : array of shape (n_classes, n_repeats, n_features)
        Responses to ``n_repeats`` presentations of each of ``n_classes``
        stimulus classes (numpy or torch).
    covariance_estimator : estimator from ``sklearn.covariance``, default=None
        None: the unbiased sample covariance (``ddof=1``, as ``np.cov``).
        Otherwise an unfitted estimator with a ``covariance_`` attribute after
        ``fit`` (e.g. ``LedoitWolf()``, ``OAS()``, ``ShrunkCovariance(0.1)``),
        cloned and fitted on each class's repeats (on the host).

    Returns
    -------
    means : array of shape (n_classes, n_features)
        Mean response to each class.
    covariances : array of shape (n_classes, n_features, n_features)
        Covariance of the responses to each class, in the namespace, device
        and dtype of ``responses``.
    """
    responses = _checked_array(responses, "responses", "(n_classes, n_repeats, n_features)")
    xp = get_namespace(responses)
    n_repeats = responses.shape[1]
    if n_repeats < 2:
        raise ValueError(
            f"responses has {n_repeats} repeat per class (shape {tuple(responses.shape)}); "
            "expected at least 2 repeats to estimate a covariance. For deterministic "
            "responses pass a 2-D array of shape (n_classes, n_features)."
        )
    means = xp.mean(responses, axis=1)
    if covariance_estimator is None:
        centred = responses - means[:, None, :]
        covariances = _mT(centred, xp) @ centred / (n_repeats - 1)
    else:
        from sklearn.base import clone

        host = to_numpy(responses)
        covariances = np.stack(
            [clone(covariance_estimator).fit(block).covariance_ for block in host]
        )
        covariances = xp.astype(convert_like(covariances, responses), responses.dtype)
    return means, (covariances + _mT(covariances, xp)) / 2


class GaussianStatistics(NamedTuple):
    """A network's class-conditional Gaussians, prepared for alignment.

    Parameters
    ----------
    means : array of shape (n_classes, n_features)
        Class means.
    sqrt_covariances : array of shape (n_classes, n_features, n_features)
        Symmetric positive semi-definite square roots of the covariances
        (negative eigenvalues from rounding are clipped to zero).
    traces : array of shape (n_classes,)
        Traces of the covariances.
    """

    means: object
    sqrt_covariances: object
    traces: object


def gaussian_statistics(means, covariances, *, check_input=True):
    """Square roots and traces of class covariances (one eigendecomposition each).

    Parameters
    ----------
    means : array of shape (n_classes, n_features)
        Class means.
    covariances : array of shape (n_classes, n_features, n_features)
        Symmetric positive semi-definite matrices; singular ones are fine.
    check_input : bool, default=True
        Check shapes, finiteness, symmetry and positive semi-definiteness.

    Returns
    -------
    GaussianStatistics
        Means, covariance square roots and traces.
    """
    if check_input:
        means = _checked_array(means, "means", "(n_classes, n_features)")
        covariances = convert_like(
            _checked_array(covariances, "covariances", "(n_classes, n_features, n_features)"),
            means,
        )
        n_classes, n_features = means.shape
        if tuple(covariances.shape) != (n_classes, n_features, n_features):
            raise ValueError(
                f"covariances has shape {tuple(covariances.shape)} but means has shape "
                f"{tuple(means.shape)}; expected covariances of shape "
                f"({n_classes}, {n_features}, {n_features}), one per class."
            )
    xp = get_namespace(means, covariances)
    scale = float(xp.max(xp.abs(covariances))) if covariances.shape[0] else 0.0
    asymmetry = float(xp.max(xp.abs(covariances - _mT(covariances, xp)))) if scale else 0.0
    if check_input and asymmetry > 1e-8 * max(scale, 1e-300):
        raise ValueError(
            f"covariances are not symmetric (largest |S - S.T| = {asymmetry:.3g}, largest "
            f"|S| = {scale:.3g}); expected symmetric positive semi-definite matrices."
        )
    eigenvalues, eigenvectors = xp.linalg.eigh((covariances + _mT(covariances, xp)) / 2)
    if check_input and eigenvalues.shape[0]:
        lowest = float(xp.min(eigenvalues))
        tolerance = 1e-8 * max(float(xp.max(xp.abs(eigenvalues))), 1e-300)
        if lowest < -tolerance:
            index = int(xp.argmin(xp.min(eigenvalues, axis=1)))
            raise ValueError(
                f"covariances[{index}] has a negative eigenvalue ({lowest:.3g}); expected "
                "positive semi-definite matrices (a covariance estimate)."
            )
    roots = xp.sqrt(xp.clip(eigenvalues, 0.0, None))
    sqrt_covariances = (eigenvectors * roots[:, None, :]) @ _mT(eigenvectors, xp)
    traces = xp.sum(xp.clip(eigenvalues, 0.0, None), axis=1)
    return GaussianStatistics(means, (sqrt_covariances + _mT(sqrt_covariances, xp)) / 2, traces)


def sq_bures_distances(covariances_a, covariances_b):
    """Squared Bures distances between two stacks of covariance matrices.

    ``Bures^2(A, B) = tr A + tr B - 2 tr (A^1/2 B A^1/2)^1/2``, computed as
    ``min_Q |A^1/2 - B^1/2 Q|_F^2`` at the optimal rotation ``Q`` (never
    negative, and exact near zero).

    Parameters
    ----------
    covariances_a, covariances_b : arrays of shape (n_classes, n_features, n_features)
        Symmetric positive semi-definite matrices, compared pairwise.

    Returns
    -------
    array of shape (n_classes,)
        ``Bures^2(covariances_a[i], covariances_b[i])``.
    """
    shape = "(n_classes, n_features, n_features)"
    covariances_a = _checked_array(covariances_a, "covariances_a", shape)
    covariances_b = convert_like(
        _checked_array(covariances_b, "covariances_b", shape), covariances_a
    )
    if covariances_a.shape != covariances_b.shape:
        raise ValueError(
            f"covariances_a has shape {_shape_str(covariances_a.shape)} and covariances_b "
            f"{_shape_str(covariances_b.shape)}; expected stacks of the same shape."
        )
    xp = get_namespace(covariances_a)
    empty = xp.zeros(
        covariances_a.shape[:2],
        dtype=covariances_a.dtype,
        device=array_api_compat.device(covariances_a),
    )
    a = gaussian_statistics(empty, covariances_a)
    b = gaussian_statistics(empty, covariances_b)
    identity = _eye_like(covariances_a.shape[-1], covariances_a, xp)
    return gaussian_sq_distances(a, b, identity, 0.0, check_input=False) / 2


def gaussian_sq_distances(stats_x, stats_y, T, alpha, *, check_input=True):
    """Per-class terms of the squared Gaussian distance after aligning Y by ``T``.

    Parameters
    ----------
    stats_x, stats_y : GaussianStatistics
        The two networks' class statistics (same shapes).
    T : array of shape (n_features, n_features)
        Orthogonal alignment, applied to Y's responses as ``y @ T``.
    alpha : float in [0, 2]
        Weight of the means; ``2 - alpha`` weighs the covariances.
    check_input : bool, default=True
        Check the statistics, ``T`` and ``alpha``.

    Returns
    -------
    array of shape (n_classes,)
        ``alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)``; the
        squared distance is their mean.
    """
    if check_input:
        _check_statistics_pair(stats_x, stats_y)
        alpha = check_gaussian_alpha(alpha, "alpha")
        T = convert_like(_check_square(T, "T", stats_x.means.shape[1]), stats_x.means)
    xp = get_namespace(stats_x.means, T)
    residual = stats_x.means - stats_y.means @ T
    mean_terms = xp.sum(residual * residual, axis=1)
    # Bures^2 = min_Q |sX - T' sY Q|^2, evaluated as that norm at the optimal Q
    # (no cancellation between traces and nuclear norm: exact near zero).
    aligned_roots = _mT(T, xp) @ stats_y.sqrt_covariances
    U, _, Vt = xp.linalg.svd(_mT(aligned_roots, xp) @ stats_x.sqrt_covariances, full_matrices=False)
    difference = stats_x.sqrt_covariances - aligned_roots @ (U @ Vt)
    bures = xp.sum(difference * difference, axis=(1, 2))
    return alpha * mean_terms + (2 - alpha) * bures


# -- groups ----------------------------------------------------------------------------
def align_to_group(M, group, *, check_input=True):
    """The group element ``T`` maximising ``trace(T.T @ M)``.

    Parameters
    ----------
    M : array of shape (n_features, n_features)
        Cross-product, e.g. ``Y.T @ X`` to align ``Y @ T`` to ``X``.
    group : {"orth", "perm", "identity"}
        ``"orth"``: the polar factor ``U V'`` of ``M = U S V'`` (Procrustes);
        ``"perm"``: the optimal assignment (Hungarian algorithm, on the host);
        ``"identity"``: the identity matrix.
    check_input : bool, default=True
        Check ``M`` (a finite square matrix) and ``group``.

    Returns
    -------
    T : array of shape (n_features, n_features)
        A dense matrix in the namespace and on the device of ``M``.
    """
    if check_input:
        check_group(group, "align_to_group")
        M = _check_square(M, "M")
    xp = get_namespace(M)
    n = M.shape[0]
    if group == "orth":
        U, _, Vt = xp.linalg.svd(M, full_matrices=False)
        return U @ Vt
    if group == "perm":
        rows, cols = linear_sum_assignment(to_numpy(M), maximize=True)
        T = np.zeros((n, n))
        T[rows, cols] = 1.0
        return xp.astype(convert_like(T, M), M.dtype)
    return _eye_like(n, M, xp)  # "identity" (group checked by the callers)


def _random_group_element(n, group, random_state, template):
    from scipy.stats import ortho_group
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    if group == "orth":
        T = ortho_group.rvs(n, random_state=rng) if n > 1 else np.array([[rng.choice([-1.0, 1.0])]])
    elif group == "perm":
        T = np.eye(n)[rng.permutation(n)]
    else:
        T = np.eye(n)
    xp = get_namespace(template)
    return xp.astype(convert_like(np.asarray(T, dtype=np.float64), template), template.dtype)


# -- Gaussian fit ----------------------------------------------------------------------
class GaussianAlignment(NamedTuple):
    """Result of :func:`fit_gaussian_alignment`.

    Parameters
    ----------
    T : array of shape (n_features, n_features)
        Best alignment found; Y's responses are aligned as ``y @ T``.
    sq_distance : float
        The squared distance at ``T`` (mean over classes).
    loss_history : list of float
        Squared distance after each iteration of the best restart.
    n_iter : int
        Iterations of the best restart.
    converged : bool
        Whether the best restart met the tolerance before ``max_iter``.
    """

    T: object
    sq_distance: float
    loss_history: list
    n_iter: int
    converged: bool


class _GaussianPoint:
    """The Gaussian objective at one alignment, with the SVDs its Hessian reuses."""

    def __init__(self, value, gradient, U, s, Vt):
        self.value, self.gradient = value, gradient
        self.U, self.s, self.Vt = U, s, Vt  # of M_i = sY_i T sX_i = U_i S_i V_i'
        self.hessian_factors = None  # built on the first Hessian product only


class _GaussianObjective:
    """Squared Gaussian distance as a function of an orthogonal ``T``.

    d^2(T) = c - (2 / C) [alpha <sum_i mY_i' mX_i, T> + (2 - alpha) sum_i |sY_i T sX_i|_*]
    with |.|_* the nuclear norm, so one batched SVD of the ``M_i = sY_i T sX_i``
    gives the value and the gradient, and the derivative of the polar factors
    ``U_i V_i'`` (entries ``(X_jk - X_kj) / (s_j + s_k)`` of ``X = U' dM V``) gives
    Hessian-vector products from a few batched matrix products.
    """

    def __init__(self, stats_x, stats_y, alpha, xp):
        self.stats_x, self.stats_y, self.alpha, self.xp = stats_x, stats_y, alpha, xp
        self.n_classes, self.n_features = stats_x.means.shape
        self.cross_means = _mT(stats_y.means, xp) @ stats_x.means
        self.eps = float(xp.finfo(stats_x.means.dtype).eps)
        sizes = xp.sum(stats_x.means**2) + xp.sum(stats_y.means**2)
        traces = xp.sum(stats_x.traces) + xp.sum(stats_y.traces)
        self.constant = float(alpha * sizes + (2 - alpha) * traces) / self.n_classes
        #: Rounding level of the objective (it is a difference of terms this large).
        self.noise = 100 * self.eps * max(self.constant, 1e-300)

    def evaluate(self, T):
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self.stats_x.sqrt_covariances, self.stats_y.sqrt_covariances
        U, s, Vt = xp.linalg.svd(sy @ T @ sx, full_matrices=False)
        linear = float(xp.sum(self.cross_means * T))
        value = self.constant - 2 * (self.alpha * linear + (2 - self.alpha) * float(xp.sum(s))) / C
        left_columns = _side_by_side(sy @ U, xp)
        right = Vt @ sx
        # sum_i sY_i U_i V_i' sX_i as one product of side-by-side and stacked blocks.
        nuclear_gradient = left_columns @ xp.reshape(right, (C * n, n))
        gradient = -2 * (self.alpha * self.cross_means + (2 - self.alpha) * nuclear_gradient) / C
        return _GaussianPoint(max(value, 0.0), gradient, U, s, Vt)

    def _hessian_factors(self, point):
        """Blocks in the layouts the Hessian products use (minorise-maximise needs none)."""
        xp, C, n = self.xp, self.n_classes, self.n_features
        sx, sy = self.stats_x.sqrt_covariances, self.stats_y.sqrt_covariances
        s = point.s
        sums = s[:, :, None] + s[:, None, :]
        singular = sums <= n * self.eps * xp.max(s, axis=-1, keepdims=True)[:, :, None]
        safe = xp.where(singular, xp.ones_like(sums), sums)
        return {
            "left_rows": xp.reshape(_mT(point.U, xp) @ sy, (C * n, n)),  # U_i' sY_i stacked
            "left_columns": _side_by_side(sy @ point.U, xp),  # [sY_1 U_1 ... sY_C U_C]
            "right": point.Vt @ sx,  # V_i' sX_i
            "right_t": sx @ _mT(point.Vt, xp),  # sX_i V_i
            # 1 / (s_j + s_k), 0 where both singular values are numerically 0
            "inverse_sums": xp.where(singular, xp.zeros_like(sums), 1 / safe),
        }

    def descent_step(self, point, group="orth"):
        # Minorise-maximise: the nuclear norms are convex, so their linearisation
        # at the current T is a lower bound, maximised over the group.
        return align_to_group(-point.gradient, group, check_input=False)

    def hessian(self, point, V):
        xp, C, n = self.xp, self.n_classes, self.n_features
        if point.hessian_factors is None:
            point.hessian_factors = self._hessian_factors(point)
        f = point.hessian_factors
        X = xp.reshape(f["left_rows"] @ V, (C, n, n)) @ f["right_t"]  # U' sY V sX V
        omega = (X - _mT(X, xp)) * f["inverse_sums"]
        product = f["left_columns"] @ xp.reshape(omega @ f["right"], (C * n, n))
        return -2 * (2 - self.alpha) * product / C


def _side_by_side(blocks, xp):
    """(C, n, m) blocks as one (n, C * m) matrix [B_1 ... B_C]."""
    C, n, m = blocks.shape
    return xp.reshape(xp.permute_dims(blocks, (1, 0, 2)), (n, C * m))


def _minorise_maximise(objective, T, group, max_iter, tol):
    """Minorise-maximise steps until one lowers d^2 by less than ``tol`` (relative).

    The nuclear norms are convex, so their linearisation at ``T`` bounds them
    from below; maximising it over the group (a polar factor for "orth", an
    assignment for "perm") gives a step that never raises d^2. This is the
    scheme of netrep, on the scored objective.
    """
    point = objective.evaluate(T)
    history, n_iter = [point.value], 0
    while n_iter < max_iter:
        n_iter += 1
        candidate = objective.descent_step(point, group)
        trial = objective.evaluate(candidate)
        gain = point.value - trial.value
        if gain >= 0:
            T, point = candidate, trial
            history.append(point.value)
        if gain <= tol * max(point.value, objective.noise):
            return T, point, history, n_iter, True
    return T, point, history, n_iter, False


def _fit_gaussian_from(objective, T, group, max_iter, tol):
    """Fit from the start ``T``; returns (T, value, history, n_iter, converged)."""
    if group == "identity":
        value = objective.evaluate(T).value
        return T, value, [value], 0, True
    if group == "perm":
        T, point, history, n_iter, converged = _minorise_maximise(
            objective, T, group, max_iter, tol
        )
        return T, point.value, history, n_iter, converged
    # Rotations: minorise-maximise while it makes fast progress (as netrep's
    # iteration does, so both settle in the same basin), then trust-region
    # Newton, which converges quadratically where minorise-maximise crawls.
    T, point, history, n_iter, converged = _minorise_maximise(
        objective, T, group, max_iter, max(tol, _NEWTON_SWITCH)
    )
    if n_iter == max_iter or (converged and tol >= _NEWTON_SWITCH):
        return T, point.value, history, n_iter, converged
    T, value, newton_history, newton_iter, converged = minimise_on_orthogonal_group(
        objective,
        T,
        max_iter=max_iter - n_iter,
        tol=tol,
        noise=objective.noise,
        xp=objective.xp,
        start=point,
    )
    return T, value, history + newton_history[1:], n_iter + newton_iter, converged


def fit_gaussian_alignment(
    stats_x,
    stats_y,
    *,
    alpha=1.0,
    group="orth",
    init="means",
    n_restarts=1,
    max_iter=1000,
    tol=1e-10,
    random_state=None,
):
    """Fit the alignment ``T`` minimising the squared Gaussian stochastic distance.

    Parameters
    ----------
    stats_x, stats_y : GaussianStatistics
        From :func:`gaussian_statistics`, same shapes.
    alpha : float in [0, 2], default=1.0
        Weight of the means (``2 - alpha`` for the covariances).
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched over.
    init : {"means", "rand"}, default="means"
        Start from the alignment of the class means, or from a random group
        element. With ``"means"`` and ``n_restarts > 1``, the later restarts
        start at random.
    n_restarts : int, default=1
        Number of starts; the lowest distance wins.
    max_iter : int, default=1000
        Iterations per start (objective evaluations, one batched SVD each).
    tol : float, default=1e-10
        Relative tolerance on the squared distance. Minorise-maximise steps
        (netrep's scheme, on the scored objective) run while each gains more
        than ``max(tol, 1e-3)`` of it; for rotations, Riemannian trust-region
        Newton then runs until it predicts a gain below ``tol`` times the
        squared distance (taking that last step), and for permutations the
        minorise-maximise steps go on until one gains less than ``tol``.
    random_state : int, RandomState or None, default=None
        Seed of the random starts.

    Returns
    -------
    GaussianAlignment
        The best alignment, its squared distance and the loss history.

    Notes
    -----
    The objective is ``c - (2 / C) [alpha <sum_i mY_i' mX_i, T> + (2 - alpha)
    sum_i |sY_i T sX_i|_*]`` with ``|.|_*`` the nuclear norm and ``s`` the
    covariance square roots. Minorise-maximise converges linearly and slowly
    when the classes pull the alignment different ways (hundreds of
    iterations for unrelated networks); Newton's method, with Hessian-vector
    products from the same SVDs, converges quadratically, in a few tens of
    iterations. The rotation fit also takes a minorise-maximise step whenever
    that step changes the sign of the determinant, since Newton's steps stay
    among rotations or among reflections.
    """
    from sklearn.utils import check_random_state

    _check_statistics_pair(stats_x, stats_y)
    alpha = check_gaussian_alpha(alpha, "alpha")
    check_group(group, "fit_gaussian_alignment")
    if not isinstance(init, str) or init not in ("means", "rand"):
        raise InvalidParameterError(f"init must be 'means' or 'rand'; got {init!r}.")
    check_positive_int(n_restarts, "n_restarts", "fit_gaussian_alignment")
    check_positive_int(max_iter, "max_iter", "fit_gaussian_alignment")
    check_tolerance(tol, "tol", "fit_gaussian_alignment")
    xp = get_namespace(stats_x.means, stats_y.means)
    n_features = stats_x.means.shape[1]

    rng = check_random_state(random_state)
    objective = _GaussianObjective(stats_x, stats_y, alpha, xp)
    best = None
    for restart in range(n_restarts):
        if init == "means" and restart == 0:
            T0 = align_to_group(_mT(stats_y.means, xp) @ stats_x.means, group, check_input=False)
        else:
            T0 = _random_group_element(n_features, group, rng, stats_x.means)
        T, value, history, n_iter, converged = _fit_gaussian_from(
            objective, T0, group, max_iter, tol
        )
        if best is None or value < best.sq_distance:
            best = GaussianAlignment(T, value, history, n_iter, converged)
        if group == "identity":
            break
    # The reported value: one more exact evaluation at the returned T.
    terms = gaussian_sq_distances(stats_x, stats_y, best.T, alpha, check_input=False)
    value = float(xp.mean(terms))
    return best._replace(sq_distance=max(value, 0.0))


# -- energy distance -------------------------------------------------------------------
def _pairwise_norms(A, B, xp):
    """Euclidean distances between the rows of A and B, per class: (C, Ra, Rb).

    The Gram-matrix route (one batched product), after subtracting A's class
    mean from both so that the cancellation in ``|a|^2 + |b|^2 - 2 a.b`` is
    relative to the spread of the responses, not their offset.
    """
    centre = xp.mean(A, axis=1, keepdims=True)
    A, B = A - centre, B - centre
    sq = (
        xp.sum(A * A, axis=2)[:, :, None] + xp.sum(B * B, axis=2)[:, None, :] - 2 * (A @ _mT(B, xp))
    )
    return xp.sqrt(xp.clip(sq, 0.0, None))


def energy_cross_distances(X, Y, *, check_input=True):
    """Distances between every repeat of X and every repeat of Y, per class.

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats_x, n_features)
        Responses of the first network.
    Y : array of shape (n_classes, n_repeats_y, n_features)
        Responses of the second network (already aligned).
    check_input : bool, default=True
        Check shapes (same classes and units) and finiteness.

    Returns
    -------
    array of shape (n_classes, n_repeats_x, n_repeats_y)
        ``|X[i, a] - Y[i, b]|`` for every class and pair of repeats.
    """
    if check_input:
        X, Y = _check_responses_pair(X, Y, ("X", "Y"))
    return _pairwise_norms(X, Y, get_namespace(X, Y))


def energy_within_mean(X, *, check_input=True):
    """Mean distance between distinct repeats of the same class, averaged over classes.

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats, n_features)
        At least two repeats (one repeat gives 0: a point mass).
    check_input : bool, default=True
        Check the shape and finiteness of ``X``.

    Returns
    -------
    float
        ``mean_i E|x - x'|`` over distinct repeats ``x, x'`` of class ``i``.
    """
    if check_input:
        X = _checked_array(X, "X", "(n_classes, n_repeats, n_features)")
    xp = get_namespace(X)
    n_repeats = X.shape[1]
    if n_repeats < 2:
        return 0.0
    distances = _pairwise_norms(X, X, xp)
    # The diagonal is zero up to rounding; the mean over distinct pairs excludes it.
    off_diagonal = xp.sum(distances, axis=(1, 2)) - xp.sum(xp.linalg.diagonal(distances), axis=1)
    return float(xp.mean(off_diagonal / (n_repeats * (n_repeats - 1))))


def energy_distance(X, Y_aligned, *, check_input=True):
    """Energy stochastic distance (netrep's estimator) between X and aligned Y.

    ``sqrt(max(0, mean_i E|x - y| - (mean_i E|x - x'| + mean_i E|y - y'|) / 2))``,
    the within-network expectations over distinct pairs of repeats.

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats_x, n_features)
        Responses of the first network.
    Y_aligned : array of shape (n_classes, n_repeats_y, n_features)
        Responses of the second network, already aligned to the first.
    check_input : bool, default=True
        Check shapes (same classes and units) and finiteness.

    Returns
    -------
    float
        The distance (zero when the energy estimate is negative).
    """
    if check_input:
        X, Y_aligned = _check_responses_pair(X, Y_aligned, ("X", "Y_aligned"))
    xp = get_namespace(X, Y_aligned)
    cross = float(xp.mean(_pairwise_norms(X, Y_aligned, xp)))
    within = (
        energy_within_mean(X, check_input=False) + energy_within_mean(Y_aligned, check_input=False)
    ) / 2
    return math.sqrt(max(0.0, cross - within))


class EnergyAlignment(NamedTuple):
    """Result of :func:`fit_energy_alignment`.

    Parameters
    ----------
    Q : array of shape (n_features, n_features)
        The alignment; Y's responses are aligned as ``y @ Q``.
    weights : array of shape (n_classes, n_repeats_x, n_repeats_y)
        Last iteratively reweighted least-squares weights per pair of repeats.
    loss_history : list of float
        Mean distance between aligned pairs of repeats, before fitting and
        after each iteration.
    n_iter : int
        Iterations run.
    """

    Q: object
    weights: object
    loss_history: list
    n_iter: int


def fit_energy_alignment(X, Y, *, group="orth", max_iter=100, tol=1e-6, check_input=True):
    """Fit the alignment minimising the mean distance between repeats of X and Y.

    The same iteratively reweighted least squares as netrep (weights
    ``1 / max(sqrt(r), 1e-6)`` on the residual ``r`` of every pair of repeats,
    stop when the mean residual falls by less than ``tol``), but every pair is
    handled through per-class products: memory O(n_classes r^2), not
    O(n_classes r^2 n_features).

    Parameters
    ----------
    X : array of shape (n_classes, n_repeats_x, n_features)
        Responses of the first network (the reference).
    Y : array of shape (n_classes, n_repeats_y, n_features)
        Responses of the second network, aligned as ``Y @ Q``.
    group : {"orth", "perm", "identity"}, default="orth"
        Alignments searched.
    max_iter : int, default=100
        Reweighting iterations.
    tol : float, default=1e-6
        Stop when the mean residual falls by less than ``tol``.
    check_input : bool, default=True
        Check the responses and the parameters.

    Returns
    -------
    EnergyAlignment
        The alignment, the final weights and the loss history.
    """
    if check_input:
        X, Y = _check_responses_pair(X, Y, ("X", "Y"))
        check_group(group, "fit_energy_alignment")
        check_positive_int(max_iter, "max_iter", "fit_energy_alignment")
        check_tolerance(tol, "tol", "fit_energy_alignment")
    xp = get_namespace(X, Y)
    n_features = X.shape[2]
    Q = _eye_like(n_features, X, xp)
    residuals = _pairwise_norms(X, Y, xp)
    history = [float(xp.mean(residuals))]
    weights = xp.ones_like(residuals)
    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        # sum over classes and pairs (a, b) of w_ab^2 y_b' x_a
        cross = xp.sum(_mT(Y, xp) @ (_mT(weights * weights, xp) @ X), axis=0)
        Q = align_to_group(cross, group, check_input=False)
        residuals = _pairwise_norms(X, Y @ Q, xp)
        history.append(float(xp.mean(residuals)))
        weights = 1.0 / xp.clip(xp.sqrt(residuals), 1e-6, None)
        if history[-2] - history[-1] < tol:
            break
    return EnergyAlignment(Q, weights, history, n_iter)
