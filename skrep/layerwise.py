"""Layer-by-layer matrices: every layer of one network against every layer of another.

:func:`layer_similarity` runs on the many-networks engine (:mod:`skrep.engine`),
like :func:`skrep.pairwise_distances`: each layer is prepared once (a CKA
layer's centered features, a CCA layer's orthonormal basis, a metric's
whitening...), blocks of pairs are computed together (CKA's Gram statistics,
the shape metrics' Gram products and batched SVDs), in parallel with joblib,
with a progress bar, an optional cache and held-out layers.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from ._typing import Device
from ._validation import _shape_str, check_representation
from .engine import (
    EstimatorMeasure,
    FunctionMeasure,
    MeasureMatrix,
    PairwiseMeasure,
    compute_pairs,
)
from .exceptions import InvalidParameterError
from .functional._streaming_hsic import LinearHSICStream
from .metrics import (
    CCAEstimator,
    CKAEstimator,
    JaccardKNNEstimator,
    MutualKNNEstimator,
    PWCCAEstimator,
    RegressionR2Estimator,
    SVCCAEstimator,
)

__all__ = [
    "layer_similarity",
    "streaming_layer_similarity",
    "activation_batches",
    "NAMED_MEASURES",
]

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


#: The measures :func:`streaming_layer_similarity` accumulates exactly, and their ``debiased``.
STREAMING_MEASURES = {"linear_cka": False, "debiased_linear_cka": True}


def _two_sided(batch: Any) -> bool:
    """A batch ``(layers_a, layers_b)``: two mappings, or a tuple of two lists of arrays.

    (A list of layers holds arrays, never mappings; a tuple of two lists of
    arrays, or of a mapping and a list, is taken for two sides.)
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        return False
    if all(isinstance(side, Mapping) for side in batch):
        return True
    return isinstance(batch, tuple) and all(
        isinstance(side, Mapping)
        or (isinstance(side, (list, tuple)) and side and all(hasattr(A, "ndim") for A in side))
        for side in batch
    )


def _side_layers(layers: Any, label: str) -> tuple[list | None, list]:
    """(keys or None, arrays) of one side of a batch: a mapping's items, or a sequence."""
    if isinstance(layers, Mapping):
        return list(layers.keys()), list(layers.values())
    if (
        hasattr(layers, "ndim")
        or isinstance(layers, (str, bytes))
        or not isinstance(layers, Iterable)
    ):
        raise TypeError(
            f"{label} is a {type(layers).__name__}; expected a mapping of layer names to "
            "(n_batch, n_features) arrays (e.g. a dict from skrep's extraction), a list of "
            "such arrays (one per layer), or a tuple (layers_a, layers_b) of two of them."
        )
    return None, list(layers)


def _layer_indices(selection: Sequence | None, keys: list, label: str) -> list[int]:
    if selection is None:
        return list(range(len(keys)))
    missing = [name for name in selection if name not in keys]
    if missing:
        raise ValueError(
            f"{label} names layers {missing} that the first batch lacks; it has {keys}."
        )
    return [keys.index(name) for name in selection]


def _describe(layout: list) -> str:
    sides = [repr(keys) if mapping else f"a list of {keys} arrays" for mapping, keys in layout]
    return sides[0] if len(sides) == 1 else "(" + ", ".join(sides) + ")"


