"""Embedded data sets."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from skrep.datasets import load_digits_networks
from skrep.datasets._digits_networks import _hidden_activations


def test_hidden_activations_reproduce_the_classifier(rng):
    digits = load_digits()
    X, y = digits.data[:400] / 16, digits.target[:400]
    clf = MLPClassifier((20, 10), max_iter=50, random_state=0).fit(X, y)
    hidden = _hidden_activations(clf, X)
    assert [h.shape for h in hidden] == [(400, 20), (400, 10)]
    logits = hidden[-1] @ clf.coefs_[-1] + clf.intercepts_[-1]
    np.testing.assert_array_equal(clf.classes_[np.argmax(logits, axis=1)], clf.predict(X))


def test_load_digits_networks_shapes_and_pairing():
    data = load_digits_networks(n_networks=2, hidden_layer_sizes=(16, 8), max_iter=60)
    assert len(data.layers) == 2 and data.layer_names == ["hidden1", "hidden2"]
    assert [a.shape for a in data.layers[1]] == [(899, 16), (899, 8)]
    assert data.pixels.shape == (899, 64) and data.target.shape == (899,)
    assert data.seeds == [0, 1]
    assert np.all(data.accuracy > 0.5)
    assert all(np.all(a >= 0) for layers in data.layers for a in layers)  # ReLU
    # different seeds give different networks on the same stimuli
    assert not np.allclose(data.layers[0][0], data.layers[1][0])


def test_load_digits_networks_rejects_no_networks():
    with pytest.raises(ValueError, match="n_networks must be at least 1; got 0"):
        load_digits_networks(n_networks=0)
