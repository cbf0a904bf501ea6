"""Inference for RSA: the noise ceiling, bootstrap intervals and permutation tests.

The noise ceiling (Nili et al. 2014) bounds how well any model RDM can match
a group of data RDMs (one per subject) under a comparison method:

- upper bound: the mean over subjects of the comparison of the pooled RDM
  of *all* subjects with each subject's RDM;
- lower bound: the same with the pooled RDM of the *other* subjects.

Pooling follows the comparison, as in rsatoolbox's ``pool_rdm``: mean of
RMS-normalised RDMs for cosine, of z-scored RDMs for Pearson, of ranks for the
rank-based methods.

:func:`bootstrap_comparisons` resamples the stimuli, the subjects, both, or
all three ways at once (rsatoolbox's dual bootstrap), optionally with the
noise ceiling of each resample; its machinery is in ``_rsa_bootstrap``.
"""

from __future__ import annotations

import numpy as np

from .._typing import ArrayLike, RandomState
from .._validation import _shape_str, check_positive_int
from ..exceptions import InvalidParameterError
from ._model_tests_input import check_choice
from ._rsa_bootstrap import (
    OVER,
    _models_and_data,
    _pooling_transform,
    _subsampled_vectors,
    evaluate_resamples,
    report_undefined,
)
from .rdm import condensed_to_square
from .rdm_compare import (
    DOT_FORM_METHODS,
    _as_vectors,
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
    vectors, flat = _pooling_transform(vectors, method)
    if flat.any():
        raise ValueError(
            f"RDM {int(np.flatnonzero(flat)[0])} of rdms has no variation (all its "
            f"dissimilarities are equal{', or zero' if 'cosine' in method else ''}), so it "
            f"cannot be pooled for the {method} comparison; expected RDMs whose "
            "dissimilarities vary."
        )
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


def bootstrap_comparisons(
    model_rdms: ArrayLike,
    data_rdms: ArrayLike,
    method: str = "spearman",
    *,
    n_bootstrap: int = 1000,
    over: str = "stimuli",
    return_noise_ceiling: bool = False,
    random_state: RandomState = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Bootstrap distribution of each model's mean comparison with the data.

    Resamples the stimuli, the subjects (data RDMs) or both, with
    replacement, as rsatoolbox 0.3.2's ``eval_bootstrap_pattern``,
    ``eval_bootstrap_rdm``, ``eval_bootstrap`` and ``eval_dual_bootstrap``
    do for fixed models. The statistic of a resample is the mean over the
    drawn data RDMs (each copy counted) of their comparison with each model.

    - ``over="stimuli"``: each resample's RDMs keep the pairs of distinct
      stimuli (pairs of a stimulus with its own copy are dropped, as in
      rsatoolbox, which also leaves out resamples of fewer than 3 distinct
      stimuli: NaN here). Generalises to new stimuli, not to new subjects.
    - ``over="subjects"``: the data RDMs are drawn, all stimuli kept.
      Generalises to new subjects, not to new stimuli.
    - ``over="both"``: the subjects, then the stimuli of each draw, applied
      together: both generalisations, with a variance that over-estimates
      the true one (Schütt et al. 2023).
    - ``over="dual"``: each draw applied three ways, to both factors, to the
      subjects only and to the stimuli only (the same indices), whose
      variances :func:`~skrep.functional.model_tests.pairwise_model_tests`
      with ``bootstrap="dual"`` combines into rsatoolbox's corrected estimate.
      Its first set equals ``over="both"`` with the same ``random_state``; a
      resample of fewer than 3 distinct stimuli is NaN in all three sets, as
      in rsatoolbox.

    The samples (and ceilings) go to the tests of
    :mod:`skrep.functional.model_tests` as they are, with ``bootstrap=over``,
    ``n_subjects`` and ``n_stimuli``.

    Parameters
    ----------
    model_rdms : array-like of shape (n_models, n_pairs) or (n_models, n, n)
        Model RDMs, condensed or square (a 2-D array is a stack of condensed
        RDMs).
    data_rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
        Data RDMs over the same stimuli, one per subject (at least 2 when
        subjects are resampled or a noise ceiling is asked for).
    method : str, default="spearman"
        Comparison method (see :func:`compare_rdms`). "corr_cov" and
        "cosine_cov" only with ``over="subjects"`` (their whitening needs
        all pairs of stimuli).
    n_bootstrap : int, default=1000
        Number of resamples.
    over : {"stimuli", "subjects", "both", "dual"}, default="stimuli"
        What is resampled (see above).
    return_noise_ceiling : bool, default=False
        Also return the noise ceiling of each resample, rsatoolbox's
        ``boot_noise_ceiling`` of the resampled data RDMs (as in the
        ``noise_ceiling`` of its bootstrap results): the pools weight each
        subject by its copies, the leave-one-out runs over the distinct
        subjects drawn. With a single distinct subject drawn, the lower bound
        equals the upper one, as in rsatoolbox. The form
        :func:`~skrep.functional.model_tests.noise_ceiling_tests` takes.
    random_state : int, numpy Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    samples : ndarray of shape (n_bootstrap, n_models), or (3, n_bootstrap, n_models)
        The mean comparison of each model in each resample; for
        ``over="dual"``, the resamples of both, of the subjects only and of
        the stimuli only. Percentiles give confidence intervals, e.g.
        ``np.percentile(samples, [2.5, 97.5], axis=0)``. Where a resample
        leaves a model's RDM (or a data RDM) without variation, that model's
        comparison is undefined: its entry alone is NaN, and a
        RuntimeWarning counts these resamples per model (use
        ``np.nanpercentile``).
    noise_ceiling : ndarray of shape (n_bootstrap, 2), or (3, n_bootstrap, 2)
        Only with ``return_noise_ceiling=True``: the (lower, upper) bounds in
        each resample. NaN where undefined: a resample of fewer than 3
        distinct stimuli, or a data RDM or a pool of them without variation
        over the stimuli drawn, where rsatoolbox counts the comparison as 0
        (a RuntimeWarning counts the resamples where only the ceiling is NaN).

    Raises
    ------
    ValueError
        If a model's comparison is undefined in more than half of the
        resamples, or fewer than 2 data RDMs are given where subjects are
        resampled or a noise ceiling is asked for.
    InvalidParameterError
        An unknown ``over``, or ``return_noise_ceiling`` not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.rsa_inference import bootstrap_comparisons
    >>> rng = np.random.default_rng(0)
    >>> models, data = rng.random((2, 45)), rng.random((4, 45))  # 10 stimuli
    >>> bootstrap_comparisons(models, data, n_bootstrap=50, random_state=0).shape
    (50, 2)
    >>> samples, ceiling = bootstrap_comparisons(
    ...     models, data, n_bootstrap=50, over="dual", return_noise_ceiling=True,
    ...     random_state=0)
    >>> samples.shape, ceiling.shape
    ((3, 50, 2), (3, 50, 2))
    """
    owner = "bootstrap_comparisons"
    check_positive_int(n_bootstrap, "n_bootstrap", owner)
    check_choice(over, "over", owner, OVER)
    if not isinstance(return_noise_ceiling, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'return_noise_ceiling' parameter of {owner} must be a bool; got "
            f"{return_noise_ceiling!r}."
        )
    method, models, data = _models_and_data(model_rdms, data_rdms, method, owner)
    if method in ("corr_cov", "cosine_cov") and over != "subjects":
        raise ValueError(
            f"method={method!r} whitens by the covariance of all pairs of conditions, but a "
            "bootstrap resample repeats stimuli and drops their self-pairs; bootstrap with "
            f"'pearson' or 'cosine' instead (over={over!r}; over='subjects' keeps all pairs)."
        )
    n_subjects = data.shape[0]
    if n_subjects < 2 and (over != "stimuli" or return_noise_ceiling):
        need = (
            f"over={over!r} resamples the subjects"
            if over != "stimuli"
            else ("return_noise_ceiling=True needs a noise ceiling")
        )
        raise ValueError(
            f"{owner}: {need}, but data_rdms holds {n_subjects} RDM (shape "
            f"{_shape_str(np.shape(data_rdms))}); expected at least 2 data RDMs, one per "
            "subject. With one subject, resample the stimuli (over='stimuli')."
        )
    rng = np.random.default_rng(random_state)
    n = models.shape[1]
    subjects = stimuli = None
    if over == "stimuli":
        stimuli = np.stack([rng.integers(0, n, size=n) for _ in range(n_bootstrap)])
    elif over == "subjects":
        subjects = np.stack(
            [rng.integers(0, n_subjects, size=n_subjects) for _ in range(n_bootstrap)]
        )
    else:  # as rsatoolbox's bootstrap_sample: the subjects, then the stimuli
        draws = [
            (rng.integers(0, n_subjects, size=n_subjects), rng.integers(0, n, size=n))
            for _ in range(n_bootstrap)
        ]
        subjects = np.stack([draw[0] for draw in draws])
        stimuli = np.stack([draw[1] for draw in draws])
    samples, ceilings = evaluate_resamples(
        models,
        data,
        method,
        subjects,
        stimuli,
        dual=over == "dual",
        noise_ceiling=bool(return_noise_ceiling),
    )
    report_undefined(samples, ceilings, over, stacklevel=3)
    if over != "dual":
        samples = samples[0]
        ceilings = None if ceilings is None else ceilings[0]
    return (samples, ceilings) if return_noise_ceiling else samples


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
