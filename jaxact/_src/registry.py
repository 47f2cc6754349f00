"""The registry: every activation declares its facts once, beside its function.

A family module decorates each public activation with :func:`register` (and a
dispatcher such as jax.nn's ``gelu`` with :func:`dispatcher`); the decorator
builds the activation's :class:`Spec` (name and family from the function and its
module) and files it here. Everything else derives from these rows: the public
``jaxact.registry`` tables, ``get`` / ``info`` / ``list_names``, the CLI, the
tests, the benchmarks, the layers and the docs.

Rows are filed in import order while ``jaxact`` is imported (the family order of
``jaxact/__init__.py``); the tables are read-only views that fill in as families
are imported and are complete once ``import jaxact`` has returned.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import jax
import numpy as np

Array = jax.Array
F = TypeVar("F", bound=Callable[..., Any])

# The libraries whose names resolve, in the order an unqualified name is tried.
LIBRARIES = ("jax", "flax", "torch", "timm", "transformers", "keras")
KINDS = ("elementwise", "vector", "random")


@dataclasses.dataclass(frozen=True)
class Kink:
    """A pinned derivative value where the formula has a corner or a jump.

    ``order``-th derivative at ``x`` equals ``value`` exactly (with the
    activation's default parameters). Tests check every pinned value.
    """

    x: float
    order: int
    value: float


@dataclasses.dataclass(frozen=True)
class Spec:
    """One activation and what is known about it (one row of the registry).

    Attributes:
      name: jaxact's canonical name (also the attribute name in ``jaxact``).
      fn: the function.
      family: the family module it lives in ("relu", "sigmoid", ...).
      params: numeric hyperparameters with their defaults (differentiable).
      kind: "elementwise", "vector" (acts along an axis) or "random" (needs a key).
      monotonic, bounded (below and above), bounded_below, smooth (C-infinity
        at every finite x), zero_centred (f(0) = 0 and f takes both signs),
        self_normalizing: properties of the function with default parameters.
      piecewise_linear: the derivative takes two values only; the backward pass
        keeps a one-byte code instead of an input-sized derivative.
      gain: recommended init gain (torch's ``calculate_gain`` where it has one);
        ``None`` means computed as 1/sqrt(E[f(z)^2]), z ~ N(0, 1).
      kinks: pinned derivative values at corners (the kink policy).
      paper: reference ("Authors year, Title, arXiv id or URL").
      aliases: other jaxact names of the same function (``swish`` for ``silu``).
      names: library -> the names that library uses for this function with its
        defaults (``{"torch": ("silu", "SiLU"), ...}``).
      presets: ``"library:name"`` -> the keyword arguments that reproduce that
        library's math under that name (``{"keras:leaky_relu": {"negative_slope": 0.2}}``).
      jax_nn: jax.nn's version of the function (called on one array with its
        defaults), or None when jax.nn has none.
      torch: ``(torch.nn.functional name, keyword arguments)`` of PyTorch's
        version, for comparisons, or None.
    """

    name: str
    fn: Callable[..., Array]
    family: str
    params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    kind: str = "elementwise"
    monotonic: bool = False
    bounded: bool = False
    bounded_below: bool = False
    smooth: bool = True
    zero_centred: bool = False
    self_normalizing: bool = False
    piecewise_linear: bool = False
    gain: float | None = None
    kinks: tuple[Kink, ...] = ()
    paper: str = ""
    aliases: tuple[str, ...] = ()
    names: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    presets: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    jax_nn: Callable[..., Array] | None = None
    torch: tuple[str, Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        # Read-only all the way down: the registry is shared by everything.
        freeze = types.MappingProxyType
        object.__setattr__(self, "params", freeze(dict(self.params)))
        object.__setattr__(
            self, "presets", freeze({k: freeze(dict(v)) for k, v in self.presets.items()})
        )
        object.__setattr__(self, "names", freeze(dict(self.names)))
        if self.torch is not None:
            object.__setattr__(self, "torch", (self.torch[0], freeze(dict(self.torch[1]))))

    @property
    def libraries(self) -> tuple[str, ...]:
        """The libraries that offer this function under some name."""
        named = {lib for lib in self.names} | {k.split(":")[0] for k in self.presets}
        return tuple(lib for lib in LIBRARIES if lib in named)


Entry = tuple[str, Mapping[str, Any]]

_specs: dict[str, Spec] = {}
_functions: dict[str, Callable[..., Any]] = {}
_aliases: dict[str, Callable[..., Any]] = {}
_dispatch_default: dict[str, str] = {}  # dispatcher -> the row its defaults compute
_library_names: dict[str, dict[str, Entry]] = {lib: {} for lib in LIBRARIES}

SPECS: Mapping[str, Spec] = types.MappingProxyType(_specs)
FUNCTIONS: Mapping[str, Callable[..., Any]] = types.MappingProxyType(_functions)
ALIASES: Mapping[str, Callable[..., Any]] = types.MappingProxyType(_aliases)
DISPATCHERS: Mapping[str, str] = types.MappingProxyType(_dispatch_default)
LIBRARY_NAMES: Mapping[str, Mapping[str, Entry]] = types.MappingProxyType(
    {lib: types.MappingProxyType(t) for lib, t in _library_names.items()}
)


def _parse_names(where: str, names: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """``{"jax flax": "silu swish", "torch": "SiLU"}`` -> per-library name tuples."""
    out: dict[str, list[str]] = {}
    for libs, text in names.items():
        for lib in libs.split():
            if lib not in LIBRARIES:
                raise ValueError(f"{where}: unknown library {lib!r} in 'names'")
            out.setdefault(lib, []).extend(text.split())
    return {lib: tuple(out[lib]) for lib in LIBRARIES if lib in out}


def _file_names(where: str, entries: list[tuple[str, str, Entry]]) -> None:
    """Files ``(library, name, entry)`` rows, all or none (a taken name raises)."""
    for lib, name, entry in entries:
        taken = _library_names[lib].get(name)
        if taken is not None and taken != entry:
            raise ValueError(f"{where}: {lib} name {name!r} is already taken by {taken[0]!r}")
    for lib, name, entry in entries:
        _library_names[lib][name] = entry


def _family(fn: Callable[..., Any]) -> str:
    return fn.__module__.rsplit(".", 1)[-1]


def register(
    *,
    params: Mapping[str, float] | None = None,
    kind: Literal["elementwise", "vector", "random"] = "elementwise",
    names: Mapping[str, str] | None = None,
    presets: Mapping[str, Mapping[str, Any]] | None = None,
    aliases: tuple[str, ...] = (),
    jax_nn: Callable[..., Array] | None = None,
    **facts: Any,
) -> Callable[[F], F]:
    """Files the decorated activation in the registry; returns it unchanged.

    Args:
      params, kind, aliases, presets: as the :class:`Spec` attributes.
      names: library names, ``{"jax flax torch": "silu", "torch": "SiLU"}`` (a key
        may list several libraries, a value several names).
      jax_nn: jax.nn's version; by default the jax.nn function of the first
        name listed for "jax", if any.
      facts: the other :class:`Spec` attributes (monotonic, gain, kinks, paper ...).
    """

    def file(fn: F) -> F:
        name = fn.__name__
        where = f"jaxact.register({name})"
        if name in _functions:
            raise ValueError(f"{where}: the name {name!r} is already registered")
        if kind not in KINDS:
            raise ValueError(f"{where}: argument 'kind' must be one of {KINDS}, got {kind!r}")
        parsed = _parse_names(where, names or {})
        counterpart = jax_nn
        if counterpart is None and "jax" in parsed:
            counterpart = getattr(jax.nn, parsed["jax"][0], None)
        spec = Spec(
            name=name,
            fn=fn,
            family=_family(fn),
            params=params or {},
            kind=kind,
            aliases=tuple(aliases),
            names=parsed,
            presets=presets or {},
            jax_nn=counterpart,
            **facts,
        )
        entries: list[tuple[str, str, Entry]] = [
            (lib, n, (name, types.MappingProxyType({})))
            for lib, lib_names in parsed.items()
            for n in lib_names
        ]
        for key, kwargs in spec.presets.items():
            lib, _, n = key.partition(":")
            if lib not in LIBRARIES or not n:
                raise ValueError(f"{where}: preset key {key!r} is not 'library:name'")
            entries.append((lib, n, (name, kwargs)))
        for alias in spec.aliases:
            if alias in _functions:
                raise ValueError(f"{where}: the alias {alias!r} is already registered")
        _file_names(where, entries)
        _specs[name] = spec
        _functions[name] = fn
        for alias in spec.aliases:
            _functions[alias] = fn
            _aliases[alias] = fn
        return fn

    return file


def dispatcher(*, default: str, names: Mapping[str, str]) -> Callable[[F], F]:
    """Files a public function that is no row of its own (jax.nn's ``gelu``, which
    dispatches to ``gelu_tanh`` or ``gelu_erf``) under its library names;
    ``default`` is the row it computes with its default arguments."""

    def file(fn: F) -> F:
        where = f"jaxact.dispatcher({fn.__name__})"
        if default not in _specs:
            raise ValueError(f"{where}: argument 'default' {default!r} is not a registered row")
        if fn.__name__ in _functions:
            raise ValueError(f"{where}: the name {fn.__name__!r} is already registered")
        entries: list[tuple[str, str, Entry]] = [
            (lib, n, (fn.__name__, types.MappingProxyType({})))
            for lib, lib_names in _parse_names(where, names).items()
            for n in lib_names
        ]
        _file_names(where, entries)
        _dispatch_default[fn.__name__] = default
        _functions[fn.__name__] = fn
        _aliases[fn.__name__] = fn
        return fn

    return file


def families() -> tuple[str, ...]:
    """The family modules, in the order their rows were filed."""
    return tuple(dict.fromkeys(s.family for s in _specs.values()))


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


def spec_of(activation: Any) -> Spec | None:
    """The row of an activation, or None when it has none.

    ``activation`` is a name (jaxact's or any library's, ``"torch:GELU"``) or a
    function: jaxact's, a library preset (``functools.partial`` of one), or
    jax.nn's and flax's own (``jax.nn.relu`` is the row ``relu``). A dispatcher
    (``gelu``, jaxact's or jax.nn's) means the row of its defaults (``gelu_tanh``).
    """
    if isinstance(activation, str):
        try:
            activation = get(activation)
        except ValueError:
            return None
    fn = getattr(activation, "func", activation)
    for spec in _specs.values():
        if spec.fn is fn:
            return spec
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return None
    if _functions.get(name) is fn and name in _dispatch_default:
        return _specs[_dispatch_default[name]]
    module = getattr(fn, "__module__", "") or ""
    if module.startswith(("jax", "flax")) and (
        name in _library_names["jax"] or getattr(jax.nn, name, None) is fn
    ):
        for spec in _specs.values():
            if spec.jax_nn is fn:
                return spec
        if name in _library_names["jax"]:
            return spec_of(get(name, "jax"))
    return None


def libraries_of(name: str) -> list[str]:
    """The libraries that offer the activation ``name`` under some name."""
    return list(info(name).libraries)


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
    if isinstance(activation, str):
        get(activation)  # raises ValueError naming the unknown name
    elif not callable(activation):
        raise TypeError(
            "jaxact.init_for: argument 'activation' must be a name or a function, "
            f"got {type(activation).__name__}"
        )
    found = spec_of(activation)
    if found is None:
        raise ValueError(
            f"jaxact.init_for: argument 'activation' {activation!r} is not a jaxact activation"
        )
    name = found.name
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
