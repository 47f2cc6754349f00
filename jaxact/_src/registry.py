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
import inspect
import math
import types
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, TypeVar, overload

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
      domain: the interval each numeric hyperparameter must lie in (every key of
        ``params`` and every other argument annotated ``ArrayLike``), as text:
        ``"(0, inf)"``, ``"[0, inf]"``, ``"(min_val, inf]"`` (an endpoint may name
        another argument); ``"(-inf, inf)"``, the finite reals, where the row
        declares none. A concrete value outside it, NaN included, raises
        ``ValueError`` naming the function and the argument (``core.checked``).
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
    domain: Mapping[str, str] = dataclasses.field(default_factory=dict)
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
        object.__setattr__(self, "domain", freeze(dict(self.domain)))
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
# (library, name) -> the library function that replaces the row's function for that
# name (another derivative convention at a kink, or the library's argument names);
# and each such function -> its row.
_library_fns: dict[tuple[str, str], Callable[..., Any]] = {}
_library_fn_rows: dict[Callable[..., Any], str] = {}
LIBRARY_FUNCTIONS: Mapping[tuple[str, str], Callable[..., Any]] = types.MappingProxyType(
    _library_fns
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


def _numeric_arguments(fn: Callable[..., Any]) -> list[str]:
    """The arguments of ``fn`` after ``x`` annotated as arrays (``ArrayLike``): its
    numeric hyperparameters, keyword defaults and required ones alike."""
    parameters = list(inspect.signature(fn).parameters.values())[1:]
    return [p.name for p in parameters if "ArrayLike" in str(p.annotation)]


def _domains(where: str, params: Collection[str], domain: Mapping[str, str]) -> dict[str, Any]:
    """Every numeric hyperparameter's parsed domain: the declared ones, and the finite
    reals for the others of ``params``."""
    from jaxact._src import core  # (core is imported by then)

    declared = {arg: core.interval(text, where) for arg, text in domain.items()}
    out = {arg: declared.get(arg, core.FINITE) for arg in params}
    out.update(declared)
    for arg, dom in out.items():
        for end in (dom.lo, dom.hi):
            if isinstance(end, str) and end not in out:
                raise ValueError(
                    f"{where}: the domain of {arg!r} names {end!r}, which has no domain"
                )
    return out


def register(
    *,
    params: Mapping[str, float] | None = None,
    domain: Mapping[str, str] | None = None,
    kind: Literal["elementwise", "vector", "random"] = "elementwise",
    names: Mapping[str, str] | None = None,
    presets: Mapping[str, Mapping[str, Any]] | None = None,
    aliases: tuple[str, ...] = (),
    jax_nn: Callable[..., Array] | None = None,
    **facts: Any,
) -> Callable[[F], F]:
    """Files the decorated activation in the registry; returns it with jax.numpy's
    weak typing of results (``core.jnp_typing``: a Python-scalar input gives a weakly
    typed result, as ``jnp.sin(2.5)`` does), the object the registry holds.

    Args:
      params, kind, aliases, presets: as the :class:`Spec` attributes.
      domain: the interval of each numeric hyperparameter that is not the finite
        reals, ``{"sigma": "(0, inf)", "max_val": "(min_val, inf]"}`` (see
        :class:`Spec`); the numeric hyperparameters are the keys of ``params`` and the
        other arguments annotated ``ArrayLike``. The returned function checks concrete
        values against them.
      names: library names, ``{"jax flax torch": "silu", "torch": "SiLU"}`` (a key
        may list several libraries, a value several names).
      jax_nn: jax.nn's version; by default the jax.nn function of the first
        name listed for "jax", if any.
      facts: the other :class:`Spec` attributes (monotonic, gain, kinks, paper ...).
    """

    def file(fn: F) -> F:
        from jaxact._src.core import checked, jnp_typing  # (core is imported by then)

        name = fn.__name__
        where = f"jaxact.register({name})"
        defaults = dict(params or {})
        numeric = [*defaults, *(a for a in _numeric_arguments(fn) if a not in defaults)]
        domains = _domains(where, numeric, domain or {})
        fn = jnp_typing(checked(fn, name, domains))
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
            domain={arg: dom.text for arg, dom in domains.items()},
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
        from jaxact._src.core import jnp_typing  # (core is imported by then)

        fn = jnp_typing(fn)
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


def library_function(
    row: str, names: Mapping[str, str], domain: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """Files the decorated function as what some library names of ``row`` resolve to.

    A library name is filed with its row (``register``'s ``names`` and ``presets``),
    which keeps the row's facts in one place; this says that ``jaxact.get`` returns
    the decorated function instead of the row's for those names (with the name's
    preset arguments, if any), because the library differs from the row in a way
    arguments cannot express: its derivative at a kink (torch's
    ``leaky_relu'(0)`` is the slope) or its argument names (Keras'
    ``hard_shrink(x, threshold)``). The function computes the row's values.

    Args:
      row: the registered row the names belong to.
      names: ``{"torch timm": "leaky_relu LeakyReLU"}``; each name must already be
        filed for that library under ``row``.
      domain: the domains of its numeric arguments the row does not have (Keras'
        ``threshold`` for ``lambd``); an argument named as one of the row's takes
        the row's domain, other ``ArrayLike`` arguments the finite reals.
    """

    def file(fn: F) -> F:
        where = f"jaxact.library_function({getattr(fn, '__name__', fn)!r})"
        if row not in _specs:
            raise ValueError(f"{where}: argument 'row' {row!r} is not a registered row")
        pairs = [(lib, n) for lib, ns in _parse_names(where, names).items() for n in ns]
        for lib, n in pairs:
            entry = _library_names[lib].get(n)
            if entry is None or entry[0] != row:
                raise ValueError(f"{where}: {lib} name {n!r} is not filed under the row {row!r}")
            if (lib, n) in _library_fns:
                raise ValueError(f"{where}: {lib} name {n!r} already has a library function")
        from jaxact._src.core import checked, jnp_typing  # (core is imported by then)

        own = inspect.signature(fn).parameters
        shared = {a: t for a, t in _specs[row].domain.items() if a in own}
        domains = _domains(where, _numeric_arguments(fn), {**shared, **(domain or {})})
        fn = jnp_typing(checked(fn, row, domains))
        for lib, n in pairs:
            _library_fns[(lib, n)] = fn
        _library_fn_rows[fn] = row
        return fn

    return file


def families() -> tuple[str, ...]:
    """The family modules, in the order their rows were filed."""
    return tuple(dict.fromkeys(s.family for s in _specs.values()))


class Preset(functools.partial):  # type: ignore[type-arg]
    """A library's version of a jaxact function: ``functools.partial`` with the
    library's defaults that says so and is called as the library's function is.

    Its signature is the function's with the library's defaults
    (``inspect.signature(get("keras:leaky_relu"))`` shows ``negative_slope=0.2``), and
    a positional argument overrides a preset one as in the library
    (``get("keras:leaky_relu")(x, 0.1)`` has slope 0.1).
    """

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        return self.func(*bound.args, **bound.kwargs)

    @property
    def __signature__(self) -> inspect.Signature:  # type: ignore[override]
        sig = inspect.signature(self.func)
        return sig.replace(
            parameters=[
                p.replace(default=self.keywords[p.name]) if p.name in self.keywords else p
                for p in sig.parameters.values()
            ]
        )


def _resolve(
    library: str, name: str, target: str, presets: Mapping[str, Any], label: str
) -> Callable[..., Any]:
    fn = _library_fns.get((library, name), FUNCTIONS[target])
    if not presets:
        return fn
    bound = Preset(fn, **presets)
    for attr in ("__module__", "__qualname__", "__doc__"):
        setattr(bound, attr, getattr(fn, attr, None))
    bound.__name__ = label  # type: ignore[attr-defined]
    return bound


class UnknownActivationError(KeyError, ValueError):
    """An unknown activation or library name.

    A ``ValueError`` (jaxact's convention for a bad argument value) and a
    ``KeyError`` (what a lookup in transformers' ``ACT2FN`` raises), so code ported
    from either catches it. The message lists the closest names.
    """

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


def relabel(error: Exception, where: str, arg: str) -> Exception:
    """``error`` from :func:`get`, reworded for a caller that took the name as ``arg``.

    The same exception type (``UnknownActivationError`` stays one, so callers catching
    ``KeyError`` still do) with one prefix: ``"<where>: argument '<arg>': ..."``
    instead of ``"<where>: argument '<arg>': jaxact.get: ..."``.
    """
    message = str(error)
    for prefix in ("jaxact.get: argument 'name' ", "jaxact.get: "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return type(error)(f"{where}: argument {arg!r}: {message}")


def _candidates(name: str) -> dict[str, Entry]:
    """library -> the entry it files ``name`` under (exact spelling), for every library
    that uses ``name``, in the order of :data:`LIBRARIES`."""
    return {lib: _library_names[lib][name] for lib in LIBRARIES if name in _library_names[lib]}


def _meaning(library: str, name: str) -> tuple[str, dict[str, Any], Callable[..., Any] | None]:
    """What ``get(name, library)`` computes: (the row or dispatcher, the preset keyword
    arguments, the library function that replaces the row's, if any)."""
    target, presets = _library_names[library][name]
    return target, dict(presets), _library_fns.get((library, name))


def describe_name(library: str, name: str) -> str:
    """What ``get(name, library)`` returns, in words (as ``jaxact list --library`` prints
    it): ``jaxact.leaky_relu(negative_slope=0.01) as leaky_relu_torch: leaky_relu with
    torch's f'(0) = a.``"""
    target, presets, own = _meaning(library, name)
    extra = ", ".join(f"{k}={v!r}" for k, v in presets.items())
    text = f"jaxact.{target}" + (f"({extra})" if extra else "")
    if own is not None:  # the library's kink convention or argument names
        summary = (own.__doc__ or "").strip().splitlines()[0].split(": ", 1)[-1]
        text += f" as {own.__name__}: {summary.replace('``', '').replace(':func:', '')}"
    return text


def _ambiguous(
    where: str, arg: str, name: str, found: Mapping[str, Entry], call: bool = True
) -> ValueError:
    """The error for a foreign name the libraries that use it mean different functions
    by: one line per library, what picks it and what that returns. ``call``: show the
    choice as a call of ``where`` (``jaxact.get(name, library=...)``, ``where("lib:name")``),
    else as the argument's value (``arg='lib:name'``)."""
    libs = list(found)
    said = ", ".join(libs[:-1]) + f" and {libs[-1]}"
    lines = [
        f"{where}: argument '{arg}' {name!r} is not a jaxact name, and {said} mean "
        "different functions by it; name the library:"
    ]
    for lib in libs:
        choice = f"{lib}:{name}"
        if not call:
            choice = f"{arg}={choice!r}"
        elif where == "jaxact.get":
            choice = f"jaxact.get({name!r}, library={lib!r})"
        else:
            choice = f"{where}({choice!r})"
        lines.append(f"  {choice} -> {describe_name(lib, name)}")
    return ValueError("\n".join(lines))


# What each library's own lookup gives for "no activation": Keras' ``get(None)`` is
# ``linear``; timm's ``get_act_fn(None)`` and ``get_act_fn("")`` are None.
_NO_ACTIVATION: dict[str, dict[Any, str | None]] = {
    "keras": {None: "linear"},
    "timm": {None: None, "": None},
}


@overload
def get(name: None, library: str | None = None) -> Callable[..., Any] | None: ...


@overload
def get(name: str | Callable[..., Any], library: str | None = None) -> Callable[..., Any]: ...


def get(name: Any, library: str | None = None) -> Callable[..., Any] | None:
    """Returns the activation called ``name``, with that library's math and defaults.

    ``name`` is one of jaxact's names (``jaxact.list_names()``) or a name another
    library uses (``jaxact.list_names("torch")``), spelled exactly: ``"gelu"`` is
    jaxact's (jax.nn's ``gelu``, the tanh form by default) and ``"GELU"`` torch's
    class name (the exact erf form). ``library`` (or a ``"library:name"`` prefix)
    picks whose convention applies where the libraries differ: ``get("gelu",
    "torch")`` and ``get("transformers:gelu")`` are the erf form,
    ``get("keras:leaky_relu")`` has slope 0.2, ``get("torch:leaky_relu")`` has
    torch's ``f'(0)`` (the slope) and ``get("keras:hard_shrink")`` Keras' argument
    name ``threshold``. Without a library, jaxact's names come first; another
    library's name resolves when every library that uses it means the same function
    with the same presets by it (``"SiLU"``, ``"gelu_pytorch_tanh"``), and raises
    listing the choices where they differ (``"LeakyReLU"``: slope 0.01 in torch, 0.3
    in Keras). Callables pass through unchanged, as in timm and Keras.

    "No activation" is what the library's own lookup makes of it:
    ``get(None, "keras")`` is Keras' ``linear`` (the identity), ``get(None, "timm")``
    and ``get("", "timm")`` are None (timm's ``get_act_fn``); elsewhere ``None`` is a
    ``TypeError`` and ``""`` an unknown name.

    Raises:
      UnknownActivationError: unknown name or library (the message suggests close
        names); both a ``ValueError`` and a ``KeyError`` (as transformers' ``ACT2FN``).
      ValueError: a name of several libraries that mean different functions by it,
        given without ``library`` (the message lists the ``get(name, library=...)``
        calls and what each returns).
      TypeError: ``name`` is neither a string nor a callable.
    """
    if callable(name):
        return name
    if library is None and isinstance(name, str) and ":" in name:
        library, name = name.split(":", 1)
    if library is not None and library not in LIBRARY_NAMES:
        raise UnknownActivationError(
            f"jaxact.get: unknown library {library!r}; choose one of {', '.join(LIBRARIES)}"
        )
    empty = _NO_ACTIVATION.get(library or "", {})
    if (name is None or name == "") and name in empty:
        target = empty[name]
        return None if target is None else get(target, library)
    if not isinstance(name, str):
        raise TypeError(f"jaxact.get: argument 'name' must be a string, got {type(name).__name__}")
    if library is not None:
        if name not in LIBRARY_NAMES[library]:
            raise UnknownActivationError(
                f"jaxact.get: unknown {library} activation {name!r}{_hint(name, library)}"
            )
        return _resolve(library, name, *LIBRARY_NAMES[library][name], name)
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    found = _candidates(name)
    if not found:
        raise UnknownActivationError(f"jaxact.get: unknown activation {name!r}{_hint(name)}")
    first = next(iter(found))
    if any(_meaning(lib, name) != _meaning(first, name) for lib in found):
        raise _ambiguous("jaxact.get", "name", name, found)
    return _resolve(first, name, *found[first], name)


def list_names(library: str | None = None) -> list[str]:
    """jaxact's activation names, or the names a given library uses."""
    if library is None:
        return list(SPECS)
    if library not in LIBRARY_NAMES:
        raise ValueError(
            f"jaxact.list_names: unknown library {library!r}; choose one of {', '.join(LIBRARIES)}"
        )
    return list(LIBRARY_NAMES[library])


def info(name: str | Callable[..., Any]) -> Spec:
    """The metadata row of an activation.

    ``name`` is anything :func:`spec_of` resolves: a jaxact name or alias, any
    library's name (``"torch:GELU"``, ``"keras:leaky_relu"``; spelled exactly; a name
    several libraries use is the row they all compute, ``"LeakyReLU"`` is
    ``leaky_relu`` whatever the slope), a function (jaxact's,
    jax.nn's, flax's) or a ``functools.partial`` of one (the row it computes:
    ``partial(jax.nn.gelu, approximate=False)`` is ``gelu_erf``). A dispatcher
    (``"gelu"``, ``jax.nn.gelu``) means the row of its defaults (``gelu_tanh``).

    Raises:
      ValueError: an unknown name, or a function that is no jaxact activation.
      TypeError: ``name`` is neither a string nor a function.
    """
    return _require_row("jaxact.info", "name", name)


def _close_names(name: str, library: str | None = None) -> list[str]:
    """Up to five known names close to ``name`` (jaxact's and every library's, or
    ``library``'s; a ``"library:name"`` gets that library's, prefixed), those that
    differ from it in case only first."""
    prefix = ""
    if library is None and ":" in name:
        lib, bare = name.split(":", 1)
        if lib in _library_names:
            library, name, prefix = lib, bare, f"{lib}:"
    if library is not None:
        known = sorted(_library_names[library])
    else:
        known = sorted({*_functions, *(n for t in _library_names.values() for n in t)})
    spellings: dict[str, list[str]] = {}
    for k in known:
        spellings.setdefault(k.lower(), []).append(k)
    same = spellings.get(name.lower(), [])
    close = difflib.get_close_matches(name, known, n=5) or [
        k
        for low in difflib.get_close_matches(name.lower(), list(spellings), n=5, cutoff=0.5)
        for k in spellings[low]
    ]
    return [prefix + k for k in dict.fromkeys([*same, *close])][:5]


def _hint(name: str, library: str | None = None) -> str:
    """The end of an unknown-name message: the close names, or where the names are."""
    close = _close_names(name, library)
    bare = name.split(":", 1)[-1].lower()
    if any(c.split(":", 1)[-1].lower() == bare for c in close):
        return f"; names are case-sensitive; closest names: {', '.join(close)}"
    if close:
        return f"; closest names: {', '.join(close)}"
    if library is None and ":" in name and name.split(":", 1)[0] in _library_names:
        library = name.split(":", 1)[0]
    if library is None:
        return "; no known name is close (see jaxact.list_names() or `jaxact list`)"
    return (
        f"; no known {library} name is close "
        f"(see jaxact.list_names({library!r}) or `jaxact list --library {library}`)"
    )


def _unknown_name(where: str, arg: str, name: str) -> ValueError:
    """The error for a string that names no activation (with close names), or a foreign
    name the libraries that use it mean different rows by (with the choices)."""
    found = _candidates(name)
    if len({_row_of_entry(entry) for entry in found.values()}) > 1:
        return _ambiguous(where, arg, name, found)
    return ValueError(
        f"{where}: argument '{arg}' is not a known activation name: {name!r}{_hint(name)}"
    )


def _row_of_entry(entry: Entry) -> str:
    """The row a library name computes with its defaults (a dispatcher's default row)."""
    return _dispatch_default.get(entry[0], entry[0])


def _require_row(where: str, arg: str, activation: Any) -> Spec:
    """:func:`spec_of`, with errors naming ``where`` and ``arg`` when there is no row."""
    if isinstance(activation, str):
        found = spec_of(activation)
        if found is None:
            raise _unknown_name(where, arg, activation)
        return found
    if not callable(activation) or isinstance(activation, type):
        raise TypeError(
            f"{where}: argument '{arg}' must be an activation name or function, "
            f"got {type(activation).__name__}"
        )
    found = spec_of(activation)
    if found is None:
        raise ValueError(
            f"{where}: argument '{arg}' {activation!r} is not a jaxact activation "
            "(no registry row computes it)"
        )
    return found


def _unwrap(activation: Any) -> tuple[Any, dict[str, Any]]:
    """The function under the ``functools.partial`` layers of ``activation``, and the
    keyword arguments they fix (an outer partial's keywords win)."""
    keywords: dict[str, Any] = {}
    fn = activation
    while isinstance(fn, functools.partial):
        keywords = {**fn.keywords, **keywords}
        fn = fn.func
    return fn, keywords


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays of several elements, objects without equality
        return False


def _by_keywords(fn: Any, keywords: Mapping[str, Any]) -> Spec | None:
    """The row whose jax.nn counterpart is ``fn`` with some of ``keywords`` fixed
    (``gelu_erf``'s is ``partial(jax.nn.gelu, approximate=False)``), or None."""
    if not keywords:
        return None
    for spec in _specs.values():
        counterpart = spec.jax_nn
        if not isinstance(counterpart, functools.partial) or counterpart.func is not fn:
            continue
        fixed = counterpart.keywords
        if fixed and all(k in keywords and _same(keywords[k], v) for k, v in fixed.items()):
            return spec
    return None


def _resolve_row(activation: Any) -> tuple[Spec, str | None] | None:
    """(the row ``activation`` computes, the dispatcher's name when the choice is left to
    the call), or None when it has no row.

    A dispatcher used as is (``jax.nn.gelu``, ``jaxact.gelu``, ``"gelu"``) gives the
    row of its defaults and its own name; a partial that fixes the dispatching
    argument (``partial(jax.nn.gelu, approximate=False)``) gives the row it computes
    and no dispatcher.
    """
    if isinstance(activation, str):
        try:
            activation = get(activation)
        except ValueError:
            # A foreign name the libraries mean different functions by, that are one
            # row (torch's and Keras' "LeakyReLU"), is that row.
            rows = {_row_of_entry(e) for e in _candidates(activation).values()}
            return (_specs[rows.pop()], None) if len(rows) == 1 else None
    fn, keywords = _unwrap(activation)
    fn = getattr(fn, "func", fn)
    for spec in _specs.values():
        if spec.fn is fn:
            return spec, None
    for library_fn, row in _library_fn_rows.items():
        if library_fn is fn:
            return _specs[row], None
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return None
    if _functions.get(name) is fn and name in _dispatch_default:
        # jaxact's dispatcher takes jax.nn's arguments: the same keywords choose the row.
        counterpart = getattr(jax.nn, name, None)
        chosen = _by_keywords(counterpart, keywords) if counterpart is not None else None
        if chosen is not None:
            return chosen, None
        return _specs[_dispatch_default[name]], name
    module = getattr(fn, "__module__", "") or ""
    if module.startswith(("jax", "flax")) and (
        name in _library_names["jax"] or getattr(jax.nn, name, None) is fn
    ):
        chosen = _by_keywords(fn, keywords)
        if chosen is not None:
            return chosen, None
        for spec in _specs.values():
            if spec.jax_nn is fn:
                return spec, None
        if name in _library_names["jax"]:
            return _resolve_row(functools.partial(get(name, "jax"), **keywords))
    return None


def spec_of(activation: Any) -> Spec | None:
    """The row of an activation, or None when it has none.

    ``activation`` is a name (jaxact's or any library's, ``"torch:GELU"``) or a
    function: jaxact's, a library preset (``functools.partial`` of one), or
    jax.nn's and flax's own (``jax.nn.relu`` is the row ``relu``). A dispatcher
    (``gelu``, jaxact's or jax.nn's) means the row of its defaults (``gelu_tanh``).

    A ``functools.partial`` is the row it computes: its keywords are looked at,
    so ``partial(jax.nn.gelu, approximate=False)`` (or of ``flax.linen.gelu`` or
    ``jaxact.gelu``) is ``gelu_erf`` and ``approximate=True`` ``gelu_tanh``;
    keywords that only set a row's parameters keep the row
    (``partial(jax.nn.leaky_relu, negative_slope=0.2)`` is ``leaky_relu``).
    """
    found = _resolve_row(activation)
    return None if found is None else found[0]


def libraries_of(name: str) -> list[str]:
    """The libraries that offer the activation ``name`` under some name."""
    return list(info(name).libraries)


def gain(name: str | Callable[..., Any]) -> float | None:
    """Recommended init gain: torch's ``calculate_gain`` value where torch has one,
    else ``1/sqrt(E[f(z)^2])`` for z ~ N(0, 1) (the factor that keeps the second
    moment of the activations at 1), by 80-point Gauss-Hermite quadrature.
    ``None`` for vector-valued and random activations.

    ``name`` is anything :func:`info` takes (names of any library, functions,
    partials; the dispatcher ``"gelu"`` means its default, ``gelu_tanh``). The gain
    is the row's, with the row's default parameters (a preset's or a partial's
    parameter values are not taken into account); it is computed once per row.

    Raises:
      ValueError: an unknown name, or a function that is no jaxact activation.
      TypeError: ``name`` is neither a string nor a function.
    """
    return _row_gain(_require_row("jaxact.gain", "name", name).name)


@functools.cache
def _row_gain(row: str) -> float | None:
    """:func:`gain` of the row named ``row`` (cached per row)."""
    spec = _specs[row]
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
      activation: anything :func:`info` takes: a name in the name table (any
        library's), a function (jaxact's, jax.nn's, flax's) or a partial of one.
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
    spec = _require_row("jaxact.init_for", "activation", activation)
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"jaxact.init_for: argument 'mode' {mode!r} is not a variance mode")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(
            f"jaxact.init_for: argument 'distribution' {distribution!r} is not one of "
            "'truncated_normal', 'normal', 'uniform'"
        )
    g = 1.0 if spec.self_normalizing else _row_gain(spec.name)
    scale = 1.0 if g is None else g * g
    kwargs: dict[str, Any] = {"in_axis": in_axis, "out_axis": out_axis}
    if dtype is not None:
        kwargs["dtype"] = dtype
    return jax.nn.initializers.variance_scaling(scale, mode, distribution, **kwargs)
