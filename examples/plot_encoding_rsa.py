"""
=====================================================================
Encoding models and encoding RSA against human IT (92 images)
=====================================================================

Three ways to score a model's features against brain data, side by side, on
the 92 object images of Kriegeskorte et al. (2008, Neuron):

- classical RSA (cRSA, :class:`~skrep.metrics.RSA`): the RDM of the features against
  the brain RDM, nothing fitted;
- an encoding model (eReg, :class:`~skrep.metrics.EncodingRegression`): ridge
  regression from the features to each brain response, scored by the Pearson
  r of its predictions for held-out images;
- encoding RSA (eRSA, :class:`~skrep.metrics.EncodingRSA`): the RDM of the encoding
  model's predictions for held-out images against their brain RDM. The
  regression reweights the features, so eRSA asks whether *some* linear
  readout of the model has the brain's geometry (a form of the reweighted RSA
  of Khaligh-Razavi & Kriegeskorte, 2014).

All three are cross-validated over images, and compared with the noise
ceiling: the range in which the true model of the data would score, given
how much the eight human IT RDMs (4 subjects x 2 sessions) disagree.
"""

# %%
# Brain responses from brain RDMs
# -------------------------------
# skrep ships the human IT data as RDMs (1 - Pearson r between the response
# patterns to two images), not as voxel responses; an encoding model needs
# responses. An RDM of correlation distances is, up to a constant factor, a
# matrix of squared Euclidean distances between the patterns (each
# standardized across voxels), so classical multidimensional scaling recovers
# patterns with exactly that RDM: the (rescaled) principal component scores
# of the standardized voxel patterns, which differ from the patterns by a
# rotation that no RDM depends on. We call them pseudo-voxels: 91 per subject
# and session (92 images span 91 dimensions once centered).

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import KFold, cross_val_predict

from skrep import RSA, EncodingRegression, EncodingRSA
from skrep.datasets import load_kriegeskorte92, make_digits_cnn
from skrep.extraction import extract_activations
from skrep.functional import compute_rdm, noise_ceiling, square_to_condensed
from skrep.metrics import DataRDMs
from skrep.plotting import plot_rdm

start = time.perf_counter()
data = load_kriegeskorte92(images=True)
brain_rdms = data.brain_rdms  # (8, 92, 92)
n_images = brain_rdms.shape[1]


def classical_mds(rdm):
    """Points whose squared Euclidean distances are the RDM (all positive dimensions)."""
    centering = np.eye(len(rdm)) - 1.0 / len(rdm)
    eigenvalues, eigenvectors = np.linalg.eigh(-0.5 * centering @ rdm @ centering)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    keep = eigenvalues > 1e-10 * eigenvalues[0]
    return eigenvectors[:, keep] * np.sqrt(eigenvalues[keep])


responses = [classical_mds(rdm) for rdm in brain_rdms]
# skrep's "sqeuclidean" RDM divides by the number of channels, as rsatoolbox's.
rebuilt = [compute_rdm(Y, "sqeuclidean") * Y.shape[1] for Y in responses]
error = max(
    np.abs(r - square_to_condensed(rdm)).max() for r, rdm in zip(rebuilt, brain_rdms, strict=True)
)
print(f"pseudo-voxels per RDM: {[Y.shape[1] for Y in responses]}")
print(f"largest difference between an RDM and that of its pseudo-voxels: {error:.1e}")

# %%
# The models
# ----------
# Three feature sets for the 92 images:
#
# - **category labels**: 8 binary features per image (animate, inanimate,
#   human, non-human, body, face, natural object, artificial object), the
#   category structure that Kriegeskorte et al. found in human IT;
# - **pixels**: the images in grayscale, 32x32;
# - **random CNN**: the last convolutional and the fully connected layer
#   (``relu3``, ``relu4``) of an *untrained* small convolutional network
#   (:func:`~skrep.datasets.make_digits_cnn`, random weights), recorded with
#   :func:`~skrep.extraction.extract_activations`.

category = data.category_vectors[:, :8].astype(float)
print("category features:", ", ".join(data.category_labels[:8]))
gray = data.images.astype(np.float32).mean(axis=3) / 255  # (92, 64, 64)
images = gray.reshape(n_images, 32, 2, 32, 2).mean(axis=(2, 4))[:, None]  # (92, 1, 32, 32)
cnn = extract_activations(make_digits_cnn(seed=0), images, ["relu3", "relu4"])
features = {
    "category labels": category,
    "pixels": images.reshape(n_images, -1),
    "random CNN relu3": np.asarray(cnn["relu3"]),
    "random CNN relu4": np.asarray(cnn["relu4"]),
}
for name, F in features.items():
    print(f"{name}: {F.shape[1]} features")

# %%
# Cross-validated scores
# ----------------------
# Four folds of the images (shuffled, since the images are ordered by
# category): each model is fitted on 69 images and scored on the other 23.
# All three scores are computed for each subject and session separately and
# averaged over the eight, and all are Pearson correlations: cRSA between the
# correlation-distance RDM of the features and the brain RDM; eRSA between
# the squared Euclidean RDMs of the predicted and of the measured
# pseudo-voxels (the latter is the brain RDM itself); eReg between predicted
# and measured pseudo-voxels. For cRSA the brain RDMs are a
# :class:`~skrep.metrics.DataRDMs`, which selects each fold's images on both
# axes of every RDM. The encoding models choose their ridge penalty per
# pseudo-voxel by leave-one-out on the training images. eReg is the mean r of
# the ten leading pseudo-voxels, the principal dimensions with the most
# variance (half of it, as printed below); a mean over all 91 would be
# dominated by dimensions of little variance.

