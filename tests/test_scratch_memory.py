"""Scratch memory of the softmax family and rational, against jax.nn (deterministic).

XLA's temporary buffers (``memory_analysis().temp_size_in_bytes`` of the compiled
program; nothing is allocated or run) for the forward program ``f(x)`` and the
backward program ``x, g -> vjp(f, x)(g)`` on a ``(4096, 1024)`` float32 input must
be no more than those of jax.nn.softmax's same programs on the same input (the
same mask for the masked rows; for gumbel_softmax, jax.nn.softmax of the same
Gumbel draw, whose own generation needs its buffers), plus a few values per row
(a row maximum, row sums): ``ROW_VALUES`` per row, a 32nd of the smallest buffer
the size of the input (a 1-byte mask). Attention runs softmax on the largest
tensors in a transformer; a buffer per element there was 20 bytes per element.

Both precision tiers: their kernels differ (the accurate tier's ``exp`` is a
double-word polynomial). softmin shares softmax's kernel and rational does not
depend on the tier, so they run in one; gumbel_softmax (softmax's kernel after a
draw that takes most of its compile time) in the accurate one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import jaxact

ROWS, COLS = 4096, 1024
X = jax.ShapeDtypeStruct((ROWS, COLS), jnp.float32)
MASK = jax.ShapeDtypeStruct((ROWS, COLS), jnp.bool_)
ROW_VALUES = 8  # float32 values per row: 128 KiB here, 1/32 of a 1-byte-per-element buffer
KEY = jax.random.key(0)


def _temp(fn: Callable[..., Any], *args: Any) -> int:
    return jax.jit(fn).lower(*args).compile().memory_analysis().temp_size_in_bytes


def _programs(fn: Callable[..., Any], masked: bool) -> tuple[int, int]:
    """Temporary bytes of the forward and the backward program of ``fn``."""
    if masked:
        return (
            _temp(lambda x, w: fn(x, where=w), X, MASK),
            _temp(lambda x, w, g: jax.vjp(lambda v: fn(v, where=w), x)[1](g)[0], X, MASK, X),
        )
    return _temp(fn, X), _temp(lambda x, g: jax.vjp(fn, x)[1](g)[0], X, X)


def _gumbel_nn(x: jax.Array) -> jax.Array:
    return jax.nn.softmax(x + jax.random.gumbel(KEY, x.shape, x.dtype))


@functools.cache
def _baseline(kind: str) -> tuple[int, int]:
    """jax.nn's programs (no precision tiers): plain, masked, or on a Gumbel draw."""
    if kind == "gumbel":
        return _programs(_gumbel_nn, masked=False)
    return _programs(jax.nn.softmax, masked=kind == "masked")


# name -> (function, baseline kind, masked)
CASES: dict[str, tuple[Callable[..., Any], str, bool]] = {
    "softmax": (jaxact.softmax, "plain", False),
    "softmin": (jaxact.softmin, "plain", False),
    "log_softmax": (jaxact.log_softmax, "plain", False),
    "softmax1": (jaxact.softmax1, "plain", False),
    "gumbel_softmax": (lambda x: jaxact.gumbel_softmax(x, key=KEY), "gumbel", False),
    "rational": (jaxact.rational, "plain", False),
    "softmax(where)": (jaxact.softmax, "masked", True),
    "log_softmax(where)": (jaxact.log_softmax, "masked", True),
}
TIERS = {
    "fast": [n for n in CASES if n != "gumbel_softmax"],
    "accurate": ["softmax", "log_softmax", "softmax1", "gumbel_softmax"],
}


# The fast lane (`pytest -m "not slow"`): softmax and rational in the fast tier, softmax
# along axis 0; the full suite runs every case.
FAST = {("softmax", "fast"), ("rational", "fast"), ("softmax", "axis0")}


def _lane(a: str, b: str) -> Any:
    marks = [] if (a, b) in FAST else [pytest.mark.slow]
    return pytest.param(a, b, marks=marks, id=f"{a}-{b}")


@pytest.mark.parametrize("name,tier", [_lane(n, t) for t, names in TIERS.items() for n in names])
def test_scratch_memory_at_most_jax_nn_softmax(name: str, tier: str) -> None:
    fn, kind, masked = CASES[name]
    with jaxact.precision(tier):
        got = _programs(fn, masked)
    limit = tuple(b + ROW_VALUES * ROWS * 4 for b in _baseline(kind))
    per_element = [round(v / (ROWS * COLS), 2) for v in got]
    assert got[0] <= limit[0], (name, tier, "forward", per_element, _baseline(kind))
    assert got[1] <= limit[1], (name, tier, "backward", per_element, _baseline(kind))


# Along an axis that is not the last: the kernels reduce along it in place (a transposed
# copy of the input was 4 bytes per element). A single leading axis, and torch's
# Softmax2d axis (-3 of NCHW) with short rows.
AXES = {
    "axis0": (0, (COLS, ROWS)),
    "nchw": (-3, (8, 64, 32, 32)),
}
AXIS_CASES = {
    "softmax": jaxact.softmax,
    "softmin": jaxact.softmin,
    "log_softmax": jaxact.log_softmax,
    "softmax1": jaxact.softmax1,
    "gumbel_softmax": lambda x, axis: jaxact.gumbel_softmax(x, axis=axis, key=KEY),
}


@pytest.mark.parametrize("name,where", [_lane(n, w) for w in AXES for n in AXIS_CASES])
def test_scratch_memory_along_other_axes(name: str, where: str) -> None:
    axis, shape = AXES[where]
    x = jax.ShapeDtypeStruct(shape, jnp.float32)
    rows = x.size // shape[axis]

    def both(fn: Callable[..., Any]) -> tuple[int, int]:
        return _temp(fn, x), _temp(lambda v, g: jax.vjp(fn, v)[1](g)[0], x, x)

    def nn(v: jax.Array) -> jax.Array:
        if name == "gumbel_softmax":
            v = v + jax.random.gumbel(KEY, v.shape, v.dtype)
        return jax.nn.softmax(v, axis=axis)

    fn = AXIS_CASES[name]
    with jaxact.precision("fast"):
        got = both(lambda v: fn(v, axis=axis))
    base = both(nn)
    limit = [b + ROW_VALUES * rows * 4 for b in base]
    per_element = [round(v / x.size, 3) for v in got]
    assert got[0] <= limit[0] and got[1] <= limit[1], (name, where, per_element, base)
