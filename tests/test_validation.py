"""Bad input gets a clear error naming the argument, what it got and what was expected."""

import numpy as np
import pytest

from skrep._validation import check_representation
from skrep.compat import netrep as compat
from skrep.exceptions import InvalidParameterError
from skrep.metrics import LinearMetric, PermutationMetric

METRICS = [LinearMetric, PermutationMetric]


@pytest.fixture
def pair(rng):
    X = rng.standard_normal((20, 4))
    return X, X @ rng.standard_normal((4, 4))


@pytest.mark.parametrize("Metric", METRICS)
def test_mismatched_rows(Metric, pair):
    X, Y = pair
    with pytest.raises(ValueError, match=r"X has 20 samples.*but Y has 15.*same number of rows"):
        Metric().fit(X, Y[:15])


@pytest.mark.parametrize("Metric", METRICS)
@pytest.mark.parametrize("side", ["X", "Y"])
def test_wrong_ndim(Metric, pair, side):
    X, Y = pair
    bad = {"X": X, "Y": Y}
    bad[side] = bad[side][:, :, None]
    with pytest.raises(
        ValueError, match=rf"{side} must be a 2-D array.*got a 3-D array of shape \(20, 4, 1\)"
    ):
        Metric().fit(bad["X"], bad["Y"])
    bad[side] = pair[0][:, 0]
    with pytest.raises(
        ValueError, match=rf"{side} must be a 2-D array.*1-D array of shape \(20,\).*Reshape"
    ):
        Metric().fit(bad["X"], bad["Y"])


@pytest.mark.parametrize("Metric", METRICS)
@pytest.mark.parametrize("side", ["X", "Y"])
@pytest.mark.parametrize(
    "value, word", [(np.nan, "1 NaN"), (np.inf, "1 infinite"), (-np.inf, "1 infinite")]
)
def test_nan_and_inf(Metric, pair, side, value, word):
    X, Y = (a.copy() for a in pair)
    (X if side == "X" else Y)[3, 2] = value
    with pytest.raises(ValueError, match=rf"{side} contains .*{word}.*expected finite"):
        Metric().fit(X, Y)
    # also on held-out data
    clean = Metric().fit(*pair)
    with pytest.raises(ValueError, match=rf"{side} contains"):
        clean.score(X, Y)


@pytest.mark.parametrize("Metric", METRICS)
def test_one_sample(Metric, pair):
    X, Y = pair
    with pytest.raises(ValueError, match=r"X has 1 sample \(shape \(1, 4\)\); expected at least 2"):
        Metric().fit(X[:1], Y[:1])


@pytest.mark.parametrize("Metric", METRICS)
def test_non_numeric(Metric, pair):
    X, Y = pair
    strings = np.array([["a", "b"], ["c", "d"], ["e", "f"]])
    with pytest.raises(ValueError, match=r"X holds strings; expected a 2-D numeric array"):
        Metric().fit(strings, Y[:3, :2])
    with pytest.raises(ValueError, match=r"Y holds strings"):
        Metric().fit(X[:3, :2], [["1.5", "2"]] * 3)  # numeric strings are not numbers
    dates = np.array([["2026-01-01", "2026-01-02"]] * 3, dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"X holds datetimes"):
        Metric().fit(dates, Y[:3, :2])
    objects = X.astype(object)
    objects[0, 0] = {"not": "a number"}
    with pytest.raises(TypeError, match=r"X could not be read as an array of real numbers"):
        Metric().fit(objects, Y)
    with pytest.raises(ValueError, match=r"Complex data not supported"):
        Metric().fit(X, Y.astype(complex))
    with pytest.raises(ValueError, match=r"Y is None"):
        check_representation(None, "Y")


@pytest.mark.parametrize("Metric", METRICS)
def test_different_widths_without_zero_pad(Metric, pair):
    X, Y = pair
    with pytest.raises(
        ValueError, match=r"X has 4 features and Y has 3.*zero_pad=False.*same number"
    ):
        Metric(zero_pad=False).fit(X, Y[:, :3])
    # zero_pad=True (the default) accepts them
    Metric().fit(X, Y[:, :3])


@pytest.mark.parametrize("alpha", [-0.1, 1.5, np.nan, "0.5", True, None])
def test_alpha_out_of_range(pair, alpha):
    with pytest.raises(
        InvalidParameterError,
        match=rf"'alpha' parameter of LinearMetric must be a number in \[0, 1\].*alpha={alpha!r}",
    ):
        LinearMetric(alpha=alpha).fit(*pair)


