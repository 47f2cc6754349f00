"""The shared layer contract, and what linen and nnx layers must do alike.

linen and nnx layers built with the same arguments and given the same parameters
must compute the same outputs and gradients; their parameters survive
flax.serialization and orbax round trips bit-exactly; an nnx model of jaxact
layers sharded over 8 host devices computes what it computes on one.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import re
import subprocess
import sys
import textwrap
from typing import Any

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
from flax import nnx, serialization

import jaxact
import jaxact.linen as jl
import jaxact.nnx as jn
from jaxact._src import layers
from tests.accuracy import lane

# (class name, constructor keyword arguments, input shape). nnx-only arguments
# (in_features, rngs) are added by ``_nnx``.
CASES: list[tuple[str, dict[str, Any], tuple[int, ...]]] = [
    ("Activation", {"fn": "gelu_pytorch_tanh"}, (4, 6)),
    ("Activation", {"fn": "torch:Softplus"}, (4, 6)),
    ("Activation", {"fn": "softmax"}, (4, 6)),
    ("PReLU", {}, (4, 6)),
    ("PReLU", {"negative_slope_init": "torch", "num_channels": 6}, (4, 6)),
    ("PReLU", {"negative_slope_init": "keras", "num_channels": 3, "axis": 1}, (2, 3, 5)),
    ("Swish", {"num_channels": 6}, (4, 6)),
    ("StarReLU", {"scale_init": 0.8944, "bias_init": -0.4472}, (4, 6)),
    ("XIELU", {}, (4, 6)),
    ("Snake", {"num_channels": 6}, (4, 6)),
    ("Snake", {"alpha_init": 0.5, "logscale": True, "num_channels": 6}, (4, 6)),
    ("SnakeBeta", {"num_channels": 6}, (4, 6)),
    ("SnakeBeta", {"logscale": True}, (4, 6)),
    ("ACONC", {"num_channels": 6}, (4, 6)),
    ("SMU", {}, (4, 6)),
    ("PELU", {"num_channels": 6}, (4, 6)),
    ("Rational", {}, (4, 6)),
    ("Rational", {"approx_func": "gelu", "version": "B"}, (4, 6)),
    ("MetaACON", {"num_channels": 6, "ratio": 2}, (4, 3, 6)),
    ("GatedMLP", {"hidden_features": 8}, (4, 6)),
    ("GatedMLP", {"hidden_features": 8, "activation": "geglu", "use_bias": True}, (4, 6)),
    ("GatedMLP", {"hidden_features": 8, "fused": True, "out_features": 5}, (4, 6)),
]
IDS = [f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]
# linen against nnx: the layers outside the learnable-layer table here (the table's rows
# are compared, with their math, in test_layer_contract.test_layer_computes_its_row).
# The fast lane: Rational with its shipped coefficients and a fused GatedMLP with its own
# output width; the slow lane: every case. (The Activation wrapper of both frameworks is
# compared on a sample of names in test_layer_contract.py.)
FAST = ("Rational-16", "GatedMLP-21")
# Rational with degrees or versions other than (5, 4) A is fitted when built (cached per
# process): its cases share a worker with the other tests that build that fit.
FIT = "rational-gelu-B-fit"
AGREE = [
    lane(case, fast=i in FAST, id=i, group=FIT if case[1].get("version") else None)
    for case, i in zip(CASES, IDS, strict=True)
    if case[0] not in layers.LEARNABLE
]
ROUND_TRIP = [
    lane(case, fast=False, id=i, group=FIT if case[1].get("version") else None)
    for case, i in zip(CASES, IDS, strict=True)
]


def _linen(cls: str, kwargs: dict[str, Any]) -> nn.Module:
    kwargs = dict(kwargs)
    if cls == "Activation":
        return jl.Activation(kwargs.pop("fn"), **kwargs)
    return getattr(jl, cls)(**kwargs)


def _np_init(key: Any, shape: tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
    """A kernel initializer from numpy (a random one compiles a program per shape)."""
    rng = np.random.default_rng(sum(shape))
    return jnp.asarray(rng.standard_normal(shape) / np.sqrt(shape[0]), dtype)


# The layers with random initial weights (compared by shape only).
RANDOM_INIT = ("GatedMLP", "MetaACON")


def _nnx(cls: str, kwargs: dict[str, Any], shape: tuple[int, ...]) -> nnx.Module:
    kwargs = dict(kwargs)
    if cls == "Activation":
        return jn.Activation(kwargs.pop("fn"), **kwargs)
    if cls == "GatedMLP":
        return jn.GatedMLP(shape[-1], kernel_init=_np_init, rngs=nnx.Rngs(0), **kwargs)
    if cls == "MetaACON":
        return jn.MetaACON(kernel_init=_np_init, rngs=nnx.Rngs(0), **kwargs)
    return getattr(jn, cls)(**kwargs)


def _input(shape: tuple[int, ...]) -> jax.Array:
    """Test inputs from numpy (jax.random.normal compiles a program per shape)."""
    return jnp.asarray(2.5 * np.random.default_rng(7).standard_normal(shape), jnp.float32)


def _nnx_apply(model: nnx.Module) -> tuple[Any, Any]:
    """(pure params, f(params, x)) for an nnx model."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def f(p: Any, x: jax.Array) -> jax.Array:
        state = jax.tree.map(lambda v: v, params)
        nnx.replace_by_pure_dict(state, p)
        return nnx.merge(graphdef, state, rest)(x)

    return nnx.to_pure_dict(params), f


