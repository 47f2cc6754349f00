"""SiLU / Swish family: x times a sigmoid-like gate (silu, mish, smish, serf, telu, ...).

Every member is ``x * g(x)`` with a gate ``g`` that tends to 0 at ``-inf``, so the
negative tail is ``~ P(x) e^x`` with a small polynomial ``P``. Once ``e^x`` is
subnormal (``x < -87`` in float32) the product is still a normal number, so the
tails are formed as ``(P(x) e^{x/2}) e^{x/2}``. Derivatives are closed forms written
from ``x`` (never from the rounded output), each first derivative carries its own
closed-form second derivative, and ``e^{-y^2}`` factors are evaluated from an exact
double-word square so that they keep full relative precision for large ``y``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxact._src import dw, elementary, ops
from jaxact._src.core import (
    ArrayLike,
    finish,
    half_remat,
    negative,
    param,
    prepare,
    rule,
    smooth_rule,
    tiered,
)
from jaxact._src.exact import two_prod, two_sum
from jaxact._src.registry import Kink, register

Array = jax.Array

__all__ = [
    "silu",
    "swish",
    "swish_beta",
    "e_swish",
    "mish",
    "smish",
    "serf",
    "telu",
    "tanhexp",
    "elish",
    "golu",
]

_RAMACHANDRAN = "Ramachandran, Zoph, Le 2017, Searching for Activation Functions, arXiv 1710.05941"

_T = dw.T
_BIG = dw.BIG
_K = 2 / math.sqrt(math.pi)


# silu / swish: f = x sigma(x).


def _silu_parts(x: Array) -> tuple[Array, Array]:
    # The same clamps in f and f', so that computed together (rule(together=True)) they
    # share sigma(xm) and the tail's exponential. sigma(60) = 1 in float64.
    return ops.clip(x, -_BIG, -_T), ops.clip(x, -_T, 60.0)


def _silu_value(x: Array) -> Array:
    xt, xm = _silu_parts(x)
    main = ops.where(x > 60, x, xm * elementary.logistic(xm))
    return ops.where(x < -_T, dw.exp_times(xt, xt), main)


def _silu_d1_value(x: Array) -> Array:
    xt, xm = _silu_parts(x)
    main = elementary.logistic(xm) + xm * elementary.logistic_prime(xm)
    return ops.where(x < -_T, dw.exp_times(1 + xt, xt), ops.where(x > 60, 1.0, main))


def _silu_d2_value(x: Array) -> Array:
    ax = jnp.abs(x)
    at = ops.clip(ax, _T, _BIG)
    xm = ops.clip(x, -_T, _T)
    main = elementary.logistic_prime(xm) * (2 - xm * elementary.tanh(0.5 * xm))
    return ops.where(ax > _T, dw.exp_times(2 - at, -at), main)


_silu_prime_accurate = rule(_silu_d1_value, _silu_d2_value)
_silu_accurate = rule(_silu_value, _silu_prime_accurate, together=True)


# Fast tier: the gate from one exp (elementary.gate); x is clamped at +-BIG inside the
# products (beyond, f = x or 0, f' = 1 or 0), so no inf * 0 forms.


def _silu_fast_parts(x: Array) -> tuple[Array, Array, Array]:
    xc = ops.clip(x, -_BIG, _BIG)
    h, r = elementary.gate(xc)
    return xc, h, r


def _silu_fast_value(x: Array) -> Array:
    xc, h, r = _silu_fast_parts(x)
    y = ops.where(xc < 0, (xc * h) * (h * r), xc * r)
    return ops.where(x > _BIG, x, y)


def _silu_fast_d1_value(x: Array) -> Array:
    # sigma(x) (1 + x sigma(-x)): e r (1 + x r) (x < 0), r (1 + x e r) (x >= 0).
    xc, h, r = _silu_fast_parts(x)
    return ops.where(xc < 0, ((h * r) * (1 + xc * r)) * h, r * (1 + xc * ((h * h) * r)))


def _silu_fast_d2_value(x: Array) -> Array:
    xc, h, r = _silu_fast_parts(x)
    return (((2 - xc * jax.lax.tanh(0.5 * xc)) * h) * (r * r)) * h


_silu_prime_fast = rule(_silu_fast_d1_value, _silu_fast_d2_value)
_silu_fast = rule(_silu_fast_value, _silu_prime_fast, together=True)
silu_rule = tiered(_silu_fast, _silu_accurate)
silu_prime = tiered(_silu_prime_fast, _silu_prime_accurate)


@register(
    bounded_below=True,
    paper=_RAMACHANDRAN,
    aliases=("swish",),
    names={
        "jax flax torch timm transformers keras": "silu",
        "jax flax timm transformers keras": "swish",
        "torch": "SiLU",
    },
    torch=("silu", {}),
)
@half_remat
def silu(x: ArrayLike) -> Array:
    r"""Sigmoid-weighted linear unit (SiLU, also called Swish).

    .. math::
      f(x) = x\,\sigma(x), \qquad f'(x) = \sigma(x) + x\,\sigma(x)\sigma(-x), \qquad
      f''(x) = \sigma(x)\sigma(-x)\,(2 - x \tanh(x/2))

    ``silu(-inf) = 0``, ``silu'(-inf) = 0``, ``silu'(+inf) = 1``. The negative tail
    keeps its precision until the result itself underflows (``silu(-80)`` is
    ``-1.44e-33`` in float32, where ``x * sigmoid(x)`` with a flushed sigmoid gives 0).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.silu(1.0)), 6)
      0.731059

    References:
      Hendrycks and Gimpel 2016, Gaussian Error Linear Units (GELUs), arXiv 1606.08415;
      Elfwing, Uchibe, Doya 2017, Sigmoid-Weighted Linear Units for Neural Network
      Function Approximation in Reinforcement Learning, arXiv 1702.03118;
      Ramachandran, Zoph, Le 2017, Searching for Activation Functions, arXiv 1710.05941.
    """
    x, dtype = prepare(x, "silu")
    return finish(silu_rule(x), dtype)


swish = silu


# swish_beta: f = x sigma(beta x) = silu(beta x) / beta.


def _swish_beta_value(x: Array, beta: Array) -> Array:
    return _silu_value(beta * x) / beta


def _swish_beta_d1_value(x: Array, beta: Array) -> Array:
    return _silu_d1_value(beta * x)


def _swish_beta_d2_value(x: Array, beta: Array) -> Array:
    return beta * _silu_d2_value(beta * x)


def _swish_beta_dparams(x: Array, beta: Array) -> tuple[Array]:
    z = beta * x
    xc = ops.clip(x, -_BIG / jnp.abs(beta), _BIG / jnp.abs(beta))
    h = elementary.exp(-0.5 * ops.clip(jnp.abs(z), _T, _BIG))
    tail = (xc * h) * (xc * h)
    main = x * x * elementary.logistic_prime(ops.clip(z, -_T, _T))
    return (ops.where(jnp.abs(z) > _T, tail, main),)


def _swish_beta_d1_dparams(x: Array, beta: Array) -> tuple[Array]:
    # d/dbeta silu'(beta x) = x silu''(beta x).
    xc = ops.clip(x, -_BIG / jnp.abs(beta), _BIG / jnp.abs(beta))
    return (xc * _silu_d2_value(beta * x),)


swish_beta_rule = smooth_rule(
    _swish_beta_value,
    _swish_beta_d1_value,
    _swish_beta_d2_value,
    _swish_beta_dparams,
    _swish_beta_d1_dparams,
)


@register(
    params={"beta": 1.0},
    domain={"beta": "(0, inf)"},
    bounded_below=True,
    paper=_RAMACHANDRAN,
)
@half_remat
def swish_beta(x: ArrayLike, beta: ArrayLike = 1.0) -> Array:
    r"""Swish with a (learnable) slope ``beta``.

    .. math::
      f(x) = x\,\sigma(\beta x), \qquad
      \frac{\partial f}{\partial x} = \sigma(\beta x) + \beta x\,\sigma'(\beta x), \qquad
      \frac{\partial f}{\partial \beta} = x^2 \sigma'(\beta x),

    .. math::
      \frac{\partial^2 f}{\partial x^2} = \beta\,\sigma'(\beta x)\,
          \bigl(2 - \beta x \tanh(\beta x / 2)\bigr)

    with :math:`\sigma'(z) = \sigma(z)\sigma(-z)`. ``beta = 1`` is :func:`silu`,
    ``beta = 1.702`` is ``quick_gelu``, ``beta -> inf`` tends to relu.

    Args:
      x: input array.
      beta: positive slope (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.swish_beta(1.0, beta=2.0)), 6)
      0.880797

    References:
      Ramachandran, Zoph, Le 2017, Searching for Activation Functions, arXiv 1710.05941.
    """
    x, dtype = prepare(x, "swish_beta")
    beta = param(beta, "swish_beta", "beta", x, positive=True)
    return finish(swish_beta_rule(x, beta), dtype)


# e_swish: f = beta x sigma(x).


def _e_swish_d1(x: Array, beta: Array) -> Array:
    return beta * silu_prime(x)


def _e_swish_dparams(x: Array, beta: Array) -> tuple[Array]:
    return (_silu_value(x),)


_e_swish = rule(lambda x, beta: beta * _silu_value(x), _e_swish_d1, _e_swish_dparams)


@register(
    params={"beta": 1.0},
    bounded_below=True,
    paper="Alcaide 2018, E-swish: Adjusting Activations to Different Network Depths, "
    "arXiv 1801.07145",
)
@half_remat
def e_swish(x: ArrayLike, beta: ArrayLike = 1.0) -> Array:
    r"""E-swish: SiLU scaled by ``beta``.

    .. math::
      f(x) = \beta x\,\sigma(x), \qquad
      f'(x) = \beta\,(\sigma(x) + x\,\sigma(x)\sigma(-x)), \qquad
      f''(x) = \beta\,\sigma(x)\sigma(-x)\,(2 - x \tanh(x/2)), \qquad
      \frac{\partial f}{\partial \beta} = x\,\sigma(x)

    Args:
      x: input array.
      beta: scale (the paper uses 1 <= beta <= 2; differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.e_swish(1.0, beta=1.5)), 6)
      1.096588

    References:
      Alcaide 2018, E-swish: Adjusting Activations to Different Network Depths,
      arXiv 1801.07145.
    """
    x, dtype = prepare(x, "e_swish")
    beta = param(beta, "e_swish", "beta", x)
    return finish(_e_swish(x, beta), dtype)


# mish: f = x tanh(softplus(x)). With e = e^x, s = 1 + e, q = s^2 + 1 (x <= 0) or
# u = e^{-x}, Q = 1 + 2u + 2u^2 (x > 0): tanh(sp) = (s^2 - 1)/q = 1 - 2u^2/Q.


def _mish_parts(x: Array):
    xn = ops.clip(x, -_BIG, 0.0)
    xp = ops.clip(x, 0.0, _BIG)
    e = elementary.exp(xn)
    s = 1 + e
    q = e * (e + 2) + 2
    u = elementary.exp(-xp)
    qq = 1 + 2 * u * (1 + u)
    return xn, xp, e, s, q, u, qq


def _tanh_sp_pos_parts(u: Array, ul: Array) -> tuple[Array, Array, Array, Array]:
    """``tanh(softplus(x)) = (1 + 2u) / (1 + 2u + 2u^2)`` for ``u + ul = e^{-x} <= 1``:
    numerator and denominator as double words."""
    u2 = 2 * u
    nh = 1.0 + u2
    nl = ops.where(u2 <= 1, (1.0 - nh) + u2, (u2 - nh) + 1.0) + 2 * ul
    vh, vl = two_prod(u, u)
    dh, dl = two_sum(nh, 2 * vh)
    dl = dl + (nl + (2 * vl + 4 * u * ul))
    return nh, nl, dh, dl


def _mish_exp(x: Array) -> tuple[Array, Array, Array, Array]:
    """One exponential for mish: ``w = e^{-|x|}`` (double word) for ``x >= -40``;
    below, ``e^{x + 64}`` (the far tail is ``x e^x``, formed as in dw.exp_times).

    Returns ``(far, xt, wh, wl)`` with ``xt`` the clamped far-tail argument.
    """
    c = elementary.consts(x)
    far = x < -_T
    xt = ops.clip(x, -_BIG, -_T)
    arg = ops.where(far, jnp.maximum(xt + 64.0, c.exp_lo), -jnp.abs(ops.clip(x, -_T, _T)))
    wh, wl = dw.exp_dw(arg)
    return far, xt, wh, wl


def _mish_ratio(x: Array, wh: Array, wl: Array) -> Array:
    """``tanh(softplus(x))`` from ``w = e^{-|x|}`` with one double-word division."""
    pos = x > 0
    parts = zip(_tanh_sp_pos_parts(wh, wl), dw.tanh_log1p_parts(wh, wl), strict=True)
    return dw.dw_div(*(ops.where(pos, p, n) for p, n in parts))


def _mish_value(x: Array) -> Array:
    # x tanh(sp(x)) with e^{-|x|} as a double word and the ratio rounded once;
    # far tail x e^x (tanh(sp(x)) = e^x to the last bit of float64 below -40).
    far, xt, wh, wl = _mish_exp(x)
    hi, lo = dw.EXP_M64[jnp.dtype(x.dtype)]
    q = xt * wh
    return ops.where(far, q * hi + q * lo, x * _mish_ratio(x, wh, wl))


def _mish_d1_neg(xn: Array, wh: Array, wl: Array) -> Array:
    """f'(x) for x <= 0 from ``w = wh + wl = e^x``: ``w N / q^2`` with
    ``N = ((w + 4) w + (6 + 4x)) w + 4 (1 + x)`` and ``q = (w + 2) w + 2``, in double
    words and one division. (As ``((w + 2)/q + 4x(1 + w)/q^2) w`` the two terms cancel
    about 5x near x = -1: 5 ulp in float64.)"""
    t1h = 4.0 + wh
    t1l = ((4.0 - t1h) + wh) + wl
    p1h, p1l = two_prod(t1h, wh)
    p1l = p1l + (t1h * wl + t1l * wh)
    s1h, s1l = two_sum(p1h, 6.0 + 4.0 * xn)
    s1l = s1l + p1l
    p2h, p2l = two_prod(s1h, wh)
    p2l = p2l + (s1h * wl + s1l * wh)
    nh, nl = two_sum(p2h, 4.0 * (1.0 + xn))
    nl = nl + p2l
    mh, ml = two_prod(wh, nh)
    ml = ml + (wh * nl + wl * nh)
    a2h = 2.0 + wh
    a2l = ((2.0 - a2h) + wh) + wl
    qa, qal = two_prod(a2h, wh)
    qal = qal + (a2h * wl + a2l * wh)
    qh = 2.0 + qa
    ql = ops.where(qa <= 2.0, (2.0 - qh) + qa, (qa - qh) + 2.0) + qal
    dh, dl = two_prod(qh, qh)
    return dw.dw_div(mh, ml, dh, dl + 2.0 * qh * ql)


def _mish_d1_value(x: Array) -> Array:
    far, xt, w, wl = _mish_exp(x)
    hi, lo = dw.EXP_M64[jnp.dtype(x.dtype)]
    xn = jnp.minimum(x, 0.0)
    neg = _mish_d1_neg(xn, w, ops.where(x > 0, 0.0, wl))
    # x > 0, u = w: 1 + (4x(1 + u) - 2Q)/Q^2 u^2, Q = 1 + 2u(1 + u).
    xp = ops.clip(x, 0.0, _T)
    qq = 1 + 2 * w * (1 + w)
    pos = 1 + ((4 * xp * (1 + w) - 2 * qq) / (qq * qq) * w) * w
    # far tail: (1 + x) e^x.
    p = (1 + xt) * w
    return ops.where(far, p * hi + p * lo, ops.where(x > 0, pos, neg))


def _mish_d2_value(x: Array) -> Array:
    xn, xp, e, s, q, u, qq = _mish_parts(x)
    bn = 2 * s + xn * (2 + e * (2 - e * (3 + 2 * e))) / q
    neg = dw.exp_times(4 * bn / (q * q), xn)
    bp = 2 * (1 + u) + xp * (u * (u * (2 * u + 2) - 3) - 2) / qq
    pos = (4 * bp / (qq * qq) * u) * u
    return ops.where(x > 0, pos, neg)


_mish_prime_accurate = rule(_mish_d1_value, _mish_d2_value)
_mish_accurate = rule(_mish_value, _mish_prime_accurate, together=True)


# Fast tier: with e = e^{-|x|} = h^2 (h from one exp), tanh(softplus(x)) = N / D,
# N = e (e + 2), D = N + 2 (x <= 0) or N = 1 + 2e, D = N + 2e^2 (x > 0); one division
# 1/D serves f and f'; h is multiplied in last on the negative side (deep tail).


def _mish_fast_parts(x: Array) -> tuple[Array, ...]:
    xc = ops.clip(x, -_BIG, _BIG)
    neg = xc <= 0
    h = elementary.half_exp(xc)
    e = h * h
    n_neg = h * (e + 2)  # N / h on the negative side
    d = ops.where(neg, h * n_neg + 2, (1 + 2 * e) + 2 * (e * e))
    return xc, neg, h, e, n_neg, 1 / d, d


def _mish_fast_value(x: Array) -> Array:
    xc, neg, h, e, n_neg, r, _ = _mish_fast_parts(x)
    y = ops.where(neg, ((xc * h) * (n_neg * r)), xc * ((1 + 2 * e) * r))
    return ops.where(x > _BIG, x, y)


def _mish_fast_d1_value(x: Array) -> Array:
    # x <= 0: e r ((e + 2) + 4x (1 + e) r); x > 0: 1 + (4x (1 + e) - 2D) (e r)^2.
    xc, neg, h, e, _, r, d = _mish_fast_parts(x)
    u = 4 * xc * (1 + e)
    er = e * r
    return ops.where(neg, ((h * r) * ((e + 2) + u * r)) * h, 1 + (u - 2 * d) * (er * er))


_mish_prime_fast = rule(_mish_fast_d1_value, _mish_d2_value)
_mish_fast = rule(_mish_fast_value, _mish_prime_fast, together=True)
_mish = tiered(_mish_fast, _mish_accurate)
mish_prime = tiered(_mish_prime_fast, _mish_prime_accurate)


@register(
    bounded_below=True,
    paper="Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function, "
    "arXiv 1908.08681",
    names={"jax flax torch timm transformers keras": "mish", "torch": "Mish"},
    torch=("mish", {}),
)
@half_remat
def mish(x: ArrayLike) -> Array:
    r"""Mish: a self-regularized non-monotonic activation.

    .. math::
      f(x) = x \tanh(\mathrm{softplus}(x)), \qquad
      f'(x) = \tanh(\mathrm{sp}(x)) + x\,\sigma(x)\,\mathrm{sech}^2(\mathrm{sp}(x)),

    .. math::
      f''(x) = \sigma(x)\,\mathrm{sech}^2(\mathrm{sp}(x))\,
          \bigl(2 + x\,(\sigma(-x) - 2\,\sigma(x) \tanh(\mathrm{sp}(x)))\bigr)

    Evaluated in closed form: with :math:`n = e^x(e^x + 2)`,
    :math:`\tanh(\mathrm{sp}(x)) = n/(n+2)` and
    :math:`\mathrm{sech}^2(\mathrm{sp}(x)) = 4(n+1)/(n+2)^2`, rewritten in
    :math:`e^{-x}` for ``x > 0`` so nothing overflows and in
    :math:`e^{x/2}` factors for ``x < 0`` so the tail keeps its precision.
    ``mish(-inf) = 0``, ``mish'(+inf) = 1``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.mish(1.0)), 6)
      0.865098

    References:
      Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function,
      arXiv 1908.08681.
    """
    x, dtype = prepare(x, "mish")
    return finish(_mish(x), dtype)


# smish: f = alpha x tanh(log1p(sigma(beta x))). With s = sigma(z), z = beta x,
# m = s (s + 2): T = tanh(log1p(s)) = m / (m + 2), dT/dz = A (1 + s) sigma'(z),
# A = 4 / (m + 2)^2.


def _smish_parts(x: Array, beta: Array):
    z = beta * x
    zc = ops.clip(z, -_BIG, _BIG)
    s = elementary.logistic(zc)
    m = s * (s + 2)
    a = 4 / ((m + 2) * (m + 2))
    return z, zc, s, m, a


def _smish_value(x: Array, alpha: Array, beta: Array) -> Array:
    z, zc, s, m, _ = _smish_parts(x, beta)
    zt = ops.clip(z, -_BIG, -_T)
    tail = dw.exp_times((zt / beta) * (s + 2) / (m + 2), zt)
    sh, sl = dw.logistic_dw(ops.clip(z, -_T, _T))
    return alpha * ops.where(z < -_T, tail, x * dw.tanh_log1p(sh, sl))


def _smish_d1_value(x: Array, alpha: Array, beta: Array) -> Array:
    z, zc, s, m, a = _smish_parts(x, beta)
    zt = ops.clip(z, -_BIG, -_T)
    tail = dw.exp_times((s + 2) / (m + 2) + zt * a * (1 + s), zt)
    main = m / (m + 2) + zc * a * (1 + s) * elementary.logistic_prime(zc)
    return alpha * ops.where(z < -_T, tail, main)


def _smish_d2_value(x: Array, alpha: Array, beta: Array) -> Array:
    z, zc, s, m, a = _smish_parts(x, beta)
    s1 = elementary.logistic_prime(zc)
    b = 2 * (1 + s) - zc * (
        s1 * (s * (3 * s + 6) + 2) / (m + 2) + (1 + s) * elementary.tanh(0.5 * zc)
    )
    return alpha * beta * dw.sigmoid_prime_times(a * b, zc)


def _smish_dparams(x: Array, alpha: Array, beta: Array) -> tuple[Array, Array]:
    # df/dalpha = f / alpha; df/dbeta = alpha x^2 A (1 + s) sigma'(z).
    _, zc, s, _, a = _smish_parts(x, beta)
    xc = ops.clip(x, -_BIG / beta, _BIG / beta)
    one = jnp.ones_like(alpha)
    return _smish_value(x, one, beta), alpha * (a * (1 + s)) * xc * dw.sigmoid_prime_times(xc, zc)


def _smish_d1_dparams(x: Array, alpha: Array, beta: Array) -> tuple[Array, Array]:
    # f' = alpha g(beta x): d/dalpha = g, d/dbeta = alpha x g' = x f'' / beta.
    one = jnp.ones_like(alpha)
    xc = ops.clip(x, -_BIG / beta, _BIG / beta)
    return _smish_d1_value(x, one, beta), xc * (_smish_d2_value(x, alpha, beta) / beta)


_smish = smooth_rule(
    _smish_value, _smish_d1_value, _smish_d2_value, _smish_dparams, _smish_d1_dparams
)


@register(
    params={"alpha": 1.0, "beta": 1.0},
    domain={"beta": "(0, inf)"},
    bounded_below=True,
    paper="Wang, Ren, Wang 2022, Smish: A Novel Activation Function for Deep Learning "
    "Methods, Electronics 11(4) 540",
)
@half_remat
def smish(x: ArrayLike, alpha: ArrayLike = 1.0, beta: ArrayLike = 1.0) -> Array:
    r"""Smish: ``alpha x tanh(log(1 + sigmoid(beta x)))``.

    .. math::
      f(x) = \alpha x \tanh(\log(1 + \sigma(\beta x))), \qquad
      f'(x) = \alpha\left(T + z\,\frac{4(1+s)\,\sigma'(z)}{(m+2)^2}\right)

    with :math:`z = \beta x`, :math:`s = \sigma(z)`, :math:`m = s(s+2)` and
    :math:`T = \tanh(\log(1+s)) = m/(m+2)` (no ``log`` is evaluated). With
    :math:`g(z) = m/(m+2)`, so that :math:`f = (\alpha/\beta)\,z\,g(z)`:

    .. math::
      f''(x) = \alpha\beta\,\bigl(2 g'(z) + z\,g''(z)\bigr), \qquad
      g' = \frac{4(1+s)\,\sigma'}{(m+2)^2}, \qquad
      g'' = \frac{4\sigma'\bigl(\sigma' - (1+s)\tanh(z/2)\bigr)}{(m+2)^2}
          - \frac{16(1+s)^2\sigma'^2}{(m+2)^3}

    ``smish(-inf) = 0``, ``smish'(+inf) = 0.6 alpha``.

    Args:
      x: input array.
      alpha: output scale (differentiable).
      beta: positive input scale (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.smish(1.0)), 6)
      0.49957

    References:
      Wang, Ren, Wang 2022, Smish: A Novel Activation Function for Deep Learning
      Methods, Electronics 11(4) 540, doi 10.3390/electronics11040540.
    """
    x, dtype = prepare(x, "smish")
    alpha = param(alpha, "smish", "alpha", x)
    beta = param(beta, "smish", "beta", x, positive=True)
    return finish(_smish(x, alpha, beta), dtype)


# serf: f = x erf(softplus(x)), with softplus as an exact double word (hi, lo).


def _serf_parts(x: Array):
    xm = ops.clip(x, -_T, _BIG)
    hi, lo = two_sum(jnp.maximum(xm, 0.0), elementary.log1p(elementary.exp(-jnp.abs(xm))))
    big_e = dw.exp_neg_sq(hi, lo)
    erf_sp = elementary.erf(hi) + _K * big_e * lo
    return xm, hi, lo, big_e, erf_sp


def _serf_value(x: Array) -> Array:
    xt = ops.clip(x, -_BIG, -_T)
    _, _, _, _, erf_sp = _serf_parts(x)
    return ops.where(x < -_T, _K * dw.exp_times(xt, xt), x * erf_sp)


def _serf_d1_value(x: Array) -> Array:
    xt = ops.clip(x, -_BIG, -_T)
    xm, _, _, big_e, erf_sp = _serf_parts(x)
    main = erf_sp + _K * xm * big_e * elementary.logistic(xm)
    return ops.where(x < -_T, _K * dw.exp_times(1 + xt, xt), main)


def _serf_d2_value(x: Array) -> Array:
    xt = ops.clip(x, -_BIG, -_T)
    xm, sp, sp_lo, _, _ = _serf_parts(x)
    sig = elementary.logistic(xm)
    inner = 2 * sig + xm * (elementary.logistic_prime(xm) - 2 * sig * sig * sp)
    # e^{-sp^2} alone is subnormal in float32 from x ~ 9.4, where f'' is still normal.
    main = dw.exp_neg_sq_times(_K * inner, sp, sp_lo)
    return ops.where(x < -_T, _K * dw.exp_times(2 + xt, xt), main)


_serf = smooth_rule(_serf_value, _serf_d1_value, _serf_d2_value)


@register(
    bounded_below=True,
    paper="Nag, Bhattacharyya 2021, SERF: Towards better training of deep neural networks "
    "using log-Softplus ERror activation Function, arXiv 2108.09598",
)
@half_remat
def serf(x: ArrayLike) -> Array:
    r"""SERF: log-softplus error activation, ``x erf(softplus(x))``.

    .. math::
      f(x) = x\,\mathrm{erf}(\mathrm{sp}(x)), \qquad
      f'(x) = \mathrm{erf}(\mathrm{sp}) + \tfrac{2}{\sqrt\pi}\,x\,\sigma(x)\,e^{-\mathrm{sp}^2},
      \quad \mathrm{sp} = \mathrm{softplus}(x)

    :math:`e^{-\mathrm{sp}(x)^2}` is formed from an exact square of the softplus
    (kept as a double word), so ``f''`` keeps its relative precision for large ``x``.
    ``serf(-inf) = 0``, ``serf'(+inf) = 1``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.serf(1.0)), 6)
      0.936722

    References:
      Nag, Bhattacharyya 2021, SERF: Towards better training of deep neural networks
      using log-Softplus ERror activation Function, arXiv 2108.09598.
    """
    x, dtype = prepare(x, "serf")
    return finish(_serf(x), dtype)


# telu / tanhexp: f = x tanh(E), E = e^x carried as a double word (hi, lo): sech^2(E)
# = 4 w / (1 + w)^2 with w = e^{-2E} = e^{-2 hi} (1 - 2 lo), -2 hi exact, so the
# rounding of e^x (amplified 2E-fold in sech^2(E)) never enters. For x > 4 f = x
# and f' = 1 to the last bit (f64); f'' underflows from x > 7.


def _telu_parts(x: Array):
    xm = ops.clip(x, -_T, 7.0)
    eh, el = dw.exp_dw(xm)
    w = elementary.exp(-2 * eh) * (1 - 2 * el)
    d = 1 + w
    th = elementary.tanh(eh) + el * (4 * w / (d * d))
    return xm, eh, el, w, d, th


def _telu_value(x: Array) -> Array:
    xt = ops.clip(x, -_BIG, -_T)
    xm, _, _, _, _, th = _telu_parts(x)
    main = ops.where(x > 4, x, xm * th)
    return ops.where(x < -_T, dw.exp_times(xt, xt), main)


def _telu_d1_value(x: Array) -> Array:
    xt = ops.clip(x, -_BIG, -_T)
    xm, eh, _, w, d, th = _telu_parts(x)
    main = th + xm * eh * (4 * w / (d * d))
    return ops.where(x < -_T, dw.exp_times(1 + xt, xt), ops.where(x > 7, 1.0, main))


def _telu_d2_value(x: Array) -> Array:
    xt = ops.clip(x, -_BIG, -_T)
    xm, eh, el, _, d, th = _telu_parts(x)
    # E sech^2(E) (2 + x - 2 x E tanh E), with e^{-2E} kept normal while f'' is.
    p = 4 * eh * (2 + xm - 2 * xm * eh * th) / (d * d)
    main = dw.exp_times(p, -2 * eh, -2 * el)
    return ops.where(x < -_T, dw.exp_times(2 + xt, xt), ops.where(x > 7, 0.0, main))


_telu = smooth_rule(_telu_value, _telu_d1_value, _telu_d2_value)


@register(
    bounded_below=True,
    paper="Fernandez, Mali 2024, Revisiting the Mathematical Foundations of Activation "
    "Functions: TeLU, arXiv 2412.20269",
    aliases=("tanhexp",),
)
@half_remat
def telu(x: ArrayLike) -> Array:
    r"""TeLU (TanhExp): ``x tanh(e^x)``.

    .. math::
      f(x) = x \tanh(e^x), \qquad
      f'(x) = \tanh(e^x) + x e^x\,\mathrm{sech}^2(e^x), \qquad
      f''(x) = e^x \mathrm{sech}^2(e^x)\,(2 + x - 2 x e^x \tanh(e^x))

    For ``x > 4`` the value is ``x`` and the derivative 1 to the last bit, so no
    ``inf * 0`` arises for large inputs. ``e^x`` is carried as a double word, so
    :math:`\mathrm{sech}^2(e^x)` does not amplify its rounding. ``telu(-inf) = 0``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.telu(1.0)), 6)
      0.991329

    References:
      Fernandez, Mali 2024, Revisiting the Mathematical Foundations of Activation
      Functions: TeLU, arXiv 2412.20269; Liu, Di 2020, TanhExp: A smooth activation
      function with high convergence speed for lightweight neural networks,
      arXiv 2003.09855.
    """
    x, dtype = prepare(x, "telu")
    return finish(_telu(x), dtype)


tanhexp = telu


# elish: x sigma(x) for x >= 0, expm1(x) sigma(x) for x < 0.


def _elish_left(x: Array):
    xl = ops.clip(x, -_BIG, 0.0)
    return (
        elementary.exp(xl),
        elementary.expm1(xl),
        elementary.logistic(xl),
        elementary.logistic_prime(xl),
        xl,
    )


def _elish_value(x: Array) -> Array:
    _, em, sig, _, _ = _elish_left(x)
    return ops.where(negative(x), em * sig, _silu_value(x))


def _elish_d1_value(x: Array) -> Array:
    e, em, sig, s1, _ = _elish_left(x)
    return ops.where(negative(x), e * sig + em * s1, _silu_d1_value(x))


def _elish_d2_value(x: Array) -> Array:
    e, em, sig, s1, xl = _elish_left(x)
    left = e * sig + 2 * e * s1 - em * s1 * elementary.tanh(0.5 * xl)
    return ops.where(negative(x), left, _silu_d2_value(x))


_elish = smooth_rule(_elish_value, _elish_d1_value, _elish_d2_value)


@register(
    bounded_below=True,
    smooth=False,
    kinks=(Kink(0.0, 2, 0.5),),
    paper="Basirat, Roth 2018, The Quest for the Golden Activation Function, arXiv 1808.00783",
)
@half_remat
def elish(x: ArrayLike) -> Array:
    r"""ELiSH: exponential linear sigmoid squashing.

    .. math::
      f(x) = \begin{cases} x\,\sigma(x) & x \ge 0 \\ (e^x - 1)\,\sigma(x) & x < 0 \end{cases},
      \qquad
      f'(x) = \begin{cases} \sigma(x) + x\,\sigma'(x) & x \ge 0 \\
        e^x \sigma(x) + (e^x - 1)\,\sigma'(x) & x < 0 \end{cases}

    ``f`` and ``f'`` are continuous (``f'(0) = 1/2``); ``f''`` jumps at 0 from 1
    (left) to 1/2 (right), and ``f''(0) = 1/2`` (the right piece).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.elish(-1.0)), 6)
      -0.170003

    References:
      Basirat, Roth 2018, The Quest for the Golden Activation Function,
      arXiv 1808.00783.
    """
    x, dtype = prepare(x, "elish")
    return finish(_elish(x), dtype)


# golu: f = x g(x) with the Gompertz gate g = e^{-u}, u = e^{-x}. u is a double
# word good to ~2^-66 on |x| <= 40, so g = e^{-uh - ul} keeps its precision where u
# is large (a rounded u would cost u ulps); the products x u are formed exactly. Beyond x = 40,
# g = 1 - u to the last bit and a single-word u is enough; below x = -40, g = 0.


def _golu_parts(x: Array) -> tuple[Array, ...]:
    xm = ops.clip(x, -_T, _T)
    uh, ul = dw.exp_dw_fine(-xm)  # g amplifies u's rounding u times (745 in float64)
    p, pe = two_prod(xm, uh)  # x u = p + pe + x ul
    xr = ops.clip(x, _T, _BIG)
    return xm, uh, ul, p, pe + xm * ul, xr, elementary.exp(-xr)


def _golu_value(x: Array) -> Array:
    xm, uh, ul, *_ = _golu_parts(x)
    main = dw.exp_times(xm, -uh, -ul)
    return ops.where(x > _T, x, ops.where(x < -_T, 0.0 * xm, main))


def _golu_d1_value(x: Array) -> Array:
    # f' = g (1 + x u)
    xm, uh, ul, p, pl, xr, ur = _golu_parts(x)
    # 1 + p with its rounding error where they may cancel (|p| <= 1, Fast2Sum);
    # elsewhere the sum is exact (Sterbenz) or does not cancel.
    s = 1.0 + p
    se = ops.where(jnp.abs(p) <= 1.0, (1.0 - s) + p, 0.0 * p)
    main = dw.exp_times(s + (se + pl), -uh, -ul)
    right = 1.0 + (xr - 1.0) * ur  # (1 - u)(1 + x u), u < e^{-40}
    return ops.where(x > _T, right, ops.where(x < -_T, 0.0 * xm, main))


def _golu_d2_value(x: Array) -> Array:
    # f'' = g u (2 - x + x u)
    xm, uh, ul, p, pl, xr, ur = _golu_parts(x)
    # 2 - x with its rounding error where the roots are (|x| <= 2; exact on [1, 4]).
    a = 2.0 - xm
    ae = ops.where(jnp.abs(xm) <= 2.0, (2.0 - a) - xm, 0.0 * xm)
    h, he = two_sum(a, p)
    r = h + (he + ae + pl)
    main = dw.exp_times(r * uh + r * ul, -uh, -ul)
    right = dw.exp_times(2.0 - xr + xr * ur, -xr)  # u (2 - x + x u), u subnormal past 87
    return ops.where(x > _T, right, ops.where(x < -_T, 0.0 * xm, main))


_golu = smooth_rule(_golu_value, _golu_d1_value, _golu_d2_value)


@register(
    bounded_below=True,
    paper="Das, Safari, Adriaensen, Hutter 2025, Gompertz Linear Units: Leveraging "
    "Asymmetry for Enhanced Learning Dynamics, arXiv 2502.03654",
)
@half_remat
def golu(x: ArrayLike) -> Array:
    r"""Gompertz linear unit (GoLU): ``x`` gated by the Gompertz function.

    .. math::
      f(x) = x\,e^{-e^{-x}}, \qquad f'(x) = e^{-e^{-x}}\,(1 + x e^{-x}), \qquad
      f''(x) = e^{-e^{-x}} e^{-x}\,(2 - x + x e^{-x})

    The gate is the Gumbel distribution's CDF: right-skewed, so the negative side
    is squashed doubly exponentially. ``u = e^{-x}`` is carried as a double word:
    the gate ``e^{-u}`` would otherwise lose ``u`` ulps (88 in float32 near
    ``x = -4.5``), and the roots of ``f'`` (``x = -W(1)``) and ``f''`` keep full
    relative precision. Values stay normal numbers as long as the result is;
    ``golu(-inf) = 0``, ``golu'(+inf) = 1``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.golu(1.0)), 6)
      0.692201

    References:
      Das, Safari, Adriaensen, Hutter 2025, Gompertz Linear Units: Leveraging
      Asymmetry for Enhanced Learning Dynamics (ICML), arXiv 2502.03654.
    """
    x, dtype = prepare(x, "golu")
    return finish(_golu(x), dtype)
