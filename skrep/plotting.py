"""Figures of skrep's results (matplotlib, an optional dependency, imported on first use).

- :func:`plot_similarity_matrix`: a layer x layer matrix of similarities or
  distances, rectangular or square (what :func:`skrep.layer_similarity`
  returns, a DataFrame, or an array);
- :func:`plot_rdm`: a representational dissimilarity matrix with its
  conditions and their groups;
- :func:`plot_model_comparison`: models' RSA performance as bars with error
  bars, the noise ceiling and the significant pairwise differences;
- :func:`plot_distance_matrix`: distances between many networks, clustered,
  with their 2-D embedding;
- :func:`plot_layer_scores`, :func:`plot_best_layer_heatmap` and
  :func:`plot_checkpoint_scores`: the table of a model benchmark.

Every function takes ``ax=`` to draw into a figure of your own and
``title=``, and returns the figure. A figure it creates has constrained
layout and room for long labels, so that nothing is cut off when it is saved.
"""

from .plotting_benchmark import plot_best_layer_heatmap, plot_checkpoint_scores, plot_layer_scores
from .plotting_matrices import plot_distance_matrix, plot_similarity_matrix
from .plotting_models import plot_model_comparison
from .plotting_rdm import plot_rdm

__all__ = [
    "plot_similarity_matrix",
    "plot_rdm",
    "plot_model_comparison",
    "plot_distance_matrix",
    "plot_layer_scores",
    "plot_best_layer_heatmap",
    "plot_checkpoint_scores",
]
