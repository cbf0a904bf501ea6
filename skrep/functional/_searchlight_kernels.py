"""The RDMs of a batch of searchlights of one size, as whole matrix products.

Each searchlight's RDM is small (n conditions x n conditions), and there are
tens of thousands of them: the batch's patterns are gathered into one
(batch, n_voxels, n_conditions) stack (a searchlight's transposed patterns)
and each method is one batched product ``A' A`` (or ``A' P B``) per batch,
whose entries above the diagonal are the RDM. :func:`compute_rdm` computes the
same numbers for one large RDM in blocks of rows that never hold the n x n
matrix; for many small RDMs the whole matrix is cheaper (measured: about half
the time of ``compute_rdm`` on the same stack).

The formulas are compute_rdm's (see :mod:`skrep.functional.rdm`):

- "correlation": patterns centred across voxels, ``1 - G_ij / sqrt(G_ii G_jj)``
  with ``G = A' A``, clipped to [0, 2]; "cosine" without the centring;
- "euclidean", "sqeuclidean", "mahalanobis": patterns centred across
  conditions (the distances do not change), ``K = A' P A`` (P the identity
  unless given), ``K_ii + K_jj - K_ij - K_ji``, clipped at 0; the square root
  for "euclidean", divided by the number of voxels for the squared ones;
- "crossnobis": for each run r, ``A`` the condition means of the other runs
  and ``B`` those of run r (both from per-run, per-condition sums), ``K = A' P
  B``, the same combination, averaged over runs and divided by the number of
  voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

import array_api_compat
import numpy as np

from .._array import get_namespace, matrix_transpose, to_numpy
from .._typing import Array
from ._rdm_input import rescaled_distances

__all__ = ["Table", "batch_rdms"]


@dataclass
class Table:
    """What every searchlight gathers its patterns from, prepared once for the whole volume.

    Attributes
    ----------
    values : array of shape (n_voxels, n_columns)
        Per voxel (row): the condition means (non-cross-validated methods),
        or the sums of each (run, condition) cell, run by run (crossnobis);
        multiplied by ``scale``. In the data's namespace and device.
    method : str
        The RDM method.
    n_conditions : int
        The number of conditions (rows and columns of each RDM).
    scale : float
        The power of two the values were multiplied by (1.0 almost always).
    cell_counts : array of shape (n_runs, n_conditions) or None
        crossnobis: the observations of each cell, in the values' namespace.
    labels : ndarray of shape (n_conditions,) or None
        The sorted condition labels (None: each observation is a condition).
    """

    values: Array
    method: str
    n_conditions: int
    scale: float = 1.0
    cell_counts: Array | None = None
    labels: np.ndarray | None = None

    @property
    def n_pairs(self) -> int:
        """The length of a condensed RDM."""
        return self.n_conditions * (self.n_conditions - 1) // 2


class SearchlightProblem(ValueError):
    """A searchlight of a batch whose RDM is undefined; ``position`` is its place in the batch."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position


def gather(table: Table, indices: np.ndarray) -> Array:
    """The (batch, k, n_columns) stack of the rows of ``table.values`` at (batch, k) ``indices``."""
    values = table.values
    if isinstance(values, np.ndarray):
        return np.take(values, indices, axis=0)
    xp = get_namespace(values)
    flat = xp.asarray(indices.reshape(-1), device=array_api_compat.device(values))
    return xp.reshape(xp.take(values, flat, axis=0), (*indices.shape, values.shape[1]))


def _pair_indices(n: int, like: Array) -> tuple[Array, ...]:
    """Flat indices of (i, j) and (j, i) for i < j, and i and j, in ``like``'s namespace."""
    xp = get_namespace(like)
    device = array_api_compat.device(like)
    rows, columns = np.triu_indices(n, 1)
    return tuple(
        xp.asarray(a, device=device)
        for a in (rows * n + columns, columns * n + rows, rows, columns)
    )


