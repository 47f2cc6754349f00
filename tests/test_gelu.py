"""The GELU family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import gelu as G
from tests import mpjet
from tests.accuracy import ParamCase, Ref, at, lane

# Filled only where a bound cannot be met after a real effort: {(name, dtype, order): (ulp, why)}.
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}

_C = mp.sqrt(2 / mp.pi)
_A = mp.mpf("0.044715")
_K = mp.mpf("1.702")


def _phi(x):
    return mp.exp(-(x**2) / 2) / mp.sqrt(2 * mp.pi)


def gelu_erf_rule(x, **_):
    if abs(mpjet.value(x)) > 1e100:
        # mpmath's erfc overflows its own series test there; the limits are exact:
        # f = x (x > 0) or 0 (x < 0) to far below the smallest subnormal.
        big = mpjet.value(x) > 0
        return mpjet.Jet(mpjet.value(x) if big else 0, 1 if big else 0, 0)
    return x * mpjet.erfc(-x / mp.sqrt(2)) / 2


def _gelu_erf_scale(x, order):
    if abs(x) > 1e100:
        return 0
    cdf = mp.erfc(-x / mp.sqrt(2)) / 2
    if order == "d1":
        return cdf + abs(x) * _phi(x)
    if order == "d2":
        return _phi(x) * (2 + x**2)
    return 0


def gelu_tanh_rule(x, **_):
    return x * mpjet.sigmoid(2 * _C * x * (1 + _A * x**2))


def _gate_scale(x, z, dz, ddz, order):
    s = 1 / (1 + mp.exp(-z))
    e = mp.exp(-abs(z))
    p = e / (1 + e) ** 2
    if order == "d1":
        return s + abs(x * dz) * p
    if order == "d2":
        return p * (abs(2 * dz) + abs(x * ddz) + abs(x * dz**2 * mp.tanh(z / 2)))
    return 0


def _gelu_tanh_scale(x, order):
    z = 2 * _C * x * (1 + _A * x**2)
    dz = 2 * _C * (1 + 3 * _A * x**2)
    return _gate_scale(x, z, dz, 12 * _C * _A * x, order)


def _quick_gelu(x, **_):
    return x * mpjet.sigmoid(_K * x)


def _quick_gelu_scale(x, order):
    return _gate_scale(x, _K * x, _K, mp.mpf(0), order)


def _gelu_clipped(x, min_val=-10.0, max_val=10.0):
    g = gelu_erf_rule(x)
    if mpjet.value(g) > mpjet.value(max_val):
        return mpjet.lift(max_val)
    if mpjet.value(g) < mpjet.value(min_val):
        return mpjet.lift(min_val)
    return g


MP_REFS = {
    "gelu_erf": Ref(f=gelu_erf_rule, scale=_gelu_erf_scale),
    "gelu_tanh": Ref(f=gelu_tanh_rule, scale=_gelu_tanh_scale),
    "quick_gelu": Ref(f=_quick_gelu, scale=_quick_gelu_scale),
    "gelu_clipped": Ref(
        f=_gelu_clipped, params={"min_val": -10.0, "max_val": 10.0}, scale=_gelu_erf_scale
    ),
}
FNS = {
    "gelu_erf": G.gelu_erf,
    "gelu_tanh": G.gelu_tanh,
    "quick_gelu": G.quick_gelu,
    "gelu_clipped": G.gelu_clipped,
}


INF = np.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "gelu_erf": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "gelu_tanh": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "quick_gelu": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "gelu_clipped": (0.0, 10.0, 0.0, 0.0, 0.0, 0.0),
}

PARAM_CASES = [
    ParamCase(
        "gelu_clipped",
        _gelu_clipped,
        {"min_val": -10.0, "max_val": 10.0},
        (-12.0, 3.0, 9.99, 10.5, 20.0),
        rel=0,
    ),
]

BAD_ARGS = [
    ("gelu_clipped", ValueError, "min_val", {"min_val": 5.0, "max_val": 1.0}),
    ("gelu_clipped", TypeError, "max_val", {"max_val": "10"}),
]


@pytest.mark.parametrize(
    "dtype",
    [
        lane(np.float32, fast=False, id="float32", group="gelu_clipped"),
        lane(np.float64, fast=False, id="float64", group="gelu_clipped"),
    ],
)
def test_gelu_clipped_around_the_clip(dtype):
    # The clip binds from x = 10 (gelu_erf(10) rounds to 10); like torch.clamp the
    # gradient passes on the closed interval (the registry pins f'(10) = 1), f' = 0 above.
    above = float(np.nextafter(dtype(10), dtype(11)))
    clipped_above, clipped_in = at("gelu_clipped", [above, 9.5], dtype)
    assert clipped_above == (10.0, 0.0, 0.0)
    assert clipped_in[1] == pytest.approx(at("gelu_erf", [9.5], dtype)[0][1])
    # A bound that binds below: min_val = 0.1 for negative inputs.
    with jax.enable_x64(True):
        g = jax.grad(G.gelu_clipped, argnums=(0, 1))(jnp.float64(-1.0), 0.1, 10.0)
        assert g == (0.0, 1.0)


@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(
            n,
            d,
            fast=n == "gelu_erf" and d == np.float32,
            id=f"{n}-{np.dtype(d).name}",
            group=n,
        )
        for n in sorted(MP_REFS)
        for d in (np.float32, np.float64)
    ],
)
def test_largest_finite_inputs(name, dtype):
    top = 10.0 if name == "gelu_clipped" else np.inf
    big = float(np.finfo(dtype).max)
    (f, d1, d2), below = at(name, [big, -big], dtype)
    assert f == min(big, top) and d1 == (0.0 if top == 10.0 else 1.0) and d2 == 0.0
    assert below[1:] == (0.0, 0.0)


def test_tails_against_textbook_failures():
    # jax.nn's gelu(approximate=True) is 100 % wrong at -5 in float32; the erf form flushes at -13.
    assert float(G.gelu_tanh(jnp.float32(-5.0))) == pytest.approx(
        float(gelu_tanh_rule(mp.mpf(-5))), rel=3e-7
    )
    assert float(G.gelu_erf(jnp.float32(-13.0))) == pytest.approx(
        float(gelu_erf_rule(mp.mpf(-13))), rel=3e-7
    )


def test_gelu_dispatch():
    x = jnp.linspace(-4, 4, 9)
    np.testing.assert_array_equal(G.gelu(x), G.gelu_tanh(x))
    np.testing.assert_array_equal(G.gelu(x, approximate=False), G.gelu_erf(x))
    np.testing.assert_allclose(G.gelu(x), jax.nn.gelu(x), rtol=2e-6, atol=1e-6)  # jax.nn cancels
    np.testing.assert_allclose(
        G.gelu(x, approximate=False), jax.nn.gelu(x, approximate=False), rtol=2e-6, atol=1e-7
    )
    with pytest.raises(TypeError, match="gelu.*approximate"):
        G.gelu(x, approximate="tanh")
    with pytest.raises(TypeError, match="gelu.*approximate"):
        G.gelu(x, approximate=1)
