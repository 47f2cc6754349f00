"""Sigmoid and tanh family: sigmoid, log_sigmoid, tanh (the building blocks), soft_sign,
laplace, and LiSHT (``x tanh(x)``).

The derivative rules never rebuild a derivative from the rounded output:
``sigmoid'`` is ``sigma(x) sigma(-x)``, not ``s (1 - s)``; ``tanh'`` is
``4 sigma(2x) sigma(-2x)``, not ``1 - t^2``; their own derivatives have closed
forms too (``-sigma'(x) tanh(x/2)`` and ``-2 tanh(x) tanh'(x)``), so tails and
second derivatives keep full relative precision.
"""

from __future__ import annotations

import fractions
import math

import jax
import jax.numpy as jnp
import numpy as np

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
    unflushed_times,
)
from jaxact._src.exact import two_prod, two_sum
from jaxact._src.registry import Kink, register

Array = jax.Array

__all__ = ["sigmoid", "log_sigmoid", "tanh", "soft_sign", "softsign", "laplace", "lisht"]


def _sigmoid_d2(x: Array) -> Array:
    return -elementary.logistic_prime(x) * elementary.tanh(0.5 * x)


# sigma'(x) = sigma(x) sigma(-x); its derivative -sigma'(x) tanh(x/2).
sigmoid_prime = rule(elementary.logistic_prime, _sigmoid_d2)
sigmoid_rule = rule(elementary.logistic, sigmoid_prime, together=True)  # one 1/(1 + e^|x|)


@register(
    monotonic=True,
    bounded=True,
    bounded_below=True,
    gain=1.0,
    paper="Rumelhart, Hinton, Williams 1986, Learning representations by back-propagating errors",
    names={"jax flax torch timm transformers keras": "sigmoid", "torch": "Sigmoid"},
    torch=("sigmoid", {}),
)
@half_remat
def sigmoid(x: ArrayLike) -> Array:
    r"""Logistic sigmoid.

    .. math::
      \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad
      \sigma'(x) = \sigma(x)\,\sigma(-x), \qquad
      \sigma''(x) = -\sigma'(x) \tanh(x/2)

    Smooth everywhere; the derivative keeps its relative precision in both
    tails (``sigmoid'(20)`` is ``2.06e-9`` in float32, where ``s(1-s)`` gives 0).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax, jax.numpy as jnp, jaxact
      >>> jaxact.sigmoid(jnp.array([-1.0, 0.0, 20.0]))
      Array([0.26894143, 0.5       , 1.        ], dtype=float32)
      >>> float(jax.grad(jaxact.sigmoid)(20.0))  # s(1-s) would give 0.0
      2.06115369216775e-09

    References:
      Verhulst's logistic function; used as a unit since Rumelhart, Hinton and
      Williams 1986.
    """
    x, dtype = prepare(x, "sigmoid")
    return finish(sigmoid_rule(x), dtype)


def _log_sigmoid_d1_value(x: Array) -> Array:
    return elementary.logistic(-x)


def _log_sigmoid_d2(x: Array) -> Array:
    return -sigmoid_prime(x)


# d/dx log sigma(x) = sigma(-x); its derivative -sigma'(x) (sigma' is even).
_log_sigmoid_d1 = rule(_log_sigmoid_d1_value, _log_sigmoid_d2)
_log_sigmoid = rule(elementary.log_logistic, _log_sigmoid_d1)


@register(
    monotonic=True,
    names={"jax flax keras": "log_sigmoid", "torch": "logsigmoid LogSigmoid"},
    torch=("logsigmoid", {}),
)
@half_remat
def log_sigmoid(x: ArrayLike) -> Array:
    r"""Log-sigmoid, ``log(sigmoid(x))`` computed without underflow.

    .. math::
      f(x) = -\log(1 + e^{-x}) = \min(x, 0) - \log(1 + e^{-|x|}), \qquad
      f'(x) = \sigma(-x), \qquad f''(x) = -\sigma(x)\sigma(-x)

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.log_sigmoid(-200.0))
      -200.0
    """
    x, dtype = prepare(x, "log_sigmoid")
    return finish(_log_sigmoid(x), dtype)


def _tanh_d1_value(x: Array) -> Array:
    # 4 sigma(2x) sigma(-2x); for |x| > 20 it is (2 e^{-|x|})^2 to the last bit,
    # and squaring e^{-|x|} keeps the result out of the flushed subnormal range
    # longer than forming e^{-2|x|} does.
    ax = jnp.abs(x)
    tail = jnp.square(2 * elementary.exp(-ax))
    return ops.where(ax > 20, tail, elementary.tanh_prime_core(x))


def _tanh_d2(x: Array) -> Array:
    # -2x near 0, formed so that a subnormal x still gives its normal result.
    small = unflushed_times(-2.0, x)
    return ops.where(jnp.abs(x) < 1e-30, small, -2 * elementary.tanh(x) * _tanh_d1_value(x))


