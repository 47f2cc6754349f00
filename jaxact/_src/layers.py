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
    """A learnable layer: the activation row it calls and its weights."""

    fn: str
    weights: tuple[Weight, ...]
    fixed: Mapping[str, float] = dataclasses.field(default_factory=dict)


# Class name -> definition. ``Rational`` and ``MetaACON`` have coefficient
# vectors and projection matrices and are built by their own helpers below.
LEARNABLE: Mapping[str, LayerDef] = {
    "PReLU": LayerDef("prelu", (Weight("negative_slope"),)),
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
    "Snake": LayerDef("snake", (Weight("alpha"),)),
    "SnakeLog": LayerDef("snake", (Weight("alpha", "exp"),)),
    "SnakeBeta": LayerDef("snake_beta", (Weight("alpha"), Weight("beta", "abs"))),
    "SnakeBetaLog": LayerDef("snake_beta", (Weight("alpha", "exp"), Weight("beta", "exp"))),
    "ACONC": LayerDef("acon_c", (Weight("p1"), Weight("p2"), Weight("beta", "exp"))),
    "SMU": LayerDef("smu", (Weight("mu", "exp"),), fixed={"alpha": 0.01}),
    "PELU": LayerDef("pelu", (Weight("a", "exp"), Weight("b", "exp"))),
}


def layer_error(layer: str, arg: str, message: str) -> ValueError:
    """A ValueError that names the layer and the argument."""
    return ValueError(f"jaxact layer {layer}: argument '{arg}' {message}")


