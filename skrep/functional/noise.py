"""Noise covariance and precision of measurement channels, as rsatoolbox estimates them.

Mahalanobis and crossnobis RDMs (:func:`skrep.functional.compute_rdm`) weight
channels by a noise precision: the inverse covariance of the residuals (the
measurements minus their condition means, or a GLM's residuals). With more
channels than residuals the sample covariance is singular, so it is shrunk:

- ``"shrinkage_diag"`` (rsatoolbox's default): towards its own diagonal, the
  off-diagonal entries scaled by ``1 - lambda`` with Schäfer & Strimmer's
  (2005) estimate of the optimal ``lambda`` for correlations;
- ``"shrinkage_eye"``: towards a multiple of the identity, with Ledoit & Wolf's
  (2004) optimal weight (scikit-learn's :class:`sklearn.covariance.LedoitWolf`,
  rescaled to ``dof``);
- ``"diag"``: the variances only (univariate noise normalisation);
- ``"full"``: the sample covariance.

Every estimate divides by ``dof``, by default ``n_residuals - 1``; pass the
residual degrees of freedom of a GLM (for condition-mean residuals,
``n_residuals - n_conditions``). The numbers match rsatoolbox's
``cov_from_residuals`` / ``prec_from_residuals``, including its scaling of the
Schäfer–Strimmer weights by ``n_residuals - 1`` rather than ``dof``. For
rsatoolbox's ``prec_from_measurements(dataset, obs_desc)`` on balanced data
(``n_repeats`` of each of ``n_conditions``), pass the measurements minus their
condition means with ``dof=(n_conditions - 1) * n_repeats``, the degrees of
freedom rsatoolbox uses there. The sums
over residuals are two matrix products (``R'R`` and ``(R*R)'(R*R)``) instead
of rsatoolbox's loop of outer products.

For time-resolved RSA, :func:`noise_precision_stack` gives one precision per
time point (or per data set) of a (n_times, n_observations, n_channels) stack,
the shape :func:`skrep.functional.compute_rdm` takes as ``precision``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._array import to_numpy
from .._typing import ArrayLike
from .._validation import _shape_str, check_finite
from ..exceptions import InvalidParameterError, SingularCovarianceError
from ._rdm_input import power_of_two_scales, real_numpy, refuse_unsupported

__all__ = ["noise_covariance", "noise_precision", "noise_precision_stack"]


#: Covariance estimators, as rsatoolbox names them.
NOISE_METHODS = ("shrinkage_diag", "shrinkage_eye", "diag", "full")
_TINY = np.finfo(np.float64).tiny


def _checked_residuals(residuals: ArrayLike, name: str = "residuals") -> np.ndarray:
    R = real_numpy(residuals, name, "a real numeric array of shape (n_residuals, n_channels)")
    if R.ndim != 2:
        raise ValueError(
            f"{name} has shape {_shape_str(R.shape)}; expected (n_residuals, n_channels). "
            "For several data sets, pass a list of such arrays."
        )
    if R.shape[0] < 2:
        raise ValueError(
            f"{name} has {R.shape[0]} residual(s) (rows); expected at least 2 to estimate a "
            "covariance."
        )
    if R.shape[1] < 1:
        raise ValueError(
            f"{name} has 0 channels (shape {_shape_str(R.shape)}); expected at least one column."
        )
    check_finite(R, name)
    return R


def _checked_dof(dof: float | None, n_residuals: int, name: str = "dof") -> float:
    if dof is None:
        return n_residuals - 1
    if isinstance(dof, bool) or not isinstance(dof, (int, np.integer, float, np.floating)):
        raise InvalidParameterError(f"{name} must be a positive number or None; got {dof!r}.")
    if not np.isfinite(dof) or dof <= 0:
        raise InvalidParameterError(f"{name} must be a positive number or None; got {dof!r}.")
    return float(dof)


def _check_channels_vary(raw: np.ndarray, centered: np.ndarray, method: str, name: str) -> None:
    """A channel without variance has no noise to normalise: its precision is undefined.

    Compared with the channel's magnitude, since centering a constant leaves
    rounding (about 1e-17 of it), not an exact zero.
    """
    spread = np.max(np.abs(centered), axis=0)
    scale = np.max(np.abs(raw), axis=0)
    constant = spread <= 64 * np.finfo(np.float64).eps * scale
    if np.any(constant):
        channel = int(np.flatnonzero(constant)[0])
        raise ValueError(
            f"{name} has no variance in channel {channel} (all its residuals equal "
            f"{float(raw[0, channel])!r}); the {method} estimate needs every channel to vary. Drop "
            "constant channels, or use method='shrinkage_eye'."
        )


def _one_covariance(
    residuals: ArrayLike,
    method: str,
    dof: float | None,
    name: str = "residuals",
    dof_name: str = "dof",
) -> np.ndarray:
    raw = _checked_residuals(residuals, name)
    n = raw.shape[0]
    dof = _checked_dof(dof, n, dof_name)
    # Estimated at unit scale (an exact power of two), then scaled back: the
    # sums of squares of residuals at 1e+-200 would overflow or underflow.
    scale = float(power_of_two_scales(np.max(np.abs(raw)))) if raw.size else 1.0
    covariance = _unit_covariance(raw * scale, method, dof, name)
    with np.errstate(over="ignore", under="ignore"):  # found below, with a message
        result = covariance / scale / scale
    if not np.all(np.isfinite(result)) or np.any((covariance != 0) & (np.abs(result) < _TINY)):
        raise ValueError(
            f"The {method} noise covariance of {name} (largest |residual| "
            f"{np.max(np.abs(raw)):.3g}) {'overflows' if np.isinf(result).any() else 'underflows'}"
            " float64; rescale the residuals (the covariance of c * residuals is c**2 times it)."
        )
    return result


def _unit_covariance(raw: np.ndarray, method: str, dof: float, name: str) -> np.ndarray:
    n = raw.shape[0]
    R = raw - raw.mean(axis=0)
    if method != "shrinkage_eye":  # the identity target keeps a constant channel invertible
        _check_channels_vary(raw, R, method, name)
    cross = R.T @ R  # sum over residuals of the outer products r r'
    if method == "full":
        return cross / dof
    if method == "diag":
        return np.diag(np.diag(cross) / dof)
    squares = R * R
    cross_of_squares = squares.T @ squares  # sum of (r r')**2, entry by entry
    if method == "shrinkage_eye":
        # Ledoit & Wolf (2004): shrink the 1/n covariance towards m I.
        sample = cross / n
        scale = np.trace(sample) / sample.shape[0]
        target_distance = np.sum((sample - scale * np.eye(sample.shape[0])) ** 2)
        spread = min(target_distance, np.sum(cross_of_squares / n - sample**2) / n)
        weight = spread / target_distance if target_distance > 0 else 1.0
        shrunk = weight * scale * np.eye(sample.shape[0]) + (1 - weight) * sample
        return shrunk * n / dof
    # "shrinkage_diag": Schäfer & Strimmer (2005), target D = diag(S).
    sample = cross / dof
    variances = np.diag(sample)
    std = np.sqrt(variances)
    correlations = cross / np.outer(std, std) / (n - 1)
    correlation_variances = (
        n / dof**2 * (cross_of_squares / np.outer(variances, variances) / (n - 1) - correlations**2)
    )
    off_diagonal = ~np.eye(sample.shape[0], dtype=bool)
    denominator = np.sum(correlations[off_diagonal] ** 2)
    weight = np.sum(correlation_variances[off_diagonal]) / denominator if denominator > 0 else 1.0
    weight = min(max(weight, 0.0), 1.0)
    return np.where(off_diagonal, (1 - weight) * sample, sample)


def _datasets(residuals: ArrayLike | Sequence[ArrayLike]) -> bool:
    """A list (or tuple) of 2-D arrays is several data sets; anything else is one."""
    return isinstance(residuals, (list, tuple)) and any(np.ndim(r) >= 2 for r in residuals)


def noise_covariance(
    residuals: ArrayLike | Sequence[ArrayLike],
    method: str = "shrinkage_diag",
    dof: float | Sequence[float] | None = None,
) -> np.ndarray:
    """Covariance of measurement noise across channels, optionally shrunk.

    Parameters
    ----------
    residuals : array-like of shape (n_residuals, n_channels), or a list of such
        Residuals (e.g. measurements minus their condition means); a list of
        2-D arrays gives one estimate per data set.
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
        The estimator (see the module notes; rsatoolbox's names and default).
    dof : float, or list of float, default=None
        Degrees of freedom the covariance is divided by; ``n_residuals - 1``
        if None. A list gives one per data set.

    Returns
    -------
    ndarray of shape (n_channels, n_channels), or (n_datasets, n_channels, n_channels)
        The covariance (float64); a stack for a list of data sets.

    Raises
    ------
    ValueError
        For residuals that are not 2-D, have fewer than 2 rows, hold NaN or
        inf, differ in channel count between data sets, or (except with
        "shrinkage_eye") have a channel without variance, or whose
        covariance overflows or underflows float64.
    TypeError
        For None, masked, sparse, complex or non-numeric residuals.
    """
    if not isinstance(method, str) or method not in NOISE_METHODS:
        raise InvalidParameterError(f"method must be one of {NOISE_METHODS}; got {method!r}.")
    if isinstance(residuals, (list, tuple)) and not residuals:
        raise ValueError("residuals is an empty list; expected at least one data set.")
    if not _datasets(residuals):
        return _one_covariance(residuals, method, dof)
    dofs = dof if isinstance(dof, (list, tuple, np.ndarray)) else [dof] * len(residuals)
    if len(dofs) != len(residuals):
        raise ValueError(
            f"dof has {len(dofs)} entries for {len(residuals)} data sets; expected one each."
        )
    covariances = [
        _one_covariance(r, method, d, f"residuals[{i}]", f"dof[{i}]")
        for i, (r, d) in enumerate(zip(residuals, dofs, strict=True))
    ]
    widths = [c.shape[0] for c in covariances]
    if len(set(widths)) > 1:
        raise ValueError(
            f"residuals holds data sets with {widths} channels; expected the same channels in "
            "every data set (or estimate them one at a time)."
        )
    return np.stack(covariances)


def noise_precision(
    residuals: ArrayLike | Sequence[ArrayLike],
    method: str = "shrinkage_diag",
    dof: float | Sequence[float] | None = None,
) -> np.ndarray:
    """Noise precision (inverse noise covariance) for Mahalanobis and crossnobis RDMs.

    The inverse of :func:`noise_covariance`, ready for
    ``compute_rdm(..., precision=...)``; rsatoolbox's ``prec_from_residuals``.

    Parameters
    ----------
    residuals : array-like of shape (n_residuals, n_channels), or a list of such
        Residuals; a list gives one precision per data set.
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
        The covariance estimator. "full" is singular with fewer residuals
        than channels.
    dof : float, or list of float, default=None
        Degrees of freedom; ``n_residuals - 1`` if None.

    Returns
    -------
    ndarray of shape (n_channels, n_channels), or (n_datasets, n_channels, n_channels)
        The precision (float64).

    Raises
    ------
    numpy.linalg.LinAlgError
        (:class:`skrep.exceptions.SingularCovarianceError`, a ValueError
        too) If a covariance is
        numerically singular (smallest eigenvalue at most
        ``n_channels * eps`` times the largest), with the data set, method
        and channel count named.
    """
    covariance = noise_covariance(residuals, method, dof)
    stack = covariance[None] if covariance.ndim == 2 else covariance
    hint = (
        "method='shrinkage_eye' (towards the identity: never singular)"
        if method.startswith("shrinkage")
        else "a shrinkage method (shrinkage_diag or shrinkage_eye)"
    )
    precisions = np.empty_like(stack)
    for i, matrix in enumerate(stack):
        where = f"data set {i}" if covariance.ndim == 3 else "residuals"
        extremes = np.linalg.eigvalsh(matrix)[[0, -1]]
        # Numerically singular (e.g. "full" from fewer residuals than channels):
        # its inverse would be rounding noise, so there is no precision to give.
        if extremes[0] <= matrix.shape[0] * np.finfo(np.float64).eps * extremes[1]:
            raise SingularCovarianceError(
                f"The {method} noise covariance of {where} ({matrix.shape[0]} channels) is "
                f"singular (eigenvalues from {extremes[0]:.3g} to {extremes[1]:.3g}), so it has "
                f"no precision; use {hint}, or more residuals than channels."
            )
        # The inverse of the covariance at unit scale, scaled back (exactly).
        scale = float(power_of_two_scales(extremes[1]))
        # numpy's LAPACK, as for the eigenvalues: scipy's cho_solve of a 32 x 32
        # matrix took 14 ms (numpy: 25 us) on a busy 2-core machine, which adds
        # up over one precision per time point.
        unit = np.linalg.inv(matrix * scale)
        with np.errstate(over="ignore", under="ignore"):  # found below, with a message
            precisions[i] = unit * scale
        if not np.all(np.isfinite(precisions[i])) or np.any(
            (unit != 0) & (np.abs(precisions[i]) < _TINY)
        ):
            raise ValueError(
                f"The {method} noise precision of {where} is not representable in float64 "
                f"(its covariance's eigenvalues run from {extremes[0]:.3g} to "
                f"{extremes[1]:.3g}); rescale the residuals."
            )
    precisions = (precisions + np.swapaxes(precisions, -1, -2)) / 2  # exactly symmetric
    return precisions[0] if covariance.ndim == 2 else precisions


def _label_codes(labels: ArrayLike, n: int, name: str) -> np.ndarray:
    """Integer codes of one label per observation, after checking the labels."""
    refuse_unsupported(labels, name, f"one label per observation, shape ({n},)")
    values = np.asarray(to_numpy(labels) if hasattr(labels, "__dlpack__") else labels)
    if values.shape != (n,):
        raise ValueError(
            f"{name} must have one label per observation (row of each data set), shape "
            f"({n},); got shape {_shape_str(values.shape)}."
        )
    if values.dtype.kind == "f" and np.any(np.isnan(values)):
        raise ValueError(f"{name} contains NaN labels; expected a label for every observation.")
    return np.unique(values, return_inverse=True)[1].reshape(-1)


def _cell_residuals(
    stack: np.ndarray, conditions: ArrayLike, runs: ArrayLike | None
) -> tuple[np.ndarray, int]:
    """Each data set's rows minus the mean of their condition (in their run), and the cells."""
    n = stack.shape[1]
    codes = _label_codes(conditions, n, "conditions")
    if runs is not None:
        pairs = np.stack([codes, _label_codes(runs, n, "runs")], axis=1)
        codes = np.unique(pairs, axis=0, return_inverse=True)[1].reshape(-1)
    counts = np.bincount(codes)
    if n - counts.size < 1:
        cells = "condition in each run" if runs is not None else "condition"
        raise ValueError(
            f"Each {cells} has one observation ({counts.size} of them for {n} observations), so "
            "the residuals about their means are all zero; expected repeated observations of "
            f"each {cells} (or pass residuals without conditions)."
        )
    indicator = np.zeros((counts.size, n))
    indicator[codes, np.arange(n)] = 1.0 / counts[codes]
    # At unit scale (an exact power of two), so that the means cannot overflow.
    scale = float(power_of_two_scales(np.max(np.abs(stack)))) if stack.size else 1.0
    unit = stack * scale
    return (unit - (indicator @ unit)[:, codes, :]) / scale, counts.size


def noise_precision_stack(
    residuals: ArrayLike,
    method: str = "shrinkage_diag",
    dof: float | Sequence[float] | None = None,
    *,
    conditions: ArrayLike | None = None,
    runs: ArrayLike | None = None,
) -> np.ndarray:
    """One noise precision per time point (or data set) of a stack, for time-resolved RDMs.

    :func:`noise_precision` of each ``residuals[t]``; the result is the
    ``precision`` of :func:`skrep.functional.compute_rdm` for the stack
    ``X[t]`` of the same time points (one Mahalanobis or crossnobis RDM per
    time point, each with its own noise). rsatoolbox's ``prec_from_residuals``
    of a 3-D array, or, with ``conditions``, its ``prec_from_unbalanced`` of
    each time point's data set.

    For crossnobis RDMs of the same measurements, pass ``runs`` too: the
    residuals about each run's condition means are independent of those means
    (for Gaussian noise), which crossnobis compares across runs. Residuals
    about means pooled over runs hold the run-to-run differences themselves,
    and a precision estimated from them makes the crossnobis distances of the
    same data biased upward (positive on average where the conditions do not
    differ: by 0.3 of their spread in a simulation with 12 channels and 64
    trials of 8 conditions in 4 runs).

    Parameters
    ----------
    residuals : array-like of shape (n_times, n_residuals, n_channels)
        Residuals at each time point (or of each data set). With
        ``conditions``: the measurements themselves (MEG epochs with the time
        axis first: ``np.moveaxis(epochs, -1, 0)``), whose condition means
        are subtracted at each time point.
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
        The covariance estimator (see :func:`noise_covariance`).
    dof : float, or sequence of float, default=None
        Degrees of freedom, one for all time points or one each. None:
        ``n_residuals - 1``, or ``n_residuals - n_means`` with
        ``conditions`` (the number of condition means subtracted: one per
        condition, or per condition and run).
    conditions : array-like of shape (n_residuals,), default=None
        Condition label of each row: its condition's mean is subtracted.
    runs : array-like of shape (n_residuals,), default=None
        Run of each row (with ``conditions`` only): the mean of its condition
        in its run is subtracted, which needs repeats within runs.

    Returns
    -------
    ndarray of shape (n_times, n_channels, n_channels)
        The precisions (float64).

    Raises
    ------
    ValueError
        For residuals that are not 3-D, labels of the wrong length, means of
        single observations, and whatever :func:`noise_precision` raises for
        a time point (``residuals[t]`` named in the message).

    Examples
    --------
    >>> import numpy as np
    >>> epochs = np.random.default_rng(0).standard_normal((48, 5, 3))  # trials, sensors, times
    >>> X = np.moveaxis(epochs, -1, 0)  # (3, 48, 5): the time axis first
    >>> objects, runs = np.arange(48) % 4, np.arange(48) // 16  # 4 trials of each in each run
    >>> noise_precision_stack(X, conditions=objects, runs=runs).shape
    (3, 5, 5)
    """
    stack = real_numpy(
        residuals, "residuals", "a real numeric array of shape (n_times, n_residuals, n_channels)"
    )
    if stack.ndim != 3 or stack.shape[0] < 1:
        raise ValueError(
            f"residuals has shape {_shape_str(stack.shape)}; expected (n_times, n_residuals, "
            "n_channels), one set of residuals per time point (for one set, use noise_precision)."
        )
    if runs is not None and conditions is None:
        raise ValueError(
            "runs is used with conditions only (the means of each condition in each run are "
            "subtracted); pass conditions too, or leave runs=None."
        )
    if conditions is not None:
        check_finite(stack, "residuals")
        stack, n_means = _cell_residuals(stack, conditions, runs)
        if dof is None:
            dof = stack.shape[1] - n_means
    if isinstance(dof, np.ndarray):
        dof = dof.tolist()
    return noise_precision(list(stack), method, dof)
