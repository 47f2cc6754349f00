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

from jaxact._src import _math, _ops
from jaxact._src._exact import two_prod, two_sum
from jaxact._src.core import (
    ArrayLike,
    Kink,
    Spec,
    finish,
    half_remat,
    nan_like,
    negative,
    param,
    prepare,
    rule,
    unflushed_times,
)
from jaxact._src.sigmoid import tanh_prime

Array = jax.Array

_T = 40.0  # beyond |x| = 40, sigma(-|x|) = e^{-|x|} and tanh(|x|/2) = 1 to the last bit (f64)
_BIG = 1e4  # inputs are clamped here inside formulas whose result is already exact
_K = 2 / math.sqrt(math.pi)


# e^{-64} as a double word per dtype (hi, lo).
_EXP_M64 = {
    jnp.dtype(jnp.float32): (1.6038109389511792e-28, -4.840254038107756e-36),
    jnp.dtype(jnp.float64): (1.603810890548638e-28, -7.361325221284214e-45),
}


def _exp_times(p: Array, x: Array, xlo: Array | None = None) -> Array:
    """``p e^{x + xlo}`` for ``x <= 0`` (``xlo`` a tiny correction), normal while the result is.

    Below ``x = -40`` formed as ``(p e^{x + 64}) e^{-64}`` (``x + 64`` is exact
    there) with ``e^{-64}`` as a double word, so a subnormal ``e^x`` never appears.
    """
    hi, lo = _EXP_M64[jnp.dtype(x.dtype)]
    far = x < -_T
    q = p * _math.exp(_ops.where(far, x + 64.0, x))
    if xlo is not None:
        q = q + q * xlo
    return _ops.where(far, q * hi + q * lo, q)


def _smooth(value, d1, d2, dparams=None, d1_dparams=None):
    """A function with closed-form first and second derivatives in x.

    ``dparams`` / ``d1_dparams``: closed-form parameter partials of f and of f'
    (needed wherever the formula goes through ``_math``, whose bit-level
    implementations are not differentiable by autodiff).
    """
    return rule(value, rule(d1, d2, d1_dparams), dparams)


# Double-word pieces (value hi + lo, |lo| <= ulp(hi)).


def _exp_dw(x: Array) -> tuple[Array, Array]:
    """``e^x`` as a double word for ``|x| <= 40`` (from ``_math``'s reduction)."""
    c = _math._c(x)
    k, r, w = _math._exp_parts(x, c)
    s = 1.0 + r
    e = ((1.0 - s) + r) + w
    h = s + e
    return _math._scale(h, k, c), _math._scale((s - h) + e, k, c)


def _logistic_dw(z: Array) -> tuple[Array, Array]:
    """``sigma(z)`` as a double word for ``|z| <= 40``."""
    c = _math._c(z)
    k, q0, q1 = _math._recip1pexp(jnp.abs(z), c)
    gh = _math._scale(q0, -k, c)
    gl = _math._scale(q1, -k, c)
    hh = 1.0 - gh
    hl = ((1.0 - hh) - gh) - gl
    neg = z < 0
    sh, sl = _ops.where(neg, gh, hh), _ops.where(neg, gl, hl)
    h = sh + sl  # gh is a short head: renormalise
    return h, (sh - h) + sl


def _dw_div(nh: Array, nl: Array, dh: Array, dl: Array) -> Array:
    """``(nh + nl) / (dh + dl)`` rounded once (to about half an ulp)."""
    # One division, by a head q0 of 1/dh (its only use), then products: XLA:CPU
    # does not fuse a division whose result has several users, and the whole
    # value was split into materialised pieces (mish's forward pass 3x slower).
    q0 = _math._head(1.0 / dh, _math._c(dh))
    t = nh * q0
    for _ in range(2):
        p, pe = two_prod(t, dh)
        t = t + (((nh - p) - pe) + (nl - t * dl)) * q0
    return t


def _tanh_log1p_parts(e: Array, el: Array) -> tuple[Array, Array, Array, Array]:
    """``tanh(log(1 + e)) = n / (n + 2)``, ``n = e (e + 2)``, for ``0 <= e + el <= 1``:
    numerator and denominator as double words ``(nh, nl, dh, dl)``."""
    ah = 2.0 + e
    al = (2.0 - ah) + e
    nh, nl = two_prod(e, ah)
    nl = nl + (e * al + el * (e + ah))  # (e + el)(ah + al + el) - nh
    dh = nh + 2.0
    dl = _ops.where(nh > 2, (nh - dh) + 2.0, (2.0 - dh) + nh) + nl
    return nh, nl, dh, dl


