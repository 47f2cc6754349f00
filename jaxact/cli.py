"""The ``jaxact`` command.

``jaxact list`` prints the table of activations; ``jaxact demo [compare|depth|swap]``
runs the training demo (needs the ``demo`` extra); ``jaxact bench`` times the
activations and tabulates their residual memory.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any


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


HEADER = ["name", "family", "kind", "params", "properties", "gain", "libraries"]


def format_table(rows: list[list[str]], markdown: bool = False) -> str:
    """Formats rows as an aligned text table or a Markdown table."""
    from jaxact._src import text

    return text.format_rows(HEADER, rows, markdown)


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


def _add_demo(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="train MLPs on digits and compare activations (needs jaxact[demo])",
        description=(
            "Train the same Flax NNX MLP with optax on scikit-learn's bundled digits (or "
            "--data) and compare activations: 'compare' (default) tabulates accuracy, loss, "
            "convergence speed, step time and activation health over several seeds; 'depth' "
            "shows gradient norms at init and accuracy for 2 to 32 layers; 'swap' trains a "
            "sigmoid network, swaps its activations and trains on. Data-parallel over every "
            "visible device; writes Markdown, JSON and PNG files to --out."
        ),
    )
    p.add_argument("study", nargs="?", default="compare", choices=["compare", "depth", "swap"])
    p.add_argument("--quick", action="store_true", help="a fast, smaller run")
    p.add_argument(
        "--activations",
        help="comma-separated names (compare: the 11 defaults; depth: sigmoid,tanh,relu,selu,"
        "gelu); 'prelu' and 'pau' are learnable layers",
    )
    p.add_argument("--epochs", type=_ints, help="epochs per run (swap: BEFORE[,AFTER])")
    p.add_argument("--seeds", type=int, help="runs per activation (compare 5, swap 3, depth 1)")
    p.add_argument("--batch-size", type=int, help="samples per step, a multiple of the devices")
    p.add_argument("--hidden", type=_ints, help="hidden widths, e.g. 128,128,128,128")
    p.add_argument("--learning-rate", type=float, help="AdamW peak learning rate (3e-3)")
    p.add_argument("--target", type=float, help="target test accuracy for convergence (0.95)")
    p.add_argument("--data", help="a .npz file with arrays x and y (optional x_test, y_test)")
    p.add_argument("--out", default="jaxact-demo", help="output folder (default: jaxact-demo)")
    p.add_argument("--resume", action="store_true", help="compare: resume from checkpoints")
    p.add_argument(
        "--checkpoint-every", type=int, help="compare: orbax checkpoint every N epochs (5; 0 off)"
    )
    p.add_argument("--depths", type=_ints, help="depth: hidden-layer counts (2,4,8,16,32)")
    p.add_argument("--width", type=int, help="depth: hidden width (64)")
    p.add_argument("--old", help="swap: the activation trained first (sigmoid)")
    p.add_argument("--new", help="swap: the activation swapped in (relu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _run_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        from jaxact import demo
    except ImportError as e:
        parser.error(f"jaxact demo needs the demo extra ({e}): pip install 'jaxact[demo]'")
    study = args.study
    allowed = {
        "compare": {"resume", "checkpoint_every"},
        "depth": {"depths", "width"},
        "swap": {"old", "new"},
    }
    for option in ("resume", "checkpoint_every", "depths", "width", "old", "new"):
        if getattr(args, option) not in (None, False) and option not in allowed[study]:
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} does not apply to 'jaxact demo {study}'")
    try:
        overrides: dict[str, Any] = {}
        for name, field in (
            ("batch_size", "batch_size"),
            ("hidden", "hidden"),
            ("learning_rate", "learning_rate"),
            ("target", "target_accuracy"),
            ("checkpoint_every", "checkpoint_every"),
        ):
            if getattr(args, name) is not None:
                overrides[field] = getattr(args, name)
        config = demo.TrainConfig(**overrides)
        common: dict[str, Any] = {
            "config": config,
            "data": args.data,
            "out": args.out,
            "quick": args.quick,
            "progress": not args.no_progress,
        }
        epochs = args.epochs
        if study != "swap" and epochs is not None and len(epochs) != 1:
            parser.error(f"--epochs takes one number for 'jaxact demo {study}'")
        one = None if epochs is None else epochs[0]
        if study == "compare":
            demo.compare(
                args.activations,
                seeds=args.seeds,
                epochs=one,
                resume=args.resume,
                **common,
            )
        elif study == "depth":
            demo.depth(
                args.activations,
                depths=args.depths,
                width=64 if args.width is None else args.width,
                epochs=one,
                seeds=1 if args.seeds is None else args.seeds,
                **common,
            )
        else:
            if args.activations is not None:
                parser.error("'jaxact demo swap' takes --old and --new, not --activations")
            if epochs is not None and len(epochs) > 2:
                parser.error("--epochs takes BEFORE[,AFTER] for 'jaxact demo swap'")
            demo.swap(
                args.old or "sigmoid",
                args.new or "relu",
                epochs=None if epochs is None else (epochs[0], epochs[-1]),
                seeds=args.seeds,
                **common,
            )
    except ValueError as e:
        parser.error(str(e))
    return 0


def _add_bench(sub: Any) -> argparse.ArgumentParser:
    from jaxact import bench

    p: argparse.ArgumentParser = sub.add_parser(
        "bench",
        help="time activations against a copy and jax.nn; residual memory table",
        description=(
            "Time every elementwise activation (or --functions) under jit on the default "
            "backend: forward and forward+backward as ratios to a plain copy of the same bytes "
            "and to jax.nn's version, achieved GB/s and compile time; a scan-MLP training step "
            "(8 layers by default) against jax.nn; and the residual-memory table (--memory "
            "alone is compile-only and fast). Prints tables and writes JSON, Markdown and PNG "
            "to --out."
        ),
    )
    bench.add_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jaxact", description="Activation functions for JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="print every activation with its family and properties")
    p_list.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p_list.add_argument("--library", help="only the names this library uses (torch, keras, ...)")
    _add_demo(sub)
    p_bench = _add_bench(sub)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _run_demo(args, parser)
    if args.command == "bench":
        from jaxact import bench

        return bench.run_from_args(args, p_bench)
    if args.command == "list":
        if args.library:
            from jaxact._src import registry

            try:
                names = registry.LIBRARY_NAMES[args.library]
            except KeyError:
                parser.error(
                    f"unknown library {args.library!r}; choose from {', '.join(registry.LIBRARIES)}"
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
