"""Files of the ``skrep`` command: networks read from ``.npy`` / ``.npz``, matrices written as CSV.

Every output path is checked before anything is computed (:func:`check_output`,
:func:`check_figure`, :func:`check_cache_dir`), and a file whose header
describes more data than it holds is refused before numpy allocates it.
"""

from __future__ import annotations

import csv
import math
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "CLIError",
    "load_networks",
    "write_matrix_csv",
    "write_distance_csv",
    "held_out_path",
    "check_output",
    "check_figure",
    "check_cache_dir",
    "split_stimuli",
]

#: What a network's array holds, by number of dimensions.
SHAPES = {2: "(n_stimuli, n_units)", 3: "(n_classes, n_repeats, n_units)"}


class CLIError(Exception):
    """A user error reported as one line on stderr (exit status 2)."""


def _size(n_bytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n_bytes < 1024 or unit == "TiB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return ""  # pragma: no cover - the loop always returns


def _check_header(handle: IO[bytes], data_bytes: int, label: str) -> None:
    """Refuse an .npy header that describes more data than follows it."""
    try:
        version = np.lib.format.read_magic(handle)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read(handle)
        available = data_bytes - handle.tell()
    except (ValueError, OSError, EOFError):
        return  # not a header numpy reads either: np.load reports it
    needed = math.prod(shape) * dtype.itemsize
    if needed > available:
        raise CLIError(
            f"cannot read {label}: its header describes a {dtype} array of shape {shape} "
            f"({_size(needed)}) but the file holds {_size(max(available, 0))} of data; the "
            "file is truncated or damaged."
        )


def _check_headers(path: Path) -> None:
    """Check the header of an .npy file, or of every array of an .npz archive."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".npy"):
                        with archive.open(info) as member:
                            label = f"{info.filename[:-4]!r} of {str(path)!r}"
                            _check_header(member, info.file_size, label)
        else:
            with open(path, "rb") as handle:
                _check_header(handle, os.fstat(handle.fileno()).st_size, repr(str(path)))
    except (OSError, zipfile.BadZipFile, EOFError):
        return  # np.load reports unreadable files


def _load_file(path: Path) -> list[tuple[str, np.ndarray]]:
    if not path.exists():
        raise CLIError(f"cannot read {str(path)!r}: no such file.")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except OSError as exc:
        raise CLIError(f"cannot read {str(path)!r}: {exc.strerror}.") from None
    if magic != np.lib.format.MAGIC_PREFIX and not magic.startswith(b"PK"):
        raise CLIError(
            f"cannot read {str(path)!r} as a numpy .npy or .npz file: it starts with neither "
            "numpy's magic string nor a zip header (pickles and text are not read)."
        )
    _check_headers(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return [(path.stem, loaded)]
        with loaded:
            if not loaded.files:
                raise CLIError(f"{str(path)!r} is an .npz archive with no arrays.")
            return [(f"{path.stem}/{key}", loaded[key]) for key in loaded.files]
    except MemoryError:
        raise CLIError(f"not enough memory to load {str(path)!r}.") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CLIError(
            f"cannot read {str(path)!r} as a numpy .npy or .npz file (loaded with "
            f"allow_pickle=False): {' '.join(str(exc).split())}"
        ) from None


def load_networks(
    paths: Sequence[str | os.PathLike[str]], *, ndim: int = 2
) -> tuple[list[str], list[np.ndarray]]:
    """Load networks from ``.npy`` files, ``.npz`` archives and folders of them.

    Parameters
    ----------
    paths : sequence of str or path-like
        Files or folders. A folder contributes its ``.npy`` and ``.npz`` files
        in sorted order; an ``.npz`` archive one network per array. Arrays are
        loaded with ``allow_pickle=False``, after checking that each file holds
        as much data as its header says.
    ndim : {2, 3}, default=2
        Dimensions of every array: 2 for (n_stimuli, n_units), 3 for the
        (n_classes, n_repeats, n_units) responses of the stochastic metrics.

    Returns
    -------
    names : list of str
        One name per network: the file stem, or ``stem/key`` inside an archive.
    arrays : list of ndarray
        The arrays, each checked to have ``ndim`` dimensions, numbers and the
        same length along the first axis as the first.
    """
    entries = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".npy", ".npz"))
            if not files:
                raise CLIError(f"folder {str(path)!r} holds no .npy or .npz files.")
            for file in files:
                entries.extend(_load_file(file))
        else:
            entries.extend(_load_file(path))
    for name, array in entries:
        if array.ndim != ndim:
            raise CLIError(
                f"{name} holds a {array.ndim}-D array of shape {array.shape}; expected a "
                f"{ndim}-D array of shape {SHAPES[ndim]}."
            )
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise CLIError(f"{name} holds non-numeric data (dtype {array.dtype}).")
        if array.shape[0] != entries[0][1].shape[0]:
            raise CLIError(
                f"{name} has {array.shape[0]} rows but {entries[0][0]} has "
                f"{entries[0][1].shape[0]}; every network must hold its responses to the same "
                "stimuli, one row per stimulus in the same order."
            )
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise CLIError(f"network names must be unique; repeated: {', '.join(duplicated)}.")
    return names, [array for _, array in entries]


def write_matrix_csv(
    path: str | os.PathLike[str],
    M: np.ndarray,
    row_names: Sequence[str],
    column_names: Sequence[str] | None = None,
) -> None:
    """Write a matrix as CSV: column names in the header, row names in the first column.

    Parameters
    ----------
    path : str or path-like
        Output file.
    M : ndarray of shape (n_rows, n_columns)
        The values, written with all their digits (``repr`` of each float).
    row_names : sequence of str
        Names of the rows.
    column_names : sequence of str, default=None
        Names of the columns; None uses ``row_names`` (a square matrix).
    """
    M = np.asarray(M)
    column_names = row_names if column_names is None else column_names
    if M.shape != (len(row_names), len(column_names)):
        raise ValueError(
            f"M has shape {M.shape} but {len(row_names)} row names and {len(column_names)} "
            f"column names were given; expected shape ({len(row_names)}, {len(column_names)})."
        )
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["network", *column_names])
        for name, row in zip(row_names, M, strict=True):
            writer.writerow([name, *(repr(float(v)) for v in row)])


def write_distance_csv(path: str | os.PathLike[str], D: np.ndarray, names: Sequence[str]) -> None:
    """Write a distance matrix as CSV, network names in the header and first column.

    Parameters
    ----------
    path : str or path-like
        Output file.
    D : ndarray of shape (n_networks, n_networks)
        Distances.
    names : sequence of str
        Network names, in the order of ``D``'s rows.
    """
    D = np.asarray(D)
    if D.ndim != 2 or D.shape != (len(names), len(names)):
        raise ValueError(
            f"D has shape {D.shape} but {len(names)} names were given; expected a square "
            f"matrix of shape ({len(names)}, {len(names)})."
        )
    write_matrix_csv(path, D, names)


def held_out_path(output: str | os.PathLike[str]) -> Path:
    """The file of held-out values beside ``output``: ``d.csv`` -> ``d_test.csv``.

    Parameters
    ----------
    output : str or path-like
        The file of training values.

    Returns
    -------
    Path
        ``output`` with ``_test`` before its extension (``.csv`` if it has none).
    """
    output = Path(output)
    return output.with_name(f"{output.stem}_test{output.suffix or '.csv'}")


def _check_folder(path: Path, option: str) -> None:
    folder = path.parent
    if not folder.exists():
        raise CLIError(f"{option} {str(path)!r}: no folder {str(folder)!r}; create it first.")
    if not folder.is_dir():
        raise CLIError(f"{option} {str(path)!r}: {str(folder)!r} is a file, not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {str(path)!r}: cannot write into {str(folder)!r}.")
    if path.is_dir():
        raise CLIError(f"{option} {str(path)!r} is a folder; expected a file name.")


def check_output(path: str | os.PathLike[str], option: str = "-o") -> None:
    """Raise :class:`CLIError` unless ``path`` can be written: a file in an existing folder.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    option : str, default="-o"
        The option that named it, for the message.
    """
    _check_folder(Path(path), option)


def check_figure(path: str | os.PathLike[str]) -> None:
    """Raise :class:`CLIError` unless matplotlib can save a figure at ``path``.

    Parameters
    ----------
    path : str or path-like
        The figure file: in an existing folder, with an extension that
        matplotlib saves (``FigureCanvasBase.get_supported_filetypes()``).
    """
    path = Path(path)
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise CLIError(
            "--figure needs matplotlib, which is not installed (pip install matplotlib)."
        ) from None
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    extension = path.suffix[1:].lower()
    if extension not in formats:
        got = f"the extension {path.suffix!r}" if extension else "no extension"
        raise CLIError(
            f"--figure {str(path)!r} has {got}; expected one of "
            f"{', '.join('.' + f for f in formats)}."
        )
    _check_folder(path, "--figure")


def check_cache_dir(path: str | os.PathLike[str]) -> None:
    """Raise :class:`CLIError` unless ``path`` is a folder or can be created as one.

    Parameters
    ----------
    path : str or path-like
        The ``--cache-dir`` folder.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CLIError(f"--cache-dir {str(path)!r} is a file; expected a folder.")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CLIError(f"--cache-dir {str(path)!r} cannot be created: {str(existing)!r} is a file.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(f"--cache-dir {str(path)!r}: cannot write into {str(existing)!r}.")


def split_stimuli(
    arrays: Sequence[np.ndarray], fraction: float, seed: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Hold out the same random fraction of stimuli (first axis) of every network.

    Parameters
    ----------
    arrays : sequence of ndarray
        The networks, with the same length along the first axis.
    fraction : float
        Fraction held out, in (0, 1).
    seed : int
        Seed of ``numpy.random.default_rng``: the held-out stimuli are the
        first ``round(fraction * n)`` of its permutation, sorted.

    Returns
    -------
    train, test : lists of ndarray
        The training and held-out rows of each network.
    """
    if not 0.0 < fraction < 1.0:
        raise CLIError(f"--test-fraction must be between 0 and 1 (exclusive); got {fraction}.")
    n_samples = arrays[0].shape[0]
    n_test = int(round(fraction * n_samples))
    if n_test < 1 or n_samples - n_test < 2:
        raise CLIError(
            f"--test-fraction {fraction} of {n_samples} stimuli leaves {n_test} held-out and "
            f"{n_samples - n_test} training stimuli; expected at least 1 and 2."
        )
    permutation = np.random.default_rng(seed).permutation(n_samples)
    test, train = np.sort(permutation[:n_test]), np.sort(permutation[n_test:])
    return [a[train] for a in arrays], [a[test] for a in arrays]
