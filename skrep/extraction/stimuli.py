"""The stimuli of an extraction as batches: arrays, tensors, datasets, loaders, iterables.

A batch is what the model is called with: a tensor (``model(x)``), a dict of
tensors (``model(**batch)``, as for language models), or a tuple or list whose
first element is the input (the rest, e.g. labels, is ignored: the layout of
``TensorDataset`` and ``ImageFolder``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import joblib
import numpy as np

__all__ = ["StimulusSource", "batch_input", "batch_rows", "stimuli_key"]


def batch_input(batch: Any) -> Any:
    """The model input of a batch: itself, or the first element of a tuple or list.

    Parameters
    ----------
    batch : tensor, array, dict, tuple or list
        One batch.

    Returns
    -------
    tensor, array or dict
        The input.
    """
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError("stimuli yielded an empty tuple as a batch; expected (inputs, ...).")
        return batch[0]
    return batch


def batch_rows(batch: Any) -> int:
    """The number of stimuli in a batch.

    Parameters
    ----------
    batch : tensor, array, dict, tuple or list
        One batch.

    Returns
    -------
    int
        The length of its first axis (for a dict, the common length of its
        arrays and tensors).
    """
    batch = batch_input(batch)
    if isinstance(batch, Mapping):
        lengths = {
            str(key): int(value.shape[0])
            for key, value in batch.items()
            if getattr(value, "ndim", 0) >= 1
        }
        if not lengths:
            raise ValueError(
                f"a dict batch of stimuli holds no array or tensor (keys {list(batch)}); "
                "expected e.g. {'input_ids': ..., 'attention_mask': ...}."
            )
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"the arrays of a dict batch of stimuli have different lengths {lengths}; "
                "expected one row per stimulus in each."
            )
        return next(iter(lengths.values()))
    if getattr(batch, "ndim", 0) < 1:
        raise TypeError(
            f"a batch of stimuli is {type(batch).__name__}; expected an array or tensor with "
            "stimuli along its first axis, a dict of them, or a tuple (inputs, ...)."
        )
    return int(batch.shape[0])


def _host_value(value: Any) -> Any:
    """A hashable copy: tensors as numpy arrays, containers element by element."""
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.view(torch.int16)
        return value.numpy()
    if isinstance(value, Mapping):
        return {str(k): _host_value(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_host_value(v) for v in value]
    return value


def _file_identity(array: np.memmap) -> tuple:
    """A memory-mapped file by its path, size, modification time and sampled rows.

    Reading a file of stimuli whole to key it cost 0.7 s per GB in
    measurements; the file's identity and up to 66 evenly spaced rows (which
    tell slices of one file apart) are read instead.
    """
    status = os.stat(array.filename)
    n = array.shape[0]
    rows = np.unique(np.linspace(0, n - 1, num=min(n, 66)).astype(np.int64))
    return (
        os.path.abspath(array.filename),
        status.st_size,
        status.st_mtime_ns,
        array.shape,
        array.strides,
        array.dtype.str,
        joblib.hash(np.asarray(array[rows])),
    )


def _is_array(stimuli: Any) -> bool:
    import torch

    return isinstance(stimuli, (np.ndarray, torch.Tensor))


def _dataset_batches(loader: Any, n_stimuli: int) -> Iterator[Any]:
    """The loader's batches; an IndexError (``__len__`` beyond the items) as a ValueError."""
    try:
        yield from loader
    except IndexError as exc:
        raise ValueError(
            f"reading the stimuli Dataset raised IndexError ({exc}): its __len__ ({n_stimuli}) "
            "and its items disagree."
        ) from exc


