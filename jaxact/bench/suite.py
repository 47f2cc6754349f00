"""The whole benchmark: every section for every function, and the machine it ran on."""

from __future__ import annotations

import datetime
import importlib.util
import os
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import numpy as np

from jaxact.bench import step, timing
from jaxact.bench import torch as torch_lib
from jaxact.bench.config import (
    DEFAULT_DTYPES,
    DEFAULT_REPEATS,
    DEFAULT_STEP_SHAPE,
    DEFAULT_TIERS,
    DEFAULT_WARMUP,
    DEFINITIONS,
    MEMORY_SHAPE,
    SECTIONS,
    check_block_shape,
    check_counts,
    check_positive,
    check_shape,
    check_sizes,
    default_block_shape,
    default_sizes,
    dtype_names,
    error,
    tier_names,
)
from jaxact.bench.functions import resolve_functions
from jaxact.bench.memory import memory_row


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


def has_flax() -> bool:
    """Whether flax (an optional dependency, needed by the model blocks) is installed."""
    return importlib.util.find_spec("flax") is not None


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
    tiers: Iterable[str] = DEFAULT_TIERS,
    block_shape: Sequence[int] | None = None,
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
      sections: any of ``"time"``, ``"step"``, ``"blocks"``, ``"memory"``.
      step_shape: (layers, width, batch) of the timed training step (float32).
      step_repeats: timed steps per candidate (default: ``repeats``).
      tiers: jaxact precision tiers: in the time, step and blocks sections
        jaxact's candidate is traced and compiled once per tier.
      block_shape: the sizes of the model blocks (a
        :class:`~jaxact.bench.config.BlockShape`; default:
        :func:`~jaxact.bench.config.default_block_shape`). The blocks section
        times every block of :data:`jaxact.bench.blocks.BLOCKS` in every dtype
        of ``dtypes`` (it needs flax; without it the section is skipped with a
        note).
      torch: add PyTorch eager and torch.compile to the timings when
        ``import torch`` works.
      progress: called with one line per measurement (e.g. ``print``).

    Returns:
      ``{"machine", "config", "definitions", "notes", "time", "step",
      "blocks", "memory", "elapsed_s"}``.

    Raises:
      ValueError: for bad arguments or unknown function names, naming them.
    """
    start = time.perf_counter()
    sections = list(dict.fromkeys(sections))
    bad = [s for s in sections if s not in SECTIONS]
    if bad or not sections:
        raise error("sections", f"must be a non-empty subset of {SECTIONS}, got {sections!r}")
    rows = resolve_functions(functions)
    dtype_list = dtype_names(dtypes)
    size_list = check_sizes(default_sizes() if sizes is None else sizes)
    check_counts(repeats, warmup)
    step_n = repeats if step_repeats is None else step_repeats
    if not isinstance(step_n, int) or step_n < 1:
        raise error("step_repeats", f"must be a positive integer, got {step_n!r}")
    shape = check_shape(tuple(step_shape), "step_shape")
    tier_list = tier_names(tiers)
    blocks_shape = check_block_shape(
        default_block_shape() if block_shape is None else tuple(block_shape)
    )
    if buffers is not None:
        check_positive(buffers, "buffers")
    say = progress or (lambda _msg: None)

    def log(msg: str) -> None:
        say(f"[{time.perf_counter() - start:6.0f} s] {msg}")

    torch_mod, torch_note = torch_lib.torch_module(torch) if "time" in sections else (None, "")
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
            "tiers": tier_list,
            "block_shape": blocks_shape._asdict(),
            "memory_shape": dict(zip(("layers", "width", "batch"), MEMORY_SHAPE, strict=True)),
        },
        "definitions": dict(DEFINITIONS),
        "notes": notes,
        "time": [],
        "step": [],
        "blocks": [],
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
                    extra = torch_lib.torch_extra(torch_mod, name, notes) if torch_mod else None
                    r = timing.time_function(
                        fn,
                        theirs,
                        size=1 << log2,
                        dtype=dname,
                        repeats=repeats,
                        warmup=warmup,
                        buffers=buffers,
                        names=names,
                        tiers=tier_list,
                        extra=extra,
                    )
                    result["time"].append({"function": name, "log2": log2, **r})
        timing.clear()
    if "step" in sections:
        for dname in dtype_list:
            for i, (name, fn, theirs) in enumerate(rows):
                log(f"step {i + 1}/{len(rows)} {name} {dname}")
                s = step.step_time(
                    fn,
                    theirs,
                    layers=shape[0],
                    width=shape[1],
                    batch=shape[2],
                    dtype=dname,
                    repeats=step_n,
                    warmup=warmup,
                    names=names,
                    tiers=tier_list,
                )
                result["step"].append({"function": name, **s})
            step.clear()
    if "blocks" in sections:
        if not has_flax():
            notes.append("model blocks skipped: flax is not installed (pip install 'jaxact[flax]')")
        else:
            from jaxact.bench import blocks

            cases = [(b, d) for b in blocks.BLOCKS for d in dtype_list]
            for i, (b, dname) in enumerate(cases):
                log(f"blocks {i + 1}/{len(cases)} {b} {dname}")
                r = blocks.block_time(
                    b,
                    dtype=dname,
                    shape=blocks_shape,
                    tiers=tier_list,
                    repeats=repeats,
                    warmup=warmup,
                )
                result["blocks"].append(r)
    result["elapsed_s"] = time.perf_counter() - start
    return result
