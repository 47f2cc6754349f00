"""Accuracy of jaxact and jax.nn on the same grid of nasty inputs.

For every elementwise activation with an mpmath reference (the ``MP_REFS`` of
the family tests), evaluates f, f' and f'' on the grid of ``tests/accuracy.py``
in float32 and float64, and sweeps all 65,536 bfloat16 and float16 bit
patterns (f, f'); then does the same for jax.nn's version where jax.nn has
one. Prints a Markdown table and writes it (and JSON) to the output folder.

    python -m benchmarks.accuracy [--out jaxact-out/accuracy] [--only relu,silu]
        [--tiers fast,accurate] [--no-jax-nn]
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import jaxact  # noqa: E402
from jaxact import registry  # noqa: E402
from jaxact._src.text import ulp_cell  # noqa: E402
from tests.accuracy import half_sweep, run_grid  # noqa: E402


def _jax_nn(name: str) -> Callable[..., Any] | None:
    """jax.nn's version of a jaxact activation, taking the same keyword params."""
    nn = jax.nn
    # jax.nn's functions without jaxact's parameter, taking it here.
    special: dict[str, Callable[..., Any]] = {
        "softplus": lambda x, beta=1.0: nn.softplus(beta * x) / beta,
        "squareplus": lambda x, b=4.0: nn.squareplus(x, b),
    }
    if name in special:
        return special[name]
    fn = registry.SPECS[name].jax_nn
    if fn is None:
        return None
    if isinstance(fn, functools.partial):
        return fn
    accepted = set(inspect.signature(fn).parameters)

    def call(x: Any, **params: Any) -> Any:
        # jax.nn's fixed constants (hard_tanh's bounds) are jaxact's defaults.
        return fn(x, **{k: v for k, v in params.items() if k in accepted})

    call.__name__ = name
    return call


def refs() -> dict[str, tuple[Callable[..., Any], Any]]:
    """name -> (jaxact function, mpmath reference), from the family tests."""
    out: dict[str, tuple[Callable[..., Any], Any]] = {}
    for family in registry.families():
        mod = importlib.import_module(f"tests.test_{family}")
        refs = getattr(mod, "MP_REFS", {})  # the vector-valued families test their own way
        out.update({name: (mod.FNS[name], ref) for name, ref in refs.items()})
    return out


def measure(fn: Callable[..., Any], ref: Any, name: str = "", tier: str = "auto") -> dict[str, Any]:
    """Scores of ``fn`` traced under precision ``tier``; ``name`` applies jaxact's
    conventions for that function."""
    with jaxact.precision(tier):  # type: ignore[arg-type]
        return _measure(fn, ref, name)


def _measure(fn: Callable[..., Any], ref: Any, name: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for dtype in (np.float32, np.float64):
        scores = run_grid(fn, ref, dtype, name)
        for order, s in scores.items():
            row[f"{np.dtype(dtype).name}.{order}"] = {
                "bad": s.bad,
                "nonfinite": s.nonfinite,
                "lost": s.lost,
                "sign": s.sign,
                "ulp": s.ulp,
                "worst_x": s.worst_x,
            }
    for dtype in ("bfloat16", "float16"):
        sweep = half_sweep(fn, jax.numpy.dtype(dtype), ref.params)
        for order, (bad, ulp, worst) in sweep.items():
            row[f"{dtype}.{order}"] = {"bad": bad, "ulp": ulp, "worst_x": worst}
    return row


COLUMNS = [f"{d}.{o}" for d in ("float32", "float64") for o in ("f", "d1", "d2")]
COLUMNS += [f"{d}.{o}" for d in ("bfloat16", "float16") for o in ("f", "d1")]


def markdown(results: dict[str, dict[str, Any]]) -> str:
    head = "| function | impl | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for name, impls in results.items():
        for impl, row in impls.items():
            lines.append(
                f"| {name} | {impl} | " + " | ".join(ulp_cell(row[c]) for c in COLUMNS) + " |"
            )
    return "\n".join(lines)


def summary(results: dict[str, dict[str, Any]], impl: str) -> str:
    lines = []
    for col in COLUMNS:
        rows = [(n, r[impl][col]) for n, r in results.items() if impl in r]
        if not rows:
            continue
        bad = sum(c["bad"] for _, c in rows)
        worst_name, worst = max(rows, key=lambda nc: nc[1]["ulp"])
        lines.append(
            f"{impl:16} {col:14} functions={len(rows):3d} bad={bad:5d} "
            f"max_ulp={worst['ulp']:.3g} ({worst_name} at x={worst['worst_x']:.4g})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="jaxact-out/accuracy")
    parser.add_argument("--only", default="", help="comma-separated names")
    parser.add_argument(
        "--tiers", default="fast,accurate", help="comma-separated precision tiers of jaxact"
    )
    parser.add_argument("--no-jax-nn", action="store_true", help="skip jax.nn's versions")
    args = parser.parse_args(argv)
    tiers = [t for t in args.tiers.split(",") if t]
    only = {n for n in args.only.split(",") if n}
    results: dict[str, dict[str, Any]] = {}
    start = time.time()
    for name, (fn, ref) in refs().items():
        if only and name not in only:
            continue
        results[name] = {f"jaxact {t}": measure(fn, ref, name, t) for t in tiers}
        theirs = None if args.no_jax_nn else _jax_nn(fn.__name__)
        if theirs is not None:
            results[name]["jax.nn"] = measure(theirs, ref)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.json").write_text(json.dumps(results, indent=1))
    text = markdown(results)
    summ = "\n".join(summary(results, impl) for impl in [*(f"jaxact {t}" for t in tiers), "jax.nn"])
    (out / "accuracy.md").write_text(text + "\n\n```\n" + summ + "\n```\n")
    print(text)
    print()
    print(summ)
    print(f"\n{len(results)} functions in {time.time() - start:.0f} s; written to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
