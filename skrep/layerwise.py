"""Layer-by-layer similarity matrices: every layer of one network against every layer of another."""

from __future__ import annotations

from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from ._array import convert_like, move_to_device
from ._validation import check_paired_samples
from .exceptions import InvalidParameterError
from .functional.cca import (
    _basis_correlations,
    _centred_basis,
    _prepare_pwcca,
    _pwcca_pair,
    _svcca_basis,
)
from .functional.kernel import _validated_layers, cka_matrix
from .functional.neighbors import _neighbor_indices, _shared_counts
from .functional.regression import _explained_fraction, _prepare_regression

__all__ = ["layer_similarity"]

_KNN_NEIGHBOURS = 10


def _unchanged(A, name):
    return A


def _mean_cca(a, b):
    return float(np.mean(_basis_correlations(a, b)))


def _r2_cca(a, b):
    rho = _basis_correlations(a, b)
    return float(np.mean(rho * rho))


def _mutual_knn(a, b):
    return float(np.mean(_shared_counts(a, b) / _KNN_NEIGHBOURS))


def _jaccard_knn(a, b):
    shared = _shared_counts(a, b)
    return float(np.mean(shared / (2 * _KNN_NEIGHBOURS - shared)))


# Named measures computed pair by pair: (per-layer preparation, done once per
# layer, such as an orthonormal basis or the neighbour sets; the pair function
# of two prepared layers; whether the measure is symmetric).
PAIR_MEASURES = {
    "mean_cca": (_centred_basis, _mean_cca, True),
    "r2_cca": (_centred_basis, _r2_cca, True),
    "svcca": (lambda A, name: _svcca_basis(A, 0.99, name), _mean_cca, True),
    "pwcca": (_prepare_pwcca, _pwcca_pair, False),
    "mutual_knn": (lambda A, name: _neighbor_indices(A, _KNN_NEIGHBOURS, name), _mutual_knn, True),
    "jaccard_knn": (
        lambda A, name: _neighbor_indices(A, _KNN_NEIGHBOURS, name),
        _jaccard_knn,
        True,
    ),
    "linear_regression": (_prepare_regression, _explained_fraction, False),
}

# Named CKA variants, computed from shared Gram statistics.
CKA_MEASURES = {
    "linear_cka": {"kernel": "linear"},
    "debiased_linear_cka": {"kernel": "linear", "debiased": True},
    "rbf_cka": {"kernel": "rbf"},
}


def _estimator_pair_score(estimator, X, Y):
    return float(clone(estimator).fit(X, Y).score(X, Y))


def _measure_plan(measure):
    """(prepare, pair, symmetric) for a name, an estimator or a callable."""
    if isinstance(measure, str):
        if measure not in PAIR_MEASURES:
            raise InvalidParameterError(
                f"Unknown measure {measure!r} for layer_similarity; expected one of "
                f"{sorted([*CKA_MEASURES, *PAIR_MEASURES])}, an estimator with fit and "
                "score, or a callable f(X, Y) -> float."
            )
        return PAIR_MEASURES[measure]
    if hasattr(measure, "fit") and hasattr(measure, "score"):
        return _unchanged, partial(_estimator_pair_score, measure), False
    if callable(measure):
        return _unchanged, measure, False
    raise InvalidParameterError(
        f"The 'measure' argument of layer_similarity must be a name from "
        f"{sorted([*CKA_MEASURES, *PAIR_MEASURES])}, an estimator with fit and score, or "
        f"a callable f(X, Y) -> float; got {measure!r}."
    )


def _fast_cka_options(measure):
    """CKA parameters when ``measure`` can take the shared-Gram route, else None."""
    if isinstance(measure, str):
        return CKA_MEASURES.get(measure)
    from .metrics.cka import CKAEstimator

    if type(measure) is CKAEstimator and measure.preprocessor is None:
        measure._check_params()
        return {
            "kernel": measure.kernel,
            "sigma": measure.sigma,
            "threshold": measure.threshold,
            "debiased": measure.debiased,
            "device": measure.device,
        }
    return None


