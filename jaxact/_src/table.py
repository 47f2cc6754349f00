"""The name table: every activation, its metadata, and the names other libraries use.

``SPECS`` holds one :class:`~jaxact._src.core.Spec` per activation, gathered from
the family modules. ``LIBRARY_NAMES`` maps each library's own names to a jaxact
function with the preset arguments that reproduce that library's math and
defaults. Tests, docs, benchmarks and layers iterate over these two tables.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import jax
import numpy as np

from jaxact._src import (
    exponential,
    gated,
    gelu,
    hard,
    misc,
    normalizing,
    periodic,
    rational,
    relu,
    sigmoid,
    softplus,
    swish,
)
from jaxact._src.core import Spec

FAMILIES = (
    relu,
    sigmoid,
    softplus,
    gelu,
    swish,
    exponential,
    hard,
    gated,
    normalizing,
    periodic,
    rational,
    misc,
)

SPECS: Mapping[str, Spec] = {s.name: s for module in FAMILIES for s in module.SPECS}

# Public names that are not rows of their own: jax.nn's dispatcher and aliases.
ALIASES: Mapping[str, Callable[..., Any]] = {
    "gelu": gelu.gelu,
    "swish": swish.silu,
    "hard_swish": hard.hard_silu,
    "softsign": sigmoid.soft_sign,
    "squared_relu": relu.relu2,
    "tanhexp": swish.telu,
}

FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    **{name: s.fn for name, s in SPECS.items()},
    **ALIASES,
}

_JAX = (
    "identity relu relu6 leaky_relu elu celu selu gelu sigmoid log_sigmoid silu swish mish "
    "softplus sparse_plus squareplus soft_sign sparse_sigmoid hard_tanh hard_sigmoid hard_silu "
    "hard_swish glu softmax log_softmax tanh"
).split()

Entry = tuple[str, Mapping[str, Any]]


def _same(names: str) -> dict[str, Entry]:
    return {n: (n, {}) for n in names.split()}


# name in that library -> (jaxact function, preset keyword arguments)
LIBRARY_NAMES: Mapping[str, Mapping[str, Entry]] = {
    "jax": {n: (n, {}) for n in _JAX},
    "flax": {n: (n, {}) for n in _JAX if n not in ("squareplus", "sparse_plus", "sparse_sigmoid")},
    "torch": {
        **_same("relu relu6 rrelu sigmoid tanh silu mish elu celu selu glu softmin softmax"),
        **_same("log_softmax gumbel_softmax threshold leaky_relu prelu"),
        "prelu": ("prelu", {"negative_slope": 0.25}),
        "hardtanh": ("hard_tanh", {}),
        "hardsigmoid": ("hard_sigmoid", {}),
        "hardswish": ("hard_silu", {}),
        "hardshrink": ("hard_shrink", {}),
        "softshrink": ("soft_shrink", {}),
        "tanhshrink": ("tanh_shrink", {}),
        "logsigmoid": ("log_sigmoid", {}),
        "softsign": ("soft_sign", {}),
        "softplus": ("softplus", {"beta": 1.0, "threshold": 20.0}),
        "gelu": ("gelu_erf", {}),
        "Threshold": ("threshold", {}),
        "ReLU": ("relu", {}),
        "RReLU": ("rrelu", {}),
        "Hardtanh": ("hard_tanh", {}),
        "ReLU6": ("relu6", {}),
        "Sigmoid": ("sigmoid", {}),
        "Hardsigmoid": ("hard_sigmoid", {}),
        "Tanh": ("tanh", {}),
        "SiLU": ("silu", {}),
        "Mish": ("mish", {}),
        "Hardswish": ("hard_silu", {}),
        "ELU": ("elu", {}),
        "CELU": ("celu", {}),
        "SELU": ("selu", {}),
        "GLU": ("glu", {}),
        "GELU": ("gelu_erf", {}),
        "Hardshrink": ("hard_shrink", {}),
        "LeakyReLU": ("leaky_relu", {"negative_slope": 0.01}),
        "LogSigmoid": ("log_sigmoid", {}),
        "Softplus": ("softplus", {"beta": 1.0, "threshold": 20.0}),
        "Softshrink": ("soft_shrink", {}),
        "PReLU": ("prelu", {"negative_slope": 0.25}),
        "Softsign": ("soft_sign", {}),
        "Tanhshrink": ("tanh_shrink", {}),
        "Softmin": ("softmin", {}),
        "Softmax": ("softmax", {}),
        "Softmax2d": ("softmax", {"axis": -3}),
        "LogSoftmax": ("log_softmax", {}),
        "Identity": ("identity", {}),
    },
    "timm": {
        **_same("silu mish relu relu6 leaky_relu elu celu selu gelu_tanh quick_gelu sigmoid tanh"),
        **_same("hard_sigmoid hard_mish identity star_relu"),
        "swish": ("silu", {}),
        "gelu": ("gelu_erf", {}),
        "hard_swish": ("hard_silu", {}),
        "hardsigmoid": ("hard_sigmoid", {}),
        "hardswish": ("hard_silu", {}),
        "prelu": ("prelu", {"negative_slope": 0.25}),
        "squared_relu": ("relu2", {}),
    },
    "transformers": {
        **_same("quick_gelu laplace relu2 xielu silu mish relu relu6 leaky_relu sigmoid tanh"),
        "gelu": ("gelu_erf", {}),
        "gelu_python": ("gelu_erf", {}),
        "gelu_new": ("gelu_tanh", {}),
        "gelu_fast": ("gelu_tanh", {}),
        "gelu_accurate": ("gelu_tanh", {}),
        "gelu_pytorch_tanh": ("gelu_tanh", {}),
        "gelu_python_tanh": ("gelu_tanh", {}),
        "gelu_10": ("gelu_clipped", {"min_val": -10.0, "max_val": 10.0}),
        "sqrtsoftplus": ("sqrt_softplus", {}),
        "swish": ("silu", {}),
        "prelu": ("prelu", {"negative_slope": 0.25}),
        "hardswish": ("hard_silu", {}),
        "linear": ("identity", {}),
    },
    "keras": {
        **_same("relu relu6 softmax celu elu selu softplus squareplus soft_shrink sparse_plus"),
        **_same("silu glu tanh tanh_shrink threshold sigmoid sparse_sigmoid exponential"),
        **_same("hard_sigmoid hard_silu hard_tanh hard_shrink mish log_softmax log_sigmoid"),
        **_same("sparsemax"),
        "leaky_relu": ("leaky_relu", {"negative_slope": 0.2}),
        "softsign": ("soft_sign", {}),
        "swish": ("silu", {}),
        "gelu": ("gelu_erf", {}),
        "hard_swish": ("hard_silu", {}),
        "linear": ("identity", {}),
        "LeakyReLU": ("leaky_relu", {"negative_slope": 0.3}),
        "ReLU": ("relu", {}),
        "PReLU": ("prelu", {"negative_slope": 0.0}),
        "ELU": ("elu", {}),
        "Softmax": ("softmax", {}),
    },
}

LIBRARIES = tuple(LIBRARY_NAMES)


def _resolve(target: str, presets: Mapping[str, Any], label: str) -> Callable[..., Any]:
    fn = FUNCTIONS[target]
    if not presets:
        return fn
    bound = functools.partial(fn, **presets)
    functools.update_wrapper(bound, fn)
    bound.__name__ = label  # type: ignore[attr-defined]
    return bound


def _lookup(table: Mapping[str, Entry], name: str) -> Entry | None:
    if name in table:
        return table[name]
    lowered = {k.lower(): v for k, v in table.items()}
    return lowered.get(name.lower())


def get(name: str | Callable[..., Any], library: str | None = None) -> Callable[..., Any]:
    """Returns the activation called ``name``, with that library's math and defaults.

    ``name`` is one of jaxact's names (``jaxact.list_names()``) or a name another
    library uses; ``library`` (or a ``"library:name"`` prefix) picks whose
    convention applies where the libraries differ: ``get("gelu")`` is jax.nn's
    ``gelu`` (tanh form by default), ``get("gelu", "torch")`` and
    ``get("transformers:gelu")`` the exact erf form, ``get("keras:leaky_relu")``
    has slope 0.2. Without a library, jaxact's names are tried first, then the
    libraries in the order jax, flax, torch, timm, transformers, keras. Callables
    pass through unchanged, as in timm and Keras.

    Raises:
      ValueError: unknown name or library (the message suggests close names).
      TypeError: ``name`` is neither a string nor a callable.
    """
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"jaxact.get: argument 'name' must be a string, got {type(name).__name__}")
    if library is None and ":" in name:
        library, name = name.split(":", 1)
    if library is not None:
        if library not in LIBRARY_NAMES:
            raise ValueError(
                f"jaxact.get: unknown library {library!r}; choose one of {', '.join(LIBRARIES)}"
            )
        found = _lookup(LIBRARY_NAMES[library], name)
        if found is None:
            close = difflib.get_close_matches(name, list(LIBRARY_NAMES[library]), n=5)
            raise ValueError(
                f"jaxact.get: unknown {library} activation {name!r}; closest names: "
                f"{', '.join(close) or 'none'}"
            )
        return _resolve(found[0], found[1], name)
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    for lib in LIBRARIES:
        found = _lookup(LIBRARY_NAMES[lib], name)
        if found is not None:
            return _resolve(found[0], found[1], name)
    known = sorted({*FUNCTIONS, *(n for t in LIBRARY_NAMES.values() for n in t)})
    close = difflib.get_close_matches(name, known, n=5) or difflib.get_close_matches(
        name.lower(), [k.lower() for k in known], n=5, cutoff=0.5
    )
    raise ValueError(f"jaxact.get: unknown activation {name!r}; closest names: {', '.join(close)}")


def list_names(library: str | None = None) -> list[str]:
    """jaxact's activation names, or the names a given library uses."""
    if library is None:
        return list(SPECS)
    if library not in LIBRARY_NAMES:
        raise ValueError(
            f"jaxact.list_names: unknown library {library!r}; choose one of {', '.join(LIBRARIES)}"
        )
    return list(LIBRARY_NAMES[library])


