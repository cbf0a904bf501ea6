"""Bootstrap evaluations of model RDMs over stimuli, subjects, both, and the dual bootstrap.

The resamples follow rsatoolbox 0.3.2 (``eval_bootstrap_pattern``,
``eval_bootstrap_rdm``, ``eval_bootstrap`` and ``eval_dual_bootstrap`` of
fixed models, without cross-validation):

- stimuli: n of the n stimuli drawn with replacement; the RDMs keep the pairs
  of distinct stimuli (a stimulus paired with its own copy has a trivial
  dissimilarity of 0), and a resample of fewer than 3 distinct stimuli is
  left out (NaN);
- subjects: n_subjects of the data RDMs drawn with replacement; the statistic
  is the mean comparison over the drawn RDMs, each copy counted;
- both: the subjects, then the stimuli, of one draw applied together;
- dual: one such draw applied three ways, to both factors, to the subjects
  only and to the stimuli only (resamples of fewer than 3 distinct stimuli
  are left out of all three).

The noise ceiling of a resample is rsatoolbox's ``boot_noise_ceiling`` of
the resampled data: the pooled RDMs weight each subject by its copies, while
the leave-one-out runs over the *distinct* subjects drawn (the copies of a
subject leave together) and each distinct subject counts once in the mean
over them. A resample of one distinct subject has no other subject to leave
out; rsatoolbox then uses that subject for both the pool and the test, so
the lower bound equals the upper one.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.stats

from .._typing import ArrayLike
from .rdm import condensed_to_square
from .rdm_compare import (
    DOT_FORM_METHODS,
    UndefinedComparisonError,
    _centered,
    _compare_vectors,
    _dot_form,
    check_comparison,
    rdm_stack,
)

#: What ``bootstrap_comparisons(over=...)`` resamples.
OVER = ("stimuli", "subjects", "both", "dual")

_NAMES = ("model_rdms", "data_rdms")  # the arguments, in messages about undefined comparisons
_CEILING_NAMES = ("data_rdms", "the pooled RDM of data_rdms")


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


def _pooling_transform(vectors: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Each RDM as a pooled RDM averages it, and which RDMs cannot be pooled.

    RMS-normalised for cosine, z-scored for Pearson, ranked for the
    rank-based methods (rsatoolbox's ``pool_rdm``). The mask marks the RDMs
    without variation (all equal, or all zero for cosine), which cannot be
    normalised; their rows are left unscaled.
    """
    if method in ("cosine", "cosine_cov", "pearson", "corr_cov"):
        if method in ("pearson", "corr_cov"):
            vectors = _centered(vectors)
        spread = np.sqrt(np.mean(vectors**2, axis=1, keepdims=True))
        flat = spread[:, 0] == 0.0
        return vectors / np.where(flat[:, None], 1.0, spread), flat
    # rank-based: spearman, rho-a, tau-a, tau-b
    return scipy.stats.rankdata(vectors, axis=1), np.zeros(vectors.shape[0], dtype=bool)


def _resample_ceiling(vectors: np.ndarray, counts: np.ndarray, method: str) -> tuple[float, float]:
    """The noise ceiling of distinct subjects' RDMs drawn ``counts`` times (``boot_noise_ceiling``).

    NaN bounds where a data RDM cannot be pooled, or a comparison is undefined (an RDM
    without variation, e.g. the pool of two subjects whose ranks cancel over 3 distinct
    stimuli), where rsatoolbox counts the comparison as 0.
    """
    if method in DOT_FORM_METHODS:
        return _dot_form_ceiling(vectors, counts, method)
    transformed, flat = _pooling_transform(vectors, method)
    if flat.any():
        return np.nan, np.nan
    weighted = counts[:, None] * transformed
    total = weighted.sum(axis=0)
    n_drawn = counts.sum()
    try:
        upper = _compare_vectors(vectors, (total / n_drawn)[None], method, _CEILING_NAMES)[:, 0]
        if vectors.shape[0] == 1:  # no other subject: pooled and tested on itself
            return float(upper[0]), float(upper[0])
        others = (total - weighted) / (n_drawn - counts)[:, None]
        names = ("data_rdms", "the pooled RDM of the other data_rdms")
        lower = [
            _compare_vectors(vectors[k : k + 1], others[k : k + 1], method, names)[0, 0]
            for k in range(vectors.shape[0])
        ]
    except UndefinedComparisonError:
        return np.nan, np.nan
    return float(np.mean(lower)), float(np.mean(upper))


