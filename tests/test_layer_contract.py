"""The learnable-layer table drives both frameworks alike.

For every row of ``jaxact._src.layers.LEARNABLE``: linen and nnx have the same
signature and defaults; accept the same arguments (same parameter names, shapes,
initial values and outputs) and reject the same ones with the same exception and
message (up to the "jaxact.linen"/"jaxact.nnx" prefix); and the layer computes
the core function of its row with its transformed weights, the nnx layer given the
same parameters the same outputs and gradients. The generic
``Activation`` wrapper is checked on a sample of names that covers every kind of
row (one per family, library presets, vector, random, required arguments).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable
from typing import Any

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jaxact
import jaxact.linen as jl
import jaxact.nnx as jn
from jaxact._src import layers, registry
from tests.accuracy import lane

TABLE = sorted(layers.LEARNABLE)
DTYPES = (jnp.float32, jnp.bfloat16)


def _normal(shape: tuple[int, ...], scale: float = 2.5) -> jax.Array:
    """Test inputs from numpy (jax.random.normal compiles a program per shape)."""
    return jnp.asarray(scale * np.random.default_rng(7).standard_normal(shape), jnp.float32)


def _channels(layer: str) -> bool:
    return "num_channels" in layers.arguments(layer)


def _logscale(layer: str) -> bool:
    return "logscale" in layers.arguments(layer)


def _signature(layer: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(linen field defaults, nnx __init__ defaults), parent and name left out."""
    fields = {
        f.name: f.default
        for f in dataclasses.fields(getattr(jl, layer))
        if f.init and f.name not in ("parent", "name")
    }
    params = inspect.signature(getattr(jn, layer).__init__).parameters
    return fields, {k: p.default for k, p in params.items() if k != "self"}


@pytest.mark.parametrize("layer", TABLE)
def test_same_signature_from_the_table(layer: str) -> None:
    linen, nnx_ = _signature(layer)
    assert linen == nnx_
    assert list(nnx_) == [*layers.arguments(layer), *layers.KEYWORDS]
    positional = inspect.signature(getattr(jn, layer).__init__).parameters
    assert [k for k, p in positional.items() if p.kind is p.KEYWORD_ONLY] == list(layers.KEYWORDS)
    assert {k: nnx_[k] for k in layers.KEYWORDS} == dict(layers.KEYWORDS)


# ----------------------------------------------------------------------------
# Valid arguments: same parameters, same outputs.


def _valid(layer: str) -> list[dict[str, Any]]:
    row = layers.LEARNABLE[layer]
    cases: list[dict[str, Any]] = [{}]
    # Non-default initial values (inside each transform's domain).
    cases.append({f"{w.arg}_init": w.offset + 0.7 + 0.2 * i for i, w in enumerate(row.weights)})
    if _channels(layer):
        cases.append({"num_channels": 3, "axis": 1})
        cases.append({"num_channels": 5, "axis": -1, "sharding": ("model",)})
    if _logscale(layer):
        cases.append({"logscale": True, "num_channels": 5})
    for arg, presets in row.presets.items():
        cases += [{f"{arg}_init": name} for name in presets]
    cases.append({"dtype": jnp.bfloat16, "param_dtype": jnp.bfloat16})
    cases.append({"dtype": "float32", "param_dtype": np.float32})  # any dtype spelling
    return cases


VALID = [(layer, args) for layer in TABLE for args in _valid(layer)]


def _fast_valid(layer: str, args: dict[str, Any]) -> bool:
    """The fast lane: every case of PReLU (presets, channels, sharding, dtypes) and the
    logscale cases; the slow lane: every row."""
    return layer == "PReLU" or bool(args.get("logscale"))


def _linen_params(module: nn.Module, x: jax.Array) -> dict[str, Any]:
    """The initial parameters. Under jit the forward that init runs is traced but not
    compiled (its output is unused), so no program of the activation is built here."""
    return nn.meta.unbox(jax.jit(module.init)(jax.random.key(0), x))["params"]


def _nnx_params(module: nnx.Module) -> dict[str, Any]:
    return nnx.to_pure_dict(nnx.state(module, nnx.Param))


