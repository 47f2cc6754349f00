"""Activation sites: find, replace and instrument activations in any JAX function.

A function transformation in the spirit of ``jax.grad``: the function is traced
to a jaxpr (``jax.make_jaxpr``), the activations in it are recognised by *what
they compute*, and the jaxpr is evaluated again with the chosen sites computing
something else. It reaches inline calls (``x = nn.relu(x)`` in ``@nn.compact``,
``nnx.gelu(x)`` in a method), calls inside ``jit``, ``lax.scan`` / ``nn.scan``,
``remat`` / ``checkpoint``, ``cond``, ``while_loop`` and ``custom_jvp`` /
``custom_vjp`` bodies, and the result composes with ``jit``, ``grad`` and ``vmap``.

How a site is recognised. Every known activation (jax.nn's and flax's, a few
inline ``jnp`` / ``lax`` forms, and each of jaxact's rows) is traced once per
input shape and dtype into a small *template* jaxpr; a site is a place where the
template's equations occur in the traced function with the same primitives,
parameters and constants, wired the same way (``a * b`` and ``b * a`` both
count). A hyperparameter that jax.nn passes as an argument (``leaky_relu``'s
slope, ``elu``'s alpha) is read from the call; ``softmax``'s axis from the
reduction. Because it compares computations, ``jax.nn.gelu`` (the tanh form)
is the site ``gelu_tanh`` and ``partial(jax.nn.gelu, approximate=False)`` the
site ``gelu_erf``, however they were spelled.

The public functions are :func:`sites` and :func:`substitute` (exported as
``jaxact.sites`` / ``jaxact.substitute``) and, on the same machinery,
:func:`jaxact.monitor.health`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import jax
import jax.extend.core as jcore
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax._src import source_info_util as _siu

from jaxact._src import precision, registry
from jaxact._src.text import format_rows

Array = jax.Array

_JAXACT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ----------------------------------------------------------------------------
# Templates: the known activations, traced per shape and dtype.


@dataclasses.dataclass(frozen=True)
class Template:
    """One known way of computing an activation.

    Attributes:
      row: the registry row it computes ("gelu_tanh", "softmax", ...).
      source: how it is spelled ("jax.nn.gelu", "x * sigmoid(x)", "jaxact.mish", ...).
      fn: ``fn(x, *params, **static)`` computes it.
      params: names of the hyperparameters passed as arguments (traced, read
        from the call).
      defaults: their values when the template is traced.
      axis: whether it acts along an axis (a template per axis is traced).
      channel: the traced hyperparameters are parameters of a layer rather than
        Python numbers passed through a jit boundary: float32 scalars ("scalar",
        a learnable ``Swish`` beta) or one value per entry of the input's last
        axis (a learnable ``PReLU``), shaped ``(C,)`` ("flat") or ``(1, ..., 1, C)``
        ("broadcast", as the layers pass them).
      shapes: fixed shapes of array hyperparameters (``rational``'s coefficients).
      literal: traced as called with its defaults (``fn(x)``): a scalar constant
        of the trace equal to a default is that hyperparameter's slot, and a call
        with a Python number there reads it from that slot. Otherwise the
        hyperparameters are traced arguments (a call passing them through a jit
        boundary or computing them).
    """

    row: str
    source: str
    fn: Callable[..., Any]
    params: tuple[str, ...] = ()
    defaults: tuple[float, ...] = ()
    axis: bool = False
    literal: bool = False
    channel: str = ""
    shapes: tuple[tuple[int, ...], ...] | None = None

    @property
    def traced_params(self) -> tuple[str, ...]:
        """The hyperparameters passed to the trace as arguments."""
        return () if self.literal else self.params

    def call(self, x: Any, params: Mapping[str, Any]) -> Any:
        """Evaluates the activation at ``x`` with the site's parameters."""
        kw = {k: params[k] for k in self.params if k in params}
        if self.axis:
            return self.fn(x, axis=params["axis"], **kw)
        return self.fn(x, **kw)


def _jax_nn_templates() -> list[Template]:
    """jax.nn's version of every row that has one (``Spec.jax_nn``), with the
    hyperparameters jax.nn's function takes, then inline spellings of the same
    functions. (A bare ``jnp.maximum(x, 0)`` is none: normalisation layers clamp
    their variance with it.)"""
    out = []
    for spec in registry.SPECS.values():
        fn = spec.jax_nn
        if fn is None or spec.name == "identity":
            continue
        base = getattr(fn, "func", fn)
        accepted = _arguments(base)
        names = tuple(p for p in spec.params if p in accepted)
        keywords = getattr(fn, "keywords", {}) or {}
        label = f"jax.nn.{base.__name__}" + (
            "(" + ", ".join(f"{k}={v!r}" for k, v in keywords.items()) + ")"
            if keywords.get("approximate") is False
            else ""
        )
        defaults = tuple(float(spec.params[n]) for n in names)
        out.append(Template(spec.name, label, fn, names, defaults, spec.kind == "vector"))
    out += [Template(row, label, fn) for row, label, fn in _INLINE]
    return out


_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))

# Common hand-written spellings (as in reference implementations of papers and
# model zoos), each traced as written: a different order of operations or other
# constants is another spelling, not recognised.
_INLINE: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("silu", "x * sigmoid(x)", lambda x: x * jax.nn.sigmoid(x)),
    ("mish", "x * tanh(softplus(x))", lambda x: x * jnp.tanh(jax.nn.softplus(x))),
    ("quick_gelu", "x * sigmoid(1.702 * x)", lambda x: x * jax.nn.sigmoid(1.702 * x)),
    (
        "gelu_erf",
        "0.5 * x * (1 + erf(x / sqrt(2)))",
        lambda x: 0.5 * x * (1.0 + lax.erf(x / np.sqrt(2.0))),
    ),
    (
        "gelu_erf",
        "x * 0.5 * (1 + erf(x / sqrt(2)))",
        lambda x: x * 0.5 * (1.0 + lax.erf(x / np.sqrt(2.0))),
    ),
    (
        "gelu_erf",
        "0.5 * x * (1 + erf(x / jnp.sqrt(2)))",
        lambda x: 0.5 * x * (1.0 + lax.erf(x / jnp.sqrt(2.0))),
    ),
    (
        "gelu_erf",
        "x * 0.5 * (1 + erf(x / jnp.sqrt(2)))",
        lambda x: x * 0.5 * (1.0 + lax.erf(x / jnp.sqrt(2.0))),
    ),
    (
        "gelu_tanh",
        "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))",
        lambda x: 0.5 * x * (1.0 + jnp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))),
    ),
    (
        "gelu_tanh",
        "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * pow(x, 3))))",
        lambda x: 0.5 * x * (1.0 + jnp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * jnp.power(x, 3)))),
    ),
)


