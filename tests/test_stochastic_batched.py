"""Many stochastic fits in lockstep (Gaussian, energy, process): each ends where it would alone."""

import itertools

import numpy as np
import pytest
from conftest import random_orthogonal
from netrep_gaussian_reference import netrep_gaussian_fit, scored_sq_distance
from sklearn import config_context

from skrep import GaussianStochasticMetric
from skrep.functional.gp_stochastic import fit_gp_alignment, fit_gp_alignments, gp_statistics
from skrep.functional.stochastic import (
    fit_energy_alignment,
    fit_energy_alignments,
    fit_gaussian_alignment,
    fit_gaussian_alignments,
    gaussian_statistics,
)
from skrep.metrics import GPStochasticMetric


def random_moments(rng, n_classes, n_features, rank=None):
    rank = n_features if rank is None else rank
    means = rng.standard_normal((n_classes, n_features))
    factors = rng.standard_normal((n_classes, n_features, rank)) / np.sqrt(rank)
    return means, factors @ factors.transpose(0, 2, 1)


def networks(rng, n_classes=6, n_features=5, rank=None):
    """Unrelated networks, a rotated copy of the first, and a rank-deficient one."""
    nets = [random_moments(rng, n_classes, n_features) for _ in range(3)]
    Q = random_orthogonal(rng, n_features)
    nets.append((nets[0][0] @ Q, Q.T @ nets[0][1] @ Q))
    nets.append(random_moments(rng, n_classes, n_features, rank=rank or 2))
    return [gaussian_statistics(*net) for net in nets]


def assert_same_fit(batched, alone):
    np.testing.assert_array_equal(batched.T, alone.T)
    assert batched.sq_distance == alone.sq_distance
    assert batched.loss_history == alone.loss_history
    assert (batched.n_iter, batched.converged) == (alone.n_iter, alone.converged)


PARAMETERS = [
    {},
    {"alpha": 0.0},
    {"alpha": 0.4},
    {"alpha": 2.0},
    {"group": "perm"},
    {"group": "identity"},
    {"n_restarts": 3, "random_state": 4},
    {"init": "rand", "n_restarts": 2, "random_state": 0},
    {"tol": 1e-3},
    {"max_iter": 2},
]


@pytest.mark.parametrize("parameters", PARAMETERS, ids=str)
def test_each_pair_of_a_batch_ends_where_it_would_alone(rng, parameters):
    """Lockstep fitting leaks nothing between pairs: every pair's iterations, history,
    alignment and distance are those of its own fit (the pairs converge after
    different numbers of iterations, so a shared stopping rule would show)."""
    stats = networks(rng)
    pairs = list(itertools.permutations(range(len(stats)), 2))
    batched = fit_gaussian_alignments(
        [stats[i] for i, _ in pairs], [stats[j] for _, j in pairs], **parameters
    )
    for (i, j), result in zip(pairs, batched, strict=True):
        assert_same_fit(result, fit_gaussian_alignment(stats[i], stats[j], **parameters))
    if not parameters:  # the pairs stop after different numbers of iterations
        assert len({result.n_iter for result in batched}) > 1


def test_batched_fits_reach_netrep_and_respect_the_metric_axioms(rng):
    """Independent checks of the batched values: never above netrep's fit from the
    same start, zero for a rotated copy and a network with itself, symmetric."""
    raw = [random_moments(rng, 8, 4) for _ in range(3)]
    stats = [gaussian_statistics(*net) for net in raw]
    pairs = [(0, 1), (1, 0), (1, 2), (2, 2), (0, 2)]
    results = fit_gaussian_alignments([stats[i] for i, _ in pairs], [stats[j] for _, j in pairs])
    for (i, j), result in zip(pairs, results, strict=True):
        netrep_T, _ = netrep_gaussian_fit(*raw[i], *raw[j], alpha=1.0, tol=1e-12)
        assert result.sq_distance <= scored_sq_distance(*raw[i], *raw[j], netrep_T, 1.0) + 1e-10
        assert result.sq_distance == pytest.approx(
            scored_sq_distance(*raw[i], *raw[j], result.T, 1.0), abs=1e-10
        )
    assert results[0].sq_distance == pytest.approx(results[1].sq_distance, abs=1e-12)
    assert results[3].sq_distance < 1e-12


def test_chunks_within_working_memory_give_the_same_fits(rng):
    stats = networks(rng)
    pairs = list(itertools.combinations(range(len(stats)), 2))
    xs, ys = [stats[i] for i, _ in pairs], [stats[j] for _, j in pairs]
    whole = fit_gaussian_alignments(xs, ys)
    with config_context(working_memory=0.01):  # one pair per chunk
        chunked = fit_gaussian_alignments(xs, ys)
    for a, b in zip(whole, chunked, strict=True):
        assert_same_fit(a, b)