def streaming_layer_similarity(
    batches: Iterable[Any],
    measure: str = "linear_cka",
    *,
    rows: Sequence | None = None,
    columns: Sequence | None = None,
) -> MeasureMatrix:
    """Linear CKA between every pair of layers, over stimuli that arrive in batches.

    Each batch holds the activations of every layer to the same stimuli; the
    feature-space statistics of every pair of layers are accumulated (each
    batch centered on its own mean and merged with Chan et al.'s pairwise
    update, see :meth:`skrep.CKAEstimator.partial_fit`), so the result equals
    :func:`layer_similarity` on all stimuli at once (to rounding) while only
    one batch of each layer is held. Memory: ``p_a p_b`` float64 per pair of
    layers compared and ``p_a^2`` per layer: ``sum_{a <= b} p_a p_b`` for
    every pair of one network's layers (50 layers of 512 units: 2.5 GiB),
    independent of the number of stimuli.

    Parameters
    ----------
    batches : iterable of batches
        One item per batch of stimuli (any iterable, a generator included,
        read once). A batch is a mapping of layer names to activations of
        shape (n_batch, n_features_k) (e.g. the dict of one batch of a
        PyTorch forward hook; numpy arrays or CPU tensors), or a list of
        such arrays, one per layer: every layer against every layer. Or a
        tuple ``(layers_a, layers_b)`` of two of them (e.g. two networks'
        layers on the same stimuli): the ``layers_a x layers_b`` matrix, as
        ``layer_similarity(measure, layers_a, layers_b)``. Every batch has
        the form, the layers (in order) and the widths of the first.
    measure : {"linear_cka", "debiased_linear_cka"}, default="linear_cka"
        Linear CKA, or its debiased form (Song et al. 2012), both exact.
    rows, columns : sequence of layer names (or positions), default=None
        Layers of the rows and the columns of the result (the mapping keys,
        or positions for lists; for ``(layers_a, layers_b)`` batches, rows
        among ``layers_a`` and columns among ``layers_b``); None takes every
        layer. Only the pairs compared are accumulated.

    Returns
    -------
    MeasureMatrix of shape (len(rows), len(columns))
        CKA over every stimulus of every batch (``kind="similarity"``, the
        layer names as ``row_names`` and ``column_names`` for mappings).

    Raises
    ------
    ValueError
        No batch, fewer than 4 stimuli in all, a batch whose layers differ in
        rows, a layer whose width changes, or a batch whose layers differ from
        the first batch's.

    See Also
    --------
    layer_similarity : The same matrix from activations held in memory.
    activation_batches : Batches of rows of stored (memory-mapped) activations.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import layer_similarity, streaming_layer_similarity
    >>> rng = np.random.default_rng(0)
    >>> def batches():
    ...     for seed in range(5):  # 5 batches of 100 stimuli, made on the fly
    ...         z = np.random.default_rng(seed).standard_normal((100, 4))
    ...         yield {"conv": z @ np.ones((4, 8)) + z[:, :1] ** 2, "fc": np.tanh(z)}
    >>> cka = streaming_layer_similarity(batches())
    >>> cka.shape, cka.row_names
    ((2, 2), ['conv', 'fc'])
    >>> full = {k: np.concatenate([b[k] for b in batches()]) for k in ("conv", "fc")}
    >>> bool(np.allclose(cka, layer_similarity("linear_cka", full), atol=1e-12))
    True
    >>> pairs = ((b, {"logits": b["fc"][:, :2]}) for b in batches())  # two networks
    >>> streaming_layer_similarity(pairs).shape
    (2, 1)
    """
    if measure not in STREAMING_MEASURES:
        raise InvalidParameterError(
            f"The 'measure' argument of streaming_layer_similarity must be one of "
            f"{sorted(STREAMING_MEASURES)} (accumulated exactly over batches); got {measure!r}."
        )
    stream = first = None
    for k, batch in enumerate(batches):
        parts = list(batch) if _two_sided(batch) else [batch]
        labels = [
            f"batches[{k}]" + (f"[{i}]" if len(parts) == 2 else "") for i in range(len(parts))
        ]
        sides = [_side_layers(part, label) for part, label in zip(parts, labels, strict=True)]
        layout = [(names is not None, len(found) if names is None else names)
                  for names, found in sides]  # fmt: skip
        if first is None:
            first = layout
            keys = [list(range(len(found))) if names is None else names for names, found in sides]
            for label, side in zip(labels, keys, strict=True):
                if not side:
                    raise ValueError(f"{label} has no layers; expected at least one array.")
            offset = len(keys[0]) if len(keys) == 2 else 0
            row_index = _layer_indices(rows, keys[0], "rows")
            column_index = [offset + i for i in _layer_indices(columns, keys[-1], "columns")]
        elif layout != first:
            raise ValueError(
                f"batches[{k}] has the layers {_describe(layout)}, but batches[0] had "
                f"{_describe(first)}; expected the same layers, in the same order, in every batch."
            )
        names = [
            f"{label}[{key!r}]" for label, side in zip(labels, keys, strict=True) for key in side
        ]
        arrays = [A for _, side in sides for A in side]
        checked = [check_representation(A, name, min_samples=1)
                   for A, name in zip(arrays, names, strict=True)]  # fmt: skip
        if len({A.shape[0] for A in checked}) > 1:
            shapes = ", ".join(
                f"{n}: {_shape_str(A.shape)}" for n, A in zip(names, checked, strict=True)
            )
            raise ValueError(
                f"The layers of batches[{k}] have different numbers of rows ({shapes}); "
                "expected the same stimuli in every layer of a batch."
            )
        if stream is None:
            widths = [A.shape[1] for A in checked]
            pairs = sorted({(a, b) for a in row_index for b in column_index})
            sets = ["layers_a", "layers_b"] if len(keys) == 2 else [""]
            layer_names = [f"layer {key!r}" + (f" of {s}" if s else "")
                           for s, side in zip(sets, keys, strict=True) for key in side]  # fmt: skip
            stream = LinearHSICStream(widths, pairs, STREAMING_MEASURES[measure], layer_names)
        for A, name, width in zip(checked, names, widths, strict=True):
            if A.shape[1] != width:
                raise ValueError(
                    f"{name} has {A.shape[1]} features, but batches[0] had {width}; expected "
                    "the same width of each layer in every batch."
                )
        stream.update(checked)
    if stream is None:
        raise ValueError("batches yielded no batch; expected at least one batch of activations.")
    values = stream.cka(row_index, column_index)
    row_names = [keys[0][i] for i in row_index] if first[0][0] else None
    column_names = [keys[-1][i - offset] for i in column_index] if first[-1][0] else None
    return MeasureMatrix(np.asarray(values), "similarity", measure, row_names, column_names)