def _jaxact_templates() -> list[Template]:
    out = []
    for spec in registry.SPECS.values():
        if spec.kind == "random" or spec.name in ("identity", "linear", "rational"):
            continue
        names = tuple(spec.params)
        defaults = tuple(float(spec.params[n]) for n in names)
        axis = spec.kind == "vector"
        if axis and "axis" not in _arguments(spec.fn):
            continue  # acts along a fixed axis with a different output shape (glu ...)
        out.append(Template(spec.name, f"jaxact.{spec.name}", spec.fn, names, defaults, axis))
    # A Padé activation unit as jaxact's Rational layer calls it: degrees (5, 4).
    out.append(
        Template(
            "rational",
            "jaxact.rational",
            registry.FUNCTIONS["rational"],
            ("numerator", "denominator"),
            shapes=((6,), (4,)),
        )
    )
    return out


def _arguments(fn: Callable[..., Any]) -> tuple[str, ...]:
    import inspect

    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return ()


@functools.cache
def templates() -> tuple[Template, ...]:
    """Every template, jax.nn's first (a site matched by several is named by the first)."""
    import jaxact  # noqa: F401  (fills the registry)

    seen: set[Any] = set()
    out = []
    for t in _jax_nn_templates() + _jaxact_templates():
        variants = [t]
        if t.params and t.shapes is None:
            variants += [
                dataclasses.replace(t, literal=True),
                dataclasses.replace(t, channel="scalar"),
                dataclasses.replace(t, channel="broadcast"),
                dataclasses.replace(t, channel="flat"),
            ]
        for v in variants:
            key = (v.row, id(v.fn), v.literal, v.channel)
            if key not in seen:
                seen.add(key)
                out.append(v)
    return tuple(out)


@dataclasses.dataclass
class _Traced:
    """A template traced at one input shape and dtype (one axis for vector ones)."""

    template: Template
    jaxpr: Any  # jcore.Jaxpr, one output
    axis: int | None
    size: int  # number of equations
    producers: dict[Any, tuple[int, int]]
    slots: dict[int, str]  # id of a constant -> the hyperparameter it holds (literal mode)


def _context_key() -> tuple[Any, ...]:
    return (precision.get_precision(), bool(jax.config.read("jax_enable_x64")))


@functools.lru_cache(maxsize=4096)
def _trace_template(
    t: Template, shape: tuple[int, ...], dtype: np.dtype, axis: int | None, ctx: tuple[Any, ...]
) -> _Traced | None:
    del ctx  # part of the cache key only: the trace depends on the tier and x64
    x = jax.ShapeDtypeStruct(shape, dtype)
    traced_params = t.traced_params
    if t.shapes is not None:
        params = [jax.ShapeDtypeStruct(p, jnp.float32) for p in t.shapes]
    elif t.channel == "scalar":  # a learnable scalar (Flax's default float32 parameter)
        params = [jax.ShapeDtypeStruct((), jnp.float32) for _ in traced_params]
    elif t.channel:
        if len(shape) < (2 if t.channel == "broadcast" else 1):
            return None
        pshape = shape[-1:] if t.channel == "flat" else (1,) * (len(shape) - 1) + shape[-1:]
        params = [jax.ShapeDtypeStruct(pshape, jnp.float32) for _ in traced_params]
    else:
        # A Python number passed through a jit boundary: weakly typed, the default float.
        weak = jnp.dtype(jnp.result_type(float))
        params = [jax.ShapeDtypeStruct((), weak, weak_type=True) for _ in traced_params]

    def f(x: Any, *ps: Any) -> Any:
        kw = dict(zip(traced_params, ps, strict=True))
        return t.fn(x, axis=axis, **kw) if t.axis else t.fn(x, **kw)

    try:
        closed = jax.make_jaxpr(f)(x, *params)
    except Exception:  # a template that cannot take this input is no candidate
        return None
    jaxpr = closed.jaxpr
    if closed.consts or len(jaxpr.outvars) != 1 or not jaxpr.eqns:
        return None
    out = jaxpr.outvars[0]
    if not isinstance(out, jcore.Var) or out in jaxpr.invars:
        return None
    if _aval(out).shape != shape or _aval(out).dtype != dtype:
        return None
    slots: dict[int, str] = {}
    if t.literal:
        for e in jaxpr.eqns:
            for a in e.invars:
                if isinstance(a, jcore.Literal) and np.shape(a.val) == ():
                    for name, default in zip(t.params, t.defaults, strict=True):
                        dt = _aval(a).dtype
                        if np.asarray(default, dt) == np.asarray(a.val, dt):
                            slots[id(a)] = name
                            break
    return _Traced(t, jaxpr, axis, len(jaxpr.eqns), _producers(jaxpr), slots)


def _aval(atom: Any) -> Any:
    """The abstract value of a variable or literal (a shaped array here)."""
    return atom.aval


def _producers(jaxpr: Any) -> dict[Any, tuple[int, int]]:
    return {v: (i, k) for i, e in enumerate(jaxpr.eqns) for k, v in enumerate(e.outvars)}


def _root_signature(eqn: Any) -> tuple[str, str]:
    """The primitive of an equation, with the name of a jit or custom_jvp call."""
    name = eqn.params.get("name", "")
    if not name and "call_jaxpr" in eqn.params:
        info = getattr(eqn.params["call_jaxpr"].jaxpr, "debug_info", None)
        name = (getattr(info, "func_src_info", "") or "").split(" ")[0]
    return eqn.primitive.name, str(name)


Signatures = dict[tuple[str, str], list[tuple[Template, int | None]]]


def _root_of(traced: _Traced) -> tuple[str, str]:
    return _root_signature(traced.jaxpr.eqns[traced.producers[traced.jaxpr.outvars[0]][0]])


@functools.cache
def _elementwise_signatures(dtype: np.dtype, ctx: tuple[Any, ...]) -> Signatures:
    """Root signature -> the elementwise templates with that root.

    Traced once per dtype at a small shape ((3, 3) for broadcast per-channel
    hyperparameters): the root of an elementwise computation does not depend on
    the shape it is traced at.
    """
    table: Signatures = {}
    for t in templates():
        if t.axis:
            continue
        traced = _trace_template(t, (3, 3) if t.channel == "broadcast" else (3,), dtype, None, ctx)
        if traced is not None:
            table.setdefault(_root_of(traced), []).append((t, None))
    return table