def info(name: str) -> Spec:
    """The metadata row of an activation (by jaxact name or alias)."""
    fn = get(name)
    for spec in SPECS.values():
        if spec.fn is fn or spec.fn is getattr(fn, "func", None):
            return spec
    raise ValueError(f"jaxact.info: {name!r} has no metadata row (it is a dispatcher or preset)")


def libraries_of(name: str) -> list[str]:
    """The libraries that offer the activation ``name`` under some name."""
    return [
        lib for lib, table in LIBRARY_NAMES.items() if any(t == name for t, _ in table.values())
    ]


@functools.cache
def gain(name: str) -> float | None:
    """Recommended init gain: torch's ``calculate_gain`` value where torch has one,
    else ``1/sqrt(E[f(z)^2])`` for z ~ N(0, 1) (the factor that keeps the second
    moment of the activations at 1), by 80-point Gauss-Hermite quadrature.
    ``None`` for vector-valued and random activations."""
    spec = info(name)
    if spec.gain is not None:
        return spec.gain
    if spec.kind != "elementwise":
        return None
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    values = np.asarray(spec.fn(nodes.astype(np.float32), **spec.params), dtype=np.float64)
    second = float(np.sum(weights * values**2) / math.sqrt(2 * math.pi))
    return 1.0 / math.sqrt(second) if second > 0 else None


