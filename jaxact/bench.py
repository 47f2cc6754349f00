"""Speed and memory of activations: the library behind ``jaxact bench``.

Three measurements, each for jaxact's function next to jax.nn's where jax.nn
has one, and each usable on any callable of one array:

- :func:`time_function`: forward and forward+backward time of ``fn`` under
  ``jit`` on the default backend, as ratios to a plain copy of the same bytes
  (the bandwidth roofline) and to a baseline function, plus achieved GB/s and
  the compile time (reported separately, never mixed into the timings).
- :func:`step_time`: time of a training step — the 8-layer ``lax.scan`` MLP of
  :func:`jaxact.memory.scan_mlp`, ``jit(grad)`` — with ``fn``, with the baseline
  and with the identity.
- :func:`memory_row`: residual bytes per element (what the pullback keeps) and
  the extra temporary bytes per element per layer of the scan-MLP step
  (compile-only), from :mod:`jaxact.memory`.

How timings are taken (see ``definitions`` in the JSON output):

- Every function is compiled ahead of time (``jit(f).lower(x).compile()``; that
  time is the *compile* column) and then called through the compiled
  executable: ``warmup`` untimed calls, then ``repeats`` timed calls ended by
  ``jax.block_until_ready``. The reported time is the median.
- Inputs rotate over several distinct pre-allocated buffers (about 256 MiB of
  inputs in all, between 3 and 256 buffers) and every call takes the next
  buffer, so no call finds its input in cache because the previous call touched it.
- The candidates (the function, the baseline, the copy; the identity in the
  step) run round-robin inside each repeat, with the starting candidate rotated,
  so machine drift hits all of them equally. A time ratio is computed per
  repeat (``t_fn[r] / t_other[r]``) and summarised as min / median / max.
- *forward*: ``y = fn(x)``. *forward+backward*: one jitted function returning
  ``(y, dx)`` with ``y, pullback = jax.vjp(fn, x); dx = pullback(g)``, where the
  cotangent ``g`` is a random array passed as an argument (it rotates with x),
  so the backward reads ``g`` as in a real step.
- *copy*: ``x * 1 + 0``, which XLA compiles to a single ``copy`` (a fresh output
  buffer, as every activation call has). Its forward+backward under the same
  ``jax.vjp`` harness compiles to two copies, ``y = copy(x)`` and
  ``dx = copy(g)`` — the 2-in/2-out copy, which is the roofline used for the
  forward+backward ratio.
- *bytes moved*: forward = read x + write y; forward+backward = read x, read g,
  write y, write dx. GB/s = bytes moved / median time (1 GB = 1e9 bytes).
- The timed step's default shape is 8 layers, width 128, batch 4096 (float32;
  2 MiB per activation array). There a smooth activation is half or more of
  the step on a 2-core CPU (with jax.nn: silu 2.0x the identity step, gelu tanh
  2.3x, gelu erf 1.9x, mish 2.5x; relu 1.04x), so differences between
  activations stay visible, and a step takes 20-300 ms, so all 57 functions
  fit in about 2 minutes. Width 256 or batch 8192 give a similar share at 4-8x
  the time per step.
- Defaults: float32 and bfloat16; 2**20 and 2**22 elements on CPU, 2**20 and
  2**24 on GPU/TPU (on CPU, allocating and first-touching a fresh 2**24-element
  output dominates every call — a copy reaches 3.6-7 GB/s there, 22 GB/s at
  2**22 — and the run would take 15-20 minutes); 15 repeats after 2 warm-up
  calls. The whole default run takes 5-7 minutes on a 2-core CPU, about half
  of it compiling (every function is compiled per dtype and size); ``--quick``
  about 2 minutes.

Example:
  >>> import jax, jaxact
  >>> from jaxact.bench import time_function
  >>> r = time_function(lambda x: x * 2.0, size=1 << 10, repeats=3, warmup=1)
  >>> sorted(r["fwd"]["times"]), r["fwd"]["bytes"]
  (['copy', 'fn'], 8192)
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import functools
import gc
import inspect
import json
import math
import os
import pathlib
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact import memory
from jaxact._src import registry, text

__all__ = [
    "time_function",
    "step_time",
    "memory_row",
    "jax_nn_counterpart",
    "resolve_functions",
    "machine",
    "default_sizes",
    "run",
    "write_report",
    "format_tables",
    "add_arguments",
    "run_from_args",
    "main",
]

Array = jax.Array
Fn = Callable[[Array], Array]
Table = tuple[str, list[str], list[list[str]]]  # title, header, rows

MODES = ("fwd", "fwd+bwd")
SECTIONS = ("time", "step", "memory")
DTYPES = ("float32", "bfloat16", "float16")

# Defaults of a full run and of --quick. On CPU the largest default size is 2**22: at
# 2**24 elements allocating and first-touching each call's fresh output dominates (a
# copy reaches 3.6-7 GB/s there, 22 GB/s at 2**22) and a full run takes 15-20 minutes.
DEFAULT_DTYPES = ("float32", "bfloat16")
DEFAULT_SIZES = (20, 24)
DEFAULT_CPU_SIZES = (20, 22)
DEFAULT_REPEATS = 15
DEFAULT_WARMUP = 2
DEFAULT_STEP_SHAPE = (8, 128, 4096)
QUICK_SIZES = (12, 16)
QUICK_REPEATS = 5
QUICK_WARMUP = 1
QUICK_STEP_SHAPE = (4, 64, 1024)
MEMORY_SHAPE = (8, 256, 1024)  # jaxact.memory.scan_step_memory's defaults

ROTATION_BYTES = 256 << 20  # inputs in rotation: enough to leave every cache
MIN_BUFFERS, MAX_BUFFERS = 3, 256

DEFINITIONS = {
    "time": "median wall time of a call to the compiled executable, ended by "
    "jax.block_until_ready, after warm-up; inputs rotate over distinct buffers",
    "fwd": "y = fn(x) under jit",
    "fwd+bwd": "one jit returning (y, dx): y, pullback = jax.vjp(fn, x); dx = pullback(g), "
    "g a random cotangent passed as an argument",
    "copy": "x * 1 + 0 (XLA: one copy into a fresh buffer); its fwd+bwd under the same "
    "harness is two copies (y = copy(x), dx = copy(g)), the 2-in/2-out roofline",
    "ratio": "per repeat t_a / t_b from round-robin interleaved calls; min / median / max "
    "over repeats; < 1 means faster than the reference",
    "bytes": "fwd: read x + write y; fwd+bwd: read x + read g + write y + write dx",
    "gbps": "bytes moved / median time, 1 GB = 1e9 bytes",
    "compile_s": "time of jit(f).lower(args).compile(), not part of any timing",
    "step": "jit(grad) of an MLP whose layers (h <- fn(h) @ W) run in lax.scan "
    "(jaxact.memory.scan_mlp), float32; ratios to the same step with jax.nn's "
    "function and with the identity",
    "residual_bytes": "bytes per input element held by the jax.vjp pullback under jit "
    "(jaxact.memory.residual_bytes)",
    "scan_extra": "extra compiled temp bytes per activation element per layer of the "
    "scan-MLP step over the identity (jaxact.memory.scan_mlp, compile-only)",
    "scan_stacked": "compiled temp bytes each further layer of the scan-MLP step adds per "
    "element over the identity: the residuals stacked per layer "
    "(jaxact.memory.scan_step_memory)",
}


def _error(arg: str, message: str) -> ValueError:
    return ValueError(f"jaxact bench: argument '{arg}' {message}")


# --------------------------------------------------------------------------- functions


def jax_nn_counterpart(name: str) -> Fn | None:
    """jax.nn's version of the jaxact activation ``name`` (the registry's ``jax_nn``),
    or None if jax.nn has none.

    Args:
      name: a jaxact activation name or alias.

    Returns:
      A function of one array, or None.
    """
    spec = registry.spec_of(name)
    return None if spec is None else spec.jax_nn


def _with_required_params(fn: Callable[..., Array], params: dict[str, float]) -> Fn:
    # Defaults stay defaults; only parameters without a default (prelu's slope,
    # threshold's value) are filled in from the registry.
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn
    required = {
        k: v
        for k, v in params.items()
        if k in sig.parameters and sig.parameters[k].default is inspect.Parameter.empty
    }
    return functools.partial(fn, **required) if required else fn


def _elementwise_names() -> list[str]:
    return [n for n, s in registry.SPECS.items() if s.kind == "elementwise"]


def resolve_functions(names: Iterable[str] | str | None = None) -> list[tuple[str, Fn, Fn | None]]:
    """The (name, jaxact function, jax.nn function or None) rows to benchmark.

    Args:
      names: jaxact names (a list or a comma-separated string). None: every
        elementwise activation. The name ``jax.nn`` stands for every
        elementwise activation jax.nn also has. Aliases (``gelu``, ``swish``
        ...) are accepted.

    Returns:
      One tuple per function, in the order given.

    Raises:
      ValueError: for an unknown or non-elementwise name, naming it.
    """
    everything = _elementwise_names()
    if names is None:
        wanted = everything
    else:
        if isinstance(names, str):
            names = names.split(",")
        wanted = []
        for raw in names:
            n = raw.strip()
            if not n:
                continue
            if n == "jax.nn":
                wanted += [m for m in everything if jax_nn_counterpart(m) is not None]
            else:
                wanted.append(n)
        if not wanted:
            raise _error("functions", "must name at least one activation")
    rows: list[tuple[str, Fn, Fn | None]] = []
    seen: set[str] = set()
    for n in wanted:
        if n in seen:
            continue
        seen.add(n)
        if n in registry.SPECS:
            spec = registry.SPECS[n]
            if spec.kind != "elementwise":
                raise _error(
                    "functions",
                    f"takes elementwise activations; {n!r} is of kind {spec.kind!r}",
                )
            fn = _with_required_params(spec.fn, dict(spec.params))
        elif n in registry.ALIASES:
            fn = registry.ALIASES[n]
        else:
            close = difflib.get_close_matches(n, [*everything, *registry.ALIASES], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise _error("functions", f"has an unknown activation {n!r}{hint}")
        rows.append((n, fn, jax_nn_counterpart(n)))
    return rows


# --------------------------------------------------------------------------- timing core


def _copy(x: Array) -> Array:
    return x * 1 + 0


def _identity(h: Array) -> Array:
    return h


def _fwd_bwd(fn: Fn) -> Callable[[Array, Array], tuple[Array, Array]]:
    def fwd_bwd(x: Array, g: Array) -> tuple[Array, Array]:
        y, pullback = jax.vjp(fn, x)
        (dx,) = pullback(g)
        return y, dx

    return fwd_bwd


def _dtype(dtype: Any, arg: str = "dtype") -> np.dtype:
    try:
        d = jnp.dtype(dtype)
    except TypeError:
        raise _error(arg, f"must be a floating dtype, got {dtype!r}") from None
    if d.name not in DTYPES:
        raise _error(arg, f"must be one of {', '.join(DTYPES)}, got {d.name!r}")
    return d


def _n_buffers(nbytes: int, buffers: int | None) -> int:
    if buffers is not None:
        if buffers < 1:
            raise _error("buffers", f"must be a positive integer, got {buffers}")
        return buffers
    return int(min(MAX_BUFFERS, max(MIN_BUFFERS, math.ceil(ROTATION_BYTES / max(nbytes, 1)))))


_BUFFERS: dict[tuple[int, str, int], tuple[list[Array], list[Array]]] = {}
_COPIES: dict[tuple[int, str, str], tuple[Callable[..., Any], float]] = {}


def _buffers(size: int, dtype: np.dtype, count: int) -> tuple[list[Array], list[Array]]:
    """``count`` distinct inputs in [-6, 6] and ``count`` cotangents, cached (one set)."""
    key = (size, dtype.name, count)
    if key not in _BUFFERS:
        _BUFFERS.clear()  # hold one set at a time: at 2**24 elements they are large
        _COPIES.clear()
        kx, kg = jax.random.split(jax.random.key(size))

        def make(k: Array, lo: float, hi: float) -> list[Array]:
            out = []
            for i in range(count):
                v = jax.random.uniform(jax.random.fold_in(k, i), (size,), jnp.float32, lo, hi)
                out.append(v.astype(dtype))
            return out

        _BUFFERS[key] = (make(kx, -6.0, 6.0), make(kg, -1.0, 1.0))
        jax.block_until_ready(_BUFFERS[key])
    return _BUFFERS[key]


def _compile(fn: Callable[..., Any], *args: Any) -> tuple[Callable[..., Any], float]:
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    return compiled, time.perf_counter() - t0


def _interleave(
    candidates: dict[str, Callable[[int], Any]], repeats: int, warmup: int
) -> dict[str, np.ndarray]:
    """Round-robin timing: per repeat every candidate once, the first one rotated.

    A candidate is called with a running call index (to pick its input buffer)
    and returns what to block on.
    """
    names = list(candidates)
    counter = 0
    for _ in range(warmup):
        for n in names:
            jax.block_until_ready(candidates[n](counter))
            counter += 1
    times: dict[str, list[float]] = {n: [] for n in names}
    enabled = gc.isenabled()
    gc.disable()  # no collector pauses inside timed calls (gc.collect() itself costs ~0.1 s)
    try:
        for r in range(repeats):
            k = r % len(names)
            for n in names[k:] + names[:k]:
                t0 = time.perf_counter()
                out = candidates[n](counter)
                jax.block_until_ready(out)
                times[n].append(time.perf_counter() - t0)
                del out
                counter += 1
    finally:
        if enabled:
            gc.enable()
    return {n: np.asarray(v) for n, v in times.items()}


def _summary(values: np.ndarray) -> dict[str, float]:
    return {
        "min": float(np.min(values)),
        "median": float(np.median(values)),
        "max": float(np.max(values)),
    }


def _time_stats(t: np.ndarray, compile_s: float, nbytes: int | None) -> dict[str, Any]:
    median = float(np.median(t))
    out: dict[str, Any] = {
        "median_s": median,
        "min_s": float(np.min(t)),
        "max_s": float(np.max(t)),
        "compile_s": compile_s,
    }
    if nbytes is not None:
        out["gbps"] = nbytes / median / 1e9 if median > 0 else None
    return out


def _check_counts(repeats: int, warmup: int) -> None:
    if not isinstance(repeats, int) or repeats < 1:
        raise _error("repeats", f"must be a positive integer, got {repeats!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise _error("warmup", f"must be a non-negative integer, got {warmup!r}")


def time_function(
    fn: Fn,
    baseline: Fn | None = None,
    *,
    size: int = 1 << 20,
    dtype: Any = jnp.float32,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    buffers: int | None = None,
    modes: Sequence[str] = MODES,
    names: tuple[str, str] = ("fn", "baseline"),
    extra: Callable[[str, list[Array], list[Array]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Forward and forward+backward time of ``fn`` against a copy and a baseline.

    ``fn``, the copy ``x * 1 + 0`` and ``baseline`` (if given) run interleaved
    round-robin on rotating inputs of ``size`` elements (see the module
    docstring for the protocol and the definitions).

    Args:
      fn: a function of one array returning an array of the same shape and dtype.
      baseline: an optional function to compare with (e.g. jax.nn's version).
      size: number of elements of the input (a 1-d array).
      dtype: input dtype: float32, bfloat16 or float16.
      repeats: timed calls per candidate; ratios are summarised over them.
      warmup: untimed calls per candidate before timing.
      buffers: number of rotating inputs (default: about 256 MiB of them,
        between 3 and 256).
      modes: which of ``"fwd"`` and ``"fwd+bwd"`` to time.
      names: the labels of ``fn`` and ``baseline`` in the result.
      extra: for internal use (more candidates, e.g. PyTorch).

    Returns:
      ``{"size", "dtype", "buffers", "repeats", mode: {...}}``; per mode
      ``"bytes"`` (moved per call), ``"times"`` (label -> median_s, min_s,
      max_s, compile_s, gbps), ``"ratio_copy"`` (label -> min/median/max of
      t_label / t_copy) and ``"ratio_baseline"`` (min/median/max of
      t_fn / t_baseline, or None).

    Raises:
      ValueError: for bad arguments, naming the argument.
    """
    if not callable(fn):
        raise _error("fn", f"must be callable, got {type(fn).__name__}")
    if baseline is not None and not callable(baseline):
        raise _error("baseline", f"must be callable or None, got {type(baseline).__name__}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise _error("size", f"must be a positive integer, got {size!r}")
    _check_counts(repeats, warmup)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise _error("modes", f"must be a non-empty subset of {MODES}, got {tuple(modes)!r}")
    if len(names) != 2 or names[0] == names[1] or "copy" in names:
        raise _error("names", f"must be two distinct labels other than 'copy', got {names!r}")
    d = _dtype(dtype)
    size = int(size)
    count = _n_buffers(size * d.itemsize, buffers)
    xs, gs = _buffers(size, d, count)
    x0 = xs[0]
    for label, f in ((names[0], fn), (names[1], baseline)):
        if f is None:
            continue
        out = jax.eval_shape(f, x0)
        if getattr(out, "shape", None) != x0.shape or getattr(out, "dtype", None) != d:
            raise ValueError(
                f"jaxact bench: function {label!r} must map a {d.name}{list(x0.shape)} array "
                f"to one of the same shape and dtype, got {out}"
            )
    fns: dict[str, Fn] = {names[0]: fn, "copy": _copy}
    if baseline is not None:
        fns[names[1]] = baseline
    result: dict[str, Any] = {"size": size, "dtype": d.name, "buffers": count, "repeats": repeats}
    nbytes = size * d.itemsize
    for mode in MODES:
        if mode not in modes:
            continue
        candidates: dict[str, Callable[[int], Any]] = {}
        compile_s: dict[str, float] = {}
        for label, f in fns.items():
            key = (size, d.name, mode)
            if label == "copy" and key in _COPIES:  # the same executable for every function
                compiled, compile_s[label] = _COPIES[key]
            elif mode == "fwd":
                compiled, compile_s[label] = _compile(f, x0)
            else:
                compiled, compile_s[label] = _compile(_fwd_bwd(f), x0, gs[0])
            if label == "copy":
                _COPIES[key] = (compiled, compile_s[label])
            if mode == "fwd":
                candidates[label] = functools.partial(_call_x, compiled, xs)
            else:
                candidates[label] = functools.partial(_call_xg, compiled, xs, gs)
        if extra is not None:
            for label, (call, seconds) in extra(mode, xs, gs).items():
                candidates[label] = call
                compile_s[label] = seconds
        times = _interleave(candidates, repeats, warmup)
        moved = 2 * nbytes if mode == "fwd" else 4 * nbytes
        result[mode] = {
            "bytes": moved,
            "times": {k: _time_stats(t, compile_s[k], moved) for k, t in times.items()},
            "ratio_copy": {k: _summary(t / times["copy"]) for k, t in times.items() if k != "copy"},
            "ratio_baseline": (
                _summary(times[names[0]] / times[names[1]]) if names[1] in times else None
            ),
        }
        extra_ratios = {
            k: _summary(times[names[0]] / t)
            for k, t in times.items()
            if k not in (names[0], names[1], "copy")
        }
        if extra_ratios:
            result[mode]["ratio_extra"] = extra_ratios
    return result


def _call_x(compiled: Callable[..., Any], xs: list[Array], i: int) -> Any:
    return compiled(xs[i % len(xs)])


def _call_xg(compiled: Callable[..., Any], xs: list[Array], gs: list[Array], i: int) -> Any:
    return compiled(xs[i % len(xs)], gs[i % len(gs)])


# --------------------------------------------------------------------------- training step


def _check_shape(shape: Sequence[int], arg: str) -> tuple[int, int, int]:
    if len(shape) != 3 or any(not isinstance(v, (int, np.integer)) or v < 1 for v in shape):
        raise _error(arg, f"must be three positive integers (layers, width, batch), got {shape!r}")
    return int(shape[0]), int(shape[1]), int(shape[2])


_STEPS: dict[tuple[Any, ...], tuple[list[Any], dict[str, tuple[Any, float]]]] = {}


def step_time(
    fn: Fn,
    baseline: Fn | None = None,
    *,
    layers: int = DEFAULT_STEP_SHAPE[0],
    width: int = DEFAULT_STEP_SHAPE[1],
    batch: int = DEFAULT_STEP_SHAPE[2],
    dtype: Any = jnp.float32,
    body: memory.Body = "act_dot",
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    buffers: int = 3,
    names: tuple[str, str] = ("fn", "baseline"),
) -> dict[str, Any]:
    """Time of the :func:`jaxact.memory.scan_mlp` training step with ``fn``.

    The step with ``fn``, with ``baseline`` (if given) and with the identity run
    interleaved round-robin; ``buffers`` argument sets (weights and input from
    different seeds) rotate.

    Args:
      fn: the activation, a function of one array.
      baseline: an optional activation to compare with.
      layers: scan length (layers of the MLP).
      width: hidden width.
      batch: rows of the input.
      dtype: parameter and activation dtype.
      body: ``"act_dot"`` (``h <- fn(h) @ W``) or ``"dot_act"``.
      repeats: timed steps per candidate.
      warmup: untimed steps per candidate.
      buffers: distinct argument sets in rotation.
      names: the labels of ``fn`` and ``baseline`` in the result.

    Returns:
      ``{"layers", "width", "batch", "dtype", "repeats", "times",
      "ratio_baseline", "ratio_identity"}``: ``times`` per label (median_s,
      min_s, max_s, compile_s), ``ratio_baseline`` the min/median/max of
      t_fn / t_baseline (or None), ``ratio_identity`` per label the same
      against the identity step.

    Raises:
      ValueError: for bad arguments, naming the argument.
    """
    layers, width, batch = _check_shape((layers, width, batch), "step_shape")
    _check_counts(repeats, warmup)
    if buffers < 1:
        raise _error("buffers", f"must be a positive integer, got {buffers}")
    if len(names) != 2 or names[0] == names[1] or "identity" in names:
        raise _error("names", f"must be two distinct labels other than 'identity', got {names!r}")
    d = _dtype(dtype)
    fns: dict[str, Fn] = {names[0]: fn, "identity": _identity}
    if baseline is not None:
        fns[names[1]] = baseline
    key = (layers, width, batch, d.name, body, buffers)
    if key not in _STEPS:  # argument sets and the identity step, shared by every function
        _STEPS.clear()
        arg_sets = []
        for seed in range(buffers):
            _, args = memory.scan_mlp(
                _identity, layers=layers, width=width, batch=batch, dtype=d, body=body, seed=seed
            )
            arg_sets.append(args)
        jax.block_until_ready(arg_sets)
        _STEPS[key] = (arg_sets, {})
    arg_sets, compiled_identity = _STEPS[key]
    candidates: dict[str, Callable[[int], Any]] = {}
    compile_s: dict[str, float] = {}
    for label, f in fns.items():
        if label == "identity" and compiled_identity:
            compiled, compile_s[label] = compiled_identity["step"]
        else:
            step, _ = memory.scan_mlp(
                f, layers=layers, width=width, batch=batch, dtype=d, body=body
            )
            t0 = time.perf_counter()
            compiled = step.lower(*arg_sets[0]).compile()
            compile_s[label] = time.perf_counter() - t0
            if label == "identity":
                compiled_identity["step"] = (compiled, compile_s[label])
        candidates[label] = functools.partial(_call_args, compiled, arg_sets)
    times = _interleave(candidates, repeats, warmup)
    return {
        "layers": layers,
        "width": width,
        "batch": batch,
        "dtype": d.name,
        "body": body,
        "repeats": repeats,
        "times": {k: _time_stats(t, compile_s[k], None) for k, t in times.items()},
        "ratio_baseline": (
            _summary(times[names[0]] / times[names[1]]) if names[1] in times else None
        ),
        "ratio_identity": {
            k: _summary(t / times["identity"]) for k, t in times.items() if k != "identity"
        },
    }


def _call_args(compiled: Callable[..., Any], arg_sets: list[Any], i: int) -> Any:
    return compiled(*arg_sets[i % len(arg_sets)])


# --------------------------------------------------------------------------- memory


def memory_row(
    fn: Fn,
    baseline: Fn | None = None,
    *,
    dtypes: Sequence[Any] = DEFAULT_DTYPES,
    size: int = memory.RESIDUAL_SIZE,
    scan: bool = True,
    layers: int = MEMORY_SHAPE[0],
    width: int = MEMORY_SHAPE[1],
    batch: int = MEMORY_SHAPE[2],
    body: memory.Body = "act_dot",
    names: tuple[str, str] = ("fn", "baseline"),
) -> dict[str, Any]:
    """Residual bytes per element and scan-step extra temp bytes of ``fn`` (and ``baseline``).

    Deterministic for a given jax/XLA version and backend: residuals are the
    leaves of the ``jax.vjp`` pullback under jit, the scan figure comes from
    ``memory_analysis()`` of the compiled step (nothing runs).

    Args:
      fn: a function of one array.
      baseline: an optional function to compare with.
      dtypes: input dtypes of the residual measurement.
      size: elements of the residual measurement's input.
      scan: whether to measure the float32 scan-MLP step.
      layers: the step's layers.
      width: the step's width.
      batch: the step's batch.
      body: the step's layer body (see :func:`jaxact.memory.scan_mlp`).
      names: the labels of ``fn`` and ``baseline`` in the result.

    Returns:
      ``{"residual_bytes": {dtype: {label: bytes per element}},
      "scan_extra": {label: bytes per element per layer} or None,
      "scan_stacked": {label: bytes each further layer adds per element} or None}``.

    Example:
      >>> import jax
      >>> memory_row(jax.nn.leaky_relu, dtypes=["float32"], scan=False)
      {'residual_bytes': {'float32': {'fn': 1.0}}, 'scan_extra': None, 'scan_stacked': None}
    """
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise _error("size", f"must be a positive integer, got {size!r}")
    if not dtypes:
        raise _error("dtypes", "must name at least one dtype")
    fns = {names[0]: fn}
    if baseline is not None:
        fns[names[1]] = baseline
    residual: dict[str, dict[str, float]] = {}
    for dt in dtypes:
        d = _dtype(dt, "dtypes")
        residual[d.name] = {k: memory.residual_bytes(f, d, int(size)) for k, f in fns.items()}
    scan_extra = scan_stacked = None
    if scan:
        layers, width, batch = _check_shape((layers, width, batch), "memory_shape")
        mems = {
            k: memory.scan_step_memory(f, layers=layers, width=width, batch=batch, body=body)
            for k, f in fns.items()
        }
        scan_extra = {k: m["extra_per_element"] for k, m in mems.items()}
        scan_stacked = {k: m["stacked_per_element"] for k, m in mems.items()}
    return {"residual_bytes": residual, "scan_extra": scan_extra, "scan_stacked": scan_stacked}


# --------------------------------------------------------------------------- PyTorch


def _torch_module(enabled: bool) -> tuple[Any, str]:
    """(torch or None, a note saying why it is or is not used)."""
    if not enabled:
        return None, "PyTorch comparison off (--no-torch)"
    try:
        import torch  # type: ignore[import-not-found]
    except Exception as e:  # ImportError, or a broken install
        return None, f"PyTorch comparison skipped: import torch failed ({type(e).__name__})"
    platform_ = jax.devices()[0].platform
    if platform_ == "cpu":
        return torch, f"PyTorch {torch.__version__} on CPU (eager and torch.compile)"
    if platform_ == "gpu" and torch.cuda.is_available():
        return torch, f"PyTorch {torch.__version__} on CUDA (eager and torch.compile)"
    return None, f"PyTorch comparison skipped: no PyTorch device matches JAX's {platform_!r}"


def _torch_extra(torch: Any, name: str, notes: list[str]) -> Callable[..., dict[str, Any]] | None:
    """A ``time_function(extra=...)`` hook adding torch eager and torch.compile candidates."""
    spec = registry.spec_of(name)
    if spec is None or spec.torch is None:
        return None
    attr, kwargs = spec.torch
    f = functools.partial(getattr(torch.nn.functional, attr), **kwargs)
    device = "cpu" if jax.devices()[0].platform == "cpu" else "cuda"

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def extra(mode: str, xs: list[Array], gs: list[Array]) -> dict[str, Any]:
        tdtype = getattr(torch, str(xs[0].dtype))

        def to_torch(a: Array, grad: bool) -> Any:
            host = np.array(a.astype(jnp.float32), copy=True)  # writable, torch's own memory
            t = torch.from_numpy(host).to(device, tdtype)
            return t.requires_grad_(grad)

        txs = [to_torch(a, mode != "fwd") for a in xs]
        tgs = [to_torch(a, False) for a in gs]
        out: dict[str, Any] = {}
        for label in ("torch", "torch.compile"):
            try:
                h = f if label == "torch" else torch.compile(f)

                def call(i: int, h: Any = h) -> None:
                    x = txs[i % len(txs)]
                    if mode == "fwd":
                        with torch.no_grad():
                            h(x)
                    else:
                        y = h(x)
                        torch.autograd.grad(y, x, tgs[i % len(tgs)])
                    sync()

                t0 = time.perf_counter()
                call(0)  # torch.compile compiles on the first call
                out[label] = (call, time.perf_counter() - t0)
            except Exception as e:  # a missing compiler, an unsupported dtype ...
                notes.append(f"{label} {name} {mode} skipped: {type(e).__name__}: {e}"[:200])
        return out

    return extra


# --------------------------------------------------------------------------- the run


def machine() -> dict[str, Any]:
    """What the numbers were measured on: device, CPU, cores, versions, date."""
    import jaxlib

    device = jax.devices()[0]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "backend": jax.default_backend(),
        "platform": device.platform,
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _sizes(sizes: Iterable[int]) -> list[int]:
    out = list(sizes)
    if not out:
        raise _error("sizes", "must list at least one log2 size")
    for s in out:
        if not isinstance(s, (int, np.integer)) or not 4 <= s <= 30:
            raise _error("sizes", f"must be log2 element counts between 4 and 30, got {s!r}")
    return [int(s) for s in out]


def default_sizes() -> tuple[int, ...]:
    """The default log2 sizes: (20, 22) on CPU, (20, 24) on GPU and TPU."""
    return DEFAULT_CPU_SIZES if jax.default_backend() == "cpu" else DEFAULT_SIZES


def _dtype_names(dtypes: Iterable[Any]) -> list[str]:
    out = [_dtype(d, "dtypes").name for d in dtypes]
    if not out:
        raise _error("dtypes", "must name at least one dtype")
    return list(dict.fromkeys(out))


def run(
    functions: Iterable[str] | str | None = None,
    *,
    dtypes: Iterable[Any] = DEFAULT_DTYPES,
    sizes: Iterable[int] | None = None,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    buffers: int | None = None,
    sections: Iterable[str] = SECTIONS,
    step_shape: Sequence[int] = DEFAULT_STEP_SHAPE,
    step_repeats: int | None = None,
    torch: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Runs the benchmark and returns every number (JSON-ready).

    Args:
      functions: jaxact names (see :func:`resolve_functions`); None: all
        elementwise activations.
      dtypes: dtypes of the timing and residual measurements.
      sizes: log2 element counts of the timing measurement (default: 20, 22
        on CPU, 20, 24 on accelerators).
      repeats: timed calls per candidate.
      warmup: untimed calls per candidate.
      buffers: rotating inputs (default: automatic).
      sections: any of ``"time"``, ``"step"``, ``"memory"``.
      step_shape: (layers, width, batch) of the timed training step (float32).
      step_repeats: timed steps per candidate (default: ``repeats``).
      torch: add PyTorch eager and torch.compile to the timings when
        ``import torch`` works.
      progress: called with one line per measurement (e.g. ``print``).

    Returns:
      ``{"machine", "config", "definitions", "notes", "time", "step",
      "memory", "elapsed_s"}``.

    Raises:
      ValueError: for bad arguments or unknown function names, naming them.
    """
    start = time.perf_counter()
    sections = list(dict.fromkeys(sections))
    bad = [s for s in sections if s not in SECTIONS]
    if bad or not sections:
        raise _error("sections", f"must be a non-empty subset of {SECTIONS}, got {sections!r}")
    rows = resolve_functions(functions)
    dtype_list = _dtype_names(dtypes)
    size_list = _sizes(default_sizes() if sizes is None else sizes)
    _check_counts(repeats, warmup)
    step_n = repeats if step_repeats is None else step_repeats
    if not isinstance(step_n, int) or step_n < 1:
        raise _error("step_repeats", f"must be a positive integer, got {step_n!r}")
    shape = _check_shape(tuple(step_shape), "step_shape")
    if buffers is not None and buffers < 1:
        raise _error("buffers", f"must be a positive integer, got {buffers}")
    say = progress or (lambda _msg: None)

    def log(msg: str) -> None:
        say(f"[{time.perf_counter() - start:6.0f} s] {msg}")

    torch_mod, torch_note = _torch_module(torch) if "time" in sections else (None, "")
    notes: list[str] = [torch_note] if torch_note else []
    names = ("jaxact", "jax.nn")
    result: dict[str, Any] = {
        "machine": machine(),
        "config": {
            "functions": [r[0] for r in rows],
            "dtypes": dtype_list,
            "sizes_log2": size_list,
            "repeats": repeats,
            "warmup": warmup,
            "buffers": buffers,
            "sections": sections,
            "step_shape": {"layers": shape[0], "width": shape[1], "batch": shape[2]},
            "step_repeats": step_n,
            "memory_shape": dict(zip(("layers", "width", "batch"), MEMORY_SHAPE, strict=True)),
        },
        "definitions": dict(DEFINITIONS),
        "notes": notes,
        "time": [],
        "step": [],
        "memory": [],
    }
    if "memory" in sections:
        for i, (name, fn, theirs) in enumerate(rows):
            log(f"memory {i + 1}/{len(rows)} {name}")
            m = memory_row(fn, theirs, dtypes=dtype_list, names=names)
            result["memory"].append({"function": name, **m})
    if "time" in sections:
        total = len(dtype_list) * len(size_list) * len(rows)
        k = 0
        for dname in dtype_list:
            for log2 in size_list:
                for name, fn, theirs in rows:
                    k += 1
                    log(f"time {k}/{total} {name} {dname} 2^{log2}")
                    extra = _torch_extra(torch_mod, name, notes) if torch_mod else None
                    r = time_function(
                        fn,
                        theirs,
                        size=1 << log2,
                        dtype=dname,
                        repeats=repeats,
                        warmup=warmup,
                        buffers=buffers,
                        names=names,
                        extra=extra,
                    )
                    result["time"].append({"function": name, "log2": log2, **r})
        _BUFFERS.clear()
        _COPIES.clear()
    if "step" in sections:
        for i, (name, fn, theirs) in enumerate(rows):
            log(f"step {i + 1}/{len(rows)} {name}")
            s = step_time(
                fn,
                theirs,
                layers=shape[0],
                width=shape[1],
                batch=shape[2],
                repeats=step_n,
                warmup=warmup,
                names=names,
            )
            result["step"].append({"function": name, **s})
        _STEPS.clear()
    result["elapsed_s"] = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------- report


def _num(v: float | None, digits: int = 2) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.{digits}f}"


def _ratio(s: dict[str, float] | None, spread: bool) -> str:
    if s is None:
        return "-"
    if not spread:
        return _num(s["median"])
    return f"{_num(s['median'])} ({_num(s['min'])}–{_num(s['max'])})"


def _time_tables(result: dict[str, Any], spread: bool) -> list[Table]:
    tables = []
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in result["time"]:
        groups.setdefault((row["dtype"], row["log2"]), []).append(row)
    torch_labels = ["torch", "torch.compile"]
    has_torch = any(
        lbl in row[m].get("ratio_extra", {})
        for row in result["time"]
        for m in MODES
        if m in row
        for lbl in torch_labels
    )
    for (dtype, log2), rows in groups.items():
        head = ["function"]
        for m in MODES:
            head += [f"{m} ÷ copy", f"{m} ÷ jax.nn"]
            if has_torch:
                head += [f"{m} ÷ torch", f"{m} ÷ torch.compile"]
        head += ["GB/s fwd / fwd+bwd", "ms fwd / fwd+bwd", "compile ms fwd / fwd+bwd"]
        body = []
        for row in rows:
            cells = [row["function"]]
            for m in MODES:
                part = row.get(m)
                if part is None:
                    cells += ["-", "-"] + (["-", "-"] if has_torch else [])
                    continue
                cells.append(_ratio(part["ratio_copy"].get("jaxact"), spread))
                cells.append(_ratio(part["ratio_baseline"], spread))
                if has_torch:
                    ex = part.get("ratio_extra", {})
                    cells += [_ratio(ex.get(lbl), spread) for lbl in torch_labels]
            ts = [row[m]["times"]["jaxact"] if m in row else None for m in MODES]
            cells.append(" / ".join(_num(t["gbps"] if t else None, 1) for t in ts))
            cells.append(" / ".join(_num(t["median_s"] * 1e3 if t else None, 3) for t in ts))
            cells.append(" / ".join(_num(t["compile_s"] * 1e3 if t else None, 0) for t in ts))
            body.append(cells)
        # The roofline row: the copy's median time over all rows of this group.
        copy = ["copy (roofline)"]
        gb, ms = [], []
        for m in MODES:
            samples = [r[m]["times"]["copy"]["median_s"] for r in rows if m in r]
            med = float(np.median(samples)) if samples else None
            nbytes = rows[0][m]["bytes"] if m in rows[0] else None
            copy += ["1.00", "-"] + (["-", "-"] if has_torch else [])
            gb.append(_num(nbytes / med / 1e9 if med and nbytes else None, 1))
            ms.append(_num(med * 1e3 if med else None, 3))
        body.append([*copy, " / ".join(gb), " / ".join(ms), "-"])
        title = f"Time, {dtype}, 2^{log2} elements ({rows[0]['buffers']} rotating inputs)"
        tables.append((title, head, body))
    return tables


def _step_table(result: dict[str, Any], spread: bool) -> Table:
    head = [
        "function",
        "step ÷ jax.nn",
        "step ÷ identity (jaxact)",
        "step ÷ identity (jax.nn)",
        "ms jaxact / jax.nn / identity",
        "compile s jaxact / jax.nn",
    ]
    body = []
    for row in result["step"]:
        t = row["times"]
        ri = row["ratio_identity"]
        body.append(
            [
                row["function"],
                _ratio(row["ratio_baseline"], spread),
                _ratio(ri.get("jaxact"), spread),
                _ratio(ri.get("jax.nn"), spread),
                " / ".join(
                    _num(t[k]["median_s"] * 1e3 if k in t else None, 1)
                    for k in ("jaxact", "jax.nn", "identity")
                ),
                " / ".join(
                    _num(t[k]["compile_s"] if k in t else None, 2) for k in ("jaxact", "jax.nn")
                ),
            ]
        )
    first = result["step"][0] if result["step"] else {}
    title = (
        f"Training step, {first.get('layers')}-layer scan MLP, width {first.get('width')}, "
        f"batch {first.get('batch')}, {first.get('dtype')}, jit(grad)"
    )
    return title, head, body


def _memory_table(result: dict[str, Any]) -> Table:
    dtypes = list(result["memory"][0]["residual_bytes"]) if result["memory"] else []
    head = ["function"]
    for d in dtypes:
        head += [f"residual {d} jaxact", f"residual {d} jax.nn"]
    head += [
        "scan stacked f32 jaxact",
        "scan stacked f32 jax.nn",
        "scan extra f32 jaxact",
        "scan extra f32 jax.nn",
    ]
    body = []
    for row in result["memory"]:
        cells = [row["function"]]
        for d in dtypes:
            r = row["residual_bytes"][d]
            cells += [_num(r.get("jaxact"), 3), _num(r.get("jax.nn"), 3)]
        st = row.get("scan_stacked") or {}
        cells += [_num(st.get("jaxact"), 3), _num(st.get("jax.nn"), 3)]
        s = row["scan_extra"] or {}
        cells += [_num(s.get("jaxact"), 3), _num(s.get("jax.nn"), 3)]
        body.append(cells)
    shape = result["config"]["memory_shape"]
    title = (
        "Memory, bytes per element: residuals of jax.vjp under jit; scan stacked = compiled temp "
        "bytes each further layer adds per element (the residuals a deeper net stacks); scan "
        "extra = compiled temp bytes per element per layer over the identity, one-off buffers "
        f"included ({shape['layers']}-layer scan MLP, "
        f"width {shape['width']}, batch {shape['batch']})"
    )
    return title, head, body


def _tables(result: dict[str, Any], spread: bool) -> list[Table]:
    tables = _time_tables(result, spread)
    if result["step"]:
        tables.append(_step_table(result, spread))
    if result["memory"]:
        tables.append(_memory_table(result))
    return tables


def _machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m['device_kind']} ({m['platform']}), CPU {m['cpu']}, {m['usable_cores']} usable of "
        f"{m['cores']} cores, jax {m['jax']} / jaxlib {m['jaxlib']}, {m['os']}, {m['date']}"
    )


def format_tables(result: dict[str, Any], markdown: bool = False) -> str:
    """The result as text tables (terminal: medians only) or Markdown (median (min–max))."""
    parts = []
    for title, head, body in _tables(result, spread=markdown):
        if not body:
            continue
        parts.append(("### " if markdown else "") + title)
        if markdown:
            parts.append("")
        parts.append(text.format_rows(head, body, markdown))
        parts.append("")
    return "\n".join(parts)


def _markdown_report(result: dict[str, Any]) -> str:
    c = result["config"]
    lines = [
        "# jaxact bench",
        "",
        f"Machine: {_machine_line(result['machine'])}.",
        "",
        f"Functions: {len(c['functions'])}; dtypes {', '.join(c['dtypes'])}; sizes "
        + ", ".join(f"2^{s}" for s in c["sizes_log2"])
        + f"; {c['repeats']} repeats after {c['warmup']} warm-up calls; "
        f"run took {result['elapsed_s']:.0f} s.",
        "",
        "Ratios are `median (min–max)` over repeats of per-repeat time ratios of "
        "round-robin interleaved calls (< 1: faster than the reference).",
        "",
    ]
    lines += [f"- **{k}**: {v}" for k, v in result["definitions"].items()]
    lines += [""]
    if result["notes"]:
        lines += ["Notes:", ""] + [f"- {n}" for n in result["notes"]] + [""]
    lines.append(format_tables(result, markdown=True))
    return "\n".join(lines)


def _plot(result: dict[str, Any], path: pathlib.Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels: list[tuple[str, list[str], dict[str, list[float | None]]]] = []
    if result["time"]:
        d0 = result["config"]["dtypes"][0]
        big = max(r["log2"] for r in result["time"] if r["dtype"] == d0)
        rows = [r for r in result["time"] if r["dtype"] == d0 and r["log2"] == big]
        series: dict[str, list[float | None]] = {}
        for m in MODES:
            if all(m in r for r in rows):
                for who in ("jaxact", "jax.nn"):
                    series[f"{who} {m}"] = [
                        (r[m]["ratio_copy"].get(who) or {}).get("median") for r in rows
                    ]
        panels.append(
            (f"time ÷ copy, {d0}, 2^{big} (lower is better)", [r["function"] for r in rows], series)
        )
    if result["step"]:
        rows = result["step"]
        panels.append(
            (
                "training step ÷ identity step",
                [r["function"] for r in rows],
                {
                    who: [(r["ratio_identity"].get(who) or {}).get("median") for r in rows]
                    for who in ("jaxact", "jax.nn")
                },
            )
        )
    if result["memory"]:
        rows = result["memory"]
        d0 = next(iter(rows[0]["residual_bytes"]))
        panels.append(
            (
                f"residual bytes per element, {d0}",
                [r["function"] for r in rows],
                {
                    who: [r["residual_bytes"][d0].get(who) for r in rows]
                    for who in ("jaxact", "jax.nn")
                },
            )
        )
    if not panels:
        return
    n = max(len(p[1]) for p in panels)
    fig = Figure(figsize=(5.5 * len(panels), max(3.0, 0.22 * n + 1.5)), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (title, labels, series) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ypos = np.arange(len(labels))
        k = max(len(series), 1)
        h = 0.8 / k
        for j, (label, values) in enumerate(series.items()):
            vals = [np.nan if v is None else v for v in values]
            ax.barh(ypos + (j - (k - 1) / 2) * h, vals, height=h, label=label)
        ax.set_yticks(ypos, labels, fontsize=7)
        ax.set_ylim(len(labels) - 0.5, -0.5)  # first function on top, no empty margin
        ax.set_title(title, fontsize=9)
        if "÷" in title:  # ratios: a log axis, so 0.5x and 2x are as far from 1x
            ax.set_xscale("log")
            ax.axvline(1.0, color="black", linewidth=0.8)
        ax.legend(fontsize=7)
    fig.suptitle(f"jaxact bench — {_machine_line(result['machine'])}", fontsize=8)
    fig.savefig(path, dpi=110)


def write_report(result: dict[str, Any], out: str | os.PathLike[str]) -> dict[str, pathlib.Path]:
    """Writes ``bench.json``, ``bench.md`` and ``bench.png`` (if matplotlib is installed).

    Args:
      result: what :func:`run` returned.
      out: the output folder (created if needed).

    Returns:
      ``{"json", "markdown"[, "png"]}`` -> path written.
    """
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "bench.json", "markdown": folder / "bench.md"}
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        result["notes"].append("no PNG chart: matplotlib is not installed")
    else:
        paths["png"] = folder / "bench.png"
        _plot(result, paths["png"])
    paths["json"].write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    paths["markdown"].write_text(_markdown_report(result) + "\n")
    return paths


# --------------------------------------------------------------------------- command line


def _log2_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not 4 <= v <= 30 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated log2 sizes between 4 and 30 (e.g. 20,24), got {text!r}"
        )
    return values


def _dtype_list(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values or any(v not in DTYPES for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated dtypes from {', '.join(DTYPES)}, got {text!r}"
        )
    return values


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
    """Adds the ``jaxact bench`` options to a parser (shared by the CLI and benchmarks/speed.py)."""
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
        "--out", default="jaxact-bench", metavar="DIR", help="output folder (default: jaxact-bench)"
    )
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.epilog = (
        "Sections: --time, --step and --memory pick what runs (any combination); "
        "with none of them, all three run."
    )


def run_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Runs the benchmark for parsed :func:`add_arguments` options; prints and writes the report."""
    sections = [s for s in SECTIONS if getattr(args, s)] or list(SECTIONS)
    quick = args.quick

    def pick(value: Any, normal: Any, fast: Any) -> Any:
        return value if value is not None else (fast if quick else normal)

    try:
        result = run(
            args.functions,
            dtypes=args.dtypes or DEFAULT_DTYPES,
            sizes=pick(args.sizes, None, QUICK_SIZES),
            repeats=pick(args.repeats, DEFAULT_REPEATS, QUICK_REPEATS),
            warmup=pick(args.warmup, DEFAULT_WARMUP, QUICK_WARMUP),
            buffers=args.buffers,
            sections=sections,
            step_shape=pick(args.step_shape, DEFAULT_STEP_SHAPE, QUICK_STEP_SHAPE),
            step_repeats=args.step_repeats,
            torch=not args.no_torch,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except ValueError as e:
        parser.error(str(e))
    print(f"Machine: {_machine_line(result['machine'])}")
    for note in result["notes"]:
        print(f"Note: {note}")
    print()
    print(format_tables(result))
    paths = write_report(result, args.out)
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
    return run_from_args(parser.parse_args(argv), parser)
