"""Tests for the normalizing family against 50-digit mpmath references.

Values, Jacobians (forward and reverse mode) and alpha-derivatives are compared
with references computed in mpmath; the Jacobian references are central
differences at 60 digits with step 1e-20 (error ~1e-30), so they do not share
any formula with the rules under test.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact import registry
from jaxact._src import normalizing as nz
from tests.accuracy import lane

INF = math.inf
DPS = 100
STEP = mp.mpf("1e-30")


# ---------------------------------------------------------------------------
# mpmath references (lists of mpf in, lists of mpf out).
# ---------------------------------------------------------------------------


def mp_softmax(xs: list, mask: list | None = None) -> list:
    mask = mask or [True] * len(xs)
    live = [x for x, w in zip(xs, mask, strict=True) if w and x != -mp.inf]
    if not live:
        return [mp.mpf(0)] * len(xs)
    m = max(live)
    e = [mp.exp(x - m) if w and x != -mp.inf else mp.mpf(0) for x, w in zip(xs, mask, strict=True)]
    s = mp.fsum(e)
    return [v / s for v in e]


def mp_log_softmax(xs: list, mask: list | None = None) -> list:
    mask = mask or [True] * len(xs)
    live = [x for x, w in zip(xs, mask, strict=True) if w and x != -mp.inf]
    m = max(live)
    lse = m + mp.log(mp.fsum(mp.exp(x - m) for x in live))
    return [x - lse if w else -mp.inf for x, w in zip(xs, mask, strict=True)]


def mp_softmax1(xs: list) -> list:
    return mp_softmax([mp.mpf(0)] + list(xs))[1:]


def mp_sparsemax(xs: list) -> list:
    zs = sorted(xs, reverse=True)
    cs, k_best, c_best = mp.mpf(0), 1, zs[0]
    for k, z in enumerate(zs, 1):
        cs += z
        if 1 + k * z > cs:
            k_best, c_best = k, cs
    tau = (c_best - 1) / k_best
    return [max(x - tau, mp.mpf(0)) for x in xs]


def mp_entmax(xs: list, alpha: Any) -> list:
    """alpha-entmax: bisection to 1e-13, then Newton on the found support."""
    eps = alpha - 1
    m = max(xs)
    z = [eps * (x - m) for x in xs]

    def total(tau: Any) -> Any:
        return mp.fsum(mp.power(v - tau, 1 / eps) for v in z if v > tau) - 1

    lo, hi = mp.mpf(-1), mp.mpf(0)
    for _ in range(45):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) >= 0 else (lo, mid)
    support = [v for v in z if v > lo]

    def f(tau: Any) -> Any:
        return mp.fsum(mp.power(max(v - tau, 0), 1 / eps) for v in support) - 1

    tau = mp.findroot(f, lo)
    return [mp.power(v - tau, 1 / eps) if v > tau else mp.mpf(0) for v in z]


REFS = {
    "softmax": mp_softmax,
    "log_softmax": mp_log_softmax,
    "softmin": lambda xs: mp_softmax([-x for x in xs]),
    "softmax1": mp_softmax1,
    "sparsemax": mp_sparsemax,
    "entmax15": lambda xs: mp_entmax(xs, mp.mpf("1.5")),
    "entmax_bisect": lambda xs: mp_entmax(xs, mp.mpf("1.5")),
}
FNS = {
    "softmax": nz.softmax,
    "log_softmax": nz.log_softmax,
    "softmin": nz.softmin,
    "softmax1": nz.softmax1,
    "sparsemax": nz.sparsemax,
    "entmax15": nz.entmax15,
    "entmax_bisect": nz.entmax_bisect,
}
# Sparse maps compute y_i = z_i - tau: absolute errors of order eps.
SPARSE = ("sparsemax", "entmax15", "entmax_bisect")

VECTORS = {
    "plain": [1.0, 2.1, 3.0, -1.5, 0.25, -0.7],
    "margin": [37.43, 0.0, -3.0, -5.0, -40.0, -2.5],
    "spread": [-30.0, 10.0, 0.0, 5.0, 9.5, -12.0],
    "ties": [2.0, 2.0, -1.0, 0.5, 2.0, -0.25],
    "neginf": [1.0, -INF, 0.3, -INF, 0.9, -2.0],
    "small": [0.1, -0.2, 0.05, 0.0, 0.15, -0.1],
}


def _mp(xs: list) -> list:
    return [mp.mpf(x) for x in xs]


def mp_jacobian(f: Any, xs: list) -> list:
    """J[i][j] = d f_i / d x_j by 60-digit central differences (skipping -inf inputs)."""
    n = len(xs)
    cols = []
    for j in range(n):
        if xs[j] == -mp.inf:
            cols.append([mp.mpf(0)] * n)
            continue
        up = list(xs)
        dn = list(xs)
        up[j] += STEP
        dn[j] -= STEP
        fu, fd = f(up), f(dn)
        cols.append(
            [(a - b) / (2 * STEP) if a != -mp.inf else 0 for a, b in zip(fu, fd, strict=True)]
        )
    return [[cols[j][i] for j in range(n)] for i in range(n)]


REF_OF = {"entmax_bisect": "entmax15"}


@functools.cache
def _reference(name: str, vec: str) -> tuple[np.ndarray, np.ndarray]:
    with mp.workdps(DPS):
        xs = _mp(VECTORS[vec])
        ref = np.asarray(REFS[name](xs), np.float64)
        jac = np.asarray(mp_jacobian(REFS[name], xs), np.float64)
    return ref, jac


def _check(got: Any, ref: Any, dtype: Any, rel: Any, absolute: float, what: str) -> None:
    """|got - ref| <= eps (rel |ref| + absolute); infinities must match exactly."""
    eps = float(jnp.finfo(dtype).eps)
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    inf = np.isinf(ref)
    assert np.array_equal(got[inf], ref[inf]), (what, got, ref)
    err = np.abs(got[~inf] - ref[~inf])
    rel = np.broadcast_to(rel, ref.shape)[~inf]
    # Results below the smallest normal may be flushed to zero (XLA:CPU).
    tol = np.maximum(eps * (rel * np.abs(ref[~inf]) + absolute), float(jnp.finfo(dtype).tiny))
    assert np.all(err <= tol), (what, got, ref, np.max(err / np.maximum(tol, 1e-300)))


DTYPES = [jnp.float32, jnp.float64]


def _x64(dtype: Any) -> Any:
    return jax.enable_x64(jnp.dtype(dtype) == jnp.float64)


# The fast lane: softmax and sparsemax in the first dtype; every pair in the full suite.
@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(
            n,
            d,
            fast=n in ("softmax", "sparsemax") and d == DTYPES[0],
            id=f"{jnp.dtype(d).name}-{n}",
        )
        for d in DTYPES
        for n in REFS
    ],
)
def test_values_and_jacobians_vs_mpmath(name: str, dtype: Any) -> None:
    fn = FNS[name]
    sparse = name in SPARSE

    @jax.jit
    def all_of(x: jax.Array) -> tuple[jax.Array, ...]:
        return fn(x), jax.vmap(jax.jacfwd(fn))(x), jax.vmap(jax.jacrev(fn))(x)

    vecs = [v for v in VECTORS if not (name == "softmin" and v == "neginf")]
    with _x64(dtype):
        x = jnp.asarray([VECTORS[v] for v in vecs], dtype)
        y, fwd, rev = all_of(x)
        assert y.dtype == dtype
        for row, vec in enumerate(vecs):
            ref, jac = _reference(REF_OF.get(name, name), vec)
            keep = np.isfinite(np.asarray(VECTORS[vec]))
            jac = jac[keep][:, keep]
            scale = np.max(np.abs(jac))
            # Conditioning: rounding x_i - max costs |x_i - max| ulp in e^{x_i - max}.
            xv = np.asarray(VECTORS[vec])
            fin = np.isfinite(xv)
            c = 1 + np.abs(xv - np.max(xv))
            if name in ("softmin", "softmax1"):
                c = 1 + np.abs(xv) + np.max(np.abs(xv[fin]))
            c = np.where(fin, c, 1)
            # Values: 8 ulp relative; sparse maps (y = z - tau) also 2 ulp of the unit scale.
            _check(y[row], ref, dtype, rel=8 * c, absolute=2 if sparse else 0, what=vec)
            # Jacobians in both modes: 16 ulp relative (rows/columns of finite inputs).
            for what, got in (("jacfwd", fwd[row]), ("jacrev", rev[row])):
                got = np.asarray(got, np.float64)
                assert np.all(np.isfinite(got)), (vec, what, got)
                got = got[keep][:, keep]
                ck = c[keep]
                _check(
                    got,
                    jac,
                    dtype,
                    16 * (ck[:, None] + ck[None, :]),
                    2 * scale if sparse else 0,
                    f"{vec} {what}",
                )


def _grad_row(fn: Any, i: int) -> Any:
    return jax.grad(lambda v: fn(v)[i])


@jax.jit
def _top_logit(v: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    return nz.log_softmax(v), _grad_row(nz.log_softmax, 0)(v), _grad_row(nz.softmax, 0)(v)


@pytest.mark.parametrize(
    "dtype,x", [(jnp.float64, 37.43), (jnp.float32, 16.5), (jnp.float32, 20.0)]
)
@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_log_softmax_saturated_top_logit(dtype: Any, x: float) -> None:
    with _x64(dtype), mp.workdps(50):
        v = jnp.asarray([x, 0.0], dtype)
        s = float(1 / (1 + mp.exp(mp.mpf(x))))  # sigma(-x)
        y, g, gs = _top_logit(v)
        _check(y[0], -s, dtype, 2, 0, "top value")
        assert y[0] < 0
        _check(g, [s, -s], dtype, 4, 0, "top gradient")
        assert abs(float(g[0] + g[1])) <= 4 * float(jnp.finfo(dtype).eps) * s
        # softmax's: sigma(x) sigma(-x)
        _check(gs, [s * (1 - s), -s * (1 - s)], dtype, 4, 0, "softmax gradient")


def test_infinite_rows() -> None:
    x = jnp.asarray([[INF, 0.0, 1.0], [-INF, -INF, -INF], [INF, INF, 0.0]])

    @jax.jit
    def run(x: jax.Array) -> Any:
        grads = [
            jax.grad(lambda v, fn=fn: jnp.sum(fn(v)[:, 0] * 2 + fn(v)[:, 1]))(x)
            for fn in (nz.softmax, nz.log_softmax, nz.entmax15)
        ]
        return nz.softmax(x), nz.log_softmax(x), grads, nz.softmax1(x[1]), nz.sparsemax(x[0])

    sm, ls, grads, sm1, sp = run(x)
    np.testing.assert_allclose(sm, [[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0]], rtol=1e-7)
    np.testing.assert_array_equal(ls[0], [0, -INF, -INF])
    np.testing.assert_allclose(ls[1], [-math.log(3)] * 3, rtol=1e-6)
    for name, g in zip(("softmax", "log_softmax", "entmax15"), grads, strict=True):
        assert np.all(np.isfinite(g)), (name, g)
    np.testing.assert_array_equal(sm1, [0, 0, 0])
    np.testing.assert_array_equal(sp, [1, 0, 0])


def test_masks() -> None:
    with jax.enable_x64(True):
        x = jnp.asarray([[0.5, -1.0, 100.0, jnp.nan], [1.0, 2.0, 3.0, 4.0]], jnp.float64)
        m = jnp.asarray([[True, True, False, False], [False, False, False, False]])
        w = jnp.asarray([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])

        @jax.jit
        def run(x: jax.Array, m: jax.Array) -> Any:
            return (
                nz.softmax(x, where=m),
                nz.log_softmax(x, where=m),
                jax.grad(lambda v: jnp.sum(jnp.where(m, nz.log_softmax(v, where=m), 0) * w))(x),
                jax.grad(lambda v: jnp.sum(nz.softmax(v, where=m)))(x),
                jax.grad(lambda v: jnp.sum(nz.softmax(v, where=m) * jnp.arange(4.0)))(x),
                nz.softmin(x, where=m),
                nz.softmax(-x, where=m),
            )

        y, ly, g_ls, g_sum, g, smin, sm_neg = run(x, m)
        with mp.workdps(50):
            ref = mp_softmax(_mp([0.5, -1.0]))
            lref = mp_log_softmax(_mp([0.5, -1.0]))
        _check(y[0, :2], ref, jnp.float64, 4, 0, "masked softmax")
        _check(ly[0, :2], lref, jnp.float64, 4, 0, "masked log_softmax")
        np.testing.assert_array_equal(y[0, 2:], [0, 0])
        np.testing.assert_array_equal(y[1], [0, 0, 0, 0])
        np.testing.assert_array_equal(ly[0, 2:], [-INF, -INF])
        np.testing.assert_array_equal(ly[1], [-INF] * 4)
        p = np.asarray(ref, np.float64)
        np.testing.assert_allclose(g_ls[0, :2], 1 - 2 * p, rtol=1e-14)
        np.testing.assert_array_equal(g_ls[0, 2:], [0, 0])
        np.testing.assert_array_equal(g_ls[1], [0, 0, 0, 0])
        np.testing.assert_allclose(g_sum, 0, atol=1e-16)
        assert np.all(np.isfinite(g)) and np.all(g[:, 2:] == 0) and np.all(g[1] == 0)
        np.testing.assert_allclose(g[0, :2], [-p[0] * p[1], p[0] * p[1]], rtol=1e-14)
        # softmin with a mask equals softmax of -x with the same mask.
        np.testing.assert_array_equal(smin, sm_neg)


@pytest.mark.parametrize("name", [lane(n, fast=n in ("softmax", "entmax15")) for n in FNS])
@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_nan_propagates_per_row(name: str) -> None:
    x = jnp.asarray([[1.0, jnp.nan, 0.0], [1.0, 2.0, 0.5]])
    fn = FNS[name]
    y = fn(x)
    assert np.all(np.isnan(y[0])) and np.all(np.isfinite(y[1]))
    g = jax.grad(lambda v: jnp.sum(fn(v) * jnp.asarray([1.0, 2.0, 3.0])))(x)
    assert np.all(np.isnan(g[0])) and np.all(np.isfinite(g[1]))


def test_log_softmax_hessian_symmetric() -> None:
    with jax.enable_x64(True):
        x = jnp.asarray([1.0, 2.1, 3.0, -1.5, 0.25, -40.0])
        w = jnp.asarray([0.3, -1.0, 2.0, 0.5, 1.0, -0.7])
        h, p = jax.jit(
            lambda x: (jax.hessian(lambda v: jnp.sum(w * nz.log_softmax(v)))(x), nz.softmax(x))
        )(x)
        p = np.asarray(p)
        ref = -float(jnp.sum(w)) * (np.diag(p) - np.outer(p, p))
        assert np.all(np.isfinite(h))
        np.testing.assert_allclose(h, h.T, rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(h, ref, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("n,scale", [(8, 1.0), (64, 2.0), (1000, 3.0), (30, 0.3)])
def test_entmax15_float32_within_six_ulp_of_the_unit_scale(n: int, scale: float) -> None:
    """Random rows in float32 against the float64 computation (itself 1e-15 from the
    truth): every entry within 6 ulp of its row's largest entry. The support's sum of
    squared deviations as k (mean of squares - squared mean) was up to 8.6 ulp off
    (its cancellation moves tau); Welford's running sum keeps it under 5.4."""
    x = np.random.default_rng(n).uniform(-scale, scale, (2000, n))
    got = np.asarray(jax.jit(nz.entmax15)(x.astype(np.float32)), np.float64)
    with jax.enable_x64(True):
        want = np.asarray(jax.jit(nz.entmax15)(x.astype(np.float32).astype(np.float64)))
    top = np.max(want, axis=-1, keepdims=True).astype(np.float32)
    err = np.abs(got - want) / np.spacing(top).astype(np.float64)
    assert np.max(err) <= 6.0, np.max(err)


