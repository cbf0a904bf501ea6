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
gone (same machine) or whose heartbeat stopped (for a minute of the waiting
run's own clock) is taken over; a lock holds a token, so a run never removes
a lock that another run took over from it. At worst, two runs compute the
same block (their values are the same, and the file is replaced atomically).

This is our own small store rather than ``joblib.Memory`` because the engine
needs the checks, the locks and a load path that costs nothing but reading
the files; the format is plain numpy (``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..exceptions import CacheWarning

__all__ = ["BlockStore", "BlockTask", "BlockClaim"]

#: Seconds between two heartbeats of a lock while its block is computed.
HEARTBEAT_SECONDS = 10.0
#: A lock whose heartbeat stops for this long (the observer's clock) is abandoned.
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


def _checksum(
    key: str, task: BlockTask, train: np.ndarray, test: np.ndarray, has_test: bool
) -> str:
    digest = hashlib.sha256(key.encode())
    digest.update(b"held-out" if has_test else b"training only")
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


@functools.cache
def _this_machine() -> str:
    """The identity of the machine and PID namespace: host, boot id, namespace (Linux).

    Two containers may share a host name; a pid is only meaningful where the
    whole string is the same, and only there is a lock's owner probed by pid.
    """
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with contextlib.suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return "/".join(parts)


def _read_owner(lock: Path) -> dict | None:
    """The owner record of a lock ({} if unreadable or being written; None if gone)."""
    try:
        owner = json.loads(lock.read_text() or "{}")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


class BlockClaim:
    """A held lock on one block; keeps its heartbeat until :meth:`release`.

    Parameters
    ----------
    path : Path
        The lock file, already created by this process.
    token : str
        The unique token written in it: the lock is still ours while it holds
        this token (another run may have taken an abandoned lock over).
    """

    def __init__(self, path: Path, token: str) -> None:
        self.path = path
        self.token = token
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()

    def _ours(self) -> bool:
        owner = _read_owner(self.path)
        return owner is not None and owner.get("token") == self.token

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            if self._ours():
                with contextlib.suppress(OSError):
                    os.utime(self.path)

    def release(self) -> None:
        """Stop the heartbeat and remove the lock file, if it is still ours."""
        self._stop.set()
        if self._ours():
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
        # Absolute: workers of a cluster resolve it in their own working directories.
        self.directory = Path(directory).absolute() / key
        # lock path -> (its mtime, when this store first saw that mtime, monotonic):
        # a heartbeat that stops for STALE_AFTER_SECONDS of this process's own clock
        # marks an abandoned lock, whatever the clocks of other machines say.
        self._seen: dict[Path, tuple[float, float]] = {}

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
            stored = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None  # removed meanwhile
        except OSError as exc:  # e.g. a stale NFS handle: not the file's fault, keep it
            self._warn(path, f"it cannot be read now ({type(exc).__name__}: {exc})")
            return None
        except Exception as exc:  # noqa: BLE001 - any damage is reported, never raised
            problem = f"it cannot be read ({type(exc).__name__}: {exc})"
        else:
            try:
                with stored:
                    contents = {name: stored[name] for name in stored.files}
                problem = self._problem(task, contents)
            except Exception as exc:  # noqa: BLE001 - a .npy, a missing field, a bad shape
                problem = f"it is not a block file of skrep ({type(exc).__name__}: {exc})"
        if problem is not None:
            self._warn(path, problem)
            with contextlib.suppress(OSError):
                path.unlink()  # one warning per damaged file: the next read finds nothing
            return None
        test = contents["test"] if bool(contents["has_test"]) else None
        return contents["train"], test

    @staticmethod
    def _warn(path: Path, problem: str) -> None:
        warnings.warn(
            f"Ignoring the cache file {path}: {problem}. Its block is computed again.",
            CacheWarning,
            stacklevel=4,
        )

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
        train, test = contents["train"], contents["test"]
        if train.shape != (n_pairs,) or test.shape != (n_pairs,):
            return f"it holds values of shape {train.shape}, not ({n_pairs},)"
        has_test = bool(contents["has_test"])
        if str(contents["checksum"]) != _checksum(self.key, task, train, test, has_test):
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
            "checksum": np.array(_checksum(self.key, task, train, stored_test, test is not None)),
        }
        path = self.path(task)
        temporary = path.with_name(f".{path.stem}-{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "wb") as file:
                np.savez(file, **contents)
            os.replace(temporary, path)
        except OSError as exc:  # a full or read-only disk: the values are still returned
            warnings.warn(
                f"Could not store a finished block in the cache ({path}: {exc}); the job goes "
                "on, but a rerun will compute this block again.",
                CacheWarning,
                stacklevel=3,
            )
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    def claim(self, task: BlockTask) -> BlockClaim | None:
        """Lock a block for computing it here; None if another run holds it.

        An abandoned lock (its process on this machine is gone, or this store
        has seen its heartbeat stopped for :data:`STALE_AFTER_SECONDS`) is
        taken over.

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
                # Take it over by renaming it away: of several runs that judged it
                # abandoned, one rename wins; the others find it gone and race to create.
                aside = lock.with_name(f"{lock.name}.{uuid.uuid4().hex}.abandoned")
                with contextlib.suppress(FileNotFoundError):
                    os.rename(lock, aside)
                    aside.unlink()
                continue
            token = uuid.uuid4().hex
            owner = {"machine": _this_machine(), "pid": os.getpid(), "token": token}
            with os.fdopen(descriptor, "w") as file:
                json.dump(owner, file)
            return BlockClaim(lock, token)
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

    def _abandoned(self, lock: Path) -> bool:
        """Whether a lock's run is gone: its process (this machine) or its heartbeat."""
        owner = _read_owner(lock)
        try:
            mtime = lock.stat().st_mtime
        except FileNotFoundError:
            owner = None
        if owner is None:
            self._seen.pop(lock, None)
            return False  # released meanwhile: not abandoned, just gone
        same_machine = owner.get("machine") == _this_machine() and os.name != "nt"
        if same_machine and isinstance(owner.get("pid"), int) and not _pid_alive(owner["pid"]):
            return True
        now = time.monotonic()
        seen_mtime, since = self._seen.get(lock, (None, now))
        if seen_mtime != mtime:
            self._seen[lock] = (mtime, now)  # a heartbeat (or a new lock): watch again
            return False
        return now - since > STALE_AFTER_SECONDS