def _nnx_apply(module: nnx.Module) -> Callable[[Any, jax.Array], jax.Array]:
    """``f(params, x)``: the nnx module called with the pure parameter dict ``params``."""
    graphdef, state, rest = nnx.split(module, nnx.Param, ...)

    def f(p: Any, x: jax.Array) -> jax.Array:
        new = jax.tree.map(lambda v: v, state)
        nnx.replace_by_pure_dict(new, p)
        return nnx.merge(graphdef, new, rest)(x)

    return f


def _input(args: dict[str, Any]) -> jax.Array:
    shape = (2, 3, 5) if args.get("num_channels") else (2, 4, 5)
    return _normal(shape)


@pytest.mark.parametrize(
    "layer,args",
    [
        lane(layer, args, fast=_fast_valid(layer, args), id=f"{layer}-{i}")
        for i, (layer, args) in enumerate(VALID)
    ],
)
def test_valid_arguments_agree(layer: str, args: dict[str, Any]) -> None:
    x = _input(args)
    lmod = getattr(jl, layer)(**args)
    lparams = _linen_params(lmod, x)
    with jax.set_mesh(jax.make_mesh((1,), ("model",))):  # nnx shards at creation
        nmod = getattr(jn, layer)(**args)
    nparams = _nnx_params(nmod)
    chex.assert_trees_all_equal(lparams, nparams, strict=True)
    stored = {w.stored for w in layers.weights(layer, args.get("logscale", False))}
    assert set(lparams) == stored
    for name in ("num_channels", "axis", "logscale", *layers.KEYWORDS):
        if name in args:
            assert getattr(nmod, name) == getattr(lmod, name) == args[name]
    # The keyword-only arguments act at call (compute dtype, stored dtype, sharded
    # weights): the outputs agree. Equal parameters and positional arguments (initial
    # values, channels, axis, logscale) give equal outputs by test_layer_computes_its_row.
    if any(name in args for name in layers.KEYWORDS):
        nf = _nnx_apply(nmod)

        @jax.jit  # one program for both (an eager half-precision call compiles op by op)
        def run(p: dict[str, Any], x: jax.Array) -> tuple[jax.Array, jax.Array]:
            return lmod.apply({"params": p}, x), nf(p, x)

        y, ny = run(lparams, x)
        chex.assert_trees_all_equal(y, ny)
        chex.assert_type(y, args.get("dtype") or jnp.float32)


# ----------------------------------------------------------------------------
# Invalid arguments: the same exception and message from both frameworks.


def _invalid(layer: str) -> list[tuple[dict[str, Any], type[Exception], str]]:
    """(arguments, exception, the argument its message names)."""
    row = layers.LEARNABLE[layer]
    cases: list[tuple[dict[str, Any], type[Exception], str]] = []
    for w in row.weights:
        arg = f"{w.arg}_init"
        cases += [
            ({arg: "1.0" if w.arg not in row.presets else [1.0]}, TypeError, arg),
            ({arg: True}, TypeError, arg),
            ({arg: jnp.ones(())}, TypeError, arg),
            ({arg: float("nan")}, ValueError, arg),
            ({arg: float("inf")}, ValueError, arg),
        ]
        if w.transform != "none":  # positive (or > offset)
            cases += [({arg: w.offset}, ValueError, arg), ({arg: -1.0}, ValueError, arg)]
    for arg in row.presets:
        cases.append(({f"{arg}_init": "pytorch"}, ValueError, f"{arg}_init"))
    if _channels(layer):
        cases += [
            ({"num_channels": 0}, ValueError, "num_channels"),
            ({"num_channels": -3}, ValueError, "num_channels"),
            ({"num_channels": 1.5}, TypeError, "num_channels"),
            ({"num_channels": True}, TypeError, "num_channels"),
            ({"num_channels": "3"}, TypeError, "num_channels"),
            ({"axis": 1.5}, TypeError, "axis"),
            ({"axis": None}, TypeError, "axis"),
            ({"axis": False}, TypeError, "axis"),
        ]
    if _logscale(layer):
        cases += [
            ({"logscale": "yes"}, TypeError, "logscale"),
            ({"logscale": 1}, TypeError, "logscale"),
            ({"logscale": None}, TypeError, "logscale"),
        ]
        positive = row.log_weights[0]  # type: ignore[index]
        cases.append(
            ({"logscale": True, f"{positive.arg}_init": 0.0}, ValueError, f"{positive.arg}_init")
        )
    cases += [
        ({"sharding": "model"}, TypeError, "sharding"),
        ({"sharding": ["model"]}, TypeError, "sharding"),
        ({"sharding": (1,)}, TypeError, "sharding"),
        ({"sharding": ("data", "model")}, ValueError, "sharding"),
        ({"sharding": ()}, ValueError, "sharding"),
        ({"dtype": "no_such_dtype"}, TypeError, "dtype"),
        ({"dtype": jnp.int32}, ValueError, "dtype"),
        ({"param_dtype": None}, TypeError, "param_dtype"),
        ({"param_dtype": jnp.int8}, ValueError, "param_dtype"),
    ]
    return cases


