"""skrep.compat.netrep: the names a netrep script imports beyond the metric classes.

netrep.multiset (pairwise_distances, cross_distances, frechet_mean,
euclidean_tangent_space), netrep.utils.align and netrep.metrics.LinearCKA, with
netrep's signatures and return conventions; values from closed forms, invariances
and second implementations (loops of fit/score, scipy, explicit Gram matrices).
"""

import inspect
import itertools
import runpy
import textwrap

import numpy as np
import pytest
import scipy.sparse
from conftest import random_orthogonal
from scipy.linalg import orthogonal_procrustes

from skrep import CKAEstimator
from skrep import functional as F
from skrep.compat import netrep as compat
from skrep.exceptions import InvalidParameterError

# Signatures of netrep @ 0186b8a (netrep/multiset.py, netrep/utils.py, netrep/metrics/cka.py).
NETREP_SIGNATURES = {
    "pairwise_distances": "(metric, traindata, testdata=None, verbose=True, enable_caching=False)",
    "cross_distances": "(metric, Xs, Ys, Xs_test=None, Ys_test=None, verbose=True)",
    "frechet_mean": (
        "(Xs, group='orth', random_state=None, tol=0.001, max_iter=100, warmstart=None, "
        "verbose=False, method='streaming', return_aligned_Xs=False)"
    ),
    "euclidean_tangent_space": "(Xs, Xbar, group='orth')",
    "align": "(X, Y, group='orth')",
    "LinearCKA": "(center_columns=True)",
}


def without_annotations(signature):
    empty = inspect.Parameter.empty
    parameters = [p.replace(annotation=empty) for p in signature.parameters.values()]
    return signature.replace(parameters=parameters, return_annotation=empty)


@pytest.mark.parametrize("name", sorted(NETREP_SIGNATURES))
def test_names_are_importable_with_netreps_signature(name):
    assert name in compat.__all__
    obj = getattr(compat, name)
    assert obj.__module__ == "skrep.compat.netrep"
    assert str(without_annotations(inspect.signature(obj))) == NETREP_SIGNATURES[name]


def test_linear_cka_methods_are_netreps():
    for method in ("fit", "score"):
        signature = inspect.signature(getattr(compat.LinearCKA, method))
        assert str(without_annotations(signature)) == "(self, X, Y)"
    assert compat.LinearCKA().get_params() == {"center_columns": True}


# -- align ------------------------------------------------------------------------------------
def test_align_recovers_a_rotation(rng):
    X = rng.standard_normal((30, 5))
    Q = random_orthogonal(rng, 5)
    T = compat.align(X, X @ Q)
    assert type(T) is np.ndarray
    np.testing.assert_allclose(T, Q, atol=1e-12)
    np.testing.assert_allclose(T.T @ T, np.eye(5), atol=1e-12)


def test_align_rotation_equals_scipys_procrustes(rng):
    X, Y = rng.standard_normal((30, 5)), rng.standard_normal((30, 5))
    np.testing.assert_allclose(compat.align(X, Y), orthogonal_procrustes(X, Y)[0], atol=1e-12)


def test_align_recovers_a_permutation(rng):
    X = rng.standard_normal((30, 6))
    order = np.array([3, 0, 5, 1, 4, 2])
    T = compat.align(X, X[:, order], group="perm")
    assert isinstance(T, scipy.sparse.csr_matrix)
    expected = np.zeros((6, 6))
    expected[order, np.arange(6)] = 1.0  # column j of X @ T is column order[j] of X
    np.testing.assert_array_equal(T.toarray(), expected)
    np.testing.assert_array_equal(X @ T, X[:, order])


def test_align_identity_is_a_sparse_eye(rng):
    X = rng.standard_normal((10, 4))
    T = compat.align(X, rng.standard_normal((10, 4)), group="identity")
    assert isinstance(T, scipy.sparse.dia_matrix)
    np.testing.assert_array_equal(T.toarray(), np.eye(4))


