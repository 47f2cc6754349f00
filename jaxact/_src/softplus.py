"""Softplus family: softplus and its algebraic and piecewise relatives.

softplus, sqrt_softplus, squareplus, sparse_plus and SmeLU (its general width).
"""

from __future__ import annotations

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
)
from jaxact._src.sigmoid import _sigmoid

Array = jax.Array


def _scaled(x: Array, beta: Array) -> tuple[Array, Array]:
    """beta * x as z + dz exactly (dz = 0 where z is not finite)."""
    p, e = two_prod(beta, x)
    ok = jnp.isfinite(p) & jnp.isfinite(e)
    return _ops.where(ok, p, beta * x), _ops.where(ok, e, jnp.zeros_like(e))


def _softplus_value(x: Array, beta: Array) -> Array:
    # relu(x) + softplus(-beta |x|) / beta: no overflow of beta x at large |x|;
    # the rounding error dz of beta |x| is put back to first order, so the tail
    # e^{beta x} keeps its relative precision for any beta.
    z, dz = _scaled(jnp.abs(x), beta)
    tail = _math.softplus(-z) - _math.logistic(-z) * dz
    return jnp.maximum(x, 0) + tail / beta


def _softplus_d1_value(x: Array, beta: Array) -> Array:
    z, dz = _scaled(x, beta)
    return _math.logistic(z) + _math.logistic_prime(z) * dz


def _softplus_d2(x: Array, beta: Array) -> Array:
    z, dz = _scaled(x, beta)
    p = _math.logistic_prime(z)
    return beta * (p - p * _math.tanh(0.5 * z) * dz)


def _softplus_d1_dparams(x: Array, beta: Array) -> tuple[Array]:
    return (x * _softplus_d2(x, beta) / beta,)


def _softplus_dparams(x: Array, beta: Array) -> tuple[Array]:
    # d/dbeta softplus(beta x)/beta = (z sigma(z) - softplus(z)) / beta^2, z = beta x,
    # with both terms of one sign: -z sigma(-z) - softplus(-z) for z > 0.
    z = beta * x
    az = jnp.abs(z)
    g = -az * _math.logistic(-az) - _math.softplus(-az)
    return (_ops.where(z > 0, g, z * _math.logistic(z) - _math.softplus(z)) / (beta * beta),)


_softplus_d1 = rule(_softplus_d1_value, _softplus_d2, _softplus_d1_dparams)
_softplus = rule(_softplus_value, _softplus_d1, _softplus_dparams)
# beta = 1 given as a Python number (the default): no scaling, no correction term.
_softplus_unit = rule(_math.softplus, _sigmoid)


def _softplus_threshold_value(x: Array, beta: Array, threshold: Array) -> Array:
    return _ops.where(beta * x > threshold, x, _softplus(x, beta))


def _softplus_threshold_d1(x: Array, beta: Array, threshold: Array) -> Array:
    return _ops.where(beta * x > threshold, jnp.ones_like(x), _sigmoid(beta * x))


_softplus_threshold = rule(_softplus_threshold_value, _softplus_threshold_d1)


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
    if threshold is None:
        if isinstance(beta, float) and beta == 1.0:
            return finish(_softplus_unit(x), dtype)
        return finish(_softplus(x, beta), dtype)
    threshold = param(threshold, "softplus", "threshold", x)
    return finish(_softplus_threshold(x, beta, threshold), dtype)


# sqrt_softplus: below _SQRT_SP_CUT, sp(x) = e^x (1 - e^x/2 + ...) and sigma(x) = e^x (1 - ...),
# so f, f', f'' are e^{x/2}, e^{x/2}/2, e^{x/2}/4 to far below an ulp of float64; using
# them there avoids sp and sigma underflowing together (0/0 in f').
_SQRT_SP_CUT = -40.0


def _sqrt_softplus_value(x: Array) -> Array:
    tail = x < _SQRT_SP_CUT
    xs = _ops.where(tail, 0.0, x)
    return _ops.where(tail, _math.exp(0.5 * x), jnp.sqrt(_math.softplus(xs)))


