"""The ``skrep`` command.

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
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import metrics
from .engine import compute_pairs
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
    return parser


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
    except CLIError as exc:
        print(f"skrep {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
