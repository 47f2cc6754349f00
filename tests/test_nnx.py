"""Tests for jaxact.nnx: the generic layer over the whole name table, the learnable
layers against jaxact's functions called with the expected parameters, training with
optax, Rational's initial fits, GatedMLP and swap_activations."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxact
import jaxact.nnx as jn
from jaxact._src import layers
from tests.accuracy import lane

TOL = {"rtol": 1e-6, "atol": 1e-6}


def _normal(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> jax.Array:
    """Test data from numpy (no XLA compilation per shape)."""
    return jnp.asarray(scale * np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _np_init(key: Any, shape: tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
    """A kernel initializer without XLA work: keeps the many small layers cheap to build."""
    seed = int(np.prod(shape)) + len(shape)
    return jnp.asarray(
        np.random.default_rng(seed).standard_normal(shape) / np.sqrt(shape[0]), dtype
    )


X = _normal(0, (2, 4, 6), 2.5)


# ----------------------------------------------------------------------------
# Activation (the sampled wrapper test is in test_layer_contract.py).


def test_meta_acon_layer_in_sequential() -> None:
    layer = jn.MetaACON(6, ratio=2, rngs=nnx.Rngs(0))
    _perturb(layer)
    p = [layer.p1[...], layer.p2[...], layer.w1[...], layer.w2[...]]
    for dtype in (jnp.float32, jnp.bfloat16):
        x = X.astype(dtype)
        y = nnx.Sequential(layer)(x)
        chex.assert_shape(y, X.shape)
        chex.assert_type(y, dtype)
        # Parameters are used in their own dtype where it is wider than the compute dtype
        # (float32 parameters with bfloat16 input), then by jaxact.meta_acon.
        chex.assert_trees_all_equal(y, jaxact.meta_acon(x, *p))


def test_activation_arguments_and_dtypes() -> None:
    elu = jn.Activation("elu", alpha=0.5)
    chex.assert_trees_all_equal(elu(X), jaxact.elu(X, alpha=0.5))
    soft = jn.Activation("softmax", {"axis": 0})
    chex.assert_trees_all_equal(soft(X), jaxact.softmax(X, axis=0))
    merged = jn.Activation("leaky_relu", {"negative_slope": 0.3}, dtype=jnp.bfloat16)
    chex.assert_type(merged(X), jnp.bfloat16)
    chex.assert_trees_all_equal(merged(X), jaxact.leaky_relu(X.astype(jnp.bfloat16), 0.3))
    ints = jn.Activation(jax.nn.relu)(jnp.arange(-2, 3))
    chex.assert_type(ints, jnp.float32)
    chex.assert_trees_all_equal(ints, jnp.array([0.0, 0.0, 0.0, 1.0, 2.0]))
    # Static attributes: jit works and sees the fixed arguments.
    y = nnx.jit(lambda m, x: m(x))(nnx.Sequential(elu, soft), X)
    chex.assert_trees_all_close(y, jaxact.softmax(jaxact.elu(X, alpha=0.5), axis=0), **TOL)


def test_activation_random() -> None:
    layer = jn.Activation("rrelu", training=True, rngs=nnx.Rngs(activation=3))
    ref = nnx.Rngs(activation=3)
    y1, y2 = layer(X), layer(X)
    chex.assert_trees_all_equal(y1, jaxact.rrelu(X, key=ref.activation(), training=True))
    chex.assert_trees_all_equal(y2, jaxact.rrelu(X, key=ref.activation(), training=True))
    assert not np.array_equal(y1, y2)
    # Without training rrelu is deterministic and needs no rngs.
    chex.assert_trees_all_equal(jn.Activation("rrelu")(X), jaxact.rrelu(X))
    with pytest.raises(ValueError, match="Activation.*'rngs'"):
        jn.Activation("gumbel_softmax")


# ----------------------------------------------------------------------------
# Learnable layers.


def _c(p: jax.Array, x: jax.Array, axis: int) -> jax.Array:
    """A (C,) parameter as the oracle broadcasts it along ``axis``."""
    if p.ndim == 0:
        return p
    shape = [1] * x.ndim
    shape[axis] = p.shape[0]
    return p.reshape(shape)


def _sp(p: jax.Array) -> jax.Array:
    return jax.nn.softplus(p)


def _prelu(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.prelu(x, _c(m.negative_slope[...], x, m.axis))


def _swish(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.swish_beta(x, _c(jnp.exp(m.log_beta[...]), x, m.axis))


def _star(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.star_relu(x, m.scale[...], m.bias[...])


def _xielu(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.xielu(x, _sp(m.alpha_p[...]), 0.5 + _sp(m.alpha_n[...]), 0.5, -1e-6)


def _snake(m: Any, x: jax.Array) -> jax.Array:
    alpha = jnp.exp(m.log_alpha[...]) if m.logscale else m.alpha[...]
    return jaxact.snake(x, _c(alpha, x, m.axis))


def _snake_beta(m: Any, x: jax.Array) -> jax.Array:
    if m.logscale:
        alpha, beta = jnp.exp(m.log_alpha[...]), jnp.exp(m.log_beta[...])
    else:
        alpha, beta = m.alpha[...], jnp.abs(m.beta[...])
    return jaxact.snake_beta(x, _c(alpha, x, m.axis), _c(beta, x, m.axis))


def _aconc(m: Any, x: jax.Array) -> jax.Array:
    p1, p2 = _c(m.p1[...], x, m.axis), _c(m.p2[...], x, m.axis)
    return jaxact.acon_c(x, p1, p2, _c(jnp.exp(m.log_beta[...]), x, m.axis))


def _smu(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.smu(x, 0.01, _c(jnp.exp(m.log_mu[...]), x, m.axis))


def _pelu(m: Any, x: jax.Array) -> jax.Array:
    a, b = jnp.exp(m.log_a[...]), jnp.exp(m.log_b[...])
    return jaxact.pelu(x, _c(a, x, m.axis), _c(b, x, m.axis))


def _rational(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.rational(x, m.numerator[...], m.denominator[...], version=m.version)


def _meta(m: Any, x: jax.Array) -> jax.Array:
    return jaxact.meta_acon(x, m.p1[...], m.p2[...], m.w1[...], m.w2[...], m.axis)


# id -> (factory, oracle, parameter shapes)
LEARN: dict[str, tuple[Callable[[], Any], Callable[..., Any], dict[str, tuple[int, ...]]]] = {
    "PReLU": (lambda: jn.PReLU(num_channels=6), _prelu, {"negative_slope": (6,)}),
    "PReLU-shared": (lambda: jn.PReLU(), _prelu, {"negative_slope": ()}),
    "Swish": (lambda: jn.Swish(num_channels=6), _swish, {"log_beta": (6,)}),
    "StarReLU": (lambda: jn.StarReLU(), _star, {"scale": (), "bias": ()}),
    "XIELU": (lambda: jn.XIELU(), _xielu, {"alpha_p": (), "alpha_n": ()}),
    "Snake": (lambda: jn.Snake(num_channels=6), _snake, {"alpha": (6,)}),
    "SnakeLog": (lambda: jn.Snake(num_channels=6, logscale=True), _snake, {"log_alpha": (6,)}),
    "SnakeBeta": (
        lambda: jn.SnakeBeta(num_channels=6),
        _snake_beta,
        {"alpha": (6,), "beta": (6,)},
    ),
    "SnakeBetaLog": (
        lambda: jn.SnakeBeta(logscale=True),
        _snake_beta,
        {"log_alpha": (), "log_beta": ()},
    ),
    "ACONC": (
        lambda: jn.ACONC(num_channels=6),
        _aconc,
        {"p1": (6,), "p2": (6,), "log_beta": (6,)},
    ),
    "SMU": (lambda: jn.SMU(num_channels=6), _smu, {"log_mu": (6,)}),
    "PELU": (lambda: jn.PELU(num_channels=6), _pelu, {"log_a": (6,), "log_b": (6,)}),
    "Rational": (lambda: jn.Rational(), _rational, {"numerator": (6,), "denominator": (4,)}),
    "RationalGelu": (
        lambda: jn.PAU("gelu"),
        _rational,
        {"numerator": (6,), "denominator": (4,)},
    ),
    "MetaACON": (
        lambda: jn.MetaACON(6, ratio=2, rngs=nnx.Rngs(0)),
        _meta,
        {"p1": (6,), "p2": (6,), "w1": (3, 6), "w2": (6, 3)},
    ),
}

# Stored name -> the natural value the oracle derives (positivity-constrained weights).
POSITIVE: dict[str, Callable[[jax.Array], jax.Array]] = {
    "log_beta": jnp.exp,
    "log_alpha": jnp.exp,
    "log_mu": jnp.exp,
    "log_a": jnp.exp,
    "log_b": jnp.exp,
    "alpha_p": _sp,
    "alpha_n": _sp,  # alpha_n = 0.5 + softplus(raw) > 0.5
    "beta": jnp.abs,
}


def _params(model: Any) -> dict[str, Any]:
    return nnx.to_pure_dict(nnx.state(model, nnx.Param))


def _set_params(model: Any, pure: dict[str, Any]) -> None:
    state = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(state, pure)
    nnx.update(model, state)


def _perturb(model: Any, scale: float = 0.1, seed: int = 11) -> None:
    """Moves every parameter off its init value (agreement is not by default)."""
    leaves, treedef = jax.tree.flatten(_params(model))
    rng = np.random.default_rng(seed)
    moved = [
        jnp.asarray(np.asarray(v) + scale * rng.standard_normal(v.shape), v.dtype) for v in leaves
    ]
    _set_params(model, jax.tree.unflatten(treedef, moved))


def _loss(model: Any, x: jax.Array, target: jax.Array) -> jax.Array:
    return jnp.mean((model(x) - target) ** 2)


def test_presets_and_inits() -> None:
    for preset, slope in (("flax", 0.01), ("torch", 0.25), ("keras", 0.0)):
        chex.assert_trees_all_equal(jn.PReLU(preset).negative_slope[...], jnp.float32(slope))
        chex.assert_trees_all_equal(
            jn.PReLU(preset, num_channels=3).negative_slope[...], jnp.full(3, slope, jnp.float32)
        )
    assert float(jn.PReLU()(-1.0)) == pytest.approx(-0.01)
    assert float(jn.Swish(beta_init=2.0).log_beta[...]) == pytest.approx(math.log(2.0))
    xi = jn.XIELU(alpha_p_init=0.3, alpha_n_init=1.7)
    assert float(_sp(xi.alpha_p[...])) == pytest.approx(0.3, rel=1e-6)
    assert float(0.5 + _sp(xi.alpha_n[...])) == pytest.approx(1.7, rel=1e-6)
    assert float(jn.Snake(alpha_init=0.5, logscale=True).log_alpha[...]) == pytest.approx(
        math.log(0.5)
    )
    assert float(jn.SnakeBeta(beta_init=3.0).beta[...]) == 3.0
    assert float(jn.SMU(mu_init=4.0).log_mu[...]) == pytest.approx(math.log(4.0))
    acon = jn.ACONC(2.0, -1.0, 0.5)
    assert (float(acon.p1[...]), float(acon.p2[...])) == (2.0, -1.0)
    assert float(jnp.exp(acon.log_beta[...])) == pytest.approx(0.5)
    meta = jn.MetaACON(4, p1_init=0.5, p2_init=0.25, rngs=nnx.Rngs(0))
    chex.assert_trees_all_equal(meta.p1[...], jnp.full(4, 0.5, jnp.float32))
    assert meta.w1.shape == (16, 4)  # hidden = max(ratio, C // ratio)
    # StarReLU: timm's defaults, and the paper's preset standardises N(0, 1) input.
    star = jn.StarReLU()
    assert (float(star.scale[...]), float(star.bias[...])) == (1.0, 0.0)
    paper = jn.StarReLU(*layers.STAR_RELU_INIT["paper"])
    y = paper(_normal(1, (200_000,)))
    assert abs(float(jnp.mean(y))) < 0.01 and abs(float(jnp.var(y)) - 1.0) < 0.02
    # Storage in param_dtype.
    assert jn.Swish(param_dtype=jnp.bfloat16).log_beta.dtype == jnp.bfloat16


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["Swish", "XIELU", "SnakeLog", "SnakeBeta", "SnakeBetaLog", "ACONC", "SMU", "PELU"]
)
def test_positive_parameters_survive_huge_steps(case: str) -> None:
    model = LEARN[case][0]()
    target = _normal(5, X.shape, 3.0)
    grads = nnx.to_pure_dict(nnx.grad(_loss)(model, X, target))
    start = _params(model)
    for direction in (1.0, -1.0):
        # A sign-SGD step of 20 on every raw parameter: a plain parameterisation would
        # have gone far below zero.
        step = jax.tree.map(lambda g, d=direction: d * 20 * jnp.sign(g), grads)
        _set_params(model, jax.tree.map(jnp.subtract, start, step))
        y = model(X)
        chex.assert_tree_all_finite(y)
        for name, raw in _params(model).items():
            if name in POSITIVE:
                assert bool(jnp.all(POSITIVE[name](raw) > 0)), (case, name, raw)
        chex.assert_tree_all_finite(nnx.grad(lambda m: jnp.sum(m(X)))(model))


@nnx.jit
def _train_step(model: Any, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array) -> Any:
    loss, grads = nnx.value_and_grad(_loss)(model, x, y)
    optimizer.update(model, grads)
    return loss, grads


def _fit(
    model: Any, x: jax.Array, y: jax.Array, steps: int = 25, lr: float = 0.05
) -> tuple[list[float], dict[str, Any]]:
    """Adam steps on the mean squared error: (losses, the first step's gradients)."""
    losses, first = [], None
    with jax.numpy_dtype_promotion("standard"):  # optax mixes its int32 step count in
        optimizer = nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)
        for _ in range(steps):
            loss, grads = _train_step(model, optimizer, x, y)
            first = grads if first is None else first
            losses.append(float(loss))
    return losses, nnx.to_pure_dict(first)


