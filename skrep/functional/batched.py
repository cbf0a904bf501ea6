"""Distances between many networks from blocks of one Gram product (a façade).

The batched distances of the shape metrics: the shared machinery is in
:mod:`skrep.functional.network_blocks`, the block functions of each family
with its single-pair math (:func:`~skrep.functional.linear.linear_block_distances`,
:func:`~skrep.functional.permutation.permutation_block_distances`). This module
keeps their names importable from here.
"""

from __future__ import annotations

from typing import Any

from .._deprecation import renamed_attribute
from .linear import linear_block_distances, prepare_linear_network
from .network_blocks import (
    REFINE_ANGLE,
    PreparedNetwork,
    block_bytes,
    gram_block_size,
    prepare_centered_network,
)
from .permutation import permutation_block_distances

__all__ = [
    "PreparedNetwork",
    "prepare_linear_network",
    "prepare_centered_network",
    "linear_block_distances",
    "permutation_block_distances",
    "block_bytes",
    "gram_block_size",
    "REFINE_ANGLE",
]


def __getattr__(name: str) -> Any:
    """The spelling of 0.1 ("prepare_centred_network"), for one release, with a FutureWarning."""
    renamed = {"prepare_centred_network": ("prepare_centered_network", prepare_centered_network)}
    return renamed_attribute(__name__, renamed, name)
