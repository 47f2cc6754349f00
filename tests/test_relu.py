"""Accuracy, kink, special-value, parameter and input tests for the ReLU family."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import relu as R
from tests import mpjet
from tests.accuracy import PIECEWISE_LINEAR, Ref, nth_grad, param_grad, raises_named

_EVAL_SLOPE = (mp.mpf(1) / 8 + mp.mpf(1) / 3) / 2


def _relu6_ref(x):
    if x <= 0:
        return 0
    return x if x < 6 else 6


def _leaky_ref(x, negative_slope=0.01):
    return x if x >= 0 else negative_slope * x


def _rrelu_ref(x, lower=0.125, upper=0.25):
    return x if x >= 0 else (lower + upper) / 2 * x


def _star_ref(x, scale=1.0, bias=0.0):
    return scale * (x * x if x > 0 else 0) + bias


MP_REFS = {
    "relu": Ref(f=lambda x: x if x > 0 else 0, kinks=(0.0,)),
    "relu6": Ref(f=_relu6_ref, kinks=(0.0, 6.0)),
    "leaky_relu": Ref(f=_leaky_ref, params={"negative_slope": 0.01}, kinks=(0.0,)),
    "prelu": Ref(f=_leaky_ref, params={"negative_slope": 0.25}, kinks=(0.0,)),
    "rrelu": Ref(f=lambda x: x if x >= 0 else _EVAL_SLOPE * x, kinks=(0.0,)),
    "relu2": Ref(f=lambda x: x * x if x > 0 else 0, kinks=(0.0,)),
    "star_relu": Ref(f=_star_ref, params={"scale": 1.0, "bias": 0.0}, kinks=(0.0,)),
}
FNS = {name: getattr(R, name) for name in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kinks(dtype):
    with jax.enable_x64(dtype == "float64"):
        pinned = 0
        for spec in R.SPECS:
            for order in (1, 2):
                ks = [k for k in spec.kinks if k.order == order]
                if not ks:
                    continue
                xs = jnp.asarray([k.x for k in ks], dtype)
                got = jax.vmap(nth_grad(spec.fn, order, **spec.params))(xs)
                assert got.dtype == jnp.dtype(dtype)
                for k, g in zip(ks, got.tolist(), strict=True):
                    assert g == k.value, (spec.name, k, g)
                    pinned += 1
        assert pinned == 16
        # The masks read the sign bit: subnormals are not zero, -0.0 is.
        sub = float(np.finfo(dtype).smallest_subnormal)
        assert float(nth_grad(R.relu, 1)(jnp.asarray(sub, dtype))) == 1.0
        assert float(nth_grad(R.relu, 1)(jnp.asarray(-0.0, dtype))) == 0.0
        assert float(nth_grad(R.leaky_relu, 1)(jnp.asarray(-sub, dtype))) == float(
            np.asarray(0.01, dtype)
        )
        assert float(nth_grad(R.leaky_relu, 1)(jnp.asarray(-0.0, dtype))) == 1.0
        assert float(nth_grad(R.relu6, 1)(jnp.asarray(sub, dtype))) == 1.0
        # prelu follows leaky_relu (right piece) with any slope.
        assert float(nth_grad(R.prelu, 1, negative_slope=0.25)(jnp.asarray(0.0, dtype))) == 1.0
        assert float(nth_grad(R.rrelu, 1)(jnp.asarray(0.0, dtype))) == 1.0


@pytest.mark.parametrize("name", list(MP_REFS))
def test_nan_and_inf(name):
    fn, p = FNS[name], MP_REFS[name].params
    for dtype in ("float32", "float64"):
        with jax.enable_x64(dtype == "float64"):
            xs = jnp.asarray([np.nan, np.inf, -np.inf], dtype)
            for order in range(3):
                got = jax.vmap(nth_grad(fn, order, **p))(xs)
                if order == 2 and name in PIECEWISE_LINEAR:
                    # A one-byte code is what their backward pass keeps; it carries
                    # no derivative, so f'' (0 everywhere) is 0 at NaN too.
                    assert float(got[0]) == 0.0, (name, order)
                else:
                    assert jnp.isnan(got[0]), (name, order)
                if order:
                    assert not jnp.any(jnp.isnan(got[1:])), (name, order, got)
    assert float(R.relu(-jnp.inf)) == 0.0
    assert float(R.relu6(jnp.inf)) == 6.0
    assert float(R.relu2(-jnp.inf)) == 0.0


def test_nan_through_crelu():
    y = R.crelu(jnp.array([jnp.nan, 1.0]))
    np.testing.assert_array_equal(np.isnan(np.asarray(y)), [True, False, True, False])
    g = jax.grad(lambda v: jnp.sum(R.crelu(v)))(jnp.array([jnp.nan, 1.0]))
    assert jnp.isnan(g[0]) and float(g[1]) == 1.0


@pytest.mark.parametrize("x", [-3.5, -0.25, 0.75, 2.0])
def test_param_derivatives(x):
    xm = mp.mpf(x)
    jet = mpjet.Jet
    checks = [
        (R.leaky_relu, "negative_slope", 0.01, {}, _leaky_ref(xm, negative_slope=jet(0.01, 1))),
        (R.prelu, "negative_slope", 0.25, {}, _leaky_ref(xm, negative_slope=jet(0.25, 1))),
        (R.star_relu, "scale", 0.75, {"bias": -0.5}, _star_ref(xm, jet(0.75, 1), -0.5)),
        (R.star_relu, "bias", -0.5, {"scale": 0.75}, _star_ref(xm, 0.75, jet(-0.5, 1))),
        (R.rrelu, "lower", 0.125, {}, _rrelu_ref(xm, lower=jet(0.125, 1))),
        (R.rrelu, "upper", 0.25, {}, _rrelu_ref(xm, upper=jet(0.25, 1))),
    ]
    for fn, name, p, fixed, ref in checks:
        want = float(mpjet.lift(ref).d)
        got = param_grad(fn, name, x, p, **fixed)
        assert got == pytest.approx(want, rel=1e-15, abs=1e-300), (fn.__name__, name, x)


def test_prelu_per_channel_gradient():
    x = jax.random.normal(jax.random.key(1), (2, 3, 4, 4))
    a = jnp.array([0.1, 0.25, 0.5]).reshape(3, 1, 1)
    y = R.prelu(x, a)
    xn = np.asarray(x)
    np.testing.assert_allclose(y, np.where(xn >= 0, xn, np.asarray(a) * xn), rtol=1e-7)
    ga = jax.grad(lambda s: jnp.sum(R.prelu(x, s)))(a)
    want = np.where(xn < 0, xn, 0.0).sum(axis=(0, 2, 3)).reshape(3, 1, 1)
    assert ga.shape == (3, 1, 1)
    np.testing.assert_allclose(ga, want, rtol=1e-5)
    gx = jax.grad(lambda v: jnp.sum(R.prelu(v, a)))(x)
    np.testing.assert_array_equal(gx, np.where(xn >= 0, 1.0, np.broadcast_to(a, xn.shape)))


def test_rrelu_training():
    x = -jnp.linspace(0.5, 4.0, 1000)
    key = jax.random.key(7)
    y = R.rrelu(x, key, training=True)
    slopes = np.asarray(y / x)
    assert slopes.min() >= 1 / 8 - 1e-7 and slopes.max() <= 1 / 3 + 1e-7
    assert slopes.std() > 0.05  # per element, not one slope
    np.testing.assert_array_equal(y, R.rrelu(x, key, training=True))
    assert not np.array_equal(y, R.rrelu(x, jax.random.key(8), training=True))
    # The gradient uses the slopes of the forward pass.
    g = jax.vmap(jax.grad(lambda v, k: R.rrelu(v, k, training=True)), (0, None))
    gx = jax.grad(lambda v: jnp.sum(R.rrelu(v, key, training=True)))(x)
    np.testing.assert_allclose(gx, slopes, rtol=1e-6)
    assert g(jnp.array([1.0, 0.0]), key).tolist() == [1.0, 1.0]
    # Raw uint32 keys work too; positives pass through.
    np.testing.assert_array_equal(R.rrelu(-x, jax.random.PRNGKey(0), training=True), -x)
    # Eval mode: the mean slope, no key needed.
    np.testing.assert_allclose(R.rrelu(x), x * (1 / 8 + 1 / 3) / 2, rtol=1e-6)


def test_crelu():
    x = jnp.array([[-1.0, 0.0, 2.0], [3.0, -4.0, 0.5]])
    y = R.crelu(x)
    np.testing.assert_array_equal(y, [[0, 0, 2, 1, 0, 0], [3, 0, 0.5, 0, 4, 0]])
    y0 = R.crelu(x, axis=0)
    assert y0.shape == (4, 3)
    np.testing.assert_array_equal(y0[2:], np.maximum(-np.asarray(x), 0))
    jac = jax.jacobian(R.crelu)(jnp.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(
        jac,
        [[0, 0, 0], [0, 0, 0], [0, 0, 1], [-1, 0, 0], [0, 0, 0], [0, 0, 0]],
    )
    assert R.crelu(jnp.ones((2, 3), jnp.bfloat16)).dtype == jnp.bfloat16


def test_dtypes():
    for dtype in (jnp.bfloat16, jnp.float16, jnp.float32):
        x = jnp.array([-2.0, 0.5, 3.0], dtype)
        for name, fn in FNS.items():
            assert fn(x, **MP_REFS[name].params).dtype == dtype, name
    # Integers: relu keeps them (as jax.nn does); the others promote.
    assert R.relu(jnp.arange(-2, 2)).dtype == jnp.int32
    assert R.leaky_relu(jnp.arange(-2, 2)).dtype == jnp.float32
    with jax.enable_x64(True):
        assert R.leaky_relu(jnp.ones(2, jnp.float64)).dtype == jnp.float64
    # relu2 overflows where x*x does, to +inf (not NaN).
    assert float(R.relu2(jnp.float16(300.0))) == np.inf


def test_bad_input():
    x = jnp.ones((2, 3))
    for name, fn in FNS.items():
        raises_named(
            TypeError, name, "'x'", lambda fn=fn, name=name: fn([1.0, 2.0], **MP_REFS[name].params)
        )
    raises_named(TypeError, "crelu", "'x'", lambda: R.crelu("a"))
    raises_named(TypeError, "leaky_relu", "negative_slope", lambda: R.leaky_relu(x, "0.1"))
    raises_named(ValueError, "prelu", "negative_slope", lambda: R.prelu(x, jnp.ones(4)))
    raises_named(TypeError, "prelu", "negative_slope", lambda: R.prelu(x, None))
    raises_named(ValueError, "star_relu", "scale", lambda: R.star_relu(x, scale=jnp.ones((5,))))
    raises_named(ValueError, "rrelu", "key", lambda: R.rrelu(x, training=True))
    raises_named(TypeError, "rrelu", "key", lambda: R.rrelu(x, key=3, training=True))
    raises_named(ValueError, "rrelu", "lower", lambda: R.rrelu(x, lower=0.5, upper=0.25))
    raises_named(TypeError, "rrelu", "training", lambda: R.rrelu(x, training="yes"))
    raises_named(ValueError, "crelu", "axis", lambda: R.crelu(x, axis=2))
    raises_named(TypeError, "crelu", "axis", lambda: R.crelu(x, axis=1.0))
    raises_named(ValueError, "crelu", "'x'", lambda: R.crelu(1.0))
