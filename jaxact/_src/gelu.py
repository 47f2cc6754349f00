"""GELU family: gelu_erf (exact), gelu_tanh, the gelu dispatcher, quick_gelu, gelu_clipped.

Every member is ``x`` times a sigmoid-shaped gate ``g(z(x))``. In the left tail the
gate is an exponentially small number whose relative error is ``|z|`` times the
relative error of its argument, so rounding ``z`` once (``x / sqrt(2)``,
``1.702 x``, the cubic of the tanh form) costs tens of ulps near ``x = -10``.
The argument is therefore formed in double-word arithmetic (Dekker products
without FMA), and the gate is corrected to first order in the low word.
``exp(-x^2/2)`` is formed from the exact square ``hi^2`` of the high half of
``x``. Where the gate is below the smallest normal number but the result is not,
the gate's exponential is applied as two square-root factors, so the result is
not flushed to zero. Beyond the point where the result is exactly ``x`` (right)
or underflows (left), the limits are returned without forming ``x^3`` or ``x^2``.
"""

from __future__ import annotations

import decimal
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import elementary, ops, precision
from jaxact._src.core import (
    ArrayLike,
    finish,
    half_remat,
    is_concrete,
    param,
    prepare,
    rule,
    tiered,
)
from jaxact._src.exact import split, two_prod, two_sum
from jaxact._src.registry import Kink, dispatcher, library_function, register

Array = jax.Array

__all__ = ["gelu_erf", "gelu_tanh", "quick_gelu", "gelu_clipped", "gelu"]

_D = decimal.Context(prec=60)
_SQRT_2_OVER_PI = "0.797884560802865355879892119868763736951717262329869315331851659"
_INV_SQRT2 = "0.707106781186547524400844362104849039284835937688474036588339869"
_INV_SQRT_2PI = "0.398942280401432677939946059934381868475858631164934657665925829"
_TANH_A = "0.044715"
_QUICK = "1.702"
_TANH_K = str(_D.multiply(2, decimal.Decimal(_SQRT_2_OVER_PI)))
_TANH_KA = str(_D.multiply(decimal.Decimal(_TANH_K), decimal.Decimal(_TANH_A)))


def _pair(value: str | decimal.Decimal, dtype: np.dtype) -> tuple[np.generic, np.generic]:
    """A constant as an unevaluated sum hi + lo of two numbers of ``dtype``."""
    exact = _D.create_decimal(value)
    hi = np.dtype(dtype).type(float(exact))
    lo = np.dtype(dtype).type(float(_D.subtract(exact, decimal.Decimal(float(hi)))))
    return hi, lo


def _const(value: str, x: Array) -> tuple[Array, Array]:
    hi, lo = _pair(value, x.dtype)
    return jnp.asarray(hi, x.dtype), jnp.asarray(lo, x.dtype)


def _log_tiny(x: Array) -> float:
    return math.log(float(jnp.finfo(x.dtype).tiny))


def _gate(zh: Array, zl: Array) -> tuple[Array, Array, Array, Array]:
    """The logistic gate at z = zh + zl, scaled against flushing.

    Returns ``(s, p, th, b)`` with ``sigma(z) = s * b``, ``sigma'(z) = p * b``
    (first order in ``zl``) and ``th = tanh(zh / 2)``. ``b`` is 1 except where
    ``e^z`` is below the smallest normal number plus a margin; there
    ``s = p = b = e^{z/2}``-ish factors, to be multiplied in last.
    """
    deep = zh < _log_tiny(zh) + 10
    tail = zh < -40  # sigma(z) = sigma'(z) = e^z to the last bit of float64
    zs = ops.where(tail, 0.0, zh)
    th = elementary.tanh(0.5 * zh)
    s = elementary.logistic(zs) * (1 + elementary.logistic(-zs) * zl)
    p = elementary.logistic_prime(zs) * (1 - elementary.tanh(0.5 * zs) * zl)
    e2 = elementary.exp(0.5 * zh)
    ez = ops.where(deep, e2, elementary.exp(zh)) * (1 + zl)
    b = ops.where(deep, e2, jnp.ones_like(zh))
    s = ops.where(tail, ez, s)
    p = ops.where(tail, ez, p)
    return s, p, th, b


