"""
=============================================================
CKA and the CCA family: invariances and three known pitfalls
=============================================================

CKA (Kornblith et al., 2019) and the CCA family (mean CCA, SVCCA of Raghu et
al., 2017, PWCCA of Morcos et al., 2018) are the similarity scores most used
to compare the layers of neural networks. They differ in what they ignore:
a score that is invariant to a transformation cannot tell a representation
from its transformed copy. And each has failure modes that produce
plausible-looking numbers:

1. with fewer stimuli than units, CCA finds perfect correlations between
   *unrelated* representations, and CKA is biased upwards;
2. PWCCA, as published, depends on the mean activity of the first
   representation and on the basis of its units, not only on its geometry;
3. in float32, activations with a large offset (a constant added to every
   response, as in layers that are never centered) wreck the usual
   computation of CKA through centered Gram matrices.

We measure each on two small networks trained on scikit-learn's digits with
different seeds.
"""

# %%
# Two networks, three layers each
# -------------------------------
# :func:`~skrep.datasets.load_digits_networks` trains two multilayer
# perceptrons (three hidden layers of 64 ReLU units) and returns their
# activations on the same 899 held-out images.
# :func:`~skrep.layerwise.layer_similarity` scores every layer of the first
# network against every layer of the second;
# :func:`~skrep.plotting.plot_similarity_matrix` draws each matrix.

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import ortho_group
from sklearn.preprocessing import StandardScaler

from skrep import CCAEstimator, CKAEstimator, PWCCAEstimator, SVCCAEstimator, layer_similarity
from skrep.datasets import load_digits_networks
from skrep.plotting import plot_similarity_matrix

data = load_digits_networks(n_networks=2, hidden_layer_sizes=(64, 64, 64), max_iter=200)
net_a = {f"A {name}": layer for name, layer in zip(data.layer_names, data.layers[0], strict=True)}
net_b = {f"B {name}": layer for name, layer in zip(data.layer_names, data.layers[1], strict=True)}
print(f"held-out accuracy: {np.round(data.accuracy, 3)}")

measures = {"linear CKA": "linear_cka", "mean CCA": "mean_cca", "SVCCA": "svcca", "PWCCA": "pwcca"}
fig, axes = plt.subplots(2, 2, figsize=(9, 8), layout="constrained")
for ax, (title, measure) in zip(axes.flat, measures.items(), strict=True):
    matrix = layer_similarity(measure, net_a, net_b)
    plot_similarity_matrix(matrix, ax=ax, title=title, vmin=0, vmax=1, annotate=True)
    closest = [list(net_b)[k] for k in np.argmax(matrix, axis=1)]
    print(
        f"{title:>10}: from {matrix.min():.2f} to {matrix.max():.2f}; "
        f"closest layer of B to each layer of A: {closest}"
    )

# %%
# The measures work on different scales (linear CKA and PWCCA put every pair
# of layers near 0.9, mean CCA between about 0.55 and 0.75), so a score is
# only comparable with scores of the same measure. They also disagree on
# which layer of B is closest to a layer of A; the gallery example
# :ref:`sphx_glr_auto_examples_plot_layer_identification.py` tests that
# systematically.

# %%
# What each measure is invariant to
# ---------------------------------
# Take A's second layer ``X`` and B's second layer ``Y``, transform ``X``, and
# score the transformed copy against ``Y`` again. Where the score does not
# move, the measure is invariant to that transformation: it treats ``X`` and
# its transformed copy as the same representation.

