"""Accuracy, kink, special-value, parameter and input tests for the hard/shrink family."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import hard as H
from tests import mpjet
from tests.accuracy import PIECEWISE_LINEAR, Ref, nth_grad, param_grad, raises_named


def _hard_sigmoid_ref(x):
    if x <= -3:
        return 0
    return (x + 3) / 6 if x < 3 else 1


def _hard_tanh_ref(x, min_val=-1.0, max_val=1.0):
    if x < min_val:
        return min_val
    return x if x <= max_val else max_val


def _hard_silu_ref(x):
    if x <= -3:
        return 0
    return x * (x + 3) / 6 if x < 3 else x


def _hard_mish_ref(x):
    if x <= -2:
        return 0
    return x * (x + 2) / 2 if x < 0 else x


def _sparse_sigmoid_ref(x):
    if x <= -1:
        return 0
    return (x + 1) / 2 if x < 1 else 1


def _hard_shrink_ref(x, lambd=0.5):
    return x if abs(x) > lambd else 0


def _soft_shrink_ref(x, lambd=0.5):
    if x > lambd:
        return x - lambd
    return x + lambd if x < -lambd else 0


def _threshold_ref(x, threshold=0.5, value=-1.0):
    return x if x > threshold else value


def _x_minus_tanh(a):
    # x - tanh x at enough extra digits to survive the cancellation (f ~ x^3/3).
    a = mp.mpf(a)
    if a == 0:
        return a
    extra = max(0, int(-2 * mp.log10(abs(a)))) + 20
    with mp.workdps(mp.mp.dps + extra):
        return +(a - mp.tanh(a))


_tanh_shrink = mpjet.unary(
    _x_minus_tanh,
    lambda a: mp.tanh(a) ** 2,
    lambda a: 2 * mp.tanh(a) * mp.sech(a) ** 2,
)

MP_REFS = {
    "hard_sigmoid": Ref(f=_hard_sigmoid_ref, kinks=(-3.0, 3.0)),
    "hard_tanh": Ref(f=_hard_tanh_ref, params={"min_val": -1.0, "max_val": 1.0}, kinks=(-1.0, 1.0)),
    "hard_silu": Ref(f=_hard_silu_ref, kinks=(-3.0, 3.0)),
    "hard_mish": Ref(f=_hard_mish_ref, kinks=(-2.0, 0.0)),
    "sparse_sigmoid": Ref(f=_sparse_sigmoid_ref, kinks=(-1.0, 1.0)),
    "hard_shrink": Ref(f=_hard_shrink_ref, params={"lambd": 0.5}, kinks=(-0.5, 0.5)),
    "soft_shrink": Ref(f=_soft_shrink_ref, params={"lambd": 0.5}, kinks=(-0.5, 0.5)),
    "tanh_shrink": Ref(f=_tanh_shrink),
    "threshold": Ref(f=_threshold_ref, params={"threshold": 0.5, "value": -1.0}, kinks=(0.5,)),
}
FNS = {name: getattr(H, name) for name in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kinks(dtype):
    with jax.enable_x64(dtype == "float64"):
        pinned = 0
        for spec in H.SPECS:
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
        assert pinned == 29
        x = lambda v: jnp.asarray(v, dtype)  # noqa: E731
        # The conventions hold with other parameters too.
        assert float(nth_grad(H.hard_tanh, 1, min_val=-2.0, max_val=0.5)(x(0.5))) == 1.0
        assert float(nth_grad(H.hard_tanh, 1, min_val=-2.0, max_val=0.5)(x(-2.0))) == 1.0
        assert float(nth_grad(H.soft_shrink, 1, lambd=1.5)(x(-1.5))) == 0.0
        assert float(nth_grad(H.hard_shrink, 1, lambd=1.5)(x(1.5))) == 0.0
        assert float(nth_grad(H.threshold, 1, threshold=0.5, value=-1.0)(x(0.5))) == 0.0
        # Values at the corners.
        assert float(H.hard_shrink(x(0.5))) == 0.0
        assert float(H.threshold(x(0.5), 0.5, -1.0)) == -1.0
        # Just inside the corners the inner pieces are used.
        eps = float(np.finfo(dtype).eps)
        assert float(nth_grad(H.hard_silu, 1)(x(3.0 - 4 * eps))) > 1.4
        assert float(nth_grad(H.hard_mish, 2)(x(-eps))) == 1.0
        assert float(nth_grad(H.sparse_sigmoid, 1)(x(1.0 - eps))) == 0.5


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


def test_limits():
    inf = jnp.float32(np.inf)
    assert float(H.hard_silu(-inf)) == 0.0
    assert float(H.hard_silu(inf)) == np.inf
    assert float(jax.grad(H.hard_silu)(-inf)) == 0.0
    assert float(jax.grad(H.hard_silu)(inf)) == 1.0
    assert float(H.hard_mish(-inf)) == 0.0
    assert float(H.hard_sigmoid(-inf)) == 0.0 and float(H.hard_sigmoid(inf)) == 1.0
    assert float(H.tanh_shrink(-inf)) == -np.inf
    assert float(jax.grad(H.tanh_shrink)(-inf)) == 1.0
    assert float(H.soft_shrink(inf)) == np.inf
    assert float(H.threshold(-inf, 0.0, 2.0)) == 2.0
    # tanh_shrink keeps its relative precision near 0 (x - tanh x would give 0).
    got = float(H.tanh_shrink(jnp.float32(1e-4)))
    want = float(_x_minus_tanh(float(np.float32(1e-4))))
    assert got == pytest.approx(want, rel=3e-7)
    with jax.enable_x64(True):
        got = float(H.tanh_shrink(jnp.float64(1e-7)))
        want = float(_x_minus_tanh(1e-7))
        assert got == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("x", [-3.5, -1.25, -0.25, 0.75, 2.0])
def test_param_derivatives(x):
    xm = mp.mpf(x)
    jet = mpjet.Jet
    checks = [
        (H.hard_tanh, "min_val", -1.0, {}, _hard_tanh_ref(xm, min_val=jet(-1.0, 1))),
        (H.hard_tanh, "max_val", 1.0, {}, _hard_tanh_ref(xm, max_val=jet(1.0, 1))),
        (H.soft_shrink, "lambd", 0.5, {}, _soft_shrink_ref(xm, lambd=jet(0.5, 1))),
        (H.hard_shrink, "lambd", 0.5, {}, _hard_shrink_ref(xm, lambd=jet(0.5, 1))),
        (
            H.threshold,
            "value",
            -1.0,
            {"threshold": 0.5},
            _threshold_ref(xm, threshold=0.5, value=jet(-1.0, 1)),
        ),
        (
            H.threshold,
            "threshold",
            0.5,
            {"value": -1.0},
            _threshold_ref(xm, threshold=jet(0.5, 1), value=-1.0),
        ),
    ]
    for fn, name, p, fixed, ref in checks:
        want = float(mpjet.lift(ref).d)
        got = param_grad(fn, name, x, p, **fixed)
        assert got == want, (fn.__name__, name, x, got, want)


def test_array_params():
    x = jnp.array([[-2.0, 0.25, 3.0], [-0.25, 0.75, -3.0]])
    lam = jnp.array([[0.5], [1.0]])
    np.testing.assert_array_equal(H.soft_shrink(x, lam), [[-1.5, 0.0, 2.5], [0.0, 0.0, -2.0]])
    g = jax.grad(lambda q: jnp.sum(H.soft_shrink(x, q)))(lam)
    np.testing.assert_array_equal(g, [[0.0], [1.0]])
    y = H.hard_tanh(x, jnp.array([-1.0, 0.0, 0.0]), 2.0)
    np.testing.assert_array_equal(y, [[-1.0, 0.25, 2.0], [-0.25, 0.75, 0.0]])


def test_aliases_and_dtypes():
    assert H.hard_swish is H.hard_silu
    for dtype in (jnp.bfloat16, jnp.float16, jnp.float32):
        x = jnp.array([-2.0, 0.5, 3.0], dtype)
        for name, fn in FNS.items():
            assert fn(x, **MP_REFS[name].params).dtype == dtype, name
    assert H.hard_sigmoid(jnp.arange(-4, 5)).dtype == jnp.float32


def test_bad_input():
    x = jnp.ones((2, 3))
    for name, fn in FNS.items():
        raises_named(
            TypeError, name, "'x'", lambda fn=fn, name=name: fn("1", **MP_REFS[name].params)
        )
    raises_named(ValueError, "soft_shrink", "lambd", lambda: H.soft_shrink(x, -0.5))
    raises_named(ValueError, "hard_shrink", "lambd", lambda: H.hard_shrink(x, -1.0))
    raises_named(ValueError, "hard_tanh", "max_val", lambda: H.hard_tanh(x, 1.0, -1.0))
    raises_named(ValueError, "hard_tanh", "min_val", lambda: H.hard_tanh(x, jnp.ones(4)))
    raises_named(TypeError, "threshold", "value", lambda: H.threshold(x, 0.0, None))
    raises_named(
        ValueError, "threshold", "threshold", lambda: H.threshold(x, jnp.ones((3, 3)), 0.0)
    )
    with pytest.raises(TypeError):
        H.threshold(x)  # both parameters are required