# ---------------------------------------------------------------------------
# gelu_erf
# ---------------------------------------------------------------------------

_ERF_CLIP = 40.0  # phi(40) = 0 and Phi(40) = 1 in float64
_ERF_TAIL_TERMS = 10


def _erf_tail(x: Array) -> float:
    # Below this, Phi(x) = phi(x)/|x| * S(1/x^2) with a 10-term asymptotic series.
    return -10.0 if x.dtype == jnp.float32 else -30.0


def _phi_parts(x: Array) -> tuple[Array, Array]:
    """phi(x) = c * b with the rounding of x^2 corrected; b as in :func:`_gate`."""
    xh, xl = split(x)
    g = -0.5 * (xh * xh)  # exact
    gl = -0.5 * (xl * (x + xh))
    deep = g < _log_tiny(x) + 10
    e2 = elementary.exp(0.5 * g)
    c = jnp.asarray(_pair(_INV_SQRT_2PI, x.dtype)[0], x.dtype) * elementary.exp(gl)
    e = ops.where(deep, e2, elementary.exp(g))
    b = ops.where(deep, e2, jnp.ones_like(x))
    return c * e, b


def _mills_series(x: Array) -> Array:
    """S = 1 - 1/x^2 + 3/x^4 - 15/x^6 + ..., Phi(x) = phi(x) S / |x| for x << 0."""
    w = 1 / (x * x)
    s = jnp.ones_like(x)
    for n in range(_ERF_TAIL_TERMS, 0, -1):
        s = 1 - (2 * n - 1) * w * s
    return s


def _upper_phi(x: Array, phi: Array) -> Array:
    """Phi(x) = erfc(-x/sqrt2)/2, the argument's rounding error corrected to first order."""
    rh, rl = _const(_INV_SQRT2, x)
    p, e = two_prod(x, rh)
    e = e + x * rl
    return 0.5 * elementary.erfc(-p) + math.sqrt(2.0) * e * phi


def _gelu_erf_parts(
    x: Array,
) -> tuple[Array, Array, Array, Array, tuple[Array, Array, Array]]:
    xc = ops.clip(x, -_ERF_CLIP, _ERF_CLIP)
    tail = xc < _erf_tail(x)
    xm = ops.where(tail, 0.0, xc)
    xt = ops.where(tail, xc, -_ERF_CLIP)
    phi_m, _ = _phi_parts(xm)
    phi_t, b_t = _phi_parts(xt)
    return xc, tail, xm, xt, (phi_m, phi_t, b_t)


def _gelu_erf_value(x: Array) -> Array:
    xc, tail, xm, xt, (phi_m, phi_t, b_t) = _gelu_erf_parts(x)
    mid = xm * _upper_phi(xm, phi_m)
    low = (-(phi_t * _mills_series(xt))) * b_t
    y = ops.where(tail, low, mid)
    return ops.where(x > _ERF_CLIP, x, y)


def _gelu_erf_d1_value(x: Array) -> Array:
    xc, tail, xm, xt, (phi_m, phi_t, b_t) = _gelu_erf_parts(x)
    mid = _upper_phi(xm, phi_m) + xm * phi_m
    low = (xt * (1 - _mills_series(xt) / (xt * xt)) * phi_t) * b_t
    return ops.where(tail, low, mid)


def _gelu_erf_d2_value(x: Array) -> Array:
    xc = ops.clip(x, -_ERF_CLIP, _ERF_CLIP)
    phi, b = _phi_parts(xc)
    q, qe = two_prod(xc, xc)
    return (((2 - q) - qe) * phi) * b


