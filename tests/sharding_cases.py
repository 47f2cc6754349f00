"""Every registry row on a 2 x 4 mesh of host CPU devices, against one device.

Run by ``tests/test_sharding.py`` in a fresh interpreter started with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (the test session's own jax
has one CPU device)::

    python -m tests.sharding_cases [ROW ...]

For each row (all rows when none is named) and each axis type of the mesh (``Auto``,
and ``Explicit``: sharding in types, under ``jax.set_mesh``), the value and the
input gradient (a VJP with a fixed cotangent, both from one function) are computed

* ``jit``: under ``jax.jit`` with ``in_shardings`` / ``out_shardings``, called on
  sharded arrays (``device_put``);
* ``shard_map``: per shard, under ``jax.jit(jax.shard_map(...))``;

and, for the rows of ``EAGER`` only (the fast lane's rows and the first row of
every other family: the rows of a family share their kernels),

* ``jit_host_input``: the same jit called on host arrays (the same executable
  under auto axes; under explicit axes host arrays trace unsharded, and the
  program computes replicated and slices its output);
* ``eager``: eagerly on sharded arrays (one program per primitive: it cost a third
  of the sweep when every row ran it).

Each is compared with the row's jit on one device (eagerly on one device for
``eager``): at most 1 ulp apart (NaN where it is NaN), or ``TOLERANCE[row]``
where the difference is inherent to sharded execution; the sparse maps in ulps of
their slice's largest entry (``SLICE_SCALED``). The batch axes are sharded
(``P("data", "model", None)``); the last axis, which the vector rows act along, is
not. ``meta_acon`` averages over the non-channel axes, so its shards are whole
samples (``P(("data", "model"))``) under ``shard_map``; ``gumbel_softmax`` draws
noise of the shard's shape there, so its reference is the one-device function
applied block by block.

Prints ``FAIL <row> <mode> <axis type> <part>: <detail>`` per failure (``KNOWN``
instead for the rows of ``KNOWN``, and ``FIXED <row>`` for a row of ``KNOWN`` whose
cases all pass, or of ``TOLERANCE`` whose cases are all within 1 ulp: take it off
the list) and ``CASES <n> FAILURES <m>`` at the end; exits with status 1 when a
case failed. Rows run in two worker processes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import sys
import tempfile
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
# The fast lane's rows (tests/test_sharding.py): the three (a table lookup,
# a per-w0 table, a gated row with a parameter), a piecewise-linear row and a
# reduction along an axis.
FAST = ("tanh_shrink", "sine", "swiglu", "relu", "softmax")


def _first_per_family(covered: tuple[str, ...]) -> tuple[str, ...]:
    """The first row of each family none of ``covered`` belongs to."""
    families = {registry.SPECS[n].family for n in covered}
    first: dict[str, str] = {}
    for name, spec in registry.SPECS.items():
        if spec.family not in families:
            first.setdefault(spec.family, name)
    return tuple(first.values())


# Rows also run eagerly on sharded arrays: the fast lane's and one per other family.
EAGER = FAST + _first_per_family(FAST)
# Rows that fail today, each with what fails (found by this sweep; left to their
# modules' owners). Their failures are printed as KNOWN and do not fail the run.
KNOWN: dict[str, str] = {}
# Rows whose sharded result differs from one device's by more than 1 ulp for a
# reason inherent to sharded execution: (the measured worst case in ulps, why).
TOLERANCE: dict[str, tuple[float, str]] = {
    "meta_acon": (
        8.0,
        "jit: the mean over axis 1, which SPEC shards, ends in an all-reduce that adds the "
        "shards' sums in the runtime's order, not the one-device loop's (the value 1 ulp, "
        "the gradient through beta 8)",
    ),
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


# The sparse maps y = [z - tau]_+^p: an entry near the support's edge is the
# difference of two O(1) numbers, so its relative error has no bound (a 1-ulp change
# of tau moves it by many of its own ulps). They are compared in ulps of the largest
# entry of their slice along the last axis (tests/test_normalizing.py holds them to
# 2 ulp of the unit scale against mpmath), within 1 ulp, or within the bound given:
# (bound, why). No FIXED check: whether a shard's program rounds tau as the
# one-device program does depends on the host's code generation.
SLICE_SCALED: dict[str, tuple[float, str]] = {
    "sparsemax": (1.0, ""),
    "entmax15": (2.0, "y = (z - tau)^2: dy/dtau = -2 (z - tau), up to 2 at the top entry"),
    "entmax_bisect": (1.0, ""),
}


def ulps(got: np.ndarray, want: np.ndarray, per_slice: bool = False) -> float:
    """The largest difference in ulps of the larger magnitude (NaN only where NaN);
    with ``per_slice``, of the largest magnitude of the slice along the last axis."""
    got = np.asarray(got, np.float32)
    want = np.asarray(want, np.float32)
    if got.shape != want.shape:
        return np.inf
    nan = np.isnan(want)
    if np.any(np.isnan(got) != nan):
        return np.inf
    same = (got == want) | nan
    mag = np.maximum(np.abs(got), np.abs(want))
    if per_slice:
        mag = np.broadcast_to(np.nanmax(mag, axis=-1, keepdims=True, initial=0.0), mag.shape)
    spacing = np.spacing(mag)
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
    both: Callable[..., Any], mesh: Any, smap_spec: P, x: np.ndarray, g: np.ndarray, full: bool
) -> Iterator[tuple[str, Callable[[], Any], str]]:
    """(mode, thunk, reference) for one mesh; called inside the mesh's context."""
    sharding = NamedSharding(mesh, SPEC)
    jitted = jax.jit(both, in_shardings=sharding, out_shardings=sharding)
    xs, gs = jax.device_put(x, sharding), jax.device_put(g, sharding)
    yield "jit", lambda: jitted(xs, gs), "jit"
    if full:
        # The module above under auto axes (the cache compiles it once); under
        # explicit axes host arrays trace unsharded: another, replicated program.
        yield "jit_host_input", lambda: jitted(x, g), "jit"
        yield "eager", lambda: both(xs, gs), "eager"
    xm = jax.device_put(x, NamedSharding(mesh, smap_spec))
    gm = jax.device_put(g, NamedSharding(mesh, smap_spec))
    # out_shardings as under explicit axes: the same module, compiled once (the cache).
    mapped = jax.jit(
        jax.shard_map(both, mesh=mesh, in_specs=smap_spec, out_specs=smap_spec),
        out_shardings=NamedSharding(mesh, smap_spec),
    )
    yield "shard_map", lambda: mapped(xm, gm), "shard_map"