def init_for(
    activation: str | Callable[..., Any],
    mode: Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"] = "fan_in",
    distribution: Literal["truncated_normal", "normal", "uniform"] = "truncated_normal",
    in_axis: int | tuple[int, ...] = -2,
    out_axis: int | tuple[int, ...] = -1,
    dtype: Any = None,
) -> Callable[..., Any]:
    """A variance-scaling weight initializer matched to an activation's gain.

    ``scale = gain(activation) ** 2`` in ``jax.nn.initializers.variance_scaling``,
    so that with ``mode="fan_in"`` the pre-activations of the next layer keep unit
    second moment: He initialisation for the ReLU family (scale 2), LeCun for
    self-normalising SELU and for sigmoid (scale 1), ``(5/3)^2`` for tanh, and
    ``1/E[f(z)^2]`` for the others (see :func:`gain`). Vector-valued activations
    (softmax, the GLU family, ...) get LeCun's scale 1. jax.nn's ``gelu``
    dispatcher means its default, the tanh form. Works as a Flax ``kernel_init``.

    Args:
      activation: a name in the name table (any library's) or a jaxact function.
      mode, distribution, in_axis, out_axis, dtype: as in
        ``jax.nn.initializers.variance_scaling``.

    Returns:
      An initializer ``init(key, shape, dtype) -> Array``.

    Example:
      >>> import jax, jaxact
      >>> w = jaxact.init_for("relu")(jax.random.key(0), (512, 256))
      >>> round(float(w.var() * 512), 1)
      2.0
    """
    name: str | None
    if isinstance(activation, str):
        name = "gelu_tanh" if activation == "gelu" else activation
        get(name)  # raises ValueError naming the unknown name
    elif callable(activation):
        fn = getattr(activation, "func", activation)
        name = next((n for n, s in SPECS.items() if s.fn is fn), None)
        if name is None and fn is ALIASES["gelu"]:
            name = "gelu_tanh"
        if name is None:
            raise ValueError(
                f"jaxact.init_for: argument 'activation' {activation!r} is not a jaxact activation"
            )
    else:
        raise TypeError(
            "jaxact.init_for: argument 'activation' must be a name or a function, "
            f"got {type(activation).__name__}"
        )
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"jaxact.init_for: argument 'mode' {mode!r} is not a variance mode")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(
            f"jaxact.init_for: argument 'distribution' {distribution!r} is not one of "
            "'truncated_normal', 'normal', 'uniform'"
        )
    spec = info(name)
    g = 1.0 if spec.self_normalizing else gain(name)
    scale = 1.0 if g is None else g * g
    kwargs: dict[str, Any] = {"in_axis": in_axis, "out_axis": out_axis}
    if dtype is not None:
        kwargs["dtype"] = dtype
    return jax.nn.initializers.variance_scaling(scale, mode, distribution, **kwargs)


def format_rows(
    header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False
) -> str:
    """Rows of strings as an aligned text table or a Markdown table (for the CLI's tables)."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*r) for r in rows]
    return "\n".join(out)
