"""The hard/shrink family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import hard as H
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane


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


INF = math.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "hard_sigmoid": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "hard_tanh": (-1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "hard_silu": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "hard_mish": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "sparse_sigmoid": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "hard_shrink": (-INF, INF, 1.0, 1.0, 0.0, 0.0),
    "soft_shrink": (-INF, INF, 1.0, 1.0, 0.0, 0.0),
    "tanh_shrink": (-INF, INF, 1.0, 1.0, 0.0, 0.0),
    "threshold": (0.0, INF, 0.0, 1.0, 0.0, 0.0),  # registry defaults: threshold 0, value 0
}

_PARAM_XS = (-3.5, -1.25, -0.25, 0.75, 2.0)
PARAM_CASES = [
    ParamCase("hard_tanh", _hard_tanh_ref, {"min_val": -1.0, "max_val": 1.0}, _PARAM_XS, rel=0),
    ParamCase("soft_shrink", _soft_shrink_ref, {"lambd": 0.5}, _PARAM_XS, rel=0),
    ParamCase("hard_shrink", _hard_shrink_ref, {"lambd": 0.5}, _PARAM_XS, rel=0),
    ParamCase("threshold", _threshold_ref, {"threshold": 0.5, "value": -1.0}, _PARAM_XS, rel=0),
]

BAD_ARGS = [
    ("soft_shrink", ValueError, "lambd", {"lambd": -0.5}),
    ("hard_shrink", ValueError, "lambd", {"lambd": -1.0}),
    ("hard_tanh", ValueError, "max_val", {"min_val": 1.0, "max_val": -1.0}),
    ("hard_tanh", ValueError, "min_val", {"min_val": jnp.ones(4)}),
    ("threshold", TypeError, "value", {"threshold": 0.0, "value": None}),
    ("threshold", ValueError, "threshold", {"threshold": jnp.ones((3, 3)), "value": 0.0}),
]


@pytest.mark.parametrize(
    "dtype",
    [
        lane("float32", fast=True, id="float32", group="hard_tanh"),
        lane("float64", fast=False, id="float64", group="hard_tanh"),
    ],
)
def test_corners(dtype):
    # The registry's conventions (pinned for the defaults) hold with other parameters.
    top, bottom = at("hard_tanh", [0.5, -2.0], dtype, min_val=-2.0, max_val=0.5)
    assert top[1] == 1.0 and bottom[1] == 1.0
    assert at("soft_shrink", [-1.5], dtype, lambd=1.5)[0][1] == 0.0
    assert at("hard_shrink", [1.5], dtype, lambd=1.5)[0][1] == 0.0
    ((f, d1, _),) = at("threshold", [0.5], dtype, threshold=0.5, value=-1.0)
    assert d1 == 0.0
    # Values at the corners.
    assert at("hard_shrink", [0.5], dtype)[0][0] == 0.0
    assert f == -1.0
    # Just inside the corners the inner pieces are used.
    eps = float(np.finfo(dtype).eps)
    assert at("hard_silu", [3.0 - 4 * eps], dtype)[0][1] > 1.4
    assert at("hard_mish", [-eps], dtype)[0][2] == 1.0
    assert at("sparse_sigmoid", [1.0 - eps], dtype)[0][1] == 0.5


def test_threshold_value_at_minus_inf_and_tanh_shrink_near_zero():
    assert float(H.threshold(jnp.float32(-np.inf), 0.0, 2.0)) == 2.0
    # tanh_shrink keeps its relative precision near 0 (x - tanh x would give 0).
    got = float(H.tanh_shrink(jnp.float32(1e-4)))
    want = float(_x_minus_tanh(float(np.float32(1e-4))))
    assert got == pytest.approx(want, rel=3e-7)
    with jax.enable_x64(True):
        got = float(H.tanh_shrink(jnp.float64(1e-7)))
        want = float(_x_minus_tanh(1e-7))
        assert got == pytest.approx(want, rel=1e-15)


def test_array_params():
    x = jnp.array([[-2.0, 0.25, 3.0], [-0.25, 0.75, -3.0]])
    lam = jnp.array([[0.5], [1.0]])
    np.testing.assert_array_equal(H.soft_shrink(x, lam), [[-1.5, 0.0, 2.5], [0.0, 0.0, -2.0]])
    g = jax.grad(lambda q: jnp.sum(H.soft_shrink(x, q)))(lam)
    np.testing.assert_array_equal(g, [[0.0], [1.0]])
    y = H.hard_tanh(x, jnp.array([-1.0, 0.0, 0.0]), 2.0)
    np.testing.assert_array_equal(y, [[-1.0, 0.25, 2.0], [-0.25, 0.75, 0.0]])


def test_aliases():
    assert H.hard_swish is H.hard_silu


def test_threshold_needs_its_parameters():
    with pytest.raises(TypeError):
        H.threshold(jnp.ones((2, 3)))  # both parameters are required
