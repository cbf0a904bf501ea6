"""
=====================================
Comparing models on the 92-image data
=====================================

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
# The data hold eight hIT RDMs. Their names say what they are: two sessions
# of each of four subjects (BE, KO, SN, TI), stored subject by subject. The
# tests below treat the subjects as the random effect, and two sessions of
# one person are not independent observations of the population, so the two
# sessions of each subject are averaged into one RDM: four data RDMs, not
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
sessions = np.asarray(data.brain_names).reshape(4, 2)  # (subject, session)
print(sessions)
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
#
# Three families of tests follow: is a model above zero (one-sided t-tests,
# Bonferroni-corrected over the 8 models), does it fall below the lower bound
# of the noise ceiling (one-sided, Bonferroni), and which pairs of models
# differ (two-sided paired t-tests, FDR-corrected over the 28 pairs). With
# four subjects each t-test has only three degrees of freedom.

evaluations = compare_rdms(models, brain, "corr")  # (8 models, 4 subjects)
ceiling = noise_ceiling(brain, "corr")
above_zero = zero_tests(evaluations)
below_ceiling = noise_ceiling_tests(evaluations, ceiling)
pairs = pairwise_model_tests(evaluations)


def print_table(zero, below):
    """Mean, standard error and corrected p-values of each model."""
    print(f"{'model':>22} {'mean':>6} {'SEM':>6} {'p > 0':>7} {'p < ceiling':>12}")
    for k, name in enumerate(names):
        print(
            f"{name:>22} {zero.mean[k]:6.3f} {zero.standard_error[k]:6.3f} "
            f"{zero.p_corrected[k]:7.3f} {below.p_corrected[k]:12.3f}"
        )
    print(f"{'noise ceiling':>22} [{below.noise_ceiling[0]:.3f}, {below.noise_ceiling[1]:.3f}]")


def print_pairs(result):
    """The pairs of models whose difference survives the correction."""
    rows, columns = np.nonzero(np.triu(result.significant, 1))
    print(f"{rows.size} of {result.n_tests} pairs differ (FDR; dof {result.dof}):")
    for i, j in zip(rows, columns, strict=True):
        print(
            f"  {names[i]} - {names[j]} = {result.difference[i, j]:.3f} "
            f"(p = {result.p_corrected[i, j]:.3f})"
        )
    print(f"  smallest corrected p: {result.p_corrected[np.triu_indices(len(names), 1)].min():.3f}")


print_table(above_zero, below_ceiling)
print_pairs(pairs)

fig = plot_model_comparison(
    evaluations, names, noise_ceiling=ceiling, title="subjects as random (t-tests, FDR)"
)

# %%
# Six of the eight models have uncorrected p-values below 0.05 against zero
# (``above_zero.p_values``), but with three degrees of freedom and a
# Bonferroni correction over eight models only monkey IT and the
# four-category model clear it. The four low-level models (HMAX, V1,
# silhouette, RADON) fall significantly short of the lower bound of the noise
# ceiling; animacy, the four-category model, monkey IT and EVA do not, which
# is not evidence that they reach it. The pairwise tests separate the three
# best models from V1 and RADON, and nothing else: with four subjects the
# order of the top models is not established.

# %%
# Stimuli as random too: the dual bootstrap
# -----------------------------------------
# The t-tests generalise to new subjects, not to new images. rsatoolbox's
# dual bootstrap resamples both, and corrects the variance of the joint
# resamples with those of each factor alone (Schütt et al., 2023).
# ``bootstrap_comparisons`` draws the resamples, and the noise ceiling of
# each (here 300, to stay quick; use 1,000 or more for a paper); the same
# tests take them, told what was resampled and how many subjects and stimuli
# there were.

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
dual_zero = zero_tests(samples, **sizes)
dual_below = noise_ceiling_tests(samples, ceilings, **sizes)
dual_pairs = pairwise_model_tests(samples, **sizes)
print_table(dual_zero, dual_below)
print_pairs(dual_pairs)
ratio = dual_zero.standard_error / above_zero.standard_error
print(f"standard errors, dual / subjects only: {ratio.min():.2f} to {ratio.max():.2f}")

fig = plot_model_comparison(
    samples, names, noise_ceiling=ceilings, title="dual bootstrap (t-tests, FDR)", **sizes
)

# %%
# The standard errors now include the variation over images, and grow by up
# to 40 %. Every conclusion of the fixed-effects tests weakens: monkey IT
# stays above zero after correction, with animacy and the four-category model
# at the threshold (corrected p near 0.05, on either side of it depending on
# the resampling seed); no model falls significantly short of the
# (resampled) noise ceiling, and none of the 28 differences survives the FDR
# correction, the closest being those of the top models with V1 and RADON.
# This does not show that the models are equivalent; it shows that four
# subjects and 92 images cannot tell whether the differences seen here would
# hold for other images of the same kinds.

# %%
# A weighted model
# ----------------
# A non-negative combination of the eight model RDMs, its weights fitted to
# all subjects (rsatoolbox's ``fit_regress_nn`` for the "corr" comparison,
# returned with norm 1):

weights = fit_rdm_weights(models, brain, "corr")
spread = models.std(axis=1)  # how much each component RDM varies
print(f"{'component':>22} {'weight':>7} {'RDM SD':>7}")
for k in np.argsort(-weights):
    print(f"{names[k]:>22} {weights[k]:7.3f} {spread[k]:7.3f}")

# %%
# Fitted on the data it is scored on, a weighted model beats its components by
# construction. Cross-validation fits the weights on two subjects and two
# thirds of the images, and scores the model RDM on the other subjects and
# images (rsatoolbox's ``sets_k_fold`` layout, 2 x 3 folds).
# :class:`~skrep.WeightedRDMModel` does the same inside each fold, with
# ``stimuli=`` selecting the images it is fitted and scored on. The fixed
# models are scored on the same held-out subjects and images.

folds = rdm_model_folds(n_subjects, n_stimuli, k_subjects=2, k_stimuli=3, random_state=0)
weighted, fold_weights = crossvalidate_rdm_model(models, brain, folds, "corr", return_weights=True)
estimator = np.array(
    [
        WeightedRDMModel("corr")
        .fit(models, brain[train_subjects], stimuli=train_stimuli)
        .score(models, brain[test_subjects], stimuli=test_stimuli)
        for train_subjects, train_stimuli, test_subjects, test_stimuli in folds
    ]
)
print(f"WeightedRDMModel in the same folds matches: {np.allclose(estimator, weighted)}")

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
gain = weighted - single[best]
print(f"weighted model, held out:    {weighted.mean():.3f} (folds {np.round(weighted, 3)})")
print(f"best single model ({names[best]}): {single[best].mean():.3f}")
print(f"weighted - best single: {gain.mean():.3f}, positive in {(gain > 0).sum()} of 6 folds")
low, high = fold_weights.min(axis=0), fold_weights.max(axis=0)
print(
    "weights over the folds:",
    ", ".join(f"{n} {a:.2f}-{b:.2f}" for n, a, b in zip(names, low, high, strict=True)),
)

fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
order = np.argsort(-weights)
ax.bar(np.arange(8), weights[order], color="0.4", label="all data")
for k, fold in enumerate(fold_weights):
    ax.plot(
        np.arange(8),
        fold[order],
        "o",
        color="tab:orange",
        ms=4,
        label="each fold" if k == 0 else None,
    )
ax.set_xticks(np.arange(8), [names[k] for k in order], rotation=30, ha="right")
ax.set_ylabel("weight (norm 1)")
ax.set_title("Non-negative weights of the model RDMs, fitted to hIT")
ax.legend()
plt.show()

# %%
# On held-out subjects and images the weighted model does better than the
# best single model (animacy, itself picked with the held-out data, which
# favours it) in five of the six folds. The six folds share subjects and images, so they
# are not independent replications, and these held-out scores, on a third of
# the images, are not on the scale of the noise ceiling above; a claim that
# the mix beats its best component needs more subjects (or a bootstrap of the
# cross-validation, as rsatoolbox's ``bootstrap_crossval``).
#
# The weights multiply the component RDMs as they are, so they depend on each
# component's scale: EVA's dissimilarities vary little (the "RDM SD" column:
# 0.06, against 0.5 for the binary animacy RDM), so it needs a large weight
# to count. They also change from fold to fold (RADON's from 0 to about 0.7,
# a component with the smallest spread of all): the model's merit is its
# cross-validated score, not its weights.
