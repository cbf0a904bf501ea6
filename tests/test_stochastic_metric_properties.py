"""The stochastic shape metrics as metrics: identity, symmetry, triangle inequality.

On random inputs: a network's distance to itself is 0 and d(X, Y) = d(Y, X)
for both metrics and every group; the Gaussian metric also satisfies the
triangle inequality, on independent triples and on chains of noisy aligned
copies. The energy distance is netrep's estimate (within-network expectations
over distinct repeats), which can be negative and is clipped at 0, so it is
not a metric on finite samples (documented); its triangle inequality is not
tested. The default run takes a few hundred cases; ``-m slow`` takes 2,000
triples per metric and group, float32 with an offset included.
"""

import numpy as np
import pytest
from scipy.stats import ortho_group

from skrep.metrics import EnergyStochasticMetric, GaussianStochasticMetric, GPStochasticMetric

GROUPS = ("orth", "perm")


def gaussian(group, **params):
    def distance(X, Y):
        return GaussianStochasticMetric(group=group, **params).fit(X, Y).distance(X, Y)

    return distance


def energy(group, **params):
    def distance(X, Y):
        return EnergyStochasticMetric(group=group, **params).fit(X, Y).distance(X, Y)

    return distance


def moved(X, group, rng, noise=0.3):
    """X aligned by a random group element, plus trial noise."""
    p = X.shape[-1]
    T = np.eye(p)[rng.permutation(p)] if group == "perm" else ortho_group.rvs(p, random_state=rng)
    return X @ T + noise * rng.standard_normal(X.shape)


