"""Drop-in replacements for other libraries' APIs (see :mod:`skrep.compat.netrep`)."""
