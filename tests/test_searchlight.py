"""Volume searchlights against rsatoolbox 0.3.2 and against compute_rdm per searchlight.

Reference values: ``data/rsatoolbox_searchlight.npz``, written by
``benchmarks/reference_searchlight.py`` (calls in ``data/rsatoolbox_searchlight.md``).
Other checks: the sphere's voxel counts (closed form), compute_rdm of each
searchlight's columns (a second implementation, every method), invariances
(chunking, torch, map round trip).
"""

from pathlib import Path

import numpy as np
import pytest
import sklearn

from skrep.exceptions import InvalidParameterError
from skrep.functional.noise import noise_precision
from skrep.functional.rdm import compute_rdm
from skrep.functional.searchlight import (
    evaluate_searchlight,
    searchlight_map,
    searchlight_rdms,
    volume_searchlight,
)

DATA = Path(__file__).parent / "data" / "rsatoolbox_searchlight.npz"
with np.load(DATA, allow_pickle=False) as _file:
    REFERENCE = {key: _file[key] for key in _file.files}


def _split(flat, counts):
    return np.split(flat, np.cumsum(counts)[:-1])


@pytest.mark.parametrize("case", REFERENCE["volume_cases"].tolist())
def test_centres_and_neighbours_match_rsatoolbox(case):
    name, radius, threshold = case.split("__")
    centers, neighbors = volume_searchlight(
        REFERENCE[name], float(radius[1:]), float(threshold[1:])
    )
    np.testing.assert_array_equal(centers, REFERENCE[f"{case}__centers"])
    expected = _split(REFERENCE[f"{case}__neighbors"], REFERENCE[f"{case}__counts"])
    assert len(neighbors) == len(expected)
    for ours, theirs in zip(neighbors, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)  # same voxels, same order


@pytest.mark.parametrize("radius, count", [(1, 1), (1.5, 19), (2, 27), (2.5, 81), (3, 93)])
def test_sphere_sizes_inside_a_full_mask(radius, count):
    # integer offsets with |d|^2 < r^2: 1, +6 (|d|^2=1), +12 (2), +8 (3), +6 (4), +24 (5), +24 (6)
    mask = np.ones((9, 9, 9), dtype=bool)
    centers, neighbors = volume_searchlight(mask, radius)
    middle = np.ravel_multi_index((4, 4, 4), mask.shape)
    assert centers.size == mask.size  # spheres are cut by the volume's faces, not counted out
    sphere = neighbors[int(np.flatnonzero(centers == middle)[0])]
    assert sphere.size == count
    coordinates = np.stack(np.unravel_index(sphere, mask.shape), axis=1) - 4
    assert np.all(np.sum(coordinates**2, axis=1) < radius**2)


def test_numeric_mask_and_threshold_zero():
    mask = REFERENCE["mask_b"]
    ours = volume_searchlight(mask.astype(np.float32), 2, 0.0)
    boolean = volume_searchlight(mask, 2, 0.0)
    np.testing.assert_array_equal(ours[0], boolean[0])
    np.testing.assert_array_equal(ours[0], np.flatnonzero(mask))  # threshold 0: every voxel


@pytest.fixture(scope="module")
def small():
    """The reference's small volume: 10 conditions x 3 runs, radius 2, threshold 0.5."""
    centers, neighbors = volume_searchlight(REFERENCE["rdm_mask"], 2, 0.5)
    np.testing.assert_array_equal(centers, REFERENCE["rdm_centers"])
    return {
        "centers": centers,
        "neighbors": neighbors,
        "data": REFERENCE["rdm_data"],
        "conditions": REFERENCE["rdm_events"],
        "runs": REFERENCE["rdm_runs"],
        "residuals": REFERENCE["rdm_residuals"],
    }


RSATOOLBOX_RDMS = [
    ("correlation", {}, "rdm_correlation"),
    ("sqeuclidean", {}, "rdm_euclidean"),  # rsatoolbox's "euclidean"
    ("crossnobis", {"runs": True}, "rdm_crossnobis"),
    ("crossnobis", {"runs": True, "residuals": True}, "rdm_crossnobis_noise"),
    ("mahalanobis", {"residuals": True}, "rdm_mahalanobis_noise"),
]


