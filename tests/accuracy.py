"""Accuracy harness: jaxact against 50-digit mpmath references, counted in ulps.

Used by ``tests/test_accuracy.py`` (over the ``MP_REFS`` of the family tests) and
by ``benchmarks/accuracy.py``. For every elementwise activation and dtype it
evaluates f, f' (reverse mode), f'' (forward over reverse, as ``jax.hessian``) and f'
once more in forward mode on a grid of nasty inputs and
counts, against the mpmath truth:

* ``nonfinite``: inf/NaN where the truth is a finite number of the dtype;
* ``lost``: 0 where the truth is a normal number of the dtype;
* ``sign``: a non-zero result of the wrong sign;
* ``ulp``: the largest error in ulps of the truth (rounded to the dtype). A
  truth below the smallest normal may come back flushed to zero (XLA:CPU
  flushes subnormals); near roots of a quantity the ulp is taken at
  ``Ref.scale`` (the size of the O(1) terms) instead of at the truth.

The exhaustive half-precision sweep compares every one of the 65,536 bit
patterns of bfloat16 and float16 (f and f') against the float64 computation of
the same function, which the mpmath grid itself checks.

``check_grid`` and ``check_half`` hold the pass/fail rule of both (used by
``tests/test_accuracy.py``); the small derivative and error helpers at the end are
shared by the family tests.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
from jaxact import registry
from tests import mpjet

mp.mp.dps = 50

# Rules that keep a one-byte code: f'' is 0 everywhere, NaN inputs included.
PIECEWISE_LINEAR = tuple(n for n, s in registry.SPECS.items() if s.piecewise_linear)

# The fast lane (`pytest -m "not slow"`) runs the generic sweeps on one
# representative per family (its first row in the registry, per kind); the slow
# lane runs every row. A sweep over thin wrappers of the same rules finds a broken
# rule on any row of its family, at a fraction of the compile time.
REPRESENTATIVES = tuple(
    dict.fromkeys(
        next(n for n, s in registry.SPECS.items() if (s.family, s.kind) == key)
        for key in dict.fromkeys((s.family, s.kind) for s in registry.SPECS.values())
    )
)


def lane(*values: Any, fast: bool, id: str | None = None, group: str | None = None) -> Any:
    """``pytest.param(*values)``, marked slow unless ``fast``.

    ``group``: the registry row the case is about. Under ``pytest -n N --dist loadgroup``
    (the README's command) the cases of one row run on one worker, where they share
    the row's compiled programs (:func:`evaluate`).
    """
    marks = [] if fast else [pytest.mark.slow]
    if group is not None:
        marks.append(pytest.mark.xdist_group(group))
    return pytest.param(*values, marks=marks, id=id)


# Bounds in ulps for f, f', f'' (float32 and float64) per precision tier, and for the
# half sweeps (both tiers: half precision computes in float32 and rounds once).
TIER_BOUNDS = {
    "accurate": {"f": 2.0, "d1": 4.0, "d2": 16.0},
    "fast": {"f": 4.0, "d1": 8.0, "d2": 32.0},
}
BOUNDS = TIER_BOUNDS["accurate"]
HALF_BOUND = 1.0

# The fast tier's measured exceptions to its bounds, (name, dtype name, order) ->
# (allowed max ulp, why): set from `python -m benchmarks.accuracy --tiers fast`, rounded
# up. Bad points (inf/NaN, lost tails, wrong signs) have no exceptions in either tier.
_ERFC = "XLA's erfc loses about 2 w^2 ulp in its tail (w = -x/sqrt 2)"
_GELU_Z = "z = kx(1 + a x^2) is rounded (no double word): |z| ulp in the left tail"
_GOMPERTZ = "exp(-e^{-x}) multiplies the error of e^{-x} by e^{-x} (about 70 at x = -4.25)"
FAST_ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {
    ("gelu_tanh", "float32", "f"): (40.0, _GELU_Z),
    ("gelu_tanh", "float32", "d1"): (56.0, _GELU_Z),
    ("gelu_tanh", "float32", "d2"): (68.0, _GELU_Z),
    ("gelu_tanh", "float64", "f"): (140.0, _GELU_Z),
    ("gelu_tanh", "float64", "d1"): (104.0, _GELU_Z),
    ("gelu_tanh", "float64", "d2"): (152.0, _GELU_Z),
    ("gelu_erf", "float32", "f"): (4.5, "the erfc fit's 1.2e-7 and a few roundings"),
    ("gelu_erf", "float64", "f"): (82.0, _ERFC),
    ("gelu_clipped", "float32", "f"): (4.5, "the erfc fit's 1.2e-7 and a few roundings"),
    ("gelu_clipped", "float64", "f"): (82.0, _ERFC),
    ("laplace", "float32", "f"): (54.0, _ERFC),
    ("laplace", "float64", "f"): (302.0, _ERFC),
    ("golu", "float32", "f"): (48.0, _GOMPERTZ),
    ("golu", "float32", "d1"): (50.0, _GOMPERTZ),
    ("golu", "float32", "d2"): (35.0, _GOMPERTZ),
    ("golu", "float64", "f"): (272.0, _GOMPERTZ),
    ("golu", "float64", "d1"): (274.0, _GOMPERTZ),
    ("golu", "float64", "d2"): (276.0, _GOMPERTZ),
    ("telu", "float32", "d2"): (98.0, "tanh(e^x) near saturation: e^x's error times x"),
    ("telu", "float64", "d2"): (344.0, "tanh(e^x) near saturation: e^x's error times x"),
    ("smu", "float32", "f"): (4.5, "XLA's erf"),
    ("mish", "float32", "f"): (4.5, "e^{-|x|} as h^2 and one quotient, rounded"),
}
ORDERS = ("f", "d1", "d2")
# With f' in forward mode: what one grid program computes (and what other tests ask
# for, so that they reuse it).
ALL_ORDERS = (*ORDERS, "d1_fwd")


@dataclasses.dataclass(frozen=True, eq=False)
class Ref:
    """An mpmath reference for one elementwise activation.

    Attributes:
      f: ``f(x, **params)`` written with ``tests.mpjet`` functions, so that
        called on a jet it gives f, f' and f'' exactly (50 digits).
      params: the parameter values used for the check (defaults of jaxact's function).
      kinks: x positions where f or a derivative is not smooth (points exactly
        there are skipped here; the kink policy is tested on its own).
      scale: optional ``scale(x, order) -> mpf``, the magnitude of the O(1)
        terms of that quantity, for an absolute bound near its roots.
      periodic: the limit at +-inf does not exist (NaN expected there).
    """

    f: Callable[..., Any]
    params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    kinks: Sequence[float] = ()
    scale: Callable[[Any, str], Any] | None = None
    periodic: bool = False


def grid(dtype: Any) -> np.ndarray:
    """The nasty inputs for a dtype (values exactly representable in it)."""
    info = np.finfo(dtype)
    tiny, big = float(info.tiny), float(info.max)
    sub = float(info.smallest_subnormal)
    mags = [0.0, sub, tiny / 2, tiny, 1e-30, 1e-20, 1e-12]
    mags += list(np.geomspace(1e-8, 1e4, 12 * 12 + 1))
    # Overflow thresholds of exp, x^2 and x^3 for this dtype, and around them.
    for t in (math.log(big), math.sqrt(big), big ** (1 / 3)):
        mags += [t * (1 + k * 2.0**-8) for k in (-2, -1, 0, 1, 2)]
    mags += [1e6, 1e10, 1e20, 1e30, big / 2, big]
    lin = list(np.arange(-10, 10.01, 0.25))
    vals = sorted({*mags, *(-m for m in mags), *lin})
    out = np.array([v for v in vals if abs(v) <= big], dtype=np.float64).astype(dtype)
    out = np.unique(out[np.isfinite(out)])
    return np.concatenate([out, np.array([np.inf, -np.inf, np.nan], dtype)]).astype(dtype)


def _mp(v: float) -> Any:
    if math.isinf(v):
        return mp.mpf("1e1000") if v > 0 else mp.mpf("-1e1000")
    return mp.mpf(float(v))


@functools.cache
def _truths(ref: Ref, x: float) -> tuple[Any, Any, Any]:
    if math.isnan(x) or (math.isinf(x) and ref.periodic):
        return (mp.nan, mp.nan, mp.nan)
    xm = _mp(x)
    out = ref.f(mpjet.Jet(xm, 1, 0), **ref.params)
    out = mpjet.lift(out)
    if any(xm == k for k in ref.kinks):
        return (out.v, None, None)
    return (out.v, out.d, out.dd)


def truth(ref: Ref, x: float, order: str) -> Any:
    """The mpmath value of f, f' or f'' at x (None at a kink)."""
    return _truths(ref, x)[ORDERS.index(order)]


# Every evaluation of a scalar activation runs on vectors of this length (padded), so
# that one compiled program per (function, parameters, dtype) serves the grid, the
# half-precision sweeps and their float64 references, the limits, the kinks and the
# generic tests' derivative references (tests of one row share a worker: ``lane``'s
# ``group`` and ``--dist loadgroup``).
KERNEL_SIZE = 1 << 16


# (fn, params, dtype name) -> (orders, compiled program); one program per key, replaced
# only by a request for orders it does not compute.
_KERNELS: dict[tuple[Any, ...], tuple[frozenset[str], Callable[..., Any]]] = {}


def _kernel(
    fn: Callable[..., Any], params: Mapping[str, Any], dtype: Any, orders: Sequence[str]
) -> Any:
    key = (fn, tuple(sorted(params.items())), np.dtype(dtype).name)
    have = _KERNELS.get(key)
    if have is not None and set(orders) <= have[0]:
        return have[1]
    kw = dict(params)

    def f(x: Any) -> Any:
        return fn(x, **kw)

    # The activation is elementwise, so the gradient of sum(f(x)) is f' at every x
    # (reverse mode, as training differentiates), and its forward derivative along
    # ones is f'' (forward over reverse, as jax.hessian differentiates).
    def d1(x: Any) -> Any:
        return jax.grad(lambda x: jnp.sum(f(x)))(x)

    funcs = {
        "f": f,
        "d1": d1,
        "d2": lambda x: jax.jvp(d1, (x,), (jnp.ones_like(x),))[1],
        "d1_fwd": lambda x: jax.jvp(f, (x,), (jnp.ones_like(x),))[1],
    }
    wanted = frozenset(orders) | (have[0] if have is not None else frozenset())
    program = jax.jit(lambda x: {o: funcs[o](x) for o in wanted})
    _KERNELS[key] = (wanted, program)
    return program


def evaluate(
    fn: Callable[..., Any],
    xs: np.ndarray,
    params: Mapping[str, Any] | None = None,
    orders: Sequence[str] = ORDERS,
) -> dict[str, np.ndarray]:
    """f, f' (reverse mode), f'' and, as ``"d1_fwd"``, f' in forward mode of a scalar
    activation over xs, in xs's dtype (float64 under ``jax.enable_x64``).

    One compiled program per (fn, params, dtype) for the whole test session (a
    later request for orders it lacks compiles one that has them all): xs is
    evaluated in chunks of ``KERNEL_SIZE`` (the last one padded with zeros).
    """
    xs = np.asarray(xs)
    kernel = _kernel(fn, params or {}, xs.dtype, orders)
    n = xs.size
    chunks = []
    with jax.enable_x64(xs.dtype == np.float64):
        for start in range(0, max(n, 1), KERNEL_SIZE):
            part = xs.ravel()[start : start + KERNEL_SIZE]
            pad = np.zeros(KERNEL_SIZE, xs.dtype)
            pad[: part.size] = part
            out = kernel(jnp.asarray(pad))
            chunks.append({o: np.asarray(out[o])[: part.size] for o in orders})
    return {
        o: np.concatenate([c[o] for c in chunks]).reshape(xs.shape) if n else np.zeros_like(xs)
        for o in orders
    }


def at(name: str, xs: Sequence[float], dtype: Any, **params: Any) -> list[tuple[float, ...]]:
    """f, f', f'' of the registry row ``name`` at xs (parameters: the row's defaults
    updated by ``params``), as tuples of floats, one per point: the row's compiled
    program for those parameters and dtype (:func:`evaluate`, shared with its grid)."""
    spec = registry.SPECS[name]
    got = evaluate(spec.fn, np.asarray(xs, dtype), {**spec.params, **params}, ALL_ORDERS)
    return [tuple(float(got[o][i]) for o in ORDERS) for i in range(len(xs))]


@dataclasses.dataclass
class Score:
    """What the grid found for one activation, dtype and order."""

    nonfinite: int = 0
    lost: int = 0
    sign: int = 0
    nan_missing: int = 0
    ulp: float = 0.0
    worst_x: float = 0.0
    points: int = 0

    @property
    def bad(self) -> int:
        return self.nonfinite + self.lost + self.sign + self.nan_missing


def _ulp(dtype: Any, mag: Any) -> float:
    info = np.finfo(dtype)
    m = np.asarray(min(float(abs(mag)), float(info.max)), dtype)
    if m == info.max:  # the spacing above max would be inf
        return float(m - np.nextafter(m, np.asarray(0, dtype)))
    return float(np.spacing(m))


def score(
    ref: Ref, xs: np.ndarray, got: np.ndarray, order: str, zero_at_nan: bool = False
) -> Score:
    """Compares one quantity (f, d1 or d2) over the grid with the truth.

    ``zero_at_nan``: the convention is 0 where the truth is NaN (the second
    derivative of the piecewise-linear activations, whose backward pass keeps a
    one-byte code that carries no derivative).
    """
    dtype = xs.dtype
    info = np.finfo(dtype)
    tiny, big = mp.mpf(float(info.tiny)), mp.mpf(float(info.max))
    s = Score()
    for x, g in zip(xs.tolist(), got.astype(np.float64).tolist(), strict=True):
        t = truth(ref, x, order)
        if t is None:
            continue
        s.points += 1
        if mp.isnan(t):
            s.nan_missing += (g != 0.0) if zero_at_nan else not math.isnan(g)
            continue
        if abs(t) >= big + mp.mpf(_ulp(dtype, big)) / 2:  # rounds to inf
            ok = math.isinf(g) and (g > 0) == (t > 0)
            s.nonfinite += not ok
            continue
        if not math.isfinite(g):
            s.nonfinite += 1
            continue
        if abs(t) >= tiny and g == 0:
            s.lost += 1
            continue
        if t != 0 and g != 0 and (g > 0) != (t > 0) and abs(t) >= tiny:
            s.sign += 1
            continue
        mag = abs(t)
        if ref.scale is not None:
            mag = max(mag, abs(ref.scale(_mp(x), order)))
        diff = abs(mp.mpf(g) - t)
        if mag < tiny:
            err = 0.0 if diff <= tiny else float(diff / _ulp(dtype, tiny))
        else:
            err = float(diff / _ulp(dtype, mag))
        if err > s.ulp:
            s.ulp, s.worst_x = err, x
    return s


def run_grid(fn: Callable[..., Any], ref: Ref, dtype: Any, name: str = "") -> dict[str, Score]:
    """Scores f, f', f'' of ``fn`` (called ``name``) on the grid of ``dtype`` (float32/64)."""
    xs = grid(dtype)
    got = evaluate(fn, xs, ref.params, ALL_ORDERS)
    coded = name in PIECEWISE_LINEAR
    out = {
        order: score(ref, xs, got[order], order, zero_at_nan=coded and order == "d2")
        for order in ORDERS
    }
    # Forward mode (jvp, what jacfwd and forward-over-reverse use) to the same bounds.
    out["d1_fwd"] = score(ref, xs, got["d1_fwd"], "d1")
    return out


def half_sweep(
    fn: Callable[..., Any], dtype: Any, params: Mapping[str, float]
) -> dict[str, tuple[int, float, float]]:
    """Every bit pattern of a 16-bit dtype, f and f', against the float64 result.

    Returns, per order, (bad count, max ulp, worst x): bad counts results that are
    non-finite where the float64 result rounds to a finite number, and NaN
    mismatches.
    """
    bits = np.arange(1 << 16, dtype=np.uint16)
    xs = bits.view(jnp.dtype(dtype))
    got = evaluate(fn, xs, params, ("f", "d1"))
    # The reference: the accurate tier in float64, whatever tier ``got`` was traced in.
    with np.errstate(all="ignore"), jaxact.precision("accurate"):
        ref = evaluate(fn, xs.astype(np.float64), params, ("f", "d1"))
    with np.errstate(all="ignore"):
        return _half_scores(xs, got, ref, dtype)


def _half_scores(xs: np.ndarray, got: dict, ref: dict, dtype: Any) -> dict:
    out = {}
    info = jnp.finfo(dtype)
    tiny, big = float(info.tiny), float(info.max)
    for order in ("f", "d1"):
        g = got[order].astype(np.float64)
        t = ref[order]
        bad = 0
        worst, worst_x = 0.0, 0.0
        tn, gn = np.isnan(t), np.isnan(g)
        bad += int(np.sum(tn != gn))
        fin = ~tn & ~gn
        t_over = np.abs(t) >= big + 2.0 ** (np.log2(big) // 1 - info.nmant) / 2  # rounds to inf
        inf_ok = np.isinf(g) & (np.sign(g) == np.sign(t))
        bad += int(np.sum(fin & t_over & ~inf_ok))
        rest = fin & ~t_over
        bad += int(np.sum(rest & ~np.isfinite(g)))
        rest &= np.isfinite(g)
        mag = np.maximum(np.abs(t[rest]), tiny)
        # ulp of |t| in the 16-bit dtype, computed from its exponent.
        exp = np.floor(np.log2(mag))
        ulp = np.exp2(np.maximum(exp, math.log2(tiny)) - (info.nmant))
        err = np.abs(g[rest] - t[rest]) / ulp
        err[np.abs(t[rest]) < tiny] = np.where(
            np.abs(g[rest] - t[rest])[np.abs(t[rest]) < tiny] <= tiny,
            0.0,
            err[np.abs(t[rest]) < tiny],
        )
        if err.size:
            i = int(np.argmax(err))
            worst, worst_x = float(err[i]), float(xs[rest][i])
        out[order] = (bad, worst, worst_x)
    return out


# (name, dtype name, order) -> (recorded value, reason): a measured max ulp or bad count
# that is allowed in place of the bound (the family modules' ULP_EXCEPTIONS and
# BAD_EXCEPTIONS).
Exceptions = Mapping[tuple[str, str, str], tuple[float, str]]


# The forward-mode first derivative is held to the reverse-mode one's bounds and exceptions.
_ORDER_OF = {"d1_fwd": "d1"}


def _allowed(exceptions: Exceptions | None, key: tuple[str, str, str], default: float) -> float:
    return (exceptions or {}).get(key, (default,))[0]


def check_grid(
    fn: Callable[..., Any],
    ref: Ref,
    dtype: Any,
    ulp_exceptions: Exceptions | None = None,
    bad_exceptions: Exceptions | None = None,
    name: str = "",
    bounds: Mapping[str, float] = BOUNDS,
) -> None:
    """Asserts the grid of ``dtype`` (float32 or float64) for f, f' and f''.

    Every order must have points, exactly the recorded number of bad points (0
    unless in ``bad_exceptions``) and a max ulp within ``bounds`` (the accurate
    tier's ``BOUNDS`` by default; or the recorded value in ``ulp_exceptions``).
    """
    dt = jnp.dtype(dtype)
    for order, s in run_grid(fn, ref, dt, name).items():
        key = (name, dt.name, _ORDER_OF.get(order, order))
        assert s.points > 0, (name, order)
        assert s.bad == _allowed(bad_exceptions, key, 0), (name, order, s)
        assert s.ulp <= _allowed(ulp_exceptions, key, bounds[key[2]]), (name, order, s)


def check_half(
    fn: Callable[..., Any],
    ref: Ref,
    dtype: Any,
    ulp_exceptions: Exceptions | None = None,
    bad_exceptions: Exceptions | None = None,
    name: str = "",
) -> None:
    """Asserts the sweep of every bit pattern of ``dtype`` (bfloat16 or float16).

    f and f' must have exactly the recorded number of bad points (0 unless in
    ``bad_exceptions``) and a max ulp within ``HALF_BOUND`` (or the recorded value
    in ``ulp_exceptions``).
    """
    dt = jnp.dtype(dtype)
    for order, (bad, ulp, worst_x) in half_sweep(fn, dt, ref.params).items():
        key = (name, dt.name, _ORDER_OF.get(order, order))
        assert bad == _allowed(bad_exceptions, key, 0), (name, order, bad, worst_x)
        assert ulp <= _allowed(ulp_exceptions, key, HALF_BOUND), (name, order, ulp, worst_x)


def nth_grad(fn: Callable[..., Any], n: int, **params: Any) -> Callable[..., Any]:
    """The n-th derivative in x of ``fn(x, **params)`` (n = 0: the function)."""
    g = lambda x: fn(x, **params)  # noqa: E731
    for _ in range(n):
        g = jax.grad(g)
    return g


def derivs(fn: Callable[..., Any], x: float, dtype: Any, **params: Any) -> tuple[float, ...]:
    """f, f' and f'' of ``fn(x, **params)`` at x in ``dtype``, as Python floats."""
    f = lambda v: fn(v, **params)  # noqa: E731
    v = jnp.asarray(x, dtype)
    return float(f(v)), float(jax.grad(f)(v)), float(jax.grad(jax.grad(f))(v))


def param_grad(fn: Callable[..., Any], name: str, x: float, p: float, **fixed: Any) -> float:
    """d/dp of ``fn(x, name=p, **fixed)`` in float64."""
    with jax.enable_x64(True):
        return float(jax.grad(lambda q: fn(jnp.float64(x), **{name: q}, **fixed))(jnp.float64(p)))


@dataclasses.dataclass(frozen=True)
class ParamCase:
    """Parameter derivatives of one activation against an mpmath jet (float64).

    ``d f(x; params) / d p`` for each ``p`` in ``wrt`` (default: every key of
    ``params``) at every ``x`` in ``xs`` must be within ``rel * |want| + abs``
    of the jet's derivative; ``ref(x, **params)`` is the activation's reference
    written with ``tests.mpjet`` (called with one parameter as a jet). With
    ``mixed``, the mixed partial ``d2 f / dx dp`` (through the first-derivative
    rule) is also checked, against a 50-digit central difference in ``p`` of the
    jet's ``f'``. ``fn`` defaults to the registry's function ``name``.
    """

    name: str
    ref: Callable[..., Any]
    params: Mapping[str, float]
    xs: Sequence[float]
    wrt: Sequence[str] = ()
    rel: float = 1e-13
    abs: float = 1e-300
    mixed: bool = False
    fn: Callable[..., Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.name}-{'-'.join(self.wrt or self.params)}"


def raises_named(exc: type[BaseException], fn_name: str, arg: str, call: Callable[[], Any]) -> None:
    """``call()`` raises ``exc`` with a message naming ``jaxact.<fn_name>`` and ``arg``."""
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    assert f"jaxact.{fn_name}" in msg and arg in msg, msg