def _linen_variables(model: nn.Module, x: jax.Array, values: bool = True) -> Any:
    """The model's variables: from init under jit (the forward it runs is traced, not
    compiled, its output being unused), or with ``values=False`` the abstract variables
    filled from numpy (no program at all)."""
    if values:
        return jax.jit(model.init)(jax.random.key(3), x)
    rng = np.random.default_rng(3)
    return jax.tree.map(
        lambda v: jnp.asarray(rng.standard_normal(v.shape), v.dtype),
        jax.eval_shape(model.init, jax.random.key(3), x),
    )


def _perturb(tree: Any) -> Any:
    """Moves every parameter off its init value, so agreement is not by default."""
    leaves, treedef = jax.tree.flatten(tree)
    rng = np.random.default_rng(11)
    out = [
        jnp.asarray(np.asarray(leaf) + 0.05 * rng.standard_normal(leaf.shape), leaf.dtype)
        for leaf in leaves
    ]
    return jax.tree.unflatten(treedef, out)


@pytest.mark.parametrize("case", AGREE)
def test_linen_and_nnx_agree(case: tuple[str, dict[str, Any], tuple[int, ...]]) -> None:
    cls, kwargs, shape = case
    x = _input(shape)
    lmod = _linen(cls, kwargs)
    variables = _linen_variables(lmod, x, values=cls not in RANDOM_INIT)
    lparams = nn.meta.unbox(variables.get("params", {}))
    nparams, nf = _nnx_apply(_nnx(cls, kwargs, shape))
    # Same names, shapes and init values (random inits aside).
    chex.assert_trees_all_equal_shapes_and_dtypes(lparams, nparams)
    if cls not in RANDOM_INIT:
        chex.assert_trees_all_equal(lparams, nparams)
    params = _perturb(lparams)

    def lf(p: Any, x: jax.Array) -> jax.Array:
        return lmod.apply({"params": p}, x)

    def grads(f: Any, p: Any, x: jax.Array) -> Any:
        return jax.grad(lambda p, x: jnp.sum(jnp.sin(f(p, x))), argnums=(0, 1))(p, x)

    # One program for both frameworks, both dtypes and the gradients.
    @jax.jit
    def run(p: Any, x: jax.Array) -> dict[str, Any]:
        out = {"grads": (grads(lf, p, x), grads(nf, p, x))}
        for dtype in (jnp.float32, jnp.bfloat16):
            out[jnp.dtype(dtype).name] = (lf(p, x.astype(dtype)), nf(p, x.astype(dtype)))
        return out

    out = run(params, x)
    for dtype in (jnp.float32, jnp.bfloat16):
        yl, yn = out[jnp.dtype(dtype).name]
        chex.assert_type(yl, dtype)
        chex.assert_trees_all_equal(yl, yn)
    gl, gn = out["grads"]
    chex.assert_trees_all_close(gl, gn, rtol=1e-6, atol=1e-6)
    chex.assert_tree_all_finite(gl)


def _orbax(tree: Any, path: Any) -> Any:
    """``tree`` saved with orbax and restored."""
    with ocp.StandardCheckpointer() as ckpt:
        ckpt.save(path, tree)
        ckpt.wait_until_finished()
        return ckpt.restore(path, jax.tree.map(ocp.utils.to_shape_dtype_struct, tree))


