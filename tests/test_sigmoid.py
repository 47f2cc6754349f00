"""Accuracy, kink, special-value and input tests for the sigmoid family."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import sigmoid as S
from tests import mpjet
from tests.accuracy import Ref, nth_grad

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
}
FNS = {name: getattr(S, name) for name in MP_REFS}

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
                assert got.dtype == jnp.dtype(dtype)
                assert float(got) == k.value, (spec.name, k, got)
        # soft_sign'' at -0.0 is also the right-limit value; at a negative subnormal
        # it is the left limit.
        assert float(nth_grad(S.soft_sign, 2)(jnp.asarray(-0.0, dtype))) == -2.0
        tiny = -float(np.finfo(dtype).smallest_subnormal)
        assert float(nth_grad(S.soft_sign, 2)(jnp.asarray(tiny, dtype))) == 2.0


def test_soft_sign_kink_in_spec():
    spec = {s.name: s for s in S.SPECS}["soft_sign"]
    assert [(k.x, k.order, k.value) for k in spec.kinks] == [(0.0, 2, -2.0)]


LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "sigmoid": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "log_sigmoid": (-math.inf, 0.0, 1.0, 0.0, 0.0, 0.0),
    "tanh": (-1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "soft_sign": (-1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "laplace": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
}


@pytest.mark.parametrize("name", list(LIMITS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values(name, dtype):
    fn = FNS[name]
    with jax.enable_x64(dtype == "float64"):
        want = LIMITS[name]
        for order in range(3):
            g = jax.jit(nth_grad(fn, order))
            for i, x in enumerate((-math.inf, math.inf)):
                got = float(g(jnp.asarray(x, dtype)))
                assert got == want[2 * order + i], (name, order, x, got)
            assert math.isnan(float(g(jnp.asarray(math.nan, dtype)))), (name, order)


def test_dtypes_and_ints():
    for name, fn in FNS.items():
        for dt in (jnp.bfloat16, jnp.float16, jnp.float32):
            assert fn(jnp.ones(3, dt)).dtype == dt, name
        assert fn(jnp.arange(3)).dtype == jnp.float32, name
        with jax.enable_x64(True):
            assert fn(jnp.ones(3, jnp.float64)).dtype == jnp.float64, name


@pytest.mark.parametrize("x", [-8.0, -2.5, -0.3, 0.7, 1.9])
def test_laplace_param_derivatives(x):
    with jax.enable_x64(True):
        mu, sigma = 0.5, 0.75
        g = jax.grad(S.laplace, argnums=(1, 2))(jnp.float64(x), jnp.float64(mu), jnp.float64(sigma))
        xm = mp.mpf(x)
        want_mu = _laplace_ref(xm, mu=mpjet.Jet(mu, 1, 0), sigma=sigma).d
        want_sigma = _laplace_ref(xm, mu=mu, sigma=mpjet.Jet(sigma, 1, 0)).d
        assert float(g[0]) == pytest.approx(float(want_mu), rel=1e-13)
        assert float(g[1]) == pytest.approx(float(want_sigma), rel=1e-13)


def test_laplace_tail_float32():
    # The left tail keeps its digits where 1 + erf(...) gives 0.
    x = np.float32(-2.5)
    got = float(S.laplace(x))
    want = float(_laplace_ref(mp.mpf(float(x))))
    assert want > 1e-38 and got == pytest.approx(want, rel=1e-6)


def test_bad_input():
    with pytest.raises(TypeError, match=r"soft_sign.*'x'"):
        S.soft_sign([1.0, 2.0])
    with pytest.raises(TypeError, match=r"softsign|soft_sign"):
        S.softsign("a")
    with pytest.raises(TypeError, match=r"laplace.*'x'"):
        S.laplace(jnp.array([1, 2], jnp.complex64))
    with pytest.raises(ValueError, match=r"laplace.*'sigma'"):
        S.laplace(1.0, sigma=0.0)
    with pytest.raises(ValueError, match=r"laplace.*'sigma'"):
        S.laplace(1.0, sigma=-1.0)
    with pytest.raises(TypeError, match=r"laplace.*'mu'"):
        S.laplace(1.0, mu="a")
    with pytest.raises(ValueError, match=r"laplace.*'mu'"):
        S.laplace(jnp.ones(3), mu=jnp.ones(2))
    for name in ("sigmoid", "log_sigmoid", "tanh"):
        with pytest.raises(TypeError, match=rf"{name}.*'x'"):
            FNS[name](True)


def test_softsign_alias():
    assert S.softsign is S.soft_sign
