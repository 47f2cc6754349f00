"""Model blocks of ``jaxact bench --blocks``: a training step of Flax linen blocks.

Each block is built twice, once with jaxact's activations and once with jax.nn's,
with the same parameter tree, so one set of parameters serves both. The timed
program is ``jit(value_and_grad(loss))`` over the parameters and the input, with
``loss = mean(block(x) ** 2) / 2`` in float32; parameters and activations are in
the benchmark dtype. jaxact's version is traced and compiled once per precision
tier (inside ``jaxact.precision(tier)``); every version runs interleaved
round-robin with jax.nn's in one process (:func:`jaxact.bench.timing.interleave`).

The blocks (:data:`BLOCKS`):

- ``mlp_gelu_tanh`` / ``mlp_gelu_erf``: the pre-LN transformer MLP,
  ``x + Dense(d)(gelu(Dense(4d)(LayerNorm(x))))``, with the tanh form
  (``approximate=True``) or the erf form of gelu.
- ``vit``: a ViT encoder block: pre-LN multi-head self-attention written with
  einsum around the swapped softmax, then the pre-LN MLP with erf gelu (as ViT).
- ``swiglu``: a LLaMA block, ``x + mlp(RMSNorm(x))``: :class:`jaxact.linen.GatedMLP`
  as SwiGLU against the same three projections with ``jax.nn.silu`` as the gate;
  hidden width 2/3 of 4d rounded up to a multiple of 256, no biases.
- ``resnet``: a ResNet basic block, NHWC:
  ``relu(x + BN(conv3x3(relu(BN(conv3x3(x))))))``. BatchNorm normalises with the
  batch statistics, as in training; the running averages it updates are
  discarded, so the step carries no state.

The scan MLP of every elementwise activation, the remaining model of the
benchmark, is the training-step section (``--step``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

import flax.linen as nn
import jax
import jax.numpy as jnp

import jaxact
from jaxact._src.layers import llama_hidden
from jaxact.bench.config import (
    DEFAULT_REPEATS,
    DEFAULT_TIERS,
    DEFAULT_WARMUP,
    Array,
    BlockShape,
    as_dtype,
    check_block_shape,
    check_counts,
    check_positive,
    default_block_shape,
    error,
    tier_label,
    tier_names,
    tier_versions,
)
from jaxact.bench.timing import compile_timed, interleave, summary, time_stats
from jaxact.linen import GatedMLP

BLOCKS: dict[str, str] = {
    "mlp_gelu_tanh": "pre-LN transformer MLP, LayerNorm -> Dense(4d) -> gelu (tanh) -> "
    "Dense(d) + residual",
    "mlp_gelu_erf": "the same MLP with erf gelu",
    "vit": "ViT encoder block: pre-LN multi-head self-attention (softmax) + pre-LN MLP "
    "with erf gelu",
    "swiglu": "LLaMA block: RMSNorm -> SwiGLU MLP (hidden 2/3 of 4d rounded up to 256) + residual",
    "resnet": "ResNet basic block, NHWC: conv3x3 -> BatchNorm -> relu -> conv3x3 -> "
    "BatchNorm + residual -> relu",
}
IMPLEMENTATIONS = ("jaxact", "jax.nn")


class MLP(nn.Module):
    """Pre-LN transformer MLP: ``x + Dense(d)(act(Dense(hidden)(LayerNorm(x))))``."""

    hidden: int
    act: Callable[[Array], Array]
    dtype: Any

    @nn.compact
    def __call__(self, x: Array) -> Array:
        dense = functools.partial(nn.Dense, dtype=self.dtype, param_dtype=self.dtype)
        h = nn.LayerNorm(dtype=self.dtype, param_dtype=self.dtype)(x)
        h = dense(x.shape[-1])(self.act(dense(self.hidden)(h)))
        return x + h


class SelfAttention(nn.Module):
    """Multi-head self-attention with the softmax as an attribute (einsum, no mask)."""

    heads: int
    softmax: Callable[..., Array]
    dtype: Any

    @nn.compact
    def __call__(self, x: Array) -> Array:
        d = x.shape[-1]
        k = d // self.heads
        dense = functools.partial(nn.DenseGeneral, dtype=self.dtype, param_dtype=self.dtype)
        qkv = dense((3, self.heads, k), name="qkv")(x)  # (batch, seq, 3, heads, k)
        q, key, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        logits = jnp.einsum("bqhk,bthk->bhqt", q * k**-0.5, key)
        weights = self.softmax(logits, axis=-1)
        out = jnp.einsum("bhqt,bthk->bqhk", weights, v)
        return dense(d, axis=(-2, -1), name="out")(out)


class ViT(nn.Module):
    """ViT encoder block: ``x + attention(LayerNorm(x))``, then :class:`MLP`."""

    heads: int
    hidden: int
    softmax: Callable[..., Array]
    act: Callable[[Array], Array]
    dtype: Any

    @nn.compact
    def __call__(self, x: Array) -> Array:
        h = nn.LayerNorm(dtype=self.dtype, param_dtype=self.dtype)(x)
        x = x + SelfAttention(self.heads, self.softmax, self.dtype)(h)
        return MLP(self.hidden, self.act, self.dtype)(x)


class SiluGLU(nn.Module):
    """SwiGLU with ``jax.nn.silu``: ``down(silu(gate(x)) * up(x))``, no biases.

    The submodules are named as :class:`jaxact.linen.GatedMLP`'s, so the two
    take the same parameters.
    """

    hidden: int
    dtype: Any

    @nn.compact
    def __call__(self, x: Array) -> Array:
        dense = functools.partial(
            nn.Dense, use_bias=False, dtype=self.dtype, param_dtype=self.dtype
        )
        gate = dense(self.hidden, name="gate")(x)
        up = dense(self.hidden, name="up")(x)
        return dense(x.shape[-1], name="down")(jax.nn.silu(gate) * up)


class SwiGLU(nn.Module):
    """LLaMA block: ``x + mlp(RMSNorm(x))``."""

    mlp: nn.Module
    dtype: Any

    @nn.compact
    def __call__(self, x: Array) -> Array:
        return x + self.mlp(nn.RMSNorm(dtype=self.dtype, param_dtype=self.dtype)(x))


class ResNet(nn.Module):
    """ResNet basic block (NHWC), BatchNorm on the batch statistics."""

    act: Callable[[Array], Array]
    dtype: Any

    @nn.compact
    def __call__(self, x: Array) -> Array:
        conv = functools.partial(
            nn.Conv,
            x.shape[-1],
            (3, 3),
            padding="SAME",
            use_bias=False,
            dtype=self.dtype,
            param_dtype=self.dtype,
        )
        norm = functools.partial(
            nn.BatchNorm, use_running_average=False, dtype=self.dtype, param_dtype=self.dtype
        )
        h = self.act(norm()(conv()(x)))
        h = norm()(conv()(h))
        return self.act(x + h)


def _gelu(module: Any, approximate: bool) -> Callable[[Array], Array]:
    return functools.partial(module.gelu, approximate=approximate)


def make_block(
    name: str, implementation: str, shape: BlockShape, dtype: Any
) -> tuple[nn.Module, tuple[int, ...]]:
    """The block ``name`` built with ``implementation``'s activations, and its input shape.

    Args:
      name: one of :data:`BLOCKS`.
      implementation: ``"jaxact"`` or ``"jax.nn"``.
      shape: the sizes (see :class:`jaxact.bench.config.BlockShape`).
      dtype: the parameter and compute dtype.

    Returns:
      ``(module, input_shape)``; both implementations of a block take the same
      parameters.
    """
    if name not in BLOCKS:
        raise error("blocks", f"must be among {', '.join(BLOCKS)}, got {name!r}")
    if implementation not in IMPLEMENTATIONS:
        raise error(
            "implementation", f"must be one of {', '.join(IMPLEMENTATIONS)}, got {implementation!r}"
        )
    mod: Any = jaxact if implementation == "jaxact" else jax.nn
    d = as_dtype(dtype)
    tokens = (shape.batch, shape.seq, shape.width)
    hidden = 4 * shape.width
    block: nn.Module
    if name in ("mlp_gelu_tanh", "mlp_gelu_erf"):
        block = MLP(hidden, _gelu(mod, name == "mlp_gelu_tanh"), d)
    elif name == "vit":
        block = ViT(shape.heads, hidden, mod.softmax, _gelu(mod, False), d)
    elif name == "swiglu":
        width = llama_hidden(shape.width)
        mlp: nn.Module
        if implementation == "jaxact":
            mlp = GatedMLP(width, activation="swiglu", dtype=d, param_dtype=d)
        else:
            mlp = SiluGLU(width, d)
        block = SwiGLU(mlp, d)
    else:
        block = ResNet(mod.relu, d)
        return block, (shape.images, shape.side, shape.side, shape.channels)
    return block, tokens


def init_block(
    block: nn.Module, input_shape: Sequence[int], dtype: Any, seed: int | Array = 0
) -> tuple[Any, Any, Array]:
    """``(params, state, x)``: parameters, other variables (BatchNorm's) and an input.

    ``seed`` is an integer or a PRNG key (a key lets a caller draw under ``jit``
    without the draws becoming constants that XLA folds at compile time).
    """
    key = jax.random.key(seed) if isinstance(seed, int) else seed
    kp, kx = jax.random.split(key)
    x = jax.random.normal(kx, tuple(input_shape), jnp.float32).astype(as_dtype(dtype))
    with jax.numpy_dtype_promotion("standard"):  # as in apply_block
        variables = dict(jax.jit(block.init)(kp, x))
    params = variables.pop("params")
    return params, variables, x


def apply_block(block: nn.Module, params: Any, state: Any, x: Array) -> Array:
    """The block's output; BatchNorm uses the batch statistics, its updates are dropped."""
    # Flax's normalization layers mix half-precision inputs with float32 statistics by
    # implicit promotion, which jax_numpy_dtype_promotion="strict" refuses: blocks are
    # traced under the standard rules whatever the caller's setting.
    with jax.numpy_dtype_promotion("standard"):
        if state:
            out, _ = block.apply({"params": params, **state}, x, mutable=list(state))
            return cast(Array, out)
        return cast(Array, block.apply({"params": params}, x))


def block_step(block: nn.Module) -> Callable[..., Any]:
    """``value_and_grad`` of ``mean(block(x) ** 2) / 2`` over ``(params, x)``.

    Called as ``step(params, x, state)``; jit it (the benchmark compiles it ahead
    of time).
    """

    def loss(params: Any, x: Array, state: Any) -> Array:
        out = apply_block(block, params, state, x)
        return 0.5 * jnp.mean(jnp.square(out.astype(jnp.float32)))

    return jax.value_and_grad(loss, argnums=(0, 1))


def block_time(
    name: str,
    *,
    dtype: Any = jnp.float32,
    shape: Sequence[int] | None = None,
    tiers: Sequence[str] = DEFAULT_TIERS,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    buffers: int = 2,
) -> dict[str, Any]:
    """Time of the training step of block ``name``, jaxact (per tier) against jax.nn.

    The step of the block built with jax.nn's activations and, per tier, the
    step of the block built with jaxact's (traced and compiled inside
    ``jaxact.precision(tier)``) run interleaved round-robin on ``buffers``
    rotating argument sets (parameters, input), the same for both.

    Args:
      name: one of :data:`BLOCKS`.
      dtype: parameter and activation dtype.
      shape: the sizes (default: :func:`jaxact.bench.config.default_block_shape`).
      tiers: jaxact precision tiers, one candidate each.
      repeats: timed steps per candidate.
      warmup: untimed steps per candidate.
      buffers: distinct argument sets in rotation.

    Returns:
      ``{"block", "dtype", "shape", "input_shape", "params", "repeats",
      "tiers", "times", "ratio_baseline"}``: ``params`` the number of
      parameters, ``times`` per label (``"jax.nn"``, ``"jaxact (<tier>)"``:
      median_s, min_s, max_s, compile_s), ``ratio_baseline`` tier ->
      min/median/max of t_jaxact / t_jax.nn over repeats.

    Raises:
      ValueError: for bad arguments, naming the argument.
    """
    check_counts(repeats, warmup)
    check_positive(buffers, "buffers")
    tier_list = tier_names(tiers)
    sizes = check_block_shape(default_block_shape() if shape is None else tuple(shape))
    d = as_dtype(dtype)
    theirs, input_shape = make_block(name, "jax.nn", sizes, d)
    mine, _ = make_block(name, "jaxact", sizes, d)
    arg_sets = []
    for seed in range(buffers):
        params, state, x = init_block(theirs, input_shape, d, seed)
        arg_sets.append((params, x, state))
    jax.block_until_ready(arg_sets)
    versions: dict[str, tuple[nn.Module, str | None]] = {"jax.nn": (theirs, None)}
    versions.update({k: (mine, t) for k, t in tier_versions("jaxact", tier_list).items()})
    candidates: dict[str, Callable[[int], Any]] = {}
    compile_s: dict[str, float] = {}
    for label, (block, tier) in versions.items():
        compiled, compile_s[label] = compile_timed(block_step(block), *arg_sets[0], tier=tier)
        candidates[label] = functools.partial(_call, compiled, arg_sets)
    times = interleave(candidates, repeats, warmup)
    count = sum(p.size for p in jax.tree.leaves(arg_sets[0][0]))
    return {
        "block": name,
        "dtype": d.name,
        "shape": sizes._asdict(),
        "input_shape": list(input_shape),
        "params": int(count),
        "repeats": repeats,
        "tiers": tier_list,
        "times": {k: time_stats(t, compile_s[k], None) for k, t in times.items()},
        "ratio_baseline": {
            t: summary(times[tier_label("jaxact", t)] / times["jax.nn"]) for t in tier_list
        },
    }


def _call(compiled: Callable[..., Any], arg_sets: list[Any], i: int) -> Any:
    return compiled(*arg_sets[i % len(arg_sets)])
