"""Double-word building blocks shared by the smooth families.

A double word is a pair ``(hi, lo)`` whose sum carries about twice the working
precision (``|lo| <= ulp(hi)``). The helpers here form exponentials, logistic
gates and quotients as double words, or as products that stay normal numbers
while their result is (a subnormal ``e^x`` never appears as an intermediate).
They take and return arrays of one dtype, float32 or float64; half precision is
upcast by the callers.
"""

from __future__ import annotations

import decimal
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import elementary, ops, precision
from jaxact._src.exact import two_prod, two_sum

Array = jax.Array

T = 40.0  # beyond |x| = 40, sigma(-|x|) = e^{-|x|} and tanh(|x|/2) = 1 to the last bit (f64)
BIG = 1e4  # inputs are clamped here inside formulas whose result is already exact


# e^{-64} as a double word per dtype (hi, lo).
EXP_M64 = {
    jnp.dtype(jnp.float32): (1.6038109389511792e-28, -4.840254038107756e-36),
    jnp.dtype(jnp.float64): (1.603810890548638e-28, -7.361325221284214e-45),
}


def exp_times(p: Array, x: Array, xlo: Array | None = None) -> Array:
    """``p e^{x + xlo}`` for ``x <= 0`` (``xlo`` a tiny correction), normal while the result is.

    Below ``x = -40`` formed as ``(p e^{x + 64}) e^{-64}`` (``x + 64`` is exact
    there) with ``e^{-64}`` as a double word, so a subnormal ``e^x`` never appears.
    """
    hi, lo = EXP_M64[jnp.dtype(x.dtype)]
    far = x < -T
    q = p * elementary.exp(ops.where(far, x + 64.0, x))
    if xlo is not None:
        q = q + q * xlo
    return ops.where(far, q * hi + q * lo, q)


# Double-word pieces (value hi + lo, |lo| <= ulp(hi)).


def exp_dw(x: Array) -> tuple[Array, Array]:
    """``e^x`` as a double word for ``|x| <= 40`` (from ``elementary``'s reduction).

    Fast tier: XLA's ``e^x`` and a zero low word (so is every double word here)."""
    if precision.fast(x.dtype):
        return jax.lax.exp(x), jnp.zeros_like(x)
    c = elementary.consts(x)
    k, r, w = elementary.exp_parts(x, c)
    s = 1.0 + r
    e = ((1.0 - s) + r) + w
    h = s + e
    return elementary.scale(h, k, c), elementary.scale((s - h) + e, k, c)


# exp_dw_fine reduces by ln2/32 against a table of 2^{j/32} as double words.
_STEPS = 32


@functools.cache
def _fine_constants(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """(2^{j/32} heads, tails; ln2/32 head (few bits: n times it is exact), tail; 32/ln2)."""
    ctx = decimal.Context(prec=50)
    kind = np.dtype(dtype).type
    table = [ctx.power(decimal.Decimal(2), decimal.Decimal(j) / _STEPS) for j in range(_STEPS)]
    hi = np.array([kind(float(t)) for t in table])
    lo = np.array(
        [kind(float(t - decimal.Decimal(float(h)))) for t, h in zip(table, hi, strict=True)]
    )
    step = ctx.ln(decimal.Decimal(2)) / _STEPS
    bits = 45 if np.dtype(dtype) == np.float64 else 17  # |n| < 2^11 for |x| <= 40
    step_hi = round(float(step) * 2.0**bits) / 2.0**bits
    step_lo = float(kind(float(step - decimal.Decimal(step_hi))))
    return hi, lo, step_hi, step_lo, float(1 / step)


def exp_dw_fine(x: Array) -> tuple[Array, Array]:
    """``e^x`` as a double word to about ``2^-66`` relative (float64; ``2^-38`` in
    float32) for ``|x| <= 40``: ``x = n ln2/32 + r`` with ``|r| <= ln2/64``,
    ``e^x = 2^{n/32} e^r`` with ``2^{j/32}`` from a double-word table and ``e^r`` as
    ``(1 + r)`` plus a short Taylor tail. For quantities that amplify the rounding of
    ``e^x`` by a large factor (``e^{-e^x}``); :func:`exp_dw` is cheaper and about
    ``2^-56`` accurate.
    """
    if precision.fast(x.dtype):
        return exp_dw(x)
    hi_t, lo_t, step_hi, step_lo, inv = _fine_constants(np.dtype(x.dtype))
    c = elementary.consts(x)
    n = jnp.round(x * inv)
    r, rl = two_sum(x - n * step_hi, -(n * step_lo))  # x - n step_hi is exact
    tail = (
        r * r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040))))))
    )
    s = 1.0 + r
    e = ((1.0 - s) + r) + (tail + rl * (1.0 + r))
    eh = s + e
    el = (s - eh) + e
    k = n.astype(c.idt)
    j = k & (_STEPS - 1)
    th = jnp.take(jnp.asarray(hi_t), j)
    tl = jnp.take(jnp.asarray(lo_t), j)
    p, pe = two_prod(th, eh)
    lo = pe + (th * el + tl * eh)
    h = p + lo
    m = k >> 5  # floor(n / 32)
    return elementary.scale(h, m, c), elementary.scale((p - h) + lo, m, c)