def _combined(K: Array, symmetric: bool = False) -> tuple[Array, Array]:
    """``K_ii + K_jj - K_ij - K_ji`` over the pairs i < j of (batch, n, n) K, and K's diagonal.

    ``symmetric``: K is ``A' A`` (symmetric by construction), ``2 K_ij`` is subtracted.
    """
    xp = get_namespace(K)
    n = K.shape[-1]
    upper, lower, rows, columns = _pair_indices(n, K)
    flat = xp.reshape(K, (K.shape[0], n * n))
    diagonal = xp.linalg.diagonal(K)
    values = xp.take(diagonal, rows, axis=1) + xp.take(diagonal, columns, axis=1)
    if symmetric:
        values -= 2.0 * xp.take(flat, upper, axis=1)
        return values, diagonal
    values -= xp.take(flat, upper, axis=1)
    values -= xp.take(flat, lower, axis=1)
    return values, diagonal


def _in_place(values: Array, low: float, high: float | None) -> Array:
    """``values`` clipped in place (numpy, torch)."""
    if isinstance(values, np.ndarray):
        return np.clip(values, low, high, out=values)
    return values.clamp_(min=low, max=high)


def _check_patterns(
    table: Table, indices: np.ndarray, suspects: Array, diagonal: Array, method: str
) -> None:
    """Raise for an undefined pattern among the suspects (searchlight, condition) of a batch.

    Suspects are the patterns whose centred (correlation) or plain (cosine)
    sum of squares is at rounding level; their raw values are gathered again
    and compared exactly. A suspect that is not constant, with a sum of
    squares above 0, is used as it is.
    """
    xp = get_namespace(suspects)
    squares = np.asarray(to_numpy(diagonal))
    for position, condition in zip(*np.nonzero(np.asarray(to_numpy(suspects))), strict=True):
        pattern = gather(table, indices[position : position + 1])[0, :, int(condition)]
        if method == "correlation" and bool(xp.all(pattern == pattern[0])):
            problem = "a constant pattern (all its values equal)"
        elif method == "cosine" and bool(xp.all(pattern == 0.0)):
            problem = "a constant pattern (all zero)"
        elif squares[position, condition] == 0.0:
            problem = "a pattern that is constant to rounding at the data's scale"
        else:
            continue
        label = int(condition) if table.labels is None else table.labels[int(condition)].item()
        raise SearchlightProblem(
            int(position),
            f"condition {label!r} has {problem}, so its {method} "
            "distance is undefined; expected patterns that vary across the searchlight's voxels.",
        )


def _angular(A: Array, method: str, table: Table, indices: np.ndarray) -> Array:
    """Correlation or cosine distances of (batch, k, n) transposed patterns (A is ours)."""
    xp = get_namespace(A)
    k = A.shape[1]
    if method == "correlation" and k < 2:
        raise SearchlightProblem(
            0,
            f"method='correlation' needs at least 2 voxels per searchlight (1 - Pearson r of "
            f"one value per pattern is undefined); this searchlight has {k}.",
        )
    if method == "correlation":
        mean = xp.mean(A, axis=1, keepdims=True)
        A -= mean
    G = matrix_transpose(A, xp) @ A
    del A
    n = G.shape[-1]
    upper, _, rows, columns = _pair_indices(n, G)
    diagonal = xp.linalg.diagonal(G)
    if method == "correlation":
        # A constant pattern centres to rounding noise, not to zeros: suspects (generously
        # many, each checked exactly) are those at most k times k eps |mean| from their mean.
        eps = float(xp.finfo(G.dtype).eps)
        rounding = k * (4.0 * k * eps * xp.abs(mean[:, 0, :])) ** 2
        suspects = diagonal <= rounding
    else:
        suspects = diagonal == 0.0
    if bool(xp.any(suspects)):
        _check_patterns(table, indices, suspects, diagonal, method)
    inverse = 1.0 / xp.sqrt(diagonal)
    values = xp.take(xp.reshape(G, (G.shape[0], n * n)), upper, axis=1)
    del G
    values *= xp.take(inverse, rows, axis=1)
    values *= xp.take(inverse, columns, axis=1)
    values *= -1.0
    values += 1.0
    return _in_place(values, 0.0, 2.0)


