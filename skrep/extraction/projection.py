"""Sparse random projection of wide layers, applied batch by batch on the model's device.

The scheme is the one of :class:`sklearn.random_projection.SparseRandomProjection`
with its default density ``s = 1 / sqrt(n_features)`` (Achlioptas 2003; Li, Hastie &
Church 2006): each entry is ``+-sqrt(1 / (s * n_components))`` with probability ``s / 2``
each and 0 otherwise. The matrix is generated here rather than by scikit-learn because
its generator draws each row's columns in time proportional to ``n_features`` (9 s for
4096 x 1,000,000); drawing a binomial count per row and that many distinct columns takes
0.2 s. The application is ours too: scikit-learn projects a whole numpy matrix on the CPU,
whereas extraction meets a layer one batch at a time, as a tensor on the model's device,
and must never hold the layer whole. Each row is projected on its own, so the result does
not depend on the batch size.
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


def projection_matrix(n_features: int, n_components: int, seed: int) -> scipy.sparse.csr_matrix:
    """A sparse random projection matrix, (n_components, n_features).

    Parameters
    ----------
    n_features : int
        Width of the layer.
    n_components : int
        Width after projection.
    seed : int
        Seed of the :class:`numpy.random.Generator` that draws it.

    Returns
    -------
    scipy.sparse.csr_matrix
        Entries ``+-sqrt(1 / (density * n_components))`` with probability
        ``density / 2`` each, ``density = 1 / sqrt(n_features)``, zero
        otherwise (scikit-learn's ``SparseRandomProjection`` scheme with
        ``density="auto"``); ``X @ matrix.T`` projects the rows of ``X``.
    """
    import scipy.sparse

    rng = np.random.default_rng(seed)
    density = 1 / np.sqrt(n_features)
    counts = rng.binomial(n_features, density, size=n_components)
    columns = np.concatenate(
        [np.sort(rng.choice(n_features, count, replace=False)) for count in counts]
    ).astype(np.int64)
    signs = rng.integers(0, 2, size=columns.size) * 2 - 1
    values = signs * np.sqrt(1 / density) / np.sqrt(n_components)
    pointers = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return scipy.sparse.csr_matrix((values, columns, pointers), shape=(n_components, n_features))


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

    def __init__(self, matrix: scipy.sparse.csr_matrix, device: Any, dtype: Any) -> None:
        import torch

        self.n_components, self.n_features = matrix.shape
        self.device = torch.device(device)
        self.dtype = dtype
        if self.device.type == "cpu":
            numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
            self.transposed = matrix.T.tocsr().astype(numpy_dtype)
            self.matrix = None
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "CSR support is in beta"
            self.matrix = torch.sparse_csr_tensor(
                torch.as_tensor(matrix.indptr, dtype=torch.int64),
                torch.as_tensor(matrix.indices, dtype=torch.int64),
                torch.as_tensor(matrix.data),
                size=matrix.shape,
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
            return torch.as_tensor(np.asarray(features.contiguous().numpy() @ self.transposed))
        return torch.sparse.mm(self.matrix, features.T).T
