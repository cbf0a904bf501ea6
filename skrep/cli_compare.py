"""``skrep pairwise`` and ``skrep similarity``: a matrix of one measure between networks.

Both commands check every output path, load the networks, hold out stimuli
when asked, compute the matrix on the many-networks engine
(:func:`skrep.engine.compute_pairs`, as :func:`skrep.pairwise_distances` and
:func:`skrep.layer_similarity` do), refuse a matrix that is not finite or not
a valid distance (or that was computed through a float64 overflow), and only
then write the CSV files and figures.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .cli_files import (
    CLIError,
    check_cache_dir,
    check_figure,
    check_output,
    held_out_path,
    load_networks,
    split_stimuli,
    write_matrix_csv,
)
from .cli_measures import DISTANCES, SIMILARITIES, Measure, describe, make_estimator
from .engine import EstimatorMeasure, PairwiseMeasure, compute_pairs
from .plotting import plot_distance_matrix, plot_similarity_matrix

__all__ = ["run_pairwise", "run_similarity"]

#: Names of the networks in the engine's messages: their file names.
_ARG_NAMES = ("{}", "{}", "{} (held out)", "{} (held out)")


def _outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(option, path) of every file the command will write, checked before computing."""
    split = args.test_fraction is not None
    outputs = [("-o", args.output)] + ([("-o", str(held_out_path(args.output)))] if split else [])
    if args.figure is not None:
        outputs.append(("--figure", args.figure))
        if split:
            outputs.append(("--figure", str(held_out_path(args.figure))))
    for option, path in outputs:
        if option == "--figure":
            check_figure(path)
        else:
            check_output(path, option)
    if len({os.path.abspath(path) for _, path in outputs}) < len(outputs):
        raise CLIError(f"the output files {', '.join(p for _, p in outputs)} must differ.")
    inputs = [
        p for p in [*args.inputs, *(getattr(args, "against", None) or [])] if os.path.isfile(p)
    ]
    for option, path in outputs:
        if os.path.isfile(path) and any(os.path.samefile(p, path) for p in inputs):
            raise CLIError(f"{option} {path!r} is one of the inputs; it would be overwritten.")
    if args.cache_dir is not None:
        check_cache_dir(args.cache_dir)
    return outputs


def _largest(named: Mapping[str, np.ndarray]) -> str:
    sizes = {name: float(np.max(np.abs(a))) if a.size else 0.0 for name, a in named.items()}
    name = max(sizes, key=sizes.__getitem__)
    return f"largest |value| {sizes[name]:.3g}, in {name}"


