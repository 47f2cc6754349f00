"""Time of a training step: the scan MLP of :func:`jaxact.memory.scan_mlp` under ``jit(grad)``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxact import memory
from jaxact.bench.config import (
    DEFAULT_REPEATS,
    DEFAULT_STEP_SHAPE,
    DEFAULT_WARMUP,
    Array,
    Fn,
    as_dtype,
    check_counts,
    check_positive,
    check_shape,
    error,
    tier_names,
    tier_versions,
)
from jaxact.bench.timing import interleave, per_tier, summary, time_stats, under


def _identity(h: Array) -> Array:
    return h


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
    tiers: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Time of the :func:`jaxact.memory.scan_mlp` training step with ``fn``.

    The step with ``fn``, with ``baseline`` (if given) and with the identity run
    interleaved round-robin; ``buffers`` argument sets (weights and input from
    different seeds) rotate. With ``tiers``, the step with ``fn`` is traced and
    compiled once per jaxact precision tier (inside ``jaxact.precision(tier)``),
    each a candidate of its own.

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
      tiers: jaxact precision tiers to trace the step with ``fn`` under, one
        candidate each, labelled ``"<names[0]> (<tier>)"``; None: once, under
        the tier in effect.

    Returns:
      ``{"layers", "width", "batch", "dtype", "body", "repeats", "tiers",
      "times", "ratio_baseline", "ratio_identity"}``: ``times`` per label
      (median_s, min_s, max_s, compile_s), ``ratio_baseline`` the
      min/median/max of t_fn / t_baseline (or None; with ``tiers``, tier ->
      that), ``ratio_identity`` per label the same against the identity step.

    Raises:
      ValueError: for bad arguments, naming the argument.
    """
    layers, width, batch = check_shape((layers, width, batch), "step_shape")
    check_counts(repeats, warmup)
    check_positive(buffers, "buffers")
    if len(names) != 2 or names[0] == names[1] or "identity" in names:
        raise error("names", f"must be two distinct labels other than 'identity', got {names!r}")
    d = as_dtype(dtype)
    tier_list = None if tiers is None else tier_names(tiers)
    mine = tier_versions(names[0], tier_list)
    fns: dict[str, tuple[Fn, str | None]] = {k: (fn, t) for k, t in mine.items()}
    fns["identity"] = (_identity, None)
    if baseline is not None:
        fns[names[1]] = (baseline, None)
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
    for label, (f, tier) in fns.items():
        if label == "identity" and compiled_identity:
            compiled, compile_s[label] = compiled_identity["step"]
        else:
            step, _ = memory.scan_mlp(
                f, layers=layers, width=width, batch=batch, dtype=d, body=body
            )
            with under(tier):  # traced and compiled under the tier, which it keeps
                t0 = time.perf_counter()
                compiled = step.lower(*arg_sets[0]).compile()
                compile_s[label] = time.perf_counter() - t0
            if label == "identity":
                compiled_identity["step"] = (compiled, compile_s[label])
        candidates[label] = functools.partial(_call_args, compiled, arg_sets)
    times = interleave(candidates, repeats, warmup)
    base = {k: summary(times[k] / times[names[1]]) for k in mine} if names[1] in times else {}
    return {
        "layers": layers,
        "width": width,
        "batch": batch,
        "dtype": d.name,
        "body": body,
        "repeats": repeats,
        "tiers": tier_list,
        "times": {k: time_stats(t, compile_s[k], None) for k, t in times.items()},
        "ratio_baseline": per_tier(base, names[0], tier_list, baseline is not None),
        "ratio_identity": {
            k: summary(t / times["identity"]) for k, t in times.items() if k != "identity"
        },
    }


def _call_args(compiled: Callable[..., Any], arg_sets: list[Any], i: int) -> Any:
    return compiled(*arg_sets[i % len(arg_sets)])


def clear() -> None:
    """Drops the cached argument sets and the identity step's executable."""
    _STEPS.clear()