def cases_per_row(name: str) -> int:
    """2 axis types x (jit, shard_map; for ``EAGER`` also on host arrays and eagerly)
    x (value, grad)."""
    return 2 * (4 if name in EAGER else 2) * len(PARTS)


def run_row(name: str, devices: Any) -> list[tuple[str, str]]:
    """(case, failure or "") for every case of one row."""
    both = value_and_grad(name)
    x = inputs()
    y_shape = jax.eval_shape(lambda v: call(name, v), x).shape
    g = np.random.default_rng(1).normal(size=y_shape).astype(np.float32)
    want = jax.device_get(jax.jit(both)(x, g))
    eager = name in EAGER
    want_eager = jax.device_get(both(x, g)) if eager else None
    smap_spec = SHARD_MAP_SPEC.get(name, SPEC)
    if registry.SPECS[name].kind == "random":
        want_smap = _blockwise(both, x, g, smap_spec)
    else:
        want_smap = want
    bound = TOLERANCE.get(name, SLICE_SCALED.get(name, (1.0, "")))[0]
    worst = 0.0
    results: list[tuple[str, str]] = []
    for axis_type in (AxisType.Auto, AxisType.Explicit):
        mesh = jax.make_mesh(MESH_SHAPE, AXES, (axis_type,) * 2, devices=devices)
        kind = axis_type.name.lower()
        explicit = axis_type == AxisType.Explicit
        with jax.set_mesh(mesh) if explicit else contextlib.nullcontext():
            for mode, fn, expected in _cases(both, mesh, smap_spec, x, g, eager):
                try:
                    got = jax.device_get(fn())
                except Exception as e:  # reported, with the rest of the row's cases
                    line = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300]}"
                    results.extend((f"{name} {mode} {kind} {part}", line) for part in PARTS)
                    continue
                reference = {"jit": want, "eager": want_eager, "shard_map": want_smap}[expected]
                for part, a, b in zip(PARTS, got, reference, strict=True):
                    err = ulps(a, b, per_slice=name in SLICE_SCALED)
                    detail = "" if err <= bound else f"{err:.3g} ulp from one device"
                    results.append((f"{name} {mode} {kind} {part}", detail))
                    worst = max(worst, err)
    if name in TOLERANCE and worst <= 1.0:
        results.append((name, "FIXED: within 1 ulp; take it off TOLERANCE"))
    return results


def _start_worker(cache: str) -> None:
    """A worker process, with a persistent compilation cache of its own: a program
    lowered to the same module again (a row's ``shard_map`` under either axis type,
    its ``jit`` on host or sharded arrays under auto axes) is compiled once."""
    jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(dir=cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def _row(name: str) -> list[tuple[str, str]]:
    with jax.numpy_dtype_promotion("strict"):
        return run_row(name, jax.devices()[:8])


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

    failures = 0
    total = 0
    # Two worker processes (threads contend for the GIL while tracing), rows handed
    # out one at a time.
    with (
        tempfile.TemporaryDirectory() as cache,
        concurrent.futures.ProcessPoolExecutor(
            min(2, len(names)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(cache,),
        ) as pool,
    ):
        for name, results in zip(names, pool.map(_row, names), strict=True):
            for case, detail in results:
                if detail.startswith("FIXED"):
                    failures += 1
                    print(f"FIXED {case}: {detail[7:]}", flush=True)
                    continue
                total += 1
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
