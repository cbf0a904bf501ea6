"""Comparisons of RDMs, with rsatoolbox's definitions and numbers.

Every function takes condensed RDMs (upper triangles, row by row, as
:func:`skrep.functional.rdm.compute_rdm` returns them): one vector, or a
stack of them, on each side, or a stack of square RDMs (n_rdms, n, n); and
returns the (n_a, n_b) matrix of comparisons, as ``rsatoolbox.rdm.compare``
does.

- "cosine" and "pearson" (rsatoolbox's "corr"): of the dissimilarities;
- "spearman": Pearson correlation of the ranks (ties get their mean rank);
- "rho-a": ``12 sum(r_a r_b) / (n^3 - n) - 3 (n + 1) / (n - 1)`` on those ranks,
  which unlike Spearman's rho does not rescale for ties (Nili et al. 2014);
- "tau-a": Kendall's tau-a, ``(concordant - discordant) / (n (n - 1) / 2)``,
  the measure for categorical models with many ties;
- "tau-b" (rsatoolbox's "kendall"): Kendall's tau-b;
- "cosine_cov" and "corr_cov": cosine and correlation after whitening by the
  covariance of distance estimates under i.i.d. noise on the patterns
  (Diedrichsen et al. 2020): ``V = (C C') o (C C')`` with ``C`` the pairwise
  contrast matrix of the conditions.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from .._typing import Array, ArrayLike
from .._validation import _shape_str, check_finite
from ..exceptions import InvalidParameterError
from ._rank_products import (
    centred_rank_chunks,
    in_threads,
    products,
    rank_rows,
    value_chunks,
    whitened_chunks,
)
from ._ranks import (
    HAS_COMPILED_COUNT,
    dense_ranks,
    few_categories,
    kendall_s,
    kendall_s_from_ranks,
    sort_order,
    tied_pairs,
)
from ._rdm_autograd import comparison_result
from ._rdm_input import check_square_rdms, host_max, power_of_two_scales, real_numpy
from ._rdm_pairs import n_conditions_of

__all__ = ["compare_rdms"]

COMPARISON_METHODS = (
    "spearman",
    "pearson",
    "cosine",
    "tau-a",
    "rho-a",
    "tau-b",
    "corr_cov",
    "cosine_cov",
)
_ALIASES = {"corr": "pearson", "kendall": "tau-b"}  # rsatoolbox's names


def check_comparison(method: object, owner: str = "compare_rdms", parameter: str = "method") -> str:
    """Return the canonical comparison name, or raise InvalidParameterError.

    Parameters
    ----------
    method : object
        A name from ``COMPARISON_METHODS`` or rsatoolbox's "corr" / "kendall".
    owner : str, default="compare_rdms"
        The function or estimator that received it, for the message.
    parameter : str, default="method"
        The name of the parameter, for the message ("compare_method" in the
        estimators).

    Returns
    -------
    str
        The canonical name.
    """
    if isinstance(method, str) and (method in COMPARISON_METHODS or method in _ALIASES):
        return _ALIASES.get(method, method)
    raise InvalidParameterError(
        f"The {parameter!r} parameter of {owner} must be one of {list(COMPARISON_METHODS)} "
        f"(or rsatoolbox's 'corr', 'kendall'); got {method!r}."
    )


class UndefinedComparisonError(ValueError):
    """A comparison is undefined because an RDM has no variation."""


def rdm_stack(rdms: ArrayLike, name: str) -> tuple[np.ndarray, bool]:
    """Checked condensed RDMs at unit scale, and whether they were given square.

    Accepts one condensed RDM (n_pairs,), a stack of them (n_rdms, n_pairs),
    or a stack of square ones (n_rdms, n, n), checked by
    :func:`~skrep.functional._rdm_input.check_square_rdms`. A 2-D array is
    always a stack of condensed RDMs (pass one square RDM as ``rdm[None]``).

    An RDM far from unit scale (beyond 1e+-77) is multiplied by the power of
    two that brings its largest |entry| to [0.5, 1): exact, and invisible to
    every comparison, pooling and test here (all of them ignore a positive
    factor per RDM), while it keeps sums of squares of RDMs at 1e+-300 finite
    and non-zero.

    Parameters
    ----------
    rdms : array-like or torch.Tensor
        The argument.
    name : str
        Its name, for messages.

    Returns
    -------
    vectors : ndarray of shape (n_rdms, n_pairs)
        float64, each row rescaled.
    square : bool
        Whether ``rdms`` was a stack of square RDMs.
    """
    expected = "condensed RDMs (n_pairs,) or (n_rdms, n_pairs), or square ones (n_rdms, n, n)"
    rdms = real_numpy(rdms, name, expected)
    square = rdms.ndim == 3
    if rdms.ndim == 1:
        rdms = rdms[None, :]
    if rdms.ndim not in (2, 3) or (square and rdms.shape[1] != rdms.shape[2]):
        raise ValueError(f"{name} must hold {expected}; got shape {_shape_str(rdms.shape)}.")
    if rdms.shape[0] == 0:
        raise ValueError(
            f"{name} holds 0 RDMs (shape {_shape_str(rdms.shape)}); expected at least one."
        )
    if square:
        check_square_rdms(rdms, name)
        rows, columns = np.triu_indices(rdms.shape[1], 1)
        rdms = rdms[:, rows, columns]
    largest = host_max(rdms, 1) if rdms.shape[1] else np.zeros(rdms.shape[0])
    if not np.all(np.isfinite(largest)):  # NaN and inf show in the extremes
        check_finite(rdms, name)
    n_pairs = rdms.shape[1]
    if n_conditions_of(n_pairs) is None or n_pairs < 2:
        hint = (
            " It looks like a square RDM: pass it as a stack, rdm[None], or convert it with "
            "square_to_condensed."
            if rdms.shape[0] == rdms.shape[1]
            else ""
        )
        raise ValueError(
            f"{name} has shape {_shape_str(rdms.shape)}: {n_pairs} dissimilarities per RDM, "
            "which is not n (n - 1) / 2 for n >= 3 conditions; expected condensed RDMs "
            f"(upper triangles, row by row).{hint}"
        )
    scales = power_of_two_scales(largest)
    return (rdms if np.all(scales == 1.0) else rdms * scales[:, None]), square


def _as_vectors(rdms: ArrayLike, name: str) -> np.ndarray:
    """The condensed RDMs of :func:`rdm_stack`."""
    return rdm_stack(rdms, name)[0]


def _centered_ranks(rdms: np.ndarray) -> np.ndarray:
    """Average ranks of each row, minus their mean (half-integers), float64."""
    ranks = rank_rows(rdms).astype(np.float64)
    ranks -= rdms.shape[1] + 1
    ranks *= 0.5
    return ranks


def _normalised(
    products_: tuple[np.ndarray, np.ndarray, np.ndarray], names: tuple[str, str]
) -> np.ndarray:
    """``dots / (norm_a norm_b)`` of :func:`._rank_products.products`, zero norms refused."""
    dots, squares_a, squares_b = products_
    norm_a, norm_b = np.sqrt(squares_a), np.sqrt(squares_b)
    _check_norms(norm_a, names[0])
    _check_norms(norm_b, names[1])
    return dots / np.outer(norm_a, norm_b)


def _rank_products(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Products of the centred ranks: each RDM ranked once (int32), products by chunks."""
    n_rows = a.shape[0] + b.shape[0]
    ranks_a, ranks_b = rank_rows(a), rank_rows(b)
    return products(
        centred_rank_chunks(ranks_a, n_rows),
        centred_rank_chunks(ranks_b, n_rows),
        a.shape[0],
        b.shape[0],
    )


