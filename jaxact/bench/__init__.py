"""Speed and memory of activations: the library behind ``jaxact bench``.

Four measurements, each for jaxact's function next to jax.nn's where jax.nn
has one, and the first three usable on any callable of one array:

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
- :func:`jaxact.bench.blocks.block_time`: the training step
  (``jit(value_and_grad)`` over parameters and input) of a Flax linen model
  block — pre-LN transformer MLP with either gelu, ViT encoder block, LLaMA
  SwiGLU block, ResNet basic block — built with jaxact's activations and with
  jax.nn's (needs flax; :mod:`jaxact.bench.blocks`).

Precision tiers: :func:`time_function` and :func:`step_time` take ``tiers``, and
the ``jaxact bench`` command times jaxact's candidate once per tier (``--tiers``,
default ``fast,accurate``): each version is traced and compiled inside
``jaxact.precision(tier)``, keeps that tier in its executable, and runs
interleaved with the others. "fast" is what the default tier "auto" gives
float32, bfloat16 and float16.

The modules, one concern each: :mod:`~jaxact.bench.functions` (which functions,
from the registry), :mod:`~jaxact.bench.timing` (the interleaved timing core),
:mod:`~jaxact.bench.step` (the training step), :mod:`~jaxact.bench.blocks` (the
model blocks), :mod:`~jaxact.bench.memory` (the memory rows),
:mod:`~jaxact.bench.torch` (optional PyTorch candidates),
:mod:`~jaxact.bench.suite` (the whole run), :mod:`~jaxact.bench.report`
(tables, Markdown, JSON, PNG), :mod:`~jaxact.bench.cli` (the command line) and
:mod:`~jaxact.bench.config` (defaults, definitions, argument checks).

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
  calls. With both precision tiers (the default), the time, step and memory
  sections of a default run took 700 s on a 2-core CPU, much of it compiling
  (every function is compiled per dtype, size and tier), and the model blocks
  (``--blocks``) 53-82 s.

Example:
  >>> import jax, jaxact
  >>> from jaxact.bench import time_function
  >>> r = time_function(lambda x: x * 2.0, size=1 << 10, repeats=3, warmup=1)
  >>> sorted(r["fwd"]["times"]), r["fwd"]["bytes"]
  (['copy', 'fn'], 8192)
"""

from __future__ import annotations

from jaxact.bench.cli import add_arguments as add_arguments
from jaxact.bench.cli import main as main
from jaxact.bench.cli import run as run_from_args
from jaxact.bench.config import DEFAULT_BLOCK_SHAPE as DEFAULT_BLOCK_SHAPE
from jaxact.bench.config import DEFAULT_CPU_BLOCK_SHAPE as DEFAULT_CPU_BLOCK_SHAPE
from jaxact.bench.config import DEFAULT_CPU_SIZES as DEFAULT_CPU_SIZES
from jaxact.bench.config import DEFAULT_DTYPES as DEFAULT_DTYPES
from jaxact.bench.config import DEFAULT_REPEATS as DEFAULT_REPEATS
from jaxact.bench.config import DEFAULT_SIZES as DEFAULT_SIZES
from jaxact.bench.config import DEFAULT_STEP_SHAPE as DEFAULT_STEP_SHAPE
from jaxact.bench.config import DEFAULT_TIERS as DEFAULT_TIERS
from jaxact.bench.config import DEFAULT_WARMUP as DEFAULT_WARMUP
from jaxact.bench.config import DEFINITIONS as DEFINITIONS
from jaxact.bench.config import DTYPES as DTYPES
from jaxact.bench.config import MEMORY_SHAPE as MEMORY_SHAPE
from jaxact.bench.config import MODES as MODES
from jaxact.bench.config import QUICK_BLOCK_SHAPE as QUICK_BLOCK_SHAPE
from jaxact.bench.config import QUICK_REPEATS as QUICK_REPEATS
from jaxact.bench.config import QUICK_SIZES as QUICK_SIZES
from jaxact.bench.config import QUICK_STEP_SHAPE as QUICK_STEP_SHAPE
from jaxact.bench.config import QUICK_WARMUP as QUICK_WARMUP
from jaxact.bench.config import SECTIONS as SECTIONS
from jaxact.bench.config import BlockShape as BlockShape
from jaxact.bench.config import default_block_shape as default_block_shape
from jaxact.bench.config import default_sizes as default_sizes
from jaxact.bench.functions import jax_nn_counterpart as jax_nn_counterpart
from jaxact.bench.functions import resolve_functions as resolve_functions
from jaxact.bench.memory import memory_row as memory_row
from jaxact.bench.report import format_tables as format_tables
from jaxact.bench.report import write_report as write_report
from jaxact.bench.step import step_time as step_time
from jaxact.bench.suite import machine as machine
from jaxact.bench.suite import run as run
from jaxact.bench.timing import time_function as time_function

__all__ = [
    "DEFAULT_BLOCK_SHAPE",
    "DEFAULT_CPU_BLOCK_SHAPE",
    "DEFAULT_CPU_SIZES",
    "DEFAULT_DTYPES",
    "DEFAULT_REPEATS",
    "DEFAULT_SIZES",
    "DEFAULT_STEP_SHAPE",
    "DEFAULT_TIERS",
    "DEFAULT_WARMUP",
    "DEFINITIONS",
    "DTYPES",
    "MEMORY_SHAPE",
    "MODES",
    "QUICK_BLOCK_SHAPE",
    "QUICK_REPEATS",
    "QUICK_SIZES",
    "QUICK_STEP_SHAPE",
    "QUICK_WARMUP",
    "SECTIONS",
    "BlockShape",
    "add_arguments",
    "default_block_shape",
    "default_sizes",
    "format_tables",
    "jax_nn_counterpart",
    "machine",
    "main",
    "memory_row",
    "resolve_functions",
    "run",
    "run_from_args",
    "step_time",
    "time_function",
    "write_report",
]
