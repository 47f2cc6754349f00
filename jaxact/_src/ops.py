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
type promotion (two Python-scalar branches aside: see ``where``), NaN passes
through ``clip``. Constants take the sharding of the array operand.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array


def _full(ref: Array, v: Any, dtype: Any) -> Array:
    """``v`` broadcast to ``ref``'s shape and sharding (``ref`` has the result shape)."""
    if isinstance(v, (int, float, bool)):
        return lax.full_like(ref, v, dtype)
    v = jnp.asarray(v)
    if v.dtype != dtype:
        v = v.astype(dtype)
    if v.shape != ref.shape:
        # A product with ones (not broadcast_to) takes ref's sharding; v * 1 is v.
        ones = lax.full_like(ref, True if dtype == jnp.bool_ else 1, dtype)
        v = (ones & v) if dtype == jnp.bool_ else ones * v
    return v


def where(cond: Any, a: Any, b: Any) -> Array:
    """``jnp.where(cond, a, b)`` without an inner jit (see the module docstring).

    Two Python-scalar branches give a result of the default float (or int) dtype
    that is not weakly typed.
    """
    shape = tuple(np.broadcast_shapes(np.shape(cond), np.shape(a), np.shape(b)))
    dtype = jnp.result_type(a, b)
    refs = [v for v in (a, b, cond) if isinstance(v, (jax.Array, np.ndarray))]
    ref = next((jnp.asarray(v) for v in refs if np.shape(v) == shape), None)
    if ref is None:
        ref = jnp.broadcast_to(jnp.asarray(refs[0]), shape)
    # A scalar predicate stays scalar (lax.select takes one): broadcasting a
    # loop-invariant predicate would be hoisted like a constant.
    c = jnp.asarray(cond) if np.ndim(cond) == 0 else _full(ref, cond, jnp.dtype(jnp.bool_))
    return lax.select(c, _full(ref, a, dtype), _full(ref, b, dtype))


def clip(x: Array, lo: Any = None, hi: Any = None) -> Array:
    """``jnp.clip(x, lo, hi)`` as ``min(max(x, lo), hi)``; NaN stays NaN."""
    if lo is not None:
        x = jnp.maximum(x, lo)
    if hi is not None:
        x = jnp.minimum(x, hi)
    return x
