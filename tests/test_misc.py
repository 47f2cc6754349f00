"""Tests for identity, exponential, isru, isrlu and bent_identity against mpmath."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import misc as M
from tests import mpjet
from tests.accuracy import PIECEWISE_LINEAR, Ref, derivs

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


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_kinks(dtype):
    with jax.enable_x64(dtype == np.float64):
        for spec in M.SPECS:
            for k in spec.kinks:
                for x in (k.x, -k.x):  # +0 and -0
                    got = derivs(spec.fn, x, dtype)[k.order]
                    assert got == k.value, (spec.name, k, got)
        # just below 0 the negative piece is used, and agrees to first and second order
        tiny = -float(np.finfo(dtype).tiny)
        assert derivs(M.isrlu, tiny, dtype)[1:] == (1.0, pytest.approx(3 * float(-tiny)))


LIMITS = {
    # name: (f(+inf), f'(+inf), f''(+inf), f(-inf), f'(-inf), f''(-inf))
    "identity": (np.inf, 1.0, 0.0, -np.inf, 1.0, 0.0),
    "exponential": (np.inf, np.inf, np.inf, 0.0, 0.0, 0.0),
    "isru": (1.0, 0.0, 0.0, -1.0, 0.0, 0.0),
    "isrlu": (np.inf, 1.0, 0.0, -1.0, 0.0, 0.0),
    "bent_identity": (np.inf, 1.5, 0.0, -np.inf, 0.5, 0.0),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FNS))
def test_special_values(name, dtype):
    fn = FNS[name]
    with jax.enable_x64(dtype == np.float64):
        assert derivs(fn, np.inf, dtype) == LIMITS[name][:3]
        assert derivs(fn, -np.inf, dtype) == LIMITS[name][3:]
        at_nan = derivs(fn, np.nan, dtype)
        if name in PIECEWISE_LINEAR:  # f'' from a one-byte code: 0 everywhere, NaN included
            assert np.isnan(at_nan[:2]).all() and at_nan[2] == 0.0
        else:
            assert all(np.isnan(at_nan))
        big = float(np.finfo(dtype).max)
        assert all(np.isfinite(derivs(fn, -big, dtype)))
        if name != "exponential":  # e^max and 1.5 max (bent_identity) overflow: the truth
            f, d1, d2 = derivs(fn, big, dtype)
            assert np.isfinite(d1) and np.isfinite(d2)
            assert np.isfinite(f) == (name != "bent_identity")


def test_bent_identity_near_zero():
    # (sqrt(x^2+1) - 1)/2 keeps only ~3 digits of x^2/4 at x = 1e-6 in float64.
    with jax.enable_x64(True):
        x = jnp.float64(1e-6)
        assert float(M.bent_identity(x) - x) == pytest.approx(2.5e-13 - 1.25e-25, rel=1e-8)


@pytest.mark.parametrize("name", ["isru", "isrlu"])
@pytest.mark.parametrize("x", [-1e3, -2.5, -0.3, 0.7, 40.0])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_alpha_derivative(name, x, alpha):
    ref = MP_REFS[name].f
    want = ref(mp.mpf(x), alpha=mpjet.Jet(alpha, 1, 0)).d if name == "isru" or x < 0 else 0
    with jax.enable_x64(True):
        got = jax.grad(FNS[name], argnums=1)(jnp.float64(x), jnp.float64(alpha))
    assert float(got) == pytest.approx(float(want), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name", sorted(FNS))
def test_bad_input(name):
    with pytest.raises(TypeError, match=f"{name}.*'x'"):
        FNS[name]([1.0, 2.0])
    with pytest.raises(TypeError, match=f"{name}.*'x'"):
        FNS[name](True)


@pytest.mark.parametrize("name", ["isru", "isrlu"])
def test_bad_alpha(name):
    with pytest.raises(ValueError, match=f"{name}.*'alpha'"):
        FNS[name](1.0, alpha=0.0)
    with pytest.raises(ValueError, match=f"{name}.*'alpha'"):
        FNS[name](1.0, alpha=-1.0)
    with pytest.raises(TypeError, match=f"{name}.*'alpha'"):
        FNS[name](1.0, alpha="1")


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float32, jnp.int32])
def test_dtypes(dtype):
    x = jnp.arange(-3, 4).astype(dtype)
    promoted = jnp.float32 if dtype == jnp.int32 else dtype
    for name, fn in FNS.items():
        # identity keeps integers, as jax.nn.identity does.
        want = dtype if name == "identity" else promoted
        assert fn(x).dtype == want, name
