"""Bad input the robustness battery found silent or raw in the predictivity, probe, RSA,
stochastic and many-network modules: each case gives the value of a second route (an
invariance, the float64 route of the same numbers, scipy/numpy) or an error naming the
argument (issue 22, item 4).
"""

import importlib.util
import re

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

import skrep
from skrep import functional as F
from skrep.functional import stochastic as S
from skrep.metrics import DataRDMs
from skrep.multiset import cluster_order, embed_distances

TINY, HUGE = 1e-300, 1e300


@pytest.fixture
def pair(rng):
    latent = rng.standard_normal((30, 3))
    X = latent @ rng.standard_normal((3, 6)) + 0.3 * rng.standard_normal((30, 6))
    Y = latent @ rng.standard_normal((3, 4)) + 0.3 * rng.standard_normal((30, 4))
    return X, Y


@pytest.fixture
def responses(rng):
    """Two networks' responses: 7 classes x 5 repeats x 3 units, the second rotated."""
    means = rng.standard_normal((7, 1, 3))
    X = means + 0.5 * rng.standard_normal((7, 5, 3))
    rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    Y = (means + 0.5 * rng.standard_normal((7, 5, 3))) @ rotation
    return X, Y


def _masked(A):
    mask = np.zeros(A.shape, dtype=bool)
    mask.flat[1] = True
    return np.ma.masked_array(A, mask=mask)


def _names(message, name):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


# -- predictivity ---------------------------------------------------------------------------
def test_pls_refuses_a_masked_Y(pair):
    X, Y = pair
    with pytest.raises(TypeError, match="^Y is a numpy masked array"):
        skrep.PLSPredictivity(n_components=2).fit(X, _masked(Y))
    fitted = skrep.PLSPredictivity(n_components=2).fit(X, Y)
    with pytest.raises(TypeError, match="^Y is a numpy masked array"):
        fitted.score(X, _masked(Y))


@pytest.mark.parametrize("value", [0.0, 3.0])
def test_pls_blames_the_constant_column_of_Y(pair, value):
    X, Y = pair
    Y = Y.copy()
    Y[:, 0] = value
    with pytest.raises(ValueError, match=r"Y has a constant column 0") as error:
        skrep.PLSPredictivity(n_components=2).fit(X, Y).score(X, Y)
    assert "Y_pred" not in str(error.value)


def test_pls_score_is_scale_invariant(pair):
    """An affine prediction and a Pearson r: the score of scaled data is the clean score."""
    X, Y = pair
    fitted = skrep.PLSPredictivity(n_components=2).fit(X, Y)
    assert fitted.score(X * HUGE, Y * HUGE) == pytest.approx(fitted.score(X, Y), rel=1e-9)
    # Features near 1e-300 move a prediction fitted near 1 by nothing float64 can hold:
    # the predictions are the intercepts, whose r is undefined.
    with pytest.raises(ValueError, match="^The predictions from X are degenerate"):
        fitted.score(X * TINY, Y * TINY)


@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_neuroid_correlations_at_extreme_scales(pair, scale):
    X, Y = pair
    expected = [np.corrcoef(X[:, j], Y[:, j])[0, 1] for j in range(4)]
    got = F.neuroid_correlations(X[:, :4] * scale, Y * scale)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_split_half_ceiling_at_extreme_scales(rng, scale):
    trials = rng.standard_normal((1, 20, 3)) + 0.5 * rng.standard_normal((4, 20, 3))
    clean = F.split_half_ceiling(trials, random_state=0)
    got = F.split_half_ceiling(trials * scale, random_state=0)
    np.testing.assert_allclose(got, clean, rtol=1e-12)


def test_split_half_ceiling_reads_objects_and_names_trials(rng):
    trials = rng.standard_normal((4, 10, 3))
    np.testing.assert_array_equal(
        F.split_half_ceiling(trials.astype(object), random_state=0),
        F.split_half_ceiling(trials, random_state=0),
    )
    with pytest.raises(ValueError, match="trials"):
        F.split_half_ceiling(trials + 0.1j, random_state=0)
    with pytest.raises(TypeError, match="^trials is a numpy masked array"):
        F.split_half_ceiling(_masked(trials), random_state=0)


# -- the namespace of held-out data ---------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: skrep.LinearMetric(alpha=0.5),
        lambda: skrep.PermutationMetric(),
        lambda: skrep.GaussianStochasticMetric(max_iter=20),
        lambda: skrep.EnergyStochasticMetric(max_iter=5),
    ],
)
def test_torch_after_a_numpy_fit_names_X(pair, responses, make):
    torch = pytest.importorskip("torch")
    metric = make()
    X, Y = responses if isinstance(metric, S_METRICS) else (pair[0][:, :4], pair[1])
    metric.fit(X, Y)
    with pytest.raises(ValueError, match=r"^X is a torch tensor on cpu, but fit saw numpy arrays"):
        metric.score(torch.tensor(X), Y)


S_METRICS = (skrep.GaussianStochasticMetric, skrep.EnergyStochasticMetric)


