"""Flax NNX layers for jaxact's activations.

``Activation`` wraps any activation of the name table (jaxact's names and the
names of torch, timm, transformers and Keras) or any callable. The learnable
layers (``PReLU``, ``Swish``, ``StarReLU``, ``XIELU``, ``Snake``, ``SnakeBeta``,
``ACONC``, ``SMU``, ``PELU``, ``Rational``/``PAU``, ``MetaACON``) store their
parameters as ``nnx.Param`` attributes with the same names, shapes and initial
values as the layers of :mod:`jaxact.linen`, and compute the same function from
them (``jaxact._src.layers`` is the shared contract). ``GatedMLP`` is the gated
feed-forward block of LLaMA, T5 v1.1 and PaLM; ``swap_activations`` replaces the
activations of an existing model.

Parameters are stored in ``param_dtype``. The output has the compute dtype
(``dtype``, or the input's dtype when ``dtype`` is None); parameters are used in
the compute dtype, or in their own dtype where that is wider, and the result is
rounded once: bfloat16 input with float32 parameters gives bfloat16 output
computed with the float32 parameters, and float64 parameters (under x64) stay
float64, float32 input then being computed in float64. Importing this module imports flax;
``import jaxact`` does not.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxact._src import layers
from jaxact._src.rational import meta_acon, rational

Array = jax.Array
_LECUN_NORMAL = nnx.initializers.lecun_normal()
Sharding = tuple[str | None, ...] | None
_Args = TypeVar("_Args", bound=tuple[Any, ...])

__all__ = [
    "Activation",
    "PReLU",
    "Swish",
    "StarReLU",
    "XIELU",
    "Snake",
    "SnakeBeta",
    "ACONC",
    "SMU",
    "PELU",
    "Rational",
    "PAU",
    "MetaACON",
    "GatedMLP",
    "swap_activations",
]


# ----------------------------------------------------------------------------
# Small helpers.

# Errors name the layer as "jaxact.nnx.<class>" (jaxact.linen's say "jaxact.linen.<class>").
_FRAMEWORK = "jaxact.nnx"


def _owner(layer: str) -> str:
    return f"{_FRAMEWORK}.{layer}"


def _check_rngs(layer: str, rngs: Any, *, required: bool, why: str = "") -> None:
    layers.check_rngs(_owner(layer), rngs, nnx.Rngs, required=required, why=why)


def _cast_to_input(args: _Args, /, *, dtype: Any = None, inexact: bool = True) -> _Args:
    """``nnx.Linear``'s ``promote_dtype`` for GatedMLP: every array in ``dtype``, else in
    the input's dtype (parameters follow the input, as in jaxact's other layers)."""
    target = dtype if dtype is not None else args[0].dtype
    return tuple(None if a is None else jnp.asarray(a, target) for a in args)  # type: ignore[return-value]


# ----------------------------------------------------------------------------
# The generic layer.


class Activation(nnx.Module):
    r"""Any activation of the name table (or any callable) as an NNX layer.

    Computes ``fn(x, **params)`` in the compute dtype, ``y = f(x)``, with no
    parameters of its own. ``fn`` is a jaxact name (``"gelu_erf"``), a library
    name with that library's presets (``"gelu_pytorch_tanh"``,
    ``"torch:LeakyReLU"``, ``"keras:leaky_relu"``) or a callable. Fixed keyword
    arguments go to the function. Random activations (``gumbel_softmax``,
    ``rrelu`` with ``training=True``) draw a fresh key from ``rngs.activation()``
    at every call. Drops into ``nnx.Sequential``.

    Args:
      fn: an activation name or a callable; kept as ``self.fn``.
      params: fixed keyword arguments of the function (merged with ``**kwargs``;
        kept as ``self.params``). Static values only (numbers, strings, axes).
      dtype: compute dtype; None means the input's dtype (integers promoted).
      rngs: an ``nnx.Rngs`` (stream ``"activation"``, else ``"default"``),
        required for random activations.
      **kwargs: more fixed keyword arguments, e.g. ``alpha=0.5``, ``axis=0``.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import jaxact.nnx as jn
      >>> model = nnx.Sequential(jn.Activation("elu", alpha=0.5), jn.Activation("torch:GELU"))
      >>> [round(v, 4) for v in model(jnp.array([-1.0, 0.0, 1.0])).tolist()]
      [-0.1188, 0.0, 0.8413]
    """

    def __init__(
        self,
        fn: str | Callable[..., Any],
        /,
        params: Mapping[str, Any] | None = None,
        *,
        dtype: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ):
        owner = _owner("Activation")
        function = layers.resolve(fn, owner)
        if params is not None and not isinstance(params, Mapping):
            raise layers.layer_error(
                owner,
                "params",
                f"must be a mapping of keyword arguments, got {params!r}",
                TypeError,
            )
        merged = {**(params or {}), **kwargs}
        for key, value in merged.items():
            if nnx.is_data(value):
                raise layers.layer_error(
                    _owner("Activation"),
                    key,
                    f"must be a static value (a Python number, string or axis), got "
                    f"{type(value).__name__}; for a trainable parameter use a learnable layer "
                    "such as PReLU or Swish",
                    TypeError,
                )
        layers.check_function_keywords(function, merged, fn, owner)
        layers.check_dtype(owner, "dtype", dtype, optional=True)
        random = layers.needs_key(fn, merged)
        _check_rngs("Activation", rngs, required=random, why=f" (the activation {fn!r} is random)")
        self.fn = nnx.data(fn) if nnx.is_data(fn) else fn
        self.params = merged
        self.dtype = dtype
        self.rngs = nnx.data(rngs if random else None)

    def __call__(self, x: Any) -> Array:
        x, _ = layers.compute_dtype(self.dtype, x, _owner("Activation"))
        function = layers.resolve(self.fn, _owner("Activation"))
        if self.rngs is not None:
            return function(x, key=self.rngs.activation(), **self.params)
        return function(x, **self.params)


# ----------------------------------------------------------------------------
# Learnable layers.


def _table_row(module: nnx.Module) -> str:
    """The ``LEARNABLE`` row of a table layer (its class, or the jaxact class it derives from)."""
    layer = layers.jaxact_layer(type(module))
    if layer is None or layer not in layers.LEARNABLE:
        raise TypeError(f"{type(module).__name__} is not one of {sorted(layers.LEARNABLE)}")
    return layer


class _Learnable(nnx.Module):
    """The table-driven learnable layers (``jaxact._src.layers.LEARNABLE``).

    A subclass declares only its ``__init__`` signature (``layers.arguments(name)``
    in that order, then ``layers.KEYWORDS``), passing every argument on by
    name, and its docstring: the checks, the parameters and the forward come
    from the table row of its class name. The arguments other than the initial
    values are kept as attributes.
    """

    dtype: Any
    param_dtype: Any
    sharding: Sharding

    def __init__(self, **args: Any) -> None:
        layer = _table_row(self)
        inits = layers.learnable_inits(_owner(layer), layer, args)
        for name in (*layers.arguments(layer), *layers.KEYWORDS):
            if not name.endswith("_init"):
                setattr(self, name, args[name])
        shards = args["sharding"]
        for w in layers.weights(layer, args.get("logscale", False)):
            shape = layers.param_shape(w, args.get("num_channels"))
            value = jnp.full(shape, inits[w.stored], args["param_dtype"])
            if shards is not None and shape:
                setattr(self, w.stored, nnx.Param(value, out_sharding=shards))
            else:
                setattr(self, w.stored, nnx.Param(value))

    def __call__(self, x: Any) -> Array:
        layer = _table_row(self)
        x, _ = layers.compute_dtype(self.dtype, x, _owner(layer))
        logscale = getattr(self, "logscale", False)
        raw = {w.stored: getattr(self, w.stored)[...] for w in layers.weights(layer, logscale)}
        return layers.apply(_owner(layer), layer, x, raw, getattr(self, "axis", -1), logscale)


class PReLU(_Learnable):
    r"""Parametric ReLU with a learnable negative slope (one, or one per channel).

    .. math::
      f(x) = \max(x, 0) + a \min(x, 0)

    The slope ``a`` is stored as ``negative_slope`` (no transform), a scalar or
    shape ``(num_channels,)`` along ``axis``.

    Args:
      negative_slope_init: initial slope, or a preset of ``PRELU_INIT``:
        ``"flax"`` (0.01), ``"torch"`` (0.25), ``"keras"`` (0.0).
      num_channels: None for one shared slope, else the size of the channel axis.
      axis: the channel axis of the input.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (``out_sharding`` metadata of
        per-channel parameters; needs a mesh context at creation, as in flax).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> layer = jn.PReLU("torch", num_channels=2)
      >>> layer(jnp.array([[-2.0, 3.0]]))
      Array([[-0.5,  3. ]], dtype=float32)
    """

    def __init__(
        self,
        negative_slope_init: float | str = 0.01,
        num_channels: int | None = None,
        axis: int = -1,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            negative_slope_init=negative_slope_init,
            num_channels=num_channels,
            axis=axis,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class Swish(_Learnable):
    r"""Swish with a learnable positive ``beta`` (one, or one per channel).

    .. math::
      f(x) = x\,\sigma(\beta x), \qquad \beta = \exp(\texttt{log\_beta})

    ``beta`` is stored as ``log_beta`` so it stays positive under any update.

    Args:
      beta_init: initial ``beta`` (positive); 1.0 starts as SiLU.
      num_channels: None for one shared ``beta``, else the channel count.
      axis: the channel axis of the input.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (per-channel parameters).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> round(float(jn.Swish()(1.0)), 4)
      0.7311
    """

    def __init__(
        self,
        beta_init: float = 1.0,
        num_channels: int | None = None,
        axis: int = -1,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            beta_init=beta_init,
            num_channels=num_channels,
            axis=axis,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class StarReLU(_Learnable):
    r"""StarReLU with a learnable scalar scale and bias (MetaFormer).

    .. math::
      f(x) = s\,\mathrm{relu}(x)^2 + b

    Parameters ``scale`` and ``bias`` (scalars, no transform). The defaults are
    timm's (1, 0); the paper's values, which make the output zero-mean and
    unit-variance for standard normal input, are ``STAR_RELU_INIT["paper"]``
    = (0.8944, -0.4472).

    Args:
      scale_init: initial scale ``s``.
      bias_init: initial bias ``b``.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: accepted for a uniform API; both parameters are scalars.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> jn.StarReLU(scale_init=0.5, bias_init=1.0)(jnp.array([-1.0, 2.0]))
      Array([1., 3.], dtype=float32)
    """

    def __init__(
        self,
        scale_init: float = 1.0,
        bias_init: float = 0.0,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            scale_init=scale_init,
            bias_init=bias_init,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class XIELU(_Learnable):
    r"""xIELU with learnable scalar ``alpha_p`` and ``alpha_n`` (Apertus / transformers).

    .. math::
      f(x) = \begin{cases} \alpha_p x^2 + \beta x & x > 0 \\
        \alpha_n(\mathrm{expm1}(\min(x, \epsilon)) - x) + \beta x & x \le 0 \end{cases}

    with ``alpha_p = softplus(alpha_p_raw)`` and ``alpha_n = beta +
    softplus(alpha_n_raw)``, stored under transformers' names ``alpha_p`` and
    ``alpha_n`` (the softplus pre-images); ``beta = 0.5`` and ``eps = -1e-6``
    are fixed.

    Args:
      alpha_p_init: initial ``alpha_p`` (> 0).
      alpha_n_init: initial ``alpha_n`` (> 0.5).
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: accepted for a uniform API; both parameters are scalars.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> jn.XIELU()(jnp.array([1.0])).round(4)
      Array([1.3], dtype=float32)
    """

    def __init__(
        self,
        alpha_p_init: float = 0.8,
        alpha_n_init: float = 0.8,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            alpha_p_init=alpha_p_init,
            alpha_n_init=alpha_n_init,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class Snake(_Learnable):
    r"""Snake with a learnable frequency ``alpha`` (one, or one per channel).

    .. math::
      f(x) = x + \frac{\sin^2(\alpha x)}{\alpha}

    Stored as ``alpha`` (no transform), or as ``log_alpha`` with
    ``alpha = exp(log_alpha)`` when ``logscale`` (BigVGAN's option).

    Args:
      alpha_init: initial ``alpha`` (positive when ``logscale``).
      num_channels: None for one shared ``alpha``, else the channel count.
      axis: the channel axis of the input.
      logscale: store ``log_alpha`` instead of ``alpha``.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (per-channel parameters).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> jn.Snake(num_channels=2)(jnp.array([[0.0, 1.0]])).round(4)
      Array([[0.    , 1.7081]], dtype=float32)
    """

    def __init__(
        self,
        alpha_init: float = 1.0,
        num_channels: int | None = None,
        axis: int = -1,
        logscale: bool = False,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            alpha_init=alpha_init,
            num_channels=num_channels,
            axis=axis,
            logscale=logscale,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class SnakeBeta(_Learnable):
    r"""SnakeBeta with learnable ``alpha`` (frequency) and ``beta`` (magnitude).

    .. math::
      f(x) = x + \frac{\sin^2(\alpha x)}{\beta}

    Stored as ``alpha`` and ``beta`` with ``beta = |beta_raw| + tiny`` (so it
    never vanishes), or as ``log_alpha`` and ``log_beta`` (both exponentiated)
    when ``logscale`` (BigVGAN's option).

    Args:
      alpha_init: initial ``alpha`` (positive when ``logscale``).
      beta_init: initial ``beta`` (positive).
      num_channels: None for shared parameters, else the channel count.
      axis: the channel axis of the input.
      logscale: store ``log_alpha``, ``log_beta``.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (per-channel parameters).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> jn.SnakeBeta(beta_init=2.0)(jnp.array([1.0])).round(4)
      Array([1.354], dtype=float32)
    """

    def __init__(
        self,
        alpha_init: float = 1.0,
        beta_init: float = 1.0,
        num_channels: int | None = None,
        axis: int = -1,
        logscale: bool = False,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            alpha_init=alpha_init,
            beta_init=beta_init,
            num_channels=num_channels,
            axis=axis,
            logscale=logscale,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class ACONC(_Learnable):
    r"""ACON-C with learnable slopes ``p1``, ``p2`` and switching factor ``beta``.

    .. math::
      f(x) = (p_1 - p_2) x\,\sigma(\beta (p_1 - p_2) x) + p_2 x,
      \qquad \beta = \exp(\texttt{log\_beta})

    Parameters ``p1``, ``p2`` (no transform) and ``log_beta``. The defaults
    start as SiLU; the paper's random initial ``p1``/``p2`` are the user's choice.

    Args:
      p1_init: initial upper slope.
      p2_init: initial lower slope.
      beta_init: initial ``beta`` (positive).
      num_channels: None for shared parameters, else the channel count.
      axis: the channel axis of the input.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (per-channel parameters).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> layer = jn.ACONC(num_channels=2)
      >>> [round(v, 4) for v in layer(jnp.array([1.0, -1.0])).tolist()]
      [0.7311, -0.2689]
    """

    def __init__(
        self,
        p1_init: float = 1.0,
        p2_init: float = 0.0,
        beta_init: float = 1.0,
        num_channels: int | None = None,
        axis: int = -1,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            p1_init=p1_init,
            p2_init=p2_init,
            beta_init=beta_init,
            num_channels=num_channels,
            axis=axis,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class SMU(_Learnable):
    r"""Smooth Maximum Unit with a learnable smoothing ``mu`` (alpha fixed at 0.01).

    .. math::
      f(x) = \frac{(1 + \alpha) x + (1 - \alpha) x\,\mathrm{erf}(\mu (1 - \alpha) x)}{2},
      \qquad \mu = \exp(\texttt{log\_mu})

    Args:
      mu_init: initial ``mu`` (positive).
      num_channels: None for one shared ``mu``, else the channel count.
      axis: the channel axis of the input.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (per-channel parameters).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> [round(v, 4) for v in jn.SMU()(jnp.array([-1.0, 1.0])).tolist()]
      [-0.0102, 0.9998]
    """

    def __init__(
        self,
        mu_init: float = 2.5,
        num_channels: int | None = None,
        axis: int = -1,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            mu_init=mu_init,
            num_channels=num_channels,
            axis=axis,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class PELU(_Learnable):
    r"""Parametric ELU with learnable positive ``a`` and ``b``.

    .. math::
      f(x) = \begin{cases} \frac{a}{b} x & x \ge 0 \\ a(e^{x/b} - 1) & x < 0 \end{cases},
      \qquad a = \exp(\texttt{log\_a}),\ b = \exp(\texttt{log\_b})

    Args:
      a_init: initial ``a`` (positive).
      b_init: initial ``b`` (positive).
      num_channels: None for shared parameters, else the channel count.
      axis: the channel axis of the input.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (per-channel parameters).

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> jn.PELU(a_init=2.0)(jnp.array([-1.0, 1.0])).round(4)
      Array([-1.2642,  2.    ], dtype=float32)
    """

    def __init__(
        self,
        a_init: float = 1.0,
        b_init: float = 1.0,
        num_channels: int | None = None,
        axis: int = -1,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
    ):
        super().__init__(
            a_init=a_init,
            b_init=b_init,
            num_channels=num_channels,
            axis=axis,
            dtype=dtype,
            param_dtype=param_dtype,
            sharding=sharding,
        )


class Rational(nnx.Module):
    r"""Rational activation (Padé activation unit) with learnable coefficients.

    .. math::
      f(x) = \frac{P(x)}{Q(x)}, \quad P(x) = \sum_{j=0}^{m} a_j x^j, \quad
      Q_A = 1 + \sum_{k=1}^{n} |b_k|\,|x|^k, \quad Q_B = 1 + \Big|\sum_{k=1}^{n} b_k x^k\Big|,
      \quad Q_C = 0.1 + \Big|\sum_{k=0}^{n-1} b_k x^k\Big|

    Parameters ``numerator`` (shape ``(m + 1,)``) and ``denominator`` (shape
    ``(n,)``), shared across channels, initialised to the least-squares fit of
    ``approx_func`` on [-5, 5] (``jaxact.RATIONAL_INIT`` for degrees (5, 4)
    version A, otherwise fitted at construction and cached). Max errors of the
    shipped fits on [-5, 5]: leaky_relu 9.2e-2 (at the kink), relu 9.3e-2, gelu
    4.3e-3, silu 6.4e-5, tanh 1.4e-4, sigmoid 4.2e-7. The denominator never
    vanishes: ``Q >= 1`` (A, B, D) and ``Q >= 0.1`` (C). Version D is B with
    training noise: while not ``deterministic``, each numerator coefficient is
    multiplied by an independent ``U(0.9, 1.1)`` factor drawn from
    ``rngs.dropout()``; ``model.eval()`` sets ``deterministic=True`` (then D
    equals B and needs no ``rngs``), ``model.train()`` clears it.

    Args:
      approx_func: "leaky_relu", "relu", "gelu", "silu", "tanh" or "sigmoid".
      degrees: ``(m, n)``, the numerator and denominator degrees.
      version: "A", "B", "C" or "D".
      deterministic: turn off version D's noise.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: accepted for a uniform API; the coefficients are not per channel.
      rngs: an ``nnx.Rngs`` (stream ``"dropout"``) for version D in training.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact.nnx as jn
      >>> layer = jn.Rational("gelu")
      >>> layer.numerator.shape, layer.denominator.shape
      ((6,), (4,))
      >>> [round(v, 2) for v in layer(jnp.array([-1.0, 2.0])).tolist()]
      [-0.15, 1.95]
    """

    def __init__(
        self,
        approx_func: str = "leaky_relu",
        degrees: tuple[int, int] = (5, 4),
        version: str = "A",
        *,
        deterministic: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
        rngs: nnx.Rngs | None = None,
    ):
        if isinstance(degrees, list):
            degrees = tuple(degrees)  # type: ignore[assignment]
        owner = _owner("Rational")
        layers.check_rational(owner, approx_func, degrees, version)
        layers.check_bool(owner, "deterministic", deterministic)
        layers.check_keywords(owner, dtype, param_dtype, sharding)
        _check_rngs("Rational", rngs, required=False)
        numerator, denominator = layers.rational_init(approx_func, degrees, version, owner)
        self.approx_func = approx_func
        self.degrees = degrees
        self.version = version
        self.deterministic = deterministic
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.sharding = sharding
        self.rngs = nnx.data(rngs if version == "D" else None)
        self.numerator = nnx.Param(jnp.asarray(numerator, param_dtype))
        self.denominator = nnx.Param(jnp.asarray(denominator, param_dtype))

    def __call__(self, x: Any) -> Array:
        x, _ = layers.compute_dtype(self.dtype, x, _owner("Rational"))
        training = self.version == "D" and not self.deterministic
        key = None
        if training:
            if self.rngs is None:
                raise layers.layer_error(
                    _owner("Rational"),
                    "rngs",
                    "is required for version 'D' in training mode: pass rngs=nnx.Rngs(dropout=...) "
                    "at construction, or call model.eval() (deterministic=True)",
                )
            key = self.rngs.dropout()
        return layers.call_activation(
            rational,
            x,
            self.numerator[...],
            self.denominator[...],
            version=self.version,
            key=key,
            training=training,
        )


PAU = Rational


class MetaACON(nnx.Module):
    r"""Meta-ACON: ACON-C whose ``beta`` is computed from the input per sample and channel.

    With ``g`` the mean of ``x`` over every axis except the batch axis (0) and the
    channel axis:

    .. math::
      \beta = \sigma\big(W_2 (W_1 g)\big), \qquad
      f(x) = (p_1 - p_2) x\,\sigma(\beta (p_1 - p_2) x) + p_2 x

    Parameters ``p1``, ``p2`` (shape ``(C,)``), ``w1`` (``(hidden, C)``) and
    ``w2`` (``(C, hidden)``) with ``hidden = max(ratio, C // ratio)``.

    Args:
      num_channels: the channel count ``C``.
      ratio: the reduction ratio of the hidden width.
      axis: the channel axis (not 0, the batch axis).
      p1_init: initial upper slopes.
      p2_init: initial lower slopes.
      kernel_init: initializer of ``w1`` and ``w2`` (``init(key, shape, dtype)``).
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      sharding: mesh axis names of the channel axis (``p1``, ``p2`` and the
        channel axes of ``w1``, ``w2``).
      rngs: an ``nnx.Rngs`` for the kernel initialisation (stream ``"params"``).

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import jaxact.nnx as jn
      >>> layer = jn.MetaACON(8, ratio=4, rngs=nnx.Rngs(0))
      >>> layer.w1.shape, layer(jnp.ones((2, 5, 8))).shape
      ((4, 8), (2, 5, 8))
    """

    def __init__(
        self,
        num_channels: int,
        ratio: int = 16,
        axis: int = -1,
        p1_init: float = 1.0,
        p2_init: float = 0.0,
        kernel_init: Callable[..., Any] = _LECUN_NORMAL,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        sharding: Sharding = None,
        rngs: nnx.Rngs,
    ):
        args = {
            "num_channels": num_channels,
            "ratio": ratio,
            "axis": axis,
            "p1_init": p1_init,
            "p2_init": p2_init,
            "kernel_init": kernel_init,
            "dtype": dtype,
            "param_dtype": param_dtype,
            "sharding": sharding,
        }
        layers.check_meta_acon(_owner("MetaACON"), args)
        _check_rngs("MetaACON", rngs, required=True)
        p1, p2 = float(p1_init), float(p2_init)
        hidden = max(ratio, num_channels // ratio)
        self.num_channels = num_channels
        self.ratio = ratio
        self.axis = axis
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.sharding = sharding
        w1 = kernel_init(rngs.params(), (hidden, num_channels), param_dtype)
        w2 = kernel_init(rngs.params(), (num_channels, hidden), param_dtype)
        p1_value = jnp.full((num_channels,), p1, param_dtype)
        p2_value = jnp.full((num_channels,), p2, param_dtype)
        if sharding is None:
            self.p1 = nnx.Param(p1_value)
            self.p2 = nnx.Param(p2_value)
            self.w1 = nnx.Param(w1)
            self.w2 = nnx.Param(w2)
        else:
            self.p1 = nnx.Param(p1_value, out_sharding=sharding)
            self.p2 = nnx.Param(p2_value, out_sharding=sharding)
            self.w1 = nnx.Param(w1, out_sharding=(None, *sharding))
            self.w2 = nnx.Param(w2, out_sharding=(*sharding, None))

    def __call__(self, x: Any) -> Array:
        x, _ = layers.compute_dtype(self.dtype, x, _owner("MetaACON"))
        layers.check_channel_axis("MetaACON", self.axis, x)
        if x.shape[self.axis] != self.num_channels:
            raise layers.layer_error(
                _owner("MetaACON"),
                "x",
                f"has {x.shape[self.axis]} channels on axis {self.axis}, but the layer has "
                f"num_channels={self.num_channels} (input shape {x.shape})",
            )
        return layers.call_activation(
            meta_acon, x, self.p1[...], self.p2[...], self.w1[...], self.w2[...], self.axis
        )


# ----------------------------------------------------------------------------
# Gated feed-forward.


class GatedMLP(nnx.Module):
    r"""Gated feed-forward block (GLU variants): ``down(dropout(act(gate(x)) * up(x)))``.

    .. math::
      y = W_{down}\,\big(\phi(W_{gate} x) \odot W_{up} x\big)

    ``activation`` names the variant of Shazeer 2020 ("GLU Variants Improve
    Transformer"): "glu" (sigmoid), "reglu" (relu), "geglu" (exact GELU),
    "geglu_tanh" (tanh GELU), "swiglu" (SiLU), "bilinear" (identity); any
    activation name or callable is used as the gate's activation itself.
    Configurations: LLaMA is the default (``"swiglu"``, no bias, hidden =
    ``llama_hidden(d)``, 2/3 of 4d rounded up to 256); T5 v1.1 is
    ``activation="geglu_tanh"``, no bias, ``dropout_rate=0.1``; PaLM is
    ``"swiglu"`` without bias.

    Submodules (``nnx.Linear``, each with ``kernel`` and, with ``use_bias``,
    ``bias``): ``gate``, ``up`` and ``down``; with ``fused``, ``gate_up`` (one
    projection to ``2 * hidden`` whose output columns are ``[up | gate]``, value
    first like ``jaxact.glu``) and ``down``. With ``gate_up.kernel ==
    concat([up.kernel, gate.kernel], axis=1)`` the fused block equals the
    unfused one. The dropout (``dropout``, an ``nnx.Dropout``) is on while
    training and off after ``model.eval()``. Kernels are cast to the compute
    dtype, so bfloat16 input with float32 parameters gives bfloat16 output.

    Args:
      in_features: width of the input's last axis.
      hidden_features: hidden width; None means ``llama_hidden(in_features)``.
      out_features: output width; None means ``in_features``.
      activation: gate variant, activation name or callable.
      use_bias: add biases to the projections.
      fused: one ``gate_up`` projection instead of ``gate`` and ``up``.
      dropout_rate: dropout on the hidden activations.
      kernel_init: kernel initializer of the projections.
      bias_init: bias initializer of the projections.
      dtype: compute dtype; None means the input's dtype.
      param_dtype: dtype the parameters are stored in.
      rngs: an ``nnx.Rngs`` (streams ``"params"`` and ``"dropout"``).

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import jaxact.nnx as jn
      >>> block = jn.GatedMLP(8, 16, rngs=nnx.Rngs(0))
      >>> block.gate.kernel.shape, block(jnp.ones((2, 8))).shape
      ((8, 16), (2, 8))
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        *,
        activation: str | Callable[..., Any] = "swiglu",
        use_bias: bool = False,
        fused: bool = False,
        dropout_rate: float = 0.0,
        kernel_init: Callable[..., Any] = _LECUN_NORMAL,
        bias_init: Callable[..., Any] = nnx.initializers.zeros,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        layers.check_int(_owner("GatedMLP"), "in_features", in_features)
        args = {
            "hidden_features": hidden_features,
            "out_features": out_features,
            "activation": activation,
            "use_bias": use_bias,
            "fused": fused,
            "dropout_rate": dropout_rate,
            "kernel_init": kernel_init,
            "bias_init": bias_init,
            "dtype": dtype,
            "param_dtype": param_dtype,
        }
        layers.check_gated_mlp(_owner("GatedMLP"), args)
        _check_rngs("GatedMLP", rngs, required=True)
        hidden = layers.llama_hidden(in_features) if hidden_features is None else hidden_features
        out = in_features if out_features is None else out_features
        self.in_features = in_features
        self.hidden_features = hidden
        self.out_features = out
        self.activation = nnx.data(activation) if nnx.is_data(activation) else activation
        self.use_bias = use_bias
        self.fused = fused
        self.dropout_rate = dropout_rate
        self.dtype = dtype
        self.param_dtype = param_dtype

        def linear(n_in: int, n_out: int) -> nnx.Linear:
            return nnx.Linear(
                n_in,
                n_out,
                use_bias=use_bias,
                dtype=dtype,
                param_dtype=param_dtype,
                kernel_init=kernel_init,
                bias_init=bias_init,
                promote_dtype=_cast_to_input,
                rngs=rngs,
            )

        if fused:
            self.gate_up = linear(in_features, 2 * hidden)
        else:
            self.gate = linear(in_features, hidden)
            self.up = linear(in_features, hidden)
        self.down = linear(hidden, out)
        self.dropout = nnx.Dropout(dropout_rate, rngs=rngs)

    def __call__(self, x: Any) -> Array:
        x, _ = layers.compute_dtype(self.dtype, x, _owner("GatedMLP"))
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise layers.layer_error(
                _owner("GatedMLP"),
                "x",
                f"must have {self.in_features} features on its last axis, got shape {x.shape}",
            )
        act = layers.gate_function(self.activation, _owner("GatedMLP"))
        if self.fused:
            up, gate = jnp.split(self.gate_up(x), 2, axis=-1)
        else:
            gate, up = self.gate(x), self.up(x)
        return self.down(self.dropout(act(gate) * up))


# ----------------------------------------------------------------------------
# Swapping activations.


class _Swapper:
    """Walks an nnx graph and replaces the matched activations in place."""

    def __init__(self, match: Callable[[Any], bool], new: Any, where: Any):
        self.match = match
        self.new = new
        self.where = where
        self.count = 0
        self.rejected = 0  # matches the `where` filter turned down
        self.notes: list[str] = []  # warnings, given once the walk is done
        self.seen: set[int] = set()

    def matches(self, path: tuple[Any, ...], obj: Any) -> bool:
        if (target := layers.layer_target(obj)) is not None:
            hit = self.match(target)
        elif isinstance(obj, (nnx.Module, nnx.Variable, nnx.Pytree)):
            hit = False
        elif isinstance(obj, str) or callable(obj):
            hit = self.match(obj)
        else:
            hit = False
        if hit and self.where is not None and not self.where(path, obj):
            self.rejected += 1
            return False
        return hit

    def replacement(self, obj: Any) -> Any:
        self.count += 1
        if isinstance(self.new, nnx.Module):
            copy = nnx.clone(self.new)
            if isinstance(obj, nnx.Module):
                # A learnable layer's initial values are no hyperparameters of what it computes.
                source = layers.layer_target(obj) if isinstance(obj, Activation) else None
            else:
                source = obj
            self._carry(copy, source)
            return copy
        if isinstance(obj, nnx.Module):  # a layer: the new activation as a layer
            rngs = getattr(obj, "rngs", None) if isinstance(obj, Activation) else None
            return Activation(self.new, dtype=getattr(obj, "dtype", None), rngs=rngs)
        if isinstance(obj, str) and isinstance(self.new, str):
            return self.new
        return layers.resolve(self.new, _owner("swap_activations"))

    def _carry(self, copy: nnx.Module, source: Any) -> None:
        """Sets the weights of ``copy`` (a copy of ``new``) still at their default initial
        value to ``source``'s values (see swap_activations)."""
        layer = layers.jaxact_layer(type(copy))
        if source is None or layer is None or layer not in layers.LEARNABLE:
            return

        def left_default(w: layers.Weight) -> bool:
            default = layers.default_init(type(self.new), f"{w.arg}_init")
            raw = None if default is None else layers.default_raw(layer, w, default)
            stored = getattr(self.new, w.stored, None)
            if raw is None or not isinstance(stored, nnx.Param):
                return False
            value = np.asarray(stored[...])
            return bool(np.all(value == np.asarray(raw, dtype=value.dtype)))

        logscale = bool(getattr(copy, "logscale", False))
        carried = layers.carried_inits(
            _owner("swap_activations"), layer, source, logscale, left_default, self.notes
        )
        for w in layers.weights(layer, logscale):
            if w.arg in carried:
                param = getattr(copy, w.stored)
                raw = layers.raw_value(w, carried[w.arg], _owner(layer))
                param[...] = jnp.full(param.shape, raw, param.dtype)

    def value(self, path: tuple[Any, ...], obj: Any) -> tuple[Any, bool]:
        """(the new value, whether it changed) for an attribute or container item."""
        if self.matches(path, obj):
            return self.replacement(obj), True
        if isinstance(obj, (nnx.Variable, nnx.Rngs, nnx.RngStream)):
            return obj, False
        if layers.layer_activation(obj) is not None:
            return obj, False  # their string attributes configure them, they are not calls
        if isinstance(obj, nnx.Pytree):
            self.node(path, obj)
            return obj, False
        if isinstance(obj, (list, tuple)):
            items = [self.value((*path, i), v) for i, v in enumerate(obj)]
            if not any(changed for _, changed in items):
                return obj, False
            values = [v for v, _ in items]
            if isinstance(obj, tuple) and hasattr(obj, "_fields"):
                return type(obj)(*values), True
            return type(obj)(values), True
        if isinstance(obj, dict):
            entries = {k: self.value((*path, k), v) for k, v in obj.items()}
            if not any(changed for _, changed in entries.values()):
                return obj, False
            return type(obj)({k: v for k, (v, _) in entries.items()}), True
        return obj, False

    def node(self, path: tuple[Any, ...], node: nnx.Pytree) -> None:
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        for name, obj in list(vars(node).items()):
            if name.startswith(("_pytree__", "_object__")):
                continue
            key: Any = int(name) if isinstance(node, nnx.List) and name.isdigit() else name
            new, changed = self.value((*path, key), obj)
            if changed:
                wrapped = nnx.data(new) if _has_data(new) else nnx.static(new)
                setattr(node, name, wrapped)
                if (
                    isinstance(self.new, nnx.Module)
                    and not isinstance(self.new, Activation)
                    and isinstance(new, type(self.new))
                ):
                    note = layers.shared_note(
                        _owner("swap_activations"), type(node), name, new, "nnx"
                    )
                    if note is not None:
                        self.notes.append(note)


def _has_data(value: Any) -> bool:
    return any(nnx.is_data(leaf) for leaf in jax.tree.leaves(value, is_leaf=nnx.is_data))


def swap_activations(
    model: Any,
    old: str | Callable[..., Any] | list[Any] | tuple[Any, ...],
    new: str | Callable[..., Any] | nnx.Module,
    *,
    where: Callable[[tuple[Any, ...], Any], bool] | None = None,
) -> Any:
    """Returns a copy of ``model`` with the activation ``old`` replaced by ``new``.

    The model is copied with ``nnx.clone`` and the copy's attributes are set in
    place; the input model is untouched. Matched, at any depth (including the
    entries of lists, tuples, dicts, ``nnx.List``/``nnx.Dict`` and
    ``nnx.Sequential.layers``):

    - function attributes computing ``old`` (``jax.nn.relu``, ``nnx.relu``,
      ``jaxact.relu``, library presets, ``jnp.tanh``, partials);
    - string attributes naming ``old`` (configuration such as ``act="relu"``,
      e.g. ``GatedMLP.activation``);
    - ``Activation`` layers whose ``fn`` (with its fixed ``params``) computes ``old``;
    - jaxact's learnable layers computing ``old`` (``PReLU`` by ``"prelu"``,
      ``Snake`` by ``"snake"``, ``Rational`` by ``"rational"``, ...) and flax's
      own ``nnx.PReLU`` (by ``"prelu"``).

    Functions are matched by what they compute: a ``functools.partial`` by its
    keywords (``partial(jax.nn.gelu, approximate=False)`` and
    ``Activation("gelu", approximate=False)`` are matched by ``"gelu_erf"`` and
    ``"torch:GELU"``, never by ``"gelu_tanh"``; ``partial(jax.nn.leaky_relu,
    negative_slope=0.2)`` by ``"leaky_relu"``). jax.nn's ``gelu`` used as is
    (``nnx.gelu``, ``jaxact.gelu``, the name ``"gelu"``) chooses its form at
    the call and is matched by ``"gelu"`` and itself only; pass ``["gelu",
    "gelu_tanh", "gelu_erf"]`` for every GELU.

    Each match becomes: a copy of ``new`` when ``new`` is a layer instance;
    otherwise, for a string attribute, the name ``new``; for a layer,
    ``Activation(new)`` (same ``dtype``); for a function attribute, the
    function ``new`` resolves to.

    A learnable replacement starts from the old activation's hyperparameter:
    when the matched function, name or ``Activation`` computes the
    replacement's activation with a parameter of the same name (the same row,
    or for ``PReLU`` also ``leaky_relu``), each weight of the copy still at the
    layer's default initial value starts at the old value instead:
    ``partial(jax.nn.leaky_relu, negative_slope=0.2)``,
    ``Activation("leaky_relu", negative_slope=0.2)`` or ``"keras:leaky_relu"``
    swapped for ``PReLU()`` give a PReLU whose slope starts at 0.2, and
    ``Activation("snake", alpha=2.0)`` swapped for ``Snake()`` starts at
    ``alpha = 2``. A layer created with another initial value
    (``PReLU("torch")``, ``PReLU(0.3)``), or trained, keeps its values. A value
    the layer cannot start from (a negative ``beta`` for ``Swish``) leaves its
    default, with a ``UserWarning``. Learnable layers that are replaced pass
    nothing on.

    An attribute called at several places (``self.act(x)`` twice in
    ``__call__``) holds one module: swapped for a learnable layer, its
    parameters are shared between those call sites, and a ``UserWarning`` says
    so (from the class's source, when it can be read). Give each call site its
    own attribute for separate parameters.

    Limits: only attributes are reachable. An activation called inline
    (``nnx.gelu(x)`` written in ``__call__``) is no attribute and is left
    unchanged: ``jaxact.substitute(fn, mapping)`` replaces activations called
    inline.

    Args:
      model: an ``nnx.Module``.
      old: an activation name (every function computing it matches, whatever
        library it comes from), a callable, or a list of them.
      new: an activation name, a callable or a flax.nnx layer instance (a
        flax.linen layer raises ``TypeError``).
      where: optional filter ``where(path, obj) -> bool``; ``path`` is the tuple
        of attribute names and indices from ``model``, ``obj`` the match.

    Returns:
      The new model.

    Raises:
      ValueError: nothing matched ``old`` (the message points to
        ``jaxact.substitute`` for inline calls), ``old`` is an empty list, or
        ``old``/``new`` is not a known activation name.
      TypeError: ``model`` is not an nnx module, ``old``, ``new`` or ``where``
        has the wrong type (``new`` a flax.linen layer).

    The errors are those of :func:`jaxact.linen.swap_activations`, with the same
    messages (``jaxact.nnx.swap_activations: argument 'old' ...``).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import nnx
      >>> import jaxact.nnx as jn
      >>> rngs = nnx.Rngs(0)
      >>> mlp = nnx.Sequential(
      ...     nnx.Linear(2, 4, rngs=rngs), jax.nn.relu, nnx.Linear(4, 1, rngs=rngs)
      ... )
      >>> new = jn.swap_activations(mlp, "relu", jn.PReLU("torch"))
      >>> type(new.layers[1]).__name__, mlp.layers[1] is jax.nn.relu
      ('PReLU', True)
    """
    owner = _owner("swap_activations")
    if not isinstance(model, nnx.Pytree):
        raise layers.model_error(owner, model, "nnx")
    layers.check_swap(owner, new, where, nnx.Module, "nnx")
    match = layers.matcher(old, owner)
    swapper = _Swapper(match, new, where)
    if swapper.matches((), model):
        copy = swapper.replacement(model)
    else:
        copy = nnx.clone(model)
        swapper.node((), copy)
    if swapper.count == 0:
        raise layers.no_match_error(owner, old, model, swapper.rejected, "nnx")
    for note in swapper.notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return copy
