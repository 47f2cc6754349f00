"""jaxact.sites / jaxact.substitute / jaxact.monitor.health on models written in the
styles real code uses: inline calls in ``@nn.compact``, a stem relu plus an ``act``
field, ``nn.scan`` + ``nn.remat`` blocks, nnx methods calling ``nnx.gelu``, a
``custom_jvp`` function holding an activation, and flax's attention.

Each substituted model is compared with the same model edited by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jaxact
from jaxact.monitor import format_health, health

F32 = np.finfo(np.float32).eps

# ----------------------------------------------------------------------------
# The six model styles. Each is written once with its activations as class
# attributes, so that "edited by hand" is the same class with them changed.


class InlineMLP(nn.Module):
    """Style 1: ``x = nn.relu(x)`` inline in ``@nn.compact``."""

    act = staticmethod(nn.relu)

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(16)(x)
        x = self.act(x)
        x = nn.Dense(16)(x)
        x = self.act(x)
        return nn.Dense(4)(x)


class ResBlock(nn.Module):
    act: Callable[..., Any] = nn.relu

    @nn.compact
    def __call__(self, x):
        y = self.act(nn.Conv(4, (3, 3))(x))
        y = nn.Conv(4, (3, 3))(y)
        return self.act(x + y)


class ResNet(nn.Module):
    """Style 2: the stem's inline relu plus an ``act`` field used in the blocks."""

    act: Callable[..., Any] = nn.relu
    stem_act = staticmethod(nn.relu)

    @nn.compact
    def __call__(self, x):
        x = self.stem_act(nn.Conv(4, (3, 3), name="stem")(x))
        for i in range(2):
            x = ResBlock(act=self.act, name=f"block{i}")(x)
        return nn.Dense(3)(x.mean(axis=(1, 2)))


class ScanBlock(nn.Module):
    act = staticmethod(nn.gelu)

    @nn.compact
    def __call__(self, c, _):
        return c + nn.Dense(8)(self.act(nn.Dense(16)(c))), None


class ScanNet(nn.Module):
    """Style 3: ``nn.scan`` over ``nn.remat`` blocks (big_vision's ViT encoder)."""

    block: type = ScanBlock
    depth: int = 3

    @nn.compact
    def __call__(self, x):
        stack = nn.scan(
            nn.remat(self.block),
            variable_axes={"params": 0},
            split_rngs={"params": True},
            length=self.depth,
        )
        x, _ = stack(name="encoder")(x, None)
        return jnp.tanh(x)


