"""Every registry row on a 2 x 4 mesh of host CPU devices, against one device.

Run by ``tests/test_sharding.py`` in a fresh interpreter started with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (the test session's own jax
has one CPU device)::

    python -m tests.sharding_cases [ROW ...]

For each row (all rows when none is named) and each axis type of the mesh (``Auto``,
and ``Explicit``: sharding in types, under ``jax.set_mesh``), the value and the
input gradient (a VJP with a fixed cotangent, both from one function) are computed

* ``jit``: under ``jax.jit`` with ``in_shardings`` / ``out_shardings``, called on
  host arrays, and (``jit_sharded_input``) on sharded arrays (``device_put``);
* ``eager``: eagerly on sharded arrays;
* ``shard_map``: per shard, under ``jax.jit(jax.shard_map(...))``;

and compared with the row's jit on one device: at most 1 ulp apart (NaN where it
is NaN). The batch axes are sharded (``P("data", "model", None)``); the last axis,
which the vector rows act along, is not. ``meta_acon`` averages over the
non-channel axes, so its shards are whole samples (``P(("data", "model"))``) under
``shard_map``; ``gumbel_softmax`` draws noise of the shard's shape there, so its
reference is the one-device function applied block by block.

Prints ``FAIL <row> <mode> <axis type> <part>: <detail>`` per failure (``KNOWN``
instead for the rows of ``KNOWN``, and ``FIXED <row>`` for a row of ``KNOWN`` whose
cases all pass: take it off the list) and ``CASES <n> FAILURES <m>`` at the end;
exits with status 1 when a case failed. Rows run on two threads (compilation
releases the GIL).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxact._src import registry
from tests.test_generic import call

SHAPE = (8, 4, 8)  # batch axes (2 x 4 shards), then the feature axis
SPEC = P("data", "model", None)
MESH_SHAPE = (2, 4)
AXES = ("data", "model")
# Per-shard specs where a row is not a function of each shard of SPEC alone.
SHARD_MAP_SPEC = {"meta_acon": P(("data", "model"), None, None)}
PARTS = ("value", "grad")
# Rows that fail today, each with what fails (found by this sweep; left to their
# modules' owners). Their failures are printed as KNOWN and do not fail the run.
KNOWN = {
    "softmax1": "explicit axes: ShardingTypeError (operands of different shardings)",
    "entmax_bisect": "explicit axes: ShardingTypeError in a select; shard_map: scan carry "
    "types differ",
    "maxout": "eager, explicit axes: ShardingTypeError in a select",
    "gelu_tanh": "jit, explicit axes: the gradient is 19 ulp from one device",
    "rational": "jit, explicit axes: the gradient is ~100 ulp from one device",
    "meta_acon": "the gradient is 2-13 ulp from one device",
    "isru": "the value is 2 ulp from one device (also eagerly)",
    "bent_identity": "the gradient is 3 ulp from one device (also eagerly)",
}


def inputs(seed: int = 0) -> np.ndarray:
    """Values in [-4, 4] away from every kink of the table (multiples of 0.5)."""
    x = np.random.default_rng(seed).uniform(-4.0, 4.0, SHAPE).astype(np.float32)
    near = np.abs(x - np.round(2 * x) / 2) < 0.02
    return np.where(near, x + np.float32(0.1), x)


def value_and_grad(name: str) -> Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """``(f(x), g^T f'(x))``: the value and the input gradient, one function."""

    def both(x: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array]:
        y, pullback = jax.vjp(lambda v: call(name, v), x)
        return y, pullback(g)[0]

    return both


def ulps(got: np.ndarray, want: np.ndarray) -> float:
    """The largest difference in ulps of the larger magnitude (NaN only where NaN)."""
    got = np.asarray(got, np.float32)
    want = np.asarray(want, np.float32)
    if got.shape != want.shape:
        return np.inf
    nan = np.isnan(want)
    if np.any(np.isnan(got) != nan):
        return np.inf
    same = (got == want) | nan
    spacing = np.spacing(np.maximum(np.abs(got), np.abs(want)))
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64)) / spacing
    return float(np.max(np.where(same, 0.0, diff), initial=0.0))


