"""Exceptions raised by skrep."""

__all__ = ["InvalidParameterError"]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has an invalid type or value.

    Raised by ``fit``. Subclasses both ValueError and TypeError, as
    scikit-learn's error of the same name does, so either ``except`` clause
    catches it.
    """
