"""Time-resolved RDMs (RDM movies) with a noise precision per time point.

Reference values: ``data/rsatoolbox_movie.npz``, written by
``benchmarks/reference_movie.py`` with rsatoolbox 0.3.2 (calls in
``data/rsatoolbox_movie.md``): ``calc_rdm_movie`` with one precision for all time
points, ``calc_rdm`` of each time point with its own precision (rsatoolbox's
movie function takes no per-time-point noise), and rsatoolbox's
``prec_from_residuals`` / ``prec_from_unbalanced`` per time point. Other checks:
a loop of compute_rdm over the time points (a second implementation), torch
against numpy, and an invariance (time-varying sensor gains cancel with
per-time-point precisions).
"""

from pathlib import Path

import numpy as np
import pytest

from skrep.functional.noise import noise_precision, noise_precision_stack
from skrep.functional.rdm import compute_rdm

DATA = Path(__file__).parent / "data" / "rsatoolbox_movie.npz"
with np.load(DATA, allow_pickle=False) as _file:
    REFERENCE = {key: _file[key] for key in _file.files}
# rsatoolbox's TemporalDataset is (n_obs, n_channels, n_times); compute_rdm stacks time first.
X = np.moveaxis(REFERENCE["measurements"], -1, 0)
CONDITIONS, RUNS = REFERENCE["cond"], REFERENCE["run"]


def assert_close(actual, expected, rtol=1e-12):
    actual = np.asarray(actual)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize(
    ("method", "precision", "key"),
    [
        ("sqeuclidean", None, "rdm_sqeuclidean"),
        ("crossnobis", None, "rdm_crossnobis_identity"),
        ("crossnobis", "precision_shared", "rdm_crossnobis_shared"),
        ("mahalanobis", "precision_shared", "rdm_mahalanobis_shared"),
    ],
)
def test_movie_matches_rsatoolbox_calc_rdm_movie(method, precision, key):
    kwargs = {"conditions": CONDITIONS}
    if method == "crossnobis":
        kwargs["runs"] = RUNS
    if precision is not None:
        kwargs["precision"] = REFERENCE[precision]
    assert_close(compute_rdm(X, method, **kwargs), REFERENCE[key])


def test_precision_stacks_match_rsatoolbox_per_time_point():
    # prec_from_residuals of a 3-D array, and prec_from_unbalanced of each time point's data set.
    assert_close(noise_precision_stack(REFERENCE["residuals"]), REFERENCE["precision_residuals"])
    from_measurements = noise_precision_stack(X, conditions=CONDITIONS)
    assert_close(from_measurements, REFERENCE["precision_measurements"])
    # One precision for all time points: the residuals of all of them pooled.
    pooled = noise_precision(REFERENCE["residuals"].reshape(-1, X.shape[-1]))
    assert_close(pooled, REFERENCE["precision_shared"])


def test_per_time_precisions_give_rsatoolbox_rdms_of_each_time_point():
    crossnobis = compute_rdm(
        X,
        "crossnobis",
        conditions=CONDITIONS,
        runs=RUNS,
        precision=noise_precision_stack(X, conditions=CONDITIONS),
    )
    assert_close(crossnobis, REFERENCE["rdm_crossnobis_per_time"])
    mahalanobis = compute_rdm(
        X,
        "mahalanobis",
        conditions=CONDITIONS,
        precision=noise_precision_stack(REFERENCE["residuals"]),
    )
    assert_close(mahalanobis, REFERENCE["rdm_mahalanobis_per_time"], rtol=1e-11)
    # The time points differ in their noise, so one precision for all gives other RDMs.
    shared = REFERENCE["rdm_crossnobis_shared"]
    assert np.abs(shared - REFERENCE["rdm_crossnobis_per_time"]).max() > 0.1 * np.abs(shared).max()


@pytest.mark.parametrize("method", ["crossnobis", "mahalanobis"])
@pytest.mark.parametrize("per_time", [True, False])
def test_stack_equals_a_loop_over_time_points(method, per_time):
    precisions = REFERENCE["precision_measurements"]
    kwargs = {"conditions": CONDITIONS}
    if method == "crossnobis":
        kwargs["runs"] = RUNS
    stacked = compute_rdm(X, method, precision=precisions if per_time else precisions[0], **kwargs)
    loop = [
        compute_rdm(X[t], method, precision=precisions[t if per_time else 0], **kwargs)
        for t in range(X.shape[0])
    ]
    assert_close(stacked, np.stack(loop))


def test_torch_stack_matches_numpy():
    torch = pytest.importorskip("torch")
    precisions = noise_precision_stack(X, conditions=CONDITIONS)
    expected = compute_rdm(X, "crossnobis", conditions=CONDITIONS, runs=RUNS, precision=precisions)
    tensor = torch.tensor(X, requires_grad=True)
    rdms = compute_rdm(
        tensor, "crossnobis", conditions=CONDITIONS, runs=RUNS, precision=torch.tensor(precisions)
    )
    assert_close(rdms.detach().numpy(), expected)
    rdms.sum().backward()
    assert tensor.grad.shape == X.shape
    assert torch.all(torch.isfinite(tensor.grad))