def _blocks(spec: P) -> Iterator[tuple[slice, ...]]:
    """The index of every shard of ``SHAPE`` under ``spec`` on the mesh."""
    sizes = dict(zip(AXES, MESH_SHAPE, strict=True))
    counts = []
    for entry in (*spec, *(None,) * (len(SHAPE) - len(spec))):
        names = () if entry is None else (entry,) if isinstance(entry, str) else entry
        counts.append(int(np.prod([sizes[n] for n in names])))
    for index in np.ndindex(*counts):
        yield tuple(
            slice(i * (n // c), (i + 1) * (n // c))
            for i, n, c in zip(index, SHAPE, counts, strict=True)
        )


def _blockwise(both: Callable[..., Any], x: np.ndarray, g: np.ndarray, spec: P) -> Any:
    y = np.zeros(g.shape, np.float32)
    dx = np.zeros(x.shape, np.float32)
    fn = jax.jit(both)
    for idx in _blocks(spec):
        y[idx], dx[idx] = jax.device_get(fn(x[idx], g[idx]))
    return y, dx


def _cases(
    both: Callable[..., Any], mesh: Any, smap_spec: P, x: np.ndarray, g: np.ndarray
) -> Iterator[tuple[str, Callable[[], Any], str]]:
    """(mode, thunk, reference) for one mesh; called inside the mesh's context."""
    sharding = NamedSharding(mesh, SPEC)
    jitted = jax.jit(both, in_shardings=sharding, out_shardings=sharding)
    yield "jit", lambda: jitted(x, g), "jit"
    xs, gs = jax.device_put(x, sharding), jax.device_put(g, sharding)
    yield "jit_sharded_input", lambda: jitted(xs, gs), "jit"  # the same executable
    yield "eager", lambda: both(xs, gs), "eager"
    xm = jax.device_put(x, NamedSharding(mesh, smap_spec))
    gm = jax.device_put(g, NamedSharding(mesh, smap_spec))
    mapped = jax.jit(jax.shard_map(both, mesh=mesh, in_specs=smap_spec, out_specs=smap_spec))
    yield "shard_map", lambda: mapped(xm, gm), "shard_map"


def run_row(name: str, devices: Any) -> list[tuple[str, str]]:
    """(case, failure or "") for every case of one row."""
    both = value_and_grad(name)
    x = inputs()
    y_shape = jax.eval_shape(lambda v: call(name, v), x).shape
    g = np.random.default_rng(1).normal(size=y_shape).astype(np.float32)
    want = jax.device_get(jax.jit(both)(x, g))
    want_eager = jax.device_get(both(x, g))
    smap_spec = SHARD_MAP_SPEC.get(name, SPEC)
    if registry.SPECS[name].kind == "random":
        want_smap = _blockwise(both, x, g, smap_spec)
    else:
        want_smap = want
    results: list[tuple[str, str]] = []
    for axis_type in (AxisType.Auto, AxisType.Explicit):
        mesh = jax.make_mesh(MESH_SHAPE, AXES, (axis_type,) * 2, devices=devices)
        kind = axis_type.name.lower()
        explicit = axis_type == AxisType.Explicit
        with jax.set_mesh(mesh) if explicit else contextlib.nullcontext():
            for mode, fn, expected in _cases(both, mesh, smap_spec, x, g):
                try:
                    got = jax.device_get(fn())
                except Exception as e:  # reported, with the rest of the row's cases
                    line = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300]}"
                    results.extend((f"{name} {mode} {kind} {part}", line) for part in PARTS)
                    continue
                reference = {"jit": want, "eager": want_eager, "shard_map": want_smap}[expected]
                for part, a, b in zip(PARTS, got, reference, strict=True):
                    err = ulps(a, b)
                    detail = "" if err <= 1.0 else f"{err:.3g} ulp from one device"
                    results.append((f"{name} {mode} {kind} {part}", detail))
    return results


def main(argv: list[str]) -> int:
    devices = jax.devices()
    if len(devices) < 8:
        print(f"FAIL setup: {len(devices)} devices, need 8 (XLA_FLAGS)")
        return 1
    names = argv or list(registry.SPECS)
    unknown = [n for n in names if n not in registry.SPECS]
    if unknown:
        print(f"FAIL setup: unknown rows {unknown}")
        return 1

    def row(name: str) -> list[tuple[str, str]]:
        with jax.numpy_dtype_promotion("strict"):
            return run_row(name, devices[:8])

    failures = 0
    total = 0
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for name, results in zip(names, pool.map(row, names), strict=True):
            total += len(results)
            for case, detail in results:
                if detail:
                    failures += name not in KNOWN
                    print(f"{'KNOWN' if name in KNOWN else 'FAIL'} {case}: {detail}", flush=True)
            if name in KNOWN and not any(detail for _, detail in results):
                failures += 1
                print(f"FIXED {name}: passes; take it off KNOWN", flush=True)
    print(f"CASES {total} FAILURES {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