_tanh_prime_accurate = rule(_tanh_d1_value, _tanh_d2)
_tanh_accurate = rule(elementary.tanh, _tanh_prime_accurate, together=True)  # one 1/(1 + e^{2|x|})


# Fast tier: f and f' = 4 e / (1 + e)^2 from one exp (e = e^{-2|x|} = h^2,
# elementary.gate; f' multiplied as (4 h r^2) h so that it stays normal while it is).


def _tanh_fast_d1_value(x: Array) -> Array:
    h, r = elementary.gate(2 * x)
    return ((4 * h) * (r * r)) * h


def _tanh_fast_d2(x: Array) -> Array:
    small = unflushed_times(-2.0, x)
    return ops.where(jnp.abs(x) < 1e-30, small, -2 * elementary.tanh(x) * _tanh_prime_fast(x))


_tanh_prime_fast = rule(_tanh_fast_d1_value, _tanh_fast_d2)
_tanh_fast = rule(elementary.tanh, _tanh_prime_fast, together=True)
tanh_rule = tiered(_tanh_fast, _tanh_accurate)
tanh_prime = tiered(_tanh_prime_fast, _tanh_prime_accurate)


@register(
    monotonic=True,
    bounded=True,
    bounded_below=True,
    zero_centred=True,
    gain=5.0 / 3.0,
    paper="LeCun, Bottou, Orr, Mueller 1998, Efficient BackProp",
    names={"jax flax torch timm transformers keras": "tanh", "torch": "Tanh"},
    torch=("tanh", {}),
)
@half_remat
def tanh(x: ArrayLike) -> Array:
    r"""Hyperbolic tangent.

    .. math::
      f(x) = \tanh x, \qquad f'(x) = 4\,\sigma(2x)\,\sigma(-2x), \qquad
      f''(x) = -2 \tanh(x) f'(x)

    The derivative keeps its relative precision for large ``|x|``
    (``tanh'(10)`` is ``8.24e-9`` in float32, where ``1 - t^2`` gives 0) and the
    second derivative near 0 (``tanh''(1e-8) = -2e-8``).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp, jaxact
      >>> jnp.round(jaxact.tanh(jnp.array([-1.0, 0.0, 0.5])), 6)
      Array([-0.761594,  0.      ,  0.462117], dtype=float32)
    """
    x, dtype = prepare(x, "tanh")
    return finish(tanh_rule(x), dtype)


def _soft_sign_value(x: Array) -> Array:
    # x / (1 + |x|) is accurate everywhere except inf / inf at +-inf.
    finite = jnp.isfinite(x)
    xs = ops.where(finite, x, 0.0)
    return ops.where(finite, xs / (1 + jnp.abs(xs)), jnp.sign(x))


def _soft_sign_d2(x: Array) -> Array:
    # -2 sign(x) / (1 + |x|)^3, with sign(0) = +1 (right limit, jax.nn's value).
    r = 1 / (1 + jnp.abs(x))
    sign = ops.where(negative(x), -1.0, 1.0).astype(x.dtype)
    return -2 * sign * r * r * r


def _soft_sign_d1_value(x: Array) -> Array:
    return 1 / jnp.square(1 + jnp.abs(x))


_soft_sign_d1 = rule(_soft_sign_d1_value, _soft_sign_d2)
_soft_sign = rule(_soft_sign_value, _soft_sign_d1)


@register(
    monotonic=True,
    bounded=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 2, -2.0),),
    paper="Elliott 1993, A better activation function for artificial neural networks",
    aliases=("softsign",),
    names={"jax flax": "soft_sign", "torch keras": "softsign", "torch": "Softsign"},
    torch=("softsign", {}),
)
@half_remat
def soft_sign(x: ArrayLike) -> Array:
    r"""Soft sign, an algebraic sigmoid-shaped function with values in (-1, 1).

    .. math::
      f(x) = \frac{x}{1 + |x|}, \qquad f'(x) = \frac{1}{(1 + |x|)^2}, \qquad
      f''(x) = \frac{-2\,\mathrm{sign}(x)}{(1 + |x|)^3}

    ``f(+-inf) = +-1`` (the quotient form gives ``inf / inf = NaN`` there) and
    ``f'`` is formed directly, not by the quotient rule. Kink: ``f''`` jumps
    from ``+2`` to ``-2`` at 0; ``f''(0) = -2`` (the right limit, as jax.nn).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.soft_sign(1.0))
      0.5

    References:
      Elliott 1993, A better activation function for artificial neural networks;
      Bergstra, Desjardins, Lamblin, Bengio 2009, Quadratic polynomials learn better
      image features.
    """
    x, dtype = prepare(x, "soft_sign")
    return finish(_soft_sign(x), dtype)


