"""A small convolutional network trained on scikit-learn's digits, seeded (torch, lazily)."""

from __future__ import annotations

import contextlib
import numbers
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

if TYPE_CHECKING:
    import torch

__all__ = ["DIGITS_CNN_LAYERS", "make_digits_cnn", "train_digits_cnn"]

#: The layers of :func:`make_digits_cnn` worth recording, input side first.
DIGITS_CNN_LAYERS = ("relu1", "relu2", "relu3", "relu4", "logits")


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")
    return int(value)


def _layers(width: int, in_channels: int, n_classes: int) -> OrderedDict:
    from torch import nn

    return OrderedDict(
        [
            ("conv1", nn.Conv2d(in_channels, width, 3, padding=1)),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(width, 2 * width, 3, padding=1)),
            ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)),
            ("conv3", nn.Conv2d(2 * width, 2 * width, 3, padding=1)),
            ("relu3", nn.ReLU()),
            ("pool3", nn.AdaptiveAvgPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(8 * width, 64)),
            ("relu4", nn.ReLU()),
            ("logits", nn.Linear(64, n_classes)),
        ]
    )


def make_digits_cnn(
    seed: int = 0, *, width: int = 16, in_channels: int = 1, n_classes: int = 10
) -> torch.nn.Module:
    """The small convolutional network of :func:`train_digits_cnn`, untrained.

    Three 3x3 convolutions (``width``, ``2 * width`` and ``2 * width``
    channels, each followed by a ReLU; a 2x2 max pooling after the second),
    an adaptive average pooling to 2x2, so that any image size of at least
    2x2 pixels is accepted, a fully connected ReLU layer of 64 units and a
    linear read-out. The modules are named ``conv1``, ``relu1``, ``conv2``,
    ``relu2``, ``pool2``, ``conv3``, ``relu3``, ``pool3``, ``flatten``,
    ``fc``, ``relu4`` and ``logits`` (:data:`DIGITS_CNN_LAYERS` lists the ones
    worth recording). The weights are PyTorch's default initialization drawn
    from ``seed``; torch's global random state is left as it was.

    Parameters
    ----------
    seed : int, default=0
        Seed of the initial weights.
    width : int, default=16
        Channels of the first convolution.
    in_channels : int, default=1
        Channels of the input images (1: grayscale, 3: RGB).
    n_classes : int, default=10
        Outputs of the read-out.

    Returns
    -------
    torch.nn.Module
        A :class:`torch.nn.Sequential` in eval mode, float32, on the CPU;
        input of shape (n_images, in_channels, height, width).

    Examples
    --------
    >>> from skrep.datasets import make_digits_cnn
    >>> model = make_digits_cnn(seed=0)
    >>> [name for name, _ in model.named_children()][:3]
    ['conv1', 'relu1', 'conv2']
    """
    import torch

    width = _check_int(width, "width", 1)
    in_channels = _check_int(in_channels, "in_channels", 1)
    n_classes = _check_int(n_classes, "n_classes", 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_check_int(seed, "seed", 0))
        model = torch.nn.Sequential(_layers(width, in_channels, n_classes))
    return model.eval()


@contextlib.contextmanager
def _reproducible_torch(n_threads: int | None) -> Iterator[None]:
    """Deterministic algorithms and a fixed number of threads, restored afterwards."""
    import torch

    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.set_num_threads(threads)