INVALID = [(layer, *case) for layer in TABLE for case in _invalid(layer)]


def _error(make: Callable[[], Any]) -> Exception:
    with pytest.raises(Exception) as info:
        make()
    return info.value


def _same_error(
    lmake: Callable[[], Any], nmake: Callable[[], Any], kind: type[Exception], owner: str, arg: str
) -> None:
    le, ne = _error(lmake), _error(nmake)
    assert type(le) is type(ne) is kind, (le, ne)
    assert str(le).startswith(f"jaxact.linen.{owner}: argument '{arg}' "), le
    assert str(le).replace("jaxact.linen.", "jaxact.nnx.") == str(ne)


@pytest.mark.parametrize(
    "layer,args,kind,arg", INVALID, ids=[f"{c}-{a}-{i}" for i, (c, _, _, a) in enumerate(INVALID)]
)
def test_invalid_arguments_rejected_alike(
    layer: str, args: dict[str, Any], kind: type[Exception], arg: str
) -> None:
    _same_error(
        lambda: getattr(jl, layer)(**args), lambda: getattr(jn, layer)(**args), kind, layer, arg
    )


@pytest.mark.parametrize("layer", TABLE)
def test_call_time_errors_alike(layer: str) -> None:
    """Input errors at call: the input's type, its channel count, the axis."""
    x = jnp.ones((2, 4))
    kwargs = {"num_channels": 3} if _channels(layer) else {}
    lmod, nmod = getattr(jl, layer)(**kwargs), getattr(jn, layer)(**kwargs)
    _same_error(lambda: lmod.init(jax.random.key(0), "x"), lambda: nmod("x"), TypeError, layer, "x")
    if not _channels(layer):
        return
    _same_error(lambda: lmod.init(jax.random.key(0), x), lambda: nmod(x), ValueError, layer, "x")
    lax, nax = (getattr(m, layer)(num_channels=3, axis=2) for m in (jl, jn))
    _same_error(lambda: lax.init(jax.random.key(0), x), lambda: nax(x), ValueError, layer, "axis")


# The other parametrised layers (nnx adds in_features and rngs).
OTHER: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("Rational", {"approx_func": "cosh"}, ValueError, "approx_func"),
    ("Rational", {"approx_func": 3}, TypeError, "approx_func"),
    ("Rational", {"version": "E"}, ValueError, "version"),
    ("Rational", {"degrees": (5,)}, ValueError, "degrees"),
    ("Rational", {"degrees": (5.0, 4)}, TypeError, "degrees"),
    ("Rational", {"sharding": "model"}, TypeError, "sharding"),
    ("Rational", {"param_dtype": jnp.int32}, ValueError, "param_dtype"),
    ("MetaACON", {"num_channels": 0}, ValueError, "num_channels"),
    ("MetaACON", {"num_channels": None}, TypeError, "num_channels"),
    ("MetaACON", {"ratio": 0}, ValueError, "ratio"),
    ("MetaACON", {"axis": 1.5}, TypeError, "axis"),
    ("MetaACON", {"p1_init": float("nan")}, ValueError, "p1_init"),
    ("MetaACON", {"kernel_init": 0.1}, TypeError, "kernel_init"),
    ("MetaACON", {"sharding": ("a", "b")}, ValueError, "sharding"),
    ("GatedMLP", {"hidden_features": 0}, ValueError, "hidden_features"),
    ("GatedMLP", {"out_features": 2.0}, TypeError, "out_features"),
    ("GatedMLP", {"activation": "swishglu"}, ValueError, "activation"),
    ("GatedMLP", {"activation": 3}, TypeError, "activation"),
    ("GatedMLP", {"use_bias": 1}, TypeError, "use_bias"),
    ("GatedMLP", {"fused": "yes"}, TypeError, "fused"),
    ("GatedMLP", {"dropout_rate": 1.0}, ValueError, "dropout_rate"),
    ("GatedMLP", {"dropout_rate": "0.1"}, TypeError, "dropout_rate"),
    ("GatedMLP", {"dtype": jnp.int32}, ValueError, "dtype"),
]


