"""Inference for RSA: the noise ceiling, bootstrap intervals and permutation tests.

The noise ceiling (Nili et al. 2014) bounds how well any model RDM can match
a group of data RDMs (one per subject) under a comparison method:

- upper bound: the mean over subjects of the comparison of the pooled RDM
  of *all* subjects with each subject's RDM;
- lower bound: the same with the pooled RDM of the *other* subjects.

Pooling follows the comparison, as in rsatoolbox's ``pool_rdm``: mean of
RMS-normalised RDMs for cosine, of z-scored RDMs for Pearson, of ranks for the
rank-based methods.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.stats

from .._typing import ArrayLike, RandomState
from .._validation import _shape_str, check_positive_int
from .rdm import condensed_to_square
from .rdm_compare import (
    DOT_FORM_METHODS,
    UndefinedComparisonError,
    _as_vectors,
    _centered,
    _compare_vectors,
    _dot_form,
    check_comparison,
    rdm_stack,
)

__all__ = ["pool_rdms", "noise_ceiling", "bootstrap_comparisons", "permutation_test"]

_NAMES = ("model_rdms", "data_rdms")  # the arguments, in messages about undefined comparisons


def pool_rdms(rdms: ArrayLike, method: str = "spearman") -> np.ndarray:
    """Average RDMs the way a comparison method sees them.

    Parameters
    ----------
    rdms : array-like of shape (n_rdms, n_pairs) or (n_rdms, n, n)
        Condensed RDMs, or a stack of square ones (at least one RDM).
    method : str, default="spearman"
        The comparison method (see :func:`compare_rdms`).

    Returns
    -------
    ndarray of shape (n_pairs,) or (n, n)
        The pooled RDM, square when the RDMs were.
    """
    method = check_comparison(method, "pool_rdms")
    vectors, square = rdm_stack(rdms, "rdms")
    if method in ("cosine", "cosine_cov", "pearson", "corr_cov"):
        # Cosine: RMS-normalised; correlation: z-scored.
        if method in ("pearson", "corr_cov"):
            vectors = _centered(vectors)
        spread = np.sqrt(np.mean(vectors**2, axis=1, keepdims=True))
        flat = np.flatnonzero(spread == 0.0)
        if flat.size:
            raise ValueError(
                f"RDM {int(flat[0])} of rdms has no variation (all its dissimilarities are "
                f"equal{', or zero' if 'cosine' in method else ''}), so it cannot be pooled for "
                f"the {method} comparison; expected RDMs whose dissimilarities vary."
            )
        vectors = vectors / spread
    else:  # rank-based: spearman, rho-a, tau-a, tau-b
        vectors = scipy.stats.rankdata(vectors, axis=1)
    pooled = vectors.mean(axis=0)
    return condensed_to_square(pooled) if square else pooled


def noise_ceiling(rdms: ArrayLike, method: str = "spearman") -> tuple[float, float]:
    """Lower and upper bounds of the noise ceiling of a group of data RDMs.

    Parameters
    ----------
    rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
        One data RDM per subject (at least 2), condensed or square.
    method : str, default="spearman"
        The comparison method the models will be evaluated with.

    Returns
    -------
    lower : float
        Mean comparison of each subject's RDM with the pooled RDM of the
        others (leave one subject out).
    upper : float
        Mean comparison of each subject's RDM with the pooled RDM of all.
    """
    method = check_comparison(method, "noise_ceiling")
    vectors = _as_vectors(rdms, "rdms")
    n = vectors.shape[0]
    if n < 2:
        raise ValueError(
            f"The noise ceiling needs at least 2 data RDMs (one per subject); rdms has shape "
            f"{_shape_str(vectors.shape)}."
        )
    pooled = pool_rdms(vectors, method)
    # The subjects first, so that a constant subject RDM is the one named.
    names = ("rdms", "the pooled RDM of rdms")
    upper = float(np.mean(_compare_vectors(vectors, pooled[None], method, names)))
    lower = float(
        np.mean(
            [
                _compare_vectors(
                    vectors[k : k + 1],
                    pool_rdms(np.delete(vectors, k, axis=0), method)[None],
                    method,
                    (f"rdms (RDM {k})", f"the pooled RDM of the other rdms than {k}"),
                )[0, 0]
                for k in range(n)
            ]
        )
    )
    return lower, upper


def _square_stack(rdms: ArrayLike, name: str) -> np.ndarray:
    """(k, n, n) float64 square RDMs (each at unit scale) from condensed or square ones.

    A 2-D array is always a stack of condensed RDMs; pass square RDMs as a
    3-D stack (``rdm[None]`` for one), so that the two never get confused.
    """
    return condensed_to_square(rdm_stack(rdms, name)[0])


def _models_and_data(
    model_rdms: ArrayLike, data_rdms: ArrayLike, method: str, owner: str
) -> tuple[str, np.ndarray, np.ndarray]:
    """Checked method and square model and data RDMs over the same stimuli."""
    method = check_comparison(method, owner)
    models = _square_stack(model_rdms, "model_rdms")
    data = _square_stack(data_rdms, "data_rdms")
    if models.shape[1] != data.shape[1]:
        raise ValueError(
            f"model_rdms are over {models.shape[1]} stimuli but data_rdms over "
            f"{data.shape[1]}; expected RDMs over the same stimuli."
        )
    return method, models, data


def _subsampled_vectors(square: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Condensed RDMs over the stimuli ``index`` (repeats allowed; self-pairs dropped)."""
    first, second = np.triu_indices(index.size, 1)
    keep = index[first] != index[second]
    return square[:, index[first][keep], index[second][keep]]


