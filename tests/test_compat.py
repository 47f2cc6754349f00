"""Every torch, transformers and Keras name against that library's own function.

For each name of ``jaxact.registry.LIBRARY_NAMES`` (and the argument cases of
``tests.compat.ARGUMENT_CASES``), the library's function or module (default
construction) and jaxact's preset are evaluated at the same points, values and first
derivatives, in float32 and float64: a grid over ±30 with every kink and its float
neighbours, and large magnitudes (``tests.compat.grid``); rows of 8 for the
vector-valued ones.

A point passes when the two agree to 4 ulp (of the larger magnitude; below 4x the
smallest normal number, absolutely), or when jaxact is the closer of the two to the
exact value (50-digit mpmath: the row's reference of ``tests.test_<family>.MP_REFS``
with the name's arguments, or the vector references below): that is a place where
the library loses a tail, flushes a subnormal or cancels, and it is counted, not
failed. Where the exact derivative does not exist (a kink, a jump), the two must
agree: that checks each library's kink convention, except the differences listed in
``KINK_DIFFERENCES`` (documented in docs/numerics.md).

Needs the ``compat`` extra (torch CPU, Keras 3 on the jax backend, transformers);
without it the tests are skipped with the reason. timm is not in the extra (it needs
torchvision, whose wheels need another torch build); its names use torch's functions
(``timm:gelu`` is ``torch:gelu``), checked here under torch's names.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import mpmath as mp
import numpy as np
import pytest

import jaxact
from jaxact import registry
from tests import compat, mpjet

# The libraries' import-time and deprecation notes are theirs, not jaxact's.
pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::UserWarning"
)

DTYPES = (np.float32, np.float64)
ULPS = 4.0

# (case id, x) -> why the library's derivative differs there (documented in
# docs/numerics.md, "Library names"). Only kinks may be listed: elsewhere the exact
# value decides.
_TIE = (
    "Keras on jax: jnp.clip's tie split gives 0.5 of each side; jaxact: the flat piece "
    "owns its boundary"
)
KINK_DIFFERENCES: dict[tuple[str, float], str] = {
    ("keras:sparse_sigmoid", -1.0): _TIE,
    ("keras:sparse_sigmoid", 1.0): _TIE,
    ("keras:relu(max_value=4.0)", 4.0): _TIE,
    ("keras:relu(negative_slope=0.1,max_value=4.0,threshold=-0.5)", 4.0): _TIE,
    ("keras:relu(negative_slope=0.1,max_value=4.0,threshold=-0.5)", 0.0): _TIE,
    ("keras:ReLU(negative_slope=0.2,max_value=3.0)", 3.0): _TIE,
}


def _missing(lib: str) -> str | None:
    if importlib.util.find_spec(compat.MODULES[lib]) is None:
        return f"{compat.MODULES[lib]} is not installed (pip install -e '.[compat]')"
    return None


def _cases() -> list[Any]:
    out = []
    # The full suite compares every name of every library with the library; the fast
    # lane imports none of them (torch alone takes seconds to import).
    fast: set[tuple[str, str]] = set()
    for lib in compat.MODULES:
        for name in sorted(registry.LIBRARY_NAMES[lib]):
            c = compat.case(lib, name)
            marks = [] if (lib, name) in fast else [pytest.mark.slow]
            if (lib, name) in compat.RANDOM:
                marks.append(pytest.mark.skip(reason=compat.RANDOM[(lib, name)]))
            out.append(pytest.param(c, id=c.id, marks=marks))
    for c in compat.ARGUMENT_CASES:
        out.append(pytest.param(c, id=c.id, marks=[pytest.mark.slow]))
    return out


# --- exact references ---------------------------------------------------------


@functools.cache
def _mp_refs() -> dict[str, Any]:
    refs: dict[str, Any] = {}
    for family in registry.families():
        module = importlib.import_module(f"tests.test_{family}")
        refs.update(getattr(module, "MP_REFS", {}))
    return refs


def _bound(c: compat.Case) -> dict[str, Any]:
    """The numeric arguments jaxact's preset is called with (its names, defaults applied)."""
    fn = jaxact.get(f"{c.lib}:{c.name}")
    sig = inspect.signature(fn)
    bound = sig.bind(0.0, *c.args, **dict(c.kwargs))
    bound.apply_defaults()
    first = next(iter(sig.parameters))
    return {
        k: v
        for k, v in bound.arguments.items()
        if k != first and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _keras_relu_ref(
    x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Any:
    # Keras' relu with its arguments: the identity above the threshold, clipped to
    # [0, max_value], plus negative_slope * (x - threshold) at or below the threshold.
    pos = x if x > threshold else 0
    pos = pos if pos > 0 else 0
    if max_value is not None and pos > max_value:
        pos = max_value
    return pos + (negative_slope * (x - threshold) if x <= threshold else 0)


def _torch_softplus_ref(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    # torch's softplus is the identity where beta * x > threshold.
    return x if beta * x > threshold else mpjet.softplus(beta * x) / beta


def _sqrtsoftplus_ref(x: Any) -> Any:
    return mpjet.sqrt(_torch_softplus_ref(x))


# Library names whose function is not their row's with other arguments (other
# argument names, or torch's softplus threshold): their own exact reference.
LIBRARY_REFS: dict[tuple[str, str], Callable[..., Any]] = {
    ("keras", "relu"): _keras_relu_ref,
    ("keras", "ReLU"): _keras_relu_ref,
    ("torch", "softplus"): _torch_softplus_ref,
    ("torch", "Softplus"): _torch_softplus_ref,
    ("transformers", "sqrtsoftplus"): _sqrtsoftplus_ref,
}


def _reference(c: compat.Case) -> tuple[Callable[..., Any], dict[str, Any], Any] | None:
    """(mpmath f, its arguments, its scale function) for an elementwise case, or None."""
    row = registry.LIBRARY_NAMES[c.lib][c.name][0]
    kwargs = dict(c.kwargs)
    if (c.lib, c.name) in LIBRARY_REFS:
        return LIBRARY_REFS[(c.lib, c.name)], _bound(c), None
    if kwargs.get("approximate") in (True, "tanh"):  # Keras' and torch's gelu
        row, kwargs = "gelu_tanh", {}
    ref = _mp_refs().get(row)
    if ref is None:
        return None
    accepted = inspect.signature(ref.f).parameters
    params = {k: v for k, v in _bound(c).items() if k != "approximate"}
    # A library function takes its row's arguments in order, perhaps under other
    # names (Keras' hard_shrink ``threshold`` is ``lambd``).
    row_params = [
        p for p in list(inspect.signature(registry.SPECS[row].fn).parameters)[1:] if p in accepted
    ]
    named = dict(ref.params)
    if all(k in row_params for k in params):
        named.update(params)
    else:
        named.update(zip(row_params, params.values(), strict=False))
    return ref.f, {k: v for k, v in named.items() if k in accepted}, ref.scale


@functools.cache
def _jet(f: Callable[..., Any], items: tuple[tuple[str, Any], ...], x: Any) -> Any:
    return mpjet.lift(f(mpjet.Jet(mp.mpf(x), 1, 0), **dict(items)))


def _exact(ref: tuple[Callable[..., Any], dict[str, Any], Any], x: float) -> tuple[Any, Any, bool]:
    """(exact f, exact f', whether f' does not exist at x: its one-sided values differ
    or f jumps), at 50 digits."""
    f, params, _ = ref
    items = tuple(sorted(params.items()))
    with mp.workdps(50):
        mid = _jet(f, items, x)
        if math.isinf(x):
            return mid.v, mid.d, False
        h = mp.mpf(abs(x)) * mp.mpf("1e-30") if x != 0 else mp.mpf("1e-60")
        lo, hi = _jet(f, items, mp.mpf(x) - h), _jet(f, items, mp.mpf(x) + h)
        tol = mp.mpf("1e-20")
        jump = abs(lo.v - hi.v) > tol * (1 + abs(mid.v))
        corner = abs(lo.d - hi.d) > tol * (1 + abs(mid.d))
        return mid.v, mid.d, bool(jump or corner)


def _vector_truth(c: compat.Case, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact values and w-weighted derivatives of the vector-valued names, row by row
    (as float64 arrays of mpf-rounded numbers)."""
    name = c.name.lower()
    ax = compat.axis(c)
    xs, ws = np.moveaxis(x, ax, -1), np.moveaxis(w, ax, -1)
    flat_x = xs.reshape(-1, xs.shape[-1]).astype(np.float64)
    flat_w = ws.reshape(-1, ws.shape[-1]).astype(np.float64)
    ys, gs = [], []
    with mp.workdps(50):
        for row, wr in zip(flat_x, flat_w, strict=True):
            z = [mp.mpf(float(v)) for v in row]
            wv = [mp.mpf(float(v)) for v in wr]
            y, g = _vector_row(name, z, wv)
            ys.append([float(v) for v in y])
            gs.append([float(v) for v in g])
    y = np.array(ys).reshape((*xs.shape[:-1], -1))
    g = np.array(gs).reshape(xs.shape)
    return np.moveaxis(y, -1, ax), np.moveaxis(g, -1, ax)


def _softmax(z: list[Any]) -> list[Any]:
    m = max(z)
    e = [mp.exp(v - m) for v in z]
    s = mp.fsum(e)
    return [v / s for v in e]


def _vector_row(name: str, z: list[Any], w: list[Any]) -> tuple[list[Any], list[Any]]:
    if name in ("softmax", "softmax2d", "softmin"):
        sign = -1 if name == "softmin" else 1
        p = _softmax([sign * v for v in z])
        dot = mp.fsum(a * b for a, b in zip(w, p, strict=True))
        return p, [sign * pi * (wi - dot) for pi, wi in zip(p, w, strict=True)]
    if name == "logsoftmax" or name == "log_softmax":
        m = max(z)
        lse = m + mp.log(mp.fsum(mp.exp(v - m) for v in z))
        p = [mp.exp(v - lse) for v in z]
        total = mp.fsum(w)
        return [v - lse for v in z], [wi - pi * total for pi, wi in zip(p, w, strict=True)]
    if name == "glu":
        h = len(z) // 2
        a, b = z[:h], z[h:]
        s = [1 / (1 + mp.exp(-v)) for v in b]
        y = [ai * si for ai, si in zip(a, s, strict=True)]
        ga = [wi * si for wi, si in zip(w, s, strict=True)]
        gb = [wi * ai * si * (1 - si) for wi, ai, si in zip(w, a, s, strict=True)]
        return y, ga + gb
    if name == "sparsemax":
        srt = sorted(z, reverse=True)
        k, cum = 0, mp.mpf(0)
        for i, v in enumerate(srt, 1):
            if 1 + i * v > cum + v:
                k, cum = i, cum + v
            else:
                break
        tau = (cum - 1) / k
        p = [max(v - tau, mp.mpf(0)) for v in z]
        support = [v > tau for v in z]
        mean = mp.fsum(wi for wi, s in zip(w, support, strict=True) if s) / k
        return p, [(wi - mean) if s else mp.mpf(0) for wi, s in zip(w, support, strict=True)]
    raise AssertionError(f"no vector reference for {name}")


# --- the comparison -----------------------------------------------------------


def _agree(a: np.ndarray, b: np.ndarray, dtype: Any) -> np.ndarray:
    info = np.finfo(dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
    scale = np.maximum(np.abs(a64), np.abs(b64))
    with np.errstate(invalid="ignore"):
        tol = np.maximum(ULPS * float(info.eps) * scale, 4 * float(info.tiny))
        close = np.abs(a64 - b64) <= tol
    return same | close


# Where the two differ by more than 4 ulp and the library is closer to the exact
# value, jaxact must still be within this many ulp of it (of its magnitude, or of its
# O(1) terms where it cancels: the Ref's scale). A sanity bound for "the same
# function": different math is off by far more; the tight bounds per row and tier are
# tests/test_accuracy.py's.
SANITY_ULPS = 256


def _judge(ours: float, lib: float, true: Any, scale: Any, dtype: Any) -> str:
    """ "lost" (the library is farther from exact), "ulp" (both near it) or "fail"."""
    if mp.isnan(true):
        return "lost" if math.isnan(ours) else "fail"
    if math.isnan(ours):
        return "fail"
    err = abs(mp.mpf(ours) - true)
    if math.isnan(lib) or err <= abs(mp.mpf(lib) - true):
        return "lost"
    mag = max(abs(true), scale)
    bound = SANITY_ULPS * float(np.finfo(dtype).eps) * max(mag, float(np.finfo(dtype).tiny))
    return "ulp" if err <= bound else "fail"


def compare(c: compat.Case, dtype: Any) -> tuple[list[str], dict[str, int]]:
    """The failures (messages) and the counts per verdict, for one case in one dtype:
    "lost": points where the library is farther from exact than jaxact, "ulp": points
    more than 4 ulp apart where both are near exact, "kink": documented kink
    differences, "lib_dtype": 1 when the library returned another dtype."""
    x, w = compat.inputs(c, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the libraries' deprecation and fallback notes
        lib_y, lib_g = compat.reference(c, x, w)
    our_y, our_g = compat.jaxact_eval(c, x, w)
    failures: list[str] = []
    counts = {"lost": 0, "ulp": 0, "kink": 0, "lib_dtype": int(lib_y.dtype != our_y.dtype)}
    assert our_y.shape == lib_y.shape and our_y.dtype == x.dtype, (c.id, our_y.shape, lib_y.shape)
    # Keras computes some float64 inputs in float32: judged below against exact values.
    lib_y, lib_g = lib_y.astype(x.dtype), lib_g.astype(x.dtype)
    name = f"{c.id} {np.dtype(dtype).name}"
    if c.kind == "elementwise":
        ref = _reference(c)
        for order, ours, lib in (("f", our_y, lib_y), ("d1", our_g, lib_g)):
            for i in np.flatnonzero(~_agree(ours, lib, dtype)):
                xi, o, li = float(x[i]), float(ours[i]), float(lib[i])
                if ref is None:
                    failures.append(f"{name} {order}({xi!r}): {o!r} vs {li!r}, no reference")
                    continue
                fv, dv, kink = _exact(ref, xi)
                if kink and order == "d1":
                    if (c.id, xi) in KINK_DIFFERENCES:
                        counts["kink"] += 1
                    else:
                        failures.append(f"{name} f'({xi!r}) at a kink: {o!r} vs {li!r}")
                    continue
                scale = ref[2](mp.mpf(xi), order) if ref[2] is not None and math.isfinite(xi) else 0
                verdict = _judge(o, li, fv if order == "f" else dv, scale, dtype)
                if verdict == "fail":
                    true = fv if order == "f" else dv
                    exact = mp.nstr(true, 17)
                    failures.append(f"{name} {order}({xi!r}): {o!r} vs {li!r}, exact {exact}")
                else:
                    counts[verdict] += 1
        return failures, counts
    true_y, true_g = _vector_truth(c, x, w)
    for order, ours, lib, true in (("f", our_y, lib_y, true_y), ("d1", our_g, lib_g, true_g)):
        # The O(1) terms of a row: its largest exact value (softmax's VJP cancels).
        scales = np.max(np.abs(true), axis=compat.axis(c), keepdims=True) * np.ones_like(true)
        for idx in zip(*np.nonzero(~_agree(ours, lib, dtype)), strict=True):
            o, li, t = float(ours[idx]), float(lib[idx]), float(true[idx])
            # The vector references are rounded to float64: ties within 1 float64 ulp.
            if abs(o - t) <= max(abs(li - t), 2 * float(np.spacing(abs(t)))):
                counts["lost"] += 1
            elif _judge(o, li, mp.mpf(t), float(scales[idx]), dtype) == "ulp":
                counts["ulp"] += 1
            else:
                failures.append(f"{name} {order}{idx}: {o!r} vs {li!r}, exact {t!r}")
    return failures, counts


@pytest.mark.parametrize("c", _cases())
def test_library_name_matches_the_library(c: compat.Case) -> None:
    reason = _missing(c.lib)
    if reason is not None:
        pytest.skip(reason)
    failures = []
    for dtype in DTYPES:
        found, _ = compare(c, dtype)
        failures += found
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize(
    "name,stand_in",
    [
        ("torch:leaky_relu", jaxact.leaky_relu),  # jax.nn's f'(0) = 1, not torch's slope
        ("torch:Hardtanh", jaxact.hard_tanh),  # f'(+-1) = 1, not torch's 0
        ("transformers:xielu", jaxact.xielu),  # 0.8, not the module's bfloat16 0.80078125
        ("transformers:sqrtsoftplus", jaxact.sqrt_softplus),  # no identity above 20
        ("torch:gelu", jaxact.gelu_tanh),  # another function
    ],
)
@pytest.mark.slow  # imports the libraries
def test_comparison_fails_on_another_convention(
    name: str, stand_in: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check must be able to fail: with the row's function standing in for the
    # library's (what these names resolved to before), it reports differences.
    lib, bare = name.split(":")
    reason = _missing(lib)
    if reason is not None:
        pytest.skip(reason)
    real_get = jaxact.get
    monkeypatch.setattr(jaxact, "get", lambda n, *a: stand_in if n == name else real_get(n, *a))
    failures: list[str] = []
    for dtype in DTYPES:
        failures += compare(compat.case(lib, bare), dtype)[0]
    assert failures, name


def test_kink_differences_are_kinks_of_listed_cases() -> None:
    # A stale entry would document a difference that does not exist: each names a case
    # and a point where the exact derivative does not exist.
    cases = {p.values[0].id: p.values[0] for p in _cases()}
    for (case_id, x), why in KINK_DIFFERENCES.items():
        assert case_id in cases and why, case_id
        ref = _reference(cases[case_id])
        assert ref is not None and _exact(ref, x)[2], (case_id, x)


def summary() -> str:
    """Per library: names checked and passing, and the points where the library is
    the farther from exact (``python -m tests.test_compat``)."""
    rows = []
    for lib in compat.MODULES:
        cases = [p.values[0] for p in _cases() if p.values[0].lib == lib]
        checked = passing = 0
        totals = {"lost": 0, "ulp": 0, "kink": 0, "lib_dtype": 0}
        notes = []
        for c in cases:
            if (c.lib, c.name) in compat.RANDOM:
                notes.append(f"{c.id}: not compared ({compat.RANDOM[(c.lib, c.name)]})")
                continue
            checked += 1
            failed = []
            for dtype in DTYPES:
                found, counts = compare(c, dtype)
                failed += found
                for k, v in counts.items():
                    totals[k] += v
                if counts["lost"]:
                    where = f"{c.id} {np.dtype(dtype).name}"
                    notes.append(f"{where}: library farther at {counts['lost']} points")
            passing += not failed
        rows.append(
            f"{lib}: {checked} cases checked, {passing} passing; points where the library "
            f"is farther from exact: {totals['lost']}, both near exact but > 4 ulp apart: "
            f"{totals['ulp']}, documented kink differences: {totals['kink']}, library "
            f"returned another dtype: {totals['lib_dtype']}"
        )
        rows += [f"  {n}" for n in notes]
    return "\n".join(rows)


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        print(summary())
