"""Exponential family: elu, selu, celu, pelu, xielu.

The negative branch is ``alpha * expm1(x)`` and its derivative ``alpha * exp(x)``,
formed from ``x`` (never ``y + alpha`` or ``expm1(x) + 1``, which are 0 in the tail
once ``expm1`` rounds to -1). The exponential branch is evaluated on
``min(x, 0)`` so that the unselected branch never overflows (no NaN gradients at
large positive ``x``). Kinks at 0 follow the package's policy, stated per function.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import elementary, ops
from jaxact._src.core import (
    ArrayLike,
    finish,
    half_remat,
    is_concrete,
    nan_like,
    negative,
    param,
    positive,
    prepare,
    rule,
    unflushed_times,
)
from jaxact._src.exact import two_prod
from jaxact._src.registry import Kink, register

Array = jax.Array

__all__ = ["elu", "selu", "celu", "pelu", "xielu"]

# Klambauer et al. 2017, to full double precision (as jax.nn, torch and Keras).
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


# Below this |x| the exponential branches equal slope * x to the last bit.
_TINY_X = 1e-30


def _scaled_exp(c: Array, u: Array) -> Array:
    """c * e^u for u <= 0 without e^u underflowing first (e^u is subnormal below -87 in
    float32, where c * e^u may still be normal): (c e^{u/2}) e^{u/2} there."""
    h = elementary.exp(0.5 * u)
    return ops.where(u < -60, (c * h) * h, c * elementary.exp(u))


# ELU (and SELU = lambda * ELU(alpha)): the x <= 0 branch owns x = 0 (jax.nn's
# elu'(0) = alpha, elu''(0) = alpha).


def _elu_value(x: Array, alpha: Array, scale: Array) -> Array:
    pos = positive(x)
    xn = ops.where(pos, 0.0, x)
    # Near 0 the result is slope * x; formed so a subnormal x keeps a normal result.
    tiny = unflushed_times(ops.where(pos, scale, scale * alpha), x)
    # scale * alpha kept as a double word: its rounding would add an ulp (selu).
    ch, cl = two_prod(jnp.asarray(scale, x.dtype), jnp.asarray(alpha, x.dtype))
    e = elementary.expm1(xn)
    big = ops.where(pos, scale * x, ch * e + cl * e)
    return ops.where(jnp.abs(x) < _TINY_X, tiny, big)


def _elu_d2(x: Array, alpha: Array, scale: Array) -> Array:
    pos = positive(x)
    xn = ops.where(pos, 0.0, x)
    return nan_like(x, ops.where(pos, 0.0, _scaled_exp(scale * alpha, xn)))


def _elu_d1_value(x: Array, alpha: Array, scale: Array) -> Array:
    pos = positive(x)
    xn = ops.where(pos, 0.0, x)
    return nan_like(x, ops.where(pos, scale, _scaled_exp(scale * alpha, xn)))


def _elu_d1_dparams(x: Array, alpha: Array, scale: Array) -> tuple[Array, Array]:
    pos = positive(x)
    xn = ops.where(pos, 0.0, x)
    e = ops.where(pos, 0.0, elementary.exp(xn))
    return scale * e, ops.where(pos, 1.0, alpha * e)


def _elu_dparams(x: Array, alpha: Array, scale: Array) -> tuple[Array, Array]:
    pos = positive(x)
    xn = ops.where(pos, 0.0, x)
    em = elementary.expm1(xn)
    return ops.where(pos, 0.0, scale * em), ops.where(pos, x, alpha * em)


_elu_d1 = rule(_elu_d1_value, _elu_d2, _elu_d1_dparams)
_elu = rule(_elu_value, _elu_d1, _elu_dparams)


# SELU's value takes lambda and lambda * alpha as double words (hi + lo per dtype,
# from the constants above, the product formed at 60 digits with mpmath): with the
# rounded constants the float64 value reached 2.05 ulp of the true SELU near
# x = -0.07. The derivatives are elu's with SELU_ALPHA, SELU_LAMBDA.
_SELU_WORDS = {
    jnp.float32: (
        (1.0507010221481323, -3.479265231476347e-08),
        (1.7580993175506592, 2.3296717444054593e-08),
    ),
    jnp.float64: (
        (1.0507009873554805, 3.9874847667154144e-17),
        (1.7580993408473768, 1.41535193800845e-17),
    ),
}


def _selu_value(x: Array) -> Array:
    (lh, ll), (ch, cl) = _SELU_WORDS[jnp.float64 if x.dtype == jnp.float64 else jnp.float32]
    pos = positive(x)
    xn = ops.where(pos, 0.0, x)
    # Near 0 the result is slope * x; formed so a subnormal x keeps a normal result.
    tiny = unflushed_times(ops.where(pos, lh, ch), x)
    e = elementary.expm1(xn)
    xl = ops.where(jnp.isinf(x), 0.0, x)  # lh * inf + ll * inf would be NaN
    big = ops.where(pos, lh * x + ll * xl, ch * e + cl * e)
    return ops.where(jnp.abs(x) < _TINY_X, tiny, big)


def _selu_d1(x: Array) -> Array:
    return _elu_d1(x, SELU_ALPHA, SELU_LAMBDA)


_selu = rule(_selu_value, _selu_d1)


@register(
    params={"alpha": 1.0},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 1.0)),
    paper="Clevert, Unterthiner, Hochreiter 2015, Fast and Accurate Deep Network Learning "
    "by Exponential Linear Units (ELUs), arXiv:1511.07289",
    names={"jax flax torch timm keras": "elu", "torch keras": "ELU"},
    torch=("elu", {}),
)
@half_remat
def elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Exponential linear unit.

    .. math::
      f(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}, \qquad
      f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^x & x \le 0 \end{cases}, \qquad
      \frac{\partial f}{\partial \alpha} = e^x - 1\ (x \le 0)

    Kink: ``x = 0`` belongs to the exponential branch, as in jax.nn:
    ``f'(0) = alpha`` and ``f''(0) = alpha`` (the right-hand values are 1 and 0).
    ``f'`` keeps its relative precision in the negative tail (``alpha e^x``).

    Args:
      x: input array.
      alpha: scale of the negative branch (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.elu(-1.0)), 6)
      -0.632121

    References:
      Clevert, Unterthiner, Hochreiter 2015, Fast and Accurate Deep Network Learning
      by Exponential Linear Units (ELUs), arXiv:1511.07289.
    """
    x, dtype = prepare(x, "elu")
    alpha = param(alpha, "elu", "alpha", x)
    return finish(_elu(x, alpha, 1.0), dtype)


