"""Activations of a PyTorch model's layers for a set of stimuli, with forward hooks."""

from __future__ import annotations

import contextlib
import numbers
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import RandomState
from .arguments import extraction_arguments, extraction_key
from .layers import resolve_layer_selection, resolve_layers
from .outputs import POOLS, NotPerStimulusError, padded_tensor, pool_activation, select_tensor
from .projection import SparseProjection, draw_seed, layer_seed, projection_matrix
from .state import LayerRecorder, check_run_device, model_device, prepared_model
from .stimuli import StimulusSource, batch_input, batch_rows
from .store import DiskStore, MemoryStore

if TYPE_CHECKING:
    import torch

__all__ = ["extract_activations", "extraction_cache_key"]


def _check_options(
    batch_size: int,
    pool: Any,
    max_features: int | None,
    select: Any,
    transform: Any,
) -> None:
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool):
        raise TypeError(f"batch_size must be a positive int; got {batch_size!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size}.")
    if pool is not None and not callable(pool) and pool not in POOLS:
        raise ValueError(
            f"pool must be None, one of {POOLS} or a callable pool(x, dims); got {pool!r}."
        )
    if max_features is not None and (
        not isinstance(max_features, numbers.Integral)
        or isinstance(max_features, bool)
        or max_features < 1
    ):
        raise ValueError(f"max_features must be None or a positive int; got {max_features!r}.")
    if transform is not None and not callable(transform):
        raise TypeError(f"transform must be None or a callable; got {transform!r}.")
    choosers = select.items() if isinstance(select, Mapping) else [("", select)]
    for layer, chooser in choosers:
        if chooser is not None and not callable(chooser):
            where = f"select[{layer!r}]" if layer else "select"
            raise TypeError(
                f"{where} must be None or a callable select(output) -> tensor; got {chooser!r}."
            )


def _sequence_first(module: Any) -> bool:
    """Whether a module returns (sequence, batch, ...): torch's batch_first=False layers."""
    for candidate in (module, getattr(module, "self_attn", None)):
        if getattr(candidate, "batch_first", None) is False:
            return True
    layers = getattr(module, "layers", None)  # TransformerEncoder / Decoder
    first = next(iter(layers), None) if hasattr(layers, "__iter__") else None
    return first is not None and _sequence_first(first)


def _check_model(model: Any) -> None:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}.")


def _keyed_options(
    pool: Any,
    channel_axis: int | None,
    max_features: int | None,
    random_state: RandomState,
    transform: Any,
    select: Any,
) -> dict[str, Any]:
    """The options an extraction's values depend on (a seed drawn at random is not one)."""
    seeded = isinstance(random_state, numbers.Integral) and max_features is not None
    return {
        "pool": pool,
        "channel_axis": channel_axis,
        "max_features": max_features,
        "random_state": int(random_state) if seeded else None,
        "transform": transform,
        "select": select,
    }