# -- RDMs -----------------------------------------------------------------------------------
@pytest.fixture
def square_rdms(rng):
    return np.stack([squareform(pdist(rng.standard_normal((6, 3)))) for _ in range(2)])


def test_data_rdms_read_objects_and_name_rdms(square_rdms):
    np.testing.assert_array_equal(DataRDMs(square_rdms.astype(object)).rdms, square_rdms)
    with pytest.raises(ValueError, match="rdms"):
        DataRDMs(square_rdms + 0.1j)
    with pytest.raises(TypeError, match="^rdms is a numpy masked array"):
        DataRDMs(_masked(square_rdms))


@pytest.mark.skipif(importlib.util.find_spec("rsatoolbox") is None, reason="needs rsatoolbox")
def test_to_rsatoolbox_reads_objects_and_names_rdms(square_rdms):
    condensed = np.stack([squareform(S) for S in square_rdms])
    converted = skrep.rdm.to_rsatoolbox(condensed.astype(object))
    np.testing.assert_array_equal(converted.get_vectors(), condensed)
    with pytest.raises(ValueError, match="rdms"):
        skrep.rdm.to_rsatoolbox(condensed + 0.1j)
    with pytest.raises(TypeError, match="^rdms is a numpy masked array"):
        skrep.rdm.to_rsatoolbox(_masked(condensed))
    for empty in (condensed[:, :0], condensed[:, :1]):  # 0 or 2 stimuli
        with pytest.raises(ValueError, match=r"^rdms has shape") as error:
            skrep.rdm.to_rsatoolbox(empty)
        assert "vectors" not in str(error.value)


def test_rsa_names_Y_for_the_rdm_of_Y(pair):
    X, Y = pair
    boolean = Y > np.median(Y)
    boolean[0] = True  # a constant pattern: its correlation distance is undefined
    for call in (
        lambda: skrep.RSA().fit(X, boolean).score(X, boolean),
        lambda: skrep.RSA().fit(X, Y).score(X, boolean),
        lambda: skrep.RSA().fit(X, Y[:, :1]).score(X, Y[:, :1]),
    ):
        with pytest.raises(ValueError, match=r"RDM of Y is undefined") as error:
            call()
        assert not _names(str(error.value), "X")


def test_rsa_names_the_rdm_that_does_not_vary(rng):
    X = rng.standard_normal((4, 3))
    flat = np.eye(4)  # all patterns equally far apart: a constant euclidean RDM
    rsa = skrep.RSA(rdm_method="euclidean")
    with pytest.raises(ValueError, match=r"^The RDM of Y is constant") as error:
        rsa.fit(X, flat).score(X, flat)
    assert "rdms_b" not in str(error.value)
    with pytest.raises(ValueError, match=r"^The RDM of X is constant"):
        rsa.fit(flat, X).score(flat, X)
    data_rdms = DataRDMs(np.stack([squareform(pdist(X)), squareform(np.ones(6))]))
    with pytest.raises(ValueError, match=r"^RDM 1 of Y is constant"):
        skrep.RSA().fit(X, data_rdms).score(X, data_rdms)


# -- sq_bures_distances -----------------------------------------------------------------------
@pytest.mark.parametrize("side", ["covariances_a", "covariances_b"])
def test_sq_bures_distances_names_its_argument(rng, side):
    factors = rng.standard_normal((3, 4, 4))
    good = factors @ factors.transpose(0, 2, 1)
    bad = good.copy()
    bad[:, 0, 1] += 1.0  # not symmetric
    arguments = {"covariances_a": good, "covariances_b": good, side: bad}
    with pytest.raises(ValueError, match=rf"^{side} are not symmetric"):
        S.sq_bures_distances(**arguments)
    negative = -good
    arguments[side] = negative
    with pytest.raises(ValueError, match=rf"^{side}\[0\] has a negative eigenvalue"):
        S.sq_bures_distances(**arguments)


# -- stochastic metrics at extreme scales -------------------------------------------------
@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_gaussian_metric_is_homogeneous_of_degree_one(responses, scale):
    X, Y = responses
    clean = skrep.GaussianStochasticMetric(random_state=0).fit(X, Y)
    scaled = skrep.GaussianStochasticMetric(random_state=0).fit(X * scale, Y * scale)
    assert scaled.distance(X * scale, Y * scale) == pytest.approx(
        clean.distance(X, Y) * scale, rel=1e-8
    )
    np.testing.assert_allclose(scaled.T_, clean.T_, atol=1e-5)  # both within tol
    # held out: the clean fit scores scaled data
    assert clean.distance(X * scale, Y * scale) == pytest.approx(
        clean.distance(X, Y) * scale, rel=1e-8
    )


@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_gaussian_metric_moments_at_extreme_scales(responses, scale):
    X, Y = responses
    moments_x, moments_y = S.class_statistics(X), S.class_statistics(Y)
    root = np.sqrt(scale)  # covariances scale as its square: 1e+-150 stays finite
    scaled_x = (moments_x[0] * root, moments_x[1] * scale)
    scaled_y = (moments_y[0] * root, moments_y[1] * scale)
    clean = (
        skrep.GaussianStochasticMetric().fit(moments_x, moments_y).distance(moments_x, moments_y)
    )
    got = skrep.GaussianStochasticMetric().fit(scaled_x, scaled_y).distance(scaled_x, scaled_y)
    assert got == pytest.approx(clean * root, rel=1e-8)


