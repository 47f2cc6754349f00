"""Hardening: one input-dtype policy, one hyperparameter rule, layer parameters in their own
dtype and no cache that grows with hyperparameter values, for every row.

* Input dtypes. Every floating dtype narrower than float32 (bfloat16, float16, the float8
  types) is computed in float32 and rounded once. For float8_e4m3fn and float8_e5m2 input
  to every row, library function and dispatcher, the traced program does no arithmetic in
  float8 (only conversions and data movement) and rounds to float8 exactly once, so its
  values are ``fn(x.astype(float32)).astype(float8)``; a compiled sample compares the
  values themselves (the issue's ``isru`` and ``bent_identity`` examples among them).
  Integer input (uint8, uint32, int8): the rows jax.nn keeps integers in (relu, hard_tanh,
  identity) give the exact integer results in the input's dtype; every other row converts
  the integer input to jnp's float dtype before any arithmetic (the same numbers as
  floats).
* Hyperparameters. Every numeric hyperparameter of every row (``Spec.domain``: the keys of
  ``Spec.params`` and the other arguments annotated ``ArrayLike``) and of every library
  function, given NaN as a Python float, a numpy array or a concrete jax array, raises
  ``ValueError`` naming the function and the argument; so does every value outside the
  declared domain (an infinity where the domain is finite, a bound on the wrong side of
  the other bound). Closed endpoints are accepted and traced values are not checked.
* Layers. Every learnable layer of linen and nnx, under x64 with ``param_dtype=float64``,
  computes its row's function of the float64 parameters to float64 precision (no value of
  its program is float32), and float32 input with float64 parameters is computed in
  float64 and rounded once.
* Caches. 500 distinct ``sine`` frequencies leave memory flat, and no unbounded cache of
  jaxact grows with distinct hyperparameter values of any row.

Everything is traced (``jax.make_jaxpr``, ``jax.eval_shape``) except three small compiled
programs (the float8 sample, the integer-keeping rows, the layers) and the sine calls.
"""

from __future__ import annotations

import collections
import functools
import gc
import inspect
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.extend import core as jcore

import jaxact
import jaxact.linen as jl
import jaxact.nnx as jn
from jaxact._src import core, layers, periodic, registry
from jaxact._src.rational import RATIONAL_INIT
from tests.accuracy import REPRESENTATIVES
from tests.test_generic import _extra, call, sample
from tests.test_layer_contract import _TRANSFORM, _nnx_apply

SPECS = registry.SPECS
NAMES = list(SPECS)
# The fast lane (`pytest -m "not slow"`): one row per family and kind, the issue's
# examples, and the rows with a bound that names another argument; the full suite runs
# every row, library function and layer.
FAST_ROWS = frozenset(REPRESENTATIVES) | {
    "hard_tanh",
    "gelu_clipped",
    "hard_shrink",
    "isru",
    "bent_identity",
    "entmax15",
    "snake_beta",
}


def _lane(*values: Any, fast: bool, id: str | None = None) -> Any:
    return pytest.param(*values, marks=[] if fast else [pytest.mark.slow], id=id)


FLOAT8 = (jnp.dtype(jnp.float8_e4m3fn), jnp.dtype(jnp.float8_e5m2))
INTEGERS = (jnp.dtype(jnp.uint8), jnp.dtype(jnp.uint32), jnp.dtype(jnp.int8))
KEEP_INTEGERS = ("relu", "hard_tanh", "identity")  # jax.nn keeps integer dtypes here
SHAPE = (4, 6)  # an even last axis for the GLU family


# ----------------------------------------------------------------------------
# What is called: every row, every library function (with the arguments it needs), and
# the dispatcher.


def _library_functions() -> dict[str, tuple[Callable[..., Any], str]]:
    """``"library:name"`` -> (the library function, its row), one name per function."""
    out: dict[str, tuple[Callable[..., Any], str]] = {}
    seen: set[int] = set()
    for (lib, name), fn in registry.LIBRARY_FUNCTIONS.items():
        if id(fn) not in seen:
            seen.add(id(fn))
            spec = registry.spec_of(fn)
            assert spec is not None, (lib, name)
            out[f"{lib}:{name}"] = (fn, spec.name)
    return out


LIBRARY = _library_functions()


