"""Text: plain-text and Markdown tables (the command line's, the site tables), list arguments."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any


def int_list(
    text: str, what: str = "integers", lo: int | None = None, hi: int | None = None
) -> list[int]:
    """A comma-separated list of integers (each in [lo, hi] where given), for argparse.

    Raises:
      argparse.ArgumentTypeError: naming ``what`` was expected, and the text given.
    """
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(
        (lo is not None and v < lo) or (hi is not None and v > hi) for v in values
    ):
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}")
    return values


def format_rows(
    header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False
) -> str:
    """Rows of strings as an aligned text table or a Markdown table (for the CLI's tables)."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*r) for r in rows]
    return "\n".join(out)


def ulp_cell(cell: Mapping[str, Any] | None) -> str:
    """An accuracy benchmark result (``{"ulp": ..., "bad": ...}``) as a table cell: the max
    ulp, with the count of bad points in bold before it where there are any."""
    if cell is None:
        return "—"
    ulp = float(cell["ulp"])
    text = f"{ulp:.2f}" if ulp < 1e4 else f"{ulp:.1e}"
    return text if not cell.get("bad") else f"**{cell['bad']} bad**, {text}"
