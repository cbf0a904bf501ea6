"""Bad input to the RDM family (issue 22): a value equal to a second route, or a named error.

The first tests pin each defect the issue's fuzzer found (each failed before its
fix). The battery at the end feeds the bad-input kinds of the issue (NaN, inf,
shapes, dtypes, containers, extreme scales, torch tensors that require grad,
...) to every public RDM function and asserts one of two things: a finite value
equal to a second route (scipy.spatial.distance, scipy.stats, numpy's
covariance, or a loop written here from the definition), or an error of type
ValueError / TypeError whose message names an argument of the function.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse
import scipy.stats
from scipy.spatial.distance import pdist, squareform

from skrep.exceptions import InvalidParameterError
from skrep.functional import (
    bootstrap_comparisons,
    compare_rdms,
    compute_rdm,
    condensed_to_square,
    noise_ceiling,
    noise_covariance,
    noise_precision,
    permutation_test,
    pool_rdms,
    square_to_condensed,
)
from skrep.multiset import check_distance_matrix

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def masked(x):
    return np.ma.masked_array(x, mask=np.arange(x.size).reshape(x.shape) == 1)


def grad_tensor(x):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


@pytest.fixture
def rdms(rng):
    """Three condensed RDMs over 6 conditions, and two more."""
    return (
        np.stack([pdist(rng.standard_normal((6, 4))) for _ in range(3)]),
        np.stack([pdist(rng.standard_normal((6, 4))) for _ in range(2)]),
    )


# -- the defects, one by one -------------------------------------------------------------------
def test_masked_arrays_are_refused_naming_the_argument(rng, rdms):
    a, b = rdms
    X = rng.standard_normal((6, 4))
    calls = {
        "rdms_a": lambda: compare_rdms(masked(a), b),
        "rdms_b": lambda: compare_rdms(a, masked(b)),
        "X": lambda: compute_rdm(masked(X)),
        "precision": lambda: compute_rdm(X, "mahalanobis", precision=masked(np.eye(4))),
        "vectors": lambda: condensed_to_square(masked(a)),
        "rdms": lambda: square_to_condensed(masked(condensed_to_square(a))),
        "model_rdms": lambda: permutation_test(masked(a), b, n_permutations=3),
        "data_rdms": lambda: bootstrap_comparisons(a, masked(b), n_bootstrap=3),
        "residuals": lambda: noise_covariance(masked(X)),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match=rf"{name} is a masked array.*filled.*compressed"):
            call()
    with pytest.raises(TypeError, match="rdms is a masked array"):
        pool_rdms(masked(a))
    with pytest.raises(TypeError, match="rdms is a masked array"):
        noise_ceiling(masked(a))


def test_complex_input_is_refused_naming_the_argument(rng, rdms):
    a, b = rdms
    calls = {
        "rdms_a": lambda: compare_rdms(a + 0j, b),
        "rdms_b": lambda: compare_rdms(a, b * 1j),
        "rdms": lambda: pool_rdms(a + 1j),
        "model_rdms": lambda: bootstrap_comparisons(a + 0j, b, n_bootstrap=3),
        "data_rdms": lambda: permutation_test(a, b + 1j, n_permutations=3),
        "X": lambda: compute_rdm(rng.standard_normal((6, 4)) + 1j),
        "vectors": lambda: condensed_to_square(a + 1j),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match=rf"{name} holds complex"):
            call()
    with pytest.raises(TypeError, match="rdms holds complex"):
        noise_ceiling(a.astype(complex))


def test_bootstrap_marks_only_the_constant_model_undefined(rng):
    # 5 stimuli, one apart: a resample drawn from the other four leaves the
    # categorical model constant (a third of them), but the graded model and
    # the data vary.
    categories = (np.arange(5) == 0).astype(float)[:, None]
    patterns = rng.standard_normal((5, 4)) + 3 * categories
    models = np.stack([pdist(categories), pdist(patterns)])
    data = np.stack([pdist(patterns + rng.standard_normal((5, 4))) for _ in range(3)])
    with pytest.warns(RuntimeWarning, match=r"model 0: \d+ of 300") as record:
        samples = bootstrap_comparisons(models, data, "pearson", n_bootstrap=300, random_state=3)
    # A second route: each resample by its definition, with scipy's Pearson r.
    generator = np.random.default_rng(3)
    square_models, square_data = condensed_to_square(models), condensed_to_square(data)
    first, second = np.triu_indices(5, 1)
    expected = np.empty((300, 2))
    for b in range(300):
        index = generator.integers(0, 5, size=5)
        keep = index[first] != index[second]
        rows, columns = index[first][keep], index[second][keep]
        targets = [d[rows, columns] for d in square_data]
        for k, model in enumerate(square_models):
            values = model[rows, columns]
            if np.unique(index).size < 3 or min(np.ptp(v) for v in [values, *targets]) == 0:
                expected[b, k] = np.nan
                continue
            expected[b, k] = np.mean([scipy.stats.pearsonr(values, t)[0] for t in targets])
    np.testing.assert_allclose(samples, expected, atol=1e-12)
    undefined = np.isnan(expected[:, 0])
    assert 50 < undefined.sum() < 150  # about a third of the resamples
    # Where the categorical model is undefined, the graded one keeps its value
    # (unless the resample drew fewer than 3 distinct stimuli: nothing to compare).
    assert np.sum(undefined & np.isfinite(samples[:, 1])) > 0.5 * undefined.sum()
    assert f"model 0: {undefined.sum()} of 300" in str(record[0].message)


def test_bootstrap_refuses_a_model_undefined_in_most_resamples(rng):
    # 3 stimuli, one apart from two: most resamples leave the model constant.
    model = pdist(np.array([[0.0], [0.0], [1.0]]))
    data = np.stack([pdist(rng.standard_normal((3, 4))) for _ in range(2)])
    with pytest.raises(ValueError, match=r"model_rdms.*RDM 0.*undefined in \d+ of 50"):
        bootstrap_comparisons(model, data, "spearman", n_bootstrap=50, random_state=0)


def test_compute_rdm_computes_float16_in_float32(rng):
    X = rng.standard_normal((7, 30)).astype(np.float16)
    for method in ("correlation", "cosine", "euclidean", "sqeuclidean"):
        got = compute_rdm(X, method, per_channel=False)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, pdist(X.astype(np.float64), method), rtol=1e-5)


def test_compute_rdm_refuses_a_precision_that_is_not_positive(rng):
    X = rng.standard_normal((6, 4))
    with pytest.raises(ValueError, match=r"precision.*negative diagonal"):
        compute_rdm(X, "mahalanobis", precision=-np.eye(4))
    with pytest.raises(ValueError, match=r"precision.*negative diagonal"):
        compute_rdm(
            X, "crossnobis", precision=-np.eye(4), conditions=[0, 1, 2] * 2, runs=[0] * 3 + [1] * 3
        )
    indefinite = np.diag([1.0, 1.0, 1.0, 1.0]) + 3 * (1 - np.eye(4))  # eigenvalues 10, -2
    with pytest.raises(ValueError, match=r"precision is not positive semi-definite"):
        compute_rdm(X, "mahalanobis", precision=indefinite)
    with pytest.raises(ValueError, match=r"precision is not symmetric"):
        compute_rdm(X, "mahalanobis", precision=np.eye(4) + np.triu(np.ones((4, 4)), 1))


def test_compute_rdm_refuses_a_precision_it_would_ignore(rng):
    X = rng.standard_normal((6, 4))
    for method in ("correlation", "cosine", "euclidean", "sqeuclidean"):
        with pytest.raises(ValueError, match=r"precision is used by method='mahalanobis'"):
            compute_rdm(X, method, precision=2 * np.eye(4))


def test_sparse_input_is_refused_with_the_way_out(rdms):
    a, b = rdms
    with pytest.raises(TypeError, match=r"rdms_a is a sparse matrix.*toarray\(\)"):
        compare_rdms(scipy.sparse.csr_array(a), b)
    with pytest.raises(TypeError, match=r"X is a sparse matrix"):
        compute_rdm(scipy.sparse.csr_array(np.eye(4)))


def test_compute_rdm_needs_channels(rng):
    for method in ("correlation", "euclidean", "sqeuclidean", "mahalanobis"):
        with pytest.raises(ValueError, match=r"X has 0 channels"):
            compute_rdm(np.zeros((5, 0)), method)
    with pytest.raises(ValueError, match=r"correlation.*at least 2 channels.*X has 1"):
        compute_rdm(rng.standard_normal((5, 1)), "correlation")


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e150, 1e-150])
def test_compute_rdm_at_extreme_scales(rng, scale):
    X = rng.standard_normal((8, 5))
    for method in ("correlation", "cosine"):
        np.testing.assert_allclose(compute_rdm(X * scale, method), pdist(X, method), atol=1e-14)
    np.testing.assert_allclose(compute_rdm(X * scale, "euclidean") / scale, pdist(X), rtol=1e-13)
    if abs(np.log10(scale)) < 200:  # squared distances still in float64's range
        np.testing.assert_allclose(
            compute_rdm(X * scale, "sqeuclidean") / scale**2, pdist(X, "sqeuclidean") / 5
        )
        return
    with pytest.raises(ValueError, match=r"X.*(overflow|underflow)"):
        compute_rdm(X * scale, "sqeuclidean")


def test_square_to_condensed_checks_what_it_drops(rng):
    D = squareform(pdist(rng.standard_normal((5, 3))))
    with pytest.raises(ValueError, match=r"rdms.*not symmetric"):
        square_to_condensed(D + np.triu(np.ones((5, 5)), 1))
    with pytest.raises(ValueError, match=r"rdms.*non-zero diagonal"):
        square_to_condensed(D + np.eye(5))
    with pytest.raises(TypeError, match=r"rdms holds strings"):
        square_to_condensed(D.astype(str))
    holes = D.copy()
    holes[0, 1] = holes[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"rdms contains 2 NaN"):
        square_to_condensed(holes)
    # Rounding-level asymmetry, relative to the scale, passes.
    noisy = D * (1 + 1e-14 * rng.standard_normal((5, 5)))
    np.fill_diagonal(noisy, 0.0)
    upper = noisy[np.triu_indices(5, 1)]
    np.testing.assert_array_equal(square_to_condensed(noisy * 2.0**-700), upper * 2.0**-700)


def test_condensed_to_square_refuses_nan_and_strings():
    with pytest.raises(ValueError, match=r"vectors contains 1 NaN"):
        condensed_to_square(np.array([0.1, np.nan, 0.3]))
    with pytest.raises(TypeError, match=r"vectors holds strings"):
        condensed_to_square(np.array(["0.1", "0.2", "0.3"]))


def test_check_distance_matrix_checks_its_tolerance():
    D = np.array([[0.0, 1.0], [1.0, 0.0]])
    for atol in (np.nan, np.inf, -1.0, "1e-8", None, True):
        with pytest.raises(InvalidParameterError, match=r"'atol'.*check_distance_matrix"):
            check_distance_matrix(D, atol=atol)
    with pytest.raises(ValueError, match="not symmetric"):  # NaN used to let this through
        check_distance_matrix(np.array([[0.0, 1.0], [2.0, 0.0]]), atol=1e-8)


def test_no_rdms_is_a_named_error(rdms):
    a, b = rdms
    with pytest.raises(ValueError, match=r"rdms holds 0 RDMs"):
        pool_rdms(a[:0])
    with pytest.raises(ValueError, match=r"rdms_a holds 0 RDMs"):
        compare_rdms(a[:0], b)
    with pytest.raises(ValueError, match=r"data_rdms holds 0 RDMs"):
        bootstrap_comparisons(a, b[:0], n_bootstrap=2)
    with pytest.raises(ValueError, match=r"model_rdms holds 0 RDMs"):
        permutation_test(a[:0], b, n_permutations=2)
    for call, name in (
        (lambda: compare_rdms(None, b), "rdms_a"),
        (lambda: noise_ceiling(None), "rdms"),
        (lambda: permutation_test(a, None), "data_rdms"),
        (lambda: noise_covariance(None), "residuals"),
        (lambda: compute_rdm(None), "X"),
    ):
        with pytest.raises(TypeError, match=rf"{name} is None"):
            call()


@pytest.mark.parametrize("scale", [1e300, 1e-300])
@pytest.mark.parametrize("method", ["cosine", "pearson", "spearman", "tau-a", "corr_cov"])
def test_comparisons_and_pooling_at_extreme_scales(rdms, scale, method):
    a, b = rdms
    np.testing.assert_allclose(
        compare_rdms(a * scale, b, method), compare_rdms(a, b, method), atol=1e-14
    )
    np.testing.assert_allclose(pool_rdms(a * scale, method), pool_rdms(a, method), atol=1e-13)
    np.testing.assert_allclose(
        noise_ceiling(a * scale, method), noise_ceiling(a, method), atol=1e-14
    )


@needs_torch
def test_tensors_that_require_grad_give_the_values_of_numpy_input(rng, rdms):
    a, b = rdms
    X = rng.standard_normal((12, 4))
    np.testing.assert_allclose(compare_rdms(grad_tensor(a), b), compare_rdms(a, b), atol=0)
    np.testing.assert_allclose(pool_rdms(grad_tensor(a)), pool_rdms(a), atol=0)
    assert noise_ceiling(grad_tensor(a)) == noise_ceiling(a)
    np.testing.assert_array_equal(
        bootstrap_comparisons(grad_tensor(a), b, n_bootstrap=4, random_state=0),
        bootstrap_comparisons(a, b, n_bootstrap=4, random_state=0),
    )
    got = permutation_test(a, grad_tensor(b), n_permutations=4, random_state=0)
    expected = permutation_test(a, b, n_permutations=4, random_state=0)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(noise_covariance(grad_tensor(X)), noise_covariance(X))
    np.testing.assert_allclose(
        noise_precision([X, grad_tensor(X)]), np.stack([noise_precision(X)] * 2), atol=0
    )
    # compute_rdm keeps the graph of torch input, and takes a tensor precision with numpy X.
    tensor = grad_tensor(X)
    rdm = compute_rdm(tensor, "mahalanobis", precision=np.eye(4))
    rdm.sum().backward()
    assert tensor.grad is not None
    np.testing.assert_allclose(
        compute_rdm(X, "mahalanobis", precision=grad_tensor(2 * np.eye(4))),
        2 * compute_rdm(X, "sqeuclidean"),
        rtol=1e-13,
    )


def test_the_loaders_square_rdms_are_accepted():
    from skrep.datasets import load_kriegeskorte92

    square = load_kriegeskorte92()  # the default: (n_rdms, 92, 92) square stacks
    condensed = load_kriegeskorte92(condensed=True)
    models, brains = square.model_rdms, square.brain_rdms
    assert models.ndim == 3
    np.testing.assert_array_equal(
        compare_rdms(models, brains, "spearman"),
        compare_rdms(condensed.model_rdms, condensed.brain_rdms, "spearman"),
    )
    np.testing.assert_allclose(  # the same numbers (BLAS may round differently by alignment)
        noise_ceiling(brains, "pearson"), noise_ceiling(condensed.brain_rdms, "pearson"), rtol=1e-15
    )
    np.testing.assert_allclose(
        pool_rdms(brains, "pearson"), squareform(pool_rdms(condensed.brain_rdms, "pearson"))
    )
    got = permutation_test(models[:2], brains, n_permutations=3, random_state=0)
    expected = permutation_test(
        condensed.model_rdms[:2], condensed.brain_rdms, n_permutations=3, random_state=0
    )
    np.testing.assert_array_equal(got[0], expected[0])
    with pytest.raises(ValueError, match=r"rdms_a holds square RDMs that are not symmetric"):
        compare_rdms(models + np.triu(np.ones((92, 92)), 1), brains)
    with pytest.raises(ValueError, match=r"rdms_b holds square RDMs with a non-zero diagonal"):
        compare_rdms(models, brains + np.eye(92))


# -- the battery -------------------------------------------------------------------------------
# Each kind turns a good float64 array into bad input. ``reference`` gives the
# float64 array that the input stands for (the second route is computed on it),
# None when there is none (the call must raise); ``scale`` marks the kinds whose
# second route uses scale invariance instead (scipy overflows at 1e+-300).
SCALES = {"1e300": 1e300, "1e-300": 1e-300}


def _dataframe(x):
    import pandas as pd

    return pd.DataFrame(x) if x.ndim == 2 else None


def _read_only(x):
    x = x.copy()
    x.flags.writeable = False
    return x


def _duplicated(x):
    x = x.copy()
    x[1] = x[0]
    return x


KINDS = {
    # kind: (make bad input from x, reference array from x or None)
    "list": (lambda x: x.tolist(), lambda x: x),
    "dataframe": (_dataframe, lambda x: x),
    "fortran": (np.asfortranarray, lambda x: x),
    "read-only": (_read_only, lambda x: x),
    "int": (lambda x: np.round(10 * x).astype(np.int64), lambda x: np.round(10 * x)),
    "bool": (lambda x: x > np.median(x), lambda x: (x > np.median(x)).astype(float)),
    "float16": (
        lambda x: x.astype(np.float16),
        lambda x: x.astype(np.float16).astype(np.float64),
    ),
    "float32+1e4": (
        lambda x: (x + 1e4).astype(np.float32),
        lambda x: (x + 1e4).astype(np.float32).astype(np.float64),
    ),
    "1e300": (lambda x: x * 1e300, lambda x: x),
    "1e-300": (lambda x: x * 1e-300, lambda x: x),
    "constant": (lambda x: np.full_like(x, 0.5), lambda x: np.full_like(x, 0.5)),
    "all-zero": (np.zeros_like, np.zeros_like),
    "duplicated rows": (_duplicated, _duplicated),
    "0 rows": (lambda x: x[:0], lambda x: x[:0]),
    "1 row": (lambda x: x[:1], lambda x: x[:1]),
    "2 rows": (lambda x: x[:2], lambda x: x[:2]),
    "0 columns": (lambda x: x[..., :0], lambda x: x[..., :0]),
    "1 column": (lambda x: x[..., :1], lambda x: x[..., :1]),
    "1-D": (lambda x: x.reshape(-1)[: x.shape[-1]], lambda x: x.reshape(-1)[: x.shape[-1]]),
    "3-D": (lambda x: x[None], lambda x: x[None]),
    "nan": (lambda x: np.where(np.arange(x.size).reshape(x.shape) == 1, np.nan, x), None),
    "inf": (lambda x: np.where(np.arange(x.size).reshape(x.shape) == 1, np.inf, x), None),
    "complex": (lambda x: x + 1j, None),
    "strings": (lambda x: x.astype(str), None),
    "object": (lambda x: x.astype(object), lambda x: x),  # of Python floats: numbers
    "sparse": (lambda x: scipy.sparse.csr_array(x) if x.ndim == 2 else None, None),
    "masked": (masked, None),
    "None": (lambda x: None, None),
    "torch requiring grad": (grad_tensor, lambda x: x),
}


def _pearson(u, v):
    return scipy.stats.pearsonr(u, v)[0]


def _cosine(u, v):
    return 1.0 - scipy.spatial.distance.cosine(u, v)


def _tau_a(u, v):
    signs = np.sign(np.subtract.outer(u, u)) * np.sign(np.subtract.outer(v, v))
    return np.sum(np.triu(signs, 1)) / (u.size * (u.size - 1) / 2)


def _rho_a(u, v):
    n = u.size
    ranks = scipy.stats.rankdata(u) * scipy.stats.rankdata(v)
    return 12 * ranks.sum() / (n**3 - n) - 3 * (n + 1) / (n - 1)


def _whitening_factor(n_pairs):
    """Cholesky factor of V = (C C') o (C C') (C the pairwise contrasts), formed explicitly."""
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    rows, columns = np.triu_indices(n, 1)
    contrast = np.zeros((n_pairs, n))
    contrast[np.arange(n_pairs), rows] = 1.0
    contrast[np.arange(n_pairs), columns] = -1.0
    shared = contrast @ contrast.T
    return np.linalg.cholesky(shared * shared)


def _whitened_cosine(centered):
    def compare(u, v):
        if centered:
            u, v = u - u.mean(), v - v.mean()
        factor = _whitening_factor(u.size)
        return _cosine(*np.linalg.solve(factor, np.stack([u, v]).T).T)

    return compare


SCIPY_COMPARISONS = {
    "spearman": lambda u, v: scipy.stats.spearmanr(u, v)[0],
    "pearson": _pearson,
    "cosine": _cosine,
    "tau-a": _tau_a,
    "rho-a": _rho_a,
    "tau-b": lambda u, v: scipy.stats.kendalltau(u, v)[0],
    "corr_cov": _whitened_cosine(True),
    "cosine_cov": _whitened_cosine(False),
}


def _condensed_reference(rdms):
    """(k, n_pairs) from condensed or square float64 RDMs, as scipy's squareform checks them."""
    rdms = np.asarray(rdms, dtype=np.float64)
    if rdms.ndim == 1:
        rdms = rdms[None]
    if rdms.ndim == 3:
        return np.stack([squareform(d, checks=True) for d in rdms])
    if rdms.ndim != 2 or rdms.shape[0] == 0 or rdms.shape[1] < 3:
        raise ValueError("not a stack of RDMs")
    squareform(rdms[0])  # raises unless n (n - 1) / 2 entries
    return rdms


