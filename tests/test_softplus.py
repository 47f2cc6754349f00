"""Accuracy, kink, special-value and input tests for the softplus family."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import softplus as S
from tests import mpjet
from tests.accuracy import Ref, nth_grad


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


MP_REFS = {
    "softplus": Ref(f=_softplus_ref),
    "softplus_beta": Ref(f=_softplus_ref, params={"beta": 2.5}),
    "sqrt_softplus": Ref(f=lambda x: mpjet.sqrt(mpjet.softplus(x)), scale=_sqrt_softplus_d2_scale),
    "squareplus": Ref(f=_squareplus_ref, params={"b": 4.0}),
    "squareplus_b": Ref(f=_squareplus_ref, params={"b": 0.5}),
    "sparse_plus": Ref(f=_smelu_ref, kinks=(-1.0, 1.0)),
    "smelu": Ref(f=_smelu_ref, params={"beta": 0.5}, kinks=(-0.5, 0.5)),
}
FNS = {
    "softplus": S.softplus,
    "softplus_beta": S.softplus,
    "sqrt_softplus": S.sqrt_softplus,
    "squareplus": S.squareplus,
    "squareplus_b": S.squareplus,
    "sparse_plus": S.sparse_plus,
    "smelu": S.smelu,
}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason).
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kinks(dtype):
    with jax.enable_x64(dtype == "float64"):
        for spec in S.SPECS:
            for k in spec.kinks:
                got = nth_grad(spec.fn, k.order)(jnp.asarray(k.x, dtype))
                assert float(got) == k.value, (spec.name, k, got)
        # f' is continuous at the corners: 0 and 1.
        for fn in (S.sparse_plus, S.smelu):
            assert float(nth_grad(fn, 1)(jnp.asarray(-1.0, dtype))) == 0.0
            assert float(nth_grad(fn, 1)(jnp.asarray(1.0, dtype))) == 1.0
        # smelu with another width: f''(+-beta) = 0, inside 1/(2 beta).
        assert float(nth_grad(S.smelu, 2, beta=0.5)(jnp.asarray(0.5, dtype))) == 0.0
        assert float(nth_grad(S.smelu, 2, beta=0.5)(jnp.asarray(-0.5, dtype))) == 0.0
        assert float(nth_grad(S.smelu, 2, beta=0.5)(jnp.asarray(0.25, dtype))) == 1.0
        # squareplus with b = 0 is relu, with relu's f'(0) = 0.
        assert float(nth_grad(S.squareplus, 1, b=0.0)(jnp.asarray(0.0, dtype))) == 0.0
        assert float(nth_grad(S.squareplus, 1, b=0.0)(jnp.asarray(2.0, dtype))) == 1.0
        assert float(nth_grad(S.squareplus, 1, b=0.0)(jnp.asarray(-2.0, dtype))) == 0.0
        assert float(S.squareplus(jnp.asarray(-2.0, dtype), b=0.0)) == 0.0
        assert float(S.squareplus(jnp.asarray(1e-30, dtype), b=0.0)) == np.asarray(1e-30, dtype)


INF = math.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "softplus": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "sqrt_softplus": (0.0, INF, 0.0, 0.0, 0.0, 0.0),
    "squareplus": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "sparse_plus": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
    "smelu": (0.0, INF, 0.0, 1.0, 0.0, 0.0),
}


@pytest.mark.parametrize("name", list(LIMITS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values(name, dtype):
    fn = FNS[name]
    with jax.enable_x64(dtype == "float64"):
        want = LIMITS[name]
        for order in range(3):
            g = jax.jit(nth_grad(fn, order))
            for i, x in enumerate((-INF, INF)):
                got = float(g(jnp.asarray(x, dtype)))
                assert got == want[2 * order + i], (name, order, x, got)
            assert math.isnan(float(g(jnp.asarray(math.nan, dtype)))), (name, order)


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


PARAM_CASES = [
    ("softplus", "beta", 1.7, _softplus_ref),
    ("squareplus", "b", 2.5, _squareplus_ref),
    ("smelu", "beta", 1.5, _smelu_ref),
]


@pytest.mark.parametrize(
    "name,pname,pval,ref",
    PARAM_CASES,
)
@pytest.mark.parametrize("x", [-30.0, -1.2, -0.3, 0.4, 1.1, 7.0])
def test_param_derivatives(name, pname, pval, ref, x):
    fn = getattr(S, name)
    with jax.enable_x64(True):
        got = jax.grad(lambda p: fn(jnp.float64(x), **{pname: p}))(jnp.float64(pval))
        want = ref(mp.mpf(x), **{pname: mpjet.Jet(pval, 1, 0)})
        want = mpjet.lift(want).d
        assert float(got) == pytest.approx(float(want), rel=1e-13, abs=1e-300)


def test_bad_input():
    for name in ("softplus", "sqrt_softplus", "squareplus", "sparse_plus", "smelu"):
        with pytest.raises(TypeError, match=rf"{name}.*'x'"):
            getattr(S, name)("a")
    with pytest.raises(ValueError, match=r"softplus.*'beta'"):
        S.softplus(1.0, beta=0.0)
    with pytest.raises(ValueError, match=r"squareplus.*'b'"):
        S.squareplus(1.0, b=-1.0)
    with pytest.raises(TypeError, match=r"squareplus.*'b'"):
        S.squareplus(1.0, b=[1.0])
    with pytest.raises(ValueError, match=r"smelu.*'beta'"):
        S.smelu(1.0, beta=0.0)
    with pytest.raises(ValueError, match=r"smelu.*'beta'"):
        S.smelu(jnp.ones(3), beta=jnp.ones(2))


def test_dtypes_and_ints():
    for name in LIMITS:
        fn = FNS[name]
        for dt in (jnp.bfloat16, jnp.float16, jnp.float32):
            assert fn(jnp.ones(3, dt)).dtype == dt, name
        assert fn(jnp.arange(3)).dtype == jnp.float32, name
