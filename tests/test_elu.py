"""The ELU family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import elu as E
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane

LAM = mp.mpf("1.0507009873554804934193349852946")
ALP = mp.mpf("1.6732632423543772848170429916717")


def _elu_ref(x, alpha=1.0):
    return x if x > 0 else alpha * mpjet.expm1(x)


def _selu_ref(x):
    return LAM * x if x > 0 else LAM * ALP * mpjet.expm1(x)


def _celu_ref(x, alpha=1.0):
    return x if x >= 0 else alpha * mpjet.expm1(x / alpha)


def _pelu_ref(x, a=1.0, b=1.0):
    return (a / b) * x if x >= 0 else a * mpjet.expm1(x / b)


def _f32(v):
    return float(np.float32(v))


XI = {"alpha_p": _f32(0.8), "alpha_n": _f32(0.8), "beta": 0.5, "eps": _f32(-1e-6)}


def _xielu_ref(x, alpha_p=XI["alpha_p"], alpha_n=XI["alpha_n"], beta=0.5, eps=XI["eps"]):
    if x > 0:
        return alpha_p * x * x + beta * x
    if x < eps:
        return alpha_n * (mpjet.expm1(x) - x) + beta * x
    return alpha_n * (mpjet.expm1(eps) - x) + beta * x


def _xielu_scale(x, order):
    # f and f' have roots on x < 0 (x ~ -2.6 and x ~ -0.98): measure at the O(1) terms.
    if x > 0:
        return mp.mpf(0)
    m = min(x, mp.mpf(XI["eps"]))
    if order == "f":
        return abs(XI["alpha_n"] * (mp.expm1(m) - x)) + abs(0.5 * x)
    if order == "d1":
        return abs(XI["alpha_n"] * mp.expm1(m)) + 0.5
    return mp.mpf(0)


MP_REFS = {
    "elu": Ref(f=_elu_ref, params={"alpha": 1.0}, kinks=(0.0,)),
    "elu_alpha": Ref(f=_elu_ref, params={"alpha": 2.5}, kinks=(0.0,)),
    "selu": Ref(f=_selu_ref, kinks=(0.0,)),
    "celu": Ref(f=_celu_ref, params={"alpha": 1.0}, kinks=(0.0,)),
    "celu_alpha": Ref(f=_celu_ref, params={"alpha": 0.5}, kinks=(0.0,)),
    "pelu": Ref(f=_pelu_ref, params={"a": 1.0, "b": 1.0}, kinks=(0.0,)),
    "pelu_ab": Ref(f=_pelu_ref, params={"a": 1.5, "b": 0.5}, kinks=(0.0,)),
    "xielu": Ref(f=_xielu_ref, params=XI, kinks=(XI["eps"], 0.0), scale=_xielu_scale),
}
FNS = {n: getattr(E, n.split("_")[0]) for n in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason).
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize(
    "dtype",
    [
        lane("float32", fast=True, id="float32", group="elu"),
        lane("float64", fast=False, id="float64", group="elu"),
    ],
)
def test_kinks_with_other_parameters(dtype):
    # The registry pins the values at 0 for the default parameters; these follow.
    # elu with alpha = 2: f'(0) = f''(0) = alpha (jax.nn's values).
    ((_, d1, d2),) = at("elu", [0.0], dtype, alpha=2.0)
    assert d1 == 2.0 and d2 == 2.0
    # celu'' and pelu'' at 0 are the linear piece's 0 for other parameters too.
    assert at("celu", [0.0], dtype, alpha=0.5)[0][2] == 0.0
    ((_, d1, d2),) = at("pelu", [0.0], dtype, a=1.5, b=0.5)
    assert d2 == 0.0 and d1 == 3.0
    # xielu: x = 0 is in the middle piece.
    want = float(np.asarray(0.8, dtype) * np.expm1(np.asarray(-1e-6, dtype)))
    got = at("xielu", [0.0], dtype)[0][0]
    assert got == pytest.approx(want, rel=4 * float(np.finfo(dtype).eps))


INF = math.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "elu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "selu": (-float(LAM * ALP), INF, 0.0, float(LAM), 0.0, 0.0),
    "celu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "pelu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "xielu": (INF, INF, 0.5 - 0.8, INF, 0.0, 1.6),
}


def test_negative_tail_derivative_float32():
    # elu'(-20) is alpha e^-20 = 2.06e-9, not expm1(-20) + 1 = 0.
    got = float(jax.grad(E.elu)(np.float32(-20.0)))
    assert got == pytest.approx(math.exp(-20), rel=3e-7)


_PARAM_XS = (-30.0, -2.5, -0.3, -5e-7, 0.4, 3.0)
PARAM_CASES = [
    ParamCase("elu", _elu_ref, {"alpha": 1.7}, _PARAM_XS, rel=1e-12),
    ParamCase("celu", _celu_ref, {"alpha": 0.7}, _PARAM_XS, rel=1e-12),
    ParamCase("pelu", _pelu_ref, {"a": 1.3, "b": 0.6}, _PARAM_XS, rel=1e-12),
    ParamCase(
        "xielu",
        _xielu_ref,
        {"alpha_p": 0.7, "alpha_n": 0.9, "beta": 0.4, "eps": -1e-6},
        _PARAM_XS,
        rel=1e-12,
    ),
]

BAD_ARGS = [
    ("elu", TypeError, "'alpha'", {"alpha": "a"}),
    ("celu", ValueError, "'alpha'", {"alpha": 0.0}),
    ("pelu", ValueError, "'a'", {"a": -1.0}),
    ("pelu", ValueError, "'b'", {"b": 0.0}),
    ("xielu", ValueError, "'alpha_p'", {"alpha_p": 0.0}),
    ("xielu", ValueError, "'alpha_n'", {"alpha_n": -0.1}),
    ("xielu", ValueError, "'eps'", {"eps": 1e-3}),
    ("xielu", ValueError, "'beta'", {"x": jnp.ones(3), "beta": jnp.ones(2)}),
]
