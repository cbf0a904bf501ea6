"""Embedded data: nothing here downloads anything at run time."""

from ._digits_cnn import DIGITS_CNN_LAYERS, make_digits_cnn, train_digits_cnn
from ._digits_networks import load_digits_networks
from ._kriegeskorte92 import load_kriegeskorte92

__all__ = [
    "load_digits_networks",
    "load_kriegeskorte92",
    "make_digits_cnn",
    "train_digits_cnn",
    "DIGITS_CNN_LAYERS",
]