_gelu_erf_prime_accurate = rule(_gelu_erf_d1_value, _gelu_erf_d2_value)
# One Phi and one phi when f and f' are computed together.
_gelu_erf_accurate = rule(_gelu_erf_value, _gelu_erf_prime_accurate, together=True)


# Fast tier. phi(x) = c e2 e2 with e2 = exp(-xh^2 / 4) (xh the high half of x, so xh^2
# is exact) and c carrying the rest of x^2 by a short series; e2 is multiplied in last,
# so f and f' stay normal while they are.
# float32: Phi(-|x|) = m e2 e2, m = sqrt(pi/2) t exp(P(t)) c, from the Chebyshev fit
# erfc(w) = t exp(-w^2 + P(t)), t = 1 / (1 + w/2), fractional error < 1.2e-7 for w >= 0
# (Press, Teukolsky, Vetterling, Flannery, Numerical Recipes, 2nd ed., section 6.2):
# exp(-w^2) is exp(-x^2/2), taken from e2, so the rounding of w only enters through t
# and the bounded P(t), and no tail series is needed.
# float64 (the fit is not accurate enough): XLA's erfc with its argument's rounding
# corrected to first order, and the tail series below x = -30.
_ERFC_FIT = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def _phi_fast(xc: Array) -> tuple[Array, Array]:
    """(c, e2) with phi(x) = (c e2) e2."""
    xh, xl = split(xc)
    e2 = jax.lax.exp(-0.25 * (xh * xh))
    g = 0.5 * (xl * (xc + xh))  # x^2/2 - xh^2/2, below 0.03 where phi is normal (float32)
    return float(_INV_SQRT_2PI) * (1 - g * (1 - 0.5 * g * (1 - g / 3))), e2  # exp(-g)


def _gelu_erf_fast32(x: Array) -> tuple[Array, Array, Array, Array]:
    """(xc, c, e2, m): phi = (c e2) e2 and Phi(-|x|) = (m e2) e2."""
    xc = ops.clip(x, -_ERF_CLIP, _ERF_CLIP)
    c, e2 = _phi_fast(xc)
    t = 1.0 / (1.0 + (0.5 * float(_INV_SQRT2)) * jnp.abs(xc))
    p = jnp.asarray(_ERFC_FIT[-1], x.dtype)
    for k in reversed(_ERFC_FIT[:-1]):
        p = p * t + k
    return xc, c, e2, ((math.sqrt(math.pi / 2) * t) * jax.lax.exp(p)) * c


def _gelu_erf_fast64(x: Array) -> tuple[Array, Array, Array, Array, Array]:
    """(xc, tail, c, e2, Phi(x))."""
    xc = ops.clip(x, -_ERF_CLIP, _ERF_CLIP)
    c, e2 = _phi_fast(xc)
    rh, rl = _const(_INV_SQRT2, xc)
    p, pe = two_prod(xc, rh)
    big_phi = 0.5 * jax.lax.erfc(-p) + math.sqrt(2.0) * (pe + xc * rl) * (c * e2) * e2
    return xc, xc < _erf_tail(x), c, e2, big_phi


def _gelu_erf_fast_value(x: Array) -> Array:
    if x.dtype == jnp.float32:
        xc, _, e2, m = _gelu_erf_fast32(x)
        u = ((xc * m) * e2) * e2  # x Phi(-|x|)
        y = ops.where(xc < 0, u, xc - u)
    else:
        xc, tail, c, e2, big_phi = _gelu_erf_fast64(x)
        y = ops.where(tail, (-(c * _mills_series(xc)) * e2) * e2, xc * big_phi)
    return ops.where(x > _ERF_CLIP, x, y)


