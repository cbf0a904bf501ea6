"""
==================================================
Comparing the layers of networks trained on digits
==================================================

Do networks that differ only in their random initialization learn the same
representations? We train three small multilayer perceptrons on
scikit-learn's handwritten digits with different seeds, collect the
activations of each hidden layer on held-out images, and measure the
:class:`~skrep.metrics.LinearMetric` distance between every pair of
(network, layer) representations, the input pixels included.

A good measure of representational similarity should find that corresponding
layers of different networks are close (Kornblith et al., 2019). We then ask
which ``alpha``, from CCA-like (0) to Procrustes (1), gives the smallest
cross-validated distance between corresponding layers.
"""

# %%
# Train the networks
# ------------------
# :func:`~skrep.datasets.load_digits_networks` trains the networks (this takes
# a few seconds) and returns, for every network, the activations of each
# hidden layer on the same 899 held-out images: row ``i`` of every array is
# the response to image ``i``, so all representations are paired.

import itertools

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skrep.datasets import load_digits_networks
from skrep.metrics import LinearMetric
from skrep.plotting import plot_similarity_matrix

data = load_digits_networks(n_networks=3, hidden_layer_sizes=(64, 64, 64), max_iter=200)

print(f"held-out accuracy of each network: {np.round(data.accuracy, 3)}")
print(f"pixels: {data.pixels.shape}, each hidden layer: {data.layers[0][0].shape}")

# %%
# The representations are the pixels (the same for every network) and the
# three hidden layers of each network: ten in all.

names = ["pixels"]
representations = [data.pixels]
for net, layers in enumerate(data.layers):
    for layer_name, activations in zip(data.layer_names, layers, strict=True):
        names.append(f"net{net} {layer_name}")
        representations.append(activations)

# %%
# Distances between all pairs of representations
# ----------------------------------------------
# For each pair we fit a Procrustes metric (``alpha=1``: rotations only) and
# measure the angular distance, in radians, on the same images. The distance
# is symmetric, so we compute each pair once. Layers have the same width here;
# had they not, ``zero_pad=True`` (the default) would pad the narrower one.
#
# ``distance`` returns the distance. ``score`` would return its negative,
# since in skrep, as everywhere in scikit-learn, a higher score is better.
# :func:`~skrep.plotting.plot_similarity_matrix` draws the matrix in the order
# given (``kind="distance"`` labels the colour bar).

n = len(representations)
D = np.zeros((n, n))
for i, j in itertools.combinations(range(n), 2):
    X, Y = representations[i], representations[j]
    D[i, j] = D[j, i] = LinearMetric(alpha=1.0).fit(X, Y).distance(X, Y)

fig = plot_similarity_matrix(
    D, names, names, kind="distance", title="Procrustes angular distance (radians)"
)

# %%
# The blocks along the diagonal compare the layers of one network with each
# other; the off-diagonal blocks compare different networks. Averaging over
# pairs of *different* networks gives a layer-by-layer table: corresponding
# layers should be the closest.

n_layers = len(data.layer_names)
layer_of = [None] + [k % n_layers for k in range(n - 1)]
net_of = [None] + [k // n_layers for k in range(n - 1)]
mean_across = np.zeros((n_layers, n_layers))
for a, b in itertools.product(range(n_layers), repeat=2):
    mean_across[a, b] = np.mean(
        [
            D[i, j]
            for i in range(1, n)
            for j in range(1, n)
            if layer_of[i] == a and layer_of[j] == b and net_of[i] != net_of[j]
        ]
    )

print("mean distance between layer A of one network and layer B of another")
print("A \\ B    " + "  ".join(f"{name:>8}" for name in data.layer_names))
for a, name in enumerate(data.layer_names):
    print(f"{name:8} " + "  ".join(f"{value:8.3f}" for value in mean_across[a]))
print("distance from the pixels:", np.round([D[0, 1 + a] for a in range(n_layers)], 3))

# %%
# Each row of the table should have its smallest value on the diagonal: a
# layer of one network is closer to the same layer of another network than to
# its other layers. The distance from the pixels grows with depth, as each
# layer transforms the input further.

# %%
# Cross-validated distances as alpha varies
# -----------------------------------------
# A distance measured on the images used to fit the alignment is optimistic,
# the more so the more freedom the alignment has (small ``alpha``). Here each
# alignment is fitted on two thirds of the images and the distance is
# measured on the remaining third, with scikit-learn's ``cross_validate``:
# ``Y`` plays the role of ``y``, so both representations are split together.
# ``test_score`` is minus the held-out distance.

alphas = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]
cv = KFold(n_splits=3, shuffle=True, random_state=0)
network_pairs = list(itertools.combinations(range(len(data.layers)), 2))

test_distance = np.zeros((len(alphas), n_layers))
train_distance = np.zeros((len(alphas), n_layers))
for row, alpha in enumerate(alphas):
    for a in range(n_layers):
        results = [
            cross_validate(
                LinearMetric(alpha=alpha),
                data.layers[i][a],
                data.layers[j][a],
                cv=cv,
                return_train_score=True,
            )
            for i, j in network_pairs
        ]
        test_distance[row, a] = -np.mean([r["test_score"] for r in results])
        train_distance[row, a] = -np.mean([r["train_score"] for r in results])

fig, ax = plt.subplots(figsize=(6, 4))
for a, name in enumerate(data.layer_names):
    (line,) = ax.plot(alphas, test_distance[:, a], marker="o", label=f"{name}, held out")
    ax.plot(
        alphas,
        train_distance[:, a],
        linestyle="--",
        color=line.get_color(),
        label=f"{name}, training",
    )
ax.set_xlabel("alpha  (0: CCA-like, 1: Procrustes)")
ax.set_ylabel("angular distance (radians)")
ax.set_title("Corresponding layers of different networks")
ax.legend(fontsize="small", ncols=2)
fig.tight_layout()

# %%
# Training distances (dashed) are below held-out distances (solid), and the
# gap is widest at small ``alpha``. Whitening gives every direction of a
# representation the same weight, including directions of tiny variance that
# are mostly noise, and the alignment then overfits them. As ``alpha`` grows
# towards Procrustes, the held-out distance falls.

# %%
# Choosing alpha by grid search
# -----------------------------
# Because ``score`` is the negative distance, ``GridSearchCV`` needs no
# ``scoring`` argument: it picks the ``alpha`` with the smallest held-out
# distance.

search = GridSearchCV(LinearMetric(), {"alpha": alphas}, cv=cv)
search.fit(data.layers[0][1], data.layers[1][1])
print(
    f"{data.layer_names[1]}, network 0 vs network 1: best alpha = "
    f"{search.best_params_['alpha']}, held-out distance = {-search.best_score_:.3f}"
)
