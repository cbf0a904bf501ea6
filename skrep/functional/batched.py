"""Distances between many networks from blocks of one Gram product (a façade).

The batched distances of the shape metrics: the shared machinery is in
:mod:`skrep.functional.network_blocks`, the block functions of each family
with its single-pair math (:func:`~skrep.functional.linear.linear_block_distances`,
:func:`~skrep.functional.permutation.permutation_block_distances`). This module
keeps their names importable from here.
"""

from .linear import linear_block_distances, prepare_linear_network
from .network_blocks import (
    REFINE_ANGLE,
    PreparedNetwork,
    block_bytes,
    gram_block_size,
    prepare_centred_network,
)
from .permutation import permutation_block_distances

__all__ = [
    "PreparedNetwork",
    "prepare_linear_network",
    "prepare_centred_network",
    "linear_block_distances",
    "permutation_block_distances",
    "block_bytes",
    "gram_block_size",
    "REFINE_ANGLE",
]
