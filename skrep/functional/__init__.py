"""Pure math on arrays (numpy or torch), without scikit-learn estimators.

One module per family of measures; the estimators in :mod:`skrep.metrics`
are thin shells over these functions.
"""

from .centering import column_means
from .geometry import (
    effective_dimensionality,
    effective_rank,
    group_averaged_cross_variance,
    participation_ratio,
    pca_cross_variance,
    principal_angles,
    principal_components,
)
from .ground_metrics import angular_distance, euclidean_distance
from .linear import (
    LinearAlignment,
    WhitenedRepresentation,
    apply_alignment,
    fit_linear_alignment,
    padding_rescale,
    partial_whitening_matrix,
    rotations_between,
    whiten_representation,
)
from .permutation import (
    PermutationAlignment,
    apply_permutation,
    fit_permutation_alignment,
)

__all__ = [
    "column_means",
    "angular_distance",
    "euclidean_distance",
    "partial_whitening_matrix",
    "padding_rescale",
    "WhitenedRepresentation",
    "whiten_representation",
    "rotations_between",
    "LinearAlignment",
    "fit_linear_alignment",
    "apply_alignment",
    "PermutationAlignment",
    "fit_permutation_alignment",
    "apply_permutation",
    "participation_ratio",
    "effective_dimensionality",
    "effective_rank",
    "principal_components",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
]
