"""The ``skrep`` command.

``skrep extract --model package.module:factory --stimuli stimuli.npy --layers
'features.*' -o activations/`` records a PyTorch model's layers (see
:func:`skrep.extraction.extract_activations`) into one ``.npy`` file per layer,
which ``skrep pairwise activations/ -o distances.csv`` reads.

``skrep pairwise --metric linear --alpha 1 a.npy b.npy c.npy -o distances.csv``
computes the matrix of distances between networks stored as ``.npy`` files
(one 2-D array of shape (n_stimuli, n_units) per network), ``.npz`` archives
(one network per array) or folders of them, and writes it as CSV with the
network names as header and first column. ``--test-fraction`` holds out a
random subset of stimuli (the same for every network) and also writes the
held-out distances. Arrays are loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics
from .engine import compute_pairs
from .extraction import extract_activations, resolve_layers
from .extraction.checkpoints import load_state_dict_file
from .extraction.outputs import POOLS
from .extraction.store import layer_file_name
from .plotting import plot_distance_matrix

__all__ = ["main", "load_networks", "write_distance_csv"]

METRICS = {"linear": "LinearMetric", "permutation": "PermutationMetric"}


class CLIError(Exception):
    """A user error reported as one line on stderr (exit status 2)."""


def _load_file(path: Path) -> list[tuple[str, np.ndarray]]:
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise CLIError(f"cannot read {str(path)!r}: no such file.") from None
    except (OSError, ValueError, EOFError) as exc:
        raise CLIError(
            f"cannot read {str(path)!r} as a numpy .npy or .npz file (loaded with "
            f"allow_pickle=False): {exc}"
        ) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if not loaded.files:
                raise CLIError(f"{str(path)!r} is an .npz archive with no arrays.")
            try:
                return [(f"{path.stem}/{key}", loaded[key]) for key in loaded.files]
            except ValueError as exc:
                raise CLIError(f"cannot read an array of {str(path)!r}: {exc}") from None
    return [(path.stem, loaded)]


def load_networks(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[str], list[np.ndarray]]:
    """Load networks from ``.npy`` files, ``.npz`` archives and folders of them.

    Parameters
    ----------
    paths : sequence of str or path-like
        Files or folders. A folder contributes its ``.npy`` and ``.npz`` files
        in sorted order; an ``.npz`` archive one network per array.

    Returns
    -------
    names : list of str
        One name per network: the file stem, or ``stem/key`` inside an archive.
    arrays : list of ndarray
        The arrays, each checked to be 2-D, numeric and with the same number of
        rows as the first.
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
        if array.ndim != 2:
            raise CLIError(
                f"{name} holds a {array.ndim}-D array of shape {array.shape}; expected a 2-D "
                "array of shape (n_stimuli, n_units)."
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
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["network", *names])
        for name, row in zip(names, D, strict=True):
            writer.writerow([name, *(repr(float(v)) for v in row)])


def _test_path(output: str | os.PathLike[str]) -> Path:
    output = Path(output)
    return output.with_name(f"{output.stem}_test{output.suffix or '.csv'}")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skrep", description="Similarity of neural representations (skrep)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    pairwise = commands.add_parser(
        "pairwise",
        help="distance matrix between networks",
        description=(
            "Distances between all pairs of networks. Each input is a .npy file (one "
            "network, shape (n_stimuli, n_units)), an .npz archive (one network per "
            "array) or a folder of them."
        ),
    )
    pairwise.add_argument("inputs", nargs="+", help=".npy / .npz files or folders")
    pairwise.add_argument("-o", "--output", required=True, help="CSV file to write")
    pairwise.add_argument("--metric", choices=sorted(METRICS), default="linear")
    pairwise.add_argument(
        "--alpha", type=float, default=1.0, help="LinearMetric alpha (0 CCA .. 1 Procrustes)"
    )
    pairwise.add_argument("--score-method", choices=["angular", "euclidean"], default="angular")
    pairwise.add_argument("--no-center", action="store_true", help="do not subtract column means")
    pairwise.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        help="hold out this fraction of stimuli; also writes OUTPUT_test.csv",
    )
    pairwise.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
    pairwise.add_argument("--n-jobs", type=int, default=None, help="joblib workers (-1: all)")
    pairwise.add_argument("--cache-dir", default=None, help="resume from / store blocks here")
    pairwise.add_argument("--block-size", type=int, default=None, help="networks per block")
    pairwise.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda")
    pairwise.add_argument("--figure", default=None, help="also save a plot of the matrix here")
    pairwise.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_extract_parser(commands)
    return parser


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def integer(text: str) -> int:
        if int(text) < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}; got {text}")
        return int(text)

    return integer


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


def _add_extract_parser(commands: Any) -> None:
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
        type=_int_at_least(1),
        metavar="K",
        help="project every layer wider than K to K dimensions with a sparse random projection",
    )
    extract.add_argument(
        "--random-state",
        type=_int_at_least(0),
        metavar="SEED",
        help="seed of the projections (default: drawn at random, kept in the folder's record)",
    )
    extract.add_argument("--batch-size", type=_int_at_least(1), default=64, help="default: 64")
    extract.add_argument("--device", help="torch device, e.g. cpu or cuda (default: the model's)")
    extract.add_argument("-v", "--verbose", action="store_true", help="show a progress bar")


def _make_metric(args: argparse.Namespace) -> metrics.LinearMetric | metrics.PermutationMetric:
    cls = getattr(metrics, METRICS[args.metric])
    params = {
        "center_columns": not args.no_center,
        "score_method": args.score_method,
        "device": args.device,
    }
    if args.metric == "linear":
        params["alpha"] = args.alpha
    return cls(**params)


def _split(
    arrays: Sequence[np.ndarray], fraction: float, seed: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
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


def _pairwise(args: argparse.Namespace) -> None:
    names, arrays = load_networks(args.inputs)
    if len(arrays) < 2:
        raise CLIError(f"found {len(arrays)} network; expected at least 2 to compare.")
    tests = None
    if args.test_fraction is not None:
        arrays, tests = _split(arrays, args.test_fraction, args.seed)
    try:
        metric = _make_metric(args)
        # Mappings keyed by file name, so that errors name the files.
        result = compute_pairs(
            metric,
            dict(zip(names, arrays, strict=True)),
            None,
            None if tests is None else dict(zip(names, tests, strict=True)),
            n_jobs=args.n_jobs,
            verbose=not args.quiet,
            cache_dir=args.cache_dir,
            block_size=args.block_size,
            arg_names=("{}", "{}", "{} (held out)", "{} (held out)"),
            kind="distance",
        )
        D_train, D_test = result.train, result.test
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    write_distance_csv(args.output, D_train, names)
    written = [args.output]
    if D_test is not None:
        write_distance_csv(_test_path(args.output), D_test, names)
        written.append(str(_test_path(args.output)))
    if args.figure:
        fig = plot_distance_matrix(D_train, names, title=f"{type(metric).__name__} distances")
        fig.savefig(args.figure, dpi=120)
        written.append(args.figure)
    if not args.quiet:
        print(f"{len(names)} networks; wrote {', '.join(map(os.fspath, written))}", file=sys.stderr)


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
        raise CLIError("skrep extract needs PyTorch (pip install torch).") from None
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


def _extract(args: argparse.Namespace) -> None:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skrep`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a user error (message on stderr).
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "pairwise":
            _pairwise(args)
        elif args.command == "extract":
            _extract(args)
    except CLIError as exc:
        print(f"skrep {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