def _tanh_log1p(e: Array, el: Array) -> Array:
    """``tanh(log(1 + e))`` for ``0 <= e + el <= 1``, rounded once."""
    return _dw_div(*_tanh_log1p_parts(e, el))


def _exp_neg_sq(hi: Array, lo: Array) -> Array:
    """``e^{-(hi + lo)^2}`` with the square formed exactly (|hi| <= 1e4)."""
    p, e = two_prod(hi, hi)
    q = _math.exp(-p)
    return q - q * (e + 2 * hi * lo)


def _exp_neg_sq_times(f: Array, hi: Array, lo: Array) -> Array:
    """``f e^{-(hi + lo)^2}``, normal as long as the result is (|hi| <= 1e4)."""
    p, e = two_prod(hi, hi)
    return _exp_times(f, -p, -(e + 2 * hi * lo))


# silu / swish: f = x sigma(x).


def _silu_parts(x: Array) -> tuple[Array, Array]:
    # The same clamps in f and f', so that computed together (rule(together=True)) they
    # share sigma(xm) and the tail's exponential. sigma(60) = 1 in float64.
    return _ops.clip(x, -_BIG, -_T), _ops.clip(x, -_T, 60.0)


def _silu_value(x: Array) -> Array:
    xt, xm = _silu_parts(x)
    main = _ops.where(x > 60, x, xm * _math.logistic(xm))
    return _ops.where(x < -_T, _exp_times(xt, xt), main)


def _silu_d1_value(x: Array) -> Array:
    xt, xm = _silu_parts(x)
    main = _math.logistic(xm) + xm * _math.logistic_prime(xm)
    return _ops.where(x < -_T, _exp_times(1 + xt, xt), _ops.where(x > 60, 1.0, main))


def _silu_d2_value(x: Array) -> Array:
    ax = jnp.abs(x)
    at = _ops.clip(ax, _T, _BIG)
    xm = _ops.clip(x, -_T, _T)
    main = _math.logistic_prime(xm) * (2 - xm * _math.tanh(0.5 * xm))
    return _ops.where(ax > _T, _exp_times(2 - at, -at), main)


_silu_d1 = rule(_silu_d1_value, _silu_d2_value)
_silu = rule(_silu_value, _silu_d1, together=True)


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
    return finish(_silu(x), dtype)


swish = silu


# swish_beta: f = x sigma(beta x) = silu(beta x) / beta.


def _swish_beta_value(x: Array, beta: Array) -> Array:
    return _silu_value(beta * x) / beta


def _swish_beta_d1_value(x: Array, beta: Array) -> Array:
    return _silu_d1_value(beta * x)


def _swish_beta_d2_value(x: Array, beta: Array) -> Array:
    return beta * _silu_d2_value(beta * x)


def _sigmoid_prime_times(p: Array, z: Array) -> Array:
    """``p * sigma'(z)``, kept normal in both tails (p finite)."""
    az = jnp.abs(z)
    zm = _ops.clip(z, -_T, _T)
    return _ops.where(
        az > _T, _exp_times(p, -_ops.clip(az, _T, _BIG)), p * _math.logistic_prime(zm)
    )


def _swish_beta_dparams(x: Array, beta: Array) -> tuple[Array]:
    z = beta * x
    xc = _ops.clip(x, -_BIG / jnp.abs(beta), _BIG / jnp.abs(beta))
    h = _math.exp(-0.5 * _ops.clip(jnp.abs(z), _T, _BIG))
    tail = (xc * h) * (xc * h)
    main = x * x * _math.logistic_prime(_ops.clip(z, -_T, _T))
    return (_ops.where(jnp.abs(z) > _T, tail, main),)


def _swish_beta_d1_dparams(x: Array, beta: Array) -> tuple[Array]:
    # d/dbeta silu'(beta x) = x silu''(beta x).
    xc = _ops.clip(x, -_BIG / jnp.abs(beta), _BIG / jnp.abs(beta))
    return (xc * _silu_d2_value(beta * x),)


_swish_beta = _smooth(
    _swish_beta_value,
    _swish_beta_d1_value,
    _swish_beta_d2_value,
    _swish_beta_dparams,
    _swish_beta_d1_dparams,
)


