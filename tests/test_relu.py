"""The ReLU family: mpmath references, limits, parameter cases and what is its own.

The shared test bodies (accuracy grid, limits, parameter derivatives, bad
arguments) are in tests/test_accuracy.py and tests/test_family_contract.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import relu as R
from tests.accuracy import ParamCase, Ref, at, lane

INF = math.inf
_EVAL_SLOPE = (mp.mpf(1) / 8 + mp.mpf(1) / 3) / 2


def _relu6_ref(x):
    if x <= 0:
        return 0
    return x if x < 6 else 6


def _leaky_ref(x, negative_slope=0.01):
    return x if x >= 0 else negative_slope * x


def _rrelu_ref(x, lower=0.125, upper=0.25):
    return x if x >= 0 else (lower + upper) / 2 * x


def _star_ref(x, scale=1.0, bias=0.0):
    return scale * (x * x if x > 0 else 0) + bias


MP_REFS = {
    "relu": Ref(f=lambda x: x if x > 0 else 0, kinks=(0.0,)),
    "relu6": Ref(f=_relu6_ref, kinks=(0.0, 6.0)),
    "leaky_relu": Ref(f=_leaky_ref, params={"negative_slope": 0.01}, kinks=(0.0,)),
    "prelu": Ref(f=_leaky_ref, params={"negative_slope": 0.25}, kinks=(0.0,)),
    "rrelu": Ref(f=lambda x: x if x >= 0 else _EVAL_SLOPE * x, kinks=(0.0,)),
    "relu2": Ref(f=lambda x: x * x if x > 0 else 0, kinks=(0.0,)),
    "star_relu": Ref(f=_star_ref, params={"scale": 1.0, "bias": 0.0}, kinks=(0.0,)),
}
FNS = {name: getattr(R, name) for name in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}


LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "relu": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "relu6": (0.0, 6.0, 0.0, 0.0, 0.0, 0.0),
    "leaky_relu": (-INF, INF, 0.01, 1.0, 0.0, 0.0),
    "prelu": (-INF, INF, 0.25, 1.0, 0.0, 0.0),
    "rrelu": (-INF, INF, (1 / 8 + 1 / 3) / 2, 1.0, 0.0, 0.0),
    "relu2": (0.0, INF, 0.0, INF, 0.0, 2.0),
    "star_relu": (0.0, INF, 0.0, INF, 0.0, 2.0),
}

_PARAM_XS = (-3.5, -0.25, 0.75, 2.0)
PARAM_CASES = [
    ParamCase("leaky_relu", _leaky_ref, {"negative_slope": 0.01}, _PARAM_XS, rel=1e-15),
    ParamCase("prelu", _leaky_ref, {"negative_slope": 0.25}, _PARAM_XS, rel=1e-15),
    ParamCase("star_relu", _star_ref, {"scale": 0.75, "bias": -0.5}, _PARAM_XS, rel=1e-15),
    ParamCase("rrelu", _rrelu_ref, {"lower": 0.125, "upper": 0.25}, _PARAM_XS, rel=1e-15),
]

BAD_ARGS = [
    ("leaky_relu", TypeError, "negative_slope", {"negative_slope": "0.1"}),
    ("prelu", ValueError, "negative_slope", {"negative_slope": jnp.ones(4)}),
    ("prelu", TypeError, "negative_slope", {"negative_slope": None}),
    ("star_relu", ValueError, "scale", {"scale": jnp.ones((5,))}),
    ("rrelu", ValueError, "key", {"training": True}),
    ("rrelu", TypeError, "key", {"key": 3, "training": True}),
    ("rrelu", ValueError, "lower", {"lower": 0.5, "upper": 0.25}),
    ("rrelu", TypeError, "training", {"training": "yes"}),
    ("crelu", ValueError, "axis", {"axis": 2}),
    ("crelu", TypeError, "axis", {"axis": 1.0}),
    ("crelu", ValueError, "'x'", {"x": 1.0}),
]


@pytest.mark.parametrize(
    "dtype",
    [
        lane("float32", fast=True, id="float32", group="relu"),
        lane("float64", fast=False, id="float64", group="relu"),
    ],
)
def test_masks_read_the_sign_bit(dtype):
    # Subnormals are not zero, -0.0 is (the registry's kinks pin the values at +0).
    sub = float(np.finfo(dtype).smallest_subnormal)
    pos, neg_zero = at("relu", [sub, -0.0], dtype)
    assert pos[1] == 1.0 and neg_zero[1] == 0.0
    neg, neg_zero = at("leaky_relu", [-sub, -0.0], dtype)
    assert neg[1] == float(np.asarray(0.01, dtype)) and neg_zero[1] == 1.0
    assert at("relu6", [sub], dtype)[0][1] == 1.0
    # prelu follows leaky_relu (right piece) with any slope.
    assert at("prelu", [0.0], dtype, negative_slope=0.5)[0][1] == 1.0


def test_nan_through_crelu():
    y = R.crelu(jnp.array([jnp.nan, 1.0]))
    np.testing.assert_array_equal(np.isnan(np.asarray(y)), [True, False, True, False])
    g = jax.grad(lambda v: jnp.sum(R.crelu(v)))(jnp.array([jnp.nan, 1.0]))
    assert jnp.isnan(g[0]) and float(g[1]) == 1.0


@pytest.mark.slow  # full suite; PReLU's per-channel path runs in the fast layer tests
def test_prelu_per_channel_gradient():
    x = jax.random.normal(jax.random.key(1), (2, 3, 4, 4))
    a = jnp.array([0.1, 0.25, 0.5]).reshape(3, 1, 1)
    y = R.prelu(x, a)
    xn = np.asarray(x)
    np.testing.assert_allclose(y, np.where(xn >= 0, xn, np.asarray(a) * xn), rtol=1e-7)
    ga = jax.grad(lambda s: jnp.sum(R.prelu(x, s)))(a)
    want = np.where(xn < 0, xn, 0.0).sum(axis=(0, 2, 3)).reshape(3, 1, 1)
    assert ga.shape == (3, 1, 1)
    np.testing.assert_allclose(ga, want, rtol=1e-5)
    gx = jax.grad(lambda v: jnp.sum(R.prelu(v, a)))(x)
    np.testing.assert_array_equal(gx, np.where(xn >= 0, 1.0, np.broadcast_to(a, xn.shape)))


def test_rrelu_training():
    x = -jnp.linspace(0.5, 4.0, 1000)
    key = jax.random.key(7)
    y = R.rrelu(x, key, training=True)
    slopes = np.asarray(y / x)
    assert slopes.min() >= 1 / 8 - 1e-7 and slopes.max() <= 1 / 3 + 1e-7
    assert slopes.std() > 0.05  # per element, not one slope
    np.testing.assert_array_equal(y, R.rrelu(x, key, training=True))
    assert not np.array_equal(y, R.rrelu(x, jax.random.key(8), training=True))
    # The gradient uses the slopes of the forward pass.
    g = jax.vmap(jax.grad(lambda v, k: R.rrelu(v, k, training=True)), (0, None))
    gx = jax.grad(lambda v: jnp.sum(R.rrelu(v, key, training=True)))(x)
    np.testing.assert_allclose(gx, slopes, rtol=1e-6)
    assert g(jnp.array([1.0, 0.0]), key).tolist() == [1.0, 1.0]
    # Raw uint32 keys work too; positives pass through.
    np.testing.assert_array_equal(R.rrelu(-x, jax.random.PRNGKey(0), training=True), -x)
    # Eval mode: the mean slope, no key needed.
    np.testing.assert_allclose(R.rrelu(x), x * (1 / 8 + 1 / 3) / 2, rtol=1e-6)


def test_crelu():
    x = jnp.array([[-1.0, 0.0, 2.0], [3.0, -4.0, 0.5]])
    y = R.crelu(x)
    np.testing.assert_array_equal(y, [[0, 0, 2, 1, 0, 0], [3, 0, 0.5, 0, 4, 0]])
    y0 = R.crelu(x, axis=0)
    assert y0.shape == (4, 3)
    np.testing.assert_array_equal(y0[2:], np.maximum(-np.asarray(x), 0))
    jac = jax.jacobian(R.crelu)(jnp.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(
        jac,
        [[0, 0, 0], [0, 0, 0], [0, 0, 1], [-1, 0, 0], [0, 0, 0], [0, 0, 0]],
    )
    assert R.crelu(jnp.ones((2, 3), jnp.bfloat16)).dtype == jnp.bfloat16


def test_relu2_overflows_to_inf():
    # relu2 overflows where x*x does, to +inf (not NaN).
    assert float(R.relu2(jnp.float16(300.0))) == np.inf
