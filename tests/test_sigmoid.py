"""The sigmoid family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import sigmoid as S
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane

# Parameter values exactly representable in float32 (the defaults rounded), so the
# float32 computation and the mpmath truth see the same parameters.
_MU = float(np.float32(0.707107))
_SIGMA = float(np.float32(0.282095))
_SQRT2 = mp.sqrt(2)


_C = 2 / mp.sqrt(mp.pi)


def _clamp(a):
    # mpmath's erfc overflows for huge arguments; beyond 1e20 every part is 0 or 2.
    return max(min(a, mp.mpf("1e20")), mp.mpf("-1e20"))


_erfc = mpjet.unary(
    lambda a: mp.erfc(_clamp(a)),
    lambda a: -_C * mp.exp(-(_clamp(a) ** 2)),
    lambda a: 2 * _clamp(a) * _C * mp.exp(-(_clamp(a) ** 2)),
)


def _laplace_ref(x, mu=_MU, sigma=_SIGMA):
    return 0.5 * _erfc((mu - x) / (sigma * _SQRT2))


def _lisht_scale(x, order):
    if order == "d2" and abs(x) < 1000:
        return 2 * mp.sech(x) ** 2 * (1 + abs(x * mp.tanh(x)))
    return 0


def _soft_sign_ref(x):
    # x / (1 + |x|) loses f' to cancellation in the jet for large |x|; the
    # form sign(x) (1 - 1/(1 + |x|)) is exact there.
    if abs(x) < 1:
        return x / (1 + abs(x))
    s = 1 if x > 0 else -1
    return s * (1 - 1 / (1 + abs(x)))


MP_REFS = {
    "sigmoid": Ref(f=lambda x: mpjet.sigmoid(x)),
    "log_sigmoid": Ref(f=lambda x: -mpjet.softplus(-x)),
    "tanh": Ref(f=lambda x: mpjet.tanh(x)),
    "soft_sign": Ref(f=_soft_sign_ref, kinks=(0.0,)),
    "laplace": Ref(f=_laplace_ref, params={"mu": _MU, "sigma": _SIGMA}),
    "lisht": Ref(f=lambda x: x * mpjet.tanh(x), scale=_lisht_scale),
}
FNS = {name: getattr(S, name) for name in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason).
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize(
    "dtype",
    [
        lane("float32", fast=True, id="float32", group="soft_sign"),
        lane("float64", fast=False, id="float64", group="soft_sign"),
    ],
)
def test_soft_sign_second_derivative_sides(dtype):
    # The registry pins soft_sign''(0) = -2 (the right limit); -0.0 takes it too,
    # a negative subnormal the left limit.
    tiny = -float(np.finfo(dtype).smallest_subnormal)
    neg_zero, below = at("soft_sign", [-0.0, tiny], dtype)
    assert neg_zero[2] == -2.0
    assert below[2] == 2.0


LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "sigmoid": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "log_sigmoid": (-math.inf, 0.0, 1.0, 0.0, 0.0, 0.0),
    "tanh": (-1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "soft_sign": (-1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "laplace": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "lisht": (math.inf, math.inf, -1.0, 1.0, 0.0, 0.0),
}

PARAM_CASES = [
    ParamCase("laplace", _laplace_ref, {"mu": 0.5, "sigma": 0.75}, (-8.0, -2.5, -0.3, 0.7, 1.9)),
]

BAD_ARGS = [
    ("laplace", ValueError, "'sigma'", {"sigma": 0.0}),
    ("laplace", ValueError, "'sigma'", {"sigma": -1.0}),
    ("laplace", TypeError, "'mu'", {"mu": "a"}),
    ("laplace", ValueError, "'mu'", {"x": jnp.ones(3), "mu": jnp.ones(2)}),
]


def test_laplace_tail_float32():
    # The left tail keeps its digits where 1 + erf(...) gives 0.
    x = np.float32(-2.5)
    got = float(S.laplace(x))
    want = float(_laplace_ref(mp.mpf(float(x))))
    assert want > 1e-38 and got == pytest.approx(want, rel=1e-6)


def test_softsign_alias():
    assert S.softsign is S.soft_sign
