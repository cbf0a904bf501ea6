"""The model during an extraction: eval mode and device for the call, hooks on its layers.

Both are context managers so that whatever happens in a batch (an error in
the model, in a hook, a keyboard interrupt), every hook is removed, every
module gets back its own train/eval flag and the model goes back to its device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["model_device", "prepared_model", "LayerRecorder"]


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter (or buffer); the CPU if it has none.

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    torch.device
        Its device.
    """
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def prepared_model(model: torch.nn.Module, device: torch.device) -> Iterator[torch.nn.Module]:
    """The model in eval mode on ``device``; afterwards, its own modes and device.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    device : torch.device
        Where to run it.

    Yields
    ------
    torch.nn.Module
        The same model object, in eval mode on ``device``.
    """
    modes = [(module, module.training) for module in model.modules()]
    home = model_device(model)
    moved = home != device
    try:
        if moved:
            model.to(device)
        model.eval()
        yield model
    finally:
        for module, training in modes:
            module.training = training
        if moved:
            model.to(home)


class LayerRecorder:
    """Forward hooks that turn each selected module's output into features and store them.

    Each hook reduces its module's output to a feature matrix, checks it and
    hands it to ``sink`` at once, so no output outlives its hook (the model
    can reuse its buffers, and a layer is never held twice).

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    layers : list of str
        The modules to record, in order.
    features : callable
        ``features(layer, output, attention_mask, n_rows)`` -> numpy array
        (n_rows, n_features).
    sink : callable
        ``sink(layer, first_row, values)`` stores a checked batch of a layer.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        layers: list[str],
        features: Callable[[str, Any, Any, int], np.ndarray],
        sink: Callable[[str, int, np.ndarray], None],
    ) -> None:
        self.model, self.layers, self.features, self.sink = model, layers, features, sink
        self.handles: list[Any] = []
        self.fired: set[str] = set()
        self.widths: dict[str, int] = {}
        self.mask: Any = None
        self.rows = self.first_row = 0

    def __enter__(self) -> LayerRecorder:
        """Register one forward hook per layer.

        Returns
        -------
        LayerRecorder
            Itself.
        """
        modules = dict(self.model.named_modules())
        try:
            for layer in self.layers:
                self.handles.append(modules[layer].register_forward_hook(self._hook(layer)))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Remove every hook this recorder added."""
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def _hook(self, layer: str) -> Callable[..., None]:
        def record(module: Any, inputs: Any, output: Any) -> None:
            values = self.features(layer, output, self.mask, self.rows)
            self._check(layer, values)
            self.sink(layer, self.first_row, values)
            self.fired.add(layer)

        return record

    def _check(self, layer: str, values: np.ndarray) -> None:
        last_row = self.first_row + self.rows - 1
        width = self.widths.setdefault(layer, values.shape[1])
        if width != values.shape[1]:
            raise ValueError(
                f"layer {layer!r} gave {width} features per stimulus on the first batch and "
                f"{values.shape[1]} at stimuli {self.first_row}..{last_row}; pass pool= to "
                "reduce axes whose length varies (e.g. tokens)."
            )
        finite = np.isfinite(values).all(axis=1)
        if not finite.all():
            bad = (self.first_row + np.flatnonzero(~finite)).tolist()
            raise ValueError(
                f"layer {layer!r} gave non-finite activations (NaN or inf) for stimuli "
                f"{bad[:10]}{' ...' if len(bad) > 10 else ''}; check the inputs, the "
                "transform and the model's weights."
            )

    def start_batch(self, inputs: Any, rows: int, first_row: int) -> None:
        """Prepare for the forward pass of one batch.

        Parameters
        ----------
        inputs : tensor or dict
            The model's input (a dict's ``attention_mask`` guides token pooling).
        rows : int
            Stimuli in the batch.
        first_row : int
            The batch's first stimulus.
        """
        self.fired = set()
        self.rows, self.first_row = rows, first_row
        self.mask = inputs.get("attention_mask") if isinstance(inputs, Mapping) else None

    def finish_batch(self) -> None:
        """Check that every layer ran in the batch's forward pass."""
        for layer in self.layers:
            if layer not in self.fired:
                raise ValueError(
                    f"layer {layer!r} did not run in the forward pass of stimuli "
                    f"{self.first_row}..{self.first_row + self.rows - 1}: the model's forward "
                    "never calls it; choose layers that run (see model.named_modules())."
                )
