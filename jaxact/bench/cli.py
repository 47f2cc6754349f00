"""The ``jaxact bench`` command: its arguments and its run.

:func:`add_arguments` and :func:`run` serve the ``bench`` subcommand of
``jaxact`` (see :mod:`jaxact.cli`); :func:`main` is the same command on its
own parser (``python -m jaxact.bench``, ``python -m benchmarks.speed``). Importing
it and adding its arguments needs no jax: :func:`run` imports the benchmark.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from jaxact import cli
from jaxact._src.text import int_list
from jaxact.bench.config import (
    DEFAULT_CPU_SIZES,
    DEFAULT_DTYPES,
    DEFAULT_REPEATS,
    DEFAULT_SIZES,
    DEFAULT_STEP_SHAPE,
    DEFAULT_TIERS,
    DEFAULT_WARMUP,
    DTYPES,
    QUICK_BLOCK_SHAPE,
    QUICK_REPEATS,
    QUICK_SIZES,
    QUICK_STEP_SHAPE,
    QUICK_WARMUP,
    SECTIONS,
)

HELP = "time activations and model blocks against jax.nn; residual memory table"
DESCRIPTION = (
    "Time every elementwise activation (or --functions) under jit on the default "
    "backend: forward and forward+backward as ratios to a plain copy of the same bytes "
    "and to jax.nn's version, achieved GB/s and compile time; a scan-MLP training step "
    "(8 layers by default) against jax.nn; the training step of model blocks "
    "(transformer MLP, ViT, SwiGLU, ResNet) built with jaxact's and with jax.nn's "
    "activations; and the residual-memory table (--memory alone is compile-only and "
    "fast). jaxact is timed once per precision tier (--tiers). Prints tables and writes "
    "JSON, Markdown and PNG to --out (checked before any timing starts) at the end."
)

DEFAULT_OUT = os.path.join(cli.OUT_ROOT, "bench")

# Python argument of jaxact.bench.run -> the option that sets it (for its errors).
OPTIONS = {
    name: "--" + name.replace("_", "-")
    for name in (
        "functions",
        "dtypes",
        "sizes",
        "repeats",
        "warmup",
        "buffers",
        "step_shape",
        "step_repeats",
        "tiers",
    )
}


def _log2_list(text: str) -> list[int]:
    return int_list(text, "log2 sizes between 4 and 30 (e.g. 20,24)", lo=4, hi=30)


def _dtype_list(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values or any(v not in DTYPES for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated dtypes from {', '.join(DTYPES)}, got {text!r}"
        )
    return values


def _tier_list(text: str) -> list[str]:
    from jaxact._src.precision import TIERS

    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values or any(v not in TIERS for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated precision tiers from {', '.join(TIERS)}, got {text!r}"
        )
    return list(dict.fromkeys(values))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _shape(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected LAYERS,WIDTH,BATCH as three positive integers, got {text!r}"
        )
    return values[0], values[1], values[2]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Adds the ``jaxact bench`` options to ``p`` (the subcommand, :func:`main`, speed.py)."""
    p.add_argument(
        "--functions",
        metavar="NAMES",
        help="comma-separated jaxact names (default: every elementwise activation); "
        "'jax.nn' = those jax.nn also has",
    )
    p.add_argument(
        "--dtypes",
        type=_dtype_list,
        metavar="DTYPES",
        help=f"comma-separated dtypes (default: {','.join(DEFAULT_DTYPES)})",
    )
    p.add_argument(
        "--sizes",
        type=_log2_list,
        metavar="LOG2S",
        help="log2 element counts of the timing arrays (default: "
        f"{','.join(map(str, DEFAULT_CPU_SIZES))} on CPU, {','.join(map(str, DEFAULT_SIZES))} "
        f"on GPU/TPU; --quick: {','.join(map(str, QUICK_SIZES))})",
    )
    p.add_argument(
        "--repeats",
        type=_positive,
        metavar="N",
        help=f"timed calls per candidate (default {DEFAULT_REPEATS}; --quick {QUICK_REPEATS})",
    )
    p.add_argument(
        "--warmup",
        type=_non_negative,
        metavar="N",
        help=f"untimed calls per candidate (default {DEFAULT_WARMUP}; --quick {QUICK_WARMUP})",
    )
    p.add_argument(
        "--buffers",
        type=_positive,
        metavar="N",
        help="rotating inputs (default: ~256 MiB worth, 3 to 256)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (CI speed)")
    p.add_argument("--time", action="store_true", help="run the forward/backward timings")
    p.add_argument("--step", action="store_true", help="run the training-step timings")
    p.add_argument(
        "--blocks",
        action="store_true",
        help="run the model-block timings (transformer MLP, ViT, SwiGLU, ResNet; needs flax)",
    )
    p.add_argument(
        "--memory", action="store_true", help="run the memory table (compile-only, fast)"
    )
    p.add_argument(
        "--step-shape",
        type=_shape,
        metavar="L,W,B",
        help="LAYERS,WIDTH,BATCH of the timed scan-MLP step (default "
        f"{','.join(map(str, DEFAULT_STEP_SHAPE))}; --quick "
        f"{','.join(map(str, QUICK_STEP_SHAPE))})",
    )
    p.add_argument(
        "--step-repeats",
        type=_positive,
        metavar="N",
        help="timed steps per candidate (default: --repeats)",
    )
    p.add_argument(
        "--tiers",
        type=_tier_list,
        metavar="TIERS",
        help="jaxact precision tiers to time, each traced under jaxact.precision(tier) "
        f"(default: {','.join(DEFAULT_TIERS)}; 'fast' is what the default tier 'auto' "
        "gives float32 and bfloat16)",
    )
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder (default: {DEFAULT_OUT}), checked before any timing starts",
    )
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.epilog = (
        "Sections: --time, --step, --blocks and --memory pick what runs (any "
        "combination); with none of them, all four run."
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Runs the benchmark for parsed :func:`add_arguments` options; prints and writes the report.

    Bad values end in ``parser.error`` (exit status 2), naming the option, before any
    timing starts (``--out`` included: a file, or a folder that cannot be created or
    written); Ctrl-C in one line, exit status 130.
    """
    cli.check_out(parser, args.out)
    try:
        return _run(args, parser)
    except KeyboardInterrupt:
        return cli.interrupted("jaxact bench", f"nothing was written to {args.out!r}")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from jaxact.bench import report, suite

    sections = [s for s in SECTIONS if getattr(args, s)] or list(SECTIONS)
    quick = args.quick

    def pick(value: Any, normal: Any, fast: Any) -> Any:
        return value if value is not None else (fast if quick else normal)

    try:
        result = suite.run(
            args.functions,
            dtypes=args.dtypes or DEFAULT_DTYPES,
            sizes=pick(args.sizes, None, QUICK_SIZES),
            repeats=pick(args.repeats, DEFAULT_REPEATS, QUICK_REPEATS),
            warmup=pick(args.warmup, DEFAULT_WARMUP, QUICK_WARMUP),
            buffers=args.buffers,
            sections=sections,
            step_shape=pick(args.step_shape, DEFAULT_STEP_SHAPE, QUICK_STEP_SHAPE),
            step_repeats=args.step_repeats,
            tiers=args.tiers or DEFAULT_TIERS,
            block_shape=QUICK_BLOCK_SHAPE if quick else None,
            torch=not args.no_torch,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except ValueError as e:
        parser.error(cli.option_message(str(e), "jaxact bench", OPTIONS))
    print(f"Machine: {report.machine_line(result['machine'])}")
    for note in result["notes"]:
        print(f"Note: {note}")
    print()
    print(report.format_tables(result))
    paths = report.write_report(result, args.out)
    print(f"{result['elapsed_s']:.0f} s; written: " + ", ".join(str(p) for p in paths.values()))
    return 0


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Command-line entry point with the options of ``jaxact bench``.

    Args:
      argv: the arguments (default: ``sys.argv[1:]``).
      prog: the program name shown in usage and errors.

    Returns:
      The exit status.
    """
    parser = argparse.ArgumentParser(
        prog=prog, description="Speed and memory of jaxact's activations against jax.nn."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