def _required(fn: Callable[..., Any], row: str) -> dict[str, Any]:
    """Values for the numeric arguments without defaults (keras threshold's)."""
    params = SPECS[row].params
    return {
        k: params.get(k, 0.0)
        for k, p in list(inspect.signature(fn).parameters.items())[1:]
        if p.default is inspect.Parameter.empty and k != "key"
    }


def _callable(label: str) -> Callable[[Any], Any]:
    """``x -> fn(x)`` for a row name, a ``"library:name"`` or the dispatcher ``gelu``."""
    if label in SPECS:
        return functools.partial(call, label)
    if label in registry.DISPATCHERS:
        return registry.FUNCTIONS[label]
    fn, row = LIBRARY[label]
    return functools.partial(fn, **_required(fn, row))


LABELS = [*NAMES, *LIBRARY, *registry.DISPATCHERS]


def _sub_jaxprs(eqn: Any) -> Iterator[Any]:
    for value in eqn.params.values():
        for v in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(v, jcore.ClosedJaxpr):
                yield v.jaxpr
            elif isinstance(v, jcore.Jaxpr):
                yield v


def _equations(jaxpr: Any) -> Iterator[Any]:
    """Every equation of ``jaxpr`` and of the programs nested in it (calls, rules' primal
    programs, checkpoints, loops and branches)."""
    for eqn in jaxpr.eqns:
        yield eqn
        for sub in _sub_jaxprs(eqn):
            yield from _equations(sub)


def _dtypes(eqn: Any) -> list[Any]:
    return [getattr(v.aval, "dtype", None) for v in (*eqn.invars, *eqn.outvars)]


# Equations that move float8 values without rounding them.
MOVES = {
    "broadcast_in_dim",
    "reshape",
    "squeeze",
    "expand_dims",
    "transpose",
    "concatenate",
    "slice",
    "copy",
    "copy_p",
}


def _narrow_flow(jaxpr: Any, dtype: Any) -> tuple[int, list[str]]:
    """(how many times a value is rounded to ``dtype``, the primitives that compute on
    ``dtype`` values other than by conversion or data movement)."""
    roundings, arithmetic = 0, []
    for eqn in _equations(jaxpr):
        if dtype not in _dtypes(eqn):
            continue
        name = eqn.primitive.name
        if name == "convert_element_type":
            if eqn.outvars[0].aval.dtype == dtype and eqn.invars[0].aval.dtype != dtype:
                roundings += 1
        elif name not in MOVES and not any(True for _ in _sub_jaxprs(eqn)):
            arithmetic.append(name)
    return roundings, arithmetic


def _input(dtype: Any) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(SHAPE, dtype)


# ----------------------------------------------------------------------------
# float8 input: computed in float32, rounded once.


@pytest.mark.parametrize("dtype", FLOAT8, ids=lambda d: d.name)
@pytest.mark.parametrize(
    "label", [_lane(n, fast=n in FAST_ROWS or n == next(iter(LIBRARY))) for n in LABELS]
)
def test_float8_is_computed_in_float32_and_rounded_once(label: str, dtype: Any) -> None:
    try:
        jaxpr = jax.make_jaxpr(_callable(label))(_input(dtype))
    except TypeError as e:  # the policy's other branch: a TypeError naming both
        assert label.split(":")[-1] in str(e) and dtype.name in str(e), e
        return
    out = jaxpr.out_avals[0]
    assert out.dtype == dtype, (label, out)
    roundings, arithmetic = _narrow_flow(jaxpr.jaxpr, dtype)
    assert not arithmetic, f"{label}: computes in {dtype.name}: {collections.Counter(arithmetic)}"
    assert roundings == 1, f"{label}: rounds to {dtype.name} {roundings} times"


# The compiled sample: rows the issue names (a vector row among them).
VALUE_ROWS = ("relu", "isru", "entmax15")


def _float8_pairs(names: tuple[str, ...]) -> dict[str, Any]:
    """Per row and float8 dtype: (the row on float8 input, the same numbers in float32
    rounded once), and isru and bent_identity on the issue's input; one compiled program."""
    x = sample()

    @jax.jit
    def run(x: jax.Array) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for dtype in FLOAT8:
            x8 = x.astype(dtype)
            for name in names:
                want = call(name, x8.astype(jnp.float32)).astype(dtype)
                out[f"{name}/{dtype.name}"] = (call(name, x8), want)
        if "isru" in names:  # the examples
            example = jnp.array([-3.0, -1.0, 1.0], jnp.float8_e4m3fn)
            out["examples"] = (jaxact.isru(example), jaxact.bent_identity(example))
        return out

    return jax.device_get(run(x))


