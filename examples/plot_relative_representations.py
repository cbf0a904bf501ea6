"""
===========================================================
Relative representations: a common space without alignment
===========================================================

Two networks trained from different random seeds can represent the stimuli
with the same geometry and still use unrelated coordinates: a readout trained
on one network's units means nothing to the other's. Moschella et al. (ICLR
2023) proposed to describe each stimulus by its cosine similarities to a set
of *anchor* stimuli, the same for every network. Those similarities do not
change when a representation is rotated or rescaled, so networks that differ
by such a transformation get the same relative representation, and a readout
trained on one network's relative representation reads the other's.
:class:`~skrep.preprocessing.RelativeRepresentation` is that transformer.

Here we train three small networks on scikit-learn's digits, train a linear
probe of the digit on one network and test it on the others.
"""

# %%
# Three networks and a linear probe
# ---------------------------------
# :func:`~skrep.datasets.load_digits_networks` trains three multilayer
# perceptrons (two hidden layers of 64 ReLU units) with different seeds and
# returns their second hidden layer on the same 899 held-out images. Those
# images are split once more: the probe (a logistic regression) is trained
# on half of them and tested on the other half.

import itertools

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import ortho_group
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrep import CKAEstimator, LinearMetric, RelativeRepresentation
from skrep.datasets import load_digits_networks

data = load_digits_networks(n_networks=3, hidden_layer_sizes=(64, 64), max_iter=200)
layers = [network[1] for network in data.layers]  # the second hidden layer of each
digit = data.target
train, test = train_test_split(np.arange(len(digit)), test_size=0.5, random_state=0, stratify=digit)
n_networks = len(layers)
print(f"held-out accuracy of the networks themselves: {np.round(data.accuracy, 3)}")


def probe():
    """A fresh linear probe of the digit."""
    return LogisticRegression(max_iter=5000)


def transfer_matrix(representations):
    """Accuracy of a probe trained on network i (rows), tested on network j (columns)."""
    accuracy = np.zeros((n_networks, n_networks))
    for i in range(n_networks):
        fitted = probe().fit(representations[i][train], digit[train])
        for j in range(n_networks):
            accuracy[i, j] = fitted.score(representations[j][test], digit[test])
    return accuracy


def off_diagonal_mean(matrix):
    """Mean of the entries between different networks."""
    return matrix[~np.eye(len(matrix), dtype=bool)].mean()


raw = transfer_matrix(layers)
print("probe accuracy on raw units (trained on row, tested on column):")
print(np.round(raw, 3))

# %%
# Each probe reads its own network almost perfectly and the others at about
# chance level (10%). Yet the networks represent the digits alike:
# their CKA, which ignores rotations and scale, is high.

for i, j in itertools.combinations(range(n_networks), 2):
    cka = CKAEstimator().fit(layers[i], layers[j]).score(layers[i], layers[j])
    print(f"CKA(network {i}, network {j}) = {cka:.3f}")

# %%
# Relative representations
# ------------------------
# Choose 50 anchors among the probe's training images. For each network on
# its own, center the responses on the anchors' mean and describe every
# image by its cosine similarity to each (centered) anchor: a pipeline of
# :class:`~sklearn.preprocessing.StandardScaler` (``with_std=False``) and
# :class:`~skrep.preprocessing.RelativeRepresentation`, fitted on that
# network's responses to the anchors (with ``anchors=None`` every fitted
# sample is an anchor).
# Nothing is fitted across networks: they share only the anchor images.

rng = np.random.default_rng(0)
anchors = np.sort(rng.choice(train, size=50, replace=False))


def relative(responses, anchor_rows, center=True):
    """The relative representation of every image, anchored on anchor_rows."""
    steps = [StandardScaler(with_std=False)] if center else []
    transformer = make_pipeline(*steps, RelativeRepresentation())
    return transformer.fit(responses[anchor_rows]).transform(responses)


relative_layers = [relative(layer, anchors) for layer in layers]
print(f"relative representation of each network: {relative_layers[0].shape}")
rel = transfer_matrix(relative_layers)
print("probe accuracy on relative representations:")
print(np.round(rel, 3))
print(
    f"between networks: raw units {off_diagonal_mean(raw):.3f}, "
    f"relative {off_diagonal_mean(rel):.3f}; within a network: raw "
    f"{np.diag(raw).mean():.3f}, relative {np.diag(rel).mean():.3f}"
)

fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), layout="constrained")
panels = {"raw units": raw, "relative representations": rel}
for ax, (title, matrix) in zip(axes, panels.items(), strict=True):
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="w" if value < 0.5 else "k")
    ticks = [f"net {k}" for k in range(n_networks)]
    ax.set_xticks(range(n_networks), ticks)
    ax.set_yticks(range(n_networks), ticks)
    ax.set_xlabel("tested on")
    ax.set_title(title)
axes[0].set_ylabel("probe trained on")
fig.colorbar(image, ax=axes, label="probe accuracy")

# %%
# A probe trained on one network's relative representation now reads the
# other networks nearly as well as its own. The price is a little accuracy
# within each network, compared with the raw units.

# %%
# Why it works
# ------------
# If a second network were exactly a rotated, rescaled and shifted copy of
# the first, its relative representation would be the same: centering removes
# the shift, the cosine removes the scale, and a rotation changes no angle.
# Without the centering, the shift alone changes the angles.

copy = 3.0 * layers[0] @ ortho_group.rvs(layers[0].shape[1], random_state=0) + 5.0
difference = np.abs(relative(copy, anchors) - relative_layers[0]).max()
print(f"largest difference between the relative representations: {difference:.1e}")
uncentered = np.abs(relative(copy, anchors, False) - relative(layers[0], anchors, False)).max()
print(f"the same without centering on the anchors: {uncentered:.1e}")

# %%
# Real networks are not exact copies of each other: their relative
# representations differ a little, and the probe loses a little accuracy
# between networks.

# %%
# How many anchors, and why center?
# ---------------------------------
# The mean accuracy between networks (probe trained on one network, tested
# on another) as the number of anchors grows, with and without centering,
# over 3 random draws of the anchors. ReLU responses are all positive, so
# without centering the cosine similarities are mostly large and vary less:

for center in (True, False):
    similarities = relative(layers[0], anchors, center)
    print(
        f"{'centered' if center else 'not centered':>12}: similarities to the anchors "
        f"{similarities.mean():.2f} on average, standard deviation {similarities.std():.2f}"
    )

sizes = [5, 10, 20, 50, 100, 200]
curves = {True: [], False: []}
for size in sizes:
    for center in (True, False):
        accuracies = []
        for draw in range(3):
            rows = np.sort(np.random.default_rng(draw).choice(train, size=size, replace=False))
            reps = [relative(layer, rows, center) for layer in layers]
            accuracies.append(off_diagonal_mean(transfer_matrix(reps)))
        curves[center].append(np.mean(accuracies))
for size, with_center, without in zip(sizes, curves[True], curves[False], strict=True):
    print(f"{size:4d} anchors: centered {with_center:.3f}, not centered {without:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(sizes, curves[True], marker="o", label="relative, centered on the anchors")
ax.plot(sizes, curves[False], marker="o", label="relative, not centered")
ax.axhline(off_diagonal_mean(raw), color="0.5", linestyle="--", label="raw units")
ax.axhline(0.1, color="0.8", linestyle=":", label="chance")
ax.set_xscale("log")
ax.set_xlabel("number of anchors")
ax.set_ylabel("accuracy on another network")
ax.set_ylim(0, 1)
ax.legend(loc="center right")
ax.set_title("A probe transferred between networks")
fig.tight_layout()

# %%
# Ten anchors already carry most of the transfer. Centering on the anchors'
# mean helps at every number of anchors, most when they are few.

# %%
# Compared with an alignment
# --------------------------
# The same 50 anchor images could instead be used to *fit* an alignment
# between two networks: :class:`~skrep.metrics.LinearMetric` with
# ``alpha=1`` finds the rotation (Procrustes) that best maps one network's
# responses to the anchors onto the other's, and ``transform`` maps every
# image of both into the aligned space.

aligned_accuracy = []
for i, j in itertools.permutations(range(n_networks), 2):
    metric = LinearMetric(alpha=1.0).fit(layers[i][anchors], layers[j][anchors])
    aligned_i, aligned_j = metric.transform(layers[i], layers[j])
    fitted = probe().fit(aligned_i[train], digit[train])
    aligned_accuracy.append(fitted.score(aligned_j[test], digit[test]))
print(
    f"between networks, 50 anchors: Procrustes alignment {np.mean(aligned_accuracy):.3f}, "
    f"relative representation {off_diagonal_mean(rel):.3f}"
)

# %%
# The fitted alignment transfers the probe better. What the relative
# representation offers instead is that each network is transformed on its
# own: no pair of networks is ever fitted together, a new network joins the
# common space by computing its similarities to the anchors, and one probe
# serves every network.
plt.show()