@pytest.mark.parametrize("case", ROUND_TRIP)
def test_params_round_trip_bit_exact(
    case: tuple[str, dict[str, Any], tuple[int, ...]], tmp_path: Any
) -> None:
    cls, kwargs, shape = case
    x = _input(shape)
    # Values from numpy in the variables' structure (boxes and all): what is stored
    # does not matter, only that it comes back bit for bit.
    variables = _linen_variables(_linen(cls, kwargs), x, values=False)
    restored = serialization.from_bytes(variables, serialization.to_bytes(variables))
    chex.assert_trees_all_equal(restored, variables, strict=True)
    lparams = nn.meta.unbox(variables).get("params", {})
    if lparams:
        chex.assert_trees_all_equal(_orbax(lparams, tmp_path / "linen"), lparams, strict=True)

    model = _nnx(cls, kwargs, shape)
    state = nnx.state(model, nnx.Param)
    pure = _perturb(nnx.to_pure_dict(state))
    back = serialization.msgpack_restore(serialization.msgpack_serialize(pure))
    chex.assert_trees_all_equal(back, pure)
    if not pure:
        return
    loaded = _orbax(pure, tmp_path / "nnx")
    chex.assert_trees_all_equal(loaded, pure, strict=True)
    # The restored parameters are what the model holds (and computes with) afterwards.
    nnx.replace_by_pure_dict(state, loaded)
    nnx.update(model, state)
    chex.assert_trees_all_equal(nnx.to_pure_dict(nnx.state(model, nnx.Param)), pure, strict=True)


