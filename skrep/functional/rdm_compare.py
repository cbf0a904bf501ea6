"""Comparisons of RDMs, with rsatoolbox's definitions and numbers.

Every function takes condensed RDMs (upper triangles, row by row, as
:func:`skrep.functional.rdm.compute_rdm` returns them): one vector, or a
stack of them, on each side, and returns the (n_a, n_b) matrix of
comparisons, as ``rsatoolbox.rdm.compare`` does.

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

import functools

import numpy as np
import scipy.stats

from .._array import to_numpy
from .._validation import _shape_str, check_finite
from ..exceptions import InvalidParameterError

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


def check_comparison(method, owner="compare_rdms"):
    """Return the canonical comparison name, or raise InvalidParameterError.

    Parameters
    ----------
    method : object
        A name from ``COMPARISON_METHODS`` or rsatoolbox's "corr" / "kendall".
    owner : str, default="compare_rdms"
        The function or estimator that received it, for the message.

    Returns
    -------
    str
        The canonical name.
    """
    if isinstance(method, str) and (method in COMPARISON_METHODS or method in _ALIASES):
        return _ALIASES.get(method, method)
    raise InvalidParameterError(
        f"The 'method' parameter of {owner} must be one of {list(COMPARISON_METHODS)} "
        f"(or rsatoolbox's 'corr', 'kendall'); got {method!r}."
    )


class UndefinedComparisonError(ValueError):
    """A comparison is undefined because an RDM has no variation."""


def _as_vectors(rdms, name, *, condensed=True):
    rdms = np.asarray(to_numpy(rdms), dtype=np.float64)
    if rdms.ndim == 1:
        rdms = rdms[None, :]
    if rdms.ndim != 2:
        raise ValueError(
            f"{name} must be a condensed RDM (n_pairs,) or a stack of them (n_rdms, n_pairs); "
            f"got shape {_shape_str(rdms.shape)}. Use square_to_condensed for square RDMs."
        )
    check_finite(rdms, name)
    if not condensed:
        return rdms
    n_pairs = rdms.shape[1]
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    if n * (n - 1) // 2 != n_pairs or n_pairs < 2:
        hint = (
            " It looks like a square RDM: convert it with square_to_condensed."
            if rdms.shape[0] == rdms.shape[1]
            else ""
        )
        raise ValueError(
            f"{name} has shape {_shape_str(rdms.shape)}: {n_pairs} dissimilarities per RDM, "
            "which is not n (n - 1) / 2 for n >= 3 conditions; expected condensed RDMs "
            f"(upper triangles, row by row).{hint}"
        )
    return rdms


def _rank_row(v):
    """Ranks of one vector (ties get their mean rank), as scipy's rankdata.

    Data RDMs rarely have ties: then one argsort and an inverse permutation
    give the ranks, about twice as fast as rankdata; rows with ties go to
    rankdata.
    """
    order = np.argsort(v)
    ordered = v[order]
    if np.any(ordered[1:] == ordered[:-1]):
        return scipy.stats.rankdata(v)
    ranks = np.empty(v.size)
    ranks[order] = np.arange(1.0, v.size + 1.0)
    return ranks


def _ranks(rdms):
    if rdms.shape[0] == 1 or rdms.shape[1] < 10_000:
        return np.stack([_rank_row(v) for v in rdms])
    # numpy's sort releases the GIL: rows are ranked in parallel threads.
    from joblib import Parallel, delayed

    rows = Parallel(n_jobs=-1, prefer="threads")(delayed(_rank_row)(v) for v in rdms)
    return np.stack(rows)


def _cosine(a, b, names):
    norm_a = np.linalg.norm(a, axis=1)
    norm_b = np.linalg.norm(b, axis=1)
    for norms, name in ((norm_a, names[0]), (norm_b, names[1])):
        zero = np.flatnonzero(norms == 0.0)
        if zero.size:
            raise UndefinedComparisonError(
                f"RDM {int(zero[0])} of {name} is constant after the method's transform "
                "(all zero), so the comparison is undefined; expected dissimilarities that "
                "vary across pairs."
            )
    return (a @ b.T) / np.outer(norm_a, norm_b)


def _centred(v):
    return v - v.mean(axis=1, keepdims=True)


@functools.lru_cache(maxsize=8)
def _whitening(n_pairs):
    """Cholesky-based whitener of V = (C C') o (C C') for n_pairs dissimilarities."""
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    rows, columns = np.triu_indices(n, 1)
    contrast = np.zeros((n_pairs, n))
    contrast[np.arange(n_pairs), rows] = 1.0
    contrast[np.arange(n_pairs), columns] = -1.0
    shared = contrast @ contrast.T
    return np.linalg.cholesky(shared * shared)


def _whitened(v):
    factor = _whitening(v.shape[1])
    # V^(-1/2) v through the Cholesky factor: a' V^-1 b = (L^-1 a)' (L^-1 b).
    return scipy.linalg.solve_triangular(factor, v.T, lower=True).T


def _tau_a(a, b):
    n = a.shape[1]
    pairs = n * (n - 1) / 2

    def tied_pairs(v):
        _, counts = np.unique(v, return_counts=True)
        return float(np.sum(counts * (counts - 1) / 2))

    result = np.empty((a.shape[0], b.shape[0]))
    for i, u in enumerate(a):
        ties_u = tied_pairs(u)
        for j, v in enumerate(b):
            tau_b = scipy.stats.kendalltau(u, v).statistic
            denominator = np.sqrt((pairs - ties_u) * (pairs - tied_pairs(v)))
            result[i, j] = 0.0 if denominator == 0.0 else tau_b * denominator / pairs
    return result


def compare_rdms(rdms_a, rdms_b, method="spearman"):
    """Compare every RDM of one stack with every RDM of another.

    Parameters
    ----------
    rdms_a : array-like of shape (n_pairs,) or (n_a, n_pairs)
        Condensed RDMs (e.g. model RDMs).
    rdms_b : array-like of shape (n_pairs,) or (n_b, n_pairs)
        Condensed RDMs over the same conditions (e.g. one per subject).
    method : str, default="spearman"
        "spearman", "pearson", "cosine", "tau-a", "rho-a", "tau-b",
        "corr_cov" or "cosine_cov" (rsatoolbox's "corr" and "kendall" are
        accepted too); see the module notes.

    Returns
    -------
    ndarray of shape (n_a, n_b)
        The comparisons, float64.
    """
    method = check_comparison(method)
    a = _as_vectors(rdms_a, "rdms_a")
    b = _as_vectors(rdms_b, "rdms_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"rdms_a has {a.shape[1]} dissimilarities per RDM but rdms_b has {b.shape[1]}; "
            "expected RDMs over the same conditions."
        )
    return _compare_vectors(a, b, method)


def _compare_vectors(a, b, method):
    """Comparisons of validated (n_a, m) and (n_b, m) float64 vectors."""
    names = ("rdms_a", "rdms_b")
    if method == "cosine":
        return _cosine(a, b, names)
    if method == "pearson":
        return _cosine(_centred(a), _centred(b), names)
    if method == "spearman":
        # The rank arrays are ours: centre them in place (no second n_rdms x
        # n_pairs copy, which at 50 RDMs of 1000 stimuli is 200 MB).
        ranks_a, ranks_b = _ranks(a), _ranks(b)
        ranks_a -= ranks_a.mean(axis=1, keepdims=True)
        ranks_b -= ranks_b.mean(axis=1, keepdims=True)
        return _cosine(ranks_a, ranks_b, names)
    if method == "cosine_cov":
        return _cosine(_whitened(a), _whitened(b), names)
    if method == "corr_cov":
        return _cosine(_whitened(_centred(a)), _whitened(_centred(b)), names)
    if method == "tau-b":
        result = np.array(
            [[scipy.stats.kendalltau(u, v).statistic for v in b] for u in a], dtype=np.float64
        )
    elif method == "tau-a":
        result = _tau_a(a, b)
    else:  # rho-a
        n = a.shape[1]
        result = 12.0 * (_ranks(a) @ _ranks(b).T) / (n**3 - n) - 3.0 * (n + 1) / (n - 1)
    if not np.all(np.isfinite(result)):
        i, j = np.argwhere(~np.isfinite(result))[0]
        raise UndefinedComparisonError(
            f"The {method} comparison of RDM {i} of rdms_a with RDM {j} of rdms_b is undefined "
            "(one of them has no variation: all its dissimilarities are equal); expected RDMs "
            "whose dissimilarities vary."
        )
    return result
