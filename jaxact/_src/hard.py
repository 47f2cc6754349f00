"""Hard (piecewise-polynomial) and shrink activations.

hard_sigmoid, hard_tanh, hard_silu (= hard_swish), hard_mish, sparse_sigmoid,
hard_shrink, soft_shrink, tanh_shrink and threshold. The piecewise ones select
their pieces with ``jnp.where`` on ``x`` and have closed-form first and second
derivatives (masks of ``x``), so no branch can leak an inf/NaN derivative, the
backward pass keeps only ``x``, NaN propagates through values and derivatives,
and the kink values are pinned in ``SPECS`` (see each docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import elementary, ops
from jaxact._src.core import (
    ArrayLike,
    finish,
    half_remat,
    integer_input,
    is_concrete,
    nan_like,
    negative,
    param,
    positive,
    prepare,
    rule,
    unflushed_times,
    zero_derivative,
)
from jaxact._src.exact import two_prod, two_sum
from jaxact._src.registry import Kink, library_function, register
from jaxact._src.sigmoid import tanh_prime, tanh_rule

Array = jax.Array

__all__ = [
    "hard_sigmoid",
    "hard_tanh",
    "hard_silu",
    "hard_swish",
    "hard_mish",
    "sparse_sigmoid",
    "hard_shrink",
    "soft_shrink",
    "tanh_shrink",
    "threshold",
]


def _mask(x: Array, cond: Array, inside: float | Array = 1.0) -> Array:
    """``inside`` where ``cond``, else 0; NaN where ``x`` is NaN."""
    return nan_like(x, ops.where(cond, inside * jnp.ones_like(x), jnp.zeros_like(x)))


# hard_sigmoid = relu6(x + 3) / 6; f' = 1/6 on the open interval (jax.nn, torch).
def _hard_sigmoid_value(x: Array) -> Array:
    mid = (x + 3.0) / 6.0
    return ops.where(x <= -3.0, jnp.zeros_like(x), ops.where(x >= 3.0, jnp.ones_like(x), mid))


def _hard_sigmoid_d1(x: Array) -> Array:
    return _mask(x, (x > -3.0) & (x < 3.0), 1.0 / 6.0)


_hard_sigmoid = rule(
    _hard_sigmoid_value, rule(_hard_sigmoid_d1, zero_derivative), levels=lambda: (0.0, 1.0 / 6.0)
)


@register(
    monotonic=True,
    bounded=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(-3.0, 1, 0.0), Kink(3.0, 1, 0.0), Kink(-3.0, 2, 0.0), Kink(3.0, 2, 0.0)),
    paper="Howard et al. 2019, Searching for MobileNetV3, arXiv:1905.02244",
    piecewise_linear=True,
    names={
        "jax flax timm keras": "hard_sigmoid",
        "torch timm": "hardsigmoid",
        "torch": "Hardsigmoid",
    },
    torch=("hardsigmoid", {}),
)
def hard_sigmoid(x: ArrayLike) -> Array:
    r"""Hard sigmoid, ``relu6(x + 3) / 6`` (MobileNetV3).

    .. math::
      f(x) = \min\!\big(\max(\tfrac{x + 3}{6}, 0), 1\big), \qquad
      f'(x) = \tfrac16\,\mathbb{1}[-3 < x < 3], \qquad f''(x) = 0

    Kink convention (jax.nn and PyTorch): ``hard_sigmoid'(\pm 3) = 0`` (timm's
    memory-efficient variant gives 1/6), and ``hard_sigmoid''(\pm 3) = 0``.
    This is the ``relu6`` form used by every current library, not TF-Keras 2's
    ``clip(0.2 x + 0.5, 0, 1)``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.hard_sigmoid(jnp.array([-4.0, 0.0, 1.5, 4.0]))
      Array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)

    References:
      Howard et al. 2019, Searching for MobileNetV3, arXiv:1905.02244.
    """
    x, dtype = prepare(x, "hard_sigmoid")
    return finish(_hard_sigmoid(x), dtype)


# hard_tanh = clip(x, lo, hi); f' = 1 on the closed interval (jax.nn).
def _hard_tanh_value(x: Array, lo: Array, hi: Array) -> Array:
    lo = lo * jnp.ones_like(x)
    hi = hi * jnp.ones_like(x)
    return ops.where(x < lo, lo, ops.where(x > hi, hi, x))


def _above(x: Array, b: Array) -> Array:
    """x > b, through the sign bit where b is 0: a subnormal x compares as 0 (and
    x - b flushes to 0) where the CPU flushes subnormals."""
    return ops.where(b == 0, positive(x), x > b)


def _below(x: Array, b: Array) -> Array:
    """x < b, as :func:`_above`."""
    return ops.where(b == 0, negative(x), x < b)


def _hard_tanh_d1(x: Array, lo: Array, hi: Array) -> Array:
    return _mask(x, ~_below(x, lo) & ~_above(x, hi))


_hard_tanh = rule(
    _hard_tanh_value, rule(_hard_tanh_d1, zero_derivative), levels=lambda lo, hi: (0.0, 1.0)
)


@register(
    params={"min_val": -1.0, "max_val": 1.0},
    domain={"min_val": "[-inf, inf)", "max_val": "(min_val, inf]"},
    monotonic=True,
    bounded=True,
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(-1.0, 1, 1.0), Kink(1.0, 1, 1.0), Kink(-1.0, 2, 0.0), Kink(1.0, 2, 0.0)),
    paper="Collobert 2004, Large Scale Machine Learning (PhD thesis)",
    piecewise_linear=True,
    names={"jax flax keras": "hard_tanh", "torch": "hardtanh Hardtanh"},
    torch=("hardtanh", {}),
)
def hard_tanh(x: ArrayLike, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0) -> Array:
    r"""Hard tanh: the identity clipped to ``[min_val, max_val]``.

    .. math::
      f(x) = \min(\max(x, m), M), \qquad f'(x) = \mathbb{1}[m \le x \le M], \qquad
      \frac{\partial f}{\partial m} = \mathbb{1}[x < m], \qquad
      \frac{\partial f}{\partial M} = \mathbb{1}[x > M]

    The default range ``[-1, 1]`` is jax.nn's (fixed there); ``min_val`` and
    ``max_val`` are PyTorch's ``Hardtanh`` arguments. Kink convention (jax.nn):
    ``hard_tanh'(\pm 1) = 1`` (PyTorch gives 0), ``hard_tanh''(\pm 1) = 0``.

    Args:
      x: input array.
      min_val: lower bound ``m`` (differentiable).
      max_val: upper bound ``M > m`` (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.hard_tanh(jnp.array([-2.0, 0.5, 2.0]))
      Array([-1. ,  0.5,  1. ], dtype=float32)

    References:
      Collobert 2004, Large Scale Machine Learning (PhD thesis, Universite Paris VI).
    """
    xi = integer_input(x)
    if xi is not None and (min_val, max_val) == (-1.0, 1.0) and isinstance(min_val, float):
        # Integers stay integers, as in jax.nn. An unsigned integer is never below -1
        # (jax.nn converts -1 to the unsigned type, 255 for uint8, and clips every value
        # to it), so only the upper bound applies.
        if jnp.issubdtype(xi.dtype, jnp.unsignedinteger):
            return jnp.minimum(xi, jnp.ones_like(xi))
        return ops.clip(xi, -1, 1)
    return _clip(_hard_tanh, "hard_tanh", x, min_val, max_val)


def _clip(kernel: Callable[..., Array], fn: str, x: Any, min_val: Any, max_val: Any) -> Array:
    """``kernel(x, lo, hi)`` after the checks of ``fn``'s arguments."""
    x, dtype = prepare(x, fn)
    lo = param(min_val, fn, "min_val", x)
    hi = param(max_val, fn, "max_val", x)
    if is_concrete(lo) and is_concrete(hi):
        if np.any(np.asarray(hi, np.float64) <= np.asarray(lo, np.float64)):
            raise ValueError(
                f"jaxact.{fn}: argument 'max_val' ({max_val!r}) must be greater than "
                f"'min_val' ({min_val!r})"
            )
    return finish(kernel(x, lo, hi), dtype)


# torch's hardtanh: f' = 1 on the open interval, 0 at the bounds.
def _hard_tanh_torch_d1(x: Array, lo: Array, hi: Array) -> Array:
    return _mask(x, _above(x, lo) & _below(x, hi))


_hard_tanh_torch = rule(
    _hard_tanh_value,
    rule(_hard_tanh_torch_d1, zero_derivative),
    levels=lambda lo, hi: (0.0, 1.0),
)


@library_function("hard_tanh", names={"torch": "hardtanh Hardtanh"})
def hard_tanh_torch(x: ArrayLike, min_val: ArrayLike = -1.0, max_val: ArrayLike = 1.0) -> Array:
    r"""PyTorch's ``hardtanh``: :func:`hard_tanh` with torch's ``f'(min_val) = f'(max_val) = 0``.

    The same values; ``f'(min_val) = f'(max_val) = 0`` as in PyTorch (whose backward
    pass passes the gradient on the open interval only), where jax.nn and
    :func:`hard_tanh` give 1. ``jaxact.get("torch:hardtanh")`` and
    ``get("torch:Hardtanh")`` return it.

    Args:
      x: input array.
      min_val: lower bound ``m`` (differentiable).
      max_val: upper bound ``M > m`` (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact
      >>> jax.vmap(jax.grad(jaxact.get("torch:hardtanh")))(jnp.array([-1.0, 0.0, 1.0]))
      Array([0., 1., 0.], dtype=float32)
    """
    return _clip(_hard_tanh_torch, "hardtanh", x, min_val, max_val)


# hard_silu = x relu6(x + 3) / 6: 0 | x (x + 3) / 6 | x. At the corners the outer
# pieces are used (jax.nn): f'(-3) = 0, f'(3) = 1, f''(+-3) = 0.
def _hard_silu_value(x: Array) -> Array:
    xc = ops.clip(x, -3.0, 3.0)  # keeps the unselected quadratic finite
    mid = xc * (xc + 3.0) / 6.0
    return ops.where(x <= -3.0, jnp.zeros_like(x), ops.where(x >= 3.0, x, mid))


def _hard_silu_d1_value(x: Array) -> Array:
    xc = ops.clip(x, -3.0, 3.0)
    mid = (2.0 * xc + 3.0) / 6.0
    d = ops.where(x <= -3.0, jnp.zeros_like(x), ops.where(x >= 3.0, jnp.ones_like(x), mid))
    return nan_like(x, d)


def _hard_silu_d2(x: Array) -> Array:
    return _mask(x, (x > -3.0) & (x < 3.0), 1.0 / 3.0)


_hard_silu = rule(_hard_silu_value, rule(_hard_silu_d1_value, _hard_silu_d2))


@register(
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(-3.0, 1, 0.0), Kink(3.0, 1, 1.0), Kink(-3.0, 2, 0.0), Kink(3.0, 2, 0.0)),
    paper="Howard et al. 2019, Searching for MobileNetV3, arXiv:1905.02244",
    aliases=("hard_swish",),
    names={
        "jax flax keras": "hard_silu",
        "jax flax timm keras": "hard_swish",
        "torch timm transformers": "hardswish",
        "torch": "Hardswish",
    },
    torch=("hardswish", {}),
)
@half_remat
def hard_silu(x: ArrayLike) -> Array:
    r"""Hard SiLU (hard swish), ``x * relu6(x + 3) / 6`` (MobileNetV3).

    .. math::
      f(x) = \begin{cases} 0 & x \le -3 \\ x(x + 3)/6 & -3 < x < 3 \\ x & x \ge 3
      \end{cases}, \qquad
      f'(x) = \begin{cases} 0 & x \le -3 \\ (2x + 3)/6 & -3 < x < 3 \\ 1 & x \ge 3
      \end{cases}, \qquad
      f''(x) = \tfrac13\,\mathbb{1}[-3 < x < 3]

    Kink convention (jax.nn): the outer pieces own the corners,
    ``hard_silu'(-3) = 0``, ``hard_silu'(3) = 1``, ``hard_silu''(\pm 3) = 0``
    (PyTorch gives -0.5 and 1.5). ``hard_silu(-inf) = 0`` (jax.nn gives NaN).
    ``hard_swish`` is the same function.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.hard_silu(jnp.array([-4.0, 1.0, 4.0]))
      Array([0.       , 0.6666667, 4.       ], dtype=float32)

    References:
      Howard et al. 2019, Searching for MobileNetV3, arXiv:1905.02244.
    """
    x, dtype = prepare(x, "hard_silu")
    return finish(_hard_silu(x), dtype)


