"""
=========================================
Handing a skrep analysis to rsatoolbox
=========================================

skrep computes RDMs as plain arrays; rsatoolbox keeps them in ``RDMs``
objects with descriptors and has a rich set of plots and inference tools.
:func:`skrep.rdm.to_rsatoolbox` and :func:`skrep.rdm.from_rsatoolbox` move
RDMs, with their condition (pattern) and RDM descriptors, between the two.

Here we compute the RDM of a simple model of the 92 images of Kriegeskorte et
al. (2008), their pixels, with skrep, hand it together with the eight
candidate model RDMs that ship with skrep to rsatoolbox's ``show_rdm``, and
bring the human IT RDMs back from rsatoolbox as the target of a
cross-validated :class:`~skrep.RSA`.

rsatoolbox is an optional dependency (``pip install 'skrep[rsatoolbox]'``);
without it, this example runs the skrep part and skips the rest.
"""

# %%
# A skrep analysis: the RDM of the pixels
# ---------------------------------------

import importlib.util

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import KFold, cross_validate

from skrep import RSA
from skrep.datasets import load_kriegeskorte92
from skrep.metrics import DataRDMs
from skrep.rdm import compare_rdms, compute_rdm, square_to_condensed

data = load_kriegeskorte92(images=True)
pixels = data.images.reshape(92, -1).astype(float)
pixel_rdm = compute_rdm(pixels, "correlation")  # condensed: 92 * 91 / 2 pairs
brain = square_to_condensed(data.brain_rdms)
print("pixels vs hIT (Spearman, mean over 8 RDMs):", compare_rdms(pixel_rdm, brain).mean())

# %%
# One stack of model RDMs, with names for each RDM and a label for each image:
# the descriptors that rsatoolbox's plots use.

model_names = [*data.model_names, "pixels"]
animate = data.category_vectors[:, list(data.category_labels).index("animate")]
categories = ["animate" if a else "inanimate" for a in animate]
model_rdms = DataRDMs(
    np.concatenate([data.model_rdms, compute_rdm(pixels, square=True)[None]]),
    rdm_descriptors={"model": model_names},
    pattern_descriptors={"category": categories},
)
print(model_rdms)

HAVE_RSATOOLBOX = importlib.util.find_spec("rsatoolbox") is not None
if not HAVE_RSATOOLBOX:
    print("rsatoolbox is not installed: pip install 'skrep[rsatoolbox]' to run the rest.")

# %%
# rsatoolbox's plot of the skrep RDMs
# -----------------------------------
# :func:`~skrep.rdm.to_rsatoolbox` gives an ``rsatoolbox.rdm.RDMs`` with the
# same dissimilarities and descriptors; ``show_rdm`` draws one panel per RDM,
# titled by the ``model`` descriptor. (rsatoolbox shows the rank-transformed
# RDMs here, as the comparison is by ranks.)

if HAVE_RSATOOLBOX:
    import rsatoolbox

    from skrep.rdm import from_rsatoolbox, to_rsatoolbox

    rsa_models = to_rsatoolbox(model_rdms, dissimilarity_measure="various")
    print(rsa_models.n_rdm, "RDMs over", rsa_models.n_cond, "images")
    fig, _, _ = rsatoolbox.vis.show_rdm(
        rsatoolbox.rdm.rank_transform(rsa_models),
        rdm_descriptor="model",
        n_column=3,
        figsize=(8, 8),
    )
    plt.show()

# %%
# The way back: rsatoolbox's RDMs as the target of a cross-validated RSA
# ----------------------------------------------------------------------
# A lab whose brain RDMs live in rsatoolbox objects gets a
# :class:`~skrep.metrics.DataRDMs` from :func:`~skrep.rdm.from_rsatoolbox`:
# cross-validation then selects each fold's images on both axes of every
# subject's RDM, and :class:`~skrep.RSA` scores the pixel RDM of the held-out
# images against them. rsatoolbox's own ``subset_pattern`` and ``compare``
# give the same fold scores.

if HAVE_RSATOOLBOX:
    rsa_brain = to_rsatoolbox(
        data.brain_rdms,
        dissimilarity_measure="correlation",
        rdm_descriptors={"session": list(data.brain_names)},
    )
    target = from_rsatoolbox(rsa_brain)
    cv = KFold(4, shuffle=True, random_state=0)
    scores = cross_validate(RSA(), pixels, target, cv=cv)["test_score"]
    theirs = [
        rsatoolbox.rdm.compare(
            to_rsatoolbox(compute_rdm(pixels[test])),
            rsa_brain.subset_pattern("index", test.tolist()),
            method="spearman",
        ).mean()
        for _, test in cv.split(pixels)
    ]
    print("held-out RSA per fold (skrep):      ", np.round(scores, 4))
    print("the same with rsatoolbox's subsets: ", np.round(theirs, 4))

# %%
# Pixels explain little of human IT: its RDM reflects categories (animate
# versus inanimate, faces and bodies), which the pixels of isolated objects
# on a gray background barely carry.
