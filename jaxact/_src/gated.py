"""Gated family: glu, swiglu, reglu, geglu, bilinear and maxout.

The gated units split ``x`` along ``axis`` into halves ``a`` (first) and ``b``
(second) and return ``a * g(b)``: the *first* half is the value and the
*second* half goes through the gate function ``g``, the convention of
``jax.nn.glu``, ``torch.nn.GLU`` and Keras. (Shazeer 2020 writes the activated
projection first, ``g(xW) * xV``; for a fused projection that is only a
permutation of the weight columns, and timm's ``SwiGLUPacked`` follows the
paper's order: swap the halves of ``x`` to reproduce it.)

Each unit is the product of ``a`` with a gate that has its own stable
derivative rule (``sigmoid``, ``swish_beta``, ``relu``, ``gelu``), so every
derivative (``da = g(b)``, ``db = a g'(b)`` and their derivatives) is accurate.
"""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import dw, ops
from jaxact._src.core import ArrayLike, finish, param, prepare, rule
from jaxact._src.gelu import gelu_erf_rule, gelu_tanh_rule
from jaxact._src.registry import library_function, register
from jaxact._src.relu import relu_rule
from jaxact._src.sigmoid import sigmoid_rule
from jaxact._src.swish import swish_beta_rule

Array = jax.Array

__all__ = ["glu", "swiglu", "reglu", "geglu", "bilinear", "maxout"]


def _axis(x: Array, axis: int, fn: str, arg: str = "axis") -> int:
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(
            f"jaxact.{fn}: argument '{arg}' must be an int, got {type(axis).__name__}"
        ) from None
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"jaxact.{fn}: argument '{arg}' {axis} is out of range for an input of "
            f"shape {tuple(x.shape)}"
        )
    return axis % x.ndim


def _halves(x: Array, axis: int, fn: str, arg: str = "axis") -> tuple[Array, Array]:
    axis = _axis(x, axis, fn, arg)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"jaxact.{fn}: {arg} {axis} of size {n} must be even")
    a, b = jnp.split(x, 2, axis=axis)
    return a, b


_TAIL = 40.0  # below b = -40, sigma(b) = e^b to the last bit (float64 too)


def _glu_value(a: Array, b: Array) -> Array:
    # a * e^b in the far negative tail, so that a * sigma(b) stays normal even
    # where sigma(b) alone would be subnormal (flushed to zero on CPU).
    tail = dw.exp_times(a, ops.clip(b, -1e4, -_TAIL))
    return ops.where(b < -_TAIL, tail, a * sigmoid_rule(b))


def _glu_da(a: Array, b: Array) -> Array:
    return sigmoid_rule(b)


def _glu_db(a: Array, b: Array) -> tuple[Array]:
    return (dw.sigmoid_prime_times(a, b),)


_glu = rule(_glu_value, _glu_da, _glu_db)


@register(
    kind="vector",
    paper="Dauphin et al. 2017, Language Modeling with Gated Convolutional Networks, "
    "arXiv:1612.08083",
    names={"jax flax torch keras": "glu", "torch": "GLU"},
)
def glu(x: ArrayLike, axis: int = -1) -> Array:
    r"""Gated linear unit: first half times the sigmoid of the second half.

    With ``a, b`` the first and second halves of ``x`` along ``axis``:

    .. math::
      f(a, b) = a\,\sigma(b), \qquad \frac{\partial f}{\partial a} = \sigma(b), \qquad
      \frac{\partial f}{\partial b} = a\,\sigma(b)\sigma(-b)

    Same convention as ``jax.nn.glu`` and ``torch.nn.GLU``; the gate's tails keep
    full relative precision.

    Args:
      x: input array; its size along ``axis`` must be even.
      axis: the axis to split (static).

    Returns:
      An array of ``x``'s dtype whose size along ``axis`` is halved.

    Example:
      >>> import jaxact
      >>> jaxact.glu(jnp.array([2.0, 0.0]))
      Array([1.], dtype=float32)

    References:
      Dauphin, Fan, Auli, Grangier 2017, Language Modeling with Gated
      Convolutional Networks, arXiv:1612.08083.
    """
    x, dtype = prepare(x, "glu")
    a, b = _halves(x, axis, "glu")
    return finish(_glu(a, b), dtype)


