"""Representation geometry: dimensionality, principal angles and PCA cross-variance.

A compatibility façade: the functions live in
:mod:`skrep.functional.dimensionality` (participation ratio, effective
dimensionality, effective rank) and :mod:`skrep.functional.subspace`
(principal components, principal angles, PCA cross-variance and its
condition-averaged form). ``from skrep.functional.geometry import X`` keeps
working for every name it exported before the split.
"""

from __future__ import annotations

from .dimensionality import effective_dimensionality, effective_rank, participation_ratio

# Not in __all__ (it never was), but imported from here (skrep.metrics.cca, older code).
from .subspace import check_n_components as check_n_components
from .subspace import (
    group_averaged_cross_variance,
    pca_cross_variance,
    principal_angles,
    principal_components,
)

__all__ = [
    "participation_ratio",
    "effective_dimensionality",
    "effective_rank",
    "principal_components",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
]