softsign = soft_sign


# Laplace: f = Phi((x - mu) / sigma) = erfc(w) / 2 with w = (mu - x) / (sigma sqrt 2).
# In the left tail (w >> 1) the relative error of f and f' is about 2 w^2 times the
# relative error of w, so w is formed in double-word arithmetic (w_hi + w_lo,
# error-free sum and Dekker products) and the low word enters as a first-order
# correction. That keeps f and f' within a few ulp down to underflow.

_INV_SQRT2 = 1 / math.sqrt(2)
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _inv_sqrt2_words(dtype: np.dtype) -> tuple[float, float]:
    """1/sqrt(2) as an unevaluated sum hi + lo of two numbers of ``dtype``."""
    hi = np.asarray(_INV_SQRT2, dtype)
    # 1/2 - hi^2 is exact as a fraction; lo = (1/2 - hi^2) / (2 hi) to first order.
    h = fractions.Fraction(float(hi))
    lo = float((fractions.Fraction(1, 2) - h * h) / (2 * h))
    return float(hi), float(np.asarray(lo, dtype))


def _laplace_arg(x: Array, mu: Array, sigma: Array) -> tuple[Array, Array, Array]:
    """(w_hi, w_lo, q): w_hi + w_lo = (mu - x)/(sigma sqrt 2) in double-word; q = w sqrt 2."""
    dt = x.dtype
    mu = jnp.asarray(mu, dt)
    sigma = jnp.asarray(sigma, dt)
    q = (mu - x) / sigma
    w = q * _INV_SQRT2
    # The low word only matters where erfc(w) or exp(-w^2) is not yet 0 or 2.
    safe = jnp.abs(w) < 64
    xs = ops.where(safe, x, mu)
    d_hi, d_lo = two_sum(mu, -xs)
    q_hi = d_hi / sigma
    p, pe = two_prod(q_hi, sigma)
    q_lo = (((d_hi - p) - pe) + d_lo) / sigma
    c_hi, c_lo = _inv_sqrt2_words(dt)
    w_hi, e1 = two_prod(q_hi, jnp.asarray(c_hi, dt))
    w_lo = e1 + (q_hi * c_lo + q_lo * c_hi)
    w_hi = ops.where(safe, w_hi, w)
    w_lo = ops.where(safe & jnp.isfinite(w_lo), w_lo, 0.0)
    return w_hi, w_lo, q


def _laplace_value(x: Array, mu: Array, sigma: Array) -> Array:
    # erfc(w_hi + w_lo) = erfc(w_hi) (1 - w_lo R), R = 2 exp(-w^2) / (sqrt(pi) erfc(w)),
    # applied as a relative correction (an additive one would underflow first).
    w_hi, w_lo, _ = _laplace_arg(x, mu, sigma)
    e = elementary.erfc(w_hi)
    pos = e > 0
    ratio = 2 * _INV_SQRT_PI * elementary.exp(-w_hi * w_hi) / ops.where(pos, e, 1.0)
    ratio = ops.where(pos, ratio, 2 * w_hi)
    corr = ops.where(jnp.isfinite(ratio), w_lo * ratio, 0.0)
    return 0.5 * e * (1 - corr)


def _gauss(x: Array, mu: Array, sigma: Array) -> tuple[Array, Array, Array]:
    """(e_hi, corr, q): f'(x) = exp(e_hi) * corr to a few ulp, e_hi exact input to exp."""
    w_hi, w_lo, q = _laplace_arg(x, mu, sigma)
    s_hi, s_lo = two_prod(w_hi, w_hi)
    # log(sigma sqrt(2 pi)) goes into the exponent so that no intermediate underflows.
    c = jnp.log(jnp.asarray(sigma, x.dtype)) + 0.5 * math.log(2 * math.pi)
    e_hi, e_lo = two_sum(-s_hi, -c)
    delta = e_lo - s_lo - 2 * w_hi * w_lo
    delta = ops.where(jnp.isfinite(delta), delta, 0.0)
    e_hi = ops.where(jnp.isnan(e_hi) & ~jnp.isnan(x), -jnp.inf, e_hi)
    return e_hi, 1 + delta, q


def _laplace_d1_value(x: Array, mu: Array, sigma: Array) -> Array:
    e_hi, corr, _ = _gauss(x, mu, sigma)
    return elementary.exp(e_hi) * corr


def _laplace_d2(x: Array, mu: Array, sigma: Array) -> Array:
    # (q / sigma) f'(x), with f' formed as exp(e_hi / 2)^2 so that it does not
    # underflow before the product does.
    e_hi, corr, q = _gauss(x, mu, sigma)
    half = elementary.exp(0.5 * e_hi)
    q = ops.where(jnp.isinf(q), 0.0, q)
    return ((q / sigma) * half * corr) * half


