"""The ``jaxact demo`` command: its arguments and its run.

Importing this module needs only the standard library, so ``jaxact --help`` and
the other subcommands work without the ``demo`` extra; :func:`run` imports the
studies (flax, optax, orbax, scikit-learn, matplotlib) and says which extra to
install when they are missing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

from jaxact import cli
from jaxact._src.text import int_list

HELP = "train MLPs on digits and compare activations (needs jaxact[demo])"
DESCRIPTION = (
    "Train the same Flax NNX MLP with optax on scikit-learn's bundled digits (or "
    "--data) and compare activations: 'compare' (default) tabulates accuracy, loss, "
    "convergence speed, step time and activation health over several seeds; 'depth' "
    "shows gradient norms at init and accuracy for 2 to 32 layers; 'swap' trains a "
    "sigmoid network, swaps its activations and trains on; 'deploy' quantizes (Qwix: int8 "
    "and int4 weights, int8 activations, QAT) and prunes (50, 80, 90 percent, with and without a "
    "fine-tune) each trained network and measures its activations' zeros, range and "
    "kurtosis (needs jaxact[deploy] for the quantization). Data-parallel over every "
    "visible device; writes Markdown, JSON and PNG files (and compare's checkpoints) to "
    "--out. Ctrl-C stops it and prints the command that continues."
)

DEFAULT_OUT = os.path.join(cli.OUT_ROOT, "demo")

# Python argument (of the studies and TrainConfig) -> the option that sets it: the
# errors of the Python API name the former, the command's the latter.
OPTIONS = {
    name: "--" + name.replace("_", "-")
    for name in (
        "activations",
        "epochs",
        "seeds",
        "batch_size",
        "hidden",
        "learning_rate",
        "data",
        "out",
        "resume",
        "fresh",
        "checkpoint_every",
        "depths",
        "width",
        "old",
        "new",
        "sparsities",
        "finetune_epochs",
    )
} | {"target_accuracy": "--target"}

# The options that belong to one study only.
STUDY_OPTIONS = {
    "compare": ("resume", "fresh", "checkpoint_every"),
    "depth": ("depths", "width"),
    "swap": ("old", "new"),
    "deploy": ("sparsities", "finetune_epochs"),
}


def _ints(text: str) -> list[int]:
    return int_list(text)


def _floats(text: str) -> list[float]:
    """Comma-separated numbers (their range is the study's to check, in its own words)."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Adds the ``jaxact demo`` arguments to ``p``."""
    p.add_argument("study", nargs="?", default="compare", choices=list(STUDY_OPTIONS))
    p.add_argument("--quick", action="store_true", help="a fast, smaller run")
    p.add_argument(
        "--activations",
        help="comma-separated names (compare: the 11 defaults; depth: sigmoid,tanh,relu,selu,"
        "gelu; deploy: compare's and relu6,hard_swish); 'prelu' and 'pau' are learnable layers",
    )
    p.add_argument("--epochs", type=_ints, help="epochs per run (swap: BEFORE[,AFTER])")
    p.add_argument(
        "--seeds", type=int, help="runs per activation (compare 5, swap 3, deploy 3, depth 1)"
    )
    p.add_argument("--batch-size", type=int, help="samples per step, a multiple of the devices")
    p.add_argument("--hidden", type=_ints, help="hidden widths, e.g. 128,128,128,128")
    p.add_argument("--learning-rate", type=float, help="AdamW peak learning rate (3e-3)")
    p.add_argument(
        "--target", type=float, help="target test accuracy for convergence, a fraction (0.95)"
    )
    p.add_argument("--data", help="a .npz file with arrays x and y (optional x_test, y_test)")
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder (default: {DEFAULT_OUT}), checked before training starts and "
        "locked while a study writes to it",
    )
    restart = p.add_mutually_exclusive_group()
    restart.add_argument(
        "--resume",
        action="store_true",
        help="compare: continue each run from its checkpoint in --out, verified against the "
        "digests saved with it (a missing or damaged one stops the demo and names its folder)",
    )
    restart.add_argument(
        "--fresh",
        action="store_true",
        help="compare: delete the checkpoints in --out first, even damaged ones, and train "
        "from scratch (as without --resume)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        help="compare: orbax checkpoint every N epochs and at the end (5; 0 saves none)",
    )
    p.add_argument("--depths", type=_ints, help="depth: hidden-layer counts (2,4,8,16,32)")
    p.add_argument("--width", type=int, help="depth: hidden width (64)")
    p.add_argument("--old", help="swap: the activation trained first (sigmoid)")
    p.add_argument("--new", help="swap: the activation swapped in (relu)")
    p.add_argument(
        "--sparsities",
        type=_floats,
        help="deploy: fractions of each kernel pruned (0.5,0.8,0.9)",
    )
    p.add_argument(
        "--finetune-epochs",
        type=int,
        help="deploy: epochs of the QAT and pruning fine-tunes (3; quick 1)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Refuses options of another study and --epochs with the wrong count, before training."""
    study = args.study
    for other, options in STUDY_OPTIONS.items():
        for option in options:
            if other != study and getattr(args, option) not in (None, False):
                flag = "--" + option.replace("_", "-")
                parser.error(f"{flag} does not apply to 'jaxact demo {study}'")
    epochs = args.epochs
    if study == "swap":
        if args.activations is not None:
            parser.error("'jaxact demo swap' takes --old and --new, not --activations")
        if epochs is not None and len(epochs) > 2:
            parser.error("--epochs takes BEFORE[,AFTER] for 'jaxact demo swap'")
    elif epochs is not None and len(epochs) != 1:
        parser.error(f"--epochs takes one number for 'jaxact demo {study}'")


def _command(args: argparse.Namespace, resume: bool) -> str:
    """The ``jaxact demo`` command line of ``args`` (the options the user gave, the
    output folder always), with ``--resume`` in place of ``--fresh`` when ``resume``."""
    words = ["jaxact", "demo", args.study]
    for name in ("quick", "no_progress"):
        if getattr(args, name):
            words.append("--" + name.replace("_", "-"))
    for dest in (
        "activations",
        "epochs",
        "seeds",
        "batch_size",
        "hidden",
        "learning_rate",
        "target",
        "data",
        "checkpoint_every",
        "depths",
        "width",
        "old",
        "new",
        "sparsities",
        "finetune_epochs",
    ):
        value = getattr(args, dest)
        if value is not None:
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            words += ["--" + dest.replace("_", "-"), text]
    words += ["--out", args.out]
    if resume:
        words.append("--resume")
    elif args.fresh:
        words.append("--fresh")
    return shlex.join(words)


def _interrupted(args: argparse.Namespace) -> int:
    """The one line after Ctrl-C: the command that continues (compare) or starts over."""
    if args.study != "compare":
        what = "this study keeps no checkpoints; start it over with: "
    elif args.checkpoint_every == 0:
        what = "--checkpoint-every 0 saved no checkpoints; start over with: "
    else:
        return cli.interrupted("jaxact demo", f"continue with: {_command(args, True)}")
    return cli.interrupted("jaxact demo", what + _command(args, False))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Runs the study named by parsed :func:`add_arguments` options.

    Bad values end in ``parser.error`` (exit status 2), naming the option, before any
    training starts (``--out`` included: a file, or a folder that cannot be created or
    written); a checkpoint that cannot be resumed, or an output folder another demo is
    using, in one ``jaxact demo: ...`` line on stderr and exit status 1; Ctrl-C in one
    line naming the command that continues, exit status 130.
    """
    _check(args, parser)
    cli.check_out(parser, args.out)
    try:
        return _run(args, parser)
    except KeyboardInterrupt:
        return _interrupted(args)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        from jaxact.demo import studies, training
    except ImportError as e:
        parser.error(f"jaxact demo needs the demo extra ({e}): pip install 'jaxact[demo]'")
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
        common: dict[str, Any] = {
            "config": training.TrainConfig(**overrides),
            "data": args.data,
            "out": args.out,
            "quick": args.quick,
            "progress": not args.no_progress,
        }
        epochs = args.epochs
        one = None if epochs is None else epochs[0]
        if args.study == "compare":
            studies.compare(
                args.activations,
                seeds=args.seeds,
                epochs=one,
                resume=args.resume,
                fresh=args.fresh,
                **common,
            )
        elif args.study == "deploy":
            from jaxact.demo import deployment

            deployment.deploy(
                args.activations,
                seeds=args.seeds,
                epochs=one,
                finetune_epochs=args.finetune_epochs,
                sparsities=args.sparsities,
                **common,
            )
        elif args.study == "depth":
            studies.depth(
                args.activations,
                depths=args.depths,
                width=64 if args.width is None else args.width,
                epochs=one,
                seeds=1 if args.seeds is None else args.seeds,
                **common,
            )
        else:
            studies.swap(
                args.old or "sigmoid",
                args.new or "relu",
                epochs=None if epochs is None else (epochs[0], epochs[-1]),
                seeds=args.seeds,
                **common,
            )
    except training.CheckpointError as e:
        return _fail(
            f"checkpoint folder {e.folder!r} cannot be resumed: {e.problem}; run again with "
            "--fresh instead of --resume to train from scratch (deleting the checkpoints), or "
            "delete that folder to redo only its run"
        )
    except training.FolderInUseError as e:
        return _fail(f"{e.message}; wait for it to finish or use another --out")
    except ValueError as e:
        parser.error(cli.option_message(str(e), "jaxact demo", OPTIONS))
    return 0


def _fail(message: str) -> int:
    """Prints ``jaxact demo: message`` as one line on stderr; returns exit status 1."""
    print(f"jaxact demo: {message}", file=sys.stderr)
    return 1
