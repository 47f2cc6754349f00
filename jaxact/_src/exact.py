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


def horner(coeffs: list[Array], t: Array) -> tuple[Array, Array]:
    """Compensated Horner: ``sum_i coeffs[i] t^i = hi + lo`` to about twice the precision.

    Each step's rounding errors (from :func:`two_prod` and :func:`two_sum`) are
    carried in a second Horner recurrence, so the sum ``hi + lo`` is as accurate
    as if evaluated in double the working precision (Graillat, Langlois, Louvet
    2005). The coefficients must not be compile-time constants (see
    :func:`two_sum`); pass them as traced values.
    """
    hi = jnp.zeros_like(t) + coeffs[-1]
    lo = jnp.zeros_like(t)
    for c in reversed(coeffs[:-1]):
        p, pe = two_prod(hi, t)
        hi, se = two_sum(p, jnp.zeros_like(t) + c)
        lo = lo * t + (pe + se)
    return hi, lo


def divide(ph: Array, pl: Array, qh: Array, ql: Array) -> Array:
    """``(ph + pl) / (qh + ql)`` to about half an ulp (plus the inputs' own error)."""
    r = ph / qh
    pr, pe = two_prod(r, qh)
    return r + (((ph - pr) - pe) + pl - r * ql) / qh
