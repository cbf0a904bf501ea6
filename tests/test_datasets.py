"""Embedded data sets."""

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from skrep.datasets import (
    DIGITS_CNN_LAYERS,
    load_digits_networks,
    load_kriegeskorte92,
    make_digits_cnn,
    train_digits_cnn,
)
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


def test_load_kriegeskorte92_images():
    data = load_kriegeskorte92(images=True)
    images = data.images
    assert images.shape == (92, 64, 64, 3) and images.dtype == np.uint8
    assert np.all(images[:, 0, 0] == 128)  # objects on a uniform gray background
    assert images.std(axis=(1, 2, 3)).min() > 5  # every image shows something
    assert "images" not in load_kriegeskorte92()
    assert data.brain_rdms.shape == (8, 92, 92)  # the RDMs come along


needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="the digits CNN needs torch"
)


def _weights(model):
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _same_weights(a, b):
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@needs_torch
def test_make_digits_cnn_is_seeded_and_accepts_any_image_size():
    import torch

    state = torch.random.get_rng_state()
    model = make_digits_cnn(0)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG left alone
    assert _same_weights(_weights(model), _weights(make_digits_cnn(0)))
    assert not _same_weights(_weights(model), _weights(make_digits_cnn(1)))
    assert not model.training
    names = dict(model.named_modules())
    assert all(name in names for name in DIGITS_CNN_LAYERS)
    with torch.no_grad():
        for size in (8, 32, 64):
            assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)
        rgb = make_digits_cnn(0, width=4, in_channels=3, n_classes=5)
        assert rgb(torch.zeros(3, 3, 20, 20)).shape == (3, 5)


@needs_torch
def test_train_digits_cnn_shapes_and_determinism():
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    first = train_digits_cnn(seed=3, n_epochs=2)
    assert torch.get_num_threads() == threads  # restored
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    second = train_digits_cnn(seed=3, n_epochs=2)
    assert _same_weights(_weights(first.model), _weights(second.model))
    assert first.accuracy == second.accuracy
    other = train_digits_cnn(seed=4, n_epochs=2)
    assert not _same_weights(_weights(first.model), _weights(other.model))
    assert first.images.shape == (899, 1, 8, 8) and first.images.dtype == np.float32
    assert first.target.shape == (899,) and first.layer_names == list(DIGITS_CNN_LAYERS)
    assert 0 <= first.images.min() and first.images.max() <= 1
    # the held-out digits are those of load_digits_networks (same split)
    np.testing.assert_allclose(
        first.images.reshape(899, 64), load_digits_networks(1, (4,), max_iter=1).pixels, atol=1e-6
    )
    upsampled = train_digits_cnn(seed=3, n_epochs=1, image_size=16)
    assert upsampled.images.shape == (899, 1, 16, 16)


@needs_torch
def test_train_digits_cnn_learns():
    import torch

    # Measured: 0.954 and 0.951 held-out accuracy for seeds 0 and 1 with the defaults
    # (12 epochs; chance is 0.1); 0.88 and 0.82 at 32x32 pixels with 10 epochs.
    for seed in (0, 1):
        data = train_digits_cnn(seed)
        assert data.accuracy > 0.93
        with torch.inference_mode():
            logits = data.model(torch.from_numpy(data.images))
        assert np.mean(logits.argmax(1).numpy() == data.target) == data.accuracy


@needs_torch
@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"n_epochs": 0}, "n_epochs must be an int >= 1"),
        ({"image_size": 1}, "image_size must be an int >= 2"),
        ({"batch_size": 2.5}, "batch_size must be an int >= 1"),
        ({"n_threads": 0}, "n_threads must be an int >= 1"),
        ({"learning_rate": 0}, "learning_rate must be a positive number"),
        ({"seed": -1}, "seed must be an int >= 0"),
    ],
)
def test_train_digits_cnn_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        train_digits_cnn(**arguments)
