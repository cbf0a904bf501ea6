"""
=====================================================
Dimensionality and subspace overlap across the layers
=====================================================

Is a layer that is easy to identify across networks also a high- or a
low-dimensional one? We take the digits networks of skrep's main job (four
multilayer perceptrons trained on scikit-learn's handwritten digits with
different seeds), and for every hidden layer measure

- its effective dimensionality: the participation ratio of its covariance
  spectrum, :func:`~skrep.participation_ratio` (DeepJuice's
  ``effective_dimensionality``), and the effective rank of Roy and Vetterli,
  :func:`~skrep.effective_rank`;
- how often it is identified across networks: its nearest layer in another
  network, by held-out :class:`~skrep.metrics.LinearMetric` distance, is the
  corresponding layer (the sanity check of Kornblith et al. 2019).

Then, within one network, we ask how much the representations of two groups of
digits share their principal subspaces (:func:`~skrep.pca_cross_variance`,
:class:`~skrep.SubspaceOverlap`, :func:`~skrep.principal_angles`), layer by
layer.
"""

# %%
# The networks of the main job
# ----------------------------
# ``python -m skrep.demo`` trains these four networks (64-64-64 ReLU units);
# the activations are those of the 899 held-out images.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import KFold, cross_val_score

from skrep import (
    SubspaceOverlap,
    effective_rank,
    participation_ratio,
    pca_cross_variance,
    principal_angles,
)
from skrep.datasets import load_digits_networks
from skrep.demo import nearest_layer_accuracy, zoo_distances
from skrep.metrics import LinearMetric

data = load_digits_networks(n_networks=4, hidden_layer_sizes=(64, 64, 64))
n_networks, n_layers = len(data.layers), len(data.layer_names)
print(f"held-out accuracy of each network: {np.round(data.accuracy, 3)}")

# %%
# Effective dimensionality of every layer
# ---------------------------------------
# The participation ratio is 1 when all the variance lies along one axis and
# ``d`` when it is spread evenly over ``d`` axes. The pixels come first for
# reference.

dimensionality = np.array(
    [[participation_ratio(layer) for layer in layers] for layers in data.layers]
)
rank = np.array(
    [[effective_rank(layer, center=True) for layer in layers] for layers in data.layers]
)
print(f"pixels: participation ratio {participation_ratio(data.pixels):.1f}")
for a, name in enumerate(data.layer_names):
    print(
        f"{name}: participation ratio {dimensionality[:, a].mean():.1f} "
        f"(networks {np.round(dimensionality[:, a], 1)}), effective rank {rank[:, a].mean():.1f}"
    )

# %%
# Layer identification across networks
# -------------------------------------
# Procrustes distances (``alpha=1``) between every hidden layer of every
# network, fitted on half of the images and measured on the other half; for
# each layer, the fraction of (network, other network) pairs in which the
# nearest layer of the other network is the corresponding one.

D = zoo_distances(data.layers, LinearMetric(alpha=1.0))
accuracy = nearest_layer_accuracy(D, n_networks, n_layers, per_layer=True)
for name, value in zip(data.layer_names, accuracy, strict=True):
    print(f"{name}: identified {value:.0%} of the time")

depth = np.arange(1, n_layers + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
for net in range(n_networks):
    left.plot(depth, dimensionality[net], "o-", color="tab:blue", alpha=0.4)
left.plot(
    depth, dimensionality.mean(axis=0), "o-", color="tab:blue", lw=3, label="participation ratio"
)
left.plot(depth, rank.mean(axis=0), "s--", color="tab:orange", label="effective rank (centered)")
left.axhline(participation_ratio(data.pixels), color="gray", ls=":", label="pixels")
left.set(xlabel="hidden layer", ylabel="dimensions", xticks=depth, title="effective dimensionality")
left.legend(fontsize=8)
right.bar(depth, accuracy, color="tab:green")
right.set(
    xlabel="hidden layer",
    ylabel="accuracy",
    ylim=(0, 1.05),
    xticks=depth,
    title="layer identified across networks",
)
fig.tight_layout()

# %%
# The layers get lower-dimensional with depth (the pixels spread their
# variance over about 13 dimensions, the last hidden layer over about 5) as the
# ten digit classes come apart, and the four networks agree closely on each
# layer's dimensionality. Every hidden layer is identified in every pair of
# networks here: three layers that differ this much in their geometry are easy
# to tell apart. Deeper stacks of near-identical layers are harder (see the
# layer-identification check of Kornblith et al. 2019).
#
# Shared subspaces between digit groups
# -------------------------------------
# Within network 0, do the images of even digits and of odd digits vary along
# the same directions? X is the basis data (even digits), Y the target (odd
# digits): the curve ``cev_Y`` is the share of the odd digits' variance captured
# by the even digits' first k principal components; ``cev_Y_self`` the share
# captured by the odd digits' own first k components, its upper bound.

even = data.target % 2 == 0
fig, axes = plt.subplots(1, n_layers, figsize=(10, 3), sharey=True)
for a, (ax, name) in enumerate(zip(axes, data.layer_names, strict=True)):
    layer = data.layers[0][a]
    result = pca_cross_variance(layer[even], layer[~even], n_components=20)
    k = np.arange(1, 21)
    ax.plot(k, result.cev_Y_self, "k-", label="odd in own PCs")
    ax.plot(k, result.cev_Y, "-", color="tab:purple", label="odd in even PCs")
    ax.set(title=name, xlabel="components k")
    angles = principal_angles(layer[even], layer[~even], 5)
    print(
        f"{name}: 10 even-digit PCs capture {result.cev_Y[9]:.0%} of the odd digits' variance "
        f"(their own 10 PCs: {result.cev_Y_self[9]:.0%}); participation ratio of odd digits "
        f"{result.PR_Y:.1f}, in the even basis {result.PR_Y_in_Xbasis:.1f}; first principal "
        f"angles {np.round(np.degrees(angles[:3]), 1)} degrees"
    )
axes[0].set_ylabel("cumulative variance explained")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %%
# The same question, cross-validated
# ----------------------------------
# :class:`~skrep.SubspaceOverlap` fits the even digits' principal components on
# training images and scores the share of the odd digits' variance they capture
# on held-out images. The rows of X and Y must be paired for cross-validation,
# so we pair the first even-digit images with the first odd-digit ones.

layer = data.layers[0][-1]
n_pairs = min(even.sum(), (~even).sum())
X_even, Y_odd = layer[even][:n_pairs], layer[~even][:n_pairs]
cv = KFold(5, shuffle=True, random_state=0)
for k in (2, 5, 10):
    scores = cross_val_score(SubspaceOverlap(n_components=k), X_even, Y_odd, cv=cv)
    print(
        f"{data.layer_names[-1]}, k={k}: held-out share {scores.mean():.3f} +/- {scores.std():.3f}"
    )

plt.show()
