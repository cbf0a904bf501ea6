"""Where extracted batches go: arrays in memory, or ``.npy`` files that a rerun resumes.

On disk, each layer is ``out_dir/<layer>.npy``; a record beside them
(:data:`RECORD`) holds the run's arguments, the layers' widths and how many
stimuli are written. A batch is written and flushed before the record counts
it (the record is replaced atomically), so an interrupted run resumes at the
first batch not counted. When the number of stimuli is not known in advance
(a generator), a layer is appended to ``<layer>.npy.partial`` and becomes a
``.npy`` file at the end. Nothing is returned before every batch is written.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RECORD", "MemoryStore", "DiskStore", "layer_file_name"]

#: The name of the progress record in ``out_dir``.
RECORD = "skrep-extraction.json"
#: Seconds between two flushes of the files and the record during a run.
COMMIT_SECONDS = 5.0
_FORMAT = 1


def layer_file_name(layer: str) -> str:
    """The ``.npy`` file name of a layer (path separators replaced by ``_``).

    Parameters
    ----------
    layer : str
        The layer's name.

    Returns
    -------
    str
        ``"<layer>.npy"``.
    """
    return layer.replace("/", "_").replace("\\", "_") + ".npy"


def _work_files(path: Path) -> tuple[Path, Path]:
    """A layer's files while the run is not finished: an .npy and a raw append file."""
    return path.with_name(path.name + ".partial"), path.with_name(path.name + ".raw-partial")


class MemoryStore:
    """Batches gathered in memory (preallocated when the number of stimuli is known).

    Parameters
    ----------
    layers : list of str
        The layers, in order.
    n_stimuli : int or None
        The number of stimuli, if known.
    """

    rows_done = 0
    complete = False

    def __init__(self, layers: list[str], n_stimuli: int | None) -> None:
        self.layers, self.n_stimuli = layers, n_stimuli
        self.arrays: dict[str, np.ndarray] = {}
        self.parts: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}

    def write(self, layer: str, row: int, values: np.ndarray) -> None:
        """Store one batch of a layer at row ``row``.

        Parameters
        ----------
        layer : str
            The layer.
        row : int
            The batch's first row.
        values : numpy.ndarray of shape (n_rows, n_features)
            The batch's features.
        """
        if self.n_stimuli is None:
            self.parts[layer].append(np.array(values))  # a copy: values may view torch memory
            return
        if layer not in self.arrays:
            self.arrays[layer] = np.empty((self.n_stimuli, values.shape[1]), values.dtype)
        self.arrays[layer][row : row + values.shape[0]] = values

    def drop(self, layers: list[str]) -> None:
        """Forget layers that give no features (dropped on the first batch).

        Parameters
        ----------
        layers : list of str
            The layers.
        """
        self.layers = [layer for layer in self.layers if layer not in layers]

    def commit(self, rows_done: int, *, force: bool = False) -> None:
        """Count the rows written so far (nothing to record in memory).

        Parameters
        ----------
        rows_done : int
            Rows written.
        force : bool, default=False
            Unused (the disk store's signature).
        """
        self.rows_done = rows_done

    def finish(self) -> dict[str, np.ndarray]:
        """The layers' arrays.

        Returns
        -------
        dict of str -> numpy.ndarray
            One (n_stimuli, n_features) array per layer.
        """
        if self.n_stimuli is None:
            return {layer: np.concatenate(self.parts.pop(layer)) for layer in self.layers}
        return {layer: self.arrays[layer] for layer in self.layers}


