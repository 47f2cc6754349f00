"""Accuracy, kink, special-value and input tests for the exponential family."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import elu as E
from tests import mpjet
from tests.accuracy import Ref, nth_grad

LAM = mp.mpf("1.0507009873554804934193349852946")
ALP = mp.mpf("1.6732632423543772848170429916717")


def _elu_ref(x, alpha=1.0):
    return x if x > 0 else alpha * mpjet.expm1(x)


def _selu_ref(x):
    return LAM * x if x > 0 else LAM * ALP * mpjet.expm1(x)


def _celu_ref(x, alpha=1.0):
    return x if x >= 0 else alpha * mpjet.expm1(x / alpha)


def _pelu_ref(x, a=1.0, b=1.0):
    return (a / b) * x if x >= 0 else a * mpjet.expm1(x / b)


def _f32(v):
    return float(np.float32(v))


XI = {"alpha_p": _f32(0.8), "alpha_n": _f32(0.8), "beta": 0.5, "eps": _f32(-1e-6)}


def _xielu_ref(x, alpha_p=XI["alpha_p"], alpha_n=XI["alpha_n"], beta=0.5, eps=XI["eps"]):
    if x > 0:
        return alpha_p * x * x + beta * x
    if x < eps:
        return alpha_n * (mpjet.expm1(x) - x) + beta * x
    return alpha_n * (mpjet.expm1(eps) - x) + beta * x


def _xielu_scale(x, order):
    # f and f' have roots on x < 0 (x ~ -2.6 and x ~ -0.98): measure at the O(1) terms.
    if x > 0:
        return mp.mpf(0)
    m = min(x, mp.mpf(XI["eps"]))
    if order == "f":
        return abs(XI["alpha_n"] * (mp.expm1(m) - x)) + abs(0.5 * x)
    if order == "d1":
        return abs(XI["alpha_n"] * mp.expm1(m)) + 0.5
    return mp.mpf(0)


MP_REFS = {
    "elu": Ref(f=_elu_ref, params={"alpha": 1.0}, kinks=(0.0,)),
    "elu_alpha": Ref(f=_elu_ref, params={"alpha": 2.5}, kinks=(0.0,)),
    "selu": Ref(f=_selu_ref, kinks=(0.0,)),
    "celu": Ref(f=_celu_ref, params={"alpha": 1.0}, kinks=(0.0,)),
    "celu_alpha": Ref(f=_celu_ref, params={"alpha": 0.5}, kinks=(0.0,)),
    "pelu": Ref(f=_pelu_ref, params={"a": 1.0, "b": 1.0}, kinks=(0.0,)),
    "pelu_ab": Ref(f=_pelu_ref, params={"a": 1.5, "b": 0.5}, kinks=(0.0,)),
    "xielu": Ref(f=_xielu_ref, params=XI, kinks=(XI["eps"], 0.0), scale=_xielu_scale),
}
FNS = {n: getattr(E, n.split("_")[0]) for n in MP_REFS}

# (name, dtype, order) -> (measured max ulp, reason).
ULP_EXCEPTIONS: dict[tuple[str, str, str], tuple[float, str]] = {}
# (name, dtype, order) -> (measured count of bad points, reason).
BAD_EXCEPTIONS: dict[tuple[str, str, str], tuple[int, str]] = {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kinks(dtype):
    with jax.enable_x64(dtype == "float64"):
        for spec in E.SPECS:
            for k in spec.kinks:
                got = nth_grad(spec.fn, k.order)(jnp.asarray(k.x, dtype))
                assert float(got) == float(np.asarray(k.value, dtype)), (spec.name, k, got)
        x0 = jnp.asarray(0.0, dtype)
        # elu with alpha = 2: f'(0) = f''(0) = alpha (jax.nn's values).
        assert float(nth_grad(E.elu, 1, alpha=2.0)(x0)) == 2.0
        assert float(nth_grad(E.elu, 2, alpha=2.0)(x0)) == 2.0
        # celu'' and pelu'' at 0 are the linear piece's 0 for other parameters too.
        assert float(nth_grad(E.celu, 2, alpha=0.5)(x0)) == 0.0
        assert float(nth_grad(E.pelu, 2, a=1.5, b=0.5)(x0)) == 0.0
        assert float(nth_grad(E.pelu, 1, a=1.5, b=0.5)(x0)) == 3.0
        # xielu: x = 0 is in the middle piece.
        want = float(np.asarray(0.8, dtype) * np.expm1(np.asarray(-1e-6, dtype)))
        assert float(E.xielu(x0)) == pytest.approx(want, rel=4 * float(np.finfo(dtype).eps))


def test_kink_values_in_specs():
    got = {s.name: [(k.x, k.order, k.value) for k in s.kinks] for s in E.SPECS}
    la = E.SELU_LAMBDA * E.SELU_ALPHA  # as computed in float64
    assert got["elu"] == [(0.0, 1, 1.0), (0.0, 2, 1.0)]
    assert got["selu"] == [(0.0, 1, la), (0.0, 2, la)]
    assert got["celu"] == [(0.0, 1, 1.0), (0.0, 2, 0.0)]
    assert got["pelu"] == [(0.0, 1, 1.0), (0.0, 2, 0.0)]
    assert got["xielu"] == [
        (0.0, 1, 0.5 - 0.8),
        (0.0, 2, 0.0),
        (-1e-6, 1, 0.5 - 0.8),
        (-1e-6, 2, 0.0),
    ]


INF = math.inf
LIMITS = {
    # name: (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf), f''(+inf))
    "elu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "selu": (-float(LAM * ALP), INF, 0.0, float(LAM), 0.0, 0.0),
    "celu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "pelu": (-1.0, INF, 0.0, 1.0, 0.0, 0.0),
    "xielu": (INF, INF, 0.5 - 0.8, INF, 0.0, 1.6),
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
                w = want[2 * order + i]
                w = float(np.asarray(w, dtype)) if name != "xielu" or order != 1 or i else w
                assert got == pytest.approx(w, rel=2 * float(np.finfo(dtype).eps)), (
                    name,
                    order,
                    x,
                    got,
                )
            assert math.isnan(float(g(jnp.asarray(math.nan, dtype)))), (name, order)


def test_negative_tail_derivative_float32():
    # elu'(-20) is alpha e^-20 = 2.06e-9, not expm1(-20) + 1 = 0.
    got = float(jax.grad(E.elu)(np.float32(-20.0)))
    assert got == pytest.approx(math.exp(-20), rel=3e-7)


PARAM_CASES = [
    ("elu", {"alpha": 1.7}, _elu_ref),
    ("celu", {"alpha": 0.7}, _celu_ref),
    ("pelu", {"a": 1.3, "b": 0.6}, _pelu_ref),
    ("xielu", {"alpha_p": 0.7, "alpha_n": 0.9, "beta": 0.4, "eps": -1e-6}, _xielu_ref),
]


@pytest.mark.parametrize("name,params,ref", PARAM_CASES)
@pytest.mark.parametrize("x", [-30.0, -2.5, -0.3, -5e-7, 0.4, 3.0])
def test_param_derivatives(name, params, ref, x):
    fn = getattr(E, name)
    with jax.enable_x64(True):
        p64 = {k: jnp.float64(v) for k, v in params.items()}
        grads = jax.grad(lambda p: fn(jnp.float64(x), **p))(p64)
        for pname, pval in params.items():
            mp_params = dict(params)
            mp_params[pname] = mpjet.Jet(pval, 1, 0)
            want = mpjet.lift(ref(mp.mpf(x), **mp_params)).d
            got = float(grads[pname])
            assert got == pytest.approx(float(want), rel=1e-12, abs=1e-300), (pname, got, want)


def test_bad_input():
    for name in ("elu", "selu", "celu", "pelu", "xielu"):
        with pytest.raises(TypeError, match=rf"{name}.*'x'"):
            getattr(E, name)([1.0])
    with pytest.raises(TypeError, match=r"elu.*'alpha'"):
        E.elu(1.0, alpha="a")
    with pytest.raises(ValueError, match=r"celu.*'alpha'"):
        E.celu(1.0, alpha=0.0)
    with pytest.raises(ValueError, match=r"pelu.*'a'"):
        E.pelu(1.0, a=-1.0)
    with pytest.raises(ValueError, match=r"pelu.*'b'"):
        E.pelu(1.0, b=0.0)
    with pytest.raises(ValueError, match=r"xielu.*'alpha_p'"):
        E.xielu(1.0, alpha_p=0.0)
    with pytest.raises(ValueError, match=r"xielu.*'alpha_n'"):
        E.xielu(1.0, alpha_n=-0.1)
    with pytest.raises(ValueError, match=r"xielu.*'eps'"):
        E.xielu(1.0, eps=1e-3)
    with pytest.raises(ValueError, match=r"xielu.*'beta'"):
        E.xielu(jnp.ones(3), beta=jnp.ones(2))


def test_dtypes_and_ints():
    for name in LIMITS:
        fn = FNS[name]
        for dt in (jnp.bfloat16, jnp.float16, jnp.float32):
            assert fn(jnp.ones(3, dt)).dtype == dt, name
        assert fn(jnp.arange(3)).dtype == jnp.float32, name