def test_alpha_checked_after_set_params(pair):
    metric = LinearMetric()
    metric.set_params(alpha=2.0)
    with pytest.raises(ValueError, match="alpha=2.0"):
        metric.fit(*pair)


@pytest.mark.parametrize("Metric", METRICS)
def test_bad_parameters(Metric, pair):
    with pytest.raises(
        ValueError, match=r"'score_method' parameter.*'angular' or 'euclidean'; got 'cosine'"
    ):
        Metric(score_method="cosine").fit(*pair)
    with pytest.raises(ValueError, match=r"'center_columns' parameter.*True or False; got 'yes'"):
        Metric(center_columns="yes").fit(*pair)
    with pytest.raises(TypeError, match=r"'preprocessor' parameter.*fit and transform.*got 3"):
        Metric(preprocessor=3).fit(*pair)
    with pytest.raises(ValueError, match=r"'device' parameter.*got 0"):
        Metric(device=0).fit(*pair)


def test_compat_validates_parameters_in_fit(pair):
    # netrep raises in the constructor; scikit-learn requires raising in fit.
    metric = compat.LinearMetric(alpha=1.5)
    with pytest.raises(ValueError, match=r"'alpha' parameter of LinearMetric.*got alpha=1.5"):
        metric.fit(*pair)
    with pytest.raises(ValueError, match="score_method"):
        compat.PermutationMetric(score_method="cosine").fit(*pair)


@pytest.mark.parametrize("Metric", METRICS)
def test_missing_y(Metric, pair):
    with pytest.raises(
        ValueError, match=r"requires y to be passed.*Y is the second representation"
    ):
        Metric().fit(pair[0], None)


@pytest.mark.parametrize("Metric", METRICS)
def test_width_change_after_fit(Metric, pair):
    X, Y = pair
    metric = Metric().fit(X, Y)
    with pytest.raises(ValueError, match=r"X has 3 features, but \w+ is expecting 4 features"):
        metric.score(X[:, :3], Y)
    with pytest.raises(ValueError, match=r"Y has 2 features, but \w+ is expecting 4 features"):
        metric.transform(X, Y[:, :2])


@pytest.mark.parametrize("Metric", METRICS)
def test_unfitted(Metric, pair):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Metric().score(*pair)
    with pytest.raises(NotFittedError):
        Metric().transform(*pair)


def test_constant_representation_angular_is_an_error_not_nan(pair):
    X, Y = pair
    constant = np.ones_like(Y)
    metric = LinearMetric()
    with pytest.raises(ValueError, match=r"aligned Y is all zeros.*angular distance is undefined"):
        metric.fit_score(X, constant)
    # euclidean distance is defined: the distance to a point is the norm of X.
    dist = LinearMetric(score_method="euclidean").fit(X, constant).distance(X, constant)
    assert np.isclose(dist, np.linalg.norm(X - X.mean(0)))


def test_lists_and_integers_are_accepted(pair):
    X, Y = pair
    ints = np.arange(40).reshape(20, 2) ** 2 % 7
    d_int = LinearMetric().fit(ints, Y[:, :2]).distance(ints, Y[:, :2])
    d_float = (
        LinearMetric().fit(ints.astype(float), Y[:, :2]).distance(ints.astype(float), Y[:, :2])
    )
    assert d_int == d_float
    d_list = LinearMetric().fit(X.tolist(), Y.tolist()).distance(X.tolist(), Y.tolist())
    assert d_list == LinearMetric().fit(X, Y).distance(X, Y)


# -- central input validation (issue 22, item 4) ---------------------------------------
def _masked(A):
    mask = np.zeros(A.shape, dtype=bool)
    mask[2, 1] = True
    return np.ma.masked_array(A, mask=mask)


@pytest.mark.parametrize("side", ["X", "Y"])
def test_masked_arrays_are_refused_naming_the_argument(pair, side):
    # np.asarray drops a mask: the value under it used to be used as if unmasked.
    X, Y = pair
    bad = {"X": X, "Y": Y}
    bad[side] = _masked(bad[side])
    with pytest.raises(TypeError, match=rf"{side} is a numpy masked array \(1 of 80 value"):
        LinearMetric().fit(bad["X"], bad["Y"])
    with pytest.raises(TypeError, match=rf"{side} is a numpy masked array.*filled\(np.nan\)"):
        PermutationMetric().fit(*pair).score(bad["X"], bad["Y"])


