"""
===================================================
Training a network to match a target representation
===================================================

Similarity measures are not only read off trained networks; they can train
them. For torch tensors, :func:`skrep.functional.linear_cka` returns a tensor
that carries gradients, and :mod:`skrep.losses` wraps the measures as
``torch.nn.Module`` losses. Here a small student network learns to reproduce
the representation of a fixed teacher layer, once with
:class:`~skrep.losses.CKALoss` (``1 - CKA``) and once with
:class:`~skrep.losses.ShapeMetricLoss` (the angular Procrustes distance), and
we follow both measures on held-out stimuli during training.
"""

# %%
# A teacher and a student
# -----------------------
# The teacher is a fixed random two-layer network on 10-dimensional inputs;
# its 12-unit hidden layer is the target representation. The student has its
# own architecture (20 hidden units, then 6 output units): it can only match
# the teacher's representation up to what CKA and the shape metric ignore
# (rotations and scale).

import matplotlib.pyplot as plt
import torch

from skrep.functional import linear_cka
from skrep.losses import CKALoss, ShapeMetricLoss
from skrep.metrics import LinearMetric

torch.manual_seed(0)
inputs = torch.randn(512, 10, dtype=torch.float64)
held_out = torch.randn(256, 10, dtype=torch.float64)
teacher = torch.nn.Sequential(
    torch.nn.Linear(10, 12), torch.nn.Tanh(), torch.nn.Linear(12, 12), torch.nn.Tanh()
).double()
for parameter in teacher.parameters():
    parameter.requires_grad_(False)
target, target_held_out = teacher(inputs), teacher(held_out)


def make_student():
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(10, 20), torch.nn.ReLU(), torch.nn.Linear(20, 6)
    ).double()


# %%
# Training with each loss
# -----------------------
# Mini-batches of 64 stimuli; after every 10 steps, linear CKA and the
# angular shape distance between the student's and the teacher's responses
# to the held-out stimuli.


def train(loss_fn, steps=300):
    student = make_student()
    optimiser = torch.optim.Adam(student.parameters(), lr=0.01)
    history = []
    for step in range(steps):
        batch = torch.randint(0, len(inputs), (64,))
        optimiser.zero_grad()
        loss = loss_fn(student(inputs[batch]), target[batch])
        loss.backward()
        optimiser.step()
        if step % 10 == 0:
            with torch.no_grad():
                response = student(held_out)
            history.append(
                (
                    step,
                    float(linear_cka(response, target_held_out)),
                    LinearMetric()
                    .fit(response, target_held_out)
                    .distance(response, target_held_out),
                )
            )
    return history


runs = {"CKALoss": train(CKALoss()), "ShapeMetricLoss": train(ShapeMetricLoss())}
for name, history in runs.items():
    print(
        f"{name}: held-out CKA {history[0][1]:.3f} -> {history[-1][1]:.3f}, "
        f"shape distance {history[0][2]:.3f} -> {history[-1][2]:.3f}"
    )

# %%
# The measures over training
# --------------------------
# Both losses raise CKA and lower the shape distance on stimuli the student
# never trained on, and both bring CKA close to 1. The shape distance stays
# further from 0: it counts every dimension the two representations share,
# weighted by its singular value, where CKA squares the alignment of the
# leading principal components and is satisfied by those (see the user
# guide's section on the normalised Bures similarity). Training on the shape
# metric itself lowers it further.

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
for name, history in runs.items():
    steps, cka_values, distances = zip(*history, strict=True)
    axes[0].plot(steps, cka_values, label=name)
    axes[1].plot(steps, distances, label=name)
axes[0].set(xlabel="training step", ylabel="held-out linear CKA", title="CKA (higher is closer)")
axes[1].set(
    xlabel="training step",
    ylabel="held-out angular distance",
    title="Shape metric (lower is closer)",
)
axes[0].legend()
plt.show()