def _nnx_other(layer: str, args: dict[str, Any]) -> Any:
    if layer == "MetaACON":
        return jn.MetaACON(**{"num_channels": 4, **args}, rngs=nnx.Rngs(0))
    if layer == "GatedMLP":
        return jn.GatedMLP(4, **args, rngs=nnx.Rngs(0))
    return jn.Rational(**args)


def _linen_other(layer: str, args: dict[str, Any]) -> Any:
    if layer == "MetaACON":
        return jl.MetaACON(**{"num_channels": 4, **args})
    return getattr(jl, layer)(**args)


@pytest.mark.parametrize(
    "layer,args,kind,arg", OTHER, ids=[f"{c}-{a}-{i}" for i, (c, _, _, a) in enumerate(OTHER)]
)
def test_other_layers_reject_alike(
    layer: str, args: dict[str, Any], kind: type[Exception], arg: str
) -> None:
    _same_error(
        lambda: _linen_other(layer, args), lambda: _nnx_other(layer, args), kind, layer, arg
    )


def _mlp() -> tuple[nn.Module, nnx.Module]:
    linen = nn.Sequential([nn.Dense(3), jl.Activation("relu")])
    return linen, nnx.Sequential(nnx.Linear(3, 3, rngs=nnx.Rngs(0)), jn.Activation("relu"))


SWAP_ERRORS: list[tuple[str, Callable[[Any], Any], type[Exception], str]] = [
    ("unknown old", lambda s: s("no_such", "gelu"), ValueError, "old"),
    ("old type", lambda s: s(3, "gelu"), TypeError, "old"),
    ("unknown new", lambda s: s("relu", "no_such"), ValueError, "new"),
    ("new type", lambda s: s("relu", 3), TypeError, "new"),
    ("new a class", lambda s: s("relu", jaxact.relu.__class__), TypeError, "new"),
    ("where type", lambda s: s("relu", "gelu", where=3), TypeError, "where"),
    ("no match", lambda s: s("tanh", "gelu"), ValueError, "old"),
]


@pytest.mark.parametrize("case", SWAP_ERRORS, ids=[c[0] for c in SWAP_ERRORS])
def test_swap_activations_rejects_alike(
    case: tuple[str, Callable[[Any], Any], type[Exception], str],
) -> None:
    _, call, kind, arg = case
    linen, nnx_model = _mlp()
    le = _error(lambda: call(lambda *a, **k: jl.swap_activations(linen, *a, **k)))
    ne = _error(lambda: call(lambda *a, **k: jn.swap_activations(nnx_model, *a, **k)))
    assert type(le) is type(ne) is kind, (le, ne)
    for e, prefix in ((le, "jaxact.linen"), (ne, "jaxact.nnx")):
        assert str(e).startswith(f"{prefix}.swap_activations: argument '{arg}'"), e
    for swap in (jl.swap_activations, jn.swap_activations):
        with pytest.raises(TypeError, match="swap_activations: argument 'model'"):
            swap(jax.nn.relu, "relu", "gelu")


# ----------------------------------------------------------------------------
# The math: each layer computes its row's function with its transformed weights.

# The transforms written out independently of ``layers.natural`` (which adds tiny).
_TRANSFORM: dict[str, Callable[[jax.Array, float], jax.Array]] = {
    "none": lambda v, offset: v,
    "exp": lambda v, offset: jnp.exp(v),
    "softplus": lambda v, offset: offset + jnp.logaddexp(v, 0.0),
    "abs": lambda v, offset: jnp.abs(v),
}