def _gelu_erf_fast_d1_value(x: Array) -> Array:
    # Phi(x) + x phi(x).
    if x.dtype == jnp.float32:
        xc, c, e2, m = _gelu_erf_fast32(x)
        xphi = xc * c
        return ops.where(xc < 0, ((m + xphi) * e2) * e2, 1 - ((m - xphi) * e2) * e2)
    xc, tail, c, e2, big_phi = _gelu_erf_fast64(x)
    low = ((xc * (1 - _mills_series(xc) / (xc * xc))) * c * e2) * e2
    return ops.where(tail, low, big_phi + ((xc * c) * e2) * e2)


def _gelu_erf_fast_d2_value(x: Array) -> Array:
    xc = ops.clip(x, -_ERF_CLIP, _ERF_CLIP)
    c, e2 = _phi_fast(xc)
    return (((2 - xc * xc) * c) * e2) * e2


_gelu_erf_prime_fast = rule(_gelu_erf_fast_d1_value, _gelu_erf_fast_d2_value)
_gelu_erf_fast = rule(_gelu_erf_fast_value, _gelu_erf_prime_fast, together=True)
gelu_erf_rule = tiered(_gelu_erf_fast, _gelu_erf_accurate)
gelu_erf_prime = tiered(_gelu_erf_prime_fast, _gelu_erf_prime_accurate)


@register(
    bounded_below=True,
    paper="Hendrycks, Gimpel 2016, Gaussian Error Linear Units (GELUs), arXiv:1606.08415",
    names={"torch timm transformers keras": "gelu", "torch": "GELU", "transformers": "gelu_python"},
    jax_nn=functools.partial(jax.nn.gelu, approximate=False),
    torch=("gelu", {}),
)
@half_remat
def gelu_erf(x: ArrayLike) -> Array:
    r"""Gaussian error linear unit, exact (erf) form.

    .. math::
      f(x) = x\,\Phi(x) = \tfrac12 x \operatorname{erfc}(-x/\sqrt2), \qquad
      f'(x) = \Phi(x) + x\,\varphi(x), \qquad f''(x) = \varphi(x)\,(2 - x^2)

    with :math:`\varphi` the standard normal density. Accurate in the left tail
    down to underflow (``gelu_erf(-13)`` is ``-7.6e-38`` in float32); the limits
    at ``+-inf`` are ``+inf`` and ``0`` (derivatives ``1`` and ``0``). Same
    function as ``jax.nn.gelu(x, approximate=False)`` and ``torch.nn.GELU()``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.gelu_erf(1.0)), 6)
      0.841345

    References:
      Hendrycks and Gimpel 2016, Gaussian Error Linear Units (GELUs),
      arXiv:1606.08415.
    """
    x, dtype = prepare(x, "gelu_erf")
    return finish(gelu_erf_rule(x), dtype)


# ---------------------------------------------------------------------------
# gelu_tanh
# ---------------------------------------------------------------------------

# |x| >= 30: the gate is exactly 1 (x > 0) or 0 (x < 0) in float64 (|z| > 1900).
_TANH_CLIP = 30.0


def _tanh_z(x: Array) -> tuple[Array, Array, Array, Array]:
    """z = k x + k a x^3 as zh + zl, and z', z'' (k = 2 sqrt(2/pi), a = 0.044715).

    No constant is added in the error-free sums: XLA folds ``(c + m) - c`` to ``m``.
    """
    ah, _ = _const(_TANH_A, x)
    kh, kl = _const(_TANH_K, x)
    kah, kal = _const(_TANH_KA, x)
    q, qe = two_prod(x, x)
    c3, c3e = two_prod(x, q)
    c3e = c3e + x * qe
    u, ue = two_prod(kah, c3)
    ue = ue + kah * c3e + kal * c3
    v, ve = two_prod(kh, x)
    ve = ve + kl * x
    z, ze = two_sum(v, u)
    ze = ze + (ue + ve)
    dz = kh * (1 + 3 * ah * q)
    ddz = 6 * kah * x
    return z, ze, dz, ddz