_SHARDED = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from flax import nnx
    import jaxact.nnx as jn
    from jax.sharding import NamedSharding, PartitionSpec as P

    assert jax.device_count() == 8, jax.devices()

    def init(key, shape, dtype=jnp.float32):
        # Kernels from numpy: a random initializer compiles a program per shape and sharding.
        rng = np.random.default_rng(sum(shape))
        return jnp.asarray(rng.standard_normal(shape) / np.sqrt(shape[0]), dtype)

    class Net(nnx.Module):
        def __init__(self, rngs):
            s = ("model",)
            self.l1 = nnx.Linear(16, 32, rngs=rngs,
                                 kernel_init=nnx.with_partitioning(init, (None, "model")))
            self.a1 = jn.PReLU(num_channels=32, negative_slope_init="torch", sharding=s)
            self.a2 = jn.Snake(num_channels=32, sharding=s)
            self.a3 = jn.Swish(num_channels=32, sharding=s)
            self.ffn = jn.GatedMLP(32, 64, kernel_init=init, rngs=rngs)
            self.a4 = jn.Rational(approx_func="gelu")
            self.a5 = jn.Activation("gelu_pytorch_tanh")
            self.out = nnx.Linear(32, 4, kernel_init=init, rngs=rngs)

        def __call__(self, x):
            h = self.a3(self.a2(self.a1(self.l1(x))))
            return self.out(self.a5(self.a4(self.ffn(h))))

    x = np.random.default_rng(1).standard_normal((64, 16)).astype(np.float32)
    forward = nnx.jit(lambda m, x: m(x))
    mesh = jax.make_mesh((2, 4), ("data", "model"))
    with jax.set_mesh(mesh):
        model = Net(nnx.Rngs(0))
        specs = nnx.get_partition_spec(nnx.state(model))
        specs = nnx.to_pure_dict(specs)
        assert specs["a1"]["negative_slope"] == P("model"), specs["a1"]
        assert specs["l1"]["kernel"] == P(None, "model"), specs["l1"]
        state = nnx.state(model, nnx.Param)
        xs = jax.device_put(x, NamedSharding(mesh, P("data")))
        y = forward(model, xs)
        assert len(y.sharding.device_set) == 8
    pure = jax.tree.map(np.asarray, nnx.to_pure_dict(state))
    one = jax.make_mesh((1, 1), ("data", "model"), devices=jax.devices()[:1])
    with jax.set_mesh(one):
        single = Net(nnx.Rngs(0))
        ref_state = nnx.state(single, nnx.Param)
        nnx.replace_by_pure_dict(ref_state, pure)
        nnx.update(single, ref_state)
        ref = forward(single, jnp.asarray(x))
        assert len(ref.sharding.device_set) == 1
    err = float(np.max(np.abs(np.asarray(y) - np.asarray(ref))))
    scale = float(np.max(np.abs(np.asarray(ref))))
    print("max abs diff", err, "scale", scale)
    assert err <= 1e-5 * scale, err
    """
)


@pytest.mark.slow
def test_sharded_nnx_model_matches_one_device() -> None:
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", _SHARDED],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "max abs diff" in proc.stdout


# ----------------------------------------------------------------------------
# The shared contract itself.


@pytest.mark.parametrize("layer", sorted(layers.LEARNABLE))
def test_transforms_invert(layer: str) -> None:
    for w in (*layers.weights(layer), *layers.weights(layer, logscale=True)):
        for value in (0.3, 1.0, 2.5, 40.0):
            if value <= w.offset:
                continue
            raw = layers.raw_value(w, value, layer)
            back = float(layers.natural(w, jnp.asarray(raw, jnp.float32)))
            assert math.isclose(back, value, rel_tol=1e-5), (layer, w, value, back)
        fn = jaxact.get(layers.LEARNABLE[layer].fn)
        assert w.arg in inspect.signature(fn).parameters, (layer, w.arg)


def test_positive_transforms_stay_positive() -> None:
    weights = (layers.Weight("b", "exp"), layers.Weight("a", "softplus", 0.5))
    for w in (*weights, layers.Weight("c", "abs")):
        for raw in (-1e4, -80.0, 0.0, 80.0):
            v = layers.natural(w, jnp.float32(raw))
            assert bool(jnp.isfinite(v)) and float(v) > 0, (w, raw, v)


def test_contract_errors() -> None:
    w = layers.LEARNABLE["Swish"].weights[0]
    with pytest.raises(ValueError, match="Swish: argument 'beta_init'.*positive"):
        layers.raw_value(w, -1.0, "Swish")
    with pytest.raises(ValueError, match="Swish: argument 'beta_init'.*finite"):
        layers.raw_value(w, float("nan"), "Swish")
    with pytest.raises(TypeError, match="Swish: argument 'beta_init'.*real number"):
        layers.raw_value(w, "1", "Swish")
    with pytest.raises(ValueError, match="PReLU: argument 'num_channels'"):
        layers.check_int("PReLU", "num_channels", 0, optional=True)
    with pytest.raises(ValueError, match="PReLU: argument 'x'.*channels"):
        layers.to_channel(jnp.ones(3), jnp.ones((2, 4)), -1, "PReLU")
    with pytest.raises(ValueError, match="Activation: argument 'fn'"):
        layers.resolve("no_such_activation", "Activation")
    with pytest.raises(ValueError, match="Rational: argument 'approx_func'"):
        layers.rational_init("cosh", (5, 4), "A", "Rational")
    with pytest.raises(ValueError, match="Rational: argument 'degrees'"):
        layers.rational_init("gelu", (5,), "A", "Rational")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="swap_activations: argument 'old'"):
        layers.matcher("no_such_activation", "swap_activations")


def test_activation_names_and_matching() -> None:
    assert layers.activation_name(jax.nn.relu) == "relu"
    assert layers.activation_name(nn.relu) == "relu"
    assert layers.activation_name(jnp.tanh) == "tanh"
    assert layers.activation_name(jaxact.swish) == "silu"
    assert layers.activation_name("torch:GELU") == "gelu_erf"
    assert layers.activation_name(lambda x: x) is None
    # A dispatcher keeps its own name (jax.nn.gelu is not matched by "gelu_tanh").
    assert layers.activation_name(jax.nn.gelu) == layers.activation_name("gelu") == "gelu"
    assert layers.activation_name("no_such_activation") is None
    m = layers.matcher(["relu", "gelu_pytorch_tanh"], "swap_activations")
    assert m(jax.nn.relu) and m(jaxact.gelu_tanh) and not m(jaxact.gelu_erf)
    assert layers.llama_hidden(4096) == 11008
    assert layers.gate_function("swiglu", "GatedMLP") is jaxact.silu


def test_layer_activation() -> None:
    """What swap_activations and the monitor see in a layer, for both frameworks."""
    for frontend in (jl, jn):
        assert layers.layer_activation(frontend.Activation("elu", alpha=0.5)) == ("elu", False)
        assert layers.layer_activation(frontend.PReLU()) == ("prelu", False)
        assert layers.layer_activation(frontend.Snake(logscale=True)) == ("snake", False)
        assert layers.layer_activation(frontend.Rational()) == ("rational", False)
    rrelu = jl.Activation("rrelu", training=True)
    assert layers.layer_activation(rrelu) == ("rrelu", True)
    assert layers.layer_activation(nn.PReLU()) == ("prelu", False)
    assert layers.layer_activation(nnx.PReLU()) == ("prelu", False)
    assert layers.layer_activation(jl.GatedMLP()) is None
    assert layers.layer_activation(nn.Dense(3)) is None and layers.layer_activation("relu") is None

    class Mine(jn.Swish):  # a subclass computes what its jaxact base computes
        pass

    assert layers.layer_activation(Mine()) == ("swish_beta", False)


# ----------------------------------------------------------------------------
# swap_activations: what is matched, what a learnable replacement starts from,
# and the same errors in both frameworks.


def test_partials_are_named_by_what_they_compute() -> None:
    for gelu in (jax.nn.gelu, nn.gelu, nnx.gelu, jaxact.gelu):
        exact = functools.partial(gelu, approximate=False)
        assert layers.activation_name(exact) == "gelu_erf"
        assert layers.activation_name(functools.partial(gelu, approximate=True)) == "gelu_tanh"
        assert layers.activation_name(functools.partial(gelu)) == "gelu"  # still a dispatcher
        assert layers.matcher("gelu_erf", "s")(exact) and layers.matcher("torch:GELU", "s")(exact)
        assert not layers.matcher("gelu_tanh", "s")(exact)
        assert not layers.matcher("gelu", "s")(exact)
        assert layers.matcher("gelu", "s")(gelu)
    leaky = functools.partial(jax.nn.leaky_relu, negative_slope=0.2)
    assert layers.activation_name(leaky) == "leaky_relu"
    assert layers.matcher("keras:LeakyReLU", "s")(leaky)

    # An unknown callable as `old` matches itself and partials of it.
    def mine(x: Any, scale: float = 1.0) -> Any:
        return x * scale

    m = layers.matcher(mine, "s")
    assert m(mine) and m(functools.partial(mine, scale=2.0)) and not m(jax.nn.relu)


def test_layer_target_binds_activation_params() -> None:
    for frontend in (jl, jn):
        exact = layers.layer_target(frontend.Activation("gelu", approximate=False))
        assert layers.activation_name(exact) == "gelu_erf"
        assert layers.layer_target(frontend.Activation("gelu")) == "gelu"
        leaky = layers.layer_target(frontend.Activation("leaky_relu", negative_slope=0.2))
        assert layers.carried_values(leaky, "PReLU") == {"negative_slope": 0.2}
        assert layers.layer_target(frontend.PReLU()) == "prelu"
    assert layers.layer_target(nn.Dense(3)) is None and layers.layer_target(jax.nn.relu) is None


def test_carried_values() -> None:
    assert layers.carried_values("keras:leaky_relu", "PReLU") == {"negative_slope": 0.2}
    assert layers.carried_values("keras:LeakyReLU", "PReLU") == {"negative_slope": 0.3}
    leaky = functools.partial(jax.nn.leaky_relu, negative_slope=-0.1)
    assert layers.carried_values(leaky, "PReLU") == {"negative_slope": -0.1}
    assert layers.carried_values(jax.nn.leaky_relu, "PReLU") == {"negative_slope": 0.01}
    assert layers.carried_values("torch:PReLU", "PReLU") == {"negative_slope": 0.25}
    snake = functools.partial(jaxact.snake, alpha=2.0)
    assert layers.carried_values(snake, "Snake", logscale=True) == {"alpha": 2.0}
    beta = functools.partial(jaxact.snake_beta, beta=3.0)
    assert layers.carried_values(beta, "SnakeBeta") == {"alpha": 1.0, "beta": 3.0}
    # Other rows carry nothing: relu into PReLU, elu into PELU, leaky into Swish.
    assert layers.carried_values("relu", "PReLU") == {}
    assert layers.carried_values(functools.partial(jax.nn.elu, alpha=2.0), "PELU") == {}
    assert layers.carried_values("leaky_relu", "Swish") == {}
    assert layers.carried_values(None, "PReLU") == {}


class _Sites(nnx.Module):
    def __init__(self) -> None:
        self.a = jax.nn.relu
        self.b = jax.nn.relu
        self.c = jax.nn.relu

    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.a(self.a(x))
        for _ in range(2):
            x = self.b(x)
        return self.c(x)


def test_call_sites() -> None:
    (line_a, line_a2), looped = layers.call_sites(_Sites, "a")
    assert line_a == line_a2 and not looped
    assert layers.call_sites(_Sites, "b")[1] and len(layers.call_sites(_Sites, "b")[0]) == 1
    assert layers.call_sites(_Sites, "c") == ((line_a + 3,), False)
    assert layers.call_sites(_Sites, "d") == ((), False)
    new = jn.PReLU()
    assert "_Sites.a is called at 2 call sites" in str(
        layers.shared_note("swap", _Sites, "a", new, "nnx")
    )
    assert "in a loop" in str(layers.shared_note("swap", _Sites, "b", new, "nnx"))
    assert layers.shared_note("swap", _Sites, "c", new, "nnx") is None


class _LinenOnlyInline(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return nn.relu(nn.Dense(3)(x))


class _NnxOnlyInline(nnx.Module):
    def __init__(self) -> None:
        self.dense = nnx.Linear(2, 3, rngs=nnx.Rngs(0))

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.relu(self.dense(x))


_LinenOnlyInline.__name__ = _NnxOnlyInline.__name__ = "OnlyInline"


def _linen_seq() -> nn.Module:
    return nn.Sequential([nn.Dense(3), jax.nn.relu])


def _nnx_seq() -> nnx.Module:
    return nnx.Sequential(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), jax.nn.relu)


# (what goes wrong, swap_activations's arguments but the model; the model is
# "inline" (an activation called inline only) or "seq" (a relu attribute)).
SWAP_MISTAKES: list[tuple[str, str, tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    ("unknown old", "seq", ("gelu_nwe", "gelu"), {}, ValueError, "'old'.*closest names: gelu"),
    ("old of a bad type", "seq", (3, "gelu"), {}, TypeError, "'old'"),
    ("empty old", "seq", ([], "gelu"), {}, ValueError, "'old' must name at least one"),
    ("old a class", "seq", ("PReLU-class", "gelu"), {}, TypeError, "'old'.*layer class"),
    ("unknown new", "seq", ("relu", "gelu_nwe"), {}, ValueError, "'new'.*closest names: gelu"),
    ("new of a bad type", "seq", ("relu", 3), {}, TypeError, "'new'"),
    ("new a class", "seq", ("relu", "PReLU-class"), {}, TypeError, "'new'"),
    ("new of the other framework", "seq", ("relu", "other-PReLU"), {}, TypeError, "'new'.*flax"),
    ("bad where", "seq", ("relu", "gelu"), {"where": 3}, TypeError, "'where'"),
    (
        "nothing matched",
        "inline",
        ("relu", "gelu"),
        {},
        ValueError,
        "'old' 'relu' matched no activation.*OnlyInline.*inline.*jaxact.substitute",
    ),
    (
        "where rejected all",
        "seq",
        ("relu", "gelu"),
        {"where": lambda path, obj: False},
        ValueError,
        "'old' 'relu' matched 1 activation in Sequential, but the 'where' filter.*substitute",
    ),
    ("a model of the other framework", "other", ("relu", "gelu"), {}, TypeError, "'model'"),
    ("no model", "none", ("relu", "gelu"), {}, TypeError, "'model'"),
]


def _swap_mistake(frontend: Any, case: tuple[Any, ...]) -> Exception:
    _, model_kind, args, kwargs, _, _ = case
    other = jn if frontend is jl else jl
    this_framework = frontend is jl
    models = {
        "seq": _linen_seq if this_framework else _nnx_seq,
        "inline": _LinenOnlyInline if this_framework else _NnxOnlyInline,
        "other": _nnx_seq if this_framework else _linen_seq,
        "none": lambda: jax.nn.relu,
    }
    values = {"PReLU-class": frontend.PReLU, "other-PReLU": other.PReLU()}
    args = tuple(values.get(a, a) if isinstance(a, str) else a for a in args)
    with pytest.raises(Exception) as info:
        frontend.swap_activations(models[model_kind](), *args, **kwargs)
    return info.value


@pytest.mark.parametrize("case", SWAP_MISTAKES, ids=[c[0] for c in SWAP_MISTAKES])
def test_swap_mistakes_raise_alike_in_both_frameworks(case: tuple[Any, ...]) -> None:
    """linen's and nnx's swap_activations raise the same type with the same message."""
    kind, pattern = case[4], case[5]
    errors = {
        name: _swap_mistake(frontend, case) for name, frontend in (("linen", jl), ("nnx", jn))
    }
    messages = {}
    for name, error in errors.items():
        assert type(error) is kind, (name, error)
        message = str(error)
        assert re.match(rf"jaxact\.{name}\.swap_activations: argument ", message), message
        assert re.search(pattern, message), (name, message)
        # The same message but for the framework's names and its inline example.
        message = re.sub(r"\(`[^`]*`[^)]*\)", "(EXAMPLE)", message)
        messages[name] = re.sub(r"linen|nnx", "FRAMEWORK", message)
    assert messages["linen"] == messages["nnx"]
