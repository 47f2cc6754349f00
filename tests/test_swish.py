"""The swish family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import swish as S
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane

_K = 2 / mp.sqrt(mp.pi)


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


def _elish_scale(x, order):
    if x >= 0:
        return _silu_scale(x, order)
    e, em, s = mp.exp(x), mp.expm1(x), 1 / (1 + mp.exp(-x))
    if order == "d1":
        return e * s + abs(em) * _sig1(x)
    if order == "d2":
        return e * s + 2 * e * _sig1(x) + abs(em * _sig1(x) * mp.tanh(x / 2))
    return 0


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


def _gompertz_parts(a):
    # e^{-e^{-a}} and e^{-a - e^{-a}}; below a = -200 both are 0 far beyond any dtype
    # (e^{-e^{200}}), and mpmath cannot form e^{-e^{-a}} for huge -a.
    if a < -200:
        return mp.mpf(0), mp.mpf(0), mp.mpf(0)
    u = mp.exp(-a)
    return mp.exp(-u), mp.exp(-a - u), u


_gompertz = mpjet.unary(
    lambda a: _gompertz_parts(a)[0],
    lambda a: _gompertz_parts(a)[1],
    lambda a: _gompertz_parts(a)[1] * (_gompertz_parts(a)[2] - 1),
)


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
    "elish": Ref(f=_elish_ref, kinks=(0.0,), scale=_elish_scale),
    "golu": Ref(f=lambda x: x * _gompertz(x)),
}
FNS = {name: getattr(S, name) for name in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason). Empty: every bound is met.
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason). Empty: none.
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize(
    "dtype",
    [
        lane("float32", fast=True, id="float32", group="elish"),
        lane("float64", fast=False, id="float64", group="elish"),
    ],
)
def test_elish_sides_of_zero(dtype):
    # The registry pins elish''(0) = 1/2 (the right piece); f' is continuous (1/2);
    # a negative subnormal takes the left piece's f'' = 1, -0.0 the right one.
    tiny = float(np.finfo(dtype).smallest_subnormal)
    zero, below, neg_zero = at("elish", [0.0, -tiny, -0.0], dtype)
    assert zero[1] == 0.5
    assert below[2] == 1.0
    assert neg_zero[2] == 0.5


LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "silu": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "swish_beta": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "e_swish": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "mish": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "smish": (0.0, math.inf, 0.0, 0.6, 0.0, 0.0),
    "serf": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "telu": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "elish": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
    "golu": (0.0, math.inf, 0.0, 1.0, 0.0, 0.0),
}

_PARAM_XS = (-30.0, -2.5, -0.3, 0.7, 1.9, 12.0)
PARAM_CASES = [
    ParamCase(n, MP_REFS[n].f, params, _PARAM_XS, rel=1e-13, abs=1e-60, mixed=True)
    for n, params in [
        ("swish_beta", {"beta": 1.3}),
        ("e_swish", {"beta": 1.7}),
        ("smish", {"alpha": 1.2, "beta": 0.8}),
    ]
]

BAD_ARGS = [
    ("swish_beta", ValueError, "'beta'", {"beta": 0.0}),
    ("smish", ValueError, "'beta'", {"beta": -1.0}),
    ("smish", TypeError, "'alpha'", {"alpha": "a"}),
    ("e_swish", TypeError, "'beta'", {"beta": [1.0]}),
]


def test_tails_float32():
    # x sigma(x) with a flushed sigma loses these; the results are normal float32.
    for name in ("silu", "mish", "telu", "serf"):
        for x in (-80.0, -90.0):
            got = float(FNS[name](np.float32(x)))
            want = float(MP_REFS[name].f(mp.mpf(x), **MP_REFS[name].params))
            assert abs(want) > 1.2e-38 and got == pytest.approx(want, rel=3e-7), (name, x)
    assert float(S.silu(np.float32(-80.0))) == pytest.approx(-1.44e-33, rel=1e-2)


def test_second_derivative_vs_params():
    # Mixed partial d2f/dx dbeta of swish_beta through the x-derivative rule, in
    # closed form.
    with jax.enable_x64(True):
        g = jax.grad(jax.grad(S.swish_beta), argnums=1)(jnp.float64(0.9), jnp.float64(1.4))
        x, b = mp.mpf(0.9), mp.mpf(1.4)
        s1 = _sig1(b * x)
        # d/dbeta [sigma(bx) + bx sigma'(bx)] = 2 x sigma' + b x^2 sigma''.
        want = 2 * x * s1 - b * x * x * s1 * mp.tanh(b * x / 2)
        assert float(g) == pytest.approx(float(want), rel=1e-13)


def test_aliases():
    assert S.swish is S.silu
    assert S.tanhexp is S.telu


def test_mish_prime_near_minus_one_float64_accurate() -> None:
    # f' = tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x): its two terms cancel about 5x
    # near x = -1 (once 5 ulp in float64); now one double-word quotient.
    import jaxact

    def truth(v: float) -> float:
        x = mp.mpf(v)
        t = mp.tanh(mp.log1p(mp.exp(x)))
        return float(t + x * (1 - t * t) / (1 + mp.exp(-x)))

    with mp.workdps(40):
        xs = np.linspace(-1.6, -0.6, 201)
        ref = np.array([truth(float(v)) for v in xs])
    with jax.enable_x64(True), jaxact.precision("accurate"):
        got = np.asarray(jax.vmap(jax.grad(jaxact.mish))(jnp.asarray(xs)))
    ulps = np.abs(got - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 1.0, ulps.max()