class StimulusSource:
    """Batches of stimuli, with their count when it is known and a key of their content.

    Parameters
    ----------
    stimuli : array, tensor, Dataset, DataLoader or iterable of batches
        The stimuli (see :func:`skrep.extraction.extract_activations`).
    batch_size : int
        Rows per batch for arrays, tensors and datasets (a DataLoader keeps its own).
    """

    def __init__(self, stimuli: Any, batch_size: int) -> None:
        from torch.utils.data import (
            DataLoader,
            Dataset,
            IterableDataset,
            RandomSampler,
            SubsetRandomSampler,
            WeightedRandomSampler,
        )

        self.stimuli = stimuli
        self.batch_size = batch_size
        self._peeked: list[Any] = []
        self._iterator: Iterator[Any] | None = None
        if isinstance(stimuli, (str, bytes)):
            raise TypeError(
                f"stimuli is a {type(stimuli).__name__}; expected an array or tensor (stimuli "
                "along the first axis), a torch Dataset or DataLoader, or an iterable of batches."
            )
        if isinstance(stimuli, Mapping):
            # e.g. a tokenizer's output: arrays with one row per stimulus, batched together
            self.kind, self.n_stimuli = "mapping", batch_rows(stimuli)
            if self.n_stimuli == 0:
                raise ValueError("stimuli is a dict of arrays with 0 rows: no stimuli.")
        elif _is_array(stimuli):
            if isinstance(stimuli, np.ndarray) and stimuli.dtype.kind not in "biuf":
                raise TypeError(
                    f"stimuli has dtype {stimuli.dtype}; expected numbers (bool, integer or "
                    "floating), e.g. images as uint8 or float32."
                )
            if stimuli.ndim == 0 or stimuli.shape[0] == 0:
                raise ValueError(
                    f"stimuli has shape {tuple(stimuli.shape)}: no stimuli; expected at least "
                    "one row (stimuli along the first axis)."
                )
            self.kind, self.n_stimuli = "array", int(stimuli.shape[0])
        elif isinstance(stimuli, DataLoader):
            random = (RandomSampler, SubsetRandomSampler, WeightedRandomSampler)
            if isinstance(stimuli.sampler, random):
                raise ValueError(
                    f"stimuli is a DataLoader that draws its items at random "
                    f"({type(stimuli.sampler).__name__}, e.g. shuffle=True), so its rows would "
                    "not come in a fixed stimulus order; pass a DataLoader with shuffle=False."
                )
            if stimuli.drop_last:
                raise ValueError(
                    "stimuli is a DataLoader with drop_last=True, so the stimuli of its last, "
                    "incomplete batch would be missing; pass a DataLoader with drop_last=False."
                )
            dataset = stimuli.dataset
            known = hasattr(dataset, "__len__") and not isinstance(dataset, IterableDataset)
            self.kind = "loader"
            self.n_stimuli = len(dataset) if known else None
        elif isinstance(stimuli, Dataset) and not isinstance(stimuli, IterableDataset):
            if not hasattr(stimuli, "__len__"):
                raise TypeError(
                    "stimuli is a torch Dataset without __len__; wrap it in a DataLoader or "
                    "pass an iterable of batches."
                )
            self.kind, self.n_stimuli = "dataset", len(stimuli)
        elif isinstance(stimuli, Iterable):
            self.kind = "iterable"
            self.n_stimuli = (
                sum(batch_rows(b) for b in stimuli) if isinstance(stimuli, (list, tuple)) else None
            )
        else:
            raise TypeError(
                f"stimuli is a {type(stimuli).__name__}; expected an array or tensor, a torch "
                "Dataset or DataLoader, or an iterable of batches."
            )
        if self.n_stimuli == 0:
            raise ValueError(f"stimuli ({type(stimuli).__name__}) holds no stimuli (0 rows).")

    def _stream(self) -> Iterator[Any]:
        if self._iterator is None:
            self._iterator = iter(self.stimuli)
        return itertools.chain(self._peeked, self._iterator)

    def identity(self) -> str:
        """A key of the stimuli's content.

        Returns
        -------
        str
            For arrays, tensors, dicts and lists of batches a hash of every
            value; for a memory-mapped file its path, size, modification time
            and a sample of rows; for datasets a hash of the first and last
            items, and for loaders and iterables of the first batch, with the
            count (their other items are not read twice).
        """
        if isinstance(self.stimuli, np.memmap) and getattr(self.stimuli, "filename", None):
            content: Any = _file_identity(self.stimuli)
        elif self.kind in ("array", "mapping") or isinstance(self.stimuli, (list, tuple)):
            content = _host_value(self.stimuli)  # in memory already: every value
        elif self.kind == "dataset" and hasattr(self.stimuli, "tensors"):
            content = _host_value(list(self.stimuli.tensors))  # a TensorDataset: every value
        elif self.kind == "dataset":
            content = [_host_value(self.stimuli[0]), _host_value(self.stimuli[self.n_stimuli - 1])]
        else:
            if not self._peeked:
                self._iterator = iter(self.stimuli)
                first = next(self._iterator, None)
                if first is None:
                    raise ValueError("stimuli yielded no batch: no stimuli to extract.")
                self._peeked.append(first)
            content = _host_value(self._peeked[0])
        return joblib.hash((self.kind, type(self.stimuli).__qualname__, self.n_stimuli, content))

    def batches(self, start: int = 0) -> Iterator[tuple[int, Any]]:
        """Yield ``(first row, batch)`` from row ``start`` on.

        Parameters
        ----------
        start : int, default=0
            Rows already done (a batch boundary of an earlier run): arrays and
            datasets skip them without reading; loaders and iterables are read
            through them without running the model.

        Yields
        ------
        tuple of (int, batch)
            The batch's first row and the batch.
        """
        from torch.utils.data import DataLoader, Subset

        if self.kind == "array":
            for row in range(start, self.n_stimuli, self.batch_size):
                yield row, self.stimuli[row : row + self.batch_size]
            return
        if self.kind == "mapping":
            for row in range(start, self.n_stimuli, self.batch_size):
                yield (
                    row,
                    {
                        key: value[row : row + self.batch_size]
                        if getattr(value, "ndim", 0)
                        else value
                        for key, value in self.stimuli.items()
                    },
                )
            return
        if self.kind == "dataset":
            dataset = self.stimuli
            if start:
                dataset = Subset(dataset, range(start, self.n_stimuli))
            loader = DataLoader(dataset, batch_size=self.batch_size, shuffle=False)
            stream: Iterator[Any] = _dataset_batches(loader, self.n_stimuli)
            row = start
        else:
            stream, row = self._stream(), 0
        for batch in stream:
            rows = batch_rows(batch)
            if row >= start:
                yield row, batch
            elif row + rows > start:
                raise ValueError(
                    f"the stimuli's batch of stimuli {row}..{row + rows - 1} straddles stimulus "
                    f"{start}, where the interrupted run stopped; resume with the same batches "
                    "(or remove out_dir to extract again)."
                )
            row += rows


def stimuli_key(stimuli: Any) -> str:
    """A key of a set of stimuli's content, as extraction records it.

    Parameters
    ----------
    stimuli : array, tensor, dict of arrays, Dataset, DataLoader or list of batches
        The stimuli (not a one-shot iterator: its first batch would be used up).

    Returns
    -------
    str
        The key (see ``stimuli_key`` of :func:`extract_activations` for what
        it covers).
    """
    return StimulusSource(stimuli, 1).identity()
