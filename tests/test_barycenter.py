"""The Procrustes barycentre (Frechet mean) and the tangent space at it.

Checked against closed forms (two networks, rotated or permuted copies, the
plain average without alignment), the fixed-point conditions of a
barycentre, and an independent transcription of netrep's streaming
algorithm (from its description), whose objective ours must never exceed.
"""

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.stats import ortho_group

from skrep import euclidean_tangent_space, frechet_mean
from skrep.exceptions import InvalidParameterError


def objective(mean, aligned):
    return float(np.mean(np.sum((aligned - mean) ** 2, axis=(1, 2))))


def noisy_rotations(seed, n_networks=6, shape=(40, 5), noise=0.3):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(shape)
    return [
        base @ ortho_group.rvs(shape[1], random_state=seed * 100 + k)
        + noise * rng.standard_normal(shape)
        for k in range(n_networks)
    ]


def netrep_streaming_objective(Xs, seed, tol=1e-3, max_iter=100):
    """netrep's streaming average, transcribed from its description; its objective."""
    rs = np.random.RandomState(seed)
    order = rs.permutation(len(Xs))
    mean, count, change, passes = Xs[order[-1]].copy(), 1, np.inf, 0
    while change > tol and passes < max_iter:
        previous = mean.copy()
        for k in order:
            R, _ = orthogonal_procrustes(Xs[k], previous)
            mean = count / (count + 1) * mean + Xs[k] @ R / (count + 1)
            count += 1
        change = np.linalg.norm(mean - previous) / np.sqrt(mean.size)
        rs.shuffle(order)
        passes += 1
    aligned = np.stack([X @ orthogonal_procrustes(X, mean)[0] for X in Xs])
    return objective(mean, aligned)


def test_two_networks_closed_form():
    # For two networks the barycentre is the midpoint of the aligned pair, and the
    # objective is a quarter of the squared Procrustes distance
    # |X|^2 + |Y|^2 - 2 * nuclear_norm(X.T Y).
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    mean, aligned = frechet_mean([X, Y], return_aligned=True)
    squared = np.sum(X**2) + np.sum(Y**2) - 2 * np.linalg.svd(X.T @ Y, compute_uv=False).sum()
    assert objective(mean, aligned) == pytest.approx(squared / 4, rel=1e-10)
    np.testing.assert_allclose(mean, aligned.mean(axis=0), atol=1e-12)


@pytest.mark.parametrize("method", ["streaming", "full_batch"])
def test_rotated_copies_have_zero_objective(method):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((25, 4))
    Xs = [base @ ortho_group.rvs(4, random_state=k) for k in range(5)]
    mean, aligned = frechet_mean(Xs, method=method, return_aligned=True)
    assert objective(mean, aligned) < 1e-20
    # The mean is the base network up to a rotation.
    R, _ = orthogonal_procrustes(base, mean)
    np.testing.assert_allclose(base @ R, mean, atol=1e-10)


def test_permuted_copies_with_the_permutation_group():
    rng = np.random.default_rng(2)
    base = rng.standard_normal((25, 6))
    Xs = [base[:, rng.permutation(6)] for _ in range(4)]
    mean, aligned = frechet_mean(Xs, group="perm", return_aligned=True)
    assert objective(mean, aligned) < 1e-20
    assert sorted(np.round(mean[0], 12)) == sorted(np.round(base[0], 12))


def test_identity_group_is_the_plain_average():
    Xs = noisy_rotations(3, n_networks=4)
    np.testing.assert_allclose(frechet_mean(Xs, group="identity"), np.mean(Xs, axis=0))


@pytest.mark.parametrize("method", ["streaming", "full_batch"])
@pytest.mark.parametrize("seed", range(4))
def test_the_mean_is_a_fixed_point(method, seed):
    # At a barycentre the mean is the average of the aligned networks, and each
    # alignment is the best for that mean.
    Xs = noisy_rotations(seed)
    mean, aligned = frechet_mean(Xs, method=method, return_aligned=True)
    np.testing.assert_allclose(mean, aligned.mean(axis=0), atol=1e-6)
    for X, A in zip(Xs, aligned, strict=True):
        R, _ = orthogonal_procrustes(X, mean)
        np.testing.assert_allclose(X @ R, A, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_never_above_netreps_streaming(seed):
    Xs = noisy_rotations(seed, noise=1.0)
    mean, aligned = frechet_mean(Xs, random_state=seed, return_aligned=True)
    assert objective(mean, aligned) <= netrep_streaming_objective(Xs, seed) + 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_lower_than_any_network_as_the_mean(seed):
    Xs = noisy_rotations(seed, noise=1.0)
    mean, aligned = frechet_mean(Xs, method="full_batch", return_aligned=True)
    for X in Xs:
        as_mean = np.stack([Y @ orthogonal_procrustes(Y, X)[0] for Y in Xs])
        assert objective(mean, aligned) <= objective(X, as_mean)


def test_inputs_untouched_reproducible_and_silent(capsys):
    Xs = np.stack(noisy_rotations(5))
    copy = Xs.copy()
    first = frechet_mean(Xs, method="full_batch", random_state=3)
    second = frechet_mean(Xs, method="full_batch", random_state=3)
    np.testing.assert_array_equal(Xs, copy)
    np.testing.assert_array_equal(first, second)
    frechet_mean(Xs)
    assert capsys.readouterr().out == ""


def test_networks_of_different_widths_are_zero_padded():
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((30, 5)), rng.standard_normal((30, 3))
    mean = frechet_mean([X, Y])
    padded = frechet_mean([X, np.hstack([Y, np.zeros((30, 2))])])
    assert mean.shape == (30, 5)
    np.testing.assert_allclose(mean, padded)


def test_tangent_space():
    Xs = noisy_rotations(7)
    mean = frechet_mean(Xs)
    tangent = euclidean_tangent_space(Xs, mean)
    assert tangent.shape == (len(Xs), 40, 5)
    # At the barycentre the residuals average to zero (the fixed point above) ...
    np.testing.assert_allclose(tangent.mean(axis=0), 0.0, atol=1e-6)
    # ... and without alignment they are the plain differences.
    np.testing.assert_allclose(
        euclidean_tangent_space(Xs, mean, group="identity"), mean - np.stack(Xs)
    )


def test_torch_matches_numpy():
    torch = pytest.importorskip("torch")
    Xs = noisy_rotations(8)
    expected = frechet_mean(Xs, method="full_batch")
    got = frechet_mean([torch.tensor(X) for X in Xs], method="full_batch")
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"group": "rotation"}, "'group' parameter"),
        ({"method": "batch"}, "'method' parameter"),
        ({"tol": -1.0}, "'tol' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        frechet_mean(noisy_rotations(0, n_networks=2), **kwargs)


def test_bad_inputs_are_named():
    rng = np.random.default_rng(9)
    Xs = [rng.standard_normal((10, 3)), rng.standard_normal((9, 3))]
    with pytest.raises(ValueError, match=r"Xs\[1\]"):
        frechet_mean(Xs)
    with pytest.raises(ValueError, match="warmstart has shape"):
        frechet_mean([rng.standard_normal((10, 3))] * 2, warmstart=np.zeros((10, 2)))
    with pytest.raises(ValueError, match="mean has shape"):
        euclidean_tangent_space([rng.standard_normal((10, 3))], np.zeros((9, 3)))