def test_align_at_extreme_scales(rng):
    X = rng.standard_normal((30, 4))
    Q = random_orthogonal(rng, 4)
    np.testing.assert_allclose(compat.align(1e300 * X, 1e-300 * X @ Q), Q, atol=1e-12)


def test_align_float32_far_from_zero_is_computed_in_float64(rng):
    X = (1e4 + rng.standard_normal((40, 4))).astype(np.float32)
    Y = (X @ random_orthogonal(rng, 4) + rng.standard_normal((40, 4))).astype(np.float32)
    expected = orthogonal_procrustes(X.astype(np.float64), Y.astype(np.float64))[0]
    np.testing.assert_allclose(compat.align(X, Y), expected, atol=1e-6)


def test_align_refuses_bad_input(rng):
    X = rng.standard_normal((10, 4))
    with pytest.raises(InvalidParameterError, match="'group'.*'rot'"):
        compat.align(X, X, group="rot")
    with pytest.raises(ValueError, match=r"X has 4 columns but Y has 3"):
        compat.align(X, X[:, :3])


# -- LinearCKA --------------------------------------------------------------------------------
def test_linear_cka_is_the_arccos_of_linear_cka(rng):
    X, Y = rng.standard_normal((40, 6)), rng.standard_normal((40, 3))
    metric = compat.LinearCKA()
    assert metric.fit(X, Y) is metric
    assert metric.score(X, Y) == pytest.approx(np.arccos(F.linear_cka(X, Y)), abs=1e-13)
    assert metric.score(X, Y) == pytest.approx(CKAEstimator().fit(X, Y).distance(X, Y), abs=1e-13)
    # CKA of a matrix with itself, or with a rotated and scaled copy, is 1
    assert metric.score(X, X) == pytest.approx(0.0, abs=1e-7)
    assert metric.score(X, 3 * X @ random_orthogonal(rng, 6)) == pytest.approx(0.0, abs=1e-7)


def test_linear_cka_uncentered_equals_the_gram_angle(rng):
    X, Y = rng.standard_normal((30, 4)) + 2.0, rng.standard_normal((30, 7)) - 1.0
    K, L = X @ X.T, Y @ Y.T  # netrep's formula, through the n x n Gram matrices
    expected = np.arccos(np.sum(K * L) / (np.linalg.norm(K) * np.linalg.norm(L)))
    uncentered = compat.LinearCKA(center_columns=False)
    assert uncentered.score(X, Y) == pytest.approx(expected, abs=1e-12)
    # the mean matters without centering
    assert compat.LinearCKA().score(X, Y) != pytest.approx(expected, abs=1e-3)


def test_linear_cka_scores_without_fit_and_any_widths(rng):
    X, Y, Z = (rng.standard_normal((20, p)) for p in (3, 5, 8))
    metric = compat.LinearCKA().fit(X, Y)
    assert metric.score(X, Z) == pytest.approx(np.arccos(F.linear_cka(X, Z)), abs=1e-13)
    assert compat.LinearCKA().score(Y, Z) == pytest.approx(np.arccos(F.linear_cka(Y, Z)), abs=1e-13)


def test_linear_cka_refuses_bad_input(rng):
    X = rng.standard_normal((20, 3))
    with pytest.raises(InvalidParameterError, match="center_columns.*'yes'"):
        compat.LinearCKA(center_columns="yes").score(X, X)
    with pytest.raises(ValueError, match="Y is all zeros"):
        compat.LinearCKA(center_columns=False).score(X, np.zeros((20, 3)))


# -- pairwise and cross distances -------------------------------------------------------------
def _networks(rng, k=4, n=40, widths=(5, 5, 4, 6)):
    base = rng.standard_normal((n, 6))
    return [base[:, :p] + 0.3 * rng.standard_normal((n, p)) for p in widths[:k]]