def _gelu_tanh_value(x: Array) -> Array:
    xc = ops.clip(x, -_TANH_CLIP, _TANH_CLIP)
    z, ze, _, _ = _tanh_z(xc)
    s, _, _, b = _gate(z, ze)
    return ops.where(x > _TANH_CLIP, x, (xc * s) * b)


def _gelu_tanh_d1_value(x: Array) -> Array:
    xc = ops.clip(x, -_TANH_CLIP, _TANH_CLIP)
    z, ze, dz, _ = _tanh_z(xc)
    s, p, _, b = _gate(z, ze)
    return (s + xc * dz * p) * b


def _gelu_tanh_d2_value(x: Array) -> Array:
    xc = ops.clip(x, -_TANH_CLIP, _TANH_CLIP)
    z, ze, dz, ddz = _tanh_z(xc)
    _, p, th, b = _gate(z, ze)
    return ((2 * dz + xc * ddz - xc * dz * dz * th) * p) * b


_gelu_tanh_prime_accurate = rule(_gelu_tanh_d1_value, _gelu_tanh_d2_value)
# One z and one gate when f and f' are computed together.
_gelu_tanh_accurate = rule(_gelu_tanh_value, _gelu_tanh_prime_accurate, together=True)


# Fast tier: z rounded once per operation, the gate from one exp (elementary.gate).


def _gelu_tanh_fast_parts(x: Array) -> tuple[Array, Array, Array, Array, Array]:
    xc = ops.clip(x, -_TANH_CLIP, _TANH_CLIP)
    q = xc * xc
    k, ka = float(_TANH_K), float(_TANH_KA)
    z = xc * (k + ka * q)
    h, r = elementary.gate(z)
    return xc, z, k + (3 * ka) * q, h, r


def _gelu_tanh_fast_value(x: Array) -> Array:
    xc, z, _, h, r = _gelu_tanh_fast_parts(x)
    y = ops.where(z < 0, (xc * h) * (h * r), xc * r)
    return ops.where(x > _TANH_CLIP, x, y)


def _gelu_tanh_fast_d1_value(x: Array) -> Array:
    # sigma(z) + x z' sigma'(z) = e r s (z < 0), r s (z >= 0), e = h^2, d = 1 + e = 1/r,
    # s = 1 + x z' / d (z < 0), 1 + x z' e / d (z >= 0). s adds a quotient, not a
    # product: XLA:CPU contracts a*b + c into an FMA in some loop shapes and not in
    # others (a sharded program's), which near the root of f' (x = -0.75) moved it 19 ulp.
    xc, z, dz, h, r = _gelu_tanh_fast_parts(x)
    u = xc * dz
    e = h * h
    neg = z < 0
    s = 1 + ops.where(neg, u, u * e) / (1.0 + e)
    return ops.where(neg, ((h * r) * s) * h, r * s)


def _gelu_tanh_fast_d2_value(x: Array) -> Array:
    xc, z, dz, h, r = _gelu_tanh_fast_parts(x)
    ddz = (6 * float(_TANH_KA)) * xc
    th = jax.lax.tanh(0.5 * z)
    return (((2 * dz + xc * ddz - xc * dz * dz * th) * h) * (r * r)) * h


_gelu_tanh_prime_fast = rule(_gelu_tanh_fast_d1_value, _gelu_tanh_fast_d2_value)
_gelu_tanh_fast = rule(_gelu_tanh_fast_value, _gelu_tanh_prime_fast, together=True)
gelu_tanh_rule = tiered(_gelu_tanh_fast, _gelu_tanh_accurate)
gelu_tanh_prime = tiered(_gelu_tanh_prime_fast, _gelu_tanh_prime_accurate)


