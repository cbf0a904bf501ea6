"""Weighted RDM models: a non-negative (or free) combination of component RDMs fitted to data.

A weighted model predicts the data RDMs as ``sum_k w_k C_k``, a linear
combination of component RDMs ``C_k`` (e.g. the RDMs of the layers of a
network, or of feature sets; rsatoolbox's ``ModelWeighted``). The weights are
those that maximise the mean comparison of the model RDM with the subjects'
RDMs under one of the inner-product comparisons, as rsatoolbox's
``fit_regress_nn`` (non-negative) and ``fit_regress`` (unconstrained) compute
them:

1. The subjects' RDMs are pooled as ``rsatoolbox.util.pooling.pool_rdm``
   pools them for the method: each divided by its root mean square ("cosine"),
   centred and divided by its standard deviation ("corr"), or (centred for
   "corr_cov" and) divided by its norm ``sqrt(d' V^-1 d)`` ("cosine_cov",
   "corr_cov"), then averaged.
2. The weights are the least-squares coefficients of that pooled RDM on the
   components (centred for "corr" and "corr_cov"), in the metric ``V^-1`` for
   the cov methods: ``argmin_w (y - C'w)' W (y - C'w) + ridge_weight ||w||^2``
   with ``W = I`` or ``V^-1``, subject to ``w >= 0`` when ``nonnegative``
   (:func:`scipy.optimize.nnls`).
3. With ``normalize`` they are divided by their Euclidean norm, as rsatoolbox
   returns them (the comparisons do not change when the model RDM is
   multiplied by a positive number, so only the direction is determined by
   the data). ``normalize=False`` gives them in the units of the pooled RDM of
   step 1.

``V = (C C') o (C C')`` is the covariance of distance estimates under i.i.d.
noise on the patterns (``C`` the pairwise contrasts, ``o`` the elementwise
product; Diedrichsen et al. 2020); it is applied in closed form, as in
:func:`~skrep.functional.compare_rdms`. rsatoolbox's ``sigma_k`` (another
pattern covariance) is not supported. NaN dissimilarities (which rsatoolbox
drops, pair by pair) are refused: leave stimuli out with ``stimuli=``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

from .._typing import ArrayLike, RandomState
from .._validation import check_bool, check_positive_int
from ._rdm_pairs import n_conditions_of
from ._rdm_weights_solve import (
    check_ridge_weight,
    check_weight_method,
    finished_weights,
    pooled_target,
    read_components,
    shown,
    solve_weights,
    transformed,
)
from ._rdm_weights_stimuli import check_indices, check_stimuli, pair_positions
from .rdm_compare import UndefinedComparisonError, compare_rdms, rdm_stack

__all__ = ["fit_rdm_weights", "crossvalidate_rdm_model", "rdm_model_folds"]


def _read(components: ArrayLike, rdms: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Scaled components, their scales, the data RDMs (condensed) and the number of stimuli."""
    scaled, scales, _ = read_components(components, "components")
    data, _ = rdm_stack(rdms, "rdms")
    if data.shape[1] != scaled.shape[1]:
        raise ValueError(
            f"components are RDMs of {n_conditions_of(scaled.shape[1])} stimuli "
            f"({scaled.shape[1]} pairs) but rdms are RDMs of {n_conditions_of(data.shape[1])} "
            f"stimuli ({data.shape[1]} pairs); expected RDMs over the same stimuli (select the "
            "stimuli of both with stimuli=)."
        )
    return scaled, scales, data, n_conditions_of(scaled.shape[1])


def _check_options(
    method: object, nonnegative: object, ridge_weight: object, owner: str
) -> tuple[str, float]:
    method = check_weight_method(method, owner)
    check_bool(nonnegative, "nonnegative", owner)
    return method, check_ridge_weight(ridge_weight, owner)


def _fit(
    scaled: np.ndarray,
    scales: np.ndarray,
    data: np.ndarray,
    method: str,
    nonnegative: bool,
    ridge_weight: float,
) -> np.ndarray:
    """Weights of the scaled components fitted to the data (same pairs)."""
    return solve_weights(
        transformed(scaled, method),
        pooled_target(data, method),
        scales,
        method=method,
        nonnegative=bool(nonnegative),
        ridge_weight=ridge_weight,
    )