def _sqrt_softplus_d1_value(x: Array) -> Array:
    tail = x < _SQRT_SP_CUT
    xs = _ops.where(tail, 0.0, x)
    main = _math.logistic(xs) / (2 * jnp.sqrt(_math.softplus(xs)))
    return _ops.where(tail, 0.5 * _math.exp(0.5 * x), main)


def _sqrt_softplus_d2(x: Array) -> Array:
    # f'' = sigma'/(2 f) - f'^2 / f (no f^3 that could overflow).
    tail = x < _SQRT_SP_CUT
    xs = _ops.where(tail, 0.0, x)
    f = jnp.sqrt(_math.softplus(xs))
    d1 = _math.logistic(xs) / (2 * f)
    main = _math.logistic_prime(xs) / (2 * f) - d1 * (d1 / f)
    return _ops.where(tail, 0.25 * _math.exp(0.5 * x), main)


_sqrt_softplus_d1 = rule(_sqrt_softplus_d1_value, _sqrt_softplus_d2)
_sqrt_softplus = rule(_sqrt_softplus_value, _sqrt_softplus_d1)


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


# squareplus: s = sqrt(x^2 + b) is formed as a hypot (no x^2 overflow); for x < 0,
# f = b / (2 (s - x)) and f' = b / (2 s (s - x)) avoid the cancellation of x + s.


def _squareplus_parts(x: Array, b: Array) -> tuple[Array, Array, Array]:
    """(|x|, sqrt(b), s) with s = sqrt(x^2 + b) computed without overflow."""
    a = jnp.abs(x)
    b = jnp.asarray(b, x.dtype) + jnp.zeros_like(x)
    rb = jnp.sqrt(b)
    big = a > 2.0**60
    a_big = _ops.where(big, a, 1.0)
    a_small = _ops.where(big, 0.0, a)
    s_big = a * jnp.sqrt(1 + jnp.square(rb / a_big))
    s_small = jnp.sqrt(a_small * a_small + b)
    # b = 0 is relu: s = |x| exactly (a * a would flush for tiny x).
    s = _ops.where(big, s_big, _ops.where(b > 0, s_small, a))
    return a, rb, s


def _squareplus_value(x: Array, b: Array) -> Array:
    a, _, s = _squareplus_parts(x, b)
    b = jnp.asarray(b, x.dtype) + jnp.zeros_like(x)
    # s = sqrt(a^2 + b) is correct to ~1 ulp of s, which is up to 2 ulp of f = b / (2(s + a))
    # when f is just below a power of 2; one exact-residual correction s_lo fixes that.
    ok = (a < 2.0**60) & (s > 0)
    a_s = _ops.where(ok, a, 0.0)
    s_s = _ops.where(ok, s, 1.0)
    p1, e1 = two_prod(a_s, a_s)
    p2, e2 = two_prod(s_s, s_s)
    r = _ops.where(p1 >= b, b - (p2 - p1), (b - p2) + p1) + (e1 - e2)
    s_lo = _ops.where(ok, r / (2 * s_s), 0.0)
    den, den_lo = two_sum(s, a)
    den_lo = _ops.where(jnp.isfinite(den_lo), den_lo + s_lo, 0.0)
    den_s = _ops.where(den > 0, den, 1.0)
    neg = _ops.where(den > 0, 0.5 * (b / den_s) * (1 - den_lo / den_s), 0.0)
    # x + s would overflow at the top of the range (XLA folds 0.5 x + 0.5 s back into it).
    top = _ops.where(jnp.isinf(x), x, x + 0.5 * (s - _ops.where(jnp.isinf(x), 0.0, x)))
    pos = _ops.where(a > 1, top, 0.5 * (x + s))
    return _ops.where(negative(x), neg, pos)


def _squareplus_d1_value(x: Array, b: Array) -> Array:
    a, rb, s = _squareplus_parts(x, b)
    pos_s = s > 0
    s_s = _ops.where(pos_s, s, 1.0)
    neg = 0.5 * (rb / s_s) * (rb / _ops.where(pos_s, s + a, 1.0))
    pos = 0.5 * (1 + _ops.where(jnp.isinf(a), 1.0, a / s_s))
    d = _ops.where(negative(x), neg, pos)
    # b = 0 is relu: f'(0) = 0 (the flat piece owns the corner, relu's jax.nn value).
    return nan_like(x, _ops.where(pos_s, d, 0.0))