@register(
    bounded_below=True,
    paper="Hendrycks, Gimpel 2016, Gaussian Error Linear Units (GELUs), arXiv:1606.08415",
    names={
        "timm": "gelu_tanh",
        "transformers": "gelu_new gelu_fast gelu_accurate gelu_pytorch_tanh gelu_python_tanh",
    },
    jax_nn=functools.partial(jax.nn.gelu, approximate=True),
    torch=("gelu", {"approximate": "tanh"}),
)
@half_remat
def gelu_tanh(x: ArrayLike) -> Array:
    r"""GELU, tanh approximation (``jax.nn.gelu``'s default).

    .. math::
      f(x) = \tfrac12 x\,(1 + \tanh u) = x\,\sigma(z), \qquad
      u = \sqrt{2/\pi}\,x\,(1 + 0.044715\,x^2), \quad z = 2u,

    .. math::
      f'(x) = \sigma(z) + x z' \sigma'(z), \qquad
      f''(x) = \sigma'(z)\,\bigl(2z' + x z'' - x z'^2 \tanh(z/2)\bigr)

    The form ``x sigma(2u)`` has no ``1 + tanh`` cancellation (the textbook form
    is 100 % wrong at ``x = -5`` in float32); ``z`` is formed in double-word
    arithmetic, so the left tail keeps full relative precision down to
    underflow, and no ``x^3`` overflows: for ``|x| >= 30`` the result is ``x``
    or ``0`` (derivative ``1`` or ``0``). Same function as torch's
    ``GELU(approximate='tanh')`` and transformers' ``gelu_new``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.gelu_tanh(1.0)), 6)
      0.841192

    References:
      Hendrycks and Gimpel 2016, Gaussian Error Linear Units (GELUs),
      arXiv:1606.08415.
    """
    x, dtype = prepare(x, "gelu_tanh")
    return finish(gelu_tanh_rule(x), dtype)


@dispatcher(default="gelu_tanh", names={"jax flax": "gelu"})
def gelu(x: ArrayLike, approximate: bool = True) -> Array:
    r"""GELU with ``jax.nn.gelu``'s signature: tanh form by default.

    ``approximate=True`` is :func:`gelu_tanh`, ``approximate=False`` is
    :func:`gelu_erf` (PyTorch's and Keras' ``activations.gelu`` default).

    Args:
      x: input array.
      approximate: a Python bool (static), selects the tanh approximation.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.gelu(1.0, approximate=False)), 6)
      0.841345
    """
    if not isinstance(approximate, (bool, np.bool_)):
        raise TypeError(
            f"jaxact.gelu: argument 'approximate' must be a bool, got {type(approximate).__name__}"
        )
    return gelu_tanh(x) if approximate else gelu_erf(x)


@library_function("gelu_erf", names={"keras": "gelu"})
def gelu_keras(x: ArrayLike, approximate: bool = False) -> Array:
    r"""Keras' ``gelu``: the exact (erf) form by default, the tanh form on request.

    ``approximate=False`` is :func:`gelu_erf`, ``approximate=True`` :func:`gelu_tanh`.

    Args:
      x: input array.
      approximate: a Python bool (static), selects the tanh approximation.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.get("keras:gelu")(1.0)), 6)
      0.841345
    """
    if not isinstance(approximate, (bool, np.bool_)):
        raise TypeError(
            f"jaxact.gelu: argument 'approximate' must be a bool, got {type(approximate).__name__}"
        )
    return gelu_tanh(x) if approximate else gelu_erf(x)


