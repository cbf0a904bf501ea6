"""skrep's main job on embedded data: shape distances between networks' layers.

Run it with ``python -m skrep.demo`` (or ``make demo``). It trains a few small
networks on scikit-learn's digits with different seeds
(:func:`skrep.datasets.load_digits_networks`) and prints

1. the mean LinearMetric distance between layer A of one network and layer B of
   another, for every pair of layers (Procrustes, alpha=1): corresponding
   layers should be closest;
2. the cross-validated distance between corresponding layers as alpha goes from
   0 (CCA-like) to 1 (Procrustes), and the alpha that ``GridSearchCV`` picks;
3. the model zoo as a whole: the matrix of held-out distances between every
   layer of every network (:func:`skrep.pairwise_distances`), how often a
   layer's nearest neighbour in another network is the corresponding layer,
   and a figure of the matrix and its 2-D MDS embedding
   (``skrep_demo_zoo.png`` unless ``--figure`` says otherwise);
4. the 8 model RDMs of Kriegeskorte et al. (2008) ranked against real human IT
   RDMs, with the noise ceiling;
5. from a model to scores: a small convolutional network trained on the digits
   with two seeds (:func:`skrep.datasets.train_digits_cnn`, a few seconds;
   needs torch), every layer recorded with
   :func:`skrep.extraction.extract_activations`, which layer of one seed is
   most similar (linear CKA) to each layer of the other, and the accuracy of a
   cross-validated linear probe (:class:`skrep.metrics.LinearProbe`) per layer.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.utils import Bunch

from ._typing import ArrayLike
from .datasets import load_digits_networks, load_kriegeskorte92, train_digits_cnn
from .extraction import extract_activations
from .functional import bootstrap_comparisons, compare_rdms, noise_ceiling
from .layerwise import layer_similarity
from .metrics import BaseMetric, LinearMetric, LinearProbe
from .multiset import pairwise_distances
from .plotting import plot_distance_matrix

__all__ = [
    "layer_distance_table",
    "alpha_sweep_table",
    "zoo_distances",
    "nearest_layer_accuracy",
    "identify_layers",
    "format_table",
    "main",
]


def format_table(
    values: ArrayLike,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    *,
    corner: str = "",
    fmt: str = "{:.3f}",
) -> str:
    """Format a 2-D array as a plain-text table.

    Parameters
    ----------
    values : array-like of shape (n_rows, n_columns)
        Numbers to show.
    row_labels, column_labels : list of str
        Labels of the rows and columns.
    corner : str, default=""
        Text in the top-left cell.
    fmt : str, default="{:.3f}"
        Format of each value.

    Returns
    -------
    str
        The table, one line per row plus a header line.
    """
    cells = [[fmt.format(v) for v in row] for row in np.asarray(values)]
    first = max(len(corner), *(len(r) for r in row_labels))
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(column_labels)]
    lines = [
        "  ".join(
            [corner.ljust(first)] + [c.rjust(w) for c, w in zip(column_labels, widths, strict=True)]
        )
    ]
    for label, row in zip(row_labels, cells, strict=True):
        lines.append(
            "  ".join([label.ljust(first)] + [c.rjust(w) for c, w in zip(row, widths, strict=True)])
        )
    return "\n".join(lines)


def layer_distance_table(
    networks: Sequence[Sequence[np.ndarray]], metric: BaseMetric
) -> np.ndarray:
    """Mean distance between layer a of one network and layer b of another.

    Parameters
    ----------
    networks : list of list of ndarray
        ``networks[i][a]`` is layer a of network i, shape (n_samples, width).
    metric : skrep metric
        Fitted afresh for every pair (training distance).

    Returns
    -------
    ndarray of shape (n_layers, n_layers)
        Entry (a, b) averages over ordered pairs of different networks.
    """
    n_layers = len(networks[0])
    total = np.zeros((n_layers, n_layers))
    count = 0
    for i, j in itertools.permutations(range(len(networks)), 2):
        for a, b in itertools.product(range(n_layers), repeat=2):
            total[a, b] += metric.fit(networks[i][a], networks[j][b]).distance(
                networks[i][a], networks[j][b]
            )
        count += 1
    return total / count


def alpha_sweep_table(
    networks: Sequence[Sequence[np.ndarray]], alphas: Sequence[float], cv: Any
) -> np.ndarray:
    """Cross-validated distance between corresponding layers, per alpha.

    Parameters
    ----------
    networks : list of list of ndarray
        ``networks[i][a]`` is layer a of network i.
    alphas : sequence of float
        Values of LinearMetric's alpha, one table row each.
    cv : cross-validation splitter
        Folds over stimuli (rows).

    Returns
    -------
    ndarray of shape (len(alphas), n_layers)
        Mean held-out distance over network pairs and folds.
    """
    n_layers = len(networks[0])
    table = np.zeros((len(alphas), n_layers))
    pairs = list(itertools.combinations(range(len(networks)), 2))
    for row, alpha in enumerate(alphas):
        for a in range(n_layers):
            scores = [
                cross_validate(LinearMetric(alpha=alpha), networks[i][a], networks[j][a], cv=cv)[
                    "test_score"
                ].mean()
                for i, j in pairs
            ]
            table[row, a] = -np.mean(scores)  # score is the negative distance
    return table


def zoo_distances(
    networks: Sequence[Sequence[np.ndarray]], metric: BaseMetric, *, random_state: int = 0
) -> np.ndarray:
    """Held-out distances between every layer of every network.

    Parameters
    ----------
    networks : list of list of ndarray
        ``networks[i][a]`` is layer a of network i, shape (n_samples, width).
    metric : skrep metric
        Fitted on half of the stimuli for every pair, scored on the other half.
    random_state : int, default=0
        Seed of the split of stimuli.

    Returns
    -------
    D_test : ndarray of shape (n_networks * n_layers, n_networks * n_layers)
        Held-out distances, representations ordered network by network.
    """
    n_samples = networks[0][0].shape[0]
    order = np.random.default_rng(random_state).permutation(n_samples)
    train, test = order[: n_samples // 2], order[n_samples // 2 :]
    layers = [layer for network in networks for layer in network]
    _, D_test = pairwise_distances(
        metric, [layer[train] for layer in layers], [layer[test] for layer in layers]
    )
    return D_test


def nearest_layer_accuracy(
    D: np.ndarray, n_networks: int, n_layers: int, *, per_layer: bool = False
) -> float | np.ndarray:
    """How often a layer's nearest layer in another network is the same layer.

    Parameters
    ----------
    D : ndarray of shape (n_networks * n_layers, n_networks * n_layers)
        Distances, representations ordered network by network.
    n_networks, n_layers : int
        Shape of the model zoo.
    per_layer : bool, default=False
        Return one accuracy per layer instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_layers,)
        Fraction of (layer, other network) pairs where the closest layer of the
        other network is the corresponding one (Kornblith et al. 2019's test),
        overall or for each layer.
    """
    hits = np.zeros(n_layers)
    for i, j in itertools.permutations(range(n_networks), 2):
        block = D[i * n_layers : (i + 1) * n_layers, j * n_layers : (j + 1) * n_layers]
        hits += np.argmin(block, axis=1) == np.arange(n_layers)
    per_layer_accuracy = hits / (n_networks * (n_networks - 1))
    return per_layer_accuracy if per_layer else float(per_layer_accuracy.mean())


def identify_layers(similarity: ArrayLike) -> tuple[np.ndarray, float]:
    """For each layer of one network, the most similar layer of another.

    Parameters
    ----------
    similarity : array-like of shape (n_layers, n_layers)
        Entry (a, b) is the similarity (higher is more similar) of layer a of
        the first network and layer b of the second, layers in the same order.

    Returns
    -------
    best : ndarray of shape (n_layers,)
        Index of the most similar layer of the second network for each layer
        of the first.
    accuracy : float
        Fraction of layers whose most similar layer is the corresponding one
        (same index), Kornblith et al. (2019)'s test.
    """
    similarity = np.asarray(similarity, dtype=float)
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"similarity must be a square matrix; got shape {similarity.shape}.")
    best = np.argmax(similarity, axis=1)
    return best, float(np.mean(best == np.arange(len(best))))


def _cnn_section(n_epochs: int, seeds: Sequence[int] = (0, 1)) -> None:
    if importlib.util.find_spec("torch") is None:
        print(
            "5. (torch is not installed: no CNN section; install it with\n"
            '   pip install -c constraints.txt "skrep[torch]", or run make demo)\n'
        )
        return
    nets = [train_digits_cnn(seed, n_epochs=n_epochs) for seed in seeds]
    names, target = nets[0].layer_names, nets[0].target
    layers = [extract_activations(net.model, net.images, names) for net in nets]
    widths = ", ".join(f"{name} {layers[0][name].shape[1]}" for name in names)
    print(
        "5. From a model to scores: a small CNN (skrep.datasets.train_digits_cnn; 3 convolutions,\n"
        f"   1 dense layer) trained on the digits with seeds {list(seeds)} for {n_epochs} epochs "
        f"in {sum(net.training_time for net in nets):.1f} s: held-out\n"
        f"   accuracy {nets[0].accuracy:.3f} and {nets[1].accuracy:.3f}. Every layer recorded on "
        f"the {len(target)} held-out images with\n"
        f"   skrep.extraction.extract_activations; features per image:\n   {widths}.\n"
        f"   Linear CKA (skrep.layer_similarity) between layer A of seed {seeds[0]} and layer B "
        f"of seed {seeds[1]}:"
    )
    cka = np.asarray(layer_similarity("linear_cka", layers[0], layers[1]))
    print(format_table(cka, names, names, corner="A \\ B"))
    for (a, b), matrix in (((seeds[0], seeds[1]), cka), ((seeds[1], seeds[0]), cka.T)):
        best, accuracy = identify_layers(matrix)
        found = " ".join(names[k] for k in best)
        print(
            f"   most similar layer of seed {b} to each of seed {a}: {found}: "
            f"{accuracy:.0%} identified"
        )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    features = {"pixels": nets[0].images.reshape(len(target), -1), **layers[0]}
    accuracy = [
        cross_val_score(LinearProbe(cv=None), X, target, cv=cv).mean() for X in features.values()
    ]
    print(
        f"   Linear probe (skrep.metrics.LinearProbe, 5-fold cross-validated accuracy of the "
        f"digit\n   from each layer of seed {seeds[0]}):"
    )
    print(format_table([accuracy], ["accuracy"], list(features), corner="layer"))
    print()


def _zoo_section(data: Bunch, hidden: Sequence[Sequence[np.ndarray]], figure: str | None) -> None:
    n_networks, n_layers = len(hidden), len(hidden[0])
    D = zoo_distances(hidden, LinearMetric(alpha=1.0))
    layer_of = np.tile(np.arange(n_layers), n_networks)
    network_of = np.repeat(np.arange(n_networks), n_layers)
    different = network_of[:, None] != network_of[None, :]
    same_layer = different & (layer_of[:, None] == layer_of[None, :])
    print(
        f"3. Model zoo: held-out Procrustes distances between all {n_networks * n_layers} "
        "hidden layers\n   (skrep.pairwise_distances, fitted on half of the images, "
        "measured on the other half):"
    )
    summary = f"   same layer, different networks: {D[same_layer].mean():.3f}"
    if n_layers > 1:
        accuracy = nearest_layer_accuracy(D, n_networks, n_layers)
        summary += (
            f"; different layers: {D[different & ~same_layer].mean():.3f}; the nearest layer in "
            f"another network is the same layer {accuracy:.0%} of the time."
        )
    print(summary)
    if figure is None:
        return
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is optional
        print("   (matplotlib is not installed: no figure)\n")
        return
    matplotlib.use("Agg")
    labels = [f"net{i}/{name}" for i in range(n_networks) for name in data.layer_names]
    groups = [data.layer_names[a] for a in layer_of]
    fig = plot_distance_matrix(
        D,
        labels,
        groups=groups,
        title="digits MLPs: held-out LinearMetric(alpha=1) distances",
        random_state=0,  # the same figure on every run, whatever scikit-learn's version
    )
    fig.savefig(figure, dpi=110, bbox_inches="tight")  # nothing cut off, whatever the names
    print(f"   figure (matrix and 2-D MDS embedding): {figure}\n")


def brain_model_ranking(
    method: str = "spearman", *, n_bootstrap: int = 500, random_state: int = 0
) -> tuple[list[str], np.ndarray, tuple[float, float]]:
    """Rank the 8 model RDMs of Kriegeskorte et al. (2008) against the 8 human IT RDMs.

    Parameters
    ----------
    method : str, default="spearman"
        RDM comparison (see :func:`skrep.functional.compare_rdms`).
    n_bootstrap : int, default=500
        Stimulus resamples for the 95% confidence intervals.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    names : list of str
        Model names, best first.
    table : ndarray of shape (8, 3)
        Per model: mean comparison with the human IT RDMs, and the 2.5 and
        97.5 percentiles of its bootstrap distribution over stimuli.
    ceiling : tuple of float
        Lower and upper bounds of the noise ceiling.
    """
    data = load_kriegeskorte92(condensed=True)
    observed = compare_rdms(data.model_rdms, data.brain_rdms, method).mean(axis=1)
    samples = bootstrap_comparisons(
        data.model_rdms,
        data.brain_rdms,
        method,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    order = np.argsort(-observed)
    table = np.column_stack([observed, low, high])[order]
    return [str(data.model_names[k]) for k in order], table, noise_ceiling(data.brain_rdms, method)


def _brain_section(n_bootstrap: int) -> None:
    names, table, (lower, upper) = brain_model_ranking(n_bootstrap=n_bootstrap)
    print(
        "4. Real brain data: the 8 model RDMs of Kriegeskorte et al. (2008, Neuron) against\n"
        "   the 8 human IT fMRI RDMs of 92 object images (Spearman correlation, mean over\n"
        f"   subjects and sessions; 95% bootstrap intervals over stimuli, {n_bootstrap} resamples):"
    )
    print(format_table(table, names, ["mean", "ci_low", "ci_high"], corner="model"))
    print(f"   noise ceiling: lower {lower:.3f}, upper {upper:.3f}\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo and print its tables.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``--networks``, ``--hidden``, ``--max-iter``,
        ``--figure``, ``--no-figure``, ``--bootstrap``, ``--cnn-epochs``,
        ``--no-cnn``).
    """
    parser = argparse.ArgumentParser(
        prog="python -m skrep.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--networks", type=int, default=4, help="networks to train (seeds)")
    parser.add_argument(
        "--hidden", type=int, nargs="+", default=[64, 64, 64], help="hidden layer widths"
    )
    parser.add_argument("--max-iter", type=int, default=400, help="training epochs")
    parser.add_argument(
        "--figure", default="skrep_demo_zoo.png", help="where to save the model-zoo figure"
    )
    parser.add_argument("--no-figure", action="store_true", help="do not draw the figure")
    parser.add_argument(
        "--bootstrap", type=int, default=500, help="bootstrap resamples for the brain-RDM section"
    )
    parser.add_argument(
        "--cnn-epochs", type=int, default=12, help="training epochs of the CNN section"
    )
    parser.add_argument("--no-cnn", action="store_true", help="skip the CNN section (torch)")
    args = parser.parse_args(argv)
    if args.networks < 2:
        parser.error(f"--networks must be at least 2 to compare networks; got {args.networks}")
    if args.cnn_epochs < 1:
        parser.error(f"--cnn-epochs must be at least 1; got {args.cnn_epochs}")

    start = time.perf_counter()
    data = load_digits_networks(args.networks, tuple(args.hidden), max_iter=args.max_iter)
    networks = [[data.pixels] + layers for layers in data.layers]
    names = ["pixels"] + data.layer_names
    n_samples = data.pixels.shape[0]
    print(
        f"skrep demo: {args.networks} MLPs (hidden layers {tuple(args.hidden)}) trained on "
        f"scikit-learn's digits with seeds {data.seeds}.\n"
        f"Held-out accuracy {data.accuracy.min():.3f} to {data.accuracy.max():.3f}; "
        f"activations of {n_samples} held-out images.\n"
    )

    table = layer_distance_table(networks, LinearMetric(alpha=1.0))
    print(
        "1. Mean angular Procrustes distance (LinearMetric alpha=1, radians) between\n"
        "   layer A of one network and layer B of another network:"
    )
    print(format_table(table, names, names, corner="A \\ B"))
    closest = [names[int(np.argmin(row))] for row in table]
    print(f"   closest layer B for each A: {dict(zip(names, closest, strict=True))}\n")

    alphas = [0.0, 0.25, 0.5, 0.75, 1.0]
    cv = KFold(5, shuffle=True, random_state=0)
    hidden = [layers[1:] for layers in networks]
    sweep = alpha_sweep_table(hidden, alphas, cv)
    print(
        "2. Cross-validated distance between corresponding layers of different networks\n"
        "   (5-fold: alignment fitted on 4/5 of the images, distance on the other 1/5):"
    )
    print(format_table(sweep, [f"alpha={a:.2f}" for a in alphas], data.layer_names))

    search = GridSearchCV(LinearMetric(), {"alpha": alphas}, cv=cv)
    search.fit(networks[0][-1], networks[1][-1])
    print(
        f"   GridSearchCV over alpha for {names[-1]}, network 0 vs 1: best alpha = "
        f"{search.best_params_['alpha']:.2f}, held-out distance = {-search.best_score_:.3f}\n"
    )
    _zoo_section(data, hidden, None if args.no_figure else args.figure)
    _brain_section(args.bootstrap)
    if not args.no_cnn:
        _cnn_section(args.cnn_epochs)
    print(f"Done in {time.perf_counter() - start:.1f} s.")


if __name__ == "__main__":  # pragma: no cover
    main()
