"""Tests for the gated family: glu, swiglu, reglu, geglu, bilinear, maxout."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import gated
from tests.accuracy import lane

mp.mp.dps = 50


def _sig(v):
    return 1 / (1 + mp.exp(-v))


def _phi_cdf(v):
    return mp.erfc(-v / mp.sqrt(2)) / 2


def gelu_tanh_rule(v):
    u = mp.sqrt(2 / mp.pi) * (v + mp.mpf("0.044715") * v**3)
    return v / 2 * (1 + mp.tanh(u))


# name -> (jaxact call, mpmath gate g(b); f = a * g(b))
GATES = {
    "glu": (gated.glu, _sig),
    "swiglu": (gated.swiglu, lambda v: v * _sig(v)),
    "reglu": (gated.reglu, lambda v: max(v, 0)),
    "geglu": (gated.geglu, lambda v: v * _phi_cdf(v)),
    "geglu_tanh": (lambda x: gated.geglu(x, approximate=True), gelu_tanh_rule),
    "bilinear": (gated.bilinear, lambda v: v),
}

A = [-3.0, 0.5, 2.0, 1e-3, -40.0]
B = [-30.0, -2.5, 0.7, 4.0, 20.0]


@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(n, d, fast=n in ("glu", "swiglu") and d == np.float32, id=f"{n}-{np.dtype(d).name}")
        for n in sorted(GATES)
        for d in (np.float32, np.float64)
    ],
)
def test_value_and_grad_against_mpmath(name, dtype):
    fn, g = GATES[name]
    with jax.enable_x64(dtype == np.float64):
        x = jnp.asarray(np.array(A + B, dtype))
        y, jac = jax.jit(lambda x: (fn(x), jax.jacfwd(fn)(x)))(x)
        y, jac = np.asarray(y, np.float64), np.asarray(jac, np.float64)
    tol = 8 * float(np.finfo(dtype).eps)
    tiny = float(np.finfo(dtype).tiny)
    for i, (a, b) in enumerate(zip(A, B, strict=True)):
        am, bm = mp.mpf(float(dtype(a))), mp.mpf(float(dtype(b)))
        want = am * g(bm)
        assert abs(y[i] - want) <= tol * abs(want) + tiny, (i, y[i], want)
        da = g(bm)
        db = am * mp.diff(g, bm)
        assert abs(jac[i, i] - da) <= tol * abs(da) + tiny, (i, jac[i, i], da)
        assert abs(jac[i, i + len(A)] - db) <= 64 * tol * abs(db) + tiny, (i, db)


def test_glu_matches_jax_nn_and_split_order():
    x = jnp.array([[1.0, -2.0, 3.0, 0.5], [0.0, 4.0, -1.0, 2.0]])
    np.testing.assert_allclose(gated.glu(x), jax.nn.glu(x), rtol=1e-6)
    np.testing.assert_allclose(gated.glu(x, axis=0), jax.nn.glu(x, axis=0), rtol=1e-6)
    # value first, gate second
    np.testing.assert_allclose(gated.reglu(jnp.array([-2.0, 3.0])), [-6.0])
    np.testing.assert_allclose(gated.reglu(jnp.array([3.0, -2.0])), [0.0])


def test_glu_tail():
    # sigma(-100) = 3.7e-44 is subnormal, but a * sigma(b) with a = 1e10 is normal.
    x = jnp.array([1e10, -100.0], jnp.float32)
    want = float(mp.mpf(1e10) * _sig(mp.mpf(-100)))
    got = float(gated.glu(x)[0])
    assert got != 0 and abs(got - want) <= 1e-5 * want


def test_reglu_kink():
    for dt in (jnp.float32, jnp.float64):
        with jax.enable_x64(dt == jnp.float64):
            x = jnp.array([3.0, 0.0], dt)
            jac = jax.jit(jax.jacfwd(gated.reglu))(x)
            assert float(jac[0, 1]) == 0.0
            assert float(jac[0, 0]) == 0.0


def test_swiglu_beta_grad():
    with jax.enable_x64(True):
        x = jnp.array([1.5, 0.8])

        def f(beta):
            return gated.swiglu(x, beta=beta)[0]

        got = float(jax.grad(f)(2.0))
        # d/dbeta [a b sigma(beta b)] = a b^2 sigma'(beta b)
        s = _sig(mp.mpf(1.6))
        want = 1.5 * 0.64 * s * (1 - s)
        assert abs(got - want) <= 1e-13 * abs(want)


def test_maxout_values_ties_and_nan():
    x = jnp.array([1.0, 3.0, 3.0, -1.0, 2.0, 2.0])
    xn = x.at[3].set(jnp.nan)
    x2 = jnp.arange(12.0).reshape(4, 3)

    @jax.jit
    def run(x, xn, x2):
        return (
            gated.maxout(x, 2),
            gated.maxout(x, 3),
            jax.grad(lambda v: gated.maxout(v, 2).sum())(x),
            jax.grad(lambda v: gated.maxout(v, 3).sum())(x),
            gated.maxout(xn, 2),
            jax.grad(lambda v: gated.maxout(v, 2).sum())(xn),
            gated.maxout(x2, 2, axis=0),
            jax.hessian(lambda v: gated.maxout(v, 2).sum())(x[:4]),
        )

    y2, y3, g, g3, y, gn, y_axis, h = run(x, xn, x2)
    np.testing.assert_array_equal(y2, [3.0, 3.0, 2.0])
    np.testing.assert_array_equal(y3, [3.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 0.0, 1.0, 0.0])  # tie: first wins
    np.testing.assert_array_equal(g3, [0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    assert np.isnan(y[1]) and y[0] == 3.0
    assert np.isnan(gn[3]) and gn[1] == 1.0
    # axis and second derivative (zero)
    np.testing.assert_array_equal(y_axis, [[3, 4, 5], [9, 10, 11]])
    np.testing.assert_array_equal(h, np.zeros((4, 4)))
    # Eagerly too: NaN does not depend on compilation.
    ye = np.asarray(gated.maxout(xn, 2))
    assert np.isnan(ye[1]) and ye[0] == 3.0


def test_nan_and_inf_propagation():
    @jax.jit
    def run():
        out = {}
        for name, (fn, _) in GATES.items():
            out[name] = (fn(jnp.array([jnp.nan, 1.0])), jax.jacfwd(fn)(jnp.array([1.0, jnp.nan])))
        # gate limits at -inf: glu -> 0, swiglu -> 0 (finite a)
        limits = (
            gated.glu(jnp.array([2.0, -jnp.inf]))[0],
            gated.swiglu(jnp.array([2.0, -jnp.inf]))[0],
            gated.glu(jnp.array([2.0, jnp.inf]))[0],
        )
        return out, limits

    out, limits = run()
    for name, (y, jac) in out.items():
        assert np.isnan(y[0]), name
        if name != "reglu":  # relu'(NaN) is NaN, but a * relu'(b) ...
            assert np.isnan(jac[0, 1]), name
    assert [float(v) for v in limits] == [0.0, 0.0, 2.0]


def test_dtypes():
    for dt in (jnp.bfloat16, jnp.float32):
        x = jax.ShapeDtypeStruct((3, 4), dt)
        for fn, _ in GATES.values():
            out = jax.eval_shape(fn, x)
            assert out.dtype == dt and out.shape == (3, 2)
        assert jax.eval_shape(lambda v: gated.maxout(v, 4), x).dtype == dt
    # One concrete call per dtype.
    assert gated.swiglu(jnp.ones((3, 4), jnp.bfloat16)).dtype == jnp.bfloat16
    assert gated.glu(jnp.arange(4)).dtype == jnp.float32


def test_bad_input():
    with pytest.raises(ValueError, match="glu: axis 0 of size 3"):
        gated.glu(jnp.ones(3))
    with pytest.raises(ValueError, match="swiglu.*'axis'"):
        gated.swiglu(jnp.ones(4), axis=2)
    with pytest.raises(ValueError, match="maxout.*num_pieces"):
        gated.maxout(jnp.ones(5), 2)
    with pytest.raises(ValueError, match="maxout.*'num_pieces'"):
        gated.maxout(jnp.ones(4), 0)
    with pytest.raises(TypeError, match="geglu.*'x'"):
        gated.geglu([1.0, 2.0])
    with pytest.raises(ValueError, match="swiglu.*'beta'"):
        gated.swiglu(jnp.ones(4), beta=-1.0)