def triple(seed, group, shape=(4, 10, 3), dtype=np.float64, offset=0.0):
    """Independent draws for even seeds, a chain of noisy aligned copies for odd ones."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape) * rng.uniform(0.5, 2.0)
    if seed % 2:
        B = moved(A, group, rng)
        C = moved(B, group, rng)
    else:
        B, C = (rng.standard_normal(shape) * rng.uniform(0.5, 2.0) for _ in range(2))
    return [(M + offset).astype(dtype) for M in (A, B, C)]


def triangle_failures(distance, seeds, group, **kwargs):
    """The seeds whose triple breaks the triangle inequality d(A, C) <= d(A, B) + d(B, C)."""
    failures = []
    for seed in seeds:
        A, B, C = triple(seed, group, **kwargs)
        ab, bc, ac = distance(A, B), distance(B, C), distance(A, C)
        if ac > ab + bc + 1e-8 * max(1.0, ac):
            failures.append((seed, ab, bc, ac))
    return failures


def check_symmetry_and_identity(distance, seeds, group, **kwargs):
    for seed in seeds:
        A, B, _ = triple(seed, group, **kwargs)
        assert distance(A, A) <= 1e-7, seed
        ab, ba = distance(A, B), distance(B, A)
        assert abs(ab - ba) <= 1e-9 * max(1.0, ab), (seed, ab, ba)


@pytest.mark.parametrize("seed", range(10))
def test_gaussian_distance_to_itself_is_zero_with_fewer_classes_than_units(seed):
    # 8 classes x 20 repeats x 10 units: the class means leave the alignment
    # undetermined, and the fit from them ended near 1.2 for 4 of these 10 draws.
    S = np.random.default_rng(seed).standard_normal((8, 20, 10))
    assert GaussianStochasticMetric().fit(S, S).distance(S, S) <= 1e-7


@pytest.mark.parametrize("seed", range(10))
def test_gaussian_distance_is_symmetric_with_fewer_classes_than_units(seed):
    rng = np.random.default_rng(seed)
    S, T = rng.standard_normal((8, 20, 10)), rng.standard_normal((8, 20, 10))
    d = gaussian("orth")
    assert d(S, T) == pytest.approx(d(T, S), rel=1e-12)


@pytest.mark.parametrize("group", GROUPS)
def test_gaussian_triangle_inequality(group):
    assert not triangle_failures(gaussian(group), range(60), group)


def test_gaussian_triangle_inequality_on_chains_that_broke_it():
    # Chains of noisy rotated copies where the means' alignment started the (A, C)
    # fit in the wrong component of the orthogonal group (excess up to 46%).
    seeds = [311, 349, 363, 591, 601, 765, 811, 973]
    assert not triangle_failures(gaussian("orth"), seeds, "orth")


@pytest.mark.parametrize("make", [gaussian, energy])
@pytest.mark.parametrize("group", GROUPS)
def test_identity_and_symmetry(make, group):
    check_symmetry_and_identity(make(group), range(40), group)


@pytest.mark.parametrize("group", GROUPS)
def test_empirical_energy_triangle_inequality(group):
    # The energy distance of the empirical distributions is a metric between them;
    # netrep's unbiased estimate (clipped at 0) broke the inequality on these
    # small samples (below).
    assert not triangle_failures(energy(group, estimate="empirical"), range(60), group)


def test_unbiased_energy_is_not_a_metric_on_small_samples():
    failures = triangle_failures(energy("orth"), range(60), "orth")
    assert failures  # documented: netrep's estimate, clipped at 0
    for seed, *_ in failures:
        A, B, C = triple(seed, "orth")
        distance = energy("orth", estimate="empirical")
        assert distance(A, C) <= distance(A, B) + distance(B, C) + 1e-8


@pytest.mark.parametrize("make", [gaussian, energy])
def test_float32_with_an_offset(make):
    # The same numbers in float32 and float64 give the same distance.
    for seed in range(10):
        A, B, _ = triple(seed, "orth", dtype=np.float32, offset=1e3)
        expected = make("orth")(A.astype(np.float64), B.astype(np.float64))
        assert make("orth")(A, B) == pytest.approx(expected, rel=1e-6, abs=1e-6)
        assert make("orth")(A, A) <= 1e-6


@pytest.mark.slow
def test_gaussian_triangle_inequality_2000_triples_rotations():
    # With the default single start the local fit misses the optimum on about 1 in
    # 1,000 triples (chains of noisy copies); four random restarts more find it.
    distance = gaussian("orth", n_restarts=5, random_state=0)
    assert not triangle_failures(distance, range(2000), "orth")
    assert not triangle_failures(distance, range(200), "orth", dtype=np.float32, offset=1e3)


@pytest.mark.slow
def test_gaussian_triangle_inequality_2000_triples_permutations():
    # The assignment search is local too, and random restarts cure only part of
    # it: measured 9 of 2,000 triples at the defaults, 5 with n_restarts=5
    # (documented); more than 0.5% would be a regression.
    distance = gaussian("perm", n_restarts=5, random_state=0)
    assert len(triangle_failures(distance, range(2000), "perm")) <= 10
    assert len(triangle_failures(distance, range(200), "perm", dtype=np.float32, offset=1e3)) <= 1


@pytest.mark.slow
@pytest.mark.parametrize(("group", "allowed"), [("orth", 0), ("perm", 2)])
def test_empirical_energy_triangle_inequality_2000_triples(group, allowed):
    # The permutation search is local: it missed the optimum on 1 of 2,000
    # triples (3.7%), as the Gaussian metric's does; more would be a regression.
    failures = triangle_failures(energy(group, estimate="empirical"), range(2000), group)
    assert len(failures) <= allowed, failures


@pytest.mark.slow
@pytest.mark.parametrize("make", [gaussian, energy])
@pytest.mark.parametrize("group", GROUPS)
def test_identity_and_symmetry_2000_pairs(make, group):
    check_symmetry_and_identity(make(group), range(2000), group)


def gp(group):
    def distance(X, Y):
        return GPStochasticMetric(group=group).fit(X, Y).distance(X, Y)

    return distance


GP_SHAPE = (15, 3, 2)  # trials x time points x units


@pytest.mark.parametrize("group", GROUPS)
def test_gp_identity_symmetry_and_triangle(group):
    check_symmetry_and_identity(gp(group), range(20), group, shape=GP_SHAPE)
    assert not triangle_failures(gp(group), range(20), group, shape=GP_SHAPE)


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
def test_gp_metric_on_1000_triples(group):
    check_symmetry_and_identity(gp(group), range(1000), group, shape=GP_SHAPE)
    assert not triangle_failures(gp(group), range(1000), group, shape=GP_SHAPE)