def _spearman(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> np.ndarray:
    return _normalised(_rank_products(a, b), names)


def _chunked_cosine(
    a: np.ndarray, b: np.ndarray, method: str, names: tuple[str, str]
) -> np.ndarray:
    """pearson, corr_cov and cosine_cov: a transform made and multiplied a chunk at a time."""
    n_rows = a.shape[0] + b.shape[0]
    centred = method in ("pearson", "corr_cov")
    chunks = value_chunks if method == "pearson" else whitened_chunks
    return _normalised(
        products(chunks(a, centred, n_rows), chunks(b, centred, n_rows), a.shape[0], b.shape[0]),
        names,
    )


def _row_norms(v: np.ndarray) -> np.ndarray:
    # One BLAS dot per row: no squared copy (as linalg.norm makes), and
    # blocked sums (einsum's running sum loses digits over 10^5 terms).
    return np.sqrt(np.array([row @ row for row in v]))


def _check_norms(norms: np.ndarray, name: str) -> None:
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise UndefinedComparisonError(
            f"RDM {int(zero[0])} of {name} is constant after the method's transform "
            "(all zero), so the comparison is undefined; expected dissimilarities that "
            "vary across pairs."
        )


def _cosine(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> np.ndarray:
    norm_a = _row_norms(a)
    norm_b = _row_norms(b)
    _check_norms(norm_a, names[0])
    _check_norms(norm_b, names[1])
    return (a @ b.T) / np.outer(norm_a, norm_b)


def _centered(v: np.ndarray) -> np.ndarray:
    centered = v - v.mean(axis=1, keepdims=True)
    # A constant RDM centers to exact zeros (and is found undefined), not to
    # the rounding of its mean.
    centered[np.max(v, axis=1) == np.min(v, axis=1)] = 0.0
    return centered


#: Methods that are a normalised dot product of a per-RDM transform (see _dot_form).
DOT_FORM_METHODS = ("cosine", "pearson", "spearman", "rho-a")


def _dot_form(v: np.ndarray, method: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(w, norms) with the comparison of rows a, b equal to ``w_a . w_b / (norms_a norms_b)``.

    For the methods in ``DOT_FORM_METHODS``: cosine (w = v), Pearson (centered),
    Spearman (centered ranks) and rho-a (centered ranks, every norm
    ``sqrt((m^3 - m) / 12)``). Each transform moves with the pairs when the
    stimuli are relabelled (ranks of permuted values are the permuted ranks),
    so a permutation test transforms each RDM once.
    """
    if method == "cosine":
        w = v
    elif method == "pearson":
        w = _centered(v)
    else:
        w = _centered_ranks(v)
    if method == "rho-a":
        m = v.shape[1]
        return w, np.full(v.shape[0], np.sqrt((m**3 - m) / 12.0))
    norms = _row_norms(w)
    _check_norms(norms, name)
    return w, norms


def _category_ties(codes: np.ndarray) -> int:
    """Tied pairs of a categorical vector, from its category counts."""
    counts = np.bincount(codes).astype(np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def _kendall_statistics(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kendall's S of every pair of rows, and each row's number of tied pairs.

    A pair with a categorical side (few distinct values, as most models
    compared by tau-a) is counted exactly by :func:`kendall_s` after one sort
    of the other side; a pair of two many-valued RDMs by
    :func:`kendall_s_from_ranks` (an O(m log m) inversion count) from each
    RDM's dense ranks, or by scipy's ``kendalltau`` where that count is
    unavailable. Each row is sorted once.
    """
    m = a.shape[1]
    pairs = m * (m - 1) // 2
    codes_a = [few_categories(u) for u in a]
    codes_b = [few_categories(v) for v in b]
    # The many-valued rows of a are sorted (categorical ones count their ties).
    sorted_a = in_threads(
        lambda i: None if codes_a[i] is not None else sort_order(a[i]), range(a.shape[0]), m
    )
    tied_a = [
        tied_pairs(sorted_i[1], m) if codes is None else _category_ties(codes)
        for codes, sorted_i in zip(codes_a, sorted_a, strict=True)
    ]
    # Many-valued rows of a: their dense ranks, element by element, read in the
    # order of each row of b (so b's rows need only their sort, no scatter).
    ranks_a = [None] * a.shape[0]
    for i, sorted_i in enumerate(sorted_a):
        if sorted_i is not None:
            ranks_a[i] = np.empty(m, dtype=np.intp)
            ranks_a[i][sorted_i[0]] = dense_ranks(sorted_i[1], m)
    if all(codes is None for codes in codes_b):  # the sorts are used by kendall_s only
        sorted_a = [None] * a.shape[0]

    def column(j: int) -> tuple[np.ndarray, int]:
        sorted_v = sort_order(b[j])
        tied_v = tied_pairs(sorted_v[1], m)
        sorted_ranks_v = None
        s = np.empty(a.shape[0])
        for i in range(a.shape[0]):
            if codes_a[i] is not None:
                s[i] = kendall_s(codes_a[i], *sorted_v)
            elif codes_b[j] is not None:
                s[i] = kendall_s(codes_b[j], *sorted_a[i])
            elif HAS_COMPILED_COUNT:
                if sorted_ranks_v is None:
                    sorted_ranks_v = dense_ranks(sorted_v[1], m)
                in_v_order = ranks_a[i][sorted_v[0]]
                s[i] = kendall_s_from_ranks(sorted_ranks_v, in_v_order, tied_v, tied_a[i])
            else:  # scipy without its compiled count (tested by switching it off)
                tau_b = scipy.stats.kendalltau(a[i], b[j]).statistic
                scale = np.sqrt(float(pairs - tied_a[i]) * float(pairs - tied_v))
                # S is an integer; tau-b's rounding error is far below 1/2.
                s[i] = 0.0 if scale == 0.0 else np.round(tau_b * scale)
        return s, tied_v

    columns = in_threads(column, range(b.shape[0]), m * a.shape[0])
    s = np.stack([column_s for column_s, _ in columns], axis=1)
    tied_b = np.array([tied_v for _, tied_v in columns], dtype=np.float64)
    return s, np.array(tied_a, dtype=np.float64), tied_b


def compare_rdms(rdms_a: ArrayLike, rdms_b: ArrayLike, method: str = "spearman") -> Array:
    """Compare every RDM of one stack with every RDM of another.

    Parameters
    ----------
    rdms_a : array-like or torch.Tensor of shape (n_pairs,), (n_a, n_pairs) or (n_a, n, n)
        Condensed RDMs (e.g. model RDMs), or a stack of square ones (symmetric,
        zero diagonal, up to rounding), as ``load_kriegeskorte92()`` gives them.
    rdms_b : array-like or torch.Tensor of shape (n_pairs,), (n_b, n_pairs) or (n_b, n, n)
        RDMs over the same conditions (e.g. one per subject).
    method : str, default="spearman"
        "spearman", "pearson", "cosine", "tau-a", "rho-a", "tau-b",
        "corr_cov" or "cosine_cov" (rsatoolbox's "corr" and "kendall" are
        accepted too); see the module notes.

    Returns
    -------
    ndarray or torch.Tensor of shape (n_a, n_b)
        The comparisons, float64 (computed in float64 on the host for every
        input). A numpy array, unless ``rdms_a`` or ``rdms_b`` is a torch
        tensor: then a float64 tensor on that tensor's device (``rdms_a``'s
        if both are), with the same values. If a tensor requires grad, the
        "pearson", "cosine", "corr_cov" and "cosine_cov" comparisons carry
        gradients (those of the same normalised inner products, in float64),
        e.g. back through :func:`~skrep.functional.compute_rdm` of a tensor.
        The rank methods ("spearman", "rho-a", "tau-a", "tau-b") are
        piecewise constant and have no gradient: their tensor has
        ``requires_grad`` False (no ``grad_fn``), so a loss built on them
        alone fails at ``backward()`` rather than training on a zero
        gradient; for a differentiable rank correlation use
        :func:`skrep.functional.soft_spearman`.
    """
    return compare_named(rdms_a, rdms_b, method)


def compare_named(
    rdms_a: ArrayLike,
    rdms_b: ArrayLike,
    method: str,
    names: tuple[str, str] = ("rdms_a", "rdms_b"),
    owner: str = "compare_rdms",
) -> Array:
    """:func:`compare_rdms` for a caller whose arguments have other ``names``, for messages."""
    method = check_comparison(method, owner)
    a = _as_vectors(rdms_a, names[0])
    b = _as_vectors(rdms_b, names[1])
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} has {a.shape[1]} dissimilarities per RDM but {names[1]} has "
            f"{b.shape[1]}; expected RDMs over the same conditions."
        )
    return comparison_result(_compare_vectors(a, b, method, names), rdms_a, rdms_b, method)


def _compare_vectors(
    a: np.ndarray, b: np.ndarray, method: str, names: tuple[str, str] = ("rdms_a", "rdms_b")
) -> np.ndarray:
    """Comparisons of validated (n_a, m) and (n_b, m) float64 vectors.

    ``names`` are the arguments the two stacks came from, for the message of
    an undefined comparison.
    """
    if method == "cosine":
        return _cosine(a, b, names)
    if method in ("pearson", "corr_cov", "cosine_cov"):
        return _chunked_cosine(a, b, method, names)
    if method == "spearman":
        return _spearman(a, b, names)
    n = a.shape[1]
    if method == "rho-a":
        # On centered ranks r - (n + 1) / 2 the formula's constant term cancels.
        result = 12.0 * _rank_products(a, b)[0] / (n**3 - n)
    else:
        s, tied_a, tied_b = _kendall_statistics(a, b)
        pairs = n * (n - 1) / 2
        if method == "tau-a":
            result = s / pairs
        else:  # tau-b; a constant RDM leaves it 0 / 0, undefined
            with np.errstate(invalid="ignore", divide="ignore"):
                result = s / np.sqrt(np.outer(pairs - tied_a, pairs - tied_b))
    if not np.all(np.isfinite(result)):
        i, j = np.argwhere(~np.isfinite(result))[0]
        raise UndefinedComparisonError(
            f"The {method} comparison of RDM {i} of {names[0]} with RDM {j} of {names[1]} is "
            "undefined "
            "(one of them has no variation: all its dissimilarities are equal); expected RDMs "
            "whose dissimilarities vary."
        )
    return result
