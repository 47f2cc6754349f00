"""The floor of the scan training step for an activation that keeps one array.

``jaxact bench --step`` compares jaxact's activations with jax.nn's in an
8-layer ``lax.scan`` MLP. An activation whose derivative is not (accurately) a
function of its output must keep one more array per layer than the matmul
does. This program times that cost alone: for each function, a version whose
forward pass is jax.nn's own and whose saved derivative is a trivial ``x + 1``
(wrong on purpose: it costs no arithmetic), against jax.nn's function in the
same process, interleaved. Its ratio is the best any one-array rule can reach
for that function on the machine running it. For silu the ratio of a rule that
keeps nothing beyond its output (``d = y``) is printed too.

With ``--tiers``, jaxact's own function is timed in the same way under each
precision tier, so its ratio reads directly against the floor: what is left above
the floor is the arithmetic of its derivative rule.

    python -m benchmarks.step_floor [--functions silu,tanh] [--repeats N] [--tiers fast,accurate]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import jax

import jaxact
from jaxact import registry
from jaxact._src.precision import TIERS
from jaxact.bench import step_time

# The smooth elementwise functions jax.nn also has, with jax.nn's version as the
# baseline (both facts from the registry); every one of them is measured by default.
BASELINES: dict[str, Callable[[jax.Array], jax.Array]] = {
    name: spec.jax_nn
    for name, spec in registry.SPECS.items()
    if spec.jax_nn is not None and spec.kind == "elementwise" and not spec.piecewise_linear
}


def _keeping(
    fn: Callable[[jax.Array], jax.Array], derivative: Callable[[jax.Array, jax.Array], jax.Array]
) -> Callable[[jax.Array], jax.Array]:
    """``fn``'s values with a custom derivative ``derivative(x, y)`` (kept for backward)."""

    @jax.custom_jvp
    def f(x):
        return fn(x)

    @f.defjvp
    def jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        y = fn(x)
        return y, derivative(x, y) * t

    return f


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_floor")
    parser.add_argument("--functions", default=",".join(BASELINES))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--tiers", default="", help="also time jaxact's function per tier")
    args = parser.parse_args(argv)
    tiers = [t for t in args.tiers.split(",") if t]
    bad = sorted(set(tiers) - set(TIERS))
    if bad:
        parser.error(f"argument --tiers: unknown {bad}; choose from {list(TIERS)}")
    names = [n for n in args.functions.split(",") if n]
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        parser.error(f"argument --functions: unknown {unknown}; choose from {sorted(BASELINES)}")
    cases = [(n, "one extra f32 array (d = x + 1)", lambda x, y: x + 1.0) for n in names]
    if "silu" in names:
        cases.append(("silu", "nothing beyond the output (d = y)", lambda x, y: y))
    for name, label, derivative in cases:
        _report(name, label, _keeping(BASELINES[name], derivative), BASELINES[name], args.repeats)
    for name in names:
        for tier in tiers:
            with jaxact.precision(tier):  # type: ignore[arg-type]
                _report(name, f"jaxact, {tier} tier", registry.SPECS[name].fn, None, args.repeats)
    return 0


def _report(name: str, label: str, fn: Callable, base: Callable | None, repeats: int) -> None:
    """One line: ``fn``'s step time over jax.nn's (``base`` defaults to the registry's)."""
    base = base or BASELINES[name]
    r = step_time(fn, base, repeats=repeats, names=("candidate", "jax.nn"))
    lo, med, hi = (r["ratio_baseline"][k] for k in ("min", "median", "max"))
    ms = {k: v["median_s"] * 1e3 for k, v in r["times"].items()}
    print(
        f"{name:12s} {label}: step / jax.nn = {med:.2f} (min {lo:.2f}, max {hi:.2f}); "
        f"ms candidate {ms['candidate']:.1f}, jax.nn {ms['jax.nn']:.1f}, "
        f"identity {ms['identity']:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
