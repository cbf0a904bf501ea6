"""Gradients through the torch path of the functional measures, and the training losses.

Every gradient is checked with ``torch.autograd.gradcheck`` in float64 (finite
differences of the value skrep computes, against the analytic gradient), at
ordinary and at hard points (constant columns, fewer stimuli than features,
float32), and the losses against the functional values.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skrep import CKAEstimator  # noqa: E402
from skrep.exceptions import InvalidParameterError  # noqa: E402
from skrep.functional import cka, hsic, linear_cka, rbf_cka  # noqa: E402
from skrep.losses import CKALoss  # noqa: E402


def randn(*shape, seed=0, grad=True):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(grad)


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("shape", [(30, 5), (6, 10)], ids=["n>p", "n<p"])
def test_linear_cka_gradcheck(debiased, shape):
    X, Y = randn(*shape, seed=1), randn(shape[0], 7, seed=2, grad=False)
    assert torch.autograd.gradcheck(lambda A: linear_cka(A, Y, debiased=debiased), (X,))
    assert torch.autograd.gradcheck(lambda B: linear_cka(Y, B, debiased=debiased), (X,))


@pytest.mark.parametrize("sigma", [None, 1.7])
@pytest.mark.parametrize("debiased", [False, True])
def test_rbf_cka_gradcheck(sigma, debiased):
    X, Y = randn(20, 4, seed=3), randn(20, 3, seed=4, grad=False)
    assert torch.autograd.gradcheck(lambda A: rbf_cka(A, Y, sigma=sigma, debiased=debiased), (X,))


@pytest.mark.parametrize("debiased", [False, True])
def test_hsic_gradcheck(debiased):
    base, other = randn(12, 3, seed=5, grad=False), randn(12, 4, seed=6, grad=False)
    K = (base @ base.T).requires_grad_(True)
    L = other @ other.T
    # symmetrised inside, so that the finite differences stay on symmetric matrices
    assert torch.autograd.gradcheck(lambda A: hsic((A + A.T) / 2, L, debiased=debiased), (K,))


def test_gradients_at_hard_points_are_finite_and_correct():
    X = randn(15, 4, seed=7, grad=False).clone()
    X[:, 2] = 3.0  # a constant column
    X.requires_grad_(True)
    Y = randn(15, 4, seed=8, grad=False)
    assert torch.autograd.gradcheck(lambda A: linear_cka(A, Y), (X,))
    # a representation and a rotated copy of itself: CKA is 1, a maximum, so the
    # gradient vanishes (and is finite)
    Q = torch.linalg.qr(randn(4, 4, seed=9, grad=False))[0]
    Z = randn(15, 4, seed=10)
    value = linear_cka(Z, (Z @ Q).detach())
    value.backward()
    assert float(value.detach()) == pytest.approx(1.0, abs=1e-12)
    assert torch.isfinite(Z.grad).all() and float(Z.grad.abs().max()) < 1e-10


def test_a_callable_kernel_written_in_torch_gets_gradients_and_a_numpy_one_is_refused():
    X, Y = randn(10, 3, seed=11), randn(10, 3, seed=12, grad=False)

    def cubic(A):
        return (A @ A.T + 1.0) ** 3

    assert torch.autograd.gradcheck(lambda A: cka(A, Y, kernel=cubic), (X,))

    def through_numpy(A):
        B = A.detach().numpy()
        return (B @ B.T + 1.0) ** 3

    with pytest.raises(ValueError, match="kernel written with torch operations"):
        cka(X, Y, kernel=through_numpy)


def test_return_types_and_values():
    X, Y = randn(25, 6, seed=13, grad=False), randn(25, 4, seed=14, grad=False)
    on_numpy = linear_cka(X.numpy(), Y.numpy())
    assert isinstance(on_numpy, float)
    on_torch = linear_cka(X, Y)
    assert isinstance(on_torch, torch.Tensor) and on_torch.ndim == 0
    assert not on_torch.requires_grad
    assert float(on_torch) == on_numpy  # the same value, bit for bit
    with_grad = linear_cka(X.clone().requires_grad_(True), Y)
    assert float(with_grad) == on_numpy and with_grad.requires_grad
    single = linear_cka(X.float(), Y.float())
    assert single.dtype == torch.float32
    with torch.no_grad():
        assert not linear_cka(X.clone().requires_grad_(True), Y).requires_grad
    # the estimators still return floats
    score = CKAEstimator().fit(X, Y).score(X, Y)
    assert isinstance(score, float) and score == pytest.approx(on_numpy, rel=1e-12)


def test_float32_gradients_agree_with_float64():
    X, Y = randn(40, 6, seed=15), randn(40, 5, seed=16, grad=False)
    linear_cka(X, Y).backward()
    X32 = X.detach().float().requires_grad_(True)
    linear_cka(X32, Y.float()).backward()
    np.testing.assert_allclose(X32.grad.double().numpy(), X.grad.numpy(), rtol=1e-3, atol=1e-6)


def test_cka_loss_trains_a_representation_towards_a_target():
    target = randn(64, 5, seed=17, grad=False)
    torch.manual_seed(0)
    layer = torch.nn.Linear(8, 5).double()
    inputs = randn(64, 8, seed=18, grad=False)
    target = target + inputs[:, :5]  # reachable in part from the inputs
    loss_fn = CKALoss()
    optimiser = torch.optim.Adam(layer.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        optimiser.zero_grad()
        loss = loss_fn(layer(inputs), target)
        loss.backward()
        optimiser.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    value = loss_fn(layer(inputs), target)
    assert float(value) == pytest.approx(
        1.0 - linear_cka(layer(inputs).detach().numpy(), target.numpy()), rel=1e-12
    )


def test_cka_loss_settings_and_errors():
    X = randn(16, 4, seed=19)
    Y = randn(16, 4, seed=20, grad=False)
    rbf = CKALoss("rbf", sigma=2.0, debiased=True)
    assert float(rbf(X, Y)) == pytest.approx(1.0 - float(rbf_cka(X, Y, sigma=2.0, debiased=True)))
    assert "kernel='rbf'" in repr(rbf)
    with pytest.raises(TypeError, match="torch.Tensor"):
        CKALoss()(X.detach().numpy(), Y)
    with pytest.raises(ValueError, match="kernel"):
        CKALoss("poly")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_gradients_match_the_cpu():
    X, Y = randn(30, 5, seed=21), randn(30, 6, seed=22, grad=False)
    linear_cka(X, Y).backward()
    Xc = X.detach().cuda().requires_grad_(True)
    value = linear_cka(Xc, Y.cuda())
    assert value.device.type == "cuda"
    value.backward()
    np.testing.assert_allclose(Xc.grad.cpu().numpy(), X.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("score_method", ["angular", "euclidean"])
@pytest.mark.parametrize("widths", [(5, 7), (4, 4)])
def test_shape_metric_loss_is_linear_metric_distance_with_a_correct_gradient(score_method, widths):
    from skrep import LinearMetric
    from skrep.losses import ShapeMetricLoss

    X, Y = randn(30, widths[0], seed=23), randn(30, widths[1], seed=24, grad=False)
    loss = ShapeMetricLoss(score_method=score_method)
    expected = LinearMetric(score_method=score_method).fit(X.detach(), Y).distance(X.detach(), Y)
    assert float(loss(X, Y).detach()) == expected
    assert torch.autograd.gradcheck(lambda A: loss(A, Y), (X,))
    assert torch.autograd.gradcheck(lambda B: loss(Y, B), (X,))


def test_shape_metric_loss_at_its_minimum_and_when_squared():
    from skrep.losses import ShapeMetricLoss

    Z = randn(20, 4, seed=25)
    Q = torch.linalg.qr(randn(4, 4, seed=26, grad=False))[0]
    # a representation and a rotated copy: singular values all equal, distance 0
    value = ShapeMetricLoss(squared=True)(Z, (Z @ Q).detach())
    value.backward()
    assert float(value.detach()) <= 1e-24
    assert torch.isfinite(Z.grad).all() and float(Z.grad.abs().max()) < 1e-6
    # rank-deficient layers: finite gradients that match finite differences
    W = randn(20, 2, seed=27, grad=False) @ randn(2, 5, seed=28, grad=False)
    W.requires_grad_(True)
    Y = randn(20, 3, seed=29, grad=False)
    assert torch.autograd.gradcheck(lambda A: ShapeMetricLoss()(A, Y), (W,))
    with pytest.raises(InvalidParameterError, match="'alpha' parameter of ShapeMetricLoss"):
        ShapeMetricLoss(alpha=1.5)
    with pytest.raises(InvalidParameterError, match="score_method"):
        ShapeMetricLoss(score_method="cosine")


@pytest.mark.parametrize("covariance", [False, True])
def test_participation_ratio_gradcheck(covariance):
    from skrep.functional import participation_ratio

    X = randn(25, 6, seed=30)
    if covariance:
        base = randn(25, 6, seed=31, grad=False)
        C = (base.T @ base).requires_grad_(True)
        assert torch.autograd.gradcheck(
            lambda A: participation_ratio((A + A.T) / 2, covariance=True), (C,)
        )
    else:
        assert torch.autograd.gradcheck(lambda A: participation_ratio(A), (X,))
        # (trials, time, units) input: every axis but the last is samples
        T = randn(4, 6, 3, seed=32)
        assert torch.autograd.gradcheck(lambda A: participation_ratio(A), (T,))
    assert float(participation_ratio(X.detach())) == pytest.approx(
        participation_ratio(X.detach().numpy()), rel=1e-12
    )


@pytest.mark.parametrize("name", ["mean_cca", "r2_cca"])
@pytest.mark.parametrize("widths", [(4, 6), (3, 3)])
def test_cca_gradcheck(name, widths):
    from skrep import functional

    measure = getattr(functional, name)
    X, Y = randn(30, widths[0], seed=33), randn(30, widths[1], seed=34, grad=False)
    Y = Y + 0.5 * torch.cat([X.detach(), X.detach()], dim=1)[:, : widths[1]]
    assert torch.autograd.gradcheck(lambda A: measure(A, Y), (X,))
    assert torch.autograd.gradcheck(lambda B: measure(Y, B), (X,))
    assert float(measure(X.detach(), Y)) == pytest.approx(
        measure(X.detach().numpy(), Y.numpy()), rel=1e-12
    )
    # A rank-deficient side: the measure jumps when a perturbation raises the rank
    # (more correlations), so no finite differences there; the gradient of the
    # current rank's formula is finite.
    W = (randn(30, 2, seed=35, grad=False) @ randn(2, 4, seed=36, grad=False)).requires_grad_(True)
    measure(W, Y).backward()
    assert torch.isfinite(W.grad).all()


def test_float32_gradients_with_an_offset_agree_with_float64():
    from skrep.functional import mean_cca
    from skrep.losses import ShapeMetricLoss

    X, Y = randn(200, 8, seed=37, grad=False), randn(200, 6, seed=38, grad=False)
    Y = Y + X[:, :6]
    for measure in (linear_cka, mean_cca, ShapeMetricLoss()):
        exact = (X + 1e3).clone().requires_grad_(True)
        measure(exact, Y + 1e3).backward()
        single = (X + 1e3).float().requires_grad_(True)
        value = measure(single, (Y + 1e3).float())
        assert value.dtype == torch.float32
        value.backward()
        error = (single.grad.double() - exact.grad).abs().max() / exact.grad.abs().max()
        assert float(error) < 1e-3


@pytest.mark.parametrize("rdm_method", ["correlation", "cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("comparison", ["pearson", "cosine"])
def test_rsa_loss_is_one_minus_the_rdm_comparison_with_a_correct_gradient(rdm_method, comparison):
    from skrep.functional import compare_rdms, compute_rdm
    from skrep.losses import RSALoss

    X, Y = randn(12, 5, seed=39), randn(12, 7, seed=40, grad=False)
    loss = RSALoss(rdm_method, comparison=comparison)
    expected = compare_rdms(
        compute_rdm(X.detach().numpy(), rdm_method), compute_rdm(Y.numpy(), rdm_method), comparison
    )[0, 0]
    assert float(loss(X, Y).detach()) == pytest.approx(1.0 - expected, rel=1e-12, abs=1e-14)
    assert torch.autograd.gradcheck(lambda A: loss(A, Y), (X,))
    assert torch.autograd.gradcheck(lambda B: loss(Y, B), (X,))


def test_rsa_loss_settings_and_errors():
    from skrep.losses import RSALoss

    X = randn(10, 4, seed=41)
    # equal RDMs (an affine copy): zero loss, a finite gradient
    value = RSALoss()(X, (2.0 * X + 1.0).detach())
    value.backward()
    assert float(value.detach()) == pytest.approx(0.0, abs=1e-12)
    assert torch.isfinite(X.grad).all()
    # identical patterns (a zero euclidean distance): finite gradients
    Z = randn(8, 3, seed=42, grad=False).clone()
    Z[1] = Z[0]
    Z.requires_grad_(True)
    RSALoss("euclidean")(Z, randn(8, 3, seed=43, grad=False)).backward()
    assert torch.isfinite(Z.grad).all()
    with pytest.raises(InvalidParameterError, match="'comparison' parameter of RSALoss"):
        RSALoss(comparison="spearman")
    with pytest.raises(InvalidParameterError, match="'rdm_method' parameter"):
        RSALoss("crossnobis")
    assert "comparison='pearson'" in repr(RSALoss())


@pytest.mark.parametrize("rdm_method", ["correlation", "euclidean"])
def test_rsa_loss_with_soft_spearman_has_a_correct_gradient_and_tends_to_spearman(rdm_method):
    from skrep.functional import compare_rdms, compute_rdm
    from skrep.losses import RSALoss

    X, Y = randn(12, 5, seed=44), randn(12, 7, seed=45, grad=False)
    spearman = compare_rdms(
        compute_rdm(X.detach().numpy(), rdm_method), compute_rdm(Y.numpy(), rdm_method), "spearman"
    )[0, 0]
    # a strength small next to every gap between the RDMs' entries: hard ranks exactly
    exact = RSALoss(rdm_method, comparison="soft_spearman", regularization_strength=1e-7)
    assert float(exact(X, Y).detach()) == pytest.approx(1.0 - spearman, rel=1e-12, abs=1e-14)
    loss = RSALoss(rdm_method, comparison="soft_spearman")
    assert float(loss(X, Y).detach()) == pytest.approx(1.0 - spearman, abs=0.02)
    assert torch.autograd.gradcheck(lambda A: loss(A, Y), (X,))
    assert torch.autograd.gradcheck(lambda B: loss(Y, B), (X,))
    assert "regularization_strength=0.1" in repr(loss)
    with pytest.raises(InvalidParameterError, match="'regularization_strength' parameter of RSA"):
        RSALoss(comparison="soft_spearman", regularization_strength=0.0)