@functools.cache
def _signatures(dtype: np.dtype, ndim: int, ctx: tuple[Any, ...]) -> Signatures:
    """Root signature -> the (template, axis) candidates for inputs of rank ``ndim``."""
    table = {k: list(v) for k, v in _elementwise_signatures(dtype, ctx).items()}
    shape = (3,) * ndim
    for t in templates():
        for axis in range(ndim) if t.axis else ():
            traced = _trace_template(t, shape, dtype, axis, ctx)
            if traced is not None:
                table.setdefault(_root_of(traced), []).append((t, axis))
    return table


# ----------------------------------------------------------------------------
# Matching a template in a jaxpr.

_COMMUTATIVE = {"add", "mul", "max", "min", "and", "or", "eq", "ne"}
_str_cache: dict[int, tuple[Any, str]] = {}


def _text(obj: Any) -> str:
    hit = _str_cache.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    s = str(obj)
    if len(_str_cache) > 4096:
        _str_cache.clear()
    _str_cache[id(obj)] = (obj, s)
    return s


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (jcore.ClosedJaxpr, jcore.Jaxpr)):
        return isinstance(b, type(a)) and _text(a) == _text(b)
    if isinstance(a, (tuple, list)):
        return (
            isinstance(b, (tuple, list))
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    if (callable(a) and not isinstance(a, type)) or type(a).__name__ == "WrappedFun":
        return True  # rule thunks: compared through the call they belong to
    try:
        eq = a == b
        if isinstance(eq, (bool, np.bool_)):
            return bool(eq)
    except Exception:
        pass
    return str(a) == str(b)


def _same_literal(a: Any, b: Any) -> bool:
    if not isinstance(b, jcore.Literal) or _aval(a).dtype != _aval(b).dtype:
        return False
    # Compared as the dtype the literal stands for (a Python float is held in double).
    dtype = _aval(a).dtype
    x, y = np.asarray(a.val).astype(dtype), np.asarray(b.val).astype(dtype)
    return x.shape == y.shape and bool(np.all((x == y) | (np.isnan(x) & np.isnan(y))))


@dataclasses.dataclass
class _Match:
    traced: _Traced
    root: int
    x: Any
    params: dict[str, Any]  # hyperparameter -> the atom it is read from
    fixed: dict[str, float]  # hyperparameter -> its value, constant in the trace
    interior: frozenset[int]


class _Matcher:
    def __init__(self, traced: _Traced, eqns: Sequence[Any], producers: Mapping[Any, Any]):
        self.t = traced
        self.eqns = eqns
        self.producers = producers
        self.bind: dict[Any, Any] = {}
        self.emap: dict[int, int] = {}
        self.fixed: dict[str, Any] = {}  # hyperparameters read from constant slots

    def atom(self, ta: Any, a: Any) -> bool:
        if isinstance(ta, jcore.Literal):
            slot = self.t.slots.get(id(ta))
            if slot is None:
                return _same_literal(ta, a)
            if not isinstance(a, jcore.Literal) or _aval(a).dtype != _aval(ta).dtype:
                return False
            if np.shape(a.val) != ():
                return False
            if slot in self.fixed:
                return bool(np.asarray(self.fixed[slot]) == np.asarray(a.val))
            self.fixed[slot] = a.val
            return True
        tj = self.t.jaxpr
        if ta in tj.invars:
            if ta in self.bind:
                b = self.bind[ta]
                return b is a or (isinstance(a, jcore.Literal) and _same_literal(b, a))
            if tuple(a.aval.shape) != tuple(ta.aval.shape):
                return False
            if a.aval.dtype != ta.aval.dtype and ta is tj.invars[0]:
                return False
            self.bind[ta] = a
            return True
        ti, tk = self.t.producers[ta]
        te = tj.eqns[ti]
        if (
            isinstance(a, jcore.Literal)
            and te.primitive.name == "convert_element_type"
            and te.invars[0] in tj.invars[1:]
            and _aval(a).dtype == _aval(te.outvars[0]).dtype
        ):
            # A Python-number hyperparameter is converted at trace time: the call
            # holds the converted constant where the template converts its argument.
            return self.atom(te.invars[0], a)
        if not isinstance(a, jcore.Var) or a not in self.producers:
            return False
        i, k = self.producers[a]
        if tk != k:
            return False
        if ti in self.emap:
            return self.emap[ti] == i
        return self.eqn(ti, i)

    def eqn(self, ti: int, i: int) -> bool:
        te, e = self.t.jaxpr.eqns[ti], self.eqns[i]
        if te.primitive is not e.primitive or len(te.invars) != len(e.invars):
            return False
        if len(te.outvars) != len(e.outvars) or set(te.params) != set(e.params):
            return False
        if not all(_same(te.params[k], e.params[k]) for k in te.params):
            return False
        self.emap[ti] = i
        orders = [list(e.invars)]
        if te.primitive.name in _COMMUTATIVE and len(e.invars) == 2:
            orders.append(list(reversed(e.invars)))
        for order in orders:
            saved = (dict(self.bind), dict(self.emap), dict(self.fixed))
            if all(self.atom(ta, a) for ta, a in zip(te.invars, order, strict=True)):
                return True
            self.bind, self.emap, self.fixed = saved
        del self.emap[ti]
        return False


def _try_match(traced: _Traced, eqns: Sequence[Any], producers: Any, root: int) -> _Match | None:
    m = _Matcher(traced, eqns, producers)
    tj = traced.jaxpr
    out = tj.outvars[0]
    ti, tk = traced.producers[out]
    if tk != 0 or len(eqns[root].outvars) != len(tj.eqns[ti].outvars):
        return None
    if not m.eqn(ti, root):
        return None
    if len(m.emap) != len(tj.eqns):
        return None  # part of the template is not wired to its output (never happens)
    x = m.bind.get(tj.invars[0])
    if x is None:
        return None
    t = traced.template
    params: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    if t.literal:
        for name, default in zip(t.params, t.defaults, strict=True):
            fixed[name] = float(np.asarray(m.fixed.get(name, default)))
    else:
        for name, v in zip(t.params, tj.invars[1:], strict=True):
            if v not in m.bind:
                return None
            params[name] = m.bind[v]
    return _Match(traced, root, x, params, fixed, frozenset(m.emap.values()))


def _recognise(jaxpr: Any) -> dict[int, _Match]:
    """Root equation index -> the activation computed there, for one jaxpr level."""
    eqns = jaxpr.eqns
    producers = _producers(jaxpr)
    ctx = _context_key()
    found: dict[int, _Match] = {}
    consumed: set[int] = set()
    for i in range(len(eqns) - 1, -1, -1):
        if i in consumed:
            continue
        e = eqns[i]
        if len(e.outvars) != 1:
            continue
        aval = e.outvars[0].aval
        dtype = getattr(aval, "dtype", None)
        if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
            continue
        shape = tuple(aval.shape)
        candidates = _signatures(np.dtype(dtype), len(shape), ctx).get(_root_signature(e), ())
        best: _Match | None = None
        for t, axis in candidates:
            traced = _trace_template(t, shape, np.dtype(dtype), axis, ctx)
            if traced is None or (best is not None and traced.size <= best.traced.size):
                continue
            m = _try_match(traced, eqns, producers, i)
            if m is not None:
                best = m
        if best is not None:
            found[i] = best
            consumed |= best.interior
    return found


# ----------------------------------------------------------------------------
# The plan: every level of the traced function, its sites and its sub-jaxprs.

_LOOPS = {"scan", "while"}


@dataclasses.dataclass(frozen=True)
class Site:
    """One place where an activation is computed.

    Attributes:
      index: position in :func:`sites`' list (the order the function computes them).
      name: the registry row computed ("relu", "gelu_tanh", "softmax", ...).
      source: how it was recognised ("jax.nn.gelu", "x * sigmoid(x)", "jaxact.mish", ...).
      params: its hyperparameters (``negative_slope``, ``alpha``, ``axis`` ...);
        a hyperparameter computed at run time (a learnable slope) reads ``"traced"``.
      shape, dtype: of its input.
      count: how many times it runs per call (the product of the lengths of
        the scans around it); None inside a ``while_loop``.
      path: the module path from the name stack (``"ResNet/Block_0"``) where the
        framework provides one (flax linen does), else "".
      location: ``"file.py:line"`` of the call in the user's code.
      context: the transformations around it, outermost first (``("scan", "remat2")``).
      scans: the lengths of the scans around it, outermost first.
    """

    index: int
    name: str
    source: str
    params: Mapping[str, Any]
    shape: tuple[int, ...]
    dtype: str
    count: int | None
    path: str
    location: str
    context: tuple[str, ...]
    scans: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        """The path where there is one, else the location."""
        return self.path or self.location

    def __str__(self) -> str:
        return f"site {self.index}: {self.name} {_format_params(self.params)} at {self.where}"


def _format_params(params: Mapping[str, Any]) -> str:
    if not params:
        return "-"
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


class Sites(list):  # type: ignore[type-arg]
    """The list of :class:`Site` that :func:`sites` returns; prints as a table."""

    def __str__(self) -> str:
        if not self:
            return "(no activation sites)"
        head = ("#", "activation", "params", "shape", "dtype", "runs", "where", "recognised as")
        rows = [
            (
                str(s.index),
                s.name,
                _format_params(s.params),
                "x".join(map(str, s.shape)) or "scalar",
                s.dtype,
                "?" if s.count is None else str(s.count),
                s.where + (f" [{'/'.join(s.context)}]" if s.context else ""),
                s.source,
            )
            for s in self
        ]
        return "\n".join(line.rstrip() for line in format_rows(head, rows).splitlines())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(str(self))


def _sub_jaxprs(eqn: Any) -> list[tuple[str, Any]]:
    """(parameter name, jaxpr) for every jaxpr an equation carries."""
    out = []
    for k, v in eqn.params.items():
        if isinstance(v, (jcore.ClosedJaxpr, jcore.Jaxpr)):
            out.append((k, v))
        elif (
            isinstance(v, (tuple, list))
            and v
            and all(isinstance(b, (jcore.ClosedJaxpr, jcore.Jaxpr)) for b in v)
        ):
            out.extend((f"{k}[{j}]", b) for j, b in enumerate(v))
    return out


def _open(j: Any) -> Any:
    return j.jaxpr if isinstance(j, jcore.ClosedJaxpr) else j


@dataclasses.dataclass
class _Level:
    """One jaxpr of the traced function: its matches and the levels below it."""

    jaxpr: Any
    matches: dict[int, _Match]
    children: dict[int, dict[str, _Level]]
    site_ids: dict[int, int] = dataclasses.field(default_factory=dict)  # root -> site index


def _library_dirs() -> tuple[str, ...]:
    """Where jaxact's and flax's own code lives: their frames are not the user's."""
    dirs = [_JAXACT_DIR]
    flax_file = getattr(sys.modules.get("flax"), "__file__", None)
    if flax_file:
        dirs.append(os.path.dirname(os.path.abspath(flax_file)))
    return tuple(d + os.sep for d in dirs)


def _location(eqn: Any, outer: str = "?") -> str:
    """``file:line`` of the user's code that computed ``eqn`` (jaxact's and flax's
    own frames skipped: a flax layer calling an activation is located at the
    user's call of the layer); ``outer``, the enclosing call's, when the trace
    kept none (a branch function traced from a cache). Where every frame the
    trace kept is jaxact's or flax's (a plain function called by ``nnx.Sequential``),
    the innermost flax frame."""
    try:
        frames = list(_siu.user_frames(eqn.source_info.traceback))
    except Exception:
        return outer
    libraries = _library_dirs()
    where = [os.path.abspath(fr.file_name) for fr in frames]
    for fr, path in zip(frames, where, strict=True):
        if not path.startswith(libraries):
            return f"{os.path.basename(fr.file_name)}:{fr.start_line}"
    for fr, path in zip(frames, where, strict=True):
        if not path.startswith(libraries[0]):
            return f"{os.path.basename(fr.file_name)}:{fr.start_line}"
    return outer


def _param_value(atom: Any) -> Any:
    if isinstance(atom, jcore.Literal):
        v = np.asarray(atom.val)
        return float(v) if v.shape == () else v
    return "traced"


def _analyse(
    jaxpr: Any,
    found: list[Site],
    count: int | None,
    path: str,
    ctx: tuple[str, ...],
    scans: tuple[int, ...] = (),
    outer: str = "?",
) -> _Level:
    matches = _recognise(jaxpr)
    interior = set().union(*(m.interior for m in matches.values())) if matches else set()
    level = _Level(jaxpr, matches, {})
    for i, e in enumerate(jaxpr.eqns):
        here = _join(path, str(e.source_info.name_stack))
        if i in matches:
            m = matches[i]
            t = m.traced.template
            params: dict[str, Any] = {k: _param_value(a) for k, a in m.params.items()}
            params.update(m.fixed)
            if t.axis:
                params["axis"] = m.traced.axis
            level.site_ids[i] = len(found)
            found.append(
                Site(
                    index=len(found),
                    name=t.row,
                    source=t.source,
                    params=params,
                    shape=tuple(m.x.aval.shape),
                    dtype=str(m.x.aval.dtype),
                    count=count,
                    path=here,
                    location=_location(e, outer),
                    context=ctx,
                    scans=scans,
                )
            )
            continue
        if i in interior:
            continue
        subs = _sub_jaxprs(e)
        if not subs:
            continue
        prim = e.primitive.name
        inner_count, inner_scans = count, scans
        if prim == "scan":
            length = int(e.params["length"])
            inner_count = None if count is None else count * length
            inner_scans = (*scans, length)
        elif prim == "while":
            inner_count = None
        inner_ctx = ctx if prim in ("pjit", "jit", "closed_call", "core_call") else (*ctx, prim)
        loc = _location(e, outer)
        level.children[i] = {
            k: _analyse(_open(j), found, inner_count, here, inner_ctx, inner_scans, loc)
            for k, j in subs
        }
    return level


# A module path pushed by :func:`_nnx_paths` is one name-stack entry with this prefix.
_NNX = "nnx:"


def _join(path: str, name_stack: str) -> str:
    """The module path of an equation: its enclosing path and its own name stack."""
    parts = [p for p in f"{path}/{name_stack}".split("/") if p]
    marked = [i for i, p in enumerate(parts) if p.startswith(_NNX)]
    if marked:  # an nnx path is absolute: the innermost one is the whole path
        i = marked[-1]
        parts = [parts[i][len(_NNX) :].replace(".", "/"), *parts[i + 1 :]]
    return "/".join(p for p in parts if p)


# ----------------------------------------------------------------------------
# Tracing a function with arbitrary (pytree, partly static) arguments.


def _is_dynamic(leaf: Any) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic)) or hasattr(leaf, "aval")


