"""Identity and miscellaneous activations: identity, exponential, isru, isrlu, bent_identity.

The algebraic ones never form ``x^2`` where it can overflow: for ``|x| > 1`` they
are written in ``1/x`` (``sqrt(1 + x^2) = |x| sqrt(1 + 1/x^2)``), so the limits at
``+-inf`` come out right, and ``bent_identity`` uses ``x^2 / (2 (sqrt(x^2+1) + 1))``
instead of the cancelling ``(sqrt(x^2+1) - 1)/2``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxact._src import elementary, ops
from jaxact._src.core import (
    ArrayLike,
    finish,
    half_remat,
    integer_input,
    nan_like,
    negative,
    param,
    prepare,
    rule,
    unflushed_times,
)
from jaxact._src.registry import Kink, register

Array = jax.Array

__all__ = ["identity", "exponential", "isru", "isrlu", "bent_identity"]


# ---------------------------------------------------------------------------
# identity
# ---------------------------------------------------------------------------


def _identity_d2(x: Array) -> Array:
    return nan_like(x, jnp.zeros_like(x))


def _identity_d1_value(x: Array) -> Array:
    return nan_like(x, jnp.ones_like(x))


_identity = rule(lambda x: x, rule(_identity_d1_value, _identity_d2), levels=lambda: (1.0, 1.0))


@register(
    monotonic=True,
    zero_centred=True,
    gain=1.0,
    piecewise_linear=True,
    names={"jax flax timm": "identity", "torch": "Identity", "transformers keras": "linear"},
)
def identity(x: ArrayLike) -> Array:
    r"""Identity activation (``jax.nn.identity``, Keras ``linear``).

    .. math::
      f(x) = x, \qquad f'(x) = 1, \qquad f''(x) = 0

    Derivatives at NaN are NaN.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> float(jaxact.identity(2.0))
      2.0
    """
    xi = integer_input(x)
    if xi is not None:
        return xi  # integers stay integers, as in jax.nn
    x, dtype = prepare(x, "identity")
    return finish(_identity(x), dtype)


# ---------------------------------------------------------------------------
# exponential
# ---------------------------------------------------------------------------

_exp = rule(elementary.exp, rule(elementary.exp, elementary.exp))


@register(
    monotonic=True,
    bounded_below=True,
    names={"keras": "exponential"},
)
@half_remat
def exponential(x: ArrayLike) -> Array:
    r"""Exponential activation (Keras ``exponential``).

    .. math::
      f(x) = f'(x) = f''(x) = e^x

    Overflows to ``inf`` where ``e^x`` exceeds the dtype (``x > 88.72`` in
    float32, ``x > 11.09`` in float16); that is the true value rounded.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.exponential(1.0)), 6)
      2.718282
    """
    x, dtype = prepare(x, "exponential")
    return finish(_exp(x), dtype)


# ---------------------------------------------------------------------------
# isru / isrlu
# ---------------------------------------------------------------------------


def _isru_parts(x: Array, alpha: Array) -> tuple[Array, Array, Array]:
    """``f = x r``, ``r = 1/sqrt(1 + alpha x^2)`` and ``big = sqrt(alpha)|x| > 1``."""
    ra = jnp.sqrt(alpha)
    y = ra * jnp.abs(x)
    big = y > 1
    yb = ops.where(big, y, 1.0)  # 1/y^2 <= 1
    xs = ops.where(big, 0.0, x)  # alpha x^2 <= 1
    # rsqrt written out: XLA rewrites 1/sqrt to rsqrt in some pass orders and not
    # in others (a sharded program CSEs the sqrt first), which moved the value 2 ulp
    sb = lax.rsqrt(1 + 1 / (yb * yb))
    ss = lax.rsqrt(1 + alpha * xs * xs)
    f = ops.where(big, jnp.sign(x) * lax.rsqrt(alpha) * sb, xs * ss)
    r = ops.where(big, sb / yb, ss)
    return f, r, big


def _isru_value(x: Array, alpha: Array) -> Array:
    return _isru_parts(x, alpha)[0]


def _isru_d1_value(x: Array, alpha: Array) -> Array:
    # r^3 = r / (1 + alpha x^2); for y > 1, with t = 1/y: t^3 / (v sqrt v), v = 1 + t^2
    ra = jnp.sqrt(alpha)
    y = ra * jnp.abs(x)
    big = y > 1
    t = 1 / ops.where(big, y, 1.0)
    xs = ops.where(big, 0.0, x)
    v = 1 + t * t
    w = 1 + alpha * xs * xs
    return ops.where(big, (t * t * t) / (v * jnp.sqrt(v)), 1 / (w * jnp.sqrt(w)))


def _isru_d2(x: Array, alpha: Array) -> Array:
    f, r, _ = _isru_parts(x, alpha)
    # -3 alpha x r^5 = -3 alpha f r^4 (and -3 alpha x where x is subnormal, r = 1)
    d2 = -3 * alpha * f * (r * r) * (r * r)
    return ops.where(jnp.abs(x) < 1, unflushed_times(-3 * alpha * (r * r) * (r * r) * r, x), d2)


def _isru_dalpha(x: Array, alpha: Array) -> tuple[Array]:
    f = _isru_value(x, alpha)
    return (-0.5 * f * f * f,)


_isru_d1 = rule(_isru_d1_value, _isru_d2)
_isru = rule(_isru_value, _isru_d1, _isru_dalpha)


@register(
    params={"alpha": 1.0},
    domain={"alpha": "(0, inf)"},
    monotonic=True,
    bounded=True,
    bounded_below=True,
    zero_centred=True,
    paper="Carlile et al. 2017, Improving Deep Learning by Inverse Square Root Linear Units "
    "(ISRLUs), arXiv:1710.09967",
)
@half_remat
def isru(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Inverse square root unit.

    .. math::
      f(x) = \frac{x}{\sqrt{1 + \alpha x^2}}, \qquad
      f'(x) = (1 + \alpha x^2)^{-3/2}, \qquad
      f''(x) = -3\alpha x\,(1 + \alpha x^2)^{-5/2}

    Bounded by ``+-1/sqrt(alpha)`` (the limits at ``+-inf``); ``alpha x^2`` is
    never formed where it could overflow. ``d f / d alpha = -f^3 / 2``.

    Args:
      x: input array.
      alpha: positive scale (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.isru(1.0)), 6)
      0.707107

    References:
      Carlile, Delamarter, Kinney, Marti, Whitney 2017, Improving Deep Learning by
      Inverse Square Root Linear Units (ISRLUs), arXiv:1710.09967.
    """
    x, dtype = prepare(x, "isru")
    alpha = param(alpha, "isru", "alpha", x, positive=True)
    return finish(_isru(x, alpha), dtype)