# One case per class: the log-scale and shared variants differ only in their forward.
TRAIN = [c for c in LEARN if c not in ("PReLU-shared", "SnakeLog", "SnakeBetaLog", "RationalGelu")]


@pytest.mark.slow
@pytest.mark.parametrize("case", TRAIN)
def test_learnable_grads_and_optax_training(case: str) -> None:
    factory, _, shapes = LEARN[case]
    student, teacher = factory(), factory()
    _perturb(teacher, scale=0.25, seed=3)
    x = _normal(1, (64, 6), 2.0)
    losses, grads = _fit(student, x, teacher(x))
    # Gradients reach every parameter, finite and non-zero.
    assert set(grads) == set(shapes)
    for name, g in grads.items():
        chex.assert_tree_all_finite(g)
        assert bool(jnp.all(g != 0)), (case, name, g)
    assert all(math.isfinite(v) for v in losses), losses
    assert losses[-1] < 0.5 * losses[0], (case, losses[0], losses[-1])


# ----------------------------------------------------------------------------
# Rational.


@pytest.mark.parametrize(
    "approx,reference,bound",
    [
        ("leaky_relu", lambda x: jax.nn.leaky_relu(x, 0.01), 0.095),
        ("gelu", lambda x: jax.nn.gelu(x, approximate=False), 4.5e-3),
    ],
)
def test_rational_init_fit(approx: str, reference: Callable[..., Any], bound: float) -> None:
    xs = jnp.linspace(-5.0, 5.0, 2001)
    err = float(jnp.max(jnp.abs(jn.Rational(approx)(xs) - reference(xs))))
    assert err < bound, err
    assert err > 0.5 * bound  # the documented error, not a looser fit