class NnxMLP(nnx.Module):
    """Style 4: nnx, ``nnx.gelu`` inline in ``__call__`` and ``nnx.relu`` in a helper method."""

    act = staticmethod(nnx.gelu)
    inner = staticmethod(nnx.relu)

    def __init__(self, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(8, 16, rngs=rngs)
        self.fc2 = nnx.Linear(16, 16, rngs=rngs)
        self.out = nnx.Linear(16, 4, rngs=rngs)

    def hidden(self, x):
        return self.inner(self.fc2(x))

    def __call__(self, x):
        return self.out(self.hidden(self.act(self.fc1(x))))


def _make_custom(act: Callable[..., Any]) -> Callable[..., Any]:
    """Style 5: a custom_jvp function whose body holds an activation (its rule is
    the body's own derivative, written with ``jax.jvp``)."""

    def body(x):
        return x * act(x) + 0.5 * x

    @jax.custom_jvp
    def gated(x):
        return body(x)

    @gated.defjvp
    def _jvp(primals, tangents):
        return jax.jvp(body, primals, tangents)

    def model(params, x):
        return gated(x @ params["w"]) @ params["v"]

    return model


class AttnBlock(nn.Module):
    """Style 6: flax's MultiHeadDotProductAttention (softmax inside) + an erf-GELU MLP."""

    act = staticmethod(functools.partial(nn.gelu, approximate=False))

    @nn.compact
    def __call__(self, x):
        x = x + nn.MultiHeadDotProductAttention(num_heads=2, name="attn")(x)
        return x + nn.Dense(8)(self.act(nn.Dense(16, name="up")(x)))


def _with(cls: type, **acts: Any) -> type:
    """``cls`` edited by hand: the same class with its activations changed."""
    return type(cls.__name__, (cls,), {k: staticmethod(v) for k, v in acts.items()})


KEY = jax.random.key(0)


@functools.cache
def _linen(style: str) -> tuple[nn.Module, Any, jax.Array]:
    if style == "inline":
        model, x = InlineMLP(), jax.random.normal(KEY, (4, 8))
    elif style == "resnet":
        model, x = ResNet(), jax.random.normal(KEY, (2, 6, 6, 3))
    elif style == "scan":
        model, x = ScanNet(), jax.random.normal(KEY, (4, 8))
    else:
        model, x = AttnBlock(), jax.random.normal(KEY, (2, 5, 8))
    return model, model.init(jax.random.key(1), x), x


def _table(found: jaxact.sites) -> list[tuple[str, int | None, str]]:  # type: ignore[valid-type]
    return [(s.name, s.count, s.where) for s in found]


# ----------------------------------------------------------------------------
# sites: exactly the expected sites, counts and paths.


def test_sites_inline_linen():
    model, v, x = _linen("inline")
    assert _table(jaxact.sites(model.apply, v, x)) == [
        ("relu", 1, "InlineMLP"),
        ("relu", 1, "InlineMLP"),
    ]


@pytest.mark.slow
def test_sites_resnet_stem_and_field():
    model, v, x = _linen("resnet")
    found = jaxact.sites(model.apply, v, x)
    assert _table(found) == [
        ("relu", 1, "ResNet"),
        ("relu", 1, "ResNet/block0"),
        ("relu", 1, "ResNet/block0"),
        ("relu", 1, "ResNet/block1"),
        ("relu", 1, "ResNet/block1"),
    ]
    assert [s.shape for s in found] == [(2, 6, 6, 4)] * 5
    assert [s.source for s in found] == ["jax.nn.relu"] * 5


def test_sites_scan_remat_counts_each_layer():
    model, v, x = _linen("scan")
    found = jaxact.sites(model.apply, v, x)
    assert _table(found) == [("gelu_tanh", 3, "ScanNet/encoder"), ("tanh", 1, "ScanNet")]
    assert found[0].context == ("scan", "remat2") and found[0].scans == (3,)
    assert found[0].shape == (4, 16)


def test_sites_nnx_module_paths_and_state_function():
    model = NnxMLP(nnx.Rngs(0))
    x = jax.random.normal(KEY, (4, 8))
    # The module itself: paths from its submodule tree (methods included).
    found = jaxact.sites(model, x)
    assert [(s.name, s.count) for s in found] == [("gelu_tanh", 1), ("relu", 1)]
    # A function of nnx.split state: no name stack, the source line instead.
    graphdef, state = nnx.split(model)
    found = jaxact.sites(lambda s, x: nnx.merge(graphdef, s)(x), state, x)
    assert [s.name for s in found] == ["gelu_tanh", "relu"]
    assert all(s.location.startswith("test_sites.py:") for s in found)
    assert found[0].location != found[1].location


def test_sites_inside_custom_jvp_and_cond_and_while():
    params = {"w": jnp.eye(4), "v": jnp.eye(4)}
    model = _make_custom(jax.nn.relu)
    found = jaxact.sites(model, params, jnp.ones((2, 4)))
    assert [(s.name, s.context) for s in found] == [("relu", ("custom_jvp_call",))]

    def branchy(x):
        y = jax.lax.cond(x.sum() > 0, jax.nn.silu, jnp.tanh, x)
        return jax.lax.while_loop(lambda c: c.sum() < 10.0, lambda c: c + jax.nn.softplus(c), y)

    found = jaxact.sites(branchy, jnp.ones(3))
    assert [(s.name, s.count) for s in found] == [("tanh", 1), ("silu", 1), ("softplus", None)]
    assert found[2].context == ("while",)


@pytest.mark.slow
def test_sites_attention_softmax_axis_and_gelu_form():
    model, v, x = _linen("attention")
    found = jaxact.sites(model.apply, v, x)
    assert [(s.name, dict(s.params), s.where) for s in found] == [
        ("softmax", {"axis": 3}, "AttnBlock/attn"),
        ("gelu_erf", {}, "AttnBlock"),
    ]
    assert found[0].shape == (2, 2, 5, 5)  # batch, heads, queries, keys


def test_sites_table_prints():
    model, v, x = _linen("scan")
    text = str(jaxact.sites(model.apply, v, x))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["#", "activation", "params"]
    assert "gelu_tanh" in lines[2] and " 3 " in lines[2] and "ScanNet/encoder" in lines[2]
    assert str(jaxact.sites(lambda x: x * 2, jnp.ones(2))) == "(no activation sites)"


def test_sites_recognise_what_is_computed():
    x = jnp.linspace(-2, 2, 12).reshape(3, 4)

    def f(x):
        y = jax.nn.leaky_relu(x, 0.2)  # slope read from the call
        y = jaxact.leaky_relu(y, 0.3)  # a Python number folded into the trace
        y = jnp.maximum(y, 0.0)  # a clamp (as in LayerNorm's variance): no site
        y = y * jax.nn.sigmoid(y)  # silu spelled out
        y = jaxact.get("torch:GELU")(y)  # erf form under its torch name
        y = 0.5 * y * (1.0 + jax.lax.erf(y / jnp.sqrt(2.0)))  # erf GELU written out
        y = y * jax.nn.sigmoid(1.702 * y)  # QuickGELU written out
        y = jax.nn.elu(y, jnp.float32(0.5))  # a strongly typed scalar hyperparameter
        return jax.nn.log_softmax(y, axis=0)

    found = jaxact.sites(f, x)
    assert [(s.name, dict(s.params)) for s in found] == [
        ("leaky_relu", {"negative_slope": pytest.approx(0.2)}),
        ("leaky_relu", {"negative_slope": pytest.approx(0.3)}),
        ("silu", {}),
        ("gelu_erf", {}),
        ("gelu_erf", {}),
        ("quick_gelu", {}),
        ("elu", {"alpha": pytest.approx(0.5)}),
        ("log_softmax", {"axis": 0}),
    ]


@pytest.mark.slow
def test_sites_bfloat16_and_jitted_functions():
    f = jax.jit(lambda x: jax.nn.silu(jaxact.mish(x)))
    found = jaxact.sites(f, jnp.ones((2, 3), jnp.bfloat16))
    assert [(s.name, s.dtype) for s in found] == [("mish", "bfloat16"), ("silu", "bfloat16")]


def test_sites_learnable_layers_read_their_parameters():
    from jaxact import nnx as jn

    model = nnx.Sequential(
        nnx.Linear(4, 6, rngs=nnx.Rngs(0)),
        jn.PReLU(num_channels=6),  # one slope per channel
        jn.PReLU(),  # one scalar slope
        jn.Swish(),  # a learnable scalar beta
    )
    found = jaxact.sites(model, jnp.ones((2, 4)))
    assert [(s.name, dict(s.params), s.where) for s in found] == [
        ("leaky_relu", {"negative_slope": "traced"}, "layers/1"),
        ("leaky_relu", {"negative_slope": "traced"}, "layers/2"),
        ("swish_beta", {"beta": "traced"}, "layers/3"),
    ]


# ----------------------------------------------------------------------------
# substitute: the same outputs and gradients as the model edited by hand.


def _close(a: Any, b: Any, rtol: float = 2e-5, atol: float = 1e-6) -> None:
    for u, w in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(u), np.asarray(w), rtol=rtol, atol=atol)