def _loop(metric, Xs, Ys, Xs_test=None, Ys_test=None):
    """netrep's definition: fit each pair on the training data, score (= distance) both."""
    train = np.zeros((len(Xs), len(Ys)))
    test = np.zeros_like(train)
    for i, X in enumerate(Xs):
        for j, Y in enumerate(Ys):
            metric.fit(X, Y)
            train[i, j] = metric.score(X, Y)
            if Xs_test is not None:
                test[i, j] = metric.score(Xs_test[i], Ys_test[j])
    return train, test


@pytest.mark.parametrize(
    "metric",
    [compat.LinearMetric(alpha=0.5), compat.PermutationMetric(), compat.LinearCKA()],
    ids=["linear", "permutation", "cka"],
)
def test_pairwise_distances_equal_a_loop_of_fit_and_score(rng, metric):
    Xs = _networks(rng)
    train, test = [X[:30] for X in Xs], [X[30:] for X in Xs]
    D = compat.pairwise_distances(metric, train, verbose=False)
    assert type(D) is np.ndarray  # netrep returns the matrix alone without test data
    expected, _ = _loop(metric, train, train)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(D, expected, atol=1e-12)
    D_train, D_test = compat.pairwise_distances(metric, train, test, verbose=False)
    expected_train, expected_test = _loop(metric, train, train, test, test)
    np.fill_diagonal(expected_train, 0.0)
    np.fill_diagonal(expected_test, 0.0)
    np.testing.assert_allclose(D_train, expected_train, atol=1e-12)
    np.testing.assert_allclose(D_test, expected_test, atol=1e-12)


def test_cross_distances_equal_a_loop_of_fit_and_score(rng):
    Xs = _networks(rng)
    metric = compat.LinearMetric(alpha=1.0)
    rows, columns = [X[:30] for X in Xs[:2]], [X[:30] for X in Xs[2:]]
    rows_test, columns_test = [X[30:] for X in Xs[:2]], [X[30:] for X in Xs[2:]]
    D = compat.cross_distances(metric, rows, columns, verbose=False)
    assert type(D) is np.ndarray and D.shape == (2, 2)
    np.testing.assert_allclose(D, _loop(metric, rows, columns)[0], atol=1e-12)
    D_train, D_test = compat.cross_distances(
        metric, rows, columns, rows_test, columns_test, verbose=False
    )
    expected_train, expected_test = _loop(metric, rows, columns, rows_test, columns_test)
    np.testing.assert_allclose(D_train, expected_train, atol=1e-12)
    np.testing.assert_allclose(D_test, expected_test, atol=1e-12)


def test_pairwise_distances_of_a_skrep_metric_are_distances(rng):
    from skrep import LinearMetric

    Xs = _networks(rng, k=3)
    D = compat.pairwise_distances(LinearMetric(), Xs, verbose=False)
    np.testing.assert_allclose(D, compat.pairwise_distances(compat.LinearMetric(), Xs), atol=1e-14)
    assert D[0, 1] > 0


class _NetrepStyle:
    """A metric written for netrep: fit returns None, score is a distance, no get_params."""

    def fit(self, X, Y):
        self.offset_ = np.mean(X) - np.mean(Y)

    def score(self, X, Y):
        return float(np.linalg.norm(X - Y - self.offset_))


def test_pairwise_distances_take_any_netrep_style_metric(rng):
    Xs = [rng.standard_normal((10, 3)) for _ in range(3)]
    D = compat.pairwise_distances(_NetrepStyle(), Xs, verbose=False)
    expected, _ = _loop(_NetrepStyle(), Xs, Xs)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(D, expected, atol=1e-13)
    C = compat.cross_distances(_NetrepStyle(), Xs[:1], Xs[1:], verbose=False)
    np.testing.assert_allclose(C, _loop(_NetrepStyle(), Xs[:1], Xs[1:])[0], atol=1e-13)


