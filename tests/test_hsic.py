"""HSIC: ``skrep.functional.hsic``, also through CKA with a callable kernel.

Every number comes from the naive biased and unbiased (Song et al. 2012) HSIC
and CKA in ``similarity_reference.py``, computed from explicit Gram matrices.
"""

from functools import partial

import numpy as np
import pytest
import similarity_reference as naive
from sklearn.metrics.pairwise import polynomial_kernel

from skrep.functional import cka, hsic


def test_callable_kernel_and_hsic(rng):
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 6))
    kernel = partial(polynomial_kernel, degree=2)
    K, L = kernel(X), kernel(Y)
    assert cka(X, Y, kernel=kernel) == pytest.approx(naive.cka_from_grams(K, L), abs=1e-12)
    assert cka(X, Y, kernel=kernel, debiased=True) == pytest.approx(
        naive.cka_from_grams(K, L, True), abs=1e-12
    )
    assert hsic(K, L) == pytest.approx(naive.hsic_biased(K, L), rel=1e-12)
    assert hsic(K, L, debiased=True) == pytest.approx(naive.hsic_unbiased(K, L), rel=1e-10)
    K_before = K.copy()
    hsic(K, L, debiased=True)
    np.testing.assert_array_equal(K, K_before)  # the caller's matrix is left alone


def test_float32_callable_kernel_and_asymmetric_hsic(rng):
    torch = pytest.importorskip("torch")
    X = torch.from_numpy(rng.standard_normal((30, 5))).float()
    Y = torch.from_numpy(rng.standard_normal((30, 4))).float()
    value = cka(X, Y, kernel=lambda M: torch.exp(-(torch.cdist(M, M) ** 2) / 5))
    K = naive.rbf_gram(X.double().numpy(), sigma=np.sqrt(2.5))
    L = naive.rbf_gram(Y.double().numpy(), sigma=np.sqrt(2.5))
    assert value == pytest.approx(naive.cka_from_grams(K, L), abs=1e-5)
    with pytest.raises(ValueError, match="K is not symmetric"):
        hsic(np.triu(K), L)