def logistic_dw(z: Array) -> tuple[Array, Array]:
    """``sigma(z)`` as a double word for ``|z| <= 40``."""
    if precision.fast(z.dtype):
        return elementary.logistic(z), jnp.zeros_like(z)
    c = elementary.consts(z)
    k, q0, q1 = elementary.recip1pexp(jnp.abs(z), c)
    gh = elementary.scale(q0, -k, c)
    gl = elementary.scale(q1, -k, c)
    hh = 1.0 - gh
    hl = ((1.0 - hh) - gh) - gl
    neg = z < 0
    sh, sl = ops.where(neg, gh, hh), ops.where(neg, gl, hl)
    h = sh + sl  # gh is a short head: renormalise
    return h, (sh - h) + sl


def dw_div(nh: Array, nl: Array, dh: Array, dl: Array) -> Array:
    """``(nh + nl) / (dh + dl)`` rounded once (to about half an ulp); one division
    in the fast tier."""
    if precision.fast(nh.dtype):
        return (nh + nl) / (dh + dl)
    # One division, by a head q0 of 1/dh (its only use), then products: XLA:CPU
    # does not fuse a division whose result has several users, and the whole
    # value was split into materialised pieces (mish's forward pass 3x slower).
    q0 = elementary.head(1.0 / dh, elementary.consts(dh))
    t = nh * q0
    for _ in range(2):
        p, pe = two_prod(t, dh)
        t = t + (((nh - p) - pe) + (nl - t * dl)) * q0
    return t


def tanh_log1p_parts(e: Array, el: Array) -> tuple[Array, Array, Array, Array]:
    """``tanh(log(1 + e)) = n / (n + 2)``, ``n = e (e + 2)``, for ``0 <= e + el <= 1``:
    numerator and denominator as double words ``(nh, nl, dh, dl)``."""
    ah = 2.0 + e
    al = (2.0 - ah) + e
    nh, nl = two_prod(e, ah)
    nl = nl + (e * al + el * (e + ah))  # (e + el)(ah + al + el) - nh
    dh = nh + 2.0
    dl = ops.where(nh > 2, (nh - dh) + 2.0, (2.0 - dh) + nh) + nl
    return nh, nl, dh, dl


def tanh_log1p(e: Array, el: Array) -> Array:
    """``tanh(log(1 + e))`` for ``0 <= e + el <= 1``, rounded once."""
    return dw_div(*tanh_log1p_parts(e, el))


def exp_neg_sq(hi: Array, lo: Array) -> Array:
    """``e^{-(hi + lo)^2}`` with the square formed exactly (|hi| <= 1e4)."""
    p, e = two_prod(hi, hi)
    q = elementary.exp(-p)
    return q - q * (e + 2 * hi * lo)


def exp_neg_sq_times(f: Array, hi: Array, lo: Array) -> Array:
    """``f e^{-(hi + lo)^2}``, normal as long as the result is (|hi| <= 1e4)."""
    p, e = two_prod(hi, hi)
    return exp_times(f, -p, -(e + 2 * hi * lo))


def sigmoid_prime_times(p: Array, z: Array) -> Array:
    """``p * sigma'(z)``, kept normal in both tails (p finite)."""
    az = jnp.abs(z)
    zm = ops.clip(z, -T, T)
    return ops.where(az > T, exp_times(p, -ops.clip(az, T, BIG)), p * elementary.logistic_prime(zm))
