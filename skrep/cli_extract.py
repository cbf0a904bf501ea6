"""``skrep extract``: the activations of a PyTorch model's layers, one ``.npy`` file per layer.

The model comes from ``package.module:factory`` or ``path/to/file.py:factory``
(a callable returning a ``torch.nn.Module``), its weights from a state-dict
file (``weights_only=True``), the stimuli from a memory-mapped ``.npy`` file;
:func:`skrep.extraction.extract_activations` records the layers.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .cli_files import CLIError
from .cli_measures import integer_at_least
from .extraction import extract_activations, resolve_layers
from .extraction.checkpoints import load_state_dict_file
from .extraction.outputs import POOLS
from .extraction.store import layer_file_name

__all__ = ["add_extract_parser", "run_extract"]


_EXTRACT_DESCRIPTION = """\
Record the activations of a PyTorch model's layers for every stimulus into one
.npy file of shape (n_stimuli, n_features) per layer (features.3 -> FOLDER/
features.3.npy), which `skrep pairwise FOLDER -o distances.csv` and numpy.load
read. A rerun with the same arguments resumes an interrupted run (or returns at
once when it is done); a folder holding another extraction is an error.
"""

_EXTRACT_EPILOG = """\
examples:
  skrep extract --model torchvision.models:alexnet --weights alexnet.pt \\
      --stimuli images.npy --layers 'features.*' --pool mean -o alexnet/
  skrep extract --model models/net.py:make_net --stimuli images.npy \\
      --layers leaves --max-features 4096 --random-state 0 -o net/
  skrep pairwise alexnet/ net/ -o distances.csv