splits = list(KFold(4, shuffle=True, random_state=0).split(images))
hit = DataRDMs(brain_rdms)
n_leading = 10
share = np.mean([(Y[:, :n_leading] ** 2).sum() / (Y**2).sum() for Y in responses])
print(f"variance in the {n_leading} leading pseudo-voxels: {share:.0%}")

scores = {}
for name, F in features.items():
    crsa, ersa, ereg, r_dims = [], [], [], []
    for train, test in splits:
        crsa.append(
            RSA(compare_method="pearson").fit(F[train], hit[train]).score(F[test], hit[test])
        )
        for Y in responses:
            model = EncodingRSA(rdm_method="sqeuclidean").fit(F[train], Y[train])
            ersa.append(model.score(F[test], Y[test]))
            r_dims.append(model.score_targets(F[test], Y[test])[:n_leading])
    scores[name] = {
        "cRSA": np.mean(crsa),
        "eRSA": np.mean(ersa),
        "eReg": np.mean(r_dims),
        "r per dimension": np.mean(r_dims, axis=0),
    }

ceilings = np.array(
    [noise_ceiling(brain_rdms[:, test][:, :, test], "pearson") for _, test in splits]
)
lower, upper = ceilings.mean(axis=0)
print(f"{'model':>18}{'cRSA':>8}{'eRSA':>8}{'eReg':>8}")
for name, s in scores.items():
    print(f"{name:>18}{s['cRSA']:8.3f}{s['eRSA']:8.3f}{s['eReg']:8.3f}")
print(f"noise ceiling (Pearson, held-out images): [{lower:.3f}, {upper:.3f}]")

fig, ax = plt.subplots(figsize=(7, 4))
positions = np.arange(len(scores))
ax.axhspan(lower, upper, color="0.85", label="noise ceiling")
ax.bar(positions - 0.2, [s["cRSA"] for s in scores.values()], 0.4, label="cRSA")
ax.bar(positions + 0.2, [s["eRSA"] for s in scores.values()], 0.4, label="eRSA")
ax.set_xticks(positions, list(scores))
ax.set_ylabel("Pearson r with hIT RDMs (held-out images)")
ax.set_title("Classical and encoding RSA against human IT")
ax.legend()
fig.tight_layout()

# %%
# The category labels explain human IT far better than pixels or the random
# network, as Kriegeskorte et al. found with their category model, and no
# model reaches the lower bound of the noise ceiling. Reweighting changes the
# picture only a little here: eRSA raises the scores of pixels and of the
# random network's convolutional layer, which start near zero, and does not
# improve on cRSA for the category labels or the random network's last layer.
# The encoding model must learn one weight per feature and pseudo-voxel from
# 69 images, and what it gains by choosing the features that matter it can
# lose to that estimation.

# %%
# Which dimensions of human IT does a model predict?
# --------------------------------------------------
# The held-out r of each leading pseudo-voxel (each principal dimension of
# the human IT patterns), averaged over subjects, sessions and folds:

fig, ax = plt.subplots(figsize=(7, 3.5))
for name, s in scores.items():
    ax.plot(np.arange(1, n_leading + 1), s["r per dimension"], marker="o", label=name)
ax.axhline(0, color="0.5", linewidth=1)
ax.set_xlabel("principal dimension of the hIT patterns")
ax.set_ylabel("held-out Pearson r")
ax.set_xticks(np.arange(1, n_leading + 1))
ax.legend(fontsize="small")
fig.tight_layout()
for name, s in scores.items():
    print(f"{name:>18}: r of dimensions 1-3 = {np.round(s['r per dimension'][:3], 2)}")

# %%
# The category labels predict the first principal dimension best, and
# better than any other: the largest differences between response patterns
# in human IT follow the category structure. How closely each subject's first
# dimension follows animacy and faces (absolute correlation with the label,
# averaged over the eight RDMs):

for k, label_name in enumerate(data.category_labels[:8]):
    if label_name in ("animate", "face"):
        r = np.mean([abs(np.corrcoef(Y[:, 0], category[:, k])[0, 1]) for Y in responses])
        print(f"first dimension vs {label_name}: |r| = {r:.2f}")

# %%
# The predicted RDM
# -----------------
# Finally, the encoding model of the category labels predicts the
# pseudo-voxels of all eight RDMs at once (their squared Euclidean RDM, with
# each set weighted by ``1/sqrt(8)``, is the mean of the eight RDMs), each
# image by a model fitted on the other folds
# (:func:`~sklearn.model_selection.cross_val_predict`). The RDM of the
# predictions sits next to the mean human IT RDM, both as percentiles.

pooled = np.hstack(responses) / np.sqrt(len(responses))
predicted = cross_val_predict(EncodingRegression(), category, pooled, cv=splits)
label = dict(zip(data.category_labels, data.category_vectors.T.astype(bool), strict=True))
groups = np.select(
    [
        label["human"] & label["body"],
        label["human"] & label["face"],
        label["nonhumani"] & label["body"],
        label["nonhumani"] & label["face"],
        label["natObj"],
    ],
    ["human bodies", "human faces", "animal bodies", "animal faces", "natural objects"],
    default="man-made objects",
)
fig, axes = plt.subplots(1, 2, figsize=(11, 5.5), layout="compressed")
plot_rdm(
    brain_rdms.mean(axis=0),
    groups=groups,
    rank_transform=True,
    ax=axes[0],
    colorbar=False,
    title="human IT (mean of 8 RDMs)",
)
plot_rdm(
    compute_rdm(predicted, "sqeuclidean"),
    groups=groups,
    rank_transform=True,
    ax=axes[1],
    title="predicted from category labels (held out)",
)
print(f"total time: {time.perf_counter() - start:.0f} s")
plt.show()
