"""Type aliases of skrep's signatures.

skrep's math is written once against the array API, so the same argument may
be a numpy array, a torch tensor (on any device) or another array-API array;
the aliases below name these roles in signatures. They are ``Any`` for a type
checker (the arrays are duck-typed), and say to a reader what is expected.
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["Array", "ArrayLike", "Device", "Namespace", "RandomState"]

#: An array of any namespace skrep computes with: numpy, torch or another array-API library.
Array: TypeAlias = Any
#: Anything that becomes an array: an ``Array``, a list, a pandas DataFrame...
ArrayLike: TypeAlias = Any
#: Where to compute: None (where the data is), a name such as "cpu" or "cuda", or a torch.device.
Device: TypeAlias = Any
#: An array-API namespace (numpy, or array_api_compat's torch namespace, ...).
Namespace: TypeAlias = Any
#: A seed: None, an int, or a numpy RandomState / Generator.
RandomState: TypeAlias = Any
