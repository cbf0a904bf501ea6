"""skrep pairwise --metric NAME and skrep similarity --measure NAME: every measure of the library.

Each name goes through the command on small arrays, with non-default options,
and its values are checked against the library's own routes: pairwise_distances
and layer_similarity (the engine) and one estimator fitted per pair.
"""

import csv
import inspect
import math

import numpy as np
import pytest

import skrep.metrics
from skrep import (
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
    layer_similarity,
    pairwise_distances,
)
from skrep.cli import main
from skrep.cli_measures import DISTANCES, OPTIONS, SIMILARITIES

#: Names, options given on the command line, and the estimator they must build.
PAIRWISE = [
    (
        "linear",
        ["--alpha", "0.5", "--score-method", "euclidean"],
        LinearMetric(0.5, score_method="euclidean"),
    ),
    ("permutation", ["--no-center"], PermutationMetric(center_columns=False)),
    ("gulp", ["--lmbda", "0.1", "--no-normalize"], GULPMetric(lmbda=0.1, normalize=False)),
    (
        "soft-matching",
        ["--solver", "sinkhorn", "--reg", "0.05"],
        SoftMatchingMetric(solver="sinkhorn", reg=0.05),
    ),
    ("cka", ["--kernel", "rbf", "--threshold", "0.5"], CKAEstimator("rbf", threshold=0.5)),
    ("bures", ["--threshold", "0.5"], BuresEstimator(threshold=0.5)),
    (
        "gaussian-stochastic",
        ["--alpha", "1.5", "--random-state", "0", "--n-restarts", "2"],
        GaussianStochasticMetric(1.5, random_state=0, n_restarts=2),
    ),
    (
        "energy-stochastic",
        ["--group", "perm", "--max-iter", "20"],
        EnergyStochasticMetric(group="perm", max_iter=20),
    ),
    (
        "gp-stochastic",
        ["--alpha", "0.5", "--group", "perm"],
        GPStochasticMetric(0.5, group="perm"),
    ),
]
SIMILARITY = [
    ("cka", ["--debiased"], CKAEstimator(debiased=True)),
    ("nbs", ["--kernel", "rbf"], BuresEstimator("rbf")),
    ("cca", ["--cca-method", "r2"], CCAEstimator("r2")),
    ("svcca", ["--n-components", "3"], SVCCAEstimator(3)),
    ("pwcca", [], PWCCAEstimator()),
    (
        "rsa",
        ["--rdm-method", "euclidean", "--compare-method", "pearson"],
        RSA("euclidean", "pearson"),
    ),
    ("mutual-knn", ["-k", "4"], MutualKNNEstimator(4)),
    ("jaccard-knn", ["--n-neighbors", "4"], JaccardKNNEstimator(4)),
    ("linear-regression", [], RegressionR2Estimator()),
    ("subspace-overlap", ["--n-components", "0.9"], SubspaceOverlap(0.9)),
    (
        "encoding-regression",
        ["--alphas", "0.1", "10", "--scoring", "r2"],
        EncodingRegression((0.1, 10.0), scoring="r2"),
    ),
    (
        "encoding-rsa",
        ["--alphas", "1", "--compare-method", "spearman"],
        EncodingRSA((1.0,), compare_method="spearman"),
    ),
    ("pls-predictivity", ["--n-components", "2"], PLSPredictivity(2)),
]
#: Public classes of skrep.metrics that no command takes, and why.
NOT_COMMANDS = {
    "BaseMetric": "base class",
    "AlignmentMetric": "base class",
    "PairedEstimator": "base class",
    "SimilarityEstimator": "base class",
    "DataRDMs": "a target (RDMs of a region), not an estimator",
    "LinearProbe": "scores features against stimulus labels, not against another network",
    "BandedEncodingRegression": "needs the feature bands of the row network, which a pair of "
    "arrays does not say",
    "WeightedRDMModel": "fits weights of model RDMs to data RDMs, not one network to another",
}


def read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return (
        [r[0] for r in rows[1:]],
        rows[0][1:],
        np.array([[float(v) for v in r[1:]] for r in rows[1:]]),
    )


def save(folder, arrays, prefix):
    folder.mkdir(exist_ok=True)
    for k, array in enumerate(arrays):
        np.save(folder / f"{prefix}{k}.npy", array)
    return str(folder)


def test_every_estimator_of_the_library_has_a_command():
    for name in skrep.metrics.__all__:
        cls = getattr(skrep.metrics, name)
        if name in NOT_COMMANDS:
            continue
        in_pairwise = any(m.estimator is cls for m in DISTANCES.values())
        in_similarity = any(m.estimator is cls for m in SIMILARITIES.values())
        assert in_pairwise or in_similarity, f"{name} is in neither skrep pairwise nor similarity"
        if hasattr(cls, "distance") or hasattr(cls, "pairwise_distances"):
            assert in_pairwise, f"{name} has a distance but no skrep pairwise --metric"
    assert {n for n, _, _ in PAIRWISE} == set(DISTANCES)
    assert {n for n, _, _ in SIMILARITY} == set(SIMILARITIES)