def _squareplus_d2(x: Array, b: Array) -> Array:
    _, rb, s = _squareplus_parts(x, b)
    pos_s = s > 0
    s_s = _ops.where(pos_s, s, 1.0)
    r = rb / s_s
    return nan_like(x, _ops.where(pos_s, 0.5 * r * r / s_s, 0.0))


def _squareplus_dparams(x: Array, b: Array) -> tuple[Array]:
    _, _, s = _squareplus_parts(x, b)
    return (0.25 / s,)


def _squareplus_d1_dparams(x: Array, b: Array) -> tuple[Array]:
    # d/db f'(x) = -x / (4 s^3), written as -(x/s) / (4 s^2) without overflow.
    _, _, s = _squareplus_parts(x, b)
    return (-(x / s) / (4 * s) / s,)


_squareplus_d1 = rule(_squareplus_d1_value, _squareplus_d2, _squareplus_d1_dparams)
_squareplus = rule(_squareplus_value, _squareplus_d1, _squareplus_dparams)


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
    xc = _ops.clip(x, -beta, beta)
    return _ops.where(x >= beta, x, jnp.square(xc + beta) / (4 * beta))


def _smelu_d1_value(x: Array, beta: Array) -> Array:
    xc = _ops.clip(x, -beta, beta)
    return nan_like(x, _ops.where(x >= beta, 1.0, (xc + beta) / (2 * beta)))


def _smelu_d2(x: Array, beta: Array) -> Array:
    # 1/(2 beta) on the open interval; 0 at +-beta (the outer, linear pieces own them).
    inside = jnp.abs(x) < beta
    return nan_like(x, _ops.where(inside, 0.5 / beta, 0.0) + jnp.zeros_like(x))


def _smelu_dparams(x: Array, beta: Array) -> tuple[Array]:
    xc = _ops.clip(x, -beta, beta)
    return ((xc + beta) * (beta - xc) / (4 * beta * beta),)


def _smelu_d1_dparams(x: Array, beta: Array) -> tuple[Array]:
    # d/dbeta (x + beta) / (2 beta) = -x / (2 beta^2) on |x| < beta, else 0.
    inside = jnp.abs(x) < beta
    xs = _ops.where(inside, x, 0.0)
    return (-xs / (2 * beta * beta),)


_smelu_d1 = rule(_smelu_d1_value, _smelu_d2, _smelu_d1_dparams)
_smelu = rule(_smelu_value, _smelu_d1, _smelu_dparams)


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


SPECS = (
    Spec(
        "softplus",
        softplus,
        "softplus",
        params={"beta": 1.0},
        monotonic=True,
        bounded_below=True,
        paper="Dugas et al. 2001, Incorporating Second-Order Functional Knowledge for Better "
        "Option Pricing",
    ),
    Spec(
        "sqrt_softplus",
        sqrt_softplus,
        "softplus",
        monotonic=True,
        bounded_below=True,
        paper="transformers activations.py SqrtSoftplus",
    ),
    Spec(
        "squareplus",
        squareplus,
        "softplus",
        params={"b": 4.0},
        monotonic=True,
        bounded_below=True,
        paper="Barron 2021, Squareplus: A Softplus-Like Algebraic Rectifier, arXiv:2112.11687",
    ),
    Spec(
        "sparse_plus",
        sparse_plus,
        "softplus",
        monotonic=True,
        bounded_below=True,
        smooth=False,
        kinks=(Kink(-1.0, 2, 0.0), Kink(1.0, 2, 0.0)),
        paper="Blondel, Martins, Niculae 2019, Learning with Fenchel-Young Losses, "
        "arXiv:1901.02324",
    ),
    Spec(
        "smelu",
        smelu,
        "softplus",
        params={"beta": 1.0},
        monotonic=True,
        bounded_below=True,
        smooth=False,
        kinks=(Kink(-1.0, 2, 0.0), Kink(1.0, 2, 0.0)),
        paper="Shamir, Lin, Coviello 2020, Smooth activations and reproducibility in deep "
        "networks, arXiv:2010.09931",
    ),
)