hard_swish = hard_silu


# hard_mish = x clip(x + 2, 0, 2) / 2: 0 | x (x + 2) / 2 | x; f' 0 | x + 1 | 1.
# Constant pieces own the corners: f'(-2) = 0, f''(-2) = 0, f''(0) = 0.
def _hard_mish_value(x: Array) -> Array:
    xc = ops.clip(x, -2.0, 0.0)
    mid = xc * (xc + 2.0) * 0.5  # halving last keeps x ~ -tiny from flushing
    return ops.where(x <= -2.0, jnp.zeros_like(x), ops.where(negative(x), mid, x))


def _hard_mish_d1_value(x: Array) -> Array:
    xc = ops.clip(x, -2.0, 0.0)
    d = ops.where(x <= -2.0, jnp.zeros_like(x), ops.where(negative(x), xc + 1.0, jnp.ones_like(x)))
    return nan_like(x, d)


def _hard_mish_d2(x: Array) -> Array:
    return _mask(x, (x > -2.0) & negative(x))


_hard_mish = rule(_hard_mish_value, rule(_hard_mish_d1_value, _hard_mish_d2))


@register(
    bounded_below=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(-2.0, 1, 0.0), Kink(-2.0, 2, 0.0), Kink(0.0, 2, 0.0)),
    paper="Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function, "
    "arXiv:1908.08681 (H-Mish variant from timm)",
    names={"timm": "hard_mish"},
)
@half_remat
def hard_mish(x: ArrayLike) -> Array:
    r"""Hard Mish (H-Mish, timm): a piecewise-quadratic Mish.

    .. math::
      f(x) = \tfrac12 x \min(\max(x + 2, 0), 2) =
      \begin{cases} 0 & x \le -2 \\ x(x + 2)/2 & -2 < x < 0 \\ x & x \ge 0 \end{cases},
      \qquad
      f'(x) = \begin{cases} 0 & x \le -2 \\ x + 1 & -2 < x < 0 \\ 1 & x \ge 0 \end{cases},
      \qquad f''(x) = \mathbb{1}[-2 < x < 0]

    ``f`` is C1 at 0 and ``f'`` jumps from 0 to -1 at -2. Kink convention: the
    constant pieces own the corners, ``hard_mish'(-2) = 0``,
    ``hard_mish''(-2) = 0`` and ``hard_mish''(0) = 0``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.hard_mish(jnp.array([-3.0, -1.0, 2.0]))
      Array([ 0. , -0.5,  2. ], dtype=float32)

    References:
      Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function,
      arXiv:1908.08681 (H-Mish: timm, ``timm.layers.activations.hard_mish``).
    """
    x, dtype = prepare(x, "hard_mish")
    return finish(_hard_mish(x), dtype)


