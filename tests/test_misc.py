"""identity, exponential, isru, isrlu, bent_identity: references, limits, parameter cases.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import misc as M
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane

# Filled only where a bound cannot be met after a real effort: {(name, dtype, order): (ulp, why)}.
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}


def _isru(x, alpha=1.0):
    if isinstance(alpha, mpjet.Jet):  # parameter derivative: no cancellation in d/dalpha
        return x / mpjet.sqrt(1 + alpha * x * x)
    # Closed-form f', f'' (the chain rule on x/sqrt(1 + x^2) cancels beyond 50 digits
    # for |x| > 1e12).
    return mpjet.unary(
        lambda a: a / mp.sqrt(1 + alpha * a * a),
        lambda a: (1 + alpha * a * a) ** mp.mpf(-1.5),
        lambda a: -3 * alpha * a * (1 + alpha * a * a) ** mp.mpf(-2.5),
    )(x)


def _isrlu(x, alpha=1.0):
    return x if mpjet.value(x) >= 0 else _isru(x, alpha)


_bent = mpjet.unary(
    lambda a: (mp.sqrt(a * a + 1) - 1) / 2 + a,
    lambda a: a / (2 * mp.sqrt(a * a + 1)) + 1,
    lambda a: 1 / (2 * (a * a + 1) ** mp.mpf(1.5)),
)


MP_REFS = {
    "identity": Ref(f=lambda x: x),
    "exponential": Ref(f=lambda x: mpjet.exp(x)),
    "isru": Ref(f=_isru, params={"alpha": 1.0}),
    "isrlu": Ref(f=_isrlu, params={"alpha": 1.0}, kinks=(0.0,)),
    "bent_identity": Ref(f=_bent),
}
FNS = {
    "identity": M.identity,
    "exponential": M.exponential,
    "isru": M.isru,
    "isrlu": M.isrlu,
    "bent_identity": M.bent_identity,
}


@pytest.mark.parametrize(
    "dtype",
    [
        lane(np.float32, fast=True, id="float32", group="isrlu"),
        lane(np.float64, fast=False, id="float64", group="isrlu"),
    ],
)
def test_isrlu_sides_of_zero(dtype):
    tiny = -float(np.finfo(dtype).tiny)
    neg_zero, zero, below = at("isrlu", [-0.0, 0.0, tiny], dtype)
    # -0.0 takes the registry's pinned values at +0 ...
    assert neg_zero[1:] == zero[1:]
    # ... just below 0 the negative piece is used, and agrees to first and second order
    assert below[1:] == (1.0, pytest.approx(3 * float(-tiny)))


INF = np.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "identity": (-INF, INF, 1.0, 1.0, 0.0, 0.0),
    "exponential": (0.0, INF, 0.0, INF, 0.0, INF),
    "isru": (-1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "isrlu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "bent_identity": (-INF, INF, 0.5, 1.5, 0.0, 0.0),
}

_ALPHA_XS = (-1e3, -2.5, -0.3, 0.7, 40.0)
PARAM_CASES = [
    ParamCase("isru", _isru, {"alpha": a}, _ALPHA_XS, rel=1e-14) for a in (0.5, 1.0, 3.0)
] + [ParamCase("isrlu", _isrlu, {"alpha": a}, _ALPHA_XS, rel=1e-14) for a in (0.5, 1.0, 3.0)]

BAD_ARGS = [
    (name, exc, "'alpha'", {"alpha": bad})
    for name in ("isru", "isrlu")
    for exc, bad in ((ValueError, 0.0), (ValueError, -1.0), (TypeError, "1"))
]


@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(n, d, fast=n == "identity" and d == np.float32, id=f"{n}-{d.__name__}", group=n)
        for n in sorted(FNS)
        for d in (np.float32, np.float64)
    ],
)
def test_largest_finite_inputs(name, dtype):
    big = float(np.finfo(dtype).max)
    below, above = at(name, [-big, big], dtype)
    assert all(np.isfinite(below))
    if name != "exponential":  # e^max and 1.5 max (bent_identity) overflow: the truth
        f, d1, d2 = above
        assert np.isfinite(d1) and np.isfinite(d2)
        assert np.isfinite(f) == (name != "bent_identity")


def test_bent_identity_near_zero():
    # (sqrt(x^2+1) - 1)/2 keeps only ~3 digits of x^2/4 at x = 1e-6 in float64.
    with jax.enable_x64(True):
        x = jnp.float64(1e-6)
        assert float(M.bent_identity(x) - x) == pytest.approx(2.5e-13 - 1.25e-25, rel=1e-8)
