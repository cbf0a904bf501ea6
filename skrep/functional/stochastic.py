"""Stochastic shape metrics: distances between noisy responses (Duong et al., ICLR 2023).

Each network gives, for every stimulus class ``i``, a distribution of
responses. Both metrics align the second network to the first with one
transform ``T`` from a group (rotations ``"orth"``, permutations ``"perm"`` or
nothing ``"identity"``) shared by all classes:

- **Gaussian** (:func:`fit_gaussian_alignment`): the responses to class ``i``
  are summarised by a mean ``m_i`` and covariance ``S_i``; the squared distance
  is ``mean_i[alpha |mX_i - mY_i T|^2 + (2 - alpha) Bures^2(SX_i, T' SY_i T)]``.
  ``alpha = 1`` is the 2-Wasserstein distance between the Gaussians, ``alpha = 2``
  compares means only, ``alpha = 0`` covariances only.
- **Energy** (:func:`fit_energy_alignment`): the energy distance between the
  empirical response distributions, ``E|x - yT| - (E|x - x'| + E|y - y'|) / 2``
  averaged over classes, with netrep's estimator (within-network expectations
  over distinct pairs of repeats).

The Gaussian fit minimises exactly the scored objective (minorise-maximise
steps, then trust-region Newton for rotations); everything is batched over
classes and written against the array API, so torch tensors compute on their
device.

This module gathers the public names of four modules, where the math and
its explanation live: ``skrep.functional.class_moments`` (class means and
covariances of repeated responses), ``skrep.functional.gaussian_stochastic``
(Gaussian statistics, distances and fit), ``skrep.functional.energy_stochastic``
(energy distance and fit) and ``skrep.functional.group_alignment`` (the
alignment groups, the input checks and the rescaling both share).
"""

from __future__ import annotations

from .energy_stochastic import (
    EnergyAlignment,
    energy_cross_distances,
    energy_distance,
    energy_within_mean,
    fit_energy_alignment,
    fit_energy_alignments,
)
from .gaussian_stochastic import (
    GaussianAlignment,
    GaussianStatistics,
    class_statistics,
    fit_gaussian_alignment,
    fit_gaussian_alignments,
    gaussian_sq_distances,
    gaussian_statistics,
    sq_bures_distances,
)
from .group_alignment import GROUPS as GROUPS
from .group_alignment import align_to_group
from .group_alignment import check_group as check_group

__all__ = [
    "GaussianStatistics",
    "class_statistics",
    "gaussian_statistics",
    "sq_bures_distances",
    "gaussian_sq_distances",
    "GaussianAlignment",
    "fit_gaussian_alignment",
    "fit_gaussian_alignments",
    "align_to_group",
    "energy_cross_distances",
    "energy_within_mean",
    "energy_distance",
    "EnergyAlignment",
    "fit_energy_alignment",
    "fit_energy_alignments",
]