def test_per_time_precisions_cancel_time_varying_sensor_gains(rng):
    # MEG sensors whose gains drift over time: with each time point's own
    # (shrinkage_diag) precision the crossnobis RDMs do not change, since the
    # estimate scales with the gains (D S D -> D^-1 P D^-1); with one pooled
    # precision they do.
    gains = rng.uniform(0.2, 5.0, (X.shape[0], 1, X.shape[-1]))
    scaled = X * gains

    def rdms(data, pooled):
        if pooled:
            residuals = data.copy()
            for label in np.unique(CONDITIONS):
                residuals[:, CONDITIONS == label] -= data[:, CONDITIONS == label].mean(axis=1)[
                    :, None
                ]
            precision = noise_precision(residuals.reshape(-1, data.shape[-1]))
        else:
            precision = noise_precision_stack(data, conditions=CONDITIONS)
        return compute_rdm(
            data, "crossnobis", conditions=CONDITIONS, runs=RUNS, precision=precision
        )

    assert_close(rdms(scaled, pooled=False), rdms(X, pooled=False), rtol=1e-10)
    reference = rdms(X, pooled=True)
    assert np.abs(rdms(scaled, pooled=True) - reference).max() > 0.1 * np.abs(reference).max()


def test_stack_is_noise_precision_of_each_time_point(rng):
    residuals = rng.standard_normal((4, 30, 6)) * rng.uniform(0.5, 2.0, (4, 1, 6))
    dofs = [20, 25, 28, 29]
    for method in ("shrinkage_diag", "shrinkage_eye", "diag", "full"):
        stack = noise_precision_stack(residuals, method, dof=np.array(dofs))
        for t in range(4):
            np.testing.assert_allclose(
                stack[t], noise_precision(residuals[t], method, dofs[t]), rtol=1e-13
            )


def test_runs_take_the_condition_means_within_each_run(rng):
    data = np.concatenate([X, X[:, ::-1] + rng.standard_normal(X.shape)], axis=1)
    conditions = np.concatenate([CONDITIONS, CONDITIONS[::-1]])
    runs = np.concatenate([RUNS, RUNS[::-1]])  # each condition twice in each run
    expected = []
    for t in range(data.shape[0]):
        residuals = data[t].copy()
        for run in np.unique(runs):
            for condition in np.unique(conditions):
                cell = (runs == run) & (conditions == condition)
                residuals[cell] -= data[t][cell].mean(axis=0)
        expected.append(noise_precision(residuals, dof=conditions.size - 6 * 4))
    actual = noise_precision_stack(data, conditions=conditions, runs=runs)
    assert_close(actual, np.stack(expected), rtol=1e-12)


def test_crossnobis_is_unbiased_with_residuals_within_runs(rng):
    # Pure noise (no condition differs): crossnobis distances are zero on
    # average when the precision comes from residuals about each run's
    # condition means (independent of the run means crossnobis compares), and
    # positive when it comes from residuals about the pooled means. 300
    # independent "time points" as replicates.
    n_conditions, n_runs, n_repeats, n_channels, n_times = 8, 4, 2, 12, 300
    conditions = np.tile(np.repeat(np.arange(n_conditions), n_repeats), n_runs)
    runs = np.repeat(np.arange(n_runs), n_conditions * n_repeats)
    mixing = np.eye(n_channels) + 0.5 * rng.standard_normal((n_channels, n_channels))
    noise = rng.standard_normal((n_times, conditions.size, n_channels)) @ mixing.T
    z_scores = {}
    for name, cell_runs in (("within runs", runs), ("pooled", None)):
        precision = noise_precision_stack(noise, conditions=conditions, runs=cell_runs)
        rdms = compute_rdm(
            noise, "crossnobis", conditions=conditions, runs=runs, precision=precision
        )
        means = rdms.mean(axis=1)  # one per replicate, independent
        z_scores[name] = means.mean() / (means.std(ddof=1) / np.sqrt(n_times))
    assert abs(z_scores["within runs"]) < 3.5
    assert z_scores["pooled"] > 8.0


def test_bad_input_is_named():
    precisions = REFERENCE["precision_measurements"]
    with pytest.raises(ValueError, match=r"precision has shape \(6, 10, 10\).*\(7, 10, 10\)"):
        compute_rdm(X, "crossnobis", conditions=CONDITIONS, runs=RUNS, precision=precisions[:6])
    with pytest.raises(ValueError, match=r"precision has shape \(7, 10, 10\); expected \(10, 10\)"):
        compute_rdm(X[0], "mahalanobis", conditions=CONDITIONS, precision=precisions)
    with pytest.raises(ValueError, match=r"residuals has shape \(24, 10\); expected \(n_times"):
        noise_precision_stack(X[0])
    with pytest.raises(ValueError, match=r"conditions must have one label .* \(24,\); got shape"):
        noise_precision_stack(X, conditions=CONDITIONS[:-1])
    with pytest.raises(ValueError, match="Each condition has one observation"):
        noise_precision_stack(X, conditions=np.arange(24))
    with pytest.raises(ValueError, match="Each condition in each run has one observation"):
        noise_precision_stack(X, conditions=CONDITIONS, runs=RUNS)
    with pytest.raises(ValueError, match="runs is used with conditions only"):
        noise_precision_stack(X, runs=RUNS)
    with pytest.raises(ValueError, match=r"runs must have one label .* \(24,\)"):
        noise_precision_stack(X, conditions=CONDITIONS, runs=RUNS[:3])
    with pytest.raises(ValueError, match="dof has 2 entries for 7 data sets"):
        noise_precision_stack(X, dof=[10, 10])
    with pytest.raises(ValueError, match="conditions contains NaN"):
        noise_precision_stack(X, conditions=np.where(CONDITIONS == 2, np.nan, CONDITIONS))
    bad = X.copy()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="residuals.*(NaN|nan|finite)"):
        noise_precision_stack(bad, conditions=CONDITIONS)
    constant = X.copy()
    constant[5, :, 4] = 1.0
    with pytest.raises(ValueError, match=r"residuals\[5\] has no variance in channel 4"):
        noise_precision_stack(constant, conditions=CONDITIONS)