@register(
    monotonic=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    self_normalizing=True,
    gain=0.75,
    kinks=(Kink(0.0, 1, SELU_LAMBDA * SELU_ALPHA), Kink(0.0, 2, SELU_LAMBDA * SELU_ALPHA)),
    paper="Klambauer et al. 2017, Self-Normalizing Neural Networks, arXiv:1706.02515",
    names={"jax flax torch timm keras": "selu", "torch": "SELU"},
    torch=("selu", {}),
)
@half_remat
def selu(x: ArrayLike) -> Array:
    r"""Scaled exponential linear unit, ``lambda * elu(x, alpha)`` with fixed constants.

    .. math::
      f(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases},
      \qquad f'(x) = \lambda \begin{cases} 1 & x > 0 \\ \alpha e^x & x \le 0 \end{cases}

    with :math:`\lambda = 1.0507009873554804934\ldots`,
    :math:`\alpha = 1.6732632423543772848\ldots` (``SELU_LAMBDA``, ``SELU_ALPHA``).
    Kink: ``f'(0) = f''(0) = lambda * alpha`` (the exponential branch, as jax.nn).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.selu(1.0)), 6)
      1.050701

    References:
      Klambauer, Unterthiner, Mayr, Hochreiter 2017, Self-Normalizing Neural Networks,
      arXiv:1706.02515.
    """
    x, dtype = prepare(x, "selu")
    return finish(_selu(x), dtype)


# CELU / PELU: a * expm1(x / b) for x < 0, (a / b) x for x >= 0. The linear piece owns
# x = 0, so f''(0) = 0 (jax.nn's celu''(0) = 0.25 is a tie-rule accident); f' is
# continuous there.


def _pelu_value(x: Array, a: Array, b: Array) -> Array:
    neg = negative(x)
    xn = ops.where(neg, x, 0.0)
    big = ops.where(neg, a * elementary.expm1(xn / b), (a / b) * x)
    return ops.where(jnp.abs(x) < _TINY_X, unflushed_times(a / b, x), big)


def _pelu_d2(x: Array, a: Array, b: Array) -> Array:
    neg = negative(x)
    xn = ops.where(neg, x, 0.0)
    return nan_like(x, ops.where(neg, _scaled_exp((a / b) / b, xn / b), 0.0))