@dataclasses.dataclass
class _Trace:
    closed: Any  # ClosedJaxpr
    in_leaves: list[Any]  # the dynamic leaves, in the jaxpr's order
    out_tree: Any
    level: _Level
    sites: Sites


def _nnx_module(fn: Any) -> Any:
    """flax.nnx when ``fn`` is an nnx Module (without importing flax otherwise)."""
    nnx = sys.modules.get("flax.nnx")
    return nnx if nnx is not None and isinstance(fn, nnx.Module) else None


@contextlib.contextmanager
def _nnx_paths(nnx: Any, model: Any) -> Iterator[None]:
    """Calls of ``model``'s submodules push their path (``layers/1``) as a name scope.

    nnx keeps no name stack of its own. For the duration of the trace, the
    ``__call__`` of every class in the model is wrapped to push the path of the
    instance being called (other instances of those classes are untouched).
    """
    modules = list(nnx.iter_modules(model))
    paths = {id(m): ".".join(str(p) for p in path) for path, m in modules if path}
    classes = {type(m) for _, m in modules}
    saved = {}
    for cls in classes:
        owner = next((c for c in cls.__mro__ if "__call__" in c.__dict__), None)
        if owner is None or owner in saved:
            continue
        original = owner.__dict__["__call__"]
        saved[owner] = original

        def wrapped(self: Any, *a: Any, __original: Any = original, **kw: Any) -> Any:
            path = paths.get(id(self))
            if path is None:
                return __original(self, *a, **kw)
            with jax.named_scope(_NNX + path):
                return __original(self, *a, **kw)

        owner.__call__ = functools.wraps(original)(wrapped)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for owner, original in saved.items():
            owner.__call__ = original  # type: ignore[method-assign]


