"""The checkpoints of one architecture as a mapping name -> model, loaded on demand."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["Checkpoints", "load_state_dict_file"]

_NESTED_KEYS = ("state_dict", "model_state_dict", "model")


def load_state_dict_file(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict:
    """Read a state dict with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : path
        A file written by ``torch.save(model.state_dict(), path)``, or a
        training checkpoint dict holding it under ``"state_dict"``,
        ``"model_state_dict"`` or ``"model"``.
    map_location : str or torch.device, default="cpu"
        Passed to :func:`torch.load`.

    Returns
    -------
    dict
        The state dict.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {str(path)!r} does not exist.")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ValueError(
            f"cannot read the weights file {str(path)!r} with torch.load(weights_only=True): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if isinstance(state, Mapping):
        for key in _NESTED_KEYS:
            if isinstance(state.get(key), Mapping):
                return dict(state[key])
        return dict(state)
    raise ValueError(
        f"the weights file {str(path)!r} holds a {type(state).__name__}; expected a state dict "
        "(torch.save(model.state_dict(), path))."
    )


class Checkpoints(Mapping):
    """Checkpoints of one architecture: name -> model, each loaded when it is asked for.

    A training run's state-dict files (e.g. one per epoch) become models for
    :func:`skrep.benchmark_models`, which then scores every checkpoint and can
    plot each region's best-layer score across training
    (:func:`skrep.plotting.plot_checkpoint_scores`). Nothing is loaded before
    a model is asked for, so a mapping of many checkpoints costs no memory and
    pickles small (a dask worker loads its own).

    Parameters
    ----------
    factory : callable
        ``factory()`` returns a new model of the architecture (weights are
        then loaded into it); a module-level function or class, so that it
        pickles for parallel workers.
    files : sequence of paths, or dict of str -> path
        The state-dict files; names are the file stems unless a dict gives them.
    map_location : str or torch.device, default="cpu"
        Where tensors are loaded.

    Examples
    --------
    >>> import torch
    >>> from skrep.extraction import Checkpoints
    >>> def make():
    ...     return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> torch.save(make().state_dict(), folder / "epoch1.pt")
    >>> list(Checkpoints(make, [folder / "epoch1.pt"]))
    ['epoch1']
    """

    def __init__(
        self,
        factory: Callable[[], torch.nn.Module],
        files: Sequence[str | os.PathLike[str]] | Mapping[str, str | os.PathLike[str]],
        *,
        map_location: Any = "cpu",
    ) -> None:
        if not callable(factory):
            raise TypeError(f"factory must be a callable returning a model; got {factory!r}.")
        if isinstance(files, Mapping):
            paths = {str(name): Path(path) for name, path in files.items()}
        elif isinstance(files, (str, os.PathLike)):
            raise TypeError("files must be a list of paths or a dict name -> path; got one path.")
        else:
            paths = {Path(path).stem: Path(path) for path in files}
            if len(paths) != len(files):
                raise ValueError(
                    "files has two files with the same stem; pass a dict name -> path."
                )
        if not paths:
            raise ValueError("files is empty; expected at least one state-dict file.")
        self.factory, self.paths, self.map_location = factory, paths, map_location

    def __getitem__(self, name: str) -> torch.nn.Module:
        """Build the architecture and load the named checkpoint into it.

        Parameters
        ----------
        name : str
            A checkpoint's name.

        Returns
        -------
        torch.nn.Module
            The model with the checkpoint's weights.
        """
        if name not in self.paths:
            raise KeyError(f"no checkpoint named {name!r}; the names are {list(self.paths)}.")
        model = self.factory()
        model.load_state_dict(load_state_dict_file(self.paths[name], self.map_location))
        return model

    def __iter__(self) -> Iterator[str]:
        """Iterate over the checkpoints' names, in order."""
        return iter(self.paths)

    def __len__(self) -> int:
        """Return the number of checkpoints."""
        return len(self.paths)

    def __repr__(self) -> str:
        """Describe the checkpoints by factory and names."""
        factory = getattr(self.factory, "__qualname__", repr(self.factory))
        return f"Checkpoints({factory}, {list(self.paths)})"