@pytest.mark.parametrize("table", [DISTANCES, SIMILARITIES], ids=["pairwise", "similarity"])
def test_options_are_parameters_of_their_estimators(table):
    for name, measure in table.items():
        params = inspect.signature(measure.estimator).parameters
        for param in measure.options:
            assert param in params, f"{name}: {measure.estimator.__name__} has no {param}"
            assert param in OPTIONS


@pytest.mark.parametrize(("name", "options", "estimator"), PAIRWISE, ids=[p[0] for p in PAIRWISE])
def test_pairwise_every_metric(tmp_path, rng, name, options, estimator):
    shape = (12, 4, 3) if "stochastic" in name else (30, 4)
    latent = rng.standard_normal(shape)
    arrays = [latent + 0.5 * rng.standard_normal(shape) for _ in range(3)]
    folder = save(tmp_path / "nets", arrays, "net")
    out = tmp_path / "d.csv"
    argv = ["pairwise", "--metric", name, *options, folder, "-o", str(out), "-q"]
    assert main([*argv, "--test-fraction", "0.25", "--seed", "1"]) == 0
    rows, columns, D = read_csv(out)
    assert rows == columns == ["net0", "net1", "net2"]
    D_test = read_csv(tmp_path / "d_test.csv")[2]
    held_out = np.sort(np.random.default_rng(1).permutation(shape[0])[: round(0.25 * shape[0])])
    train_rows = np.setdiff1d(np.arange(shape[0]), held_out)
    train, test = [a[train_rows] for a in arrays], [a[held_out] for a in arrays]
    if DISTANCES[name].angular:  # arccos of the engine's similarity, as .distance computes it
        expected = layer_similarity(estimator, train, layers_a_test=test)
        expected = [np.arccos(np.clip(m, -1, 1)) for m in expected]
    else:
        expected = pairwise_distances(estimator, train, test)
    np.testing.assert_allclose(D, expected[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(D_test, expected[1], rtol=0, atol=1e-12)
    # A second route: one estimator fitted on one pair, measured on its training and held-out data.
    fitted = estimator.fit(train[0], train[2])
    assert math.isclose(D[0, 2], fitted.distance(train[0], train[2]), abs_tol=1e-10)
    assert math.isclose(D_test[0, 2], fitted.distance(test[0], test[2]), abs_tol=1e-10)
    # Without a split: every stimulus.
    assert main(argv) == 0
    expected = [
        estimator.fit(arrays[i], arrays[j]).distance(arrays[i], arrays[j])
        for i, j in [(0, 1), (1, 2)]
    ]
    np.testing.assert_allclose(read_csv(out)[2][[0, 1], [1, 2]], expected, atol=1e-10)


@pytest.mark.parametrize(
    ("name", "options", "estimator"), SIMILARITY, ids=[s[0] for s in SIMILARITY]
)
def test_similarity_every_measure(tmp_path, rng, name, options, estimator):
    latent = rng.standard_normal((40, 5))
    layers = [latent @ rng.standard_normal((5, 6)) + rng.standard_normal((40, 6)) for _ in range(5)]
    rows_folder = save(tmp_path / "a", layers[:3], "a")
    columns_folder = save(tmp_path / "b", layers[3:], "b")
    out = tmp_path / "s.csv"
    argv = ["similarity", "--measure", name, *options, rows_folder, "-o", str(out), "-q"]
    assert main([*argv, "--against", columns_folder, "--test-fraction", "0.25"]) == 0
    rows, columns, S = read_csv(out)
    assert (rows, columns) == (["a0", "a1", "a2"], ["b0", "b1"])
    S_test = read_csv(tmp_path / "s_test.csv")[2]
    held_out = np.sort(np.random.default_rng(0).permutation(40)[:10])
    train_rows = np.setdiff1d(np.arange(40), held_out)
    train, test = [a[train_rows] for a in layers], [a[held_out] for a in layers]
    expected = layer_similarity(
        estimator, train[:3], train[3:], layers_a_test=test[:3], layers_b_test=test[3:]
    )
    np.testing.assert_allclose(S, expected[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(S_test, expected[1], rtol=0, atol=1e-12)
    # A second route: one estimator fitted on one pair (rows predict columns where asymmetric).
    fitted = estimator.fit(train[1], train[4])
    assert math.isclose(S[1, 1], fitted.score(train[1], train[4]), abs_tol=1e-10)
    assert math.isclose(S_test[1, 1], fitted.score(test[1], test[4]), abs_tol=1e-10)
    # One model's layers against each other: a square matrix, as layer_similarity computes.
    assert main(argv) == 0
    rows, columns, S = read_csv(out)
    assert rows == columns == ["a0", "a1", "a2"]
    np.testing.assert_allclose(S, layer_similarity(estimator, layers[:3]), rtol=0, atol=1e-12)
    assert math.isclose(
        S[2, 0], estimator.fit(layers[2], layers[0]).score(layers[2], layers[0]), abs_tol=1e-10
    )