class DiskStore:
    """Batches streamed into ``out_dir/<layer>.npy``, resumable.

    Parameters
    ----------
    out_dir : path
        The folder (created if missing).
    layers : list of str
        The layers, in order.
    n_stimuli : int or None
        The number of stimuli, if known.
    arguments : dict of str -> str
        What the values depend on (the model's parameters, the stimuli, the
        options); a record of other arguments is an error, not a resume.
    seed : int or None
        The projections' seed when drawn at random; a resumed run reads it
        back from the record (:attr:`seed`), so its batches match.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        layers: list[str],
        n_stimuli: int | None,
        arguments: dict[str, str],
        seed: int | None = None,
    ) -> None:
        self.seed = seed
        self._last_commit = time.monotonic()
        self.folder = Path(out_dir).absolute()
        self.layers, self.n_stimuli, self.arguments = layers, n_stimuli, arguments
        self.files = {layer: self.folder / layer_file_name(layer) for layer in layers}
        self.widths: dict[str, tuple[int, str]] = {}
        self.arrays: dict[str, Any] = {}
        self.dropped: list[str] = []
        self.rows_done, self.complete = 0, False
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"out_dir {str(self.folder)!r} is a file; expected a folder.")
        self.folder.mkdir(parents=True, exist_ok=True)
        record_path = self.folder / RECORD
        if record_path.exists():
            self._resume(record_path)
        else:
            self._check_no_foreign_files()
            self._save_record()  # before any file: an interrupted first batch can resume

    def _check_no_foreign_files(self) -> None:
        for path in self.files.values():
            for candidate in (path, *_work_files(path)):
                if candidate.exists():
                    raise ValueError(
                        f"out_dir {str(self.folder)!r} holds {candidate.name}, which no "
                        f"extraction record ({RECORD}) describes; choose an empty folder or "
                        "remove the file."
                    )

    def _resume(self, record_path: Path) -> None:
        try:
            record = json.loads(record_path.read_text())
            recorded = record["arguments"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"out_dir {str(self.folder)!r} holds an unreadable {RECORD} ({exc}); choose "
                "another folder or remove it."
            ) from exc
        if record.get("rows_done") == 0 and not record.get("complete"):
            # A run that stopped before its first batch was written left nothing of value:
            # start afresh, whatever its arguments were.
            for layer in record.get("layers", []):
                path = self.folder / layer_file_name(str(layer))
                for stale in (path, *_work_files(path)):
                    stale.unlink(missing_ok=True)
            self._check_no_foreign_files()
            self._save_record()
            return
        if record.get("format") != _FORMAT or recorded != self.arguments:
            differ = sorted(
                k
                for k in set(recorded) | set(self.arguments)
                if recorded.get(k) != self.arguments.get(k)
            )
            raise ValueError(
                f"out_dir {str(self.folder)!r} holds the activations of another extraction "
                f"(different {', '.join(differ) or 'format'}); choose another folder, or remove "
                "it to extract again."
            )
        self.widths = {k: (int(w), str(d)) for k, (w, d) in record["widths"].items()}
        self.rows_done, self.complete = int(record["rows_done"]), bool(record["complete"])
        self.seed = record.get("seed")
        self.drop([str(layer) for layer in record.get("dropped", [])])
        for layer, (width, dtype) in self.widths.items():
            self._open(layer, width, dtype, resume=True)

    def drop(self, layers: list[str]) -> None:
        """Forget layers that give no features (dropped on the first batch), in the record too.

        Parameters
        ----------
        layers : list of str
            The layers.
        """
        self.dropped = list(dict.fromkeys([*self.dropped, *layers]))
        self.layers = [layer for layer in self.layers if layer not in self.dropped]
        for layer in layers:
            self.widths.pop(layer, None)
            handle = self.arrays.pop(layer, None)
            if handle is not None and hasattr(handle, "close"):
                handle.close()

    def _open(self, layer: str, width: int, dtype: str, *, resume: bool) -> None:
        if self.complete:
            return
        partial, raw = _work_files(self.files[layer])
        if self.n_stimuli is not None:
            # Written as <layer>.npy.partial, renamed at the end: no reader ever takes an
            # unfinished file (rows not computed yet are zeros) for a finished one.
            mode = "r+" if resume else "w+"
            if resume and not partial.exists():
                raise ValueError(f"out_dir is missing {partial.name}, which its {RECORD} lists.")
            self.arrays[layer] = np.lib.format.open_memmap(
                partial, mode=mode, dtype=np.dtype(dtype), shape=(self.n_stimuli, width)
            )
            return
        handle = raw.open("r+b" if resume and raw.exists() else "w+b")
        handle.truncate(self.rows_done * width * np.dtype(dtype).itemsize)
        handle.seek(0, os.SEEK_END)
        self.arrays[layer] = handle

    def write(self, layer: str, row: int, values: np.ndarray) -> None:
        """Write one batch of a layer at row ``row``.

        Parameters
        ----------
        layer : str
            The layer.
        row : int
            The batch's first row.
        values : numpy.ndarray of shape (n_rows, n_features)
            The batch's features.
        """
        if layer not in self.widths:
            self.widths[layer] = (int(values.shape[1]), values.dtype.str)
            self._open(layer, values.shape[1], values.dtype.str, resume=False)
        target = self.arrays[layer]
        if self.n_stimuli is None:
            target.write(np.ascontiguousarray(values, dtype=np.dtype(self.widths[layer][1])))
        else:
            target[row : row + values.shape[0]] = values

    def _save_record(self) -> None:
        record = {
            "format": _FORMAT,
            "arguments": self.arguments,
            "layers": self.layers,
            "widths": {k: list(v) for k, v in self.widths.items()},
            "n_stimuli": self.n_stimuli,
            "rows_done": self.rows_done,
            "complete": self.complete,
            "seed": self.seed,
            "dropped": self.dropped,
        }
        temporary = self.folder / f".{RECORD}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(record, indent=1))
        os.replace(temporary, self.folder / RECORD)

    def commit(self, rows_done: int, *, force: bool = False) -> None:
        """Count ``rows_done`` rows as written; record it every few seconds.

        Flushing the files and rewriting the record after every batch cost
        a third of an extraction's time in measurements, so they happen at
        most every :data:`COMMIT_SECONDS`, at the end, and when a batch
        raises (then the finished batches are recorded; only a killed process
        redoes up to that many seconds).

        Parameters
        ----------
        rows_done : int
            Rows written.
        force : bool, default=False
            Flush and record now.
        """
        self.rows_done = rows_done
        if not force and time.monotonic() - self._last_commit < COMMIT_SECONDS:
            return
        for target in self.arrays.values():
            target.flush()
            if self.n_stimuli is None:
                os.fsync(target.fileno())
        self._save_record()
        self._last_commit = time.monotonic()

    def _convert_partial(self, layer: str) -> None:
        width, dtype = self.widths[layer]
        handle = self.arrays.pop(layer)
        handle.close()
        converted, partial = _work_files(self.files[layer])
        output = np.lib.format.open_memmap(
            converted, mode="w+", dtype=np.dtype(dtype), shape=(self.rows_done, width)
        )
        source = np.memmap(partial, dtype=np.dtype(dtype), mode="r", shape=(self.rows_done, width))
        step = max(1, (64 << 20) // max(1, width * np.dtype(dtype).itemsize))
        for start in range(0, self.rows_done, step):
            output[start : start + step] = source[start : start + step]
        output.flush()
        del source, output
        os.replace(converted, self.files[layer])
        partial.unlink()

    def finish(self) -> dict[str, np.ndarray]:
        """Mark the run complete and open every layer read-only.

        Returns
        -------
        dict of str -> numpy.memmap
            One read-only memory-mapped (n_stimuli, n_features) array per layer.
        """
        if not self.complete:
            self.commit(self.rows_done, force=True)
            for layer in self.layers:
                if self.n_stimuli is None:
                    self._convert_partial(layer)
                else:
                    array = self.arrays.pop(layer)
                    array.flush()
                    del array
                    os.replace(_work_files(self.files[layer])[0], self.files[layer])
            self.complete = True
            self._save_record()
        return {layer: np.load(self.files[layer], mmap_mode="r") for layer in self.layers}