@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_energy_metric_is_homogeneous_of_degree_one_half(responses, scale):
    X, Y = responses
    clean = skrep.EnergyStochasticMetric().fit(X, Y)
    scaled = skrep.EnergyStochasticMetric().fit(X * scale, Y * scale)
    expected = clean.distance(X, Y) * np.sqrt(scale)
    assert scaled.distance(X * scale, Y * scale) == pytest.approx(expected, rel=1e-6)
    assert scaled.loss_history_[-1] == pytest.approx(clean.loss_history_[-1] * scale, rel=1e-6)


@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_energy_functions_are_homogeneous(responses, scale):
    X, Y = responses
    np.testing.assert_allclose(
        S.energy_cross_distances(X * scale, Y * scale),
        S.energy_cross_distances(X, Y) * scale,
        rtol=1e-12,
    )
    assert S.energy_within_mean(X * scale) == pytest.approx(S.energy_within_mean(X) * scale)
    assert S.energy_distance(X * scale, Y * scale) == pytest.approx(
        S.energy_distance(X, Y) * np.sqrt(scale), rel=1e-9
    )
    fitted = S.fit_energy_alignment(X * scale, Y * scale, max_iter=20)
    clean = S.fit_energy_alignment(X, Y, max_iter=20)
    assert fitted.loss_history[-1] == pytest.approx(clean.loss_history[-1] * scale, rel=1e-6)


def test_class_statistics_at_extreme_scales(responses):
    X, _ = responses
    means, covariances = S.class_statistics(X)
    tiny_means, _ = S.class_statistics(X * TINY)
    np.testing.assert_allclose(tiny_means, means * TINY, rtol=1e-12)
    root = 1e150
    root_means, root_covariances = S.class_statistics(X * root)  # covariances near 1e300
    np.testing.assert_allclose(root_means, means * root, rtol=1e-12)
    np.testing.assert_allclose(root_covariances, covariances * root * root, rtol=1e-10)
    with pytest.raises(ValueError, match=r"^responses has values up to .* float64 range"):
        S.class_statistics(X * HUGE)  # covariances near 1e600


# -- float32 responses far from zero ---------------------------------------------------------
def test_stochastic_metrics_compute_float32_in_float64(responses):
    X, Y = (np.asarray(A + 1e4, dtype=np.float32) for A in responses)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    for make in (
        lambda: skrep.GaussianStochasticMetric(random_state=0),
        lambda: skrep.EnergyStochasticMetric(),
    ):
        got = make().fit(X, Y).distance(X, Y)
        assert got == pytest.approx(make().fit(X64, Y64).distance(X64, Y64), rel=1e-9)
    got = S.fit_energy_alignment(X, Y, max_iter=20)
    expected = S.fit_energy_alignment(X64, Y64, max_iter=20)
    assert got.loss_history[-1] == pytest.approx(expected.loss_history[-1], rel=1e-9)
    assert got.Q.dtype == np.float32


def test_stochastic_transform_keeps_float32(responses):
    X, Y = (A.astype(np.float32) for A in responses)
    for metric in (skrep.GaussianStochasticMetric(), skrep.EnergyStochasticMetric()):
        X_out, Y_out = metric.fit(X, Y).transform(X, Y)
        assert X_out.dtype == Y_out.dtype == np.float32


# -- many networks ---------------------------------------------------------------------------
@pytest.fixture
def distances(rng):
    points = np.concatenate([rng.standard_normal((5, 3)), 4 + rng.standard_normal((5, 3))])
    return squareform(pdist(points))


@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_embed_distances_is_scale_equivariant(distances, scale):
    clean = embed_distances(distances, n_init=1, random_state=0)
    got = embed_distances(distances * scale, n_init=1, random_state=0)
    np.testing.assert_allclose(got, clean * scale, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize("scale", [1e-300, 1e-100, 1e100, 1e300])
def test_cluster_order_does_not_depend_on_scale(distances, scale):
    np.testing.assert_array_equal(cluster_order(distances * scale), cluster_order(distances))


# -- probe -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [TINY, HUGE])
def test_linear_probe_is_scale_invariant_when_standardising(pair, scale):
    """Standardising removes the scale: the probe on scaled features is the clean probe."""
    X, _ = pair
    labels = (X[:, 0] > np.median(X[:, 0])).astype(int)
    X = X + 0.5 * np.random.default_rng(1).standard_normal(X.shape)
    clean = skrep.LinearProbe(cv=2).fit(X, labels)
    scaled = skrep.LinearProbe(cv=2).fit(X * scale, labels)
    np.testing.assert_allclose(scaled.predict_proba(X * scale), clean.predict_proba(X), rtol=1e-9)
    np.testing.assert_allclose(scaled.cv_scores_, clean.cv_scores_)
