"""The ``jaxact`` command: ``jaxact list`` prints the table of activations."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _rows() -> list[list[str]]:
    from jaxact._src import table

    rows = []
    for name, spec in table.SPECS.items():
        g = table.gain(name)
        flags = [
            ("monotonic", spec.monotonic),
            ("bounded", spec.bounded),
            ("smooth", spec.smooth),
            ("zero-centred", spec.zero_centred),
            ("self-normalizing", spec.self_normalizing),
        ]
        rows.append(
            [
                name,
                spec.family,
                spec.kind,
                ", ".join(f"{k}={v:g}" for k, v in spec.params.items()) or "-",
                " ".join(k for k, on in flags if on) or "-",
                "-" if g is None else f"{g:.4g}",
                " ".join(table.libraries_of(name)) or "research",
            ]
        )
    return rows


HEADER = ["name", "family", "kind", "params", "properties", "gain", "libraries"]


def format_table(rows: list[list[str]], markdown: bool = False) -> str:
    """Formats rows as an aligned text table or a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*HEADER), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*r) for r in rows]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jaxact", description="Activation functions for JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="print every activation with its family and properties")
    p_list.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p_list.add_argument("--library", help="only the names this library uses (torch, keras, ...)")
    args = parser.parse_args(argv)
    if args.command == "list":
        if args.library:
            from jaxact._src import table

            try:
                names = table.LIBRARY_NAMES[args.library]
            except KeyError:
                parser.error(
                    f"unknown library {args.library!r}; choose from {', '.join(table.LIBRARIES)}"
                )
            for n, (target, presets) in names.items():
                extra = ", ".join(f"{k}={v!r}" for k, v in presets.items())
                print(f"{n:24} -> jaxact.{target}" + (f"({extra})" if extra else ""))
            return 0
        rows = _rows()
        print(format_table(rows, markdown=args.markdown))
        print(f"\n{len(rows)} activations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
