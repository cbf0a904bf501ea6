"""Embedded data: nothing here downloads anything at run time."""

from ._digits_networks import load_digits_networks

__all__ = ["load_digits_networks"]