def raw_value(w: Weight, value: float, layer: str) -> float:
    """The stored value whose transform is ``value`` (the inverse transform)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise layer_error(layer, f"{w.arg}_init", f"must be a finite real number, got {value!r}")
    if w.transform == "exp":
        if value <= 0:
            raise layer_error(layer, f"{w.arg}_init", f"must be positive, got {value!r}")
        return math.log(value)
    if w.transform == "softplus":
        if value <= w.offset:
            raise layer_error(layer, f"{w.arg}_init", f"must exceed {w.offset}, got {value!r}")
        v = value - w.offset
        return v + math.log(-math.expm1(-v))  # log(expm1(v)), stable for large v
    if w.transform == "abs" and value <= 0:
        raise layer_error(layer, f"{w.arg}_init", f"must be positive, got {value!r}")
    return float(value)


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


def check_channels(layer: str, num_channels: int | None) -> None:
    if num_channels is not None and (
        not isinstance(num_channels, int) or isinstance(num_channels, bool) or num_channels < 1
    ):
        raise layer_error(
            layer, "num_channels", f"must be a positive int or None, got {num_channels!r}"
        )


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
        raise layer_error(layer, "x", f"must be a real array, got {type(x).__name__}")
    x = jnp.asarray(x)
    if dtype is not None:
        x = x.astype(dtype)
    elif not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x, x.dtype


def apply(layer: str, x: Array, raw: Mapping[str, Array], axis: int = -1) -> Array:
    """Calls the layer's activation with its transformed weights (cast to x's dtype)."""
    d = LEARNABLE[layer]
    args: dict[str, Any] = dict(d.fixed)
    for w in d.weights:
        value = natural(w, jnp.asarray(raw[w.stored]).astype(jnp.float32))
        args[w.arg] = to_channel(value.astype(x.dtype), x, axis, layer)
    return registry.FUNCTIONS[d.fn](x, **args)


# ----------------------------------------------------------------------------
# Argument checks shared by the linen and nnx layers.


def check_int(
    layer: str, arg: str, value: Any, *, minimum: int = 1, optional: bool = False
) -> None:
    if optional and value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        need = f"an int >= {minimum}" + (" or None" if optional else "")
        raise layer_error(layer, arg, f"must be {need}, got {value!r}")


def check_axis(layer: str, axis: Any) -> None:
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise layer_error(layer, "axis", f"must be an int, got {axis!r}")


def check_bool(layer: str, arg: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise layer_error(layer, arg, f"must be a bool, got {value!r}")


def check_sharding(layer: str, sharding: Any) -> None:
    """``None`` or a 1-tuple naming the mesh axis of the channel axis."""
    if sharding is None:
        return
    if (
        not isinstance(sharding, tuple)
        or len(sharding) != 1
        or not all(s is None or isinstance(s, str) for s in sharding)
    ):
        raise layer_error(
            layer,
            "sharding",
            "must be None or a 1-tuple naming the mesh axis (str or None) of the channel "
            f"axis, e.g. ('model',), got {sharding!r}",
        )


def check_channel_axis(layer: str, axis: int, x: Array) -> None:
    """``axis`` must be a non-batch axis of an at least 2-D input (Meta-ACON's channel axis)."""
    if x.ndim < 2 or not -x.ndim <= axis < x.ndim or axis % x.ndim == 0:
        raise layer_error(
            layer,
            "axis",
            f"{axis} must be a non-batch axis of an at least 2-D input, got shape {x.shape}",
        )


def check_keywords(
    function: Callable[..., Any], params: Mapping[str, Any], fn: Any, layer: str = "Activation"
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
            )


# ----------------------------------------------------------------------------
# Generic activation layers.


def resolve(fn: str | Callable[..., Any], layer: str = "Activation") -> Callable[..., Any]:
    """A name (jaxact's, a library's, or "library:name") or a callable -> a function.

    Library names carry their presets (``"gelu_pytorch_tanh"`` is tanh GELU).
    """
    if isinstance(fn, str):
        try:
            return registry.get(fn)
        except ValueError as e:
            raise layer_error(layer, "fn", str(e)) from None
    if callable(fn):
        return fn
    raise layer_error(layer, "fn", f"must be an activation name or a callable, got {fn!r}")


def needs_key(fn: str | Callable[..., Any], params: Mapping[str, Any]) -> bool:
    """Whether ``fn`` with ``params`` needs a PRNG key (gumbel_softmax, rrelu training)."""
    if not isinstance(fn, str):
        return False
    try:
        target = registry.get(fn)
    except ValueError:
        return False
    name = getattr(target, "func", target).__name__
    spec = registry.SPECS.get(name)
    return spec is not None and (spec.kind == "random" or bool(params.get("training", False)))


# ----------------------------------------------------------------------------
# Rational (PAU).


@functools.lru_cache(maxsize=64)
def _fit(approx: str, degrees: tuple[int, int], version: str) -> tuple[np.ndarray, np.ndarray]:
    with jax.ensure_compile_time_eval():
        return _rational.fit_rational(_rational.fit_targets()[approx], degrees, version)


def rational_init(
    approx_func: str, degrees: tuple[int, int], version: str, layer: str = "Rational"
) -> tuple[np.ndarray, np.ndarray]:
    """PAU initial (numerator, denominator) fitted to ``approx_func`` on [-5, 5] (float64).

    The shipped ``RATIONAL_INIT`` coefficients for degrees (5, 4) version A,
    otherwise a least-squares fit computed now (and cached).
    """
    targets = _rational.fit_targets()
    if approx_func not in targets:
        raise layer_error(
            layer, "approx_func", f"must be one of {sorted(targets)}, got {approx_func!r}"
        )
    if version not in ("A", "B", "C", "D"):
        raise layer_error(layer, "version", f"must be 'A', 'B', 'C' or 'D', got {version!r}")
    if (
        not isinstance(degrees, tuple)
        or len(degrees) != 2
        or not all(isinstance(d, int) and d >= 1 for d in degrees)
    ):
        raise layer_error(layer, "degrees", f"must be a pair of ints >= 1, got {degrees!r}")
    if degrees == (5, 4) and version == "A":
        sa, sb = _rational.RATIONAL_INIT[approx_func]
        return np.array(sa), np.array(sb)
    fa, fb = _fit(approx_func, degrees, "B" if version == "D" else version)
    return fa.copy(), fb.copy()


# ----------------------------------------------------------------------------
# Gated feed-forward.


def gate_function(activation: str | Callable[..., Any], layer: str = "GatedMLP") -> Callable:
    """The gate's activation: a variant name of ``GATES``, any activation name, or a callable."""
    if isinstance(activation, str) and activation in GATES:
        return registry.FUNCTIONS[GATES[activation]]
    try:
        return resolve(activation, layer)
    except ValueError as e:
        raise layer_error(
            layer,
            "activation",
            f"must be a gate variant ({', '.join(GATES)}), an activation name or a "
            f"callable, got {activation!r} ({e})",
        ) from None


def llama_hidden(features: int, multiple_of: int = 256) -> int:
    """LLaMA's hidden width for a SwiGLU block: 2/3 of 4d, rounded up to ``multiple_of``."""
    hidden = int(2 * (4 * features) / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


# ----------------------------------------------------------------------------
# Swapping activations.


def activation_name(obj: Any) -> str | None:
    """The canonical table name of a function or generic layer's function, if known."""
    if isinstance(obj, str):
        try:
            target = registry.get(obj)
        except ValueError:
            return None
        obj = target
    obj = getattr(obj, "func", obj)  # functools.partial presets
    name = getattr(obj, "__name__", None)
    if name is None:
        return None
    if registry.FUNCTIONS.get(name) is obj:
        return registry.info(name).name if name in registry.SPECS else _alias_target(name)
    module = getattr(obj, "__module__", "") or ""
    if module.startswith(("jax", "flax")) and name in registry.LIBRARY_NAMES["jax"]:
        target = registry.get(name, "jax")
        return getattr(getattr(target, "func", target), "__name__", name)
    if name == "tanh" and module.startswith("jax"):
        return "tanh"
    return None


def _alias_target(name: str) -> str:
    fn = registry.ALIASES[name]
    return getattr(fn, "__name__", name)


def matcher(old: Any) -> Callable[[Any], bool]:
    """``old`` (a name, a callable, or a list of them) -> a predicate on objects.

    A name matches every function or generic layer that computes that
    activation (jax.nn's, flax's, jaxact's, library presets resolved); a
    callable matches itself and, if it is a known activation, the same.
    """
    if isinstance(old, str):
        want = activation_name(old)
        if want is None:
            raise layer_error("swap_activations", "old", f"is not an activation name: {old!r}")
        return lambda obj: activation_name(obj) == want
    if isinstance(old, (list, tuple, set, frozenset)):
        tests = [matcher(o) for o in old]
        return lambda obj: any(t(obj) for t in tests)
    if callable(old):
        want = activation_name(old)
        return lambda obj: obj is old or (want is not None and activation_name(obj) == want)
    raise layer_error(
        "swap_activations", "old", f"must be a name, a callable or a list of them, got {old!r}"
    )