@functools.cache
def _float8_values(name: str) -> dict[str, Any]:
    """The sample's values for ``name`` (the whole sample in one program; row by row only
    where that program fails, so that one row's failure is its own)."""
    try:
        return _float8_sample()
    except Exception:
        return _float8_pairs((name,))


@functools.cache
def _float8_sample() -> dict[str, Any]:
    return _float8_pairs(VALUE_ROWS)


def _bits(a: Any) -> np.ndarray:
    return np.asarray(a).view(np.uint8)


@pytest.mark.parametrize("name", VALUE_ROWS)
def test_float8_values_are_the_float32_values_rounded_once(name: str) -> None:
    values = _float8_values(name)
    for dtype in FLOAT8:
        got, want = values[f"{name}/{dtype.name}"]
        assert got.dtype == dtype
        np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"{name} {dtype.name}")


def test_float8_examples() -> None:
    # The float32 values rounded once to float8_e4m3fn: isru(-3) = -0.9487 -> -0.9375,
    # bent_identity(-3) = -1.9189 -> -1.875 (computed in float8 it gave -2).
    isru, bent = _float8_values("isru")["examples"]
    np.testing.assert_array_equal(isru.astype(np.float32), [-0.9375, -0.6875, 0.6875])
    np.testing.assert_array_equal(bent.astype(np.float32), [-1.875, -0.8125, 1.25])


# ----------------------------------------------------------------------------
# Integer input.


def _integer_inputs() -> dict[str, np.ndarray]:
    """Values over the whole range of each dtype (uint32 beyond 2**31, int8 to -128)."""
    k = np.arange(24).reshape(SHAPE)
    return {
        "uint8": (k * 11 % 256).astype(np.uint8),
        "uint32": (k * 179_000_017 % 2**32).astype(np.uint32),
        "int8": (k * 11 % 256 - 128).astype(np.int8),
    }


@functools.cache
def _integer_values() -> dict[str, Any]:
    """The rows that keep integers, on every integer input (one compiled program)."""

    @jax.jit
    def run(ints: dict[str, jax.Array]) -> dict[str, Any]:
        return {f"{n}/{k}": call(n, x) for k, x in ints.items() for n in KEEP_INTEGERS}

    return jax.device_get(run({k: jnp.asarray(v) for k, v in _integer_inputs().items()}))


