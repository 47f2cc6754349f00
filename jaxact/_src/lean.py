"""Output-saving variants: the backward pass keeps the activation's output only.

A network's next layer (a matmul) keeps the activation's output ``y`` for its
own backward pass anyway. When the derivative is an exact function of ``y``,
an activation that keeps ``y`` instead of a derivative array costs no extra
memory at all: in a ``lax.scan`` body ``h -> f(h) @ W`` both residuals are the
same array. :func:`save_output` gives that variant where it is exact, with the
same values, kink conventions and NaN behaviour as the core function.

Where it is not offered (``NOT_FROM_OUTPUT``), the trade would lose accuracy
the core guarantees: ``sigmoid'`` = y(1 - y), ``tanh'`` = 1 - y², ``elu'`` =
y + alpha (x < 0) and ``softplus''`` from y all cancel in a tail where y
rounds to its limit, and ``hard_tanh``'s derivative is 1 at its corners, which
y cannot tell from the flat parts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from jaxact._src import hard, ops, relu
from jaxact._src.core import compute_dtype, nan_like, negative, positive

Array = jax.Array


def _open(y: Array, hi: float | None = None, inside: Any = 1.0) -> Array:
    """``inside`` where ``0 < y < hi`` (``positive`` reads the sign bit, as the core does)."""
    cond = positive(y) if hi is None else positive(y) & (y < hi)
    return nan_like(y, ops.where(cond, inside * jnp.ones_like(y), jnp.zeros_like(y)))


def _leaky_from_output(y: Array, negative_slope: Any = 0.01) -> Array:
    # y < 0 exactly where x < 0 when the slope is > 0 (checked), so the core's
    # f'(0) = 1 is kept; with slope 0, y = -0 both at x = -0 (f' = 1) and x < 0 (f' = 0).
    slope = negative_slope * jnp.ones_like(y)
    return nan_like(y, ops.where(negative(y), slope, jnp.ones_like(y)))


# name -> (the core function, f'(x) as a function of y = f(x) and the parameters).
FROM_OUTPUT: dict[str, tuple[Callable[..., Array], Callable[..., Array]]] = {
    "relu": (relu.relu, lambda y: _open(y)),
    "relu6": (relu.relu6, lambda y: _open(y, 6.0)),
    "leaky_relu": (relu.leaky_relu, _leaky_from_output),
    "hard_sigmoid": (hard.hard_sigmoid, lambda y: _open(y, 1.0, 1.0 / 6.0)),
    "sparse_sigmoid": (hard.sparse_sigmoid, lambda y: _open(y, 1.0, 0.5)),
}

NOT_FROM_OUTPUT: dict[str, str] = {
    "sigmoid": "f' = y(1 - y) is 0 once y rounds to 1 (x > 17 in float32): the tail is lost",
    "tanh": "f' = 1 - y^2 is 0 once y rounds to ±1 (|x| > 9 in float32): the tail is lost",
    "elu": "f' = y + alpha cancels to 0 once y rounds to -alpha (x < -17 in float32)",
    "selu": "f' = y + lambda*alpha cancels to 0 once y rounds to its limit",
    "celu": "f' = y/alpha + 1 cancels to 0 once y rounds to -alpha",
    "softplus": "f'' from y loses ~x ulps for large x (exp(-y) amplifies y's rounding)",
    "hard_tanh": "f' = 1 at the corners x = min_val, max_val, where y equals the flat parts",
}


@functools.cache
def _variant(name: str) -> Callable[..., Array]:
    core, from_output = FROM_OUTPUT[name]

    def body(x: Any, *params: Any) -> Array:
        return core(x, *params)

    f = jax.custom_jvp(body)

    def jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
        x, *ps = primals
        tx, *tps = tangents
        y = f(x, *ps)
        if isinstance(tx, SymbolicZero):
            out = jnp.zeros_like(y)
        else:
            out = _times_remat(from_output, y, tx, *ps)
        if any(not isinstance(t, SymbolicZero) for t in tps):
            # Parameter tangents need x; only then is x kept as well.
            full = [
                jnp.zeros(jnp.shape(p), jnp.result_type(p)) if isinstance(t, SymbolicZero) else t
                for p, t in zip(ps, tps, strict=True)
            ]
            out = out + jax.jvp(lambda *q: core(x, *q), tuple(ps), tuple(full))[1]
        return y, out

    f.defjvp(jvp, symbolic_zeros=True)
    f.__name__ = f"{name}_save_output"  # type: ignore[attr-defined]
    return f


def _times(from_output: Callable[..., Array], y: Array, t: Array, *ps: Any) -> Array:
    compute = compute_dtype(y.dtype)
    d = from_output(y.astype(compute), *ps)
    return (d * t.astype(compute)).astype(y.dtype)


def _times_remat(from_output: Callable[..., Array], y: Array, t: Array, *ps: Any) -> Array:
    # Under checkpoint the derivative is recomputed from y in the backward pass,
    # so y (shared with the next layer) is the only array kept.
    return jax.checkpoint(_times, static_argnums=(0,))(from_output, y, t, *ps)


def save_output(fn: str | Callable[..., Any]) -> Callable[..., Array]:
    """The variant of an activation whose backward pass keeps only its output.

    Same values, derivatives (first and second, kink conventions, NaN in → NaN
    out) and signature as the core function; the backward pass keeps ``y =
    f(x)`` instead of a derivative array, so when the next layer is a matmul —
    which keeps ``y`` anyway — the activation costs no extra memory (0 bytes per
    element in a ``lax.scan`` body ``h -> f(h) @ W``). Differentiating a
    parameter (``negative_slope``) keeps ``x`` as well.

    Offered for ``FROM_OUTPUT``: relu, relu6, leaky_relu (``negative_slope >
    0``), hard_sigmoid, sparse_sigmoid. ``NOT_FROM_OUTPUT`` says why the others
    are not: recovering their derivative from the output loses the accuracy the
    core guarantees.

    Args:
      fn: a name (``"relu"``) or the core function (``jaxact.relu``).

    Returns:
      The output-saving function.

    Raises:
      ValueError: for an activation without an exact output-saving variant
        (the message says why).

    Example:
      >>> import jax, jax.numpy as jnp, jaxact
      >>> relu = jaxact.save_output("relu")
      >>> relu(jnp.array([-1.0, 2.0]))
      Array([0., 2.], dtype=float32)
      >>> float(jax.grad(relu)(3.0)), float(jax.grad(relu)(0.0))
      (1.0, 0.0)
    """
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", None)
    if isinstance(name, str) and name in FROM_OUTPUT:
        if not isinstance(fn, str) and fn is not FROM_OUTPUT[name][0]:
            name = None
    if not isinstance(name, str) or name not in FROM_OUTPUT:
        why = NOT_FROM_OUTPUT.get(name) if isinstance(name, str) else None
        offered = ", ".join(FROM_OUTPUT)
        raise ValueError(
            f"jaxact save_output: argument 'fn': no exact output-saving variant of {fn!r}"
            + (f" ({why})" if why else "")
            + f"; offered for: {offered}"
        )
    if name == "leaky_relu":
        return _leaky_checked(_variant(name))
    return _variant(name)


def _leaky_checked(f: Callable[..., Array]) -> Callable[..., Array]:
    @functools.wraps(relu.leaky_relu)
    def leaky_relu(x: Any, negative_slope: Any = 0.01) -> Array:
        try:
            negative = bool(jnp.any(jnp.asarray(negative_slope) <= 0))
        except jax.errors.ConcretizationTypeError:
            negative = False  # traced: the caller's responsibility, as documented
        if negative:
            raise ValueError(
                "jaxact save_output(leaky_relu): argument 'negative_slope' must be > 0 "
                f"(the sign of y must tell the sign of x), got {negative_slope!r}"
            )
        return f(x, negative_slope)

    return leaky_relu