def _compute(
    measure: Measure,
    estimator: Any,
    label: str,
    collections: Sequence[Mapping[str, np.ndarray] | None],
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The training and held-out matrices; warnings other than overflows are shown as usual."""
    engine_measure = (
        estimator if isinstance(estimator, PairwiseMeasure) else EstimatorMeasure(estimator)
    )
    distance = isinstance(estimator, PairwiseMeasure) and estimator.pairwise_kind == "distance"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = compute_pairs(
                engine_measure,
                *collections,
                n_jobs=args.n_jobs,
                verbose=not args.quiet,
                cache_dir=args.cache_dir,
                block_size=args.block_size,
                arg_names=_ARG_NAMES,
                kind="distance" if distance else None,
            )
        except (ValueError, TypeError) as exc:  # skrep's errors name the file and the option
            raise CLIError(" ".join(str(exc).split())) from None
        except RuntimeError as exc:  # from torch: a device, its memory
            raise CLIError(f"{type(exc).__name__}: {' '.join(str(exc).split())}") from None
    shown = set()
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning) and "overflow" in str(warning.message):
            data = {k: v for c in collections if c is not None for k, v in c.items()}
            raise CLIError(
                f"float64 overflowed while computing {label} ({warning.message}; "
                f"{_largest(data)}), so the matrix cannot be trusted; rescale the data, e.g. "
                "divide each network by its standard deviation."
            )
        key = (warning.category, str(warning.message), warning.filename, warning.lineno)
        if key not in shown:
            shown.add(key)
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    matrices = [result.train, result.test]
    if measure.angular:  # CKA's angular distance, as CKAEstimator.distance computes it
        matrices = [None if m is None else np.arccos(np.clip(m, -1.0, 1.0)) for m in matrices]
        for matrix in matrices:
            if matrix is not None and collections[1] is None:
                np.fill_diagonal(matrix, 0.0)  # CKA(X, X) = 1: a network is at 0 from itself
    return matrices[0], matrices[1]


def _check_matrix(
    M: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    what: str,
    distance: bool,
    upper: float | None,
) -> None:
    """Refuse non-finite values, negative distances, and angles above ``upper``."""
    finite = np.isfinite(M)
    checks = [(~finite, "not finite")]
    if distance:
        scale = max(1.0, float(np.max(np.abs(M[finite]), initial=0.0)))
        checks.append((finite & (M < -1e-9 * scale), "negative"))
    if upper is not None:
        checks.append((finite & (M > upper + 1e-9), f"above {upper:.6g}"))
    for mask, problem in checks:
        if mask.any():
            i, j = np.argwhere(mask)[0]
            raise CLIError(
                f"the {what} between {rows[i]} and {columns[j]} is {float(M[i, j])!r} "
                f"({problem}; {int(mask.sum())} such entries), so no file was written: the "
                "computation failed for these data (see the warnings above, if any)."
            )


def _title(text: str, what: str, n_stimuli: int, held_out: bool, split: bool) -> str:
    if not split:
        where = f"training {what}: fitted and measured on all {n_stimuli} stimuli"
    elif held_out:
        where = f"held-out {what}: measured on {n_stimuli} held-out stimuli"
    else:
        where = f"training {what}: fitted and measured on {n_stimuli} training stimuli"
    return "\n".join([*textwrap.wrap(text, 90), where])


def _close(figures: list[tuple[Any, str]]) -> None:
    if figures:
        import matplotlib.pyplot as plt

        for fig, _ in figures:
            plt.close(fig)


def _write(
    args: argparse.Namespace,
    outputs: list[tuple[str, str]],
    matrices: tuple[np.ndarray, np.ndarray | None],
    rows: list[str],
    columns: list[str] | None,
    titles: tuple[str, str],
    distance: bool,
) -> None:
    files = [p for option, p in outputs if option == "-o"]
    figures = [p for option, p in outputs if option == "--figure"]
    drawn = []  # drawn before any file is written: a matrix the plot refuses writes nothing
    try:
        for path, matrix, title in zip(figures, matrices, titles, strict=False):
            try:
                if distance:
                    fig = plot_distance_matrix(matrix, rows, title=title, random_state=0)
                else:
                    fig = plot_similarity_matrix(matrix, rows, columns or rows, title=title)
            except ValueError as exc:
                raise CLIError(f"--figure {path!r}: {' '.join(str(exc).split())}") from None
            drawn.append((fig, path))
        for path, matrix in zip(files, matrices, strict=False):
            try:
                write_matrix_csv(path, matrix, rows, columns)
            except OSError as exc:
                raise CLIError(f"-o {path!r}: {' '.join(str(exc).split())}") from None
        for fig, path in drawn:
            try:
                fig.savefig(path, dpi=120, bbox_inches="tight")
            except (OSError, ValueError) as exc:
                raise CLIError(f"--figure {path!r}: {' '.join(str(exc).split())}") from None
    finally:
        _close(drawn)
    if not args.quiet:
        written = ", ".join(files + figures)
        print(f"{len(rows)} x {len(columns or rows)} matrix; wrote {written}", file=sys.stderr)


def _run(
    args: argparse.Namespace,
    table: Mapping[str, Measure],
    name: str,
    option: str,
    against: Sequence[str] | None,
) -> None:
    measure = table[name]
    estimator = make_estimator(table, name, args, option)
    outputs = _outputs(args)
    rows, arrays = load_networks(args.inputs, ndim=measure.ndim)
    columns, column_arrays = (None, None)
    if against is not None:
        columns, column_arrays = load_networks(against, ndim=measure.ndim)
        if column_arrays[0].shape[0] != arrays[0].shape[0]:
            raise CLIError(
                f"{columns[0]} (--against) has {column_arrays[0].shape[0]} rows but {rows[0]} "
                f"has {arrays[0].shape[0]}; every network must hold its responses to the same "
                "stimuli, one row per stimulus in the same order."
            )
    elif len(arrays) < 2:
        raise CLIError(f"found {len(arrays)} network; expected at least 2 to compare.")
    n_rows = len(arrays)
    train, test = list(arrays) + list(column_arrays or []), None
    if args.test_fraction is not None:
        train, test = split_stimuli(train, args.test_fraction, args.seed)
    named = [dict(zip(rows, train[:n_rows], strict=True))]
    named.append(None if columns is None else dict(zip(columns, train[n_rows:], strict=True)))
    if test is None:
        named += [None, None]
    else:
        named.append(dict(zip(rows, test[:n_rows], strict=True)))
        named.append(None if columns is None else dict(zip(columns, test[n_rows:], strict=True)))
    distance = table is DISTANCES
    what = "distances" if distance else "similarities"
    text = describe(measure, estimator)
    matrices = _compute(measure, estimator, f"the {text} {what}", named, args)
    upper = (
        math.pi if measure.angular or getattr(estimator, "score_method", "") == "angular" else None
    )
    for matrix, split in zip(matrices, ("training", "held-out"), strict=True):
        if matrix is not None:
            _check_matrix(matrix, rows, columns or rows, f"{split} {what[:-1]}", distance, upper)
    sizes = (train[0].shape[0], None if test is None else test[0].shape[0])
    titles = (
        _title(text, what, sizes[0], False, test is not None),
        _title(text, what, sizes[1] or 0, True, True),
    )
    _write(args, outputs, matrices, rows, columns, titles, distance)


def run_pairwise(args: argparse.Namespace) -> None:
    """Run ``skrep pairwise``: the distances between every pair of networks.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    """
    _run(args, DISTANCES, args.metric, "--metric", None)


def run_similarity(args: argparse.Namespace) -> None:
    """Run ``skrep similarity``: a measure between every pair of layers, or of two models' layers.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    """
    _run(args, SIMILARITIES, args.measure, "--measure", args.against)
