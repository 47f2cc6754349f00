"""Periodic family: sine (SIREN), snake, snake_beta and the growing cosine unit.

The arguments of the trigonometric functions are formed without rounding where
it matters: ``sin(w0 x)`` is evaluated as ``sin(p) + e cos(p)`` where ``p + e``
is the exact product ``w0 * x`` (a two-product), so ``sine`` keeps the accuracy
of XLA's ``sin`` (which reduces arguments correctly) instead of losing
``|w0 x|`` ulps to the rounding of the product. ``snake`` is written as
``x + x sin(alpha x) sinc(alpha x)``, which has no ``0/0`` as ``alpha -> 0``.
None of these functions has a limit at +-inf: there the result is NaN.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxact._src import ops
from jaxact._src.core import ArrayLike, finish, half_remat, param, prepare, rule
from jaxact._src.exact import split, two_prod, two_sum
from jaxact._src.registry import register

Array = jax.Array

__all__ = ["sine", "snake", "snake_beta", "gcu"]


def _exact_parts(x: Array) -> tuple[Array, Array, Array]:
    """``x == m * s * t`` with ``m`` a moderate normal float, ``s`` and ``t`` powers of 2.

    Large ``|x|`` is scaled down (so that Veltkamp's split cannot overflow) and
    subnormal ``x`` is rebuilt from its bits (XLA:CPU reads subnormal operands as
    0, which would turn ``sin(30 x)`` into 0 where the result is a normal number).
    """
    dtype = jnp.result_type(x)
    f32 = dtype == jnp.float32
    itype, mask, low = (jnp.int32, 0x7FFFFF, -149) if f32 else (jnp.int64, (1 << 52) - 1, -1074)
    big = jnp.abs(x) > 2.0**32
    sub = ~big & ~(jnp.abs(x) >= float(jnp.finfo(dtype).tiny)) & ~jnp.isnan(x)
    mant = (lax.bitcast_convert_type(x, itype) & mask).astype(dtype)
    mant = ops.where(_sign_bit(x), -mant, mant)
    m = ops.where(big, x * 2.0**-64, ops.where(sub, mant, x))
    s = ops.where(big, 2.0**32, ops.where(sub, 2.0 ** (low // 2), 1.0)).astype(dtype)
    t = ops.where(big, 2.0**32, ops.where(sub, 2.0 ** (low - low // 2), 1.0)).astype(dtype)
    return m, s, t


def _sign_bit(x: Array) -> Array:
    itype = jnp.int32 if jnp.result_type(x) == jnp.float32 else jnp.int64
    return lax.bitcast_convert_type(x, itype) < 0


def _two_prod(w: Array | float, x: Array) -> tuple[Array, Array]:
    """``p + e == w * x`` exactly (Dekker's product; ``p`` may overflow to inf)."""
    dtype = jnp.result_type(x)
    w = jnp.asarray(w, dtype)  # broadcast by the products (a full-size copy is hoisted in scans)
    m, s, t = _exact_parts(x)
    wh, wl = split(w)
    mh, ml = split(m)
    ps = w * m
    es = ((wh * mh - ps) + wh * ml + wl * mh) + wl * ml
    return ps * s * t, es * s * t


def _sincos_sum(p: Array, e: Array) -> tuple[Array, Array]:
    sp, cp, se, ce = jnp.sin(p), jnp.cos(p), jnp.sin(e), jnp.cos(e)
    return sp * ce + cp * se, cp * ce - sp * se


def _sincos_prod(w: Array, x: Array, chunks: Array | None = None) -> tuple[Array, Array]:
    """``sin(w x)`` and ``cos(w x)`` from the exact product ``w x``.

    Where ``w x`` overflows and the phase table of ``w`` is given (``chunks``,
    from :func:`_phase_table` of a Python number), the phase ``w x / (2 pi) mod 1``
    is reduced exactly (Payne-Hanek, see ``_sincos_huge``). Otherwise
    ``w 2^-k x`` (``2^k >= |w|``) is used instead and the angle doubled ``k`` times
    (the result is finite; its error grows like ``2^k`` ulps, which hardly matters
    at ``|x| > max / |w|``).
    """
    p, e = _two_prod(w, x)
    over = jnp.isinf(p) & jnp.isfinite(x)
    s, c = _sincos_sum(p, ops.where(over, 0, e))
    if chunks is not None:
        s2, c2 = _sincos_huge(x, w, chunks)
        return ops.where(over, s2, s), ops.where(over, c2, c)
    # Halve w by 2^k (the least k with |w| 2^-k <= 1, at most 16), then double k times.
    k = ops.clip(jnp.ceil(jnp.log2(jnp.abs(w))), 0, 16)
    q, f = _two_prod(w * jnp.exp2(-k), ops.where(over, x, 0))
    s2, c2 = _sincos_sum(q, f)
    for i in range(16):
        live = i < k
        s2, c2 = ops.where(live, 2 * s2 * c2, s2), ops.where(live, (c2 - s2) * (c2 + s2), c2)
    return ops.where(over, s2, s), ops.where(over, c2, c)


# Payne-Hanek reduction with w0 folded in. |x| = M 2^E with M an integer of p bits;
# the phase is frac(M frac(2^E w0 / (2 pi))). frac(2^E w0 / (2 pi)) is stored as
# _NCHUNK chunks of h bits (h = p // 2 rounded so that every product of a chunk with
# either half of M is exact), computed per (w0, dtype) with integer arithmetic. The
# table has a row for every normal exponent (zero where w0 x cannot overflow), so
# its shape does not depend on w0: it is an operand of the compiled function, and a
# new w0 needs no new compilation.
_NCHUNK = 6


# The most bits a table row asks for: 2^E w0 / (2 pi) with E up to float64's 971 and w0's
# numerator up to 1024 bits, plus the chunk and guard bits (table rows use < 2300).
_PI_BITS = 2368


def _pi_fixed(bits: int) -> int:
    """floor(pi 2^bits) (to within a couple of units), by Machin's formula: one value of
    _PI_BITS bits, computed once and shifted (no cache keyed on values of w0)."""
    if bits <= _PI_BITS:
        return _pi_machin(_PI_BITS) >> (_PI_BITS - bits)
    return _pi_machin(bits)  # pragma: no cover (beyond every float64 w0)


@functools.cache
def _pi_machin(bits: int) -> int:
    """floor(pi 2^bits) (to within a couple of units), by Machin's formula."""
    guard = bits + 32

    def atan_inv(n: int) -> int:
        total, term, k, n2 = 0, (1 << guard) // n, 1, n * n
        while term:
            total += term // k if (k // 2) % 2 == 0 else -(term // k)
            term //= n2
            k += 2
        return total

    return (16 * atan_inv(5) - 4 * atan_inv(239)) >> 32


def _halves(dtype: np.dtype) -> tuple[int, int]:
    """(p, h): significand bits and the chunk / low-half width."""
    return (24, 12) if dtype == np.float32 else (53, 26)


@functools.lru_cache(maxsize=64)
def _phase_table(w0: float, dtype: np.dtype) -> np.ndarray | None:
    """``chunks[e - minexp, j]`` for every normal exponent ``e`` (float32/float64).

    Rows are computed where ``w0 x`` may overflow and are 0 below (never used); a
    non-finite ``w0`` gives NaN rows (``sine`` is NaN there, as for an array ``w0``).
    """
    if dtype not in (np.float32, np.float64):
        return None
    w = float(np.asarray(abs(w0), dtype))
    info = np.finfo(dtype)
    p, h = _halves(dtype)
    emax = int(info.maxexp) - 1
    table = np.zeros((emax - int(info.minexp) + 1, _NCHUNK), dtype)
    if not math.isfinite(w):
        table[:] = np.nan
    if not (1.0 < w < math.inf):
        return table
    e_min = max(int(info.minexp), math.floor(math.log2(float(info.max) / w)) - 2)
    num, den = w.as_integer_ratio()
    nbits, guard = _NCHUNK * h, 64
    s = nbits + guard
    rows = []
    for e in range(e_min, emax + 1):
        big_e = e - (p - 1)
        g = max(big_e, 0) + s + num.bit_length() + 64
        pi_f = _pi_fixed(g)
        # floor(2^(E + s) w / (2 pi)) = floor(num 2^(E + s + g) / (2 den pi_f)).
        shift = big_e + s + g
        top = num << shift if shift >= 0 else num >> -shift
        q = top // (2 * den * pi_f)
        frac = (q & ((1 << s) - 1)) >> guard
        rows.append(
            [
                math.ldexp((frac >> (nbits - (j + 1) * h)) & ((1 << h) - 1), -(j + 1) * h)
                for j in range(_NCHUNK)
            ]
        )
    table[e_min - int(info.minexp) :] = rows
    return table


def _sincos_huge(x: Array, w: Array, chunks: Array) -> tuple[Array, Array]:
    """``sin(w x)``, ``cos(w x)`` for normal ``|x|`` where ``w x`` overflows.

    ``chunks`` is ``w``'s table (:func:`_phase_table`).
    """
    dtype = jnp.result_type(x)
    p, h = _halves(np.dtype(dtype))
    itype = jnp.int32 if dtype == jnp.float32 else jnp.int64
    bits = lax.bitcast_convert_type(x, itype)
    mbits = p - 1
    expo = ((bits >> mbits) & ((1 << (8 if p == 24 else 11)) - 1)) - (127 if p == 24 else 1023)
    mant = (bits & ((1 << mbits) - 1)) | (1 << mbits)
    lo_mask = (1 << h) - 1
    m_hi = (mant & ~lo_mask).astype(dtype)
    m_lo = (mant & lo_mask).astype(dtype)
    idx = ops.clip(expo - int(np.finfo(dtype).minexp), 0, chunks.shape[0] - 1)
    # One gather per column, given idx's sharding (a gather from the replicated table
    # has none of its own under a mesh of explicit axes).
    out_sharding = jax.typeof(idx).sharding
    # Every product is exact; its fractional part is exact too.
    terms = []
    for j in range(_NCHUNK):
        c = chunks[:, j].at[idx].get(mode="promise_in_bounds", out_sharding=out_sharding)
        for m in (m_hi, m_lo):
            t = m * c
            terms.append(t - jnp.floor(t))
    hi, lo = terms[0], jnp.zeros_like(terms[0])
    for t in terms[1:]:
        hi, err = two_sum(hi, t)
        lo = lo + err
    hi = hi - jnp.round(hi)  # exact
    hi, lo = two_sum(hi, lo)
    # r = 2 pi (hi + lo), |r| <= pi (+ an ulp).
    two_pi_hi = float(np.asarray(2 * math.pi, dtype))
    two_pi_lo = math.ldexp(2 * _pi_fixed(200) - int(math.ldexp(two_pi_hi, 200)), -200)
    rh, rl = two_prod(hi, jnp.full_like(hi, two_pi_hi))
    rl = rl + (hi * two_pi_lo + lo * two_pi_hi)
    sr, cr = jnp.sin(rh), jnp.cos(rh)
    sn = sr + rl * cr
    cs_ = cr - rl * sr
    neg = _sign_bit(x) != _sign_bit(w)
    return ops.where(neg, -sn, sn), cs_


def _sin_prod_value(x: Array, w: Array) -> Array:
    return _sincos_prod(w, x)[0]


def _cos_prod_value(x: Array, w: Array) -> Array:
    return _sincos_prod(w, x)[1]


def _sin_prod_dx(x: Array, w: Array) -> Array:
    return w * _cos_prod(x, w)


def _sin_prod_dw(x: Array, w: Array) -> tuple[Array]:
    return (x * _cos_prod(x, w),)


def _cos_prod_dx(x: Array, w: Array) -> Array:
    return -w * _sin_prod(x, w)


def _cos_prod_dw(x: Array, w: Array) -> tuple[Array]:
    return (-x * _sin_prod(x, w),)


# sin(w x) and cos(w x) with exact products, differentiable to any order in x and w.
_sin_prod = rule(_sin_prod_value, _sin_prod_dx, _sin_prod_dw)
_cos_prod = rule(_cos_prod_value, _cos_prod_dx, _cos_prod_dw)


def _sin_table_value(x: Array, w: Array, chunks: Array) -> Array:
    return _sincos_prod(w, x, chunks)[0]


def _cos_table_value(x: Array, w: Array, chunks: Array) -> Array:
    return _sincos_prod(w, x, chunks)[1]


def _sin_table_dx(x: Array, w: Array, chunks: Array) -> Array:
    return w * _cos_table(x, w, chunks)


def _sin_table_dparams(x: Array, w: Array, chunks: Array) -> tuple[Array, Array]:
    # The table is a constant of w0 (a Python number): its tangent is always zero.
    return x * _cos_table(x, w, chunks), jnp.zeros_like(chunks)


def _cos_table_dx(x: Array, w: Array, chunks: Array) -> Array:
    return -w * _sin_table(x, w, chunks)


def _cos_table_dparams(x: Array, w: Array, chunks: Array) -> tuple[Array, Array]:
    return -x * _sin_table(x, w, chunks), jnp.zeros_like(chunks)


# _sin_prod and _cos_prod for a Python-number w with its phase table (exact
# reduction where w x overflows); w and the table are operands, so one compiled
# function serves every w.
_sin_table = rule(_sin_table_value, _sin_table_dx, _sin_table_dparams)
_cos_table = rule(_cos_table_value, _cos_table_dx, _cos_table_dparams)


@register(
    params={"w0": 30.0},
    bounded=True,
    bounded_below=True,
    zero_centred=True,
    paper="Sitzmann et al. 2020, Implicit Neural Representations with Periodic "
    "Activation Functions, arXiv:2006.09661",
)
@half_remat
def sine(x: ArrayLike, w0: ArrayLike = 30.0) -> Array:
    r"""Sine activation of SIREN, ``sin(w0 x)``.

    .. math::
      f(x) = \sin(\omega_0 x), \qquad f'(x) = \omega_0 \cos(\omega_0 x), \qquad
      f''(x) = -\omega_0^2 \sin(\omega_0 x)

    The product ``w0 x`` is carried exactly (as an unevaluated sum of two
    floats), so the result is as accurate as the ``sin`` of an exact argument.
    Where ``w0 x`` overflows, the phase ``w0 x / (2 pi)`` is reduced exactly
    (Payne-Hanek, with ``w0`` folded into the table of ``1 / (2 pi)``) when
    ``w0`` is a Python number; for an array ``w0`` the value there is still
    finite but only a few hundred ulps accurate. ``sine(+-inf)`` is NaN.

    Args:
      x: input array.
      w0: frequency ``omega_0`` (differentiable; SIREN uses 30).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.sine(0.05)), 6)
      0.997495

    References:
      Sitzmann, Martel, Bergman, Lindell, Wetzstein 2020, Implicit Neural
      Representations with Periodic Activation Functions, arXiv:2006.09661.
    """
    x, dtype = prepare(x, "sine")
    w0 = param(w0, "sine", "w0", x)
    w = jnp.asarray(w0, x.dtype)
    table = _phase_table(w0, jnp.dtype(x.dtype)) if isinstance(w0, float) else None
    if table is None:
        return finish(_sin_prod(x, w), dtype)
    return finish(_sin_table(x, w, table), dtype)


def _sinc_value(u: Array) -> Array:
    small = jnp.abs(u) < 1e-4
    us = ops.where(small, 1.0, u)
    return ops.where(small, 1 - u * u / 6, jnp.sin(us) / us)


def _sinc_d1_value(u: Array) -> Array:
    # (cos u - sinc u) / u, and its series -u/3 + u^3/30 near 0.
    small = jnp.abs(u) < 1e-2
    us = ops.where(small, 1.0, u)
    series = u * (-1.0 / 3 + u * u / 30)
    return ops.where(small, series, (jnp.cos(us) - jnp.sin(us) / us) / us)


def _sinc_d2_value(u: Array) -> Array:
    # -sinc u - 2 sinc'(u) / u, and its series -1/3 + u^2/10 near 0.
    small = jnp.abs(u) < 1e-2
    us = ops.where(small, 1.0, u)
    series = -1.0 / 3 + u * u / 10
    return ops.where(small, series, -_sinc_value(us) - 2 * _sinc_d1_value(us) / us)


# The unnormalized sinc, sin(u)/u, with its first two derivatives.
_sinc = rule(_sinc_value, rule(_sinc_d1_value, _sinc_d2_value))


def _snake_value(x: Array, alpha: Array) -> Array:
    # sin^2(alpha x) / alpha == x sin(alpha x) sinc(alpha x): no 0/0 at alpha = 0.
    # (sin^2(alpha x)/alpha is used where alpha is not tiny: one rounding fewer.)
    u = alpha * x
    s = jnp.sin(u)
    tiny = jnp.abs(alpha) < 1e-4
    safe = ops.where(tiny, 1.0, alpha).astype(x.dtype)  # a Python alpha: float64 under x64
    return x + ops.where(tiny, x * s * _sinc_value(u), s * s / safe)


def _one_plus(r: Array | float, x: Array, alpha: Array) -> Array:
    """``1 + r sin(2 alpha x)`` without cancellation at its double roots (``r = 1``).

    Where ``r s < 0`` it is ``((1 - r^2) + r^2 c^2) / (1 - r s)`` (``c = cos(2 alpha x)``,
    computed to full relative precision near ``s = -1``), using ``(1 + rs)(1 - rs) =
    1 - r^2 s^2``.
    """
    s = _sin_prod(x, 2 * alpha)
    c = _cos_prod(x, 2 * alpha)
    rs = r * s
    near = ((1 - r) * (1 + r) + jnp.square(r * c)) / (1 - ops.where(rs < 0, rs, 0))
    return ops.where(rs < 0, near, 1 + rs)


def _snake_d1_value(x: Array, alpha: Array) -> Array:
    return _one_plus(1.0, x, alpha)


def _snake_d2_value(x: Array, alpha: Array) -> Array:
    return 2 * alpha * _cos_prod(x, 2 * alpha)


_snake_dx = rule(_snake_d1_value, _snake_d2_value)


def _snake_dalpha(x: Array, alpha: Array) -> tuple[Array]:
    # x sin(2 alpha x)/alpha - sin^2(alpha x)/alpha^2 == x^2 (2 sinc(2u) - sinc(u)^2).
    u = alpha * x
    s = _sinc(u)
    return (x * x * (2 * _sinc(2 * u) - s * s),)


_snake = rule(_snake_value, _snake_dx, _snake_dalpha)


@register(
    params={"alpha": 1.0},
    monotonic=True,
    zero_centred=True,
    paper="Liu Ziyin, Hartwig, Ueda 2020, Neural Networks Fail to Learn Periodic "
    "Functions and How to Fix It, arXiv:2006.08195",
)
@half_remat
def snake(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Snake, ``x + sin^2(alpha x) / alpha``.

    .. math::
      f(x) = x + \frac{\sin^2(\alpha x)}{\alpha}, \qquad
      f'(x) = 1 + \sin(2\alpha x), \qquad f''(x) = 2\alpha\cos(2\alpha x),

    .. math::
      \frac{\partial f}{\partial \alpha} = \frac{x \sin(2\alpha x)}{\alpha}
        - \frac{\sin^2(\alpha x)}{\alpha^2}
        = x^2\big(2\,\mathrm{sinc}(2\alpha x) - \mathrm{sinc}^2(\alpha x)\big)

    (``sinc u = sin(u)/u``). Computed as ``x + x sin(alpha x) sinc(alpha x)``, so
    ``alpha`` may be 0 (``snake(x, 0) = x``, with ``df/dalpha = x^2``) and there is
    no ``1e-9`` guard. ``alpha`` may be an array broadcastable to ``x`` (one value
    per channel, as in BigVGAN and DAC); it is differentiable. Monotone for every
    ``alpha``. ``snake(+-inf)`` is NaN.

    Args:
      x: input array.
      alpha: frequency (differentiable; scalar or broadcastable to ``x``).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.snake(1.0)), 6)
      1.708073

    References:
      Liu Ziyin, Hartwig, Ueda 2020, Neural Networks Fail to Learn Periodic
      Functions and How to Fix It, arXiv:2006.08195.
    """
    x, dtype = prepare(x, "snake")
    alpha = param(alpha, "snake", "alpha", x)
    return finish(_snake(x, alpha), dtype)


def _snake_beta_value(x: Array, alpha: Array, beta: Array) -> Array:
    s = jnp.sin(alpha * x)
    return x + s * s / beta


def _snake_beta_d1_value(x: Array, alpha: Array, beta: Array) -> Array:
    return _one_plus(alpha / beta, x, alpha)


def _snake_beta_d2_value(x: Array, alpha: Array, beta: Array) -> Array:
    return 2 * alpha * alpha / beta * _cos_prod(x, 2 * alpha)


_snake_beta_dx = rule(_snake_beta_d1_value, _snake_beta_d2_value)


def _snake_beta_dparams(x: Array, alpha: Array, beta: Array) -> tuple[Array, Array]:
    s = _sin_prod(x, alpha)
    return x * _sin_prod(x, 2 * alpha) / beta, -s * s / (beta * beta)


_snake_beta = rule(_snake_beta_value, _snake_beta_dx, _snake_beta_dparams)


@register(
    params={"alpha": 1.0, "beta": 1.0},
    domain={"beta": "(0, inf)"},
    monotonic=True,
    zero_centred=True,
    paper="Lee et al. 2022, BigVGAN: A Universal Neural Vocoder with Large-Scale "
    "Training, arXiv:2206.04658",
)
@half_remat
def snake_beta(x: ArrayLike, alpha: ArrayLike = 1.0, beta: ArrayLike = 1.0) -> Array:
    r"""SnakeBeta (BigVGAN), ``x + sin^2(alpha x) / beta``.

    .. math::
      f(x) = x + \frac{\sin^2(\alpha x)}{\beta}, \qquad
      f'(x) = 1 + \frac{\alpha}{\beta}\sin(2\alpha x), \qquad
      f''(x) = \frac{2\alpha^2}{\beta}\cos(2\alpha x),

    .. math::
      \frac{\partial f}{\partial \alpha} = \frac{x\sin(2\alpha x)}{\beta}, \qquad
      \frac{\partial f}{\partial \beta} = -\frac{\sin^2(\alpha x)}{\beta^2}

    Not monotone when ``alpha / beta > 1``. ``alpha`` and ``beta`` may be arrays
    broadcastable to ``x`` (per channel); both are differentiable. ``beta`` must be
    positive (no ``1e-9`` guard is added). ``snake_beta(+-inf)`` is NaN.

    Args:
      x: input array.
      alpha: frequency (differentiable).
      beta: positive amplitude divisor (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.snake_beta(1.0, beta=2.0)), 6)
      1.354037

    References:
      Lee, Ping, Ginsburg, Catanzaro, Yoon 2022, BigVGAN: A Universal Neural
      Vocoder with Large-Scale Training, arXiv:2206.04658.
    """
    x, dtype = prepare(x, "snake_beta")
    alpha = param(alpha, "snake_beta", "alpha", x)
    beta = param(beta, "snake_beta", "beta", x, positive=True)
    return finish(_snake_beta(x, alpha, beta), dtype)


def _gcu_value(x: Array) -> Array:
    return x * jnp.cos(x)


def _gcu_d1_value(x: Array) -> Array:
    return jnp.cos(x) - x * jnp.sin(x)


def _gcu_d2_value(x: Array) -> Array:
    # -3x near 0, formed exactly so that a subnormal x still gives a normal result.
    small = jnp.abs(x) < 1e-20
    return ops.where(small, _two_prod(-3.0, x)[0], -2 * jnp.sin(x) - x * jnp.cos(x))


_gcu = rule(_gcu_value, rule(_gcu_d1_value, _gcu_d2_value))


@register(
    zero_centred=True,
    paper="Noel et al. 2021, Growing Cosine Unit, arXiv:2108.12943",
)
@half_remat
def gcu(x: ArrayLike) -> Array:
    r"""Growing cosine unit, ``x cos x``.

    .. math::
      f(x) = x\cos x, \qquad f'(x) = \cos x - x\sin x, \qquad
      f''(x) = -2\sin x - x\cos x

    ``gcu(+-inf)`` is NaN.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.gcu(1.0)), 6)
      0.540302

    References:
      Noel, Trivedi, Bharadwaj, Lokeswaran, Anand 2021, Growing Cosine Unit: A
      Novel Oscillatory Activation Function That Can Speedup Training and Reduce
      Parameters in Convolutional Neural Networks, arXiv:2108.12943.
    """
    x, dtype = prepare(x, "gcu")
    return finish(_gcu(x), dtype)