# timm's hard_mish (both its autograd and its memory-efficient backward) takes the
# middle piece at x = -2: f'(-2) = -1, f''(-2) = 1.
def _hard_mish_timm_d1_value(x: Array) -> Array:
    xc = ops.clip(x, -2.0, 0.0)
    d = ops.where(x < -2.0, jnp.zeros_like(x), ops.where(negative(x), xc + 1.0, jnp.ones_like(x)))
    return nan_like(x, d)


def _hard_mish_timm_d2(x: Array) -> Array:
    return _mask(x, (x >= -2.0) & negative(x))


_hard_mish_timm = rule(_hard_mish_value, rule(_hard_mish_timm_d1_value, _hard_mish_timm_d2))


@library_function("hard_mish", names={"timm": "hard_mish"})
def hard_mish_timm(x: ArrayLike) -> Array:
    r"""timm's ``hard_mish``: :func:`hard_mish` with timm's ``f'(-2) = -1``.

    The same values; timm's backward passes (``clamp``'s, which includes the
    bounds, and its memory-efficient one) take the middle piece at ``x = -2``,
    ``f'(-2) = -1`` (and ``f''(-2) = 1``), where :func:`hard_mish` gives 0.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact
      >>> jax.vmap(jax.grad(jaxact.get("timm:hard_mish")))(jnp.array([-3.0, -2.0, 1.0]))
      Array([ 0., -1.,  1.], dtype=float32)
    """
    x, dtype = prepare(x, "hard_mish")
    return finish(_hard_mish_timm(x), dtype)