def activation_batches(
    activations: Mapping[Any, Any], batch_size: int = 1000
) -> Iterator[dict[Any, np.ndarray]]:
    """Batches of rows of stored activations, one layer's rows at a time in memory.

    Feeds :func:`streaming_layer_similarity` from activations that do not fit
    in memory, such as the read-only memory-mapped ``.npy`` files that
    :func:`skrep.extraction.extract_activations` writes with ``out_dir``: each
    batch reads ``batch_size`` rows of every layer and nothing else.

    Parameters
    ----------
    activations : mapping of layer names to arrays of shape (n_stimuli, n_features_k)
        The layers (numpy arrays, memmaps, or anything sliced by rows).
    batch_size : int, default=1000
        Stimuli per batch (the last batch may be smaller).

    Yields
    ------
    dict
        The layer names mapped to ``batch_size`` rows of each (numpy arrays).

    Raises
    ------
    ValueError
        Layers with different numbers of rows, or an empty mapping.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import activation_batches, layer_similarity, streaming_layer_similarity
    >>> rng = np.random.default_rng(0)
    >>> layers = {"a": rng.standard_normal((250, 6)), "b": rng.standard_normal((250, 3))}
    >>> [len(batch["a"]) for batch in activation_batches(layers, 100)]
    [100, 100, 50]
    >>> streamed = streaming_layer_similarity(activation_batches(layers, 100))
    >>> bool(np.allclose(streamed, layer_similarity("linear_cka", layers), atol=1e-12))
    True
    """
    if (
        isinstance(batch_size, (bool, np.bool_))
        or not isinstance(batch_size, numbers.Integral)
        or batch_size < 1
    ):
        raise InvalidParameterError(f"batch_size must be an int >= 1; got {batch_size!r}.")
    if not isinstance(activations, Mapping) or not activations:
        raise ValueError(
            "activations must be a non-empty mapping of layer names to arrays of shape "
            f"(n_stimuli, n_features); got {type(activations).__name__}."
        )
    lengths = {name: len(layer) for name, layer in activations.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(
            f"The layers of activations hold different numbers of stimuli {lengths}; "
            "expected the same stimuli (rows) in every layer."
        )
    n = next(iter(lengths.values()))
    for start in range(0, n, int(batch_size)):
        yield {
            name: np.asarray(layer[start : start + int(batch_size)])
            for name, layer in activations.items()
        }