@half_remat
def swish_beta(x: ArrayLike, beta: ArrayLike = 1.0) -> Array:
    r"""Swish with a (learnable) slope ``beta``.

    .. math::
      f(x) = x\,\sigma(\beta x), \qquad
      \frac{\partial f}{\partial x} = \sigma(\beta x) + \beta x\,\sigma'(\beta x), \qquad
      \frac{\partial f}{\partial \beta} = x^2 \sigma'(\beta x)

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
    return finish(_swish_beta(x, beta), dtype)


# e_swish: f = beta x sigma(x).


def _e_swish_d1(x: Array, beta: Array) -> Array:
    return beta * _silu_d1(x)


def _e_swish_dparams(x: Array, beta: Array) -> tuple[Array]:
    return (_silu_value(x),)


_e_swish = rule(lambda x, beta: beta * _silu_value(x), _e_swish_d1, _e_swish_dparams)


@half_remat
def e_swish(x: ArrayLike, beta: ArrayLike = 1.0) -> Array:
    r"""E-swish: SiLU scaled by ``beta``.

    .. math::
      f(x) = \beta x\,\sigma(x), \qquad
      f'(x) = \beta\,(\sigma(x) + x\,\sigma(x)\sigma(-x)), \qquad
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
    xn = _ops.clip(x, -_BIG, 0.0)
    xp = _ops.clip(x, 0.0, _BIG)
    e = _math.exp(xn)
    s = 1 + e
    q = e * (e + 2) + 2
    u = _math.exp(-xp)
    qq = 1 + 2 * u * (1 + u)
    return xn, xp, e, s, q, u, qq


def _tanh_sp_pos_parts(u: Array, ul: Array) -> tuple[Array, Array, Array, Array]:
    """``tanh(softplus(x)) = (1 + 2u) / (1 + 2u + 2u^2)`` for ``u + ul = e^{-x} <= 1``:
    numerator and denominator as double words."""
    u2 = 2 * u
    nh = 1.0 + u2
    nl = _ops.where(u2 <= 1, (1.0 - nh) + u2, (u2 - nh) + 1.0) + 2 * ul
    vh, vl = two_prod(u, u)
    dh, dl = two_sum(nh, 2 * vh)
    dl = dl + (nl + (2 * vl + 4 * u * ul))
    return nh, nl, dh, dl


def _mish_exp(x: Array) -> tuple[Array, Array, Array, Array]:
    """One exponential for mish: ``w = e^{-|x|}`` (double word) for ``x >= -40``;
    below, ``e^{x + 64}`` (the far tail is ``x e^x``, formed as in _exp_times).

    Returns ``(far, xt, wh, wl)`` with ``xt`` the clamped far-tail argument.
    """
    c = _math._c(x)
    far = x < -_T
    xt = _ops.clip(x, -_BIG, -_T)
    arg = _ops.where(far, jnp.maximum(xt + 64.0, c.exp_lo), -jnp.abs(_ops.clip(x, -_T, _T)))
    wh, wl = _exp_dw(arg)
    return far, xt, wh, wl


def _mish_ratio(x: Array, wh: Array, wl: Array) -> Array:
    """``tanh(softplus(x))`` from ``w = e^{-|x|}`` with one double-word division."""
    pos = x > 0
    parts = zip(_tanh_sp_pos_parts(wh, wl), _tanh_log1p_parts(wh, wl), strict=True)
    return _dw_div(*(_ops.where(pos, p, n) for p, n in parts))


def _mish_value(x: Array) -> Array:
    # x tanh(sp(x)) with e^{-|x|} as a double word and the ratio rounded once;
    # far tail x e^x (tanh(sp(x)) = e^x to the last bit of float64 below -40).
    far, xt, wh, wl = _mish_exp(x)
    hi, lo = _EXP_M64[jnp.dtype(x.dtype)]
    q = xt * wh
    return _ops.where(far, q * hi + q * lo, x * _mish_ratio(x, wh, wl))


def _mish_d1_value(x: Array) -> Array:
    far, xt, w, _ = _mish_exp(x)
    hi, lo = _EXP_M64[jnp.dtype(x.dtype)]
    # x <= 0, e = w: (e + 2)/q + 4 x s/q^2 times e, q = e(e + 2) + 2, s = 1 + e.
    xn = jnp.minimum(x, 0.0)
    q = w * (w + 2) + 2
    neg = ((w + 2) / q + 4 * xn * (1 + w) / (q * q)) * w
    # x > 0, u = w: 1 + (4x(1 + u) - 2Q)/Q^2 u^2, Q = 1 + 2u(1 + u).
    xp = _ops.clip(x, 0.0, _T)
    qq = 1 + 2 * w * (1 + w)
    pos = 1 + ((4 * xp * (1 + w) - 2 * qq) / (qq * qq) * w) * w
    # far tail: (1 + x) e^x.
    p = (1 + xt) * w
    return _ops.where(far, p * hi + p * lo, _ops.where(x > 0, pos, neg))