def test_masked_stochastic_responses_are_refused(rng):
    from skrep.metrics import EnergyStochasticMetric

    X = rng.standard_normal((5, 3, 2))
    masked = np.ma.masked_array(X, mask=X > 2)
    with pytest.raises(TypeError, match=r"Y is a numpy masked array"):
        EnergyStochasticMetric().fit(X, masked)


def test_an_all_false_mask_is_refused_too(pair):
    # refusing by type, not by mask content, keeps the rule simple to state
    X, Y = pair
    with pytest.raises(TypeError, match=r"X is a numpy masked array \(0 of 80"):
        check_representation(np.ma.masked_array(X), "X")


@pytest.mark.parametrize(
    "convert",
    [
        lambda A: A > 0,
        lambda A: np.round(3 * A).astype(np.int16),
        lambda A: np.round(3 * A).astype(np.int64),
        lambda A: np.abs(np.round(3 * A)).astype(np.uint8),
        lambda A: A.astype(np.float16),
        lambda A: A.astype(object),
    ],
    ids=["bool", "int16", "int64", "uint8", "float16", "object"],
)
def test_bool_int_float16_and_object_data_are_read_as_float64(pair, convert):
    X, Y = pair
    X_odd = convert(X)
    X_float = np.asarray(X_odd, dtype=np.float64)  # the same numbers, as float64
    checked = check_representation(X_odd, "X")
    assert checked.dtype == np.float64
    np.testing.assert_array_equal(checked, X_float)
    got = LinearMetric().fit(X_odd, Y).distance(X_odd, Y)
    assert got == pytest.approx(LinearMetric().fit(X_float, Y).distance(X_float, Y), abs=1e-12)


def test_complex_data_is_refused_naming_the_argument(pair):
    X, Y = pair
    with pytest.raises(ValueError, match=r"Y could not be read.*Complex data not supported"):
        LinearMetric().fit(X, Y + 1e-3j)
    # a zero imaginary part is refused too: the dtype, not the values, decides
    with pytest.raises(ValueError, match=r"X could not be read.*Complex"):
        check_representation(X.astype(np.complex64), "X")


def test_check_real_array_accepts_every_numeric_form():
    pd = pytest.importorskip("pandas")
    from skrep._validation import check_real_array

    A = np.arange(12.0).reshape(2, 3, 2)
    for form in (A.tolist(), np.asfortranarray(A), A.astype(np.int32), A.astype(np.float16)):
        out = check_real_array(form, "rdms")
        assert out.dtype == np.float64 and out.shape == (2, 3, 2)
        np.testing.assert_array_equal(out, A)
    read_only = A.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(check_real_array(read_only, "rdms"), A)
    frame = pd.DataFrame(A[0], columns=["a", "b"])
    np.testing.assert_array_equal(check_real_array(frame, "rdms"), A[0])


def test_check_real_array_detaches_torch_tensors():
    torch = pytest.importorskip("torch")
    from skrep._validation import check_real_array

    A = torch.arange(6.0, dtype=torch.float64, requires_grad=True).reshape(2, 3)
    out = check_real_array(A, "trials")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"Complex data not supported: trials"):
        check_real_array(torch.ones(2, dtype=torch.complex64), "trials")


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.ma.masked_array(np.ones((2, 2))), TypeError, r"rdms is a numpy masked array"),
        (np.ones((2, 2)) + 1j, ValueError, r"rdms could not be read.*Complex"),
        (np.array([["1.5", "2"]]), ValueError, r"rdms holds strings; expected condensed RDMs"),
        (None, ValueError, r"rdms is None; expected condensed RDMs"),
        ([[1.0, 2.0], [3.0]], ValueError, r"rdms could not be read.*Expected condensed RDMs"),
    ],
    ids=["masked", "complex", "strings", "None", "ragged"],
)
def test_check_real_array_refusals_name_the_argument(bad, error, message):
    from skrep._validation import check_real_array

    with pytest.raises(error, match=message):
        check_real_array(bad, "rdms", "condensed RDMs of shape (n_rdms, n_pairs)")


def test_check_real_array_refuses_sparse_matrices():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    from skrep._validation import check_real_array

    with pytest.raises(TypeError, match=r"residuals could not be read.*[Ss]parse"):
        check_real_array(scipy_sparse.csr_array(np.eye(3)), "residuals")


def test_ragged_lists_get_an_error_naming_the_argument(pair):
    X, Y = pair
    ragged = X.tolist()
    ragged[3] = ragged[3][:2]
    with pytest.raises(ValueError, match=r"X could not be read as an array of real numbers"):
        LinearMetric().fit(ragged, Y)