def extraction_cache_key(
    model: torch.nn.Module,
    stimuli: Any,
    layers: str | Sequence[str],
    *,
    pool: str | Callable[..., Any] | None = None,
    channel_axis: int | None = None,
    max_features: int | None = None,
    random_state: RandomState = None,
    transform: Callable[[Any], Any] | None = None,
    select: Callable[[Any], Any] | Mapping[str, Callable[[Any], Any]] | None = None,
    stimuli_key: str | None = None,
) -> str:
    """A key of what :func:`extract_activations` would return: a cache folder's name.

    It covers the model's architecture and parameter values, the stimuli (see
    the ``out_dir`` notes of :func:`extract_activations`), the resolved layers
    and the options the values depend on (not ``batch_size``, ``device`` or
    ``verbose``).

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    stimuli : array, tensor, Dataset, DataLoader or list of batches
        The stimuli.
    layers : str or list of str
        The layer selection.
    pool : str, callable or None, default=None
        As in :func:`extract_activations`.
    channel_axis : int, optional
        As in :func:`extract_activations`.
    max_features : int, optional
        As in :func:`extract_activations`.
    random_state : int, RandomState, Generator or None, default=None
        As in :func:`extract_activations` (a seed drawn at random is not part
        of the key).
    transform : callable, optional
        As in :func:`extract_activations` (by its code).
    select : callable or dict of str -> callable, optional
        As in :func:`extract_activations` (by its code).
    stimuli_key : str, optional
        As in :func:`extract_activations`.

    Returns
    -------
    str
        Hexadecimal hash.
    """
    import torch

    if isinstance(stimuli, Iterator) and stimuli_key is None:
        raise TypeError(
            "stimuli is a one-shot iterator (e.g. a generator): a key would consume its first "
            "batch; pass an array, tensor, dict of arrays, Dataset, DataLoader or list of batches."
        )
    source = StimulusSource(stimuli, 1)
    names = resolve_layers(model, layers)
    parameter = next(iter(model.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.get_default_dtype()
    options = _keyed_options(pool, channel_axis, max_features, random_state, transform, select)
    options["dtype"] = str(dtype)
    identity = source.identity() if stimuli_key is None else str(stimuli_key)
    return extraction_key(extraction_arguments(model, identity, names, options))


def _to_model_input(batch: Any, device: Any, dtype: Any, transform: Any) -> Any:
    import torch

    def move(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            # a read-only batch (of a memory-mapped file) is copied: torch wants writable memory
            value = np.ascontiguousarray(value)
            value = torch.from_numpy(value if value.flags.writeable else value.copy())
        if isinstance(value, torch.Tensor):
            return value.to(device)
        return value

    def cast(value: Any) -> Any:
        # floating inputs and uint8 images take the model's dtype; other integers (token
        # ids for an embedding) stay integers
        if isinstance(value, torch.Tensor) and (
            value.is_floating_point() or value.dtype == torch.uint8
        ):
            return value.to(dtype)
        return value

    inputs = batch_input(batch)
    if isinstance(inputs, Mapping):
        inputs = {key: move(value) for key, value in inputs.items()}
    else:
        inputs = move(inputs)
    if transform is not None:
        inputs = transform(inputs)
    if isinstance(inputs, Mapping):
        return {key: cast(value) for key, value in inputs.items()}
    return cast(inputs)


def _progress(total: int | None, verbose: bool, initial: int) -> Any:
    if not verbose:
        return contextlib.nullcontext(None)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="stimuli", desc="extract_activations")


def _batches_checked(source: StimulusSource, start: int) -> Iterator[tuple[int, Any, int]]:
    for row, batch in source.batches(start):
        yield row, batch, batch_rows(batch)


def extract_activations(
    model: torch.nn.Module,
    stimuli: Any,
    layers: str | Sequence[str],
    *,
    batch_size: int = 64,
    device: Any = None,
    pool: str | Callable[..., Any] | None = None,
    channel_axis: int | None = None,
    max_features: int | None = None,
    random_state: RandomState = None,
    out_dir: str | os.PathLike[str] | None = None,
    transform: Callable[[Any], Any] | None = None,
    select: Callable[[Any], Any] | Mapping[str, Callable[[Any], Any]] | None = None,
    verbose: bool = False,
    stimuli_key: str | None = None,
) -> dict[str, np.ndarray]:
    """Record the activations of a PyTorch model's layers for every stimulus.

    Forward hooks record the selected modules' outputs batch by batch, in
    :func:`torch.inference_mode` with the model in eval mode. Each output is
    reduced to one row of features per stimulus (flattened or pooled), and
    optionally projected to ``max_features`` dimensions on the device, so a
    wide layer is never held whole. Afterwards, and also when a batch raises,
    every hook is removed and every module's train/eval state restored.

    Parameters
    ----------
    model : torch.nn.Module
        Any PyTorch model.
    stimuli : array, tensor, dict of arrays, Dataset, DataLoader or iterable of batches
        A numpy array or torch tensor with stimuli along the first axis
        (batched by ``batch_size``); a dict of them with one row per stimulus
        each, e.g. a tokenizer's output (batched by rows, passed as keyword
        arguments); a map-style :class:`torch.utils.data.Dataset`
        (batched by ``batch_size`` in order); a :class:`~torch.utils.data.DataLoader`
        that does not shuffle (its own batches); or any iterable of batches. A
        batch is a tensor or array (``model(batch)``), a dict of them
        (``model(**batch)``, as for language models; its ``attention_mask``
        guides token pooling), or a tuple or list whose first element is the
        input (labels after it are ignored).
    layers : str or list of str
        Module names from ``model.named_modules()`` (``"features.3"``), glob
        patterns (``"features.*"``, ``"layer?"``), ``"leaves"`` (modules without
        children) or ``"all"``. An unknown name is an error listing the
        available names, closest first.
    batch_size : int, default=64
        Stimuli per forward pass, for arrays, tensors and datasets.
    device : str or torch.device, optional
        Where to run. None runs where the model's parameters are. Another
        device moves the model there for the call and back afterwards.
    pool : {None, "mean", "max", "first", "last"} or callable, default=None
        None flattens each output after the stimulus axis. Otherwise every axis
        but the stimulus and channel axes is reduced: ``"mean"`` / ``"max"``
        (over real tokens only when the batch has an ``attention_mask``),
        ``"first"`` / ``"last"`` (the first or last real token of a sequence),
        or ``pool(x, dims)``, a reduction such as :func:`torch.amax` called with
        the tuple of axes to reduce.
    channel_axis : int, optional
        The axis kept by pooling. By default 1 for 4-D and 5-D outputs
        (``(N, C, H, W)``, ``(N, C, D, H, W)``, whatever module produced them)
        and for 3-D outputs of modules whose class name ends in ``1d``
        (``Conv1d``, ``MaxPool1d``, ...: ``(N, C, L)``); -1 for other 3-D
        outputs (sequences ``(N, T, D)`` pool over tokens). Pass it for
        anything else, e.g. a ReLU after a ``Conv1d``.
    max_features : int, optional
        Project every layer wider than this to ``max_features`` dimensions with
        a sparse random projection (the scheme of scikit-learn's
        :class:`~sklearn.random_projection.SparseRandomProjection`, density
        ``1 / sqrt(n_features)``), batch by batch on the device. The result
        does not depend on ``batch_size``. To choose it,
        :func:`sklearn.random_projection.johnson_lindenstrauss_min_dim` gives
        the dimension that keeps all pairwise distances between ``n`` stimuli
        within a factor ``1 +- eps`` with high probability (for 1,000 stimuli:
        1,594 dimensions at ``eps=0.2``, 5,920 at ``eps=0.1``); DeepJuice
        chooses its projection's size by this bound. Layers at most this wide
        are kept as they are.
    random_state : int, RandomState, Generator or None, default=None
        Seed of the projections. Each layer's projection is drawn from this
        seed and the layer's name, so it does not depend on the other layers.
    out_dir : path, optional
        Stream each layer into ``out_dir/<layer>.npy`` and return read-only
        memory maps, so the output may exceed memory. A record beside the files
        lets a rerun with the same arguments resume an interrupted run (only
        the batches not yet written are computed) or return a finished one at
        once; a folder holding another extraction is an error.
    transform : callable, optional
        Applied to each batch's input after it is moved to the device (a
        tensor, or a dict of them) and before floating inputs are cast to the
        model's parameter dtype (integer inputs, e.g. token ids, are kept).
    select : callable or dict of str -> callable, optional
        ``select(output)`` returns the tensor to record from a module's output
        (a dict gives one per layer). By default the first tensor of a tensor,
        tuple, list, dict or dataclass output (e.g. a transformer block's
        hidden states or a Hugging Face output's first field).
    verbose : bool, default=False
        Show a tqdm progress bar over stimuli.
    stimuli_key : str, optional
        With ``out_dir``: a key of the stimuli's content, used instead of the
        one computed (see :func:`stimuli_key`). Arrays, tensors, dicts, lists
        and ``TensorDataset`` are keyed by every value and memory-mapped files
        by their path, size, time and sampled rows; other datasets only by
        their first and last items and loaders and generators by their first
        batch, so other stimuli that agree there are not told apart: give
        those a key of your own (e.g. a hash of the file list).

    Returns
    -------
    dict of str -> numpy.ndarray of shape (n_stimuli, n_features)
        One array per layer, in the order of ``layers`` (float32 for half
        precision models, else the model's dtype); read-only memory maps when
        ``out_dir`` is given. When a module runs several times in one forward
        pass, its last output is recorded.

    Raises
    ------
    ValueError
        For stimuli without rows, a layer that never runs in the forward pass,
        outputs whose first axis is not the batch or whose width changes
        between batches, non-finite activations (the layer and stimuli are
        named), or an ``out_dir`` holding files of another run.

    See Also
    --------
    skrep.benchmark_models : Extraction and scoring of many models.
    """
    import torch

    _check_model(model)
    _check_options(batch_size, pool, max_features, select, transform)
    source = StimulusSource(stimuli, batch_size)
    names, optional = resolve_layer_selection(model, layers)
    if isinstance(select, Mapping):
        unknown = sorted(set(select) - set(names))
        if unknown:
            raise ValueError(f"select names layers {unknown} that are not extracted ({names}).")
    run_device = check_run_device(device) if device is not None else model_device(model)
    parameter = next(iter(model.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.get_default_dtype()
    seed = draw_seed(random_state) if max_features is not None else None
    store: MemoryStore | DiskStore
    if out_dir is None:
        store = MemoryStore(names, source.n_stimuli)
    else:
        options = _keyed_options(pool, channel_axis, max_features, random_state, transform, select)
        options["dtype"] = str(dtype)
        identity = source.identity() if stimuli_key is None else str(stimuli_key)
        arguments = extraction_arguments(model, identity, names, options)
        store = DiskStore(out_dir, names, source.n_stimuli, arguments, seed)
        if store.complete:
            return store.finish()
        seed = store.seed
    modules = dict(model.named_modules())
    projections: dict[str, SparseProjection | None] = {}

    def features(layer: str, output: Any, mask: Any, rows: int) -> np.ndarray:
        chooser = select.get(layer) if isinstance(select, Mapping) else select
        if chooser is None and _sequence_first(modules[layer]):
            raise ValueError(
                f"layer {layer!r} is a {type(modules[layer]).__name__} with batch_first=False: "
                "its output has the sequence first and the stimuli second; pass "
                "select=lambda output: output[0].transpose(0, 1) (or the tensor you want, "
                "stimuli first) for it."
            )
        tensor = padded_tensor(select_tensor(output, chooser, layer), mask)
        if tensor.ndim == 0 or tensor.shape[0] != rows:
            raise NotPerStimulusError(
                f"layer {layer!r} returned shape {tuple(tensor.shape)} for a batch of {rows} "
                "stimuli; expected the stimuli along the first axis (for a sequence model "
                "with batch_first=False, pass select= or channel_axis=)."
            )
        matrix = pool_activation(tensor, pool, channel_axis, modules[layer], layer, mask)
        if not matrix.is_floating_point() or matrix.dtype in (torch.float16, torch.bfloat16):
            matrix = matrix.float()
        if max_features is not None:
            if layer not in projections:
                width = matrix.shape[1]
                projections[layer] = (
                    SparseProjection(
                        projection_matrix(
                            width,
                            max_features,
                            layer_seed(seed, layer),
                            torch.empty((), dtype=matrix.dtype).numpy().dtype,
                        ),
                        matrix.device,
                        matrix.dtype,
                    )
                    if width > max_features
                    else None
                )
            if projections[layer] is not None:
                # a non-finite value in a column no projection row reads would vanish:
                # mark its stimuli non-finite, for the check of LayerRecorder.finish_batch
                finite = torch.isfinite(matrix).all(dim=1)
                matrix = projections[layer](matrix)
                if not bool(finite.all()):
                    matrix[~finite] = float("nan")
        return matrix.detach().cpu().numpy()

    rows_done = store.rows_done
    dropped = getattr(store, "dropped", ())
    with (
        prepared_model(model, run_device) as prepared,
        LayerRecorder(prepared, names, features, store.write, optional, dropped) as recorder,
        _progress(source.n_stimuli, verbose, rows_done) as bar,
    ):
        try:
            for row, batch, rows in _batches_checked(source, rows_done):
                inputs = _to_model_input(batch, run_device, dtype, transform)
                recorder.start_batch(inputs, rows, row, first=row == 0)
                with torch.inference_mode():
                    if isinstance(inputs, Mapping):
                        prepared(**inputs)
                    else:
                        prepared(inputs)
                newly_dropped = recorder.finish_batch()
                if newly_dropped:
                    store.drop(newly_dropped)
                rows_done = row + rows
                store.commit(rows_done)
                if bar is not None:
                    bar.update(rows)
        except BaseException:
            store.commit(rows_done, force=True)  # the finished batches, for a rerun to resume
            raise
    if rows_done == 0:
        raise ValueError("stimuli yielded no batch: no stimuli to extract.")
    if source.n_stimuli is not None and rows_done != source.n_stimuli:
        raise ValueError(
            f"stimuli gave {rows_done} stimuli but its length is {source.n_stimuli}; the "
            "dataset's __len__ and its items disagree."
        )
    return store.finish()