X, Y = data.layers[0][1], data.layers[1][1]
n_units = X.shape[1]
rng = np.random.default_rng(0)
transformed = {
    "as is": X,
    "rotated": X @ ortho_group.rvs(n_units, random_state=0),
    "scaled x10": 10 * X,
    "offset +10": X + 10,
    "unit scales": X * np.exp(rng.uniform(-2, 2, n_units)),  # each unit by 0.14 to 7.4
    "linear map": X @ rng.standard_normal((n_units, n_units)),  # invertible
}
estimators = {
    "linear CKA": CKAEstimator(),
    "RBF CKA": CKAEstimator("rbf"),
    "mean CCA": CCAEstimator(),
    "SVCCA": SVCCAEstimator(),
    "PWCCA": PWCCAEstimator(),
}
print(f"{'score(T(X), Y)':>14}" + "".join(f"{name:>12}" for name in transformed))
for name, estimator in estimators.items():
    scores = [estimator.fit(Z, Y).score(Z, Y) for Z in transformed.values()]
    print(f"{name:>14}" + "".join(f"{score:12.3f}" for score in scores))

# %%
# - Linear and RBF CKA and SVCCA ignore rotations, a common scale factor and
#   offsets, and change when the units are rescaled one by one or mixed by a
#   general linear map: they weigh directions by their variance (SVCCA
#   through its PCA step).
# - Mean CCA does not move at all: CCA whitens each side first, so that no
#   invertible linear map of the units changes it. That also makes it blind
#   to how the variance is spread across directions, one of the reasons
#   Kornblith et al. gave for CKA.
# - PWCCA, computed as in the published code (google/svcca, whose values
#   skrep reproduces), is the least invariant. Its weights sum the absolute
#   projections of the canonical directions on the individual units, so the
#   basis of the units matters (rotating it changes the score). The unit
#   means are added back to the activity first, so a layer's baseline
#   activity counts: adding 10 to every unit of ``X`` moves PWCCA more than
#   any other transformation in the table. And with the means added back, the
#   weights depend on the sign the SVD gives each canonical direction (see
#   :func:`skrep.functional.pwcca`), so that even a common scale factor can
#   move the score in the third decimal. Centering the representations first
#   removes the effect of the offset:

centered = PWCCAEstimator(preprocessor=StandardScaler(with_std=False))
print(
    f"PWCCA after centering: X: {centered.fit(X, Y).score(X, Y):.3f}, "
    f"X + 10: {centered.fit(X + 10, Y).score(X + 10, Y):.3f}"
)

# %%
# Pitfall 1: fewer stimuli than units
# -----------------------------------
# A similarity score should be near zero for unrelated representations. Make
# ``Y`` unrelated to ``X`` by shuffling its rows (each image of ``X`` is then
# paired with another image's response in ``Y``), and score subsets of ``n``
# images, averaged over 10 random subsets (all 899 images once). The layer
# has 64 units, of which only some are ever active on these images:

print(f"units: {n_units}, rank of X: {np.linalg.matrix_rank(X)}")
Y_unrelated = Y[rng.permutation(len(Y))]
sizes = [16, 32, 64, 128, 256, 512, 899]
small_n = {
    "linear CKA": CKAEstimator(),
    "debiased CKA": CKAEstimator(debiased=True),
    "mean CCA": CCAEstimator(),
    "SVCCA": SVCCAEstimator(),
}
curves = {name: {"paired": [], "unrelated": []} for name in small_n}
for n in sizes:
    subsets = [rng.choice(len(X), n, replace=False) for _ in range(10 if n < len(X) else 1)]
    for name, estimator in small_n.items():
        for kind, partner in (("paired", Y), ("unrelated", Y_unrelated)):
            scores = [estimator.fit(X[s], partner[s]).score(X[s], partner[s]) for s in subsets]
            curves[name][kind].append(np.mean(scores))

print("paired / unrelated")
print(f"{'n':>5}" + "".join(f"{name:>18}" for name in small_n))
for k, n in enumerate(sizes):
    cells = [
        f"{curves[name]['paired'][k]:.3f} / {curves[name]['unrelated'][k]:6.3f}" for name in small_n
    ]
    print(f"{n:>5}" + "".join(f"{cell:>18}" for cell in cells))

fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
for name, curve in curves.items():
    (line,) = ax.plot(sizes, curve["unrelated"], marker="o", label=f"{name}, unrelated")
    ax.plot(sizes, curve["paired"], linestyle="--", color=line.get_color(), label=f"{name}, paired")