MATH = [
    (layer, args)
    for layer in TABLE
    for args in (
        [{}]
        + ([{"num_channels": 3, "axis": 1}] if _channels(layer) else [])
        + ([{"num_channels": 3, "axis": 1, "logscale": True}] if _logscale(layer) else [])
    )
]


# The fast lane: per-channel weights without a transform, and exp through logscale
# (every transform inverts in test_layers.test_transforms_invert); the slow lane:
# every case.
FAST_MATH = ("PReLU-5", "Snake-10")


@pytest.mark.parametrize(
    "layer,args",
    [
        lane(layer, args, fast=f"{layer}-{i}" in FAST_MATH, id=f"{layer}-{i}")
        for i, (layer, args) in enumerate(MATH)
    ],
)
def test_layer_computes_its_row(layer: str, args: dict[str, Any]) -> None:
    """The linen layer computes its row's function of the transformed weights, and the
    nnx layer given the same parameters computes the same outputs and gradients."""
    row = layers.LEARNABLE[layer]
    module = getattr(jl, layer)(**args)
    x = _normal((4, 3, 5))
    params = _linen_params(module, x)
    # Initial values: the transform of the stored value is the default init.
    defaults = _signature(layer)[0]
    for w in layers.weights(layer, args.get("logscale", False)):
        natural = _TRANSFORM[w.transform](params[w.stored], w.offset)
        want = jnp.full(natural.shape, defaults[f"{w.arg}_init"], jnp.float32)
        chex.assert_trees_all_close(natural, want, rtol=1e-6, atol=1e-7)
    moved = jax.tree.map(
        lambda p: p + 0.1 * jnp.arange(1, p.size + 1, dtype=p.dtype).reshape(p.shape), params
    )

    def reference(p: dict[str, Any], x: jax.Array) -> jax.Array:
        kwargs: dict[str, Any] = dict(row.fixed)
        for w in layers.weights(layer, args.get("logscale", False)):
            value = _TRANSFORM[w.transform](p[w.stored], w.offset)
            kwargs[w.arg] = value.reshape(-1, 1) if value.ndim else value  # channels on axis 1
        return registry.FUNCTIONS[row.fn](x, **kwargs)

    def linen(p: dict[str, Any], x: jax.Array) -> jax.Array:
        return module.apply({"params": p}, x)

    nnx_ = _nnx_apply(getattr(jn, layer)(**args))

    def grads(f: Callable[..., jax.Array], p: dict[str, Any], x: jax.Array) -> Any:
        return jax.grad(lambda p, x: jnp.sum(jnp.sin(f(p, x))), argnums=(0, 1))(p, x)

    # One program for the values (a program per call would compile the row's function
    # once per dtype and derivative, per framework).
    @jax.jit
    def run(p: dict[str, Any], x: jax.Array) -> dict[str, Any]:
        xb = x.astype(jnp.bfloat16)
        return {
            "y": linen(p, x),
            "reference": reference(p, x),
            "nnx": nnx_(p, x),
            "bf16": linen(p, xb),
            "nnx_bf16": nnx_(p, xb),
            "grads": grads(linen, p, x),
            "nnx_grads": grads(nnx_, p, x),
        }

    out = run(moved, x)
    chex.assert_trees_all_close(out["y"], out["reference"], rtol=1e-6, atol=1e-6)
    # Gradients reach every entry of every parameter.
    for name, g in out["grads"][0].items():
        assert bool(jnp.all(jnp.isfinite(g))) and bool(jnp.all(g != 0)), (layer, name, g)
    # bfloat16 input, float32 parameters: bfloat16 output; integers promoted; dtype forced
    # (output types: traced, not compiled).
    chex.assert_type(out["bf16"], jnp.bfloat16)
    chex.assert_type(jax.eval_shape(linen, moved, jnp.ones(x.shape, jnp.int32)), jnp.float32)
    forced = module.clone(dtype=jnp.float32)
    xb = x.astype(jnp.bfloat16)
    chex.assert_type(jax.eval_shape(forced.apply, {"params": moved}, xb), jnp.float32)
    # nnx: the same outputs (bit for bit) and gradients (parameters and input).
    chex.assert_trees_all_equal(out["nnx"], out["y"])
    chex.assert_trees_all_equal(out["nnx_bf16"], out["bf16"])
    chex.assert_trees_all_close(out["nnx_grads"], out["grads"], rtol=1e-6, atol=1e-6)
    chex.assert_tree_all_finite(out["grads"])


