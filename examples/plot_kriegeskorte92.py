"""
=============================================================
Which model explains human IT? The 92 images of Kriegeskorte
=============================================================

Kriegeskorte et al. (2008, Neuron) recorded human inferior temporal cortex
(hIT) with fMRI while subjects viewed 92 photographs of objects, and compared
the representational dissimilarity matrix (RDM) of the responses with the RDMs
of candidate models: category structure (animacy; faces, bodies, man-made and
natural objects), monkey IT recordings, and computational models of early
and intermediate vision (V1, HMAX, silhouette, RADON, EVA).

Here we rank the eight model RDMs against the eight hIT RDMs (4 subjects x 2
sessions) shipped with skrep (:func:`skrep.datasets.load_kriegeskorte92`),
with 95% bootstrap intervals over stimuli, a permutation test over stimulus
labels, and the noise ceiling: how well the best possible model could do given
the disagreement between subjects.
"""

# %%
# The data
# --------

import matplotlib.pyplot as plt
import numpy as np

from skrep.datasets import load_kriegeskorte92
from skrep.functional import (
    bootstrap_comparisons,
    compare_rdms,
    noise_ceiling,
    permutation_test,
)
from skrep.plotting import plot_rdm

data = load_kriegeskorte92(condensed=True)
print(data.brain_rdms.shape, data.model_rdms.shape)  # 8 RDMs of 92 x 91 / 2 pairs each
print(data.CITATION)

# %%
# The RDMs
# --------
# The images come sorted by category, so the category structure shows as
# blocks. :func:`~skrep.plotting.plot_rdm` draws an RDM (square or condensed)
# with a colour strip and separators for each group of conditions; as in the
# paper, the dissimilarities are shown as percentiles (``rank_transform``).

category = dict(zip(data.category_labels, data.category_vectors.T.astype(bool), strict=True))
groups = np.select(
    [
        category["human"] & category["body"],
        category["human"] & category["face"],
        category["nonhumani"] & category["body"],
        category["nonhumani"] & category["face"],
        category["natObj"],
    ],
    ["human bodies", "human faces", "animal bodies", "animal faces", "natural objects"],
    default="man-made objects",
)
monkey_it = data.model_rdms[list(data.model_names).index("monkeyIT")]
fig, axes = plt.subplots(1, 2, figsize=(11, 5.5), layout="compressed")
plot_rdm(
    data.brain_rdms.mean(axis=0),
    groups=groups,
    rank_transform=True,
    ax=axes[0],
    colorbar=False,
    title="human IT (mean of 8 RDMs)",
)
plot_rdm(monkey_it, groups=groups, rank_transform=True, ax=axes[1], title="monkey IT")

# %%
# Both regions separate animate from inanimate objects, and faces from the
# rest, the structure the models are ranked by below.

# %%
# Model ranking
# -------------
# Spearman correlation of each model RDM with each hIT RDM, averaged over the
# eight data RDMs. The bootstrap resamples the images (pairs of an image with
# its own copy are dropped), so its intervals say how much the ranking
# depends on the particular 92 images.

method = "spearman"
observed = compare_rdms(data.model_rdms, data.brain_rdms, method).mean(axis=1)
samples = bootstrap_comparisons(
    data.model_rdms, data.brain_rdms, method, n_bootstrap=1000, random_state=0
)
low, high = np.percentile(samples, [2.5, 97.5], axis=0)
_, p_values = permutation_test(
    data.model_rdms, data.brain_rdms, method, n_permutations=1000, random_state=0
)
lower, upper = noise_ceiling(data.brain_rdms, method)

order = np.argsort(-observed)
print(f"{'model':<22} {'rho':>6} {'95% interval':>16} {'p':>7}")
for k in order:
    interval = f"[{low[k]:.3f}, {high[k]:.3f}]"
    print(f"{data.model_names[k]:<22} {observed[k]:6.3f} {interval:>16} {p_values[k]:7.3f}")
print(f"noise ceiling: [{lower:.3f}, {upper:.3f}]")

# %%
# As in the paper, the category models and monkey IT come first and the
# low-level models (V1, RADON, silhouette) last; no model reaches the lower
# bound of the noise ceiling, so there is variance in hIT that none of them
# explains.

fig, ax = plt.subplots(figsize=(8, 4))
positions = np.arange(len(order))
ax.axhspan(lower, upper, color="0.85", label="noise ceiling")
ax.bar(positions, observed[order], color="tab:blue")
ax.errorbar(
    positions,
    observed[order],
    yerr=[observed[order] - low[order], high[order] - observed[order]],
    fmt="none",
    ecolor="black",
    capsize=3,
)
ax.set_xticks(positions, [data.model_names[k] for k in order], rotation=35, ha="right")
ax.set_ylabel("Spearman rho with hIT RDMs")
ax.set_title("Model RDMs vs human IT (Kriegeskorte et al. 2008)")
ax.legend(loc="upper right")
fig.tight_layout()
plt.show()