def test_distances_refuse_bad_metrics_and_held_out_data(rng):
    Xs = _networks(rng, k=3)
    with pytest.raises(InvalidParameterError, match="distance metric.*CKAEstimator.*similarity"):
        compat.pairwise_distances(CKAEstimator(), Xs)
    with pytest.raises(InvalidParameterError, match="instance.*LinearCKA"):
        compat.pairwise_distances(compat.LinearCKA, Xs)
    with pytest.raises(InvalidParameterError, match="fit.*score.*int"):
        compat.cross_distances(3, Xs, Xs)
    with pytest.raises(ValueError, match="Xs_test was given without Ys_test"):
        compat.cross_distances(compat.LinearMetric(), Xs, Xs, Xs_test=Xs)
    with pytest.raises(ValueError, match="traindata"):
        compat.pairwise_distances(compat.LinearMetric(), [Xs[0], Xs[1][:10]], verbose=False)


# -- Frechet mean and tangent space -----------------------------------------------------------
@pytest.mark.parametrize("method", ["streaming", "full_batch"])
def test_frechet_mean_of_rotated_copies(rng, method):
    base = rng.standard_normal((30, 4))
    Xs = [base @ random_orthogonal(rng, 4) for _ in range(5)]
    Xbar, aligned = compat.frechet_mean(Xs, method=method, return_aligned_Xs=True)
    assert isinstance(aligned, list) and len(aligned) == 5
    for A in aligned:  # every copy aligned onto the same point, a rotation of base
        np.testing.assert_allclose(A, Xbar, atol=1e-9)
    np.testing.assert_allclose(Xbar @ orthogonal_procrustes(Xbar, base)[0], base, atol=1e-9)


def test_frechet_mean_identity_is_the_average(rng):
    Xs = [rng.standard_normal((12, 3)) for _ in range(4)]
    np.testing.assert_allclose(compat.frechet_mean(Xs, group="identity"), np.mean(Xs, axis=0))


def test_frechet_mean_seed_is_fixed_and_global_state_untouched(rng):
    Xs = [rng.standard_normal((15, 3)) for _ in range(6)]
    state = np.random.get_state()  # noqa: NPY002 (the global state must stay untouched)
    first = compat.frechet_mean(Xs, tol=1e-1, max_iter=2)
    np.testing.assert_array_equal(first, compat.frechet_mean(Xs, tol=1e-1, max_iter=2))
    np.testing.assert_array_equal(
        first, compat.frechet_mean(Xs, random_state=0, tol=0.1, max_iter=2)
    )
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_frechet_mean_tol_is_in_data_units(rng):
    """Scaling the data and tol together scales the mean (an absolute tolerance)."""
    Xs = [rng.standard_normal((15, 3)) for _ in range(6)]
    scale = 2.0**20  # exact in floating point
    small = compat.frechet_mean(Xs, tol=0.05, max_iter=3, random_state=1)
    large = compat.frechet_mean(
        [scale * X for X in Xs], tol=0.05 * scale, max_iter=3, random_state=1
    )
    np.testing.assert_allclose(large, scale * small, rtol=1e-12)


def test_frechet_mean_refuses_bad_parameters(rng):
    Xs = [rng.standard_normal((10, 3)) for _ in range(3)]
    with pytest.raises(InvalidParameterError, match="'method'.*'fast'"):
        compat.frechet_mean(Xs, method="fast")
    with pytest.raises(InvalidParameterError, match="'tol'.*-1"):
        compat.frechet_mean(Xs, tol=-1)
    with pytest.raises(ValueError, match=r"warmstart has shape \(4, 3\)"):
        compat.frechet_mean(Xs, warmstart=np.zeros((4, 3)))


