"""
================================================================
Time-resolved RSA of MEG-like data: when does each model appear?
================================================================

In MEG and EEG, representational similarity analysis is done at every time
point: one RDM per time point and subject (an "RDM movie"), each compared with
the model RDMs, which gives a time course of model fit per model and subject.
Here we simulate sensor data in which a categorical model (animate versus
inanimate objects) is expressed from about 100 ms after stimulus onset and a
second model (the objects' real-world size) only from about 250 ms, and
recover both onsets:

- crossnobis RDMs (cross-validated Mahalanobis distances, unbiased: zero on
  average where the conditions do not differ) at every time point, each with
  the noise precision of its own time point
  (:func:`skrep.functional.noise.noise_precision_stack`), computed for all
  time points at once by :func:`skrep.rdm.compute_rdm`;
- the fit of each model over time (:func:`skrep.rdm.compare_rdms`);
- a one-sided t-test over subjects at every time point, with the false
  discovery rate controlled over time points (Benjamini-Hochberg,
  :func:`scipy.stats.false_discovery_control`).
"""

# %%
# Simulated sensor data
# ---------------------
# 12 objects (6 animate, 6 inanimate, with sizes that do not depend on
# animacy), each shown twice in each of 6 runs, recorded by 32 sensors from
# -100 to 500 ms at 100 Hz. Each subject has its own sensor topographies (a
# different head position), each object a small pattern of its own while
# the models are expressed, and spatially correlated sensor noise whose level
# drops 150 ms after stimulus onset (as alpha power does); the evoked response
# shared by all objects changes no distance. Epochs come as MNE gives them:
# (n_trials, n_sensors, n_times).

import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import false_discovery_control, ttest_1samp

from skrep.functional.noise import noise_precision_stack
from skrep.rdm import compare_rdms, compute_rdm

start = time.perf_counter()
rng = np.random.default_rng(0)
n_subjects, n_runs, n_sensors = 12, 6, 32
times = np.arange(-0.1, 0.501, 0.01)  # seconds
animate = np.repeat([1.0, 0.0], 6)
size = np.array([0.1, 0.5, 0.9, 0.3, 0.7, 1.0, 0.2, 0.6, 0.8, 0.0, 0.4, 0.95])
n_objects = animate.size
objects = np.tile(np.repeat(np.arange(n_objects), 2), n_runs)  # the object of each trial
runs = np.repeat(np.arange(n_runs), 2 * n_objects)  # the run of each trial


def time_course(onset, peak, width):
    """Zero before ``onset``, rising to 1 at ``peak``, then decaying slowly."""
    rise = np.clip((times - onset) / (peak - onset), 0.0, 1.0)
    return rise * np.exp(-np.clip(times - peak, 0.0, None) / width)


category_gain = 1.2 * time_course(0.10, 0.16, 0.20)
size_gain = 1.2 * time_course(0.25, 0.33, 0.30)
evoked = time_course(0.05, 0.10, 0.05)
noise_level = np.where(times < 0.15, 1.0, 0.6)


def simulate_subject(rng):
    """Epochs (n_trials, n_sensors, n_times) of one subject."""
    topographies = rng.standard_normal((3, n_sensors))  # of the evoked response, animacy, size
    idiosyncratic = 0.15 * rng.standard_normal((n_objects, n_sensors))
    patterns = (
        np.multiply.outer(np.ones(n_objects), topographies[0])[:, :, None] * evoked
        + np.multiply.outer(animate - 0.5, topographies[1])[:, :, None] * category_gain
        + np.multiply.outer(size - 0.5, topographies[2])[:, :, None] * size_gain
        + idiosyncratic[:, :, None] * np.maximum(category_gain, size_gain)
    )
    mixing = np.eye(n_sensors) + 0.5 * rng.standard_normal((n_sensors, n_sensors))
    noise = np.einsum(
        "st,ntu->nsu", mixing, rng.standard_normal((objects.size, n_sensors, times.size))
    )
    return patterns[objects] + 2.0 * noise * noise_level


epochs = [simulate_subject(rng) for _ in range(n_subjects)]
print(f"epochs of one subject: {epochs[0].shape} (trials, sensors, times)")

# %%
# One RDM per time point, each with its own noise precision
# ---------------------------------------------------------
# compute_rdm takes a stack of data sets with the stacked axis first, so the
# time axis goes first: (n_times, n_trials, n_sensors). Crossnobis compares
# the objects' mean patterns of each run with those of the other runs. The
# noise precision of each time point is estimated from the trials minus the
# mean of their object *in their run* (shrinkage towards the diagonal,
# rsatoolbox's default): those residuals are independent of the run means,
# so the distances stay unbiased.

models = np.stack(
    [
        np.abs(animate[:, None] - animate[None, :])[np.triu_indices(n_objects, 1)],
        np.abs(size[:, None] - size[None, :])[np.triu_indices(n_objects, 1)],
    ]
)
model_names = ["animacy (categorical)", "real-world size"]