def layer_similarity(measure, layers_a, layers_b=None, *, n_jobs=None, device=None):
    """Similarity of every pair of layers: a (len(layers_a), len(layers_b)) matrix.

    CKA (by name or a :class:`~skrep.CKAEstimator` without preprocessor)
    computes each layer's kernel statistics once and all pairs from one
    product of vectorised centred Gram matrices (for the linear kernel,
    blockwise, never storing a whole Gram matrix; or through the features
    when layers are narrow). Other measures are computed pair by pair, in
    parallel with joblib.

    Parameters
    ----------
    measure : str, estimator or callable
        A name: "linear_cka", "debiased_linear_cka", "rbf_cka" (threshold 0.8
        of the median distance), "mean_cca", "r2_cca", "svcca" (99% of the
        variance), "pwcca", "mutual_knn", "jaccard_knn" (k = 10) or
        "linear_regression" (R^2 of layers_a[i] from layers_b[j]); or an
        estimator with ``fit(X, Y)`` and ``score(X, Y)`` (cloned and fitted
        per pair; distance metrics give their score, the negative distance);
        or a callable ``f(X, Y) -> float``.
    layers_a : sequence of arrays of shape (n_samples, n_features_k), or a 3-D array
        Representations of the same stimuli (e.g. one network's layers).
    layers_b : sequence of arrays of shape (n_samples, n_features_k), default=None
        Second set; None compares ``layers_a`` with itself (symmetric
        measures then compute each unordered pair once).
    n_jobs : int, default=None
        Number of joblib workers for the pair-by-pair measures.
    device : None, str or torch.device, default=None
        Move every layer to this torch device first ("cuda" for a GPU).

    Returns
    -------
    ndarray of shape (len(layers_a), len(layers_b))
        Entry (i, j) is ``measure(layers_a[i], layers_b[j])``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import layer_similarity
    >>> rng = np.random.default_rng(0)
    >>> layers = [rng.standard_normal((50, 8)) for _ in range(3)]
    >>> layer_similarity("linear_cka", layers).shape
    (3, 3)
    """
    options = _fast_cka_options(measure)
    plan = None if options is not None else _measure_plan(measure)
    first = _validated_layers(layers_a, "layers_a")
    second = None if layers_b is None else _validated_layers(layers_b, "layers_b")
    for j, A in enumerate(second or []):
        check_paired_samples(first[0], A, names=("layers_a[0]", f"layers_b[{j}]"))
    for i, A in enumerate(first[1:], start=1):
        check_paired_samples(first[0], A, names=("layers_a[0]", f"layers_a[{i}]"))
    if options is not None:
        options = dict(options)
        device = options.pop("device", None) or device
    if device is not None:
        first = [move_to_device(A, device) for A in first]
        second = None if second is None else [move_to_device(A, device) for A in second]
    if options is not None:
        return cka_matrix(first, second, **options)
    prepare, pair, symmetric = plan
    first = [convert_like(A, first[0]) for A in first]  # one namespace and device
    rows = [prepare(A, f"layers_a[{i}]") for i, A in enumerate(first)]
    if second is None:
        columns = rows
    else:
        second = [convert_like(A, first[0]) for A in second]
        columns = [prepare(A, f"layers_b[{j}]") for j, A in enumerate(second)]
    pairs = [
        (i, j)
        for i in range(len(rows))
        for j in range(len(columns))
        if not (second is None and symmetric and j < i)
    ]
    values = Parallel(n_jobs=n_jobs)(delayed(pair)(rows[i], columns[j]) for i, j in pairs)
    result = np.empty((len(rows), len(columns)))
    for (i, j), value in zip(pairs, values, strict=True):
        if not np.isfinite(value):
            second_name = f"layers_a[{j}]" if second is None else f"layers_b[{j}]"
            raise ValueError(
                f"The measure returned {value!r} for layers_a[{i}] and {second_name}; "
                "expected a finite similarity."
            )
        result[i, j] = value
        if second is None and symmetric:
            result[j, i] = value
    return result
