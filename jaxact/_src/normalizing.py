"""Normalizing family: maps from logits to probability vectors along an axis.

softmax, log_softmax, softmin, softmax1 (quiet softmax), gumbel_softmax,
sparsemax, entmax15 and entmax_bisect (alpha-entmax).

Every function reduces over ``axis`` (an int, a tuple of ints or ``None`` for
all axes). The reduced axes are moved to the end and flattened into one, a
core with a ``custom_jvp`` rule works on that last axis, and the result is put
back. The cores share these conventions:

* The logits are shifted by the row maximum ``m`` first, so nothing overflows.
* A row whose maximum is ``+inf`` puts equal mass on its ``+inf`` entries
  (``softmax([inf, 0]) = [1, 0]``; jax.nn gives NaN). A row whose unmasked
  entries are all ``-inf`` is the limit of equal logits: uniform over those
  entries (jax.nn gives NaN). A row with a NaN gives NaN everywhere.
* Derivative rules are written from the output with the tangent re-centred on
  the row's top entry: ``t - t[argmax]`` changes nothing mathematically (the
  rules are invariant to adding a constant to the tangent) but makes the
  derivative of a saturated top entry exact, e.g. ``d log_softmax([x, 0])[0]/dx``
  is ``sigma(-x)`` and the gradient sums to zero, where ``1 - p`` would give 0.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxact._src import elementary, ops
from jaxact._src.core import ArrayLike, finish, is_concrete, param, prepare
from jaxact._src.registry import library_function, register

Array = jax.Array

__all__ = [
    "softmax",
    "log_softmax",
    "softmin",
    "softmax1",
    "gumbel_softmax",
    "sparsemax",
    "entmax15",
    "entmax_bisect",
]

_PAPER_SOFTMAX = (
    "Bridle 1990, Probabilistic interpretation of feedforward classification network outputs, "
    "with relationships to statistical pattern recognition"
)
_PAPER_ENTMAX = (
    "Peters, Niculae, Martins 2019, Sparse Sequence-to-Sequence Models, arXiv:1905.05702"
)

# ---------------------------------------------------------------------------
# Axis handling.
# ---------------------------------------------------------------------------


def _axes(axis: Any, ndim: int, fn: str) -> tuple[int, ...]:
    """Normalizes ``axis`` (int, tuple of ints or None) to sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)):
            raise TypeError(f"jaxact.{fn}: argument 'axis' must be an int, a tuple of ints or None")
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(
                f"jaxact.{fn}: argument 'axis' must be an int, a tuple of ints or None, "
                f"got {type(a).__name__}"
            ) from None
        if not -ndim <= a < ndim:
            raise ValueError(
                f"jaxact.{fn}: argument 'axis' {a} is out of range for an input with {ndim} "
                "dimensions"
            )
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"jaxact.{fn}: argument 'axis' {axis} repeats an axis")
    return tuple(sorted(out))


def _to_last(x: Array, axes: tuple[int, ...]) -> tuple[Array, Callable[[Array], Array]]:
    """Moves ``axes`` to the end, flattened into one; returns the array and the inverse."""
    keep = [a for a in range(x.ndim) if a not in axes]
    perm = keep + list(axes)
    kept_shape = tuple(x.shape[a] for a in keep)
    red_shape = tuple(x.shape[a] for a in axes)
    n = math.prod(red_shape)
    moved = x if perm == list(range(x.ndim)) else jnp.transpose(x, perm)
    flat = moved.reshape(kept_shape + (n,))
    inverse = np.argsort(perm).tolist()

    def undo(y: Array) -> Array:
        y = y.reshape(kept_shape + red_shape)
        return y if perm == list(range(x.ndim)) else jnp.transpose(y, inverse)

    return flat, undo


def _mask(where: Any, x: Array, fn: str) -> Array | None:
    if where is None:
        return None
    if isinstance(where, (jax.Array, np.ndarray, np.generic, bool, int)):
        w = jnp.asarray(where)
    else:
        raise TypeError(
            f"jaxact.{fn}: argument 'where' must be a boolean array or None, got "
            f"{type(where).__name__}"
        )
    if w.dtype != jnp.dtype(bool):
        if not jnp.issubdtype(w.dtype, jnp.integer):
            raise TypeError(
                f"jaxact.{fn}: argument 'where' must be a boolean array, got dtype {w.dtype}"
            )
        w = w != 0
    try:
        shape = np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        shape = None
    if shape != tuple(x.shape):
        raise ValueError(
            f"jaxact.{fn}: argument 'where' of shape {w.shape} does not broadcast to the "
            f"input shape {tuple(x.shape)}"
        )
    return jnp.broadcast_to(w, x.shape)


