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
* softmax, log_softmax, softmin, softmax1 and gumbel_softmax need no XLA scratch
  buffer the size of the input, forward or backward (no more than jax.nn.softmax;
  see the comment above ``_rowsums``); their row sums are compensated.
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

from jaxact._src import elementary, exact, ops
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
    fn: str,
    x: Any,
    axis: Any,
    core: Callable[..., Array],
    *args: Any,
    where: Any = None,
    in_place: bool = False,
) -> Array:
    """Checks the input and applies ``core(x, *args)`` along the flattened ``axis``.

    ``in_place``: ``core(x, *args, ax)`` reduces along the axis ``ax`` itself, so a
    single axis that is not the last needs no transposed copy of ``x`` (several axes
    are moved to the end and flattened, and ``ax`` is the last).
    """
    x, dtype = prepare(x, fn)
    axes = _axes(axis, x.ndim, fn)
    mask = _mask(where, x, fn)
    if x.size == 0:
        return finish(x, dtype)
    if in_place and len(axes) == 1:
        if mask is not None:
            args = (mask,) + args
        return finish(core(x, *args, axes[0]), dtype)
    flat, undo = _to_last(x, axes)
    if mask is not None:
        args = (_to_last(mask, axes)[0],) + args
    if in_place:
        args = args + (flat.ndim - 1,)
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


# Scratch memory. The softmax family's kernels are elementwise work on the logits
# (and the tangent) and per-row values, so that XLA computes them inside its passes
# over each row (the row maximum, the row sums, the output) and keeps no array the
# size of the input besides the output (tests/test_scratch_memory.py). What keeps
# XLA:CPU there:
#
# * a row sum of the primal is one variadic reduction (:func:`_rowsums`, and
#   :func:`_masked_max` for a masked maximum), which XLA fuses with the elementwise
#   work that feeds it; a plain sum or maximum becomes a YNNPACK fusion, which takes
#   its operand as an array wherever that has a select or a comparison in it;
# * a row value is used through a row-level select (the shift in :func:`_shift`,
#   :func:`_denominator`, :func:`_tsum`), which ends the YNNPACK fusion of its
#   reduction at the row: one that also computes the elementwise output reads its
#   operand twice, so that operand is kept as an array;
# * no product is both summed and used elementwise in a transposed rule (see
#   :func:`_softmax_jvp`), and the reference entry of the rules is an iota
#   comparison, not a gather or scatter.


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _rowsums(ax: int, *vs: Array) -> tuple[Array, ...]:
    """Row sums (along the axis ``ax``, keepdims) of the arrays, compensated, in one
    reduction.

    Each sum is carried as a pair (sum, accumulated rounding errors) and pairs are
    added with :func:`exact.two_sum`, so the sum is within about an ulp whatever
    order XLA adds in (positive terms). Its tangents are plain sums (the reduction
    itself has no derivative or transpose).
    """
    zero = jnp.zeros((), vs[0].dtype)
    operands = tuple(a for v in vs for a in (v, lax.full_like(v, 0)))

    def add(p: tuple[Array, ...], q: tuple[Array, ...]) -> tuple[Array, ...]:
        out: list[Array] = []
        for i in range(0, len(p), 2):
            s, e = exact.two_sum(p[i], q[i])
            out += [s, e + (p[i + 1] + q[i + 1])]
        return tuple(out)

    r = lax.reduce(operands, (zero,) * len(operands), add, (ax,))
    return tuple(jnp.expand_dims(r[i] + r[i + 1], ax) for i in range(0, len(r), 2))


@_rowsums.defjvp
def _rowsums_jvp(
    ax: int, primals: tuple[Array, ...], tangents: tuple[Array, ...]
) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
    return _rowsums(ax, *primals), tuple(jnp.sum(t, axis=ax, keepdims=True) for t in tangents)


def _tsum(v: Array, live: Array, ax: int) -> Array:
    """The row sum of a tangent expression, 0 in rows that are not ``live``."""
    return ops.where(live, jnp.sum(v, axis=ax, keepdims=True), 0)


def _live(s: Array) -> Array:
    """True in every row: ``s`` is a row's divisor (positive, or NaN in a row with a
    NaN). What :func:`_tsum` selects on: XLA cannot know it is always True."""
    return ~jnp.isinf(s)


def _denominator(s: Array) -> Array:
    """A row's sum ``s >= 0`` as a divisor: 1 where it is 0 (a fully masked row)."""
    return ops.where(s == 0, 1, s)


def _shift(x: Array, mask: Array | None, ax: int) -> tuple[Array, Array]:
    """The logits shifted by their row maximum ``m``, and the masked logits.

    ``z = x - m`` (``-inf`` where masked, NaN in a row with a NaN). In a row whose
    maximum is infinite, ``z`` is 0 on the top entries (those equal to ``m``,
    unmasked) and ``-inf`` elsewhere: the limit of equal logits.
    """
    xm = _masked(x, mask)
    m = lax.stop_gradient(
        jnp.max(xm, axis=ax, keepdims=True) if mask is None else _masked_max(xm, ax)
    )
    top = xm == m
    if mask is not None:
        top = top & mask
    inf = jnp.isinf(m)
    return ops.where(
        inf, ops.where(top, jnp.zeros((), xm.dtype), -jnp.inf), xm - ops.where(inf, 0, m)
    ), xm