def _mish_d2_value(x: Array) -> Array:
    xn, xp, e, s, q, u, qq = _mish_parts(x)
    bn = 2 * s + xn * (2 + e * (2 - e * (3 + 2 * e))) / q
    neg = _exp_times(4 * bn / (q * q), xn)
    bp = 2 * (1 + u) + xp * (u * (u * (2 * u + 2) - 3) - 2) / qq
    pos = (4 * bp / (qq * qq) * u) * u
    return _ops.where(x > 0, pos, neg)


_mish_d1 = rule(_mish_d1_value, _mish_d2_value)
_mish = rule(_mish_value, _mish_d1, together=True)


@half_remat
def mish(x: ArrayLike) -> Array:
    r"""Mish: a self-regularized non-monotonic activation.

    .. math::
      f(x) = x \tanh(\mathrm{softplus}(x)), \qquad
      f'(x) = \tanh(\mathrm{sp}(x)) + x\,\sigma(x)\,\mathrm{sech}^2(\mathrm{sp}(x))

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
    zc = _ops.clip(z, -_BIG, _BIG)
    s = _math.logistic(zc)
    m = s * (s + 2)
    a = 4 / ((m + 2) * (m + 2))
    return z, zc, s, m, a


def _smish_value(x: Array, alpha: Array, beta: Array) -> Array:
    z, zc, s, m, _ = _smish_parts(x, beta)
    zt = _ops.clip(z, -_BIG, -_T)
    tail = _exp_times((zt / beta) * (s + 2) / (m + 2), zt)
    sh, sl = _logistic_dw(_ops.clip(z, -_T, _T))
    return alpha * _ops.where(z < -_T, tail, x * _tanh_log1p(sh, sl))


def _smish_d1_value(x: Array, alpha: Array, beta: Array) -> Array:
    z, zc, s, m, a = _smish_parts(x, beta)
    zt = _ops.clip(z, -_BIG, -_T)
    tail = _exp_times((s + 2) / (m + 2) + zt * a * (1 + s), zt)
    main = m / (m + 2) + zc * a * (1 + s) * _math.logistic_prime(zc)
    return alpha * _ops.where(z < -_T, tail, main)


def _smish_d2_value(x: Array, alpha: Array, beta: Array) -> Array:
    z, zc, s, m, a = _smish_parts(x, beta)
    s1 = _math.logistic_prime(zc)
    b = 2 * (1 + s) - zc * (s1 * (s * (3 * s + 6) + 2) / (m + 2) + (1 + s) * _math.tanh(0.5 * zc))
    return alpha * beta * _sigmoid_prime_times(a * b, zc)


def _smish_dparams(x: Array, alpha: Array, beta: Array) -> tuple[Array, Array]:
    # df/dalpha = f / alpha; df/dbeta = alpha x^2 A (1 + s) sigma'(z).
    _, zc, s, _, a = _smish_parts(x, beta)
    xc = _ops.clip(x, -_BIG / beta, _BIG / beta)
    one = jnp.ones_like(alpha)
    return _smish_value(x, one, beta), alpha * (a * (1 + s)) * xc * _sigmoid_prime_times(xc, zc)


def _smish_d1_dparams(x: Array, alpha: Array, beta: Array) -> tuple[Array, Array]:
    # f' = alpha g(beta x): d/dalpha = g, d/dbeta = alpha x g' = x f'' / beta.
    one = jnp.ones_like(alpha)
    xc = _ops.clip(x, -_BIG / beta, _BIG / beta)
    return _smish_d1_value(x, one, beta), xc * (_smish_d2_value(x, alpha, beta) / beta)


_smish = _smooth(_smish_value, _smish_d1_value, _smish_d2_value, _smish_dparams, _smish_d1_dparams)


@half_remat
def smish(x: ArrayLike, alpha: ArrayLike = 1.0, beta: ArrayLike = 1.0) -> Array:
    r"""Smish: ``alpha x tanh(log(1 + sigmoid(beta x)))``.

    .. math::
      f(x) = \alpha x \tanh(\log(1 + \sigma(\beta x))), \qquad
      f'(x) = \alpha\left(T + z\,\frac{4(1+s)\,\sigma'(z)}{(m+2)^2}\right)

    with :math:`z = \beta x`, :math:`s = \sigma(z)`, :math:`m = s(s+2)` and
    :math:`T = \tanh(\log(1+s)) = m/(m+2)` (no ``log`` is evaluated).
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
    xm = _ops.clip(x, -_T, _BIG)
    hi, lo = two_sum(jnp.maximum(xm, 0.0), _math.log1p(_math.exp(-jnp.abs(xm))))
    big_e = _exp_neg_sq(hi, lo)
    erf_sp = _math.erf(hi) + _K * big_e * lo
    return xm, hi, lo, big_e, erf_sp


