"""Activations of PyTorch models, recorded with forward hooks (torch is imported lazily).

- :func:`extract_activations`: a model, stimuli and layer names in; one
  (n_stimuli, n_features) array per layer out, pooled or randomly projected
  on the device, in memory or streamed to ``.npy`` files that a rerun resumes;
- :class:`Checkpoints`: the checkpoints of one architecture (state-dict files)
  as a mapping name -> model, loaded on demand with ``weights_only=True``;
- :func:`resolve_layers`: which modules a layer selection names.
"""

from .checkpoints import Checkpoints
from .core import extract_activations, extraction_cache_key
from .layers import module_names, resolve_layers
from .stimuli import stimuli_key

__all__ = [
    "extract_activations",
    "extraction_cache_key",
    "Checkpoints",
    "resolve_layers",
    "module_names",
    "stimuli_key",
]
