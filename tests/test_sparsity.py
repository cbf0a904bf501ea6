"""Sparsity and selectivity: ``skrep.functional.sparsity`` and ``skrep.sparsity``.

Reference values are closed forms (one-hot and constant vectors) and small
examples computed by hand.
"""

import numpy as np
import pytest

from skrep.exceptions import InvalidParameterError
from skrep.functional import (
    hoyer_sparsity,
    l0_sparsity,
    lifetime_sparseness,
    population_sparseness,
    selectivity_index,
)
from skrep.sparsity import STATISTICS, sparsity_table

TOL = 1e-12
UNIT_STATISTICS = [hoyer_sparsity, lifetime_sparseness, selectivity_index]


def one_hot_and_constant(n=6):
    """Column 0 fires on stimulus n // 2 only; column 1 responds 3.5 to every stimulus."""
    X = np.zeros((n, 2))
    X[n // 2, 0] = 5.0
    X[:, 1] = 3.5
    return X


# -- closed forms --------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 10, 257])
@pytest.mark.parametrize("statistic", UNIT_STATISTICS)
def test_one_hot_unit_is_1_and_constant_unit_is_0(statistic, n):
    values = statistic(one_hot_and_constant(n))
    assert values.shape == (2,)
    assert values[0] == pytest.approx(1.0, abs=TOL)
    assert values[1] == pytest.approx(0.0, abs=TOL)


def test_hoyer_of_one_hot_and_constant_vectors():
    assert hoyer_sparsity(np.eye(5)[:, [3]]) == pytest.approx([1.0], abs=TOL)
    assert hoyer_sparsity(np.full((5, 1), -2.0)) == pytest.approx([0.0], abs=TOL)
    # Signs do not matter: the norms use |x|.
    signed = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    assert hoyer_sparsity(signed) == pytest.approx([0.0], abs=TOL)
    assert hoyer_sparsity(np.array([[0.0, 0.0, -4.0, 0.0]]), axis=1) == pytest.approx([1.0])


def test_hoyer_hand_computed():
    # x = (3, 4, 0, 0): L1 = 7, L2 = 5, n = 4: (2 - 7/5) / (2 - 1) = 0.6
    X = np.array([[3.0], [4.0], [0.0], [0.0]])
    assert hoyer_sparsity(X) == pytest.approx([0.6], abs=TOL)
    assert hoyer_sparsity(X.T, axis=1) == pytest.approx([0.6], abs=TOL)
    assert hoyer_sparsity(X, axis=None) == pytest.approx(0.6, abs=TOL)
    assert isinstance(hoyer_sparsity(X, axis=None), float)


def test_lifetime_sparseness_two_level_example():
    # r = (1, 1, 1, 3): mean = 6/4, mean of squares = 12/4; activity ratio
    # a = (3/2)^2 / 3 = 3/4; S = (1 - 3/4) / (1 - 1/4) = 1/3.
    X = np.array([[1.0], [1.0], [1.0], [3.0]])
    assert lifetime_sparseness(X) == pytest.approx([1 / 3], abs=TOL)
    # r = (0, 0, 2, 2): a = 1 / 2, S = (1/2) / (3/4) = 2/3 (half the stimuli silent).
    assert lifetime_sparseness(np.array([[0.0], [0.0], [2.0], [2.0]])) == pytest.approx([2 / 3])
    # k of n stimuli at one level, the rest silent: S = (1 - k/n) / (1 - 1/n).
    n, k = 10, 3
    X = np.zeros((n, 1))
    X[:k] = 7.0
    assert lifetime_sparseness(X) == pytest.approx([(1 - k / n) / (1 - 1 / n)], abs=TOL)


def test_population_sparseness_is_lifetime_sparseness_of_the_transpose(rng):
    X = rng.exponential(size=(12, 7)) * (rng.random((12, 7)) < 0.4) + 0.01
    np.testing.assert_allclose(population_sparseness(X), lifetime_sparseness(X.T), rtol=TOL)
    assert population_sparseness(X).shape == (12,)
    np.testing.assert_allclose(population_sparseness(X.T), lifetime_sparseness(X), rtol=TOL)


def test_population_sparseness_closed_forms():
    X = np.array([[0.0, 0.0, 3.0], [1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    # (1, 1, 0): a = (2/3)^2 / (2/3) = 2/3, S = (1/3) / (2/3) = 1/2
    assert population_sparseness(X) == pytest.approx([1.0, 0.0, 0.5], abs=TOL)


def test_l0_sparsity_on_a_known_matrix():
    X = np.array(
        [
            [0.0, 1.0, 0.0],
            [0.0, -2.0, 0.05],
            [3.0, 0.0, 0.0],
            [0.0, 4.0, -0.1],
        ]
    )
    np.testing.assert_allclose(l0_sparsity(X), [3 / 4, 1 / 4, 2 / 4])
    np.testing.assert_allclose(l0_sparsity(X, axis=1), [2 / 3, 1 / 3, 2 / 3, 1 / 3])
    assert l0_sparsity(X, axis=None) == pytest.approx(6 / 12)
    # |x| <= threshold counts as silent, whatever the sign.
    np.testing.assert_allclose(l0_sparsity(X, threshold=0.1), [3 / 4, 1 / 4, 1.0])
    np.testing.assert_allclose(l0_sparsity(X, threshold=1.0), [3 / 4, 2 / 4, 1.0])
    assert isinstance(l0_sparsity(X, axis=None), float)


def test_selectivity_index_hand_computed():
    X = np.array([[4.0, 1.0, 0.0], [2.0, 3.0, 2.0], [0.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    # Without labels: preferred = largest response, rest = mean of the other three.
    # unit 0: (4 - 4/3) / (4 + 4/3) = 1/2; unit 1: (3 - 5/3) / (3 + 5/3) = 2/7;
    # unit 2: (2 - 4/3) / (2 + 4/3) = 1/5.
    np.testing.assert_allclose(selectivity_index(X), [1 / 2, 2 / 7, 1 / 5], rtol=TOL)
    # Categories a = rows 0, 1 and b = rows 2, 3: means (3, 2, 1) and (1, 2, 2).
    labels = ["a", "a", "b", "b"]
    np.testing.assert_allclose(
        selectivity_index(X, labels=labels), [(3 - 1) / (3 + 1), 0.0, (2 - 1) / (2 + 1)]
    )
    # Three categories of unequal sizes: each category mean counts once.
    # unit 0 means: c0 = 4, c1 = (2 + 0) / 2 = 1, c2 = 2 -> (4 - 3/2) / (4 + 3/2) = 5/11.
    assert selectivity_index(X, labels=[0, 1, 1, 2])[0] == pytest.approx(5 / 11, abs=TOL)


def test_selectivity_without_labels_is_every_stimulus_its_own_category(rng):
    X = rng.exponential(size=(9, 4))
    np.testing.assert_allclose(selectivity_index(X), selectivity_index(X, np.arange(9)), rtol=TOL)


@pytest.mark.parametrize(
    "statistic",
    [
        hoyer_sparsity,
        lifetime_sparseness,
        selectivity_index,
        lambda X: selectivity_index(X, labels=[0, 0, 1, 1, 2, 2, 2, 3]),
    ],
)
def test_invariant_to_scaling_a_unit(rng, statistic):
    X = rng.exponential(size=(8, 5)) * (rng.random((8, 5)) < 0.6)
    X[0] += 0.5  # no silent unit
    scales = np.array([1e-200, 0.3, 1.0, 7.0, 1e200])
    np.testing.assert_allclose(statistic(X * scales), statistic(X), rtol=1e-10)
    values = statistic(X)
    assert np.all((values >= 0) & (values <= 1))


def test_population_sparseness_invariant_to_scaling_a_stimulus(rng):
    X = rng.exponential(size=(6, 10))
    scales = np.array([[1e-3], [1.0], [2.0], [5e4], [0.5], [1e100]])
    np.testing.assert_allclose(population_sparseness(X * scales), population_sparseness(X))


def test_float32_and_lists_give_float64_results():
    X = one_hot_and_constant(4)
    for statistic in [*UNIT_STATISTICS, population_sparseness, l0_sparsity]:
        expected = statistic(X)
        for variant in (X.astype(np.float32), X.tolist()):
            values = statistic(variant)
            assert values.dtype == np.float64
            np.testing.assert_allclose(values, expected, rtol=1e-6)


def test_torch_input():
    torch = pytest.importorskip("torch")
    X = one_hot_and_constant(5)
    for statistic in [*UNIT_STATISTICS, population_sparseness, l0_sparsity]:
        values = statistic(torch.as_tensor(X))
        assert isinstance(values, np.ndarray)
        np.testing.assert_allclose(values, statistic(X))


# -- silent units -----------------------------------------------------------------------------
@pytest.mark.parametrize("statistic", UNIT_STATISTICS)
def test_silent_unit_raises_unless_silent_value_is_given(statistic):
    X = one_hot_and_constant(5)
    X = np.column_stack([X, np.zeros(5)])
    with pytest.raises(ValueError, match=r"silent units \[2\].*silent_value"):
        statistic(X)
    values = statistic(X, silent_value=np.nan)
    assert np.isnan(values[2]) and not np.isnan(values[:2]).any()
    assert statistic(X, silent_value=1.0)[2] == 1.0
    np.testing.assert_allclose(statistic(X, silent_value=0.0)[:2], statistic(X[:, :2]))


def test_silent_stimulus_and_silent_matrix():
    X = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]])
    with pytest.raises(ValueError, match=r"silent stimuli \[1\]"):
        population_sparseness(X)
    assert population_sparseness(X, silent_value=-1.0)[1] == -1.0
    with pytest.raises(ValueError, match="all zeros"):
        hoyer_sparsity(np.zeros((3, 2)), axis=None)
    assert np.isnan(hoyer_sparsity(np.zeros((3, 2)), axis=None, silent_value=np.nan))
    # Silence is no problem for the L0 measure: it is fully sparse.
    np.testing.assert_allclose(l0_sparsity(X, axis=1), [0.0, 1.0, 0.5])


# -- bad inputs ---------------------------------------------------------------------------------
ALL = [l0_sparsity, hoyer_sparsity, lifetime_sparseness, population_sparseness, selectivity_index]


@pytest.mark.parametrize("statistic", ALL)
@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "X contains 1 NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "X contains 0 NaN and 1 infinite"),
        (np.ones(4), "X must be a 2-D array"),
        (np.ones((2, 2, 2)), "X must be a 2-D array"),
        (np.ones((2, 0)), "X has 0 feature"),
        (None, "X is None"),
    ],
)
def test_bad_arrays_raise_naming_x(statistic, X, match):
    with pytest.raises(ValueError, match=match):
        statistic(X)


@pytest.mark.parametrize(
    "statistic", [lifetime_sparseness, population_sparseness, selectivity_index]
)
def test_negative_responses_raise(statistic):
    X = np.array([[1.0, 0.5], [-0.25, 2.0], [3.0, 1.0]])
    with pytest.raises(ValueError, match=r"X holds 1 negative value.*np.maximum\(X, 0\)"):
        statistic(X)
    # The L0 and Hoyer measures take signed data as given.
    assert l0_sparsity(X).shape == hoyer_sparsity(X).shape == (2,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lifetime_sparseness(np.ones((1, 3))), "at least 2 stimuli"),
        (lambda: selectivity_index(np.ones((1, 3))), "at least 2 stimuli"),
        (lambda: hoyer_sparsity(np.ones((1, 3))), "at least 2 stimuli"),
        (lambda: population_sparseness(np.ones((3, 1))), "at least 2 units"),
        (lambda: hoyer_sparsity(np.ones((3, 1)), axis=1), "at least 2 units"),
        (lambda: hoyer_sparsity(np.ones((1, 1)), axis=None), "at least 2 entries"),
        (lambda: selectivity_index(np.ones((4, 2)), labels=[0, 1, 1]), "labels has shape"),
        (lambda: selectivity_index(np.ones((4, 2)), labels=np.ones((4, 1))), "labels has shape"),
        (lambda: selectivity_index(np.ones((3, 2)), labels=[1, 1, 1]), "labels has 1 distinct"),
        (
            lambda: selectivity_index(np.ones((3, 2)), labels=[0.0, np.nan, 1.0]),
            "labels contains NaN",
        ),
    ],
)
def test_bad_shapes_and_labels_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda X: l0_sparsity(X, axis=2), "axis"),
        (lambda X: l0_sparsity(X, axis=True), "axis"),
        (lambda X: hoyer_sparsity(X, axis="units"), "axis"),
        (lambda X: l0_sparsity(X, threshold=-0.1), "threshold"),
        (lambda X: l0_sparsity(X, threshold=np.nan), "threshold"),
        (lambda X: l0_sparsity(X, threshold="0"), "threshold"),
        (lambda X: lifetime_sparseness(X, silent_value="nan"), "silent_value"),
        (lambda X: selectivity_index(X, silent_value=True), "silent_value"),
        (lambda X: sparsity_table({"a": X}, statistics=["sparseness"]), "statistics"),
        (lambda X: sparsity_table({"a": X}, statistics=[]), "statistics"),
        (lambda X: sparsity_table({"a": X}, threshold=-1.0), "threshold"),
    ],
)
def test_bad_parameters_raise_naming_them(call, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        call(np.ones((3, 2)))


# -- the table ----------------------------------------------------------------------------------
def test_sparsity_table_layout_and_values(rng):
    pytest.importorskip("pandas")
    layer = np.maximum(rng.standard_normal((30, 8)), 0) + 0.01
    region = rng.exponential(size=(30, 5))
    labels = np.repeat(["face", "body", "house"], 10)
    table = sparsity_table(
        {"model/conv1": layer, "brain/IT": region}, labels=labels, threshold=0.05
    )
    assert table.columns.tolist() == ["representation", "statistic", "per", "index", "value"]
    assert len(table) == (8 * 4 + 30) + (5 * 4 + 30)  # 4 statistics per unit, 1 per stimulus
    assert table["representation"].unique().tolist() == ["model/conv1", "brain/IT"]
    assert table["statistic"].unique().tolist() == list(STATISTICS)
    expected = {
        "l0_sparsity": lambda X: l0_sparsity(X, threshold=0.05),
        "hoyer_sparsity": hoyer_sparsity,
        "lifetime_sparseness": lifetime_sparseness,
        "selectivity_index": lambda X: selectivity_index(X, labels),
        "population_sparseness": population_sparseness,
    }
    for name, X in (("model/conv1", layer), ("brain/IT", region)):
        for statistic, function in expected.items():
            rows = table[(table["representation"] == name) & (table["statistic"] == statistic)]
            np.testing.assert_array_equal(rows["value"].to_numpy(), function(X))
            np.testing.assert_array_equal(rows["index"].to_numpy(), np.arange(len(rows)))
            assert set(rows["per"]) == {STATISTICS[statistic]}
    assert table.groupby("per").size().to_dict() == {"stimulus": 60, "unit": 4 * 13}


def test_sparsity_table_options(rng):
    pytest.importorskip("pandas")
    X = np.column_stack([rng.exponential(size=(6, 3)), np.zeros(6)])
    Y = rng.standard_normal((4, 2))  # signed, fewer stimuli: fine for L0 and Hoyer
    table = sparsity_table(
        {"a": X, "b": Y}, statistics=["l0_sparsity", "hoyer_sparsity"], silent_value=np.nan
    )
    assert table["statistic"].unique().tolist() == ["l0_sparsity", "hoyer_sparsity"]
    assert len(table) == 2 * 4 + 2 * 2
    assert table["value"].isna().sum() == 1  # a's silent unit, under hoyer_sparsity
    single = sparsity_table({"a": X}, statistics="lifetime_sparseness", silent_value=1.0)
    np.testing.assert_array_equal(single["value"], lifetime_sparseness(X, silent_value=1.0))


def test_sparsity_table_errors_name_the_representation(rng):
    pytest.importorskip("pandas")
    good = rng.exponential(size=(6, 3))
    negative = good.copy()
    negative[1, 1] = -0.5
    with pytest.raises(ValueError, match=r"representations\['brain/V1'\]: X holds 1 negative"):
        sparsity_table({"model": good, "brain/V1": negative})
    with pytest.raises(ValueError, match=r"representations\['b'\]: X contains 1 NaN"):
        sparsity_table({"a": good, "b": np.where(good == good.max(), np.nan, good)})
    with pytest.raises(ValueError, match=r"representations\['a'\]: X has silent units \[3\]"):
        sparsity_table({"a": np.column_stack([good, np.zeros(6)])})
    with pytest.raises(ValueError, match=r"representations\['b'\]: labels has shape"):
        sparsity_table({"a": good, "b": good[:4]}, labels=[0, 0, 0, 1, 1, 1])
    for bad in ({}, [good], None):
        with pytest.raises(TypeError, match="non-empty dict"):
            sparsity_table(bad)