rdms, rdms_identity, rdms_pooled = [], [], []
for subject_epochs in epochs:
    X = np.moveaxis(subject_epochs, -1, 0)  # (n_times, n_trials, n_sensors)
    precisions = noise_precision_stack(X, conditions=objects, runs=runs)  # (n_times, 32, 32)
    rdms.append(compute_rdm(X, "crossnobis", conditions=objects, runs=runs, precision=precisions))
    # For comparison below: no precision, and precisions from residuals about
    # the objects' means over all runs.
    rdms_identity.append(compute_rdm(X, "crossnobis", conditions=objects, runs=runs))
    pooled = noise_precision_stack(X, conditions=objects)
    rdms_pooled.append(
        compute_rdm(X, "crossnobis", conditions=objects, runs=runs, precision=pooled)
    )
rdms = np.stack(rdms)  # (n_subjects, n_times, n_pairs)
print(f"RDMs: {rdms.shape} (subjects, time points, pairs of objects)")

# %%
# Model fits over time, and where they are significant
# ----------------------------------------------------
# The fit is the whitened Pearson correlation ("corr_cov"): it allows for the
# dependence between distances that share an object, and ignores what all
# distances have in common (here the objects' idiosyncratic differences, which
# a cosine similarity would count as fit for every model). At each time point a
# one-sided t-test over subjects asks whether the mean fit is above zero; the
# p-values of all time points are corrected together (false discovery rate
# 5 %).


def model_fits(rdms):
    """(n_models, n_subjects, n_times) fits of the model RDMs."""
    flat = compare_rdms(models, rdms.reshape(-1, rdms.shape[-1]), method="corr_cov")
    return flat.reshape(len(models), *rdms.shape[:2])


fits = model_fits(rdms)
p_values = ttest_1samp(fits, 0.0, axis=1, alternative="greater").pvalue  # (n_models, n_times)
significant = np.stack([false_discovery_control(p) < 0.05 for p in p_values])
for name, sig in zip(model_names, significant, strict=True):
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sig.astype(int), [0]])))
    spans = [
        f"{1000 * times[a]:.0f} to {1000 * times[b - 1]:.0f} ms" for a, b in edges.reshape(-1, 2)
    ]
    print(f"{name}: significant from {', '.join(spans)}")

# %%
# Noise normalisation makes the test more sensitive: the peak t-values without
# the precisions (crossnobis with the identity) are lower. And the residuals
# matter: residuals about the objects' means pooled over runs contain the
# run-to-run differences that crossnobis measures, and their precisions bias
# the distances upward, so that they are positive even before stimulus onset
# (a t-test over subjects of the mean distance before 0 ms).

fits_identity = model_fits(np.stack(rdms_identity))
for k, name in enumerate(model_names):
    t_with = ttest_1samp(fits[k], 0.0, axis=0).statistic.max()
    t_without = ttest_1samp(fits_identity[k], 0.0, axis=0).statistic.max()
    print(f"{name}: peak t = {t_with:.1f} with the precisions, {t_without:.1f} without")
baseline = times < 0
for label, movie in (("within runs", rdms), ("about pooled means", np.stack(rdms_pooled))):
    before = movie[:, baseline].mean(axis=(1, 2))  # one mean distance per subject
    print(f"residuals {label}: distances before onset t = {ttest_1samp(before, 0.0).statistic:.1f}")

# %%
# The time courses
# ----------------
# Mean fit over subjects with its standard error, and under the curves a bar
# where the fit is significant. The dotted lines mark the simulated onsets.
# Each model is found from shortly after its onset (as its signal rises above
# the noise) until the signal fades, where the bars break up. Controlling the
# false discovery rate allows a few false time points among the discoveries
# (about 5 % of them on average), so an isolated bar alone means little.
# While animacy dominates, the size model's fit dips below zero: the two
# model RDMs are slightly anticorrelated (r = -0.11).

fig, ax = plt.subplots(figsize=(7, 4))
colors = ["tab:blue", "tab:orange"]
ms = 1000 * times
means = fits.mean(axis=1)
sems = fits.std(axis=1, ddof=1) / np.sqrt(n_subjects)
bottom = (means - sems).min()
for k, (name, color) in enumerate(zip(model_names, colors, strict=True)):
    ax.plot(ms, means[k], color=color, label=name)
    ax.fill_between(ms, means[k] - sems[k], means[k] + sems[k], color=color, alpha=0.3, lw=0)
    level = bottom - 0.05 * (k + 1)
    ax.fill_between(ms, level - 0.012, level + 0.012, where=significant[k], step="mid", color=color)
for onset in (100, 250):
    ax.axvline(onset, color="gray", linestyle=":", linewidth=1)
ax.axhline(0.0, color="black", linewidth=0.8)
ax.axvline(0.0, color="black", linewidth=0.8)
ax.set_xlabel("time after stimulus onset (ms)")
ax.set_ylabel("model fit (whitened Pearson r)")
ax.set_title("Model fits over time (bars: p < 0.05, FDR over time points)")
ax.legend(loc="upper left")
fig.tight_layout()
print(f"ran in {time.perf_counter() - start:.1f} s")
plt.show()
