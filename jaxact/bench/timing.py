"""Interleaved timing of a function of one array, forward and forward+backward.

The protocol (ahead-of-time compile, rotating buffers, round-robin candidates,
per-repeat ratios) is described in :mod:`jaxact.bench`; this module is its core,
which :mod:`jaxact.bench.step` reuses for the training step.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src.precision import Tier, precision
from jaxact.bench.config import (
    DEFAULT_REPEATS,
    DEFAULT_WARMUP,
    MAX_BUFFERS,
    MIN_BUFFERS,
    MODES,
    ROTATION_BYTES,
    Array,
    Fn,
    as_dtype,
    check_counts,
    check_positive,
    error,
    tier_label,
    tier_names,
    tier_versions,
)


def _copy(x: Array) -> Array:
    return x * 1 + 0


def _fwd_bwd(fn: Fn) -> Callable[[Array, Array], tuple[Array, Array]]:
    def fwd_bwd(x: Array, g: Array) -> tuple[Array, Array]:
        y, pullback = jax.vjp(fn, x)
        (dx,) = pullback(g)
        return y, dx

    return fwd_bwd


def _n_buffers(nbytes: int, buffers: int | None) -> int:
    if buffers is not None:
        return check_positive(buffers, "buffers")
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


def under(tier: str | None) -> contextlib.AbstractContextManager[Any]:
    """``jaxact.precision(tier)``, or no change for None (the tier in effect)."""
    return contextlib.nullcontext() if tier is None else precision(cast(Tier, tier))


def compile_timed(
    fn: Callable[..., Any], *args: Any, tier: str | None = None
) -> tuple[Callable[..., Any], float]:
    """``jax.jit(fn)`` lowered and compiled for ``args`` (traced under ``tier``), and the seconds.

    The executable keeps the tier it was traced with wherever it is called.
    """
    with under(tier):
        t0 = time.perf_counter()
        compiled = jax.jit(fn).lower(*args).compile()
        return compiled, time.perf_counter() - t0


def interleave(
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


def summary(values: np.ndarray) -> dict[str, float]:
    return {
        "min": float(np.min(values)),
        "median": float(np.median(values)),
        "max": float(np.max(values)),
    }


def time_stats(t: np.ndarray, compile_s: float, nbytes: int | None) -> dict[str, Any]:
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
    tiers: Sequence[str] | None = None,
    extra: Callable[[str, list[Array], list[Array]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Forward and forward+backward time of ``fn`` against a copy and a baseline.

    ``fn``, the copy ``x * 1 + 0`` and ``baseline`` (if given) run interleaved
    round-robin on rotating inputs of ``size`` elements (see the module
    docstring for the protocol and the definitions). With ``tiers``, ``fn`` is
    traced and compiled once per jaxact precision tier (inside
    ``jaxact.precision(tier)``) and each version is a candidate of its own.

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
      tiers: jaxact precision tiers to trace ``fn`` under, one candidate each,
        labelled ``"<names[0]> (<tier>)"``; None: once, under the tier in effect.
      extra: for internal use (more candidates, e.g. PyTorch).

    Returns:
      ``{"size", "dtype", "buffers", "repeats", "tiers", mode: {...}}``; per
      mode ``"bytes"`` (moved per call), ``"times"`` (label -> median_s, min_s,
      max_s, compile_s, gbps), ``"ratio_copy"`` (label -> min/median/max of
      t_label / t_copy) and ``"ratio_baseline"`` (min/median/max of
      t_fn / t_baseline, or None; with ``tiers``, tier -> that, or None).
      ``"tiers"`` is the list of tiers, or None.

    Raises:
      ValueError: for bad arguments, naming the argument.
    """
    if not callable(fn):
        raise error("fn", f"must be callable, got {type(fn).__name__}")
    if baseline is not None and not callable(baseline):
        raise error("baseline", f"must be callable or None, got {type(baseline).__name__}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise error("size", f"must be a positive integer, got {size!r}")
    check_counts(repeats, warmup)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise error("modes", f"must be a non-empty subset of {MODES}, got {tuple(modes)!r}")
    if len(names) != 2 or names[0] == names[1] or "copy" in names:
        raise error("names", f"must be two distinct labels other than 'copy', got {names!r}")
    d = as_dtype(dtype)
    tier_list = None if tiers is None else tier_names(tiers)
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
    # label -> (function, tier to trace it under)
    mine = tier_versions(names[0], tier_list)
    fns: dict[str, tuple[Fn, str | None]] = {k: (fn, t) for k, t in mine.items()}
    fns["copy"] = (_copy, None)
    if baseline is not None:
        fns[names[1]] = (baseline, None)
    result: dict[str, Any] = {
        "size": size,
        "dtype": d.name,
        "buffers": count,
        "repeats": repeats,
        "tiers": tier_list,
    }
    nbytes = size * d.itemsize
    for mode in MODES:
        if mode not in modes:
            continue
        candidates: dict[str, Callable[[int], Any]] = {}
        compile_s: dict[str, float] = {}
        for label, (f, tier) in fns.items():
            key = (size, d.name, mode)
            if label == "copy" and key in _COPIES:  # the same executable for every function
                compiled, compile_s[label] = _COPIES[key]
            elif mode == "fwd":
                compiled, compile_s[label] = compile_timed(f, x0, tier=tier)
            else:
                compiled, compile_s[label] = compile_timed(_fwd_bwd(f), x0, gs[0], tier=tier)
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
        times = interleave(candidates, repeats, warmup)
        moved = 2 * nbytes if mode == "fwd" else 4 * nbytes
        others = [k for k in times if k not in mine and k not in (names[1], "copy")]
        # Each version of fn against the baseline and the extra candidates (e.g. PyTorch).
        base = {k: summary(times[k] / times[names[1]]) if names[1] in times else None for k in mine}
        extra_ratios = {k: {o: summary(times[k] / times[o]) for o in others} for k in mine}
        result[mode] = {
            "bytes": moved,
            "times": {k: time_stats(t, compile_s[k], moved) for k, t in times.items()},
            "ratio_copy": {k: summary(t / times["copy"]) for k, t in times.items() if k != "copy"},
            "ratio_baseline": per_tier(base, names[0], tier_list, baseline is not None),
        }
        if others:
            result[mode]["ratio_extra"] = per_tier(extra_ratios, names[0], tier_list, True)
    return result


def per_tier(by_label: dict[str, Any], name: str, tiers: list[str] | None, has: bool) -> Any:
    """A value per version of ``name`` as the result holds it.

    Untiered: the one version's value; tiered: tier -> value; None unless ``has``.
    """
    if not has:
        return None
    if tiers is None:
        return by_label[name]
    return {t: by_label[tier_label(name, t)] for t in tiers}


def _call_x(compiled: Callable[..., Any], xs: list[Array], i: int) -> Any:
    return compiled(xs[i % len(xs)])


def _call_xg(compiled: Callable[..., Any], xs: list[Array], gs: list[Array], i: int) -> Any:
    return compiled(xs[i % len(xs)], gs[i % len(gs)])


def clear() -> None:
    """Drops the cached input buffers and the copy's executables."""
    _BUFFERS.clear()
    _COPIES.clear()
