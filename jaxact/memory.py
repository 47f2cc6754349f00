"""What an activation keeps for the backward pass, in bytes per element.

Two deterministic measurements (no timing; compile-only where a step is compiled):

- :func:`residual_bytes`: the arrays the pullback of ``jax.vjp(fn, x)`` holds
  under ``jit`` — what a ``lax.scan`` or remat boundary stores per layer — in
  bytes per element of ``x``, and :func:`residuals` lists them.
- :func:`scan_step_memory`: XLA's temporary memory (``memory_analysis()``) of a
  real training step — an MLP whose layers run in a ``lax.scan``, ``jit(grad)``
  of a squared loss — as extra bytes per activation element per layer over the
  same network with the identity.

Both work for any function of one array, so users can ask them of their own.

Example:
  >>> import jax, jaxact
  >>> from jaxact.memory import residual_bytes
  >>> residual_bytes(jaxact.silu), residual_bytes(jax.nn.silu)
  (4.0, 12.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["residual_bytes", "residuals", "scan_mlp", "scan_step_memory"]

Array = jax.Array
Body = Literal["dot_act", "act_dot"]

# Default sizes: large enough that scalars and bookkeeping vanish in the per-element figure.
RESIDUAL_SIZE = 1 << 16


def _pullback_leaves(fn: Callable[[Array], Array], x: Any) -> list[Any]:
    # What a jitted ``jax.vjp`` returns is fixed when it is traced (the compiler cannot
    # change which arrays cross the jit boundary), so abstract evaluation gives it
    # without compiling or running anything.
    _, pullback = jax.eval_shape(lambda v: jax.vjp(fn, v), x)
    return jax.tree_util.tree_leaves(pullback)


def residuals(fn: Callable[[Array], Array], x: Any) -> list[tuple[str, tuple[int, ...]]]:
    """The (dtype, shape) of every array the pullback of ``jax.vjp(fn, x)`` keeps (under jit).

    ``x`` may be an array or a ``jax.ShapeDtypeStruct``: nothing is compiled or run.
    """
    return [(str(leaf.dtype), tuple(leaf.shape)) for leaf in _pullback_leaves(fn, x)]


def residual_bytes(
    fn: Callable[[Array], Array], dtype: Any = jnp.float32, size: int = RESIDUAL_SIZE
) -> float:
    """Bytes per input element that ``fn`` saves for its backward pass.

    The sum of ``nbytes`` over the leaves of the ``jax.vjp`` pullback, as ``jit``
    returns it (found by abstract evaluation: nothing is compiled or run), on
    ``size`` elements, divided by ``size``.
    Scalars (parameters) count but vanish at this size.

    Args:
      fn: a function of one array.
      dtype: the input dtype.
      size: the number of elements.

    Returns:
      Bytes per element (4.0 = one float32 array the size of the input).
    """
    leaves = _pullback_leaves(fn, jax.ShapeDtypeStruct((size,), jnp.dtype(dtype)))
    total = sum(int(np.prod(leaf.shape)) * jnp.dtype(leaf.dtype).itemsize for leaf in leaves)
    return float(total) / size


def scan_mlp(
    fn: Callable[[Array], Array],
    *,
    layers: int = 8,
    width: int = 256,
    batch: int = 1024,
    dtype: Any = jnp.float32,
    body: Body = "act_dot",
    seed: int = 0,
) -> tuple[Any, tuple[Array, Array]]:
    """A training step of a ``layers``-deep square MLP run by ``lax.scan``.

    ``body="dot_act"``: each layer is ``h ← fn(h @ W)``; ``"act_dot"``:
    ``h ← fn(h) @ W`` (the activation's output is the matmul's input in the same
    scan iteration, so a rule that saves its output shares it with the matmul).
    The step is ``jit(grad(loss))`` with ``loss = mean(h_L ** 2) / 2``, returning
    the gradients of the stacked weights and of the input.

    Returns:
      ``(step, (weights, x))``: the jitted step and its arguments.
    """
    if body not in ("dot_act", "act_dot"):
        raise ValueError(
            f"jaxact scan_mlp: argument 'body' must be 'dot_act' or 'act_dot', got {body!r}"
        )
    kw, kx = jax.random.split(jax.random.key(seed))
    weights = (jax.random.normal(kw, (layers, width, width), jnp.float32) / np.sqrt(width)).astype(
        dtype
    )
    x = jax.random.normal(kx, (batch, width), jnp.float32).astype(dtype)

    def layer(h: Array, w: Array) -> tuple[Array, None]:
        if body == "dot_act":
            return fn(h @ w), None
        return fn(h) @ w, None

    def loss(ws: Array, h: Array) -> Array:
        out, _ = jax.lax.scan(layer, h, ws)
        return 0.5 * jnp.mean(jnp.square(out.astype(jnp.float32)))

    return jax.jit(jax.grad(loss, argnums=(0, 1))), (weights, x)


def _temp_bytes(fn: Callable[[Array], Array], **kw: Any) -> int:
    step, args = scan_mlp(fn, **kw)
    analysis = step.lower(*args).compile().memory_analysis()
    return int(analysis.temp_size_in_bytes)


def scan_step_memory(
    fn: Callable[[Array], Array],
    *,
    layers: int = 8,
    width: int = 256,
    batch: int = 1024,
    dtype: Any = jnp.float32,
    body: Body = "act_dot",
) -> dict[str, float]:
    """Compiled temporary memory of the :func:`scan_mlp` training step with ``fn``.

    Compile-only (``lower().compile().memory_analysis()``): deterministic for a
    given jax/XLA version and backend; nothing runs. The step is compiled with
    ``layers`` and with ``2 * layers`` layers, for ``fn`` and for the identity,
    so that what grows with depth (the residuals stacked per layer) is told
    apart from one-off buffers.

    Returns:
      ``temp_bytes`` and ``identity_temp_bytes`` (at ``layers``);
      ``extra_per_element``: their difference per activation element per layer
      (``batch * width * layers`` elements); ``stacked_per_element``: the extra
      bytes each additional layer costs per element (the residuals a deeper
      network stacks); ``transient_per_element``: the rest, one-off buffers, per
      element of one layer.
    """
    kw: dict[str, Any] = dict(width=width, batch=batch, dtype=dtype, body=body)
    temp = _temp_bytes(fn, layers=layers, **kw)
    base = _temp_bytes(lambda h: h, layers=layers, **kw)
    temp2 = _temp_bytes(fn, layers=2 * layers, **kw)
    base2 = _temp_bytes(lambda h: h, layers=2 * layers, **kw)
    n = batch * width
    stacked = ((temp2 - temp) - (base2 - base)) / (layers * n)
    extra = temp - base
    return {
        "temp_bytes": float(temp),
        "identity_temp_bytes": float(base),
        "extra_per_element": extra / (layers * n),
        "stacked_per_element": stacked,
        "transient_per_element": (extra - stacked * layers * n) / n,
    }
