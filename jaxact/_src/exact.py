"""Error-free transformations: sums and products carried as unevaluated pairs.

XLA:CPU may contract ``a * b + c`` into an FMA and folds ``(c + x) - c`` to
``x`` when ``c`` is a constant, which breaks the textbook (Veltkamp/Dekker)
forms; these versions are immune: the split masks bits instead of using a
splitter constant, and products are formed only from exact half products.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array


def split(a: Array) -> tuple[Array, Array]:
    """a = hi + lo exactly, hi with at most half the significand bits.

    The low bits are masked off (not Veltkamp's ``c - (c - a)``, which XLA may
    contract into an FMA), so every product of two halves is exact.
    """
    itype: Any
    mask: Any
    if a.dtype == jnp.float32:
        itype, mask = jnp.uint32, np.uint32(0xFFFFF000)
    else:
        itype, mask = jnp.uint64, np.uint64(0xFFFFFFFFF8000000)
    hi = lax.bitcast_convert_type(lax.bitcast_convert_type(a, itype) & mask, a.dtype)
    return hi, a - hi


def two_prod(a: Array, b: Array) -> tuple[Array, Array]:
    """a * b = p + e to about twice the working precision (far from overflow).

    Built from the exact products of halves only, so that XLA's FMA contraction
    (which rounds ``a * b`` differently in different consumers) cannot change it.
    """
    ah, al = split(a)
    bh, bl = split(b)
    hh = ah * bh
    t = ah * bl + al * bh
    p = hh + t
    e = (t - (p - hh)) + al * bl
    return p, e


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """a + b = s + e exactly (Knuth); neither may be a constant (XLA folds (c + x) - c to x)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