def _along(
    fn: str, x: Any, axis: Any, core: Callable[..., Array], *args: Any, where: Any = None
) -> Array:
    """Checks the input and applies ``core(x, *args)`` along the flattened ``axis``."""
    x, dtype = prepare(x, fn)
    axes = _axes(axis, x.ndim, fn)
    mask = _mask(where, x, fn)
    if x.size == 0:
        return finish(x, dtype)
    flat, undo = _to_last(x, axes)
    if mask is not None:
        args = (_to_last(mask, axes)[0],) + args
    return finish(undo(core(flat, *args)), dtype)


# ---------------------------------------------------------------------------
# Row helpers (last axis).
# ---------------------------------------------------------------------------


def _row_max(xm: Array) -> tuple[Array, Array]:
    """Row maximum (keepdims) and the same with infinities replaced by 0."""
    m = jnp.max(xm, axis=-1, keepdims=True)
    return m, ops.where(jnp.isfinite(m), m, 0)


def _special(xm: Array, m: Array, mask: Array | None, y: Array) -> Array:
    """Rows with an infinite maximum: equal mass on the entries equal to it; NaN rows."""
    top = xm == m
    if mask is not None:
        top = top & mask
    count = jnp.sum(top, axis=-1, keepdims=True)
    uniform = top.astype(y.dtype) / jnp.maximum(count, 1).astype(y.dtype)
    y = ops.where(jnp.isinf(m), uniform, y)
    return ops.where(jnp.isnan(m), m, y)


def _centred(t: Array, xm: Array, mask: Array | None) -> Array:
    """The tangent minus its value at the row's (first) top entry; 0 where masked."""
    if mask is not None:
        t = ops.where(mask, t, 0)
    ref = jnp.argmax(xm, axis=-1, keepdims=True)
    t_ref = jnp.take_along_axis(t, ref, axis=-1)
    u = t - t_ref
    return u if mask is None else ops.where(mask, u, 0)


def _masked(x: Array, mask: Array | None) -> Array:
    return x if mask is None else ops.where(mask, x, -jnp.inf)


