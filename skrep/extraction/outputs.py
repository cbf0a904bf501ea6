"""From a module's output to one row of features per stimulus: select, then pool.

A module may return a tensor, or a tuple, list, dict or dataclass of them
(transformer blocks, Hugging Face style outputs): :func:`select_tensor` takes
the first tensor (depth first) or what the user's ``select`` returns.
:func:`pool_activation` then reduces every axis except the stimulus and channel
axes (or flattens them), respecting a batch's ``attention_mask`` on token axes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["select_tensor", "padded_tensor", "default_channel_axis", "pool_activation", "POOLS"]

#: The named pooling methods.
POOLS = ("mean", "max", "first", "last")


class NotPerStimulusError(ValueError):
    """A layer's output has no row per stimulus (its first axis is not the batch)."""


def _first_tensor(output: Any) -> torch.Tensor | None:
    import torch

    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Mapping):
        parts = list(output.values())
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        parts = [getattr(output, field.name) for field in dataclasses.fields(output)]
    elif isinstance(output, (tuple, list)):
        parts = list(output)
    else:
        return None
    for part in parts:
        found = _first_tensor(part)
        if found is not None:
            return found
    return None


def select_tensor(output: Any, select: Callable[[Any], Any] | None, layer: str) -> torch.Tensor:
    """The tensor to record from a module's output.

    Parameters
    ----------
    output : object
        What the module returned.
    select : callable or None
        ``select(output)`` returns the tensor; None takes the first tensor,
        depth first, of a tensor, tuple, list, dict or dataclass.
    layer : str
        The module's name, for error messages.

    Returns
    -------
    torch.Tensor
        The activation, stimuli along the first axis.
    """
    import torch

    tensor = select(output) if select is not None else _first_tensor(output)
    if not isinstance(tensor, torch.Tensor):
        what = "select(output) returned" if select is not None else "the output holds no tensor:"
        raise TypeError(
            f"layer {layer!r}: {what} {type(tensor if select is not None else output).__name__}; "
            "expected a tensor. Pass select= to pick the tensor from the module's output."
        )
    return tensor