def _check_positive(values: Array, method: str) -> None:
    """Raise if a squared distance is negative beyond rounding (precision not PSD)."""
    xp = get_namespace(values)
    lowest = np.asarray(to_numpy(xp.min(values, axis=1)), dtype=np.float64)
    largest = np.asarray(to_numpy(xp.max(xp.abs(values), axis=1)), dtype=np.float64)
    eps = float(xp.finfo(values.dtype).eps)
    bad = lowest < -64 * eps * values.shape[1] ** 0.5 * largest
    if bad.any():
        position = int(np.argmax(bad))
        raise SearchlightProblem(
            position,
            f"its noise precision is not positive semi-definite: a squared {method} distance is "
            f"negative ({lowest[position] / largest[position]:.3g} times the largest); expected "
            "symmetric positive semi-definite precisions, e.g. from "
            "skrep.functional.noise_precision.",
        )


def _squared(A: Array, P: Array | None, method: str) -> Array:
    """Squared distances of (batch, k, n) transposed patterns (not yet divided or rescaled)."""
    xp = get_namespace(A)
    A -= xp.mean(A, axis=2, keepdims=True)
    AT = matrix_transpose(A, xp)
    K = (AT @ A) if P is None else (AT @ P) @ A
    values, _ = _combined(K, symmetric=P is None)
    if method == "mahalanobis":
        _check_positive(values, method)
    return _in_place(values, 0.0, None)


def _crossnobis(cells: Array, counts: Array, P: Array | None) -> Array:
    """Crossnobis sums over runs of (batch, k, n_runs * n) cell sums (not yet averaged)."""
    xp = get_namespace(cells)
    n_runs = counts.shape[0]
    batch, k = cells.shape[:2]
    cells = xp.reshape(cells, (batch, k, n_runs, counts.shape[1]))
    total = xp.sum(cells, axis=2)
    total_counts = xp.sum(counts, axis=0)
    result = None
    for run in range(n_runs):
        held_out = cells[:, :, run, :]
        B = held_out / counts[run, :]
        A = (total - held_out) / (total_counts - counts[run, :])
        A -= xp.mean(A, axis=2, keepdims=True)
        B -= xp.mean(B, axis=2, keepdims=True)
        AT = matrix_transpose(A, xp)
        K = (AT @ B) if P is None else (AT @ P) @ B
        values, _ = _combined(K)
        if result is None:
            result = values
        else:
            result += values
    result /= n_runs
    return result


def _rescaled(values: Array, factors: list[np.ndarray], method: str) -> Array:
    """:func:`rescaled_distances`, its message naming ``data`` (compute_rdm's names X)."""
    try:
        return rescaled_distances(values, factors, method)
    except ValueError as error:
        message = str(error).replace("c * X", "c * data").replace("of X", "of data")
        message = message.replace("X's", "data's")
        raise ValueError(message.replace("rescale X", "rescale data")) from None


def batch_rdms(
    table: Table, indices: np.ndarray, P: Array | None = None, p_scales: np.ndarray | None = None
) -> Array:
    """Condensed RDMs of a batch of searchlights with the same number of voxels.

    Parameters
    ----------
    table : Table
        The prepared data.
    indices : ndarray of shape (batch, k)
        Each searchlight's rows of ``table.values`` (voxels).
    P : array of shape (batch, k, k), default=None
        Noise precisions at unit scale ("mahalanobis", "crossnobis"); None is
        the identity.
    p_scales : ndarray of shape (batch,), default=None
        The powers of two P was multiplied by.

    Returns
    -------
    array of shape (batch, n_pairs)
        In the table's namespace, dtype and device.

    Raises
    ------
    SearchlightProblem
        An undefined RDM (constant pattern, precision not PSD), with its
        position in the batch.
    """
    method = table.method
    A = gather(table, indices)
    if method in ("correlation", "cosine"):
        return _angular(A, method, table, indices)
    k = indices.shape[1]
    if method == "crossnobis":
        values = _crossnobis(A, table.cell_counts, P)
    else:
        values = _squared(A, P, method)
    del A
    x_factor = np.array([1.0 / table.scale])
    if method == "euclidean":
        values = get_namespace(values).sqrt(values)
        return _rescaled(values, [x_factor], method)
    values = values / k
    factors = [x_factor, x_factor]
    if p_scales is not None:
        factors.append(1.0 / p_scales)
    return _rescaled(values, factors, method)
