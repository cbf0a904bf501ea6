"""
=======================================
The ``skrep`` command line
=======================================

The ``skrep`` command compares representations stored on disk without a line
of Python: ``skrep pairwise`` writes the matrix of distances between
networks, ``skrep similarity`` the matrix of similarities between layers, each
as a CSV file with the names as header and first column, and optionally a
figure. Any job that writes activations as ``.npy`` or ``.npz`` files (for
example ``skrep extract``, which records the layers of a PyTorch model) can
feed it, on a laptop or in a batch script on a cluster.

Here we write the layers of three networks trained on scikit-learn's digits
to a temporary folder, run the command through ``python -m skrep`` (the same
as the ``skrep`` executable), and read its output back.
"""

# %%
# Networks on disk
# ----------------
# :func:`~skrep.datasets.load_digits_networks` trains three multilayer
# perceptrons with different seeds and returns their hidden layers on the same
# 899 held-out images. Each network's last hidden layer goes to its own
# ``.npy`` file in ``networks/`` (one array of shape (n_stimuli, n_units)),
# and all layers of a network to one ``.npz`` archive (one array per layer).

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skrep import LinearMetric
from skrep.datasets import load_digits_networks

data = load_digits_networks(n_networks=3, hidden_layer_sizes=(64, 64, 64), max_iter=200)
work = tempfile.TemporaryDirectory()
folder = Path(work.name)
(folder / "networks").mkdir()
for k, layers in enumerate(data.layers):
    np.save(folder / "networks" / f"net{k}.npy", layers[-1])
    np.savez(folder / f"net{k}_layers.npz", **dict(zip(data.layer_names, layers, strict=True)))
np.save(folder / "networks" / "pixels.npy", data.pixels)
print(sorted(path.name for path in folder.rglob("*.np*")))


def skrep(arguments):
    """Run ``skrep ARGUMENTS`` in the folder; print the command and what it printed."""
    print(f"$ skrep {arguments}")
    result = subprocess.run(
        [sys.executable, "-m", "skrep", *shlex.split(arguments)],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    output = (result.stdout + result.stderr).strip()
    print(
        f"{output}\n(exit status {result.returncode})"
        if output
        else f"(exit status {result.returncode})"
    )
    return result


def show_figure(path):
    """Display a PNG file that the command wrote."""
    image = plt.imread(folder / path)
    fig, ax = plt.subplots(figsize=(image.shape[1] / 100, image.shape[0] / 100))
    ax.imshow(image)
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)


skrep("--version")

# %%
# ``skrep pairwise``: distances between networks
# ----------------------------------------------
# Every input is a ``.npy`` file, an ``.npz`` archive or a folder of them;
# the names of the networks are the file names. ``--metric`` chooses the
# distance (``linear``, ``permutation``, ``cka``, ``gaussian-stochastic``,
# ``energy-stochastic``; ``skrep pairwise --help`` lists them with their
# options) and ``-q`` turns off the progress bar.

skrep("pairwise networks --metric linear --alpha 1 -o distances.csv --figure distances.png -q")
distances = pd.read_csv(folder / "distances.csv", index_col=0)
print(distances.round(3).to_string())
show_figure("distances.png")

# %%
# The last hidden layers of the three networks are about equally far apart,
# and all far from the pixels. The CSV holds what the Python API computes: the
# same distances, pair by pair, from :class:`~skrep.metrics.LinearMetric`.

arrays = {name: np.load(folder / "networks" / f"{name}.npy") for name in distances.index}
largest = max(
    abs(distances.loc[a, b] - LinearMetric(alpha=1.0).fit(X, Y).distance(X, Y))
    for a, X in arrays.items()
    for b, Y in arrays.items()
)
print(f"largest difference between the CSV and LinearMetric, pair by pair: {largest:.1e}")

# %%
# Held-out stimuli
# ----------------
# ``--test-fraction`` fits each alignment on a random part of the stimuli
# (the same for every network; ``--seed`` fixes it) and measures the
# distance on the rest too, in a second file, ``*_test.csv``. With
# ``--alpha 0`` (CCA-like: each network is whitened first), the alignment
# has the most freedom, and the held-out distances show how much of the
# training fit was overfitting.

for alpha in ("0", "1"):
    skrep(
        f"pairwise networks --metric linear --alpha {alpha} --test-fraction 0.5 --seed 0 "
        f"-o alpha{alpha}.csv -q"
    )
    train = pd.read_csv(folder / f"alpha{alpha}.csv", index_col=0).to_numpy()
    test = pd.read_csv(folder / f"alpha{alpha}_test.csv", index_col=0).to_numpy()
    between = ~np.eye(3, dtype=bool)  # pairs of the three networks, pixels left out
    print(
        f"alpha={alpha}: mean distance between networks, training "
        f"{train[:3, :3][between].mean():.3f}, held out {test[:3, :3][between].mean():.3f}"
    )

# %%
# The held-out distance is larger than the training distance for both, by
# far more with ``alpha=0``: whitening lets the alignment fit directions of
# tiny variance that do not generalise to new images.

# %%
# ``skrep similarity``: layers against layers
# -------------------------------------------
# ``skrep similarity`` compares every layer given with every other one, or,
# with ``--against``, the layers of one model (rows) with those of another
# (columns). ``--measure`` chooses among ``cka`` (the default), ``cca``,
# ``svcca``, ``pwcca``, ``rsa``, the neighbour overlaps and the encoding
# models; the names of the layers in an ``.npz`` archive are its arrays'
# names.

skrep(
    "similarity net0_layers.npz --against net1_layers.npz --measure cka "
    "-o cka.csv --figure cka.png -q"
)
cka = pd.read_csv(folder / "cka.csv", index_col=0)
print(cka.round(3).to_string())
for row, values in cka.iterrows():
    print(f"{row}: most similar layer of net1 is {values.idxmax()}")
show_figure("cka.png")

# %%
# Each layer of the first network is most similar to the layer at the same
# depth in the second, Kornblith et al.'s sanity check for CKA.

# %%
# Errors
# ------
# Bad input is refused before anything is computed, with one line on
# standard error and exit status 2, so that a batch script can stop on it.
# Here a file has fewer stimuli than the others:

np.save(folder / "networks" / "truncated.npy", data.layers[0][-1][:500])
skrep("pairwise networks -o distances.csv -q")
work.cleanup()
plt.show()
