"""Accurate elementary functions for float32/float64 (forward values only).

In the fast precision tier (:mod:`jaxact._src.precision`) each public function here
returns XLA's own (``lax.exp``, ``lax.tanh``, ...) or a short stable formula on it
(``logistic``, ``softplus``, :func:`gate`) instead; everything below describes the
accurate tier.

The activations are built from these. XLA's own float32/float64 ``exp``,
``expm1``, ``log1p``, ``tanh`` and ``erf``/``erfc`` are off by up to several ulp
(float64 ``log1p`` by >100 ulp, float32 ``erfc`` by far more in its tail, and
float32 ``tanh`` saturates to +-1 from |x| ~ 7.9), which would spend the whole
error budget of an activation on one primitive, so all of them are evaluated
here with care: a Cody-Waite reduced ``exp`` that also hands back its unrounded
parts, double-word corrections at the few places where a rounding would
otherwise be amplified, and polynomial fits made for this module.  Every
function takes and returns an array of one floating dtype (float32 or float64;
half precision is upcast by the callers), is elementwise and branch-free
(regimes are chosen with ``jnp.where``), computes float32 inputs in float32
arithmetic only, and has no custom derivative: differentiation is the business
of the activation modules.  Results that would be subnormal may come back as
zero on backends that flush subnormals (XLA:CPU does).

Polynomial coefficients were fitted offline by Chebyshev interpolation carried
out in mpmath at 60 significant digits (near-minimax), then converted to the
monomial basis in the variable used below and rounded to float64; each comment
gives the fitted function, the interval and the maximum error of the fit.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import ops, precision

Array = jax.Array

# ---------------------------------------------------------------------------
# Coefficients (lowest degree first).
# ---------------------------------------------------------------------------
# EXPQ: (expm1(r) - r - r^2/2) / r^3 on |r| <= ln(2)/2, absolute error.
# TANHQ: (tanh(x) - x) / x^3 as a function of z = x^2 on z in [0, 0.55^2].
# LOGS: (2 atanh(s) - 2 s) / s^3 as a function of z = s^2, |s| <= 0.1716.
# ERFQ: erf(x)/x - 1 as a function of z = x^2 on z in [0, 1], absolute error.
# ERFCk: pieces of erfcx(x) = exp(x^2) erfc(x): either erfcx(c + v) with
#   v = x - c, or x * erfcx(x) with v = 1/x - c (the far tail); c is the centre.
# EXPQ_F32: degree 4 on [-0.34658, 0.34658], max err 8.07e-9
_EXPQ_F32 = (
    0.16666666666666666,
    0.041666554653757494,
    0.00833332089122923,
    0.0013926177501010365,
    0.00019882691577498862,
)
# TANHQ_F32: degree 4 on [0, 0.3025], max err 3.98e-8
_TANHQ_F32 = (
    -0.3333333200797698,
    0.1333311372902087,
    -0.05390942882746055,
    0.021309388664443474,
    -0.006610227831114735,
)
# LOGS_F32: degree 2 on [0, 0.02945], max err 2.78e-7
_LOGS_F32 = (
    0.6666668506375033,
    0.39988770673510876,
    0.2958039828148471,
)
# ERFQ_F32: degree 6 on [0, 1], max err 1.25e-9
_ERFQ_F32 = (
    0.12837916584835093,
    -0.37612626666720334,
    0.11283594715160218,
    -0.026854212010626412,
    0.005189087423433974,
    -0.000801686428716587,
    7.875875062685488e-05,
)
# EXPQ_F64: degree 9 on [-0.34658, 0.34658], max err 8.05e-18
_EXPQ_F64 = (
    0.16666666666666669,
    0.041666666666666664,
    0.008333333333330063,
    0.0013888888888886554,
    0.00019841269863042963,
    2.4801587317136892e-05,
    2.7557268476553695e-06,
    2.75572829813734e-07,
    2.5100377619606372e-08,
    2.091123100592285e-09,
)
# TANHQ_F64: degree 10 on [0, 0.3025], max err 2.32e-17
_TANHQ_F64 = (
    -0.3333333333333333,
    0.13333333333332714,
    -0.053968253967434016,
    0.021869488493666944,
    -0.008863234397814355,
    0.003592110378689024,
    -0.001455661830100716,
    0.0005889360520074057,
    -0.0002346347410887237,
    8.511313685577672e-05,
    -2.0602765376366344e-05,
)
# LOGS_F64: degree 6 on [0, 0.02945], max err 4.58e-16
_LOGS_F64 = (
    0.666666666666667,
    0.3999999999989924,
    0.2857142862609589,
    0.2222221111514416,
    0.18182890556695602,
    0.1533167403016786,
    0.1461703754879165,
)
# ERFQ_F64: degree 12 on [0, 1], max err 1.3e-19
_ERFQ_F64 = (
    0.1283791670955126,
    -0.3761263890318375,
    0.11283791670954879,
    -0.026866170645076792,
    0.0052239776248180145,
    -0.000854832698083379,
    0.0001205533111164271,
    -1.4925595266831182e-05,
    1.6461000484121368e-06,
    -1.6350312701054695e-07,
    1.4659775274047436e-08,
    -1.1372848856791674e-09,
    5.957176147748911e-11,
)
# ERFC1_F32: degree 8 on [-0.5, 0.5], max err 8.24e-9
_ERFC1_F32 = (
    0.427583576155807,
    -0.27321195870368103,
    0.15437154183355994,
    -0.07922995331268226,
    0.037573336119548946,
    -0.016619149397769227,
    0.006955250902000174,
    -0.002993756854632465,
    0.0011286652519770818,
)
# ERFC2_F32: degree 8 on [-0.75, 0.75], max err 1.22e-8
_ERFC2_F32 = (
    0.23108725873039188,
    -0.08848647138911521,
    0.03199261895504287,
    -0.011002803298303982,
    0.0036191952156344243,
    -0.0011390144842247539,
    0.00034726612517911555,
    -0.00011368601140078443,
    3.230832263344221e-05,
)
# ERFC3_F32: degree 8 on [-0.117162, 0.117162], max err 4.46e-11
_ERFC3_F32 = (
    0.5518379974967045,
    -0.10733900436695243,
    -0.1901426189673213,
    0.2198730064254645,
    0.025166174489447322,
    -0.35724055335863486,
    0.4063664865278403,
    0.20526619326076584,
    -1.177405017224319,
)
# ERFC1_F64: degree 16 on [-0.5, 0.5], max err 1.24e-17
_ERFC1_F64 = (
    0.427583576155807,
    -0.2732120147838984,
    0.15437156137190838,
    -0.07922696894135635,
    0.03757229621529906,
    -0.01666186908875851,
    0.0069701423744990346,
    -0.002769064817408498,
    0.0010502694113207914,
    -0.0003819539752978225,
    0.0001336628208483249,
    -4.5148081402348914e-05,
    1.4754332179107884e-05,
    -4.6577024858576775e-06,
    1.4347231601399635e-06,
    -4.7149552910444656e-07,
    1.3716404009685037e-07,
)
# ERFC2_F64: degree 16 on [-0.166667, 0.166667], max err 1.42e-18
_ERFC2_F64 = (
    0.5107913526210115,
    -0.16721101041410613,
    -0.03663328551477177,
    0.11896265091895172,
    -0.10875353249681773,
    0.04249811541250018,
    0.0405805754762608,
    -0.1044402443694225,
    0.1225073072168846,
    -0.08327542513319848,
    -0.006066422611417858,
    0.11923027908436812,
    -0.21532256211135226,
    0.25134381321009364,
    -0.1810387778499644,
    -0.09068684512879835,
    0.3951444782967094,
)
# ERFC3_F64: degree 16 on [-0.0833333, 0.0833333], max err 9.63e-22
_ERFC3_F64 = (
    0.5479978305002455,
    -0.11944693191960913,
    -0.16778618979207144,
    0.21951300303871993,
    -0.028086232852429466,
    -0.27276363626126615,
    0.41110092381981844,
    -0.09789783933295541,
    -0.7081407148204234,
    1.4788077037992995,
    -1.0203770088626845,
    -1.9219405875199822,
    6.952857773662279,
    -9.580896484521677,
    0.015021711368042605,
    33.56161586089212,
    -74.9329893460615,
)
# ERFC4_F64: degree 16 on [-0.0651515, 0.0651515], max err 7.77e-22
_ERFC4_F64 = (
    0.561326324534391,
    -0.055568431416426325,
    -0.25751059576743,
    0.15172190237079303,
    0.28376483762950633,
    -0.46579277856994533,
    -0.2851315061054656,
    1.5175868640166643,
    -0.6663363157355254,
    -4.574665583520673,
    8.351183043100143,
    8.19585096605877,
    -51.03185339578504,
    39.05534973563455,
    208.80880726554338,
    -527.0114529247286,
    -256.21749423860444,
)
_LN2_HI_F32 = 0.693145751953125
_LN2_LO_F32 = 1.4286068203094173e-06
_LN2_HI_F64 = 0.6931471805598903
_LN2_LO_F64 = 5.497923018708371e-14

# Low parts of the float64 erfc constant terms (fitted c0 minus its float64 rounding).
_ERFC1_F64_C0LO = 5.235737283314228e-18
_ERFC2_F64_C0LO = -8.552044580331892e-18
_ERFC3_F64_C0LO = 2.8786272556634877e-17
_ERFC4_F64_C0LO = -1.5521916532854634e-18


# Centres of the erfc pieces (see ERFCk above) and their upper ends in x.
# Entries: (coefficients, low part of c0 in the working dtype, centre, v = 1/x - c?).
# For float32 the low part of c0 is what float64 c0 loses when rounded to float32.
def _lo32(c0):
    return c0 - float(np.float32(c0))


_ERFC_F32 = (
    (_ERFC1_F32, _lo32(_ERFC1_F32[0]), 1.0, False),
    (_ERFC2_F32, _lo32(_ERFC2_F32[0]), 2.25, False),
    (_ERFC3_F32, _lo32(_ERFC3_F32[0]), 0.21617161716171618, True),
)
_ERFC_EDGES_F32 = (1.5, 3.0)
_ERFC_F64 = (
    (_ERFC1_F64, _ERFC1_F64_C0LO, 1.0, False),
    (_ERFC2_F64, _ERFC2_F64_C0LO, 0.5, True),
    (_ERFC3_F64, _ERFC3_F64_C0LO, 0.25, True),
    (_ERFC4_F64, _ERFC4_F64_C0LO, 0.10151515151515152, True),
)
_ERFC_EDGES_F64 = (1.5, 3.0, 6.0)


class _C:
    """Per-dtype constants."""

    def __init__(self, dt):
        f64 = dt == jnp.float64
        self.dt = dt
        self.idt = jnp.int64 if f64 else jnp.int32
        self.mbits = 52 if f64 else 23  # stored mantissa bits
        self.prec = self.mbits + 1  # significand precision
        self.bias = 1023 if f64 else 127
        # Rounding shifter 1.5 * 2**mbits: y + magic has round(y) in its low bits.
        self.magic = 1.5 * 2.0**self.mbits
        self.magic_bits = (self.bias + self.mbits) << self.mbits | (1 << (self.mbits - 1))
        # head keeps `half` leading significand bits, so that the product of
        # two heads is exact (12 + 12 <= 24, 26 + 26 <= 53).
        self.half = 26 if f64 else 12
        self.head_mask = -(1 << (self.prec - self.half))
        self.sign_bit = -(1 << (63 if f64 else 31))
        self.ln2_hi = _LN2_HI_F64 if f64 else _LN2_HI_F32  # few bits: k*ln2_hi exact
        self.ln2_lo = _LN2_LO_F64 if f64 else _LN2_LO_F32
        self.expq = _EXPQ_F64 if f64 else _EXPQ_F32
        self.tanhq = _TANHQ_F64 if f64 else _TANHQ_F32
        self.logs = _LOGS_F64 if f64 else _LOGS_F32
        self.erfq = _ERFQ_F64 if f64 else _ERFQ_F32
        self.erfc = _ERFC_F64 if f64 else _ERFC_F32
        self.erfc_edges = _ERFC_EDGES_F64 if f64 else _ERFC_EDGES_F32
        # exp(x) overflows above exp_hi and is below half the smallest
        # subnormal under exp_lo; expm1(x) rounds to -1 below m1_lo.
        self.exp_hi = 710.0 if f64 else 89.0
        self.exp_lo = -746.0 if f64 else -104.0
        self.m1_lo = -38.0 if f64 else -17.5
        self.erfc_hi = 28.0 if f64 else 11.0  # erfc underflows beyond this
        self.sp_hi = 37.0 if f64 else 16.0  # softplus(x) rounds to x beyond


def consts(x):
    dt = jnp.result_type(x)
    if dt not in (jnp.float32, jnp.float64):
        raise TypeError(f"expected float32 or float64, got {dt}")
    return _C(dt)


def _poly(coeffs, t):
    """Horner evaluation of a polynomial with Python-float coefficients."""
    acc = jnp.asarray(coeffs[-1], t.dtype)
    for c in reversed(coeffs[:-1]):
        acc = acc * t + c
    return acc


def _bits(v, c):
    return jax.lax.bitcast_convert_type(v, c.idt)


def _float(b, c):
    return jax.lax.bitcast_convert_type(b, c.dt)


def _pow2(n, c):
    """2**n for integer n inside the normal exponent range, built from bits."""
    return _float((n + c.bias) << c.mbits, c)


def scale(y, k, c):
    """y * 2**k in two exact steps so that k may reach about +-2*bias."""
    k1 = k >> 1
    return y * _pow2(k1, c) * _pow2(k - k1, c)


def head(v, c):
    """v with its trailing significand bits cleared (c.half bits kept): v - head is exact."""
    return _float(_bits(v, c) & c.head_mask, c)


def _head_const(v, c):
    """head of a Python float constant (rounded to the working dtype first)."""
    if c.dt == jnp.float64:
        b = np.array(v, np.float64).view(np.int64) & np.int64(c.head_mask)
        return float(b.view(np.float64))
    b = np.array(v, np.float32).view(np.int32) & np.int32(c.head_mask)
    return float(b.view(np.float32))


def _copysign(v, x, c):
    """v (sign bit clear) with the sign bit of x."""
    return _float(_bits(v, c) | (_bits(x, c) & c.sign_bit), c)


def _clamp(x, lo, hi):
    """Clamp with compare-and-select (cheaper than min/max on CPU); NaN passes through."""
    x = ops.where(x < lo, lo, x)
    return ops.where(x > hi, hi, x)


# Implementation notes.
# * XLA:CPU does not contract a*b + c into a fused multiply-add, so exact
#   products are obtained from operands with at most c.half significant bits
#   (head), never from Dekker splitting.
# * Error-free sums are written as (a - s) + b, never as b - (s - a) with a
#   constant a: XLA's algebraic simplifier rewrites (c + x) - c to x.
# * Everything is one elementwise expression that XLA fuses into a single
#   loop; regimes are chosen with jnp.where (both sides are evaluated), so
#   branches are few and the expensive pieces are shared.


def exp_parts(x, c):
    """exp(x) = 2**k * (1 + r + w) for moderate x, r the reduced argument and w small.

    Cody-Waite reduction x = k ln2 + r + rlo (k by the rounding shifter),
    exp(r + rlo) = 1 + r + r^2/2 + r^3 Q(r) + rlo (1 + r) with a fitted Q on
    |r| <= ln2/2; w gathers all but r.
    """
    s = x * float(1.0 / np.log(2.0)) + c.magic
    kn = c.magic - s  # -k, exact
    k = _bits(s, c) - c.magic_bits
    t = x + kn * c.ln2_hi  # exact
    lo = kn * c.ln2_lo
    r = t + lo
    rlo = (t - r) + lo
    w = (r * r) * (0.5 + r * _poly(c.expq, r)) + (rlo + rlo * r)
    return k, r, w


def exp(x: Array) -> Array:
    """exp(x): Cody-Waite reduction, fitted polynomial, 1 + r summed with its error."""
    if precision.fast(x.dtype):
        return jax.lax.exp(x)
    c = consts(x)
    k, r, w = exp_parts(_clamp(x, c.exp_lo, c.exp_hi), c)
    s = 1.0 + r
    return scale(s + (((1.0 - s) + r) + w), k, c)


def expm1(x: Array) -> Array:
    """expm1(x) = 2**k (1 - 2**-k + r + w) with the leading terms added exactly."""
    if precision.fast(x.dtype):
        return jax.lax.expm1(x)
    c = consts(x)
    k, r, w = exp_parts(_clamp(x, c.m1_lo, c.exp_hi), c)
    lim = c.prec
    tk = _pow2(-jnp.minimum(k, 100), c)
    mid = jnp.abs(k) <= lim  # 1 - 2**-k exact
    a = ops.where(mid, 1.0 - tk, 1.0)
    s = a + r
    e = ((a - s) + r) + (w - ops.where(k > lim, tk, 0.0))
    res = scale(s + e, k, c)
    res = ops.where(k < -lim, res - 1.0, res)  # -1 + tiny
    return ops.where(x == 0, x, res)


def _log1p_dw(x, xl, c):
    """log1p(x + xl) for x >= -1 finite; xl is a tiny correction (or 0).

    u = 1 + x rounded, its rounding error kept in cu; u = 2**k m with m in
    [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + s (f^2/2 + R(s^2)) with
    f = m - 1, s = f / (2 + f); the lost part adds cu / u, with
    1/m = (1 - s)/(1 + s) ~ 1 - 2 s (1 - s) (only a few bits are needed).
    """
    u = 1.0 + x
    cu = ops.where(x > 1.0, (x - u) + 1.0, (1.0 - u) + x) + xl
    d = _bits(u, c) - _bits(jnp.asarray(np.sqrt(0.5), c.dt), c)
    k = d >> c.mbits
    m = _float(_bits(u, c) - (k << c.mbits), c)
    kf = k.astype(c.dt)
    f = m - 1.0
    s = f * (1.0 / (2.0 + f))
    z = s * s
    hfsq = 0.5 * f * f
    rr = z * _poly(c.logs, z)
    cu = cu * _pow2(-jnp.minimum(k, 120), c)
    corr = cu - cu * (2.0 * (s - z))
    return kf * c.ln2_hi + (f - (hfsq - (s * (hfsq + rr) + (kf * c.ln2_lo + corr))))


def log1p(x: Array) -> Array:
    """log1p(x): exact 1 + x split, binary exponent, atanh series fitted for log(m)."""
    if precision.fast(x.dtype):
        return jax.lax.log1p(x)
    c = consts(x)
    xs = ops.where(x >= -1.0, x, 0.0)
    xs = ops.where(xs == jnp.inf, 1.0, xs)
    res = _log1p_dw(xs, 0.0, c)
    res = ops.where(x == 0, x, res)
    res = ops.where(x == -1.0, -jnp.inf, res)
    res = ops.where(x == jnp.inf, jnp.inf, res)
    return ops.where(x >= -1.0, res, jnp.nan + x)


def recip1pexp(a, c):
    """1 / (1 + exp(a)) for a >= 0 as 2**-k * (q0 + q1), q0 a head, q1 small.

    exp(a) = 2**k (1 + r + w), so 1/(1 + exp(a)) = 2**-k / D with
    D = 1 + 2**-k + r + w = dh + dl (dh a head); q0 = head(1/dh) makes
    eps = 1 - q0 D exact up to the tiny q0 dl term, and 1/D = q0 (1 + eps + eps^2).
    """
    k, r, w = exp_parts(jnp.minimum(a, -c.exp_lo), c)
    tk = _pow2(-jnp.minimum(k, 120), c)
    sh = 1.0 + tk
    sl = (1.0 - sh) + tk
    dh = head(sh + (r + w), c)
    dl = ((sh - dh) + r) + (sl + w)
    q0 = head(1.0 / dh, c)
    eps = (1.0 - q0 * dh) - q0 * dl
    return k, q0, q0 * (eps + eps * eps)


def _tanh_poly(x, c):
    z = x * x
    return x + (x * z) * _poly(c.tanhq, z)


def _tanh_recip(a, c):
    """recip1pexp(2a) for a = |x|, the argument clamped at 20 (tanh(20) = 1 and
    tanh'(20) = 4e^{-40} are exact there; beyond, the callers use their tails).
    Shared by tanh and tanh' so that computed together they reduce once."""
    return recip1pexp(2.0 * jnp.minimum(a, 20.0), c)


def tanh(x: Array) -> Array:
    """tanh(x): odd fitted polynomial for |x| < 0.55, else 1 - 2/(1 + exp(2|x|))."""
    if precision.fast(x.dtype):
        return _tanh_fast(x)
    c = consts(x)
    a = jnp.abs(x)
    k, q0, q1 = _tanh_recip(a, c)
    f = _pow2(1 - k, c)
    h0 = q0 * f  # exact
    h1 = q1 * f
    # 1 - h0 is exact while h0 has no bits below ulp(1/2).
    big = ops.where(k <= c.prec - c.half, (1.0 - h0) - h1, 1.0 - (h0 + h1))
    return _copysign(ops.where(a < 0.55, _tanh_poly(a, c), big), x, c)


def _tanh_fast(x):
    """Fast tier: the polynomial below 0.55, else (1 - e) / (1 + e) with e = h^2 from
    :func:`gate` at 2x (shared with tanh' when both are computed)."""
    a = jnp.abs(x)
    h, r = gate(2.0 * x)
    big = (1.0 - h * h) * r
    return _copysign(ops.where(a < 0.55, _tanh_poly(a, consts(x)), big), x, consts(x))


def tanh_prime_core(x: Array) -> Array:
    """1 - tanh(x)^2 = 4 sigma(2x) sigma(-2x) for |x| <= 20 (clamped beyond)."""
    if precision.fast(x.dtype):
        return 4.0 * _logistic_prime_fast(jnp.minimum(2.0 * jnp.abs(x), 40.0))
    c = consts(x)
    k, q0, q1 = _tanh_recip(jnp.abs(x), c)
    return 4.0 * _logistic_prime_of(k, q0, q1, c)


def logistic(x: Array) -> Array:
    """sigma(x) = 1/(1 + exp(-x)): g = 1/(1 + exp(|x|)) accurately; sigma = g or 1 - g."""
    if precision.fast(x.dtype):
        e = jax.lax.exp(-jnp.abs(x))
        r = 1.0 / (1.0 + e)
        return ops.where(x < 0, e * r, r)
    c = consts(x)
    k, q0, q1 = recip1pexp(jnp.abs(x), c)
    g = scale(q0 + q1, -k, c)
    return ops.where(x < 0, g, 1.0 - g)


def logistic_prime(x: Array) -> Array:
    """sigma(x) sigma(-x) = g (1 - g), g = 1/(1 + exp(|x|))."""
    if precision.fast(x.dtype):
        return _logistic_prime_fast(x)
    c = consts(x)
    k, q0, q1 = recip1pexp(jnp.abs(x), c)
    return _logistic_prime_of(k, q0, q1, c)


def _logistic_prime_fast(x):
    """sigma(x) sigma(-x) = e / (1 + e)^2 with e = exp(-|x|) (no cancellation)."""
    e = jax.lax.exp(-jnp.abs(x))
    r = 1.0 / (1.0 + e)
    return (e * r) * r


def gate(z: Array) -> tuple[Array, Array]:
    """Fast tier: the logistic gate at ``z`` as ``(h, r)``, ``h = exp(-|z|/2)``,
    ``r = 1 / (1 + h^2)``; then

    * ``sigma(z) = r`` for ``z >= 0`` and ``h (h r)`` for ``z < 0``,
    * ``sigma'(z) = h (h r^2)``.

    The caller multiplies its own factors into the first ``h`` and the second one
    last, so nothing subnormal is formed while the result is a normal number
    (``e^z`` itself is subnormal from ``z = -87.3`` in float32). ``|z|`` is clamped
    where ``h`` would stop being normal: results are below the smallest normal there.
    """
    h = half_exp(z)
    return h, 1.0 / (1.0 + h * h)


def half_exp(z: Array) -> Array:
    """Fast tier: ``exp(-|z|/2)``, ``|z|`` clamped where it would stop being normal."""
    limit = 1400.0 if z.dtype == jnp.float64 else 170.0
    return jax.lax.exp(-0.5 * jnp.minimum(jnp.abs(z), limit))


def _logistic_prime_of(k, q0, q1, c):
    """g (1 - g) from g = 2**-k (q0 + q1) (see recip1pexp), 1 - g = t + tl."""
    f = _pow2(-jnp.minimum(k, 100), c)
    g0 = q0 * f
    t = 1.0 - g0
    th = head(t, c)
    tl = (t - th) + (((1.0 - t) - g0) - q1 * f)
    return scale(q0 * th + (q0 * tl + q1 * (th + tl)), -k, c)


def softplus(x: Array) -> Array:
    """log(1 + exp(x)): log1p of a double-word exp(x); x itself for large x."""
    if precision.fast(x.dtype):
        return jnp.maximum(x, 0.0) + jax.lax.log1p(jax.lax.exp(-jnp.abs(x)))
    c = consts(x)
    k, r, w = exp_parts(_clamp(x, c.exp_lo, c.sp_hi), c)
    s = 1.0 + r
    e = ((1.0 - s) + r) + w
    eh = s + e
    mid = _log1p_dw(scale(eh, k, c), scale((s - eh) + e, k, c), c)
    return ops.where(x > c.sp_hi, x, mid)


def log_logistic(x: Array) -> Array:
    """log sigma(x) = -softplus(-x)."""
    return -softplus(-x)


def _erf_small(x, c):
    return x + x * _poly(c.erfq, x * x)


def _erfc_pos(a, c):
    """erfc(a) for a >= 0.5: exp(-a^2) erfcx(a) with a^2 split exactly, erfcx
    from piecewise fits (coefficients chosen per element), and the product,
    the constant term and the division by a (far pieces) carried double-word.
    One division (1/den) serves both v = 1/a - c and the final quotient."""
    a = ops.clip(a, 0.5, c.erfc_hi)
    pieces = c.erfc
    idx = sum((a >= e).astype(c.idt) for e in c.erfc_edges)
    recip = idx >= sum(1 for p in pieces if not p[3])
    den = ops.where(recip, a, 1.0)
    inv = 1.0 / den
    sel = [idx == i for i in range(len(pieces) - 1)]

    def pick(vals):
        out = jnp.asarray(vals[-1], c.dt)
        for i in range(len(pieces) - 2, -1, -1):
            out = ops.where(sel[i], vals[i], out)
        return out

    v = ops.where(recip, inv, a) - pick([p[2] for p in pieces])
    deg = len(pieces[0][0])
    acc = pick([p[0][deg - 1] for p in pieces])
    for j in range(deg - 2, 1, -1):
        acc = acc * v + pick([p[0][j] for p in pieces])
    # erfcx piece = c0 + c1 v + v^2 acc, c0 + c1 v summed with its error.
    c0 = pick([p[0][0] for p in pieces])
    # c1 v = c1h vh + (c1h vl + c1l v) with c1h vh exact (c1h, vh heads).
    c1h = [_head_const(p[0][1], c) for p in pieces]
    vh = head(v, c)
    c1h_v = pick(c1h)
    m1 = c1h_v * vh
    m1e = c1h_v * (v - vh) + pick([p[0][1] - h for p, h in zip(pieces, c1h, strict=True)]) * v
    fh = c0 + m1  # |c0| > |c1 v| on every piece
    fl = ((c0 - fh) + m1) + ((m1e + pick([p[1] for p in pieces])) + (v * v) * acc)
    # a^2 = hi + lo exactly (a = head + tail, products of heads and tails exact).
    hi = a * a
    ah = head(a, c)
    al = a - ah
    lo = ((ah * ah - hi) + 2.0 * ah * al) + al * al
    k, r, w = exp_parts(-hi, c)
    # exp(-hi - lo) = exp(-hi) (1 - lo) to the precision needed.
    s = 1.0 + r
    e = ((1.0 - s) + r) + (w - lo * (s + w))
    sh = head(s + e, c)
    e = (s - sh) + e
    fhh = head(fh, c)
    fl = (fh - fhh) + fl
    nh = sh * fhh  # exact
    nl = sh * fl + e * (fhh + fl)
    # (nh + nl) / den: q0 = head(nh / den), nh - q0 den exact (den = head + tail).
    q0 = head(nh * inv, c)
    dh = head(den, c)
    q = q0 + (((nh - q0 * dh) - q0 * (den - dh)) + nl) * inv
    return scale(q, k, c)


def erf(x: Array) -> Array:
    """erf(x): x (1 + Q(x^2)) for |x| < 1, else sign(x) (1 - erfc(|x|))."""
    if precision.fast(x.dtype):
        return jax.lax.erf(x)
    c = consts(x)
    a = jnp.abs(x)
    small = a < 1.0
    big = 1.0 - _erfc_pos(a, c)
    return ops.where(small, _erf_small(x, c), ops.where(x < 0, -big, big))


def erfc(x: Array) -> Array:
    """erfc(x): 1 - erf(x) for |x| < 0.5, exp(-x^2) erfcx(x) beyond (2 - that for x < 0)."""
    if precision.fast(x.dtype):
        return jax.lax.erfc(x)
    c = consts(x)
    a = jnp.abs(x)
    small = a < 0.5
    t = _erfc_pos(a, c)
    one_m = 1.0 - x  # 1 - x - x Q(x^2), 1 - x exactly split
    one_m_lo = (1.0 - one_m) - x
    res_small = one_m + (one_m_lo - x * _poly(c.erfq, x * x))
    return ops.where(small, res_small, ops.where(x < 0, 2.0 - t, t))


# Derivatives, so that formulas built from these functions can also be
# differentiated by autodiff (e.g. for a parameter whose partial the activation
# leaves to autodiff). The implementations above work on bits and double words
# and are not themselves meant to be differentiated. Each rule is a closed form
# in terms of the (differentiable) functions here, so higher orders work too.


def _differentiable(fun: Callable[[Array], Array], deriv: Callable[[Array], Array]) -> Any:
    f = jax.custom_jvp(fun)
    f.defjvps(lambda g, ans, x: g * deriv(x))
    return functools.wraps(fun)(f)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

exp = _differentiable(exp, lambda x: exp(x))
expm1 = _differentiable(expm1, lambda x: exp(x))
log1p = _differentiable(log1p, lambda x: 1 / (1 + x))
tanh = _differentiable(tanh, lambda x: 4 * logistic_prime(2 * x))
logistic = _differentiable(logistic, lambda x: logistic_prime(x))
logistic_prime = _differentiable(logistic_prime, lambda x: -logistic_prime(x) * tanh(0.5 * x))
softplus = _differentiable(softplus, lambda x: logistic(x))
log_logistic = _differentiable(log_logistic, lambda x: logistic(-x))
erf = _differentiable(erf, lambda x: _TWO_OVER_SQRT_PI * exp(-(x * x)))
erfc = _differentiable(erfc, lambda x: -_TWO_OVER_SQRT_PI * exp(-(x * x)))