@library_function("gelu_erf", names={"torch": "gelu GELU"})
def gelu_torch(x: ArrayLike, approximate: str = "none") -> Array:
    r"""PyTorch's ``gelu``: the exact (erf) form, or the tanh form with ``"tanh"``.

    ``approximate="none"`` is :func:`gelu_erf`, ``approximate="tanh"``
    :func:`gelu_tanh`, as ``torch.nn.functional.gelu`` and ``nn.GELU``.

    Args:
      x: input array.
      approximate: ``"none"`` or ``"tanh"``.

    Returns:
      An array of the same shape and dtype as ``x``.

    Raises:
      ValueError: another ``approximate``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.get("torch:gelu")(1.0, approximate="tanh")), 6)
      0.841192
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(
            f"jaxact.gelu: argument 'approximate' must be 'none' or 'tanh', got {approximate!r}"
        )
    return gelu_tanh(x) if approximate == "tanh" else gelu_erf(x)


# ---------------------------------------------------------------------------
# quick_gelu
# ---------------------------------------------------------------------------

_QUICK_CLIP = 1000.0  # |1.702 x| > 1700: the gate is exactly 0 or 1 in float64


def _quick_z(x: Array) -> tuple[Array, Array, Array]:
    kh, kl = _const(_QUICK, x)
    z, ze = two_prod(kh, x)
    return z, ze + kl * x, kh


def _quick_gelu_value(x: Array) -> Array:
    xc = ops.clip(x, -_QUICK_CLIP, _QUICK_CLIP)
    z, ze, _ = _quick_z(xc)
    s, _, _, b = _gate(z, ze)
    return ops.where(x > _QUICK_CLIP, x, (xc * s) * b)


def _quick_gelu_d1_value(x: Array) -> Array:
    xc = ops.clip(x, -_QUICK_CLIP, _QUICK_CLIP)
    z, ze, k = _quick_z(xc)
    s, p, _, b = _gate(z, ze)
    return (s + xc * k * p) * b


def _quick_gelu_d2_value(x: Array) -> Array:
    xc = ops.clip(x, -_QUICK_CLIP, _QUICK_CLIP)
    z, ze, k = _quick_z(xc)
    _, p, th, b = _gate(z, ze)
    return ((k * (2 - xc * k * th)) * p) * b


_quick_gelu_d1 = rule(_quick_gelu_d1_value, _quick_gelu_d2_value)
_quick_gelu = rule(_quick_gelu_value, _quick_gelu_d1)


@register(
    bounded_below=True,
    paper="Hendrycks, Gimpel 2016, Gaussian Error Linear Units (GELUs), arXiv:1606.08415",
    names={"timm transformers": "quick_gelu"},
)
@half_remat
def quick_gelu(x: ArrayLike) -> Array:
    r"""Quick GELU, the sigmoid approximation used by CLIP.

    .. math::
      f(x) = x\,\sigma(1.702\,x), \qquad
      f'(x) = \sigma(kx) + kx\,\sigma'(kx), \qquad
      f''(x) = k\,\sigma'(kx)\,\bigl(2 - kx \tanh(kx/2)\bigr), \quad k = 1.702

    ``1.702 x`` is formed in double-word arithmetic (``1.702`` is not a binary
    number), so the left tail keeps full relative precision down to underflow.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.quick_gelu(1.0)), 6)
      0.845796

    References:
      Hendrycks and Gimpel 2016, Gaussian Error Linear Units (GELUs),
      arXiv:1606.08415 (section 2, the sigmoid approximation); Radford et al.
      2021, Learning Transferable Visual Models From Natural Language
      Supervision, arXiv:2103.00020.
    """
    x, dtype = prepare(x, "quick_gelu")
    return finish(_quick_gelu(x), dtype)


# ---------------------------------------------------------------------------
# gelu_clipped
# ---------------------------------------------------------------------------


def _erf_kernels(x: Array) -> tuple[Any, Any, Any]:
    """gelu_erf's f, f', f'' formulas in the precision tier in effect."""
    if precision.fast(x.dtype):
        return _gelu_erf_fast_value, _gelu_erf_fast_d1_value, _gelu_erf_fast_d2_value
    return _gelu_erf_value, _gelu_erf_d1_value, _gelu_erf_d2_value


def _inside(x: Array, lo: Array, hi: Array) -> Array:
    g = gelu_erf_rule(x)
    return (g >= lo) & (g <= hi)


def _gelu_clipped_value(x: Array, lo: Array, hi: Array) -> Array:
    return ops.clip(_erf_kernels(x)[0](x), lo, hi)


def _gelu_clipped_d1_value(x: Array, lo: Array, hi: Array) -> Array:
    d = ops.where(_inside(x, lo, hi), _erf_kernels(x)[1](x), 0.0)
    return ops.where(jnp.isnan(x), x, d)


def _gelu_clipped_d2_value(x: Array, lo: Array, hi: Array) -> Array:
    d = ops.where(_inside(x, lo, hi), _erf_kernels(x)[2](x), 0.0)
    return ops.where(jnp.isnan(x), x, d)


def _gelu_clipped_dparams(x: Array, lo: Array, hi: Array) -> tuple[Array, Array]:
    g = _erf_kernels(x)[0](x)
    return (g < lo).astype(x.dtype), (g > hi).astype(x.dtype)


def _gelu_clipped_d1_dparams(x: Array, lo: Array, hi: Array) -> tuple[Array, Array]:
    zero = jnp.zeros_like(x)
    return zero, zero


_gelu_clipped_d1 = rule(_gelu_clipped_d1_value, _gelu_clipped_d2_value, _gelu_clipped_d1_dparams)
_gelu_clipped = rule(_gelu_clipped_value, _gelu_clipped_d1, _gelu_clipped_dparams)


@register(
    params={"min_val": -10.0, "max_val": 10.0},
    domain={"min_val": "[-inf, inf)", "max_val": "[min_val, inf]"},
    bounded=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(10.0, 1, 1.0),),
    paper="Wu, Judd, Zhang, Isaev, Micikevicius 2020, Integer Quantization for Deep "
    "Learning Inference: Principles and Empirical Evaluation, arXiv:2004.09602",
    presets={"transformers:gelu_10": {"min_val": -10.0, "max_val": 10.0}},
)
@half_remat
def gelu_clipped(x: ArrayLike, min_val: ArrayLike = -10.0, max_val: ArrayLike = 10.0) -> Array:
    r"""Exact GELU clipped to ``[min_val, max_val]`` (transformers' ``gelu_10``).

    .. math::
      f(x) = \operatorname{clip}(x\,\Phi(x), m, M), \qquad
      f'(x) = \bigl(\Phi(x) + x\,\varphi(x)\bigr)\,
              \mathbf 1[m \le x\,\Phi(x) \le M], \qquad
      f''(x) = \varphi(x)\,(2 - x^2)\,\mathbf 1[m \le x\,\Phi(x) \le M]

    Kink convention: like ``torch.clamp`` the gradient passes where the GELU
    value equals a bound (closed interval). With the defaults the upper bound
    binds from ``x = 10``: ``gelu_erf(10)`` rounds to ``10`` in float32 and
    float64 (its exact value is ``10 - 7.6e-23``), and ``f'(10) = 1`` is the
    GELU's own derivative there; ``f' = 0`` above. The lower bound ``-10``
    never binds (GELU is at least ``-0.17``). ``d f / d min_val`` is
    ``1[gelu(x) < min_val]`` and ``d f / d max_val`` is ``1[gelu(x) > max_val]``.

    Args:
      x: input array.
      min_val: lower bound (differentiable).
      max_val: upper bound (differentiable), at least ``min_val``.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.gelu_clipped(20.0))
      10.0

    References:
      Wu, Judd, Zhang, Isaev, Micikevicius 2020, Integer Quantization for Deep
      Learning Inference: Principles and Empirical Evaluation, arXiv:2004.09602.
    """
    x, dtype = prepare(x, "gelu_clipped")
    lo = param(min_val, "gelu_clipped", "min_val", x)
    hi = param(max_val, "gelu_clipped", "max_val", x)
    if is_concrete(min_val) and is_concrete(max_val):
        if np.any(np.asarray(min_val, np.float64) > np.asarray(max_val, np.float64)):
            raise ValueError(
                f"jaxact.gelu_clipped: argument 'min_val' ({min_val!r}) must not exceed "
                f"'max_val' ({max_val!r})"
            )
    return finish(_gelu_clipped(x, lo, hi), dtype)
