"""Screenshots of the built site with headless Chromium, to look at its rendering.

    sphinx-build -W -j 2 -b html docs docs/_build/html
    python docs/screenshot.py [--site docs/_build/html] [--out jaxact-out/docs]
        [--page gallery/silu.html] [--chromium /usr/bin/chromium]

Writes ``gallery.png`` (the gallery's index) and ``<page>.png`` (one activation's page)
into ``--out``. Needs Debian's ``chromium`` package (``apt-get install chromium``);
nothing else, and no network: the site serves its own MathJax.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile


def shoot(chromium: str, page: pathlib.Path, out: pathlib.Path, height: int) -> None:
    """One full-width screenshot of ``page`` (1280 x ``height`` CSS pixels)."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",  # MathJax typesets before the shot
                f"--window-size=1280,{height}",
                f"--screenshot={out}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="docs/_build/html", type=pathlib.Path)
    parser.add_argument("--out", default="jaxact-out/docs", type=pathlib.Path)
    parser.add_argument("--page", default="gallery/silu.html")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not pathlib.Path(args.chromium).exists():
        parser.error(f"no Chromium at {args.chromium!r}: apt-get install chromium")
    pages = {"gallery": args.site / "gallery" / "index.html", "page": args.site / args.page}
    for page in pages.values():
        if not page.exists():
            parser.error(f"{page} does not exist: build the site first (sphinx-build ...)")
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for what, page, height in (
        ("gallery", pages["gallery"], 2400),
        (pathlib.Path(args.page).stem, pages["page"], 2400),
    ):
        target = args.out / f"{what}.png"
        shoot(args.chromium, page, target, height)
        written.append(str(target))
    print("wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