@pytest.mark.parametrize(
    "method, options, key", RSATOOLBOX_RDMS, ids=[c[2] for c in RSATOOLBOX_RDMS]
)
def test_rdms_match_rsatoolbox(small, method, options, key):
    kwargs = {"runs": small["runs"]} if options.get("runs") else {}
    if options.get("residuals"):
        kwargs["residuals"] = small["residuals"]
    rdms = searchlight_rdms(
        small["data"], small["centers"], small["neighbors"], small["conditions"], method, **kwargs
    )
    np.testing.assert_allclose(rdms, REFERENCE[key], rtol=1e-12, atol=1e-13)


def test_crossnobis_matches_get_searchlight_rdms(small):
    # rsatoolbox's get_searchlight_RDMs itself, on the searchlights of one size
    index = REFERENCE["rdm_crossnobis_same_size_index"]
    rdms = searchlight_rdms(
        small["data"],
        small["centers"][index],
        [small["neighbors"][i] for i in index],
        small["conditions"],
        "crossnobis",
        runs=small["runs"],
    )
    np.testing.assert_allclose(rdms, REFERENCE["rdm_crossnobis_same_size"], rtol=1e-12, atol=1e-13)


def test_noise_list_equals_residuals(small):
    precisions = [noise_precision(small["residuals"][:, nb]) for nb in small["neighbors"]]
    args = (small["data"], small["centers"], small["neighbors"], small["conditions"], "mahalanobis")
    given = searchlight_rdms(*args, noise=precisions)
    np.testing.assert_allclose(given, REFERENCE["rdm_mahalanobis_noise"], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("method", ["spearman", "corr", "tau-a"])
def test_evaluation_matches_rsatoolbox(small, method):
    rdms = searchlight_rdms(
        small["data"], small["centers"], small["neighbors"], small["conditions"]
    )
    values = evaluate_searchlight(rdms, REFERENCE["model_rdms"], method)
    assert values.shape == (small["centers"].size, 2)
    np.testing.assert_allclose(values, REFERENCE[f"evaluation_{method}"], rtol=1e-12, atol=1e-14)
    one = evaluate_searchlight(rdms, REFERENCE["model_rdms"][1], method)
    np.testing.assert_allclose(one, values[:, 1], rtol=1e-13, atol=1e-15)


def _unbalanced(rng, n_voxels):
    """5 conditions in 3 runs, some (run, condition) cells with two observations."""
    conditions = np.concatenate([np.arange(5), np.arange(5), [0, 3], np.arange(5), [4]])
    runs = np.array([0] * 5 + [1] * 5 + [1, 1] + [2] * 5 + [2])
    data = rng.standard_normal((conditions.size, n_voxels)) + 2.0
    return data, conditions, runs


@pytest.mark.parametrize(
    "method", ["correlation", "cosine", "euclidean", "sqeuclidean", "mahalanobis", "crossnobis"]
)
def test_equals_compute_rdm_per_searchlight(method):
    rng = np.random.default_rng(7)
    mask = REFERENCE["mask_a"]
    centers, neighbors = volume_searchlight(mask, 1.5, 0.5)  # sizes 4 to 7
    data, conditions, runs = _unbalanced(rng, mask.size)
    kwargs, per_searchlight = {}, [{} for _ in neighbors]
    if method == "crossnobis":
        kwargs["runs"] = runs
        for extra in per_searchlight:
            extra["runs"] = runs
    if method == "mahalanobis":
        residuals = rng.standard_normal((30, mask.size))
        precisions = [noise_precision(residuals[:, nb]) for nb in neighbors]
        kwargs["noise"] = precisions
        for extra, precision in zip(per_searchlight, precisions, strict=True):
            extra["precision"] = precision
    rdms = searchlight_rdms(data, centers, neighbors, conditions, method, **kwargs)
    expected = np.stack(
        [
            compute_rdm(data[:, nb], method, conditions=conditions, **extra)
            for nb, extra in zip(neighbors, per_searchlight, strict=True)
        ]
    )
    assert rdms.shape == (centers.size, 10)
    np.testing.assert_allclose(rdms, expected, rtol=1e-11, atol=1e-13)


def test_each_observation_a_condition_and_2d_neighbours():
    rng = np.random.default_rng(3)
    mask = np.ones((6, 6, 6), dtype=bool)
    centers, neighbors = volume_searchlight(mask, 2)
    inner = [i for i, nb in enumerate(neighbors) if nb.size == 27]
    stacked = np.stack([neighbors[i] for i in inner])
    data = rng.standard_normal((7, mask.size))
    rdms = searchlight_rdms(data, centers[inner], stacked, method="euclidean")
    expected = np.stack([compute_rdm(data[:, nb], "euclidean") for nb in stacked])
    np.testing.assert_allclose(rdms, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("method", ["correlation", "crossnobis"])
def test_chunked_equals_unchunked(small, method):
    args = (small["data"], small["centers"], small["neighbors"], small["conditions"], method)
    kwargs = {"runs": small["runs"]} if method == "crossnobis" else {}
    whole = searchlight_rdms(*args, chunk=10_000, **kwargs)
    for chunk in (1, 7):
        np.testing.assert_allclose(
            searchlight_rdms(*args, chunk=chunk, **kwargs), whole, atol=1e-15
        )
    with sklearn.config_context(working_memory=0.05):  # about 15 searchlights per batch
        np.testing.assert_allclose(searchlight_rdms(*args, **kwargs), whole, atol=1e-15)


@pytest.mark.parametrize("method", ["correlation", "sqeuclidean", "crossnobis"])
def test_torch_input_equals_numpy(small, method):
    torch = pytest.importorskip("torch")
    kwargs = {"runs": small["runs"]} if method == "crossnobis" else {}
    args = (small["centers"], small["neighbors"], small["conditions"], method)
    expected = searchlight_rdms(small["data"], *args, **kwargs)
    tensor = searchlight_rdms(torch.from_numpy(small["data"]), *args, **kwargs)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float64
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-12, atol=1e-13)
    moved = searchlight_rdms(small["data"], *args, device="cpu", **kwargs)
    assert isinstance(moved, torch.Tensor)
    single = searchlight_rdms(torch.from_numpy(small["data"]).float(), *args, **kwargs)
    assert single.dtype == torch.float32
    np.testing.assert_allclose(single.numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("method", ["correlation", "sqeuclidean", "crossnobis"])
def test_gradients_equal_compute_rdm(method):
    torch = pytest.importorskip("torch")
    centers, neighbors = volume_searchlight(np.ones((4, 4, 4), dtype=bool), 1.5)
    X = torch.randn(6, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    X.requires_grad_(True)
    kwargs = {"conditions": np.arange(6) % 3, "runs": np.arange(6) // 3}
    kwargs = kwargs if method == "crossnobis" else {}
    weights = torch.rand(centers.size, 15 if not kwargs else 3, dtype=torch.float64)
    (searchlight_rdms(X, centers, neighbors, method=method, **kwargs) * weights).sum().backward()
    ours, X.grad = X.grad.clone(), None
    total = sum(
        (compute_rdm(X[:, torch.as_tensor(nb)], method, **kwargs) * w).sum()
        for nb, w in zip(neighbors, weights, strict=True)
    )
    total.backward()
    np.testing.assert_allclose(ours.numpy(), X.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_map_round_trip(small):
    rng = np.random.default_rng(0)
    shape = REFERENCE["rdm_mask"].shape
    values = rng.standard_normal(small["centers"].size)
    volume = searchlight_map(values, small["centers"], shape)
    assert volume.shape == shape
    np.testing.assert_array_equal(volume.reshape(-1)[small["centers"]], values)
    others = np.setdiff1d(np.arange(volume.size), small["centers"])
    assert np.all(np.isnan(volume.reshape(-1)[others]))
    several = searchlight_map(np.stack([values, -values], axis=1), small["centers"], shape, 0.0)
    assert several.shape == (*shape, 2)
    np.testing.assert_array_equal(several[..., 1].reshape(-1)[small["centers"]], -values)
    assert np.all(several.reshape(-1, 2)[others] == 0.0)
    counts = searchlight_map(np.arange(small["centers"].size), small["centers"], shape)
    assert counts.dtype == np.float64


def test_map_of_tensor_stays_tensor(small):
    torch = pytest.importorskip("torch")
    values = torch.arange(small["centers"].size, dtype=torch.float32)
    volume = searchlight_map(values, small["centers"], REFERENCE["rdm_mask"].shape)
    assert isinstance(volume, torch.Tensor) and volume.dtype == torch.float32
    np.testing.assert_array_equal(volume.reshape(-1)[small["centers"]].numpy(), values.numpy())


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "mask, match",
    [
        (np.ones((4, 4), dtype=bool), "3-D boolean"),
        (np.ones((2, 3, 4, 5), dtype=bool), "3-D boolean"),
        (np.full((3, 3, 3), 2.0), "values other than 0 and 1"),
        (np.full((3, 3, 3), "a"), "boolean"),
        (np.zeros((3, 3, 3), dtype=bool), "no True voxel"),
    ],
)
def test_bad_masks(mask, match):
    with pytest.raises((ValueError, TypeError), match=match):
        volume_searchlight(mask, 2)


@pytest.mark.parametrize("radius", [0, -1.0, np.nan, np.inf, True, "3"])
def test_bad_radius(radius):
    with pytest.raises(InvalidParameterError, match="radius"):
        volume_searchlight(np.ones((3, 3, 3), dtype=bool), radius)


@pytest.mark.parametrize("threshold", [1.5, -0.1, np.nan, None])
def test_bad_threshold(threshold):
    with pytest.raises(InvalidParameterError, match="threshold"):
        volume_searchlight(np.ones((3, 3, 3), dtype=bool), 1, threshold)


def test_no_centre_is_named():
    mask = np.zeros((7, 7, 7), dtype=bool)
    mask[3, 3, :] = True  # a line: no sphere of radius 2 is full
    with pytest.raises(ValueError, match="No voxel of mask has at least 1 of its sphere"):
        volume_searchlight(mask, 2)


def _setup():
    rng = np.random.default_rng(1)
    mask = np.ones((5, 5, 5), dtype=bool)
    centers, neighbors = volume_searchlight(mask, 1.5)
    return rng.standard_normal((6, mask.size)), centers, neighbors


@pytest.mark.parametrize(
    "change, error, match",
    [
        (
            lambda d, c, n: (d, c, [*n[:-1], np.array([0, 125])]),
            ValueError,
            r"neighbors\[124\].*125",
        ),
        (lambda d, c, n: (d, c, [*n[:-1], np.array([-1, 3])]), ValueError, "outside the data"),
        (lambda d, c, n: (d, c[:-1], n), ValueError, "one set of neighbours per centre"),
        (lambda d, c, n: (d, c, [*n[:-1], np.array([], dtype=int)]), ValueError, "is empty"),
        (lambda d, c, n: (d, c, [*n[:-1], np.array([0.5, 1.0])]), TypeError, "integer"),
        (lambda d, c, n: (d, c, "abc"), TypeError, "neighbors must be"),
        (lambda d, c, n: (d[0], c, n), ValueError, r"shape \(n_observations, n_voxels\)"),
        (lambda d, c, n: (d[None], c, n), ValueError, "4-D series"),
        (lambda d, c, n: (d[:, :100], c, n), ValueError, "outside the data's 100 columns"),
    ],
)
def test_bad_searchlights_and_data(change, error, match):
    data, centers, neighbors = change(*_setup())
    with pytest.raises(error, match=match):
        searchlight_rdms(data, centers, neighbors)


def test_bad_data_values_and_labels():
    data, centers, neighbors = _setup()
    bad = data.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="data contains 1 NaN"):
        searchlight_rdms(bad, centers, neighbors)
    with pytest.raises(ValueError, match="conditions must have one label per observation"):
        searchlight_rdms(data, centers, neighbors, conditions=np.arange(5))
    with pytest.raises(ValueError, match="at least 2 conditions"):
        searchlight_rdms(data, centers, neighbors, conditions=np.zeros(6))
    with pytest.raises(InvalidParameterError, match="method must be one of"):
        searchlight_rdms(data, centers, neighbors, method="poisson")
    with pytest.raises(ValueError, match="needs runs"):
        searchlight_rdms(data, centers, neighbors, np.arange(6) % 3, "crossnobis")
    with pytest.raises(ValueError, match="runs is used by method='crossnobis' only"):
        searchlight_rdms(data, centers, neighbors, runs=np.arange(6) % 2)
    with pytest.raises(ValueError, match="has no observation in"):
        searchlight_rdms(
            data,
            centers,
            neighbors,
            np.array([0, 1, 2, 0, 1, 1]),
            "crossnobis",
            runs=np.repeat([0, 1], 3),
        )
    for chunk in (0, 1.5, True):
        with pytest.raises(InvalidParameterError, match="chunk"):
            searchlight_rdms(data, centers, neighbors, chunk=chunk)
    with pytest.raises(InvalidParameterError, match="device"):
        searchlight_rdms(data, centers, neighbors, device=3)


def test_extreme_scales():
    data, centers, neighbors = _setup()
    expected = searchlight_rdms(data, centers, neighbors, method="sqeuclidean")
    for factor in (2.0**-400, 2.0**400):  # exact powers of two: the distances scale exactly
        small = searchlight_rdms(data * factor, centers, neighbors, method="sqeuclidean")
        np.testing.assert_allclose(small, expected * factor**2, rtol=1e-13)
        angular = searchlight_rdms(data * factor, centers, neighbors)
        np.testing.assert_allclose(angular, searchlight_rdms(data, centers, neighbors), atol=1e-14)
    with pytest.raises(ValueError, match="sqeuclidean distances of data overflow"):
        searchlight_rdms(data * 1e300, centers, neighbors, method="sqeuclidean")


def test_bad_noise():
    data, centers, neighbors = _setup()
    eyes = [np.eye(nb.size) for nb in neighbors]
    with pytest.raises(ValueError, match="used by method='mahalanobis' and 'crossnobis' only"):
        searchlight_rdms(data, centers, neighbors, noise=eyes)
    with pytest.raises(ValueError, match="not both"):
        searchlight_rdms(data, centers, neighbors, method="mahalanobis", noise=eyes, residuals=data)
    with pytest.raises(ValueError, match="expected one per centre"):
        searchlight_rdms(data, centers, neighbors, method="mahalanobis", noise=eyes[:-1])
    wrong = [*eyes[:-1], np.eye(3)]
    with pytest.raises(ValueError, match=r"noise\[124\] has shape \(3, 3\); expected \(7, 7\)"):
        searchlight_rdms(data, centers, neighbors, method="mahalanobis", noise=wrong)
    with pytest.raises(ValueError, match="pass residuals= instead"):
        searchlight_rdms(data, centers, neighbors, method="mahalanobis", noise=data)
    with pytest.raises(ValueError, match=r"residuals has shape \(6, 10\)"):
        searchlight_rdms(data, centers, neighbors, method="mahalanobis", residuals=data[:, :10])
    asymmetric = [e.copy() for e in eyes]
    asymmetric[5][0, 1] = 1.0
    with pytest.raises(ValueError, match="noise precision of searchlight 5 is unusable.*symmetric"):
        searchlight_rdms(data, centers, neighbors, method="mahalanobis", noise=asymmetric)
    # I - 2 v v' (v the unit mean vector): a positive diagonal, but an eigenvalue of -1 along
    # v, along which patterns that differ by an offset across voxels get negative distances
    negative = list(eyes)
    size = neighbors[9].size
    negative[9] = np.eye(size) - 2.0 * np.full((size, size), 1.0 / size)
    offsets = np.arange(6.0)[:, None] + 0.01 * data
    with pytest.raises(ValueError, match=r"searchlight 9 \(centre 9, .*not positive semi-definite"):
        searchlight_rdms(offsets, centers, neighbors, method="mahalanobis", noise=negative)


@pytest.mark.parametrize("method, value", [("correlation", 5.0), ("cosine", 0.0)])
def test_constant_pattern_is_named(method, value):
    data, centers, neighbors = _setup()
    data[2, neighbors[40]] = value  # condition "c" is constant in searchlight 40 only
    labels = np.array(list("abcdef"))
    with pytest.raises(ValueError, match=r"searchlight 40 \(centre 40, 14 voxels\).*condition 'c'"):
        searchlight_rdms(data, centers, neighbors, labels, method=method)
    single = [nb[:1] for nb in neighbors]
    with pytest.raises(ValueError, match="at least 2 voxels"):
        searchlight_rdms(data, centers, single)


def test_map_errors():
    centers = np.array([0, 5, 7])
    with pytest.raises(ValueError, match="repeated"):
        searchlight_map(np.ones(3), np.array([0, 5, 5]), (2, 2, 2))
    with pytest.raises(ValueError, match="outside the 8 voxels"):
        searchlight_map(np.ones(3), np.array([0, 5, 8]), (2, 2, 2))
    with pytest.raises(ValueError, match=r"expected \(3,\) or \(3, n_maps\)"):
        searchlight_map(np.ones(4), centers, (2, 2, 2))
    with pytest.raises(ValueError, match="integer voxel indices"):
        searchlight_map(np.ones(3), centers.astype(float), (2, 2, 2))
    with pytest.raises(InvalidParameterError, match="shape"):
        searchlight_map(np.ones(3), centers, (2, 0, 2))
    with pytest.raises(InvalidParameterError, match="fill"):
        searchlight_map(np.ones(3), centers, (2, 2, 2), fill="nan")
