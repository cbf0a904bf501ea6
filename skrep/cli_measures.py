"""The measures of the ``skrep`` command: names -> estimators, parameters -> options.

``skrep pairwise --metric NAME`` takes a name of :data:`DISTANCES`,
``skrep similarity --measure NAME`` one of :data:`SIMILARITIES`. Each
estimator parameter the command exposes is one option of :data:`OPTIONS`
(``--alpha`` sets ``alpha``); an option is accepted only with the measures
that have its parameter, and left out it keeps the estimator's default.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cli_files import CLIError
from .metrics import (
    RSA,
    BuresEstimator,
    CCAEstimator,
    CKAEstimator,
    EncodingRegression,
    EncodingRSA,
    EnergyStochasticMetric,
    GaussianStochasticMetric,
    GPStochasticMetric,
    GULPMetric,
    JaccardKNNEstimator,
    LinearMetric,
    MutualKNNEstimator,
    PermutationMetric,
    PLSPredictivity,
    PWCCAEstimator,
    RegressionR2Estimator,
    SoftMatchingMetric,
    SubspaceOverlap,
    SVCCAEstimator,
)

__all__ = [
    "integer_at_least",
    "Option",
    "Measure",
    "OPTIONS",
    "DISTANCES",
    "SIMILARITIES",
    "add_measure_options",
    "measures_epilog",
    "make_estimator",
    "describe",
]


def integer_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer of at least ``minimum``.

    Parameters
    ----------
    minimum : int
        The smallest value accepted.

    Returns
    -------
    callable
        Parses a string; raises ``argparse.ArgumentTypeError`` otherwise.
    """

    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}; got {text}")
        return value

    return integer