# sparse_sigmoid = clip(x + 1, 0, 2) / 2; f' = 1/2 on the open interval (the
# flat pieces own the corners, replacing jax.nn's 0.25 from clip's tie rule).
def _sparse_sigmoid_value(x: Array) -> Array:
    mid = 0.5 * (x + 1.0)
    return ops.where(x <= -1.0, jnp.zeros_like(x), ops.where(x >= 1.0, jnp.ones_like(x), mid))


def _sparse_sigmoid_d1(x: Array) -> Array:
    return _mask(x, (x > -1.0) & (x < 1.0), 0.5)


_sparse_sigmoid = rule(
    _sparse_sigmoid_value, rule(_sparse_sigmoid_d1, zero_derivative), levels=lambda: (0.0, 0.5)
)


@register(
    monotonic=True,
    bounded=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(-1.0, 1, 0.0), Kink(1.0, 1, 0.0), Kink(-1.0, 2, 0.0), Kink(1.0, 2, 0.0)),
    paper="Blondel, Martins, Niculae 2019, Learning with Fenchel-Young Losses, arXiv:1901.02324",
    piecewise_linear=True,
    names={"jax keras": "sparse_sigmoid"},
)
def sparse_sigmoid(x: ArrayLike) -> Array:
    r"""Sparse sigmoid, the derivative of ``sparse_plus``.

    .. math::
      f(x) = \tfrac12 \min(\max(x + 1, 0), 2), \qquad
      f'(x) = \tfrac12\,\mathbb{1}[-1 < x < 1], \qquad f''(x) = 0

    Kink convention: ``sparse_sigmoid'(\pm 1) = 0`` (the flat pieces own the
    corners; jax.nn returns 0.25 there from ``clip``'s tie rule) and
    ``sparse_sigmoid''(\pm 1) = 0``.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.sparse_sigmoid(jnp.array([-2.0, 0.0, 0.5, 2.0]))
      Array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)

    References:
      Blondel, Martins, Niculae 2019, Learning with Fenchel-Young Losses,
      arXiv:1901.02324.
    """
    x, dtype = prepare(x, "sparse_sigmoid")
    return finish(_sparse_sigmoid(x), dtype)


# Shrinkage: f' = 1[|x| > lambda] (0 at +-lambda: the flat piece owns it).
def _hard_shrink_value(x: Array, lambd: Array) -> Array:
    return ops.where(jnp.abs(x) <= lambd, jnp.zeros_like(x), x)


def _shrink_d1(x: Array, lambd: Array) -> Array:
    return _mask(x, jnp.abs(x) > lambd)


_shrink_d1_rule = rule(_shrink_d1, zero_derivative)
_hard_shrink = rule(_hard_shrink_value, _shrink_d1_rule, levels=lambda lambd: (0.0, 1.0))