def _serf_value(x: Array) -> Array:
    xt = _ops.clip(x, -_BIG, -_T)
    _, _, _, _, erf_sp = _serf_parts(x)
    return _ops.where(x < -_T, _K * _exp_times(xt, xt), x * erf_sp)


def _serf_d1_value(x: Array) -> Array:
    xt = _ops.clip(x, -_BIG, -_T)
    xm, _, _, big_e, erf_sp = _serf_parts(x)
    main = erf_sp + _K * xm * big_e * _math.logistic(xm)
    return _ops.where(x < -_T, _K * _exp_times(1 + xt, xt), main)


def _serf_d2_value(x: Array) -> Array:
    xt = _ops.clip(x, -_BIG, -_T)
    xm, sp, sp_lo, _, _ = _serf_parts(x)
    sig = _math.logistic(xm)
    inner = 2 * sig + xm * (_math.logistic_prime(xm) - 2 * sig * sig * sp)
    # e^{-sp^2} alone is subnormal in float32 from x ~ 9.4, where f'' is still normal.
    main = _exp_neg_sq_times(_K * inner, sp, sp_lo)
    return _ops.where(x < -_T, _K * _exp_times(2 + xt, xt), main)


_serf = _smooth(_serf_value, _serf_d1_value, _serf_d2_value)


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
    xm = _ops.clip(x, -_T, 7.0)
    eh, el = _exp_dw(xm)
    w = _math.exp(-2 * eh) * (1 - 2 * el)
    d = 1 + w
    th = _math.tanh(eh) + el * (4 * w / (d * d))
    return xm, eh, el, w, d, th


def _telu_value(x: Array) -> Array:
    xt = _ops.clip(x, -_BIG, -_T)
    xm, _, _, _, _, th = _telu_parts(x)
    main = _ops.where(x > 4, x, xm * th)
    return _ops.where(x < -_T, _exp_times(xt, xt), main)


def _telu_d1_value(x: Array) -> Array:
    xt = _ops.clip(x, -_BIG, -_T)
    xm, eh, _, w, d, th = _telu_parts(x)
    main = th + xm * eh * (4 * w / (d * d))
    return _ops.where(x < -_T, _exp_times(1 + xt, xt), _ops.where(x > 7, 1.0, main))


def _telu_d2_value(x: Array) -> Array:
    xt = _ops.clip(x, -_BIG, -_T)
    xm, eh, el, _, d, th = _telu_parts(x)
    # E sech^2(E) (2 + x - 2 x E tanh E), with e^{-2E} kept normal while f'' is.
    p = 4 * eh * (2 + xm - 2 * xm * eh * th) / (d * d)
    main = _exp_times(p, -2 * eh, -2 * el)
    return _ops.where(x < -_T, _exp_times(2 + xt, xt), _ops.where(x > 7, 0.0, main))


_telu = _smooth(_telu_value, _telu_d1_value, _telu_d2_value)


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


# lisht: f = x tanh(x).


def _lisht_d1_value(x: Array) -> Array:
    xm = _ops.clip(x, -_BIG, _BIG)
    # f' = 2x to the last bit for |x| < 1e-20; 2x of a subnormal x (which XLA:CPU
    # reads as 0) is a normal number.
    small = jnp.abs(x) < 1e-20
    return _ops.where(small, unflushed_times(2.0, x), _math.tanh(xm) + xm * tanh_prime(xm))


def _lisht_d2_value(x: Array) -> Array:
    ax = jnp.abs(x)
    at = _ops.clip(ax, 20.0, _BIG)
    xm = _ops.clip(x, -20.0, 20.0)
    main = 2 * tanh_prime(xm) * (1 - xm * _math.tanh(xm))
    return _ops.where(ax > 20, _exp_times(8 * (1 - at), -2 * at), main)


_lisht = _smooth(lambda x: x * _math.tanh(x), _lisht_d1_value, _lisht_d2_value)


