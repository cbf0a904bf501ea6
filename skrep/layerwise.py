"""Layer-by-layer matrices: every layer of one network against every layer of another.

:func:`layer_similarity` runs on the many-networks engine (:mod:`skrep.engine`),
like :func:`skrep.pairwise_distances`: each layer is prepared once (a CKA
layer's centered features, a CCA layer's orthonormal basis, a metric's
whitening...), blocks of pairs are computed together (CKA's Gram statistics,
the shape metrics' Gram products and batched SVDs), in parallel with joblib,
with a progress bar, an optional cache and held-out layers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sklearn.base import clone

from ._typing import Device
from .engine import (
    EstimatorMeasure,
    FunctionMeasure,
    MeasureMatrix,
    PairwiseMeasure,
    compute_pairs,
)
from .exceptions import InvalidParameterError
from .metrics import (
    CCAEstimator,
    CKAEstimator,
    JaccardKNNEstimator,
    MutualKNNEstimator,
    PWCCAEstimator,
    RegressionR2Estimator,
    SVCCAEstimator,
)

__all__ = ["layer_similarity", "NAMED_MEASURES"]

#: The measures :func:`layer_similarity` knows by name, as the estimators they stand for.
NAMED_MEASURES = {
    "linear_cka": CKAEstimator(),
    "debiased_linear_cka": CKAEstimator(debiased=True),
    "rbf_cka": CKAEstimator("rbf"),
    "mean_cca": CCAEstimator("mean"),
    "r2_cca": CCAEstimator("r2"),
    "svcca": SVCCAEstimator(0.99),
    "pwcca": PWCCAEstimator(),
    "mutual_knn": MutualKNNEstimator(10),
    "jaccard_knn": JaccardKNNEstimator(10),
    "linear_regression": RegressionR2Estimator(),
}


def _named_choices() -> str:
    return (
        f"one of {sorted(NAMED_MEASURES)}, an estimator with fit and score (every skrep "
        "estimator), or a callable f(X, Y) -> float"
    )


def _resolve(measure: Any, device: Device) -> tuple[PairwiseMeasure, str]:
    """The engine measure for ``measure`` and its label in the result."""
    if isinstance(measure, str):
        if measure not in NAMED_MEASURES:
            raise InvalidParameterError(
                f"Unknown measure {measure!r} for layer_similarity; expected {_named_choices()}."
            )
        resolved = clone(NAMED_MEASURES[measure])
        if device is not None:
            resolved.set_params(device=device)
        return resolved, measure
    if isinstance(measure, type):
        raise InvalidParameterError(
            f"The 'measure' argument of layer_similarity must be an instance; got the class "
            f"{measure.__name__} (use {measure.__name__}())."
        )
    if isinstance(measure, PairwiseMeasure):
        resolved = clone(measure) if hasattr(measure, "get_params") else measure
        params = resolved.get_params(deep=False) if hasattr(resolved, "get_params") else {}
        if device is not None and "device" in params and params["device"] is None:
            resolved.set_params(device=device)
        return resolved, repr(measure)
    if hasattr(measure, "fit") and hasattr(measure, "score"):
        return EstimatorMeasure(measure, device=device), repr(measure)
    if callable(measure):
        label = getattr(measure, "__name__", repr(measure))
        return FunctionMeasure(measure, device=device), label
    raise InvalidParameterError(
        f"The 'measure' argument of layer_similarity must be {_named_choices()}; got {measure!r}."
    )


def layer_similarity(
    measure: str | Any | Callable[[Any, Any], float],
    layers_a: Any,
    layers_b: Any = None,
    *,
    layers_a_test: Any = None,
    layers_b_test: Any = None,
    n_jobs: int | None = None,
    device: Device = None,
    verbose: bool = False,
    cache_dir: str | os.PathLike | None = None,
    block_size: int | None = None,
) -> MeasureMatrix | tuple[MeasureMatrix, MeasureMatrix]:
    """A measure between every pair of layers: a (len(layers_a), len(layers_b)) matrix.

    Similarity measures give similarities; distance metrics (e.g.
    :class:`~skrep.metrics.LinearMetric`) give distances, through the same
    batched path as :func:`skrep.pairwise_distances`. The result says which
    (``result.kind``). Each layer is prepared once and blocks of pairs are
    computed together: CKA (by name or a :class:`~skrep.CKAEstimator`) from
    one set of Gram statistics per block (for the linear kernel blockwise,
    never storing a whole Gram matrix, or through the features when layers
    are narrow), the CCA family from one orthonormal basis per layer, the
    kNN measures from one set of neighbours per layer.

    Parameters
    ----------
    measure : str, estimator or callable
        A name: "linear_cka", "debiased_linear_cka", "rbf_cka" (threshold 0.8
        of the median distance), "mean_cca", "r2_cca", "svcca" (99% of the
        variance), "pwcca", "mutual_knn", "jaccard_knn" (k = 10) or
        "linear_regression" (R^2 of layers_a[i] from layers_b[j]); see
        :data:`NAMED_MEASURES` for the estimators they stand for. Or any
        skrep estimator (its ``preprocessor`` is fitted once per layer; a
        distance metric gives distances, a similarity estimator its score),
        any other estimator with ``fit(X, Y)`` and ``score(X, Y)`` (cloned
        and fitted per pair; its score), or a callable ``f(X, Y) -> float``.
    layers_a : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        Representations of the same stimuli (e.g. one network's layers); a
        mapping's keys name the rows.
    layers_b : same kinds as ``layers_a``, default=None
        Second set; None compares ``layers_a`` with itself (symmetric
        measures then compute each unordered pair once; distances of a layer
        to itself are 0).
    layers_a_test, layers_b_test : same kinds as ``layers_a``, default=None
        Held-out stimuli of the same layers (``layers_b_test`` with
        ``layers_b``). Each pair is fitted on the training layers (the
        alignment of a metric, the preprocessor) and measured on the
        held-out ones too; the result is then a (train, test) pair.
    n_jobs : int, default=None
        Number of joblib workers (None: 1 unless in a ``joblib.parallel_config``
        context; -1 all CPUs). Any joblib backend, dask included.
    device : None, str or torch.device, default=None
        Compute with torch on this device ("cuda" for a GPU); an estimator
        with its own ``device`` keeps it.
    verbose : bool, default=False
        Show a progress bar over pairs.
    cache_dir : str or path-like, default=None
        Store finished blocks here and resume from them (see
        :func:`skrep.pairwise_distances`).
    block_size : int, default=None
        Layers per block; None sizes blocks from scikit-learn's
        ``working_memory``.

    Returns
    -------
    MeasureMatrix of shape (len(layers_a), len(layers_b))
        Entry (i, j) is the measure between ``layers_a[i]`` and
        ``layers_b[j]`` (a numpy array with ``kind``, ``measure``,
        ``row_names`` and ``column_names``). With held-out layers, a pair
        ``(train, test)`` of them.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import LinearMetric, layer_similarity
    >>> rng = np.random.default_rng(0)
    >>> layers = [rng.standard_normal((50, 8)) for _ in range(3)]
    >>> cka = layer_similarity("linear_cka", layers)
    >>> cka.shape, cka.kind
    ((3, 3), 'similarity')
    >>> layer_similarity(LinearMetric(), layers).kind
    'distance'
    """
    engine_measure, label = _resolve(measure, device)
    if layers_b is None and layers_b_test is not None:
        raise ValueError("layers_b_test was given without layers_b.")
    result = compute_pairs(
        engine_measure,
        layers_a,
        layers_b,
        layers_a_test,
        layers_b_test,
        n_jobs=n_jobs,
        verbose=verbose,
        cache_dir=cache_dir,
        block_size=block_size,
        arg_names=("layers_a", "layers_b", "layers_a_test", "layers_b_test"),
    )
    square = layers_b is None
    matrices = [result.train] if result.test is None else [result.train, result.test]
    column_keys = result.row_keys if square else result.column_keys
    wrapped = [
        MeasureMatrix(matrix, result.kind, label, result.row_keys, column_keys)
        for matrix in matrices
    ]
    return wrapped[0] if len(wrapped) == 1 else tuple(wrapped)
