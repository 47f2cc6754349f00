"""ReLU family: relu, relu6, leaky_relu, prelu, rrelu, relu2, star_relu, crelu.

Every derivative here is a mask of ``x`` (``1[x > 0]``, ``1[0 < x < 6]`` ...),
never rebuilt from the output, so a backward pass keeps only ``x``. The masks
compare through the sign bit (:func:`~jaxact._src.core.positive`), so subnormal
inputs take the right branch, and NaN inputs give NaN values and derivatives.
The first derivatives carry rules of their own, so second derivatives are
exact too (0 on the linear pieces, with the kink values pinned in ``SPECS``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import ops
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
from jaxact._src.registry import Kink, library_function, register

Array = jax.Array

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "prelu",
    "rrelu",
    "relu2",
    "squared_relu",
    "star_relu",
    "crelu",
]


# relu: f' = 1[x > 0] (0 at 0, jax.nn and torch), f'' = 0.
def _relu_value(x: Array) -> Array:
    return ops.where(positive(x) | jnp.isnan(x), x, jnp.zeros_like(x))


def _relu_d1_value(x: Array) -> Array:
    return nan_like(x, ops.where(positive(x), jnp.ones_like(x), jnp.zeros_like(x)))


relu_prime = rule(_relu_d1_value, zero_derivative)
relu_rule = rule(_relu_value, relu_prime, levels=lambda: (0.0, 1.0))


@register(
    monotonic=True,
    bounded_below=True,
    smooth=False,
    gain=float(np.sqrt(2.0)),
    kinks=(Kink(0.0, 1, 0.0), Kink(0.0, 2, 0.0)),
    paper="Nair, Hinton 2010, Rectified Linear Units Improve Restricted Boltzmann Machines",
    piecewise_linear=True,
    names={"jax flax torch timm transformers keras": "relu", "torch keras": "ReLU"},
    torch=("relu", {}),
)
def relu(x: ArrayLike) -> Array:
    r"""Rectified linear unit.

    .. math::
      f(x) = \max(x, 0), \qquad f'(x) = \mathbb{1}[x > 0], \qquad f''(x) = 0

    Kink convention (jax.nn and PyTorch): ``relu'(0) = 0`` and ``relu''(0) = 0``.
    Positive subnormal inputs count as positive (``relu'(1e-45) = 1`` in
    float32), and NaN gives NaN in the value and every derivative.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.relu(jnp.array([-2.0, 0.0, 3.0]))
      Array([0., 0., 3.], dtype=float32)

    References:
      Nair, Hinton 2010, Rectified Linear Units Improve Restricted Boltzmann
      Machines (ICML); Glorot, Bordes, Bengio 2011, Deep Sparse Rectifier Neural
      Networks (AISTATS).
    """
    xi = integer_input(x)
    if xi is not None:
        return jnp.maximum(xi, 0)  # integers stay integers, as in jax.nn
    x, dtype = prepare(x, "relu")
    return finish(relu_rule(x), dtype)


@library_function(
    "relu",
    names={"keras": "relu ReLU"},
    domain={"negative_slope": "(-inf, inf)", "max_value": "[0, inf]", "threshold": "(-inf, inf)"},
)
def relu_keras(
    x: ArrayLike,
    negative_slope: ArrayLike = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Array:
    r"""Keras' ``relu`` with its arguments (also the ``ReLU`` layer's function).

    .. math::
      f(x) = \begin{cases} \min(\max(x, 0), M) & x > \theta \\
      a (x - \theta) & x \le \theta \end{cases}

    With the defaults it is :func:`relu`; a slope alone is :func:`leaky_relu`;
    ``max_value=6`` alone is :func:`relu6`. As in Keras, ``f(\theta) = 0`` when a
    threshold is given (the identity piece starts above it) and the values are
    clipped to ``[0, M]`` before the negative part is added. The derivatives at the
    corners are jaxact's: the flat piece owns its boundary (``f'(M) = 0``,
    ``f'(\theta) = a``); Keras on the jax backend gives 0.5 at ``x = M`` (except
    ``M = 6``) and at the clip's lower bound, jnp.clip's tie split.

    Args:
      x: input array.
      negative_slope: slope ``a`` below the threshold (differentiable).
      max_value: the upper clip ``M >= 0``, or None for none (a Python number).
      threshold: the threshold ``\theta`` (a Python number).

    Returns:
      An array of the same shape and dtype as ``x``.

    Raises:
      ValueError: a negative ``max_value``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> relu = jaxact.get("keras:relu")
      >>> relu(jnp.array([-2.0, 0.5, 1.0, 9.0]), negative_slope=0.1, max_value=4.0)
      Array([-0.2,  0.5,  1. ,  4. ], dtype=float32)
    """
    from jaxact._src.hard import hard_tanh_torch
    from jaxact._src.hard import threshold as thresholded

    fn = "relu"
    for arg, value in (("max_value", max_value), ("threshold", threshold)):
        if value is not None and not isinstance(value, (int, float)):
            raise TypeError(
                f"jaxact.{fn}: argument '{arg}' must be a Python number, got {type(value).__name__}"
            )
    if max_value is not None and max_value < 0:
        raise ValueError(f"jaxact.{fn}: argument 'max_value' must be >= 0, got {max_value!r}")
    slope = negative_slope
    plain_slope = isinstance(slope, (int, float)) and not isinstance(slope, bool)
    has_slope = not (plain_slope and slope == 0)
    if has_slope and max_value is None and threshold == 0:
        return leaky_relu(x, slope)
    xa, dtype = prepare(x, fn)
    if threshold != 0:
        pos = thresholded(xa, float(threshold), 0.0)
    elif max_value == 6:
        pos = relu6(xa)
    else:
        pos = relu(xa)
    if max_value == 0:
        pos = ops.where(jnp.isnan(pos), pos, jnp.zeros_like(pos))
    elif max_value is not None and not (threshold == 0 and max_value == 6):
        pos = hard_tanh_torch(pos, 0.0, float(max_value))
    if has_slope:
        a = param(slope, fn, "negative_slope", xa)
        pos = pos - a * relu(float(threshold) - xa)
    return finish(pos, dtype)


# relu6: f' = 1[0 < x < 6] (0 at both corners, jax.nn and torch), f'' = 0.
def _relu6_value(x: Array) -> Array:
    return ops.where(positive(x) | jnp.isnan(x), jnp.minimum(x, 6.0), jnp.zeros_like(x))


def _relu6_d1_value(x: Array) -> Array:
    inside = positive(x) & (x < 6.0)
    return nan_like(x, ops.where(inside, jnp.ones_like(x), jnp.zeros_like(x)))


_relu6 = rule(_relu6_value, rule(_relu6_d1_value, zero_derivative), levels=lambda: (0.0, 1.0))


@register(
    monotonic=True,
    bounded=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(0.0, 1, 0.0), Kink(6.0, 1, 0.0), Kink(0.0, 2, 0.0), Kink(6.0, 2, 0.0)),
    paper="Krizhevsky 2010, Convolutional Deep Belief Networks on CIFAR-10",
    piecewise_linear=True,
    names={"jax flax torch timm transformers keras": "relu6", "torch": "ReLU6"},
    torch=("relu6", {}),
)
def relu6(x: ArrayLike) -> Array:
    r"""ReLU clipped at 6 (MobileNet's bounded ReLU).

    .. math::
      f(x) = \min(\max(x, 0), 6), \qquad f'(x) = \mathbb{1}[0 < x < 6], \qquad f''(x) = 0

    Kink convention (jax.nn and PyTorch): ``relu6'(0) = relu6'(6) = 0``, and the
    second derivative is 0 at both corners.

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.relu6(jnp.array([-1.0, 3.0, 8.0]))
      Array([0., 3., 6.], dtype=float32)

    References:
      Krizhevsky 2010, Convolutional Deep Belief Networks on CIFAR-10.
    """
    x, dtype = prepare(x, "relu6")
    return finish(_relu6(x), dtype)


# leaky ReLU / PReLU / RReLU (eval): f = x (x >= 0), a x (x < 0); f'(0) = 1.
def _leaky_value(x: Array, a: Array) -> Array:
    return ops.where(negative(x), a * x, x)


def _leaky_d1_value(x: Array, a: Array) -> Array:
    return nan_like(x, ops.where(negative(x), a, jnp.ones_like(x)))


_leaky = rule(_leaky_value, rule(_leaky_d1_value, zero_derivative), levels=lambda a: (a, 1.0))


# PyTorch's leaky ReLU family passes the gradient on x > 0 only: f'(0) = a.
def _leaky_torch_d1_value(x: Array, a: Array) -> Array:
    return nan_like(x, ops.where(positive(x), jnp.ones_like(x), a * jnp.ones_like(x)))


_leaky_torch = rule(
    _leaky_value, rule(_leaky_torch_d1_value, zero_derivative), levels=lambda a: (a, 1.0)
)


@register(
    params={"negative_slope": 0.01},
    monotonic=True,
    smooth=False,
    zero_centred=True,
    gain=float(np.sqrt(2.0 / (1.0 + 0.01**2))),
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 0.0)),
    paper="Maas, Hannun, Ng 2013, Rectifier Nonlinearities Improve Neural Network Acoustic Models",
    piecewise_linear=True,
    names={"jax flax torch timm transformers": "leaky_relu"},
    presets={
        "torch:LeakyReLU": {"negative_slope": 0.01},
        "keras:leaky_relu": {"negative_slope": 0.2},
        "keras:LeakyReLU": {"negative_slope": 0.3},
    },
    torch=("leaky_relu", {"negative_slope": 0.01}),
)
def leaky_relu(x: ArrayLike, negative_slope: ArrayLike = 0.01) -> Array:
    r"""Leaky ReLU: the identity for ``x >= 0`` and a small slope below.

    .. math::
      f(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases}, \qquad
      f'(x) = \begin{cases} 1 & x \ge 0 \\ a & x < 0 \end{cases}, \qquad
      \frac{\partial f}{\partial a} = x\,\mathbb{1}[x < 0]

    Kink convention (jax.nn): ``leaky_relu'(0) = 1`` (PyTorch gives ``a``), and
    ``leaky_relu''(0) = 0``. The default slope is jax.nn's and PyTorch's 0.01
    (Keras uses 0.2 in ``keras.activations`` and 0.3 in its layer).

    Args:
      x: input array.
      negative_slope: the slope ``a`` for negative inputs (differentiable; a
        scalar or an array broadcastable to ``x``).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.leaky_relu(jnp.array([-2.0, 3.0]))
      Array([-0.02,  3.  ], dtype=float32)

    References:
      Maas, Hannun, Ng 2013, Rectifier Nonlinearities Improve Neural Network
      Acoustic Models (ICML workshop).
    """
    x, dtype = prepare(x, "leaky_relu")
    a = param(negative_slope, "leaky_relu", "negative_slope", x)
    return finish(_leaky(x, a), dtype)


@library_function(
    "leaky_relu", names={"torch timm transformers": "leaky_relu", "torch": "LeakyReLU"}
)
def leaky_relu_torch(x: ArrayLike, negative_slope: ArrayLike = 0.01) -> Array:
    r"""PyTorch's ``leaky_relu``: :func:`leaky_relu` with torch's ``f'(0) = a``.

    The same values; ``f'(0) = a`` (PyTorch's backward pass takes the slope at
    ``x <= 0``), where jax.nn and :func:`leaky_relu` give 1. The torch, timm and
    transformers names return it (``jaxact.get("torch:leaky_relu")``).

    Args:
      x: input array.
      negative_slope: the slope ``a`` for negative inputs (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact
      >>> jax.vmap(jax.grad(jaxact.get("torch:leaky_relu")))(jnp.array([-1.0, 0.0, 1.0]))
      Array([0.01, 0.01, 1.  ], dtype=float32)
    """
    x, dtype = prepare(x, "leaky_relu")
    a = param(negative_slope, "leaky_relu", "negative_slope", x)
    return finish(_leaky_torch(x, a), dtype)


@register(
    params={"negative_slope": 0.25},
    monotonic=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 0.0)),
    paper="He, Zhang, Ren, Sun 2015, Delving Deep into Rectifiers, arXiv:1502.01852",
    piecewise_linear=True,
    presets={
        "torch:prelu": {"negative_slope": 0.25},
        "torch:PReLU": {"negative_slope": 0.25},
        "timm:prelu": {"negative_slope": 0.25},
        "transformers:prelu": {"negative_slope": 0.25},
        "keras:PReLU": {"negative_slope": 0.0},
    },
)
def prelu(x: ArrayLike, negative_slope: ArrayLike) -> Array:
    r"""Parametric ReLU: a leaky ReLU whose slope is learned.

    .. math::
      f(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases}, \qquad
      f'(x) = \begin{cases} 1 & x \ge 0 \\ a & x < 0 \end{cases}, \qquad
      \frac{\partial f}{\partial a} = x\,\mathbb{1}[x < 0]

    The slope is an argument (the layer owns the parameter): a scalar, or an
    array broadcastable to ``x`` such as one slope per channel (for NCHW input
    give shape ``(C, 1, 1)``; for NHWC ``(C,)``). Its gradient is summed over
    the broadcast axes by autodiff. PyTorch initialises ``a`` to 0.25, Flax to
    0.01, Keras to 0.

    Kink convention: the right piece, ``prelu'(0) = 1`` (like ``leaky_relu``;
    PyTorch gives ``a``), and ``prelu''(0) = 0``.

    Args:
      x: input array.
      negative_slope: the slope ``a`` for negative inputs (required,
        differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> x = jnp.array([[-1.0, 1.0], [-1.0, 1.0]])
      >>> jaxact.prelu(x, jnp.array([[0.25], [0.5]]))
      Array([[-0.25,  1.  ],
             [-0.5 ,  1.  ]], dtype=float32)

    References:
      He, Zhang, Ren, Sun 2015, Delving Deep into Rectifiers: Surpassing
      Human-Level Performance on ImageNet Classification, arXiv:1502.01852.
    """
    x, dtype = prepare(x, "prelu")
    a = param(negative_slope, "prelu", "negative_slope", x)
    return finish(_leaky(x, a), dtype)


@library_function("prelu", names={"torch": "prelu PReLU", "timm transformers": "prelu"})
def prelu_torch(x: ArrayLike, negative_slope: ArrayLike = 0.25) -> Array:
    r"""PyTorch's ``prelu``: :func:`prelu` with torch's ``f'(0) = a``.

    The same values; PyTorch's backward pass takes the slope at ``x <= 0`` where
    :func:`prelu` gives 1. The slope defaults to ``nn.PReLU``'s initial 0.25.

    Args:
      x: input array.
      negative_slope: the slope ``a`` (a scalar, or an array broadcastable to
        ``x``: one per channel; differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact
      >>> float(jax.grad(jaxact.get("torch:PReLU"))(0.0))
      0.25
    """
    x, dtype = prepare(x, "prelu")
    a = param(negative_slope, "prelu", "negative_slope", x)
    return finish(_leaky_torch(x, a), dtype)


# Keras' PReLU is relu(x) - a relu(-x): f'(0) = 0 (relu'(0) = 0 on both sides).
def _prelu_keras_d1_value(x: Array, a: Array) -> Array:
    one, zero = jnp.ones_like(x), jnp.zeros_like(x)
    return nan_like(x, ops.where(positive(x), one, ops.where(negative(x), a * one, zero)))


_prelu_keras = rule(_leaky_value, rule(_prelu_keras_d1_value, zero_derivative))


@library_function("prelu", names={"keras": "PReLU"})
def prelu_keras(x: ArrayLike, negative_slope: ArrayLike = 0.0) -> Array:
    r"""Keras' ``PReLU`` layer's function: :func:`prelu` with Keras' ``f'(0) = 0``.

    Keras computes ``relu(x) - a relu(-x)``, whose derivative at 0 is 0 for every
    slope (both ReLUs have ``relu'(0) = 0``), where :func:`prelu` gives 1. The
    slope defaults to the layer's initial 0 (``alpha_initializer="Zeros"``).

    Args:
      x: input array.
      negative_slope: the slope ``a`` (Keras' ``alpha``; differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact
      >>> prelu = jaxact.get("keras:PReLU")
      >>> jax.vmap(jax.grad(lambda v: prelu(v, 0.3)))(jnp.array([-1.0, 0.0, 1.0]))
      Array([0.3, 0. , 1. ], dtype=float32)
    """
    x, dtype = prepare(x, "PReLU")
    a = param(negative_slope, "PReLU", "negative_slope", x)
    return finish(_prelu_keras(x, a), dtype)


def _check_key(key: object) -> None:
    ok = isinstance(key, jax.Array) and (
        jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
        or (key.dtype == jnp.uint32 and key.shape[-1:] == (2,))
    )
    if not ok:
        raise TypeError(f"jaxact.rrelu: argument 'key' must be a jax PRNG key, got {key!r}")


@register(
    params={"lower": 1.0 / 8.0, "upper": 1.0 / 3.0},
    domain={"upper": "[lower, inf)"},
    monotonic=True,
    smooth=False,
    zero_centred=True,
    kinks=(Kink(0.0, 1, 1.0), Kink(0.0, 2, 0.0)),
    paper="Xu, Wang, Chen, Li 2015, Empirical Evaluation of Rectified Activations in "
    "Convolutional Network, arXiv:1505.00853",
    piecewise_linear=True,
    names={"torch": "rrelu RReLU"},
)
def rrelu(
    x: ArrayLike,
    key: jax.Array | None = None,
    lower: ArrayLike = 1.0 / 8.0,
    upper: ArrayLike = 1.0 / 3.0,
    training: bool = False,
) -> Array:
    r"""Randomized leaky ReLU (PyTorch's ``rrelu``).

    .. math::
      f(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases}, \qquad
      a = \begin{cases} \tfrac{l + u}{2} & \text{evaluation} \\
      a_i \sim U(l, u) \text{ per element} & \text{training} \end{cases}, \qquad
      f'(x) = \begin{cases} 1 & x \ge 0 \\ a & x < 0 \end{cases}

    With ``training=False`` (the default, as in ``torch.nn.functional.rrelu``)
    this is a leaky ReLU with slope ``(lower + upper) / 2`` (0.2292 by default)
    and needs no key. With ``training=True`` a slope is drawn for every element
    from ``key``; the same key gives the same slopes, so the gradient uses the
    slopes of the forward pass.

    Kink convention: ``rrelu'(0) = 1`` and ``rrelu''(0) = 0`` (like
    ``leaky_relu``; PyTorch gives ``a``).

    Args:
      x: input array.
      key: a jax PRNG key (required when ``training`` is true).
      lower: lower bound of the slope distribution (differentiable).
      upper: upper bound of the slope distribution (differentiable).
      training: draw random slopes (Python bool, static).

    Returns:
      An array of the same shape and dtype as ``x``.

    Raises:
      ValueError: ``training=True`` without a ``key``, or ``lower > upper``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.rrelu(jnp.array([-1.0, 2.0]))
      Array([-0.22916667,  2.        ], dtype=float32)

    References:
      Xu, Wang, Chen, Li 2015, Empirical Evaluation of Rectified Activations in
      Convolutional Network, arXiv:1505.00853.
    """
    return _rrelu(_leaky, x, key, lower, upper, training)


def _rrelu(
    kernel: Callable[..., Array],
    x: ArrayLike,
    key: jax.Array | None,
    lower: ArrayLike,
    upper: ArrayLike,
    training: bool,
) -> Array:
    x, dtype = prepare(x, "rrelu")
    lower = param(lower, "rrelu", "lower", x)
    upper = param(upper, "rrelu", "upper", x)
    if is_concrete(lower) and is_concrete(upper):
        if np.any(np.asarray(lower, np.float64) > np.asarray(upper, np.float64)):
            raise ValueError(
                f"jaxact.rrelu: argument 'lower' ({lower!r}) must not exceed 'upper' ({upper!r})"
            )
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(
            "jaxact.rrelu: argument 'training' must be a Python bool, got "
            f"{type(training).__name__}"
        )
    if not training:
        return finish(kernel(x, (lower + upper) / 2), dtype)
    if key is None:
        raise ValueError("jaxact.rrelu: argument 'key' (a jax PRNG key) is required when training")
    _check_key(key)
    a = jax.random.uniform(key, x.shape, x.dtype, minval=lower, maxval=upper)
    return finish(kernel(x, a), dtype)


@library_function("rrelu", names={"torch": "rrelu RReLU"})
def rrelu_torch(
    x: ArrayLike,
    key: jax.Array | None = None,
    lower: ArrayLike = 1.0 / 8.0,
    upper: ArrayLike = 1.0 / 3.0,
    training: bool = False,
) -> Array:
    r"""PyTorch's ``rrelu``: :func:`rrelu` with torch's ``f'(0) = a``.

    The same values and arguments; PyTorch's backward pass takes the slope at
    ``x <= 0`` where :func:`rrelu` gives 1.

    Args:
      x: input array.
      key: a jax PRNG key (required when ``training`` is true).
      lower: lower bound of the slope distribution (differentiable).
      upper: upper bound of the slope distribution (differentiable).
      training: draw random slopes (Python bool, static).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax
      >>> import jaxact
      >>> round(float(jax.grad(jaxact.get("torch:rrelu"))(0.0)), 6)
      0.229167
    """
    return _rrelu(_leaky_torch, x, key, lower, upper, training)


# relu2 = relu(x)^2: f' = 2 relu(x), f'' = 2 * 1[x > 0] (0 at 0: the left piece,
# where f' is constant, owns the corner).
def _relu2_value(x: Array) -> Array:
    r = _relu_value(x)
    return r * r


def _relu2_d1_value(x: Array) -> Array:
    return unflushed_times(2.0, _relu_value(x))


def _relu2_d2(x: Array) -> Array:
    return 2 * relu_prime(x)


_relu2_d1 = rule(_relu2_d1_value, _relu2_d2)
_relu2 = rule(_relu2_value, _relu2_d1)


@register(
    monotonic=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(0.0, 1, 0.0), Kink(0.0, 2, 0.0)),
    paper="So et al. 2021, Primer: Searching for Efficient Transformers for Language "
    "Modeling, arXiv:2109.08668",
    aliases=("squared_relu",),
    names={"transformers": "relu2"},
)
@half_remat
def relu2(x: ArrayLike) -> Array:
    r"""Squared ReLU (Primer).

    .. math::
      f(x) = \max(x, 0)^2, \qquad f'(x) = 2\max(x, 0), \qquad
      f''(x) = 2\,\mathbb{1}[x > 0]

    ``f'(0) = 0``; the second derivative jumps at 0 and is pinned to the left
    piece's value, ``relu2''(0) = 0``. ``squared_relu`` is the same function.
    Overflows to ``inf`` where ``x**2`` does (``x > 255.9`` in float16).

    Args:
      x: input array.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.relu2(jnp.array([-2.0, 3.0]))
      Array([0., 9.], dtype=float32)

    References:
      So, Manke, Liu, Dai, Shazeer, Le 2021, Primer: Searching for Efficient
      Transformers for Language Modeling, arXiv:2109.08668.
    """
    x, dtype = prepare(x, "relu2")
    return finish(_relu2(x), dtype)


squared_relu = relu2


def _star_relu_value(x: Array, scale: Array, bias: Array) -> Array:
    return scale * _relu2(x) + bias


def _star_relu_d1(x: Array, scale: Array, bias: Array) -> Array:
    return scale * _relu2_d1(x)


def _star_relu_dparams(x: Array, scale: Array, bias: Array) -> tuple[Array, Array]:
    return _relu2(x), jnp.ones_like(x)


_star_relu = rule(_star_relu_value, _star_relu_d1, _star_relu_dparams)


@register(
    params={"scale": 1.0, "bias": 0.0},
    monotonic=True,
    bounded_below=True,
    smooth=False,
    kinks=(Kink(0.0, 1, 0.0), Kink(0.0, 2, 0.0)),
    paper="Yu et al. 2022, MetaFormer Baselines for Vision, arXiv:2210.13452",
    names={"timm": "StarReLU"},  # timm.models.metaformer.StarReLU (not in its factory)
)
@half_remat
def star_relu(x: ArrayLike, scale: ArrayLike = 1.0, bias: ArrayLike = 0.0) -> Array:
    r"""StarReLU: a scaled and shifted squared ReLU (MetaFormer baselines).

    .. math::
      f(x) = s \max(x, 0)^2 + b, \qquad f'(x) = 2 s \max(x, 0), \qquad
      \frac{\partial f}{\partial s} = \max(x, 0)^2, \qquad
      \frac{\partial f}{\partial b} = 1

    Defaults are timm's (``s = 1``, ``b = 0``); the paper's values, which make
    the output zero-mean and unit-variance for standard normal input, are
    ``s = 0.8944`` and ``b = -0.4472``. Both are learnable in the paper.
    Kink convention: ``f'(0) = 0`` and ``f''(0) = 0`` (the left piece).

    Args:
      x: input array.
      scale: ``s`` (differentiable).
      bias: ``b`` (differentiable).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.star_relu(jnp.array([-1.0, 2.0]), scale=0.5, bias=-1.0)
      Array([-1.,  1.], dtype=float32)

    References:
      Yu, Si, Zhou, Yu, Wang, Feng, Yan 2022, MetaFormer Baselines for Vision,
      arXiv:2210.13452.
    """
    x, dtype = prepare(x, "star_relu")
    scale = param(scale, "star_relu", "scale", x)
    bias = param(bias, "star_relu", "bias", x)
    return finish(_star_relu(x, scale, bias), dtype)


@register(
    kind="vector",
    bounded_below=True,
    smooth=False,
    paper="Shang, Sohn, Almeida, Lee 2016, Understanding and Improving Convolutional "
    "Neural Networks via Concatenated Rectified Linear Units, arXiv:1603.05201",
)
def crelu(x: ArrayLike, axis: int = -1) -> Array:
    r"""Concatenated ReLU: the positive and the negative part side by side.

    .. math::
      f(x) = \operatorname{concat}\big(\max(x, 0), \max(-x, 0)\big), \qquad
      \frac{\partial f}{\partial x} = \big(\mathbb{1}[x > 0], -\mathbb{1}[x < 0]\big)

    The output is twice as wide as ``x`` along ``axis``. At ``x = 0`` both
    Jacobian entries are 0 (``relu'(0) = 0``).

    Args:
      x: input array with at least one dimension.
      axis: the axis to concatenate along (static).

    Returns:
      An array of ``x``'s dtype whose ``axis`` is twice as long.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.crelu(jnp.array([-1.0, 2.0]))
      Array([0., 2., 1., 0.], dtype=float32)

    References:
      Shang, Sohn, Almeida, Lee 2016, Understanding and Improving Convolutional
      Neural Networks via Concatenated Rectified Linear Units, arXiv:1603.05201.
    """
    x, dtype = prepare(x, "crelu")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(
            f"jaxact.crelu: argument 'axis' must be an int, got {type(axis).__name__}"
        ) from None
    if x.ndim == 0:
        raise ValueError(
            "jaxact.crelu: argument 'x' must have at least one dimension, got a scalar"
        )
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"jaxact.crelu: argument 'axis' {axis} is out of range for an input of rank {x.ndim}"
        )
    return finish(jnp.concatenate([relu_rule(x), relu_rule(-x)], axis=axis), dtype)
