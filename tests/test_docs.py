"""The documentation runs as written and speaks of the project.

Every ``python`` block of README.md and docs/*.md runs in a fresh interpreter
namespace, as a reader who copies that one block would run it; a block whose first
line is ``# continues the example above`` runs after the blocks before it on its page
(in their namespace), as in a tutorial. The blocks run under JAX's default dtype
promotion (the rest of the suite runs under strict promotion).
"""

from __future__ import annotations

import pathlib
import re

import jax
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
CONTINUES = "# continues the example above\n"
# Pages whose examples train or build several models (seconds each) run in the full suite.
HEAVY = {
    "README.md",
    "docs/choosing.md",
    "docs/demo.md",
    "docs/layers.md",
    "docs/porting.md",
    "docs/swapping.md",
}


def python_blocks(page: str) -> list[str]:
    """The ``python`` fenced blocks of a page, in order."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_every_page_is_listed_and_examples_are_found() -> None:
    assert "docs/swapping.md" in PAGES and "docs/registry.md" in PAGES
    assert sum(len(python_blocks(p)) for p in PAGES) >= 20
    # A continuation needs something to continue.
    for page in PAGES:
        blocks = python_blocks(page)
        assert not (blocks and blocks[0].startswith(CONTINUES)), page


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=[pytest.mark.slow] if p in HEAVY else []) for p in PAGES],
)
def test_documented_examples_run(page: str) -> None:
    namespace: dict[str, object] = {}
    with jax.numpy_dtype_promotion("standard"):
        for i, block in enumerate(python_blocks(page)):
            if not block.startswith(CONTINUES):
                namespace = {"__name__": "__main__"}
            exec(compile(block, f"{page} (python block {i})", "exec"), namespace)


# Words about how the work on the project was organised (who lent what to whom, which
# task asked for a number), not about the project.
_NOT_ABOUT_THE_PROJECT = re.compile(
    r"was lent|no GPU was lent|this session|from the issue|the \w+ issue\b|"
    r"in this (?:work|task)\b",
    re.I,
)


@pytest.mark.parametrize("page", PAGES)
def test_docs_speak_of_the_project(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    found = [m.group(0) for m in _NOT_ABOUT_THE_PROJECT.finditer(text)]
    assert not found, (page, found)
