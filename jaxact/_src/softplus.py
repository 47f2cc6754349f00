"""Softplus family: smooth maxima, ``max(x, 0)`` or ``max(x, alpha x)`` rounded off.

softplus, its algebraic and piecewise relatives (sqrt_softplus, squareplus,
sparse_plus, SmeLU) and the smooth maximum units SMU (an erf blend) and SMU-1
(a square-root blend) of ``x`` and ``alpha x``.
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
    nan_like,
    negative,
    param,
    prepare,
    rule,
    smooth_rule,
)
from jaxact._src.exact import two_prod, two_sum
from jaxact._src.registry import Kink, library_function, register
from jaxact._src.sigmoid import sigmoid_rule

Array = jax.Array

__all__ = ["softplus", "sqrt_softplus", "squareplus", "sparse_plus", "smelu", "smu", "smu1"]

_SMU = (
    "Biswas, Banerjee, Pandey 2021, SMU: smooth activation function for deep networks "
    "using smoothing maximum technique, arXiv 2111.04682"
)
_K = 2 / math.sqrt(math.pi)  # erf' = _K e^{-y^2}


def _scaled(x: Array, beta: Array) -> tuple[Array, Array]:
    """beta * x as z + dz exactly (dz = 0 where z is not finite)."""
    p, e = two_prod(beta, x)
    ok = jnp.isfinite(p) & jnp.isfinite(e)
    return ops.where(ok, p, beta * x), ops.where(ok, e, jnp.zeros_like(e))


def _softplus_value(x: Array, beta: Array) -> Array:
    # relu(x) + softplus(-beta |x|) / beta: no overflow of beta x at large |x|;
    # the rounding error dz of beta |x| is put back to first order, so the tail
    # e^{beta x} keeps its relative precision for any beta.
    z, dz = _scaled(jnp.abs(x), beta)
    tail = elementary.softplus(-z) - elementary.logistic(-z) * dz
    return jnp.maximum(x, 0) + tail / beta


def _softplus_d1_value(x: Array, beta: Array) -> Array:
    z, dz = _scaled(x, beta)
    return elementary.logistic(z) + elementary.logistic_prime(z) * dz


def _softplus_d2(x: Array, beta: Array) -> Array:
    z, dz = _scaled(x, beta)
    p = elementary.logistic_prime(z)
    return beta * (p - p * elementary.tanh(0.5 * z) * dz)


def _softplus_d1_dparams(x: Array, beta: Array) -> tuple[Array]:
    return (x * _softplus_d2(x, beta) / beta,)


def _softplus_dparams(x: Array, beta: Array) -> tuple[Array]:
    # d/dbeta softplus(beta x)/beta = (z sigma(z) - softplus(z)) / beta^2, z = beta x,
    # with both terms of one sign: -z sigma(-z) - softplus(-z) for z > 0.
    z = beta * x
    az = jnp.abs(z)
    g = -az * elementary.logistic(-az) - elementary.softplus(-az)
    return (
        ops.where(z > 0, g, z * elementary.logistic(z) - elementary.softplus(z)) / (beta * beta),
    )


_softplus_d1 = rule(_softplus_d1_value, _softplus_d2, _softplus_d1_dparams)
_softplus = rule(_softplus_value, _softplus_d1, _softplus_dparams)
# beta = 1 given as a Python number (the default): no scaling, no correction term.
_softplus_unit = rule(elementary.softplus, sigmoid_rule)


def _softplus_threshold_value(x: Array, beta: Array, threshold: Array) -> Array:
    return ops.where(beta * x > threshold, x, _softplus(x, beta))


def _softplus_threshold_d1(x: Array, beta: Array, threshold: Array) -> Array:
    return ops.where(beta * x > threshold, jnp.ones_like(x), sigmoid_rule(beta * x))


_softplus_threshold = rule(_softplus_threshold_value, _softplus_threshold_d1)


@register(
    params={"beta": 1.0},
    domain={"beta": "(0, inf)", "threshold": "[-inf, inf]"},
    monotonic=True,
    bounded_below=True,
    paper="Dugas et al. 2001, Incorporating Second-Order Functional Knowledge for Better "
    "Option Pricing",
    names={"jax flax keras": "softplus"},
    presets={
        "torch:softplus": {"beta": 1.0, "threshold": 20.0},
        "torch:Softplus": {"beta": 1.0, "threshold": 20.0},
    },
    torch=("softplus", {}),
)
@half_remat
def softplus(x: ArrayLike, beta: ArrayLike = 1.0, threshold: ArrayLike | None = None) -> Array:
    r"""Softplus, a smooth ReLU.

    .. math::
      f(x) = \frac{1}{\beta}\log(1 + e^{\beta x}), \qquad
      f'(x) = \sigma(\beta x), \qquad f''(x) = \beta\,\sigma(\beta x)\sigma(-\beta x)

    Evaluated as ``max(z, 0) + log1p(exp(-|z|))`` (``z = beta x``), so it never
    overflows. ``softplus(x)`` is ``jax.nn.softplus``. ``beta`` is PyTorch's
    ``Softplus(beta)``; ``threshold`` reproduces PyTorch's switch to the identity
    where ``beta * x > threshold`` (``torch.nn.Softplus`` uses ``threshold=20``);
    with ``threshold=None`` (the default) there is no switch.

    Args:
      x: input array.
      beta: positive sharpness (differentiable).
      threshold: optional PyTorch-style linear switch point for ``beta * x``.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.softplus(0.0)), 6)
      0.693147

    References:
      Dugas, Bengio, Belisle, Nadeau, Garcia 2001, Incorporating Second-Order
      Functional Knowledge for Better Option Pricing.
    """
    x, dtype = prepare(x, "softplus")
    beta = param(beta, "softplus", "beta", x, positive=True)
    if threshold is None and isinstance(beta, float) and beta == 1.0:
        return finish(_softplus_unit(x), dtype)
    if isinstance(beta, float):
        # In x's dtype, as a Python number would be rounded anyway: under x64 the
        # error-free product of a float64 beta with float32 x mixed the two dtypes.
        beta = jnp.asarray(beta, x.dtype)
    if threshold is None:
        return finish(_softplus(x, beta), dtype)
    threshold = param(threshold, "softplus", "threshold", x)
    return finish(_softplus_threshold(x, beta, threshold), dtype)


# sqrt_softplus: below _SQRT_SP_CUT, sp(x) = e^x (1 - e^x/2 + ...) and sigma(x) = e^x (1 - ...),
# so f, f', f'' are e^{x/2}, e^{x/2}/2, e^{x/2}/4 to far below an ulp of float64; using
# them there avoids sp and sigma underflowing together (0/0 in f').
_SQRT_SP_CUT = -40.0


def _sqrt_softplus_value(x: Array) -> Array:
    tail = x < _SQRT_SP_CUT
    xs = ops.where(tail, 0.0, x)
    return ops.where(tail, elementary.exp(0.5 * x), jnp.sqrt(elementary.softplus(xs)))


def _sqrt_softplus_d1_value(x: Array) -> Array:
    tail = x < _SQRT_SP_CUT
    xs = ops.where(tail, 0.0, x)
    main = elementary.logistic(xs) / (2 * jnp.sqrt(elementary.softplus(xs)))
    return ops.where(tail, 0.5 * elementary.exp(0.5 * x), main)


def _sqrt_softplus_d2(x: Array) -> Array:
    # f'' = sigma'/(2 f) - f'^2 / f (no f^3 that could overflow).
    tail = x < _SQRT_SP_CUT
    xs = ops.where(tail, 0.0, x)
    f = jnp.sqrt(elementary.softplus(xs))
    d1 = elementary.logistic(xs) / (2 * f)
    main = elementary.logistic_prime(xs) / (2 * f) - d1 * (d1 / f)
    return ops.where(tail, 0.25 * elementary.exp(0.5 * x), main)


_sqrt_softplus_d1 = rule(_sqrt_softplus_d1_value, _sqrt_softplus_d2)
_sqrt_softplus = rule(_sqrt_softplus_value, _sqrt_softplus_d1)


@register(
    monotonic=True,
    bounded_below=True,
    paper="transformers activations.py SqrtSoftplus",
    names={"transformers": "sqrtsoftplus"},
)
@half_remat
def sqrt_softplus(x: ArrayLike) -> Array:
    r"""Square root of softplus (transformers' ``sqrtsoftplus``).

    .. math::
      f(x) = \sqrt{\operatorname{sp}(x)}, \qquad
      f'(x) = \frac{\sigma(x)}{2 f(x)}, \qquad
      f''(x) = \frac{\sigma(x)\sigma(-x)}{2 f(x)} - \frac{f'(x)^2}{f(x)}

    with :math:`\operatorname{sp}(x) = \log(1 + e^x)`. For :math:`x < -40` the
    asymptotes :math:`e^{x/2}`, :math:`e^{x/2}/2`, :math:`e^{x/2}/4` are used (exact
    to the last bit there), so the tail never gives ``0/0``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.sqrt_softplus(0.0)), 6)
      0.832555

    References:
      transformers ``activations.py`` (``SqrtSoftplus``); softplus: Dugas et al. 2001.
    """
    x, dtype = prepare(x, "sqrt_softplus")
    return finish(_sqrt_softplus(x), dtype)


_TORCH_SOFTPLUS_THRESHOLD = 20.0  # torch's softplus is the identity above it


@library_function("sqrt_softplus", names={"transformers": "sqrtsoftplus"})
def sqrt_softplus_torch(x: ArrayLike) -> Array:
    r"""transformers' ``sqrtsoftplus``: ``sqrt(softplus(x))`` with torch's softplus.

    Torch's softplus is the identity above ``x = 20``, so this is ``sqrt(x)`` there
    (``f' = 1 / (2 sqrt(x))``) and :func:`sqrt_softplus` elsewhere; the two differ by
    ``e^{-x} / (2 x)`` relative above 20 (below float32's resolution, ~10^5 float64
    ulps at 20).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.get("transformers:sqrtsoftplus")(25.0))
      5.0
    """
    x, dtype = prepare(x, "sqrtsoftplus")
    above = x > _TORCH_SOFTPLUS_THRESHOLD
    root = jnp.sqrt(ops.where(above, x, _TORCH_SOFTPLUS_THRESHOLD))
    return finish(ops.where(above, root, _sqrt_softplus(x)), dtype)


# squareplus: s = sqrt(x^2 + b) is formed as a hypot (no x^2 overflow); for x < 0,
# f = b / (2 (s - x)) and f' = b / (2 s (s - x)) avoid the cancellation of x + s.


def _squareplus_parts(x: Array, b: Array) -> tuple[Array, Array, Array]:
    """(|x|, sqrt(b), s) with s = sqrt(x^2 + b) computed without overflow."""
    a = jnp.abs(x)
    b = jnp.asarray(b, x.dtype) + jnp.zeros_like(x)
    rb = jnp.sqrt(b)
    big = a > 2.0**60
    a_big = ops.where(big, a, 1.0)
    a_small = ops.where(big, 0.0, a)
    s_big = a * jnp.sqrt(1 + jnp.square(rb / a_big))
    s_small = jnp.sqrt(a_small * a_small + b)
    # b = 0 is relu: s = |x| exactly (a * a would flush for tiny x).
    s = ops.where(big, s_big, ops.where(b > 0, s_small, a))
    return a, rb, s


def _squareplus_value(x: Array, b: Array) -> Array:
    a, _, s = _squareplus_parts(x, b)
    b = jnp.asarray(b, x.dtype) + jnp.zeros_like(x)
    # s = sqrt(a^2 + b) is correct to ~1 ulp of s, which is up to 2 ulp of f = b / (2(s + a))
    # when f is just below a power of 2; one exact-residual correction s_lo fixes that.
    ok = (a < 2.0**60) & (s > 0)
    a_s = ops.where(ok, a, 0.0)
    s_s = ops.where(ok, s, 1.0)
    p1, e1 = two_prod(a_s, a_s)
    p2, e2 = two_prod(s_s, s_s)
    r = ops.where(p1 >= b, b - (p2 - p1), (b - p2) + p1) + (e1 - e2)
    s_lo = ops.where(ok, r / (2 * s_s), 0.0)
    den, den_lo = two_sum(s, a)
    den_lo = ops.where(jnp.isfinite(den_lo), den_lo + s_lo, 0.0)
    den_s = ops.where(den > 0, den, 1.0)
    neg = ops.where(den > 0, 0.5 * (b / den_s) * (1 - den_lo / den_s), 0.0)
    # x + s would overflow at the top of the range (XLA folds 0.5 x + 0.5 s back into it).
    top = ops.where(jnp.isinf(x), x, x + 0.5 * (s - ops.where(jnp.isinf(x), 0.0, x)))
    pos = ops.where(a > 1, top, 0.5 * (x + s))
    return ops.where(negative(x), neg, pos)


def _squareplus_d1_value(x: Array, b: Array) -> Array:
    a, rb, s = _squareplus_parts(x, b)
    pos_s = s > 0
    s_s = ops.where(pos_s, s, 1.0)
    neg = 0.5 * (rb / s_s) * (rb / ops.where(pos_s, s + a, 1.0))
    pos = 0.5 * (1 + ops.where(jnp.isinf(a), 1.0, a / s_s))
    d = ops.where(negative(x), neg, pos)
    # b = 0 is relu: f'(0) = 0 (the flat piece owns the corner, relu's jax.nn value).
    return nan_like(x, ops.where(pos_s, d, 0.0))


def _squareplus_d2(x: Array, b: Array) -> Array:
    _, rb, s = _squareplus_parts(x, b)
    pos_s = s > 0
    s_s = ops.where(pos_s, s, 1.0)
    r = rb / s_s
    return nan_like(x, ops.where(pos_s, 0.5 * r * r / s_s, 0.0))


def _squareplus_dparams(x: Array, b: Array) -> tuple[Array]:
    _, _, s = _squareplus_parts(x, b)
    return (0.25 / s,)


def _squareplus_d1_dparams(x: Array, b: Array) -> tuple[Array]:
    # d/db f'(x) = -x / (4 s^3), written as -(x/s) / (4 s^2) without overflow.
    _, _, s = _squareplus_parts(x, b)
    return (-(x / s) / (4 * s) / s,)


_squareplus_d1 = rule(_squareplus_d1_value, _squareplus_d2, _squareplus_d1_dparams)
_squareplus = rule(_squareplus_value, _squareplus_d1, _squareplus_dparams)


@register(
    params={"b": 4.0},
    domain={"b": "[0, inf)"},
    monotonic=True,
    bounded_below=True,
    paper="Barron 2021, Squareplus: A Softplus-Like Algebraic Rectifier, arXiv:2112.11687",
    names={"jax keras": "squareplus"},
)
@half_remat
def squareplus(x: ArrayLike, b: ArrayLike = 4) -> Array:
    r"""Squareplus, an algebraic softplus.

    .. math::
      f(x) = \frac{x + \sqrt{x^2 + b}}{2}, \qquad
      f'(x) = \frac12\Big(1 + \frac{x}{\sqrt{x^2 + b}}\Big), \qquad
      f''(x) = \frac{b}{2 (x^2 + b)^{3/2}}, \qquad
      \frac{\partial f}{\partial b} = \frac{1}{4\sqrt{x^2 + b}}

    For ``x < 0`` it is evaluated as :math:`b / (2(\sqrt{x^2+b} - x))` (no
    cancellation) and :math:`\sqrt{x^2+b}` as a scaled hypot (no overflow of
    :math:`x^2`), so ``f(-inf) = 0`` and ``f(inf) = inf``. ``b = 0`` is relu, with
    relu's ``f'(0) = 0``.

    Args:
      x: input array.
      b: non-negative smoothness (differentiable); the default 4 is jax.nn's and Keras'.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.squareplus(0.0))
      1.0

    References:
      Barron 2021, Squareplus: A Softplus-Like Algebraic Rectifier, arXiv:2112.11687.
    """
    x, dtype = prepare(x, "squareplus")
    b = param(b, "squareplus", "b", x, nonnegative=True)
    return finish(_squareplus(x, b), dtype)


# SmeLU: 0 | (x + beta)^2 / (4 beta) | x. The quadratic is evaluated on clip(x, -beta,
# beta), so the unselected branch never overflows (jax.nn.sparse_plus's NaN at +-inf).


def _smelu_value(x: Array, beta: Array) -> Array:
    xc = ops.clip(x, -beta, beta)
    return ops.where(x >= beta, x, jnp.square(xc + beta) / (4 * beta))


def _smelu_d1_value(x: Array, beta: Array) -> Array:
    xc = ops.clip(x, -beta, beta)
    return nan_like(x, ops.where(x >= beta, 1.0, (xc + beta) / (2 * beta)))


def _smelu_d2(x: Array, beta: Array) -> Array:
    # 1/(2 beta) on the open interval; 0 at +-beta (the outer, linear pieces own them).
    inside = jnp.abs(x) < beta
    # (In x's dtype: two Python-number branches are float64 under x64.)
    return nan_like(x, ops.where(inside, 0.5 / beta, 0.0).astype(x.dtype) + jnp.zeros_like(x))


def _smelu_dparams(x: Array, beta: Array) -> tuple[Array]:
    xc = ops.clip(x, -beta, beta)
    return ((xc + beta) * (beta - xc) / (4 * beta * beta),)


def _smelu_d1_dparams(x: Array, beta: Array) -> tuple[Array]:
    # d/dbeta (x + beta) / (2 beta) = -x / (2 beta^2) on |x| < beta, else 0.
    inside = jnp.abs(x) < beta
    xs = ops.where(inside, x, 0.0)
    return (-xs / (2 * beta * beta),)


_smelu_d1 = rule(_smelu_d1_value, _smelu_d2, _smelu_d1_dparams)
_smelu = rule(_smelu_value, _smelu_d1, _smelu_dparams)


@register(
    params={"beta": 1.0},
    domain={"beta": "(0, inf)"},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(-1.0, 2, 0.0), Kink(1.0, 2, 0.0)),
    paper="Shamir, Lin, Coviello 2020, Smooth activations and reproducibility in deep "
    "networks, arXiv:2010.09931",
)
@half_remat
def smelu(x: ArrayLike, beta: ArrayLike = 1.0) -> Array:
    r"""SmeLU, the smooth (C^1) ReLU with a quadratic middle piece of half-width ``beta``.

    .. math::
      f(x) = \begin{cases} 0 & x \le -\beta \\ \frac{(x + \beta)^2}{4\beta} & |x| < \beta
      \\ x & x \ge \beta \end{cases}, \qquad
      f'(x) = \begin{cases} 0 \\ \frac{x + \beta}{2\beta} \\ 1 \end{cases}, \qquad
      \frac{\partial f}{\partial \beta} = \frac{\beta^2 - x^2}{4\beta^2}\ (|x| < \beta)

    Kinks: ``f'`` is continuous; ``f''`` jumps at ``+-beta`` and is pinned to 0 there
    (the outer pieces, as jax.nn's ``sparse_plus''(+-1) = 0``). ``smelu(x, 1)`` is
    :func:`sparse_plus`.

    Args:
      x: input array.
      beta: positive half-width of the quadratic piece (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.smelu(0.0, beta=2.0))
      0.5

    References:
      Shamir, Lin, Coviello 2020, Smooth activations and reproducibility in deep
      networks, arXiv:2010.09931.
    """
    x, dtype = prepare(x, "smelu")
    beta = param(beta, "smelu", "beta", x, positive=True)
    return finish(_smelu(x, beta), dtype)


@register(
    monotonic=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(-1.0, 2, 0.0), Kink(1.0, 2, 0.0)),
    paper="Blondel, Martins, Niculae 2019, Learning with Fenchel-Young Losses, arXiv:1901.02324",
    names={"jax keras": "sparse_plus"},
)
@half_remat
def sparse_plus(x: ArrayLike) -> Array:
    r"""Sparse plus, SmeLU with ``beta = 1`` (jax.nn's ``sparse_plus``).

    .. math::
      f(x) = \begin{cases} 0 & x \le -1 \\ \frac{(x + 1)^2}{4} & |x| < 1
      \\ x & x \ge 1 \end{cases}, \qquad
      f'(x) = \begin{cases} 0 \\ \frac{x + 1}{2} \\ 1 \end{cases}

    Kinks: ``f''(+-1) = 0`` (the outer pieces, as jax.nn). Unlike jax.nn, ``f'`` is
    finite at ``+-inf`` (the quadratic is evaluated on ``clip(x, -1, 1)``). Its
    derivative is ``sparse_sigmoid``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.sparse_plus(0.0))
      0.25

    References:
      Blondel, Martins, Niculae 2019, Learning with Fenchel-Young Losses,
      arXiv:1901.02324 (section 6.2).
    """
    x, dtype = prepare(x, "sparse_plus")
    return finish(_smelu(x, 1.0), dtype)


# smu: ((1 + alpha) x + (1 - alpha) x erf(y)) / 2, y = mu (1 - alpha) x, with y
# and y^2 carried as exact double words.


def _smu_parts(x: Array, alpha: Array, mu: Array):
    one = jnp.ones_like(x)
    a = alpha * one
    om = 1.0 - a
    om_lo = ops.where(jnp.abs(a) <= 1, (1.0 - om) - a, (-a - om) + 1.0)
    c, c_lo = two_prod(mu * one, om)
    c_lo = c_lo + mu * om_lo
    xc = ops.clip(x, -1e30, 1e30)
    y, y_lo = two_prod(c, xc)
    y_lo = y_lo + c_lo * xc
    far = jnp.abs(y) > dw.BIG
    yc = ops.clip(y, -dw.BIG, dw.BIG)
    ylc = ops.where(far, 0.0, y_lo)
    big_e = dw.exp_neg_sq(yc, ylc)
    return om, c, y, yc, ylc, big_e


def _smu_gate(alpha, om, y, ylc, big_e):
    """2 f / x: (1 + alpha) + (1 - alpha) erf(y), without cancellation for y < 0."""
    pos = (1 + alpha) + om * (elementary.erf(y) + _K * big_e * ylc)
    neg = 2 * alpha + om * (elementary.erfc(-y) + _K * big_e * ylc)
    return ops.where(y < 0, neg, pos)


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
    return dw.exp_neg_sq_times((_K * om * c) * ((1 - yc - ylc) * (1 + yc + ylc)), yc, ylc)


def _smu_dparams(x: Array, alpha: Array, mu: Array) -> tuple[Array, Array]:
    om, _, y, yc, ylc, big_e = _smu_parts(x, alpha, mu)
    erfc_y = ops.where(y < 0, 2 - elementary.erfc(-y), elementary.erfc(y))
    xc = ops.clip(x, -1e30, 1e30)
    d_alpha = 0.5 * x * (erfc_y - _K * yc * big_e)
    d_mu = (om * om / math.sqrt(math.pi)) * xc * (xc * big_e)
    return d_alpha, d_mu


def _smu_d1_dparams(x: Array, alpha: Array, mu: Array) -> tuple[Array, Array]:
    # With E = e^{-y^2}: df'/dmu = (1 - alpha)^2 K x E (1 - y^2) = x f'' / mu and
    # df'/dalpha = (erfc(y) - K y E) / 2 - mu (1 - alpha) K x E (1 - y^2).
    om, _, y, yc, ylc, big_e = _smu_parts(x, alpha, mu)
    erfc_y = ops.where(y < 0, 2 - elementary.erfc(-y), elementary.erfc(y))
    xc = ops.clip(x, -1e30, 1e30)
    t = dw.exp_neg_sq_times(_K * xc * ((1 - yc - ylc) * (1 + yc + ylc)), yc, ylc)
    return 0.5 * (erfc_y - _K * yc * big_e) - (mu * om) * t, (om * om) * t


_smu = smooth_rule(_smu_value, _smu_d1_value, _smu_d2_value, _smu_dparams, _smu_d1_dparams)


@register(
    params={"alpha": 0.01, "mu": 2.5},
    domain={"mu": "(0, inf)"},
    zero_centred=True,
    paper=_SMU,
)
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
    safe = ops.where(hi > 0, hi, 1.0)
    ratio = lo / safe
    return nan_like(hi, ops.where(hi > 0, safe * jnp.sqrt(1 + ratio * ratio), 0.0))


def _smu1_parts(x: Array, alpha: Array, mu: Array, clamp: bool = True):
    om = 1 - alpha
    big = float(jnp.finfo(x.dtype).max) / 4
    v = jnp.abs(om * (ops.clip(x, -big, big) if clamp else x))
    r = _hypot(v, mu * jnp.ones_like(x))
    return om, v, r


def _smu1_value(x: Array, alpha: Array, mu: Array) -> Array:
    _, v, r = _smu1_parts(x, alpha, mu, clamp=False)
    pos = (0.5 * (1 + alpha)) * x + 0.5 * r
    neg = alpha * x + 0.5 * mu * (mu / (r + v))
    return ops.where(negative(x), neg, pos)


def _smu1_d1_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, v, r = _smu1_parts(x, alpha, mu)
    pos = 0.5 * ((1 + alpha) + om * (v / r))
    neg = alpha + 0.5 * om * (mu / r) * (mu / (r + v))
    return ops.where(negative(x), neg, pos)


def _smu1_d2_value(x: Array, alpha: Array, mu: Array) -> Array:
    om, _, r = _smu1_parts(x, alpha, mu)
    k = om * (mu / r)
    return 0.5 * k * (k / r)


def _smu1_dparams(x: Array, alpha: Array, mu: Array) -> tuple[Array, Array]:
    _, v, r = _smu1_parts(x, alpha, mu)
    pos = 0.5 * x * (mu / r) * (mu / (r + v))
    neg = 0.5 * x * (1 + v / r)
    return ops.where(negative(x), neg, pos), 0.5 * (mu / r)


_smu1 = smooth_rule(_smu1_value, _smu1_d1_value, _smu1_d2_value, _smu1_dparams)


@register(
    params={"alpha": 0.01, "mu": 4.332461424154261e-9},
    domain={"mu": "(0, inf)"},
    monotonic=True,
    paper=_SMU,
)
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