def _masked_max(xm: Array, ax: int) -> Array:
    """The row maximum (keepdims) as a variadic reduction, which XLA fuses with the
    select that masks ``xm`` (a plain max would take ``xm`` as an array): the maximum
    of ``xm`` and the minimum of ``-xm``, the same number up to its sign."""
    big = jnp.asarray(jnp.inf, xm.dtype)
    hi, lo = lax.reduce(
        (xm, -xm),
        (-big, big),
        lambda p, q: (lax.max(p[0], q[0]), lax.min(p[1], q[1])),
        (ax,),
    )
    return jnp.expand_dims(lax.max(hi, -lo), ax)


def _reference(xm: Array, mask: Array | None, ax: int) -> Array:
    """The row's reference entry for the derivative rules: its first top entry, the
    first entry of ``xm``'s argmax (where that is masked, as in a row of only
    ``-inf``, none).

    An argmax, which XLA computes as a reduction fused with the masking of ``xm``,
    compared with an iota: no gather or scatter, and nothing for XLA to keep as an
    array.
    """
    i = jnp.argmax(xm, axis=ax, keepdims=True)
    iota = lax.broadcasted_iota(i.dtype, xm.shape, ax, out_sharding=jax.typeof(xm).sharding)
    return iota == i if mask is None else (iota == i) & mask


def _centred_at(t: Array, ref: Array, mask: Array | None, live: Array, ax: int) -> Array:
    """The tangent minus its value at the row's reference entry; 0 there and where masked.

    The reference entry's own term is then exactly 0, and in the transposed rule its
    gradient is minus the sum of the others' (a sum that leaves it out: no rounding
    of a sum it dominates can cancel).
    """
    keep = ~ref if mask is None else mask & ~ref
    return ops.where(keep, t - _tsum(ops.where(ref, t, 0), live, ax), 0)


def _softmax_parts(x: Array, mask: Array | None, ax: int) -> tuple[Array, Array, Array]:
    """``e = exp(z)``, the row's divisor ``s = sum(e)`` (1 for a fully masked row) and
    the masked logits: the softmax is ``e / s``."""
    z, xm = _shift(x, mask, ax)
    e = elementary.exp(z)
    (s,) = _rowsums(ax, e)
    return e, _denominator(s), xm


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _softmax_core(x: Array, mask: Array | None, ax: int) -> Array:
    e, s, _ = _softmax_parts(x, mask, ax)
    return e / s


@_softmax_core.defjvp
def _softmax_jvp(
    ax: int, primals: tuple[Any, ...], tangents: tuple[Any, ...]
) -> tuple[Array, Array]:
    x, mask = primals
    e, s, xm = _softmax_parts(x, mask, ax)
    live = _live(s)
    u = _centred_at(tangents[0], _reference(xm, mask, ax), mask, live, ax)
    y = e / s
    # y (u - <y, u>) as y u - e <e, u> / s^2: in the transposed rule the row sum is then
    # over e g, not over y g, which the elementwise term also uses (XLA keeps a
    # product used twice as an array).
    return y, y * u - e * (_tsum(e * u, live, ax) / (s * s))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _log_softmax_core(x: Array, mask: Array | None, ax: int) -> Array:
    z, _ = _shift(x, mask, ax)
    # The top entries are where z is 0 (x - m is exact): found from z, XLA keeps no
    # array of them.
    top = z == 0
    # log(sum e^z) = log1p(the sum over the entries other than the top entries, plus
    # their count - 1): each top entry contributes exactly 1, so the small remainder
    # keeps full precision. A row with an infinite maximum: -log(count) on its top
    # entries, -inf elsewhere; a fully masked row: -inf.
    rest, count = _rowsums(
        ax, ops.where(top, 0, elementary.exp(z)), ops.where(top, jnp.ones((), z.dtype), 0)
    )
    return z - elementary.log1p(ops.where(count > 0, rest + (count - 1), 0))


@_log_softmax_core.defjvp
def _log_softmax_jvp(
    ax: int, primals: tuple[Any, ...], tangents: tuple[Any, ...]
) -> tuple[Array, Array]:
    x, mask = primals
    y = _log_softmax_core(x, mask, ax)
    e, s, xm = _softmax_parts(x, mask, ax)
    live = _live(s)
    u = _centred_at(tangents[0], _reference(xm, mask, ax), mask, live, ax)
    dy = u - _tsum((e / s) * u, live, ax)
    if mask is not None:
        dy = ops.where(mask, dy, 0)
    return y, dy


# The kernels' jits, with the reduced axis static.
@functools.partial(jax.jit, static_argnums=(2,))
def _softmax_core_masked(x: Array, mask: Array, ax: int) -> Array:
    return _softmax_core(x, mask, ax)


@functools.partial(jax.jit, static_argnums=(1,))
def _softmax_core_plain(x: Array, ax: int) -> Array:
    return _softmax_core(x, None, ax)