def _triangles_reference(rdms):
    """scipy's squareform (which checks symmetry and the diagonal exactly) over a batch."""
    rdms = np.asarray(rdms, dtype=np.float64)
    if rdms.ndim < 2 or rdms.shape[-1] != rdms.shape[-2] or not np.all(np.isfinite(rdms)):
        raise ValueError("not square RDMs")
    n = rdms.shape[-1]
    flat = [squareform(d, checks=True) for d in rdms.reshape(-1, n, n)]
    return np.array(flat).reshape(*rdms.shape[:-2], n * (n - 1) // 2)


def _squares_reference(vectors):
    """scipy's squareform over a batch of condensed RDMs."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim == 0 or not np.all(np.isfinite(vectors)):
        raise ValueError("not condensed RDMs")
    n = squareform(np.zeros(vectors.shape[-1])).shape[0]  # raises unless n (n - 1) / 2
    flat = [squareform(v) for v in vectors.reshape(-1, vectors.shape[-1])]
    return np.array(flat).reshape(*vectors.shape[:-1], n, n)


def _compare_reference(method):
    def reference(rdms_a, rdms_b):
        a, b = _condensed_reference(rdms_a), _condensed_reference(rdms_b)
        if a.shape[1] != b.shape[1]:
            raise ValueError("different conditions")
        return np.array([[SCIPY_COMPARISONS[method](u, v) for v in b] for u in a])

    return reference


def _pooled(vectors, method):
    if method == "pearson":
        return scipy.stats.zscore(vectors, axis=1).mean(axis=0)
    return scipy.stats.rankdata(vectors, axis=1).mean(axis=0)


def _pool_reference(method):
    def reference(rdms):
        vectors = _condensed_reference(rdms)
        pooled = _pooled(vectors, method)
        return squareform(pooled) if np.ndim(rdms) == 3 else pooled

    return reference


def _ceiling_reference(method):
    compare = SCIPY_COMPARISONS[method]

    def reference(rdms):
        vectors = _condensed_reference(rdms)
        if vectors.shape[0] < 2:
            raise ValueError("one subject")
        everyone = _pooled(vectors, method)
        upper = np.mean([compare(everyone, v) for v in vectors])
        lower = np.mean(
            [compare(_pooled(np.delete(vectors, k, 0), method), v) for k, v in enumerate(vectors)]
        )
        return np.array([lower, upper])

    return reference


def _resampled(square, rows, columns):
    return [d[rows, columns] for d in square]


def _bootstrap_reference(model_rdms, data_rdms):
    models = [squareform(v) for v in _condensed_reference(model_rdms)]
    data = [squareform(v) for v in _condensed_reference(data_rdms)]
    n = models[0].shape[0]
    if data[0].shape[0] != n:
        raise ValueError("different stimuli")
    generator = np.random.default_rng(0)
    first, second = np.triu_indices(n, 1)
    samples = np.empty((6, len(models)))
    for b in range(6):
        index = generator.integers(0, n, size=n)
        keep = index[first] != index[second]
        rows, columns = index[first][keep], index[second][keep]
        targets = _resampled(data, rows, columns)
        for k, model in enumerate(_resampled(models, rows, columns)):
            undefined = np.unique(index).size < 3 or min(np.ptp(v) for v in [model, *targets]) == 0
            samples[b, k] = np.nan if undefined else np.mean([_pearson(model, t) for t in targets])
    if np.any(np.isnan(samples).sum(axis=0) > samples.shape[0] / 2):
        raise ValueError("a model is undefined in most resamples")
    return samples


def _permutation_reference(model_rdms, data_rdms):
    models = [squareform(v) for v in _condensed_reference(model_rdms)]
    data = _condensed_reference(data_rdms)
    n = models[0].shape[0]
    if data.shape[1] != models[0].shape[0] * (n - 1) // 2:
        raise ValueError("different stimuli")
    spearman = SCIPY_COMPARISONS["spearman"]

    def mean_comparison(model):
        return np.mean([spearman(squareform(model, checks=False), d) for d in data])

    observed = np.array([mean_comparison(m) for m in models])
    generator = np.random.default_rng(0)
    exceed = np.zeros(len(models))
    for _ in range(9):
        order = generator.permutation(n)
        exceed += [
            mean_comparison(m[np.ix_(order, order)]) >= o
            for m, o in zip(models, observed, strict=True)
        ]
    return np.concatenate([observed, (1 + exceed) / 10])


def _covariance_reference(residuals):
    residuals = np.asarray(residuals, dtype=np.float64)
    if residuals.ndim != 2 or residuals.shape[0] < 2 or residuals.shape[1] < 1:
        raise ValueError("not residuals")
    if np.any(np.ptp(residuals, axis=0) == 0):
        raise ValueError("a channel without variance (documented: no estimate but shrinkage_eye)")
    return np.atleast_2d(np.cov(residuals, rowvar=False))


def _mahalanobis(X, P):
    differences = X[:, None, :] - X[None, :, :]
    square = np.einsum("ijk,kl,ijl->ij", differences, P, differences)
    return square[np.triu_indices(X.shape[0], 1)] / X.shape[1]


def _crossnobis(X, P):
    """The definition: (a_i - a_j) P (b_i - b_j)' over 2 runs of 6 conditions, averaged."""
    runs = [X[:6], X[6:]]
    folds = []
    for held_out in range(2):
        train, test = runs[1 - held_out], runs[held_out]
        a = train[:, None, :] - train[None, :, :]
        b = test[:, None, :] - test[None, :, :]
        folds.append(np.einsum("ijk,kl,ijl->ij", a, P, b)[np.triu_indices(6, 1)])
    return np.mean(folds, axis=0) / X.shape[1]


def _checked_precision(P, n_channels):
    """The documented contract: symmetric, with a non-negative diagonal."""
    P = np.asarray(P, dtype=np.float64)
    if P.shape != (n_channels, n_channels) or not np.allclose(P, P.T, rtol=0, atol=1e-12):
        raise ValueError("not a precision")
    if np.any(np.diag(P) < 0):
        raise ValueError("negative variance")
    return P


def _rdm_reference(method):
    def reference(X, precision=None):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim not in (2, 3) or X.shape[-2] < 2 or X.shape[-1] < 1:
            raise ValueError("not patterns")
        stack = X if X.ndim == 3 else X[None]
        if method == "mahalanobis":
            P = _checked_precision(precision, X.shape[-1])
            out = np.stack([_mahalanobis(x, P) for x in stack])
            if np.any(out < -1e-12 * np.abs(out).max()):
                raise ValueError("a negative squared distance: P is not positive")
        elif method == "crossnobis":
            if X.shape[-2] != 12:
                raise ValueError("labels do not match")
            P = _checked_precision(precision, X.shape[-1])
            out = np.stack([_crossnobis(x, P) for x in stack])
        else:
            metric = "sqeuclidean" if method == "sqeuclidean" else method
            out = np.stack([pdist(x, metric) for x in stack])
            if method == "sqeuclidean":
                out = out / X.shape[-1]
        return out if X.ndim == 3 else out[0]

    return reference


class Target:
    """A public function, its good arguments, and the second route to its value."""

    def __init__(self, name, call, arguments, reference, scale_power=None, nan_ok=False, **options):
        self.name, self.call, self.arguments = name, call, arguments
        self.reference, self.nan_ok = reference, nan_ok
        self.empty_ok = options.get("empty_ok", False)  # empty in, empty out (conversions)
        # Argument names an error may name (besides the arguments themselves).
        self.names = tuple(arguments) + options.get("other_names", ())
        # What None stands for, where it is a valid value (precision=None: the identity).
        self.none_means = options.get("none_means", {})
        # How the value scales when argument ``a`` is multiplied by s: s ** power[a].
        self.scale_power = scale_power or {}


def _targets(rng):
    X = rng.standard_normal((6, 5))
    X_runs = rng.standard_normal((12, 5))
    factor = rng.standard_normal((5, 5))
    precision = factor @ factor.T + np.eye(5)
    a = np.stack([pdist(rng.standard_normal((6, 4))) for _ in range(3)])
    b = np.stack([pdist(rng.standard_normal((6, 4))) for _ in range(2)])
    D = squareform(pdist(rng.standard_normal((5, 3))))
    residuals = rng.standard_normal((10, 4)) @ rng.standard_normal((4, 4))
    targets = []
    for method in ("correlation", "cosine", "euclidean", "sqeuclidean"):
        power = {"euclidean": 1, "sqeuclidean": 2}.get(method, 0)
        targets.append(
            Target(
                f"compute_rdm[{method}]",
                lambda X, method=method: compute_rdm(X, method),
                {"X": X},
                _rdm_reference(method),
                {"X": power},
            )
        )
    targets.append(
        Target(
            "compute_rdm[mahalanobis]",
            lambda X, precision: compute_rdm(X, "mahalanobis", precision=precision),
            {"X": X, "precision": precision},
            _rdm_reference("mahalanobis"),
            {"X": 2, "precision": 1},
            none_means={"precision": np.eye(5)},
        )
    )
    labels = {"conditions": np.tile(np.arange(6), 2), "runs": np.repeat([0, 1], 6)}
    targets.append(
        Target(
            "compute_rdm[crossnobis]",
            lambda X, precision: compute_rdm(X, "crossnobis", precision=precision, **labels),
            {"X": X_runs, "precision": precision},
            _rdm_reference("crossnobis"),
            {"X": 2, "precision": 1},
            none_means={"precision": np.eye(5)},
            other_names=("conditions", "runs"),
        )
    )
    targets.append(
        Target(
            "square_to_condensed",
            lambda rdms: square_to_condensed(rdms),
            {"rdms": condensed_to_square(a)},
            _triangles_reference,
            {"rdms": 1},
            empty_ok=True,
        )
    )
    targets.append(
        Target(
            "condensed_to_square",
            lambda vectors: condensed_to_square(vectors),
            {"vectors": a},
            _squares_reference,
            {"vectors": 1},
            empty_ok=True,
        )
    )
    for method in SCIPY_COMPARISONS:
        targets.append(
            Target(
                f"compare_rdms[{method}]",
                lambda rdms_a, rdms_b, method=method: compare_rdms(rdms_a, rdms_b, method),
                {"rdms_a": a, "rdms_b": b},
                _compare_reference(method),
            )
        )
    for method in ("pearson", "spearman"):
        targets.append(
            Target(
                f"pool_rdms[{method}]",
                lambda rdms, method=method: pool_rdms(rdms, method),
                {"rdms": a},
                _pool_reference(method),
            )
        )
        targets.append(
            Target(
                f"noise_ceiling[{method}]",
                lambda rdms, method=method: np.array(noise_ceiling(rdms, method)),
                {"rdms": a},
                _ceiling_reference(method),
            )
        )
    targets.append(
        Target(
            "bootstrap_comparisons",
            lambda model_rdms, data_rdms: _quiet_bootstrap(model_rdms, data_rdms),
            {"model_rdms": b, "data_rdms": a},
            _bootstrap_reference,
            nan_ok=True,
        )
    )
    targets.append(
        Target(
            "permutation_test",
            lambda model_rdms, data_rdms: np.concatenate(
                permutation_test(model_rdms, data_rdms, n_permutations=9, random_state=0)
            ),
            {"model_rdms": b, "data_rdms": a},
            _permutation_reference,
        )
    )
    targets.append(
        Target(
            "noise_covariance",
            lambda residuals: noise_covariance(residuals, "full"),
            {"residuals": residuals},
            _covariance_reference,
            {"residuals": 2},
        )
    )
    targets.append(
        Target(
            "noise_precision",
            lambda residuals: noise_precision(residuals, "full"),
            {"residuals": residuals},
            lambda residuals: np.linalg.inv(_covariance_reference(residuals)),
            {"residuals": -2},
        )
    )
    targets.append(
        Target(
            "check_distance_matrix",
            lambda D: check_distance_matrix(D),
            {"D": D},
            lambda D: squareform(squareform(np.asarray(D, dtype=np.float64), checks=True)),
            {"D": 1},
        )
    )
    return targets


def _quiet_bootstrap(model_rdms, data_rdms):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bootstrap_comparisons(
            model_rdms, data_rdms, "pearson", n_bootstrap=6, random_state=0
        )


def _as_numpy(value):
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def _cases():
    cases = []
    for target in _targets(np.random.default_rng(22)):
        for argument in target.arguments:
            for kind in KINDS:
                cases.append((target, argument, kind))
            if len(target.arguments) == 2:
                cases.append((target, argument, "mixed numpy/torch"))
    return cases


CASES = _cases()


def _expected(target, argument, kind, good):
    """The value the call must return, or None when it must raise."""
    if kind == "mixed numpy/torch":
        reference_input = good
    elif kind == "None" and argument in target.none_means:
        reference_input = target.none_means[argument]
    else:
        make_reference = KINDS[kind][1]
        if make_reference is None:
            return None
        reference_input = make_reference(good)
    arguments = dict(target.arguments, **{argument: reference_input})
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = np.asarray(target.reference(**arguments), dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if kind in SCALES:
        with np.errstate(all="ignore"):
            scaled = value * np.float64(SCALES[kind]) ** target.scale_power.get(argument, 0)
        tiny = np.finfo(np.float64).tiny
        if not np.all(np.isfinite(scaled[~np.isnan(scaled)])) or np.any(
            (np.abs(scaled) < tiny) & (value != 0)
        ):
            return None  # not representable in float64: the call must say so
        value = scaled
    if value.size == 0 and not target.empty_ok:
        return None
    if np.all(np.isnan(value)) if target.nan_ok else np.any(np.isnan(value)):
        return None
    return value


@pytest.mark.parametrize(
    "target, argument, kind",
    CASES,
    ids=[f"{t.name}-{argument}-{kind}" for t, argument, kind in CASES],
)
def test_battery(target, argument, kind):
    good = target.arguments[argument]
    if kind == "mixed numpy/torch" or kind == "torch requiring grad":
        if torch is None:
            pytest.skip("needs torch")
    if kind == "mixed numpy/torch":
        bad = torch.tensor(good)
    else:
        bad = KINDS[kind][0](good)
        if bad is None and kind != "None":
            pytest.skip(f"no {kind} form of a {good.ndim}-D array")
    expected = _expected(target, argument, kind, good)
    arguments = dict(target.arguments, **{argument: bad})
    if expected is None:
        with pytest.raises((ValueError, TypeError)) as error:
            target.call(**arguments)
        assert any(name in str(error.value) for name in target.names), str(error.value)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow, no 0 / 0 on the way
        value = _as_numpy(target.call(**arguments))
    if kind == "torch requiring grad" and target.name.startswith("compute_rdm"):
        pass  # torch in, torch out (with its graph): compared as numpy below
    assert value.shape == expected.shape
    assert target.nan_ok or np.all(np.isfinite(value))
    # Scale-free values (correlations, distances in [0, 2]) are compared absolutely.
    size = np.nanmax(np.abs(expected), initial=0.0)
    if not target.scale_power.get(argument, 0):
        size = max(size, 1.0)
    if kind in ("float16", "float32+1e4") and target.name.startswith("compute_rdm"):
        tolerance = {"rtol": 1e-4, "atol": 1e-5 * size}  # computed in float32
    else:
        tolerance = {"rtol": 1e-9, "atol": 1e-12 * size}
    np.testing.assert_allclose(value, expected, **tolerance)


def test_battery_size():
    # The count the report quotes: every target meets every kind on every argument.
    assert len(CASES) > 900