@register(
    params={"lambd": 0.5},
    domain={"lambd": "[0, inf]"},
    monotonic=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(-0.5, 1, 0.0), Kink(0.5, 1, 0.0), Kink(-0.5, 2, 0.0), Kink(0.5, 2, 0.0)),
    piecewise_linear=True,
    names={"torch": "hardshrink Hardshrink", "keras": "hard_shrink"},
    torch=("hardshrink", {}),
)
def hard_shrink(x: ArrayLike, lambd: ArrayLike = 0.5) -> Array:
    r"""Hard shrinkage: zero inside ``[-lambd, lambd]``, the identity outside.

    .. math::
      f(x) = x\,\mathbb{1}[|x| > \lambda], \qquad f'(x) = \mathbb{1}[|x| > \lambda],
      \qquad \frac{\partial f}{\partial \lambda} = 0 \text{ (almost everywhere)}

    Kink convention: the flat piece owns the corners, ``hard_shrink'(\pm\lambda) = 0``
    (``f(\pm\lambda) = 0`` too), and ``hard_shrink''(\pm\lambda) = 0``. Default
    ``lambd = 0.5`` (PyTorch ``Hardshrink``, Keras ``hard_shrink(threshold)``).

    Args:
      x: input array.
      lambd: non-negative threshold.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.hard_shrink(jnp.array([-1.0, 0.5, 0.25, 2.0]))
      Array([-1.,  0.,  0.,  2.], dtype=float32)
    """
    x, dtype = prepare(x, "hard_shrink")
    lambd = param(lambd, "hard_shrink", "lambd", x, nonnegative=True)
    return finish(_hard_shrink(x, lambd), dtype)


@library_function("hard_shrink", names={"keras": "hard_shrink"}, domain={"threshold": "[0, inf]"})
def hard_shrink_keras(x: ArrayLike, threshold: ArrayLike = 0.5) -> Array:
    r"""Keras' ``hard_shrink``: :func:`hard_shrink` under Keras' argument name.

    Args:
      x: input array.
      threshold: the half-width ``lambd >= 0`` of the zero band (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("keras:hard_shrink")(jnp.array([-1.0, 0.2, 1.0]), threshold=0.5)
      Array([-1.,  0.,  1.], dtype=float32)
    """
    x, dtype = prepare(x, "hard_shrink")
    lambd = param(threshold, "hard_shrink", "threshold", x, nonnegative=True)
    return finish(_hard_shrink(x, lambd), dtype)


def _soft_shrink_value(x: Array, lambd: Array) -> Array:
    out = ops.where(x > 0.0, x - lambd, x + lambd)  # NaN takes the second branch
    return ops.where(jnp.abs(x) <= lambd, jnp.zeros_like(x), out)


_soft_shrink = rule(_soft_shrink_value, _shrink_d1_rule, levels=lambda lambd: (0.0, 1.0))


@register(
    params={"lambd": 0.5},
    domain={"lambd": "[0, inf]"},
    monotonic=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(-0.5, 1, 0.0), Kink(0.5, 1, 0.0), Kink(-0.5, 2, 0.0), Kink(0.5, 2, 0.0)),
    paper="Donoho 1995, De-noising by soft-thresholding, IEEE Trans. Inf. Theory 41(3)",
    piecewise_linear=True,
    names={"torch": "softshrink Softshrink", "keras": "soft_shrink"},
    torch=("softshrink", {}),
)
def soft_shrink(x: ArrayLike, lambd: ArrayLike = 0.5) -> Array:
    r"""Soft shrinkage (soft thresholding), the proximal operator of ``lambd |x|``.

    .. math::
      f(x) = \operatorname{sign}(x) \max(|x| - \lambda, 0), \qquad
      f'(x) = \mathbb{1}[|x| > \lambda], \qquad
      \frac{\partial f}{\partial \lambda} = -\operatorname{sign}(x)\,\mathbb{1}[|x| > \lambda]

    Kink convention: the flat piece owns the corners, ``soft_shrink'(\pm\lambda) = 0``
    and ``soft_shrink''(\pm\lambda) = 0``. Default ``lambd = 0.5`` (PyTorch
    ``Softshrink``, Keras ``soft_shrink(threshold)``).

    Args:
      x: input array.
      lambd: non-negative threshold (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.soft_shrink(jnp.array([-1.0, 0.25, 2.0]))
      Array([-0.5,  0. ,  1.5], dtype=float32)

    References:
      Donoho 1995, De-noising by soft-thresholding, IEEE Trans. Inf. Theory 41(3).
    """
    x, dtype = prepare(x, "soft_shrink")
    lambd = param(lambd, "soft_shrink", "lambd", x, nonnegative=True)
    return finish(_soft_shrink(x, lambd), dtype)


@library_function("soft_shrink", names={"keras": "soft_shrink"}, domain={"threshold": "[0, inf]"})
def soft_shrink_keras(x: ArrayLike, threshold: ArrayLike = 0.5) -> Array:
    r"""Keras' ``soft_shrink``: :func:`soft_shrink` under Keras' argument name.

    Args:
      x: input array.
      threshold: the shrinkage ``lambd >= 0`` (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("keras:soft_shrink")(jnp.array([-1.0, 0.2, 1.0]), threshold=0.5)
      Array([-0.5,  0. ,  0.5], dtype=float32)
    """
    x, dtype = prepare(x, "soft_shrink")
    lambd = param(threshold, "soft_shrink", "threshold", x, nonnegative=True)
    return finish(_soft_shrink(x, lambd), dtype)


