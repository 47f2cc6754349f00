"""The ``jaxact`` command: a dispatcher over its subcommands.

``jaxact list`` prints the table of activations (:mod:`jaxact._src.listing`);
``jaxact demo [compare|depth|swap]`` runs the training demo (:mod:`jaxact.demo.cli`,
needs the ``demo`` extra); ``jaxact bench`` times the activations and tabulates
their residual memory (:mod:`jaxact.bench.cli`). Each subcommand owns its
arguments: its module has ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and
``run(args, parser) -> int``, and reports bad values with ``parser.error`` on its
own parser, so every error names the command. The dispatcher imports only the
subcommand it runs (all three only for ``jaxact --help``), and those modules
import jax, flax and the rest inside ``run``: help and argument errors come at once.

Shared by the subcommands: the default output root :data:`OUT_ROOT` (one folder
per job under it), :func:`out_problem` (an output folder checked before any work
starts), :func:`option_message` (a library error worded for the command line) and
:func:`interrupted` (the one line a Ctrl-C ends with).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType

OUT_ROOT = "jaxact-out"
"""The default output root: each job writes to its folder under it (``jaxact-out/demo``,
``jaxact-out/bench``)."""

INTERRUPTED = 130
"""The exit status after Ctrl-C (SIGINT): 128 + 2, as shells report it."""

# Subcommand -> the module that implements it.
COMMANDS = {
    "list": "jaxact._src.listing",
    "demo": "jaxact.demo.cli",
    "bench": "jaxact.bench.cli",
}


def version() -> str:
    """jaxact's version, without importing anything new: the package's ``__version__``
    (the package is loaded: this module is in it), else the installed metadata."""
    found = getattr(sys.modules.get("jaxact"), "__version__", None)
    if isinstance(found, str):
        return found
    from importlib import metadata

    try:
        return metadata.version("jaxact")
    except metadata.PackageNotFoundError:
        return "unknown"


def out_problem(path: str | os.PathLike[str]) -> str | None:
    """What stops a job from writing to the folder ``path``, or None when it can.

    ``path`` may not exist yet: then its nearest existing parent must be a folder the
    process can write to (the job creates the rest). Nothing is created here, so a
    job refused for another reason afterwards leaves nothing behind.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path):
        if not os.path.isdir(path):
            return "it is a file, not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return "the folder is not writable"
        return None
    parent = path
    while not os.path.exists(parent):
        up = os.path.dirname(parent)
        if up == parent:  # pragma: no cover - the root always exists
            return "it cannot be created"
        parent = up
    if not os.path.isdir(parent):
        return f"it cannot be created: {parent!r} is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"it cannot be created: {parent!r} is not writable"
    return None


def check_out(parser: argparse.ArgumentParser, path: str) -> None:
    """``parser.error`` (exit status 2) naming ``--out`` when ``path`` cannot be written."""
    problem = out_problem(path)
    if problem is not None:
        parser.error(f"argument --out: cannot write to {path!r}: {problem}")


def option_message(message: str, prog: str, options: Mapping[str, str]) -> str:
    """A library error as the command line says it: without the ``prog: `` prefix
    (``parser.error`` adds its own) and with the Python argument names the library
    names (``argument 'batch_size'``) replaced by the options that set them
    (``argument --batch-size:``). Names without an option stay as they are."""
    if message.startswith(f"{prog}: "):
        message = message[len(prog) + 2 :]

    def flag(name: str) -> str:
        return options.get(name, f"'{name}'")

    message = re.sub(
        r"\barguments '(\w+)' and '(\w+)'",
        lambda m: f"arguments {flag(m[1])} and {flag(m[2])}",
        message,
    )
    message = re.sub(
        r"\bargument '(\w+)'(:?)",
        lambda m: f"argument {flag(m[1])}:" if m[1] in options else m[0],
        message,
    )
    return message


def interrupted(prog: str, what: str) -> int:
    """Ends a command stopped by Ctrl-C: one line ``prog: interrupted; what`` on stderr;
    returns :data:`INTERRUPTED`."""
    print(f"{prog}: interrupted; {what}", file=sys.stderr, flush=True)
    return INTERRUPTED


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word that is no option), if any."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jaxact``: parses ``argv`` and runs the subcommand it names."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = argparse.ArgumentParser(prog="jaxact", description="Activation functions for JAX.")
        parser.add_argument("--version", action="version", version=f"jaxact {version()}")
        sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
        chosen = _command(argv)
        modules: dict[str, ModuleType] = {}
        parsers = {}
        for name, path in COMMANDS.items():
            if chosen is None or name == chosen:  # the overview needs every one's HELP
                module = modules[name] = importlib.import_module(path)
                p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
                module.add_arguments(p)
            else:
                p = sub.add_parser(name)
            parsers[name] = p
        args = parser.parse_args(argv)
        return int(modules[args.command].run(args, parsers[args.command]))
    except KeyboardInterrupt:  # the subcommands catch their own; this is before or after
        return interrupted("jaxact", "nothing was written")
    except BrokenPipeError:
        # The reader went away (`jaxact list | head`): stop quietly, as Unix tools do.
        # Python would flush stdout again at exit and print a second error: point it
        # at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # 128 + SIGPIPE, what a shell reports for such a pipeline


if __name__ == "__main__":
    sys.exit(main())
