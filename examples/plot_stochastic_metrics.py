"""
=====================================================
Noisy responses: what the stochastic metrics can see
=====================================================

A neuron, or a network with noise, responds differently each time the same
stimulus is shown. Two systems can have the same average responses and still
differ in their *trial-to-trial variability*: how large it is, whether units
fluctuate together, what shape the distribution of responses has. A shape
metric on the trial averages cannot see any of that. The stochastic shape
metrics of Duong et al. (ICLR 2023) compare the distributions of responses to
each stimulus instead:

- :class:`~skrep.metrics.GaussianStochasticMetric` compares the mean and covariance of
  each stimulus's responses (with ``alpha=1``, the 2-Wasserstein distance
  between Gaussians); ``alpha`` weighs means against covariances;
- :class:`~skrep.metrics.EnergyStochasticMetric` compares the distributions
  themselves (the energy distance), with no Gaussian assumption.

Here we give a trained network's responses three kinds of trial noise with
the same means and the same variance in every unit, and see which metric
tells them apart.
"""

# %%
# Mean responses of a trained network
# -----------------------------------
# A multilayer perceptron with two hidden layers of 16 ReLU units is trained
# on scikit-learn's handwritten digits
# (:func:`~skrep.datasets.load_digits_networks`). The stimuli are 20 held-out
# images, two of each digit; the noise-free responses of the second hidden
# layer are the mean responses of every system below.

import matplotlib.pyplot as plt
import numpy as np

from skrep import EnergyStochasticMetric, GaussianStochasticMetric, LinearMetric
from skrep.datasets import load_digits_networks

data = load_digits_networks(n_networks=1, hidden_layer_sizes=(16, 16), max_iter=200)
stimuli = np.concatenate([np.flatnonzero(data.target == digit)[:2] for digit in range(10)])
means = data.layers[0][1][stimuli]  # (20 stimuli, 16 units)
n_stimuli, n_units = means.shape
print(f"held-out accuracy: {data.accuracy[0]:.3f}; mean responses: {means.shape}")

# %%
# Three kinds of trial noise
# --------------------------
# Each system responds to each stimulus on 100 trials, so its responses form
# an array of shape (n_stimuli, n_repeats, n_units): the input of the
# stochastic metrics. In all three systems unit ``i`` has, on every trial,
# variance ``mean_i + 0.1`` (Poisson-like: a unit that responds more
# fluctuates more) around the same mean:
#
# - **independent**: each unit fluctuates on its own (Gaussian);
# - **correlated**: a shared Gaussian fluctuation correlates every pair of
#   units at 0.8 (noise correlations);
# - **two-state**: the shared fluctuation is +1 or -1 with equal odds (the
#   whole population switches between two states), so the means, variances
#   and correlations are those of the correlated system, but each unit's
#   responses are bimodal.

n_repeats, correlation = 100, 0.8
spread = np.sqrt(means + 0.1)[:, None, :]  # (n_stimuli, 1, n_units)


def noisy_responses(kind, rng):
    """Trials of one system: (n_stimuli, n_repeats, n_units)."""
    private = rng.standard_normal((n_stimuli, n_repeats, n_units))
    if kind == "independent":
        noise = private
    else:
        shape = (n_stimuli, n_repeats, 1)
        if kind == "correlated":
            shared = rng.standard_normal(shape)
        else:  # "two-state"
            shared = rng.choice([-1.0, 1.0], size=shape)
        noise = np.sqrt(correlation) * shared + np.sqrt(1 - correlation) * private
    return means[:, None, :] + spread * noise


rng = np.random.default_rng(0)
example = {kind: noisy_responses(kind, rng) for kind in ("independent", "correlated", "two-state")}
for kind, responses in example.items():
    unit_variance = responses.var(axis=1, ddof=1).mean()
    off_diagonal = ~np.eye(n_units, dtype=bool)
    noise_correlation = np.mean(
        [np.corrcoef(trials, rowvar=False)[off_diagonal].mean() for trials in responses]
    )
    print(
        f"{kind:>11}: mean unit variance {unit_variance:.2f}, "
        f"mean noise correlation {noise_correlation:.2f}"
    )

# %%
# The three systems' responses to one stimulus, on its two most active units:

best = np.argsort(means[0])[-2:]
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), sharex=True, sharey=True, layout="constrained")
for ax, (kind, responses) in zip(axes, example.items(), strict=True):
    ax.scatter(*responses[0][:, best].T, s=8, alpha=0.6)
    ax.plot(*means[0, best], marker="+", color="black", markersize=14)
    ax.set_title(kind)
    ax.set_xlabel(f"unit {best[0]}")
axes[0].set_ylabel(f"unit {best[1]}")
fig.suptitle("100 trials of one stimulus (+: the mean response)")