def _keep_integers_want(name: str, x: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(x, 0).astype(x.dtype)
    if name == "hard_tanh":
        lo = 0 if x.dtype.kind == "u" else -1
        return np.clip(x, lo, 1).astype(x.dtype)
    return x


@pytest.mark.parametrize("dtype", INTEGERS, ids=lambda d: d.name)
@pytest.mark.parametrize(
    "name", [_lane(n, fast=n in FAST_ROWS or n in KEEP_INTEGERS) for n in NAMES]
)
def test_integer_input(name: str, dtype: Any) -> None:
    if name in KEEP_INTEGERS:
        x = _integer_inputs()[dtype.name]
        got = _integer_values()[f"{name}/{dtype.name}"]
        assert got.dtype == dtype, (name, got.dtype)
        np.testing.assert_array_equal(got, _keep_integers_want(name, x), err_msg=name)
        return
    promoted = jax.eval_shape(jnp.sin, _input(dtype)).dtype  # jnp's float dtype for it
    jaxpr = jax.make_jaxpr(functools.partial(call, name))(_input(dtype))
    assert jaxpr.out_avals[0].dtype == promoted, (name, jaxpr.out_avals[0])
    (x,) = jaxpr.jaxpr.invars
    uses = [e for e in _equations(jaxpr.jaxpr) if any(v is x for v in e.invars)]
    for eqn in uses:  # the integers are only ever converted to the float dtype
        assert eqn.primitive.name == "convert_element_type", (name, eqn)
        assert eqn.outvars[0].aval.dtype == promoted, (name, eqn)
    assert uses, name


# ----------------------------------------------------------------------------
# Hyperparameters: NaN and values outside the declared domain raise when concrete.


def _domain(spec: registry.Spec, arg: str) -> core.Interval:
    return core.interval(spec.domain[arg], spec.name)


HYPER = [(name, arg) for name, spec in SPECS.items() for arg in spec.domain]


def _hyper_lanes(cases: list[tuple[str, str]]) -> list[Any]:
    return [_lane(n, a, fast=n in FAST_ROWS, id=f"{n}-{a}") for n, a in cases]


def _bound(spec: registry.Spec, end: float | str) -> float:
    return float(spec.params[end]) if isinstance(end, str) else end


def _outside(spec: registry.Spec, arg: str) -> list[float]:
    """Values just outside the domain of ``arg`` (the other arguments at their defaults)."""
    dom = _domain(spec, arg)
    out = []
    lo, hi = _bound(spec, dom.lo), _bound(spec, dom.hi)
    if math.isfinite(lo):
        out += [lo - 1.0] + ([] if dom.lo_closed else [lo])
    elif not dom.lo_closed:
        out.append(-math.inf)
    if math.isfinite(hi):
        out += [hi + 1.0] + ([] if dom.hi_closed else [hi])
    elif not dom.hi_closed:
        out.append(math.inf)
    return out


def _endpoints(spec: registry.Spec, arg: str) -> list[float]:
    """The endpoints the domain includes."""
    dom = _domain(spec, arg)
    ends = [(dom.lo, dom.lo_closed), (dom.hi, dom.hi_closed)]
    return [_bound(spec, e) for e, closed in ends if closed]


def _abstract(name: str, **kw: Any) -> Any:
    """The row traced with ``kw`` (hyperparameters concrete, ``x`` abstract)."""
    return jax.eval_shape(lambda v: call(name, v, **kw), _input(jnp.float32))


def _raises(name: str, arg: str, value: Any, fn: str | None = None, **kw: Any) -> None:
    with pytest.raises(ValueError) as err:
        if fn is None:
            _abstract(name, **{arg: value})
        else:
            jax.eval_shape(lambda v: LIBRARY[fn][0](v, **{**kw, arg: value}), _input(jnp.float32))
    message = str(err.value)
    assert f"jaxact.{name}" in message and f"'{arg}'" in message, message


@pytest.mark.parametrize("name,arg", _hyper_lanes(HYPER))
def test_nan_hyperparameter_raises(name: str, arg: str) -> None:
    for nan in (math.nan, np.full((), np.nan, np.float32), jnp.asarray([1.0, math.nan] * 3)):
        _raises(name, arg, nan)


# Every hyperparameter whose domain excludes more than NaN ("[-inf, inf]": threshold's).
BOUNDED = [(name, arg) for name, arg in HYPER if _outside(SPECS[name], arg)]


@pytest.mark.parametrize("name,arg", _hyper_lanes(BOUNDED))
def test_hyperparameter_outside_its_domain_raises(name: str, arg: str) -> None:
    for value in _outside(SPECS[name], arg):
        _raises(name, arg, value)


@pytest.mark.parametrize("name,arg", _hyper_lanes(HYPER))
def test_hyperparameter_endpoints_and_traced_values_pass(name: str, arg: str) -> None:
    for value in _endpoints(SPECS[name], arg):
        _abstract(name, **{arg: value})
    # A traced hyperparameter is not checked (a NaN under jit gives NaN).
    given = _valid_arrays(name)
    shape = np.shape(given.get(arg, 0.0))
    traced = jax.ShapeDtypeStruct(shape, jnp.float32)
    jax.eval_shape(lambda v, p: call(name, v, **{**given, arg: p}), _input(jnp.float32), traced)


def _valid_arrays(name: str) -> dict[str, Any]:
    """Valid values of the array hyperparameters without defaults (rational's
    coefficients, meta_acon's weights)."""
    if name == "rational":
        numerator, denominator = RATIONAL_INIT["leaky_relu"]
        return {"numerator": np.asarray(numerator), "denominator": np.asarray(denominator)}
    return _extra(name, np.zeros(SHAPE, np.float32)) if name == "meta_acon" else {}


def _library_hyper() -> list[tuple[str, str]]:
    """(library name, numeric argument) of every library function."""
    out = []
    for label, (fn, _) in LIBRARY.items():
        for k, p in list(inspect.signature(fn).parameters.items())[1:]:
            # Floats (ints are axes), Keras' optional max_value and required arguments.
            numeric = isinstance(p.default, float) or (p.default is None and k == "max_value")
            if numeric or k in _required(*LIBRARY[label]):
                out.append((label, k))
    return out


LIBRARY_HYPER = _library_hyper()


@pytest.mark.parametrize(
    "label,arg",
    [_lane(n, a, fast=i < 2, id=f"{n}-{a}") for i, (n, a) in enumerate(LIBRARY_HYPER)],
)
def test_library_function_nan_hyperparameter_raises(label: str, arg: str) -> None:
    fn, row = LIBRARY[label]
    _raises(row, arg, math.nan, fn=label, **_required(fn, row))


# ----------------------------------------------------------------------------
# Layers: float64 parameters stay float64.

LAYERS = sorted(layers.LAYER_FUNCTIONS)
FRAMEWORKS = ("linen", "nnx")


def _layer_args(layer: str) -> dict[str, Any]:
    if layer == "MetaACON":
        return {"num_channels": 3, "ratio": 2, "axis": 1}
    if layer in layers.LEARNABLE and "num_channels" in layers.arguments(layer):
        return {"num_channels": 3, "axis": 1}
    return {}


def _params(layer: str, module: nn.Module, x: jax.Array) -> dict[str, Any]:
    """Parameters that need float64: 0.3 + 0.1 k + 1e-12 (shapes from an abstract init)."""
    shapes = nn.meta.unbox(jax.eval_shape(module.init, jax.random.key(0), x))["params"]

    def fill(s: Any) -> jax.Array:
        assert s.dtype == jnp.float64, (layer, s)
        k = jnp.arange(s.size, dtype=jnp.float64).reshape(s.shape)
        return 0.3 + 0.1 * k + 1e-12 * (1 + k)

    return jax.tree.map(fill, shapes)


def _reference(layer: str, p: dict[str, Any], x: jax.Array) -> jax.Array:
    """The row's function of the transformed float64 parameters."""
    if layer == "Rational":
        return jaxact.rational(x, p["numerator"], p["denominator"])
    if layer == "MetaACON":
        return jaxact.meta_acon(x, p["p1"], p["p2"], p["w1"], p["w2"], axis=1)
    row = layers.LEARNABLE[layer]
    kwargs: dict[str, Any] = dict(row.fixed)
    for w in row.weights:
        value = _TRANSFORM[w.transform](p[w.stored], w.offset)
        kwargs[w.arg] = value.reshape(-1, 1) if value.ndim else value  # channels on axis 1
    return registry.FUNCTIONS[row.fn](x, **kwargs)


def _abstract_nnx(layer: str, args: dict[str, Any]) -> nnx.Module:
    """The nnx layer with abstract parameters (its initialisers traced, not run)."""
    rngs = (lambda: {"rngs": nnx.Rngs(0)}) if layer == "MetaACON" else dict
    return nnx.eval_shape(lambda: getattr(jn, layer)(**args, **rngs()))


@functools.cache
def _layer_programs() -> dict[str, Any]:
    """Per (framework, layer): the forward on float64 input and its reference (one
    compiled program for all of them, in the fast tier), and the jaxprs of the forward on
    float64 and on float32 input."""
    out: dict[str, Any] = {}
    with jax.enable_x64(True), jaxact.precision("fast"):
        x = jnp.asarray(np.linspace(-3.0, 3.0, 24).reshape(2, 3, 4), jnp.float64)
        modules: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for layer in LAYERS:
            args = {**_layer_args(layer), "param_dtype": jnp.float64}
            module = getattr(jl, layer)(**args)
            params[layer] = _params(layer, module, x)
            modules[f"linen/{layer}"] = lambda p, v, m=module: m.apply({"params": p}, v)
            modules[f"nnx/{layer}"] = _nnx_apply(_abstract_nnx(layer, args))

        def run(params: dict[str, Any], x: jax.Array) -> dict[str, Any]:
            res = {}
            for key, f in modules.items():
                layer = key.split("/")[1]
                res[key] = (f(params[layer], x), _reference(layer, params[layer], x))
            return res

        out["values"] = jax.device_get(jax.jit(run)(params, x))
        for key, f in modules.items():
            p = params[key.split("/")[1]]
            out[f"jaxpr/{key}"] = jax.make_jaxpr(f)(p, x)
            out[f"jaxpr32/{key}"] = jax.make_jaxpr(f)(p, x.astype(jnp.float32))
    return out


def _float32_values(jaxpr: Any) -> int:
    """How many equations of the program produce a float32 value."""
    f32 = jnp.dtype(jnp.float32)
    return sum(
        any(getattr(v.aval, "dtype", None) == f32 for v in e.outvars) for e in _equations(jaxpr)
    )


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("layer", [_lane(n, fast=False) for n in LAYERS])
def test_float64_parameters_stay_float64(layer: str, framework: str) -> None:
    key = f"{framework}/{layer}"
    programs = _layer_programs()
    y, want = programs["values"][key]
    assert y.dtype == np.float64, key
    np.testing.assert_allclose(y, want, rtol=4e-16, atol=1e-300, err_msg=key)
    assert _float32_values(programs[f"jaxpr/{key}"].jaxpr) == 0, key
    # float32 input with float64 parameters: computed in float64, rounded once (the one
    # equation with a float32 result), a float32 output.
    jaxpr32 = programs[f"jaxpr32/{key}"]
    assert jaxpr32.out_avals[0].dtype == jnp.float32, key
    assert _float32_values(jaxpr32.jaxpr) == 1, key


# ----------------------------------------------------------------------------
# Caches.


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_sine_memory_stays_flat_over_distinct_w0() -> None:
    x = jnp.linspace(-3.0, 3.0, 8, dtype=jnp.float32)
    for i in range(64):  # warm: the program, and a full table cache
        jaxact.sine(x, 20.0 + i * 0.001).block_until_ready()
    gc.collect()
    before = _rss_mb()
    for i in range(500):
        jaxact.sine(x, 31.0 + i * 0.0137).block_until_ready()
    gc.collect()
    grown = _rss_mb() - before
    info = periodic._phase_table.cache_info()
    assert info.maxsize is not None and info.currsize <= info.maxsize, info
    assert grown < 24.0, f"500 distinct w0 values grew the process by {grown:.1f} MB"


def _caches() -> dict[str, Any]:
    """Every functools cache of jaxact's modules: name -> the cached function."""
    out = {}
    for mod_name, mod in list(sys.modules.items()):
        if not mod_name.startswith("jaxact") or mod is None:
            continue
        for attr, obj in list(vars(mod).items()):
            if callable(getattr(obj, "cache_info", None)) and hasattr(obj, "cache_parameters"):
                out[f"{mod_name}.{attr}"] = obj
    return out


def _distinct(spec: registry.Spec, arg: str, k: int) -> float | None:
    """A value of ``arg`` near its default, distinct for each ``k``, inside its domain
    (dyadic steps: their exact ratios have numerators of different lengths, as sine's
    reduction sees them)."""
    default = float(spec.params[arg])
    value = default * (1 + k / 64) if default else k / 64
    bad = _outside(spec, arg)
    dom = _domain(spec, arg)
    lo, hi = _bound(spec, dom.lo), _bound(spec, dom.hi)
    inside = (value >= lo if dom.lo_closed else value > lo) and (
        value <= hi if dom.hi_closed else value < hi
    )
    return value if inside and value not in bad else None


def test_no_unbounded_cache_grows_with_hyperparameter_values() -> None:
    caches = _caches()
    assert "jaxact._src.periodic._phase_table" in caches

    def sweep(k: int) -> None:
        for name, spec in SPECS.items():
            kw = {a: v for a in spec.params if (v := _distinct(spec, a, k)) is not None}
            if kw:
                _abstract(name, **kw)

    sweep(1)  # fills the caches keyed on dtypes and precision tiers
    sizes = {n: c.cache_info().currsize for n, c in caches.items()}
    for k in (2, 3):
        sweep(k)
    for n, c in caches.items():
        limit = c.cache_parameters()["maxsize"]
        size = c.cache_info().currsize
        if limit is None:
            assert size == sizes[n], f"{n} grew from {sizes[n]} to {size} entries"
        else:
            assert size <= limit, (n, size, limit)
