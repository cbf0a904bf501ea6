"""What an extraction's values depend on: the model's parameters, the stimuli, the options.

The record of an ``out_dir`` and the folders of ``benchmark_models``'s cache
are keyed by these; a rerun with the same ones resumes or reuses, any other is
told apart.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import joblib

from .._version import __version__
from ..engine.keys import fingerprint

if TYPE_CHECKING:
    import torch

__all__ = ["model_fingerprint", "option_fingerprint", "extraction_arguments", "extraction_key"]


def model_fingerprint(model: torch.nn.Module) -> str:
    """A hash of a model's architecture and of every parameter and buffer value.

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    str
        SHA-256 (hexadecimal) of its class, its ``repr`` (the architecture),
        the code of its module classes' ``forward`` methods and its state dict
        (names, dtypes, shapes and bytes).
    """
    import torch

    digest = hashlib.sha256()
    digest.update(f"{type(model).__module__}.{type(model).__qualname__}\n{model!r}".encode())
    # the code of every module class's forward: an edited forward is another model
    classes = {type(module): None for module in model.modules()}
    digest.update(joblib.hash([fingerprint(cls.forward) for cls in classes]).encode())
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.view(torch.int16)
        digest.update(tensor.numpy().reshape(-1).view("uint8").data)
    return digest.hexdigest()


def option_fingerprint(value: Any) -> str:
    """A hash of an option: functions by their code (see :func:`skrep.engine.keys.fingerprint`).

    Parameters
    ----------
    value : object
        A value, callable or container of them.

    Returns
    -------
    str
        Its hash; for an object that cannot be hashed, its class and ``repr``.
    """
    try:
        return joblib.hash(fingerprint(value))
    except Exception:  # noqa: BLE001 - whatever pickling raises
        return f"{type(value).__qualname__}:{value!r}"


def extraction_arguments(
    model: torch.nn.Module,
    stimuli_identity: str,
    layers: list[str],
    options: dict[str, Any],
) -> dict[str, str]:
    """The named arguments an extraction's values depend on, as strings.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    stimuli_identity : str
        The key of the stimuli (``StimulusSource.identity``).
    layers : list of str
        The resolved layer names.
    options : dict
        ``pool``, ``channel_axis``, ``max_features``, the drawn seed,
        ``transform``, ``select``, the parameter dtype, ...

    Returns
    -------
    dict of str -> str
        One entry per argument (``model``, ``stimuli``, ``layers`` and each
        option), so that a mismatch can be named.
    """
    arguments = {
        "skrep": __version__,
        "model": model_fingerprint(model),
        "stimuli": stimuli_identity,
        "layers": "\n".join(layers),
    }
    arguments.update({name: option_fingerprint(value) for name, value in options.items()})
    return arguments


def extraction_key(arguments: dict[str, str]) -> str:
    """One hash of an extraction's arguments (a folder name for a cache).

    Parameters
    ----------
    arguments : dict of str -> str
        From :func:`extraction_arguments`.

    Returns
    -------
    str
        Hexadecimal hash.
    """
    return joblib.hash(sorted(arguments.items()))