def _dot_form_ceiling(vectors: np.ndarray, counts: np.ndarray, method: str) -> tuple[float, float]:
    """:func:`_resample_ceiling` for the methods of ``DOT_FORM_METHODS``, each RDM ranked once.

    A comparison is ``w_a . w_b / (|w_a| |w_b|)`` of the transforms of
    :func:`_dot_form`, and a pool averages ``w`` itself (centred ranks: a
    shift of the ranks, which re-ranking ignores) or ``w`` at unit norm (a
    z-scored or RMS-scaled RDM divided by ``sqrt(n_pairs)``, which no
    comparison sees). So the subjects are transformed once, and the pools
    (all drawn, and all but each distinct subject) in one call.
    """
    try:
        w, norms = _dot_form(vectors, method, "data_rdms")
        transformed = w if method in ("spearman", "rho-a") else w / norms[:, None]
        weighted = counts[:, None] * transformed
        total = weighted.sum(axis=0)
        n_drawn = counts.sum()
        pools = (total / n_drawn)[None]
        if vectors.shape[0] > 1:
            pools = np.vstack([pools, (total - weighted) / (n_drawn - counts)[:, None]])
        w_pools, norm_pools = _dot_form(pools, method, "the pooled RDM of data_rdms")
    except UndefinedComparisonError:
        return np.nan, np.nan
    upper = (w @ w_pools[0]) / (norms * norm_pools[0])
    if vectors.shape[0] == 1:  # no other subject: pooled and tested on itself
        return float(upper[0]), float(upper[0])
    lower = np.sum(w * w_pools[1:], axis=1) / (norms * norm_pools[1:])
    return float(np.mean(lower)), float(np.mean(upper))


def _resample_matrix(models: np.ndarray, data: np.ndarray, method: str) -> np.ndarray:
    """(n_models, n_data) comparisons; a NaN row for a model whose comparison is undefined.

    A resample can leave one model without variation (e.g. the stimuli drawn
    from one category of a categorical model): that model's comparison is
    undefined there, the others' are not (rsatoolbox's ``eval_bootstrap``
    compares the models one at a time for this reason).
    """
    try:
        return _compare_vectors(models, data, method, _NAMES)
    except UndefinedComparisonError:
        pass
    matrix = np.full((models.shape[0], data.shape[0]), np.nan)
    for k in range(models.shape[0]):
        try:
            matrix[k] = _compare_vectors(models[k : k + 1], data, method, _NAMES)[0]
        except UndefinedComparisonError:
            continue  # this model (or a data RDM) has no variation in the resample
    return matrix