def _dot(a: Array, b: Array) -> Array:
    return jnp.sum(a * b, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# softmax / log_softmax.
# ---------------------------------------------------------------------------


@jax.custom_jvp
def _softmax_core(x: Array, mask: Array | None) -> Array:
    xm = _masked(x, mask)
    m, m0 = _row_max(xm)
    e = elementary.exp(xm - m0)
    y = e / jnp.sum(e, axis=-1, keepdims=True)
    return _special(xm, m, mask, y)


@_softmax_core.defjvp
def _softmax_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
    x, mask = primals
    t = tangents[0]
    y = _softmax_core(x, mask)
    u = _centred(t, _masked(x, mask), mask)
    return y, y * (u - _dot(y, u))


@jax.custom_jvp
def _log_softmax_core(x: Array, mask: Array | None) -> Array:
    xm = _masked(x, mask)
    m, m0 = _row_max(xm)
    z = xm - m0
    e = elementary.exp(z)
    # log(sum e) = log1p(sum of the entries other than one top entry): each top
    # entry contributes exactly 1, so the small remainder is kept to full precision.
    top = z == 0
    count = jnp.sum(top, axis=-1, keepdims=True).astype(z.dtype)
    rest = jnp.sum(ops.where(top, 0, e), axis=-1, keepdims=True) + (count - 1)
    y = z - elementary.log1p(rest)
    # Infinite maximum: log of the equal masses, -inf elsewhere.
    p = _special(xm, m, mask, jnp.zeros_like(z))
    with_inf = ops.where(p > 0, jnp.log(ops.where(p > 0, p, 1)), -jnp.inf)
    y = ops.where(jnp.isinf(m), with_inf, y)
    return ops.where(jnp.isnan(m), m, y)


@_log_softmax_core.defjvp
def _log_softmax_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
    x, mask = primals
    t = tangents[0]
    y = _log_softmax_core(x, mask)
    p = _softmax_core(x, mask)
    u = _centred(t, _masked(x, mask), mask)
    dy = u - _dot(p, u)
    if mask is not None:
        dy = ops.where(mask, dy, 0)
    return y, dy


@jax.jit
def _softmax_core_masked(x: Array, mask: Array) -> Array:
    return _softmax_core(x, mask)


@jax.jit
def _softmax_core_plain(x: Array) -> Array:
    return _softmax_core(x, None)


@jax.jit
def _log_softmax_core_masked(x: Array, mask: Array) -> Array:
    return _log_softmax_core(x, mask)


@jax.jit
def _log_softmax_core_plain(x: Array) -> Array:
    return _log_softmax_core(x, None)


@register(
    kind="vector",
    bounded=True,
    bounded_below=True,
    paper=_PAPER_SOFTMAX,
    names={"jax flax torch keras": "softmax", "torch keras": "Softmax"},
    presets={"torch:Softmax2d": {"axis": -3}},
)
def softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = -1, where: Any = None) -> Array:
    r"""Softmax along ``axis``.

    .. math::
      y_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \quad m = \max_j x_j, \qquad
      \dot y = y \odot (\dot x - \langle y, \dot x \rangle)

    Same signature and semantics as ``jax.nn.softmax``: ``where`` masks entries
    out (they get 0 and exactly zero gradient; a fully masked row gives zeros).
    Differences from jax.nn, all where it returns NaN: a row with ``+inf``
    entries puts equal mass on them (``softmax([inf, 0]) = [1, 0]``); a row of
    only ``-inf`` is uniform; gradients are finite in both cases. The top
    entry's derivative keeps full precision when it saturates
    (``d softmax([x, 0])_0 / dx = sigma(x) sigma(-x)``, not 0).

    Args:
      x: input array.
      axis: the axis or axes to normalize over (``None``: all).
      where: optional boolean mask, broadcastable to ``x``; entries where it is
        False are left out.

    Returns:
      An array of the same shape and dtype as ``x`` whose slices along ``axis``
      sum to 1 (0 for fully masked slices).

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> jaxact.softmax(jnp.array([0.0, 0.0, 0.0, 0.0]))
      Array([0.25, 0.25, 0.25, 0.25], dtype=float32)

    References:
      Bridle 1990, Probabilistic interpretation of feedforward classification
      network outputs, with relationships to statistical pattern recognition.
    """
    if where is None:
        return _along("softmax", x, axis, _softmax_core_plain)
    return _along("softmax", x, axis, _softmax_core_masked, where=where)


@register(
    kind="vector",
    paper=_PAPER_SOFTMAX,
    names={"jax flax torch keras": "log_softmax", "torch": "LogSoftmax"},
)
def log_softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = -1, where: Any = None) -> Array:
    r"""Log of the softmax along ``axis``, without underflow or cancellation.

    .. math::
      y_i = x_i - m - \operatorname{log1p}\Big(\sum_{j \ne k} e^{x_j - m}\Big),
      \quad m = x_k = \max_j x_j, \qquad
      \dot y = \dot x - \langle \operatorname{softmax}(x), \dot x \rangle

    The sum left inside ``log1p`` excludes one top entry, so the top entry keeps
    full precision: ``log_softmax([37.43, 0])[0]`` is ``-5.55e-17`` in float64
    (``-sigma(-x)``), not 0, and its gradient sums to zero. ``where`` as in
    ``jax.nn.log_softmax``: masked entries are ``-inf`` with exactly zero
    gradient. Rows with ``+inf`` or only ``-inf`` entries as in :func:`softmax`
    (``log_softmax([inf, 0]) = [0, -inf]``).

    Args:
      x: input array.
      axis: the axis or axes to normalize over (``None``: all).
      where: optional boolean mask, broadcastable to ``x``.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> jaxact.log_softmax(jnp.array([0.0, 0.0]))
      Array([-0.6931472, -0.6931472], dtype=float32)

    References:
      Bridle 1990, Probabilistic interpretation of feedforward classification
      network outputs.
    """
    if where is None:
        return _along("log_softmax", x, axis, _log_softmax_core_plain)
    return _along("log_softmax", x, axis, _log_softmax_core_masked, where=where)


@jax.jit
def _softmin_core_plain(x: Array) -> Array:
    return _softmax_core(-x, None)


