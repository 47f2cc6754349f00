"""Defaults, definitions and argument checks shared by the ``jaxact bench`` modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
Fn = Callable[[Array], Array]

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


def error(arg: str, message: str) -> ValueError:
    """The error every check raises: ``jaxact bench: argument 'ARG' MESSAGE``."""
    return ValueError(f"jaxact bench: argument '{arg}' {message}")


def as_dtype(dtype: Any, arg: str = "dtype") -> np.dtype:
    """``dtype`` as a numpy dtype, one of :data:`DTYPES`."""
    try:
        d = jnp.dtype(dtype)
    except TypeError:
        raise error(arg, f"must be a floating dtype, got {dtype!r}") from None
    if d.name not in DTYPES:
        raise error(arg, f"must be one of {', '.join(DTYPES)}, got {d.name!r}")
    return d


def dtype_names(dtypes: Iterable[Any]) -> list[str]:
    """The distinct names of ``dtypes``, in order; at least one."""
    out = [as_dtype(d, "dtypes").name for d in dtypes]
    if not out:
        raise error("dtypes", "must name at least one dtype")
    return list(dict.fromkeys(out))


def check_counts(repeats: int, warmup: int) -> None:
    if not isinstance(repeats, int) or repeats < 1:
        raise error("repeats", f"must be a positive integer, got {repeats!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise error("warmup", f"must be a non-negative integer, got {warmup!r}")


def check_positive(value: Any, arg: str) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise error(arg, f"must be a positive integer, got {value!r}")
    return int(value)


def check_shape(shape: Sequence[int], arg: str) -> tuple[int, int, int]:
    """(layers, width, batch) of a scan-MLP step, three positive integers."""
    if len(shape) != 3 or any(not isinstance(v, (int, np.integer)) or v < 1 for v in shape):
        raise error(arg, f"must be three positive integers (layers, width, batch), got {shape!r}")
    return int(shape[0]), int(shape[1]), int(shape[2])


def check_sizes(sizes: Iterable[int]) -> list[int]:
    """log2 element counts between 4 and 30; at least one."""
    out = list(sizes)
    if not out:
        raise error("sizes", "must list at least one log2 size")
    for s in out:
        if not isinstance(s, (int, np.integer)) or not 4 <= s <= 30:
            raise error("sizes", f"must be log2 element counts between 4 and 30, got {s!r}")
    return [int(s) for s in out]


def default_sizes() -> tuple[int, ...]:
    """The default log2 sizes: (20, 22) on CPU, (20, 24) on GPU and TPU."""
    return DEFAULT_CPU_SIZES if jax.default_backend() == "cpu" else DEFAULT_SIZES
