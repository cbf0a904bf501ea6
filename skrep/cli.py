"""The ``skrep`` command.

``skrep pairwise --metric linear --alpha 1 a.npy b.npy c.npy -o distances.csv``
computes the matrix of distances between networks stored as ``.npy`` files
(one 2-D array of shape (n_stimuli, n_units) per network, or (n_classes,
n_repeats, n_units) for the stochastic metrics), ``.npz`` archives (one
network per array) or folders of them, and writes it as CSV with the network
names as header and first column. Every distance of the library is a
``--metric``: ``linear``, ``permutation``, ``cka`` (angular),
``gaussian-stochastic``, ``energy-stochastic``, each with its parameters as
options.

``skrep similarity --measure cka model/ -o cka.csv`` computes a similarity
between every pair of layers (``cka``, ``cca``, ``svcca``, ``pwcca``,
``rsa``, ``mutual-knn``, ...), and ``--against other/`` one model's layers
against another's, as :func:`skrep.layer_similarity` does.

``--test-fraction`` holds out a random subset of stimuli (the same for every
network) and also writes the held-out values; ``--figure`` draws the matrix.
Arrays are loaded with ``allow_pickle=False``; every output path is checked
before anything is computed, and every error is one line on stderr
(``skrep: error: ...``, exit status 2).

``skrep extract --model package.module:factory --stimuli stimuli.npy --layers
'features.*' -o activations/`` records a PyTorch model's layers (see
:func:`skrep.extraction.extract_activations`) into one ``.npy`` file per layer,
which ``skrep pairwise activations/ -o distances.csv`` reads.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from ._version import __version__
from .cli_compare import run_pairwise, run_similarity
from .cli_extract import add_extract_parser, run_extract
from .cli_files import CLIError, load_networks, write_distance_csv
from .cli_measures import (
    DISTANCES,
    SIMILARITIES,
    Measure,
    add_measure_options,
    integer_at_least,
    measures_epilog,
)

__all__ = ["main", "load_networks", "write_distance_csv", "CLIError"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (see :func:`main`)."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{' '.join(message.split())} (see '{self.prog} --help')")


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of workers, or -1 for all CPUs (-2 all but one...); "
            f"got {text!r}"
        )
    return value


def _add_matrix_command(
    commands: Any,  # noqa: ANN401 - argparse's private subparsers action
    name: str,
    table: Mapping[str, Measure],
    option: str,
    default: str,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, 88),
        epilog=measures_epilog(table, option),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("inputs", nargs="+", help=".npy / .npz files or folders of them")
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    parser.add_argument(
        option,
        choices=list(table),
        default=default,
        dest=option[2:],
        metavar="NAME",
        help=f"one of the names listed below (default: {default})",
    )
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        help="hold out this fraction of stimuli; also writes OUTPUT_test.csv (and FIGURE_test)",
    )
    parser.add_argument(
        "--seed", type=integer_at_least(0), default=0, help="seed of the held-out split"
    )
    parser.add_argument("--n-jobs", type=_n_jobs, default=None, help="joblib workers (-1: all)")
    parser.add_argument("--cache-dir", default=None, help="resume from / store blocks here")
    parser.add_argument(
        "--block-size", type=integer_at_least(1), default=None, help="networks per block"
    )
    parser.add_argument("--figure", default=None, help="also save a plot of the matrix here")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_measure_options(parser, table)
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="skrep",
        description="Similarity of neural representations (skrep).",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"skrep {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_matrix_command(
        commands,
        "pairwise",
        DISTANCES,
        "--metric",
        "linear",
        "distance matrix between networks",
        "Distances between all pairs of networks. Each input is a .npy file (one network, "
        "shape (n_stimuli, n_units), or (n_classes, n_repeats, n_units) for the stochastic "
        "metrics), an .npz archive (one network per array) or a folder of them.",
    )
    similarity = _add_matrix_command(
        commands,
        "similarity",
        SIMILARITIES,
        "--measure",
        "cka",
        "similarity matrix between layers, of one model or of two",
        "A similarity between every pair of layers (networks) given, or between them and the "
        "layers given after --against (rows: the inputs, columns: --against), as "
        "skrep.layer_similarity computes it. Each input is a .npy file (one layer, shape "
        "(n_stimuli, n_units)), an .npz archive (one layer per array) or a folder of them.",
    )
    similarity.add_argument(
        "--against",
        nargs="+",
        metavar="PATH",
        help="layers of the columns (e.g. another model's folder); default: the inputs",
    )
    add_extract_parser(commands)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "pairwise": run_pairwise,
    "similarity": run_similarity,
    "extract": run_extract,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skrep`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a user error (one line on stderr,
        ``skrep: error: ...``), 130 when interrupted. ``--help`` and
        ``--version`` exit with status 0 (``SystemExit``).
    """
    try:
        args = _build_parser().parse_args(argv)
        COMMANDS[args.command](args)
    except CLIError as exc:
        print(f"skrep: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            "skrep: error: not enough memory; try fewer or smaller networks, or a smaller "
            "--block-size.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("skrep: error: interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