def test_sums_to_one() -> None:
    x = 5 * jax.random.normal(jax.random.key(1), (64, 33))
    names = ("softmax", "sparsemax", "entmax15", "entmax_bisect")

    @jax.jit
    def run(x: jax.Array) -> Any:
        sums = [jnp.sum(FNS[name](x), axis=-1) for name in names]
        return sums, jnp.sum(nz.softmax1(x), axis=-1), jax.nn.logsumexp(nz.log_softmax(x), axis=-1)

    sums, sum1, lse = run(x)
    for name, total in zip(names, sums, strict=True):
        np.testing.assert_allclose(total, 1, atol=4e-6, err_msg=name)
    assert np.all(sum1 <= 1)
    np.testing.assert_allclose(lse, 0, atol=4e-6)


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_sparsity_patterns() -> None:
    x = jnp.asarray([1.0, 0.5, -1.0, 0.7, -3.0])
    fns = (nz.sparsemax, nz.entmax15, nz.entmax_bisect)
    # Values and Jacobians of the three sparse maps in one program.
    (sp, y, yb), jacs = jax.jit(lambda x: ([f(x) for f in fns], [jax.jacrev(f)(x) for f in fns]))(x)
    np.testing.assert_array_equal(sp > 0, [True, True, False, True, False])
    np.testing.assert_allclose(sp, [0.6, 0.1, 0.0, 0.3, 0.0], atol=1e-7)
    out, inn = np.array([2, 4]), np.array([0, 1, 3])
    assert np.all(y[out] == 0) and np.all(y[inn] > 0)
    np.testing.assert_array_equal(yb == 0, y == 0)
    # Gradients vanish exactly outside the support.
    for j in jacs:
        assert np.all(j[out] == 0) and np.all(j[:, out] == 0)


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_float16_large_rows_finite_gradients() -> None:
    x = jax.random.normal(jax.random.key(0), (2**16,), jnp.float32)
    fns = (nz.log_softmax, nz.softmax, nz.entmax15)

    @jax.jit
    def run(x: jax.Array) -> Any:
        x16 = x.astype(jnp.float16)
        return [
            (
                jax.grad(lambda v, fn=fn: jnp.sum(fn(v)))(x16),
                fn(x16),
                fn(x16.astype(jnp.float32)).astype(jnp.float16),
            )
            for fn in fns
        ]

    for fn, (g, y16, want) in zip(fns, run(x), strict=True):
        assert g.dtype == jnp.float16 and np.all(np.isfinite(g.astype(np.float32))), fn
        np.testing.assert_array_equal(y16, want)
    for dtype in (jnp.bfloat16, jnp.float16):
        assert nz.softmax(jnp.zeros(3, dtype)).dtype == dtype