def _count_or_fraction(text: str) -> int | float:
    """An int for "5", a float for "0.9" (as scikit-learn's PCA reads n_components)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (e.g. 10) or a fraction (e.g. 0.99); got {text!r}"
        ) from None


def _auto_or_count(text: str) -> str | int:
    return text if text == "auto" else integer_at_least(1)(text)


@dataclass(frozen=True)
class Option:
    """A command-line option that sets one estimator parameter.

    Parameters
    ----------
    flags : tuple of str
        The option strings, e.g. ``("--alpha",)``.
    help : str
        What it does, for ``--help``.
    kwargs : mapping
        Further arguments of ``argparse.ArgumentParser.add_argument`` (type,
        choices, action, const, nargs, metavar).
    """

    flags: tuple[str, ...]
    help: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


#: Every option, by the estimator parameter it sets.
OPTIONS = {
    "alpha": Option(
        ("--alpha",),
        "linear: 0 (CCA) .. 1 (Procrustes), default 1; gaussian- and gp-stochastic: weight "
        "of the means in [0, 2] (2 - alpha weighs the covariances), default 1",
        {"type": float},
    ),
    "score_method": Option(
        ("--score-method",), "default: angular", {"choices": ("angular", "euclidean")}
    ),
    "center_columns": Option(
        ("--no-center",), "do not subtract column means", {"action": "store_const", "const": False}
    ),
    "zero_pad": Option(
        ("--no-zero-pad",),
        "refuse networks of different widths instead of zero-padding the narrower one",
        {"action": "store_const", "const": False},
    ),
    "kernel": Option(("--kernel",), "CKA kernel, default: linear", {"choices": ("linear", "rbf")}),
    "sigma": Option(
        ("--sigma",),
        "RBF bandwidth (default: --threshold times the median distance)",
        {"type": float},
    ),
    "threshold": Option(
        ("--threshold",),
        "RBF bandwidth as a fraction of the median distance, default 0.8",
        {"type": float},
    ),
    "debiased": Option(
        ("--debiased",), "debiased CKA (Song et al. 2012)", {"action": "store_const", "const": True}
    ),
    "group": Option(
        ("--group",),
        "alignments searched: rotations, permutations or none, default: orth",
        {"choices": ("orth", "perm", "identity")},
    ),
    "init": Option(
        ("--init",), "first start of the fit, default: means", {"choices": ("means", "rand")}
    ),
    "n_restarts": Option(
        ("--n-restarts",),
        "starts of the fit, default 1",
        {"type": integer_at_least(1), "metavar": "N"},
    ),
    "max_iter": Option(
        ("--max-iter",),
        "iterations of the fit per start",
        {"type": integer_at_least(1), "metavar": "N"},
    ),
    "tol": Option(("--tol",), "tolerance of the fit", {"type": float}),
    "lmbda": Option(
        ("--lmbda",),
        "gulp: ridge penalty on the covariance, default 0.01 (0: least squares)",
        {"type": float},
    ),
    "normalize": Option(
        ("--no-normalize",),
        "gulp: keep each representation's scale instead of unit total variance",
        {"action": "store_const", "const": False},
    ),
    "solver": Option(
        ("--solver",),
        "soft-matching transport solver: emd (exact, default) or sinkhorn (entropic)",
        {"choices": ("emd", "sinkhorn")},
    ),
    "reg": Option(
        ("--reg",),
        "entropic regularisation of --solver sinkhorn, relative to the mean cost, default 0.01",
        {"type": float},
    ),
    "random_state": Option(
        ("--random-state",),
        "seed of the estimator (random starts, random projection)",
        {"type": integer_at_least(0), "metavar": "SEED"},
    ),
    "method": Option(
        ("--cca-method",),
        "mean of the canonical correlations or of their squares, default: mean",
        {"choices": ("mean", "r2")},
    ),
    "n_components": Option(
        ("--n-components",),
        "svcca: components kept, a fraction of the variance (default 0.99) or a count; "
        "subspace-overlap: components of the first network (default: all); "
        "pls-predictivity: PLS components (default 25)",
        {"type": _count_or_fraction, "metavar": "K"},
    ),
    "n_neighbors": Option(
        ("-k", "--n-neighbors"),
        "neighbours per stimulus, default 10",
        {"type": integer_at_least(1)},
    ),
    "rdm_method": Option(
        ("--rdm-method",),
        "how RDMs are computed: correlation (default), cosine, euclidean, sqeuclidean",
        {"metavar": "METHOD"},
    ),
    "compare_method": Option(
        ("--compare-method",),
        "how RDMs are compared: spearman (rsa's default), pearson (encoding-rsa's default), "
        "cosine, tau-a, rho-a, tau-b, ...",
        {"metavar": "METHOD"},
    ),
    "alphas": Option(
        ("--alphas",),
        "candidate ridge penalties, default 0.1 1 ... 1e5",
        {"type": float, "nargs": "+", "metavar": "ALPHA"},
    ),
    "scoring": Option(
        ("--scoring",),
        "how the ridge penalty is chosen, default: pearson",
        {"choices": ("pearson", "r2", "neg_mse")},
    ),
    "random_projection": Option(
        ("--random-projection",),
        "project the features first: 'auto' (Johnson-Lindenstrauss) or a dimension",
        {"type": _auto_or_count, "metavar": "K"},
    ),
    "device": Option(("--device",), "torch device, e.g. cpu or cuda (default: numpy)"),
}


@dataclass(frozen=True)
class Measure:
    """One name of the command: an estimator and the options that apply to it.

    Parameters
    ----------
    estimator : type
        The estimator class, built with the options given.
    options : tuple of str
        The parameters (keys of :data:`OPTIONS`) the command sets.
    summary : str
        One line for ``--help``.
    ndim : {2, 3}, default=2
        Dimensions of each network's array: (n_stimuli, n_units) or
        (n_classes, n_repeats, n_units).
    angular : bool, default=False
        The distance is ``arccos`` of the estimator's score (CKA's angular
        distance, as its ``distance`` method computes).
    """

    estimator: type
    options: tuple[str, ...]
    summary: str
    ndim: int = 2
    angular: bool = False


_SHAPE = ("score_method", "center_columns", "zero_pad", "device")
_KERNEL = ("kernel", "sigma", "threshold", "debiased", "device")
_STOCHASTIC = ("group", "max_iter", "tol", "zero_pad", "device")
_ENCODING = ("alphas", "scoring", "random_projection", "random_state", "device")

#: ``skrep pairwise --metric NAME``: every distance of the library.
DISTANCES = {
    "linear": Measure(LinearMetric, ("alpha", *_SHAPE), "generalized shape metric"),
    "permutation": Measure(PermutationMetric, _SHAPE, "shape metric over unit permutations"),
    "gulp": Measure(
        GULPMetric,
        ("lmbda", "normalize", "device"),
        "how differently ridge regressions on the two predict (GULP)",
    ),
    "soft-matching": Measure(
        SoftMatchingMetric,
        ("center_columns", "solver", "reg", "max_iter", "device"),
        "optimal transport between units (any widths; 2-Wasserstein)",
    ),
    "cka": Measure(CKAEstimator, _KERNEL, "angular CKA distance, arccos(CKA)", angular=True),
    "bures": Measure(
        BuresEstimator,
        ("kernel", "sigma", "threshold", "device"),
        "Bures angle arccos(NBS) (linear kernel: the angular Procrustes distance)",
        angular=True,
    ),
    "gaussian-stochastic": Measure(
        GaussianStochasticMetric,
        ("alpha", "init", "n_restarts", "random_state", *_STOCHASTIC),
        "Gaussian stochastic shape metric, on (n_classes, n_repeats, n_units) arrays",
        ndim=3,
    ),
    "energy-stochastic": Measure(
        EnergyStochasticMetric,
        _STOCHASTIC,
        "energy stochastic shape metric, on (n_classes, n_repeats, n_units) arrays",
        ndim=3,
    ),
    "gp-stochastic": Measure(
        GPStochasticMetric,
        ("alpha", "init", "n_restarts", "random_state", "group", "max_iter", "tol"),
        "stochastic-process shape metric, on (n_trials, n_times, n_units) arrays",
        ndim=3,
    ),
}

#: ``skrep similarity --measure NAME``: the similarity measures of the library.
SIMILARITIES = {
    "cka": Measure(CKAEstimator, _KERNEL, "centered kernel alignment"),
    "nbs": Measure(
        BuresEstimator, ("kernel", "sigma", "threshold", "device"), "normalised Bures similarity"
    ),
    "cca": Measure(CCAEstimator, ("method", "device"), "mean canonical correlation"),
    "svcca": Measure(SVCCAEstimator, ("n_components", "device"), "SVCCA"),
    "pwcca": Measure(PWCCAEstimator, ("device",), "projection-weighted CCA (not symmetric)"),
    "rsa": Measure(RSA, ("rdm_method", "compare_method", "device"), "RDMs compared"),
    "mutual-knn": Measure(MutualKNNEstimator, ("n_neighbors", "device"), "shared neighbours"),
    "jaccard-knn": Measure(
        JaccardKNNEstimator, ("n_neighbors", "device"), "Jaccard index of neighbours"
    ),
    "linear-regression": Measure(
        RegressionR2Estimator, ("device",), "R^2 of a row from a column (not symmetric)"
    ),
    "subspace-overlap": Measure(
        SubspaceOverlap, ("n_components", "device"), "variance of the column in the row's PCs"
    ),
    "encoding-regression": Measure(
        EncodingRegression, _ENCODING, "ridge encoding of a column from a row (held-out r)"
    ),
    "encoding-rsa": Measure(
        EncodingRSA,
        (*_ENCODING, "rdm_method", "compare_method"),
        "RDM of the encoding model's predictions against the column's RDM",
    ),
    "pls-predictivity": Measure(
        PLSPredictivity, ("n_components",), "PLS predictivity of a column from a row (median r)"
    ),
}


def add_measure_options(parser: argparse.ArgumentParser, table: Mapping[str, Measure]) -> None:
    """Add the options of the measures of ``table`` to ``parser`` (default None: not given).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of a command.
    table : mapping of str to Measure
        :data:`DISTANCES` or :data:`SIMILARITIES`.
    """
    group = parser.add_argument_group("options of the measures (only where they apply)")
    used = {param for measure in table.values() for param in measure.options}
    for param, option in OPTIONS.items():
        if param in used:
            group.add_argument(
                *option.flags, dest=param, default=None, help=option.help, **option.kwargs
            )


def _flag(param: str) -> str:
    return "/".join(OPTIONS[param].flags)


def measures_epilog(table: Mapping[str, Measure], option: str) -> str:
    """The list of names of ``table`` with their estimator and options, for ``--help``.

    Parameters
    ----------
    table : mapping of str to Measure
        :data:`DISTANCES` or :data:`SIMILARITIES`.
    option : str
        The option that takes the names (``--metric``, ``--measure``).

    Returns
    -------
    str
        One paragraph per name.
    """
    lines = [f"{option} NAME (the estimator; its options):"]
    for name, measure in table.items():
        options = " ".join(_flag(p) for p in measure.options)
        text = f"{name}: {measure.estimator.__name__}, {measure.summary}; {options or 'no options'}"
        lines.append(textwrap.fill(text, 88, initial_indent="  ", subsequent_indent="      "))
    return "\n".join(lines)


def make_estimator(
    table: Mapping[str, Measure], name: str, args: argparse.Namespace, option: str
) -> Any:
    """The estimator of ``name`` with the options given on the command line.

    Parameters
    ----------
    table : mapping of str to Measure
        :data:`DISTANCES` or :data:`SIMILARITIES`.
    name : str
        The measure's name (a key of ``table``).
    args : argparse.Namespace
        The parsed command line; options left out are None.
    option : str
        The option that chose the name, for messages.

    Returns
    -------
    estimator
        ``table[name].estimator(**given)``.
    """
    measure = table[name]
    known = {param for m in table.values() for param in m.options}
    given = {p: getattr(args, p) for p in sorted(known) if getattr(args, p, None) is not None}
    misplaced = [p for p in given if p not in measure.options]
    if misplaced:
        flags = ", ".join(_flag(p) for p in misplaced)
        applies = " ".join(_flag(p) for p in measure.options) or "none"
        raise CLIError(
            f"{flags} does not apply to {option} {name} ({measure.estimator.__name__}); its "
            f"options are: {applies}."
        )
    if isinstance(given.get("alphas"), list):
        given["alphas"] = tuple(given["alphas"])
    return measure.estimator(**given)


def describe(measure: Measure, estimator: Any) -> str:
    """The estimator with the values of its command-line parameters, e.g. for a title.

    Parameters
    ----------
    measure : Measure
        The entry of the table.
    estimator : estimator
        The estimator built by :func:`make_estimator`.

    Returns
    -------
    str
        E.g. ``"LinearMetric(alpha=0.5, score_method='angular', ...)"``;
        ``"arccos CKAEstimator(...)"`` for CKA's angular distance.
    """
    params = estimator.get_params(deep=False)
    shown = ", ".join(f"{p}={params[p]!r}" for p in measure.options if p != "device")
    text = f"{type(estimator).__name__}({shown})"
    return f"arccos {text}" if measure.angular else text
