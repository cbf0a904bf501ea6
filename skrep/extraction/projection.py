"""Sparse random projection of wide layers, applied batch by batch on the model's device.

The scheme is the one of :class:`sklearn.random_projection.SparseRandomProjection`
with its default density ``s = 1 / sqrt(n_features)`` (Achlioptas 2003; Li, Hastie &
Church 2006): each entry is independently ``+-sqrt(1 / (s * n_components))`` with
probability ``s / 2`` each and 0 otherwise. The matrix is generated here rather than by
scikit-learn for two reasons. Its generator draws each row's columns in time
proportional to ``n_features`` (9 s for 4096 x 1,000,000), whereas drawing the number of
nonzero entries and their places at once takes under a second. And extraction needs the
matrix transposed, in the dtype of the activations: it is generated in that form
directly, so that no copy of it is ever made. The application is ours too:
scikit-learn projects a whole numpy matrix on the CPU, whereas extraction meets a layer
one batch at a time, as a tensor on the model's device, and must never hold the layer
whole. Each row is projected on its own, so the result does not depend on the batch size.
"""

from __future__ import annotations

import warnings
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import RandomState

if TYPE_CHECKING:
    import scipy.sparse
    import torch

__all__ = ["projection_matrix", "SparseProjection", "layer_seed", "draw_seed"]


def draw_seed(random_state: RandomState) -> int:
    """An integer seed for the run: the given int, or one drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
        None draws fresh entropy; a RandomState or Generator draws one integer from it.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.
    """
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}.")
        return int(random_state)
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**32, dtype=np.uint64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32))
    raise TypeError(
        f"random_state must be None, an int, a numpy RandomState or Generator; got "
        f"{random_state!r}."
    )


def layer_seed(seed: int, layer: str) -> int:
    """The seed of one layer's projection: the run's seed and the layer's name.

    A layer's projection thus does not depend on which other layers are extracted.

    Parameters
    ----------
    seed : int
        The run's seed (:func:`draw_seed`).
    layer : str
        The layer's name.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.
    """
    sequence = np.random.SeedSequence([seed, zlib.crc32(layer.encode())])
    return int(sequence.generate_state(1)[0])


def projection_matrix(
    n_features: int, n_components: int, seed: int, dtype: Any = np.float64
) -> scipy.sparse.csc_matrix:
    """A sparse random projection matrix, (n_components, n_features).

    Parameters
    ----------
    n_features : int
        Width of the layer.
    n_components : int
        Width after projection.
    seed : int
        Seed of the :class:`numpy.random.Generator` that draws it.
    dtype : numpy dtype, default=numpy.float64
        Type of the entries.

    Returns
    -------
    scipy.sparse.csc_matrix
        Entries ``+-sqrt(1 / (density * n_components))`` with probability
        ``density / 2`` each, ``density = 1 / sqrt(n_features)``, zero
        otherwise, independently (scikit-learn's ``SparseRandomProjection``
        scheme with ``density="auto"``); ``X @ matrix.T`` projects the rows of
        ``X``. Its transpose ``matrix.T`` is a CSR matrix made without a copy.
    """
    import scipy.sparse

    rng = np.random.default_rng(seed)
    density = 1 / np.sqrt(n_features)
    n_cells = n_features * n_components
    n_nonzero = int(rng.binomial(n_cells, density))
    # Places in the transposed matrix (feature-major), drawn without replacement:
    # every entry is nonzero independently with probability `density`.
    places = np.sort(rng.choice(n_cells, n_nonzero, replace=False))
    features, components = np.divmod(places, n_components)
    del places
    counts = np.bincount(features, minlength=n_features)
    pointers = np.zeros(n_features + 1, dtype=np.int64)
    np.cumsum(counts, out=pointers[1:])
    scale = np.sqrt(1 / density) / np.sqrt(n_components)
    values = (rng.integers(0, 2, size=n_nonzero) * 2 - 1).astype(dtype) * np.dtype(dtype).type(
        scale
    )
    index_type = np.int32 if n_components < 2**31 else np.int64
    transposed = scipy.sparse.csr_matrix(
        (values, components.astype(index_type), pointers), shape=(n_features, n_components)
    )
    return transposed.T


class SparseProjection:
    """A layer's projection, applied to one batch of rows at a time.

    On the CPU the batch is multiplied by the transposed matrix with scipy
    (``dense @ csr``, the fastest of the forms measured: 0.13 s for 64 rows of
    1,000,000 features to 4096, against 0.4 s for torch's sparse CSR product);
    on other devices the matrix lives there as a sparse CSR tensor.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix of shape (n_components, n_features)
        The projection (:func:`projection_matrix`).
    device : torch.device
        Where the activations are.
    dtype : torch.dtype
        The activations' floating dtype.
    """

    def __init__(self, matrix: scipy.sparse.spmatrix, device: Any, dtype: Any) -> None:
        import torch

        self.n_components, self.n_features = matrix.shape
        self.device = torch.device(device)
        self.dtype = dtype
        numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
        if self.device.type == "cpu":
            self.transposed = matrix.T.tocsr().astype(numpy_dtype, copy=False)
            # Rows per product: scipy copies the dense operand, so it is kept to ~64 MiB.
            self.chunk = max(8, (64 << 20) // max(1, self.n_features * numpy_dtype.itemsize))
            self.matrix = None
            return
        rows = matrix.tocsr()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "CSR support is in beta"
            self.matrix = torch.sparse_csr_tensor(
                torch.as_tensor(rows.indptr, dtype=torch.int64),
                torch.as_tensor(rows.indices, dtype=torch.int64),
                torch.as_tensor(rows.data),
                size=rows.shape,
                dtype=dtype,
                device=self.device,
                check_invariants=False,
            )

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        """Project a batch of rows.

        Parameters
        ----------
        features : torch.Tensor of shape (n_stimuli, n_features)
            One batch of the layer.

        Returns
        -------
        torch.Tensor of shape (n_stimuli, n_components)
            The projected batch, on the activations' device.
        """
        import torch

        features = features.to(self.dtype)
        if self.matrix is None:
            rows = features.contiguous().numpy()
            parts = [
                np.asarray(rows[start : start + self.chunk] @ self.transposed)
                for start in range(0, rows.shape[0], self.chunk)
            ]
            return torch.as_tensor(np.concatenate(parts))
        return torch.sparse.mm(self.matrix, features.T).T