@jax.jit
def _softmin_core_masked(x: Array, mask: Array) -> Array:
    return _softmax_core(-x, mask)


@register(
    kind="vector",
    bounded=True,
    bounded_below=True,
    paper=_PAPER_SOFTMAX,
    names={"torch": "softmin Softmin"},
)
def softmin(x: ArrayLike, axis: int | tuple[int, ...] | None = -1, where: Any = None) -> Array:
    r"""Softmin: the softmax of ``-x`` along ``axis`` (torch ``Softmin``).

    .. math::
      y_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}, \qquad
      \dot y = -y \odot (\dot x - \langle y, \dot x \rangle)

    Args:
      x: input array.
      axis: the axis or axes to normalize over (``None``: all).
      where: optional boolean mask, as in :func:`softmax`.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> jaxact.softmin(jnp.array([0.0, 100.0]))
      Array([1., 0.], dtype=float32)
    """
    if where is None:
        return _along("softmin", x, axis, _softmin_core_plain)
    return _along("softmin", x, axis, _softmin_core_masked, where=where)


def _torch_dim(
    fn: Callable[..., Array], name: str, x: ArrayLike, dim: int | None, dtype: Any
) -> Array:
    """``fn(x, axis)`` with torch's ``dim`` (None: torch's legacy choice, axis 0 for
    0-, 1- and 3-dimensional inputs, else 1) and ``dtype`` (cast first)."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"jaxact.{name}: argument 'dim' must be an int or None, got {dim!r}")
    if dtype is not None:
        x = jnp.asarray(x).astype(dtype)
    if dim is None:
        dim = 0 if jnp.ndim(x) in (0, 1, 3) else 1
    return fn(x, axis=int(dim))


@library_function("softmax", names={"torch": "softmax Softmax"})
def softmax_torch(x: ArrayLike, dim: int | None = None, dtype: Any = None) -> Array:
    r"""PyTorch's ``softmax``: :func:`softmax` with torch's ``dim`` and ``dtype``.

    ``dim=None`` (``F.softmax(x)``, ``nn.Softmax()``) is torch's legacy choice:
    axis 0 for 0-, 1- and 3-dimensional inputs, else axis 1.

    Args:
      x: input array.
      dim: the axis, or None.
      dtype: cast ``x`` to it first (optional).

    Returns:
      An array of the shape of ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("torch:softmax")(jnp.array([[0.0, 0.0], [0.0, 0.0]]), dim=-1)
      Array([[0.5, 0.5],
             [0.5, 0.5]], dtype=float32)
    """
    return _torch_dim(softmax, "softmax", x, dim, dtype)


@library_function("log_softmax", names={"torch": "log_softmax LogSoftmax"})
def log_softmax_torch(x: ArrayLike, dim: int | None = None, dtype: Any = None) -> Array:
    r"""PyTorch's ``log_softmax``: :func:`log_softmax` with torch's ``dim`` and ``dtype``.

    ``dim=None`` is torch's legacy choice, as in :func:`softmax_torch`.

    Args:
      x: input array.
      dim: the axis, or None.
      dtype: cast ``x`` to it first (optional).

    Returns:
      An array of the shape of ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("torch:log_softmax")(jnp.array([0.0, 0.0]), dim=0)
      Array([-0.6931472, -0.6931472], dtype=float32)
    """
    return _torch_dim(log_softmax, "log_softmax", x, dim, dtype)


@library_function("softmin", names={"torch": "softmin Softmin"})
def softmin_torch(x: ArrayLike, dim: int | None = None, dtype: Any = None) -> Array:
    r"""PyTorch's ``softmin``: :func:`softmin` with torch's ``dim`` and ``dtype``.

    ``dim=None`` is torch's legacy choice, as in :func:`softmax_torch`.

    Args:
      x: input array.
      dim: the axis, or None.
      dtype: cast ``x`` to it first (optional).

    Returns:
      An array of the shape of ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> import jaxact
      >>> jaxact.get("torch:softmin")(jnp.array([0.0, 100.0]), dim=-1)
      Array([1., 0.], dtype=float32)
    """
    return _torch_dim(softmin, "softmin", x, dim, dtype)


@jax.jit
def _softmax1_core(x: Array) -> Array:
    zero = jnp.zeros_like(x[..., :1])  # x's sharding (a mesh with explicit axes)
    return _softmax_core(jnp.concatenate([zero, x], axis=-1), None)[..., 1:]


@register(
    kind="vector",
    bounded=True,
    bounded_below=True,
    paper="Miller 2023, Attention Is Off By One, "
    "https://www.evanmiller.org/attention-is-off-by-one.html",
)
def softmax1(x: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> Array:
    r"""Quiet softmax ("softmax_1"): softmax with an extra logit fixed at 0.

    .. math::
      y_i = \frac{e^{x_i}}{1 + \sum_j e^{x_j}}
          = \operatorname{softmax}([0, x])_{1:}, \qquad
      \dot y = y \odot (\dot x - \langle y, \dot x \rangle)

    Computed as the softmax of ``[0, x]`` with the shift ``max(0, max x)``, so
    it never overflows; the outputs sum to less than 1 and tend to 0 when every
    logit tends to ``-inf`` (an attention head can attend to nothing).

    Args:
      x: input array.
      axis: the axis or axes to normalize over (``None``: all).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> jaxact.softmax1(jnp.array([0.0, 0.0, 0.0]))
      Array([0.25, 0.25, 0.25], dtype=float32)

    References:
      Miller 2023, Attention Is Off By One (blog post,
      https://www.evanmiller.org/attention-is-off-by-one.html).
    """
    return _along("softmax1", x, axis, _softmax1_core)


# ---------------------------------------------------------------------------
# gumbel_softmax.
# ---------------------------------------------------------------------------


def _is_key(key: Any) -> bool:
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return True
    dtype = getattr(key, "dtype", None)
    return dtype is not None and jnp.dtype(dtype) == jnp.uint32 and tuple(key.shape) == (2,)


@register(
    params={"tau": 1.0},
    kind="random",
    bounded=True,
    bounded_below=True,
    paper="Jang, Gu, Poole 2017, Categorical Reparameterization with Gumbel-Softmax, "
    "arXiv:1611.01144",
    names={"torch": "gumbel_softmax"},
)
def gumbel_softmax(
    x: ArrayLike,
    tau: ArrayLike = 1.0,
    hard: bool = False,
    axis: int | tuple[int, ...] | None = -1,
    *,
    key: Any = None,
) -> Array:
    r"""Gumbel-softmax (Concrete) sample with optional straight-through hard output.

    .. math::
      y = \operatorname{softmax}\big((x + g) / \tau\big), \quad
      g_i = -\log(-\log u_i), \; u_i \sim U(0, 1)

    With ``hard=True`` the value is ``one_hot(argmax y)`` exactly and the
    gradient is that of ``y`` (straight-through: ``one_hot + (y - stop_gradient(y))``).
    Differentiable in ``x`` and in ``tau``.

    Argument order: torch's ``gumbel_softmax(logits, tau, hard, eps, dim)``
    without the unused ``eps``, and the PRNG key as a required keyword-only
    argument ``key`` (JAX needs one; it cannot be hidden global state).

    Args:
      x: logits.
      tau: temperature, positive (scalar or broadcastable to ``x``).
      hard: return one-hot samples with straight-through gradients.
      axis: the axis or axes the categories lie along (``None``: all).
      key: a ``jax.random.key`` (or legacy ``PRNGKey``); required.

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact, jax, jax.numpy as jnp
      >>> y = jaxact.gumbel_softmax(jnp.zeros(4), hard=True, key=jax.random.key(0))
      >>> float(y.sum())
      1.0

    References:
      Jang, Gu, Poole 2017, Categorical Reparameterization with Gumbel-Softmax,
      arXiv:1611.01144; Maddison, Mnih, Teh 2017, The Concrete Distribution,
      arXiv:1611.00712.
    """
    fn = "gumbel_softmax"
    if _is_key(x):
        raise TypeError(
            f"jaxact.{fn}: argument 'x' is a PRNG key; the key is keyword-only: "
            f"{fn}(logits, tau, hard, axis, key=key)"
        )
    if key is None:
        raise ValueError(f"jaxact.{fn}: argument 'key' is required (a jax.random.key)")
    xc, dtype = prepare(x, fn)
    if not _is_key(key):
        raise TypeError(
            f"jaxact.{fn}: argument 'key' must be a PRNG key (jax.random.key), got "
            f"{type(key).__name__}"
        )
    if not isinstance(hard, (bool, np.bool_)):
        raise TypeError(f"jaxact.{fn}: argument 'hard' must be a bool, got {type(hard).__name__}")
    tau = param(tau, fn, "tau", xc, positive=True)
    axes = _axes(axis, xc.ndim, fn)
    if xc.size == 0:
        return finish(xc, dtype)
    g = jax.random.gumbel(key, xc.shape, xc.dtype)
    flat, undo = _to_last((xc + g) / tau, axes)
    y = _softmax_core_plain(flat)
    if hard:
        one_hot = jax.nn.one_hot(jnp.argmax(y, axis=-1), y.shape[-1], dtype=y.dtype)
        y = one_hot + (y - lax.stop_gradient(y))
    return finish(undo(y), dtype)


# ---------------------------------------------------------------------------
# sparsemax / entmax15.
# ---------------------------------------------------------------------------


def _shifted(x: Array, scale: float) -> tuple[Array, Array]:
    """``scale (x - max)``, clamped below at -2 (never in the support: tau >= -1)."""
    m, m0 = _row_max(x)
    z = jnp.maximum(scale * (x - m0), -2)
    return z, m


def _sort_desc(z: Array) -> Array:
    return -jnp.sort(-z, axis=-1)


@jax.custom_jvp
def _sparsemax_core(x: Array) -> Array:
    z, m = _shifted(x, 1.0)
    zs = _sort_desc(z)
    k = jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cs = jnp.cumsum(zs, axis=-1)
    size = jnp.sum(1 + k * zs > cs, axis=-1, keepdims=True)
    tau = (jnp.take_along_axis(cs, size - 1, axis=-1) - 1) / size.astype(z.dtype)
    y = jnp.maximum(z - tau, 0)
    return _special(x, m, None, y)


@_sparsemax_core.defjvp
def _sparsemax_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
    (x,) = primals
    y = _sparsemax_core(x)
    s = (y > 0).astype(y.dtype)
    u = _centred(tangents[0], x, None)
    dy = s * (u - _dot(s, u) / jnp.sum(s, axis=-1, keepdims=True))
    return y, ops.where(jnp.isnan(y), y, dy)


_sparsemax_jit = jax.jit(_sparsemax_core)


@register(
    kind="vector",
    bounded=True,
    bounded_below=True,
    smooth=False,
    paper="Martins, Astudillo 2016, From Softmax to Sparsemax: A Sparse Model of Attention "
    "and Multi-Label Classification, arXiv:1602.02068",
    names={"keras": "sparsemax"},
)
def sparsemax(x: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> Array:
    r"""Sparsemax: Euclidean projection of ``x`` onto the probability simplex.

    .. math::
      y_i = [x_i - \tau]_+, \quad \sum_i y_i = 1, \qquad
      \frac{\partial y}{\partial x} = \operatorname{diag}(s) - \frac{s s^\top}{|S|}

    ``tau`` is found exactly by sorting (``s`` is the support indicator,
    ``|S|`` its size). At a kink (an entry exactly at the threshold, ``y_i = 0``)
    the entry counts as outside the support. Rows with ``+inf`` entries put equal
    mass on them; an all ``-inf`` row is uniform.

    Args:
      x: input array.
      axis: the axis or axes to normalize over (``None``: all).

    Returns:
      An array of the same shape and dtype as ``x``, sparse slices summing to 1.

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> jaxact.sparsemax(jnp.array([1.0, 0.5, -1.0]))
      Array([0.75, 0.25, 0.  ], dtype=float32)

    References:
      Martins, Astudillo 2016, From Softmax to Sparsemax: A Sparse Model of
      Attention and Multi-Label Classification, arXiv:1602.02068.
    """
    return _along("sparsemax", x, axis, _sparsemax_jit)


@jax.custom_jvp
def _entmax15_core(x: Array) -> Array:
    z, m = _shifted(x, 0.5)
    zs = _sort_desc(z)
    k = jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    mean = jnp.cumsum(zs, axis=-1) / k
    mean_sq = jnp.cumsum(zs * zs, axis=-1) / k
    delta = (1 - k * (mean_sq - mean * mean)) / k
    tau_k = mean - jnp.sqrt(jnp.maximum(delta, 0))
    size = jnp.sum(tau_k <= zs, axis=-1, keepdims=True)
    tau = jnp.take_along_axis(tau_k, size - 1, axis=-1)
    y = jnp.square(jnp.maximum(z - tau, 0))
    return _special(x, m, None, y)


def _safe_sqrt(y: Array) -> Array:
    pos = y > 0
    return ops.where(pos, jnp.sqrt(ops.where(pos, y, 1)), 0)


@_entmax15_core.defjvp
def _entmax15_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
    (x,) = primals
    y = _entmax15_core(x)
    r = _safe_sqrt(y)
    u = _centred(tangents[0], x, None)
    g = r * u
    dy = g - (jnp.sum(g, axis=-1, keepdims=True) / jnp.sum(r, axis=-1, keepdims=True)) * r
    return y, ops.where(jnp.isnan(y), y, dy)


_entmax15_jit = jax.jit(_entmax15_core)


@register(
    kind="vector",
    bounded=True,
    bounded_below=True,
    smooth=False,
    paper=_PAPER_ENTMAX,
)
def entmax15(x: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> Array:
    r"""1.5-entmax, computed exactly by sorting.

    .. math::
      y_i = [x_i/2 - \tau]_+^2, \quad \sum_i y_i = 1, \qquad
      \dot y = g - \frac{\sum_j g_j}{\sum_j r_j} r, \quad r = \sqrt{y},\; g = r \odot \dot x

    Between softmax (dense) and sparsemax (sparse); continuously differentiable.
    Rows with ``+inf`` entries put equal mass on them; an all ``-inf`` row is
    uniform.

    Args:
      x: input array.
      axis: the axis or axes to normalize over (``None``: all).

    Returns:
      An array of the same shape and dtype as ``x``, sparse slices summing to 1.

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> jaxact.entmax15(jnp.array([4.0, 0.0, -4.0]))
      Array([1., 0., 0.], dtype=float32)

    References:
      Peters, Niculae, Martins 2019, Sparse Sequence-to-Sequence Models,
      arXiv:1905.05702.
    """
    return _along("entmax15", x, axis, _entmax15_jit)


# ---------------------------------------------------------------------------
# entmax_bisect.
# ---------------------------------------------------------------------------


def _power(b: Array, inv: Array) -> Array:
    """``b ** inv`` for ``b > 0``, else 0."""
    pos = b > 0
    return ops.where(pos, elementary.exp(jnp.log(ops.where(pos, b, 1)) * inv), 0)


def _entmax_bisect_impl(x: Array, alpha: Array, n_iter: int) -> Array:
    m, m0 = _row_max(x)
    eps = alpha - 1
    inv = 1 / eps
    z = eps * (x - m0)
    n = x.shape[-1]
    # From m, not a new constant: the bracket then has x's sharding (explicit mesh
    # axes) and varies over the same manual axes (shard_map's loop carry).
    lo = jnp.full_like(m, -1) + jnp.zeros_like(eps)
    hi = -elementary.exp(eps * jnp.log(jnp.asarray(1.0 / n, x.dtype)))
    width = hi - lo

    def body(_: int, state: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, width = state
        width = width / 2
        mid = lo + width
        f = jnp.sum(_power(z - mid, inv), axis=-1, keepdims=True) - 1
        return ops.where(f >= 0, mid, lo), width

    lo, width = lax.fori_loop(0, n_iter, body, (lo, width))
    p = _power(z - (lo + width / 2), inv)
    y = p / jnp.sum(p, axis=-1, keepdims=True)
    return _special(x, m, None, y)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _entmax_bisect_core(x: Array, alpha: Array, n_iter: int) -> Array:
    return _entmax_bisect_impl(x, alpha, n_iter)


def _ylogy(y: Array) -> Array:
    pos = y > 0
    return ops.where(pos, y * jnp.log(ops.where(pos, y, 1)), 0)


@_entmax_bisect_core.defjvp
def _entmax_bisect_jvp(
    n_iter: int, primals: tuple[Any, ...], tangents: tuple[Any, ...]
) -> tuple[Array, Array]:
    x, alpha = primals
    tx, ta = tangents
    y = _entmax_bisect_core(x, alpha, n_iter)
    # g = y^(2 - alpha) on the support: the derivative of the power map.
    g = _power(y, 2 - alpha)
    sg = jnp.sum(g, axis=-1, keepdims=True)
    u = _centred(tx, x, None)
    gu = g * u
    dy = gu - (jnp.sum(gu, axis=-1, keepdims=True) / sg) * g
    eps = alpha - 1
    skew = g / sg
    s = _ylogy(y)
    ent = jnp.sum(s, axis=-1, keepdims=True)
    dalpha = (y - skew) / (eps * eps) - (s - skew * ent) / eps
    dy = dy + dalpha * ta
    return y, ops.where(jnp.isnan(y), y, dy)


_entmax_bisect_jit = jax.jit(_entmax_bisect_core, static_argnums=2)


@register(
    params={"alpha": 1.5},
    kind="vector",
    bounded=True,
    bounded_below=True,
    smooth=False,
    paper=_PAPER_ENTMAX + "; Correia, Niculae, Martins 2019, Adaptively Sparse "
    "Transformers, arXiv:1909.00015",
)
def entmax_bisect(
    x: ArrayLike,
    alpha: ArrayLike = 1.5,
    axis: int | tuple[int, ...] | None = -1,
    n_iter: int = 50,
) -> Array:
    r"""alpha-entmax by bisection, differentiable in ``x`` and ``alpha``.

    .. math::
      y_i = [(\alpha - 1) x_i - \tau]_+^{1/(\alpha - 1)}, \quad \sum_i y_i = 1, \qquad
      \dot y = g \odot \dot x - \frac{\langle g, \dot x \rangle}{\sum_j g_j} g,
      \quad g = y^{2 - \alpha}

    .. math::
      \frac{\partial y}{\partial \alpha} = \frac{y - \hat g}{(\alpha - 1)^2}
        - \frac{y \log y - \hat g \sum_j y_j \log y_j}{\alpha - 1},
      \quad \hat g = g / \textstyle\sum_j g_j

    ``tau`` is bracketed in ``[max - 1, max - n^{1 - alpha}]`` and halved
    ``n_iter`` times (50 reach float64 precision); the result is renormalized.
    The derivatives come from the implicit function theorem, not from the loop.
    ``alpha -> 1`` tends to softmax, ``alpha = 2`` is sparsemax, ``alpha = 1.5``
    is :func:`entmax15`.

    Args:
      x: input array.
      alpha: ``alpha > 1``; a scalar or an array broadcastable to ``x`` with size
        1 along the reduced axes (e.g. one learnable alpha per head).
      axis: the axis or axes to normalize over (``None``: all).
      n_iter: number of bisection steps (a positive int).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact, jax.numpy as jnp
      >>> y = jaxact.entmax_bisect(jnp.array([1.0, 0.5, -1.0]), alpha=2.0)
      >>> [round(float(v), 4) for v in y]
      [0.75, 0.25, 0.0]

    References:
      Peters, Niculae, Martins 2019, Sparse Sequence-to-Sequence Models,
      arXiv:1905.05702; Correia, Niculae, Martins 2019, Adaptively Sparse
      Transformers, arXiv:1909.00015.
    """
    fn = "entmax_bisect"
    xc, dtype = prepare(x, fn)
    if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, (int, np.integer)):
        raise TypeError(f"jaxact.{fn}: argument 'n_iter' must be an int, got {n_iter!r}")
    if n_iter < 1:
        raise ValueError(f"jaxact.{fn}: argument 'n_iter' must be positive, got {n_iter}")
    n_iter = int(n_iter)
    axes = _axes(axis, xc.ndim, fn)
    alpha = param(alpha, fn, "alpha", xc)
    if is_concrete(alpha) and np.any(~(np.asarray(alpha, np.float64) > 1)):
        raise ValueError(f"jaxact.{fn}: argument 'alpha' must be > 1, got {alpha!r}")
    a = jnp.asarray(alpha, xc.dtype)
    a = a.reshape((1,) * (xc.ndim - a.ndim) + a.shape)
    if any(a.shape[i] != 1 for i in axes):
        raise ValueError(
            f"jaxact.{fn}: argument 'alpha' of shape {jnp.shape(alpha)} must have size 1 "
            f"along the reduced axes {axes}"
        )
    if xc.size == 0:
        return finish(xc, dtype)
    a_flat = _to_last(a, axes)[0]
    flat, undo = _to_last(xc, axes)
    y = _entmax_bisect_jit(flat, a_flat, n_iter)
    return finish(undo(y), dtype)
