"""The learnable family (rational, acon_c, meta_acon): references, parameter cases, own tests.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact import registry
from jaxact._src import rational
from tests import mpjet
from tests.accuracy import ParamCase, Ref, lane

ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}

A0, B0 = rational.RATIONAL_INIT["leaky_relu"]


def _num(c):
    return c if isinstance(c, mpjet.Jet) else mp.mpf(c)


def _mp_rational(x, a=A0, b=B0, version="A"):
    p = sum(_num(c) * x**j for j, c in enumerate(a))
    if version == "A":
        q = 1 + sum(abs(_num(c)) * abs(x) ** (k + 1) for k, c in enumerate(b))
    elif version == "C":
        q = mp.mpf("0.1") + abs(sum(_num(c) * x**k for k, c in enumerate(b)))
    else:
        q = 1 + abs(sum(_num(c) * x ** (k + 1) for k, c in enumerate(b)))
    return p / q


def _rational_scale(x, order):
    # Size of the terms that Horner's rule and the quotient rule add up.
    ax = mpjet.Jet(abs(x), 1, 0)
    p = mpjet.lift(sum(abs(mp.mpf(c)) * ax**j for j, c in enumerate(A0)))
    q = mpjet.lift(1 + sum(abs(mp.mpf(c)) * ax ** (k + 1) for k, c in enumerate(B0)))
    r0, r1 = 1 / q.v, abs(q.d) / q.v**2
    r2 = 2 * q.d**2 / q.v**3 + abs(q.dd) / q.v**2
    if order == "f":
        return abs(p.v) * r0
    if order == "d1":
        return abs(p.d) * r0 + abs(p.v) * r1
    return abs(p.dd) * r0 + 2 * abs(p.d) * r1 + abs(p.v) * r2


def _acon_ref(x, p1, p2, beta):
    d = (p1 - p2) * x
    return d * mpjet.sigmoid(beta * d) + p2 * x


def _acon_scale(x, order):
    # silu's own terms: x sigma(x) near x = 0 is exact; f' has a root at -1.28,
    # f'' at +-2.4, where sigma(x) and x sigma'(x) (and their derivatives) cancel.
    xm = mp.mpf(x)
    s = 1 / (1 + mp.exp(-xm))
    s1 = s * (1 - s)
    if order == "f":
        return abs(xm) * s
    if order == "d1":
        return s + abs(xm) * s1
    return 2 * s1 + abs(xm) * s1 * abs(mp.tanh(xm / 2))


def _rational_ref(x):
    # f'' decays like x^-3 while the quotient rule's terms are ~1/x: at |x| = 1e308
    # the jets need ~3 * 308 more digits than the harness's 50.
    v = abs(mpjet.value(x))
    digits = 60 + 3 * max(0, int(mp.log10(v))) if v > 1 else 60
    with mp.workdps(digits):
        out = mpjet.lift(_mp_rational(x))
        return mpjet.Jet(+out.v, +out.d, +out.dd)


MP_REFS = {
    "rational": Ref(f=_rational_ref, kinks=(0.0,), scale=_rational_scale),
    "acon_c": Ref(f=_acon_ref, params={"p1": 1.0, "p2": 0.0, "beta": 1.0}, scale=_acon_scale),
}
FNS = {name: getattr(rational, name) for name in MP_REFS}


A3 = (0.3, -1.2, 0.7, 0.25)
B3 = (-0.5, 0.8, -0.1)


@pytest.mark.parametrize("version", [lane(v, fast=v == "A") for v in ("A", "B", "C", "D")])
def test_versions_against_mpmath(version):
    with jax.enable_x64(True):
        xs = [-7.5, -1.3, -0.2, 0.0, 0.4, 1.0, 2.5, 1e3, -1e200]
        a, b = jnp.array(A3), jnp.array(B3)
        ref_version = "B" if version == "D" else version

        # Values and x-derivatives at every point, and the coefficient gradients at
        # x = 1.7, in one program.
        @jax.jit
        def run(xs, a, b):
            def fn(x):
                return rational.rational(x, a, b, version)

            coef = jax.grad(lambda a, b: rational.rational(1.7, a, b, version), (0, 1))(a, b)
            return jax.vmap(fn)(xs), jax.vmap(jax.grad(fn))(xs), coef

        values, slopes, (ga, gb) = run(jnp.asarray(xs, jnp.float64), a, b)
        for x, got, g1 in zip(xs, values.tolist(), slopes.tolist(), strict=True):
            want = mpjet.lift(_mp_rational(mpjet.Jet(x, 1, 0), A3, B3, ref_version))
            assert abs(got - want.v) <= 1e-14 * abs(want.v), (x, got, want.v)
            if x != 0.0:
                assert abs(g1 - want.d) <= 1e-13 * (abs(want.d) + abs(want.v)), (x, g1, want.d)
        x = 1.7
        for j in range(len(A3)):
            aj = [mp.mpf(c) for c in A3]
            aj[j] = mpjet.Jet(A3[j], 1, 0)
            want = mpjet.lift(_mp_rational(mp.mpf(x), aj, B3, ref_version)).d
            assert abs(float(ga[j]) - want) <= 1e-13 * (1 + abs(want))
        for k in range(len(B3)):
            bk = [mp.mpf(c) for c in B3]
            bk[k] = mpjet.Jet(B3[k], 1, 0)
            want = mpjet.lift(_mp_rational(mp.mpf(x), A3, bk, ref_version)).d
            assert abs(float(gb[k]) - want) <= 1e-13 * (1 + abs(want))


def test_version_d_noise():
    a, b = jnp.array(A3), jnp.array(B3)
    x = jnp.linspace(-2.0, 2.0, 9)
    ev = rational.rational(x, a, b, "D")
    np.testing.assert_array_equal(ev, rational.rational(x, a, b, "B"))
    tr = rational.rational(x, a, b, "D", key=jax.random.key(0), training=True)
    assert not np.allclose(tr, ev)
    np.testing.assert_allclose(tr, ev, atol=0.11 * float(jnp.max(jnp.abs(ev))) + 0.5)
    with pytest.raises(ValueError, match="rational.*'key'"):
        rational.rational(x, a, b, "D", training=True)


LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    # rational: degree 5 over degree 4, f ~ (a5 / |b4|) x.
    "rational": (-np.inf, np.inf, A0[-1] / abs(B0[-1]), A0[-1] / abs(B0[-1]), 0.0, 0.0),
    "acon_c": (0.0, np.inf, 0.0, 1.0, 0.0, 0.0),
}

PARAM_CASES = [
    ParamCase(
        "acon_c",
        _acon_ref,
        {"p1": 1.3, "p2": -0.4, "beta": 0.8},
        (-30.0, -2.0, -0.3, 0.7, 3.0, 25.0),
    ),
]

BAD_ARGS = [
    ("acon_c", ValueError, "'beta'", {"beta": 0.0}),
    ("acon_c", ValueError, "'p1'", {"x": jnp.ones(3), "p1": jnp.ones(2)}),
]


def test_kink_values_follow_the_coefficients():
    # version A, default coefficients: |x| takes its x >= 0 piece at 0; the pinned
    # values are these expressions in the coefficients.
    a, b = A0, B0
    d1 = a[1] - a[0] * abs(b[0])
    d2 = 2 * a[2] - 2 * a[1] * abs(b[0]) - 2 * a[0] * abs(b[1]) + 2 * a[0] * b[0] ** 2
    pinned = {k.order: k.value for k in registry.SPECS["rational"].kinks if k.x == 0.0}
    assert pinned[1] == d1 and abs(pinned[2] - d2) < 1e-15
    g32 = float(jax.grad(rational.rational)(jnp.float32(0.0)))
    assert g32 == float(np.float32(a[1]) - np.float32(a[0]) * np.float32(abs(b[0])))


@pytest.mark.parametrize(
    "name", [lane(n, fast=n == "leaky_relu") for n in sorted(rational.RATIONAL_INIT)]
)
@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_init_refit(name):
    fn = rational.fit_targets()[name]
    a, b = rational.fit_rational(fn)
    sa, sb = rational.RATIONAL_INIT[name]
    xs = np.linspace(-5, 5, 1001)
    with jax.enable_x64(True):
        ys = np.asarray(rational.rational(xs, np.array(sa), np.array(sb)))
        yr = np.asarray(rational.rational(xs, a, b))
    err_stored = np.max(np.abs(ys - fn(xs)))
    err_refit = np.max(np.abs(yr - fn(xs)))
    assert np.max(np.abs(ys - yr)) <= 0.5 * err_refit + 1e-6
    assert err_stored <= 1.01 * err_refit + 1e-6
    bound = {"leaky_relu": 0.095, "relu": 0.095, "gelu": 4.5e-3, "silu": 7e-5, "tanh": 1.5e-4}
    assert err_stored < bound.get(name, 5e-7)


def test_acon_p2_derivative_at_a_large_argument():
    # x (1 - silu'(z)) is tiny, not 0.
    with jax.enable_x64(True):
        got = float(jax.grad(lambda p2: rational.acon_c(jnp.float64(40.0), 1.0, p2))(0.0))
        want = mpjet.lift(_acon_ref(mp.mpf(40), 1, mpjet.Jet(0, 1, 0), 1)).d
        assert got != 0 and abs(got - want) <= 1e-12 * abs(want)


def test_meta_acon():
    key = jax.random.key(1)
    k1, k2, k3 = jax.random.split(key, 3)
    x = jax.random.normal(k1, (2, 5, 4))
    w1 = jax.random.normal(k2, (3, 4))
    w2 = jax.random.normal(k3, (4, 3))
    p1, p2 = jnp.array([1.0, 0.5, 2.0, -1.0]), jnp.array([0.0, 0.1, -0.2, 0.3])

    @jax.jit
    def run(x, p1, p2, w1, w2):
        g = x.mean(axis=1)
        beta = jax.nn.sigmoid(g @ w1.T @ w2.T)[:, None, :]
        return (
            rational.meta_acon(x, p1, p2, w1, w2),
            rational.acon_c(x, p1, p2, beta),
            # channel axis 1
            rational.meta_acon(jnp.moveaxis(x, -1, 1), p1, p2, w1, w2, axis=1),
            jax.grad(lambda w: rational.meta_acon(x, p1, p2, w, w2).sum())(w1),
        )

    y, want, y1, gw = run(x, p1, p2, w1, w2)
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jnp.moveaxis(y1, 1, -1), y, rtol=1e-6, atol=1e-7)
    assert gw.shape == w1.shape and np.all(np.isfinite(gw))
    with pytest.raises(ValueError, match="meta_acon.*'w1'"):
        rational.meta_acon(x, p1, p2, w1.T, w2)
    with pytest.raises(ValueError, match="meta_acon.*'axis'"):
        rational.meta_acon(x, p1, p2, w1, w2, axis=0)


def test_float16_large_inputs():
    # float16 input of size 100: x^5 would overflow in float16, not here.
    y = jax.jit(rational.rational)(jnp.array([100.0, -300.0], jnp.float16))
    assert np.all(np.isfinite(np.asarray(y, np.float32)))


def test_bad_input():
    with pytest.raises(ValueError, match="rational.*'numerator'"):
        rational.rational(1.0, jnp.ones((2, 2)), jnp.ones(2))
    with pytest.raises(ValueError, match="rational.*'denominator'"):
        rational.rational(1.0, jnp.ones(3), jnp.ones(()))
    with pytest.raises(ValueError, match="rational.*'version'"):
        rational.rational(1.0, jnp.ones(3), jnp.ones(2), "E")
    with pytest.raises(ValueError, match="rational.*'numerator'"):
        rational.rational(1.0, version="B")