def padded_tensor(tensor: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """A nested tensor as a padded one (zeros after each sequence's real tokens).

    In eval mode without gradients, :class:`torch.nn.TransformerEncoder` given a
    ``src_key_padding_mask`` runs its layers on nested tensors (one sequence of
    real tokens per stimulus), so hooks on its layers see those.

    Parameters
    ----------
    tensor : torch.Tensor
        An activation, nested or not (returned as it is).
    attention_mask : torch.Tensor of shape (n_stimuli, n_tokens), optional
        The batch's mask: a nested ``(N, T_i, D)`` activation is padded to
        ``n_tokens`` tokens, so that the mask lines up with it.

    Returns
    -------
    torch.Tensor
        A strided tensor.
    """
    import torch

    if not getattr(tensor, "is_nested", False):
        return tensor
    padded = torch.nested.to_padded_tensor(tensor, 0.0)
    if (
        attention_mask is not None
        and padded.ndim == 3
        and attention_mask.ndim == 2
        and attention_mask.shape[0] == padded.shape[0]
        and padded.shape[1] < attention_mask.shape[1]
    ):
        missing = attention_mask.shape[1] - padded.shape[1]
        padded = torch.nn.functional.pad(padded, (0, 0, 0, missing))
    return padded


def default_channel_axis(ndim: int, module: Any) -> int | None:
    """The channel axis assumed for an output of ``ndim`` axes from ``module``.

    Parameters
    ----------
    ndim : int
        Number of axes of the activation, the stimulus axis included.
    module : torch.nn.Module
        The module that produced it.

    Returns
    -------
    int or None
        1 for 4-D and 5-D outputs (PyTorch's ``(N, C, H, W)`` and
        ``(N, C, D, H, W)`` layouts) and for 3-D outputs of 1-D convolution,
        pooling and normalisation modules (class names ending in ``1d``:
        ``(N, C, L)``); -1 for other 3-D outputs (sequences ``(N, T, D)``);
        None for outputs of at most 2 axes (nothing to pool).
    """
    if ndim >= 4:
        return 1
    if ndim == 3:
        return 1 if type(module).__name__.endswith("1d") else -1
    return None


def _token_mask(mask: torch.Tensor | None, activation: torch.Tensor, axes: tuple[int, ...]) -> Any:
    """The attention mask, shaped to broadcast over the activation, when it applies."""
    if mask is None or axes != (1,) or activation.ndim != 3:
        return None
    if tuple(mask.shape) != tuple(activation.shape[:2]):
        return None
    return mask.to(device=activation.device, dtype=bool).unsqueeze(-1)


def _pick_token(activation: torch.Tensor, mask: Any, pool: str, layer: str) -> torch.Tensor:
    import torch

    n_tokens = activation.shape[1]
    if mask is None:
        index = torch.full((activation.shape[0],), 0 if pool == "first" else n_tokens - 1)
    else:
        real = mask.squeeze(-1)
        if not bool(real.any(dim=1).all()):
            raise ValueError(
                f"layer {layer!r}: a stimulus has no real token in its attention_mask "
                "(all zeros), so it has no first or last token."
            )
        positions = torch.arange(n_tokens, device=real.device).expand_as(real)
        if pool == "first":
            index = torch.where(real, positions, n_tokens).amin(dim=1)
        else:
            index = torch.where(real, positions, -1).amax(dim=1)
    rows = torch.arange(activation.shape[0], device=activation.device)
    return activation[rows, index.to(activation.device)]


def pool_activation(
    activation: torch.Tensor,
    pool: str | Callable[..., Any] | None,
    channel_axis: int | None,
    module: Any,
    layer: str,
    attention_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reduce one layer's activation to a matrix (n_stimuli, n_features).

    Parameters
    ----------
    activation : torch.Tensor
        The activation, stimuli along the first axis.
    pool : {None, "mean", "max", "first", "last"} or callable
        None flattens every axis after the first. Otherwise every axis except
        the stimulus and channel axes is reduced: by its mean or maximum, by
        its first or last position (one pooled axis only: tokens), or by
        ``pool(activation, dims)``, a reduction such as :func:`torch.amax` or
        :func:`torch.std` called with the tuple of axes to reduce, which must
        return an (n_stimuli, n_channels) tensor.
    channel_axis : int or None
        The axis kept by pooling; None uses :func:`default_channel_axis`.
    module : torch.nn.Module
        The module that produced the activation.
    layer : str
        Its name, for error messages.
    attention_mask : torch.Tensor of shape (n_stimuli, n_tokens), optional
        For sequence outputs ``(N, T, D)`` pooled over tokens: only the tokens
        where the mask is nonzero count (mean, max, first and last real token).

    Returns
    -------
    torch.Tensor of shape (n_stimuli, n_features)
        The features.
    """
    n = activation.shape[0]
    if activation.ndim == 1:
        return activation.reshape(n, 1)
    if pool is None:
        return activation.reshape(n, -1)
    axis = default_channel_axis(activation.ndim, module) if channel_axis is None else channel_axis
    if activation.ndim == 2:
        return activation
    if not -activation.ndim < axis < activation.ndim or axis % activation.ndim == 0:
        raise ValueError(
            f"channel_axis={channel_axis} does not name a feature axis of layer {layer!r}, "
            f"whose output has shape {tuple(activation.shape)}; expected an axis in "
            f"1..{activation.ndim - 1} or -{activation.ndim - 1}..-1 (axis 0 holds the stimuli)."
        )
    axis %= activation.ndim
    dims = tuple(d for d in range(1, activation.ndim) if d != axis)
    if axis != activation.ndim - 1 and pool in ("first", "last"):
        activation = activation.movedim(axis, -1)
        dims = tuple(range(1, activation.ndim - 1))
    mask = _token_mask(attention_mask, activation, dims)
    if callable(pool):
        pooled = pool(activation, dims)
        expected = (n, activation.shape[axis])
        if tuple(getattr(pooled, "shape", ())) != expected:
            raise ValueError(
                f"pool returned shape {tuple(getattr(pooled, 'shape', ()))} for layer {layer!r}; "
                f"expected {expected} (stimuli, channels) after reducing axes {dims}."
            )
        return pooled
    if pool == "mean":
        if mask is None:
            return activation.mean(dim=dims)
        weights = mask.to(activation.dtype)
        counts = weights.sum(dim=1)
        if not bool((counts > 0).all()):
            raise ValueError(
                f"layer {layer!r}: a stimulus has no real token in its attention_mask (all "
                "zeros), so it has no mean over real tokens."
            )
        return (activation * weights).sum(dim=1) / counts
    if pool == "max":
        if mask is not None:
            activation = activation.masked_fill(~mask, float("-inf"))
        return activation.amax(dim=dims)
    if len(dims) != 1:
        raise ValueError(
            f"pool={pool!r} takes one position along one axis (tokens), but layer {layer!r} "
            f"has output shape {tuple(activation.shape)} with {len(dims)} axes to pool; use "
            "'mean' or 'max'."
        )
    return _pick_token(activation, mask, pool, layer)
