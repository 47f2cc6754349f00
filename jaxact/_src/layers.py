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

import dataclasses
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import rational as _rational
from jaxact._src import registry
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
    """``x`` as an array in the layer's compute dtype: ``dtype`` if set, else x's own."""
    if not isinstance(x, (jax.Array, np.ndarray, np.generic, int, float)) or isinstance(x, bool):
        raise layer_error(layer, "x", f"must be a real array, got {type(x).__name__}", TypeError)
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


def apply(
    owner: str,
    layer: str,
    x: Array,
    raw: Mapping[str, Array],
    axis: int = -1,
    logscale: bool = False,
) -> Array:
    """Calls the layer's activation with its transformed weights (cast to x's dtype)."""
    d = LEARNABLE[layer]
    args: dict[str, Any] = dict(d.fixed)
    for w in weights(layer, logscale):
        value = natural(w, jnp.asarray(raw[w.stored]).astype(jnp.float32))
        args[w.arg] = to_channel(value.astype(x.dtype), x, axis, owner)
    return registry.FUNCTIONS[d.fn](x, **args)


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


def resolve(fn: Any, layer: str) -> Callable[..., Any]:
    """A name (jaxact's, a library's, or "library:name") or a callable -> a function.

    Library names carry their presets (``"gelu_pytorch_tanh"`` is tanh GELU).
    """
    if isinstance(fn, str):
        try:
            return registry.get(fn)
        except ValueError as e:
            raise layer_error(layer, "fn", str(e)) from None
    if callable(fn) and not isinstance(fn, type):
        return fn
    raise layer_error(
        layer, "fn", f"must be an activation name or a callable, got {fn!r}", TypeError
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


def activation_name(obj: Any) -> str | None:
    """The name an activation (a name or a function) is matched by, or None when unknown.

    The registry row (``registry.spec_of``), except that a dispatcher (jax.nn's
    ``gelu``, whose defaults compute ``gelu_tanh``) keeps its own name: it is
    matched by ``"gelu"`` and its own function, not by ``"gelu_tanh"``.
    """
    spec = registry.spec_of(obj)
    if spec is None:
        return None
    if isinstance(obj, str):
        obj = registry.get(obj)
    name = getattr(getattr(obj, "func", obj), "__name__", None)
    return name if name in registry.DISPATCHERS else spec.name


def matcher(old: Any, layer: str) -> Callable[[Any], bool]:
    """``old`` (a name, a callable, or a list of them) -> a predicate on objects.

    A name matches every function or generic layer that computes that
    activation (jax.nn's, flax's, jaxact's, library presets resolved); a
    callable matches itself and, if it is a known activation, the same.
    """
    if isinstance(old, str):
        want = activation_name(old)
        if want is None:
            raise layer_error(layer, "old", f"is not an activation name: {old!r}")
        return lambda obj: activation_name(obj) == want
    if isinstance(old, (list, tuple, set, frozenset)):
        tests = [matcher(o, layer) for o in old]
        return lambda obj: any(t(obj) for t in tests)
    if callable(old):
        want = activation_name(old)
        return lambda obj: obj is old or (want is not None and activation_name(obj) == want)
    raise layer_error(
        layer, "old", f"must be a name, a callable or a list of them, got {old!r}", TypeError
    )


def check_swap(layer: str, new: Any, where: Any, module: type) -> None:
    """Checks ``swap_activations``'s ``new`` (a name, a callable or a layer) and ``where``."""
    if isinstance(new, str):
        try:
            registry.get(new)
        except ValueError as e:
            raise layer_error(layer, "new", str(e)) from None
    elif isinstance(new, type) or not (callable(new) or isinstance(new, module)):
        raise layer_error(
            layer,
            "new",
            f"must be an activation name, a callable or a layer instance, got {new!r}",
            TypeError,
        )
    if where is not None and not callable(where):
        raise layer_error(
            layer, "where", f"must be a callable (path, obj) -> bool, got {where!r}", TypeError
        )