def _pelu_d1_value(x: Array, a: Array, b: Array) -> Array:
    neg = negative(x)
    xn = ops.where(neg, x, 0.0)
    return nan_like(x, ops.where(neg, _scaled_exp(a / b, xn / b), a / b + jnp.zeros_like(x)))


def _pelu_d1_dparams(x: Array, a: Array, b: Array) -> tuple[Array, Array]:
    neg = negative(x)
    xn = ops.where(neg, x, 0.0)
    e = ops.where(neg, elementary.exp(xn / b), 1.0)
    u = ops.where(neg, xn / b, 0.0)
    # d/db (a/b) e^{x/b} = -(a/b^2) e^{x/b} (1 + x/b)
    return e / b, -(a / b) / b * e * (1 + u)


def _pelu_dparams(x: Array, a: Array, b: Array) -> tuple[Array, Array]:
    neg = negative(x)
    xn = ops.where(neg, x, 0.0)
    u = xn / b
    da = ops.where(neg, elementary.expm1(u), x / b)
    db = ops.where(neg, -a * (u / b) * elementary.exp(u), -(a / b) * (x / b))
    return da, db


_pelu_d1 = rule(_pelu_d1_value, _pelu_d2, _pelu_d1_dparams)
_pelu = rule(_pelu_value, _pelu_d1, _pelu_dparams)


