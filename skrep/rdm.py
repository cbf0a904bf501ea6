"""Representational similarity analysis: RDMs, their comparison and inference.

The RSA toolkit in one namespace (``import skrep.rdm``), with rsatoolbox's
definitions and numbers. The functions live in :mod:`skrep.functional`; see
:func:`compute_rdm`, :func:`compare_rdms`, :func:`noise_ceiling`,
:func:`bootstrap_comparisons`, :func:`permutation_test` and
:func:`noise_precision` (for Mahalanobis and crossnobis RDMs), and
:class:`skrep.RSA` for the estimator.
"""

from .functional.noise import noise_covariance, noise_precision
from .functional.rdm import compute_rdm, condensed_to_square, square_to_condensed
from .functional.rdm_compare import compare_rdms
from .functional.rsa_inference import (
    bootstrap_comparisons,
    noise_ceiling,
    permutation_test,
    pool_rdms,
)

__all__ = [
    "compute_rdm",
    "noise_covariance",
    "noise_precision",
    "square_to_condensed",
    "condensed_to_square",
    "compare_rdms",
    "pool_rdms",
    "noise_ceiling",
    "bootstrap_comparisons",
    "permutation_test",
]
