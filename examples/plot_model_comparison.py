"""
===========================================
Comparing models on the 92-image data
===========================================

Which of eight model RDMs explains human inferior temporal cortex (hIT) best,
which differences between them can we trust, and does a weighted mix of the
models do better than the best one? This example answers these questions on
the 92 images of Kriegeskorte et al. (2008) with the model tests of
:mod:`skrep.rdm`: the t-tests rsatoolbox runs with subjects as the random
effect, its dual bootstrap that treats the stimuli as random too, and
weighted models fitted and cross-validated over subjects and stimuli.
The user guide's chapter :ref:`comparing_models` explains each step.
"""

# %%
# The data: one RDM per subject
# -----------------------------
# The data hold eight hIT RDMs, two sessions of each of four subjects. The
# tests below treat the subjects as the random effect, so the two sessions of
# a subject are averaged into one RDM: four independent observations, not
# eight.

import matplotlib.pyplot as plt
import numpy as np

from skrep import WeightedRDMModel
from skrep.datasets import load_kriegeskorte92
from skrep.plotting import plot_model_comparison
from skrep.rdm import (
    bootstrap_comparisons,
    compare_rdms,
    condensed_to_square,
    crossvalidate_rdm_model,
    fit_rdm_weights,
    noise_ceiling,
    noise_ceiling_tests,
    pairwise_model_tests,
    rdm_model_folds,
    square_to_condensed,
    zero_tests,
)

data = load_kriegeskorte92(condensed=True)
print(data.brain_names[:2])
brain = data.brain_rdms.reshape(4, 2, -1).mean(axis=1)  # (4 subjects, 4186 pairs)
models = data.model_rdms
names = [str(name) for name in data.model_names]
n_subjects, n_stimuli = brain.shape[0], 92

# %%
# Fixed models, subjects as random
# --------------------------------
# Each model's Pearson correlation with each subject's RDM ("corr", as in
# rsatoolbox), and the noise ceiling: the lower bound compares each subject
# with the mean of the others, the upper bound with the mean of all.

evaluations = compare_rdms(models, brain, "corr")  # (8 models, 4 subjects)
ceiling = noise_ceiling(brain, "corr")
for name, row in zip(names, evaluations, strict=True):
    print(f"{name:>22}: {row.mean():.3f}")
print(f"noise ceiling: [{ceiling[0]:.3f}, {ceiling[1]:.3f}]")

# %%
# Three families of tests: is a model above zero (one-sided t-tests,
# Bonferroni-corrected), is it below the lower bound of the noise ceiling,
# and which pairs of models differ (two-sided paired t-tests, FDR-corrected
# over the 28 pairs). With four subjects each t-test has three degrees of
# freedom.

above_zero = zero_tests(evaluations)
below_ceiling = noise_ceiling_tests(evaluations, ceiling)
pairs = pairwise_model_tests(evaluations)
print("above zero:        ", [n for n, s in zip(names, above_zero.significant, strict=True) if s])
print(
    "below the ceiling: ", [n for n, s in zip(names, below_ceiling.significant, strict=True) if s]
)
print(f"pairs that differ (FDR, dof {pairs.dof}): {int(np.triu(pairs.significant).sum())} of 28")

fig = plot_model_comparison(
    evaluations, names, noise_ceiling=ceiling, title="subjects as random (t-tests, FDR)"
)

# %%
# Stimuli as random too: the dual bootstrap
# -----------------------------------------
# The t-tests generalise to new subjects, not to new images. rsatoolbox's
# dual bootstrap resamples both, and corrects the variance of the joint
# resamples with those of each factor alone (Schütt et al., 2023).
# ``bootstrap_comparisons`` draws the resamples (here 300, to stay quick;
# use 1,000 or more for a paper); the same tests take them, told what was
# resampled.

samples, ceilings = bootstrap_comparisons(
    models,
    brain,
    "corr",
    n_bootstrap=300,
    over="dual",
    return_noise_ceiling=True,
    random_state=0,
)
sizes = {"bootstrap": "dual", "n_subjects": n_subjects, "n_stimuli": n_stimuli}
dual_pairs = pairwise_model_tests(samples, **sizes)
dual_zero = zero_tests(samples, **sizes)
print(f"pairs that differ, dual bootstrap: {int(np.triu(dual_pairs.significant).sum())} of 28")
print(
    "above zero, dual bootstrap:",
    [n for n, s in zip(names, dual_zero.significant, strict=True) if s],
)

fig = plot_model_comparison(
    samples, names, noise_ceiling=ceilings, title="dual bootstrap (t-tests, FDR)", **sizes
)

# %%
# The standard errors now include the variation over images. A difference
# found with subjects alone as random may not survive: it could hold for these
# 92 images and not for others of the same kinds.

# %%
# A weighted model
# ----------------
# A non-negative combination of the eight model RDMs, its weights fitted to
# all subjects (rsatoolbox's ``fit_regress_nn`` for the "corr" comparison,
# returned with norm 1):

weights = fit_rdm_weights(models, brain, "corr")
for name, weight in sorted(zip(names, weights, strict=True), key=lambda item: -item[1]):
    print(f"{name:>22}: {weight:.3f}")

# %%
# Fitted on the data it is scored on, a weighted model beats its components by
# construction. Cross-validation fits the weights on two subjects and two
# thirds of the images, and scores the model RDM on the other subjects and
# images (rsatoolbox's ``sets_k_fold`` layout, 2 x 3 folds). The fixed models
# are scored on the same held-out subjects and images.

folds = rdm_model_folds(n_subjects, n_stimuli, k_subjects=2, k_stimuli=3, random_state=0)
weighted = crossvalidate_rdm_model(models, brain, folds, "corr")
square_models, square_brain = condensed_to_square(models), condensed_to_square(brain)


def held_out(rdms, stimuli):
    """Condensed RDMs of the given stimuli."""
    return square_to_condensed(rdms[:, stimuli][:, :, stimuli])


single = np.array(
    [
        compare_rdms(
            held_out(square_models, test), held_out(square_brain[subjects], test), "corr"
        ).mean(axis=1)
        for _, _, subjects, test in folds
    ]
).T  # (8 models, 6 folds)
best = int(single.mean(axis=1).argmax())
print(f"weighted model, held out: {weighted.mean():.3f} +- {weighted.std(ddof=1):.3f} (6 folds)")
print(f"best single model ({names[best]}), held out: {single[best].mean():.3f}")

# %%
# The same model as a scikit-learn estimator: ``fit`` on three subjects,
# ``score`` on the fourth.

model = WeightedRDMModel("corr").fit(models, brain[:3])
print(f"WeightedRDMModel, held-out subject: {model.score(models, brain[3:]):.3f}")

fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
order = np.argsort(-weights)
ax.bar(np.arange(8), weights[order], color="0.4")
ax.set_xticks(np.arange(8), [names[k] for k in order], rotation=30, ha="right")
ax.set_ylabel("weight (norm 1)")
ax.set_title("Non-negative weights of the model RDMs, fitted to hIT")

# %%
# The weights multiply the component RDMs as they are, so they depend on each
# component's scale: EVA's dissimilarities vary little (standard deviation
# 0.06, against 0.5 for the binary animacy RDM), so it needs a large weight
# to count. The model's merit is the cross-validated comparison above, not
# the weights: on held-out subjects and images the mix does better than the
# best single model in these folds, a difference that a test over more
# subjects (or over the folds) would have to confirm.
