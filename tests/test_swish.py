"""Accuracy, kink, special-value, parameter and input tests for the swish family."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
from jaxact._src import swish as S
from tests import mpjet
from tests.accuracy import Ref, nth_grad

_K = 2 / mp.sqrt(mp.pi)
# Parameter defaults rounded to float32, so both computations see the same numbers.
_A = float(np.float32(0.01))
_MU1 = float(np.float32(4.332461424154261e-9))


def _clamp(a, m="1e20"):
    return max(min(a, mp.mpf(m)), -mp.mpf(m))


# mpmath's erf/exp of enormous arguments is slow or overflows; beyond 1e20 all is 0/1.
_erf = mpjet.unary(
    lambda a: mp.erf(_clamp(a)),
    lambda a: _K * mp.exp(-(_clamp(a) ** 2)),
    lambda a: -2 * _clamp(a) * _K * mp.exp(-(_clamp(a) ** 2)),
)


def _sig1(a):
    e = mp.exp(-abs(a))
    return e / (1 + e) ** 2


def _smu1_ref(x, alpha=_A, mu=_MU1):
    if isinstance(alpha, mpjet.Jet) or isinstance(mu, mpjet.Jet):
        r = mpjet.sqrt((1 - alpha) ** 2 * x**2 + mu**2)
        return ((1 + alpha) * x + r) / 2
    k = 1 - mp.mpf(alpha)
    mu = mp.mpf(mu)
    # sqrt(k^2 x^2 + mu^2) with its derivatives in closed form (the jet of the
    # generic sqrt cancels mu^2 against k^2 x^2 for large x).
    r = mpjet.unary(
        lambda a: mp.sqrt(k**2 * a**2 + mu**2),
        lambda a: k**2 * a / mp.sqrt(k**2 * a**2 + mu**2),
        lambda a: k**2 * mu**2 / mp.sqrt(k**2 * a**2 + mu**2) ** 3,
    )
    return ((1 + alpha) * x + r(x)) / 2


def _silu_scale(x, order):
    s = 1 / (1 + mp.exp(-x))
    if order == "d1":
        return s + abs(x) * _sig1(x)
    if order == "d2":
        return _sig1(x) * (2 + abs(x * mp.tanh(x / 2)))
    return 0


def _mish_scale(x, order):
    sp = mp.log1p(mp.exp(x))
    t, g, s = mp.tanh(sp), mp.sech(sp) ** 2, 1 / (1 + mp.exp(-x))
    if order == "d1":
        return t + abs(x) * s * g
    if order == "d2":
        return g * (2 * s + abs(x) * _sig1(x) + 2 * abs(x) * s * s * t)
    return 0


def _smish_scale(x, order):
    s = 1 / (1 + mp.exp(-x))
    m = s * (s + 2)
    a = 4 / (m + 2) ** 2
    if order == "d1":
        return m / (m + 2) + abs(x) * a * (1 + s) * _sig1(x)
    if order == "d2":
        t = abs(mp.tanh(x / 2))
        inner = _sig1(x) * (3 * s * s + 6 * s + 2) / (m + 2) + (1 + s) * t
        return a * _sig1(x) * (2 * (1 + s) + abs(x) * inner)
    return 0


def _serf_scale(x, order):
    if x < -1000:
        return 0
    sp = mp.log1p(mp.exp(x))
    s = 1 / (1 + mp.exp(-x))
    e = mp.exp(-(sp**2))
    if order == "d1":
        return mp.erf(sp) + abs(x) * _K * e * s
    if order == "d2":
        return _K * e * (2 * s + abs(x) * _sig1(x) + 2 * abs(x) * s * s * sp)
    return 0


def _telu_scale(x, order):
    if x > 100 or x < -1000:
        return 0
    e = mp.exp(x)
    g = mp.sech(e) ** 2
    if order == "d1":
        return mp.tanh(e) + abs(x) * e * g
    if order == "d2":
        return e * g * (2 + abs(x) + 2 * abs(x) * e * mp.tanh(e))
    return 0


def _lisht_scale(x, order):
    if order == "d2" and abs(x) < 1000:
        return 2 * mp.sech(x) ** 2 * (1 + abs(x * mp.tanh(x)))
    return 0


def _elish_scale(x, order):
    if x >= 0:
        return _silu_scale(x, order)
    e, em, s = mp.exp(x), mp.expm1(x), 1 / (1 + mp.exp(-x))
    if order == "d1":
        return e * s + abs(em) * _sig1(x)
    if order == "d2":
        return e * s + 2 * e * _sig1(x) + abs(em * _sig1(x) * mp.tanh(x / 2))
    return 0


def _smu_scale(x, order, alpha=_A, mu=2.5):
    c = mu * (1 - alpha)
    y = _clamp(c * x, "1e10")
    e = mp.exp(-(y**2))
    if order == "d1":
        return (1 + alpha + (1 - alpha) * (abs(mp.erf(y)) + _K * abs(y) * e)) / 2
    if order == "d2":
        return _K * (1 - alpha) * c * e * (1 + y * y)
    return 0


def _smu1_scale(x, order, alpha=_A, mu=_MU1):
    if order != "f":
        return 0
    r = mp.sqrt((1 - alpha) ** 2 * x**2 + mu**2)
    return abs(alpha * x) + (abs(1 + alpha) * abs(x) + r) / 2


def _te(a, k):
    # tanh(e^a) and its first two derivatives; beyond a = 50 they are 1, 0, 0 far
    # below any dtype's resolution (sech^2(e^50) ~ e^{-1e22}), and mpmath is slow there.
    if a > 50:
        return mp.mpf(k == 0)
    e = mp.exp(a)
    t, g = mp.tanh(e), mp.sech(e) ** 2
    return (t, e * g, e * g * (1 - 2 * e * t))[k]


_tanh_exp = mpjet.unary(lambda a: _te(a, 0), lambda a: _te(a, 1), lambda a: _te(a, 2))


def _elish_ref(x):
    if x >= 0:
        return x * mpjet.sigmoid(x)
    return mpjet.expm1(x) * mpjet.sigmoid(x)


MP_REFS = {
    "silu": Ref(f=lambda x: x * mpjet.sigmoid(x), scale=_silu_scale),
    "swish_beta": Ref(
        f=lambda x, beta: x * mpjet.sigmoid(beta * x), params={"beta": 1.0}, scale=_silu_scale
    ),
    "e_swish": Ref(
        f=lambda x, beta: beta * x * mpjet.sigmoid(x), params={"beta": 1.0}, scale=_silu_scale
    ),
    "mish": Ref(f=lambda x: x * mpjet.tanh(mpjet.softplus(x)), scale=_mish_scale),
    "smish": Ref(
        f=lambda x, alpha, beta: alpha * x * mpjet.tanh(mpjet.log1p(mpjet.sigmoid(beta * x))),
        params={"alpha": 1.0, "beta": 1.0},
        scale=_smish_scale,
    ),
    "serf": Ref(f=lambda x: x * _erf(mpjet.softplus(x)), scale=_serf_scale),
    "telu": Ref(f=lambda x: x * _tanh_exp(x), scale=_telu_scale),
    "lisht": Ref(f=lambda x: x * mpjet.tanh(x), scale=_lisht_scale),
    "elish": Ref(f=_elish_ref, kinks=(0.0,), scale=_elish_scale),
    "smu": Ref(
        f=lambda x, alpha, mu: ((1 + alpha) * x + (1 - alpha) * x * _erf(mu * (1 - alpha) * x)) / 2,
        params={"alpha": _A, "mu": 2.5},
        scale=_smu_scale,
    ),
    "smu1": Ref(f=_smu1_ref, params={"alpha": _A, "mu": _MU1}, scale=_smu1_scale),
}
FNS = {name: getattr(jaxact, name) for name in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason). Empty: every bound is met.
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason). Empty: none.
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kinks(dtype):
    with jax.enable_x64(dtype == "float64"):
        for spec in S.SPECS:
            for k in spec.kinks:
                got = nth_grad(spec.fn, k.order)(jnp.asarray(k.x, dtype))
                assert got.dtype == jnp.dtype(dtype)
                assert float(got) == k.value, (spec.name, k, got)
        # elish: f' is continuous (1/2); f'' is 1 on the left, 1/2 from 0 on.
        assert float(nth_grad(S.elish, 1)(jnp.asarray(0.0, dtype))) == 0.5
        tiny = float(np.finfo(dtype).smallest_subnormal)
        assert float(nth_grad(S.elish, 2)(jnp.asarray(-tiny, dtype))) == 1.0
        assert float(nth_grad(S.elish, 2)(jnp.asarray(-0.0, dtype))) == 0.5


def test_elish_kink_in_spec():
    spec = {s.name: s for s in S.SPECS}["elish"]
    assert [(k.x, k.order, k.value) for k in spec.kinks] == [(0.0, 2, 0.5)]


LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "silu": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "swish_beta": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "e_swish": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "mish": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "smish": (0.0, math.inf, 0.0, 0.6, 0.0, 0.0),
    "serf": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "telu": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "lisht": (math.inf, math.inf, -1.0, 1.0, 0.0, 0.0),
    "elish": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "smu": (-math.inf, math.inf, 0.01, 1.0, 0.0, 0.0),
    "smu1": (-math.inf, math.inf, 0.01, 1.0, 0.0, 0.0),
}


@pytest.mark.parametrize("name", list(LIMITS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values(name, dtype):
    fn = FNS[name]
    with jax.enable_x64(dtype == "float64"):
        want = LIMITS[name]
        for order in range(3):
            g = jax.jit(nth_grad(fn, order))
            for i, x in enumerate((-math.inf, math.inf)):
                got = float(g(jnp.asarray(x, dtype)))
                w = float(np.asarray(want[2 * order + i], dtype))
                assert got == w, (name, order, x, got)
            assert math.isnan(float(g(jnp.asarray(math.nan, dtype)))), (name, order)


def test_tails_float32():
    # x sigma(x) with a flushed sigma loses these; the results are normal float32.
    for name in ("silu", "mish", "telu", "serf"):
        for x in (-80.0, -90.0):
            got = float(FNS[name](np.float32(x)))
            want = float(MP_REFS[name].f(mp.mpf(x), **MP_REFS[name].params))
            assert abs(want) > 1.2e-38 and got == pytest.approx(want, rel=3e-7), (name, x)
    assert float(S.silu(np.float32(-80.0))) == pytest.approx(-1.44e-33, rel=1e-2)


def _param_cases():
    return [
        ("swish_beta", "beta", {"beta": 1.3}),
        ("e_swish", "beta", {"beta": 1.7}),
        ("smish", "alpha", {"alpha": 1.2, "beta": 0.8}),
        ("smish", "beta", {"alpha": 1.2, "beta": 0.8}),
        ("smu", "alpha", {"alpha": 0.2, "mu": 1.5}),
        ("smu", "mu", {"alpha": 0.2, "mu": 1.5}),
        ("smu1", "alpha", {"alpha": 0.2, "mu": 0.5}),
        ("smu1", "mu", {"alpha": 0.2, "mu": 0.5}),
    ]


@pytest.mark.parametrize("name,arg,params", _param_cases())
def test_param_derivatives(name, arg, params):
    fn = FNS[name]
    with jax.enable_x64(True):
        for x in (-30.0, -2.5, -0.3, 0.7, 1.9, 12.0):
            p = {k: jnp.float64(v) for k, v in params.items()}

            def of_p(v, p=p, x=x):
                return fn(jnp.float64(x), **{**p, arg: v})

            got = float(jax.grad(of_p)(p[arg]))
            mp_p = {k: mpjet.Jet(v, 1, 0) if k == arg else v for k, v in params.items()}
            want = float(mpjet.lift(MP_REFS[name].f(mp.mpf(x), **mp_p)).d)
            assert got == pytest.approx(want, rel=1e-13, abs=1e-60), (name, arg, x)


def test_second_derivative_vs_params():
    # Mixed partial d2f/dx dbeta of swish_beta through the x-derivative rule.
    with jax.enable_x64(True):
        g = jax.grad(jax.grad(S.swish_beta), argnums=1)(jnp.float64(0.9), jnp.float64(1.4))
        x, b = mp.mpf(0.9), mp.mpf(1.4)
        s1 = _sig1(b * x)
        # d/dbeta [sigma(bx) + bx sigma'(bx)] = 2 x sigma' + b x^2 sigma''.
        want = 2 * x * s1 - b * x * x * s1 * mp.tanh(b * x / 2)
        assert float(g) == pytest.approx(float(want), rel=1e-13)


@pytest.mark.parametrize("name,arg,params", _param_cases())
def test_mixed_partials(name, arg, params):
    # d/dparam of f' (through the first-derivative rule) against a central
    # difference of f' in the parameter (float64, h ~ 1e-5 relative).
    fn = FNS[name]
    with jax.enable_x64(True):
        for x in (-3.5, -0.4, 0.6, 2.2):
            p = {k: jnp.float64(v) for k, v in params.items()}

            def d1_of_p(v, p=p, x=x):
                return jax.grad(lambda t: fn(t, **{**p, arg: v}))(jnp.float64(x))

            got = float(jax.grad(d1_of_p)(p[arg]))
            h = 1e-5 * float(p[arg])
            want = (float(d1_of_p(p[arg] + h)) - float(d1_of_p(p[arg] - h))) / (2 * h)
            assert got == pytest.approx(want, rel=1e-7, abs=1e-9), (name, arg, x)


def test_dtypes_and_ints():
    for name, fn in FNS.items():
        for dt in (jnp.bfloat16, jnp.float16, jnp.float32):
            assert fn(jnp.ones(3, dt)).dtype == dt, name
        assert fn(jnp.arange(3)).dtype == jnp.float32, name
        with jax.enable_x64(True):
            assert fn(jnp.ones(3, jnp.float64)).dtype == jnp.float64, name


def test_aliases():
    assert S.swish is S.silu
    assert S.tanhexp is S.telu


def test_bad_input():
    for name, fn in FNS.items():
        with pytest.raises(TypeError, match=rf"{name}.*'x'"):
            fn([1.0, 2.0])
        with pytest.raises(TypeError, match=rf"{name}.*'x'"):
            fn(jnp.array([1, 2], jnp.complex64))
    with pytest.raises(ValueError, match=r"swish_beta.*'beta'"):
        S.swish_beta(1.0, beta=0.0)
    with pytest.raises(ValueError, match=r"smish.*'beta'"):
        S.smish(1.0, beta=-1.0)
    with pytest.raises(TypeError, match=r"smish.*'alpha'"):
        S.smish(1.0, alpha="a")
    with pytest.raises(ValueError, match=r"smu.*'mu'"):
        jaxact.smu(1.0, mu=0.0)
    with pytest.raises(ValueError, match=r"smu1.*'mu'"):
        jaxact.smu1(1.0, mu=-1.0)
    with pytest.raises(ValueError, match=r"smu1.*'alpha'"):
        jaxact.smu1(jnp.ones(3), alpha=jnp.ones(2))
    with pytest.raises(TypeError, match=r"e_swish.*'beta'"):
        S.e_swish(1.0, beta=[1.0])