@half_remat
def lisht(x: ArrayLike) -> Array:
    r"""LiSHT: linearly scaled hyperbolic tangent, ``x tanh(x)``.

    .. math::
      f(x) = x \tanh x, \qquad f'(x) = \tanh x + x\,\mathrm{sech}^2 x, \qquad
      f''(x) = 2\,\mathrm{sech}^2 x\,(1 - x \tanh x)

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.lisht(1.0)), 6)
      0.761594

    References:
      Roy, Manna, Dubey, Chaudhuri 2019, LiSHT: Non-Parametric Linearly Scaled
      Hyperbolic Tangent Activation Function for Neural Networks, arXiv 1901.05894.
    """
    x, dtype = prepare(x, "lisht")
    return finish(_lisht(x), dtype)


# elish: x sigma(x) for x >= 0, expm1(x) sigma(x) for x < 0.


def _elish_left(x: Array):
    xl = _ops.clip(x, -_BIG, 0.0)
    return _math.exp(xl), _math.expm1(xl), _math.logistic(xl), _math.logistic_prime(xl), xl


def _elish_value(x: Array) -> Array:
    _, em, sig, _, _ = _elish_left(x)
    return _ops.where(negative(x), em * sig, _silu_value(x))


def _elish_d1_value(x: Array) -> Array:
    e, em, sig, s1, _ = _elish_left(x)
    return _ops.where(negative(x), e * sig + em * s1, _silu_d1_value(x))


def _elish_d2_value(x: Array) -> Array:
    e, em, sig, s1, xl = _elish_left(x)
    left = e * sig + 2 * e * s1 - em * s1 * _math.tanh(0.5 * xl)
    return _ops.where(negative(x), left, _silu_d2_value(x))


_elish = _smooth(_elish_value, _elish_d1_value, _elish_d2_value)


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


# smu: ((1 + alpha) x + (1 - alpha) x erf(y)) / 2, y = mu (1 - alpha) x, with y
# and y^2 carried as exact double words.


def _smu_parts(x: Array, alpha: Array, mu: Array):
    one = jnp.ones_like(x)
    a = alpha * one
    om = 1.0 - a
    om_lo = _ops.where(jnp.abs(a) <= 1, (1.0 - om) - a, (-a - om) + 1.0)
    c, c_lo = two_prod(mu * one, om)
    c_lo = c_lo + mu * om_lo
    xc = _ops.clip(x, -1e30, 1e30)
    y, y_lo = two_prod(c, xc)
    y_lo = y_lo + c_lo * xc
    far = jnp.abs(y) > _BIG
    yc = _ops.clip(y, -_BIG, _BIG)
    ylc = _ops.where(far, 0.0, y_lo)
    big_e = _exp_neg_sq(yc, ylc)
    return om, c, y, yc, ylc, big_e


def _smu_gate(alpha, om, y, ylc, big_e):
    """2 f / x: (1 + alpha) + (1 - alpha) erf(y), without cancellation for y < 0."""
    pos = (1 + alpha) + om * (_math.erf(y) + _K * big_e * ylc)
    neg = 2 * alpha + om * (_math.erfc(-y) + _K * big_e * ylc)
    return _ops.where(y < 0, neg, pos)


def _smu_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, _, y, _, ylc, big_e = _smu_parts(x, alpha, mu)
    # x (g / 2), not (x / 2) g: x / 2 is subnormal for x just above the smallest normal.
    return x * (0.5 * _smu_gate(alpha, om, y, ylc, big_e))


def _smu_d1_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, _, y, yc, ylc, big_e = _smu_parts(x, alpha, mu)
    g = _smu_gate(alpha, om, y, ylc, big_e)
    return 0.5 * (g + om * _K * (yc + ylc) * big_e)


def _smu_d2_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, c, _, yc, ylc, _ = _smu_parts(x, alpha, mu)
    return _exp_neg_sq_times((_K * om * c) * ((1 - yc - ylc) * (1 + yc + ylc)), yc, ylc)


def _smu_dparams(x: Array, alpha: Array, mu: Array) -> tuple[Array, Array]:
    om, _, y, yc, ylc, big_e = _smu_parts(x, alpha, mu)
    erfc_y = _ops.where(y < 0, 2 - _math.erfc(-y), _math.erfc(y))
    xc = _ops.clip(x, -1e30, 1e30)
    d_alpha = 0.5 * x * (erfc_y - _K * yc * big_e)
    d_mu = (om * om / math.sqrt(math.pi)) * xc * (xc * big_e)
    return d_alpha, d_mu