def _trace(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], who: str
) -> _Trace:
    if not callable(fn):
        raise TypeError(f"jaxact.{who}: argument 'fn' must be callable, got {type(fn).__name__}")
    nnx = _nnx_module(fn)
    if nnx is not None:  # trace a pure function of the model's state, with its paths
        graphdef, state = nnx.split(fn)

        def of_state(state: Any, *a: Any, **kw: Any) -> Any:
            model = nnx.merge(graphdef, state)
            with _nnx_paths(nnx, model):
                return model(*a, **kw)

        return _trace(of_state, (state, *args), kwargs, who)
    leaves, tree = jax.tree.flatten((args, kwargs))
    dynamic = [i for i, leaf in enumerate(leaves) if _is_dynamic(leaf)]
    out_tree: list[Any] = []

    def flat(*dyn: Any) -> list[Any]:
        full = list(leaves)
        for i, v in zip(dynamic, dyn, strict=True):
            full[i] = v
        a, kw = jax.tree.unflatten(tree, full)
        out = fn(*a, **kw)
        out_leaves, out_def = jax.tree.flatten(out)
        out_tree.append(out_def)
        return out_leaves

    dyn = [leaves[i] for i in dynamic]
    closed = jax.make_jaxpr(flat)(*dyn)
    found: list[Site] = []
    level = _analyse(closed.jaxpr, found, 1, "", ())
    return _Trace(closed, dyn, out_tree[0], level, Sites(found))