def _check_linen(model: nn.Module, edited: nn.Module, v: Any, x: Any, mapping: Any, **kw) -> None:
    sub = jaxact.substitute(model.apply, mapping, **kw)

    def loss(apply, v, x):
        return jnp.sum(jnp.sin(apply(v, x)))

    _close(jax.jit(sub)(v, x), edited.apply(v, x))
    _close(
        jax.grad(loss, argnums=(1, 2))(sub, v, x),
        jax.grad(loss, argnums=(1, 2))(edited.apply, v, x),
    )
    # It did change something: the original differs.
    assert not np.allclose(model.apply(v, x), edited.apply(v, x), atol=1e-4)


def test_substitute_inline_linen_like_hand_edit():
    model, v, x = _linen("inline")
    edited = _with(InlineMLP, act=jaxact.gelu)()
    _check_linen(model, edited, v, x, {"relu": "gelu"})


@pytest.mark.slow
def test_substitute_resnet_stem_and_field():
    model, v, x = _linen("resnet")
    edited = _with(ResNet, stem_act=jaxact.silu)(act=jaxact.silu)
    _check_linen(model, edited, v, x, {jax.nn.relu: "silu"})
    # Only the blocks: the stem keeps its relu.
    edited = ResNet(act=jaxact.elu)
    _check_linen(model, edited, v, x, {"relu": "elu"}, where="ResNet/block*")