def _smu_d1_dparams(x: Array, alpha: Array, mu: Array) -> tuple[Array, Array]:
    # With E = e^{-y^2}: df'/dmu = (1 - alpha)^2 K x E (1 - y^2) = x f'' / mu and
    # df'/dalpha = (erfc(y) - K y E) / 2 - mu (1 - alpha) K x E (1 - y^2).
    om, _, y, yc, ylc, big_e = _smu_parts(x, alpha, mu)
    erfc_y = _ops.where(y < 0, 2 - _math.erfc(-y), _math.erfc(y))
    xc = _ops.clip(x, -1e30, 1e30)
    t = _exp_neg_sq_times(_K * xc * ((1 - yc - ylc) * (1 + yc + ylc)), yc, ylc)
    return 0.5 * (erfc_y - _K * yc * big_e) - (mu * om) * t, (om * om) * t


_smu = _smooth(_smu_value, _smu_d1_value, _smu_d2_value, _smu_dparams, _smu_d1_dparams)


@half_remat
def smu(x: ArrayLike, alpha: ArrayLike = 0.01, mu: ArrayLike = 2.5) -> Array:
    r"""SMU: smooth maximum unit (the erf smoothing of leaky relu).

    .. math::
      f(x) = \tfrac12\left((1+\alpha)x + (1-\alpha)x\,\mathrm{erf}(\mu(1-\alpha)x)\right),
      \qquad
      f''(x) = \tfrac{2}{\sqrt\pi}(1-\alpha)c\,e^{-c^2x^2}(1 - c^2x^2),\quad c = \mu(1-\alpha)

    :math:`\partial f/\partial\mu = (1-\alpha)^2x^2e^{-c^2x^2}/\sqrt\pi`. For
    ``x < 0`` the gate is evaluated as ``2 alpha + (1 - alpha) erfc(-c x)``, so the
    leaky tail keeps its precision. ``mu`` is learnable in the paper (init 2.5).

    Args:
      x: input array.
      alpha: slope for ``x -> -inf`` (differentiable).
      mu: positive smoothing parameter (differentiable; large ``mu`` tends to
        leaky relu).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.smu(1.0)), 6)
      0.99977

    References:
      Biswas, Banerjee, Pandey 2021, SMU: smooth activation function for deep
      networks using smoothing maximum technique, arXiv 2111.04682.
    """
    x, dtype = prepare(x, "smu")
    alpha = param(alpha, "smu", "alpha", x)
    mu = param(mu, "smu", "mu", x, positive=True)
    return finish(_smu(x, alpha, mu), dtype)


# smu1: ((1 + alpha) x + sqrt((1 - alpha)^2 x^2 + mu^2)) / 2, with the square root
# as a hypot and the x < 0 side written without cancellation.


def _hypot(a: Array, b: Array) -> Array:
    a, b = jnp.abs(a), jnp.abs(b)
    hi, lo = jnp.maximum(a, b), jnp.minimum(a, b)
    safe = _ops.where(hi > 0, hi, 1.0)
    ratio = lo / safe
    return nan_like(hi, _ops.where(hi > 0, safe * jnp.sqrt(1 + ratio * ratio), 0.0))


def _smu1_parts(x: Array, alpha: Array, mu: Array, clamp: bool = True):
    om = 1 - alpha
    big = float(jnp.finfo(x.dtype).max) / 4
    v = jnp.abs(om * (_ops.clip(x, -big, big) if clamp else x))
    r = _hypot(v, mu * jnp.ones_like(x))
    return om, v, r


def _smu1_value(x: Array, alpha: Array, mu: Array) -> Array:
    _, v, r = _smu1_parts(x, alpha, mu, clamp=False)
    pos = (0.5 * (1 + alpha)) * x + 0.5 * r
    neg = alpha * x + 0.5 * mu * (mu / (r + v))
    return _ops.where(negative(x), neg, pos)


def _smu1_d1_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, v, r = _smu1_parts(x, alpha, mu)
    pos = 0.5 * ((1 + alpha) + om * (v / r))
    neg = alpha + 0.5 * om * (mu / r) * (mu / (r + v))
    return _ops.where(negative(x), neg, pos)


def _smu1_d2_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, _, r = _smu1_parts(x, alpha, mu)
    k = om * (mu / r)
    return 0.5 * k * (k / r)


def _smu1_dparams(x: Array, alpha: Array, mu: Array) -> tuple[Array, Array]:
    _, v, r = _smu1_parts(x, alpha, mu)
    pos = 0.5 * x * (mu / r) * (mu / (r + v))
    neg = 0.5 * x * (1 + v / r)
    return _ops.where(negative(x), neg, pos), 0.5 * (mu / r)