def _isrlu_value(x: Array, alpha: Array) -> Array:
    neg = negative(x)
    return ops.where(neg, _isru_value(ops.where(neg, x, 0.0), alpha), x)


def _isrlu_d1_value(x: Array, alpha: Array) -> Array:
    neg = negative(x)
    d = ops.where(neg, _isru_d1_value(ops.where(neg, x, 0.0), alpha), 1.0)
    return nan_like(x, d)


def _isrlu_d2(x: Array, alpha: Array) -> Array:
    neg = negative(x)
    d = ops.where(neg, _isru_d2(ops.where(neg, x, 0.0), alpha), 0.0)
    return nan_like(x, d)


def _isrlu_dalpha(x: Array, alpha: Array) -> tuple[Array]:
    neg = negative(x)
    return (ops.where(neg, _isru_dalpha(ops.where(neg, x, 0.0), alpha)[0], 0.0),)


_isrlu_d1 = rule(_isrlu_d1_value, _isrlu_d2)
_isrlu = rule(_isrlu_value, _isrlu_d1, _isrlu_dalpha)


@register(
    params={"alpha": 1.0},
    domain={"alpha": "(0, inf)"},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 0.0)),
    paper="Carlile et al. 2017, Improving Deep Learning by Inverse Square Root Linear Units "
    "(ISRLUs), arXiv:1710.09967",
)
@half_remat
def isrlu(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Inverse square root linear unit.

    .. math::
      f(x) = \begin{cases} x & x \ge 0 \\ x / \sqrt{1 + \alpha x^2} & x < 0 \end{cases},
      \qquad
      f'(x) = \begin{cases} 1 \\ (1 + \alpha x^2)^{-3/2} \end{cases},
      \qquad
      f''(x) = \begin{cases} 0 \\ -3\alpha x (1 + \alpha x^2)^{-5/2} \end{cases}

    Twice continuously differentiable: at 0 both pieces give ``f'(0) = 1`` and
    ``f''(0) = 0`` (the third derivative jumps from ``-3 alpha`` to 0).

    Args:
      x: input array.
      alpha: positive scale of the negative part (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.isrlu(-1.0)), 6)
      -0.707107

    References:
      Carlile, Delamarter, Kinney, Marti, Whitney 2017, Improving Deep Learning by
      Inverse Square Root Linear Units (ISRLUs), arXiv:1710.09967.
    """
    x, dtype = prepare(x, "isrlu")
    alpha = param(alpha, "isrlu", "alpha", x, positive=True)
    return finish(_isrlu(x, alpha), dtype)


# ---------------------------------------------------------------------------
# bent_identity
# ---------------------------------------------------------------------------


def _bent_parts(x: Array) -> tuple[Array, Array, Array]:
    """(f, g, ih): f = x^2/(2(h+1)) + x, g = x/h, ih = 1/h with h = sqrt(x^2 + 1)."""
    ax = jnp.abs(x)
    big = ax > 1
    xb = ops.where(big, ax, 1.0)
    xs = ops.where(big, 0.0, x)
    sb = jnp.sqrt(1 + 1 / (xb * xb))  # h = |x| sb
    hs = jnp.sqrt(1 + xs * xs)
    # big: f = (|x| sb - 1)/2 + x, grouped so that nothing cancels (1 <= sb <= sqrt 2)
    fb = ops.where(x > 0, xb * ((sb + 2) / 2) - 0.5, -(xb * ((2 - sb) / 2) + 0.5))
    f = ops.where(big, fb, xs * xs / (2 * (hs + 1)) + xs)
    # rsqrt written out, as in isru (XLA's 1/sqrt -> rsqrt rewrite depends on pass order)
    g = ops.where(big, jnp.sign(x) * lax.rsqrt(1 + 1 / (xb * xb)), xs * lax.rsqrt(1 + xs * xs))
    ih = ops.where(big, 1 / (xb * sb), 1 / hs)
    return f, g, ih


def _bent_value(x: Array) -> Array:
    return _bent_parts(x)[0]


def _bent_d1_value(x: Array) -> Array:
    return 0.5 * _bent_parts(x)[1] + 1


def _bent_d2(x: Array) -> Array:
    ih = _bent_parts(x)[2]
    return 0.5 * ih * ih * ih


_bent = rule(_bent_value, rule(_bent_d1_value, _bent_d2))


@register(
    monotonic=True,
    zero_centred=True,
)
@half_remat
def bent_identity(x: ArrayLike) -> Array:
    r"""Bent identity.

    .. math::
      f(x) = \frac{\sqrt{x^2 + 1} - 1}{2} + x
           = \frac{x^2}{2(\sqrt{x^2+1} + 1)} + x, \qquad
      f'(x) = \frac{x}{2\sqrt{x^2 + 1}} + 1, \qquad
      f''(x) = \frac{1}{2 (x^2 + 1)^{3/2}}

    The second form avoids the cancellation near 0; for ``|x| > 1`` everything is
    written in ``1/x``, so nothing overflows and ``f(+-inf) = +-inf``,
    ``f'(+-inf) = 3/2, 1/2``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.bent_identity(1.0)), 6)
      1.207107
    """
    x, dtype = prepare(x, "bent_identity")
    return finish(_bent(x), dtype)