def test_axis_forms_and_errors() -> None:
    x = jax.random.normal(jax.random.key(2), (3, 4, 5))
    fns = (nz.log_softmax, nz.sparsemax)

    @jax.jit
    def run(x: jax.Array) -> Any:
        moved = jnp.moveaxis(x, 1, 0).reshape(4, 15)
        pairs = []
        for fn in fns:
            want = jnp.moveaxis(fn(moved).reshape(4, 3, 5), 0, 1)
            pairs.append((fn(x, axis=(0, 2)), want))
            pairs.append((fn(x, axis=None), fn(x.ravel()).reshape(x.shape)))
        return pairs, nz.softmax(x, axis=1), jax.nn.softmax(x, axis=1)

    pairs, ours, theirs = run(x)
    for got, want in pairs:
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(ours, theirs, rtol=2e-6)
    for fn in fns:
        for bad in (3, -4, (0, 0)):
            with pytest.raises(ValueError, match=rf"{fn.__name__}.*'axis'"):
                fn(x, axis=bad)
    with pytest.raises(ValueError, match="softmax.*'where'"):
        nz.softmax(x, where=jnp.ones((2, 5), bool))
    with pytest.raises(TypeError, match="log_softmax.*'x'"):
        nz.log_softmax([1.0, 2.0])


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_entmax_bisect_limits_and_alpha_derivative() -> None:
    with jax.enable_x64(True):
        x = jnp.asarray([1.0, 2.1, 3.0, -1.5, 0.25, 2.6])
        xx = jnp.stack([x, -x])
        al = jnp.asarray([[1.5], [2.0]])

        @jax.jit
        def limits(x: jax.Array) -> Any:
            return (
                nz.entmax_bisect(x, alpha=2.0),
                nz.sparsemax(x),
                nz.entmax_bisect(x, 1.5),
                nz.entmax15(x),
                nz.entmax_bisect(x, 1.0001),
                nz.entmax_bisect(x, 1.001),
                nz.softmax(x),
                # One alpha per row (size 1 along the axis).
                nz.entmax_bisect(jnp.stack([x, -x]), al)[1],
                nz.sparsemax(-x),
            )

        e2, sp, e15, ent15, e10001, e1001, sm, row, sp_neg = limits(x)
        np.testing.assert_allclose(e2, sp, atol=1e-14)
        np.testing.assert_allclose(e15, ent15, atol=1e-14)
        np.testing.assert_allclose(e10001, sm, atol=2e-4)
        np.testing.assert_allclose(e1001, sm, atol=2e-3)
        assert np.max(np.abs(e1001 - sm)) > 1e-5
        np.testing.assert_allclose(row, sp_neg, atol=1e-14)

        # d/dalpha in both modes; alpha is traced, so one program serves every alpha.
        d_alpha = jax.jit(
            lambda x, a: (
                jax.jacfwd(nz.entmax_bisect, argnums=1)(x, a),
                jax.jacrev(nz.entmax_bisect, argnums=1)(x, a),
            )
        )
        for alpha in ("1.25", "1.5", "2.0", "3.0"):
            with mp.workdps(DPS):
                xs = _mp(x.tolist())
                a = mp.mpf(alpha)
                up, dn = mp_entmax(xs, a + STEP), mp_entmax(xs, a - STEP)
                ref = [(u - d) / (2 * STEP) for u, d in zip(up, dn, strict=True)]
            jac, jr = d_alpha(x, jnp.float64(float(alpha)))
            scale = max(abs(float(r)) for r in ref)
            _check(jac, ref, jnp.float64, 64, 64 * scale, f"d/dalpha {alpha}")
            _check(jr, ref, jnp.float64, 64, 64 * scale, f"d/dalpha rev {alpha}")
        with pytest.raises(ValueError, match="entmax_bisect.*'alpha'"):
            nz.entmax_bisect(x, 1.0)
        with pytest.raises(ValueError, match="entmax_bisect.*'alpha'"):
            nz.entmax_bisect(xx, jnp.ones((2, 6)) * 1.5)
        with pytest.raises(ValueError, match="entmax_bisect.*'n_iter'"):
            nz.entmax_bisect(x, n_iter=0)


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_gumbel_softmax() -> None:
    key = jax.random.key(3)
    logits = jnp.log(jnp.asarray([0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(ValueError, match="gumbel_softmax.*'key'"):
        nz.gumbel_softmax(logits)
    with pytest.raises(TypeError, match="gumbel_softmax.*'key'"):
        nz.gumbel_softmax(logits, key=jnp.ones(3))
    with pytest.raises(TypeError, match="gumbel_softmax"):
        nz.gumbel_softmax(key, logits)
    with pytest.raises(ValueError, match="gumbel_softmax.*'tau'"):
        nz.gumbel_softmax(logits, tau=0.0, key=key)
    w = jnp.asarray([1.0, -2.0, 0.5, 3.0])

    def loss(v: jax.Array, tau: Any, hard: bool) -> jax.Array:
        return jnp.sum(w.astype(v.dtype) * nz.gumbel_softmax(v, tau, hard, key=key))

    @jax.jit
    def run(logits: jax.Array) -> Any:
        batch = jnp.broadcast_to(logits, (20000, 4))
        return (
            nz.gumbel_softmax(logits, key=key),
            nz.gumbel_softmax(batch, tau=0.5, hard=True, key=key),
            jax.grad(loss)(logits, 0.7, False),
            jax.grad(loss)(logits, 0.7, True),
        )

    y, hard, gs, gh = run(logits)
    np.testing.assert_allclose(jnp.sum(y), 1, rtol=1e-6)
    # The Gumbel-max trick: argmax frequencies follow softmax(logits).
    assert set(np.unique(np.asarray(hard)).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(jnp.sum(hard, axis=-1), 1)
    np.testing.assert_allclose(jnp.mean(hard, axis=0), [0.1, 0.2, 0.3, 0.4], atol=0.015)
    # Straight-through: the hard sample has the soft sample's gradient.
    np.testing.assert_allclose(gh, gs, rtol=1e-6)
    assert abs(float(jnp.sum(gs))) < 1e-6
    # tau derivative against a central difference (float64).
    with jax.enable_x64(True):
        lg = logits.astype(jnp.float64)
        h = 1e-6

        @jax.jit
        def tau_grad(lg: jax.Array) -> Any:
            gt = jax.grad(loss, argnums=1)(lg, jnp.float64(0.7), False)
            return gt, (loss(lg, 0.7 + h, False) - loss(lg, 0.7 - h, False)) / (2 * h)

        gt, fd = tau_grad(lg)
        np.testing.assert_allclose(gt, fd, rtol=1e-7)


def test_specs() -> None:
    specs = {n: s for n, s in registry.SPECS.items() if s.family == "normalizing"}
    assert set(specs) == set(FNS) | {"gumbel_softmax"}
    for name, spec in specs.items():
        assert spec.family == "normalizing"
        assert spec.kind == ("random" if name == "gumbel_softmax" else "vector")
    assert specs["entmax_bisect"].params == {"alpha": 1.5}
    assert specs["gumbel_softmax"].params == {"tau": 1.0}