def sites(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Sites:
    """The activation sites of ``fn(*args, **kwargs)``: the dry run before a swap.

    ``fn`` is any JAX function: ``model.apply`` (linen), a function of
    ``nnx.split`` state that calls ``nnx.merge`` (nnx), an equinox model, a plain
    function. It is traced (not run) with the given arguments; array leaves are
    traced, other leaves (flags, strings) are passed as they are.

    Returns:
      A list of :class:`Site` in the order the function computes them; printed,
      a table (activation, parameters, shape, dtype, how many times it runs,
      module path or source line, what it was recognised as).

    Example:
      >>> import jax, jax.numpy as jnp, jaxact
      >>> def mlp(x):
      ...     return jax.nn.softmax(jax.nn.gelu(x) @ jnp.ones((4, 3)))
      >>> [s.name for s in jaxact.sites(mlp, jnp.ones((2, 4)))]
      ['gelu_tanh', 'softmax']
    """
    return _trace(fn, args, kwargs, "sites").sites


# ----------------------------------------------------------------------------
# Evaluating a traced function with some sites replaced or instrumented.

# What happens at a selected site: ("replace", f) computes y = f(x, site, params);
# ("hook", h) computes y as before, then (y, extra) = h(x, y, site, params, probe),
# ``params`` the site's hyperparameters as computed in the call.
Action = tuple[str, Callable[..., Any]]


def _site_ids_below(level: _Level) -> list[int]:
    ids = list(level.site_ids.values())
    for cs in level.children.values():
        for c in cs.values():
            ids.extend(_site_ids_below(c))
    return ids


class _Evaluator:
    """Evaluates plan levels; ``probes`` and ``extras`` carry site-indexed arrays in and out."""

    def __init__(self, site_list: Sites, actions: Mapping[int, Action], who: str):
        self.sites = site_list
        self.actions = actions
        self.who = who

    def run(
        self, level: _Level, consts: Sequence[Any], args: Sequence[Any], probes: Mapping[int, Any]
    ) -> tuple[list[Any], dict[int, Any]]:
        jaxpr = level.jaxpr
        env: dict[Any, Any] = {}

        def read(a: Any) -> Any:
            return a.val if isinstance(a, jcore.Literal) else env[a]

        for v, x in zip(jaxpr.constvars, consts, strict=True):
            env[v] = x
        for v, x in zip(jaxpr.invars, args, strict=True):
            env[v] = x
        live = self._live(level)
        extras: dict[int, Any] = {}
        for i, e in enumerate(jaxpr.eqns):
            if i not in live:
                continue
            sid = level.site_ids.get(i, -1)
            action = self.actions.get(sid)
            with (
                _siu.user_context(
                    e.source_info.traceback,
                    name_stack=_siu.current_name_stack() + e.source_info.name_stack,
                ),
                e.ctx.manager,
            ):
                if action is not None and action[0] == "replace":
                    m = level.matches[i]
                    y = action[1](read(m.x), self.sites[sid], self._params(m, read))
                    outs = [self._conform(y, e.outvars[0].aval, self.sites[sid])]
                elif i in level.children and _selected_below_any(level.children[i], self.actions):
                    outs, more = self._rebuild(
                        e, level.children[i], [read(a) for a in e.invars], probes
                    )
                    extras.update(more)
                else:
                    params = e.primitive.get_bind_params(e.params)
                    ans = e.primitive.bind(*[read(a) for a in e.invars], **params)
                    outs = list(ans) if e.primitive.multiple_results else [ans]
                if action is not None and action[0] == "hook":
                    m = level.matches[i]
                    y, extra = action[1](
                        read(m.x), outs[0], self.sites[sid], self._params(m, read), probes.get(sid)
                    )
                    outs = [y]
                    extras[sid] = extra
            for v, x in zip(e.outvars, outs, strict=True):
                env[v] = x
        return [read(v) for v in jaxpr.outvars], extras

    @staticmethod
    def _params(m: _Match, read: Callable[[Any], Any]) -> dict[str, Any]:
        """The site's hyperparameters as computed in this call (a traced slope included)."""
        out = {k: read(a) for k, a in m.params.items()}
        out.update(m.fixed)
        if m.traced.template.axis:
            out["axis"] = m.traced.axis
        return out

    def _live(self, level: _Level) -> set[int]:
        """Equations whose results are needed once the replaced sites are cut out."""
        jaxpr = level.jaxpr
        needed = {v for v in jaxpr.outvars if isinstance(v, jcore.Var)}
        live: set[int] = set()
        for i in range(len(jaxpr.eqns) - 1, -1, -1):
            e = jaxpr.eqns[i]
            action = self.actions.get(level.site_ids.get(i, -1))
            # A hooked site's statistics are wanted even where the output does not use it.
            hooked = (action is not None and action[0] == "hook") or (
                i in level.children
                and any(
                    self.actions.get(sid, ("",))[0] == "hook"
                    for c in level.children[i].values()
                    for sid in _site_ids_below(c)
                )
            )
            if not (e.effects or hooked or any(v in needed for v in e.outvars)):
                continue
            live.add(i)
            if action is not None and action[0] == "replace":
                m = level.matches[i]
                inputs = [m.x, *m.params.values()]
            else:
                inputs = list(e.invars)
            needed.update(a for a in inputs if isinstance(a, jcore.Var))
        return live

    def _conform(self, y: Any, aval: Any, site: Site) -> Any:
        y = jnp.asarray(y)
        if tuple(y.shape) != tuple(aval.shape):
            raise ValueError(
                f"jaxact.{self.who}: the replacement at {site} returns shape {tuple(y.shape)}; "
                f"the site's output has shape {tuple(aval.shape)}"
            )
        return y.astype(aval.dtype)

    def _rebuild(
        self, e: Any, children: dict[str, _Level], invals: list[Any], probes: Mapping[int, Any]
    ) -> tuple[list[Any], dict[int, Any]]:
        prim = e.primitive.name
        p = e.params
        if prim in (
            "pjit",
            "jit",
            "closed_call",
            "core_call",
            "custom_jvp_call",
            "custom_vjp_call",
        ):
            # Inlined: a jit boundary inside a traced function changes nothing, and a
            # custom rule describes the activation that is being replaced.
            key, closed = next((k, v) for k, v in p.items() if k in ("jaxpr", "call_jaxpr"))
            consts = closed.consts if isinstance(closed, jcore.ClosedJaxpr) else []
            return self.run(children[key], consts, invals, probes)
        if prim in ("remat2", "checkpoint"):
            child = children["jaxpr"]
            mine = {k: probes[k] for k in _site_ids_below(child) if k in probes}

            def body(args: Any, mine: Any) -> Any:
                return self.run(child, [], args, mine)

            outs, extras = jax.checkpoint(body, prevent_cse=p["prevent_cse"], policy=p["policy"])(
                invals, mine
            )
            return list(outs), extras
        if prim == "scan":
            return self._scan(e, children["jaxpr"], invals, probes)
        if prim == "cond":
            return self._cond(e, children, invals, probes)
        if prim == "while":
            return self._while(e, children, invals)
        raise NotImplementedError(
            f"jaxact.{self.who}: a selected site is inside a '{prim}', which this "
            "transformation does not rebuild; narrow the selection with 'where'"
        )

    def _scan(
        self, e: Any, child: _Level, invals: list[Any], probes: Mapping[int, Any]
    ) -> tuple[list[Any], dict[int, Any]]:
        p = e.params
        nc, nk = p["num_consts"], p["num_carry"]
        consts, init, xs = invals[:nc], invals[nc : nc + nk], invals[nc + nk :]
        closed = p["jaxpr"]
        mine = {k: probes[k] for k in _site_ids_below(child) if k in probes}

        def body(carry: Any, x: Any) -> Any:
            xs_i, probes_i = x
            outs, extras = self.run(child, closed.consts, [*consts, *carry, *xs_i], probes_i)
            return outs[:nk], (outs[nk:], extras)

        carry, (ys, extras) = lax.scan(
            body,
            list(init),
            (list(xs), mine),
            length=p["length"],
            reverse=p["reverse"],
            unroll=p["unroll"],
        )
        return [*carry, *ys], extras

    def _cond(
        self, e: Any, children: dict[str, _Level], invals: list[Any], probes: Mapping[int, Any]
    ) -> tuple[list[Any], dict[int, Any]]:
        branches = e.params["branches"]
        index, ops = invals[0], invals[1:]
        keys = [f"branches[{j}]" for j in range(len(branches))]
        mine = {k: probes[k] for c in children.values() for k in _site_ids_below(c) if k in probes}
        shapes: dict[int, Any] = {}
        for j, k in enumerate(keys):
            shapes.update(
                jax.eval_shape(
                    lambda o, pr, j=j, k=k: self.run(children[k], branches[j].consts, o, pr)[1],
                    ops,
                    mine,
                )
            )

        def branch(j: int) -> Callable[..., Any]:
            def f(o: Any, pr: Any) -> Any:
                outs, extras = self.run(children[keys[j]], branches[j].consts, o, pr)
                full = {
                    sid: extras.get(sid, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shp))
                    for sid, shp in shapes.items()
                }
                return outs, full

            return f

        outs, extras = lax.switch(index, [branch(j) for j in range(len(branches))], ops, mine)
        return list(outs), extras

    def _while(
        self, e: Any, children: dict[str, _Level], invals: list[Any]
    ) -> tuple[list[Any], dict[int, Any]]:
        p = e.params
        cn, bn = p["cond_nconsts"], p["body_nconsts"]
        cconsts, bconsts, init = invals[:cn], invals[cn : cn + bn], invals[cn + bn :]
        cj, bj = p["cond_jaxpr"], p["body_jaxpr"]
        for key in ("cond_jaxpr", "body_jaxpr"):
            if any(self.actions.get(s, ("",))[0] == "hook" for s in _site_ids_below(children[key])):
                raise NotImplementedError(
                    f"jaxact.{self.who}: sites inside a while_loop cannot be instrumented "
                    "(their statistics would need a carry); narrow the selection with 'where'"
                )

        def cond(c: Any) -> Any:
            return self.run(children["cond_jaxpr"], cj.consts, [*cconsts, *c], {})[0][0]

        def body(c: Any) -> Any:
            return self.run(children["body_jaxpr"], bj.consts, [*bconsts, *c], {})[0]

        return list(lax.while_loop(cond, body, list(init))), {}