def _laplace_d1_dparams(x: Array, mu: Array, sigma: Array) -> tuple[Array, Array]:
    # d/dmu f' = -f''; d/dsigma f' = (t^2 - 1) f' / sigma with t = (x - mu) / sigma.
    d1 = _laplace_d1_value(x, mu, sigma)
    t = (x - jnp.asarray(mu, x.dtype)) / sigma
    t = ops.where(jnp.isinf(t), 0.0, t)
    return -_laplace_d2(x, mu, sigma), (t * t - 1) * d1 / sigma


# Not inlined: with mu and sigma as constants in the caller's trace, XLA's
# simplifier rewrites the error-free arithmetic of _gauss (4-6 ulp lost).
_laplace_d1 = rule(_laplace_d1_value, _laplace_d2, _laplace_d1_dparams, inline=False)


def _laplace_dparams(x: Array, mu: Array, sigma: Array) -> tuple[Array, Array]:
    d1 = _laplace_d1(x, mu, sigma)
    q = (jnp.asarray(mu, x.dtype) - x) / sigma
    return -d1, q * d1


_laplace = rule(_laplace_value, _laplace_d1, _laplace_dparams, inline=False)


@register(
    params={"mu": 0.707107, "sigma": 0.282095},
    domain={"sigma": "(0, inf)"},
    monotonic=True,
    bounded=True,
    bounded_below=True,
    paper="Ma et al. 2022, Mega: Moving Average Equipped Gated Attention, arXiv:2209.10655",
    names={"transformers": "laplace"},
)
@half_remat
def laplace(x: ArrayLike, mu: ArrayLike = 0.707107, sigma: ArrayLike = 0.282095) -> Array:
    r"""Laplace activation: the normal CDF with mean ``mu`` and scale ``sigma``.

    .. math::
      f(x) = \Phi\Big(\frac{x - \mu}{\sigma}\Big)
           = \tfrac12 \operatorname{erfc}\Big(\frac{\mu - x}{\sigma\sqrt2}\Big), \qquad
      f'(x) = \frac{1}{\sigma\sqrt{2\pi}} e^{-(x-\mu)^2 / (2\sigma^2)}, \qquad
      f''(x) = -\frac{x - \mu}{\sigma^2} f'(x)

    The ``erfc`` form keeps the left tail's relative precision (``1 + erf``
    cancels), and the argument is carried in double-word precision so that the
    tail of ``f`` and ``f'`` does not lose digits to the rounding of
    ``(x - mu) / sigma``. ``mu`` and ``sigma`` are differentiable:
    :math:`\partial f/\partial\mu = -f'(x)`,
    :math:`\partial f/\partial\sigma = -\frac{x-\mu}{\sigma} f'(x)`.
    Defaults are transformers' ``LaplaceActivation`` (``mu`` ~ 1/sqrt 2,
    ``sigma`` ~ 1/(2 sqrt pi)).

    Args:
      x: input array.
      mu: location (differentiable).
      sigma: positive scale (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.laplace(0.707107)), 6)
      0.5

    References:
      Ma, Zhou, Kong, He, Gui, Neubig, May, Zettlemoyer 2022, Mega: Moving Average
      Equipped Gated Attention, arXiv:2209.10655.
    """
    x, dtype = prepare(x, "laplace")
    mu = param(mu, "laplace", "mu", x)
    sigma = param(sigma, "laplace", "sigma", x, positive=True)
    return finish(_laplace(x, mu, sigma), dtype)


# lisht: f = x tanh(x).


def _lisht_d1_value(x: Array) -> Array:
    xm = ops.clip(x, -dw.BIG, dw.BIG)
    # f' = 2x to the last bit for |x| < 1e-20; 2x of a subnormal x (which XLA:CPU
    # reads as 0) is a normal number.
    small = jnp.abs(x) < 1e-20
    return ops.where(small, unflushed_times(2.0, x), elementary.tanh(xm) + xm * tanh_prime(xm))


def _lisht_d2_value(x: Array) -> Array:
    ax = jnp.abs(x)
    at = ops.clip(ax, 20.0, dw.BIG)
    xm = ops.clip(x, -20.0, 20.0)
    main = 2 * tanh_prime(xm) * (1 - xm * elementary.tanh(xm))
    return ops.where(ax > 20, dw.exp_times(8 * (1 - at), -2 * at), main)


_lisht = smooth_rule(lambda x: x * elementary.tanh(x), _lisht_d1_value, _lisht_d2_value)


@register(
    bounded_below=True,
    paper="Roy, Manna, Dubey, Chaudhuri 2019, LiSHT: Non-Parametric Linearly Scaled "
    "Hyperbolic Tangent Activation Function for Neural Networks, arXiv 1901.05894",
)
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
