"""What ``jaxact.substitute`` costs at run time: a substituted model against the
same model edited by hand.

For each model block of ``jaxact bench --blocks`` (the transformer MLPs with
either gelu, the ViT block with softmax and erf gelu, the ResNet block with
relu and BatchNorm), three training steps are compiled and run interleaved
round-robin in one process (:func:`jaxact.bench.timing.interleave`), on the
same rotating parameters and inputs:

- ``hand-edited``: the block written with jaxact's activations;
- ``substituted``: the block written with jax.nn's activations, passed through
  ``jaxact.substitute(block.apply, "jaxact")``;
- ``jax.nn``: the block as written, for reference.

The target is ``substituted / hand-edited <= 1.05`` (median over repeats). The
compiled programs' flop and byte counts (XLA's ``cost_analysis``), temporary
memory (``memory_analysis``) and whether the optimised HLO programs hold the same
instructions (opcode by opcode) are printed too: a substitution that computes what
the hand edit computes compiles to the same program.

The SwiGLU block is left out: its jaxact version is the fused ``GatedMLP``, not
the jax.nn block with its gate swapped.

    python -m benchmarks.substitute [--blocks mlp_gelu_tanh,vit] [--dtype float32]
        [--repeats N] [--shape batch,seq,width,heads,images,side,channels]
"""

from __future__ import annotations

import argparse
import collections
import functools
import re
import sys
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import jaxact
from jaxact.bench.blocks import block_step, init_block, make_block
from jaxact.bench.config import (
    DEFAULT_REPEATS,
    DEFAULT_WARMUP,
    as_dtype,
    check_block_shape,
    default_block_shape,
)
from jaxact.bench.timing import interleave, summary

BLOCKS = ("mlp_gelu_tanh", "mlp_gelu_erf", "vit", "resnet")
TARGET = 1.05


def substituted_step(block: nn.Module) -> Callable[..., Any]:
    """:func:`jaxact.bench.blocks.block_step` of ``block`` with every activation
    site replaced by jaxact's version through :func:`jaxact.substitute`."""
    apply = jaxact.substitute(block.apply, "jaxact")

    def loss(params: Any, x: jax.Array, state: Any) -> jax.Array:
        with jax.numpy_dtype_promotion("standard"):
            if state:
                out, _ = apply({"params": params, **state}, x, mutable=list(state))
            else:
                out = apply({"params": params}, x)
        return 0.5 * jnp.mean(jnp.square(out.astype(jnp.float32)))

    return jax.value_and_grad(loss, argnums=(0, 1))


def opcodes(compiled: Any) -> collections.Counter[str]:
    """How many instructions of each opcode the optimised HLO program has."""
    text = re.sub(r", metadata=\{[^}]*\}", "", compiled.as_text())
    return collections.Counter(re.findall(r"= [^ ]+ ([a-z][\w-]*)\(", text))


def _costs(compiled: Any) -> dict[str, float]:
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    memory = compiled.memory_analysis()
    return {
        "flops": float(cost.get("flops", np.nan)),
        "bytes": float(cost.get("bytes accessed", np.nan)),
        "temp_bytes": float(getattr(memory, "temp_size_in_bytes", np.nan)),
    }


def compare(
    name: str,
    *,
    dtype: Any = jnp.float32,
    shape: tuple[int, ...] | None = None,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    buffers: int = 2,
) -> dict[str, Any]:
    """Compiles the three steps of block ``name``, checks they agree, times them.

    Returns ``{"block", "costs", "ratio", "median_s"}``: per label the compiled
    costs and the median step time, and the min/median/max over repeats of
    ``substituted / hand-edited`` and ``hand-edited / jax.nn``.
    """
    sizes = check_block_shape(default_block_shape() if shape is None else shape)
    d = as_dtype(dtype)
    theirs, input_shape = make_block(name, "jax.nn", sizes, d)
    mine, _ = make_block(name, "jaxact", sizes, d)
    arg_sets = [init_block(theirs, input_shape, d, seed) for seed in range(buffers)]
    arg_sets = [(params, x, state) for params, state, x in arg_sets]
    steps = {
        "hand-edited": block_step(mine),
        "substituted": substituted_step(theirs),
        "jax.nn": block_step(theirs),
    }
    compiled = {k: jax.jit(f).lower(*arg_sets[0]).compile() for k, f in steps.items()}
    # The substituted step computes what the hand-edited one does.
    a, b = compiled["substituted"](*arg_sets[0]), compiled["hand-edited"](*arg_sets[0])
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(u, np.float32), np.asarray(v, np.float32), 1e-5, 1e-6)

    def call(label: str, i: int) -> Any:
        return compiled[label](*arg_sets[i % len(arg_sets)])

    times = interleave({k: functools.partial(call, k) for k in steps}, repeats, warmup)
    return {
        "block": name,
        "same_program": opcodes(compiled["substituted"]) == opcodes(compiled["hand-edited"]),
        "costs": {k: _costs(c) for k, c in compiled.items()},
        "median_s": {k: float(np.median(t)) for k, t in times.items()},
        "ratio": {
            "substituted/hand-edited": summary(times["substituted"] / times["hand-edited"]),
            "hand-edited/jax.nn": summary(times["hand-edited"] / times["jax.nn"]),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.substitute", description=__doc__)
    parser.add_argument("--blocks", default=",".join(BLOCKS))
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP)
    parser.add_argument("--shape", default=None, help="batch,seq,width,heads,images,side,channels")
    args = parser.parse_args(argv)
    names = [b for b in args.blocks.split(",") if b]
    unknown = [b for b in names if b not in BLOCKS]
    if unknown:
        parser.error(f"argument --blocks: unknown {unknown}; choose from {', '.join(BLOCKS)}")
    shape = None if args.shape is None else tuple(int(v) for v in args.shape.split(","))
    print(f"jaxact.substitute(block.apply, 'jaxact') vs the block edited by hand ({args.dtype})")
    print(
        f"{'block':<14} {'sub/hand median [min, max]':>28} {'hand/jax.nn':>12} "
        f"{'flops sub/hand':>15} {'temp bytes sub/hand':>20} {'same HLO ops':>13} {'target':>7}"
    )
    worst = 0.0
    for name in names:
        r = compare(name, dtype=args.dtype, shape=shape, repeats=args.repeats, warmup=args.warmup)
        s = r["ratio"]["substituted/hand-edited"]
        h = r["ratio"]["hand-edited/jax.nn"]
        c = r["costs"]
        flops = c["substituted"]["flops"] / c["hand-edited"]["flops"]
        temp = c["substituted"]["temp_bytes"] / max(c["hand-edited"]["temp_bytes"], 1.0)
        worst = max(worst, s["median"])
        print(
            f"{name:<14} {s['median']:>9.3f} [{s['min']:.3f}, {s['max']:.3f}]{'':>5} "
            f"{h['median']:>12.3f} {flops:>15.4f} {temp:>20.4f} "
            f"{'yes' if r['same_program'] else 'no':>13} {'<= ' + str(TARGET):>7}"
        )
    print(f"worst median ratio {worst:.3f} (target <= {TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
