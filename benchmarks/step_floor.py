"""The floor of the scan training step for an activation that keeps one array.

``jaxact bench --step`` compares jaxact's activations with jax.nn's in an
8-layer ``lax.scan`` MLP. A smooth activation whose derivative is not a function
of its output must keep one more array per layer than the matmul does. This
program times that cost alone: a silu whose forward pass is XLA's own
``x * sigmoid(x)`` and whose saved derivative is a trivial ``x + 1`` (wrong on
purpose: it costs no arithmetic), against jax.nn.silu in the same process,
interleaved. Its ratio is the best any one-array rule can reach on the machine
running it; the ratio for a rule that keeps nothing beyond the output (``d = y``)
is printed too.

    python -m benchmarks.step_floor [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import jax

from jaxact.bench import step_time


def _silu_keeping(derivative: Callable[[jax.Array, jax.Array], jax.Array]):
    @jax.custom_jvp
    def f(x):
        return x * jax.nn.sigmoid(x)

    @f.defjvp
    def jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        y = x * jax.nn.sigmoid(x)
        return y, derivative(x, y) * t

    return f


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_floor")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    cases = {
        "one extra f32 array (d = x + 1)": _silu_keeping(lambda x, y: x + 1.0),
        "nothing beyond the output (d = y)": _silu_keeping(lambda x, y: y),
    }
    for label, fn in cases.items():
        r = step_time(fn, jax.nn.silu, repeats=args.repeats, names=("floor", "jax.nn.silu"))
        lo, med, hi = (r["ratio_baseline"][k] for k in ("min", "median", "max"))
        ms = {k: v["median_s"] * 1e3 for k, v in r["times"].items()}
        print(
            f"{label}: step / jax.nn.silu = {med:.2f} (min {lo:.2f}, max {hi:.2f}); "
            f"ms floor {ms['floor']:.1f}, jax.nn.silu {ms['jax.nn.silu']:.1f}, "
            f"identity {ms['identity']:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