"""


def add_extract_parser(commands: Any) -> None:  # noqa: ANN401 - argparse's private action type
    """Add the ``extract`` command to the subcommands of the ``skrep`` parser.

    Parameters
    ----------
    commands : argparse subparsers action
        What ``ArgumentParser.add_subparsers`` returned.
    """
    extract = commands.add_parser(
        "extract",
        help="activations of a PyTorch model's layers, one .npy file per layer",
        description=_EXTRACT_DESCRIPTION,
        epilog=_EXTRACT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    extract.add_argument(
        "--model",
        required=True,
        metavar="MODULE:FACTORY",
        help="a function or class called with no arguments that returns the torch.nn.Module: "
        "package.module:factory (imported; the current folder is searched too) or "
        "path/to/file.py:factory",
    )
    extract.add_argument(
        "--weights",
        metavar="FILE",
        help="state dict loaded into the model (torch.save(model.state_dict(), FILE), or a dict "
        "holding it under 'state_dict', 'model_state_dict' or 'model'; weights_only=True)",
    )
    extract.add_argument(
        "--stimuli",
        required=True,
        metavar="FILE.npy",
        help="a .npy array with one stimulus per row along its first axis (e.g. images "
        "(N, 3, H, W)), memory-mapped and batched; float arrays are cast to the model's dtype",
    )
    extract.add_argument(
        "--layers",
        required=True,
        nargs="+",
        metavar="LAYER",
        help="module names from model.named_modules() (features.3), glob patterns (quote them: "
        "'features.*', 'layer?'), 'leaves' (modules without children) or 'all'",
    )
    extract.add_argument("-o", "--output", required=True, metavar="FOLDER", help="folder to write")
    extract.add_argument(
        "--pool",
        choices=POOLS,
        help="reduce every axis but the stimulus and channel axes (default: flatten each output)",
    )
    extract.add_argument(
        "--channel-axis",
        type=int,
        help="the axis --pool keeps (default: 1 for (N, C, ...) maps, -1 for sequences)",
    )
    extract.add_argument(
        "--max-features",
        type=integer_at_least(1),
        metavar="K",
        help="project every layer wider than K to K dimensions with a sparse random projection",
    )
    extract.add_argument(
        "--random-state",
        type=integer_at_least(0),
        metavar="SEED",
        help="seed of the projections (default: drawn at random, kept in the folder's record)",
    )
    extract.add_argument("--batch-size", type=integer_at_least(1), default=64, help="default: 64")
    extract.add_argument("--device", help="torch device, e.g. cpu or cuda (default: the model's)")
    extract.add_argument("-v", "--verbose", action="store_true", help="show a progress bar")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _load_stimuli(path: str) -> np.ndarray:
    if not Path(path).is_file():
        raise CLIError(f"--stimuli: no such file {path!r}.")
    try:
        stimuli = np.load(path, mmap_mode="r", allow_pickle=False)  # never read whole
    except (OSError, ValueError, EOFError) as exc:
        raise CLIError(
            f"--stimuli: cannot read {path!r} as a numpy .npy file (loaded with "
            f"allow_pickle=False): {_one_line(exc)}"
        ) from None
    if not isinstance(stimuli, np.ndarray):
        stimuli.close()
        raise CLIError(f"--stimuli: {path!r} is an .npz archive; expected one .npy array.")
    if stimuli.ndim == 0 or stimuli.shape[0] == 0 or not np.issubdtype(stimuli.dtype, np.number):
        raise CLIError(
            f"--stimuli: {path!r} holds a {stimuli.dtype} array of shape {stimuli.shape}; "
            "expected numbers, with at least one stimulus along the first axis."
        )
    return stimuli


def _import_factory(spec: str) -> Callable[[], Any]:
    source, colon, attribute = spec.rpartition(":")
    if not colon or not source or not attribute:
        raise CLIError(
            f"--model {spec!r} is not of the form package.module:factory or "
            "path/to/file.py:factory."
        )
    if source.endswith(".py") and not Path(source).is_file():
        raise CLIError(f"--model: no such file {source!r}.")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does
    try:
        if source.endswith(".py"):
            found = importlib.util.spec_from_file_location(Path(source).stem, source)
            module = importlib.util.module_from_spec(found)
            sys.modules.setdefault(found.name, module)  # dataclasses look their module up
            found.loader.exec_module(module)
        else:
            module = importlib.import_module(source)
    except ModuleNotFoundError as exc:
        raise CLIError(f"--model: cannot import {source!r}: {_one_line(exc)}.") from None
    except Exception as exc:  # noqa: BLE001 - whatever the module's code raises
        raise CLIError(
            f"--model: importing {source!r} raised {type(exc).__name__}: {_one_line(exc)}"
        ) from None
    factory = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise CLIError(f"--model: {source!r} has no attribute {attribute!r}.")
        factory = getattr(factory, part)
    if not callable(factory):
        raise CLIError(
            f"--model: {spec} is a {type(factory).__name__}, not a callable that returns a model."
        )
    return factory


def _load_model(spec: str, weights: str | None, device: str | None) -> tuple[Any, Any]:
    try:
        import torch
    except ImportError:
        raise CLIError(
            "skrep extract needs PyTorch: pip install torch==2.13.0 (a pinned version; "
            "an unpinned torch pulls gigabytes of CUDA packages)."
        ) from None
    try:
        device = None if device is None else torch.device(device)
    except RuntimeError as exc:
        raise CLIError(f"--device: {_one_line(exc)}") from None
    factory = _import_factory(spec)
    try:
        model = factory()
    except Exception as exc:  # noqa: BLE001 - whatever the user's factory raises
        raise CLIError(f"--model: {spec}() raised {type(exc).__name__}: {_one_line(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise CLIError(
            f"--model: {spec}() returned a {type(model).__name__}; expected a torch.nn.Module."
        )
    if weights is not None:
        try:
            model.load_state_dict(load_state_dict_file(weights))
        except (OSError, ValueError, RuntimeError) as exc:
            raise CLIError(f"--weights: {_one_line(exc)}") from None
    return model, device


def run_extract(args: argparse.Namespace) -> None:
    """Run ``skrep extract``: record the layers and list the files written.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    """
    if args.weights is not None and not Path(args.weights).is_file():
        raise CLIError(f"--weights: no such file {args.weights!r}.")
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output {args.output!r} is a file; expected a folder.")
    stimuli = _load_stimuli(args.stimuli)
    model, device = _load_model(args.model, args.weights, args.device)
    try:
        layers = resolve_layers(model, args.layers)
    except ValueError as exc:
        raise CLIError(f"--layers: {_one_line(exc)}") from None
    try:
        arrays = extract_activations(
            model,
            stimuli,
            layers,
            batch_size=args.batch_size,
            device=device,
            pool=args.pool,
            channel_axis=args.channel_axis,
            max_features=args.max_features,
            random_state=args.random_state,
            out_dir=output,
            verbose=args.verbose,
        )
    except (ValueError, TypeError) as exc:  # the folder is named out_dir in the messages
        raise CLIError(_one_line(exc).replace("out_dir '", "--output '")) from None
    except RuntimeError as exc:  # from torch: the model's forward, a device, memory
        raise CLIError(f"{type(exc).__name__} while extracting: {_one_line(exc)}") from None
    width = max(len(name) for name in arrays)
    plural = "s" * (len(arrays) > 1)
    print(f"{len(arrays)} layer{plural} of {stimuli.shape[0]} stimuli written to {output}{os.sep}")
    for name, array in arrays.items():
        shape = " x ".join(map(str, array.shape))
        print(f"  {name:<{width}}  {shape:>14}  {array.dtype}  {layer_file_name(name)}")