@library_function("glu", names={"torch": "glu GLU"})
def glu_torch(x: ArrayLike, dim: int = -1) -> Array:
    r"""PyTorch's ``glu``: :func:`glu` with torch's argument name ``dim``.

    Args:
      x: input array; its size along ``dim`` must be even.
      dim: the axis to split (static).

    Returns:
      An array of ``x``'s dtype whose size along ``dim`` is halved.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("torch:glu")(jnp.array([[2.0], [0.0]]), dim=0)
      Array([[1.]], dtype=float32)
    """
    x, dtype = prepare(x, "glu")
    a, b = _halves(x, dim, "glu", arg="dim")
    return finish(_glu(a, b), dtype)


@register(
    params={"beta": 1.0},
    domain={"beta": "(0, inf)"},
    kind="vector",
    paper="Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",
)
def swiglu(x: ArrayLike, axis: int = -1, beta: ArrayLike = 1.0) -> Array:
    r"""SwiGLU: first half times ``swish_beta`` of the second half.

    .. math::
      f(a, b) = a\,b\,\sigma(\beta b), \qquad
      \frac{\partial f}{\partial a} = b\,\sigma(\beta b), \qquad
      \frac{\partial f}{\partial b} = a\,\sigma(\beta b)\big(1 + \beta b\,\sigma(-\beta b)\big)

    The gate (activated) half is the *second* one, as in :func:`glu`; Shazeer's
    paper writes ``Swish(xW) * xV`` (activated first). ``beta`` is differentiable
    and broadcasts against one half.

    Args:
      x: input array; its size along ``axis`` must be even.
      axis: the axis to split (static).
      beta: positive swish slope (differentiable).

    Returns:
      An array of ``x``'s dtype whose size along ``axis`` is halved.

    Example:
      >>> import jaxact
      >>> jaxact.swiglu(jnp.array([2.0, 0.0]))
      Array([0.], dtype=float32)

    References:
      Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    x, dtype = prepare(x, "swiglu")
    a, b = _halves(x, axis, "swiglu")
    beta = param(beta, "swiglu", "beta", b, positive=True)
    return finish(a * swish_beta_rule(b, jnp.asarray(beta, b.dtype)), dtype)


@register(
    kind="vector",
    smooth=False,
    paper="Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",
)
def reglu(x: ArrayLike, axis: int = -1) -> Array:
    r"""ReGLU: first half times ``relu`` of the second half.

    .. math::
      f(a, b) = a\max(b, 0), \qquad \frac{\partial f}{\partial a} = \max(b, 0), \qquad
      \frac{\partial f}{\partial b} = a\,[b > 0]

    At ``b = 0`` the ``relu`` convention holds: ``df/db = 0``.

    Args:
      x: input array; its size along ``axis`` must be even.
      axis: the axis to split (static).

    Returns:
      An array of ``x``'s dtype whose size along ``axis`` is halved.

    Example:
      >>> import jaxact
      >>> jaxact.reglu(jnp.array([2.0, 3.0]))
      Array([6.], dtype=float32)

    References:
      Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    x, dtype = prepare(x, "reglu")
    a, b = _halves(x, axis, "reglu")
    return finish(a * relu_rule(b), dtype)


@register(
    kind="vector",
    paper="Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",
)
def geglu(x: ArrayLike, axis: int = -1, approximate: bool = False) -> Array:
    r"""GEGLU: first half times ``gelu`` of the second half.

    .. math::
      f(a, b) = a\,b\,\Phi(b), \qquad \frac{\partial f}{\partial a} = b\,\Phi(b), \qquad
      \frac{\partial f}{\partial b} = a\big(\Phi(b) + b\,\varphi(b)\big)

    ``approximate=True`` uses the tanh GELU (as Gemma-style models do).

    Args:
      x: input array; its size along ``axis`` must be even.
      axis: the axis to split (static).
      approximate: use ``gelu_tanh`` instead of the exact ``gelu_erf`` (static).

    Returns:
      An array of ``x``'s dtype whose size along ``axis`` is halved.

    Example:
      >>> import jaxact
      >>> jaxact.geglu(jnp.array([2.0, 0.0]))
      Array([0.], dtype=float32)

    References:
      Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    x, dtype = prepare(x, "geglu")
    if not isinstance(approximate, (bool, np.bool_)):
        raise TypeError(
            f"jaxact.geglu: argument 'approximate' must be a bool, got {type(approximate).__name__}"
        )
    a, b = _halves(x, axis, "geglu")
    gate = gelu_tanh_rule(b) if approximate else gelu_erf_rule(b)
    return finish(a * gate, dtype)


@register(
    kind="vector",
    paper="Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",
)
def bilinear(x: ArrayLike, axis: int = -1) -> Array:
    r"""Bilinear GLU: the product of the two halves.

    .. math::
      f(a, b) = a\,b, \qquad \frac{\partial f}{\partial a} = b, \qquad
      \frac{\partial f}{\partial b} = a

    Args:
      x: input array; its size along ``axis`` must be even.
      axis: the axis to split (static).

    Returns:
      An array of ``x``'s dtype whose size along ``axis`` is halved.

    Example:
      >>> import jaxact
      >>> jaxact.bilinear(jnp.array([2.0, 3.0]))
      Array([6.], dtype=float32)

    References:
      Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    x, dtype = prepare(x, "bilinear")
    a, b = _halves(x, axis, "bilinear")
    return finish(a * b, dtype)


