"""The softplus family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import softplus as S
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane


def _softplus_ref(x, beta=1.0):
    return mpjet.softplus(beta * x) / beta


def _squareplus_formula(x, b):
    s = mpjet.sqrt(x * x + b)
    if x < 0:
        return b / (2 * (s - x))
    return (x + s) / 2


def _squareplus_ref(x, b=4.0):
    if isinstance(b, mpjet.Jet):  # derivative in b (x is a number)
        return _squareplus_formula(x, b)
    b = mp.mpf(b)

    # Closed-form derivatives: the jet of sqrt(x^2 + b) cancels in f'' for |x| >> 1e25.
    def s(a):
        return mp.sqrt(a * a + b)

    def f1(a):
        return b / (2 * s(a) * (s(a) - a)) if a < 0 else (1 + a / s(a)) / 2

    unary = mpjet.unary(lambda a: _squareplus_formula(a, b), f1, lambda a: b / (2 * s(a) ** 3))
    return unary(x)


def _smelu_ref(x, beta=1.0):
    if x <= -beta:
        return 0 * x
    if x >= beta:
        return x
    return (x + beta) ** 2 / (4 * beta)


def _sqrt_softplus_d2_scale(x, order):
    # f'' has a root near x = 1.6: sigma'/(2f) and f'^2/f cancel there.
    if order != "d2":
        return mp.mpf(0)
    f = mp.sqrt(mp.log1p(mp.exp(x)))
    sig = 1 / (1 + mp.exp(-x))
    return sig * (1 - sig) / (2 * f) + (sig / (2 * f)) ** 2 / f


_K = 2 / mp.sqrt(mp.pi)
# Parameter defaults rounded to float32, so both computations see the same numbers.
_A = float(np.float32(0.01))
_MU1 = float(np.float32(4.332461424154261e-9))


def _clamp(a, m="1e20"):
    return max(min(a, mp.mpf(m)), -mp.mpf(m))


# mpmath's erf of enormous arguments is slow or overflows; beyond 1e20 it is +-1.
_erf = mpjet.unary(
    lambda a: mp.erf(_clamp(a)),
    lambda a: _K * mp.exp(-(_clamp(a) ** 2)),
    lambda a: -2 * _clamp(a) * _K * mp.exp(-(_clamp(a) ** 2)),
)


def _smu_ref(x, alpha=_A, mu=2.5):
    return ((1 + alpha) * x + (1 - alpha) * x * _erf(mu * (1 - alpha) * x)) / 2


def _smu_scale(x, order, alpha=_A, mu=2.5):
    c = mu * (1 - alpha)
    y = _clamp(c * x, "1e10")
    e = mp.exp(-(y**2))
    if order == "d1":
        return (1 + alpha + (1 - alpha) * (abs(mp.erf(y)) + _K * abs(y) * e)) / 2
    if order == "d2":
        return _K * (1 - alpha) * c * e * (1 + y * y)
    return 0


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


def _smu1_scale(x, order, alpha=_A, mu=_MU1):
    if order != "f":
        return 0
    r = mp.sqrt((1 - alpha) ** 2 * x**2 + mu**2)
    return abs(alpha * x) + (abs(1 + alpha) * abs(x) + r) / 2


MP_REFS = {
    "softplus": Ref(f=_softplus_ref),
    "softplus_beta": Ref(f=_softplus_ref, params={"beta": 2.5}),
    "sqrt_softplus": Ref(f=lambda x: mpjet.sqrt(mpjet.softplus(x)), scale=_sqrt_softplus_d2_scale),
    "squareplus": Ref(f=_squareplus_ref, params={"b": 4.0}),
    "squareplus_b": Ref(f=_squareplus_ref, params={"b": 0.5}),
    "sparse_plus": Ref(f=_smelu_ref, kinks=(-1.0, 1.0)),
    "smelu": Ref(f=_smelu_ref, params={"beta": 0.5}, kinks=(-0.5, 0.5)),
    "smu": Ref(f=_smu_ref, params={"alpha": _A, "mu": 2.5}, scale=_smu_scale),
    "smu1": Ref(f=_smu1_ref, params={"alpha": _A, "mu": _MU1}, scale=_smu1_scale),
}
FNS = {
    "softplus": S.softplus,
    "softplus_beta": S.softplus,
    "sqrt_softplus": S.sqrt_softplus,
    "squareplus": S.squareplus,
    "squareplus_b": S.squareplus,
    "sparse_plus": S.sparse_plus,
    "smelu": S.smelu,
    "smu": S.smu,
    "smu1": S.smu1,
}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason).
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize(
    "dtype",
    [
        lane("float32", fast=True, id="float32", group="smelu"),
        lane("float64", fast=False, id="float64", group="smelu"),
    ],
)
def test_corners(dtype):
    # f' is continuous at the corners: 0 and 1.
    for name in ("sparse_plus", "smelu"):
        left, right = at(name, [-1.0, 1.0], dtype)
        assert left[1] == 0.0 and right[1] == 1.0, name
    # smelu with another width: f''(+-beta) = 0, inside 1/(2 beta).
    right, left, inside = at("smelu", [0.5, -0.5, 0.25], dtype, beta=0.5)
    assert right[2] == 0.0 and left[2] == 0.0 and inside[2] == 1.0
    # squareplus with b = 0 is relu, with relu's f'(0) = 0.
    zero, pos, neg, small = at("squareplus", [0.0, 2.0, -2.0, 1e-30], dtype, b=0.0)
    assert zero[1] == 0.0 and pos[1] == 1.0 and neg[1] == 0.0
    assert neg[0] == 0.0
    assert small[0] == np.asarray(1e-30, dtype)


INF = math.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "softplus": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "sqrt_softplus": (0.0, INF, 0.0, 0.0, 0.0, 0.0),
    "squareplus": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "sparse_plus": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "smelu": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "smu": (-INF, INF, 0.01, 1.0, 0.0, 0.0),
    "smu1": (-INF, INF, 0.01, 1.0, 0.0, 0.0),
}


def test_smelu_is_sparse_plus():
    x = jnp.linspace(-3, 3, 97)
    np.testing.assert_array_equal(S.smelu(x, 1.0), S.sparse_plus(x))
    np.testing.assert_array_equal(
        jax.vmap(jax.grad(S.smelu))(x), jax.vmap(jax.grad(S.sparse_plus))(x)
    )


def test_softplus_threshold():
    # torch.nn.Softplus(beta, threshold=20): identity where beta * x > threshold.
    x = jnp.array([-5.0, 0.0, 9.0, 10.5, 30.0])
    y = S.softplus(x, beta=2.0, threshold=20.0)
    ref = [float(mp.log1p(mp.exp(2 * mp.mpf(float(v))))) / 2 for v in x]
    ref = [float(v) if 2 * float(v) > 20 else r for v, r in zip(x, ref, strict=True)]
    np.testing.assert_allclose(np.asarray(y), ref, rtol=2e-7)
    g = jax.vmap(jax.grad(lambda v: S.softplus(v, beta=2.0, threshold=20.0)))(x)
    want = [1.0 if 2 * float(v) > 20 else float(1 / (1 + mp.exp(-2 * mp.mpf(float(v))))) for v in x]
    np.testing.assert_allclose(np.asarray(g), want, rtol=2e-7)
    assert float(g[-1]) == 1.0 and float(g[-2]) == 1.0


_PARAM_XS = (-30.0, -1.2, -0.3, 0.4, 1.1, 7.0)
PARAM_CASES = [
    ParamCase("softplus", _softplus_ref, {"beta": 1.7}, _PARAM_XS),
    ParamCase("squareplus", _squareplus_ref, {"b": 2.5}, _PARAM_XS),
    ParamCase("smelu", _smelu_ref, {"beta": 1.5}, _PARAM_XS),
    ParamCase(
        "smu", _smu_ref, {"alpha": 0.2, "mu": 1.5}, (-3.5, -0.4, 0.6, 2.2), abs=1e-60, mixed=True
    ),
    ParamCase(
        "smu1", _smu1_ref, {"alpha": 0.2, "mu": 0.5}, (-3.5, -0.4, 0.6, 2.2), abs=1e-60, mixed=True
    ),
]

BAD_ARGS = [
    ("softplus", ValueError, "'beta'", {"beta": 0.0}),
    ("squareplus", ValueError, "'b'", {"b": -1.0}),
    ("squareplus", TypeError, "'b'", {"b": [1.0]}),
    ("smelu", ValueError, "'beta'", {"beta": 0.0}),
    ("smelu", ValueError, "'beta'", {"x": jnp.ones(3), "beta": jnp.ones(2)}),
    ("smu", ValueError, "'mu'", {"mu": 0.0}),
    ("smu1", ValueError, "'mu'", {"mu": -1.0}),
    ("smu1", ValueError, "'alpha'", {"x": jnp.ones(3), "alpha": jnp.ones(2)}),
]
