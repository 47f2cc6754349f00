"""The periodic family (sine, snake, snake_beta, gcu): references, parameter cases, own tests.

The shared test bodies are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np

from jaxact._src import periodic
from tests import mpjet
from tests.accuracy import ParamCase, Ref

# (name, dtype, order) -> (measured max ulp, reason). Filled from measurements only.
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}


def _snake_scale(x, order):
    # f' = 1 + sin(2x) has double roots; its terms are O(1). f'' = 2 cos(2x).
    return mp.mpf(1) if order != "f" else abs(x) + 1


def _gcu_scale(x, order):
    return abs(x) + 1


MP_REFS = {
    "sine": Ref(
        f=lambda x, w0: mpjet.sin(w0 * x),
        params={"w0": 30.0},
        scale=lambda x, order: mp.mpf(30) ** ("f", "d1", "d2").index(order),
        periodic=True,
    ),
    "snake": Ref(
        f=lambda x, alpha: x + mpjet.sin(alpha * x) ** 2 / alpha,
        params={"alpha": 1.0},
        scale=_snake_scale,
        periodic=True,
    ),
    "snake_beta": Ref(
        f=lambda x, alpha, beta: x + mpjet.sin(alpha * x) ** 2 / beta,
        params={"alpha": 1.0, "beta": 1.0},
        scale=_snake_scale,
        periodic=True,
    ),
    "gcu": Ref(
        f=lambda x: x * mpjet.cos(x),
        scale=_gcu_scale,
        periodic=True,
    ),
}
FNS = {name: getattr(periodic, name) for name in MP_REFS}


NAN = np.nan
# No limits at +-inf: NaN for f, f' and f''.
LIMITS = {name: (NAN,) * 6 for name in MP_REFS}

_PARAM_XS = (-3.7, -0.2, 1e-3, 0.5, 2.25, 40.0)
PARAM_CASES = [
    ParamCase(name, MP_REFS[name].f, params, _PARAM_XS, rel=1e-13, abs=1e-13)
    for name, params in [
        ("sine", {"w0": 30.0}),
        ("sine", {"w0": 1.5}),
        ("snake", {"alpha": 1.0}),
        ("snake", {"alpha": 0.3}),
        ("snake", {"alpha": 1e-6}),
        ("snake_beta", {"alpha": 0.7, "beta": 1.9}),
    ]
]

BAD_ARGS = [
    ("snake_beta", ValueError, "'beta'", {"beta": 0.0}),
    ("snake", ValueError, "'alpha'", {"x": jnp.ones(3), "alpha": jnp.ones(4)}),
    ("sine", TypeError, "'w0'", {"w0": "30"}),
]


def test_snake_alpha_zero_limit():
    with jax.enable_x64(True):
        x = jnp.array([-2.0, 0.5, 3.0])
        np.testing.assert_allclose(periodic.snake(x, 0.0), x, rtol=0, atol=0)
        da = jax.grad(lambda a: periodic.snake(x, a).sum())(0.0)
        np.testing.assert_allclose(da, float(jnp.sum(x * x)), rtol=1e-15)
        # Second derivative in alpha at 0: d2/da2 of sin^2(ax)/a -> 0 (odd terms vanish).
        dda = jax.grad(jax.grad(lambda a: periodic.snake(jnp.float64(2.0), a)))(0.0)
        assert abs(float(dda)) < 1e-12
        # At alpha = 1e-3: -(2/3) * 2 x^4 * a ... check against mpmath.
        a, xv = 1e-3, 2.0
        dda = float(jax.grad(jax.grad(lambda a: periodic.snake(jnp.float64(xv), a)))(a))
        ja = mpjet.Jet(a, 1, 0)
        want = mpjet.lift(xv + mpjet.sin(ja * xv) ** 2 / ja).dd
        assert abs(dda - want) <= 1e-10 * abs(want)


def test_per_channel_alpha():
    x = jnp.linspace(-2.0, 2.0, 12, dtype=jnp.float32).reshape(3, 4)
    alpha = jnp.array([0.5, 1.0, 2.0, 4.0], jnp.float32)
    got = periodic.snake(x, alpha)
    want = x + jnp.sin(alpha * x) ** 2 / alpha
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)
    g = jax.grad(lambda a: periodic.snake(x, a).sum())(alpha)
    assert g.shape == (4,)
    gb = jax.grad(lambda b: periodic.snake_beta(x, alpha, b).sum())(jnp.ones(4, jnp.float32))
    assert gb.shape == (4,)
