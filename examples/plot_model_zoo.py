"""
==========================================
A model zoo: distance matrix and embedding
==========================================

With many networks, the question becomes how they are arranged: which are
alike, which form groups. Here a small zoo of multilayer perceptrons trained
on scikit-learn's digits (two architectures, three seeds each) is compared
layer by layer: :func:`skrep.pairwise_distances` fits a
:class:`~skrep.metrics.LinearMetric` on half of the images for every pair of
representations and measures the distance on the other half; the matrix is
then drawn in a clustered order next to its 2-D MDS embedding.
"""

# %%
# Build the zoo
# -------------
# Every hidden layer of every network is one representation; all of them are
# the responses to the same held-out images, so their rows are paired.

import matplotlib.pyplot as plt
import numpy as np

from skrep import LinearMetric, pairwise_distances
from skrep.datasets import load_digits_networks
from skrep.plotting import plot_distance_matrix

representations, names, layer_of = [], [], []
for hidden in [(64, 64, 64), (32, 32, 32)]:
    data = load_digits_networks(n_networks=3, hidden_layer_sizes=hidden, max_iter=200)
    for seed, layers in zip(data.seeds, data.layers, strict=True):
        for layer_name, layer in zip(data.layer_names, layers, strict=True):
            representations.append(layer)
            names.append(f"w{hidden[0]}/s{seed}/{layer_name}")
            layer_of.append(layer_name)
print(f"{len(representations)} representations of {representations[0].shape[0]} images")

# %%
# All pairwise distances, fitted on half the images, measured on the other half
# -----------------------------------------------------------------------------
# Networks of different widths are compared by zero-padding the narrower one.

rng = np.random.default_rng(0)
order = rng.permutation(representations[0].shape[0])
train, test = order[: len(order) // 2], order[len(order) // 2 :]
D_train, D_test = pairwise_distances(
    LinearMetric(alpha=1.0),
    [X[train] for X in representations],
    [X[test] for X in representations],
)
print(f"held-out distances from {D_test[D_test > 0].min():.3f} to {D_test.max():.3f} radians")

# %%
# Draw the matrix and its embedding
# ---------------------------------
# Layers at the same depth cluster together, across seeds and widths.

fig = plot_distance_matrix(
    D_test, names, groups=layer_of, title="held-out Procrustes distances (digits MLPs)"
)
plt.show()
