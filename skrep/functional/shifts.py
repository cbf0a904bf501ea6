"""Cross-products of convolutional activations at every circular spatial shift, at once.

A convolutional layer's activations ``X`` of shape (images, height, width,
channels) become a representation with one row per image and position. netrep's
``convolve_metric`` compares ``X`` shifted circularly by ``s`` with ``Y`` for
every shift: ``np.roll(X, s, axis=(1, 2))`` against ``Y``. A shift only permutes
the rows of ``X``, so its column means and Gram matrix (its whitening) do not
change; only the cross-product with ``Y`` does, and for all shifts together it
is a circular cross-correlation, which the FFT computes in one pass:
``C[s] = sum_a X[a - s].T Y[a] = irfft2(conj(fft2 X) . fft2 Y)[s]`` (summed over
images, one c x c matrix per frequency). We write this ourselves because no
library computes a stack of channel cross-products over all shifts; the
transforms are the array namespace's FFT (numpy's or torch's).
"""

from __future__ import annotations

from .._array import get_namespace
from .._typing import Array

__all__ = ["shifted_cross_products"]


def shifted_cross_products(X: Array, Y: Array) -> Array:
    """``roll(X, s).reshape(-1, c).T @ Y.reshape(-1, c)`` for every shift ``s``, by FFT.

    Parameters
    ----------
    X, Y : arrays of shape (n_images, height, width, n_channels)
        Validated, floating-point activations of one shape (centered first if
        the cross-products of centered data are wanted).

    Returns
    -------
    array of shape (height, width, n_channels, n_channels)
        Entry ``[i, j]`` is the cross-product for the shift
        ``(i - height // 2, j - width // 2)`` (netrep's ``convolve_metric``
        order: the unshifted pair sits at ``[height // 2, width // 2]``).
    """
    xp = get_namespace(X, Y)
    height, width = X.shape[1], X.shape[2]
    X_hat = xp.fft.rfftn(X, axes=(1, 2))
    Y_hat = xp.fft.rfftn(Y, axes=(1, 2))
    # Sum over images of conj(X_hat)^T Y_hat at every frequency: (h, w', c, c).
    X_hat = xp.permute_dims(xp.conj(X_hat), (1, 2, 3, 0))  # (h, w', c, m)
    Y_hat = xp.permute_dims(Y_hat, (1, 2, 0, 3))  # (h, w', m, c)
    correlation = xp.fft.irfftn(X_hat @ Y_hat, s=(height, width), axes=(0, 1))
    # correlation[s] is the cross-product at shift s; put shift 0 at the centre.
    return xp.roll(correlation, shift=(height // 2, width // 2), axis=(0, 1))