def _digit_images(image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digits as float32 (n, 1, image_size, image_size) images in [0, 1]."""
    import torch

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    if image_size != images.shape[-1]:
        images = torch.nn.functional.interpolate(
            torch.from_numpy(images),
            size=(image_size, image_size),
            mode="bilinear",
            align_corners=False,
        ).numpy()
    return images, digits.target


def train_digits_cnn(
    seed: int = 0,
    *,
    n_epochs: int = 12,
    width: int = 16,
    image_size: int = 8,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    test_size: float = 0.5,
    random_state: int = 0,
    n_threads: int | None = 1,
) -> Bunch:
    """Train :func:`make_digits_cnn` on scikit-learn's digits, reproducibly, in seconds.

    The 1797 8x8 digits ship with scikit-learn: nothing is downloaded. Pixels
    are scaled to [0, 1] (and upsampled bilinearly to ``image_size`` pixels
    when it is not 8), split once into training and held-out images
    (stratified, ``random_state``, the split of
    :func:`load_digits_networks`), and the network initialized from ``seed``
    is trained with Adam on mini-batches shuffled from ``seed``, minimizing
    the cross-entropy. Training runs with
    :func:`torch.use_deterministic_algorithms` and ``n_threads`` threads (the
    result of a floating-point reduction may depend on how it is split
    between threads), so that the same arguments give the same weights, bit
    for bit, on a given machine and torch version; torch's global random
    state, thread count and determinism setting are restored afterwards.
    With the defaults it takes about a second on one CPU core and reaches
    about 95% held-out accuracy.

    Parameters
    ----------
    seed : int, default=0
        Seed of the initial weights and of the order of the mini-batches.
    n_epochs : int, default=12
        Passes over the training images.
    width : int, default=16
        Channels of the first convolution (see :func:`make_digits_cnn`).
    image_size : int, default=8
        Side of the images in pixels; the 8x8 digits are upsampled to it.
    batch_size : int, default=32
        Images per step.
    learning_rate : float, default=3e-3
        Adam's learning rate.
    test_size : float, default=0.5
        Fraction of the images held out.
    random_state : int, default=0
        Seed of the split into training and held-out images.
    n_threads : int or None, default=1
        Torch threads used while training; None keeps the current number
        (faster on many cores, but the weights may then differ in the last
        bits between machines with different numbers of threads).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``model``: the trained network, in eval mode, on the CPU;
        - ``images``: the held-out images, float32 numpy array of shape
          (n_test, 1, image_size, image_size), ready for the model or for
          :func:`skrep.extraction.extract_activations`;
        - ``target``: their digit labels, shape (n_test,);
        - ``accuracy``: the model's held-out accuracy;
        - ``layer_names``: the layers worth recording
          (:data:`DIGITS_CNN_LAYERS`), input side first;
        - ``seed`` and ``training_time`` (seconds).

    Examples
    --------
    >>> from skrep.datasets import train_digits_cnn
    >>> data = train_digits_cnn(seed=0, n_epochs=1)
    >>> data.images.shape, data.target.shape, data.layer_names[0]
    ((899, 1, 8, 8), (899,), 'relu1')
    """
    import torch

    n_epochs = _check_int(n_epochs, "n_epochs", 1)
    image_size = _check_int(image_size, "image_size", 2)
    batch_size = _check_int(batch_size, "batch_size", 1)
    if n_threads is not None:
        n_threads = _check_int(n_threads, "n_threads", 1)
    if not (isinstance(learning_rate, numbers.Real) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}.")
    images, target = _digit_images(image_size)
    X_train, X_test, y_train, y_test = train_test_split(
        images, target, test_size=test_size, random_state=random_state, stratify=target
    )
    model = make_digits_cnn(seed, width=width)
    start = time.perf_counter()
    with _reproducible_torch(n_threads):
        inputs, labels = torch.from_numpy(X_train), torch.from_numpy(y_train)
        generator = torch.Generator().manual_seed(int(seed))
        optimizer = torch.optim.Adam(model.parameters(), lr=float(learning_rate))
        model.train()
        for _ in range(n_epochs):
            order = torch.randperm(len(inputs), generator=generator)
            for first in range(0, len(inputs), batch_size):
                batch = order[first : first + batch_size]
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(inputs[batch]), labels[batch])
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.inference_mode():
            predicted = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return Bunch(
        model=model,
        images=X_test,
        target=y_test,
        accuracy=float(np.mean(predicted == y_test)),
        layer_names=list(DIGITS_CNN_LAYERS),
        seed=int(seed),
        training_time=time.perf_counter() - start,
    )
