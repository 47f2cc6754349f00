"""The documentation site: built with warnings as errors, complete, its links resolved.

The full suite builds the whole site once (``sphinx-build -W``, a fresh interpreter,
about a minute and a half on 2 cores) and checks the HTML: every registry row has its
gallery page with its plot, every public name has its entry in the API reference, and
every link between the site's pages (and every anchor they name) resolves. The fast
lane checks the generated page sources without building.

The examples the pages show run elsewhere: the docstrings' examples (the gallery's
and the API reference's "Example" sections) are doctests of ``--doctest-modules``,
and every ``python`` block of the Markdown pages runs in ``tests/test_docs.py``.
"""

from __future__ import annotations

import html.parser
import importlib
import pathlib
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from jaxact import registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

sphinx = pytest.importorskip("sphinx", reason="the docs extra: pip install -e '.[docs]'")
sys.path.insert(0, str(DOCS / "_ext"))
site: Any = importlib.import_module("jaxact_site")


class _Links(html.parser.HTMLParser):
    """The ids, links and images of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "img" and a.get("src"):
            self.images.append(str(a["src"]))


def _parse(path: pathlib.Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The site, built as the README says but into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q"]
        + [str(DOCS), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return out


def _pages(out: pathlib.Path) -> Iterator[pathlib.Path]:
    for page in sorted(out.rglob("*.html")):
        if "_static" not in page.parts and "_modules" not in page.parts:
            yield page


@pytest.mark.slow
def test_every_activation_has_its_page_and_plot(built: pathlib.Path) -> None:
    for name in registry.SPECS:
        page = built / "gallery" / f"{name}.html"
        assert page.exists(), name
        parsed = _parse(page)
        plots = [src for src in parsed.images if src.endswith(f"/{name}.png")]
        assert plots, (name, parsed.images)
        png = (page.parent / plots[0]).resolve()
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png.stat().st_size > 5000, png  # a drawn plot, not an empty canvas
        # The docstring is rendered (its signature) and the sections are all there.
        text = page.read_text(encoding="utf-8")
        for section in ("Definition", "Properties", "Library names", "Accuracy", "Reference"):
            assert f">{section}<" in text, (name, section)
    index = _parse(built / "gallery" / "index.html")
    for name in registry.SPECS:
        assert f"{name}.html" in index.links, name


@pytest.mark.slow
def test_every_public_name_is_in_the_reference(built: pathlib.Path) -> None:
    ids: set[str] = set()
    for page in (built / "api").glob("*.html"):
        ids |= _parse(page).ids
    missing = [
        f"{module}.{name}"
        for module, names in site.api_names().items()
        for name in names
        if f"{module}.{name}" not in ids
    ]
    assert not missing, missing


@pytest.mark.slow
def test_internal_links_and_anchors_resolve(built: pathlib.Path) -> None:
    parsed = {page: _parse(page) for page in _pages(built)}
    assert len(parsed) > len(registry.SPECS) + 10
    broken = []
    for page, links in parsed.items():
        for href in links.links + links.images:
            url = urllib.parse.urlparse(href)
            if url.scheme or href.startswith(("mailto:", "//")):
                continue
            target = (page.parent / urllib.parse.unquote(url.path)).resolve() if url.path else page
            if not target.exists():
                broken.append((page.relative_to(built), href))
            elif url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if url.fragment not in ids:
                    broken.append((page.relative_to(built), href))
    assert not broken, broken[:20]


@pytest.mark.slow
def test_math_renders_offline(built: pathlib.Path) -> None:
    # MathJax is served by the site itself, not from a CDN.
    assert (built / "_static" / "mathjax" / "tex-chtml.js").exists()
    text = (built / "gallery" / "silu.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in text and "cdn.jsdelivr" not in text


def test_the_generated_sources_cover_the_registry_and_the_api() -> None:
    # Without building: the API pages name every public name, and a gallery page's
    # text has what a page must have, from the registry.
    pages = site.api_pages()
    text = "\n".join(pages.values())
    for module, names in site.api_names().items():
        for name in names:
            data = f"{{py:data}} {name}\n:module: {module}\n"
            assert f"{module}.{name}" in text or data in text, (module, name)
    page = site.activation_page("leaky_relu", None, 1.0)
    assert "_plots/leaky_relu.png" in page and ".. autofunction:: jaxact.leaky_relu" in page
    # Every library name of the row, with Keras' own slopes.
    assert "`jaxact.get('keras:leaky_relu')`" in page and "negative_slope=`0.2`" in page
    assert "negative_slope=`0.3`" in page and "`jaxact.get('torch:LeakyReLU')`" in page


@pytest.mark.slow  # the fast lane checks the sources; the build draws every row
def test_every_vector_row_is_plotted_as_a_function_of_one_number() -> None:
    import jax.numpy as jnp

    for name, spec in registry.SPECS.items():
        if spec.kind == "elementwise":
            continue
        y = site.scalar_function(name)(jnp.float32(0.5))
        assert jnp.shape(y) == () and bool(jnp.isfinite(y)), name
        assert site.plotted_as(name), name