# ----------------------------------------------------------------------------
# The generic Activation on a sample of names.


def _sample() -> list[str]:
    """One name per family, library presets with parameters, every kind of row."""
    names: dict[str, None] = {}
    families: set[str] = set()
    for name, spec in registry.SPECS.items():
        if spec.family not in families and name != "meta_acon":
            families.add(spec.family)
            names[name] = None
    for kind in ("vector", "random"):
        names[next(n for n, s in registry.SPECS.items() if s.kind == kind)] = None
    for extra in ("glu", "crelu", "prelu", "threshold", "softmax", "gumbel_softmax"):
        if extra in registry.SPECS:
            names[extra] = None
    presets = [p for spec in registry.SPECS.values() for p in spec.presets]
    for library in registry.LIBRARIES:  # one preset with parameters per library
        for p in presets:
            if p.startswith(f"{library}:"):
                names[p] = None
                break
    names["gelu_pytorch_tanh"] = None  # an unqualified library name
    return list(names)


SAMPLE = _sample()
# The fast lane: an elementwise row, a vector row, required arguments, a library preset
# and an unqualified library name (random rows: test_linen's rrelu and test_nnx's
# test_activation_random); the slow lane: the whole sample.
FAST_SAMPLE = ("relu", "softmax", "prelu", "torch:LeakyReLU", "gelu_pytorch_tanh")


def _required(fn: Callable[..., Any]) -> dict[str, Any]:
    """Values for the arguments without defaults (prelu's slope, threshold's value)."""
    spec = registry.spec_of(fn)
    sig = inspect.signature(fn).parameters
    return {
        k: spec.params[k]  # type: ignore[union-attr]
        for k, p in list(sig.items())[1:]
        if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD and k != "key"
    }


@pytest.mark.parametrize("name", [lane(n, fast=n in FAST_SAMPLE, id=n) for n in SAMPLE])
def test_activation_wrapper(name: str) -> None:
    fn = jaxact.get(name)
    params = _required(fn)
    random = layers.needs_key(name, params)
    x32 = _normal((2, 3, 4))
    lmod = jl.Activation(name, params)
    nmod = jn.Activation(name, rngs=nnx.Rngs(activation=1) if random else None, **params)
    assert lmod.params == nmod.params == params and lmod.fn == nmod.fn == name
    ref = nnx.Rngs(activation=1)
    keys = [ref.activation() for _ in DTYPES]  # the keys nmod draws, call after call
    graphdef, state = nnx.split(nmod)

    # One program for both frameworks, the function and both dtypes.
    @jax.jit
    def run(x32: jax.Array, keys: list[jax.Array], state: Any) -> list[dict[str, Any]]:
        model = nnx.merge(graphdef, state)
        out = []
        for dtype, key in zip(DTYPES, keys, strict=True):
            x = x32.astype(dtype)
            y, variables = lmod.init_with_output({"params": key, "activation": key}, x)
            want = fn(x, **params, **({"key": key} if random else {}))
            again = lmod.apply({}, x, rngs={"activation": key}) if random else y
            out.append({"y": y, "variables": variables, "want": want, "again": again})
            out[-1]["nnx"] = model(x)
        return out

    for dtype, o in zip(DTYPES, run(x32, keys, state), strict=True):
        assert o["variables"] == {}, name  # no parameters
        chex.assert_type(o["want"], dtype)
        chex.assert_trees_all_equal(o["nnx"], o["want"])
        if random:  # linen folds the module path into the stream's key: same draw again
            chex.assert_trees_all_equal_shapes_and_dtypes(o["y"], o["want"])
            chex.assert_trees_all_equal(o["y"], o["again"])
        else:
            chex.assert_trees_all_equal(o["y"], o["want"])
    assert registry.spec_of(name) is not None and math.isfinite(float(jnp.sum(o["want"])))