def test_substitute_scan_remat():
    model, v, x = _linen("scan")
    edited = ScanNet(block=_with(ScanBlock, act=jaxact.mish))
    _check_linen(model, edited, v, x, {"gelu_tanh": "mish"})


@pytest.mark.slow
def test_substitute_attention_by_library_name_and_callable_key():
    model, v, x = _linen("attention")
    edited = _with(AttnBlock, act=jaxact.silu)()
    _check_linen(model, edited, v, x, {"torch:GELU": "silu"})
    _check_linen(model, edited, v, x, {functools.partial(jax.nn.gelu, approximate=False): "silu"})
    with pytest.raises(ValueError, match="matches no activation site"):
        jaxact.substitute(model.apply, {"gelu_tanh": "silu"})(v, x)


@pytest.mark.slow
def test_substitute_softmax_keeps_its_axis():
    model, v, x = _linen("attention")

    # By hand: flax's attention with softmax1 in place of its softmax.
    def attention_fn(q, k, v_, **kw):
        w = jnp.einsum("...qhd,...khd->...hqk", q / jnp.sqrt(q.shape[-1]), k)
        return jnp.einsum("...hqk,...khd->...qhd", jaxact.softmax1(w, axis=-1), v_)

    class HandEdited(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = x + nn.MultiHeadDotProductAttention(
                num_heads=2, name="attn", attention_fn=attention_fn
            )(x)
            return x + nn.Dense(8)(nn.gelu(nn.Dense(16, name="up")(x), approximate=False))

    sub = jaxact.substitute(model.apply, {"softmax": "softmax1"})
    _close(jax.jit(sub)(v, x), HandEdited().apply(v, x))
    assert not np.allclose(model.apply(v, x), HandEdited().apply(v, x), atol=1e-4)


def test_substitute_nnx_state_function():
    model = NnxMLP(nnx.Rngs(0))
    x = jax.random.normal(KEY, (4, 8))
    graphdef, state = nnx.split(model)

    def fwd(state, x):
        return nnx.merge(graphdef, state)(x)

    edited = _with(NnxMLP, act=jaxact.silu, inner=jaxact.softplus)(nnx.Rngs(0))
    graph_e, state_e = nnx.split(edited)

    def fwd_e(state, x):
        return nnx.merge(graph_e, state)(x)

    sub = jaxact.substitute(fwd, {"gelu": "silu", "relu": "softplus"})
    _close(jax.jit(sub)(state, x), fwd_e(state_e, x))
    with pytest.raises(TypeError, match=r"nnx Module; substitute a function of its state"):
        jaxact.substitute(model, {"gelu": "silu"})
    g = jax.grad(lambda s: jnp.sum(sub(s, x) ** 2))(state)
    g_e = jax.grad(lambda s: jnp.sum(fwd_e(s, x) ** 2))(state_e)
    _close(g, g_e)


def test_substitute_custom_jvp_body():
    params = {
        "w": jax.random.normal(KEY, (4, 4)),
        "v": jax.random.normal(jax.random.key(2), (4, 3)),
    }
    x = jax.random.normal(jax.random.key(3), (5, 4))
    model, edited = _make_custom(jax.nn.relu), _make_custom(jaxact.gelu_erf)
    sub = jaxact.substitute(model, {"relu": "gelu_erf"})
    _close(sub(params, x), edited(params, x))
    loss = lambda f: lambda p: jnp.sum(f(p, x) ** 2)  # noqa: E731
    _close(jax.grad(loss(sub))(params), jax.grad(loss(edited))(params))


@pytest.mark.slow
def test_substitute_composes_with_jit_grad_vmap():
    def f(x):
        return jnp.sum(jax.nn.relu(x) * jnp.tanh(x))

    sub = jaxact.substitute(f, {"relu": ("leaky_relu", {"negative_slope": 0.2})})

    def edited(x):
        return jnp.sum(jaxact.leaky_relu(x, 0.2) * jnp.tanh(x))

    xs = jax.random.normal(KEY, (3, 5))
    _close(jax.vmap(sub)(xs), jax.vmap(edited)(xs))
    _close(jax.jit(jax.vmap(jax.grad(sub)))(xs), jax.vmap(jax.grad(edited))(xs))
    _close(jax.grad(jax.jit(sub))(xs[0]), jax.grad(edited)(xs[0]))
    hess = jax.hessian(jaxact.substitute(f, {"relu": "softplus"}))(xs[0])
    hess_e = jax.hessian(lambda x: jnp.sum(jaxact.softplus(x) * jnp.tanh(x)))(xs[0])
    _close(hess, hess_e)


def test_substitute_keeps_hyperparameters_of_the_same_row():
    def f(x):
        return jax.nn.elu(jax.nn.leaky_relu(x, 0.3), 0.7)

    x = jnp.linspace(-3, 3, 7)
    sub = jaxact.substitute(f, {"leaky_relu": "leaky_relu", "elu": "keras:elu"})
    # Same row, no new keywords: the slope is kept; a library preset has its own.
    _close(sub(x), jaxact.get("keras:elu")(jaxact.leaky_relu(x, 0.3)))
    sub = jaxact.substitute(f, {"leaky_relu": ("leaky_relu", {"negative_slope": 0.1})})
    _close(sub(x), jax.nn.elu(jaxact.leaky_relu(x, 0.1), 0.7))


def test_substitute_where_by_index_predicate_and_errors():
    def f(x):
        return jax.nn.relu(jax.nn.relu(x) - 1.0) + jax.nn.relu(-x)

    x = jnp.linspace(-2, 2, 9)
    sub = jaxact.substitute(f, {"relu": "softplus"}, where=[0, 2])
    _close(sub(x), jax.nn.relu(jaxact.softplus(x) - 1.0) + jaxact.softplus(-x))
    sub = jaxact.substitute(f, {"relu": "softplus"}, where=lambda s: s.index == 1)
    _close(sub(x), jaxact.softplus(jax.nn.relu(x) - 1.0) + jax.nn.relu(-x))
    with pytest.raises(ValueError, match=r"(?s)matches no activation site.*relu"):
        jaxact.substitute(f, {"gelu_erf": "silu"})(x)
    with pytest.raises(ValueError, match="selected by 'where'"):
        jaxact.substitute(f, {"relu": "silu"}, where=7)(x)
    # Unknown names: the registry's error (a KeyError too), one prefix.
    unknown = r"^jaxact.substitute: argument 'mapping': unknown activation '{}'"
    with pytest.raises(jaxact.registry.UnknownActivationError, match=unknown.format("relux")):
        jaxact.substitute(f, {"relux": "silu"})
    with pytest.raises(jaxact.registry.UnknownActivationError, match=unknown.format("gelux")):
        jaxact.substitute(f, {"relu": "gelux"})
    with pytest.raises(TypeError, match="argument 'mapping'"):
        jaxact.substitute(f, ["relu"])
    with pytest.raises(ValueError, match="argument 'mapping'"):
        jaxact.substitute(f, "torch")
    with pytest.raises(TypeError, match="argument 'where'"):
        jaxact.substitute(f, {"relu": "silu"}, where=2.5)
    with pytest.raises(TypeError, match="argument 'fn'"):
        jaxact.substitute(3, {"relu": "silu"})
    with pytest.raises(ValueError, match="returns shape"):
        jaxact.substitute(f, {"relu": lambda x: x[:1]})(x)


# ----------------------------------------------------------------------------
# substitute(fn, "jaxact"): the same math, finite where jax.nn's gradients are not.


@pytest.mark.slow
@pytest.mark.parametrize("style", ["inline", "resnet", "scan", "attention"])
def test_substitute_jaxact_equals_the_original(style):
    model, v, x = _linen(style)
    sub = jaxact.substitute(model.apply, "jaxact")
    ours, theirs = np.asarray(jax.jit(sub)(v, x)), np.asarray(model.apply(v, x))
    scale = np.max(np.abs(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2 * F32 * scale * np.sqrt(x.shape[-1]))
    assert {s.source.split(".")[0] for s in jaxact.sites(sub, v, x)} == {"jaxact"}


def _softplus64(x):
    return np.logaddexp(0.0, x)


# float64 references of the functions jax.nn computes (gelu: its tanh form).
TRUTH = {
    jax.nn.relu: lambda x: np.maximum(x, 0.0),
    jax.nn.silu: lambda x: x / (1 + np.exp(-x)),
    jax.nn.elu: lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    jax.nn.softplus: _softplus64,
    jax.nn.sigmoid: lambda x: 1 / (1 + np.exp(-x)),
    jnp.tanh: np.tanh,
    # 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), without the cancellation.
    jax.nn.gelu: lambda x: x / (1 + np.exp(-2 * np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    jax.nn.mish: lambda x: x * np.tanh(_softplus64(x)),
}


# Every elementwise jax.nn function in both tiers: the full suite (the fast lane's
# substitute tests check values on the model styles above).
@pytest.mark.slow
@pytest.mark.parametrize("tier", ["fast", "accurate"])
def test_substitute_jaxact_elementwise_within_two_ulp(tier):
    """jaxact's version is never further from the truth than jax.nn's by more than
    2 ulp-scaled (eps * max(|f|, 1)) -- and it keeps the tails jax.nn loses."""
    x = np.linspace(-12, 12, 6001, dtype=np.float32)
    for f, truth in TRUTH.items():
        with jaxact.precision(tier):
            ours = np.asarray(jaxact.substitute(f, "jaxact")(jnp.asarray(x)), np.float64)
        theirs = np.asarray(f(jnp.asarray(x)), np.float64)
        t = truth(x.astype(np.float64))
        allowed = np.abs(theirs - t) + 2 * F32 * np.maximum(np.abs(t), 1.0)
        assert np.all(np.abs(ours - t) <= allowed), (f, np.max(np.abs(ours - t) - allowed))
    # The tail jax.nn's gelu loses (its value is 0 for x < -5.5 or so): kept.
    tail = jaxact.substitute(jax.nn.gelu, "jaxact")(jnp.float32(-8.0))
    assert float(jax.nn.gelu(jnp.float32(-8.0))) == 0.0
    np.testing.assert_allclose(float(tail), TRUTH[jax.nn.gelu](-8.0), rtol=1e-4)


def test_substitute_jaxact_gradients_finite_where_jax_nn_nan():
    def model(x):
        return jnp.sum(jax.nn.gelu(x) + jax.nn.mish(x) + jax.nn.softplus(x))

    x = jnp.array([-1e20, -100.0, 0.0, 3.0, 1e20])
    assert not np.all(np.isfinite(jax.grad(model)(x)))  # jax.nn's gelu: inf * 0
    g = jax.grad(jaxact.substitute(model, "jaxact"))(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[-1], 3.0, rtol=1e-6)  # gelu' + mish' + softplus' -> 1 + 1 + 1


# ----------------------------------------------------------------------------
# monitor.health: the per-site numbers equal hand-computed ones.


def test_health_matches_hand_computation():
    x = jnp.array([[-1.0, 2.0, -0.5], [-3.0, 4.0, 0.25]])

    def f(x):
        return jnp.tanh(jax.nn.relu(x) * 3.0)

    stats = health(f, x)
    keys = list(stats)
    assert [k.split(":")[0] for k in keys] == ["test_sites.py"] * 2
    assert [k.split(":")[-1] for k in keys] == ["relu", "tanh"]  # one line holds both
    relu, tanh = stats.values()
    r = np.maximum(np.asarray(x), 0)
    t = np.tanh(3 * r)
    # relu: unit 0 has x < 0 at both samples -> dead; units 1, 2 alive.
    np.testing.assert_allclose(relu["dead"], 1 / 3)
    np.testing.assert_allclose(relu["saturated"], 0.0)
    np.testing.assert_allclose(relu["mean"], r.mean(), rtol=1e-6)
    np.testing.assert_allclose(relu["std"], r.std(), rtol=1e-6)
    # loss = 0.5 mean(t^2): dL/dt = t / N; dL/dr = 3 (1 - t^2) t / N.
    n = t.size
    np.testing.assert_allclose(tanh["grad_norm"], np.linalg.norm(t / n), rtol=1e-5)
    np.testing.assert_allclose(relu["grad_norm"], np.linalg.norm(3 * (1 - t**2) * t / n), rtol=1e-5)
    # tanh is bounded: saturated where |tanh'| < 1e-2 (its peak is 1).
    slope = 1 - t**2
    np.testing.assert_allclose(tanh["saturated"], np.mean(slope < 1e-2))
    np.testing.assert_allclose(tanh["dead"], 0.0)


@pytest.mark.slow
def test_health_scan_collects_every_call_and_takes_a_loss():
    model, v, x = _linen("scan")

    def loss(out):
        return jnp.sum(out)

    stats = jax.jit(lambda v, x: health(model.apply, v, x, loss=loss))(v, x)
    assert set(stats) == {"ScanNet/encoder", "ScanNet"}  # (jit returns dicts sorted)
    enc = stats["ScanNet/encoder"]

    # By hand: run the layers one by one and record the gelu inputs/outputs.
    p = v["params"]["encoder"]
    c, ys = x, []
    for i in range(3):
        # Dense(8) is created before the Dense(16) inside its argument: Dense_0.
        d0 = jax.tree.map(lambda a, i=i: a[i], p["Dense_1"])
        d1 = jax.tree.map(lambda a, i=i: a[i], p["Dense_0"])
        h = c @ d0["kernel"] + d0["bias"]
        y = jax.nn.gelu(h)
        ys.append(np.asarray(y))
        c = c + y @ d1["kernel"] + d1["bias"]
    allys = np.stack(ys)
    np.testing.assert_allclose(enc["mean"], allys.mean(), rtol=1e-5)
    np.testing.assert_allclose(enc["std"], allys.std(), rtol=1e-4)
    # Gradient arriving at the gelu outputs of all three layers, by hand.
    grads = jax.grad(lambda e: jnp.sum(_scan_with_probe(v, x, e)))(jnp.zeros((3, 4, 16)))
    np.testing.assert_allclose(enc["grad_norm"], np.linalg.norm(grads), rtol=1e-5)
    assert stats["ScanNet"]["dead"] == 0  # tanh: never exactly flat


def _scan_with_probe(v: Any, x: Any, eps: Any) -> Any:
    p = v["params"]["encoder"]
    c = x
    for i in range(3):
        # Dense(8) is created before the Dense(16) inside its argument: Dense_0.
        d0 = jax.tree.map(lambda a, i=i: a[i], p["Dense_1"])
        d1 = jax.tree.map(lambda a, i=i: a[i], p["Dense_0"])
        y = jax.nn.gelu(c @ d0["kernel"] + d0["bias"]) + eps[i]
        c = c + y @ d1["kernel"] + d1["bias"]
    return jnp.tanh(c)


@pytest.mark.slow
def test_health_nnx_model_paths_vector_and_while():
    from jaxact.demo.model import MLP

    model = MLP(8, (6, 6), 3, "relu", rngs=nnx.Rngs(0))
    x = jax.random.normal(KEY, (16, 8))
    stats = health(model, x)
    assert list(stats) == ["layers/1", "layers/3"]
    h1 = model.layers[0](x)
    dead = np.mean(np.all(np.asarray(h1) <= 0, axis=0))
    np.testing.assert_allclose(stats["layers/1"]["dead"], dead)
    assert "grad norm" in format_health(stats)

    def g(x):
        y = jax.nn.softmax(x)
        return jax.lax.while_loop(lambda c: c.sum() < 10.0, lambda c: c + jax.nn.softplus(c), y)

    s = list(health(g, jnp.ones((2, 3))).values())
    assert np.isnan(s[0]["dead"]) and np.isfinite(s[0]["mean"])  # softmax: vector
    assert all(np.isnan(v) for v in s[1].values())  # inside a while loop
    with pytest.raises(TypeError, match="argument 'loss'"):
        health(g, jnp.ones(3), loss=3)


# ----------------------------------------------------------------------------
# No run-time cost: a substituted block compiles to the work of the hand edit.
# (Its step time is measured by `python -m benchmarks.substitute`.)


@pytest.mark.parametrize(
    "block",
    [
        "mlp_gelu_tanh",
        pytest.param("vit", marks=pytest.mark.slow),
        pytest.param("resnet", marks=pytest.mark.slow),
    ],
)
def test_substitute_compiles_to_the_hand_edits_work(block):
    from benchmarks.substitute import _costs, opcodes, substituted_step
    from jaxact.bench.blocks import block_step, init_block, make_block
    from jaxact.bench.config import QUICK_BLOCK_SHAPE

    theirs, input_shape = make_block(block, "jax.nn", QUICK_BLOCK_SHAPE, jnp.float32)
    mine, _ = make_block(block, "jaxact", QUICK_BLOCK_SHAPE, jnp.float32)
    params, state, x = init_block(theirs, input_shape, jnp.float32)
    args = (params, x, state)
    sub = jax.jit(substituted_step(theirs)).lower(*args).compile()
    hand = jax.jit(block_step(mine)).lower(*args).compile()
    orig = jax.jit(block_step(theirs)).lower(*args).compile()
    _close(sub(*args), hand(*args))
    cs, ch, co = _costs(sub), _costs(hand), _costs(orig)
    assert cs["flops"] == pytest.approx(ch["flops"], rel=1e-3)
    assert cs["bytes"] == pytest.approx(ch["bytes"], rel=1e-2)
    assert cs["temp_bytes"] <= 1.01 * ch["temp_bytes"]
    assert cs["flops"] != pytest.approx(co["flops"], rel=1e-4)  # it did change the program
    # The optimised programs hold the same instructions, opcode by opcode.
    assert opcodes(sub) == opcodes(hand) and opcodes(sub) != opcodes(orig)


@pytest.mark.slow
def test_substitute_benchmark_script_runs(capsys):
    from benchmarks import substitute as bench

    assert (
        bench.main(
            [
                "--blocks",
                "mlp_gelu_erf",
                "--repeats",
                "2",
                "--warmup",
                "1",
                "--shape",
                "2,16,32,2,2,8,8",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "mlp_gelu_erf" in out and "worst median ratio" in out


@pytest.mark.slow
def test_sites_and_substitute_under_x64():
    with jax.enable_x64(True):
        x = jnp.linspace(-2, 2, 8)  # float64

        def f(x):
            return jax.nn.gelu(jax.nn.leaky_relu(x, 0.2))

        found = jaxact.sites(f, x)
        assert [(s.name, s.dtype, dict(s.params)) for s in found] == [
            ("leaky_relu", "float64", {"negative_slope": pytest.approx(0.2)}),
            ("gelu_tanh", "float64", {}),
        ]
        sub = jaxact.substitute(f, "jaxact")
        assert [s.source for s in jaxact.sites(sub, x)] == ["jaxact.leaky_relu", "jaxact.gelu_tanh"]
        np.testing.assert_allclose(sub(x), f(x), rtol=1e-14, atol=1e-15)


# ----------------------------------------------------------------------------
# The target: every activation call site of the six styles found and replaceable.


def _styles() -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    out: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
    for style in ("inline", "resnet", "scan", "attention"):
        model, v, x = _linen(style)
        out[style] = (model.apply, (v, x))
    nnx_model = NnxMLP(nnx.Rngs(0))
    graphdef, state = nnx.split(nnx_model)
    out["nnx"] = (lambda s, x: nnx.merge(graphdef, s)(x), (state, jax.random.normal(KEY, (4, 8))))
    params = {"w": jax.random.normal(KEY, (4, 4)), "v": jnp.eye(4)}
    out["custom_jvp"] = (_make_custom(jax.nn.relu), (params, jax.random.normal(KEY, (3, 4))))
    return out


# Every call site written in the six models above (activation, runs per call).
EXPECTED_SITES = {
    "inline": [("relu", 1)] * 2,
    "resnet": [("relu", 1)] * 5,
    "scan": [("gelu_tanh", 3), ("tanh", 1)],
    "attention": [("softmax", 1), ("gelu_erf", 1)],
    "nnx": [("gelu_tanh", 1), ("relu", 1)],
    "custom_jvp": [("relu", 1)],
}


@pytest.mark.slow
def test_every_site_of_the_six_styles_is_found_and_replaceable():
    count = 0
    for style, (fn, args) in _styles().items():
        found = jaxact.sites(fn, *args)
        assert [(s.name, s.count) for s in found] == EXPECTED_SITES[style], style
        before = np.asarray(fn(*args))
        for site in found:
            # Replace this one site by something else; the output must change.
            new = "softmin" if site.name == "softmax" else "sigmoid"
            out = jax.jit(jaxact.substitute(fn, {site.name: new}, where=site.index))(*args)
            assert not np.allclose(np.asarray(out), before, atol=1e-5), (style, site)
            count += 1
    assert count == 14