# %%
# Which metric tells them apart?
# ------------------------------
# A distance between two finite samples is never exactly zero, even between
# two sets of trials of the *same* system. So each comparison comes with its
# floor: the distance between two independent sets of trials of one system.
# A metric sees a difference between systems only where their distance
# stands clear of that floor. Every value is the mean (and standard deviation)
# over 5 draws of the trials.
#
# The deterministic metric is :class:`~skrep.metrics.LinearMetric`
# (Procrustes, angular distance) between the trial-averaged responses, shape
# (20, 16). Both stochastic metrics align the systems with one rotation (or
# reflection) shared by all stimuli before comparing their distributions, as
# the shape metrics do with the responses.

pairs = {
    "independent vs independent (floor)": ("independent", "independent"),
    "independent vs correlated": ("independent", "correlated"),
    "correlated vs correlated (floor)": ("correlated", "correlated"),
    "correlated vs two-state": ("correlated", "two-state"),
}


def distances(X, Y):
    """The three distances between two systems' trials."""
    X_avg, Y_avg = X.mean(axis=1), Y.mean(axis=1)
    return (
        LinearMetric(alpha=1.0).fit(X_avg, Y_avg).distance(X_avg, Y_avg),
        GaussianStochasticMetric(alpha=1.0).fit(X, Y).distance(X, Y),
        EnergyStochasticMetric().fit(X, Y).distance(X, Y),
    )


n_draws = 5
trials = []  # one dict per draw: pair name -> (X, Y)
for seed in range(n_draws):
    rng = np.random.default_rng(seed)
    trials.append(
        {name: (noisy_responses(a, rng), noisy_responses(b, rng)) for name, (a, b) in pairs.items()}
    )
table = np.array(
    [[distances(X, Y) for X, Y in draw.values()] for draw in trials]
)  # (n_draws, n_pairs, 3 metrics)
mean, sd = table.mean(axis=0), table.std(axis=0)
print(f"{'':36}{'trial averages':>16}{'Gaussian':>16}{'energy':>16}")
for row, name in enumerate(pairs):
    cells = "".join(f"{mean[row, k]:9.3f} ± {sd[row, k]:.3f}" for k in range(3))
    print(f"{name:36}{cells}")

# %%
# - The distance between trial averages is about the same for every pair,
#   floors included: the three systems have the same mean responses, and
#   averaging removes what distinguishes them.
# - The Gaussian metric separates independent from correlated noise (far
#   above both floors), but not the two-state system from the correlated one:
#   they have the same means and covariances, which is all it looks at.
# - The energy distance separates both, since it compares the whole
#   distributions; between two sets of trials of one system it is zero or
#   small (a negative estimate is reported as zero).
#
# The alignment cannot hide the difference in noise: a rotation keeps the
# variances along the principal axes of the noise, and correlated noise has
# one much larger than the others (the shared fluctuation), independent noise
# has none.

# %%
# alpha: means against covariances
# --------------------------------
# The Gaussian metric's squared distance is ``alpha`` times the squared
# distance between the aligned means plus ``2 - alpha`` times the squared
# Bures distance between the covariances, averaged over stimuli. ``alpha=2``
# compares the means only (a Procrustes distance between the trial averages),
# ``alpha=0`` the covariances only.

alphas = np.linspace(0, 2, 9)
compared = list(pairs)[:2]  # the floor, and independent vs correlated noise
sweep = {
    name: np.mean(
        [
            [
                GaussianStochasticMetric(alpha=a).fit(*draw[name]).distance(*draw[name])
                for a in alphas
            ]
            for draw in trials
        ],
        axis=0,
    )
    for name in compared
}
floor, different = sweep.values()
for alpha, d_floor, d_diff in zip(alphas, floor, different, strict=True):
    print(
        f"alpha={alpha:4.2f}: floor {d_floor:.3f}, independent vs correlated {d_diff:.3f} "
        f"(ratio {d_diff / d_floor:.2f})"
    )

fig, ax = plt.subplots(figsize=(6, 4))
for name, values in sweep.items():
    ax.plot(alphas, values, marker="o", label=name)
ax.set_xlabel("alpha  (0: covariances only, 2: means only)")
ax.set_ylabel("Gaussian stochastic distance")
ax.set_ylim(bottom=0)
ax.legend()
ax.set_title("The weight of the means, alpha")
fig.tight_layout()

# %%
# At ``alpha=2`` the two pairs are at the same distance, as the trial averages
# were: the means do not differ. As ``alpha`` falls, the covariances count
# more and the distance between independent and correlated noise grows faster
# than the floor: from about 1 times the floor at ``alpha=2`` to about 3 times
# it at ``alpha=1`` and below. The floor does not vanish at ``alpha=0``: 100
# trials estimate the covariances of 16 units only approximately. Choose
# ``alpha`` for the question: ``alpha=2`` if only the mean responses matter,
# ``alpha=1`` for the full Gaussian picture (the 2-Wasserstein distance),
# small ``alpha`` to compare the noise itself, and
# :class:`~skrep.metrics.EnergyStochasticMetric` when the shape of the
# distributions matters too. With fewer trials than units, shrink the
# covariance estimates with ``covariance_estimator=LedoitWolf()`` (from
# :mod:`sklearn.covariance`).
plt.show()