def _selected_below_any(children: Mapping[str, _Level], actions: Mapping[int, Action]) -> bool:
    return any(sid in actions for c in children.values() for sid in _site_ids_below(c))


def evaluate(
    trace: _Trace, actions: Mapping[int, Action], who: str, probes: Mapping[int, Any] | None = None
) -> tuple[Any, dict[int, Any]]:
    """Runs a traced function with ``actions`` at the selected sites: (output, extras)."""
    ev = _Evaluator(trace.sites, actions, who)
    outs, extras = ev.run(trace.level, trace.closed.consts, trace.in_leaves, probes or {})
    return jax.tree.unflatten(trace.out_tree, outs), extras


def trace(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], who: str
) -> _Trace:
    """Traces ``fn(*args, **kwargs)`` and finds its sites (for :mod:`jaxact.monitor`)."""
    return _trace(fn, args, kwargs, who)


def templates_of(trace: _Trace) -> dict[int, Template]:
    """Site index -> the template it was recognised by."""
    out: dict[int, Template] = {}

    def walk(level: _Level) -> None:
        for i, sid in level.site_ids.items():
            out[sid] = level.matches[i].traced.template
        for cs in level.children.values():
            for c in cs.values():
                walk(c)

    walk(trace.level)
    return out


# ----------------------------------------------------------------------------
# substitute.


@dataclasses.dataclass(frozen=True)
class _Rule:
    key: Any  # the mapping key, for messages
    row: str | None  # the row it matches; None: every site ("jaxact")
    fn: Callable[..., Any] | None  # None: each site's own jaxact version
    kwargs: Mapping[str, Any]
    row_out: str | None  # the row the replacement computes, when known
    vector: bool  # the replacement acts along an axis


def _row_of_key(key: Any) -> str:
    """The registry row a mapping key names (by what it computes)."""
    if isinstance(key, str):
        if key in registry.SPECS:
            return key
        spec = registry.spec_of(key)
        if spec is None:
            try:
                registry.get(key)
            except ValueError as e:
                raise registry.relabel(e, "jaxact.substitute", "mapping") from None
            raise ValueError(
                f"jaxact.substitute: argument 'mapping': {key!r} names no activation row"
            )
        return spec.name
    if callable(key):
        found = _computes(key)
        if found is not None:
            return found
        spec = registry.spec_of(key)
        if spec is not None:
            return spec.name
        raise ValueError(
            f"jaxact.substitute: argument 'mapping': the key {key!r} computes no activation "
            "that jaxact recognises"
        )
    raise TypeError(
        "jaxact.substitute: argument 'mapping': keys must be activation names or "
        f"functions, got {type(key).__name__}"
    )


def _computes(fn: Callable[..., Any]) -> str | None:
    """The row a callable computes, by tracing it on a probe (None if not one site)."""
    for shape in ((8,), (2, 8)):
        try:
            found = _trace(fn, (jnp.zeros(shape, jnp.float32),), {}, "substitute").sites
        except Exception:
            continue
        if len(found) == 1 and found[0].shape == shape:
            return found[0].name
    return None


def _replacement(value: Any) -> tuple[Callable[..., Any], dict[str, Any], str | None]:
    """(function, keywords, the row whose hyperparameters it may carry over)."""
    kwargs: dict[str, Any] = {}
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Mapping):
        value, kwargs = value[0], dict(value[1])
    if isinstance(value, str):
        try:
            fn = registry.get(value)
        except ValueError as e:
            raise registry.relabel(e, "jaxact.substitute", "mapping") from None
        # A library's name means that library's math with its own defaults; a
        # jaxact name of the site's own row keeps the site's hyperparameters.
        spec = registry.SPECS.get(value) or (
            registry.SPECS.get(registry.DISPATCHERS.get(value, "")) if ":" not in value else None
        )
        return fn, kwargs, spec.name if spec is not None else None
    if callable(value):
        spec = registry.spec_of(value)
        same = spec is not None and getattr(value, "func", value) is spec.fn
        return value, kwargs, spec.name if same and spec is not None else None
    raise TypeError(
        "jaxact.substitute: argument 'mapping': a replacement must be a name, a function or "
        f"(name or function, {{keyword: value}}), got {value!r}"
    )


