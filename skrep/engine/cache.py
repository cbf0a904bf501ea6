"""Finished blocks of pairs on disk: checked when read, locked while computed.

A job (a measure, its parameters, the data and the block layout) has a key,
a hash of all of them; its blocks live in ``cache_dir/<key>/``, one ``.npz``
file per block. Each file holds what it is (the key, the block's position in
the layout, the global indices of its networks and its pairs) beside the
values and a SHA-256 checksum of all of it, so a file that was damaged,
truncated or copied from another block is recognised, reported in one
warning, removed and computed again; it is never used.

Files are written to a temporary name and renamed into place, so a reader
sees a whole file or none. While a block is computed its ``.lock`` file
(created exclusively) tells other runs sharing the directory to leave it:
they compute other blocks and wait for this one. A lock whose process is
gone (same machine) or whose heartbeat stopped is taken over.

This is our own small store rather than ``joblib.Memory`` because the engine
needs the checks, the locks and a load path that costs nothing but reading
the files; the format is plain numpy (``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..exceptions import CacheWarning

__all__ = ["BlockStore", "BlockTask", "BlockClaim"]

#: Seconds between two heartbeats of a lock while its block is computed.
HEARTBEAT_SECONDS = 10.0
#: A lock whose heartbeat is older than this is abandoned (its run died).
STALE_AFTER_SECONDS = 60.0


class BlockTask(NamedTuple):
    """One block of pairs: its position in the layout and what it computes.

    Parameters
    ----------
    position : tuple of (int, int)
        Index of the row block and of the column block in the layout.
    rows : tuple of int
        Global indices of the networks of the row block.
    columns : tuple of int
        Global indices of the networks of the column block.
    pairs : tuple of (int, int)
        Local index into ``rows`` and into ``columns`` of each pair.
    same_block : bool
        Rows and columns are the same networks of one collection.
    """

    position: tuple
    rows: tuple
    columns: tuple
    pairs: tuple
    same_block: bool


def _checksum(key: str, task: BlockTask, train: np.ndarray, test: np.ndarray) -> str:
    digest = hashlib.sha256(key.encode())
    for part in (task.position, task.rows, task.columns, task.pairs):
        digest.update(np.asarray(part, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(train, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(test, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


class BlockClaim:
    """A held lock on one block; keeps its heartbeat until :meth:`release`.

    Parameters
    ----------
    path : Path
        The lock file, already created by this process.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        """Stop the heartbeat and remove the lock file."""
        self._stop.set()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class BlockStore:
    """The cached blocks of one job.

    Parameters
    ----------
    directory : str or path-like
        The cache directory given by the user (shared by jobs and runs).
    key : str
        The job's key (hexadecimal), a hash of what its values depend on.
    """

    def __init__(self, directory: str | os.PathLike, key: str) -> None:
        self.key = key
        self.directory = Path(directory) / key

    def path(self, task: BlockTask) -> Path:
        """The file of a block.

        Parameters
        ----------
        task : BlockTask
            The block.

        Returns
        -------
        Path
            ``cache_dir/<key>/block-<i>-<j>.npz``.
        """
        i, j = task.position
        return self.directory / f"block-{i}-{j}.npz"

    def _lock_path(self, task: BlockTask) -> Path:
        return self.path(task).with_suffix(".lock")

    def load(self, task: BlockTask) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The stored values of a block, or None when there are none to trust.

        A file that cannot be read, belongs to another block or job, or fails
        its checksum gives one :class:`~skrep.exceptions.CacheWarning` and None.

        Parameters
        ----------
        task : BlockTask
            The block.

        Returns
        -------
        (train, test) or None
            ``test`` is None for a job without held-out data.
        """
        path = self.path(task)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                contents = {name: stored[name] for name in stored.files}
            problem = self._problem(task, contents)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            problem = f"it cannot be read ({type(exc).__name__}: {exc})"
        if problem is not None:
            warnings.warn(
                f"Ignoring the cache file {path}: {problem}. Its block is computed again.",
                CacheWarning,
                stacklevel=3,
            )
            with contextlib.suppress(OSError):
                path.unlink()  # one warning per file: the next read finds nothing
            return None
        test = contents["test"] if bool(contents["has_test"]) else None
        return contents["train"], test

    def _problem(self, task: BlockTask, contents: dict) -> str | None:
        """Why stored contents cannot stand for ``task`` (None if they can)."""
        if str(contents["key"]) != self.key:
            return "it belongs to another job (its key differs)"
        for name, expected in (
            ("position", task.position),
            ("rows", task.rows),
            ("columns", task.columns),
            ("pairs", task.pairs),
        ):
            stored = contents[name]
            wanted = np.asarray(expected, dtype=np.int64)
            if stored.shape != wanted.shape or not np.array_equal(stored, wanted):
                return f"it holds another block (its {name} differ)"
        n_pairs = len(task.pairs)
        test = contents["test"]
        if contents["train"].shape != (n_pairs,) or test.shape != (n_pairs,):
            return f"it holds {contents['train'].shape[0]} values, not {n_pairs}"
        if str(contents["checksum"]) != _checksum(self.key, task, contents["train"], test):
            return "its checksum does not match its contents (the file was damaged or changed)"
        return None

    def save(self, task: BlockTask, train: np.ndarray, test: np.ndarray | None) -> None:
        """Store a block's values (atomically: a whole file or none).

        Parameters
        ----------
        task : BlockTask
            The block.
        train : ndarray of shape (n_pairs,)
            Its training values.
        test : ndarray of shape (n_pairs,) or None
            Its held-out values.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        train = np.asarray(train, dtype=np.float64)
        stored_test = np.zeros_like(train) if test is None else np.asarray(test, dtype=np.float64)
        contents = {
            "key": np.array(self.key),
            "position": np.asarray(task.position, dtype=np.int64),
            "rows": np.asarray(task.rows, dtype=np.int64),
            "columns": np.asarray(task.columns, dtype=np.int64),
            "pairs": np.asarray(task.pairs, dtype=np.int64),
            "train": train,
            "test": stored_test,
            "has_test": np.array(test is not None),
            "checksum": np.array(_checksum(self.key, task, train, stored_test)),
        }
        path = self.path(task)
        temporary = path.with_name(f".{path.stem}-{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "wb") as file:
                np.savez(file, **contents)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    def claim(self, task: BlockTask) -> BlockClaim | None:
        """Lock a block for computing it here; None if another run holds it.

        An abandoned lock (its process is gone, or its heartbeat stopped more
        than :data:`STALE_AFTER_SECONDS` ago) is removed and taken.

        Parameters
        ----------
        task : BlockTask
            The block.

        Returns
        -------
        BlockClaim or None
            The held lock (release it when done), or None.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = self._lock_path(task)
        for _ in range(2):
            try:
                descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._abandoned(lock):
                    return None
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            owner = {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}
            with os.fdopen(descriptor, "w") as file:
                json.dump(owner, file)
            return BlockClaim(lock)
        return None

    def is_claimed(self, task: BlockTask) -> bool:
        """Whether another live run holds the block's lock.

        Parameters
        ----------
        task : BlockTask
            The block.

        Returns
        -------
        bool
            True while a live run holds it.
        """
        lock = self._lock_path(task)
        return lock.exists() and not self._abandoned(lock)

    @staticmethod
    def _abandoned(lock: Path) -> bool:
        try:
            age = time.time() - lock.stat().st_mtime
            owner = json.loads(lock.read_text() or "{}")
        except FileNotFoundError:
            return False  # released meanwhile: not abandoned, just gone
        except (OSError, ValueError):
            owner = {}  # being written, or damaged: judged by its age alone
            age = time.time() - lock.stat().st_mtime if lock.exists() else 0.0
        if age > STALE_AFTER_SECONDS:
            return True
        if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
            return not _pid_alive(owner["pid"])
        return False