def bootstrap_comparisons(
    model_rdms: ArrayLike,
    data_rdms: ArrayLike,
    method: str = "spearman",
    *,
    n_bootstrap: int = 1000,
    random_state: RandomState = None,
) -> np.ndarray:
    """Bootstrap distribution, over stimuli, of each model's mean comparison with the data.

    Stimuli are resampled with replacement; each resample's RDMs keep the
    pairs of distinct stimuli (pairs of a stimulus with its own copy are
    dropped, as in rsatoolbox, which also leaves out resamples of fewer than
    3 distinct stimuli: NaN here). The statistic is the mean over data RDMs
    (subjects) of the comparison with each model.

    Parameters
    ----------
    model_rdms : array-like of shape (n_models, n_pairs) or (n_models, n, n)
        Model RDMs, condensed or square (a 2-D array is a stack of condensed
        RDMs).
    data_rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
        Data RDMs over the same stimuli.
    method : str, default="spearman"
        Comparison method (see :func:`compare_rdms`).
    n_bootstrap : int, default=1000
        Number of resamples.
    random_state : int, numpy Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    ndarray of shape (n_bootstrap, n_models)
        The mean comparison of each model in each resample; percentiles of
        it give confidence intervals, e.g.
        ``np.percentile(samples, [2.5, 97.5], axis=0)``. Where a resample
        leaves a model's RDM (or a data RDM) without variation, that model's
        comparison is undefined: its entry alone is NaN, and a
        RuntimeWarning counts these resamples per model (use
        ``np.nanpercentile``).

    Raises
    ------
    ValueError
        If a model's comparison is undefined in more than half of the
        resamples.
    """
    check_positive_int(n_bootstrap, "n_bootstrap", "bootstrap_comparisons")
    method, models, data = _models_and_data(model_rdms, data_rdms, method, "bootstrap_comparisons")
    if method in ("corr_cov", "cosine_cov"):
        raise ValueError(
            f"method={method!r} whitens by the covariance of all pairs of conditions, but a "
            "bootstrap resample repeats stimuli and drops their self-pairs; bootstrap with "
            "'pearson' or 'cosine' instead."
        )
    rng = np.random.default_rng(random_state)
    n = models.shape[1]
    samples = np.empty((n_bootstrap, models.shape[0]))
    for b in range(n_bootstrap):
        index = rng.integers(0, n, size=n)
        if np.unique(index).size < 3:  # fewer than 3 pairs of distinct stimuli: nothing to rank
            samples[b] = np.nan
            continue
        samples[b] = _resample_means(
            _subsampled_vectors(models, index), _subsampled_vectors(data, index), method
        )
    _report_undefined(np.isnan(samples).sum(axis=0), n_bootstrap)
    return samples


def _resample_means(models: np.ndarray, data: np.ndarray, method: str) -> np.ndarray:
    """Mean comparison of each model with the data; NaN for a model where it is undefined.

    A resample can leave one model without variation (e.g. the stimuli drawn
    from one category of a categorical model): that model's comparison is
    undefined there, the others' are not (rsatoolbox's ``eval_bootstrap``
    compares the models one at a time for this reason).
    """
    try:
        return _compare_vectors(models, data, method, _NAMES).mean(axis=1)
    except UndefinedComparisonError:
        pass
    means = np.full(models.shape[0], np.nan)
    for k in range(models.shape[0]):
        try:
            means[k] = _compare_vectors(models[k : k + 1], data, method, _NAMES).mean()
        except UndefinedComparisonError:
            continue  # this model (or a data RDM) has no variation in the resample
    return means