# tanh_shrink = x - tanh x, odd, f ~ x^3/3 near 0. On a = |x|, in three ranges:
# * a < 1/2: x^3/3 + x^5 S(x^2). x^3 and x^3/3 are carried as double words
#   (two_prod), so only the tail x^5 S (under 0.11 f) carries rounding errors.
#   Below 2^-30 (tail negligible) a is scaled by 2^_TS_SCALE first, so that the low
#   words stay normal, and the result is scaled back.
# * 1/2 <= a < 2: six pieces [a_k, a_k + 1/4), f = c0 + t (c1 + t Q_k(t)) with
#   t = a - a_k (exact); c0, c1 are double words and the last two Horner steps
#   are error-free (two_prod, two_sum), so only t^2 Q_k (under 0.25 f) is rounded.
# * a >= 2: a - tanh a (tanh a <= a/2 there: under an ulp).
# Coefficients: mpmath.chebyfit at 60 digits (Chebyshev interpolation) of
# S(z) = (f(x)/x^3 - 1/3)/z on z in [0, 1/4] (6 / 11 terms, float32 / float64) and
# of f(a_k + t) on t in [0, 1/4] (8 / 13 terms), rounded to the dtype; c0, c1 as
# hi, lo pairs. Fit errors: below 4e-10 (float32) and 9e-18 (float64) of f.
# Rows of _TS_P_*: c0 hi, c0 lo, c1 hi, c1 lo, c2, c3, ...
_TS_S_F32 = (
    -0.13333334028720856,
    0.053968239575624466,
    -0.02186877653002739,
    0.008850911632180214,
    -0.0034942864440381527,
    0.0010860584443435073,
)
_TS_P_F32 = (
    (
        0.03788284212350845,
        6.14907846863133e-10,
        0.21355226635932922,
        1.4761120104012093e-09,
        0.363430917263031,
        0.09420351684093475,
        -0.1647035926580429,
        0.027412932366132736,
        0.049888934940099716,
        -0.02952186018228531,
    ),
    (
        0.11485105007886887,
        -2.4709214674345503e-09,
        0.40341418981552124,
        4.3436481078629186e-09,
        0.37892064452171326,
        -0.04180265963077545,
        -0.09985575824975967,
        0.0649280846118927,
        -0.0032515311613678932,
        -0.011089722625911236,
    ),
    (
        0.23840583860874176,
        5.433739236337942e-09,
        0.5800256729125977,
        -1.3627154515916118e-08,
        0.3198499381542206,
        -0.10360197722911835,
        -0.027751941233873367,
        0.046660859137773514,
        -0.020708486437797546,
        0.002557140775024891,
    ),
    (
        0.40171635150909424,
        8.533564965773621e-09,
        0.719585120677948,
        1.3053931269269015e-08,
        0.23787134885787964,
        -0.10831096768379211,
        0.01259088609367609,
        0.01917238160967827,
        -0.015130525454878807,
        0.004752844572067261,
    ),
    (
        0.5948517322540283,
        1.4101595446902593e-08,
        0.8192933797836304,
        -1.8958379754963062e-08,
        0.16356632113456726,
        -0.08781687915325165,
        0.024975217878818512,
        0.0025688146706670523,
        -0.00666385842487216,
        0.002909092465415597,
    ),
    (
        0.8086244463920593,
        1.511096314743554e-08,
        0.8861879110336304,
        -6.710925148922797e-09,
        0.1071399375796318,
        -0.06292196363210678,
        0.023526303470134735,
        -0.00375508819706738,
        -0.0016923542134463787,
        0.0011909987078979611,
    ),
)
_TS_S_F64 = (
    -0.13333333333333333,
    0.053968253968253554,
    -0.02186948853608865,
    0.008863235525732788,
    -0.0035921279023247246,
    0.0014558318582275247,
    -0.0005899976228565356,
    0.00023890187148381905,
    -9.579052341928215e-05,
    3.5744412631158804e-05,
    -9.302623983870165e-06,
)
_TS_P_F64 = (
    (
        0.03788284273999024,
        -1.3799710877847318e-18,
        0.21355226703407296,
        1.1495283092793505e-17,
        0.36343099069170914,
        0.09420154805068554,
        -0.16467581548991797,
        0.02722239624892741,
        0.05038809661638893,
        -0.028599848077253427,
        -0.008020840267611764,
        0.013542267313673808,
        -0.0022386175621988648,
        -0.0038010960583171704,
        0.0021008488505801673,
    ),
    (
        0.11485104761271268,
        -3.31450585182195e-18,
        0.4034141917186688,
        -7.642723566833145e-18,
        0.3789208511389562,
        -0.04180924554004585,
        -0.09975185209373122,
        0.06403624309363709,
        0.0009984237092913843,
        -0.021644818403302107,
        0.010386405086606263,
        0.002057400947370107,
        -0.004657170443917215,
        0.0021458259692740465,
        -0.00029517005308494777,
    ),
    (
        0.23840584404423512,
        -9.270781560046758e-18,
        0.5800256583859739,
        -1.9214355857842028e-17,
        0.31985000422463156,
        -0.10360444679691456,
        -0.027712126787102373,
        0.04630744421836985,
        -0.01892229045563048,
        -0.0024385929961310174,
        0.006874947708721954,
        -0.003279401827055273,
        -3.532145320487101e-05,
        0.0008507366592689375,
        -0.00037223109732897934,
    ),
    (
        0.4017163600424871,
        -1.7073659611488306e-17,
        0.7195851338195673,
        -8.937754229587589e-18,
        0.2378713433817441,
        -0.10831074694599004,
        0.012587786903164437,
        0.019194126305902712,
        -0.015191947771952178,
        0.004675433641893954,
        0.0008755312054232383,
        -0.0017120176962670149,
        0.0008727040279069876,
        -0.00018281397195418498,
        -1.2401135646857557e-05,
    ),
    (
        0.5948517463551336,
        -4.1993923648312614e-17,
        0.8192933610763514,
        4.902277955246912e-17,
        0.16356629864377334,
        -0.08781620326463402,
        0.024964583476586158,
        0.0026597155884226483,
        -0.0070941590613072735,
        0.003965680855077926,
        -0.0010162861841973507,
        -0.0001949594489552817,
        0.00033854074203184484,
        -0.0001732701660935246,
        4.182562050442119e-05,
    ),
    (
        0.8086244615027126,
        2.7366205762800303e-17,
        0.8861879044810578,
        -1.0589253196956234e-17,
        0.107139922706648,
        -0.06292153725946505,
        0.023519488448071325,
        -0.0036959829271074407,
        -0.0019796361274308947,
        0.0019382109525753989,
        -0.0008689554188284299,
        0.00019969686768225593,
        2.779392262665592e-05,
        -4.694075182954689e-05,
        1.676518836192988e-05,
    ),
)
_TS_THIRD = {
    jnp.float32: (0.3333333432674408, -9.934107758624577e-09),
    jnp.float64: (0.3333333333333333, 1.850371707708594e-17),
}
_TS_SCALE = {jnp.float32: 40, jnp.float64: 300}


