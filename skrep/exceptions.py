"""Exceptions and warnings raised by skrep."""

import numpy as np

__all__ = [
    "InvalidParameterError",
    "SingularCovarianceError",
    "CacheWarning",
    "RDMTargetWarning",
    "KernelMemoryWarning",
]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has an invalid type or value.

    Raised by ``fit``. Subclasses both ValueError and TypeError, as
    scikit-learn's error of the same name does, so either ``except`` clause
    catches it.
    """


class SingularCovarianceError(np.linalg.LinAlgError):
    """A noise covariance is numerically singular, so it has no precision.

    A :class:`numpy.linalg.LinAlgError` (hence a ValueError) raised by
    :func:`skrep.functional.noise_precision`, with the data set, the method
    and the channel count named.
    """


class CacheWarning(UserWarning):
    """A cached result could not be trusted and is computed again.

    Issued, once per file, when a file in a ``cache_dir`` cannot be read,
    belongs to another computation or fails its checksum.
    """


class RDMTargetWarning(UserWarning):
    """``Y`` looks like an RDM, but :class:`skrep.RSA` reads it as responses.

    Issued by ``RSA(target="auto").fit`` when ``Y`` is square, symmetric and
    zero on the diagonal, or looks like rows of such a matrix (as when
    cross-validation splits only the rows of an RDM array). Pass
    ``Y=skrep.metrics.DataRDMs(rdm)`` to compare with an RDM, or set
    ``target="responses"`` (or filter this class) when ``Y`` really holds
    responses. A UserWarning, so existing filters on those still apply.
    """


class KernelMemoryWarning(UserWarning):
    """The n x n kernel matrices about to be formed exceed the memory budget.

    Issued by RBF (and custom-kernel) CKA before it forms its Gram matrices,
    when their float64 size (plus the copy the median bandwidth takes)
    exceeds scikit-learn's ``working_memory`` or half the available memory,
    whichever is smaller. The message points to the alternatives:
    :meth:`skrep.CKAEstimator.partial_fit` over minibatches (Nguyen et al.
    2021) or ``CKAEstimator(kernel="rbf", approximation="nystroem")``.
    Raise ``working_memory`` with ``sklearn.config_context`` to allow more.
    """