ax.axvline(n_units, color="0.6", linewidth=1)
ax.text(n_units * 1.05, 0.5, "n = units", color="0.4")
ax.set_xscale("log")
ax.set_xlabel("number of stimuli n")
ax.set_ylabel("similarity")
ax.set_title("Layer 2 of A against layer 2 of B, paired or unrelated")
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))

# %%
# With few stimuli, mean CCA is exactly 1 for unrelated representations:
# ``n`` points span at most ``n - 1`` centered dimensions, and when both
# representations span all of them the canonical directions can match
# anything perfectly. Even with twice as many stimuli as units, mean CCA
# separates the paired layers only modestly from unrelated ones, and SVCCA,
# which keeps 99% of the variance, inherits much of the problem. Linear CKA is
# biased upwards for small ``n`` (its HSIC estimate is biased): for unrelated
# layers it falls about as ``1/n``, from 0.28 at 16 stimuli to 0.01 at 512.
# Debiased CKA (``CKAEstimator(debiased=True)``, the unbiased HSIC of Song et
# al. 2012) stays within 0.01 of zero for unrelated data at every ``n``, and
# is nearly as high as linear CKA for the paired layers: prefer it when
# stimuli are few, and compare CCA scores only between analyses with the same
# numbers of stimuli and units.

# %%
# Pitfall 2: float32 and a large offset
# -------------------------------------
# Linear CKA is often computed as in the equations: Gram matrices
# ``K = X X'`` and ``L = Y Y'``, centered as ``H K H``, then
# ``<HKH, HLH> / (|HKH| |HLH|)``. Centering the Gram matrix subtracts numbers
# of size ``(offset**2 * n_units)`` from each other; in float32, with about 7
# significant digits, the differences are lost when the offset is large.


def textbook_linear_cka(A, B):
    """Linear CKA through centered Gram matrices, in the precision of the input."""
    K, L = A @ A.T, B @ B.T
    K = K - K.mean(axis=0) - K.mean(axis=1, keepdims=True) + K.mean()
    L = L - L.mean(axis=0) - L.mean(axis=1, keepdims=True) + L.mean()
    return float((K * L).sum() / np.sqrt((K * K).sum() * (L * L).sum()))


# %%
# CKA is invariant to offsets, so the float64 CKA of the layers without
# offset is the right answer for every offset. skrep centers the features
# about a mean accumulated in float64 before any product.

exact = CKAEstimator().fit(X, Y).score(X, Y)
print(f"CKA of X and Y (float64, no offset): {exact:.6f}")
print(f"{'offset':>8}{'textbook, float64':>20}{'textbook, float32':>20}{'skrep, float32':>18}")
for offset in [0, 10, 100, 1000, 10000]:
    X32, Y32 = (X + offset).astype(np.float32), (Y + offset).astype(np.float32)
    print(
        f"{offset:>8}{textbook_linear_cka(X + offset, Y + offset):20.6f}"
        f"{textbook_linear_cka(X32, Y32):20.6f}"
        f"{CKAEstimator().fit(X32, Y32).score(X32, Y32):18.6f}"
    )

# %%
# In float64 the textbook formula is fine. In float32 it drifts at an offset
# of 100 and returns nonsense at 1000 and beyond, while skrep's float32 value
# stays within about 1e-6 of the exact one at every offset (the float32
# numbers themselves are rounded at that level: at an offset of 10000, float32
# resolves steps of 0.001). The CCA family is computed from centered data
# too:

X32, Y32 = (X + 1000).astype(np.float32), (Y + 1000).astype(np.float32)
for name in ("mean CCA", "SVCCA"):
    estimator = estimators[name]
    error = estimator.fit(X32, Y32).score(X32, Y32) - estimator.fit(X, Y).score(X, Y)
    print(f"{name}: float32 with offset 1000 minus float64 without offset: {error:.1e}")
plt.show()
