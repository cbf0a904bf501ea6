"""Hidden-layer activations of small networks trained on scikit-learn's digits."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.utils import Bunch

__all__ = ["load_digits_networks"]


def _hidden_activations(classifier: MLPClassifier, X: np.ndarray) -> list[np.ndarray]:
    """Outputs of every hidden layer of a fitted ``MLPClassifier`` on ``X``."""
    # MLPClassifier exposes only the output layer; its hidden layers are the
    # ReLU of affine maps with the fitted weights.
    activations = []
    hidden = X
    for weights, bias in zip(classifier.coefs_[:-1], classifier.intercepts_[:-1], strict=True):
        hidden = np.maximum(hidden @ weights + bias, 0.0)
        activations.append(hidden)
    return activations


def load_digits_networks(
    n_networks: int = 4,
    hidden_layer_sizes: tuple[int, ...] = (64, 64, 64),
    *,
    test_size: float = 0.5,
    max_iter: int = 400,
    random_state: int = 0,
) -> Bunch:
    """Train MLPs on scikit-learn's digits with different seeds; return their layers.

    The digits images (1797 8x8 images of handwritten digits) ship with
    scikit-learn, so this needs no download. Pixels are scaled to [0, 1], split
    once into training and held-out images (stratified, ``random_state``), and
    ``n_networks`` ReLU networks that differ only in their initialization seed
    are trained on the training images. Activations are returned for the
    held-out images, so the same rows (stimuli) are paired across networks.

    Parameters
    ----------
    n_networks : int, default=4
        Number of networks (seeds ``random_state, random_state + 1, ...``).
    hidden_layer_sizes : tuple of int, default=(64, 64, 64)
        Width of each hidden layer.
    test_size : float, default=0.5
        Fraction of the images held out; activations are computed on these.
    max_iter : int, default=400
        Most training epochs (Adam) per network; training stops earlier once
        the loss stops improving.
    random_state : int, default=0
        Seed of the split and of the first network.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``layers``: list of ``n_networks`` lists, one array of shape
        (n_test, width) per hidden layer; ``layer_names``: ``["hidden1", ...]``;
        ``pixels``: the held-out images, (n_test, 64); ``target``: their digit
        labels; ``accuracy``: held-out accuracy of each network; ``seeds``.

    Examples
    --------
    >>> from skrep.datasets import load_digits_networks
    >>> data = load_digits_networks(n_networks=2, hidden_layer_sizes=(16,), max_iter=50)
    >>> len(data.layers), data.layers[0][0].shape
    (2, (899, 16))
    """
    if int(n_networks) < 1:
        raise ValueError(f"n_networks must be at least 1; got {n_networks!r}.")
    digits = load_digits()
    pixels = digits.data / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        pixels,
        digits.target,
        test_size=test_size,
        random_state=random_state,
        stratify=digits.target,
    )
    seeds = [random_state + k for k in range(int(n_networks))]
    layers, accuracy = [], []
    for seed in seeds:
        classifier = MLPClassifier(
            hidden_layer_sizes=tuple(hidden_layer_sizes),
            activation="relu",
            max_iter=max_iter,
            random_state=seed,
        )
        with warnings.catch_warnings():
            # A short max_iter is a legitimate choice for quick examples.
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifier.fit(X_train, y_train)
        layers.append(_hidden_activations(classifier, X_test))
        accuracy.append(float(classifier.score(X_test, y_test)))
    return Bunch(
        layers=layers,
        layer_names=[f"hidden{k + 1}" for k in range(len(hidden_layer_sizes))],
        pixels=X_test,
        target=y_test,
        accuracy=np.asarray(accuracy),
        seeds=seeds,
    )