def _horner(coeffs: Sequence[Any], z: Array) -> Array:
    acc = coeffs[-1] * jnp.ones_like(z)
    for c in reversed(coeffs[:-1]):
        acc = acc * z + c
    return acc


def _tanh_shrink_piece(col: Sequence[float], k: Array) -> Array:
    """``col[k]`` for the piece index ``k`` (a float array of 0, 1, ...), by selects:
    a gather from a constant table has no sharding to give its result under a mesh
    of explicit axes (sharding in types); a select takes ``k``'s."""
    out = jnp.full_like(k, col[0])
    for i, c in enumerate(col[1:], start=1):
        out = ops.where(k >= i, c, out)
    return out


def _tanh_shrink_value(x: Array) -> Array:
    f64 = x.dtype == jnp.float64
    key = jnp.float64 if f64 else jnp.float32
    s_coeffs, p_rows = (_TS_S_F64, _TS_P_F64) if f64 else (_TS_S_F32, _TS_P_F32)
    a = jnp.abs(x)
    # a < 1/2: x^3/3 as q + corr, tail x^5 S(x^2).
    tiny = a < 2.0**-30
    scale = _TS_SCALE[key]
    b = ops.where(tiny, a * 2.0**scale, jnp.minimum(a, 0.5))
    zh, zl = two_prod(b, b)
    ch, cl = two_prod(zh, b)
    cl = cl + zl * b
    th, tl = _TS_THIRD[key]
    q, qe = two_prod(ch, jnp.full_like(b, th))
    corr = qe + (ch * tl + cl * th)
    tail = ops.where(tiny, 0.0, ch * (zh * _horner(s_coeffs, zh)))
    small = (q + (corr + tail)) * ops.where(tiny, 2.0 ** (-3 * scale), 1.0).astype(b.dtype)
    # 1/2 <= a < 2: piece k, t = a - a_k.
    k = ops.clip(jnp.floor((a - 0.5) * 4.0), 0, len(p_rows) - 1)
    t = ops.clip(a - (0.5 + 0.25 * k), 0.0, 0.25)
    cols = [_tanh_shrink_piece(col, k) for col in zip(*p_rows, strict=True)]
    v = t * _horner(cols[4:], t)
    ih, il = two_sum(cols[2], v)
    ph, pl = two_prod(t, ih)
    pl = pl + t * (il + cols[3])
    s, e = two_sum(cols[0], ph)
    mid = s + (e + (pl + cols[1]))
    big = a - elementary.tanh(a)
    r = ops.where(a < 0.5, small, ops.where(a < 2.0, mid, big))
    return jnp.copysign(r, x)