class _Resampler:
    """Evaluations of one resample, given its subject and stimulus indices."""

    def __init__(self, models: np.ndarray, data: np.ndarray, method: str, ceiling: bool):
        self.models, self.data, self.method, self.ceiling = models, data, method, ceiling
        self._full = None  # condensed RDMs over all stimuli and their comparisons, when needed

    def _all_stimuli(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._full is None:
            every = np.arange(self.models.shape[1])
            models = _subsampled_vectors(self.models, every)
            data = _subsampled_vectors(self.data, every)
            self._full = models, data, _resample_matrix(models, data, self.method)
        return self._full

    def __call__(
        self, subjects: np.ndarray | None, stimuli: np.ndarray | None
    ) -> tuple[np.ndarray, tuple[float, float]]:
        """Mean comparison of each model over the drawn subjects, and the noise ceiling."""
        if subjects is None:
            distinct, inverse = np.arange(self.data.shape[0]), None
        else:
            distinct, inverse = np.unique(subjects, return_inverse=True)
        if stimuli is None:
            _, data, full_matrix = self._all_stimuli()
            data, matrix = data[distinct], full_matrix[:, distinct]
        else:
            models = _subsampled_vectors(self.models, stimuli)
            data = _subsampled_vectors(
                self.data if subjects is None else self.data[distinct], stimuli
            )
            matrix = _resample_matrix(models, data, self.method)
        means = matrix.mean(axis=1) if inverse is None else matrix[:, inverse].mean(axis=1)
        bounds = (np.nan, np.nan)
        if self.ceiling:
            counts = np.ones(distinct.size) if inverse is None else np.bincount(inverse)
            bounds = _resample_ceiling(data, counts.astype(np.float64), self.method)
        return means, bounds


def evaluate_resamples(
    models: np.ndarray,
    data: np.ndarray,
    method: str,
    subjects: np.ndarray | None,
    stimuli: np.ndarray | None,
    *,
    dual: bool = False,
    noise_ceiling: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Evaluations of the models in resamples given by explicit indices.

    Parameters
    ----------
    models : ndarray of shape (n_models, n, n)
        Square model RDMs, as :func:`_models_and_data` returns them.
    data : ndarray of shape (n_subjects, n, n)
        Square data RDMs.
    method : str
        A canonical comparison method.
    subjects : ndarray of shape (n_bootstrap, n_subjects) or None
        The data RDMs drawn in each resample (None: all of them, once).
    stimuli : ndarray of shape (n_bootstrap, n) or None
        The stimuli drawn in each resample (None: all of them, once).
    dual : bool, default=False
        Apply each resample three ways (both indices, the subjects only, the
        stimuli only) instead of once.
    noise_ceiling : bool, default=False
        Also compute the noise ceiling of each resample.

    Returns
    -------
    samples : ndarray of shape (n_sets, n_bootstrap, n_models)
        ``n_sets`` is 3 for a dual bootstrap, else 1; NaN where undefined.
    ceilings : ndarray of shape (n_sets, n_bootstrap, 2) or None
        (lower, upper) in each resample, when asked for.
    """
    drawn = subjects if subjects is not None else stimuli
    n_bootstrap, n_models = drawn.shape[0], models.shape[0]
    plans = [(True, True), (True, False), (False, True)] if dual else [(True, True)]
    samples = np.full((len(plans), n_bootstrap, n_models), np.nan)
    ceilings = np.full((len(plans), n_bootstrap, 2), np.nan)
    resample = _Resampler(models, data, method, noise_ceiling)
    for b in range(n_bootstrap):
        by_subjects = None if subjects is None else subjects[b]
        by_stimuli = None if stimuli is None else stimuli[b]
        if by_stimuli is not None and np.unique(by_stimuli).size < 3:
            continue  # fewer than 3 pairs of distinct stimuli: nothing to rank (all sets)
        for k, (use_subjects, use_stimuli) in enumerate(plans):
            samples[k, b], ceilings[k, b] = resample(
                by_subjects if use_subjects else None, by_stimuli if use_stimuli else None
            )
    return samples, (ceilings if noise_ceiling else None)


def report_undefined(
    samples: np.ndarray, ceilings: np.ndarray | None, over: str, stacklevel: int
) -> None:
    """Warn with the count of undefined resamples per model; raise when most are.

    ``samples`` is (n_sets, n_bootstrap, n_models); a resample counts as
    undefined for a model where any of its sets is NaN.
    """
    n_bootstrap = samples.shape[1]
    undefined = np.isnan(samples).any(axis=0).sum(axis=0)
    cause = (
        "fewer than 3 distinct stimuli drawn, or a model or data RDM without variation over them"
        if over != "subjects"
        else "a model or data RDM without variation"
    )
    worst = int(np.argmax(undefined))
    if undefined[worst] > n_bootstrap / 2:
        raise ValueError(
            f"bootstrap_comparisons: the comparison of model_rdms RDM {worst} with data_rdms "
            f"is undefined in {int(undefined[worst])} of {n_bootstrap} resamples ({cause}). "
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
            stacklevel=stacklevel,
        )
    if ceilings is not None:
        # Resamples where the models are defined but the ceiling is not.
        extra = np.isnan(ceilings[..., 0]).any(axis=0) & ~np.isnan(samples).all(axis=(0, 2))
        if extra.any():
            warnings.warn(
                f"The noise ceiling is undefined (NaN) in {int(extra.sum())} of {n_bootstrap} "
                "resamples in which models are defined: a data RDM, or the pool of the other "
                "subjects' RDMs, has no variation over the stimuli drawn (rsatoolbox counts "
                "such a comparison as 0). noise_ceiling_tests leaves these resamples out.",
                RuntimeWarning,
                stacklevel=stacklevel,
            )
