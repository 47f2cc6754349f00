"""jaxact.linen: the generic Activation layer over the whole name table, the
learnable layers against the jaxact functions called with their parameters,
Rational, GatedMLP, swap_activations and the error messages."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import PartitionSpec

import jaxact
import jaxact.linen as jl
from jaxact._src import layers, registry
from tests.accuracy import lane

DTYPES = (jnp.float32, jnp.bfloat16)


def _x(shape: tuple[int, ...], seed: int = 7, scale: float = 2.5) -> jax.Array:
    """Test inputs from numpy (jax.random.normal compiles a program per shape)."""
    return jnp.asarray(scale * np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _filled(model: nn.Module, x: jax.Array, **kwargs: Any) -> Any:
    """``model``'s variables from numpy in the structure init gives (found by abstract
    evaluation): a random initializer compiles a program per shape."""
    rng = np.random.default_rng(0)
    return jax.tree.map(
        lambda v: jnp.asarray(
            rng.standard_normal(v.shape) / np.sqrt(v.shape[0] if v.ndim else 1), v.dtype
        ),
        jax.eval_shape(functools.partial(model.init, **kwargs), jax.random.key(0), x),
    )


# ----------------------------------------------------------------------------
# Activation (the sampled wrapper test is in test_layer_contract.py).


def test_rrelu_training_draws_from_the_activation_stream() -> None:
    act = jl.Activation("rrelu", training=True)
    x = -jnp.abs(_x((64,))) - 0.1
    y = act.apply({}, x, rngs={"activation": jax.random.key(0)})
    slopes = np.asarray(y / x)
    assert slopes.min() >= 0.125 - 1e-6 and slopes.max() <= 1 / 3 + 1e-6
    assert len(np.unique(slopes.round(5))) > 10  # one slope per element
    chex.assert_trees_all_equal(
        act.apply({}, jnp.abs(x), rngs={"activation": jax.random.key(0)}), jnp.abs(x)
    )
    with pytest.raises(ValueError, match="Activation.*'rngs'.*'activation'"):
        act.apply({}, x)


def test_activation_arguments() -> None:
    x = _x((3, 4))
    a = jl.Activation("elu", alpha=0.5)
    b = jl.Activation("elu", {"alpha": 0.5})
    assert a == b and a.params == {"alpha": 0.5}
    chex.assert_trees_all_equal(a.apply({}, x), jaxact.elu(x, 0.5))
    chex.assert_trees_all_equal(a.clone(params={"alpha": 2.0}).apply({}, x), jaxact.elu(x, 2.0))
    assert a.copy(name="act").name == "act"
    soft = jl.Activation("softmax", axis=0)
    chex.assert_trees_all_equal(soft.apply({}, x), jaxact.softmax(x, axis=0))
    # Library presets and callables.
    chex.assert_trees_all_equal(
        jl.Activation("keras:leaky_relu").apply({}, x), jaxact.leaky_relu(x, 0.2)
    )
    chex.assert_trees_all_equal(jl.Activation(jnp.tanh).apply({}, x), jnp.tanh(x))
    # The compute dtype: explicit, and integers promoted.
    y = jl.Activation("gelu_tanh", dtype=jnp.float32).apply({}, x.astype(jnp.bfloat16))
    chex.assert_type(y, jnp.float32)
    chex.assert_trees_all_equal(y, jaxact.gelu_tanh(x.astype(jnp.bfloat16).astype(jnp.float32)))
    chex.assert_type(jl.Activation("relu").apply({}, jnp.arange(3)), jnp.float32)

    # Inside a compact body: auto-named, or named explicitly.
    class Net(nn.Module):
        @nn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            x = jl.Activation("leaky_relu", negative_slope=0.3)(nn.Dense(3)(x))
            return jl.Activation("elu", name="act")(x)

    variables = Net().init(jax.random.key(0), x)
    k = variables["params"]["Dense_0"]
    expected = jaxact.elu(jaxact.leaky_relu(x @ k["kernel"] + k["bias"], 0.3))
    chex.assert_trees_all_close(Net().apply(variables, x), expected, rtol=1e-6)


# ----------------------------------------------------------------------------
# Learnable layers (their math against the table: test_layer_contract.py).


def _perturb(tree: Any, scale: float = 0.05) -> Any:
    leaves, treedef = jax.tree.flatten(tree)
    rng = np.random.default_rng(11)
    out = [
        jnp.asarray(np.asarray(leaf) + scale * rng.standard_normal(leaf.shape), leaf.dtype)
        for leaf in leaves
    ]
    return jax.tree.unflatten(treedef, out)


def test_prelu_presets_and_flax_default() -> None:
    x = -jnp.ones((2, 3))
    for preset, slope in (("flax", 0.01), ("torch", 0.25), ("keras", 0.0)):
        v = jl.PReLU(preset).init(jax.random.key(0), x)
        assert float(v["params"]["negative_slope"]) == np.float32(slope), preset
    flax_prelu = nn.PReLU()
    chex.assert_trees_all_equal(
        jl.PReLU().init(jax.random.key(0), x), flax_prelu.init(jax.random.key(0), x)
    )
    chex.assert_trees_all_close(
        jl.PReLU().apply(flax_prelu.init(jax.random.key(0), x), 3 * x),
        flax_prelu.apply(flax_prelu.init(jax.random.key(0), x), 3 * x),
        rtol=1e-6,
    )
    scale, bias = layers.STAR_RELU_INIT["timm"]
    v = jl.StarReLU().init(jax.random.key(0), x)
    assert float(v["params"]["scale"]) == scale and float(v["params"]["bias"]) == bias


def test_param_dtype() -> None:
    layer = jl.Swish(num_channels=3, param_dtype=jnp.bfloat16)
    x = _x((2, 3))
    v = layer.init(jax.random.key(0), x)
    chex.assert_type(v["params"]["log_beta"], jnp.bfloat16)
    chex.assert_type(layer.apply(v, x), jnp.float32)


SHARDED = [
    (jl.PReLU(num_channels=6, sharding=("model",)), (4, 6), {"negative_slope"}),
    (jl.Swish(num_channels=6, sharding=("model",)), (4, 6), {"log_beta"}),
    (jl.Snake(num_channels=6, logscale=True, sharding=("model",)), (4, 6), {"log_alpha"}),
    (jl.SnakeBeta(num_channels=6, sharding=("model",)), (4, 6), {"alpha", "beta"}),
    (jl.ACONC(num_channels=6, sharding=("model",)), (4, 6), {"p1", "p2", "log_beta"}),
    (jl.SMU(num_channels=6, sharding=("model",)), (4, 6), {"log_mu"}),
    (jl.PELU(num_channels=6, sharding=("model",)), (4, 6), {"log_a", "log_b"}),
    (jl.MetaACON(6, ratio=2, sharding=("model",)), (4, 3, 6), {"p1", "p2"}),
    (jl.PReLU(sharding=("model",)), (4, 6), set()),  # a scalar slope stays unannotated
    (jl.StarReLU(sharding=("model",)), (4, 6), set()),
]


# MetaACON (the slowest to build) is slow here; its w1/w2 specs are checked in the fast
# lane by test_nnx.test_sharding_annotates_per_channel_params.
@pytest.mark.parametrize(
    "case",
    [
        lane(c, fast=not isinstance(c[0], jl.MetaACON), id=f"{type(c[0]).__name__}-{i}")
        for i, c in enumerate(SHARDED)
    ],
)
def test_partitioning_metadata(case: tuple[nn.Module, tuple[int, ...], set[str]]) -> None:
    layer, shape, channel = case
    x = _x(shape)
    variables = layer.init(jax.random.key(0), x)
    specs = nn.get_partition_spec(variables)["params"]
    for name, value in variables["params"].items():
        if name in channel:
            assert isinstance(value, nn.Partitioned), name
            assert specs[name] == PartitionSpec("model"), (name, specs[name])
        elif name in ("w1", "w2"):
            assert isinstance(value, nn.Partitioned), name
            want = PartitionSpec(None, "model") if name == "w1" else PartitionSpec("model", None)
            assert specs[name] == want
        else:
            assert not isinstance(value, nn.Partitioned), name
            assert specs[name] == PartitionSpec()
    # Boxed and unboxed variables compute the same.
    chex.assert_trees_all_equal(layer.apply(variables, x), layer.apply(nn.meta.unbox(variables), x))


# ----------------------------------------------------------------------------
# Rational.


@pytest.mark.parametrize(
    ("approx", "target", "bound"),
    [
        ("leaky_relu", lambda x: jaxact.leaky_relu(x, 0.01), 0.095),
        ("gelu", jaxact.gelu_erf, 4.5e-3),
    ],
)
def test_rational_init_approximates(approx: str, target: Callable, bound: float) -> None:
    layer = jl.PAU(approx_func=approx)
    x = jnp.linspace(-5.0, 5.0, 2001)
    variables = layer.init(jax.random.key(0), x)
    err = float(jnp.max(jnp.abs(layer.apply(variables, x) - target(x))))
    assert err <= bound, err


@pytest.mark.slow
def test_rational_fitted_init() -> None:
    """Degrees other than (5, 4) version A start from a fit computed at init."""
    x = jnp.linspace(-5.0, 5.0, 101)
    layer = jl.Rational("sigmoid", degrees=(3, 2), version="B")
    p = layer.init(jax.random.key(0), x)["params"]
    num, den = layers.rational_init("sigmoid", (3, 2), "B", "test")
    chex.assert_shape((p["numerator"], p["denominator"]), [(4,), (2,)])
    chex.assert_trees_all_equal(p["numerator"], jnp.asarray(num, jnp.float32))
    chex.assert_trees_all_equal(p["denominator"], jnp.asarray(den, jnp.float32))
    y = layer.apply({"params": p}, x)
    assert float(jnp.max(jnp.abs(y - jaxact.sigmoid(x)))) < 0.05


def test_rational_versions_and_version_d_noise() -> None:
    x = _x((8, 6))
    # Coefficients of the shipped (5, 4) gelu fit (a version-D init would fit anew: slow).
    p = jl.Rational("gelu").init(jax.random.key(0), x)["params"]
    num, den = jaxact.RATIONAL_INIT["gelu"]
    chex.assert_trees_all_equal(
        p,
        {"numerator": jnp.asarray(num, jnp.float32), "denominator": jnp.asarray(den, jnp.float32)},
    )
    p = _perturb(p, 0.01)
    d = jl.Rational("gelu", version="D")
    b = jaxact.rational(x, p["numerator"], p["denominator"], version="B")
    # Deterministic: version B, no PRNG needed (attribute or call argument).
    chex.assert_trees_all_equal(d.apply({"params": p}, x, deterministic=True), b)
    chex.assert_trees_all_equal(d.clone(deterministic=True).apply({"params": p}, x), b)

    # Training: numerator noise U(0.9, 1.1) from the "dropout" stream.
    def train(key: int) -> jax.Array:
        return d.apply({"params": p}, x, deterministic=False, rngs={"dropout": jax.random.key(key)})

    y1, y2 = train(1), train(2)
    chex.assert_trees_all_equal(y1, train(1))
    assert not np.array_equal(y1, b) and not np.array_equal(y1, y2)
    with pytest.raises(ValueError, match="Rational.*'rngs'.*'dropout'"):
        d.apply({"params": p}, x, deterministic=False)
    with pytest.raises(ValueError, match="Rational.*'deterministic'"):
        d.apply({"params": p}, x)
    with pytest.raises(ValueError, match="Rational.*'deterministic'"):
        d.clone(deterministic=True).apply({"params": p}, x, deterministic=True)
    with pytest.raises(ValueError, match="Rational.*'degrees'.*stored"):
        jl.Rational("gelu", degrees=(4, 4)).apply({"params": p}, x)
    # Versions A-C with the same coefficients; they ignore `deterministic`.
    for version in ("A", "B", "C"):
        layer = jl.Rational("gelu", version=version)
        want = jaxact.rational(x, p["numerator"], p["denominator"], version=version)
        chex.assert_trees_all_equal(layer.apply({"params": p}, x), want)
        chex.assert_trees_all_equal(layer.apply({"params": p}, x, deterministic=False), want)


# ----------------------------------------------------------------------------
# GatedMLP.


def _mlp_reference(p: Any, x: jax.Array, act: Callable, bias: bool) -> jax.Array:
    def dense(q: Any, h: jax.Array) -> jax.Array:
        return h @ q["kernel"] + (q["bias"] if bias else 0.0)

    return dense(p["down"], act(dense(p["gate"], x)) * dense(p["up"], x))


@pytest.mark.slow
@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("variant", list(layers.GATES))
def test_gated_mlp_fused_matches_unfused(variant: str, use_bias: bool) -> None:
    x = _x((4, 6))
    unfused = jl.GatedMLP(8, 5, activation=variant, use_bias=use_bias)
    fused = jl.GatedMLP(8, 5, activation=variant, use_bias=use_bias, fused=True)
    p = _filled(unfused, x)["params"]
    shapes = jax.tree.map(jnp.shape, p)
    assert shapes["gate"]["kernel"] == (6, 8) and shapes["down"]["kernel"] == (8, 5)
    assert ("bias" in shapes["up"]) == use_bias
    fp = {
        "gate_up": jax.tree.map(lambda u, g: jnp.concatenate([u, g], -1), p["up"], p["gate"]),
        "down": p["down"],
    }
    chex.assert_trees_all_equal_shapes(
        fp, jax.eval_shape(fused.init, jax.random.key(0), x)["params"]
    )
    y = unfused.apply({"params": p}, x)
    act = registry.FUNCTIONS[layers.GATES[variant]]
    chex.assert_trees_all_close(y, _mlp_reference(p, x, act, use_bias), rtol=1e-5, atol=1e-5)
    chex.assert_trees_all_close(fused.apply({"params": fp}, x), y, rtol=1e-6, atol=1e-6)
    yb = unfused.apply({"params": p}, x.astype(jnp.bfloat16))
    chex.assert_type(yb, jnp.bfloat16)


def test_gated_mlp_defaults_dropout_and_callables() -> None:
    x = _x((4, 6))
    block = jl.GatedMLP()
    p = _filled(block, x)["params"]
    assert p["up"]["kernel"].shape == (6, layers.llama_hidden(6)) == (6, 256)
    assert set(p) == {"gate", "up", "down"} and set(p["up"]) == {"kernel"}
    chex.assert_trees_all_close(
        block.apply({"params": p}, x), _mlp_reference(p, x, jaxact.silu, False), rtol=1e-5
    )
    abstract = jax.eval_shape(block.init, jax.random.key(0), jnp.zeros((1, 4096)))
    assert abstract["params"]["gate"]["kernel"].shape == (4096, 11008)
    # Any activation name or callable as the gate.
    for act, fn in (("gelu_pytorch_tanh", jaxact.gelu_tanh), (jnp.tanh, jnp.tanh)):
        b = jl.GatedMLP(8, activation=act)
        q = _filled(b, x)["params"]
        chex.assert_trees_all_close(
            b.apply({"params": q}, x), _mlp_reference(q, x, fn, False), rtol=1e-5
        )
    # T5 v1.1: dropout 0.1 on the hidden activations.
    t5 = jl.GatedMLP(16, activation="geglu_tanh", dropout_rate=0.5)
    v = _filled(t5, x, deterministic=True)
    q = v["params"]
    ref = _mlp_reference(q, x, jaxact.gelu_tanh, False)
    chex.assert_trees_all_close(t5.apply(v, x, deterministic=True), ref, rtol=1e-5)
    chex.assert_trees_all_close(t5.clone(deterministic=True).apply(v, x), ref, rtol=1e-5)
    y1 = t5.apply(v, x, deterministic=False, rngs={"dropout": jax.random.key(1)})
    y2 = t5.apply(v, x, deterministic=False, rngs={"dropout": jax.random.key(1)})
    chex.assert_trees_all_equal(y1, y2)
    assert not np.allclose(y1, ref)
    with pytest.raises(ValueError, match="GatedMLP.*'deterministic'"):
        t5.apply(v, x)
    with pytest.raises(ValueError, match="GatedMLP.*'rngs'.*'dropout'"):
        t5.apply(v, x, deterministic=False)


# ----------------------------------------------------------------------------
# swap_activations.


class Block(nn.Module):
    features: int
    act: Callable[..., Any] = nn.relu  # a function field
    act_name: str = "relu"  # a string config field

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.act(nn.Dense(self.features)(x))
        return jaxact.get(self.act_name)(nn.Dense(self.features)(x))


class Net(nn.Module):
    block: Block
    post: nn.Module  # an Activation submodule field
    head: nn.Sequential

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(self.post(self.block(x)))


class Inline(nn.Module):
    act: Callable[..., Any] = jax.nn.relu

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(nn.Dense(4)(x))  # unreachable for swap_activations
        return self.act(nn.Dense(3)(x))


def _net() -> Net:
    head = nn.Sequential([nn.Dense(5), jax.nn.relu, jl.Activation("torch:ReLU"), nn.Dense(2)])
    return Net(Block(4), jl.Activation("relu"), head)


def _dense(p: Any, x: jax.Array) -> jax.Array:
    return x @ p["kernel"] + p["bias"]


def _net_reference(p: Any, x: jax.Array, f: Callable) -> jax.Array:
    b = p["block"]
    h = f(_dense(b["Dense_1"], f(_dense(b["Dense_0"], x))))
    h = f(h)
    return _dense(p["head"]["layers_3"], f(f(_dense(p["head"]["layers_0"], h))))


def test_swap_activations_everywhere() -> None:
    x = _x((3, 6))
    model = _net()
    p = _filled(model, x)["params"]
    chex.assert_trees_all_close(
        model.apply({"params": p}, x), _net_reference(p, x, jaxact.relu), rtol=1e-5
    )
    swapped = jl.swap_activations(model, "relu", "gelu")
    assert swapped.block.act is jaxact.gelu and swapped.block.act_name == "gelu"
    assert swapped.post.fn == "gelu" and swapped.head.layers[2].fn == "gelu"
    assert swapped.head.layers[1] is jaxact.gelu
    # The original is untouched.
    assert model.block.act is nn.relu and model.block.act_name == "relu"
    assert model.post.fn == "relu" and model.head.layers[1] is jax.nn.relu
    # Same parameters, the outputs of the swapped function.
    abstract = jax.eval_shape(swapped.init, jax.random.key(0), x)["params"]
    chex.assert_trees_all_equal_shapes_and_dtypes(abstract, p)
    y = swapped.apply({"params": p}, x)
    chex.assert_trees_all_close(y, _net_reference(p, x, jaxact.gelu), rtol=1e-5, atol=1e-6)
    assert not np.allclose(y, model.apply({"params": p}, x))
    # A callable as `new`: string fields get the callable too.
    s2 = jl.swap_activations(model, jax.nn.relu, jaxact.silu)
    assert s2.block.act_name is jaxact.silu and s2.post.fn is jaxact.silu
    chex.assert_trees_all_close(
        s2.apply({"params": p}, x), _net_reference(p, x, jaxact.silu), rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
def test_swapped_model_trains() -> None:
    x = _x((16, 6))
    target = jnp.sin(x[:, :2])
    model = jl.swap_activations(_net(), ["relu", "torch:ReLU"], "silu")
    params = _filled(model, x)["params"]
    opt = optax.adam(1e-2)
    state = opt.init(params)

    @jax.jit
    def step(params: Any, state: Any) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(
            lambda p: jnp.mean((model.apply({"params": p}, x) - target) ** 2)
        )(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, loss

    losses = []
    with jax.numpy_dtype_promotion("standard"):  # optax's adam mixes int32 and float32
        for _ in range(8):
            params, state, loss = step(params, state)
            losses.append(float(loss))
    assert losses[-1] < 0.9 * losses[0], losses


def test_swap_inline_activations_are_unreachable() -> None:
    x = _x((3, 6))
    model = Inline()
    p = model.init(jax.random.key(0), x)["params"]
    swapped = jl.swap_activations(model, "relu", "gelu")
    assert swapped.act is jaxact.gelu
    # The inline nn.relu stays relu.
    h = jaxact.relu(_dense(p["Dense_0"], x))
    chex.assert_trees_all_close(
        swapped.apply({"params": p}, x), jaxact.gelu(_dense(p["Dense_1"], h)), rtol=1e-6
    )

    class OnlyInline(nn.Module):
        @nn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            return nn.relu(nn.Dense(3)(x))

    # Nothing matched: the message says so and points to jaxact.substitute for inline calls.
    with pytest.raises(
        ValueError,
        match=r"swap_activations: argument 'old' 'relu' matched no activation .*OnlyInline.*"
        r"inline \(`x = nn\.relu\(x\)`.*jaxact\.substitute\(fn, mapping\)",
    ):
        jl.swap_activations(OnlyInline(), "relu", "gelu")


def test_swap_where_layers_and_learnable() -> None:
    model = _net()
    only_head = jl.swap_activations(
        model, "relu", "gelu", where=lambda path, obj: path[0] == "head"
    )
    assert only_head.block.act is nn.relu and only_head.post.fn == "relu"
    assert only_head.head.layers[1] is jaxact.gelu and only_head.head.layers[2].fn == "gelu"
    seen: list[tuple] = []
    jl.swap_activations(model, "relu", "gelu", where=lambda path, obj: seen.append(path) or True)
    assert set(seen) == {
        ("block", "act"),
        ("block", "act_name"),
        ("post",),
        ("head", "layers", 1),
        ("head", "layers", 2),
    }
    # A layer instance: every match gets its own copy, parameters re-initialised.
    x = _x((3, 6))
    with_prelu = jl.swap_activations(model.head, "relu", jl.PReLU("torch"))
    assert isinstance(with_prelu.layers[1], jl.PReLU) and isinstance(with_prelu.layers[2], jl.PReLU)
    assert with_prelu.layers[1] is not with_prelu.layers[2]
    v = with_prelu.init(jax.random.key(0), x)["params"]
    assert float(v["layers_1"]["negative_slope"]) == 0.25 and "layers_2" in v
    # Learnable layers and flax's PReLU are matched by the activation they compute.
    seq = nn.Sequential([nn.Dense(3), jl.PReLU(), nn.PReLU(), jl.Snake(), nn.Dense(2)])
    out = jl.swap_activations(seq, "prelu", "gelu_pytorch_tanh")
    assert [type(m).__name__ for m in out.layers] == [
        "Dense",
        "Activation",
        "Activation",
        "Snake",
        "Dense",
    ]
    assert out.layers[1].fn == "gelu_pytorch_tanh"
    out = jl.swap_activations(seq, "snake", "relu")
    assert isinstance(out.layers[3], jl.Activation) and isinstance(out.layers[1], jl.PReLU)
    # The gate of a GatedMLP.
    mlp = jl.GatedMLP(8, activation="reglu")
    assert jl.swap_activations(mlp, "relu", "gelu").activation == "gelu"
    assert jl.swap_activations(jl.GatedMLP(8), "silu", "relu").activation == "relu"
    with pytest.raises(ValueError, match="swap_activations.*'old'"):
        jl.swap_activations(mlp, "silu", "gelu")


def test_swap_matches_partials_by_what_they_compute() -> None:
    exact = [
        functools.partial(jax.nn.gelu, approximate=False),
        functools.partial(nn.gelu, approximate=False),
        jl.Activation(functools.partial(jaxact.gelu, approximate=False)),
        jl.Activation("gelu", approximate=False),
    ]
    # layers 1-4: the erf form; 5: jax.nn's gelu as is; 6: the tanh form.
    seq = nn.Sequential([nn.Dense(4), *exact, nn.gelu, jaxact.gelu_tanh, nn.Dense(2)])

    def fns(model: nn.Sequential) -> list[Any]:
        return [m.fn if isinstance(m, jl.Activation) else m for m in model.layers[1:7]]

    before = fns(seq)
    out = jl.swap_activations(seq, "gelu_tanh", "relu")
    assert fns(out) == [*before[:5], jaxact.relu]  # the erf partials are no gelu_tanh
    for erf in ("gelu_erf", "torch:GELU", exact[0]):
        out = jl.swap_activations(seq, erf, "relu")
        assert fns(out) == [jaxact.relu, jaxact.relu, "relu", "relu", *before[4:]], erf
        assert out.layers[4].params == {}
    out = jl.swap_activations(seq, "gelu", "relu")  # the dispatcher used as is
    assert fns(out) == [*before[:4], jaxact.relu, before[5]]
    # What the erf partials compute is gelu_erf indeed (mpmath values in test_registry).
    x = _x((5,))
    for f in exact[:2]:
        np.testing.assert_allclose(f(x), jaxact.gelu_erf(x), rtol=1e-6, atol=1e-7)


class Leaky(nn.Module):
    act: Any = "keras:leaky_relu"  # a string config field: slope 0.2

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return (self.act if callable(self.act) else jaxact.get(self.act))(x)


def test_swap_to_learnable_starts_from_the_old_hyperparameter() -> None:
    x = _x((3, 4))
    model = nn.Sequential(
        [
            nn.Dense(4),
            functools.partial(jax.nn.leaky_relu, negative_slope=0.2),
            jl.Activation("leaky_relu", negative_slope=0.3),
            jl.Activation("keras:LeakyReLU"),  # Keras's class: slope 0.3
            Leaky(),
            nn.Dense(4),
            jax.nn.leaky_relu,  # jax.nn's default slope, 0.01
        ]
    )
    swapped = jl.swap_activations(model, "leaky_relu", jl.PReLU())
    params = swapped.init(jax.random.key(0), x)["params"]
    slopes = {k: float(v["negative_slope"]) for k, v in params.items() if "negative_slope" in v}
    slopes["layers_4"] = float(params["layers_4"]["act"]["negative_slope"])
    assert slopes == pytest.approx(
        {"layers_1": 0.2, "layers_2": 0.3, "layers_3": 0.3, "layers_4": 0.2, "layers_6": 0.01}
    )
    # At its initial values the swapped model computes what the original computes.
    dense = {k: params[k] for k in ("layers_0", "layers_5")}
    chex.assert_trees_all_close(
        swapped.apply({"params": params}, x), model.apply({"params": dense}, x), rtol=1e-6
    )
    # An initial value given explicitly is kept.
    for new, slope in ((jl.PReLU("torch"), 0.25), (jl.PReLU(0.5, num_channels=4), 0.5)):
        params = jl.swap_activations(model, "leaky_relu", new).init(jax.random.key(0), x)
        np.testing.assert_array_equal(params["params"]["layers_1"]["negative_slope"], slope)
    # Snake's alpha, in either storage; a learnable layer replaced passes nothing on.
    seq = nn.Sequential([jl.Activation("snake", alpha=2.0), jl.PReLU(0.3)])
    out = jl.swap_activations(seq, ["snake", "prelu"], jl.Snake(logscale=True))
    p = out.init(jax.random.key(0), x)["params"]
    assert float(p["layers_0"]["log_alpha"]) == pytest.approx(math.log(2.0))
    assert float(p["layers_1"]["log_alpha"]) == 0.0
    out = jl.swap_activations(seq, "snake", jl.Snake(alpha_init=3.0))
    assert float(out.init(jax.random.key(0), x)["params"]["layers_0"]["alpha"]) == 3.0
    # A value the new layer cannot start from: a warning, and the layer's default.
    bad = nn.Sequential([jl.Activation("swish_beta", beta=-1.0)])
    with pytest.warns(UserWarning, match=r"beta=-1\.0, which cannot start Swish"):
        out = jl.swap_activations(bad, "swish_beta", jl.Swish())
    assert out.layers[0].beta_init == 1.0


class Twice(nn.Module):
    act: Callable[..., Any] = nn.relu

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.act(nn.Dense(4)(x))
        return self.act(nn.Dense(4)(x))


class Looped(nn.Module):
    act: Callable[..., Any] = nn.relu

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(2):
            x = self.act(nn.Dense(4)(x))
        return x


def test_learnable_swap_of_a_field_called_twice_warns_that_it_is_shared() -> None:
    x = _x((3, 4))
    with pytest.warns(
        UserWarning,
        match=r"jaxact\.linen\.swap_activations: Twice\.act is called at 2 call sites "
        r"\(lines \d+, \d+\); the new learnable PReLU layer's parameters are shared between "
        r"the 2 call sites",
    ):
        swapped = jl.swap_activations(Twice(), "relu", jl.PReLU())
    params = swapped.init(jax.random.key(0), x)["params"]
    assert sorted(params) == ["Dense_0", "Dense_1", "act"]  # one PReLU for both calls
    grads = jax.grad(lambda p: jnp.sum(swapped.apply({"params": p}, x)))(params)
    assert float(grads["act"]["negative_slope"]) != 0.0
    with pytest.warns(UserWarning, match=r"Looped\.act is called in a loop"):
        jl.swap_activations(Looped(), "relu", jl.Swish())
    # No warning: a parameter-free replacement, or a field called once.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jl.swap_activations(Twice(), "relu", jl.Activation("gelu"))
        jl.swap_activations(Twice(), "relu", "gelu")
        jl.swap_activations(Block(4), "relu", jl.PReLU())


# ----------------------------------------------------------------------------
# Errors name the layer and the argument.


def _init(layer: nn.Module, shape: tuple[int, ...]) -> Any:
    return layer.init(jax.random.key(0), jnp.ones(shape))


ERRORS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: jl.Activation("no_such_activation"), ValueError, "Activation.*'fn'"),
    (lambda: jl.Activation(3), TypeError, "Activation.*'fn'"),
    (lambda: jl.Activation("elu", [1]), TypeError, "Activation.*'params'"),
    (lambda: jl.Activation("elu", alhpa=0.5), TypeError, "Activation.*'alhpa'.*'elu'"),
    (lambda: jl.Activation("relu").apply({}, [1.0, 2.0]), TypeError, "Activation.*'x'"),
    (lambda: jl.PReLU("pytorch"), ValueError, "PReLU.*'negative_slope_init'"),
    (lambda: jl.PReLU(num_channels=0), ValueError, "PReLU.*'num_channels'"),
    (lambda: jl.PReLU(num_channels=3, sharding="model"), TypeError, "PReLU.*'sharding'"),
    (
        lambda: jl.PReLU(num_channels=4).init(jax.random.key(0), jnp.ones((2, 3))),
        ValueError,
        "PReLU.*'x'.*channels",
    ),
    (
        lambda: jl.Snake(num_channels=3, axis=2).init(jax.random.key(0), jnp.ones((2, 3))),
        ValueError,
        "Snake.*'axis'",
    ),
    (lambda: jl.Swish(beta_init=-1.0), ValueError, "Swish.*'beta_init'"),
    (lambda: jl.SnakeBeta(beta_init=0.0), ValueError, "SnakeBeta.*'beta_init'"),
    (lambda: jl.XIELU(alpha_n_init=0.4), ValueError, "XIELU.*'alpha_n_init'"),
    (lambda: jl.PELU(b_init=float("nan")), ValueError, "PELU.*'b_init'"),
    (lambda: _init(jl.Rational(version="E"), (3,)), ValueError, "Rational.*'version'"),
    (lambda: _init(jl.Rational("cosh"), (3,)), ValueError, "Rational.*'approx_func'"),
    (lambda: _init(jl.Rational(degrees=(5,)), (3,)), ValueError, "Rational.*'degrees'"),
    (lambda: jl.MetaACON(0), ValueError, "MetaACON.*'num_channels'"),
    (lambda: jl.MetaACON(4, ratio=0), ValueError, "MetaACON.*'ratio'"),
    (
        lambda: jl.MetaACON(4, axis=0).init(jax.random.key(0), jnp.ones((4, 4))),
        ValueError,
        "MetaACON.*'axis'",
    ),
    (
        lambda: jl.MetaACON(4).init(jax.random.key(0), jnp.ones((2, 5))),
        ValueError,
        "MetaACON.*'x'",
    ),
    (lambda: jl.GatedMLP(0), ValueError, "GatedMLP.*'hidden_features'"),
    (lambda: jl.GatedMLP(out_features=-2), ValueError, "GatedMLP.*'out_features'"),
    (lambda: jl.GatedMLP(activation="swishglu"), ValueError, "GatedMLP.*'activation'"),
    (lambda: jl.GatedMLP(dropout_rate=1.0), ValueError, "GatedMLP.*'dropout_rate'"),
    (lambda: jl.swap_activations(_net(), "no_such", "gelu"), ValueError, "swap_activations.*'old'"),
    (lambda: jl.swap_activations(_net(), "relu", "no_such"), ValueError, "swap_activations.*'new'"),
    (lambda: jl.swap_activations(_net(), "relu", 3), TypeError, "swap_activations.*'new'"),
    (
        lambda: jl.swap_activations(jax.nn.relu, "relu", "gelu"),
        TypeError,
        "swap_activations.*'model'",
    ),
]


@pytest.mark.parametrize(
    "case", ERRORS, ids=[e[2].split(".*")[0] + "-" + str(i) for i, e in enumerate(ERRORS)]
)
def test_errors_name_layer_and_argument(
    case: tuple[Callable[[], Any], type[Exception], str],
) -> None:
    make, kind, pattern = case
    with pytest.raises(kind, match=pattern):
        make()