@register(
    params={"alpha": 1.0},
    domain={"alpha": "(0, inf)"},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 0.0)),
    paper="Barron 2017, Continuously Differentiable Exponential Linear Units, arXiv:1704.07483",
    names={"jax flax torch timm keras": "celu", "torch": "CELU"},
    torch=("celu", {}),
)
@half_remat
def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Continuously differentiable exponential linear unit.

    .. math::
      f(x) = \begin{cases} x & x \ge 0 \\ \alpha (e^{x/\alpha} - 1) & x < 0 \end{cases},
      \qquad f'(x) = \begin{cases} 1 & x \ge 0 \\ e^{x/\alpha} & x < 0 \end{cases},
      \qquad f''(x) = \begin{cases} 0 & x \ge 0 \\ e^{x/\alpha}/\alpha & x < 0 \end{cases}

    ``f'`` is continuous (``f'(0) = 1``); ``f''`` jumps at 0 and ``f''(0) = 0`` (the
    linear piece; jax.nn gives 0.25 through its ``max``/``min`` tie rules).
    :math:`\partial f/\partial\alpha = e^{x/\alpha}(1 - x/\alpha) - 1` for ``x < 0``.

    Args:
      x: input array.
      alpha: positive scale (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.celu(-1.0, alpha=2.0)), 6)
      -0.786939

    References:
      Barron 2017, Continuously Differentiable Exponential Linear Units,
      arXiv:1704.07483.
    """
    x, dtype = prepare(x, "celu")
    alpha = param(alpha, "celu", "alpha", x, positive=True)
    return finish(_celu(x, alpha), dtype)


def _celu_value(x: Array, alpha: Array) -> Array:
    return _pelu(x, alpha, alpha)


def _celu_d1(x: Array, alpha: Array) -> Array:
    return _pelu_d1(x, alpha, alpha)


def _celu_dparams(x: Array, alpha: Array) -> tuple[Array]:
    # d/dalpha alpha expm1(x/alpha) = expm1(u) - u e^u = (expm1(u) - u) - u expm1(u),
    # u = x / alpha: the series for expm1(u) - u keeps it accurate for small |u|.
    neg = negative(x)
    u = ops.where(neg, x, 0.0) / alpha
    return (ops.where(neg, _expm1_minus_x(u) - u * elementary.expm1(u), 0.0),)


_celu = rule(_celu_value, _celu_d1, _celu_dparams)


@register(
    params={"a": 1.0, "b": 1.0},
    domain={"a": "(0, inf)", "b": "(0, inf)"},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 0.0)),
    paper="Trottier, Giguere, Chaib-draa 2017, Parametric Exponential Linear Unit for Deep "
    "Convolutional Neural Networks, arXiv:1605.09332",
)
@half_remat
def pelu(x: ArrayLike, a: ArrayLike = 1.0, b: ArrayLike = 1.0) -> Array:
    r"""Parametric exponential linear unit.

    .. math::
      f(x) = \begin{cases} \frac{a}{b} x & x \ge 0 \\ a (e^{x/b} - 1) & x < 0 \end{cases},
      \qquad f'(x) = \frac{a}{b} \begin{cases} 1 & x \ge 0 \\ e^{x/b} & x < 0 \end{cases}

    ``a, b > 0`` (learnable per channel in the paper; differentiable here). ``f'`` is
    continuous; ``f''`` jumps at 0 and ``f''(0) = 0`` (the linear piece).

    Args:
      x: input array.
      a: positive scale of the negative saturation (differentiable).
      b: positive scale of the exponential decay (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.pelu(2.0, a=1.0, b=2.0))
      1.0

    References:
      Trottier, Giguere, Chaib-draa 2017, Parametric Exponential Linear Unit for Deep
      Convolutional Neural Networks, arXiv:1605.09332.
    """
    x, dtype = prepare(x, "pelu")
    a = param(a, "pelu", "a", x, positive=True)
    b = param(b, "pelu", "b", x, positive=True)
    return finish(_pelu(x, a, b), dtype)


# xIELU. With g(x) = expm1(min(x, eps)) - x, written as h(m) + (m - x), m = min(x, eps),
# h(u) = expm1(u) - u; h cancels for small |u| and is summed as a series there.


def _expm1_minus_x(u: Array) -> Array:
    """expm1(u) - u for u <= 0, without cancellation (series for |u| < 1)."""
    n = 12 if u.dtype == jnp.float32 else 20
    us = ops.clip(u, -1.0, 0.0)
    acc = jnp.zeros_like(u) + 1.0 / _fact(n)
    for k in range(n - 1, 1, -1):
        acc = acc * us + 1.0 / _fact(k)
    series = acc * us * us
    return ops.where(u > -1, series, elementary.expm1(jnp.minimum(u, -1.0)) - u)


def _fact(k: int) -> float:
    out = 1.0
    for i in range(2, k + 1):
        out *= i
    return out


def _xielu_pieces(x: Array, eps: Array) -> tuple[Array, Array, Array]:
    """(is x > 0, is x < eps, m = min(x, eps)) for the x <= 0 branch."""
    pos = positive(x)
    eps = jnp.asarray(eps, x.dtype)
    below = (x < eps) & ~pos
    m = ops.where(pos, eps, jnp.minimum(x, eps))
    return pos, below, m


def _xielu_value(x: Array, ap: Array, an: Array, beta: Array, eps: Array) -> Array:
    pos, below, m = _xielu_pieces(x, eps)
    xn = ops.where(pos, 0.0, x)
    g = _expm1_minus_x(m) + ops.where(below, 0.0, m - xn)
    near = an * g + beta * x
    # For x < -1 no cancellation threatens expm1(x) - x; regroup so that -inf gives +inf.
    xf = ops.where(x < -1, x, -1.0)
    far = an * elementary.expm1(xf) + (beta - an) * xf
    return ops.where(pos, x * (ap * x + beta), ops.where(x < -1, far, near))


def _xielu_d2(x: Array, ap: Array, an: Array, beta: Array, eps: Array) -> Array:
    pos, below, m = _xielu_pieces(x, eps)
    d = ops.where(pos, 2 * ap, ops.where(below, an * elementary.exp(m), 0.0))
    return nan_like(x, d + jnp.zeros_like(x))


def _xielu_d1_value(x: Array, ap: Array, an: Array, beta: Array, eps: Array) -> Array:
    pos, below, m = _xielu_pieces(x, eps)
    xp = ops.where(pos, x, 0.0)
    neg = ops.where(below, an * elementary.expm1(m) + beta, beta - an)
    return nan_like(x, ops.where(pos, 2 * ap * xp + beta, neg))


def _xielu_d1_dparams(x, ap, an, beta, eps):
    pos, below, m = _xielu_pieces(x, eps)
    one = jnp.ones_like(x)
    d_ap = ops.where(pos, 2 * x, 0.0)
    d_an = ops.where(pos, 0.0, ops.where(below, elementary.expm1(m), -1.0))
    return d_ap, d_an, one, jnp.zeros_like(x)


def _xielu_dparams(x, ap, an, beta, eps):
    pos, below, m = _xielu_pieces(x, eps)
    xn = ops.where(pos, 0.0, x)
    g = _expm1_minus_x(m) + ops.where(below, 0.0, m - xn)
    mid = ~pos & ~below & ~jnp.isnan(x)
    d_eps = ops.where(mid, an * elementary.exp(jnp.asarray(eps, x.dtype)), 0.0)
    return ops.where(pos, x * x, 0.0), ops.where(pos, 0.0, g), x, d_eps


_xielu_d1 = rule(_xielu_d1_value, _xielu_d2, _xielu_d1_dparams)
_xielu = rule(_xielu_value, _xielu_d1, _xielu_dparams)


@register(
    params={"alpha_p": 0.8, "alpha_n": 0.8, "beta": 0.5, "eps": -1e-6},
    domain={"alpha_p": "(0, inf)", "alpha_n": "(0, inf)", "eps": "(-inf, 0]"},
    smooth=False,
    zero_centred=True,
    kinks=(
        Kink(0.0, 1, 0.5 - 0.8),
        Kink(0.0, 2, 0.0),
        Kink(-1e-6, 1, 0.5 - 0.8),
        Kink(-1e-6, 2, 0.0),
    ),
    paper="Huang, Schlag 2024, Deriving Activation Functions Using Integration, arXiv:2411.13010",
    # transformers' XIELUActivation() keeps its parameters in bfloat16: softplus of
    # the rounded raw parameters is 0.80078125, eps rounds to -9.98377799987793e-07.
    presets={
        "transformers:xielu": {
            "alpha_p": 0.80078125,
            "alpha_n": 0.80078125,
            "beta": 0.5,
            "eps": -9.98377799987793e-07,
        }
    },
)
@half_remat
def xielu(
    x: ArrayLike,
    alpha_p: ArrayLike = 0.8,
    alpha_n: ArrayLike = 0.8,
    beta: ArrayLike = 0.5,
    eps: ArrayLike = -1e-6,
) -> Array:
    r"""xIELU, the integrated-ELU activation of the Apertus LLMs.

    .. math::
      f(x) = \begin{cases} \alpha_p x^2 + \beta x & x > 0 \\
        \alpha_n\,(e^{\min(x, \epsilon)} - 1 - x) + \beta x & x \le 0 \end{cases}

    .. math::
      f'(x) = \begin{cases} 2\alpha_p x + \beta & x > 0 \\
        \beta - \alpha_n & \epsilon \le x \le 0 \\
        \alpha_n (e^x - 1) + \beta & x < \epsilon \end{cases}, \qquad
      f''(x) = 2\alpha_p,\ 0,\ \alpha_n e^x

    ``alpha_p`` and ``alpha_n`` are the effective (positive) coefficients. The
    transformers module stores raw parameters and uses
    ``alpha_p = softplus(raw_p)``, ``alpha_n = beta + softplus(raw_n)``; its init
    (0.8, 0.8, beta 0.5, eps -1e-6) gives the defaults here, in bfloat16:
    ``jaxact.get("transformers:xielu")`` uses the rounded values its default module
    computes with (0.80078125, 0.80078125, 0.5, -9.98377799987793e-07). To reproduce a trained
    module, pass ``alpha_p=softplus(raw_p)``, ``alpha_n=beta + softplus(raw_n)``.
    ``e^m - 1 - m`` is summed as a series for ``|m| < 1`` (no cancellation).
    Kinks (the piece whose differentiated quantity is constant owns the corner):
    ``x = 0`` belongs to the middle piece, so ``f(0) = alpha_n expm1(eps)`` (a jump
    of ``-8e-7`` at the default, as in the reference code),
    ``f'(0) = beta - alpha_n`` and ``f''(0) = 0``; at ``x = eps``,
    ``f'(eps) = beta - alpha_n`` and ``f''(eps) = 0``. All five numbers are
    differentiable; ``d f / d eps = alpha_n e^eps`` on ``[eps, 0]``.

    Args:
      x: input array.
      alpha_p: positive coefficient of the quadratic (x > 0) piece.
      alpha_n: positive coefficient of the exponential (x <= 0) piece.
      beta: linear coefficient.
      eps: non-positive clamp point of the exponential.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.xielu(1.0)), 6)
      1.3

    References:
      Huang, Schlag 2024, Deriving Activation Functions Using Integration,
      arXiv:2411.13010.
    """
    x, dtype = prepare(x, "xielu")
    alpha_p = param(alpha_p, "xielu", "alpha_p", x, positive=True)
    alpha_n = param(alpha_n, "xielu", "alpha_n", x, positive=True)
    beta = param(beta, "xielu", "beta", x)
    eps = param(eps, "xielu", "eps", x)
    if is_concrete(eps) and not np.all(np.asarray(eps, np.float64) <= 0):
        raise ValueError(f"jaxact.xielu: argument 'eps' must be non-positive, got {eps!r}")
    return finish(_xielu(x, alpha_p, alpha_n, beta, eps), dtype)
