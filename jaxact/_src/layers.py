"""What the Flax layers share: the learnable-layer table and its helpers (no flax import).

``jaxact.linen`` and ``jaxact.nnx`` build their layers from this module, so the
two frameworks store the same parameters under the same names, initialise them
to the same values and compute the same function from them. Each learnable
layer is one ``LayerDef`` row: the activation it calls and its ``Weight`` rows.

A weight is stored *raw* and mapped to the activation's argument by its
``transform`` (documented in every layer's docstring):

- ``"none"``: the argument itself;
- ``"exp"``: the argument is ``exp(raw)`` (stored as ``log_<arg>``), for
  arguments the math needs positive;
- ``"softplus"``: the argument is ``offset + softplus(raw)`` (xIELU's own
  reparameterisation, with the stored names of its reference code);

(the positive transforms add the dtype's smallest normal number, so they stay
positive where ``exp`` or ``softplus`` underflows).
- ``"abs"``: the argument is ``|raw| + tiny`` (SnakeBeta's beta without log scale).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
import numbers
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import core, registry
from jaxact._src import rational as _rational
from jaxact._src.softplus import softplus

Array = jax.Array

# PReLU initial slopes of the libraries users port from.
PRELU_INIT: Mapping[str, float] = {"flax": 0.01, "torch": 0.25, "keras": 0.0}

# StarReLU (scale, bias) presets: timm's code defaults and the MetaFormer paper's
# values (which make the output zero-mean and unit-variance for N(0, 1) input).
STAR_RELU_INIT: Mapping[str, tuple[float, float]] = {
    "timm": (1.0, 0.0),
    "paper": (0.8944271909999159, -0.4472135954999579),
}

# Gate activation of each gated feed-forward variant (Shazeer 2020, "GLU Variants
# Improve Transformer"): the gate half goes through this activation and
# multiplies the value half.
GATES: Mapping[str, str] = {
    "glu": "sigmoid",
    "reglu": "relu",
    "geglu": "gelu_erf",
    "geglu_tanh": "gelu_tanh",
    "swiglu": "silu",
    "bilinear": "identity",
}


@dataclasses.dataclass(frozen=True)
class Weight:
    """One learnable parameter of a layer.

    Attributes:
      arg: the activation's argument it feeds.
      transform: "none", "exp", "softplus" or "abs" (see the module docstring).
      offset: added after the softplus transform (xIELU's ``alpha_n = beta + ...``).
      channel: per channel (shape ``(num_channels,)`` when the layer has channels),
        else a scalar.
    """

    arg: str
    transform: str = "none"
    offset: float = 0.0
    channel: bool = True

    @property
    def stored(self) -> str:
        """The parameter's name in the variable tree."""
        return f"log_{self.arg}" if self.transform == "exp" else self.arg


@dataclasses.dataclass(frozen=True)
class LayerDef:
    """A learnable layer: the activation row it calls and its weights.

    Attributes:
      fn: the registry row the layer computes.
      weights: its learnable parameters.
      fixed: arguments of ``fn`` held fixed.
      log_weights: the weights with ``logscale=True`` (the layer then takes a
        ``logscale`` argument); None: no such argument.
      presets: argument -> named initial values (PReLU's ``"torch"``).
    """

    fn: str
    weights: tuple[Weight, ...]
    fixed: Mapping[str, float] = dataclasses.field(default_factory=dict)
    log_weights: tuple[Weight, ...] | None = None
    presets: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)


# Class name -> definition, for the layers both frontends build from this table.
# ``Rational`` and ``MetaACON`` have coefficient vectors and projection matrices
# and are built by their own helpers below.
LEARNABLE: Mapping[str, LayerDef] = {
    "PReLU": LayerDef("prelu", (Weight("negative_slope"),), presets={"negative_slope": PRELU_INIT}),
    "Swish": LayerDef("swish_beta", (Weight("beta", "exp"),)),
    "StarReLU": LayerDef(
        "star_relu", (Weight("scale", channel=False), Weight("bias", channel=False))
    ),
    "XIELU": LayerDef(
        "xielu",
        (
            Weight("alpha_p", "softplus", channel=False),
            Weight("alpha_n", "softplus", offset=0.5, channel=False),
        ),
        fixed={"beta": 0.5, "eps": -1e-6},
    ),
    "Snake": LayerDef("snake", (Weight("alpha"),), log_weights=(Weight("alpha", "exp"),)),
    "SnakeBeta": LayerDef(
        "snake_beta",
        (Weight("alpha"), Weight("beta", "abs")),
        log_weights=(Weight("alpha", "exp"), Weight("beta", "exp")),
    ),
    "ACONC": LayerDef("acon_c", (Weight("p1"), Weight("p2"), Weight("beta", "exp"))),
    "SMU": LayerDef("smu", (Weight("mu", "exp"),), fixed={"alpha": 0.01}),
    "PELU": LayerDef("pelu", (Weight("a", "exp"), Weight("b", "exp"))),
}