@pytest.mark.parametrize("group", ["orth", "perm", "identity"])
def test_tangent_space_is_the_residual_after_alignment(rng, group):
    Xs = [rng.standard_normal((20, 3)) for _ in range(4)]
    Xbar = compat.frechet_mean(Xs, group=group)
    tangent = compat.euclidean_tangent_space(Xs, Xbar, group=group)
    assert type(tangent) is np.ndarray and tangent.shape == (4, 20, 3)
    for X, residual in zip(Xs, tangent, strict=True):
        if group == "orth":
            T = orthogonal_procrustes(X, Xbar)[0]
        elif group == "perm":  # the best of all 3! permutations, by brute force
            eye = np.eye(3)
            T = min(
                (eye[:, list(p)] for p in itertools.permutations(range(3))),
                key=lambda P: np.linalg.norm(X @ P - Xbar),
            )
        else:
            T = np.eye(3)
        np.testing.assert_allclose(residual, Xbar - X @ T, atol=1e-12)
    with pytest.raises(ValueError, match=r"Xbar has shape \(20, 2\)"):
        compat.euclidean_tangent_space(Xs, Xbar[:, :2])


# -- a netrep script, imports pointed at skrep.compat.netrep ----------------------------------
NETREP_SCRIPT = """
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_validate

from skrep.compat.netrep import LinearMetric, LinearCKA
from skrep.compat.netrep import pairwise_distances, cross_distances
from skrep.compat.netrep import frechet_mean, euclidean_tangent_space
from skrep.compat.netrep import align

rng = np.random.default_rng(0)
latent = rng.standard_normal((200, 10))
Xs = [latent @ rng.standard_normal((10, 20)) + 0.1 * rng.standard_normal((200, 20))
      for _ in range(5)]
X, Y = Xs[0], Xs[1]

# Rotationally invariant metric (fully regularized), and a CCA-like one.
proc_metric = LinearMetric(alpha=1.0, center_columns=True)
cca_metric = LinearMetric(alpha=0.0, center_columns=True)

proc_metric.fit(X, Y)
dist = proc_metric.score(X, Y)
cca_metric.fit(X[:100], Y[:100])
test_dist = cca_metric.score(X[100:], Y[100:])
results = cross_validate(proc_metric, X, Y, return_train_score=True, cv=10)
X_aligned, Y_aligned = proc_metric.fit(X, Y).transform(X, Y)

# All pairwise distances, on training and test splits.
splitdata = [np.array_split(X, 2) for X in Xs]
traindata = [X_train for (X_train, X_test) in splitdata]
testdata = [X_test for (X_train, X_test) in splitdata]
dist_matrix, _ = proc_metric.pairwise_distances(Xs, verbose=False)
train_dists, test_dists = pairwise_distances(proc_metric, traindata, testdata, verbose=False)
cka_dists = pairwise_distances(LinearCKA(), Xs, verbose=False)
cross_train = cross_distances(proc_metric, Xs[:2], Xs[2:], verbose=False)

# The average network, and the networks as points of a Euclidean space.
Xbar = frechet_mean(Xs, group="orth")
Xs_tang = euclidean_tangent_space(Xs, Xbar, group="orth")
embedding = PCA(2).fit_transform(Xs_tang.reshape(len(Xs), -1))
T = align(Xs[0], Xbar, group="orth")
"""


def test_a_netrep_script_runs_unchanged(tmp_path):
    path = tmp_path / "netrep_script.py"
    path.write_text(textwrap.dedent(NETREP_SCRIPT))
    namespace = runpy.run_path(str(path))
    assert 0 < namespace["dist"] < np.pi / 2
    assert namespace["results"]["test_score"].shape == (10,)
    np.testing.assert_allclose(namespace["dist_matrix"], namespace["dist_matrix"].T)
    assert namespace["train_dists"].shape == namespace["test_dists"].shape == (5, 5)
    assert namespace["cka_dists"].shape == (5, 5) and namespace["cross_train"].shape == (2, 3)
    assert namespace["Xs_tang"].shape == (5, 200, 20) and namespace["embedding"].shape == (5, 2)
    assert namespace["T"].shape == (20, 20)