def _tanh_shrink_d1_value(x: Array) -> Array:
    t = elementary.tanh(x)
    return t * t


def _tanh_shrink_d2(x: Array) -> Array:
    # 2 tanh(x) tanh'(x); it is 2x to the last bit for |x| < 1e-10, doubled
    # through the bit pattern so that subnormal x still gives 2x.
    tiny_x = jnp.abs(x) < 1e-10
    doubled = unflushed_times(2.0, x)
    return ops.where(tiny_x, doubled, 2 * tanh_rule(x) * tanh_prime(x))


_tanh_shrink_d1 = rule(_tanh_shrink_d1_value, _tanh_shrink_d2)
_tanh_shrink = rule(_tanh_shrink_value, _tanh_shrink_d1)


@register(
    monotonic=True,
    zero_centred=True,
    names={"torch": "tanhshrink Tanhshrink", "keras": "tanh_shrink"},
    torch=("tanhshrink", {}),
)
@half_remat
def tanh_shrink(x: ArrayLike) -> Array:
    r"""Tanh shrinkage, ``x - tanh(x)``.

    .. math::
      f(x) = x - \tanh x, \qquad f'(x) = \tanh^2 x, \qquad
      f''(x) = 2 \tanh(x) \tanh'(x)

    For ``|x| < 2`` the value comes from fitted polynomials (``x^3/3 + x^5 S(x^2)``
    below 1/2, with ``x^3/3`` carried as a double word), so small inputs keep their
    relative precision (``f(x) ~ x^3/3``; ``tanh_shrink(1e-3)`` is ``3.3333e-10``,
    where ``x - tanh x`` loses every digit).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> print(f"{float(jaxact.tanh_shrink(jnp.float32(1e-3))):.5e}")
      3.33333e-10
    """
    x, dtype = prepare(x, "tanh_shrink")
    return finish(_tanh_shrink(x), dtype)


# threshold: x if x > theta else value; f' = 1[x > theta] (0 at theta).
def _threshold_value(x: Array, theta: Array, value: Array) -> Array:
    return ops.where(x <= theta, value * jnp.ones_like(x), x)  # NaN passes through


def _threshold_d1(x: Array, theta: Array, value: Array) -> Array:
    return _mask(x, x > theta)


_threshold = rule(
    _threshold_value, rule(_threshold_d1, zero_derivative), levels=lambda theta, value: (0.0, 1.0)
)


@register(
    params={"threshold": 0.0, "value": 0.0},
    domain={"threshold": "[-inf, inf]", "value": "[-inf, inf]"},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(0.0, 1, 0.0), Kink(0.0, 2, 0.0)),
    piecewise_linear=True,
    names={"torch keras": "threshold", "torch": "Threshold"},
)
def threshold(x: ArrayLike, threshold: ArrayLike, value: ArrayLike) -> Array:
    r"""Threshold: ``x`` above ``threshold``, a constant ``value`` at or below it.

    .. math::
      f(x) = \begin{cases} x & x > \theta \\ v & x \le \theta \end{cases}, \qquad
      f'(x) = \mathbb{1}[x > \theta], \qquad
      \frac{\partial f}{\partial v} = \mathbb{1}[x \le \theta], \qquad
      \frac{\partial f}{\partial \theta} = 0

    PyTorch's ``Threshold(threshold, value)`` and Keras's
    ``threshold(x, threshold, default_value)``; both arguments are required.
    Kink convention: the flat piece owns the corner, ``threshold'(\theta) = 0``
    and ``threshold''(\theta) = 0``.

    Args:
      x: input array.
      threshold: ``theta``.
      value: ``v``, the output at or below ``theta`` (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.threshold(jnp.array([-1.0, 0.5, 2.0]), 0.5, -3.0)
      Array([-3., -3.,  2.], dtype=float32)
    """
    x, dtype = prepare(x, "threshold")
    theta = param(threshold, "threshold", "threshold", x)
    value = param(value, "threshold", "value", x)
    return finish(_threshold(x, theta, value), dtype)


@library_function(
    "threshold",
    names={"keras": "threshold"},
    domain={"threshold": "[-inf, inf]", "default_value": "[-inf, inf]"},
)
def threshold_keras(x: ArrayLike, threshold: ArrayLike, default_value: ArrayLike) -> Array:
    r"""Keras' ``threshold``: :func:`threshold` under Keras' argument names.

    ``x`` above ``threshold``, ``default_value`` at or below it.

    Args:
      x: input array.
      threshold: the threshold (differentiable).
      default_value: the value at or below it (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("keras:threshold")(jnp.array([0.0, 2.0]), threshold=1.0, default_value=-1.0)
      Array([-1.,  2.], dtype=float32)
    """
    x, dtype = prepare(x, "threshold")
    theta = param(threshold, "threshold", "threshold", x)
    value = param(default_value, "threshold", "default_value", x)
    return finish(_threshold(x, theta, value), dtype)