def _rules(mapping: Any) -> list[_Rule]:
    if isinstance(mapping, str):
        if mapping != "jaxact":
            raise ValueError(
                "jaxact.substitute: argument 'mapping' must be a dict or the string 'jaxact', "
                f"got {mapping!r}"
            )
        return [_Rule("jaxact", None, None, {}, None, False)]
    if not isinstance(mapping, Mapping) or not mapping:
        raise TypeError(
            "jaxact.substitute: argument 'mapping' must be a non-empty dict {old: new} or "
            f"'jaxact', got {mapping!r}"
        )
    rules = []
    for key, value in mapping.items():
        row = _row_of_key(key)
        fn, kwargs, row_out = _replacement(value)
        vector = row_out is not None and registry.SPECS[row_out].kind == "vector"
        rules.append(_Rule(key, row, fn, kwargs, row_out, vector))
    return rules


def _site_filter(where: Any, who: str = "substitute") -> Callable[[Site], bool]:
    if where is None:
        return lambda s: True
    if isinstance(where, str):
        return lambda s: (
            fnmatch.fnmatchcase(s.path, where) or fnmatch.fnmatchcase(s.location, where)
        )
    if isinstance(where, (int, np.integer)) and not isinstance(where, bool):
        return lambda s: s.index == int(where)
    if isinstance(where, (list, tuple, set, frozenset, range)):
        wanted = set()
        for w in where:
            if isinstance(w, bool) or not isinstance(w, (int, np.integer)):
                raise TypeError(
                    f"jaxact.{who}: argument 'where' as a collection must hold site "
                    f"indices (ints), got {w!r}"
                )
            wanted.add(int(w))
        return lambda s: s.index in wanted
    if callable(where):
        return lambda s: bool(where(s))
    raise TypeError(
        f"jaxact.{who}: argument 'where' must be a path pattern (str), a site index, "
        f"a list of indices or a predicate Site -> bool, got {where!r}"
    )


def _call_rule(rule: _Rule) -> Callable[..., Any]:
    """The computation that replaces a site, given its input and its hyperparameters."""

    def compute(x: Any, site: Site, params: Mapping[str, Any]) -> Any:
        if rule.fn is None:  # "jaxact": the site's own function, jaxact's version
            return registry.FUNCTIONS[site.name](x, **params)
        kwargs = dict(rule.kwargs)
        if rule.row_out == site.name and not kwargs:
            kwargs = dict(params)
        elif rule.vector and "axis" in params and "axis" not in kwargs:
            kwargs["axis"] = params["axis"]
        return rule.fn(x, **kwargs)

    return compute


def substitute(fn: Callable[..., Any], mapping: Any, *, where: Any = None) -> Callable[..., Any]:
    """``fn`` with the activations it computes replaced: a function transformation.

    Args:
      fn: any JAX function (see :func:`sites`).
      mapping: ``{old: new}``. ``old`` is an activation name (jaxact's or a
        library's: ``"relu"``, ``"gelu_erf"``, ``"torch:GELU"``) or a function,
        matched by what it computes: ``"gelu"`` and ``jax.nn.gelu`` are the tanh
        form (``gelu_tanh``), ``partial(jax.nn.gelu, approximate=False)`` and
        ``"torch:GELU"`` the erf form. ``new`` is a name (a library name gives
        that library's math: ``"keras:leaky_relu"`` has slope 0.2), a function
        ``f(x)``, or ``(name or function, {keyword: value})``. A replacement of
        the same row keeps the site's hyperparameters unless new ones are given;
        a vector replacement (softmax ...) of a vector site keeps its axis.
        Or the string ``"jaxact"``: every recognised site computes jaxact's own
        version of the same function with the same hyperparameters.
      where: which matching sites to replace: a glob pattern matched against
        the site's path and ``file:line`` location (``"*Block_1*"``), a site
        index or a list of them (the indices of :func:`sites`), or a predicate
        ``Site -> bool``.

    Returns:
      A function with ``fn``'s signature. Each call traces ``fn`` (wrap the
      result in ``jax.jit``: it is traced once per input shape). It composes with
      ``jit``, ``grad`` and ``vmap``.

    Raises:
      ValueError: a key or replacement names no activation, or the mapping
        matches no site (the message lists the sites there are); at call time.
      NotImplementedError: a selected site is inside a construct this
        transformation does not rebuild (``shard_map``, ``pmap`` ...).

    A ``custom_jvp`` / ``custom_vjp`` function whose body holds a replaced site
    is differentiated through its new body: its hand-written rule described the
    old activation.
    """
    if not callable(fn):
        raise TypeError(
            f"jaxact.substitute: argument 'fn' must be callable, got {type(fn).__name__}"
        )
    if _nnx_module(fn) is not None:
        # Its state updates (BatchNorm statistics, RNG counts) would have nowhere to go.
        raise TypeError(
            "jaxact.substitute: argument 'fn' is an nnx Module; substitute a function of its "
            "state that returns the new state too: graphdef, state = nnx.split(model); "
            "def call(state, x): m = nnx.merge(graphdef, state); return m(x), nnx.state(m); "
            "f = jaxact.substitute(call, mapping); y, state = f(state, x). (jaxact.sites and "
            "jaxact.monitor.health take the Module itself, and leave it unchanged.)"
        )
    rules = _rules(mapping)
    keep = _site_filter(where)

    @functools.wraps(fn)
    def substituted(*args: Any, **kwargs: Any) -> Any:
        tr = _trace(fn, args, kwargs, "substitute")
        actions: dict[int, Action] = {}
        for site in tr.sites:
            if not keep(site):
                continue
            for rule in rules:
                if rule.row is None or rule.row == site.name:
                    actions[site.index] = ("replace", _call_rule(rule))
                    break
        if not actions:
            keys = ", ".join(repr(r.key) for r in rules)
            raise ValueError(
                f"jaxact.substitute: argument 'mapping' ({keys}) matches no activation site"
                + ("" if where is None else " selected by 'where'")
                + f"; the sites of this function are:\n{tr.sites}"
            )
        out, _ = evaluate(tr, actions, "substitute")
        return out

    return substituted