def test_batched_fit_on_torch_matches_numpy(rng):
    torch = pytest.importorskip("torch")
    stats = networks(rng)
    pairs = list(itertools.combinations(range(len(stats)), 2))
    as_torch = [type(s)(*(torch.from_numpy(np.asarray(a)) for a in s)) for s in stats]
    on_numpy = fit_gaussian_alignments([stats[i] for i, _ in pairs], [stats[j] for _, j in pairs])
    on_torch = fit_gaussian_alignments(
        [as_torch[i] for i, _ in pairs], [as_torch[j] for _, j in pairs]
    )
    for a, b in zip(on_numpy, on_torch, strict=True):
        assert isinstance(b.T, torch.Tensor)
        assert b.sq_distance == pytest.approx(a.sq_distance, rel=1e-9, abs=1e-12)


def test_pairwise_matrix_equals_pair_fits(rng):
    nets = [random_moments(rng, 7, 4) for _ in range(5)]
    metric = GaussianStochasticMetric()
    D, _ = metric.pairwise_distances(nets)
    for i, j in itertools.combinations(range(5), 2):
        expected = metric.fit(nets[i], nets[j]).distance(nets[i], nets[j])
        assert D[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_fit_gaussian_alignments_input_errors(rng):
    a, b = networks(rng)[:2]
    assert fit_gaussian_alignments([], []) == []
    with pytest.raises(ValueError, match="stats_x has 2 entries and stats_y 1"):
        fit_gaussian_alignments([a, b], [a])
    other = gaussian_statistics(*random_moments(rng, 6, 3))
    with pytest.raises(ValueError, match="same number of classes"):
        fit_gaussian_alignments([a, other], [b, other])
    with pytest.raises(TypeError, match="stats_y must be a GaussianStatistics"):
        fit_gaussian_alignments([a], [(a.means, a.sqrt_covariances)])
    with pytest.raises(ValueError, match="tol"):
        fit_gaussian_alignments([a], [b], tol=-1.0)


# -- the stochastic-process metric -------------------------------------------------------------
def random_process(rng, n_times, n_dims, rank=None):
    size = n_times * n_dims
    factor = rng.standard_normal((size, rank or size)) / np.sqrt(size)
    return rng.standard_normal(size), factor @ factor.T


@pytest.mark.parametrize(
    "parameters",
    [{}, {"alpha": 0.0}, {"alpha": 2.0}, {"group": "perm"}, {"group": "identity"},
     {"n_restarts": 3, "random_state": 1}, {"max_iter": 2}],
    ids=str,
)  # fmt: skip
def test_gp_pairs_of_a_batch_end_where_they_would_alone(rng, parameters):
    n_times, n_dims = 3, 3
    raw = [random_process(rng, n_times, n_dims) for _ in range(3)]
    raw.append(random_process(rng, n_times, n_dims, rank=4))
    Q = random_orthogonal(rng, n_dims)
    full = np.kron(np.eye(n_times), Q)
    raw.append(((raw[0][0].reshape(n_times, n_dims) @ Q).ravel(), full.T @ raw[0][1] @ full))
    stats = [gp_statistics(m, c, n_dims) for m, c in raw]
    pairs = list(itertools.permutations(range(len(stats)), 2))
    batched = fit_gp_alignments(
        [stats[i] for i, _ in pairs], [stats[j] for _, j in pairs], **parameters
    )
    for (i, j), result in zip(pairs, batched, strict=True):
        alone = fit_gp_alignment(stats[i], stats[j], **parameters)
        np.testing.assert_array_equal(result.T, alone.T)
        assert result.sq_distance == alone.sq_distance
        assert (result.loss_history, result.n_iter) == (alone.loss_history, alone.n_iter)
    if parameters.get("group", "orth") == "orth" and "max_iter" not in parameters:
        copy = pairs.index((0, 4))  # a block-rotated copy: distance 0 (closed form)
        assert batched[copy].sq_distance < 1e-12


def test_gp_pairwise_matrix_equals_pair_fits(rng):
    raw = [random_process(rng, 2, 3) for _ in range(4)]
    metric = GPStochasticMetric(n_dims=3)
    D, _ = metric.pairwise_distances(raw)
    for i, j in itertools.combinations(range(4), 2):
        expected = metric.fit(raw[i], raw[j]).distance(raw[i], raw[j])
        assert D[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_fit_gp_alignments_input_errors(rng):
    a = gp_statistics(*random_process(rng, 2, 3), 3)
    b = gp_statistics(*random_process(rng, 3, 2), 2)
    assert fit_gp_alignments([], []) == []
    with pytest.raises(ValueError, match="xs has 2 entries and ys 1"):
        fit_gp_alignments([a, a], [a])
    with pytest.raises(ValueError, match="pair 1 have means of shape"):
        fit_gp_alignments([a, b], [a, b])


# -- the energy metric ----------------------------------------------------------------------------
@pytest.mark.parametrize("group", ["orth", "perm", "identity"])
def test_energy_pairs_of_a_batch_end_where_they_would_alone(rng, group):
    """Pairs of several shapes (batched by shape), one at an extreme scale."""
    Xs = [rng.standard_normal((4, r, 3)) for r in (5, 5, 6, 5)]
    Ys = [rng.standard_normal((4, r, 3)) for r in (5, 7, 6, 5)]
    Xs[3], Ys[3] = Xs[3] * 1e200, Ys[3] * 1e200
    batched = fit_energy_alignments(Xs, Ys, group=group)
    for X, Y, result in zip(Xs, Ys, batched, strict=True):
        alone = fit_energy_alignment(X, Y, group=group)
        np.testing.assert_array_equal(result.Q, alone.Q)
        np.testing.assert_array_equal(result.weights, alone.weights)
        assert (result.loss_history, result.n_iter) == (alone.loss_history, alone.n_iter)
    with pytest.raises(ValueError, match="Xs has 2 entries and Ys 1"):
        fit_energy_alignments(Xs[:2], Ys[:1])
    bad = Ys[0].copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"Ys\[0\] contains 1 NaN"):
        fit_energy_alignments([Xs[0]], [bad])


@pytest.mark.parametrize("rank", [5, None], ids=["rank-deficient", "full-rank"])
def test_gp_hessian_matches_finite_differences(rng, rank):
    """The process objective's closed-form Hessian-vector product (used by Newton's method)."""
    from skrep.functional._gp_fit import _Processes

    x = gp_statistics(*random_process(rng, 3, 4), 4)
    y = gp_statistics(*random_process(rng, 3, 4, rank=rank), 4)
    processes = _Processes([x], [y], 0.7, np)
    pair = np.zeros(1, dtype=int)
    T, V, h = random_orthogonal(rng, 4)[None], rng.standard_normal((1, 4, 4)), 1e-6

    def gradient(A):
        return processes.evaluate(A, pair).gradients

    difference = (gradient(T + h * V) - gradient(T - h * V)) / (2 * h)
    factors = processes.hessian_factors(processes.evaluate(T, pair))
    np.testing.assert_allclose(processes.hessian(factors, V), difference, atol=1e-6)
    # and the gradient against central differences of the value (covariance term only:
    # the means' term is linear in T on the group, its quadratic part constant there)
    covariances = _Processes([x], [y], 0.0, np)

    def value(A):
        return covariances.evaluate(A, pair).values[0]

    directional = (value(T + h * V) - value(T - h * V)) / (2 * h)
    assert np.sum(covariances.evaluate(T, pair).gradients * V) == pytest.approx(
        directional, abs=1e-6
    )


def test_gp_structured_products_match_dense_kronecker_products(rng):
    """The products with I (x) T and the diagonal block sums, against dense computations."""
    from skrep.functional._gp_fit import _Processes

    x = gp_statistics(*random_process(rng, 3, 4), 4)
    processes = _Processes([x], [x], 1.0, np)
    A, B = rng.standard_normal((2, 12, 12)), rng.standard_normal((2, 12, 12))
    T = rng.standard_normal((2, 4, 4))
    dense = np.stack([A[k] @ np.kron(np.eye(3), T[k]).T for k in range(2)])
    np.testing.assert_allclose(processes._times_full_t(A, T), dense, atol=1e-12)
    product = A @ B
    blocks = sum(product[:, 4 * t : 4 * t + 4, 4 * t : 4 * t + 4] for t in range(3))
    np.testing.assert_allclose(processes._diagonal_block_sum(A, B), blocks, atol=1e-12)


def test_gp_and_energy_batches_on_torch_match_numpy(rng):
    """torch input through the process statistics (a tensor's ``size`` is a method) and fits."""
    torch = pytest.importorskip("torch")
    raw = [random_process(rng, 3, 3) for _ in range(3)]
    on_numpy = [gp_statistics(m, c, 3) for m, c in raw]
    on_torch = [gp_statistics(torch.from_numpy(m), torch.from_numpy(c), 3) for m, c in raw]
    expected = fit_gp_alignments(on_numpy[:2], on_numpy[1:])
    for a, b in zip(expected, fit_gp_alignments(on_torch[:2], on_torch[1:]), strict=True):
        assert isinstance(b.T, torch.Tensor)
        assert b.sq_distance == pytest.approx(a.sq_distance, rel=1e-9, abs=1e-12)
    Xs = [rng.standard_normal((4, 5, 3)) for _ in range(3)]
    expected = fit_energy_alignments(Xs[:2], Xs[1:])
    got = fit_energy_alignments(
        [torch.from_numpy(X) for X in Xs[:2]], [torch.from_numpy(X) for X in Xs[1:]]
    )
    for a, b in zip(expected, got, strict=True):
        assert isinstance(b.Q, torch.Tensor)
        assert b.loss_history[-1] == pytest.approx(a.loss_history[-1], rel=1e-12)