# The activation (registry row) each of jaxact's parametrised layers computes.
LAYER_FUNCTIONS: Mapping[str, str] = {
    **{name: d.fn for name, d in LEARNABLE.items()},
    "Rational": "rational",
    "MetaACON": "meta_acon",
}

# The modules whose classes are jaxact's layers (one per framework).
FRONTENDS = ("jaxact.linen", "jaxact.nnx")

# The keyword-only arguments of every learnable layer, with their defaults.
KEYWORDS: Mapping[str, Any] = {"dtype": None, "param_dtype": jnp.float32, "sharding": None}


def layer_error(
    layer: str, arg: str, message: str, kind: type[Exception] = ValueError
) -> Exception:
    """The error for a bad argument, naming the layer and the argument.

    ``layer`` is the qualified name (``"jaxact.nnx.Snake"``). The policy, for
    every layer of both frameworks: ``TypeError`` for an argument of the wrong
    type (or a keyword the function does not take, as Python does),
    ``ValueError`` for one of the right type with a bad value.
    """
    return kind(f"{layer}: argument '{arg}' {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def raw_value(w: Weight, value: Any, layer: str) -> float:
    """The stored value whose transform is ``value`` (the inverse transform)."""
    arg = f"{w.arg}_init"
    if not _is_real(value):
        raise layer_error(layer, arg, f"must be a real number, got {value!r}", TypeError)
    value = float(value)
    if not math.isfinite(value):
        raise layer_error(layer, arg, f"must be finite, got {value!r}")
    if w.transform == "exp":
        if value <= 0:
            raise layer_error(layer, arg, f"must be positive, got {value!r}")
        return math.log(value)
    if w.transform == "softplus":
        if value <= w.offset:
            raise layer_error(layer, arg, f"must exceed {w.offset}, got {value!r}")
        v = value - w.offset
        return v + math.log(-math.expm1(-v))  # log(expm1(v)), stable for large v
    if w.transform == "abs" and value <= 0:
        raise layer_error(layer, arg, f"must be positive, got {value!r}")
    return value


def natural(w: Weight, raw: Array) -> Array:
    """The activation's argument from the stored value (the transform)."""
    tiny = jnp.finfo(raw.dtype).tiny  # keeps the result positive where exp/softplus underflow
    if w.transform == "exp":
        return jnp.exp(raw) + tiny
    if w.transform == "softplus":
        return w.offset + softplus(raw) + tiny
    if w.transform == "abs":
        return jnp.abs(raw) + tiny
    return raw


def param_shape(w: Weight, num_channels: int | None) -> tuple[int, ...]:
    return (num_channels,) if (w.channel and num_channels is not None) else ()


def to_channel(p: Array, x: Array, axis: int, layer: str) -> Array:
    """Reshapes a ``(C,)`` parameter to broadcast along ``x``'s channel ``axis``."""
    if p.ndim == 0:
        return p
    if not -x.ndim <= axis < x.ndim:
        raise layer_error(layer, "axis", f"{axis} is out of range for input shape {x.shape}")
    ax = axis % x.ndim
    if x.shape[ax] != p.shape[0]:
        raise layer_error(
            layer,
            "x",
            f"has {x.shape[ax]} channels on axis {axis}, but the layer has "
            f"num_channels={p.shape[0]} (input shape {x.shape})",
        )
    shape = [1] * x.ndim
    shape[ax] = p.shape[0]
    return p.reshape(shape)


def compute_dtype(dtype: Any, x: Any, layer: str) -> tuple[Array, Any]:
    """``x`` as an array in the layer's compute dtype: ``dtype`` if set, else x's own.

    What the functions reject (``core.as_array``: lists, tuples, strings, booleans,
    complex numbers, PRNG keys) raises the functions' ``TypeError``, naming ``layer``
    (``"jaxact.nnx.Activation"``) and the argument ``x``.
    """
    if not isinstance(x, (jax.Array, np.ndarray, np.generic)) or not jnp.issubdtype(
        x.dtype, jnp.floating
    ):
        core.as_array(x, layer.removeprefix("jaxact."), "x")  # raises for a non-real x
    x = jnp.asarray(x)
    if dtype is not None:
        x = x.astype(dtype)
    elif not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x, x.dtype


# ----------------------------------------------------------------------------
# Argument checks shared by the linen and nnx layers.


def check_int(
    layer: str, arg: str, value: Any, *, minimum: int = 1, optional: bool = False
) -> None:
    if optional and value is None:
        return
    need = f"an int >= {minimum}" + (" or None" if optional else "")
    if not _is_int(value):
        raise layer_error(layer, arg, f"must be {need}, got {value!r}", TypeError)
    if value < minimum:
        raise layer_error(layer, arg, f"must be {need}, got {value!r}")


def check_axis(layer: str, axis: Any) -> None:
    if not _is_int(axis):
        raise layer_error(layer, "axis", f"must be an int, got {axis!r}", TypeError)


def check_bool(layer: str, arg: str, value: Any, *, optional: bool = False) -> None:
    if not (isinstance(value, bool) or (optional and value is None)):
        need = "a bool or None" if optional else "a bool"
        raise layer_error(layer, arg, f"must be {need}, got {value!r}", TypeError)


def check_dtype(layer: str, arg: str, value: Any, *, optional: bool = False) -> None:
    """A floating dtype (``None`` too when ``optional``)."""
    if optional and value is None:
        return
    try:
        dtype = jnp.dtype(value) if value is not None else None
    except TypeError:
        dtype = None
    if dtype is None:
        raise layer_error(layer, arg, f"must be a floating dtype, got {value!r}", TypeError)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise layer_error(layer, arg, f"must be a floating dtype, got {dtype}")


def check_sharding(layer: str, sharding: Any) -> None:
    """``None`` or a 1-tuple naming the mesh axis of the channel axis."""
    if sharding is None:
        return
    need = "must be None or a 1-tuple naming the mesh axis (str or None) of the channel axis"
    if not isinstance(sharding, tuple) or not all(
        s is None or isinstance(s, str) for s in sharding
    ):
        raise layer_error(
            layer, "sharding", f"{need}, e.g. ('model',), got {sharding!r}", TypeError
        )
    if len(sharding) != 1:
        raise layer_error(layer, "sharding", f"{need}, e.g. ('model',), got {sharding!r}")


def check_keywords(layer: str, dtype: Any, param_dtype: Any, sharding: Any) -> None:
    """The keyword-only arguments every parametrised layer has."""
    check_dtype(layer, "dtype", dtype, optional=True)
    check_dtype(layer, "param_dtype", param_dtype)
    check_sharding(layer, sharding)


def check_channel_axis(layer: str, axis: int, x: Array) -> None:
    """``axis`` must be a non-batch axis of an at least 2-D input (Meta-ACON's channel axis)."""
    if x.ndim < 2 or not -x.ndim <= axis < x.ndim or axis % x.ndim == 0:
        raise layer_error(
            layer,
            "axis",
            f"{axis} must be a non-batch axis of an at least 2-D input, got shape {x.shape}",
        )


def check_rngs(layer: str, rngs: Any, kind: type, *, required: bool, why: str = "") -> None:
    """``rngs`` is an instance of ``kind`` (nnx.Rngs); None is fine unless ``required``."""
    if rngs is None:
        if required:
            raise layer_error(layer, "rngs", f"is required{why}, got None")
        return
    if not isinstance(rngs, kind):
        raise layer_error(layer, "rngs", f"must be an nnx.Rngs{why}, got {rngs!r}", TypeError)


# ----------------------------------------------------------------------------
# The table-driven learnable layers: their arguments, checks and forward.


def arguments(layer: str) -> tuple[str, ...]:
    """The positional arguments of a table layer, in signature order.

    ``<arg>_init`` per weight, then ``num_channels`` and ``axis`` when a weight
    is per channel, then ``logscale`` when the layer has a log-scale variant;
    the keyword-only arguments are ``KEYWORDS``.
    """
    d = LEARNABLE[layer]
    names = [f"{w.arg}_init" for w in d.weights]
    if any(w.channel for w in d.weights):
        names += ["num_channels", "axis"]
    if d.log_weights is not None:
        names.append("logscale")
    return tuple(names)


def weights(layer: str, logscale: bool = False) -> tuple[Weight, ...]:
    """The weights of a table layer (its log-scale weights with ``logscale``)."""
    d = LEARNABLE[layer]
    return d.log_weights if (logscale and d.log_weights is not None) else d.weights


def learnable_inits(owner: str, layer: str, args: Mapping[str, Any]) -> dict[str, float]:
    """Checks every argument of a table layer; returns stored name -> initial raw value.

    Args:
      owner: the qualified class name for errors (``"jaxact.linen.Snake"``).
      layer: the table row (the class name).
      args: every argument of ``arguments(layer)`` and ``KEYWORDS`` by name.
    """
    d = LEARNABLE[layer]
    names = arguments(layer)
    num_channels = args.get("num_channels")
    if "num_channels" in names:
        check_int(owner, "num_channels", num_channels, optional=True)
        check_axis(owner, args["axis"])
    logscale = args.get("logscale", False)
    if "logscale" in names:
        check_bool(owner, "logscale", logscale)
    check_keywords(owner, args["dtype"], args["param_dtype"], args["sharding"])
    inits = {}
    for w in weights(layer, logscale):
        value = args[f"{w.arg}_init"]
        presets = d.presets.get(w.arg)
        if presets is not None and isinstance(value, str):
            if value not in presets:
                raise layer_error(
                    owner,
                    f"{w.arg}_init",
                    f"must be a number or one of {sorted(presets)}, got {value!r}",
                )
            value = presets[value]
        inits[w.stored] = raw_value(w, value, owner)
    return inits


def widest(x: Array, params: Sequence[Any]) -> np.dtype:
    """The dtype a layer's parameters are used in: the layer's compute dtype (``x``'s),
    or a parameter's own dtype where that is wider (float64 parameters stay float64
    under x64; bfloat16 input with float32 parameters uses them as float32)."""
    wide = jnp.dtype(x.dtype)
    for p in params:
        dtype = jnp.dtype(p.dtype)
        if jnp.issubdtype(dtype, jnp.floating) and dtype.itemsize > wide.itemsize:
            wide = dtype
    return wide


def call_activation(fn: Callable[..., Array], x: Array, *args: Any, **kwargs: Any) -> Array:
    """``fn(x, *args, **kwargs)`` for a layer: the array arguments are cast to
    :func:`widest` of them and ``x``; ``x`` is widened too when the activation would
    compute it in a narrower dtype (float32 input with float64 parameters is computed
    in float64), and the result is rounded once to ``x``'s dtype."""

    def floating(a: Any) -> bool:
        return isinstance(a, jax.Array) and bool(jnp.issubdtype(a.dtype, jnp.floating))

    wide = widest(x, [a for a in (*args, *kwargs.values()) if floating(a)])

    def cast(a: Any) -> Any:
        return a.astype(wide) if floating(a) else a  # (not PRNG keys)

    args = tuple(cast(a) for a in args)
    kwargs = {k: cast(v) for k, v in kwargs.items()}
    if wide.itemsize <= core.compute_dtype(x.dtype).itemsize:
        return fn(x, *args, **kwargs)
    return fn(x.astype(wide), *args, **kwargs).astype(x.dtype)


def apply(
    owner: str,
    layer: str,
    x: Array,
    raw: Mapping[str, Array],
    axis: int = -1,
    logscale: bool = False,
) -> Array:
    """Calls the layer's activation with its transformed weights, in the dtype of
    :func:`call_activation` (the transforms in at least float32)."""
    d = LEARNABLE[layer]
    args: dict[str, Any] = dict(d.fixed)
    for w in weights(layer, logscale):
        stored = jnp.asarray(raw[w.stored])
        value = natural(w, stored.astype(core.compute_dtype(stored.dtype)))
        # The parameter's own dtype decides how wide it is used (a bfloat16 parameter
        # transformed in float32 is still a bfloat16 parameter).
        args[w.arg] = to_channel(value.astype(widest(x, [stored])), x, axis, owner)
    return call_activation(registry.FUNCTIONS[d.fn], x, **args)


# ----------------------------------------------------------------------------
# Checks of the other layers' arguments (the same in both frameworks).


def check_rational(owner: str, approx_func: Any, degrees: Any, version: Any) -> None:
    """Rational's arguments (cheap: no fit)."""
    targets = _rational.fit_targets()
    if not isinstance(approx_func, str):
        raise layer_error(
            owner,
            "approx_func",
            f"must be one of {sorted(targets)}, got {approx_func!r}",
            TypeError,
        )
    if approx_func not in targets:
        raise layer_error(
            owner, "approx_func", f"must be one of {sorted(targets)}, got {approx_func!r}"
        )
    if not isinstance(version, str):
        raise layer_error(
            owner, "version", f"must be 'A', 'B', 'C' or 'D', got {version!r}", TypeError
        )
    if version not in ("A", "B", "C", "D"):
        raise layer_error(owner, "version", f"must be 'A', 'B', 'C' or 'D', got {version!r}")
    if not isinstance(degrees, (tuple, list)) or not all(_is_int(d) for d in degrees):
        raise layer_error(
            owner, "degrees", f"must be a pair of ints >= 1, got {degrees!r}", TypeError
        )
    if len(degrees) != 2 or not all(d >= 1 for d in degrees):
        raise layer_error(owner, "degrees", f"must be a pair of ints >= 1, got {degrees!r}")


def check_meta_acon(owner: str, args: Mapping[str, Any]) -> None:
    """MetaACON's arguments (all but ``kernel_init`` and nnx's ``rngs``)."""
    check_int(owner, "num_channels", args["num_channels"])
    check_int(owner, "ratio", args["ratio"])
    check_axis(owner, args["axis"])
    for arg in ("p1", "p2"):
        raw_value(Weight(arg), args[f"{arg}_init"], owner)
    if not callable(args["kernel_init"]):
        raise layer_error(
            owner, "kernel_init", f"must be an initializer, got {args['kernel_init']!r}", TypeError
        )
    check_keywords(owner, args["dtype"], args["param_dtype"], args["sharding"])


def check_gated_mlp(owner: str, args: Mapping[str, Any]) -> None:
    """GatedMLP's arguments (all but nnx's ``in_features`` and ``rngs``)."""
    check_int(owner, "hidden_features", args["hidden_features"], optional=True)
    check_int(owner, "out_features", args["out_features"], optional=True)
    gate_function(args["activation"], owner)
    check_bool(owner, "use_bias", args["use_bias"])
    check_bool(owner, "fused", args["fused"])
    rate = args["dropout_rate"]
    if not _is_real(rate):
        raise layer_error(
            owner, "dropout_rate", f"must be a number in [0, 1), got {rate!r}", TypeError
        )
    if not 0 <= rate < 1:
        raise layer_error(owner, "dropout_rate", f"must be a number in [0, 1), got {rate!r}")
    for arg in ("kernel_init", "bias_init"):
        if not callable(args[arg]):
            raise layer_error(owner, arg, f"must be an initializer, got {args[arg]!r}", TypeError)
    check_dtype(owner, "dtype", args["dtype"], optional=True)
    check_dtype(owner, "param_dtype", args["param_dtype"])


def check_function_keywords(
    function: Callable[..., Any], params: Mapping[str, Any], fn: Any, layer: str
) -> None:
    """Every fixed argument must be a parameter of the function (unless it takes **kwargs)."""
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    for key in params:
        if key not in sig.parameters:
            raise layer_error(
                layer,
                key,
                f"is not an argument of {fn!r} (its arguments: {', '.join(sig.parameters)})",
                TypeError,
            )


# ----------------------------------------------------------------------------
# Generic activation layers.


def resolve(fn: Any, layer: str, arg: str = "fn") -> Callable[..., Any]:
    """A name (jaxact's, a library's, or "library:name") or a callable -> a function.

    Library names carry their presets (``"gelu_pytorch_tanh"`` is tanh GELU). A
    library's name that libraries mean different functions by (``"LeakyReLU"``)
    raises listing the ``"library:name"`` choices.
    """
    if isinstance(fn, str):
        try:
            return registry.get(fn)
        except ValueError as e:
            found = registry._candidates(fn)
            if len(found) > 1 and not isinstance(e, KeyError):  # several meanings
                raise registry._ambiguous(layer, arg, fn, found, call=arg == "fn") from None
            if fn.partition(":")[1] and fn.partition(":")[0] not in registry.LIBRARY_NAMES:
                raise layer_error(layer, arg, str(e)) from None  # an unknown library
            raise unknown_name(layer, arg, fn) from None
    if callable(fn) and not isinstance(fn, type):
        return fn
    raise layer_error(
        layer, arg, f"must be an activation name or a callable, got {fn!r}", TypeError
    )


def needs_key(fn: str | Callable[..., Any], params: Mapping[str, Any]) -> bool:
    """Whether ``fn`` with ``params`` needs a PRNG key (gumbel_softmax, rrelu training)."""
    if not isinstance(fn, str):
        return False
    spec = registry.spec_of(fn)
    return spec is not None and (spec.kind == "random" or bool(params.get("training", False)))


# ----------------------------------------------------------------------------
# Rational (PAU).


@functools.lru_cache(maxsize=64)
def _fit(approx: str, degrees: tuple[int, int], version: str) -> tuple[np.ndarray, np.ndarray]:
    with jax.ensure_compile_time_eval():
        return _rational.fit_rational(_rational.fit_targets()[approx], degrees, version)


def rational_init(
    approx_func: str, degrees: tuple[int, int], version: str, layer: str
) -> tuple[np.ndarray, np.ndarray]:
    """PAU initial (numerator, denominator) fitted to ``approx_func`` on [-5, 5] (float64).

    The shipped ``RATIONAL_INIT`` coefficients for degrees (5, 4) version A,
    otherwise a least-squares fit computed now (and cached).
    """
    check_rational(layer, approx_func, degrees, version)
    degrees = (degrees[0], degrees[1])
    if degrees == (5, 4) and version == "A":
        sa, sb = _rational.RATIONAL_INIT[approx_func]
        return np.array(sa), np.array(sb)
    fa, fb = _fit(approx_func, degrees, "B" if version == "D" else version)
    return fa.copy(), fb.copy()


# ----------------------------------------------------------------------------
# Gated feed-forward.


def gate_function(activation: Any, layer: str) -> Callable[..., Any]:
    """The gate's activation: a variant name of ``GATES``, any activation name, or a callable."""
    if isinstance(activation, str) and activation in GATES:
        return registry.FUNCTIONS[GATES[activation]]
    need = f"must be a gate variant ({', '.join(GATES)}), an activation name or a callable"
    try:
        return resolve(activation, layer)
    except TypeError:
        raise layer_error(layer, "activation", f"{need}, got {activation!r}", TypeError) from None
    except ValueError as e:
        raise layer_error(layer, "activation", f"{need}, got {activation!r} ({e})") from None


def llama_hidden(features: int, multiple_of: int = 256) -> int:
    """LLaMA's hidden width for a SwiGLU block: 2/3 of 4d, rounded up to ``multiple_of``."""
    hidden = int(2 * (4 * features) / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


# ----------------------------------------------------------------------------
# What a layer computes: shared by swap_activations and the monitor.


def jaxact_layer(cls: type) -> str | None:
    """The name of the jaxact layer class ``cls`` is or derives from, else None.

    Only ``Activation`` and the layers of ``LAYER_FUNCTIONS`` count (not
    ``GatedMLP``: its gate is an attribute, not a layer).
    """
    for c in cls.__mro__:
        module = c.__module__ or ""
        if module.startswith(FRONTENDS) and (
            c.__name__ == "Activation" or c.__name__ in LAYER_FUNCTIONS
        ):
            return c.__name__
    return None


def layer_activation(module: Any) -> tuple[str | Callable[..., Any], bool] | None:
    """(the activation, whether it is random) that a layer computes, or None.

    For jaxact's ``Activation`` (of either framework) its ``fn``; for its
    learnable layers, ``Rational`` and ``MetaACON`` the registry row they call;
    for flax's own ``PReLU`` ``"prelu"``. None for every other object.
    """
    name = jaxact_layer(type(module))
    if name == "Activation":
        return module.fn, needs_key(module.fn, module.params)
    if name is not None:
        return LAYER_FUNCTIONS[name], False
    if type(module).__name__ == "PReLU" and type(module).__module__.startswith("flax."):
        return "prelu", False
    return None


def layer_target(module: Any) -> Any:
    """What ``swap_activations`` matches a layer by, or None for objects that are no layer.

    :func:`layer_activation`'s activation, except that a generic ``Activation``
    with fixed ``params`` is its function with those params bound (a
    ``functools.partial``): ``Activation("gelu", approximate=False)`` computes
    ``gelu_erf`` and ``Activation("leaky_relu", negative_slope=0.2)`` carries
    its slope.
    """
    computes = layer_activation(module)
    if computes is None:
        return None
    fn = computes[0]
    params = getattr(module, "params", None)
    if jaxact_layer(type(module)) == "Activation" and params:
        try:
            function = resolve(fn, "Activation")
        except (TypeError, ValueError):
            return fn
        return functools.partial(function, **params)
    return fn


def activation_name(obj: Any) -> str | None:
    """The name an activation (a name or a function) is matched by, or None when unknown.

    The registry row it computes (``registry.spec_of``, partials resolved by
    their keywords: ``partial(jax.nn.gelu, approximate=False)`` is ``gelu_erf``),
    except that a dispatcher used as is (jax.nn's ``gelu``, whose defaults
    compute ``gelu_tanh`` but whose call may ask for the erf form) keeps its own
    name: it is matched by ``"gelu"`` and its own function, not by
    ``"gelu_tanh"``. A partial that fixes ``approximate`` is no longer a
    dispatcher and is named by the row it computes.
    """
    found = registry._resolve_row(obj)
    if found is None:
        return None
    spec, dispatcher = found
    return dispatcher or spec.name


def unknown_name(layer: str, arg: str, name: str) -> ValueError:
    """The error for a string argument that names no activation (with close names, or
    where the names are when none is close)."""
    return registry._unknown_name(layer, arg, name)


def matcher(old: Any, layer: str) -> Callable[[Any], bool]:
    """``old`` (a name, a callable, or a list of them) -> a predicate on objects.

    A name matches every function or generic layer that computes that
    activation (jax.nn's, flax's, jaxact's, library presets and partials
    resolved by :func:`activation_name`); a callable matches itself, partials of
    it and, if it is a known activation, every function computing the same.
    """
    if isinstance(old, str):
        want = activation_name(old)
        if want is None:
            raise unknown_name(layer, "old", old)
        return lambda obj: activation_name(obj) == want
    if isinstance(old, (list, tuple, set, frozenset)):
        if not old:
            raise layer_error(layer, "old", f"must name at least one activation, got {old!r}")
        tests = [matcher(o, layer) for o in old]
        return lambda obj: any(t(obj) for t in tests)
    if callable(old) and not isinstance(old, type):
        want = activation_name(old)
        if want is not None:
            return lambda obj: obj is old or activation_name(obj) == want
        return lambda obj: obj is old or registry._unwrap(obj)[0] is old
    hint = (
        " (a layer class: pass the activation it computes, e.g. 'prelu')"
        if isinstance(old, type)
        else ""
    )
    raise layer_error(
        layer,
        "old",
        f"must be an activation name, a callable or a list of them, got {old!r}{hint}",
        TypeError,
    )


def framework_of(cls: type) -> str | None:
    """``"linen"`` or ``"nnx"`` for a class of a flax framework (without importing flax)."""
    for c in cls.__mro__:
        module = c.__module__ or ""
        for framework in ("linen", "nnx"):
            if module == f"flax.{framework}" or module.startswith(f"flax.{framework}."):
                return framework
    return None


def model_error(layer: str, model: Any, framework: str) -> TypeError:
    """``swap_activations``'s error for a ``model`` that is no module of ``framework``."""
    other = framework_of(type(model))
    got = type(model).__name__
    if other is not None and other != framework:
        return TypeError(
            f"{layer}: argument 'model' must be a flax.{framework} Module, got the flax.{other} "
            f"{got}: use jaxact.{other}.swap_activations"
        )
    return TypeError(f"{layer}: argument 'model' must be a flax.{framework} Module, got {got}")


def check_swap(layer: str, new: Any, where: Any, module: type, framework: str) -> None:
    """Checks ``swap_activations``'s ``new`` (a name, a callable or a layer) and ``where``.

    ``module`` is the framework's module class and ``framework`` its name
    (``"linen"`` or ``"nnx"``): a layer of the other framework is refused.
    """
    if isinstance(new, str):
        if registry.spec_of(new) is None:
            raise unknown_name(layer, "new", new)
        resolve(new, layer, "new")  # a name of several meanings raises
    elif isinstance(new, type) or not (callable(new) or isinstance(new, module)):
        raise layer_error(
            layer,
            "new",
            f"must be an activation name, a callable or a flax.{framework} layer instance, "
            f"got {new!r}",
            TypeError,
        )
    elif (other := framework_of(type(new))) is not None and other != framework:
        raise layer_error(
            layer,
            "new",
            f"is a flax.{other} layer ({type(new).__name__}); a flax.{framework} model needs a "
            f"flax.{framework} layer (e.g. jaxact.{framework}.{type(new).__name__})",
            TypeError,
        )
    if where is not None and not callable(where):
        raise layer_error(
            layer, "where", f"must be a callable (path, obj) -> bool, got {where!r}", TypeError
        )


# Where an activation is called inline in each framework (the no-match message's example).
INLINE_CALLS: Mapping[str, str] = {
    "linen": "`x = nn.relu(x)` in an @nn.compact or setup body",
    "nnx": "`x = nnx.gelu(x)` in a method",
}


def no_match_error(layer: str, old: Any, model: Any, rejected: int, framework: str) -> ValueError:
    """``swap_activations``'s error when nothing was replaced.

    ``rejected``: how many matches the ``where`` filter turned down.
    """
    name = type(model).__name__
    if rejected:
        s = "" if rejected == 1 else "s"
        what = (
            f"{old!r} matched {rejected} activation{s} in {name}, but the 'where' filter "
            "rejected every one"
        )
    else:
        what = f"{old!r} matched no activation held in an attribute of {name}"
    return ValueError(
        f"{layer}: argument 'old' {what}. swap_activations replaces attributes only; an "
        f"activation called inline ({INLINE_CALLS[framework]}) is no attribute: replace "
        "those with jaxact.substitute(fn, mapping)"
    )


# ----------------------------------------------------------------------------
# A learnable replacement starts from the old activation's hyperparameters.

# Rows besides its own whose parameters a learnable layer takes over in
# swap_activations (a leaky ReLU's slope starts a PReLU).
CARRY_FROM: Mapping[str, tuple[str, ...]] = {"PReLU": ("leaky_relu",)}


def _real(value: Any) -> float | None:
    """``value`` as a float (Python and NumPy reals, one-element arrays), else None."""
    if _is_real(value):
        return float(value)
    if isinstance(value, (np.ndarray, np.generic, jax.Array)) and np.size(value) == 1:
        try:
            return float(np.asarray(value).reshape(()))
        except (TypeError, ValueError):
            return None
    return None


def carried_values(source: Any, layer: str, logscale: bool = False) -> dict[str, Any]:
    """Weight argument -> the value the activation ``source`` computes with.

    ``source`` is the replaced activation (a name, a function or a partial, see
    :func:`layer_target`); ``layer`` a ``LEARNABLE`` row. Empty unless ``source``
    computes the layer's row or one of its ``CARRY_FROM`` rows. The values are
    the row's parameters with the defaults overridden by the keywords that the
    name's preset or the partial fixes (``"keras:leaky_relu"`` -> slope 0.2).
    """
    if source is None or isinstance(source, type):
        return {}
    found = registry._resolve_row(source)
    if found is None:
        return {}
    spec = found[0]
    if spec.name != LEARNABLE[layer].fn and spec.name not in CARRY_FROM.get(layer, ()):
        return {}
    if isinstance(source, str):
        source = registry.get(source)
    _, keywords = registry._unwrap(source)
    values = {**spec.params, **{k: v for k, v in keywords.items() if k in spec.params}}
    return {w.arg: values[w.arg] for w in weights(layer, logscale) if w.arg in values}


def carried_inits(
    owner: str,
    layer: str,
    source: Any,
    logscale: bool,
    left_default: Callable[[Weight], bool],
    notes: list[str],
) -> dict[str, float]:
    """The initial values a learnable replacement takes from the activation it replaces.

    Args:
      owner: ``swap_activations``'s qualified name, for the notes.
      layer: the replacement's ``LEARNABLE`` row.
      source: the replaced activation (see :func:`carried_values`).
      logscale: the replacement's ``logscale``.
      left_default: whether the replacement's weight is still at the layer's
        default initial value (only those are set).
      notes: collects a message per value that cannot start the layer (it then
        keeps its default).

    Returns:
      Weight argument -> initial value (the natural value, as the ``<arg>_init``
      arguments take it).
    """
    out: dict[str, float] = {}
    values = carried_values(source, layer, logscale)
    for w in weights(layer, logscale):
        if w.arg not in values or not left_default(w):
            continue
        value = _real(values[w.arg])
        problem = None
        if value is None:
            problem = f"{w.arg} is not a real number"
        else:
            try:
                raw_value(w, value, layer)
            except (TypeError, ValueError) as e:
                problem = str(e).split("argument ", 1)[-1]
        if problem is not None:
            notes.append(
                f"{owner}: the replaced activation has {w.arg}={values[w.arg]!r}, which cannot "
                f"start {layer} ({problem}); it starts at its default {w.arg}_init instead"
            )
            continue
        assert value is not None
        out[w.arg] = value
    return out


def default_init(cls: type, arg: str) -> Any:
    """The default of the ``arg`` argument of ``cls.__init__`` (None when it has none)."""
    init = next((c.__dict__["__init__"] for c in cls.__mro__ if "__init__" in c.__dict__), None)
    try:
        p = inspect.signature(init).parameters.get(arg) if init is not None else None
    except (TypeError, ValueError):
        return None
    return None if p is None or p.default is inspect.Parameter.empty else p.default


def default_raw(layer: str, w: Weight, default: Any) -> float | None:
    """The stored value of a weight whose ``<arg>_init`` is ``default`` (a number or preset)."""
    presets = LEARNABLE[layer].presets.get(w.arg)
    if presets is not None and isinstance(default, str):
        default = presets.get(default)
    try:
        return raw_value(w, default, layer)
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------
# Call sites of an attribute (a learnable swap of a field called twice shares it).


@functools.lru_cache(maxsize=256)
def call_sites(cls: type, attr: str) -> tuple[tuple[int, ...], bool]:
    """(the source line of each place where ``cls``'s methods call ``self.<attr>(...)``,
    whether one of them is inside a loop or a comprehension).

    The methods of ``cls`` and of its bases outside flax; empty when the source
    cannot be read (a class defined in a REPL).
    """
    sites: set[tuple[int, int]] = set()
    looped = False
    loops = (
        ast.For,
        ast.AsyncFor,
        ast.While,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
    )
    for c in cls.__mro__:
        if (c.__module__ or "").startswith(("flax.", "builtins")):
            continue
        try:
            source, first = inspect.getsourcelines(c)
            tree = ast.parse(textwrap.dedent("".join(source)))
        except (OSError, TypeError, SyntaxError):
            continue

        stack: list[tuple[ast.AST, bool]] = [(tree, False)]
        while stack:
            node, in_loop = stack.pop()
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == attr
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "self"
            ):
                sites.add((first + node.lineno - 1, node.col_offset))
                looped = looped or in_loop
            inner = in_loop or isinstance(node, loops)
            stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return tuple(line for line, _ in sorted(sites)), looped


def shared_note(layer: str, cls: type, attr: str, new: Any, framework: str) -> str | None:
    """A note when ``cls.<attr>``, now the learnable layer ``new``, is called more than once
    (at several call sites, or in a loop); None otherwise."""
    lines, looped = call_sites(cls, attr)
    if len(lines) < 2 and not (lines and looped):
        return None
    unique = list(dict.fromkeys(lines))
    at = f"line{'s' if len(unique) > 1 else ''} {', '.join(map(str, unique))}"
    if len(lines) > 1:
        calls = f"is called at {len(lines)} call sites ({at})"
        shared = f"shared between the {len(lines)} call sites"
    else:
        calls = f"is called in a loop ({at})"
        shared = "shared between the calls"
    holder = (
        "a linen field holds one submodule"
        if framework == "linen"
        else "an attribute holds one module"
    )
    return (
        f"{layer}: {cls.__name__}.{attr} {calls}; the new learnable {type(new).__name__} "
        f"layer's parameters are {shared} ({holder}, so swapping cannot give each call site "
        "its own copy: declare one attribute per call site for separate parameters)"
    )
