"""The fitted state of a generalized shape metric, with its rotations computed on demand.

The training distance of :class:`~skrep.metrics.LinearMetric` needs only the
singular values of the whitened cross-product and two norms; the rotations
that map new data into the aligned space (a full SVD, the slowest step of a
fit) are computed the first time they are asked for. :func:`fit_linear`
builds the state; :func:`~skrep.functional.fit_linear_alignment` is
``fit_linear(...).alignment()``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._array import get_namespace, matrix_transpose
from .._typing import Array
from .._validation import check_alpha, check_matching_pair
from ._full_whitening import cholesky_whitening
from ._scaling import normalize_scale
from ._whitening import (
    EIGVAL_TOL,
    eigenvalue_floor,
    gram_of_normalized,
    procrustes_rotations,
    whitening_of_normalized,
)
from .centering import column_means
from .network_blocks import REFINE_ANGLE, REFINE_ANGLE_FLOAT32

__all__ = ["LinearAlignment", "LinearFit", "fit_linear"]


class LinearAlignment(NamedTuple):
    """Result of :func:`fit_linear_alignment`.

    Parameters
    ----------
    mx, my : arrays of shape (n_features,)
        Offsets subtracted from X and Y (zeros without centering).
    Wx, Wy : arrays of shape (n_features, n_features)
        Maps into the shared aligned space: ``(X - mx) @ Wx``.
    """

    mx: object
    my: object
    Wx: object
    Wy: object


class LinearFit:
    """A fitted generalized shape metric, from which the alignment and training distance follow.

    Built by :func:`fit_linear`. The training distance needs only the singular
    values of the whitened cross-product and two norms; the rotations (a full
    SVD, the slowest step of a fit) are computed when :meth:`alignment` is
    first called, and kept.

    Parameters
    ----------
    mx, my : arrays of shape (n_features,)
        Offsets subtracted from X and Y.
    basis_x, basis_y : arrays of shape (n_features, n_features) or None
        Maps of the centered data to whitened coordinates, ``Xw = (X - mx) @ basis_x``
        (None: the identity). The whitening matrix ``Z``, or ``V * d`` (its
        eigenvectors scaled by its factors), which gives ``Z`` up to a rotation
        and so the same distances.
    cross : array of shape (n_features, n_features)
        ``(Xw / scale_x).T @ (Yw / scale_y)``.
    norm_x, norm_y : float
        Frobenius norms of ``Xw / scale_x`` and ``Yw / scale_y``.
    scale_x, scale_y : float
        Positive scales (powers of two) that keep ``cross`` finite.
    nuclear_norm : float or None, default=None
        The sum of the singular values of ``cross``, when the caller has it
        (e.g. from one batched computation over many fits); None computes it
        when needed.
    """

    def __init__(
        self,
        mx: Array,
        my: Array,
        basis_x: Array | None,
        basis_y: Array | None,
        cross: Array,
        norm_x: float,
        norm_y: float,
        scale_x: float,
        scale_y: float,
        nuclear_norm: float | None = None,
    ):
        self.mx, self.my, self.cross = mx, my, cross
        self.basis_x, self.basis_y = basis_x, basis_y
        self.norm_x, self.norm_y, self.scale_x, self.scale_y = norm_x, norm_y, scale_x, scale_y
        self._alignment: LinearAlignment | None = None
        self._nuclear_norm = nuclear_norm

    @classmethod
    def from_whitened(
        cls,
        mx: Array,
        my: Array,
        Xw: Array,
        Yw: Array,
        Zx: Array | None,
        Zy: Array | None,
        *,
        check_input: bool = True,
    ) -> LinearFit:
        """The fit of two whitened representations (netrep's ``finalize_fit``).

        Parameters
        ----------
        mx, my : arrays of shape (n_features,)
            Offsets subtracted from X and Y.
        Xw, Yw : arrays of shape (n_samples, n_features)
            Centered, whitened data: ``Xw = (X - mx) @ Zx``.
        Zx, Zy : arrays of shape (n_features, n_features) or None
            The whitening matrices (None: the identity).
        check_input : bool, default=True
            Validate ``Xw`` and ``Yw`` (2-D, finite, real, same shape).

        Returns
        -------
        LinearFit
            The fitted state.
        """
        if check_input:
            Xw, Yw = check_matching_pair(Xw, Yw, ("Xw", "Yw"))
        Xn, scale_x = normalize_scale(Xw)
        Yn, scale_y = normalize_scale(Yw)
        norm_x, norm_y = _norm(Xn), _norm(Yn)
        return cls(mx, my, Zx, Zy, Xn.T @ Yn, norm_x, norm_y, scale_x, scale_y)

    def alignment(self) -> LinearAlignment:
        """The maps into the aligned space (computed on the first call).

        Returns
        -------
        LinearAlignment
            ``(mx, my, Wx, Wy)`` with ``Wx = basis_x @ U``, ``Wy = basis_y @ V`` and
            ``cross = U diag(s) V.T``.
        """
        if self._alignment is None:
            U, singular, V = procrustes_rotations(self.cross)
            Wx = U if self.basis_x is None else self.basis_x @ U
            Wy = V if self.basis_y is None else self.basis_y @ V
            if self._nuclear_norm is None:
                self._nuclear_norm = float(get_namespace(singular).sum(singular))
            self._alignment = LinearAlignment(self.mx, self.my, Wx, Wy)
            self.basis_x = self.basis_y = self.cross = None  # no longer needed
        return self._alignment

    def training_distance(self, score_method: str = "angular") -> float | None:
        """Distance between the aligned training data, from singular values and norms.

        ``<Xw U, Yw V>`` is the sum of the singular values of ``Xw.T @ Yw``,
        and rotations keep norms, so no data needs mapping. Near zero the
        formula loses digits (``1 - cos`` cancels): below an angle (or a
        relative Euclidean distance) of
        :data:`~skrep.functional.network_blocks.REFINE_ANGLE` (0.1 in
        float32) it returns None, and the distance should be computed from the
        aligned data instead.

        Parameters
        ----------
        score_method : {"angular", "euclidean"}, default="angular"
            Ground metric in the aligned space.

        Returns
        -------
        float or None
            The distance, or None where the formula is not accurate.
        """
        if score_method not in ("angular", "euclidean"):
            raise ValueError(
                f"score_method must be 'angular' or 'euclidean'; got {score_method!r}."
            )
        if self._nuclear_norm is None:
            xp = get_namespace(self.cross)
            self._nuclear_norm = float(xp.sum(xp.linalg.svdvals(self.cross)))
        single = getattr(self.mx.dtype, "itemsize", 8) <= 4
        refine_below = REFINE_ANGLE_FLOAT32 if single else REFINE_ANGLE
        nuclear, nx, ny = self._nuclear_norm, self.norm_x, self.norm_y
        if score_method == "angular":
            if not nx * ny > 0.0:
                return None  # all zeros: the full computation says so
            angle = math.acos(min(1.0, max(-1.0, nuclear / (nx * ny))))
            return angle if angle >= refine_below else None
        largest = max(self.scale_x, self.scale_y)
        rx, ry = self.scale_x / largest, self.scale_y / largest
        total = (rx * nx) ** 2 + (ry * ny) ** 2
        squared = total - 2.0 * rx * ry * nuclear
        if not squared >= refine_below**2 * total or total == 0.0:
            return None
        distance = largest * math.sqrt(squared)
        return distance if math.isfinite(distance) else None


def _norm(A: Array) -> float:
    """Frobenius norm of a normalized (no overflow) array, as one dot product (no temporary)."""
    flat = get_namespace(A).reshape(A, (-1,))
    return math.sqrt(float(flat @ flat))


def _whitening_of(
    Xn: Array, scale: float, gram: Array | None, alpha: float, relative_tol: bool, centered: bool
) -> tuple[Array | None, float]:
    """``(basis or None, norm)`` of normalized data ``Xn`` (``gram``: its Gram matrix or None).

    ``norm`` is that of the whitened normalized data, ``Xn @ basis``.
    """
    xp = get_namespace(Xn)
    if alpha == 0.0:
        # Full whitening from a Cholesky factor where the eigenvalue floor cannot bind:
        # the same distances as the eigendecomposition's, at a fraction of its cost.
        if gram is None:
            gram = gram_of_normalized(Xn, centered)
        floor = eigenvalue_floor(gram, Xn.shape[0], EIGVAL_TOL, scale, relative_tol)
        whitening = cholesky_whitening(gram, floor)
        if whitening is not None:
            # netrep's variance-preserving factor: trace(gram) / n_features.
            total = float(xp.sum(xp.linalg.diagonal(gram)))
            basis = whitening * (total / Xn.shape[1]) ** 0.5
            return xp.astype(basis, Xn.dtype), total**0.5
    whitening = whitening_of_normalized(
        Xn, scale, alpha, relative_tol=relative_tol, centered=centered, gram=gram
    )
    if whitening.basis is None:  # the identity
        return None, _norm(Xn) if gram is None else float(xp.sum(xp.linalg.diagonal(gram))) ** 0.5
    # basis is V * d, the whitening in its eigenbasis: Xn @ basis is a rotation of
    # Xn @ Z, with the same norm and cross-products' singular values, without
    # forming Z (Wx = basis @ U is then Z @ V @ U).
    return whitening.basis, whitening.norm


def _centered_products(X: Array, Y: Array) -> tuple[Array, ...]:
    """Means, normalized centered data, scales, and the blocks of ``[Xn Yn].T [Xn Yn]``.

    One symmetric product of the two sides side by side gives both Gram
    matrices and the cross-product in one BLAS call: the same operations as
    three products, but on larger blocks (in float64, 2.7 ms instead of 5.0 ms
    at 1000 x 200 on 2 cores).
    """
    xp = get_namespace(X)
    mx, my = column_means(X, check_input=False), column_means(Y, check_input=False)
    p = X.shape[1]
    if isinstance(X, np.ndarray) and isinstance(Y, np.ndarray):
        # Centered straight into the two halves: one copy of the data, not two.
        both = np.empty((X.shape[0], 2 * p), dtype=np.result_type(X, Y))
        np.subtract(X, mx, out=both[:, :p])
        np.subtract(Y, my, out=both[:, p:])
        Xn, scale_x = normalize_scale(both[:, :p], in_place=True)
        Yn, scale_y = normalize_scale(both[:, p:], in_place=True)
    else:
        Xn, scale_x = normalize_scale(X - mx, in_place=True)
        Yn, scale_y = normalize_scale(Y - my, in_place=True)
        both = xp.concat([Xn, Yn], axis=1)
    gram = matrix_transpose(both, xp) @ both
    return mx, my, Xn, Yn, scale_x, scale_y, gram[:p, :p], gram[p:, p:], gram[:p, p:]


def fit_linear(
    X: Array,
    Y: Array,
    alpha: float,
    *,
    center_columns: bool = True,
    relative_tol: bool = True,
    check_input: bool = True,
) -> LinearFit:
    """Fit the generalized shape metric between ``X`` and ``Y``, rotations deferred.

    The same fit as :func:`fit_linear_alignment`, which is
    ``fit_linear(...).alignment()``; the training distance
    (:meth:`LinearFit.training_distance`) does not need the rotations.

    Parameters
    ----------
    X, Y : arrays of shape (n_samples, n_features)
        Paired representations of the same width.
    alpha : float in [0, 1]
        Regularization: 0 allows any invertible linear map, 1 only rotations.
    center_columns : bool, default=True
        Subtract column means before whitening and aligning.
    relative_tol : bool, default=True
        Floor the eigenvalues relative to the data's scale (False: netrep's
        absolute floor), see :func:`partial_whitening_matrix`.
    check_input : bool, default=True
        Validate the arrays (2-D, finite, real, matching shapes). Callers that
        already did, such as the estimators, pass False.

    Returns
    -------
    LinearFit
        The fitted state.
    """
    if check_input:
        X, Y = check_matching_pair(X, Y, ("X", "Y"))
        alpha = check_alpha(alpha)
    relative_tol = bool(relative_tol)

    if center_columns and alpha <= 1 - EIGVAL_TOL:
        mx, my, Xn, Yn, scale_x, scale_y, gram_x, gram_y, cross = _centered_products(X, Y)
    else:  # no whitening (only the cross-product is needed), or no centering
        mx = column_means(X, center_columns, check_input=False)
        my = column_means(Y, center_columns, check_input=False)
        Xn, scale_x = normalize_scale(X - mx, in_place=True)
        Yn, scale_y = normalize_scale(Y - my, in_place=True)
        gram_x = gram_y = None
        cross = Xn.T @ Yn
    basis_x, norm_x = _whitening_of(Xn, scale_x, gram_x, alpha, relative_tol, center_columns)
    basis_y, norm_y = _whitening_of(Yn, scale_y, gram_y, alpha, relative_tol, center_columns)
    # The whitened cross-product basis_x.T (Xn.T Yn) basis_y: two p x p x p products
    # where whitening each side first takes two more n x p x p ones.
    if basis_x is not None:
        cross = basis_x.T @ cross
    if basis_y is not None:
        cross = cross @ basis_y
    return LinearFit(mx, my, basis_x, basis_y, cross, norm_x, norm_y, scale_x, scale_y)