def _report_undefined(undefined: np.ndarray, n_bootstrap: int) -> None:
    """Warn with the count of undefined resamples per model; raise when most are."""
    worst = int(np.argmax(undefined))
    if undefined[worst] > n_bootstrap / 2:
        raise ValueError(
            f"bootstrap_comparisons: the comparison of model_rdms RDM {worst} with data_rdms "
            f"is undefined in {int(undefined[worst])} of {n_bootstrap} resamples (fewer than 3 "
            "distinct stimuli drawn, or a model or data RDM without variation over them). "
            "Percentiles of the few others would not describe its sampling distribution; "
            "expected RDMs that vary over most subsets of the stimuli (more stimuli, or "
            "method='tau-a', which is defined for constant RDMs)."
        )
    if undefined.any():
        counts = ", ".join(
            f"model {k}: {int(count)} of {n_bootstrap}"
            for k, count in enumerate(undefined)
            if count
        )
        warnings.warn(
            "Some bootstrap resamples gave an RDM without variation (or fewer than 3 distinct "
            "stimuli), so a comparison is undefined there: NaN for the model concerned only "
            f"({counts} resamples), the other models keep their values. Use np.nanpercentile.",
            RuntimeWarning,
            stacklevel=3,
        )


def permutation_test(
    model_rdms: ArrayLike,
    data_rdms: ArrayLike,
    method: str = "spearman",
    *,
    n_permutations: int = 1000,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided permutation test of model-vs-data RSA over stimulus labels.

    The null distribution comes from relabelling the stimuli of each model
    RDM at random (permuting its rows and columns together) and comparing it
    with the data RDMs (mean over subjects).

    Parameters
    ----------
    model_rdms : array-like of shape (n_models, n_pairs) or (n_models, n, n)
        Model RDMs, condensed or square.
    data_rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
        Data RDMs over the same stimuli.
    method : str, default="spearman"
        Comparison method (see :func:`compare_rdms`).
    n_permutations : int, default=1000
        Number of relabellings.
    random_state : int, numpy Generator or None, default=None
        Seed of the permutations.

    Returns
    -------
    observed : ndarray of shape (n_models,)
        The mean comparison of each model with the data.
    p_values : ndarray of shape (n_models,)
        ``(1 + #{null >= observed}) / (1 + n_permutations)``.
    """
    check_positive_int(n_permutations, "n_permutations", "permutation_test")
    method, models, data = _models_and_data(model_rdms, data_rdms, method, "permutation_test")
    n = models.shape[1]
    identity = np.arange(n)
    data_vectors = _subsampled_vectors(data, identity)
    if method in DOT_FORM_METHODS:
        # Each RDM is transformed (e.g. ranked) once; a relabelling of the
        # stimuli only moves the model's transformed values between pairs.
        first, second = np.triu_indices(n, 1)
        w_models, norms_models = _dot_form(
            _subsampled_vectors(models, identity), method, "model_rdms"
        )
        w_data, norms_data = _dot_form(data_vectors, method, "data_rdms")
        scale = np.outer(norms_models, norms_data)

        def mean_comparison(order: np.ndarray) -> np.ndarray:
            low = np.minimum(order[first], order[second])
            high = np.maximum(order[first], order[second])
            pairs = low * (2 * n - low - 1) // 2 + high - low - 1  # condensed index
            return ((w_models[:, pairs] @ w_data.T) / scale).mean(axis=1)

    else:

        def mean_comparison(order: np.ndarray) -> np.ndarray:
            permuted = _subsampled_vectors(models, order)
            return _compare_vectors(permuted, data_vectors, method, _NAMES).mean(axis=1)

    # The observed value goes through the same computation as the null ones,
    # so that relabellings that leave a model unchanged tie with it exactly.
    observed = mean_comparison(identity)
    rng = np.random.default_rng(random_state)
    exceed = np.zeros(models.shape[0])
    for _ in range(n_permutations):
        exceed += mean_comparison(rng.permutation(n)) >= observed
    return observed, (1.0 + exceed) / (1.0 + n_permutations)
