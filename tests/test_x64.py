"""Under x64 (``jax.enable_x64``), every elementwise row on float32, bfloat16 and float16
inputs keeps the input's shape and dtype, and computes what it computes without x64.

A Python-float constant is float64 under x64: a kernel that lets one promote a
float32 intermediate computes in the wrong dtype, and bit-level code (bitcasts)
then changes shapes (elu and selu once returned an extra axis of two words).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import registry

# Rows that need arguments without defaults, or a key.
NEEDS_ARGS = {"prelu", "threshold", "rrelu"}
ROWS = [
    name
    for name, spec in registry.SPECS.items()
    if spec.kind == "elementwise" and name not in NEEDS_ARGS
]
X = np.array([-30.0, -1.5, -0.3, -1e-39, 0.0, 1e-39, 0.7, 2.0, 40.0], np.float32)
HALF = (jnp.bfloat16, jnp.float16)


def _orders(fn, x):
    """f, f' and f'' at every point of ``x``."""
    g = jax.grad(fn)
    return fn(x), jax.vmap(g)(x), jax.vmap(jax.grad(g))(x)


@pytest.mark.slow
@pytest.mark.parametrize("name", ROWS)
def test_x64_mode_keeps_float32_and_half_inputs(name):
    fn = jaxact.registry.SPECS[name].fn
    expected = [np.asarray(v) for v in _orders(fn, jnp.asarray(X))]
    expected_half = {dt: np.asarray(fn(jnp.asarray(X, dt))) for dt in HALF}
    with jax.enable_x64(True):
        got = _orders(fn, jnp.asarray(X))
        for order, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert a.shape == X.shape and a.dtype == jnp.float32, (name, order, a.shape, a.dtype)
            # The same numbers, up to the rounding of a constant taken in float64: 2 ulp
            # scaled to max(|f|, 1) (xielu's f' at -1.5 cancels 0.62 to 0.12: 4 ulp of it).
            tol = 2 * np.finfo(np.float32).eps * np.maximum(np.abs(b), 1.0)
            ok = (np.asarray(a) == b) | (np.abs(np.asarray(a) - b) <= tol)
            assert np.all(ok | (np.isnan(a) & np.isnan(b))), (name, order)
        for dt in HALF:
            y = fn(jnp.asarray(X, dt))
            assert y.shape == X.shape and y.dtype == dt, (name, dt, y.shape, y.dtype)
            a, b = np.asarray(y, np.float32), expected_half[dt].astype(np.float32)
            assert np.all((a == b) | (np.isnan(a) & np.isnan(b))), (name, dt)


def test_x64_mode_elu_and_selu_keep_their_shape():
    # The shape bug itself, in the fast lane: a (1, 2) float32 input, as reported.
    x = jnp.array([[-1.0, -2.0]], jnp.float32)
    expected = {f: np.asarray(f(x)) for f in (jaxact.elu, jaxact.selu, jaxact.celu)}
    with jax.enable_x64(True):
        for f, want in expected.items():
            for dt in (jnp.float32, *HALF):
                y = f(x.astype(dt))
                assert y.shape == (1, 2) and y.dtype == dt, (f.__name__, dt, y.shape)
            np.testing.assert_array_equal(np.asarray(f(x)), want)
