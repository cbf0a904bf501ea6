"""The model during an extraction: eval mode and device for the call, hooks on its layers.

Both are context managers so that whatever happens in a batch (an error in
the model, in a hook, a keyboard interrupt), every hook is removed, every
module gets back its own train/eval flag and the model goes back to its device.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from .._parameters import check_device
from .outputs import NotPerStimulusError

if TYPE_CHECKING:
    import torch

__all__ = ["model_device", "check_run_device", "prepared_model", "LayerRecorder"]


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


def check_run_device(device: Any) -> torch.device:
    """The device to run on, checked: it must exist and be available.

    Parameters
    ----------
    device : str or torch.device
        E.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.

    Returns
    -------
    torch.device
        The device.
    """
    import torch

    check_device(device, "extract_activations")  # a torch device, CUDA present if named
    checked = torch.device(device)
    if checked.type == "cuda" and (checked.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} but there are {torch.cuda.device_count()} CUDA devices."
        )
    if checked.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} but MPS is not available here.")
    return checked


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
    """Forward hooks that turn each selected module's output into features, batch by batch.

    Each hook reduces its module's output to a feature matrix at once. On the
    first batch every layer's matrix is kept (as a copy) until the pass ends,
    since a module may run several times in one forward pass and its last
    output counts; a layer seen to run once per pass is then checked and
    handed to ``sink`` from its hook, so nothing of it outlives the hook and
    no second copy is made. :meth:`finish_batch` checks the batch.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    layers : list of str
        The modules to record, in order.
    features : callable
        ``features(layer, output, attention_mask, n_rows)`` -> numpy array
        (n_rows, n_features); raises :class:`NotPerStimulusError` for an
        output without a row per stimulus.
    sink : callable
        ``sink(layer, first_row, values)`` stores a checked batch of a layer.
    optional : set of str, optional
        Layers selected by a pattern or group: on the first batch of a run,
        those that do not run or give no row per stimulus are dropped (with a
        warning) instead of raising.
    dropped : iterable of str, optional
        Layers dropped by an earlier part of the run (a resumed one).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        layers: list[str],
        features: Callable[[str, Any, Any, int], np.ndarray],
        sink: Callable[[str, int, np.ndarray], None],
        optional: set[str] | None = None,
        dropped: Iterable[str] = (),
    ) -> None:
        self.model, self.features, self.sink = model, features, sink
        self.optional = set(optional or ())
        self.dropped = set(dropped)
        self.layers = [layer for layer in layers if layer not in self.dropped]
        self.handles: list[Any] = []
        self.values: dict[str, np.ndarray | None] = {}
        self.calls: dict[str, int] = {}
        self.direct: set[str] = set()  # layers seen to run once per forward pass
        self.unusable: set[str] = set()
        self.widths: dict[str, int] = {}
        self.mask: Any = None
        self.rows = self.first_row = 0
        self.first_batch = False

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
            if layer in self.dropped:
                return
            try:
                values = self.features(layer, output, self.mask, self.rows)
            except NotPerStimulusError:
                if not (self.first_batch and layer in self.optional):
                    raise
                self.unusable.add(layer)
                return
            self.calls[layer] = self.calls.get(layer, 0) + 1
            if layer in self.direct:
                # ran once per pass so far: stored at once (a later call in the same pass
                # overwrites it, so the last output still counts)
                self._check(layer, values)
                self.sink(layer, self.first_row, values)
                self.values[layer] = None
                return
            # kept until the pass ends (the last call counts), as a copy of its own: a view
            # would keep the module's output alive
            self.values[layer] = values if values.flags.owndata else np.array(values)

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

    def start_batch(self, inputs: Any, rows: int, first_row: int, *, first: bool) -> None:
        """Prepare for the forward pass of one batch.

        Parameters
        ----------
        inputs : tensor or dict
            The model's input (a dict's ``attention_mask`` guides token pooling).
        rows : int
            Stimuli in the batch.
        first_row : int
            The batch's first stimulus.
        first : bool
            Whether it is the run's first batch (optional layers are judged on it).
        """
        self.values, self.calls, self.unusable = {}, {}, set()
        self.rows, self.first_row, self.first_batch = rows, first_row, first
        self.mask = inputs.get("attention_mask") if isinstance(inputs, Mapping) else None

    def finish_batch(self) -> list[str]:
        """Check the batch (every layer ran, widths kept, all finite) and store it.

        Returns
        -------
        list of str
            The optional layers dropped on this batch (empty after the first).
        """
        dropped = []
        if self.first_batch:
            dropped = [
                layer
                for layer in self.layers
                if layer in self.optional and (layer in self.unusable or layer not in self.values)
            ]
            if dropped:
                warnings.warn(
                    f"layers {dropped} (selected by a pattern, 'leaves' or 'all') are not "
                    "recorded: they did not run in the forward pass or gave no row per "
                    "stimulus (e.g. an attention's out_proj, a position embedding).",
                    UserWarning,
                    stacklevel=4,
                )
                self.dropped.update(dropped)
                self.layers = [layer for layer in self.layers if layer not in self.dropped]
                if not self.layers:
                    raise ValueError(
                        "none of the selected layers gives one row of features per stimulus."
                    )
        for layer in self.layers:
            if layer not in self.values:
                raise ValueError(
                    f"layer {layer!r} did not run in the forward pass of stimuli "
                    f"{self.first_row}..{self.first_row + self.rows - 1}: the model's forward "
                    "never calls it; choose layers that run (see model.named_modules())."
                )
        # checked in the order the layers ran: a NaN is named where it starts
        stashed = [k for k, v in self.values.items() if v is not None and k in self.layers]
        for layer in stashed:
            self._check(layer, self.values[layer])
        for layer in stashed:
            self.sink(layer, self.first_row, self.values[layer])
        self.direct.update(layer for layer in self.layers if self.calls.get(layer) == 1)
        self.values = {}
        return dropped