def fit_rdm_weights(
    components: ArrayLike,
    rdms: ArrayLike,
    method: str = "cosine",
    nonnegative: bool = True,
    normalize: bool = True,
    *,
    stimuli: ArrayLike | None = None,
    ridge_weight: float = 0.0,
) -> np.ndarray:
    """Fit the weights of a linear combination of component RDMs to data RDMs.

    The weights maximise the mean ``method`` comparison of ``sum_k w_k
    components[k]`` with the RDMs of all subjects, computed as rsatoolbox's
    ``fit_regress_nn`` (``nonnegative=True``) and ``fit_regress``
    (``nonnegative=False``) compute them for a ``ModelWeighted``: see the
    module notes.

    Parameters
    ----------
    components : array-like of shape (n_pairs,), (n_components, n_pairs) or (n_components, n, n)
        The component RDMs, condensed (upper triangles, row by row) or square
        (symmetric, zero diagonal). Linearly independent after the method's
        transform, unless ``ridge_weight > 0``.
    rdms : array-like of shape (n_pairs,), (n_subjects, n_pairs) or (n_subjects, n, n)
        The data RDMs (one per subject or session), over the same stimuli.
    method : str, default="cosine"
        The comparison the weights are fitted for: "cosine", "corr" (or
        "pearson"), "cosine_cov" or "corr_cov" (see
        :func:`~skrep.functional.compare_rdms`).
    nonnegative : bool, default=True
        Constrain the weights to be >= 0 (non-negative least squares).
    normalize : bool, default=True
        Return the weights with Euclidean norm 1; otherwise as fitted to the
        pooled data RDM (see the module notes).
    stimuli : array-like of int or bool, default=None
        Fit on these stimuli only (rsatoolbox's ``pattern_idx``): indices
        (distinct, at least 3) or a boolean mask, applied to both
        ``components`` and ``rdms``. None: all stimuli.
    ridge_weight : float, default=0.0
        A ridge penalty ``ridge_weight * ||w||^2`` added to the least-squares
        loss (rsatoolbox's ``ridge_weight``, on the weights of the components
        as given).

    Returns
    -------
    ndarray of shape (n_components,)
        The weights, float64. All zero (with a warning) when no non-negative
        combination correlates positively with the pooled data RDM.

    Raises
    ------
    ValueError
        Bad shapes, RDMs over different stimuli, a constant or all-zero data
        RDM, or linearly dependent components (without a ridge penalty).
    InvalidParameterError
        An unknown method, or a ``nonnegative``, ``normalize`` or
        ``ridge_weight`` that is not what it should be.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.rdm_weights import fit_rdm_weights
    >>> rng = np.random.default_rng(0)
    >>> components = rng.random((2, 45))
    >>> rdms = 2.0 * components[0] + 1.0 * components[1] + 0.01 * rng.random((3, 45))
    >>> weights = fit_rdm_weights(components, rdms)
    >>> np.round(weights[0] / weights[1], 1)
    np.float64(2.0)
    """
    owner = "fit_rdm_weights"
    method, ridge_weight = _check_options(method, nonnegative, ridge_weight, owner)
    check_bool(normalize, "normalize", owner)
    scaled, scales, data, n = _read(components, rdms)
    if stimuli is not None:
        positions = pair_positions(check_stimuli(stimuli, n), n)
        scaled, data = scaled[:, positions], data[:, positions]
    weights = _fit(scaled, scales, data, method, nonnegative, ridge_weight)
    return finished_weights(weights, scales, bool(normalize))


def _default_k_subjects(n_subjects: int) -> int:
    """The default_k_rdm of rsatoolbox: 2 to 5 folds of subjects, growing with their number."""
    return 2 if n_subjects < 6 else 3 if n_subjects < 12 else 4 if n_subjects < 20 else 5


def _default_k_stimuli(n_stimuli: int) -> int:
    """The default_k_pattern of rsatoolbox: 2 to 5 folds of stimuli, growing with their number."""
    return 2 if n_stimuli < 12 else 3 if n_stimuli < 24 else 4 if n_stimuli < 40 else 5


