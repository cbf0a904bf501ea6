"""
=============================================================
Many networks at once: the Frechet mean and its tangent space
=============================================================

A K x K matrix of shape distances says how far apart every pair of networks
is, but many tools want *points*: PCA, clustering, a regression of a
network's geometry on its training settings. The Procrustes barycentre (the
Frechet mean) of the networks gives them a centre, and the *tangent space* at
it turns each network into a point of an ordinary Euclidean space: its
residual from the mean once it is rotated onto the mean. Near the mean,
distances between these points approximate the shape distances.

- :func:`skrep.frechet_mean` finds the mean: the matrix whose mean squared
  distance to the rotated networks is smallest;
- :func:`skrep.euclidean_tangent_space` returns the residuals, one array per
  network, ready for scikit-learn once flattened.

Both are netrep's ``frechet_mean`` and ``euclidean_tangent_space`` (also in
:mod:`skrep.compat.netrep` with netrep's signatures).
"""

# %%
# Sixteen representations of the same images
# -------------------------------------------
# Eight small multilayer perceptrons that differ only in their initial
# weights are trained on scikit-learn's handwritten digits
# (:func:`~skrep.datasets.load_digits_networks`); each has two hidden layers of
# 32 ReLU units. Their responses to the same 300 held-out images give sixteen
# representations: eight first layers and eight second layers. Each is
# centred and scaled to unit norm, so that only its shape counts.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from skrep import LinearMetric, euclidean_tangent_space, frechet_mean, pairwise_distances
from skrep.datasets import load_digits_networks

data = load_digits_networks(n_networks=8, hidden_layer_sizes=(32, 32), max_iter=200)
layer_of, representations = [], []
for network in data.layers:
    for layer, activations in enumerate(network):
        X = activations[:300] - activations[:300].mean(axis=0)
        representations.append(X / np.linalg.norm(X))
        layer_of.append(layer + 1)
layer_of = np.array(layer_of)
print(f"{len(representations)} representations of shape {representations[0].shape}")

# %%
# The mean and the tangent space
# ------------------------------
# The mean is found over rotations (``group="orth"``); ``return_aligned=True``
# also returns every representation rotated onto it. The tangent vectors are
# flattened into one row per representation, and PCA draws them.

mean, aligned = frechet_mean(representations, group="orth", return_aligned=True)
spread = np.sqrt(np.mean(np.sum((aligned - mean) ** 2, axis=(1, 2))))
print(f"root mean squared distance to the mean: {spread:.3f}")

tangent = euclidean_tangent_space(representations, mean, group="orth")
points = PCA(n_components=2).fit_transform(tangent.reshape(len(representations), -1))

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for layer, marker in ((1, "o"), (2, "s")):
    chosen = layer_of == layer
    left.scatter(*points[chosen].T, marker=marker, s=60, label=f"hidden layer {layer}")
left.set(xlabel="tangent PC 1", ylabel="tangent PC 2", title="Networks around their mean")
left.legend()

# %%
# How faithful is the picture?
# ----------------------------
# The Euclidean distances between tangent vectors are compared with the shape
# distances themselves: the Procrustes distance of every pair
# (``LinearMetric(alpha=1, score_method="euclidean")``, a K x K matrix).

D = pairwise_distances(LinearMetric(alpha=1.0, score_method="euclidean"), representations)[0]
flat = tangent.reshape(len(representations), -1)
tangent_D = np.linalg.norm(flat[:, None, :] - flat[None, :, :], axis=-1)
pairs = np.triu_indices(len(representations), 1)
r = np.corrcoef(D[pairs], tangent_D[pairs])[0, 1]
right.scatter(D[pairs], tangent_D[pairs], s=12, alpha=0.7)
top = max(D[pairs].max(), tangent_D[pairs].max())
right.plot([0, top], [0, top], color="gray", linewidth=1)
right.set(
    xlabel="Procrustes distance",
    ylabel="distance in the tangent space",
    title=f"Pairs of representations (r = {r:.3f})",
)
print(f"correlation between the two distances: {r:.3f}")
plt.show()

# %%
# The two layers form two groups in the tangent space, and the distances
# between tangent vectors follow the Procrustes distances closely: never
# below them (the rotation onto the mean is one choice of alignment, the
# pairwise fit the best one), and here within about 2% of them, as the
# networks lie near their mean. Beyond a PCA plot, the tangent vectors can go to any scikit-learn
# estimator, for example a classifier that tells the layers apart.
