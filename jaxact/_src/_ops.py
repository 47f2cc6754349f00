"""Select and clamp for the kernels, written so that ``lax.scan`` cannot hoist constants.

``jnp.where`` and ``jnp.clip`` are jitted functions of their own. When an
activation runs inside a differentiated ``lax.scan`` (a layer loop), JAX's
partial evaluation splits every such inner jit into the part that depends on
the carry and the part that does not, and the latter -- the branch constants
broadcast to the full array shape -- is computed once outside the loop and fed
back in as a full-size array per constant. XLA then reads those arrays from
memory in every iteration instead of folding a scalar into the fused loop: a
``gelu_erf`` scan training step carried 40 such arrays and ran 2.5x slower.
The two functions here use ``lax`` directly: a Python scalar becomes a splat
constant that XLA fuses, and nothing is split.

Semantics match ``jnp.where(cond, a, b)`` (three arguments) and
``jnp.clip(x, lo, hi)`` for real floating operands: NumPy broadcasting, JAX's
type promotion (weak Python scalars included), NaN passes through ``clip``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array


def _is_weak(v: Any) -> bool:
    return isinstance(v, (int, float)) or bool(getattr(v, "weak_type", False))


def _operand(v: Any, shape: tuple[int, ...], dtype: Any, weak: bool) -> Array:
    if isinstance(v, (int, float)):
        return lax.full(shape, v, None if weak else dtype)
    v = jnp.asarray(v)
    if v.dtype != dtype:
        v = v.astype(dtype)
    if v.shape != shape:
        v = jnp.broadcast_to(v, shape)
    return v


def where(cond: Any, a: Any, b: Any) -> Array:
    """``jnp.where(cond, a, b)`` without an inner jit (see the module docstring)."""
    shape = tuple(np.broadcast_shapes(np.shape(cond), np.shape(a), np.shape(b)))
    dtype = jnp.result_type(a, b)
    weak = _is_weak(a) and _is_weak(b)
    c = jnp.asarray(cond)
    if c.shape != shape:
        c = jnp.broadcast_to(c, shape)
    return lax.select(c, _operand(a, shape, dtype, weak), _operand(b, shape, dtype, weak))


def clip(x: Array, lo: Any = None, hi: Any = None) -> Array:
    """``jnp.clip(x, lo, hi)`` as ``min(max(x, lo), hi)``; NaN stays NaN."""
    if lo is not None:
        x = jnp.maximum(x, lo)
    if hi is not None:
        x = jnp.minimum(x, hi)
    return x
