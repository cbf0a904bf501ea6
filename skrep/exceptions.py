"""Exceptions and warnings raised by skrep."""

__all__ = ["InvalidParameterError", "CacheWarning"]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has an invalid type or value.

    Raised by ``fit``. Subclasses both ValueError and TypeError, as
    scikit-learn's error of the same name does, so either ``except`` clause
    catches it.
    """


class CacheWarning(UserWarning):
    """A cached result could not be trusted and is computed again.

    Issued, once per file, when a file in a ``cache_dir`` cannot be read,
    belongs to another computation or fails its checksum.
    """
