"""skrep.compat.netrep: netrep's signatures, sign and behaviour."""

import inspect
import itertools

import numpy as np
import pytest
from conftest import random_orthogonal

from skrep import metrics
from skrep.compat import netrep as compat

# Signatures of netrep @ 0186b8a (netrep/metrics/linear.py and perm.py).
NETREP_SIGNATURES = {
    (
        "LinearMetric",
        "__init__",
    ): "(self, alpha=1.0, center_columns=True, zero_pad=True, score_method='angular')",
    ("LinearMetric", "fit"): "(self, X, Y)",
    ("LinearMetric", "score"): "(self, X, Y)",
    ("LinearMetric", "fit_score"): "(self, X, Y)",
    ("LinearMetric", "partial_fit"): "(self, X)",
    ("LinearMetric", "finalize_fit"): "(self, cache_X, cache_Y)",
    (
        "LinearMetric",
        "pairwise_distances",
    ): "(self, train_data, test_data=None, processes=None, verbose=True)",
    (
        "PermutationMetric",
        "__init__",
    ): "(self, center_columns=True, zero_pad=True, score_method='angular')",
    ("PermutationMetric", "fit"): "(self, X, Y)",
    ("PermutationMetric", "score"): "(self, X, Y)",
    ("PermutationMetric", "partial_fit"): "(self, X)",
    ("PermutationMetric", "finalize_fit"): "(self, cache_X, cache_Y)",
    (
        "PermutationMetric",
        "pairwise_distances",
    ): "(self, train_data, test_data=None, processes=None, verbose=True)",
}


def without_annotations(signature):
    """The signature as netrep writes it: names, kinds and defaults (netrep has no annotations)."""
    empty = inspect.Parameter.empty
    parameters = [p.replace(annotation=empty) for p in signature.parameters.values()]
    return signature.replace(parameters=parameters, return_annotation=empty)


@pytest.mark.parametrize("cls, method", sorted(NETREP_SIGNATURES))
def test_signatures_are_netreps(cls, method):
    signature = inspect.signature(getattr(getattr(compat, cls), method))
    assert str(without_annotations(signature)) == NETREP_SIGNATURES[(cls, method)]


def test_transform_accepts_netreps_call(rng):
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    tX, tY = compat.LinearMetric().fit(X, Y).transform(X, Y)
    assert tX.shape == tY.shape == (30, 4)


def test_sign_is_the_only_difference(rng):
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    netrep_like = compat.LinearMetric(0.3, True, True, "euclidean").fit(X, Y)
    skrep_like = metrics.LinearMetric(0.3, score_method="euclidean").fit(X, Y)
    assert netrep_like.score(X, Y) == -skrep_like.score(X, Y) == skrep_like.distance(X, Y)
    assert isinstance(netrep_like, metrics.LinearMetric)
    assert sorted(netrep_like.get_params()) == [
        "alpha",
        "center_columns",
        "score_method",
        "zero_pad",
    ]


# netrep's own test cases (tests/test_metrics.py), run against the drop-in.


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_centered_procrustes_with_scaling_and_offset(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100, 10))
    Y = rng.exponential() * X @ random_orthogonal(rng, 10) + rng.standard_normal((1, 10))
    assert abs(compat.LinearMetric(alpha=1.0, center_columns=True).fit(X, Y).score(X, Y)) < 1e-6


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("center", [True, False])
def test_cca_vs_procrustes_on_linear_map(seed, center):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100, 10))
    Y = X @ rng.standard_normal((10, 10)) + (rng.standard_normal((1, 10)) if center else 0)
    assert compat.LinearMetric(alpha=0.0, center_columns=center).fit(X, Y).score(X, Y) < 1e-6
    assert compat.LinearMetric(alpha=1.0, center_columns=center).fit(X, Y).score(X, Y) > 1e-6


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("method", ["euclidean", "angular"])
def test_permutation_of_units(seed, center, method):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100, 10))
    Y = X[:, rng.permutation(10)]
    metric = compat.PermutationMetric(center_columns=center, score_method=method)
    assert abs(metric.fit(X, Y).score(X, Y)) < 1e-6


@pytest.mark.parametrize("Metric", [compat.LinearMetric, compat.PermutationMetric])
def test_partial_then_finalize_equals_fit(Metric, rng):
    X, Y = rng.standard_normal((40, 5)), rng.standard_normal((40, 5))
    full = Metric().fit(X, Y)
    split = Metric()
    split.finalize_fit(split.partial_fit(X), split.partial_fit(Y))
    assert abs(split.score(X, Y) - full.score(X, Y)) < 1e-12
    np.testing.assert_allclose(split.transform_X(X), full.transform(X), atol=1e-12)
    np.testing.assert_allclose(split.transform_Y(Y), full.transform(X, Y)[1], atol=1e-12)


@pytest.mark.parametrize("Metric", [compat.LinearMetric, compat.PermutationMetric])
def test_pairwise_distances_equal_pair_loop(Metric, rng):
    train = [rng.standard_normal((30, k)) for k in (4, 5, 4, 6)]
    test = [rng.standard_normal((10, k)) for k in (4, 5, 4, 6)]
    D_train, D_test = Metric().pairwise_distances(train, test, processes=1, verbose=False)
    for i, j in itertools.combinations(range(4), 2):
        fitted = Metric().fit(train[i], train[j])
        assert D_train[i, j] == D_train[j, i]
        assert D_train[i, j] == pytest.approx(fitted.score(train[i], train[j]), abs=1e-12)
        assert D_test[i, j] == D_test[j, i]
        assert D_test[i, j] == pytest.approx(fitted.score(test[i], test[j]), abs=1e-12)
    assert np.all(np.diag(D_train) == 0)
    _, no_test = Metric().pairwise_distances(train, processes=1, verbose=False)
    assert np.all(np.isinf(no_test[~np.eye(4, dtype=bool)]))


def test_pairwise_distances_verbose_message(rng, capsys):
    train = [rng.standard_normal((20, 3)) for _ in range(3)]
    compat.LinearMetric().pairwise_distances(train, processes=1)
    assert "3 distances" in capsys.readouterr().out


def test_pairwise_distances_mismatched_lists(rng):
    train = [rng.standard_normal((20, 3)) for _ in range(3)]
    with pytest.raises(ValueError, match="test_data holds 2 networks but train_data holds 3"):
        compat.LinearMetric().pairwise_distances(train, train[:2], verbose=False)


def test_whiten_keeps_netreps_absolute_eigenvalue_floor(rng):
    # netrep.utils.whiten clips the eigenvalues of X.T @ X at an absolute 1e-7: data
    # this small (every eigenvalue below it) are not whitened at all, Z = I.
    X = 1e-6 * rng.standard_normal((30, 5))
    assert np.linalg.eigvalsh(X.T @ X).max() < 1e-7
    X_whitened, Z = compat.whiten(X, 0.0)
    np.testing.assert_allclose(Z, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(X_whitened, X, atol=1e-20)
