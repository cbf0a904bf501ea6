"""Sphinx configuration for skrep's documentation.

Build with ``make doc`` or, from the repository root::

    python -m sphinx -b html -W --keep-going doc doc/_build/html

Nothing here downloads anything: intersphinx is not used, and the gallery
examples run on data embedded in scikit-learn.
"""

import os
import sys

# Import the checkout being documented even when it is not pip-installed.
sys.path.insert(0, os.path.abspath(".."))

import skrep  # noqa: E402

# -- Project information ------------------------------------------------------------
project = "skrep"
author = "The skrep developers"
copyright = "The skrep developers"
version = skrep.__version__
release = skrep.__version__

# -- General configuration ----------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"

# autodoc / autosummary: one page per public object, under gen_modules/.
autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    # Inherited from scikit-learn; their docstrings link into scikit-learn's own
    # user guide, which is not part of this documentation.
    "exclude-members": (
        "get_metadata_routing, set_fit_request, set_predict_request, set_score_request, set_output"
    ),
}
autodoc_typehints = "none"  # types are in the numpydoc docstrings

# numpydoc: autodoc lists the members; numpydoc only formats the docstrings.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- sphinx-gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every plot_*.py runs at build time, so the gallery shows real output.
    "filename_pattern": r"plot_",
    "doc_module": ("skrep",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
}

# Examples run headless (sphinx-gallery also selects Agg itself).
os.environ.setdefault("MPLBACKEND", "Agg")

# -- HTML output --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skrep {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_static_path = []
html_show_sourcelink = False