@functools.partial(jax.jit, static_argnums=(2,))
def _log_softmax_core_masked(x: Array, mask: Array, ax: int) -> Array:
    return _log_softmax_core(x, mask, ax)


@functools.partial(jax.jit, static_argnums=(1,))
def _log_softmax_core_plain(x: Array, ax: int) -> Array:
    return _log_softmax_core(x, None, ax)


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
        return _along("softmax", x, axis, _softmax_core_plain, in_place=True)
    return _along("softmax", x, axis, _softmax_core_masked, where=where, in_place=True)


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
        return _along("log_softmax", x, axis, _log_softmax_core_plain, in_place=True)
    return _along("log_softmax", x, axis, _log_softmax_core_masked, where=where, in_place=True)


@functools.partial(jax.jit, static_argnums=(1,))
def _softmin_core_plain(x: Array, ax: int) -> Array:
    return _softmax_core(-x, None, ax)


@functools.partial(jax.jit, static_argnums=(2,))
def _softmin_core_masked(x: Array, mask: Array, ax: int) -> Array:
    return _softmax_core(-x, mask, ax)


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
        return _along("softmin", x, axis, _softmin_core_plain, in_place=True)
    return _along("softmin", x, axis, _softmin_core_masked, where=where, in_place=True)


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


def _shift1(x: Array, ax: int) -> tuple[Array, Array, Array]:
    """:func:`_shift` for ``[0, x]`` with ``m = max(0, max x)``: ``z``, the extra
    logit's ``e^(0 - m)`` and whether it is a top entry."""
    m = lax.stop_gradient(jnp.maximum(jnp.max(x, axis=ax, keepdims=True), 0))
    inf = jnp.isinf(m)
    top = x == m
    z = ops.where(inf, ops.where(top, jnp.zeros((), x.dtype), -jnp.inf), x - ops.where(inf, 0, m))
    return z, elementary.exp(-m), m == 0


def _softmax1_parts(x: Array, ax: int) -> tuple[Array, Array, Array, Array]:
    """``e``, the divisor ``s``, ``e0`` (the softmax of ``[0, x]`` is ``[e0, e] / s``)
    and whether the extra logit is a top entry."""
    z, e0, extra = _shift1(x, ax)
    e = elementary.exp(z)
    (s,) = _rowsums(ax, e)
    return e, _denominator(s + e0), e0, extra


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _softmax1_core(x: Array, ax: int) -> Array:
    # softmax([0, x])[1:] without forming [0, x]: the extra logit's term is added
    # to the row's sum.
    e, s, _, _ = _softmax1_parts(x, ax)
    return e / s


@_softmax1_core.defjvp
def _softmax1_jvp(
    ax: int, primals: tuple[Any, ...], tangents: tuple[Any, ...]
) -> tuple[Array, Array]:
    # softmax's rule on [0, x] with the tangent [0, t], written as in _softmax_jvp and
    # centred on the reference entry of [0, x]: where that is an entry of x, the extra
    # entry's centred tangent is -t_ref, and its output is e0 / s.
    (x,) = primals
    e, s, e0, extra = _softmax1_parts(x, ax)
    # The reference is the first top entry of [0, x]: the extra logit where it is one.
    ref = _reference(x, None, ax) & ~extra
    live = _live(s)
    t = tangents[0]
    t_ref = _tsum(ops.where(ref, t, 0), live, ax)
    u = ops.where(ref, 0, t - t_ref)
    y = e / s
    return y, y * u - e * ((_tsum(e * u, live, ax) - e0 * t_ref) / (s * s))


_softmax1_jit = jax.jit(_softmax1_core, static_argnums=(1,))


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
    return _along("softmax1", x, axis, _softmax1_jit, in_place=True)


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
    domain={"tau": "(0, inf)"},
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
    if len(axes) == 1:  # along the axis itself: no transposed copy
        (ax,) = axes
        y = _softmax_core_plain((xc + g) / tau, ax)
        if hard:
            i = jnp.argmax(y, axis=ax, keepdims=True)
            iota = lax.broadcasted_iota(i.dtype, y.shape, ax, out_sharding=jax.typeof(y).sharding)
            top = iota == i
            y = top.astype(y.dtype) + (y - lax.stop_gradient(y))
        return finish(y, dtype)
    flat, undo = _to_last((xc + g) / tau, axes)
    y = _softmax_core_plain(flat, flat.ndim - 1)
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
    # The support's sum of squared deviations, sum_{j<=k} (z_j - mean_k)^2, as Welford's
    # running sum of the non-negative terms (z_j - mean_{j-1})(z_j - mean_j): no
    # cancellation, where k (mean of squares - squared mean) lost up to 8 ulp of the
    # unit scale (tau - and every y near the support's edge - with it).
    prev = jnp.concatenate([zs[..., :1], mean[..., :-1]], axis=-1)
    squares = jnp.cumsum((zs - prev) * (zs - mean), axis=-1)
    delta = (1 - squares) / k
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
    domain={"alpha": "(1, inf)"},
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
