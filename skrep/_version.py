"""The version of skrep, read from the installed package metadata (set in pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skrep")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