@jax.custom_jvp
def _max_last(x: Array) -> Array:
    """Max over the last axis; the derivative is one-hot at the first argmax."""
    i = jnp.argmax(x, axis=-1, keepdims=True)
    return jnp.take_along_axis(x, i, axis=-1)[..., 0]


@_max_last.defjvp
def _max_last_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    (x,), (t,) = primals, tangents
    i = jnp.argmax(x, axis=-1, keepdims=True)
    y = jnp.take_along_axis(x, i, axis=-1)[..., 0]
    # argmax picks the first NaN when there is one, so y is NaN there; a NaN in
    # the group makes the derivative NaN too (a factor keeps it linear in t). The
    # factor is selected from arrays, not broadcast scalars: eagerly, under a mesh
    # with explicit axes, a broadcast of the concrete y lost its sharding.
    ty = jnp.take_along_axis(t, i, axis=-1)[..., 0]
    return y, ty * ops.where(jnp.isnan(y), y, jnp.ones_like(ty))


@register(
    kind="vector",
    smooth=False,
    paper="Goodfellow et al. 2013, Maxout Networks, arXiv:1302.4389",
)
def maxout(x: ArrayLike, num_pieces: int = 2, axis: int = -1) -> Array:
    r"""Maxout: the maximum over groups of ``num_pieces`` consecutive features.

    With ``k = num_pieces`` and the features along ``axis`` grouped as
    ``x[k j], ..., x[k j + k - 1]``:

    .. math::
      f_j(x) = \max_{0 \le i < k} x_{kj + i}, \qquad
      \frac{\partial f_j}{\partial x_{kj+i}} = [\,i = i^*\,]

    where ``i*`` is the *first* index attaining the maximum (ties give the whole
    gradient to the first one, not a share to each). A NaN in a group gives NaN
    for the value and for that group's derivative.

    Args:
      x: input array; its size along ``axis`` must be divisible by ``num_pieces``.
      num_pieces: group size ``k >= 1`` (static).
      axis: the feature axis (static).

    Returns:
      An array of ``x``'s dtype whose size along ``axis`` is divided by ``k``.

    Example:
      >>> import jaxact
      >>> jaxact.maxout(jnp.array([1.0, 3.0, -2.0, -5.0]))
      Array([ 3., -2.], dtype=float32)

    References:
      Goodfellow, Warde-Farley, Mirza, Courville, Bengio 2013, Maxout Networks,
      arXiv:1302.4389.
    """
    x, dtype = prepare(x, "maxout")
    if isinstance(num_pieces, (bool, np.bool_)) or not isinstance(num_pieces, (int, np.integer)):
        raise TypeError(
            f"jaxact.maxout: argument 'num_pieces' must be an int, got {type(num_pieces).__name__}"
        )
    if num_pieces < 1:
        raise ValueError(f"jaxact.maxout: argument 'num_pieces' must be >= 1, got {num_pieces}")
    axis = _axis(x, axis, "maxout")
    n = x.shape[axis]
    if n % num_pieces:
        raise ValueError(
            f"jaxact.maxout: axis {axis} of size {n} is not divisible by num_pieces={num_pieces}"
        )
    k = int(num_pieces)
    moved = jnp.moveaxis(x, axis, -1)
    grouped = moved.reshape(*moved.shape[:-1], n // k, k)
    return finish(jnp.moveaxis(_max_last(grouped), -1, axis), dtype)
