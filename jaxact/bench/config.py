"""Defaults, definitions and argument checks shared by the ``jaxact bench`` modules.

Importing it needs no jax (the command's help shows these defaults): the checks that
need jax import it when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import jax

    Array = jax.Array
    Fn = Callable[[Array], Array]


def __getattr__(name: str) -> Any:
    # The type aliases, for the modules that import them at run time (they import jax).
    if name in ("Array", "Fn"):
        import jax

        aliases = {"Array": jax.Array, "Fn": Callable[[jax.Array], jax.Array]}
        globals().update(aliases)
        return aliases[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MODES = ("fwd", "fwd+bwd")
SECTIONS = ("time", "step", "blocks", "memory")
DTYPES = ("float32", "bfloat16", "float16")
# jaxact's candidate is traced once per tier; "fast" is what the default tier ("auto")
# gives float32, bfloat16 and float16.
DEFAULT_TIERS = ("fast", "accurate")


class BlockShape(NamedTuple):
    """Sizes of the model blocks of ``jaxact bench --blocks``.

    Transformer blocks (MLP, ViT, SwiGLU) take ``(batch, seq, width)`` tokens with
    ``heads`` attention heads; the ResNet block takes ``(images, side, side,
    channels)`` NHWC images.
    """

    batch: int
    seq: int
    width: int
    heads: int
    images: int
    side: int
    channels: int


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
# Model blocks: modest on CPU (the --blocks section took 53-82 s on 2 cores),
# larger on GPU/TPU, tiny for --quick.
DEFAULT_CPU_BLOCK_SHAPE = BlockShape(4, 128, 256, 4, 8, 32, 64)
DEFAULT_BLOCK_SHAPE = BlockShape(16, 512, 1024, 16, 64, 56, 64)
QUICK_BLOCK_SHAPE = BlockShape(2, 16, 32, 2, 2, 8, 8)
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
    "tiers": "jaxact's candidate is traced and compiled once per precision tier, inside "
    "`with jaxact.precision(tier)` (the tier is part of the compiled program); 'fast' is "
    "what the default tier 'auto' gives float32, bfloat16 and float16",
    "blocks": "jit(value_and_grad) over parameters and input of a Flax linen block "
    "(loss = mean(out**2) / 2), built once with jaxact's activations and once with "
    "jax.nn's, same parameters and inputs, parameters and activations in the dtype; "
    "ratio = jaxact / jax.nn",
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
    import jax.numpy as jnp

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


def tier_names(tiers: Iterable[Any]) -> list[str]:
    """The distinct precision tiers of ``tiers``, in order; at least one."""
    from jaxact._src.precision import TIERS

    if isinstance(tiers, str):
        tiers = tiers.split(",")
    out = []
    for t in tiers:
        name = t.strip() if isinstance(t, str) else t
        if name not in TIERS:
            raise error("tiers", f"must be among {', '.join(TIERS)}, got {t!r}")
        out.append(name)
    if not out:
        raise error("tiers", "must name at least one precision tier")
    return list(dict.fromkeys(out))


def tier_label(name: str, tier: str) -> str:
    """The label of ``name`` traced under ``tier`` in a result: ``"jaxact (fast)"``."""
    return f"{name} ({tier})"


def tier_versions(name: str, tiers: list[str] | None) -> dict[str, str | None]:
    """Label -> tier of each version of ``name`` timed: ``{name: None}`` without tiers."""
    if tiers is None:
        return {name: None}
    return {tier_label(name, t): t for t in tiers}


def check_block_shape(shape: Sequence[int]) -> BlockShape:
    """A :class:`BlockShape` of positive integers whose width the heads divide."""
    fields = BlockShape._fields
    if len(shape) != len(fields) or any(
        not isinstance(v, (int, np.integer)) or v < 1 for v in shape
    ):
        raise error(
            "block_shape",
            f"must be {len(fields)} positive integers ({', '.join(fields)}), got {tuple(shape)!r}",
        )
    out = BlockShape(*(int(v) for v in shape))
    if out.width % out.heads:
        raise error("block_shape", f"width {out.width} must be a multiple of heads {out.heads}")
    return out


def default_block_shape() -> BlockShape:
    """The default block sizes: :data:`DEFAULT_CPU_BLOCK_SHAPE` on CPU, larger elsewhere."""
    import jax

    return DEFAULT_CPU_BLOCK_SHAPE if jax.default_backend() == "cpu" else DEFAULT_BLOCK_SHAPE


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
    import jax

    return DEFAULT_CPU_SIZES if jax.default_backend() == "cpu" else DEFAULT_SIZES