@pytest.mark.slow
@pytest.mark.xdist_group("rational-gelu-B-fit")  # shares the fit with test_layers' Rational
def test_rational_non_default_fit() -> None:
    layer = jn.Rational("gelu", degrees=(5, 4), version="B")
    xs = jnp.linspace(-5.0, 5.0, 2001)
    err = float(jnp.max(jnp.abs(layer(xs) - jax.nn.gelu(xs, approximate=False))))
    assert err < 5e-3, err
    assert layer.numerator.shape == (6,) and layer.denominator.shape == (4,)
    chex.assert_type(jn.Rational("gelu", [5, 4], "B", dtype=jnp.bfloat16)(xs), jnp.bfloat16)


# Version D starts from the version-B fit, computed at construction (seconds); the fast
# lane hands it the shipped version-A coefficients instead, the noise is the same.
@pytest.mark.parametrize(
    "fit",
    [
        lane(False, fast=True, id="shipped"),
        lane(True, fast=False, id="fitted", group="rational-gelu-B-fit"),
    ],
)
def test_rational_version_d_noise(fit: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fit:
        shipped = tuple(np.array(c) for c in jaxact.RATIONAL_INIT["gelu"])
        monkeypatch.setattr(layers, "_fit", lambda approx, degrees, version: shipped)
    layer = jn.Rational("gelu", version="D", rngs=nnx.Rngs(dropout=5))
    ref = nnx.Rngs(dropout=5)
    num, den = layer.numerator[...], layer.denominator[...]
    y1, y2 = layer(X), layer(X)
    for y in (y1, y2):
        expected = jaxact.rational(X, num, den, "D", key=ref.dropout(), training=True)
        chex.assert_trees_all_equal(y, expected)
    assert not np.array_equal(y1, y2)
    model = nnx.Sequential(layer)
    model.eval()
    assert layer.deterministic
    chex.assert_trees_all_equal(model(X), jaxact.rational(X, num, den, "B"))
    chex.assert_trees_all_equal(model(X), model(X))
    model.train()
    assert not np.array_equal(model(X), model(X))
    # No noise without version D or in deterministic mode: no rngs needed.
    chex.assert_trees_all_equal(
        jn.Rational("gelu", version="D", deterministic=True)(X),
        jaxact.rational(X, num, den, "B"),
    )
    with pytest.raises(ValueError, match="Rational.*'rngs'"):
        jn.Rational("gelu", version="D")(X)


# ----------------------------------------------------------------------------
# GatedMLP.

GATE_ORACLE: dict[str, Callable[[jax.Array], jax.Array]] = {
    "glu": jax.nn.sigmoid,
    "reglu": jax.nn.relu,
    "geglu": lambda v: jax.nn.gelu(v, approximate=False),
    "geglu_tanh": lambda v: jax.nn.gelu(v, approximate=True),
    "swiglu": jax.nn.silu,
    "bilinear": lambda v: v,
    "mish": lambda v: v * jnp.tanh(jax.nn.softplus(v)),
}


def _dense(lin: nnx.Linear, x: jax.Array) -> jax.Array:
    y = x @ lin.kernel[...]
    return y + lin.bias[...] if lin.use_bias else y


@pytest.mark.parametrize(
    "activation",
    [lane(a, fast=a in ("swiglu", "callable"), id=a) for a in [*GATE_ORACLE, "callable"]],
)
def test_gated_mlp_variants(activation: str) -> None:
    act: Any = jnp.tanh if activation == "callable" else activation
    use_bias = activation in ("swiglu", "geglu", "mish")
    block = jn.GatedMLP(
        6, 8, 5, activation=act, use_bias=use_bias, kernel_init=_np_init, rngs=nnx.Rngs(0)
    )
    _perturb(block)
    params = _params(block)
    assert set(params) == {"gate", "up", "down"}
    assert all(("bias" in p) == use_bias for p in params.values())
    phi = jnp.tanh if activation == "callable" else GATE_ORACLE[activation]
    x = X[0]
    expected = _dense(block.down, phi(_dense(block.gate, x)) * _dense(block.up, x))
    y = block(x)
    chex.assert_shape(y, (4, 5))
    chex.assert_trees_all_close(y, expected, rtol=1e-5, atol=1e-5)


def test_gated_mlp_covers_every_gate() -> None:
    assert set(layers.GATES) <= set(GATE_ORACLE)


@pytest.mark.parametrize("use_bias", [lane(True, fast=True), lane(False, fast=False)])
def test_gated_mlp_fused_equals_unfused(use_bias: bool) -> None:
    unfused = jn.GatedMLP(
        6, 8, activation="geglu", use_bias=use_bias, kernel_init=_np_init, rngs=nnx.Rngs(0)
    )
    fused = jn.GatedMLP(
        6,
        8,
        activation="geglu",
        use_bias=use_bias,
        fused=True,
        kernel_init=_np_init,
        rngs=nnx.Rngs(1),
    )
    _perturb(unfused)
    p = _params(unfused)
    assert set(_params(fused)) == {"gate_up", "down"}
    join = {"kernel": jnp.concatenate([p["up"]["kernel"], p["gate"]["kernel"]], axis=1)}
    if use_bias:
        join["bias"] = jnp.concatenate([p["up"]["bias"], p["gate"]["bias"]])
    _set_params(fused, {"gate_up": join, "down": p["down"]})
    # Same math; XLA may block the wider matmul differently (summation order).
    chex.assert_trees_all_close(fused(X), unfused(X), rtol=1e-5, atol=1e-5)
    gx = jax.grad(lambda x, m: jnp.sum(jnp.sin(m(x))))
    chex.assert_trees_all_close(gx(X, fused), gx(X, unfused), rtol=1e-4, atol=1e-4)


# nnx GatedMLP in the fast lane: test_gated_mlp_variants, the fused test, test_layers.
@pytest.mark.slow
def test_gated_mlp_shapes_dtypes_dropout() -> None:
    block = jn.GatedMLP(6, rngs=nnx.Rngs(0))
    hidden = layers.llama_hidden(6)
    assert block.gate.kernel.shape == (6, hidden) and block.down.kernel.shape == (hidden, 6)
    chex.assert_shape(block(X), X.shape)
    chex.assert_type(block(X.astype(jnp.bfloat16)), jnp.bfloat16)
    chex.assert_type(
        jn.GatedMLP(6, 4, dtype=jnp.bfloat16, kernel_init=_np_init, rngs=nnx.Rngs(0))(X),
        jnp.bfloat16,
    )
    # Dropout on in training, off after eval().
    drop = jn.GatedMLP(
        6, 16, dropout_rate=0.5, kernel_init=_np_init, rngs=nnx.Rngs(params=0, dropout=1)
    )
    y1, y2 = drop(X), drop(X)
    assert not np.array_equal(y1, y2)
    drop.eval()
    expected = _dense(drop.down, jax.nn.silu(_dense(drop.gate, X)) * _dense(drop.up, X))
    chex.assert_trees_all_close(drop(X), expected, rtol=1e-5, atol=1e-5)
    drop.train()
    assert not np.array_equal(drop(X), drop(X))


# ----------------------------------------------------------------------------
# swap_activations.


class MLP(nnx.Module):
    """Linear -> relu attribute -> Linear -> Activation("relu") -> Sequential(relus)."""

    def __init__(self, rngs: nnx.Rngs):
        self.l1 = nnx.Linear(3, 8, kernel_init=_np_init, rngs=rngs)
        self.act = jax.nn.relu
        self.l2 = nnx.Linear(8, 8, kernel_init=_np_init, rngs=rngs)
        self.act2 = jn.Activation("relu")
        self.head = nnx.Sequential(
            nnx.Linear(8, 8, kernel_init=_np_init, rngs=rngs),
            nnx.relu,
            jaxact.relu,
            nnx.Linear(8, 1, kernel_init=_np_init, rngs=rngs),
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(self.act2(self.l2(self.act(self.l1(x)))))


def _mlp_oracle(model: MLP, x: jax.Array, fns: list[Callable[..., Any]]) -> jax.Array:
    a, b, c, d = fns
    h = b(_dense(model.l2, a(_dense(model.l1, x))))
    return _dense(model.head.layers[3], d(c(_dense(model.head.layers[0], h))))


XS = _normal(4, (64, 3))


def test_swap_to_gelu_leaves_input_untouched() -> None:
    mlp = MLP(nnx.Rngs(0))
    before = mlp(XS)
    chex.assert_trees_all_close(before, _mlp_oracle(mlp, XS, [jax.nn.relu] * 4), **TOL)
    new = jn.swap_activations(mlp, "relu", "gelu")
    gelu = [jax.nn.gelu] * 4  # jax.nn's name: its tanh default
    chex.assert_trees_all_close(new(XS), _mlp_oracle(mlp, XS, gelu), rtol=1e-5, atol=1e-6)
    assert not np.allclose(new(XS), before)
    # The input model is untouched.
    chex.assert_trees_all_equal(mlp(XS), before)
    assert mlp.act is jax.nn.relu and mlp.act2.fn == "relu"
    assert mlp.head.layers[1] is nnx.relu and mlp.head.layers[2] is jaxact.relu
    assert isinstance(new.act2, jn.Activation) and new.act2.fn == "gelu"
    chex.assert_trees_all_equal(_params(new), _params(mlp))


@pytest.mark.slow
def test_swap_to_learnable_prelu_trains() -> None:
    mlp = MLP(nnx.Rngs(0))
    new = jn.swap_activations(mlp, jax.nn.relu, jn.PReLU("torch"))
    acts = [new.act, new.act2, new.head.layers[1], new.head.layers[2]]
    assert all(isinstance(a, jn.PReLU) for a in acts)
    assert len({id(a) for a in acts}) == 4  # each match gets its own copy
    leaky = [lambda v: jax.nn.leaky_relu(v, 0.25)] * 4
    chex.assert_trees_all_close(new(XS), _mlp_oracle(mlp, XS, leaky), rtol=1e-5, atol=1e-6)
    y = jnp.sin(3.0 * XS[:, :1])
    losses, grads = _fit(new, XS, y, steps=20, lr=0.02)
    for path in (("act",), ("act2",), ("head", "layers", 1), ("head", "layers", 2)):
        g = grads
        for k in path:
            g = g[k]
        assert g["negative_slope"].shape == () and float(g["negative_slope"]) != 0.0, path
    assert losses[-1] < 0.8 * losses[0], losses
    slopes = [float(a.negative_slope[...]) for a in acts]
    assert all(s != 0.25 for s in slopes), slopes


def test_swap_where_and_errors() -> None:
    mlp = MLP(nnx.Rngs(0))
    seen: list[tuple[Any, ...]] = []

    def only_head(path: tuple[Any, ...], obj: Any) -> bool:
        seen.append(path)
        return path[0] == "head"

    new = jn.swap_activations(mlp, "relu", jn.Swish(), where=only_head)
    assert seen == [("act",), ("act2",), ("head", "layers", 1), ("head", "layers", 2)]
    assert new.act is jax.nn.relu and new.act2.fn == "relu"
    assert isinstance(new.head.layers[1], jn.Swish) and isinstance(new.head.layers[2], jn.Swish)
    with pytest.raises(ValueError, match="swap_activations.*'old'.*tanh"):
        jn.swap_activations(mlp, "tanh", "gelu")
    with pytest.raises(ValueError, match="swap_activations.*'old'"):
        jn.swap_activations(mlp, "relu", "gelu", where=lambda path, obj: False)
    with pytest.raises(ValueError, match="swap_activations.*'old'"):
        jn.swap_activations(mlp, "no_such_activation", "gelu")
    with pytest.raises(ValueError, match="swap_activations.*'new'"):
        jn.swap_activations(mlp, "relu", "no_such_activation")
    with pytest.raises(TypeError, match="swap_activations.*'new'"):
        jn.swap_activations(mlp, "relu", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="swap_activations.*'model'"):
        jn.swap_activations(jax.nn.relu, "relu", "gelu")


class Configured(nnx.Module):
    """Activations as names, flax/jnp functions, containers and layers."""

    def __init__(self, rngs: nnx.Rngs):
        self.act_name = "relu"
        self.fns = (nnx.gelu, jnp.tanh, "torch:GELU")
        self.table = {"a": jaxact.gelu_tanh, "b": jax.nn.silu}
        self.prelu = nnx.PReLU()
        self.snake = jn.Snake()
        self.ffn = jn.GatedMLP(4, 8, activation="swiglu", kernel_init=_np_init, rngs=rngs)
        self.rational = jn.Rational("gelu")  # its approx_func is not a call


def test_swap_matches_names_from_every_library() -> None:
    model = Configured(nnx.Rngs(0))
    # jax.nn.gelu / nnx.gelu is the dispatcher "gelu"; "torch:GELU" is the erf form.
    new = jn.swap_activations(model, "gelu_pytorch_tanh", "silu")
    assert new.fns == model.fns and new.table == {"a": jaxact.silu, "b": jax.nn.silu}
    new = jn.swap_activations(model, nnx.gelu, "silu")
    assert new.fns[0] is jaxact.silu and new.fns[1:] == model.fns[1:]
    assert new.rational.approx_func == "gelu"
    new = jn.swap_activations(model, ["torch:ReLU", "tanh", "transformers:gelu"], "mish")
    assert new.act_name == "mish" and new.fns[1] is jaxact.mish and new.fns[2] == "mish"
    new = jn.swap_activations(model, "prelu", "leaky_relu")
    assert isinstance(new.prelu, jn.Activation) and new.prelu.fn == "leaky_relu"
    new = jn.swap_activations(model, "snake", jn.Snake(alpha_init=2.0, logscale=True))
    assert float(new.snake.log_alpha[...]) == pytest.approx(math.log(2.0))
    new = jn.swap_activations(model, "swiglu", "geglu")
    assert new.ffn.activation == "geglu" and model.ffn.activation == "swiglu"
    x = _normal(6, (3, 4))
    ffn = new.ffn
    phi = GATE_ORACLE["geglu"]
    expected = _dense(ffn.down, phi(_dense(ffn.gate, x)) * _dense(ffn.up, x))
    chex.assert_trees_all_close(ffn(x), expected, rtol=1e-5, atol=1e-6)
    layer = jn.swap_activations(jn.Activation("relu"), "relu", "elu")
    assert isinstance(layer, jn.Activation) and layer.fn == "elu"


def test_swap_matches_partials_by_what_they_compute() -> None:
    exact = functools.partial(nnx.gelu, approximate=False)

    class Gelus(nnx.Module):
        def __init__(self) -> None:
            self.exact = exact
            self.exact_layer = jn.Activation("gelu", approximate=False)
            self.dispatcher = nnx.gelu
            self.tanh = jaxact.gelu_tanh

    model = Gelus()
    new = jn.swap_activations(model, "gelu_tanh", "relu")
    assert new.exact is exact and new.exact_layer.fn == "gelu" and new.tanh is jaxact.relu
    assert new.dispatcher is nnx.gelu
    for erf in ("gelu_erf", "torch:GELU", functools.partial(jax.nn.gelu, approximate=False)):
        new = jn.swap_activations(model, erf, "relu")
        assert new.exact is jaxact.relu and new.exact_layer.fn == "relu", erf
        assert new.dispatcher is nnx.gelu and new.tanh is jaxact.gelu_tanh
    new = jn.swap_activations(model, "gelu", "relu")
    assert new.dispatcher is jaxact.relu and new.exact is exact


class LeakyNet(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.l1 = nnx.Linear(3, 4, kernel_init=_np_init, rngs=rngs)
        self.a = functools.partial(jax.nn.leaky_relu, negative_slope=0.2)
        self.b = jn.Activation("leaky_relu", negative_slope=0.3)
        self.c = "keras:LeakyReLU"  # a name: Keras's class, slope 0.3
        self.d = jax.nn.leaky_relu  # jax.nn's default slope, 0.01

    def __call__(self, x: jax.Array) -> jax.Array:
        c = self.c if callable(self.c) else jaxact.get(self.c)
        return self.d(c(self.b(self.a(self.l1(x)))))


def test_swap_to_learnable_starts_from_the_old_hyperparameter() -> None:
    model = LeakyNet(nnx.Rngs(0))
    new = jn.swap_activations(model, "leaky_relu", jn.PReLU())
    slopes = [float(getattr(new, k).negative_slope[...]) for k in "abcd"]
    assert slopes == pytest.approx([0.2, 0.3, 0.3, 0.01])
    # At its initial values the swapped model computes what the original computes.
    chex.assert_trees_all_close(new(XS), model(XS), rtol=1e-6)
    # An initial value given explicitly (or a trained one) is kept.
    new = jn.swap_activations(model, "leaky_relu", jn.PReLU("torch", num_channels=4))
    np.testing.assert_array_equal(new.a.negative_slope[...], np.full(4, 0.25, np.float32))
    trained = jn.PReLU()
    trained.negative_slope[...] = jnp.float32(0.07)
    new = jn.swap_activations(model, "leaky_relu", trained)
    assert float(new.a.negative_slope[...]) == pytest.approx(0.07)
    # Per channel: every channel starts from the old slope; the template is untouched.
    template = jn.PReLU(num_channels=4)
    new = jn.swap_activations(model, "leaky_relu", template)
    np.testing.assert_allclose(new.b.negative_slope[...], np.full(4, 0.3), rtol=1e-6)
    np.testing.assert_allclose(template.negative_slope[...], np.full(4, 0.01), rtol=1e-6)
    # Snake's alpha in either storage; a learnable layer replaced passes nothing on.
    seq = nnx.Sequential(jn.Activation("snake", alpha=2.0), jn.PReLU(0.3))
    new = jn.swap_activations(seq, ["snake", "prelu"], jn.Snake(logscale=True))
    assert float(new.layers[0].log_alpha[...]) == pytest.approx(math.log(2.0))
    assert float(new.layers[1].log_alpha[...]) == 0.0
    # A value the new layer cannot start from: a warning, and the layer's default.
    bad = nnx.Sequential(jn.Activation("swish_beta", beta=-1.0))
    with pytest.warns(UserWarning, match=r"beta=-1\.0, which cannot start Swish"):
        new = jn.swap_activations(bad, "swish_beta", jn.Swish())
    assert float(new.layers[0].log_beta[...]) == 0.0


class Twice(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.l1 = nnx.Linear(3, 3, kernel_init=_np_init, rngs=rngs)
        self.act = jax.nn.relu

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.act(self.l1(self.act(x)))


def test_learnable_swap_of_an_attribute_called_twice_warns_that_it_is_shared() -> None:
    with pytest.warns(
        UserWarning,
        match=r"jaxact\.nnx\.swap_activations: Twice\.act is called at 2 call sites "
        r"\(line \d+\); the new learnable PReLU layer's parameters are shared between the "
        r"2 call sites",
    ):
        new = jn.swap_activations(Twice(nnx.Rngs(0)), "relu", jn.PReLU())
    assert sorted(_params(new)) == ["act", "l1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jn.swap_activations(Twice(nnx.Rngs(0)), "relu", jn.Activation("gelu"))
        jn.swap_activations(MLP(nnx.Rngs(0)), "relu", jn.PReLU())  # each called once


# ----------------------------------------------------------------------------
# Errors name the layer and the argument; sharding metadata.

BAD: list[tuple[Callable[[], Any], str, type[Exception]]] = [
    (lambda: jn.Activation("no_such_activation"), "Activation.*'fn'", ValueError),
    (lambda: jn.Activation(3), "Activation.*'fn'", TypeError),
    (lambda: jn.Activation("elu", params=[1.0]), "Activation.*'params'", TypeError),
    (lambda: jn.Activation("elu", beta=1.0), "Activation.*'beta'", TypeError),
    (lambda: jn.Activation("elu", alpha=jnp.ones(2)), "Activation.*'alpha'", TypeError),
    (lambda: jn.Activation("relu")("x"), "Activation.*'x'", TypeError),
    (lambda: jn.PReLU("pytorch"), "PReLU.*'negative_slope_init'", ValueError),
    (lambda: jn.PReLU(num_channels=0), "PReLU.*'num_channels'", ValueError),
    (lambda: jn.PReLU(num_channels=3, sharding="model"), "PReLU.*'sharding'", TypeError),
    (lambda: jn.PReLU(num_channels=3)(jnp.ones((2, 4))), "PReLU.*'x'", ValueError),
    (lambda: jn.Swish(beta_init=-1.0), "Swish.*'beta_init'", ValueError),
    (lambda: jn.Swish(axis=1.5), "Swish.*'axis'", TypeError),  # type: ignore[arg-type]
    (lambda: jn.StarReLU(scale_init=float("nan")), "StarReLU.*'scale_init'", ValueError),
    (lambda: jn.XIELU(alpha_n_init=0.4), "XIELU.*'alpha_n_init'", ValueError),
    (lambda: jn.Snake(logscale=1), "Snake.*'logscale'", TypeError),  # type: ignore[arg-type]
    (lambda: jn.Snake(alpha_init=0.0, logscale=True), "Snake.*'alpha_init'", ValueError),
    (lambda: jn.SnakeBeta(beta_init=0.0), "SnakeBeta.*'beta_init'", ValueError),
    (lambda: jn.ACONC(beta_init=0.0), "ACONC.*'beta_init'", ValueError),
    (lambda: jn.SMU(mu_init=-2.0), "SMU.*'mu_init'", ValueError),
    (lambda: jn.PELU(b_init=0.0), "PELU.*'b_init'", ValueError),
    (lambda: jn.Rational("cosh"), "Rational.*'approx_func'", ValueError),
    (lambda: jn.Rational(version="E"), "Rational.*'version'", ValueError),
    (lambda: jn.Rational(degrees=(5,)), "Rational.*'degrees'", ValueError),  # type: ignore[arg-type]
    (lambda: jn.MetaACON(0, rngs=nnx.Rngs(0)), "MetaACON.*'num_channels'", ValueError),
    (lambda: jn.MetaACON(4, rngs=None), "MetaACON.*'rngs'", ValueError),  # type: ignore[arg-type]
    (lambda: jn.GatedMLP(0, rngs=nnx.Rngs(0)), "GatedMLP.*'in_features'", ValueError),
    (lambda: jn.GatedMLP(4, -1, rngs=nnx.Rngs(0)), "GatedMLP.*'hidden_features'", ValueError),
    (
        lambda: jn.GatedMLP(4, dropout_rate=1.0, rngs=nnx.Rngs(0)),
        "GatedMLP.*'dropout_rate'",
        ValueError,
    ),
    (
        lambda: jn.GatedMLP(4, activation="nope", rngs=nnx.Rngs(0)),
        "GatedMLP.*'activation'",
        ValueError,
    ),
    (
        lambda: jn.GatedMLP(4, 8, kernel_init=_np_init, rngs=nnx.Rngs(0))(jnp.ones((2, 3))),
        "GatedMLP.*'x'",
        ValueError,
    ),
]


@pytest.mark.parametrize(
    "make,pattern,kind", BAD, ids=[p.split(".")[0] + str(i) for i, (_, p, _) in enumerate(BAD)]
)
def test_errors_name_layer_and_argument(
    make: Callable[[], Any], pattern: str, kind: type[Exception]
) -> None:
    with pytest.raises(kind, match=pattern):
        make()


def test_sharding_annotates_per_channel_params() -> None:
    mesh = jax.make_mesh((1,), ("model",))
    with jax.set_mesh(mesh):
        prelu = jn.PReLU(num_channels=4, sharding=("model",))
        shared = jn.Swish(sharding=("model",))
        meta = jn.MetaACON(4, ratio=2, sharding=("model",), rngs=nnx.Rngs(0))
    specs = nnx.to_pure_dict(nnx.get_partition_spec(nnx.state(prelu)))
    assert specs["negative_slope"] == jax.sharding.PartitionSpec("model")
    assert "out_sharding" not in shared.log_beta.get_metadata()
    specs = nnx.to_pure_dict(nnx.get_partition_spec(nnx.state(meta)))
    assert specs["w1"] == jax.sharding.PartitionSpec(None, "model")
    assert specs["w2"] == jax.sharding.PartitionSpec("model", None)
    chex.assert_trees_all_close(prelu(X[..., :4]), _prelu(prelu, X[..., :4]), **TOL)
