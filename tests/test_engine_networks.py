"""The engine's inputs: collections of networks, named and validated once."""

import numpy as np
import pytest

from skrep.engine import check_same_samples, network_list, validate_networks


def test_collections_of_every_form(rng):
    X = rng.standard_normal((3, 10, 4))
    for form in (list(X), tuple(X), X):
        items, names, keys = network_list(form, "Xs")
        assert len(items) == 3 and names == ["Xs[0]", "Xs[1]", "Xs[2]"] and keys is None
    items, names, keys = network_list({"conv": X[0], 7: X[1]}, "layers")
    assert names == ["layers['conv']", "layers[7]"] and keys == ["conv", 7]
    assert network_list({"a.npy": X[0]}, "{}")[1] == ["a.npy"]
    assert network_list({"a.npy": X[0]}, "{} (held out)")[1] == ["a.npy (held out)"]
    assert network_list([X[0]], "net{}")[1] == ["net0"]


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (None, ValueError, "Xs must be a sequence"),
        ("abc", ValueError, "Xs must be a sequence"),
        (np.zeros((4, 3)), ValueError, r"Xs is a 2-D array of shape \(4, 3\).*Wrap a single"),
        ([], ValueError, "Xs is empty"),
        (5, TypeError, "got an object of type int"),
    ],
)
def test_bad_collections(value, error, message):
    with pytest.raises(error, match=message):
        network_list(value, "Xs")


def test_validation_names_the_input_and_unifies_place_and_dtype(rng):
    A, B = rng.standard_normal((10, 3)), rng.standard_normal((10, 5)).astype(np.float32)
    trains, tests = validate_networks([A, B], None, ["a", "b"], ["a*", "b*"])
    assert [X.dtype for X in trains] == [np.float64, np.float64] and tests == [None, None]
    kept, _ = validate_networks([A, B], None, ["a", "b"], ["a*", "b*"], common_dtype=False)
    assert kept[1].dtype == np.float32
    with pytest.raises(ValueError, match=r"b\* has 4 features but b has 5"):
        validate_networks([A, B], [A, B[:, :4]], ["a", "b"], ["a*", "b*"])
    with pytest.raises(ValueError, match="b contains 1 NaN"):
        B[0, 0] = np.nan
        validate_networks([A, B], None, ["a", "b"], ["a*", "b*"])
    with pytest.raises(ValueError, match="c has 2 samples .* a has 10"):
        check_same_samples([A, A, A[:2]], ["a", "b", "c"])
    with pytest.raises(ValueError, match="at least 4"):
        validate_networks([A[:3], A[:3]], None, ["a", "b"], ["a*", "b*"], min_samples=4)
