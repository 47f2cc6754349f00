"""Sphinx configuration of jaxact's documentation site.

Build it (offline, about a minute on 2 cores) with::

    pip install -e ".[docs]"
    sphinx-build -W -j 2 -b html docs docs/_build/html

The activation gallery (``docs/gallery/``) and the API reference (``docs/api/``) are
generated from the registry and the modules' ``__all__`` at the start of every build
by ``docs/_ext/jaxact_site.py``; the hand-written pages are the Markdown files in
``docs/``.
"""

from __future__ import annotations

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import jaxact  # noqa: E402

project = "jaxact"
author = "the jaxact authors"
copyright = "2026, the jaxact authors"  # noqa: A001 (Sphinx's name)
release = version = jaxact.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_design",
    "jaxact_site",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_ext",
    "accuracy/*.md",  # the accuracy benchmark's raw table; the gallery pages show its numbers
]

# MyST: $...$ math, ::: fences, and anchors for the headings the pages link to.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 4

# Docstrings: Google style (napoleon), signatures as written, no type hints repeated.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
autodoc_typehints = "signature"
# Signatures show the alias, not its expansion (Array | ndarray | bool | number | ...).
autodoc_type_aliases = {"ArrayLike": "jax.typing.ArrayLike", "Array": "jax.Array"}
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
autosummary_generate = False
# The docstrings' :func:`jax.nn.gelu`-style references to other projects have no
# inventory offline; they render as code. References inside jaxact resolve.
nitpicky = False
# docs/bench/cpu.md is the benchmark's report as written (its sections start at H3).
suppress_warnings = ["myst.header"]
# MathJax is served from the site itself (copied by jaxact_site): math renders offline.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = f"jaxact {release}"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
html_static_path: list[str] = []
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