_smu1 = _smooth(_smu1_value, _smu1_d1_value, _smu1_d2_value, _smu1_dparams)


@half_remat
def smu1(x: ArrayLike, alpha: ArrayLike = 0.01, mu: ArrayLike = 4.332461424154261e-9) -> Array:
    r"""SMU-1: smooth maximum unit (the square-root smoothing of leaky relu).

    .. math::
      f(x) = \tfrac12\left((1+\alpha)x + \sqrt{(1-\alpha)^2x^2 + \mu^2}\right), \qquad
      f'(x) = \tfrac12\left(1 + \alpha + \frac{(1-\alpha)^2 x}{r}\right), \qquad
      f''(x) = \frac{(1-\alpha)^2\mu^2}{2r^3}

    with :math:`r = \sqrt{(1-\alpha)^2x^2 + \mu^2}` evaluated as a hypot (no
    overflow of ``x^2``); for ``x < 0``,
    :math:`f = \alpha x + \mu^2 / (2(r + (1-\alpha)|x|))` (no cancellation).
    :math:`\partial f/\partial\mu = \mu/(2r)`.

    Args:
      x: input array.
      alpha: slope for ``x -> -inf`` (differentiable).
      mu: positive smoothing parameter (differentiable; learnable in the paper).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.smu1(1.0)), 6)
      1.0

    References:
      Biswas, Banerjee, Pandey 2021, SMU: smooth activation function for deep
      networks using smoothing maximum technique, arXiv 2111.04682.
    """
    x, dtype = prepare(x, "smu1")
    alpha = param(alpha, "smu1", "alpha", x)
    mu = param(mu, "smu1", "mu", x, positive=True)
    return finish(_smu1(x, alpha, mu), dtype)


_RAMACHANDRAN = "Ramachandran, Zoph, Le 2017, Searching for Activation Functions, arXiv 1710.05941"
_SMU = (
    "Biswas, Banerjee, Pandey 2021, SMU: smooth activation function for deep networks "
    "using smoothing maximum technique, arXiv 2111.04682"
)

SPECS = (
    Spec("silu", silu, "swish", bounded_below=True, paper=_RAMACHANDRAN),
    Spec("swish_beta", swish_beta, "swish", {"beta": 1.0}, bounded_below=True, paper=_RAMACHANDRAN),
    Spec(
        "e_swish",
        e_swish,
        "swish",
        {"beta": 1.0},
        bounded_below=True,
        paper="Alcaide 2018, E-swish: Adjusting Activations to Different Network Depths, "
        "arXiv 1801.07145",
    ),
    Spec(
        "mish",
        mish,
        "swish",
        bounded_below=True,
        paper="Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function, "
        "arXiv 1908.08681",
    ),
    Spec(
        "smish",
        smish,
        "swish",
        {"alpha": 1.0, "beta": 1.0},
        bounded_below=True,
        paper="Wang, Ren, Wang 2022, Smish: A Novel Activation Function for Deep Learning "
        "Methods, Electronics 11(4) 540",
    ),
    Spec(
        "serf",
        serf,
        "swish",
        bounded_below=True,
        paper="Nag, Bhattacharyya 2021, SERF: Towards better training of deep neural networks "
        "using log-Softplus ERror activation Function, arXiv 2108.09598",
    ),
    Spec(
        "telu",
        telu,
        "swish",
        bounded_below=True,
        paper="Fernandez, Mali 2024, Revisiting the Mathematical Foundations of Activation "
        "Functions: TeLU, arXiv 2412.20269",
    ),
    Spec(
        "lisht",
        lisht,
        "swish",
        bounded_below=True,
        paper="Roy, Manna, Dubey, Chaudhuri 2019, LiSHT: Non-Parametric Linearly Scaled "
        "Hyperbolic Tangent Activation Function for Neural Networks, arXiv 1901.05894",
    ),
    Spec(
        "elish",
        elish,
        "swish",
        bounded_below=True,
        smooth=False,
        kinks=(Kink(0.0, 2, 0.5),),
        paper="Basirat, Roth 2018, The Quest for the Golden Activation Function, arXiv 1808.00783",
    ),
    Spec(
        "smu",
        smu,
        "swish",
        {"alpha": 0.01, "mu": 2.5},
        zero_centred=True,
        paper=_SMU,
    ),
    Spec(
        "smu1",
        smu1,
        "swish",
        {"alpha": 0.01, "mu": 4.332461424154261e-9},
        monotonic=True,
        paper=_SMU,
    ),
)
