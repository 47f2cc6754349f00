"""The ``jaxact`` command: a dispatcher over its subcommands.

``jaxact list`` prints the table of activations (here); ``jaxact demo
[compare|depth|swap]`` runs the training demo (:mod:`jaxact.demo.cli`, needs the
``demo`` extra); ``jaxact bench`` times the activations and tabulates their
residual memory (:mod:`jaxact.bench.cli`). Each subcommand owns its arguments:
its module has ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and
``run(args, parser) -> int``, and reports bad values with ``parser.error`` on
its own parser, so every error names the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from jaxact.bench import cli as bench_cli
from jaxact.demo import cli as demo_cli

HELP = "print every activation with its family and properties"
DESCRIPTION = None
HEADER = ["name", "family", "kind", "params", "properties", "gain", "libraries"]


def _rows() -> list[list[str]]:
    from jaxact._src import registry

    rows = []
    for name, spec in registry.SPECS.items():
        g = registry.gain(name)
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
                " ".join(registry.libraries_of(name)) or "research",
            ]
        )
    return rows


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Adds the ``jaxact list`` options to ``p``."""
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--library", help="only the names this library uses (torch, keras, ...)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Prints the activations (or one library's names) for parsed :func:`add_arguments` options."""
    from jaxact._src import registry, text

    if args.library:
        try:
            names = registry.LIBRARY_NAMES[args.library]
        except KeyError:
            parser.error(
                f"unknown library {args.library!r}; choose from {', '.join(registry.LIBRARIES)}"
            )
        for n, (target, presets) in names.items():
            extra = ", ".join(f"{k}={v!r}" for k, v in presets.items())
            line = f"{n:24} -> jaxact.{target}" + (f"({extra})" if extra else "")
            own = registry.LIBRARY_FUNCTIONS.get((args.library, n))
            if own is not None:  # the library's kink convention or argument names
                summary = (own.__doc__ or "").strip().splitlines()[0].split(": ", 1)[-1]
                line += f" as {own.__name__}: {summary.replace('``', '').replace(':func:', '')}"
            print(line)
        return 0
    rows = _rows()
    print(text.format_rows(HEADER, rows, args.markdown))
    print(f"\n{len(rows)} activations", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jaxact``: parses ``argv`` and runs the subcommand it names."""
    parser = argparse.ArgumentParser(prog="jaxact", description="Activation functions for JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, ModuleType] = {
        "list": sys.modules[__name__],
        "demo": demo_cli,
        "bench": bench_cli,
    }
    parsers = {}
    for name, module in commands.items():
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(p)
        parsers[name] = p
    args = parser.parse_args(argv)
    return int(commands[args.command].run(args, parsers[args.command]))


if __name__ == "__main__":
    sys.exit(main())
