"""Flax linen layers for jaxact's activations.

``import jaxact.linen as jl`` (this module needs flax; ``import jaxact`` does not).

- :class:`Activation`: any activation of the name table (jaxact's names and the
  names of jax, flax, torch, timm, transformers and Keras, with their presets) or
  any callable, as a parameter-free layer that drops into ``nn.Sequential``.
- Learnable activations: :class:`PReLU`, :class:`Swish`, :class:`StarReLU`,
  :class:`XIELU`, :class:`Snake`, :class:`SnakeBeta`, :class:`ACONC`,
  :class:`SMU`, :class:`PELU`, :class:`Rational` (alias :data:`PAU`) and
  :class:`MetaACON`.
- :class:`GatedMLP`: the gated feed-forward block of LLaMA, T5 v1.1 and PaLM.
- :func:`swap_activations`: a copy of a model with some activations replaced.

Every layer has the keyword-only attributes ``dtype`` (the compute dtype;
``None``: the input's dtype, integers promoted to float) and ``param_dtype``
(the dtype parameters are stored in, float32 by default). The output has the
compute dtype; parameters are used in the compute dtype, or in their own dtype
where that is wider, and the result is rounded once: bfloat16 input with float32
parameters gives bfloat16 output computed with the float32 parameters, and
float64 parameters (under x64) stay float64, float32 input then being computed in
float64. Learnable layers also take ``sharding``: the mesh axis names of
the channel axis of their per-channel parameters, attached with
``nn.with_partitioning`` (scalar parameters stay unannotated).

The ``jaxact.nnx`` layers have the same names, arguments and parameters (names,
shapes and initial values), and compute the same function from them.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.core import FrozenDict

from jaxact._src import layers, registry
from jaxact._src.rational import meta_acon, rational

__all__ = [
    "ACONC",
    "PAU",
    "PELU",
    "SMU",
    "XIELU",
    "Activation",
    "GatedMLP",
    "MetaACON",
    "PReLU",
    "Rational",
    "Snake",
    "SnakeBeta",
    "StarReLU",
    "Swish",
    "swap_activations",
]

Array = jax.Array
Initializer = Callable[..., Any]
Sharding = tuple[str | None, ...] | None

# Errors name the layer as "jaxact.linen.<class>" (jaxact.nnx's say "jaxact.nnx.<class>").
_FRAMEWORK = "jaxact.linen"


def _owner(layer: str) -> str:
    return f"{_FRAMEWORK}.{layer}"


# ----------------------------------------------------------------------------
# Helpers (linen-specific; the math and the checks live in jaxact._src.layers).


def _constant(value: Any) -> Initializer:
    """An initializer that fills ``shape`` with ``value`` (a number or an array)."""

    def init(key: Any, shape: tuple[int, ...], dtype: Any) -> Array:
        del key
        return jnp.broadcast_to(jnp.asarray(value, dtype), shape)

    return init


def _partitioned(init: Initializer, names: tuple[str | None, ...] | None) -> Initializer:
    return init if names is None else nn.with_partitioning(init, names)


def _require_rng(module: nn.Module, stream: str, layer: str, why: str) -> None:
    # flax falls back to the "params" stream (present during init) like make_rng does.
    if not (module.has_rng(stream) or module.has_rng("params")):
        raise layers.layer_error(
            layer,
            "rngs",
            f"{why} needs the {stream!r} PRNG stream: pass rngs={{{stream!r}: key}} to apply",
        )


# ----------------------------------------------------------------------------
# Generic activation layer.


class Activation(nn.Module):
    """Any activation of the name table, or any callable, as a layer.

    ``Activation(fn, params)(x) = f(x, **params)`` with ``f = jaxact.get(fn)`` for
    a name: jaxact's names (``"gelu_tanh"``), another library's names with that
    library's math and defaults (``"gelu_pytorch_tanh"``, ``"torch:LeakyReLU"``,
    ``"keras:leaky_relu"``), or a callable, used as is. The fixed keyword
    arguments may be given as the ``params`` mapping, as keyword arguments
    (``Activation("elu", alpha=0.5)``), or both (keywords win); they are merged
    into ``params``.

    ``clone()``, ``copy()`` and ``nn.Sequential`` work as usual; classes made by
    lifted transforms (``nn.remat(Activation)``) take the fixed arguments as
    ``params`` only.

    Random activations (``gumbel_softmax``, ``rrelu`` with ``training=True``)
    draw their key from the ``"activation"`` PRNG stream
    (``apply(..., rngs={"activation": key})``). No parameters are created; the
    output dtype is the compute dtype.

    Attributes:
      fn: an activation name or a callable.
      params: fixed keyword arguments of the function (a mapping; stored as a
        ``FrozenDict``).
      dtype: the compute dtype (keyword-only); ``None``: the input's dtype,
        integers promoted to float.

    Example:
      >>> import jax.numpy as jnp
      >>> import flax.linen as nn
      >>> import jaxact.linen as jl
      >>> model = nn.Sequential([nn.Dense(4), jl.Activation("gelu_pytorch_tanh"), nn.Dense(1)])
      >>> act = jl.Activation("elu", alpha=0.5)
      >>> act.params["alpha"]
      0.5
      >>> print(act.apply({}, jnp.array([-1.0, 2.0])).round(4))
      [-0.3161  2.    ]
      >>> jl.Activation("softmax", axis=0).apply({}, jnp.zeros((2, 1))).tolist()
      [[0.5], [0.5]]
    """

    fn: str | Callable[..., Any]
    params: Mapping[str, Any] = FrozenDict()
    _: dataclasses.KW_ONLY
    dtype: Any = None

    def __init__(
        self,
        fn: str | Callable[..., Any],
        params: Mapping[str, Any] | None = None,
        *,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        # The dataclass fields are fn, params, dtype (plus flax's parent and
        # name): clone() and copy() pass exactly those. Other keywords are the
        # function's fixed arguments and are merged into params.
        parent = kwargs.pop("parent", self.__dataclass_fields__["parent"].default)
        name = kwargs.pop("name", None)
        if params is None:
            params = FrozenDict()
        if not isinstance(params, Mapping):
            raise layers.layer_error(
                _owner("Activation"),
                "params",
                f"must be a mapping of keyword arguments, got {params!r}",
                TypeError,
            )
        self.fn = fn
        self.params = FrozenDict({**params, **kwargs})
        self.dtype = dtype
        self.parent = parent
        self.name = name
        self.__post_init__()

    def __post_init__(self) -> None:
        owner = _owner("Activation")
        function = layers.resolve(self.fn, owner)
        layers.check_function_keywords(function, self.params, self.fn, owner)
        layers.check_dtype(owner, "dtype", self.dtype, optional=True)
        super().__post_init__()

    def __call__(self, x: Any) -> Array:
        """Applies the activation to ``x``."""
        owner = _owner("Activation")
        x, dtype = layers.compute_dtype(self.dtype, x, owner)
        f = layers.resolve(self.fn, owner)
        kwargs = dict(self.params)
        if layers.needs_key(self.fn, self.params):
            _require_rng(self, "activation", owner, f"random activation {self.fn!r}")
            kwargs["key"] = self.make_rng("activation")
        y = f(x, **kwargs)
        if isinstance(y, jax.Array) and jnp.issubdtype(y.dtype, jnp.floating) and y.dtype != dtype:
            y = y.astype(dtype)
        return y


# ----------------------------------------------------------------------------
# Learnable elementwise activations.


def _table_row(module: nn.Module) -> str:
    """The ``LEARNABLE`` row of a table layer (its class, or the jaxact class it derives from)."""
    layer = layers.jaxact_layer(type(module))
    if layer is None or layer not in layers.LEARNABLE:
        raise TypeError(f"{type(module).__name__} is not one of {sorted(layers.LEARNABLE)}")
    return layer


class _Learnable(nn.Module):
    """The table-driven learnable layers (``jaxact._src.layers.LEARNABLE``).

    A subclass declares only its fields (``layers.arguments(name)``, in that
    order) and its docstring: the checks, the parameters and the forward come
    from the table row of its class name.
    """

    _: dataclasses.KW_ONLY
    dtype: Any = None
    param_dtype: Any = jnp.float32
    sharding: Sharding = None

    def _inits(self) -> dict[str, float]:
        """Checks every argument; the stored name -> initial raw value of each weight."""
        layer = _table_row(self)
        names = (*layers.arguments(layer), *layers.KEYWORDS)
        args = {name: getattr(self, name) for name in names}
        return layers.learnable_inits(_owner(layer), layer, args)

    def __post_init__(self) -> None:
        self._inits()
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Any) -> Array:
        """Applies the activation to ``x``."""
        layer = _table_row(self)
        x, _ = layers.compute_dtype(self.dtype, x, _owner(layer))
        num_channels = getattr(self, "num_channels", None)
        logscale = getattr(self, "logscale", False)
        inits, raw = self._inits(), {}
        for w in layers.weights(layer, logscale):
            value = inits[w.stored]
            shape = layers.param_shape(w, num_channels)
            init = _partitioned(_constant(value), self.sharding if shape else None)
            raw[w.stored] = self.param(w.stored, init, shape, self.param_dtype)
        axis = getattr(self, "axis", -1)
        return layers.apply(_owner(layer), layer, x, raw, axis, logscale)


class PReLU(_Learnable):
    r"""Parametric ReLU with a learnable negative slope, one or per channel.

    .. math::
      f(x) = \begin{cases} x & x \ge 0 \\ a\,x & x < 0 \end{cases}, \qquad
      \frac{\partial f}{\partial a} = \min(x, 0)

    Parameter ``negative_slope`` is ``a`` itself: a scalar, or shape
    ``(num_channels,)`` along ``axis``.

    Attributes:
      negative_slope_init: the initial slope, a number or a library's default:
        ``"flax"`` (0.01, flax's ``nn.PReLU``), ``"torch"`` (0.25), ``"keras"`` (0.0).
      num_channels: ``None`` for one slope shared by all inputs, else the size
        of the channel axis.
      axis: the channel axis of the input.
      dtype: the compute dtype (keyword-only; ``None``: the input's).
      param_dtype: the dtype of the parameter (keyword-only).
      sharding: mesh axis names of the channel axis, e.g. ``("model",)``
        (keyword-only; only for per-channel slopes).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.PReLU("torch", num_channels=2)
      >>> x = jnp.array([[-2.0, 3.0], [-1.0, -4.0]])
      >>> variables = layer.init(jax.random.key(0), x)
      >>> variables["params"]["negative_slope"].tolist()
      [0.25, 0.25]
      >>> layer.apply(variables, x).tolist()
      [[-0.5, 3.0], [-0.25, -1.0]]
    """

    negative_slope_init: float | str = 0.01
    num_channels: int | None = None
    axis: int = -1


class Swish(_Learnable):
    r"""Swish with a learnable positive ``beta``: ``x * sigmoid(beta * x)``.

    .. math::
      f(x) = x\,\sigma(\beta x), \qquad \beta = e^{b}

    Parameter ``log_beta`` (``b``) keeps ``beta`` positive: a scalar, or shape
    ``(num_channels,)`` along ``axis``. ``beta = 1`` is SiLU.

    Attributes:
      beta_init: initial ``beta`` (positive).
      num_channels: ``None`` for one ``beta``, else the size of the channel axis.
      axis: the channel axis of the input.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.Swish(beta_init=2.0)
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(3))
      >>> round(float(jnp.exp(variables["params"]["log_beta"])), 4)
      2.0
      >>> round(float(layer.apply(variables, jnp.array(1.0))), 4)
      0.8808
    """

    beta_init: float = 1.0
    num_channels: int | None = None
    axis: int = -1


class StarReLU(_Learnable):
    r"""StarReLU (MetaFormer): a learnable scale and bias on a squared ReLU.

    .. math::
      f(x) = s\,\mathrm{relu}(x)^2 + b

    Scalar parameters ``scale`` (``s``) and ``bias`` (``b``). The defaults are
    timm's (1, 0); the paper's values, which make the output zero-mean and
    unit-variance for standard normal input, are
    ``jaxact._src.layers.STAR_RELU_INIT["paper"]`` = (0.8944, -0.4472).

    Attributes:
      scale_init: initial ``s``.
      bias_init: initial ``b``.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only;
        ``sharding`` has no effect, both parameters are scalars).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.StarReLU(scale_init=0.8944, bias_init=-0.4472)
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(2))
      >>> print(layer.apply(variables, jnp.array([-1.0, 2.0])).round(4))
      [-0.4472  3.1304]

    References:
      Yu et al. 2022, MetaFormer Baselines for Vision, arXiv:2210.13452.
    """

    scale_init: float = 1.0
    bias_init: float = 0.0


class XIELU(_Learnable):
    r"""xIELU with learnable ``alpha_p`` and ``alpha_n`` (the Apertus activation).

    .. math::
      f(x) = \begin{cases} \alpha_p x^2 + \beta x & x > 0 \\
      \alpha_n\,(\mathrm{expm1}(\min(x, \epsilon)) - x) + \beta x & x \le 0 \end{cases}

    with ``alpha_p = softplus(p)`` and ``alpha_n = beta + softplus(n)``, the
    reparameterisation and the names of the reference (transformers) code:
    the scalar parameters are ``alpha_p`` (``p``) and ``alpha_n`` (``n``), the
    softplus pre-images. ``beta = 0.5`` and ``eps = -1e-6`` are fixed.

    Attributes:
      alpha_p_init: initial ``alpha_p`` (positive).
      alpha_n_init: initial ``alpha_n`` (greater than ``beta = 0.5``).
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only;
        ``sharding`` has no effect, both parameters are scalars).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.XIELU()
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(2))
      >>> print(layer.apply(variables, jnp.array([-1.0, 1.0])).round(4))
      [-0.2057  1.3   ]

    References:
      Huang, Schlag 2025, Deriving Activation Functions Using Integration,
      arXiv:2411.13010.
    """

    alpha_p_init: float = 0.8
    alpha_n_init: float = 0.8


class Snake(_Learnable):
    r"""Snake with a learnable frequency: ``x + sin^2(alpha x) / alpha``.

    .. math::
      f(x) = x + \frac{\sin^2(\alpha x)}{\alpha}

    Parameter ``alpha`` (or ``log_alpha`` with ``alpha = exp(log_alpha)`` when
    ``logscale``, as in BigVGAN): a scalar, or shape ``(num_channels,)`` along
    ``axis``.

    Attributes:
      alpha_init: initial ``alpha`` (positive when ``logscale``).
      num_channels: ``None`` for one ``alpha``, else the size of the channel axis.
      axis: the channel axis of the input.
      logscale: store ``log_alpha`` instead of ``alpha``.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.Snake(num_channels=4, logscale=True)
      >>> variables = layer.init(jax.random.key(0), jnp.zeros((2, 4)))
      >>> list(variables["params"]), variables["params"]["log_alpha"].shape
      (['log_alpha'], (4,))
      >>> round(float(layer.apply(variables, jnp.ones((2, 4)))[0, 0]), 4)
      1.7081

    References:
      Ziyin, Hartwig, Ueda 2020, Neural Networks Fail to Learn Periodic
      Functions and How to Fix It, arXiv:2006.08195.
    """

    alpha_init: float = 1.0
    num_channels: int | None = None
    axis: int = -1
    logscale: bool = False


class SnakeBeta(_Learnable):
    r"""SnakeBeta (BigVGAN): Snake with separate frequency and magnitude.

    .. math::
      f(x) = x + \frac{\sin^2(\alpha x)}{\beta}

    Parameters ``alpha`` and ``beta``, with ``beta`` used as
    ``|beta| + tiny``; with ``logscale`` they are ``log_alpha`` and
    ``log_beta`` (``alpha = exp(log_alpha)``, ``beta = exp(log_beta)``). Scalars,
    or shape ``(num_channels,)`` along ``axis``.

    Attributes:
      alpha_init: initial ``alpha`` (positive when ``logscale``).
      beta_init: initial ``beta`` (positive).
      num_channels: ``None`` for scalars, else the size of the channel axis.
      axis: the channel axis of the input.
      logscale: store the logarithms.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.SnakeBeta(beta_init=2.0)
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(2))
      >>> sorted(variables["params"])
      ['alpha', 'beta']
      >>> round(float(layer.apply(variables, jnp.array(1.0))), 4)
      1.354

    References:
      Lee et al. 2023, BigVGAN: A Universal Neural Vocoder with Large-Scale
      Training, arXiv:2206.04658.
    """

    alpha_init: float = 1.0
    beta_init: float = 1.0
    num_channels: int | None = None
    axis: int = -1
    logscale: bool = False


class ACONC(_Learnable):
    r"""ACON-C: a learnable switch between a linear and a non-linear response.

    .. math::
      f(x) = (p_1 - p_2)\,x\,\sigma\big(\beta (p_1 - p_2) x\big) + p_2 x

    Parameters ``p1``, ``p2`` and ``log_beta`` (``beta = exp(log_beta)``):
    scalars, or shape ``(num_channels,)`` along ``axis``. The defaults start as
    SiLU (``p1 = 1, p2 = 0, beta = 1``); the paper draws ``p1``, ``p2`` at random,
    which is the caller's choice of ``p1_init`` / ``p2_init``.

    Attributes:
      p1_init: initial ``p1``.
      p2_init: initial ``p2``.
      beta_init: initial ``beta`` (positive).
      num_channels: ``None`` for scalars, else the size of the channel axis.
      axis: the channel axis of the input.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.ACONC(num_channels=3)
      >>> variables = layer.init(jax.random.key(0), jnp.zeros((1, 3)))
      >>> sorted(variables["params"])
      ['log_beta', 'p1', 'p2']
      >>> round(float(layer.apply(variables, jnp.ones((1, 3)))[0, 0]), 6)
      0.731059

    References:
      Ma, Zhang, Liu, Zhang, Sun 2021, Activate or Not: Learning Customized
      Activation, arXiv:2009.04759.
    """

    p1_init: float = 1.0
    p2_init: float = 0.0
    beta_init: float = 1.0
    num_channels: int | None = None
    axis: int = -1


class SMU(_Learnable):
    r"""Smooth Maximum Unit with a learnable smoothing ``mu``.

    .. math::
      f(x) = \frac{(1 + \alpha) x + (1 - \alpha) x\,
      \mathrm{erf}\big(\mu (1 - \alpha) x\big)}{2}

    Parameter ``log_mu`` (``mu = exp(log_mu)``): a scalar, or shape
    ``(num_channels,)`` along ``axis``. ``alpha = 0.01`` is fixed.

    Attributes:
      mu_init: initial ``mu`` (positive).
      num_channels: ``None`` for one ``mu``, else the size of the channel axis.
      axis: the channel axis of the input.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.SMU()
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(2))
      >>> print(layer.apply(variables, jnp.array([-2.0, 2.0])).round(4))
      [-0.02  2.  ]

    References:
      Biswas, Banerjee, Pandey 2022, SMU: smooth activation function for deep
      networks using smoothing maximum technique, arXiv:2111.04682.
    """

    mu_init: float = 2.5
    num_channels: int | None = None
    axis: int = -1


class PELU(_Learnable):
    r"""Parametric ELU with learnable positive ``a`` and ``b``.

    .. math::
      f(x) = \begin{cases} \frac{a}{b} x & x \ge 0 \\
      a\,(e^{x / b} - 1) & x < 0 \end{cases}

    Parameters ``log_a`` and ``log_b`` (``a = exp(log_a)``, ``b = exp(log_b)``):
    scalars, or shape ``(num_channels,)`` along ``axis``.

    Attributes:
      a_init: initial ``a`` (positive).
      b_init: initial ``b`` (positive).
      num_channels: ``None`` for scalars, else the size of the channel axis.
      axis: the channel axis of the input.
      dtype, param_dtype, sharding: as for :class:`PReLU` (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.PELU(a_init=2.0)
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(2))
      >>> print(layer.apply(variables, jnp.array([-1.0, 1.0])).round(4))
      [-1.2642  2.    ]

    References:
      Trottier, Giguère, Chaib-draa 2017, Parametric Exponential Linear Unit
      for Deep Convolutional Neural Networks, arXiv:1605.09332.
    """

    a_init: float = 1.0
    b_init: float = 1.0
    num_channels: int | None = None
    axis: int = -1


# ----------------------------------------------------------------------------
# Rational (PAU) and Meta-ACON.


def _degrees(degrees: Any) -> Any:
    return tuple(degrees) if isinstance(degrees, (list, tuple)) else degrees


def _coefficient_shapes(degrees: Any) -> tuple[tuple[int], tuple[int]] | None:
    """The coefficient shapes for degrees ``(m, n)``, None if they are malformed."""
    if isinstance(degrees, tuple) and len(degrees) == 2 and all(type(d) is int for d in degrees):
        return (degrees[0] + 1,), (degrees[1],)
    return None


class Rational(nn.Module):
    r"""Padé activation unit: a learnable rational function ``P(x) / Q(x)``.

    .. math::
      f(x) = \frac{a_0 + a_1 x + \dots + a_m x^m}{Q(x)}, \qquad
      Q_A = 1 + \sum_{k=1}^{n} |b_k|\,|x|^k, \quad
      Q_B = 1 + \Big|\sum_{k=1}^{n} b_k x^k\Big|, \quad
      Q_C = 0.1 + \Big|\sum_{k=0}^{n-1} b_k x^k\Big|

    (see :func:`jaxact.rational`). Parameters ``numerator`` (shape ``(m + 1,)``)
    and ``denominator`` (shape ``(n,)``), shared by all channels, start as a
    least-squares fit of ``approx_func`` on [-5, 5]: the shipped
    ``RATIONAL_INIT`` coefficients for degrees (5, 4) version A, otherwise a
    fit computed at ``init`` (once per process; applying stored coefficients
    never fits). Max errors of the (5, 4) A fits on [-5, 5]: ``leaky_relu``
    9.2e-2 (at the kink), ``relu`` 9.3e-2, ``gelu`` 4.3e-3, ``silu`` 6.4e-5,
    ``tanh`` 1.4e-4, ``sigmoid`` 4.2e-7. ``Q >= 1`` (versions A, B) and
    ``Q >= 0.1`` (C), so the function has no poles.

    Version D is B with training noise: when not deterministic every numerator
    coefficient is multiplied by an independent ``U(0.9, 1.1)`` factor drawn
    from the ``"dropout"`` PRNG stream. ``deterministic`` is needed (as an
    attribute or a call argument, ``nn.merge_param``) only for version D;
    deterministic D equals B and needs no PRNG.

    Attributes:
      approx_func: the function the initial coefficients fit: ``"leaky_relu"``
        (slope 0.01, PAU's default), ``"relu"``, ``"gelu"``, ``"silu"``,
        ``"tanh"`` or ``"sigmoid"``.
      degrees: ``(m, n)``, the degrees of ``P`` and ``Q``.
      version: ``"A"``, ``"B"``, ``"C"`` or ``"D"``.
      deterministic: version D only: ``True`` switches the noise off.
      dtype, param_dtype: as for :class:`PReLU` (keyword-only).
      sharding: keyword-only; no effect (the coefficients are shared, not
        per channel).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> import jaxact
      >>> layer = jl.Rational(approx_func="gelu")
      >>> variables = layer.init(jax.random.key(0), jnp.zeros(3))
      >>> jax.tree.map(jnp.shape, variables["params"])
      {'denominator': (4,), 'numerator': (6,)}
      >>> x = jnp.linspace(-5.0, 5.0, 1001)
      >>> err = jnp.abs(layer.apply(variables, x) - jaxact.gelu_erf(x))
      >>> bool(err.max() < 4.4e-3)
      True

    References:
      Molina, Schramowski, Kersting 2020, Padé Activation Units: End-to-end
      Learning of Flexible Activation Functions in Deep Networks, arXiv:1907.06732.
    """

    approx_func: str = "leaky_relu"
    degrees: tuple[int, int] = (5, 4)
    version: str = "A"
    deterministic: bool | None = None
    _: dataclasses.KW_ONLY
    dtype: Any = None
    param_dtype: Any = jnp.float32
    sharding: Sharding = None

    def __post_init__(self) -> None:
        owner = _owner("Rational")
        layers.check_rational(owner, self.approx_func, self.degrees, self.version)
        layers.check_bool(owner, "deterministic", self.deterministic, optional=True)
        layers.check_keywords(owner, self.dtype, self.param_dtype, self.sharding)
        super().__post_init__()

    def _coefficients(self) -> tuple[Array, Array]:
        names = ("numerator", "denominator")
        degrees = _degrees(self.degrees)
        if all(self.has_variable("params", n) for n in names):
            # Applying stored coefficients needs their shapes, not the initial fit.
            shapes = tuple(jnp.shape(self.get_variable("params", n)) for n in names)
            wanted = _coefficient_shapes(degrees)
            if shapes == wanted:
                init: Initializer = nn.initializers.zeros_init()
                return tuple(  # type: ignore[return-value]
                    self.param(n, init, shape, self.param_dtype)
                    for n, shape in zip(names, shapes, strict=True)
                )
            if wanted is not None:
                raise layers.layer_error(
                    _owner("Rational"),
                    "degrees",
                    f"{self.degrees!r} does not match the stored coefficients of shapes {shapes}",
                )
        num, den = layers.rational_init(self.approx_func, degrees, self.version, _owner("Rational"))
        return (
            self.param("numerator", _constant(num), num.shape, self.param_dtype),
            self.param("denominator", _constant(den), den.shape, self.param_dtype),
        )

    @nn.compact
    def __call__(self, x: Any, deterministic: bool | None = None) -> Array:
        """Applies the rational function to ``x``.

        Args:
          x: the input.
          deterministic: version D: ``True`` for no noise; overrides nothing,
            give it here or as the attribute (not both).
        """
        x, _ = layers.compute_dtype(self.dtype, x, _owner("Rational"))
        numerator, denominator = self._coefficients()
        key, training = None, False
        if self.version == "D":
            if (self.deterministic is None) == (deterministic is None):
                raise layers.layer_error(
                    _owner("Rational"),
                    "deterministic",
                    "must be given either as an attribute or at call time (exactly one) "
                    "for version 'D'",
                )
            training = not nn.merge_param("deterministic", self.deterministic, deterministic)
            if training:
                _require_rng(self, "dropout", _owner("Rational"), "version 'D' training noise")
                key = self.make_rng("dropout")
        return layers.call_activation(
            rational,
            x,
            numerator,
            denominator,
            version=self.version,
            key=key,
            training=training,
        )


PAU = Rational


class MetaACON(nn.Module):
    r"""Meta-ACON: ACON-C whose switching factor ``beta`` is computed from the input.

    With ``g`` the mean of ``x`` over every axis but the batch axis (0) and the
    channel axis, shape ``(batch, C)``:

    .. math::
      \beta = \sigma\big(W_2 (W_1 g)\big), \qquad
      f(x) = (p_1 - p_2)\,x\,\sigma\big(\beta (p_1 - p_2) x\big) + p_2 x

    Parameters ``p1``, ``p2`` (shape ``(C,)``), ``w1`` (``(hidden, C)``) and
    ``w2`` (``(C, hidden)``) with ``hidden = max(ratio, C // ratio)``; ``w1`` and
    ``w2`` are drawn with ``kernel_init`` (see :func:`jaxact.meta_acon`; the
    paper's batch normalisations are left to the surrounding model).

    Attributes:
      num_channels: ``C``, the size of the channel axis.
      ratio: the reduction ratio (paper: 16).
      axis: the channel axis (not 0, the batch axis).
      p1_init: initial ``p1``.
      p2_init: initial ``p2``.
      kernel_init: initializer of ``w1`` and ``w2``.
      dtype, param_dtype: as for :class:`PReLU` (keyword-only).
      sharding: mesh axis names of the channel axis (keyword-only): ``p1``,
        ``p2`` and the channel axis of ``w1`` and ``w2`` are annotated.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> layer = jl.MetaACON(num_channels=8, ratio=4)
      >>> x = jnp.ones((2, 5, 8))
      >>> variables = layer.init(jax.random.key(0), x)
      >>> jax.tree.map(jnp.shape, variables["params"])
      {'p1': (8,), 'p2': (8,), 'w1': (4, 8), 'w2': (8, 4)}
      >>> layer.apply(variables, x).shape
      (2, 5, 8)

    References:
      Ma, Zhang, Liu, Zhang, Sun 2021, Activate or Not: Learning Customized
      Activation, arXiv:2009.04759.
    """

    num_channels: int
    ratio: int = 16
    axis: int = -1
    p1_init: float = 1.0
    p2_init: float = 0.0
    kernel_init: Initializer = nn.initializers.lecun_normal()
    _: dataclasses.KW_ONLY
    dtype: Any = None
    param_dtype: Any = jnp.float32
    sharding: Sharding = None

    def __post_init__(self) -> None:
        args = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        layers.check_meta_acon(_owner("MetaACON"), args)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Any) -> Array:
        """Applies Meta-ACON to ``x`` of shape ``(batch, ..., C)``."""
        x, _ = layers.compute_dtype(self.dtype, x, _owner("MetaACON"))
        c = self.num_channels
        layers.check_channel_axis(_owner("MetaACON"), self.axis, x)
        hidden = max(self.ratio, c // self.ratio)
        s = self.sharding
        p1 = self.param("p1", _partitioned(_constant(self.p1_init), s), (c,), self.param_dtype)
        p2 = self.param("p2", _partitioned(_constant(self.p2_init), s), (c,), self.param_dtype)
        layers.to_channel(p1, x, self.axis, _owner("MetaACON"))  # checks x's channel count
        w1 = self.param(
            "w1",
            _partitioned(self.kernel_init, None if s is None else (None, *s)),
            (hidden, c),
            self.param_dtype,
        )
        w2 = self.param(
            "w2",
            _partitioned(self.kernel_init, None if s is None else (*s, None)),
            (c, hidden),
            self.param_dtype,
        )
        return layers.call_activation(meta_acon, x, p1, p2, w1, w2, self.axis)


# ----------------------------------------------------------------------------
# Gated feed-forward block.


class GatedMLP(nn.Module):
    r"""Gated feed-forward block (GLU variants): ``down(act(gate(x)) * up(x))``.

    .. math::
      \mathrm{GatedMLP}(x) = W_\mathrm{down}\,\mathrm{dropout}\big(
      a(W_\mathrm{gate} x + b_\mathrm{gate}) \odot (W_\mathrm{up} x + b_\mathrm{up})\big)
      + b_\mathrm{down}

    ``activation`` names the gate function ``a``: a variant of Shazeer (2020)
    (``"glu"``: sigmoid, ``"reglu"``: relu, ``"geglu"``: exact gelu,
    ``"geglu_tanh"``: tanh gelu, ``"swiglu"``: silu, ``"bilinear"``: identity),
    any name of the name table, or a callable.

    Submodules (``nn.Dense``, each with ``kernel`` and, with ``use_bias``,
    ``bias``): ``gate``, ``up`` and ``down``; with ``fused``, one ``gate_up``
    (``in -> 2 * hidden``, output columns ``[up | gate]``: value first, gate
    second like :func:`jaxact.glu`) and ``down``. With
    ``gate_up.kernel == concatenate([up.kernel, gate.kernel], axis=1)`` the two
    layouts compute the same function.

    Presets: LLaMA (``activation="swiglu"``, no bias, ``hidden_features=None``
    i.e. 2/3 of 4d rounded up to a multiple of 256, 11008 for d = 4096 — the
    defaults); T5 v1.1 (``"geglu_tanh"``, no bias, ``dropout_rate=0.1``); PaLM
    (``"swiglu"``, no bias, hidden 4d).

    Attributes:
      hidden_features: the hidden width; ``None``: LLaMA's
        ``jaxact._src.layers.llama_hidden(in_features)``.
      out_features: the output width; ``None``: the input width.
      activation: the gate function (see above).
      use_bias: biases in the three projections.
      fused: one ``gate_up`` projection instead of ``gate`` and ``up``.
      dropout_rate: dropout on the hidden activations (PRNG stream ``"dropout"``).
      deterministic: switches dropout off; may instead be given at call time.
        Needed only when ``dropout_rate > 0``.
      kernel_init: initializer of the kernels.
      bias_init: initializer of the biases.
      dtype: the compute dtype (keyword-only; ``None``: the input's). The
        projections run in it (kernels cast to it).
      param_dtype: the dtype of the parameters (keyword-only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jaxact.linen as jl
      >>> block = jl.GatedMLP(hidden_features=16)
      >>> x = jnp.ones((2, 8))
      >>> variables = block.init(jax.random.key(0), x)
      >>> jax.tree.map(jnp.shape, variables["params"])["gate"]
      {'kernel': (8, 16)}
      >>> block.apply(variables, x).shape
      (2, 8)
      >>> jl.GatedMLP().init(jax.random.key(0), x)["params"]["up"]["kernel"].shape
      (8, 256)

    References:
      Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202.
      Touvron et al. 2023, LLaMA: Open and Efficient Foundation Language
      Models, arXiv:2302.13971.
    """

    hidden_features: int | None = None
    out_features: int | None = None
    activation: str | Callable[..., Any] = "swiglu"
    use_bias: bool = False
    fused: bool = False
    dropout_rate: float = 0.0
    deterministic: bool | None = None
    kernel_init: Initializer = nn.initializers.lecun_normal()
    bias_init: Initializer = nn.initializers.zeros
    _: dataclasses.KW_ONLY
    dtype: Any = None
    param_dtype: Any = jnp.float32

    def __post_init__(self) -> None:
        args = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        layers.check_gated_mlp(_owner("GatedMLP"), args)
        layers.check_bool(_owner("GatedMLP"), "deterministic", self.deterministic, optional=True)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Any, deterministic: bool | None = None) -> Array:
        """Applies the block to ``x`` of shape ``(..., in_features)``.

        Args:
          x: the input.
          deterministic: switches dropout off (if not given as the attribute).
        """
        x, dtype = layers.compute_dtype(self.dtype, x, _owner("GatedMLP"))
        if x.ndim < 1:
            raise layers.layer_error(_owner("GatedMLP"), "x", "must have at least one dimension")
        features = x.shape[-1]
        hidden = self.hidden_features or layers.llama_hidden(features)
        out = self.out_features or features
        act = layers.gate_function(self.activation, _owner("GatedMLP"))

        def dense(features: int, name: str) -> nn.Dense:
            return nn.Dense(
                features,
                use_bias=self.use_bias,
                dtype=dtype,
                param_dtype=self.param_dtype,
                kernel_init=self.kernel_init,
                bias_init=self.bias_init,
                name=name,
            )

        if self.fused:
            value, gate = jnp.split(dense(2 * hidden, "gate_up")(x), 2, axis=-1)
        else:
            gate = dense(hidden, "gate")(x)
            value = dense(hidden, "up")(x)
        h = act(gate) * value
        if self.dropout_rate > 0:
            if (self.deterministic is None) == (deterministic is None):
                raise layers.layer_error(
                    _owner("GatedMLP"),
                    "deterministic",
                    "must be given either as an attribute or at call time (exactly one) "
                    "when dropout_rate > 0",
                )
            det = nn.merge_param("deterministic", self.deterministic, deterministic)
            if not det:
                _require_rng(self, "dropout", _owner("GatedMLP"), "dropout")
            h = nn.Dropout(self.dropout_rate, deterministic=det)(h)
        return dense(out, "down")(h)


# ----------------------------------------------------------------------------
# Swapping activations.


class _Swapper:
    """One walk of :func:`swap_activations` over a model's dataclass fields."""

    def __init__(self, old: Any, new: Any, where: Callable[[tuple, Any], bool] | None) -> None:
        owner = _owner("swap_activations")
        layers.check_swap(owner, new, where, nn.Module, "linen")
        self.match = layers.matcher(old, owner)
        self.new = new
        self.where = where
        self.count = 0
        self.rejected = 0  # matches the `where` filter turned down
        self.notes: list[str] = []  # warnings, given once the walk is done
        self.new_fn: Any = registry.get(new) if isinstance(new, str) else new

    def _take(self, path: tuple, obj: Any, target: Any) -> bool:
        if not self.match(target):
            return False
        if self.where is not None and not self.where(path, obj):
            self.rejected += 1
            return False
        self.count += 1
        return True

    def _layer_copy(self, old: Any, source: Any) -> nn.Module:
        """A copy of the ``new`` layer for the match ``old``; a learnable layer's weights
        left at their defaults start from ``source``'s values (see swap_activations)."""
        name = old.name if isinstance(old, nn.Module) else None
        return self.new.clone(parent=None, name=name, **self._carried(source))

    def _carried(self, source: Any) -> dict[str, float]:
        layer = layers.jaxact_layer(type(self.new))
        if source is None or layer is None or layer not in layers.LEARNABLE:
            return {}
        fields = {f.name: f for f in dataclasses.fields(self.new)}

        def left_default(w: layers.Weight) -> bool:
            f = fields.get(f"{w.arg}_init")
            if f is None or f.default is dataclasses.MISSING:
                return False
            value = getattr(self.new, f.name)
            return isinstance(value, type(f.default)) and bool(value == f.default)

        carried = layers.carried_inits(
            _owner("swap_activations"),
            layer,
            source,
            bool(getattr(self.new, "logscale", False)),
            left_default,
            self.notes,
        )
        return {f"{arg}_init": value for arg, value in carried.items()}

    def value(self, obj: Any, path: tuple) -> Any:
        """``obj`` (a field value) with matching activations replaced."""
        if isinstance(obj, nn.Module):
            return self.module(obj, path)
        if isinstance(obj, str):
            if layers.activation_name(obj) is None or not self._take(path, obj, obj):
                return obj
            return self._layer_copy(obj, obj) if isinstance(self.new, nn.Module) else self.new
        if isinstance(obj, (list, tuple)):
            items = [self.value(v, (*path, i)) for i, v in enumerate(obj)]
            if all(a is b for a, b in zip(items, obj, strict=True)):
                return obj
            return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
        if isinstance(obj, Mapping):
            mapped = {k: self.value(v, (*path, k)) for k, v in obj.items()}
            if all(mapped[k] is v for k, v in obj.items()):
                return obj
            kind: Any = type(obj)
            return kind(mapped)
        if callable(obj) and not isinstance(obj, type) and self._take(path, obj, obj):
            return self._layer_copy(obj, obj) if isinstance(self.new, nn.Module) else self.new_fn
        return obj

    def module(self, m: nn.Module, path: tuple) -> nn.Module:
        target = layers.layer_target(m)
        if target is not None:
            if not self._take(path, m, target):
                return m
            if isinstance(self.new, nn.Module):
                # A learnable layer's initial values are no hyperparameters of what it computes.
                generic = layers.jaxact_layer(type(m)) == "Activation"
                return self._layer_copy(m, target if generic else None)
            if isinstance(m, Activation):
                return m.clone(fn=self.new, params=FrozenDict())
            return Activation(self.new, dtype=getattr(m, "dtype", None), parent=None, name=m.name)
        changed = {}
        for f in dataclasses.fields(m):
            if not f.init or f.name in ("parent", "name"):
                continue
            value = getattr(m, f.name)
            if isinstance(m, GatedMLP) and f.name == "activation":
                new = self._gate(value, (*path, f.name))
            else:
                new = self.value(value, (*path, f.name))
            if new is not value:
                changed[f.name] = new
                if isinstance(new, nn.Module) and new is not value and self._learnable(new):
                    note = layers.shared_note(
                        _owner("swap_activations"), type(m), f.name, new, "linen"
                    )
                    if note is not None:
                        self.notes.append(note)
        return m.clone(**changed) if changed else m

    def _learnable(self, layer: nn.Module) -> bool:
        """Whether ``layer`` is the ``new`` layer (or a copy), which may hold parameters."""
        return (
            isinstance(self.new, nn.Module)
            and type(layer) is type(self.new)
            and not (isinstance(layer, Activation))
        )

    def _gate(self, value: Any, path: tuple) -> Any:
        gate = layers.gate_function(value, _owner("GatedMLP"))
        if not self._take(path, value, gate):
            return value
        if isinstance(self.new, nn.Module):
            return self._layer_copy(value, gate)
        return self.new if isinstance(value, str) or not isinstance(self.new, str) else self.new_fn


def swap_activations(
    model: nn.Module,
    old: str | Callable[..., Any] | Sequence[str | Callable[..., Any]],
    new: str | Callable[..., Any] | nn.Module,
    *,
    where: Callable[[tuple, Any], bool] | None = None,
) -> nn.Module:
    """A copy of a linen model with activations replaced (the input is untouched).

    The model is rebuilt with ``module.clone(**changed_fields)``, recursively over
    the dataclass fields of every submodule (also inside lists, tuples and dicts,
    e.g. ``nn.Sequential(layers=[...])``). What is matched:

    - function attributes (``act: Callable = nn.relu``) and string attributes
      naming an activation (``act: str = "relu"``);
    - generic :class:`Activation` layers, by their ``fn``;
    - jaxact's learnable layers by the activation they compute (``"prelu"``
      matches :class:`PReLU`, ``"snake"`` :class:`Snake`, ``"rational"``
      :class:`Rational`) and flax's own ``nn.PReLU`` (``"prelu"``);
    - the gate function of a :class:`GatedMLP` (``"relu"`` matches
      ``activation="reglu"``).

    ``old`` is a name (matched with the name table: ``"relu"`` matches
    ``jax.nn.relu``, ``nn.relu``, ``jaxact.relu``, ``"torch:ReLU"``,
    ``Activation("relu")``; ``"gelu_tanh"`` matches ``"gelu_pytorch_tanh"``), a
    callable (itself, partials of it, and every function computing the same
    activation), or a list of them. Functions are matched by what they compute:
    a ``functools.partial`` by its keywords (``partial(jax.nn.gelu,
    approximate=False)`` and ``Activation("gelu", approximate=False)`` are
    matched by ``"gelu_erf"`` and ``"torch:GELU"``, never by ``"gelu_tanh"``;
    ``partial(jax.nn.leaky_relu, negative_slope=0.2)`` by ``"leaky_relu"``).
    jax.nn's ``gelu`` used as is (``nn.gelu``, ``jaxact.gelu``, the name
    ``"gelu"``) chooses its form at the call and is matched by ``"gelu"`` and
    itself only; pass ``["gelu", "gelu_tanh", "gelu_erf"]`` for every GELU.

    ``new`` is a name, a callable or a flax.linen layer instance (a flax.nnx
    layer raises ``TypeError``). A matched string attribute gets the new name
    (a callable or a copy of the layer if ``new`` is one); a function attribute
    gets the function (``jaxact.get(new)`` for a name); an :class:`Activation`
    gets ``fn=new`` (its fixed ``params`` are dropped); a learnable layer
    becomes ``Activation(new)``; with a layer instance every match gets its
    own copy.

    A learnable replacement starts from the old activation's hyperparameter:
    when the matched function, name or :class:`Activation` computes the
    replacement's activation with a parameter of the same name (the same row,
    or for :class:`PReLU` also ``leaky_relu``), each weight whose ``<arg>_init``
    is left at the layer's default starts at the old value instead:
    ``partial(jax.nn.leaky_relu, negative_slope=0.2)``,
    ``Activation("leaky_relu", negative_slope=0.2)`` or ``"keras:leaky_relu"``
    swapped for ``PReLU()`` give a PReLU whose slope starts at 0.2, and
    ``Activation("snake", alpha=2.0)`` swapped for ``Snake()`` starts at
    ``alpha = 2``. Give the layer any other initial value (``PReLU("torch")``,
    ``PReLU(0.3)``) to keep yours. A value the layer cannot start from (a
    negative ``beta`` for :class:`Swish`) leaves its default, with a
    ``UserWarning``. Learnable layers that are replaced pass nothing on.

    A field called at several places of a module (``self.act(x)`` twice in
    ``__call__``) holds one submodule: swapped for a learnable layer, its
    parameters are shared between those call sites, and a ``UserWarning``
    says so (from the module's source, when it can be read). linen gives a
    field one submodule, so swapping cannot give each call site its own copy:
    declare one field per call site for separate parameters.

    ``where(path, obj)`` is an extra filter on the matches: ``path`` is the tuple
    of field names, list indices and dict keys leading to the match, ``obj`` the
    matched function, string or layer.

    Limits: only what is stored in dataclass fields is reachable. Activations
    called inline in a ``@nn.compact`` or ``setup`` body (``x = nn.relu(x)``
    written in ``__call__``) and submodules constructed there are left
    unchanged: ``jaxact.substitute(fn, mapping)`` replaces activations called
    inline. The parameters of the original model stay valid for the copy when
    the new activation has no parameters (a swap to or from a learnable layer
    changes the variable tree: re-initialise).

    Args:
      model: a linen module (bound or not; the copy is unbound).
      old: the activation(s) to replace.
      new: the replacement.
      where: optional filter ``where(path, obj) -> bool``.

    Returns:
      The new model.

    Raises:
      ValueError: nothing reachable matched ``old`` (the message points to
        ``jaxact.substitute`` for inline calls), ``old`` is an empty list, or
        ``old``/``new`` is not a known activation name.
      TypeError: ``model`` is not a linen module, ``old``, ``new`` or ``where``
        has the wrong type (``new`` a flax.nnx layer).

    The errors are those of :func:`jaxact.nnx.swap_activations`, with the same
    messages (``jaxact.linen.swap_activations: argument 'old' ...``).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import flax.linen as nn
      >>> import jaxact.linen as jl
      >>> model = nn.Sequential([nn.Dense(4), nn.relu, nn.Dense(4), jl.Activation("relu")])
      >>> swapped = jl.swap_activations(model, "relu", "gelu")
      >>> swapped.layers[1] is jax.nn.gelu or swapped.layers[1].__name__
      'gelu'
      >>> swapped.layers[3].fn, model.layers[3].fn
      ('gelu', 'relu')
      >>> x = jnp.ones((1, 3))
      >>> variables = model.init(jax.random.key(0), x)
      >>> swapped.apply(variables, x).shape  # same parameters
      (1, 4)
    """
    owner = _owner("swap_activations")
    if not isinstance(model, nn.Module):
        raise layers.model_error(owner, model, "linen")
    swapper = _Swapper(old, new, where)
    out = swapper.module(model, ())
    if swapper.count == 0:
        raise layers.no_match_error(owner, old, model, swapper.rejected, "linen")
    for note in swapper.notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return out
