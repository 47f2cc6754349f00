"""Accuracy tests for jaxact._src.elementary against mpmath references (50 digits)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
from jaxact._src import elementary as M
from tests.accuracy import lane


@pytest.fixture(autouse=True)
def _accurate_tier():
    # These are the accurate tier's kernels; in the fast tier the same names are XLA's
    # own functions (checked through every activation in tests/test_accuracy.py, and
    # the fast gate below).
    with jaxact.precision("accurate"):
        yield


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fast_gate_keeps_the_tails_normal(dtype):
    # sigma(z) = h (h r) for z < 0, r for z >= 0; sigma'(z) = h (h r^2): against mpmath,
    # where e^z itself is subnormal (z = -90 in float32) but x sigma(z) is not.
    zs = {
        "float32": [-170.0, -90.0, -30.0, -1.0, 0.0, 2.0, 40.0],
        "float64": [-1400.0, -720.0, -30.0, -1.0, 0.0, 2.0, 40.0],
    }[dtype]
    with jax.enable_x64(dtype == "float64"), jaxact.precision("fast"):
        z = jnp.asarray(zs, dtype)
        h, r = M.gate(z)
        x = 50.0  # a factor multiplied in first, as the activations do
        neg = np.asarray(zs) < 0
        sig = np.where(neg, np.asarray((x * h) * (h * r)), x * np.asarray(r))
        dsig = np.asarray((x * h) * (h * r * r))
    for zi, s, d in zip(np.asarray(z).tolist(), sig.tolist(), dsig.tolist(), strict=True):
        want_s = 50 * mp.mpf(1) / (1 + mp.exp(-mp.mpf(zi)))
        want_d = 50 * mp.exp(-abs(mp.mpf(zi))) / (1 + mp.exp(-abs(mp.mpf(zi)))) ** 2
        tiny = float(np.finfo(dtype).tiny)
        for got, want in ((s, want_s), (d, want_d)):
            if want < tiny:
                assert abs(got) <= tiny, (zi, got, want)
            else:
                assert got != 0 and abs(got - want) <= 8 * np.finfo(dtype).eps * want, (zi, got)


mp.mp.dps = 50

# Max error in ulp, rounded up from what was measured (on this grid and on a
# larger random one) for the implementation in elementary.py.  None above 1.0.
ULP_BOUND = {
    ("exp", "float32"): 0.6,
    ("exp", "float64"): 0.6,
    ("expm1", "float32"): 0.85,
    ("expm1", "float64"): 0.8,
    ("log1p", "float32"): 0.8,
    ("log1p", "float64"): 0.8,
    ("tanh", "float32"): 0.8,
    ("tanh", "float64"): 0.8,
    ("logistic", "float32"): 0.8,
    ("logistic", "float64"): 0.8,
    ("logistic_prime", "float32"): 0.6,
    ("logistic_prime", "float64"): 0.6,
    ("softplus", "float32"): 1.0,
    ("softplus", "float64"): 0.95,
    ("log_logistic", "float32"): 1.0,
    ("log_logistic", "float64"): 0.95,
    ("erf", "float32"): 0.9,
    ("erf", "float64"): 0.9,
    ("erfc", "float32"): 0.75,
    ("erfc", "float64"): 0.85,
}


def _erfc_ref(x):
    return mp.erfc(x) if x < 40 else mp.mpf(0)


def _softplus_ref(x):
    return mp.log1p(mp.exp(x)) if x < 1e6 else x


REF = {
    "exp": mp.exp,
    "expm1": mp.expm1,
    "log1p": lambda x: mp.log1p(x) if x > -1 else (mp.ninf if x == -1 else None),
    "tanh": mp.tanh,
    "logistic": lambda x: 1 / (1 + mp.exp(-x)),
    "logistic_prime": lambda x: 1 / (mp.exp(x / 2) + mp.exp(-x / 2)) ** 2,
    "softplus": _softplus_ref,
    "log_logistic": lambda x: -_softplus_ref(-x),
    "erf": mp.erf,
    "erfc": _erfc_ref,
}

# Thresholds (overflow / underflow / saturation) probed per dtype.
_EDGES = {
    "float32": [
        88.72,
        88.7228,
        -87.33,
        -103.97,
        -104.0,
        9.01,
        10.05,
        16.0,
        20.0,
        3.92,
        0.55,
        0.5,
        1.0,
        1.5,
        3.0,
        0.3466,
        17.3,
    ],
    "float64": [
        709.78,
        709.7827,
        -708.39,
        -745.13,
        -745.2,
        19.06,
        26.55,
        27.3,
        37.0,
        5.93,
        0.55,
        0.5,
        1.0,
        1.5,
        3.0,
        6.0,
        0.3466,
        36.7,
    ],
}


def _with_x64(dtype):
    return jax.enable_x64(dtype == "float64")


@functools.cache
def grid(dtype):
    dt = np.dtype(dtype)
    fi = np.finfo(dt)
    pts = [0.0, float(fi.smallest_subnormal), float(fi.tiny), float(fi.max)]
    pts += list(np.logspace(-30, 4, 2000))
    rng = np.random.default_rng(1)
    pts += list(rng.uniform(0, 6, 300))
    for e in _EDGES[dtype]:
        pts += list(abs(e) * (1 + np.linspace(-1e-3, 1e-3, 9)))
    a = np.array(pts, dtype=np.float64).astype(dt)
    a = a[np.isfinite(a)]
    return np.unique(np.concatenate([a, -a]))


@functools.cache
def truth(name, dtype):
    return [REF[name](mp.mpf(float(x))) for x in grid(dtype)]


def ulp_errors(got, ref, dtype):
    dt = np.dtype(dtype).type
    fi = np.finfo(dt)
    out = np.zeros(len(got))
    big = mp.mpf(float(fi.max)) * (1 + mp.mpf(2) ** (-fi.nmant - 1))
    for i, (g, t) in enumerate(zip(got, ref, strict=True)):
        if t is None:
            out[i] = 0.0 if np.isnan(g) else np.inf
        elif abs(t) >= big:
            out[i] = 0.0 if (np.isinf(g) and np.sign(g) == mp.sign(t)) else np.inf
        elif not np.isfinite(g):
            out[i] = np.inf
        elif abs(t) < fi.tiny and (g == 0 or abs(mp.mpf(float(g)) - t) <= fi.smallest_subnormal):
            out[i] = 0.0  # flush-to-zero of subnormal results is accepted
        else:
            tf = abs(dt(float(t)))
            if tf == fi.max:
                sp = np.spacing(np.nextafter(fi.max, dt(0)))
            else:
                sp = np.spacing(tf) if tf >= fi.tiny else fi.smallest_subnormal
            out[i] = float(abs(mp.mpf(float(g)) - t) / mp.mpf(float(sp)))
    return out


@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(n, d, fast=d == "float32", id=f"{n}-{d}")
        for n in sorted(REF)
        for d in ("float32", "float64")
    ],
)
def test_max_ulp(name, dtype):
    xs = grid(dtype)
    got = jitted(name, dtype)[: len(xs)]
    assert got.dtype == np.dtype(dtype)
    err = ulp_errors(got, truth(name, dtype), dtype)
    i = int(np.argmax(err))
    assert err[i] <= ULP_BOUND[(name, dtype)], (
        f"{name} {dtype}: {err[i]:.3f} ulp at x={xs[i]!r}, got {got[i]!r}"
    )


SPECIAL = [
    ("exp", -np.inf, 0.0),
    ("exp", np.inf, np.inf),
    ("exp", 0.0, 1.0),
    ("expm1", -np.inf, -1.0),
    ("expm1", np.inf, np.inf),
    ("expm1", -0.0, -0.0),
    ("expm1", 0.0, 0.0),
    ("tanh", np.inf, 1.0),
    ("tanh", -np.inf, -1.0),
    ("tanh", -0.0, -0.0),
    ("tanh", 0.0, 0.0),
    ("logistic", -np.inf, 0.0),
    ("logistic", np.inf, 1.0),
    ("logistic", 0.0, 0.5),
    ("logistic_prime", -np.inf, 0.0),
    ("logistic_prime", np.inf, 0.0),
    ("logistic_prime", 0.0, 0.25),
    ("erf", np.inf, 1.0),
    ("erf", -np.inf, -1.0),
    ("erf", -0.0, -0.0),
    ("erf", 0.0, 0.0),
    ("erfc", -np.inf, 2.0),
    ("erfc", np.inf, 0.0),
    ("erfc", 0.0, 1.0),
    ("log1p", -1.0, -np.inf),
    ("log1p", -2.0, np.nan),
    ("log1p", -np.inf, np.nan),
    ("log1p", np.inf, np.inf),
    ("log1p", -0.0, -0.0),
    ("softplus", -np.inf, 0.0),
    ("softplus", np.inf, np.inf),
    ("log_logistic", np.inf, -0.0),
    ("log_logistic", -np.inf, -np.inf),
]


# Points of the tail checks: erfc(9), logistic(-80) and tanh(-8) (not rounded to -1).
TAILS = {"erfc": 9.0, "logistic": -80.0, "tanh": -8.0}


@functools.cache
def probe(dtype):
    """The grid, NaN, every special value and the tail points in one array.

    Every test of a function in a dtype evaluates it on this one array (one shape),
    so the accuracy, special-value, NaN, eager/jit and small-size fusion checks
    share a single compilation per function and dtype.
    """
    extra = [np.nan] + [x for _, x, _ in SPECIAL] + list(TAILS.values())
    return np.concatenate([grid(dtype), np.asarray(extra, dtype)])


@functools.cache
def jitted(name, dtype):
    """``jax.jit(f)`` of the elementary function ``name`` on ``probe(dtype)``."""
    with _with_x64(dtype):
        return np.asarray(jax.jit(getattr(M, name))(jnp.asarray(probe(dtype))))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values(dtype):
    n = len(grid(dtype))
    for k, (name, x, want) in enumerate(SPECIAL):
        got = jitted(name, dtype)[n + 1 + k]
        assert probe(dtype)[n + 1 + k] == x or np.isnan(x)
        if np.isnan(want):
            assert np.isnan(got), (name, x, got)
        else:
            assert got == want and np.signbit(got) == np.signbit(want), (name, x, got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tails(dtype):
    eps = np.finfo(dtype).eps
    at = {name: float(jitted(name, dtype)[-len(TAILS) + i]) for i, name in enumerate(TAILS)}
    assert abs(at["erfc"] / float(mp.erfc(9)) - 1) < 2 * eps
    assert abs(at["logistic"] / float(1 / (1 + mp.exp(80))) - 1) < 2 * eps
    assert at["tanh"] != -1.0


@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(n, d, fast=d == "float32", id=f"{n}-{d}")
        for n in sorted(REF)
        for d in ("float32", "float64")
    ],
)
def test_nan_and_jit(name, dtype):
    xs = probe(dtype)
    b = jitted(name, dtype)
    n = len(grid(dtype))
    assert np.isnan(b[n])
    # Eager: every 7th grid point and NaN.
    sub = np.append(np.arange(0, n, 7), n)
    with _with_x64(dtype):
        f = getattr(M, name)
        a = f(jnp.asarray(xs[sub]))
        v = jax.jit(jax.vmap(f))(jnp.asarray(xs))
    # Op-by-op (eager) and fused (jit) code may differ in the last bit where
    # the compiler contracts a*b + c into a fused multiply-add; both are
    # within the accuracy bound, so allow one ulp between them.
    np.testing.assert_array_max_ulp(np.asarray(a), b[sub], maxulp=1)
    np.testing.assert_array_max_ulp(np.asarray(v), b, maxulp=1)


def _loop_fusions(f, shape, dtype):
    with _with_x64(dtype):
        hlo = jax.jit(f).lower(jax.ShapeDtypeStruct(shape, dtype)).compile().as_text()
    entry = hlo[hlo.index("\nENTRY") :]
    return hlo.count("kind=kLoop"), entry.count(" fusion(")


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="fusion structure of XLA:CPU")
@pytest.mark.parametrize(
    "name,dtype,size",
    [
        lane(n, d, s, fast=d == "float32" and s == "probe", id=f"{n}-{d}-{s}")
        for n in sorted(REF)
        for d in ("float32", "float64")
        for s in ("probe", 1 << 22)
    ],
)
def test_one_loop_fusion(name, dtype, size):
    # Every function must compile to a single elementwise loop: a split
    # materialises full-size intermediates (XLA:CPU will not duplicate a
    # producer with several users into several fusions when its cost model
    # says recomputing it is dearer; see the implementation notes in elementary).
    # The small size is the probe's (a few thousand points), whose executable the
    # value tests compile anyway.
    shape = probe(dtype).shape if size == "probe" else (size,)
    assert _loop_fusions(getattr(M, name), shape, dtype) == (1, 1)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="fusion structure of XLA:CPU")
@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(n, d, fast=d == "float32", id=f"{n}-{d}")
        for n in sorted(REF)
        for d in ("float32", "float64")
    ],
)
def test_one_loop_fusion_in_expression(name, dtype):
    f = getattr(M, name)
    assert _loop_fusions(lambda x: x * f(x) + 1.0, (1 << 22,), dtype) == (1, 1)
