"""Pure math on arrays (numpy or torch), without scikit-learn estimators.

One module per family of measures; the estimators in :mod:`skrep.metrics`
are thin shells over these functions.
"""

from .banded_ridge import (
    band_weight_candidates,
    banded_ridge_coefficients,
    banded_ridge_predict,
    fit_banded_ridge,
)
from .bures import (
    BuresComparison,
    CKABounds,
    bures_distance,
    bures_similarity,
    normalized_bures_similarity,
    procrustes_cka_bounds,
)
from .cca import canonical_correlations, mean_cca, pwcca, r2_cca, svcca
from .centering import column_means
from .dimensionality import effective_dimensionality, effective_rank, participation_ratio
from .ground_metrics import angular_distance, euclidean_distance
from .gulp import gulp_distance
from .kernel import cka, cka_matrix, gram_matrix, hsic, linear_cka, rbf_bandwidth, rbf_cka
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
from .model_tests import noise_ceiling_tests, pairwise_model_tests, zero_tests
from .neighbors import jaccard_knn, mutual_knn, nearest_neighbors
from .noise import noise_covariance, noise_precision, noise_precision_stack
from .permutation import (
    PermutationAlignment,
    apply_permutation,
    fit_permutation_alignment,
)
from .predictivity import neuroid_correlations, split_half_ceiling
from .rdm import compute_rdm, condensed_to_square, square_to_condensed
from .rdm_compare import compare_rdms
from .rdm_weights import crossvalidate_rdm_model, fit_rdm_weights, rdm_model_folds
from .regression import linear_regression_r2
from .rsa_inference import bootstrap_comparisons, noise_ceiling, permutation_test, pool_rdms
from .searchlight import (
    evaluate_searchlight,
    searchlight_map,
    searchlight_rdms,
    volume_searchlight,
)
from .soft_matching import SoftMatching, fit_soft_matching, soft_matching_distance
from .soft_rank import soft_rank, soft_spearman
from .sparsity import (
    hoyer_sparsity,
    l0_sparsity,
    lifetime_sparseness,
    population_sparseness,
    selectivity_index,
)
from .subspace import (
    group_averaged_cross_variance,
    pca_cross_variance,
    principal_angles,
    principal_components,
)
from .variance_partitioning import partition_explained_variance, variance_partitioning

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
    "SoftMatching",
    "bures_distance",
    "normalized_bures_similarity",
    "bures_similarity",
    "BuresComparison",
    "procrustes_cka_bounds",
    "CKABounds",
    "gulp_distance",
    "fit_soft_matching",
    "soft_matching_distance",
    "soft_rank",
    "soft_spearman",
    "participation_ratio",
    "effective_dimensionality",
    "effective_rank",
    "principal_components",
    "principal_angles",
    "pca_cross_variance",
    "group_averaged_cross_variance",
    "cka",
    "linear_cka",
    "rbf_cka",
    "cka_matrix",
    "hsic",
    "gram_matrix",
    "rbf_bandwidth",
    "canonical_correlations",
    "mean_cca",
    "r2_cca",
    "svcca",
    "pwcca",
    "nearest_neighbors",
    "mutual_knn",
    "jaccard_knn",
    "linear_regression_r2",
    "neuroid_correlations",
    "split_half_ceiling",
    "compute_rdm",
    "noise_covariance",
    "noise_precision",
    "noise_precision_stack",
    "square_to_condensed",
    "condensed_to_square",
    "compare_rdms",
    "pool_rdms",
    "noise_ceiling",
    "bootstrap_comparisons",
    "permutation_test",
    "pairwise_model_tests",
    "fit_rdm_weights",
    "crossvalidate_rdm_model",
    "rdm_model_folds",
    "volume_searchlight",
    "searchlight_rdms",
    "evaluate_searchlight",
    "searchlight_map",
    "zero_tests",
    "noise_ceiling_tests",
    "fit_banded_ridge",
    "banded_ridge_predict",
    "banded_ridge_coefficients",
    "band_weight_candidates",
    "variance_partitioning",
    "partition_explained_variance",
    "l0_sparsity",
    "hoyer_sparsity",
    "lifetime_sparseness",
    "population_sparseness",
    "selectivity_index",
]