def _groups(order: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) of each of k groups of ``order``, as rsatoolbox's sets_k_fold makes them.

    Group g holds the g-th block of ``len(order) // k`` entries, and the first
    ``len(order) % k`` groups one more each, taken from the end of ``order``.
    With k = 1 the training set is the test set (no cross-validation).
    """
    size, extra = divmod(order.size, k)
    groups = []
    for g in range(k):
        test = list(range(g * size, (g + 1) * size))
        if g < extra:
            test.append(order.size - (g + 1))
        train = test if k == 1 else sorted(set(range(order.size)) - set(test))
        groups.append((np.sort(order[train]), np.sort(order[test])))
    return groups


def rdm_model_folds(
    n_subjects: int,
    n_stimuli: int,
    k_subjects: int | None = None,
    k_stimuli: int | None = None,
    *,
    shuffle: bool = True,
    random_state: RandomState = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Cross-validation folds over subjects and stimuli, as rsatoolbox's ``sets_k_fold``.

    The subjects are split into ``k_subjects`` groups, and within each group
    the stimuli into ``k_stimuli`` groups: ``k_subjects * k_stimuli`` folds,
    each fitted on the other subjects and the other stimuli and tested on the
    group's subjects and stimuli. Group sizes differ by at most one (the first
    ``n % k`` groups get the extra ones). A k of 1 uses everything for both
    fitting and testing along that axis.

    Parameters
    ----------
    n_subjects : int
        The number of data RDMs.
    n_stimuli : int
        The number of stimuli of the RDMs.
    k_subjects : int, default=None
        Folds over subjects; None: rsatoolbox's default (2 below 6 subjects,
        3 below 12, 4 below 20, then 5).
    k_stimuli : int, default=None
        Folds over stimuli; None: rsatoolbox's default (2 below 12 stimuli, 3
        below 24, 4 below 40, then 5).
    shuffle : bool, default=True
        Assign subjects and stimuli to groups at random (rsatoolbox's
        ``random``; the stimuli are shuffled anew for each group of subjects);
        False: in order.
    random_state : int, RandomState instance or None, default=None
        The seed of the shuffles.

    Returns
    -------
    list of tuple of ndarray
        ``(train_subjects, train_stimuli, test_subjects, test_stimuli)`` for
        each fold, sorted indices, as :func:`crossvalidate_rdm_model` takes them.

    Examples
    --------
    >>> from skrep.functional.rdm_weights import rdm_model_folds
    >>> folds = rdm_model_folds(4, 9, k_subjects=2, k_stimuli=3, shuffle=False)
    >>> len(folds), folds[0][2], folds[0][3]
    (6, array([0, 1]), array([0, 1, 2]))
    """
    owner = "rdm_model_folds"
    for name, value, least in (("n_subjects", n_subjects, 1), ("n_stimuli", n_stimuli, 3)):
        check_positive_int(value, name, owner)
        if value < least:
            raise ValueError(f"{name} must be >= {least}; got {value}.")
    k_subjects = _default_k_subjects(n_subjects) if k_subjects is None else k_subjects
    k_stimuli = _default_k_stimuli(n_stimuli) if k_stimuli is None else k_stimuli
    check_positive_int(k_subjects, "k_subjects", owner)
    check_positive_int(k_stimuli, "k_stimuli", owner)
    check_bool(shuffle, "shuffle", owner)
    if k_subjects > n_subjects:
        raise ValueError(
            f"k_subjects={k_subjects} exceeds the {n_subjects} subjects; expected at most one "
            "fold per subject."
        )
    smallest = n_stimuli // k_stimuli
    if k_stimuli > 1 and (smallest < 3 or n_stimuli - (smallest + (n_stimuli % k_stimuli > 0)) < 3):
        raise ValueError(
            f"k_stimuli={k_stimuli} splits {n_stimuli} stimuli into test sets of {smallest} "
            "stimuli or training sets of fewer than 3; expected at least 3 stimuli in every "
            "test and training set (an RDM of fewer has no variation to fit or compare)."
        )
    rng = check_random_state(random_state)
    subjects = rng.permutation(n_subjects) if shuffle else np.arange(n_subjects)
    folds = []
    for train_subjects, test_subjects in _groups(subjects, k_subjects):
        stimuli = rng.permutation(n_stimuli) if shuffle else np.arange(n_stimuli)
        for train_stimuli, test_stimuli in _groups(stimuli, k_stimuli):
            folds.append((train_subjects, train_stimuli, test_subjects, test_stimuli))
    return folds


def _check_fold(fold: object, i: int, n_subjects: int, n_stimuli: int) -> tuple[np.ndarray, ...]:
    if not isinstance(fold, Sequence) or isinstance(fold, str) or len(fold) != 4:
        raise ValueError(
            f"folds[{i}] is {type(fold).__name__} {fold!r:.80}; expected a tuple "
            "(train_subjects, train_stimuli, test_subjects, test_stimuli) of index arrays, as "
            "rdm_model_folds gives them (None for all subjects or all stimuli)."
        )
    names = ("train_subjects", "train_stimuli", "test_subjects", "test_stimuli")
    checked = []
    for name, values in zip(names, fold, strict=True):
        stimuli = name.endswith("stimuli")
        n = n_stimuli if stimuli else n_subjects
        if values is None:
            checked.append(np.arange(n))
            continue
        label = f"folds[{i}] {name}"
        if stimuli:
            checked.append(check_stimuli(values, n, label))
        else:
            what = "subject RDMs of rdms"
            checked.append(check_indices(values, n, label, what, minimum=1, distinct=False))
    return tuple(checked)


