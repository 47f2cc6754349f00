"""Tests for jaxact.monitor: dead units, saturation, output statistics and gradient
norms of the activation layers of nnx and linen models, eager and under jit."""

from __future__ import annotations

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

import jaxact.linen as jl
import jaxact.nnx as jn
from jaxact.monitor import format_health, grad_norms, linen_health, nnx_health

TOL = {"rtol": 1e-6, "atol": 1e-6}


def _normal(seed: int, shape: tuple[int, ...]) -> jax.Array:
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _kernel(scale: float | None, seed: int) -> Callable[..., jax.Array]:
    """A kernel initializer from numpy: N(0, scale^2), LeCun's variance by default (a
    random initializer compiles a program per shape and distribution)."""

    def init(key: Any, shape: tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
        std = 1 / np.sqrt(shape[0]) if scale is None else scale
        return jnp.asarray(std * np.random.default_rng(seed).standard_normal(shape), dtype)

    return init


def _nnx_linear(bias: float = 0.0, scale: float | None = None, seed: int = 0) -> nnx.Linear:
    return nnx.Linear(
        16,
        16,
        kernel_init=_kernel(scale, seed),
        bias_init=nnx.initializers.constant(bias),
        rngs=nnx.Rngs(seed),
    )


def _linen_dense(bias: float = 0.0, scale: float | None = None, seed: int = 0) -> nn.Dense:
    kernel = _kernel(scale, seed)
    return nn.Dense(16, kernel_init=kernel, bias_init=nn.initializers.constant(bias))


def _floats(stats: dict) -> dict:
    return {k: {s: float(v) for s, v in row.items()} for k, row in stats.items()}


X = _normal(0, (64, 16))


# ----------------------------------------------------------------------------
# NNX.


def _nnx_model() -> nnx.Sequential:
    return nnx.Sequential(
        _nnx_linear(seed=0),
        jn.Activation("relu"),  # healthy
        _nnx_linear(scale=100.0, seed=1),
        jn.Activation("sigmoid"),  # saturated
        _nnx_linear(scale=1e-3, seed=2),
        jn.Activation("sigmoid"),  # not saturated
        _nnx_linear(bias=-100.0, seed=3),
        jn.Activation("relu"),  # dead
        jn.Activation("softmax"),  # vector: no dead / saturated
    )


def test_nnx_dead_saturated():
    stats = _floats(nnx_health(_nnx_model(), X))
    assert list(stats) == ["layers/1", "layers/3", "layers/5", "layers/7", "layers/8"]
    assert stats["layers/1"]["dead"] == 0.0 and stats["layers/7"]["dead"] == 1.0
    assert stats["layers/1"]["saturated"] == 0.0  # relu is unbounded
    assert stats["layers/3"]["saturated"] > 0.95
    assert stats["layers/5"]["saturated"] == 0.0
    assert stats["layers/3"]["dead"] == 0.0 and stats["layers/5"]["dead"] == 0.0
    assert math.isnan(stats["layers/8"]["dead"]) and math.isnan(stats["layers/8"]["saturated"])


def test_nnx_healthy_relu():
    model = nnx.Sequential(_nnx_linear(), jn.Activation("relu"))
    stats = nnx_health(model, X)
    assert float(stats["layers/1"]["dead"]) == 0.0
    assert float(stats["layers/1"]["saturated"]) == 0.0


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_nnx_mean_std_by_hand():
    model = _nnx_model()
    stats = nnx_health(model, X)
    h = model.layers[0](X)
    for i in range(1, 9):
        h = model.layers[i](h)
        if f"layers/{i}" in stats:
            chex.assert_trees_all_close(stats[f"layers/{i}"]["mean"], jnp.mean(h), **TOL)
            chex.assert_trees_all_close(stats[f"layers/{i}"]["std"], jnp.std(h), **TOL)


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_nnx_jit_same_numbers_and_model_untouched():
    model = _nnx_model()
    eager = nnx_health(model, X)
    jitted = nnx.jit(nnx_health)(model, X)
    closed = jax.jit(lambda x: nnx_health(model, x))(X)
    chex.assert_trees_all_close(jitted, eager, **TOL)
    chex.assert_trees_all_close(closed, eager, **TOL)
    assert all(type(a) is type(b) for a, b in zip(model.layers, _nnx_model().layers, strict=True))


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_nnx_learnable_layers_and_paths():
    class Block(nnx.Module):
        def __init__(self) -> None:
            self.fc = _nnx_linear(bias=-100.0)
            self.act = jn.PReLU("keras", num_channels=16)  # slope 0: dead below 0
            self.fc2 = _nnx_linear(seed=1)
            self.swish = jn.Swish()

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.swish(self.fc2(self.act(self.fc(x))) + self.fc2(x))

    class Net(nnx.Module):
        def __init__(self) -> None:
            self.block = Block()
            self.out = jn.Activation("tanh")

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.out(self.out(self.block(x)))  # `out` called twice

    stats = _floats(nnx_health(Net(), X))
    assert list(stats) == ["block/act", "block/swish", "out", "out#2"]
    assert stats["block/act"]["dead"] == 1.0
    assert stats["block/swish"]["dead"] == 0.0
    # A layer that is the model itself.
    root = nnx_health(jn.Activation("relu"), jnp.array([[-1.0, 2.0], [-3.0, 4.0]]))
    assert list(root) == ["(root)"] and float(root["(root)"]["dead"]) == 0.5


# ----------------------------------------------------------------------------
# Linen.


def _linen_model() -> nn.Sequential:
    return nn.Sequential(
        [
            _linen_dense(),
            jl.Activation("gelu"),  # healthy
            _linen_dense(scale=100.0, seed=1),
            jl.Activation("sigmoid"),  # saturated
            _linen_dense(scale=1e-3, seed=2),
            jl.Activation("sigmoid"),  # not saturated
            jl.PReLU(0.0),  # slope 0, but its input is about 0.5: not dead
            _linen_dense(bias=-100.0, seed=3),
            jl.Activation("relu"),  # dead
        ]
    )


def test_linen_dead_saturated_mean_std():
    model = _linen_model()
    variables = model.init(jax.random.key(0), X)
    stats = linen_health(model, variables, X)
    f = _floats(stats)
    assert list(f) == ["layers_1", "layers_3", "layers_5", "layers_6", "layers_8"]
    assert f["layers_1"]["dead"] == 0.0 and f["layers_8"]["dead"] == 1.0
    assert f["layers_3"]["saturated"] > 0.95 and f["layers_5"]["saturated"] == 0.0
    assert f["layers_6"]["dead"] == 0.0 and f["layers_6"]["saturated"] == 0.0
    _, state = model.apply(variables, X, capture_intermediates=True)
    for name, row in stats.items():
        y = state["intermediates"][name]["__call__"][0]
        chex.assert_trees_all_close(row["mean"], jnp.mean(y), **TOL)
        chex.assert_trees_all_close(row["std"], jnp.std(y), **TOL)


def test_linen_healthy_relu_and_jit():
    model = nn.Sequential([_linen_dense(), jl.Activation("relu")])
    variables = model.init(jax.random.key(1), X)
    eager = linen_health(model, variables, X)
    assert float(eager["layers_1"]["dead"]) == 0.0
    jitted = jax.jit(lambda v, x: linen_health(model, v, x))(variables, X)
    chex.assert_trees_all_close(jitted, eager, **TOL)
    big = _linen_model()
    big_vars = big.init(jax.random.key(0), X)
    chex.assert_trees_all_close(
        jax.jit(lambda v, x: linen_health(big, v, x))(big_vars, X),
        linen_health(big, big_vars, X),
        **TOL,
    )


# ----------------------------------------------------------------------------
# Gradient norms and the table.


def _norm(*arrays: jax.Array) -> float:
    return math.sqrt(sum(float(jnp.sum(jnp.square(a))) for a in arrays))


def test_grad_norms_nnx():
    model = nnx.Sequential(_nnx_linear(seed=0), jn.Swish(), _nnx_linear(seed=1))
    grads = nnx.grad(lambda m, x: jnp.mean(m(x) ** 2))(model, X)
    norms = grad_norms(grads)
    assert list(norms) == ["layers/0", "layers/1", "layers/2"]
    for i in (0, 2):
        want = _norm(grads.layers[i].kernel[...], grads.layers[i].bias[...])
        np.testing.assert_allclose(float(norms[f"layers/{i}"]), want, rtol=1e-5)
    np.testing.assert_allclose(float(norms["layers/1"]), _norm(grads.layers[1].log_beta[...]))
    total = grad_norms(grads, depth=1)
    np.testing.assert_allclose(
        float(total["layers"]), _norm(*jax.tree.leaves(nnx.to_pure_dict(grads))), rtol=1e-5
    )


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_grad_norms_linen():
    model = nn.Sequential([_linen_dense(), jl.PReLU(), _linen_dense()])
    variables = model.init(jax.random.key(0), X)
    grads = jax.grad(lambda v: jnp.mean(model.apply(v, X) ** 2))(variables)
    norms = grad_norms(grads)
    assert sorted(norms) == ["layers_0", "layers_1", "layers_2"]
    p = grads["params"]["layers_2"]
    np.testing.assert_allclose(float(norms["layers_2"]), _norm(p["kernel"], p["bias"]), rtol=1e-5)
    chex.assert_trees_all_close(jax.jit(grad_norms)(grads), norms, **TOL)
    with pytest.raises(ValueError, match="depth"):
        grad_norms(grads, depth=0)


def test_format_health():
    stats = nnx_health(_nnx_model(), X)
    table = format_health(stats).splitlines()
    assert len(table) == 1 + len(stats)
    assert table[0].split() == ["layer", "dead", "saturated", "mean", "std"]
    assert table[4].split()[:3] == ["layers/7", "100.0%", "0.0%"]
    assert table[-1].split()[:3] == ["layers/8", "-", "-"]


def test_monitor_reads_layers_through_the_shared_contract():
    """No private attribute of jaxact.linen or jaxact.nnx: layers.layer_activation only."""
    import inspect

    import jaxact.monitor as monitor

    source = inspect.getsource(monitor)
    assert "from jaxact import linen" not in source and "from jaxact import nnx" not in source
    assert "layers.layer_activation(" in source


# ----------------------------------------------------------------------------
# monitor.outputs: every site's output, for any function.


def test_outputs_of_an_nnx_model_match_the_layers_by_hand():
    from jaxact.monitor import outputs

    lin1, lin2 = _nnx_linear(scale=1.0, seed=1), _nnx_linear(scale=1.0, seed=2)
    model = nnx.Sequential(lin1, jn.Activation("relu"), lin2, jn.Activation("gelu"))
    x = _normal(3, (32, 16))
    got = outputs(model, x)
    h = np.maximum(np.asarray(lin1(x)), 0.0)
    assert list(got) == ["layers/1", "layers/3"]
    np.testing.assert_array_equal(np.asarray(got["layers/1"]), h)
    np.testing.assert_allclose(
        np.asarray(got["layers/3"]), np.asarray(jax.nn.gelu(lin2(jnp.asarray(h)))), **TOL
    )
    # relu's exact zeros are the negative pre-activations, counted independently.
    assert np.mean(np.asarray(got["layers/1"]) == 0) == np.mean(np.asarray(lin1(x)) <= 0)


def test_outputs_stack_the_calls_of_a_scan_and_refuse_a_while_loop():
    from jaxact.monitor import outputs

    def scanned(x):
        return jax.lax.scan(lambda c, _: (jnp.tanh(c) * 2.0, None), x, None, length=3)[0]

    x = _normal(4, (5, 2))
    (y,) = outputs(scanned, x).values()
    assert y.shape == (3, 5, 2)
    c, expected = x, []
    for _ in range(3):
        expected.append(jnp.tanh(c))
        c = expected[-1] * 2.0
    np.testing.assert_allclose(np.asarray(y), np.asarray(jnp.stack(expected)), **TOL)

    def looped(x):
        y = jax.nn.relu(x)
        return jax.lax.while_loop(lambda c: c.sum() < 10.0, lambda c: c + jax.nn.softplus(c), y)

    with pytest.raises(ValueError, match="jaxact.monitor.outputs: .*while_loop"):
        outputs(looped, x)
    (only,) = outputs(looped, x, where=lambda s: s.name == "relu").values()
    np.testing.assert_array_equal(np.asarray(only), np.maximum(np.asarray(x), 0))


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16", "float16"])
def test_outputs_under_x64_jit_and_a_sharded_input_keep_dtype_and_values(dtype):
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxact.monitor import outputs

    def f(x):
        return jnp.tanh(jax.nn.relu(x) * 2.0)

    with jax.enable_x64(True):
        x = jnp.linspace(-3, 3, 16, dtype=dtype).reshape(4, 4)
        mesh = Mesh(np.array(jax.devices()[:1]), ("d",))
        x = jax.device_put(x, NamedSharding(mesh, P("d")))
        got = jax.jit(lambda x: outputs(f, x))(x)
        relu, tanh = (got[k] for k in sorted(got, key=lambda k: k.endswith("tanh")))
        assert relu.dtype == tanh.dtype == x.dtype
        np.testing.assert_array_equal(
            np.asarray(relu, np.float64), np.maximum(np.asarray(x, np.float64), 0)
        )
        # tanh's output is the function's own output (the last site), bit for bit.
        np.testing.assert_array_equal(np.asarray(tanh), np.asarray(jax.jit(f)(x)))
        assert relu.sharding.spec == P("d")