def crossvalidate_rdm_model(
    components: ArrayLike,
    rdms: ArrayLike,
    folds: Sequence[tuple],
    method: str = "cosine",
    nonnegative: bool = True,
    *,
    ridge_weight: float = 0.0,
    return_weights: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Cross-validated comparisons of a weighted RDM model, as rsatoolbox's ``crossval``.

    In each fold the weights are fitted (:func:`fit_rdm_weights`) to the
    training subjects' RDMs on the training stimuli; the model RDM on the test
    stimuli is then compared (:func:`~skrep.functional.compare_rdms`, same
    method) with each test subject's RDM on those stimuli, and the fold's
    score is the mean over the test subjects. With the folds of
    ``rsatoolbox.inference.sets_k_fold``, the scores equal
    ``crossval(model, data, train_set, test_set, method=method,
    fitter=Fitter(fit_regress_nn))`` (or ``fit_regress``) for a
    ``ModelWeighted``.

    Parameters
    ----------
    components : array-like of shape (n_components, n_pairs) or (n_components, n, n)
        The component RDMs, condensed or square.
    rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
        The data RDMs, over the same stimuli.
    folds : sequence of tuple
        ``(train_subjects, train_stimuli, test_subjects, test_stimuli)`` per
        fold: indices (or boolean masks) of the subjects (rows of ``rdms``)
        and of the stimuli, e.g. from :func:`rdm_model_folds`; None stands for
        all of them. Each set of stimuli holds at least 3 distinct ones.
    method : str, default="cosine"
        "cosine", "corr" (or "pearson"), "cosine_cov" or "corr_cov": both the
        fit and the comparison.
    nonnegative : bool, default=True
        Constrain the weights to be >= 0.
    ridge_weight : float, default=0.0
        A ridge penalty on the weights (see :func:`fit_rdm_weights`).
    return_weights : bool, default=False
        Also return the weights of each fold (norm 1).

    Returns
    -------
    scores : ndarray of shape (n_folds,)
        The mean comparison over the test subjects in each fold.
    weights : ndarray of shape (n_folds, n_components)
        With ``return_weights``: the weights fitted in each fold, norm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.functional.rdm_weights import crossvalidate_rdm_model, rdm_model_folds
    >>> rng = np.random.default_rng(0)
    >>> components = rng.random((2, 66))
    >>> rdms = components[0] + 0.5 * components[1] + 0.1 * rng.random((4, 66))
    >>> folds = rdm_model_folds(4, 12, k_subjects=2, k_stimuli=2, random_state=0)
    >>> scores = crossvalidate_rdm_model(components, rdms, folds, method="corr")
    >>> scores.shape, bool(np.all(scores > 0.8))
    ((4,), True)
    """
    owner = "crossvalidate_rdm_model"
    method, ridge_weight = _check_options(method, nonnegative, ridge_weight, owner)
    check_bool(return_weights, "return_weights", owner)
    scaled, scales, data, n = _read(components, rdms)
    if isinstance(folds, (str, bytes)) or not isinstance(folds, Sequence) or len(folds) == 0:
        raise ValueError(
            f"folds must be a non-empty sequence of (train_subjects, train_stimuli, "
            f"test_subjects, test_stimuli) tuples, e.g. from rdm_model_folds; got {folds!r:.80}."
        )
    checked = [_check_fold(fold, i, data.shape[0], n) for i, fold in enumerate(folds)]
    scores = np.empty(len(checked))
    all_weights = np.empty((len(checked), scaled.shape[0]))
    for i, (train_subjects, train_stimuli, test_subjects, test_stimuli) in enumerate(checked):
        train = pair_positions(train_stimuli, n)
        weights = _fit(
            scaled[:, train],
            scales,
            data[train_subjects][:, train],
            method,
            nonnegative,
            ridge_weight,
        )
        all_weights[i] = finished_weights(weights, scales, True)
        test = pair_positions(test_stimuli, n)
        # The comparisons ignore a positive factor: the model RDM at the components' unit scale.
        prediction = weights @ scaled[:, test]
        try:
            scores[i] = compare_rdms(prediction, data[test_subjects][:, test], method).mean()
        except UndefinedComparisonError as error:
            raise UndefinedComparisonError(
                f"In fold {i}, the fitted model RDM is constant on the test stimuli (weights "
                f"{all_weights[i]}), so its {shown(method)} comparison with the data is undefined: "
                f"{error}"
            ) from error
    return (scores, all_weights) if return_weights else scores
